/**
 * @file berg/transport.h
 * @brief Wasserstein distances and entropic optimal transport.
 *
 * Optimal transport for the quadratic cost c(x, y) = |x - y|_g^2 =
 * (x - y).g(x - y) on a berg_space: exact distances in one dimension
 * (quantile functions), the closed form between Gaussians (Bures), and
 * entropic transport (convolutional Sinkhorn: costs, debiased divergences,
 * dual potentials and barycenters) on a space of any rank. Distances are
 * returned, not their squares; entropic costs and divergences are in units
 * of c, like W2^2.
 *
 * Every array argument named p, q or densities is a "measure": finite,
 * >= 0, with positive finite mass (integral over Vol_S); it is normalized
 * internally, so only its shape matters: values may be subnormal, and an
 * integral beyond the double range is fine while the sum of the values is
 * finite. Negative or non-finite values and zero or infinite mass (sum of
 * the values) are refused (BERG_ERR_NEGATIVE, BERG_ERR_NONFINITE,
 * BERG_ERR_MASS, the message naming the argument and the first offending
 * index). Outputs that are densities are normalized to 1. Nothing the
 * caller owns is written when a call fails.
 *
 * Thread safety: the distance functions are reentrant. A berg_sinkhorn is
 * immutable after creation except through its setters (configuration: do
 * not call them concurrently with other calls on the same handle); cost,
 * divergence, solve and barycenter take a const handle and may run on many
 * threads at once on one handle.
 */
#ifndef BERG_TRANSPORT_H
#define BERG_TRANSPORT_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Exact W2 distance between two measures on a rank-1 space.
 *
 * The measures are read as constant on each cell, so their quantile
 * functions F^{-1}, G^{-1} are piecewise linear and
 *   W2(p, q) = ( integral_0^1 |F^{-1}(s) - G^{-1}(s)|^2 ds )^{1/2}
 * is integrated exactly over the merged breakpoints, in O(n): a
 * branch-free merge of the two CDFs cut into 16 fixed pieces, which run on
 * berg_threads() threads (berg_set_threads()); the pieces depend on n only,
 * so the result is the same, bitwise, on any number of threads. The
 * distance is that of the interval [lower, upper] with the 1x1 metric g (it
 * scales by sqrt(g)), for every boundary kind: on a periodic axis it is not
 * the (possibly smaller) distance on the circle.
 *
 * @param[in]  space  a rank-1 space with n cells.
 * @param[in]  p      measure, n values.
 * @param[in]  q      measure, n values.
 * @param[out] w2     the distance W2(p, q) (not its square).
 * @return BERG_OK; BERG_ERR_NULL for a NULL argument; BERG_ERR_DOMAIN when
 *         the space's rank is not 1; BERG_ERR_NEGATIVE, BERG_ERR_NONFINITE
 *         or BERG_ERR_MASS for a p or q that is not a measure.
 * @since 1.0
 */
BERG_API berg_status berg_w2_distance_1d(const berg_space *space, const double *p,
                                         const double *q, double *w2);

/**
 * @brief Exact W_order distance between two measures on a rank-1 space.
 *
 * W_order(p, q) = ( integral_0^1 |F^{-1}(s) - G^{-1}(s)|^order ds )^{1/order},
 * with the same reading as berg_w2_distance_1d (piecewise constant on
 * cells, exact per merged quantile segment, written without cancellation).
 * The differences are divided by their largest value first and, when the
 * powers underflow (large orders), summed in logarithms, so every finite
 * order gives a finite result (tending to the largest quantile gap, W_inf,
 * as the order grows).
 *
 * @param[in]  space  a rank-1 space with n cells.
 * @param[in]  order  the exponent, finite and >= 1 (a real number).
 * @param[in]  p      measure, n values.
 * @param[in]  q      measure, n values.
 * @param[out] wp     the distance W_order(p, q).
 * @return BERG_OK; BERG_ERR_NULL for a NULL argument; BERG_ERR_DOMAIN for
 *         order < 1 or not finite, or a space whose rank is not 1;
 *         BERG_ERR_NEGATIVE, BERG_ERR_NONFINITE or BERG_ERR_MASS for a p or
 *         q that is not a measure.
 * @since 1.0
 */
