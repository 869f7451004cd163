/* Fourier multipliers: c(k), e^{-t c(k)}, radial profiles, regulators, random fields
 * (seed eq 9-11: the regulated two-point function is a Fourier multiplier). */
#include <math.h>
#include <string.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <float.h>

#include "berg/heat.h"
#include "propagator/heat_internal.h"
#include "propagator/transform.h"

/* Immutable after creation: plans, symbol tables. The exp table of
 * berg_multiplier_exp_apply lives in the scratch block of each call. */
struct berg_multiplier {
    berg__xform x;      /* plans only (BERG__XF_NOBUFS) */
    double *c;          /* symbol per mode */
    double *cn;         /* c * norm */
    double *csqrt;      /* sqrt(c / w) * norm (random fields), NULL when some c < 0 */
    size_t neg_mode;    /* first mode with c < 0, or nspec */
    double cmax;        /* max |c| */
    size_t exp_off;     /* offset of the exp table in a block */
    size_t kern_off;    /* offset of the direct kernels in a block */
    size_t panel_off;   /* offset of the direct path's panels in a block */
    berg__pool pool;    /* scratch blocks, one per concurrent call */
    /* the heat symbol: c = lambda q(k) on every mode (q = k.g^{-1}k or its
     * finite-difference form, diagonal metric): e^{-t c} is the heat
     * semigroup at time lambda t, with its direct path (issue 18) */
    int heat_symbol;
    double lambda;
    int force;          /* +1 BERG_HEAT_DIRECT, -1 BERG_HEAT_SPECTRAL, 0 */
    berg__hdir direct;
};

#define ALLOWED_FLAGS (BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD | BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL)

void berg_multiplier_destroy(berg_multiplier *m)
{
    if (m == NULL)
        return;
    berg__xform_free(&m->x);
    berg__hdir_free(&m->direct);
    berg__free(m->c);
    berg__free(m->cn);
    berg__free(m->csqrt);
    berg__pool_free(&m->pool);
    berg__free(m);
}

/* a symbol evaluated on each mode: by callback, radial table or regulator */
typedef int (*mode_symbol)(const berg__xform *x, const size_t *idx, const double *k, int fd,
                           double *c, void *ctx, const char *fn);

typedef struct {
    berg_multiplier *m;
    mode_symbol sym;
    void *ctx;
    int fd;
    const char *fn;
} fill_ctx;

static int fill_mode(size_t mode, const size_t *idx, const double *k, void *vctx)
{
    fill_ctx *f = vctx;
    double c = NAN;
    int r = f->sym(&f->m->x, idx, k, f->fd, &c, f->ctx, f->fn);
    if (r)
        return r;
    f->m->c[mode] = c;
    return 0;
}

