/**
 * @file berg/heat.h
 * @brief Heat kernels, Fourier multipliers, regulators, Gaussian random
 * fields, the information of a heat channel and FFTW wisdom.
 *
 * Heat semigroup convention: d/dt p = Delta_g p = g^{ab} d_a d_b p, so on
 * R^d with g = I a point mass spreads to covariance 2 t I. Spectral
 * propagation multiplies each mode by exp(-t k.g^{-1}k) with the grid's
 * modes: periodic k = 2 pi m / L (real FFT), Neumann k = pi m / L
 * (DCT-II/III), Dirichlet k = pi (m + 1) / L (DST-II/III).
 *
 * Argument kinds: a "state" (the arrays of the linear flows here: heat and
 * multiplier inputs) is any finite array, not normalized (the flows are
 * linear; non-finite values are not checked and propagate to the output);
 * a "density" is finite, >= 0, normalized to 1 within
 * berg_density_mass_tolerance() (an unnormalized one is refused with
 * BERG_ERR_MASS).
 *
 * Flags of the heat, multiplier and random-field creators (bitwise or of
 * berg_flag values; 0 is the default: FFTW_MEASURE planning and the exact
 * continuum symbol; any other bit is refused with BERG_ERR_DOMAIN naming it):
 * - BERG_PLAN_ESTIMATE: plan with FFTW_ESTIMATE (fast creation, applies
 *   possibly slower). Either way wisdom imported with
 *   berg_wisdom_import_string() or berg_wisdom_import_file() is used, and
 *   makes FFTW_MEASURE creation fast too.
 * - BERG_SYMBOL_FD: heat: use the exact semigroup of the second-order
 *   cell-centred finite-difference Laplacian, symbol
 *   sum_a g^{aa} (4/h_a^2) sin^2(k_a h_a/2) (plus cross terms
 *   g^{ab} sin(k_a h_a) sin(k_b h_b)/(h_a h_b) on coupled periodic axes)
 *   instead of k.g^{-1}k. With a diagonal metric it is the transition kernel
 *   of a nearest-neighbour random walk: positivity preserving, and on
 *   Dirichlet axes the total mass never increases (absorbing walls).
 *   The default continuum symbol does not have these properties on coarse
 *   grids: its kernel has negative lobes, and on Dirichlet axes a spike
 *   can gain total mass for small t (a few percent at 4-16 cells); use
 *   BERG_SYMBOL_FD where positivity or non-increasing mass matter.
 *   Multipliers: the symbol receives the finite-difference wave numbers
 *   2 sin(k_a h_a/2)/h_a (with a coupled metric, |k|_g^2 of those is not the
 *   stencil's symbol: its cross terms differ).
 * - BERG_HEAT_DIRECT, BERG_HEAT_SPECTRAL (since 1.1; heat creators, and
 *   multiplier creators for berg_multiplier_exp_apply() with the heat
 *   symbol): force the direct path at every t where the kernel is compact,
 *   or the spectral path at every t (see "Short times" below). Both
 *   together are refused (BERG_ERR_DOMAIN).
 *
 * Short times: the direct path (since 1.1). With a diagonal metric the heat
 * semigroup is a product of per-axis convolutions with the exact discrete
 * kernel of each axis: the inverse transform of the axis' symbol on the
 * extension its transform diagonalises (periodic, even about the cell faces
 * on Neumann axes, odd on Dirichlet axes). In closed form it is
 * e^{-2s} I_m(2s), s = g^{aa} t / h_a^2, for BERG_SYMBOL_FD (a random
 * walk), and the sampled Gaussian of variance 2 g^{aa} t for the continuum
 * symbol once the symbol's out-of-band mass sum_{|j| > N/2} e^{-t g^{aa}
 * k_j^2} is below 1e-17 (sigma_a = sqrt(2 g^{aa} t)/h_a above about 3;
 * below that the continuum kernel rings with e^{-pi^2 sigma^2/2}/(pi m)
 * tails and is not compact). Entries below 1e-17 of the kernel's peak are
 * dropped; the kernel is compact when the rest spans at most 321 cells and
 * fits one period of the axis. Where every axis' kernel is compact, the
 * apply functions (and berg_multiplier_exp_apply() when the symbol is
 * lambda times the heat symbol of a diagonal metric) run the direct path
 * when it is faster: the first call that could take it measures, once per
 * process and grid (shape, boundaries, batch, threads; as FFTW's wisdom
 * plans a grid once) and under a lock, one spectral step and the passes
 * at two kernel widths (the contiguous axis in both of its loop forms,
 * which give the same bits); each t is then decided from its kernel
 * widths. The two paths agree to 1e-14 of the result's maximum (tested on
 * random data, every boundary kind, mixed, 1-D to 3-D, odd sizes, many t);
 * which one runs depends on the machine's measured speed, so results of
 * different processes may differ at that level (handles on one grid in
 * one process choose alike); BERG_HEAT_SPECTRAL or BERG_HEAT_DIRECT fix
 * the path. The direct path is
 * split among the handle's nthreads and gives bitwise the same result on
 * any number of threads.
 *
 * Thread safety: berg_heat and berg_multiplier handles are immutable after
 * creation. Their apply functions take a const handle and may be called on
 * one handle from any number of threads at once; each call takes a scratch
 * block from the handle (one is allocated at creation, so serial use never
 * allocates; a concurrent caller gets its own block). Applies never plan.
 * Creation and destruction are safe from any thread at once: creation
 * plans under libberg's FFTW planner lock (FFTW's own planner lock is
 * switched on with fftw_make_planner_thread_safe(), so a host program that
 * plans at the same time is safe too); destruction never waits for another
 * thread's planning (a plan whose destruction would wait is destroyed by
 * the planning thread when it is done). A handle may not be destroyed
 * while another thread applies it.
 */
