// pylog_indexing.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "pylog_indexing.h"
#include "pylog_indexing_weights.h"

// pylog_indexing.kiln:5: kernel main() -> (int<16>[4, 6], int<16>[6]):
void pylog_indexing(ap_int<16> c[4][6], ap_int<16> s[6]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=c offset=slave bundle=gmem0 depth=24)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=s offset=slave bundle=gmem1 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<8> t_a[4][6];
    static ap_int<16> t_c[4][6];
    ap_uint<1> t_t;
    ap_int<9> t_t_2;
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_c type=complete dim=2)
    kiln::fx<8, 8> l0_sum;
    kiln::ufx<1, 1> l1_t;
    kiln::fx<9, 9> l2_t;
    kiln::fx<9, 9> l3_t;
    (void)c; (void)s; (void)t_a; (void)t_c; (void)t_t; (void)t_t_2;
    (void)l0_sum; (void)l1_t; (void)l2_t; (void)l3_t;

    // a: pylog_indexing.kiln:6: a: int<8>[4, 6] = [6 * i + j - 7 for i, j in grid(4, 6)]
    // pylog_indexing.kiln:6: a: int<8>[4, 6] = [6 * i + j - 7 for i, j in grid(4, 6)]
    L_a_i: for (int i0_i = 0; i0_i < 4; i0_i += 1) {
        // pylog_indexing.kiln:6: a: int<8>[4, 6] = [6 * i + j - 7 for i, j in grid(4, 6)]
        L_a_j: for (int i1_j = 0; i1_j < 6; i1_j += 1) {
            // pylog_indexing.kiln:6: a: int<8>[4, 6] = [6 * i + j - 7 for i, j in grid(4, 6)]
            kiln::put(t_a[(i0_i)][(i1_j)], kiln::cvt_int<ap_int<8> >(kiln::sub<kiln::fx<6, 6> >(kiln::add<kiln::ufx<5, 5> >(kiln::mul<kiln::ufx<5, 5> >(kiln::konst<kiln::ufx<3, 3> >(6ULL), kiln::from_loop<kiln::ufx<2, 2> >(i0_i)), kiln::from_loop<kiln::ufx<3, 3> >(i1_j)), kiln::konst<kiln::ufx<3, 3> >(7ULL))));
        }
    }

    // i_loop: pylog_indexing.kiln:8: for i in range(len(a)):
    // pylog_indexing.kiln:8: for i in range(len(a)):
    L_i_loop_i: for (int i2_i = 0; i2_i < 4; i2_i += 1) {
        // pylog_indexing.kiln:9: for j in range(a.shape[1]):
        L_i_loop_j: for (int i3_j = 0; i3_j < 6; i3_j += 1) {
            // pylog_indexing.kiln:10: c[i][j] = a[i][j] * 2 + a[-1][-1]
            kiln::put(t_c[(i2_i)][(i3_j)], kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<7, 7> >(kiln::mul<kiln::fx<7, 7> >(kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_a[(i2_i)][(i3_j)])), kiln::konst<kiln::ufx<2, 2> >(2ULL)), kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_a[3][5])))));
        }
    }

    // s_store: pylog_indexing.kiln:12: s[0] = sum(a[-2])
    // pylog_indexing.kiln:12: s[0] = sum(a[-2])
    l0_sum = kiln::cvt_int<ap_int<8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // pylog_indexing.kiln:12: s[0] = sum(a[-2])
    L_s_store_i0: for (int i4_i0 = 0; i4_i0 < 6; i4_i0 += 1) {
        // pylog_indexing.kiln:12: s[0] = sum(a[-2])
        l0_sum = kiln::cvt_int<ap_int<8> >(kiln::add<kiln::fx<8, 8> >(l0_sum, kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_a[2][(i4_i0)]))));
    }
    // pylog_indexing.kiln:12: s[0] = sum(a[-2])
    kiln::put(s[0], kiln::cvt_int<ap_int<16> >(l0_sum));

    // s_store: pylog_indexing.kiln:13: s[1:3] = a[1][::-3]
    // pylog_indexing.kiln:13: s[1:3] = a[1][::-3]
    L_s_store_i0_2: for (int i5_i0 = 0; i5_i0 < 2; i5_i0 += 1) {
        // pylog_indexing.kiln:13: s[1:3] = a[1][::-3]
        kiln::put(s[(i5_i0 + 1)], kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_a[1][(-3 * i5_i0 + 5)]))));
    }

    // t_assign: pylog_indexing.kiln:14: t = 0
    // pylog_indexing.kiln:14: t = 0
    l1_t = kiln::cvt_int<ap_uint<1> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // pylog_indexing.kiln:14: t = 0
    kiln::put(t_t, kiln::cvt_int<ap_uint<1> >(l1_t));

    // row'index_loop: pylog_indexing.kiln:15: for row in a[:-1]:
    // pylog_indexing.kiln:14: t = 0
    l2_t = kiln::cvt_int<ap_int<9> >(kiln::val(t_t));
    // pylog_indexing.kiln:15: for row in a[:-1]:
    L_row_index_loop_row_index: for (int i6_row_index = 0; i6_row_index < 3; i6_row_index += 1) {
        // pylog_indexing.kiln:16: for v in row[2:]:
        L_row_index_loop_v_index: for (int i7_v_index = 0; i7_v_index < 4; i7_v_index += 1) {
            // pylog_indexing.kiln:17: t += v
            l2_t = kiln::cvt_int<ap_int<9> >(kiln::add<kiln::fx<9, 9> >(l2_t, kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_a[(i6_row_index)][(i7_v_index + 2)]))));
        }
    }
    // pylog_indexing.kiln:14: t = 0
    kiln::put(t_t_2, kiln::cvt_int<ap_int<9> >(l2_t));

    // s_store: pylog_indexing.kiln:18: s[3] = t
    // pylog_indexing.kiln:14: t = 0
    l3_t = kiln::cvt_int<ap_int<9> >(kiln::val(t_t_2));
    // pylog_indexing.kiln:18: s[3] = t
    kiln::put(s[3], kiln::cvt_int<ap_int<16> >(l3_t));

    // s_store: pylog_indexing.kiln:19: s[4] = a[3:0:-2, 5][1]
    // pylog_indexing.kiln:19: s[4] = a[3:0:-2, 5][1]
    kiln::put(s[4], kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_a[1][5]))));

    // s_store: pylog_indexing.kiln:20: s[5] = c[1:][::2][1, 0]
    // pylog_indexing.kiln:20: s[5] = c[1:][::2][1, 0]
    kiln::put(s[5], kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::fx<7, 7> >(kiln::val(t_c[3][0]))));

    // result `c`
    for (int c0 = 0; c0 < 4; c0++) {
        for (int c1 = 0; c1 < 6; c1++) {
            c[c0][c1] = t_c[c0][c1];
        }
    }
}

