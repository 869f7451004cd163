/*
 * lib/dictionary/information.c - information along heat and Fokker-Planck
 * flows (seed discussion p.39): KL to the fixed point, entropy, Fisher
 * information, mutual information retained, cumulants.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/metric.h"
#include "berg/propagator.h"
#include "dictionary/internal.h"

/* I(X0; Xt) of the discrete FP channel by the spectral propagator */
static berg_status fp_mutual(const struct berg_space *S, berg_fp_spectral *sp, const double *p0,
                             const double *pt, double t, double *mi, double *col, const char *fn)
{
    size_t n = S->size;
    double w = S->weight, hcond = 0.0, st;
    berg_status s;
    for (size_t x = 0; x < n; x++) {
        if (p0[x] <= 0.0)
            continue;
        memset(col, 0, n * sizeof(double));
        col[x] = 1.0 / w;
        if ((s = berg_fp_spectral_evolve(sp, t, col, col)))
            return s;
        double h = 0.0;
        for (size_t y = 0; y < n; y++)
            if (col[y] > 0.0)
                h -= col[y] * log(col[y]) * w;
        hcond += p0[x] * w * h;
    }
    double *c = col;
    for (size_t y = 0; y < n; y++)
        c[y] = pt[y] > 0.0 ? pt[y] : 0.0;
    if ((s = berg_entropy(S, c, &st)))
        return berg__dict_rewrap(s, fn, "entropy of p_t");
    *mi = st - hcond;
    return BERG_OK;
}

berg_status berg_flow_information(const berg_space *space, const double *V, const double *p0,
                                  size_t nt, const double *t, double *out)
{
    static const char fn[] = "berg_flow_information";
    berg_status st;
    double mass;
    if ((st = berg__space_check(space, fn)) || (st = berg__check_ptr(p0, fn, "p0")) ||
        (st = berg__check_ptr(t, fn, "t")) || (st = berg__check_ptr(out, fn, "out")) ||
        (st = berg__check_density(p0, space->size, fn, "p0", &mass)))
        return st;
    if (nt == 0)
        return berg__error(BERG_ERR_SIZE, "%s: nt must be >= 1", fn);
    if ((st = berg__dict_check_times(t, nt, fn, "t")))
        return st;
    if (!V)
        for (int a = 0; a < space->ndim; a++)
            if (space->bc[a] == BERG_DIRICHLET)
                return berg__error(BERG_ERR_UNSUPPORTED,
                                   "%s: the heat flow on a Dirichlet axis (%d) has no fixed point",
                                   fn, a);
    if (V && space->size > 2048)
        return berg__error(BERG_ERR_SIZE,
                           "%s: the Fokker-Planck mutual information needs the O(N^3) spectral "
                           "propagator: %zu cells > 2048",
                           fn, space->size);
    size_t n = space->size, cnt = nt * BERG_FLOW_INFO_COUNT;
    int d = space->ndim;
    size_t ntens = 1;
    for (int a = 0; a < d; a++)
        ntens *= 5;
    double *p = berg__alloc(n, sizeof(double), fn), *q = berg__alloc(n, sizeof(double), fn);
    double *col = berg__alloc(n, sizeof(double), fn), *res = berg__alloc(cnt, sizeof(double), fn);
    double *kap = berg__alloc(ntens, sizeof(double), fn);
    double *p0n = berg__alloc(n, sizeof(double), fn); /* p0 normalised */
    berg_heat *heat = NULL;
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    if (!p || !q || !col || !res || !kap || !p0n) {
        st = BERG_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        p0n[i] = p0[i] / mass / space->weight;
    if (V) {
        if ((st = berg_fp_create(&fp, space, V, 0)) || (st = berg_fp_stationary(fp, q)) ||
            (st = berg_fp_spectral_create(&sp, fp)))
            goto done;
    } else {
        if ((st = berg_heat_create(&heat, space, 0)))
            goto done;
        double vol = (double)n * space->weight;
        for (size_t i = 0; i < n; i++)
            q[i] = 1.0 / vol;
    }
    size_t stride0 = ntens / 5;
    for (size_t j = 0; j < nt; j++) {
        double *r = res + j * BERG_FLOW_INFO_COUNT;
        memcpy(p, p0n, n * sizeof(double));
        if (V)
            st = berg_fp_spectral_evolve(sp, t[j], p, p);
        else
            st = berg_heat_apply(heat, t[j], p, p);
        if (st)
            goto done;
        for (size_t i = 0; i < n; i++)
            if (p[i] < 1e-300)
                p[i] = 1e-300; /* spectral round-off at or below 0 in far tails */
        if ((st = berg_kl_divergence(space, p, q, &r[BERG_FLOW_INFO_KL])) ||
            (st = berg_entropy(space, p, &r[BERG_FLOW_INFO_ENTROPY])) ||
            (st = berg_fisher_information(space, p, &r[BERG_FLOW_INFO_FISHER])) ||
            (st = berg_cumulants(space, p, 4, kap)))
            goto done;
        for (int k = 1; k <= 4; k++)
            r[BERG_FLOW_INFO_KAPPA1 + k - 1] = kap[(size_t)k * stride0];
        /* col: scratch of fp_mutual */
        if (V)
            st = fp_mutual(space, sp, p0n, p, t[j], &r[BERG_FLOW_INFO_MUTUAL], col, fn);
        else
            st = berg_heat_mutual_information(space, p0n, t[j], 0, &r[BERG_FLOW_INFO_MUTUAL]);
        if (st)
            goto done;
    }
    memcpy(out, res, cnt * sizeof(double));
done:
    berg_heat_destroy(heat);
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg__free(p);
    berg__free(q);
    berg__free(col);
    berg__free(res);
    berg__free(kap);
    berg__free(p0n);
    return st;
}
