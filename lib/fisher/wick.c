/*
 * Posterior correlation functions (seed eq 43): Wick/Isserlis moments of
 * N(u*, I^{-1}/T), by the Stein recursion over index multiplicities instead
 * of an enumeration of the (2n-1)!! pairings; and Fisher-Rao distances.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fisher/internal.h"

#define WICK_MAX_STATES ((size_t)1 << 22)

berg_status berg_fisher_wick(size_t dim, const double *Iinv, double T, size_t order,
                             const size_t *idx, double *out)
{
    static const char fn[] = "berg_fisher_wick";
    berg_status s;
    size_t dd;
    if ((s = berg__check_ptr(Iinv, fn, "Iinv")) || (s = berg__check_ptr(out, fn, "out")) ||
        (s = berg__fisher_check_dim(dim, fn, "dim")) ||
        (s = berg__mul_size(dim, dim, &dd, fn, "Iinv")))
        return s;
    if (order > 0 && (s = berg__check_ptr(idx, fn, "idx")))
        return s;
    if (!isfinite(T) || !(T > 0.0))
        return berg__error(BERG_ERR_DOMAIN, "%s: T = %g must be finite and > 0", fn, T);
    if ((s = berg__fisher_check_sym(dim, Iinv, fn, "Iinv")))
        return s;
    if (order > WICK_MAX_STATES) /* there are at least order + 1 states */
        return berg__error(BERG_ERR_SIZE, "%s: order %zu exceeds 2^22", fn, order);
    for (size_t j = 0; j < order; j++)
        if (idx[j] >= dim)
            return berg__error(BERG_ERR_OUT_OF_RANGE, "%s: idx[%zu] = %zu is not below dim = %zu",
                               fn, j, idx[j], dim);
    if (order % 2) {
        *out = 0.0;
        return BERG_OK;
    }
    if (order == 0) {
        *out = 1.0;
        return BERG_OK;
    }
    /* distinct indices and their multiplicities */
    size_t *uniq = berg__alloc(3 * order, sizeof(size_t), fn);
    if (!uniq)
        return berg_last_status();
    size_t *mult = uniq + order, *stride = mult + order, nd = 0, nstates = 1;
    for (size_t j = 0; j < order; j++) {
        size_t c = 0;
        while (c < nd && uniq[c] != idx[j])
            c++;
        if (c == nd) {
            uniq[nd] = idx[j];
            mult[nd++] = 0;
        }
        mult[c]++;
    }
    for (size_t c = 0; c < nd; c++) {
        stride[c] = nstates;
        if (nstates > WICK_MAX_STATES / (mult[c] + 1)) {
            berg__free(uniq);
            return berg__error(BERG_ERR_SIZE,
                               "%s: order %zu with %zu distinct indices needs more than 2^22 "
                               "recursion states",
                               fn, order, nd);
        }
        nstates *= mult[c] + 1;
    }
    double *E = berg__alloc(nstates + nd * nd, sizeof(double), fn);
    size_t *k = berg__alloc(nd, sizeof(size_t), fn);
    if (!E || !k) {
        berg__free(E);
        berg__free(k);
        berg__free(uniq);
        return berg_last_status();
    }
    double *C = E + nstates;
    for (size_t a = 0; a < nd; a++)
        for (size_t b = 0; b < nd; b++) {
            size_t i = uniq[a] > uniq[b] ? uniq[a] : uniq[b];
            size_t j = uniq[a] > uniq[b] ? uniq[b] : uniq[a];
            C[a * nd + b] = Iinv[i * dim + j] / T; /* lower triangle; the covariance is Iinv / T */
        }
    memset(k, 0, nd * sizeof(size_t));
    size_t tot = 0;
    E[0] = 1.0;
    for (size_t st = 1; st < nstates; st++) {
        /* odometer: first index fastest, matching stride */
        for (size_t c = 0; c < nd; c++) {
            if (k[c] < mult[c]) {
                k[c]++;
                tot++;
                break;
            }
            tot -= k[c];
            k[c] = 0;
        }
        if (tot % 2) {
            E[st] = 0.0;
            continue;
        }
        size_t a = 0;
        while (k[a] == 0)
            a++;
        /* E[x_a x^{k'}] = sum_b C_ab k'_b E[x^{k' - e_b}],  k' = k - e_a */
        size_t sp = st - stride[a];
        double acc = 0.0;
        for (size_t b = 0; b < nd; b++) {
            size_t kb = k[b] - (b == a);
            if (kb)
                acc += C[a * nd + b] * (double)kb * E[sp - stride[b]];
        }
        E[st] = acc;
    }
    double r = E[nstates - 1];
    berg__free(k);
    berg__free(E);
    berg__free(uniq);
    if (!isfinite(r))
        return berg__error(BERG_ERR_NONFINITE, "%s: the moment overflows (order %zu)", fn, order);
    *out = r;
    return BERG_OK;
}

