/*
 * Fisher metrics of models on a data grid: exponential families (eq 5)
 * through a log-sum-exp log-partition, parametric models through a
 * log-likelihood (or score) callback, and the Jacobian of a forward model
 * G for the location model Y = G(U) + N (eq 38-41).
 */
#include <math.h>
#include <string.h>

#include "fisher/internal.h"
#include "space/internal.h"

/* after the berg headers: OpenBLAS's cblas.h may pull in <complex.h> */
#include <cblas.h>

/* ---- exponential families --------------------------------------------- */

/* the normalized density P = h e^{u.q} / Z and the log-partition
 * *lpsi = ln Z (log-sum-exp); L: n scratch doubles */
static berg_status log_partition(const berg_space *space, size_t k, const double *q,
                                 const double *log_h, const double *u, double *L, double *P,
                                 double *lpsi, const char *fn)
{
    const size_t n = space->size;
    /* l_j = ln h_j + u.q(y_j) */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)k, (int)n, 1.0, q, (int)n, u, 1, 0.0, L, 1);
    double lmax = -HUGE_VAL;
    for (size_t j = 0; j < n; j++) {
        if (log_h)
            L[j] += log_h[j];
        BERG_REQUIRE(!isnan(L[j]) && L[j] != HUGE_VAL, BERG_ERR_NONFINITE,
                     "%s: u.q(y) overflows at grid index %zu (|u| or |q| too large)", fn, j);
        if (L[j] > lmax)
            lmax = L[j];
    }
    BERG_REQUIRE(lmax != -HUGE_VAL, BERG_ERR_MASS,
                 "%s: log_h is -inf everywhere (zero base measure)", fn);
    for (size_t j = 0; j < n; j++)
        P[j] = exp(L[j] - lmax);
    double z = space->weight * berg__sum(P, n);
    *lpsi = lmax + log(z);
    double inv = 1.0 / z;
    for (size_t j = 0; j < n; j++)
        P[j] *= inv;
    return BERG_OK;
}

/* C = Cov(q) (k x k, exactly symmetric) under P with mean M, from the
 * centred statistics Y_ij = sqrt(w p_j) (q_ij - M_i); L: n, Y: k n scratch */
static void covariance(const berg_space *space, size_t k, const double *q, const double *P,
                       const double *M, double *L, double *Y, double *C)
{
    const size_t n = space->size;
    for (size_t j = 0; j < n; j++)
        L[j] = sqrt(space->weight * P[j]);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++)
            Y[i * n + j] = L[j] * (q[i * n + j] - M[i]);
    /* a second centring pass removes the O(eps) residual mean of Y */
    for (size_t i = 0; i < k; i++) {
        double r = cblas_ddot((int)n, Y + i * n, 1, L, 1);
        for (size_t j = 0; j < n; j++)
            Y[i * n + j] -= r * L[j];
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)k, (int)n, 1.0, Y, (int)n, 0.0, C,
                (int)k);
    berg__linalg_mirror_lower(k, C);
}

