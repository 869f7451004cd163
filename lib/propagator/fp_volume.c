/*
 * The Scharfetter-Gummel finite-volume discretization of the Fokker-Planck
 * flow d/dt p = div(g^{-1}(grad p + p grad V)) and its time stepper
 * (docs/fokker_planck.md).
 *
 * Generator. Across the face between cells i and j = i + e_a the flux is
 *   J = -(D_a / h_a) [ B(-dV) p_j - B(dV) p_i ],  dV = V_j - V_i,
 * with B(x) = x / (e^x - 1), D_a = g^{aa}. So cell i jumps to j at the rate
 * D_a / h_a^2 B(V_j - V_i): detailed balance with q = e^{-V} holds face by
 * face, columns of L sum to zero, off-diagonals are >= 0 (M-matrix).
 * An absorbing (Dirichlet) wall lies h_a/2 from the edge cell; its rate is
 * 2 D_a / h_a^2 B(V_wall - V_i) with V_wall linearly extrapolated.
 *
 * Time stepping. Phi_tau = prod_a (I - tau L_a)^{-1} (each factor one
 * tridiagonal solve per grid line, fp_lines.c; positive, mass conserving,
 * q-invariant) is first order; T_{j1} = Phi_{tau/j}^j for j = 1..K
 * (K = BERG_FP_VOLUME_STAGES = 6) are extrapolated by the shared controller
 * (extrapolate.c) in powers of tau. K = 6 needs 2-5x fewer sweeps than
 * K = 3..5 at tol 1e-7..1e-8, and the stability function of T_KK stays in
 * (-4e-4, 1] on the negative real axis (docs/fokker_planck.md).
 */
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"

#define BERG_FP_VOLUME_STAGES 6

double berg__bernoulli(double x)
{
    if (fabs(x) < 1e-10)
        return 1.0 - 0.5 * x;
    if (x > 0)
        return x * exp(-x) / (-expm1(-x));
    return x / expm1(x);
}

double berg__bernoulli_sym(double x)
{
    double a = 0.5 * fabs(x);
    if (a < 1e-8)
        return 1.0;
    if (a > 700.0)
        return 2.0 * a * exp(-a); /* 1/sinh ~ 2 e^{-a} */
    return a / sinh(a);
}

static void volume_destroy(void *tables)
{
    berg__fp_volume *fv = tables;
    if (!fv)
        return;
    berg__free(fv->rate_up);
    berg__free(fv->rate_down);
    berg__free(fv->rate_wall);
    berg__free(fv->exit_rate);
    berg__free(fv);
}

/* ---- set-up -------------------------------------------------------------- */

/* the jump rates of every cell and axis; BERG_ERR_DOMAIN when one overflows */
static berg_status build_rates(const berg_space *s, const double *V, berg__fp_volume *fv,
                               const char *fn)
{
    size_t n = s->size, d = (size_t)s->ndim;
    for (size_t i = 0; i < n; i++)
        fv->exit_rate[i] = 0.0;
    for (size_t a = 0; a < d; a++) {
        double c = s->ginv[a * d + a] / (s->h[a] * s->h[a]);
        double *up = fv->rate_up + a * n, *down = fv->rate_down + a * n,
               *wall = fv->rate_wall + a * n;
        for (size_t i = 0; i < n; i++) {
            size_t jp = berg__fp_neighbour(s, i, a, +1), jm = berg__fp_neighbour(s, i, a, -1);
            up[i] = (jp != SIZE_MAX) ? c * berg__bernoulli(V[jp] - V[i]) : 0.0;
            down[i] = (jm != SIZE_MAX) ? c * berg__bernoulli(V[jm] - V[i]) : 0.0;
            wall[i] = 0.0;
            if (s->bc[a] == BERG_DIRICHLET && (jp == SIZE_MAX || jm == SIZE_MAX)) {
                size_t inner = (jp == SIZE_MAX) ? jm : jp;
                double dv = (inner == SIZE_MAX) ? 0.0 : -0.5 * (V[inner] - V[i]);
                double r = 2.0 * c * berg__bernoulli(dv);
                wall[i] = (s->n[a] == 1) ? 2.0 * r : r; /* a single cell has two walls */
            }
            fv->exit_rate[i] += up[i] + down[i] + wall[i];
            BERG_REQUIRE(isfinite(up[i]) && isfinite(down[i]) && isfinite(wall[i]) &&
                             isfinite(fv->exit_rate[i]),
                         BERG_ERR_DOMAIN,
                         "%s: V is too steep at index %zu (axis %zu): a jump rate overflows", fn,
                         i, a);
        }
    }
    fv->max_rate = 0.0;
    for (size_t i = 0; i < n; i++)
        fv->max_rate = fmax(fv->max_rate, fv->exit_rate[i]);
    return BERG_OK;
}

