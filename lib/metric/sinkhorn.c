/*
 * Convolutional entropic optimal transport (issue 6): Sinkhorn costs,
 * debiased divergences and barycenters on a berg_space, after Solomon et
 * al., "Convolutional Wasserstein distances" (SIGGRAPH 2015), with the
 * heat kernel as Gibbs kernel, plus a log-domain mode for small eps.
 *
 * Discrete problem. With cell weight w, a_i = p_i w, b_j = q_j w (p, q
 * normalized) and K_ij = exp(-c_ij / eps),
 *   OT_eps = max_{f,g} <f, a> + <g, b> - eps <a (x) b, e^{(f+g-c)/eps} - 1>.
 * The heat kernel of Delta_g at t = eps/4 is, as a density on Vol_S,
 * H(x, y) = (pi eps)^{-d/2} e^{-|x-y|_g^2 / eps} (summed over images on
 * periodic / Neumann axes), and berg_heat_apply computes
 * heat(f)_i = sum_j H_ij f_j w. So K(b v) = C heat(q v) with C = (pi eps)^{d/2}.
 *
 * Scaling mode iterates u = 1 / heat(q v), v = 1 / heat(p u) (the constant
 * split evenly between the two scalings); the potentials are
 * f = eps log u - (eps/2) log C, g likewise.
 *
 * Log-domain mode iterates on F = f/eps, G = g/eps:
 *   F = -Klog(log q + G),  G = -Klog(log p + F),
 *   Klog(phi)_i = log sum_j K_ij w e^{phi_j},
 * evaluated exactly (row-wise max shift) axis by axis, since for a diagonal
 * metric K is the tensor product of 1-D kernels K^a_ij = sum over images
 * exp(-g_aa (x_i - y'_j)^2 / eps).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "berg/metric.h"
#include "berg/propagator.h"
#include "space/internal.h"

#include <cblas.h>

#define LOG_MAX_AXIS 4096 /* log-domain tables are n_a^2 doubles */
#define MAX_IMAGES 64     /* images on each side in the log-domain kernel */

struct berg_sinkhorn {
    berg_space space;
    double eps;
    unsigned flags;
    size_t max_iter;
    double tol;
    berg_heat *heat;                /* scaling mode */
    double *logk[BERG_MAX_RANK];    /* log mode: n_a x n_a log-kernel per axis */
    double *expk[BERG_MAX_RANK];    /* log mode: its exponential (may underflow) */
    double *buf;                    /* 6 N scratch */
    double *fiber;                  /* log mode: 2 max n_a */
    double *lwork;                  /* log mode: 3 N scratch (E, R, shifts) */
    double err;                     /* report of the last solve */
    size_t iters;
};

/* ---- creation ------------------------------------------------------------ */

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
static double image_reach(const berg_space *s, int a, double eps)
{
    double L = s->hi[a] - s->lo[a], gaa = s->g[a * s->ndim + a];
    return sqrt(40.0 * eps / gaa) / L;
}

/* the images each side that the axis needs (see image_reach) */
static double images_needed(const berg_space *s, int a, double eps)
{
    double reach = image_reach(s, a, eps);
    return (s->bc[a] == BERG_PERIODIC ? ceil(reach) : ceil(0.5 * reach)) + 1.0;
}

/* log sum over images of exp(-g (x - y')^2 / eps) for the axis; the caller
 * has checked images_needed <= MAX_IMAGES */
