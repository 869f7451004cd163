/*
 * lib/fisher/internal.h - helpers shared by the fisher module's sources.
 * Not installed; nothing here is exported.
 */
#ifndef BERG_FISHER_INTERNAL_H
#define BERG_FISHER_INTERNAL_H

#include <stddef.h>

#include "berg/fisher.h"
#include "core/internal.h"

/* BERG_ERR_SIZE unless 1 <= n <= INT_MAX (the BLAS/LAPACK integer). */
berg_status berg__fisher_check_dim(size_t n, const char *fn, const char *name);

/* A d x d matrix is finite (BERG_ERR_NONFINITE) and symmetric to a relative
 * 1e-10 of its largest entry (BERG_ERR_NOT_SPD naming the entry). */
berg_status berg__fisher_check_sym(size_t d, const double *A, const char *fn, const char *name);

/* Cholesky factor of a checked symmetric A into L (d x d scratch, lower
 * triangle, row-major). BERG_ERR_NOT_SPD, with the smallest eigenvalue of A
 * in the message, when A is indefinite or singular to working precision. */
berg_status berg__fisher_cholesky(size_t d, const double *A, double *L, const char *fn,
                                  const char *name);

/* A computed result (n values) is finite: BERG_ERR_NONFINITE naming what
 * and the first entry that overflowed otherwise. For results that can
 * overflow for extreme but finite input; call it on scratch, before
 * anything is copied to the caller. */
berg_status berg__fisher_result_finite(const double *A, size_t n, const char *fn,
                                       const char *what);

/* Copy the lower triangle of a d x d row-major matrix to its upper one. */
void berg__fisher_mirror_lower(size_t d, double *A);

/* Make A exactly symmetric by averaging A and A^T. */
void berg__fisher_symmetrize(size_t d, double *A);

#endif
