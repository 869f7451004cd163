/*
 * berg/dictionary.h - dynamical Bayesian inference and the ERG <-> Bayes
 * dictionary (seed eq 6-8, 38-59, table p.33, p.36-37; docs/dictionary.md).
 *
 * Conventions (docs/conventions.md): tau = 1/T; Bayesian diffusion of the
 * normal model is the heat semigroup at t = sigma^2 tau / 2; the backward
 * drift-diffusion of the posterior predictive is
 *   d_tau p = -m.grad p + 1/2 K^{ij} d_i d_j p,  K = J I^{-1} J^T, m = J dgamma/dtau,
 * and the dictionary maps V = -Phi(gamma_tau; y), Sigma = Phi(u; y) - Phi(gamma_tau; y)
 * with Phi(u; y) = ln p0(y - G(u)).
 */
#ifndef BERG_DICTIONARY_H
#define BERG_DICTIONARY_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== dynamical Bayes: berg_bayes ======================================== */

/*
 * A berg_bayes holds a prior pi_0 on a parameter space U (a berg_space of
 * rank du), a model p(y | u) for data y in a data space Y (a berg_space of
 * rank dy: its box is where data may lie and where predictives and
 * divergences are tabulated), and the posterior pi_T (eq 6) after the data
 * observed so far, kept in the log domain: ln pi_T = ln pi_0 + sum_k ln p(y_k | u)
 * per grid cell, accumulated with Neumaier compensation and shifted by its
 * maximum, so that millions of observations neither underflow nor lose the
 * differences between cells. A berg_bayes is mutable: one thread at a time.
 *
 * Callbacks follow SUNDIALS: user_data last, return 0 on success, anything
 * else is a failure (BERG_ERR_CALLBACK, and the state is unchanged).
 */
typedef struct berg_bayes berg_bayes;

/* Forward model of the location family Y = G(U) + N: y = G(u) (dy values). */
typedef int (*berg_bayes_forward_fn)(size_t du, const double *u, size_t dy, double *y,
                                     void *user_data);

/* Noise log-density: *logp = ln p0(n) at one point n (dy values); -inf is
 * allowed (p0 = 0), NaN and +inf are not. */
typedef int (*berg_noise_logpdf_fn)(size_t dy, const double *n, double *logp, void *user_data);

/* General model: *logp = ln p(y | u) at one data point y; -inf allowed. */
typedef int (*berg_point_loglik_fn)(size_t du, const double *u, size_t dy, const double *y,
                                    double *logp, void *user_data);

/*
 * Create a Bayesian state with prior `prior` (a density on `param`: finite,
 * >= 0, positive mass; it is normalised internally and may vanish on part
 * of the grid) and data space `data` (both spaces are copied). The model is
 * set afterwards by berg_bayes_set_location or berg_bayes_set_loglik.
 * flags must be 0. Errors: BERG_ERR_NULL, BERG_ERR_NONFINITE,
 * BERG_ERR_NEGATIVE, BERG_ERR_MASS, BERG_ERR_DOMAIN (flags), BERG_ERR_NOMEM.
 */
BERG_API berg_status berg_bayes_create(berg_bayes **out, const berg_space *param,
                                       const double *prior, const berg_space *data,
                                       unsigned flags);

/* Free. NULL is a no-op. */
BERG_API void berg_bayes_destroy(berg_bayes *b);

/*
 * Location model Y = G(U) + N (eq 38-41). The noise is given either as a
 * density on a grid (noise_space of rank dy, noise a density on it, evaluated
 * off the grid by multilinear interpolation and 0 outside its box) or as a
 * log-density callback logp0: exactly one of (noise_space, noise) and logp0.
 * G is evaluated once per parameter cell here (BERG_ERR_CALLBACK if it fails
 * or returns a non-finite value). Setting a model resets the posterior to the
 * prior and forgets any truth set by berg_bayes_set_truth.
 */
BERG_API berg_status berg_bayes_set_location(berg_bayes *b, berg_bayes_forward_fn G,
                                             const berg_space *noise_space, const double *noise,
                                             berg_noise_logpdf_fn logp0, void *user_data);

