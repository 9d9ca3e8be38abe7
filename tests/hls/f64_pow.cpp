// f64_pow.cpp: the kernel `main` as Vitis HLS C++. Written by kiln; every loop and
// statement names the source line it comes from.
#include "f64_pow.h"
#include "f64_pow_weights.h"

static void f64_pow_act(const double x[8], const float y[8], double a[8], double b[8], double c[8], double d[8], float e[8], double f[8]);

// f64_pow.kiln:4: kernel act(x: f64[8], y: f32[8]) -> (f64[8], f64[8], f64[8], f64[8], f32[8], f64[8]):
static void f64_pow_act(const double x[8], const float y[8], double a[8], double b[8], double c[8], double d[8], float e[8], double f[8]) {
    double l0_pow;
    double l1_pow;
    float l2_pow;
    (void)x; (void)y; (void)a; (void)b; (void)c; (void)d;
    (void)e; (void)f; (void)l0_pow; (void)l1_pow; (void)l2_pow;

    // a_assign: f64_pow.kiln:5: a = [sqrt(x[i] * x[i] + 1.0) + exp(x[i]) - log(abs(x[i]) + 0.5) for i in range(8)]
    // f64_pow.kiln:5: a = [sqrt(x[i] * x[i] + 1.0) + exp(x[i]) - log(abs(x[i]) + 0.5) for i in range(8)]
    L_a_assign_i: for (int i0_i = 0; i0_i < 8; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:5: a = [sqrt(x[i] * x[i] + 1.0) + exp(x[i]) - log(abs(x[i]) + 0.5) for i in range(8)]
        a[(i0_i)] = ((kiln::math_sqrt(((x[(i0_i)] * x[(i0_i)]) + kiln::f64_from_bits(0x3ff0000000000000ULL))) + kiln::math_exp(x[(i0_i)])) - kiln::math_log((kiln::fabs_(x[(i0_i)]) + kiln::f64_from_bits(0x3fe0000000000000ULL))));
    }

    // b_assign: f64_pow.kiln:6: b = [tanh(x[i]) + sigmoid(x[i]) + x[i] ** 3 - x[i] ** -2 for i in range(8)]
    // f64_pow.kiln:6: b = [tanh(x[i]) + sigmoid(x[i]) + x[i] ** 3 - x[i] ** -2 for i in range(8)]
    L_b_assign_i: for (int i1_i = 0; i1_i < 8; i1_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:6: b = [tanh(x[i]) + sigmoid(x[i]) + x[i] ** 3 - x[i] ** -2 for i in range(8)]
        l0_pow = x[(i1_i)];
        // f64_pow.kiln:6: b = [tanh(x[i]) + sigmoid(x[i]) + x[i] ** 3 - x[i] ** -2 for i in range(8)]
        l1_pow = x[(i1_i)];
        // f64_pow.kiln:6: b = [tanh(x[i]) + sigmoid(x[i]) + x[i] ** 3 - x[i] ** -2 for i in range(8)]
        b[(i1_i)] = (((kiln::math_tanh(x[(i1_i)]) + kiln::math_sigmoid(x[(i1_i)])) + ((l0_pow * l0_pow) * l0_pow)) - (kiln::f64_from_bits(0x3ff0000000000000ULL) / (l1_pow * l1_pow)));
    }

    // c_assign: f64_pow.kiln:7: c = [abs(x[i]) ** 0.5 + 2.0 ** x[i] + abs(x[i]) ** y[i] for i in range(8)]
    // f64_pow.kiln:7: c = [abs(x[i]) ** 0.5 + 2.0 ** x[i] + abs(x[i]) ** y[i] for i in range(8)]
    L_c_assign_i: for (int i2_i = 0; i2_i < 8; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:7: c = [abs(x[i]) ** 0.5 + 2.0 ** x[i] + abs(x[i]) ** y[i] for i in range(8)]
        c[(i2_i)] = ((kiln::math_pow(kiln::fabs_(x[(i2_i)]), kiln::f64_from_bits(0x3fe0000000000000ULL)) + kiln::math_pow(kiln::f64_from_bits(0x4000000000000000ULL), x[(i2_i)])) + kiln::math_pow(kiln::fabs_(x[(i2_i)]), ((double)y[(i2_i)])));
    }

    // d_assign: f64_pow.kiln:8: d = [x[i] * y[i] + min(x[i], y[i]) - max(x[i], 0.25) for i in range(8)]
    // f64_pow.kiln:8: d = [x[i] * y[i] + min(x[i], y[i]) - max(x[i], 0.25) for i in range(8)]
    L_d_assign_i: for (int i3_i = 0; i3_i < 8; i3_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:8: d = [x[i] * y[i] + min(x[i], y[i]) - max(x[i], 0.25) for i in range(8)]
        d[(i3_i)] = (((x[(i3_i)] * ((double)y[(i3_i)])) + kiln::fmin_(x[(i3_i)], ((double)y[(i3_i)]))) - kiln::fmax_(x[(i3_i)], kiln::f64_from_bits(0x3fd0000000000000ULL)));
    }

    // e_assign: f64_pow.kiln:9: e = [y[i] ** 2 + abs(y[i]) ** 1.5 + f32(x[i]) for i in range(8)]
    // f64_pow.kiln:9: e = [y[i] ** 2 + abs(y[i]) ** 1.5 + f32(x[i]) for i in range(8)]
    L_e_assign_i: for (int i4_i = 0; i4_i < 8; i4_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:9: e = [y[i] ** 2 + abs(y[i]) ** 1.5 + f32(x[i]) for i in range(8)]
        l2_pow = y[(i4_i)];
        // f64_pow.kiln:9: e = [y[i] ** 2 + abs(y[i]) ** 1.5 + f32(x[i]) for i in range(8)]
        e[(i4_i)] = (((l2_pow * l2_pow) + kiln::math_pow(kiln::fabs_(y[(i4_i)]), kiln::f32_from_bits(0x3fc00000u))) + ((float)x[(i4_i)]));
    }

    // f_assign: f64_pow.kiln:10: f = [(x[i] if x[i] < y[i] else f64(y[i]) / 3.0) for i in range(8)]
    // f64_pow.kiln:10: f = [(x[i] if x[i] < y[i] else f64(y[i]) / 3.0) for i in range(8)]
    L_f_assign_i: for (int i5_i = 0; i5_i < 8; i5_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:10: f = [(x[i] if x[i] < y[i] else f64(y[i]) / 3.0) for i in range(8)]
        f[(i5_i)] = ((x[(i5_i)] < ((double)y[(i5_i)])) ? x[(i5_i)] : (((double)y[(i5_i)]) / kiln::f64_from_bits(0x4008000000000000ULL)));
    }
}

