/*
 * The two Gibbs kernels of berg_sinkhorn: the FFT heat kernel of the
 * scaling mode and the separable log-sum-exp kernel of the log domain
 * (tables built at creation, applied axis by axis with CBLAS dgemm).
 */
#include <math.h>

#include "metric/sinkhorn_internal.h"

#include <cblas.h>

/* ---- log-domain tables ----------------------------------------------------- */

static double log_add(double a, double b)
{
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    double m = a > b ? a : b;
    return m + log1p(exp(-fabs(a - b)));
}

/* The images of the axis-a kernel reach sqrt(40 eps / g_aa) (terms beyond
 * are below e^{-40}), i.e. reach periods of length L. Summing m = -M .. M
 * covers that when M >= reach + 1 on a periodic axis (images y + m L) and
 * M >= reach / 2 + 1 on a Neumann one (images at y + 2 m L and their
 * reflections). */
double berg__sinkhorn_image_reach(const berg_space *s, size_t a, double eps)
{
    size_t rank = (size_t)s->ndim;
    double L = s->hi[a] - s->lo[a], gaa = s->g[a * rank + a];
    return sqrt(40.0 * eps / gaa) / L;
}

int berg__sinkhorn_images_cover(const berg_space *s, size_t a, double eps)
{
    double reach = berg__sinkhorn_image_reach(s, a, eps);
    double needed = (s->bc[a] == BERG_PERIODIC ? ceil(reach) : ceil(0.5 * reach)) + 1.0;
    return needed <= BERG__SINKHORN_MAX_IMAGES;
}

/* log sum over images of exp(-g (x - y')^2 / eps) for axis a, into the
 * n_a x n_a table; creation has checked that the images cover the kernel */
static void fill_log_kernel(const berg_space *s, size_t a, double eps, double *table)
{
    size_t n = s->n[a], rank = (size_t)s->ndim;
    double L = s->hi[a] - s->lo[a], gaa = s->g[a * rank + a];
    double reach = berg__sinkhorn_image_reach(s, a, eps);
    int M = (int)ceil(reach) + 1;
    if (M > BERG__SINKHORN_MAX_IMAGES)
        M = BERG__SINKHORN_MAX_IMAGES;
    for (size_t i = 0; i < n; i++) {
        double x = berg__coord(s, a, i);
        for (size_t j = 0; j < n; j++) {
            double y = berg__coord(s, a, j), acc = -INFINITY;
            for (int m = -M; m <= M; m++) {
                if (s->bc[a] == BERG_PERIODIC) {
                    double dxy = x - (y + m * L);
                    acc = log_add(acc, -gaa * dxy * dxy / eps);
                } else { /* Neumann: y + 2mL and its reflection 2 lo - y + 2mL */
                    double d1 = x - (y + 2.0 * m * L);
                    double d2 = x - (2.0 * s->lo[a] - y + 2.0 * m * L);
                    acc = log_add(acc, -gaa * d1 * d1 / eps);
                    acc = log_add(acc, -gaa * d2 * d2 / eps);
                }
            }
            table[i * n + j] = acc;
        }
    }
}

void berg__sinkhorn_fill_kernels(berg_sinkhorn *sk)
{
    const berg_space *s = &sk->space;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t nn = s->n[a] * s->n[a];
        fill_log_kernel(s, a, sk->eps, sk->log_kernel[a]);
        for (size_t i = 0; i < nn; i++)
            sk->kernel[a][i] = exp(sk->log_kernel[a][i]);
    }
}

/* ---- scaling mode: the heat kernel ---------------------------------------- */

/* Kernel outputs below KFLOOR times their maximum are FFT round-off, not
 * values: the scaling mode divides by max(out, KFLOOR * max out). Cells
 * where the floor binds carry (at convergence) a negligible share of the
 * mass; when they do not, the marginal error stalls and the solve reports
 * BERG_ERR_NO_CONVERGENCE (use the log domain). */
#define KFLOOR 1e-13

