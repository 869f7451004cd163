/*
 * Time-dependent Fokker-Planck flows: berg_fp_evolve_field (V(t), g(t) from
 * a callback) and berg_fp_evolve_table (knots interpolated linearly in t),
 * docs/fokker_planck.md "Time-dependent potentials". This file validates
 * the arguments and the coefficients at every time they are used; the
 * stepping is the discretization's (fp_volume.c, fp_fourier.c: every
 * substep with the generator frozen at its midpoint) under the shared
 * extrapolation controller (extrapolate.c).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/linalg.h"
#include "propagator/fp_internal.h"

berg_status berg__fp_at_time(berg_status st, double t)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", berg_last_error());
    return berg__error(st, "%s (at t = %.17g)", msg, t);
}

/* ginv = g^{-1} of a metric given at some time (name says which):
 * symmetric, positive definite with a finite inverse, coupling only
 * periodic axes (the finite volume: none) */
static berg_status metric_inverse(const berg_fp *fp, const double *metric, int volume,
                                  double *ginv, const char *fn, const char *name)
{
    const berg_space *s = &fp->space;
    size_t d = (size_t)s->ndim;
    double g[BERG_MAX_RANK * BERG_MAX_RANK], L[BERG_MAX_RANK * BERG_MAX_RANK];
    BERG_TRY(berg__linalg_check_symmetric(d, metric, fn, name));
    memcpy(g, metric, d * d * sizeof(double));
    berg__linalg_symmetrize(d, g);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            if (a == b || g[a * d + b] == 0.0)
                continue;
            BERG_REQUIRE(!volume, BERG_ERR_UNSUPPORTED,
                         "%s: %s couples axes %zu and %zu; the finite-volume discretization "
                         "needs a diagonal metric (BERG_FP_FOURIER takes any)",
                         fn, name, a, b);
            BERG_REQUIRE(s->bc[a] == BERG_PERIODIC && s->bc[b] == BERG_PERIODIC,
                         BERG_ERR_UNSUPPORTED,
                         "%s: %s couples axes %zu and %zu; only periodic axes may be coupled",
                         fn, name, a, b);
        }
    BERG_TRY(berg__linalg_cholesky(d, g, L, berg__linalg_rcond_floor(d), NULL, fn, name));
    BERG_TRY(berg__linalg_spd_inverse(d, g, ginv, fn, name));
    for (size_t a = 0; a < d; a++) {
        for (size_t b = 0; b < d; b++) {
            if (a != b && (s->bc[a] != BERG_PERIODIC || s->bc[b] != BERG_PERIODIC))
                ginv[a * d + b] = 0.0; /* exact: those axes are uncoupled */
            BERG_REQUIRE(isfinite(ginv[a * d + b]), BERG_ERR_NOT_SPD,
                         "%s: the inverse of %s overflows", fn, name);
        }
    }
    return BERG_OK;
}