#ifndef BERG_HEAT_H
#define BERG_HEAT_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A heat propagator e^{t Delta_g} on a space (opaque, immutable
 * after creation).
 *
 * Algorithm: out = T^{-1} [ e^{-t q(k)} T in ] with T the real transform of
 * each axis (r2c DFT, DCT-II, DST-II). When g^{-1} is diagonal the factor
 * is a product of per-axis tables (O(sum n_a) exponentials per new t);
 * coupled periodic axes use a per-mode table of q(k) with one exponential
 * per mode per new t. Each scratch block keeps the tables of its last t.
 * @since 1.0
 */
typedef struct berg_heat berg_heat;

/**
 * @brief Create a heat propagator e^{t Delta_g} on a space, for one array
 * per call and single-threaded FFTs.
 *
 * Equivalent to berg_heat_create_ex(out, space, 1, 1, flags).
 * @param[out] out    the new handle; untouched on failure. Free with
 *                    berg_heat_destroy().
 * @param[in]  space  the space (copied: it may be destroyed afterwards).
 * @param[in]  flags  0 or a bitwise or of BERG_PLAN_ESTIMATE,
 *                    BERG_SYMBOL_FD and one of BERG_HEAT_DIRECT,
 *                    BERG_HEAT_SPECTRAL (since 1.1).
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_DOMAIN when flags has a bit of another creator (the
 *         message names it) or both BERG_HEAT_DIRECT and
 *         BERG_HEAT_SPECTRAL, or when the symbol |k|^2_g of the highest
 *         modes overflows (cells so small that 1/h^2 times the inverse
 *         metric exceeds DBL_MAX; the message names the axis and 1/h^2);
 *         BERG_ERR_SIZE when the spectral arrays would be too large;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_heat_create(berg_heat **out, const berg_space *space, unsigned flags);

/**
 * @brief Create a heat propagator for batches of arrays, with multi-threaded
 * FFTs.
 *
 * One FFTW "many" plan transforms the `batch` arrays of a call together.
 * @param[out] out       the new handle; untouched on failure. Free with
 *                       berg_heat_destroy().
 * @param[in]  space     the space (copied).
 * @param[in]  batch     arrays per call, >= 1.
 * @param[in]  nthreads  FFTW threads of each transform, >= 1 (1 =
 *                       single-threaded); since 1.1 also the threads of
 *                       the spectral product and of the direct path (the
 *                       result does not depend on it). 0 stays refused:
 *                       the library-wide berg_set_threads() setting does
 *                       not apply to heat handles.
 * @param[in]  flags     0 or a bitwise or of BERG_PLAN_ESTIMATE,
 *                       BERG_SYMBOL_FD and one of BERG_HEAT_DIRECT,
 *                       BERG_HEAT_SPECTRAL (since 1.1).
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL; BERG_ERR_SIZE
 *         when batch is 0 or batch * berg_space_size() is too large;
 *         BERG_ERR_DOMAIN when nthreads is 0 or above INT_MAX, flags has
 *         a bit of another creator or both forcing flags, or the symbol
 *         |k|^2_g of the highest modes overflows (as berg_heat_create());
 *         BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_heat_create_ex(berg_heat **out, const berg_space *space, size_t batch,
                                         size_t nthreads, unsigned flags);

/**
 * @brief out = e^{t Delta_g} in, for a handle of batch 1.
 *
 * Inputs with values so large that the transforms' sums (up to 2^(d+1)
 * berg_space_size() max|in|) would overflow are transformed scaled by an
 * exact power of two, so any finite input gives the finite result (the
 * semigroup is linear); the call is refused only when the result itself
 * exceeds DBL_MAX. Values below DBL_MIN (subnormal) in the spectral sums
 * are flushed to zero; a subnormal t > 0 is a time, not 0.
 * @param[in]  heat  the handle (batch 1).
 * @param[in]  t     the time, finite and >= 0 (t = 0 copies).
 * @param[in]  in    state: berg_space_size() finite values, any alignment.
 * @param[out] out   berg_space_size() values; may equal in (in place).
 *                   Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when heat, in or out is NULL;
 *         BERG_ERR_TIME when t is negative or not finite;
 *         BERG_ERR_NONFINITE when in has a NaN or infinity (the message
 *         names the index); BERG_ERR_DOMAIN when the result exceeds
 *         DBL_MAX;
 *         BERG_ERR_MISMATCH when heat was created for batches of more than
 *         one array (use berg_heat_apply_batch()); BERG_ERR_NOMEM when a
 *         concurrent call needs a scratch block and none can be allocated.
 * @since 1.0
 */
