/* The heat semigroup e^{t Delta_g} by spectral multiplication (seed eq 16, 22, 32-36). */
#include <math.h>
#include <string.h>

#include "berg/propagator.h"
#include "propagator/transform.h"

struct berg_heat {
    berg__xform x;
    int separable;                 /* g^{-1} diagonal: per-axis factor tables */
    double *qaxis[BERG_MAX_RANK];  /* separable: g^{aa} k_a^2 per spectral index */
    double *faxis[BERG_MAX_RANK];  /* separable: e^{-t qaxis} * axis_norm for cached_t */
    double *qfull;                 /* coupled: q(k) per mode */
    double *efull;                 /* coupled: e^{-t q} * norm for cached_t */
    double cached_t;
    int cache_valid;
};

#define KNOWN_FLAGS (BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD)

void berg_heat_destroy(berg_heat *heat)
{
    if (heat == NULL)
        return;
    berg__xform_free(&heat->x);
    for (int a = 0; a < BERG_MAX_RANK; a++) {
        berg__free(heat->qaxis[a]);
        berg__free(heat->faxis[a]);
    }
    berg__free(heat->qfull);
    berg__free(heat->efull);
    berg__free(heat);
}

berg_status berg_heat_create_ex(berg_heat **out, const berg_space *space, size_t batch,
                                int nthreads, unsigned flags)
{
    static const char fn[] = "berg_heat_create";
    if (out == NULL)
        return berg__error(BERG_ERR_NULL, "%s: out is NULL", fn);
    if (space == NULL)
        return berg__error(BERG_ERR_NULL, "%s: space is NULL", fn);
    if (batch == 0)
        return berg__error(BERG_ERR_SIZE, "%s: batch is 0 (need at least one array)", fn);
    if (nthreads < 1)
        return berg__error(BERG_ERR_DOMAIN, "%s: nthreads = %d must be at least 1", fn, nthreads);
    if (flags & ~KNOWN_FLAGS)
        return berg__error(BERG_ERR_DOMAIN, "%s: unknown flag bits 0x%x", fn, flags & ~KNOWN_FLAGS);

    berg_heat *h = berg__alloc(1, sizeof *h, fn);
    if (h == NULL)
        return berg_last_status();
    memset(h, 0, sizeof *h);
    int d = space->ndim;
    h->separable = space->diagonal;
    /* a separable symbol is even in every k_a: mixed spaces may use one r2r plan */
    unsigned xf = ((flags & BERG_PLAN_ESTIMATE) ? BERG__XF_ESTIMATE : 0u) |
                  (h->separable ? BERG__XF_EVEN : 0u) | BERG__XF_SPEC2;
    berg_status st = berg__xform_init(&h->x, space, batch, nthreads, xf, fn);
    if (st != BERG_OK) {
        berg__free(h);
        return st;
    }
    if (h->separable) {
        for (int a = 0; a < d; a++) {
            size_t m = h->x.sshape[a];
            h->qaxis[a] = berg__alloc(m, sizeof(double), fn);
            h->faxis[a] = berg__alloc(m, sizeof(double), fn);
            if (!h->qaxis[a] || !h->faxis[a]) {
                berg_heat_destroy(h);
                return BERG_ERR_NOMEM;
            }
            berg__xform_axis_quad(&h->x, a, (flags & BERG_SYMBOL_FD) != 0, h->qaxis[a]);
        }
    } else {
        h->qfull = berg__alloc(h->x.nspec, sizeof(double), fn);
        h->efull = berg__alloc(h->x.nspec, sizeof(double), fn);
        if (!h->qfull || !h->efull) {
            berg_heat_destroy(h);
            return BERG_ERR_NOMEM;
        }
        berg__xform_quad_table(&h->x, (flags & BERG_SYMBOL_FD) != 0, h->qfull);
    }
    *out = h;
    return BERG_OK;
}

berg_status berg_heat_create(berg_heat **out, const berg_space *space, unsigned flags)
{
    return berg_heat_create_ex(out, space, 1, 1, flags);
}

size_t berg_heat_batch(const berg_heat *heat) { return heat ? heat->x.batch : 0; }

/* the factor tables for time t (cached for the last t) */
static void set_time(berg_heat *h, double t)
{
    if (h->cache_valid && h->cached_t == t)
        return;
    if (h->separable) {
        for (int a = 0; a < h->x.space.ndim; a++) {
            const double *q = h->qaxis[a];
            double *f = h->faxis[a], an = h->x.axis_norm[a];
            for (size_t i = 0; i < h->x.sshape[a]; i++)
                f[i] = exp(-t * q[i]) * an;
        }
    } else {
        double nm = h->x.norm;
        for (size_t i = 0; i < h->x.nspec; i++)
            h->efull[i] = exp(-t * h->qfull[i]) * nm;
    }
    h->cached_t = t;
    h->cache_valid = 1;
}

