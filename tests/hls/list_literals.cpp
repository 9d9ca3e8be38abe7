// list_literals.cpp: the kernel `list_literals` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "list_literals.h"
#include "list_literals_weights.h"

// list_literals.kiln:3: kernel list_literals(a: int<8>[4] = load("../fixtures/i8_4.npy"), img: int<8>[4, 4] = load("../fixtures/i8_4x4.npy")) -> (int<16>[3], [2, 2], f32, [3]):
void list_literals(const ap_int<8> a[4], const ap_int<8> img[4][4], ap_int<16> y[3], ap_int<12> g[2][2], float &result2, ap_fixed<14, 7> result3[3]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem0 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=img offset=slave bundle=gmem1 depth=16)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=y offset=slave bundle=gmem2 depth=3)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=g offset=slave bundle=gmem3 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=result2)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result3 offset=slave bundle=gmem1 depth=3)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static float t_f[3];
    static ap_int<8> t_img_buf[4][4];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_list_3 type=complete dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_list_3 type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_img_buf type=cyclic factor=3 dim=1)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_img_buf type=complete dim=2)
    kiln::fx<12, 12> l0_sum;
    float l1_sum;
    (void)a; (void)img; (void)y; (void)g; (void)result2; (void)result3;
    (void)t_f; (void)t_img_buf; (void)l0_sum; (void)l1_sum;

    // i_loop: list_literals.kiln:6: for i in range(3):
    // list_literals.kiln:6: for i in range(3):
    L_i_loop_i: for (int i0_i = 0; i0_i < 3; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // list_literals.kiln:7: y[i] = a[i] * w[2 - i] + [1, 2, 3][i]
        kiln::put(y[(i0_i)], kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<11, 11> >(kiln::mul<kiln::fx<11, 11> >(kiln::val(a[(i0_i)]), kiln::val(w_list[(-i0_i + 2)])), kiln::val(w_list_2[(i0_i)]))));
    }

    // g_assign: list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
    // list_literals.kiln:3: kernel list_literals(a: int<8>[4] = load("../fixtures/i8_4.npy"), img: int<8>[4, 4] = load("../fixtures/i8_4x4.npy")) -> (int<16>[3], [2, 2], f32, [3]):
    L_g_assign_img_b0: for (int i8_img_b0 = 0; i8_img_b0 < 4; i8_img_b0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // list_literals.kiln:3: kernel list_literals(a: int<8>[4] = load("../fixtures/i8_4.npy"), img: int<8>[4, 4] = load("../fixtures/i8_4x4.npy")) -> (int<16>[3], [2, 2], f32, [3]):
        L_g_assign_img_b1: for (int i9_img_b1 = 0; i9_img_b1 < 4; i9_img_b1 += 1) {
            // list_literals.kiln:3: kernel list_literals(a: int<8>[4] = load("../fixtures/i8_4.npy"), img: int<8>[4, 4] = load("../fixtures/i8_4x4.npy")) -> (int<16>[3], [2, 2], f32, [3]):
            kiln::put(t_img_buf[(i8_img_b0)][(i9_img_b1)], kiln::cvt_int<ap_int<8> >(kiln::val(img[(i8_img_b0)][(i9_img_b1)])));
        }
    }
    // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
    L_g_assign_i0: for (int i1_i0 = 0; i1_i0 < 2; i1_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
        L_g_assign_i1: for (int i2_i1 = 0; i2_i1 < 2; i2_i1 += 1) {
            // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
            l0_sum = kiln::cvt_int<ap_int<12> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
            // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
            L_g_assign_i0_2: for (int i3_i0 = 0; i3_i0 < 3; i3_i0 += 1) {
                // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
                L_g_assign_i1_2: for (int i4_i1 = 0; i4_i1 < 3; i4_i1 += 1) {
                    // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
                    l0_sum = kiln::cvt_int<ap_int<12> >(kiln::add<kiln::fx<12, 12> >(l0_sum, kiln::mul<kiln::fx<10, 10> >(kiln::val(t_img_buf[(i1_i0 + i3_i0)][(i2_i1 + i4_i1)]), kiln::val(w_list_3[(i3_i0)][(i4_i1)]))));
                }
            }
            // list_literals.kiln:8: g = map(lambda x: dot(x[-1:2, -1:2], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), img[1:3, 1:3])
            kiln::put(g[(i1_i0)][(i2_i1)], kiln::cvt_int<ap_int<12> >(l0_sum));
        }
    }

    // f_assign: list_literals.kiln:9: f = f32(a[0:3])
    // list_literals.kiln:9: f = f32(a[0:3])
    L_f_assign_i0: for (int i5_i0 = 0; i5_i0 < 3; i5_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // list_literals.kiln:9: f = f32(a[0:3])
        t_f[(i5_i0)] = kiln::to_f32(kiln::val(a[(i5_i0)]));
    }

    // result2_store: list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
    // list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
    l1_sum = kiln::f32_from_bits(0x00000000u);
    // list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
    L_result2_store_i0: for (int i6_i0 = 0; i6_i0 < 3; i6_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=4)
        // list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
        l1_sum = (l1_sum + (t_f[(i6_i0)] * w_list_4[(i6_i0)]));
    }
    // list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
    result2 = l1_sum;

    // result3_store: list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
    // list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
    L_result3_store_i0: for (int i7_i0 = 0; i7_i0 < 3; i7_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // list_literals.kiln:10: return y, g, dot(f, [0.1, 0.2, 0.7]), a[0:3] * fixed<8, 1, rnd>([0.1, 0.25, 0.3])
        kiln::put(result3[(i7_i0)], kiln::cvt<ap_fixed<14, 7> >(kiln::mul<kiln::fx<14, 7> >(kiln::val(a[(i7_i0)]), kiln::to_fixed<kiln::ufx<6, -1> >(kiln::val(w_list_5[(i7_i0)])))));
    }
}