/* General model (b): ln p(y | u) from a callback. Resets as above. */
BERG_API berg_status berg_bayes_set_loglik(berg_bayes *b, berg_point_loglik_fn loglik,
                                           void *user_data);

/* Back to the prior (T = 0). */
BERG_API berg_status berg_bayes_reset(berg_bayes *b);

/*
 * Observe `count` data points y (count x dy, row-major): ln pi += sum_k ln p(y_k | u).
 * All-or-nothing: data outside the data space's box (BERG_ERR_OUT_OF_RANGE,
 * naming the observation), a callback failing or returning NaN / +inf
 * (BERG_ERR_CALLBACK), or data impossible under every parameter of positive
 * posterior mass (BERG_ERR_MASS) leave the state exactly as it was.
 */
BERG_API berg_status berg_bayes_observe(berg_bayes *b, size_t count, const double *y);

/*
 * The truth of the expected-data flow (eq 7, 42): a density pstar on the data
 * space. Tabulates D(u) = KL(p* || p(.|u)) for every parameter cell by
 * quadrature on the data grid, p(.|u) being normalised on that grid (so D >= 0
 * exactly on the grid; D = +inf where p(.|u) vanishes on the support of p*).
 * Errors: as berg_bayes_create for pstar, BERG_ERR_CALLBACK, BERG_ERR_MASS
 * (p(.|u) has no mass on the data grid for some u, or D = +inf everywhere
 * the prior lives), BERG_ERR_DOMAIN (no model set).
 */
BERG_API berg_status berg_bayes_set_truth(berg_bayes *b, const double *pstar);

/* D(u) on the parameter grid (needs a truth). */
BERG_API berg_status berg_bayes_divergence(const berg_bayes *b, double *D);

/*
 * Set the state to the expected-data posterior pi_T = pi_0 e^{-T D} / Z
 * (eq 7): the solution of the replicator equation
 * d/dT ln pi_T = -(D - <D>_{pi_T}). T >= 0 finite (BERG_ERR_TIME); needs a
 * truth (BERG_ERR_DOMAIN).
 */
BERG_API berg_status berg_bayes_expected(berg_bayes *b, double T);

/* The number of observations T (or the T of berg_bayes_expected). */
BERG_API berg_status berg_bayes_count(const berg_bayes *b, double *T);

/* The normalised posterior density pi_T on the parameter grid. */
BERG_API berg_status berg_bayes_posterior(const berg_bayes *b, double *pi);

/* ln pi_T (normalised; -inf where pi_T = 0). */
BERG_API berg_status berg_bayes_log_posterior(const berg_bayes *b, double *logpi);

/*
 * MAP estimate (du values): the grid maximum of ln pi_T refined per axis by
 * the vertex of the parabola through it and its two neighbours; for du > 1,
 * by one Newton step of the quadratic through the 3^du stencil (mixed
 * derivatives included, LAPACKE_dposv) when that is negative definite and
 * moves less than a cell: exact for Gaussian posteriors with correlations.
 * BERG_ERR_OUT_OF_RANGE when the maximum lies in an edge cell of a
 * non-periodic axis (the MAP has left the grid, or is about to).
 */
BERG_API berg_status berg_bayes_map(const berg_bayes *b, double *u);

/* Posterior mean (du values) and, if cov is not NULL, covariance (du x du). */
BERG_API berg_status berg_bayes_mean(const berg_bayes *b, double *mean, double *cov);

/*
 * MAP and posterior-mean trajectories of the expected-data flow at the nT
 * observation times T[j] (>= 0): map and mean receive nT x du values (either
 * may be NULL). The state is not changed. Errors as berg_bayes_expected and
 * berg_bayes_map (the message names j).
 */
BERG_API berg_status berg_bayes_trajectory(const berg_bayes *b, size_t nT, const double *T,
                                           double *map, double *mean);

/*
 * Posterior predictive p_T(y) = integral pi_T(u) p(y | u) du (eq 8, 51) on
 * the data grid, by quadrature over the parameter grid (a matrix-vector
 * product, dgemv, in blocks of data cells). Not renormalised: its mass on the
 * data grid is the fraction of the predictive the grid holds.
 */
BERG_API berg_status berg_bayes_predictive(const berg_bayes *b, double *p);

