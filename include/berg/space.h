/**
 * @file berg/space.h
 * @brief The sample space S: a box with a grid, boundary kinds and a
 * constant metric.
 *
 *   S = [lo_1, hi_1] x ... x [lo_d, hi_d],   1 <= d <= berg_space_max_rank()
 *
 * Axis a has n_a cells of width h_a = (hi_a - lo_a) / n_a; grid points are
 * cell centres x = lo_a + (i + 1/2) h_a for every boundary kind. Arrays on
 * the grid are caller-owned doubles in C order (last axis fastest, numpy's
 * default) of length berg_space_size(). The metric g is a constant symmetric
 * positive definite d x d matrix (row-major; identity when NULL); the volume
 * form is Vol_S = sqrt(det g) dx, so each cell weighs
 *
 *   w = sqrt(det g) * h_1 * ... * h_d        (berg_space_cell_weight)
 *
 * and a density p satisfies p >= 0, sum_i p_i w = 1; a tangent vector
 * eta satisfies sum_i eta_i w = 0.
 *
 * Argument kinds: a "density" is finite, >= 0, normalized to 1 within
 * berg_density_mass_tolerance(); a "measure" is finite, >= 0, with positive
 * finite mass (normalized internally); a "state" is any finite array (not
 * normalized).
 *
 * Thread safety: a berg_space is immutable once created; every function
 * here may be called on one space from several threads at once. Handles of
 * other modules copy what they need of a space, so a space may be destroyed
 * while they live.
 */
#ifndef BERG_SPACE_H
#define BERG_SPACE_H

#include <stddef.h>
#include "berg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A gridded box with per-axis boundary kinds and a constant metric
 * (opaque, immutable).
 * @since 1.0
 */
typedef struct berg_space berg_space;

/**
 * @brief Boundary kind of one axis. Values are pinned.
 * @since 1.0
 */
typedef enum berg_boundary {
    /** The axis is a circle of length hi - lo. */
    BERG_PERIODIC = 0,
    /** Reflecting, zero flux: mass is conserved. */
    BERG_NEUMANN = 1,
    /** Absorbing, zero value: mass leaks (survival probability). */
    BERG_DIRICHLET = 2
} berg_boundary;

/**
 * @brief Largest rank a space may have.
 * @return 8.
 * @since 1.0
 */
BERG_API size_t berg_space_max_rank(void);

/**
 * @brief Create a space S = [lower_1, upper_1] x ... x [lower_d, upper_d]
 * with n_a cells on axis a, boundary kinds bc and metric g.
 *
 * The metric must be symmetric to a relative 1e-10 of its largest entry;
 * it is then symmetrised. A metric whose Cholesky factorization has a
 * reciprocal condition estimate below d * DBL_EPSILON is numerically
 * singular and refused. An axis that is not periodic may not be coupled to
 * another axis: g[a][b] must be exactly 0 for b != a.
 *
 * @param[out] out     the new space; untouched on failure. Free with
 *                     berg_space_destroy().
 * @param[in]  ndim    rank d, 1 .. berg_space_max_rank().
 * @param[in]  n       d cell counts, each >= 1; their product (times
 *                     sizeof(double)) must fit in size_t.
 * @param[in]  lower   d finite lower bounds.
 * @param[in]  upper   d finite upper bounds, upper[a] > lower[a].
 * @param[in]  bc      d boundary kinds, or NULL for periodic on every axis.
 * @param[in]  metric  d*d row-major symmetric positive definite matrix g, or
 *                     NULL for the identity.
 * @return BERG_OK;
 *   BERG_ERR_NULL when out, n, lower or upper is NULL;
 *   BERG_ERR_DOMAIN for a rank outside 1..berg_space_max_rank(), upper[a] <= lower[a],
 *   an unknown boundary kind, or a box whose scales a density cannot take
 *   (the message names the quantity): a cell width (upper[a] - lower[a]) /
 *   n[a] below DBL_MIN (subnormal), a cell volume sqrt(det g) prod h_a
 *   below DBL_MIN (1 / cell volume, the density of one cell, would
 *   overflow), or a volume sqrt(det g) prod (upper[a] - lower[a]) above
 *   1 / DBL_MIN (a normalized density, 1 / volume, would be subnormal);
 *   BERG_ERR_SIZE for a zero cell count or a grid too large to address;
 *   BERG_ERR_NONFINITE for a non-finite bound;
 *   BERG_ERR_NOT_SPD for an asymmetric, indefinite or numerically singular metric;
 *   BERG_ERR_UNSUPPORTED for a metric coupling a non-periodic axis;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_space_create(berg_space **out, size_t ndim, const size_t *n,
                                       const double *lower, const double *upper,
                                       const berg_boundary *bc, const double *metric);

/**
 * @brief A new space equal to space (for bindings that want to own a copy).
 * @param[in]  space  the space to copy.
 * @param[out] out    the copy; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL; BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_space_clone(berg_space **out, const berg_space *space);

/**
 * @brief Free a space.
 * @param[in] space  the space, or NULL (a no-op).
 * @since 1.0
 */
