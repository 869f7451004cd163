/*
 * Fisher metrics of models on a data grid: exponential families (eq 5)
 * through a log-sum-exp log-partition, parametric models through a
 * log-likelihood (or score) callback, and the Jacobian of a forward model
 * G for the location model Y = G(U) + N (eq 38-41).
 */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "fisher/internal.h"
#include "space/internal.h"

/* ---- exponential families --------------------------------------------- */

berg_status berg_fisher_expfam(const berg_space *space, size_t k, const double *q,
                               const double *log_h, const double *u, double *psi, double *mean,
                               double *Imat, double *p)
{
    static const char fn[] = "berg_fisher_expfam";
    berg_status s;
    if ((s = berg__space_check(space, fn)) || (s = berg__check_ptr(q, fn, "q")) ||
        (s = berg__check_ptr(u, fn, "u")) || (s = berg__fisher_check_dim(k, fn, "k")) ||
        (s = berg__fisher_check_dim(space->size, fn, "the grid size")))
        return s;
    const size_t n = space->size;
    size_t kn, kk;
    if ((s = berg__mul_size(k, n, &kn, fn, "q")) || (s = berg__mul_size(k, k, &kk, fn, "Imat")) ||
        (s = berg__check_finite(q, kn, fn, "q")) || (s = berg__check_finite(u, k, fn, "u")))
        return s;
    if (log_h)
        for (size_t j = 0; j < n; j++)
            if (isnan(log_h[j]) || log_h[j] == HUGE_VAL)
                return berg__error(BERG_ERR_NONFINITE,
                                   "%s: log_h[%zu] = %g (it must be finite or -inf)", fn, j,
                                   log_h[j]);
    size_t nscratch = 2 * n + k + (Imat ? kn + kk : 0);
    double *L = berg__alloc(nscratch, sizeof(double), fn);
    if (!L)
        return berg_last_status();
    double *P = L + n, *M = P + n, *Y = M + k, *C = Y + kn;

    /* l_j = ln h_j + u.q(y_j) */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)k, (int)n, 1.0, q, (int)n, u, 1, 0.0, L, 1);
    double lmax = -HUGE_VAL;
    for (size_t j = 0; j < n; j++) {
        if (log_h)
            L[j] += log_h[j];
        if (isnan(L[j]) || L[j] == HUGE_VAL) {
            berg__free(L);
            return berg__error(BERG_ERR_NONFINITE,
                               "%s: u.q(y) overflows at grid index %zu (|u| or |q| too large)",
                               fn, j);
        }
        if (L[j] > lmax)
            lmax = L[j];
    }
    if (lmax == -HUGE_VAL) {
        berg__free(L);
        return berg__error(BERG_ERR_MASS, "%s: log_h is -inf everywhere (zero base measure)", fn);
    }
    for (size_t j = 0; j < n; j++)
        P[j] = exp(L[j] - lmax);
    double z = space->weight * berg__sum(P, n);
    double lpsi = lmax + log(z);
    double inv = 1.0 / z;
    for (size_t j = 0; j < n; j++)
        P[j] *= inv;
    /* mean_i = w sum_j p_j q_ij */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)k, (int)n, space->weight, q, (int)n, P, 1, 0.0,
                M, 1);
    if (Imat) {
        /* Cov(q) from the centred statistics, Y_ij = sqrt(w p_j) (q_ij - mean_i) */
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
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)k, (int)n, 1.0, Y, (int)n, 0.0,
                    C, (int)k);
        berg__fisher_mirror_lower(k, C);
    }
    /* |q| near DBL_MAX overflows the mean, |q| beyond ~1e154 the covariance */
    if ((mean && (s = berg__fisher_result_finite(M, k, fn, "the mean E[q]"))) ||
        (Imat && (s = berg__fisher_result_finite(C, kk, fn, "I = Cov(q)")))) {
        berg__free(L);
        return s;
    }
    if (Imat)
        memcpy(Imat, C, kk * sizeof(double));
    if (psi)
        *psi = lpsi;
    if (mean)
        memcpy(mean, M, k * sizeof(double));
    if (p)
        memcpy(p, P, n * sizeof(double));
    berg__free(L);
    return BERG_OK;
}

/* ---- parametric models ------------------------------------------------ */

/* the log-likelihood written by a callback is usable: no NaN, no +inf, and
 * exp(logp) finite */
