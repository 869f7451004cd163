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
 * (Delta_g r) / r with that same Laplacian wherever r >= BERG_FR_THETA, so
 * r is the discrete null vector to rounding and q = r^2 / Z the exact
 * discrete stationary state. Where r < BERG_FR_THETA (q below 1e-10 of its
 * maximum: the walls of a confining potential) the quotient would amplify
 * rounding, and U is the same expression by second-order finite
 * differences of V (one-sided at the box edge, so V need not be periodic).
 *
 * Time stepping: the Strang step S(tau) = e^{-tau U/2} e^{tau Delta_g}
 * e^{-tau U/2} (the heat factor by FFT, the potential factor pointwise:
 * both exact and unconditionally stable) is symmetric, so its error expands
 * in powers of tau^2; T_j = S(tau/j)^j for j = 1..K are extrapolated
 * (Aitken-Neville in tau^2) to order 2K, the difference of the last two
 * columns is the error estimate (L1 in p, relative to the mass) and the
 * step is adapted to the tolerance. After every step the component along r
 * is reset to its initial value (the exact flow keeps it: <r, H psi> =
 * <H r, psi> = 0), which conserves the mass exactly and can only reduce the
 * error; values the extrapolation makes negative are set to zero and the
 * mass is restored by scaling.
 */
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"
#include "propagator/transform.h"

/* extrapolation stages: order 2K; error estimate of order 2K - 2 */
#ifndef BERG_FR_ORDER
#define BERG_FR_ORDER 4
#endif
#define BERG_FR_THETA 1e-5      /* r below this: U by finite differences */
#define BERG_FR_RESOLVE_R 1e-5  /* largest Fourier tail of r accepted */
#define BERG_FR_RESOLVE_P 1e-4  /* largest Fourier tail of p / r accepted */

struct berg__fp_fourier {
    berg__xform x;
    int separable;
    double *qfull;                        /* q(k) = k.g^{-1}k per spectral mode */
    double *qaxis[BERG_MAX_RANK];         /* separable: g^{aa} k_a^2 per index */
    double *ef[BERG_FR_ORDER];            /* coupled: e^{-(tau/j) q} * norm per mode */
    double *ea[BERG_FR_ORDER][BERG_MAX_RANK]; /* separable: per axis, times axis_norm */
    double *r;                            /* e^{-(V - min V)/2} */
    double rr;                            /* sum r^2 */
    double *U;
    double *half[BERG_FR_ORDER];          /* e^{-(tau/(2j)) U} */
    double *psi, *T[BERG_FR_ORDER];
    double cached_tau;
    double umax, qmax;                    /* max |U|, max q: the stiffness */
};

void berg__fp_fourier_free(struct berg__fp_fourier *fr)
{
    if (!fr)
        return;
    berg__xform_free(&fr->x);
    berg__free(fr->qfull);
    for (int a = 0; a < BERG_MAX_RANK; a++)
        berg__free(fr->qaxis[a]);
    for (int j = 0; j < BERG_FR_ORDER; j++) {
        berg__free(fr->ef[j]);
        for (int a = 0; a < BERG_MAX_RANK; a++)
            berg__free(fr->ea[j][a]);
        berg__free(fr->half[j]);
        berg__free(fr->T[j]);
    }
    berg__free(fr->r);
    berg__free(fr->U);
    berg__free(fr->psi);
    berg__free(fr);
}

typedef struct {
    const berg__xform *x;
    const double *spec;
    double tail, total;
} mode_ctx;

/* l2 energy of the spectrum in c->spec (complex, r2c layout), split into
 * the modes with some |k_a| above 2/3 of that axis' Nyquist wave number */
static int tail_mode(size_t mode, const size_t *idx, const double *k, void *ctx)
{
    mode_ctx *c = ctx;
    const berg__xform *x = c->x;
    const berg_space *s = &x->space;
    double re = c->spec[2 * mode], im = c->spec[2 * mode + 1];
    double e = re * re + im * im;
    int ha = x->halved_axis;
    if (ha >= 0 && idx[ha] != 0 && !(s->n[ha] % 2 == 0 && idx[ha] == s->n[ha] / 2))
        e *= 2.0; /* the conjugate mode that r2c leaves out */
    int high = 0;
    for (int a = 0; a < s->ndim; a++)
        if (fabs(k[a]) * s->h[a] > (2.0 / 3.0) * M_PI)
            high = 1;
    c->total += e;
    if (high)
        c->tail += e;
    return 0;
}

