/*
 * The stabilized scaling mode's kernel: the exact Gibbs kernel of a
 * diagonal metric is the tensor product of the 1-D kernels
 * K_a(i, j) = sum over images e^{-g_aa (x_i - y'_j)^2 / eps}, applied axis
 * by axis as small dense products (CBLAS dgemm). Its entries are exact to
 * the last bit down to 1e-308 (an FFT kernel is exact only to ~1e-16 of its
 * peak), so the scalings u = e^{f/eps}, v = e^{g/eps} are the limit: they
 * leave the double range once the potentials vary by ~700 eps. As in
 * Schmitzer's stabilized sparse scaling (SIAM J. Sci. Comput. 41, 2019),
 * large scalings are absorbed into potentials: here a separable part
 * A(x) = sum_a A_a(x_a) (and B for v), so that the stabilized kernel
 * e^{A(x) + B(y)} K(x, y) is still a tensor product of per-axis tables
 * T_a(i, j) = e^{A_a(i) + B_a(j)} K_a(i, j), and the scalings keep only the
 * non-separable rest.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "metric/sinkhorn_internal.h"

#include <cblas.h>

size_t berg__sinkhorn_coupling_words(const berg_sinkhorn *sk)
{
    return 2 * sk->sum_axis + sk->sum_axis2;
}

berg__sk_coupling berg__sinkhorn_coupling_at(const berg_sinkhorn *sk, double *block)
{
    berg__sk_coupling c = {block, block + sk->sum_axis, block + 2 * sk->sum_axis, 1.0};
    return c;
}

void berg__sinkhorn_coupling_reset(const berg_sinkhorn *sk, berg__sk_coupling *c)
{
    const berg_space *s = &sk->space;
    size_t off = 0;
    c->scale = 1.0;
    for (size_t i = 0; i < 2 * sk->sum_axis; i++)
        c->A[i] = 0.0; /* A and B are contiguous */
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t nn = s->n[a] * s->n[a];
        memcpy(c->T + off, sk->kernel[a], nn * sizeof(double));
        off += nn;
    }
}

int berg__sinkhorn_coupling_tables(const berg_sinkhorn *sk, berg__sk_coupling *c)
{
    const berg_space *s = &sk->space;
    size_t off = 0, voff = 0;
    int ok = 1;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t n = s->n[a];
        const double *LK = sk->log_kernel[a], *A = c->A + voff, *B = c->B + voff;
        double *T = c->T + off;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                T[i * n + j] = A[i] + B[j] + c->scale * LK[i * n + j];
        berg__sinkhorn_vexp(T, T, n * n);
        for (size_t i = 0; i < n * n; i++)
            if (!(T[i] < HUGE_VAL))
                ok = 0;
        off += n * n;
        voff += n;
    }
    return ok;
}

/* ---- per-axis products --------------------------------------------------- */

/* The rows of T_a whose potential is -inf (a hyperplane without mass:
 * absorb) are 0, and so is the part of the product that reads or writes
 * them: the products run on the box of indices whose potentials are
 * finite, on both sides. For measures of small support (images) this
 * cuts a 2-D product from 4 n^3 to about 4 n^2 w flops, w the support's
 * width in cells. The result equals the full product but for the order of
 * the sums (dgemm's blocking), and is 0 outside the box of its side. */

/* [lo, hi) of the indices of P (n values) that are > -inf; lo = hi = 0
 * when none is */
static void active(const double *P, size_t n, size_t *lo, size_t *hi)
{
    size_t a = 0, b = n;
    while (a < n && P[a] == -INFINITY)
        a++;
    while (b > a && P[b - 1] == -INFINITY)
        b--;
    *lo = a;
    *hi = b;
}

/* One axis of the product on the current box: the values of src on
 * the box [lo, hi) (other axes) x J (axis a) go to dst on [lo, hi) x I.
 * M is the n x n table, M(i, j) with i on the u side; transpose = 0
 * contracts j (out on the u side: I rows of M, J columns), 1 contracts i. */
typedef struct box_axis {
    const berg_space *s;
    size_t a;
    const double *M;
    int transpose;
    size_t I0, I1, J0, J1;       /* output and input ranges of axis a */
    const size_t *lo, *hi;       /* the box of the other axes */
    double *cost;                /* non-NULL: add the calls' work to it, compute nothing */
} box_axis;

/* the work of one product (m x k) (k x n), in multiply-adds
 * (BERG__SK_PACK_COST: the packing of its operands) */