/* ---- the generator ------------------------------------------------------- */

/* out = L p (transpose: L^T p); out must not alias p */
static void apply_L(const berg_fp *fp, const berg__fp_volume *fv, const double *p, double *out,
                    int transpose)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n;
    for (size_t i = 0; i < n; i++)
        out[i] = -fv->exit_rate[i] * p[i];
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        const double *up = fv->rate_up + a * n, *down = fv->rate_down + a * n;
        for (size_t i = 0; i < n; i++) {
            size_t jp = berg__fp_neighbour(s, i, a, +1), jm = berg__fp_neighbour(s, i, a, -1);
            if (!transpose) {
                /* inflow into i: from i-1 going +, from i+1 going - */
                if (jm != SIZE_MAX)
                    out[i] += up[jm] * p[jm];
                if (jp != SIZE_MAX)
                    out[i] += down[jp] * p[jp];
            } else {
                /* (L^T f)_i = sum_j r_{i->j} f_j - exit_i f_i */
                if (jp != SIZE_MAX)
                    out[i] += up[i] * p[jp];
                if (jm != SIZE_MAX)
                    out[i] += down[i] * p[jm];
            }
        }
    }
}

static berg_status volume_generator(const berg_fp *fp, const double *in, double *out,
                                    int transpose, void *scratch, const char *fn)
{
    (void)fn;
    double *tmp = scratch;
    apply_L(fp, fp->tables, in, tmp, transpose);
    memcpy(out, tmp, fp->n * sizeof(double));
    return BERG_OK;
}

static berg_status volume_symmetric(const berg_fp *fp, double *S, void *scratch,
                                    const char *fn)
{
    (void)scratch;
    (void)fn;
    const berg__fp_volume *fv = fp->tables;
    const berg_space *s = &fp->space;
    size_t n = fp->n, d = (size_t)s->ndim;
    for (size_t i = 0; i < n; i++)
        S[i * n + i] = -fv->exit_rate[i];
    for (size_t a = 0; a < d; a++) {
        double c = s->ginv[a * d + a] / (s->h[a] * s->h[a]);
        for (size_t i = 0; i < n; i++) {
            size_t j = berg__fp_neighbour(s, i, a, +1); /* each face once */
            if (j == SIZE_MAX)
                continue;
            double v = c * berg__bernoulli_sym(fp->V[j] - fp->V[i]);
            S[i * n + j] += v;
            S[j * n + i] += v;
        }
    }
    return BERG_OK;
}

/* ---- time stepping ------------------------------------------------------- */

/* one evolve's workspace, carved from a scratch block */
typedef struct volume_work {
    double *y;                            /* the state */
    double *stage[BERG_FP_VOLUME_STAGES]; /* T_{j1}, then the tableau */
    double *equilibrium;                  /* mass0 q (no absorbing wall) */
    berg__fp_line_work line;
} volume_work;

static size_t volume_carve(const berg_fp *fp, const berg__fp_volume *fv, void *block,
                           volume_work *w)
{
    berg__fp_arena ar = {block, 0};
    size_t n = fp->n, m = fv->longest_line;
    w->y = berg__fp_take(&ar, n, sizeof(double));
    for (size_t j = 0; j < BERG_FP_VOLUME_STAGES; j++)
        w->stage[j] = berg__fp_take(&ar, n, sizeof(double));
    w->equilibrium = berg__fp_take(&ar, n, sizeof(double));
    w->line.sub = berg__fp_take(&ar, m, sizeof(double));
    w->line.diag = berg__fp_take(&ar, m, sizeof(double));
    w->line.super = berg__fp_take(&ar, m, sizeof(double));
    w->line.rhs = berg__fp_take(&ar, 2 * m, sizeof(double));
    return ar.used;
}

