// layer_pipeline.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "layer_pipeline.h"
#include "layer_pipeline_weights.h"

// A dataflow stage computed row by row: `conv2d_bias_add_relu_requantize` (line buffers: x 1 rows, xp 3 rows, result 1 rows).
static void layer_pipeline_conv2d_bias_add_relu_requantize_stage1(const ap_int<8> x[3][13][11], ap_ufixed<1, -3> scale, hls::stream<kiln::vec<ap_fixed<6, 3, AP_RND, AP_SAT>, 4> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<8> lb_x[3][1][11];
    static ap_int<8> t_xp[3][3][13];
    static ap_fixed<6, 3, AP_RND, AP_SAT> rb_result[4][1][11];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=cyclic factor=3 dim=3)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=rb_result type=complete dim=1)
    kiln::fx<16, 16> l0_sum;
    kiln::fx<16, 16> l1_conv2d_out;
    kiln::fx<16, 16> l2_conv2d_bias_add_out;
    kiln::fx<16, 16> l3_conv2d_bias_add_relu_out;
    (void)x; (void)scale; (void)result; (void)t_xp; (void)rb_result; (void)l0_sum;
    (void)l1_conv2d_out; (void)l2_conv2d_bias_add_out; (void)l3_conv2d_bias_add_relu_out;
    int k_have0 = 0, k_made0 = 0, k_made1 = 0;
    L_layer_pipeline_conv2d_bias_add_relu_requantize_stage1_steps: for (int k_step = 0; k_step <= 13; k_step++) {
        if (k_step < 13) {
            L_read_x: for (int w = 0; w < 11; w++) {
                for (int c = 0; c < 3; c++) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    lb_x[c][k_step % 1][w] = x[c][k_step][w];
                }
            }
            k_have0++;
        }
        L_layer_pipeline_conv2d_bias_add_relu_requantize_stage1_sweep: for (;;) {
            bool k_progress = false;
            if (k_made0 < 15 && ((1LL * k_made0 - 1) < 12 ? (1LL * k_made0 - 1) : 12) < k_have0) {
                const int k_row0 = k_made0;
                // xp_assign: nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                L_xp_assign_c: for (int i0_c = 0; i0_c < 3; i0_c += 1) {
                    // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                    L_xp_assign_i: for (int i1_i = k_row0; i1_i < k_row0 + 1; i1_i += 1) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                        L_xp_assign_j: for (int i2_j = 0; i2_j < 13; i2_j += 1) {
                            // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                            kiln::put(t_xp[(i0_c)][((i1_i)) % 3][(i2_j)], kiln::cvt_int<ap_int<8> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i1_i), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i1_i), kiln::add<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<4, 4> >(13ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i2_j), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i2_j), kiln::add<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<4, 4> >(11ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL))))) ? kiln::val(lb_x[kiln::clampi((i0_c), 3)][0][kiln::clampi((i2_j - 1), 11)]) : kiln::to_fixed<kiln::fx<8, 8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
                        }
                    }
                }
                k_made0++;
                k_progress = true;
            }
            if (k_made1 < 13 && ((1LL * k_made1 + 2) < 14 ? (1LL * k_made1 + 2) : 14) < k_made0) {
                const int k_row1 = k_made1;
                // result_store: nn.kiln:71: return map(lambda v: T(v * scale), x)
                // nn.kiln:71: return map(lambda v: T(v * scale), x)
                L_result_store_i0_o: for (int i21_i0_o = 0; i21_i0_o < 2; i21_i0_o += 1) {
                    // nn.kiln:71: return map(lambda v: T(v * scale), x)
                    L_result_store_i1: for (int i19_i1 = k_row1; i19_i1 < k_row1 + 1; i19_i1 += 1) {
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:71: return map(lambda v: T(v * scale), x)
                        L_result_store_i2: for (int i20_i2 = 0; i20_i2 < 11; i20_i2 += 1) {
                            KILN_PRAGMA(HLS PIPELINE II=1)
                            KILN_PRAGMA(HLS LOOP_FLATTEN)
                            // nn.kiln:71: return map(lambda v: T(v * scale), x)
                            L_result_store_i0: for (int i18_i0 = (2 * i21_i0_o); i18_i0 < (2 * i21_i0_o + 2); i18_i0 += 1) {
                                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                l0_sum = kiln::cvt_int<ap_int<16> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                L_result_store_c: for (int i9_c = 0; i9_c < 3; i9_c += 1) {
                                    // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                    L_result_store_u: for (int i10_u = 0; i10_u < 3; i10_u += 1) {
                                        // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                        L_result_store_v: for (int i11_v = 0; i11_v < 3; i11_v += 1) {
                                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                            l0_sum = kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<16, 16> >(l0_sum, kiln::mul<kiln::fx<12, 12> >(kiln::val(t_xp[(i9_c)][((i10_u + i19_i1)) % 3][(i11_v + i20_i2)]), kiln::val(w_w1[(i18_i0)][(i9_c)][(i10_u)][(i11_v)]))));
                                        }
                                    }
                                }
                                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                l1_conv2d_out = kiln::cvt_int<ap_int<16> >(l0_sum);
                                // nn.kiln:30: return [x[c, i, j] + b[c] for c, i, j in grid(C, H, W)]
                                l2_conv2d_bias_add_out = kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<16, 16> >(l1_conv2d_out, kiln::val(w_b1[(i18_i0)])));
                                // nn.kiln:47: return map(lambda v: max(v, 0), x)
                                l3_conv2d_bias_add_relu_out = kiln::cvt_int<ap_int<16> >(kiln::max_<kiln::ufx<15, 15> >(l2_conv2d_bias_add_out, kiln::konst<kiln::ufx<1, 1> >(0ULL)));
                                // nn.kiln:71: return map(lambda v: T(v * scale), x)
                                kiln::put(rb_result[(i18_i0)][0][(i20_i2)], kiln::cvt<ap_fixed<6, 3, AP_RND, AP_SAT> >(kiln::to_fixed<kiln::ufx<5, 2> >(kiln::cvt<ap_fixed<6, 3, AP_RND, AP_SAT> >(kiln::mul<kiln::ufx<15, 11> >(kiln::to_fixed<kiln::ufx<15, 15> >(l3_conv2d_bias_add_relu_out), kiln::val(scale))))));
                            }
                        }
                    }
                }
                L_write_result: for (int w = 0; w < 11; w++) {
                    for (int c = 0; c < 4; c += 4) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        kiln::vec<ap_fixed<6, 3, AP_RND, AP_SAT>, 4> k_word;
                        for (int r = 0; r < 4; r++) {
                            KILN_PRAGMA(HLS UNROLL)
                            k_word.v[r] = rb_result[c + r][0][w];
                        }
                        result.write(k_word);
                    }
                }
                k_made1++;
                k_progress = true;
            }
            if (!k_progress) break;
        }
    }
}

