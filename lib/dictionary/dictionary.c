/*
 * lib/dictionary/dictionary.c - the ERG <-> Bayes dictionary (table p.33),
 * the backward drift-diffusion of the posterior predictive (eq 51-57) and
 * its discrepancy from the directly computed predictive.
 */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/fisher.h"
#include "berg/metric.h"
#include "berg/propagator.h"
#include "dictionary/internal.h"

struct berg_dictionary {
    const berg_bayes *b;
    unsigned long generation;
    double tau;
    size_t du, dy, ny;
    double gamma[BERG_MAX_RANK], Ggamma[BERG_MAX_RANK], m[BERG_MAX_RANK];
    double J[BERG_MAX_RANK * BERG_MAX_RANK];
    double I[BERG_MAX_RANK * BERG_MAX_RANK], Iinv[BERG_MAX_RANK * BERG_MAX_RANK];
    double K[BERG_MAX_RANK * BERG_MAX_RANK];
    double *V;
};

static berg_status need_location_truth(const berg_bayes *b, const char *fn)
{
    if (b->model != BERG__MODEL_LOCATION)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: the dictionary needs a location model (berg_bayes_set_location)",
                           fn);
    if (!b->D)
        return berg__error(BERG_ERR_DOMAIN, "%s: no truth: call berg_bayes_set_truth first", fn);
    return BERG_OK;
}

/* tau finite and > 0 (tau >= 0: berg__check_time) */
static berg_status check_tau(double tau, const char *fn, const char *name)
{
    if (!isfinite(tau) || !(tau > 0.0))
        return berg__error(BERG_ERR_TIME, "%s: %s = %g must be finite and > 0", fn, name, tau);
    return BERG_OK;
}

static double T_of_tau(double tau)
{
    return tau == 0.0 ? HUGE_VAL : 1.0 / tau;
}

/* ln p0(y_j - G(u)) on the data grid, for berg_fisher_model */
static int grid_loglik(size_t npar, const double *u, const berg_space *space, double *logp,
                       void *user_data)
{
    (void)space;
    (void)npar;
    const berg_bayes *b = user_data;
    double g[BERG_MAX_RANK], y[BERG_MAX_RANK], n[BERG_MAX_RANK];
    if (b->G(b->du, u, b->dy, g, b->user_data) != 0)
        return 1;
    for (size_t j = 0; j < b->ny; j++) {
        berg__bayes_data_point(b, j, y);
        for (size_t a = 0; a < b->dy; a++)
            n[a] = y[a] - g[a];
        if (berg__bayes_noise_logpdf(b, n, &logp[j], "berg_dictionary") != BERG_OK)
            return 1;
    }
    return 0;
}

/* gamma, J, I, K at tau (tau = 0: the limit T -> infinity); gamma is taken
 * as given when known (the MAP at tau, computed by the caller) */
static berg_status geometry_at(const berg_bayes *b, double tau, int known, double *gamma,
                               double *J, double *Imat, double *K, const char *fn)
{
    berg_status st;
    if (!known && (st = berg__bayes_map_at(b, T_of_tau(tau), gamma, fn)))
        return st;
    if ((st = berg_fisher_jacobian(b->du, gamma, b->dy, b->G, NULL, J, b->user_data))) {
        return berg__dict_rewrap(st, fn, "Jacobian of G at the MAP");
    }
    if ((st = berg_fisher_model(&b->Y, b->du, gamma, grid_loglik, NULL, Imat, (void *)b)))
        return berg__dict_rewrap(st, fn, "Fisher metric at the MAP");
    if ((st = berg_fisher_pullback(b->dy, b->du, J, Imat, K)))
        return berg__dict_rewrap(st, fn, "K = J I^{-1} J^T at the MAP");
    return BERG_OK;
}