static void format_k(char *buf, size_t len, int d, const double *k)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int a = 0; a < d && used + 1 < len; a++) {
        int w = snprintf(buf + used, len - used, "%s%g", a ? ", " : "", k[a]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* even_if_uncoupled: the symbol is a function of |k|_g (even in every k_a
 * when g^{-1} does not couple axes); otherwise a user symbol, even in every
 * k_a only when at most one axis is periodic (c(-k) = c(k) and evenness in
 * the non-periodic k_a) */
static int symbol_even(const berg_space *s, int even_if_uncoupled)
{
    int nper = 0;
    for (int a = 0; a < s->ndim; a++)
        nper += s->bc[a] == BERG_PERIODIC;
    return even_if_uncoupled ? s->diagonal : nper <= 1;
}

/* the derived tables: c * norm, sqrt(c / w) * norm, the first negative mode */
static berg_status derive_tables(berg_multiplier *m, const char *fn)
{
    size_t ns = m->x.nspec;
    m->neg_mode = ns;
    m->cmax = 0.0;
    /* callback symbols are checked as they are evaluated; a built-in one can
     * still overflow (LITIM_DOT's 2 lambda^2 for lambda > 1e154) */
    for (size_t i = 0; i < ns; i++)
        BERG_REQUIRE(isfinite(m->c[i]), BERG_ERR_DOMAIN,
                     "%s: the symbol is %g at spectral mode %zu (lambda^2 or k^2 overflows)", fn,
                     m->c[i], i);
    for (size_t i = 0; i < ns; i++) {
        m->cmax = fmax(m->cmax, fabs(m->c[i]));
        m->cn[i] = m->c[i] * m->x.norm;
        if (m->c[i] < 0.0 && m->neg_mode == ns)
            m->neg_mode = i;
    }
    if (m->neg_mode == ns) {
        m->csqrt = berg__alloc(ns, sizeof(double), fn);
        if (m->csqrt == NULL)
            return berg_last_status();
        double s = m->x.norm / sqrt(m->x.space.weight);
        for (size_t i = 0; i < ns; i++)
            m->csqrt[i] = sqrt(m->c[i]) * s;
    }
    return BERG_OK;
}

/* whether c = lambda q(k) on every mode (to 4e-15 relative) for the heat
 * symbol q of a diagonal metric; then the engine of the direct path */
static berg_status detect_heat(berg_multiplier *m, int fd, size_t nthreads, const char *fn)
{
    const berg__xform *x = &m->x;
    size_t ns = x->nspec;
    m->heat_symbol = 0;
    if (!x->space.diagonal || m->neg_mode < ns || m->force < 0)
        return BERG_OK;
    double *q = berg__alloc(ns, sizeof(double), fn);
    if (q == NULL)
        return berg_last_status();
    berg__xform_quad_table(x, fd, q);
    size_t top = 0;
    for (size_t i = 1; i < ns; i++)
        if (q[i] > q[top])
            top = i;
    double lambda = q[top] > 0.0 && isfinite(q[top]) ? m->c[top] / q[top] : 0.0;
    int ok = lambda > 0.0 && isfinite(lambda);
    for (size_t i = 0; ok && i < ns; i++) {
        double want = lambda * q[i];
        ok = fabs(m->c[i] - want) <= 4e-15 * fmax(m->c[i], want);
    }
    berg__free(q);
    if (!ok)
        return BERG_OK;
    m->lambda = lambda;
    BERG_TRY(berg__hdir_init(&m->direct, &x->space, 1, fd, nthreads, fn));
    m->heat_symbol = 1;
    return BERG_OK;
}

static berg_status build(berg_multiplier **out, const berg_space *space, size_t nthreads,
                         unsigned flags, int radial, mode_symbol sym, void *ctx, const char *fn)
{
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_ptr(space, fn, "space"));
    BERG_REQUIRE(nthreads >= 1 && nthreads <= INT_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads = %zu must be at least 1 and at most INT_MAX", fn, nthreads);
    BERG_TRY(berg__check_flags(flags, ALLOWED_FLAGS, fn));
    BERG_REQUIRE((flags & (BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL)) !=
                     (BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL),
                 BERG_ERR_DOMAIN,
                 "%s: flags BERG_HEAT_DIRECT and BERG_HEAT_SPECTRAL exclude each other", fn);
    berg_multiplier *m = berg__alloc(1, sizeof *m, fn);
    if (m == NULL)
        return berg_last_status();
    memset(m, 0, sizeof *m);
    unsigned xf = ((flags & BERG_PLAN_ESTIMATE) ? BERG__XF_ESTIMATE : 0u) |
                  (symbol_even(space, radial) ? BERG__XF_EVEN : 0u) | BERG__XF_NOBUFS;
    berg_status st;
    BERG_TRY_GOTO(st, berg__xform_init(&m->x, space, 1, nthreads, xf, fn), fail);
    size_t ns = m->x.nspec;
    m->c = berg__alloc(ns, sizeof(double), fn);
    m->cn = berg__alloc(ns, sizeof(double), fn);
    if (!m->c || !m->cn) {
        st = berg_last_status();
        goto fail;
    }
    fill_ctx f = {m, sym, ctx, (flags & BERG_SYMBOL_FD) != 0, fn};
    if (berg__xform_each_mode(&m->x, fill_mode, &f) != 0) {
        st = berg_last_status();
        goto fail;
    }
    BERG_TRY_GOTO(st, derive_tables(m, fn), fail);
    m->force = (flags & BERG_HEAT_DIRECT) ? 1 : (flags & BERG_HEAT_SPECTRAL) ? -1 : 0;
    BERG_TRY_GOTO(st, detect_heat(m, (flags & BERG_SYMBOL_FD) != 0, nthreads, fn), fail);
    m->exp_off = BERG__HEAD_DOUBLES + berg__xform_scratch_doubles(&m->x, 1);
    m->kern_off = m->exp_off + berg__xround(ns);
    m->panel_off = m->kern_off + (m->heat_symbol ? berg__xround(BERG__HDIR_KERNEL_DOUBLES) : 0);
    size_t block = m->panel_off +
                   (m->heat_symbol ? berg__xround(berg__hdir_panel_doubles(&m->direct)) : 0);
    BERG_TRY_GOTO(st, berg__pool_init(&m->pool, block, sizeof(double), fn), fail);
    *out = m;
    return BERG_OK;
fail:
    berg_multiplier_destroy(m);
    return st;
}

/* ---- user callbacks ----------------------------------------------------- */

typedef struct {
    berg_symbol_fn fnp;
    void *user_data;
} cb_ctx;

/* the wave vector handed to symbols: k, or its finite-difference version */
static void mode_k(const berg__xform *x, const double *k, int fd, double *kk)
{
    for (int a = 0; a < x->space.ndim; a++) {
        double h = x->space.h[a];
        kk[a] = fd ? 2.0 * sin(0.5 * k[a] * h) / h : k[a];
    }
}

static int cb_symbol(const berg__xform *x, const size_t *idx, const double *k, int fd, double *c,
                     void *vctx, const char *fn)
{
    cb_ctx *cb = vctx;
    int d = x->space.ndim, nyq[BERG_MAX_RANK], r = 0;
    for (int a = 0; a < d; a++)
        if (x->nyquist[a] == (int)idx[a])
            nyq[r++] = a;
    /* a Nyquist index stands for both +k and -k on its axis: average the
     * symbol over those sign choices (as the heat symbol drops the cross
     * terms there), so that the operator is the same whichever the user's
     * symbol prefers */
    double sum = 0.0;
    for (unsigned pat = 0; pat < (1u << r); pat++) {
        double kk[BERG_MAX_RANK], ks[BERG_MAX_RANK], cv = NAN;
        char kb[256];
        memcpy(ks, k, (size_t)d * sizeof(double));
        for (int j = 0; j < r; j++)
            if (pat & (1u << j))
                ks[nyq[j]] = -ks[nyq[j]];
        mode_k(x, ks, fd, kk);
        int rc = cb->fnp((size_t)d, kk, &cv, cb->user_data);
        if (rc != 0) {
            format_k(kb, sizeof kb, d, kk);
            berg__error(BERG_ERR_CALLBACK, "%s: symbol returned %d at k = (%s)", fn, rc, kb);
            return 1;
        }
        if (!isfinite(cv)) {
            char what[300];
            format_k(kb, sizeof kb, d, kk);
            snprintf(what, sizeof what, "symbol at k = (%s)", kb);
            berg__check_callback_output(&cv, 1, fn, what);
            return 1;
        }
        sum += cv;
    }
    *c = r ? sum / (double)(1u << r) : sum;
    return 0;
}

berg_status berg_multiplier_create_ex(berg_multiplier **out, const berg_space *space,
                                      size_t nthreads, unsigned flags, berg_symbol_fn symbol,
                                      void *user_data)
{
    static const char fn[] = "berg_multiplier_create_ex";
    BERG_REQUIRE(symbol != NULL, BERG_ERR_NULL, "%s: symbol is NULL", fn);
    cb_ctx cb = {symbol, user_data};
    return build(out, space, nthreads, flags, 0, cb_symbol, &cb, fn);
}

berg_status berg_multiplier_create(berg_multiplier **out, const berg_space *space, unsigned flags,
                                   berg_symbol_fn symbol, void *user_data)
{
    static const char fn[] = "berg_multiplier_create";
    BERG_REQUIRE(symbol != NULL, BERG_ERR_NULL, "%s: symbol is NULL", fn);
    cb_ctx cb = {symbol, user_data};
    return build(out, space, 1, flags, 0, cb_symbol, &cb, fn);
}

/* |k|_g of a mode (continuum or finite-difference); NaN with BERG_ERR_DOMAIN
 * recorded when the form is not a number (1/h^2 so large that the cross
 * terms of a coupled metric give inf - inf) */
static double mode_norm(const berg__xform *x, const size_t *idx, int fd, const char *fn)
{
    double dg[BERG_MAX_RANK], cr[BERG_MAX_RANK];
    for (int a = 0; a < x->space.ndim; a++)
        berg__axis_symbol(x, a, idx[a], fd, &dg[a], &cr[a]);
    double q = berg__quad_form(&x->space, dg, cr);
    if (isnan(q)) {
        berg__error(BERG_ERR_DOMAIN,
                    "%s: |k|_g overflows on this grid (1/h^2 times the inverse metric is beyond "
                    "DBL_MAX)",
                    fn);
        return NAN;
    }
    return sqrt(q > 0.0 ? q : 0.0);
}

/* ---- radial profiles ---------------------------------------------------- */

typedef struct {
    size_t np;
    const double *kp, *cp;
} radial_ctx;

static int radial_symbol(const berg__xform *x, const size_t *idx, const double *k, int fd,
                         double *c, void *vctx, const char *fn)
{
    (void)k;
    radial_ctx *r = vctx;
    double kn = mode_norm(x, idx, fd, fn);
    if (isnan(kn))
        return 1;
    if (kn <= r->kp[0]) {
        *c = r->cp[0];
    } else if (kn >= r->kp[r->np - 1]) {
        *c = r->cp[r->np - 1];
    } else {
        size_t lo = 0, hi = r->np - 1; /* kp[lo] < kn < kp[hi] */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->kp[mid] <= kn)
                lo = mid;
            else
                hi = mid;
        }
        double s = (kn - r->kp[lo]) / (r->kp[hi] - r->kp[lo]);
        *c = r->cp[lo] + s * (r->cp[hi] - r->cp[lo]);
    }
    return 0;
}

