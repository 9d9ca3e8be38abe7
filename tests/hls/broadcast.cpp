// broadcast.cpp: the kernel `broadcast` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "broadcast.h"
#include "broadcast_weights.h"

// broadcast.kiln:3: kernel broadcast(a: int<8>[2, 3] = load("../fixtures/i8_2x3.npy"), c: int<8>[4] = load("../fixtures/i8_4.npy"), f: f32[4] = load("../fixtures/f32_4.npy")) -> ([2, 3], [2, 4], [2, 3], [2, 4]):
void broadcast(const ap_int<8> a[2][3], const ap_int<8> c[4], const float f[4], ap_int<9> result0[2][3], ap_int<16> result1[2][4], ap_int<8> result2[2][3], float result3[2][4]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem0 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=c offset=slave bundle=gmem1 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=f offset=slave bundle=gmem2 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result0 offset=slave bundle=gmem3 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result1 offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result2 offset=slave bundle=gmem1 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result3 offset=slave bundle=gmem2 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<8> t_r[2][1];
    (void)a; (void)c; (void)f; (void)result0; (void)result1; (void)result2;
    (void)result3; (void)t_r;

    // r_assign: broadcast.kiln:4: r = a[:, 0:1]
    // broadcast.kiln:4: r = a[:, 0:1]
    L_r_assign_i0: for (int i0_i0 = 0; i0_i0 < 2; i0_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // broadcast.kiln:4: r = a[:, 0:1]
        L_r_assign_i1: for (int i1_i1 = 0; i1_i1 < 1; i1_i1 += 1) {
            // broadcast.kiln:4: r = a[:, 0:1]
            kiln::put(t_r[(i0_i0)][(i1_i1)], kiln::cvt_int<ap_int<8> >(kiln::val(a[(i0_i0)][(i1_i1)])));
        }
    }

    // result0_store: broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    L_result0_store_i0: for (int i2_i0 = 0; i2_i0 < 2; i2_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
        L_result0_store_i1: for (int i3_i1 = 0; i3_i1 < 3; i3_i1 += 1) {
            // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
            kiln::put(result0[(i2_i0)][(i3_i1)], kiln::cvt_int<ap_int<9> >(kiln::add<kiln::fx<9, 9> >(kiln::val(a[(i2_i0)][(i3_i1)]), kiln::val(a[0][(i3_i1)]))));
        }
    }

    // result1_store: broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    L_result1_store_i0: for (int i4_i0 = 0; i4_i0 < 2; i4_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
        L_result1_store_i1: for (int i5_i1 = 0; i5_i1 < 4; i5_i1 += 1) {
            // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
            kiln::put(result1[(i4_i0)][(i5_i1)], kiln::cvt_int<ap_int<16> >(kiln::mul<kiln::fx<16, 16> >(kiln::val(t_r[(i4_i0)][0]), kiln::val(c[(i5_i1)]))));
        }
    }

    // result2_store: broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    L_result2_store_i0: for (int i6_i0 = 0; i6_i0 < 2; i6_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
        L_result2_store_i1: for (int i7_i1 = 0; i7_i1 < 3; i7_i1 += 1) {
            // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
            kiln::put(result2[(i6_i0)][(i7_i1)], kiln::cvt_int<ap_int<8> >(kiln::max_<kiln::fx<8, 8> >(kiln::val(a[(i6_i0)][(i7_i1)]), kiln::val(t_r[(i6_i0)][0]))));
        }
    }

    // result3_store: broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
    L_result3_store_i0: for (int i8_i0 = 0; i8_i0 < 2; i8_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
        L_result3_store_i1: for (int i9_i1 = 0; i9_i1 < 4; i9_i1 += 1) {
            // broadcast.kiln:5: return a + a[0, :], r * c, max(a, r), f * r + 0.5
            result3[(i8_i0)][(i9_i1)] = ((f[(i9_i1)] * kiln::to_f32(kiln::val(t_r[(i8_i0)][0]))) + kiln::f32_from_bits(0x3f000000u));
        }
    }
}

