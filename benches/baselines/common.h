/* Shared by the benchmark baselines (C and C++): a tiny .npy reader and writer, a
 * monotonic clock, and the "kernel time: median X.XXX ms over N runs" line kiln prints.
 *
 * Every baseline is run as   PROG RUNS OUT.npy INPUT.npy...
 * It reads its inputs, runs the kernel RUNS times (only the kernel is timed: no file
 * I/O, no conversion of the inputs), writes its result to OUT.npy with the dtype kiln
 * writes (int8/16/32 for integers, float32 for f32, float64 holding the exact values for
 * fixed point), and prints the median time as its last line on stderr. */
#ifndef KILN_BENCH_COMMON_H
#define KILN_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "error: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    exit(1);
}

/* Reads a C-order .npy file whose dtype is `descr` (e.g. "<f4", "|i1") and whose rank
 * is `ndim`; the dimensions go to dims. Returns the data (malloc'd, 64-byte aligned). */
static void *npy_read(const char *path, const char *descr, int ndim, long *dims) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s%s", path, "");
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        die("%s is not a .npy file%s", path, "");
    unsigned long hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (pre[9] << 8);
    } else {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) die("%s: truncated header%s", path, "");
        hlen = pre[8] | (pre[9] << 8) | ((unsigned long)b[0] << 16) | ((unsigned long)b[1] << 24);
    }
    char *h = (char *)calloc(hlen + 1, 1);
    if (fread(h, 1, hlen, f) != hlen) die("%s: truncated header%s", path, "");
    /* dtype */
    const char *d = strstr(h, "'descr'");
    if (!d) die("%s: no descr in header%s", path, "");
    d = strchr(d + 7, '\'');
    if (!d) die("%s: bad descr%s", path, "");
    d++;
    char got[16] = {0};
    for (int i = 0; i < 15 && d[i] && d[i] != '\''; i++) got[i] = d[i];
    int same = strcmp(got, descr) == 0;
    /* single-byte types may be written with '|' or '<' */
    if (!same && (descr[0] == '|' || descr[0] == '<') && (got[0] == '|' || got[0] == '<') &&
        strcmp(got + 1, descr + 1) == 0 && (descr[2] == '1' && descr[3] == 0))
        same = 1;
    if (!same) die("%s: dtype %s, expected another one", path, got);
    if (strstr(h, "'fortran_order': True")) die("%s: Fortran order is not supported%s", path, "");
    /* shape */
    const char *s = strstr(h, "'shape'");
    if (!s) die("%s: no shape in header%s", path, "");
    s = strchr(s, '(');
    if (!s) die("%s: bad shape%s", path, "");
    s++;
    int n = 0;
    long total = 1;
    while (*s && *s != ')') {
        if (*s >= '0' && *s <= '9') {
            long v = strtol(s, (char **)&s, 10);
            if (n < ndim) dims[n] = v;
            n++;
            total *= v;
        } else {
            s++;
        }
    }
    if (n != ndim) die("%s: wrong rank%s", path, "");
    long esize = atoi(descr + 2);
    size_t bytes = (size_t)(total * esize);
    void *data = NULL;
    if (posix_memalign(&data, 64, bytes + 64) != 0) die("out of memory%s%s", "", "");
    if (fread(data, 1, bytes, f) != bytes) die("%s: truncated data%s", path, "");
    fclose(f);
    free(h);
    return data;
}

/* Writes a C-order .npy (format 1.0). */
static void npy_write(const char *path, const char *descr, int ndim, const long *dims,
                      const void *data, size_t esize) {
    char h[256];
    char shape[128] = "";
    long total = 1;
    for (int i = 0; i < ndim; i++) {
        char b[32];
        snprintf(b, sizeof b, "%ld%s", dims[i], (ndim == 1 || i + 1 < ndim) ? ", " : "");
        strcat(shape, b);
        total *= dims[i];
    }
    int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                       descr, shape);
    int pad = 64 - (10 + len + 1) % 64;
    if (pad == 64) pad = 0;
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot write %s%s", path, "");
    unsigned short hl = (unsigned short)(len + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    unsigned char hb[2] = {(unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
    fwrite(hb, 1, 2, f);
    fwrite(h, 1, (size_t)len, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(data, esize, (size_t)total, f);
    fclose(f);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n times (the mean of the middle two for even n), printed like kiln. */
static void report_median(double *t, int n) {
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    double m = (n % 2) ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    fprintf(stderr, "kernel time: median %.3f ms over %d runs\n", m, n);
}

/* Keeps the compiler from assuming anything about memory across repetitions. */
#define CLOBBER() __asm__ __volatile__("" ::: "memory")

static int parse_runs(int argc, char **argv, int nin) {
    if (argc != 3 + nin) {
        fprintf(stderr, "usage: %s RUNS OUT.npy", argv[0]);
        for (int i = 0; i < nin; i++) fprintf(stderr, " IN%d.npy", i);
        fprintf(stderr, "\n");
        exit(2);
    }
    int n = atoi(argv[1]);
    if (n < 1) n = 1;
    return n;
}

static void check_dim(const char *what, long got, long want) {
    if (got != want) {
        fprintf(stderr, "error: %s is %ld, this build expects %ld (compile with -D to change)\n",
                what, got, want);
        exit(1);
    }
}

#endif