/* sqrt(high-mode energy / energy) of f (transformed into x->spec) */
static double fourier_tail(berg__xform *x, const double *f)
{
    berg__xform_forward(x, f);
    mode_ctx c = {x, x->spec, 0.0, 0.0};
    berg__xform_each_mode(x, tail_mode, &c);
    return c.total > 0.0 ? sqrt(c.tail / c.total) : 0.0;
}

/* out = Delta_g in (spectral), with x's scratch; in may equal out */
static void laplacian(berg__xform *x, const double *qfull, const double *in, double *out)
{
    berg__xform_forward(x, in);
    double *s = x->spec, nm = x->norm;
    for (size_t j = 0; j < x->nspec; j++) {
        double f = -qfull[j] * nm;
        s[2 * j] *= f;
        s[2 * j + 1] *= f;
    }
    berg__xform_inverse(x, s, out);
}

/* d/dx_a of f, second order, one-sided on the two edge cells of the axis
 * (so that a V that is not periodic is differentiated where it is) */
static void fd_derivative(const berg_space *s, int a, const double *f, double *out)
{
    size_t n = s->size, na = s->n[a], st = s->stride[a];
    double h = s->h[a];
    for (size_t i = 0; i < n; i++) {
        size_t c = (i / st) % na;
        if (c == 0)
            out[i] = (-3.0 * f[i] + 4.0 * f[i + st] - f[i + 2 * st]) / (2.0 * h);
        else if (c == na - 1)
            out[i] = (3.0 * f[i] - 4.0 * f[i - st] + f[i - 2 * st]) / (2.0 * h);
        else
            out[i] = (f[i + st] - f[i - st]) / (2.0 * h);
    }
}

/* U = |grad w|_g^2 / 4 - Delta_g w / 2 by finite differences, stored into U
 * at the cells where r < theta (the others are untouched) */
static berg_status potential_fd(berg_fp *fp, double *U, const char *fn)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n;
    int d = s->ndim;
    double *g = berg__alloc((size_t)d * n, sizeof(double), fn);
    double *h2 = berg__alloc(n, sizeof(double), fn);
    double *acc = berg__alloc(n, sizeof(double), fn);
    if (!g || !h2 || !acc) {
        berg__free(g);
        berg__free(h2);
        berg__free(acc);
        return BERG_ERR_NOMEM;
    }
    for (int a = 0; a < d; a++)
        fd_derivative(s, a, fp->V, g + (size_t)a * n);
    memset(acc, 0, n * sizeof(double));
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double D = s->ginv[a * d + b];
            if (D == 0.0)
                continue;
            fd_derivative(s, a, g + (size_t)b * n, h2);
            const double *ga = g + (size_t)a * n, *gb = g + (size_t)b * n;
            for (size_t i = 0; i < n; i++)
                acc[i] += D * (0.25 * ga[i] * gb[i] - 0.5 * h2[i]);
        }
    const double *r = fp->fr->r;
    for (size_t i = 0; i < n; i++)
        if (r[i] < BERG_FR_THETA)
            U[i] = acc[i];
    berg__free(g);
    berg__free(h2);
    berg__free(acc);
    return BERG_OK;
}

