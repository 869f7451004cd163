/*
 * lib/dictionary/bayes.c - dynamical Bayesian inference on a parameter grid
 * (seed eq 6-8, 38-43): posterior in the log domain, expected-data flow,
 * MAP and mean trajectories, posterior predictive.
 */
#include <fftw3.h> /* before cblas.h, which may pull in complex.h */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dictionary/internal.h"

/* ---- small helpers ---------------------------------------------------- */

berg_status berg__dict_check_times(const double *t, size_t n, const char *fn, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (!isfinite(t[j]) || t[j] < 0.0) {
            char entry[64];
            snprintf(entry, sizeof entry, "%s[%zu]", name, j);
            return berg__check_time(t[j], fn, entry);
        }
    return BERG_OK;
}

berg_status berg__dict_rewrap(berg_status st, const char *fn, const char *context)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", berg_last_error());
    return berg__error(st, "%s: %s: %s", fn, context, msg);
}

void berg__bayes_data_point(const berg_bayes *b, size_t j, double *y)
{
    for (size_t a = 0; a < b->dy; a++) {
        size_t ia = (j / b->Y.stride[a]) % b->Y.n[a];
        y[a] = berg__coord(&b->Y, (int)a, ia);
    }
}

/* multilinear interpolation of the grid noise at n; 0 outside its box */
static double noise_interp(const berg_bayes *b, const double *n)
{
    const struct berg_space *S = &b->N;
    size_t base[BERG_MAX_RANK], next[BERG_MAX_RANK];
    double frac[BERG_MAX_RANK];
    for (int a = 0; a < S->ndim; a++) {
        double x = n[a];
        if (S->bc[a] == BERG_PERIODIC) {
            double L = S->hi[a] - S->lo[a];
            x = S->lo[a] + fmod(fmod(x - S->lo[a], L) + L, L);
        } else if (!(x >= S->lo[a] && x <= S->hi[a])) {
            return 0.0;
        }
        double s = (x - S->lo[a]) / S->h[a] - 0.5;
        double fl = floor(s);
        long i0 = (long)fl;
        double f = s - fl;
        long nn = (long)S->n[a];
        long i1 = i0 + 1;
        if (S->bc[a] == BERG_PERIODIC) {
            i0 = ((i0 % nn) + nn) % nn;
            i1 = ((i1 % nn) + nn) % nn;
        } else {
            if (i0 < 0) {
                i0 = 0;
                f = 0.0;
            }
            if (i1 > nn - 1) {
                i1 = nn - 1;
                if (i0 > nn - 1)
                    i0 = nn - 1;
            }
        }
        base[a] = (size_t)i0;
        next[a] = (size_t)i1;
        frac[a] = f;
    }
    double v = 0.0;
    unsigned corners = 1u << S->ndim;
    for (unsigned c = 0; c < corners; c++) {
        double wgt = 1.0;
        size_t idx = 0;
        for (int a = 0; a < S->ndim; a++) {
            int up = (c >> a) & 1u;
            wgt *= up ? frac[a] : 1.0 - frac[a];
            idx += (up ? next[a] : base[a]) * S->stride[a];
        }
        if (wgt != 0.0)
            v += wgt * b->noise[idx];
    }
    return v;
}

berg_status berg__bayes_noise_logpdf(const berg_bayes *b, const double *n, double *lp,
                                     const char *fn)
{
    if (b->grid_noise) {
        double v = noise_interp(b, n);
        *lp = v > 0.0 ? log(v) : -HUGE_VAL;
        return BERG_OK;
    }
    double v = 0.0;
    int rc = b->logp0(b->dy, n, &v, b->user_data);
    if (rc != 0)
        return berg__error(BERG_ERR_CALLBACK, "%s: the noise log-density callback returned %d", fn,
                           rc);
    if (isnan(v) || v == HUGE_VAL)
        return berg__error(BERG_ERR_CALLBACK,
                           "%s: the noise log-density callback returned %g (NaN or +inf)", fn, v);
    *lp = v;
    return BERG_OK;
}

static berg_status loglik_location(const berg_bayes *b, const double *g, const double *y,
                                   double *lp, const char *fn)
{
    double n[BERG_MAX_RANK];
    for (size_t a = 0; a < b->dy; a++)
        n[a] = y[a] - g[a];
    return berg__bayes_noise_logpdf(b, n, lp, fn);
}

static berg_status loglik_general(const berg_bayes *b, const double *u, const double *y,
                                  double *lp, const char *fn)
{
    double v = 0.0;
    int rc = b->loglik(b->du, u, b->dy, y, &v, b->user_data);
    if (rc != 0)
        return berg__error(BERG_ERR_CALLBACK, "%s: the log-likelihood callback returned %d", fn, rc);
    if (isnan(v) || v == HUGE_VAL)
        return berg__error(BERG_ERR_CALLBACK,
                           "%s: the log-likelihood callback returned %g (NaN or +inf)", fn, v);
    *lp = v;
    return BERG_OK;
}

