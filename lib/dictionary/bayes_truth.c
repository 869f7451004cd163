/*
 * lib/dictionary/bayes_truth.c - the expected-data flow of berg_bayes
 * (seed eq 7, 42): the truth and its divergence D(u), pi_T = pi_0 e^{-T D}/Z,
 * the refined MAP and the MAP and mean trajectories.
 */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dictionary/internal.h"

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

/* D(u_i) = KL(p* || p(.|u_i)) with p(.|u_i) normalized on the data grid;
 * pstar: the normalized truth; row: scratch of ny values; ys: the data cell
 * coordinates; negS: sum p* ln p* w */
static berg_status divergence_at(const berg_bayes *b, size_t i, const double *pstar,
                                 double negS, const double *ys, double *row, double *D,
                                 const char *fn)
{
    double w = b->data.weight;
    for (size_t j = 0; j < b->ny; j++)
        BERG_TRY(berg__bayes_loglik_cell(b, i, ys + j * b->dy, &row[j], fn));
    double lz = log_mass(row, b->ny, w);
    BERG_REQUIRE(lz > -HUGE_VAL, BERG_ERR_MASS,
                 "%s: the model p(.|u) has no mass on the data grid at parameter cell %zu", fn, i);
    double cross = 0.0;
    for (size_t j = 0; j < b->ny; j++) {
        if (pstar[j] <= 0.0)
            continue;
        if (row[j] == -HUGE_VAL) {
            *D = HUGE_VAL;
            return BERG_OK;
        }
        cross += pstar[j] * (row[j] - lz) * w;
    }
    *D = fmax(negS - cross, 0.0);
    return BERG_OK;
}

berg_status berg_bayes_set_truth(berg_bayes *b, const double *pstar)
{
    static const char fn[] = "berg_bayes_set_truth";
    berg_status st = BERG_OK;
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__bayes_need_model(b, fn));
    BERG_TRY(berg__check_ptr(pstar, fn, "pstar"));
    double scale = 1.0, ssum = 1.0;
    BERG_TRY(berg__dict_measure(pstar, b->ny, fn, "pstar", &scale, &ssum));
    double *D = berg__alloc(b->nu, sizeof(double), fn);
    double *row = berg__alloc(b->ny, sizeof(double), fn);
    double *ys = berg__alloc(b->ny * b->dy, sizeof(double), fn);
    double *truth = berg__alloc(b->ny, sizeof(double), fn);
    if (!D || !row || !ys || !truth) {
        st = berg_last_status();
        goto fail;
    }
    double w = b->data.weight;
    for (size_t j = 0; j < b->ny; j++)
        berg__bayes_data_point(b, j, ys + j * b->dy);
    double negS = 0.0; /* sum p* ln p* w, p* normalized */
    for (size_t j = 0; j < b->ny; j++) {
        /* p* / (sum w) without forming sum w, which over- or underflows for
         * extreme but finite values */
        double p = pstar[j] / scale / ssum / w;
        if (!isfinite(p)) {
            st = berg__error(BERG_ERR_MASS,
                             "%s: the normalized truth pstar overflows at index %zu (cell volume "
                             "%g)",
                             fn, j, w);
            goto fail;
        }
        truth[j] = p;
        if (p > 0.0)
            negS += p * log(p) * w;
    }
    int any = 0;
    for (size_t i = 0; i < b->nu; i++) {
        BERG_TRY_GOTO(st, divergence_at(b, i, truth, negS, ys, row, &D[i], fn), fail);
        if (D[i] != HUGE_VAL && b->logprior[i] != -HUGE_VAL)
            any = 1;
    }
    if (!any) {
        st = berg__error(BERG_ERR_MASS,
                         "%s: KL(p*||p(.|u)) is infinite at every parameter the prior allows", fn);
        goto fail;
    }
    berg__free(row);
    berg__free(ys);
    berg__free(b->divergence);
    berg__free(b->truth);
    b->divergence = D;
    b->truth = truth;
    b->truth_negS = negS;
    b->generation++;
    return BERG_OK;
fail:
    berg__free(truth);
    berg__free(D);
    berg__free(row);
    berg__free(ys);
    return st;
}

