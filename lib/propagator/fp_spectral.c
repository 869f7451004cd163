/*
 * Exact spectral propagator of the Scharfetter-Gummel Fokker-Planck
 * generator: S = Q^{-1/2} L Q^{1/2} is symmetric (detailed balance), with
 * off-diagonal entries sqrt(r_ij r_ji) = D/h^2 (dV/2)/sinh(dV/2) that depend
 * only on potential differences. S = U Lambda U^T by LAPACKE_dsyevd, then
 * e^{tL} = Q^{1/2} U e^{t Lambda} U^T Q^{-1/2} (two cblas_dgemv).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"

struct berg_fp_spectral {
    size_t n;
    double *U;       /* n x n row-major, column k = eigenvector k (LAPACK order: ascending) */
    double *lambda;  /* ascending (LAPACK order) */
    double *sq;      /* sqrt(q_i) = exp(-(V_i - min V)/2) */
    double *isq;     /* 1 / sqrt(q_i) */
    double *work, *work2;
};

void berg_fp_spectral_destroy(berg_fp_spectral *sp)
{
    if (!sp)
        return;
    berg__free(sp->U);
    berg__free(sp->lambda);
    berg__free(sp->sq);
    berg__free(sp->isq);
    berg__free(sp->work);
    berg__free(sp->work2);
    berg__free(sp);
}

berg_status berg_fp_spectral_create(berg_fp_spectral **out, const berg_fp *fp)
{
    static const char *fn = "berg_fp_spectral_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__check_ptr(fp, fn, "fp")))
        return st;
    if (fp->vmax - fp->vmin > 1400.0)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: max V - min V = %g exceeds 1400: e^{-V/2} is not representable "
                           "in double precision (use berg_fp_evolve)",
                           fn, fp->vmax - fp->vmin);
    size_t n = fp->n, nn;
    if ((st = berg__mul_size(n, n, &nn, fn, "matrix")))
        return st;
    if ((st = berg__mul_size(nn, sizeof(double), &nn, fn, "matrix bytes")))
        return st;
    if (n > (size_t)INT32_MAX)
        return berg__error(BERG_ERR_SIZE, "%s: %zu cells is too many for LAPACK", fn, n);
    berg_fp_spectral *sp = berg__alloc(1, sizeof *sp, fn);
    if (!sp)
        return berg_last_status();
    memset(sp, 0, sizeof *sp);
    sp->n = n;
    sp->U = berg__alloc(n * n, sizeof(double), fn);
    sp->lambda = berg__alloc(n, sizeof(double), fn);
    sp->sq = berg__alloc(n, sizeof(double), fn);
    sp->isq = berg__alloc(n, sizeof(double), fn);
    sp->work = berg__alloc(n, sizeof(double), fn);
    sp->work2 = berg__alloc(n, sizeof(double), fn);
    if (!sp->U || !sp->lambda || !sp->sq || !sp->isq || !sp->work || !sp->work2) {
        berg_fp_spectral_destroy(sp);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory for a %zu x %zu matrix", fn, n, n);
    }
    const berg_space *s = &fp->space;
    double *S = sp->U;
    memset(S, 0, n * n * sizeof(double));
    int d = s->ndim;
    for (size_t i = 0; i < n; i++) {
        S[i * n + i] = fp->fr ? 0.0 : -fp->out_rate[i];
        sp->sq[i] = exp(-0.5 * fp->V[i]);
        sp->isq[i] = exp(0.5 * fp->V[i]);
    }
    if (fp->fr && (st = berg__fp_fourier_matrix(fp, S, fn))) {
        berg_fp_spectral_destroy(sp);
        return st;
    }
    for (int a = 0; a < d && !fp->fr; a++) {
        double c = s->ginv[a * d + a] / (s->h[a] * s->h[a]);
        size_t na = s->n[a], stv = s->stride[a];
        for (size_t i = 0; i < n; i++) {
            size_t k = (i / stv) % na, j;
            /* the face to the + neighbour (each face once) */
            if (k + 1 < na)
                j = i + stv;
            else if (s->bc[a] == BERG_PERIODIC && na > 1)
                j = i - (na - 1) * stv;
            else
                continue;
            double v = c * berg__bernoulli_sym(fp->V[j] - fp->V[i]);
            S[i * n + j] += v;
            S[j * n + i] += v;
        }
    }
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, S, (lapack_int)n,
                                     sp->lambda);
    if (info != 0) {
        berg_fp_spectral_destroy(sp);
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACKE_dsyevd failed (info %d)", fn,
                           (int)info);
    }
    /* the exact top eigenvalue is 0 without absorption: remove rounding */
    if (!fp->absorbing && fabs(sp->lambda[n - 1]) < 1e-12 * fabs(sp->lambda[0]))
        sp->lambda[n - 1] = 0.0;
    if (sp->lambda[n - 1] > 0.0)
        sp->lambda[n - 1] = 0.0;
    *out = sp;
    return BERG_OK;
}

berg_status berg_fp_spectral_evolve(berg_fp_spectral *sp, double t, const double *in,
                                    double *out)
{
    static const char *fn = "berg_fp_spectral_evolve";
    berg_status st;
    if ((st = berg__check_ptr(sp, fn, "sp")) || (st = berg__check_ptr(out, fn, "out")) ||
        (st = berg__check_time(t, fn, "t")) || (st = berg__check_finite(in, sp->n, fn, "in")))
        return st;
    size_t n = sp->n;
    for (size_t i = 0; i < n; i++)
        sp->work[i] = in[i] * sp->isq[i];
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)n, 1.0, sp->U, (int)n, sp->work, 1, 0.0,
                sp->work2, 1);
    for (size_t k = 0; k < n; k++)
        sp->work2[k] *= exp(t * sp->lambda[k]);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, 1.0, sp->U, (int)n, sp->work2, 1,
                0.0, sp->work, 1);
    for (size_t i = 0; i < n; i++)
        out[i] = sp->work[i] * sp->sq[i];
    return BERG_OK;
}

berg_status berg_fp_spectral_eigenvalues(const berg_fp_spectral *sp, double *lambda)
{
    static const char *fn = "berg_fp_spectral_eigenvalues";
    berg_status st;
    if ((st = berg__check_ptr(sp, fn, "sp")) || (st = berg__check_ptr(lambda, fn, "lambda")))
        return st;
    for (size_t k = 0; k < sp->n; k++)
        lambda[k] = sp->lambda[sp->n - 1 - k];
    return BERG_OK;
}

berg_status berg_fp_spectral_mode(const berg_fp_spectral *sp, size_t k, double *mode)
{
    static const char *fn = "berg_fp_spectral_mode";
    berg_status st;
    if ((st = berg__check_ptr(sp, fn, "sp")) || (st = berg__check_ptr(mode, fn, "mode")))
        return st;
    size_t n = sp->n;
    if (k >= n)
        return berg__error(BERG_ERR_DOMAIN, "%s: k = %zu but there are %zu modes", fn, k, n);
    size_t col = n - 1 - k;
    double big = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = sp->U[i * n + col];
        if (fabs(v) > fabs(big))
            big = v;
    }
    double sign = (big < 0.0) ? -1.0 : 1.0;
    for (size_t i = 0; i < n; i++)
        mode[i] = sign * sp->U[i * n + col] * sp->sq[i];
    return BERG_OK;
}
