/*
 * Wegner-Morris schemes (seed eq 9-11): the family C_Lambda(k) of
 * regulated two-point functions on the modes of a periodic lattice, its
 * scale derivative Cdot = -dC/d ln Lambda, the Gaussian seed action
 * S^ = 1/2 phi.C^{-1}.phi and the closed-form flow of Gaussian mode
 * variances. Signs: docs/conventions.md, "Scale-dependent schemes".
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "erg/erg_internal.h"

#define ALLOWED_FLAGS (BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD)

void berg_scheme_destroy(berg_scheme *s)
{
    if (s == NULL)
        return;
    berg__xform_free(&s->x);
    berg__free(s->xp);
    berg__free(s->fp);
    berg__free(s->dp);
    berg__free(s->knorm);
    berg__free(s->kvec);
    berg__free(s->hkind);
    berg__free(s->mirror);
    berg__free(s->mult);
    berg__free(s->special);
    berg__pool_free(&s->pool);
    berg__free(s);
}

/* ---- the families ----------------------------------------------------- */

/* R and Lambda dR/dLambda of a built-in regulator at |k| = k */
static void builtin_r(berg_regulator kind, double L, double k, double *r, double *rdot)
{
    double x = k / L, z = x * x;
    switch (kind) {
    case BERG_REGULATOR_SHARP:
        *r = k <= L ? 1.0 : 0.0;
        *rdot = 0.0; /* a delta shell: never used */
        return;
    case BERG_REGULATOR_EXPONENTIAL:
        *r = exp(-z);
        *rdot = z > 1e3 ? 0.0 : 2.0 * z * exp(-z);
        return;
    case BERG_REGULATOR_LITIM:
        *r = k <= L ? (L - k) * (L + k) : 0.0;
        *rdot = k <= L ? 2.0 * L * L : 0.0;
        return;
    default:
        *r = *rdot = NAN;
        return;
    }
}

