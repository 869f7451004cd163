/*
 * Linear algebra of Fisher metrics: the pull-back K = J I^{-1} J^T, the
 * parameter metric J^T I_N J, the inverse, the eigen-decomposition and the
 * condition number. Factorizations and the eigensolver are the shared ones
 * of lib/core/linalg.h; products are CBLAS.
 */
#include <math.h>
#include <string.h>

#include "fisher/internal.h"

/* after the berg headers: OpenBLAS's cblas.h may pull in <complex.h> */
#include <cblas.h>
#include <lapacke.h>

/* a d x d symmetric matrix argument: non-NULL, a usable dimension, finite
 * and symmetric; *n = d * d */
static berg_status check_sym_arg(size_t d, const double *A, size_t *n, const char *fn,
                                 const char *dname, const char *name)
{
    BERG_TRY(berg__check_ptr(A, fn, name));
    BERG_TRY(berg__linalg_check_dim(d, fn, dname));
    BERG_TRY(berg__mul_size(d, d, n, fn, name));
    return berg__linalg_check_symmetric(d, A, fn, name);
}

/* J (dy x du): non-NULL, usable dimensions, finite; *nj = dy * du */
static berg_status check_jacobian_arg(size_t dy, size_t du, const double *J, size_t *nj,
                                      const char *fn)
{
    BERG_TRY(berg__check_ptr(J, fn, "J"));
    BERG_TRY(berg__linalg_check_dim(dy, fn, "dy"));
    BERG_TRY(berg__linalg_check_dim(du, fn, "du"));
    BERG_TRY(berg__mul_size(dy, du, nj, fn, "J"));
    return berg__check_finite(J, *nj, fn, "J");
}

berg_status berg__fisher_pullback(size_t dy, size_t du, const double *J, const double *Imat,
                                  double *K, const char *fn)
{
    berg_status st;
    const size_t nj = dy * du, ni = du * du, nk = dy * dy;
    double *L = berg__alloc(ni + nj + nk, sizeof(double), fn);
    if (!L)
        return berg_last_status();
    double *B = L + ni, *C = B + nj;
    BERG_TRY_GOTO(st, berg__linalg_cholesky(du, Imat, L, berg__linalg_rcond_floor(du), NULL, fn,
                                            "Imat"),
                  fail);
    /* B = J^T (du x dy), solved in place: B = I^{-1} J^T */
    for (size_t i = 0; i < dy; i++)
        for (size_t k = 0; k < du; k++)
            B[k * dy + i] = J[i * du + k];
    BERG_TRY_GOTO(st, berg__lapack_status((long)LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L',
                                                               (lapack_int)du, (lapack_int)dy, L,
                                                               (lapack_int)du, B, (lapack_int)dy),
                                          fn, "dpotrs"),
                  fail);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)dy, (int)dy, (int)du, 1.0, J,
                (int)du, B, (int)dy, 0.0, C, (int)dy);
    BERG_TRY_GOTO(st, berg__fisher_result_finite(C, nk, fn, "K = J Imat^{-1} J^T"), fail);
    berg__linalg_symmetrize(dy, C);
    memcpy(K, C, nk * sizeof(double));
fail:
    berg__free(L);
    return st;
}

berg_status berg_fisher_pullback(size_t dy, size_t du, const double *J, const double *Imat,
                                 double *K)
{
    static const char fn[] = "berg_fisher_pullback";
    size_t nj, ni, nk;
    BERG_TRY(berg__check_ptr(K, fn, "K"));
    BERG_TRY(check_jacobian_arg(dy, du, J, &nj, fn));
    BERG_TRY(check_sym_arg(du, Imat, &ni, fn, "du", "Imat"));
    BERG_TRY(berg__mul_size(dy, dy, &nk, fn, "K"));
    return berg__fisher_pullback(dy, du, J, Imat, K, fn);
}

