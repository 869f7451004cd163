/*
 * lib/dictionary/bayes.c - the state of dynamical Bayesian inference on a
 * parameter grid (seed eq 6, 38-41): creation, models, their callbacks,
 * observation in the log domain and the posterior summaries.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dictionary/internal.h"

/* ---- module helpers ----------------------------------------------------- */

berg_status berg__dict_rewrap(berg_status st, const char *fn, const char *context)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", berg_last_error());
    return berg__error(st, "%s: %s: %s", fn, context, msg);
}

berg_status berg__dict_measure(const double *a, size_t n, const char *fn, const char *name,
                               double *scale, double *ssum)
{
    BERG_TRY(berg__check_nonneg(a, n, fn, name));
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, a[i]);
    BERG_REQUIRE(m > 0.0, BERG_ERR_MASS, "%s: measure %s has total mass 0", fn, name);
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] / m;
    *scale = m;
    *ssum = s;
    return BERG_OK;
}

void berg__bayes_data_point(const berg_bayes *b, size_t j, double *y)
{
    for (size_t a = 0; a < b->dy; a++) {
        size_t ia = (j / b->data.stride[a]) % b->data.n[a];
        y[a] = berg__coord(&b->data, (int)a, ia);
    }
}

berg_status berg__bayes_need_model(const berg_bayes *b, const char *fn)
{
    BERG_REQUIRE(b->model != BERG__MODEL_NONE, BERG_ERR_DOMAIN,
                 "%s: no model: call berg_bayes_set_location or berg_bayes_set_loglik", fn);
    return BERG_OK;
}

berg_status berg__bayes_need_truth(const berg_bayes *b, const char *fn)
{
    BERG_REQUIRE(b->divergence != NULL, BERG_ERR_DOMAIN,
                 "%s: no truth: call berg_bayes_set_truth first", fn);
    return BERG_OK;
}

berg_status berg__bayes_need_location_truth(const berg_bayes *b, const char *fn)
{
    BERG_REQUIRE(b->model == BERG__MODEL_LOCATION, BERG_ERR_DOMAIN,
                 "%s: needs a location model (berg_bayes_set_location)", fn);
    return berg__bayes_need_truth(b, fn);
}

/* ---- callbacks: return codes and outputs checked here only -------------- */

/* a callback's return code */
static berg_status callback_rc(int rc, const char *fn, const char *what)
{
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: %s returned %d", fn, what, rc);
    return BERG_OK;
}

/* a log-probability from a callback: -inf (probability 0) or finite */
static berg_status check_logp(double v, const char *fn, const char *what)
{
    if (v == -HUGE_VAL)
        return BERG_OK;
    return berg__check_callback_output(&v, 1, fn, what);
}

berg_status berg__bayes_forward(const berg_bayes *b, const double *u, double *y, const char *fn)
{
    BERG_TRY(callback_rc(b->G(b->du, u, b->dy, y, b->user_data), fn, "the forward model G"));
    return berg__check_callback_output(y, b->dy, fn, "the forward model G");
}

static berg_status noise_callback(const berg_bayes *b, const double *n, double *lp,
                                  const char *fn)
{
    static const char what[] = "the noise log-density callback";
    double v = 0.0;
    BERG_TRY(callback_rc(b->logp0(b->dy, n, &v, b->user_data), fn, what));
    BERG_TRY(check_logp(v, fn, what));
    *lp = v;
    return BERG_OK;
}

/* position of the noise y - g on axis a of the grid noise: lower cell, upper
 * cell and the fraction towards the upper one; 0 outside a non-periodic box.
 * y and g are finite. On a periodic axis the offset from lo comes from the
 * exact remainders of y, g and lo (space/internal.h), never from y - g - lo,
 * which overflows for huge terms of opposite signs (a NaN index before) and
 * loses the fraction for terms far from the box. Elsewhere a difference
 * y - g that overflows lies outside the box. */
