/*
 * lib/dictionary/channel.c - heat and Fokker-Planck channels, their adjoints
 * and the Petz recovery map (seed p.36-37, eq 59). The handle is immutable
 * after creation; the scratch of adjoint and Petz recovery comes from a pool.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/fokker_planck.h"
#include "berg/functional.h"
#include "berg/heat.h"
#include "dictionary/internal.h"

struct berg_channel {
    struct berg_space space;
    berg_channel_kind kind;
    double t;
    berg_heat *heat;
    berg_fp *fp;
    double *stationary; /* FP: q = e^{-V}/Z */
    berg__pool scratch; /* 2 x size doubles per concurrent caller */
};

static berg_status check_kind(const berg_space *space, berg_channel_kind kind, const double *V,
                              const char *fn)
{
    BERG_REQUIRE(kind == BERG_CHANNEL_HEAT || kind == BERG_CHANNEL_FP, BERG_ERR_DOMAIN,
                 "%s: unknown channel kind %d", fn, (int)kind);
    if (kind == BERG_CHANNEL_FP)
        return berg__check_ptr(V, fn, "V");
    for (int a = 0; a < space->ndim; a++)
        BERG_REQUIRE(space->bc[a] != BERG_DIRICHLET, BERG_ERR_UNSUPPORTED,
                     "%s: axis %d is Dirichlet: the heat flow leaks mass there and is not a "
                     "channel",
                     fn, a);
    return BERG_OK;
}

/* the smallest value of a[0 .. n-1] */
static double min_value(const double *a, size_t n)
{
    double m = a[0];
    for (size_t i = 1; i < n; i++)
        m = a[i] < m ? a[i] : m;
    return m;
}

berg_status berg_channel_create(berg_channel **out, const berg_space *space,
                                berg_channel_kind kind, double t, const double *V)
{
    static const char fn[] = "berg_channel_create";
    berg_status st;
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_time(t, fn, "t"));
    BERG_TRY(check_kind(space, kind, V, fn));
    berg_channel *ch = berg__alloc(1, sizeof *ch, fn);
    if (!ch)
        return berg_last_status();
    memset(ch, 0, sizeof *ch);
    ch->space = *space;
    ch->kind = kind;
    ch->t = t;
    BERG_TRY_GOTO(st, berg__pool_init(&ch->scratch, 2 * space->size, sizeof(double), fn), fail);
    const char *ctx;
    if (kind == BERG_CHANNEL_HEAT) {
        ctx = "heat semigroup";
        BERG_TRY_GOTO(st, berg_heat_create(&ch->heat, space, 0), rewrap);
    } else {
        if (!(ch->stationary = berg__alloc(space->size, sizeof(double), fn))) {
            st = berg_last_status();
            goto fail;
        }
        ctx = "Fokker-Planck flow";
        BERG_TRY_GOTO(st, berg_fp_create(&ch->fp, space, V, 0), rewrap);
        BERG_TRY_GOTO(st, berg_fp_stationary(ch->fp, ch->stationary), rewrap);
        /* the adjoint is E(q f) / q (detailed balance): it needs q > 0 in the
         * normal range everywhere; where e^{-V} underflows the division
         * loses the cell (the Petz map then fails to recover sigma there) */
        for (size_t i = 0; i < space->size; i++)
            if (!(ch->stationary[i] >= DBL_MIN)) {
                st = berg__error(BERG_ERR_DOMAIN,
                                 "%s: the stationary state e^{-V}/Z underflows at cell %zu "
                                 "(V[%zu] - min V = %g): the Fokker-Planck channel's adjoint "
                                 "E(q f)/q needs q > 0 everywhere; bound the range of V",
                                 fn, i, i, V[i] - min_value(V, space->size));
                goto fail;
            }
    }
    *out = ch;
    return BERG_OK;
rewrap:
    berg__dict_rewrap(st, fn, ctx);
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
    berg__free(ch->stationary);
    berg__pool_free(&ch->scratch);
    berg__free(ch);
}

/* negative values of E(in) within this fraction of its maximum are the
 * round-off of the spectral steps (set to 0); below it, refused */
