/*
 * tests/testutil.h - assertions with tolerances for libberg's C tests, in
 * the manner of gsl_test_rel: every check prints on failure, the summary
 * line counts them, and main returns test_summary() (non-zero on failure).
 */
#ifndef BERG_TESTUTIL_H
#define BERG_TESTUTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berg.h"

static int tu_checks = 0, tu_failures = 0;

static void tu_report(int ok, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void tu_report(int ok, const char *file, int line, const char *fmt, ...)
{
    tu_checks++;
    if (ok)
        return;
    tu_failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* CHECK(condition, "what") */
#define CHECK(cond, ...) tu_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* format a description into a buffer (descriptions take printf arguments) */
#define TU_WHAT(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

/* CHECK_REL(got, want, rtol, "what %d", i): |got - want| <= rtol * |want|
 * (absolute when want == 0) */
#define CHECK_REL(got, want, rtol, ...)                                                            \
    do {                                                                                           \
        char tu_w_[256];                                                                           \
        TU_WHAT(tu_w_, __VA_ARGS__);                                                               \
        tu_rel((got), (want), (rtol), tu_w_, __FILE__, __LINE__);                                  \
    } while (0)
static inline void tu_rel(double got, double want, double rtol, const char *what, const char *file,
                          int line)
{
    double err = fabs(got - want), scale = (want == 0.0) ? 1.0 : fabs(want);
    /* a non-finite want would make every got pass (inf <= rtol * inf) */
    tu_report(isfinite(got) && isfinite(want) && err <= rtol * scale, file, line,
              "%s: got %.17g, want %.17g (relative error %.3g > %.3g)", what, got, want,
              err / scale, rtol);
}

/* CHECK_ABS(got, want, atol, "what"): |got - want| <= atol */
#define CHECK_ABS(got, want, atol, ...)                                                            \
    do {                                                                                           \
        char tu_w_[256];                                                                           \
        TU_WHAT(tu_w_, __VA_ARGS__);                                                               \
        tu_abs((got), (want), (atol), tu_w_, __FILE__, __LINE__);                                  \
    } while (0)
static inline void tu_abs(double got, double want, double atol, const char *what, const char *file,
                          int line)
{
    double err = fabs(got - want);
    tu_report(isfinite(got) && isfinite(want) && err <= atol, file, line,
              "%s: got %.17g, want %.17g (error %.3g > %.3g)", what, got, want, err, atol);
}

/* CHECK_STATUS(call, want, "what"): the call returned want; a failure must
 * also leave a detail message */
#define CHECK_STATUS(got, want, ...)                                                               \
    do {                                                                                           \
        berg_status tu_s_ = (got);                                                                 \
        char tu_w_[256];                                                                           \
        TU_WHAT(tu_w_, __VA_ARGS__);                                                               \
        tu_status(tu_s_, (want), tu_w_, __FILE__, __LINE__);                                       \
    } while (0)
static inline void tu_status(berg_status got, berg_status want, const char *what, const char *file,
                             int line)
{
    tu_report(got == want, file, line, "%s: status %d (%s), want %d (%s); last error: %s", what,
              (int)got, berg_status_string(got), (int)want, berg_status_string(want),
              berg_last_error());
    if (want != BERG_OK && got == want)
        tu_report(berg_last_error()[0] != '\0' && berg_last_status() == want, file, line,
                  "%s: failure left no detail message", what);
}

/* tu_space(ndim, n, lower, upper, bc, metric): berg_space_create, checked
 * (a failure is reported at the caller's line; NULL is returned then) */
static inline berg_space *tu_space_at(const char *file, int line, int ndim, const size_t *n,
                                      const double *lower, const double *upper,
                                      const berg_boundary *bc, const double *metric)
{
    berg_space *s = NULL;
    tu_status(berg_space_create(&s, ndim, n, lower, upper, bc, metric), BERG_OK,
              "berg_space_create", file, line);
    return s;
}
#define tu_space(ndim, n, lower, upper, bc, metric)                                                \
    tu_space_at(__FILE__, __LINE__, (ndim), (n), (lower), (upper), (bc), (metric))

/* n uninitialised doubles (malloc); aborts when out of memory */
static inline double *tu_vec(size_t n)
{
    double *v = malloc(n * sizeof(double));
    if (v == NULL)
        abort();
    return v;
}

/* the last error message mentions a fragment (argument name, index) */
#define CHECK_MESSAGE(fragment, what)                                                              \
    tu_report(strstr(berg_last_error(), (fragment)) != NULL, __FILE__, __LINE__,                   \
              "%s: message \"%s\" does not mention \"%s\"", (what), berg_last_error(), (fragment))

/* max_i |a_i - b_i| */
static inline double tu_max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (!(d <= m))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* an array is still full of the sentinel it was filled with */
static inline int tu_untouched(const double *a, size_t n, double sentinel)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &sentinel, sizeof sentinel) != 0)
            return 0;
    return 1;
}

