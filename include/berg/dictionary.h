/*
 * berg/dictionary.h - the ERG <-> Bayes dictionary of table p.33 and the backward drift-diffusion (seed eq 51-58).
 */
#ifndef BERG_DICTIONARY_H
#define BERG_DICTIONARY_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"
#include "berg/bayes.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions (docs/conventions.md): tau = 1/T; Bayesian diffusion of the
 * normal model is the heat semigroup at t = sigma^2 tau / 2; the backward
 * drift-diffusion of the posterior predictive is
 *   d_tau p = -m.grad p + 1/2 K^{ij} d_i d_j p,  K = J I^{-1} J^T, m = J dgamma/dtau,
 * and the dictionary maps V = -Phi(gamma_tau; y), Sigma = Phi(u; y) - Phi(gamma_tau; y)
 * with Phi(u; y) = ln p0(y - G(u)).
 */

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