berg_status berg__bayes_loglik_cell(const berg_bayes *b, size_t i, const double *y, double *lp,
                                    const char *fn)
{
    if (b->model == BERG__MODEL_LOCATION)
        return loglik_location(b, b->Gtab + i * b->dy, y, lp, fn);
    return loglik_general(b, b->ucoord + i * b->du, y, lp, fn);
}

static berg_status eval_G(const berg_bayes *b, const double *u, double *g, const char *fn)
{
    int rc = b->G(b->du, u, b->dy, g, b->user_data);
    if (rc != 0)
        return berg__error(BERG_ERR_CALLBACK, "%s: the forward model G returned %d", fn, rc);
    for (size_t a = 0; a < b->dy; a++)
        if (!isfinite(g[a]))
            return berg__error(BERG_ERR_CALLBACK,
                               "%s: the forward model G returned a non-finite value (component %zu)",
                               fn, a);
    return BERG_OK;
}

/* ln p(y | u_i) for every parameter cell i with active[i] (NULL: all); the
 * others get -inf. One pass per data point, without per-cell dispatch. */
static berg_status loglik_row(const berg_bayes *b, const double *y, const double *active,
                              double *row, const char *fn)
{
    size_t nu = b->nu, dy = b->dy;
    if (b->model == BERG__MODEL_LOCATION && !b->grid_noise) {
        double n[BERG_MAX_RANK];
        for (size_t i = 0; i < nu; i++) {
            if (active && !(active[i] > -HUGE_VAL)) {
                row[i] = -HUGE_VAL;
                continue;
            }
            const double *g = b->Gtab + i * dy;
            for (size_t a = 0; a < dy; a++)
                n[a] = y[a] - g[a];
            double v = 0.0;
            int rc = b->logp0(dy, n, &v, b->user_data);
            if (rc != 0)
                return berg__error(BERG_ERR_CALLBACK,
                                   "%s: the noise log-density callback returned %d", fn, rc);
            if (isnan(v) || v == HUGE_VAL)
                return berg__error(BERG_ERR_CALLBACK,
                                   "%s: the noise log-density callback returned %g (NaN or +inf)",
                                   fn, v);
            row[i] = v;
        }
        return BERG_OK;
    }
    berg_status st;
    for (size_t i = 0; i < nu; i++) {
        if (active && !(active[i] > -HUGE_VAL)) {
            row[i] = -HUGE_VAL;
            continue;
        }
        if ((st = berg__bayes_loglik_cell(b, i, y, &row[i], fn)))
            return st;
    }
    return BERG_OK;
}

berg_status berg__bayes_loglik_at(const berg_bayes *b, const double *u, const double *y,
                                  double *lp, const char *fn)
{
    if (b->model == BERG__MODEL_LOCATION) {
        double g[BERG_MAX_RANK];
        berg_status st = eval_G(b, u, g, fn);
        if (st != BERG_OK)
            return st;
        return loglik_location(b, g, y, lp, fn);
    }
    return loglik_general(b, u, y, lp, fn);
}

static double max_of(const double *a, size_t n)
{
    double m = -HUGE_VAL;
    for (size_t i = 0; i < n; i++)
        if (a[i] > m)
            m = a[i];
    return m;
}

/* log-sum-exp of lp with weight w: ln sum exp(lp) w */
static double log_mass(const double *lp, size_t n, double w)
{
    double m = max_of(lp, n);
    if (m == -HUGE_VAL)
        return -HUGE_VAL;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += exp(lp[i] - m);
    return m + log(s * w);
}

/* ---- create / destroy ------------------------------------------------- */

berg_status berg_bayes_create(berg_bayes **out, const berg_space *param, const double *prior,
                              const berg_space *data, unsigned flags)
{
    static const char fn[] = "berg_bayes_create";
    berg_status st;
    /* two spaces: name the NULL one (berg__space_check would say "space") */
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__check_ptr(param, fn, "param")) ||
        (st = berg__check_ptr(prior, fn, "prior")) || (st = berg__check_ptr(data, fn, "data")))
        return st;
    if (flags != 0)
        return berg__error(BERG_ERR_DOMAIN, "%s: flags must be 0 (got %u)", fn, flags);
    size_t nu = param->size;
    double sum = 0.0;
    if ((st = berg__check_density(prior, nu, fn, "prior", &sum)))
        return st;
    berg_bayes *b = calloc(1, sizeof *b);
    if (!b)
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    b->U = *param;
    b->Y = *data;
    b->nu = nu;
    b->ny = data->size;
    b->du = (size_t)param->ndim;
    b->dy = (size_t)data->ndim;
    b->ucoord = berg__alloc(nu * b->du, sizeof(double), fn);
    b->logprior = berg__alloc(nu, sizeof(double), fn);
    b->logpost = berg__alloc(nu, sizeof(double), fn);
    b->comp = berg__alloc(nu, sizeof(double), fn);
    b->scratch = berg__alloc(nu, sizeof(double), fn);
    b->scomp = berg__alloc(nu, sizeof(double), fn);
    if (!b->ucoord || !b->logprior || !b->logpost || !b->comp || !b->scratch || !b->scomp) {
        berg_bayes_destroy(b);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    }
    double lz = log(sum * param->weight);
    for (size_t i = 0; i < nu; i++) {
        for (size_t a = 0; a < b->du; a++)
            b->ucoord[i * b->du + a] =
                berg__coord(param, (int)a, (i / param->stride[a]) % param->n[a]);
        b->logprior[i] = prior[i] > 0.0 ? log(prior[i]) - lz : -HUGE_VAL;
    }
    berg_bayes_reset(b);
    *out = b;
    return BERG_OK;
}

