/*
 * Exact spectral propagator of a berg_fp: its generator L is similar to the
 * symmetric S = R^{-1} L R, R = Q^{1/2} = diag(e^{-(V - min V)/2})
 * (detailed balance; finite volume: off-diagonal entries sqrt(r_ij r_ji) =
 * D/h^2 (dV/2)/sinh(dV/2), Fourier: the circulant Laplacian minus U).
 * S = U Lambda U^T by dsyevd (berg__linalg_eigh), then
 * e^{tL} = R U e^{t Lambda} U^T R^{-1} (two cblas_dgemv).
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/linalg.h"
#include "propagator/fp_internal.h"

struct berg_fp_spectral {
    size_t n;
    double *U;          /* n x n row-major, column k = eigenvector k (LAPACK order: ascending) */
    double *lambda;     /* ascending (LAPACK order) */
    double *sqrt_q;     /* e^{-(V_i - min V)/2} */
    double *inv_sqrt_q; /* its reciprocal */
    double lambda_err;  /* absolute error bound of the computed eigenvalues */
    int exact_top;      /* the top eigenvalue is the exact 0 of a mass-conserving flow */
    berg__pool scratch; /* two arrays of n values per evolve */
};

void berg_fp_spectral_destroy(berg_fp_spectral *sp)
{
    if (!sp)
        return;
    berg__free(sp->U);
    berg__free(sp->lambda);
    berg__free(sp->sqrt_q);
    berg__free(sp->inv_sqrt_q);
    berg__pool_free(&sp->scratch);
    berg__free(sp);
}

/* the symmetric form of fp's generator into S (n x n, zeroed here) */
static berg_status symmetric_form(const berg_fp *fp, double *S, const char *fn)
{
    size_t n = fp->n;
    memset(S, 0, n * n * sizeof(double));
    void *scratch = berg__pool_get(berg__fp_pool(fp), fn);
    if (!scratch)
        return berg_last_status();
    berg_status st = fp->ops->symmetric(fp, S, scratch, fn);
    berg__pool_put(berg__fp_pool(fp), scratch);
    return st;
}

static berg_status check_spectral(const berg_fp *fp, const char *fn)
{
    size_t n = fp->n, nn;
    BERG_REQUIRE(fp->vmax - fp->vmin <= 1400.0, BERG_ERR_DOMAIN,
                 "%s: max V - min V = %g exceeds 1400: e^{-V/2} is not representable in double "
                 "precision (use berg_fp_evolve)",
                 fn, fp->vmax - fp->vmin);
    BERG_TRY(berg__mul_size(n, n, &nn, fn, "matrix"));
    BERG_TRY(berg__mul_size(nn, sizeof(double), &nn, fn, "matrix bytes"));
    BERG_REQUIRE(n <= (size_t)INT32_MAX, BERG_ERR_SIZE, "%s: %zu cells is too many for LAPACK",
                 fn, n);
    return BERG_OK;
}

/* the creation; progress (may be NULL) is called at the start and after
 * the decomposition (one LAPACK call that cannot be interrupted) */
static berg_status spectral_create(berg_fp_spectral **out, const berg_fp *fp,
                                   berg_progress_fn progress, void *user_data, const char *fn)
{
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(check_spectral(fp, fn));
    berg__progress pr;
    berg__progress_start(&pr, progress, user_data);
    BERG_TRY(berg__progress_report(&pr, 1, 0.0, 0, NAN, fn));
    size_t n = fp->n;
    berg_fp_spectral *sp = berg__alloc(1, sizeof *sp, fn);
    if (!sp)
        return berg_last_status();
    memset(sp, 0, sizeof *sp);
    berg_status st = BERG_OK;
    sp->n = n;
    if (!(sp->U = berg__alloc(n * n, sizeof(double), fn)) ||
        !(sp->lambda = berg__alloc(n, sizeof(double), fn)) ||
        !(sp->sqrt_q = berg__alloc(n, sizeof(double), fn)) ||
        !(sp->inv_sqrt_q = berg__alloc(n, sizeof(double), fn))) {
        st = berg_last_status();
        goto fail;
    }
    BERG_TRY_GOTO(st, berg__pool_init(&sp->scratch, 2 * n, sizeof(double), fn), fail);
    for (size_t i = 0; i < n; i++) {
        sp->sqrt_q[i] = exp(-0.5 * fp->V[i]);
        sp->inv_sqrt_q[i] = exp(0.5 * fp->V[i]);
    }
    BERG_TRY_GOTO(st, symmetric_form(fp, sp->U, fn), fail);
    /* S is exactly symmetric (both triangles written), so the lower one the
     * shared solver reads is the whole matrix */
    BERG_TRY_GOTO(st, berg__linalg_eigh(n, sp->U, sp->lambda, 1, fn, "the generator"), fail);
    /* the exact top eigenvalue is 0 without absorption: remove rounding */
    if (!fp->absorbing && fabs(sp->lambda[n - 1]) < 1e-12 * fabs(sp->lambda[0]))
        sp->lambda[n - 1] = 0.0;
    if (sp->lambda[n - 1] > 0.0)
        sp->lambda[n - 1] = 0.0;
    sp->exact_top = !fp->absorbing && sp->lambda[n - 1] == 0.0;
    /* a backward-stable symmetric eigensolver: |error| <~ n eps ||S|| */
    sp->lambda_err = 8.0 * (double)n * DBL_EPSILON * fabs(sp->lambda[0]);
    BERG_TRY_GOTO(st, berg__progress_report(&pr, 1, 1.0, 1, NAN, fn), fail);
    *out = sp;
    return BERG_OK;
fail:
    berg_fp_spectral_destroy(sp);
    return st;
}

