/* core: status strings, per-thread errors, version, aligned memory, the
 * internal checks and summation every module relies on. */
#include <float.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/internal.h"
#include "testutil.h"

static void *thread_error(void *arg)
{
    (void)arg;
    /* a failure on this thread must not show on the main thread */
    berg__error(BERG_ERR_DOMAIN, "message from the other thread");
    return (void *)(uintptr_t)(strcmp(berg_last_error(), "message from the other thread") == 0);
}

static void test_status(void)
{
    CHECK(berg_status_count() == BERG_ERR_CANCELLED + 1, "status count");
    for (int s = 0; s < berg_status_count(); s++) {
        const char *str = berg_status_string((berg_status)s);
        CHECK(str != NULL && strlen(str) > 4 && strcmp(str, "unknown status") != 0,
              "status %d has a description", s);
        for (int t = 0; t < s; t++)
            CHECK(strcmp(str, berg_status_string((berg_status)t)) != 0,
                  "statuses %d and %d have distinct descriptions", s, t);
    }
    CHECK(strcmp(berg_status_string((berg_status)-1), "unknown status") == 0, "negative status");
    CHECK(strcmp(berg_status_string((berg_status)1000), "unknown status") == 0, "large status");
    /* pinned values: changing one is an ABI break */
    CHECK(BERG_OK == 0 && BERG_ERR_NULL == 1 && BERG_ERR_SIZE == 2 && BERG_ERR_NONFINITE == 3 &&
              BERG_ERR_NEGATIVE == 4 && BERG_ERR_MASS == 5 && BERG_ERR_TIME == 6 &&
              BERG_ERR_NOT_SPD == 7 && BERG_ERR_MISMATCH == 8 && BERG_ERR_DOMAIN == 9 &&
              BERG_ERR_UNSUPPORTED == 10 && BERG_ERR_NOMEM == 11 && BERG_ERR_CALLBACK == 12 &&
              BERG_ERR_NO_CONVERGENCE == 13 && BERG_ERR_PARSE == 14 && BERG_ERR_IO == 15 &&
              BERG_ERR_NOT_TANGENT == 16 && BERG_ERR_OUT_OF_RANGE == 17 &&
              BERG_ERR_INTERNAL == 18 && BERG_ERR_CANCELLED == 19,
          "pinned status values");
}

static void test_errors(void)
{
    berg_clear_error();
    CHECK(berg_last_error()[0] == '\0' && berg_last_status() == BERG_OK, "cleared error");
    CHECK(berg__error(BERG_ERR_MASS, "mass %d", 7) == BERG_ERR_MASS, "berg__error returns status");
    CHECK(strcmp(berg_last_error(), "mass 7") == 0, "message formatted");
    CHECK(berg_last_status() == BERG_ERR_MASS, "last status");
    pthread_t th;
    void *ok = NULL;
    pthread_create(&th, NULL, thread_error, NULL);
    pthread_join(th, &ok);
    CHECK(ok != NULL, "other thread sees its own message");
    CHECK(strcmp(berg_last_error(), "mass 7") == 0, "main thread keeps its message");
    /* very long messages are truncated, not overflowed */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    berg__error(BERG_ERR_DOMAIN, "%s", big);
    CHECK(strlen(berg_last_error()) < 1000, "long message truncated");
}

static void test_version(void)
{
    CHECK(berg_version_number() == BERG_VERSION_NUMBER, "version number matches header");
    CHECK(strcmp(berg_version_string(), BERG_VERSION_STRING) == 0, "version string %s", berg_version_string());
}

static void test_alloc(void)
{
    void *p = NULL;
    CHECK_STATUS(berg_alloc(&p, 1000, sizeof(double)), BERG_OK, "alloc");
    CHECK(p != NULL && (uintptr_t)p % berg_alignment() == 0, "aligned to %zu", berg_alignment());
    int zero = 1;
    for (int i = 0; i < 1000; i++)
        zero &= ((double *)p)[i] == 0.0;
    CHECK(zero, "zero-filled");
    berg_free(p);
    berg_free(NULL);
    p = (void *)&p;
    CHECK_STATUS(berg_alloc(&p, SIZE_MAX / 2, 4), BERG_ERR_SIZE, "overflowing alloc");
    CHECK(p == NULL, "out set to NULL on failure");
    CHECK_STATUS(berg_alloc(&p, 0, 8), BERG_ERR_SIZE, "zero alloc");
    CHECK_STATUS(berg_alloc(NULL, 1, 8), BERG_ERR_NULL, "NULL out");
    CHECK(berg_alignment() >= 32 && (berg_alignment() & (berg_alignment() - 1)) == 0,
          "alignment is a power of two >= 32");
}

