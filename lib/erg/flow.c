/*
 * The flow of lattice-field ensembles in ln Lambda (seed eq 9-11): the
 * stochastic Wegner-Morris flow, the deterministic reparameterization of
 * eq 10 with a known score, and the Gaussian seed action.
 *
 * With s = -ln Lambda and Cdot = -dC/d ln Lambda = dC/ds, the flow is
 *   d phi = Cdot (C^{-1} phi + dS^u/dphi) ds + sqrt(-Cdot) dW.
 * Mode by mode the linear part integrates exactly: its propagator from
 * s0 to s1 is exp(int Cdot/C ds) = C1/C0, the noise it accumulates has
 * variance int (C1/C)^2 (-dC) = C1 (1 - C1/C0), and a forcing Cdot g
 * held at its start value contributes int (C1/C) dC g = C1 ln(C1/C0) g.
 * Without a user term the step is therefore the exact transition (the
 * conditional law of the infrared field); with one it is the exponential
 * Euler scheme.
 *
 * Each step forms per-mode tables once, then runs the members on
 * berg_threads() threads; member m of step j draws its noise from the
 * stream (seed, (counter + j) 2^32 + m), so the result is the same on any
 * number of threads. Failures inside a worker are recorded with the member
 * index and re-raised by the calling thread (the lowest member wins).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "erg/erg_internal.h"

/* the most steps one call takes (a flow of more steps than this is a
 * mistaken argument, not a computation to start) */
#define ERG_MAX_STEPS 10000000

/* ---- the parallel member loop ---------------------------------------- */

typedef struct job job;
typedef berg_status (*member_fn)(job *jb, size_t m, double *block, const berg__xscratch *xs);

struct job {
    const berg_scheme *s;
    const char *fn;
    member_fn body;
    double *phi;               /* the ensemble worked on */
    /* step data */
    double la, lb;             /* the step's scales */
    const double *ta, *tb, *tc, *te, *tf; /* per-mode tables */
    const double *noise;       /* caller noise of this step (count fields), or NULL */
    uint64_t seed, stream;     /* member m: stream + m */
    berg_erg_gradient_fn g1, g2;
    void *ud;
    double *values;            /* seed action values */
    double *grad;              /* seed action gradients, or NULL */
    int pass;                  /* seed action: 0 values, 1 gradients */
    /* failure record */
    pthread_mutex_t lock;
    berg_status st;
    size_t bad;
    char msg[400];
};

/* a job of scheme s for fn running body over the ensemble phi: the rest
 * zero (the caller destroys the lock) */
static void job_start(job *jb, const berg_scheme *s, const char *fn, member_fn body, double *phi)
{
    memset(jb, 0, sizeof *jb);
    pthread_mutex_init(&jb->lock, NULL);
    jb->s = s;
    jb->fn = fn;
    jb->body = body;
    jb->phi = phi;
}

static void record(job *jb, size_t m, berg_status st)
{
    pthread_mutex_lock(&jb->lock);
    if (jb->st == BERG_OK || m < jb->bad) {
        jb->st = st;
        jb->bad = m;
        snprintf(jb->msg, sizeof jb->msg, "%s", berg_last_error());
    }
    pthread_mutex_unlock(&jb->lock);
}

static void run_range(void *ctx, size_t b, size_t e, size_t range)
{
    (void)range;
    job *jb = ctx;
    const berg_scheme *s = jb->s;
    double *block = berg__pool_get((berg__pool *)(uintptr_t)&s->pool, jb->fn);
    if (block == NULL) {
        record(jb, b, berg_last_status());
        return;
    }
    berg__xscratch xs;
    berg__xform_scratch_carve(&s->x, block, 2, &xs);
    unsigned fpm = berg__ftz_enter();
    for (size_t m = b; m < e; m++) {
        berg_status st = jb->body(jb, m, block, &xs);
        if (st != BERG_OK) {
            record(jb, m, st);
            break;
        }
    }
    berg__ftz_leave(fpm);
    berg__pool_put((berg__pool *)(uintptr_t)&s->pool, block);
}