static void fill_log_kernel(const berg_space *s, int a, double eps, double *table)
{
    size_t n = s->n[a];
    double L = s->hi[a] - s->lo[a], gaa = s->g[a * s->ndim + a];
    double reach = image_reach(s, a, eps);
    int M = (int)ceil(reach) + 1;
    if (M > MAX_IMAGES)
        M = MAX_IMAGES;
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

berg_status berg_sinkhorn_create(berg_sinkhorn **out, const berg_space *space, double eps,
                                 unsigned flags)
{
    static const char fn[] = "berg_sinkhorn_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) != BERG_OK ||
        (st = berg__space_check(space, fn)) != BERG_OK)
        return st;
    if (!isfinite(eps) || !(eps > 0.0))
        return berg__error(BERG_ERR_DOMAIN, "%s: eps = %g must be finite and > 0", fn, eps);
    if (flags & ~(unsigned)BERG_SINKHORN_LOG_DOMAIN)
        return berg__error(BERG_ERR_DOMAIN, "%s: unknown flags 0x%x", fn,
                           flags & ~(unsigned)BERG_SINKHORN_LOG_DOMAIN);
    for (int a = 0; a < space->ndim; a++)
        if (space->bc[a] == BERG_DIRICHLET)
            return berg__error(BERG_ERR_UNSUPPORTED,
                               "%s: axis %d is Dirichlet (absorbing): transport needs a "
                               "mass-conserving kernel; use periodic or Neumann axes",
                               fn, a);
    int logmode = (flags & BERG_SINKHORN_LOG_DOMAIN) != 0;
    size_t maxn = 1;
    if (logmode) {
        if (!space->diagonal)
            return berg__error(BERG_ERR_UNSUPPORTED,
                               "%s: the log-domain mode needs a diagonal metric (its kernel is "
                               "a product over axes)",
                               fn);
        for (int a = 0; a < space->ndim; a++) {
            if (space->n[a] > LOG_MAX_AXIS)
                return berg__error(BERG_ERR_UNSUPPORTED,
                                   "%s: axis %d has %zu cells; the log-domain mode allows at "
                                   "most %d per axis",
                                   fn, a, space->n[a], LOG_MAX_AXIS);
            if (space->n[a] > maxn)
                maxn = space->n[a];
            if (images_needed(space, a, eps) > MAX_IMAGES)
                return berg__error(BERG_ERR_DOMAIN,
                                   "%s: at eps = %g the kernel of axis %d reaches %.3g axis "
                                   "lengths, more than the log-domain image sum covers (%d "
                                   "images each side); use the scaling mode (flags = 0), which "
                                   "is accurate at large eps",
                                   fn, eps, a, image_reach(space, a, eps), MAX_IMAGES);
        }
    }
    size_t n6;
    if ((st = berg__mul_size(space->size, 6, &n6, fn, "workspace")) != BERG_OK)
        return st;
    berg_sinkhorn *sk = berg__alloc(1, sizeof *sk, fn);
    if (!sk)
        return BERG_ERR_NOMEM;
    memset(sk, 0, sizeof *sk);
    sk->space = *space;
    sk->eps = eps;
    sk->flags = flags;
    sk->max_iter = 10000;
    sk->tol = 1e-9;
    sk->err = NAN;
    sk->buf = berg__alloc(n6, sizeof(double), fn);
    if (!sk->buf)
        goto nomem;
    if (logmode) {
        sk->fiber = berg__alloc(2 * maxn, sizeof(double), fn);
        sk->lwork = berg__alloc(n6 / 2, sizeof(double), fn);
        if (!sk->fiber || !sk->lwork)
            goto nomem;
        for (int a = 0; a < space->ndim; a++) {
            sk->logk[a] = berg__alloc(space->n[a] * space->n[a], sizeof(double), fn);
            if (!sk->logk[a])
                goto nomem;
            fill_log_kernel(space, a, eps, sk->logk[a]);
            sk->expk[a] = berg__alloc(space->n[a] * space->n[a], sizeof(double), fn);
            if (!sk->expk[a])
                goto nomem;
            for (size_t i = 0; i < space->n[a] * space->n[a]; i++)
                sk->expk[a][i] = exp(sk->logk[a][i]);
        }
    } else {
        st = berg_heat_create(&sk->heat, space, 0);
        if (st != BERG_OK) {
            berg_sinkhorn_destroy(sk);
            return st;
        }
    }
    *out = sk;
    return BERG_OK;
nomem:
    berg_sinkhorn_destroy(sk);
    return BERG_ERR_NOMEM;
}

