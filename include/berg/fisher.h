/**
 * @file berg/fisher.h
 * @brief Fisher metrics: from score samples, from noise densities on a grid,
 * from exponential families and parametric models, their pull-backs,
 * spectra, posterior correlation functions and Fisher-Rao distances.
 *
 * Conventions. Matrices are row-major d x d arrays of doubles. Every
 * function validates all of its input before writing any output: on failure
 * nothing the caller owns changes and berg_last_error() names the function,
 * the argument and the first bad index (or, for a matrix that is not
 * positive definite, its offending eigenvalue). Symmetric input matrices
 * must be symmetric to a relative 1e-10 of their largest entry
 * (|A_ij - A_ji| <= 1e-10 max |A|); only the lower triangle is then used.
 * Outputs that are symmetric are returned exactly symmetric. A result that
 * would overflow for extreme but finite input is refused with
 * BERG_ERR_NONFINITE (again before anything is written).
 *
 * Naming: a Fisher-metric argument is called Imat in the prototypes (I is a
 * macro of <complex.h>, which lapacke.h and OpenBLAS's cblas.h include);
 * the comments call it I.
 *
 * Argument kinds (docs/conventions.md): a "measure" is finite, >= 0, with
 * positive finite mass (normalized internally).
 *
 * Callbacks return int (0 success, anything else is a failure that aborts
 * the call with BERG_ERR_CALLBACK) and take void *user_data last. A
 * callback that returns 0 but writes a NaN or an infinity (where none is
 * allowed) also gives BERG_ERR_CALLBACK; output arrays are filled with NaN
 * before each call, so an entry a callback forgets to write is reported
 * the same way (with its index).
 *
 * Thread safety: every function here may be called from several threads at
 * once (on distinct outputs). A berg_fisher_acc is mutable: one thread at a
 * time may add to it; give each thread its own and merge them. Its const
 * queries (count, dim, result) may run concurrently with each other.
 */
#ifndef BERG_FISHER_H
#define BERG_FISHER_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- callbacks ------------------------------------------------------------ */

/**
 * @brief A forward model y = G(u): the one forward-model type of libberg
 * (berg_fisher_jacobian, the location model of berg/bayes.h).
 *
 * @param[in]  du         number of parameters.
 * @param[in]  u          du parameter values.
 * @param[in]  dy         number of outputs.
 * @param[out] y          dy values of G(u); every entry must be written and
 *                        finite.
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_forward_fn)(size_t du, const double *u, size_t dy, double *y, void *user_data);

/**
 * @brief The Jacobian of a forward model: J[i*du + k] = d G_i / d u_k.
 *
 * @param[in]  du         number of parameters.
 * @param[in]  u          du parameter values.
 * @param[in]  dy         number of outputs.
 * @param[out] J          dy x du row-major Jacobian; every entry must be
 *                        written and finite.
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_jacobian_fn)(size_t du, const double *u, size_t dy, double *J,
                                void *user_data);

/**
 * @brief The log-likelihood of a parametric model on a grid of data values:
 * logp[j] = ln p(y_j | u) for every grid point y_j of space.
 *
 * The grid points are in C order; their coordinates come from
 * berg_space_coordinates(). -inf is allowed (p = 0 there); NaN, +inf and
 * values >= 700 (exp overflows) are not.
 *
 * @param[in]  npar       number of parameters.
 * @param[in]  u          npar parameter values.
 * @param[in]  space      the data space (its berg_space_size() points).
 * @param[out] logp       berg_space_size(space) values of ln p(y_j | u).
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_grid_loglik_fn)(size_t npar, const double *u, const berg_space *space,
                                   double *logp, void *user_data);

/**
 * @brief Log-likelihood and score of a parametric model on a grid of data
 * values: as berg_grid_loglik_fn, and also
 * score[k*size + j] = d ln p(y_j | u) / d u_k.
 *
 * Where logp is -inf the score is ignored (it need not be finite).
 *
 * @param[in]  npar       number of parameters.
 * @param[in]  u          npar parameter values.
 * @param[in]  space      the data space (size = berg_space_size(space) points).
 * @param[out] logp       size values of ln p(y_j | u).
 * @param[out] score      npar x size row-major values of the score.
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_grid_score_fn)(size_t npar, const double *u, const berg_space *space,
                                  double *logp, double *score, void *user_data);

/**
 * @brief A scalar metric of a one-parameter family: value = I(theta) >= 0,
 * the Fisher metric at theta.
 *
 * @param[in]  theta      the parameter.
 * @param[out] value      I(theta), finite and >= 0.
 * @param[in]  user_data  the pointer given to the calling function.
 * @return 0 on success, non-zero on failure.
 * @since 1.0
 */
