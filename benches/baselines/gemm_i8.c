/* Baseline for examples/bench/gemm_i8.kiln: C = A x B on int8 with int32 sums, the naive
 * triple loop in i-k-j order (gcc vectorizes the inner j loop; integer sums are exact,
 * so the order does not change the result).
 *
 *   gcc -O3 -march=native gemm_i8.c -o gemm_i8
 *   ./gemm_i8 RUNS out.npy gemm_i8_a.npy gemm_i8_b.npy
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

__attribute__((noinline)) static void gemm(const int8_t a[M_][K_], const int8_t b[K_][N_],
                                           int32_t c[M_][N_]) {
    for (int i = 0; i < M_; i++) {
        for (int j = 0; j < N_; j++) c[i][j] = 0;
        for (int k = 0; k < K_; k++) {
            int32_t aik = a[i][k];
            for (int j = 0; j < N_; j++) c[i][j] += aik * b[k][j];
        }
    }
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, 2);
    long ad[2], bd[2];
    int8_t *a = (int8_t *)npy_read(argv[3], "|i1", 2, ad);
    int8_t *b = (int8_t *)npy_read(argv[4], "|i1", 2, bd);
    check_dim("a rows", ad[0], M_);
    check_dim("a columns", ad[1], K_);
    check_dim("b rows", bd[0], K_);
    check_dim("b columns", bd[1], N_);
    static int32_t c[M_][N_];
    double *t = (double *)malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        CLOBBER();
        double t0 = now_ms();
        gemm((const int8_t(*)[K_])a, (const int8_t(*)[N_])b, c);
        CLOBBER();
        t[r] = now_ms() - t0;
    }
    long od[2] = {M_, N_};
    npy_write(argv[2], "<i4", 2, od, c, sizeof(int32_t));
    report_median(t, runs);
    return 0;
}
