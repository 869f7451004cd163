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

/* ---- flags -------------------------------------------------------------- */

/*
 * Flags of the heat, multiplier and random-field creators (bitwise or;
 * values are pinned; 0 is the default: FFTW_MEASURE planning and the exact
 * continuum symbol). Unknown bits are BERG_ERR_DOMAIN.
 *   BERG_PLAN_ESTIMATE  plan with FFTW_ESTIMATE: creation in milliseconds
 *                       (16 ms vs 3.3 s for 1024^2), applies possibly
 *                       slower (FFTW_MEASURE by default; either way wisdom
 *                       imported with berg_wisdom_import_string/file is
 *                       used, and makes MEASURE creation fast too).
 *   BERG_SYMBOL_FD      heat: use the exact semigroup of the second-order
 *                       cell-centred finite-difference Laplacian, symbol
 *                       sum_a g^{aa} (4/h_a^2) sin^2(k_a h_a/2) (plus cross
 *                       terms g^{ab} sin(k_a h_a) sin(k_b h_b)/(h_a h_b) on
 *                       coupled periodic axes) instead of k.g^{-1}k. With a
 *                       diagonal metric it is the transition kernel of a
 *                       nearest-neighbour random walk: positivity preserving.
 *                       Multipliers: the symbol callback receives the
 *                       finite-difference wave numbers 2 sin(k_a h_a/2)/h_a
 *                       (with a coupled metric, |k|_g^2 of those is not the
 *                       stencil's symbol: its cross terms differ, see
 *                       docs/propagator.md).
 */
#define BERG_PLAN_ESTIMATE 0x1u
#define BERG_SYMBOL_FD 0x2u

/* ---- heat semigroup ---------------------------------------------------- */

/*
 * A berg_heat handle owns its plans and scratch buffers: one handle may not
 * be applied from several threads at once (use one handle per thread;
 * creating handles is safe from any thread at once). Apply calls do no
 * allocation and no planning. The input values are not checked for NaN
 * (they propagate to the output).
 *
 * Algorithm: out = T^{-1} [ e^{-t q(k)} T in ] with T the real transform of
 * each axis (r2c DFT, DCT-II, DST-II; see docs/propagator.md). When g^{-1}
 * is diagonal the factor is a product of per-axis tables (O(sum n_a)
 * exponentials per new t, the last t is cached); coupled periodic axes use
 * a per-mode table of q(k) with one exponential per mode per new t.
 */
typedef struct berg_heat berg_heat;

/*
 * Create a heat propagator e^{t Delta_g} on space (the space is copied).
 * flags = 0: FFTW_MEASURE-quality plans, exact continuum symbol, one thread.
 * Planning is serialized behind libberg's FFTW lock.
 */
BERG_API berg_status berg_heat_create(berg_heat **out, const berg_space *space, unsigned flags);

/* out = e^{t Delta_g} in, t >= 0. in == out allowed, any alignment. */
BERG_API berg_status berg_heat_apply(berg_heat *heat, double t, const double *in, double *out);

/*
 * General creator: a handle for batches of `batch` arrays (>= 1; one FFTW
 * "many" plan transforms them together) whose FFTs use `nthreads` threads
 * (>= 1; 1 = single-threaded). berg_heat_create(out, space, flags) is
 * berg_heat_create_ex(out, space, 1, 1, flags).
 * Errors: BERG_ERR_NULL, BERG_ERR_SIZE (batch 0 or too large),
 * BERG_ERR_DOMAIN (nthreads < 1, unknown flags), BERG_ERR_NOMEM,
 * BERG_ERR_INTERNAL (FFTW could not plan).
 */
BERG_API berg_status berg_heat_create_ex(berg_heat **out, const berg_space *space, size_t batch,
                                         int nthreads, unsigned flags);

/* The batch size a handle was created for (0 for NULL). */
BERG_API size_t berg_heat_batch(const berg_heat *heat);

/*
 * Apply to a batch: in and out hold `count` arrays one after the other
 * (count * berg_space_size values); count must equal berg_heat_batch(heat)
 * (BERG_ERR_SIZE when 0, BERG_ERR_MISMATCH otherwise). in == out allowed.
 * berg_heat_apply on a handle with batch > 1 is BERG_ERR_MISMATCH.
 */