berg_status berg__sinkhorn_heat(const berg_sinkhorn *sk, const char *fn, const double *in,
                                double *out, double *kfloor)
{
    /* the handle, t and pointers are valid: the apply fails for scratch
     * (BERG_ERR_NOMEM under a concurrent caller) or for a non-finite input,
     * which here means scalings that overflowed: this solve's failure, not
     * a bad input of the heat apply (berg_heat_apply's own sum over the
     * input finds it, so no pass of ours is needed) */
    berg_status st = berg_heat_apply(sk->heat, 0.25 * sk->eps, in, out);
    if (st == BERG_ERR_NONFINITE)
        return berg__sinkhorn_lost(sk, fn, in, sk->space.size);
    if (st != BERG_OK)
        return berg__sinkhorn_reprefix(fn, st);
    /* the maximum in four lanes (a NaN compares false and is skipped; the
     * lost check below finds it when nothing else is positive) */
    size_t N = sk->space.size, i = 0;
    double m0 = 0.0, m1 = 0.0, m2 = 0.0, m3 = 0.0;
    for (; i + 4 <= N; i += 4) {
        m0 = out[i] > m0 ? out[i] : m0;
        m1 = out[i + 1] > m1 ? out[i + 1] : m1;
        m2 = out[i + 2] > m2 ? out[i + 2] : m2;
        m3 = out[i + 3] > m3 ? out[i + 3] : m3;
    }
    for (; i < N; i++)
        m0 = out[i] > m0 ? out[i] : m0;
    double m = fmax(fmax(m0, m1), fmax(m2, m3));
    *kfloor = (m < HUGE_VAL) ? KFLOOR * m : 0.0;
    if (!(*kfloor > 0.0))
        return berg__sinkhorn_lost(sk, fn, out, N);
    return BERG_OK;
}

/* ---- log domain: separable log-sum-exp ------------------------------------ */

/* Exact log-sum-exp of one fiber (row-wise max shift): log sum_j
 * e^{LK_ij + in_j}; in holds n values, at least one finite. */
static double lse_row(const double *row, const double *in, size_t n)
{
    double m = -INFINITY;
    for (size_t j = 0; j < n; j++) {
        double v = row[j] + in[j];
        if (v > m)
            m = v;
    }
    double acc = 0.0;
    for (size_t j = 0; j < n; j++)
        acc += exp(row[j] + in[j] - m);
    return m + log(acc);
}

/* Below this a BLAS sum of shifted exponentials may have lost terms to
 * underflow: such entries are recomputed exactly. */
#define LSE_SAFE 1e-280

/* The fibers of axis a (outer blocks of n x stride values): their maxima
 * into shift (outer x stride) and the shifted exponentials into E (0 for
 * a fiber of -inf only), the exponentials in one vector pass */
static void shift_fibers(const double *x, size_t outer, size_t n, size_t stride, double *shift,
                         double *E)
{
    for (size_t o = 0; o < outer; o++) {
        const double *blk = x + o * n * stride;
        double *Mo = shift + o * stride, *Eo = E + o * n * stride;
        for (size_t r = 0; r < stride; r++)
            Mo[r] = -INFINITY;
        for (size_t j = 0; j < n; j++)
            for (size_t r = 0; r < stride; r++)
                if (blk[j * stride + r] > Mo[r])
                    Mo[r] = blk[j * stride + r];
        for (size_t j = 0; j < n; j++)
            for (size_t r = 0; r < stride; r++)
                Eo[j * stride + r] =
                    Mo[r] == -INFINITY ? -INFINITY : blk[j * stride + r] - Mo[r];
    }
    berg__sinkhorn_vexp(E, E, outer * n * stride);
}

/* R = K E per outer block; K is symmetric (so for the last axis R = E K).
 * Only the box of E's nonzero entries takes part: the contraction runs
 * over the axis indices j where some E is nonzero, and R is made for the
 * fibers (rows, or outer blocks and columns) that hold a nonzero E; the
 * other fibers are all -inf and finish_fibers does not read their R. On a
 * measure of small support this is the stabilized products' saving. */
