/**
 * @file berg/erg.h
 * @brief The ERG as a flow in the scale: Wegner-Morris schemes and the flow of lattice-field ensembles in ln Lambda (seed eq 1-4, 9-11).
 *
 * A scheme holds a family of regulated two-point functions C_Lambda(k) on
 * the modes of a periodic lattice (a berg_space whose axes are all
 * periodic, any rank, any constant metric), its scale derivative
 *
 *   Cdot_Lambda(k) = -dC_Lambda(k) / d ln Lambda
 *
 * and the seed action S^_Lambda[phi] = 1/2 phi.C_Lambda^{-1}.phi (plus an
 * optional user term S^u_Lambda given by its gradient). The ensemble flow
 * is the Wegner-Morris equation (eq 9-11) with Sigma = S - 2 S^, read as a
 * Fokker-Planck equation on field space; with s = -ln Lambda (towards the
 * infrared) its Langevin form is
 *
 *   d phi = Cdot (C^{-1} phi + dS^u/dphi) ds + sqrt(-Cdot) dW_s,
 *
 * with dW lattice white noise of variance ds / w per cell (w the cell
 * weight). The action S_Lambda of the ensemble itself does not enter: it
 * only appears in the deterministic form (eq 10), whose velocity needs the
 * score dS_Lambda/dphi. Every sign and factor, and where the seed's need
 * correcting, is in docs/conventions.md ("Scale-dependent schemes").
 *
 * Conventions: phi.psi = w sum_i phi_i psi_i; functional derivatives are
 * per cell, dS/dphi_i = (1/w) dS/d(phi_i) for a lattice action (as in
 * berg_action_gradient_fn); a field of covariance spectrum G(k) has
 * E[phi_i phi_j] = (1/V) sum_k G(k) e^{i k (x_i - x_j)} (V = the volume),
 * the convention of berg_multiplier_random_field(), so the Gaussian
 * e^{-S^_Lambda} has spectrum C_Lambda(k). Wave vectors are those of the
 * grid, k_a = 2 pi m / L_a, and |k|_g^2 = k . g^{-1} k (with BERG_SYMBOL_FD
 * each k_a is replaced by 2 sin(k_a h_a / 2) / h_a).
 *
 * Ensembles: `count` fields of berg_space_size() values each, member m at
 * phi[m * size + i].
 *
 * Thread safety: a scheme is immutable after creation; every function
 * taking a const scheme may run on one scheme from any number of threads at
 * once (scratch comes from a pool in the handle). The flows run their
 * members on berg_threads() threads; results do not depend on the number
 * of threads.
 */
#ifndef BERG_ERG_H
#define BERG_ERG_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"
#include "berg/heat.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A Wegner-Morris scheme on a periodic lattice: the family
 * C_Lambda(k) with its FFT plans (opaque, immutable after creation).
 * @since 1.1
 */
typedef struct berg_scheme berg_scheme;

/**
 * @brief A regulator family C_Lambda(k) given by the caller.
 *
 * Called at creation (a probe) and during every flow, once per spectral
 * mode and scale; it must be even in k, >= 0, and non-increasing as Lambda
 * decreases (the flows check the last two on the modes they use).
 * @param[in]  ndim       rank d of the space.
 * @param[in]  lambda     the scale Lambda > 0.
 * @param[in]  k          the wave vector k[0..d-1] of one grid mode.
 * @param[out] c          C_Lambda(k), finite.
 * @param[in]  user_data  the pointer given to berg_scheme_create().
 * @return 0 on success; any other value (or a non-finite *c) makes the
 *         calling function fail with BERG_ERR_CALLBACK.
 * @since 1.1
 */
typedef int (*berg_scheme_regulator_fn)(size_t ndim, double lambda, const double *k, double *c,
                                        void *user_data);