static inline void tu_fill(double *a, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        a[i] = v;
}

/* a small reproducible generator for test data (splitmix64) */
static inline double tu_uniform(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* max_i |a_i| */
static inline double tu_max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* the coordinates x[0 .. rank-1] of the centre of grid cell k (C order) */
static inline void tu_grid_point(const berg_space *s, size_t k, double *x)
{
    size_t d = berg_space_rank(s), n[8];
    double lo[8], hi[8];
    berg_space_shape(s, n);
    berg_space_bounds(s, lo, hi);
    for (size_t a = d; a-- > 0;) {
        size_t i = k % n[a];
        k /= n[a];
        x[a] = lo[a] + ((double)i + 0.5) * (hi[a] - lo[a]) / (double)n[a];
    }
}

/* p = the Gaussian N(mu, Sigma) on a grid of rank 1 or 2, as a density with
 * respect to Vol (berg_space_normalize: divided by its grid mass) */
static inline void tu_gaussian(const berg_space *s, const double *mu, const double *Sig, double *p)
{
    size_t d = berg_space_rank(s);
    double P[4];
    if (d == 1) {
        P[0] = 1.0 / Sig[0];
    } else {
        double det = Sig[0] * Sig[3] - Sig[1] * Sig[2];
        P[0] = Sig[3] / det;
        P[1] = P[2] = -Sig[1] / det;
        P[3] = Sig[0] / det;
    }
    for (size_t k = 0; k < berg_space_size(s); k++) {
        double x[2];
        tu_grid_point(s, k, x);
        double q = 0.0;
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++)
                q += (x[a] - mu[a]) * P[a * d + b] * (x[b] - mu[b]);
        p[k] = exp(-0.5 * q);
    }
    berg_space_normalize(s, p, NULL);
}

/* tu_line(n, lo, hi, bc): a 1-D space of n cells on [lo, hi], checked as
 * tu_space */
static inline berg_space *tu_line_at(const char *file, int line, size_t n, double lo, double hi,
                                     berg_boundary bc)
{
    return tu_space_at(file, line, 1, &n, &lo, &hi, &bc, NULL);
}
#define tu_line(n, lo, hi, bc) tu_line_at(__FILE__, __LINE__, (n), (lo), (hi), (bc))

/* p = the 1-D Gaussian N(m, v) (v the variance), as tu_gaussian */
static inline void tu_gaussian1(const berg_space *s, double m, double v, double *p)
{
    tu_gaussian(s, &m, &v, p);
}

/* KL(p || q) = sum_i p_i ln(p_i / q_i) times the cell weight, with p
 * normalized by its own grid mass (q taken as given; p_i = 0 terms are 0) */
static inline double tu_kl(const berg_space *s, const double *p, const double *q)
{
    size_t n = berg_space_size(s);
    double m, sum = 0.0, w = berg_space_cell_weight(s);
    berg_space_integrate(s, p, &m);
    for (size_t i = 0; i < n; i++)
        if (p[i] > 0)
            sum += p[i] / m * log((p[i] / m) / q[i]);
    return sum * w;
}

static inline int test_summary(const char *name)
{
    printf("%s: %d checks, %d passed, %d failed\n", name, tu_checks, tu_checks - tu_failures,
           tu_failures);
    return tu_failures ? 1 : 0;
}

#endif
