/*
 * fuzz/fuzz_common.h - what every libFuzzer harness of libberg shares:
 *
 *  - a decoder that turns the fuzzer's bytes into arguments (bounded counts,
 *    doubles drawn from a mix of moderate values, extreme values such as
 *    1e-310, 1e300, DBL_MAX, NaN and inf, and raw bit patterns);
 *  - a space decoder (any rank 1..4, sizes, bounds, boundaries and metrics);
 *  - the checks of the library's promises. A broken promise prints what was
 *    broken and calls abort(), which libFuzzer reports as a crash and saves
 *    the input:
 *      status OK      => outputs finite (and the per-harness promises:
 *                        masses, signs, symmetry);
 *      status failure => a known status, berg_last_status() equals it,
 *                        berg_last_error() starts with "<function>:" (the
 *                        function the caller called), and every output the
 *                        caller owns is untouched (sentinel-filled buffers).
 *
 * Sizes are bounded so that one execution takes milliseconds.
 */
#ifndef BERG_FUZZ_COMMON_H
#define BERG_FUZZ_COMMON_H

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- broken promises ------------------------------------------------------ */

/* what the harness decoded so far, printed with a broken promise */
static char fz_ctx[16384];
static size_t fz_ctx_len;

static inline void fz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fz_note(const char *fmt, ...)
{
    if (fz_ctx_len >= sizeof fz_ctx - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(fz_ctx + fz_ctx_len, sizeof fz_ctx - fz_ctx_len, fmt, ap);
    va_end(ap);
    if (k > 0)
        fz_ctx_len += (size_t)k;
    if (fz_ctx_len > sizeof fz_ctx - 1)
        fz_ctx_len = sizeof fz_ctx - 1;
}

static inline void fz_note_array(const char *name, const double *x, size_t n)
{
    fz_note(" %s[%zu] = {", name, n);
    for (size_t i = 0; i < n && i < 64; i++)
        fz_note("%s%.17g", i ? ", " : "", x[i]);
    fz_note("%s}", n > 64 ? ", ..." : "");
}

static inline void fz_reset(void)
{
    fz_ctx_len = 0;
    fz_ctx[0] = '\0';
}

/* FZ_VERBOSE=1 in the environment: print what the last input decoded to */
static void fz_print_ctx(void) { fprintf(stderr, "last input:%s\n", fz_ctx); }
__attribute__((constructor)) static void fz_verbose_init(void)
{
    const char *v = getenv("FZ_VERBOSE");
    if (v != NULL && v[0] == '1')
        atexit(fz_print_ctx);
}

#define FZ_FAIL(...)                                                                              \
    do {                                                                                          \
        fprintf(stderr, "BROKEN PROMISE %s:%d: ", __FILE__, __LINE__);                            \
        fprintf(stderr, __VA_ARGS__);                                                             \
        fprintf(stderr, "\n  last error: %s\n  input:%s\n", berg_last_error(), fz_ctx);          \
        abort();                                                                                  \
    } while (0)

#define FZ_CHECK(cond, ...)                                                                       \
    do {                                                                                          \
        if (!(cond))                                                                              \
            FZ_FAIL(__VA_ARGS__);                                                                 \
    } while (0)

/* ---- the input decoder ---------------------------------------------------- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_byte(fz_in *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

static inline uint16_t fz_u16(fz_in *f)
{
    uint16_t lo = fz_byte(f);
    return (uint16_t)(lo | (uint16_t)(fz_byte(f) << 8));
}

/* a count in [lo, hi] */
static inline size_t fz_range(fz_in *f, size_t lo, size_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (size_t)fz_byte(f) % (hi - lo + 1);
}

static const double fz_special[] = {
    0.0,     -0.0,     1.0,      -1.0,     0.5,      2.0,      1e-300,  -1e-300,
    1e300,   -1e300,   DBL_MAX,  -DBL_MAX, DBL_MIN,  4.9e-324, 1e-310,  -1e-310,
    NAN,     INFINITY, -INFINITY, 1e150,   1e-150,   1e20,     1e-20,   1e8,
    1e-8,    1e307,    3.141592653589793, 1e-3, 1e3, 0.1,      10.0,    100.0,
};
#define FZ_NSPECIAL (sizeof fz_special / sizeof fz_special[0])

/* any double: mostly moderate values, often extreme ones, sometimes raw bits */
static inline double fz_double(fz_in *f)
{
    uint8_t sel = fz_byte(f);
    if (sel < 128)
        return (double)(int16_t)fz_u16(f) / 1024.0; /* [-32, 32), multiples of 2^-10 */
    if (sel < 192)
        return fz_special[sel % FZ_NSPECIAL];
    if (sel < 232) { /* a moderate mantissa times 10^e, e in [-330, 330] */
        double m = (double)(int16_t)fz_u16(f) / 4096.0;
        int e = (int)(fz_u16(f) % 661) - 330;
        return m * pow(10.0, (double)e);
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)fz_byte(f) << (8 * i);
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* a value meant to be >= 0: |fz_double| most of the time, any value sometimes */
static inline double fz_nonneg(fz_in *f)
{
    uint8_t sel = fz_byte(f);
    double x = fz_double(f);
    return sel < 240 ? fabs(x) : x;
}

/* an array of n values: a "mode" byte chooses how they are drawn */
enum { FZ_ANY = 0, FZ_NONNEG = 1, FZ_POSITIVE_SMOOTH = 2 };
static inline void fz_array(fz_in *f, size_t n, double *x)
{
    uint8_t mode = fz_byte(f) % 8;
    if (mode == 0) { /* anything */
        for (size_t i = 0; i < n; i++)
            x[i] = fz_double(f);
    } else if (mode <= 4) { /* >= 0 (mostly), any magnitude */
        for (size_t i = 0; i < n; i++)
            x[i] = fz_nonneg(f);
    } else if (mode <= 6) { /* positive moderate values, one byte each */
        for (size_t i = 0; i < n; i++)
            x[i] = 0.01 + (double)fz_byte(f) / 16.0;
    } else { /* a constant times a scale: tests huge or tiny but uniform values */
        double s = fabs(fz_double(f));
        for (size_t i = 0; i < n; i++)
            x[i] = s * (1.0 + (double)(fz_byte(f) % 4));
    }
}

/* ---- spaces --------------------------------------------------------------- */

typedef struct fz_space_args {
    size_t ndim;
    size_t n[4];
    double lower[4], upper[4];
    berg_boundary bc[4];
    int has_bc, has_metric;
    double metric[16];
} fz_space_args;

/*
 * Decode the arguments of berg_space_create: rank 1..max_rank, each axis
 * 1..max_n cells (product bounded by max_size), bounds from fz_double
 * (or a moderate box most of the time), boundary kinds (sometimes an
 * invalid value), and no metric, a diagonal one, a full symmetric one or
 * arbitrary values.
 */
static inline void fz_space_decode(fz_in *f, size_t max_rank, size_t max_n, size_t max_size,
                                   fz_space_args *a)
{
    memset(a, 0, sizeof *a);
    a->ndim = fz_range(f, 1, max_rank);
    size_t size = 1;
    for (size_t i = 0; i < a->ndim; i++) {
        size_t cap = max_size / size;
        if (cap > max_n)
            cap = max_n;
        if (cap < 1)
            cap = 1;
        a->n[i] = fz_range(f, 1, cap);
        size *= a->n[i];
        uint8_t bsel = fz_byte(f);
        if (bsel < 160) { /* a moderate box */
            a->lower[i] = -(double)(1 + bsel % 8);
            a->upper[i] = (double)(1 + (bsel / 8) % 8);
        } else if (bsel < 224) { /* lower, and a width */
            a->lower[i] = fz_double(f);
            a->upper[i] = a->lower[i] + fabs(fz_double(f));
        } else {
            a->lower[i] = fz_double(f);
            a->upper[i] = fz_double(f);
        }
        uint8_t b = fz_byte(f);
        a->bc[i] = (berg_boundary)(b < 252 ? b % 3 : b);
    }
    a->has_bc = fz_byte(f) < 224;
    uint8_t msel = fz_byte(f) % 8;
    size_t d = a->ndim;
    if (msel < 4) {
        a->has_metric = 0;
    } else if (msel < 6) { /* diagonal */
        a->has_metric = 1;
        for (size_t i = 0; i < d; i++)
            a->metric[i * d + i] = msel == 4 ? 0.25 + (double)fz_byte(f) / 32.0 : fz_double(f);
    } else if (msel == 6) { /* symmetric, diagonally dominant or not */
        a->has_metric = 1;
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++) {
                double v = i == j ? 1.0 + (double)fz_byte(f) / 16.0
                                  : ((double)fz_byte(f) - 128.0) / 64.0;
                a->metric[i * d + j] = a->metric[j * d + i] = v;
            }
    } else { /* anything */
        a->has_metric = 1;
        for (size_t i = 0; i < d * d; i++)
            a->metric[i] = fz_double(f);
    }
    fz_note(" space: ndim %zu", d);
    for (size_t i = 0; i < d; i++)
        fz_note(" | axis %zu: n %zu [%.17g, %.17g] bc %d", i, a->n[i], a->lower[i], a->upper[i],
                a->has_bc ? (int)a->bc[i] : 0);
    if (a->has_metric)
        fz_note_array("metric", a->metric, d * d);
}

/* ---- promises ------------------------------------------------------------- */

static inline int fz_all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

#define FZ_SENTINEL_BYTE 0xA5

static inline void fz_fill(void *buf, size_t bytes) { memset(buf, FZ_SENTINEL_BYTE, bytes); }

static inline int fz_untouched(const void *buf, size_t bytes)
{
    const unsigned char *b = buf;
    for (size_t i = 0; i < bytes; i++)
        if (b[i] != FZ_SENTINEL_BYTE)
            return 0;
    return 1;
}

/* a handle pointer that must stay as it was on failure */
#define FZ_HANDLE_SENTINEL ((void *)(uintptr_t)0xA5A5A5A0u)

/*
 * The promises of a refusal: a known status, recorded as the thread's last
 * status, with a message that starts with "<fn>:".
 */
static inline void fz_check_refusal(berg_status st, const char *fn)
{
    fz_note(" [refused: %s]", berg_last_error());
    FZ_CHECK(st > BERG_OK && (int)st < berg_status_count(), "%s returned unknown status %d", fn,
             (int)st);
    FZ_CHECK(berg_last_status() == st, "%s returned %s but berg_last_status() is %s", fn,
             berg_status_string(st), berg_status_string(berg_last_status()));
    const char *msg = berg_last_error();
    FZ_CHECK(msg != NULL && msg[0] != '\0', "%s failed (%s) with an empty message", fn,
             berg_status_string(st));
    size_t len = strlen(fn);
    FZ_CHECK(strncmp(msg, fn, len) == 0 && msg[len] == ':',
             "%s failed (%s) with a message that does not name it: \"%s\"", fn,
             berg_status_string(st), msg);
}

/* integral of x over the space: sum times the cell weight, in long double */
/* the integral of x in long double: a mass within rounding of DBL_MAX stays
 * comparable (in double it may round to inf on one side only) */
static inline long double fz_mass_ld(const berg_space *s, const double *x)
{
    size_t n = berg_space_size(s);
    long double sum = 0.0L;
    for (size_t i = 0; i < n; i++)
        sum += (long double)x[i];
    return sum * (long double)berg_space_cell_weight(s);
}

static inline double fz_mass(const berg_space *s, const double *x)
{
    return (double)fz_mass_ld(s, x);
}

static inline double fz_abs_mass(const berg_space *s, const double *x)
{
    size_t n = berg_space_size(s);
    long double sum = 0.0L;
    for (size_t i = 0; i < n; i++)
        sum += fabsl((long double)x[i]);
    return (double)(sum * (long double)berg_space_cell_weight(s));
}

static inline int fz_has_dirichlet(const berg_space *s)
{
    berg_boundary bc[4];
    if (berg_space_boundaries(s, bc) != BERG_OK)
        return 0;
    for (size_t i = 0; i < berg_space_rank(s); i++)
        if (bc[i] == BERG_DIRICHLET)
            return 1;
    return 0;
}

/*
 * Create a space from fuzzed bytes for harnesses whose target is another
 * object; the space's own promises are checked by fuzz_space. NULL when the
 * arguments are refused.
 */
static inline berg_space *fz_space(fz_in *f, size_t max_rank, size_t max_n, size_t max_size)
{
    fz_space_args a;
    fz_space_decode(f, max_rank, max_n, max_size, &a);
    berg_space *s = FZ_HANDLE_SENTINEL;
    berg_status st = berg_space_create(&s, a.ndim, a.n, a.lower, a.upper, a.has_bc ? a.bc : NULL,
                                       a.has_metric ? a.metric : NULL);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_space_create");
        FZ_CHECK(s == FZ_HANDLE_SENTINEL, "berg_space_create wrote *out on failure");
        return NULL;
    }
    FZ_CHECK(s != NULL && s != FZ_HANDLE_SENTINEL, "berg_space_create: OK without a handle");
    return s;
}

/* x normalized in place to integral 1 when possible (a "density") */
static inline void fz_make_density(const berg_space *s, double *x)
{
    double mass = 0.0;
    (void)berg_space_normalize(s, x, &mass);
}

#endif /* BERG_FUZZ_COMMON_H */