static berg_status check_logp(const double *logp, size_t n, const char *fn, const char *cb)
{
    for (size_t j = 0; j < n; j++)
        if (isnan(logp[j]) || !(logp[j] < 700.0))
            return berg__error(BERG_ERR_CALLBACK,
                               "%s: %s wrote logp[%zu] = %g (it must be finite and below 700, "
                               "or -inf)",
                               fn, cb, j, logp[j]);
    return BERG_OK;
}

/* fill a callback's output with NaN first, so that an entry the callback
 * forgets to write is reported rather than read as garbage */
static void poison(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
}

static berg_status call_loglik(berg_loglik_fn f, size_t npar, const double *u,
                               const berg_space *space, double *logp, void *user_data,
                               const char *fn)
{
    poison(logp, space->size);
    int rc = f(npar, u, space, logp, user_data);
    if (rc != 0)
        return berg__error(BERG_ERR_CALLBACK, "%s: loglik returned %d", fn, rc);
    return check_logp(logp, space->size, fn, "loglik");
}

berg_status berg_fisher_model(const berg_space *space, size_t npar, const double *u,
                              berg_loglik_fn loglik, berg_score_fn score_fn, double *Imat,
                              void *user_data)
{
    static const char fn[] = "berg_fisher_model";
    berg_status s;
    if ((s = berg__space_check(space, fn)) || (s = berg__check_ptr(u, fn, "u")) ||
        (s = berg__check_ptr(Imat, fn, "Imat")) || (s = berg__fisher_check_dim(npar, fn, "npar")) ||
        (s = berg__fisher_check_dim(space->size, fn, "the grid size")))
        return s;
    if (!loglik && !score_fn)
        return berg__error(BERG_ERR_NULL, "%s: loglik and score_fn are both NULL", fn);
    if (loglik && score_fn)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: give either loglik (finite differences) or score_fn, not both", fn);
    if ((s = berg__check_finite(u, npar, fn, "u")))
        return s;
    const size_t n = space->size;
    size_t kn;
    if ((s = berg__mul_size(npar, n, &kn, fn, "score")))
        return s;
    size_t extra = score_fn ? 0 : 4 * n + npar;
    double *C = berg__alloc(npar * npar + n + kn + extra, sizeof(double), fn);
    if (!C)
        return berg_last_status();
    double *logp = C + npar * npar, *S = logp + n;
    if (score_fn) {
        poison(logp, n + kn);
        int rc = score_fn(npar, u, space, logp, S, user_data);
        if (rc != 0) {
            s = berg__error(BERG_ERR_CALLBACK, "%s: score_fn returned %d", fn, rc);
            goto done;
        }
        if ((s = check_logp(logp, n, fn, "score_fn")))
            goto done;
        for (size_t k = 0; k < npar; k++)
            for (size_t j = 0; j < n; j++) {
                if (logp[j] == -HUGE_VAL) {
                    S[k * n + j] = 0.0;
                } else if (!isfinite(S[k * n + j])) {
                    s = berg__error(BERG_ERR_CALLBACK,
                                    "%s: score_fn wrote score[%zu][%zu] = %g (not finite)", fn, k,
                                    j, S[k * n + j]);
                    goto done;
                }
            }
    } else {
        double *f[4] = {S + kn, S + kn + n, S + kn + 2 * n, S + kn + 3 * n};
        double *uu = S + kn + 4 * n;
        static const double step[4] = {2.0, 1.0, -1.0, -2.0};
        if ((s = call_loglik(loglik, npar, u, space, logp, user_data, fn)))
            goto done;
        for (size_t k = 0; k < npar; k++) {
            double h = 1e-3 * fmax(fabs(u[k]), 1.0);
            volatile double up = u[k] + h;
            h = up - u[k]; /* a step that is exact in floating point */
            memcpy(uu, u, npar * sizeof(double));
            for (int e = 0; e < 4; e++) {
                uu[k] = u[k] + step[e] * h;
                if ((s = call_loglik(loglik, npar, uu, space, f[e], user_data, fn)))
                    goto done;
            }
            for (size_t j = 0; j < n; j++) {
                if (logp[j] == -HUGE_VAL) {
                    S[k * n + j] = 0.0;
                    continue;
                }
                double d = (-f[0][j] + 8.0 * f[1][j] - 8.0 * f[2][j] + f[3][j]) / (12.0 * h);
                if (!isfinite(d)) {
                    s = berg__error(BERG_ERR_CALLBACK,
                                    "%s: the finite difference of ln p in u[%zu] at grid index "
                                    "%zu is not finite (ln p = %g at u but -inf within 2h = %g: "
                                    "the support depends on u; give score_fn)",
                                    fn, k, j, logp[j], 2.0 * h);
                    goto done;
                }
                S[k * n + j] = d;
            }
        }
    }
    /* Imat = sum_j w p_j s_j s_j^T: scale the columns by sqrt(w p_j), one dsyrk */
    for (size_t j = 0; j < n; j++) {
        double c = sqrt(space->weight * exp(logp[j]));
        for (size_t k = 0; k < npar; k++)
            S[k * n + j] *= c;
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)npar, (int)n, 1.0, S, (int)n, 0.0,
                C, (int)npar);
    berg__fisher_mirror_lower(npar, C);
    /* finite scores beyond ~1e154 overflow sum p s s^T */
    if ((s = berg__fisher_result_finite(C, npar * npar, fn, "I = sum p s s^T")))
        goto done;
    memcpy(Imat, C, npar * npar * sizeof(double));
