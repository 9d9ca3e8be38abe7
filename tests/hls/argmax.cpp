// argmax.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "argmax.h"
#include "argmax_weights.h"

static void argmax_classify(const ap_fixed<12, 6> logits[4][10], ap_int<8> result[4]);

// argmax.kiln:4: kernel classify(logits: fixed<12, 6>[4, 10]) -> int<8>[4]:
static void argmax_classify(const ap_fixed<12, 6> logits[4][10], ap_int<8> result[4]) {
    ap_fixed<9, 3> l0_argmax_best;
    ap_fixed<9, 3> l1_argmax_cur;
    ap_uint<4> l2_argmax;
    (void)logits; (void)result; (void)l0_argmax_best; (void)l1_argmax_cur; (void)l2_argmax;

    // result_store: argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
    // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
    L_result_store_n: for (int i0_n = 0; i0_n < 4; i0_n += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        l0_argmax_best = kiln::to_fixed<ap_fixed<9, 3> >(kiln::to_fixed<ap_fixed<9, 3> >(kiln::val(logits[(i0_n)][0])));
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        l2_argmax = kiln::to_int<ap_uint<4> >(kiln::from_raw<ap_ufixed<1, 1> >(ap_uint<1>(0ULL)));
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        L_result_store_c: for (int i2_c = 0; i2_c < 10; i2_c += 1) {
            // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
            l1_argmax_cur = kiln::to_fixed<ap_fixed<9, 3> >(kiln::to_fixed<ap_fixed<9, 3> >(kiln::val(logits[(i0_n)][(i2_c)])));
            if (kiln::lt(kiln::val(l0_argmax_best), kiln::val(l1_argmax_cur))) {
                // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
                l0_argmax_best = kiln::to_fixed<ap_fixed<9, 3> >(kiln::val(l1_argmax_cur));
                // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
                l2_argmax = kiln::to_int<ap_uint<4> >(kiln::to_fixed<ap_ufixed<4, 4> >(kiln::from_int(i2_c)));
            }
        }
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        result[(i0_n)] = kiln::to_int<ap_int<8> >(kiln::val(l2_argmax));
    }
}

