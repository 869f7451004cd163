/* Moments, central moments and cumulants (connected moments) of a density,
 * per axis and mixed, up to a total order. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "berg/metric.h"
#include "metric/func_internal.h"

#define MAX_ORDER 16

/* validate and return the tensor length (order + 1)^d */
static berg_status check_args(const berg_space *space, const double *p, int order,
                              const double *out, const char *fn, size_t *len)
{
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__func_density(space, p, fn, "p", NULL)) ||
        (st = berg__check_ptr(out, fn, "out")))
        return st;
    if (order < 1 || order > MAX_ORDER)
        return berg__error(BERG_ERR_DOMAIN, "%s: order = %d must be between 1 and %d", fn, order,
                           MAX_ORDER);
    size_t n = 1;
    for (int a = 0; a < space->ndim; a++)
        if ((st = berg__mul_size(n, (size_t)order + 1, &n, fn, "moment tensor")))
            return st;
    if ((st = berg__mul_size(n, sizeof(double), &(size_t){0}, fn, "moment tensor")))
        return st;
    *len = n;
    return BERG_OK;
}

/* the multi-index of flat tensor index t (C order, base K+1); returns |alpha| */
static int unflatten(size_t t, int d, int K, int *alpha)
{
    int tot = 0;
    for (int a = d - 1; a >= 0; a--) {
        alpha[a] = (int)(t % (size_t)(K + 1));
        t /= (size_t)(K + 1);
        tot += alpha[a];
    }
    return tot;
}

/* moments E[(x - c)^alpha] for |alpha| <= K into m (length len), divided by
 * the mass; scratch-allocating, so it may fail with NOMEM. m is written
 * only at the end, after every allocation succeeded and p was last read:
 * nothing is written on failure, and m may alias p. */
static berg_status moments_about(const berg_space *s, const double *p, int K, const double *c,
                                 double *m, size_t len, const char *fn)
{
    const int d = s->ndim;
    const size_t K1 = (size_t)K + 1;
    /* power tables pw[a][i][k] = (x_a(i) - c_a)^k */
    size_t npw = 0, off[BERG_MAX_RANK];
    for (int a = 0; a < d; a++) {
        off[a] = npw;
        npw += s->n[a] * K1;
    }
    /* list of the multi-indices with |alpha| <= K */
    size_t nval = 0;
    int alpha[BERG_MAX_RANK];
    for (size_t t = 0; t < len; t++)
        if (unflatten(t, d, K, alpha) <= K)
            nval++;
    double *pw = berg__alloc(npw + K1 + nval, sizeof(double), fn);
    size_t *idx = berg__alloc(nval * (size_t)(d + 1), sizeof(size_t), fn);
    double *acc = berg__alloc(nval, sizeof(double), fn);
    if (!pw || !idx || !acc) {
        berg__free(pw);
        berg__free(idx);
        berg__free(acc);
        return BERG_ERR_NOMEM;
    }
    double *rows = pw + npw; /* K1 row sums */
    for (int a = 0; a < d; a++)
        for (size_t i = 0; i < s->n[a]; i++) {
            double y = berg__coord(s, a, i) - c[a], v = 1.0;
            for (size_t k = 0; k < K1; k++) {
                pw[off[a] + i * K1 + k] = v;
                v *= y;
            }
        }
    size_t v = 0;
    for (size_t t = 0; t < len; t++)
        if (unflatten(t, d, K, alpha) <= K) {
            idx[v * (size_t)(d + 1)] = t;
            for (int a = 0; a < d; a++)
                idx[v * (size_t)(d + 1) + 1 + (size_t)a] = (size_t)alpha[a];
            v++;
        }
    memset(acc, 0, sizeof(double) * nval);
    const size_t nlast = s->n[d - 1];
    size_t lead[BERG_MAX_RANK] = {0};
    const double *pwl = pw + off[d - 1];
    for (size_t row = 0; row < s->size; row += nlast) {
        /* rows[k] = sum_j p_j y_j^k along the last axis */
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)nlast, (int)K1, 1.0, pwl, (int)K1, p + row, 1,
                    0.0, rows, 1);
        for (size_t u = 0; u < nval; u++) {
            const size_t *al = idx + u * (size_t)(d + 1) + 1;
            double f = rows[al[d - 1]];
            for (int a = 0; a < d - 1; a++)
                f *= pw[off[a] + lead[a] * K1 + al[a]];
            acc[u] += f;
        }
        for (int a = d - 2; a >= 0; a--) {
            if (++lead[a] < s->n[a])
                break;
            lead[a] = 0;
        }
    }
    double mass = acc[0]; /* alpha = 0 comes first */
    memset(m, 0, sizeof(double) * len);
    for (size_t u = 0; u < nval; u++)
        m[idx[u * (size_t)(d + 1)]] = acc[u] / mass;
    berg__free(pw);
    berg__free(idx);
    berg__free(acc);
    return BERG_OK;
}

