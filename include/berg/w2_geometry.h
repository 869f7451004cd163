/*
 * berg/w2_geometry.h - l2 and Wasserstein-2 gradients and the W2 metric tensor at a density (seed eq 15-20).
 */
#ifndef BERG_W2_GEOMETRY_H
#define BERG_W2_GEOMETRY_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- gradients ---- */

/* grad_l2 F = delta F / delta p projected onto the tangent space (zero
 * integral). dF must be finite. out may alias dF. */
BERG_API berg_status berg_l2_gradient(const berg_space *space, const double *dF, double *out);

/* grad_W2 F = -div(p g^{-1} grad dF) = -L_p dF (eq 20) with the log-mean
 * face weights, dF = delta F / delta p (finite). The result is a tangent
 * vector. With dF = berg_entropy_derivative(p) it equals Delta_h p on
 * periodic and Neumann axes; with dF = berg_kl_derivative(p, q) it is minus
 * the Fokker-Planck right-hand side div(g^{-1}(grad p + p grad V)),
 * q = e^{-V}/Z (eq 24, 26). out may alias p or dF. Diagonal metric. */
BERG_API berg_status berg_w2_gradient(const berg_space *space, const double *p, const double *dF,
                                      double *out);

/* ---- the W2 metric tensor at a density p ---- */

typedef struct berg_w2_metric berg_w2_metric;

/*
 * The Wasserstein-2 metric at p: solves L_p eta_hat = eta (eq 18) by
 * preconditioned conjugate gradients. The preconditioner is the exact
 * inverse of the constant-coefficient operator mean(p) Delta_h (an FFT /
 * DCT Poisson solve, berg_multiplier), applied as s^{-1/2} Delta_h^{-1}
 * s^{-1/2} with s the cell mobility, so the iteration count depends on how
 * much p varies, not on the grid size.
 *
 * regularization delta >= 0: the face mobilities are theta_f(p) +
 * delta * max p. With delta = 0 (exact metric) p must be > 0 everywhere: a
 * zero cell gives each of its faces the log-mean mobility L(0, b) = 0, which
 * can disconnect the grid, and BERG_ERR_DOMAIN names the first such cell and
 * asks for delta > 0 (also when delta * max p underflows to 0).
 * delta ~ 1e-6 .. 1e-2 keeps the metric of densities with compact support
 * computable; the iteration count grows slowly as delta shrinks
 * (docs/metric.md: 20 at 1e-2, 130 at 1e-6 on a 256^2 grid).
 * flags: 0, or BERG_PLAN_ESTIMATE (propagator.h) for a fast creation.
 * Defaults: relative tolerance 1e-10, at most 1000 iterations.
 * Dirichlet axes: zero flux (as in L_p), the preconditioner uses the DCT.
 * Errors: as for densities, BERG_ERR_UNSUPPORTED (coupled metric),
 * BERG_ERR_DOMAIN, BERG_ERR_NOMEM, BERG_ERR_INTERNAL.
 */
BERG_API berg_status berg_w2_metric_create(berg_w2_metric **out, const berg_space *space,
                                           const double *p, double regularization, unsigned flags);

/* Replace the density (same rules as at creation), keeping the plans. On
 * failure the handle keeps its previous density. */
BERG_API berg_status berg_w2_metric_set_density(berg_w2_metric *m, const double *p);

/* CG stopping rule: ||L eta_hat - eta||_2 <= rtol ||eta||_2, rtol in
 * [1e-15, 1) (default 1e-10); at most max_iterations >= 1 (default 1000).
 * The residual recomputed from eta_hat floors at rounding (4e-14 measured
 * on a 48 x 40 grid): an rtol below the floor gives BERG_ERR_NO_CONVERGENCE
 * with a message naming the floor. */
BERG_API berg_status berg_w2_metric_set_tolerance(berg_w2_metric *m, double rtol);
BERG_API berg_status berg_w2_metric_set_max_iterations(berg_w2_metric *m, size_t max_iterations);

/*
 * eta_hat with L_p eta_hat = eta and zero mean, for a tangent vector eta
 * (|integral eta| <= 1e-10 integral |eta|, else BERG_ERR_NOT_TANGENT).
 * iterations and residual (either may be NULL) receive the CG iterations
 * and the achieved relative residual ||L eta_hat - eta|| / ||eta|| (also on
 * failure). BERG_ERR_NO_CONVERGENCE (eta_hat untouched) when the tolerance
 * is not reached within the cap, or when the residual stalls at its rounding
 * floor above the tolerance first; the message gives the residual reached
 * and says which.
 * eta_hat may alias eta.
 */
BERG_API berg_status berg_w2_metric_potential(berg_w2_metric *m, const double *eta,
                                              double *eta_hat, size_t *iterations,
                                              double *residual);

/* *G = G_W2(eta1, eta2) = -integral eta1 eta_hat2 Vol_S (eq 17), one CG
 * solve; iterations and residual as above. */
BERG_API berg_status berg_w2_metric_inner(berg_w2_metric *m, const double *eta1,
                                          const double *eta2, double *G, size_t *iterations,
                                          double *residual);

/* eta = L_p eta_hat (the tangent vector of a potential; regularized
 * mobility). eta may alias eta_hat. */
BERG_API berg_status berg_w2_metric_tangent(berg_w2_metric *m, const double *eta_hat,
                                            double *eta);

/* Free the handle. NULL is a no-op. */
BERG_API void berg_w2_metric_destroy(berg_w2_metric *m);

#ifdef __cplusplus
}
#endif

#endif /* BERG_W2_GEOMETRY_H */
