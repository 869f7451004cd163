/**
 * @file berg/couplings.h
 * @brief Couplings and beta functions: the couplings of P = exp(-sum lambda^i L_i)/Z from an ensemble or a grid density, and their flow (seed eq 1-2).
 *
 * A basis is a list of operators L_i[phi] of a lattice field phi on a
 * periodic berg_space (the lattice; ncells = berg_space_size() sites x,
 * cell weight w, spacings h_a). The built-in operators are lattice
 * integrals (eq 1, Vol_M = w per site):
 *
 *   BERG_OPERATOR_PHI    L = sum_x w phi_x
 *   BERG_OPERATOR_PHI2   L = sum_x w phi_x^2
 *   BERG_OPERATOR_PHI4   L = sum_x w phi_x^4
 *   BERG_OPERATOR_PHI6   L = sum_x w phi_x^6
 *   BERG_OPERATOR_GRAD2  L = sum_x w sum_a g^{aa} ((phi_{x+e_a} - phi_x) / h_a)^2
 *
 * (nearest-neighbour differences, periodic; the lattice metric must then
 * be diagonal). User operators are callbacks giving L(phi), its gradient
 * dL/dphi_x (plain partial derivatives, not divided by w) and its field
 * Laplacian sum_x d^2 L / dphi_x^2.
 *
 * The model is P[phi] = exp(-sum_i lambda^i L_i[phi]) / Z on R^ncells
 * (Lebesgue measure d^ncells phi). Its couplings lambda are estimated
 * without Z:
 *
 * - from an ensemble of count fields (member m at phi[m * ncells + x]) by
 *   score matching (Hyvarinen 2005), exact for exponential families and
 *   linear in lambda: lambda = A^{-1} b with A_ij = E[grad L_i . grad L_j],
 *   b_i = E[Laplacian L_i] (sample means over members), with the sandwich
 *   covariance over independent members or over batch means;
 * - from a density on a grid whose axes are the field values of the
 *   ncells sites (a sample space of rank ncells) by score matching with
 *   the expectations taken by the grid, and independently by KL projection
 *   (moment matching E_lambda[L] = E_p[L], Newton iterations with the
 *   Fisher metric Cov_lambda(L_i, L_j)).
 *
 * Along a flow, the couplings at a sequence of scales ln Lambda_s and the
 * beta functions beta^i = -d lambda^i / d ln Lambda (eq 2) by the
 * second-order finite differences of adjacent scales, with the joint
 * covariance of all scales propagated to beta.
 *
 * Failures: every function validates its input before writing any output;
 * on failure nothing the caller owns changes and berg_last_error() names
 * the function and the argument (for an ill-conditioned matrix, which one
 * and its eigenvalues).
 *
 * Thread safety: a berg_basis is immutable once its operators are added;
 * the estimators take it const and may run on one basis from several
 * threads at once. With berg_set_threads() above 1 the ensemble estimators
 * evaluate members on several threads, so a callback operator may then be
 * called concurrently (with distinct arrays). A berg_couplings_flow is
 * modified by berg_couplings_flow_add(): one thread at a time.
 */
#ifndef BERG_COUPLINGS_H
#define BERG_COUPLINGS_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- basis operators ------------------------------------------------------ */

/**
 * @brief A list of basis operators L_i on the fields of one periodic
 * lattice (opaque).
 * @since 1.1
 */
typedef struct berg_basis berg_basis;

/**
 * @brief Built-in basis operators (lattice integrals, see the file
 * comment). Values are pinned.
 * @since 1.1
 */
typedef enum berg_operator {
    /** sum_x w phi_x (a constant external field). */
    BERG_OPERATOR_PHI = 0,
    /** sum_x w phi_x^2 (mass term). */
    BERG_OPERATOR_PHI2 = 1,
    /** sum_x w phi_x^4. */
    BERG_OPERATOR_PHI4 = 2,
    /** sum_x w phi_x^6. */
    BERG_OPERATOR_PHI6 = 3,
    /** sum_x w sum_a g^{aa} ((phi_{x+e_a} - phi_x) / h_a)^2 (kinetic term). */
    BERG_OPERATOR_GRAD2 = 4
} berg_operator;