/* the PCHIP interpolant f and its derivative at x (constant outside) */
static void pchip_eval(const berg_scheme *s, double x, double *f, double *df)
{
    const double *xp = s->xp, *fp = s->fp, *dp = s->dp;
    size_t n = s->np;
    if (x <= xp[0]) {
        *f = fp[0];
        *df = 0.0;
        return;
    }
    if (x >= xp[n - 1]) {
        *f = fp[n - 1];
        *df = 0.0;
        return;
    }
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (xp[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    double h = xp[hi] - xp[lo], t = (x - xp[lo]) / h, t2 = t * t, t3 = t2 * t;
    double h00 = 2 * t3 - 3 * t2 + 1, h10 = t3 - 2 * t2 + t, h01 = -2 * t3 + 3 * t2,
           h11 = t3 - t2;
    *f = h00 * fp[lo] + h10 * h * dp[lo] + h01 * fp[hi] + h11 * h * dp[hi];
    *df = (6 * t2 - 6 * t) / h * (fp[lo] - fp[hi]) + (3 * t2 - 4 * t + 1) * dp[lo] +
          (3 * t2 - 2 * t) * dp[hi];
    if (*f < 0.0) /* rounding only: the interpolant is monotone between >= 0 knots */
        *f = 0.0;
}

/* scipy's PchipInterpolator slopes (Fritsch-Carlson, three-point ends) */
static void pchip_slopes(size_t n, const double *x, const double *f, double *d)
{
    if (n == 2) {
        d[0] = d[1] = (f[1] - f[0]) / (x[1] - x[0]);
        return;
    }
    for (size_t k = 1; k + 1 < n; k++) {
        double h0 = x[k] - x[k - 1], h1 = x[k + 1] - x[k];
        double m0 = (f[k] - f[k - 1]) / h0, m1 = (f[k + 1] - f[k]) / h1;
        if (m0 == 0.0 || m1 == 0.0 || (m0 > 0.0) != (m1 > 0.0)) {
            d[k] = 0.0;
        } else {
            double w1 = 2 * h1 + h0, w2 = h1 + 2 * h0;
            d[k] = (w1 + w2) / (w1 / m0 + w2 / m1);
        }
    }
    for (int end = 0; end < 2; end++) {
        size_t a = end ? n - 1 : 0, b = end ? n - 2 : 1, c = end ? n - 3 : 2;
        double h0 = fabs(x[b] - x[a]), h1 = fabs(x[c] - x[b]);
        double m0 = (f[b] - f[a]) / (x[b] - x[a]), m1 = (f[c] - f[b]) / (x[c] - x[b]);
        double dd = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
        if ((dd > 0.0) != (m0 > 0.0) || dd == 0.0 || m0 == 0.0)
            dd = 0.0;
        else if ((m0 > 0.0) != (m1 > 0.0) && fabs(dd) > 3 * fabs(m0))
            dd = 3 * m0;
        d[a] = dd;
    }
}

/* C (and Cdot for the analytic families) at |k| = kn */
static void family_c(const berg_scheme *s, double lambda, double kn, double *c, double *cdot)
{
    if (s->family == ERG_BUILTIN) {
        double r, rdot, den = kn * kn + s->mass2;
        builtin_r(s->kind, lambda, kn, &r, &rdot);
        *c = r / den;
        if (cdot)
            *cdot = -rdot / den;
    } else {
        double f, df, x = kn / lambda;
        pchip_eval(s, x, &f, &df);
        *c = f;
        if (cdot)
            *cdot = x * df;
    }
}

static berg_status call_cb(const berg_scheme *s, double lambda, const double *k, double *c,
                           const char *fn)
{
    double v = NAN;
    int rc = s->cb((size_t)s->x.space.ndim, lambda, k, &v, s->ud);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: regulator returned %d at lambda = %g", fn, rc,
                 lambda);
    BERG_REQUIRE(isfinite(v), BERG_ERR_CALLBACK,
                 "%s: regulator returned %g (not finite) at lambda = %g", fn, v, lambda);
    *c = v;
    return BERG_OK;
}

berg_status berg__scheme_c(const berg_scheme *s, double lambda, size_t j, double *c,
                           const char *fn)
{
    if (s->family == ERG_CALLBACK)
        return call_cb(s, lambda, s->kvec + j * (size_t)s->x.space.ndim, c, fn);
    family_c(s, lambda, s->knorm[j], c, NULL);
    return BERG_OK;
}

berg_status berg__scheme_table(const berg_scheme *s, double lambda, double *c, const char *fn)
{
    for (size_t j = 0; j < s->x.nspec; j++) {
        BERG_TRY(berg__scheme_c(s, lambda, j, &c[j], fn));
        BERG_REQUIRE(c[j] >= 0.0 && isfinite(c[j]), BERG_ERR_DOMAIN,
                     "%s: C_Lambda = %g at lambda = %g on the mode |k|_g = %g (must be finite "
                     "and >= 0)",
                     fn, c[j], lambda, s->knorm[j]);
    }
    return BERG_OK;
}

berg_status berg__scheme_check_ensemble(const berg_scheme *s, size_t count, const char *fn)
{
    BERG_REQUIRE(count >= 1, BERG_ERR_SIZE, "%s: count is 0", fn);
    BERG_REQUIRE(count <= 0xffffffffu, BERG_ERR_SIZE, "%s: count = %zu exceeds 2^32 - 1", fn,
                 count);
    size_t total;
    BERG_TRY(berg__mul_size(count, s->x.nreal, &total, fn, "count * size"));
    return berg__check_addressable(total, sizeof(double), fn, "count fields");
}

/* ---- creation ----------------------------------------------------------- */

typedef struct {
    berg_scheme *s;
} mode_ctx;

static int fill_mode(size_t mode, const size_t *idx, const double *k, void *vctx)
{
    berg_scheme *s = ((mode_ctx *)vctx)->s;
    const berg__xform *x = &s->x;
    int d = x->space.ndim;
    double dg[BERG_MAX_RANK], cr[BERG_MAX_RANK];
    for (int a = 0; a < d; a++) {
        berg__axis_symbol(x, a, idx[a], s->fd, &dg[a], &cr[a]);
        double h = x->space.h[a];
        s->kvec[mode * (size_t)d + (size_t)a] = s->fd ? 2.0 * sin(0.5 * k[a] * h) / h : k[a];
    }
    double q = berg__quad_form(&x->space, dg, cr);
    s->knorm[mode] = sqrt(q > 0.0 ? q : 0.0);
    /* Hermitian structure of the r2c layout: entries whose halved index is
     * 0 or the Nyquist index are stored with their mirrors */
    int ha = x->halved_axis;
    size_t nh = x->space.n[ha];
    int in_plane = idx[ha] == 0 || (nh % 2 == 0 && idx[ha] == nh / 2);
    s->mult[mode] = in_plane ? 1.0 : 2.0;
    if (!in_plane) {
        s->hkind[mode] = ERG_GENERIC;
        return 0;
    }
    size_t m = 0;
    int self = 1;
    for (int a = 0; a < d; a++) {
        size_t n = x->space.n[a], i = idx[a], mi = (a == ha) ? i : (n - i) % n;
        self &= mi == i;
        m = m * x->sshape[a] + mi;
    }
    if (self) {
        s->hkind[mode] = ERG_SELF;
    } else if (m < mode) {
        s->hkind[mode] = ERG_MIRROR;
        s->mirror[mode] = m;
    } else {
        s->hkind[mode] = ERG_GENERIC;
    }
    return 0;
}

static berg_status check_space(const berg_space *space, const char *fn)
{
    BERG_TRY(berg__check_ptr(space, fn, "space"));
    for (int a = 0; a < space->ndim; a++)
        BERG_REQUIRE(space->bc[a] == BERG_PERIODIC, BERG_ERR_UNSUPPORTED,
                     "%s: axis %d of space is not periodic; the lattice field flow needs a "
                     "periodic space",
                     fn, a);
    return BERG_OK;
}

/* the common part: plans, mode tables, scratch pool */
static berg_status build(berg_scheme *s, const berg_space *space, unsigned flags, const char *fn)
{
    s->fd = (flags & BERG_SYMBOL_FD) != 0;
    unsigned xf = ((flags & BERG_PLAN_ESTIMATE) ? BERG__XF_ESTIMATE : 0u) | BERG__XF_NOBUFS;
    BERG_TRY(berg__xform_init(&s->x, space, 1, 1, xf, fn));
    size_t ns = s->x.nspec, d = (size_t)space->ndim;
    s->knorm = berg__alloc(ns, sizeof(double), fn);
    s->kvec = berg__alloc(ns * d, sizeof(double), fn);
    s->hkind = berg__alloc(ns, 1, fn);
    s->mirror = berg__alloc(ns, sizeof(size_t), fn);
    s->mult = berg__alloc(ns, sizeof(double), fn);
    if (!s->knorm || !s->kvec || !s->hkind || !s->mirror || !s->mult)
        return berg_last_status();
    memset(s->mirror, 0, ns * sizeof(size_t));
    mode_ctx mc = {s};
    berg__xform_each_mode(&s->x, fill_mode, &mc);
    for (size_t j = 0; j < ns; j++)
        BERG_REQUIRE(isfinite(s->knorm[j]), BERG_ERR_DOMAIN,
                     "%s: |k|_g overflows on this grid (1/h^2 times the inverse metric is "
                     "beyond DBL_MAX)",
                     fn);
    /* a worker's block: the transform's scratch (two spectral arrays), the
     * noise (2 nspec), a real field (gradient), a third spectral array and
     * two more real fields (predictor, score) */
    size_t nsd = berg__xround(s->x.nspec_doubles), nr = berg__xround(s->x.nreal);
    s->off_z = berg__xform_scratch_doubles(&s->x, 2);
    s->off_g = s->off_z + berg__xround(2 * ns);
    s->off_gs = s->off_g + nr;
    s->off_p = s->off_gs + nsd;
    s->off_q = s->off_p + nr;
    s->block_doubles = s->off_q + nr;
    size_t nsp = 0;
    for (size_t j = 0; j < ns; j++)
        nsp += s->hkind[j] != ERG_GENERIC;
    s->special = berg__alloc(nsp ? nsp : 1, sizeof(size_t), fn);
    if (!s->special)
        return berg_last_status();
    for (size_t j = 0; j < ns; j++)
        if (s->hkind[j] != ERG_GENERIC)
            s->special[s->nspecial++] = j;
    return berg__pool_init(&s->pool, s->block_doubles, sizeof(double), fn);
}

static berg_status start(berg_scheme **out, const berg_space *space, unsigned flags,
                         berg_scheme **s, const char *fn)
{
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_space(space, fn));
    BERG_TRY(berg__check_flags(flags, ALLOWED_FLAGS, fn));
    *s = berg__alloc(1, sizeof **s, fn);
    if (*s == NULL)
        return berg_last_status();
    memset(*s, 0, sizeof **s);
    return BERG_OK;
}

