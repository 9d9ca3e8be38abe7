// C-simulation baseline for examples/bench/conv_bin.kiln, as an HLS designer writes a
// binary conv on Xilinx's ap_types (headers from scripts/fetch-ap-types.sh):
//
//   g++ -O3 -march=native -std=c++14 -I$(bash scripts/fetch-ap-types.sh) conv_bin_ap.cpp
//   ./a.out RUNS out.npy conv_bin_x.npy conv_bin_w.npy
//
// Activations and weights are ap_uint<1> (bit 1 is +1, bit 0 is -1); the product of two
// is the XNOR of the bits read as +1/-1, accumulated in an ap_int<16>.
#include <ap_int.h>

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

typedef ap_uint<1> bit_t;
typedef ap_int<16> acc_t;

__attribute__((noinline)) static void conv(const bit_t x[CI][HI][WI], const bit_t w[CO][CI][3][3],
                                           acc_t y[CO][HO][WO]) {
    for (int k = 0; k < CO; k++)
        for (int i = 0; i < HO; i++)
            for (int j = 0; j < WO; j++) {
                acc_t acc = 0;
                for (int c = 0; c < CI; c++)
                    for (int u = 0; u < 3; u++)
                        for (int v = 0; v < 3; v++) {
                            bit_t p = ~(x[c][i + u][j + v] ^ w[k][c][u][v]);  // xnor
                            acc += p ? ap_int<2>(1) : ap_int<2>(-1);
                        }
                y[k][i][j] = acc;
            }
}

static bit_t x[CI][HI][WI], w[CO][CI][3][3];
static acc_t y[CO][HO][WO];

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long xd[3], wd[4];
    int8_t *xi = (int8_t *)npy_read(argv[3], "|i1", 3, xd);
    int8_t *wi = (int8_t *)npy_read(argv[4], "|i1", 4, wd);
    check_dim("x channels", xd[0], CI);
    check_dim("x height", xd[1], HI);
    check_dim("x width", xd[2], WI);
    check_dim("w out channels", wd[0], CO);
    check_dim("w in channels", wd[1], CI);
    check_dim("w rows", wd[2], 3);
    check_dim("w columns", wd[3], 3);
    for (long n = 0; n < (long)CI * HI * WI; n++) (&x[0][0][0])[n] = xi[n] >= 0 ? 1 : 0;
    for (long n = 0; n < (long)CO * CI * 9; n++) (&w[0][0][0][0])[n] = wi[n] >= 0 ? 1 : 0;

    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        conv(x, w, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    static int16_t out[CO][HO][WO];
    for (long n = 0; n < (long)CO * HO * WO; n++) (&out[0][0][0])[n] = (int16_t)(&y[0][0][0])[n].to_int();
    long od[3] = {CO, HO, WO};
    npy_write(argv[2], "<i2", 3, od, out, sizeof(int16_t));
    report_median(t, runs);
    return 0;
}