done:
    berg__free(C);
    return s;
}

/* ---- Jacobian of a forward model --------------------------------------- */

berg_status berg_fisher_jacobian(size_t du, const double *u, size_t dy, berg_forward_fn G,
                                 berg_jacobian_fn jac, double *J, void *user_data)
{
    static const char fn[] = "berg_fisher_jacobian";
    berg_status s;
    if ((s = berg__check_ptr(u, fn, "u")) || (s = berg__check_ptr(J, fn, "J")) ||
        (s = berg__fisher_check_dim(du, fn, "du")) || (s = berg__fisher_check_dim(dy, fn, "dy")))
        return s;
    if (!G && !jac)
        return berg__error(BERG_ERR_NULL, "%s: G and jac are both NULL", fn);
    if (G && jac)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: give either G (finite differences) or jac, not both", fn);
    if ((s = berg__check_finite(u, du, fn, "u")))
        return s;
    size_t nj;
    if ((s = berg__mul_size(dy, du, &nj, fn, "J")))
        return s;
    double *T = berg__alloc(nj + (jac ? 0 : 4 * dy + du), sizeof(double), fn);
    if (!T)
        return berg_last_status();
    if (jac) {
        poison(T, nj);
        int rc = jac(du, u, dy, T, user_data);
        if (rc != 0) {
            s = berg__error(BERG_ERR_CALLBACK, "%s: jac returned %d", fn, rc);
            goto done;
        }
        for (size_t i = 0; i < nj; i++)
            if (!isfinite(T[i])) {
                s = berg__error(BERG_ERR_CALLBACK, "%s: jac wrote J[%zu][%zu] = %g (not finite)",
                                fn, i / du, i % du, T[i]);
                goto done;
            }
    } else {
        double *f[4] = {T + nj, T + nj + dy, T + nj + 2 * dy, T + nj + 3 * dy};
        double *uu = T + nj + 4 * dy;
        static const double step[4] = {2.0, 1.0, -1.0, -2.0};
        for (size_t k = 0; k < du; k++) {
            double h = 1e-3 * fmax(fabs(u[k]), 1.0);
            volatile double up = u[k] + h;
            h = up - u[k];
            memcpy(uu, u, du * sizeof(double));
            for (int e = 0; e < 4; e++) {
                uu[k] = u[k] + step[e] * h;
                poison(f[e], dy);
                int rc = G(du, uu, dy, f[e], user_data);
                if (rc != 0) {
                    s = berg__error(BERG_ERR_CALLBACK, "%s: G returned %d at u[%zu] %+g", fn, rc,
                                    k, step[e] * h);
                    goto done;
                }
                for (size_t i = 0; i < dy; i++)
                    if (!isfinite(f[e][i])) {
                        s = berg__error(BERG_ERR_CALLBACK,
                                        "%s: G wrote y[%zu] = %g (not finite) at u[%zu] %+g", fn,
                                        i, f[e][i], k, step[e] * h);
                        goto done;
                    }
            }
            for (size_t i = 0; i < dy; i++)
                T[i * du + k] = (-f[0][i] + 8.0 * f[1][i] - 8.0 * f[2][i] + f[3][i]) / (12.0 * h);
        }
    }
    memcpy(J, T, nj * sizeof(double));
    s = BERG_OK;
done:
    berg__free(T);
    return s;
}
