/*
 * DCT-II / DST-II and their inverses on spaces without periodic axes,
 * through one real FFT of the same size (Makhoul 1980, in every rank).
 *
 * FFTW computes a multi-dimensional REDFT10 / RODFT10 axis by axis, each a
 * 1-D transform with its own pre- and post-processing: measured 4.1x the
 * time of an r2c/c2r heat step of the same 256^2 grid (3.1x on 1024^2) (bench/propagator/
 * bench_heat prints the figure). Here the whole d-dimensional DCT is one
 * r2c of the permuted array, the permutation pass before it and one pass
 * over the spectrum after it (in 3-D and up, one more per further axis);
 * 256^2 Neumann heat: 0.445x FFTW's r2r step, 1.8x an r2c step.
 *
 * One axis of n cells: permute v_m = x_{2m} (m < ceil(n/2)), v_{n-1-m} =
 * x_{2m+1}; with V = DFT(v) and W = e^{-i pi / (2n)},
 *   DCT(x)_k = Re(W^k V_k),  DCT(x)_{n-k} = -Im(W^k V_k)
 * (FFTW's REDFT10 is twice this). For a complex input z the same V gives
 * DCT(z)_k = (W^k V_k + W^{-k} V_{-k}) / 2 by linearity. In d dimensions,
 * V is the r2c transform of the array permuted along every axis; the
 * complex DCT is applied along every axis but the last, pairing the
 * indices k and n - k, and the last axis (the one r2c halves) is read off
 * as above. A DST-II axis is a DCT-II axis of (-1)^j x_j read backwards:
 * DST(x)_k = DCT((-1)^j x_j)_{n-1-k}. The inverse (FFTW's REDFT01 / RODFT01,
 * which multiply the round trip by 2n per axis) undoes each step in the
 * opposite order; its scale comes out right without a multiplication.
 *
 * Pairs of one axis: with P = W^k F_k, Q = W^{-k} F_{n-k},
 *   T_k = P + Q,  T_{n-k} = i (P - Q)   (twice the DCT, as FFTW),
 *   T_0 = 2 F_0,  T_{n/2} = sqrt(2) F_{n/2} (even n);
 * and the inverse of the unscaled form (T_k = (P + Q) / 2, T_{n-k} =
 * i (P - Q) / 2): F_k = W^{-k} (T_k - i T_{n-k}), F_{n-k} = W^k (T_k +
 * i T_{n-k}), F_0 = T_0, F_{n/2} = sqrt(2) T_{n/2}. The forward carries
 * FFTW's factor 2 per axis and the inverse leaves it out: then the c2r,
 * which multiplies by prod n_a, returns prod 2 n_a times the exact inverse,
 * FFTW's scale, with no multiplication.
 */
#include <math.h>
#include <string.h>

#include "propagator/transform.h"

/* ---- twiddles ---------------------------------------------------------- */

berg_status berg__dct_twiddles(berg__xform *x, const char *fn)
{
    const berg_space *s = &x->space;
    for (int a = 0; a < s->ndim; a++) {
        size_t n = s->n[a];
        x->twiddle[a] = berg__alloc(2 * n, sizeof(double), fn);
        if (!x->twiddle[a])
            return berg_last_status();
        for (size_t k = 0; k < n; k++) {
            /* the angle pi k / (2n) in [0, pi/2): sin and cos of it */
            double th = M_PI * (double)k / (2.0 * (double)n);
            x->twiddle[a][2 * k] = cos(th);
            x->twiddle[a][2 * k + 1] = sin(th);
        }
    }
    return BERG_OK;
}

/* ---- the permutation ---------------------------------------------------- */

/* position of cell j in the permuted axis of n cells */
static inline size_t perm_of(size_t j, size_t n)
{
    return (j & 1u) ? n - 1 - (j >> 1) : (j >> 1);
}

/* per-row data: the offset of the permuted row of the row with outer
 * multi-index idx (axes 0..d-2), and the sign of the Dirichlet axes */
static size_t permuted_row(const berg__xform *x, const size_t *idx, double *sign)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t off = 0;
    double sg = 1.0;
    for (int a = 0; a < d - 1; a++) {
        off += perm_of(idx[a], s->n[a]) * s->stride[a];
        if (s->bc[a] == BERG_DIRICHLET && (idx[a] & 1u))
            sg = -sg;
    }
    *sign = sg;
    return off;
}

/* the outer multi-index (axes 0..d-2) of row r of one array */
static void row_index(const berg__xform *x, size_t r, size_t *idx)
{
    const berg_space *s = &x->space;
    for (int a = s->ndim - 2; a >= 0; a--) {
        idx[a] = r % s->n[a];
        r /= s->n[a];
    }
}