BERG_API berg_status berg_heat_apply_batch(berg_heat *heat, double t, size_t count,
                                           const double *in, double *out);

/*
 * Several times from one forward transform: out[j] = e^{t[j] Delta_g} in
 * for j < nt, out holding nt consecutive blocks of batch * berg_space_size
 * values (in holds one block). in may equal out (the first block) but may
 * not overlap it otherwise. Results equal nt separate applies bitwise.
 * Errors: BERG_ERR_NULL, BERG_ERR_SIZE (nt = 0), BERG_ERR_TIME (t[j] < 0
 * or not finite; the message names j).
 */
BERG_API berg_status berg_heat_apply_times(berg_heat *heat, size_t nt, const double *t,
                                           const double *in, double *out);

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

/*
 * A Fourier multiplier with symbol c on space (the space is copied); flags
 * as for berg_heat_create. Like berg_heat, a multiplier owns scratch: one
 * handle may not be applied from several threads at once.
 */
BERG_API berg_status berg_multiplier_create(berg_multiplier **out, const berg_space *space,
                                            berg_symbol_fn symbol, void *user_data,
                                            unsigned flags);

/* out = c(k) applied mode by mode to in. in == out allowed. */
BERG_API berg_status berg_multiplier_apply(berg_multiplier *m, const double *in, double *out);

/* out = e^{-t c(k)} applied mode by mode to in, t >= 0 (c must be >= 0 on
 * every mode, else BERG_ERR_DOMAIN). in == out allowed. */
BERG_API berg_status berg_multiplier_exp_apply(berg_multiplier *m, double t, const double *in,
                                               double *out);

/*
 * As berg_multiplier_create, with FFTs on nthreads threads (>= 1).
 * The symbol is evaluated once per spectral mode, at creation, with k the
 * mode's wave vector: periodic axes k_a = 2 pi m / L_a with m in
 * (-n/2, n/2], except that on the last periodic axis only m >= 0 is
 * evaluated (FFTW's half spectrum); the Nyquist mode m = n/2 of an even
 * axis is both +pi n / L and -pi n / L, and its symbol is the average of the
 * two (of all 2^r sign choices for r such axes), as the heat symbol drops
 * the cross terms g^{ab} k_a k_b there;
 * Neumann k_a = pi m / L_a, Dirichlet k_a = pi (m + 1) / L_a. The symbol must
 * therefore be even, c(-k) = c(k), and even in each non-periodic k_a
 * (every function of |k|_g is). With BERG_SYMBOL_FD each k_a is replaced by
 * 2 sin(k_a h_a / 2) / h_a.
 * Errors: BERG_ERR_NULL, BERG_ERR_DOMAIN (nthreads, flags),
 * BERG_ERR_CALLBACK (the symbol returned nonzero or a non-finite value; the
 * message gives the mode's k), BERG_ERR_NOMEM, BERG_ERR_INTERNAL.
 */
BERG_API berg_status berg_multiplier_create_ex(berg_multiplier **out, const berg_space *space,
                                               berg_symbol_fn symbol, void *user_data,
                                               int nthreads, unsigned flags);

/*
 * A multiplier whose symbol is a radial profile c(|k|_g), |k|_g^2 =
 * k . g^{-1} k, tabulated at np >= 2 strictly increasing, finite knots
 * kp[0..np-1] >= 0 with finite values cp[]; linear interpolation between
 * knots, constant (the end values) outside [kp[0], kp[np-1]].
 * Errors: BERG_ERR_NULL, BERG_ERR_SIZE (np < 2), BERG_ERR_NONFINITE,
 * BERG_ERR_DOMAIN (knots negative or not increasing), as above otherwise.
 */
BERG_API berg_status berg_multiplier_create_radial(berg_multiplier **out, const berg_space *space,
                                                   size_t np, const double *kp, const double *cp,
                                                   unsigned flags);