berg_status berg_bayes_divergence(const berg_bayes *b, double *D)
{
    static const char fn[] = "berg_bayes_divergence";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(D, fn, "D"));
    BERG_TRY(berg__bayes_need_truth(b, fn));
    memcpy(D, b->divergence, b->nu * sizeof(double));
    return BERG_OK;
}

berg_status berg__bayes_expected_log(const berg_bayes *b, double T, double *lp, const char *fn)
{
    const double *D = b->divergence;
    for (size_t i = 0; i < b->nu; i++) {
        double l = b->logprior[i];
        if (l == -HUGE_VAL || D[i] == HUGE_VAL)
            lp[i] = (T == 0.0) ? l : -HUGE_VAL;
        else if (isinf(T))
            lp[i] = -D[i];
        else
            lp[i] = l - T * D[i];
    }
    double m = max_of(lp, b->nu);
    BERG_REQUIRE(m > -HUGE_VAL, BERG_ERR_MASS, "%s: the expected posterior has no mass", fn);
    for (size_t i = 0; i < b->nu; i++)
        lp[i] -= m;
    return BERG_OK;
}

berg_status berg_bayes_expected(berg_bayes *b, double T)
{
    static const char fn[] = "berg_bayes_expected";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_time(T, fn, "T"));
    BERG_TRY(berg__bayes_need_truth(b, fn));
    BERG_TRY(berg__bayes_expected_log(b, T, b->trial, fn));
    memcpy(b->logpost, b->trial, b->nu * sizeof(double));
    memset(b->logpost_comp, 0, b->nu * sizeof(double));
    b->T = T;
    return BERG_OK;
}

/* ---- the MAP ------------------------------------------------------------ */

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
    const struct berg_space *S = &b->param;
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
    /* H is symmetric: the column-major call reads the same matrix and
     * LAPACKE allocates nothing (no transposed copy that could fail) */
    if (LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (lapack_int)d, 1, H, (lapack_int)d, g,
                      (lapack_int)d) != 0)
        return;
    for (size_t a = 0; a < d; a++)
        if (!(fabs(g[a]) <= 1.0))
            return;
    for (size_t a = 0; a < d; a++) {
        size_t ia = (im / S->stride[a]) % S->n[a];
        res[a] = berg__coord(S, (int)a, ia) + g[a] * S->h[a];
    }
}

void berg__bayes_wrap_periodic(const berg_bayes *b, double *u)
{
    const struct berg_space *S = &b->param;
    for (size_t a = 0; a < b->du; a++) {
        if (S->bc[a] != BERG_PERIODIC)
            continue;
        /* not fmod(u - lo, L): u - lo overflows for u and lo huge of opposite signs */
        double x = berg__periodic_offset(u[a], S->lo[a], S->hi[a] - S->lo[a]);
        u[a] = S->lo[a] + x;
        if (!(u[a] < S->hi[a])) /* x + lo rounded up to hi */
            u[a] = S->lo[a];
    }
}

/* the vertex of the parabola through the max cell im and its neighbours on axis a */
static double parabola_vertex(const struct berg_space *S, const double *lp, size_t im, size_t a)
{
    size_t n = S->n[a], st = S->stride[a], ia = (im / st) % n;
    if (n < 3)
        return berg__coord(S, (int)a, ia);
    size_t im1 = ia == 0 ? n - 1 : ia - 1, ip1 = ia == n - 1 ? 0 : ia + 1;
    double fm = lp[im - ia * st + im1 * st], f0 = lp[im], fp = lp[im - ia * st + ip1 * st];
    double delta = 0.0, den = fm - 2.0 * f0 + fp;
    if (isfinite(fm) && isfinite(fp) && den < 0.0)
        delta = fmin(fmax(0.5 * (fm - fp) / den, -0.5), 0.5);
    return berg__coord(S, (int)a, ia) + delta * S->h[a];
}

