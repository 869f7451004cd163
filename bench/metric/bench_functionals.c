/* Benchmarks of the information functionals (memory-bound passes, compared
 * with a plain summing pass over the same array) and of the W2 metric
 * solve (CG iterations and time per grid point against grid size, compared
 * with one Poisson solve, i.e. one preconditioner application), and the CG
 * iterations against the regularization delta for a density with compact
 * support (the table of docs/metric.md, "Where p vanishes"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "berg.h"
#include "bench.h"

typedef struct {
    berg_space *s;
    double *p, *q, *out, *eta;
    double sink;
    berg_w2_metric *m;
    berg_multiplier *poisson;
    size_t n, iterations;
} ctx_t;

static void plain_pass(void *c)
{
    ctx_t *x = c;
    double acc = 0;
    for (size_t i = 0; i < x->n; i++)
        acc += x->p[i];
    x->sink += acc;
}

/* the same arithmetic as the entropy without validation or compensation */
static void plain_plogp(void *c)
{
    ctx_t *x = c;
    double acc = 0;
    for (size_t i = 0; i < x->n; i++)
        acc += x->p[i] > 0 ? x->p[i] * log(x->p[i]) : 0.0;
    x->sink += acc;
}

static void run_entropy(void *c)
{
    ctx_t *x = c;
    double S;
    berg_entropy(x->s, x->p, &S);
    x->sink += S;
}

static void run_kl(void *c)
{
    ctx_t *x = c;
    double D;
    berg_kl_divergence(x->s, x->p, x->q, &D);
    x->sink += D;
}

static void run_fisher(void *c)
{
    ctx_t *x = c;
    double J;
    berg_density_fisher_information(x->s, x->p, &J);
    x->sink += J;
}

static void run_w2_gradient(void *c)
{
    ctx_t *x = c;
    berg_w2_gradient(x->s, x->p, x->q, x->out);
}

static void run_inner(void *c)
{
    ctx_t *x = c;
    double G;
    berg_w2_metric_inner(x->m, x->eta, x->eta, &G, &x->iterations, NULL);
    x->sink += G;
}

static void run_poisson(void *c)
{
    ctx_t *x = c;
    berg_multiplier_apply(x->poisson, x->eta, x->out);
}

static int inv_lap(size_t d, const double *k, double *c, void *u)
{
    (void)u;
    double q = 0;
    for (size_t a = 0; a < d; a++)
        q += k[a] * k[a];
    *c = q > 0 ? 1 / q : 0;
    return 0;
}

static void fill(ctx_t *x, int d, const size_t *n)
{
    double lo[3] = {-4, -4, -4}, hi[3] = {4, 4, 4};
    berg_boundary bc[3] = {BERG_NEUMANN, BERG_PERIODIC, BERG_NEUMANN};
    berg_space_create(&x->s, d, n, lo, hi, bc, NULL);
    x->n = berg_space_size(x->s);
    x->p = malloc(x->n * sizeof(double));
    x->q = malloc(x->n * sizeof(double));
    x->out = malloc(x->n * sizeof(double));
    x->eta = malloc(x->n * sizeof(double));
    for (size_t k = 0; k < x->n; k++) {
        size_t r = k;
        double e = 0, f = 0;
        for (int a = d - 1; a >= 0; a--) {
            double xa = lo[a] + ((double)(r % n[a]) + 0.5) * (hi[a] - lo[a]) / (double)n[a];
            r /= n[a];
            e += -0.5 * xa * xa + 0.3 * sin(2 * xa);
            f += cos(1.1 * xa + a);
        }
        x->p[k] = exp(e);
        x->q[k] = exp(0.8 * e);
        x->eta[k] = f;
    }
    berg_space_normalize(x->s, x->p, NULL);
    berg_space_normalize(x->s, x->q, NULL);
    x->m = NULL;
    x->poisson = NULL;
    x->sink = 0;
}

static void release(ctx_t *x)
{
    berg_w2_metric_destroy(x->m);
    berg_multiplier_destroy(x->poisson);
    berg_space_destroy(x->s);
    free(x->p), free(x->q), free(x->out), free(x->eta);
}

/* CG iterations against delta for p = max(0, 1 - |x|^2/4)^2 on [-3, 3]^2
 * (Neumann), eta the W2 tangent of a smooth potential, tolerance 1e-10:
 * the table of docs/metric.md */
