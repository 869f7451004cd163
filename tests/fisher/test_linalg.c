/*
 * White-box tests of the shared dense symmetric linear algebra
 * (lib/core/linalg.h): the one symmetry tolerance, Cholesky with its
 * condition check and messages, the SPD inverse, the eigensolver, symmetric
 * matrix functions, triangle mirroring and the LAPACKE status mapping.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "core/internal.h"
#include "core/linalg.h"

static const char fn[] = "test_linalg";

/* A = B B^T + shift I for a fixed pseudo-random B */
static void spd(size_t d, double shift, double *A)
{
    unsigned long long st = 12345;
    double B[64];
    for (size_t i = 0; i < d * d; i++)
        B[i] = tu_uniform(&st) - 0.5;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = i == j ? shift : 0.0;
            for (size_t k = 0; k < d; k++)
                s += B[i * d + k] * B[j * d + k];
            A[i * d + j] = s;
        }
}

static void test_symmetry_tolerance(void)
{
    double A[4] = {2.0, 1.0, 1.0, 3.0};
    A[1] = 1.0 + 0.5 * BERG__SYM_RTOL * 3.0;
    CHECK_STATUS(berg__linalg_check_symmetric(2, A, fn, "A"), BERG_OK, "within the tolerance");
    A[1] = 1.0 + 2.0 * BERG__SYM_RTOL * 3.0;
    CHECK_STATUS(berg__linalg_check_symmetric(2, A, fn, "A"), BERG_ERR_NOT_SPD,
                 "beyond the tolerance");
    CHECK_MESSAGE("A[0][1]", "names the pair");
    A[1] = NAN;
    CHECK_STATUS(berg__linalg_check_symmetric(2, A, fn, "A"), BERG_ERR_NONFINITE, "NaN");
    CHECK_STATUS(berg__linalg_check_dim(0, fn, "d"), BERG_ERR_SIZE, "d = 0");
    CHECK_STATUS(berg__linalg_check_dim((size_t)1 << 40, fn, "d"), BERG_ERR_SIZE, "d > INT_MAX");
    CHECK_STATUS(berg__linalg_check_dim(3, fn, "d"), BERG_OK, "d = 3");
}

static void test_cholesky(void)
{
    enum { D = 5 };
    double A[D * D], L[D * D], rc = -1.0;
    spd(D, 0.5, A);
    CHECK_STATUS(berg__linalg_cholesky(D, A, L, berg__linalg_rcond_floor(D), &rc, fn, "A"),
                 BERG_OK, "SPD factor");
    CHECK(rc > 0.0 && rc <= 1.0, "rcond %g in (0, 1]", rc);
    double err = 0.0;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t k = 0; k <= j; k++)
                s += L[i * D + k] * L[j * D + k];
            err = fmax(err, fabs(s - A[i * D + j]));
        }
    CHECK(err < 1e-13, "L L^T = A (error %g)", err);

    double ind[4] = {1.0, 2.0, 2.0, 1.0};
    CHECK_STATUS(berg__linalg_cholesky(2, ind, L, berg__linalg_rcond_floor(2), NULL, fn, "M"),
                 BERG_ERR_NOT_SPD, "indefinite");
    CHECK_MESSAGE("M is not positive definite", "indefinite named");
    CHECK_MESSAGE("-1", "smallest eigenvalue given");
    double sing[4] = {1.0, 1.0, 1.0, 1.0};
    CHECK_STATUS(berg__linalg_cholesky(2, sing, L, berg__linalg_rcond_floor(2), NULL, fn, "M"),
                 BERG_ERR_NOT_SPD, "exactly singular");
    CHECK_MESSAGE("singular", "exactly singular named as singular");
    double ill[4] = {1.0, 0.0, 0.0, 1e-17};
    rc = -1.0;
    CHECK_STATUS(berg__linalg_cholesky(2, ill, L, berg__linalg_rcond_floor(2), &rc, fn, "M"),
                 BERG_ERR_NOT_SPD, "ill-conditioned");
    CHECK_MESSAGE("singular to working precision", "ill-conditioned named");
    CHECK(rc >= 0.0 && rc < 1e-16, "rcond of the refused matrix reported (%g)", rc);
    CHECK_STATUS(berg__linalg_cholesky(2, ill, L, 0.0, NULL, fn, "M"), BERG_OK,
                 "a caller's lower floor accepts it");
}

