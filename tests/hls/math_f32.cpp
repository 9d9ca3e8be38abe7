// math_f32.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "math_f32.h"
#include "math_f32_weights.h"

static void math_f32_act(const float x[8], float result0[8], float result1[8], float result2[8], float result3[8], float result4[8]);

// math_f32.kiln:3: kernel act(x: f32[8]) -> (f32[8], f32[8], f32[8], f32[8], f32[8]):
static void math_f32_act(const float x[8], float result0[8], float result1[8], float result2[8], float result3[8], float result4[8]) {
    (void)x; (void)result0; (void)result1; (void)result2; (void)result3; (void)result4;

    // result0_store: math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    L_result0_store_i0: for (int i0_i0 = 0; i0_i0 < 8; i0_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
        result0[(i0_i0)] = kiln::math_sqrt(((x[(i0_i0)] * x[(i0_i0)]) + kiln::f32_from_bits(0x3f800000u)));
    }

    // result1_store: math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    L_result1_store_i0: for (int i1_i0 = 0; i1_i0 < 8; i1_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
        result1[(i1_i0)] = kiln::math_exp(x[(i1_i0)]);
    }

    // result2_store: math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    L_result2_store_i0: for (int i2_i0 = 0; i2_i0 < 8; i2_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
        result2[(i2_i0)] = kiln::math_log((kiln::fabs_(x[(i2_i0)]) + kiln::f32_from_bits(0x3f000000u)));
    }

    // result3_store: math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    L_result3_store_i0: for (int i3_i0 = 0; i3_i0 < 8; i3_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
        result3[(i3_i0)] = kiln::math_tanh(x[(i3_i0)]);
    }

    // result4_store: math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
    L_result4_store_i: for (int i4_i = 0; i4_i < 8; i4_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // math_f32.kiln:4: return sqrt(x * x + 1.0), exp(x), log(abs(x) + 0.5), tanh(x), [sigmoid(x[i]) for i in range(8)]
        result4[(i4_i)] = kiln::math_sigmoid(x[(i4_i)]);
    }
}