// A dataflow stage computed row by row: `conv2d_1_requantize_1` (line buffers: x 1 rows, xp 4 rows, result 1 rows).
static void layer_pipeline_conv2d_1_requantize_1_stage2(hls::stream<kiln::vec<ap_fixed<6, 3, AP_RND, AP_SAT>, 4> > &x, ap_ufixed<1, -2> scale, hls::stream<ap_fixed<6, 3, AP_RND, AP_SAT> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<6, 3, AP_RND, AP_SAT> lb_x[4][1][11];
    static ap_ufixed<5, 2> t_xp[4][4][15];
    static ap_fixed<6, 3, AP_RND, AP_SAT> rb_result[5][1][6];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=cyclic factor=4 dim=3)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=lb_x type=cyclic factor=4 dim=1)
    kiln::fx<11, 8> l0_sum;
    kiln::fx<11, 8> l1_conv2d_1_out;
    (void)x; (void)scale; (void)result; (void)t_xp; (void)rb_result; (void)l0_sum;
    (void)l1_conv2d_1_out;
    int k_have0 = 0, k_made0 = 0, k_made1 = 0;
    L_layer_pipeline_conv2d_1_requantize_1_stage2_steps: for (int k_step = 0; k_step <= 13; k_step++) {
        if (k_step < 13) {
            L_read_x: for (int w = 0; w < 11; w++) {
                for (int c = 0; c < 4; c += 4) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    const kiln::vec<ap_fixed<6, 3, AP_RND, AP_SAT>, 4> k_word = x.read();
                    for (int r = 0; r < 4; r++) {
                        KILN_PRAGMA(HLS UNROLL)
                        lb_x[c + r][k_step % 1][w] = k_word.v[r];
                    }
                }
            }
            k_have0++;
        }
        L_layer_pipeline_conv2d_1_requantize_1_stage2_sweep: for (;;) {
            bool k_progress = false;
            if (k_made0 < 17 && ((1LL * k_made0 - 2) < 12 ? (1LL * k_made0 - 2) : 12) < k_have0) {
                const int k_row0 = k_made0;
                // xp_assign: nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                L_xp_assign_c: for (int i0_c = 0; i0_c < 4; i0_c += 1) {
                    // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                    L_xp_assign_i: for (int i1_i = k_row0; i1_i < k_row0 + 1; i1_i += 1) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                        L_xp_assign_j: for (int i2_j = 0; i2_j < 15; i2_j += 1) {
                            // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                            kiln::put(t_xp[(i0_c)][((i1_i)) % 4][(i2_j)], kiln::cvt<ap_ufixed<5, 2> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<5, 5> >(i1_i), kiln::konst<kiln::ufx<2, 2> >(2ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<5, 5> >(i1_i), kiln::add<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<4, 4> >(13ULL), kiln::konst<kiln::ufx<2, 2> >(2ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i2_j), kiln::konst<kiln::ufx<2, 2> >(2ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i2_j), kiln::add<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<4, 4> >(11ULL), kiln::konst<kiln::ufx<2, 2> >(2ULL))))) ? kiln::to_fixed<kiln::ufx<5, 2> >(kiln::val(lb_x[kiln::clampi((i0_c), 4)][0][kiln::clampi((i2_j - 2), 11)])) : kiln::to_fixed<kiln::ufx<5, 2> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
                        }
                    }
                }
                k_made0++;
                k_progress = true;
            }
            if (k_made1 < 7 && ((2LL * k_made1 + 3) < 16 ? (2LL * k_made1 + 3) : 16) < k_made0) {
                const int k_row1 = k_made1;
                // result_store: nn.kiln:71: return map(lambda v: T(v * scale), x)
                // nn.kiln:71: return map(lambda v: T(v * scale), x)
                L_result_store_i0: for (int i12_i0 = 0; i12_i0 < 5; i12_i0 += 1) {
                    // nn.kiln:71: return map(lambda v: T(v * scale), x)
                    L_result_store_i1: for (int i13_i1 = k_row1; i13_i1 < k_row1 + 1; i13_i1 += 1) {
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:71: return map(lambda v: T(v * scale), x)
                        L_result_store_i2: for (int i14_i2 = 0; i14_i2 < 6; i14_i2 += 1) {
                            KILN_PRAGMA(HLS PIPELINE II=1)
                            KILN_PRAGMA(HLS LOOP_FLATTEN)
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            l0_sum = kiln::cvt<ap_fixed<11, 8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            L_result_store_c: for (int i9_c = 0; i9_c < 4; i9_c += 1) {
                                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                L_result_store_u: for (int i10_u = 0; i10_u < 4; i10_u += 1) {
                                    // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                    L_result_store_v: for (int i11_v = 0; i11_v < 4; i11_v += 1) {
                                        // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                        l0_sum = kiln::cvt<ap_fixed<11, 8> >(kiln::add<kiln::fx<11, 8> >(l0_sum, kiln::sel_mul<kiln::fx<6, 3> >(kiln::val(w_w2[(i12_i0)][(i9_c)][(i10_u)][(i11_v)]), kiln::val(t_xp[(i9_c)][((i10_u + 2 * i13_i1)) % 4][(i11_v + 2 * i14_i2)]))));
                                    }
                                }
                            }
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            l1_conv2d_1_out = kiln::cvt<ap_fixed<11, 8> >(l0_sum);
                            // nn.kiln:71: return map(lambda v: T(v * scale), x)
                            kiln::put(rb_result[(i12_i0)][0][(i14_i2)], kiln::cvt<ap_fixed<6, 3, AP_RND, AP_SAT> >(kiln::cvt<ap_fixed<6, 3, AP_RND, AP_SAT> >(kiln::mul<kiln::fx<11, 5> >(l1_conv2d_1_out, kiln::val(scale)))));
                        }
                    }
                }
                L_write_result: for (int w = 0; w < 6; w++) {
                    for (int c = 0; c < 5; c++) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        result.write(rb_result[c][0][w]);
                    }
                }
                k_made1++;
                k_progress = true;
            }
            if (!k_progress) break;
        }
    }
}

