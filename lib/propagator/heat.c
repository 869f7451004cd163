/* The heat semigroup e^{t Delta_g} by spectral multiplication (seed eq 16, 22, 32-36).
 *
 * The handle is immutable after creation: the plans, the symbol tables
 * q(k) and the transform's mode tables. Every apply takes one scratch block
 * from the handle's pool: the transform's buffers and the factor tables
 * e^{-t q} of the block's last time t. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "berg/heat.h"
#include "propagator/heat_internal.h"

#define ALLOWED_FLAGS (BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD | BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL)

void berg_heat_destroy(berg_heat *heat)
{
    if (heat == NULL)
        return;
    berg__xform_free(&heat->x);
    berg__hdir_free(&heat->direct);
    for (int a = 0; a < BERG_MAX_RANK; a++)
        berg__free(heat->qaxis[a]);
    berg__free(heat->qfull);
    berg__pool_free(&heat->pool);
    berg__free(heat);
}

/* every symbol value finite: on cells so small that 1/h^2 (times g^{aa})
 * overflows, the highest modes' |k|^2_g is inf (and with a coupled metric
 * inf - inf is NaN): refuse at creation rather than give NaN later */
static berg_status check_tables(const berg_heat *h, const char *fn)
{
    const berg__xform *x = &h->x;
    const int d = x->space.ndim;
    for (int a = 0; a < d; a++) {
        size_t m = x->sshape[a];
        double qa = NAN;
        if (h->separable) {
            qa = 0.0;
            for (size_t i = 0; i < m; i++)
                qa = isfinite(h->qaxis[a][i]) ? fmax(qa, h->qaxis[a][i]) : h->qaxis[a][i];
        }
        double ha = x->space.h[a];
        BERG_REQUIRE(!h->separable || isfinite(qa), BERG_ERR_DOMAIN,
                     "%s: the heat symbol g^{aa} k^2 of axis %d overflows (cell width %g, "
                     "1/h^2 = %g, g^{aa} = %g)",
                     fn, a, ha, 1.0 / (ha * ha), x->space.ginv[a * d + a]);
    }
    if (!h->separable)
        for (size_t i = 0; i < x->nspec; i++)
            BERG_REQUIRE(isfinite(h->qfull[i]), BERG_ERR_DOMAIN,
                         "%s: the heat symbol k . g^{-1} k overflows at spectral mode %zu "
                         "(1/h^2 times the inverse metric is beyond DBL_MAX)",
                         fn, i);
    return BERG_OK;
}

/* the symbol tables q(k) (per axis when g^{-1} is diagonal) and the layout
 * of a scratch block */
static berg_status make_tables(berg_heat *h, int fd, const char *fn)
{
    size_t off = BERG__HEAD_DOUBLES + berg__xform_scratch_doubles(&h->x, 2);
    if (h->separable) {
        for (int a = 0; a < h->x.space.ndim; a++) {
            size_t m = h->x.sshape[a];
            h->qaxis[a] = berg__alloc(m, sizeof(double), fn);
            if (!h->qaxis[a])
                return berg_last_status();
            berg__xform_axis_quad(&h->x, a, fd, h->qaxis[a]);
            h->fac_off[a] = off;
            off += berg__xround(m);
        }
    } else {
        h->qfull = berg__alloc(h->x.nspec, sizeof(double), fn);
        if (!h->qfull)
            return berg_last_status();
        berg__xform_quad_table(&h->x, fd, h->qfull);
        h->fac_off[0] = off;
        off += berg__xround(h->x.nspec);
    }
    h->kern_off = off;
    if (h->separable)
        off += berg__xround(BERG__HDIR_KERNEL_DOUBLES);
    h->block_doubles = off;
    return check_tables(h, fn);
}

