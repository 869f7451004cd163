/**
 * @file berg/functional.h
 * @brief Information functionals of densities on a grid and their first
 * variations.
 *
 * Entropy, relative entropy (KL divergence), cross-entropy, potential and
 * free energy, Dirichlet energy, Fisher information and relative Fisher
 * information of densities on a berg_space grid, and the first variation
 * delta F / delta p of each, with the signs of the conventions page
 * ("Otto calculus").
 *
 * Densities. Every array argument named p or q is a "density": finite,
 * >= 0, normalized to 1 within berg_density_mass_tolerance(); an
 * unnormalized one is refused (BERG_ERR_MASS). Normalization is with
 * respect to Vol_S: w * sum_i p_i = 1 with w the cell weight. These
 * functions never normalize (call berg_space_normalize first): negative
 * values are refused with BERG_ERR_NEGATIVE, NaN or infinite values with
 * BERG_ERR_NONFINITE, each message naming the first offending index.
 * 0 ln 0 = 0. Every array has berg_space_size(space) entries in C order.
 *
 * Discretization. Integrals are cell sums times the cell weight w (with
 * compensated summation). Gradients live on cell faces: (f_j - f_i) / h_a
 * between neighbours along axis a (periodic axes wrap). The discrete
 * Laplacian Delta_h (berg_discrete_laplacian) is the flux form
 * sum_a g^{aa} (f_{i+1} - 2 f_i + f_{i-1}) / h_a^2, with a Neumann axis
 * closed (zero flux) and a Dirichlet axis seeing zero outside. The
 * Wasserstein-2 operator L_p u = div(p g^{-1} grad u) of berg/w2_geometry.h
 * weighs each face by the logarithmic mean of p over it,
 * (p_i - p_j) / (ln p_i - ln p_j); with it, grad_W2 S = Delta_h p holds to
 * rounding on periodic and Neumann axes, and along the discrete flows the
 * dissipation identities (de Bruijn, KL decay) are exact. Functions that
 * differentiate on the grid (Dirichlet energy, the Fisher informations,
 * Delta_h) need a diagonal metric and refuse a coupled one with
 * BERG_ERR_UNSUPPORTED naming the two axes; entropy, KL, cross-entropy,
 * potential and free energy accept any metric.
 *
 * Range. Integrals are formed from cell masses w p_i (<= 1) and the cell
 * widths enter last, so every value that is a normal double is computed on
 * any box the space accepts (the functionals obey their scaling laws
 * exactly: S + ln s, KL invariant, Fisher informations as s^-2, Dirichlet
 * energy as s^-(d+2) for a box scaled by s). A scalar whose value leaves
 * the normal double range (the Dirichlet energy or a Fisher information on
 * extreme cell widths, an energy with a huge V) and an array output with a
 * value beyond DBL_MAX are refused with BERG_ERR_DOMAIN naming the output
 * and the cell widths, the output untouched; array values below the normal
 * range round towards 0.
 *
 * Thread safety: every function here may be called from several threads at
 * once (they keep no state).
 */
#ifndef BERG_FUNCTIONAL_H
#define BERG_FUNCTIONAL_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The relative tolerance on the mass of a density.
 *
 * A density p is accepted when |w sum_i p_i - 1| <= this value (1e-9).
 *
 * @return the tolerance, 1e-9.
 * @since 1.0
 */
BERG_API double berg_density_mass_tolerance(void);

/* ---- values ---- */

/**
 * @brief Entropy S[p] = -integral p ln p Vol_S.
 *
 * Computed as -w sum_i p_i ln p_i with 0 ln 0 = 0. Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] S      the entropy.
 * @return BERG_OK; BERG_ERR_NULL when space, p or S is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density.
 * @since 1.0
 */
BERG_API berg_status berg_entropy(const berg_space *space, const double *p, double *S);

/**
 * @brief Relative entropy KL(p || q) = integral p ln(p / q) Vol_S >= 0.
 *
 * +infinity (HUGE_VAL, never NaN) when q vanishes somewhere p does not;
 * terms with p_i = 0 contribute 0. Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  q      density (berg_space_size(space) values).
 * @param[out] D      the divergence, >= 0 or +infinity.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p or q
 *         is not a density.
 * @since 1.0
 */
BERG_API berg_status berg_kl_divergence(const berg_space *space, const double *p, const double *q,
                                        double *D);

/**
 * @brief Cross-entropy H(p, q) = -integral p ln q Vol_S = S[p] + KL(p || q).
 *
 * +infinity where q vanishes on the support of p. Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  q      density (berg_space_size(space) values).
 * @param[out] H      the cross-entropy, or +infinity.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p or q
 *         is not a density.
 * @since 1.0
 */
