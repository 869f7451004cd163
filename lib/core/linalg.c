/*
 * Shared dense symmetric linear algebra (see linalg.h): LAPACKE for the
 * factorizations and the eigenproblem, CBLAS for products.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/linalg.h"

/* after the berg headers: <lapacke.h> pulls in <complex.h> and its macro I */
#include <cblas.h>
#include <lapacke.h>

berg_status berg__linalg_check_dim(size_t n, const char *fn, const char *name)
{
    BERG_REQUIRE(n > 0, BERG_ERR_SIZE, "%s: %s is 0 (it must be at least 1)", fn, name);
    BERG_REQUIRE(n <= (size_t)INT_MAX, BERG_ERR_SIZE,
                 "%s: %s = %zu exceeds the BLAS/LAPACK limit %d", fn, name, n, INT_MAX);
    return BERG_OK;
}

berg_status berg__linalg_check_symmetric(size_t d, const double *A, const char *fn,
                                         const char *name)
{
    return berg__check_symmetric(A, d, BERG__SYM_RTOL, fn, name);
}

berg_status berg__lapack_status(long info, const char *fn, const char *routine)
{
    if (info == 0)
        return BERG_OK;
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory in LAPACK %s (%s)", fn, routine,
                           info == LAPACK_WORK_MEMORY_ERROR ? "workspace" : "transposed copy");
    return berg__error(BERG_ERR_INTERNAL, "%s: LAPACK %s failed (info %ld)", fn, routine, info);
}

void berg__linalg_mirror_lower(size_t d, double *A)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            A[j * d + i] = A[i * d + j];
}

void berg__linalg_mirror_upper(size_t d, double *A)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            A[i * d + j] = A[j * d + i];
}

void berg__linalg_symmetrize(size_t d, double *A)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) {
            double m = 0.5 * (A[i * d + j] + A[j * d + i]);
            A[i * d + j] = A[j * d + i] = m;
        }
}

berg_status berg__linalg_eigh(size_t d, double *A, double *w, int vectors, const char *fn,
                              const char *name)
{
    lapack_int n = (lapack_int)d;
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, vectors ? 'V' : 'N', 'L', n, A, n, w);
    if (info > 0)
        return berg__error(BERG_ERR_INTERNAL,
                           "%s: the eigenvalues of %s did not converge (LAPACK dsyevd info %d)",
                           fn, name, (int)info);
    return berg__lapack_status((long)info, fn, "dsyevd");
}

berg_status berg__linalg_eig_extremes(size_t d, const double *A, double *lmin, double *lmax,
                                      const char *fn, const char *name)
{
    berg_status st;
    double *c = berg__alloc(d * d + d, sizeof(double), fn);
    if (!c)
        return berg_last_status();
    double *w = c + d * d;
    memcpy(c, A, d * d * sizeof(double));
    BERG_TRY_GOTO(st, berg__linalg_eigh(d, c, w, 0, fn, name), fail);
    *lmin = w[0];
    *lmax = w[d - 1];
fail:
    berg__free(c);
    return st;
}

double berg__linalg_rcond_floor(size_t d)
{
    return (double)d * DBL_EPSILON;
}

/* the refusal of a matrix dpotrf/dpocon found not usable, with its spectrum */
static berg_status refuse_not_spd(size_t d, const double *A, int indefinite, double rcond,
                                  const char *fn, const char *name)
{
    double lmin = NAN, lmax = NAN;
    BERG_TRY(berg__linalg_eig_extremes(d, A, &lmin, &lmax, fn, name));
    if (indefinite && lmin < 0.0)
        return berg__error(BERG_ERR_NOT_SPD,
                           "%s: %s is not positive definite: its smallest eigenvalue is %.6g "
                           "(largest %.6g)",
                           fn, name, lmin, lmax);
    return berg__error(BERG_ERR_NOT_SPD,
                       "%s: %s is singular to working precision: its smallest eigenvalue is "
                       "%.6g (largest %.6g, reciprocal condition number %.3g)",
                       fn, name, lmin, lmax, rcond);
}

berg_status berg__linalg_cholesky(size_t d, const double *A, double *L, double min_rcond,
                                  double *rcond, const char *fn, const char *name)
{
    lapack_int n = (lapack_int)d;
    memcpy(L, A, d * d * sizeof(double));
    double anorm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, '1', 'L', n, L, n);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, L, n);
    double rc = 0.0;
    if (info < 0)
        return berg__lapack_status((long)info, fn, "dpotrf");
    if (info == 0) {
        BERG_TRY(berg__lapack_status((long)LAPACKE_dpocon(LAPACK_ROW_MAJOR, 'L', n, L, n, anorm,
                                                           &rc),
                                     fn, "dpocon"));
        if (rcond)
            *rcond = rc;
        if (rc >= min_rcond && anorm > 0.0)
            return BERG_OK;
    } else if (rcond) {
        *rcond = 0.0;
    }
    return refuse_not_spd(d, A, info > 0, rc, fn, name);
}

berg_status berg__linalg_spd_inverse(size_t d, const double *A, double *Ainv, const char *fn,
                                     const char *name)
{
    berg_status st;
    double *L = berg__alloc(d * d, sizeof(double), fn);
    if (!L)
        return berg_last_status();
    BERG_TRY_GOTO(st, berg__linalg_cholesky(d, A, L, berg__linalg_rcond_floor(d), NULL, fn, name),
                  fail);
    lapack_int n = (lapack_int)d;
    BERG_TRY_GOTO(st, berg__lapack_status((long)LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', n, L, n), fn,
                                          "dpotri"),
                  fail);
    berg__linalg_mirror_lower(d, L);
    memcpy(Ainv, L, d * d * sizeof(double));
fail:
    berg__free(L);
    return st;
}

void berg__linalg_sym_function(size_t d, const double *W, const double *f, double *work,
                               double *out)
{
    /* work = W diag(f) (scale the columns), out = work W^T */
    for (size_t i = 0; i < d; i++)
        for (size_t k = 0; k < d; k++)
            work[i * d + k] = W[i * d + k] * f[k];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)d, 1.0, work,
                (int)d, W, (int)d, 0.0, out, (int)d);
    berg__linalg_symmetrize(d, out);
}
