/*
 * Linear algebra of Fisher metrics: checks, Cholesky with a helpful refusal,
 * pull-back K = J Imat^{-1} J^T (eq 56), parameter metric J^T I_N J, inverse,
 * eigen-decomposition and condition number. LAPACKE for factorizations and
 * eigenproblems, CBLAS for products.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "fisher/internal.h"

berg_status berg__fisher_check_dim(size_t n, const char *fn, const char *name)
{
    if (n == 0)
        return berg__error(BERG_ERR_SIZE, "%s: %s is 0 (it must be at least 1)", fn, name);
    if (n > (size_t)INT_MAX)
        return berg__error(BERG_ERR_SIZE, "%s: %s = %zu exceeds the BLAS/LAPACK limit %d", fn,
                           name, n, INT_MAX);
    return BERG_OK;
}

berg_status berg__fisher_check_sym(size_t d, const double *A, const char *fn, const char *name)
{
    return berg__check_symmetric(A, d, 1e-10, fn, name);
}

void berg__fisher_mirror_lower(size_t d, double *A)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            A[j * d + i] = A[i * d + j];
}

void berg__fisher_symmetrize(size_t d, double *A)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) {
            double m = 0.5 * (A[i * d + j] + A[j * d + i]);
            A[i * d + j] = A[j * d + i] = m;
        }
}

/* smallest and largest eigenvalue of a symmetric matrix (lower triangle) */
static berg_status extreme_eigenvalues(size_t d, const double *A, double *lmin, double *lmax,
                                       const char *fn)
{
    double *c = berg__alloc(d * d + d, sizeof(double), fn);
    if (!c)
        return berg_last_status();
    double *w = c + d * d;
    memcpy(c, A, d * d * sizeof(double));
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', (lapack_int)d, c,
                                     (lapack_int)d, w);
    if (info != 0) {
        berg__free(c);
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK dsyevd failed (info %d)", fn,
                           (int)info);
    }
    *lmin = w[0];
    *lmax = w[d - 1];
    berg__free(c);
    return BERG_OK;
}

berg_status berg__fisher_cholesky(size_t d, const double *A, double *L, const char *fn,
                                  const char *name)
{
    memcpy(L, A, d * d * sizeof(double));
    double anorm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, '1', 'L', (lapack_int)d, L, (lapack_int)d);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, L, (lapack_int)d);
    double rcond = 0.0;
    if (info == 0) {
        lapack_int info2 = LAPACKE_dpocon(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, L,
                                          (lapack_int)d, anorm, &rcond);
        if (info2 != 0)
            return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK dpocon failed (info %d)", fn,
                               (int)info2);
        if (rcond >= (double)d * DBL_EPSILON && anorm > 0.0)
            return BERG_OK;
    } else if (info < 0) {
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK dpotrf failed (info %d)", fn, (int)info);
    }
    double lmin = NAN, lmax = NAN;
    berg_status s = extreme_eigenvalues(d, A, &lmin, &lmax, fn);
    if (s != BERG_OK)
        return s;
    if (info > 0 && lmin < 0.0)
        return berg__error(BERG_ERR_NOT_SPD,
                           "%s: %s is not positive definite: its smallest eigenvalue is %.6g "
                           "(largest %.6g)",
                           fn, name, lmin, lmax);
    return berg__error(BERG_ERR_NOT_SPD,
                       "%s: %s is singular to working precision: its smallest eigenvalue is "
                       "%.6g (largest %.6g, reciprocal condition number %.3g)",
                       fn, name, lmin, lmax, rcond);
}

berg_status berg__fisher_result_finite(const double *A, size_t n, const char *fn,
                                       const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(A[i]))
            return berg__error(BERG_ERR_NONFINITE,
                               "%s: %s overflows (entry %zu is %g): rescale the input", fn, what,
                               i, A[i]);
    return BERG_OK;
}

