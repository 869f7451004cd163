/**
 * @file berg/dictionary.h
 * @brief The ERG <-> Bayes dictionary of table p.33 (seed eq 51-58).
 *
 * Conventions (docs/conventions.md): tau = 1/T; Bayesian diffusion of the
 * normal model is the heat semigroup at t = sigma^2 tau / 2; the backward
 * drift-diffusion of the posterior predictive (berg_bayes_backward_flow) is
 *   d_tau p = -m.grad p + 1/2 K^{ij} d_i d_j p,  K = J I^{-1} J^T, m = J dgamma/dtau,
 * and the dictionary maps V = -Phi(gamma_tau; y), Sigma = Phi(u; y) - Phi(gamma_tau; y)
 * with Phi(u; y) = ln p0(y - G(u)).
 *
 * A berg_dictionary holds the ERG data computed from the expected-data flow
 * of a location-model berg_bayes (truth set) at inverse time tau:
 *   gamma_tau  MAP of F(u) = ln pi_0(u) - D(G(u))/tau on the continuous
 *              parameter space (D = KL(p* || p(.|u)) on the data grid)   (du)
 *   I          Fisher metric of the model at gamma_tau, per observation,
 *              by quadrature on the data grid                    (du x du)
 *   J          dG/du at gamma_tau                                (dy x du)
 *   K          J I^{-1} J^T, the data-space inverse metric        (dy x dy)
 *   m          J dgamma/dtau, dgamma/dtau = -H^{-1} d/dtau grad F
 *              (the implicit-function theorem, seed eq 50)          (dy)
 *   V(y)       -Phi(gamma_tau; y) = -ln p0(y - G(gamma_tau)) on the data grid
 *   Sigma_u(y) Phi(u; y) - Phi(gamma_tau; y) for a given u
 *
 * gamma_tau is found by Newton iterations from the MAP of the grid
 * posterior and is converged to a relative step of 1e-10 or refused.
 * The model's callbacks are called at off-grid points: G at u, the noise
 * at y_j - G(u). Derivatives: of D in g by fourth-order central
 * differences whose step is the data grid's spacing (so that the grid
 * quadrature's ripple, of period one cell, is averaged out even for a
 * noise or truth with a kink); of G by the rule of berg_fisher_jacobian;
 * ln pi_0 between the parameter cells is the tensor-product Catmull-Rom
 * cubic through the 4^du nearest cells (exact for Gaussian and flat
 * priors). On smooth models m is accurate to about 1e-10 relative; where
 * the truth or the noise has a kink, G(gamma_tau) must stay two data cells
 * from it for the difference stencil to see a smooth D.
 *
 * Thread safety: a berg_dictionary is immutable after creation; every
 * getter may be called from several threads at once. It copies every grid
 * quantity, but keeps a reference to its berg_bayes for
 * berg_dictionary_scheme (which evaluates the model's callbacks at any u):
 * the berg_bayes must outlive the dictionary, and when its model or truth
 * has changed since creation, berg_dictionary_scheme returns
 * BERG_ERR_MISMATCH rather than mixing two models.
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

/**
 * @brief The ERG data of table p.33 at one tau, from a berg_bayes.
 * @since 1.0
 */
typedef struct berg_dictionary berg_dictionary;

/**
 * @brief Build the dictionary at tau from b's expected-data flow.
 *
 * b's state is not changed. The forward model's outputs are checked for
 * finiteness as in berg_bayes. *out is untouched on failure.
 * @param[out] out the new dictionary
 * @param[in]  b   a state with a location model and a truth; must outlive the dictionary
 * @param[in]  tau the inverse amount of data, finite and > 0
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_TIME (tau not finite or <= 0);
 *         BERG_ERR_DOMAIN (no location model or no truth; the prior
 *         vanishes or KL(p*||p(.|u)) is infinite within two cells of the MAP);
 *         BERG_ERR_OUT_OF_RANGE (gamma within two cells of the edge of a
 *         non-periodic parameter axis); BERG_ERR_NO_CONVERGENCE (the Newton
 *         iterations for gamma_tau do not reach the relative step 1e-10 in
 *         100 steps, or the Hessian of F is not negative definite: the
 *         message gives the step reached); BERG_ERR_NOT_SPD
 *         (I singular); BERG_ERR_NONFINITE (the drift overflows);
 *         BERG_ERR_CALLBACK (G or the noise fails or returns
 *         a non-finite value); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_create(berg_dictionary **out, const berg_bayes *b,
                                            double tau);

/**
 * @brief Free a dictionary.
 * @param[in] d the dictionary; NULL is a no-op
 * @since 1.0
 */
