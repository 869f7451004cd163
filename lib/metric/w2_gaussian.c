/*
 * W2 between Gaussians: the Bures closed form.
 *
 *   W2^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S1^{1/2} S2 S1^{1/2})^{1/2}
 *
 * The trace form cancels catastrophically when the covariances are close
 * (the answer is a small difference of traces). We use the equivalent
 * Procrustes form: with R1 = S1^{1/2}, R2 = S2^{1/2} (symmetric PSD square
 * roots from the shared symmetric eigensolver) and Q the orthogonal polar
 * factor of R2 R1 (from LAPACKE_dgesvd: R2 R1 = U s V^T, Q = U V^T),
 *
 *   tr (R1 S2 R1)^{1/2} = sum s = tr(R1 R2 Q),  so
 *   W2^2 = |m1 - m2|^2 + ||R1 - R2 Q||_F^2,
 *
 * a sum of squares: the distance has an absolute error of a few ulps of
 * ||R||, whatever its size. Q is stationary for the objective, so errors in
 * Q (ill-determined for singular covariances) enter only to second order.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

/* berg/transport.h first: <lapacke.h> pulls in <complex.h>, whose macro I
 * would clash with parameter names in the headers */
#include "berg/transport.h"
#include "core/internal.h"
#include "core/linalg.h"

#include <cblas.h>
#include <lapacke.h>

/* relative size of a negative eigenvalue still treated as round-off */
#define PSD_TOL 1e-12

/* R = S^{1/2} (eigenvalues clamped at 0), exactly symmetric. work has room
 * for 2 d^2 + d doubles. */
static berg_status sqrtm_psd(const char *fn, const char *name, size_t d, const double *S,
                             double *R, double *work)
{
    double *W = work, *tmp = work + d * d, *ev = work + 2 * d * d;
    memcpy(W, S, d * d * sizeof(double));
    BERG_TRY(berg__linalg_eigh(d, W, ev, 1, fn, name));
    double big = 0.0;
    for (size_t k = 0; k < d; k++)
        big = fmax(big, fabs(ev[k]));
    for (size_t k = 0; k < d; k++) {
        BERG_REQUIRE(ev[k] >= -PSD_TOL * big, BERG_ERR_NOT_SPD,
                     "%s: covariance %s is not positive semi-definite (eigenvalue %g, largest "
                     "magnitude %g)",
                     fn, name, ev[k], big);
        ev[k] = ev[k] > 0.0 ? sqrt(ev[k]) : 0.0;
    }
    berg__linalg_sym_function(d, W, ev, tmp, R);
    return BERG_OK;
}

static berg_status check_inputs(size_t d, const double *m1, const double *S1, const double *m2,
                                const double *S2, const double *w2, const char *fn)
{
    size_t dd;
    BERG_TRY(berg__linalg_check_dim(d, fn, "d"));
    BERG_TRY(berg__mul_size(d, d, &dd, fn, "covariance size"));
    BERG_REQUIRE(dd <= (size_t)INT_MAX, BERG_ERR_SIZE,
                 "%s: dimension d = %zu is too large for BLAS", fn, d);
    BERG_TRY(berg__check_finite(m1, d, fn, "m1"));
    BERG_TRY(berg__check_finite(m2, d, fn, "m2"));
    BERG_TRY(berg__linalg_check_symmetric(d, S1, fn, "S1"));
    BERG_TRY(berg__linalg_check_symmetric(d, S2, fn, "S2"));
    return berg__check_ptr(w2, fn, "w2");
}

berg_status berg_w2_gaussian(size_t d, const double *m1, const double *S1, const double *m2,
                             const double *S2, double *w2)
{
    static const char fn[] = "berg_w2_gaussian";
    BERG_TRY(check_inputs(d, m1, S1, m2, S2, w2, fn));
    size_t dd = d * d;
    int n = (int)d;
    /* R1, R2, M, U, VT, work (2 d^2 + d) and d singular values */
    double *buf = berg__alloc(7 * dd + 2 * d, sizeof(double), fn);
    if (!buf)
        return berg_last_status();
    double *R1 = buf, *R2 = buf + dd, *M = buf + 2 * dd, *U = buf + 3 * dd, *VT = buf + 4 * dd,
           *work = buf + 5 * dd, *sv = buf + 7 * dd + d;
    berg_status st;
    BERG_TRY_GOTO(st, sqrtm_psd(fn, "S1", d, S1, R1, work), fail);
    BERG_TRY_GOTO(st, sqrtm_psd(fn, "S2", d, S2, R2, work), fail);
    /* M = R2 R1 = U diag(sv) VT ; Q = U VT */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, R2, n, R1, n, 0.0, M, n);
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', n, n, M, n, sv, U, n, VT, n,
                                     work);
    BERG_TRY_GOTO(st, berg__lapack_status((long)info, fn, "LAPACKE_dgesvd"), fail);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, U, n, VT, n, 0.0, M, n);
    /* R1 <- R1 - R2 Q */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, -1.0, R2, n, M, n, 1.0, R1,
                n);
    double cov_part = cblas_dnrm2((int)dd, R1, 1);
    /* halves: m1 - m2 overflows for finite means of opposite sign near
     * DBL_MAX, (m1 - m2)/2 does not; dnrm2 and hypot scale internally */
    for (size_t a = 0; a < d; a++)
        U[a] = 0.5 * m1[a] - 0.5 * m2[a];
    double half = hypot(cblas_dnrm2(n, U, 1), 0.5 * cov_part), dist = 2.0 * half;
    if (!isfinite(dist)) {
        st = berg__error(BERG_ERR_DOMAIN,
                         "%s: the distance overflows the double range (half of it is %g)", fn,
                         half);
        goto fail;
    }
    *w2 = dist;
    st = BERG_OK;
fail:
    berg__free(buf);
    return st;
}
