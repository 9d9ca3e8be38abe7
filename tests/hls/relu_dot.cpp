// relu_dot.cpp: the kernel `relu_dot` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "relu_dot.h"
#include "relu_dot_weights.h"

// relu_dot.kiln:2: kernel relu_dot(x: fixed<8, 4>[4, 8] = load("../fixtures/hls_x.npy"), w: int<3>[8] = load("../fixtures/hls_w.npy")) -> fixed<10, 6, rnd, sat>[4]:
void relu_dot(const ap_fixed<8, 4> x[4][8], const ap_int<3> w[8], ap_fixed<10, 6, AP_RND, AP_SAT> y[4]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=32)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=w offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=y offset=slave bundle=gmem2 depth=4)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    kiln::fx<14, 10> l0_acc;
    (void)x; (void)w; (void)y; (void)l0_acc;

    // i_loop: relu_dot.kiln:4: for i in range(4):
    // relu_dot.kiln:4: for i in range(4):
    L_i_loop_i: for (int i0_i = 0; i0_i < 4; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // relu_dot.kiln:5: acc = 0
        l0_acc = kiln::cvt<ap_fixed<14, 10> >(kiln::konst<kiln::ufx<1, 1> >(0ULL));
        // relu_dot.kiln:6: for k in range(8):
        L_i_loop_k: for (int i1_k = 0; i1_k < 8; i1_k += 1) {
            // relu_dot.kiln:7: acc += x[i, k] * w[k]
            l0_acc = kiln::cvt<ap_fixed<14, 10> >(kiln::add<kiln::fx<14, 10> >(l0_acc, kiln::mul<kiln::fx<11, 7> >(kiln::val(x[(i0_i)][(i1_k)]), kiln::val(w[(i1_k)]))));
        }
        // relu_dot.kiln:8: y[i] = max(acc, 0)
        kiln::put(y[(i0_i)], kiln::cvt<ap_fixed<10, 6, AP_RND, AP_SAT> >(kiln::max_<kiln::ufx<13, 9> >(l0_acc, kiln::konst<kiln::ufx<1, 1> >(0ULL))));
    }
}