berg_status berg__fp_fourier_init(berg_fp *fp, unsigned flags, const char *fn)
{
    const berg_space *s = &fp->space;
    int d = s->ndim;
    size_t n = fp->n;
    for (int a = 0; a < d; a++) {
        if (s->bc[a] != BERG_PERIODIC)
            return berg__error(BERG_ERR_UNSUPPORTED,
                               "%s: BERG_FP_FOURIER needs periodic axes (axis %d is not); "
                               "use the finite-volume discretization (flags 0)",
                               fn, a);
        if (s->n[a] < 4)
            return berg__error(BERG_ERR_SIZE,
                               "%s: BERG_FP_FOURIER needs at least 4 cells per axis (axis %d "
                               "has %zu)",
                               fn, a, s->n[a]);
    }
    struct berg__fp_fourier *fr = berg__alloc(1, sizeof *fr, fn);
    if (!fr)
        return berg_last_status();
    memset(fr, 0, sizeof *fr);
    fp->fr = fr;
    berg_status st = berg__xform_init(&fr->x, s, 1, 1,
                                      (flags & BERG_PLAN_ESTIMATE) ? BERG__XF_ESTIMATE : 0u, fn);
    if (st)
        return st;
    berg__xform *x = &fr->x;
    fr->separable = s->diagonal;
    int fail = 0;
    fr->qfull = berg__alloc(x->nspec, sizeof(double), fn);
    fr->r = berg__alloc(n, sizeof(double), fn);
    fr->U = berg__alloc(n, sizeof(double), fn);
    fr->psi = berg__alloc(n, sizeof(double), fn);
    fail = !fr->qfull || !fr->r || !fr->U || !fr->psi;
    for (int j = 0; j < BERG_FR_ORDER && !fail; j++) {
        fr->half[j] = berg__alloc(n, sizeof(double), fn);
        fr->T[j] = berg__alloc(n, sizeof(double), fn);
        fail = !fr->half[j] || !fr->T[j];
        if (fr->separable)
            for (int a = 0; a < d && !fail; a++)
                fail = !(fr->ea[j][a] = berg__alloc(x->sshape[a], sizeof(double), fn));
        else if (!fail)
            fail = !(fr->ef[j] = berg__alloc(x->nspec, sizeof(double), fn));
    }
    if (fr->separable)
        for (int a = 0; a < d && !fail; a++)
            if (!(fail = !(fr->qaxis[a] = berg__alloc(x->sshape[a], sizeof(double), fn))))
                berg__xform_axis_quad(x, a, 0, fr->qaxis[a]);
    if (fail)
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory for a grid of %zu cells", fn, n);
    berg__xform_quad_table(x, 0, fr->qfull);
    fr->qmax = 0.0;
    for (size_t j = 0; j < x->nspec; j++)
        fr->qmax = fmax(fr->qmax, fr->qfull[j]);

    unsigned ftz = berg__ftz_enter();
    for (size_t i = 0; i < n; i++)
        fr->r[i] = exp(-0.5 * fp->V[i]);
    double tail = fourier_tail(x, fr->r);
    if (!(tail <= BERG_FR_RESOLVE_R)) {
        berg__ftz_leave(ftz);
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: e^{-V/2} is not resolved on this periodic grid (Fourier tail "
                           "%.2g > %g): V must be periodic and smooth, or confining with "
                           "e^{-V/2} negligible at the box edges; use the finite-volume "
                           "discretization (flags 0) or a larger / finer grid",
                           fn, tail, BERG_FR_RESOLVE_R);
    }
    laplacian(x, fr->qfull, fr->r, fr->U);
    berg__ftz_leave(ftz);
    for (size_t i = 0; i < n; i++)
        if (fr->r[i] >= BERG_FR_THETA)
            fr->U[i] /= fr->r[i];
    if ((st = potential_fd(fp, fr->U, fn)))
        return st;
    fr->rr = 0.0;
    fr->umax = 0.0;
    for (size_t i = 0; i < n; i++) {
        fr->rr += fr->r[i] * fr->r[i];
        if (!isfinite(fr->U[i]))
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: V is too steep at index %zu: the potential term of the "
                               "symmetrized flow overflows",
                               fn, i);
        fr->umax = fmax(fr->umax, fabs(fr->U[i]));
    }
    fr->cached_tau = -1.0;
    return BERG_OK;
}

