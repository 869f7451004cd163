/**
 * @file berg/core.h
 * @brief Status codes, error details, versions, flags and memory of libberg.
 *
 * Every fallible libberg function returns a ::berg_status; results are
 * written through pointer arguments, and only when the call succeeds. When a
 * call fails, berg_last_error() returns a sentence that names the function,
 * the offending argument and, for arrays, the first offending index. The
 * numerical conventions (signs, factors, the signature rule) are fixed in
 * docs/conventions.md.
 *
 * libberg builds on POSIX systems (Linux, the BSDs, macOS) with a C11
 * compiler; it uses POSIX threads and aligned allocation.
 */
#ifndef BERG_CORE_H
#define BERG_CORE_H

#include <stddef.h>
#include "berg/version.h"

/**
 * @def BERG_API
 * @brief Marks the exported functions (default ELF visibility).
 *
 * Integrators may define it before including any libberg header, for
 * example to nothing for a static build linked into another shared object.
 * @since 1.0
 */
#ifndef BERG_API
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define BERG_API __attribute__((visibility("default")))
#  else
#    define BERG_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Status codes. The values are pinned: a value never changes meaning
 * once released, and new codes are only appended.
 * @since 1.0
 */
typedef enum berg_status {
    BERG_OK = 0,                  /**< success */
    BERG_ERR_NULL = 1,            /**< a required pointer argument is NULL */
    BERG_ERR_SIZE = 2,            /**< a count or size is zero, too large, or overflows size_t */
    BERG_ERR_NONFINITE = 3,       /**< an input value is NaN or infinite */
    BERG_ERR_NEGATIVE = 4,        /**< a density (or other non-negative input) has a negative value */
    BERG_ERR_MASS = 5,            /**< a density has zero, infinite or wrong total mass */
    BERG_ERR_TIME = 6,            /**< a time (t, tau, step) is negative or not finite */
    BERG_ERR_NOT_SPD = 7,         /**< a matrix is not symmetric positive definite (or is singular) */
    BERG_ERR_MISMATCH = 8,        /**< two objects that must agree (spaces, shapes) do not */
    BERG_ERR_DOMAIN = 9,          /**< a parameter (or flag) is outside its valid range */
    BERG_ERR_UNSUPPORTED = 10,    /**< the operation is not defined for this configuration */
    BERG_ERR_NOMEM = 11,          /**< memory allocation failed */
    BERG_ERR_CALLBACK = 12,       /**< a user callback returned an error or a non-finite value */
    BERG_ERR_NO_CONVERGENCE = 13, /**< an iteration did not reach its tolerance within its cap */
    BERG_ERR_PARSE = 14,          /**< a string (for example FFTW wisdom) could not be parsed */
    BERG_ERR_IO = 15,             /**< a file could not be read or written */
    BERG_ERR_NOT_TANGENT = 16,    /**< a tangent vector does not integrate to zero */
    BERG_ERR_OUT_OF_RANGE = 17,   /**< a point or trajectory lies outside the grid */
    BERG_ERR_INTERNAL = 18,       /**< a failure inside a dependency (FFTW planner, LAPACK) */
    BERG_ERR_CANCELLED = 19       /**< a progress callback asked the call to stop (::berg_progress_fn) */
} berg_status;

/**
 * @brief Progress callback of the calls that can run long.
 *
 * Set on a handle (berg_sinkhorn_set_progress(), berg_fp_set_progress(),
 * berg_w2_metric_set_progress(), berg_bayes_set_progress()) or passed to a
 * creator (berg_fp_spectral_create_progress()). The call invokes it on the
 * calling thread only: once when its work starts, then at its iteration
 * boundaries at most about every 10 ms of work, and once when the work is
 * done, before any output is written. A non-zero return stops the call: it
 * returns ::BERG_ERR_CANCELLED and leaves its outputs and the handle as
 * they were.
 *
 * @param[in] fraction   the fraction of the work done, in [0, 1] (1 at the
 *                       last call of a call that completes), or NaN when
 *                       the call cannot estimate it. For iterations that
 *                       stop at a tolerance it is an estimate.
 * @param[in] iteration  the iterations (or items) done so far.
 * @param[in] error      the current error of an iteration (what it measures
 *                       is documented with the setter), or NaN when none.
 * @param[in] user_data  the pointer given with the callback.
 * @return 0 to continue, non-zero to stop the call (BERG_ERR_CANCELLED).
 * @since 1.0
 */
typedef int (*berg_progress_fn)(double fraction, size_t iteration, double error, void *user_data);

/**
 * @brief Flags of libberg's creators: one table of disjoint bits.
 *
 * No two flags share a bit, so a flag passed to a creator it does not belong
 * to is recognised and refused (BERG_ERR_DOMAIN, the message naming the
 * flag). `flags = 0` always means the documented default. Values are
 * pinned. Bits 0x1-0x80 are planning flags, shared by every creator that
 * plans FFTs; each other family owns its own byte.
 * @since 1.0
 */
