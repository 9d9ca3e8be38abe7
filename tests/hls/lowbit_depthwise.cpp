// lowbit_depthwise.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "lowbit_depthwise.h"
#include "lowbit_depthwise_weights.h"

static void lowbit_depthwise_depthwise_conv2d(const ap_uint<1> x[70][6][6], ap_int<5> result[70][6][6]);

// nn.kiln:16: kernel depthwise_conv2d[T, U](x: T[C, H, W], w: U[C, R, S], stride: const = 1, pad: const = 0) -> [C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1]:
// instance of `depthwise_conv2d` with C=70, H=6, W=6, R=3, S=3, T=bin, U=bin, stride=1, pad=1
static void lowbit_depthwise_depthwise_conv2d(const ap_uint<1> x[70][6][6], ap_int<5> result[70][6][6]) {
    static ap_int<2> t_xp[70][8][8];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_wd type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_wd type=complete dim=3)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=3)
    kiln::fx<5, 5> l0_sum;
    (void)x; (void)result; (void)t_xp; (void)l0_sum;

    // xp_assign: nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
    // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
    L_xp_assign_c: for (int i0_c = 0; i0_c < 70; i0_c += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
        L_xp_assign_i: for (int i1_i = 0; i1_i < 8; i1_i += 1) {
            // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
            L_xp_assign_j: for (int i2_j = 0; i2_j < 8; i2_j += 1) {
                // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                kiln::put(t_xp[(i0_c)][(i1_i)][(i2_j)], kiln::cvt_int<ap_int<2> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i1_i), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i1_i), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL))))) ? kiln::bin_val(x[kiln::clampi((i0_c), 70)][kiln::clampi((i1_i - 1), 6)][kiln::clampi((i2_j - 1), 6)]) : kiln::to_fixed<kiln::fx<2, 2> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
            }
        }
    }

    // result_store: nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
    // `xp` packed along dimension 2 into words of 64 values (trit: sign bits, and nonzero bits in `_m`)
    static kiln::word pk_t_xp_2[70][8][1];
    static kiln::word pk_t_xp_2_m[70][8][1];
    L_pack_pk_t_xp_2: for (int p0 = 0; p0 < 70; p0 += 1) {
        for (int p1 = 0; p1 < 8; p1 += 1) {
            for (int pq = 0; pq < 1; pq += 1) {
                KILN_PRAGMA(HLS PIPELINE II=1)
                kiln::word b = 0, m = 0;
                (void)m;
                for (int pb = 0; pb < 64; pb += 1) {
                    KILN_PRAGMA(HLS UNROLL)
                    if (64 * pq + pb < 8) {
                        m = kiln::set_bit(m, pb, !kiln::is_zero(kiln::val(t_xp[p0][p1][64 * pq + pb])));
                        b = kiln::set_bit(b, pb, kiln::is_neg(kiln::val(t_xp[p0][p1][64 * pq + pb])));
                    }
                }
                pk_t_xp_2[p0][p1][pq] = b;
                pk_t_xp_2_m[p0][p1][pq] = m;
            }
        }
    }
    // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
    L_result_store_c: for (int i3_c = 0; i3_c < 70; i3_c += 1) {
        // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
        L_result_store_i: for (int i4_i = 0; i4_i < 6; i4_i += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            KILN_PRAGMA(HLS LOOP_FLATTEN)
            // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
            L_result_store_j: for (int i5_j = 0; i5_j < 6; i5_j += 1) {
                // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                l0_sum = kiln::cvt_int<ap_int<5> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                L_result_store_u: for (int i8_u = 0; i8_u < 3; i8_u += 1) {
                    // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                    L_result_store_v: for (int i9_v = 0; i9_v < 1; i9_v += 1) {
                        // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                        l0_sum = kiln::cvt_int<ap_int<5> >(kiln::add<kiln::fx<5, 5> >(l0_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::trit_bin_dot(kiln::window(pk_t_xp_2_m[(i3_c)][(i4_i + i8_u)][0], (i5_j), 3), kiln::window(pk_t_xp_2[(i3_c)][(i4_i + i8_u)][0], (i5_j), 3), w_wd_pk2[(i3_c)][(i8_u)][i9_v]))));
                    }
                }
                // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                kiln::put(result[(i3_c)][(i4_i)][(i5_j)], kiln::cvt_int<ap_int<5> >(l0_sum));
            }
        }
    }
}

// lowbit_depthwise.kiln:10: kernel main(x: bin[70, 6, 6] = load("../fixtures/bin_70x6x6.npy"),
void lowbit_depthwise(const ap_uint<1> x[70][6][6], const ap_int<2> t[70][6][6], ap_fixed<9, 5> result[70][6][6]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=2520)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=t offset=slave bundle=gmem1 depth=2520)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem2 depth=2520)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<5> t_depthwise_conv2d_out[70][6][6];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_depthwise_conv2d_out type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_depthwise_conv2d_out type=complete dim=3)
    (void)x; (void)t; (void)result; (void)t_depthwise_conv2d_out;

    // lowbit_depthwise.kiln:12: d = depthwise_conv2d(x, wd, pad=1)
    lowbit_depthwise_depthwise_conv2d(x, t_depthwise_conv2d_out);

    // result_store: lowbit_depthwise.kiln:13: return [d[c, i, j] + t[c, i, j] * fixed<6, 2>(1.75) for c, i, j in grid(70, 6, 6)]
    // lowbit_depthwise.kiln:13: return [d[c, i, j] + t[c, i, j] * fixed<6, 2>(1.75) for c, i, j in grid(70, 6, 6)]
    L_result_store_c: for (int i0_c = 0; i0_c < 70; i0_c += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // lowbit_depthwise.kiln:13: return [d[c, i, j] + t[c, i, j] * fixed<6, 2>(1.75) for c, i, j in grid(70, 6, 6)]
        L_result_store_i: for (int i1_i = 0; i1_i < 6; i1_i += 1) {
            // lowbit_depthwise.kiln:13: return [d[c, i, j] + t[c, i, j] * fixed<6, 2>(1.75) for c, i, j in grid(70, 6, 6)]
            L_result_store_j: for (int i2_j = 0; i2_j < 6; i2_j += 1) {
                // lowbit_depthwise.kiln:13: return [d[c, i, j] + t[c, i, j] * fixed<6, 2>(1.75) for c, i, j in grid(70, 6, 6)]
                kiln::put(result[(i0_c)][(i1_i)][(i2_j)], kiln::cvt<ap_fixed<9, 5> >(kiln::add<kiln::fx<9, 5> >(kiln::val(t_depthwise_conv2d_out[(i0_c)][(i1_i)][(i2_j)]), kiln::sel_mul<kiln::fx<6, 2> >(kiln::val(t[(i0_c)][(i1_i)][(i2_j)]), kiln::to_fixed<kiln::ufx<5, 1> >(kiln::cvt<ap_fixed<6, 2> >(kiln::konst<kiln::ufx<3, 1> >(7ULL)))))));
            }
        }
    }
}