// A dataflow stage computed row by row: `depthwise_conv2d_requantize_2` (line buffers: x 1 rows, xp 3 rows, result 1 rows).
static void layer_pipeline_depthwise_conv2d_requantize_2_stage3(hls::stream<ap_fixed<6, 3, AP_RND, AP_SAT> > &x, ap_ufixed<1, -1> scale, ap_fixed<6, 3, AP_RND, AP_SAT> result[5][7][6]) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<6, 3, AP_RND, AP_SAT> lb_x[5][1][6];
    static ap_fixed<6, 3> t_xp[5][3][8];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=cyclic factor=3 dim=3)
    kiln::fx<11, 8> l0_sum;
    kiln::fx<11, 8> l1_depthwise_conv2d_out;
    (void)x; (void)scale; (void)result; (void)t_xp; (void)l0_sum; (void)l1_depthwise_conv2d_out;
    int k_have0 = 0, k_made0 = 0, k_made1 = 0;
    L_layer_pipeline_depthwise_conv2d_requantize_2_stage3_steps: for (int k_step = 0; k_step <= 7; k_step++) {
        if (k_step < 7) {
            L_read_x: for (int w = 0; w < 6; w++) {
                for (int c = 0; c < 5; c++) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    lb_x[c][k_step % 1][w] = x.read();
                }
            }
            k_have0++;
        }
        L_layer_pipeline_depthwise_conv2d_requantize_2_stage3_sweep: for (;;) {
            bool k_progress = false;
            if (k_made0 < 9 && ((1LL * k_made0 - 1) < 6 ? (1LL * k_made0 - 1) : 6) < k_have0) {
                const int k_row0 = k_made0;
                // xp_assign: nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                L_xp_assign_c: for (int i0_c = 0; i0_c < 5; i0_c += 1) {
                    // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                    L_xp_assign_i: for (int i1_i = k_row0; i1_i < k_row0 + 1; i1_i += 1) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                        L_xp_assign_j: for (int i2_j = 0; i2_j < 8; i2_j += 1) {
                            // nn.kiln:17: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                            kiln::put(t_xp[(i0_c)][((i1_i)) % 3][(i2_j)], kiln::cvt<ap_fixed<6, 3> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i1_i), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<4, 4> >(i1_i), kiln::add<kiln::ufx<4, 4> >(kiln::konst<kiln::ufx<3, 3> >(7ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::konst<kiln::ufx<1, 1> >(1ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL))))) ? kiln::val(lb_x[kiln::clampi((i0_c), 5)][0][kiln::clampi((i2_j - 1), 6)]) : kiln::to_fixed<kiln::fx<6, 3> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
                        }
                    }
                }
                k_made0++;
                k_progress = true;
            }
            if (k_made1 < 7 && ((1LL * k_made1 + 2) < 8 ? (1LL * k_made1 + 2) : 8) < k_made0) {
                const int k_row1 = k_made1;
                // result_store: nn.kiln:71: return map(lambda v: T(v * scale), x)
                // nn.kiln:71: return map(lambda v: T(v * scale), x)
                L_result_store_i0: for (int i10_i0 = 0; i10_i0 < 5; i10_i0 += 1) {
                    // nn.kiln:71: return map(lambda v: T(v * scale), x)
                    L_result_store_i1: for (int i11_i1 = k_row1; i11_i1 < k_row1 + 1; i11_i1 += 1) {
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:71: return map(lambda v: T(v * scale), x)
                        L_result_store_i2: for (int i12_i2 = 0; i12_i2 < 6; i12_i2 += 1) {
                            KILN_PRAGMA(HLS LOOP_FLATTEN)
                            // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            L_result_store_u: for (int i8_u = 0; i8_u < 3; i8_u += 1) {
                                KILN_PRAGMA(HLS PIPELINE II=1)
                                KILN_PRAGMA(HLS LOOP_FLATTEN)
                                if (kiln::eq(kiln::from_loop<kiln::ufx<2, 2> >(i8_u), kiln::konst<kiln::ufx<1, 1> >(0ULL))) {
                                    // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                    l0_sum = kiln::cvt<ap_fixed<11, 8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                                }
                                // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                L_result_store_v: for (int i9_v = 0; i9_v < 3; i9_v += 1) {
                                    // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                    l0_sum = kiln::cvt<ap_fixed<11, 8> >(kiln::add<kiln::fx<11, 8> >(l0_sum, kiln::mul<kiln::fx<9, 6> >(kiln::val(t_xp[(i10_i0)][((i8_u + i11_i1)) % 3][(i9_v + i12_i2)]), kiln::val(w_wd[(i10_i0)][(i8_u)][(i9_v)]))));
                                }
                                if (kiln::eq(kiln::from_loop<kiln::ufx<2, 2> >(i8_u), kiln::konst<kiln::ufx<2, 2> >(2ULL))) {
                                    // nn.kiln:18: return [sum(xp[c, i * stride + u, j * stride + v] * w[c, u, v] for u, v in grid(R, S)) for c, i, j in grid(C, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                    l1_depthwise_conv2d_out = kiln::cvt<ap_fixed<11, 8> >(l0_sum);
                                    // nn.kiln:71: return map(lambda v: T(v * scale), x)
                                    kiln::put(result[(i10_i0)][(i11_i1)][(i12_i2)], kiln::cvt<ap_fixed<6, 3, AP_RND, AP_SAT> >(kiln::cvt<ap_fixed<6, 3, AP_RND, AP_SAT> >(kiln::mul<kiln::fx<11, 6> >(l1_depthwise_conv2d_out, kiln::val(scale)))));
                                }
                            }
                        }
                    }
                }
                k_made1++;
                k_progress = true;
            }
            if (!k_progress) break;
        }
    }
}