static int noise_axis(const struct berg_space *S, int a, double y, double g, size_t *lower,
                      size_t *upper, double *frac)
{
    double r; /* offset from lo, in [0, hi - lo] */
    if (S->bc[a] == BERG_PERIODIC) {
        double L = S->hi[a] - S->lo[a];
        r = berg__mod_sub(berg__mod_period(y, L), berg__mod_period(g, L), L);
        r = berg__mod_sub(r, berg__mod_period(S->lo[a], L), L);
    } else {
        double x = y - g;
        if (!(x >= S->lo[a] && x <= S->hi[a]))
            return 0;
        r = x - S->lo[a];
    }
    /* r / h <= n (1 + eps): the cell indices are small */
    double s = r / S->h[a] - 0.5, fl = floor(s), f = s - fl;
    long i0 = (long)fl, i1 = i0 + 1, nn = (long)S->n[a];
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
    *lower = (size_t)i0;
    *upper = (size_t)i1;
    *frac = f;
    return 1;
}

/* multilinear interpolation of the grid noise at y - g; 0 outside its box */
static double noise_interp(const berg_bayes *b, const double *y, const double *g)
{
    const struct berg_space *S = &b->noise_space;
    size_t lower[BERG_MAX_RANK], upper[BERG_MAX_RANK];
    double frac[BERG_MAX_RANK];
    for (int a = 0; a < S->ndim; a++)
        if (!noise_axis(S, a, y[a], g[a], &lower[a], &upper[a], &frac[a]))
            return 0.0;
    double v = 0.0;
    unsigned corners = 1u << S->ndim;
    for (unsigned c = 0; c < corners; c++) {
        double wgt = 1.0;
        size_t idx = 0;
        for (int a = 0; a < S->ndim; a++) {
            int up = (c >> a) & 1u;
            wgt *= up ? frac[a] : 1.0 - frac[a];
            idx += (up ? upper[a] : lower[a]) * S->stride[a];
        }
        if (wgt != 0.0)
            v += wgt * b->noise[idx];
    }
    return v;
}

berg_status berg__bayes_noise_logpdf(const berg_bayes *b, const double *y, const double *g,
                                     double *lp, const char *fn)
{
    if (b->grid_noise) {
        /* data points and G's checked outputs are finite; a finite-difference
         * step g + 2h past DBL_MAX is not, and has no position on a periodic
         * axis (outside a box otherwise, as y - g overflowing) */
        for (size_t a = 0; a < b->dy; a++)
            BERG_REQUIRE(b->noise_space.bc[a] != BERG_PERIODIC ||
                             (isfinite(y[a]) && isfinite(g[a])),
                         BERG_ERR_DOMAIN,
                         "%s: the noise y - G(u) on the periodic axis %zu has a non-finite term "
                         "(y = %g, G(u) = %g)",
                         fn, a, y[a], g[a]);
        double v = noise_interp(b, y, g);
        *lp = v > 0.0 ? log(v) : -HUGE_VAL;
        return BERG_OK;
    }
    double n[BERG_MAX_RANK];
    for (size_t a = 0; a < b->dy; a++)
        n[a] = y[a] - g[a];
    return noise_callback(b, n, lp, fn);
}

static berg_status loglik_general(const berg_bayes *b, const double *u, const double *y,
                                  double *lp, const char *fn)
{
    static const char what[] = "the log-likelihood callback";
    double v = 0.0;
    BERG_TRY(callback_rc(b->loglik(b->du, u, b->dy, y, &v, b->user_data), fn, what));
    BERG_TRY(check_logp(v, fn, what));
    *lp = v;
    return BERG_OK;
}

berg_status berg__bayes_loglik_cell(const berg_bayes *b, size_t i, const double *y, double *lp,
                                    const char *fn)
{
    if (b->model == BERG__MODEL_LOCATION)
        return berg__bayes_noise_logpdf(b, y, b->G_at_cells + i * b->dy, lp, fn);
    return loglik_general(b, b->ucoord + i * b->du, y, lp, fn);
}

berg_status berg__bayes_loglik_at(const berg_bayes *b, const double *u, const double *y,
                                  double *lp, const char *fn)
{
    if (b->model == BERG__MODEL_LOCATION) {
        double g[BERG_MAX_RANK];
        BERG_TRY(berg__bayes_forward(b, u, g, fn));
        return berg__bayes_noise_logpdf(b, y, g, lp, fn);
    }
    return loglik_general(b, u, y, lp, fn);
}