void berg_bayes_destroy(berg_bayes *b)
{
    if (!b)
        return;
    berg__free(b->ucoord);
    berg__free(b->logprior);
    berg__free(b->logpost);
    berg__free(b->comp);
    berg__free(b->scratch);
    berg__free(b->scomp);
    berg__free(b->noise);
    berg__free(b->Gtab);
    berg__free(b->D);
    free(b);
}

berg_status berg_bayes_reset(berg_bayes *b)
{
    berg_status st = berg__check_ptr(b, "berg_bayes_reset", "b");
    if (st)
        return st;
    memcpy(b->logpost, b->logprior, b->nu * sizeof(double));
    memset(b->comp, 0, b->nu * sizeof(double));
    b->T = 0.0;
    return BERG_OK;
}

/* ---- models ----------------------------------------------------------- */

static void clear_model(berg_bayes *b)
{
    berg__free(b->noise);
    berg__free(b->Gtab);
    berg__free(b->D);
    b->noise = b->Gtab = b->D = NULL;
    b->model = BERG__MODEL_NONE;
    b->G = NULL;
    b->logp0 = NULL;
    b->loglik = NULL;
    b->grid_noise = 0;
    b->generation++;
}

berg_status berg_bayes_set_location(berg_bayes *b, berg_bayes_forward_fn G,
                                    const berg_space *noise_space, const double *noise,
                                    berg_noise_logpdf_fn logp0, void *user_data)
{
    static const char fn[] = "berg_bayes_set_location";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")))
        return st;
    if (!G)
        return berg__error(BERG_ERR_NULL, "%s: G is NULL", fn);
    int grid = noise_space != NULL || noise != NULL;
    if (grid == (logp0 != NULL))
        return berg__error(BERG_ERR_NULL,
                           "%s: give exactly one noise: (noise_space, noise) or logp0", fn);
    double *ncopy = NULL;
    if (grid) {
        if ((st = berg__check_ptr(noise_space, fn, "noise_space")) ||
            (st = berg__check_ptr(noise, fn, "noise")))
            return st;
        if ((size_t)noise_space->ndim != b->dy)
            return berg__error(BERG_ERR_MISMATCH,
                               "%s: noise_space has rank %d but the data space has rank %zu", fn,
                               noise_space->ndim, b->dy);
        double sum;
        if ((st = berg__check_density(noise, noise_space->size, fn, "noise", &sum)))
            return st;
        ncopy = berg__alloc(noise_space->size, sizeof(double), fn);
        if (!ncopy)
            return BERG_ERR_NOMEM;
        double z = sum * noise_space->weight;
        for (size_t j = 0; j < noise_space->size; j++)
            ncopy[j] = noise[j] / z;
    }
    double *Gtab = berg__alloc(b->nu * b->dy, sizeof(double), fn);
    if (!Gtab) {
        berg__free(ncopy);
        return BERG_ERR_NOMEM;
    }
    /* evaluate G everywhere before touching b */
    berg_bayes tmp = *b;
    tmp.G = G;
    tmp.user_data = user_data;
    for (size_t i = 0; i < b->nu; i++) {
        if ((st = eval_G(&tmp, b->ucoord + i * b->du, Gtab + i * b->dy, fn))) {
            berg__free(Gtab);
            berg__free(ncopy);
            return st;
        }
    }
    clear_model(b);
    b->model = BERG__MODEL_LOCATION;
    b->G = G;
    b->logp0 = logp0;
    b->user_data = user_data;
    b->Gtab = Gtab;
    if (grid) {
        b->grid_noise = 1;
        b->N = *noise_space;
        b->noise = ncopy;
    }
    berg_bayes_reset(b);
    return BERG_OK;
}

berg_status berg_bayes_set_loglik(berg_bayes *b, berg_point_loglik_fn loglik, void *user_data)
{
    static const char fn[] = "berg_bayes_set_loglik";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")))
        return st;
    if (!loglik)
        return berg__error(BERG_ERR_NULL, "%s: loglik is NULL", fn);
    clear_model(b);
    b->model = BERG__MODEL_LOGLIK;
    b->loglik = loglik;
    b->user_data = user_data;
    berg_bayes_reset(b);
    return BERG_OK;
}