berg_status berg_multiplier_create_radial(berg_multiplier **out, const berg_space *space,
                                          size_t np, const double *kp, const double *cp,
                                          unsigned flags)
{
    static const char fn[] = "berg_multiplier_create_radial";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(np >= 2, BERG_ERR_SIZE, "%s: np = %zu, need at least 2 knots", fn, np);
    BERG_TRY(berg__check_addressable(np, sizeof(double), fn, "np knots"));
    BERG_TRY(berg__check_ptr(kp, fn, "kp"));
    BERG_TRY(berg__check_ptr(cp, fn, "cp"));
    BERG_TRY(berg__check_finite(kp, np, fn, "kp"));
    BERG_TRY(berg__check_finite(cp, np, fn, "cp"));
    BERG_REQUIRE(kp[0] >= 0.0, BERG_ERR_DOMAIN, "%s: kp[0] = %g is negative", fn, kp[0]);
    for (size_t i = 1; i < np; i++)
        BERG_REQUIRE(kp[i] > kp[i - 1], BERG_ERR_DOMAIN,
                     "%s: knots must increase strictly, but kp[%zu] = %g <= kp[%zu] = %g", fn, i,
                     kp[i], i - 1, kp[i - 1]);
    radial_ctx r = {np, kp, cp};
    return build(out, space, 1, flags, 1, radial_symbol, &r, fn);
}

