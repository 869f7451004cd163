/* Face stencils on the grid: Laplacian, log-mean mobilities, the weighted
 * divergence operator div(m g^{-1} grad .) used by the W2 geometry, and the
 * argument checks the functionals share. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metric/func_internal.h"

berg_status berg__check_normalized(const berg_space *space, const double *p, const char *fn,
                                   const char *name)
{
    double sum;
    BERG_TRY(berg__check_density(p, space->size, fn, name, &sum));
    double m = sum * space->weight;
    BERG_REQUIRE(fabs(m - 1.0) <= BERG__MASS_TOL, BERG_ERR_MASS,
                 "%s: density %s has mass %.17g; it must be normalized to 1 (within a "
                 "relative %g): call berg_space_normalize first",
                 fn, name, m, BERG__MASS_TOL);
    return BERG_OK;
}

berg_status berg__check_functional_args(const berg_space *space, const double *p,
                                        const double *q, const char *q_name, const void *out,
                                        const char *out_name, const char *fn)
{
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_normalized(space, p, fn, "p"));
    if (q_name)
        BERG_TRY(berg__check_normalized(space, q, fn, q_name));
    return berg__check_ptr(out, fn, out_name);
}

berg_status berg__check_potential_args(const berg_space *space, const double *p, const double *V,
                                       const void *out, const char *out_name, const char *fn)
{
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_normalized(space, p, fn, "p"));
    BERG_TRY(berg__check_finite(V, space->size, fn, "V"));
    return berg__check_ptr(out, fn, out_name);
}

/* the cell widths of a space, "h = (h_0, h_1, ...)", for messages */
static void widths(const berg_space *space, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "h = (");
    for (size_t a = 0; a < BERG__RANK(space) && used < len; a++)
        used += (size_t)snprintf(buf + used, len - used, "%s%g", a ? ", " : "", space->h[a]);
    if (used < len)
        snprintf(buf + used, len - used, ")");
}

berg_status berg__check_result(const berg_space *space, const double *a, size_t n,
                               const char *fn, const char *name, const char *inputs)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) {
            char h[160];
            widths(space, h, sizeof h);
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: %s[%zu] overflows the double range for this %s on this "
                               "space (cell widths %s)",
                               fn, name, i, inputs, h);
        }
    return BERG_OK;
}

berg_status berg__check_scaled(const berg_space *space, double v, double raw, const char *fn,
                               const char *name)
{
    if (isfinite(v) && (raw == 0.0 || fabs(v) >= DBL_MIN))
        return BERG_OK;
    char h[160];
    widths(space, h, sizeof h);
    return berg__error(BERG_ERR_DOMAIN,
                       "%s: %s %s the double range on this space (cell widths %s)", fn, name,
                       isfinite(v) ? "underflows" : "overflows", h);
}

berg_status berg__prefix_last_error(berg_status st, const char *fn, const char *context)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", berg_last_error());
    if (context)
        return berg__error(st, "%s: %s: %s", fn, context, msg);
    return berg__error(st, "%s: %s", fn, msg);
}

berg_status berg__require_diagonal_metric(const berg_space *space, const char *fn)
{
    if (space->diagonal)
        return BERG_OK;
    const size_t d = BERG__RANK(space);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
            BERG_REQUIRE(a == b || space->ginv[a * d + b] == 0.0, BERG_ERR_UNSUPPORTED,
                         "%s: the metric couples axes %zu and %zu; the face stencils of "
                         "gradients have no mixed-derivative terms, so only diagonal "
                         "metrics are supported",
                         fn, a, b);
    return BERG_OK;
}

berg_status berg__check_positive(const double *a, size_t n, const char *fn, const char *name)
{
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(a[i] > 0.0, BERG_ERR_DOMAIN,
                     "%s: %s[%zu] = %g; this quantity needs %s > 0 everywhere (its "
                     "logarithm enters)",
                     fn, name, i, a[i], name);
    return BERG_OK;
}

double berg__log_mean(double a, double b)
{
    if (a == b)
        return a;
    if (a <= 0.0 || b <= 0.0)
        return 0.0;
    /* (b - a) / ln(b / a) with ln(b/a) = log1p((b - a)/a): accurate when b ~ a */
    double x = (b - a) / a;
    return (b - a) / log1p(x);
}

void berg__laplacian(const berg_space *s, const double *f, double *out)
{
    memset(out, 0, sizeof(double) * s->size);
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        const double c = berg__axis_coef(s, a);
        BERG__FOR_FACES(s, a, lo, hi, {
            double flux = c * (f[hi] - f[lo]);
            out[lo] += flux;
            out[hi] -= flux;
        });
        if (s->bc[a] == BERG_DIRICHLET) {
            /* zero value outside: ghost = -f, flux through the wall -2 c f */
            BERG__FOR_WALLS(s, a, first, last, {
                out[first] -= 2.0 * c * f[first];
                out[last] -= 2.0 * c * f[last];
            });
        }
    }
}

void berg__face_mobility(const berg_space *s, const double *p, double floor, double *mob,
                         double *logs)
{
    for (size_t i = 0; i < s->size; i++)
        logs[i] = p[i] > 0.0 ? log(p[i]) : 0.0;
    memset(mob, 0, sizeof(double) * s->size * BERG__RANK(s));
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        double *m = mob + a * s->size;
        BERG__FOR_FACES(s, a, lo, hi, {
            m[lo] = berg__log_mean_from_logs(p[lo], p[hi], logs[lo], logs[hi]) + floor;
        });
    }
}

void berg__div_mobility(const berg_space *s, const double *mob, const double *u, double *out)
{
    memset(out, 0, sizeof(double) * s->size);
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        const double c = berg__axis_coef(s, a);
        const double *m = mob + a * s->size;
        BERG__FOR_FACES(s, a, lo, hi, {
            double flux = c * m[lo] * (u[hi] - u[lo]);
            out[lo] += flux;
            out[hi] -= flux;
        });
    }
}
