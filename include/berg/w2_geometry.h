/**
 * @file berg/w2_geometry.h
 * @brief The l2 and Wasserstein-2 geometry of densities on a grid: gradients
 * of functionals and the W2 metric tensor at a density.
 *
 * Tangent vectors eta at a density p integrate to zero. The W2 operator is
 * L_p u = div(p g^{-1} grad u), discretized on cell faces with the
 * logarithmic mean of p over each face, (p_i - p_j) / (ln p_i - ln p_j),
 * and no flux through the walls of non-periodic axes (p vanishes beyond a
 * Dirichlet wall). L_p is symmetric, negative semi-definite and annihilates
 * constants. With the signs of the conventions page ("Otto calculus"):
 * grad_l2 F = delta F / delta p projected to zero integral,
 * grad_W2 F = -L_p (delta F / delta p), the potential eta_hat of a tangent
 * vector solves L_p eta_hat = eta, and
 * G_W2(eta1, eta2) = integral p grad eta_hat1 . g^{-1} grad eta_hat2 Vol_S
 * = -integral eta1 eta_hat2 Vol_S.
 *
 * Densities. Every argument named p is a "density": finite, >= 0,
 * normalized to 1 within berg_density_mass_tolerance(); an unnormalized one
 * is refused (BERG_ERR_MASS). Functions that differentiate on the grid need
 * a diagonal metric (BERG_ERR_UNSUPPORTED naming the coupled axes
 * otherwise). Every array has berg_space_size(space) entries in C order.
 *
 * Thread safety: berg_l2_gradient and berg_w2_gradient keep no state. A
 * berg_w2_metric is immutable between configuration calls:
 * berg_w2_metric_potential, berg_w2_metric_inner and berg_w2_metric_tangent
 * take a const handle and may be called from many threads at once on one
 * handle (each concurrent caller gets its own scratch). The configuration
 * calls berg_w2_metric_set_density, berg_w2_metric_set_tolerance and
 * berg_w2_metric_set_max_iterations must not run concurrently with any
 * other call on that handle.
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

/**
 * @brief The l2 gradient: out = delta F / delta p projected onto the
 * tangent space (zero integral).
 *
 * out_i = dF_i - integral dF Vol_S / volume. Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  dF     the first variation delta F / delta p, any finite
 *                    values (berg_space_size(space) values).
 * @param[out] out    grad_l2 F, a tangent vector (berg_space_size(space)
 *                    values); may alias dF.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when dF has a NaN or infinite value. out is
 *         untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_l2_gradient(const berg_space *space, const double *dF, double *out);

/**
 * @brief The Wasserstein-2 gradient: out = grad_W2 F = -div(p g^{-1} grad dF) = -L_p dF.
 *
 * With the log-mean face weights; the result is a tangent vector. With
 * dF = berg_entropy_derivative(p) it equals Delta_h p to rounding on
 * periodic and Neumann axes; with dF = berg_kl_derivative(p, q) it is minus
 * the Fokker-Planck right-hand side div(g^{-1}(grad p + p grad V)),
 * q = e^{-V}/Z. Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  dF     the first variation delta F / delta p, any finite
 *                    values (berg_space_size(space) values).
 * @param[out] out    grad_W2 F (berg_space_size(space) values); may alias p or dF.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_NONFINITE when dF has a NaN or infinite
 *         value; BERG_ERR_UNSUPPORTED when the metric couples axes;
 *         BERG_ERR_NOMEM when scratch cannot be allocated. out is untouched
 *         on failure.
 * @since 1.0
 */
BERG_API berg_status berg_w2_gradient(const berg_space *space, const double *p, const double *dF,
                                      double *out);

/* ---- the W2 metric tensor at a density ---- */

/**
 * @brief The Wasserstein-2 metric tensor at a density p: an opaque handle.
 *
 * It holds the face mobilities of p, the preconditioner (a Fourier
 * multiplier) and the solver settings; scratch for the solves comes from a
 * pool in the handle, so serial use never allocates after creation.
 * @since 1.0
 */
typedef struct berg_w2_metric berg_w2_metric;