static void kernel_products(const double *K, const double *E, size_t outer, size_t n,
                            size_t stride, double *R)
{
    size_t jlo = n, jhi = 0, olo = outer, ohi = 0, rlo = stride, rhi = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < n; j++) {
            const double *row = E + (o * n + j) * stride;
            for (size_t r = 0; r < stride; r++)
                if (row[r] != 0.0) {
                    jlo = j < jlo ? j : jlo;
                    jhi = j + 1 > jhi ? j + 1 : jhi;
                    olo = o < olo ? o : olo;
                    ohi = o + 1 > ohi ? o + 1 : ohi;
                    rlo = r < rlo ? r : rlo;
                    rhi = r + 1 > rhi ? r + 1 : rhi;
                }
        }
    if (jhi <= jlo)
        return; /* every fiber is -inf */
    int nj = (int)(jhi - jlo);
    if (stride == 1)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(ohi - olo), (int)n, nj, 1.0,
                    E + olo * n + jlo, (int)n, K + jlo * n, (int)n, 0.0, R + olo * n, (int)n);
    else
        for (size_t o = olo; o < ohi; o++)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)(rhi - rlo), nj,
                        1.0, K + jlo, (int)n, E + (o * n + jlo) * stride + rlo, (int)stride, 0.0,
                        R + o * n * stride + rlo, (int)stride);
}

/* x <- shift + log R, entries whose sum may have underflowed recomputed
 * exactly from the table LK; LR holds log R (one vector pass of the
 * caller), fiber 2 n doubles */
static void finish_fibers(double *x, const double *R, const double *LR, const double *shift,
                          const double *LK, size_t outer, size_t n, size_t stride, double *fiber)
{
    double *in = fiber, *res = fiber + n;
    for (size_t o = 0; o < outer; o++) {
        double *blk = x + o * n * stride;
        const double *Ro = R + o * n * stride, *Lo = LR + o * n * stride, *Mo = shift + o * stride;
        for (size_t r = 0; r < stride; r++) {
            if (Mo[r] == -INFINITY)
                continue; /* the fiber stays -inf */
            int gathered = 0;
            for (size_t i = 0; i < n; i++) {
                double v = Ro[i * stride + r];
                if (v > LSE_SAFE && v < HUGE_VAL) {
                    res[i] = Mo[r] + Lo[i * stride + r];
                    continue;
                }
                if (!gathered) {
                    for (size_t j = 0; j < n; j++)
                        in[j] = blk[j * stride + r];
                    gathered = 1;
                }
                res[i] = lse_row(LK + i * n, in, n);
            }
            for (size_t i = 0; i < n; i++)
                blk[i * stride + r] = res[i];
        }
    }
}

/* Axis by axis, each fiber is shifted by its maximum, exponentiated, and
 * multiplied by the kernel e^{LK} with CBLAS dgemm: a sum of positive terms,
 * so its relative accuracy is that of the terms unless they underflow. An
 * entry whose sum falls below LSE_SAFE (far from the fiber's mass at small
 * eps) is recomputed exactly by lse_row. */
void berg__sinkhorn_logsumexp(const berg_sinkhorn *sk, double *x, double *scratch)
{
    const berg_space *s = &sk->space;
    size_t N = s->size;
    double *E = scratch, *R = E + N, *shift = R + N, *fiber = shift + N;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t n = s->n[a], stride = s->stride[a], outer = N / (n * stride);
        shift_fibers(x, outer, n, stride, shift, E);
        kernel_products(sk->kernel[a], E, outer, n, stride, R);
        berg__sinkhorn_vlog(E, R, N); /* E is spent: log R */
        finish_fibers(x, R, E, shift, sk->log_kernel[a], outer, n, stride, fiber);
    }
    double lw = log(s->weight);
    for (size_t i = 0; i < N; i++)
        x[i] += lw;
}