// A dataflow stage computed row by row: `conv2d_2_add` (line buffers: x 1 rows, a 1 rows, xp 1 rows, result 1 rows).
static void layer_pipeline_conv2d_2_add_stage4(const ap_fixed<6, 3, AP_RND, AP_SAT> x[5][7][6], const ap_fixed<6, 3, AP_RND, AP_SAT> a[5][7][6], hls::stream<ap_fixed<9, 6> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<6, 3, AP_RND, AP_SAT> lb_x[5][1][6];
    static ap_fixed<6, 3, AP_RND, AP_SAT> lb_a[5][1][6];
    static ap_fixed<6, 3> t_xp[5][1][6];
    static ap_fixed<9, 6> rb_result[5][1][6];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_xp type=complete dim=3)
    kiln::fx<8, 5> l0_sum;
    kiln::fx<8, 5> l1_conv2d_2_out;
    (void)x; (void)a; (void)result; (void)t_xp; (void)rb_result; (void)l0_sum;
    (void)l1_conv2d_2_out;
    int k_have0 = 0, k_have1 = 0, k_made0 = 0, k_made1 = 0;
    L_layer_pipeline_conv2d_2_add_stage4_steps: for (int k_step = 0; k_step <= 7; k_step++) {
        if (k_step < 7) {
            L_read_x: for (int w = 0; w < 6; w++) {
                for (int c = 0; c < 5; c++) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    lb_x[c][k_step % 1][w] = x[c][k_step][w];
                }
            }
            k_have0++;
        }
        if (k_step < 7) {
            L_read_a: for (int w = 0; w < 6; w++) {
                for (int c = 0; c < 5; c++) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    lb_a[c][k_step % 1][w] = a[c][k_step][w];
                }
            }
            k_have1++;
        }
        L_layer_pipeline_conv2d_2_add_stage4_sweep: for (;;) {
            bool k_progress = false;
            if (k_made0 < 7 && ((1LL * k_made0 + 0) < 6 ? (1LL * k_made0 + 0) : 6) < k_have0) {
                const int k_row0 = k_made0;
                // xp_assign: nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                L_xp_assign_c: for (int i0_c = 0; i0_c < 5; i0_c += 1) {
                    // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                    L_xp_assign_i: for (int i1_i = k_row0; i1_i < k_row0 + 1; i1_i += 1) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                        L_xp_assign_j: for (int i2_j = 0; i2_j < 6; i2_j += 1) {
                            // nn.kiln:12: xp = [x[c, i - pad, j - pad] if pad <= i < H + pad and pad <= j < W + pad else 0 for c, i, j in grid(C, H + 2 * pad, W + 2 * pad)]
                            kiln::put(t_xp[(i0_c)][0][(i2_j)], kiln::cvt<ap_fixed<6, 3> >(((((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i1_i), kiln::konst<kiln::ufx<1, 1> >(0ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i1_i), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(7ULL), kiln::konst<kiln::ufx<1, 1> >(0ULL)))) && ((!kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::konst<kiln::ufx<1, 1> >(0ULL))) && kiln::lt(kiln::from_loop<kiln::ufx<3, 3> >(i2_j), kiln::add<kiln::ufx<3, 3> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::konst<kiln::ufx<1, 1> >(0ULL))))) ? kiln::val(lb_x[(i0_c)][0][(i2_j)]) : kiln::to_fixed<kiln::fx<6, 3> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))));
                        }
                    }
                }
                k_made0++;
                k_progress = true;
            }
            if (k_made1 < 7 && ((1LL * k_made1 + 0) < 6 ? (1LL * k_made1 + 0) : 6) < k_made0 && ((1LL * k_made1 + 0) < 6 ? (1LL * k_made1 + 0) : 6) < k_have1) {
                const int k_row1 = k_made1;
                // result_store: nn.kiln:59: return a + b
                // nn.kiln:59: return a + b
                L_result_store_i0: for (int i12_i0 = 0; i12_i0 < 5; i12_i0 += 1) {
                    // nn.kiln:59: return a + b
                    L_result_store_i1: for (int i13_i1 = k_row1; i13_i1 < k_row1 + 1; i13_i1 += 1) {
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:59: return a + b
                        L_result_store_i2: for (int i14_i2 = 0; i14_i2 < 6; i14_i2 += 1) {
                            KILN_PRAGMA(HLS PIPELINE II=1)
                            KILN_PRAGMA(HLS LOOP_FLATTEN)
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            l0_sum = kiln::cvt<ap_fixed<8, 5> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            L_result_store_c: for (int i9_c = 0; i9_c < 5; i9_c += 1) {
                                // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                L_result_store_u: for (int i10_u = 0; i10_u < 1; i10_u += 1) {
                                    // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                    L_result_store_v: for (int i11_v = 0; i11_v < 1; i11_v += 1) {
                                        // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                                        l0_sum = kiln::cvt<ap_fixed<8, 5> >(kiln::add<kiln::fx<8, 5> >(l0_sum, kiln::sel_mul<kiln::fx<7, 4> >(kiln::val(w_w3[(i12_i0)][(i9_c)][(i10_u)][(i11_v)]), kiln::val(t_xp[(i9_c)][0][(i11_v + i14_i2)]))));
                                    }
                                }
                            }
                            // nn.kiln:13: return [sum(xp[c, i * stride + u, j * stride + v] * w[k, c, u, v] for c, u, v in grid(C, R, S)) for k, i, j in grid(K, (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1)]
                            l1_conv2d_2_out = kiln::cvt<ap_fixed<8, 5> >(l0_sum);
                            // nn.kiln:59: return a + b
                            kiln::put(rb_result[(i12_i0)][0][(i14_i2)], kiln::cvt<ap_fixed<9, 6> >(kiln::add<kiln::fx<9, 6> >(kiln::val(lb_a[(i12_i0)][0][(i14_i2)]), l1_conv2d_2_out)));
                        }
                    }
                }
                L_write_result: for (int w = 0; w < 6; w++) {
                    for (int c = 0; c < 5; c++) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        result.write(rb_result[c][0][w]);
                    }
                }
                k_made1++;
                k_progress = true;
            }
            if (!k_progress) break;
        }
    }
}

