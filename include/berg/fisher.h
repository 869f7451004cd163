/*
 * berg/fisher.h - Fisher metrics: from score samples, from noise densities
 * on a grid, from exponential families and parametric models, their
 * pull-backs, spectra, posterior correlation functions and Fisher-Rao
 * distances (seed eq 5, 41-43, 55-56, table p.33). See docs/fisher.md.
 *
 * Conventions. Matrices are row-major d x d arrays of doubles. Every
 * function validates all of its input before writing any output: on failure
 * nothing the caller owns changes and berg_last_error() names the function,
 * the argument and the first bad index (or, for a matrix that is not
 * positive definite, its offending eigenvalue). Symmetric input matrices
 * must be symmetric to a relative 1e-10 of their largest entry; only the
 * lower triangle is then used. Outputs that are symmetric are returned
 * exactly symmetric. A result that would overflow for extreme but finite
 * input is refused with BERG_ERR_NONFINITE (again before anything is
 * written).
 *
 * Naming: a Fisher-metric argument is called Imat in the prototypes (I is a
 * macro of <complex.h>, which lapacke.h and OpenBLAS's cblas.h include);
 * the comments call it I.
 *
 * Callbacks follow SUNDIALS: they return int (0 success, anything else is a
 * failure that aborts the call with BERG_ERR_CALLBACK) and take
 * void *user_data last. A callback that returns 0 but writes a NaN or an
 * infinity also gives BERG_ERR_CALLBACK; output arrays are filled with NaN
 * before each call, so an entry a callback forgets to write is reported
 * the same way (with its index).
 *
 * Threads: every function here may be called from several threads at once
 * (on distinct outputs). A berg_fisher_acc may be used by one thread at a
 * time; give each thread its own and merge them.
 */
#ifndef BERG_FISHER_H
#define BERG_FISHER_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- from samples of the score ------------------------------------------ */

/*
 * I = (1/N) sum_t s_t s_t^T from the N x d row-major score matrix
 * (row t is the score s_t = grad_u ln p(y_t | u) of sample t), with one
 * CBLAS dsyrk. I is d x d. N >= 1 and d >= 1 (BERG_ERR_SIZE otherwise);
 * a non-finite score is BERG_ERR_NONFINITE naming its row and column.
 */
BERG_API berg_status berg_fisher_from_scores(size_t nsamples, size_t dim, const double *scores,
                                             double *Imat);

/* Accumulating estimator: batches of scores in, the Fisher estimate and its
 * standard errors out, so that 10^8 samples never sit in memory at once. */
typedef struct berg_fisher_acc berg_fisher_acc;

/* flags for berg_fisher_acc_create (0 = track standard errors) */

/* A new, empty accumulator for d-dimensional scores. With
 * BERG_FISHER_ACC_NO_STDERR the second moments are not tracked (half the
 * work) and berg_fisher_acc_result refuses a non-NULL se. */
BERG_API berg_status berg_fisher_acc_create(berg_fisher_acc **out, size_t dim, unsigned flags);

/* Add a batch of nsamples scores (nsamples x d row-major). nsamples = 0 is
 * allowed and does nothing. A non-finite score is BERG_ERR_NONFINITE and
 * the accumulator is unchanged. */
BERG_API berg_status berg_fisher_acc_add(berg_fisher_acc *acc, size_t nsamples,
                                         const double *scores);

/* acc += other (for example the accumulators of several threads). Both must
 * have the same dimension and flags (BERG_ERR_MISMATCH). other is unchanged
 * and may not be acc. */
BERG_API berg_status berg_fisher_acc_merge(berg_fisher_acc *acc, const berg_fisher_acc *other);

/* Forget every sample. */
BERG_API berg_status berg_fisher_acc_reset(berg_fisher_acc *acc);

/* Number of samples added so far (0 if acc is NULL). */
BERG_API size_t berg_fisher_acc_count(const berg_fisher_acc *acc);

/* Dimension d (0 if acc is NULL). */
BERG_API size_t berg_fisher_acc_dim(const berg_fisher_acc *acc);