/**
 * @brief A user basis operator: its value, gradient and field Laplacian at
 * one field.
 *
 * @param[in]  size       number of lattice sites (berg_space_size() of the
 *                        lattice).
 * @param[in]  phi        size values of the field.
 * @param[out] value      L(phi), finite.
 * @param[out] grad       size values of dL/dphi_x (partial derivatives, not
 *                        divided by the cell weight), or NULL when the
 *                        caller does not need them.
 * @param[out] laplacian  sum_x d^2 L / dphi_x^2, or NULL when the caller
 *                        does not need it.
 * @param[in]  user_data  the pointer given to berg_basis_add().
 * @return 0 on success, non-zero on failure.
 * @since 1.1
 */
typedef int (*berg_operator_fn)(size_t size, const double *phi, double *value, double *grad,
                                double *laplacian, void *user_data);

/**
 * @brief A basis of built-in operators on a periodic lattice.
 *
 * More operators (callbacks) may be appended with berg_basis_add(); the
 * operator index i is the order of creation and addition.
 *
 * @param[out] out      the new basis; untouched on failure. Free with
 *                      berg_basis_destroy().
 * @param[in]  lattice  the lattice (copied); every axis periodic.
 * @param[in]  count    number of built-in operators, 0 .. 64 (0: callbacks
 *                      only, added later).
 * @param[in]  ops      count built-in operators (may be NULL when count is
 *                      0; a repeated operator makes every estimator refuse
 *                      the basis as singular).
 * @return BERG_OK;
 *   BERG_ERR_NULL when out or lattice is NULL, or ops is NULL with count > 0;
 *   BERG_ERR_SIZE when count exceeds 64;
 *   BERG_ERR_DOMAIN for an unknown operator (naming its index);
 *   BERG_ERR_UNSUPPORTED when an axis of the lattice is not periodic, or
 *   BERG_OPERATOR_GRAD2 is asked for on a lattice whose metric couples two
 *   axes;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_basis_create(berg_basis **out, const berg_space *lattice, size_t count,
                                       const berg_operator *ops);

/**
 * @brief Append a user operator (a callback) to a basis.
 *
 * Not to be called while another thread uses the basis. The callback and
 * user_data must stay valid while the basis (and any flow made from it)
 * lives.
 *
 * @param[in,out] basis      the basis (at most 64 operators in all).
 * @param[in]     op         the operator.
 * @param[in]     user_data  passed to op.
 * @return BERG_OK;
 *   BERG_ERR_NULL when basis or op is NULL;
 *   BERG_ERR_SIZE when the basis already has 64 operators;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_basis_add(berg_basis *basis, berg_operator_fn op, void *user_data);

/**
 * @brief Number of operators k of a basis.
 * @param[in] basis  the basis, or NULL (gives 0).
 * @return k; 0 when basis is NULL.
 * @since 1.1
 */
BERG_API size_t berg_basis_size(const berg_basis *basis);

/**
 * @brief Number of lattice sites (the length of one field) of a basis.
 * @param[in] basis  the basis, or NULL (gives 0).
 * @return berg_space_size() of its lattice; 0 when basis is NULL.
 * @since 1.1
 */
BERG_API size_t berg_basis_cells(const berg_basis *basis);

/**
 * @brief The operator values of an ensemble: values[m * k + i] = L_i of
 * member m.
 *
 * @param[in]  basis   the basis, with k >= 1 operators.
 * @param[in]  count   number of members, >= 1.
 * @param[in]  phi     count x ncells finite field values (member m at
 *                     phi[m * ncells + x]).
 * @param[out] values  count x k values.
 * @return BERG_OK;
 *   BERG_ERR_NULL when basis, phi or values is NULL;
 *   BERG_ERR_SIZE when count or k is 0 or the sizes overflow;
 *   BERG_ERR_NONFINITE for a non-finite field value (naming its index) or
 *   an operator value that overflows;
 *   BERG_ERR_CALLBACK when a callback operator fails or returns a
 *   non-finite value;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_basis_evaluate(const berg_basis *basis, size_t count, const double *phi,
                                         double *values);

/**
 * @brief Gradients and field Laplacians of every operator at one field.
 *
 * @param[in]  basis      the basis, with k >= 1 operators.
 * @param[in]  phi        ncells finite field values.
 * @param[out] grad       k x ncells values, grad[i * ncells + x] =
 *                        dL_i / dphi_x.
 * @param[out] laplacian  k values sum_x d^2 L_i / dphi_x^2, or NULL.
 * @return BERG_OK;
 *   BERG_ERR_NULL when basis, phi or grad is NULL;
 *   BERG_ERR_SIZE when k is 0;
 *   BERG_ERR_NONFINITE for a non-finite field value or a result that
 *   overflows;
 *   BERG_ERR_CALLBACK when a callback operator fails or returns a
 *   non-finite value;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_basis_gradient(const berg_basis *basis, const double *phi,
                                         double *grad, double *laplacian);

/**
 * @brief Free a basis.
 * @param[in] basis  the basis, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_basis_destroy(berg_basis *basis);

/* ---- couplings from an ensemble ------------------------------------------- */