static void test_inverse(void)
{
    enum { D = 6 };
    double A[D * D], Ai[D * D];
    spd(D, 0.1, A);
    CHECK_STATUS(berg__linalg_spd_inverse(D, A, Ai, fn, "A"), BERG_OK, "inverse");
    double err = 0.0;
    int sym = 1;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double s = 0.0;
            for (size_t k = 0; k < D; k++)
                s += A[i * D + k] * Ai[k * D + j];
            err = fmax(err, fabs(s - (i == j)));
            sym &= Ai[i * D + j] == Ai[j * D + i];
        }
    CHECK(err < 1e-12, "A A^{-1} = 1 (error %g)", err);
    CHECK(sym, "the inverse is exactly symmetric");
    double B[D * D];
    memcpy(B, A, sizeof B);
    CHECK_STATUS(berg__linalg_spd_inverse(D, B, B, fn, "B"), BERG_OK, "in place");
    CHECK(tu_max_abs_diff(B, Ai, D * D) == 0.0, "in place = out of place");
    double ind[4] = {1.0, 2.0, 2.0, 1.0}, out[4] = {7, 7, 7, 7};
    CHECK_STATUS(berg__linalg_spd_inverse(2, ind, out, fn, "M"), BERG_ERR_NOT_SPD, "indefinite");
    CHECK(tu_untouched(out, 4, 7.0), "output untouched on failure");
}

static void test_eigen(void)
{
    enum { D = 5 };
    double A[D * D], W[D * D], w[D], work[D * D], R[D * D];
    spd(D, 0.0, A);
    A[3] = A[D * 3] = -2.0; /* make it indefinite */
    memcpy(W, A, sizeof W);
    CHECK_STATUS(berg__linalg_eigh(D, W, w, 1, fn, "A"), BERG_OK, "eigh");
    int asc = 1;
    for (size_t k = 1; k < D; k++)
        asc &= w[k - 1] <= w[k];
    CHECK(asc, "ascending eigenvalues");
    CHECK(w[0] < 0.0, "indefinite matrices are fine");
    double orth = 0.0;
    for (size_t a = 0; a < D; a++)
        for (size_t b = 0; b < D; b++) {
            double s = 0.0;
            for (size_t i = 0; i < D; i++)
                s += W[i * D + a] * W[i * D + b];
            orth = fmax(orth, fabs(s - (a == b)));
        }
    CHECK(orth < 1e-14, "orthonormal columns (%g)", orth);
    berg__linalg_sym_function(D, W, w, work, R);
    CHECK(tu_max_abs_diff(R, A, D * D) < 1e-13, "W diag(w) W^T = A (%g)",
          tu_max_abs_diff(R, A, D * D));
    double lmin, lmax;
    CHECK_STATUS(berg__linalg_eig_extremes(D, A, &lmin, &lmax, fn, "A"), BERG_OK, "extremes");
    CHECK(lmin == w[0] && lmax == w[D - 1], "extremes = ends of the spectrum");
    double v[D];
    memcpy(W, A, sizeof W);
    CHECK_STATUS(berg__linalg_eigh(D, W, v, 0, fn, "A"), BERG_OK, "values only");
    CHECK(tu_max_abs_diff(v, w, D) < 1e-13, "values only = with vectors");
}

static void test_mirror(void)
{
    double A[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, B[9];
    memcpy(B, A, sizeof B);
    berg__linalg_mirror_lower(3, A);
    CHECK(A[1] == 4 && A[2] == 7 && A[5] == 8 && A[3] == 4, "lower -> upper");
    berg__linalg_mirror_upper(3, B);
    CHECK(B[3] == 2 && B[6] == 3 && B[7] == 6 && B[1] == 2, "upper -> lower");
    double C[4] = {1, 2, 4, 1};
    berg__linalg_symmetrize(2, C);
    CHECK(C[1] == 3 && C[2] == 3, "symmetrize averages");
}

static void test_lapack_status(void)
{
    CHECK_STATUS(berg__lapack_status(0, fn, "dpotrf"), BERG_OK, "0");
    CHECK_STATUS(berg__lapack_status(-1010, fn, "dsyevd"), BERG_ERR_NOMEM, "work memory");
    CHECK_MESSAGE("dsyevd", "names the routine");
    CHECK_STATUS(berg__lapack_status(-1011, fn, "dsyevd"), BERG_ERR_NOMEM, "transpose memory");
    CHECK_STATUS(berg__lapack_status(-4, fn, "dpotrs"), BERG_ERR_INTERNAL, "bad argument");
    CHECK_MESSAGE("-4", "gives the code");
}

int main(void)
{
    test_symmetry_tolerance();
    test_cholesky();
    test_inverse();
    test_eigen();
    test_mirror();
    test_lapack_status();
    return test_summary("linalg");
}