static double gemm_work(size_t m, size_t k, size_t n)
{
    double dm = (double)m, dk = (double)k, dn = (double)n;
    return dm * dk * dn + BERG__SK_PACK_COST * (dk * dn + dm * dk);
}

/* Y (rows x |I|, ld) = X (rows x |J|, ld) M_IJ^t (or M_JI for transpose) */
static void gemm_rows(const box_axis *b, size_t rows, const double *X, double *Y, size_t ld)
{
    size_t n = b->s->n[b->a];
    int ni = (int)(b->I1 - b->I0), nj = (int)(b->J1 - b->J0);
    if (b->transpose) /* Y_r,i = sum_j X_r,j M(j, i) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, ni, nj, 1.0, X,
                    (int)ld, b->M + b->J0 * n + b->I0, (int)n, 0.0, Y, (int)ld);
    else /* Y_r,i = sum_j X_r,j M(i, j) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, ni, nj, 1.0, X, (int)ld,
                    b->M + b->I0 * n + b->J0, (int)n, 0.0, Y, (int)ld);
}

/* Y (|I| x cols, ld) = M_IJ X (|J| x cols, ld) (or M_JI^t) */
static void gemm_cols(const box_axis *b, size_t cols, const double *X, double *Y, size_t ld)
{
    size_t n = b->s->n[b->a];
    int ni = (int)(b->I1 - b->I0), nj = (int)(b->J1 - b->J0);
    if (b->transpose)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ni, (int)cols, nj, 1.0,
                    b->M + b->J0 * n + b->I0, (int)n, X, (int)ld, 0.0, Y, (int)ld);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, (int)cols, nj, 1.0,
                    b->M + b->I0 * n + b->J0, (int)n, X, (int)ld, 0.0, Y, (int)ld);
}

/* the next tuple idx[0..count) (idx[skip] left out) of the box [lo, hi),
 * last index fastest; 0 after the last */
static int next_tuple(size_t *idx, const size_t *lo, const size_t *hi, size_t count, size_t skip)
{
    for (size_t q = count; q-- > 0;) {
        if (q == skip)
            continue;
        if (++idx[q] < hi[q])
            return 1;
        idx[q] = lo[q];
    }
    return 0;
}

/* One axis of a product on the box, in dgemm calls over the tuples of the
 * other axes; with b->cost their work only (src and dst unused) */
static void box_product(const box_axis *b, const double *src, double *dst)
{
    const berg_space *s = b->s;
    size_t d = (size_t)s->ndim, a = b->a;
    if (a == d - 1) {
        /* the last axis: one product over the rows of axis d-2's range per
         * tuple of the axes before it */
        size_t rows = d >= 2 ? b->hi[d - 2] - b->lo[d - 2] : 1;
        size_t outer = d >= 2 ? d - 2 : 0, idx[BERG_MAX_RANK];
        for (size_t q = 0; q < outer; q++)
            idx[q] = b->lo[q];
        for (;;) {
            size_t off = d >= 2 ? b->lo[d - 2] * s->stride[d - 2] : 0;
            for (size_t q = 0; q < outer; q++)
                off += idx[q] * s->stride[q];
            if (rows > 0 && b->cost)
                *b->cost += gemm_work(rows, b->J1 - b->J0, b->I1 - b->I0);
            else if (rows > 0)
                gemm_rows(b, rows, src + off + b->J0, dst + off + b->I0, s->n[d - 1]);
            if (!next_tuple(idx, b->lo, b->hi, outer, SIZE_MAX))
                return;
        }
    }
    /* axis a < d-1: per tuple of the axes other than a and the last, M acts
     * on the columns of the last axis' range (ld = stride of a); when every
     * axis after a is whole, those columns are one contiguous run */
    int whole = 1;
    for (size_t q = a + 1; q < d; q++)
        whole &= b->lo[q] == 0 && b->hi[q] == s->n[q];
    size_t cols = whole ? s->stride[a] : b->hi[d - 1] - b->lo[d - 1];
    size_t last = whole ? a : d - 1; /* the tuple runs over axes < last, except a */
    size_t idx[BERG_MAX_RANK];
    for (size_t q = 0; q < last; q++)
        idx[q] = b->lo[q];
    for (;;) {
        size_t off = whole ? 0 : b->lo[d - 1];
        for (size_t q = 0; q < last; q++)
            if (q != a)
                off += idx[q] * s->stride[q];
        if (cols > 0 && b->cost)
            *b->cost += gemm_work(b->I1 - b->I0, b->J1 - b->J0, cols);
        else if (cols > 0)
            gemm_cols(b, cols, src + off + b->J0 * s->stride[a], dst + off + b->I0 * s->stride[a],
                      s->stride[a]);
        if (!next_tuple(idx, b->lo, b->hi, last, a))
            return;
    }
}