/* ---- regulators ----------------------------------------------------------- */

static double regulator(berg_regulator kind, double L, double k)
{
    /* (k / L)^2: L * L underflows for L below ~1e-154 (0/0 at k = 0) */
    double r = k / L, z = r * r;
    switch (kind) {
    case BERG_REGULATOR_SHARP:
        return k <= L ? 1.0 : 0.0;
    case BERG_REGULATOR_EXPONENTIAL:
        return exp(-z);
    case BERG_REGULATOR_LITIM:
        return k <= L ? L * L - k * k : 0.0;
    case BERG_REGULATOR_EXPONENTIAL_DOT:
        return z > 1e3 ? 0.0 : 2.0 * z * exp(-z); /* inf * 0 at z = inf */
    case BERG_REGULATOR_LITIM_DOT:
        return k <= L ? 2.0 * L * L : 0.0;
    }
    return NAN;
}

static berg_status check_regulator(berg_regulator kind, double lambda, const char *fn)
{
    BERG_REQUIRE((int)kind >= 0 && (int)kind <= (int)BERG_REGULATOR_LITIM_DOT, BERG_ERR_DOMAIN,
                 "%s: unknown regulator kind %d", fn, (int)kind);
    BERG_REQUIRE(isfinite(lambda) && lambda > 0.0, BERG_ERR_DOMAIN,
                 "%s: lambda = %g must be positive and finite", fn, lambda);
    return BERG_OK;
}