void berg_sinkhorn_destroy(berg_sinkhorn *sk)
{
    if (!sk)
        return;
    berg_heat_destroy(sk->heat);
    for (int a = 0; a < BERG_MAX_RANK; a++) {
        berg__free(sk->logk[a]);
        berg__free(sk->expk[a]);
    }
    berg__free(sk->lwork);
    berg__free(sk->fiber);
    berg__free(sk->buf);
    berg__free(sk);
}

berg_status berg_sinkhorn_set_threads(berg_sinkhorn *sk, int nthreads)
{
    static const char fn[] = "berg_sinkhorn_set_threads";
    berg_status st = berg__check_ptr(sk, fn, "sk");
    if (st != BERG_OK)
        return st;
    if (nthreads < 1)
        return berg__error(BERG_ERR_DOMAIN, "%s: nthreads = %d must be >= 1", fn, nthreads);
    if (!sk->heat)
        return berg__error(BERG_ERR_UNSUPPORTED,
                           "%s: a log-domain handle uses no FFT, threads do not apply", fn);
    berg_heat *h = NULL;
    st = berg_heat_create_ex(&h, &sk->space, 1, nthreads, 0);
    if (st != BERG_OK)
        return st;
    berg_heat_destroy(sk->heat);
    sk->heat = h;
    return BERG_OK;
}

berg_status berg_sinkhorn_set_max_iterations(berg_sinkhorn *sk, size_t max_iterations)
{
    static const char fn[] = "berg_sinkhorn_set_max_iterations";
    berg_status st = berg__check_ptr(sk, fn, "sk");
    if (st != BERG_OK)
        return st;
    if (max_iterations < 1)
        return berg__error(BERG_ERR_DOMAIN, "%s: max_iterations must be >= 1", fn);
    sk->max_iter = max_iterations;
    return BERG_OK;
}

berg_status berg_sinkhorn_set_tolerance(berg_sinkhorn *sk, double tolerance)
{
    static const char fn[] = "berg_sinkhorn_set_tolerance";
    berg_status st = berg__check_ptr(sk, fn, "sk");
    if (st != BERG_OK)
        return st;
    if (!isfinite(tolerance) || tolerance < 0.0)
        return berg__error(BERG_ERR_DOMAIN, "%s: tolerance = %g must be finite and >= 0", fn,
                           tolerance);
    sk->tol = tolerance;
    return BERG_OK;
}

berg_status berg_sinkhorn_epsilon(const berg_sinkhorn *sk, double *eps)
{
    static const char fn[] = "berg_sinkhorn_epsilon";
    berg_status st;
    if ((st = berg__check_ptr(sk, fn, "sk")) != BERG_OK ||
        (st = berg__check_ptr(eps, fn, "eps")) != BERG_OK)
        return st;
    *eps = sk->eps;
    return BERG_OK;
}

berg_status berg_sinkhorn_report(const berg_sinkhorn *sk, double *marginal_error,
                                 size_t *iterations)
{
    static const char fn[] = "berg_sinkhorn_report";
    berg_status st = berg__check_ptr(sk, fn, "sk");
    if (st != BERG_OK)
        return st;
    if (marginal_error)
        *marginal_error = sk->err;
    if (iterations)
        *iterations = sk->iters;
    return BERG_OK;
}

/* ---- kernels ------------------------------------------------------------- */

/* Kernel outputs below KFLOOR times their maximum are FFT round-off, not
 * values: the scaling mode divides by max(out, KFLOOR * max out). Cells
 * where the floor binds carry (at convergence) a negligible share of the
 * mass; when they do not, the marginal error stalls and the solve reports
 * BERG_ERR_NO_CONVERGENCE (use the log domain). */
#define KFLOOR 1e-13

/* out = heat(in) at t = eps/4 (scaling mode); returns the floor to divide
 * by (KFLOOR * max out), 0 when the output has no positive value */
static double kmul(berg_sinkhorn *sk, const double *in, double *out)
{
    /* the handle, t and pointers are valid: this cannot fail */
    (void)berg_heat_apply(sk->heat, 0.25 * sk->eps, in, out);
    double m = 0.0;
    for (size_t i = 0; i < sk->space.size; i++)
        if (out[i] > m)
            m = out[i];
    return (m < HUGE_VAL) ? KFLOOR * m : 0.0;
}

