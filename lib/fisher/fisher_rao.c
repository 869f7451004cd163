/*
 * Fisher-Rao distances: closed form between Gaussians, tanh-sinh quadrature
 * of sqrt(I(theta)) for a one-parameter family.
 */
#include <float.h>
#include <math.h>

#include "fisher/internal.h"

berg_status berg_fisher_rao_gaussian(double mu1, double sigma1, double mu2, double sigma2,
                                     double *dist)
{
    static const char fn[] = "berg_fisher_rao_gaussian";
    BERG_TRY(berg__check_ptr(dist, fn, "dist"));
    BERG_REQUIRE(isfinite(mu1) && isfinite(mu2), BERG_ERR_NONFINITE,
                 "%s: mu1 = %g, mu2 = %g must be finite", fn, mu1, mu2);
    BERG_REQUIRE(isfinite(sigma1) && sigma1 > 0.0, BERG_ERR_DOMAIN,
                 "%s: sigma1 = %g must be finite and > 0", fn, sigma1);
    BERG_REQUIRE(isfinite(sigma2) && sigma2 > 0.0, BERG_ERR_DOMAIN,
                 "%s: sigma2 = %g must be finite and > 0", fn, sigma2);
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
    double num = hypot(M_SQRT1_2 * dm, ds);
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
        *dist = 2.0 * M_SQRT2 * asinh(z);
        return BERG_OK;
    }
    /* num / den beyond DBL_MAX (a sigma ratio beyond ~1e308, or means
     * ~1e308 sigmas apart): asinh z = ln 2 + ln z + O(z^-2) with z > 1e307,
     * ln z term by term */
    double lz = log(num) + log(scale) - (0.5 * log(sigma1) + 0.5 * log(sigma2) - M_LN2);
    *dist = 2.0 * M_SQRT2 * (M_LN2 + lz);
    return BERG_OK;
}

/* sqrt(I(theta)) with the callback's failures turned into statuses */
static berg_status eval_sqrt(berg_scalar_metric_fn metric, double theta, void *user_data,
                             double *f, const char *fn)
{
    double I = NAN;
    int rc = metric(theta, &I, user_data);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: metric returned %d at theta = %.17g", fn, rc,
                 theta);
    if (berg__fisher_callback_output(&I, 1, 0, fn, "metric") != BERG_OK) /* says where */
        return berg__error(berg_last_status(),
                           "%s: metric wrote %g at theta = %.17g (a node between a and b)", fn, I,
                           theta);
    BERG_REQUIRE(I >= 0.0, BERG_ERR_DOMAIN,
                 "%s: metric wrote a negative value %g at theta = %.17g", fn, I, theta);
    *f = sqrt(I);
    return BERG_OK;
}

/* sum over t = t0, t0 + step, ... (and -t) of the tanh-sinh terms on
 * [a, b] = c +- hw; *clamped: the largest term whose node had to be moved
 * off an endpoint */
static berg_status ts_sum(berg_scalar_metric_fn metric, double a, double b, double hw, double t0,
                          double step, void *user_data, double *sum, double *clamped,
                          const char *fn)
{
    double acc = 0.0;
    for (double t = t0; t <= 4.5; t += step) {
        double uu = M_PI_2 * sinh(t), ch = cosh(uu);
        double w = M_PI_2 * cosh(t) / (ch * ch);
        double gap = hw * exp(-uu) / ch; /* hw (1 - tanh(uu)) */
        if (t == 0.0) {
            double f;
            BERG_TRY(eval_sqrt(metric, a + hw, user_data, &f, fn));
            acc += w * f;
            continue;
        }
        /* a node closer to an endpoint than the spacing of doubles there
         * is moved to the nearest interior double (the endpoint itself is
         * never evaluated) */
        double xs[2] = {b - gap, a + gap};
        for (size_t e = 0; e < 2; e++) {
            int moved = !(xs[e] > a && xs[e] < b);
            if (moved)
                xs[e] = e == 0 ? nextafter(b, a) : nextafter(a, b);
            double f;
            BERG_TRY(eval_sqrt(metric, xs[e], user_data, &f, fn));
            acc += w * f;
            if (moved)
                *clamped = fmax(*clamped, w * f);
        }
    }
    *sum = acc;
    return BERG_OK;
}

berg_status berg_fisher_rao_distance(double a, double b, double *dist,
                                     berg_scalar_metric_fn metric, void *user_data)
{
    static const char fn[] = "berg_fisher_rao_distance";
    BERG_TRY(berg__check_ptr(dist, fn, "dist"));
    BERG_REQUIRE(metric != NULL, BERG_ERR_NULL, "%s: metric is NULL", fn);
    BERG_REQUIRE(isfinite(a) && isfinite(b), BERG_ERR_NONFINITE,
                 "%s: a = %g, b = %g must be finite", fn, a, b);
    if (a == b) {
        *dist = 0.0;
        return BERG_OK;
    }
    double lo = fmin(a, b), hi = fmax(a, b), hw = 0.5 * (hi - lo);
    double h = 1.0, sum, clamped = 0.0;
    BERG_TRY(ts_sum(metric, lo, hi, hw, 0.0, h, user_data, &sum, &clamped, fn));
    double prev = hw * h * sum;
    for (size_t level = 1; level <= 12; level++) {
        double add;
        h *= 0.5;
        BERG_TRY(ts_sum(metric, lo, hi, hw, h, 2.0 * h, user_data, &add, &clamped, fn));
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
