/* Baseline for examples/bench/conv_f32.kiln: the naive loop nest in the script's
 * summation order, so that the results are bit-identical.
 *
 *   gcc -O3 -march=native -ffp-contract=off conv_f32.c -o conv_f32
 *   ./conv_f32 RUNS out.npy conv_f32_x.npy conv_f32_w.npy
 *
 * For each output (k, i, j): acc = 0.0f; acc += x[c][i+u][j+v] * w[k][c][u][v] for c, u,
 * v in that order (-ffp-contract=off: no fused multiply-add); y = max(acc, 0.0) with
 * kiln's (C++ std::max) definition, acc < 0 ? 0 : acc. Without -ffast-math gcc cannot
 * reorder the sum, so this is the honest "same order" baseline.
 * Sizes are compile-time constants (-DCI=.. -DCO=.. -DHI=.. -DWI=..). */
#include "common.h"

#ifndef CI
#define CI 64
#endif
#ifndef CO
#define CO 64
#endif
#ifndef HI
#define HI 58
#endif
#ifndef WI
#define WI 58
#endif
#define HO (HI - 2)
#define WO (WI - 2)

__attribute__((noinline)) static void conv(const float x[CI][HI][WI], const float w[CO][CI][3][3],
                                           float y[CO][HO][WO]) {
    for (int k = 0; k < CO; k++)
        for (int i = 0; i < HO; i++)
            for (int j = 0; j < WO; j++) {
                float acc = 0.0f;
                for (int c = 0; c < CI; c++)
                    for (int u = 0; u < 3; u++)
                        for (int v = 0; v < 3; v++)
                            acc += x[c][i + u][j + v] * w[k][c][u][v];
                y[k][i][j] = acc < 0.0f ? 0.0f : acc;
            }
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long xd[3], wd[4];
    float *x = (float *)npy_read(argv[3], "<f4", 3, xd);
    float *w = (float *)npy_read(argv[4], "<f4", 4, wd);
    check_dim("x channels", xd[0], CI);
    check_dim("x height", xd[1], HI);
    check_dim("x width", xd[2], WI);
    check_dim("w out channels", wd[0], CO);
    check_dim("w in channels", wd[1], CI);
    check_dim("w rows", wd[2], 3);
    check_dim("w columns", wd[3], 3);
    static float y[CO][HO][WO];
    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        conv((const float(*)[HI][WI])x, (const float(*)[CI][3][3])w, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    long od[3] = {CO, HO, WO};
    npy_write(argv[2], "<f4", 3, od, y, sizeof(float));
    report_median(t, runs);
    return 0;
}
