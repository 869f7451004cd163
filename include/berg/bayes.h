/**
 * @file berg/bayes.h
 * @brief Dynamical Bayesian inference on grids: prior, model, posterior
 *        along the amount of data T, predictive, and the backward
 *        drift-diffusion of the predictive (seed eq 6-8, 38-51, 57).
 *
 * A berg_bayes holds a prior pi_0 on a parameter space U (a berg_space of
 * rank du), a model p(y | u) for data y in a data space Y (a berg_space of
 * rank dy: its box is where data may lie and where predictives and
 * divergences are tabulated), and the posterior pi_T (eq 6) after the data
 * observed so far, kept in the log domain:
 *   ln pi_T = ln pi_0 + sum_k ln p(y_k | u)
 * per grid cell, accumulated with Neumaier compensation and shifted by its
 * maximum, so that millions of observations neither underflow nor lose the
 * differences between cells.
 *
 * Array kinds (docs/conventions.md): a "density" is finite, >= 0 and
 * normalized to 1 within berg_density_mass_tolerance(); a "measure" is
 * finite, >= 0 with positive finite mass and is normalized internally; a
 * "state" is any finite array acted on by a linear flow.
 *
 * Callbacks return 0 on success; anything else is a failure
 * (BERG_ERR_CALLBACK, and the state is unchanged). Their outputs are checked:
 * NaN and +inf are refused (BERG_ERR_CALLBACK); -inf is a log-probability 0.
 *
 * Thread safety: a berg_bayes is mutable; functions taking a non-const
 * handle must not run concurrently with any other call on that handle.
 * Functions taking a const handle may run from several threads at once as
 * long as no mutating call runs, and as long as the model callbacks are
 * themselves safe to call concurrently.
 */
#ifndef BERG_BAYES_H
#define BERG_BAYES_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"
#include "berg/fisher.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A Bayesian state: prior, model and posterior on a parameter grid.
 * @since 1.0
 */
typedef struct berg_bayes berg_bayes;

/**
 * @brief Noise log-density of the location model at one point.
 *
 * Writes *logp = ln p0(n) at the point n (dy values). -inf is allowed
 * (p0 = 0); NaN and +inf are refused by the caller.
 * @param[in]  dy        rank of the data space
 * @param[in]  n         the noise value (dy values)
 * @param[out] logp      ln p0(n)
 * @param[in]  user_data the pointer given with the callback
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_noise_logpdf_fn)(size_t dy, const double *n, double *logp, void *user_data);

/**
 * @brief Log-likelihood of a general model at one parameter and one data point.
 *
 * Writes *logp = ln p(y | u); -inf is allowed, NaN and +inf are refused
 * by the caller. (A grid of values is fisher.h's berg_grid_loglik_fn.)
 * @param[in]  du        rank of the parameter space
 * @param[in]  u         the parameter (du values)
 * @param[in]  dy        rank of the data space
 * @param[in]  y         the data point (dy values)
 * @param[out] logp      ln p(y | u)
 * @param[in]  user_data the pointer given with the callback
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_point_loglik_fn)(size_t du, const double *u, size_t dy, const double *y,
                                    double *logp, void *user_data);

/**
 * @brief Create a Bayesian state with a prior and a data space.
 *
 * Both spaces are copied. The model is set afterwards with
 * berg_bayes_set_location or berg_bayes_set_loglik. The prior may vanish on
 * part of the grid. The prior is normalized in scaled form (max and
 * relative sum), so finite values whose sum overflows (near DBL_MAX) or
 * whose mass underflows (subnormal) are accepted and normalized exactly.
 * *out is untouched on failure.
 * @param[out] out    the new state
 * @param[in]  param  the parameter space U (rank du)
 * @param[in]  data   the data space Y (rank dy)
 * @param[in]  prior  the prior pi_0: a measure on param (size of param values)
 * @param[in]  flags  reserved: must be 0 (every bit is refused)
 * @return BERG_OK; BERG_ERR_NULL (a NULL pointer); BERG_ERR_NONFINITE,
 *         BERG_ERR_NEGATIVE, BERG_ERR_MASS (prior not a measure, naming the
 *         index); BERG_ERR_DOMAIN (a flag bit, naming the flag);
 *         BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_create(berg_bayes **out, const berg_space *param,
                                       const berg_space *data, const double *prior,
                                       unsigned flags);

/**
 * @brief Free a Bayesian state.
 * @param[in] b the state; NULL is a no-op
 * @since 1.0
 */
