/*
 * The Fourier (pseudo-spectral) discretization of the Fokker-Planck flow,
 * berg_fp_create(..., BERG_FP_FOURIER): split steps around the FFT heat step
 * in the symmetrized form (docs/fokker_planck.md, "Fourier discretization").
 *
 * With r = e^{-(V - min V)/2} = sqrt(q) up to a constant and p = r psi,
 *   d/dt p = div(g^{-1}(grad p + p grad V))   <=>   d/dt psi = H psi,
 *   H = Delta_g - U,   U = (Delta_g r) / r = |grad V|_g^2 / 4 - Delta_g V / 2,
 * a Schroedinger operator, symmetric in the plain inner product, with
 * H r = 0. Delta_g is the spectral Laplacian of a periodic grid (any
 * constant metric, coupled axes included) and U is computed as
 * (Delta_g r) / r with that same Laplacian wherever r >= R_THRESHOLD, so
 * r is the discrete null vector to rounding and q = r^2 / Z the exact
 * discrete stationary state. Where r < R_THRESHOLD (q below 1e-10 of its
 * maximum: the walls of a confining potential) the quotient would amplify
 * rounding, and U is the same expression by second-order finite
 * differences of V (one-sided at the box edge, so V need not be periodic).
 *
 * Time stepping: the Strang step S(tau) = e^{-tau U/2} e^{tau Delta_g}
 * e^{-tau U/2} (the heat factor by FFT, the potential factor pointwise:
 * both exact and unconditionally stable) is symmetric, so its error expands
 * in powers of tau^2; T_j = S(tau/j)^j for j = 1..K are extrapolated by the
 * shared controller (extrapolate.c) in tau^2 to order 2K, the error
 * measured in L1 of p. After every step the component along r is reset to
 * its initial value (the exact flow keeps it: <r, H psi> = <H r, psi> = 0),
 * which conserves the mass exactly and can only reduce the error; values
 * the extrapolation makes negative are set to zero and the mass is restored
 * by scaling.
 *
 * The tables are immutable; the factor tables of the current step size,
 * the stages and the FFT buffers live in the caller's scratch block.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"
#include "propagator/transform.h"

#define STAGES 4            /* extrapolation stages: order 2K, estimate of order 2K - 2 */
#define R_THRESHOLD 1e-5    /* r below this: U by finite differences */
#define R_TAIL_MAX 1e-5     /* largest Fourier tail of r accepted */
#define PSI_TAIL_MAX 1e-4   /* largest Fourier tail of p / r accepted */
/* the rounding level of the time-dependent stepper's error estimate, relative
 * to the mass (fourier_tscale) */
#define TSCALE_ROUNDING (16.0 * DBL_EPSILON)

typedef struct fourier_tables {
    berg__xform x;
    int separable;                      /* diagonal metric: per-axis heat factors */
    double *wave_form;                  /* k.g^{-1}k per spectral mode */
    double *axis_form[BERG_MAX_RANK];   /* separable: g^{aa} k_a^2 per axis index */
    double *r;                          /* e^{-(V - min V)/2} */
    double r_norm2;                     /* sum r^2 */
    double *U;                          /* the potential of H */
    double umax, wave_max;              /* max |U|, max k.g^{-1}k: the stiffness */
} fourier_tables;

/* one call's workspace, carved from a scratch block */
typedef struct fourier_work {
    double *psi;
    double *stage[STAGES];
    double *half[STAGES];                       /* e^{-(tau/(2j)) U} */
    double *heat_axis[STAGES][BERG_MAX_RANK];   /* separable: e^{-(tau/j) q_a} axis_norm_a */
    double *heat_mode[STAGES];                  /* coupled: e^{-(tau/j) q} norm */
    berg__xscratch fft;
} fourier_work;

static size_t fourier_carve(const berg_fp *fp, const fourier_tables *ft, void *block,
                            fourier_work *w)
{
    const berg__xform *x = &ft->x;
    berg__fp_arena ar = {block, 0};
    size_t n = fp->n, d = (size_t)fp->space.ndim;
    w->psi = berg__fp_take(&ar, n, sizeof(double));
    for (size_t j = 0; j < STAGES; j++) {
        w->stage[j] = berg__fp_take(&ar, n, sizeof(double));
        w->half[j] = berg__fp_take(&ar, n, sizeof(double));
        w->heat_mode[j] = NULL;
        for (size_t a = 0; a < BERG_MAX_RANK; a++)
            w->heat_axis[j][a] = NULL;
        if (ft->separable)
            for (size_t a = 0; a < d; a++)
                w->heat_axis[j][a] = berg__fp_take(&ar, x->sshape[a], sizeof(double));
        else
            w->heat_mode[j] = berg__fp_take(&ar, x->nspec, sizeof(double));
    }
    double *fft = berg__fp_take(&ar, berg__xform_scratch_doubles(x, 1), sizeof(double));
    if (fft)
        berg__xform_scratch_carve(x, fft, 1, &w->fft);
    return ar.used;
}

static void fourier_destroy(void *tables)
{
    fourier_tables *ft = tables;
    if (!ft)
        return;
    berg__xform_free(&ft->x);
    berg__free(ft->wave_form);
    for (size_t a = 0; a < BERG_MAX_RANK; a++)
        berg__free(ft->axis_form[a]);
    berg__free(ft->r);
    berg__free(ft->U);
    berg__free(ft);
}

/* ---- spectral helpers ---------------------------------------------------- */

typedef struct tail_sum {
    const berg__xform *x;
    const double *spec;
    double tail, total;
} tail_sum;

/* l2 energy of the spectrum (complex, r2c layout), split into the modes
 * with some |k_a| above 2/3 of that axis' Nyquist wave number */
