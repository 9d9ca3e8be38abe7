/* Baseline for examples/bench/conv_tern.kiln: a ternary conv (activations and weights in
 * -1/0/+1), two bit planes per tensor packed along the input channels in 64-bit words.
 *
 *   gcc -O3 -march=native conv_tern.c -o conv_tern
 *   ./conv_tern RUNS out.npy conv_tern_x.npy conv_tern_w.npy
 *
 * Each value is a sign bit (value < 0) and a non-zero bit. A product is non-zero where
 * both factors are, and -1 where their signs differ, so a sum of products is
 * popcount(nz & ~(sx ^ sw)) - popcount(nz & (sx ^ sw)) with nz = nzx & nzw; padding bits
 * are 0 in the non-zero planes. The packing is done before timing (the weights offline,
 * the activations as the previous ternary layer would hand them over; its time is
 * printed separately). Result: int16, like kiln's int<16>. Sizes are compile-time
 * constants (-DCI=.. -DCO=.. -DHI=.. -DWI=..). */
#include "common.h"

#ifndef CI
#define CI 128
#endif
#ifndef CO
#define CO 128
#endif
#ifndef HI
#define HI 30
#endif
#ifndef WI
#define WI 30
#endif
#define HO (HI - 2)
#define WO (WI - 2)
#define NW ((CI + 63) / 64)

__attribute__((noinline)) static void conv(const uint64_t xs[HI][WI][NW],
                                           const uint64_t xn[HI][WI][NW],
                                           const uint64_t ws[CO][3][3][NW],
                                           const uint64_t wn[CO][3][3][NW],
                                           int16_t y[CO][HO][WO]) {
    for (int k = 0; k < CO; k++)
        for (int i = 0; i < HO; i++)
            for (int j = 0; j < WO; j++) {
                int sum = 0;
                for (int u = 0; u < 3; u++)
                    for (int v = 0; v < 3; v++)
                        for (int q = 0; q < NW; q++) {
                            uint64_t nz = xn[i + u][j + v][q] & wn[k][u][v][q];
                            uint64_t d = xs[i + u][j + v][q] ^ ws[k][u][v][q];
                            sum += __builtin_popcountll(nz & ~d) - __builtin_popcountll(nz & d);
                        }
                y[k][i][j] = (int16_t)sum;
            }
}

__attribute__((noinline)) static void pack_x(const int8_t *x, uint64_t xs[HI][WI][NW],
                                             uint64_t xn[HI][WI][NW]) {
    memset(xs, 0, sizeof(uint64_t) * HI * WI * NW);
    memset(xn, 0, sizeof(uint64_t) * HI * WI * NW);
    for (int c = 0; c < CI; c++)
        for (int h = 0; h < HI; h++)
            for (int w = 0; w < WI; w++) {
                int8_t v = x[((long)c * HI + h) * WI + w];
                if (v < 0) xs[h][w][c / 64] |= 1ull << (c % 64);
                if (v != 0) xn[h][w][c / 64] |= 1ull << (c % 64);
            }
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long xd[3], wd[4];
    int8_t *x = (int8_t *)npy_read(argv[3], "|i1", 3, xd);
    int8_t *w = (int8_t *)npy_read(argv[4], "|i1", 4, wd);
    check_dim("x channels", xd[0], CI);
    check_dim("x height", xd[1], HI);
    check_dim("x width", xd[2], WI);
    check_dim("w out channels", wd[0], CO);
    check_dim("w in channels", wd[1], CI);
    check_dim("w rows", wd[2], 3);
    check_dim("w columns", wd[3], 3);
    /* kiln converts integers to tern by their sign (-1, 0, +1) */
    for (long n = 0; n < (long)CI * HI * WI; n++) x[n] = (x[n] > 0) - (x[n] < 0);
    static uint64_t xs[HI][WI][NW], xn[HI][WI][NW], ws[CO][3][3][NW], wn[CO][3][3][NW];
    for (int k = 0; k < CO; k++)
        for (int c = 0; c < CI; c++)
            for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++) {
                    int8_t t = w[(((long)k * CI + c) * 3 + u) * 3 + v];
                    if (t < 0) ws[k][u][v][c / 64] |= 1ull << (c % 64);
                    if (t != 0) wn[k][u][v][c / 64] |= 1ull << (c % 64);
                }
    double tp = now_ms();
    pack_x(x, xs, xn);
    tp = now_ms() - tp;
    static int16_t y[CO][HO][WO];
    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        conv(xs, xn, ws, wn, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    long od[3] = {CO, HO, WO};
    npy_write(argv[2], "<i2", 3, od, y, sizeof(int16_t));
    fprintf(stderr, "packing the activations (not in the kernel time): %.3f ms\n", tp);
    report_median(t, runs);
    return 0;
}
