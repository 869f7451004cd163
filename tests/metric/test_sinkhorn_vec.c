/* The Sinkhorn solver's array exp and log (glibc's libmvec AVX2 variants
 * where the CPU has them): within 4 ulp of libm's scalar functions over
 * their whole range, the special values exact, aliasing allowed. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "metric/sinkhorn_internal.h"
#include "testutil.h"

/* |a - b| in units in the last place of b */
static double ulps(double a, double b)
{
    if (a == b)
        return 0.0;
    if (!isfinite(a) || !isfinite(b))
        return INFINITY;
    return fabs(a - b) / (nextafter(fabs(b), INFINITY) - fabs(b));
}

int main(void)
{
    size_t n = 200003; /* not a multiple of 4: the scalar tail runs too */
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        x[i] = -745.0 + 1454.0 * (double)i / (double)(n - 1);
    berg__sinkhorn_vexp(y, x, n);
    for (size_t i = 0; i < n; i++)
        if (exp(x[i]) >= DBL_MIN) /* subnormal results: absolute accuracy */
            worst = fmax(worst, ulps(y[i], exp(x[i])));
        else
            worst = fmax(worst, fabs(y[i] - exp(x[i])) / DBL_MIN / DBL_EPSILON);
    CHECK(worst <= 4.0, "exp within 4 ulp (%.2f)", worst);
    worst = 0.0;
    for (size_t i = 0; i < n; i++)
        x[i] = ldexp(1.0 + (double)(i % 997) / 997.0, (int)(i % 2090) - 1045);
    berg__sinkhorn_vlog(y, x, n);
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, ulps(y[i], log(x[i])));
    CHECK(worst <= 4.0, "log within 4 ulp (%.2f)", worst);
    double sp[8] = {0.0, -0.0, INFINITY, -INFINITY, 1.0, NAN, 710.0, -746.0}, r[8];
    berg__sinkhorn_vexp(r, sp, 8);
    CHECK(r[0] == 1.0 && r[1] == 1.0 && r[2] == INFINITY && r[3] == 0.0 && ulps(r[4], exp(1.0)) <= 4.0 &&
              isnan(r[5]) && r[6] == INFINITY && r[7] == 0.0,
          "exp special values");
    berg__sinkhorn_vlog(r, sp, 8); /* in place below */
    CHECK(r[0] == -INFINITY && r[1] == -INFINITY && r[2] == INFINITY && isnan(r[3]) &&
              r[4] == 0.0 && isnan(r[5]),
          "log special values");
    /* -inf (exp) and 0 (log) in every lane position among ordinary values:
     * those lanes exact, the others libmvec's */
    int ok_e = 1, ok_l = 1;
    for (size_t i = 0; i < 64; i++)
        x[i] = (i * 7) % 3 == 0 ? -INFINITY : -1.0 - 0.1 * (double)i;
    berg__sinkhorn_vexp(y, x, 64);
    for (size_t i = 0; i < 64; i++)
        ok_e &= x[i] == -INFINITY ? y[i] == 0.0 : ulps(y[i], exp(x[i])) <= 4.0;
    CHECK(ok_e, "exp of -inf among finite lanes");
    for (size_t i = 0; i < 64; i++)
        x[i] = (i * 5) % 3 == 1 ? (i % 2 ? -0.0 : 0.0) : 0.3 + 0.1 * (double)i;
    berg__sinkhorn_vlog(y, x, 64);
    for (size_t i = 0; i < 64; i++)
        ok_l &= x[i] == 0.0 ? y[i] == -INFINITY : ulps(y[i], log(x[i])) <= 4.0;
    CHECK(ok_l, "log of +-0 among positive lanes");
    for (size_t i = 0; i < 8; i++)
        x[i] = 0.5 * (double)(i + 1);
    berg__sinkhorn_vlog(x, x, 8);
    CHECK(ulps(x[7], log(4.0)) <= 4.0, "in place");
    free(x);
    free(y);
    return test_summary("sinkhorn-vec");
}
