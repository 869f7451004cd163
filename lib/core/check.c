/* Argument validation shared by every module, and accurate summation. */
#include <math.h>
#include <stdint.h>

#include "core/internal.h"

berg_status berg__check_ptr(const void *p, const char *fn, const char *name)
{
    if (p == NULL)
        return berg__error(BERG_ERR_NULL, "%s: %s is NULL", fn, name);
    return BERG_OK;
}

berg_status berg__check_finite(const double *a, size_t n, const char *fn, const char *name)
{
    if (a == NULL)
        return berg__error(BERG_ERR_NULL, "%s: %s is NULL", fn, name);
    for (size_t i = 0; i < n; i++)
        if (BERG_UNLIKELY(!isfinite(a[i])))
            return berg__error(BERG_ERR_NONFINITE, "%s: %s[%zu] = %g is not finite", fn, name, i,
                               a[i]);
    return BERG_OK;
}

double berg__abs_sum(const double *a, size_t n)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += fabs(a[i + (size_t)k]);
    for (; i < n; i++)
        s[0] += fabs(a[i]);
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* arrays of at least this many values are summed in ABS_SUM_RANGES fixed
 * ranges, on the caller's threads */
#define ABS_SUM_SPLIT ((size_t)1 << 20)
#define ABS_SUM_RANGES 16

typedef struct abs_sum_job {
    const double *a;
    double part[ABS_SUM_RANGES];
} abs_sum_job;

static void abs_sum_range(void *ctx, size_t begin, size_t end, size_t range)
{
    abs_sum_job *j = ctx;
    j->part[range] = berg__abs_sum(j->a + begin, end - begin);
}

double berg__abs_sum_mt(const double *a, size_t n, size_t nthreads)
{
    if (n < ABS_SUM_SPLIT)
        return berg__abs_sum(a, n);
    abs_sum_job j = {a, {0}};
    berg__parallel_ranges(n, ABS_SUM_RANGES, nthreads, abs_sum_range, &j);
    double s = 0.0;
    for (size_t r = 0; r < ABS_SUM_RANGES; r++)
        s += j.part[r];
    return s;
}

berg_status berg__check_nonneg(const double *a, size_t n, const char *fn, const char *name)
{
    if (a == NULL)
        return berg__error(BERG_ERR_NULL, "%s: %s is NULL", fn, name);
    /* one fused pass; the rare failure is located by a second pass */
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= !(a[i] >= 0.0 && a[i] < HUGE_VAL);
    if (BERG_UNLIKELY(bad)) {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(a[i]))
                return berg__error(BERG_ERR_NONFINITE, "%s: %s[%zu] = %g is not finite", fn, name,
                                   i, a[i]);
            if (a[i] < 0.0)
                return berg__error(BERG_ERR_NEGATIVE,
                                   "%s: density %s has a negative value %g at index %zu", fn, name,
                                   a[i], i);
        }
    }
    return BERG_OK;
}

berg_status berg__check_density(const double *a, size_t n, const char *fn, const char *name,
                                double *sum)
{
    berg_status s = berg__check_nonneg(a, n, fn, name);
    if (s != BERG_OK)
        return s;
    double m = berg__sum(a, n);
    if (!(m > 0.0) || !isfinite(m))
        return berg__error(BERG_ERR_MASS, "%s: density %s has total mass %g (it must be positive "
                           "and finite)", fn, name, m);
    if (sum)
        *sum = m;
    return BERG_OK;
}

berg_status berg__check_symmetric(const double *A, size_t d, double rtol, const char *fn,
                                  const char *name)
{
    berg_status st = berg__check_finite(A, d * d, fn, name);
    if (st != BERG_OK)
        return st;
    double amax = 0.0;
    for (size_t i = 0; i < d * d; i++)
        amax = fmax(amax, fabs(A[i]));
    for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++)
            if (fabs(A[i * d + j] - A[j * d + i]) > rtol * amax)
                return berg__error(BERG_ERR_NOT_SPD,
                                   "%s: %s is not symmetric: %s[%zu][%zu] = %.17g but "
                                   "%s[%zu][%zu] = %.17g",
                                   fn, name, name, i, j, A[i * d + j], name, j, i, A[j * d + i]);
    return BERG_OK;
}

berg_status berg__check_time(double t, const char *fn, const char *name)
{
    if (!isfinite(t) || t < 0.0)
        return berg__error(BERG_ERR_TIME, "%s: %s = %g must be finite and >= 0", fn, name, t);
    return BERG_OK;
}

berg_status berg__mul_size(size_t a, size_t b, size_t *out, const char *fn, const char *what)
{
    if (b != 0 && a > SIZE_MAX / b)
        return berg__error(BERG_ERR_SIZE, "%s: %s %zu x %zu overflows size_t", fn, what, a, b);
    *out = a * b;
    return BERG_OK;
}

/* Blocks of 128 are summed with eight independent accumulators (vectorised),
 * blocks are combined pairwise: error grows like log2(n / 128). */
#define LEAF 128
static double sum_leaf(const double *a, size_t n)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a[i + k];
    double r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++)
        r += a[i];
    return r;
}

double berg__sum(const double *a, size_t n)
{
    if (n <= LEAF)
        return sum_leaf(a, n);
    size_t half = (n / 2 + 7) & ~(size_t)7;
    return berg__sum(a, half) + berg__sum(a + half, n - half);
}

berg_status berg__check_callback_output(const double *a, size_t n, const char *fn,
                                        const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (BERG_UNLIKELY(!isfinite(a[i])))
            return berg__error(BERG_ERR_CALLBACK, "%s: %s returned %g at index %zu (not finite)",
                               fn, what, a[i], i);
    return BERG_OK;
}
