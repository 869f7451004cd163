/*
 * DCT-II / DST-II and their inverses on spaces without periodic axes,
 * through one real FFT of the same size (Makhoul 1980, in every rank).
 *
 * FFTW computes a multi-dimensional REDFT10 / RODFT10 axis by axis, each a
 * 1-D transform with its own pre- and post-processing: measured 3.7-4.6x
 * the time of an r2c/c2r pair of the same 256^2 grid (bench/propagator/
 * bench_heat prints the figure). Here the whole d-dimensional DCT is one
 * r2c of the permuted array plus two passes over the spectrum.
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

static void next_index(const berg__xform *x, size_t *idx)
{
    const berg_space *s = &x->space;
    for (int a = s->ndim - 2; a >= 0; a--) {
        if (++idx[a] < s->n[a])
            return;
        idx[a] = 0;
    }
}

/* v = the permuted (and Dirichlet-signed) array of in, one array of the batch */
static void permute(const berg__xform *x, const double *restrict in, double *restrict v)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[d - 1], rows = x->nreal / n, h = (n + 1) / 2, l = n / 2;
    double last = s->bc[d - 1] == BERG_DIRICHLET ? -1.0 : 1.0;
    size_t idx[BERG_MAX_RANK] = {0};
    for (size_t r = 0; r < rows; r++, in += n) {
        double sg;
        double *vr = v + permuted_row(x, idx, &sg);
        double so = sg * last;
        for (size_t m = 0; m < h; m++)
            vr[m] = sg * in[2 * m];
        for (size_t m = 0; m < l; m++)
            vr[n - 1 - m] = so * in[2 * m + 1];
        next_index(x, idx);
    }
}

/* out = the inverse permutation of v (and its signs) */
static void unpermute(const berg__xform *x, const double *restrict v, double *restrict out)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[d - 1], rows = x->nreal / n, h = (n + 1) / 2, l = n / 2;
    double last = s->bc[d - 1] == BERG_DIRICHLET ? -1.0 : 1.0;
    size_t idx[BERG_MAX_RANK] = {0};
    for (size_t r = 0; r < rows; r++, out += n) {
        double sg;
        const double *vr = v + permuted_row(x, idx, &sg);
        double so = sg * last;
        for (size_t m = 0; m < h; m++)
            out[2 * m] = sg * vr[m];
        for (size_t m = 0; m < l; m++)
            out[2 * m + 1] = so * vr[n - 1 - m];
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
 * F -> T along axis a < d - 2 (forward) or T -> F (inverse) */
static void pair_pass(const berg__xform *x, int a, int inverse, double *c)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t n = s->n[a], inner = x->chalf;
    for (int b = a + 1; b < d - 1; b++)
        inner *= s->n[b];
    size_t outer = x->ncplx / (n * inner);
    const double *tw = x->twiddle[a];
    for (size_t o = 0; o < outer; o++) {
        double *blk = c + 2 * o * n * inner;
        for (size_t k = 0; 2 * k <= n; k++) {
            double *r1 = blk + 2 * k * inner;
            if (k == 0 || 2 * k == n)
                self_row(self_factor(k, inverse), r1, r1, inner);
            else
                pair_rows(tw[2 * k], tw[2 * k + 1], inverse, r1, blk + 2 * (n - k) * inner, r1,
                          blk + 2 * (n - k) * inner, inner);
        }
    }
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
 * pass: forward, from the complex c to the real spec, or inverse. tmp
 * holds 4 chalf doubles. */
static void last_axes(const berg__xform *x, int inverse, double *c, double *spec, double *tmp)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    size_t hl = x->chalf;
    if (d == 1) {
        if (inverse)
            insert_row(x, spec, c);
        else
            extract_row(x, c, spec);
        return;
    }
    size_t n = s->n[d - 2], blocks = x->ncplx / (n * hl);
    const double *tw = x->twiddle[d - 2];
    double *t1 = tmp, *t2 = tmp + 2 * hl;
    size_t idx[BERG_MAX_RANK] = {0};
    for (size_t o = 0; o < blocks; o++) {
        double *blk = c + 2 * o * n * hl;
        for (size_t k = 0; 2 * k <= n; k++) {
            idx[d - 2] = k;
            double *X1 = spec + spectral_row(x, idx), *r1 = blk + 2 * k * hl;
            if (k == 0 || 2 * k == n) {
                if (inverse) {
                    insert_row(x, X1, t1);
                    self_row(self_factor(k, 1), t1, r1, hl);
                } else {
                    self_row(self_factor(k, 0), r1, t1, hl);
                    extract_row(x, t1, X1);
                }
                continue;
            }
            idx[d - 2] = n - k;
            double *X2 = spec + spectral_row(x, idx), *r2 = blk + 2 * (n - k) * hl;
            if (inverse) {
                insert_row(x, X1, t1);
                insert_row(x, X2, t2);
                pair_rows(tw[2 * k], tw[2 * k + 1], 1, t1, t2, r1, r2, hl);
            } else {
                pair_rows(tw[2 * k], tw[2 * k + 1], 0, r1, r2, t1, t2, hl);
                extract_row(x, t1, X1);
                extract_row(x, t2, X2);
            }
        }
        /* the next block: the odometer over axes 0..d-3 */
        for (int a = d - 3; a >= 0; a--) {
            if (++idx[a] < s->n[a])
                break;
            idx[a] = 0;
        }
    }
}

/* ---- the transforms ----------------------------------------------------- */

void berg__dct_forward_s(const berg__xform *x, const berg__xscratch *s, const double *in,
                         double *spec)
{
    int d = x->space.ndim;
    for (size_t b = 0; b < x->batch; b++)
        permute(x, in + b * x->nreal, s->rbuf + b * x->nreal);
    fftw_execute_dft_r2c(x->b_fwd, s->rbuf, (fftw_complex *)s->cbuf);
    /* the permuted array is spent: its first 4 chalf doubles are the rows' scratch */
    for (size_t b = 0; b < x->batch; b++) {
        double *c = s->cbuf + 2 * b * x->ncplx;
        for (int a = 0; a < d - 2; a++)
            pair_pass(x, a, 0, c);
        last_axes(x, 0, c, spec + b * x->nreal, s->rbuf);
    }
}

void berg__dct_inverse_s(const berg__xform *x, const berg__xscratch *s, const double *src,
                         double *out)
{
    int d = x->space.ndim;
    for (size_t b = 0; b < x->batch; b++) {
        double *c = s->cbuf + 2 * b * x->ncplx;
        last_axes(x, 1, c, (double *)(uintptr_t)(src + b * x->nreal), s->rbuf);
        for (int a = d - 3; a >= 0; a--)
            pair_pass(x, a, 1, c);
    }
    fftw_execute_dft_c2r(x->b_bwd, (fftw_complex *)s->cbuf, s->rbuf);
    for (size_t b = 0; b < x->batch; b++)
        unpermute(x, s->rbuf + b * x->nreal, out + b * x->nreal);
}
