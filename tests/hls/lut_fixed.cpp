// lut_fixed.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "lut_fixed.h"
#include "lut_fixed_weights.h"

// lut_fixed.kiln:6: kernel main(x: act[8] = load("../fixtures/lut_x8.npy")) -> ([8], [8], [8], [8], [8]):
void lut_fixed(const ap_fixed<12, 5> x[8], ap_ufixed<18, 0> s[8], ap_fixed<18, 1> t[8], ap_ufixed<18, 0> e[8], ap_ufixed<8, 0> coarse[8], ap_fixed<18, 1> z[8]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=s offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=t offset=slave bundle=gmem2 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=e offset=slave bundle=gmem3 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=coarse offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=z offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    (void)x; (void)s; (void)t; (void)e; (void)coarse; (void)z;

    // s_assign: lut_fixed.kiln:7: s = sigmoid(x)
    // lut_fixed.kiln:7: s = sigmoid(x)
    L_s_assign_i0: for (int i0_i0 = 0; i0_i0 < 8; i0_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // lut_fixed.kiln:7: s = sigmoid(x)
        kiln::put(s[(i0_i0)], kiln::cvt<ap_ufixed<18, 0> >(kiln::val(w_sigmoid_table[(kiln::cvt_int<ap_uint<10> >(kiln::shl<kiln::ufx<17, 10> >(kiln::sub<kiln::ufx<11, 4> >(kiln::min_<kiln::fx<11, 4> >(kiln::max_<kiln::fx<12, 5> >(kiln::val(x[(i0_i0)]), kiln::konst<kiln::fx<4, 4> >(8ULL)), kiln::konst<kiln::ufx<9, 3> >(511ULL)), kiln::konst<kiln::fx<4, 4> >(8ULL)), kiln::shift_amount(kiln::konst<kiln::ufx<3, 3> >(6ULL))))).to_int64()])));
    }

    // t_assign: lut_fixed.kiln:8: t = tanh(x)
    // lut_fixed.kiln:8: t = tanh(x)
    L_t_assign_i0: for (int i1_i0 = 0; i1_i0 < 8; i1_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // lut_fixed.kiln:8: t = tanh(x)
        kiln::put(t[(i1_i0)], kiln::cvt<ap_fixed<18, 1> >(kiln::val(w_tanh_table[(kiln::cvt_int<ap_uint<10> >(kiln::shl<kiln::ufx<17, 10> >(kiln::sub<kiln::ufx<11, 4> >(kiln::min_<kiln::fx<11, 4> >(kiln::max_<kiln::fx<12, 5> >(kiln::val(x[(i1_i0)]), kiln::konst<kiln::fx<4, 4> >(8ULL)), kiln::konst<kiln::ufx<9, 3> >(511ULL)), kiln::konst<kiln::fx<4, 4> >(8ULL)), kiln::shift_amount(kiln::konst<kiln::ufx<3, 3> >(6ULL))))).to_int64()])));
    }

    // e_assign: lut_fixed.kiln:9: e = [exp(x[i], lo=-8, hi=0) for i in range(8)]
    // lut_fixed.kiln:9: e = [exp(x[i], lo=-8, hi=0) for i in range(8)]
    L_e_assign_i: for (int i2_i = 0; i2_i < 8; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // lut_fixed.kiln:9: e = [exp(x[i], lo=-8, hi=0) for i in range(8)]
        kiln::put(e[(i2_i)], kiln::cvt<ap_ufixed<18, 0> >(kiln::val(w_exp_table[(kiln::cvt_int<ap_uint<10> >(kiln::shl<kiln::ufx<17, 10> >(kiln::sub<kiln::ufx<10, 3> >(kiln::min_<kiln::fx<11, 4> >(kiln::max_<kiln::fx<12, 5> >(kiln::val(x[(i2_i)]), kiln::konst<kiln::fx<4, 4> >(8ULL)), kiln::konst<kiln::fx<1, -6> >(1ULL)), kiln::konst<kiln::fx<4, 4> >(8ULL)), kiln::shift_amount(kiln::konst<kiln::ufx<3, 3> >(7ULL))))).to_int64()])));
    }

    // coarse_assign: lut_fixed.kiln:10: coarse = [sigmoid(x[i], size=64, lo=-4, hi=4, bits=8) for i in range(8)]
    // lut_fixed.kiln:10: coarse = [sigmoid(x[i], size=64, lo=-4, hi=4, bits=8) for i in range(8)]
    L_coarse_assign_i: for (int i3_i = 0; i3_i < 8; i3_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // lut_fixed.kiln:10: coarse = [sigmoid(x[i], size=64, lo=-4, hi=4, bits=8) for i in range(8)]
        kiln::put(coarse[(i3_i)], kiln::cvt<ap_ufixed<8, 0> >(kiln::val(w_sigmoid_table_2[(kiln::cvt_int<ap_uint<6> >(kiln::shl<kiln::ufx<13, 6> >(kiln::sub<kiln::ufx<10, 3> >(kiln::min_<kiln::fx<10, 3> >(kiln::max_<kiln::fx<12, 5> >(kiln::val(x[(i3_i)]), kiln::konst<kiln::fx<3, 3> >(4ULL)), kiln::konst<kiln::ufx<5, 2> >(31ULL)), kiln::konst<kiln::fx<3, 3> >(4ULL)), kiln::shift_amount(kiln::konst<kiln::ufx<2, 2> >(3ULL))))).to_int64()])));
    }

    // z_assign: lut_fixed.kiln:11: z = [tanh(x[i] * 2, size=256, lo=-2, hi=2) for i in range(8)]
    // lut_fixed.kiln:11: z = [tanh(x[i] * 2, size=256, lo=-2, hi=2) for i in range(8)]
    L_z_assign_i: for (int i4_i = 0; i4_i < 8; i4_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // lut_fixed.kiln:11: z = [tanh(x[i] * 2, size=256, lo=-2, hi=2) for i in range(8)]
        kiln::put(z[(i4_i)], kiln::cvt<ap_fixed<18, 1> >(kiln::val(w_tanh_table_2[(kiln::cvt_int<ap_uint<8> >(kiln::shl<kiln::ufx<15, 8> >(kiln::sub<kiln::ufx<9, 2> >(kiln::min_<kiln::fx<9, 2> >(kiln::max_<kiln::fx<13, 6> >(kiln::mul<kiln::fx<13, 6> >(kiln::val(x[(i4_i)]), kiln::konst<kiln::ufx<2, 2> >(2ULL)), kiln::konst<kiln::fx<2, 2> >(2ULL)), kiln::konst<kiln::ufx<7, 1> >(127ULL)), kiln::konst<kiln::fx<2, 2> >(2ULL)), kiln::shift_amount(kiln::konst<kiln::ufx<3, 3> >(6ULL))))).to_int64()])));
    }
}

