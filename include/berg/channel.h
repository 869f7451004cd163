/*
 * berg/channel.h - heat and Fokker-Planck channels on densities and their Petz recovery maps (seed p.36-37, eq 59).
 */
#ifndef BERG_CHANNEL_H
#define BERG_CHANNEL_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Channels E on densities of a space: the heat channel e^{t Delta_g}
 * (kind BERG_CHANNEL_HEAT, V ignored) and the Fokker-Planck channel
 * e^{t L_V} (BERG_CHANNEL_FP, potential V, berg_fp_evolve). Both are
 * reversible, so their adjoints with respect to the grid weight are
 *   heat: E^dagger = E (the spectral propagator is a symmetric matrix),
 *   FP:   E^dagger f = E(q f) / q   (detailed balance, q = e^{-V}/Z).
 * Petz recovery map: R(rho') = sigma . E^dagger(rho' / E(sigma)).
 */
typedef enum berg_channel_kind { BERG_CHANNEL_HEAT = 0, BERG_CHANNEL_FP = 1 } berg_channel_kind;

typedef struct berg_channel berg_channel;

/* Create a channel at time t >= 0 on space (copied); V is required for
 * BERG_CHANNEL_FP (finite, size values), ignored for heat. Heat needs
 * periodic or Neumann axes (BERG_ERR_UNSUPPORTED for Dirichlet: mass leaks). */
BERG_API berg_status berg_channel_create(berg_channel **out, const berg_space *space,
                                         berg_channel_kind kind, double t, const double *V);
BERG_API void berg_channel_destroy(berg_channel *ch);

/* out = E(in) (in >= 0). in == out allowed. Not thread-safe per handle. */
BERG_API berg_status berg_channel_apply(berg_channel *ch, const double *in, double *out);

/* out = E^dagger(f) (f >= 0). in == out allowed. */
BERG_API berg_status berg_channel_adjoint(berg_channel *ch, const double *f, double *out);

/*
 * out = R_{sigma,E}(rho') = sigma . E^dagger(rho' / E(sigma)). sigma must
 * be a density with E(sigma) > 0 on the support of rho' (BERG_ERR_DOMAIN
 * names the first cell where it is not). Values of E(sigma) below
 * 1e-300 are treated as 0.
 */
BERG_API berg_status berg_petz_recover(berg_channel *ch, const double *sigma, const double *rho1,
                                       double *out);

#ifdef __cplusplus
}
#endif

#endif /* BERG_CHANNEL_H */
