/* Factories for the generated bad-input table (gen_badinput.py): one valid
 * value of each argument type. A standard space (16 cells on [-4, 4],
 * Neumann; dimension-like counts are 1 so every matrix is 1 x 1), one
 * handle of each type built on it (each call gets fresh handles, freed
 * after the call), uniform densities for input arrays, sentinel-filled
 * output buffers and a valid callback of each typedef. */
#ifndef BERG_BADINPUT_SUPPORT_H
#define BERG_BADINPUT_SUPPORT_H

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berg.h"

#define BI_N 16          /* cells of the standard space */
#define BI_BUF 4096      /* elements of every array argument */
#define BI_SENT 1.2345678901234567e-300
#define BI_SENT_SIZE ((size_t)0xA5A5A5A5A5A5A5A5ull)

/* handles made for one call, destroyed after it */
typedef void (*bi_destroy_fn)(void *);
static struct { void *h; bi_destroy_fn d; } bi_owned[64];
static size_t bi_nowned;
static char bi_sentinel_object; /* *out before a creator is called */

static void *bi_keep(void *h, bi_destroy_fn d)
{
    if (h && bi_nowned < 64) {
        bi_owned[bi_nowned].h = h;
        bi_owned[bi_nowned].d = d;
        bi_nowned++;
    }
    return h;
}
static void bi_release(void)
{
    while (bi_nowned > 0) {
        bi_nowned--;
        bi_owned[bi_nowned].d(bi_owned[bi_nowned].h);
    }
}

static double bi_uniform_density(void) { return 1.0 / 8.0; }

/* ---- valid callbacks, one per typedef ---------------------------------- */
static inline int cb_berg_symbol_fn(size_t ndim, const double *k, double *c, void *ud)
{
    (void)ud;
    double k2 = 0;
    for (size_t a = 0; a < ndim; a++)
        k2 += k[a] * k[a];
    *c = k2;
    return 0;
}
static inline int cb_berg_gradient_fn(size_t ndim, const double *x, double *g, void *ud)
{
    (void)ud;
    for (size_t a = 0; a < ndim; a++)
        g[a] = x[a];
    return 0;
}
static inline int cb_berg_action_gradient_fn(size_t size, const double *phi, double *g, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < size; i++)
        g[i] = 0.1 * phi[i];
    return 0;
}
static inline int cb_berg_forward_fn(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)ud;
    for (size_t j = 0; j < dy; j++)
        y[j] = 0.8 * u[j < du ? j : 0] + 0.1;
    return 0;
}
static inline int cb_berg_jacobian_fn(size_t du, const double *u, size_t dy, double *J, void *ud)
{
    (void)u;
    (void)ud;
    for (size_t i = 0; i < du * dy; i++)
        J[i] = 0.8;
    return 0;
}
static inline int cb_berg_noise_logpdf_fn(size_t dy, const double *n, double *lp, void *ud)
{
    (void)ud;
    double s = 0;
    for (size_t j = 0; j < dy; j++)
        s += n[j] * n[j];
    *lp = -0.5 * s - 0.5 * (double)dy * log(2 * M_PI);
    return 0;
}
static inline int cb_berg_point_loglik_fn(size_t du, const double *u, size_t dy, const double *y,
                                   double *lp, void *ud)
{
    (void)du;
    double n = y[0] - (0.8 * u[0] + 0.1);
    return cb_berg_noise_logpdf_fn(dy < 1 ? 1 : 1, &n, lp, ud);
}
static inline int cb_berg_grid_loglik_fn(size_t npar, const double *u, const berg_space *s, double *lp,
                                  void *ud)
{
    (void)npar;
    (void)ud;
    size_t n = berg_space_size(s);
    double x[BI_N];
    if (n > BI_N || berg_space_coordinates(s, 0, x) != BERG_OK)
        return 1;
    for (size_t i = 0; i < n; i++)
        lp[i] = -0.5 * (x[i] - u[0]) * (x[i] - u[0]) - 0.5 * log(2 * M_PI);
    return 0;
}
static inline int cb_berg_grid_score_fn(size_t npar, const double *u, const berg_space *s, double *lp,
                                 double *score, void *ud)
{
    (void)ud;
    size_t n = berg_space_size(s);
    double x[BI_N];
    if (n > BI_N || berg_space_coordinates(s, 0, x) != BERG_OK)
        return 1;
    for (size_t i = 0; i < n; i++) {
        lp[i] = -0.5 * (x[i] - u[0]) * (x[i] - u[0]) - 0.5 * log(2 * M_PI);
        for (size_t a = 0; a < npar; a++)
            score[i * npar + a] = a == 0 ? x[i] - u[0] : 0.0;
    }
    return 0;
}
static inline int cb_berg_scalar_metric_fn(double th, double *v, void *ud)
{
    (void)ud;
    *v = 1.0 + th * th;
    return 0;
}
static inline int cb_berg_progress_fn(double fraction, size_t iteration, double error, void *ud)
{
    (void)fraction;
    (void)iteration;
    (void)error;
    (void)ud;
    return 0;
}
/* fp time-dependent (issue 17) */
static inline int cb_berg_fp_field_fn(double t, size_t n, size_t ndim, double *V, double *g,
                                      void *ud)
{
    (void)ndim;
    (void)g; /* the space's metric */
    (void)ud;
    for (size_t i = 0; i < n; i++) {
        double x = -4.0 + 8.0 * ((double)i + 0.5) / (double)n;
        V[i] = 0.5 * (1.0 + 0.5 * t / (1.0 + fabs(t))) * x * x; /* smooth, bounded in t */
    }
    return 0;
}
/* end fp time-dependent */
/* couplings (issue 17) */
static inline int cb_berg_operator_fn(size_t size, const double *phi, double *value, double *grad,
                                      double *lap, void *ud)
{
    (void)ud;
    double s = 0.0;
    for (size_t x = 0; x < size; x++) {
        s += phi[x] * phi[x];
        if (grad)
            grad[x] = 2.0 * phi[x];
    }
    *value = s;
    if (lap)
        *lap = 2.0 * (double)size;
    return 0;
}
/* end couplings */
/* erg flow (issue 17): C_Lambda(k) = e^{-(k^2 + 1) / Lambda^2}; a mass term */
static inline int cb_berg_scheme_regulator_fn(size_t ndim, double lambda, const double *k,
                                              double *c, void *ud)
{
    (void)ud;
    double q = 0.0;
    for (size_t a = 0; a < ndim; a++)
        q += k[a] * k[a];
    *c = exp(-(q + 1.0) / (lambda * lambda));
    return 0;
}
static inline int cb_berg_erg_gradient_fn(size_t size, double lambda, const double *phi,
                                          double *grad, void *ud)
{
    (void)lambda;
    (void)ud;
    for (size_t i = 0; i < size; i++)
        grad[i] = 0.5 * phi[i];
    return 0;
}
/* end erg flow */