berg_status berg_scheme_create_regulator(berg_scheme **out, const berg_space *space,
                                         berg_regulator kind, double mass2, unsigned flags)
{
    static const char fn[] = "berg_scheme_create_regulator";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_space(space, fn));
    BERG_REQUIRE(kind == BERG_REGULATOR_SHARP || kind == BERG_REGULATOR_EXPONENTIAL ||
                     kind == BERG_REGULATOR_LITIM,
                 BERG_ERR_DOMAIN,
                 "%s: kind %d is not SHARP, EXPONENTIAL or LITIM (the _DOT kinds are scale "
                 "derivatives, not families)",
                 fn, (int)kind);
    BERG_REQUIRE(isfinite(mass2) && mass2 > 0.0, BERG_ERR_DOMAIN,
                 "%s: mass2 = %g must be positive and finite", fn, mass2);
    berg_scheme *s;
    BERG_TRY(start(out, space, flags, &s, fn));
    s->family = ERG_BUILTIN;
    s->kind = kind;
    s->mass2 = mass2;
    berg_status st = build(s, space, flags, fn);
    if (st != BERG_OK) {
        berg_scheme_destroy(s);
        return st;
    }
    *out = s;
    return BERG_OK;
}

berg_status berg_scheme_create_radial(berg_scheme **out, const berg_space *space, size_t np,
                                      const double *xp, const double *fp, unsigned flags)
{
    static const char fn[] = "berg_scheme_create_radial";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_space(space, fn));
    BERG_REQUIRE(np >= 2, BERG_ERR_SIZE, "%s: np = %zu, need at least 2 knots", fn, np);
    BERG_TRY(berg__check_addressable(np, sizeof(double), fn, "np knots"));
    BERG_TRY(berg__check_ptr(xp, fn, "xp"));
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(berg__check_finite(xp, np, fn, "xp"));
    BERG_TRY(berg__check_finite(fp, np, fn, "fp"));
    BERG_REQUIRE(xp[0] >= 0.0, BERG_ERR_DOMAIN, "%s: xp[0] = %g is negative", fn, xp[0]);
    for (size_t i = 1; i < np; i++)
        BERG_REQUIRE(xp[i] > xp[i - 1], BERG_ERR_DOMAIN,
                     "%s: knots must increase strictly, but xp[%zu] = %g <= xp[%zu] = %g", fn, i,
                     xp[i], i - 1, xp[i - 1]);
    for (size_t i = 0; i < np; i++)
        BERG_REQUIRE(fp[i] >= 0.0, BERG_ERR_DOMAIN, "%s: fp[%zu] = %g is negative", fn, i,
                     fp[i]);
    /* slopes from secants: refuse knots so close or values so large that a
     * secant overflows */
    for (size_t i = 1; i < np; i++)
        BERG_REQUIRE(isfinite((fp[i] - fp[i - 1]) / (xp[i] - xp[i - 1])), BERG_ERR_DOMAIN,
                     "%s: the secant of fp between knots %zu and %zu overflows", fn, i - 1,
                     i);
    berg_scheme *s;
    BERG_TRY(start(out, space, flags, &s, fn));
    s->family = ERG_RADIAL;
    s->np = np;
    s->xp = berg__alloc(np, sizeof(double), fn);
    s->fp = berg__alloc(np, sizeof(double), fn);
    s->dp = berg__alloc(np, sizeof(double), fn);
    berg_status st;
    if (!s->xp || !s->fp || !s->dp) {
        st = berg_last_status();
        goto fail;
    }
    memcpy(s->xp, xp, np * sizeof(double));
    memcpy(s->fp, fp, np * sizeof(double));
    pchip_slopes(np, xp, fp, s->dp);
    for (size_t i = 0; i < np; i++)
        if (!isfinite(s->dp[i])) {
            st = berg__error(BERG_ERR_DOMAIN, "%s: the slope of fp at knot %zu overflows", fn, i);
            goto fail;
        }
    BERG_TRY_GOTO(st, build(s, space, flags, fn), fail);
    *out = s;
    return BERG_OK;