static berg_status run_members(job *jb, size_t count)
{
    jb->st = BERG_OK;
    jb->bad = 0;
    berg__parallel_for(count, berg__threads(0), 1, run_range, jb);
    if (jb->st != BERG_OK)
        return berg__error(jb->st, "%s", jb->msg);
    return BERG_OK;
}

/* ---- checks ------------------------------------------------------------- */

static berg_status check_lambda(double lambda, const char *fn, const char *name)
{
    BERG_REQUIRE(isfinite(lambda) && lambda > 0.0, BERG_ERR_DOMAIN,
                 "%s: %s = %g must be positive and finite", fn, name, lambda);
    return BERG_OK;
}

/* finite, and small enough that the transform's sums (N max|phi|) and a
 * step's growth stay finite */
static berg_status check_fields(const berg_scheme *s, const double *a, size_t total,
                                const char *fn, const char *name)
{
    const double lim = DBL_MAX / (16.0 * (double)s->x.nreal);
    int bad = 0;
    for (size_t i = 0; i < total; i++)
        bad |= !(fabs(a[i]) <= lim);
    if (!bad)
        return BERG_OK;
    BERG_TRY(berg__check_finite(a, total, fn, name));
    for (size_t i = 0; i < total; i++)
        BERG_REQUIRE(fabs(a[i]) <= lim, BERG_ERR_DOMAIN,
                     "%s: %s[%zu] = %g is too large for the transforms (|value| must be below "
                     "%g)",
                     fn, name, i, a[i], lim);
    return BERG_OK;
}

static berg_status call_grad(job *jb, berg_erg_gradient_fn f, const char *what, double lambda,
                             const double *phi, double *out, size_t m)
{
    size_t n = jb->s->x.nreal;
    int rc = f(n, lambda, phi, out, jb->ud);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: %s returned %d on member %zu at lambda = %g",
                 jb->fn, what, rc, m, lambda);
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(isfinite(out[i]), BERG_ERR_CALLBACK,
                     "%s: %s gave %g (not finite) at index %zu of member %zu at lambda = %g",
                     jb->fn, what, out[i], i, m, lambda);
    return BERG_OK;
}

static berg_status check_member_finite(job *jb, const double *p, size_t m)
{
    size_t n = jb->s->x.nreal;
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(isfinite(p[i]), BERG_ERR_NONFINITE,
                     "%s: member %zu overflowed at index %zu (lambda = %g)", jb->fn, m, i,
                     jb->lb);
    return BERG_OK;
}

/* ---- the stochastic flow ------------------------------------------------ */

/* tables of the step la -> lb: ta = r norm, tb = sqrt(C1 (1 - r) N / w)
 * norm / sqrt(2), te = C1 ln(r) norm; refuses C growing along the step */
static berg_status flow_tables(const berg_scheme *s, double la, double lb, double *c0,
                               double *c1, double *ta, double *tb, double *te, const char *fn)
{
    size_t ns = s->x.nspec;
    BERG_TRY(berg__scheme_table(s, la, c0, fn));
    BERG_TRY(berg__scheme_table(s, lb, c1, fn));
    const double norm = s->x.norm, amp = sqrt((double)s->x.nreal / s->x.space.weight) * norm *
                                         sqrt(0.5);
    for (size_t j = 0; j < ns; j++) {
        BERG_REQUIRE(c1[j] <= c0[j] * (1.0 + 1e-12), BERG_ERR_DOMAIN,
                     "%s: C grows from %g at lambda = %g to %g at lambda = %g on the mode "
                     "|k|_g = %g (the noise variance C1 (1 - C1/C0) would be negative)",
                     fn, c0[j], la, c1[j], lb, s->knorm[j]);
        if (c0[j] == 0.0 || c1[j] == 0.0) {
            /* C0 = 0: no fluctuation at this scale; C1 = 0: the mode leaves
             * the regulator's support (mean and variance 0) */
            ta[j] = tb[j] = te[j] = 0.0;
            continue;
        }
        double r = fmin(c1[j] / c0[j], 1.0);
        ta[j] = r * norm;
        tb[j] = sqrt(c1[j] * (1.0 - r)) * amp;
        te[j] = c1[j] * log(r) * norm;
        BERG_REQUIRE(isfinite(tb[j]) && isfinite(te[j]), BERG_ERR_DOMAIN,
                     "%s: the step's coefficients overflow on the mode |k|_g = %g", fn,
                     s->knorm[j]);
    }
    return BERG_OK;
}

