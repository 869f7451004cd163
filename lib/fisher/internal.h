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

/* ---- kernels for other modules -------------------------------------------
 * The work of the public functions of the same name without their argument
 * checks: the caller has validated (non-NULL pointers, dimensions in
 * 1..INT_MAX whose products fit, finite inputs, symmetric matrices, exactly
 * one callback). They report only what can fail inside (a matrix that is
 * not positive definite, a callback, an overflow, memory), with messages
 * that name fn, the caller's public function. */
berg_status berg__fisher_jacobian(size_t du, size_t dy, const double *u, double *J,
                                  berg_forward_fn G, berg_jacobian_fn jac, void *user_data,
                                  const char *fn);
berg_status berg__fisher_model(const berg_space *space, size_t npar, const double *u,
                               double *Imat, berg_grid_loglik_fn loglik,
                               berg_grid_score_fn score_fn, void *user_data, const char *fn);
berg_status berg__fisher_pullback(size_t dy, size_t du, const double *J, const double *Imat,
                                  double *K, const char *fn);
berg_status berg__fisher_inverse(size_t dim, const double *Imat, double *Iinv, const char *fn);

#endif