fail:
    berg_scheme_destroy(s);
    return st;
}

berg_status berg_scheme_create(berg_scheme **out, const berg_space *space, unsigned flags,
                               berg_scheme_regulator_fn regulator, void *user_data)
{
    static const char fn[] = "berg_scheme_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_space(space, fn));
    BERG_TRY(berg__check_flags(flags, ALLOWED_FLAGS, fn));
    BERG_REQUIRE(regulator != NULL, BERG_ERR_NULL, "%s: regulator is NULL", fn);
    double k0[BERG_MAX_RANK] = {0}, c0 = NAN;
    int rc = regulator((size_t)space->ndim, 1.0, k0, &c0, user_data);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: regulator returned %d at lambda = 1, k = 0",
                 fn, rc);
    BERG_REQUIRE(isfinite(c0), BERG_ERR_CALLBACK,
                 "%s: regulator returned %g (not finite) at lambda = 1, k = 0", fn, c0);
    BERG_REQUIRE(c0 >= 0.0, BERG_ERR_DOMAIN,
                 "%s: regulator returned %g < 0 at lambda = 1, k = 0 (C must be >= 0)", fn, c0);
    berg_scheme *s;
    BERG_TRY(start(out, space, flags, &s, fn));
    s->family = ERG_CALLBACK;
    s->cb = regulator;
    s->ud = user_data;
    berg_status st = build(s, space, flags, fn);
    if (st != BERG_OK) {
        berg_scheme_destroy(s);
        return st;
    }
    *out = s;
    return BERG_OK;
}