static void test_checks(void)
{
    double a[5] = {1, 2, 3, 4, 5};
    CHECK_STATUS(berg__check_nonneg(a, 5, "f", "p"), BERG_OK, "non-negative array");
    a[3] = -1e-300;
    CHECK_STATUS(berg__check_nonneg(a, 5, "f", "p"), BERG_ERR_NEGATIVE, "negative value");
    CHECK_MESSAGE("index 3", "negative index named");
    a[3] = NAN;
    CHECK_STATUS(berg__check_nonneg(a, 5, "f", "p"), BERG_ERR_NONFINITE, "NaN");
    CHECK_MESSAGE("p[3]", "NaN index named");
    a[3] = INFINITY;
    CHECK_STATUS(berg__check_nonneg(a, 5, "f", "p"), BERG_ERR_NONFINITE, "Inf");
    CHECK_STATUS(berg__check_finite(a, 5, "f", "v"), BERG_ERR_NONFINITE, "Inf not finite");
    double z[3] = {0, 0, 0}, m = -1;
    CHECK_STATUS(berg__check_density(z, 3, "f", "p", &m), BERG_ERR_MASS, "zero mass");
    double big[2] = {DBL_MAX, DBL_MAX};
    CHECK_STATUS(berg__check_density(big, 2, "f", "p", &m), BERG_ERR_MASS, "overflowing mass");
    CHECK_STATUS(berg__check_time(-1.0, "f", "t"), BERG_ERR_TIME, "negative time");
    CHECK_STATUS(berg__check_time(NAN, "f", "t"), BERG_ERR_TIME, "NaN time");
    CHECK_STATUS(berg__check_time(0.0, "f", "t"), BERG_OK, "zero time");
    size_t out = 0;
    CHECK_STATUS(berg__mul_size(SIZE_MAX, 2, &out, "f", "size"), BERG_ERR_SIZE, "mul overflow");
}

static void test_sum(void)
{
    /* 1 + many tiny terms: naive summation loses them, pairwise keeps them */
    size_t n = 1000001;
    double *x = malloc(n * sizeof *x);
    x[0] = 1.0;
    for (size_t i = 1; i < n; i++)
        x[i] = 1e-16;
    CHECK_REL(berg__sum(x, n), 1.0 + 1e-10, 1e-14, "pairwise sum keeps small terms");
    /* exact integers, odd lengths */
    for (size_t len = 0; len < 600; len += 37) {
        for (size_t i = 0; i < len; i++)
            x[i] = (double)(i + 1);
        CHECK(berg__sum(x, len) == (double)len * (double)(len + 1) / 2.0, "sum of 1..%zu", len);
    }
    free(x);
}

static void test_rng(void)
{
    berg__rng a, b, c;
    berg__rng_seed(&a, 42, 0);
    berg__rng_seed(&b, 42, 0);
    berg__rng_seed(&c, 42, 1);
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = berg__rng_next(&a), y = berg__rng_next(&b), z = berg__rng_next(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same, "same seed and stream give the same sequence");
    CHECK(differ == 100, "another stream gives another sequence");
    /* chunking does not change the normal sequence */
    double one[101], two[101];
    berg__rng_seed(&a, 7, 3);
    berg__rng_normals(&a, one, 101);
    berg__rng_seed(&a, 7, 3);
    berg__rng_normals(&a, two, 33);
    berg__rng_normals(&a, two + 33, 1);
    berg__rng_normals(&a, two + 34, 67);
    CHECK(memcmp(one, two, sizeof one) == 0, "normals independent of chunking");
    /* moments of 10^6 normals: mean 0 +- 5 sigma/sqrt(N), variance 1, kurtosis 3 */
    size_t n = 1000000;
    double *z = malloc(n * sizeof *z);
    berg__rng_normals(&a, z, n);
    double m1 = 0, m2 = 0, m4 = 0, umin = 1, umax = 0;
    for (size_t i = 0; i < n; i++) {
        m1 += z[i];
        m2 += z[i] * z[i];
        m4 += z[i] * z[i] * z[i] * z[i];
    }
    m1 /= (double)n;
    m2 /= (double)n;
    m4 /= (double)n;
    CHECK_ABS(m1, 0.0, 5.0 / sqrt((double)n), "normal mean");
    CHECK_ABS(m2, 1.0, 5.0 * sqrt(2.0 / (double)n), "normal variance");
    CHECK_ABS(m4, 3.0, 5.0 * sqrt(96.0 / (double)n), "normal fourth moment");
    for (size_t i = 0; i < n; i++) {
        double u = berg__rng_uniform(&a);
        umin = fmin(umin, u);
        umax = fmax(umax, u);
        z[i] = u;
    }
    CHECK(umin > 0.0 && umax < 1.0, "uniforms in the open interval");
    double mu = berg__sum(z, n) / (double)n;
    CHECK_ABS(mu, 0.5, 5.0 * sqrt(1.0 / 12.0 / (double)n), "uniform mean");
    free(z);
}