berg_status berg_regulator_value(berg_regulator kind, double lambda, double k, double *value)
{
    static const char fn[] = "berg_regulator_value";
    BERG_TRY(berg__check_ptr(value, fn, "value"));
    BERG_TRY(check_regulator(kind, lambda, fn));
    BERG_REQUIRE(isfinite(k), BERG_ERR_NONFINITE, "%s: k = %g is not finite", fn, k);
    BERG_REQUIRE(k >= 0.0, BERG_ERR_DOMAIN, "%s: k = %g is negative", fn, k);
    *value = regulator(kind, lambda, k);
    return BERG_OK;
}

typedef struct {
    berg_regulator kind;
    double lambda;
} reg_ctx;

static int reg_symbol(const berg__xform *x, const size_t *idx, const double *k, int fd, double *c,
                      void *vctx, const char *fn)
{
    (void)k;
    reg_ctx *r = vctx;
    double kn = mode_norm(x, idx, fd, fn);
    if (isnan(kn))
        return 1;
    *c = regulator(r->kind, r->lambda, kn);
    return 0;
}

berg_status berg_multiplier_create_regulator(berg_multiplier **out, const berg_space *space,
                                             berg_regulator kind, double lambda, unsigned flags)
{
    static const char fn[] = "berg_multiplier_create_regulator";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_regulator(kind, lambda, fn));
    reg_ctx r = {kind, lambda};
    return build(out, space, 1, flags, 1, reg_symbol, &r, fn);
}

/* ---- apply ----------------------------------------------------------------- */