berg_status berg_fisher_expfam(const berg_space *space, size_t k, const double *q,
                               const double *log_h, const double *u, double *psi, double *mean,
                               double *Imat, double *p)
{
    static const char fn[] = "berg_fisher_expfam";
    berg_status st;
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(q, fn, "q"));
    BERG_TRY(berg__check_ptr(u, fn, "u"));
    BERG_TRY(berg__linalg_check_dim(k, fn, "k"));
    BERG_TRY(berg__linalg_check_dim(space->size, fn, "the grid size"));
    const size_t n = space->size;
    size_t kn, kk;
    BERG_TRY(berg__mul_size(k, n, &kn, fn, "q"));
    BERG_TRY(berg__mul_size(k, k, &kk, fn, "Imat"));
    BERG_TRY(berg__check_finite(q, kn, fn, "q"));
    BERG_TRY(berg__check_finite(u, k, fn, "u"));
    if (log_h)
        for (size_t j = 0; j < n; j++)
            BERG_REQUIRE(!isnan(log_h[j]) && log_h[j] != HUGE_VAL, BERG_ERR_NONFINITE,
                         "%s: log_h[%zu] = %g (it must be finite or -inf)", fn, j, log_h[j]);
    size_t nscratch = 2 * n + k + (Imat ? kn + kk : 0);
    double *L = berg__alloc(nscratch, sizeof(double), fn);
    if (!L)
        return berg_last_status();
    double *P = L + n, *M = P + n, *Y = M + k, *C = Y + kn;
    double lpsi = NAN;
    BERG_TRY_GOTO(st, log_partition(space, k, q, log_h, u, L, P, &lpsi, fn), fail);
    /* mean_i = w sum_j p_j q_ij */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)k, (int)n, space->weight, q, (int)n, P, 1, 0.0,
                M, 1);
    if (Imat)
        covariance(space, k, q, P, M, L, Y, C);
    /* |q| near DBL_MAX overflows the mean, |q| beyond ~1e154 the covariance */
    if (mean)
        BERG_TRY_GOTO(st, berg__fisher_result_finite(M, k, fn, "the mean E[q]"), fail);
    if (Imat)
        BERG_TRY_GOTO(st, berg__fisher_result_finite(C, kk, fn, "I = Cov(q)"), fail);
    if (Imat)
        memcpy(Imat, C, kk * sizeof(double));
    if (psi)
        *psi = lpsi;
    if (mean)
        memcpy(mean, M, k * sizeof(double));
    if (p)
        memcpy(p, P, n * sizeof(double));
    st = BERG_OK;
fail:
    berg__free(L);
    return st;
}

/* ---- parametric models ------------------------------------------------ */

/* one call of the log-likelihood, its output checked */
static berg_status call_loglik(berg_grid_loglik_fn f, size_t npar, const double *u,
                               const berg_space *space, double *logp, void *user_data,
                               const char *fn)
{
    berg__fisher_poison(logp, space->size);
    int rc = f(npar, u, space, logp, user_data);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: loglik returned %d", fn, rc);
    return berg__fisher_callback_output(logp, space->size, 1, fn, "loglik");
}

/* logp and the scores S (npar x n) from score_fn; scores where p = 0 are
 * ignored (set to 0) */
static berg_status scores_from_callback(const berg_space *space, size_t npar, const double *u,
                                        berg_grid_score_fn score_fn, void *user_data,
                                        double *logp, double *S, const char *fn)
{
    const size_t n = space->size;
    berg__fisher_poison(logp, n + npar * n);
    int rc = score_fn(npar, u, space, logp, S, user_data);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: score_fn returned %d", fn, rc);
    BERG_TRY(berg__fisher_callback_output(logp, n, 1, fn, "score_fn (logp)"));
    for (size_t j = 0; j < n; j++)
        if (logp[j] == -HUGE_VAL)
            for (size_t k = 0; k < npar; k++)
                S[k * n + j] = 0.0;
    return berg__fisher_callback_output(S, npar * n, 0, fn, "score_fn (score)");
}

/* logp and the scores S (npar x n) by fourth-order central differences of
 * loglik; work: 4 n + npar doubles */
static berg_status scores_by_differences(const berg_space *space, size_t npar, const double *u,
                                         berg_grid_loglik_fn loglik, void *user_data,
                                         double *logp, double *S, double *work, const char *fn)
{
    static const double step[4] = {2.0, 1.0, -1.0, -2.0};
    const size_t n = space->size;
    double *f[4] = {work, work + n, work + 2 * n, work + 3 * n};
    double *uu = work + 4 * n;
    BERG_TRY(call_loglik(loglik, npar, u, space, logp, user_data, fn));
    for (size_t k = 0; k < npar; k++) {
        double h = 1e-3 * fmax(fabs(u[k]), 1.0);
        volatile double up = u[k] + h;
        h = up - u[k]; /* a step that is exact in floating point */
        memcpy(uu, u, npar * sizeof(double));
        for (size_t e = 0; e < 4; e++) {
            uu[k] = u[k] + step[e] * h;
            BERG_TRY(call_loglik(loglik, npar, uu, space, f[e], user_data, fn));
        }
        for (size_t j = 0; j < n; j++) {
            if (logp[j] == -HUGE_VAL) {
                S[k * n + j] = 0.0;
                continue;
            }
            double d = (-f[0][j] + 8.0 * f[1][j] - 8.0 * f[2][j] + f[3][j]) / (12.0 * h);
            BERG_REQUIRE(isfinite(d), BERG_ERR_CALLBACK,
                         "%s: the finite difference of ln p in u[%zu] at grid index %zu is not "
                         "finite (ln p = %g at u but -inf within 2h = %g: the support depends "
                         "on u; give score_fn)",
                         fn, k, j, logp[j], 2.0 * h);
            S[k * n + j] = d;
        }
    }
    return BERG_OK;
}