static berg_status flow_member(job *jb, size_t m, double *block, const berg__xscratch *xs)
{
    const berg_scheme *s = jb->s;
    const size_t n = s->x.nreal, ns = s->x.nspec;
    double *phi = jb->phi + m * n, *spec = xs->spec;
    const double *ta = jb->ta, *tb = jb->tb, *te = jb->te;
    berg__xform_forward_s(&s->x, xs, phi, spec);
    const double *tscale = ta; /* the factor still to apply to spec */
    if (jb->g1) {
        double *g = block + s->off_g, *gs = xs->spec2;
        BERG_TRY(call_grad(jb, jb->g1, "seed_grad", jb->la, phi, g, m));
        berg__xform_forward_s(&s->x, xs, g, gs);
        for (size_t j = 0; j < ns; j++) {
            spec[2 * j] = ta[j] * spec[2 * j] + te[j] * gs[2 * j];
            spec[2 * j + 1] = ta[j] * spec[2 * j + 1] + te[j] * gs[2 * j + 1];
        }
        tscale = NULL;
    }
    if (jb->noise) {
        /* xi^ = T z / sqrt(N): Hermitian by construction, E|xi^|^2 = 1 */
        double *zs = block + s->off_gs;
        const double sc = sqrt(2.0 / (double)n);
        berg__xform_forward_s(&s->x, xs, jb->noise + m * n, zs);
        for (size_t j = 0; j < ns; j++) {
            double f = tscale ? tscale[j] : 1.0;
            spec[2 * j] = f * spec[2 * j] + sc * tb[j] * zs[2 * j];
            spec[2 * j + 1] = f * spec[2 * j + 1] + sc * tb[j] * zs[2 * j + 1];
        }
    } else {
        berg__erg_noise_apply(jb->seed, jb->stream + m, ns, tscale, tb, spec);
        /* the entries stored with their mirrors: a mirrored entry is the
         * conjugate of its partner (same tables, Hermitian input), a real
         * one takes re + im (variance 2 tb^2 = the full C1 (1 - r) share of
         * a real mode; its input imaginary part is 0) */
        for (size_t q = 0; q < s->nspecial; q++) {
            size_t j = s->special[q];
            if (s->hkind[j] == ERG_SELF) {
                spec[2 * j] += spec[2 * j + 1];
                spec[2 * j + 1] = 0.0;
            } else {
                size_t k = s->mirror[j];
                spec[2 * j] = spec[2 * k];
                spec[2 * j + 1] = -spec[2 * k + 1];
            }
        }
    }
    berg__xform_inverse_s(&s->x, xs, spec, phi);
    if (jb->g1 || jb->noise)
        BERG_TRY(check_member_finite(jb, phi, m));
    return BERG_OK;
}

/* the scale of step j of nsteps from l0 to l1, equal in ln Lambda */
static double grid_scale(double l0, double l1, size_t j, size_t nsteps)
{
    if (j == 0)
        return l0;
    if (j == nsteps)
        return l1;
    /* log(l1) - log(l0): l1 / l0 may underflow (subnormal scales) */
    return exp(log(l0) + (log(l1) - log(l0)) * (double)j / (double)nsteps);
}

/* a working copy of the ensemble when a failure can come after the first
 * write (callbacks, caller noise), else phi itself */
static double *work_copy(const double *phi, size_t total, int need, const char *fn)
{
    if (!need)
        return (double *)(uintptr_t)phi;
    double *w = berg__alloc(total, sizeof(double), fn);
    if (w)
        memcpy(w, phi, total * sizeof(double));
    return w;
}