/* the location model with a noise callback: one pass without per-cell dispatch */
static berg_status loglik_row_location(const berg_bayes *b, const double *y, const double *active,
                                       double *row, size_t i0, size_t i1, const char *fn)
{
    static const char what[] = "the noise log-density callback";
    size_t dy = b->dy;
    double n[BERG_MAX_RANK];
    for (size_t i = i0; i < i1; i++) {
        if (active && !(active[i] > -HUGE_VAL)) {
            row[i] = -HUGE_VAL;
            continue;
        }
        const double *g = b->G_at_cells + i * dy;
        for (size_t a = 0; a < dy; a++)
            n[a] = y[a] - g[a];
        double v = 0.0;
        int rc = b->logp0(dy, n, &v, b->user_data);
        if (BERG_UNLIKELY(rc != 0))
            return callback_rc(rc, fn, what);
        if (BERG_UNLIKELY(isnan(v) || v == HUGE_VAL))
            return check_logp(v, fn, what);
        row[i] = v;
    }
    return BERG_OK;
}

/* row[i] for the parameter cells i in [i0, i1) */
static berg_status loglik_range(const berg_bayes *b, const double *y, const double *active,
                                double *row, size_t i0, size_t i1, const char *fn)
{
    if (b->model == BERG__MODEL_LOCATION && !b->grid_noise)
        return loglik_row_location(b, y, active, row, i0, i1, fn);
    for (size_t i = i0; i < i1; i++) {
        if (active && !(active[i] > -HUGE_VAL)) {
            row[i] = -HUGE_VAL;
            continue;
        }
        BERG_TRY(berg__bayes_loglik_cell(b, i, y, &row[i], fn));
    }
    return BERG_OK;
}

berg_status berg__bayes_loglik_row(const berg_bayes *b, const double *y, const double *active,
                                   double *row, const char *fn)
{
    return loglik_range(b, y, active, row, 0, b->nu, fn);
}

/* ---- threads: ranges of parameter cells ------------------------------------
 * A range that fails keeps its status and berg_last_error() message (the
 * worker's, thread-local); the caller re-records the first failing range's
 * in its own thread, so the error is the one the serial loop reports (the
 * ranges are in cell order and each stops at its first failure). */
#define BAYES_MSG 512

typedef struct bayes_fail {
    berg_status st;
    size_t k; /* the item (observation, data cell) where the range failed */
    char msg[BAYES_MSG];
} bayes_fail;

berg_status berg__bayes_fail_first(const void *fails, size_t nranges)
{
    const bayes_fail *f = fails, *first = NULL;
    for (size_t r = 0; r < nranges; r++)
        if (f[r].st != BERG_OK && (!first || f[r].k < first->k))
            first = &f[r];
    return first ? berg__error(first->st, "%s", first->msg) : BERG_OK;
}

void *berg__bayes_fails(size_t nranges, const char *fn)
{
    bayes_fail *f = berg__alloc(nranges, sizeof *f, fn);
    if (f)
        for (size_t r = 0; r < nranges; r++)
            f[r].st = BERG_OK;
    return f;
}

void berg__bayes_fail_keep(void *fails, size_t r, size_t k, berg_status st)
{
    bayes_fail *f = (bayes_fail *)fails + r;
    f->st = st;
    f->k = k;
    snprintf(f->msg, sizeof f->msg, "%s", berg_last_error());
}

/* cells per thread below which a loop over the cells stays on one thread */
#define CELL_GRAIN 4096

size_t berg__bayes_cell_threads(const berg_bayes *b, size_t cost)
{
    size_t nt = berg__threads(b->nthreads), most = b->nu * cost / CELL_GRAIN;
    if (nt > most)
        nt = most;
    return nt < 1 ? 1 : nt;
}

/* observations [k0, k1) added to the trial state on the cells of a range */
typedef struct observe_job {
    berg_bayes *b;
    const double *y;
    size_t k0, k1;
    double *row;
    void *fails;
    const char *fn;
} observe_job;

static void observe_range(void *ctx, size_t i0, size_t i1, size_t r)
{
    observe_job *job = ctx;
    berg_bayes *b = job->b;
    double *row = job->row;
    for (size_t k = job->k0; k < job->k1; k++) {
        berg_status st = loglik_range(b, job->y + k * b->dy, b->trial, row, i0, i1, job->fn);
        if (st != BERG_OK) {
            berg__bayes_fail_keep(job->fails, r, k, st);
            return;
        }
        for (size_t i = i0; i < i1; i++) {
            if (row[i] == -HUGE_VAL) {
                b->trial[i] = -HUGE_VAL;
                b->trial_comp[i] = 0.0;
            } else if (b->trial[i] != -HUGE_VAL) {
                berg__neumaier_add(&b->trial[i], &b->trial_comp[i], row[i]);
            }
        }
    }
}