/*
 * The estimate I = (1/N) sum s s^T (d x d) and, if se is not NULL, the
 * standard error of each entry, se_ij = sqrt(v_ij / N) with v_ij the sample
 * variance (divisor N - 1) of s_i s_j. Needs N >= 1 (N >= 2 for se):
 * BERG_ERR_SIZE otherwise. I may be NULL when only se is wanted.
 */
BERG_API berg_status berg_fisher_acc_result(const berg_fisher_acc *acc, double *Imat, double *se);

/* Free an accumulator. NULL is a no-op. */
BERG_API void berg_fisher_acc_destroy(berg_fisher_acc *acc);

/* ---- location families on a grid ---------------------------------------- */

/*
 * Fisher metric of the location family p0(y - theta) of a noise density p0
 * on space (d x d, d = rank of space):
 *
 *   I_ab = integral (d_a p0)(d_b p0) / p0 Vol_S = 4 integral (d_a r)(d_b r) Vol_S,  r = sqrt(p0)
 *
 * computed from differences of r = sqrt(p0), which has no 0/0 where p0
 * vanishes. Diagonal entries: along each grid line the difference of r
 * over the interval between two cell centres is the exact mean of d_a r
 * there; the variance of d_a r inside the interval, which a sum of squared
 * differences misses, is estimated from the neighbouring differences, with
 * kinks (Laplace, edges of a compact support) recognised and accounted for:
 * fourth order for smooth densities, second order across kinks wherever
 * they fall. Off-diagonal entries: fourth-order central differences at the
 * cell centres. p0 need not be normalised: it is divided by its integral
 * w sum p0 (the metric of c p0 is c times that of p0).
 * Boundaries: periodic axes wrap; on a Neumann axis r is reflected evenly
 * (no flux through the wall); on a Dirichlet axis r is reflected oddly
 * (p0 = 0 on the wall). The space's metric enters through Vol_S only: I is
 * in the box coordinates.
 * Errors: BERG_ERR_NULL, BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE (a negative
 * value, with its index), BERG_ERR_MASS (zero mass).
 */
BERG_API berg_status berg_fisher_location(const berg_space *space, const double *p0, double *Imat);

/* ---- exponential families (eq 5) ---------------------------------------- */

/*
 * The exponential family p(y | u) = h(y) exp(u^i q_i(y) - psi(u)) on space,
 * with k sufficient statistics q (k x size row-major, q[i*size + j] =
 * q_i(y_j)), natural parameters u (k values) and the log base measure
 * log_h (size values, NULL for h = 1). Outputs (each may be NULL):
 *   psi   the log-partition ln integral h e^{u.q} Vol_S (log-sum-exp)
 *   mean  the k mean parameters E[q_i] = d psi / d u_i
 *   I     the k x k Fisher metric d^2 psi / du_i du_j = Cov(q_i, q_j)
 *   p     the normalised density on the grid (size values)
 * Errors: BERG_ERR_NULL, BERG_ERR_SIZE (k = 0), BERG_ERR_NONFINITE (q, u,
 * log_h; log_h may be -inf where h = 0 but not everywhere: BERG_ERR_MASS).
 */
BERG_API berg_status berg_fisher_expfam(const berg_space *space, size_t k, const double *q,
                                        const double *log_h, const double *u, double *psi,
                                        double *mean, double *Imat, double *p);

/* ---- parametric models --------------------------------------------------- */

/*
 * Log-likelihood of a parametric model: write ln p(y_j | u) for every grid
 * point y_j of space (size values, C order; coordinates from
 * berg_space_coordinates) into logp. -inf is allowed (p = 0); NaN, +inf
 * and values >= 700 (exp overflows) are not. Return 0 on success.
 */
typedef int (*berg_loglik_fn)(size_t npar, const double *u, const berg_space *space,
                              double *logp, void *user_data);

/*
 * Log-likelihood and score: as berg_loglik_fn, and also the score
 * score[k*size + j] = d ln p(y_j | u) / d u_k (npar x size row-major).
 * Where logp is -inf the score is ignored.
 */
typedef int (*berg_score_fn)(size_t npar, const double *u, const berg_space *space, double *logp,
                             double *score, void *user_data);