/* ---- the standard space and one handle of each type ------------------- */
static berg_space *fx_space(void)
{
    size_t n[1] = {BI_N};
    double lo[1] = {-4}, hi[1] = {4};
    berg_boundary bc[1] = {BERG_NEUMANN};
    berg_space *s = NULL;
    berg_space_create(&s, 1, n, lo, hi, bc, NULL);
    return bi_keep(s, (bi_destroy_fn)berg_space_destroy);
}
static berg_space *fx_periodic_space(void)
{
    size_t n[1] = {BI_N};
    double lo[1] = {-4}, hi[1] = {4};
    berg_boundary bc[1] = {BERG_PERIODIC};
    berg_space *s = NULL;
    berg_space_create(&s, 1, n, lo, hi, bc, NULL);
    return bi_keep(s, (bi_destroy_fn)berg_space_destroy);
}
static double bi_V[BI_N];
static const double *fx_potential(void)
{
    for (size_t i = 0; i < BI_N; i++) {
        double x = -4 + 0.5 * ((double)i + 0.5);
        bi_V[i] = 0.5 * x * x;
    }
    return bi_V;
}
static berg_heat *fx_heat(void)
{
    berg_heat *h = NULL;
    berg_heat_create(&h, fx_space(), BERG_PLAN_ESTIMATE);
    return bi_keep(h, (bi_destroy_fn)berg_heat_destroy);
}
static berg_multiplier *fx_multiplier(void)
{
    berg_multiplier *m = NULL;
    berg_multiplier_create(&m, fx_space(), BERG_PLAN_ESTIMATE, cb_berg_symbol_fn, NULL);
    return bi_keep(m, (bi_destroy_fn)berg_multiplier_destroy);
}
static berg_fp *fx_fp(void)
{
    berg_fp *f = NULL;
    berg_fp_create(&f, fx_space(), fx_potential(), 0);
    return bi_keep(f, (bi_destroy_fn)berg_fp_destroy);
}
static berg_fp_spectral *fx_fp_spectral(void)
{
    berg_fp_spectral *s = NULL;
    berg_fp_spectral_create(&s, fx_fp());
    return bi_keep(s, (bi_destroy_fn)berg_fp_spectral_destroy);
}
static berg_particles *fx_particles(void)
{
    double g[1] = {1.0};
    berg_particles *p = NULL;
    berg_particles_create(&p, 1, 1, g);
    return bi_keep(p, (bi_destroy_fn)berg_particles_destroy);
}
static berg_langevin *fx_langevin(void)
{
    berg_langevin *l = NULL;
    berg_langevin_create_regulator(&l, fx_periodic_space(), BERG_REGULATOR_EXPONENTIAL, 2.0, 1);
    return bi_keep(l, (bi_destroy_fn)berg_langevin_destroy);
}
static double bi_density[BI_N];
static const double *fx_density(void)
{
    for (size_t i = 0; i < BI_N; i++)
        bi_density[i] = bi_uniform_density();
    return bi_density;
}
static berg_w2_metric *fx_w2_metric(void)
{
    berg_w2_metric *m = NULL;
    berg_w2_metric_create(&m, fx_space(), 1e-3, fx_density(), BERG_PLAN_ESTIMATE);
    return bi_keep(m, (bi_destroy_fn)berg_w2_metric_destroy);
}
static berg_sinkhorn *fx_sinkhorn(void)
{
    berg_sinkhorn *k = NULL;
    berg_sinkhorn_create(&k, fx_space(), 4.0, BERG_PLAN_ESTIMATE);
    return bi_keep(k, (bi_destroy_fn)berg_sinkhorn_destroy);
}
static berg_fisher_acc *fx_fisher_acc(void)
{
    berg_fisher_acc *a = NULL;
    double s[4] = {0.5, -0.3, 1.1, -0.9};
    berg_fisher_acc_create(&a, 1, 0);
    berg_fisher_acc_add(a, 4, s);
    return bi_keep(a, (bi_destroy_fn)berg_fisher_acc_destroy);
}
static berg_bayes *fx_bayes(void)
{
    berg_bayes *b = NULL;
    berg_bayes_create(&b, fx_space(), fx_space(), fx_density(), 0);
    berg_bayes_set_location(b, NULL, NULL, cb_berg_forward_fn, cb_berg_noise_logpdf_fn, NULL);
    berg_bayes_set_truth(b, fx_density());
    berg_bayes_expected(b, 2.0);
    return bi_keep(b, (bi_destroy_fn)berg_bayes_destroy);
}
static berg_dictionary *fx_dictionary(void)
{
    berg_dictionary *d = NULL;
    berg_dictionary_create(&d, fx_bayes(), 0.05);
    return bi_keep(d, (bi_destroy_fn)berg_dictionary_destroy);
}
static berg_channel *fx_channel(void)
{
    berg_channel *c = NULL;
    berg_channel_create(&c, fx_space(), BERG_CHANNEL_FP, 0.2, fx_potential());
    return bi_keep(c, (bi_destroy_fn)berg_channel_destroy);
}
/* couplings (issue 17): a basis of phi^2 on a one-site periodic lattice
 * (its fields are the points of the standard rank-1 space), and a flow
 * record of two members at the scales 0 and 0.25 */