berg_status berg_dictionary_create(berg_dictionary **out, const berg_bayes *b, double tau)
{
    static const char fn[] = "berg_dictionary_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__check_ptr(b, fn, "b")) ||
        (st = check_tau(tau, fn, "tau")) || (st = need_location_truth(b, fn)))
        return st;
    berg_dictionary *d = calloc(1, sizeof *d);
    if (!d)
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    d->b = b;
    d->generation = b->generation;
    d->tau = tau;
    d->du = b->du;
    d->dy = b->dy;
    d->ny = b->ny;
    d->V = berg__alloc(b->ny, sizeof(double), fn);
    if (!d->V) {
        free(d);
        return BERG_ERR_NOMEM;
    }
    if ((st = geometry_at(b, tau, 0, d->gamma, d->J, d->I, d->K, fn)))
        goto fail;
    if ((st = berg_fisher_inverse(d->du, d->I, d->Iinv))) {
        berg__dict_rewrap(st, fn, "inverse of the Fisher metric at the MAP");
        goto fail;
    }
    /* drift m = J dgamma/dtau by a central difference in tau */
    {
        double eps = 0.05, gp[BERG_MAX_RANK], gm[BERG_MAX_RANK];
        if ((st = berg__bayes_map_at(b, 1.0 / (tau * (1.0 + eps)), gp, fn)) ||
            (st = berg__bayes_map_at(b, 1.0 / (tau * (1.0 - eps)), gm, fn)))
            goto fail;
        for (size_t i = 0; i < d->dy; i++) {
            double s = 0.0;
            for (size_t k = 0; k < d->du; k++)
                s += d->J[i * d->du + k] * (gp[k] - gm[k]) / (2.0 * eps * tau);
            d->m[i] = s;
        }
    }
    if (b->G(b->du, d->gamma, b->dy, d->Ggamma, b->user_data) != 0) {
        st = berg__error(BERG_ERR_CALLBACK, "%s: the forward model G failed at the MAP", fn);
        goto fail;
    }
    if (grid_loglik(b->du, d->gamma, &b->Y, d->V, (void *)b) != 0) {
        st = berg__error(BERG_ERR_CALLBACK, "%s: the noise density failed on the data grid", fn);
        goto fail;
    }
    for (size_t j = 0; j < d->ny; j++)
        d->V[j] = -d->V[j];
    *out = d;
    return BERG_OK;
fail:
    berg_dictionary_destroy(d);
    return st;
}

void berg_dictionary_destroy(berg_dictionary *d)
{
    if (!d)
        return;
    berg__free(d->V);
    free(d);
}

double berg_dictionary_tau(const berg_dictionary *d)
{
    return d ? d->tau : NAN;
}