typedef int (*berg_scalar_metric_fn)(double theta, double *value, void *user_data);

/* ---- from samples of the score -------------------------------------------- */

/**
 * @brief The Fisher metric estimated from samples of the score,
 * I = (1/N) sum_t s_t s_t^T.
 *
 * Row t of scores is the score s_t = grad_u ln p(y_t | u) of sample t.
 * The rows are cut into a fixed number of ranges that depends on N and d
 * only (up to 32 ranges of at least max(8192, 8 d) rows), one CBLAS dsyrk
 * per range, and the range sums are added with Neumaier compensation; the
 * ranges run on berg_threads() threads (berg_set_threads()), so the result
 * is the same, bitwise, on any number of threads. While more than one
 * runs, OpenBLAS is held at one thread (process-wide: docs/performance.md).
 *
 * @param[in]  nsamples  number of samples N, >= 1.
 * @param[in]  dim       dimension d of the scores, >= 1.
 * @param[in]  scores    N x d row-major finite scores.
 * @param[out] Imat      d x d estimate of I (exactly symmetric).
 * @return BERG_OK;
 *   BERG_ERR_NULL when scores or Imat is NULL;
 *   BERG_ERR_SIZE when N or d is 0 or N x d overflows;
 *   BERG_ERR_NONFINITE for a non-finite score (naming its row and column)
 *   or when the sum overflows.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_from_scores(size_t nsamples, size_t dim, const double *scores,
                                             double *Imat);

/**
 * @brief An accumulating estimator of the Fisher metric: batches of scores
 * in, the estimate and its standard errors out, so that 10^8 samples never
 * sit in memory at once (opaque; one thread at a time may modify it).
 * @since 1.0
 */
typedef struct berg_fisher_acc berg_fisher_acc;

/**
 * @brief A new, empty accumulator for d-dimensional scores.
 *
 * With BERG_FISHER_ACC_NO_STDERR the second moments are not tracked (half
 * the work) and berg_fisher_acc_result() refuses a non-NULL se.
 *
 * @param[out] out    the new accumulator; untouched on failure. Free with
 *                    berg_fisher_acc_destroy().
 * @param[in]  dim    dimension d of the scores, >= 1.
 * @param[in]  flags  0 or BERG_FISHER_ACC_NO_STDERR.
 * @return BERG_OK;
 *   BERG_ERR_NULL when out is NULL;
 *   BERG_ERR_SIZE when d is 0 or too large;
 *   BERG_ERR_DOMAIN for a flag other than BERG_FISHER_ACC_NO_STDERR (the
 *   message names it);
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_acc_create(berg_fisher_acc **out, size_t dim, unsigned flags);

/**
 * @brief Add a batch of scores to the accumulator.
 *
 * nsamples = 0 is allowed and does nothing. Not to be called concurrently
 * with other calls on the same accumulator.
 *
 * @param[in,out] acc       the accumulator.
 * @param[in]     nsamples  number of samples in the batch.
 * @param[in]     scores    nsamples x d row-major finite scores.
 * @return BERG_OK;
 *   BERG_ERR_NULL when acc or scores is NULL;
 *   BERG_ERR_SIZE when the batch or the sample count overflows;
 *   BERG_ERR_NONFINITE for a non-finite score, or scores whose squares
 *   overflow (the accumulator is then unchanged).
 * @since 1.0
 */
BERG_API berg_status berg_fisher_acc_add(berg_fisher_acc *acc, size_t nsamples,
                                         const double *scores);