BERG_API berg_status berg_heat_apply(const berg_heat *heat, double t, const double *in,
                                     double *out);

/**
 * @brief The batch size a handle was created for.
 * @param[in] heat  the handle.
 * @return the batch, or 0 when heat is NULL.
 * @since 1.0
 */
BERG_API size_t berg_heat_batch(const berg_heat *heat);

/**
 * @brief out = e^{t Delta_g} in for each of the `count` arrays of a batch.
 * @param[in]  heat   the handle.
 * @param[in]  t      the time, finite and >= 0.
 * @param[in]  count  arrays in in and out; must equal berg_heat_batch(heat).
 * @param[in]  in     state: count * berg_space_size() finite values, the
 *                    arrays one after the other, any alignment (scaled as
 *                    in berg_heat_apply() when they are huge).
 * @param[out] out    count * berg_space_size() values; may equal in.
 *                    Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when heat, in or out is NULL;
 *         BERG_ERR_SIZE when count is 0; BERG_ERR_MISMATCH when count is not
 *         the handle's batch; BERG_ERR_TIME when t is negative or not
 *         finite; BERG_ERR_NONFINITE when in has a NaN or infinity;
 *         BERG_ERR_DOMAIN when the result exceeds DBL_MAX; BERG_ERR_NOMEM
 *         when no scratch block can be allocated.
 * @since 1.0
 */
BERG_API berg_status berg_heat_apply_batch(const berg_heat *heat, double t, size_t count,
                                           const double *in, double *out);

/**
 * @brief Several times from one forward transform:
 * out[j] = e^{t[j] Delta_g} in for j < nt.
 *
 * Results equal nt separate applies bitwise (huge inputs are scaled as
 * in berg_heat_apply(); a subnormal t[j] > 0 is a time, not 0). Every count
 * is checked before the first element of t is read.
 * @param[in]  heat  the handle (any batch B).
 * @param[in]  nt    number of times, >= 1; nt blocks must be addressable.
 * @param[in]  t     nt times, each finite and >= 0.
 * @param[in]  in    state: one block of B * berg_space_size() finite values.
 * @param[out] out   nt consecutive blocks of B * berg_space_size() values;
 *                   the first block may equal in, other overlap is not
 *                   allowed. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when heat, t, in or out is NULL;
 *         BERG_ERR_SIZE when nt is 0 or nt * block * sizeof(double)
 *         exceeds the address space; BERG_ERR_TIME when some t[j] is
 *         negative or not finite (the message names j); BERG_ERR_NONFINITE
 *         when in has a NaN or infinity; BERG_ERR_DOMAIN when a result
 *         exceeds DBL_MAX; BERG_ERR_NOMEM when no scratch block can be
 *         allocated.
 * @since 1.0
 */
