// schedule.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "schedule.h"
#include "schedule_weights.h"

// schedule.kiln:5: kernel main(x: fixed<8, 4>[4, 8] = load("../../fixtures/hls_x.npy")) -> fixed<16, 8>[4]:
void schedule(const ap_fixed<8, 4> x[4][8], ap_fixed<16, 8> y[4]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=32)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=y offset=slave bundle=gmem1 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_w type=cyclic factor=4 dim=1)
    kiln::fx<12, 8> l0_acc;
    (void)x; (void)y; (void)l0_acc;

    // i_loop: schedule.kiln:7: for i in range(4):
    // schedule.kiln:7: for i in range(4):
    L_i_loop_i: for (int i0_i = 0; i0_i < 4; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // schedule.kiln:8: acc = 0
        l0_acc = kiln::cvt<ap_fixed<12, 8> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // schedule.kiln:9: for k in range(8):
        L_i_loop_k: for (int i1_k = 0; i1_k < 8; i1_k += 1) {
            KILN_PRAGMA(HLS UNROLL factor=4)
            // schedule.kiln:10: acc += x[i, k] * w[k]
            l0_acc = kiln::cvt<ap_fixed<12, 8> >(kiln::add<kiln::fx<12, 8> >(l0_acc, kiln::mul<kiln::fx<10, 6> >(kiln::val(x[(i0_i)][(i1_k)]), kiln::val(w_w[(i1_k)]))));
        }
        // schedule.kiln:11: y[i] = acc
        kiln::put(y[(i0_i)], kiln::cvt<ap_fixed<16, 8> >(l0_acc));
    }
}

