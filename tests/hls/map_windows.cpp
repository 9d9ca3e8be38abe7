// map_windows.cpp: the kernel `map_windows` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "map_windows.h"
#include "map_windows_weights.h"

// map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
void map_windows(const ap_int<8> img[8][9], const ap_int<8> w[3][3], ap_int<19> a[6][7], ap_int<10> c[3][3], ap_int<12> d[4]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=img offset=slave bundle=gmem0 depth=72)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=w offset=slave bundle=gmem1 depth=9)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem2 depth=42)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=c offset=slave bundle=gmem3 depth=9)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=d offset=slave bundle=gmem0 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<8> t_img_buf[8][9];
    static ap_int<8> t_w_buf[3][3];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_img_buf type=cyclic factor=3 dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_img_buf type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_w_buf type=complete dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_w_buf type=complete dim=2)
    kiln::fx<19, 19> l0_sum;
    kiln::fx<10, 10> l1_sum;
    kiln::fx<8, 8> l2_max;
    (void)img; (void)w; (void)a; (void)c; (void)d; (void)t_img_buf;
    (void)t_w_buf; (void)l0_sum; (void)l1_sum; (void)l2_max;

    // a_assign: map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
    // map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
    L_a_assign_w_b0: for (int i11_w_b0 = 0; i11_w_b0 < 3; i11_w_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
        L_a_assign_w_b1: for (int i12_w_b1 = 0; i12_w_b1 < 3; i12_w_b1 += 1) {
            // map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
            kiln::put(t_w_buf[(i11_w_b0)][(i12_w_b1)], kiln::cvt_int<ap_int<8> >(kiln::val(w[(i11_w_b0)][(i12_w_b1)])));
        }
    }
    // map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
    L_a_assign_img_b0: for (int i9_img_b0 = 0; i9_img_b0 < 8; i9_img_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
        L_a_assign_img_b1: for (int i10_img_b1 = 0; i10_img_b1 < 9; i10_img_b1 += 1) {
            // map_windows.kiln:3: kernel map_windows(img: int<8>[8, 9] = load("../fixtures/i8_8x9.npy"), w: int<8>[3, 3] = load("../fixtures/i8_3x3_w.npy")) -> ([6, 7], [3, 3], [4]):
            kiln::put(t_img_buf[(i9_img_b0)][(i10_img_b1)], kiln::cvt_int<ap_int<8> >(kiln::val(img[(i9_img_b0)][(i10_img_b1)])));
        }
    }
    // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
    L_a_assign_i0: for (int i0_i0 = 0; i0_i0 < 6; i0_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
        L_a_assign_i1: for (int i1_i1 = 0; i1_i1 < 7; i1_i1 += 1) {
            // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
            l0_sum = kiln::cvt_int<ap_int<19> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
            // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
            L_a_assign_i0_2: for (int i2_i0 = 0; i2_i0 < 3; i2_i0 += 1) {
                // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
                L_a_assign_i1_2: for (int i3_i1 = 0; i3_i1 < 3; i3_i1 += 1) {
                    // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
                    l0_sum = kiln::cvt_int<ap_int<19> >(kiln::add<kiln::fx<19, 19> >(l0_sum, kiln::mul<kiln::fx<16, 16> >(kiln::val(t_img_buf[(i0_i0 + i2_i0)][(i1_i1 + i3_i1)]), kiln::val(t_w_buf[(i2_i0)][(i3_i1)]))));
                }
            }
            // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
            l1_sum = kiln::cvt_int<ap_int<10> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
            // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
            L_a_assign_i0_3: for (int i4_i0 = 0; i4_i0 < 3; i4_i0 += 1) {
                // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
                l1_sum = kiln::cvt_int<ap_int<10> >(kiln::add<kiln::fx<10, 10> >(l1_sum, kiln::val(t_img_buf[(i0_i0 + i4_i0)][(i1_i1 + 1)])));
            }
            // map_windows.kiln:4: a = map(lambda x: dot(x[-1:2, -1:2], w) - sum(x[-1:2, 0]), img[1:7, 1:8])
            kiln::put(a[(i0_i0)][(i1_i1)], kiln::cvt_int<ap_int<19> >(kiln::sub<kiln::fx<19, 19> >(l0_sum, l1_sum)));
        }
    }

    // c_assign: map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
    // map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
    L_c_assign_i0: for (int i5_i0 = 0; i5_i0 < 3; i5_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
        L_c_assign_i1: for (int i6_i1 = 0; i6_i1 < 3; i6_i1 += 1) {
            // map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
            l2_max = kiln::cvt_int<ap_int<8> >(kiln::val(img[(2 * i5_i0 + 1)][(3 * i6_i1)]));
            // map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
            L_c_assign_i0_2: for (int i7_i0 = 0; i7_i0 < 3; i7_i0 += 1) {
                // map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
                l2_max = kiln::cvt_int<ap_int<8> >(kiln::max_<kiln::fx<8, 8> >(l2_max, kiln::val(img[(2 * i5_i0 + 1)][(3 * i6_i1 + i7_i0)])));
            }
            // map_windows.kiln:5: c = map(lambda x: x[-1, 0] + x[1, 0] - max(x[0, -1:2]), img[1:7:2, 1:8:3])
            kiln::put(c[(i5_i0)][(i6_i1)], kiln::cvt_int<ap_int<10> >(kiln::sub<kiln::fx<10, 10> >(kiln::add<kiln::fx<9, 9> >(kiln::val(img[(2 * i5_i0)][(3 * i6_i1 + 1)]), kiln::val(img[(2 * i5_i0 + 2)][(3 * i6_i1 + 1)])), l2_max)));
        }
    }

    // d_assign: map_windows.kiln:6: d = map(lambda x: x[-1] + 10 * x[1], img[2, 1:8:2])
    // map_windows.kiln:6: d = map(lambda x: x[-1] + 10 * x[1], img[2, 1:8:2])
    L_d_assign_i0: for (int i8_i0 = 0; i8_i0 < 4; i8_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // map_windows.kiln:6: d = map(lambda x: x[-1] + 10 * x[1], img[2, 1:8:2])
        kiln::put(d[(i8_i0)], kiln::cvt_int<ap_int<12> >(kiln::add<kiln::fx<12, 12> >(kiln::val(img[2][(2 * i8_i0)]), kiln::mul<kiln::fx<12, 12> >(kiln::konst<kiln::ufx<4, 4> >(10ULL), kiln::val(img[2][(2 * i8_i0 + 2)])))));
    }
}

