/*
 * berg/moments.h - moments, central moments and cumulants of densities.
 */
#ifndef BERG_MOMENTS_H
#define BERG_MOMENTS_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- moments and connected moments (cumulants) ----
 * Results fill a tensor of (order + 1)^d doubles in C order: entry
 * [a_1, ..., a_d] is the moment or cumulant of multi-index alpha =
 * (a_1, ..., a_d), for every alpha of total order |alpha| <= order; entries
 * with |alpha| > order are set to 0. order is 1 .. 16. Coordinates are the
 * cell centres of the box (also on periodic axes). Per axis: alpha = k e_a.
 * A Gaussian has no cumulant beyond order 2 (the seed's renormalizability
 * criterion, p.35, counts the connected moments a density needs). */

/* raw moments E[x^alpha] */
BERG_API berg_status berg_moments(const berg_space *space, const double *p, int order,
                                  double *m);
/* central moments E[(x - mean)^alpha] */
BERG_API berg_status berg_central_moments(const berg_space *space, const double *p, int order,
                                          double *m);
/* cumulants kappa_alpha (first order: the mean; second: the covariance),
 * from the central moments by the recursion
 * kappa_alpha = mu_alpha - sum_{gamma < beta} C(beta, gamma)
 * kappa_{gamma + e_j} mu_{beta - gamma}, alpha = beta + e_j. */
BERG_API berg_status berg_cumulants(const berg_space *space, const double *p, int order,
                                    double *kappa);

#ifdef __cplusplus
}
#endif

#endif /* BERG_MOMENTS_H */