BERG_API void berg_space_destroy(berg_space *space);

/**
 * @brief Rank d of the space.
 * @param[in] space  the space.
 * @return d, or 0 when space is NULL.
 * @since 1.0
 */
BERG_API size_t berg_space_rank(const berg_space *space);

/**
 * @brief Number of grid points prod_a n_a (the length of every grid array).
 * @param[in] space  the space.
 * @return the size, or 0 when space is NULL.
 * @since 1.0
 */
BERG_API size_t berg_space_size(const berg_space *space);

/**
 * @brief Whether two spaces have the same rank, shape, bounds, boundary
 * kinds and metric (bitwise), i.e. arrays on one are arrays on the other.
 * @param[in] a  a space.
 * @param[in] b  another space.
 * @return 1 when they are equal, 0 otherwise (also when either is NULL).
 * @since 1.0
 */
BERG_API int berg_space_equal(const berg_space *a, const berg_space *b);

/**
 * @brief Cell counts n_a of every axis.
 * @param[in]  space  the space.
 * @param[out] n      d values.
 * @return BERG_OK; BERG_ERR_NULL when space or n is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_space_shape(const berg_space *space, size_t *n);

/**
 * @brief Bounds lo_a and hi_a of every axis.
 * @param[in]  space  the space.
 * @param[out] lower  d values.
 * @param[out] upper  d values.
 * @return BERG_OK; BERG_ERR_NULL when space, lower or upper is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_space_bounds(const berg_space *space, double *lower, double *upper);

/**
 * @brief Boundary kinds of every axis.
 * @param[in]  space  the space.
 * @param[out] bc     d values.
 * @return BERG_OK; BERG_ERR_NULL when space or bc is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_space_boundaries(const berg_space *space, berg_boundary *bc);

/**
 * @brief Cell widths h_a = (hi_a - lo_a) / n_a.
 * @param[in]  space  the space.
 * @param[out] h      d values.
 * @return BERG_OK; BERG_ERR_NULL when space or h is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_space_spacing(const berg_space *space, double *h);

/**
 * @brief The metric g.
 * @param[in]  space  the space.
 * @param[out] g      d*d values, row-major.
 * @return BERG_OK; BERG_ERR_NULL when space or g is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_space_metric(const berg_space *space, double *g);

/**
 * @brief The inverse metric g^{-1}.
 * @param[in]  space  the space.
 * @param[out] ginv   d*d values, row-major.
 * @return BERG_OK; BERG_ERR_NULL when space or ginv is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_space_inverse_metric(const berg_space *space, double *ginv);

/**
 * @brief Volume factor sqrt(det g).
 * @param[in] space  the space.
 * @return sqrt(det g), or NaN when space is NULL.
 * @since 1.0
 */
BERG_API double berg_space_volume_factor(const berg_space *space);

/**
 * @brief Cell weight w = sqrt(det g) prod_a h_a.
 * @param[in] space  the space.
 * @return w, or NaN when space is NULL.
 * @since 1.0
 */
BERG_API double berg_space_cell_weight(const berg_space *space);