BERG_API berg_status berg_heat_apply_times(const berg_heat *heat, size_t nt, const double *t,
                                           const double *in, double *out);

/**
 * @brief Information kept by the heat channel: *info = I(X_0; X_t) for
 * X_0 ~ p and X_t = X_0 diffused by e^{t Delta_g}.
 *
 * I = S[e^{t Delta_g} p] - H(X_t | X_0), where the conditional entropy is
 * the entropy of the grid's heat kernel averaged over p (translation
 * invariant on periodic axes; per starting cell on Neumann axes). This is
 * the exact mutual information of the discrete channel of the handle (its
 * BERG_SYMBOL_FD flag, which keeps kernels positive for small t, applies).
 * Uses the handle's plans (no planning); costs max(1, max n_a over the
 * Neumann axes) + 1 applies. Kernel values below -1e-6 times the kernel's
 * maximum (spectral ringing at t << h^2) are refused; smaller negative
 * rounding is set to 0. Safe from several threads at once on one handle.
 * @param[in]  heat  the handle (batch 1) on a space without Dirichlet axes.
 * @param[in]  t     the time, finite and >= 0.
 * @param[in]  p     density: berg_space_size() values, the law of X_0.
 * @param[out] info  the mutual information in nats; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when heat, p or info is NULL;
 *         BERG_ERR_MISMATCH when heat has a batch above 1; BERG_ERR_TIME
 *         when t is negative or not finite; BERG_ERR_NONFINITE,
 *         BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is not a density;
 *         BERG_ERR_UNSUPPORTED when an axis is Dirichlet (mass leaks: no
 *         channel); BERG_ERR_DOMAIN when a kernel rings (use a larger t or
 *         a handle created with BERG_SYMBOL_FD); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_heat_channel_information(const berg_heat *heat, double t,
                                                   const double *p, double *info);

/**
 * @brief Free a heat propagator (takes no global lock, never waits for
 * another thread's planning).
 * @param[in] heat  the handle, or NULL (a no-op).
 * @since 1.0
 */
BERG_API void berg_heat_destroy(berg_heat *heat);

/**
 * @brief A symbol c(k) of a Fourier multiplier (also the regulator of a
 * Langevin field).
 *
 * Evaluated once per mode, at creation.
 * @param[in]  ndim       rank d of the space.
 * @param[in]  k          the wave (co)vector k[0..d-1] of one grid mode
 *                        (|k|_g^2 = k . g^{-1} k).
 * @param[out] c          the symbol's value, finite.
 * @param[in]  user_data  the pointer given to the creator.
 * @return 0 on success; any other value is a failure that the calling
 *         libberg function reports as BERG_ERR_CALLBACK (as it reports a
 *         non-finite *c).
 * @since 1.0
 */
typedef int (*berg_symbol_fn)(size_t ndim, const double *k, double *c, void *user_data);

/**
 * @brief A Fourier multiplier: a symbol c(k) tabulated on the grid's modes
 * (opaque, immutable after creation).
 * @since 1.0
 */
typedef struct berg_multiplier berg_multiplier;