berg_status berg_scheme_flow(const berg_scheme *scheme, double lambda0, double lambda1,
                             size_t nsteps, size_t count, unsigned long long seed,
                             unsigned long long counter, const double *noise, double *phi,
                             berg_erg_gradient_fn seed_grad, void *user_data)
{
    static const char fn[] = "berg_scheme_flow";
    BERG_TRY(berg__check_ptr(scheme, fn, "scheme"));
    BERG_TRY(check_lambda(lambda0, fn, "lambda0"));
    BERG_TRY(check_lambda(lambda1, fn, "lambda1"));
    BERG_REQUIRE(lambda1 <= lambda0, BERG_ERR_DOMAIN,
                 "%s: lambda1 = %g > lambda0 = %g (the stochastic flow runs towards the "
                 "infrared; berg_scheme_transport runs both ways)",
                 fn, lambda1, lambda0);
    BERG_REQUIRE(nsteps >= 1, BERG_ERR_SIZE, "%s: nsteps is 0", fn);
    BERG_REQUIRE(nsteps <= ERG_MAX_STEPS, BERG_ERR_SIZE, "%s: nsteps = %zu exceeds %d", fn, nsteps,
                 ERG_MAX_STEPS);
    BERG_TRY(berg__scheme_check_ensemble(scheme, count, fn));
    const size_t n = scheme->x.nreal, total = count * n, ns = scheme->x.nspec;
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    if (noise) {
        size_t nn;
        BERG_TRY(berg__mul_size(nsteps, total, &nn, fn, "nsteps * count * size"));
        BERG_TRY(berg__check_addressable(nn, sizeof(double), fn, "noise"));
        BERG_TRY(check_fields(scheme, noise, nn, fn, "noise"));
    }
    BERG_TRY(check_fields(scheme, phi, total, fn, "phi"));
    double *tab = berg__alloc(5 * ns, sizeof(double), fn);
    if (tab == NULL)
        return berg_last_status();
    double *c0 = tab, *c1 = tab + ns, *ta = tab + 2 * ns, *tb = tab + 3 * ns, *te = tab + 4 * ns;
    berg_status st = BERG_OK;
    /* every step's tables are checked before the first write */
    for (size_t j = 0; j < nsteps && st == BERG_OK; j++)
        st = flow_tables(scheme, grid_scale(lambda0, lambda1, j, nsteps),
                         grid_scale(lambda0, lambda1, j + 1, nsteps), c0, c1, ta, tb, te, fn);
    if (st != BERG_OK) {
        berg__free(tab);
        return st;
    }
    const int copy = seed_grad != NULL || noise != NULL;
    double *work = work_copy(phi, total, copy, fn);
    if (work == NULL) {
        berg__free(tab);
        return berg_last_status();
    }
    job jb;
    job_start(&jb, scheme, fn, flow_member, work);
    jb.ta = ta;
    jb.tb = tb;
    jb.te = te;
    jb.seed = seed;
    jb.g1 = seed_grad;
    jb.ud = user_data;
    for (size_t j = 0; j < nsteps && st == BERG_OK; j++) {
        jb.la = grid_scale(lambda0, lambda1, j, nsteps);
        jb.lb = grid_scale(lambda0, lambda1, j + 1, nsteps);
        st = flow_tables(scheme, jb.la, jb.lb, c0, c1, ta, tb, te, fn);
        if (st != BERG_OK)
            break;
        jb.noise = noise ? noise + j * total : NULL;
        jb.stream = (uint64_t)(counter + j) << 32;
        st = run_members(&jb, count);
    }
    pthread_mutex_destroy(&jb.lock);
    berg__free(tab);
    if (copy) {
        if (st == BERG_OK)
            memcpy(phi, work, total * sizeof(double));
        berg__free(work);
    }
    return st;
}

/* ---- the Gaussian transport ------------------------------------------- */

static berg_status scale_member(job *jb, size_t m, double *block, const berg__xscratch *xs)
{
    (void)block;
    const berg_scheme *s = jb->s;
    double *phi = jb->phi + m * s->x.nreal, *spec = xs->spec;
    berg__xform_forward_s(&s->x, xs, phi, spec);
    berg__xform_mul_table(&s->x, jb->ta, spec, spec);
    berg__xform_inverse_s(&s->x, xs, spec, phi);
    return BERG_OK;
}