berg_status berg__fisher_model(const berg_space *space, size_t npar, const double *u,
                               double *Imat, berg_grid_loglik_fn loglik,
                               berg_grid_score_fn score_fn, void *user_data, const char *fn)
{
    berg_status st;
    const size_t n = space->size, kn = npar * n;
    size_t extra = score_fn ? 0 : 4 * n + npar;
    double *C = berg__alloc(npar * npar + n + kn + extra, sizeof(double), fn);
    if (!C)
        return berg_last_status();
    double *logp = C + npar * npar, *S = logp + n;
    if (score_fn)
        BERG_TRY_GOTO(st, scores_from_callback(space, npar, u, score_fn, user_data, logp, S, fn),
                      fail);
    else
        BERG_TRY_GOTO(st, scores_by_differences(space, npar, u, loglik, user_data, logp, S,
                                                S + kn, fn),
                      fail);
    /* Imat = sum_j w p_j s_j s_j^T: scale the columns by sqrt(w p_j), one dsyrk */
    for (size_t j = 0; j < n; j++) {
        double c = sqrt(space->weight * exp(logp[j]));
        for (size_t k = 0; k < npar; k++)
            S[k * n + j] *= c;
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)npar, (int)n, 1.0, S, (int)n, 0.0,
                C, (int)npar);
    berg__linalg_mirror_lower(npar, C);
    /* finite scores beyond ~1e154 overflow sum p s s^T */
    BERG_TRY_GOTO(st, berg__fisher_result_finite(C, npar * npar, fn, "I = sum p s s^T"), fail);
    memcpy(Imat, C, npar * npar * sizeof(double));
fail:
    berg__free(C);
    return st;
}

berg_status berg_fisher_model(const berg_space *space, size_t npar, const double *u,
                              double *Imat, berg_grid_loglik_fn loglik,
                              berg_grid_score_fn score_fn, void *user_data)
{
    static const char fn[] = "berg_fisher_model";
    size_t kn;
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(u, fn, "u"));
    BERG_TRY(berg__check_ptr(Imat, fn, "Imat"));
    BERG_TRY(berg__linalg_check_dim(npar, fn, "npar"));
    BERG_TRY(berg__linalg_check_dim(space->size, fn, "the grid size"));
    BERG_REQUIRE(loglik || score_fn, BERG_ERR_NULL, "%s: loglik and score_fn are both NULL", fn);
    BERG_REQUIRE(!(loglik && score_fn), BERG_ERR_DOMAIN,
                 "%s: give either loglik (finite differences) or score_fn, not both", fn);
    BERG_TRY(berg__check_finite(u, npar, fn, "u"));
    BERG_TRY(berg__mul_size(npar, space->size, &kn, fn, "score"));
    return berg__fisher_model(space, npar, u, Imat, loglik, score_fn, user_data, fn);
}

/* ---- Jacobian of a forward model --------------------------------------- */