// A dataflow stage computed row by row: `avgpool2d` (line buffers: x 1 rows, result 1 rows).
static void layer_pipeline_avgpool2d_stage5(hls::stream<ap_fixed<9, 6> > &x, hls::stream<ap_fixed<9, 6> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<9, 6> lb_x[5][1][6];
    static ap_fixed<9, 6> rb_result[5][1][6];
    kiln::fx<9, 6> l0_sum;
    (void)x; (void)result; (void)rb_result; (void)l0_sum;
    int k_have0 = 0, k_made0 = 0;
    L_layer_pipeline_avgpool2d_stage5_steps: for (int k_step = 0; k_step <= 7; k_step++) {
        if (k_step < 7) {
            L_read_x: for (int w = 0; w < 6; w++) {
                for (int c = 0; c < 5; c++) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    lb_x[c][k_step % 1][w] = x.read();
                }
            }
            k_have0++;
        }
        L_layer_pipeline_avgpool2d_stage5_sweep: for (;;) {
            bool k_progress = false;
            if (k_made0 < 7 && ((1LL * k_made0 + 0) < 6 ? (1LL * k_made0 + 0) : 6) < k_have0) {
                const int k_row0 = k_made0;
                // result_store: nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                L_result_store_c: for (int i0_c = 0; i0_c < 5; i0_c += 1) {
                    // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                    L_result_store_i: for (int i1_i = k_row0; i1_i < k_row0 + 1; i1_i += 1) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                        L_result_store_j: for (int i2_j = 0; i2_j < 6; i2_j += 1) {
                            // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                            l0_sum = kiln::cvt<ap_fixed<9, 6> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
                            // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                            L_result_store_u: for (int i5_u = 0; i5_u < 1; i5_u += 1) {
                                // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                                L_result_store_v: for (int i6_v = 0; i6_v < 1; i6_v += 1) {
                                    // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                                    l0_sum = kiln::cvt<ap_fixed<9, 6> >(kiln::add<kiln::fx<9, 6> >(l0_sum, kiln::val(lb_x[(i0_c)][0][(i2_j + i6_v)])));
                                }
                            }
                            // nn.kiln:43: return [sum(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) / (size * size) for c, i, j in grid(C, H // size, W // size)]
                            kiln::put(rb_result[(i0_c)][0][(i2_j)], kiln::cvt<ap_fixed<9, 6> >(kiln::div<kiln::fx<9, 6> >(l0_sum, kiln::mul<kiln::ufx<1, 1> >(kiln::konst<kiln::ufx<1, 1> >(1ULL), kiln::konst<kiln::ufx<1, 1> >(1ULL)))));
                        }
                    }
                }
                L_write_result: for (int w = 0; w < 6; w++) {
                    for (int c = 0; c < 5; c++) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        result.write(rb_result[c][0][w]);
                    }
                }
                k_made0++;
                k_progress = true;
            }
            if (!k_progress) break;
        }
    }
}