/* Exact log-sum-exp of one fiber (row-wise max shift): res_i = log sum_j
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

/* in place: x <- Klog(x), x may hold -inf.
 *
 * Axis by axis, each fiber is shifted by its maximum m, exponentiated, and
 * multiplied by the kernel e^{LK} with CBLAS dgemm: a sum of positive terms,
 * so its relative accuracy is that of the terms unless they underflow. An
 * entry whose sum falls below LSE_SAFE (far from the fiber's mass at small
 * eps) is recomputed exactly by lse_row. */
static void klog(berg_sinkhorn *sk, double *x)
{
    const berg_space *s = &sk->space;
    size_t N = s->size;
    double *E = sk->lwork, *R = E + N, *M = R + N;
    for (int a = 0; a < s->ndim; a++) {
        size_t n = s->n[a], st = s->stride[a], outer = N / (n * st);
        const double *LK = sk->logk[a], *K = sk->expk[a];
        double *in = sk->fiber;
        /* shifts: the max over j of each fiber (o, ., r), stored at M[o st + r] */
        for (size_t o = 0; o < outer; o++) {
            const double *blk = x + o * n * st;
            double *Mo = M + o * st;
            for (size_t r = 0; r < st; r++)
                Mo[r] = -INFINITY;
            for (size_t j = 0; j < n; j++)
                for (size_t r = 0; r < st; r++)
                    if (blk[j * st + r] > Mo[r])
                        Mo[r] = blk[j * st + r];
            double *Eo = E + o * n * st;
            for (size_t j = 0; j < n; j++)
                for (size_t r = 0; r < st; r++)
                    Eo[j * st + r] = Mo[r] == -INFINITY ? 0.0 : exp(blk[j * st + r] - Mo[r]);
        }
        /* R = K E per block; K is symmetric (so for the last axis R = E K) */
        if (st == 1)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)outer, (int)n, (int)n,
                        1.0, E, (int)n, K, (int)n, 0.0, R, (int)n);
        else
            for (size_t o = 0; o < outer; o++)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)st, (int)n,
                            1.0, K, (int)n, E + o * n * st, (int)st, 0.0, R + o * n * st,
                            (int)st);
        for (size_t o = 0; o < outer; o++) {
            double *blk = x + o * n * st, *res = sk->fiber + n;
            const double *Ro = R + o * n * st, *Mo = M + o * st;
            for (size_t r = 0; r < st; r++) {
                if (Mo[r] == -INFINITY)
                    continue; /* the fiber stays -inf */
                int gathered = 0;
                for (size_t i = 0; i < n; i++) {
                    double v = Ro[i * st + r];
                    if (v > LSE_SAFE && v < HUGE_VAL) {
                        res[i] = Mo[r] + log(v);
                        continue;
                    }
                    if (!gathered) {
                        for (size_t j = 0; j < n; j++)
                            in[j] = blk[j * st + r];
                        gathered = 1;
                    }
                    res[i] = lse_row(LK + i * n, in, n);
                }
                for (size_t i = 0; i < n; i++)
                    blk[i * st + r] = res[i];
            }
        }
    }
    double lw = log(s->weight);
    for (size_t i = 0; i < N; i++)
        x[i] += lw;
}

/* ---- solves -------------------------------------------------------------- */

static berg_status underflow(const char *fn, const berg_sinkhorn *sk, size_t i)
{
    return berg__error(BERG_ERR_NO_CONVERGENCE,
                       "%s: the Sinkhorn scalings under- or overflowed at index %zu (eps = %g is "
                       "too small for the scaling mode on this grid); create the solver with "
                       "BERG_SINKHORN_LOG_DOMAIN",
                       fn, i, sk->eps);
}

/* Normalized copies of p and q into pn, qn (validated before) */
static void normalized(const berg_space *s, const double *p, double mp, double *pn)
{
    double c = 1.0 / (mp * s->weight);
    for (size_t i = 0; i < s->size; i++)
        pn[i] = p[i] * c;
}