/**
 * @brief A gradient on an ensemble member at a scale: the user term of the
 * seed action (dS^u_Lambda/dphi) or the score of the ensemble's law
 * (dS_Lambda/dphi = -d ln P_Lambda/dphi).
 *
 * Per-cell functional derivatives ((1/w) d/dphi_i of a lattice action).
 * @param[in]  size       number of cells, berg_space_size().
 * @param[in]  lambda     the scale Lambda at which the gradient is taken.
 * @param[in]  phi        size values: one field.
 * @param[out] grad       size values of the gradient, finite.
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success; any other value (or a non-finite value) fails the
 *         call with BERG_ERR_CALLBACK.
 * @since 1.1
 */
typedef int (*berg_erg_gradient_fn)(size_t size, double lambda, const double *phi, double *grad,
                                    void *user_data);

/**
 * @brief A scheme with a built-in regulator over a massive propagator:
 * C_Lambda(k) = R(|k|_g, Lambda) / (|k|_g^2 + mass2).
 *
 * R is berg_regulator_value(kind, Lambda, |k|_g): BERG_REGULATOR_SHARP
 * theta(Lambda - |k|), BERG_REGULATOR_EXPONENTIAL e^{-|k|^2/Lambda^2} or
 * BERG_REGULATOR_LITIM (Lambda^2 - |k|^2) theta(Lambda^2 - |k|^2).
 * Cdot_Lambda = -R_DOT / (|k|^2 + mass2) with R_DOT = Lambda dR/dLambda
 * (analytic; for SHARP a delta shell, which berg_scheme_value() refuses:
 * the flows never need Cdot, see berg_scheme_flow()).
 * @param[out] out    the new scheme; untouched on failure. Free with
 *                    berg_scheme_destroy().
 * @param[in]  space  the lattice (copied); every axis periodic.
 * @param[in]  kind   SHARP, EXPONENTIAL or LITIM (the _DOT kinds are
 *                    derivatives, not families).
 * @param[in]  mass2  the mass term m^2 > 0, finite.
 * @param[in]  flags  0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                    BERG_SYMBOL_FD.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_UNSUPPORTED when an axis is not periodic;
 *         BERG_ERR_DOMAIN for another kind, a mass2 that is not positive
 *         and finite, or a flag of another creator; BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_create_regulator(berg_scheme **out, const berg_space *space,
                                                  berg_regulator kind, double mass2,
                                                  unsigned flags);

/**
 * @brief A scheme with a tabulated profile: C_Lambda(k) = f(|k|_g / Lambda).
 *
 * f is the monotone piecewise-cubic Hermite interpolant (Fritsch-Carlson)
 * of the knots, constant (the end values) outside [xp[0], xp[np-1]], so
 * that Cdot_Lambda(k) = x f'(x) at x = |k|_g / Lambda is continuous.
 * @param[out] out    the new scheme; untouched on failure.
 * @param[in]  space  the lattice (copied); every axis periodic.
 * @param[in]  np     number of knots, >= 2.
 * @param[in]  xp     np finite knots, xp[0] >= 0, strictly increasing.
 * @param[in]  fp     np finite values f(xp[j]) >= 0.
 * @param[in]  flags  0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                    BERG_SYMBOL_FD.
 * @return BERG_OK; BERG_ERR_NULL when out, space, xp or fp is NULL;
 *         BERG_ERR_SIZE when np < 2; BERG_ERR_NONFINITE for a non-finite
 *         knot or value; BERG_ERR_DOMAIN when knots are negative or not
 *         increasing, a value is negative, or for a flag of another
 *         creator; BERG_ERR_UNSUPPORTED when an axis is not periodic;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_create_radial(berg_scheme **out, const berg_space *space,
                                               size_t np, const double *xp, const double *fp,
                                               unsigned flags);

/**
 * @brief A scheme whose family C_Lambda(k) is a callback of (k, Lambda).
 *
 * The callback is kept and called during the flows (user_data must stay
 * valid until the scheme is destroyed). Cdot_Lambda is its derivative by
 * a fourth-order central difference in ln Lambda (step 1e-3), for
 * berg_scheme_value(); the flows do not need it.
 * @param[out] out        the new scheme; untouched on failure.
 * @param[in]  space      the lattice (copied); every axis periodic.
 * @param[in]  flags      0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                        BERG_SYMBOL_FD.
 * @param[in]  regulator  C_Lambda(k); probed once at Lambda = 1, k = 0.
 * @param[in]  user_data  passed to regulator.
 * @return BERG_OK; BERG_ERR_NULL when out, space or regulator is NULL;
 *         BERG_ERR_UNSUPPORTED when an axis is not periodic;
 *         BERG_ERR_DOMAIN for a flag of another creator or a negative
 *         probe value; BERG_ERR_CALLBACK when the probe fails;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_create(berg_scheme **out, const berg_space *space,
                                        unsigned flags, berg_scheme_regulator_fn regulator,
                                        void *user_data);

/**
 * @brief C_Lambda(k) and Cdot_Lambda(k) = -dC_Lambda(k)/d ln Lambda at one
 * wave vector.
 * @param[in]  scheme  the scheme.
 * @param[in]  lambda  the scale, finite and > 0.
 * @param[in]  k       berg_space_rank() finite values: the wave vector
 *                     (used through |k|_g for the built-in and tabulated
 *                     families, dropping the cross terms of an axis at its
 *                     Nyquist wave number pi/h as the grid does; as given
 *                     for a callback).
 * @param[out] c       C_Lambda(k); untouched on failure.
 * @param[out] cdot    Cdot_Lambda(k), or NULL when not wanted; untouched on
 *                     failure.
 * @return BERG_OK; BERG_ERR_NULL when scheme, k or c is NULL;
 *         BERG_ERR_DOMAIN when lambda is not positive and finite;
 *         BERG_ERR_NONFINITE when k is not finite; BERG_ERR_UNSUPPORTED
 *         when cdot is wanted of a SHARP scheme (a delta shell);
 *         BERG_ERR_CALLBACK when the callback fails.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_value(const berg_scheme *scheme, double lambda, const double *k,
                                       double *c, double *cdot);

/**
 * @brief The closed-form flow of one mode of a Gaussian ensemble:
 * G_Lambda1 = C1 + (G_Lambda0 - C0) (C1 / C0)^2, with Ci = C_Lambdai(k).
 *
 * The mode variance (spectrum) of a Gaussian ensemble under
 * berg_scheme_flow() with no user term; G = C (the scheme's Gaussian point)
 * stays G = C at every scale. A mode with C0 = 0 has G1 = 0.
 * @param[in]  scheme   the scheme.
 * @param[in]  lambda0  the starting scale, finite and > 0.
 * @param[in]  lambda1  the final scale, finite, > 0 and <= lambda0.
 * @param[in]  g0       the spectrum at lambda0, finite and >= 0.
 * @param[in]  k        berg_space_rank() finite values: the wave vector.
 * @param[out] g1       the spectrum at lambda1; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when scheme, k or g1 is NULL;
 *         BERG_ERR_DOMAIN when a scale is not positive and finite,
 *         lambda1 > lambda0, g0 is negative or not finite, or C grows from
 *         lambda0 to lambda1; BERG_ERR_NONFINITE when k is not finite;
 *         BERG_ERR_CALLBACK when the callback fails.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_mode_variance(const berg_scheme *scheme, double lambda0,
                                               double lambda1, double g0, const double *k,
                                               double *g1);

/**
 * @brief The Gaussian seed action S^_Lambda = 1/2 phi.C_Lambda^{-1}.phi
 * and its gradient C_Lambda^{-1} phi, for each member of an ensemble.
 * @param[in]  scheme  the scheme.
 * @param[in]  lambda  the scale, finite and > 0.
 * @param[in]  count   number of members, >= 1.
 * @param[in]  phi     count * berg_space_size() finite values.
 * @param[out] value   count values S^_Lambda[phi_m]; untouched on failure.
 * @param[out] grad    count * berg_space_size() values C_Lambda^{-1} phi_m
 *                     (per cell), or NULL; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when scheme, phi or value is NULL;
 *         BERG_ERR_SIZE when count is 0 or too large; BERG_ERR_DOMAIN
 *         when lambda is not positive and finite, or a member has a
 *         component on a mode where C_Lambda = 0 (the action is infinite
 *         there; components below 1e-12 of the member's largest count as
 *         zero); BERG_ERR_NONFINITE when phi is not finite;
 *         BERG_ERR_CALLBACK when the callback fails; BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_seed_action(const berg_scheme *scheme, double lambda,
                                             size_t count, const double *phi, double *value,
                                             double *grad);

/**
 * @brief Flow an ensemble from Lambda0 down to Lambda1 by the stochastic
 * Wegner-Morris flow (eq 9-11 with Sigma = S - 2 S^), in place.
 *
 * nsteps equal steps in ln Lambda. Per step, mode by mode (r = C1/C0, the
 * scheme at the step's ends, hats the member's Fourier coefficients):
 *
 *   phi^ <- r phi^ + C1 ln(r) g^ + sqrt(C1 (1 - r)) xi^
 *
 * with g = dS^u/dphi at the step's start (0 without seed_grad) and xi^ the
 * transform of lattice white noise (variance 1/w per cell). Without a user
 * term this is the exact transition of the flow for any step (the Gaussian
 * bridge: the law of the infrared field given the field at Lambda0); with
 * one it is the exponential Euler scheme, strong order 1 in ln Lambda
 * (additive noise). Modes with C0 = 0 are set to 0. One forward and one
 * inverse FFT per member and step (one more forward with seed_grad, and
 * with caller noise).
 *
 * Noise: with noise NULL, member m in step j of the call draws its xi^ from
 * the xoshiro256** stream (seed, (counter + j) 2^32 + m), generated
 * directly in Fourier space: results depend on seed, counter and the scale
 * grid only (not on the threads); a flow continued with counter + nsteps
 * equals one longer call on the same grid.
 * @param[in]     scheme     the scheme.
 * @param[in]     lambda0    the starting scale, finite and > 0.
 * @param[in]     lambda1    the final scale, finite, > 0 and <= lambda0.
 * @param[in]     nsteps     number of steps, 1 .. 10^7.
 * @param[in]     count      members, 1 .. 2^32 - 1.
 * @param[in]     seed       seed of the noise streams.
 * @param[in]     counter    the first step's number in the streams.
 * @param[in]     noise      NULL, or nsteps * count * berg_space_size()
 *                           finite values: standard normals z_i whose
 *                           white noise z_i / sqrt(w) drives each step
 *                           (step j, member m at (j count + m) size).
 * @param[in,out] phi        count * berg_space_size() finite values;
 *                           untouched on failure.
 * @param[in]     seed_grad  dS^u/dphi, or NULL for the Gaussian seed action.
 * @param[in]     user_data  passed to seed_grad.
 * @return BERG_OK; BERG_ERR_NULL when scheme or phi is NULL;
 *         BERG_ERR_SIZE when nsteps is 0 or above 10^7, or count is 0 or
 *         too large;
 *         BERG_ERR_DOMAIN when a scale is not positive and finite,
 *         lambda1 > lambda0, or C grows on some mode along a step (the
 *         noise variance would be negative; the message names Lambda and
 *         the mode); BERG_ERR_NONFINITE when phi or noise is not finite or
 *         the flow overflows; BERG_ERR_CALLBACK when a callback fails;
 *         BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_flow(const berg_scheme *scheme, double lambda0, double lambda1,
                                      size_t nsteps, size_t count, unsigned long long seed,
                                      unsigned long long counter, const double *noise,
                                      double *phi, berg_erg_gradient_fn seed_grad,
                                      void *user_data);

/**
 * @brief The deterministic reparameterization (eq 10) of a Gaussian
 * ensemble: phi^(k) <- sqrt(G1(k) / G0(k)) phi^(k), in place.
 *
 * For an ensemble of spectrum G0 at Lambda0 and the scheme without a user
 * term, the velocity -Psi = Cdot C^{-1} phi - 1/2 Cdot G^{-1} phi has this
 * exact flow map, with G1 the closed form of berg_scheme_mode_variance()
 * (both directions in Lambda, as long as G1 > 0). Modes with G0 = 0, or
 * with C = 0 at either scale (outside the regulator's support), are set
 * to 0.
 * @param[in]     scheme     the scheme.
 * @param[in]     lambda0    the starting scale, finite and > 0.
 * @param[in]     lambda1    the final scale, finite and > 0.
 * @param[in]     count      members, >= 1.
 * @param[in,out] phi        count * berg_space_size() finite values;
 *                           untouched on failure.
 * @param[in]     cov0       the spectrum G0(k) >= 0 of the ensemble at
 *                           lambda0 (evaluated once per mode).
 * @param[in]     user_data  passed to cov0.
 * @return BERG_OK; BERG_ERR_NULL when scheme, phi or cov0 is NULL;
 *         BERG_ERR_SIZE when count is 0 or too large; BERG_ERR_DOMAIN when
 *         a scale is not positive and finite, G0 is negative, or G1 <= 0 on
 *         a mode with G0 > 0; BERG_ERR_NONFINITE when phi is not finite;
 *         BERG_ERR_CALLBACK when a callback fails; BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_transport_gaussian(const berg_scheme *scheme, double lambda0,
                                                    double lambda1, size_t count, double *phi,
                                                    berg_symbol_fn cov0, void *user_data);

/**
 * @brief The deterministic reparameterization (eq 10) with a known score:
 * d phi / ds = Cdot (C^{-1} phi + dS^u/dphi - 1/2 dS_Lambda/dphi),
 * s = -ln Lambda, in place.
 *
 * nsteps equal steps in ln Lambda, either direction. The velocity is
 * split around the scheme's Gaussian point (score C^{-1} phi): the linear
 * part 1/2 Cdot C^{-1} phi exactly (factor sqrt(C1/C0) per mode), the
 * remainder N = dS^u/dphi - 1/2 (score - C^{-1} phi), bounded where C is
 * small, by the exponential Heun scheme (second order): with u = sqrt(C0),
 * v = sqrt(C1), phi^ <- (v/u) phi^ + 2 v (v - u) N^_0
 * + (2/3) v (v - u)(v + 2u)/(v + u) (N^_1 - N^_0), N_1 at the Euler
 * predictor. Modes with C0 = 0 or C1 = 0 are set to 0.
 * @param[in]     scheme     the scheme.
 * @param[in]     lambda0    the starting scale, finite and > 0.
 * @param[in]     lambda1    the final scale, finite and > 0.
 * @param[in]     nsteps     number of steps, 1 .. 10^7.
 * @param[in]     count      members, >= 1.
 * @param[in,out] phi        count * berg_space_size() finite values;
 *                           untouched on failure.
 * @param[in]     seed_grad  dS^u/dphi, or NULL for the Gaussian seed action.
 * @param[in]     score      dS_Lambda/dphi, the score of the ensemble's law
 *                           at each scale.
 * @param[in]     user_data  passed to seed_grad and score.
 * @return BERG_OK; BERG_ERR_NULL when scheme, phi or score is NULL;
 *         BERG_ERR_SIZE when nsteps is 0 or above 10^7, or count is 0 or
 *         too large;
 *         BERG_ERR_DOMAIN when a scale is not positive and finite;
 *         BERG_ERR_NONFINITE when phi is not finite or the flow overflows;
 *         BERG_ERR_CALLBACK when a callback fails; BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_scheme_transport(const berg_scheme *scheme, double lambda0,
                                           double lambda1, size_t nsteps, size_t count,
                                           double *phi, berg_erg_gradient_fn seed_grad,
                                           berg_erg_gradient_fn score, void *user_data);

/**
 * @brief Free a scheme.
 * @param[in] scheme  the scheme, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_scheme_destroy(berg_scheme *scheme);

#ifdef __cplusplus
}
#endif

#endif /* BERG_ERG_H */