// A dataflow stage computed row by row: `maxpool2d_flatten` (line buffers: x 2 rows).
static void layer_pipeline_maxpool2d_flatten_stage6(hls::stream<ap_fixed<9, 6> > &x, hls::stream<ap_fixed<9, 6> > &y) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<9, 6> lb_x[5][2][6];
    static ap_fixed<9, 6> rb_y[45];
    kiln::fx<9, 6> l0_max;
    kiln::fx<9, 6> l1_maxpool2d_out;
    (void)x; (void)y; (void)rb_y; (void)l0_max; (void)l1_maxpool2d_out;
    int k_have0 = 0, k_made0 = 0;
    L_layer_pipeline_maxpool2d_flatten_stage6_steps: for (int k_step = 0; k_step <= 7; k_step++) {
        if (k_step < 7) {
            L_read_x: for (int w = 0; w < 6; w++) {
                for (int c = 0; c < 5; c++) {
                    KILN_PRAGMA(HLS PIPELINE II=1)
                    lb_x[c][k_step % 2][w] = x.read();
                }
            }
            k_have0++;
        }
        L_layer_pipeline_maxpool2d_flatten_stage6_sweep: for (;;) {
            bool k_progress = false;
            if (k_made0 < 3 && ((2LL * k_made0 + 1) < 6 ? (2LL * k_made0 + 1) : 6) < k_have0) {
                const int k_row0 = k_made0;
                // c_loop: nn.kiln:64: for c, i, j in grid(C, H, W):
                // nn.kiln:64: for c, i, j in grid(C, H, W):
                L_c_loop_c: for (int i7_c = 0; i7_c < 5; i7_c += 1) {
                    // nn.kiln:64: for c, i, j in grid(C, H, W):
                    L_c_loop_i: for (int i8_i = k_row0; i8_i < k_row0 + 1; i8_i += 1) {
                        KILN_PRAGMA(HLS PIPELINE II=1)
                        KILN_PRAGMA(HLS LOOP_FLATTEN)
                        // nn.kiln:64: for c, i, j in grid(C, H, W):
                        L_c_loop_j: for (int i9_j = 0; i9_j < 3; i9_j += 1) {
                            // nn.kiln:38: return [max(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) for c, i, j in grid(C, H // size, W // size)]
                            l0_max = kiln::cvt<ap_fixed<9, 6> >(kiln::val(lb_x[(i7_c)][((2 * i8_i)) % 2][(2 * i9_j)]));
                            // nn.kiln:38: return [max(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) for c, i, j in grid(C, H // size, W // size)]
                            L_c_loop_u: for (int i5_u = 0; i5_u < 2; i5_u += 1) {
                                // nn.kiln:38: return [max(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) for c, i, j in grid(C, H // size, W // size)]
                                L_c_loop_v: for (int i6_v = 0; i6_v < 2; i6_v += 1) {
                                    // nn.kiln:38: return [max(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) for c, i, j in grid(C, H // size, W // size)]
                                    l0_max = kiln::cvt<ap_fixed<9, 6> >(kiln::max_<kiln::fx<9, 6> >(l0_max, kiln::val(lb_x[(i7_c)][((i5_u + 2 * i8_i)) % 2][(i6_v + 2 * i9_j)])));
                                }
                            }
                            // nn.kiln:38: return [max(x[c, i * size + u, j * size + v] for u, v in grid(size, size)) for c, i, j in grid(C, H // size, W // size)]
                            l1_maxpool2d_out = kiln::cvt<ap_fixed<9, 6> >(l0_max);
                            // nn.kiln:65: y[c * H * W + i * W + j] = x[c, i, j]
                            kiln::put(rb_y[(9 * i7_c + 3 * i8_i + i9_j)], kiln::cvt<ap_fixed<9, 6> >(l1_maxpool2d_out));
                        }
                    }
                }
                k_made0++;
                k_progress = true;
            }
            if (!k_progress) break;
        }
    }
    L_write_y: for (int c0 = 0; c0 < 45; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        y.write(rb_y[c0]);
    }
}