// math_f32.kiln:6: kernel main() -> (f32[8], f32[8], f32[8], f32[8], f32[8], f32, f32, f32, f32, f32, f32):
void math_f32(float a[8], float b[8], float c[8], float d[8], float e[8], float &big, float &tiny, float &zero_log, float &neg_log, float &neg_sqrt, float &low) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=b offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=c offset=slave bundle=gmem2 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=d offset=slave bundle=gmem3 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=e offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=big)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=tiny)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=zero_log)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=neg_log)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=neg_sqrt)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=low)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static float t_x[8];
    float t_big;
    float t_tiny;
    float t_zero_log;
    float t_neg_log;
    float t_neg_sqrt;
    float t_low;
    float l0_big;
    float l1_tiny;
    float l2_zero_log;
    float l3_neg_log;
    float l4_neg_sqrt;
    float l5_low;
    float l6_big;
    float l7_tiny;
    float l8_zero_log;
    float l9_neg_log;
    float l10_neg_sqrt;
    float l11_low;
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)big;
    (void)tiny; (void)zero_log; (void)neg_log; (void)neg_sqrt; (void)low; (void)t_x;
    (void)t_big; (void)t_tiny; (void)t_zero_log; (void)t_neg_log; (void)t_neg_sqrt; (void)t_low;
    (void)l0_big; (void)l1_tiny; (void)l2_zero_log; (void)l3_neg_log; (void)l4_neg_sqrt; (void)l5_low;
    (void)l6_big; (void)l7_tiny; (void)l8_zero_log; (void)l9_neg_log; (void)l10_neg_sqrt; (void)l11_low;

    // x: math_f32.kiln:7: x: f32[8] = [f32(i) * 0.7 - 2.3 for i in range(8)]
    // math_f32.kiln:7: x: f32[8] = [f32(i) * 0.7 - 2.3 for i in range(8)]
    L_x_i: for (int i0_i = 0; i0_i < 8; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // math_f32.kiln:7: x: f32[8] = [f32(i) * 0.7 - 2.3 for i in range(8)]
        t_x[(i0_i)] = ((kiln::to_f32(kiln::from_loop<kiln::ufx<3, 3> >(i0_i)) * kiln::f32_from_bits(0x3f333333u)) - kiln::f32_from_bits(0x40133333u));
    }

    // math_f32.kiln:8: a, b, c, d, e = act(x)
    math_f32_act(t_x, a, b, c, d, e);

    // big_assign: math_f32.kiln:9: big = exp(89.0)
    // math_f32.kiln:9: big = exp(89.0)
    l0_big = kiln::math_exp(kiln::f32_from_bits(0x42b20000u));
    // math_f32.kiln:9: big = exp(89.0)
    t_big = l0_big;

    // tiny_assign: math_f32.kiln:10: tiny = exp(-104.0)
    // math_f32.kiln:10: tiny = exp(-104.0)
    l1_tiny = kiln::math_exp(kiln::f32_from_bits(0xc2d00000u));
    // math_f32.kiln:10: tiny = exp(-104.0)
    t_tiny = l1_tiny;

    // zero_log_assign: math_f32.kiln:11: zero_log = log(0.0)
    // math_f32.kiln:11: zero_log = log(0.0)
    l2_zero_log = kiln::math_log(kiln::f32_from_bits(0x00000000u));
    // math_f32.kiln:11: zero_log = log(0.0)
    t_zero_log = l2_zero_log;

    // neg_log_assign: math_f32.kiln:12: neg_log = log(-1.0)
    // math_f32.kiln:12: neg_log = log(-1.0)
    l3_neg_log = kiln::math_log(kiln::f32_from_bits(0xbf800000u));
    // math_f32.kiln:12: neg_log = log(-1.0)
    t_neg_log = l3_neg_log;

    // neg_sqrt_assign: math_f32.kiln:13: neg_sqrt = sqrt(-4.0)
    // math_f32.kiln:13: neg_sqrt = sqrt(-4.0)
    l4_neg_sqrt = kiln::math_sqrt(kiln::f32_from_bits(0xc0800000u));
    // math_f32.kiln:13: neg_sqrt = sqrt(-4.0)
    t_neg_sqrt = l4_neg_sqrt;

    // low_assign: math_f32.kiln:14: low = sigmoid(-100.0)
    // math_f32.kiln:14: low = sigmoid(-100.0)
    l5_low = kiln::math_sigmoid(kiln::f32_from_bits(0xc2c80000u));
    // math_f32.kiln:14: low = sigmoid(-100.0)
    t_low = l5_low;

    // big_store: math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    // math_f32.kiln:9: big = exp(89.0)
    l6_big = t_big;
    // math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    big = l6_big;

    // tiny_store: math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    // math_f32.kiln:10: tiny = exp(-104.0)
    l7_tiny = t_tiny;
    // math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    tiny = l7_tiny;

    // zero_log_store: math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    // math_f32.kiln:11: zero_log = log(0.0)
    l8_zero_log = t_zero_log;
    // math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    zero_log = l8_zero_log;

    // neg_log_store: math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    // math_f32.kiln:12: neg_log = log(-1.0)
    l9_neg_log = t_neg_log;
    // math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    neg_log = l9_neg_log;

    // neg_sqrt_store: math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    // math_f32.kiln:13: neg_sqrt = sqrt(-4.0)
    l10_neg_sqrt = t_neg_sqrt;
    // math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    neg_sqrt = l10_neg_sqrt;

    // low_store: math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    // math_f32.kiln:14: low = sigmoid(-100.0)
    l11_low = t_low;
    // math_f32.kiln:15: return a, b, c, d, e, big, tiny, zero_log, neg_log, neg_sqrt, low
    low = l11_low;
}

