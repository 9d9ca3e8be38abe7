// call.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "call.h"
#include "call_weights.h"

static void call_scale_relu_scale_1(const ap_fixed<8, 4> x[5], ap_fixed<16, 8> result[5]);

// call.kiln:4: kernel scale[T](x: T[N], k: const) -> fixed<16, 8>[N]:
// instance of `scale+relu+scale` with N=5, T=fixed<8, 4>, k=3; T=fixed<16, 8>; N=5, T=fixed<16, 8>, k=-2
static void call_scale_relu_scale_1(const ap_fixed<8, 4> x[5], ap_fixed<16, 8> result[5]) {
    kiln::fx<16, 8> l0_scale_out;
    kiln::fx<16, 8> l1_scale_relu_out;
    (void)x; (void)result; (void)l0_scale_out; (void)l1_scale_relu_out;

    // result_store: call.kiln:5: return [x[i] * k for i in range(N)]
    // call.kiln:5: return [x[i] * k for i in range(N)]
    L_result_store_i: for (int i2_i = 0; i2_i < 5; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // call.kiln:5: return [x[i] * k for i in range(N)]
        l0_scale_out = kiln::cvt<ap_fixed<16, 8> >(kiln::mul<kiln::fx<10, 6> >(kiln::val(x[(i2_i)]), kiln::konst<kiln::ufx<2, 2> >(3ULL)));
        // nn.kiln:47: return map(lambda v: max(v, 0), x)
        l1_scale_relu_out = kiln::cvt<ap_fixed<16, 8> >(kiln::max_<kiln::ufx<13, 5> >(kiln::to_fixed<kiln::fx<14, 6> >(l0_scale_out), kiln::konst<kiln::ufx<1, 1> >(0ULL)));
        // call.kiln:5: return [x[i] * k for i in range(N)]
        kiln::put(result[(i2_i)], kiln::cvt<ap_fixed<16, 8> >(kiln::mul<kiln::fx<15, 7> >(kiln::to_fixed<kiln::ufx<13, 5> >(l1_scale_relu_out), kiln::konst<kiln::fx<2, 2> >(2ULL))));
    }
}

// call.kiln:7: kernel main(x: fixed<8, 4>[5] = load("../fixtures/hls_x5.npy")) -> fixed<16, 8>[5]:
void call(const ap_fixed<8, 4> x[5], ap_fixed<16, 8> z[5]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=5)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=z offset=slave bundle=gmem1 depth=5)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    (void)x; (void)z;

    // call.kiln:8: y = scale(x, k=3)
    call_scale_relu_scale_1(x, z);
}

