/*
 * Heat propagator vs bare FFTW in the same process: r2c (or r2r), pointwise
 * multiply by a precomputed table, inverse, on pre-planned aligned buffers
 * with FFTW_MEASURE, single thread. Then 2 threads vs 1 on 2-D / 3-D, and
 * one const handle applied by 2 threads at once vs the same 2 applies in
 * a row.
 *   build/bench/propagator/bench_heat [samples] [substring of the case names to run]
 * With BENCH_CPU=1 in the environment the one-thread short-time cases
 * (issue 18) are timed in thread CPU time instead of wall time.
 */
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <fftw3.h>

#include "berg.h"
#include "bench.h"

typedef struct {
    berg_heat *h;
    double t;
    double *in, *out;
} heat_ctx;

static void run_heat(void *v)
{
    heat_ctx *c = v;
    berg_heat_apply(c->h, c->t, c->in, c->out);
}

typedef struct {
    fftw_plan fwd, bwd;
    double *in, *out, *spec, *table;
    size_t nspec;
    int complex_;
} fftw_ctx;

static void run_fftw(void *v)
{
    fftw_ctx *c = v;
    fftw_execute(c->fwd);
    if (c->complex_) {
        double *s = c->spec;
        for (size_t j = 0; j < c->nspec; j++) {
            s[2 * j] *= c->table[j];
            s[2 * j + 1] *= c->table[j];
        }
    } else {
        for (size_t j = 0; j < c->nspec; j++)
            c->spec[j] *= c->table[j];
    }
    fftw_execute(c->bwd);
}

/* the bare-FFTW floor: same grid, same symbol, precomputed table */
static void fftw_setup(fftw_ctx *c, int d, const int *n, berg_boundary bc, double t)
{
    size_t N = 1, ns = 1;
    for (int a = 0; a < d; a++)
        N *= (size_t)n[a];
    c->complex_ = (bc == BERG_PERIODIC);
    if (c->complex_)
        ns = N / (size_t)n[d - 1] * (size_t)(n[d - 1] / 2 + 1);
    else
        ns = N;
    c->nspec = ns;
    c->in = fftw_alloc_real(N);
    c->out = fftw_alloc_real(N);
    c->spec = fftw_alloc_real(c->complex_ ? 2 * ns : ns);
    c->table = fftw_alloc_real(ns);
    if (c->complex_) {
        c->fwd = fftw_plan_dft_r2c(d, n, c->in, (fftw_complex *)c->spec, FFTW_MEASURE);
        c->bwd = fftw_plan_dft_c2r(d, n, (fftw_complex *)c->spec, c->out, FFTW_MEASURE);
    } else {
        fftw_r2r_kind kf[3], kb[3];
        for (int a = 0; a < d; a++) {
            kf[a] = FFTW_REDFT10;
            kb[a] = FFTW_REDFT01;
        }
        c->fwd = fftw_plan_r2r(d, n, c->in, c->spec, kf, FFTW_MEASURE);
        c->bwd = fftw_plan_r2r(d, n, c->spec, c->out, kb, FFTW_MEASURE | FFTW_DESTROY_INPUT);
    }
    /* unit box per axis */
    size_t idx[3] = {0, 0, 0}, shp[3];
    double norm = 1.0;
    for (int a = 0; a < d; a++) {
        shp[a] = (c->complex_ && a == d - 1) ? (size_t)n[a] / 2 + 1 : (size_t)n[a];
        norm /= c->complex_ ? n[a] : 2.0 * n[a];
    }
    for (size_t j = 0; j < ns; j++) {
        double q = 0;
        for (int a = 0; a < d; a++) {
            double m = (double)idx[a];
            if (c->complex_ && idx[a] > (size_t)n[a] / 2)
                m -= n[a];
            double k = (c->complex_ ? 2 * M_PI : M_PI) * m;
            q += k * k;
        }
        c->table[j] = exp(-t * q) * norm;
        for (int a = d - 1; a >= 0; a--) {
            if (++idx[a] < shp[a])
                break;
            idx[a] = 0;
        }
    }
    for (size_t i = 0; i < N; i++)
        c->in[i] = (double)(i % 97) / 97.0;
}

