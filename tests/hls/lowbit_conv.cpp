// lowbit_conv.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "lowbit_conv.h"
#include "lowbit_conv_weights.h"

static void lowbit_conv_conv2d_1_conv2d_add(const ap_int<2> x[70][6][6], const ap_uint<1> x_2[70][6][6], ap_int<12> result[3][6][6]);

// nn.kiln:11: kernel conv2d[T, U](x: T[C, H, W], w: U[K, C, R, S], stride: const = 1, pad: const = 0) -> [K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1]:
// instance of `conv2d+conv2d+add` with C=70, H=6, W=6, K=3, R=3, S=3, T=tern, U=tern, stride=1, pad=1; C=70, H=6, W=6, K=3, R=3, S=3, T=bin, U=bin, stride=1, pad=1; T=int<11>, U=int<10>
static void lowbit_conv_conv2d_1_conv2d_add(const ap_int<2> x[70][6][6], const ap_uint<1> x_2[70][6][6], ap_int<12> result[3][6][6]) {
    static ap_int<2> t_xp[70][8][8];
    static ap_int<2> t_xp_2[70][8][8];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_wt type=complete dim=3)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_wt type=complete dim=4)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=3)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_wb type=complete dim=3)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_wb type=complete dim=4)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp_2 type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp_2 type=complete dim=3)
    kiln::fx<10, 10> l0_sum;
    kiln::fx<11, 11> l1_sum;
    kiln::fx<11, 11> l2_conv2d_out;
    kiln::fx<10, 10> l3_conv2d_1_out;
    (void)x; (void)x_2; (void)result; (void)t_xp; (void)t_xp_2; (void)l0_sum;
    (void)l1_sum; (void)l2_conv2d_out; (void)l3_conv2d_1_out;

    // xp_assign: nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
    // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
    L_xp_assign_c: for (int i0_c = 0; i0_c < 70; i0_c += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
        L_xp_assign_i: for (int i1_i = 0; i1_i < 8; i1_i += 1) {
            // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
            L_xp_assign_j: for (int i2_j = 0; i2_j < 8; i2_j += 1) {
                // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                kiln::put(t_xp[(i0_c)][(i1_i)][(i2_j)], kiln::cvt_int<ap_int<2> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i1_i), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i1_i), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL))))) ? kiln::val(x[kiln::clampi((i0_c), 70)][kiln::clampi((i1_i - 1), 6)][kiln::clampi((i2_j - 1), 6)]) : kiln::to_fixed<kiln::fx<2, 2> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
            }
        }
    }

    // xp_assign: nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
    // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
    L_xp_assign_c_2: for (int i12_c = 0; i12_c < 70; i12_c += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
        L_xp_assign_i_2: for (int i13_i = 0; i13_i < 8; i13_i += 1) {
            // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
            L_xp_assign_j_2: for (int i14_j = 0; i14_j < 8; i14_j += 1) {
                // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                kiln::put(t_xp_2[(i12_c)][(i13_i)][(i14_j)], kiln::cvt_int<ap_int<2> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i13_i), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i13_i), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i14_j), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i14_j), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL))))) ? kiln::bin_val(x_2[kiln::clampi((i12_c), 70)][kiln::clampi((i13_i - 1), 6)][kiln::clampi((i14_j - 1), 6)]) : kiln::to_fixed<kiln::fx<2, 2> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
            }
        }
    }

    // result_store: nn.kiln:59: return a + b
    // `xp` packed along dimension 0 into words of 64 values (trit: sign bits, and nonzero bits in `_m`)
    static kiln::word pk_t_xp_0[8][8][2];
    static kiln::word pk_t_xp_0_m[8][8][2];
    L_pack_pk_t_xp_0: for (int p1 = 0; p1 < 8; p1 += 1) {
        for (int p2 = 0; p2 < 8; p2 += 1) {
            for (int pq = 0; pq < 2; pq += 1) {
                KILN_PRAGMA(HLS PIPELINE II=1)
                kiln::word b = 0, m = 0;
                (void)m;
                for (int pb = 0; pb < 64; pb += 1) {
                    KILN_PRAGMA(HLS UNROLL)
                    if (64 * pq + pb < 70) {
                        m = kiln::set_bit(m, pb, !kiln::is_zero(kiln::val(t_xp[64 * pq + pb][p1][p2])));
                        b = kiln::set_bit(b, pb, kiln::is_neg(kiln::val(t_xp[64 * pq + pb][p1][p2])));
                    }
                }
                pk_t_xp_0[p1][p2][pq] = b;
                pk_t_xp_0_m[p1][p2][pq] = m;
            }
        }
    }
    // `xp` packed along dimension 0 into words of 64 values (trit: sign bits, and nonzero bits in `_m`)
    static kiln::word pk_t_xp_2_0[8][8][2];
    static kiln::word pk_t_xp_2_0_m[8][8][2];
    L_pack_pk_t_xp_2_0: for (int p1 = 0; p1 < 8; p1 += 1) {
        for (int p2 = 0; p2 < 8; p2 += 1) {
            for (int pq = 0; pq < 2; pq += 1) {
                KILN_PRAGMA(HLS PIPELINE II=1)
                kiln::word b = 0, m = 0;
                (void)m;
                for (int pb = 0; pb < 64; pb += 1) {
                    KILN_PRAGMA(HLS UNROLL)
                    if (64 * pq + pb < 70) {
                        m = kiln::set_bit(m, pb, !kiln::is_zero(kiln::val(t_xp_2[64 * pq + pb][p1][p2])));
                        b = kiln::set_bit(b, pb, kiln::is_neg(kiln::val(t_xp_2[64 * pq + pb][p1][p2])));
                    }
                }
                pk_t_xp_2_0[p1][p2][pq] = b;
                pk_t_xp_2_0_m[p1][p2][pq] = m;
            }
        }
    }
    // nn.kiln:59: return a + b
    L_result_store_i0: for (int i24_i0 = 0; i24_i0 < 3; i24_i0 += 1) {
        // nn.kiln:59: return a + b
        L_result_store_i1: for (int i25_i1 = 0; i25_i1 < 6; i25_i1 += 1) {
            // nn.kiln:59: return a + b
            L_result_store_i2: for (int i26_i2 = 0; i26_i2 < 6; i26_i2 += 1) {
                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                l0_sum = kiln::cvt_int<ap_int<10> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                L_result_store_c: for (int i9_c = 0; i9_c < 2; i9_c += 1) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                    L_result_store_u: for (int i10_u = 0; i10_u < 3; i10_u += 1) {
                        // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                        L_result_store_v: for (int i11_v = 0; i11_v < 3; i11_v += 1) {
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            l0_sum = kiln::cvt_int<ap_int<10> >(kiln::add<kiln::fx<10, 10> >(l0_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::trit_dot(pk_t_xp_0_m[(i10_u + i25_i1)][(i11_v + i26_i2)][i9_c], pk_t_xp_0[(i10_u + i25_i1)][(i11_v + i26_i2)][i9_c], w_wt_pk1_m[(i24_i0)][(i10_u)][(i11_v)][i9_c], w_wt_pk1[(i24_i0)][(i10_u)][(i11_v)][i9_c]))));
                        }
                    }
                }
                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                l3_conv2d_1_out = kiln::cvt_int<ap_int<10> >(l0_sum);
                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                l1_sum = kiln::cvt_int<ap_int<11> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                L_result_store_c_2: for (int i21_c = 0; i21_c < 2; i21_c += 1) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                    L_result_store_u_2: for (int i22_u = 0; i22_u < 3; i22_u += 1) {
                        // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                        L_result_store_v_2: for (int i23_v = 0; i23_v < 3; i23_v += 1) {
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            l1_sum = kiln::cvt_int<ap_int<11> >(kiln::add<kiln::fx<11, 11> >(l1_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::trit_bin_dot(pk_t_xp_2_0_m[(i22_u + i25_i1)][(i23_v + i26_i2)][i21_c], pk_t_xp_2_0[(i22_u + i25_i1)][(i23_v + i26_i2)][i21_c], w_wb_pk1[(i24_i0)][(i22_u)][(i23_v)][i21_c]))));
                        }
                    }
                }
                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                l2_conv2d_out = kiln::cvt_int<ap_int<11> >(l1_sum);
                // nn.kiln:59: return a + b
                kiln::put(result[(i24_i0)][(i25_i1)][(i26_i2)], kiln::cvt_int<ap_int<12> >(kiln::add<kiln::fx<12, 12> >(l2_conv2d_out, l3_conv2d_1_out)));
            }
        }
    }
}

// lowbit_conv.kiln:10: kernel main(x: bin[70, 6, 6] = load("../fixtures/bin_70x6x6.npy"),
void lowbit_conv(const ap_uint<1> x[70][6][6], const ap_int<2> t[70][6][6], ap_int<12> result[3][6][6]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=2520)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=t offset=slave bundle=gmem1 depth=2520)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem2 depth=108)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    (void)x; (void)t; (void)result;

    // lowbit_conv.kiln:12: return add(conv2d(x, wb, pad=1), conv2d(t, wt, pad=1))
    lowbit_conv_conv2d_1_conv2d_add(t, x, result);
}

