// tensor_in_loop.cpp: the kernel `tensor_in_loop` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "tensor_in_loop.h"
#include "tensor_in_loop_weights.h"

// tensor_in_loop.kiln:5: kernel tensor_in_loop(a: int<8>[4, 4] = load("../fixtures/i8_4x4.npy")) -> (int<16>[4], int<16>[4]):
void tensor_in_loop(const ap_int<8> a[4][4], ap_int<16> y[4], ap_int<16> z[4]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem0 depth=16)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=y offset=slave bundle=gmem1 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=z offset=slave bundle=gmem2 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<8> t_t[4];
    static ap_int<10> t_u[4];
    kiln::fx<10, 10> l0_sum;
    kiln::fx<12, 12> l1_sum;
    (void)a; (void)y; (void)z; (void)t_t; (void)t_u; (void)l0_sum;
    (void)l1_sum;

    // i_loop: tensor_in_loop.kiln:8: for i in range(4):
    // tensor_in_loop.kiln:8: for i in range(4):
    L_i_loop_i: for (int i0_i = 0; i0_i < 4; i0_i += 1) {
        // tensor_in_loop.kiln:9: t: int<8>[4]
        L_i_loop_i0: for (int i1_i0 = 0; i1_i0 < 4; i1_i0 += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // tensor_in_loop.kiln:9: t: int<8>[4]
            kiln::put(t_t[(i1_i0)], kiln::cvt_int<ap_int<8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)));
        }
        // tensor_in_loop.kiln:10: for j in range(i + 1):
        L_i_loop_j: for (int i2_j = 0; i2_j < (i0_i + 1); i2_j += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // tensor_in_loop.kiln:11: t[j] = a[i, j]
            kiln::put(t_t[(i2_j)], kiln::cvt_int<ap_int<8> >(kiln::val(a[(i0_i)][(i2_j)])));
        }
        // tensor_in_loop.kiln:12: y[i] = sum(t)
        l0_sum = kiln::cvt_int<ap_int<10> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // tensor_in_loop.kiln:12: y[i] = sum(t)
        L_i_loop_i0_2: for (int i3_i0 = 0; i3_i0 < 4; i3_i0 += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // tensor_in_loop.kiln:12: y[i] = sum(t)
            l0_sum = kiln::cvt_int<ap_int<10> >(kiln::add<kiln::fx<10, 10> >(l0_sum, kiln::val(t_t[(i3_i0)])));
        }
        // tensor_in_loop.kiln:12: y[i] = sum(t)
        kiln::put(y[(i0_i)], kiln::cvt_int<ap_int<16> >(l0_sum));
        // tensor_in_loop.kiln:13: u: int<10>[4] = a[i, :] * 2
        L_i_loop_i0_3: for (int i4_i0 = 0; i4_i0 < 4; i4_i0 += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // tensor_in_loop.kiln:13: u: int<10>[4] = a[i, :] * 2
            kiln::put(t_u[(i4_i0)], kiln::cvt_int<ap_int<10> >(kiln::mul<kiln::fx<9, 9> >(kiln::val(a[(i0_i)][(i4_i0)]), kiln::konst<kiln::ufx<2, 2> >(2ULL))));
        }
        // tensor_in_loop.kiln:14: u[i] = 0
        kiln::put(t_u[(i0_i)], kiln::cvt_int<ap_int<10> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)));
        // tensor_in_loop.kiln:15: z[i] = sum(u)
        l1_sum = kiln::cvt_int<ap_int<12> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // tensor_in_loop.kiln:15: z[i] = sum(u)
        L_i_loop_i0_4: for (int i5_i0 = 0; i5_i0 < 4; i5_i0 += 1) {
            KILN_PRAGMA(HLS PIPELINE II=1)
            // tensor_in_loop.kiln:15: z[i] = sum(u)
            l1_sum = kiln::cvt_int<ap_int<12> >(kiln::add<kiln::fx<12, 12> >(l1_sum, kiln::val(t_u[(i5_i0)])));
        }
        // tensor_in_loop.kiln:15: z[i] = sum(u)
        kiln::put(z[(i0_i)], kiln::cvt_int<ap_int<16> >(l1_sum));
    }
}

