/*
 * lib/dictionary/bayes_predictive.c - the posterior predictive of berg_bayes
 * (seed eq 8, 51): by quadrature (blocked dgemv) and, for affine G, by FFT
 * convolution through the propagator's transform layer.
 */
#include "propagator/transform.h" /* fftw3.h before cblas.h, which may pull in complex.h */

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dictionary/internal.h"
#include "fisher/blas_threads.h"

/* p(y_j) = sum_i pi_i w_u exp(ln p(y_j|u_i)), blocks of data cells, dgemv.
 * With threads the blocks (the same blocks as on one thread) are shared
 * among them, each with its own exponentials, OpenBLAS held at one thread. */
enum { BLOCK = 8 };

typedef struct predictive_job {
    const berg_bayes *b;
    const double *pw, *active;
    double *E;   /* BLOCK x nu per range */
    double *res;
    void *fails; /* NULL on one thread */
    berg_status st;
    const char *fn;
} predictive_job;

/* the blocks [k0, k1) of data cells */
static void predictive_blocks(void *ctx, size_t k0, size_t k1, size_t r)
{
    predictive_job *job = ctx;
    const berg_bayes *b = job->b;
    const size_t nu = b->nu;
    double *E = job->E + r * BLOCK * nu;
    for (size_t k = k0; k < k1; k++) {
        size_t j0 = k * BLOCK, nb = b->ny - j0 < BLOCK ? b->ny - j0 : BLOCK;
        for (size_t q = 0; q < nb; q++) {
            double y[BERG_MAX_RANK];
            berg__bayes_data_point(b, j0 + q, y);
            double *er = E + q * nu;
            berg_status st = berg__bayes_loglik_row(b, y, job->active, er, job->fn);
            if (st != BERG_OK) {
                if (job->fails)
                    berg__bayes_fail_keep(job->fails, r, j0 + q, st);
                else
                    job->st = st;
                return;
            }
            for (size_t i = 0; i < nu; i++)
                er[i] = exp(er[i]);
        }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)nu, 1.0, E, (int)nu, job->pw, 1,
                    0.0, job->res + j0, 1);
    }
}

static berg_status predictive_from(const berg_bayes *b, const double *pi, double *p,
                                   const char *fn)
{
    size_t nu = b->nu, nblocks = (b->ny + BLOCK - 1) / BLOCK;
    size_t nt = berg__bayes_cell_threads(b, b->ny);
    if (nt > nblocks)
        nt = nblocks;
    berg_status st = BERG_OK;
    double *E = berg__alloc(nt * BLOCK * nu, sizeof(double), fn);
    double *pw = berg__alloc(nu, sizeof(double), fn);
    double *res = berg__alloc(b->ny, sizeof(double), fn);
    double *active = berg__alloc(nu, sizeof(double), fn); /* -inf where pi = 0: skipped */
    void *fails = nt > 1 ? berg__bayes_fails(nt, fn) : NULL;
    if (!E || !pw || !res || !active || (nt > 1 && !fails)) {
        st = berg_last_status();
        goto done;
    }
    for (size_t i = 0; i < nu; i++) {
        pw[i] = pi[i] * b->param.weight;
        active[i] = pw[i] > 0.0 ? 0.0 : -HUGE_VAL;
    }
    predictive_job job = {b, pw, active, E, res, fails, BERG_OK, fn};
    if (nt > 1) {
        int held = berg__blas_hold();
        berg__parallel_ranges(nblocks, nt, held ? nt : 1, predictive_blocks, &job);
        if (held)
            berg__blas_release();
        BERG_TRY_GOTO(st, berg__bayes_fail_first(fails, nt), done);
    } else {
        predictive_blocks(&job, 0, nblocks, 0);
        BERG_TRY_GOTO(st, job.st, done);
    }
    memcpy(p, res, b->ny * sizeof(double));
done:
    berg__free(E);
    berg__free(pw);
    berg__free(res);
    berg__free(active);
    berg__free(fails);
    return st;
}

berg_status berg_bayes_predictive(const berg_bayes *b, double *p)
{
    static const char fn[] = "berg_bayes_predictive";
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(p, fn, "p"));
    BERG_TRY(berg__bayes_need_model(b, fn));
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    if (!pi)
        return berg_last_status();
    berg__bayes_density_from_log(b, b->logpost, b->logpost_comp, pi);
    berg_status st = predictive_from(b, pi, p, fn);
    berg__free(pi);
    return st;
}

