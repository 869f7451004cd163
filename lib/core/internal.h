/*
 * lib/core/internal.h - helpers shared by libberg's modules. Not installed;
 * nothing here is exported (hidden visibility).
 */
#ifndef BERG_CORE_INTERNAL_H
#define BERG_CORE_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include "berg/core.h"

#if defined(__GNUC__)
#  define BERG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#  define BERG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define BERG_PRINTF(a, b)
#  define BERG_UNLIKELY(x) (x)
#endif

/* Record a failure for berg_last_error() and return its status:
 *   return berg__error(BERG_ERR_NULL, "berg_heat_apply: in is NULL"); */
berg_status berg__error(berg_status status, const char *fmt, ...) BERG_PRINTF(2, 3);

/* Argument checks. Each records an error naming fn and name and returns a
 * status; BERG_OK when the argument is fine. Arrays report the first bad
 * index. */
berg_status berg__check_ptr(const void *p, const char *fn, const char *name);
berg_status berg__check_finite(const double *a, size_t n, const char *fn, const char *name);
/* sum |a_i| in eight partial sums (non-finite when an entry is, or when the
 * sum overflows): the input scan of the heat and multiplier applies, on the
 * calling thread (BLAS's dasum wakes OpenBLAS's threads, which then spin
 * on the other cores after every apply) */
double berg__abs_sum(const double *a, size_t n);
/* the same sum, for n >= 2^20 in 16 fixed ranges on nthreads threads (the
 * ranges, and so the result, do not depend on nthreads) */
double berg__abs_sum_mt(const double *a, size_t n, size_t nthreads);
/* finite and >= 0 */
berg_status berg__check_nonneg(const double *a, size_t n, const char *fn, const char *name);
/* finite, >= 0 and with a positive finite sum; *sum gets the plain sum */
berg_status berg__check_density(const double *a, size_t n, const char *fn, const char *name,
                                double *sum);
/* a d x d row-major matrix is finite and symmetric: |A_ij - A_ji| <=
 * rtol * max|A| (round-off relative to the matrix, so near-zero entries of
 * a computed matrix may differ by rounding); BERG_ERR_NONFINITE or
 * BERG_ERR_NOT_SPD naming the first offending pair */
berg_status berg__check_symmetric(const double *A, size_t d, double rtol, const char *fn,
                                  const char *name);
/* a time-like scalar: finite and >= 0 */
berg_status berg__check_time(double t, const char *fn, const char *name);
/* *out = a * b, BERG_ERR_SIZE when it overflows */
berg_status berg__mul_size(size_t a, size_t b, size_t *out, const char *fn, const char *what);


/* ---- one error idiom (zstd's RETURN_ERROR_IF / FORWARD_IF_ERROR) ------
 *   BERG_TRY(berg__check_ptr(x, fn, "x"));          forward a failure
 *   BERG_REQUIRE(n > 0, BERG_ERR_SIZE, "%s: n is 0", fn);   refuse
 *   BERG_TRY_GOTO(st, expr, fail);                  forward after cleanup
 * Every function names itself in `static const char fn[]`. */
#define BERG_TRY(expr)                                                            \
    do {                                                                          \
        berg_status berg__try_st = (expr);                                        \
        if (BERG_UNLIKELY(berg__try_st != BERG_OK))                               \
            return berg__try_st;                                                  \
    } while (0)
#define BERG_REQUIRE(cond, status, ...)                                           \
    do {                                                                          \
        if (BERG_UNLIKELY(!(cond)))                                               \
            return berg__error((status), __VA_ARGS__);                            \
    } while (0)
#define BERG_TRY_GOTO(st, expr, label)                                            \
    do {                                                                          \
        if (BERG_UNLIKELY(((st) = (expr)) != BERG_OK))                            \
            goto label;                                                           \
    } while (0)

/* Refuse flag bits outside `allowed` (BERG_ERR_DOMAIN naming the first
 * offending flag by its public name). */
berg_status berg__check_flags(unsigned flags, unsigned allowed, const char *fn);

/* A callback's output: finite (BERG_ERR_CALLBACK naming `what` and the
 * first non-finite index otherwise). */
berg_status berg__check_callback_output(const double *a, size_t n, const char *fn,
                                        const char *what);

/* ---- progress and cancellation (lib/core/progress.c) ------------------
 * One per call of a long-running function, on its stack:
 *   berg__progress pr;
 *   berg__progress_start(&pr, h->progress, h->progress_data);
 *   ... per iteration: BERG_TRY_GOTO(st, berg__progress_report(&pr, 0, frac, it, err, fn), fail);
 *   ... done, before writing outputs: berg__progress_report(&pr, 1, 1.0, it, err, fn)
 * report calls the callback when forced, at the first report, and when
 * BERG__PROGRESS_INTERVAL seconds of work passed since the last call; a
 * non-zero return records BERG_ERR_CANCELLED naming fn and the iteration.
 * Without a callback it returns BERG_OK at once (no clock read). */
#define BERG__PROGRESS_INTERVAL 0.01
typedef struct berg__progress {
    berg_progress_fn cb;
    void *user_data;
    double next; /* monotonic seconds of the next due call; 0 before the first */
    double fraction; /* the largest fraction reported: fractions never decrease */
} berg__progress;
void berg__progress_start(berg__progress *pr, berg_progress_fn cb, void *user_data);
berg_status berg__progress_call(berg__progress *pr, int force, double fraction, size_t iteration,
                                double error, const char *fn);