BERG_API void berg_dictionary_destroy(berg_dictionary *d);

/**
 * @brief The tau the dictionary was built at.
 * @param[in] d the dictionary
 * @return tau, or NaN when d is NULL.
 * @since 1.0
 */
BERG_API double berg_dictionary_tau(const berg_dictionary *d);

/**
 * @brief The MAP gamma_tau of the continuous objective ln pi_0 - D(G(u))/tau.
 * @param[in]  d     the dictionary
 * @param[out] gamma du values
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_map(const berg_dictionary *d, double *gamma);

/**
 * @brief K^{ij} = (J I^{-1} J^T)^{ij}: the ERG inverse metric g^{ij} in data space.
 * @param[in]  d the dictionary
 * @param[out] K dy x dy values, row-major
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_inverse_metric(const berg_dictionary *d, double *K);

/**
 * @brief (I^{-1})^{ij}: the inverse metric in parameter space.
 * @param[in]  d    the dictionary
 * @param[out] Iinv du x du values, row-major
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_parameter_inverse_metric(const berg_dictionary *d,
                                                              double *Iinv);

/**
 * @brief I_{ij}: the Fisher metric of the model at gamma_tau, per observation.
 * @param[in]  d    the dictionary
 * @param[out] Imat du x du values, row-major
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_fisher(const berg_dictionary *d, double *Imat);

/**
 * @brief J = dG/du at gamma_tau.
 * @param[in]  d the dictionary
 * @param[out] J dy x du values, row-major: J[i du + k] = dG_i/du_k
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_jacobian(const berg_dictionary *d, double *J);

/**
 * @brief The drift m = J dgamma/dtau (seed eq 56).
 *
 * dgamma/dtau = -H^{-1} d/dtau grad F = (-H)^{-1} J^T grad_g D / tau^2 at
 * gamma_tau, H the Hessian of F (implicit-function theorem; no difference
 * in tau).
 * @param[in]  d the dictionary
 * @param[out] m dy values
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_drift(const berg_dictionary *d, double *m);

/**
 * @brief The potential V(y) = -ln p0(y - G(gamma_tau)) on the data grid.
 * @param[in]  d the dictionary
 * @param[out] V size of the data space values (+inf where p0 = 0)
 * @return BERG_OK; BERG_ERR_NULL.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_potential(const berg_dictionary *d, double *V);

/**
 * @brief The scheme Sigma(y) = Phi(u; y) - Phi(gamma_tau; y) on the data grid.
 *
 * G is called at u. Where both p0 vanish Sigma is 0; where only one does it
 * is -inf or +inf.
 * @param[in]  d     the dictionary
 * @param[in]  u     the parameter point (du finite values)
 * @param[out] sigma size of the data space values
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE (u);
 *         BERG_ERR_MISMATCH (the berg_bayes has a new model or truth since
 *         creation); BERG_ERR_CALLBACK; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_scheme(const berg_dictionary *d, const double *u,
                                            double *sigma);

/**
 * @brief The heat time of the ERG side for dy = 1: t = K tau / 2.
 *
 * For the normal model t = sigma^2 tau / 2.
 * @param[in]  d the dictionary
 * @param[out] t the heat time
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_UNSUPPORTED (dy != 1);
 *         BERG_ERR_NONFINITE (K tau / 2 overflows; t untouched).
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_heat_time(const berg_dictionary *d, double *t);

/**
 * @brief The ERG -> Bayes direction: the location model of an ERG fixed point.
 *
 * An ERG scheme given by a fixed-point potential V on a data space of rank
 * d (q = e^{-V}/Z) is reproduced by the location model G(u) = u
 * (du = dy = d) with noise p0 = q and a flat prior: its backward flow has
 * V = -Phi(gamma; y) + const and inverse metric K_model = I_N^{-1} (I_N the
 * Fisher metric of p0, berg_fisher_location). The ERG inverse metric of the
 * scheme is matched by the time map t = tau / 2 along K_model. The outputs
 * are untouched on failure.
 * @param[in]  data   the data space (rank d)
 * @param[in]  V      the fixed-point potential, size of data finite values
 * @param[out] p0     q = e^{-V}/Z, a density on data
 * @param[out] Kmodel I_N^{-1}, d x d values, row-major
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE (V);
 *         BERG_ERR_NOT_SPD (I_N singular); BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_dictionary_from_erg(const berg_space *data, const double *V,
                                              double *p0, double *Kmodel);

#ifdef __cplusplus
}
#endif

#endif /* BERG_DICTIONARY_H */