berg_status berg__heat_create(berg_heat **out, const berg_space *space, size_t batch,
                              size_t nthreads, unsigned flags, const char *fn)
{
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_ptr(space, fn, "space"));
    BERG_REQUIRE(batch > 0, BERG_ERR_SIZE, "%s: batch is 0 (need at least one array)", fn);
    BERG_REQUIRE(nthreads >= 1 && nthreads <= INT_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads = %zu must be at least 1 and at most INT_MAX", fn, nthreads);
    BERG_TRY(berg__check_flags(flags, ALLOWED_FLAGS, fn));
    BERG_REQUIRE((flags & (BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL)) !=
                     (BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL),
                 BERG_ERR_DOMAIN,
                 "%s: flags BERG_HEAT_DIRECT and BERG_HEAT_SPECTRAL exclude each other", fn);

    berg_heat *h = berg__alloc(1, sizeof *h, fn);
    if (h == NULL)
        return berg_last_status();
    memset(h, 0, sizeof *h);
    h->separable = space->diagonal;
    h->flags = flags;
    h->force = (flags & BERG_HEAT_DIRECT) ? 1 : (flags & BERG_HEAT_SPECTRAL) ? -1 : 0;
    /* a separable symbol is even in every k_a: mixed spaces may use one r2r plan */
    unsigned xf = ((flags & BERG_PLAN_ESTIMATE) ? BERG__XF_ESTIMATE : 0u) |
                  (h->separable ? BERG__XF_EVEN : 0u) | BERG__XF_NOBUFS;
    berg_status st;
    BERG_TRY_GOTO(st, berg__xform_init(&h->x, space, batch, nthreads, xf, fn), fail);
    BERG_TRY_GOTO(st, make_tables(h, (flags & BERG_SYMBOL_FD) != 0, fn), fail);
    BERG_TRY_GOTO(st,
                  berg__hdir_init(&h->direct, space, batch, (flags & BERG_SYMBOL_FD) != 0,
                                  nthreads, fn),
                  fail);
    if (h->separable) {
        h->panel_off = h->block_doubles;
        h->block_doubles += berg__xround(berg__hdir_panel_doubles(&h->direct));
    }
    BERG_TRY_GOTO(st, berg__pool_init(&h->pool, h->block_doubles, sizeof(double), fn), fail);
    *out = h;
    return BERG_OK;
fail:
    berg_heat_destroy(h);
    return st;
}

berg_status berg_heat_create_ex(berg_heat **out, const berg_space *space, size_t batch,
                                size_t nthreads, unsigned flags)
{
    static const char fn[] = "berg_heat_create_ex";
    return berg__heat_create(out, space, batch, nthreads, flags, fn);
}

berg_status berg_heat_create(berg_heat **out, const berg_space *space, unsigned flags)
{
    static const char fn[] = "berg_heat_create";
    return berg__heat_create(out, space, 1, 1, flags, fn);
}

size_t berg_heat_batch(const berg_heat *heat) { return heat ? heat->x.batch : 0; }

/* ---- per-call workspace ---------------------------------------------------- */

berg_status berg__heat_begin(const berg_heat *h, berg__heat_work *w, const char *fn)
{
    w->block = berg__pool_get((berg__pool *)(uintptr_t)&h->pool, fn);
    if (w->block == NULL)
        return berg_last_status();
    berg__xform_scratch_carve(&h->x, w->block + BERG__HEAD_DOUBLES, 2, &w->s);
    if (h->separable) {
        for (int a = 0; a < h->x.space.ndim; a++)
            w->faxis[a] = w->block + h->fac_off[a];
        w->efull = NULL;
        w->kern = (berg__hdir_kernel *)(void *)(w->block + h->kern_off);
        w->panels = w->block + h->panel_off;
    } else {
        w->efull = w->block + h->fac_off[0];
        w->kern = NULL;
        w->panels = NULL;
    }
    return BERG_OK;
}

void berg__heat_end(const berg_heat *h, berg__heat_work *w)
{
    berg__pool_put((berg__pool *)(uintptr_t)&h->pool, w->block);
    w->block = NULL;
}

/* the factor tables of the block for time t (kept for the block's last t) */
static void set_time(const berg_heat *h, berg__heat_work *w, double t)
{
    if (berg__head_holds(w->block, t))
        return;
    if (h->separable) {
        for (int a = 0; a < h->x.space.ndim; a++) {
            const double *q = h->qaxis[a];
            double *f = w->faxis[a], an = h->x.axis_norm[a];
            for (size_t i = 0; i < h->x.sshape[a]; i++)
                f[i] = exp(-t * q[i]) * an;
        }
        if (h->force >= 0)
            berg__hdir_kernels(&h->direct, t, w->kern);
        else
            w->kern->compact = 0;
    } else {
        double nm = h->x.norm;
        for (size_t i = 0; i < h->x.nspec; i++)
            w->efull[i] = exp(-t * h->qfull[i]) * nm;
    }
    berg__head_set(w->block, t);
}