BERG_API void berg_bayes_destroy(berg_bayes *b);

/**
 * @brief Set the location model Y = G(U) + N (eq 38-41).
 *
 * The noise is given either as a measure on a grid (noise_space of rank dy
 * and noise on it, normalized internally, evaluated off the grid by
 * multilinear interpolation and 0 outside its box) or as a log-density
 * callback logp0: exactly one of (noise_space, noise) and logp0. G is
 * evaluated once per parameter cell here. Setting a model resets the
 * posterior to the prior (T = 0) and forgets any truth set by
 * berg_bayes_set_truth. On failure b is unchanged.
 * @param[in,out] b           the state
 * @param[in]     noise_space the grid of the noise measure, or NULL
 * @param[in]     noise       the noise measure on noise_space, or NULL
 * @param[in]     G           the forward model y = G(u)
 * @param[in]     logp0       the noise log-density, or NULL
 * @param[in]     user_data   passed to G and logp0
 * @return BERG_OK; BERG_ERR_NULL (b or G NULL, or not exactly one noise);
 *         BERG_ERR_MISMATCH (noise_space rank is not dy); the measure errors
 *         of noise (BERG_ERR_MASS also when noise / (its mass) overflows on
 *         cells of tiny volume); BERG_ERR_CALLBACK (G fails or returns a non-finite
 *         value); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_set_location(berg_bayes *b, const berg_space *noise_space,
                                             const double *noise, berg_forward_fn G,
                                             berg_noise_logpdf_fn logp0, void *user_data);

/**
 * @brief Set a general model: ln p(y | u) from a callback.
 *
 * Resets the posterior to the prior and forgets the truth, as
 * berg_bayes_set_location.
 * @param[in,out] b         the state
 * @param[in]     loglik    ln p(y | u) at one point
 * @param[in]     user_data passed to loglik
 * @return BERG_OK; BERG_ERR_NULL (b or loglik NULL).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_set_loglik(berg_bayes *b, berg_point_loglik_fn loglik,
                                           void *user_data);

/**
 * @brief Back to the prior (T = 0).
 * @param[in,out] b the state
 * @return BERG_OK; BERG_ERR_NULL (b NULL).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_reset(berg_bayes *b);

/**
 * @brief Observe data: ln pi_T += sum_k ln p(y_k | u), T += count.
 *
 * All or nothing: on any failure the posterior and T are exactly as before.
 * count = 0 is a no-op.
 * @param[in,out] b     the state (a model must be set)
 * @param[in]     count number of data points
 * @param[in]     y     the data, count x dy values, row-major, inside the data box
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_DOMAIN (no model);
 *         BERG_ERR_SIZE (count * dy values exceed the address space:
 *         checked before y is read); BERG_ERR_NONFINITE or
 *         BERG_ERR_OUT_OF_RANGE (a datum not finite or outside the data
 *         space's box, naming the observation and component);
 *         BERG_ERR_CALLBACK (a callback fails or returns NaN or +inf);
 *         BERG_ERR_MASS (the data are impossible under every parameter of
 *         positive posterior mass); BERG_ERR_NOMEM; BERG_ERR_CANCELLED (the
 *         progress callback of berg_bayes_set_progress() stopped the call).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_observe(berg_bayes *b, size_t count, const double *y);

/**
 * @brief The progress callback of berg_bayes_observe (configuration).
 *
 * berg_bayes_observe then calls progress on the calling thread (see
 * ::berg_progress_fn): before the first observation, between observations
 * at most about every 10 ms, and once after the last, before the posterior
 * is updated. Its fraction is the observations processed over count, its
 * iteration the observations processed, its error NaN. When progress
 * returns non-zero, berg_bayes_observe returns BERG_ERR_CANCELLED and the
 * posterior and T are exactly as before the call. Not to be called
 * concurrently with other calls on b.
 *
 * @param[in,out] b          the state.
 * @param[in]     progress   the callback, or NULL for none (the default).
 * @param[in]     user_data  passed to progress unchanged.
 * @return BERG_OK; BERG_ERR_NULL (b is NULL).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_set_progress(berg_bayes *b, berg_progress_fn progress,
                                             void *user_data);

/**
 * @brief The threads of ::berg_bayes_observe and ::berg_bayes_predictive
 * (configuration).
 *
 * With more than one thread, ::berg_bayes_observe shares the parameter
 * cells among the threads (every cell still adds the observations in
 * order, so the posterior is the same, bitwise) and ::berg_bayes_predictive
 * the blocks of data cells (OpenBLAS held at one thread meanwhile:
 * docs/performance.md). The model's callbacks (::berg_bayes_set_location
 * with a noise callback, ::berg_bayes_set_loglik) are then called from
 * several threads at once and must be safe for that; a grid noise calls
 * nothing. A failure reports what the serial loop would: the first failing
 * observation (or data cell). The progress callback stays on the calling
 * thread. Loops shorter than a few thousand cells stay on one thread. Not
 * to be called concurrently with other calls on b.
 *
 * @param[in,out] b         the state.
 * @param[in]     nthreads  0 (the default: follow berg_set_threads()) or 1
 *                          to 1024.
 * @return BERG_OK; BERG_ERR_NULL when b is NULL; BERG_ERR_DOMAIN when
 *   nthreads is above 1024 (the setting is unchanged).
 * @since 1.1
 */