/**
 * @brief Couplings of an ensemble by score matching, with their covariance.
 *
 * With per-member G_m = (grad L_i . grad L_j)(phi_m) and c_m =
 * (Laplacian L_i)(phi_m), A = mean_m G_m, b = mean_m c_m and
 * lambda = A^{-1} b: the minimiser of Hyvarinen's score-matching objective
 * E[|grad ln P|^2 / 2 + Laplacian ln P], consistent for any exponential
 * family e^{-lambda.L}/Z whose density vanishes at infinity.
 *
 * The covariance is the sandwich (delta-method) estimate of the
 * M-estimator: with the influence psi_m = A^{-1}(c_m - G_m lambda)
 * (sum_m psi_m = 0), and batch sums S_b = sum_{m in batch b} psi_m over
 * nb contiguous batches of members,
 *
 *   cov = nb / (nb - 1) * (1 / count^2) * sum_b S_b S_b^T.
 *
 * nbatch = 0 takes every member as its own batch (independent members,
 * for example independent chains or flowed independent draws:
 * cov = sum_m psi_m psi_m^T / (count (count - 1))); nbatch >= 2 gives
 * batch means for a correlated sequence (one Markov chain: batches much
 * longer than its autocorrelation time). Standard errors are
 * sqrt(cov_ii).
 *
 * A is equilibrated (D A D with D = diag(A)^{-1/2}) and refused when the
 * reciprocal condition estimate of D A D is below 1e-12 (operators that
 * are linearly dependent on the ensemble).
 *
 * @param[in]  basis   the basis, k >= 1 operators.
 * @param[in]  count   number of members, >= 2 (>= k is needed for A to be
 *                     invertible unless ncells is large).
 * @param[in]  nbatch  0 (independent members) or the number of batches,
 *                     2 .. count.
 * @param[in]  phi     count x ncells finite field values.
 * @param[out] lambda  k couplings.
 * @param[out] cov     k x k covariance of lambda (exactly symmetric), or
 *                     NULL.
 * @return BERG_OK;
 *   BERG_ERR_NULL when basis, phi or lambda is NULL;
 *   BERG_ERR_SIZE when k is 0, count < 2, nbatch is 1 or above count, or
 *   the sizes overflow;
 *   BERG_ERR_NONFINITE for a non-finite field value (naming its index) or
 *   a sum that overflows;
 *   BERG_ERR_CALLBACK when a callback operator fails or returns a
 *   non-finite value;
 *   BERG_ERR_NOT_SPD when A is singular or ill-conditioned (the message
 *   names A and gives its eigenvalues), or an operator has zero gradient
 *   on every member;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_score_matching(const berg_basis *basis, size_t count,
                                                   size_t nbatch, const double *phi,
                                                   double *lambda, double *cov);

/* ---- couplings of a grid density ----------------------------------------- */