#define CHANNEL_ROUNDOFF 1e-12

/* out = E(in); in == out allowed; out is scratch (written before a failure).
 * E is linear: the flow runs on in scaled by a power of two to a maximum in
 * [1/2, 1), and the result is scaled back exactly, so subnormal states (the
 * flows flush them to zero) and states near DBL_MAX (their transforms
 * overflow) keep their mass */
static berg_status forward(const berg_channel *ch, const double *in, double *out, const char *fn)
{
    size_t n = ch->space.size;
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(in[i]));
    BERG_REQUIRE(isfinite(m), BERG_ERR_NONFINITE,
                 "%s: the state the channel is applied to overflows (an intermediate of the "
                 "adjoint or the Petz map)", fn);
    int e = m > 0.0 ? ilogb(m) + 1 : 0;
    for (size_t i = 0; i < n; i++)
        out[i] = ldexp(in[i], -e);
    berg_status st = ch->kind == BERG_CHANNEL_HEAT ? berg_heat_apply(ch->heat, ch->t, out, out)
                                                   : berg_fp_evolve(ch->fp, ch->t, out, out);
    if (st != BERG_OK)
        return berg__dict_rewrap(st, fn, "the channel");
    /* A channel maps states >= 0 to states >= 0. The spectral heat step
     * leaves round-off (~1e-16 of the peak) below zero in the tails, which
     * is cleared; a kernel that rings below zero (structure at the cell
     * scale at t ~ h^2: -0.65 % of the peak on an 8 x 5 grid) is not a
     * channel, and is refused rather than returned as a negative state. */
    double peak = 0.0;
    for (size_t i = 0; i < n; i++)
        peak = fmax(peak, fabs(out[i]));
    for (size_t i = 0; i < n; i++) {
        if (out[i] >= 0.0)
            continue;
        BERG_REQUIRE(out[i] >= -CHANNEL_ROUNDOFF * peak, BERG_ERR_DOMAIN,
                     "%s: the channel maps the state to a negative value %g at cell %zu (%.3g of "
                     "its maximum): the heat kernel of this grid at t = %g rings below zero; use "
                     "a larger t or a finer grid",
                     fn, ldexp(out[i], e), i, -out[i] / peak, ch->t);
        out[i] = 0.0;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = ldexp(out[i], e);
    return BERG_OK;
}

/* out = E^dagger f: heat is symmetric; FP: E(q f) / q by detailed balance.
 * work: size scratch values; f == out allowed */
static berg_status adjoint(const berg_channel *ch, const double *f, double *out, double *work,
                           const char *fn)
{
    if (ch->kind == BERG_CHANNEL_HEAT)
        return forward(ch, f, out, fn);
    size_t n = ch->space.size;
    const double *q = ch->stationary;
    /* E is linear: q f is formed from f scaled by a power of two (q f of a
     * finite f near DBL_MAX overflows) and the result scaled back */
    double fm = 0.0;
    for (size_t i = 0; i < n; i++)
        fm = fmax(fm, fabs(f[i]));
    int e = fm > 0.0 ? ilogb(fm) + 1 : 0;
    for (size_t i = 0; i < n; i++)
        work[i] = q[i] * ldexp(f[i], -e);
    BERG_TRY(forward(ch, work, work, fn));
    for (size_t i = 0; i < n; i++)
        out[i] = q[i] > 0.0 ? ldexp(work[i] / q[i], e) : 0.0;
    return BERG_OK;
}

/* the first non-finite value of a result computed into scratch (values
 * near DBL_MAX overflow the flow): BERG_ERR_NONFINITE before anything is
 * copied to the caller */
static berg_status result_finite(const double *a, size_t n, const char *fn, const char *what)
{
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(isfinite(a[i]), BERG_ERR_NONFINITE,
                     "%s: %s overflows at cell %zu (input values too large for the flow)", fn,
                     what, i);
    return BERG_OK;
}

