/*
 * bench/bench.h - side-by-side timing for libberg's benchmarks.
 *
 * The machines are shared and noisy, so a benchmark never reports an
 * absolute time alone: it runs the libberg case and its baseline
 * interleaved (A B A B ...), takes the median of each, and prints one line
 *
 *   <case>  libberg <ms> ms  <baseline name> <ms> ms  ratio <libberg/baseline>
 *       rounds <median> (<q1>-<q3>)
 *
 * (ratio < 1: libberg is faster). The ratio is that of the medians; the
 * rounds figure is the median (and quartiles) of each round's own ratio, A
 * and B timed back to back, which a host changing speed during the run
 * moves less. Usage:
 *
 *   static void run_a(void *ctx) { ... }
 *   bench_pair("heat 1-D 2^20", run_a, ctx_a, "fftw", run_b, ctx_b, 21);
 */
#ifndef BERG_BENCH_H
#define BERG_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*bench_fn)(void *ctx);

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return (n % 2) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds per call of f, timed over enough calls to last >= min_seconds. */
static inline double bench_time_once(bench_fn f, void *ctx, int calls)
{
    double t0 = bench_now();
    for (int i = 0; i < calls; i++)
        f(ctx);
    return (bench_now() - t0) / calls;
}

/* Calls per sample so that one sample takes about 20 ms. */
static inline int bench_calibrate(bench_fn f, void *ctx)
{
    f(ctx); /* warm up: first touch, plans, caches */
    double t = bench_time_once(f, ctx, 1);
    int calls = (t > 0.02) ? 1 : (int)(0.02 / (t > 1e-9 ? t : 1e-9));
    return calls < 1 ? 1 : (calls > 100000 ? 100000 : calls);
}

/* Median seconds per call of a and b, interleaved over `samples` samples;
 * prints the line and returns the ratio a/b. */
static inline double bench_pair(const char *name, bench_fn a, void *ctx_a, const char *base_name,
                                bench_fn b, void *ctx_b, int samples)
{
    int ca = bench_calibrate(a, ctx_a), cb = bench_calibrate(b, ctx_b);
    double *ta = malloc(sizeof(double) * (size_t)samples);
    double *tb = malloc(sizeof(double) * (size_t)samples);
    for (int s = 0; s < samples; s++) {
        if (s % 2 == 0) {
            ta[s] = bench_time_once(a, ctx_a, ca);
            tb[s] = bench_time_once(b, ctx_b, cb);
        } else {
            tb[s] = bench_time_once(b, ctx_b, cb);
            ta[s] = bench_time_once(a, ctx_a, ca);
        }
    }
    /* each round's ratio, before the medians sort the times */
    double *tr = malloc(sizeof(double) * (size_t)samples);
    for (int s = 0; s < samples; s++)
        tr[s] = ta[s] / tb[s];
    double mr = bench_median(tr, samples);
    double ma = bench_median(ta, samples), mb = bench_median(tb, samples);
    printf("%-40s libberg %10.4f ms   %-12s %10.4f ms   ratio %.3f   rounds %.3f (%.3f-%.3f)\n",
           name, 1e3 * ma, base_name, 1e3 * mb, ma / mb, mr, tr[samples / 4],
           tr[(3 * samples) / 4]);
    fflush(stdout);
    free(ta);
    free(tb);
    free(tr);
    return ma / mb;
}

/* A single figure with no baseline (for example a creation time). */
static inline double bench_single(const char *name, bench_fn a, void *ctx_a, int samples)
{
    int ca = bench_calibrate(a, ctx_a);
    double *ta = malloc(sizeof(double) * (size_t)samples);
    for (int s = 0; s < samples; s++)
        ta[s] = bench_time_once(a, ctx_a, ca);
    double ma = bench_median(ta, samples);
    printf("%-40s libberg %10.4f ms\n", name, 1e3 * ma);
    fflush(stdout);
    free(ta);
    return ma;
}

#endif