static void next_index(const berg__xform *x, size_t *idx)
{
    const berg_space *s = &x->space;
    for (int a = s->ndim - 2; a >= 0; a--) {
        if (++idx[a] < s->n[a])
            return;
        idx[a] = 0;
    }
}

/* rows [r0, r1) of one array: v = the permuted (and Dirichlet-signed)
 * in (forward), or out = the inverse permutation of v (inverse) */
static void permute_rows(const berg__xform *x, int inverse, const double *restrict src,
                         double *restrict dst, size_t r0, size_t r1)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[d - 1], h = (n + 1) / 2, l = n / 2;
    double last = s->bc[d - 1] == BERG_DIRICHLET ? -1.0 : 1.0;
    size_t idx[BERG_MAX_RANK] = {0};
    row_index(x, r0, idx);
    for (size_t r = r0; r < r1; r++) {
        double sg;
        size_t prow = permuted_row(x, idx, &sg);
        double so = sg * last;
        if (!inverse) {
            const double *in = src + r * n;
            double *vr = dst + prow;
            for (size_t m = 0; m < h; m++)
                vr[m] = sg * in[2 * m];
            for (size_t m = 0; m < l; m++)
                vr[n - 1 - m] = so * in[2 * m + 1];
        } else {
            const double *vr = src + prow;
            double *out = dst + r * n;
            for (size_t m = 0; m < h; m++)
                out[2 * m] = sg * vr[m];
            for (size_t m = 0; m < l; m++)
                out[2 * m + 1] = so * vr[n - 1 - m];
        }
        next_index(x, idx);
    }
}

/* ---- the complex DCT along one axis (not the last) ----------------------- */

/* Rows r1, r2 (len complex entries) of indices k and n - k into o1, o2
 * (may be r1, r2): forward (scaled as FFTW) or inverse (unscaled); W^k =
 * cw - i sw */
static void pair_rows(double cw, double sw, int inverse, const double *r1, const double *r2,
                      double *o1, double *o2, size_t len)
{
    if (!inverse) {
        for (size_t j = 0; j < len; j++) {
            double f1r = r1[2 * j], f1i = r1[2 * j + 1];
            double f2r = r2[2 * j], f2i = r2[2 * j + 1];
            /* P = W^k F1, Q = W^-k F2; T1 = P + Q, T2 = i (P - Q) */
            double pr = cw * f1r + sw * f1i, pi = cw * f1i - sw * f1r;
            double qr = cw * f2r - sw * f2i, qi = cw * f2i + sw * f2r;
            o1[2 * j] = pr + qr;
            o1[2 * j + 1] = pi + qi;
            o2[2 * j] = qi - pi;
            o2[2 * j + 1] = pr - qr;
        }
    } else {
        for (size_t j = 0; j < len; j++) {
            double t1r = r1[2 * j], t1i = r1[2 * j + 1];
            double t2r = r2[2 * j], t2i = r2[2 * j + 1];
            /* P = T1 - i T2, Q = T1 + i T2; F1 = W^-k P, F2 = W^k Q */
            double pr = t1r + t2i, pi = t1i - t2r;
            double qr = t1r - t2i, qi = t1i + t2r;
            o1[2 * j] = cw * pr - sw * pi;
            o1[2 * j + 1] = cw * pi + sw * pr;
            o2[2 * j] = cw * qr + sw * qi;
            o2[2 * j + 1] = cw * qi - sw * qr;
        }
    }
}

/* a row that pairs with itself (k = 0: forward T = 2 F, inverse F = T;
 * k = n/2: T = sqrt(2) F both ways) into o */
static void self_row(double f, const double *r, double *o, size_t len)
{
    for (size_t j = 0; j < 2 * len; j++)
        o[j] = f * r[j];
}

static double self_factor(size_t k, int inverse)
{
    return k == 0 ? (inverse ? 1.0 : 2.0) : M_SQRT2;
}

/* In place on one array's complex spectrum c (shape n_0 .. n_{d-2}, chalf):
 * F -> T along axis a < d - 2 (forward) or T -> F (inverse), unit u the
 * row pair k, n - k of outer block o (u = o (n/2 + 1) + k) */
static size_t pair_units(const berg__xform *x, int a, size_t *inner_out)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[a], inner = x->chalf;
    for (int b = a + 1; b < d - 1; b++)
        inner *= s->n[b];
    if (inner_out)
        *inner_out = inner;
    return x->ncplx / (n * inner) * (n / 2 + 1);
}

static void pair_unit(const berg__xform *x, int a, int inverse, double *c, size_t u)
{
    size_t n = x->space.n[a], inner, nh = n / 2 + 1, o = u / nh, k = u % nh;
    pair_units(x, a, &inner);
    const double *tw = x->twiddle[a];
    double *blk = c + 2 * o * n * inner, *r1 = blk + 2 * k * inner;
    if (k == 0 || 2 * k == n)
        self_row(self_factor(k, inverse), r1, r1, inner);
    else if (2 * k < n)
        pair_rows(tw[2 * k], tw[2 * k + 1], inverse, r1, blk + 2 * (n - k) * inner, r1,
                  blk + 2 * (n - k) * inner, inner);
}