/**
 * @brief Create a Fourier multiplier with symbol c on a space, with
 * single-threaded FFTs.
 *
 * Equivalent to berg_multiplier_create_ex(out, space, 1, flags, symbol,
 * user_data); see there for the modes the symbol is evaluated on.
 * @param[out] out        the new handle; untouched on failure. Free with
 *                        berg_multiplier_destroy().
 * @param[in]  space      the space (copied).
 * @param[in]  flags      0 or a bitwise or of BERG_PLAN_ESTIMATE,
 *                        BERG_SYMBOL_FD and one of BERG_HEAT_DIRECT,
 *                        BERG_HEAT_SPECTRAL (since 1.1; they choose the
 *                        path of berg_multiplier_exp_apply() when the
 *                        symbol is the heat symbol).
 * @param[in]  symbol     the symbol c(k).
 * @param[in]  user_data  passed to symbol.
 * @return BERG_OK; BERG_ERR_NULL when out, space or symbol is NULL;
 *         BERG_ERR_DOMAIN when flags has a bit of another creator;
 *         BERG_ERR_CALLBACK when symbol returns nonzero or a non-finite
 *         value (the message gives the mode's k); BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_create(berg_multiplier **out, const berg_space *space,
                                            unsigned flags, berg_symbol_fn symbol,
                                            void *user_data);

/**
 * @brief Create a Fourier multiplier with symbol c, with FFTs on nthreads
 * threads.
 *
 * The symbol is evaluated once per spectral mode, at creation, with k the
 * mode's wave vector: periodic axes k_a = 2 pi m / L_a with m in
 * (-n/2, n/2], except that on the last periodic axis only m >= 0 is
 * evaluated (FFTW's half spectrum); the Nyquist mode m = n/2 of an even
 * axis is both +pi n / L and -pi n / L, and its symbol is the average of the
 * two (of all 2^r sign choices for r such axes), as the heat symbol drops
 * the cross terms g^{ab} k_a k_b there; Neumann k_a = pi m / L_a, Dirichlet
 * k_a = pi (m + 1) / L_a. The symbol must therefore be even, c(-k) = c(k),
 * and even in each non-periodic k_a (every function of |k|_g is). With
 * BERG_SYMBOL_FD each k_a is replaced by 2 sin(k_a h_a / 2) / h_a.
 * @param[out] out        the new handle; untouched on failure.
 * @param[in]  space      the space (copied).
 * @param[in]  nthreads   FFTW threads, >= 1.
 * @param[in]  flags      0 or a bitwise or of BERG_PLAN_ESTIMATE,
 *                        BERG_SYMBOL_FD and one of BERG_HEAT_DIRECT,
 *                        BERG_HEAT_SPECTRAL (since 1.1; they choose the
 *                        path of berg_multiplier_exp_apply() when the
 *                        symbol is the heat symbol).
 * @param[in]  symbol     the symbol c(k).
 * @param[in]  user_data  passed to symbol.
 * @return BERG_OK; BERG_ERR_NULL when out, space or symbol is NULL;
 *         BERG_ERR_DOMAIN when nthreads is 0 or above INT_MAX, or flags has
 *         a bit of another creator; BERG_ERR_CALLBACK when symbol returns
 *         nonzero or a non-finite value (the message gives the mode's k);
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_create_ex(berg_multiplier **out, const berg_space *space,
                                               size_t nthreads, unsigned flags,
                                               berg_symbol_fn symbol, void *user_data);

/**
 * @brief A multiplier whose symbol is a tabulated radial profile c(|k|_g),
 * |k|_g^2 = k . g^{-1} k.
 *
 * Linear interpolation between the knots, constant (the end values)
 * outside [kp[0], kp[np-1]].
 * @param[out] out    the new handle; untouched on failure.
 * @param[in]  space  the space (copied).
 * @param[in]  np     number of knots, >= 2.
 * @param[in]  kp     np finite knots, kp[0] >= 0, strictly increasing.
 * @param[in]  cp     np finite profile values at the knots.
 * @param[in]  flags  0 or a bitwise or of BERG_PLAN_ESTIMATE,
 *                    BERG_SYMBOL_FD and one of BERG_HEAT_DIRECT,
 *                    BERG_HEAT_SPECTRAL (since 1.1; they choose the
 *                    path of berg_multiplier_exp_apply() when the
 *                    symbol is the heat symbol).
 * @return BERG_OK; BERG_ERR_NULL when out, space, kp or cp is NULL;
 *         BERG_ERR_SIZE when np < 2; BERG_ERR_NONFINITE when a knot or value
 *         is not finite; BERG_ERR_DOMAIN when the knots are negative or not
 *         increasing, or flags has a bit of another creator; BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_create_radial(berg_multiplier **out, const berg_space *space,
                                                   size_t np, const double *kp, const double *cp,
                                                   unsigned flags);

/**
 * @brief Built-in regulators of the Wegner-Morris scheme as functions of
 * |k| = |k|_g and the scale Lambda > 0. Values are pinned.
 *
 * Lambda d/dLambda of SHARP is a delta shell, not a grid function.
 * @since 1.0
 */
