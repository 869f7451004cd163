/**
 * @file berg/fokker_planck.h
 * @brief Fokker-Planck / ERG flows of densities on a grid (berg_fp) and
 * their exact spectral propagator (berg_fp_spectral).
 *
 * The flow, with the space's metric g as the inverse diffusion tensor:
 *
 *   d/dt p = div( g^{-1} (grad p + p grad V) ),   stationary q = e^{-V} / Z.
 *
 * Two discretizations, chosen at creation:
 *
 * - Finite volume (flags 0): the Scharfetter-Gummel generator L, a flux on
 *   every cell face with the Bernoulli weights B(dV) = dV / (e^{dV} - 1).
 *   e^{-V}/Z is its exact discrete stationary state; it conserves mass
 *   exactly on periodic and Neumann axes; it is an M-matrix generator (so
 *   e^{tL} is positive and KL(p_t||q) cannot increase); it satisfies
 *   detailed balance, so S = Q^{-1/2} L Q^{1/2} is symmetric. Spatial error
 *   O(h^2). Boundary kinds: periodic (faces wrap; V need not be periodic),
 *   Neumann (zero flux), Dirichlet (absorbing wall at the box edge, p = 0
 *   there: mass leaks). Diagonal metrics only.
 *
 * - Fourier (BERG_FP_FOURIER): a pseudo-spectral discretization for smooth
 *   problems on periodic boxes. With r = e^{-(V - min V)/2} and p = r psi
 *   the flow is d/dt psi = H psi, H = Delta_g - U, U = (Delta_g r)/r, with
 *   Delta_g the FFT Laplacian (any constant metric, coupled axes included)
 *   and U by finite differences of V where q < 1e-10 max q. Spatial error:
 *   spectral (exponentially small for smooth data). e^{-V}/Z is its exact
 *   discrete stationary state and mass is conserved exactly, but the
 *   generator is not an M-matrix: resolved data stay positive to the
 *   tolerance (the stepper sets what would go negative to zero), unresolved
 *   data are refused. It needs every axis periodic with >= 4 cells; V
 *   periodic, or confining so that e^{-V/2} is negligible at the box edges
 *   (creation refuses when the top third of the spectrum of e^{-V/2} holds
 *   more than 1e-5 of its l2 norm); and inputs p with p e^{V/2} resolved
 *   likewise (more than 1e-4 is refused by evolve, as is p > 0 where e^{-V}
 *   underflows): smooth data decaying at least like e^{-V/2}.
 *
 * Time stepping (berg_fp_evolve) is adaptive: a one-step method (finite
 * volume: linearly implicit Euler sweeps over the axes, one tridiagonal
 * solve per grid line, cyclic on periodic axes; Fourier: Strang steps
 * e^{-tau U/2} e^{tau Delta_g} e^{-tau U/2}) is extrapolated
 * (Aitken-Neville; finite volume to order 6 in tau, Fourier to order 8 in
 * tau^2) and the step size keeps the L1 error estimate of every step below
 * the tolerance (berg_fp_set_tolerance, default 1e-8 relative to the mass).
 *
 * V is used in log form (shifted by its minimum), so potentials whose
 * e^{-V} underflows everywhere work.
 *
 * Argument kinds: the arrays p of the flow are "states" (any finite values
 * >= 0, not normalized: the flow is linear); berg_fp_velocity and
 * berg_fp_scheme take p finite and > 0.
 *
 * Thread safety: a berg_fp and a berg_fp_spectral are immutable after
 * creation. Every function taking a const handle may be called on one
 * handle from many threads at once (each call takes its workspace from a
 * pool in the handle; serial use does not allocate). berg_fp_set_tolerance
 * is configuration: do not call it concurrently with other calls on that
 * handle. berg_fp_last_steps reports this thread's last evolve on the
 * handle.
 */
#ifndef BERG_FOKKER_PLANCK_H
#define BERG_FOKKER_PLANCK_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A Fokker-Planck flow on a grid (opaque, immutable after creation
 * except for its tolerance).
 * @since 1.0
 */
typedef struct berg_fp berg_fp;

