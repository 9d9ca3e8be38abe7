// mixed.cpp: the kernel `mixed` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "mixed.h"
#include "mixed_weights.h"

// mixed.kiln:2: kernel mixed(a: bin[6] = load("../fixtures/hls_bin.npy"), t: tern[6] = load("../fixtures/hls_tern.npy"), f: f32 = 0.75) -> (int<8>, f32, int<6>[6]):
void mixed(const ap_uint<1> a[6], const ap_int<2> t[6], float f, ap_int<8> &s, float &g, ap_int<6> q[6]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem0 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=t offset=slave bundle=gmem1 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=f)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=s)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=g)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=q offset=slave bundle=gmem1 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    ap_int<4> t_s;
    ap_int<4> t_s_2;
    float t_g;
    static ap_int<3> t_q[6];
    kiln::fx<4, 4> l0_s;
    kiln::fx<4, 4> l1_sum;
    float l2_g;
    kiln::fx<4, 4> l3_s;
    kiln::fx<4, 4> l4_s;
    float l5_g;
    (void)a; (void)t; (void)f; (void)s; (void)g; (void)q;
    (void)t_s; (void)t_s_2; (void)t_g; (void)t_q; (void)l0_s; (void)l1_sum;
    (void)l2_g; (void)l3_s; (void)l4_s; (void)l5_g;

    // s_assign: mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    l1_sum = kiln::cvt_int<ap_int<4> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // `a` packed along dimension 0 into words of 64 values (bin: the storage bit)
    static kiln::word pk_a_0[1];
    L_pack_pk_a_0: for (int pq = 0; pq < 1; pq += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        kiln::word b = 0, m = 0;
        (void)m;
        for (int pb = 0; pb < 64; pb += 1) {
            KILN_PRAGMA(HLS UNROLL)
            if (64 * pq + pb < 6) {
                b = kiln::set_bit(b, pb, !kiln::is_neg(kiln::bin_val(a[64 * pq + pb])));
            }
        }
        pk_a_0[pq] = b;
    }
    // `t` packed along dimension 0 into words of 64 values (trit: sign bits, and nonzero bits in `_m`)
    static kiln::word pk_t_0[1];
    static kiln::word pk_t_0_m[1];
    L_pack_pk_t_0: for (int pq = 0; pq < 1; pq += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        kiln::word b = 0, m = 0;
        (void)m;
        for (int pb = 0; pb < 64; pb += 1) {
            KILN_PRAGMA(HLS UNROLL)
            if (64 * pq + pb < 6) {
                m = kiln::set_bit(m, pb, !kiln::is_zero(kiln::val(t[64 * pq + pb])));
                b = kiln::set_bit(b, pb, kiln::is_neg(kiln::val(t[64 * pq + pb])));
            }
        }
        pk_t_0[pq] = b;
        pk_t_0_m[pq] = m;
    }
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    L_s_assign_i: for (int i1_i = 0; i1_i < 1; i1_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
        l1_sum = kiln::cvt_int<ap_int<4> >(kiln::add<kiln::fx<4, 4> >(l1_sum, kiln::from_loop<kiln::fx<8, 8> >(kiln::trit_bin_dot(pk_t_0_m[i1_i], pk_t_0[i1_i], pk_a_0[i1_i]))));
    }
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    l0_s = kiln::cvt_int<ap_int<4> >(l1_sum);
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    kiln::put(t_s, kiln::cvt_int<ap_int<4> >(l0_s));

    // g_assign: mixed.kiln:4: g = f32(s) * f + 0.5
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    l3_s = kiln::cvt_int<ap_int<4> >(kiln::val(t_s));
    // mixed.kiln:4: g = f32(s) * f + 0.5
    l2_g = ((kiln::to_f32(l3_s) * f) + kiln::f32_from_bits(0x3f000000u));
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    kiln::put(t_s_2, kiln::cvt_int<ap_int<4> >(l3_s));
    // mixed.kiln:4: g = f32(s) * f + 0.5
    t_g = l2_g;

    // q_assign: mixed.kiln:5: q = [(t[i] + 3) // 2 - (a[i] % 2) if i > 0 else t[i] >> 1 for i in range(6)]
    // mixed.kiln:5: q = [(t[i] + 3) // 2 - (a[i] % 2) if i > 0 else t[i] >> 1 for i in range(6)]
    L_q_assign_i: for (int i2_i = 0; i2_i < 6; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // mixed.kiln:5: q = [(t[i] + 3) // 2 - (a[i] % 2) if i > 0 else t[i] >> 1 for i in range(6)]
        kiln::put(t_q[(i2_i)], kiln::cvt_int<ap_int<3> >((kiln::lt(kiln::konst<kiln::ufx<1, 1> >(0ULL), kiln::from_loop<kiln::ufx<3, 3> >(i2_i)) ? kiln::to_fixed<kiln::fx<3, 3> >(kiln::sub<kiln::ufx<2, 2> >(kiln::floordiv<kiln::ufx<2, 2> >(kiln::add<kiln::ufx<3, 3> >(kiln::val(t[(i2_i)]), kiln::konst<kiln::ufx<2, 2> >(3ULL)), kiln::konst<kiln::ufx<2, 2> >(2ULL)), kiln::mod<kiln::ufx<1, 1> >(kiln::bin_val(a[(i2_i)]), kiln::konst<kiln::ufx<2, 2> >(2ULL)))) : kiln::to_fixed<kiln::fx<3, 3> >(kiln::shr<kiln::fx<1, 1> >(kiln::val(t[(i2_i)]), kiln::shift_amount(kiln::konst<kiln::ufx<1, 1> >(1ULL)))))));
    }

    // s_store: mixed.kiln:6: return s, g, q
    // mixed.kiln:3: s = sum(a[i] * t[i] for i in range(6))
    l4_s = kiln::cvt_int<ap_int<4> >(kiln::val(t_s_2));
    // mixed.kiln:6: return s, g, q
    kiln::put(s, kiln::cvt_int<ap_int<8> >(l4_s));

    // g_store: mixed.kiln:6: return s, g, q
    // mixed.kiln:4: g = f32(s) * f + 0.5
    l5_g = t_g;
    // mixed.kiln:6: return s, g, q
    g = l5_g;

    // q_store: mixed.kiln:6: return s, g, q
    // mixed.kiln:6: return s, g, q
    L_q_store_i0: for (int i3_i0 = 0; i3_i0 < 6; i3_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // mixed.kiln:6: return s, g, q
        kiln::put(q[(i3_i0)], kiln::cvt_int<ap_int<6> >(kiln::val(t_q[(i3_i0)])));
    }
}