static berg_basis *fx_basis(void)
{
    size_t n[1] = {1};
    double lo[1] = {0}, hi[1] = {1};
    berg_space *lat = NULL;
    berg_space_create(&lat, 1, n, lo, hi, NULL, NULL);
    berg_operator op[1] = {BERG_OPERATOR_PHI2};
    berg_basis *b = NULL;
    berg_basis_create(&b, lat, 1, op);
    berg_space_destroy(lat);
    return bi_keep(b, (bi_destroy_fn)berg_basis_destroy);
}
static berg_couplings_flow *fx_couplings_flow(void)
{
    berg_couplings_flow *f = NULL;
    double phi0[2] = {0.3, -0.7}, phi1[2] = {0.2, -0.5};
    berg_couplings_flow_create(&f, fx_basis(), 2, 0);
    berg_couplings_flow_add(f, 0.0, phi0);
    berg_couplings_flow_add(f, 0.25, phi1);
    return bi_keep(f, (bi_destroy_fn)berg_couplings_flow_destroy);
}
/* end couplings */
/* erg flow (issue 17): an exponential scheme on the standard periodic space */
static berg_scheme *fx_scheme(void)
{
    berg_scheme *s = NULL;
    berg_scheme_create_regulator(&s, fx_periodic_space(), BERG_REGULATOR_EXPONENTIAL, 0.5,
                                 BERG_PLAN_ESTIMATE);
    return bi_keep(s, (bi_destroy_fn)berg_scheme_destroy);
}
/* end erg flow */
#endif