/**
 * @brief Create the Fokker-Planck flow with potential V on a space.
 *
 * @param[out] out    the new flow; untouched on failure. Free with
 *                    berg_fp_destroy().
 * @param[in]  space  the grid, boundary kinds and metric (copied).
 *                    Finite volume: a diagonal metric. Fourier: every axis
 *                    periodic with at least 4 cells.
 * @param[in]  V      the potential, berg_space_size(space) finite values.
 * @param[in]  flags  0 (finite volume) or BERG_FP_FOURIER, optionally or-ed
 *                    with BERG_PLAN_ESTIMATE (FFTW_ESTIMATE planning of the
 *                    Fourier transforms; accepted and without effect for
 *                    the finite-volume discretization, which plans nothing).
 * @return BERG_OK;
 *         BERG_ERR_NULL (out, space or V is NULL);
 *         BERG_ERR_NONFINITE (V has NaN/Inf; the message names the index);
 *         BERG_ERR_DOMAIN (a flag of another function, the message naming
 *         it; the range of V overflows; a potential step so steep that a
 *         rate overflows; Fourier: e^{-V/2} not resolved);
 *         BERG_ERR_UNSUPPORTED (finite volume: the metric couples axes;
 *         Fourier: an axis that is not periodic);
 *         BERG_ERR_SIZE (Fourier: an axis with fewer than 4 cells);
 *         BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL (FFTW could not plan).
 * @since 1.0
 */
BERG_API berg_status berg_fp_create(berg_fp **out, const berg_space *space, const double *V,
                                    unsigned flags);

/**
 * @brief out = p_t = e^{tL} in, the solution at time t from p_0 = in.
 *
 * Finite volume: linearly implicit Euler sweeps extrapolated over the step
 * numbers 1, ..., 6 to order 6 (error estimate from the order-5 value;
 * stable on the whole negative real axis), with adaptive steps keeping the
 * L1 error estimate of every step below the tolerance relative to the
 * mass. Values the extrapolation would make negative (below the tolerance)
 * are set to zero and, on periodic / Neumann spaces, the mass is restored
 * exactly. Fourier: the Strang steps under the same tolerance; mass exact.
 * The spatial error is separate. Any finite t takes finitely many steps:
 * once the state is at equilibrium to the tolerance, the result is the
 * equilibrium. The finite-volume line solves are subtraction-free
 * eliminations valid for any step (also where tau |L| exceeds
 * 1/DBL_EPSILON, on boxes of very unequal sides or across huge potential
 * barriers). A run is limited to 20000 steps (smooth runs take tens to a
 * few hundred). The flow is linear: a state with values near DBL_MAX / n
 * or below 2^-500 is evolved at a power-of-two scale and scaled back.
 *
 * @param[in]  fp   the flow.
 * @param[in]  t    the time, finite and >= 0 (t = 0 copies in).
 * @param[in]  in   the initial "state": berg_space_size finite values
 *                  >= 0, not normalized (the flow is linear).
 * @param[out] out  the state at time t, berg_space_size values; may equal
 *                  in. Untouched on failure.
 * @return BERG_OK;
 *         BERG_ERR_NULL (fp, in or out is NULL);
 *         BERG_ERR_TIME (t negative or not finite);
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE (in; the message names the
 *         index);
 *         BERG_ERR_NO_CONVERGENCE (the step size collapsed, or the step
 *         budget ran out; the message says which and the time reached);
 *         BERG_ERR_DOMAIN (Fourier: p e^{V/2} not resolved, or p > 0 where
 *         e^{-V} underflows; the result has a value beyond DBL_MAX: a state
 *         near DBL_MAX gathering where e^{-V} is largest);
 *         BERG_ERR_NOMEM (a concurrent caller could not get a workspace,
 *         or a scaled copy of a state near the ends of the double range);
 *         BERG_ERR_CANCELLED (the progress callback of berg_fp_set_progress()
 *         stopped the call; out unchanged).
 * @since 1.0
 */
BERG_API berg_status berg_fp_evolve(const berg_fp *fp, double t, const double *in, double *out);

/**
 * @brief q = e^{-V}/Z on the grid, normalized with the cell weight.
 *
 * Computed as exp(-(V - min V)) / Z, so it never underflows everywhere.
 *
 * @param[in]  fp  the flow.
 * @param[out] q   the stationary "density", berg_space_size values
 *                 (normalized with the cell weight).
 * @return BERG_OK; BERG_ERR_NULL (fp or q is NULL).
 * @since 1.0
 */
BERG_API berg_status berg_fp_stationary(const berg_fp *fp, double *q);

/**
 * @brief Free a flow.
 * @param[in] fp  the flow; NULL is a no-op.
 * @since 1.0
 */