BERG_API berg_status berg_wp_distance_1d(const berg_space *space, double order, const double *p,
                                         const double *q, double *wp);

/**
 * @brief McCann's displacement interpolation between two measures on a
 * rank-1 space.
 *
 * out is the density of ((1 - t) F^{-1} + t G^{-1})_# Lebesgue[0, 1],
 * exact for piecewise constant p and q: each merged quantile segment
 * spreads its mass uniformly over its image, and each cell receives the
 * mass it covers divided by the cell weight. W2(p, out) = t W2(p, q) up to
 * this re-binning into cells. For two measures it is also the exact W2
 * barycenter with weights (1 - t, t).
 *
 * @param[in]  space  a rank-1 space with n cells.
 * @param[in]  t      the interpolation time, in [0, 1].
 * @param[in]  p      measure at t = 0, n values.
 * @param[in]  q      measure at t = 1, n values.
 * @param[out] out    density (normalized to 1), n values; may be the same
 *                    array as p or q.
 * @return BERG_OK; BERG_ERR_NULL for a NULL argument; BERG_ERR_DOMAIN for t
 *         outside [0, 1] or a space whose rank is not 1, or when a value of
 *         out overflows (cells too small for the interpolated density; the
 *         message names the cell); BERG_ERR_NEGATIVE, BERG_ERR_NONFINITE or
 *         BERG_ERR_MASS for a p or q that is not a measure; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_w2_interpolate_1d(const berg_space *space, double t, const double *p,
                                            const double *q, double *out);

/**
 * @brief W2 distance between two Gaussians N(m1, S1) and N(m2, S2) in R^d
 * (Euclidean cost), by the Bures closed form.
 *
 *   W2^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S1^{1/2} S2 S1^{1/2})^{1/2},
 * evaluated without cancellation as |m1 - m2|^2 + ||S1^{1/2} - S2^{1/2} Q||_F^2
 * with Q the orthogonal polar factor of S2^{1/2} S1^{1/2}, so tiny distances
 * keep full relative accuracy (an absolute error of a few ulps of the
 * square roots' norms). Singular covariances (degenerate Gaussians) are
 * accepted; eigenvalues below -1e-12 times the largest magnitude are
 * refused, smaller negative ones are round-off and clamped to 0.
 *
 * @param[in]  d   the dimension, >= 1.
 * @param[in]  m1  mean of the first Gaussian, d finite values.
 * @param[in]  S1  covariance of the first Gaussian, d x d row-major,
 *                 symmetric (to a relative 1e-10 of its largest entry) and
 *                 positive semi-definite.
 * @param[in]  m2  mean of the second Gaussian, d finite values.
 * @param[in]  S2  covariance of the second Gaussian, as S1.
 * @param[out] w2  the distance W2 (not its square).
 * @return BERG_OK; BERG_ERR_NULL for a NULL argument; BERG_ERR_SIZE for
 *         d = 0 or d too large for BLAS; BERG_ERR_NONFINITE for a non-finite
 *         mean or covariance entry; BERG_ERR_NOT_SPD for an asymmetric or
 *         indefinite covariance; BERG_ERR_DOMAIN when the distance exceeds
 *         DBL_MAX (finite means far apart; the difference of the means is
 *         formed in halves, so it never overflows on its own);
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when LAPACK fails.
 * @since 1.0
 */
BERG_API berg_status berg_w2_gaussian(size_t d, const double *m1, const double *S1,
                                      const double *m2, const double *S2, double *w2);