static int tail_mode(size_t mode, const size_t *idx, const double *k, void *ctx)
{
    tail_sum *c = ctx;
    const berg_space *s = &c->x->space;
    double re = c->spec[2 * mode], im = c->spec[2 * mode + 1];
    double e = re * re + im * im;
    int ha = c->x->halved_axis;
    if (ha >= 0 && idx[ha] != 0 && !(s->n[ha] % 2 == 0 && idx[ha] == s->n[ha] / 2))
        e *= 2.0; /* the conjugate mode that r2c leaves out */
    int high = 0;
    for (size_t a = 0; a < (size_t)s->ndim; a++)
        if (fabs(k[a]) * s->h[a] > (2.0 / 3.0) * M_PI)
            high = 1;
    c->total += e;
    if (high)
        c->tail += e;
    return 0;
}

/* sqrt(high-mode energy / energy) of f */
static double fourier_tail(const berg__xform *x, const berg__xscratch *fft, const double *f)
{
    berg__xform_forward_s(x, fft, f, fft->spec);
    tail_sum c = {x, fft->spec, 0.0, 0.0};
    berg__xform_each_mode(x, tail_mode, &c);
    return c.total > 0.0 ? sqrt(c.tail / c.total) : 0.0;
}

/* out = Delta_g in (spectral); in may equal out */
static void laplacian(const fourier_tables *ft, const berg__xscratch *fft, const double *in,
                      double *out)
{
    const berg__xform *x = &ft->x;
    berg__xform_forward_s(x, fft, in, fft->spec);
    double *s = fft->spec, nm = x->norm;
    for (size_t j = 0; j < x->nspec; j++) {
        double f = -ft->wave_form[j] * nm;
        s[2 * j] *= f;
        s[2 * j + 1] *= f;
    }
    berg__xform_inverse_s(x, fft, s, out);
}

/* ---- set-up -------------------------------------------------------------- */

/* d/dx_a of f, second order, one-sided on the two edge cells of the axis
 * (so that a V that is not periodic is differentiated where it is) */
static void fd_derivative(const berg_space *s, size_t a, const double *f, double *out)
{
    size_t n = s->size, na = s->n[a], st = s->stride[a], block = na * st;
    double h = s->h[a];
    /* cell i = o block + c st + k: no division per cell */
    for (size_t o = 0; o < n; o += block)
        for (size_t c = 0; c < na; c++) {
            size_t i0 = o + c * st;
            const double *fi = f + i0;
            double *oi = out + i0;
            if (c == 0)
                for (size_t k = 0; k < st; k++)
                    oi[k] = (-3.0 * fi[k] + 4.0 * fi[k + st] - fi[k + 2 * st]) / (2.0 * h);
            else if (c == na - 1) {
                /* (fi - st)[k], not fi[k - st]: k - st wraps as a size_t
                 * and the pointer addition would overflow (UB) */
                const double *f1 = fi - st, *f2 = fi - 2 * st;
                for (size_t k = 0; k < st; k++)
                    oi[k] = (3.0 * fi[k] - 4.0 * f1[k] + f2[k]) / (2.0 * h);
            } else {
                const double *f1 = fi - st;
                for (size_t k = 0; k < st; k++)
                    oi[k] = (fi[k + st] - f1[k]) / (2.0 * h);
            }
        }
}

/* U = |grad V|_g^2 / 4 - Delta_g V / 2 by finite differences (the metric
 * of s), stored into U at the cells where r < R_THRESHOLD (the others are
 * untouched); grad: d n doubles, second and acc: n doubles each */
static void potential_fd_into(const berg_space *s, const double *V, const double *r, double *U,
                              double *grad, double *second, double *acc)
{
    size_t n = s->size, d = (size_t)s->ndim;
    size_t small = 0;
    for (size_t i = 0; i < n; i++)
        small += (r[i] < R_THRESHOLD);
    if (!small)
        return;
    for (size_t a = 0; a < d; a++)
        fd_derivative(s, a, V, grad + a * n);
    memset(acc, 0, n * sizeof(double));
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double D = s->ginv[a * d + b];
            if (D == 0.0)
                continue;
            fd_derivative(s, a, grad + b * n, second);
            const double *ga = grad + a * n, *gb = grad + b * n;
            for (size_t i = 0; i < n; i++)
                acc[i] += D * (0.25 * ga[i] * gb[i] - 0.5 * second[i]);
        }
    for (size_t i = 0; i < n; i++)
        if (r[i] < R_THRESHOLD)
            U[i] = acc[i];
}

static berg_status potential_fd(const berg_fp *fp, fourier_tables *ft, const char *fn)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n, d = (size_t)s->ndim;
    berg_status st = BERG_OK;
    double *grad = berg__alloc(d * n, sizeof(double), fn);
    double *second = berg__alloc(n, sizeof(double), fn);
    double *acc = berg__alloc(n, sizeof(double), fn);
    if (!grad || !second || !acc)
        st = berg_last_status();
    else
        potential_fd_into(s, fp->V, ft->r, ft->U, grad, second, acc);
    berg__free(grad);
    berg__free(second);
    berg__free(acc);
    return st;
}

/* every axis periodic with at least 4 cells */
static berg_status check_grid(const berg_space *s, const char *fn)
{
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        BERG_REQUIRE(s->bc[a] == BERG_PERIODIC, BERG_ERR_UNSUPPORTED,
                     "%s: BERG_FP_FOURIER needs periodic axes (axis %zu is not); use the "
                     "finite-volume discretization (flags 0)",
                     fn, a);
        BERG_REQUIRE(s->n[a] >= 4, BERG_ERR_SIZE,
                     "%s: BERG_FP_FOURIER needs at least 4 cells per axis (axis %zu has %zu)",
                     fn, a, s->n[a]);
    }
    return BERG_OK;
}

