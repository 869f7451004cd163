/*
 * berg/metric.h - see docs/metric.md.
 */
#ifndef BERG_METRIC_H
#define BERG_METRIC_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== information functionals, tangent space, l2 / W2 geometry (issue 5) ==== */

/*
 * Information functionals of densities on a grid and the l2 / Wasserstein-2
 * geometry of the space of densities (seed eq 12-24), with the signs of
 * docs/conventions.md ("Otto calculus"). See docs/metric.md.
 *
 * Densities. Every argument named p or q is a density with respect to
 * Vol_S: finite, >= 0, and normalized, w * sum_i p_i = 1 within a relative
 * berg_density_mass_tolerance() (1e-9). These functions do not normalize:
 * an unnormalized density is refused with BERG_ERR_MASS (call
 * berg_space_normalize first), negative values with BERG_ERR_NEGATIVE,
 * NaN/Inf with BERG_ERR_NONFINITE. 0 ln 0 = 0.
 *
 * Discretization. Integrals are cell sums times the cell weight w. Gradients
 * live on cell faces: (f_j - f_i) / h_a between neighbours along axis a
 * (periodic axes wrap). The discrete Laplacian Delta_h (berg_discrete_laplacian)
 * is the flux form sum_a g^{aa} (f_{i+1} - 2 f_i + f_{i-1}) / h_a^2 with a
 * Neumann axis closed (zero flux) and a Dirichlet axis seeing zero outside.
 * The W2 operator L_p u = div(p g^{-1} grad u) weighs each face by the
 * logarithmic mean of p over it, (p_i - p_j) / (ln p_i - ln p_j), and has
 * no flux through the walls of non-periodic axes (p vanishes beyond a
 * Dirichlet wall). With this choice grad_W2 S = Delta_h p holds exactly
 * (to rounding) on periodic and Neumann axes, L_p is symmetric negative
 * semi-definite and annihilates constants, and along the discrete flows
 * the dissipation identities (de Bruijn, KL decay) are exact. Functions
 * that differentiate on the grid need a diagonal metric (coupled periodic
 * axes would need mixed-derivative stencils): BERG_ERR_UNSUPPORTED
 * otherwise. Entropy, KL, cross-entropy, potential and free energy,
 * moments and the heat-channel information accept any metric.
 *
 * Every function here may be called from several threads at once, except
 * that one berg_w2_metric handle is used by one thread at a time.
 */

/* The relative tolerance on the mass of a density (1e-9). */
BERG_API double berg_density_mass_tolerance(void);

/* ---- functionals: values ---- */

/* *S = -integral p ln p Vol_S (0 ln 0 = 0). */
BERG_API berg_status berg_entropy(const berg_space *space, const double *p, double *S);

/* *D = integral p ln(p / q) Vol_S >= 0; +infinity (HUGE_VAL) when q vanishes
 * somewhere p does not. */
BERG_API berg_status berg_kl_divergence(const berg_space *space, const double *p, const double *q,
                                        double *D);

/* *H = -integral p ln q Vol_S = S[p] + KL(p||q); +infinity where q vanishes
 * on the support of p. */
BERG_API berg_status berg_cross_entropy(const berg_space *space, const double *p, const double *q,
                                        double *H);

/* *E = integral p V Vol_S for a finite potential V. */
BERG_API berg_status berg_potential_energy(const berg_space *space, const double *p,
                                           const double *V, double *E);

/* *F = integral p V Vol_S - S[p]. With Z = integral e^{-V} Vol_S,
 * F + ln Z = KL(p || e^{-V}/Z) (eq 23). */
BERG_API berg_status berg_free_energy(const berg_space *space, const double *p, const double *V,
                                      double *F);

/* *E = 1/2 integral |grad p|^2_g Vol_S on the faces (Dirichlet walls count
 * their zero outside value), so that delta E / delta p = -Delta_h p
 * exactly. Diagonal metric. */
BERG_API berg_status berg_dirichlet_energy(const berg_space *space, const double *p, double *E);

/* *J = integral p |grad ln p|^2_g Vol_S, discretized as
 * w sum_faces g^{aa}/h_a^2 (p_j - p_i)(ln p_j - ln p_i) (walls carry no
 * flux). +infinity when a zero of p neighbours a positive value. Along the
 * discrete heat flow d/dt p = Delta_h p, d S / dt = J exactly (de Bruijn).
 * Diagonal metric. */
BERG_API berg_status berg_fisher_information(const berg_space *space, const double *p,
                                             double *J);

/* *info = integral p |grad ln(p/q)|^2_g Vol_S, discretized with the log-mean
 * face weights of the W2 operator, so that along the discrete
 * Fokker-Planck flow d/dt p = L_p ln(p/q), d KL(p||q) / dt = -info
 * exactly and ||d/dt p||^2_W2 = info. q must be > 0 everywhere (BERG_ERR_DOMAIN);
 * +infinity when a zero of p neighbours a positive value. Diagonal metric. */