/**
 * @brief Create the W2 metric tensor at a density p.
 *
 * The potential of a tangent vector, L_p eta_hat = eta, is solved by
 * preconditioned conjugate gradients. The preconditioner is the exact
 * inverse of the constant-coefficient operator Delta_h (an FFT / cosine
 * transform Poisson solve on the finite-difference wave numbers) applied as
 * s^{-1/2} Delta_h^{-1} s^{-1/2}, with s the regularized cell mobility, so
 * that the iteration count depends on how much p varies, not on the grid
 * size. Dirichlet axes have no flux through their walls (as in L_p) and
 * use the cosine transform.
 *
 * The face mobilities are theta_f(p) + regularization * max p. With
 * regularization 0 (the exact metric) p must be > 0 in every cell: a zero
 * cell gives each of its faces the log-mean mobility 0, which can
 * disconnect the grid; the cell is refused (also when
 * regularization * max p underflows to 0). A regularization of 1e-6 .. 1e-2
 * keeps the metric of densities with compact support computable; the
 * iteration count grows slowly as it shrinks.
 *
 * Defaults: relative tolerance 1e-10, at most 1000 iterations
 * (berg_w2_metric_set_tolerance, berg_w2_metric_set_max_iterations).
 * *out is untouched on failure.
 *
 * @param[out] out             the new handle (free with berg_w2_metric_destroy).
 * @param[in]  space           the grid (diagonal metric); the handle keeps a copy.
 * @param[in]  regularization  delta >= 0, finite: the mobility floor as a
 *                             fraction of max p.
 * @param[in]  p               density (berg_space_size(space) values).
 * @param[in]  flags           0 or BERG_PLAN_ESTIMATE (plan the
 *                             preconditioner's transforms quickly).
 * @return BERG_OK; BERG_ERR_NULL when out, space or p is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_UNSUPPORTED when the metric couples axes;
 *         BERG_ERR_DOMAIN when regularization is negative or not finite,
 *         when a flag other than BERG_PLAN_ESTIMATE is set (the message names
 *         it), when p vanishes in a cell with a zero mobility floor (the
 *         message names the cell and asks for a regularization > 0), or
 *         when on some axis the operator's coefficient g^{aa} / h^2 or its
 *         product with max p lies outside [1e-300, 1e300] (extreme cell
 *         widths; inside, the metric scales exactly with the box);
 *         BERG_ERR_SIZE when the grid exceeds what CBLAS can index;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_create(berg_w2_metric **out, const berg_space *space,
                                           double regularization, const double *p,
                                           unsigned flags);

/**
 * @brief Replace the density of the metric, keeping its plans and settings.
 *
 * The same rules as at creation apply to p. On failure the handle keeps its
 * previous density. Configuration: not to be called concurrently with any
 * other call on this handle.
 *
 * @param[in,out] m  the handle.
 * @param[in]     p  density (berg_space_size(space) values).
 * @return BERG_OK; BERG_ERR_NULL when m or p is NULL; BERG_ERR_NONFINITE,
 *         BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is not a density;
 *         BERG_ERR_DOMAIN when p vanishes in a cell with a zero mobility
 *         floor, or when g^{aa} max p / h^2 leaves [1e-300, 1e300] (as
 *         berg_w2_metric_create); BERG_ERR_NOMEM when scratch cannot be
 *         allocated.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_set_density(berg_w2_metric *m, const double *p);

/**
 * @brief Set the relative tolerance of the conjugate-gradient solves.
 *
 * A solve stops when ||L_p eta_hat - eta||_2 <= rtol ||eta||_2. The
 * residual recomputed from eta_hat floors at rounding: an rtol below that
 * floor gives BERG_ERR_NO_CONVERGENCE from the solves, with a message
 * naming the floor. Configuration: not to be called concurrently with any
 * other call on this handle.
 *
 * @param[in,out] m     the handle.
 * @param[in]     rtol  the relative tolerance, in [1e-15, 1) (default 1e-10).
 * @return BERG_OK; BERG_ERR_NULL when m is NULL; BERG_ERR_DOMAIN when rtol
 *         is outside [1e-15, 1) or NaN.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_set_tolerance(berg_w2_metric *m, double rtol);

/**
 * @brief Set the iteration cap of the conjugate-gradient solves.
 *
 * Configuration: not to be called concurrently with any other call on this
 * handle.
 *
 * @param[in,out] m               the handle.
 * @param[in]     max_iterations  the cap, >= 1 (default 1000).
 * @return BERG_OK; BERG_ERR_NULL when m is NULL; BERG_ERR_DOMAIN when
 *         max_iterations is 0.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_set_max_iterations(berg_w2_metric *m, size_t max_iterations);

/**
 * @brief The progress callback of the conjugate-gradient solves
 * (configuration).
 *
 * berg_w2_metric_potential and berg_w2_metric_inner then call progress on
 * the calling thread (see ::berg_progress_fn): when the solve starts, at
 * its iterations at most about every 10 ms, and once when it ends, before
 * writing any output. Its error is the relative residual of the CG
 * recursion (NaN before the first iteration; the last call gives the
 * residual recomputed from the solution), its iteration the CG iterations
 * done, its fraction an estimate from the cap and the residual's decrease
 * towards the tolerance. When progress returns non-zero the solve returns
 * BERG_ERR_CANCELLED and writes none of its outputs (iterations and
 * residual included). Not to be called concurrently with any other call
 * on this handle; with several threads solving at once, progress is
 * called from each of them.
 *
 * @param[in,out] m          the handle.
 * @param[in]     progress   the callback, or NULL for none (the default).
 * @param[in]     user_data  passed to progress unchanged.
 * @return BERG_OK; BERG_ERR_NULL when m is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_set_progress(berg_w2_metric *m, berg_progress_fn progress,
                                                 void *user_data);

/**
 * @brief The threads of the metric's operator (configuration).
 *
 * The operator div(p g^{-1} grad) applied in every conjugate-gradient
 * iteration of ::berg_w2_metric_potential and ::berg_w2_metric_inner, and
 * in ::berg_w2_metric_tangent, runs on ranges of cells; each cell's value
 * is computed exactly as on one thread, so the results are the same,
 * bitwise. Grids under 32768 cells stay on one thread. The preconditioner's
 * FFTs use FFTW's threads as set at creation (berg_set_threads()). Not to
 * be called concurrently with other calls on m.
 *
 * @param[in,out] m         the metric.
 * @param[in]     nthreads  0 (the default: follow berg_set_threads()) or 1
 *                          to 1024.
 * @return BERG_OK; BERG_ERR_NULL when m is NULL; BERG_ERR_DOMAIN when
 *   nthreads is above 1024 (the setting is unchanged).
 * @since 1.1
 */
