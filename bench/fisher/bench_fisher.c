/*
 * fisher benchmarks: berg_fisher_from_scores against a bare CBLAS dsyrk on
 * the same data (the machine's dsyrk peak, and the cost of validation and
 * symmetrisation), the accumulator, the location rule and Wick moments;
 * first the 10^6 x 64 case at 1 and 2 libberg threads (`bench_fisher
 * threads` runs that case alone). Prints figures only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#include "bench.h"
#include "berg.h"

typedef struct {
    size_t n, d;
    double *X, *F;
    berg_fisher_acc *acc;
} scores_ctx;

static void run_berg(void *p)
{
    scores_ctx *c = p;
    berg_fisher_from_scores(c->n, c->d, c->X, c->F);
}

static void run_dsyrk(void *p)
{
    scores_ctx *c = p;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)c->d, (int)c->n, 1.0 / (double)c->n,
                c->X, (int)c->d, 0.0, c->F, (int)c->d);
}

static void run_acc(void *p)
{
    scores_ctx *c = p;
    berg_fisher_acc_reset(c->acc);
    berg_fisher_acc_add(c->acc, c->n, c->X);
}

typedef struct {
    berg_space *s;
    double *p, F[4];
} loc_ctx;

static void run_location(void *p)
{
    loc_ctx *c = p;
    berg_fisher_location(c->s, c->p, c->F);
}

typedef struct {
    double C[144];
    size_t idx[12];
    double out;
} wick_ctx;

static void run_wick(void *p)
{
    wick_ctx *c = p;
    berg_fisher_wick(12, 1.0, 12, c->C, c->idx, &c->out);
}

/* GFLOP/s of one dsyrk of n x d scores: n d (d + 1) flops (a multiply and an
 * add per entry of the lower triangle); best of 7 */
static double dsyrk_gflops(scores_ctx *c)
{
    double flops = (double)c->n * (double)c->d * (double)(c->d + 1);
    int calls = bench_calibrate(run_dsyrk, c);
    double t = 1e30;
    for (int s = 0; s < 7; s++) {
        double ts = bench_time_once(run_dsyrk, c, calls);
        t = ts < t ? ts : t;
    }
    return flops / t * 1e-9;
}

static void fill(double *x, size_t n)
{
    unsigned long long st = 1;
    for (size_t i = 0; i < n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (double)(st >> 11) * 0x1.0p-53 - 0.5;
    }
}

/* issue 18: berg_fisher_from_scores on N = 10^6, d = 64 at 1 and 2 libberg
 * threads against the one dsyrk numpy's X.T @ X makes (alpha = 1/N folds
 * numpy's division), at OpenBLAS's own thread count (the default: one per
 * core; libberg holds it at one thread only while its own threads run) */
static void threads_case(void)
{
    scores_ctx c = {1000000, 64, NULL, NULL, NULL};
    c.X = malloc(c.n * c.d * sizeof(double));
    c.F = malloc(c.d * c.d * sizeof(double));
    fill(c.X, c.n * c.d);
    printf("OpenBLAS threads: %d (OPENBLAS_NUM_THREADS = %s)\n", openblas_get_num_threads(),
           getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)");
    for (size_t t = 1; t <= 2; t++) {
        berg_set_threads(t);
        char name[80];
        snprintf(name, sizeof name, "from_scores 10^6 x 64, %zu libberg thread%s", t,
                 t > 1 ? "s" : "");
        double r = bench_pair(name, run_berg, &c, "dsyrk", run_dsyrk, &c, 11);
        printf("    speed-up over dsyrk (numpy's X.T @ X): %.2fx\n", 1.0 / r);
    }
    berg_set_threads(1);
    printf("OpenBLAS threads after: %d\n", openblas_get_num_threads());
    free(c.X);
    free(c.F);
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == 't') { /* bench_fisher threads: that case alone */
        threads_case();
        return 0;
    }
    threads_case();
    /* the machine's dsyrk peak: a large, compute-bound shape, measured
     * before and after the cases (the machine is shared: the best of all
     * dsyrk figures of the run is taken as the peak) */
    scores_ctx big = {8192, 512, NULL, NULL, NULL};
    big.X = malloc(big.n * big.d * sizeof(double));
    big.F = malloc(big.d * big.d * sizeof(double));
    fill(big.X, big.n * big.d);
    double peak = dsyrk_gflops(&big);
    double berg_gf[4];
    static const size_t cases[][2] = {{200000, 4}, {100000, 16}, {20000, 64}, {4000, 256}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        scores_ctx c = {cases[k][0], cases[k][1], NULL, NULL, NULL};
        c.X = malloc(c.n * c.d * sizeof(double));
        c.F = malloc(c.d * c.d * sizeof(double));
        fill(c.X, c.n * c.d);
        berg_fisher_acc_create(&c.acc, c.d, 0);
        char name[80];
        snprintf(name, sizeof name, "from_scores %zu x %zu", c.n, c.d);
        double r = bench_pair(name, run_berg, &c, "dsyrk", run_dsyrk, &c, 21);
        double g = dsyrk_gflops(&c);
        berg_gf[k] = g / r;
        peak = g > peak ? g : peak;
        printf("    dsyrk on this shape %.2f GFLOP/s, berg_fisher_from_scores %.2f GFLOP/s\n", g,
               g / r);
        snprintf(name, sizeof name, "acc_add (with stderr) %zu x %zu", c.n, c.d);
        bench_pair(name, run_acc, &c, "from_scores", run_berg, &c, 11);
        berg_fisher_acc_destroy(c.acc);
        free(c.X);
        free(c.F);
    }

    double again = dsyrk_gflops(&big);
    peak = again > peak ? again : peak;
    printf("dsyrk peak of this machine (best dsyrk figure of the run; 8192 x 512 at the end: "
           "%.2f GFLOP/s): %.2f GFLOP/s\n",
           again, peak);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        printf("    from_scores %zu x %zu: %.0f%% of the dsyrk peak\n", cases[k][0], cases[k][1],
               100.0 * berg_gf[k] / peak);
    free(big.X);
    free(big.F);

    loc_ctx l;
    size_t n[2] = {512, 512};
    double lo[2] = {-8, -8}, hi[2] = {8, 8};
    berg_space_create(&l.s, 2, n, lo, hi, NULL, NULL);
    l.p = malloc(512 * 512 * sizeof(double));
    double x[512];
    berg_space_coordinates(l.s, 0, x);
    for (int i = 0; i < 512; i++)
        for (int j = 0; j < 512; j++)
            l.p[i * 512 + j] = exp(-0.5 * (x[i] * x[i] + x[i] * x[j] + x[j] * x[j]));
    bench_single("location 2-D 512 x 512", run_location, &l, 11);
    free(l.p);
    berg_space_destroy(l.s);

    wick_ctx w;
    for (int i = 0; i < 12; i++) {
        w.idx[i] = (size_t)i;
        for (int j = 0; j < 12; j++)
            w.C[i * 12 + j] = i == j ? 1.0 : 0.1;
    }
    bench_single("wick order 12, 12 distinct (10395 pairings)", run_wick, &w, 11);
    return 0;
}
