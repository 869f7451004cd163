/*
 * berg/heat.h - heat kernels, Fourier multipliers, regulators, Gaussian random fields and FFTW wisdom (seed eq 9-11, 16, 22).
 */
#ifndef BERG_HEAT_H
#define BERG_HEAT_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Heat semigroup convention: d/dt p = Delta_g p = g^{ab} d_a d_b p, so on R^d
 * with g = I a point mass spreads to covariance 2 t I. Spectral propagation
 * multiplies each mode by exp(-t k.g^{-1}k) with the grid's modes:
 * periodic k = 2 pi m / L (real FFT), Neumann k = pi m / L (DCT-II/III),
 * Dirichlet k = pi (m + 1) / L (DST-II/III).
 */

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

/* ---- information kept by a heat channel ----
 * *info = I(X_0; X_t) for X_0 ~ p and X_t = X_0 diffused by e^{t Delta_g}:
 * S[e^{t Delta_g} p] - H(X_t | X_0), where the conditional entropy is the
 * entropy of the grid's heat kernel averaged over p (translation invariant
 * on periodic axes; per starting cell on Neumann axes). This is the exact
 * mutual information of the discrete channel. flags are passed to
 * berg_heat_create (0, BERG_PLAN_ESTIMATE, BERG_SYMBOL_FD: the latter keeps
 * kernels positive for small t); each call plans its transforms, so pass
 * BERG_PLAN_ESTIMATE when calling it often. Kernel values below -1e-6 * max (spectral
 * ringing at t << h^2) are refused with BERG_ERR_DOMAIN; smaller negative
 * rounding is set to 0. Dirichlet axes (mass leaks: no channel) are
 * BERG_ERR_UNSUPPORTED. t >= 0 (BERG_ERR_TIME). */
BERG_API berg_status berg_heat_mutual_information(const berg_space *space, const double *p,
                                                  double t, unsigned flags, double *info);

#ifdef __cplusplus
}
#endif

#endif /* BERG_HEAT_H */
