/* The 128-bit peak of this machine for the benchmark kernels' operations, measured: the
 * throughput of the one 128-bit instruction each kernel's arithmetic can at best be
 * reduced to, times the operations that instruction does.
 *
 *   gcc -O2 -march=native peak.c -o peak && ./peak
 *
 * Each loop runs 12 independent chains of the instruction (more than its latency times
 * its throughput on current x86 cores, so the chains never wait), 2^26 instructions in
 * all, timed with the thread's CPU-time clock (on a machine shared with other work, the
 * wall clock would count the time other processes hold the core); the best of 5
 * repetitions is kept. The result is
 * instructions per ns (= per cycle x GHz: the clock the machine actually ran at is in
 * the number, turbo or not), printed with the operations per instruction:
 *
 *   binary MACs: vpopcntb xmm (AVX-512 BITALG+VL) counts 128 bits: 128 binary
 *     multiply-accumulates (XOR and the adds run on other ports alongside);
 *   int8 MACs:   vpdpbusd xmm (AVX-VNNI / AVX512-VNNI): 16 u8 x s8 products summed into
 *     4 int32 lanes: 16 multiply-accumulates;
 *   f32 MACs:    mulps + addps xmm (no fused multiply-add: kiln and the baselines add
 *     each rounded product): 4 multiply-adds per pair, measured together (6 chains of
 *     multiplies, 6 of adds) so that ports the two share are counted once.
 * Prints one line per operation: `NAME INSTR_PER_NS MACS_PER_INSTR`; an instruction the
 * CPU lacks prints `NAME n/a`. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define ITERS (1 << 22) /* x 12 chains ... x16 unrolled below: 2^26 instructions */

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

#define CHAINS(OP)                                                                        \
    OP(a0) OP(a1) OP(a2) OP(a3) OP(a4) OP(a5) OP(a6) OP(a7) OP(a8) OP(a9) OP(a10) OP(a11)

/* `asm volatile` so the compiler keeps every instruction; operands in registers. */
#define POPCNT(r) __asm__ volatile("vpopcntb %0, %0" : "+x"(r));
#define DPBUSD(r) __asm__ volatile("vpdpbusd %1, %1, %0" : "+x"(r) : "x"(k));
#define MULPS(r) __asm__ volatile("vmulps %1, %0, %0" : "+x"(r) : "x"(k));
#define ADDPS(r) __asm__ volatile("vaddps %1, %0, %0" : "+x"(r) : "x"(k));
/* Half the chains multiply, half add (independent): the two instructions compete for the
 * FP ports they share. Counts instructions; a multiply-add pair is two. */
#define MULADD(r) MIXED_##r
#define MIXED_a0 MULPS(a0)
#define MIXED_a1 ADDPS(a1)
#define MIXED_a2 MULPS(a2)
#define MIXED_a3 ADDPS(a3)
#define MIXED_a4 MULPS(a4)
#define MIXED_a5 ADDPS(a5)
#define MIXED_a6 MULPS(a6)
#define MIXED_a7 ADDPS(a7)
#define MIXED_a8 MULPS(a8)
#define MIXED_a9 ADDPS(a9)
#define MIXED_a10 MULPS(a10)
#define MIXED_a11 ADDPS(a11)

#define BENCH(NAME, OP)                                                                   \
    static double NAME(void) {                                                            \
        __m128i k = _mm_set1_epi32(1);                                                    \
        __m128i a0 = k, a1 = k, a2 = k, a3 = k, a4 = k, a5 = k, a6 = k, a7 = k, a8 = k,    \
                a9 = k, a10 = k, a11 = k;                                                 \
        double best = 1e300;                                                              \
        for (int rep = 0; rep < 5; rep++) {                                               \
            double t0 = now_ns();                                                         \
            for (long i = 0; i < ITERS / 16; i++) {                                       \
                CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP)         \
                CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP)         \
                CHAINS(OP) CHAINS(OP) CHAINS(OP) CHAINS(OP)                               \
            }                                                                             \
            double t = now_ns() - t0;                                                     \
            if (t < best) best = t;                                                       \
        }                                                                                 \
        __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_add_epi32(a0, a1), _mm_add_epi32(a2, a3)), \
                                  _mm_add_epi32(_mm_add_epi32(a4, a5), _mm_add_epi32(a6, a7))); \
        s = _mm_add_epi32(s, _mm_add_epi32(_mm_add_epi32(a8, a9), _mm_add_epi32(a10, a11))); \
        volatile int sink = _mm_cvtsi128_si32(s);                                         \
        (void)sink;                                                                       \
        return (double)ITERS * 12 / best;                                                 \
    }

BENCH(popcnt_rate, POPCNT)
BENCH(dpbusd_rate, DPBUSD)
BENCH(muladd_rate, MULADD)

int main(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bitalg") && __builtin_cpu_supports("avx512vl"))
        printf("binary %.4f 128\n", popcnt_rate());
    else
        printf("binary n/a\n");
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl"))
        printf("int8 %.4f 16\n", dpbusd_rate());
    else
        printf("int8 n/a\n");
    printf("f32 %.4f 4\n", muladd_rate() / 2);
    return 0;
}