/* mixed 2-D (Neumann x periodic) as one r2r plan: REDFT10 x R2HC forward,
 * REDFT01 x HC2R inverse, real table in the halfcomplex layout (valid for
 * symbols even in each k_a): the single-plan alternative to libberg's
 * DCT stage + r2c stage */
static void fftw_setup_mixed_r2r(fftw_ctx *c, int n0, int n1, double t)
{
    size_t N = (size_t)n0 * (size_t)n1;
    int n[2] = {n0, n1};
    fftw_r2r_kind kf[2] = {FFTW_REDFT10, FFTW_R2HC}, kb[2] = {FFTW_REDFT01, FFTW_HC2R};
    c->complex_ = 0;
    c->nspec = N;
    c->in = fftw_alloc_real(N);
    c->out = fftw_alloc_real(N);
    c->spec = fftw_alloc_real(N);
    c->table = fftw_alloc_real(N);
    c->fwd = fftw_plan_r2r(2, n, c->in, c->spec, kf, FFTW_MEASURE);
    c->bwd = fftw_plan_r2r(2, n, c->spec, c->out, kb, FFTW_MEASURE | FFTW_DESTROY_INPUT);
    double norm = 1.0 / (2.0 * n0 * n1);
    for (int a = 0; a < n0; a++)
        for (int b = 0; b < n1; b++) {
            double k0 = M_PI * a, m1 = b <= n1 / 2 ? b : n1 - b, k1 = 2 * M_PI * m1;
            c->table[(size_t)a * (size_t)n1 + (size_t)b] = exp(-t * (k0 * k0 + k1 * k1)) * norm;
        }
    for (size_t i = 0; i < N; i++)
        c->in[i] = (double)(i % 97) / 97.0;
}

static void fftw_teardown(fftw_ctx *c)
{
    fftw_destroy_plan(c->fwd);
    fftw_destroy_plan(c->bwd);
    fftw_free(c->in);
    fftw_free(c->out);
    fftw_free(c->spec);
    fftw_free(c->table);
}

static berg_heat *heat_setup(heat_ctx *c, int d, const int *n, berg_boundary bc, double t,
                             size_t nthreads, double **bufs)
{
    size_t nn[3];
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    berg_boundary b[3] = {bc, bc, bc};
    size_t N = 1;
    for (int a = 0; a < d; a++) {
        nn[a] = (size_t)n[a];
        N *= nn[a];
    }
    berg_space *s = NULL;
    if (berg_space_create(&s, d, nn, lo, hi, b, NULL) != BERG_OK ||
        berg_heat_create_ex(&c->h, s, 1, nthreads, 0) != BERG_OK) {
        fprintf(stderr, "setup failed: %s\n", berg_last_error());
        exit(1);
    }
    berg_space_destroy(s);
    c->t = t;
    if (bufs && bufs[0]) {
        c->in = bufs[0];
        c->out = bufs[1];
    } else {
        berg_alloc((void **)&c->in, N, sizeof(double));
        berg_alloc((void **)&c->out, N, sizeof(double));
        for (size_t i = 0; i < N; i++)
            c->in[i] = (double)(i % 97) / 97.0;
    }
    return c->h;
}

static const char *filter = NULL;

/* ---- short times: the direct path (issue 18) ------------------------------------
 * On the unit box with n cells per axis (h = 1/n), t = sigma^2 h^2 / 2.
 * For each sigma: the default handle (which picks its path by the measured
 * crossover) against the bare-FFTW floor at the same t, then the two forced
 * paths against each other (only where the kernel is compact: the direct
 * path falls back to the spectral one elsewhere, and the line says so). */
static berg_heat *make_heat(int d, const int *n, berg_boundary bc, size_t nthreads,
                            unsigned flags)
{
    size_t nn[3];
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    berg_boundary b[3] = {bc, bc, bc};
    for (int a = 0; a < d; a++)
        nn[a] = (size_t)n[a];
    berg_space *s = NULL;
    berg_heat *h = NULL;
    if (berg_space_create(&s, (size_t)d, nn, lo, hi, b, NULL) != BERG_OK ||
        berg_heat_create_ex(&h, s, 1, nthreads, flags) != BERG_OK) {
        fprintf(stderr, "setup failed: %s\n", berg_last_error());
        exit(1);
    }
    berg_space_destroy(s);
    return h;
}

