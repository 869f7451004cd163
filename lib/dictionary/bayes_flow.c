/*
 * lib/dictionary/bayes_flow.c - the geometry of the dictionary at the MAP
 * (J, I, K of table p.33) and the backward drift-diffusion of the posterior
 * predictive (seed eq 55-57) with its discrepancy from the direct predictive.
 */
#include "propagator/transform.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/fisher.h"
#include "berg/functional.h"
#include "berg/heat.h"
#include "dictionary/internal.h"
#include "fisher/internal.h"

/* The cap on the trapezoid intervals of the backward flow: each costs a
 * Newton MAP; the O(h^2) error of 1/2 int K dtau is at round-off by 1e4. */
enum { BERG__FLOW_MAX_STEPS = 100000 };

/* ---- geometry at the MAP ------------------------------------------------ */

berg_status berg__bayes_phi_grid(const berg_bayes *b, const double *u, double *logp,
                                 const char *fn)
{
    double g[BERG_MAX_RANK], y[BERG_MAX_RANK];
    BERG_TRY(berg__bayes_forward(b, u, g, fn));
    for (size_t j = 0; j < b->ny; j++) {
        berg__bayes_data_point(b, j, y);
        BERG_TRY(berg__bayes_noise_logpdf(b, y, g, &logp[j], fn));
    }
    return BERG_OK;
}

/* ln p0(y_j - G(u)) on the data grid, as berg_fisher_model's callback */
static int grid_loglik(size_t npar, const double *u, const berg_space *space, double *logp,
                       void *user_data)
{
    (void)space;
    (void)npar;
    return berg__bayes_phi_grid(user_data, u, logp, "berg_fisher_model") != BERG_OK;
}

berg_status berg__bayes_geometry_at(const berg_bayes *b, double tau, int known, double *gamma,
                                    double *J, double *Imat, double *K, const char *fn)
{
    if (!known)
        BERG_TRY(berg__bayes_map_exact(b, tau, gamma, NULL, fn));
    /* the fisher kernels trust their (validated) inputs and name fn */
    BERG_TRY(berg__fisher_jacobian(b->du, b->dy, gamma, J, b->G, NULL, b->user_data, fn));
    BERG_TRY(berg__fisher_model(&b->data, b->du, gamma, Imat, grid_loglik, NULL, (void *)b, fn));
    return berg__fisher_pullback(b->dy, b->du, J, Imat, K, fn);
}

/* ---- the translation: a phase factor per mode of the periodic data grid -- */

typedef struct {
    berg__xform *x;
    const double *delta;
} shift_ctx;

static int shift_mode(size_t mode, const size_t *idx, const double *k, void *ctx)
{
    const shift_ctx *c = ctx;
    const berg__xform *x = c->x;
    double phase = 0.0, damp = 1.0;
    for (int a = 0; a < x->space.ndim; a++) {
        if ((int)idx[a] == x->nyquist[a])
            damp *= cos(k[a] * c->delta[a]); /* Nyquist: keep the real part */
        else
            phase += k[a] * c->delta[a];
    }
    double *z = x->spec + 2 * mode, re = z[0], im = z[1];
    double co = cos(phase) * damp * x->norm, si = -sin(phase) * damp * x->norm;
    z[0] = re * co - im * si;
    z[1] = re * si + im * co;
    return 0;
}

/* a <- a(. - delta), the data grid taken as periodic */
static berg_status shift_spectral(const struct berg_space *Y, const double *delta, double *a,
                                  const char *fn)
{
    berg_boundary bc[BERG_MAX_RANK];
    for (int k = 0; k < Y->ndim; k++)
        bc[k] = BERG_PERIODIC;
    berg_space *ring = NULL;
    berg_status st = berg_space_create(&ring, (size_t)Y->ndim, Y->n, Y->lo, Y->hi, bc, NULL);
    if (st != BERG_OK)
        return berg__dict_rewrap(st, fn, "the periodic data grid of the shift");
    berg__xform x;
    st = berg__xform_init(&x, ring, 1, 1, BERG__XF_ESTIMATE, fn);
    berg_space_destroy(ring);
    BERG_TRY(st);
    shift_ctx ctx = {&x, delta};
    berg__xform_forward(&x, a);
    berg__xform_each_mode(&x, shift_mode, &ctx);
    berg__xform_inverse(&x, x.spec, a);
    berg__xform_free(&x);
    return BERG_OK;
}