static berg_status need_model(const berg_bayes *b, const char *fn)
{
    if (b->model == BERG__MODEL_NONE)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: no model: call berg_bayes_set_location or berg_bayes_set_loglik",
                           fn);
    return BERG_OK;
}

/* ---- observation ------------------------------------------------------ */

/* commit a trial log state: shift by its max (fold the compensation in first) */
static berg_status commit(berg_bayes *b, double *lp, double *cp, const char *fn, const char *what)
{
    double m = -HUGE_VAL;
    for (size_t i = 0; i < b->nu; i++) {
        if (lp[i] == -HUGE_VAL)
            continue;
        double v = lp[i] + cp[i];
        if (v > m)
            m = v;
    }
    if (m == -HUGE_VAL)
        return berg__error(BERG_ERR_MASS, "%s: %s has zero probability under every parameter of "
                                          "positive posterior mass",
                           fn, what);
    for (size_t i = 0; i < b->nu; i++) {
        if (lp[i] == -HUGE_VAL) {
            b->logpost[i] = -HUGE_VAL;
            b->comp[i] = 0.0;
            continue;
        }
        /* (lp - m) + cp keeps the compensation: lp - m is exact near the max */
        double s = lp[i] - m;
        b->comp[i] = cp[i] + ((lp[i] - (s + m)));
        b->logpost[i] = s;
    }
    return BERG_OK;
}

berg_status berg_bayes_observe(berg_bayes *b, size_t count, const double *y)
{
    static const char fn[] = "berg_bayes_observe";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = need_model(b, fn)))
        return st;
    if (count == 0)
        return BERG_OK;
    if ((st = berg__check_ptr(y, fn, "y")))
        return st;
    size_t total;
    if ((st = berg__mul_size(count, b->dy, &total, fn, "count * dy")))
        return st;
    for (size_t k = 0; k < count; k++)
        for (size_t a = 0; a < b->dy; a++) {
            double v = y[k * b->dy + a];
            if (!isfinite(v))
                return berg__error(BERG_ERR_NONFINITE,
                                   "%s: observation %zu has a non-finite component %zu", fn, k, a);
            if (v < b->Y.lo[a] || v > b->Y.hi[a])
                return berg__error(BERG_ERR_OUT_OF_RANGE,
                                   "%s: observation %zu, component %zu = %g lies outside the data "
                                   "space [%g, %g]",
                                   fn, k, a, v, b->Y.lo[a], b->Y.hi[a]);
        }
    memcpy(b->scratch, b->logpost, b->nu * sizeof(double));
    memcpy(b->scomp, b->comp, b->nu * sizeof(double));
    double *row = berg__alloc(b->nu, sizeof(double), fn);
    if (!row)
        return BERG_ERR_NOMEM;
    for (size_t k = 0; k < count; k++) {
        if ((st = loglik_row(b, y + k * b->dy, b->scratch, row, fn))) {
            berg__free(row);
            return st;
        }
        for (size_t i = 0; i < b->nu; i++) {
            if (row[i] == -HUGE_VAL) {
                b->scratch[i] = -HUGE_VAL;
                b->scomp[i] = 0.0;
            } else if (b->scratch[i] != -HUGE_VAL) {
                berg__neumaier_add(&b->scratch[i], &b->scomp[i], row[i]);
            }
        }
    }
    berg__free(row);
    if ((st = commit(b, b->scratch, b->scomp, fn, count == 1 ? "the observation" : "the data")))
        return st;
    b->T += (double)count;
    return BERG_OK;
}

/* ---- expected-data flow ----------------------------------------------- */