/**
 * @brief An entropic optimal transport solver on one space (convolutional
 * Sinkhorn).
 *
 * It solves, for the cost c = |x - y|_g^2 and a regularization eps > 0
 * (units of c),
 *   OT_eps(p, q) = min_pi  integral c dpi + eps KL(pi | p (x) q),
 * whose Gibbs kernel e^{-c/eps} is, up to the constant (pi eps)^{d/2}, the
 * heat kernel e^{t Delta_g} at t = eps/4 (Solomon et al. 2015). On a
 * periodic axis c is the wrapped cost and on a Neumann axis the reflected
 * one (a sum over images): for supports further than ~sqrt(eps) from a
 * wall and less than half a period apart it is |x - y|_g^2. Dirichlet axes
 * are refused.
 *
 * Three iterations (flags of berg_sinkhorn_create; @since 1.1 for the
 * first two):
 * - BERG_SINKHORN_FFT: scaling iterations with the FFT heat kernel; any
 *   metric. Accurate while the kernel is resolved across the supports: its
 *   round-off is ~1e-16 of the peak, so the marginal error stalls near
 *   1e-16 e^{D^2/eps} for D the largest distance between points where the
 *   measures are non-zero, and eps >~ 4 h^2. A stalled solve returns
 *   BERG_ERR_NO_CONVERGENCE with the error reached.
 * - BERG_SINKHORN_STABILIZED: scaling iterations with the exact separable
 *   kernel (the sampled image-sum Gaussian per axis) applied as dense
 *   per-axis products (CBLAS dgemm, O(N sum_a n_a)); the separable part of
 *   large scalings is absorbed into per-axis potentials, and the result is
 *   checked with the exact log-domain kernel. Finite where the FFT kernel
 *   loses its tails; gives up (BERG_ERR_NO_CONVERGENCE) when the
 *   potentials' non-separable part exceeds ~270 eps. Pair solves anneal
 *   (eps-scaling from eps 2^m, halving) when D^2 > 256 eps.
 * - BERG_SINKHORN_LOG_DOMAIN: log-domain iterations on the potentials with
 *   the same separable kernel as a log-sum-exp, finite however small eps is.
 * The last two need a diagonal metric and at most 4096 cells per axis, and
 * their image sums cover eps <= 99 g_aa L_a^2 on a periodic axis of length
 * L_a and 396 g_aa L_a^2 on a Neumann one; larger eps is refused (use the
 * FFT iteration there). In the log domain the potentials f/eps reach C/eps,
 * C = sum_ab |g_ab| L_a L_b (a bound of the cost over the box), and are
 * rounded to 4 DBL_EPSILON C/eps: a solve whose tolerance (1e-3 for a
 * tolerance of 0) is below that floor is refused with BERG_ERR_DOMAIN
 * before it iterates (with the default tolerance 1e-9: eps >= ~9e-7 C).
 *
 * The default (flags 0, changed in 1.1) chooses per call: the FFT
 * iteration when the squared extent D^2 of the union of the input
 * measures' supports is at most (log(tol / 2.2e-16) - 3) eps (at most
 * 25 eps) and eps >= 4 max_a g_aa h_a^2, and always on a coupled metric,
 * axes over 1024 cells, eps beyond the image sums or eps below the grid's
 * resolution max_a g_aa h_a^2 (1.0's mode); else the stabilized iteration,
 * falling back on the log domain when it gives up. berg_sinkhorn_report_mode()
 * says which ran.
 *
 * Every solve stops on the L1 violation of the marginals of every input
 * measure (see berg_sinkhorn_set_tolerance()) and returns
 * BERG_ERR_NO_CONVERGENCE, writing nothing, when it is above the tolerance.
 *
 * Range: the cost c must be representable, so a box whose C overflows is
 * refused at creation, as are cells so small that a normalized density
 * overflows. At large eps the image sums make OT_eps ~ -(eps d/2) log(pi eps)
 * (on a bounded box the Gibbs kernel tends to a constant); a cost or
 * potential that leaves the double range is refused (BERG_ERR_DOMAIN), not
 * returned as an infinity. Everything else scales exactly with the box:
 * OT_eps on a box scaled by s at eps s^2 is s^2 times the unscaled value.
 *
 * Solves take a const handle and are safe from many threads at once on
 * one handle (each concurrent call gets its own scratch); the setters are
 * configuration and must not run concurrently with other calls on the
 * handle.
 * @since 1.0
 */
typedef struct berg_sinkhorn berg_sinkhorn;

