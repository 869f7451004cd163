/*
 * berg/transport.h - Wasserstein distances and entropic optimal transport (seed eq 17-24).
 */
#ifndef BERG_TRANSPORT_H
#define BERG_TRANSPORT_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"
#include "berg/heat.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Optimal transport for the quadratic cost c(x, y) = |x - y|_g^2 =
 * (x - y).g(x - y) (seed eq 17-24). Distances are returned, not their
 * squares. Densities follow berg/space.h (with respect to Vol_S); they need
 * not be normalized: every function here divides a density by its mass, so
 * only its shape matters. Negative or non-finite values and zero mass are
 * refused (BERG_ERR_NEGATIVE / _NONFINITE / _MASS), mismatched spaces give
 * BERG_ERR_MISMATCH, and nothing the caller owns is written on failure.
 * See docs/wasserstein.md.
 */

/* ---- one dimension: exact, via quantile functions -------------------- */

/*
 * Exact W2 between densities p and q on a rank-1 space, read as piecewise
 * constant on the cells (so the quantile functions are piecewise linear and
 * |F^{-1}(s) - G^{-1}(s)|^2 is integrated exactly over the merged
 * breakpoints, O(n)). The distance is that of the interval [lo, hi] with
 * the metric g (a 1x1 g scales it by sqrt(g)), for every boundary kind: on a
 * periodic axis it is not the (possibly smaller) distance on the circle.
 */
BERG_API berg_status berg_w2_distance_1d(const berg_space *space, const double *p,
                                         const double *q, double *w2);

/* W_order for order >= 1 (finite), same reading as berg_w2_distance_1d:
 * (integral_0^1 |F^{-1}(s) - G^{-1}(s)|^order ds)^{1/order}, exact per
 * segment. order < 1 or non-finite: BERG_ERR_DOMAIN. */
BERG_API berg_status berg_wp_distance_1d(const berg_space *space, double order, const double *p,
                                         const double *q, double *wp);

/*
 * Displacement interpolation (McCann) on a rank-1 space: out is the density
 * of ((1 - t) F^{-1} + t G^{-1})_# Lebesgue[0,1], t in [0, 1], exact for
 * piecewise constant p and q: each merged quantile segment spreads its mass
 * uniformly over its image, and out gets the mass of each cell divided by
 * the cell weight (so out is normalized). W2(p, out) = t W2(p, q) up to
 * the re-binning into cells (docs/wasserstein.md).
 * t outside [0, 1]: BERG_ERR_DOMAIN. out may alias p or q.
 */
BERG_API berg_status berg_w2_interpolate_1d(const berg_space *space, const double *p,
                                            const double *q, double t, double *out);

/* ---- Gaussians: the Bures closed form ---------------------------------- */

/*
 * W2 between N(m1, S1) and N(m2, S2) in R^d (Euclidean cost), d >= 1:
 *   W2^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S1^{1/2} S2 S1^{1/2})^{1/2},
 * evaluated without cancellation as |m1 - m2|^2 + ||S1^{1/2} - S2^{1/2} Q||_F^2
 * with Q the orthogonal polar factor of S2^{1/2} S1^{1/2} (square roots by
 * LAPACKE dsyevr, Q by dgesvd), so tiny distances keep full relative
 * accuracy. S1, S2: d x d row-major, symmetric to a relative 1e-12, positive
 * SEMI-definite: singular covariances (degenerate Gaussians) are accepted,
 * eigenvalues below -1e-12 * max|eigenvalue| are refused (BERG_ERR_NOT_SPD)
 * and smaller negative ones (round-off) are clamped to 0.
 */
BERG_API berg_status berg_w2_gaussian(int d, const double *m1, const double *S1,
                                      const double *m2, const double *S2, double *w2);

/* ---- entropic transport: convolutional Sinkhorn ------------------------ */

/*
 * A berg_sinkhorn solves entropic OT between densities on one space
 * (Solomon et al. 2015) for the cost c = |x - y|_g^2 and regularization
 * eps > 0 (units of c):
 *   OT_eps(p, q) = min_pi  int c dpi + eps KL(pi | p (x) q),
 * whose Gibbs kernel e^{-c/eps} is the heat kernel e^{t Delta_g} with
 * t = eps/4 (berg_heat). On a periodic axis c is the wrapped cost and on a
 * Neumann axis the reflected one (sum over images): for supports further
 * than ~sqrt(eps) from a wall or half a period apart it is |x - y|_g^2.
 * Dirichlet axes are refused (BERG_ERR_UNSUPPORTED).
 *
 * Two modes:
 *   flags = 0                   scaling iterations with the FFT heat kernel:
 *                               fast, any metric. Accurate while the kernel
 *                               is resolved across the supports, D^2/eps <~ 30
 *                               for D the largest distance between points
 *                               where the densities are non-zero (FFT
 *                               round-off is ~1e-16 of the peak), and
 *                               eps >~ 10 h^2. Outside that range the solve
 *                               stalls or its scalings overflow, and it
 *                               returns BERG_ERR_NO_CONVERGENCE.
 *   BERG_SINKHORN_LOG_DOMAIN    log-domain iterations on the potentials with a
 *                               separable log-sum-exp kernel (the sampled
 *                               image-sum Gaussian per axis, applied by dgemm
 *                               on max-shifted fibers, exact log-sum-exp where
 *                               a sum could underflow): finite for any
 *                               eps > 0; O(N sum_a n_a) per kernel
 *                               application; needs a diagonal metric and
 *                               n_a <= 4096 on every axis. Its image sums
 *                               cover eps <= 99 g_aa L_a^2 on a periodic
 *                               axis of length L_a and 396 g_aa L_a^2 on a
 *                               Neumann one; larger eps is refused
 *                               (BERG_ERR_DOMAIN: use the scaling mode).
 *
 * A handle holds scratch buffers and the report of its last solve: use one
 * handle from one thread at a time (distinct handles are independent).
 */