/* ---- the diffusion: heat with covariance 2A ------------------------------- */

/* a <- e^{Delta_g} a with g = A^{-1}, A (dy x dy) SPD */
static berg_status heat_cov(const struct berg_space *Y, const double *A, double *a, const char *fn)
{
    double Ainv[BERG_MAX_RANK * BERG_MAX_RANK];
    berg_status st;
    /* a covariance so small that even the grid's highest mode decays by
     * less than round-off (A (pi/h)^2 <= eps/4 on every axis; |A_ab| is at
     * most sqrt(A_aa A_bb)): the heat step is the identity to double
     * precision, and A^{-1} would overflow */
    int identity = 1;
    for (int k = 0; k < Y->ndim; k++) {
        double kmax = M_PI / Y->h[k];
        identity &= A[k * Y->ndim + k] * kmax * kmax <= 0.25 * DBL_EPSILON;
    }
    if (identity)
        return BERG_OK;
    BERG_TRY(berg__fisher_inverse((size_t)Y->ndim, A, Ainv, fn));
    berg_space *S = NULL;
    berg_heat *h = NULL;
    const char *ctx = "the accumulated inverse metric is not usable on the data space";
    BERG_TRY_GOTO(st, berg_space_create(&S, (size_t)Y->ndim, Y->n, Y->lo, Y->hi, Y->bc, Ainv),
                  rewrap);
    ctx = "heat step of the backward flow";
    BERG_TRY_GOTO(st, berg_heat_create(&h, S, BERG_PLAN_ESTIMATE), rewrap);
    BERG_TRY_GOTO(st, berg_heat_apply(h, 1.0, a, a), rewrap);
    goto done;
rewrap:
    berg__dict_rewrap(st, fn, ctx);
done:
    berg_heat_destroy(h);
    berg_space_destroy(S);
    return st;
}

/* A = 1/2 integral K dtau by the trapezoid on nsteps intervals, and G at the
 * MAPs of both ends (g1: the MAP at tau1 when the caller has it, else NULL) */
static berg_status accumulate_covariance(const berg_bayes *b, double tau1, double tau2,
                                         size_t nsteps, const double *g1, double *A, double *G1,
                                         double *G2, const char *fn)
{
    size_t du = b->du, dy = b->dy;
    double K[BERG_MAX_RANK * BERG_MAX_RANK], J[BERG_MAX_RANK * BERG_MAX_RANK];
    double Imat[BERG_MAX_RANK * BERG_MAX_RANK], gam[BERG_MAX_RANK];
    double h = (tau2 - tau1) / (double)nsteps;
    memset(A, 0, dy * dy * sizeof(double));
    for (size_t k = 0; k <= nsteps; k++) {
        double tk = (k == nsteps) ? tau2 : tau1 + (double)k * h;
        int known = k == 0 && g1;
        if (known)
            memcpy(gam, g1, du * sizeof(double));
        BERG_TRY(berg__bayes_geometry_at(b, tk, known, gam, J, Imat, K, fn));
        if (k == 0)
            BERG_TRY(berg__bayes_forward(b, gam, G1, fn));
        if (k == nsteps)
            BERG_TRY(berg__bayes_forward(b, gam, G2, fn));
        double wgt = (k == 0 || k == nsteps) ? 0.5 : 1.0;
        for (size_t q = 0; q < dy * dy; q++)
            A[q] += 0.5 * wgt * h * K[q];
    }
    /* symmetrize; drop couplings at round-off level (they would make the
     * heat step refuse non-periodic axes) */
    for (size_t i = 0; i < dy; i++)
        for (size_t j = 0; j < i; j++) {
            double v = 0.5 * (A[i * dy + j] + A[j * dy + i]);
            if (fabs(v) <= 1e-12 * sqrt(fabs(A[i * dy + i] * A[j * dy + j])))
                v = 0.0;
            A[i * dy + j] = A[j * dy + i] = v;
        }
    return BERG_OK;
}