berg_status berg__bayes_map_from_log(const berg_bayes *b, const double *lp, double *u,
                                     const char *fn)
{
    const struct berg_space *S = &b->param;
    size_t im = 0;
    double m = -HUGE_VAL;
    for (size_t i = 0; i < b->nu; i++)
        if (lp[i] > m) {
            m = lp[i];
            im = i;
        }
    BERG_REQUIRE(m > -HUGE_VAL, BERG_ERR_MASS, "%s: the posterior has no mass", fn);
    double res[BERG_MAX_RANK];
    for (size_t a = 0; a < b->du; a++) {
        size_t n = S->n[a], ia = (im / S->stride[a]) % n;
        BERG_REQUIRE(S->bc[a] == BERG_PERIODIC || (ia != 0 && ia != n - 1),
                     BERG_ERR_OUT_OF_RANGE,
                     "%s: the MAP lies in the edge cell %zu of parameter axis %zu: it has left "
                     "the grid (enlarge the parameter box)",
                     fn, ia, a);
        res[a] = parabola_vertex(S, lp, im, a);
    }
    if (b->du > 1)
        newton_refine(b, lp, im, res);
    berg__bayes_wrap_periodic(b, res);
    memcpy(u, res, b->du * sizeof(double));
    return BERG_OK;
}

berg_status berg_bayes_map(const berg_bayes *b, double *u)
{
    static const char fn[] = "berg_bayes_map";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(u, fn, "u"));
    return berg__bayes_map_from_log(b, b->logpost, u, fn);
}

berg_status berg__bayes_map_at(const berg_bayes *b, double T, double *u, const char *fn)
{
    berg_status st;
    double *lp = berg__alloc(b->nu, sizeof(double), fn);
    if (!lp)
        return berg_last_status();
    BERG_TRY_GOTO(st, berg__bayes_expected_log(b, T, lp, fn), done);
    st = berg__bayes_map_from_log(b, lp, u, fn);
done:
    berg__free(lp);
    return st;
}

/* ---- trajectories ------------------------------------------------------- */

static berg_status check_times(const double *T, size_t nT, const char *fn)
{
    for (size_t j = 0; j < nT; j++)
        if (!isfinite(T[j]) || T[j] < 0.0) {
            char name[48];
            snprintf(name, sizeof name, "T[%zu]", j);
            return berg__check_time(T[j], fn, name);
        }
    return BERG_OK;
}

berg_status berg_bayes_trajectory(const berg_bayes *b, size_t nT, const double *T, double *map,
                                  double *mean)
{
    static const char fn[] = "berg_bayes_trajectory";
    berg_status st = BERG_OK;
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(T, fn, "T"));
    BERG_REQUIRE(nT > 0, BERG_ERR_SIZE, "%s: nT must be >= 1", fn);
    BERG_TRY(berg__bayes_need_truth(b, fn));
    /* every count checked before the caller's array is read */
    size_t du = b->du, total;
    BERG_TRY(berg__check_addressable(nT, sizeof(double), fn, "T (nT values)"));
    BERG_TRY(berg__mul_size(nT, du, &total, fn, "nT * du"));
    BERG_TRY(berg__check_addressable(total, sizeof(double), fn, "map and mean (nT * du values)"));
    BERG_TRY(check_times(T, nT, fn));
    double *lp = berg__alloc(b->nu, sizeof(double), fn);
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    double *mp = berg__alloc(total, sizeof(double), fn);
    double *mn = berg__alloc(total, sizeof(double), fn);
    if (!lp || !pi || !mp || !mn) {
        st = berg_last_status();
        goto done;
    }
    char ctx[64];
    for (size_t j = 0; j < nT; j++) {
        snprintf(ctx, sizeof ctx, "at T[%zu] = %g", j, T[j]);
        BERG_TRY_GOTO(st, berg__bayes_expected_log(b, T[j], lp, fn), rewrap);
        if (map)
            BERG_TRY_GOTO(st, berg__bayes_map_from_log(b, lp, mp + j * du, fn), rewrap);
        if (mean) {
            berg__bayes_density_from_log(b, lp, NULL, pi);
            BERG_TRY_GOTO(st, berg_space_mean(&b->param, pi, mn + j * du), rewrap);
        }
    }
    if (map)
        memcpy(map, mp, total * sizeof(double));
    if (mean)
        memcpy(mean, mn, total * sizeof(double));
    goto done;
rewrap:
    berg__dict_rewrap(st, fn, ctx);
done:
    berg__free(lp);
    berg__free(pi);
    berg__free(mp);
    berg__free(mn);
    return st;
}