/* the tables of the symbol: wave_form, axis_form, wave_max */
static berg_status build_symbol(const berg_fp *fp, fourier_tables *ft, const char *fn)
{
    const berg__xform *x = &ft->x;
    size_t d = (size_t)fp->space.ndim;
    ft->separable = fp->space.diagonal;
    if (!(ft->wave_form = berg__alloc(x->nspec, sizeof(double), fn)))
        return berg_last_status();
    for (size_t a = 0; a < d && ft->separable; a++) {
        if (!(ft->axis_form[a] = berg__alloc(x->sshape[a], sizeof(double), fn)))
            return berg_last_status();
        berg__xform_axis_quad(x, (int)a, 0, ft->axis_form[a]);
    }
    berg__xform_quad_table(x, 0, ft->wave_form);
    ft->wave_max = 0.0;
    for (size_t j = 0; j < x->nspec; j++)
        ft->wave_max = fmax(ft->wave_max, ft->wave_form[j]);
    return BERG_OK;
}

/* r, U = (Delta_g r) / r (finite differences where r is tiny), refusing an
 * unresolved r or an overflowing U; work is one scratch block */
static berg_status build_potential(const berg_fp *fp, fourier_tables *ft, void *work,
                                   const char *fn)
{
    size_t n = fp->n;
    fourier_work w;
    fourier_carve(fp, ft, work, &w);
    if (!(ft->r = berg__alloc(n, sizeof(double), fn)) ||
        !(ft->U = berg__alloc(n, sizeof(double), fn)))
        return berg_last_status();
    for (size_t i = 0; i < n; i++)
        ft->r[i] = exp(-0.5 * fp->V[i]);
    unsigned ftz = berg__ftz_enter();
    double tail = fourier_tail(&ft->x, &w.fft, ft->r);
    laplacian(ft, &w.fft, ft->r, ft->U);
    berg__ftz_leave(ftz);
    BERG_REQUIRE(tail <= R_TAIL_MAX, BERG_ERR_DOMAIN,
                 "%s: e^{-V/2} is not resolved on this periodic grid (Fourier tail %.2g > %g): "
                 "V must be periodic and smooth, or confining with e^{-V/2} negligible at the "
                 "box edges; use the finite-volume discretization (flags 0) or a larger / "
                 "finer grid",
                 fn, tail, R_TAIL_MAX);
    for (size_t i = 0; i < n; i++)
        if (ft->r[i] >= R_THRESHOLD)
            ft->U[i] /= ft->r[i];
    BERG_TRY(potential_fd(fp, ft, fn));
    ft->r_norm2 = 0.0;
    ft->umax = 0.0;
    for (size_t i = 0; i < n; i++) {
        ft->r_norm2 += ft->r[i] * ft->r[i];
        BERG_REQUIRE(isfinite(ft->U[i]), BERG_ERR_DOMAIN,
                     "%s: V is too steep at index %zu: the potential term of the symmetrized "
                     "flow overflows",
                     fn, i);
        ft->umax = fmax(ft->umax, fabs(ft->U[i]));
    }
    return BERG_OK;
}

static const berg__fp_ops fourier_ops;

berg_status berg__fp_fourier_init(berg_fp *fp, unsigned flags, size_t *scratch_bytes,
                                  const char *fn)
{
    BERG_TRY(check_grid(&fp->space, fn));
    fourier_tables *ft = berg__alloc(1, sizeof *ft, fn);
    if (!ft)
        return berg_last_status();
    memset(ft, 0, sizeof *ft);
    berg_status st = BERG_OK;
    void *work = NULL;
    unsigned xflags = BERG__XF_NOBUFS | ((flags & BERG_PLAN_ESTIMATE) ? BERG__XF_ESTIMATE : 0u);
    BERG_TRY_GOTO(st, berg__xform_init(&ft->x, &fp->space, 1, 1, xflags, fn), fail);
    BERG_TRY_GOTO(st, build_symbol(fp, ft, fn), fail);
    fourier_work w;
    size_t bytes = fourier_carve(fp, ft, NULL, &w);
    if (!(work = berg__alloc(bytes, 1, fn))) {
        st = berg_last_status();
        goto fail;
    }
    BERG_TRY_GOTO(st, build_potential(fp, ft, work, fn), fail);
    berg__free(work);
    *scratch_bytes = bytes;
    fp->ops = &fourier_ops;
    fp->tables = ft;
    return BERG_OK;
fail:
    berg__free(work);
    fourier_destroy(ft);
    return st;
}

/* ---- time stepping ------------------------------------------------------- */

typedef struct fourier_flow {
    const berg_fp *fp;
    const fourier_tables *ft;
    fourier_work *w;
    double tabulated_tau;   /* the step size of w's factor tables (-1: none) */
    double mass0, c0;       /* mass; psi = c0 r + rest */
    double rest_norm;       /* |rest|_2 */
    double tol;
} fourier_flow;

/* the heat and potential factors of the substeps tau / j */
static void tabulate(fourier_flow *f, double tau)
{
    const fourier_tables *ft = f->ft;
    const berg__xform *x = &ft->x;
    fourier_work *w = f->w;
    size_t n = f->fp->n;
#if STAGES == 4
    /* the half steps tau/2, tau/4, tau/6, tau/8 are 12, 6, 4 and 3 times
     * tau/24: one exponential and five products per cell instead of four
     * exponentials */
    for (size_t i = 0; i < n; i++) {
        double b = exp(-tau * ft->U[i] / 24.0), b3 = b * b * b, b6 = b3 * b3;
        w->half[0][i] = b6 * b6;
        w->half[1][i] = b6;
        w->half[2][i] = b3 * b;
        w->half[3][i] = b3;
    }
#else
    for (size_t j = 0; j < STAGES; j++)
        for (size_t i = 0; i < n; i++)
            w->half[j][i] = exp(-0.5 * tau / (double)(j + 1) * ft->U[i]);
#endif
    for (size_t j = 0; j < STAGES; j++) {
        double h = tau / (double)(j + 1);
        if (ft->separable) {
            for (size_t a = 0; a < (size_t)x->space.ndim; a++)
                for (size_t m = 0; m < x->sshape[a]; m++)
                    w->heat_axis[j][a][m] = exp(-h * ft->axis_form[a][m]) * x->axis_norm[a];
        } else {
            for (size_t m = 0; m < x->nspec; m++)
                w->heat_mode[j][m] = exp(-h * ft->wave_form[m]) * x->norm;
        }
    }
    f->tabulated_tau = tau;
}