#define GETTER(name, field, count)                                                                 \
    berg_status name(const berg_dictionary *d, double *out)                                        \
    {                                                                                              \
        berg_status st;                                                                            \
        if ((st = berg__check_ptr(d, #name, "d")) || (st = berg__check_ptr(out, #name, "out")))    \
            return st;                                                                             \
        memcpy(out, d->field, (count) * sizeof(double));                                           \
        return BERG_OK;                                                                            \
    }

GETTER(berg_dictionary_map, gamma, d->du)
GETTER(berg_dictionary_inverse_metric, K, d->dy * d->dy)
GETTER(berg_dictionary_parameter_inverse_metric, Iinv, d->du * d->du)
GETTER(berg_dictionary_fisher, I, d->du * d->du)
GETTER(berg_dictionary_jacobian, J, d->dy * d->du)
GETTER(berg_dictionary_drift, m, d->dy)
GETTER(berg_dictionary_potential, V, d->ny)

berg_status berg_dictionary_heat_time(const berg_dictionary *d, double *t)
{
    static const char fn[] = "berg_dictionary_heat_time";
    berg_status st;
    if ((st = berg__check_ptr(d, fn, "d")) || (st = berg__check_ptr(t, fn, "t")))
        return st;
    if (d->dy != 1)
        return berg__error(BERG_ERR_UNSUPPORTED,
                           "%s: a scalar heat time exists only for dy = 1 (dy = %zu)", fn, d->dy);
    *t = 0.5 * d->K[0] * d->tau;
    return BERG_OK;
}

berg_status berg_dictionary_scheme(const berg_dictionary *d, const double *u, double *sigma)
{
    static const char fn[] = "berg_dictionary_scheme";
    berg_status st;
    if ((st = berg__check_ptr(d, fn, "d")) || (st = berg__check_ptr(u, fn, "u")) ||
        (st = berg__check_ptr(sigma, fn, "sigma")) ||
        (st = berg__check_finite(u, d->du, fn, "u")))
        return st;
    const berg_bayes *b = d->b;
    if (b->generation != d->generation)
        return berg__error(BERG_ERR_MISMATCH,
                           "%s: the berg_bayes this dictionary was built from has a new model or "
                           "truth since",
                           fn);
    double *phi = berg__alloc(d->ny, sizeof(double), fn);
    if (!phi)
        return BERG_ERR_NOMEM;
    if (grid_loglik(d->du, u, &b->Y, phi, (void *)b) != 0) {
        berg__free(phi);
        return berg__error(BERG_ERR_CALLBACK, "%s: G or the noise density failed at u", fn);
    }
    for (size_t j = 0; j < d->ny; j++) {
        double phig = -d->V[j];
        if (phi[j] == -HUGE_VAL && phig == -HUGE_VAL)
            sigma[j] = 0.0;
        else
            sigma[j] = phi[j] - phig;
    }
    berg__free(phi);
    return BERG_OK;
}

/* ---- the backward flow ------------------------------------------------- */

/* a <- a(. - delta) by phase factors of the d-dimensional real DFT (the data
 * grid taken as periodic) */
static berg_status shift_spectral(const struct berg_space *Y, const double *delta, double *a,
                                  const char *fn)
{
    int d = Y->ndim, n[BERG_MAX_RANK];
    size_t nc = 1;
    for (int k = 0; k < d; k++) {
        n[k] = (int)Y->n[k];
        nc *= (k == d - 1) ? Y->n[k] / 2 + 1 : Y->n[k];
    }
    double *r = fftw_alloc_real(Y->size);
    fftw_complex *c = fftw_alloc_complex(nc);
    if (!r || !c) {
        fftw_free(r);
        fftw_free(c);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    }
    berg__fftw_lock();
    fftw_plan fwd = fftw_plan_dft_r2c(d, n, r, c, FFTW_ESTIMATE);
    fftw_plan bwd = fftw_plan_dft_c2r(d, n, c, r, FFTW_ESTIMATE);
    berg__fftw_unlock();
    berg_status st = BERG_OK;
    if (!fwd || !bwd) {
        st = berg__error(BERG_ERR_INTERNAL, "%s: FFTW could not plan the shift", fn);
        goto done;
    }
    memcpy(r, a, Y->size * sizeof(double));
    fftw_execute(fwd);
    for (size_t idx = 0; idx < nc; idx++) {
        size_t rem = idx;
        double phase = 0.0, damp = 1.0;
        for (int k = d - 1; k >= 0; k--) {
            size_t len = (k == d - 1) ? Y->n[k] / 2 + 1 : Y->n[k];
            size_t mk = rem % len;
            rem /= len;
            long m = (long)mk;
            if (k != d - 1 && mk > Y->n[k] / 2)
                m -= (long)Y->n[k];
            double L = Y->hi[k] - Y->lo[k];
            double kk = 2.0 * 3.14159265358979323846 * (double)m / L;
            if (Y->n[k] % 2 == 0 && mk == Y->n[k] / 2)
                damp *= cos(kk * delta[k]); /* Nyquist: keep the real part */
            else
                phase += kk * delta[k];
        }
        double cr = c[idx][0], ci = c[idx][1];
        double co = cos(phase) * damp, si = -sin(phase) * damp;
        c[idx][0] = cr * co - ci * si;
        c[idx][1] = cr * si + ci * co;
    }
    fftw_execute(bwd);
    for (size_t i = 0; i < Y->size; i++)
        a[i] = r[i] / (double)Y->size;
done:
    berg__fftw_lock();
    if (fwd)
        fftw_destroy_plan(fwd);
    if (bwd)
        fftw_destroy_plan(bwd);
    berg__fftw_unlock();
    fftw_free(r);
    fftw_free(c);
    return st;
}

/* a <- heat with covariance 2A, A (dy x dy) SPD: e^{Delta_g} with g = A^{-1} */
static berg_status heat_cov(const struct berg_space *Y, const double *A, double *a, const char *fn)
{
    size_t d = (size_t)Y->ndim;
    double Ainv[BERG_MAX_RANK * BERG_MAX_RANK];
    berg_status st;
    if ((st = berg_fisher_inverse(d, A, Ainv)))
        return berg__dict_rewrap(st, fn, "accumulated covariance");
    berg_space *S = NULL;
    berg_heat *h = NULL;
    if ((st = berg_space_create(&S, Y->ndim, Y->n, Y->lo, Y->hi, Y->bc, Ainv)))
        return berg__dict_rewrap(st, fn, "the accumulated inverse metric is not usable on the data space");
    if (!(st = berg_heat_create(&h, S, BERG_PLAN_ESTIMATE)))
        st = berg_heat_apply(h, 1.0, a, a);
    berg_heat_destroy(h);
    berg_space_destroy(S);
    return st;
}

/* g1: the MAP at tau1 when the caller has it, else NULL */
static berg_status flow_impl(const berg_bayes *b, double tau1, double tau2, size_t nsteps,
                             const double *g1, double *a, const char *fn)
{
    berg_status st;
    size_t du = b->du, dy = b->dy;
    double G1[BERG_MAX_RANK], G2[BERG_MAX_RANK];
    double A[BERG_MAX_RANK * BERG_MAX_RANK] = {0}, K[BERG_MAX_RANK * BERG_MAX_RANK];
    double J[BERG_MAX_RANK * BERG_MAX_RANK], Imat[BERG_MAX_RANK * BERG_MAX_RANK], gam[BERG_MAX_RANK];
    if (tau2 == tau1)
        return BERG_OK;
    double h = (tau2 - tau1) / (double)nsteps;
    for (size_t k = 0; k <= nsteps; k++) {
        double tk = (k == nsteps) ? tau2 : tau1 + (double)k * h;
        int known = k == 0 && g1;
        if (known)
            memcpy(gam, g1, du * sizeof(double));
        if ((st = geometry_at(b, tk, known, gam, J, Imat, K, fn)))
            return st;
        /* the MAPs at the ends give the shift G(gamma_2) - G(gamma_1) */
        if ((k == 0 || k == nsteps) &&
            b->G(du, gam, dy, k == 0 ? G1 : G2, b->user_data) != 0)
            return berg__error(BERG_ERR_CALLBACK, "%s: the forward model G failed at the MAP",
                               fn);
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
    double delta[BERG_MAX_RANK];
    int moved = 0;
    for (size_t q = 0; q < dy; q++) {
        delta[q] = G2[q] - G1[q];
        moved |= delta[q] != 0.0;
    }
    if (moved && (st = shift_spectral(&b->Y, delta, a, fn)))
        return st;
    return heat_cov(&b->Y, A, a, fn);
}

berg_status berg_dictionary_flow(const berg_bayes *b, double tau1, double tau2, size_t nsteps,
                                 const double *p1, double *p2)
{
    static const char fn[] = "berg_dictionary_flow";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(p1, fn, "p1")) ||
        (st = berg__check_ptr(p2, fn, "p2")) || (st = berg__check_time(tau1, fn, "tau1")) ||
        (st = berg__check_time(tau2, fn, "tau2")) || (st = need_location_truth(b, fn)))
        return st;
    if (tau2 < tau1)
        return berg__error(BERG_ERR_TIME, "%s: tau2 = %g < tau1 = %g: the backward flow runs "
                                          "towards larger tau",
                           fn, tau2, tau1);
    if (nsteps == 0)
        return berg__error(BERG_ERR_SIZE, "%s: nsteps must be >= 1", fn);
    if ((st = berg__check_finite(p1, b->ny, fn, "p1")))
        return st;
    double *a = berg__alloc(b->ny, sizeof(double), fn);
    if (!a)
        return BERG_ERR_NOMEM;
    memcpy(a, p1, b->ny * sizeof(double));
    if (!(st = flow_impl(b, tau1, tau2, nsteps, NULL, a, fn)))
        memcpy(p2, a, b->ny * sizeof(double));
    berg__free(a);
    return st;
}

berg_status berg_dictionary_discrepancy(const berg_bayes *b, double tau, size_t nsteps, double *l1,
                                        double *kl)
{
    static const char fn[] = "berg_dictionary_discrepancy";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = check_tau(tau, fn, "tau")) ||
        (st = need_location_truth(b, fn)))
        return st;
    if (nsteps == 0)
        return berg__error(BERG_ERR_SIZE, "%s: nsteps must be >= 1", fn);
    size_t ny = b->ny;
    double *pf = berg__alloc(ny, sizeof(double), fn), *pd = berg__alloc(ny, sizeof(double), fn);
    double g0[BERG_MAX_RANK], y[BERG_MAX_RANK];
    if (!pf || !pd) {
        st = BERG_ERR_NOMEM;
        goto done;
    }
    if ((st = berg__bayes_map_at(b, HUGE_VAL, g0, fn)))
        goto done;
    for (size_t j = 0; j < ny; j++) {
        double lp;
        berg__bayes_data_point(b, j, y);
        if ((st = berg__bayes_loglik_at(b, g0, y, &lp, fn)))
            goto done;
        pf[j] = exp(lp);
    }
    if ((st = flow_impl(b, 0.0, tau, nsteps, g0, pf, fn)) ||
        (st = berg__bayes_expected_predictive(b, 1.0 / tau, pd, fn)))
        goto done;
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
    double s1 = 0.0;
    for (size_t j = 0; j < ny; j++) {
        pf[j] /= sf * b->Y.weight;
        pd[j] /= sd * b->Y.weight;
        s1 += fabs(pd[j] - pf[j]);
    }
    double klv = 0.0;
    if (kl && (st = berg_kl_divergence(&b->Y, pd, pf, &klv)))
        goto done;
    if (l1)
        *l1 = s1 * b->Y.weight;
    if (kl)
        *kl = klv;
done:
    berg__free(pf);
    berg__free(pd);
    return st;
}