/**
 * @brief Couplings of a density on a grid of field values by score
 * matching, the expectations taken by the grid.
 *
 * The sample space has rank ncells: grid point y_j is the field
 * phi_x = (coordinate x of y_j). With q_j = p_j / sum p (cell
 * probabilities), A = sum_j q_j (grad L_i . grad L_j)(y_j) and
 * b = sum_j q_j (Laplacian L_i)(y_j) - F_i, where F_i is the flux of
 * p grad L_i through the walls of the box (the integration by parts of
 * score matching on a box; p at a wall is extrapolated from the three
 * cells next to it, second order). For a density that vanishes at the
 * walls F is negligible and the grid sums are spectrally accurate; every
 * axis is treated as an interval of field values, whatever its boundary
 * kind. The space's metric enters only as a constant factor of Vol_S and
 * does not change lambda. Refusal of an ill-conditioned A as in
 * berg_couplings_score_matching().
 *
 * @param[in]  basis   the basis, k >= 1 operators.
 * @param[in]  space   the sample space, of rank berg_basis_cells(basis).
 * @param[in]  p       measure: berg_space_size(space) finite values >= 0
 *                     with positive finite mass (normalized internally).
 * @param[out] lambda  k couplings.
 * @return BERG_OK;
 *   BERG_ERR_NULL when basis, space, p or lambda is NULL;
 *   BERG_ERR_SIZE when k is 0;
 *   BERG_ERR_MISMATCH when the rank of space is not the basis's number of
 *   sites;
 *   BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE, BERG_ERR_MASS for a bad p;
 *   BERG_ERR_DOMAIN when an operator overflows on the grid;
 *   BERG_ERR_CALLBACK when a callback operator fails;
 *   BERG_ERR_NOT_SPD when A is singular or ill-conditioned;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_grid_score_matching(const berg_basis *basis,
                                                        const berg_space *space, const double *p,
                                                        double *lambda);

/**
 * @brief Couplings of a density on a grid of field values by KL
 * projection onto the exponential family: the lambda minimising
 * D_KL(p || q_lambda), q_lambda = e^{-lambda.L} / Z on the grid.
 *
 * The minimiser matches the moments, E_{q_lambda}[L] = E_p[L]. Newton
 * iterations from lambda = 0 (the uniform density on the box) with the
 * Fisher metric I = Cov_{q_lambda}(L_i, L_j) as the Hessian, backtracking
 * while the Newton decrement delta = sqrt(g^T I^{-1} g),
 * g = E_p[L] - E_{q_lambda}[L], exceeds 0.1. They stop when delta <=
 * tolerance: delta is the moment mismatch in units of the model's
 * standard deviations, and the distance (in the Fisher metric) of the
 * returned lambda from the projection to first order. I is refused as in
 * berg_couplings_score_matching() when it is ill-conditioned. Expectations
 * are grid sums (the grid of p is the sample space), so for a p of the
 * family on the grid the projection returns its lambda exactly.
 *
 * @param[in]  basis           the basis, k >= 1 operators.
 * @param[in]  space           the sample space, of rank
 *                             berg_basis_cells(basis).
 * @param[in]  tolerance       the Newton decrement to reach, in
 *                             [1e-15, 0.1].
 * @param[in]  max_iterations  the cap on Newton iterations, >= 1.
 * @param[in]  p               measure: berg_space_size(space) finite values
 *                             >= 0 with positive finite mass.
 * @param[out] lambda          k couplings.
 * @return BERG_OK;
 *   BERG_ERR_NULL when basis, space, p or lambda is NULL;
 *   BERG_ERR_SIZE when k or max_iterations is 0;
 *   BERG_ERR_DOMAIN for a tolerance outside [1e-15, 0.1], or an operator
 *   that overflows on the grid;
 *   BERG_ERR_MISMATCH when the rank of space is not the basis's number of
 *   sites;
 *   BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE, BERG_ERR_MASS for a bad p;
 *   BERG_ERR_CALLBACK when a callback operator fails;
 *   BERG_ERR_NOT_SPD when the Fisher metric is singular or ill-conditioned
 *   (moments of p on the boundary of what the family reaches);
 *   BERG_ERR_NO_CONVERGENCE when delta <= tolerance is not reached within
 *   max_iterations (the message gives the delta reached);
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_kl_projection(const berg_basis *basis, const berg_space *space,
                                                  double tolerance, size_t max_iterations,
                                                  const double *p, double *lambda);

/* ---- beta functions ------------------------------------------------------- */

/**
 * @brief Beta functions beta^i = -d lambda^i / d ln Lambda (eq 2) from
 * couplings at a sequence of scales, with the propagated covariance.
 *
 * At scale s the derivative of the quadratic through the couplings at
 * s - 1, s, s + 1 (centred, second order on any spacing); at the first and
 * last scale the quadratic through the three nearest scales (one-sided,
 * second order, about three times noisier); with two scales the difference
 * quotient (first order). beta is a linear map D of lambda, so
 * beta_cov = D cov D^T exactly, correlations between scales included
 * (couplings measured on one flowed ensemble are strongly correlated, and
 * their differences much better determined than independent estimates
 * would be).
 *
 * @param[in]  nscales    number of scales S, >= 2.
 * @param[in]  k          number of couplings per scale, >= 1.
 * @param[in]  log_scale  S finite values of ln Lambda, strictly increasing
 *                        or strictly decreasing.
 * @param[in]  lambda     S x k finite couplings (scale s at
 *                        lambda[s * k + i]).
 * @param[in]  cov        (S k) x (S k) joint covariance of lambda (finite,
 *                        symmetric), or NULL.
 * @param[out] beta       S x k beta functions.
 * @param[out] beta_cov   (S k) x (S k) covariance of beta, or NULL (must be
 *                        NULL when cov is).
 * @return BERG_OK;
 *   BERG_ERR_NULL when log_scale, lambda or beta is NULL, or beta_cov is
 *   given without cov;
 *   BERG_ERR_SIZE when S < 2, k = 0 or the sizes overflow;
 *   BERG_ERR_NONFINITE for a non-finite input or a result that overflows;
 *   BERG_ERR_DOMAIN when log_scale is not strictly monotone;
 *   BERG_ERR_NOT_SPD when cov is not symmetric;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_beta(size_t nscales, size_t k, const double *log_scale,
                                         const double *lambda, const double *cov, double *beta,
                                         double *beta_cov);

/* ---- along a flow --------------------------------------------------------- */