BERG_API void berg_fp_destroy(berg_fp *fp);

/**
 * @brief Set the tolerance of berg_fp_evolve (default 1e-8): the L1 error
 * estimate of every step relative to the mass.
 *
 * Configuration: do not call it concurrently with other calls on fp.
 *
 * @param[in,out] fp   the flow.
 * @param[in]     tol  the tolerance, in [1e-14, 1e-1].
 * @return BERG_OK; BERG_ERR_NULL (fp is NULL); BERG_ERR_DOMAIN (tol out of
 *         range).
 * @since 1.0
 */
BERG_API berg_status berg_fp_set_tolerance(berg_fp *fp, double tol);

/**
 * @brief The progress callback of berg_fp_evolve on this handle
 * (configuration).
 *
 * berg_fp_evolve then calls progress on the calling thread (see
 * ::berg_progress_fn): when the integration starts, after its time steps
 * at most about every 10 ms, and once when it reaches t, before writing
 * out. Its fraction is the time reached over t, its iteration the time
 * steps made (accepted and rejected), its error the last step's error
 * estimate relative to the tolerance's scale (NaN before the first step).
 * A call that returns at once (t = 0, zero mass) does not call it. When
 * progress returns non-zero, berg_fp_evolve returns BERG_ERR_CANCELLED and
 * leaves out unchanged. Do not call it concurrently with other calls on
 * fp; with several threads evolving at once, progress is called from each
 * of them.
 *
 * @param[in,out] fp         the flow.
 * @param[in]     progress   the callback, or NULL for none (the default).
 * @param[in]     user_data  passed to progress unchanged.
 * @return BERG_OK; BERG_ERR_NULL (fp is NULL).
 * @since 1.0
 */
BERG_API berg_status berg_fp_set_progress(berg_fp *fp, berg_progress_fn progress,
                                          void *user_data);

/**
 * @brief The threads of the finite-volume line solves (configuration).
 *
 * Each implicit sweep of the finite-volume scheme solves one independent
 * tridiagonal system per grid line; with more than one thread the lines
 * of a sweep are shared among the threads (each line is solved exactly as
 * on one thread, so the result is the same, bitwise). The Fourier
 * discretization's FFTs use FFTW's threads as set at creation
 * (berg_set_threads()). Not to be called concurrently with other calls on
 * the handle.
 *
 * @param[in,out] fp        the flow.
 * @param[in]     nthreads  0 (the default: follow berg_set_threads()) or 1
 *                          to 1024.
 * @return BERG_OK; BERG_ERR_NULL when fp is NULL; BERG_ERR_DOMAIN when
 *   nthreads is above 1024 (the setting is unchanged).
 * @since 1.1
 */
BERG_API berg_status berg_fp_set_threads(berg_fp *fp, size_t nthreads);

/**
 * @brief Steps accepted and rejected by this thread's last berg_fp_evolve
 * on this handle.
 *
 * A thread keeps the reports of its last few handles; 0 and 0 when this
 * thread has not evolved with fp (or its report was displaced), and for a
 * call that returned at t = 0 or zero mass.
 *
 * @param[in]  fp        the flow.
 * @param[out] accepted  accepted steps; may be NULL.
 * @param[out] rejected  rejected steps; may be NULL.
 * @return BERG_OK; BERG_ERR_NULL (fp is NULL).
 * @since 1.0
 */
BERG_API berg_status berg_fp_last_steps(const berg_fp *fp, size_t *accepted, size_t *rejected);

/**
 * @brief out = L p, the discrete Fokker-Planck operator (d p / dt).
 *
 * Fourier: L p = r H (p / r).
 *
 * @param[in]  fp   the flow.
 * @param[in]  p    a "state": berg_space_size finite values, not
 *                  normalized (Fourier: 0 where e^{-V} underflows).
 * @param[out] out  L p, berg_space_size values; may equal p.
 * @return BERG_OK; BERG_ERR_NULL (fp, p or out is NULL); BERG_ERR_NONFINITE
 *         (p); BERG_ERR_DOMAIN (Fourier: p nonzero where e^{-V} underflows;
 *         the result exceeds DBL_MAX: out untouched);
 *         BERG_ERR_NOMEM (a concurrent caller could not get a workspace, or
 *         a scaled copy of values near DBL_MAX or below 2^-500).
 * @since 1.0
 */