/* the heat and potential factors of the substeps tau / j */
static void set_tau(struct berg__fp_fourier *fr, size_t n, double tau)
{
    if (fr->cached_tau == tau)
        return;
    const berg__xform *x = &fr->x;
#if BERG_FR_ORDER == 4
    /* the half steps tau/2, tau/4, tau/6, tau/8 are 12, 6, 4 and 3 times
     * tau/24: one exponential and five products per cell instead of four
     * exponentials */
    for (size_t i = 0; i < n; i++) {
        double b = exp(-tau * fr->U[i] / 24.0), b3 = b * b * b, b6 = b3 * b3;
        fr->half[0][i] = b6 * b6;
        fr->half[1][i] = b6;
        fr->half[2][i] = b3 * b;
        fr->half[3][i] = b3;
    }
#else
    for (int j = 0; j < BERG_FR_ORDER; j++)
        for (size_t i = 0; i < n; i++)
            fr->half[j][i] = exp(-0.5 * tau / (j + 1) * fr->U[i]);
#endif
    for (int j = 0; j < BERG_FR_ORDER; j++) {
        double h = tau / (j + 1);
        if (fr->separable) {
            for (int a = 0; a < x->space.ndim; a++)
                for (size_t m = 0; m < x->sshape[a]; m++)
                    fr->ea[j][a][m] = exp(-h * fr->qaxis[a][m]) * x->axis_norm[a];
        } else {
            for (size_t m = 0; m < x->nspec; m++)
                fr->ef[j][m] = exp(-h * fr->qfull[m]) * x->norm;
        }
    }
    fr->cached_tau = tau;
}

/* out = S(tau/j)^j in, j = jj + 1 (in may equal out) */
static void strang_steps(struct berg__fp_fourier *fr, size_t n, int jj, const double *in,
                         double *out)
{
    berg__xform *x = &fr->x;
    const double *hf = fr->half[jj];
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] * hf[i];
    for (int k = 0; k <= jj; k++) {
        berg__xform_forward(x, out);
        if (fr->separable)
            berg__xform_mul_separable(x, fr->ea[jj], x->spec, x->spec);
        else
            berg__xform_mul_table(x, fr->ef[jj], x->spec, x->spec);
        berg__xform_inverse(x, x->spec, out);
        if (k < jj)
            for (size_t i = 0; i < n; i++)
                out[i] *= hf[i] * hf[i];
        else
            for (size_t i = 0; i < n; i++)
                out[i] *= hf[i];
    }
}

/* sum r |f| */
static double l1r(const double *r, const double *f, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += r[i] * fabs(f[i]);
    return s;
}

/* psi = p / r; BERG_ERR_DOMAIN where p > 0 but r underflowed */
static berg_status to_psi(const berg_fp *fp, const double *p, double *psi, const char *fn)
{
    const double *r = fp->fr->r;
    for (size_t i = 0; i < fp->n; i++) {
        psi[i] = (p[i] == 0.0) ? 0.0 : p[i] / r[i];
        if (!isfinite(psi[i]))
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: p[%zu] = %g where e^{-V/2} = %g (V - min V = %g): the "
                               "Fourier discretization cannot hold mass where q underflows; "
                               "use the finite-volume discretization (flags 0)",
                               fn, i, p[i], r[i], fp->V[i]);
    }
    return BERG_OK;
}