/*
 * Fisher metric (npar x npar) of a parametric model at u by quadrature over
 * the data space: I = integral p s s^T Vol_S with p = exp(logp) as the
 * callback gives it (it should be normalised on the grid: the grid must
 * hold the model's mass). The score s is taken from score_fn when it is not
 * NULL; otherwise from loglik by the fourth-order central difference
 *   s_k = [-l(u + 2h e_k) + 8 l(u + h e_k) - 8 l(u - h e_k) + l(u - 2h e_k)] / (12 h)
 * with h = 1e-3 max(|u_k|, 1) (truncation ~h^4 times the fifth derivative
 * of ln p, 2.4e-11 relative for I_sigma,sigma of Normal(0.3, 1.7); rounding
 * ~1e-16 / h ~ 1e-13, relative): 4 npar + 1 calls of loglik.
 * Exactly one of loglik and score_fn must be non-NULL.
 * Errors: BERG_ERR_NULL, BERG_ERR_SIZE (npar = 0), BERG_ERR_NONFINITE (u),
 * BERG_ERR_CALLBACK (a callback failed or wrote NaN/+inf, or a finite
 * difference stepped into -inf where ln p was finite), BERG_ERR_NOMEM.
 */
BERG_API berg_status berg_fisher_model(const berg_space *space, size_t npar, const double *u,
                                       berg_loglik_fn loglik, berg_score_fn score_fn, double *Imat,
                                       void *user_data);

/* ---- location model Y = G(U) + N (eq 38-41) ----------------------------- */

/* Forward model: y = G(u) (dy values). Return 0 on success. */
typedef int (*berg_forward_fn)(size_t du, const double *u, size_t dy, double *y, void *user_data);

/* Jacobian of the forward model: J[i*du + k] = d G_i / d u_k (dy x du). */
typedef int (*berg_jacobian_fn)(size_t du, const double *u, size_t dy, double *J,
                                void *user_data);

/*
 * Jacobian (dy x du row-major) of G at u: from jac when it is not NULL,
 * else by the fourth-order central difference of berg_fisher_model with
 * h = 1e-3 max(|u_k|, 1) (4 du calls of G). Exactly one of G, jac non-NULL.
 */
BERG_API berg_status berg_fisher_jacobian(size_t du, const double *u, size_t dy,
                                          berg_forward_fn G, berg_jacobian_fn jac, double *J,
                                          void *user_data);

/*
 * Parameter-space metric of the location model: I = J^T I_N J (du x du)
 * with J (dy x du) and the noise metric I_N (dy x dy, symmetric, for
 * example from berg_fisher_location). Errors: BERG_ERR_NULL, BERG_ERR_SIZE,
 * BERG_ERR_NONFINITE, BERG_ERR_NOT_SPD (I_N not symmetric).
 */
BERG_API berg_status berg_fisher_parameter_metric(size_t dy, size_t du, const double *J,
                                                  const double *IN, double *Imat);

/*
 * Data-space inverse metric (eq 56): K = J I^{-1} J^T (dy x dy) with
 * J (dy x du) and the parameter metric I (du x du), by Cholesky (dpotrf,
 * dpotrs). An I that is indefinite, singular or ill-conditioned beyond
 * working precision (reciprocal condition number < du * DBL_EPSILON) is
 * refused with BERG_ERR_NOT_SPD and its smallest eigenvalue in the message.
 */
BERG_API berg_status berg_fisher_pullback(size_t dy, size_t du, const double *J, const double *Imat,
                                          double *K);

/* ---- linear algebra of a metric ----------------------------------------- */

/* Iinv = I^{-1} (d x d) by Cholesky (dpotrf, dpotri). I must be symmetric
 * positive definite (BERG_ERR_NOT_SPD as in berg_fisher_pullback).
 * I == Iinv (in place) is allowed. */
BERG_API berg_status berg_fisher_inverse(size_t dim, const double *Imat, double *Iinv);

/*
 * Eigen-decomposition of a symmetric I (dsyevd): the d eigenvalues in
 * DECREASING order (stiffest direction first: the "sloppy" spectrum) and,
 * if evecs is not NULL, the eigenvectors as its COLUMNS (d x d row-major,
 * evecs[i*d + k] = component i of eigenvector k), each of unit length with
 * its largest component positive. I need not be definite.
 */
