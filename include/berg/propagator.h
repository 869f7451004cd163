/*
 * berg/propagator.h - heat kernels, Fourier multipliers and Fokker-Planck /
 * Wegner-Morris flows (seed eq 2-4, 9-11, 16, 22, 25-37). See
 * docs/propagator.md and docs/conventions.md.
 *
 * Heat semigroup convention: d/dt p = Delta_g p = g^{ab} d_a d_b p, so on R^d
 * with g = I a point mass spreads to covariance 2 t I. Spectral propagation
 * multiplies each mode by exp(-t k.g^{-1}k) with the grid's modes:
 * periodic k = 2 pi m / L (real FFT), Neumann k = pi m / L (DCT-II/III),
 * Dirichlet k = pi (m + 1) / L (DST-II/III).
 */
#ifndef BERG_PROPAGATOR_H
#define BERG_PROPAGATOR_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- heat semigroup ---------------------------------------------------- */

typedef struct berg_heat berg_heat;

/*
 * Create a heat propagator e^{t Delta_g} on space (the space is copied).
 * flags = 0: FFTW_MEASURE-quality plans, exact continuum symbol, one thread.
 * Planning is serialized behind libberg's FFTW lock.
 */
BERG_API berg_status berg_heat_create(berg_heat **out, const berg_space *space, unsigned flags);

/* out = e^{t Delta_g} in, t >= 0. in == out allowed, any alignment. */
BERG_API berg_status berg_heat_apply(berg_heat *heat, double t, const double *in, double *out);

/* Free a heat propagator. NULL is a no-op. */
BERG_API void berg_heat_destroy(berg_heat *heat);

/* ---- Fourier multipliers ---------------------------------------------- */

/*
 * A symbol c(k): write c(k) for the wave (co)vector k[0..ndim-1] of one grid
 * mode (|k|_g^2 = k . g^{-1} k) into *c. Return 0 on success; any other
 * value is a failure that the calling libberg function reports as
 * BERG_ERR_CALLBACK. Evaluated once per mode, at creation.
 */
typedef int (*berg_symbol_fn)(int ndim, const double *k, double *c, void *user_data);

typedef struct berg_multiplier berg_multiplier;

/* A Fourier multiplier with symbol c on space (the space is copied). */
BERG_API berg_status berg_multiplier_create(berg_multiplier **out, const berg_space *space,
                                            berg_symbol_fn symbol, void *user_data,
                                            unsigned flags);

/* out = c(k) applied mode by mode to in. in == out allowed. */
BERG_API berg_status berg_multiplier_apply(berg_multiplier *m, const double *in, double *out);

/* out = e^{-t c(k)} applied mode by mode to in, t >= 0 (c must be >= 0 on
 * every mode, else BERG_ERR_DOMAIN). in == out allowed. */
BERG_API berg_status berg_multiplier_exp_apply(berg_multiplier *m, double t, const double *in,
                                               double *out);

/* Free a multiplier. NULL is a no-op. */
BERG_API void berg_multiplier_destroy(berg_multiplier *m);

/* ==== end of the heat / multiplier / random-field section (issue 3) ==== */

/* ==== Fokker-Planck / Wegner-Morris / particles / fields (issue 4) ==== */

/* ==== end of the Fokker-Planck section ==== */

#ifdef __cplusplus
}
#endif

#endif /* BERG_PROPAGATOR_H */