/**
 * @brief Total volume sqrt(det g) prod_a (hi_a - lo_a).
 * @param[in] space  the space.
 * @return the volume, or NaN when space is NULL.
 * @since 1.0
 */
BERG_API double berg_space_volume(const berg_space *space);

/**
 * @brief Cell-centre coordinates lo_a + (i + 1/2) h_a of one axis.
 * @param[in]  space  the space.
 * @param[in]  axis   the axis a, 0-based, < d.
 * @param[out] x      n_axis values.
 * @return BERG_OK; BERG_ERR_NULL when space or x is NULL; BERG_ERR_DOMAIN
 *   when axis >= d.
 * @since 1.0
 */
BERG_API berg_status berg_space_coordinates(const berg_space *space, size_t axis, double *x);

/**
 * @brief Integral of f over S: *out = w sum_i f_i (pairwise summation).
 *
 * When the plain sum overflows, the values are summed at a power-of-two
 * scale, so every integral that is a finite double is returned.
 * @param[in]  space  the space.
 * @param[in]  f      state: berg_space_size() finite values.
 * @param[out] out    the integral; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_NONFINITE
 *   when f has a non-finite value; BERG_ERR_DOMAIN when the integral
 *   exceeds DBL_MAX.
 * @since 1.0
 */
BERG_API berg_status berg_space_integrate(const berg_space *space, const double *f, double *out);

/**
 * @brief Divide p in place by its integral so that it integrates to one.
 * @param[in]     space  the space.
 * @param[in,out] p      measure: berg_space_size() values, finite, >= 0, with
 *                       positive finite mass; unchanged on failure.
 * @param[out]    mass   the integral p was divided by, or NULL.
 * @return BERG_OK; BERG_ERR_NULL when space or p is NULL; BERG_ERR_NONFINITE,
 *   BERG_ERR_NEGATIVE for a non-finite or negative value; BERG_ERR_MASS when
 *   the mass is zero, infinite or too small to divide by.
 * @since 1.0
 */
BERG_API berg_status berg_space_normalize(const berg_space *space, double *p, double *mass);

/**
 * @brief Clear FFT round-off: every value v with -rtol max|p| <= v < 0
 * becomes 0.
 *
 * Spectral propagators leave such values, of order 1e-16 of the peak, in
 * the tails of a density resolved on the grid, and every density function
 * refuses negative values. A density with structure at the cell scale keeps
 * larger undershoots that are not round-off (a point mass under the default
 * heat kernel: up to 2.6% of the peak). A value below -rtol max|p| is real
 * negativity, not round-off: it is refused and p is unchanged. 1e-12 is a
 * good rtol after berg_heat_apply().
 *
 * @param[in]     space    the space.
 * @param[in]     rtol     relative tolerance, in (0, 1).
 * @param[in,out] p        state: berg_space_size() finite values.
 * @param[out]    clipped  the mass removed, w sum |v| over the cleared
 *                         values, or NULL.
 * @return BERG_OK; BERG_ERR_NULL when space or p is NULL; BERG_ERR_NONFINITE
 *   for a non-finite value; BERG_ERR_DOMAIN when rtol is not in (0, 1);
 *   BERG_ERR_NEGATIVE naming the first index below -rtol max|p|.
 * @since 1.0
 */
BERG_API berg_status berg_space_clip_roundoff(const berg_space *space, double rtol, double *p,
                                              double *clipped);

/**
 * @brief Histogram of count points on the cells of space, as a density:
 * hist_i = (number in cell i) / (count w).
 *
 * Points outside the box are not counted; on periodic axes positions are
 * wrapped into the box first.
 *
 * @param[in]  space    the space (rank d).
 * @param[in]  count    number of points, >= 1.
 * @param[in]  x        count*d finite coordinates, one row per point
 *                      (count*d*sizeof(double) must fit the address space;
 *                      checked before x is read).
 * @param[out] hist     berg_space_size() values.
 * @param[out] outside  the number of points outside the box, or NULL.
 * @return BERG_OK; BERG_ERR_NULL when space, x or hist is NULL;
 *   BERG_ERR_SIZE when count is 0 or count*d doubles exceed the address
 *   space; BERG_ERR_DOMAIN when the density of one point in a cell,
 *   1 / (count w), is below 2^-1042 (it would keep fewer than 32 bits);
 *   BERG_ERR_NONFINITE
 *   for a non-finite coordinate.
 * @since 1.0
 */
