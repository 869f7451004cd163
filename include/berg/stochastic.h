/**
 * @file berg/stochastic.h
 * @brief Particle ensembles of the Fokker-Planck SDE and lattice-field
 * Langevin flows.
 *
 * Particles follow
 *
 *   dX = -g^{-1} grad V(X) dt + sqrt(2) g^{-1/2} dW
 *
 * in R^d (no boundaries), by Euler-Maruyama for any potential V (a gradient
 * callback) or by the exact Ornstein-Uhlenbeck transition for a quadratic V.
 * A lattice field phi on a periodic space follows the stochastic
 * renormalization-group flow
 *
 *   d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW
 *
 * with Cdot a Fourier multiplier (a regulator), so that e^{-S} is the
 * stationary law.
 *
 * Reproducibility: every random draw comes from a xoshiro256** stream
 * selected by the handle's seed and a counter of the handle, so results
 * depend only on the seed and the number of earlier calls (particles) or
 * steps (fields), on every platform.
 *
 * Thread safety: both handles keep a counter that their stepping functions
 * advance, so those functions take a non-const handle: one thread at a
 * time per handle. Different handles may be used from different threads.
 */
#ifndef BERG_STOCHASTIC_H
#define BERG_STOCHASTIC_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"
#include "berg/heat.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Gradient of a potential V at one point.
 *
 * Write grad V(x) into grad. Return 0 on success; any other value, or a
 * non-finite gradient, makes the calling function fail with
 * BERG_ERR_CALLBACK, its output untouched.
 *
 * @param[in]  ndim       the dimension d.
 * @param[in]  x          d coordinates of the point.
 * @param[out] grad       d values of grad V(x).
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_gradient_fn)(size_t ndim, const double *x, double *grad, void *user_data);

/**
 * @brief An ensemble driver: the metric g and a seeded noise source (opaque).
 *
 * Particle j in the c-th stepping call (c = 0, 1, ...) on the handle draws
 * its normals from the xoshiro256** stream (seed, c 2^32 + j).
 * @since 1.0
 */
typedef struct berg_particles berg_particles;

/**
 * @brief Create a particle ensemble driver in R^d with metric g.
 * @param[out] out     the new driver; untouched on failure. Free with
 *                     berg_particles_destroy().
 * @param[in]  ndim    dimension d, 1 .. berg_space_max_rank().
 * @param[in]  seed    seed of the noise streams.
 * @param[in]  metric  d*d row-major symmetric positive definite matrix g, or
 *                     NULL for the identity.
 * @return BERG_OK; BERG_ERR_NULL when out is NULL; BERG_ERR_DOMAIN when ndim
 *   is out of range; BERG_ERR_NONFINITE, BERG_ERR_NOT_SPD for a non-finite,
 *   asymmetric or indefinite metric; BERG_ERR_INTERNAL when LAPACK fails;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_particles_create(berg_particles **out, size_t ndim,
                                           unsigned long long seed, const double *metric);

/**
 * @brief nsteps Euler-Maruyama steps of size dt for count particles, in place:
 * X += -dt g^{-1} grad V(X) + sqrt(2 dt) g^{-1/2} xi, xi standard normal.
 *
 * The steps are taken on a copy, so x is untouched on any failure; a
 * successful call advances the handle's call counter (the handle is not
 * const: one thread at a time).
 *
 * @param[in,out] ps         the driver.
 * @param[in]     dt         step size, finite and > 0.
 * @param[in]     nsteps     number of steps (0 leaves x as it is).
 * @param[in]     count      number of particles, 1 .. 2^32 - 1.
 * @param[in,out] x          state: count*d finite coordinates, one row per particle.
 * @param[in]     grad       gradient of V.
 * @param[in]     user_data  passed to grad.
 * @return BERG_OK; BERG_ERR_NULL when ps, x or grad is NULL; BERG_ERR_SIZE
 *   when count is 0, too large or count*d overflows; BERG_ERR_NONFINITE for
 *   a non-finite coordinate or when a particle leaves the finite range;
 *   BERG_ERR_TIME when dt is not finite and > 0; BERG_ERR_CALLBACK when grad
 *   fails or gives a non-finite value; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_particles_euler(berg_particles *ps, double dt, size_t nsteps,
                                          size_t count, double *x, berg_gradient_fn grad,
                                          void *user_data);

/**
 * @brief One exact Ornstein-Uhlenbeck transition over time t for the
 * quadratic potential V(x) = 1/2 (x - m)^T A (x - m), in place.
 *
 * The exact transition law, for any t: X_t = m + P (X_0 - m) + N xi with
 * P = exp(-g^{-1} A t) and N N^T its covariance. A successful call advances
 * the handle's call counter (the handle is not const: one thread at a time).
 *
 * @param[in,out] ps     the driver.
 * @param[in]     t      time, finite and >= 0.
 * @param[in]     count  number of particles, 1 .. 2^32 - 1.
 * @param[in]     A      d*d row-major symmetric matrix.
 * @param[in]     m      d finite values, or NULL for 0.
 * @param[in,out] x      state: count*d finite coordinates, one row per particle;
 *                       untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when ps, A or x is NULL; BERG_ERR_SIZE when
 *   count is 0, too large or count*d overflows; BERG_ERR_TIME when t is not
 *   finite and >= 0; BERG_ERR_NONFINITE for a non-finite input;
 *   BERG_ERR_NOT_SPD when A is not symmetric; BERG_ERR_DOMAIN when the
 *   transition overflows (A has a negative eigenvalue); BERG_ERR_INTERNAL
 *   when LAPACK fails; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_particles_ou(berg_particles *ps, double t, size_t count,
                                       const double *A, const double *m, double *x);

/**
 * @brief Free a particle driver.
 * @param[in] ps  the driver, or NULL (a no-op).
 * @since 1.0
 */