BERG_API berg_status berg_relative_fisher_information(const berg_space *space, const double *p,
                                                      const double *q, double *info);

/* ---- functionals: first variations delta F / delta p on the grid ----
 * out (berg_space_size values) receives the array whose l2 pairing with a
 * tangent vector eta is the directional derivative: d/de F[p + e eta] at
 * e = 0 equals integral out * eta Vol_S. Wherever a logarithm of p or q
 * enters, that density must be > 0 everywhere (BERG_ERR_DOMAIN naming the
 * first zero). out may alias any input. */

/* -ln p - 1 */
BERG_API berg_status berg_entropy_derivative(const berg_space *space, const double *p,
                                             double *out);
/* ln(p / q) + 1 */
BERG_API berg_status berg_kl_derivative(const berg_space *space, const double *p, const double *q,
                                        double *out);
/* -ln q */
BERG_API berg_status berg_cross_entropy_derivative(const berg_space *space, const double *p,
                                                   const double *q, double *out);
/* V */
BERG_API berg_status berg_potential_energy_derivative(const berg_space *space, const double *p,
                                                      const double *V, double *out);
/* V + ln p + 1 */
BERG_API berg_status berg_free_energy_derivative(const berg_space *space, const double *p,
                                                 const double *V, double *out);
/* -Delta_h p */
BERG_API berg_status berg_dirichlet_energy_derivative(const berg_space *space, const double *p,
                                                      double *out);
/* -Delta_h ln p - (Delta_h p) / p  (continuum: -2 Delta p / p + |grad ln p|^2) */
BERG_API berg_status berg_fisher_information_derivative(const berg_space *space, const double *p,
                                                        double *out);
/* exact derivative of the discrete relative Fisher information */
BERG_API berg_status berg_relative_fisher_information_derivative(const berg_space *space,
                                                                 const double *p, const double *q,
                                                                 double *out);

/* out = Delta_h f (the flux-form Laplacian above) for any finite f. out may
 * alias f. Diagonal metric. */
BERG_API berg_status berg_discrete_laplacian(const berg_space *space, const double *f,
                                             double *out);

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

/* ---- moments and connected moments (cumulants) ----
 * Results fill a tensor of (order + 1)^d doubles in C order: entry
 * [a_1, ..., a_d] is the moment or cumulant of multi-index alpha =
 * (a_1, ..., a_d), for every alpha of total order |alpha| <= order; entries
 * with |alpha| > order are set to 0. order is 1 .. 16. Coordinates are the
 * cell centres of the box (also on periodic axes). Per axis: alpha = k e_a.
 * A Gaussian has no cumulant beyond order 2 (the seed's renormalizability
 * criterion, p.35, counts the connected moments a density needs). */

/* raw moments E[x^alpha] */
BERG_API berg_status berg_moments(const berg_space *space, const double *p, int order,
                                  double *m);
/* central moments E[(x - mean)^alpha] */
BERG_API berg_status berg_central_moments(const berg_space *space, const double *p, int order,
                                          double *m);
/* cumulants kappa_alpha (first order: the mean; second: the covariance),
 * from the central moments by the recursion
 * kappa_alpha = mu_alpha - sum_{gamma < beta} C(beta, gamma)
 * kappa_{gamma + e_j} mu_{beta - gamma}, alpha = beta + e_j. */
BERG_API berg_status berg_cumulants(const berg_space *space, const double *p, int order,
                                    double *kappa);

/* ---- information kept by a heat channel ----
 * *info = I(X_0; X_t) for X_0 ~ p and X_t = X_0 diffused by e^{t Delta_g}:
 * S[e^{t Delta_g} p] - H(X_t | X_0), where the conditional entropy is the
 * entropy of the grid's heat kernel averaged over p (translation invariant
 * on periodic axes; per starting cell on Neumann axes). This is the exact
 * mutual information of the discrete channel. flags are passed to
 * berg_heat_create (0, BERG_PLAN_ESTIMATE, BERG_SYMBOL_FD: the latter keeps
 * kernels positive for small t); each call plans its transforms, so pass
 * BERG_PLAN_ESTIMATE when calling it often. Kernel values below -1e-6 * max (spectral
 * ringing at t << h^2) are refused with BERG_ERR_DOMAIN; smaller negative
 * rounding is set to 0. Dirichlet axes (mass leaks: no channel) are
 * BERG_ERR_UNSUPPORTED. t >= 0 (BERG_ERR_TIME). */
BERG_API berg_status berg_heat_mutual_information(const berg_space *space, const double *p,
                                                  double t, unsigned flags, double *info);

/* ==== end of the functionals section ==== */

/* ==== Wasserstein distances and entropic transport (issue 6) ==== */

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
enum { BERG_SINKHORN_LOG_DOMAIN = 1 };

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

/* ==== end of the Wasserstein section ==== */

#ifdef __cplusplus
}
#endif

#endif /* BERG_METRIC_H */
