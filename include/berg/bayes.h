/*
 * berg/bayes.h - dynamical Bayesian inference on grids: prior, model, posterior along T, predictive (seed eq 6-8, 38-51).
 */
#ifndef BERG_BAYES_H
#define BERG_BAYES_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A berg_bayes holds a prior pi_0 on a parameter space U (a berg_space of
 * rank du), a model p(y | u) for data y in a data space Y (a berg_space of
 * rank dy: its box is where data may lie and where predictives and
 * divergences are tabulated), and the posterior pi_T (eq 6) after the data
 * observed so far, kept in the log domain: ln pi_T = ln pi_0 + sum_k ln p(y_k | u)
 * per grid cell, accumulated with Neumaier compensation and shifted by its
 * maximum, so that millions of observations neither underflow nor lose the
 * differences between cells. A berg_bayes is mutable: one thread at a time.
 *
 * Callbacks follow SUNDIALS: user_data last, return 0 on success, anything
 * else is a failure (BERG_ERR_CALLBACK, and the state is unchanged).
 */
typedef struct berg_bayes berg_bayes;

/* Forward model of the location family Y = G(U) + N: y = G(u) (dy values). */
typedef int (*berg_bayes_forward_fn)(size_t du, const double *u, size_t dy, double *y,
                                     void *user_data);

/* Noise log-density: *logp = ln p0(n) at one point n (dy values); -inf is
 * allowed (p0 = 0), NaN and +inf are not. */
typedef int (*berg_noise_logpdf_fn)(size_t dy, const double *n, double *logp, void *user_data);

/* General model: *logp = ln p(y | u) at one data point y; -inf allowed. */
typedef int (*berg_point_loglik_fn)(size_t du, const double *u, size_t dy, const double *y,
                                    double *logp, void *user_data);

/*
 * Create a Bayesian state with prior `prior` (a density on `param`: finite,
 * >= 0, positive mass; it is normalised internally and may vanish on part
 * of the grid) and data space `data` (both spaces are copied). The model is
 * set afterwards by berg_bayes_set_location or berg_bayes_set_loglik.
 * flags must be 0. Errors: BERG_ERR_NULL, BERG_ERR_NONFINITE,
 * BERG_ERR_NEGATIVE, BERG_ERR_MASS, BERG_ERR_DOMAIN (flags), BERG_ERR_NOMEM.
 */
BERG_API berg_status berg_bayes_create(berg_bayes **out, const berg_space *param,
                                       const double *prior, const berg_space *data,
                                       unsigned flags);

/* Free. NULL is a no-op. */
BERG_API void berg_bayes_destroy(berg_bayes *b);

/*
 * Location model Y = G(U) + N (eq 38-41). The noise is given either as a
 * density on a grid (noise_space of rank dy, noise a density on it, evaluated
 * off the grid by multilinear interpolation and 0 outside its box) or as a
 * log-density callback logp0: exactly one of (noise_space, noise) and logp0.
 * G is evaluated once per parameter cell here (BERG_ERR_CALLBACK if it fails
 * or returns a non-finite value). Setting a model resets the posterior to the
 * prior and forgets any truth set by berg_bayes_set_truth.
 */
BERG_API berg_status berg_bayes_set_location(berg_bayes *b, berg_bayes_forward_fn G,
                                             const berg_space *noise_space, const double *noise,
                                             berg_noise_logpdf_fn logp0, void *user_data);

/* General model (b): ln p(y | u) from a callback. Resets as above. */
BERG_API berg_status berg_bayes_set_loglik(berg_bayes *b, berg_point_loglik_fn loglik,
                                           void *user_data);

/* Back to the prior (T = 0). */
BERG_API berg_status berg_bayes_reset(berg_bayes *b);

/*
 * Observe `count` data points y (count x dy, row-major): ln pi += sum_k ln p(y_k | u).
 * All-or-nothing: data outside the data space's box (BERG_ERR_OUT_OF_RANGE,
 * naming the observation), a callback failing or returning NaN / +inf
 * (BERG_ERR_CALLBACK), or data impossible under every parameter of positive
 * posterior mass (BERG_ERR_MASS) leave the state exactly as it was.
 */
BERG_API berg_status berg_bayes_observe(berg_bayes *b, size_t count, const double *y);