berg_status berg_scheme_transport_gaussian(const berg_scheme *scheme, double lambda0,
                                           double lambda1, size_t count, double *phi,
                                           berg_symbol_fn cov0, void *user_data)
{
    static const char fn[] = "berg_scheme_transport_gaussian";
    BERG_TRY(berg__check_ptr(scheme, fn, "scheme"));
    BERG_TRY(check_lambda(lambda0, fn, "lambda0"));
    BERG_TRY(check_lambda(lambda1, fn, "lambda1"));
    BERG_TRY(berg__scheme_check_ensemble(scheme, count, fn));
    const size_t n = scheme->x.nreal, total = count * n, ns = scheme->x.nspec;
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    BERG_REQUIRE(cov0 != NULL, BERG_ERR_NULL, "%s: cov0 is NULL", fn);
    BERG_TRY(check_fields(scheme, phi, total, fn, "phi"));
    double *tab = berg__alloc(3 * ns, sizeof(double), fn);
    if (tab == NULL)
        return berg_last_status();
    double *c0 = tab, *c1 = tab + ns, *fac = tab + 2 * ns;
    berg_status st = berg__scheme_table(scheme, lambda0, c0, fn);
    if (st == BERG_OK)
        st = berg__scheme_table(scheme, lambda1, c1, fn);
    const size_t d = (size_t)scheme->x.space.ndim;
    for (size_t j = 0; j < ns && st == BERG_OK; j++) {
        double g0 = NAN;
        int rc = cov0(d, scheme->kvec + j * d, &g0, user_data);
        if (rc != 0) {
            st = berg__error(BERG_ERR_CALLBACK, "%s: cov0 returned %d on the mode |k|_g = %g",
                             fn, rc, scheme->knorm[j]);
            break;
        }
        if (!isfinite(g0)) {
            st = berg__error(BERG_ERR_CALLBACK,
                             "%s: cov0 gave %g (not finite) on the mode |k|_g = %g", fn, g0,
                             scheme->knorm[j]);
            break;
        }
        if (g0 < 0.0) {
            st = berg__error(BERG_ERR_DOMAIN, "%s: cov0 gave %g < 0 on the mode |k|_g = %g",
                             fn, g0, scheme->knorm[j]);
            break;
        }
        if (g0 == 0.0 || c0[j] == 0.0 || c1[j] == 0.0) {
            /* no fluctuation, or the mode leaves the regulator's support */
            fac[j] = 0.0;
            continue;
        }
        double r = c1[j] / c0[j], g1 = c1[j] * (1.0 - r) + g0 * r * r;
        if (!(g1 > 0.0) || !isfinite(g1)) {
            st = berg__error(BERG_ERR_DOMAIN,
                             "%s: the flowed variance is %g on the mode |k|_g = %g (G0 = %g)",
                             fn, g1, scheme->knorm[j], g0);
            break;
        }
        fac[j] = sqrt(g1 / g0) * scheme->x.norm;
        if (!isfinite(fac[j]))
            st = berg__error(BERG_ERR_DOMAIN, "%s: the map overflows on the mode |k|_g = %g",
                             fn, scheme->knorm[j]);
    }
    if (st == BERG_OK) {
        /* a factor above 1 can overflow: flow a copy then */
        double fmax = 0.0;
        for (size_t j = 0; j < ns; j++)
            fmax = fmax > fac[j] ? fmax : fac[j];
        int copy = fmax * (double)n > 1.0;
        double *work = work_copy(phi, total, copy, fn);
        if (work == NULL) {
            st = berg_last_status();
        } else {
            job jb;
            job_start(&jb, scheme, fn, scale_member, work);
            jb.ta = fac;
            jb.lb = lambda1;
            st = run_members(&jb, count);
            pthread_mutex_destroy(&jb.lock);
            if (copy) {
                for (size_t i = 0; i < total && st == BERG_OK; i++)
                    if (!isfinite(work[i]))
                        st = berg__error(BERG_ERR_NONFINITE,
                                         "%s: the map overflows at index %zu", fn, i);
                if (st == BERG_OK)
                    memcpy(phi, work, total * sizeof(double));
                berg__free(work);
            }
        }
    }
    berg__free(tab);
    return st;
}