BERG_API berg_status berg_bayes_set_threads(berg_bayes *b, size_t nthreads);

/**
 * @brief Set the truth p* of the expected-data flow (eq 7, 42).
 *
 * Tabulates D(u) = KL(p* || p(.|u)) for every parameter cell by quadrature
 * on the data grid, p(.|u) being normalized on that grid (so D >= 0 exactly
 * on the grid; D = +inf where p(.|u) vanishes on the support of p*).
 * On failure b is unchanged.
 * @param[in,out] b     the state (a model must be set)
 * @param[in]     pstar the truth: a measure on the data space
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_DOMAIN (no model); the measure
 *         errors of pstar; BERG_ERR_CALLBACK; BERG_ERR_MASS (p(.|u) has no
 *         mass on the data grid for some u, or D = +inf wherever the prior
 *         lives, or pstar / (its mass) overflows on cells of tiny volume);
 *         BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_set_truth(berg_bayes *b, const double *pstar);

/**
 * @brief The divergence D(u) = KL(p* || p(.|u)) on the parameter grid.
 * @param[in]  b the state (a truth must be set)
 * @param[out] D size of the parameter space values (+inf allowed)
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_DOMAIN (no truth).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_divergence(const berg_bayes *b, double *D);

/**
 * @brief Set the state to the expected-data posterior pi_T = pi_0 e^{-T D} / Z (eq 7).
 *
 * The solution of the replicator equation d/dT ln pi_T = -(D - E_{pi_T}[D]).
 * @param[in,out] b the state (a truth must be set)
 * @param[in]     T the amount of data, finite and >= 0
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_TIME (T not finite or < 0);
 *         BERG_ERR_DOMAIN (no truth); BERG_ERR_MASS (no mass left).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_expected(berg_bayes *b, double T);

/**
 * @brief The amount of data T of the current posterior.
 *
 * The number of observations since the last model change or reset, or
 * the T of the last berg_bayes_expected.
 * @param[in] b the state
 * @return T, or NaN when b is NULL.
 * @since 1.0
 */
BERG_API double berg_bayes_time(const berg_bayes *b);

