/*
 * lib/metric/func_internal.h - grid stencils shared by the information
 * functionals and the l2 / W2 geometry. Not installed.
 *
 * Faces: axis a has a face between cell i and its + neighbour along a for
 * i = 0 .. n_a - 2, plus the wrap face from cell n_a - 1 to cell 0 on a
 * periodic axis. Per-face arrays have berg_space_size() entries per axis,
 * indexed by the lower cell (entries of non-faces are ignored and set to 0).
 * Boundary faces of Neumann and Dirichlet axes carry no flux in the
 * mobility-weighted operators (p is zero outside a Dirichlet wall, so its
 * mobility vanishes there); the plain Laplacian of a Dirichlet axis sees a
 * zero value outside (ghost cell = -f at the wall).
 */
#ifndef BERG_METRIC_FUNC_INTERNAL_H
#define BERG_METRIC_FUNC_INTERNAL_H

#include <math.h>

#include "space/internal.h"

/* relative tolerance |mass - 1| within which a density counts as normalized */
#define BERG__MASS_TOL 1e-9

/* The "density" argument kind: p is finite, >= 0 and has mass w sum p = 1
 * within BERG__MASS_TOL (BERG_ERR_MASS naming fn and name otherwise). */
berg_status berg__check_normalized(const berg_space *space, const double *p, const char *fn,
                                   const char *name);

/* The public-boundary checks of a functional: space non-NULL, p (and q
 * when q_name is not NULL) a density, out non-NULL. */
berg_status berg__check_functional_args(const berg_space *space, const double *p,
                                        const double *q, const char *q_name, const void *out,
                                        const char *out_name, const char *fn);
/* The same for functionals of a density p and a finite potential V. */
berg_status berg__check_potential_args(const berg_space *space, const double *p, const double *V,
                                       const void *out, const char *out_name, const char *fn);

/* BERG_ERR_DOMAIN unless the n values of a are finite: the message names
 * fn, name[i], the inputs it was computed from and the space's cell widths
 * (a result that overflows on an extreme box is refused, not returned). */
berg_status berg__check_result(const berg_space *space, const double *a, size_t n,
                               const char *fn, const char *name, const char *inputs);

/* A scalar integral v = raw * scale that must be right in the double range:
 * BERG_ERR_DOMAIN when v is not finite, or when raw != 0 but v underflows
 * below DBL_MIN (no significant digits left); BERG_OK otherwise. */
berg_status berg__check_scaled(const berg_space *space, double v, double raw, const char *fn,
                               const char *name);

/* Record the last error again as "fn: context: <last message>" (context may
 * be NULL) and return st: how a composite function names itself in the
 * failure of a call it made. */
berg_status berg__prefix_last_error(berg_status st, const char *fn, const char *context);

/* BERG_ERR_UNSUPPORTED unless g^{-1} is diagonal (the face stencils have no
 * mixed-derivative terms); the message names the first coupled axes. */
berg_status berg__require_diagonal_metric(const berg_space *space, const char *fn);

/* BERG_ERR_DOMAIN unless every a[i] > 0 (names the first bad index): for
 * arrays whose logarithm enters. */
berg_status berg__check_positive(const double *a, size_t n, const char *fn, const char *name);

/* Logarithmic mean (a - b) / (ln a - ln b), with L(a, a) = a and L(0, b) = 0;
 * it makes theta * (ln b - ln a) = b - a, so the W2 gradient of the entropy
 * is the discrete Laplacian exactly. */
double berg__log_mean(double a, double b);

/* out = Delta_h f: the second-order cell-centred Laplacian g^{aa} d_a d_a with
 * the space's boundary kinds (periodic wrap, Neumann zero flux, Dirichlet
 * zero outside). out must not alias f. */
void berg__laplacian(const berg_space *s, const double *f, double *out);

/* The log mean from the values and their logarithms (one log per cell
 * instead of one per face): (b - a) / (lb - la), with the series
 * sqrt(ab) (1 + x^2/6 + x^4/120), x = (lb - la)/2, when |lb - la| < 1e-3. */
static inline double berg__log_mean_from_logs(double a, double b, double la, double lb)
{
    if (a <= 0.0 || b <= 0.0)
        return a == b ? a : 0.0;
    double L = lb - la;
    if (fabs(L) < 1e-3) {
        double x2 = 0.25 * L * L;
        return sqrt(a * b) * (1.0 + x2 / 6.0 + x2 * x2 / 120.0);
    }
    return (b - a) / L;
}