BERG_API berg_status berg_cross_entropy(const berg_space *space, const double *p, const double *q,
                                        double *H);

/**
 * @brief Potential energy E_V[p] = integral p V Vol_S.
 *
 * Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  V      the potential, any finite values (berg_space_size(space) values).
 * @param[out] E      the energy.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when V has a NaN or infinite value;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_potential_energy(const berg_space *space, const double *p,
                                           const double *V, double *E);

/**
 * @brief Free energy F[p] = integral p V Vol_S - S[p].
 *
 * With Z = integral e^{-V} Vol_S (the grid sum), F + ln Z = KL(p || e^{-V}/Z)
 * holds exactly on the grid. Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  V      the potential, any finite values (berg_space_size(space) values).
 * @param[out] F      the free energy.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when V has a NaN or infinite value;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_free_energy(const berg_space *space, const double *p, const double *V,
                                      double *F);

/**
 * @brief Dirichlet energy E[p] = 1/2 integral |grad p|^2_g Vol_S on the cell faces.
 *
 * Discretized as w/2 sum_faces g^{aa}/h_a^2 (p_j - p_i)^2, where a Dirichlet
 * wall counts the difference to its zero outside value, so that
 * delta E / delta p = -Delta_h p exactly. Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] E      the energy.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_UNSUPPORTED when the metric couples axes;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_dirichlet_energy(const berg_space *space, const double *p, double *E);

/**
 * @brief Fisher information of a density, J[p] = integral p |grad ln p|^2_g Vol_S.
 *
 * Discretized as w sum_faces g^{aa}/h_a^2 (p_j - p_i)(ln p_j - ln p_i)
 * (walls carry no flux): the entropy production of the discrete heat flow,
 * so that along d/dt p = Delta_h p, dS/dt = J exactly (de Bruijn).
 * +infinity when a zero of p neighbours a positive value. Diagonal metric.
 * (The Fisher information of a parametric family is berg/fisher.h.)
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] J      the Fisher information, >= 0 or +infinity.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_UNSUPPORTED when the metric couples axes;
 *         BERG_ERR_NOMEM when scratch cannot be allocated;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_density_fisher_information(const berg_space *space, const double *p,
                                                     double *J);

/**
 * @brief Relative Fisher information I(p || q) = integral p |grad ln(p/q)|^2_g Vol_S.
 *
 * Discretized with the log-mean face weights theta(p_i, p_j) of the W2
 * operator, w sum_faces g^{aa}/h_a^2 theta (u_j - u_i)^2 with u = ln(p/q),
 * so that along the discrete Fokker-Planck flow d/dt p = L_p ln(p/q),
 * d KL(p || q) / dt = -I exactly and ||d/dt p||^2_W2 = I. +infinity when a
 * zero of p neighbours a positive value. Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  q      density, > 0 in every cell (berg_space_size(space) values).
 * @param[out] info   the relative Fisher information, >= 0 or +infinity.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p or q
 *         is not a density; BERG_ERR_DOMAIN when q vanishes somewhere (the
 *         message names the first zero); BERG_ERR_UNSUPPORTED when the metric
 *         couples axes; BERG_ERR_NOMEM when scratch cannot be allocated;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_relative_fisher_information(const berg_space *space, const double *p,
                                                      const double *q, double *info);

/* ---- first variations delta F / delta p ---- */

