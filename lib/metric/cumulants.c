/* Moments, central moments and cumulants (connected moments) of a density,
 * per axis and mixed, up to a total order. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "berg/moments.h"
#include "metric/func_internal.h"

#define MAX_ORDER 16

/* validate and return the tensor length (order + 1)^d */
static berg_status check_args(const berg_space *space, size_t order, const double *p,
                              const double *out, const char *out_name, const char *fn,
                              size_t *len)
{
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_normalized(space, p, fn, "p"));
    BERG_TRY(berg__check_ptr(out, fn, out_name));
    BERG_REQUIRE(order >= 1 && order <= MAX_ORDER, BERG_ERR_DOMAIN,
                 "%s: order = %zu must be between 1 and %d", fn, order, MAX_ORDER);
    size_t n = 1, bytes;
    for (size_t a = 0; a < BERG__RANK(space); a++)
        BERG_TRY(berg__mul_size(n, order + 1, &n, fn, "moment tensor"));
    BERG_TRY(berg__mul_size(n, sizeof(double), &bytes, fn, "moment tensor"));
    *len = n;
    return BERG_OK;
}

/* the multi-index of flat tensor index t (C order, base K+1); returns |alpha| */
static size_t unflatten(size_t t, size_t d, size_t K, size_t *alpha)
{
    size_t tot = 0;
    for (size_t a = d; a-- > 0;) {
        alpha[a] = t % (K + 1);
        t /= K + 1;
        tot += alpha[a];
    }
    return tot;
}

/* Accumulate acc[u] = sum_i p_i prod_a pw_a(x_a(i))^{alpha_u,a} for the
 * multi-indices of idx: one dgemv per grid line of the last axis. */
static void accumulate(const berg_space *s, const double *p, size_t K1, const double *pw,
                       const size_t *off, const size_t *idx, size_t nval, double *rows,
                       double *acc)
{
    const size_t d = BERG__RANK(s);
    const size_t nlast = s->n[d - 1];
    size_t lead[BERG_MAX_RANK] = {0};
    const double *pwl = pw + off[d - 1];
    memset(acc, 0, sizeof(double) * nval);
    for (size_t row = 0; row < s->size; row += nlast) {
        /* rows[k] = sum_j p_j y_j^k along the last axis */
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)nlast, (int)K1, 1.0, pwl, (int)K1, p + row, 1,
                    0.0, rows, 1);
        for (size_t u = 0; u < nval; u++) {
            const size_t *al = idx + u * (d + 1) + 1;
            double f = rows[al[d - 1]];
            for (size_t a = 0; a + 1 < d; a++)
                f *= pw[off[a] + lead[a] * K1 + al[a]];
            acc[u] += f;
        }
        for (size_t a = d - 1; a-- > 0;) {
            if (++lead[a] < s->n[a])
                break;
            lead[a] = 0;
        }
    }
}

/* moments E[(x - c)^alpha] for |alpha| <= K into m (length len), divided by
 * the mass; scratch-allocating, so it may fail with NOMEM. m is written
 * only at the end, after every allocation succeeded and p was last read:
 * nothing is written on failure, and m may alias p. */
static berg_status moments_about(const berg_space *s, const double *p, size_t K, const double *c,
                                 double *m, size_t len, const char *fn)
{
    const size_t d = BERG__RANK(s), K1 = K + 1;
    /* power tables pw[a][i][k] = (x_a(i) - c_a)^k */
    size_t npw = 0, off[BERG_MAX_RANK];
    for (size_t a = 0; a < d; a++) {
        off[a] = npw;
        npw += s->n[a] * K1;
    }
    /* list of the multi-indices with |alpha| <= K */
    size_t nval = 0, alpha[BERG_MAX_RANK];
    for (size_t t = 0; t < len; t++)
        if (unflatten(t, d, K, alpha) <= K)
            nval++;
    berg_status st = BERG_OK;
    double *pw = berg__alloc(npw + K1 + nval, sizeof(double), fn);
    size_t *idx = pw ? berg__alloc(nval * (d + 1), sizeof(size_t), fn) : NULL;
    if (!pw || !idx) {
        st = berg_last_status();
        goto fail;
    }
    double *rows = pw + npw, *acc = rows + K1;
    for (size_t a = 0; a < d; a++)
        for (size_t i = 0; i < s->n[a]; i++) {
            double y = berg__coord(s, (int)a, i) - c[a], v = 1.0;
            for (size_t k = 0; k < K1; k++) {
                pw[off[a] + i * K1 + k] = v;
                v *= y;
            }
        }
    size_t v = 0;
    for (size_t t = 0; t < len; t++)
        if (unflatten(t, d, K, alpha) <= K) {
            idx[v * (d + 1)] = t;
            memcpy(idx + v * (d + 1) + 1, alpha, sizeof(size_t) * d);
            v++;
        }
    accumulate(s, p, K1, pw, off, idx, nval, rows, acc);
    double mass = acc[0]; /* alpha = 0 comes first */
    for (size_t u = 0; u < nval; u++)
        acc[u] /= mass;
    /* powers of coordinates beyond the double range: refused, m untouched */
    BERG_TRY_GOTO(st, berg__check_result(s, acc, nval, fn, "moment", "p"), fail);
    memset(m, 0, sizeof(double) * len);
    for (size_t u = 0; u < nval; u++)
        m[idx[u * (d + 1)]] = acc[u];
fail:
    berg__free(pw);
    berg__free(idx);
    return st;
}