static void multiply(berg_heat *h, const double *src, double *dst)
{
    if (h->separable)
        berg__xform_mul_separable(&h->x, h->faxis, src, dst);
    else
        berg__xform_mul_table(&h->x, h->efull, src, dst);
}

static berg_status apply_common(berg_heat *heat, double t, const double *in, double *out,
                                const char *fn)
{
    berg_status st;
    if ((st = berg__check_time(t, fn, "t")) != BERG_OK)
        return st;
    if (in == NULL)
        return berg__error(BERG_ERR_NULL, "%s: in is NULL", fn);
    if (out == NULL)
        return berg__error(BERG_ERR_NULL, "%s: out is NULL", fn);
    berg__xform *x = &heat->x;
    if (t == 0.0) {
        if (in != out)
            memmove(out, in, x->batch * x->nreal * sizeof(double));
        return BERG_OK;
    }
    unsigned fp = berg__ftz_enter();
    set_time(heat, t);
    berg__xform_forward(x, in);
    multiply(heat, x->spec, x->spec);
    berg__xform_inverse(x, x->spec, out);
    berg__ftz_leave(fp);
    return BERG_OK;
}

berg_status berg_heat_apply(berg_heat *heat, double t, const double *in, double *out)
{
    static const char fn[] = "berg_heat_apply";
    if (heat == NULL)
        return berg__error(BERG_ERR_NULL, "%s: heat is NULL", fn);
    if (heat->x.batch != 1)
        return berg__error(BERG_ERR_MISMATCH,
                           "%s: heat was created for batches of %zu arrays; use "
                           "berg_heat_apply_batch",
                           fn, heat->x.batch);
    return apply_common(heat, t, in, out, fn);
}

berg_status berg_heat_apply_batch(berg_heat *heat, double t, size_t count, const double *in,
                                  double *out)
{
    static const char fn[] = "berg_heat_apply_batch";
    if (heat == NULL)
        return berg__error(BERG_ERR_NULL, "%s: heat is NULL", fn);
    if (count == 0)
        return berg__error(BERG_ERR_SIZE, "%s: count is 0 (need at least one array)", fn);
    if (count != heat->x.batch)
        return berg__error(BERG_ERR_MISMATCH,
                           "%s: count = %zu but heat was created for batches of %zu", fn, count,
                           heat->x.batch);
    return apply_common(heat, t, in, out, fn);
}

berg_status berg_heat_apply_times(berg_heat *heat, size_t nt, const double *t, const double *in,
                                  double *out)
{
    static const char fn[] = "berg_heat_apply_times";
    if (heat == NULL)
        return berg__error(BERG_ERR_NULL, "%s: heat is NULL", fn);
    if (nt == 0)
        return berg__error(BERG_ERR_SIZE, "%s: nt is 0 (need at least one time)", fn);
    if (t == NULL)
        return berg__error(BERG_ERR_NULL, "%s: t is NULL", fn);
    for (size_t j = 0; j < nt; j++)
        if (!isfinite(t[j]) || t[j] < 0.0)
            return berg__error(BERG_ERR_TIME, "%s: t[%zu] = %g must be finite and >= 0", fn, j,
                               t[j]);
    if (in == NULL)
        return berg__error(BERG_ERR_NULL, "%s: in is NULL", fn);
    if (out == NULL)
        return berg__error(BERG_ERR_NULL, "%s: out is NULL", fn);
    berg__xform *x = &heat->x;
    size_t block = x->batch * x->nreal, total;
    if (berg__mul_size(nt, block, &total, fn, "nt * block size") != BERG_OK)
        return berg_last_status();
    (void)total;
    /* zero times are exact copies, made before anything overwrites in */
    int any_positive = 0;
    for (size_t j = 0; j < nt; j++) {
        if (t[j] == 0.0) {
            if (out + j * block != in)
                memmove(out + j * block, in, block * sizeof(double));
        } else {
            any_positive = 1;
        }
    }
    if (!any_positive)
        return BERG_OK;
    unsigned fp = berg__ftz_enter();
    berg__xform_forward(x, in);
    for (size_t j = 0; j < nt; j++) {
        if (t[j] == 0.0)
            continue;
        set_time(heat, t[j]);
        multiply(heat, x->spec, x->spec2);
        berg__xform_inverse(x, x->spec2, out + j * block);
    }
    berg__ftz_leave(fp);
    return BERG_OK;
}
