/*
 * berg/fokker_planck.h - Fokker-Planck / ERG flows of densities on a grid and their exact spectral propagator (seed eq 9-11, 21-26).
 */
#ifndef BERG_FOKKER_PLANCK_H
#define BERG_FOKKER_PLANCK_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"
#include "berg/heat.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Fokker-Planck / ERG flow (seed eq 9-11, 21-26; docs/fokker_planck.md):
 *
 *   d/dt p = div( g^{-1} (grad p + p grad V) ),   q = e^{-V} / Z,
 *
 * the space's metric g being the inverse diffusion tensor. The flow is
 * discretized by the Scharfetter-Gummel finite-volume generator L (flux on
 * every cell face with the Bernoulli weights B(dV) = dV / (e^{dV} - 1)):
 * e^{-V}/Z is its exact discrete stationary state, it conserves mass exactly
 * on periodic and Neumann axes, it is an M-matrix generator (so e^{tL} is
 * positive and KL(p_t||q) cannot increase) and it satisfies detailed balance,
 * so S = Q^{-1/2} L Q^{1/2} is symmetric. Spatial error O(h^2).
 * Boundary kinds: periodic (faces wrap; V need not be periodic), Neumann
 * (zero flux), Dirichlet (absorbing wall at the box edge, p = 0 there: mass
 * leaks). Only diagonal metrics (BERG_ERR_UNSUPPORTED else: see BERG_FP_FOURIER).
 *
 * BERG_FP_FOURIER selects instead the Fourier (pseudo-spectral)
 * discretization for smooth problems on periodic boxes: with
 * r = e^{-(V - min V)/2} and p = r psi the flow is d/dt psi = H psi,
 * H = Delta_g - U, U = (Delta_g r)/r, with Delta_g the FFT Laplacian (any
 * constant metric, coupled axes included) and U by finite differences of V
 * where q < 1e-10 max q. Spatial error: spectral (exponentially small for
 * smooth data; measured L1 error 1.5e-10 to 3.5e-10 on 2-D
 * Ornstein-Uhlenbeck flows with anisotropic and coupled metrics on 96^2
 * cells, at the default tolerance). e^{-V}/Z is its exact discrete stationary
 * state and mass is conserved exactly, but the generator is not an
 * M-matrix: resolved data stay positive to the tolerance (the stepper sets
 * what would go negative to zero), unresolved data are refused. It needs:
 * every axis periodic with >= 4 cells (BERG_ERR_UNSUPPORTED / _SIZE); V
 * periodic, or confining so that e^{-V/2} is negligible at the box edges
 * (creation refuses, BERG_ERR_DOMAIN, when the top third of the spectrum
 * of e^{-V/2} holds more than 1e-5 of its l2 norm); and inputs p with
 * p e^{V/2} resolved likewise (more than 1e-4 is refused by evolve, as is
 * p > 0 where e^{-V} underflows): smooth data decaying at least like
 * e^{-V/2}. Time stepping: Strang steps e^{-tau U/2} e^{tau Delta_g}
 * e^{-tau U/2} around the FFT heat step, extrapolated in tau^2 to order 8
 * (10 heat steps per step; about 100 heat steps per unit of time on the
 * benchmarks). berg_fp_generator_apply gives L p = r H (p / r) and
 * berg_fp_backward_apply its exact transpose (0 where r underflows);
 * berg_fp_spectral_create decomposes H. Both discretizations share the
 * velocity and scheme functions.
 *
 * V is used in log form (shifted by its minimum), so potentials whose e^{-V}
 * underflows everywhere work. A berg_fp owns scratch buffers: one handle may
 * not be used from several threads at once (berg_fp_stationary and the
 * *_apply functions, which take a const handle, may).
 */
typedef struct berg_fp berg_fp;

/* berg_fp_create flag: the Fourier discretization (above). May be or-ed
 * with BERG_PLAN_ESTIMATE for fast FFTW planning. Value pinned. */

/*
 * Create the flow with potential V (berg_space_size values, finite) on
 * space (copied). flags: 0 (finite volume) or BERG_FP_FOURIER
 * [| BERG_PLAN_ESTIMATE]. Errors: BERG_ERR_NULL,
 * BERG_ERR_NONFINITE (V has NaN/Inf; the message names the index),
 * BERG_ERR_UNSUPPORTED (finite volume: non-diagonal metric; Fourier: an
 * axis that is not periodic), BERG_ERR_SIZE (Fourier: an axis with fewer
 * than 4 cells), BERG_ERR_DOMAIN (unknown flags; a potential step so steep
 * that a rate overflows; Fourier: e^{-V/2} not resolved), BERG_ERR_NOMEM,
 * BERG_ERR_INTERNAL (FFTW could not plan).
 */
BERG_API berg_status berg_fp_create(berg_fp **out, const berg_space *space, const double *V,
                                    unsigned flags);