/* ---- create / destroy ------------------------------------------------- */

berg_status berg_bayes_create(berg_bayes **out, const berg_space *param, const berg_space *data,
                              const double *prior, unsigned flags)
{
    static const char fn[] = "berg_bayes_create";
    /* two spaces: name the NULL one (berg__space_check would say "space") */
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_ptr(param, fn, "param"));
    BERG_TRY(berg__check_ptr(data, fn, "data"));
    BERG_TRY(berg__check_ptr(prior, fn, "prior"));
    BERG_TRY(berg__check_flags(flags, 0, fn));
    size_t nu = param->size;
    double scale = 1.0, ssum = 1.0;
    BERG_TRY(berg__dict_measure(prior, nu, fn, "prior", &scale, &ssum));
    berg_bayes *b = berg__alloc(1, sizeof *b, fn);
    if (!b)
        return berg_last_status();
    memset(b, 0, sizeof *b);
    b->param = *param;
    b->data = *data;
    b->nu = nu;
    b->ny = data->size;
    b->du = (size_t)param->ndim;
    b->dy = (size_t)data->ndim;
    if (!(b->ucoord = berg__alloc(nu * b->du, sizeof(double), fn)) ||
        !(b->logprior = berg__alloc(nu, sizeof(double), fn)) ||
        !(b->logpost = berg__alloc(nu, sizeof(double), fn)) ||
        !(b->logpost_comp = berg__alloc(nu, sizeof(double), fn)) ||
        !(b->trial = berg__alloc(nu, sizeof(double), fn)) ||
        !(b->trial_comp = berg__alloc(nu, sizeof(double), fn)))
        goto fail;
    /* in log form: sum * weight over- or underflows for extreme but
     * finite priors (values near DBL_MAX, or subnormal) */
    double lz = log(scale) + log(ssum) + log(param->weight);
    for (size_t i = 0; i < nu; i++) {
        for (size_t a = 0; a < b->du; a++)
            b->ucoord[i * b->du + a] =
                berg__coord(param, (int)a, (i / param->stride[a]) % param->n[a]);
        b->logprior[i] = prior[i] > 0.0 ? log(prior[i]) - lz : -HUGE_VAL;
    }
    berg_bayes_reset(b);
    *out = b;
    return BERG_OK;
fail:
    berg_bayes_destroy(b);
    return berg_last_status();
}

void berg_bayes_destroy(berg_bayes *b)
{
    if (!b)
        return;
    berg__free(b->ucoord);
    berg__free(b->logprior);
    berg__free(b->logpost);
    berg__free(b->logpost_comp);
    berg__free(b->trial);
    berg__free(b->trial_comp);
    berg__free(b->noise);
    berg__free(b->G_at_cells);
    berg__free(b->divergence);
    berg__free(b->truth);
    berg__free(b);
}

berg_status berg_bayes_reset(berg_bayes *b)
{
    static const char fn[] = "berg_bayes_reset";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    memcpy(b->logpost, b->logprior, b->nu * sizeof(double));
    memset(b->logpost_comp, 0, b->nu * sizeof(double));
    b->T = 0.0;
    return BERG_OK;
}

/* ---- models ----------------------------------------------------------- */

static void clear_model(berg_bayes *b)
{
    berg__free(b->noise);
    berg__free(b->G_at_cells);
    berg__free(b->divergence);
    berg__free(b->truth);
    b->noise = b->G_at_cells = b->divergence = b->truth = NULL;
    b->model = BERG__MODEL_NONE;
    b->G = NULL;
    b->logp0 = NULL;
    b->loglik = NULL;
    b->grid_noise = 0;
    b->generation++;
}