BERG_API berg_status berg_fp_generator_apply(const berg_fp *fp, const double *p, double *out);

/**
 * @brief out = A f = L^T f, the generator of the process acting on
 * observables.
 *
 * A f = lim (P_t f - f)/t with P_t f (x) = E[f(X_t) | X_0 = x]: the discrete
 * form of -g^{-1} grad V . grad f + Delta_g f, the exact transpose of
 * berg_fp_generator_apply (Fourier: 0 where e^{-V/2} underflows).
 *
 * @param[in]  fp   the flow.
 * @param[in]  f    an observable, a "state": berg_space_size finite
 *                  values.
 * @param[out] out  A f, berg_space_size values; may equal f.
 * @return BERG_OK; BERG_ERR_NULL (fp, f or out is NULL); BERG_ERR_NONFINITE
 *         (f); BERG_ERR_DOMAIN (the result exceeds DBL_MAX: out untouched);
 *         BERG_ERR_NOMEM (a concurrent caller could not get a workspace, or
 *         a scaled copy of values near DBL_MAX or below 2^-500).
 * @since 1.0
 */
BERG_API berg_status berg_fp_backward_apply(const berg_fp *fp, const double *f, double *out);

/**
 * @brief The Wegner-Morris velocity psi = -g^{-1} grad Sigma, Sigma = V +
 * ln p, so that d/dt p = -div(psi p).
 *
 * Derivatives are central differences (one-sided on the edges of
 * non-periodic axes). Tails of an evolved density can be exactly 0: floor
 * them (for example at DBL_MIN) where no particle is to be moved.
 *
 * @param[in]  fp   the flow.
 * @param[in]  p    a "state": berg_space_size finite values > 0, not
 *                  normalized (Sigma shifts by a constant).
 * @param[out] psi  d consecutive grid arrays (component a at psi + a *
 *                  berg_space_size), d the rank of the space.
 * @return BERG_OK; BERG_ERR_NULL (fp, p or psi is NULL); BERG_ERR_NONFINITE
 *         (p); BERG_ERR_DOMAIN (p has a value <= 0; the message names the
 *         first); BERG_ERR_NOMEM (a concurrent caller could not get a
 *         workspace).
 * @since 1.0
 */
BERG_API berg_status berg_fp_velocity(const berg_fp *fp, const double *p, double *psi);

/**
 * @brief The Wegner-Morris scheme Sigma = V + ln p minus its mean over the
 * grid (relative entropy density S_q - S_p up to a constant).
 *
 * @param[in]  fp     the flow.
 * @param[in]  p      a "state": berg_space_size finite values > 0, not
 *                    normalized (the mean is removed).
 * @param[out] sigma  berg_space_size values.
 * @return BERG_OK; BERG_ERR_NULL (fp, p or sigma is NULL);
 *         BERG_ERR_NONFINITE (p); BERG_ERR_DOMAIN (p has a value <= 0; the
 *         message names the first); BERG_ERR_NOMEM (a concurrent caller
 *         could not get a workspace).
 * @since 1.0
 */
BERG_API berg_status berg_fp_scheme(const berg_fp *fp, const double *p, double *sigma);

/**
 * @brief The potential and metric of a time-dependent flow at time t (the
 * callback of berg_fp_evolve_field).
 *
 * Fill V with V(t) at the n cell centres (C order, as every grid array);
 * g arrives holding the metric of the flow's space (row-major ndim x
 * ndim) and may be overwritten with g(t), the inverse diffusion tensor at
 * time t (a scalar diffusion coefficient D(t) is g = I / D(t)); leaving it
 * unchanged keeps the space's metric. The contents of V on entry are
 * unspecified. Return 0, or anything else to stop the evolution
 * (BERG_ERR_CALLBACK).
 *
 * @param[in]  t          the time.
 * @param[in]  n          the grid size (berg_space_size).
 * @param[in]  ndim       the rank of the space.
 * @param[out] V          n values: V(t), finite.
 * @param[in,out] g       ndim * ndim values: the metric g(t), symmetric
 *                        positive definite.
 * @param[in]  user_data  as passed to berg_fp_evolve_field().
 * @return 0 on success.
 * @since 1.1
 */
typedef int (*berg_fp_field_fn)(double t, size_t n, size_t ndim, double *V, double *g,
                                void *user_data);

