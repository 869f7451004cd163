/*
 * lib/dictionary/petz.c - heat and Fokker-Planck channels, their adjoints and
 * the Petz recovery map (seed p.36-37, eq 59).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/propagator.h"
#include "dictionary/internal.h"

struct berg_channel {
    struct berg_space S;
    berg_channel_kind kind;
    double t;
    berg_heat *heat;
    berg_fp *fp;
    double *q;      /* FP stationary state */
    double *work;   /* scratch (size) */
    double *work2;  /* scratch (size) */
};

berg_status berg_channel_create(berg_channel **out, const berg_space *space,
                                berg_channel_kind kind, double t, const double *V)
{
    static const char fn[] = "berg_channel_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)) ||
        (st = berg__check_time(t, fn, "t")))
        return st;
    if (kind != BERG_CHANNEL_HEAT && kind != BERG_CHANNEL_FP)
        return berg__error(BERG_ERR_DOMAIN, "%s: unknown channel kind %d", fn, (int)kind);
    if (kind == BERG_CHANNEL_FP && (st = berg__check_ptr(V, fn, "V")))
        return st;
    if (kind == BERG_CHANNEL_HEAT)
        for (int a = 0; a < space->ndim; a++)
            if (space->bc[a] == BERG_DIRICHLET)
                return berg__error(BERG_ERR_UNSUPPORTED,
                                   "%s: axis %d is Dirichlet: the heat flow leaks mass there and is "
                                   "not a channel",
                                   fn, a);
    berg_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    ch->S = *space;
    ch->kind = kind;
    ch->t = t;
    ch->work = berg__alloc(space->size, sizeof(double), fn);
    ch->work2 = berg__alloc(space->size, sizeof(double), fn);
    if (!ch->work || !ch->work2) {
        st = BERG_ERR_NOMEM;
        goto fail;
    }
    if (kind == BERG_CHANNEL_HEAT) {
        if ((st = berg_heat_create(&ch->heat, space, 0)))
            goto fail;
    } else {
        ch->q = berg__alloc(space->size, sizeof(double), fn);
        if (!ch->q) {
            st = BERG_ERR_NOMEM;
            goto fail;
        }
        if ((st = berg_fp_create(&ch->fp, space, V, 0)) || (st = berg_fp_stationary(ch->fp, ch->q)))
            goto fail;
    }
    *out = ch;
    return BERG_OK;
fail:
    berg_channel_destroy(ch);
    return st;
}

void berg_channel_destroy(berg_channel *ch)
{
    if (!ch)
        return;
    berg_heat_destroy(ch->heat);
    berg_fp_destroy(ch->fp);
    berg__free(ch->q);
    berg__free(ch->work);
    berg__free(ch->work2);
    free(ch);
}

static berg_status forward(berg_channel *ch, const double *in, double *out)
{
    if (ch->kind == BERG_CHANNEL_HEAT)
        return berg_heat_apply(ch->heat, ch->t, in, out);
    return berg_fp_evolve(ch->fp, ch->t, in, out);
}

berg_status berg_channel_apply(berg_channel *ch, const double *in, double *out)
{
    static const char fn[] = "berg_channel_apply";
    berg_status st;
    if ((st = berg__check_ptr(ch, fn, "ch")) || (st = berg__check_ptr(in, fn, "in")) ||
        (st = berg__check_ptr(out, fn, "out")) || (st = berg__check_nonneg(in, ch->S.size, fn, "in")))
        return st;
    return forward(ch, in, out);
}

/* E^dagger f: heat is symmetric; FP: E(q f) / q by detailed balance. out
 * may be f. */
static berg_status adjoint(berg_channel *ch, const double *f, double *out)
{
    if (ch->kind == BERG_CHANNEL_HEAT)
        return berg_heat_apply(ch->heat, ch->t, f, out);
    size_t n = ch->S.size;
    for (size_t i = 0; i < n; i++)
        ch->work2[i] = ch->q[i] * f[i];
    berg_status st = berg_fp_evolve(ch->fp, ch->t, ch->work2, ch->work2);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++)
        out[i] = ch->q[i] > 0.0 ? ch->work2[i] / ch->q[i] : 0.0;
    return BERG_OK;
}

berg_status berg_channel_adjoint(berg_channel *ch, const double *f, double *out)
{
    static const char fn[] = "berg_channel_adjoint";
    berg_status st;
    if ((st = berg__check_ptr(ch, fn, "ch")) || (st = berg__check_ptr(f, fn, "f")) ||
        (st = berg__check_ptr(out, fn, "out")) || (st = berg__check_nonneg(f, ch->S.size, fn, "f")))
        return st;
    return adjoint(ch, f, out);
}

berg_status berg_petz_recover(berg_channel *ch, const double *sigma, const double *rho1,
                              double *out)
{
    static const char fn[] = "berg_petz_recover";
    berg_status st;
    double sum;
    if ((st = berg__check_ptr(ch, fn, "ch")) || (st = berg__check_ptr(sigma, fn, "sigma")) ||
        (st = berg__check_ptr(rho1, fn, "rho1")) || (st = berg__check_ptr(out, fn, "out")) ||
        (st = berg__check_density(sigma, ch->S.size, fn, "sigma", &sum)) ||
        (st = berg__check_nonneg(rho1, ch->S.size, fn, "rho1")))
        return st;
    size_t n = ch->S.size;
    double *Es = ch->work;
    if ((st = forward(ch, sigma, Es)))
        return st;
    for (size_t i = 0; i < n; i++) {
        if (rho1[i] > 0.0 && !(Es[i] > 1e-300))
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: E(sigma) vanishes at cell %zu where rho1 does not: the Petz "
                               "map is undefined there",
                               fn, i);
        Es[i] = rho1[i] > 0.0 ? rho1[i] / Es[i] : 0.0;
    }
    /* E^dagger in place: Es is read before it is overwritten */
    if ((st = adjoint(ch, Es, Es)))
        return st;
    for (size_t i = 0; i < n; i++)
        out[i] = sigma[i] * Es[i];
    return BERG_OK;
}