/* bench_pair timed in the calling thread's CPU time (BENCH_CPU=1 in the
 * environment): on this 2-core machine shared by many jobs the wall time
 * of a one-thread case mostly measures the other jobs; the CPU time of
 * the thread does not (same interleaving, same medians) */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_once(bench_fn f, void *ctx, int calls)
{
    double t0 = cpu_now();
    for (int i = 0; i < calls; i++)
        f(ctx);
    return (cpu_now() - t0) / calls;
}

static double pair1(const char *name, bench_fn a, void *ctx_a, const char *base_name, bench_fn b,
                    void *ctx_b, int samples)
{
    if (!getenv("BENCH_CPU"))
        return bench_pair(name, a, ctx_a, base_name, b, ctx_b, samples);
    int ca = bench_calibrate(a, ctx_a), cb = bench_calibrate(b, ctx_b);
    double *ta = malloc(sizeof(double) * (size_t)samples);
    double *tb = malloc(sizeof(double) * (size_t)samples);
    for (int k = 0; k < samples; k++) {
        if (k % 2 == 0) {
            ta[k] = cpu_once(a, ctx_a, ca);
            tb[k] = cpu_once(b, ctx_b, cb);
        } else {
            tb[k] = cpu_once(b, ctx_b, cb);
            ta[k] = cpu_once(a, ctx_a, ca);
        }
    }
    double ma = bench_median(ta, samples), mb = bench_median(tb, samples);
    printf("%-40s libberg %10.4f ms   %-12s %10.4f ms   ratio %.3f  (cpu)\n", name, 1e3 * ma,
           base_name, 1e3 * mb, ma / mb);
    fflush(stdout);
    free(ta);
    free(tb);
    return ma / mb;
}

/* whether the direct path may run at sigma: FD always compact for the
 * sigmas used here; the continuum kernel from sigma ~3 (see docs) */
static void short_times(const char *label, int d, const int *n, berg_boundary bc, unsigned fd,
                        const double *sig, int nsig, int samples)
{
    if (filter && !strstr(label, filter))
        return;
    size_t N = 1;
    for (int a = 0; a < d; a++)
        N *= (size_t)n[a];
    berg_heat *ha = make_heat(d, n, bc, 1, fd);
    berg_heat *hd = make_heat(d, n, bc, 1, fd | BERG_HEAT_DIRECT);
    berg_heat *hs = make_heat(d, n, bc, 1, fd | BERG_HEAT_SPECTRAL);
    for (int j = 0; j < nsig; j++) {
        double h = 1.0 / n[0], t = 0.5 * sig[j] * sig[j] * h * h;
        fftw_ctx fc;
        fftw_setup(&fc, d, n, bc, t);
        heat_ctx ca = {ha, t, fc.in, fc.out}, cd = {hd, t, fc.in, fc.out},
                 cs = {hs, t, fc.in, fc.out};
        char name[128];
        snprintf(name, sizeof name, "%s sigma %.2g", label, sig[j]);
        pair1(name, run_heat, &ca, "fftw", run_fftw, &fc, samples);
        snprintf(name, sizeof name, "  forced direct, sigma %.2g", sig[j]);
        pair1(name, run_heat, &cd, "spectral", run_heat, &cs, samples);
        fftw_teardown(&fc);
    }
    (void)N;
    berg_heat_destroy(ha);
    berg_heat_destroy(hd);
    berg_heat_destroy(hs);
}

/* libberg's heat on a space of boundary bc against the bare-FFTW floor of
 * the same grid with boundary floor_bc (bc itself, or periodic: the r2c
 * floor of as many values). t = 0 uses the default step: the highest mode
 * of the largest axis decays by e^{-6.9} = 1e-3 (nothing reaches the
 * subnormal range, where bare FFTW slows down and libberg does not) */