/* ---- queries -------------------------------------------------------------- */

static berg_status check_lambda(double lambda, const char *fn, const char *name)
{
    BERG_REQUIRE(isfinite(lambda) && lambda > 0.0, BERG_ERR_DOMAIN,
                 "%s: %s = %g must be positive and finite", fn, name, lambda);
    return BERG_OK;
}

/* C (and Cdot) at a caller's wave vector */
static berg_status value_at(const berg_scheme *s, double lambda, const double *k, double *c,
                            double *cdot, const char *fn)
{
    int d = s->x.space.ndim;
    double kk[BERG_MAX_RANK];
    for (int a = 0; a < d; a++) {
        double h = s->x.space.h[a];
        kk[a] = s->fd ? 2.0 * sin(0.5 * k[a] * h) / h : k[a];
    }
    if (s->family != ERG_CALLBACK) {
        /* as on the grid (berg__quad_form): the cross terms of an axis at
         * its Nyquist wave number pi / h are dropped */
        int nyq[BERG_MAX_RANK];
        for (int a = 0; a < d; a++)
            nyq[a] = s->x.space.n[a] % 2 == 0 &&
                     fabs(fabs(k[a]) * s->x.space.h[a] - M_PI) <= 1e-12 * M_PI;
        double q = 0.0;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                if (a == b || (!nyq[a] && !nyq[b]))
                    q += kk[a] * s->x.space.ginv[a * d + b] * kk[b];
        BERG_REQUIRE(isfinite(q), BERG_ERR_DOMAIN, "%s: |k|_g^2 of k overflows", fn);
        family_c(s, lambda, sqrt(q > 0.0 ? q : 0.0), c, cdot);
        return BERG_OK;
    }
    BERG_TRY(call_cb(s, lambda, kk, c, fn));
    if (cdot) {
        /* fourth-order central difference in ln Lambda */
        const double h = 1e-3;
        double cp1 = NAN, cp2 = NAN, cm1 = NAN, cm2 = NAN;
        BERG_TRY(call_cb(s, lambda * exp(h), kk, &cp1, fn));
        BERG_TRY(call_cb(s, lambda * exp(2 * h), kk, &cp2, fn));
        BERG_TRY(call_cb(s, lambda * exp(-h), kk, &cm1, fn));
        BERG_TRY(call_cb(s, lambda * exp(-2 * h), kk, &cm2, fn));
        *cdot = -(-cp2 + 8.0 * cp1 - 8.0 * cm1 + cm2) / (12.0 * h);
        BERG_REQUIRE(isfinite(*cdot), BERG_ERR_DOMAIN,
                     "%s: the difference quotient of C overflows", fn);
    }
    return BERG_OK;
}