berg_status berg_fisher_parameter_metric(size_t dy, size_t du, const double *J,
                                         const double *Inoise, double *Imat)
{
    static const char fn[] = "berg_fisher_parameter_metric";
    berg_status st;
    size_t nj, nn, ni;
    BERG_TRY(berg__check_ptr(Imat, fn, "Imat"));
    BERG_TRY(check_jacobian_arg(dy, du, J, &nj, fn));
    BERG_TRY(check_sym_arg(dy, Inoise, &nn, fn, "dy", "Inoise"));
    BERG_TRY(berg__mul_size(du, du, &ni, fn, "Imat"));
    double *T = berg__alloc(nj + ni, sizeof(double), fn);
    if (!T)
        return berg_last_status();
    double *C = T + nj;
    /* T = I_N J (lower triangle of I_N), C = J^T T */
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasLower, (int)dy, (int)du, 1.0, Inoise, (int)dy, J,
                (int)du, 0.0, T, (int)du);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)du, (int)du, (int)dy, 1.0, J,
                (int)du, T, (int)du, 0.0, C, (int)du);
    BERG_TRY_GOTO(st, berg__fisher_result_finite(C, ni, fn, "J^T Inoise J"), fail);
    berg__linalg_symmetrize(du, C);
    memcpy(Imat, C, ni * sizeof(double));
fail:
    berg__free(T);
    return st;
}

berg_status berg__fisher_inverse(size_t dim, const double *Imat, double *Iinv, const char *fn)
{
    berg_status st;
    const size_t n = dim * dim;
    double *A = berg__alloc(n, sizeof(double), fn);
    if (!A)
        return berg_last_status();
    BERG_TRY_GOTO(st, berg__linalg_spd_inverse(dim, Imat, A, fn, "Imat"), fail);
    BERG_TRY_GOTO(st, berg__fisher_result_finite(A, n, fn, "Imat^{-1}"), fail);
    memcpy(Iinv, A, n * sizeof(double));
fail:
    berg__free(A);
    return st;
}

berg_status berg_fisher_inverse(size_t dim, const double *Imat, double *Iinv)
{
    static const char fn[] = "berg_fisher_inverse";
    size_t n;
    BERG_TRY(berg__check_ptr(Iinv, fn, "Iinv"));
    BERG_TRY(check_sym_arg(dim, Imat, &n, fn, "dim", "Imat"));
    return berg__fisher_inverse(dim, Imat, Iinv, fn);
}

/* eigenvector columns of A (ascending, from berg__linalg_eigh) into evecs in
 * decreasing order, each with its largest component positive */
static void order_eigenvectors(size_t d, const double *A, double *evecs)
{
    for (size_t k = 0; k < d; k++) {
        size_t src = d - 1 - k, imax = 0;
        for (size_t i = 1; i < d; i++)
            if (fabs(A[i * d + src]) > fabs(A[imax * d + src]))
                imax = i;
        double sign = A[imax * d + src] < 0.0 ? -1.0 : 1.0;
        for (size_t i = 0; i < d; i++)
            evecs[i * d + k] = sign * A[i * d + src];
    }
}

berg_status berg_fisher_eigen(size_t dim, const double *Imat, double *evals, double *evecs)
{
    static const char fn[] = "berg_fisher_eigen";
    berg_status st;
    size_t n;
    BERG_TRY(berg__check_ptr(evals, fn, "evals"));
    BERG_TRY(check_sym_arg(dim, Imat, &n, fn, "dim", "Imat"));
    double *A = berg__alloc(n + dim, sizeof(double), fn);
    if (!A)
        return berg_last_status();
    double *w = A + n;
    memcpy(A, Imat, n * sizeof(double));
    BERG_TRY_GOTO(st, berg__linalg_eigh(dim, A, w, evecs != NULL, fn, "Imat"), fail);
    for (size_t k = 0; k < dim; k++)
        evals[k] = w[dim - 1 - k];
    if (evecs)
        order_eigenvectors(dim, A, evecs);
fail:
    berg__free(A);
    return st;
}

berg_status berg_fisher_condition(size_t dim, const double *Imat, double *cond)
{
    static const char fn[] = "berg_fisher_condition";
    size_t n;
    BERG_TRY(berg__check_ptr(cond, fn, "cond"));
    BERG_TRY(check_sym_arg(dim, Imat, &n, fn, "dim", "Imat"));
    double lmin, lmax;
    BERG_TRY(berg__linalg_eig_extremes(dim, Imat, &lmin, &lmax, fn, "Imat"));
    BERG_REQUIRE(lmin > 0.0, BERG_ERR_NOT_SPD,
                 "%s: Imat is not positive definite: its smallest eigenvalue is %.6g (largest "
                 "%.6g)",
                 fn, lmin, lmax);
    *cond = lmax / lmin;
    return BERG_OK;
}