// A dataflow stage fed value by value: `dense` (groups of 45 values of `x`).
static void layer_pipeline_dense_stage7(hls::stream<ap_fixed<9, 6> > &x, ap_fixed<15, 12> result[7]) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<15, 12> t_acc[7];
    static ap_fixed<9, 6> t_x_v[45];
    kiln::fx<15, 12> l0_sum;
    (void)x; (void)result; (void)t_acc; (void)t_x_v; (void)l0_sum;
    // result_store: nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    L_result_store_m_a: for (int i3_m_a = 0; i3_m_a < 7; i3_m_a += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        l0_sum = kiln::cvt<ap_fixed<15, 12> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        kiln::put(t_acc[(i3_m_a)], kiln::cvt<ap_fixed<15, 12> >(l0_sum));
    }
    // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    L_result_store_x_k0: for (int i5_x_k0 = 0; i5_x_k0 < 45; i5_x_k0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        kiln::put(t_x_v[(i5_x_k0)], kiln::cvt<ap_fixed<9, 6> >(kiln::val(x.read())));
    }
    // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    L_result_store_m_m: for (int i7_m_m = 0; i7_m_m < 7; i7_m_m += 1) {
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        L_result_store_n_k0: for (int i6_n_k0 = 0; i6_n_k0 < 45; i6_n_k0 += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            KILN_PRAGMA(HLS LOOP_FLATTEN)
            if (kiln::eq(kiln::from_loop<kiln::ufx<6, 6> >(i6_n_k0), kiln::konst<kiln::ufx<1, 1> >(0ULL))) {
                // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
                l0_sum = kiln::cvt<ap_fixed<15, 12> >(kiln::val(t_acc[(i7_m_m)]));
            }
            // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
            l0_sum = kiln::cvt<ap_fixed<15, 12> >(kiln::add<kiln::fx<15, 12> >(l0_sum, kiln::mul<kiln::fx<10, 7> >(kiln::val(w_wf[(i7_m_m)][(i6_n_k0)]), kiln::val(t_x_v[(i6_n_k0)]))));
            if (kiln::eq(kiln::from_loop<kiln::ufx<6, 6> >(i6_n_k0), kiln::konst<kiln::ufx<6, 6> >(44ULL))) {
                // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
                kiln::put(t_acc[(i7_m_m)], kiln::cvt<ap_fixed<15, 12> >(l0_sum));
            }
        }
    }
    // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    L_result_store_m_e: for (int i8_m_e = 0; i8_m_e < 7; i8_m_e += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        l0_sum = kiln::cvt<ap_fixed<15, 12> >(kiln::val(t_acc[(i8_m_e)]));
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        kiln::put(result[(i8_m_e)], kiln::cvt<ap_fixed<15, 12> >(l0_sum));
    }
}

