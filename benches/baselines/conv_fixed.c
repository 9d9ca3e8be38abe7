/* Baseline for examples/bench/conv_fixed.kiln: the same loop nest on plain integers.
 *
 *   gcc -O3 -march=native conv_fixed.c -o conv_fixed
 *   ./conv_fixed RUNS out.npy conv_fixed_x.npy conv_fixed_w.npy
 *
 * fixed<8, 4> activations are held as their 8-bit mantissas m (value m / 16), int<2>
 * weights as int8, the products and sums in int32 with 4 fractional bits. What kiln
 * computes, exactly (docs/language.md §6, §9.2):
 *   - `acc: fixed<24, 12>` holds mantissas with 12 fractional bits in 24 bits; every
 *     `acc += p` converts the exact sum back with trn/wrap. Each product has 4
 *     fractional bits, so nothing is quantized, and the wrap keeps the mantissa modulo
 *     2^24, i.e. the 4-fractional-bit sum modulo 2^16. Wrapping is a ring morphism, so
 *     wrapping once at the end is the same as wrapping at every step: acc = (int16_t)sum.
 *   - `y = max(acc, 0)` into fixed<8, 4> (trn, wrap): 4 fractional bits already, so no
 *     quantization; the wrap keeps the low 8 bits: y = (int8_t)max(acc, 0).
 * Sizes are compile-time constants, as in an HLS design (-DCI=.. -DCO=.. -DHI=.. -DWI=..).
 * The result is written as float64 (the exact values m / 16), like `kiln run --out`. */
#include "common.h"

#ifndef CI
#define CI 32
#endif
#ifndef CO
#define CO 32
#endif
#ifndef HI
#define HI 34
#endif
#ifndef WI
#define WI 34
#endif
#define HO (HI - 2)
#define WO (WI - 2)

__attribute__((noinline)) static void conv(const int8_t x[CI][HI][WI],
                                           const int8_t w[CO][CI][3][3],
                                           int8_t y[CO][HO][WO]) {
    for (int k = 0; k < CO; k++)
        for (int i = 0; i < HO; i++)
            for (int j = 0; j < WO; j++) {
                int32_t acc = 0;
                for (int c = 0; c < CI; c++)
                    for (int u = 0; u < 3; u++)
                        for (int v = 0; v < 3; v++)
                            acc += x[c][i + u][j + v] * w[k][c][u][v];
                int16_t a = (int16_t)acc;          /* fixed<24, 12>, wrap */
                int32_t r = a > 0 ? a : 0;         /* max(acc, 0) */
                y[k][i][j] = (int8_t)r;            /* fixed<8, 4>, wrap */
            }
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long xd[3], wd[4];
    float *xf = (float *)npy_read(argv[3], "<f4", 3, xd);
    int8_t *wi = (int8_t *)npy_read(argv[4], "|i1", 4, wd);
    check_dim("x channels", xd[0], CI);
    check_dim("x height", xd[1], HI);
    check_dim("x width", xd[2], WI);
    check_dim("w out channels", wd[0], CO);
    check_dim("w in channels", wd[1], CI);
    check_dim("w rows", wd[2], 3);
    check_dim("w columns", wd[3], 3);
    static int8_t x[CI][HI][WI], w[CO][CI][3][3], y[CO][HO][WO];
    /* Inputs converted as kiln converts them: fixed<8, 4> takes floor(v * 16) wrapped
     * to 8 bits; int<2> wraps the integer to 2 bits. */
    for (long n = 0; n < (long)CI * HI * WI; n++) {
        double m = (double)xf[n] * 16.0;
        long long f = (long long)m;
        if ((double)f > m) f--; /* floor */
        ((int8_t *)x)[n] = (int8_t)f;
    }
    for (long n = 0; n < (long)CO * CI * 9; n++)
        ((int8_t *)w)[n] = (int8_t)(((wi[n] + 2) & 3) - 2);

    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        conv(x, w, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    static double out[CO][HO][WO];
    for (long n = 0; n < (long)CO * HO * WO; n++) ((double *)out)[n] = ((int8_t *)y)[n] / 16.0;
    long od[3] = {CO, HO, WO};
    npy_write(argv[2], "<f8", 3, od, out, sizeof(double));
    report_median(t, runs);
    return 0;
}
