// call.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "call.h"
#include "call_weights.h"

static void call_scale(const ap_fixed<8, 4> x[5], ap_fixed<16, 8> result[5]);

static void call_relu(const ap_fixed<16, 8> x[5], ap_fixed<16, 8> result[5]);

static void call_scale_1(const ap_fixed<16, 8> x[5], ap_fixed<16, 8> result[5]);

// call.kiln:4: kernel scale[T](x: T[N], k: const) -> fixed<16, 8>[N]:
// instance of `scale` with N=5, T=fixed<8, 4>, k=3
static void call_scale(const ap_fixed<8, 4> x[5], ap_fixed<16, 8> result[5]) {
    (void)x; (void)result;

    // result_store: call.kiln:5: return [x[i] * k for i in range(N)]
    // call.kiln:5: return [x[i] * k for i in range(N)]
    L_result_store_i: for (int i0_i = 0; i0_i < 5; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // call.kiln:5: return [x[i] * k for i in range(N)]
        result[(i0_i)] = kiln::to_fixed<ap_fixed<16, 8> >(kiln::to_fixed<ap_fixed<10, 6> >(kiln::s(kiln::val(x[(i0_i)])) * kiln::s(kiln::from_raw<ap_ufixed<2, 2> >(ap_uint<2>(3ULL)))));
    }
}

// nn.kiln:46: kernel relu[T](x: T[*S]) -> T[*S]:
// instance of `relu` with T=fixed<16, 8>
static void call_relu(const ap_fixed<16, 8> x[5], ap_fixed<16, 8> result[5]) {
    (void)x; (void)result;

    // result_store: nn.kiln:47: return map(lambda v: max(v, 0), x)
    // nn.kiln:47: return map(lambda v: max(v, 0), x)
    L_result_store_i0: for (int i0_i0 = 0; i0_i0 < 5; i0_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // nn.kiln:47: return map(lambda v: max(v, 0), x)
        result[(i0_i0)] = kiln::to_fixed<ap_fixed<16, 8> >(kiln::max_<ap_ufixed<13, 5> >(kiln::to_fixed<ap_fixed<14, 6> >(kiln::val(x[(i0_i0)])), kiln::from_raw<ap_ufixed<1, 1> >(ap_uint<1>(0ULL))));
    }
}

// call.kiln:4: kernel scale[T](x: T[N], k: const) -> fixed<16, 8>[N]:
// instance of `scale` with N=5, T=fixed<16, 8>, k=-2
static void call_scale_1(const ap_fixed<16, 8> x[5], ap_fixed<16, 8> result[5]) {
    (void)x; (void)result;

    // result_store: call.kiln:5: return [x[i] * k for i in range(N)]
    // call.kiln:5: return [x[i] * k for i in range(N)]
    L_result_store_i: for (int i0_i = 0; i0_i < 5; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // call.kiln:5: return [x[i] * k for i in range(N)]
        result[(i0_i)] = kiln::to_fixed<ap_fixed<16, 8> >(kiln::to_fixed<ap_fixed<15, 7> >(kiln::s(kiln::to_fixed<ap_ufixed<13, 5> >(kiln::val(x[(i0_i)]))) * kiln::s(kiln::from_raw<ap_fixed<2, 2> >(ap_uint<2>(2ULL)))));
    }
}

// A dataflow stage: `call_scale` between streams.
static void call_scale_stage1(const ap_fixed<8, 4> x[5], hls::stream<ap_fixed<16, 8> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<16, 8> b_result[5];
    call_scale(x, b_result);
    // write `result`
    L_write_result: for (int c0 = 0; c0 < 5; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        result.write(b_result[c0]);
    }
}

// A dataflow stage: `call_relu` between streams.
static void call_relu_stage2(hls::stream<ap_fixed<16, 8> > &x, hls::stream<ap_fixed<16, 8> > &result) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<16, 8> b_x[5];
    static ap_fixed<16, 8> b_result[5];
    // read `x`
    L_read_x: for (int c0 = 0; c0 < 5; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        b_x[c0] = x.read();
    }
    call_relu(b_x, b_result);
    // write `result`
    L_write_result: for (int c0 = 0; c0 < 5; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        result.write(b_result[c0]);
    }
}

// A dataflow stage: `call_scale_1` between streams.
static void call_scale_1_stage3(hls::stream<ap_fixed<16, 8> > &x, ap_fixed<16, 8> result[5]) {
    KILN_PRAGMA(HLS INLINE off)
    static ap_fixed<16, 8> b_x[5];
    // read `x`
    L_read_x: for (int c0 = 0; c0 < 5; c0++) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        b_x[c0] = x.read();
    }
    call_scale_1(b_x, result);
}

// call.kiln:7: kernel main(x: fixed<8, 4>[5] = load("../fixtures/hls_x5.npy")) -> fixed<16, 8>[5]:
void call(const ap_fixed<8, 4> x[5], ap_fixed<16, 8> z[5]) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=x offset=slave bundle=gmem0 depth=5)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=z offset=slave bundle=gmem1 depth=5)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    KILN_PRAGMA(HLS DATAFLOW)
    static hls::stream<ap_fixed<16, 8> > t_scale_out;
    KILN_PRAGMA(HLS STREAM variable=t_scale_out depth=5)
    static hls::stream<ap_fixed<16, 8> > t_relu_out;
    KILN_PRAGMA(HLS STREAM variable=t_relu_out depth=5)
    (void)x; (void)z; (void)t_scale_out; (void)t_relu_out;

    // call.kiln:8: y = scale(x, k=3)
    call_scale_stage1(x, t_scale_out);

    // call.kiln:9: z = scale(relu(y), k=-2)
    call_relu_stage2(t_scale_out, t_relu_out);

    // call.kiln:9: z = scale(relu(y), k=-2)
    call_scale_1_stage3(t_relu_out, z);
}