BERG_API berg_status berg_w2_metric_set_threads(berg_w2_metric *m, size_t nthreads);

/**
 * @brief The potential eta_hat of a tangent vector: L_p eta_hat = eta, zero mean.
 *
 * eta must be a tangent vector: |integral eta| <= 1e-10 integral |eta|.
 * Safe from many threads at once on one handle.
 *
 * @param[in]  m           the handle.
 * @param[in]  eta         tangent vector, finite (berg_space_size(space) values).
 * @param[out] eta_hat     the potential, zero mean (berg_space_size(space)
 *                         values); may alias eta. Untouched on failure.
 * @param[out] iterations  the CG iterations taken (also written when
 *                         the solve does not converge); may be NULL.
 * @param[out] residual    the achieved relative residual
 *                         ||L_p eta_hat - eta|| / ||eta||, recomputed from
 *                         eta_hat (also written when the solve does
 *                         not converge); may be NULL.
 * @return BERG_OK; BERG_ERR_NULL when m, eta or eta_hat is NULL;
 *         BERG_ERR_NONFINITE when eta has a NaN or infinite value (the
 *         message names the index); BERG_ERR_NOT_TANGENT when eta does not
 *         integrate to zero; BERG_ERR_NO_CONVERGENCE when the tolerance is
 *         not reached within the cap, or when the residual stalls at its
 *         rounding floor above the tolerance first (the message gives the
 *         residual reached and says which); BERG_ERR_NOMEM when scratch
 *         cannot be allocated; BERG_ERR_CANCELLED when the progress callback
 *         (berg_w2_metric_set_progress()) stopped the solve.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_potential(const berg_w2_metric *m, const double *eta,
                                              double *eta_hat, size_t *iterations,
                                              double *residual);

/**
 * @brief The W2 inner product G = G_W2(eta1, eta2) = -integral eta1 eta_hat2 Vol_S.
 *
 * One conjugate-gradient solve (for eta_hat2). Symmetric in its arguments
 * up to the solver tolerance, positive for eta1 = eta2 != 0. Safe from many
 * threads at once on one handle.
 *
 * @param[in]  m           the handle.
 * @param[in]  eta1        tangent vector, finite (berg_space_size(space) values).
 * @param[in]  eta2        tangent vector, finite (berg_space_size(space) values).
 * @param[out] G           the inner product. Untouched on failure.
 * @param[out] iterations  the CG iterations taken (also written when
 *                         the solve does not converge); may be NULL.
 * @param[out] residual    the achieved relative residual of the solve for
 *                         eta_hat2 (also written when the solve
 *                         does not converge); may be NULL.
 * @return BERG_OK; BERG_ERR_NULL when m, eta1, eta2 or G is NULL;
 *         BERG_ERR_NONFINITE when eta1 or eta2 has a NaN or infinite value;
 *         BERG_ERR_NOT_TANGENT when eta1 or eta2 does not integrate to zero
 *         (the message names which); BERG_ERR_NO_CONVERGENCE as for
 *         berg_w2_metric_potential; BERG_ERR_NOMEM when scratch cannot be
 *         allocated; BERG_ERR_CANCELLED when the progress callback stopped
 *         the solve.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_inner(const berg_w2_metric *m, const double *eta1,
                                          const double *eta2, double *G, size_t *iterations,
                                          double *residual);

/**
 * @brief The tangent vector of a potential: eta = L_p eta_hat.
 *
 * With the handle's regularized mobilities. Safe from many threads at once
 * on one handle.
 *
 * @param[in]  m        the handle.
 * @param[in]  eta_hat  the potential, any finite values (berg_space_size(space) values).
 * @param[out] eta      L_p eta_hat, a tangent vector (berg_space_size(space)
 *                      values); may alias eta_hat. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when eta_hat has a NaN or infinite value (the
 *         message names the index); BERG_ERR_NOMEM when scratch cannot be
 *         allocated.
 * @since 1.0
 */
BERG_API berg_status berg_w2_metric_tangent(const berg_w2_metric *m, const double *eta_hat,
                                            double *eta);

/**
 * @brief Free a W2 metric handle.
 *
 * Not concurrently with other calls on the handle. Takes no global lock and
 * never waits for another thread's FFT planning.
 *
 * @param[in] m  the handle; NULL is a no-op.
 * @since 1.0
 */
BERG_API void berg_w2_metric_destroy(berg_w2_metric *m);

#ifdef __cplusplus
}
#endif

#endif /* BERG_W2_GEOMETRY_H */
