/*
 * fisher benchmarks: berg_fisher_from_scores against a bare CBLAS dsyrk on
 * the same data (the machine's dsyrk peak, and the cost of validation and
 * symmetrisation), the accumulator, the location rule and Wick moments;
 * first the 10^6 x 64 case at 1 and 2 libberg threads (`bench_fisher
 * threads` runs the thread cases alone: that one, then the other loops
 * libberg splits - finite-volume lines, Bayes observe, the W2-metric
 * operator - at 2 threads against 1). Prints figures only.
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

/* the other loops libberg splits (issue 18), 2 threads against 1 on the same
 * handle: finite-volume line solves, Bayes observe over many cells, the W2
 * metric operator's CG solve */
typedef struct {
    berg_fp *fp;
    berg_bayes *b;
    berg_w2_metric *m;
    double *p0, *out, *y, *eta;
    size_t ny;
} loops_ctx;

static void run_fp(void *p)
{
    loops_ctx *c = p;
    berg_fp_evolve(c->fp, 0.002, c->p0, c->out);
}

static void run_observe(void *p)
{
    loops_ctx *c = p;
    berg_bayes_reset(c->b);
    berg_bayes_observe(c->b, c->ny, c->y);
}

static void run_w2m(void *p)
{
    loops_ctx *c = p;
    berg_w2_metric_potential(c->m, c->eta, c->out, NULL, NULL);
}

static int G_id(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[0];
    return 0;
}

static void loops_case(void)
{
    const size_t n2[2] = {512, 512}, N = 512 * 512;
    double lo2[2] = {-3, -3}, hi2[2] = {3, 3};
    berg_boundary bc2[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s2 = NULL;
    berg_space_create(&s2, 2, n2, lo2, hi2, bc2, NULL);
    loops_ctx c1 = {0};
    double *V = malloc(N * sizeof(double));
    c1.p0 = malloc(N * sizeof(double));
    c1.out = malloc(N * sizeof(double));
    c1.eta = malloc(N * sizeof(double));
    for (size_t i = 0; i < 512; i++)
        for (size_t j = 0; j < 512; j++) {
            double x = -3 + 6 * (i + 0.5) / 512, y = -3 + 6 * (j + 0.5) / 512;
            V[i * 512 + j] = 0.5 * (y * y - 1) * (y * y - 1) + 0.3 * sin(x);
            c1.p0[i * 512 + j] = exp(-0.5 * (x * x + y * y));
            c1.eta[i * 512 + j] = cos(x) * y;
        }
    berg_fp_create(&c1.fp, s2, V, 0);
    double mass;
    berg_space_normalize(s2, c1.p0, &mass);
    berg_space_project_tangent(s2, c1.eta, c1.eta);
    berg_w2_metric_create(&c1.m, s2, 0.0, c1.p0, 0);
    berg_w2_metric_set_tolerance(c1.m, 1e-6);
    /* Bayes: 2^17 parameter cells, a grid noise, 20 observations */
    size_t nu = (size_t)1 << 17, ny = 256, nn = 301;
    double lu = -4, hu = 4, ly = -6, hy = 6, ln = -3, hn = 3;
    berg_boundary nb = BERG_NEUMANN;
    berg_space *U = NULL, *Y = NULL, *Ns = NULL;
    berg_space_create(&U, 1, &nu, &lu, &hu, &nb, NULL);
    berg_space_create(&Y, 1, &ny, &ly, &hy, &nb, NULL);
    berg_space_create(&Ns, 1, &nn, &ln, &hn, &nb, NULL);
    double *prior = malloc(nu * sizeof(double)), *noise = malloc(nn * sizeof(double));
    for (size_t i = 0; i < nu; i++)
        prior[i] = 1.0;
    for (size_t k = 0; k < nn; k++) {
        double x = -3 + 6 * (k + 0.5) / (double)nn;
        noise[k] = exp(-2 * x * x);
    }
    berg_bayes_create(&c1.b, U, Y, prior, 0);
    berg_bayes_set_location(c1.b, Ns, noise, G_id, NULL, NULL);
    c1.ny = 20;
    c1.y = malloc(c1.ny * sizeof(double));
    for (size_t k = 0; k < c1.ny; k++)
        c1.y[k] = 0.3 + 0.05 * (double)(k % 7);
    /* one set of handles: the thread setting is switched between samples */
    struct { const char *name; bench_fn f; } cases[] = {
        {"fp evolve 512^2 finite volume, t 0.002", run_fp},
        {"bayes observe 2^17 cells x 20", run_observe},
        {"w2 metric potential 512^2 (CG, rtol 1e-6)", run_w2m},
    };
    for (size_t k = 0; k < 3; k++) {
        berg_fp_set_threads(c1.fp, 1);
        berg_bayes_set_threads(c1.b, 1);
        berg_w2_metric_set_threads(c1.m, 1);
        int calls = bench_calibrate(cases[k].f, &c1);
        double t1[5], t2[5];
        for (int r = 0; r < 5; r++) {
            for (int w = 0; w < 2; w++) {
                int th = (r + w) % 2 ? 2 : 1;
                berg_fp_set_threads(c1.fp, (size_t)th);
                berg_bayes_set_threads(c1.b, (size_t)th);
                berg_w2_metric_set_threads(c1.m, (size_t)th);
                double t = bench_time_once(cases[k].f, &c1, calls);
                if (th == 1)
                    t1[r] = t;
                else
                    t2[r] = t;
            }
        }
        double m1 = bench_median(t1, 5), m2 = bench_median(t2, 5);
        printf("%-40s 2 threads %10.3f ms   1 thread %10.3f ms   ratio %.3f\n", cases[k].name,
               1e3 * m2, 1e3 * m1, m2 / m1);
        fflush(stdout);
    }
    berg_fp_destroy(c1.fp);
    berg_bayes_destroy(c1.b);
    berg_w2_metric_destroy(c1.m);
    berg_space_destroy(s2);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    berg_space_destroy(Ns);
    free(V);
    free(prior);
    free(noise);
    free(c1.p0);
    free(c1.out);
    free(c1.eta);
    free(c1.y);
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == 't') { /* bench_fisher threads: the thread cases alone */
        threads_case();
        loops_case();
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