/* One entropic OT solve between normalized pn and qn. On success F and G
 * (length N) hold f/eps and g/eps and *cost the dual value. */
static berg_status solve_core(berg_sinkhorn *sk, const char *fn, const double *pn,
                              const double *qn, double *F, double *G, double *t1, double *t2,
                              double *cost)
{
    const berg_space *s = &sk->space;
    size_t N = s->size;
    double w = s->weight, err = INFINITY;
    size_t it = 0;
    int logmode = (sk->flags & BERG_SINKHORN_LOG_DOMAIN) != 0;
    if (logmode) {
        for (size_t i = 0; i < N; i++)
            G[i] = 0.0;
        for (it = 0;; it++) {
            /* t1 = Klog(log q + G) */
            for (size_t j = 0; j < N; j++)
                t1[j] = qn[j] > 0.0 ? log(qn[j]) + G[j] : -INFINITY;
            klog(sk, t1);
            if (it > 0) {
                double e = 0.0;
                for (size_t i = 0; i < N; i++)
                    if (pn[i] > 0.0)
                        e += pn[i] * fabs(expm1(F[i] + t1[i]));
                err = e * w;
                if ((sk->tol > 0.0 && err <= sk->tol) || it >= sk->max_iter)
                    break;
            }
            for (size_t i = 0; i < N; i++)
                F[i] = -t1[i];
            for (size_t i = 0; i < N; i++)
                t2[i] = pn[i] > 0.0 ? log(pn[i]) + F[i] : -INFINITY;
            klog(sk, t2);
            for (size_t j = 0; j < N; j++)
                G[j] = -t2[j];
        }
        double acc = 0.0;
        for (size_t i = 0; i < N; i++) {
            if (pn[i] > 0.0)
                acc += pn[i] * F[i];
            if (qn[i] > 0.0)
                acc += qn[i] * G[i];
        }
        *cost = sk->eps * w * acc;
    } else {
        /* F holds u, G holds v until the end */
        for (size_t i = 0; i < N; i++)
            G[i] = 1.0;
        for (it = 0;; it++) {
            for (size_t j = 0; j < N; j++)
                t2[j] = qn[j] * G[j];
            double fl = kmul(sk, t2, t1);
            if (!(fl > 0.0)) {
                sk->err = err;
                sk->iters = it;
                return underflow(fn, sk, 0);
            }
            if (it > 0) {
                double e = 0.0;
                for (size_t i = 0; i < N; i++)
                    if (pn[i] > 0.0)
                        e += pn[i] * fabs(F[i] * t1[i] - 1.0);
                err = e * w;
                if (!isfinite(err)) {
                    sk->err = err;
                    sk->iters = it;
                    return underflow(fn, sk, 0);
                }
                if ((sk->tol > 0.0 && err <= sk->tol) || it >= sk->max_iter)
                    break;
            }
            for (size_t i = 0; i < N; i++)
                F[i] = 1.0 / (t1[i] > fl ? t1[i] : fl);
            for (size_t i = 0; i < N; i++)
                t2[i] = pn[i] > 0.0 ? pn[i] * F[i] : 0.0;
            fl = kmul(sk, t2, t1);
            if (!(fl > 0.0)) {
                sk->err = err;
                sk->iters = it;
                return underflow(fn, sk, 0);
            }
            for (size_t j = 0; j < N; j++)
                G[j] = 1.0 / (t1[j] > fl ? t1[j] : fl);
        }
        /* potentials over eps: log u - (1/2) log C, C = (pi eps)^{d/2} */
        double half_logC = 0.25 * s->ndim * log(3.14159265358979323846 * sk->eps);
        double acc = 0.0;
        for (size_t i = 0; i < N; i++) {
            F[i] = F[i] > 0.0 ? log(F[i]) - half_logC : HUGE_VAL;
            G[i] = G[i] > 0.0 ? log(G[i]) - half_logC : HUGE_VAL;
            if (pn[i] > 0.0)
                acc += pn[i] * F[i];
            if (qn[i] > 0.0)
                acc += qn[i] * G[i];
        }
        *cost = sk->eps * w * acc;
    }
    sk->err = err;
    sk->iters = it;
    if (sk->tol > 0.0 && !(err <= sk->tol))
        return berg__error(BERG_ERR_NO_CONVERGENCE,
                           "%s: no convergence in %zu iterations: marginal error %.3g > "
                           "tolerance %.3g (raise the cap, the tolerance or eps%s)",
                           fn, it, err, sk->tol,
                           logmode ? "" : "; at small eps the FFT kernel loses the far "
                                          "tails: use BERG_SINKHORN_LOG_DOMAIN");
    return BERG_OK;
}