BERG_API berg_status berg_fisher_eigen(size_t dim, const double *Imat, double *evals,
                                       double *evecs);

/* 2-norm condition number lambda_max / lambda_min of a symmetric positive
 * definite I (BERG_ERR_NOT_SPD with the offending eigenvalue when
 * lambda_min <= 0). */
BERG_API berg_status berg_fisher_condition(size_t dim, const double *Imat, double *cond);

/* ---- posterior correlation functions (eq 43) ----------------------------- */

/*
 * E[prod_{j=1}^{m} (U - u*)_{idx[j]}] = T^{-m/2} sum over the (m-1)!!
 * pairings of {1..m} of prod_{(r,s)} Iinv[idx[r]][idx[s]]  (m even; 0 for m
 * odd, 1 for m = 0), the Wick/Isserlis moments of the large-T posterior
 * N(u*, Iinv / T). Iinv is the d x d inverse Fisher metric (symmetric; it
 * need not be definite), idx holds m indices in [0, d). The sum is computed
 * without enumerating pairings, by the Stein recursion over the index
 * multiplicities k (E[x_a x^k] = sum_b Iinv_ab k_b E[x^(k - e_b)]):
 * prod (k_c + 1) states, at most 2^22 (32 MiB of scratch; BERG_ERR_SIZE
 * beyond): every order <= 22 fits, and any order with few distinct indices
 * (x^m takes m + 1 states).
 * Errors: BERG_ERR_NULL, BERG_ERR_SIZE, BERG_ERR_NONFINITE,
 * BERG_ERR_DOMAIN (T not finite and > 0), BERG_ERR_OUT_OF_RANGE (index >= d),
 * BERG_ERR_NOT_SPD (Iinv not symmetric).
 */
BERG_API berg_status berg_fisher_wick(size_t dim, const double *Iinv, double T, size_t order,
                                      const size_t *idx, double *out);

/* ---- Fisher-Rao distances ------------------------------------------------ */

/*
 * Fisher-Rao distance between N(mu1, sigma1^2) and N(mu2, sigma2^2) (metric
 * (dmu^2 + 2 dsigma^2) / sigma^2):
 *   d = 2 sqrt(2) asinh( sqrt( ((mu1-mu2)^2/2 + (sigma1-sigma2)^2) / (4 sigma1 sigma2) ) )
 * (= sqrt 2 arccosh(1 + ...), written without cancellation for close
 * points, and without squares: any finite input, a sigma ratio of 1e600
 * included, gives the finite distance). sigma must be finite and > 0
 * (BERG_ERR_DOMAIN).
 */
BERG_API berg_status berg_fisher_rao_gaussian(double mu1, double sigma1, double mu2,
                                              double sigma2, double *dist);

/* The Fisher metric I(theta) >= 0 of a one-parameter family. Return 0 on
 * success. */
typedef int (*berg_metric1_fn)(double theta, double *Imat, void *user_data);

/*
 * Fisher-Rao distance |integral_a^b sqrt(I(theta)) dtheta| between two
 * members of a one-parameter family, by tanh-sinh quadrature (the endpoints
 * are never evaluated, so integrable singularities there, as for
 * Bernoulli at p = 0, are fine), refined until two levels agree to a
 * relative 1e-12 (BERG_ERR_NO_CONVERGENCE after 12 levels). Nodes closer
 * to an endpoint than the spacing of doubles there are moved to the nearest
 * interior double, so a singularity like (b - theta)^(-1/2) at an endpoint
 * b of magnitude ~1 is resolved to about sqrt(ulp(b)) ~ 1e-8 absolute, and
 * the levels need only agree to 1e-7 then (at an endpoint 0 the accuracy
 * is full: put the singular end at 0 if you can).
 * Errors: BERG_ERR_NULL, BERG_ERR_NONFINITE (a, b), BERG_ERR_CALLBACK
 * (failure, NaN or infinite I), BERG_ERR_DOMAIN (negative I).
 */
BERG_API berg_status berg_fisher_rao_distance(berg_metric1_fn metric, double a, double b,
                                              double *dist, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* BERG_FISHER_H */