berg_status berg__fp_fourier_evolve(berg_fp *fp, double t, const double *in, double *out,
                                    const char *fn)
{
    struct berg__fp_fourier *fr = fp->fr;
    size_t n = fp->n;
    const double *r = fr->r;
    double *psi = fr->psi, **T = fr->T;
    const int K = BERG_FR_ORDER;
    berg_status st;
    fp->accepted = fp->rejected = 0;
    double mass0 = berg__sum(in, n);
    if (t == 0.0 || mass0 == 0.0) {
        memmove(out, in, n * sizeof(double));
        return BERG_OK;
    }
    if ((st = to_psi(fp, in, psi, fn)))
        return st;
    unsigned ftz = berg__ftz_enter();
    double tail = fourier_tail(&fr->x, psi);
    if (!isfinite(tail)) {
        berg__ftz_leave(ftz);
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: p e^{V/2} overflows in the transform: the data do not decay "
                           "like e^{-V/2}; use the finite-volume discretization (flags 0)",
                           fn);
    }
    if (!(tail <= BERG_FR_RESOLVE_P)) {
        berg__ftz_leave(ftz);
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: p e^{V/2} is not resolved on this periodic grid (Fourier tail "
                           "%.2g > %g): smooth data decaying at least like e^{-V/2} is needed; "
                           "use the finite-volume discretization (flags 0) or a finer grid",
                           fn, tail, BERG_FR_RESOLVE_P);
    }
    /* psi = c r + (the rest, orthogonal to r): the flow keeps c r (H r = 0)
     * and, H being symmetric, keeps the rest orthogonal to r; only the rest
     * is stepped, and its component along r is removed after every step */
    const double c0 = mass0 / fr->rr; /* mass0 = sum p = sum r psi */
    const double rnorm = sqrt(fr->rr);
    double nrest = 0.0; /* |rest|_2 */
    for (size_t i = 0; i < n; i++) {
        psi[i] -= c0 * r[i];
        nrest += psi[i] * psi[i];
    }
    nrest = sqrt(nrest);
    /* first step: tol^{1/(2K)} / (the rate |H psi| / |psi|), at most t */
    double tau = t;
    {
        double *hp = T[0];
        laplacian(&fr->x, fr->qfull, psi, hp);
        for (size_t i = 0; i < n; i++)
            hp[i] -= fr->U[i] * psi[i];
        double rate = l1r(r, hp, n) / l1r(r, psi, n);
        if (rate > 0.0)
            tau = fmin(t, pow(fp->tol, 1.0 / (2 * K)) / rate);
    }
    const double tol = fp->tol;
    double elapsed = 0.0;
    while (elapsed < t) {
        double rest = t - elapsed;
        int last = 0;
        if (tau >= rest * (1.0 - 1e-12)) {
            tau = rest;
            last = 1;
        }
        set_tau(fr, n, tau);
        for (int j = 0; j < K; j++)
            strang_steps(fr, n, j, psi, T[j]);
        /* Aitken-Neville in tau^2 over n_j = j + 1: after column k,
         * T[j] = T_{j+1,k+1} */
        double err = 0.0;
        for (int k = 1; k < K; k++)
            for (int j = K - 1; j >= k; j--) {
                double ratio = (double)(j + 1) / (double)(j + 1 - k);
                double f = 1.0 / (ratio * ratio - 1.0);
                double *a = T[j], *b = T[j - 1];
                if (k == K - 1)
                    for (size_t i = 0; i < n; i++) {
                        double dlt = (a[i] - b[i]) * f;
                        err += r[i] * fabs(dlt);
                        a[i] += dlt;
                    }
                else
                    for (size_t i = 0; i < n; i++)
                        a[i] += (a[i] - b[i]) * f;
            }
        /* relative to the mass, or to the part still out of equilibrium
         * when that is smaller: errors injected near equilibrium stay a
         * fraction of what is left to decay, so the stop below is reached */
        double sc = fmin(mass0, fmax(nrest * rnorm, 1e-2 * tol * mass0));
        err = (sc > 0.0) ? err / sc : 0.0;
        if (!isfinite(err))
            err = 1e300;
        double fac;
        if (err <= tol) {
            double *res = T[K - 1];
            double m = 0.0;
            for (size_t i = 0; i < n; i++)
                m += r[i] * res[i];
            double cr = m / fr->rr;
            for (size_t i = 0; i < n; i++)
                psi[i] = res[i] - cr * r[i];
            elapsed = last ? t : elapsed + tau;
            /* at equilibrium to the tolerance: |rest|_2 bounds every later
             * |rest(t)|_2 (H <= 0 on the complement of r) and
             * sum r |rest| <= |r|_2 |rest|_2, so once |rest|_2 <=
             * tol/10 |c0 r|_2 the rest can be dropped with a relative L1
             * error below tol/10 at any later time: any finite t takes
             * finitely many steps, Strang steps much longer than 1/max|U|
             * being inaccurate */
            nrest = 0.0;
            for (size_t i = 0; i < n; i++)
                nrest += psi[i] * psi[i];
            nrest = sqrt(nrest);
            if (nrest <= 0.1 * tol * c0 * rnorm) {
                memset(psi, 0, n * sizeof(double));
                elapsed = t;
            }
            fp->accepted++;
            fac = (err > 0.0) ? 0.9 * pow(tol / err, 1.0 / (2 * K - 1)) : 4.0;
            /* keep the factor tables when the change would be small */
            if (fac >= 1.0 && fac < 1.3)
                fac = 1.0;
        } else {
            fp->rejected++;
            fac = 0.9 * pow(tol / err, 1.0 / (2 * K - 1));
        }
        if (fac > 4.0)
            fac = 4.0;
        if (fac < 0.2)
            fac = 0.2;
        tau *= fac;
        if ((tau < t * 1e-13 && tau * (fr->qmax + fr->umax) < 1e-6) ||
            fp->accepted + fp->rejected > 10000000) {
            berg__ftz_leave(ftz);
            return berg__error(BERG_ERR_NO_CONVERGENCE,
                               "%s: the step size fell to %g at time %g of %g (tolerance %g)",
                               fn, tau, elapsed, t, tol);
        }
    }
    berg__ftz_leave(ftz);
    /* p = r (c0 r + rest); what the approximation makes negative is set to
     * zero and the mass restored by scaling */
    int clipped = 0;
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = r[i] * (c0 * r[i] + psi[i]);
        if (v < 0.0) {
            v = 0.0;
            clipped = 1;
        }
        out[i] = v;
        m += v;
    }
    if (clipped && m > 0.0) {
        double f = mass0 / m;
        for (size_t i = 0; i < n; i++)
            out[i] *= f;
    }
    return BERG_OK;
}