/* J (dy x du) by fourth-order central differences of G; work: 4 dy + du */
static berg_status jacobian_by_differences(size_t du, size_t dy, const double *u, double *J,
                                           berg_forward_fn G, void *user_data, double *work,
                                           const char *fn)
{
    static const double step[4] = {2.0, 1.0, -1.0, -2.0};
    double *f[4] = {work, work + dy, work + 2 * dy, work + 3 * dy};
    double *uu = work + 4 * dy;
    for (size_t k = 0; k < du; k++) {
        double h = 1e-3 * fmax(fabs(u[k]), 1.0);
        volatile double up = u[k] + h;
        h = up - u[k];
        BERG_REQUIRE(isfinite(u[k] + 2.0 * h) && isfinite(u[k] - 2.0 * h), BERG_ERR_DOMAIN,
                     "%s: u[%zu] = %g is too large for the difference stencil u +- 2h "
                     "(h = %g); pass jac",
                     fn, k, u[k], h);
        memcpy(uu, u, du * sizeof(double));
        for (size_t e = 0; e < 4; e++) {
            uu[k] = u[k] + step[e] * h;
            berg__fisher_poison(f[e], dy);
            int rc = G(du, uu, dy, f[e], user_data);
            BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: G returned %d at u[%zu] %+g", fn, rc,
                         k, step[e] * h);
            BERG_TRY(berg__fisher_callback_output(f[e], dy, 0, fn, "G"));
        }
        /* in halves: differences of values near DBL_MAX must not overflow
         * (J = (8 (f1 - f2) - (f0 - f3)) / 12h); a J beyond the range is
         * refused, not returned as inf or NaN */
        for (size_t i = 0; i < dy; i++) {
            double a = 0.5 * f[1][i] - 0.5 * f[2][i], b = 0.5 * f[0][i] - 0.5 * f[3][i];
            double v = (a / h) * (4.0 / 3.0) - (b / h) / 6.0;
            BERG_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                         "%s: J[%zu][%zu] overflows the double range (G changes by %g over "
                         "u[%zu] +- h, h = %g)",
                         fn, i, k, 2.0 * a, k, h);
            J[i * du + k] = v;
        }
    }
    return BERG_OK;
}

berg_status berg__fisher_jacobian(size_t du, size_t dy, const double *u, double *J,
                                  berg_forward_fn G, berg_jacobian_fn jac, void *user_data,
                                  const char *fn)
{
    berg_status st;
    const size_t nj = dy * du;
    double *T = berg__alloc(nj + (jac ? 0 : 4 * dy + du), sizeof(double), fn);
    if (!T)
        return berg_last_status();
    if (jac) {
        berg__fisher_poison(T, nj);
        int rc = jac(du, u, dy, T, user_data);
        if (rc != 0) {
            st = berg__error(BERG_ERR_CALLBACK, "%s: jac returned %d", fn, rc);
            goto fail;
        }
        BERG_TRY_GOTO(st, berg__fisher_callback_output(T, nj, 0, fn, "jac"), fail);
    } else {
        BERG_TRY_GOTO(st, jacobian_by_differences(du, dy, u, T, G, user_data, T + nj, fn), fail);
    }
    memcpy(J, T, nj * sizeof(double));
fail:
    berg__free(T);
    return st;
}

berg_status berg_fisher_jacobian(size_t du, size_t dy, const double *u, double *J,
                                 berg_forward_fn G, berg_jacobian_fn jac, void *user_data)
{
    static const char fn[] = "berg_fisher_jacobian";
    size_t nj;
    BERG_TRY(berg__check_ptr(u, fn, "u"));
    BERG_TRY(berg__check_ptr(J, fn, "J"));
    BERG_TRY(berg__linalg_check_dim(du, fn, "du"));
    BERG_TRY(berg__linalg_check_dim(dy, fn, "dy"));
    BERG_REQUIRE(G || jac, BERG_ERR_NULL, "%s: G and jac are both NULL", fn);
    BERG_REQUIRE(!(G && jac), BERG_ERR_DOMAIN,
                 "%s: give either G (finite differences) or jac, not both", fn);
    BERG_TRY(berg__check_finite(u, du, fn, "u"));
    BERG_TRY(berg__mul_size(dy, du, &nj, fn, "J"));
    return berg__fisher_jacobian(du, dy, u, J, G, jac, user_data, fn);
}