/**
 * @brief out = p(t1) for the flow d/dt p = div(g(t)^{-1} (grad p + p grad
 * V(t))) with p(t0) = in: a time-dependent potential (and metric) given by
 * a callback.
 *
 * The handle supplies the grid, its boundary kinds and discretization, the
 * tolerance, the progress callback and the step report
 * (berg_fp_last_steps); its own potential is not used. The discretization
 * at time t is the handle's with V(t) and g(t) in place of V and g, and
 * every value of field is checked as berg_fp_create checks V and
 * berg_space_create checks a metric.
 *
 * Time stepping (docs/fokker_planck.md, "Time-dependent potentials"):
 * every substep of length h starting at s uses the generator frozen at its
 * midpoint, L(s + h/2) (the exponential midpoint rule, a symmetric
 * second-order method; Fourier: its Strang splitting, also symmetric;
 * finite volume: linearly implicit Euler sweeps with L(s + h/2), first
 * order), so that the stage values T_j = Phi_{tau/j}^j have the error
 * expansions in tau^2 (Fourier) and tau (finite volume) that the
 * extrapolation of berg_fp_evolve assumes, for V and g smooth in t.
 *
 * - step = 0: adaptive and extrapolated as berg_fp_evolve (Fourier to
 *   order 8, finite volume to order 6); the L1 error estimate of every
 *   step is kept below the tolerance relative to the mass.
 * - step > 0: equal steps of length at most step, no extrapolation beyond
 *   second order (Fourier: one Strang midpoint step of length h per step;
 *   finite volume: 2 Phi_{h/2}^2 - Phi_h): second order in h. Each step's
 *   error is still estimated (Fourier: 4/3 |Phi_{h/2}^2 - Phi_h|_1; finite
 *   volume: |Phi_{h/2}^2 - Phi_h|_1) and a step above the tolerance
 *   stops the call with BERG_ERR_NO_CONVERGENCE.
 *
 * There is no equilibrium stop (the equilibrium moves): a run is limited
 * to 20000 steps. Extreme states are scaled as in berg_fp_evolve. Fourier:
 * p e^{V(t)/2} must stay resolved (checked at every step, refused with
 * BERG_ERR_DOMAIN naming the time), and e^{-V(t)/2} is checked as at
 * creation for every V(t) used. Finite volume: g(t) must be diagonal.
 * The mass sum_i p_i is conserved on periodic and Neumann axes (the state
 * is a density in the box coordinates: with a time-dependent metric the
 * volume form sqrt(det g(t)) changes and p is not divided by it).
 *
 * Thread safety: fp is not modified (many threads may evolve with one
 * handle at once); each call allocates its workspace (a few grid arrays
 * more than berg_fp_evolve uses). field is called on the calling thread,
 * once at t0 and at the midpoint of every substep (10 calls per adaptive
 * Fourier step, 21 per finite-volume step, 3 per fixed step).
 *
 * @param[in]  fp         the flow (its grid, discretization, tolerance and
 *                        progress callback).
 * @param[in]  t0         the start time, finite.
 * @param[in]  t1         the end time, finite, >= t0 (t1 = t0 copies in).
 * @param[in]  step       0 (adaptive), or the longest fixed step, finite
 *                        and > 0, giving at most 20000 steps.
 * @param[in]  in         the state at t0: berg_space_size finite values
 *                        >= 0, not normalized.
 * @param[out] out        the state at t1; may equal in. Untouched on
 *                        failure.
 * @param[in]  field      fills V(t) and g(t) (::berg_fp_field_fn).
 * @param[in]  user_data  passed to field unchanged.
 * @return BERG_OK;
 *         BERG_ERR_NULL (fp, in, out or field is NULL);
 *         BERG_ERR_TIME (t0 or t1 not finite, or t1 < t0);
 *         BERG_ERR_DOMAIN (step negative, not finite or giving more than
 *         20000 steps; the range of V(t) overflows; finite volume: a rate
 *         overflows; Fourier: e^{-V(t)/2} or p e^{V(t)/2} not resolved, or
 *         p > 0 where e^{-V(t)} underflows; the result exceeds DBL_MAX);
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE (in);
 *         BERG_ERR_CALLBACK (field returned non-zero, or a non-finite value
 *         of V or g; the message names the time and index);
 *         BERG_ERR_NOT_SPD (g(t) not symmetric positive definite);
 *         BERG_ERR_UNSUPPORTED (g(t) couples a non-periodic axis;
 *         finite volume: g(t) not diagonal);
 *         BERG_ERR_NO_CONVERGENCE (the step size collapsed, the step budget
 *         ran out, or a fixed step's error estimate exceeds the tolerance;
 *         the message gives the time and error reached);
 *         BERG_ERR_CANCELLED (the progress callback stopped the call);
 *         BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_fp_evolve_field(const berg_fp *fp, double t0, double t1, double step,
                                          const double *in, double *out,
                                          berg_fp_field_fn field, void *user_data);

/**
 * @brief out = p(t1) for a time-dependent potential (and metric) given as
 * a table of times, interpolated linearly in t.
 *
 * As berg_fp_evolve_field() with V(t) and g(t) the piecewise-linear
 * interpolants of the knots (a convex combination of symmetric positive
 * definite metrics is one). The interpolant is smooth between knots and
 * only continuous at them, so the steps land on every knot inside
 * (t0, t1) (a step across a kink would lose the error expansions the
 * extrapolation relies on, and the fixed-step mode its second order):
 * the result is the flow of the interpolated coefficients to the
 * tolerance. As an approximation of smooth coefficients sampled at the
 * knots the interpolation itself is second order in the knot spacing
 * (|V - V_lin| <= dt^2 max|d^2V/dt^2| / 8).
 *
 * @param[in]  fp      the flow (its grid, discretization, tolerance and
 *                     progress callback; its own potential is not used).
 * @param[in]  t0      the start time, finite, >= times[0].
 * @param[in]  t1      the end time, finite, t0 <= t1 <= times[ntimes - 1].
 * @param[in]  step    0 (adaptive) or the longest fixed step, as in
 *                     berg_fp_evolve_field().
 * @param[in]  ntimes  the number of knots, >= 2.
 * @param[in]  times   ntimes finite, strictly increasing times.
 * @param[in]  V       ntimes * berg_space_size finite values: V at knot k
 *                     is V + k * berg_space_size.
 * @param[in]  g       ntimes * ndim * ndim values, the metric at each knot
 *                     (each symmetric positive definite; finite volume:
 *                     diagonal); may be NULL for the space's metric at all
 *                     times.
 * @param[in]  in      the state at t0: berg_space_size finite values >= 0.
 * @param[out] out     the state at t1; may equal in. Untouched on failure.
 * @return as berg_fp_evolve_field() (the knots are checked before the
 *         evolution: BERG_ERR_NONFINITE naming the index of V or g,
 *         BERG_ERR_NOT_SPD and BERG_ERR_UNSUPPORTED naming the knot,
 *         BERG_ERR_DOMAIN for times not strictly increasing or [t0, t1]
 *         not inside [times[0], times[ntimes - 1]]), and BERG_ERR_SIZE
 *         (ntimes < 2, or the table's size overflows).
 * @since 1.1
 */