/* out = S(tau/j)^j y */
static berg_status fourier_step(void *ctx, double t, double tau, size_t j, const double *y,
                                double *out)
{
    (void)t;
    fourier_flow *f = ctx;
    if (f->tabulated_tau != tau)
        tabulate(f, tau);
    const berg__xform *x = &f->ft->x;
    const fourier_work *w = f->w;
    const berg__xscratch *fft = &w->fft;
    size_t n = f->fp->n;
    const double *hf = w->half[j - 1];
    for (size_t i = 0; i < n; i++)
        out[i] = y[i] * hf[i];
    for (size_t k = 0; k < j; k++) {
        berg__xform_forward_s(x, fft, out, fft->spec);
        if (f->ft->separable)
            berg__xform_mul_separable(x, w->heat_axis[j - 1], fft->spec, fft->spec);
        else
            berg__xform_mul_table(x, w->heat_mode[j - 1], fft->spec, fft->spec);
        berg__xform_inverse_s(x, fft, fft->spec, out);
        if (k + 1 < j)
            for (size_t i = 0; i < n; i++)
                out[i] *= hf[i] * hf[i];
        else
            for (size_t i = 0; i < n; i++)
                out[i] *= hf[i];
    }
    return BERG_OK;
}

/* relative to the mass, or to the part still out of equilibrium when that
 * is smaller: errors injected near equilibrium stay a fraction of what is
 * left to decay, so the equilibrium stop is reached */
static double fourier_scale(void *ctx, const double *y)
{
    (void)y;
    const fourier_flow *f = ctx;
    return fmin(f->mass0, fmax(f->rest_norm * sqrt(f->ft->r_norm2), 1e-2 * f->tol * f->mass0));
}

/* y = res without its component along r; at equilibrium to the tolerance
 * when |rest|_2 <= tol/10 |c0 r|_2: |rest|_2 bounds every later |rest(t)|_2
 * (H <= 0 on the complement of r) and sum r |rest| <= |r|_2 |rest|_2, so the
 * rest can then be dropped with a relative L1 error below tol/10 at any
 * later time (any finite t takes finitely many steps, Strang steps much
 * longer than 1/max|U| being inaccurate) */
static int fourier_accept(void *ctx, double *res, double *y)
{
    fourier_flow *f = ctx;
    const double *r = f->ft->r;
    size_t n = f->fp->n;
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m += r[i] * res[i];
    double cr = m / f->ft->r_norm2;
    for (size_t i = 0; i < n; i++)
        y[i] = res[i] - cr * r[i];
    double nrest = 0.0;
    for (size_t i = 0; i < n; i++)
        nrest += y[i] * y[i];
    f->rest_norm = sqrt(nrest);
    if (f->rest_norm > 0.1 * f->tol * f->c0 * sqrt(f->ft->r_norm2))
        return 0;
    memset(y, 0, n * sizeof(double));
    return 1;
}

/* psi = p / r, refusing mass where r underflowed and unresolved data */
static berg_status to_psi(const berg_fp *fp, const fourier_tables *ft, const double *p,
                          double *psi, const char *fn)
{
    const double *r = ft->r;
    for (size_t i = 0; i < fp->n; i++) {
        psi[i] = (p[i] == 0.0) ? 0.0 : p[i] / r[i];
        BERG_REQUIRE(isfinite(psi[i]), BERG_ERR_DOMAIN,
                     "%s: p[%zu] = %g where e^{-V/2} = %g (V - min V = %g): the Fourier "
                     "discretization cannot hold mass where q underflows; use the finite-volume "
                     "discretization (flags 0)",
                     fn, i, p[i], r[i], fp->V[i]);
    }
    return BERG_OK;
}

static berg_status check_resolved(const fourier_tables *ft, const fourier_work *w,
                                  const char *fn)
{
    double tail = fourier_tail(&ft->x, &w->fft, w->psi);
    BERG_REQUIRE(isfinite(tail), BERG_ERR_DOMAIN,
                 "%s: p e^{V/2} overflows in the transform: the data do not decay like "
                 "e^{-V/2}; use the finite-volume discretization (flags 0)",
                 fn);
    BERG_REQUIRE(tail <= PSI_TAIL_MAX, BERG_ERR_DOMAIN,
                 "%s: p e^{V/2} is not resolved on this periodic grid (Fourier tail %.2g > %g): "
                 "smooth data decaying at least like e^{-V/2} is needed; use the finite-volume "
                 "discretization (flags 0) or a finer grid",
                 fn, tail, PSI_TAIL_MAX);
    return BERG_OK;
}

/* sum r |f| */
static double weighted_l1(const double *r, const double *f, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += r[i] * fabs(f[i]);
    return s;
}

/* first step: tol^{1/(2K)} / (the rate |H psi| / |psi|), at most t */
static double first_step(const berg_fp *fp, const fourier_tables *ft, const fourier_work *w,
                         double t)
{
    size_t n = fp->n;
    double *hp = w->stage[0];
    laplacian(ft, &w->fft, w->psi, hp);
    for (size_t i = 0; i < n; i++)
        hp[i] -= ft->U[i] * w->psi[i];
    double rate = weighted_l1(ft->r, hp, n) / weighted_l1(ft->r, w->psi, n);
    return (rate > 0.0) ? fmin(t, pow(fp->tol, 1.0 / (2 * STAGES)) / rate) : t;
}

