/*
 * W2 between Gaussians: the Bures closed form (issue 6).
 *
 *   W2^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S1^{1/2} S2 S1^{1/2})^{1/2}
 *
 * The trace form cancels catastrophically when the covariances are close
 * (the answer is a small difference of traces). We use the equivalent
 * Procrustes form: with R1 = S1^{1/2}, R2 = S2^{1/2} (symmetric PSD square
 * roots from LAPACKE_dsyevr) and Q the orthogonal polar factor of R2 R1
 * (from LAPACKE_dgesvd: R2 R1 = U s V^T, Q = U V^T),
 *
 *   tr (R1 S2 R1)^{1/2} = sum s = tr(R1 R2 Q),  so
 *   W2^2 = |m1 - m2|^2 + ||R1 - R2 Q||_F^2,
 *
 * a sum of squares: the distance has an absolute error of a few ulps of
 * ||R||, whatever its size. Q is stationary for the objective, so errors in
 * Q (ill-determined for singular covariances) enter only to second order.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* berg/metric.h first: <lapacke.h> pulls in <complex.h>, whose macro I
 * would clash with parameter names in the header */
#include "berg/metric.h"
#include "core/internal.h"

#include <cblas.h>
#include <lapacke.h>

/* relative size of a negative eigenvalue still treated as round-off */
#define PSD_TOL 1e-12
#define SYM_TOL 1e-12

static berg_status check_cov(const char *fn, const char *name, int d, const double *S)
{
    return berg__check_symmetric(S, (size_t)d, SYM_TOL, fn, name);
}

/* R = S^{1/2} (symmetrized copy of S, eigenvalues clamped at 0). work has
 * room for 3 d^2 doubles; iwork for 2d ints (isuppz) */
static berg_status sqrtm_psd(const char *fn, const char *name, int d, const double *S, double *R,
                             double *work, lapack_int *isuppz)
{
    double *A = work, *Z = work + (size_t)d * d, *ev = work + 2 * (size_t)d * d;
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++)
            A[a * d + b] = 0.5 * (S[a * d + b] + S[b * d + a]);
    lapack_int m = 0;
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'U', d, A, d, 0.0, 0.0, 0, 0,
                                     0.0, &m, ev, Z, d, isuppz);
    if (info != 0 || m != d)
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACKE_dsyevr failed on %s (info %d)", fn,
                           name, (int)info);
    double big = 0.0;
    for (int k = 0; k < d; k++)
        big = fmax(big, fabs(ev[k]));
    for (int k = 0; k < d; k++) {
        if (ev[k] < -PSD_TOL * big)
            return berg__error(BERG_ERR_NOT_SPD,
                               "%s: covariance %s is not positive semi-definite (eigenvalue %g, "
                               "largest magnitude %g)",
                               fn, name, ev[k], big);
        ev[k] = ev[k] > 0.0 ? sqrt(ev[k]) : 0.0;
    }
    /* R = Z diag(sqrt ev) Z^T: scale the columns of Z into A, then A Z^T */
    for (int a = 0; a < d; a++)
        for (int k = 0; k < d; k++)
            A[a * d + k] = Z[a * d + k] * ev[k];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d, d, d, 1.0, A, d, Z, d, 0.0, R, d);
    /* exactly symmetric */
    for (int a = 0; a < d; a++)
        for (int b = a + 1; b < d; b++) {
            double v = 0.5 * (R[a * d + b] + R[b * d + a]);
            R[a * d + b] = v;
            R[b * d + a] = v;
        }
    return BERG_OK;
}

berg_status berg_w2_gaussian(int d, const double *m1, const double *S1, const double *m2,
                             const double *S2, double *w2)
{
    static const char fn[] = "berg_w2_gaussian";
    if (d < 1)
        return berg__error(BERG_ERR_SIZE, "%s: dimension d = %d must be >= 1", fn, d);
    size_t dd;
    berg_status st = berg__mul_size((size_t)d, (size_t)d, &dd, fn, "covariance size");
    if (st != BERG_OK)
        return st;
    if (dd > (size_t)INT_MAX)
        return berg__error(BERG_ERR_SIZE, "%s: dimension d = %d is too large for BLAS", fn, d);
    if ((st = berg__check_finite(m1, (size_t)d, fn, "m1")) != BERG_OK ||
        (st = berg__check_finite(m2, (size_t)d, fn, "m2")) != BERG_OK ||
        (st = check_cov(fn, "S1", d, S1)) != BERG_OK ||
        (st = check_cov(fn, "S2", d, S2)) != BERG_OK ||
        (st = berg__check_ptr(w2, fn, "w2")) != BERG_OK)
        return st;

    /* R1, R2, M, U, VT, work(3 d^2) and d singular values */
    double *buf = berg__alloc(8 * dd + (size_t)d, sizeof(double), fn);
    lapack_int *isuppz = berg__alloc(2 * (size_t)d, sizeof(lapack_int), fn);
    if (!buf || !isuppz) {
        berg__free(buf);
        berg__free(isuppz);
        return BERG_ERR_NOMEM;
    }
    double *R1 = buf, *R2 = buf + dd, *M = buf + 2 * dd, *U = buf + 3 * dd, *VT = buf + 4 * dd,
           *work = buf + 5 * dd, *sv = buf + 8 * dd;
    if ((st = sqrtm_psd(fn, "S1", d, S1, R1, work, isuppz)) != BERG_OK ||
        (st = sqrtm_psd(fn, "S2", d, S2, R2, work, isuppz)) != BERG_OK)
        goto done;
    /* M = R2 R1 = U diag(sv) VT ; Q = U VT */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, R2, d, R1, d, 0.0, M, d);
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', d, d, M, d, sv, U, d, VT, d,
                                     work);
    if (info != 0) {
        st = berg__error(BERG_ERR_INTERNAL, "%s: LAPACKE_dgesvd failed (info %d)", fn, (int)info);
        goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, U, d, VT, d, 0.0, M, d);
    /* R1 <- R1 - R2 Q */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, -1.0, R2, d, M, d, 1.0, R1,
                d);
    double cov_part = cblas_dnrm2((int)dd, R1, 1);
    for (int a = 0; a < d; a++)
        U[a] = m1[a] - m2[a];
    double mean_part = cblas_dnrm2(d, U, 1);
    *w2 = hypot(mean_part, cov_part);
    st = BERG_OK;
done:
    berg__free(buf);
    berg__free(isuppz);
    return st;
}