static berg_status check_io(const berg_multiplier *m, const double *in, const double *out,
                            const char *fn)
{
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(berg__check_ptr(in, fn, "in"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    return BERG_OK;
}

static berg_status negative_symbol(const berg_multiplier *m, const char *fn, const char *why)
{
    size_t idx[BERG_MAX_RANK], r = m->neg_mode;
    double k[BERG_MAX_RANK];
    char kb[256];
    for (int a = m->x.space.ndim - 1; a >= 0; a--) {
        idx[a] = r % m->x.sshape[a];
        r /= m->x.sshape[a];
        k[a] = m->x.kaxis[a][idx[a]];
    }
    format_k(kb, sizeof kb, m->x.space.ndim, k);
    return berg__error(BERG_ERR_DOMAIN, "%s: %s, but the symbol is %g < 0 at k = (%s)", fn, why,
                       m->c[m->neg_mode], kb);
}

/* one call's workspace: a block from the pool */
typedef struct {
    double *block;
    berg__xscratch s;
    double *table; /* the exp table (berg_multiplier_exp_apply) */
    berg__hdir_kernel *kern; /* the direct kernels of the table's t (heat symbol) */
    int direct;    /* run() takes the direct path with kern */
} work;

static berg_status begin(const berg_multiplier *m, work *w, const char *fn)
{
    w->block = berg__pool_get((berg__pool *)(uintptr_t)&m->pool, fn);
    if (w->block == NULL)
        return berg_last_status();
    berg__xform_scratch_carve(&m->x, w->block + BERG__HEAD_DOUBLES, 1, &w->s);
    w->table = w->block + m->exp_off;
    w->kern = m->heat_symbol ? (berg__hdir_kernel *)(void *)(w->block + m->kern_off) : NULL;
    w->direct = 0;
    return BERG_OK;
}

static void end(const berg_multiplier *m, work *w)
{
    berg__pool_put((berg__pool *)(uintptr_t)&m->pool, w->block);
}

/* out = T^{-1} table T in */
static void run(const berg_multiplier *m, const work *w, const double *table, const double *in,
                double *out)
{
    unsigned fp = berg__ftz_enter();
    if (w->direct) {
        /* spec holds nreal doubles and is neither in nor out */
        berg__hdir_run(&m->direct, w->kern, in, out, w->s.spec, w->block + m->panel_off);
        berg__ftz_leave(fp);
        return;
    }
    berg__xform_forward_s(&m->x, &w->s, in, w->s.spec);
    berg__xform_mul_table(&m->x, table, w->s.spec, w->s.spec);
    berg__xform_inverse_s(&m->x, &w->s, w->s.spec, out);
    berg__ftz_leave(fp);
}

/* the spectral step the crossover is measured against, on another block */
static berg_status spectral_probe(void *v, const char *fn)
{
    const berg_multiplier *m = v;
    work w;
    BERG_TRY(begin(m, &w, fn));
    run(m, &w, w.table, w.s.rbuf2, w.s.rbuf2);
    end(m, &w);
    return BERG_OK;
}

/* log2 of a bound on the transform sums of T^{-1} table T in, where the
 * table is at most fmax * norm: 2^(d+1) sum|in| max(1, fmax); in is
 * checked finite (one summing pass) */
static berg_status sums_log2(const berg_multiplier *m, const double *in, double fmaxv,
                             const char *fn, int *e, int *es_out)
{
    const size_t n = m->x.nreal;
    double sum = berg__abs_sum_mt(in, n, m->x.nthreads);
    int es;
    if (isfinite(sum)) {
        es = sum > 0.0 ? ilogb(sum) + 1 : -1100;
    } else {
        BERG_TRY(berg__check_finite(in, n, fn, "in"));
        double mx = 0.0; /* finite values whose sum overflowed */
        for (size_t i = 0; i < n; i++)
            mx = fmax(mx, fabs(in[i]));
        es = ilogb(mx) + ilogb((double)n) + 2;
    }
    /* fmaxv is finite (derive_tables): ilogb is at most 1023 */
    *e = es + m->x.space.ndim + 1 + (fmaxv > 1.0 ? ilogb(fmaxv) + 1 : 0);
    *es_out = es; /* -1100: the input is 0 */
    return BERG_OK;
}

/* out = T^{-1} table T in, at the power-of-two scale that keeps the sums
 * below 2^1000 when they could overflow; a result beyond DBL_MAX is refused
 * with out untouched */
static berg_status run_checked(const berg_multiplier *m, const work *w, const double *table,
                               double fmaxv, const double *in, double *out, const char *fn)
{
    int e, es;
    BERG_TRY(sums_log2(m, in, fmaxv, fn, &e, &es));
    /* an input whose sum is below 2^-500 (not 0: es = -1100) runs scaled up,
     * by at most 2^1000 and keeping the sums below 2^1000: the transforms
     * run with flush-to-zero, which would turn subnormal values into 0 */
    int k = 0;
    if (e >= 1000)
        k = 999 - e;
    else if (es < -500 && es > -1100)
        k = (-es < 1000 ? -es : 1000) < 999 - e ? (-es < 1000 ? -es : 1000) : 999 - e;
    if (k <= 0 && e < 1000) {
        run(m, w, table, in, out);
        return BERG_OK;
    }
    const size_t n = m->x.nreal;
    /* in * 2^k, exactly (ldexp: 2^k may not be a double) */
    double *buf = w->s.rbuf2, mx = 0.0;
    for (size_t i = 0; i < n; i++)
        buf[i] = ldexp(in[i], k);
    run(m, w, table, buf, buf);
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(buf[i]));
    BERG_REQUIRE(isfinite(ldexp(mx, -k)), BERG_ERR_DOMAIN,
                 "%s: the result has values of about 2^%d, beyond DBL_MAX", fn, ilogb(mx) - k);
    for (size_t i = 0; i < n; i++)
        out[i] = ldexp(buf[i], -k);
    return BERG_OK;
}

berg_status berg_multiplier_apply(const berg_multiplier *m, const double *in, double *out)
{
    static const char fn[] = "berg_multiplier_apply";
    BERG_TRY(check_io(m, in, out, fn));
    work w;
    BERG_TRY(begin(m, &w, fn));
    berg_status st = run_checked(m, &w, m->cn, m->cmax, in, out, fn);
    end(m, &w);
    return st;
}

berg_status berg_multiplier_exp_apply(const berg_multiplier *m, double t, const double *in,
                                      double *out)
{
    static const char fn[] = "berg_multiplier_exp_apply";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(berg__check_time(t, fn, "t"));
    BERG_TRY(check_io(m, in, out, fn));
    if (m->neg_mode < m->x.nspec)
        return negative_symbol(m, fn, "e^{-t c} needs c >= 0");
    BERG_TRY(berg__check_finite(in, m->x.nreal, fn, "in")); /* also for the t = 0 copy */
    if (t == 0.0) {
        if (in != out)
            memmove(out, in, m->x.nreal * sizeof(double));
        return BERG_OK;
    }
    work w;
    BERG_TRY(begin(m, &w, fn));
    if (!berg__head_holds(w.block, t)) {
        for (size_t i = 0; i < m->x.nspec; i++)
            w.table[i] = exp(-t * m->c[i]) * m->x.norm;
        if (m->heat_symbol)
            berg__hdir_kernels(&m->direct, m->lambda * t, w.kern);
        berg__head_set(w.block, t);
    }
    if (m->heat_symbol) {
        int use = 0;
        if (berg__hdir_choose(&m->direct, w.kern, m->force, spectral_probe, (void *)(uintptr_t)m,
                              &use, fn) != BERG_OK)
            use = 0; /* the measurement failed: the spectral path */
        w.direct = use;
    }
    /* c >= 0: the factors e^{-t c} are at most 1 */
    berg_status st = run_checked(m, &w, w.table, 1.0, in, out, fn);
    end(m, &w);
    return st;
}

berg_status berg_multiplier_random_field(const berg_multiplier *m, unsigned long long seed,
                                         unsigned long long stream, double *out)
{
    static const char fn[] = "berg_multiplier_random_field";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    if (m->neg_mode < m->x.nspec)
        return negative_symbol(m, fn, "a spectrum must be >= 0");
    work w;
    BERG_TRY(begin(m, &w, fn));
    berg__rng rng;
    berg__rng_seed(&rng, (uint64_t)seed, (uint64_t)stream);
    berg__rng_normals(&rng, w.s.rbuf2, m->x.nreal);
    run(m, &w, m->csqrt, w.s.rbuf2, out);
    end(m, &w);
    return BERG_OK;
}
