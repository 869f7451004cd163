/*
 * berg/space.h - the sample space S: a box with a grid, boundary kinds and a
 * constant metric (seed eq 12-13).
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
 * and a density p satisfies p >= 0, sum_i p_i w = 1 (eq 12); a tangent vector
 * eta satisfies sum_i eta_i w = 0 (eq 13).
 *
 * A berg_space is immutable once created; every function here may be called
 * on one space from several threads at once. Handles of other modules copy
 * what they need of a space, so a space may be destroyed while they live.
 */
#ifndef BERG_SPACE_H
#define BERG_SPACE_H

#include <stddef.h>
#include "berg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berg_space berg_space;

/* Boundary kind of one axis. Values are pinned. */
typedef enum berg_boundary {
    BERG_PERIODIC = 0,  /* the axis is a circle of length hi - lo */
    BERG_NEUMANN = 1,   /* reflecting, zero flux: mass is conserved */
    BERG_DIRICHLET = 2  /* absorbing, zero value: mass leaks (survival probability) */
} berg_boundary;

/* Largest rank a space may have (8). */
BERG_API int berg_space_max_rank(void);

/*
 * Create a space.
 *   ndim    rank, 1 .. berg_space_max_rank()
 *   n       ndim cell counts, each >= 1, product (times sizeof(double)) must
 *           fit in size_t
 *   lower, upper  ndim finite bounds with lower[a] < upper[a]
 *   bc      ndim boundary kinds, or NULL for periodic on every axis
 *   metric  ndim*ndim row-major symmetric positive definite matrix g, or NULL
 *           for the identity. Symmetry is checked to a relative 1e-12 and the
 *           matrix is then symmetrised. An axis that is not periodic may not
 *           be coupled to another axis: g[a][b] must be exactly 0 for b != a
 *           (BERG_ERR_UNSUPPORTED otherwise).
 * Errors: BERG_ERR_NULL, BERG_ERR_DOMAIN (rank, bounds, boundary kind),
 * BERG_ERR_SIZE (zero or overflowing counts), BERG_ERR_NONFINITE,
 * BERG_ERR_NOT_SPD (asymmetric, indefinite or singular metric),
 * BERG_ERR_UNSUPPORTED, BERG_ERR_NOMEM. *out is untouched on failure.
 */
BERG_API berg_status berg_space_create(berg_space **out, int ndim, const size_t *n,
                                       const double *lower, const double *upper,
                                       const berg_boundary *bc, const double *metric);

/* A new space equal to space (for bindings that want to own a copy). */
BERG_API berg_status berg_space_clone(berg_space **out, const berg_space *space);

/* Free a space. NULL is a no-op. */
BERG_API void berg_space_destroy(berg_space *space);

/* Rank d (0 if space is NULL). */
BERG_API int berg_space_rank(const berg_space *space);

/* Number of grid points prod n_a (0 if space is NULL). */
BERG_API size_t berg_space_size(const berg_space *space);

/* Nonzero when a and b have the same rank, shape, bounds, boundary kinds and
 * metric (bitwise), i.e. arrays on one are arrays on the other. */
BERG_API int berg_space_equal(const berg_space *a, const berg_space *b);

/* Queries: each copies d (or d*d) values into the caller's array. */
BERG_API berg_status berg_space_shape(const berg_space *space, size_t *n);
BERG_API berg_status berg_space_bounds(const berg_space *space, double *lower, double *upper);
BERG_API berg_status berg_space_boundaries(const berg_space *space, berg_boundary *bc);
/* cell widths h_a */
BERG_API berg_status berg_space_spacing(const berg_space *space, double *h);
/* g and g^{-1}, d*d row-major */
BERG_API berg_status berg_space_metric(const berg_space *space, double *g);
BERG_API berg_status berg_space_inverse_metric(const berg_space *space, double *ginv);
/* sqrt(det g) */
BERG_API berg_status berg_space_volume_factor(const berg_space *space, double *sqrt_det_g);
/* cell weight w = sqrt(det g) prod h_a */
BERG_API berg_status berg_space_cell_weight(const berg_space *space, double *w);
/* total volume sqrt(det g) prod (hi_a - lo_a) */
BERG_API berg_status berg_space_volume(const berg_space *space, double *volume);
/* the n_axis cell-centre coordinates of axis (0-based) */
BERG_API berg_status berg_space_coordinates(const berg_space *space, int axis, double *x);

/* *out = integral of f over S = w * sum_i f_i (pairwise summation).
 * f must be finite. */
BERG_API berg_status berg_space_integrate(const berg_space *space, const double *f, double *out);

/* Divide p in place by its integral so that it integrates to one. p must be
 * finite and >= 0 with a positive finite integral, else BERG_ERR_NONFINITE /
 * BERG_ERR_NEGATIVE / BERG_ERR_MASS and p is unchanged. mass (may be NULL)
 * receives the integral that p was divided by. */
BERG_API berg_status berg_space_normalize(const berg_space *space, double *p, double *mass);

/* Clear FFT round-off: every value v with -rtol * max|p| <= v < 0 becomes 0
 * (spectral propagators leave such values, of order 1e-16 of the peak, in
 * the tails of a density resolved on the grid, and every density function
 * refuses negative values). A density with structure at the cell scale
 * keeps larger undershoots that are not round-off (a point mass under the
 * default heat kernel: up to 2.6% of the peak, above 1e-12 of it for
 * t < 2.5 h^2). A value below -rtol * max|p| is real negativity, not round-off:
 * BERG_ERR_NEGATIVE naming its index, and p is unchanged. rtol must be in
 * (0, 1) (1e-12 is a good choice after berg_heat_apply). clipped (may be
 * NULL) receives the mass removed, w * sum |v| over the cleared values.
 * p must be finite. */
BERG_API berg_status berg_space_clip_roundoff(const berg_space *space, double *p, double rtol,
                                              double *clipped);

/* l2 inner product G_l2(f1, f2) = integral f1 f2 Vol_S (seed eq 15). */
BERG_API berg_status berg_space_inner_l2(const berg_space *space, const double *f1,
                                         const double *f2, double *out);

/* Projection onto the tangent space (eq 13): out = f - (integral f) / volume.
 * in == out is allowed. */
BERG_API berg_status berg_space_project_tangent(const berg_space *space, const double *f,
                                                double *out);

/* Mean E[x_a] (d values) and covariance E[(x_a - m_a)(x_b - m_b)] (d*d,
 * row-major) of a density p, in the box coordinates of the cell centres
 * (also on periodic axes, where they are the moments of the unwrapped box).
 * p must be finite and >= 0 with positive mass; it need not be normalized
 * (the moments are divided by its mass). Either output may be NULL in
 * berg_space_moments. */
BERG_API berg_status berg_space_mean(const berg_space *space, const double *p, double *mean);
BERG_API berg_status berg_space_covariance(const berg_space *space, const double *p, double *cov);
BERG_API berg_status berg_space_moments(const berg_space *space, const double *p, double *mean,
                                        double *cov);

#ifdef __cplusplus
}
#endif

#endif /* BERG_SPACE_H */