/*
 * The same predictive by FFT convolution when G is affine (location model,
 * du = dy = 1, G(u) = a u + c with a != 0, detected from G on the parameter
 * grid to 1e-10 relative; BERG_ERR_DOMAIN otherwise): the posterior is pushed
 * forward to the data grid, pi~(v) = pi((v - c)/a) / |a| by linear
 * interpolation, and convolved with the noise density sampled at the data
 * grid's offsets (FFTW r2c/c2r, zero-padded to 2 n: a linear convolution).
 * O(n log n) instead of O(n_u n_y) callback calls (2 n_y - 1 calls of the
 * noise). The interpolation costs O(h^2); when the data grid is the image of
 * the parameter grid (a h_u = h_y and centres aligned) it is exact and the
 * result equals berg_bayes_predictive to round-off (test_bayes).
 */
BERG_API berg_status berg_bayes_predictive_fft(const berg_bayes *b, double *p);

/* ==== the dictionary: berg_dictionary ==================================== */

/*
 * The ERG data of table p.33 computed from the expected-data flow of a
 * location-model berg_bayes (truth set) at inverse time tau:
 *   gamma_tau  MAP of pi_{1/tau}                       (du)
 *   I          Fisher metric of the model at gamma_tau, per observation (du x du)
 *              (berg_fisher_model on the data grid)
 *   J          dG/du at gamma_tau (berg_fisher_jacobian)  (dy x du)
 *   K          J I^{-1} J^T, the data-space inverse metric (berg_fisher_pullback)
 *   m          J dgamma/dtau (central difference of gamma in tau, step 0.05 tau)
 *   V(y)       -Phi(gamma_tau; y) = -ln p0(y - G(gamma_tau)) on the data grid
 *   Sigma_u(y) Phi(u; y) - Phi(gamma_tau; y) for a given u
 * A berg_dictionary is immutable after creation; every getter may be called
 * from several threads at once. It copies every grid quantity, but keeps a
 * reference to b for berg_dictionary_scheme (which evaluates b's model
 * callbacks at any u): b must outlive the dictionary, and when b's model or
 * truth has changed since creation, berg_dictionary_scheme returns
 * BERG_ERR_MISMATCH rather than mixing two models.
 */
typedef struct berg_dictionary berg_dictionary;

/*
 * Build the dictionary at tau > 0 (finite; BERG_ERR_TIME otherwise) from b,
 * which must hold a location model and a truth (BERG_ERR_DOMAIN). b's state
 * is not changed. BERG_ERR_OUT_OF_RANGE when gamma leaves the grid,
 * BERG_ERR_NOT_SPD when I is singular.
 */
BERG_API berg_status berg_dictionary_create(berg_dictionary **out, const berg_bayes *b,
                                            double tau);
BERG_API void berg_dictionary_destroy(berg_dictionary *d);

/* tau the dictionary was built at. */
BERG_API double berg_dictionary_tau(const berg_dictionary *d);
/* gamma_tau (du values). */
BERG_API berg_status berg_dictionary_map(const berg_dictionary *d, double *gamma);
/* K^{ij} (dy x dy): the ERG inverse metric g^{ij} in data space. */
BERG_API berg_status berg_dictionary_inverse_metric(const berg_dictionary *d, double *K);
/* I^{ij} = (I^{-1})^{ij} (du x du): the inverse metric in parameter space. */
BERG_API berg_status berg_dictionary_parameter_inverse_metric(const berg_dictionary *d,
                                                              double *Iinv);
/* I_{ij} (du x du). */
BERG_API berg_status berg_dictionary_fisher(const berg_dictionary *d, double *Imat);
/* J (dy x du). */
BERG_API berg_status berg_dictionary_jacobian(const berg_dictionary *d, double *J);
/* m = J dgamma/dtau (dy values). */
BERG_API berg_status berg_dictionary_drift(const berg_dictionary *d, double *m);
/* V(y) = -ln p0(y - G(gamma_tau)) on the data grid (+inf where p0 = 0). */
BERG_API berg_status berg_dictionary_potential(const berg_dictionary *d, double *V);
/* Sigma(y) = Phi(u; y) - Phi(gamma_tau; y) on the data grid for the parameter
 * point u (du values; G is called at u). Where both p0 vanish Sigma is set
 * to 0; where only one does it is -inf or +inf. */
