/*
 * berg/core.h - status codes, error details, version and memory of libberg.
 *
 * Every fallible libberg function returns a berg_status; results are written
 * through pointer arguments, and only when the call succeeds. When a call
 * fails, berg_last_error() returns a sentence that names the offending
 * argument (and, for arrays, the first offending index).
 *
 * Part of libberg; see docs/conventions.md for the numerical conventions.
 */
#ifndef BERG_CORE_H
#define BERG_CORE_H

#include <stddef.h>
#include "berg/version.h"

/*
 * BERG_API marks the exported functions. Integrators may define it before
 * including any libberg header (for example to nothing, for a static build
 * linked into another shared object).
 */
#ifndef BERG_API
#  if defined(_WIN32) || defined(__CYGWIN__)
#    if defined(BERG_BUILDING) && !defined(BERG_STATIC)
#      define BERG_API __declspec(dllexport)
#    elif !defined(BERG_STATIC)
#      define BERG_API __declspec(dllimport)
#    else
#      define BERG_API
#    endif
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define BERG_API __attribute__((visibility("default")))
#  else
#    define BERG_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes. The values are pinned: a value never changes meaning once
 * released, and new codes are only appended.
 */
typedef enum berg_status {
    BERG_OK = 0,                 /* success */
    BERG_ERR_NULL = 1,           /* a required pointer argument is NULL */
    BERG_ERR_SIZE = 2,           /* a count or size is zero, too large, or overflows size_t */
    BERG_ERR_NONFINITE = 3,      /* an input value is NaN or infinite */
    BERG_ERR_NEGATIVE = 4,       /* a density (or other non-negative input) has a negative value */
    BERG_ERR_MASS = 5,           /* a density has zero, infinite or wrong total mass (cannot be normalized) */
    BERG_ERR_TIME = 6,           /* a time (t, tau, step) is negative or not finite */
    BERG_ERR_NOT_SPD = 7,        /* a matrix is not symmetric positive definite (or is singular) */
    BERG_ERR_MISMATCH = 8,       /* two objects that must agree (spaces, shapes) do not */
    BERG_ERR_DOMAIN = 9,         /* a parameter is outside its valid range */
    BERG_ERR_UNSUPPORTED = 10,   /* the operation is not defined for this configuration */
    BERG_ERR_NOMEM = 11,         /* memory allocation failed */
    BERG_ERR_CALLBACK = 12,      /* a user callback returned an error or a non-finite value */
    BERG_ERR_NO_CONVERGENCE = 13,/* an iteration did not reach its tolerance within its cap */
    BERG_ERR_PARSE = 14,         /* a string (for example FFTW wisdom) could not be parsed */
    BERG_ERR_IO = 15,            /* a file could not be read or written */
    BERG_ERR_NOT_TANGENT = 16,   /* a tangent vector does not integrate to zero */
    BERG_ERR_OUT_OF_RANGE = 17,  /* a point or trajectory lies outside the grid */
    BERG_ERR_INTERNAL = 18       /* a failure inside a dependency (FFTW planner, LAPACK) */
} berg_status;


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
    /** berg_fp_create: the Fourier (pseudo-spectral) discretization. */
    BERG_FP_FOURIER = 0x10000,
    /** berg_sinkhorn_create: log-domain iterations. */
    BERG_SINKHORN_LOG_DOMAIN = 0x100000,
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

/* Number of status codes (one more than the largest value). */
BERG_API int berg_status_count(void);

/* A short, static, English description of a status code ("a required
 * pointer argument is NULL"). Never NULL; unknown values give
 * "unknown status". */
BERG_API const char *berg_status_string(berg_status status);

/* The detail message of this thread's most recent failure, in words a user
 * can act on ("berg_space_create: upper[1] = 0 is not greater than
 * lower[1] = 1"). "" if no call of this thread has failed yet. The string is
 * owned by libberg, valid until this thread's next libberg call. */
BERG_API const char *berg_last_error(void);

/* Status of this thread's most recent failure (BERG_OK if none). */
BERG_API berg_status berg_last_status(void);

/* Forget this thread's last error. */
BERG_API void berg_clear_error(void);

/* Runtime version: "MAJOR.MINOR.PATCH" and MAJOR*10000+MINOR*100+PATCH. */
BERG_API const char *berg_version_string(void);
BERG_API int berg_version_number(void);

/*
 * Aligned memory for callers who want SIMD-aligned arrays (never required:
 * every libberg function accepts any alignment). Allocates count*size bytes,
 * zero-filled, aligned to berg_alignment() bytes; *out is NULL on failure.
 * count*size == 0 or overflowing size_t is BERG_ERR_SIZE.
 * Free with berg_free (NULL-safe), never with free().
 */
BERG_API berg_status berg_alloc(void **out, size_t count, size_t size);
BERG_API void berg_free(void *ptr);
BERG_API size_t berg_alignment(void);

#ifdef __cplusplus
}
#endif

#endif /* BERG_CORE_H */
