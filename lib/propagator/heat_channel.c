/* The information I(X_0; X_t) kept by the heat channel X_t = X_0 diffused
 * by e^{t Delta_g}: S[e^{t Delta_g} p] - H(X_t | X_0), with the caller's
 * heat handle (no planning per call).
 *
 * H(X_t | X_0) = sum_c w p_c S[K(. | c)] with K(. | c) the grid's heat
 * kernel from cell c. Walls are never coupled to other axes, so the kernel
 * is a product of the kernel of the block of periodic axes (translation
 * invariant: one entropy S_P) and one kernel per Neumann axis a (entropy
 * S_a(i) from index i), and
 *   H = S_P + sum_a sum_i P_a(i) S_a(i),  P_a the marginal of p on axis a.
 * The factor kernels are the marginals of full kernels: R = max(1, max_a
 * n_a) applies of the handle from the cells (0 on periodic axes,
 * min(r, n_a - 1) on Neumann axes), r < R, give all of them. */
#include <math.h>
#include <string.h>

#include "metric/func_internal.h"
#include "propagator/heat_internal.h"

#define RINGING_TOL 1e-6

/* clamp rounding-level negatives of a diffused density to 0; refuse real
 * ringing */
static berg_status clean(double *f, size_t n, const char *fn, const char *what, double t)
{
    double fmax = 0.0;
    for (size_t i = 0; i < n; i++)
        fmax = f[i] > fmax ? f[i] : fmax;
    for (size_t i = 0; i < n; i++) {
        if (f[i] < 0.0) {
            BERG_REQUIRE(f[i] >= -RINGING_TOL * fmax, BERG_ERR_DOMAIN,
                         "%s: the %s has the negative value %g at index %zu for t = %g "
                         "(spectral ringing: t is too small for the grid; use a larger t, a "
                         "finer grid or a heat handle created with BERG_SYMBOL_FD)",
                         fn, what, f[i], i, t);
            f[i] = 0.0;
        }
    }
    return BERG_OK;
}

/* -w sum f ln f over n values with cell weight w, summed over the cell
 * masses w f (at most 1): on a box of tiny cells f ln f itself overflows */
static double entropy_of(const double *f, size_t n, double w)
{
    double sum = 0.0, comp = 0.0;
    for (size_t i = 0; i < n; i++)
        if (f[i] > 0.0)
            berg__neumaier_add(&sum, &comp, (w * f[i]) * log(f[i]));
    return -(sum + comp);
}

/* the flat index of a cell without axis a (keep_axis >= 0: only the index
 * along that axis; keep_axis < 0: the index over the periodic axes) */
static size_t reduced_index(const berg_space *s, const size_t *idx, int keep_axis)
{
    if (keep_axis >= 0)
        return idx[keep_axis];
    size_t r = 0;
    for (int a = 0; a < s->ndim; a++)
        if (s->bc[a] == BERG_PERIODIC)
            r = r * s->n[a] + idx[a];
    return r;
}

/* m = the marginal of K kept on axis keep_axis (or on the periodic block
 * when keep_axis < 0), as a density of the kept axes: m = sum over the
 * other cells of K times their weight, scale = the weight of the others */
static void marginal(const berg_space *s, const double *K, int keep_axis, double scale,
                     size_t nkeep, double *m)
{
    memset(m, 0, nkeep * sizeof(double));
    size_t idx[BERG_MAX_RANK] = {0};
    for (size_t i = 0; i < s->size; i++) {
        m[reduced_index(s, idx, keep_axis)] += K[i];
        for (int a = s->ndim - 1; a >= 0; a--) {
            if (++idx[a] < s->n[a])
                break;
            idx[a] = 0;
        }
    }
    for (size_t j = 0; j < nkeep; j++)
        m[j] *= scale;
}

typedef struct {
    const berg_heat *heat;
    berg__heat_work *work;
    double t;
    double *K, *m;        /* a kernel (size), a marginal (size) */
    double wa[BERG_MAX_RANK];  /* weight of one cell of each Neumann axis */
    double wp;            /* weight of one cell of the periodic block */
    double S_P;           /* entropy of the periodic block's kernel */
    double *Sa[BERG_MAX_RANK]; /* Neumann axes: S_a(i) */
    const char *fn;
} channel;

/* the factor entropies from the kernel started at (0 on periodic axes,
 * min(r, n_a - 1) on Neumann axes) */