static int regularization_table(void)
{
    const size_t ns[2] = {64, 256};
    const double deltas[4] = {1e-2, 1e-3, 1e-4, 1e-6};
    printf("W2 metric, compact support: CG iterations vs regularization delta\n");
    for (int a = 0; a < 2; a++) {
        size_t n[2] = {ns[a], ns[a]}, N = ns[a] * ns[a];
        double lo[2] = {-3, -3}, hi[2] = {3, 3};
        berg_boundary bc[2] = {BERG_NEUMANN, BERG_NEUMANN};
        berg_space *s = NULL;
        if (berg_space_create(&s, 2, n, lo, hi, bc, NULL) != BERG_OK)
            return 1;
        double *p = malloc(N * sizeof *p), *u = malloc(N * sizeof *u);
        double *eta = malloc(N * sizeof *eta), *x = malloc(N * sizeof *x);
        for (size_t i = 0; i < n[0]; i++)
            for (size_t j = 0; j < n[1]; j++) {
                double X = -3 + (i + 0.5) * 6.0 / n[0], Y = -3 + (j + 0.5) * 6.0 / n[1];
                double r = 1 - (X * X + Y * Y) / 4;
                p[i * n[1] + j] = r > 0 ? r * r : 0;
                u[i * n[1] + j] = cos(1.3 * X) * (1 + 0.2 * X) + cos(1.3 * Y + 1) * (1 + 0.2 * Y);
            }
        berg_space_normalize(s, p, NULL);
        berg_w2_gradient(s, p, u, eta);
        printf("    n = %zu^2:", ns[a]);
        for (int k = 0; k < 4; k++) {
            berg_w2_metric *m = NULL;
            size_t it = 0;
            double res = NAN;
            berg_status st = berg_w2_metric_create(&m, s, deltas[k], p, BERG_PLAN_ESTIMATE);
            if (st == BERG_OK)
                st = berg_w2_metric_potential(m, eta, x, &it, &res);
            berg_w2_metric_destroy(m);
            if (st != BERG_OK) {
                printf("\nfailed at delta %g: %s\n", deltas[k], berg_last_error());
                return 1;
            }
            printf("  delta %g: %zu iterations (residual %.1e)", deltas[k], it, res);
        }
        printf("\n");
        free(p), free(u), free(eta), free(x);
        berg_space_destroy(s);
    }
    return 0;
}

int main(void)
{
    /* functionals: memory-bound passes over 2^20 cells */
    {
        ctx_t x;
        size_t n[2] = {1024, 1024};
        fill(&x, 2, n);
        bench_pair("entropy 1024^2", run_entropy, &x, "plain sum", plain_pass, &x, 11);
        bench_pair("entropy 1024^2", run_entropy, &x, "sum p log p", plain_plogp, &x, 11);
        bench_pair("kl_divergence 1024^2", run_kl, &x, "plain sum", plain_pass, &x, 11);
        bench_pair("density_fisher_information 1024^2", run_fisher, &x, "plain sum", plain_pass, &x, 11);
        bench_pair("w2_gradient 1024^2", run_w2_gradient, &x, "plain sum", plain_pass, &x, 11);
        release(&x);
    }
    /* W2 inner product: CG iterations and time per point vs grid size */
    struct {
        int d;
        size_t n;
    } cases[] = {{1, 1024}, {1, 16384}, {1, 262144}, {2, 64},  {2, 256},
                 {2, 512},  {3, 16},    {3, 32},     {3, 64}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ctx_t x;
        size_t n[3] = {cases[c].n, cases[c].n, cases[c].n};
        fill(&x, cases[c].d, n);
        /* the tangent vector: W2 tangent of a smooth potential */
        berg_w2_gradient(x.s, x.p, x.eta, x.out);
        for (size_t i = 0; i < x.n; i++)
            x.eta[i] = x.out[i];
        berg_space_project_tangent(x.s, x.eta, x.eta);
        if (berg_w2_metric_create(&x.m, x.s, 0.0, x.p, 0) != BERG_OK ||
            berg_multiplier_create(&x.poisson, x.s, 0, inv_lap, NULL) != BERG_OK) {
            printf("setup failed: %s\n", berg_last_error());
            release(&x);
            return 1;
        }
        char name[64];
        snprintf(name, sizeof name, "w2 inner %d-D n=%zu (N=%zu)", cases[c].d, cases[c].n, x.n);
        double ratio = bench_pair(name, run_inner, &x, "poisson", run_poisson, &x, 7);
        double t0 = bench_now();
        run_inner(&x);
        double t = bench_now() - t0;
        printf("    %zu CG iterations, %.1f ns per grid point, %.1f ns per point per iteration, "
               "%.2f Poisson solves per iteration\n",
               x.iterations, 1e9 * t / (double)x.n,
               1e9 * t / (double)x.n / (double)x.iterations, ratio / (double)x.iterations);
        release(&x);
    }
    return regularization_table();
}