BERG_API berg_status berg_fp_evolve_table(const berg_fp *fp, double t0, double t1, double step,
                                          size_t ntimes, const double *times, const double *V,
                                          const double *g, const double *in, double *out);

/**
 * @brief The exact spectral propagator of a berg_fp (opaque, immutable):
 * e^{tL} = Q^{1/2} U e^{t Lambda} U^T Q^{-1/2} at any t in two
 * matrix-vector products.
 *
 * The eigen-decomposition (LAPACKE dsyevd) is of the symmetrized generator
 * S = Q^{-1/2} L Q^{1/2}. Memory N^2 doubles, creation O(N^3): meant for N
 * up to a few thousand. Conditioning: the rounding error of evolve is about
 * eps * max_i |in_i| e^{(V_i - min V)/2} (relative to the output's scale):
 * exact for data decaying like e^{-V/2}, useless for a flat start on a
 * potential with a range of 60 or more (use berg_fp_evolve there).
 * @since 1.0
 */
typedef struct berg_fp_spectral berg_fp_spectral;

/**
 * @brief Decompose the generator of a flow.
 *
 * @param[out] out  the propagator; untouched on failure. Free with
 *                  berg_fp_spectral_destroy().
 * @param[in]  fp   the flow (not referenced after the call).
 * @return BERG_OK; BERG_ERR_NULL (out or fp is NULL); BERG_ERR_DOMAIN (max V
 *         - min V > 1400: Q^{+-1/2} is not representable); BERG_ERR_SIZE (N^2
 *         doubles overflow, or N too large for LAPACK); BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL (LAPACK failed).
 * @since 1.0
 */