/**
 * @brief The posterior pi_T on the parameter grid.
 * @param[in]  b  the state
 * @param[out] pi a density on the parameter space (its size of values)
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_posterior(const berg_bayes *b, double *pi);

/**
 * @brief The log posterior ln pi_T (normalized; -inf where pi_T = 0).
 * @param[in]  b     the state
 * @param[out] logpi size of the parameter space values
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_log_posterior(const berg_bayes *b, double *logpi);

/**
 * @brief The MAP estimate of the posterior.
 *
 * The grid maximum of ln pi_T refined per axis by the vertex of the
 * parabola through it and its two neighbours; for du > 1 by one Newton
 * step of the quadratic through the 3^du stencil (mixed derivatives
 * included) when that is negative definite and moves less than a cell:
 * exact for Gaussian posteriors, correlated ones included.
 * @param[in]  b the state
 * @param[out] u the MAP (du values)
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_MASS (no posterior mass);
 *         BERG_ERR_OUT_OF_RANGE (the maximum lies in an edge cell of a
 *         non-periodic axis: the MAP has left the grid, or is about to).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_map(const berg_bayes *b, double *u);

/**
 * @brief Posterior mean and covariance.
 * @param[in]  b    the state
 * @param[out] mean du values
 * @param[out] cov  du x du values, row-major, or NULL
 * @return BERG_OK; BERG_ERR_NULL (b or mean NULL); BERG_ERR_NONFINITE or
 *         BERG_ERR_DOMAIN (the mean or covariance overflows on a huge
 *         parameter box; mean and cov untouched); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_mean(const berg_bayes *b, double *mean, double *cov);

/**
 * @brief MAP and mean trajectories of the expected-data flow.
 *
 * At the nT amounts of data T[j], of pi_{T[j]} = pi_0 e^{-T[j] D} / Z.
 * The state is not changed; the outputs are untouched on failure.
 * @param[in]  b    the state (a truth must be set)
 * @param[in]  nT   number of times, >= 1
 * @param[in]  T    nT values, finite and >= 0
 * @param[out] map  nT x du values (MAP at each T[j]), or NULL
 * @param[out] mean nT x du values (posterior mean at each T[j]), or NULL
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_SIZE (nT = 0, or nT * du
 *         values exceed the address space: checked before T is read); BERG_ERR_TIME
 *         (naming T[j]); BERG_ERR_DOMAIN (no truth); the errors of
 *         berg_bayes_map (the message names T[j]); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_trajectory(const berg_bayes *b, size_t nT, const double *T,
                                           double *map, double *mean);

/**
 * @brief Posterior predictive p_T(y) = integral pi_T(u) p(y | u) du (eq 8, 51).
 *
 * On the data grid, by quadrature over the parameter grid (a matrix-vector
 * product in blocks of data cells). Not renormalized: its mass on the data
 * grid is the fraction of the predictive the grid holds.
 * @param[in]  b the state (a model must be set)
 * @param[out] p size of the data space values
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_DOMAIN (no model);
 *         BERG_ERR_CALLBACK; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_predictive(const berg_bayes *b, double *p);

/**
 * @brief The posterior predictive by FFT convolution, for affine G.
 *
 * For a location model with du = dy = 1 and G(u) = a u + c, a != 0
 * (detected from G on the parameter grid to 1e-10 relative): the posterior
 * is pushed forward to the data grid, pi~(v) = pi((v - c)/a) / |a| by
 * linear interpolation, and convolved with the noise density sampled at the
 * data grid's offsets (zero-padded to 2 n: a linear convolution). O(n log n)
 * and 2 n - 1 noise calls instead of n_u n_y callback calls. The
 * interpolation costs O(h^2); when the data grid is the image of the
 * parameter grid (a h_u = h_y and centres aligned) it is exact and the
 * result equals berg_bayes_predictive to round-off. The data grid must
 * resolve the pushforward: its mass on the data grid, h_y sum pi~, must be
 * within 0.05 of the posterior's mass 1 (for a Gaussian posterior of
 * standard deviation s it is off by at most about 0.04 (h/s)^2,
 * h = max(h_u, h_y/|a|)); an image narrower than a data cell, or with more
 * than 0.05 of it outside the data box, is refused and p left untouched.
 * @param[in]  b the state
 * @param[out] p size of the data space values
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_DOMAIN (no location model,
 *         du or dy not 1, fewer than 2 parameter cells, G constant or not
 *         affine; or the data grid does not resolve G's image of the
 *         posterior: the pushforward's mass on the data grid is off 1 by
 *         more than 0.05 (use berg_bayes_predictive, the quadrature, which
 *         has no such limit)); BERG_ERR_CALLBACK; BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL (FFTW could not plan).
 * @since 1.0
 */