/* ---- the transport with a score (exponential Heun) ---------------------- */

/* The velocity -Psi = Cdot (C^{-1} phi + dS^u/dphi - 1/2 score) is split
 * around the scheme's Gaussian point, whose score is C^{-1} phi: the linear
 * part 1/2 Cdot C^{-1} phi integrates exactly (factor sqrt(C1/C0) per mode)
 * and the remainder N = dS^u/dphi - 1/2 (score - C^{-1} phi), which stays
 * bounded where C is small (the stiff modes), by the exponential Heun
 * scheme with N linear in C along the step. With u = sqrt(C0), v =
 * sqrt(C1): int_{C0}^{C1} sqrt(C1/C) dC = 2 v (v - u) and
 * int sqrt(C1/C) (C - C0) dC / (C1 - C0) = (2/3) v (v - u)(v + 2u)/(v + u).
 * Tables: ta = (v/u) norm, te = 2 v (v - u) norm, tf = the second weight
 * times norm, ca = 1/C0, cb = 1/C1 (0 where C = 0: the mode is set to 0). */
static berg_status heun_tables(const berg_scheme *s, double la, double lb, double *c0,
                               double *c1, double *ta, double *te, double *tf, const char *fn)
{
    BERG_TRY(berg__scheme_table(s, la, c0, fn));
    BERG_TRY(berg__scheme_table(s, lb, c1, fn));
    const double norm = s->x.norm;
    for (size_t j = 0; j < s->x.nspec; j++) {
        if (c0[j] == 0.0 || c1[j] == 0.0) {
            ta[j] = te[j] = tf[j] = 0.0;
            c0[j] = c1[j] = 0.0;
            continue;
        }
        double u = sqrt(c0[j]), v = sqrt(c1[j]);
        ta[j] = v / u * norm;
        te[j] = 2.0 * v * (v - u) * norm;
        tf[j] = (2.0 / 3.0) * v * (v - u) * (v + 2.0 * u) / (v + u) * norm;
        c0[j] = 1.0 / c0[j];
        c1[j] = 1.0 / c1[j];
        BERG_REQUIRE(isfinite(ta[j]) && isfinite(te[j]) && isfinite(tf[j]) && isfinite(c0[j]) &&
                         isfinite(c1[j]),
                     BERG_ERR_DOMAIN, "%s: the step's coefficients overflow on the mode |k|_g = %g",
                     fn, s->knorm[j]);
    }
    return BERG_OK;
}

/* n = dS^u/dphi - 1/2 score at lambda, into g (q is scratch) */
static berg_status heun_force(job *jb, double lambda, const double *phi, double *g, double *q,
                              size_t m)
{
    const size_t n = jb->s->x.nreal;
    BERG_TRY(call_grad(jb, jb->g2, "score", lambda, phi, q, m));
    if (jb->g1) {
        BERG_TRY(call_grad(jb, jb->g1, "seed_grad", lambda, phi, g, m));
        for (size_t i = 0; i < n; i++)
            g[i] -= 0.5 * q[i];
    } else {
        for (size_t i = 0; i < n; i++)
            g[i] = -0.5 * q[i];
    }
    return BERG_OK;
}

