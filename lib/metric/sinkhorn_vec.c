/*
 * Threads and vector math of the Sinkhorn solves: the pointwise loops run
 * in fixed ranges through berg__parallel_blocks (partial sums per range:
 * the result does not depend on the thread count; each thread a contiguous
 * block of the ranges, so that consecutive loops over the same cells find
 * them in its cache), and the exponentials and
 * logarithms of whole arrays go through glibc's vector math library
 * (libmvec, within 4 ulp). GCC calls those only from loops it may
 * vectorize without errno, i.e. under -ffast-math or -fno-math-errno
 * (glibc's <math.h> declares the variants only under __FAST_MATH__), and
 * neither a function attribute nor a pragma turns that on for one file of
 * the library's single compilation; so the AVX2 variants _ZGVdN4v_exp and
 * _ZGVdN4v_log are called directly, four values at a time, when the CPU has
 * AVX2 and FMA (checked at run time); elsewhere, and on other platforms, the
 * scalar loop.
 */
#include <math.h>

#include "metric/sinkhorn_internal.h"

size_t berg__sinkhorn_threads(const berg_sinkhorn *sk)
{
    return berg__threads(sk->threads);
}

/* 16 ranges from 2^16 values on: the split depends on n only */
size_t berg__sinkhorn_ranges(const berg_sinkhorn *sk, size_t n, berg__range_fn body, void *ctx)
{
    return berg__sinkhorn_ranges_on(berg__sinkhorn_threads(sk), n, body, ctx);
}

size_t berg__sinkhorn_ranges_on(size_t nthreads, size_t n, berg__range_fn body, void *ctx)
{
    size_t nranges = n >> 12;
    if (nranges < 1)
        nranges = 1;
    if (nranges > BERG__SK_RANGES)
        nranges = BERG__SK_RANGES;
    berg__parallel_blocks(n, nranges, nthreads, body, ctx);
    return nranges;
}

#if defined(__GNUC__) && defined(__x86_64__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 22))
#include <immintrin.h>

/* glibc's AVX2 variants (libmvec, GLIBC_2.22; within 4 ulp) */
__attribute__((target("avx2"))) __m256d _ZGVdN4v_exp(__m256d x);
__attribute__((target("avx2"))) __m256d _ZGVdN4v_log(__m256d x);

/* libmvec computes a vector with a lane outside its fast range by scalar
 * calls for the whole vector: exp(-inf) and log(0), the values of every
 * cell off a measure's support (most of an image), took the scalar path.
 * Those lanes are given a harmless argument (0 for exp, 1 for log) and
 * their exact result (0, -inf) afterwards; every other lane is libmvec's. */
__attribute__((target("avx2"))) static void vexp_avx2(double *y, const double *x, size_t n)
{
    const __m256d ninf = _mm256_set1_pd(-INFINITY), zero = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        __m256d m = _mm256_cmp_pd(v, ninf, _CMP_EQ_OQ);
        __m256d r = _ZGVdN4v_exp(_mm256_blendv_pd(v, zero, m));
        _mm256_storeu_pd(y + i, _mm256_blendv_pd(r, zero, m));
    }
    for (; i < n; i++)
        y[i] = exp(x[i]);
}

__attribute__((target("avx2"))) static void vlog_avx2(double *y, const double *x, size_t n)
{
    const __m256d ninf = _mm256_set1_pd(-INFINITY), zero = _mm256_setzero_pd(),
                  one = _mm256_set1_pd(1.0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        __m256d m = _mm256_cmp_pd(v, zero, _CMP_EQ_OQ); /* +0 and -0 */
        __m256d r = _ZGVdN4v_log(_mm256_blendv_pd(v, one, m));
        _mm256_storeu_pd(y + i, _mm256_blendv_pd(r, ninf, m));
    }
    for (; i < n; i++)
        y[i] = log(x[i]);
}

static int has_avx2(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#define SK_VECTOR_MATH 1
#endif

void berg__sinkhorn_vexp(double *y, const double *x, size_t n)
{
#ifdef SK_VECTOR_MATH
    if (has_avx2()) {
        vexp_avx2(y, x, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        y[i] = exp(x[i]);
}

void berg__sinkhorn_vlog(double *y, const double *x, size_t n)
{
#ifdef SK_VECTOR_MATH
    if (has_avx2()) {
        vlog_avx2(y, x, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        y[i] = log(x[i]);
}
