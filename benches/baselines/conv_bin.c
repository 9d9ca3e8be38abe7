/* Baseline for examples/bench/conv_bin.kiln: an optimized binary conv, XNOR/popcount on
 * bits packed along the input channels in 64-bit words.
 *
 *   gcc -O3 -march=native conv_bin.c -o conv_bin
 *   ./conv_bin RUNS out.npy conv_bin_x.npy conv_bin_w.npy
 *
 * bin values -1/+1 are bits 0/1. The product of two is +1 when the bits are equal, so
 * the sum of n products is n - 2 * popcount(x XOR w). The bits are packed channel-last,
 * xp[h][w][word] and wp[k][u][v][word]; padding bits of the last word are 0 in both, so
 * they XOR to 0 and add nothing. The packing is done once before timing (weights are
 * packed offline in a real design, and activations come packed from the previous
 * binary layer); its cost is printed separately. Result: int16, like kiln's int<16>.
 * Sizes are compile-time constants (-DCI=.. -DCO=.. -DHI=.. -DWI=..). */
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

__attribute__((noinline)) static void conv(const uint64_t xp[HI][WI][NW],
                                           const uint64_t wp[CO][3][3][NW],
                                           int16_t y[CO][HO][WO]) {
    for (int k = 0; k < CO; k++)
        for (int i = 0; i < HO; i++)
            for (int j = 0; j < WO; j++) {
                int pop = 0;
                for (int u = 0; u < 3; u++)
                    for (int v = 0; v < 3; v++)
                        for (int q = 0; q < NW; q++)
                            pop += __builtin_popcountll(xp[i + u][j + v][q] ^ wp[k][u][v][q]);
                y[k][i][j] = (int16_t)(CI * 9 - 2 * pop);
            }
}

__attribute__((noinline)) static void pack_x(const int8_t *x, uint64_t xp[HI][WI][NW]) {
    memset(xp, 0, sizeof(uint64_t) * HI * WI * NW);
    for (int c = 0; c < CI; c++)
        for (int h = 0; h < HI; h++)
            for (int w = 0; w < WI; w++)
                if (x[((long)c * HI + h) * WI + w] > 0) xp[h][w][c / 64] |= 1ull << (c % 64);
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
    /* kiln converts integers to bin as +1 if x >= 0, else -1 */
    static uint64_t xp[HI][WI][NW], wp[CO][3][3][NW];
    for (long n = 0; n < (long)CI * HI * WI; n++) x[n] = x[n] >= 0 ? 1 : -1;
    for (int k = 0; k < CO; k++)
        for (int c = 0; c < CI; c++)
            for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++)
                    if (w[(((long)k * CI + c) * 3 + u) * 3 + v] >= 0)
                        wp[k][u][v][c / 64] |= 1ull << (c % 64);
    double tp = now_ms();
    pack_x(x, xp);
    tp = now_ms() - tp;
    static int16_t y[CO][HO][WO];
    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        conv(xp, wp, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    long od[3] = {CO, HO, WO};
    npy_write(argv[2], "<i2", 3, od, y, sizeof(int16_t));
    fprintf(stderr, "packing the activations (not in the kernel time): %.3f ms\n", tp);
    report_median(t, runs);
    return 0;
}