berg_status berg_fp_spectral_create(berg_fp_spectral **out, const berg_fp *fp)
{
    static const char fn[] = "berg_fp_spectral_create";
    return spectral_create(out, fp, NULL, NULL, fn);
}

berg_status berg_fp_spectral_create_progress(berg_fp_spectral **out, const berg_fp *fp,
                                             berg_progress_fn progress, void *user_data)
{
    static const char fn[] = "berg_fp_spectral_create_progress";
    return spectral_create(out, fp, progress, user_data, fn);
}

/* e^{t lambda_k} of every mode that matters is known to 1e-8: a mode
 * whose eigenvalue is known only to +-err contributes e^{t lambda_k} with a
 * relative error ~ t err (slow modes of metastable or absorbing flows at
 * long times are unresolved in double precision: refused) */
static berg_status check_resolved(const berg_fp_spectral *sp, double t, const char *fn)
{
    const double terr = t * sp->lambda_err;
    if (!(terr > 1e-8))
        return BERG_OK;
    for (size_t k = 0; k < sp->n; k++) {
        if (k == sp->n - 1 && sp->exact_top)
            continue;
        double lk = sp->lambda[k];
        BERG_REQUIRE(t * lk + log(terr) <= log(1e-8), BERG_ERR_DOMAIN,
                     "%s: at t = %g the eigenvalue %g is known only to +-%g (rounding of a "
                     "spectrum reaching %g), so e^{t lambda} would be off by a factor up to "
                     "e^%g; use berg_fp_evolve",
                     fn, t, lk, sp->lambda_err, sp->lambda[0], terr);
    }
    return BERG_OK;
}

berg_status berg_fp_spectral_evolve(const berg_fp_spectral *sp, double t, const double *in,
                                    double *out)
{
    static const char fn[] = "berg_fp_spectral_evolve";
    BERG_TRY(berg__check_ptr(sp, fn, "sp"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_time(t, fn, "t"));
    BERG_TRY(berg__check_finite(in, sp->n, fn, "in"));
    size_t n = sp->n;
    BERG_TRY(check_resolved(sp, t, fn));
    double *x = berg__pool_get((berg__pool *)(uintptr_t)&sp->scratch, fn);
    if (!x)
        return berg_last_status();
    double *c = x + n;
    /* values near DBL_MAX or subnormal enter at a power-of-two scale (the
     * propagator is linear), the result leaves unscaled or is refused */
    double mx = 0.0, sc = 1.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(in[i]));
    if (mx > 0.0 && (mx > 0x1p500 || mx < 0x1p-500)) {
        int e = -ilogb(mx);
        sc = ldexp(1.0, e > 1000 ? 1000 : e);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (in[i] * sc) * sp->inv_sqrt_q[i];
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)n, 1.0, sp->U, (int)n, x, 1, 0.0, c, 1);
    for (size_t k = 0; k < n; k++)
        c[k] *= exp(t * sp->lambda[k]);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, 1.0, sp->U, (int)n, c, 1, 0.0, x, 1);
    berg_status st = BERG_OK;
    for (size_t i = 0; i < n && st == BERG_OK; i++)
        if (!isfinite(x[i] * sp->sqrt_q[i] / sc))
            st = berg__error(BERG_ERR_DOMAIN,
                             "%s: out[%zu] of e^{tL} in is beyond DBL_MAX (or not a number: "
                             "in * e^{V/2} overflows)",
                             fn, i);
    if (st == BERG_OK)
        for (size_t i = 0; i < n; i++)
            out[i] = x[i] * sp->sqrt_q[i] / sc;
    berg__pool_put((berg__pool *)(uintptr_t)&sp->scratch, x);
    return st;
}

berg_status berg_fp_spectral_eigenvalues(const berg_fp_spectral *sp, double *lambda)
{
    static const char fn[] = "berg_fp_spectral_eigenvalues";
    BERG_TRY(berg__check_ptr(sp, fn, "sp"));
    BERG_TRY(berg__check_ptr(lambda, fn, "lambda"));
    for (size_t k = 0; k < sp->n; k++)
        lambda[k] = sp->lambda[sp->n - 1 - k];
    return BERG_OK;
}

berg_status berg_fp_spectral_mode(const berg_fp_spectral *sp, size_t k, double *mode)
{
    static const char fn[] = "berg_fp_spectral_mode";
    BERG_TRY(berg__check_ptr(sp, fn, "sp"));
    BERG_TRY(berg__check_ptr(mode, fn, "mode"));
    size_t n = sp->n;
    BERG_REQUIRE(k < n, BERG_ERR_DOMAIN, "%s: k = %zu but there are %zu modes", fn, k, n);
    size_t col = n - 1 - k;
    double big = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = sp->U[i * n + col];
        if (fabs(v) > fabs(big))
            big = v;
    }
    double sign = (big < 0.0) ? -1.0 : 1.0;
    for (size_t i = 0; i < n; i++)
        mode[i] = sign * sp->U[i * n + col] * sp->sqrt_q[i];
    return BERG_OK;
}
