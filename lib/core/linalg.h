/*
 * lib/core/linalg.h - the dense symmetric linear algebra every module shares:
 * one symmetry tolerance, one symmetric eigensolver (LAPACK dsyevd), one
 * Cholesky factorization with a reciprocal-condition check (dpotrf + dpocon),
 * the SPD inverse built on it, triangle mirroring, symmetric matrix
 * functions W diag(f) W^T, and the mapping of LAPACKE return codes to
 * berg_status (allocation failures inside LAPACKE are BERG_ERR_NOMEM).
 * Not installed; nothing here is exported (hidden visibility).
 *
 * Conventions: matrices are row-major d x d arrays of doubles, d >= 1 and
 * d <= INT_MAX (the LAPACK integer; check with berg__linalg_check_dim at
 * the public boundary). Kernels trust their inputs (validated once by the
 * public caller) and report only what can fail inside them; every message
 * names the public function fn and the argument name.
 *
 * This header does not include <lapacke.h> (which pulls in <complex.h> and
 * its macro I), so it may be included anywhere.
 */
#ifndef BERG_CORE_LINALG_H
#define BERG_CORE_LINALG_H

#include <stddef.h>
#include "berg/core.h"

/* The one symmetry tolerance of libberg: a symmetric input matrix must
 * satisfy |A_ij - A_ji| <= BERG__SYM_RTOL * max_kl |A_kl| (round-off
 * relative to the matrix). Documented publicly as "symmetric to a relative
 * 1e-10 of its largest entry". */
#define BERG__SYM_RTOL 1e-10

/* BERG_ERR_SIZE (naming fn and name) unless 1 <= n <= INT_MAX. */
berg_status berg__linalg_check_dim(size_t n, const char *fn, const char *name);

/* A d x d matrix is finite (BERG_ERR_NONFINITE) and symmetric to
 * BERG__SYM_RTOL (BERG_ERR_NOT_SPD naming the first offending pair). */
berg_status berg__linalg_check_symmetric(size_t d, const double *A, const char *fn,
                                         const char *name);

/* Map a LAPACKE return code of `routine`: 0 -> BERG_OK;
 * LAPACK_WORK_MEMORY_ERROR / LAPACK_TRANSPOSE_MEMORY_ERROR -> BERG_ERR_NOMEM;
 * anything else -> BERG_ERR_INTERNAL with the code in the message. The
 * caller handles positive codes with a meaning of their own (dpotrf's
 * "not positive definite") before calling this. */
berg_status berg__lapack_status(long info, const char *fn, const char *routine);

/* Copy the lower triangle of A to its upper one (A exactly symmetric). */
void berg__linalg_mirror_lower(size_t d, double *A);

/* Copy the upper triangle of A to its lower one (A exactly symmetric). */
void berg__linalg_mirror_upper(size_t d, double *A);

/* A <- (A + A^T) / 2: exactly symmetric, for computed results. */
void berg__linalg_symmetrize(size_t d, double *A);

/* Symmetric eigen-decomposition by LAPACK dsyevd (the one driver).
 * A: in, a symmetric matrix (only its lower triangle is read); out, when
 * vectors != 0, the orthonormal eigenvectors as its COLUMNS
 * (A[i*d + k] = component i of eigenvector k), otherwise destroyed.
 * w: the d eigenvalues in ASCENDING order. */
berg_status berg__linalg_eigh(size_t d, double *A, double *w, int vectors, const char *fn,
                              const char *name);

/* Smallest and largest eigenvalue of a symmetric A (lower triangle read;
 * A is not modified; allocates d^2 + d doubles). */
berg_status berg__linalg_eig_extremes(size_t d, const double *A, double *lmin, double *lmax,
                                      const char *fn, const char *name);

/* The default reciprocal-condition floor of berg__linalg_cholesky:
 * d * DBL_EPSILON (below it a solve loses every digit). */
double berg__linalg_rcond_floor(size_t d);

/* Cholesky factor of a symmetric A: L (d x d, not aliasing A) receives A with
 * its lower triangle overwritten by the factor (A = L L^T; the strict upper
 * triangle keeps A's values). Refused with BERG_ERR_NOT_SPD, the message
 * giving the smallest and largest eigenvalue of A, when A is indefinite or
 * when the reciprocal 1-norm condition estimate (dpocon) is below
 * min_rcond (pass berg__linalg_rcond_floor(d) unless the caller documents
 * another floor). rcond (may be NULL) receives the estimate. */
berg_status berg__linalg_cholesky(size_t d, const double *A, double *L, double min_rcond,
                                  double *rcond, const char *fn, const char *name);

/* Ainv = A^{-1} of a symmetric positive definite A (Cholesky as above
 * with the default floor, then dpotri), exactly symmetric. Ainv may equal
 * A. On failure Ainv is untouched when it differs from A. Allocates d^2
 * doubles. */
berg_status berg__linalg_spd_inverse(size_t d, const double *A, double *Ainv, const char *fn,
                                     const char *name);

/* out = W diag(f) W^T (d x d, exactly symmetric) from eigenvectors W as
 * columns (berg__linalg_eigh) and values f: a symmetric matrix function
 * (square root, inverse square root, ...). work: d * d doubles; out may
 * not alias W or work. */
void berg__linalg_sym_function(size_t d, const double *W, const double *f, double *work,
                               double *out);

#endif