static void multiply(const berg_heat *h, const berg__heat_work *w, const double *src, double *dst)
{
    if (h->separable)
        berg__xform_mul_separable_mt(&h->x, w->faxis, src, dst, h->x.nthreads);
    else
        berg__xform_mul_table_mt(&h->x, w->efull, src, dst, h->x.nthreads);
}

/* the spectral step the crossover is measured against: one apply on the
 * scratch of another block (its content is finite; the result is dropped) */
typedef struct {
    const berg_heat *h;
    double t;
} probe_ctx;

static void spectral_run(const berg_heat *h, berg__heat_work *w, const double *in, double *out);

static berg_status spectral_probe(void *v, const char *fn)
{
    const probe_ctx *p = v;
    berg__heat_work w;
    BERG_TRY(berg__heat_begin(p->h, &w, fn));
    set_time(p->h, &w, p->t);
    unsigned fp = berg__ftz_enter();
    spectral_run(p->h, &w, w.s.rbuf2, w.s.rbuf2);
    berg__ftz_leave(fp);
    berg__heat_end(p->h, &w);
    return BERG_OK;
}

/* the tables of t are set: whether the direct path runs it (measuring the
 * crossover on first need; a failed measurement means the spectral path) */
static int direct_for(const berg_heat *h, const berg__heat_work *w, double t)
{
    if (!h->separable || w->kern == NULL || !w->kern->compact)
        return 0;
    probe_ctx p = {h, t};
    int use = 0;
    if (berg__hdir_choose(&h->direct, w->kern, h->force, spectral_probe, &p, &use,
                          "berg_heat_apply") != BERG_OK)
        return 0;
    return use;
}

int berg__heat_uses_direct(const berg_heat *h, berg__heat_work *w, double t)
{
    if (t == 0.0)
        return 0;
    set_time(h, w, t);
    return direct_for(h, w, t);
}

/* out = T^{-1} e^{-t q} T in with the block's tables (flush-to-zero set) */
static void spectral_run(const berg_heat *h, berg__heat_work *w, const double *in, double *out)
{
    const berg__xform *x = &h->x;
    berg__xform_forward_s(x, &w->s, in, w->s.spec);
    multiply(h, w, w->s.spec, w->s.spec);
    berg__xform_inverse_s(x, &w->s, w->s.spec, out);
}

void berg__heat_run(const berg_heat *h, berg__heat_work *w, double t, const double *in,
                    double *out)
{
    const berg__xform *x = &h->x;
    if (t == 0.0) {
        if (in != out)
            memmove(out, in, x->batch * x->nreal * sizeof(double));
        return;
    }
    /* the factor tables outside flush-to-zero: a subnormal t is not 0 */
    set_time(h, w, t);
    if (direct_for(h, w, t)) {
        /* spec holds at least batch * nreal doubles and is neither in nor out */
        unsigned fp = berg__ftz_enter();
        berg__hdir_run(&h->direct, w->kern, in, out, w->s.spec, w->panels);
        berg__ftz_leave(fp);
        return;
    }
    unsigned fp = berg__ftz_enter();
    berg__xform_forward_s(x, &w->s, in, w->s.spec);
    multiply(h, w, w->s.spec, w->s.spec);
    berg__xform_inverse_s(x, &w->s, w->s.spec, out);
    berg__ftz_leave(fp);
}

/* ---- apply ------------------------------------------------------------------ */

/* the power of two the transforms run an input of finite sum of
 * magnitudes sum at (see input_scale) */
static double sum_scale(double sum, int ndim)
{
    /* log2 of the bound, rounded up */
    int e = sum > 0.0 ? ilogb(sum) + 1 + ndim + 1 : 0;
    double scale = e >= 1000 ? ldexp(1.0, 999 - e) : 1.0;
    /* an input whose sum is below 2^-500 runs scaled up (by at most 2^1000):
     * the transforms run with flush-to-zero, which would turn an input of
     * subnormal values into 0 (a mass lost with success on wide boxes,
     * fuzz_heat); the result is scaled back outside flush-to-zero */
    if (sum > 0.0 && ilogb(sum) < -500) {
        int up = -ilogb(sum);
        scale = ldexp(1.0, up < 1000 ? up : 1000);
    }
    return scale;
}

