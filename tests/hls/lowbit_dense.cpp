// lowbit_dense.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "lowbit_dense.h"
#include "lowbit_dense_weights.h"

static void lowbit_dense_dense_1(const ap_uint<1> x[130], ap_int<8> result[5]);

static void lowbit_dense_dense_bias_dense_add_main_result_store(const ap_uint<1> x[130], const ap_uint<1> x_2[130], const ap_uint<1> w[7][130], const ap_int<8> dense_out[5], ap_int<10> result[7]);

// nn.kiln:21: kernel dense[T, U](x: T[N], w: U[M, N]) -> [M]:
// instance of `dense` with N=130, M=5, T=bin, U=tern
static void lowbit_dense_dense_1(const ap_uint<1> x[130], ap_int<8> result[5]) {
    static ap_uint<1> t_x_buf[130];
    kiln::fx<8, 8> l0_sum;
    (void)x; (void)result; (void)t_x_buf; (void)l0_sum;

    // result_store: nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    // nn.kiln:21: kernel dense[T, U](x: T[N], w: U[M, N]) -> [M]:
    L_result_store_x_b0: for (int i3_x_b0 = 0; i3_x_b0 < 130; i3_x_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:21: kernel dense[T, U](x: T[N], w: U[M, N]) -> [M]:
        t_x_buf[(i3_x_b0)] = kiln::bin_bit(kiln::bin_val(x[(i3_x_b0)]));
    }
    // `x_buf` packed along dimension 0 into words of 64 values (bin: the storage bit)
    static kiln::word pk_t_x_buf_0[3];
    L_pack_pk_t_x_buf_0: for (int pq = 0; pq < 3; pq += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        kiln::word b = 0, m = 0;
        (void)m;
        for (int pb = 0; pb < 64; pb += 1) {
            KILN_PRAGMA(HLS UNROLL)
            if (64 * pq + pb < 130) {
                b = kiln::set_bit(b, pb, !kiln::is_neg(kiln::bin_val(t_x_buf[64 * pq + pb])));
            }
        }
        pk_t_x_buf_0[pq] = b;
    }
    // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
    L_result_store_m: for (int i0_m = 0; i0_m < 5; i0_m += 1) {
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        l0_sum = kiln::cvt_int<ap_int<8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        L_result_store_n: for (int i2_n = 0; i2_n < 3; i2_n += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
            l0_sum = kiln::cvt_int<ap_int<8> >(kiln::add<kiln::fx<8, 8> >(l0_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::trit_bin_dot(w_wt_pk1_m[(i0_m)][i2_n], w_wt_pk1[(i0_m)][i2_n], pk_t_x_buf_0[i2_n]))));
        }
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        kiln::put(result[(i0_m)], kiln::cvt_int<ap_int<8> >(l0_sum));
    }
}