static void versus_floor(const char *name, int d, const int *n, berg_boundary bc,
                         berg_boundary floor_bc, double t, int samples)
{
    if (filter && !strstr(name, filter))
        return;
    heat_ctx hc;
    fftw_ctx fc;
    if (t == 0.0) {
        int nmax = 0;
        for (int a = 0; a < d; a++)
            nmax = n[a] > nmax ? n[a] : nmax;
        t = 6.9 / (M_PI * nmax * M_PI * nmax);
    }
    fftw_setup(&fc, d, n, floor_bc, t);
    heat_setup(&hc, d, n, bc, t, 1, NULL);
    bench_pair(name, run_heat, &hc, floor_bc == bc ? "fftw" : "fftw r2c", run_fftw, &fc,
               samples);
    berg_heat_destroy(hc.h);
    berg_free(hc.in);
    berg_free(hc.out);
    fftw_teardown(&fc);
}

static void versus_fftw(const char *name, int d, const int *n, berg_boundary bc, double t,
                        int samples)
{
    versus_floor(name, d, n, bc, bc, t, samples);
}

/* a space without periodic axes against the r2c/c2r floor of the periodic
 * grid of the same size: libberg's DCT/DST is one r2c of the permuted
 * array (lib/propagator/dct.c) */
static void versus_r2c(const char *name, int d, const int *n, berg_boundary bc, int samples)
{
    versus_floor(name, d, n, bc, BERG_PERIODIC, 0.0, samples);
}