berg_status berg_bayes_set_truth(berg_bayes *b, const double *pstar)
{
    static const char fn[] = "berg_bayes_set_truth";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = need_model(b, fn)) ||
        (st = berg__check_ptr(pstar, fn, "pstar")))
        return st;
    double sum;
    if ((st = berg__check_density(pstar, b->ny, fn, "pstar", &sum)))
        return st;
    double *D = berg__alloc(b->nu, sizeof(double), fn);
    double *row = berg__alloc(b->ny, sizeof(double), fn);
    double *ys = berg__alloc(b->ny * b->dy, sizeof(double), fn);
    if (!D || !row || !ys) {
        berg__free(D);
        berg__free(row);
        berg__free(ys);
        return BERG_ERR_NOMEM;
    }
    double w = b->Y.weight, zs = sum * w;
    for (size_t j = 0; j < b->ny; j++)
        berg__bayes_data_point(b, j, ys + j * b->dy);
    /* entropy part: sum p* ln p* w (p* normalised) */
    double negS = 0.0;
    for (size_t j = 0; j < b->ny; j++)
        if (pstar[j] > 0.0) {
            double p = pstar[j] / zs;
            negS += p * log(p) * w;
        }
    int any = 0;
    for (size_t i = 0; i < b->nu && st == BERG_OK; i++) {
        for (size_t j = 0; j < b->ny; j++)
            if ((st = berg__bayes_loglik_cell(b, i, ys + j * b->dy, &row[j], fn)))
                break;
        if (st)
            break;
        double lz = log_mass(row, b->ny, w);
        if (lz == -HUGE_VAL) {
            st = berg__error(BERG_ERR_MASS,
                             "%s: the model p(.|u) has no mass on the data grid at parameter cell "
                             "%zu",
                             fn, i);
            break;
        }
        double cross = 0.0;
        int inf = 0;
        for (size_t j = 0; j < b->ny; j++) {
            if (pstar[j] <= 0.0)
                continue;
            if (row[j] == -HUGE_VAL) {
                inf = 1;
                break;
            }
            cross += (pstar[j] / zs) * (row[j] - lz) * w;
        }
        D[i] = inf ? HUGE_VAL : fmax(negS - cross, 0.0);
        if (!inf && b->logprior[i] != -HUGE_VAL)
            any = 1;
    }
    berg__free(row);
    berg__free(ys);
    if (st == BERG_OK && !any)
        st = berg__error(BERG_ERR_MASS,
                         "%s: KL(p*||p(.|u)) is infinite at every parameter the prior allows", fn);
    if (st) {
        berg__free(D);
        return st;
    }
    berg__free(b->D);
    b->D = D;
    b->generation++;
    return BERG_OK;
}

static berg_status need_truth(const berg_bayes *b, const char *fn)
{
    if (!b->D)
        return berg__error(BERG_ERR_DOMAIN, "%s: no truth: call berg_bayes_set_truth first", fn);
    return BERG_OK;
}

berg_status berg_bayes_divergence(const berg_bayes *b, double *D)
{
    static const char fn[] = "berg_bayes_divergence";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(D, fn, "D")) ||
        (st = need_truth(b, fn)))
        return st;
    memcpy(D, b->D, b->nu * sizeof(double));
    return BERG_OK;
}

/* ln pi_0 - T D shifted by its max into lp; T = +inf: -D on the prior's support */
static berg_status expected_log(const berg_bayes *b, double T, double *lp, const char *fn)
{
    for (size_t i = 0; i < b->nu; i++) {
        double l = b->logprior[i];
        if (l == -HUGE_VAL || b->D[i] == HUGE_VAL)
            lp[i] = (T == 0.0) ? l : -HUGE_VAL;
        else if (isinf(T))
            lp[i] = -b->D[i];
        else
            lp[i] = l - T * b->D[i];
    }
    double m = max_of(lp, b->nu);
    if (m == -HUGE_VAL)
        return berg__error(BERG_ERR_MASS, "%s: the expected posterior has no mass", fn);
    for (size_t i = 0; i < b->nu; i++)
        lp[i] -= m;
    return BERG_OK;
}

berg_status berg_bayes_expected(berg_bayes *b, double T)
{
    static const char fn[] = "berg_bayes_expected";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_time(T, fn, "T")) ||
        (st = need_truth(b, fn)))
        return st;
    if ((st = expected_log(b, T, b->scratch, fn)))
        return st;
    memcpy(b->logpost, b->scratch, b->nu * sizeof(double));
    memset(b->comp, 0, b->nu * sizeof(double));
    b->T = T;
    return BERG_OK;
}

/* ---- summaries -------------------------------------------------------- */

berg_status berg_bayes_count(const berg_bayes *b, double *T)
{
    static const char fn[] = "berg_bayes_count";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(T, fn, "T")))
        return st;
    *T = b->T;
    return BERG_OK;
}

/* normalised posterior from a shifted log state (max 0) */
static void density_from_log(const berg_bayes *b, const double *lp, const double *cp, double *pi)
{
    for (size_t i = 0; i < b->nu; i++)
        pi[i] = exp(lp[i] + (cp ? cp[i] : 0.0));
    double z = berg__sum(pi, b->nu) * b->U.weight;
    for (size_t i = 0; i < b->nu; i++)
        pi[i] /= z;
}

berg_status berg_bayes_posterior(const berg_bayes *b, double *pi)
{
    static const char fn[] = "berg_bayes_posterior";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(pi, fn, "pi")))
        return st;
    density_from_log(b, b->logpost, b->comp, pi);
    return BERG_OK;
}

berg_status berg_bayes_log_posterior(const berg_bayes *b, double *logpi)
{
    static const char fn[] = "berg_bayes_log_posterior";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(logpi, fn, "logpi")))
        return st;
    double s = 0.0;
    for (size_t i = 0; i < b->nu; i++)
        s += exp(b->logpost[i] + b->comp[i]);
    double lz = log(s * b->U.weight);
    for (size_t i = 0; i < b->nu; i++)
        logpi[i] = b->logpost[i] == -HUGE_VAL ? -HUGE_VAL : (b->logpost[i] - lz) + b->comp[i];
    return BERG_OK;
}

