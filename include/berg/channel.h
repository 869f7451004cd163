/**
 * @file berg/channel.h
 * @brief Heat and Fokker-Planck channels on densities and their Petz
 *        recovery maps (seed p.36-37, eq 59).
 *
 * Channels E on densities of a space: the heat channel e^{t Delta_g}
 * (kind BERG_CHANNEL_HEAT) and the Fokker-Planck channel e^{t L_V}
 * (BERG_CHANNEL_FP, potential V). Both are reversible, so their adjoints
 * with respect to the grid weight are
 *   heat: E^dagger = E (the spectral propagator is a symmetric matrix),
 *   FP:   E^dagger f = E(q f) / q   (detailed balance, q = e^{-V}/Z).
 * Petz recovery map: R(rho') = sigma . E^dagger(rho' / E(sigma)).
 *
 * Thread safety: a berg_channel is immutable after creation; apply,
 * adjoint and Petz recovery take a const handle and may run from several
 * threads at once on one handle (scratch comes from a pool in the handle).
 */
#ifndef BERG_CHANNEL_H
#define BERG_CHANNEL_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The kind of a channel.
 * @since 1.0
 */
typedef enum berg_channel_kind {
    /** the heat semigroup e^{t Delta_g} (periodic or Neumann axes) */
    BERG_CHANNEL_HEAT = 0,
    /** the Fokker-Planck flow e^{t L_V} with a potential V */
    BERG_CHANNEL_FP = 1
} berg_channel_kind;

/**
 * @brief A channel E at a fixed time on a space.
 * @since 1.0
 */
typedef struct berg_channel berg_channel;

/**
 * @brief Create a channel at time t on a space.
 *
 * The space is copied. The heat channel needs periodic or Neumann axes (on
 * a Dirichlet axis mass leaks: not a channel). *out is untouched on failure.
 * @param[out] out   the new channel
 * @param[in]  space the space (copied)
 * @param[in]  kind  BERG_CHANNEL_HEAT or BERG_CHANNEL_FP
 * @param[in]  t     the time, finite and >= 0
 * @param[in]  V     the potential (size of space finite values) for
 *                   BERG_CHANNEL_FP; ignored (may be NULL) for heat
 * @return BERG_OK; BERG_ERR_NULL (out or space NULL, V NULL for FP);
 *         BERG_ERR_TIME (t); BERG_ERR_DOMAIN (unknown kind, or an FP
 *         potential whose e^{-V}/Z underflows at some cell: the adjoint
 *         E(q f)/q needs q > 0 everywhere; the message names the cell);
 *         BERG_ERR_UNSUPPORTED (heat on a Dirichlet axis); the errors of
 *         berg_heat_create and berg_fp_create; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_channel_create(berg_channel **out, const berg_space *space,
                                         berg_channel_kind kind, double t, const double *V);

/**
 * @brief Free a channel.
 * @param[in] ch the channel; NULL is a no-op
 * @since 1.0
 */
BERG_API void berg_channel_destroy(berg_channel *ch);

/**
 * @brief Apply the channel: out = E(in).
 *
 * E is linear: the flow runs on in scaled by a power of two (maximum in
 * [1/2, 1)) and the result is scaled back exactly, so subnormal states and
 * states near DBL_MAX keep their mass (the same in the adjoint and the Petz
 * map). A channel maps states >= 0 to states >= 0: negative values within
 * 1e-12 of the maximum (round-off of the spectral heat step) are set to 0;
 * a heat kernel that rings further below zero (structure at the cell scale
 * at t of order h^2 or less) is refused with BERG_ERR_DOMAIN, as in the
 * adjoint and the Petz map.
 * @param[in]  ch  the channel
 * @param[in]  in  a state on the space, finite and >= 0 (size of space values)
 * @param[out] out E(in) (in == out allowed)
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE or BERG_ERR_NEGATIVE
 *         (in, naming the index); BERG_ERR_NONFINITE also when E(in)
 *         overflows (values near DBL_MAX; out untouched); BERG_ERR_DOMAIN
 *         (the heat kernel rings below zero on this state, naming the cell);
 *         the errors of the heat or FP flow; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_channel_apply(const berg_channel *ch, const double *in, double *out);

/**
 * @brief Apply the adjoint: out = E^dagger(f).
 * @param[in]  ch  the channel
 * @param[in]  f   a state on the space, finite and >= 0 (size of space values)
 * @param[out] out E^dagger(f) (f == out allowed)
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE or BERG_ERR_NEGATIVE
 *         (f); BERG_ERR_NONFINITE also when E^dagger(f) overflows (out
 *         untouched); BERG_ERR_DOMAIN (the heat kernel rings below zero);
 *         the errors of the heat or FP flow; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_channel_adjoint(const berg_channel *ch, const double *f, double *out);

/**
 * @brief The Petz recovery map: out = R_{sigma,E}(rho1) = sigma . E^dagger(rho1 / E(sigma)).
 *
 * E(sigma) must be positive on the support of rho1; values of E(sigma)
 * below 1e-300 are treated as 0. out is untouched on failure.
 * @param[in]  ch    the channel
 * @param[in]  sigma the reference state: a density on the space
 * @param[in]  rho1  the state to recover: finite and >= 0 (size of space values)
 * @param[out] out   the recovered state (size of space values)
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE,
 *         BERG_ERR_MASS (sigma not a density, rho1 not finite and >= 0);
 *         BERG_ERR_DOMAIN (E(sigma) vanishes where rho1 does not, naming
 *         the cell, or the heat kernel rings below zero); BERG_ERR_NONFINITE
 *         (rho1 / E(sigma) or the recovered state overflows, naming the
 *         cell); the errors of the heat or FP flow; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_channel_petz_recover(const berg_channel *ch, const double *sigma,
                                               const double *rho1, double *out);

#ifdef __cplusplus
}
#endif

#endif /* BERG_CHANNEL_H */