berg_status berg__bayes_expected_predictive(const berg_bayes *b, double T, double *p,
                                            const char *fn)
{
    berg_status st;
    double *lp = berg__alloc(b->nu, sizeof(double), fn);
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    if (!lp || !pi) {
        st = berg_last_status();
    } else if (!(st = berg__bayes_expected_log(b, T, lp, fn))) {
        berg__bayes_density_from_log(b, lp, NULL, pi);
        st = predictive_from(b, pi, p, fn);
    }
    berg__free(lp);
    berg__free(pi);
    return st;
}

/* ---- FFT predictive ----------------------------------------------------- */

/* G(u) = a u + c on the parameter grid (du = dy = 1), to 1e-10 relative */
static berg_status affine_coefficients(const berg_bayes *b, double *a, double *c, const char *fn)
{
    size_t nu = b->nu;
    const double *u = b->ucoord, *g = b->G_at_cells;
    BERG_REQUIRE(nu >= 2, BERG_ERR_DOMAIN, "%s: the parameter grid needs 2 cells", fn);
    double slope = (g[nu - 1] - g[0]) / (u[nu - 1] - u[0]), icpt = g[0] - slope * u[0];
    BERG_REQUIRE(slope != 0.0, BERG_ERR_DOMAIN, "%s: G is constant on the parameter grid", fn);
    double scale = fabs(slope) * fmax(fabs(u[0]), fabs(u[nu - 1])) + fabs(icpt);
    /* an infinite scale would pass every test below */
    BERG_REQUIRE(isfinite(slope) && isfinite(icpt) && isfinite(scale), BERG_ERR_DOMAIN,
                 "%s: the affine fit of G overflows (slope %g, intercept %g on the parameter "
                 "box [%g, %g])",
                 fn, slope, icpt, b->param.lo[0], b->param.hi[0]);
    for (size_t i = 0; i < nu; i++)
        BERG_REQUIRE(fabs(g[i] - (slope * u[i] + icpt)) <= 1e-10 * scale, BERG_ERR_DOMAIN,
                     "%s: G is not affine (parameter cell %zu departs from a u + c)", fn, i);
    *a = slope;
    *c = icpt;
    return BERG_OK;
}

/* the noise density at the offsets m h_y, m = -(ny-1) .. ny-1, wrapped into B (L values) */
static berg_status noise_kernel(const berg_bayes *b, size_t L, double *B, const char *fn)
{
    long ny = (long)b->ny;
    double hy = b->data.h[0];
    memset(B, 0, L * sizeof(double));
    for (long m = -ny + 1; m <= ny - 1; m++) {
        double n = (double)m * hy, zero = 0.0, lp;
        BERG_TRY(berg__bayes_noise_logpdf(b, &n, &zero, &lp, fn));
        B[m >= 0 ? (size_t)m : (size_t)((long)L + m)] = exp(lp);
    }
    return BERG_OK;
}

/* The posterior pushed forward to the data grid by v = a u + c (linear
 * interpolation), zero-padded into A (L values).
 *
 * Its mass on the data grid, h_y sum_k A[k], is the check that the data grid
 * resolves the pushforward: the interpolant integrates to the posterior's
 * mass 1 (a tent per parameter cell), so the sum differs from 1 only by the
 * O(h^2) aliasing of sampling it at h_y, and by what falls outside the data
 * box. For a Gaussian posterior of standard deviation s the aliasing is at
 * most about 0.04 (h / s)^2, h = max(h_u, h_y / |a|) (measured over 1951
 * grid ratios h_y / (|a| h_u) in [0.1, 4] with random offsets: 3.9e-2 at
 * s = h, 9.7e-3 at s = 2 h, 1.6e-3 at s = 5 h; docs/dictionary.md); the
 * resolved cases of the tests are at 1.0e-2 and below. A
 * pushforward narrower than a data cell falls between the data points (mass
 * 0) or on one (mass h_y / (|a| h_u) or more), and one that leaves the data
 * box loses that part: refused above PF_MASS_TOL, which no posterior
 * resolved by a cell of both grids reaches. */
