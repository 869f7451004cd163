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

typedef struct axis_job {
    const double *M;   /* n x n table */
    int transpose;     /* 0: out_i = sum_j M_ij in_j; 1: out_j = sum_i M_ij in_i */
    const double *src;
    double *dst;
    size_t outer, n, stride;
    int by_outer;      /* split over the outer blocks, else over columns */
} axis_job;

static void axis_range(void *ctx, size_t begin, size_t end, size_t range)
{
    (void)range;
    const axis_job *j = ctx;
    int n = (int)j->n;
    if (j->stride == 1) {
        /* rows of the (outer x n) matrix: Y = X M^t (or X M) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, j->transpose ? CblasNoTrans : CblasTrans,
                    (int)(end - begin), n, n, 1.0, j->src + begin * j->n, n, j->M, n, 0.0,
                    j->dst + begin * j->n, n);
        return;
    }
    if (j->by_outer) {
        for (size_t o = begin; o < end; o++)
            cblas_dgemm(CblasRowMajor, j->transpose ? CblasTrans : CblasNoTrans, CblasNoTrans, n,
                        (int)j->stride, n, 1.0, j->M, n, j->src + o * j->n * j->stride,
                        (int)j->stride, 0.0, j->dst + o * j->n * j->stride, (int)j->stride);
        return;
    }
    for (size_t o = 0; o < j->outer; o++)
        cblas_dgemm(CblasRowMajor, j->transpose ? CblasTrans : CblasNoTrans, CblasNoTrans, n,
                    (int)(end - begin), n, 1.0, j->M, n, j->src + o * j->n * j->stride + begin,
                    (int)j->stride, 0.0, j->dst + o * j->n * j->stride + begin, (int)j->stride);
}

/* One dgemm per axis (per outer block when the axis is neither the first
 * nor the last): OpenBLAS threads a product of this size itself (by its own
 * setting, OPENBLAS_NUM_THREADS), and splitting it over libberg's threads as
 * well would run each piece on every OpenBLAS thread again (measured: 3x
 * slower on 2 threads than on 1). */
void berg__sinkhorn_dense(const berg_sinkhorn *sk, const berg__sk_coupling *c, int transpose,
                          const double *in, double *out, double *tmp)
{
    const berg_space *s = &sk->space;
    size_t d = (size_t)s->ndim, N = s->size, off = 0;
    const double *src = in;
    for (size_t a = 0; a < d; a++) {
        size_t n = s->n[a], stride = s->stride[a], outer = N / (n * stride);
        double *dst = ((d - 1 - a) % 2 == 0) ? out : tmp;
        axis_job j = {c->T + off, transpose, src, dst, outer, n, stride, 0};
        if (stride == 1) {
            axis_range(&j, 0, outer, 0);
        } else {
            j.by_outer = 1;
            axis_range(&j, 0, outer, 0);
        }
        src = dst;
        off += n * n;
    }
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
        for (size_t i = 0; i < n; i++)
            sa[i] = ca[i] = 0.0;
        for (size_t i = 0; i < N; i++)
            if (VALID(i)) {
                size_t k = (i / stride) % n;
                sa[k] += scal[i];
                ca[k] += 1.0;
            }
        for (size_t k = 0; k < n; k++) {
            double r = ca[k] > 0.0 ? sa[k] / ca[k] : 0.0;
            sa[k] = r;
            /* an empty hyperplane carries no mass: its rows of T vanish */
            P[voff + k] = !(ca[k] > 0.0) ? -INFINITY : isfinite(P[voff + k]) ? P[voff + k] + r : r;
        }
        for (size_t i = 0; i < N; i++)
            if (VALID(i))
                scal[i] -= sa[(i / stride) % n];
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