BERG_API void berg_particles_destroy(berg_particles *ps);

/**
 * @brief Action gradient of a lattice field.
 *
 * Write the functional derivative dS/dphi of the field phi into grad (one
 * value per cell, (1/w) dS/dphi_i for a lattice action S). Return 0 on
 * success; anything else, or a non-finite value, fails the step with
 * BERG_ERR_CALLBACK.
 *
 * @param[in]  size       number of cells (berg_space_size()).
 * @param[in]  phi        size values of the field.
 * @param[out] grad       size values of dS/dphi.
 * @param[in]  user_data  the pointer given to berg_langevin_step().
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_action_gradient_fn)(size_t size, const double *phi, double *grad,
                                       void *user_data);

/**
 * @brief A Langevin flow of a lattice field on a periodic space (opaque).
 *
 * One Euler-Maruyama step is
 *   phi += -dt Cdot grad + sqrt(2 dt) berg_multiplier_random_field(Cdot, seed, s)
 * (drift and noise from the same symbol table on every mode; dW is lattice
 * white noise of variance dt / w per cell), where s = 0, 1, 2, ... counts
 * the steps of the handle over all its successful calls: k calls of one
 * step equal one call of k steps.
 * @since 1.0
 */
typedef struct berg_langevin berg_langevin;

/**
 * @brief Create a Langevin flow with Cdot the Fourier multiplier of a
 * regulator symbol c(k) >= 0.
 *
 * The symbol is evaluated once per mode at creation as by
 * berg_multiplier_create (Nyquist averaging included).
 *
 * @param[out] out        the new flow; untouched on failure. Free with
 *                        berg_langevin_destroy().
 * @param[in]  space      the space; every axis periodic.
 * @param[in]  seed       seed of the noise streams.
 * @param[in]  regulator  the symbol c(k); must be finite and >= 0.
 * @param[in]  user_data  passed to regulator (during this call only).
 * @return BERG_OK; BERG_ERR_NULL when out, space or regulator is NULL;
 *   BERG_ERR_UNSUPPORTED when an axis is not periodic; BERG_ERR_DOMAIN when
 *   the symbol is negative on some mode; BERG_ERR_CALLBACK when it fails or
 *   returns a value that is not finite (as berg_multiplier_create); BERG_ERR_INTERNAL when FFTW cannot plan; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_langevin_create(berg_langevin **out, const berg_space *space,
                                          unsigned long long seed, berg_symbol_fn regulator,
                                          void *user_data);

/**
 * @brief Create a Langevin flow with Cdot one of the built-in regulators,
 * c(k) = berg_regulator_value(kind, lambda, |k|_g) (all >= 0), the
 * multiplier of berg_multiplier_create_regulator.
 *
 * On a metric coupling two periodic axes its Nyquist modes take |k|_g
 * without the cross terms, not the mean of c over +-k that
 * berg_langevin_create takes; elsewhere the two agree.
 *
 * @param[out] out     the new flow; untouched on failure.
 * @param[in]  space   the space; every axis periodic.
 * @param[in]  kind    the regulator.
 * @param[in]  lambda  its scale, finite and > 0.
 * @param[in]  seed    seed of the noise streams.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *   BERG_ERR_DOMAIN for an unknown kind or a bad lambda;
 *   BERG_ERR_UNSUPPORTED when an axis is not periodic; BERG_ERR_INTERNAL
 *   when FFTW cannot plan; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_langevin_create_regulator(berg_langevin **out, const berg_space *space,
                                                    berg_regulator kind, double lambda,
                                                    unsigned long long seed);

/**
 * @brief nsteps Euler-Maruyama steps of size dt on the field phi, in place.
 *
 * On failure phi is untouched and the step counter does not advance. The
 * handle is not const (step counter and scratch): one thread at a time.
 *
 * @param[in,out] lf         the flow.
 * @param[in]     dt         step size, finite and > 0.
 * @param[in]     nsteps     number of steps.
 * @param[in,out] phi        state: berg_space_size() finite values.
 * @param[in]     grad       the action gradient dS/dphi.
 * @param[in]     user_data  passed to grad.
 * @return BERG_OK; BERG_ERR_NULL when lf, phi or grad is NULL;
 *   BERG_ERR_NONFINITE for a non-finite phi or when the field overflows;
 *   BERG_ERR_TIME when dt is not finite and > 0; BERG_ERR_CALLBACK when
 *   grad fails or gives a non-finite value.
 * @since 1.0
 */
BERG_API berg_status berg_langevin_step(berg_langevin *lf, double dt, size_t nsteps, double *phi,
                                        berg_action_gradient_fn grad, void *user_data);

/**
 * @brief Free a Langevin flow.
 * @param[in] lf  the flow, or NULL (a no-op).
 * @since 1.0
 */
BERG_API void berg_langevin_destroy(berg_langevin *lf);

#ifdef __cplusplus
}
#endif

#endif /* BERG_STOCHASTIC_H */