typedef enum berg_regulator {
    /** theta(Lambda - |k|): 1 for |k| <= Lambda, else 0. */
    BERG_REGULATOR_SHARP = 0,
    /** exp(-|k|^2 / Lambda^2). */
    BERG_REGULATOR_EXPONENTIAL = 1,
    /** (Lambda^2 - |k|^2) theta(Lambda^2 - |k|^2). */
    BERG_REGULATOR_LITIM = 2,
    /** Lambda d/dLambda of EXPONENTIAL = (2 |k|^2 / Lambda^2) exp(-|k|^2 / Lambda^2). */
    BERG_REGULATOR_EXPONENTIAL_DOT = 3,
    /** Lambda d/dLambda of LITIM = 2 Lambda^2 theta(Lambda^2 - |k|^2). */
    BERG_REGULATOR_LITIM_DOT = 4
} berg_regulator;

/**
 * @brief The value of a regulator at |k|, for checking and plotting.
 * @param[in]  kind    the regulator.
 * @param[in]  lambda  the scale Lambda, finite and > 0.
 * @param[in]  k       |k|, finite and >= 0.
 * @param[out] value   the regulator's value; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when value is NULL; BERG_ERR_DOMAIN when
 *         kind is unknown, lambda is not positive and finite, or k < 0;
 *         BERG_ERR_NONFINITE when k is not finite.
 * @since 1.0
 */
BERG_API berg_status berg_regulator_value(berg_regulator kind, double lambda, double k,
                                          double *value);

/**
 * @brief A multiplier whose symbol is a regulator at scale lambda.
 * @param[out] out     the new handle; untouched on failure.
 * @param[in]  space   the space (copied).
 * @param[in]  kind    the regulator.
 * @param[in]  lambda  the scale Lambda, finite and > 0.
 * @param[in]  flags   0 or a bitwise or of BERG_PLAN_ESTIMATE,
 *                     BERG_SYMBOL_FD and one of BERG_HEAT_DIRECT,
 *                     BERG_HEAT_SPECTRAL (since 1.1; they choose the
 *                     path of berg_multiplier_exp_apply() when the
 *                     symbol is the heat symbol).
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_DOMAIN when kind is unknown, lambda is not positive and
 *         finite, the regulator overflows on some mode (lambda^2 beyond
 *         DBL_MAX for the Litim kinds), or flags has a bit of another
 *         creator; BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW cannot plan.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_create_regulator(berg_multiplier **out,
                                                      const berg_space *space,
                                                      berg_regulator kind, double lambda,
                                                      unsigned flags);

/**
 * @brief out = c(k) applied mode by mode to in.
 *
 * When the transform sums (up to 2^(d+1) sum|in| max(1, max|c|)) could
 * overflow, the input is transformed at an exact power-of-two scale.
 * @param[in]  m    the multiplier.
 * @param[in]  in   state: berg_space_size() finite values, any alignment.
 * @param[out] out  berg_space_size() values; may equal in. Untouched on
 *                  failure.
 * @return BERG_OK; BERG_ERR_NULL when m, in or out is NULL;
 *         BERG_ERR_NONFINITE when in has a NaN or infinity;
 *         BERG_ERR_DOMAIN when the result exceeds DBL_MAX; BERG_ERR_NOMEM
 *         when no scratch block can be allocated.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_apply(const berg_multiplier *m, const double *in,
                                           double *out);

/**
 * @brief out = e^{-t c(k)} applied mode by mode to in.
 *
 * Since 1.1, when c = lambda q(k) on every mode (to 4e-15 relative, lambda
 * > 0) with q the heat symbol of a diagonal metric (k.g^{-1}k, or its
 * finite-difference form with BERG_SYMBOL_FD), this is the heat semigroup
 * at time lambda t and takes the direct path where it is faster (see
 * "Short times" above), agreeing with the spectral path to 1e-14 of the
 * maximum.
 * @param[in]  m    the multiplier; its symbol must be >= 0 on every mode.
 * @param[in]  t    the time, finite and >= 0 (t = 0 copies).
 * @param[in]  in   state: berg_space_size() finite values, any alignment
 *                  (scaled as in berg_multiplier_apply() when huge).
 * @param[out] out  berg_space_size() values; may equal in. Untouched on
 *                  failure.
 * @return BERG_OK; BERG_ERR_NULL when m, in or out is NULL; BERG_ERR_TIME
 *         when t is negative or not finite; BERG_ERR_NONFINITE when in has
 *         a NaN or infinity; BERG_ERR_DOMAIN when the symbol is negative on
 *         some mode (the message gives its k) or the result exceeds
 *         DBL_MAX; BERG_ERR_NOMEM when no scratch block can be allocated.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_exp_apply(const berg_multiplier *m, double t,
                                               const double *in, double *out);

/**
 * @brief A Gaussian random field whose spectrum C(k) is the multiplier's
 * symbol.
 *
 * out = T^{-1} sqrt(C) T xi with xi white noise of variance 1/w per cell
 * (w = cell weight), so that
 *   E[out_i out_j] = (1/V) sum_k C(k) e_k(x_i) e_k(x_j)
 * (the lattice version of E[phi(x) phi(y)] = C(x - y); on periodic axes
 * e_k e_k -> e^{i k (x_i - x_j)}, on Neumann / Dirichlet axes the cosine /
 * sine eigenfunctions normalised on the box). xi_i = z_i / sqrt(w) where
 * z_0, z_1, ... are the standard normals (Marsaglia polar method) of the
 * xoshiro256** generator seeded by splitmix64 from (seed, stream): the same
 * (seed, stream) gives the same field on every platform; different streams
 * give independent fields.
 * @param[in]  m       the multiplier; its symbol must be >= 0 on every mode.
 * @param[in]  seed    the generator's seed.
 * @param[in]  stream  the generator's stream.
 * @param[out] out     berg_space_size() values.
 * @return BERG_OK; BERG_ERR_NULL when m or out is NULL; BERG_ERR_DOMAIN
 *         when the symbol is negative on some mode (the message gives its
 *         k); BERG_ERR_NOMEM when no scratch block can be allocated.
 * @since 1.0
 */
