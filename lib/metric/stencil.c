/* Face stencils on the grid: Laplacian, log-mean mobilities, the weighted
 * divergence operator div(m g^{-1} grad .) used by the W2 geometry. */
#include <math.h>
#include <string.h>

#include "metric/func_internal.h"

berg_status berg__func_density(const berg_space *space, const double *p, const char *fn,
                               const char *name, double *mass)
{
    double sum;
    berg_status st = berg__check_density(p, space->size, fn, name, &sum);
    if (st)
        return st;
    double m = sum * space->weight;
    if (!(fabs(m - 1.0) <= BERG__MASS_TOL))
        return berg__error(BERG_ERR_MASS,
                           "%s: density %s has mass %.17g; it must be normalized to 1 (within a "
                           "relative %g): call berg_space_normalize first",
                           fn, name, m, BERG__MASS_TOL);
    if (mass)
        *mass = m;
    return BERG_OK;
}

berg_status berg__func_diagonal(const berg_space *space, const char *fn)
{
    if (space->diagonal)
        return BERG_OK;
    int d = space->ndim;
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++)
            if (a != b && space->ginv[a * d + b] != 0.0)
                return berg__error(BERG_ERR_UNSUPPORTED,
                                   "%s: the metric couples axes %d and %d; the face stencils of "
                                   "gradients have no mixed-derivative terms, so only diagonal "
                                   "metrics are supported",
                                   fn, a, b);
    return BERG_OK;
}

berg_status berg__func_positive(const double *a, size_t n, const char *fn, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] > 0.0))
            return berg__error(BERG_ERR_DOMAIN,
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
    for (int a = 0; a < s->ndim; a++) {
        const double c = berg__axis_coef(s, a);
        BERG__FOR_FACES(s, a, lo, hi, {
            double flux = c * (f[hi] - f[lo]);
            out[lo] += flux;
            out[hi] -= flux;
        });
        if (s->bc[a] == BERG_DIRICHLET) {
            /* zero value outside: ghost = -f, flux through the wall -2 c f */
            const size_t st = s->stride[a], n = s->n[a], outer = s->size / (n * st);
            for (size_t o = 0; o < outer; o++)
                for (size_t j = 0; j < st; j++) {
                    size_t first = o * n * st + j, last = first + (n - 1) * st;
                    out[first] -= 2.0 * c * f[first];
                    out[last] -= 2.0 * c * f[last];
                }
        }
    }
}

void berg__face_mobility(const berg_space *s, const double *p, double floor, double *mob,
                         double *logs)
{
    for (size_t i = 0; i < s->size; i++)
        logs[i] = p[i] > 0.0 ? log(p[i]) : 0.0;
    memset(mob, 0, sizeof(double) * s->size * (size_t)s->ndim);
    for (int a = 0; a < s->ndim; a++) {
        double *m = mob + (size_t)a * s->size;
        BERG__FOR_FACES(s, a, lo, hi,
                        { m[lo] = berg__log_mean_l(p[lo], p[hi], logs[lo], logs[hi]) + floor; });
    }
}

void berg__div_mobility(const berg_space *s, const double *mob, const double *u, double *out)
{
    memset(out, 0, sizeof(double) * s->size);
    for (int a = 0; a < s->ndim; a++) {
        const double c = berg__axis_coef(s, a);
        const double *m = mob + (size_t)a * s->size;
        BERG__FOR_FACES(s, a, lo, hi, {
            double flux = c * m[lo] * (u[hi] - u[lo]);
            out[lo] += flux;
            out[hi] -= flux;
        });
    }
}