BERG_API berg_status berg_fp_spectral_create(berg_fp_spectral **out, const berg_fp *fp);

/**
 * @brief Decompose the generator of a flow, reporting progress.
 *
 * As berg_fp_spectral_create(). The decomposition is one LAPACK call that
 * cannot be interrupted, so progress (see ::berg_progress_fn) is called
 * twice, on the calling thread: before the work (fraction 0, iteration 0)
 * and after the decomposition (fraction 1, iteration 1), both with error
 * NaN. When it returns non-zero the creation stops with BERG_ERR_CANCELLED,
 * frees what it made and leaves *out untouched.
 *
 * @param[out] out        the propagator; untouched on failure.
 * @param[in]  fp         the flow (not referenced after the call; its own
 *                        progress callback is not used).
 * @param[in]  progress   the callback, or NULL for none.
 * @param[in]  user_data  passed to progress unchanged.
 * @return as berg_fp_spectral_create(), and BERG_ERR_CANCELLED when progress
 *         stopped the creation.
 * @since 1.0
 */
BERG_API berg_status berg_fp_spectral_create_progress(berg_fp_spectral **out, const berg_fp *fp,
                                                      berg_progress_fn progress,
                                                      void *user_data);

/**
 * @brief out = e^{tL} in.
 *
 * The computed eigenvalues carry an absolute error of about
 * 8 N DBL_EPSILON |lambda_min|; a mode whose e^{t lambda} matters at this t
 * and is known to worse than 1e-8 relative (slow modes of metastable or
 * absorbing flows at long times; the exact 0 of a mass-conserving flow is
 * exempt) makes the call refuse rather than return it.
 * @param[in]  sp   the propagator.
 * @param[in]  t    the time, finite and >= 0.
 * @param[in]  in   a "state": N finite values, not normalized.
 * @param[out] out  e^{tL} in, N values; may equal in. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL (sp, in or out is NULL); BERG_ERR_TIME (t
 *         negative or not finite); BERG_ERR_NONFINITE (in); BERG_ERR_DOMAIN
 *         (a mode is not resolved at this t, use berg_fp_evolve(); or the
 *         result exceeds DBL_MAX; values near DBL_MAX or below 2^-500 are
 *         propagated at a power-of-two scale);
 *         BERG_ERR_NOMEM (a concurrent caller could not get a workspace).
 * @since 1.0
 */
BERG_API berg_status berg_fp_spectral_evolve(const berg_fp_spectral *sp, double t,
                                             const double *in, double *out);

/**
 * @brief The N eigenvalues of L in decreasing order.
 *
 * 0 = lambda_0 >= lambda_1 >= ... (lambda_0 < 0 with Dirichlet axes).
 * gap = -lambda_1 is the spectral gap: ||p_t/q - 1|| decays like
 * e^{-gap t}, KL(p_t||q) like e^{-2 gap t}.
 *
 * @param[in]  sp      the propagator.
 * @param[out] lambda  N values.
 * @return BERG_OK; BERG_ERR_NULL (sp or lambda is NULL).
 * @since 1.0
 */
BERG_API berg_status berg_fp_spectral_eigenvalues(const berg_fp_spectral *sp, double *lambda);

/**
 * @brief Right eigenvector k of L (L mode = lambda_k mode).
 *
 * mode = Q^{1/2} u_k with u_k a unit eigenvector of S, the sign fixed by a
 * positive largest entry. Mode 0 is proportional to q on periodic /
 * Neumann spaces.
 *
 * @param[in]  sp    the propagator.
 * @param[in]  k     the index, 0 .. N-1 (in the order of
 *                   berg_fp_spectral_eigenvalues).
 * @param[out] mode  N values.
 * @return BERG_OK; BERG_ERR_NULL (sp or mode is NULL); BERG_ERR_DOMAIN
 *         (k >= N).
 * @since 1.0
 */
BERG_API berg_status berg_fp_spectral_mode(const berg_fp_spectral *sp, size_t k, double *mode);

/**
 * @brief Free a spectral propagator.
 * @param[in] sp  the propagator; NULL is a no-op.
 * @since 1.0
 */
BERG_API void berg_fp_spectral_destroy(berg_fp_spectral *sp);

#ifdef __cplusplus
}
#endif

#endif /* BERG_FOKKER_PLANCK_H */