/* index of the neighbour of cell i one step s = +-1 along axis a (wrapping) */
static size_t neighbour(const struct berg_space *S, size_t i, size_t a, int s)
{
    size_t n = S->n[a], st = S->stride[a], ia = (i / st) % n;
    size_t ja = s > 0 ? (ia + 1 == n ? 0 : ia + 1) : (ia == 0 ? n - 1 : ia - 1);
    return i - ia * st + ja * st;
}

/* Coupled axes: one Newton step of the quadratic through the max cell and
 * its 3^d-stencil neighbours (exact for a quadratic log posterior), solved
 * with LAPACKE_dposv on -H; kept when H is negative definite and the step
 * stays within one cell, otherwise the per-axis parabolas stand. */
static void newton_refine(const berg_bayes *b, const double *lp, size_t im, double *res)
{
    const struct berg_space *S = &b->U;
    size_t d = b->du;
    double H[BERG_MAX_RANK * BERG_MAX_RANK], g[BERG_MAX_RANK];
    for (size_t a = 0; a < d; a++)
        if (S->n[a] < 3)
            return;
    double f0 = lp[im];
    for (size_t a = 0; a < d; a++) {
        double fp = lp[neighbour(S, im, a, 1)], fm = lp[neighbour(S, im, a, -1)];
        if (!isfinite(fp) || !isfinite(fm))
            return;
        g[a] = 0.5 * (fp - fm);
        H[a * d + a] = -(fp - 2.0 * f0 + fm);
        for (size_t c = 0; c < a; c++) {
            double fpp = lp[neighbour(S, neighbour(S, im, a, 1), c, 1)];
            double fpm = lp[neighbour(S, neighbour(S, im, a, 1), c, -1)];
            double fmp = lp[neighbour(S, neighbour(S, im, a, -1), c, 1)];
            double fmm = lp[neighbour(S, neighbour(S, im, a, -1), c, -1)];
            if (!isfinite(fpp) || !isfinite(fpm) || !isfinite(fmp) || !isfinite(fmm))
                return;
            H[a * d + c] = H[c * d + a] = -0.25 * (fpp - fpm - fmp + fmm);
        }
    }
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, H, (lapack_int)d, g, 1) != 0)
        return;
    for (size_t a = 0; a < d; a++)
        if (!(fabs(g[a]) <= 1.0))
            return;
    for (size_t a = 0; a < d; a++) {
        size_t ia = (im / S->stride[a]) % S->n[a];
        res[a] = berg__coord(S, (int)a, ia) + g[a] * S->h[a];
    }
}

static berg_status map_from_log(const berg_bayes *b, const double *lp, double *u, const char *fn)
{
    size_t im = 0;
    double m = -HUGE_VAL;
    for (size_t i = 0; i < b->nu; i++)
        if (lp[i] > m) {
            m = lp[i];
            im = i;
        }
    if (m == -HUGE_VAL)
        return berg__error(BERG_ERR_MASS, "%s: the posterior has no mass", fn);
    double res[BERG_MAX_RANK];
    for (size_t a = 0; a < b->du; a++) {
        const struct berg_space *S = &b->U;
        size_t n = S->n[a], st = S->stride[a], ia = (im / st) % n;
        if (S->bc[a] != BERG_PERIODIC && (ia == 0 || ia == n - 1))
            return berg__error(BERG_ERR_OUT_OF_RANGE,
                               "%s: the MAP lies in the edge cell %zu of parameter axis %zu: it has "
                               "left the grid (enlarge the parameter box)",
                               fn, ia, a);
        if (n < 3) {
            res[a] = berg__coord(S, (int)a, ia);
            continue;
        }
        size_t im1 = ia == 0 ? n - 1 : ia - 1, ip1 = ia == n - 1 ? 0 : ia + 1;
        double fm = lp[im - ia * st + im1 * st], f0 = lp[im], fp = lp[im - ia * st + ip1 * st];
        double delta = 0.0, den = fm - 2.0 * f0 + fp;
        if (isfinite(fm) && isfinite(fp) && den < 0.0) {
            delta = 0.5 * (fm - fp) / den;
            if (delta > 0.5)
                delta = 0.5;
            if (delta < -0.5)
                delta = -0.5;
        }
        res[a] = berg__coord(S, (int)a, ia) + delta * S->h[a];
    }
    if (b->du > 1)
        newton_refine(b, lp, im, res);
    memcpy(u, res, b->du * sizeof(double));
    return BERG_OK;
}

berg_status berg_bayes_map(const berg_bayes *b, double *u)
{
    static const char fn[] = "berg_bayes_map";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(u, fn, "u")))
        return st;
    return map_from_log(b, b->logpost, u, fn);
}

