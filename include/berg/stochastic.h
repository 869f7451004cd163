/*
 * berg/stochastic.h - particle ensembles and lattice-field Langevin flows (seed eq 27-37).
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

/* ---- particles: dX = -g^{-1} grad V dt + sqrt(2) g^{-1/2} dW (eq 27-31) ---- */

/*
 * Gradient of V at one point: write grad V(x) (ndim values) into grad.
 * Return 0 on success; any other value (or a non-finite gradient) makes the
 * calling function fail with BERG_ERR_CALLBACK, its output untouched.
 */
typedef int (*berg_gradient_fn)(int ndim, const double *x, double *grad, void *user_data);

/*
 * An ensemble driver: the metric g (ndim x ndim SPD, NULL = identity) and a
 * seeded noise source. Particle j in the c-th stepping call (c = 0, 1, ...)
 * on the handle draws its normals from the xoshiro256** stream
 * (seed, c * 2^32 + j): results depend only on the seed, the number of
 * earlier stepping calls and the particle index, on every platform.
 * Particles live in R^d (no boundaries). Not thread-safe (the call counter
 * is state).
 */
typedef struct berg_particles berg_particles;

BERG_API berg_status berg_particles_create(berg_particles **out, int ndim, const double *metric,
                                           unsigned long long seed);

/*
 * nsteps Euler-Maruyama steps of size dt (> 0, finite) for count particles
 * x[count * ndim] (row per particle), in place. count == 0 is
 * BERG_ERR_SIZE. On any failure (callback included) x is untouched: the
 * steps are taken on a copy.
 */
BERG_API berg_status berg_particles_euler(berg_particles *ps, size_t count, double *x, double dt,
                                          size_t nsteps, berg_gradient_fn grad, void *user_data);

/*
 * One exact Ornstein-Uhlenbeck step over time t >= 0 for the quadratic
 * V(x) = 1/2 (x - m)^T A (x - m) (A symmetric ndim x ndim, row-major; m may
 * be NULL for 0): the exact transition law, for any t.
 */
BERG_API berg_status berg_particles_ou(berg_particles *ps, size_t count, double *x, double t,
                                       const double *A, const double *m);

/*
 * Histogram of count particles on the cells of space (same rank), as a
 * density: hist_i = (number in cell i) / (count * w). Particles outside the
 * box are not counted (*outside gets their number; may be NULL); on
 * periodic axes positions are wrapped into the box first.
 */
BERG_API berg_status berg_particles_histogram(const berg_space *space, size_t count,
                                              const double *x, double *hist, size_t *outside);

BERG_API void berg_particles_destroy(berg_particles *ps);

/* ---- lattice field Langevin flow (stochastic RG) ------------------------ */

/*
 * Action gradient: write the functional derivative dS/dphi (one value per
 * cell, = (1/w) dS/dphi_i for a lattice action S) of the field phi into
 * grad. Return 0 on success, anything else fails the step with
 * BERG_ERR_CALLBACK.
 */
typedef int (*berg_action_grad_fn)(size_t size, const double *phi, double *grad,
                                   void *user_data);

/*
 * Langevin step of the stochastic RG on a periodic space
 *   d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW
 * with Cdot the Fourier multiplier of the regulator symbol c(k) >= 0
 * (berg_symbol_fn, evaluated once per mode at creation as by
 * berg_multiplier_create, Nyquist averaging included; applied by FFT) and
 * dW lattice white noise (variance dt / w per cell), so that e^{-S} is the
 * stationary law. Euler-Maruyama in time: one step is
 *   phi += -dt Cdot grad + sqrt(2 dt) berg_multiplier_random_field(Cdot, seed, s)
 * (drift and noise from the same symbol table on every mode), where s =
 * 0, 1, 2, ... counts the steps of the handle over all its successful
 * calls: results depend only on the seed and the number of earlier steps
 * (k calls of one step equal one call of k steps), on every platform.
 * Every axis must be periodic (BERG_ERR_UNSUPPORTED). One thread at a time
 * per handle.
 */
typedef struct berg_langevin berg_langevin;

BERG_API berg_status berg_langevin_create(berg_langevin **out, const berg_space *space,
                                          berg_symbol_fn regulator, void *user_data,
                                          unsigned long long seed);

/* The same with Cdot one of the built-in regulators of the heat section,
 * c(k) = berg_regulator_value(kind, lambda, |k|_g) (BERG_REGULATOR_SHARP,
 * _EXPONENTIAL, _LITIM, _EXPONENTIAL_DOT, _LITIM_DOT; all >= 0), the
 * multiplier of berg_multiplier_create_regulator. On a metric coupling two
 * periodic axes its Nyquist modes take |k|_g without the cross terms, not the
 * mean of c over +-k that berg_langevin_create takes; elsewhere the two agree.
 * Errors as berg_langevin_create, and BERG_ERR_DOMAIN for an unknown kind or
 * lambda <= 0 / not finite. */
BERG_API berg_status berg_langevin_create_regulator(berg_langevin **out, const berg_space *space,
                                                    berg_regulator kind, double lambda,
                                                    unsigned long long seed);

/* nsteps steps of size dt > 0 on phi (size values) in place; on failure
 * phi is untouched and the step counter does not advance. */
BERG_API berg_status berg_langevin_step(berg_langevin *lf, double *phi, double dt, size_t nsteps,
                                        berg_action_grad_fn grad, void *user_data);

BERG_API void berg_langevin_destroy(berg_langevin *lf);

#ifdef __cplusplus
}
#endif

#endif /* BERG_STOCHASTIC_H */