/* a normalized copy of the grid noise measure (*copy NULL when there is none) */
static berg_status copy_grid_noise(const berg_bayes *b, const berg_space *noise_space,
                                   const double *noise, double **copy, const char *fn)
{
    *copy = NULL;
    BERG_TRY(berg__check_ptr(noise_space, fn, "noise_space"));
    BERG_TRY(berg__check_ptr(noise, fn, "noise"));
    BERG_REQUIRE((size_t)noise_space->ndim == b->dy, BERG_ERR_MISMATCH,
                 "%s: noise_space has rank %d but the data space has rank %zu", fn,
                 noise_space->ndim, b->dy);
    double scale = 1.0, ssum = 1.0;
    BERG_TRY(berg__dict_measure(noise, noise_space->size, fn, "noise", &scale, &ssum));
    double *c = berg__alloc(noise_space->size, sizeof(double), fn);
    if (!c)
        return berg_last_status();
    /* noise / (sum w) without forming sum w, which over- or underflows for
     * extreme but finite values */
    for (size_t j = 0; j < noise_space->size; j++) {
        c[j] = noise[j] / scale / ssum / noise_space->weight;
        if (!isfinite(c[j])) {
            berg__free(c);
            return berg__error(BERG_ERR_MASS,
                               "%s: the normalized noise overflows at index %zu (cell volume %g)",
                               fn, j, noise_space->weight);
        }
    }
    *copy = c;
    return BERG_OK;
}

berg_status berg_bayes_set_location(berg_bayes *b, const berg_space *noise_space,
                                    const double *noise, berg_forward_fn G,
                                    berg_noise_logpdf_fn logp0, void *user_data)
{
    static const char fn[] = "berg_bayes_set_location";
    berg_status st;
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_REQUIRE(G != NULL, BERG_ERR_NULL, "%s: G is NULL", fn);
    int grid = noise_space != NULL || noise != NULL;
    BERG_REQUIRE(grid != (logp0 != NULL), BERG_ERR_NULL,
                 "%s: give exactly one noise: (noise_space, noise) or logp0", fn);
    double *ncopy = NULL, *G_at_cells = NULL;
    if (grid)
        BERG_TRY(copy_grid_noise(b, noise_space, noise, &ncopy, fn));
    G_at_cells = berg__alloc(b->nu * b->dy, sizeof(double), fn);
    if (!G_at_cells) {
        st = berg_last_status();
        goto fail;
    }
    /* evaluate G everywhere before touching b */
    berg_bayes trial_model = *b;
    trial_model.G = G;
    trial_model.user_data = user_data;
    for (size_t i = 0; i < b->nu; i++)
        BERG_TRY_GOTO(st,
                      berg__bayes_forward(&trial_model, b->ucoord + i * b->du,
                                          G_at_cells + i * b->dy, fn),
                      fail);
    clear_model(b);
    b->model = BERG__MODEL_LOCATION;
    b->G = G;
    b->logp0 = logp0;
    b->user_data = user_data;
    b->G_at_cells = G_at_cells;
    if (grid) {
        b->grid_noise = 1;
        b->noise_space = *noise_space;
        b->noise = ncopy;
    }
    berg_bayes_reset(b);
    return BERG_OK;
fail:
    berg__free(G_at_cells);
    berg__free(ncopy);
    return st;
}

berg_status berg_bayes_set_loglik(berg_bayes *b, berg_point_loglik_fn loglik, void *user_data)
{
    static const char fn[] = "berg_bayes_set_loglik";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_REQUIRE(loglik != NULL, BERG_ERR_NULL, "%s: loglik is NULL", fn);
    clear_model(b);
    b->model = BERG__MODEL_LOGLIK;
    b->loglik = loglik;
    b->user_data = user_data;
    berg_bayes_reset(b);
    return BERG_OK;
}

berg_status berg_bayes_set_progress(berg_bayes *b, berg_progress_fn progress, void *user_data)
{
    static const char fn[] = "berg_bayes_set_progress";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    b->progress = progress;
    b->progress_data = progress ? user_data : NULL;
    return BERG_OK;
}

/* ---- observation ------------------------------------------------------ */