// nn.kiln:25: kernel dense_bias[T, U, B](x: T[N], w: U[M, N], b: B[M]) -> [M]:
// instance of `dense_bias+dense+add+main` with N=130, M=7, T=bin, U=bin, B=int<8>; N=130, M=7, T=bin, U=bin; T=int<9>, U=int<9>; node `result_store` of `main`
static void lowbit_dense_dense_bias_dense_add_main_result_store(const ap_uint<1> x[130], const ap_uint<1> x_2[130], const ap_uint<1> w[7][130], const ap_int<8> dense_out[5], ap_int<10> result[7]) {
    static ap_uint<1> t_x_buf[130];
    static ap_uint<1> t_x_buf_2[130];
    kiln::fx<9, 9> l0_sum;
    kiln::fx<9, 9> l1_sum;
    kiln::fx<9, 9> l2_dense_out;
    kiln::fx<9, 9> l3_dense_bias_out;
    kiln::fx<10, 10> l4_dense_bias_dense_add_out;
    (void)x; (void)x_2; (void)w; (void)dense_out; (void)result; (void)t_x_buf;
    (void)t_x_buf_2; (void)l0_sum; (void)l1_sum; (void)l2_dense_out; (void)l3_dense_bias_out; (void)l4_dense_bias_dense_add_out;

    // result_store: lowbit_dense.kiln:14: return [y[i] + z[i % 5] for i in range(7)]
    // nn.kiln:21: kernel dense[T, U](x: T[N], w: U[M, N]) -> [M]:
    L_result_store_x_b0: for (int i9_x_b0 = 0; i9_x_b0 < 130; i9_x_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:21: kernel dense[T, U](x: T[N], w: U[M, N]) -> [M]:
        t_x_buf_2[(i9_x_b0)] = kiln::bin_bit(kiln::bin_val(x_2[(i9_x_b0)]));
    }
    // nn.kiln:25: kernel dense_bias[T, U, B](x: T[N], w: U[M, N], b: B[M]) -> [M]:
    L_result_store_x_b0_2: for (int i8_x_b0 = 0; i8_x_b0 < 130; i8_x_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:25: kernel dense_bias[T, U, B](x: T[N], w: U[M, N], b: B[M]) -> [M]:
        t_x_buf[(i8_x_b0)] = kiln::bin_bit(kiln::bin_val(x[(i8_x_b0)]));
    }
    // `x_buf` packed along dimension 0 into words of 64 values (bin: the storage bit)
    static kiln::word pk_t_x_buf_0[3];
    L_pack_pk_t_x_buf_0: for (int pq = 0; pq < 3; pq += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        kiln::word b = 0, m = 0;
        (void)m;
        for (int pb = 0; pb < 64; pb += 1) {
            KILN_PRAGMA(HLS UNROLL)
            if (64 * pq + pb < 130) {
                b = kiln::set_bit(b, pb, !kiln::is_neg(kiln::bin_val(t_x_buf[64 * pq + pb])));
            }
        }
        pk_t_x_buf_0[pq] = b;
    }
    // `w` packed along dimension 1 into words of 64 values (bin: the storage bit)
    static kiln::word pk_w_1[7][3];
    L_pack_pk_w_1: for (int p0 = 0; p0 < 7; p0 += 1) {
        for (int pq = 0; pq < 3; pq += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            kiln::word b = 0, m = 0;
            (void)m;
            for (int pb = 0; pb < 64; pb += 1) {
                KILN_PRAGMA(HLS UNROLL)
                if (64 * pq + pb < 130) {
                    b = kiln::set_bit(b, pb, !kiln::is_neg(kiln::bin_val(w[p0][64 * pq + pb])));
                }
            }
            pk_w_1[p0][pq] = b;
        }
    }
    // `x_buf` packed along dimension 0 into words of 64 values (bin: the storage bit)
    static kiln::word pk_t_x_buf_2_0[3];
    L_pack_pk_t_x_buf_2_0: for (int pq = 0; pq < 3; pq += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        kiln::word b = 0, m = 0;
        (void)m;
        for (int pb = 0; pb < 64; pb += 1) {
            KILN_PRAGMA(HLS UNROLL)
            if (64 * pq + pb < 130) {
                b = kiln::set_bit(b, pb, !kiln::is_neg(kiln::bin_val(t_x_buf_2[64 * pq + pb])));
            }
        }
        pk_t_x_buf_2_0[pq] = b;
    }
    // lowbit_dense.kiln:14: return [y[i] + z[i % 5] for i in range(7)]
    L_result_store_i: for (int i7_i = 0; i7_i < 7; i7_i += 1) {
        // nn.kiln:26: return [sum(w[m, n] * x[n] for n in range(N)) + b[m] for m in grid(M)]
        l0_sum = kiln::cvt_int<ap_int<9> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // nn.kiln:26: return [sum(w[m, n] * x[n] for n in range(N)) + b[m] for m in grid(M)]
        L_result_store_n: for (int i2_n = 0; i2_n < 3; i2_n += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // nn.kiln:26: return [sum(w[m, n] * x[n] for n in range(N)) + b[m] for m in grid(M)]
            l0_sum = kiln::cvt_int<ap_int<9> >(kiln::add<kiln::fx<9, 9> >(l0_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::bin_dot(w_wr_pk1[(i7_i)][i2_n], pk_t_x_buf_0[i2_n], kiln::word_bits(i2_n, 130)))));
        }
        // nn.kiln:26: return [sum(w[m, n] * x[n] for n in range(N)) + b[m] for m in grid(M)]
        l3_dense_bias_out = kiln::cvt_int<ap_int<9> >(kiln::add<kiln::fx<9, 9> >(l0_sum, kiln::to_fixed<kiln::fx<5, 5> >(kiln::val(w_b[(i7_i)]))));
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        l1_sum = kiln::cvt_int<ap_int<9> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        L_result_store_n_2: for (int i5_n = 0; i5_n < 3; i5_n += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
            l1_sum = kiln::cvt_int<ap_int<9> >(kiln::add<kiln::fx<9, 9> >(l1_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::bin_dot(pk_w_1[(i7_i)][i5_n], pk_t_x_buf_2_0[i5_n], kiln::word_bits(i5_n, 130)))));
        }
        // nn.kiln:22: return [sum(w[m, n] * x[n] for n in range(N)) for m in grid(M)]
        l2_dense_out = kiln::cvt_int<ap_int<9> >(l1_sum);
        // nn.kiln:59: return a + b
        l4_dense_bias_dense_add_out = kiln::cvt_int<ap_int<10> >(kiln::add<kiln::fx<10, 10> >(l2_dense_out, l3_dense_bias_out));
        // lowbit_dense.kiln:14: return [y[i] + z[i % 5] for i in range(7)]
        kiln::put(result[(i7_i)], kiln::cvt_int<ap_int<10> >(kiln::add<kiln::fx<10, 10> >(l4_dense_bias_dense_add_out, kiln::val(dense_out[(kiln::mod<kiln::ufx<3, 3> >(kiln::from_loop<kiln::ufx<3, 3> >(i7_i), kiln::konst<kiln::ufx<3, 3> >(5ULL))).to_int64()]))));
    }
}