/* p = r (c0 r + rest) into out; what the approximation makes negative is
 * set to zero and the mass restored by scaling */
static void from_psi(const fourier_flow *f, const double *rest, double *out)
{
    const double *r = f->ft->r;
    size_t n = f->fp->n;
    int clipped = 0;
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = r[i] * (f->c0 * r[i] + rest[i]);
        if (v < 0.0) {
            v = 0.0;
            clipped = 1;
        }
        out[i] = v;
        m += v;
    }
    if (clipped && m > 0.0) {
        double c = f->mass0 / m;
        for (size_t i = 0; i < n; i++)
            out[i] *= c;
    }
}

static berg_status fourier_evolve(const berg_fp *fp, double t, const double *in, double *out,
                                  void *scratch, berg__fp_steps *steps, const char *fn)
{
    const fourier_tables *ft = fp->tables;
    size_t n = fp->n;
    const double *r = ft->r;
    fourier_work w;
    fourier_carve(fp, ft, scratch, &w);
    BERG_TRY(to_psi(fp, ft, in, w.psi, fn));
    unsigned ftz = berg__ftz_enter();
    berg_status st = check_resolved(ft, &w, fn);
    if (st) {
        berg__ftz_leave(ftz);
        return st;
    }
    /* psi = c0 r + (the rest, orthogonal to r): the flow keeps c0 r (H r =
     * 0) and, H being symmetric, keeps the rest orthogonal to r; only the
     * rest is stepped */
    fourier_flow flow = {fp, ft, &w, -1.0, berg__sum(in, n), 0.0, 0.0, fp->tol};
    flow.c0 = flow.mass0 / ft->r_norm2; /* mass0 = sum p = sum r psi */
    double nrest = 0.0;
    for (size_t i = 0; i < n; i++) {
        w.psi[i] -= flow.c0 * r[i];
        nrest += w.psi[i] * w.psi[i];
    }
    flow.rest_norm = sqrt(nrest);
    double tau = first_step(fp, ft, &w, t);
    berg__extrap e = {
        .n = n,
        .stages = STAGES,
        .in_tau_squared = 1,
        .weight = r,
        .tol = fp->tol,
        .exponent = 1.0 / (2.0 * STAGES - 1.0),
        .hold_small_growth = 1, /* keep the factor tables */
        .tau_max = INFINITY,
        .stiffness = ft->wave_max + ft->umax,
        .step = fourier_step,
        .error_scale = fourier_scale,
        .accept = fourier_accept,
        .ctx = &flow,
    };
    st = berg__extrap_run(&e, t, tau, w.psi, w.stage, steps, fn);
    berg__ftz_leave(ftz);
    if (st)
        return st;
    from_psi(&flow, w.psi, out);
    return BERG_OK;
}

/* ---- the generator and its matrix ---------------------------------------- */

/* out = L in = r H (in / r) (transpose: L^T in = H (r in) / r, 0 where r
 * underflows) */
static berg_status fourier_generator(const berg_fp *fp, const double *in, double *out,
                                     int transpose, void *scratch, const char *fn)
{
    const fourier_tables *ft = fp->tables;
    size_t n = fp->n;
    const double *r = ft->r;
    fourier_work w;
    fourier_carve(fp, ft, scratch, &w);
    double *y = w.psi, *hy = w.stage[0];
    if (!transpose)
        BERG_TRY(to_psi(fp, ft, in, y, fn));
    else
        for (size_t i = 0; i < n; i++)
            y[i] = r[i] * in[i];
    unsigned ftz = berg__ftz_enter();
    laplacian(ft, &w.fft, y, hy);
    berg__ftz_leave(ftz);
    for (size_t i = 0; i < n; i++) {
        double v = hy[i] - ft->U[i] * y[i];
        if (!transpose)
            out[i] = r[i] * v;
        else
            out[i] = (r[i] > 0.0) ? v / r[i] : 0.0;
    }
    return BERG_OK;
}

/* S = the symmetric H = R^{-1} L R: the circulant Delta_g minus diag(U) */
static berg_status fourier_symmetric(const berg_fp *fp, double *S, void *scratch,
                                     const char *fn)
{
    (void)fn;
    const fourier_tables *ft = fp->tables;
    const berg_space *s = &fp->space;
    size_t n = fp->n, d = (size_t)s->ndim;
    fourier_work w;
    fourier_carve(fp, ft, scratch, &w);
    /* column 0 of the circulant Delta_g; entry (i, j) is col[(i - j) mod n] */
    double *col = w.psi;
    memset(col, 0, n * sizeof(double));
    col[0] = 1.0;
    unsigned ftz = berg__ftz_enter();
    laplacian(ft, &w.fft, col, col);
    berg__ftz_leave(ftz);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            size_t off = 0;
            for (size_t a = 0; a < d; a++) {
                size_t na = s->n[a], sa = s->stride[a];
                size_t ci = (i / sa) % na, cj = (j / sa) % na;
                off += ((ci + na - cj) % na) * sa;
            }
            S[i * n + j] = col[off];
        }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            double v = 0.5 * (S[i * n + j] + S[j * n + i]);
            S[i * n + j] = S[j * n + i] = v;
        }
        S[i * n + i] -= ft->U[i];
    }
    return BERG_OK;
}