/* ---- the last axis ------------------------------------------------------ */

/* X (one spectral row) = the real DCT/DST coefficients (FFTW's scale) of
 * the complex row T: X_k = 2 Re(W^k T_k), X_{n-k} = -2 Im(W^k T_k); a
 * Dirichlet axis stores DCT index k at n - 1 - k */
static void extract_row(const berg__xform *x, const double *restrict c, double *restrict X)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[d - 1], hl = x->chalf;
    const double *tw = x->twiddle[d - 1];
    if (s->bc[d - 1] != BERG_DIRICHLET) {
        X[0] = 2.0 * c[0];
        for (size_t k = 1; k < hl; k++) {
            double cw = tw[2 * k], sw = tw[2 * k + 1], tr = c[2 * k], ti = c[2 * k + 1];
            X[k] = 2.0 * (cw * tr + sw * ti);
            if (2 * k < n)
                X[n - k] = -2.0 * (cw * ti - sw * tr);
        }
    } else {
        X[n - 1] = 2.0 * c[0];
        for (size_t k = 1; k < hl; k++) {
            double cw = tw[2 * k], sw = tw[2 * k + 1], tr = c[2 * k], ti = c[2 * k + 1];
            X[n - 1 - k] = 2.0 * (cw * tr + sw * ti);
            if (2 * k < n)
                X[k - 1] = -2.0 * (cw * ti - sw * tr);
        }
    }
}

/* the inverse of extract_row without its factor 2: T_k = W^{-k} (X_k - i X_{n-k}) */
static void insert_row(const berg__xform *x, const double *restrict X, double *restrict c)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[d - 1], hl = x->chalf;
    const double *tw = x->twiddle[d - 1];
    int rev = s->bc[d - 1] == BERG_DIRICHLET;
    c[0] = rev ? X[n - 1] : X[0];
    c[1] = 0.0;
    for (size_t k = 1; k < hl; k++) {
        double cw = tw[2 * k], sw = tw[2 * k + 1];
        double xr = rev ? X[n - 1 - k] : X[k];
        double xi = 2 * k < n ? -(rev ? X[k - 1] : X[n - k]) : -xr;
        c[2 * k] = cw * xr - sw * xi;
        c[2 * k + 1] = cw * xi + sw * xr;
    }
}

/* offset of the spectral row with DCT indices idx (axes 0..d-2) */
static size_t spectral_row(const berg__xform *x, const size_t *idx)
{
    const berg_space *s = &x->space;
    size_t off = 0;
    for (int a = 0; a < s->ndim - 1; a++) {
        size_t k = s->bc[a] == BERG_DIRICHLET ? s->n[a] - 1 - idx[a] : idx[a];
        off += k * s->stride[a];
    }
    return off;
}

/* Axis d-2 (the last full axis; none in 1-D) and the last axis in one
 * pass, forward (from the complex c to the real spec) or inverse: unit u
 * is the row pair k, n - k of block o (u = o (n/2 + 1) + k) of axis d-2.
 * tmp holds 4 chalf doubles. */
static size_t last_units(const berg__xform *x)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    if (d == 1)
        return 1;
    size_t n = s->n[d - 2];
    return x->ncplx / (n * x->chalf) * (n / 2 + 1);
}

/* the spectrum is read (inverse: in) or written (forward: out) */
static void last_unit(const berg__xform *x, int inverse, double *c, const double *in, double *out,
                      double *tmp, size_t u)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t hl = x->chalf;
    if (d == 1) {
        if (inverse)
            insert_row(x, in, c);
        else
            extract_row(x, c, out);
        return;
    }
    size_t n = s->n[d - 2], nh = n / 2 + 1, o = u / nh, k = u % nh;
    const double *tw = x->twiddle[d - 2];
    double *t1 = tmp, *t2 = tmp + 2 * hl;
    size_t idx[BERG_MAX_RANK] = {0};
    /* the multi-index of block o over axes 0..d-3 */
    for (int a = d - 3; a >= 0; a--) {
        idx[a] = o % s->n[a];
        o /= s->n[a];
    }
    double *blk = c + 2 * (u / nh) * n * hl;
    idx[d - 2] = k;
    size_t i1 = spectral_row(x, idx);
    double *r1 = blk + 2 * k * hl;
    if (k == 0 || 2 * k == n) {
        if (inverse) {
            insert_row(x, in + i1, t1);
            self_row(self_factor(k, 1), t1, r1, hl);
        } else {
            self_row(self_factor(k, 0), r1, t1, hl);
            extract_row(x, t1, out + i1);
        }
        return;
    }
    if (2 * k > n)
        return; /* k > n/2 for odd n: the pair of n - k was done */
    idx[d - 2] = n - k;
    size_t i2 = spectral_row(x, idx);
    double *r2 = blk + 2 * (n - k) * hl;
    if (inverse) {
        insert_row(x, in + i1, t1);
        insert_row(x, in + i2, t2);
        pair_rows(tw[2 * k], tw[2 * k + 1], 1, t1, t2, r1, r2, hl);
    } else {
        pair_rows(tw[2 * k], tw[2 * k + 1], 0, r1, r2, t1, t2, hl);
        extract_row(x, t1, out + i1);
        extract_row(x, t2, out + i2);
    }
}