/* commit a trial log state: shift by its max (fold the compensation in first) */
static berg_status commit(berg_bayes *b, const double *lp, const double *cp, const char *fn,
                          const char *what)
{
    /* The state is the pair (lp, cp) of a compensated sum. Fold each into
     * v + r (v = fl(lp + cp), |r| <= ulp(v)/2) and shift by the largest
     * pair in double-double order, so that the maximum becomes exactly 0 + 0.
     * With log-likelihoods of 1e46 the residuals are 1e29: shifting by v
     * alone would leave one at the maximum and exp of every cell 0. */
    size_t im = b->nu;
    double vm = -HUGE_VAL, rm = 0.0;
    for (size_t i = 0; i < b->nu; i++) {
        if (lp[i] == -HUGE_VAL)
            continue;
        double v = lp[i] + cp[i], r = (lp[i] - v) + cp[i];
        if (im == b->nu || v > vm || (v == vm && r > rm)) {
            im = i;
            vm = v;
            rm = r;
        }
    }
    BERG_REQUIRE(im < b->nu && vm > -HUGE_VAL, BERG_ERR_MASS,
                 "%s: %s has zero probability under every parameter of positive posterior mass",
                 fn, what);
    for (size_t i = 0; i < b->nu; i++) {
        if (lp[i] == -HUGE_VAL) {
            b->logpost[i] = -HUGE_VAL;
            b->logpost_comp[i] = 0.0;
            continue;
        }
        double v = lp[i] + cp[i], r = (lp[i] - v) + cp[i];
        /* v - vm is exact near the maximum (Sterbenz); its rounding error
         * elsewhere goes to the compensation */
        double d = v - vm;
        b->logpost_comp[i] = ((v - (d + vm)) + (r - rm));
        b->logpost[i] = d;
    }
    b->logpost_comp[im] = 0.0;
    b->logpost[im] = 0.0;
    return BERG_OK;
}

/* every datum finite and inside the data box */
static berg_status check_data(const berg_bayes *b, size_t count, const double *y, const char *fn)
{
    for (size_t k = 0; k < count; k++)
        for (size_t a = 0; a < b->dy; a++) {
            double v = y[k * b->dy + a];
            BERG_REQUIRE(isfinite(v), BERG_ERR_NONFINITE,
                         "%s: observation %zu has a non-finite component %zu", fn, k, a);
            BERG_REQUIRE(v >= b->data.lo[a] && v <= b->data.hi[a], BERG_ERR_OUT_OF_RANGE,
                         "%s: observation %zu, component %zu = %g lies outside the data space "
                         "[%g, %g]",
                         fn, k, a, v, b->data.lo[a], b->data.hi[a]);
        }
    return BERG_OK;
}

berg_status berg_bayes_observe(berg_bayes *b, size_t count, const double *y)
{
    static const char fn[] = "berg_bayes_observe";
    berg_status st = BERG_OK;
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__bayes_need_model(b, fn));
    if (count == 0)
        return BERG_OK;
    BERG_TRY(berg__check_ptr(y, fn, "y"));
    size_t total;
    BERG_TRY(berg__mul_size(count, b->dy, &total, fn, "count * dy"));
    BERG_TRY(berg__check_addressable(total, sizeof(double), fn, "y (count * dy values)"));
    BERG_TRY(check_data(b, count, y, fn));
    memcpy(b->trial, b->logpost, b->nu * sizeof(double));
    memcpy(b->trial_comp, b->logpost_comp, b->nu * sizeof(double));
    /* the cells split among threads; observations in chunks between which
     * progress is reported (each cell sees the observations in order, so
     * the sums are those of the serial loop, bitwise) */
    const size_t nt = berg__bayes_cell_threads(b, 1);
    double *row = berg__alloc(b->nu, sizeof(double), fn);
    void *fails = nt > 1 ? berg__bayes_fails(nt, fn) : NULL;
    if (!row || (nt > 1 && !fails)) {
        berg__free(row);
        berg__free(fails);
        return berg_last_status();
    }
    const size_t chunk = nt > 1 ? 1 + 65536 / b->nu : 1;
    observe_job job = {b, y, 0, 0, row, fails, fn};
    berg__progress pr;
    berg__progress_start(&pr, b->progress, b->progress_data);
    for (size_t k = 0; k < count; k += chunk) {
        /* the trial state is not committed when the callback stops the call */
        BERG_TRY_GOTO(st, berg__progress_report(&pr, 0, (double)k / (double)count, k, NAN, fn),
                      done);
        job.k0 = k;
        job.k1 = count - k < chunk ? count : k + chunk;
        if (nt > 1) {
            berg__parallel_ranges(b->nu, nt, nt, observe_range, &job);
            BERG_TRY_GOTO(st, berg__bayes_fail_first(fails, nt), done);
            continue;
        }
        BERG_TRY_GOTO(st, berg__bayes_loglik_row(b, y + k * b->dy, b->trial, row, fn), done);
        for (size_t i = 0; i < b->nu; i++) {
            if (row[i] == -HUGE_VAL) {
                b->trial[i] = -HUGE_VAL;
                b->trial_comp[i] = 0.0;
            } else if (b->trial[i] != -HUGE_VAL) {
                berg__neumaier_add(&b->trial[i], &b->trial_comp[i], row[i]);
            }
        }
    }
    BERG_TRY_GOTO(st, berg__progress_report(&pr, 1, 1.0, count, NAN, fn), done);
    BERG_TRY_GOTO(st,
                  commit(b, b->trial, b->trial_comp, fn,
                         count == 1 ? "the observation" : "the data"),
                  done);
    b->T += (double)count;