/**
 * @brief First variation of the entropy: out = delta S / delta p = -ln p - 1.
 *
 * Like every first variation here, out is the array whose l2 pairing with
 * a tangent vector eta is the directional derivative:
 * d/de F[p + e eta] at e = 0 equals integral out * eta Vol_S. Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density, > 0 in every cell (berg_space_size(space) values).
 * @param[out] out    delta S / delta p (berg_space_size(space) values); may alias p.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_DOMAIN when p vanishes somewhere (the
 *         message names the first zero). out is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_entropy_derivative(const berg_space *space, const double *p,
                                             double *out);

/**
 * @brief First variation of KL(p || q) in p: out = ln(p / q) + 1.
 *
 * Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density, > 0 in every cell (berg_space_size(space) values).
 * @param[in]  q      density, > 0 in every cell (berg_space_size(space) values).
 * @param[out] out    delta KL / delta p (berg_space_size(space) values); may alias p or q.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p or q
 *         is not a density; BERG_ERR_DOMAIN when p or q vanishes somewhere
 *         (the message names the first zero). out is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_kl_derivative(const berg_space *space, const double *p, const double *q,
                                        double *out);

/**
 * @brief First variation of the cross-entropy in p: out = -ln q.
 *
 * Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  q      density, > 0 in every cell (berg_space_size(space) values).
 * @param[out] out    delta H / delta p (berg_space_size(space) values); may alias p or q.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p or q
 *         is not a density; BERG_ERR_DOMAIN when q vanishes somewhere (the
 *         message names the first zero). out is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_cross_entropy_derivative(const berg_space *space, const double *p,
                                                   const double *q, double *out);

/**
 * @brief First variation of the potential energy: out = V.
 *
 * Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[in]  V      the potential, any finite values (berg_space_size(space) values).
 * @param[out] out    delta E_V / delta p (berg_space_size(space) values); may alias p or V.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when V has a NaN or infinite value;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density. out is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_potential_energy_derivative(const berg_space *space, const double *p,
                                                      const double *V, double *out);

/**
 * @brief First variation of the free energy: out = V + ln p + 1.
 *
 * Any metric.
 *
 * @param[in]  space  the grid.
 * @param[in]  p      density, > 0 in every cell (berg_space_size(space) values).
 * @param[in]  V      the potential, any finite values (berg_space_size(space) values).
 * @param[out] out    delta F / delta p (berg_space_size(space) values); may alias p or V.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when V has a NaN or infinite value;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_DOMAIN when p vanishes somewhere (the
 *         message names the first zero). out is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_free_energy_derivative(const berg_space *space, const double *p,
                                                 const double *V, double *out);

/**
 * @brief First variation of the Dirichlet energy: out = -Delta_h p.
 *
 * The exact derivative of the discrete berg_dirichlet_energy. Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] out    delta E / delta p (berg_space_size(space) values); may alias p.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_UNSUPPORTED when the metric couples axes;
 *         BERG_ERR_NOMEM when scratch cannot be allocated. out is untouched
 *         on failure;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_dirichlet_energy_derivative(const berg_space *space, const double *p,
                                                      double *out);

/**
 * @brief First variation of the Fisher information of a density.
 *
 * The exact derivative of the discrete berg_density_fisher_information,
 * out = -Delta_h ln p - (Delta_h p) / p (continuum: -2 Delta p / p +
 * |grad ln p|^2_g). Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density, > 0 in every cell (berg_space_size(space) values).
 * @param[out] out    delta J / delta p (berg_space_size(space) values); may alias p.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p is
 *         not a density; BERG_ERR_DOMAIN when p vanishes somewhere (the
 *         message names the first zero); BERG_ERR_UNSUPPORTED when the metric
 *         couples axes; BERG_ERR_NOMEM when scratch cannot be allocated. out
 *         is untouched on failure;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_density_fisher_information_derivative(const berg_space *space,
                                                                const double *p, double *out);

/**
 * @brief First variation in p of the relative Fisher information I(p || q).
 *
 * The exact derivative of the discrete berg_relative_fisher_information,
 * including the derivative of the log-mean face weights. Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  p      density, > 0 in every cell (berg_space_size(space) values).
 * @param[in]  q      density, > 0 in every cell (berg_space_size(space) values).
 * @param[out] out    delta I / delta p (berg_space_size(space) values); may alias p or q.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or BERG_ERR_MASS when p or q
 *         is not a density; BERG_ERR_DOMAIN when p or q vanishes somewhere
 *         (the message names the first zero) or when the derivative
 *         overflows (neighbouring values of p differing by hundreds of
 *         orders of magnitude, or extreme cell widths; see Range above);
 *         BERG_ERR_UNSUPPORTED when the metric couples
 *         axes; BERG_ERR_NOMEM when scratch cannot be allocated. out is
 *         untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_relative_fisher_information_derivative(const berg_space *space,
                                                                 const double *p, const double *q,
                                                                 double *out);

/**
 * @brief The discrete Laplacian out = Delta_h f.
 *
 * The flux form sum_a g^{aa} (f_{i+1} - 2 f_i + f_{i-1}) / h_a^2: periodic
 * axes wrap, a Neumann wall has zero flux, a Dirichlet wall sees the value
 * 0 outside (ghost cell -f). Second-order accurate. Diagonal metric.
 *
 * @param[in]  space  the grid (diagonal metric).
 * @param[in]  f      any finite values (berg_space_size(space) values).
 * @param[out] out    Delta_h f (berg_space_size(space) values); may alias f.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL;
 *         BERG_ERR_NONFINITE when f has a NaN or infinite value;
 *         BERG_ERR_UNSUPPORTED when the metric couples axes; BERG_ERR_NOMEM
 *         when scratch cannot be allocated. out is untouched on failure;
 *         BERG_ERR_DOMAIN when the result leaves the double range on this
 *         space (see Range above), the output untouched.
 * @since 1.0
 */
BERG_API berg_status berg_discrete_laplacian(const berg_space *space, const double *f,
                                             double *out);

#ifdef __cplusplus
}
#endif

#endif /* BERG_FUNCTIONAL_H */