/* ---- time-dependent coefficients (berg_fp_evolve_field / _table) --------
 * The state is p itself (r changes with t). A substep [s, s + h] uses the
 * frame of the midpoint m = s + h/2: r_m = e^{-(V(m) - min V(m))/2},
 * U_m = (Delta_{g(m)} r_m) / r_m, and
 *   p -> r_m (c r_m + S_m(h) (p / r_m - c r_m)),   c = mass0 / |r_m|^2,
 * S_m the Strang step of H_m = Delta_{g(m)} - U_m: the exponential
 * midpoint rule e^{h L(m)} split symmetrically, a symmetric method, so the
 * stage values extrapolate in tau^2 as in the autonomous stepper. With
 * time-independent coefficients every substep is berg_fp_evolve's (c r
 * kept, S applied to the rest; the accepted step removes the rest's
 * component along r), up to the rounding of p / r. */
typedef struct fourier_tflow {
    const berg_fp *fp;
    const fourier_tables *ft;
    const berg__fp_field *src;
    const char *fn;
    berg__xform xg;            /* ft->x with the space's ginv = g(t)^{-1} of the frame */
    double *V, *V_built;       /* the last evaluated V(t) - min V(t), the frame's */
    double ginv[BERG_MAX_RANK * BERG_MAX_RANK];
    int built;
    double frame_t;            /* the time of the frame */
    double *r, *U, *wave;      /* the frame: r_m, U_m, k.g(m)^{-1}k */
    double r_norm2, umax, wave_max;
    double *half, *psi;        /* the substep's potential factor, the rest */
    double *heat[STAGES];      /* heat factors of the substeps tau / j ... */
    double heat_h[STAGES];     /* ... for these substep lengths ... */
    size_t heat_version[STAGES]; /* ... and this metric (g_version) */
    size_t g_version;          /* counts the metrics the frame has held */
    double *tailw;             /* per mode: its weight in the l2 norm, negative when high */
    double *grad, *second, *acc;
    berg__xscratch fft;
    double mass0, rest_norm, tol;
} fourier_tflow;

typedef struct fourier_twork {
    double *y;
    double *stage[STAGES];
} fourier_twork;

/* the spectral tail as fourier_tail measures it, from a table of the mode
 * weights (made once per call: no per-mode callback at every check) */
typedef struct tail_table {
    const berg__xform *x;
    double *w;
} tail_table;

static int tail_weight(size_t mode, const size_t *idx, const double *k, void *ctx)
{
    tail_table *c = ctx;
    const berg_space *s = &c->x->space;
    double w = 1.0;
    int ha = c->x->halved_axis;
    if (ha >= 0 && idx[ha] != 0 && !(s->n[ha] % 2 == 0 && idx[ha] == s->n[ha] / 2))
        w = 2.0;
    for (size_t a = 0; a < (size_t)s->ndim; a++)
        if (fabs(k[a]) * s->h[a] > (2.0 / 3.0) * M_PI)
            w = -fabs(w);
    c->w[mode] = w;
    return 0;
}

static double table_tail(const berg__xform *x, const double *w, const double *spec)
{
    double tail = 0.0, total = 0.0;
    for (size_t m = 0; m < x->nspec; m++) {
        double e = spec[2 * m] * spec[2 * m] + spec[2 * m + 1] * spec[2 * m + 1];
        total += fabs(w[m]) * e;
        if (w[m] < 0.0)
            tail -= w[m] * e;
    }
    return total > 0.0 ? sqrt(tail / total) : 0.0;
}

/* the frame of time t (rebuilt when V or g changed): r, U, the symbol;
 * refuses an unresolved e^{-V(t)/2} or an overflowing U */
static berg_status fourier_frame(fourier_tflow *f, double t)
{
    const berg_fp *fp = f->fp;
    size_t n = fp->n, d = (size_t)fp->space.ndim;
    BERG_TRY(berg__fp_field_eval(fp, f->src, t, 0, f->V, f->ginv, f->fn));
    f->frame_t = t;
    int same_g = f->built && memcmp(f->ginv, f->xg.space.ginv, d * d * sizeof(double)) == 0;
    if (same_g && memcmp(f->V, f->V_built, n * sizeof(double)) == 0)
        return BERG_OK;
    f->built = 0;
    const berg__xform *x = &f->xg;
    if (!same_g) {
        f->g_version++;
        memcpy(f->xg.space.ginv, f->ginv, d * d * sizeof(double));
        berg__xform_quad_table(x, 0, f->wave);
        f->wave_max = 0.0;
        for (size_t j = 0; j < x->nspec; j++)
            f->wave_max = fmax(f->wave_max, f->wave[j]);
    }
    for (size_t i = 0; i < n; i++)
        f->r[i] = exp(-0.5 * f->V[i]);
    /* one forward transform for the resolution check and the Laplacian */
    berg__xform_forward_s(x, &f->fft, f->r, f->fft.spec);
    double tail = table_tail(x, f->tailw, f->fft.spec);
    BERG_REQUIRE(tail <= R_TAIL_MAX, BERG_ERR_DOMAIN,
                 "%s: e^{-V(t)/2} is not resolved on this periodic grid at t = %g (Fourier tail "
                 "%.2g > %g): V(t) must be periodic and smooth, or confining with e^{-V(t)/2} "
                 "negligible at the box edges",
                 f->fn, t, tail, R_TAIL_MAX);
    double *sp = f->fft.spec, nm = x->norm;
    for (size_t j = 0; j < x->nspec; j++) {
        double v = -f->wave[j] * nm;
        sp[2 * j] *= v;
        sp[2 * j + 1] *= v;
    }
    berg__xform_inverse_s(x, &f->fft, sp, f->U);
    for (size_t i = 0; i < n; i++)
        if (f->r[i] >= R_THRESHOLD)
            f->U[i] /= f->r[i];
    potential_fd_into(&f->xg.space, f->V, f->r, f->U, f->grad, f->second, f->acc);
    f->r_norm2 = 0.0;
    f->umax = 0.0;
    for (size_t i = 0; i < n; i++) {
        f->r_norm2 += f->r[i] * f->r[i];
        BERG_REQUIRE(isfinite(f->U[i]), BERG_ERR_DOMAIN,
                     "%s: V(t) is too steep at index %zu at t = %g: the potential term of the "
                     "symmetrized flow overflows",
                     f->fn, i, t);
        f->umax = fmax(f->umax, fabs(f->U[i]));
    }
    double *tmp = f->V_built;
    f->V_built = f->V;
    f->V = tmp;
    f->built = 1;
    return BERG_OK;
}

