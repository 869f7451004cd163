/*
 * Threads and vector math of the Sinkhorn solves: the pointwise loops run
 * in fixed ranges through berg__parallel_ranges (partial sums per range:
 * the result does not depend on the thread count), and the exponentials and
 * logarithms of whole arrays go through glibc's vector math library
 * (libmvec: _ZGVbN2v_exp, _ZGVdN4v_exp, ... , within 4 ulp), which GCC
 * calls from a loop when exp and log are declared `simd` and errno is not
 * needed. glibc's <math.h> declares them so only under -ffast-math; here
 * they are declared for these two functions alone, compiled for AVX-512,
 * AVX2 and the baseline with target_clones (the loader picks one at run
 * time). Other compilers get the scalar loop.
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
    size_t nranges = n >> 12;
    if (nranges < 1)
        nranges = 1;
    if (nranges > BERG__SK_RANGES)
        nranges = BERG__SK_RANGES;
    berg__parallel_ranges(n, nranges, berg__sinkhorn_threads(sk), body, ctx);
    return nranges;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SK_VECTOR_MATH 1
__attribute__((simd("notinbranch"))) double exp(double);
__attribute__((simd("notinbranch"))) double log(double);
#define SK_VECTOR __attribute__((target_clones("avx512f", "avx2", "default"), \
                                 optimize("O3", "no-math-errno")))
#else
#define SK_VECTOR
#endif

SK_VECTOR void berg__sinkhorn_vexp(double *y, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = exp(x[i]);
}

SK_VECTOR void berg__sinkhorn_vlog(double *y, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = log(x[i]);
}