berg_status berg_fisher_pullback(size_t dy, size_t du, const double *J, const double *Imat,
                                 double *K)
{
    static const char fn[] = "berg_fisher_pullback";
    berg_status s;
    if ((s = berg__check_ptr(J, fn, "J")) || (s = berg__check_ptr(Imat, fn, "Imat")) ||
        (s = berg__check_ptr(K, fn, "K")) || (s = berg__fisher_check_dim(dy, fn, "dy")) ||
        (s = berg__fisher_check_dim(du, fn, "du")))
        return s;
    size_t nj, ni, nk;
    if ((s = berg__mul_size(dy, du, &nj, fn, "J")) || (s = berg__mul_size(du, du, &ni, fn, "Imat")) ||
        (s = berg__mul_size(dy, dy, &nk, fn, "K")))
        return s;
    if ((s = berg__check_finite(J, nj, fn, "J")) || (s = berg__fisher_check_sym(du, Imat, fn, "Imat")))
        return s;
    double *L = berg__alloc(ni + nj + nk, sizeof(double), fn);
    if (!L)
        return berg_last_status();
    double *B = L + ni, *C = B + nj;
    if ((s = berg__fisher_cholesky(du, Imat, L, fn, "Imat")) != BERG_OK) {
        berg__free(L);
        return s;
    }
    for (size_t i = 0; i < dy; i++)
        for (size_t k = 0; k < du; k++)
            B[k * dy + i] = J[i * du + k];
    lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)du, (lapack_int)dy, L,
                                     (lapack_int)du, B, (lapack_int)dy);
    if (info != 0) {
        berg__free(L);
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK dpotrs failed (info %d)", fn,
                           (int)info);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)dy, (int)dy, (int)du, 1.0, J,
                (int)du, B, (int)dy, 0.0, C, (int)dy);
    if ((s = berg__fisher_result_finite(C, nk, fn, "K = J Imat^{-1} J^T")) == BERG_OK) {
        berg__fisher_symmetrize(dy, C);
        memcpy(K, C, nk * sizeof(double));
    }
    berg__free(L);
    return s;
}

berg_status berg_fisher_parameter_metric(size_t dy, size_t du, const double *J, const double *IN,
                                         double *Imat)
{
    static const char fn[] = "berg_fisher_parameter_metric";
    berg_status s;
    if ((s = berg__check_ptr(J, fn, "J")) || (s = berg__check_ptr(IN, fn, "IN")) ||
        (s = berg__check_ptr(Imat, fn, "Imat")) || (s = berg__fisher_check_dim(dy, fn, "dy")) ||
        (s = berg__fisher_check_dim(du, fn, "du")))
        return s;
    size_t nj, nn, ni;
    if ((s = berg__mul_size(dy, du, &nj, fn, "J")) || (s = berg__mul_size(dy, dy, &nn, fn, "IN")) ||
        (s = berg__mul_size(du, du, &ni, fn, "Imat")))
        return s;
    if ((s = berg__check_finite(J, nj, fn, "J")) || (s = berg__fisher_check_sym(dy, IN, fn, "IN")))
        return s;
    double *T = berg__alloc(nj + ni, sizeof(double), fn);
    if (!T)
        return berg_last_status();
    double *C = T + nj;
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasLower, (int)dy, (int)du, 1.0, IN, (int)dy, J,
                (int)du, 0.0, T, (int)du);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)du, (int)du, (int)dy, 1.0, J,
                (int)du, T, (int)du, 0.0, C, (int)du);
    if ((s = berg__fisher_result_finite(C, ni, fn, "J^T IN J")) == BERG_OK) {
        berg__fisher_symmetrize(du, C);
        memcpy(Imat, C, ni * sizeof(double));
    }
    berg__free(T);
    return s;
}