static inline berg_status berg__progress_report(berg__progress *pr, int force, double fraction,
                                                size_t iteration, double error, const char *fn)
{
    if (pr->cb == NULL)
        return BERG_OK;
    return berg__progress_call(pr, force, fraction, iteration, error, fn);
}
/* the estimated fraction of an iteration that stops when its error falls
 * from err0 (first) to tol, or at its cap: max(iteration / cap,
 * log(err0 / err) / log(err0 / tol)) in [0, 1), NaN-free */
double berg__progress_fraction(size_t iteration, size_t cap, double err0, double err, double tol);

/* ---- scratch pools (lib/core/pool.c) -----------------------------------
 * Workspaces of handles applied through const pointers from many threads:
 * get a block at the start of a call, put it back at the end. One block is
 * allocated at init, so serial use never allocates on the hot path. */
#define BERG__POOL_KEEP 64
typedef struct berg__pool {
    pthread_mutex_t lock;
    size_t bytes;                 /* size of each block (0: the pool is empty) */
    void *free[BERG__POOL_KEEP];
    size_t nfree;
    int live;                     /* initialised (berg__pool_free is then needed) */
} berg__pool;
/* blocks of count * size bytes, aligned as berg__alloc and zero-filled
 * when new; count or size 0 gives a pool whose get returns NULL */
berg_status berg__pool_init(berg__pool *pool, size_t count, size_t size, const char *fn);
/* a block, or NULL with BERG_ERR_NOMEM recorded */
void *berg__pool_get(berg__pool *pool, const char *fn);
void berg__pool_put(berg__pool *pool, void *block);
/* NULL-safe on a zeroed pool */
void berg__pool_free(berg__pool *pool);

/* A process-wide serial number for a handle (1, 2, ...; thread-safe): the
 * key of per-thread reports, which an address cannot be (a later handle may
 * reuse it). */
uint64_t berg__handle_id(void);

/* Pairwise (cascade) summation: error O(log n) ulps, at memory speed. */
double berg__sum(const double *a, size_t n);

/* (*sum, *comp) += x by Neumaier's compensated summation; the total is
 * *sum + *comp. */
static inline void berg__neumaier_add(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x))
        *comp += (*sum - t) + x;
    else
        *comp += (x - t) + *sum;
    *sum = t;
}

/* Aligned allocation (berg_alignment() bytes) of count*size bytes, not
 * zeroed; NULL with a recorded BERG_ERR_NOMEM / BERG_ERR_SIZE on failure. */
void *berg__alloc(size_t count, size_t size, const char *fn);
void berg__free(void *p);

/* FFTW's planner is not thread-safe: every libberg call into the planner
 * (plan creation and destruction, wisdom) holds this lock. berg__fftw_lock
 * also initialises FFTW's threads support once. */
void berg__fftw_lock(void);
void berg__fftw_unlock(void);


/* ---- threads (lib/core/threads.c) -------------------------------------
 * BERG__THREADS_MAX is the largest setting berg_set_threads() takes.
 * berg__threads(h): the number of threads a call runs with, given a
 * handle's own setting h (0: the library-wide one).
 * berg__parallel_for(n, nthreads, grain, body, ctx) runs body over [0, n)
 * in contiguous ranges of at least `grain` items, at most nthreads of them;
 * range k goes to worker k (0 is the calling thread), so a reduction that
 * stores one partial per range and adds them in range order gives the
 * same answer on any number of threads as long as the ranges are the same
 * (use berg__parallel_ranges for that). If a thread cannot be started its
 * ranges run in the calling thread: the call never fails. */
#define BERG__THREADS_MAX 1024
size_t berg__threads(size_t handle_setting);
typedef void (*berg__range_fn)(void *ctx, size_t begin, size_t end, size_t range);
void berg__parallel_for(size_t n, size_t nthreads, size_t grain, berg__range_fn body, void *ctx);
/* Like berg__parallel_for, but with exactly `nranges` fixed ranges (the
 * same split whatever nthreads is), shared among min(nthreads, nranges)
 * threads: for reductions whose result must not depend on nthreads. */
void berg__parallel_ranges(size_t n, size_t nranges, size_t nthreads, berg__range_fn body,
                           void *ctx);
/* Like berg__parallel_ranges, but each thread takes a contiguous block of
 * the ranges (thread k: ranges [k nranges / T, (k + 1) nranges / T)), so
 * that consecutive loops over the same cells find their ranges' data in
 * the same thread's cache; range r is still range r. */
void berg__parallel_blocks(size_t n, size_t nranges, size_t nthreads, berg__range_fn body,
                           void *ctx);


/* ---- random numbers --------------------------------------------------
 * xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64 from a
 * (seed, stream) pair: the same pair gives the same sequence on every
 * platform, distinct streams give independent sequences (for threads or
 * particles). Normals by the Marsaglia polar method, which keeps its
 * spare value in the generator so a sequence does not depend on how it is
 * requested in chunks. */
typedef struct berg__rng {
    uint64_t s[4];
    double spare;
    int has_spare;
} berg__rng;

void berg__rng_seed(berg__rng *rng, uint64_t seed, uint64_t stream);
uint64_t berg__rng_next(berg__rng *rng);
/* uniform on the open interval (0, 1), 52 random bits */
double berg__rng_uniform(berg__rng *rng);
/* n independent standard normals */
void berg__rng_normals(berg__rng *rng, double *out, size_t n);
#endif