/**
 * @brief The couplings of one ensemble along a flow: score matching at
 * each scale added, with the joint covariance of all scales (opaque).
 *
 * The members are the same at every scale (member m of each add() is the
 * flowed member m), so the influence psi_m of member m at every scale
 * enters one joint sandwich: cov[(s k + i), (t k + j)] =
 * nb / (nb - 1) / count^2 sum_b S_b^{(s)}_i S_b^{(t)}_j.
 * @since 1.1
 */
typedef struct berg_couplings_flow berg_couplings_flow;

/**
 * @brief A new, empty record of couplings along a flow.
 *
 * @param[out] out     the new record; untouched on failure. Free with
 *                     berg_couplings_flow_destroy().
 * @param[in]  basis   the basis (copied; its callbacks must stay valid).
 * @param[in]  count   number of members of the ensemble, >= 2.
 * @param[in]  nbatch  0 (independent members) or the number of batches,
 *                     2 .. count (as berg_couplings_score_matching()).
 * @return BERG_OK;
 *   BERG_ERR_NULL when out or basis is NULL;
 *   BERG_ERR_SIZE when the basis has no operator, count < 2, nbatch is 1
 *   or above count;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_flow_create(berg_couplings_flow **out, const berg_basis *basis,
                                                size_t count, size_t nbatch);

/**
 * @brief Score-match the ensemble at one more scale.
 *
 * On failure the record is unchanged.
 *
 * @param[in,out] flow       the record.
 * @param[in]     log_scale  ln Lambda of this ensemble, finite; the scales
 *                           added must be strictly monotone.
 * @param[in]     phi        count x ncells finite field values.
 * @return BERG_OK;
 *   BERG_ERR_NULL when flow or phi is NULL;
 *   BERG_ERR_NONFINITE for a non-finite log_scale or field value;
 *   BERG_ERR_DOMAIN when log_scale breaks the monotone order;
 *   BERG_ERR_CALLBACK, BERG_ERR_NOT_SPD as berg_couplings_score_matching();
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_flow_add(berg_couplings_flow *flow, double log_scale,
                                             const double *phi);

/**
 * @brief Number of scales S added so far.
 * @param[in] flow  the record, or NULL (gives 0).
 * @return S; 0 when flow is NULL.
 * @since 1.1
 */
BERG_API size_t berg_couplings_flow_size(const berg_couplings_flow *flow);

/**
 * @brief The couplings at every scale, their joint covariance, and the
 * beta functions with theirs (berg_couplings_beta() on them).
 *
 * Every output may be NULL (at least one must not be).
 *
 * @param[in]  flow       the record, with S >= 1 scales (S >= 2 for beta).
 * @param[out] log_scale  S values of ln Lambda, or NULL.
 * @param[out] lambda     S x k couplings, or NULL.
 * @param[out] cov        (S k) x (S k) joint covariance of lambda, or NULL.
 * @param[out] beta       S x k beta functions, or NULL.
 * @param[out] beta_cov   (S k) x (S k) covariance of beta, or NULL.
 * @return BERG_OK;
 *   BERG_ERR_NULL when flow is NULL or every output is;
 *   BERG_ERR_SIZE when no scale was added, or beta or beta_cov is asked
 *   for with one scale;
 *   BERG_ERR_NONFINITE when a result overflows;
 *   BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_couplings_flow_result(const berg_couplings_flow *flow,
                                                double *log_scale, double *lambda, double *cov,
                                                double *beta, double *beta_cov);

/**
 * @brief Free a record.
 * @param[in] flow  the record, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_couplings_flow_destroy(berg_couplings_flow *flow);

#ifdef __cplusplus
}
#endif

#endif /* BERG_COUPLINGS_H */
