// bits.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "bits.h"
#include "bits_weights.h"

// bits.kiln:4: kernel main(x: uint<16>[16] = load("../fixtures/u16_16.npy")) -> (uint<16>[16], uint<16>, uint<8>):
void bits(const ap_uint<16> x[16], ap_uint<16> y[16], ap_uint<16> &result1, ap_uint<8> &result2) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=16)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=y offset=slave bundle=gmem1 depth=16)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=result1)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=result2)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    ap_uint<256> t_w;
    ap_uint<256> t_w_2;
    ap_uint<256> t_w_3;
    kiln::ufx<256, 256> l0_w;
    kiln::ufx<256, 256> l1_w;
    kiln::ufx<256, 256> l2_w;
    kiln::ufx<256, 256> l3_w;
    kiln::ufx<256, 256> l4_w;
    (void)x; (void)y; (void)result1; (void)result2; (void)t_w; (void)t_w_2;
    (void)t_w_3; (void)l0_w; (void)l1_w; (void)l2_w; (void)l3_w; (void)l4_w;

    // w_init: bits.kiln:5: w: uint<256> = 0
    // bits.kiln:5: w: uint<256> = 0
    l0_w = kiln::cvt_int<ap_uint<256> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // bits.kiln:5: w: uint<256> = 0
    kiln::put(t_w, kiln::cvt_int<ap_uint<256> >(kiln::to_fixed<kiln::ufx<1, 1> >(l0_w)));

    // k_loop: bits.kiln:6: for k in range(16):
    // bits.kiln:5: w: uint<256> = 0
    l1_w = kiln::cvt_int<ap_uint<256> >(kiln::to_fixed<kiln::ufx<1, 1> >(kiln::val(t_w)));
    // bits.kiln:6: for k in range(16):
    L_k_loop_k: for (int i0_k = 0; i0_k < 16; i0_k += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // bits.kiln:7: w |= uint<256>(x[k]) << (16 * k)
        l1_w = kiln::cvt_int<ap_uint<256> >(kiln::to_fixed<kiln::ufx<256, 256> >(kiln::bor(l1_w, kiln::shl<kiln::ufx<256, 256> >(kiln::to_fixed<kiln::ufx<16, 16> >(kiln::cvt_int<ap_uint<256> >(kiln::val(x[(i0_k)]))), kiln::shift_amount(kiln::mul<kiln::ufx<8, 8> >(kiln::konst<kiln::ufx<5, 5> >(16ULL), kiln::from_loop<kiln::ufx<4, 4> >(i0_k)))))));
    }
    // bits.kiln:5: w: uint<256> = 0
    kiln::put(t_w_2, kiln::cvt_int<ap_uint<256> >(l1_w));

    // y_assign: bits.kiln:8: y = [bits(w, 16 * k + 15, 16 * k) for k in range(16)]
    // bits.kiln:5: w: uint<256> = 0
    l2_w = kiln::cvt_int<ap_uint<256> >(kiln::val(t_w_2));
    // bits.kiln:8: y = [bits(w, 16 * k + 15, 16 * k) for k in range(16)]
    L_y_assign_k: for (int i1_k = 0; i1_k < 16; i1_k += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // bits.kiln:8: y = [bits(w, 16 * k + 15, 16 * k) for k in range(16)]
        kiln::put(y[(i1_k)], kiln::cvt_int<ap_uint<16> >(kiln::to_fixed<kiln::ufx<16, 16> >(kiln::band(kiln::shr<kiln::ufx<256, 256> >(l2_w, kiln::shift_amount(kiln::mul<kiln::ufx<8, 8> >(kiln::konst<kiln::ufx<5, 5> >(16ULL), kiln::from_loop<kiln::ufx<4, 4> >(i1_k)))), kiln::konst<kiln::ufx<16, 16> >(65535ULL)))));
    }
    // bits.kiln:5: w: uint<256> = 0
    kiln::put(t_w_3, kiln::cvt_int<ap_uint<256> >(l2_w));

    // result1_store: bits.kiln:9: return y, bits(w, 255, 240), bits(w, 131, 124)
    // bits.kiln:5: w: uint<256> = 0
    l3_w = kiln::cvt_int<ap_uint<256> >(kiln::val(t_w_3));
    // bits.kiln:9: return y, bits(w, 255, 240), bits(w, 131, 124)
    kiln::put(result1, kiln::cvt_int<ap_uint<16> >(kiln::to_fixed<kiln::ufx<16, 16> >(kiln::band(kiln::shr<kiln::ufx<16, 16> >(l3_w, kiln::shift_amount(kiln::konst<kiln::ufx<8, 8> >(240ULL))), kiln::konst<kiln::ufx<16, 16> >(65535ULL)))));

    // result2_store: bits.kiln:9: return y, bits(w, 255, 240), bits(w, 131, 124)
    // bits.kiln:5: w: uint<256> = 0
    l4_w = kiln::cvt_int<ap_uint<256> >(kiln::val(t_w_3));
    // bits.kiln:9: return y, bits(w, 255, 240), bits(w, 131, 124)
    kiln::put(result2, kiln::cvt_int<ap_uint<8> >(kiln::to_fixed<kiln::ufx<8, 8> >(kiln::band(kiln::shr<kiln::ufx<132, 132> >(l4_w, kiln::shift_amount(kiln::konst<kiln::ufx<7, 7> >(124ULL))), kiln::konst<kiln::ufx<8, 8> >(255ULL)))));
}