static berg_status heun_member(job *jb, size_t m, double *block, const berg__xscratch *xs)
{
    const berg_scheme *s = jb->s;
    const size_t n = s->x.nreal, ns = s->x.nspec;
    double *phi = jb->phi + m * n, *spec = xs->spec, *spec2 = xs->spec2;
    double *g = block + s->off_g, *gs = block + s->off_gs, *p = block + s->off_p,
           *q = block + s->off_q, *ps = block + s->off_z;
    const double *ta = jb->ta, *te = jb->te, *tf = jb->tf, *ca = jb->tb, *cb = jb->tc;
    berg__xform_forward_s(&s->x, xs, phi, spec);
    BERG_TRY(heun_force(jb, jb->la, phi, g, q, m));
    berg__xform_forward_s(&s->x, xs, g, gs);
    for (size_t j = 0; j < ns; j++)
        for (int c = 0; c < 2; c++) {
            gs[2 * j + c] += 0.5 * ca[j] * spec[2 * j + c];
            spec2[2 * j + c] = ta[j] * spec[2 * j + c] + te[j] * gs[2 * j + c];
        }
    /* the predictor's coefficients (scaled back to a transform) survive
     * the inverse, which destroys its input */
    for (size_t j = 0; j < 2 * ns; j++)
        ps[j] = spec2[j] * (double)n;
    berg__xform_inverse_s(&s->x, xs, spec2, p);
    BERG_TRY(check_member_finite(jb, p, m));
    BERG_TRY(heun_force(jb, jb->lb, p, g, q, m));
    berg__xform_forward_s(&s->x, xs, g, spec2);
    for (size_t j = 0; j < ns; j++)
        for (int c = 0; c < 2; c++) {
            double n1 = spec2[2 * j + c] + 0.5 * cb[j] * ps[2 * j + c];
            spec[2 * j + c] = ta[j] * spec[2 * j + c] + te[j] * gs[2 * j + c] +
                              tf[j] * (n1 - gs[2 * j + c]);
        }
    berg__xform_inverse_s(&s->x, xs, spec, phi);
    return check_member_finite(jb, phi, m);
}

berg_status berg_scheme_transport(const berg_scheme *scheme, double lambda0, double lambda1,
                                  size_t nsteps, size_t count, double *phi,
                                  berg_erg_gradient_fn seed_grad, berg_erg_gradient_fn score,
                                  void *user_data)
{
    static const char fn[] = "berg_scheme_transport";
    BERG_TRY(berg__check_ptr(scheme, fn, "scheme"));
    BERG_TRY(check_lambda(lambda0, fn, "lambda0"));
    BERG_TRY(check_lambda(lambda1, fn, "lambda1"));
    BERG_REQUIRE(nsteps >= 1, BERG_ERR_SIZE, "%s: nsteps is 0", fn);
    BERG_REQUIRE(nsteps <= ERG_MAX_STEPS, BERG_ERR_SIZE, "%s: nsteps = %zu exceeds %d", fn, nsteps,
                 ERG_MAX_STEPS);
    BERG_TRY(berg__scheme_check_ensemble(scheme, count, fn));
    const size_t n = scheme->x.nreal, total = count * n, ns = scheme->x.nspec;
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    BERG_REQUIRE(score != NULL, BERG_ERR_NULL, "%s: score is NULL", fn);
    BERG_TRY(check_fields(scheme, phi, total, fn, "phi"));
    double *tab = berg__alloc(5 * ns, sizeof(double), fn);
    if (tab == NULL)
        return berg_last_status();
    double *c0 = tab, *c1 = tab + ns, *ta = tab + 2 * ns, *te = tab + 3 * ns, *tf = tab + 4 * ns;
    double *work = work_copy(phi, total, 1, fn);
    if (work == NULL) {
        berg__free(tab);
        return berg_last_status();
    }
    job jb;
    job_start(&jb, scheme, fn, heun_member, work);
    jb.ta = ta;
    jb.te = te;
    jb.tf = tf;
    jb.tb = c0;
    jb.tc = c1;
    jb.g1 = seed_grad;
    jb.g2 = score;
    jb.ud = user_data;
    berg_status st = BERG_OK;
    for (size_t j = 0; j < nsteps && st == BERG_OK; j++) {
        jb.la = grid_scale(lambda0, lambda1, j, nsteps);
        jb.lb = grid_scale(lambda0, lambda1, j + 1, nsteps);
        st = heun_tables(scheme, jb.la, jb.lb, c0, c1, ta, te, tf, fn);
        if (st == BERG_OK)
            st = run_members(&jb, count);
    }
    pthread_mutex_destroy(&jb.lock);
    if (st == BERG_OK)
        memcpy(phi, work, total * sizeof(double));
    berg__free(work);
    berg__free(tab);
    return st;
}