/* The checks of a two-density call (handle, p, q, then out named out_name
 * unless out_name is NULL), and normalized copies of p and q into the
 * first two buffers of sk->buf. */
static berg_status prepare_pair(berg_sinkhorn *sk, const char *fn, const double *p,
                                const double *q, const void *out, const char *out_name)
{
    double mp, mq;
    berg_status st;
    if ((st = berg__check_ptr(sk, fn, "sk")) != BERG_OK ||
        (st = berg__check_density(p, sk->space.size, fn, "p", &mp)) != BERG_OK ||
        (st = berg__check_density(q, sk->space.size, fn, "q", &mq)) != BERG_OK ||
        (out_name && (st = berg__check_ptr(out, fn, out_name)) != BERG_OK))
        return st;
    size_t N = sk->space.size;
    normalized(&sk->space, p, mp, sk->buf);
    normalized(&sk->space, q, mq, sk->buf + N);
    return BERG_OK;
}

/* solve_core between a and b with the scratch of sk->buf: F and G (f/eps and
 * g/eps) land in its third and fourth buffers */
static berg_status solve_between(berg_sinkhorn *sk, const char *fn, const double *a,
                                 const double *b, double *cost)
{
    size_t N = sk->space.size;
    double *F = sk->buf + 2 * N, *G = F + N, *t1 = G + N, *t2 = t1 + N;
    return solve_core(sk, fn, a, b, F, G, t1, t2, cost);
}

/* berg_sinkhorn_solve, and berg_sinkhorn_cost (need_cost, no potentials) */
static berg_status solve_pair(berg_sinkhorn *sk, const char *fn, const double *p, const double *q,
                              double *cost, int need_cost, double *f, double *g)
{
    berg_status st = prepare_pair(sk, fn, p, q, cost, need_cost ? "cost" : NULL);
    if (st != BERG_OK)
        return st;
    size_t N = sk->space.size;
    const double *pn = sk->buf, *qn = pn + N, *F = qn + N, *G = F + N;
    double c;
    if ((st = solve_between(sk, fn, pn, qn, &c)) != BERG_OK)
        return st;
    if (f)
        for (size_t i = 0; i < N; i++)
            f[i] = sk->eps * F[i];
    if (g)
        for (size_t i = 0; i < N; i++)
            g[i] = sk->eps * G[i];
    if (cost)
        *cost = c;
    return BERG_OK;
}

berg_status berg_sinkhorn_solve(berg_sinkhorn *sk, const double *p, const double *q, double *cost,
                                double *f, double *g)
{
    return solve_pair(sk, "berg_sinkhorn_solve", p, q, cost, 0, f, g);
}

berg_status berg_sinkhorn_cost(berg_sinkhorn *sk, const double *p, const double *q, double *cost)
{
    return solve_pair(sk, "berg_sinkhorn_cost", p, q, cost, 1, NULL, NULL);
}