// f64_pow.kiln:13: kernel main() -> (f64[8], f64[8], f64[8], f64[8], f32[8], f64[8], fixed<12, 4, rnd, sat>[6], int<16>[6], fixed<8, 4>[6], bool[6], f64, f64):
void f64_pow(double a[8], double b[8], double c[8], double d[8], float e[8], double f[8], ap_fixed<12, 4, AP_RND, AP_SAT> sat[6], ap_int<16> ints[6], ap_fixed<8, 4> wrap[6], bool nz[6], double &exact, double &tiny) {
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=a offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=b offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=c offset=slave bundle=gmem2 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=d offset=slave bundle=gmem3 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=e offset=slave bundle=gmem0 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=f offset=slave bundle=gmem1 depth=8)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=sat offset=slave bundle=gmem2 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=ints offset=slave bundle=gmem3 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=wrap offset=slave bundle=gmem0 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=m_axi port=nz offset=slave bundle=gmem1 depth=6)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=exact)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=tiny)
    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)
    static double t_x[8];
    static float t_y[8];
    static double t_z[6];
    static double t_w[6];
    static ap_fixed<12, 4> t_sat[6];
    double t_exact;
    double t_tiny;
    double l0_exact;
    double l1_tiny;
    double l2_exact;
    double l3_tiny;
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)f;
    (void)sat; (void)ints; (void)wrap; (void)nz; (void)exact; (void)tiny;
    (void)t_x; (void)t_y; (void)t_z; (void)t_w; (void)t_sat; (void)t_exact;
    (void)t_tiny; (void)l0_exact; (void)l1_tiny; (void)l2_exact; (void)l3_tiny;

    // x: f64_pow.kiln:14: x: f64[8] = [f64(i) * 0.7 - 2.3 for i in range(8)]
    // f64_pow.kiln:14: x: f64[8] = [f64(i) * 0.7 - 2.3 for i in range(8)]
    L_x_i: for (int i0_i = 0; i0_i < 8; i0_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:14: x: f64[8] = [f64(i) * 0.7 - 2.3 for i in range(8)]
        t_x[(i0_i)] = ((kiln::to_f64(kiln::from_loop<kiln::ufx<3, 3> >(i0_i)) * kiln::f64_from_bits(0x3fe6666666666666ULL)) - kiln::f64_from_bits(0x4002666666666666ULL));
    }

    // y: f64_pow.kiln:15: y: f32[8] = [f32(i) * 0.45 - 1.1 for i in range(8)]
    // f64_pow.kiln:15: y: f32[8] = [f32(i) * 0.45 - 1.1 for i in range(8)]
    L_y_i: for (int i1_i = 0; i1_i < 8; i1_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:15: y: f32[8] = [f32(i) * 0.45 - 1.1 for i in range(8)]
        t_y[(i1_i)] = ((kiln::to_f32(kiln::from_loop<kiln::ufx<3, 3> >(i1_i)) * kiln::f32_from_bits(0x3ee66666u)) - kiln::f32_from_bits(0x3f8ccccdu));
    }

    // f64_pow.kiln:16: a, b, c, d, e, f = act(x, y)
    f64_pow_act(t_x, t_y, a, b, c, d, e, f);

    // z: f64_pow.kiln:17: z: f64[6] = [exp(f64(i) * 400.0 - 700.0) - 2.0 for i in range(6)]
    // f64_pow.kiln:17: z: f64[6] = [exp(f64(i) * 400.0 - 700.0) - 2.0 for i in range(6)]
    L_z_i: for (int i2_i = 0; i2_i < 6; i2_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:17: z: f64[6] = [exp(f64(i) * 400.0 - 700.0) - 2.0 for i in range(6)]
        t_z[(i2_i)] = (kiln::math_exp(((kiln::to_f64(kiln::from_loop<kiln::ufx<3, 3> >(i2_i)) * kiln::f64_from_bits(0x4079000000000000ULL)) - kiln::f64_from_bits(0x4085e00000000000ULL))) - kiln::f64_from_bits(0x4000000000000000ULL));
    }

    // w_assign: f64_pow.kiln:18: w = [log(f64(i) - 1.0) for i in range(6)]
    // f64_pow.kiln:18: w = [log(f64(i) - 1.0) for i in range(6)]
    L_w_assign_i: for (int i3_i = 0; i3_i < 6; i3_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:18: w = [log(f64(i) - 1.0) for i in range(6)]
        t_w[(i3_i)] = kiln::math_log((kiln::to_f64(kiln::from_loop<kiln::ufx<3, 3> >(i3_i)) - kiln::f64_from_bits(0x3ff0000000000000ULL)));
    }

    // sat_assign: f64_pow.kiln:19: sat = [fixed<12, 4, rnd, sat>(z[i] + w[i]) for i in range(6)]
    // f64_pow.kiln:19: sat = [fixed<12, 4, rnd, sat>(z[i] + w[i]) for i in range(6)]
    L_sat_assign_i: for (int i4_i = 0; i4_i < 6; i4_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:19: sat = [fixed<12, 4, rnd, sat>(z[i] + w[i]) for i in range(6)]
        kiln::put(t_sat[(i4_i)], kiln::cvt<ap_fixed<12, 4> >(kiln::val(kiln::fixed_from_f64<ap_fixed<12, 4, AP_RND, AP_SAT> >((t_z[(i4_i)] + t_w[(i4_i)])))));
    }

    // ints_assign: f64_pow.kiln:20: ints = [int<16>(w[i] * 1000.0) for i in range(6)]
    // f64_pow.kiln:20: ints = [int<16>(w[i] * 1000.0) for i in range(6)]
    L_ints_assign_i: for (int i5_i = 0; i5_i < 6; i5_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:20: ints = [int<16>(w[i] * 1000.0) for i in range(6)]
        kiln::put(ints[(i5_i)], kiln::cvt_int<ap_int<16> >(kiln::val(kiln::int_from_f64<ap_int<16> >((t_w[(i5_i)] * kiln::f64_from_bits(0x408f400000000000ULL))))));
    }

    // wrap_assign: f64_pow.kiln:21: wrap = [fixed<8, 4>(z[i] * w[i]) for i in range(6)]
    // f64_pow.kiln:21: wrap = [fixed<8, 4>(z[i] * w[i]) for i in range(6)]
    L_wrap_assign_i: for (int i6_i = 0; i6_i < 6; i6_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:21: wrap = [fixed<8, 4>(z[i] * w[i]) for i in range(6)]
        kiln::put(wrap[(i6_i)], kiln::cvt<ap_fixed<8, 4> >(kiln::val(kiln::fixed_from_f64<ap_fixed<8, 4> >((t_z[(i6_i)] * t_w[(i6_i)])))));
    }

    // nz_assign: f64_pow.kiln:22: nz = [bool(w[i]) for i in range(6)]
    // f64_pow.kiln:22: nz = [bool(w[i]) for i in range(6)]
    L_nz_assign_i: for (int i7_i = 0; i7_i < 6; i7_i += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:22: nz = [bool(w[i]) for i in range(6)]
        nz[(i7_i)] = kiln::to_bool(kiln::to_bool(t_w[(i7_i)]));
    }

    // exact_assign: f64_pow.kiln:23: exact = f64(fixed<40, 4>(0.1)) + f64(int<60>(123456789012345678))
    // f64_pow.kiln:23: exact = f64(fixed<40, 4>(0.1)) + f64(int<60>(123456789012345678))
    l0_exact = (kiln::to_f64(kiln::to_fixed<kiln::ufx<33, -3> >(kiln::cvt<ap_fixed<40, 4> >(kiln::konst<kiln::ufx<52, -3> >(3602879701896397ULL)))) + kiln::to_f64(kiln::to_fixed<kiln::ufx<57, 57> >(kiln::cvt_int<ap_int<60> >(kiln::konst<kiln::ufx<57, 57> >(123456789012345678ULL)))));
    // f64_pow.kiln:23: exact = f64(fixed<40, 4>(0.1)) + f64(int<60>(123456789012345678))
    t_exact = l0_exact;

    // tiny_assign: f64_pow.kiln:24: tiny = f64(fixed<8, -1000>(0.0)) + 2.0 ** -1074.0
    // f64_pow.kiln:24: tiny = f64(fixed<8, -1000>(0.0)) + 2.0 ** -1074.0
    l1_tiny = (kiln::to_f64(kiln::to_fixed<kiln::ufx<1, -1007> >(kiln::cvt<ap_fixed<8, -1000> >(kiln::konst<kiln::ufx<1, 1> >(0ULL)))) + kiln::math_pow(kiln::f64_from_bits(0x4000000000000000ULL), kiln::f64_from_bits(0xc090c80000000000ULL)));
    // f64_pow.kiln:24: tiny = f64(fixed<8, -1000>(0.0)) + 2.0 ** -1074.0
    t_tiny = l1_tiny;

    // sat_store: f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
    // f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
    L_sat_store_i0: for (int i8_i0 = 0; i8_i0 < 6; i8_i0 += 1) {
        KILN_PRAGMA(HLS PIPELINE II=1)
        // f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
        kiln::put(sat[(i8_i0)], kiln::cvt<ap_fixed<12, 4, AP_RND, AP_SAT> >(kiln::val(t_sat[(i8_i0)])));
    }

    // exact_store: f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
    // f64_pow.kiln:23: exact = f64(fixed<40, 4>(0.1)) + f64(int<60>(123456789012345678))
    l2_exact = t_exact;
    // f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
    exact = l2_exact;

    // tiny_store: f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
    // f64_pow.kiln:24: tiny = f64(fixed<8, -1000>(0.0)) + 2.0 ** -1074.0
    l3_tiny = t_tiny;
    // f64_pow.kiln:25: return a, b, c, d, e, f, sat, ints, wrap, nz, exact, tiny
    tiny = l3_tiny;
}