/**
 * @brief The threads berg_fisher_acc_add() uses (configuration).
 *
 * A batch is cut into fixed ranges as in berg_fisher_from_scores() (the
 * result does not depend on the thread count); while more than one thread
 * runs, OpenBLAS is held at one thread. Not to be called concurrently with
 * other calls on the same accumulator.
 *
 * @param[in,out] acc       the accumulator.
 * @param[in]     nthreads  0 (the default: follow berg_set_threads()) or 1
 *                          to 1024.
 * @return BERG_OK; BERG_ERR_NULL when acc is NULL; BERG_ERR_DOMAIN when
 *   nthreads is above 1024 (the setting is unchanged).
 * @since 1.1
 */
BERG_API berg_status berg_fisher_acc_set_threads(berg_fisher_acc *acc, size_t nthreads);

/**
 * @brief acc += other, for example to combine the accumulators of several
 * threads.
 *
 * @param[in,out] acc    the accumulator that receives the samples.
 * @param[in]     other  an accumulator with the same dimension and flags;
 *                       unchanged, and not acc itself.
 * @return BERG_OK;
 *   BERG_ERR_NULL when acc or other is NULL;
 *   BERG_ERR_DOMAIN when other is acc;
 *   BERG_ERR_MISMATCH when the dimensions or flags differ;
 *   BERG_ERR_SIZE when the sample count overflows.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_acc_merge(berg_fisher_acc *acc, const berg_fisher_acc *other);

/**
 * @brief Forget every sample.
 *
 * @param[in,out] acc  the accumulator.
 * @return BERG_OK; BERG_ERR_NULL when acc is NULL.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_acc_reset(berg_fisher_acc *acc);

/**
 * @brief Number of samples added so far.
 *
 * @param[in] acc  the accumulator.
 * @return the count N; 0 if acc is NULL.
 * @since 1.0
 */
BERG_API size_t berg_fisher_acc_count(const berg_fisher_acc *acc);

/**
 * @brief Dimension d of the accumulator's scores.
 *
 * @param[in] acc  the accumulator.
 * @return d; 0 if acc is NULL.
 * @since 1.0
 */
BERG_API size_t berg_fisher_acc_dim(const berg_fisher_acc *acc);

/**
 * @brief The estimate I = (1/N) sum s s^T and the standard error of each
 * of its entries.
 *
 * se_ij = sqrt(v_ij / N) with v_ij the sample variance (divisor N - 1) of
 * s_i s_j. The sums are Neumaier-compensated.
 *
 * @param[in]  acc   the accumulator, with N >= 1 samples (N >= 2 for se).
 * @param[out] Imat  d x d estimate (exactly symmetric), or NULL when only
 *                   se is wanted.
 * @param[out] se    d x d standard errors, or NULL.
 * @return BERG_OK;
 *   BERG_ERR_NULL when acc is NULL or Imat and se are both NULL;
 *   BERG_ERR_SIZE when N = 0, or N = 1 and se is not NULL;
 *   BERG_ERR_UNSUPPORTED when se is not NULL and acc was created with
 *   BERG_FISHER_ACC_NO_STDERR.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_acc_result(const berg_fisher_acc *acc, double *Imat, double *se);

/**
 * @brief Free an accumulator.
 *
 * @param[in] acc  the accumulator; NULL is a no-op.
 * @since 1.0
 */
BERG_API void berg_fisher_acc_destroy(berg_fisher_acc *acc);

/* ---- location families on a grid ------------------------------------------ */