/* ---- the Gaussian seed action ------------------------------------------- */

static berg_status action_member(job *jb, size_t m, double *block, const berg__xscratch *xs)
{
    (void)block;
    const berg_scheme *s = jb->s;
    const size_t n = s->x.nreal, ns = s->x.nspec;
    const double *c = jb->ta;
    double *spec = xs->spec;
    berg__xform_forward_s(&s->x, xs, jb->phi + m * n, spec);
    if (jb->pass == 0) {
        double mx = 0.0, sum = 0.0, comp = 0.0;
        for (size_t j = 0; j < 2 * ns; j++)
            mx = fmax(mx, fabs(spec[j]));
        for (size_t j = 0; j < ns; j++) {
            double a2 = spec[2 * j] * spec[2 * j] + spec[2 * j + 1] * spec[2 * j + 1];
            if (c[j] == 0.0) {
                BERG_REQUIRE(sqrt(a2) <= 1e-12 * mx, BERG_ERR_DOMAIN,
                             "%s: member %zu has a component on the mode |k|_g = %g where "
                             "C_Lambda = 0 (the seed action is infinite)",
                             jb->fn, m, s->knorm[j]);
                continue;
            }
            berg__neumaier_add(&sum, &comp, s->mult[j] * a2 / c[j]);
        }
        /* 1/2 w sum_i phi C^{-1} phi = 1/2 (w / N) sum_k |phi^_k|^2 / C_k */
        double v = 0.5 * (sum + comp) * s->x.space.weight / (double)n;
        BERG_REQUIRE(isfinite(v), BERG_ERR_DOMAIN, "%s: the action of phi's member %zu overflows",
                     jb->fn, m);
        jb->values[m] = v;
        return BERG_OK;
    }
    for (size_t j = 0; j < ns; j++) {
        double f = c[j] > 0.0 ? s->x.norm / c[j] : 0.0;
        spec[2 * j] *= f;
        spec[2 * j + 1] *= f;
    }
    double *out = jb->grad + m * n;
    berg__xform_inverse_s(&s->x, xs, spec, out);
    return check_member_finite(jb, out, m);
}

berg_status berg_scheme_seed_action(const berg_scheme *scheme, double lambda, size_t count,
                                    const double *phi, double *value, double *grad)
{
    static const char fn[] = "berg_scheme_seed_action";
    BERG_TRY(berg__check_ptr(scheme, fn, "scheme"));
    BERG_TRY(check_lambda(lambda, fn, "lambda"));
    BERG_TRY(berg__scheme_check_ensemble(scheme, count, fn));
    const size_t n = scheme->x.nreal, total = count * n, ns = scheme->x.nspec;
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    BERG_TRY(berg__check_ptr(value, fn, "value"));
    BERG_TRY(check_fields(scheme, phi, total, fn, "phi"));
    double *tab = berg__alloc(ns + count, sizeof(double), fn);
    if (tab == NULL)
        return berg_last_status();
    double *vals = tab + ns;
    berg_status st = berg__scheme_table(scheme, lambda, tab, fn);
    job jb;
    job_start(&jb, scheme, fn, action_member, (double *)(uintptr_t)phi);
    jb.ta = tab;
    jb.lb = lambda;
    jb.values = vals;
    if (st == BERG_OK)
        st = run_members(&jb, count);
    double *gw = NULL;
    if (st == BERG_OK && grad) {
        /* the gradients into a scratch ensemble: they may overflow where
         * C is tiny */
        gw = berg__alloc(total, sizeof(double), fn);
        if (gw == NULL)
            st = berg_last_status();
        jb.grad = gw;
        jb.pass = 1;
        if (st == BERG_OK)
            st = run_members(&jb, count);
    }
    pthread_mutex_destroy(&jb.lock);
    if (st == BERG_OK) {
        memcpy(value, vals, count * sizeof(double));
        if (grad)
            memcpy(grad, gw, total * sizeof(double));
    }
    berg__free(gw);
    berg__free(tab);
    return st;
}