/* The boxes of a product on the output rows [row0, row1) of axis 0: per
 * axis the output range [I0, I1) and the input range [J0, J1) (the
 * indices whose potentials are finite, the output's cut to the rows);
 * empty when a range is, full when the output box is the whole slab */
typedef struct dense_boxes {
    size_t I0[BERG_MAX_RANK], I1[BERG_MAX_RANK], J0[BERG_MAX_RANK], J1[BERG_MAX_RANK];
    int empty, full;
} dense_boxes;

static void boxes(const berg_sinkhorn *sk, const berg__sk_coupling *c, int transpose,
                  size_t row0, size_t row1, dense_boxes *x)
{
    const berg_space *s = &sk->space;
    size_t voff = 0;
    x->empty = row0 >= row1;
    x->full = 1;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t ulo, uhi, vlo, vhi;
        active(c->A + voff, s->n[a], &ulo, &uhi);
        active(c->B + voff, s->n[a], &vlo, &vhi);
        x->empty |= ulo == uhi || vlo == vhi;
        size_t olo = transpose ? vlo : ulo, ohi = transpose ? vhi : uhi;
        if (a == 0) { /* this call's rows of it */
            olo = olo > row0 ? olo : row0;
            ohi = ohi < row1 ? ohi : row1;
            x->empty |= olo >= ohi;
            x->full &= olo == row0 && ohi == row1;
        } else {
            x->full &= olo == 0 && ohi == s->n[a];
        }
        x->I0[a] = olo;
        x->I1[a] = ohi;
        x->J0[a] = transpose ? ulo : vlo;
        x->J1[a] = transpose ? uhi : vhi;
        voff += s->n[a];
    }
}

/* The axes in turn on the boxes x, from in to out through tmp (d - 1 - a
 * even: out); with cost, only their work into *cost */
static void run_axes(const berg_sinkhorn *sk, const berg__sk_coupling *c, int transpose,
                     const dense_boxes *x, const double *in, double *out, double *tmp,
                     double *slab, size_t slab_n, double *cost)
{
    const berg_space *s = &sk->space;
    size_t d = (size_t)s->ndim, off = 0;
    size_t lo[BERG_MAX_RANK], hi[BERG_MAX_RANK];
    /* the box starts on the input side */
    memcpy(lo, x->J0, d * sizeof(size_t));
    memcpy(hi, x->J1, d * sizeof(size_t));
    const double *src = in;
    for (size_t a = 0; a < d; a++) {
        size_t n = s->n[a];
        double *dst = ((d - 1 - a) % 2 == 0) ? out : tmp;
        box_axis b = {s, a, c->T + off, transpose, x->I0[a], x->I1[a], x->J0[a], x->J1[a],
                      lo, hi, cost};
        if (a == d - 1 && !x->full && !cost) /* the slab is 0 outside the box (src is not out) */
            memset(slab, 0, slab_n * sizeof(double));
        box_product(&b, src, dst);
        lo[a] = b.I0;
        hi[a] = b.I1;
        src = dst;
        off += n * n;
    }
}

/* Axis by axis, one dgemm per axis on the box (per outer block when the
 * axis is neither the first nor the last): OpenBLAS threads a product of
 * this size itself (by its own setting, OPENBLAS_NUM_THREADS), and
 * splitting it over libberg's threads as well would run each piece on
 * every OpenBLAS thread again (measured: 3x slower on 2 threads than on 1). */
void berg__sinkhorn_dense_rows(const berg_sinkhorn *sk, const berg__sk_coupling *c,
                               int transpose, const double *in, double *out, double *tmp,
                               size_t row0, size_t row1)
{
    const berg_space *s = &sk->space;
    dense_boxes x;
    boxes(sk, c, transpose, row0, row1, &x);
    double *slab = out + row0 * s->stride[0];
    size_t slab_n = row1 > row0 ? (row1 - row0) * s->stride[0] : 0;
    if (x.empty)
        memset(slab, 0, slab_n * sizeof(double));
    else
        run_axes(sk, c, transpose, &x, in, out, tmp, slab, slab_n, NULL);
}

