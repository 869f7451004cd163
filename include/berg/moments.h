/**
 * @file berg/moments.h
 * @brief Moments, central moments and cumulants of densities on a grid.
 *
 * Per axis and mixed, up to a total order. Results fill a tensor of
 * (order + 1)^d doubles in C order (d = the space's rank): entry
 * [a_1, ..., a_d] is the moment or cumulant of the multi-index
 * alpha = (a_1, ..., a_d), for every alpha of total order |alpha| <= order;
 * entries with |alpha| > order are set to 0. order is 1 .. 16. Coordinates
 * are the cell centres of the box (also on periodic axes); the moment of
 * alpha = k e_a is the k-th moment of axis a. A Gaussian has no cumulant
 * beyond order 2 (the seed's renormalizability criterion counts the
 * connected moments a density needs).
 *
 * Densities. The argument p is a "density": finite, >= 0, normalized to 1
 * within berg_density_mass_tolerance(); an unnormalized one is refused
 * (BERG_ERR_MASS). Any metric.
 *
 * Thread safety: every function here may be called from several threads at
 * once (they keep no state).
 */
#ifndef BERG_MOMENTS_H
#define BERG_MOMENTS_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Raw moments m_alpha = E[x^alpha] = integral x^alpha p Vol_S.
 *
 * @param[in]  space  the grid.
 * @param[in]  order  the largest total order |alpha|, 1 .. 16.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] m      (order + 1)^d moments in C order (entries with
 *                    |alpha| > order are 0; m[0] = 1). May alias p when it
 *                    is large enough.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_DOMAIN
 *         when order is outside 1 .. 16 or an entry overflows the double
 *         range (coordinates so large that x^order does; entries below the
 *         normal range round towards 0); BERG_ERR_SIZE when the tensor
 *         length overflows size_t; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or
 *         BERG_ERR_MASS when p is not a density; BERG_ERR_NOMEM when scratch
 *         cannot be allocated. m is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_moments(const berg_space *space, size_t order, const double *p,
                                  double *m);

/**
 * @brief Central moments mu_alpha = E[(x - mean)^alpha].
 *
 * The first-order entries are exactly 0.
 *
 * @param[in]  space  the grid.
 * @param[in]  order  the largest total order |alpha|, 1 .. 16.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] m      (order + 1)^d central moments in C order (entries with
 *                    |alpha| > order are 0). May alias p when it is large
 *                    enough.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_DOMAIN
 *         when order is outside 1 .. 16 or an entry overflows the double
 *         range (coordinates so large that x^order does; entries below the
 *         normal range round towards 0); BERG_ERR_SIZE when the tensor
 *         length overflows size_t; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or
 *         BERG_ERR_MASS when p is not a density; BERG_ERR_NOMEM when scratch
 *         cannot be allocated. m is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_central_moments(const berg_space *space, size_t order, const double *p,
                                          double *m);

/**
 * @brief Cumulants (connected moments) kappa_alpha.
 *
 * First order: the mean; second order: the covariance. Higher orders from
 * the central moments by the recursion
 * kappa_alpha = mu_alpha - sum_{gamma <= beta, gamma != beta} C(beta, gamma)
 * kappa_{gamma + e_j} mu_{beta - gamma}, alpha = beta + e_j.
 *
 * @param[in]  space  the grid.
 * @param[in]  order  the largest total order |alpha|, 1 .. 16.
 * @param[in]  p      density (berg_space_size(space) values).
 * @param[out] kappa  (order + 1)^d cumulants in C order (kappa[0] = 0,
 *                    entries with |alpha| > order are 0).
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_DOMAIN
 *         when order is outside 1 .. 16 or an entry overflows the double
 *         range (coordinates so large that x^order does; entries below the
 *         normal range round towards 0); BERG_ERR_SIZE when the tensor
 *         length overflows size_t; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or
 *         BERG_ERR_MASS when p is not a density; BERG_ERR_NOMEM when scratch
 *         cannot be allocated. kappa is untouched on failure.
 * @since 1.0
 */
BERG_API berg_status berg_cumulants(const berg_space *space, size_t order, const double *p,
                                    double *kappa);

#ifdef __cplusplus
}
#endif

#endif /* BERG_MOMENTS_H */