/*
 * The truth of the expected-data flow (eq 7, 42): a density pstar on the data
 * space. Tabulates D(u) = KL(p* || p(.|u)) for every parameter cell by
 * quadrature on the data grid, p(.|u) being normalised on that grid (so D >= 0
 * exactly on the grid; D = +inf where p(.|u) vanishes on the support of p*).
 * Errors: as berg_bayes_create for pstar, BERG_ERR_CALLBACK, BERG_ERR_MASS
 * (p(.|u) has no mass on the data grid for some u, or D = +inf everywhere
 * the prior lives), BERG_ERR_DOMAIN (no model set).
 */
BERG_API berg_status berg_bayes_set_truth(berg_bayes *b, const double *pstar);

/* D(u) on the parameter grid (needs a truth). */
BERG_API berg_status berg_bayes_divergence(const berg_bayes *b, double *D);

/*
 * Set the state to the expected-data posterior pi_T = pi_0 e^{-T D} / Z
 * (eq 7): the solution of the replicator equation
 * d/dT ln pi_T = -(D - <D>_{pi_T}). T >= 0 finite (BERG_ERR_TIME); needs a
 * truth (BERG_ERR_DOMAIN).
 */
BERG_API berg_status berg_bayes_expected(berg_bayes *b, double T);

/* The number of observations T (or the T of berg_bayes_expected). */
BERG_API berg_status berg_bayes_count(const berg_bayes *b, double *T);

/* The normalised posterior density pi_T on the parameter grid. */
BERG_API berg_status berg_bayes_posterior(const berg_bayes *b, double *pi);

/* ln pi_T (normalised; -inf where pi_T = 0). */
BERG_API berg_status berg_bayes_log_posterior(const berg_bayes *b, double *logpi);

/*
 * MAP estimate (du values): the grid maximum of ln pi_T refined per axis by
 * the vertex of the parabola through it and its two neighbours; for du > 1,
 * by one Newton step of the quadratic through the 3^du stencil (mixed
 * derivatives included, LAPACKE_dposv) when that is negative definite and
 * moves less than a cell: exact for Gaussian posteriors with correlations.
 * BERG_ERR_OUT_OF_RANGE when the maximum lies in an edge cell of a
 * non-periodic axis (the MAP has left the grid, or is about to).
 */
BERG_API berg_status berg_bayes_map(const berg_bayes *b, double *u);

/* Posterior mean (du values) and, if cov is not NULL, covariance (du x du). */
BERG_API berg_status berg_bayes_mean(const berg_bayes *b, double *mean, double *cov);

/*
 * MAP and posterior-mean trajectories of the expected-data flow at the nT
 * observation times T[j] (>= 0): map and mean receive nT x du values (either
 * may be NULL). The state is not changed. Errors as berg_bayes_expected and
 * berg_bayes_map (the message names j).
 */
BERG_API berg_status berg_bayes_trajectory(const berg_bayes *b, size_t nT, const double *T,
                                           double *map, double *mean);

/*
 * Posterior predictive p_T(y) = integral pi_T(u) p(y | u) du (eq 8, 51) on
 * the data grid, by quadrature over the parameter grid (a matrix-vector
 * product, dgemv, in blocks of data cells). Not renormalised: its mass on the
 * data grid is the fraction of the predictive the grid holds.
 */
BERG_API berg_status berg_bayes_predictive(const berg_bayes *b, double *p);

/*
 * The same predictive by FFT convolution when G is affine (location model,
 * du = dy = 1, G(u) = a u + c with a != 0, detected from G on the parameter
 * grid to 1e-10 relative; BERG_ERR_DOMAIN otherwise): the posterior is pushed
 * forward to the data grid, pi~(v) = pi((v - c)/a) / |a| by linear
 * interpolation, and convolved with the noise density sampled at the data
 * grid's offsets (FFTW r2c/c2r, zero-padded to 2 n: a linear convolution).
 * O(n log n) instead of O(n_u n_y) callback calls (2 n_y - 1 calls of the
 * noise). The interpolation costs O(h^2); when the data grid is the image of
 * the parameter grid (a h_u = h_y and centres aligned) it is exact and the
 * result equals berg_bayes_predictive to round-off (test_bayes).
 */
BERG_API berg_status berg_bayes_predictive_fft(const berg_bayes *b, double *p);

#ifdef __cplusplus
}
#endif

#endif /* BERG_BAYES_H */