/* psi = p / r - c r in the current frame (the rest), refusing mass where r
 * underflowed */
static berg_status fourier_rest(fourier_tflow *f, const double *p)
{
    const double *r = f->r;
    double c = f->mass0 / f->r_norm2;
    for (size_t i = 0; i < f->fp->n; i++) {
        double v = (p[i] == 0.0) ? 0.0 : p[i] / r[i];
        BERG_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                     "%s: p[%zu] = %g where e^{-V(t)/2} = %g at t = %g: the Fourier "
                     "discretization cannot hold mass where q(t) underflows",
                     f->fn, i, p[i], r[i], f->frame_t);
        f->psi[i] = v - c * r[i];
    }
    return BERG_OK;
}

/* p / r = c r + rest in the current frame is resolved (spectral tail, as
 * berg_fp_evolve checks it); f->half is the scratch */
static berg_status fourier_rest_resolved(fourier_tflow *f)
{
    double c = f->mass0 / f->r_norm2;
    for (size_t i = 0; i < f->fp->n; i++)
        f->half[i] = c * f->r[i] + f->psi[i];
    berg__xform_forward_s(&f->xg, &f->fft, f->half, f->fft.spec);
    double tail = table_tail(&f->xg, f->tailw, f->fft.spec);
    BERG_REQUIRE(isfinite(tail) && tail <= PSI_TAIL_MAX, BERG_ERR_DOMAIN,
                 "%s: p e^{V(t)/2} is not resolved on this periodic grid at t = %g (Fourier "
                 "tail %.2g > %g): the density must decay at least like e^{-V(t)/2} at every "
                 "t; use the finite-volume discretization (flags 0)",
                 f->fn, f->frame_t, tail, PSI_TAIL_MAX);
    return BERG_OK;
}

/* out = S_m(tau/j) ... over j substeps, each in the frame of its midpoint */
static berg_status fourier_tstep(void *ctx, double t, double tau, size_t j, const double *y,
                                 double *out)
{
    fourier_tflow *f = ctx;
    const berg__xform *x = &f->ft->x;
    size_t n = f->fp->n;
    double h = tau / (double)j;
    const double *src = y;
    for (size_t k = 0; k < j; k++) {
        BERG_TRY(fourier_frame(f, t + ((double)k + 0.5) * h));
        BERG_TRY(fourier_rest(f, src));
        if (j == 1) /* once per step: the data stay resolved in the new frame */
            BERG_TRY(fourier_rest_resolved(f));
        for (size_t i = 0; i < n; i++)
            f->half[i] = exp(-0.5 * h * f->U[i]);
        double *heat = f->heat[j - 1];
        if (f->heat_h[j - 1] != h || f->heat_version[j - 1] != f->g_version) {
            for (size_t m = 0; m < x->nspec; m++)
                heat[m] = exp(-h * f->wave[m]) * x->norm;
            f->heat_h[j - 1] = h;
            f->heat_version[j - 1] = f->g_version;
        }
        double *psi = f->psi;
        for (size_t i = 0; i < n; i++)
            psi[i] *= f->half[i];
        berg__xform_forward_s(x, &f->fft, psi, f->fft.spec);
        berg__xform_mul_table(x, heat, f->fft.spec, f->fft.spec);
        berg__xform_inverse_s(x, &f->fft, f->fft.spec, psi);
        double c = f->mass0 / f->r_norm2;
        for (size_t i = 0; i < n; i++)
            out[i] = f->r[i] * (c * f->r[i] + psi[i] * f->half[i]);
        src = out;
    }
    return BERG_OK;
}

/* As fourier_scale, with a floor for rounding: the stages here are p
 * itself, not the rest (each substep rebuilds p = r_m (c r_m + rest) in its
 * own frame), so their differences carry rounding of order eps |p|_1 =
 * eps mass0 however small the rest is (measured: up to 0.4 eps mass0 from
 * an equilibrium, 1-D and 2-D). Near an equilibrium the plain floor
 * 1e-2 tol mass0 asks for |error|_1 <= 1e-2 tol^2 mass0 (1e-18 mass0 at
 * tol 1e-8), below that rounding: the estimate then stays at the rounding
 * level whatever the step, acceptance is a matter of which way the last
 * bits fall (the FFT plan FFTW picks, one ulp of the data), and the step
 * size can shrink to the collapse. The floor keeps tol * scale >=
 * TSCALE_ROUNDING mass0, 40x the rounding measured; the scale stays <=
 * mass0 for every tol >= 1e-14, so every step's estimate is still below
 * tol relative to the mass. */
static double fourier_tscale(void *ctx, const double *y)
{
    (void)y;
    const fourier_tflow *f = ctx;
    double lo = fmax(1e-2 * f->tol, TSCALE_ROUNDING / f->tol) * f->mass0;
    return fmin(f->mass0, fmax(f->rest_norm * sqrt(f->r_norm2), lo));
}

/* y = res with the mass restored along q of the current frame (berg_fp_evolve
 * removes the rest's component along r, the same correction); no
 * equilibrium stop: the equilibrium moves */