/* ---- ERG -> Bayes ------------------------------------------------------ */

berg_status berg_dictionary_from_erg(const berg_space *data, const double *V, double *p0,
                                     double *Kmodel)
{
    static const char fn[] = "berg_dictionary_from_erg";
    berg_status st;
    if ((st = berg__space_check(data, fn)) || (st = berg__check_ptr(V, fn, "V")) ||
        (st = berg__check_ptr(p0, fn, "p0")) || (st = berg__check_ptr(Kmodel, fn, "Kmodel")) ||
        (st = berg__check_finite(V, data->size, fn, "V")))
        return st;
    size_t n = data->size, d = (size_t)data->ndim;
    double *q = berg__alloc(n, sizeof(double), fn);
    double Imat[BERG_MAX_RANK * BERG_MAX_RANK], Ki[BERG_MAX_RANK * BERG_MAX_RANK];
    if (!q)
        return BERG_ERR_NOMEM;
    double vmin = HUGE_VAL;
    for (size_t j = 0; j < n; j++)
        vmin = fmin(vmin, V[j]);
    for (size_t j = 0; j < n; j++)
        q[j] = exp(-(V[j] - vmin));
    double z = berg__sum(q, n) * data->weight;
    for (size_t j = 0; j < n; j++)
        q[j] /= z;
    if ((st = berg_fisher_location(data, q, Imat)))
        berg__dict_rewrap(st, fn, "Fisher metric of the fixed point exp(-V)");
    else if ((st = berg_fisher_inverse(d, Imat, Ki)))
        berg__dict_rewrap(st, fn, "inverse of the Fisher metric of exp(-V)");
    else {
        memcpy(p0, q, n * sizeof(double));
        memcpy(Kmodel, Ki, d * d * sizeof(double));
    }
    berg__free(q);
    return st;
}