BERG_API berg_status berg_dictionary_scheme(const berg_dictionary *d, const double *u,
                                            double *sigma);
/* The heat time of the ERG side for the scalar case: t = K tau / 2 (dy = 1;
 * BERG_ERR_UNSUPPORTED otherwise). For the normal model t = sigma^2 tau / 2. */
BERG_API berg_status berg_dictionary_heat_time(const berg_dictionary *d, double *t);

/*
 * Run the backward drift-diffusion (eq 57) on the data grid from tau1 to
 * tau2 >= tau1 >= 0 for the expected-data flow of b: K and m are evaluated
 * at gamma_tau, so they are constant in y, and the flow is the translation
 * by G(gamma_tau2) - G(gamma_tau1) followed by the heat semigroup with the
 * accumulated covariance A = 1/2 integral K dtau (trapezoidal rule on
 * `nsteps` >= 1 sub-intervals; exact when K is constant, as for every
 * location model with dy = du). The translation is spectral (FFTW, the data
 * grid taken as periodic) and the heat step is berg_heat on the data space
 * with metric A^{-1} at t = 1 (exact spectral symbol), so for the normal and
 * linear-Gaussian models the result equals the directly computed predictive
 * to round-off (test_dictionary). p1, p2: data-grid arrays (p1 == p2 allowed).
 * Errors: BERG_ERR_TIME, BERG_ERR_SIZE (nsteps 0), BERG_ERR_DOMAIN (no
 * location model or truth), BERG_ERR_UNSUPPORTED (A couples non-periodic
 * data axes), and those of berg_dictionary_create.
 */
BERG_API berg_status berg_dictionary_flow(const berg_bayes *b, double tau1, double tau2,
                                          size_t nsteps, const double *p1, double *p2);

/*
 * Discrepancy between the two directions: *l1 = integral |p_direct - p_flow| dy
 * and *kl = KL(p_direct || p_flow) on the data grid, where p_direct is the
 * posterior predictive of the expected flow at tau (berg_bayes_predictive)
 * and p_flow is berg_dictionary_flow from tau = 0 (the likelihood at the MAP
 * gamma_0, p0(y - G(gamma_0))) to tau; both are normalised on the data grid
 * first (p_flow floored at 1e-300: the spectral heat step leaves round-off
 * at or below zero in far tails). Either output may be NULL.
 * What to expect (measured in tests/dictionary/test_dictionary.c): round-off
 * for the normal and linear-Gaussian models with a flat prior; O(tau^2) for
 * affine G with smooth symmetric noise or a Gaussian prior; O(tau^{3/2}) for
 * Laplace noise; O(tau) for curved G (the posterior mean of G(U) leaves
 * G(gamma_tau) at first order, which the drift m = J dgamma/dtau misses).
 */
BERG_API berg_status berg_dictionary_discrepancy(const berg_bayes *b, double tau, size_t nsteps,
                                                 double *l1, double *kl);

/*
 * The other direction (ERG -> Bayes): an ERG scheme given by a fixed-point
 * potential V on a data space of rank d (q = e^{-V}/Z) is reproduced by the
 * location model G(u) = u (du = dy = d) with noise p0 = q and a flat prior:
 * its backward flow has V = -Phi(gamma; y) + const and inverse metric
 * K_model = I_N^{-1} (I_N the Fisher metric of p0, berg_fisher_location).
 * The ERG inverse metric g^{-1} of the scheme is matched by the time map
 * t = tau / 2 along K_model (heat with covariance tau K_model). Writes p0
 * (normalised grid array) and K_model (d x d). Errors: BERG_ERR_NULL,
 * BERG_ERR_NONFINITE (V), BERG_ERR_NOT_SPD (I_N singular), BERG_ERR_NOMEM.
 */
BERG_API berg_status berg_dictionary_from_erg(const berg_space *data, const double *V,
                                              double *p0, double *Kmodel);

/* ==== Petz recovery (p.36-37, eq 59) ===================================== */

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

/* ==== information along a flow (discussion p.39) ========================= */