/* knot k with times[k] <= t <= times[k + 1] (t inside the table) */
static size_t table_interval(const berg__fp_field *src, double t)
{
    size_t lo = 0, hi = src->ntimes - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (src->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

berg_status berg__fp_field_eval(const berg_fp *fp, const berg__fp_field *src, double t,
                                int volume, double *V, double *ginv, const char *fn)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n, d = (size_t)s->ndim;
    double g[BERG_MAX_RANK * BERG_MAX_RANK];
    char name[64];
    snprintf(name, sizeof name, "g(t = %.17g)", t);
    if (src->field) {
        memcpy(g, s->g, d * d * sizeof(double));
        for (size_t i = 0; i < n; i++)
            V[i] = NAN; /* a value left unset is reported */
        int rc = src->field(t, n, d, V, g, src->user_data);
        BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: field returned %d at t = %.17g", fn, rc, t);
        for (size_t i = 0; i < n; i++)
            BERG_REQUIRE(isfinite(V[i]), BERG_ERR_CALLBACK,
                         "%s: field gave V[%zu] = %g at t = %.17g", fn, i, V[i], t);
        for (size_t k = 0; k < d * d; k++)
            BERG_REQUIRE(isfinite(g[k]), BERG_ERR_CALLBACK,
                         "%s: field gave g[%zu] = %g at t = %.17g", fn, k, g[k], t);
        BERG_TRY(metric_inverse(fp, g, volume, ginv, fn, name));
    } else {
        size_t k = table_interval(src, t);
        double ta = src->times[k], tb = src->times[k + 1];
        double th = (t <= ta) ? 0.0 : (t >= tb) ? 1.0 : (t - ta) / (tb - ta);
        const double *va = src->V + k * n, *vb = va + n;
        if (th == 0.0)
            memcpy(V, va, n * sizeof(double));
        else if (th == 1.0)
            memcpy(V, vb, n * sizeof(double));
        else
            for (size_t i = 0; i < n; i++) /* exact where the knots agree */
                V[i] = va[i] + th * (vb[i] - va[i]);
        if (src->g) {
            const double *ga = src->g + k * d * d, *gb = ga + d * d;
            for (size_t m = 0; m < d * d; m++)
                g[m] = (th == 0.0) ? ga[m] : (th == 1.0) ? gb[m] : ga[m] + th * (gb[m] - ga[m]);
            BERG_TRY(metric_inverse(fp, g, volume, ginv, fn, name));
        } else {
            memcpy(ginv, s->ginv, d * d * sizeof(double));
        }
    }
    double vmin = V[0], vmax = V[0];
    for (size_t i = 1; i < n; i++) { /* finite values */
        vmin = V[i] < vmin ? V[i] : vmin;
        vmax = V[i] > vmax ? V[i] : vmax;
    }
    BERG_REQUIRE(isfinite(vmax - vmin), BERG_ERR_DOMAIN,
                 "%s: the range of V(t = %.17g) (%g .. %g) overflows", fn, t, vmin, vmax);
    for (size_t i = 0; i < n; i++)
        V[i] -= vmin;
    return BERG_OK;
}

/* t0, t1 and step; the number of fixed steps (breaks: the knots inside) */
static berg_status check_times(double t0, double t1, double step, const double *breaks,
                               size_t nbreaks, const char *fn)
{
    BERG_REQUIRE(isfinite(t0), BERG_ERR_TIME, "%s: t0 = %g is not finite", fn, t0);
    BERG_REQUIRE(isfinite(t1), BERG_ERR_TIME, "%s: t1 = %g is not finite", fn, t1);
    BERG_REQUIRE(t1 >= t0, BERG_ERR_TIME, "%s: t1 = %g is before t0 = %g", fn, t1, t0);
    BERG_REQUIRE(isfinite(t1 - t0), BERG_ERR_TIME, "%s: t1 - t0 = %g - %g overflows", fn, t1,
                 t0);
    BERG_REQUIRE(isfinite(step) && step >= 0.0, BERG_ERR_DOMAIN,
                 "%s: step = %g must be 0 (adaptive) or a finite positive step", fn, step);
    if (step > 0.0 && t1 > t0) {
        double count = 0.0, prev = 0.0;
        for (size_t k = 0; k <= nbreaks; k++) {
            double end = (k < nbreaks) ? breaks[k] : t1 - t0;
            count += fmax(1.0, ceil((end - prev) / step * (1.0 - 1e-12)));
            prev = end;
        }
        BERG_REQUIRE(count <= (double)BERG__EXTRAP_MAX_STEPS, BERG_ERR_DOMAIN,
                     "%s: step = %g makes %.3g steps from t0 = %g to t1 = %g (at most %zu)", fn,
                     step, count, t0, t1, (size_t)BERG__EXTRAP_MAX_STEPS);
    }
    return BERG_OK;
}

/* the evolution once the source is validated */
static berg_status evolve_common(const berg_fp *fp, double t0, double t1, double step,
                                 const double *in, double *out, const berg__fp_field *src,
                                 const char *fn)
{
    berg__fp_steps steps = {0, 0, NULL};
    berg__fp_record_steps(fp, &steps);
    berg__progress pr;
    berg__progress_start(&pr, fp->progress, fp->progress_data);
    if (fp->progress)
        steps.progress = &pr;
    if (t1 == t0 || berg__sum(in, fp->n) == 0.0) {
        memmove(out, in, fp->n * sizeof(double));
        return BERG_OK;
    }
    double scale = berg__fp_state_scale(in, fp->n);
    double *tmp = NULL;
    if (scale != 1.0) {
        if (!(tmp = berg__alloc(fp->n, sizeof(double), fn)))
            return berg_last_status();
        for (size_t i = 0; i < fp->n; i++)
            tmp[i] = in[i] * scale;
    }
    berg_status st = tmp ? fp->ops->evolve_field(fp, src, t0, t1 - t0, step, tmp, tmp, &steps, fn)
                         : fp->ops->evolve_field(fp, src, t0, t1 - t0, step, in, out, &steps,
                                                 fn);
    if (st == BERG_OK && tmp)
        st = berg__fp_unscale(tmp, fp->n, scale, "the state at time t1", out, fn);
    berg__free(tmp);
    steps.progress = NULL;
    berg__fp_record_steps(fp, &steps);
    return st;
}

berg_status berg_fp_evolve_field(const berg_fp *fp, double t0, double t1, double step,
                                 const double *in, double *out, berg_fp_field_fn field,
                                 void *user_data)
{
    static const char fn[] = "berg_fp_evolve_field";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(check_times(t0, t1, step, NULL, 0, fn));
    BERG_TRY(berg__check_nonneg(in, fp->n, fn, "in"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(field != NULL, BERG_ERR_NULL, "%s: field is NULL", fn);
    berg__fp_field src = {field, user_data, 0, NULL, NULL, NULL, NULL, 0};
    return evolve_common(fp, t0, t1, step, in, out, &src, fn);
}

berg_status berg_fp_evolve_table(const berg_fp *fp, double t0, double t1, double step,
                                 size_t ntimes, const double *times, const double *V,
                                 const double *g, const double *in, double *out)
{
    static const char fn[] = "berg_fp_evolve_table";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_REQUIRE(isfinite(t0), BERG_ERR_TIME, "%s: t0 = %g is not finite", fn, t0);
    BERG_REQUIRE(isfinite(t1), BERG_ERR_TIME, "%s: t1 = %g is not finite", fn, t1);
    BERG_REQUIRE(ntimes >= 2, BERG_ERR_SIZE, "%s: ntimes = %zu; a table needs at least 2 knots",
                 fn, ntimes);
    size_t n = fp->n, d = (size_t)fp->space.ndim, nv, ng;
    BERG_TRY(berg__mul_size(ntimes, n, &nv, fn, "ntimes x grid size"));
    BERG_TRY(berg__mul_size(ntimes, d * d, &ng, fn, "ntimes x ndim^2"));
    BERG_TRY(berg__check_addressable(nv, sizeof(double), fn, "V"));
    BERG_TRY(berg__check_finite(times, ntimes, fn, "times"));
    for (size_t k = 0; k + 1 < ntimes; k++)
        BERG_REQUIRE(times[k] < times[k + 1], BERG_ERR_DOMAIN,
                     "%s: times[%zu] = %g is not below times[%zu] = %g (times must increase "
                     "strictly)",
                     fn, k, times[k], k + 1, times[k + 1]);
    BERG_REQUIRE(t0 >= times[0] && t1 <= times[ntimes - 1], BERG_ERR_DOMAIN,
                 "%s: [t0, t1] = [%g, %g] is not inside the table's [times[0], times[%zu]] = "
                 "[%g, %g]",
                 fn, t0, t1, ntimes - 1, times[0], times[ntimes - 1]);
    BERG_TRY(berg__check_finite(V, nv, fn, "V"));
    for (size_t k = 0; k < ntimes; k++) {
        const double *v = V + k * n;
        double vmin = v[0], vmax = v[0];
        for (size_t i = 1; i < n; i++) {
            vmin = fmin(vmin, v[i]);
            vmax = fmax(vmax, v[i]);
        }
        BERG_REQUIRE(isfinite(vmax - vmin), BERG_ERR_DOMAIN,
                     "%s: the range of V at knot %zu (%g .. %g) overflows", fn, k, vmin, vmax);
    }
    if (g)
        BERG_TRY(berg__check_finite(g, ng, fn, "g"));
    BERG_TRY(check_times(t0, t1, step, NULL, 0, fn));
    BERG_TRY(berg__check_nonneg(in, n, fn, "in"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    /* the knots strictly inside (t0, t1), relative to t0: no step crosses
     * one */
    size_t k0 = 0;
    while (k0 < ntimes && times[k0] <= t0)
        k0++;
    size_t nb = 0;
    while (k0 + nb < ntimes && times[k0 + nb] < t1)
        nb++;
    double *breaks = NULL;
    if (nb) {
        if (!(breaks = berg__alloc(nb, sizeof(double), fn)))
            return berg_last_status();
        for (size_t k = 0; k < nb; k++)
            breaks[k] = times[k0 + k] - t0;
    }
    berg__fp_field src = {NULL, NULL, ntimes, times, V, g, breaks, nb};
    berg_status st = check_times(t0, t1, step, breaks, nb, fn);
    if (st == BERG_OK && g) {
        /* every knot's metric, before anything runs */
        double ginv[BERG_MAX_RANK * BERG_MAX_RANK];
        char name[48];
        for (size_t k = 0; k < ntimes && st == BERG_OK; k++) {
            snprintf(name, sizeof name, "g at knot %zu", k);
            st = metric_inverse(fp, g + k * d * d, !fp->fourier, ginv, fn, name);
        }
    }
    if (st == BERG_OK)
        st = evolve_common(fp, t0, t1, step, in, out, &src, fn);
    berg__free(breaks);
    return st;
}