berg_status berg__bayes_map_at(const berg_bayes *b, double T, double *u, const char *fn)
{
    berg_status st;
    double *lp = berg__alloc(b->nu, sizeof(double), fn);
    if (!lp)
        return BERG_ERR_NOMEM;
    if (!(st = expected_log(b, T, lp, fn)))
        st = map_from_log(b, lp, u, fn);
    berg__free(lp);
    return st;
}

berg_status berg_bayes_mean(const berg_bayes *b, double *mean, double *cov)
{
    static const char fn[] = "berg_bayes_mean";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(mean, fn, "mean")))
        return st;
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    if (!pi)
        return BERG_ERR_NOMEM;
    density_from_log(b, b->logpost, b->comp, pi);
    st = berg_space_moments(&b->U, pi, mean, cov);
    berg__free(pi);
    return st;
}

berg_status berg_bayes_trajectory(const berg_bayes *b, size_t nT, const double *T, double *map,
                                  double *mean)
{
    static const char fn[] = "berg_bayes_trajectory";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(T, fn, "T")) ||
        (st = need_truth(b, fn)))
        return st;
    if ((st = berg__dict_check_times(T, nT, fn, "T")))
        return st;
    size_t du = b->du;
    double *lp = berg__alloc(b->nu, sizeof(double), fn);
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    double *mp = berg__alloc(nT * du + 1, sizeof(double), fn);
    double *mn = berg__alloc(nT * du + 1, sizeof(double), fn);
    if (!lp || !pi || !mp || !mn) {
        st = BERG_ERR_NOMEM;
        goto done;
    }
    for (size_t j = 0; j < nT; j++) {
        if ((st = expected_log(b, T[j], lp, fn)))
            goto done;
        if (map && (st = map_from_log(b, lp, mp + j * du, fn))) {
            char ctx[64];
            snprintf(ctx, sizeof ctx, "at T[%zu] = %g", j, T[j]);
            berg__dict_rewrap(st, fn, ctx);
            goto done;
        }
        if (mean) {
            density_from_log(b, lp, NULL, pi);
            if ((st = berg_space_mean(&b->U, pi, mn + j * du)))
                goto done;
        }
    }
    if (map)
        memcpy(map, mp, nT * du * sizeof(double));
    if (mean)
        memcpy(mean, mn, nT * du * sizeof(double));
done:
    berg__free(lp);
    berg__free(pi);
    berg__free(mp);
    berg__free(mn);
    return st;
}

/* ---- predictive ------------------------------------------------------- */

/* p(y_j) = sum_i pi_i w_u exp(ln p(y_j|u_i)), blocks of data cells, dgemv */
static berg_status predictive_from(const berg_bayes *b, const double *pi, double *p, const char *fn)
{
    enum { BLOCK = 8 };
    size_t nu = b->nu;
    double *E = berg__alloc(BLOCK * nu, sizeof(double), fn);
    double *pw = berg__alloc(nu, sizeof(double), fn);
    double *res = berg__alloc(b->ny, sizeof(double), fn);
    double *lpi = berg__alloc(nu, sizeof(double), fn); /* -inf where pi = 0: skipped */
    berg_status st = BERG_OK;
    if (!E || !pw || !res || !lpi) {
        st = BERG_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nu; i++) {
        pw[i] = pi[i] * b->U.weight;
        lpi[i] = pw[i] > 0.0 ? 0.0 : -HUGE_VAL;
    }
    for (size_t j0 = 0; j0 < b->ny; j0 += BLOCK) {
        size_t nb = b->ny - j0 < BLOCK ? b->ny - j0 : BLOCK;
        for (size_t r = 0; r < nb; r++) {
            double y[BERG_MAX_RANK];
            berg__bayes_data_point(b, j0 + r, y);
            double *er = E + r * nu;
            if ((st = loglik_row(b, y, lpi, er, fn)))
                goto done;
            for (size_t i = 0; i < nu; i++)
                er[i] = exp(er[i]);
        }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)nu, 1.0, E, (int)nu, pw, 1, 0.0,
                    res + j0, 1);
    }
    memcpy(p, res, b->ny * sizeof(double));
done:
    berg__free(E);
    berg__free(pw);
    berg__free(res);
    berg__free(lpi);
    return st;
}

berg_status berg_bayes_predictive(const berg_bayes *b, double *p)
{
    static const char fn[] = "berg_bayes_predictive";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(p, fn, "p")) ||
        (st = need_model(b, fn)))
        return st;
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    if (!pi)
        return BERG_ERR_NOMEM;
    density_from_log(b, b->logpost, b->comp, pi);
    st = predictive_from(b, pi, p, fn);
    berg__free(pi);
    return st;
}

berg_status berg__bayes_expected_predictive(const berg_bayes *b, double T, double *p,
                                            const char *fn)
{
    berg_status st;
    double *lp = berg__alloc(b->nu, sizeof(double), fn);
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    if (!lp || !pi) {
        st = BERG_ERR_NOMEM;
    } else if (!(st = expected_log(b, T, lp, fn))) {
        density_from_log(b, lp, NULL, pi);
        st = predictive_from(b, pi, p, fn);
    }
    berg__free(lp);
    berg__free(pi);
    return st;
}