berg_status berg__fp_fourier_generator(const berg_fp *fp, const double *in, double *out,
                                       int transpose, const char *fn)
{
    const struct berg__fp_fourier *fr = fp->fr;
    size_t n = fp->n;
    const double *r = fr->r;
    berg__xform x;
    berg_status st = berg__xform_init(&x, &fp->space, 1, 1, BERG__XF_ESTIMATE, fn);
    double *y = berg__alloc(n, sizeof(double), fn);
    if (st || !y) {
        berg__xform_free(&x);
        berg__free(y);
        return st ? st : BERG_ERR_NOMEM;
    }
    if (!transpose) {
        if ((st = to_psi(fp, in, y, fn))) {
            berg__xform_free(&x);
            berg__free(y);
            return st;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            y[i] = r[i] * in[i];
    }
    unsigned ftz = berg__ftz_enter();
    double *hy = x.rbuf2; /* nreal doubles of scratch */
    laplacian(&x, fr->qfull, y, hy);
    berg__ftz_leave(ftz);
    for (size_t i = 0; i < n; i++) {
        double v = hy[i] - fr->U[i] * y[i];
        if (!transpose)
            out[i] = r[i] * v;
        else
            out[i] = (r[i] > 0.0) ? v / r[i] : 0.0;
    }
    berg__xform_free(&x);
    berg__free(y);
    return BERG_OK;
}

berg_status berg__fp_fourier_matrix(const berg_fp *fp, double *S, const char *fn)
{
    const struct berg__fp_fourier *fr = fp->fr;
    const berg_space *s = &fp->space;
    size_t n = fp->n;
    int d = s->ndim;
    berg__xform x;
    berg_status st = berg__xform_init(&x, s, 1, 1, BERG__XF_ESTIMATE, fn);
    double *col = berg__alloc(n, sizeof(double), fn);
    if (st || !col) {
        berg__xform_free(&x);
        berg__free(col);
        return st ? st : BERG_ERR_NOMEM;
    }
    /* column 0 of the circulant Delta_g; entry (i, j) is col[(i - j) mod n] */
    memset(col, 0, n * sizeof(double));
    col[0] = 1.0;
    unsigned ftz = berg__ftz_enter();
    laplacian(&x, fr->qfull, col, col);
    berg__ftz_leave(ftz);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            size_t off = 0;
            for (int a = 0; a < d; a++) {
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
        S[i * n + i] -= fr->U[i];
    }
    berg__xform_free(&x);
    berg__free(col);
    return BERG_OK;
}