/* in (n values) is finite, and *scale is the power of two the transforms
 * must run at: the forward and inverse sums of a transform reach at most
 * 2^(d+1) sum |in|, which must stay below 2^1000; 1 for every input whose
 * sums cannot overflow (all but values near DBL_MAX / n). One summing
 * pass: a NaN or infinity makes the sum NaN or inf (then the slow checks
 * name the index or find the largest value). */
static berg_status input_scale(const berg__xform *x, const double *in, const char *fn,
                               const char *name, double *scale)
{
    const size_t n = x->batch * x->nreal;
    double sum = berg__abs_sum_mt(in, n, x->nthreads);
    if (!isfinite(sum)) {
        BERG_TRY(berg__check_finite(in, n, fn, name));
        double m = 0.0; /* all finite: the sum overflowed, bound it by n max */
        for (size_t i = 0; i < n; i++)
            m = fmax(m, fabs(in[i]));
        int e = ilogb(m) + ilogb((double)n) + 2 + x->space.ndim + 1;
        *scale = ldexp(1.0, 999 - e);
        return BERG_OK;
    }
    *scale = sum_scale(sum, x->space.ndim);
    return BERG_OK;
}

int berg__heat_scan_takes(double sum, const void *heat)
{
    const berg_heat *h = heat;
    /* the first job's sum is input_scale's in another order (and without
     * subnormal values, under flush-to-zero): within a relative n 2^-52 of
     * a true sum that is at least as large. Scale 1 at both ends of that
     * interval means scale 1 for input_scale's sum (the values of scale 1
     * are an interval). 0, possibly an input of subnormal values, is not
     * taken. */
    const double n = (double)(h->x.batch * h->x.nreal), rel = n * 0x1p-52;
    return isfinite(sum) && sum > 0.0 && sum_scale(sum * (1.0 - rel), h->x.space.ndim) == 1.0 &&
           sum_scale(sum * (1.0 + rel), h->x.space.ndim) == 1.0;
}

/* w's rbuf2 = e^{t Delta} (scale in) / scale, refused (nothing written
 * to out) when it overflows; then out = rbuf2. in may equal out. */
static berg_status run_scaled(const berg_heat *h, berg__heat_work *w, double t, double scale,
                              const double *in, double *out, const char *fn)
{
    size_t n = h->x.batch * h->x.nreal;
    double *buf = w->s.rbuf2, m = 0.0;
    for (size_t i = 0; i < n; i++)
        buf[i] = in[i] * scale;
    berg__heat_run(h, w, t, buf, buf);
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(buf[i]));
    BERG_REQUIRE(m <= DBL_MAX * scale, BERG_ERR_DOMAIN,
                 "%s: the result at t = %g has values beyond DBL_MAX (in is within a factor "
                 "%g of DBL_MAX)",
                 fn, t, 1.0 / scale);
    for (size_t i = 0; i < n; i++)
        out[i] = buf[i] / scale;
    return BERG_OK;
}

/* The direct path with the input's check made by its first job (3-D and
 * up: that job writes scratch, not out), saving input_scale's pass over
 * the input: 1 when it ran; 0 (nothing written to out) when the direct
 * path does not run t or the input is not one that input_scale would take
 * unscaled (berg__heat_scan_takes), and the regular path decides. */
static int direct_scanned(const berg_heat *h, double t, const double *in, double *out,
                          const char *fn)
{
    if (!h->separable || t <= 0.0 || !berg__hdir_scans(&h->direct))
        return 0;
    berg__heat_work w;
    if (berg__heat_begin(h, &w, fn) != BERG_OK)
        return 0;
    set_time(h, &w, t);
    int done = 0;
    if (direct_for(h, &w, t)) {
        unsigned fp = berg__ftz_enter();
        done = berg__hdir_run_scanned(&h->direct, w.kern, in, out, w.s.spec, w.panels,
                                      berg__heat_scan_takes, h);
        berg__ftz_leave(fp);
    }
    berg__heat_end(h, &w);
    return done;
}