/* berg__parallel_ranges: every index visited once, by its fixed range */
typedef struct {
    unsigned *hits;
    size_t *owner;
    double *partial;
} par_ctx;

static void par_body(void *ctx, size_t b, size_t e, size_t r)
{
    par_ctx *c = ctx;
    double s = 0;
    for (size_t i = b; i < e; i++) {
        __atomic_fetch_add(&c->hits[i], 1u, __ATOMIC_RELAXED);
        c->owner[i] = r;
        s += 1.0 / (double)(i + 1);
    }
    c->partial[r] = s;
}

static void test_threads(void)
{
    CHECK(berg_threads() == 1, "default thread setting is 1");
    CHECK_STATUS(berg_set_threads(0), BERG_ERR_DOMAIN, "0 threads refused");
    CHECK_MESSAGE("nthreads", "set_threads message names the argument");
    CHECK_STATUS(berg_set_threads(BERG__THREADS_MAX + 1), BERG_ERR_DOMAIN, "too many refused");
    CHECK(berg_threads() == 1, "a refused setting leaves the old one");
    CHECK_STATUS(berg_set_threads(3), BERG_OK, "3 threads");
    CHECK(berg_threads() == 3 && berg__threads(0) == 3 && berg__threads(2) == 2,
          "handle setting overrides, 0 follows the library");
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "back to 1");

    const size_t sizes[] = {1, 2, 7, 100, 1001};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        unsigned *hits = calloc(n, sizeof *hits);
        size_t *owner = calloc(n, sizeof *owner), *owner1 = calloc(n, sizeof *owner1);
        double part[16] = {0}, part1[16] = {0};
        par_ctx c1 = {hits, owner1, part1};
        berg__parallel_ranges(n, 16, 1, par_body, &c1);
        for (size_t nt = 1; nt <= 5; nt++) {
            memset(hits, 0, n * sizeof *hits);
            memset(part, 0, sizeof part);
            par_ctx c = {hits, owner, part};
            berg__parallel_ranges(n, 16, nt, par_body, &c);
            int once = 1, same = 1;
            for (size_t i = 0; i < n; i++) {
                once &= hits[i] == 1;
                same &= owner[i] == owner1[i];
            }
            CHECK(once, "n=%zu threads=%zu: each index once", n, nt);
            CHECK(same && memcmp(part, part1, sizeof part) == 0,
                  "n=%zu threads=%zu: fixed ranges, bitwise equal partials", n, nt);
            memset(hits, 0, n * sizeof *hits);
            berg__parallel_for(n, nt, 3, par_body, &c);
            once = 1;
            for (size_t i = 0; i < n; i++)
                once &= hits[i] == 1;
            CHECK(once, "parallel_for n=%zu threads=%zu: each index once", n, nt);
        }
        free(hits);
        free(owner);
        free(owner1);
    }
}

/* every flag, 1.1's included, is named when passed to a creator it is not
 * a flag of */
static void test_flag_names(void)
{
    static const struct { unsigned bit; const char *name; } flags[] = {
        {BERG_PLAN_ESTIMATE, "BERG_PLAN_ESTIMATE"}, {BERG_SYMBOL_FD, "BERG_SYMBOL_FD"},
        {BERG_HEAT_DIRECT, "BERG_HEAT_DIRECT"}, {BERG_HEAT_SPECTRAL, "BERG_HEAT_SPECTRAL"},
        {BERG_FP_FOURIER, "BERG_FP_FOURIER"},
        {BERG_SINKHORN_LOG_DOMAIN, "BERG_SINKHORN_LOG_DOMAIN"},
        {BERG_SINKHORN_FFT, "BERG_SINKHORN_FFT"},
        {BERG_SINKHORN_STABILIZED, "BERG_SINKHORN_STABILIZED"},
        {BERG_FISHER_ACC_NO_STDERR, "BERG_FISHER_ACC_NO_STDERR"},
    };
    unsigned all = 0;
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        CHECK((flags[i].bit & (flags[i].bit - 1)) == 0 && (all & flags[i].bit) == 0,
              "%s is one bit of its own", flags[i].name);
        all |= flags[i].bit;
        CHECK_STATUS(berg__check_flags(flags[i].bit, 0, "test_fn"), BERG_ERR_DOMAIN,
                     "%s refused where not allowed", flags[i].name);
        CHECK(strstr(berg_last_error(), flags[i].name) != NULL, "message names %s: %s",
              flags[i].name, berg_last_error());
        CHECK_STATUS(berg__check_flags(flags[i].bit, flags[i].bit, "test_fn"), BERG_OK,
                     "%s accepted where allowed", flags[i].name);
    }
}

int main(void)
{
    test_threads();
    test_flag_names();
    test_rng();
    test_status();
    test_errors();
    test_version();
    test_alloc();
    test_checks();
    test_sum();
    return test_summary("core");
}
