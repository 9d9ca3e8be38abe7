// recurrence.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "recurrence.h"
#include "recurrence_weights.h"

static void recurrence_prefix(const ap_int<8> x[6], ap_int<12> y[6]);

static void recurrence_double_(const ap_int<12> y[6], ap_int<13> result[6]);

// recurrence.kiln:3: kernel prefix(x: int<8>[6]) -> int<12>[6]:
static void recurrence_prefix(const ap_int<8> x[6], ap_int<12> y[6]) {
    (void)x; (void)y;

    // i_loop: recurrence.kiln:5: for i in range(6):
    // recurrence.kiln:5: for i in range(6):
    L_i_loop_i: for (int i0_i = 0; i0_i < 6; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // recurrence.kiln:6: y[i] = (y[i - 1] if i > 0 else 0) + x[i]
        kiln::put(y[(i0_i)], kiln::cvt_int<ap_int<12> >(kiln::add<kiln::fx<13, 13> >((kiln::lt(kiln::konst<kiln::ufx<1, 1> >(0ULL), kiln::from_loop<kiln::ufx<3, 3> >(i0_i)) ? kiln::val(y[kiln::clampi((i0_i - 1), 6)]) : kiln::to_fixed<kiln::fx<12, 12> >(kiln::konst<kiln::ufx<1, 1> >(0ULL))), kiln::to_fixed<kiln::fx<3, 3> >(kiln::val(x[(i0_i)])))));
    }
}

// recurrence.kiln:9: kernel double(y: int<12>[6]) -> int<13>[6]:
static void recurrence_double_(const ap_int<12> y[6], ap_int<13> result[6]) {
    (void)y; (void)result;

    // result_store: recurrence.kiln:10: return [y[i] * 2 for i in range(6)]
    // recurrence.kiln:10: return [y[i] * 2 for i in range(6)]
    L_result_store_i: for (int i0_i = 0; i0_i < 6; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // recurrence.kiln:10: return [y[i] * 2 for i in range(6)]
        kiln::put(result[(i0_i)], kiln::cvt_int<ap_int<13> >(kiln::mul<kiln::fx<13, 13> >(kiln::val(y[(i0_i)]), kiln::konst<kiln::ufx<2, 2> >(2ULL))));
    }
}

// recurrence.kiln:12: kernel main() -> int<13>[6]:
void recurrence(ap_int<13> result[6]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem0 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static ap_int<3> t_x[6];
    static ap_int<8> t_x_2[6];
    static ap_int<12> t_prefix_out[6];
    (void)result; (void)t_x; (void)t_x_2; (void)t_prefix_out;

    // x_arg: recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    L_x_arg_i: for (int i0_i = 0; i0_i < 6; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
        kiln::put(t_x[(i0_i)], kiln::cvt_int<ap_int<3> >(kiln::sub<kiln::fx<3, 3> >(kiln::from_loop<kiln::ufx<3, 3> >(i0_i), kiln::konst<kiln::ufx<2, 2> >(2ULL))));
    }

    // x_convert: recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    L_x_convert_i0: for (int i1_i0 = 0; i1_i0 < 6; i1_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
        kiln::put(t_x_2[(i1_i0)], kiln::cvt_int<ap_int<8> >(kiln::val(t_x[(i1_i0)])));
    }

    // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    recurrence_prefix(t_x_2, t_prefix_out);

    // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    recurrence_double_(t_prefix_out, result);
}