/**
 * @brief Create a Sinkhorn solver on a space with regularization eps.
 *
 * Defaults: 10000 iterations, tolerance 1e-9, the threads of
 * berg_set_threads(), the iteration chosen per call (flags 0).
 *
 * @param[out] out    the new solver; untouched on failure.
 * @param[in]  space  the space (copied); no Dirichlet axis.
 * @param[in]  eps    the regularization, finite and > 0, units of c.
 * @param[in]  flags  0 (the default: chosen per call), or one of
 *                    BERG_SINKHORN_FFT, BERG_SINKHORN_STABILIZED and
 *                    BERG_SINKHORN_LOG_DOMAIN, combined with
 *                    BERG_PLAN_ESTIMATE (plan the FFTs with FFTW_ESTIMATE;
 *                    it selects no mode).
 * @return BERG_OK; BERG_ERR_NULL for a NULL out or space; BERG_ERR_DOMAIN
 *         for eps not finite or <= 0, two mode flags, a log-domain or
 *         stabilized eps beyond its image sums, a box whose squared diameter overflows or whose cells are
 *         too small for a normalized density, or a flag of another creator
 *         (the message names it);
 *         BERG_ERR_UNSUPPORTED for a Dirichlet axis, or in the log-domain
 *         or stabilized mode a coupled metric or an axis of more than 4096
 *         cells; BERG_ERR_SIZE;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_create(berg_sinkhorn **out, const berg_space *space,
                                          double eps, unsigned flags);

/**
 * @brief Free a Sinkhorn solver.
 * @param[in] sk  the solver; NULL is a no-op.
 * @since 1.0
 */
BERG_API void berg_sinkhorn_destroy(berg_sinkhorn *sk);

/**
 * @brief Threads of the solves on this handle (configuration).
 *
 * The FFTs and (since 1.1) the pointwise loops of every iteration then run
 * on nthreads threads; the stabilized mode's dense products are threaded by
 * OpenBLAS itself. Re-plans the FFT kernel. Until it is called, a handle
 * follows berg_set_threads() (default 1, so 1.0's default of one thread is
 * unchanged; the FFT plans take that setting at creation). Results do not
 * depend on the thread count. Do not call it concurrently with other calls
 * on the handle.
 *
 * @param[in,out] sk        the solver; not one created with
 *                          BERG_SINKHORN_LOG_DOMAIN (which follows
 *                          berg_set_threads()).
 * @param[in]     nthreads  the thread count, >= 1.
 * @return BERG_OK; BERG_ERR_NULL for a NULL sk; BERG_ERR_DOMAIN for
 *         nthreads = 0; BERG_ERR_UNSUPPORTED for a solver created with
 *         BERG_SINKHORN_LOG_DOMAIN (as in 1.0); BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot
 *         plan. On failure the handle is unchanged.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_set_threads(berg_sinkhorn *sk, size_t nthreads);

/**
 * @brief The iteration cap of every solve (configuration).
 *
 * Do not call it concurrently with other calls on the handle.
 *
 * @param[in,out] sk              the solver.
 * @param[in]     max_iterations  the cap, >= 1 (default 10000).
 * @return BERG_OK; BERG_ERR_NULL for a NULL sk; BERG_ERR_DOMAIN for 0.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_set_max_iterations(berg_sinkhorn *sk, size_t max_iterations);

/**
 * @brief The stopping tolerance on the marginal error (configuration).
 *
 * The marginal error is the largest L1 norm integral |p_hat - p| of the
 * gap between a marginal of the plan and its input measure, over both
 * marginals (since 1.1; 1.0 measured the first only); for barycenters
 * (since 1.1; 1.0 measured the barycenter's change) the largest over the k
 * couplings of the gap between each one's first marginal and its measure
 * and between its second marginal and the barycenter returned.
 * tolerance = 0 runs exactly the iteration cap and never reports
 * non-convergence (the error is still measured and reported). Do not call it concurrently with other calls on
 * the handle.
 *
 * @param[in,out] sk         the solver.
 * @param[in]     tolerance  finite and >= 0 (default 1e-9).
 * @return BERG_OK; BERG_ERR_NULL for a NULL sk; BERG_ERR_DOMAIN for a
 *         negative or non-finite tolerance.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_set_tolerance(berg_sinkhorn *sk, double tolerance);

/**
 * @brief The progress callback of every solve on this handle
 * (configuration).
 *
 * berg_sinkhorn_cost, _divergence, _solve and _barycenter then call
 * progress on the calling thread (see ::berg_progress_fn): at the start, at
 * iteration boundaries at most about every 10 ms, and once at the end
 * before writing any output. Its error is the marginal error of the
 * current iteration (NaN before
 * the first is known); its iteration counts the iterations of the call (a
 * divergence's three solves together); its fraction estimates the work
 * done from the iteration cap and from the error's decrease towards the
 * tolerance. When progress returns non-zero the solve returns
 * BERG_ERR_CANCELLED, writes no output and leaves berg_sinkhorn_report as
 * before the call. Do not call it concurrently with other calls on the
 * handle; with several threads solving at once, progress is called from
 * each of them (user_data is shared).
 *
 * @param[in,out] sk         the solver.
 * @param[in]     progress   the callback, or NULL for none (the default).
 * @param[in]     user_data  passed to progress unchanged.
 * @return BERG_OK; BERG_ERR_NULL for a NULL sk.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_set_progress(berg_sinkhorn *sk, berg_progress_fn progress,
                                                void *user_data);

/**
 * @brief The regularization eps of a solver.
 * @param[in] sk  the solver.
 * @return eps; NaN for a NULL sk.
 * @since 1.0
 */