/**
 * @brief Fisher metric of the location family p0(y - theta) of a noise
 * measure p0 on space.
 *
 *   I_ab = integral (d_a p0)(d_b p0) / p0 Vol_S
 *        = 4 integral (d_a r)(d_b r) Vol_S,   r = sqrt(p0),
 *
 * computed from differences of r = sqrt(p0), which has no 0/0 where p0
 * vanishes. Diagonal entries: along each grid line the difference of r
 * over the interval between two cell centres is the exact mean of d_a r
 * there; the variance of d_a r inside the interval, which a sum of squared
 * differences misses, is estimated from the neighbouring differences, with
 * kinks (Laplace, edges of a compact support) recognised and accounted for:
 * fourth order for smooth densities, second order across kinks wherever
 * they fall. Off-diagonal entries: fourth-order central differences at the
 * cell centres. p0 is normalized internally: the metric of c p0 is that of
 * p0 for every c > 0, subnormal values included (r is formed as
 * sqrt(p0 / sum p0) and the cell widths enter last, I_ab = 4 S_ab /
 * (h_a h_b) with S_ab the sums in cell units). Boundaries: periodic axes wrap; on a Neumann axis r is
 * reflected evenly (no flux through the wall); on a Dirichlet axis r is
 * reflected oddly (p0 = 0 on the wall). The space's metric enters through
 * Vol_S only: I is in the box coordinates.
 *
 * @param[in]  space  the data space, of rank d.
 * @param[in]  p0     measure: berg_space_size(space) values, finite, >= 0,
 *                    with positive finite mass.
 * @param[out] Imat   d x d Fisher metric (exactly symmetric).
 * @return BERG_OK;
 *   BERG_ERR_NULL when space, p0 or Imat is NULL;
 *   BERG_ERR_NONFINITE for a non-finite value of p0;
 *   BERG_ERR_NEGATIVE for a negative value (with its index);
 *   BERG_ERR_MASS when p0 has zero or infinite mass;
 *   BERG_ERR_DOMAIN when a non-zero diagonal entry over- or underflows the
 *   normal double range (cells so narrow or wide that 1/h^2 does; the
 *   message names the entry), Imat untouched;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_location(const berg_space *space, const double *p0, double *Imat);

/* ---- exponential families ---------------------------------------------------- */

/**
 * @brief Log-partition, mean parameters, Fisher metric and density of an
 * exponential family p(y | u) = h(y) exp(u^i q_i(y) - psi(u)) on space.
 *
 *   psi(u) = ln integral h e^{u.q} Vol_S   (log-sum-exp)
 *   mean_i = E[q_i] = d psi / d u_i
 *   I_ij   = d^2 psi / du_i du_j = Cov(q_i, q_j)
 *
 * @param[in]  space  the data space (size = berg_space_size(space) points).
 * @param[in]  k      number of sufficient statistics, >= 1.
 * @param[in]  q      k x size row-major finite statistics,
 *                    q[i*size + j] = q_i(y_j).
 * @param[in]  log_h  size values of the log base measure ln h (finite or
 *                    -inf, not -inf everywhere), or NULL for h = 1.
 * @param[in]  u      k finite natural parameters.
 * @param[out] psi    the log-partition psi(u), or NULL.
 * @param[out] mean   k mean parameters, or NULL.
 * @param[out] Imat   k x k Fisher metric (exactly symmetric), or NULL.
 * @param[out] p      the normalized density on the grid (size values), or NULL.
 * @return BERG_OK;
 *   BERG_ERR_NULL when space, q or u is NULL;
 *   BERG_ERR_SIZE when k is 0 or the sizes overflow;
 *   BERG_ERR_NONFINITE for a non-finite q, u or log_h (NaN, +inf) or a
 *   result that overflows;
 *   BERG_ERR_MASS when log_h is -inf everywhere;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_expfam(const berg_space *space, size_t k, const double *q,
                                        const double *log_h, const double *u, double *psi,
                                        double *mean, double *Imat, double *p);

/* ---- parametric models ------------------------------------------------------- */