done:
    berg__free(row);
    berg__free(fails);
    return st;
}

berg_status berg_bayes_set_threads(berg_bayes *b, size_t nthreads)
{
    static const char fn[] = "berg_bayes_set_threads";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_REQUIRE(nthreads <= BERG__THREADS_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads is %zu, not in [0, %d] (0: follow berg_set_threads)", fn,
                 nthreads, BERG__THREADS_MAX);
    b->nthreads = nthreads;
    return BERG_OK;
}

/* ---- summaries -------------------------------------------------------- */

double berg_bayes_time(const berg_bayes *b)
{
    return b ? b->T : NAN;
}

void berg__bayes_density_from_log(const berg_bayes *b, const double *lp, const double *cp,
                                  double *pi)
{
    for (size_t i = 0; i < b->nu; i++)
        pi[i] = exp(lp[i] + (cp ? cp[i] : 0.0));
    double z = berg__sum(pi, b->nu) * b->param.weight;
    for (size_t i = 0; i < b->nu; i++)
        pi[i] /= z;
}

berg_status berg_bayes_posterior(const berg_bayes *b, double *pi)
{
    static const char fn[] = "berg_bayes_posterior";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(pi, fn, "pi"));
    berg__bayes_density_from_log(b, b->logpost, b->logpost_comp, pi);
    return BERG_OK;
}

berg_status berg_bayes_log_posterior(const berg_bayes *b, double *logpi)
{
    static const char fn[] = "berg_bayes_log_posterior";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(logpi, fn, "logpi"));
    double s = 0.0;
    for (size_t i = 0; i < b->nu; i++)
        s += exp(b->logpost[i] + b->logpost_comp[i]);
    double lz = log(s * b->param.weight);
    for (size_t i = 0; i < b->nu; i++)
        logpi[i] = b->logpost[i] == -HUGE_VAL ? -HUGE_VAL
                                              : (b->logpost[i] - lz) + b->logpost_comp[i];
    return BERG_OK;
}

berg_status berg_bayes_mean(const berg_bayes *b, double *mean, double *cov)
{
    static const char fn[] = "berg_bayes_mean";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(mean, fn, "mean"));
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    if (!pi)
        return berg_last_status();
    berg__bayes_density_from_log(b, b->logpost, b->logpost_comp, pi);
    /* into scratch first: on a huge parameter box the moments overflow, and
     * the caller's arrays are written only with finite results */
    double m[BERG_MAX_RANK], c[BERG_MAX_RANK * BERG_MAX_RANK];
    size_t du = b->du;
    berg_status st = berg_space_moments(&b->param, pi, m, cov ? c : NULL);
    berg__free(pi);
    if (st != BERG_OK)
        return berg__dict_rewrap(st, fn, "moments of the posterior");
    for (size_t k = 0; k < du; k++)
        BERG_REQUIRE(isfinite(m[k]), BERG_ERR_NONFINITE,
                     "%s: the posterior mean overflows on parameter axis %zu (box [%g, %g])", fn,
                     k, b->param.lo[k], b->param.hi[k]);
    if (cov)
        for (size_t k = 0; k < du * du; k++)
            BERG_REQUIRE(isfinite(c[k]), BERG_ERR_NONFINITE,
                         "%s: the posterior covariance overflows at entry %zu (the parameter "
                         "box is too large for its second moments)",
                         fn, k);
    memcpy(mean, m, du * sizeof(double));
    if (cov)
        memcpy(cov, c, du * du * sizeof(double));
    return BERG_OK;
}