berg_status berg_channel_apply(const berg_channel *ch, const double *in, double *out)
{
    static const char fn[] = "berg_channel_apply";
    BERG_TRY(berg__check_ptr(ch, fn, "ch"));
    BERG_TRY(berg__check_ptr(in, fn, "in"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_nonneg(in, ch->space.size, fn, "in"));
    berg__pool *pool = (berg__pool *)&ch->scratch; /* the pool is internally locked */
    double *work = berg__pool_get(pool, fn);
    if (!work)
        return berg_last_status();
    berg_status st;
    BERG_TRY_GOTO(st, forward(ch, in, work, fn), done);
    BERG_TRY_GOTO(st, result_finite(work, ch->space.size, fn, "E(in)"), done);
    memcpy(out, work, ch->space.size * sizeof(double));
done:
    berg__pool_put(pool, work);
    return st;
}

berg_status berg_channel_adjoint(const berg_channel *ch, const double *f, double *out)
{
    static const char fn[] = "berg_channel_adjoint";
    BERG_TRY(berg__check_ptr(ch, fn, "ch"));
    BERG_TRY(berg__check_ptr(f, fn, "f"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_nonneg(f, ch->space.size, fn, "f"));
    berg__pool *pool = (berg__pool *)&ch->scratch; /* the pool is internally locked */
    double *res = berg__pool_get(pool, fn);
    if (!res)
        return berg_last_status();
    berg_status st;
    size_t n = ch->space.size;
    BERG_TRY_GOTO(st, adjoint(ch, f, res, res + n, fn), done);
    BERG_TRY_GOTO(st, result_finite(res, n, fn, "E^dagger(f)"), done);
    memcpy(out, res, n * sizeof(double));
done:
    berg__pool_put(pool, res);
    return st;
}

/* sigma: finite, >= 0, mass 1 within berg_density_mass_tolerance() */
static berg_status check_density(const berg_channel *ch, const double *sigma, const char *fn)
{
    double sum;
    BERG_TRY(berg__check_density(sigma, ch->space.size, fn, "sigma", &sum));
    double mass = sum * ch->space.weight;
    BERG_REQUIRE(fabs(mass - 1.0) <= berg_density_mass_tolerance(), BERG_ERR_MASS,
                 "%s: sigma has mass %.17g, not 1 (a density is normalized to within %g)", fn,
                 mass, berg_density_mass_tolerance());
    return BERG_OK;
}

berg_status berg_channel_petz_recover(const berg_channel *ch, const double *sigma,
                                      const double *rho1, double *out)
{
    static const char fn[] = "berg_channel_petz_recover";
    berg_status st;
    BERG_TRY(berg__check_ptr(ch, fn, "ch"));
    BERG_TRY(berg__check_ptr(sigma, fn, "sigma"));
    BERG_TRY(berg__check_ptr(rho1, fn, "rho1"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_density(ch, sigma, fn));
    BERG_TRY(berg__check_nonneg(rho1, ch->space.size, fn, "rho1"));
    size_t n = ch->space.size;
    berg__pool *pool = (berg__pool *)&ch->scratch; /* the pool is internally locked */
    double *ratio = berg__pool_get(pool, fn);
    if (!ratio)
        return berg_last_status();
    double *work = ratio + n;
    BERG_TRY_GOTO(st, forward(ch, sigma, ratio, fn), done);
    for (size_t i = 0; i < n; i++) {
        if (rho1[i] > 0.0 && !(ratio[i] > 1e-300)) {
            st = berg__error(BERG_ERR_DOMAIN,
                             "%s: E(sigma) vanishes at cell %zu where rho1 does not: the Petz map "
                             "is undefined there",
                             fn, i);
            goto done;
        }
        ratio[i] = rho1[i] > 0.0 ? rho1[i] / ratio[i] : 0.0;
    }
    BERG_TRY_GOTO(st, result_finite(ratio, n, fn, "rho1 / E(sigma)"), done);
    BERG_TRY_GOTO(st, adjoint(ch, ratio, ratio, work, fn), done);
    for (size_t i = 0; i < n; i++)
        ratio[i] *= sigma[i];
    BERG_TRY_GOTO(st, result_finite(ratio, n, fn, "the recovered state"), done);
    memcpy(out, ratio, n * sizeof(double));
done:
    berg__pool_put(pool, ratio);
    return st;
}
