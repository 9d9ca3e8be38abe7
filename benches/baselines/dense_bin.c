/* Baseline for examples/bench/dense_bin.kiln: a binary dense layer on a batch,
 * y[b][n] = sum_k x[b][k] * w[n][k] over bin (-1/+1) values, XNOR/popcount on 64-bit
 * words.
 *
 *   gcc -O3 -march=native dense_bin.c -o dense_bin
 *   ./dense_bin RUNS out.npy dense_bin_x.npy dense_bin_w.npy
 *
 * bin values -1/+1 are bits 0/1; the sum of K products is K - 2 * popcount(x XOR w).
 * Both operands are packed along k (padding bits 0 in both) before timing, like
 * conv_bin.c: the weights offline, the activations as the previous binary layer would
 * hand them over; the activations' packing time is printed separately. Result: int16,
 * like kiln's int<16>. Sizes are compile-time constants (-DM_=batch -DK_=inputs
 * -DN_=outputs). */
#include "common.h"

#ifndef M_
#define M_ 64
#endif
#ifndef K_
#define K_ 4096
#endif
#ifndef N_
#define N_ 1024
#endif
#define NW ((K_ + 63) / 64)

__attribute__((noinline)) static void dense(const uint64_t xp[M_][NW], const uint64_t wp[N_][NW],
                                            int16_t y[M_][N_]) {
    for (int b = 0; b < M_; b++)
        for (int n = 0; n < N_; n++) {
            int pop = 0;
            for (int q = 0; q < NW; q++) pop += __builtin_popcountll(xp[b][q] ^ wp[n][q]);
            y[b][n] = (int16_t)(K_ - 2 * pop);
        }
}

static void pack(const int8_t *v, long rows, uint64_t (*p)[NW]) {
    memset(p, 0, sizeof(uint64_t) * (size_t)rows * NW);
    for (long r = 0; r < rows; r++)
        for (int k = 0; k < K_; k++)
            if (v[r * K_ + k] > 0) p[r][k / 64] |= 1ull << (k % 64);
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long xd[2], wd[2];
    int8_t *x = (int8_t *)npy_read(argv[3], "|i1", 2, xd);
    int8_t *w = (int8_t *)npy_read(argv[4], "|i1", 2, wd);
    check_dim("x rows", xd[0], M_);
    check_dim("x columns", xd[1], K_);
    check_dim("w rows", wd[0], N_);
    check_dim("w columns", wd[1], K_);
    /* kiln converts integers to bin as +1 if x >= 0, else -1 */
    for (long n = 0; n < (long)M_ * K_; n++) x[n] = x[n] >= 0 ? 1 : -1;
    for (long n = 0; n < (long)N_ * K_; n++) w[n] = w[n] >= 0 ? 1 : -1;
    static uint64_t xp[M_][NW], wp[N_][NW];
    pack(w, N_, wp);
    double tp = now_ms();
    pack(x, M_, xp);
    tp = now_ms() - tp;
    static int16_t y[M_][N_];
    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        dense(xp, wp, y);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    long od[2] = {M_, N_};
    npy_write(argv[2], "<i2", 2, od, y, sizeof(int16_t));
    fprintf(stderr, "packing the activations (not in the kernel time): %.3f ms\n", tp);
    report_median(t, runs);
    return 0;
}