/**
 * @brief Fisher metric of a parametric model at u by quadrature over the
 * data space: I = integral p s s^T Vol_S.
 *
 * p = exp(logp) as the callback gives it (it should be normalized on the
 * grid: the grid must hold the model's mass). The score s is taken from
 * score_fn when it is not NULL; otherwise from loglik by the fourth-order
 * central difference
 *
 *   s_k = [-l(u + 2h e_k) + 8 l(u + h e_k) - 8 l(u - h e_k) + l(u - 2h e_k)] / (12 h)
 *
 * with h = 1e-3 max(|u_k|, 1) (truncation error O(h^4), rounding
 * ~1e-16 / h relative): 4 npar + 1 calls of loglik. Exactly one of loglik
 * and score_fn must be non-NULL.
 *
 * @param[in]  space      the data space.
 * @param[in]  npar       number of parameters, >= 1.
 * @param[in]  u          npar finite parameter values.
 * @param[out] Imat       npar x npar Fisher metric (exactly symmetric).
 * @param[in]  loglik     the log-likelihood (scores by finite differences),
 *                        or NULL.
 * @param[in]  score_fn   the log-likelihood and score, or NULL.
 * @param[in]  user_data  passed to the callback.
 * @return BERG_OK;
 *   BERG_ERR_NULL when space, u or Imat is NULL or both callbacks are NULL;
 *   BERG_ERR_DOMAIN when both callbacks are given;
 *   BERG_ERR_SIZE when npar is 0;
 *   BERG_ERR_NONFINITE for a non-finite u or a result that overflows;
 *   BERG_ERR_CALLBACK when a callback failed, wrote NaN/+inf (or a log
 *   value >= 700), or a finite difference stepped into -inf where ln p was
 *   finite;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_model(const berg_space *space, size_t npar, const double *u,
                                       double *Imat, berg_grid_loglik_fn loglik,
                                       berg_grid_score_fn score_fn, void *user_data);

/* ---- location model Y = G(U) + N ---------------------------------------------- */

/**
 * @brief Jacobian J = dG/du of a forward model at u.
 *
 * From jac when it is not NULL, else by the fourth-order central
 * difference of berg_fisher_model() with h = 1e-3 max(|u_k|, 1) (4 du
 * calls of G). Exactly one of G and jac must be non-NULL.
 *
 * @param[in]  du         number of parameters, >= 1.
 * @param[in]  dy         number of outputs, >= 1.
 * @param[in]  u          du finite parameter values.
 * @param[out] J          dy x du row-major Jacobian.
 * @param[in]  G          the forward model, or NULL.
 * @param[in]  jac        its Jacobian, or NULL.
 * @param[in]  user_data  passed to the callback.
 * @return BERG_OK;
 *   BERG_ERR_NULL when u or J is NULL or both callbacks are NULL;
 *   BERG_ERR_DOMAIN when both callbacks are given, when a u[k] is so large
 *   that the difference stencil u[k] +- 2h leaves the double range, or when
 *   an entry of J overflows (differences are formed in halves, so values of
 *   G near DBL_MAX do not overflow on their own);
 *   BERG_ERR_SIZE when du or dy is 0 or dy x du overflows;
 *   BERG_ERR_NONFINITE for a non-finite u;
 *   BERG_ERR_CALLBACK when a callback failed or wrote a non-finite value;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_jacobian(size_t du, size_t dy, const double *u, double *J,
                                          berg_forward_fn G, berg_jacobian_fn jac,
                                          void *user_data);

/**
 * @brief Parameter-space metric of the location model Y = G(U) + N:
 * I = J^T I_N J.
 *
 * @param[in]  dy      number of outputs, >= 1.
 * @param[in]  du      number of parameters, >= 1.
 * @param[in]  J       dy x du row-major finite Jacobian.
 * @param[in]  Inoise  dy x dy symmetric noise metric I_N (for example from
 *                     berg_fisher_location()).
 * @param[out] Imat    du x du parameter metric (exactly symmetric).
 * @return BERG_OK;
 *   BERG_ERR_NULL when J, Inoise or Imat is NULL;
 *   BERG_ERR_SIZE when dy or du is 0 or too large;
 *   BERG_ERR_NONFINITE for a non-finite input or a result that overflows;
 *   BERG_ERR_NOT_SPD when Inoise is not symmetric;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_parameter_metric(size_t dy, size_t du, const double *J,
                                                  const double *Inoise, double *Imat);

/**
 * @brief Data-space inverse metric K = J I^{-1} J^T by Cholesky
 * (dpotrf, dpotrs).
 *
 * An I that is indefinite, singular or ill-conditioned beyond working
 * precision (reciprocal condition number < du * DBL_EPSILON) is refused
 * with its smallest eigenvalue in the message.
 *
 * @param[in]  dy    number of outputs, >= 1.
 * @param[in]  du    number of parameters, >= 1.
 * @param[in]  J     dy x du row-major finite Jacobian.
 * @param[in]  Imat  du x du symmetric positive definite parameter metric.
 * @param[out] K     dy x dy result (exactly symmetric).
 * @return BERG_OK;
 *   BERG_ERR_NULL when J, Imat or K is NULL;
 *   BERG_ERR_SIZE when dy or du is 0 or too large;
 *   BERG_ERR_NONFINITE for a non-finite input or a result that overflows;
 *   BERG_ERR_NOT_SPD when I is not symmetric, not positive definite or
 *   ill-conditioned;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_pullback(size_t dy, size_t du, const double *J, const double *Imat,
                                          double *K);

/* ---- linear algebra of a metric --------------------------------------------- */

