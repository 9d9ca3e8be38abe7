// gather_scatter.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "gather_scatter.h"
#include "gather_scatter_weights.h"

// gather_scatter.kiln:5: kernel main(x: uint<8>[12] = load("../fixtures/idx_u8_12.npy"), w: int<8>[4] = load("../fixtures/i8_4.npy")) -> (int<16>[10], int<16>[16], int<8>[12], int<16>[4], int<8>[3, 4], int<8>[4]):
void gather_scatter(const ap_uint<8> x[12], const ap_int<8> w[4], ap_int<16> hist[10], ap_int<16> small[16], ap_int<8> mapped[12], ap_int<16> sums[4], ap_int<8> rows[3][4], ap_int<8> sq[4]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=12)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=w offset=slave bundle=gmem1 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=hist offset=slave bundle=gmem2 depth=10)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=small offset=slave bundle=gmem3 depth=16)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=mapped offset=slave bundle=gmem0 depth=12)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=sums offset=slave bundle=gmem1 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=rows offset=slave bundle=gmem2 depth=12)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=sq offset=slave bundle=gmem3 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<8> t_lut[10];
    static ap_int<6> t_mapped[12];
    static ap_int<8> t_table[10][4];
    static ap_int<5> t_rows[3][4];
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_table type=complete dim=2)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_rows type=complete dim=2)
    (void)x; (void)w; (void)hist; (void)small; (void)mapped; (void)sums;
    (void)rows; (void)sq; (void)t_lut; (void)t_mapped; (void)t_table; (void)t_rows;

    // hist: gather_scatter.kiln:6: hist: int<16>[10] = 0
    // gather_scatter.kiln:6: hist: int<16>[10] = 0
    L_hist_i0: for (int i0_i0 = 0; i0_i0 < 10; i0_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:6: hist: int<16>[10] = 0
        kiln::put(hist[(i0_i0)], kiln::cvt_int<ap_int<16> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)));
    }

    // i_loop: gather_scatter.kiln:7: for i in range(12):
    // gather_scatter.kiln:7: for i in range(12):
    L_i_loop_i: for (int i1_i = 0; i1_i < 12; i1_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:8: hist[x[i]] += 1
        kiln::put(hist[kiln::clampi((kiln::val(x[(i1_i)])).to_int64(), 10)], kiln::cvt_int<ap_int<16> >(kiln::add<kiln::ufx<4, 4> >(kiln::to_fixed<kiln::ufx<4, 4> >(kiln::val(hist[kiln::clampi((kiln::val(x[(i1_i)])).to_int64(), 10)])), kiln::konst<kiln::ufx<1, 1> >(1ULL))));
    }

    // small: gather_scatter.kiln:9: small: int<16>[16] = 0
    // gather_scatter.kiln:9: small: int<16>[16] = 0
    L_small_i0: for (int i2_i0 = 0; i2_i0 < 16; i2_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:9: small: int<16>[16] = 0
        kiln::put(small[(i2_i0)], kiln::cvt_int<ap_int<16> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)));
    }

    // i_loop: gather_scatter.kiln:10: for i in range(12):
    // gather_scatter.kiln:10: for i in range(12):
    L_i_loop_i_2: for (int i3_i = 0; i3_i < 12; i3_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:11: small[uint<4>(x[i])] += 2
        kiln::put(small[(kiln::cvt_int<ap_uint<4> >(kiln::val(x[(i3_i)]))).to_int64()], kiln::cvt_int<ap_int<16> >(kiln::add<kiln::ufx<5, 5> >(kiln::to_fixed<kiln::ufx<5, 5> >(kiln::val(small[(kiln::cvt_int<ap_uint<4> >(kiln::val(x[(i3_i)]))).to_int64()])), kiln::konst<kiln::ufx<2, 2> >(2ULL))));
    }

    // v_loop: gather_scatter.kiln:13: for v in range(10):
    // gather_scatter.kiln:13: for v in range(10):
    L_v_loop_v: for (int i4_v = 0; i4_v < 10; i4_v += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:14: lut[v] = v * 3 - 7
        kiln::put(t_lut[(i4_v)], kiln::cvt_int<ap_int<8> >(kiln::sub<kiln::fx<6, 6> >(kiln::mul<kiln::ufx<5, 5> >(kiln::from_loop<kiln::ufx<4, 4> >(i4_v), kiln::konst<kiln::ufx<2, 2> >(3ULL)), kiln::konst<kiln::ufx<3, 3> >(7ULL))));
    }

    // mapped_assign: gather_scatter.kiln:15: mapped = [lut[x[i]] for i in range(12)]
    // gather_scatter.kiln:15: mapped = [lut[x[i]] for i in range(12)]
    L_mapped_assign_i: for (int i5_i = 0; i5_i < 12; i5_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:15: mapped = [lut[x[i]] for i in range(12)]
        kiln::put(t_mapped[(i5_i)], kiln::cvt_int<ap_int<6> >(kiln::to_fixed<kiln::fx<6, 6> >(kiln::val(t_lut[kiln::clampi((kiln::val(x[(i5_i)])).to_int64(), 10)]))));
    }

    // sums: gather_scatter.kiln:16: sums: int<16>[4] = 0
    // gather_scatter.kiln:16: sums: int<16>[4] = 0
    L_sums_i0: for (int i6_i0 = 0; i6_i0 < 4; i6_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:16: sums: int<16>[4] = 0
        kiln::put(sums[(i6_i0)], kiln::cvt_int<ap_int<16> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)));
    }

    // i_loop: gather_scatter.kiln:17: for i in range(12):
    // gather_scatter.kiln:17: for i in range(12):
    L_i_loop_i_3: for (int i7_i = 0; i7_i < 12; i7_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:18: sums[x[i] % 4] += w[i % 4]
        kiln::put(sums[(kiln::mod<kiln::ufx<2, 2> >(kiln::val(x[(i7_i)]), kiln::konst<kiln::ufx<3, 3> >(4ULL))).to_int64()], kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<12, 12> >(kiln::to_fixed<kiln::fx<12, 12> >(kiln::val(sums[(kiln::mod<kiln::ufx<2, 2> >(kiln::val(x[(i7_i)]), kiln::konst<kiln::ufx<3, 3> >(4ULL))).to_int64()])), kiln::val(w[(kiln::mod<kiln::ufx<2, 2> >(kiln::from_loop<kiln::ufx<4, 4> >(i7_i), kiln::konst<kiln::ufx<3, 3> >(4ULL))).to_int64()]))));
    }

    // table: gather_scatter.kiln:19: table: int<8>[10, 4] = 0
    // gather_scatter.kiln:19: table: int<8>[10, 4] = 0
    L_table_i0: for (int i8_i0 = 0; i8_i0 < 10; i8_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:19: table: int<8>[10, 4] = 0
        L_table_i1: for (int i9_i1 = 0; i9_i1 < 4; i9_i1 += 1) {
            // gather_scatter.kiln:19: table: int<8>[10, 4] = 0
            kiln::put(t_table[(i8_i0)][(i9_i1)], kiln::cvt_int<ap_int<8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)));
        }
    }

    // v_loop: gather_scatter.kiln:20: for v, d in grid(10, 4):
    // gather_scatter.kiln:20: for v, d in grid(10, 4):
    L_v_loop_v_2: for (int i10_v = 0; i10_v < 10; i10_v += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:20: for v, d in grid(10, 4):
        L_v_loop_d: for (int i11_d = 0; i11_d < 4; i11_d += 1) {
            // gather_scatter.kiln:21: table[v, d] = v - d
            kiln::put(t_table[(i10_v)][(i11_d)], kiln::cvt_int<ap_int<8> >(kiln::sub<kiln::fx<5, 5> >(kiln::from_loop<kiln::ufx<4, 4> >(i10_v), kiln::from_loop<kiln::ufx<2, 2> >(i11_d))));
        }
    }

    // rows_assign: gather_scatter.kiln:22: rows = [table[x[n + 1] - 1, d] for n, d in grid(3, 4)]
    // gather_scatter.kiln:22: rows = [table[x[n + 1] - 1, d] for n, d in grid(3, 4)]
    L_rows_assign_n: for (int i12_n = 0; i12_n < 3; i12_n += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:22: rows = [table[x[n + 1] - 1, d] for n, d in grid(3, 4)]
        L_rows_assign_d: for (int i13_d = 0; i13_d < 4; i13_d += 1) {
            // gather_scatter.kiln:22: rows = [table[x[n + 1] - 1, d] for n, d in grid(3, 4)]
            kiln::put(t_rows[(i12_n)][(i13_d)], kiln::cvt_int<ap_int<5> >(kiln::to_fixed<kiln::fx<5, 5> >(kiln::val(t_table[kiln::clampi((kiln::sub<kiln::fx<9, 9> >(kiln::val(x[(i12_n + 1)]), kiln::konst<kiln::ufx<1, 1> >(1ULL))).to_int64(), 10)][kiln::clampi((i13_d), 4)]))));
        }
    }

    // sq_assign: gather_scatter.kiln:23: sq = [w[i * i % 4] for i in range(4)]
    // gather_scatter.kiln:23: sq = [w[i * i % 4] for i in range(4)]
    L_sq_assign_i: for (int i14_i = 0; i14_i < 4; i14_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:23: sq = [w[i * i % 4] for i in range(4)]
        kiln::put(sq[(i14_i)], kiln::cvt_int<ap_int<8> >(kiln::val(w[(kiln::mod<kiln::ufx<2, 2> >(kiln::mul<kiln::ufx<4, 4> >(kiln::from_loop<kiln::ufx<2, 2> >(i14_i), kiln::from_loop<kiln::ufx<2, 2> >(i14_i)), kiln::konst<kiln::ufx<3, 3> >(4ULL))).to_int64()])));
    }

    // mapped_store: gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
    // gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
    L_mapped_store_i0: for (int i15_i0 = 0; i15_i0 < 12; i15_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
        kiln::put(mapped[(i15_i0)], kiln::cvt_int<ap_int<8> >(kiln::val(t_mapped[(i15_i0)])));
    }

    // rows_store: gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
    // gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
    L_rows_store_i0: for (int i16_i0 = 0; i16_i0 < 3; i16_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
        L_rows_store_i1: for (int i17_i1 = 0; i17_i1 < 4; i17_i1 += 1) {
            // gather_scatter.kiln:24: return hist, small, mapped, sums, rows, sq
            kiln::put(rows[(i16_i0)][(i17_i1)], kiln::cvt_int<ap_int<8> >(kiln::val(t_rows[(i16_i0)][(i17_i1)])));
        }
    }
}

