// recurrence.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "recurrence.h"
#include "recurrence_weights.h"

static void recurrence_main_x_arg_main_x_convert_prefix(ap_int<12> y[6]);

static void recurrence_double_(const ap_int<12> y[6], ap_int<13> result[6]);

// recurrence.kiln:12: kernel main() -> int<13>[6]:
// instance of `main+main+prefix` with node `x_arg` of `main`; node `x_convert` of `main`; 
static void recurrence_main_x_arg_main_x_convert_prefix(ap_int<12> y[6]) {
    kiln::fx<3, 3> l0_main_x_arg_out;
    kiln::fx<8, 8> l1_main_x_arg_main_x_convert_out;
    (void)y; (void)l0_main_x_arg_out; (void)l1_main_x_arg_main_x_convert_out;

    // i_loop: recurrence.kiln:5: for i in range(6):
    // recurrence.kiln:5: for i in range(6):
    L_i_loop_i: for (int i4_i = 0; i4_i < 6; i4_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
        l0_main_x_arg_out = kiln::cvt_int<ap_int<3> >(kiln::sub<kiln::fx<3, 3> >(kiln::from_loop<kiln::ufx<3, 3> >(i4_i), kiln::konst<kiln::ufx<2, 2> >(2ULL)));
        // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
        l1_main_x_arg_main_x_convert_out = kiln::cvt_int<ap_int<8> >(l0_main_x_arg_out);
        // recurrence.kiln:6: y[i] = (y[i - 1] if i > 0 else 0) + x[i]
        kiln::put(y[(i4_i)], kiln::cvt_int<ap_int<12> >(kiln::add<kiln::fx<13, 13> >((kiln::lt(kiln::konst<kiln::ufx<1, 1> >(0ULL), kiln::from_loop<kiln::ufx<3, 3> >(i4_i)) ? kiln::val(y[kiln::clampi((i4_i - 1), 6)]) : kiln::to_fixed<kiln::fx<12, 12> >(kiln::konst<kiln::ufx<1, 1> >(0ULL))), kiln::to_fixed<kiln::fx<3, 3> >(l1_main_x_arg_main_x_convert_out))));
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

// A dataflow stage: `recurrence_main_x_arg_main_x_convert_prefix` between streams.
static void recurrence_main_x_arg_main_x_convert_prefix_stage1(hls::stream<ap_int<12> > &y) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<12> b_y[6];
    recurrence_main_x_arg_main_x_convert_prefix(b_y);
    // write `y`
    L_write_y: for (int c0 = 0; c0 < 6; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        y.write(b_y[c0]);
    }
}

// A dataflow stage: `recurrence_double_` between streams.
static void recurrence_double__stage2(hls::stream<ap_int<12> > &y, ap_int<13> result[6]) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_int<12> b_y[6];
    // read `y`
    L_read_y: for (int c0 = 0; c0 < 6; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        b_y[c0] = y.read();
    }
    recurrence_double_(b_y, result);
}

// recurrence.kiln:12: kernel main() -> int<13>[6]:
void recurrence(ap_int<13> result[6]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=result offset=slave bundle=gmem0 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    KILN_PRAGMA(HLS DATAFLOW)
    static hls::stream<ap_int<12> > t_prefix_out;
    KILN_PRAGMA(HLS STREAM variable=t_prefix_out depth=6)
    (void)result; (void)t_prefix_out;

    // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    recurrence_main_x_arg_main_x_convert_prefix_stage1(t_prefix_out);

    // recurrence.kiln:13: return double(prefix([i - 2 for i in range(6)]))
    recurrence_double__stage2(t_prefix_out, result);
}

