// C-simulation baseline for examples/bench/conv_fixed.kiln, written as an HLS designer
// writes it, on Xilinx's ap_types (the headers of the hls4ml wheel; see
// scripts/fetch-ap-types.sh):
//
//   g++ -O3 -march=native -std=c++14 -I$(bash scripts/fetch-ap-types.sh) conv_fixed_ap.cpp
//   ./a.out RUNS out.npy conv_fixed_x.npy conv_fixed_w.npy
//
// ap_fixed<8, 4> activations, ap_int<2> weights, an ap_fixed<24, 12> accumulator, relu,
// an ap_fixed<8, 4> result (written as float64, its exact values, like kiln --out).
#include <ap_fixed.h>
#include <ap_int.h>

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

typedef ap_fixed<8, 4> act_t;
typedef ap_int<2> wgt_t;
typedef ap_fixed<24, 12> acc_t;

__attribute__((noinline)) static void conv(const act_t x[CI][HI][WI], const wgt_t w[CO][CI][3][3],
                                           act_t y[CO][HO][WO]) {
    for (int k = 0; k < CO; k++)
        for (int i = 0; i < HO; i++)
            for (int j = 0; j < WO; j++) {
                acc_t acc = 0;
                for (int c = 0; c < CI; c++)
                    for (int u = 0; u < 3; u++)
                        for (int v = 0; v < 3; v++)
                            acc += x[c][i + u][j + v] * w[k][c][u][v];
                y[k][i][j] = acc > 0 ? acc : acc_t(0);
            }
}

static act_t x[CI][HI][WI], y[CO][HO][WO];
static wgt_t w[CO][CI][3][3];

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
    for (long n = 0; n < (long)CI * HI * WI; n++) (&x[0][0][0])[n] = xf[n];
    for (long n = 0; n < (long)CO * CI * 9; n++) (&w[0][0][0][0])[n] = wi[n];

    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        conv(x, w, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    static double out[CO][HO][WO];
    for (long n = 0; n < (long)CO * HO * WO; n++) (&out[0][0][0])[n] = (&y[0][0][0])[n].to_double();
    long od[3] = {CO, HO, WO};
    npy_write(argv[2], "<f8", 3, od, out, sizeof(double));
    report_median(t, runs);
    return 0;
}
