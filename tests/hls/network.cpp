// network.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "network.h"
#include "network_weights.h"

static void network_mix(const ap_int<8> x[8], ap_int<15> result[8]);

// network.kiln:3: kernel mix(x: int<8>[8]) -> [8]:
static void network_mix(const ap_int<8> x[8], ap_int<15> result[8]) {
    static ap_int<8> t_x_buf[8];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_x_buf type=cyclic factor=4 dim=1)
    kiln::fx<15, 15> l0_sum;
    (void)x; (void)result; (void)t_x_buf; (void)l0_sum;

    // result_store: network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
    // network.kiln:3: kernel mix(x: int<8>[8]) -> [8]:
    L_result_store_x_b0: for (int i3_x_b0 = 0; i3_x_b0 < 8; i3_x_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // network.kiln:3: kernel mix(x: int<8>[8]) -> [8]:
        kiln::put(t_x_buf[(i3_x_b0)], kiln::cvt_int<ap_int<8> >(kiln::val(x[(i3_x_b0)])));
    }
    // network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
    L_result_store_i: for (int i0_i = 0; i0_i < 8; i0_i += 1) {
        // network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
        L_result_store_j_o: for (int i4_j_o = 0; i4_j_o < 2; i4_j_o += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            KILN_PRAGMA(HLS LOOP_FLATTEN)
            if (kiln::eq(kiln::from_loop<kiln::ufx<1, 1> >(i4_j_o), kiln::konst<kiln::ufx<1, 1> >(0ULL))) {
                // network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
                l0_sum = kiln::cvt_int<ap_int<15> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
            }
            // network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
            L_result_store_j_i: for (int i2_j_i = (4 * i4_j_o); i2_j_i < (4 * i4_j_o + 4); i2_j_i += 1) {
                // network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
                l0_sum = kiln::cvt_int<ap_int<15> >(kiln::add<kiln::fx<15, 15> >(l0_sum, kiln::mul<kiln::fx<12, 12> >(kiln::val(t_x_buf[(i2_j_i)]), kiln::add<kiln::ufx<4, 4> >(kiln::from_loop<kiln::ufx<3, 3> >(i0_i), kiln::from_loop<kiln::ufx<3, 3> >(i2_j_i)))));
            }
            if (kiln::eq(kiln::from_loop<kiln::ufx<1, 1> >(i4_j_o), kiln::konst<kiln::ufx<1, 1> >(1ULL))) {
                // network.kiln:4: return [sum(x[j] * (i + j) for j in range(8)) for i in range(8)]
                kiln::put(result[(i0_i)], kiln::cvt_int<ap_int<15> >(l0_sum));
            }
        }
    }
}

// A dataflow stage: `network_mix` between streams.
static void network_mix_stage1(const ap_int<8> x[8], hls::stream<ap_int<15> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<15> b_result[8];
    network_mix(x, b_result);
    // write `result`
    L_write_result: for (int c0 = 0; c0 < 8; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        result.write(b_result[c0]);
    }
}

// A dataflow stage fed value by value: `spread` (groups of 8 values of `x`).
static void network_spread_stage2(hls::stream<ap_int<15> > &x, ap_int<21> result[8]) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<21> t_acc[8];
    static ap_int<15> t_x_v[8];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_x_v type=complete dim=1)
    kiln::fx<21, 21> l0_sum;
    (void)x; (void)result; (void)t_acc; (void)t_x_v; (void)l0_sum;
    // result_store: network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
    // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
    L_result_store_i_a: for (int i3_i_a = 0; i3_i_a < 8; i3_i_a += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        l0_sum = kiln::cvt_int<ap_int<21> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        kiln::put(t_acc[(i3_i_a)], kiln::cvt_int<ap_int<21> >(l0_sum));
    }
    // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
    L_result_store_x_k0: for (int i5_x_k0 = 0; i5_x_k0 < 8; i5_x_k0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        kiln::put(t_x_v[(i5_x_k0)], kiln::cvt_int<ap_int<15> >(kiln::val(x.read())));
    }
    // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
    L_result_store_i_m: for (int i7_i_m = 0; i7_i_m < 8; i7_i_m += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        l0_sum = kiln::cvt_int<ap_int<21> >(kiln::val(t_acc[(i7_i_m)]));
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        L_result_store_j_k0: for (int i6_j_k0 = 0; i6_j_k0 < 8; i6_j_k0 += 1) {
            // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
            l0_sum = kiln::cvt_int<ap_int<21> >(kiln::add<kiln::fx<21, 21> >(l0_sum, kiln::mul<kiln::fx<18, 18> >(kiln::val(t_x_v[(i6_j_k0)]), kiln::sub<kiln::fx<4, 4> >(kiln::from_loop<kiln::ufx<3, 3> >(i7_i_m), kiln::from_loop<kiln::ufx<3, 3> >(i6_j_k0)))));
        }
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        kiln::put(t_acc[(i7_i_m)], kiln::cvt_int<ap_int<21> >(l0_sum));
    }
    // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
    L_result_store_i_e: for (int i8_i_e = 0; i8_i_e < 8; i8_i_e += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        l0_sum = kiln::cvt_int<ap_int<21> >(kiln::val(t_acc[(i8_i_e)]));
        // network.kiln:7: return [sum(x[j] * (i - j) for j in range(8)) for i in range(8)]
        kiln::put(result[(i8_i_e)], kiln::cvt_int<ap_int<21> >(l0_sum));
    }
}

// network.kiln:9: kernel main(x: int<8>[8] = load("../fixtures/i8_8.npy")) -> [8]:
void network(const ap_int<8> x[8], ap_int<21> result[8]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    KILN_PRAGMA(HLS DATAFLOW)
    static hls::stream<ap_int<15> > t_mix_out;
    KILN_PRAGMA(HLS STREAM variable=t_mix_out depth=8)
    (void)x; (void)result; (void)t_mix_out;

    // network.kiln:10: return spread(mix(x))
    network_mix_stage1(x, t_mix_out);

    // network.kiln:10: return spread(mix(x))
    network_spread_stage2(t_mix_out, result);
}