static berg_status flow_impl(const berg_bayes *b, double tau1, double tau2, size_t nsteps,
                             const double *g1, double *a, const char *fn)
{
    double A[BERG_MAX_RANK * BERG_MAX_RANK], G1[BERG_MAX_RANK], G2[BERG_MAX_RANK];
    if (tau2 == tau1)
        return BERG_OK;
    BERG_TRY(accumulate_covariance(b, tau1, tau2, nsteps, g1, A, G1, G2, fn));
    double delta[BERG_MAX_RANK];
    int moved = 0;
    for (size_t q = 0; q < b->dy; q++) {
        delta[q] = G2[q] - G1[q];
        moved |= delta[q] != 0.0;
    }
    if (moved)
        BERG_TRY(shift_spectral(&b->data, delta, a, fn));
    return heat_cov(&b->data, A, a, fn);
}

berg_status berg_bayes_backward_flow(const berg_bayes *b, double tau1, double tau2,
                                     size_t nsteps, const double *p1, double *p2)
{
    static const char fn[] = "berg_bayes_backward_flow";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(p1, fn, "p1"));
    BERG_TRY(berg__check_ptr(p2, fn, "p2"));
    BERG_TRY(berg__check_time(tau1, fn, "tau1"));
    BERG_TRY(berg__check_time(tau2, fn, "tau2"));
    BERG_TRY(berg__bayes_need_location_truth(b, fn));
    BERG_REQUIRE(tau2 >= tau1, BERG_ERR_TIME,
                 "%s: tau2 = %g < tau1 = %g: the backward flow runs towards larger tau", fn, tau2,
                 tau1);
    BERG_REQUIRE(nsteps > 0 && nsteps <= BERG__FLOW_MAX_STEPS, BERG_ERR_SIZE,
                 "%s: nsteps = %zu must be in 1..%d (the trapezoid error of 1/2 int K dtau "
                 "reaches round-off long before)",
                 fn, nsteps, BERG__FLOW_MAX_STEPS);
    BERG_TRY(berg__check_finite(p1, b->ny, fn, "p1"));
    double *a = berg__alloc(b->ny, sizeof(double), fn);
    if (!a)
        return berg_last_status();
    memcpy(a, p1, b->ny * sizeof(double));
    berg_status st = flow_impl(b, tau1, tau2, nsteps, NULL, a, fn);
    if (st == BERG_OK)
        memcpy(p2, a, b->ny * sizeof(double));
    berg__free(a);
    return st;
}

/* ---- discrepancy ---------------------------------------------------------- */

/* pf: the backward flow from tau = 0 (the likelihood at the MAP gamma_0) to tau */
static berg_status flowed_likelihood(const berg_bayes *b, double tau, size_t nsteps, double *pf,
                                     const char *fn)
{
    double g0[BERG_MAX_RANK], y[BERG_MAX_RANK];
    BERG_TRY(berg__bayes_map_exact(b, 0.0, g0, NULL, fn));
    for (size_t j = 0; j < b->ny; j++) {
        double lp;
        berg__bayes_data_point(b, j, y);
        BERG_TRY(berg__bayes_loglik_at(b, g0, y, &lp, fn));
        pf[j] = exp(lp);
    }
    return flow_impl(b, 0.0, tau, nsteps, g0, pf, fn);
}