double berg__sinkhorn_dense_cost(const berg_sinkhorn *sk, const berg__sk_coupling *c,
                                 int transpose, size_t row0, size_t row1)
{
    dense_boxes x;
    double cost = 0.0;
    boxes(sk, c, transpose, row0, row1, &x);
    if (!x.empty)
        run_axes(sk, c, transpose, &x, NULL, NULL, NULL, NULL, 0, &cost);
    return cost;
}

void berg__sinkhorn_dense(const berg_sinkhorn *sk, const berg__sk_coupling *c, int transpose,
                          const double *in, double *out, double *tmp)
{
    berg__sinkhorn_dense_rows(sk, c, transpose, in, out, tmp, 0, sk->space.n[0]);
}

size_t berg__sinkhorn_dense_mid(const berg_sinkhorn *sk, const berg__sk_coupling *c,
                                int transpose)
{
    size_t lo, hi;
    active(transpose ? c->B : c->A, sk->space.n[0], &lo, &hi);
    return lo + (hi - lo) / 2;
}

/* ---- absorption ----------------------------------------------------------- */

/* After absorption the remaining scalings must lie within [1/SCAL_MAX,
 * SCAL_MAX]: a plan entry u T v that matters (>= 1e-30) then needs table
 * entries T >= 1e-270, above the subnormal range where they would lose
 * their relative precision. A potential whose non-separable part exceeds
 * that is left to the log domain. */
#define SCAL_MAX 1e120
/* valid == NULL: every cell */
#define VALID(i) (!valid || valid[i] > 0.0)

int berg__sinkhorn_absorb(const berg_sinkhorn *sk, double *P, const double *L,
                          const double *valid, double *scal, double *acc)
{
    const berg_space *s = &sk->space;
    size_t d = (size_t)s->ndim, N = s->size, voff = 0;
    double *sum = acc, *cnt = acc + sk->sum_axis;
    /* residual R = L - r, kept in scal; each axis in turn takes the mean of
     * R over its hyperplanes (cells where valid > 0) */
    for (size_t i = 0; i < N; i++)
        scal[i] = VALID(i) ? L[i] : 0.0;
    for (size_t a = 0; a < d; a++) {
        size_t n = s->n[a], stride = s->stride[a];
        double *sa = sum + voff, *ca = cnt + voff;
        const size_t outer = N / (n * stride);
        for (size_t i = 0; i < n; i++)
            sa[i] = ca[i] = 0.0;
        /* cell i = (o n + k) stride + q: hyperplane k, in the order of i */
        for (size_t o = 0; o < outer; o++)
            for (size_t k = 0; k < n; k++)
                for (size_t i = (o * n + k) * stride, e = i + stride; i < e; i++)
                    if (VALID(i)) {
                        sa[k] += scal[i];
                        ca[k] += 1.0;
                    }
        for (size_t k = 0; k < n; k++) {
            double r = ca[k] > 0.0 ? sa[k] / ca[k] : 0.0;
            sa[k] = r;
            /* an empty hyperplane carries no mass: its rows of T vanish */
            P[voff + k] = !(ca[k] > 0.0) ? -INFINITY : isfinite(P[voff + k]) ? P[voff + k] + r : r;
        }
        for (size_t o = 0; o < outer; o++)
            for (size_t k = 0; k < n; k++)
                for (size_t i = (o * n + k) * stride, e = i + stride; i < e; i++)
                    if (VALID(i))
                        scal[i] -= sa[k];
        voff += n;
    }
    berg__sinkhorn_vexp(scal, scal, N);
    int ok = 1;
    for (size_t i = 0; i < N; i++) {
        if (!VALID(i))
            scal[i] = 0.0;
        else if (!(scal[i] >= 1.0 / SCAL_MAX && scal[i] <= SCAL_MAX))
            ok = 0;
    }
    return ok;
}

void berg__sinkhorn_add_potentials(const berg_space *s, const double *P, double *out)
{
    size_t N = s->size, voff = 0;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t n = s->n[a], stride = s->stride[a], outer = N / (n * stride);
        for (size_t o = 0; o < outer; o++)
            for (size_t k = 0; k < n; k++) {
                double p = P[voff + k];
                for (size_t i = (o * n + k) * stride, e = i + stride; i < e; i++)
                    out[i] += p;
            }
        voff += n;
    }
}