berg_status berg_fisher_inverse(size_t dim, const double *Imat, double *Iinv)
{
    static const char fn[] = "berg_fisher_inverse";
    berg_status s;
    size_t n;
    if ((s = berg__check_ptr(Imat, fn, "Imat")) || (s = berg__check_ptr(Iinv, fn, "Iinv")) ||
        (s = berg__fisher_check_dim(dim, fn, "dim")) || (s = berg__mul_size(dim, dim, &n, fn, "Imat")) ||
        (s = berg__fisher_check_sym(dim, Imat, fn, "Imat")))
        return s;
    double *L = berg__alloc(n, sizeof(double), fn);
    if (!L)
        return berg_last_status();
    if ((s = berg__fisher_cholesky(dim, Imat, L, fn, "Imat")) != BERG_OK) {
        berg__free(L);
        return s;
    }
    lapack_int info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)dim, L, (lapack_int)dim);
    if (info != 0) {
        berg__free(L);
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK dpotri failed (info %d)", fn,
                           (int)info);
    }
    berg__fisher_mirror_lower(dim, L);
    if ((s = berg__fisher_result_finite(L, n, fn, "Imat^{-1}")) == BERG_OK)
        memcpy(Iinv, L, n * sizeof(double));
    berg__free(L);
    return s;
}

berg_status berg_fisher_eigen(size_t dim, const double *Imat, double *evals, double *evecs)
{
    static const char fn[] = "berg_fisher_eigen";
    berg_status s;
    size_t n;
    if ((s = berg__check_ptr(Imat, fn, "Imat")) || (s = berg__check_ptr(evals, fn, "evals")) ||
        (s = berg__fisher_check_dim(dim, fn, "dim")) || (s = berg__mul_size(dim, dim, &n, fn, "Imat")) ||
        (s = berg__fisher_check_sym(dim, Imat, fn, "Imat")))
        return s;
    double *A = berg__alloc(n + dim, sizeof(double), fn);
    if (!A)
        return berg_last_status();
    double *w = A + n;
    memcpy(A, Imat, n * sizeof(double));
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, evecs ? 'V' : 'N', 'L', (lapack_int)dim, A,
                                     (lapack_int)dim, w);
    if (info != 0) {
        berg__free(A);
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK dsyevd failed (info %d)", fn,
                           (int)info);
    }
    for (size_t k = 0; k < dim; k++)
        evals[k] = w[dim - 1 - k];
    if (evecs) {
        for (size_t k = 0; k < dim; k++) {
            size_t src = dim - 1 - k, imax = 0;
            for (size_t i = 1; i < dim; i++)
                if (fabs(A[i * dim + src]) > fabs(A[imax * dim + src]))
                    imax = i;
            double sign = A[imax * dim + src] < 0.0 ? -1.0 : 1.0;
            for (size_t i = 0; i < dim; i++)
                evecs[i * dim + k] = sign * A[i * dim + src];
        }
    }
    berg__free(A);
    return BERG_OK;
}

berg_status berg_fisher_condition(size_t dim, const double *Imat, double *cond)
{
    static const char fn[] = "berg_fisher_condition";
    berg_status s;
    size_t n;
    if ((s = berg__check_ptr(Imat, fn, "Imat")) || (s = berg__check_ptr(cond, fn, "cond")) ||
        (s = berg__fisher_check_dim(dim, fn, "dim")) || (s = berg__mul_size(dim, dim, &n, fn, "Imat")) ||
        (s = berg__fisher_check_sym(dim, Imat, fn, "Imat")))
        return s;
    double lmin, lmax;
    if ((s = extreme_eigenvalues(dim, Imat, &lmin, &lmax, fn)) != BERG_OK)
        return s;
    if (!(lmin > 0.0))
        return berg__error(BERG_ERR_NOT_SPD,
                           "%s: Imat is not positive definite: its smallest eigenvalue is %.6g "
                           "(largest %.6g)",
                           fn, lmin, lmax);
    *cond = lmax / lmin;
    return BERG_OK;
}