berg_status berg_sinkhorn_divergence(berg_sinkhorn *sk, const double *p, const double *q,
                                     double *div)
{
    static const char fn[] = "berg_sinkhorn_divergence";
    berg_status st = prepare_pair(sk, fn, p, q, div, "div");
    if (st != BERG_OK)
        return st;
    size_t N = sk->space.size;
    const double *pn = sk->buf, *qn = pn + N;
    double cpq, cpp, cqq, err = 0.0;
    size_t iters = 0;
    if (p == q) { /* one solve, for its convergence report; S_eps(p, p) = 0 */
        if ((st = solve_between(sk, fn, pn, pn, &cpp)) != BERG_OK)
            return st;
        *div = 0.0;
        return BERG_OK;
    }
    if ((st = solve_between(sk, fn, pn, qn, &cpq)) != BERG_OK)
        return st;
    err = sk->err;
    iters = sk->iters;
    if ((st = solve_between(sk, fn, pn, pn, &cpp)) != BERG_OK)
        goto fail;
    err = fmax(err, sk->err);
    iters += sk->iters;
    if ((st = solve_between(sk, fn, qn, qn, &cqq)) != BERG_OK)
        goto fail;
    sk->err = fmax(err, sk->err);
    sk->iters += iters;
    *div = cpq - 0.5 * (cpp + cqq);
    return BERG_OK;
fail:
    sk->err = fmax(err, sk->err);
    sk->iters += iters;
    return st;
}

/* ---- barycenters --------------------------------------------------------- */

