// argmax.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "argmax.h"
#include "argmax_weights.h"

static void argmax_classify(const ap_fixed<12, 6> logits[4][10], ap_int<8> result[4]);

// argmax.kiln:4: kernel classify(logits: fixed<12, 6>[4, 10]) -> int<8>[4]:
static void argmax_classify(const ap_fixed<12, 6> logits[4][10], ap_int<8> result[4]) {
    kiln::fx<9, 3> l0_argmax_best;
    kiln::fx<9, 3> l1_argmax_cur;
    kiln::ufx<4, 4> l2_argmax;
    (void)logits; (void)result; (void)l0_argmax_best; (void)l1_argmax_cur; (void)l2_argmax;

    // result_store: argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
    // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
    L_result_store_n: for (int i0_n = 0; i0_n < 4; i0_n += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        l0_argmax_best = kiln::cvt<ap_fixed<9, 3> >(kiln::to_fixed<kiln::fx<9, 3> >(kiln::val(logits[(i0_n)][0])));
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        l2_argmax = kiln::cvt_int<ap_uint<4> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        L_result_store_c: for (int i2_c = 0; i2_c < 10; i2_c += 1) {
            // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
            l1_argmax_cur = kiln::cvt<ap_fixed<9, 3> >(kiln::to_fixed<kiln::fx<9, 3> >(kiln::val(logits[(i0_n)][(i2_c)])));
            if (kiln::lt(l0_argmax_best, l1_argmax_cur)) {
                // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
                l0_argmax_best = kiln::cvt<ap_fixed<9, 3> >(l1_argmax_cur);
                // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
                l2_argmax = kiln::cvt_int<ap_uint<4> >(kiln::from_loop<kiln::ufx<4, 4> >(i2_c));
            }
        }
        // argmax.kiln:5: return [argmax(logits[n, c] for c in range(10)) for n in range(4)]
        kiln::put(result[(i0_n)], kiln::cvt_int<ap_int<8> >(l2_argmax));
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
    kiln::ufx<3, 3> l2_argmax;
    kiln::fx<3, 3> l3_argmin_best;
    kiln::fx<3, 3> l4_argmin_cur;
    kiln::ufx<3, 3> l5_argmin;
    kiln::fx<3, 3> l6_argmax_best;
    kiln::fx<3, 3> l7_argmax_cur;
    kiln::ufx<2, 2> l8_argmax;
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
            kiln::put(t_x[(i0_n)][(i1_c)], kiln::cvt<ap_fixed<4, 3> >(kiln::sub<kiln::fx<4, 3> >(kiln::mul<kiln::ufx<4, 3> >(kiln::mod<kiln::ufx<4, 4> >(kiln::add<kiln::ufx<6, 6> >(kiln::mul<kiln::ufx<5, 5> >(kiln::konst<kiln::ufx<3, 3> >(7ULL), kiln::from_loop<kiln::ufx<2, 2> >(i0_n)), kiln::mul<kiln::ufx<5, 5> >(kiln::konst<kiln::ufx<2, 2> >(3ULL), kiln::from_loop<kiln::ufx<4, 4> >(i1_c))), kiln::konst<kiln::ufx<4, 4> >(11ULL)), kiln::konst<kiln::ufx<1, 0> >(1ULL)), kiln::konst<kiln::ufx<2, 2> >(2ULL))));
        }
    }

    // f: argmax.kiln:9: f: f32[6] = [f32((3 * i) % 4) - 0.5 for i in range(6)]
    // argmax.kiln:9: f: f32[6] = [f32((3 * i) % 4) - 0.5 for i in range(6)]
    L_f_i: for (int i2_i = 0; i2_i < 6; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:9: f: f32[6] = [f32((3 * i) % 4) - 0.5 for i in range(6)]
        t_f[(i2_i)] = (kiln::to_f32(kiln::mod<kiln::ufx<2, 2> >(kiln::mul<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<2, 2> >(3ULL), kiln::from_loop<kiln::ufx<3, 3> >(i2_i)), kiln::konst<kiln::ufx<3, 3> >(4ULL))) - kiln::f32_from_bits(0x3f000000u));
    }

    // m: argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
    // argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
    L_m_i: for (int i3_i = 0; i3_i < 2; i3_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
        L_m_j: for (int i4_j = 0; i4_j < 3; i4_j += 1) {
            // argmax.kiln:10: m: int<8>[2, 3] = [(2 * i + 5 * j) % 7 - 3 for i, j in grid(2, 3)]
            kiln::put(t_m[(i3_i)][(i4_j)], kiln::cvt_int<ap_int<8> >(kiln::sub<kiln::fx<3, 3> >(kiln::mod<kiln::ufx<3, 3> >(kiln::add<kiln::ufx<4, 4> >(kiln::mul<kiln::ufx<2, 2> >(kiln::konst<kiln::ufx<2, 2> >(2ULL), kiln::from_loop<kiln::ufx<1, 1> >(i3_i)), kiln::mul<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<3, 3> >(5ULL), kiln::from_loop<kiln::ufx<2, 2> >(i4_j))), kiln::konst<kiln::ufx<3, 3> >(7ULL)), kiln::konst<kiln::ufx<2, 2> >(3ULL))));
        }
    }

    // logits_convert: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_logits_convert_i0: for (int i5_i0 = 0; i5_i0 < 4; i5_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        L_logits_convert_i1: for (int i6_i1 = 0; i6_i1 < 10; i6_i1 += 1) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            kiln::put(t_logits[(i5_i0)][(i6_i1)], kiln::cvt<ap_fixed<12, 6> >(kiln::val(t_x[(i5_i0)][(i6_i1)])));
        }
    }

    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    argmax_classify(t_logits, result0);

    // result1_store: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l0_argmax_best = t_f[0];
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l2_argmax = kiln::cvt_int<ap_uint<3> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_result1_store_i0: for (int i7_i0 = 0; i7_i0 < 6; i7_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        l1_argmax_cur = t_f[(i7_i0)];
        if ((l1_argmax_cur > l0_argmax_best)) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l0_argmax_best = l1_argmax_cur;
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l2_argmax = kiln::cvt_int<ap_uint<3> >(kiln::from_loop<kiln::ufx<3, 3> >(i7_i0));
        }
    }
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    kiln::put(result1, kiln::cvt_int<ap_int<8> >(l2_argmax));

    // result2_store: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l3_argmin_best = kiln::cvt_int<ap_int<3> >(kiln::to_fixed<kiln::fx<3, 3> >(kiln::val(t_m[0][0])));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l5_argmin = kiln::cvt_int<ap_uint<3> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_result2_store_i0: for (int i8_i0 = 0; i8_i0 < 2; i8_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        L_result2_store_i1: for (int i9_i1 = 0; i9_i1 < 3; i9_i1 += 1) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l4_argmin_cur = kiln::cvt_int<ap_int<3> >(kiln::to_fixed<kiln::fx<3, 3> >(kiln::val(t_m[(i8_i0)][(i9_i1)])));
            if (kiln::lt(l4_argmin_cur, l3_argmin_best)) {
                // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
                l3_argmin_best = kiln::cvt_int<ap_int<3> >(l4_argmin_cur);
                // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
                l5_argmin = kiln::cvt_int<ap_uint<3> >(kiln::add<kiln::ufx<3, 3> >(kiln::mul<kiln::ufx<2, 2> >(kiln::konst<kiln::ufx<2, 2> >(3ULL), kiln::from_loop<kiln::ufx<1, 1> >(i8_i0)), kiln::from_loop<kiln::ufx<2, 2> >(i9_i1)));
            }
        }
    }
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    kiln::put(result2, kiln::cvt_int<ap_int<8> >(l5_argmin));

    // result3_store: argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l6_argmax_best = kiln::cvt_int<ap_int<3> >(kiln::to_fixed<kiln::fx<3, 3> >(kiln::val(t_m[1][1])));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    l8_argmax = kiln::cvt_int<ap_uint<2> >(kiln::konst<kiln::ufx<1, 1> >(1ULL));
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    L_result3_store_i: for (int i11_i = 1; i11_i < 3; i11_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
        l7_argmax_cur = kiln::cvt_int<ap_int<3> >(kiln::to_fixed<kiln::fx<3, 3> >(kiln::val(t_m[1][(i11_i)])));
        if (kiln::lt(l6_argmax_best, l7_argmax_cur)) {
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l6_argmax_best = kiln::cvt_int<ap_int<3> >(l7_argmax_cur);
            // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
            l8_argmax = kiln::cvt_int<ap_uint<2> >(kiln::from_loop<kiln::ufx<2, 2> >(i11_i));
        }
    }
    // argmax.kiln:11: return classify(x), argmax(f), argmin(m), argmax(m[1, i] for i in range(1, 3))
    kiln::put(result3, kiln::cvt_int<ap_int<8> >(l8_argmax));
}