/* ---- Fisher-Rao distances ------------------------------------------------ */

berg_status berg_fisher_rao_gaussian(double mu1, double sigma1, double mu2, double sigma2,
                                     double *dist)
{
    static const char fn[] = "berg_fisher_rao_gaussian";
    berg_status s;
    if ((s = berg__check_ptr(dist, fn, "dist")))
        return s;
    if (!isfinite(mu1) || !isfinite(mu2))
        return berg__error(BERG_ERR_NONFINITE, "%s: mu1 = %g, mu2 = %g must be finite", fn, mu1,
                           mu2);
    if (!isfinite(sigma1) || !(sigma1 > 0.0))
        return berg__error(BERG_ERR_DOMAIN, "%s: sigma1 = %g must be finite and > 0", fn, sigma1);
    if (!isfinite(sigma2) || !(sigma2 > 0.0))
        return berg__error(BERG_ERR_DOMAIN, "%s: sigma2 = %g must be finite and > 0", fn, sigma2);
    /* z = num / (2 sqrt(sigma1 sigma2)), num = hypot(dmu / sqrt 2, dsigma),
     * computed without squares as scale * num / den, den = sqrt(sigma1
     * sigma2) / 2 (which cannot overflow). dsigma cannot overflow (both
     * sigmas are positive); dmu only when both means are beyond DBL_MAX / 2,
     * where halving them (and doubling scale) is exact. */
    double dm = mu1 - mu2, ds = sigma1 - sigma2, scale = 0.25;
    if (!isfinite(dm)) {
        dm = 0.5 * mu1 - 0.5 * mu2;
        ds *= 0.5;
        scale = 0.5;
    }
    double num = hypot(0.70710678118654752440 * dm, ds);
    if (num == 0.0) {
        *dist = 0.0;
        return BERG_OK;
    }
    double pr = sigma1 * sigma2, den;
    if (pr >= DBL_MIN && pr <= DBL_MAX) /* one rounding less */
        den = 0.5 * sqrt(pr);
    else
        den = (0.5 * sqrt(sigma1)) * sqrt(sigma2);
    double z = scale * (num / den);
    if (isfinite(z)) {
        *dist = 2.0 * sqrt(2.0) * asinh(z);
        return BERG_OK;
    }
    /* num / den beyond DBL_MAX (a sigma ratio beyond ~1e308, or means
     * ~1e308 sigmas apart): asinh z = ln 2 + ln z + O(z^-2) with z > 1e307,
     * ln z term by term */
    const double ln2 = 0.69314718055994530942;
    double lz = log(num) + log(scale) - (0.5 * log(sigma1) + 0.5 * log(sigma2) - ln2);
    *dist = 2.0 * sqrt(2.0) * (ln2 + lz);
    return BERG_OK;
}