BERG_API double berg_sinkhorn_epsilon(const berg_sinkhorn *sk);

/**
 * @brief Entropic transport cost OT_eps(p, q).
 *
 * The dual value <f, p> + <g, q> of the discrete problem; OT_eps(p, q) ->
 * W2(p, q)^2 as eps -> 0, with an entropic bias ~ (eps/2) log(1/eps).
 * Safe from many threads at once on one handle.
 *
 * @param[in]  sk    the solver.
 * @param[in]  p     measure on the solver's space (berg_space_size values).
 * @param[in]  q     measure on the solver's space.
 * @param[out] cost  OT_eps(p, q), units of c.
 * @return BERG_OK; BERG_ERR_NULL for a NULL argument; BERG_ERR_NEGATIVE,
 *         BERG_ERR_NONFINITE or BERG_ERR_MASS for a p or q that is not a
 *         measure; BERG_ERR_DOMAIN when the cost overflows (huge eps) or,
 *         in the log domain, eps is below what the tolerance can resolve
 *         (see berg_sinkhorn); BERG_ERR_NO_CONVERGENCE when the marginal
 *         error is still above the tolerance after the iteration cap, or
 *         the scaling mode's scalings under- or overflowed
 *         (berg_sinkhorn_report gives the error reached); BERG_ERR_NOMEM;
 *         BERG_ERR_CANCELLED when the progress callback
 *         (berg_sinkhorn_set_progress()) stopped the solve.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_cost(const berg_sinkhorn *sk, const double *p,
                                        const double *q, double *cost);

/**
 * @brief Debiased Sinkhorn divergence S_eps(p, q).
 *
 * S_eps(p, q) = OT_eps(p, q) - (OT_eps(p, p) + OT_eps(q, q)) / 2 (Feydy et
 * al. 2019): >= 0, zero iff p = q, -> W2^2 as eps -> 0 (faster than
 * OT_eps). Three solves; when p and q are the same array, one solve (which
 * still reports convergence failures) and *div = 0. Safe from many threads
 * at once on one handle.
 *
 * @param[in]  sk   the solver.
 * @param[in]  p    measure on the solver's space.
 * @param[in]  q    measure on the solver's space.
 * @param[out] div  S_eps(p, q), units of c.
 * @return as berg_sinkhorn_cost.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_divergence(const berg_sinkhorn *sk, const double *p,
                                              const double *q, double *div);

/**
 * @brief Entropic transport cost and dual potentials.
 *
 * The optimal plan is pi(x, y) = p(x) q(y) exp((f(x) + g(y) - c(x, y)) / eps)
 * (p and q normalized). Safe from many threads at once on one handle.
 *
 * @param[in]  sk    the solver.
 * @param[in]  p     measure on the solver's space.
 * @param[in]  q     measure on the solver's space.
 * @param[out] cost  OT_eps(p, q), or NULL when not wanted.
 * @param[out] f     the potential of p (berg_space_size values, units of
 *                   c), or NULL when not wanted.
 * @param[out] g     the potential of q (as f), or NULL when not wanted.
 * @return as berg_sinkhorn_cost (cost may be NULL), and BERG_ERR_DOMAIN
 *         when a requested potential overflows (huge eps).
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_solve(const berg_sinkhorn *sk, const double *p,
                                         const double *q, double *cost, double *f, double *g);

/**
 * @brief Entropic W2 barycenter of k measures.
 *
 * The minimizer of sum_r lambda_r OT_eps(b, p_r) by convolutional iterative
 * Bregman projections (Benamou et al. 2015, Solomon et al. 2015), with
 * lambda the normalized weights. The workspace (4 k + 2 arrays of the
 * space) is allocated per call. Safe from many threads at once on one
 * handle.
 *
 * @param[in]  sk         the solver.
 * @param[in]  k          the number of measures, >= 1.
 * @param[in]  densities  k measures on the solver's space, back to back
 *                        (k * berg_space_size values).
 * @param[in]  weights    k finite values >= 0 with a positive sum
 *                        (normalized internally).
 * @param[out] out        the barycenter, a density normalized to 1
 *                        (berg_space_size values).
 * @return BERG_OK; BERG_ERR_NULL for a NULL argument; BERG_ERR_SIZE for
 *         k = 0 or a workspace that overflows size_t; BERG_ERR_NEGATIVE,
 *         BERG_ERR_NONFINITE or BERG_ERR_MASS for a measure (named
 *         densities[r]) or a weight that is not valid, or weights summing to
 *         zero; BERG_ERR_DOMAIN in the log domain when eps is below what
 *         the tolerance can resolve; BERG_ERR_NO_CONVERGENCE when the
 *         marginal error (see berg_sinkhorn_set_tolerance()) is still above
 *         the tolerance after the iteration cap, or the scalings under- or
 *         overflowed; BERG_ERR_NOMEM; BERG_ERR_CANCELLED when the
 *         progress callback stopped the iterations.
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_barycenter(const berg_sinkhorn *sk, size_t k,
                                              const double *densities, const double *weights,
                                              double *out);

/**
 * @brief Report of this thread's last solve on this handle.
 *
 * The marginal error reached and the iterations used by the calling
 * thread's last cost, divergence, solve or barycenter call on sk,
 * successful or not (for a divergence: the largest error and the total
 * iterations of its solves), among the calls that measured a finite error
 * (a call refused or stopped before that leaves the report as it was).
 * Calls of other threads on the same handle do not change it. A thread
 * keeps the reports of the 16 handles it solved on last.
 *
 * @param[in]  sk              the solver.
 * @param[out] marginal_error  the error reached (finite), or NULL when not
 *                             wanted; untouched on failure.
 * @param[out] iterations      the iterations used, or NULL when not wanted;
 *                             untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL for a NULL sk; BERG_ERR_DOMAIN when this
 *         thread has no report on sk (no such call yet, or 16 other handles
 *         solved on since).
 * @since 1.0
 */
BERG_API berg_status berg_sinkhorn_report(const berg_sinkhorn *sk, double *marginal_error,
                                          size_t *iterations);

/**
 * @brief The iteration this thread's last solve on this handle ran.
 *
 * For the call berg_sinkhorn_report() describes: BERG_SINKHORN_FFT (the
 * FFT scaling iteration), BERG_SINKHORN_STABILIZED (the stabilized scaling
 * iteration) or BERG_SINKHORN_LOG_DOMAIN. In the default mode it is the
 * mode chosen for that call (see berg_sinkhorn); a divergence reports the
 * last of its solves' modes in that order, a default-mode solve that fell
 * back on the log domain reports BERG_SINKHORN_LOG_DOMAIN.
 *
 * @param[in]  sk    the solver.
 * @param[out] mode  the mode's flag; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL for a NULL sk or mode; BERG_ERR_DOMAIN
 *         when this thread has no report on sk (as berg_sinkhorn_report).
 * @since 1.1
 */
BERG_API berg_status berg_sinkhorn_report_mode(const berg_sinkhorn *sk, unsigned *mode);

#ifdef __cplusplus
}
#endif

#endif /* BERG_TRANSPORT_H */