/* Columns of berg_flow_information, per time. */
#define BERG_FLOW_INFO_KL 0        /* KL(p_t || q) to the fixed point */
#define BERG_FLOW_INFO_ENTROPY 1   /* S[p_t] */
#define BERG_FLOW_INFO_FISHER 2    /* Fisher information integral p |grad ln p|^2_g */
#define BERG_FLOW_INFO_MUTUAL 3    /* I(X_0; X_t): information about X_0 ~ p0 retained */
#define BERG_FLOW_INFO_KAPPA1 4    /* cumulants kappa_1..kappa_4 of axis 0 */
#define BERG_FLOW_INFO_KAPPA2 5
#define BERG_FLOW_INFO_KAPPA3 6
#define BERG_FLOW_INFO_KAPPA4 7
#define BERG_FLOW_INFO_COUNT 8

/*
 * Information along the heat flow (V == NULL; fixed point the uniform
 * density; periodic / Neumann axes) or the Fokker-Planck flow with potential
 * V (fixed point q = e^{-V}/Z) started from the density p0, at the nt times
 * t[j] >= 0: out[j * BERG_FLOW_INFO_COUNT + c] for the columns above
 * (berg_kl_divergence, berg_entropy, berg_fisher_information,
 * berg_cumulants). The mutual information is that of the discrete channel:
 * heat by berg_heat_mutual_information; Fokker-Planck by the exact spectral
 * propagator (berg_fp_spectral, one column per cell: O(N^3), so
 * BERG_ERR_SIZE beyond 2048 cells). p_t is propagated spectrally (exact in
 * time) and values below 1e-300 (round-off in far tails) are raised to
 * 1e-300 before the functionals. Diagonal metric.
 */
BERG_API berg_status berg_flow_information(const berg_space *space, const double *V,
                                           const double *p0, size_t nt, const double *t,
                                           double *out);

/* ==== diffusion learning (p.38) ========================================== */

/*
 * Score-based diffusion on a 1-D grid (rank 1, identity metric; otherwise
 * BERG_ERR_UNSUPPORTED): forward Ornstein-Uhlenbeck noising
 * dX = -X dt + sqrt(2) dW, i.e. the Fokker-Planck flow with V = x^2/2 and
 * fixed point N(0, 1) (berg_fp_evolve), of p0 up to time T; the exact grid
 * score d/dx ln p_t (central differences of ln p_t); and the reverse-time flow
 *   dY = (Y + 2 d/dy ln p_{T-s}(Y)) ds + sqrt(2) dW,  s in [0, T],
 * on nsteps equal steps with the score frozen at each step's midpoint time:
 *   PDE: each step is a berg_fp flow with the potential
 *        V_s = -y^2/2 - 2 ln p_{T-s} (p floored at 1e-250 of its maximum);
 *   particles (nparticles > 0): Euler-Maruyama with the score interpolated
 *        linearly between cell centres, histogrammed at the end.
 * Both start from p_T itself (for the PDE) and from samples of p_T (for the
 * particles), so what is measured is the error of the reverse flow; a
 * trained model would start from N(0, 1) instead, which costs
 * KL(p_T || N(0, 1)), reported in *kl_forward. Outputs (each may be NULL
 * except kl): recovered (grid array) and *kl = KL(p0 || recovered);
 * recovered_particles (histogram density) and *kl_particles =
 * KL(histogram || p0) (this direction: a finite sample leaves empty cells)
 * when nparticles > 0. Errors: BERG_ERR_NULL, BERG_ERR_TIME (T not finite or
 * <= 0), BERG_ERR_SIZE (nsteps 0), the density errors of p0,
 * BERG_ERR_UNSUPPORTED, and those of berg_fp (a score too steep for the grid
 * is BERG_ERR_DOMAIN).
 */
BERG_API berg_status berg_diffusion_learning(const berg_space *space, const double *p0, double T,
                                             size_t nsteps, size_t nparticles,
                                             unsigned long long seed, double *recovered,
                                             double *kl, double *recovered_particles,
                                             double *kl_particles, double *kl_forward);

#ifdef __cplusplus
}
#endif

#endif /* BERG_DICTIONARY_H */