BERG_API berg_status berg_multiplier_random_field(const berg_multiplier *m,
                                                  unsigned long long seed,
                                                  unsigned long long stream, double *out);

/**
 * @brief Free a multiplier (takes no global lock, never waits for another
 * thread's planning).
 * @param[in] m  the multiplier, or NULL (a no-op).
 * @since 1.0
 */
BERG_API void berg_multiplier_destroy(berg_multiplier *m);

/**
 * @brief A copy of FFTW's accumulated wisdom.
 *
 * FFTW_MEASURE planning (the default) costs time at creation; wisdom saved
 * once per machine makes later creations fast. The wisdom functions pass
 * through to FFTW's global wisdom (shared with the host program's own FFTW
 * use; libberg only ever adds wisdom, never forgets it), under libberg's
 * planner lock.
 *
 * System wisdom: at the first planning or wisdom call of the process
 * libberg imports the file named by the environment variable BERG_WISDOM,
 * or when it is unset SYSCONFDIR/berg/wisdom of the install prefix
 * (/etc/berg/wisdom for /usr); BERG_WISDOM set to the empty string imports
 * nothing. A missing file, or one that is not FFTW wisdom, is skipped
 * without error. The berg-wisdom command plans named grids and writes that
 * file, so that MEASURE creation on those grids afterwards plans from wisdom.
 * @param[out] out  a NUL-terminated string; free it with berg_free().
 *                  Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when out is NULL; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_wisdom_export_string(char **out);

/**
 * @brief Add wisdom from a string (as made by berg_wisdom_export_string()).
 * @param[in] wisdom  the NUL-terminated wisdom text.
 * @return BERG_OK; BERG_ERR_NULL when wisdom is NULL; BERG_ERR_PARSE when it
 *         is not FFTW wisdom (or is for another FFTW version or precision).
 * @since 1.0
 */
BERG_API berg_status berg_wisdom_import_string(const char *wisdom);

/**
 * @brief Write FFTW's wisdom to a file.
 * @param[in] path  the file name (created or truncated).
 * @return BERG_OK; BERG_ERR_NULL when path is NULL; BERG_ERR_IO when the
 *         file cannot be opened or written.
 * @since 1.0
 */
BERG_API berg_status berg_wisdom_export_file(const char *path);

/**
 * @brief Add wisdom read from a file.
 * @param[in] path  the file name.
 * @return BERG_OK; BERG_ERR_NULL when path is NULL; BERG_ERR_IO when the
 *         file cannot be opened; BERG_ERR_PARSE when its content is not
 *         wisdom.
 * @since 1.0
 */
BERG_API berg_status berg_wisdom_import_file(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* BERG_HEAT_H */