static void mixed_versus_r2r(const char *name, int n0, int n1, int samples)
{
    if (filter && !strstr(name, filter))
        return;
    heat_ctx hc;
    fftw_ctx fc;
    double t = 6.9 / (M_PI * n0 * M_PI * n0);
    fftw_setup_mixed_r2r(&fc, n0, n1, t);
    size_t nn[2] = {(size_t)n0, (size_t)n1};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary b[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = NULL;
    if (berg_space_create(&s, 2, nn, lo, hi, b, NULL) != BERG_OK ||
        berg_heat_create(&hc.h, s, 0) != BERG_OK) {
        fprintf(stderr, "setup failed: %s\n", berg_last_error());
        exit(1);
    }
    berg_space_destroy(s);
    hc.t = t;
    hc.in = fc.in;
    hc.out = fc.out;
    bench_pair(name, run_heat, &hc, "r2r R2HC", run_fftw, &fc, samples);
    berg_heat_destroy(hc.h);
    fftw_teardown(&fc);
}

static void threads(const char *name, int d, const int *n, int samples)
{
    if (filter && !strstr(name, filter))
        return;
    heat_ctx h2, h1;
    heat_setup(&h1, d, n, BERG_PERIODIC, 1e-4, 1, NULL);
    double *bufs[2] = {h1.in, h1.out};
    heat_setup(&h2, d, n, BERG_PERIODIC, 1e-4, 2, bufs);
    bench_pair(name, run_heat, &h2, "1 thread", run_heat, &h1, samples);
    berg_heat_destroy(h1.h);
    berg_heat_destroy(h2.h);
    berg_free(h1.in);
    berg_free(h1.out);
}

/* issue 18: libberg on 2 threads against the 1-thread bare-FFTW floor at
 * the same t (default step), on the arrays of the floor; on a space
 * without periodic axes (floor: FFTW's r2r step) also against libberg on
 * 1 thread, whose transform's permutation and twiddle passes are split
 * among the threads too */
static void threads_vs_floor(const char *name, int d, const int *n, berg_boundary bc,
                             int samples)
{
    if (filter && !strstr(name, filter))
        return;
    int nmax = 0;
    for (int a = 0; a < d; a++)
        nmax = n[a] > nmax ? n[a] : nmax;
    double t = 6.9 / (M_PI * nmax * M_PI * nmax);
    fftw_ctx fc;
    fftw_setup(&fc, d, n, bc, t);
    heat_ctx h2 = {make_heat(d, n, bc, 2, 0), t, fc.in, fc.out};
    bench_pair(name, run_heat, &h2, bc == BERG_PERIODIC ? "fftw 1 thr" : "fftw r2r 1 thr",
               run_fftw, &fc, samples);
    if (bc != BERG_PERIODIC) {
        heat_ctx h1 = {make_heat(d, n, bc, 1, 0), t, fc.in, fc.out};
        bench_pair(name, run_heat, &h2, "libberg 1 thr", run_heat, &h1, samples);
        berg_heat_destroy(h1.h);
    }
    berg_heat_destroy(h2.h);
    fftw_teardown(&fc);
}

/* the direct path on 2 threads against 1 (FD symbol, forced direct) */
static void direct_threads(const char *name, int d, const int *n, double sigma, int samples)
{
    if (filter && !strstr(name, filter))
        return;
    double h = 1.0 / n[0], t = 0.5 * sigma * sigma * h * h;
    fftw_ctx fc;
    fftw_setup(&fc, d, n, BERG_PERIODIC, t);
    unsigned f = BERG_SYMBOL_FD | BERG_HEAT_DIRECT | BERG_PLAN_ESTIMATE;
    heat_ctx h2 = {make_heat(d, n, BERG_PERIODIC, 2, f), t, fc.in, fc.out};
    heat_ctx h1 = {make_heat(d, n, BERG_PERIODIC, 1, f), t, fc.in, fc.out};
    bench_pair(name, run_heat, &h2, "1 thread", run_heat, &h1, samples);
    berg_heat_destroy(h1.h);
    berg_heat_destroy(h2.h);
    fftw_teardown(&fc);
}

/* one handle, two callers at once: each applies to its own arrays */
typedef struct {
    heat_ctx a, b;
} shared_ctx;

static void *run_heat_thread(void *v)
{
    run_heat(v);
    return NULL;
}

static void run_shared(void *v)
{
    shared_ctx *c = v;
    pthread_t th;
    pthread_create(&th, NULL, run_heat_thread, &c->b);
    run_heat(&c->a);
    pthread_join(th, NULL);
}

static void run_serial(void *v)
{
    shared_ctx *c = v;
    run_heat(&c->a);
    run_heat(&c->b);
}

static void shared_handle(const char *name, int d, const int *n, int samples)
{
    if (filter && !strstr(name, filter))
        return;
    shared_ctx c;
    heat_setup(&c.a, d, n, BERG_PERIODIC, 1e-4, 1, NULL);
    c.b = c.a;
    size_t N = 1;
    for (int a = 0; a < d; a++)
        N *= (size_t)n[a];
    berg_alloc((void **)&c.b.in, N, sizeof(double));
    berg_alloc((void **)&c.b.out, N, sizeof(double));
    memcpy(c.b.in, c.a.in, N * sizeof(double));
    bench_pair(name, run_shared, &c, "2 in a row", run_serial, &c, samples);
    berg_heat_destroy(c.a.h);
    berg_free(c.a.in);
    berg_free(c.a.out);
    berg_free(c.b.in);
    berg_free(c.b.out);
}

int main(int argc, char **argv)
{
    int samples = argc > 1 ? atoi(argv[1]) : 21;
    if (samples < 1)
        samples = 21;
    filter = argc > 2 ? argv[2] : NULL;
    int n1[1] = {1 << 20}, n2[2] = {1024, 1024}, n3[3] = {128, 128, 128}, ns[1] = {4096};
    /* short times: FD symbol from sigma 0.5 (compact at every t), the
     * continuum one from sigma 3 (its kernel rings below), up to past the
     * crossover */
    static const double sfd[] = {0.5, 1, 2, 3, 4, 6, 8, 12};
    static const double sct[] = {3, 4, 6, 8, 12};
    int nfd = (int)(sizeof sfd / sizeof sfd[0]), nct = (int)(sizeof sct / sizeof sct[0]);
    short_times("short FD periodic 2-D 1024^2", 2, n2, BERG_PERIODIC, BERG_SYMBOL_FD, sfd, nfd,
                samples);
    /* 128 cells: the kernel fits one period up to sigma ~7 (W <= 63) */
    short_times("short FD periodic 3-D 128^3", 3, n3, BERG_PERIODIC, BERG_SYMBOL_FD, sfd, nfd - 2,
                samples);
    short_times("short FD periodic 1-D 2^20", 1, n1, BERG_PERIODIC, BERG_SYMBOL_FD, sfd, nfd,
                samples);
    short_times("short FD Neumann 2-D 1024^2", 2, n2, BERG_NEUMANN, BERG_SYMBOL_FD, sfd, 4,
                samples);
    short_times("short periodic 2-D 1024^2", 2, n2, BERG_PERIODIC, 0, sct, nct, samples);
    short_times("short periodic 3-D 128^3", 3, n3, BERG_PERIODIC, 0, sct, nct - 2, samples);
    short_times("short periodic 1-D 2^20", 1, n1, BERG_PERIODIC, 0, sct, nct, samples);
    versus_fftw("heat periodic 1-D 2^20", 1, n1, BERG_PERIODIC, 0, samples);
    versus_fftw("heat periodic 2-D 1024^2", 2, n2, BERG_PERIODIC, 0, samples);
    versus_fftw("heat periodic 3-D 128^3", 3, n3, BERG_PERIODIC, 0, samples);
    versus_fftw("heat periodic 1-D 4096", 1, ns, BERG_PERIODIC, 0, samples);
    versus_fftw("heat Neumann 2-D 1024^2", 2, n2, BERG_NEUMANN, 0, samples);
    versus_fftw("heat Neumann 1-D 4096", 1, ns, BERG_NEUMANN, 0, samples);
    int n2s[2] = {256, 256};
    versus_fftw("heat Neumann 2-D 256^2", 2, n2s, BERG_NEUMANN, 0, samples);
    versus_fftw("heat Neumann 3-D 128^3", 3, n3, BERG_NEUMANN, 0, samples);
    versus_fftw("heat Neumann 1-D 2^20", 1, n1, BERG_NEUMANN, 0, samples);
    versus_r2c("heat Neumann vs r2c 2-D 256^2", 2, n2s, BERG_NEUMANN, samples);
    versus_r2c("heat Neumann vs r2c 2-D 1024^2", 2, n2, BERG_NEUMANN, samples);
    versus_r2c("heat Dirichlet vs r2c 2-D 1024^2", 2, n2, BERG_DIRICHLET, samples);
    versus_r2c("heat Neumann vs r2c 3-D 128^3", 3, n3, BERG_NEUMANN, samples);
    versus_r2c("heat Neumann vs r2c 1-D 2^20", 1, n1, BERG_NEUMANN, samples);
    versus_fftw("heat periodic 2-D 1024^2 t=1e-4 (subn.)", 2, n2, BERG_PERIODIC, 1e-4, samples);
    mixed_versus_r2r("heat Neumann x periodic 2-D 1024^2", 1024, 1024, samples);
    mixed_versus_r2r("heat Neumann x periodic 2-D 256^2", 256, 256, samples);
    int n2b[2] = {2048, 2048}, n3b[3] = {256, 256, 256};
    threads_vs_floor("heat 2 threads 2-D 2048^2", 2, n2b, BERG_PERIODIC, samples);
    threads_vs_floor("heat 2 threads 3-D 256^3", 3, n3b, BERG_PERIODIC, samples);
    threads_vs_floor("heat 2 threads Neumann 2-D 2048^2", 2, n2b, BERG_NEUMANN, samples);
    threads_vs_floor("heat 2 threads Neumann 3-D 256^3", 3, n3b, BERG_NEUMANN, samples);
    direct_threads("direct 2 threads FD sigma 2 2-D 1024^2", 2, n2, 2.0, samples);
    direct_threads("direct 2 threads FD sigma 2 3-D 128^3", 3, n3, 2.0, samples);
    threads("heat 2 threads 2-D 1024^2", 2, n2, samples);
    threads("heat 2 threads 3-D 128^3", 3, n3, samples);
    shared_handle("heat one handle 2 callers 2-D 1024^2", 2, n2, samples);
    shared_handle("heat one handle 2 callers 3-D 128^3", 3, n3, samples);
    return 0;
}