berg_status berg_sinkhorn_barycenter(berg_sinkhorn *sk, size_t k, const double *densities,
                                     const double *weights, double *out)
{
    static const char fn[] = "berg_sinkhorn_barycenter";
    berg_status st = berg__check_ptr(sk, fn, "sk");
    if (st != BERG_OK)
        return st;
    if (k < 1)
        return berg__error(BERG_ERR_SIZE, "%s: k = 0; at least one density is needed", fn);
    const berg_space *s = &sk->space;
    size_t N = s->size, kN;
    if ((st = berg__mul_size(k, N, &kN, fn, "k * size")) != BERG_OK)
        return st;
    if ((st = berg__check_ptr(densities, fn, "densities")) != BERG_OK ||
        (st = berg__check_nonneg(weights, k, fn, "weights")) != BERG_OK)
        return st;
    double lsum = 0.0;
    for (size_t r = 0; r < k; r++)
        lsum += weights[r];
    if (!(lsum > 0.0) || !isfinite(lsum))
        return berg__error(BERG_ERR_MASS, "%s: weights sum to %g (must be positive and finite)",
                           fn, lsum);
    double *mass = berg__alloc(k, sizeof(double), fn);
    if (!mass)
        return BERG_ERR_NOMEM;
    for (size_t r = 0; r < k; r++) {
        char name[48];
        snprintf(name, sizeof name, "densities[%zu]", r);
        if ((st = berg__check_density(densities + r * N, N, fn, name, &mass[r])) != BERG_OK) {
            berg__free(mass);
            return st;
        }
    }
    if ((st = berg__check_ptr(out, fn, "out")) != BERG_OK) {
        berg__free(mass);
        return st;
    }
    /* 4 kN + 2 N doubles; kN >= N, so 2 N cannot wrap once 4 kN did not */
    size_t words;
    if ((st = berg__mul_size(kN, 4, &words, fn, "workspace")) != BERG_OK) {
        berg__free(mass);
        return st;
    }
    if (words > SIZE_MAX - 2 * N) {
        berg__free(mass);
        return berg__error(BERG_ERR_SIZE,
                           "%s: workspace 4 k N + 2 N (k = %zu, N = %zu) overflows size_t", fn, k,
                           N);
    }
    words += 2 * N;
    double *work = berg__alloc(words, sizeof(double), fn);
    if (!work) {
        berg__free(mass);
        return BERG_ERR_NOMEM;
    }
    /* P: normalized densities; U, V: scalings (or log-scalings); KU: kernel
     * applied to U; b, bold: barycenter */
    double *P = work, *U = P + kN, *V = U + kN, *KU = V + kN, *b = KU + kN, *bold = b + N;
    for (size_t r = 0; r < k; r++)
        normalized(s, densities + r * N, mass[r], P + r * N);
    berg__free(mass);
    int logmode = (sk->flags & BERG_SINKHORN_LOG_DOMAIN) != 0;
    double w = s->weight, err = INFINITY;
    size_t it;
    for (size_t i = 0; i < kN; i++)
        V[i] = logmode ? 0.0 : 1.0;
    for (size_t i = 0; i < N; i++)
        bold[i] = 0.0;
    for (it = 0; it < sk->max_iter; it++) {
        for (size_t r = 0; r < k; r++) {
            double *Pr = P + r * N, *Ur = U + r * N, *Vr = V + r * N, *KUr = KU + r * N;
            if (logmode) {
                memcpy(KUr, Vr, N * sizeof(double));
                klog(sk, KUr);
                for (size_t i = 0; i < N; i++)
                    Ur[i] = Pr[i] > 0.0 ? log(Pr[i]) - KUr[i] : -INFINITY;
                memcpy(KUr, Ur, N * sizeof(double));
                klog(sk, KUr);
            } else {
                double fl = kmul(sk, Vr, KUr);
                if (!(fl > 0.0)) {
                    st = underflow(fn, sk, 0);
                    goto done;
                }
                for (size_t i = 0; i < N; i++)
                    Ur[i] = Pr[i] > 0.0 ? Pr[i] / (KUr[i] > fl ? KUr[i] : fl) : 0.0;
                fl = kmul(sk, Ur, KUr);
                if (!(fl > 0.0)) {
                    st = underflow(fn, sk, 0);
                    goto done;
                }
                for (size_t i = 0; i < N; i++)
                    if (!(KUr[i] > fl))
                        KUr[i] = fl;
            }
        }
        /* log b = sum_r lambda_r log(V_r KU_r) */
        for (size_t i = 0; i < N; i++)
            b[i] = 0.0;
        for (size_t r = 0; r < k; r++) {
            double lr = weights[r] / lsum;
            const double *Vr = V + r * N, *KUr = KU + r * N;
            if (lr == 0.0)
                continue;
            for (size_t i = 0; i < N; i++) {
                if (logmode) {
                    b[i] += lr * (Vr[i] + KUr[i]);
                } else {
                    double x = Vr[i] * KUr[i];
                    if (!(x > 0.0 && x < HUGE_VAL)) {
                        st = underflow(fn, sk, i);
                        goto done;
                    }
                    b[i] += lr * log(x);
                }
            }
        }
        if (logmode)
            for (size_t r = 0; r < k; r++) {
                double *Vr = V + r * N, *KUr = KU + r * N;
                for (size_t i = 0; i < N; i++)
                    Vr[i] = b[i] - KUr[i];
            }
        /* the barycenter itself, its change, and (scaling) V_r = b / KU_r */
        double e = 0.0;
        for (size_t i = 0; i < N; i++) {
            double bi = exp(b[i]);
            e += fabs(bi - bold[i]);
            bold[i] = bi;
        }
        if (!logmode)
            for (size_t r = 0; r < k; r++) {
                double *Vr = V + r * N, *KUr = KU + r * N;
                for (size_t i = 0; i < N; i++)
                    Vr[i] = bold[i] / KUr[i];
            }
        err = e * w;
        if (!isfinite(err)) {
            st = underflow(fn, sk, 0);
            goto done;
        }
        if (sk->tol > 0.0 && it > 0 && err <= sk->tol) {
            it++;
            break;
        }
    }
    if (sk->tol > 0.0 && !(err <= sk->tol)) {
        st = berg__error(BERG_ERR_NO_CONVERGENCE,
                         "%s: no convergence in %zu iterations: barycenter change %.3g > "
                         "tolerance %.3g (raise the cap, the tolerance or eps)",
                         fn, it, err, sk->tol);
        goto done;
    }
    {
        double total = berg__sum(bold, N) * w;
        if (!(total > 0.0) || !isfinite(total)) {
            st = underflow(fn, sk, 0);
            goto done;
        }
        for (size_t i = 0; i < N; i++)
            out[i] = bold[i] / total;
        st = BERG_OK;
    }
done:
    sk->err = err;
    sk->iters = it;
    berg__free(work);
    return st;
}