// layer_pipeline.kiln:17: kernel main(x: int<8>[3, 13, 11] = load("../fixtures/pipe_x.npy")) -> [7]:
void layer_pipeline(const ap_int<8> x[3][13][11], ap_fixed<15, 12> result[7]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=429)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem1 depth=7)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    KILN_PRAGMA(HLS DATAFLOW)
    ap_ufixed<1, -3> t_scale;
    static hls::stream<kiln::vec<ap_fixed<6, 3, AP_RND, AP_SAT>, 4> > t_requantize_out;
    KILN_PRAGMA(HLS STREAM variable=t_requantize_out depth=11)
    ap_ufixed<1, -2> t_scale_2;
    static hls::stream<ap_fixed<6, 3, AP_RND, AP_SAT> > t_requantize_out_2;
    KILN_PRAGMA(HLS STREAM variable=t_requantize_out_2 depth=30)
    ap_ufixed<1, -1> t_scale_3;
    static ap_fixed<6, 3, AP_RND, AP_SAT> t_requantize_out_3[5][7][6];
    static hls::stream<ap_fixed<9, 6> > t_add_out;
    KILN_PRAGMA(HLS STREAM variable=t_add_out depth=30)
    static hls::stream<ap_fixed<9, 6> > t_avgpool2d_out;
    KILN_PRAGMA(HLS STREAM variable=t_avgpool2d_out depth=30)
    static hls::stream<ap_fixed<9, 6> > t_flatten_out;
    KILN_PRAGMA(HLS STREAM variable=t_flatten_out depth=45)
    (void)x; (void)result; (void)t_scale; (void)t_requantize_out; (void)t_scale_2; (void)t_requantize_out_2;
    (void)t_scale_3; (void)t_requantize_out_3; (void)t_add_out; (void)t_avgpool2d_out; (void)t_flatten_out;

    // scale_arg: layer_pipeline.kiln:18: a = requantize[a6](relu(bias_add(conv2d(x, w1, pad=1), b1)), 0.0625)   # [4, 13, 11]
    // layer_pipeline.kiln:18: a = requantize[a6](relu(bias_add(conv2d(x, w1, pad=1), b1)), 0.0625)   # [4, 13, 11]
    kiln::put(t_scale, kiln::cvt<ap_ufixed<1, -3> >(kiln::konst<kiln::ufx<1, -3> >(1ULL)));

    // layer_pipeline.kiln:18: a = requantize[a6](relu(bias_add(conv2d(x, w1, pad=1), b1)), 0.0625)   # [4, 13, 11]
    layer_pipeline_conv2d_bias_add_relu_requantize_stage1(x, t_scale, t_requantize_out);

    // scale_arg: layer_pipeline.kiln:19: b = requantize[a6](conv2d(a, w2, stride=2, pad=2), 0.125)               # [5, 7, 6]
    // layer_pipeline.kiln:19: b = requantize[a6](conv2d(a, w2, stride=2, pad=2), 0.125)               # [5, 7, 6]
    kiln::put(t_scale_2, kiln::cvt<ap_ufixed<1, -2> >(kiln::konst<kiln::ufx<1, -2> >(1ULL)));

    // layer_pipeline.kiln:19: b = requantize[a6](conv2d(a, w2, stride=2, pad=2), 0.125)               # [5, 7, 6]
    layer_pipeline_conv2d_1_requantize_1_stage2(t_requantize_out, t_scale_2, t_requantize_out_2);

    // scale_arg: layer_pipeline.kiln:20: c = requantize[a6](depthwise_conv2d(b, wd, pad=1), 0.25)                # [5, 7, 6]
    // layer_pipeline.kiln:20: c = requantize[a6](depthwise_conv2d(b, wd, pad=1), 0.25)                # [5, 7, 6]
    kiln::put(t_scale_3, kiln::cvt<ap_ufixed<1, -1> >(kiln::konst<kiln::ufx<1, -1> >(1ULL)));

    // layer_pipeline.kiln:20: c = requantize[a6](depthwise_conv2d(b, wd, pad=1), 0.25)                # [5, 7, 6]
    layer_pipeline_depthwise_conv2d_requantize_2_stage3(t_requantize_out_2, t_scale_3, t_requantize_out_3);

    // layer_pipeline.kiln:21: d = add(c, conv2d(c, w3))                                               # [5, 7, 6]
    layer_pipeline_conv2d_2_add_stage4(t_requantize_out_3, t_requantize_out_3, t_add_out);

    // layer_pipeline.kiln:22: e = maxpool2d(avgpool2d(d, 1), 2)                                       # [5, 3, 3]
    layer_pipeline_avgpool2d_stage5(t_add_out, t_avgpool2d_out);

    // layer_pipeline.kiln:22: e = maxpool2d(avgpool2d(d, 1), 2)                                       # [5, 3, 3]
    layer_pipeline_maxpool2d_flatten_stage6(t_avgpool2d_out, t_flatten_out);

    // layer_pipeline.kiln:23: return dense(flatten(e), wf)
    layer_pipeline_dense_stage7(t_flatten_out, result);
}