/**
 * @brief The inverse metric I^{-1} by Cholesky (dpotrf, dpotri).
 *
 * @param[in]  dim   dimension d, >= 1.
 * @param[in]  Imat  d x d symmetric positive definite metric.
 * @param[out] Iinv  d x d inverse (exactly symmetric); may be Imat itself.
 * @return BERG_OK;
 *   BERG_ERR_NULL when Imat or Iinv is NULL;
 *   BERG_ERR_SIZE when d is 0 or too large;
 *   BERG_ERR_NONFINITE for a non-finite entry or an inverse that overflows;
 *   BERG_ERR_NOT_SPD as in berg_fisher_pullback();
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_inverse(size_t dim, const double *Imat, double *Iinv);

/**
 * @brief Eigen-decomposition of a symmetric metric: the "sloppy" spectrum.
 *
 * I = V diag(evals) V^T (LAPACK dsyevd). I need not be definite.
 *
 * @param[in]  dim    dimension d, >= 1.
 * @param[in]  Imat   d x d symmetric matrix.
 * @param[out] evals  the d eigenvalues in DECREASING order (stiffest
 *                    direction first).
 * @param[out] evecs  d x d eigenvectors as COLUMNS (evecs[i*d + k] =
 *                    component i of eigenvector k), each of unit length with
 *                    its largest component positive; or NULL.
 * @return BERG_OK;
 *   BERG_ERR_NULL when Imat or evals is NULL;
 *   BERG_ERR_SIZE when d is 0 or too large;
 *   BERG_ERR_NONFINITE for a non-finite entry;
 *   BERG_ERR_NOT_SPD when Imat is not symmetric;
 *   BERG_ERR_NOMEM;
 *   BERG_ERR_INTERNAL when LAPACK does not converge.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_eigen(size_t dim, const double *Imat, double *evals,
                                       double *evecs);

/**
 * @brief 2-norm condition number lambda_max / lambda_min of a symmetric
 * positive definite metric.
 *
 * @param[in]  dim   dimension d, >= 1.
 * @param[in]  Imat  d x d symmetric matrix.
 * @param[out] cond  the condition number.
 * @return BERG_OK;
 *   BERG_ERR_NULL when Imat or cond is NULL;
 *   BERG_ERR_SIZE when d is 0 or too large;
 *   BERG_ERR_NONFINITE for a non-finite entry;
 *   BERG_ERR_NOT_SPD when Imat is not symmetric or lambda_min <= 0 (the
 *   message gives it);
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_condition(size_t dim, const double *Imat, double *cond);

/* ---- posterior correlation functions -------------------------------------- */