/*
 * out = p_t, the solution at time t >= 0 from p_0 = in (finite, >= 0; need
 * not be normalized: the flow is linear). in == out allowed.
 * Finite volume time stepping: linearly implicit Euler sweeps over the axes (one
 * tridiagonal LAPACK solve per grid line, cyclic by Sherman-Morrison on
 * periodic axes) extrapolated (Aitken-Neville) over the step numbers
 * 1, 2, ..., 6 to order 6 (error estimate from the order-5 value; 21
 * sweeps per step, stable on the whole negative real axis), with adaptive
 * steps keeping the L1 error estimate of every step below the tolerance
 * (berg_fp_set_tolerance, default 1e-8 relative to the mass; the measured
 * L1 error of the result against the exact e^{tL} is 0.01 to 0.6 times the
 * tolerance). Values the extrapolation would make negative (below the
 * tolerance) are set to zero and, on periodic / Neumann spaces, the mass
 * is restored exactly. The spatial error, O(h^2), is separate. (Fourier:
 * the Strang steps above under the same tolerance; mass exact.)
 * Errors: BERG_ERR_NULL, BERG_ERR_TIME, BERG_ERR_NONFINITE,
 * BERG_ERR_NEGATIVE, BERG_ERR_NO_CONVERGENCE (step size collapsed),
 * Fourier only: BERG_ERR_DOMAIN (p e^{V/2} not resolved, or p > 0 where
 * e^{-V} underflows); out is untouched.
 */
BERG_API berg_status berg_fp_evolve(berg_fp *fp, double t, const double *in, double *out);

/* q = e^{-V}/Z on the grid (normalized with the cell weight), computed as
 * exp(-(V - min V)) / Z so that it never underflows everywhere. */
BERG_API berg_status berg_fp_stationary(const berg_fp *fp, double *q);

/* Free a flow. NULL is a no-op. */
BERG_API void berg_fp_destroy(berg_fp *fp);

/* Default 1e-8. tol in [1e-14, 1e-1], else BERG_ERR_DOMAIN. */
BERG_API berg_status berg_fp_set_tolerance(berg_fp *fp, double tol);

/* Steps accepted and rejected by the last berg_fp_evolve (either may be NULL). */
BERG_API berg_status berg_fp_last_steps(const berg_fp *fp, size_t *accepted, size_t *rejected);

/* out = L p, the discrete Fokker-Planck operator (d p / dt). in == out allowed. */
BERG_API berg_status berg_fp_generator_apply(const berg_fp *fp, const double *p, double *out);

/*
 * out = A f = L^T f, the generator of the process acting on observables
 * (seed eq 36: A f = lim (P_t f - f)/t with P_t f (x) = E[f(X_t) | X_0 = x]);
 * the discrete form of -g^{-1} grad V . grad f + Delta_g f. in == out allowed.
 */
BERG_API berg_status berg_fp_backward_apply(const berg_fp *fp, const double *f, double *out);

/*
 * Wegner-Morris velocity (eq 25-26): psi = -g^{-1} grad Sigma with
 * Sigma = S_q - S_p = V + ln p, so that d/dt p = -div(psi p). psi holds ndim
 * consecutive grid arrays (component a at psi + a * size); derivatives are
 * central differences (one-sided on the edges of non-periodic axes).
 * p must be finite and > 0 (BERG_ERR_DOMAIN names the first zero; tails
 * of an evolved density can be exactly 0: floor them, e.g. at DBL_MIN,
 * where no particle is to be moved).
 */
BERG_API berg_status berg_fp_velocity(const berg_fp *fp, const double *p, double *psi);

/* Sigma = V + ln p - its mean over the grid (eq 25); p > 0 as above. */
BERG_API berg_status berg_fp_scheme(const berg_fp *fp, const double *p, double *sigma);

/* ---- exact spectral propagator (moderate grids) ------------------------- */

/*
 * Eigen-decomposition (LAPACKE dsyevd) of the symmetrized generator
 * S = Q^{-1/2} L Q^{1/2} of a berg_fp: e^{tL} = Q^{1/2} U e^{t Lambda} U^T Q^{-1/2}
 * at any t in two matrix-vector products. Memory N^2 doubles, creation
 * O(N^3): meant for N up to a few thousand. Requires max V - min V <= 1400
 * (so that Q^{+-1/2} is representable; BERG_ERR_DOMAIN otherwise).
 * Conditioning: the rounding error of evolve is about
 * eps * max_i |in_i| e^{(V_i - min V)/2} (relative to the output's scale):
 * exact for data decaying like e^{-V/2}, useless for a flat start on a
 * potential with a range of 60 or more (use berg_fp_evolve there). The
 * handle owns scratch: one thread at a time for evolve.
 */
typedef struct berg_fp_spectral berg_fp_spectral;

BERG_API berg_status berg_fp_spectral_create(berg_fp_spectral **out, const berg_fp *fp);

/* out = e^{tL} in, t >= 0, in finite. in == out allowed. */
BERG_API berg_status berg_fp_spectral_evolve(berg_fp_spectral *sp, double t, const double *in,
                                             double *out);

/* the N eigenvalues of L in decreasing order: 0 = lambda_0 >= lambda_1 >= ...
 * (lambda_0 < 0 with Dirichlet axes). gap = -lambda_1 is the spectral gap:
 * ||p_t/q - 1|| decays like e^{-gap t}, KL(p_t||q) like e^{-2 gap t}. */
BERG_API berg_status berg_fp_spectral_eigenvalues(const berg_fp_spectral *sp, double *lambda);

/* Right eigenvector k of L (L mode = lambda_k mode), i.e. Q^{1/2} u_k with
 * u_k a unit eigenvector of S, sign fixed by a positive largest entry. Mode
 * 0 is proportional to q on periodic / Neumann spaces. */
BERG_API berg_status berg_fp_spectral_mode(const berg_fp_spectral *sp, size_t k, double *mode);

BERG_API void berg_fp_spectral_destroy(berg_fp_spectral *sp);

#ifdef __cplusplus
}
#endif

#endif /* BERG_FOKKER_PLANCK_H */
