/* Baseline for examples/bench/gemm_f32.kiln: C = A x B in f32, the naive triple loop in
 * i-k-j order. For every (i, j) the products are still added in increasing k, starting
 * from 0.0f, exactly as the kiln script does (-ffp-contract=off: no fused multiply-add),
 * so the results are bit-identical; the i-k-j order lets gcc vectorize over j without
 * reordering any sum.
 *
 *   gcc -O3 -march=native -ffp-contract=off gemm_f32.c -o gemm_f32
 *   ./gemm_f32 RUNS out.npy gemm_f32_a.npy gemm_f32_b.npy
 *
 * Sizes are compile-time constants (-DM_=.. -DK_=.. -DN_=..). */
#include "common.h"

#ifndef M_
#define M_ 512
#endif
#ifndef K_
#define K_ 512
#endif
#ifndef N_
#define N_ 512
#endif

__attribute__((noinline)) static void gemm(const float a[M_][K_], const float b[K_][N_],
                                           float c[M_][N_]) {
    for (int i = 0; i < M_; i++) {
        for (int j = 0; j < N_; j++) c[i][j] = 0.0f;
        for (int k = 0; k < K_; k++) {
            float aik = a[i][k];
            for (int j = 0; j < N_; j++) c[i][j] += aik * b[k][j];
        }
    }
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long ad[2], bd[2];
    float *a = (float *)npy_read(argv[3], "<f4", 2, ad);
    float *b = (float *)npy_read(argv[4], "<f4", 2, bd);
    check_dim("a rows", ad[0], M_);
    check_dim("a columns", ad[1], K_);
    check_dim("b rows", bd[0], K_);
    check_dim("b columns", bd[1], N_);
    static float c[M_][N_];
    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        gemm((const float(*)[K_])a, (const float(*)[N_])b, c);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    long od[2] = {M_, N_};
    npy_write(argv[2], "<f4", 2, od, c, sizeof(float));
    report_median(t, runs);
    return 0;
}