typedef struct volume_flow {
    const berg_fp *fp;
    const berg__fp_volume *fv;
    const volume_work *w;
    double mass0, tol;
    const char *fn;
} volume_flow;

/* out = Phi_{tau/j}^j y: j rounds of implicit Euler sweeps over the axes */
static berg_status volume_step(void *ctx, double t, double tau, size_t j, const double *y,
                               double *out)
{
    (void)t;
    const volume_flow *f = ctx;
    size_t d = (size_t)f->fp->space.ndim;
    memcpy(out, y, f->fp->n * sizeof(double));
    for (size_t round = 0; round < j; round++)
        for (size_t a = 0; a < d; a++)
            BERG_TRY(berg__fp_sweep_axis(f->fp, f->fv, a, tau / (double)j, out, &f->w->line,
                                         f->fn));
    return BERG_OK;
}

static double l1_norm(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs(a[i]);
    return s;
}

static double volume_scale(void *ctx, const double *y)
{
    const volume_flow *f = ctx;
    return l1_norm(y, f->fp->n);
}

/* y = res with what the extrapolation made negative set to zero and, without
 * absorbing walls, the mass restored; then the equilibrium stop: e^{tL} is
 * a Markov operator (an L1 contraction), so |y - mass0 q|_1 bounds the
 * distance at every later time (with absorbing walls |y|_1 bounds it); once
 * below tol/100 of the mass the result is the equilibrium (long times in a
 * few steps) */
static void clip_and_restore_mass(const volume_flow *f, double *res, double *y)
{
    const berg_fp *fp = f->fp;
    size_t n = fp->n;
    int clipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (res[i] < 0.0) {
            res[i] = 0.0;
            clipped = 1;
        }
        y[i] = res[i];
    }
    if (!fp->absorbing) {
        double m = berg__sum(y, n);
        if (m > 0.0 && (clipped || m != f->mass0)) {
            double c = f->mass0 / m;
            for (size_t i = 0; i < n; i++)
                y[i] *= c;
        }
    }
}

static int volume_accept(void *ctx, double *res, double *y)
{
    const volume_flow *f = ctx;
    const berg_fp *fp = f->fp;
    size_t n = fp->n;
    clip_and_restore_mass(f, res, y);
    const double *eq = f->w->equilibrium;
    double dist = 0.0;
    for (size_t i = 0; i < n; i++)
        dist += fabs(y[i] - (fp->absorbing ? 0.0 : eq[i]));
    if (dist > 1e-2 * f->tol * f->mass0)
        return 0;
    for (size_t i = 0; i < n; i++)
        y[i] = fp->absorbing ? 0.0 : eq[i];
    return 1;
}

static berg_status volume_evolve(const berg_fp *fp, double t, const double *in, double *out,
                                 void *scratch, berg__fp_steps *steps, const char *fn)
{
    const berg__fp_volume *fv = fp->tables;
    size_t n = fp->n;
    volume_work w;
    volume_carve(fp, fv, scratch, &w);
    memcpy(w.y, in, n * sizeof(double));
    volume_flow flow = {fp, fv, &w, berg__sum(w.y, n), fp->tol, fn};
    const size_t K = BERG_FP_VOLUME_STAGES;
    /* first trial step (after Hairer, Norsett & Wanner's starting-step
     * rule): tol^{1/K} |y| / |L y|, at most t */
    double tau = t;
    apply_L(fp, fv, w.y, w.equilibrium, 0);
    double ly = l1_norm(w.equilibrium, n), ny = l1_norm(w.y, n);
    if (ly > 0.0)
        tau = fmin(tau, pow(fp->tol, 1.0 / (double)K) * ny / ly);
    if (!fp->absorbing) {
        double *eq = w.equilibrium;
        for (size_t i = 0; i < n; i++)
            eq[i] = exp(-fp->V[i]);
        double z = berg__sum(eq, n);
        for (size_t i = 0; i < n; i++)
            eq[i] *= flow.mass0 / z;
    }
    berg__extrap e = {
        .n = n,
        .stages = K,
        .in_tau_squared = 0,
        .weight = NULL,
        .tol = fp->tol,
        .exponent = 1.0 / (double)K,
        .hold_small_growth = 0,
        /* the line solves take any tau (fp_lines.c) */
        .tau_max = INFINITY,
        .stiffness = fv->max_rate,
        .step = volume_step,
        .error_scale = volume_scale,
        .accept = volume_accept,
        .ctx = &flow,
    };
    BERG_TRY(berg__extrap_run(&e, t, tau, w.y, w.stage, steps, fn));
    memcpy(out, w.y, n * sizeof(double));
    return BERG_OK;
}

