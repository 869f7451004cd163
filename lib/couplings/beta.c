/*
 * Beta functions beta^i = -d lambda^i / d ln Lambda (seed eq 2) from
 * couplings at a sequence of scales: the derivative of the quadratic
 * through three adjacent scales (centred inside, one-sided at the ends,
 * the difference quotient with two scales), a linear map D of lambda
 * whose covariance D cov D^T is propagated exactly.
 */
#include <math.h>
#include <string.h>

#include "couplings/internal.h"
#include "core/linalg.h"

/* weights of the derivative at x[s] of the Lagrange interpolant through
 * the nodes x[j0], x[j0+1], x[j0+2] (or the two nodes x[j0], x[j0+1]) */
static void deriv_weights(const double *x, size_t j0, size_t m, size_t s, double *wt)
{
    for (size_t j = 0; j < m; j++) {
        double wj = 0.0;
        for (size_t l = 0; l < m; l++) {
            if (l == j)
                continue;
            double term = 1.0 / (x[j0 + j] - x[j0 + l]);
            for (size_t o = 0; o < m; o++)
                if (o != j && o != l)
                    term *= (x[s] - x[j0 + o]) / (x[j0 + j] - x[j0 + o]);
            wj += term;
        }
        wt[j] = wj;
    }
}

berg_status berg__couplings_beta(size_t S, size_t k, const double *x, const double *lambda,
                                 const double *cov, double *beta, double *beta_cov,
                                 const char *fn)
{
    /* D: S x S weights (beta_s = -sum_t D_st lambda_t, per coupling) */
    double *Dm = berg__alloc(S * S, sizeof(double), fn);
    if (!Dm)
        return berg_last_status();
    memset(Dm, 0, S * S * sizeof(double));
    for (size_t s = 0; s < S; s++) {
        size_t m = S >= 3 ? 3 : 2;
        size_t j0 = m == 2 ? 0 : (s == 0 ? 0 : (s == S - 1 ? S - 3 : s - 1));
        double wt[3];
        deriv_weights(x, j0, m, s, wt);
        for (size_t j = 0; j < m; j++)
            Dm[s * S + j0 + j] = wt[j];
    }
    berg_status st = BERG_OK;
    for (size_t s = 0; s < S && st == BERG_OK; s++)
        for (size_t i = 0; i < k; i++) {
            double v = 0.0;
            for (size_t t = 0; t < S; t++)
                v -= Dm[s * S + t] * lambda[t * k + i];
            beta[s * k + i] = v;
            if (!isfinite(v)) {
                st = berg__error(BERG_ERR_NONFINITE, "%s: beta overflows at scale %zu (lambda too large)", fn, s);
                break;
            }
        }
    if (st == BERG_OK && cov && beta_cov) {
        /* beta_cov[(s,i),(t,j)] = sum_{u,v} D_su D_tv cov[(u,i),(v,j)]; D has
         * at most three entries per row */
        const size_t n = S * k;
        for (size_t s = 0; s < S && st == BERG_OK; s++)
            for (size_t t = 0; t <= s; t++)
                for (size_t i = 0; i < k; i++)
                    for (size_t j = 0; j < k; j++) {
                        double v = 0.0;
                        for (size_t u = 0; u < S; u++) {
                            double du = Dm[s * S + u];
                            if (du == 0.0)
                                continue;
                            for (size_t w = 0; w < S; w++) {
                                double dv = Dm[t * S + w];
                                if (dv != 0.0)
                                    v += du * dv * cov[(u * k + i) * n + w * k + j];
                            }
                        }
                        if (!isfinite(v)) {
                            st = berg__error(BERG_ERR_NONFINITE,
                                             "%s: the covariance of beta overflows (cov too large)",
                                             fn);
                            break;
                        }
                        beta_cov[(s * k + i) * n + t * k + j] = v;
                        beta_cov[(t * k + j) * n + s * k + i] = v;
                    }
    }
    berg__free(Dm);
    return st;
}

berg_status berg_couplings_beta(size_t nscales, size_t k, const double *log_scale,
                                const double *lambda, const double *cov, double *beta,
                                double *beta_cov)
{
    static const char fn[] = "berg_couplings_beta";
    BERG_REQUIRE(nscales >= 2, BERG_ERR_SIZE, "%s: nscales = %zu (at least 2 scales)", fn,
                 nscales);
    BERG_REQUIRE(k >= 1, BERG_ERR_SIZE, "%s: k is 0", fn);
    size_t n, nn;
    BERG_TRY(berg__mul_size(nscales, k, &n, fn, "nscales x k"));
    BERG_TRY(berg__mul_size(n, n, &nn, fn, "(nscales k)^2 (cov)"));
    BERG_TRY(berg__mul_size(nn, sizeof(double), &nn, fn, "(nscales k)^2 (cov)"));
    nn /= sizeof(double);
    BERG_TRY(berg__check_ptr(log_scale, fn, "log_scale"));
    BERG_TRY(berg__check_ptr(lambda, fn, "lambda"));
    BERG_TRY(berg__check_ptr(beta, fn, "beta"));
    BERG_REQUIRE(cov || !beta_cov, BERG_ERR_NULL, "%s: cov is NULL but beta_cov is asked for", fn);
    BERG_TRY(berg__check_finite(log_scale, nscales, fn, "log_scale"));
    int up = log_scale[1] > log_scale[0];
    for (size_t s = 1; s < nscales; s++)
        BERG_REQUIRE(up ? log_scale[s] > log_scale[s - 1] : log_scale[s] < log_scale[s - 1],
                     BERG_ERR_DOMAIN,
                     "%s: log_scale is not strictly monotone (log_scale[%zu] = %.17g, "
                     "log_scale[%zu] = %.17g)", fn, s - 1, log_scale[s - 1], s, log_scale[s]);
    for (size_t s = 1; s < nscales; s++)
        BERG_REQUIRE(isfinite(log_scale[s] - log_scale[s - 1]), BERG_ERR_DOMAIN,
                     "%s: log_scale[%zu] - log_scale[%zu] overflows", fn, s, s - 1);
    BERG_TRY(berg__check_finite(lambda, n, fn, "lambda"));
    if (cov)
        BERG_TRY(berg__check_symmetric(cov, n, BERG__SYM_RTOL, fn, "cov"));
    double *B = berg__alloc(n + (beta_cov ? nn : 0), sizeof(double), fn);
    if (!B)
        return berg_last_status();
    berg_status st = berg__couplings_beta(nscales, k, log_scale, lambda, cov, B,
                                          beta_cov ? B + n : NULL, fn);
    if (st == BERG_OK) {
        memcpy(beta, B, n * sizeof(double));
        if (beta_cov)
            memcpy(beta_cov, B + n, nn * sizeof(double));
    }
    berg__free(B);
    return st;
}