/* sqrt(I(theta)) with the callback's failures turned into statuses */
static berg_status eval_sqrt(berg_metric1_fn metric, double theta, void *user_data, double *f,
                             const char *fn)
{
    double I = NAN;
    int rc = metric(theta, &I, user_data);
    if (rc != 0)
        return berg__error(BERG_ERR_CALLBACK, "%s: metric returned %d at theta = %.17g", fn, rc,
                           theta);
    if (!isfinite(I))
        return berg__error(BERG_ERR_CALLBACK, "%s: metric wrote I = %g at theta = %.17g", fn, I,
                           theta);
    if (I < 0.0)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: metric wrote a negative I = %g at theta = %.17g", fn, I, theta);
    *f = sqrt(I);
    return BERG_OK;
}

/* sum over t = t0, t0 + step, ... (and -t) of the tanh-sinh terms on
 * [a, b] = c +- hw */
static berg_status ts_sum(berg_metric1_fn metric, double a, double b, double hw, double t0,
                          double step, void *user_data, double *sum, double *clamped,
                          const char *fn)
{
    const double pi2 = 0.5 * 3.14159265358979323846;
    double acc = 0.0;
    for (double t = t0; t <= 4.5; t += step) {
        double uu = pi2 * sinh(t), ch = cosh(uu);
        double w = pi2 * cosh(t) / (ch * ch);
        double gap = hw * exp(-uu) / ch; /* hw (1 - tanh(uu)) */
        if (t == 0.0) {
            double f;
            berg_status s = eval_sqrt(metric, a + hw, user_data, &f, fn);
            if (s)
                return s;
            acc += w * f;
            continue;
        }
        /* a node closer to an endpoint than the spacing of doubles there
         * is moved to the nearest interior double (the endpoint itself is
         * never evaluated) */
        double xs[2] = {b - gap, a + gap};
        for (int e = 0; e < 2; e++) {
            int moved = !(xs[e] > a && xs[e] < b);
            if (moved)
                xs[e] = e == 0 ? nextafter(b, a) : nextafter(a, b);
            double f;
            berg_status s = eval_sqrt(metric, xs[e], user_data, &f, fn);
            if (s)
                return s;
            acc += w * f;
            if (moved)
                *clamped = fmax(*clamped, w * f);
        }
    }
    *sum = acc;
    return BERG_OK;
}

berg_status berg_fisher_rao_distance(berg_metric1_fn metric, double a, double b, double *dist,
                                     void *user_data)
{
    static const char fn[] = "berg_fisher_rao_distance";
    berg_status s;
    if ((s = berg__check_ptr(dist, fn, "dist")))
        return s;
    if (!metric)
        return berg__error(BERG_ERR_NULL, "%s: metric is NULL", fn);
    if (!isfinite(a) || !isfinite(b))
        return berg__error(BERG_ERR_NONFINITE, "%s: a = %g, b = %g must be finite", fn, a, b);
    if (a == b) {
        *dist = 0.0;
        return BERG_OK;
    }
    double lo = fmin(a, b), hi = fmax(a, b), hw = 0.5 * (hi - lo);
    double h = 1.0, sum, clamped = 0.0;
    if ((s = ts_sum(metric, lo, hi, hw, 0.0, h, user_data, &sum, &clamped, fn)))
        return s;
    double prev = hw * h * sum;
    for (int level = 1; level <= 12; level++) {
        double add;
        h *= 0.5;
        if ((s = ts_sum(metric, lo, hi, hw, h, 2.0 * h, user_data, &add, &clamped, fn)))
            return s;
        sum += add;
        double cur = hw * h * sum;
        /* nodes that had to be moved off an endpoint with a weight that
         * matters limit the accuracy to about sqrt(ulp): settle for 1e-7 */
        double tol = clamped * hw > 1e-15 * fabs(cur) ? 1e-7 : 1e-12;
        if (level >= 3 && fabs(cur - prev) <= tol * fabs(cur)) {
            *dist = cur;
            return BERG_OK;
        }
        prev = cur;
    }
    return berg__error(BERG_ERR_NO_CONVERGENCE,
                       "%s: tanh-sinh quadrature did not settle to 1e-12 in 12 levels (last "
                       "estimate %.17g): is sqrt(I) integrable on [%g, %g]?",
                       fn, prev, lo, hi);
}