BERG_API berg_status berg_bayes_predictive_fft(const berg_bayes *b, double *p);

/**
 * @brief Run the backward drift-diffusion of the predictive (eq 57).
 *
 * On the data grid from tau1 to tau2 >= tau1 >= 0 (tau = 1/T) for the
 * expected-data flow of b:
 *   d_tau p = -m.grad p + 1/2 K^{ij} d_i d_j p,  K = J I^{-1} J^T, m = J dgamma/dtau,
 * with K and m evaluated at the MAP gamma_tau, so constant in y: the flow
 * is the translation by G(gamma_tau2) - G(gamma_tau1) followed by the heat
 * semigroup with the accumulated covariance A = 1/2 integral K dtau
 * (trapezoidal rule on nsteps sub-intervals; exact when K is constant, as
 * for every location model with dy = du). The translation is spectral (the
 * data grid taken as periodic) and the heat step is exact in time, so for
 * the normal and linear-Gaussian models the result equals the directly
 * computed predictive to round-off. A covariance A below the grid's
 * resolution (A (pi/h)^2 <= eps/4 on every axis) is the identity. The MAPs
 * are those of berg_dictionary_create (continuous, by Newton). p2 is
 * untouched on failure.
 * @param[in]  b      the state (a location model and a truth must be set)
 * @param[in]  tau1   start, finite and >= 0
 * @param[in]  tau2   end, finite and >= tau1
 * @param[in]  nsteps trapezoid intervals for A, 1 .. 100000
 * @param[in]  p1     a state on the data space (size of the data space values)
 * @param[out] p2     the flowed state (p1 == p2 allowed)
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_TIME (tau1 or tau2 not finite,
 *         negative, or tau2 < tau1); BERG_ERR_SIZE (nsteps 0 or above 100000);
 *         BERG_ERR_NONFINITE (p1); BERG_ERR_DOMAIN (no location model or
 *         truth); BERG_ERR_UNSUPPORTED (A couples non-periodic data axes);
 *         BERG_ERR_OUT_OF_RANGE (a MAP leaves the grid); BERG_ERR_NOT_SPD
 *         (a singular Fisher metric); BERG_ERR_CALLBACK; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_backward_flow(const berg_bayes *b, double tau1, double tau2,
                                              size_t nsteps, const double *p1, double *p2);

/**
 * @brief Discrepancy between the Bayesian and the ERG directions at tau.
 *
 * *l1 = integral |p_direct - p_flow| dy and *kl = KL(p_direct || p_flow) on
 * the data grid, where p_direct is the posterior predictive of the expected
 * flow at T = 1/tau and p_flow is berg_bayes_backward_flow from tau = 0
 * (the likelihood at the MAP gamma_0, p0(y - G(gamma_0))) to tau; both are
 * normalized on the data grid first (p_flow floored at 1e-300: the spectral
 * heat step leaves round-off at or below zero in far tails). Expected
 * orders (docs/dictionary.md): round-off for the normal and
 * linear-Gaussian models with a flat prior; O(tau^2) for affine G with
 * smooth symmetric noise or a Gaussian prior; O(tau^{3/2}) for Laplace
 * noise; O(tau) for curved G.
 * @param[in]  b      the state (a location model and a truth must be set)
 * @param[in]  tau    finite and > 0
 * @param[in]  nsteps trapezoid intervals of the flow, 1 .. 100000
 * @param[out] l1     the L1 distance, or NULL
 * @param[out] kl     the KL divergence, or NULL
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_TIME (tau not finite or <= 0,
 *         or so small that the posterior's standard deviation
 *         sqrt(tau (I^-1)_kk) at gamma_tau is below a parameter cell: the
 *         direct predictive is then not resolved by the grid);
 *         BERG_ERR_SIZE (nsteps 0 or above 100000); BERG_ERR_MASS (a predictive has no
 *         mass on the data grid); and the errors of berg_bayes_backward_flow.
 * @since 1.0
 */
BERG_API berg_status berg_bayes_flow_discrepancy(const berg_bayes *b, double tau, size_t nsteps,
                                                 double *l1, double *kl);

#ifdef __cplusplus
}
#endif

#endif /* BERG_BAYES_H */