static berg_status kernel_from(channel *c, size_t r)
{
    const berg_space *s = &c->heat->x.space;
    size_t cell = 0;
    for (int a = 0; a < s->ndim; a++)
        if (s->bc[a] == BERG_NEUMANN)
            cell += (r < s->n[a] ? r : s->n[a] - 1) * s->stride[a];
    memset(c->K, 0, s->size * sizeof(double));
    c->K[cell] = 1.0 / s->weight;
    berg__heat_run(c->heat, c->work, c->t, c->K, c->K);
    BERG_TRY(clean(c->K, s->size, c->fn, "heat kernel", c->t));
    for (int a = 0; a < s->ndim; a++) {
        if (s->bc[a] != BERG_NEUMANN || r >= s->n[a])
            continue;
        marginal(s, c->K, a, s->weight / c->wa[a], s->n[a], c->m);
        c->Sa[a][r] = entropy_of(c->m, s->n[a], c->wa[a]);
    }
    if (r == 0) {
        size_t np = 1;
        for (int a = 0; a < s->ndim; a++)
            if (s->bc[a] == BERG_PERIODIC)
                np *= s->n[a];
        marginal(s, c->K, -1, s->weight / c->wp, np, c->m);
        c->S_P = entropy_of(c->m, np, c->wp);
    }
    return BERG_OK;
}

static berg_status check_args(const berg_heat *heat, double t, const double *p, const double *info,
                              const char *fn)
{
    BERG_TRY(berg__check_ptr(heat, fn, "heat"));
    BERG_REQUIRE(heat->x.batch == 1, BERG_ERR_MISMATCH,
                 "%s: heat was created for batches of %zu arrays; the channel needs a handle "
                 "of batch 1", fn, heat->x.batch);
    const berg_space *s = &heat->x.space;
    BERG_TRY(berg__check_time(t, fn, "t"));
    BERG_TRY(berg__check_ptr(p, fn, "p"));
    BERG_TRY(berg__check_normalized(s, p, fn, "p"));
    BERG_TRY(berg__check_ptr(info, fn, "info"));
    for (int a = 0; a < s->ndim; a++)
        BERG_REQUIRE(s->bc[a] != BERG_DIRICHLET, BERG_ERR_UNSUPPORTED,
                     "%s: axis %d is Dirichlet (absorbing): the diffused density loses mass, so "
                     "the heat flow is not a channel between densities", fn, a);
    return BERG_OK;
}

/* H(X_t | X_0) = S_P + sum_a sum_i P_a(i) S_a(i) */
static double conditional_entropy(const channel *c, const double *p)
{
    const berg_space *s = &c->heat->x.space;
    double H = c->S_P;
    for (int a = 0; a < s->ndim; a++) {
        if (s->bc[a] != BERG_NEUMANN)
            continue;
        const size_t na = s->n[a], sa = s->stride[a], outer = s->size / (na * sa);
        double sum = 0.0, comp = 0.0;
        for (size_t i = 0; i < na; i++) {
            double acc = 0.0;
            for (size_t o = 0; o < outer; o++)
                acc += berg__sum(p + o * na * sa + i * sa, sa);
            berg__neumaier_add(&sum, &comp, acc * s->weight * c->Sa[a][i]);
        }
        H += sum + comp;
    }
    return H;
}

berg_status berg_heat_channel_information(const berg_heat *heat, double t, const double *p,
                                          double *info)
{
    static const char fn[] = "berg_heat_channel_information";
    BERG_TRY(check_args(heat, t, p, info, fn));
    const berg_space *s = &heat->x.space;
    const size_t n = s->size;
    size_t R = 1, nsa = 0;
    channel c = {.heat = heat, .t = t, .wp = s->weight, .fn = fn};
    for (int a = 0; a < s->ndim; a++) {
        if (s->bc[a] != BERG_NEUMANN)
            continue;
        R = s->n[a] > R ? s->n[a] : R;
        nsa += s->n[a];
        c.wa[a] = sqrt(s->g[a * s->ndim + a]) * s->h[a];
        c.wp /= c.wa[a];
    }
    berg_status st = BERG_OK;
    berg__heat_work work = {0};
    double *buf = berg__alloc(3 * n + nsa, sizeof(double), fn);
    if (buf == NULL)
        return berg_last_status();
    double *pt = buf, *sa = buf + 3 * n;
    c.K = buf + n;
    c.m = buf + 2 * n;
    for (int a = 0; a < s->ndim; a++) {
        if (s->bc[a] == BERG_NEUMANN) {
            c.Sa[a] = sa;
            sa += s->n[a];
        }
    }
    BERG_TRY_GOTO(st, berg__heat_begin(heat, &work, fn), fail);
    c.work = &work;
    berg__heat_run(heat, &work, t, p, pt);
    BERG_TRY_GOTO(st, clean(pt, n, fn, "diffused density", t), fail);
    double S_out = entropy_of(pt, n, s->weight);
    for (size_t r = 0; r < R; r++)
        BERG_TRY_GOTO(st, kernel_from(&c, r), fail);
    double I = S_out - conditional_entropy(&c, p);
    if (!isfinite(I)) {
        st = berg__error(BERG_ERR_DOMAIN, "%s: the information is not representable on this "
                         "box (its entropies leave the double range)", fn);
        goto fail;
    }
    *info = I;
fail:
    if (work.block)
        berg__heat_end(heat, &work);
    berg__free(buf);
    return st;
}