berg_status berg_bayes_predictive_fft(const berg_bayes *b, double *p)
{
    static const char fn[] = "berg_bayes_predictive_fft";
    berg_status st;
    if ((st = berg__check_ptr(b, fn, "b")) || (st = berg__check_ptr(p, fn, "p")) ||
        (st = need_model(b, fn)))
        return st;
    if (b->model != BERG__MODEL_LOCATION || b->du != 1 || b->dy != 1)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: needs a location model with du = dy = 1 (use berg_bayes_predictive)",
                           fn);
    size_t nu = b->nu, ny = b->ny;
    const double *u = b->ucoord, *g = b->Gtab;
    if (nu < 2)
        return berg__error(BERG_ERR_DOMAIN, "%s: the parameter grid needs 2 cells", fn);
    double a = (g[nu - 1] - g[0]) / (u[nu - 1] - u[0]), c = g[0] - a * u[0];
    double scale = fabs(a) * fmax(fabs(u[0]), fabs(u[nu - 1])) + fabs(c);
    if (a == 0.0)
        return berg__error(BERG_ERR_DOMAIN, "%s: G is constant on the parameter grid", fn);
    for (size_t i = 0; i < nu; i++)
        if (fabs(g[i] - (a * u[i] + c)) > 1e-10 * scale)
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: G is not affine (parameter cell %zu departs from a u + c)", fn,
                               i);
    size_t L = 2 * ny, nc = ny + 1;
    double *pi = berg__alloc(nu, sizeof(double), fn);
    double *A = fftw_alloc_real(L), *B = fftw_alloc_real(L);
    fftw_complex *FA = fftw_alloc_complex(nc), *FB = fftw_alloc_complex(nc);
    fftw_plan pa = NULL, pb = NULL, pinv = NULL;
    if (!pi || !A || !B || !FA || !FB) {
        st = berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    berg__fftw_lock();
    pa = fftw_plan_dft_r2c_1d((int)L, A, FA, FFTW_ESTIMATE);
    pb = fftw_plan_dft_r2c_1d((int)L, B, FB, FFTW_ESTIMATE);
    pinv = fftw_plan_dft_c2r_1d((int)L, FA, A, FFTW_ESTIMATE);
    berg__fftw_unlock();
    if (!pa || !pb || !pinv) {
        st = berg__error(BERG_ERR_INTERNAL, "%s: FFTW could not plan", fn);
        goto done;
    }
    density_from_log(b, b->logpost, b->comp, pi);
    double hy = b->Y.h[0], hu = b->U.h[0], ulo = b->U.lo[0];
    /* noise at the offsets m h_y, m = -(ny-1) .. ny-1 */
    memset(B, 0, L * sizeof(double));
    for (long m = -(long)ny + 1; m <= (long)ny - 1; m++) {
        double n = (double)m * hy, lp;
        if ((st = berg__bayes_noise_logpdf(b, &n, &lp, fn)))
            goto done;
        B[m >= 0 ? (size_t)m : (size_t)((long)L + m)] = exp(lp);
    }
    /* push-forward of the posterior to the data grid */
    memset(A, 0, L * sizeof(double));
    for (size_t k = 0; k < ny; k++) {
        double v = berg__coord(&b->Y, 0, k), x = ((v - c) / a - ulo) / hu - 0.5;
        double fl = floor(x + 1e-9);
        long i0 = (long)fl;
        double f = x - fl;
        if (fabs(f) < 1e-9)
            f = 0.0;
        double val = 0.0;
        if (i0 >= 0 && i0 < (long)nu)
            val += (1.0 - f) * pi[i0];
        if (f > 0.0 && i0 + 1 >= 0 && i0 + 1 < (long)nu)
            val += f * pi[i0 + 1];
        A[k] = val / fabs(a);
    }
    fftw_execute_dft_r2c(pa, A, FA);
    fftw_execute_dft_r2c(pb, B, FB);
    for (size_t q = 0; q < nc; q++) {
        double re = FA[q][0] * FB[q][0] - FA[q][1] * FB[q][1];
        double im = FA[q][0] * FB[q][1] + FA[q][1] * FB[q][0];
        FA[q][0] = re;
        FA[q][1] = im;
    }
    fftw_execute_dft_c2r(pinv, FA, A);
    for (size_t j = 0; j < ny; j++)
        p[j] = A[j] * hy / (double)L;
done:
    berg__fftw_lock();
    if (pa)
        fftw_destroy_plan(pa);
    if (pb)
        fftw_destroy_plan(pb);
    if (pinv)
        fftw_destroy_plan(pinv);
    berg__fftw_unlock();
    berg__free(pi);
    fftw_free(A);
    fftw_free(B);
    fftw_free(FA);
    fftw_free(FB);
    return st;
}