/*
 * Built-in regulators of the Wegner-Morris scheme (seed eq 9-11) as
 * functions of |k| = |k|_g and the scale Lambda > 0. Values are pinned.
 *   SHARP            theta(Lambda - |k|)  (1 for |k| <= Lambda, else 0)
 *   EXPONENTIAL      exp(-|k|^2 / Lambda^2)
 *   LITIM            (Lambda^2 - |k|^2) theta(Lambda^2 - |k|^2)
 *   EXPONENTIAL_DOT  Lambda d/dLambda of EXPONENTIAL
 *                    = (2 |k|^2 / Lambda^2) exp(-|k|^2 / Lambda^2)
 *   LITIM_DOT        Lambda d/dLambda of LITIM = 2 Lambda^2 theta(Lambda^2 - |k|^2)
 * (Lambda d/dLambda of SHARP is a delta shell, not a grid function.)
 */
typedef enum berg_regulator {
    BERG_REGULATOR_SHARP = 0,
    BERG_REGULATOR_EXPONENTIAL = 1,
    BERG_REGULATOR_LITIM = 2,
    BERG_REGULATOR_EXPONENTIAL_DOT = 3,
    BERG_REGULATOR_LITIM_DOT = 4
} berg_regulator;

/* The regulator's value at |k| (k >= 0 finite, Lambda > 0 finite), for
 * checking and plotting. Errors: BERG_ERR_NULL, BERG_ERR_DOMAIN,
 * BERG_ERR_NONFINITE. */
BERG_API berg_status berg_regulator_value(berg_regulator kind, double lambda, double k,
                                          double *value);

/* A multiplier whose symbol is the regulator `kind` at scale lambda.
 * Errors: BERG_ERR_DOMAIN (unknown kind, lambda <= 0 or not finite), as
 * berg_multiplier_create otherwise. */
BERG_API berg_status berg_multiplier_create_regulator(berg_multiplier **out,
                                                      const berg_space *space,
                                                      berg_regulator kind, double lambda,
                                                      unsigned flags);

/*
 * Gaussian random field with spectrum C(k) = the multiplier's symbol (which
 * must be >= 0 on every mode, else BERG_ERR_DOMAIN): out = T^{-1} sqrt(C) T xi
 * with xi white noise of variance 1/w per cell (w = cell weight), so that
 *   E[out_i out_j] = (1/V) sum_k C(k) e_k(x_i) e_k(x_j)
 * (the lattice version of E[phi(x) phi(y)] = C(x - y); on periodic axes
 * e_k e_k -> e^{i k (x_i - x_j)}, on Neumann / Dirichlet axes the cosine /
 * sine eigenfunctions normalised on the box). xi_i = z_i / sqrt(w) where
 * z_0, z_1, ... are the standard normals (Marsaglia polar method) of the
 * xoshiro256** generator seeded by splitmix64 from (seed, stream) (see
 * lib/core/rng.c): the same (seed, stream) gives the same field on every
 * platform; different streams give independent fields.
 */
BERG_API berg_status berg_multiplier_random_field(berg_multiplier *m, unsigned long long seed,
                                                  unsigned long long stream, double *out);

/* Free a multiplier. NULL is a no-op. */
BERG_API void berg_multiplier_destroy(berg_multiplier *m);

/* ---- FFTW wisdom ------------------------------------------------------ */

/*
 * FFTW_MEASURE planning (the default) costs time at creation; wisdom saved
 * once per machine makes later creations fast. These pass through to FFTW's
 * global wisdom (shared with the host program's own FFTW use; libberg only
 * ever adds wisdom, never forgets it), under libberg's planner lock.
 */
/* *out = a NUL-terminated copy of FFTW's wisdom; free it with berg_free. */
BERG_API berg_status berg_wisdom_export_string(char **out);
/* Add wisdom from a string. BERG_ERR_PARSE if it is not FFTW wisdom. */
BERG_API berg_status berg_wisdom_import_string(const char *wisdom);
/* Write / read wisdom to / from a file. BERG_ERR_IO if the file cannot be
 * opened or written, BERG_ERR_PARSE if its content is not wisdom. */
BERG_API berg_status berg_wisdom_export_file(const char *path);
BERG_API berg_status berg_wisdom_import_file(const char *path);

/* ==== end of the heat / multiplier / random-field section (issue 3) ==== */

/* ==== Fokker-Planck / Wegner-Morris / particles / fields (issue 4) ==== */

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
#define BERG_FP_FOURIER 0x10u

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

/* ==== end of the Fokker-Planck section ==== */

#ifdef __cplusplus
}
#endif

#endif /* BERG_PROPAGATOR_H */