static int fourier_taccept(void *ctx, double *res, double *y)
{
    fourier_tflow *f = ctx;
    const double *r = f->r;
    size_t n = f->fp->n;
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m += res[i];
    double cr = (m - f->mass0) / f->r_norm2, c = f->mass0 / f->r_norm2, nrest = 0.0;
    for (size_t i = 0; i < n; i++) {
        y[i] = res[i] - cr * r[i] * r[i];
        double v = (r[i] > 0.0) ? y[i] / r[i] - c * r[i] : 0.0;
        nrest += v * v;
    }
    f->rest_norm = sqrt(nrest);
    return 0;
}

static berg_status fourier_evolve_field(const berg_fp *fp, const berg__fp_field *src, double t0,
                                        double t, double step, const double *in, double *out,
                                        berg__fp_steps *steps, const char *fn)
{
    const fourier_tables *ft = fp->tables;
    const berg__xform *x = &ft->x;
    size_t n = fp->n, d = (size_t)fp->space.ndim;
    fourier_tflow f;
    memset(&f, 0, sizeof f);
    fourier_twork w;
    berg__fp_arena ar = {NULL, 0};
    for (int pass = 0; pass < 2; pass++) {
        w.y = berg__fp_take(&ar, n, sizeof(double));
        for (size_t j = 0; j < STAGES; j++)
            w.stage[j] = berg__fp_take(&ar, n, sizeof(double));
        f.V = berg__fp_take(&ar, n, sizeof(double));
        f.V_built = berg__fp_take(&ar, n, sizeof(double));
        f.r = berg__fp_take(&ar, n, sizeof(double));
        f.U = berg__fp_take(&ar, n, sizeof(double));
        f.wave = berg__fp_take(&ar, x->nspec, sizeof(double));
        f.half = berg__fp_take(&ar, n, sizeof(double));
        for (size_t j = 0; j < STAGES; j++)
            f.heat[j] = berg__fp_take(&ar, x->nspec, sizeof(double));
        f.tailw = berg__fp_take(&ar, x->nspec, sizeof(double));
        f.psi = berg__fp_take(&ar, n, sizeof(double));
        f.grad = berg__fp_take(&ar, d * n, sizeof(double));
        f.second = berg__fp_take(&ar, n, sizeof(double));
        f.acc = berg__fp_take(&ar, n, sizeof(double));
        double *fftb = berg__fp_take(&ar, berg__xform_scratch_doubles(x, 1), sizeof(double));
        if (pass == 0) {
            char *block = berg__alloc(ar.used, 1, fn);
            if (!block)
                return berg_last_status();
            ar = (berg__fp_arena){block, 0};
        } else {
            berg__xform_scratch_carve(x, fftb, 1, &f.fft);
        }
    }
    char *block = ar.base;
    f.fp = fp;
    f.ft = ft;
    f.src = src;
    f.fn = fn;
    f.xg = *x;
    f.tol = fp->tol;
    f.mass0 = berg__sum(in, n);
    for (size_t j = 0; j < STAGES; j++)
        f.heat_h[j] = -1.0;
    tail_table tt = {x, f.tailw};
    berg__xform_each_mode(x, tail_weight, &tt);
    unsigned ftz = berg__ftz_enter();
    memcpy(w.y, in, n * sizeof(double));
    /* the frame of t0: the data resolved, the first trial step as
     * berg_fp_evolve's */
    berg_status st = fourier_frame(&f, t0);
    if (!st)
        st = fourier_rest(&f, w.y);
    if (!st)
        st = fourier_rest_resolved(&f);
    if (st)
        goto done;
    double nrest = 0.0;
    for (size_t i = 0; i < n; i++)
        nrest += f.psi[i] * f.psi[i];
    f.rest_norm = sqrt(nrest);
    double tau = t;
    {
        double *hp = w.stage[0];
        berg__xform_forward_s(x, &f.fft, f.psi, f.fft.spec);
        double *sp = f.fft.spec, nm = x->norm;
        for (size_t j = 0; j < x->nspec; j++) {
            double v = -f.wave[j] * nm;
            sp[2 * j] *= v;
            sp[2 * j + 1] *= v;
        }
        berg__xform_inverse_s(x, &f.fft, sp, hp);
        for (size_t i = 0; i < n; i++)
            hp[i] -= f.U[i] * f.psi[i];
        double rate = weighted_l1(f.r, hp, n) / weighted_l1(f.r, f.psi, n);
        if (rate > 0.0)
            tau = fmin(t, pow(fp->tol, 1.0 / (2 * STAGES)) / rate);
    }
    const int fixed = step > 0.0;
    berg__extrap e = {
        .n = n,
        .stages = fixed ? 2 : STAGES,
        .in_tau_squared = 1,
        .weight = NULL,
        .tol = fp->tol,
        .exponent = 1.0 / (2.0 * STAGES - 1.0),
        .hold_small_growth = 1,
        .tau_max = INFINITY,
        .stiffness = f.wave_max + f.umax,
        .t0 = t0,
        .breaks = src->breaks,
        .nbreaks = src->nbreaks,
        .fixed_step = step,
        .base_result = fixed,
        .step = fourier_tstep,
        .error_scale = fourier_tscale,
        .accept = fourier_taccept,
        .ctx = &f,
    };
    st = berg__extrap_run(&e, t, tau, w.y, w.stage, steps, fn);
    if (st)
        goto done;
    /* what the approximation makes negative is set to zero, the mass
     * restored by scaling */
    {
        int clipped = 0;
        double m = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (w.y[i] < 0.0) {
                w.y[i] = 0.0;
                clipped = 1;
            }
            m += w.y[i];
        }
        if (clipped && m > 0.0)
            for (size_t i = 0; i < n; i++)
                w.y[i] *= f.mass0 / m;
    }
    memcpy(out, w.y, n * sizeof(double));
done:
    berg__ftz_leave(ftz);
    berg__free(block);
    return st;
}

static const berg__fp_ops fourier_ops = {fourier_evolve, fourier_generator, fourier_symmetric,
                                         fourier_destroy, fourier_evolve_field};