/* ---- threads ------------------------------------------------------------ */

/* The passes split among the transform's threads (x->nthreads) from 2^16
 * values on: every unit is computed as in the serial pass, so the result
 * does not depend on the thread count. */
typedef struct pass_job {
    const berg__xform *x;
    int kind;       /* 0 permute, 1 last axes, 2 pair pass of axis a */
    int inverse, a;
    const double *src;
    double *dst, *c;
    const double *spec_in; /* the spectrum an inverse reads */
    double *spec, *tmp;    /* the spectrum a forward writes */
} pass_job;

static void pass_range(void *ctx, size_t begin, size_t end, size_t range)
{
    const pass_job *j = ctx;
    if (j->kind == 0) {
        permute_rows(j->x, j->inverse, j->src, j->dst, begin, end);
    } else if (j->kind == 1) {
        double *tmp = j->tmp + range * 4 * j->x->chalf;
        for (size_t u = begin; u < end; u++)
            last_unit(j->x, j->inverse, j->c, j->spec_in, j->spec, tmp, u);
    } else {
        for (size_t u = begin; u < end; u++)
            pair_unit(j->x, j->a, j->inverse, j->c, u);
    }
}

static size_t pass_threads(const berg__xform *x)
{
    return x->nreal >= ((size_t)1 << 16) ? x->nthreads : 1;
}

static void run_pass(pass_job *j, size_t units)
{
    size_t nt = pass_threads(j->x);
    if (nt <= 1)
        pass_range(j, 0, units, 0);
    else
        berg__parallel_for(units, nt, 1, pass_range, j);
}

/* ---- the transforms ----------------------------------------------------- */

void berg__dct_forward_s(const berg__xform *x, const berg__xscratch *s, const double *in,
                         double *spec)
{
    int d = x->space.ndim;
    size_t rows = x->nreal / x->space.n[d - 1];
    for (size_t b = 0; b < x->batch; b++) {
        pass_job j = {.x = x, .kind = 0, .src = in + b * x->nreal, .dst = s->rbuf + b * x->nreal};
        run_pass(&j, rows);
    }
    fftw_execute_dft_r2c(x->b_fwd, s->rbuf, (fftw_complex *)s->cbuf);
    /* the permuted array is spent: the rows' scratch (4 chalf per thread) */
    for (size_t b = 0; b < x->batch; b++) {
        double *c = s->cbuf + 2 * b * x->ncplx;
        for (int a = 0; a < d - 2; a++) {
            pass_job j = {.x = x, .kind = 2, .a = a, .c = c};
            run_pass(&j, pair_units(x, a, NULL));
        }
        pass_job j = {.x = x, .kind = 1, .c = c, .spec = spec + b * x->nreal, .tmp = s->rbuf};
        run_pass(&j, last_units(x));
    }
}

void berg__dct_inverse_s(const berg__xform *x, const berg__xscratch *s, const double *src,
                         double *out)
{
    int d = x->space.ndim;
    size_t rows = x->nreal / x->space.n[d - 1];
    for (size_t b = 0; b < x->batch; b++) {
        double *c = s->cbuf + 2 * b * x->ncplx;
        pass_job j = {.x = x, .kind = 1, .inverse = 1, .c = c, .spec_in = src + b * x->nreal,
                      .tmp = s->rbuf};
        run_pass(&j, last_units(x));
        for (int a = d - 3; a >= 0; a--) {
            pass_job p = {.x = x, .kind = 2, .inverse = 1, .a = a, .c = c};
            run_pass(&p, pair_units(x, a, NULL));
        }
    }
    fftw_execute_dft_c2r(x->b_bwd, (fftw_complex *)s->cbuf, s->rbuf);
    for (size_t b = 0; b < x->batch; b++) {
        pass_job j = {.x = x, .kind = 0, .inverse = 1, .src = s->rbuf + b * x->nreal,
                      .dst = out + b * x->nreal};
        run_pass(&j, rows);
    }
}