BERG_API berg_status berg_space_histogram(const berg_space *space, size_t count, const double *x,
                                          double *hist, size_t *outside);

/**
 * @brief l2 inner product G_l2(f1, f2) = integral f1 f2 Vol_S.
 * @param[in]  space  the space.
 * @param[in]  f1     state: berg_space_size() finite values.
 * @param[in]  f2     state: berg_space_size() finite values.
 * @param[out] out    the inner product (products and sums that overflow
 *                    are formed at power-of-two scales); untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_NONFINITE
 *   for a non-finite value; BERG_ERR_DOMAIN when the inner product exceeds
 *   DBL_MAX.
 * @since 1.0
 */
BERG_API berg_status berg_space_inner_l2(const berg_space *space, const double *f1,
                                         const double *f2, double *out);

/**
 * @brief Projection onto the tangent space: out = f - (integral f) / volume,
 * an array of zero integral.
 * @param[in]  space  the space.
 * @param[in]  f      state: berg_space_size() finite values.
 * @param[out] out    berg_space_size() values; may be f itself. Untouched on
 *                    failure.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_NONFINITE
 *   for a non-finite value; BERG_ERR_DOMAIN when some f_i - mean exceeds
 *   DBL_MAX (values of both signs near it; the message names i).
 * @since 1.0
 */
BERG_API berg_status berg_space_project_tangent(const berg_space *space, const double *f,
                                                double *out);

/**
 * @brief Mean E[x_a] of a measure, in the box coordinates of the cell
 * centres (also on periodic axes, where it is the mean of the unwrapped box).
 * @param[in]  space  the space.
 * @param[in]  p      measure: berg_space_size() values, finite, >= 0, with
 *                    positive finite mass (divided out).
 * @param[out] mean   d values; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_NONFINITE,
 *   BERG_ERR_NEGATIVE, BERG_ERR_MASS when p is not a measure. Values near
 *   DBL_MAX and subnormal masses are weighed at a power-of-two scale.
 * @since 1.0
 */
BERG_API berg_status berg_space_mean(const berg_space *space, const double *p, double *mean);

/**
 * @brief Covariance E[(x_a - m_a)(x_b - m_b)] of a measure, in the box
 * coordinates of the cell centres (two passes: mean, then centred moments).
 * @param[in]  space  the space.
 * @param[in]  p      measure: berg_space_size() values, finite, >= 0, with
 *                    positive finite mass (divided out).
 * @param[out] cov    d*d values, row-major, symmetric; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL; BERG_ERR_NONFINITE,
 *   BERG_ERR_NEGATIVE, BERG_ERR_MASS when p is not a measure;
 *   BERG_ERR_DOMAIN when a covariance entry exceeds DBL_MAX (boxes wider
 *   than about 1e154; the message names the entry).
 * @since 1.0
 */
BERG_API berg_status berg_space_covariance(const berg_space *space, const double *p, double *cov);

/**
 * @brief Mean and covariance of a measure in one call (as berg_space_mean()
 * and berg_space_covariance()).
 * @param[in]  space  the space.
 * @param[in]  p      measure: berg_space_size() values, finite, >= 0, with
 *                    positive finite mass (divided out).
 * @param[out] mean   d values, or NULL; untouched on failure.
 * @param[out] cov    d*d values, row-major, or NULL; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when space or p is NULL; BERG_ERR_NONFINITE,
 *   BERG_ERR_NEGATIVE, BERG_ERR_MASS when p is not a measure;
 *   BERG_ERR_DOMAIN when a covariance entry exceeds DBL_MAX (neither output
 *   is written then).
 * @since 1.0
 */
BERG_API berg_status berg_space_moments(const berg_space *space, const double *p, double *mean,
                                        double *cov);

#ifdef __cplusplus
}
#endif

#endif /* BERG_SPACE_H */