typedef struct berg_sinkhorn berg_sinkhorn;

/* Flags of berg_sinkhorn_create (pinned values). */

/* Create a solver on space (copied) with regularization eps > 0 (finite;
 * else BERG_ERR_DOMAIN; also BERG_ERR_DOMAIN for a log-domain eps beyond
 * its image sums, see above). Defaults: 10000 iterations, tolerance 1e-9. */
BERG_API berg_status berg_sinkhorn_create(berg_sinkhorn **out, const berg_space *space,
                                          double eps, unsigned flags);

/* Free a solver. NULL is a no-op. */
BERG_API void berg_sinkhorn_destroy(berg_sinkhorn *sk);

/* Threads for the heat-kernel transforms of the scaling mode (>= 1;
 * default 1): the FFTs of every iteration then run on nthreads threads
 * (berg_heat_create_ex); the pointwise work stays on the calling thread.
 * Re-plans the kernel. BERG_ERR_DOMAIN for nthreads < 1,
 * BERG_ERR_UNSUPPORTED for a log-domain handle (which uses no FFT); on
 * failure the handle is unchanged. */
BERG_API berg_status berg_sinkhorn_set_threads(berg_sinkhorn *sk, int nthreads);

/* Iteration cap (>= 1; default 10000). */
BERG_API berg_status berg_sinkhorn_set_max_iterations(berg_sinkhorn *sk, size_t max_iterations);

/* Stopping tolerance on the marginal error (finite, >= 0; default 1e-9).
 * The marginal error is the L1 norm integral |p_hat - p| of the gap between
 * the plan's first marginal and p (the second marginal is exact after each
 * iteration); for barycenters it is the L1 change of the barycenter in one
 * iteration. tolerance = 0 runs exactly max_iterations iterations and never
 * reports non-convergence. */
BERG_API berg_status berg_sinkhorn_set_tolerance(berg_sinkhorn *sk, double tolerance);

/* The regularization eps of the solver. */
BERG_API berg_status berg_sinkhorn_epsilon(const berg_sinkhorn *sk, double *eps);

/*
 * Entropic cost OT_eps(p, q) (the dual value <f, p> + <g, q>). When the
 * marginal error is still above the tolerance after the iteration cap:
 * BERG_ERR_NO_CONVERGENCE, *cost untouched, and berg_sinkhorn_report gives
 * the error reached. OT_eps(p, q) -> W2(p, q)^2 as eps -> 0.
 */
BERG_API berg_status berg_sinkhorn_cost(berg_sinkhorn *sk, const double *p, const double *q,
                                        double *cost);

/*
 * Debiased Sinkhorn divergence S_eps(p, q) = OT_eps(p, q) - (OT_eps(p, p) +
 * OT_eps(q, q)) / 2 (Feydy et al. 2019): >= 0, zero iff p = q, -> W2^2 as
 * eps -> 0. Three solves; when p and q are the same array, one solve
 * (which still reports convergence failures) and *div = 0.
 */
BERG_API berg_status berg_sinkhorn_divergence(berg_sinkhorn *sk, const double *p,
                                              const double *q, double *div);

/*
 * Entropic cost and dual potentials f, g (functions on the grid, units of c)
 * of the last solve: the optimal plan is
 *   pi(x, y) = p(x) q(y) exp((f(x) + g(y) - c(x, y)) / eps).
 * f and g may be NULL when not wanted; cost too.
 */
BERG_API berg_status berg_sinkhorn_solve(berg_sinkhorn *sk, const double *p, const double *q,
                                         double *cost, double *f, double *g);

/*
 * Entropic Wasserstein barycenter of k >= 1 densities (convolutional
 * iterative Bregman projections, Solomon et al. 2015 / Benamou et al. 2015):
 * densities holds k arrays on the space back to back (k * size doubles),
 * weights k non-negative finite values with a positive sum (they are
 * normalized); out (size doubles) receives the normalized barycenter.
 */
BERG_API berg_status berg_sinkhorn_barycenter(berg_sinkhorn *sk, size_t k,
                                              const double *densities, const double *weights,
                                              double *out);

/* Report of the last solve on this handle (successful or not): the
 * marginal error reached and the iterations used (summed over the solves
 * of a divergence, whose error is the largest of the three). Either
 * pointer may be NULL. */
BERG_API berg_status berg_sinkhorn_report(const berg_sinkhorn *sk, double *marginal_error,
                                          size_t *iterations);

#ifdef __cplusplus
}
#endif

#endif /* BERG_TRANSPORT_H */
