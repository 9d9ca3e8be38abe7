// while_break.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "while_break.h"
#include "while_break_weights.h"

// while_break.kiln:3: kernel main(x: int<8>[8] = load("../fixtures/while_x8.npy")) -> (int<8>, int<16>, int<16>[8], int<16>):
void while_break(const ap_int<8> x[8], ap_int<8> &first, ap_int<16> &s, ap_int<16> y[8], ap_int<16> &n) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=first)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=s)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=y offset=slave bundle=gmem3 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=n)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    ap_int<8> t_first;
    ap_int<8> t_first_2;
    ap_int<16> t_s;
    ap_int<16> t_s_2;
    ap_int<16> t_n;
    ap_int<16> t_n_2;
    kiln::fx<8, 8> l0_first;
    bool l1_i_break;
    kiln::fx<8, 8> l2_first;
    kiln::fx<16, 16> l3_s;
    bool l4_i_continue;
    kiln::fx<16, 16> l5_s;
    kiln::fx<16, 16> l6_v;
    bool l7_while_done;
    kiln::fx<16, 16> l8_n;
    bool l9_while_done;
    kiln::fx<16, 16> l10_n;
    kiln::fx<8, 8> l11_first;
    kiln::fx<16, 16> l12_s;
    kiln::fx<16, 16> l13_n;
    (void)x; (void)first; (void)s; (void)y; (void)n; (void)t_first;
    (void)t_first_2; (void)t_s; (void)t_s_2; (void)t_n; (void)t_n_2; (void)l0_first;
    (void)l1_i_break; (void)l2_first; (void)l3_s; (void)l4_i_continue; (void)l5_s; (void)l6_v;
    (void)l7_while_done; (void)l8_n; (void)l9_while_done; (void)l10_n; (void)l11_first; (void)l12_s;
    (void)l13_n;

    // first_init: while_break.kiln:5: first: int<8> = 8
    // while_break.kiln:5: first: int<8> = 8
    l0_first = kiln::cvt_int<ap_int<8> >(kiln::konst<kiln::ufx<4, 4> >(8ULL));
    // while_break.kiln:5: first: int<8> = 8
    kiln::put(t_first, kiln::cvt_int<ap_int<8> >(kiln::to_fixed<kiln::ufx<4, 4> >(l0_first)));

    // i_loop: while_break.kiln:6: for i in range(8):
    // while_break.kiln:5: first: int<8> = 8
    l2_first = kiln::cvt_int<ap_int<8> >(kiln::to_fixed<kiln::ufx<4, 4> >(kiln::val(t_first)));
    // while_break.kiln:6: for i in range(8):
    l1_i_break = kiln::to_bool(false);
    // while_break.kiln:6: for i in range(8):
    L_i_loop_i: for (int i0_i = 0; i0_i < 8; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        if ((!l1_i_break)) {
            if (kiln::lt(kiln::val(x[(i0_i)]), kiln::konst<kiln::ufx<1, 1> >(0ULL))) {
                // while_break.kiln:8: first = i
                l2_first = kiln::cvt_int<ap_int<8> >(kiln::from_loop<kiln::ufx<3, 3> >(i0_i));
                // while_break.kiln:9: break
                l1_i_break = kiln::to_bool(true);
            }
        }
    }
    // while_break.kiln:5: first: int<8> = 8
    kiln::put(t_first_2, kiln::cvt_int<ap_int<8> >(kiln::to_fixed<kiln::ufx<4, 4> >(l2_first)));

    // s_init: while_break.kiln:11: s: int<16> = 0
    // while_break.kiln:11: s: int<16> = 0
    l3_s = kiln::cvt_int<ap_int<16> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // while_break.kiln:11: s: int<16> = 0
    kiln::put(t_s, kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<1, 1> >(l3_s)));

    // i_loop: while_break.kiln:12: for i in range(8):
    // while_break.kiln:11: s: int<16> = 0
    l5_s = kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<1, 1> >(kiln::val(t_s)));
    // while_break.kiln:12: for i in range(8):
    L_i_loop_i_2: for (int i1_i = 0; i1_i < 8; i1_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // while_break.kiln:13: if x[i] <= 0:
        l4_i_continue = kiln::to_bool(false);
        if ((!kiln::lt(kiln::konst<kiln::ufx<1, 1> >(0ULL), kiln::val(x[(i1_i)])))) {
            // while_break.kiln:14: continue
            l4_i_continue = kiln::to_bool(true);
        }
        if ((!l4_i_continue)) {
            // while_break.kiln:15: s += x[i]
            l5_s = kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<12, 12> >(kiln::to_fixed<kiln::fx<11, 11> >(l5_s), kiln::val(x[(i1_i)])));
        }
    }
    // while_break.kiln:11: s: int<16> = 0
    kiln::put(t_s_2, kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::fx<11, 11> >(l5_s)));

    // i_loop: while_break.kiln:18: for i in range(8):
    // while_break.kiln:18: for i in range(8):
    L_i_loop_i_3: for (int i2_i = 0; i2_i < 8; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // while_break.kiln:19: v: int<16> = x[i] + 64
        l6_v = kiln::cvt_int<ap_int<16> >(kiln::add<kiln::fx<9, 9> >(kiln::val(x[(i2_i)]), kiln::konst<kiln::ufx<7, 7> >(64ULL)));
        // while_break.kiln:20: while v % 2 == 0 and v > 0, max=10:
        l7_while_done = kiln::to_bool(false);
        // while_break.kiln:20: while v % 2 == 0 and v > 0, max=10:
        L_i_loop_while_: for (int i3_while_ = 0; i3_while_ < 10; i3_while_ += 1) {
            if ((!l7_while_done)) {
                if ((kiln::eq(kiln::mod<kiln::ufx<1, 1> >(l6_v, kiln::konst<kiln::ufx<2, 2> >(2ULL)), kiln::konst<kiln::ufx<1, 1> >(0ULL)) && kiln::lt(kiln::konst<kiln::ufx<1, 1> >(0ULL), l6_v))) {
                    // while_break.kiln:21: v = v // 2
                    l6_v = kiln::cvt_int<ap_int<16> >(kiln::floordiv<kiln::fx<15, 15> >(l6_v, kiln::konst<kiln::ufx<2, 2> >(2ULL)));
                } else {
                    // while_break.kiln:20: while v % 2 == 0 and v > 0, max=10:
                    l7_while_done = kiln::to_bool(true);
                }
            }
        }
        if ((!l7_while_done)) {
            if ((kiln::eq(kiln::mod<kiln::ufx<1, 1> >(l6_v, kiln::konst<kiln::ufx<2, 2> >(2ULL)), kiln::konst<kiln::ufx<1, 1> >(0ULL)) && kiln::lt(kiln::konst<kiln::ufx<1, 1> >(0ULL), l6_v))) {
                // while_break.kiln:20: while v % 2 == 0 and v > 0, max=10:: kiln reports an error here: this `while` loop ran its 10 iterations (its `max`) and its condition still holds
            }
        }
        // while_break.kiln:22: y[i] = v
        kiln::put(y[(i2_i)], kiln::cvt_int<ap_int<16> >(l6_v));
    }

    // n_init: while_break.kiln:24: n: int<16> = 0
    // while_break.kiln:24: n: int<16> = 0
    l8_n = kiln::cvt_int<ap_int<16> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
    // while_break.kiln:24: n: int<16> = 0
    kiln::put(t_n, kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<1, 1> >(l8_n)));

    // while_loop: while_break.kiln:25: while n < 100, max=100:
    // while_break.kiln:24: n: int<16> = 0
    l10_n = kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<1, 1> >(kiln::val(t_n)));
    // while_break.kiln:25: while n < 100, max=100:
    l9_while_done = kiln::to_bool(false);
    // while_break.kiln:25: while n < 100, max=100:
    L_while_loop_while_: for (int i4_while_ = 0; i4_while_ < 100; i4_while_ += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        if ((!l9_while_done)) {
            if (kiln::lt(kiln::to_fixed<kiln::ufx<10, 10> >(l10_n), kiln::konst<kiln::ufx<7, 7> >(100ULL))) {
                // while_break.kiln:26: n += 7
                l10_n = kiln::cvt_int<ap_int<16> >(kiln::add<kiln::ufx<10, 10> >(kiln::to_fixed<kiln::ufx<10, 10> >(l10_n), kiln::konst<kiln::ufx<3, 3> >(7ULL)));
                if (kiln::lt(kiln::konst<kiln::ufx<5, 5> >(30ULL), kiln::to_fixed<kiln::ufx<10, 10> >(l10_n))) {
                    // while_break.kiln:28: break
                    l9_while_done = kiln::to_bool(true);
                }
            } else {
                // while_break.kiln:25: while n < 100, max=100:
                l9_while_done = kiln::to_bool(true);
            }
        }
    }
    if ((!l9_while_done)) {
        if (kiln::lt(kiln::to_fixed<kiln::ufx<10, 10> >(l10_n), kiln::konst<kiln::ufx<7, 7> >(100ULL))) {
            // while_break.kiln:25: while n < 100, max=100:: kiln reports an error here: this `while` loop ran its 100 iterations (its `max`) and its condition still holds
        }
    }
    // while_break.kiln:24: n: int<16> = 0
    kiln::put(t_n_2, kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<10, 10> >(l10_n)));

    // first_store: while_break.kiln:29: return first, s, y, n
    // while_break.kiln:5: first: int<8> = 8
    l11_first = kiln::cvt_int<ap_int<8> >(kiln::to_fixed<kiln::ufx<4, 4> >(kiln::val(t_first_2)));
    // while_break.kiln:29: return first, s, y, n
    kiln::put(first, kiln::cvt_int<ap_int<8> >(kiln::to_fixed<kiln::ufx<4, 4> >(l11_first)));

    // s_store: while_break.kiln:29: return first, s, y, n
    // while_break.kiln:11: s: int<16> = 0
    l12_s = kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::fx<11, 11> >(kiln::val(t_s_2)));
    // while_break.kiln:29: return first, s, y, n
    kiln::put(s, kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::fx<11, 11> >(l12_s)));

    // n_store: while_break.kiln:29: return first, s, y, n
    // while_break.kiln:24: n: int<16> = 0
    l13_n = kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<10, 10> >(kiln::val(t_n_2)));
    // while_break.kiln:29: return first, s, y, n
    kiln::put(n, kiln::cvt_int<ap_int<16> >(kiln::to_fixed<kiln::ufx<10, 10> >(l13_n)));
}