/* The direct predictive at T = 1/tau is a quadrature over the parameter
 * grid: it is resolved only while the posterior, of covariance about
 * tau I^{-1} at gamma_tau, spans at least a cell on every axis. Below that
 * the comparison measures the grid, not the flow: BERG_ERR_TIME naming tau. */
static berg_status check_resolved(const berg_bayes *b, double tau, const char *fn)
{
    double gam[BERG_MAX_RANK], J[BERG_MAX_RANK * BERG_MAX_RANK];
    double Imat[BERG_MAX_RANK * BERG_MAX_RANK], K[BERG_MAX_RANK * BERG_MAX_RANK];
    double Iinv[BERG_MAX_RANK * BERG_MAX_RANK];
    BERG_TRY(berg__bayes_geometry_at(b, tau, 0, gam, J, Imat, K, fn));
    BERG_TRY(berg__fisher_inverse(b->du, Imat, Iinv, fn));
    for (size_t k = 0; k < b->du; k++) {
        double sd = sqrt(tau * Iinv[k * b->du + k]);
        BERG_REQUIRE(sd >= b->param.h[k], BERG_ERR_TIME,
                     "%s: tau = %g is too small for the parameter grid: the posterior's standard "
                     "deviation sqrt(tau (I^-1)_kk) = %g on parameter axis %zu is below its cell "
                     "width %g, so the direct predictive is not resolved",
                     fn, tau, sd, k, b->param.h[k]);
    }
    return BERG_OK;
}

berg_status berg_bayes_flow_discrepancy(const berg_bayes *b, double tau, size_t nsteps,
                                        double *l1, double *kl)
{
    static const char fn[] = "berg_bayes_flow_discrepancy";
    berg_status st = BERG_OK;
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_REQUIRE(isfinite(tau) && tau > 0.0, BERG_ERR_TIME,
                 "%s: tau = %g must be finite and > 0", fn, tau);
    BERG_TRY(berg__bayes_need_location_truth(b, fn));
    BERG_REQUIRE(nsteps > 0 && nsteps <= BERG__FLOW_MAX_STEPS, BERG_ERR_SIZE,
                 "%s: nsteps = %zu must be in 1..%d (the trapezoid error of 1/2 int K dtau "
                 "reaches round-off long before)",
                 fn, nsteps, BERG__FLOW_MAX_STEPS);
    BERG_TRY(check_resolved(b, tau, fn));
    size_t ny = b->ny;
    double *pf = berg__alloc(ny, sizeof(double), fn), *pd = berg__alloc(ny, sizeof(double), fn);
    if (!pf || !pd) {
        st = berg_last_status();
        goto done;
    }
    BERG_TRY_GOTO(st, flowed_likelihood(b, tau, nsteps, pf, fn), done);
    BERG_TRY_GOTO(st, berg__bayes_expected_predictive(b, 1.0 / tau, pd, fn), done);
    double sf = 0.0, sd = 0.0;
    for (size_t j = 0; j < ny; j++) {
        if (pf[j] < 1e-300)
            pf[j] = 1e-300; /* spectral round-off at or below zero in the tails */
        sf += pf[j];
        sd += pd[j];
    }
    if (!(sf > 0.0) || !(sd > 0.0)) {
        st = berg__error(BERG_ERR_MASS, "%s: a predictive has no mass on the data grid", fn);
        goto done;
    }
    double s1 = 0.0, klv = 0.0;
    for (size_t j = 0; j < ny; j++) {
        pf[j] /= sf * b->data.weight;
        pd[j] /= sd * b->data.weight;
        s1 += fabs(pd[j] - pf[j]);
    }
    if (kl)
        BERG_TRY_GOTO(st, berg_kl_divergence(&b->data, pd, pf, &klv), rewrap);
    if (l1)
        *l1 = s1 * b->data.weight;
    if (kl)
        *kl = klv;
    goto done;
rewrap:
    berg__dict_rewrap(st, fn, "KL of the two predictives");
done:
    berg__free(pf);
    berg__free(pd);
    return st;
}