berg_status berg_scheme_value(const berg_scheme *scheme, double lambda, const double *k,
                              double *c, double *cdot)
{
    static const char fn[] = "berg_scheme_value";
    BERG_TRY(berg__check_ptr(scheme, fn, "scheme"));
    BERG_TRY(check_lambda(lambda, fn, "lambda"));
    BERG_TRY(berg__check_ptr(k, fn, "k"));
    BERG_TRY(berg__check_finite(k, (size_t)scheme->x.space.ndim, fn, "k"));
    BERG_TRY(berg__check_ptr(c, fn, "c"));
    BERG_REQUIRE(!(cdot && scheme->family == ERG_BUILTIN && scheme->kind == BERG_REGULATOR_SHARP),
                 BERG_ERR_UNSUPPORTED,
                 "%s: cdot of the SHARP family is a delta shell, not a value (pass cdot = NULL)",
                 fn);
    double cv = NAN, cd = 0.0;
    BERG_TRY(value_at(scheme, lambda, k, &cv, cdot ? &cd : NULL, fn));
    *c = cv;
    if (cdot)
        *cdot = cd;
    return BERG_OK;
}

berg_status berg_scheme_mode_variance(const berg_scheme *scheme, double lambda0, double lambda1,
                                      double g0, const double *k, double *g1)
{
    static const char fn[] = "berg_scheme_mode_variance";
    BERG_TRY(berg__check_ptr(scheme, fn, "scheme"));
    BERG_TRY(check_lambda(lambda0, fn, "lambda0"));
    BERG_TRY(check_lambda(lambda1, fn, "lambda1"));
    BERG_REQUIRE(lambda1 <= lambda0, BERG_ERR_DOMAIN,
                 "%s: lambda1 = %g > lambda0 = %g (the flow runs towards the infrared)", fn,
                 lambda1, lambda0);
    BERG_REQUIRE(isfinite(g0) && g0 >= 0.0, BERG_ERR_DOMAIN,
                 "%s: g0 = %g must be finite and >= 0", fn, g0);
    BERG_TRY(berg__check_ptr(k, fn, "k"));
    BERG_TRY(berg__check_finite(k, (size_t)scheme->x.space.ndim, fn, "k"));
    BERG_TRY(berg__check_ptr(g1, fn, "g1"));
    double c0 = NAN, c1 = NAN;
    BERG_TRY(value_at(scheme, lambda0, k, &c0, NULL, fn));
    BERG_TRY(value_at(scheme, lambda1, k, &c1, NULL, fn));
    BERG_REQUIRE(c0 >= 0.0 && c1 >= 0.0, BERG_ERR_DOMAIN, "%s: C is negative (%g, %g)", fn, c0,
                 c1);
    BERG_REQUIRE(c1 <= c0 * (1.0 + 1e-12), BERG_ERR_DOMAIN,
                 "%s: C grows from %g at lambda0 to %g at lambda1", fn, c0, c1);
    double out = 0.0;
    if (c0 > 0.0) {
        double r = fmin(c1 / c0, 1.0);
        out = c1 + (g0 - c0) * r * r;
    }
    BERG_REQUIRE(isfinite(out), BERG_ERR_DOMAIN, "%s: the variance overflows", fn);
    *g1 = out > 0.0 ? out : 0.0;
    return BERG_OK;
}