berg_status berg_moments(const berg_space *space, size_t order, const double *p, double *m)
{
    static const char fn[] = "berg_moments";
    size_t len = 0;
    BERG_TRY(check_args(space, order, p, m, "m", fn, &len));
    double zero[BERG_MAX_RANK] = {0};
    return moments_about(space, p, order, zero, m, len, fn);
}

/* central moments into m; like moments_about, writes m only on success */
static berg_status central(const berg_space *space, size_t order, const double *p, double *m,
                           size_t len, double *mean, const char *fn)
{
    berg_status st = berg_space_mean(space, p, mean);
    if (st != BERG_OK)
        return berg__prefix_last_error(st, fn, NULL);
    return moments_about(space, p, order, mean, m, len, fn);
}

berg_status berg_central_moments(const berg_space *space, size_t order, const double *p,
                                 double *m)
{
    static const char fn[] = "berg_central_moments";
    size_t len = 0;
    BERG_TRY(check_args(space, order, p, m, "m", fn, &len));
    double mean[BERG_MAX_RANK];
    BERG_TRY(central(space, order, p, m, len, mean, fn));
    /* exact zeros for the first central moments */
    size_t t = 1;
    for (size_t a = BERG__RANK(space); a-- > 0;) {
        m[t] = 0.0;
        t *= order + 1;
    }
    return BERG_OK;
}

/* kappa from the central moments mu (mu's first-order entries zeroed) by
 * the graded recursion: every cumulant it needs has a lower order */
static void cumulants_from_central(size_t d, size_t K, size_t len, const size_t *stride,
                                   const double *mu, double *k)
{
    double binom[MAX_ORDER + 1][MAX_ORDER + 1];
    for (size_t n = 0; n <= MAX_ORDER; n++) {
        binom[n][0] = binom[n][n] = 1.0;
        for (size_t r = 1; r < n; r++)
            binom[n][r] = binom[n - 1][r - 1] + binom[n - 1][r];
    }
    memset(k, 0, sizeof(double) * len);
    size_t alpha[BERG_MAX_RANK], beta[BERG_MAX_RANK], gam[BERG_MAX_RANK];
    for (size_t tot = 1; tot <= K; tot++) {
        for (size_t t = 0; t < len; t++) {
            if (unflatten(t, d, K, alpha) != tot)
                continue;
            size_t j = 0;
            while (alpha[j] == 0)
                j++;
            memcpy(beta, alpha, sizeof(size_t) * d);
            beta[j]--;
            /* kappa_alpha = mu_alpha - sum_{gamma <= beta, gamma != beta}
             *   C(beta, gamma) kappa_{gamma + e_j} mu_{beta - gamma} */
            double s = mu[t];
            memset(gam, 0, sizeof(size_t) * d);
            for (;;) {
                int is_beta = 1;
                for (size_t a = 0; a < d; a++)
                    is_beta &= gam[a] == beta[a];
                if (!is_beta) {
                    double cf = 1.0;
                    size_t tk = stride[j], tm = 0;
                    for (size_t a = 0; a < d; a++) {
                        cf *= binom[beta[a]][gam[a]];
                        tk += gam[a] * stride[a];
                        tm += (beta[a] - gam[a]) * stride[a];
                    }
                    s -= cf * k[tk] * mu[tm];
                }
                size_t a = d;
                while (a > 0 && gam[a - 1] == beta[a - 1]) {
                    gam[a - 1] = 0;
                    a--;
                }
                if (a == 0)
                    break;
                gam[a - 1]++;
            }
            k[t] = s;
        }
    }
}

berg_status berg_cumulants(const berg_space *space, size_t order, const double *p, double *kappa)
{
    static const char fn[] = "berg_cumulants";
    size_t len = 0;
    BERG_TRY(check_args(space, order, p, kappa, "kappa", fn, &len));
    const size_t d = BERG__RANK(space), K = order;
    double mean[BERG_MAX_RANK];
    berg_status st;
    double *mu = berg__alloc(2 * len, sizeof(double), fn);
    if (!mu)
        return berg_last_status();
    double *k = mu + len;
    BERG_TRY_GOTO(st, central(space, order, p, mu, len, mean, fn), fail);
    size_t stride[BERG_MAX_RANK];
    stride[d - 1] = 1;
    for (size_t a = d - 1; a-- > 0;)
        stride[a] = stride[a + 1] * (K + 1);
    for (size_t a = 0; a < d; a++)
        mu[stride[a]] = 0.0;
    cumulants_from_central(d, K, len, stride, mu, k);
    for (size_t a = 0; a < d; a++)
        k[stride[a]] = mean[a];
    BERG_TRY_GOTO(st, berg__check_result(space, k, len, fn, "kappa", "p"), fail);
    memcpy(kappa, k, sizeof(double) * len);
fail:
    berg__free(mu);
    return st;
}