// A dataflow stage: `lowbit_dense_dense_1` between streams.
static void lowbit_dense_dense_1_stage1(const ap_uint<1> x[130], hls::stream<ap_int<8> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<8> b_result[5];
    lowbit_dense_dense_1(x, b_result);
    // write `result`
    L_write_result: for (int c0 = 0; c0 < 5; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        result.write(b_result[c0]);
    }
}

// A dataflow stage: `lowbit_dense_dense_bias_dense_add_main_result_store` between streams.
static void lowbit_dense_dense_bias_dense_add_main_result_store_stage2(const ap_uint<1> x[130], const ap_uint<1> x_2[130], const ap_uint<1> w[7][130], hls::stream<ap_int<8> > &dense_out, ap_int<10> result[7]) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<8> b_dense_out[5];
    // read `dense_out`
    L_read_dense_out: for (int c0 = 0; c0 < 5; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        b_dense_out[c0] = dense_out.read();
    }
    lowbit_dense_dense_bias_dense_add_main_result_store(x, x_2, w, b_dense_out, result);
}

// lowbit_dense.kiln:10: kernel main(v: bin[130] = load("../fixtures/bin_130.npy"),
void lowbit_dense(const ap_uint<1> v[130], const ap_uint<1> w[7][130], ap_int<10> result[7]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=v offset=slave bundle=gmem0 depth=130)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=w offset=slave bundle=gmem1 depth=910)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem2 depth=7)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    KILN_PRAGMA(HLS DATAFLOW)
    static hls::stream<ap_int<8> > t_dense_out_2;
    KILN_PRAGMA(HLS STREAM variable=t_dense_out_2 depth=5)
    (void)v; (void)w; (void)result; (void)t_dense_out_2;

    // lowbit_dense.kiln:13: z = dense(v, wt)
    lowbit_dense_dense_1_stage1(v, t_dense_out_2);

    // lowbit_dense.kiln:12: y = add(dense(v, w), dense_bias(v, wr, b))
    lowbit_dense_dense_bias_dense_add_main_result_store_stage2(v, v, w, t_dense_out_2, result);
}

