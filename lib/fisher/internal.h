/*
 * lib/fisher/internal.h - helpers shared by the fisher module's sources.
 * Not installed; nothing here is exported. The dense linear algebra
 * (symmetry tolerance, Cholesky, eigensolver, mirroring) is lib/core/linalg.h.
 */
#ifndef BERG_FISHER_INTERNAL_H
#define BERG_FISHER_INTERNAL_H

#include <stddef.h>

#include "berg/fisher.h"
#include "core/internal.h"
#include "core/linalg.h"

/* A computed result (n values) is finite: BERG_ERR_NONFINITE naming what
 * and the first entry that overflowed otherwise. For results that can
 * overflow for extreme but finite input; call it on scratch, before
 * anything is copied to the caller. */
berg_status berg__fisher_result_finite(const double *A, size_t n, const char *fn,
                                       const char *what);

/* The module's one check of a callback's output (n values written by the
 * callback `what`): finite (berg__check_callback_output), or, with
 * allow_neg_inf, finite and below 700 or -inf (a log-likelihood:
 * exp must not overflow; the message calls the array logp).
 * BERG_ERR_CALLBACK naming the first bad index. */
berg_status berg__fisher_callback_output(const double *a, size_t n, int allow_neg_inf,
                                         const char *fn, const char *what);

/* Fill a callback's output with NaN before the call, so that an entry the
 * callback forgets to write is reported rather than read as garbage. */
void berg__fisher_poison(double *a, size_t n);

#endif