/**
 * @brief Posterior correlation function of order m: the Wick/Isserlis
 * moment E[prod_{j=1}^{m} (U - u*)_{idx[j]}] of the large-T posterior
 * N(u*, Iinv / T).
 *
 *   E = T^{-m/2} sum over the (m-1)!! pairings of {1..m} of
 *       prod_{(r,s)} Iinv[idx[r]][idx[s]]   (m even; 0 for m odd, 1 for m = 0)
 *
 * computed without enumerating pairings, by the Stein recursion over the
 * index multiplicities k (E[x_a x^k] = sum_b Iinv_ab k_b E[x^(k - e_b)]):
 * prod (k_c + 1) states, at most 2^22 (32 MiB of scratch): every order
 * <= 22 fits, and any order with few distinct indices (x^m takes m + 1
 * states).
 *
 * @param[in]  dim    dimension d, >= 1.
 * @param[in]  T      the sample count (inverse temperature), finite and > 0.
 * @param[in]  order  m, the number of indices.
 * @param[in]  Iinv   d x d symmetric inverse Fisher metric (it need not be
 *                    definite).
 * @param[in]  idx    m indices in [0, d) (may be NULL when m = 0).
 * @param[out] out    the moment.
 * @return BERG_OK;
 *   BERG_ERR_NULL when Iinv or out is NULL, or idx is NULL with m > 0;
 *   BERG_ERR_SIZE when d is 0 or the recursion needs more than 2^22 states;
 *   BERG_ERR_NONFINITE for a non-finite Iinv or a moment that overflows;
 *   BERG_ERR_DOMAIN when T is not finite and > 0;
 *   BERG_ERR_OUT_OF_RANGE for an index >= d (naming it);
 *   BERG_ERR_NOT_SPD when Iinv is not symmetric;
 *   BERG_ERR_NOMEM.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_wick(size_t dim, double T, size_t order, const double *Iinv,
                                      const size_t *idx, double *out);

/* ---- Fisher-Rao distances ---------------------------------------------------- */

/**
 * @brief Fisher-Rao distance between N(mu1, sigma1^2) and N(mu2, sigma2^2),
 * metric (dmu^2 + 2 dsigma^2) / sigma^2.
 *
 *   d = 2 sqrt(2) asinh( sqrt( ((mu1-mu2)^2/2 + (sigma1-sigma2)^2) / (4 sigma1 sigma2) ) )
 *
 * (= sqrt 2 arccosh(1 + ...), written without cancellation for close
 * points, and without squares: any finite input, a sigma ratio of 1e600
 * included, gives the finite distance).
 *
 * @param[in]  mu1     mean of the first Gaussian, finite.
 * @param[in]  sigma1  its standard deviation, finite and > 0.
 * @param[in]  mu2     mean of the second Gaussian, finite.
 * @param[in]  sigma2  its standard deviation, finite and > 0.
 * @param[out] dist    the distance.
 * @return BERG_OK;
 *   BERG_ERR_NULL when dist is NULL;
 *   BERG_ERR_NONFINITE for a non-finite mean;
 *   BERG_ERR_DOMAIN for a sigma that is not finite and > 0.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_rao_gaussian(double mu1, double sigma1, double mu2,
                                              double sigma2, double *dist);

/**
 * @brief Fisher-Rao distance |integral_a^b sqrt(I(theta)) dtheta| between
 * two members of a one-parameter family.
 *
 * By tanh-sinh quadrature (the endpoints are never evaluated, so integrable
 * singularities there, as for Bernoulli at p = 0, are fine), refined until
 * two levels agree to a relative 1e-12 (at most 12 levels). Nodes closer to
 * an endpoint than the spacing of doubles there are moved to the nearest
 * interior double, so a singularity like (b - theta)^(-1/2) at an endpoint
 * b of magnitude ~1 is resolved to about sqrt(ulp(b)) ~ 1e-8 absolute, and
 * the levels need only agree to 1e-7 then (at an endpoint 0 the accuracy
 * is full: put the singular end at 0 if you can).
 *
 * @param[in]  a          one end, finite.
 * @param[in]  b          the other end, finite.
 * @param[out] dist       the distance (>= 0).
 * @param[in]  metric     the scalar metric I(theta).
 * @param[in]  user_data  passed to metric.
 * @return BERG_OK;
 *   BERG_ERR_NULL when dist or metric is NULL;
 *   BERG_ERR_NONFINITE for a non-finite a or b;
 *   BERG_ERR_CALLBACK when metric failed or wrote NaN or an infinity;
 *   BERG_ERR_DOMAIN when metric wrote a negative value;
 *   BERG_ERR_NO_CONVERGENCE when 12 levels do not agree.
 * @since 1.0
 */
BERG_API berg_status berg_fisher_rao_distance(double a, double b, double *dist,
                                              berg_scalar_metric_fn metric, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* BERG_FISHER_H */