/* g^{aa} / h_a^2: the coefficient of a face difference along axis a in the
 * second-order stencils (diagonal metric) */
static inline double berg__axis_coef(const berg_space *s, size_t a)
{
    return s->ginv[a * (size_t)s->ndim + a] / (s->h[a] * s->h[a]);
}

/* mob[a * size + i] = log mean of p over each face of axis a (0 on non-faces)
 * plus floor (>= 0) on real faces. logs (size doubles) is scratch. */
void berg__face_mobility(const berg_space *s, const double *p, double floor, double *mob,
                         double *logs);

/* Sum of EXPR (an expression of the size_t index I) for I < N into RESULT:
 * blocks of 256 terms summed pairwise, blocks combined with Neumaier
 * compensation. */
#define BERG__BLOCK_SUM(N, I, EXPR, RESULT)                                                      \
    do {                                                                                         \
        double buf_[256], sum_ = 0.0, comp_ = 0.0;                                               \
        for (size_t b_ = 0; b_ < (N); b_ += 256) {                                               \
            size_t e_ = (N) - b_ < 256 ? (N) : b_ + 256;                                         \
            for (size_t I = b_; I < e_; I++)                                                     \
                buf_[I - b_] = (EXPR);                                                           \
            berg__neumaier_add(&sum_, &comp_, berg__sum(buf_, e_ - b_));                         \
        }                                                                                        \
        (RESULT) = sum_ + comp_;                                                                 \
    } while (0)

/* out = div(mob g^{-1} grad u) = sum over faces of g^{aa}/h_a^2 mob (u_j - u_i)
 * (symmetric, negative semi-definite, annihilates constants). out must not
 * alias u. */
void berg__div_mobility(const berg_space *s, const double *mob, const double *u, double *out);

/* Run the statements (...) for every face of axis A with lower cell LO and upper cell HI
 * (size_t variables declared by the macro). Inner loop over the contiguous
 * index of the axes after A. */
#define BERG__FOR_FACES(S, A, LO, HI, ...)                                                      \
    do {                                                                                         \
        const size_t st_ = (S)->stride[A], n_ = (S)->n[A];                                       \
        const size_t outer_ = (S)->size / (n_ * st_);                                            \
        const int wrap_ = (S)->bc[A] == BERG_PERIODIC && n_ > 1;                                 \
        for (size_t o_ = 0; o_ < outer_; o_++) {                                                 \
            const size_t base_ = o_ * n_ * st_;                                                  \
            if (st_ == 1) { /* last axis: one contiguous run */                                  \
                for (size_t i_ = base_; i_ + 1 < base_ + n_; i_++) {                             \
                    const size_t LO = i_, HI = i_ + 1;                                           \
                    __VA_ARGS__                                                                  \
                }                                                                                \
            } else {                                                                             \
                for (size_t i_ = 0; i_ + 1 < n_; i_++)                                           \
                    for (size_t j_ = 0; j_ < st_; j_++) {                                        \
                        const size_t LO = base_ + i_ * st_ + j_, HI = LO + st_;                  \
                        __VA_ARGS__                                                              \
                    }                                                                            \
            }                                                                                    \
            if (wrap_)                                                                           \
                for (size_t j_ = 0; j_ < st_; j_++) {                                            \
                    const size_t LO = base_ + (n_ - 1) * st_ + j_, HI = base_ + j_;              \
                    __VA_ARGS__                                                                  \
                }                                                                                \
        }                                                                                        \
    } while (0)

/* Run the statements (...) for each pair of wall cells (FIRST, LAST) of a
 * non-periodic axis A: the first and last cell of every grid line along A. */
#define BERG__FOR_WALLS(S, A, FIRST, LAST, ...)                                                 \
    do {                                                                                         \
        const size_t wst_ = (S)->stride[A], wn_ = (S)->n[A];                                     \
        const size_t wouter_ = (S)->size / (wn_ * wst_);                                         \
        for (size_t wo_ = 0; wo_ < wouter_; wo_++)                                               \
            for (size_t wj_ = 0; wj_ < wst_; wj_++) {                                            \
                const size_t FIRST = wo_ * wn_ * wst_ + wj_, LAST = FIRST + (wn_ - 1) * wst_;    \
                __VA_ARGS__                                                                      \
            }                                                                                    \
    } while (0)

/* the rank of a space as a size_t loop bound */
#define BERG__RANK(S) ((size_t)(S)->ndim)

#endif