typedef enum berg_flag {
    /** Plan FFTs with FFTW_ESTIMATE (fast creation, possibly slower applies)
     *  instead of FFTW_MEASURE. Accepted by every creator that plans FFTs. */
    BERG_PLAN_ESTIMATE = 0x1,
    /** Heat and multipliers: the exact semigroup of the second-order
     *  finite-difference Laplacian instead of the continuum symbol. */
    BERG_SYMBOL_FD = 0x100,
    /** Heat (and multipliers with the heat symbol): the direct convolution
     *  path at every t where the kernel is compact, whatever the measured
     *  crossover says (for tests and benchmarks; its first call still
     *  measures the loops' form, which does not change the result).
     *  @since 1.1 */
    BERG_HEAT_DIRECT = 0x200,
    /** Heat (and multipliers with the heat symbol): the spectral (FFT)
     *  path at every t, as in 1.0. @since 1.1 */
    BERG_HEAT_SPECTRAL = 0x400,
    /** berg_fp_create: the Fourier (pseudo-spectral) discretization. */
    BERG_FP_FOURIER = 0x10000,
    /** berg_sinkhorn_create: log-domain iterations. */
    BERG_SINKHORN_LOG_DOMAIN = 0x100000,
    /** berg_sinkhorn_create: the FFT scaling iteration only (1.0's default;
     *  any metric). @since 1.1 */
    BERG_SINKHORN_FFT = 0x200000,
    /** berg_sinkhorn_create: the stabilized scaling iteration only (exact
     *  separable kernel, scalings absorbed into potentials). @since 1.1 */
    BERG_SINKHORN_STABILIZED = 0x400000,
    /** berg_fisher_acc_create: do not track standard errors. */
    BERG_FISHER_ACC_NO_STDERR = 0x1000000
} berg_flag;

/**
 * @brief The value of a public constant by its name, for bindings that
 * cannot read the headers.
 *
 * Every BERG_ constant of the public headers whose value is an integer is
 * known: flags (`"BERG_PLAN_ESTIMATE"`), statuses, boundary kinds, regulator
 * and channel kinds, and the BERG_VERSION_ numbers. The `BERG_` prefix may
 * be left out.
 *
 * @param[in]  name   the constant's name, NUL-terminated.
 * @param[out] value  its value.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_DOMAIN when no constant has that name.
 * @since 1.0
 */
BERG_API berg_status berg_constant_value(const char *name, long long *value);


/**
 * @brief Number of status codes (one more than the largest value).
 * @return 20 in 1.0; codes are only appended.
 * @since 1.0
 */
BERG_API int berg_status_count(void);

/**
 * @brief A short, static, English description of a status code.
 * @param[in] status  any value; unknown values give "unknown status".
 * @return a static string, never NULL ("a required pointer argument is NULL").
 * @since 1.0
 */
BERG_API const char *berg_status_string(berg_status status);

/**
 * @brief The detail message of this thread's most recent failure.
 *
 * In words a user can act on, naming the function the caller called:
 * "berg_space_create: upper[1] = 0 is not greater than lower[1] = 1".
 * @return "" if no call of this thread has failed yet; the string is owned by
 * libberg and valid until this thread's next libberg call.
 * @since 1.0
 */
BERG_API const char *berg_last_error(void);

/**
 * @brief Status of this thread's most recent failure.
 * @return the status, BERG_OK if no call of this thread has failed (or
 * berg_clear_error() was called since).
 * @since 1.0
 */
BERG_API berg_status berg_last_status(void);

/**
 * @brief Forget this thread's last error (berg_last_error() gives "" again).
 * @since 1.0
 */
BERG_API void berg_clear_error(void);

/**
 * @brief Runtime version "MAJOR.MINOR.PATCH" of the library.
 * @return a static string; equals BERG_VERSION_STRING of matching headers.
 * @since 1.0
 */
BERG_API const char *berg_version_string(void);

/**
 * @brief Runtime version number MAJOR * 10000 + MINOR * 100 + PATCH.
 * @return the number; compare with BERG_VERSION_NUMBER to detect a
 * header/library mismatch.
 * @since 1.0
 */
BERG_API int berg_version_number(void);

/**
 * @brief Allocate count * size zero-filled bytes aligned to berg_alignment().
 *
 * For callers who want SIMD-aligned arrays (never required: every libberg
 * function accepts any alignment). Free with berg_free(), never free().
 * @param[out] out    receives the block; NULL on failure.
 * @param[in]  count  number of elements.
 * @param[in]  size   bytes per element.
 * @return BERG_OK; BERG_ERR_NULL (out is NULL); BERG_ERR_SIZE (count * size
 * is 0 or overflows size_t); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_alloc(void **out, size_t count, size_t size);

/**
 * @brief Free a block from berg_alloc() or a string libberg allocated for
 * the caller (berg_wisdom_export_string()). NULL is a no-op.
 * @param[in] ptr  the block.
 * @since 1.0
 */
BERG_API void berg_free(void *ptr);

/**
 * @brief The alignment in bytes of berg_alloc() blocks.
 * @return a power of two (64).
 * @since 1.0
 */
BERG_API size_t berg_alignment(void);

/**
 * @brief Set the library-wide number of threads that libberg's calls may
 * use (FFTW's threads for plans created afterwards, and the pointwise and
 * per-line loops libberg runs itself).
 *
 * The default is 1, so that a caller who runs threads of its own is not
 * oversubscribed. A handle may override the setting with its own
 * `berg_<object>_set_threads()`; a handle's setting of 0 follows this one.
 * libberg's threads are POSIX threads, started per call. OpenBLAS keeps its
 * own thread count (OPENBLAS_NUM_THREADS or openblas_set_num_threads()),
 * except that while libberg's threads themselves call BLAS (the Fisher
 * score sums, the Bayes predictive) OpenBLAS is held at one thread,
 * process-wide, and restored afterwards (docs/performance.md, "Threads").
 * Results do not depend on the number of threads beyond what each
 * function documents (reductions are split in fixed chunks).
 * @param[in] nthreads  1 to 1024.
 * @return BERG_OK; BERG_ERR_DOMAIN (nthreads is 0 or above 1024; the
 * setting is unchanged).
 * @since 1.1
 */
BERG_API berg_status berg_set_threads(size_t nthreads);

/**
 * @brief The library-wide number of threads (berg_set_threads()).
 * @return the setting, 1 unless changed.
 * @since 1.1
 */
BERG_API size_t berg_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* BERG_CORE_H */