#define PF_MASS_TOL 5e-2
static void push_forward(const berg_bayes *b, const double *pi, double a, double c, size_t L,
                         double *A)
{
    long nu = (long)b->nu;
    double hu = b->param.h[0], ulo = b->param.lo[0];
    memset(A, 0, L * sizeof(double));
    for (size_t k = 0; k < b->ny; k++) {
        /* the parameter of v in halves: v - c and u - lo overflow for huge
         * terms of opposite signs; 2 ((v/2 - c/2) / a - lo/2) / h is the
         * same number otherwise, and an overflow to inf here is a point
         * beyond every cell (|u - lo| > DBL_MAX) */
        double v = berg__coord(&b->data, 0, k);
        double x = 2.0 * (((0.5 * v - 0.5 * c) / a - 0.5 * ulo) / hu) - 0.5;
        double fl = floor(x + 1e-9), f = x - fl;
        if (!(fl >= -1.0 && fl < (double)nu)) { /* neither neighbour on the grid (or NaN) */
            A[k] = 0.0;
            continue;
        }
        long i0 = (long)fl;
        if (fabs(f) < 1e-9)
            f = 0.0;
        double val = 0.0;
        if (i0 >= 0 && i0 < nu)
            val += (1.0 - f) * pi[i0];
        if (f > 0.0 && i0 + 1 >= 0 && i0 + 1 < nu)
            val += f * pi[i0 + 1];
        A[k] = val / fabs(a);
    }
}

/* A <- A (*) B, the cyclic convolution of two L-periodic arrays */
static berg_status convolve(size_t L, double *A, const double *B, const char *fn)
{
    berg_space *ring = NULL;
    berg__xform x;
    double lo = 0.0, hi = (double)L;
    berg_boundary bc = BERG_PERIODIC;
    berg_status st = berg_space_create(&ring, 1, &L, &lo, &hi, &bc, NULL);
    if (st != BERG_OK)
        return berg__dict_rewrap(st, fn, "the convolution grid");
    st = berg__xform_init(&x, ring, 1, 1, BERG__XF_ESTIMATE, fn);
    berg_space_destroy(ring);
    if (st != BERG_OK)
        return st;
    double *FA = berg__alloc(x.nspec_doubles, sizeof(double), fn);
    if (!FA) {
        berg__xform_free(&x);
        return berg_last_status();
    }
    berg__xform_forward(&x, A);
    memcpy(FA, x.spec, x.nspec_doubles * sizeof(double));
    berg__xform_forward(&x, B);
    for (size_t q = 0; q < x.nspec; q++) {
        double ar = FA[2 * q], ai = FA[2 * q + 1], br = x.spec[2 * q], bi = x.spec[2 * q + 1];
        x.spec[2 * q] = (ar * br - ai * bi) / (double)L;
        x.spec[2 * q + 1] = (ar * bi + ai * br) / (double)L;
    }
    berg__xform_inverse(&x, x.spec, A);
    berg__free(FA);
    berg__xform_free(&x);
    return BERG_OK;
}

berg_status berg_bayes_predictive_fft(const berg_bayes *b, double *p)
{
    static const char fn[] = "berg_bayes_predictive_fft";
    berg_status st;
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_TRY(berg__check_ptr(p, fn, "p"));
    BERG_TRY(berg__bayes_need_model(b, fn));
    BERG_REQUIRE(b->model == BERG__MODEL_LOCATION && b->du == 1 && b->dy == 1, BERG_ERR_DOMAIN,
                 "%s: needs a location model with du = dy = 1 (use berg_bayes_predictive)", fn);
    double a = 0.0, c = 0.0;
    BERG_TRY(affine_coefficients(b, &a, &c, fn));
    size_t L = 2 * b->ny;
    double *pi = berg__alloc(b->nu, sizeof(double), fn);
    double *A = berg__alloc(L, sizeof(double), fn), *B = berg__alloc(L, sizeof(double), fn);
    if (!pi || !A || !B) {
        st = berg_last_status();
        goto done;
    }
    BERG_TRY_GOTO(st, noise_kernel(b, L, B, fn), done);
    berg__bayes_density_from_log(b, b->logpost, b->logpost_comp, pi);
    push_forward(b, pi, a, c, L, A);
    double mass = berg__sum(A, b->ny) * b->data.h[0];
    if (!(fabs(mass - 1.0) <= PF_MASS_TOL)) {
        st = berg__error(
            BERG_ERR_DOMAIN,
            "%s: the pushed-forward posterior's mass on the data grid is %.6g instead of 1 "
            "(tolerance %g): the data grid (cell %g on [%g, %g]) does not resolve G's image of "
            "the posterior (G(u) = %g u + %g), or the image lies outside the data box; "
            "berg_bayes_predictive (quadrature) has no such limit",
            fn, mass, PF_MASS_TOL, b->data.h[0], b->data.lo[0], b->data.hi[0], a, c);
        goto done;
    }
    BERG_TRY_GOTO(st, convolve(L, A, B, fn), done);
    for (size_t j = 0; j < b->ny; j++)
        p[j] = A[j] * b->data.h[0];
done:
    berg__free(pi);
    berg__free(A);
    berg__free(B);
    return st;
}