// argmax.kiln:7: kernel main() -> (int<8>[4], int<8>, int<8>, int<8>):
void argmax(ap_int<8> result0[4], ap_int<8> &result1, ap_int<8> &result2, ap_int<8> &result3) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result0 offset=slave bundle=gmem0 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=result1)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=result2)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=result3)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_fixed<4, 3> t_x[4][10];
    static float t_f[6];
    static ap_int<8> t_m[2][3];
    static ap_fixed<12, 6> t_logits[4][10];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_x type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_m type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_logits type=complete dim=2)
    float l0_argmax_best;
    float l1_argmax_cur;
    ap_uint<3> l2_argmax;
    ap_int<3> l3_argmin_best;
    ap_int<3> l4_argmin_cur;
    ap_uint<3> l5_argmin;
    ap_int<3> l6_argmax_best;
    ap_int<3> l7_argmax_cur;
    ap_uint<2> l8_argmax;
    (void)result0; (void)result1; (void)result2; (void)result3; (void)t_x; (void)t_f;
    (void)t_m; (void)t_logits; (void)l0_argmax_best; (void)l1_argmax_cur; (void)l2_argmax; (void)l3_argmin_best;
    (void)l4_argmin_cur; (void)l5_argmin; (void)l6_argmax_best; (void)l7_argmax_cur; (void)l8_argmax;

    // x_assign: argmax.kiln:8: x = [((7 * n + 3 * c) % 11) * 0.5 - 2 for n, c in grid(4, 10)]
    // argmax.kiln:8: x = [((7 * n + 3 * c) % 11) * 0.5 - 2 for n, c in grid(4, 10)]
    L_x_assign_n: for (int i0_n = 0; i0_n < 4; i0_n += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:8: x = [((7 * n + 3 * c) % 11) * 0.5 - 2 for n, c in grid(4, 10)]
        L_x_assign_c: for (int i1_c = 0; i1_c < 10; i1_c += 1) {
            // argmax.kiln:8: x = [((7 * n + 3 * c) % 11) * 0.5 - 2 for n, c in grid(4, 10)]
            t_x[(i0_n)][(i1_c)] = kiln::to_fixed<ap_fixed<4, 3> >(kiln::to_fixed<ap_fixed<4, 3> >(kiln::s(kiln::to_fixed<ap_ufixed<4, 3> >(kiln::s(kiln::mod<ap_ufixed<4, 4> >(kiln::to_fixed<ap_ufixed<6, 6> >(kiln::s(kiln::to_fixed<ap_ufixed<5, 5> >(kiln::s(kiln::from_raw<ap_ufixed<3, 3> >(ap_uint<3>(7ULL))) * kiln::s(kiln::to_fixed<ap_ufixed<2, 2> >(kiln::from_int(i0_n))))) + kiln::s(kiln::to_fixed<ap_ufixed<5, 5> >(kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(3ULL))) * kiln::s(kiln::to_fixed<ap_ufixed<4, 4> >(kiln::from_int(i1_c)))))), kiln::from_raw<ap_ufixed<4, 4> >(ap_uint<4>(11ULL)))) * kiln::s(kiln::from_raw<ap_ufixed<1, 0> >(ap_uint<1>(1ULL))))) - kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(2ULL)))));
        }
    }

    // f: argmax.kiln:9: f: f32[6] = [f32((3 * i) % 4) - 0.5 for i in range(6)]
    // argmax.kiln:9: f: f32[6] = [f32((3 * i) % 4) - 0.5 for i in range(6)]
    L_f_i: for (int i2_i = 0; i2_i < 6; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:9: f: f32[6] = [f32((3 * i) % 4) - 0.5 for i in range(6)]
        t_f[(i2_i)] = (kiln::to_f32(kiln::mod<ap_ufixed<2, 2> >(kiln::to_fixed<ap_ufixed<4, 4> >(kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(3ULL))) * kiln::s(kiln::to_fixed<ap_ufixed<3, 3> >(kiln::from_int(i2_i)))), kiln::from_raw<ap_ufixed<3, 3> >(ap_uint<3>(4ULL)))) - kiln::f32_from_bits(0x3f000000u));
    }

    // m: argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
    // argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
    L_m_i: for (int i3_i = 0; i3_i < 2; i3_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
        L_m_j: for (int i4_j = 0; i4_j < 3; i4_j += 1) {
            // argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
            t_m[(i3_i)][(i4_j)] = kiln::to_int<ap_int<8> >(kiln::to_fixed<ap_fixed<3, 3> >(kiln::s(kiln::mod<ap_ufixed<3, 3> >(kiln::to_fixed<ap_ufixed<4, 4> >(kiln::s(kiln::to_fixed<ap_ufixed<2, 2> >(kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(2ULL))) * kiln::s(kiln::to_fixed<ap_ufixed<1, 1> >(kiln::from_int(i3_i))))) + kiln::s(kiln::to_fixed<ap_ufixed<4, 4> >(kiln::s(kiln::from_raw<ap_ufixed<3, 3> >(ap_uint<3>(5ULL))) * kiln::s(kiln::to_fixed<ap_ufixed<2, 2> >(kiln::from_int(i4_j)))))), kiln::from_raw<ap_ufixed<3, 3> >(ap_uint<3>(7ULL)))) - kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(3ULL)))));
        }
    }

    // logits_convert: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_logits_convert_i0: for (int i5_i0 = 0; i5_i0 < 4; i5_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        L_logits_convert_i1: for (int i6_i1 = 0; i6_i1 < 10; i6_i1 += 1) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            t_logits[(i5_i0)][(i6_i1)] = kiln::to_fixed<ap_fixed<12, 6> >(kiln::val(t_x[(i5_i0)][(i6_i1)]));
        }
    }

    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    argmax_classify(t_logits, result0);

    // result1_store: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l0_argmax_best = t_f[0];
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l2_argmax = kiln::to_int<ap_uint<3> >(kiln::from_raw<ap_ufixed<1, 1> >(ap_uint<1>(0ULL)));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_result1_store_i0: for (int i7_i0 = 0; i7_i0 < 6; i7_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        l1_argmax_cur = t_f[(i7_i0)];
        if ((l1_argmax_cur > l0_argmax_best)) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l0_argmax_best = l1_argmax_cur;
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l2_argmax = kiln::to_int<ap_uint<3> >(kiln::to_fixed<ap_ufixed<3, 3> >(kiln::from_int(i7_i0)));
        }
    }
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    result1 = kiln::to_int<ap_int<8> >(kiln::val(l2_argmax));

    // result2_store: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l3_argmin_best = kiln::to_int<ap_int<3> >(kiln::to_fixed<ap_fixed<3, 3> >(kiln::val(t_m[0][0])));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l5_argmin = kiln::to_int<ap_uint<3> >(kiln::from_raw<ap_ufixed<1, 1> >(ap_uint<1>(0ULL)));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_result2_store_i0: for (int i8_i0 = 0; i8_i0 < 2; i8_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        L_result2_store_i1: for (int i9_i1 = 0; i9_i1 < 3; i9_i1 += 1) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l4_argmin_cur = kiln::to_int<ap_int<3> >(kiln::to_fixed<ap_fixed<3, 3> >(kiln::val(t_m[(i8_i0)][(i9_i1)])));
            if (kiln::lt(kiln::val(l4_argmin_cur), kiln::val(l3_argmin_best))) {
                // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
                l3_argmin_best = kiln::to_int<ap_int<3> >(kiln::val(l4_argmin_cur));
                // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
                l5_argmin = kiln::to_int<ap_uint<3> >(kiln::to_fixed<ap_ufixed<3, 3> >(kiln::s(kiln::to_fixed<ap_ufixed<2, 2> >(kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(3ULL))) * kiln::s(kiln::to_fixed<ap_ufixed<1, 1> >(kiln::from_int(i8_i0))))) + kiln::s(kiln::to_fixed<ap_ufixed<2, 2> >(kiln::from_int(i9_i1)))));
            }
        }
    }
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    result2 = kiln::to_int<ap_int<8> >(kiln::val(l5_argmin));

    // result3_store: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l6_argmax_best = kiln::to_int<ap_int<3> >(kiln::to_fixed<ap_fixed<3, 3> >(kiln::val(t_m[1][1])));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l8_argmax = kiln::to_int<ap_uint<2> >(kiln::from_raw<ap_ufixed<1, 1> >(ap_uint<1>(1ULL)));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_result3_store_i: for (int i11_i = 1; i11_i < 3; i11_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        l7_argmax_cur = kiln::to_int<ap_int<3> >(kiln::to_fixed<ap_fixed<3, 3> >(kiln::val(t_m[1][(i11_i)])));
        if (kiln::lt(kiln::val(l6_argmax_best), kiln::val(l7_argmax_cur))) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l6_argmax_best = kiln::to_int<ap_int<3> >(kiln::val(l7_argmax_cur));
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l8_argmax = kiln::to_int<ap_uint<2> >(kiln::to_fixed<ap_ufixed<2, 2> >(kiln::from_int(i11_i)));
        }
    }
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    result3 = kiln::to_int<ap_int<8> >(kiln::val(l8_argmax));
}