berg_status berg_moments(const berg_space *space, const double *p, int order, double *m)
{
    static const char fn[] = "berg_moments";
    size_t len = 0;
    berg_status st = check_args(space, p, order, m, fn, &len);
    if (st)
        return st;
    double zero[BERG_MAX_RANK] = {0};
    return moments_about(space, p, order, zero, m, len, fn);
}

/* central moments into m; like moments_about, writes m only on success */
static berg_status central(const berg_space *space, const double *p, int order, double *m,
                           size_t len, double *mean, const char *fn)
{
    berg_status st = berg_space_mean(space, p, mean);
    if (st)
        return st;
    return moments_about(space, p, order, mean, m, len, fn);
}

berg_status berg_central_moments(const berg_space *space, const double *p, int order, double *m)
{
    static const char fn[] = "berg_central_moments";
    size_t len = 0;
    berg_status st = check_args(space, p, order, m, fn, &len);
    if (st)
        return st;
    double mean[BERG_MAX_RANK];
    if ((st = central(space, p, order, m, len, mean, fn)))
        return st;
    /* exact zeros for the first central moments */
    size_t t = 1;
    for (int a = space->ndim - 1; a >= 0; a--) {
        m[t] = 0.0;
        t *= (size_t)order + 1;
    }
    return BERG_OK;
}

berg_status berg_cumulants(const berg_space *space, const double *p, int order, double *kappa)
{
    static const char fn[] = "berg_cumulants";
    size_t len = 0;
    berg_status st = check_args(space, p, order, kappa, fn, &len);
    if (st)
        return st;
    const int d = space->ndim, K = order;
    double mean[BERG_MAX_RANK];
    double *mu = berg__alloc(2 * len, sizeof(double), fn);
    if (!mu)
        return BERG_ERR_NOMEM;
    double *k = mu + len;
    if ((st = central(space, p, order, mu, len, mean, fn))) {
        berg__free(mu);
        return st;
    }
    size_t stride[BERG_MAX_RANK];
    stride[d - 1] = 1;
    for (int a = d - 2; a >= 0; a--)
        stride[a] = stride[a + 1] * (size_t)(K + 1);
    for (int a = 0; a < d; a++)
        mu[stride[a]] = 0.0;
    double binom[MAX_ORDER + 1][MAX_ORDER + 1];
    for (int n = 0; n <= MAX_ORDER; n++) {
        binom[n][0] = binom[n][n] = 1.0;
        for (int r = 1; r < n; r++)
            binom[n][r] = binom[n - 1][r - 1] + binom[n - 1][r];
    }
    memset(k, 0, sizeof(double) * len);
    /* graded order: every cumulant the recursion needs has a lower order */
    int alpha[BERG_MAX_RANK], beta[BERG_MAX_RANK], gam[BERG_MAX_RANK];
    for (int tot = 1; tot <= K; tot++) {
        for (size_t t = 0; t < len; t++) {
            if (unflatten(t, d, K, alpha) != tot)
                continue;
            int j = 0;
            while (alpha[j] == 0)
                j++;
            memcpy(beta, alpha, sizeof(int) * (size_t)d);
            beta[j]--;
            /* kappa_alpha = mu_alpha - sum_{gamma <= beta, gamma != beta}
             *   C(beta, gamma) kappa_{gamma + e_j} mu_{beta - gamma} */
            double s = mu[t];
            memset(gam, 0, sizeof(int) * (size_t)d);
            for (;;) {
                int is_beta = 1;
                for (int a = 0; a < d; a++)
                    is_beta &= gam[a] == beta[a];
                if (!is_beta) {
                    double cf = 1.0;
                    size_t tk = stride[j], tm = 0;
                    for (int a = 0; a < d; a++) {
                        cf *= binom[beta[a]][gam[a]];
                        tk += (size_t)gam[a] * stride[a];
                        tm += (size_t)(beta[a] - gam[a]) * stride[a];
                    }
                    s -= cf * k[tk] * mu[tm];
                }
                int a = d - 1;
                while (a >= 0 && gam[a] == beta[a]) {
                    gam[a] = 0;
                    a--;
                }
                if (a < 0)
                    break;
                gam[a]++;
            }
            k[t] = s;
        }
    }
    for (int a = 0; a < d; a++)
        k[stride[a]] = mean[a];
    memcpy(kappa, k, sizeof(double) * len);
    berg__free(mu);
    return BERG_OK;
}
