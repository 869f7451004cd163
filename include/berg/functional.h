/*
 * berg/functional.h - information functionals of densities and their first variations (seed eq 14-24).
 */
#ifndef BERG_FUNCTIONAL_H
#define BERG_FUNCTIONAL_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Information functionals of densities on a grid and the l2 / Wasserstein-2
 * geometry of the space of densities (seed eq 12-24), with the signs of
 * docs/conventions.md ("Otto calculus"). See docs/metric.md.
 *
 * Densities. Every argument named p or q is a density with respect to
 * Vol_S: finite, >= 0, and normalized, w * sum_i p_i = 1 within a relative
 * berg_density_mass_tolerance() (1e-9). These functions do not normalize:
 * an unnormalized density is refused with BERG_ERR_MASS (call
 * berg_space_normalize first), negative values with BERG_ERR_NEGATIVE,
 * NaN/Inf with BERG_ERR_NONFINITE. 0 ln 0 = 0.
 *
 * Discretization. Integrals are cell sums times the cell weight w. Gradients
 * live on cell faces: (f_j - f_i) / h_a between neighbours along axis a
 * (periodic axes wrap). The discrete Laplacian Delta_h (berg_discrete_laplacian)
 * is the flux form sum_a g^{aa} (f_{i+1} - 2 f_i + f_{i-1}) / h_a^2 with a
 * Neumann axis closed (zero flux) and a Dirichlet axis seeing zero outside.
 * The W2 operator L_p u = div(p g^{-1} grad u) weighs each face by the
 * logarithmic mean of p over it, (p_i - p_j) / (ln p_i - ln p_j), and has
 * no flux through the walls of non-periodic axes (p vanishes beyond a
 * Dirichlet wall). With this choice grad_W2 S = Delta_h p holds exactly
 * (to rounding) on periodic and Neumann axes, L_p is symmetric negative
 * semi-definite and annihilates constants, and along the discrete flows
 * the dissipation identities (de Bruijn, KL decay) are exact. Functions
 * that differentiate on the grid need a diagonal metric (coupled periodic
 * axes would need mixed-derivative stencils): BERG_ERR_UNSUPPORTED
 * otherwise. Entropy, KL, cross-entropy, potential and free energy,
 * moments and the heat-channel information accept any metric.
 *
 * Every function here may be called from several threads at once, except
 * that one berg_w2_metric handle is used by one thread at a time.
 */

/* The relative tolerance on the mass of a density (1e-9). */
BERG_API double berg_density_mass_tolerance(void);

/* ---- functionals: values ---- */

/* *S = -integral p ln p Vol_S (0 ln 0 = 0). */
BERG_API berg_status berg_entropy(const berg_space *space, const double *p, double *S);

/* *D = integral p ln(p / q) Vol_S >= 0; +infinity (HUGE_VAL) when q vanishes
 * somewhere p does not. */
BERG_API berg_status berg_kl_divergence(const berg_space *space, const double *p, const double *q,
                                        double *D);

/* *H = -integral p ln q Vol_S = S[p] + KL(p||q); +infinity where q vanishes
 * on the support of p. */
BERG_API berg_status berg_cross_entropy(const berg_space *space, const double *p, const double *q,
                                        double *H);

/* *E = integral p V Vol_S for a finite potential V. */
BERG_API berg_status berg_potential_energy(const berg_space *space, const double *p,
                                           const double *V, double *E);

/* *F = integral p V Vol_S - S[p]. With Z = integral e^{-V} Vol_S,
 * F + ln Z = KL(p || e^{-V}/Z) (eq 23). */
BERG_API berg_status berg_free_energy(const berg_space *space, const double *p, const double *V,
                                      double *F);

/* *E = 1/2 integral |grad p|^2_g Vol_S on the faces (Dirichlet walls count
 * their zero outside value), so that delta E / delta p = -Delta_h p
 * exactly. Diagonal metric. */
BERG_API berg_status berg_dirichlet_energy(const berg_space *space, const double *p, double *E);

/* *J = integral p |grad ln p|^2_g Vol_S, discretized as
 * w sum_faces g^{aa}/h_a^2 (p_j - p_i)(ln p_j - ln p_i) (walls carry no
 * flux). +infinity when a zero of p neighbours a positive value. Along the
 * discrete heat flow d/dt p = Delta_h p, d S / dt = J exactly (de Bruijn).
 * Diagonal metric. */
BERG_API berg_status berg_fisher_information(const berg_space *space, const double *p,
                                             double *J);

/* *info = integral p |grad ln(p/q)|^2_g Vol_S, discretized with the log-mean
 * face weights of the W2 operator, so that along the discrete
 * Fokker-Planck flow d/dt p = L_p ln(p/q), d KL(p||q) / dt = -info
 * exactly and ||d/dt p||^2_W2 = info. q must be > 0 everywhere (BERG_ERR_DOMAIN);
 * +infinity when a zero of p neighbours a positive value. Diagonal metric. */
BERG_API berg_status berg_relative_fisher_information(const berg_space *space, const double *p,
                                                      const double *q, double *info);

/* ---- functionals: first variations delta F / delta p on the grid ----
 * out (berg_space_size values) receives the array whose l2 pairing with a
 * tangent vector eta is the directional derivative: d/de F[p + e eta] at
 * e = 0 equals integral out * eta Vol_S. Wherever a logarithm of p or q
 * enters, that density must be > 0 everywhere (BERG_ERR_DOMAIN naming the
 * first zero). out may alias any input. */

/* -ln p - 1 */
BERG_API berg_status berg_entropy_derivative(const berg_space *space, const double *p,
                                             double *out);
/* ln(p / q) + 1 */
BERG_API berg_status berg_kl_derivative(const berg_space *space, const double *p, const double *q,
                                        double *out);
/* -ln q */
BERG_API berg_status berg_cross_entropy_derivative(const berg_space *space, const double *p,
                                                   const double *q, double *out);
/* V */
BERG_API berg_status berg_potential_energy_derivative(const berg_space *space, const double *p,
                                                      const double *V, double *out);
/* V + ln p + 1 */
BERG_API berg_status berg_free_energy_derivative(const berg_space *space, const double *p,
                                                 const double *V, double *out);
/* -Delta_h p */
BERG_API berg_status berg_dirichlet_energy_derivative(const berg_space *space, const double *p,
                                                      double *out);
/* -Delta_h ln p - (Delta_h p) / p  (continuum: -2 Delta p / p + |grad ln p|^2) */
BERG_API berg_status berg_fisher_information_derivative(const berg_space *space, const double *p,
                                                        double *out);
/* exact derivative of the discrete relative Fisher information */
BERG_API berg_status berg_relative_fisher_information_derivative(const berg_space *space,
                                                                 const double *p, const double *q,
                                                                 double *out);

/* out = Delta_h f (the flux-form Laplacian above) for any finite f. out may
 * alias f. Diagonal metric. */
BERG_API berg_status berg_discrete_laplacian(const berg_space *space, const double *f,
                                             double *out);

#ifdef __cplusplus
}
#endif

#endif /* BERG_FUNCTIONAL_H */
