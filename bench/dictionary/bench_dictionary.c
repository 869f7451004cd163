/*
 * Benchmarks of the dictionary module (figures only, no assertions):
 *   observe: berg_bayes_observe (compensated log-domain accumulation, with
 *            the data-range and NaN checks) vs a bare loop adding the same
 *            log-likelihoods (called through a function pointer, as any
 *            callback API must) into a plain array;
 *   predictive: berg_bayes_predictive (blocked dgemv) vs the naive double
 *            loop of the same quadrature;
 *   ERG flow vs Bayes: berg_bayes_backward_flow (spectral shift + heat step on
 *            the data grid) vs the direct predictive it replaces.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <berg.h>

#include "bench.h"

static int G_id(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[0];
    return 0;
}

static int normal(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    (void)ud;
    *lp = -0.5 * n[0] * n[0] - 0.9189385332046727;
    return 0;
}

typedef struct {
    berg_bayes *b;
    const double *y;
    size_t count, nu, ny;
    double *u, *lp, *pi, *p, *ycoord, *p1;
    double tau1, tau2;
    berg_noise_logpdf_fn noise; /* the baselines call the model through a pointer too */
} ctx;

static void run_observe(void *c)
{
    ctx *x = c;
    berg_bayes_reset(x->b);
    berg_bayes_observe(x->b, x->count, x->y);
}

static void run_observe_bare(void *c)
{
    ctx *x = c;
    for (size_t i = 0; i < x->nu; i++) {
        double s = 0.0;
        for (size_t k = 0; k < x->count; k++) {
            double lp, n = x->y[k] - x->u[i];
            x->noise(1, &n, &lp, NULL);
            s += lp;
        }
        x->lp[i] = s;
    }
}

static void run_predictive(void *c)
{
    ctx *x = c;
    berg_bayes_predictive(x->b, x->p);
}

static void run_predictive_naive(void *c)
{
    ctx *x = c;
    double hu = x->u[1] - x->u[0];
    for (size_t j = 0; j < x->ny; j++) {
        double s = 0.0;
        for (size_t i = 0; i < x->nu; i++) {
            double lp, n = x->ycoord[j] - x->u[i];
            x->noise(1, &n, &lp, NULL);
            s += x->pi[i] * exp(lp) * hu;
        }
        x->p[j] = s;
    }
}

static void run_flow(void *c)
{
    ctx *x = c;
    berg_bayes_backward_flow(x->b, x->tau1, x->tau2, 1, x->p1, x->p);
}

static void run_direct(void *c)
{
    ctx *x = c;
    berg_bayes_expected(x->b, 1.0 / x->tau2);
    berg_bayes_predictive(x->b, x->p);
}

int main(void)
{
    size_t nu = 1000, ny = 2048;
    double ulo = -4, uhi = 6, ylo = -14, yhi = 16;
    berg_boundary bc = BERG_NEUMANN;
    berg_space *U = NULL, *Y = NULL;
    berg_space_create(&U, 1, &nu, &ulo, &uhi, &bc, NULL);
    berg_space_create(&Y, 1, &ny, &ylo, &yhi, &bc, NULL);
    ctx x = {0};
    x.nu = nu;
    x.ny = ny;
    x.count = 1000;
    berg_noise_logpdf_fn volatile fp = normal;
    x.noise = fp;
    double *flat = malloc(nu * sizeof *flat), *y = malloc(x.count * sizeof *y);
    x.u = malloc(nu * sizeof *x.u);
    x.lp = malloc(nu * sizeof *x.lp);
    x.pi = malloc(nu * sizeof *x.pi);
    x.p = malloc(ny * sizeof *x.p);
    x.p1 = malloc(ny * sizeof *x.p1);
    x.ycoord = malloc(ny * sizeof *x.ycoord);
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    for (size_t k = 0; k < x.count; k++)
        y[k] = 1.0 + 2.0 * (fmod((double)k * 0.618034, 1.0) - 0.5);
    x.y = y;
    berg_space_coordinates(U, 0, x.u);
    berg_space_coordinates(Y, 0, x.ycoord);
    berg_bayes_create(&x.b, U, Y, flat, 0);
    berg_bayes_set_location(x.b, NULL, NULL, G_id, normal, NULL);
    bench_pair("observe 1000 points, 1000 cells", run_observe, &x, "bare loop", run_observe_bare,
               &x, 9);
    berg_bayes_reset(x.b);
    berg_bayes_observe(x.b, 3, y);
    berg_bayes_posterior(x.b, x.pi);
    bench_pair("predictive 1000 cells -> 2048", run_predictive, &x, "naive", run_predictive_naive,
               &x, 9);
    /* truth and p at tau1 for the flow */
    double *ps = malloc(ny * sizeof *ps);
    for (size_t j = 0; j < ny; j++)
        ps[j] = exp(-0.5 * (x.ycoord[j] - 1.0) * (x.ycoord[j] - 1.0));
    berg_bayes_set_truth(x.b, ps);
    x.tau1 = 0.05;
    x.tau2 = 0.2;
    berg_bayes_expected(x.b, 1.0 / x.tau1);
    berg_bayes_predictive(x.b, x.p1);
    bench_pair("ERG flow tau 0.05 -> 0.2 (2048 cells)", run_flow, &x, "Bayes direct", run_direct,
               &x, 9);
    berg_bayes_destroy(x.b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(flat);
    free(y);
    free(ps);
    free(x.u);
    free(x.lp);
    free(x.pi);
    free(x.p);
    free(x.p1);
    free(x.ycoord);
    return 0;
}