/* ---- time-dependent coefficients (berg_fp_evolve_field / _table) --------
 * Every substep [s, s + h] of Phi uses the rates of V(s + h/2), g(s + h/2):
 * linearly implicit Euler with the generator frozen at the midpoint, a
 * one-step method whose error expands in powers of h for coefficients
 * smooth in t, so the extrapolation in tau stays valid. The rates are
 * rebuilt only when V or g changed (time-independent coefficients give
 * berg_fp_evolve's rates bit for bit). */
typedef struct volume_tflow {
    volume_flow f;
    const berg__fp_field *src;
    berg_space sp;             /* the space with g(t)^{-1} of the rates */
    berg__fp_volume rates;     /* arrays in the workspace */
    double *V, *V_built;       /* V(t) - min V(t): the last evaluated, the rates' */
    double ginv[BERG_MAX_RANK * BERG_MAX_RANK];
    int built;
} volume_tflow;

/* the rates of the coefficients at time t */
static berg_status volume_coefficients(volume_tflow *f, double t)
{
    const berg_fp *fp = f->f.fp;
    size_t n = fp->n, d = (size_t)fp->space.ndim;
    BERG_TRY(berg__fp_field_eval(fp, f->src, t, 1, f->V, f->ginv, f->f.fn));
    if (f->built && memcmp(f->V, f->V_built, n * sizeof(double)) == 0 &&
        memcmp(f->ginv, f->sp.ginv, d * d * sizeof(double)) == 0)
        return BERG_OK;
    f->built = 0;
    memcpy(f->sp.ginv, f->ginv, d * d * sizeof(double));
    berg_status st = build_rates(&f->sp, f->V, &f->rates, f->f.fn);
    if (st)
        return berg__fp_at_time(st, t);
    double *tmp = f->V_built;
    f->V_built = f->V;
    f->V = tmp;
    f->built = 1;
    return BERG_OK;
}

/* out = Phi_{tau/j}^j y with the rates of every substep's midpoint */
static berg_status volume_tstep(void *ctx, double t, double tau, size_t j, const double *y,
                                double *out)
{
    volume_tflow *f = ctx;
    const berg_fp *fp = f->f.fp;
    size_t d = (size_t)fp->space.ndim;
    double h = tau / (double)j;
    memcpy(out, y, fp->n * sizeof(double));
    for (size_t round = 0; round < j; round++) {
        BERG_TRY(volume_coefficients(f, t + ((double)round + 0.5) * h));
        for (size_t a = 0; a < d; a++)
            BERG_TRY(berg__fp_sweep_axis(fp, &f->rates, a, h, out, &f->f.w->line, f->f.fn));
    }
    return BERG_OK;
}

/* no equilibrium stop: the equilibrium moves */
static int volume_taccept(void *ctx, double *res, double *y)
{
    const volume_tflow *f = ctx;
    clip_and_restore_mass(&f->f, res, y);
    return 0;
}