static berg_status apply_common(const berg_heat *heat, double t, const double *in, double *out,
                                const char *fn)
{
    BERG_TRY(berg__check_time(t, fn, "t"));
    BERG_TRY(berg__check_ptr(in, fn, "in"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    if (direct_scanned(heat, t, in, out, fn))
        return BERG_OK;
    double scale;
    BERG_TRY(input_scale(&heat->x, in, fn, "in", &scale));
    if (t == 0.0) { /* an exact copy (a scaled one would flush subnormals) */
        if (in != out)
            memmove(out, in, heat->x.batch * heat->x.nreal * sizeof(double));
        return BERG_OK;
    }
    berg__heat_work w;
    BERG_TRY(berg__heat_begin(heat, &w, fn));
    berg_status st = BERG_OK;
    if (scale == 1.0)
        berg__heat_run(heat, &w, t, in, out);
    else
        st = run_scaled(heat, &w, t, scale, in, out, fn);
    berg__heat_end(heat, &w);
    return st;
}

berg_status berg_heat_apply(const berg_heat *heat, double t, const double *in, double *out)
{
    static const char fn[] = "berg_heat_apply";
    BERG_TRY(berg__check_ptr(heat, fn, "heat"));
    BERG_REQUIRE(heat->x.batch == 1, BERG_ERR_MISMATCH,
                 "%s: heat was created for batches of %zu arrays; use berg_heat_apply_batch", fn,
                 heat->x.batch);
    return apply_common(heat, t, in, out, fn);
}

berg_status berg_heat_apply_batch(const berg_heat *heat, double t, size_t count, const double *in,
                                  double *out)
{
    static const char fn[] = "berg_heat_apply_batch";
    BERG_TRY(berg__check_ptr(heat, fn, "heat"));
    BERG_REQUIRE(count > 0, BERG_ERR_SIZE, "%s: count is 0 (need at least one array)", fn);
    BERG_REQUIRE(count == heat->x.batch, BERG_ERR_MISMATCH,
                 "%s: count = %zu but heat was created for batches of %zu", fn, count,
                 heat->x.batch);
    return apply_common(heat, t, in, out, fn);
}

static berg_status check_times(size_t nt, const double *t, const char *fn)
{
    BERG_TRY(berg__check_ptr(t, fn, "t"));
    for (size_t j = 0; j < nt; j++)
        BERG_REQUIRE(isfinite(t[j]) && t[j] >= 0.0, BERG_ERR_TIME,
                     "%s: t[%zu] = %g must be finite and >= 0", fn, j, t[j]);
    return BERG_OK;
}

/* dst = e^{t Delta} of the spectrum in w's spec (kept), through spec2; the
 * factor tables are made outside flush-to-zero (a subnormal t is not 0) */
static void time_block(const berg_heat *h, berg__heat_work *w, double t, double *dst)
{
    set_time(h, w, t);
    unsigned fp = berg__ftz_enter();
    multiply(h, w, w->s.spec, w->s.spec2);
    berg__xform_inverse_s(&h->x, &w->s, w->s.spec2, dst);
    berg__ftz_leave(fp);
}

/* dst = e^{t Delta} of the input: by the direct path from src (the input,
 * when some time takes it) or from the spectrum in w's spec */
static void time_or_direct(const berg_heat *h, berg__heat_work *w, double t, const double *src,
                           double *dst)
{
    if (src != NULL && berg__heat_uses_direct(h, w, t)) {
        unsigned fp = berg__ftz_enter();
        berg__hdir_run(&h->direct, w->kern, src, dst, w->s.spec2, w->panels);
        berg__ftz_leave(fp);
        return;
    }
    time_block(h, w, t, dst);
}

/* the zero times are exact copies of in, made before anything overwrites in */
static void copy_zero_times(size_t nt, const double *t, size_t block, const double *in,
                            double *out)
{
    for (size_t j = 0; j < nt; j++)
        if (t[j] == 0.0 && out + j * block != in)
            memmove(out + j * block, in, block * sizeof(double));
}

/* the positive times of an input scaled by `scale`: a first pass checks that
 * no result overflows (nothing is written before), a second writes them */
static berg_status times_scaled(const berg_heat *h, berg__heat_work *w, size_t nt,
                                const double *t, double scale, const double *in, double *out,
                                const char *fn)
{
    size_t block = h->x.batch * h->x.nreal;
    double *buf = w->s.rbuf2, *scaled = NULL;
    /* the direct times read the scaled input, kept in its own buffer */
    for (size_t j = 0; j < nt && scaled == NULL; j++)
        if (t[j] != 0.0 && berg__heat_uses_direct(h, w, t[j])) {
            scaled = berg__alloc(block, sizeof(double), fn);
            if (scaled == NULL)
                return berg_last_status();
            for (size_t i = 0; i < block; i++)
                scaled[i] = in[i] * scale;
        }
    for (size_t i = 0; i < block; i++)
        buf[i] = in[i] * scale;
    unsigned fp = berg__ftz_enter();
    berg__xform_forward_s(&h->x, &w->s, buf, w->s.spec);
    berg__ftz_leave(fp);
    for (size_t j = 0; j < nt; j++) {
        if (t[j] == 0.0)
            continue;
        time_or_direct(h, w, t[j], scaled, buf);
        double m = 0.0;
        for (size_t i = 0; i < block; i++)
            m = fmax(m, fabs(buf[i]));
        if (!(m <= DBL_MAX * scale)) {
            berg__free(scaled);
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: the result at t[%zu] = %g has values beyond DBL_MAX (in is "
                               "within a factor %g of DBL_MAX)",
                               fn, j, t[j], 1.0 / scale);
        }
    }
    copy_zero_times(nt, t, block, in, out);
    for (size_t j = 0; j < nt; j++) {
        if (t[j] == 0.0)
            continue;
        time_or_direct(h, w, t[j], scaled, buf);
        for (size_t i = 0; i < block; i++)
            out[j * block + i] = buf[i] / scale;
    }
    berg__free(scaled);
    return BERG_OK;
}

berg_status berg_heat_apply_times(const berg_heat *heat, size_t nt, const double *t,
                                  const double *in, double *out)
{
    static const char fn[] = "berg_heat_apply_times";
    BERG_TRY(berg__check_ptr(heat, fn, "heat"));
    const berg__xform *x = &heat->x;
    size_t block = x->batch * x->nreal, total;
    /* every count before the first element of t is read */
    BERG_REQUIRE(nt > 0, BERG_ERR_SIZE, "%s: nt is 0 (need at least one time)", fn);
    BERG_TRY(berg__mul_size(nt, block, &total, fn, "nt * block size"));
    BERG_REQUIRE(total <= (size_t)PTRDIFF_MAX / sizeof(double), BERG_ERR_SIZE,
                 "%s: out would hold nt * block = %zu doubles, beyond the address space", fn,
                 total);
    BERG_TRY(check_times(nt, t, fn));
    BERG_TRY(berg__check_ptr(in, fn, "in"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    double scale;
    BERG_TRY(input_scale(x, in, fn, "in", &scale));
    int any_positive = 0;
    for (size_t j = 0; j < nt; j++)
        any_positive |= t[j] != 0.0;
    if (!any_positive) {
        copy_zero_times(nt, t, block, in, out);
        return BERG_OK;
    }
    berg__heat_work w;
    BERG_TRY(berg__heat_begin(heat, &w, fn));
    berg_status st = BERG_OK;
    if (scale != 1.0) {
        st = times_scaled(heat, &w, nt, t, scale, in, out, fn);
    } else {
        copy_zero_times(nt, t, block, in, out);
        /* block 0 (which may be in) last; the spectrum once, when a time
         * takes the spectral path */
        int have_spec = 0;
        for (size_t jj = 0; jj < nt; jj++) {
            size_t j = (jj + 1) % nt;
            if (t[j] == 0.0)
                continue;
            if (!berg__heat_uses_direct(heat, &w, t[j]) && !have_spec) {
                unsigned fp = berg__ftz_enter();
                berg__xform_forward_s(x, &w.s, in, w.s.spec);
                berg__ftz_leave(fp);
                have_spec = 1;
            }
            time_or_direct(heat, &w, t[j], in, out + j * block);
        }
    }
    berg__heat_end(heat, &w);
    return st;
}