static berg_status volume_evolve_field(const berg_fp *fp, const berg__fp_field *src, double t0,
                                       double t, double step, const double *in, double *out,
                                       berg__fp_steps *steps, const char *fn)
{
    const berg__fp_volume *fv = fp->tables;
    size_t n = fp->n, d = (size_t)fp->space.ndim;
    volume_work w;
    berg__fp_arena ar = {NULL, 0};
    size_t base = volume_carve(fp, fv, NULL, &w);
    ar.used = base;
    berg__fp_take(&ar, d * n, sizeof(double));
    berg__fp_take(&ar, d * n, sizeof(double));
    berg__fp_take(&ar, d * n, sizeof(double));
    berg__fp_take(&ar, n, sizeof(double));
    berg__fp_take(&ar, n, sizeof(double));
    berg__fp_take(&ar, n, sizeof(double));
    char *block = berg__alloc(ar.used, 1, fn);
    if (!block)
        return berg_last_status();
    volume_carve(fp, fv, block, &w);
    ar = (berg__fp_arena){block, base};
    volume_tflow f;
    memset(&f, 0, sizeof f);
    f.src = src;
    f.sp = fp->space;
    f.rates.rate_up = berg__fp_take(&ar, d * n, sizeof(double));
    f.rates.rate_down = berg__fp_take(&ar, d * n, sizeof(double));
    f.rates.rate_wall = berg__fp_take(&ar, d * n, sizeof(double));
    f.rates.exit_rate = berg__fp_take(&ar, n, sizeof(double));
    f.rates.longest_line = fv->longest_line;
    f.V = berg__fp_take(&ar, n, sizeof(double));
    f.V_built = berg__fp_take(&ar, n, sizeof(double));
    memcpy(w.y, in, n * sizeof(double));
    f.f = (volume_flow){fp, &f.rates, &w, berg__sum(w.y, n), fp->tol, fn};
    const size_t K = (step > 0.0) ? 2 : BERG_FP_VOLUME_STAGES;
    berg_status st = volume_coefficients(&f, t0);
    if (st)
        goto done;
    /* first trial step as berg_fp_evolve's, with the rates at t0 */
    double tau = t;
    apply_L(fp, &f.rates, w.y, w.equilibrium, 0);
    double ly = l1_norm(w.equilibrium, n), ny = l1_norm(w.y, n);
    if (ly > 0.0)
        tau = fmin(tau, pow(fp->tol, 1.0 / (double)K) * ny / ly);
    berg__extrap e = {
        .n = n,
        .stages = K,
        .in_tau_squared = 0,
        .weight = NULL,
        .tol = fp->tol,
        .exponent = 1.0 / (double)K,
        .hold_small_growth = 0,
        .tau_max = INFINITY,
        .stiffness = f.rates.max_rate,
        .t0 = t0,
        .breaks = src->breaks,
        .nbreaks = src->nbreaks,
        .fixed_step = step,
        .base_result = 0,
        .step = volume_tstep,
        .error_scale = volume_scale,
        .accept = volume_taccept,
        .ctx = &f,
    };
    st = berg__extrap_run(&e, t, tau, w.y, w.stage, steps, fn);
    if (st == BERG_OK)
        memcpy(out, w.y, n * sizeof(double));
done:
    berg__free(block);
    return st;
}

static const berg__fp_ops volume_ops = {volume_evolve, volume_generator, volume_symmetric,
                                        volume_destroy, volume_evolve_field};

berg_status berg__fp_volume_init(berg_fp *fp, size_t *scratch_bytes, const char *fn)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n, d = (size_t)s->ndim, dn;
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
            BERG_REQUIRE(a == b || s->ginv[a * d + b] == 0.0, BERG_ERR_UNSUPPORTED,
                         "%s: the metric couples axes %zu and %zu; the finite-volume "
                         "Fokker-Planck generator needs a diagonal metric (the Fourier one, "
                         "BERG_FP_FOURIER, takes any metric on a periodic box)",
                         fn, a, b);
    BERG_TRY(berg__mul_size(n, d, &dn, fn, "grid size x rank"));
    berg__fp_volume *fv = berg__alloc(1, sizeof *fv, fn);
    if (!fv)
        return berg_last_status();
    memset(fv, 0, sizeof *fv);
    berg_status st = BERG_OK;
    if (!(fv->rate_up = berg__alloc(dn, sizeof(double), fn)) ||
        !(fv->rate_down = berg__alloc(dn, sizeof(double), fn)) ||
        !(fv->rate_wall = berg__alloc(dn, sizeof(double), fn)) ||
        !(fv->exit_rate = berg__alloc(n, sizeof(double), fn))) {
        st = berg_last_status();
        goto fail;
    }
    fv->longest_line = 1;
    for (size_t a = 0; a < d; a++)
        fv->longest_line = s->n[a] > fv->longest_line ? s->n[a] : fv->longest_line;
    BERG_TRY_GOTO(st, build_rates(&fp->space, fp->V, fv, fn), fail);
    volume_work w;
    *scratch_bytes = volume_carve(fp, fv, NULL, &w);
    fp->ops = &volume_ops;
    fp->tables = fv;
    return BERG_OK;
fail:
    volume_destroy(fv);
    return st;
}
