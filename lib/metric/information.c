/* Mutual information I(X_0; X_t) kept by the heat channel X_t = X_0
 * diffused by e^{t Delta_g}: S[e^{t Delta_g} p] - H(X_t | X_0). */
#include <math.h>
#include <string.h>

#include "berg/metric.h"
#include "berg/propagator.h"
#include "metric/func_internal.h"

#define RINGING_TOL 1e-6

/* clamp rounding-level negatives of a diffused density to 0; refuse real
 * ringing */
static berg_status clean(double *f, size_t n, const char *fn, const char *what, double t)
{
    double fmax = 0.0;
    for (size_t i = 0; i < n; i++)
        fmax = f[i] > fmax ? f[i] : fmax;
    for (size_t i = 0; i < n; i++) {
        if (f[i] < 0.0) {
            if (f[i] < -RINGING_TOL * fmax)
                return berg__error(BERG_ERR_DOMAIN,
                                   "%s: the %s has the negative value %g at index %zu for t = %g "
                                   "(spectral ringing: t is too small for the grid; use a larger "
                                   "t, a finer grid or the flag BERG_SYMBOL_FD)",
                                   fn, what, f[i], i, t);
            f[i] = 0.0;
        }
    }
    return BERG_OK;
}

/* -w sum f ln f over a grid of n cells with cell weight w */
static double entropy_of(const double *f, size_t n, double w)
{
    berg__acc acc = {0.0, 0.0};
    for (size_t i = 0; i < n; i++)
        if (f[i] > 0.0)
            berg__acc_add(&acc, f[i] * log(f[i]));
    return -w * berg__acc_value(&acc);
}

/* a space made of the axes listed in axes[0..k-1] of s (g block of them) */
static berg_status sub_space(const berg_space *s, const int *axes, int k, berg_space **out)
{
    size_t n[BERG_MAX_RANK];
    double lo[BERG_MAX_RANK], hi[BERG_MAX_RANK], g[BERG_MAX_RANK * BERG_MAX_RANK];
    berg_boundary bc[BERG_MAX_RANK];
    for (int i = 0; i < k; i++) {
        int a = axes[i];
        n[i] = s->n[a];
        lo[i] = s->lo[a];
        hi[i] = s->hi[a];
        bc[i] = s->bc[a];
        for (int j = 0; j < k; j++)
            g[i * k + j] = s->g[a * s->ndim + axes[j]];
    }
    return berg_space_create(out, k, n, lo, hi, bc, g);
}

/* entropies of the kernel of sub-space sub started from each of the cells
 * listed (start[c] = cell index), into S[c] */
static berg_status kernel_entropies(const berg_space *sub, size_t nstart, const size_t *start,
                                    unsigned flags, double t, double *S, const char *fn)
{
    berg_heat *heat = NULL;
    berg_status st = berg_heat_create(&heat, sub, flags);
    if (st)
        return st;
    const size_t n = sub->size;
    double *f = berg__alloc(n, sizeof(double), fn);
    if (!f) {
        berg_heat_destroy(heat);
        return BERG_ERR_NOMEM;
    }
    for (size_t c = 0; c < nstart && !st; c++) {
        memset(f, 0, sizeof(double) * n);
        f[start[c]] = 1.0 / sub->weight;
        if (!(st = berg_heat_apply(heat, t, f, f)) && !(st = clean(f, n, fn, "heat kernel", t)))
            S[c] = entropy_of(f, n, sub->weight);
    }
    berg__free(f);
    berg_heat_destroy(heat);
    return st;
}

berg_status berg_heat_mutual_information(const berg_space *space, const double *p, double t,
                                         unsigned flags, double *info)
{
    static const char fn[] = "berg_heat_mutual_information";
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__func_density(space, p, fn, "p", NULL)) ||
        (st = berg__check_time(t, fn, "t")) || (st = berg__check_ptr(info, fn, "info")))
        return st;
    const int d = space->ndim;
    for (int a = 0; a < d; a++)
        if (space->bc[a] == BERG_DIRICHLET)
            return berg__error(BERG_ERR_UNSUPPORTED,
                               "%s: axis %d is Dirichlet (absorbing): the diffused density loses "
                               "mass, so the heat flow is not a channel between densities",
                               fn, a);
    const size_t n = space->size;
    double *pt = berg__alloc(n, sizeof(double), fn);
    if (!pt)
        return BERG_ERR_NOMEM;
    berg_heat *heat = NULL;
    if ((st = berg_heat_create(&heat, space, flags)))
        goto done;
    if ((st = berg_heat_apply(heat, t, p, pt)) || (st = clean(pt, n, fn, "diffused density", t)))
        goto done;
    double S_out = entropy_of(pt, n, space->weight);

    /* H(X_t | X_0): the kernel factorizes into the block of periodic axes
     * (translation invariant) and one Neumann axis at a time (g is block
     * diagonal because walls may not be coupled). */
    int per[BERG_MAX_RANK], nper = 0;
    for (int a = 0; a < d; a++)
        if (space->bc[a] == BERG_PERIODIC)
            per[nper++] = a;
    double H = 0.0;
    if (nper > 0) {
        berg_space *sub = NULL;
        size_t zero = 0;
        double Sk;
        if ((st = sub_space(space, per, nper, &sub)))
            goto done;
        st = kernel_entropies(sub, 1, &zero, flags, t, &Sk, fn);
        berg_space_destroy(sub);
        if (st)
            goto done;
        H += Sk;
    }
    for (int a = 0; a < d; a++) {
        if (space->bc[a] != BERG_NEUMANN)
            continue;
        const size_t na = space->n[a], sa = space->stride[a], outer = n / (na * sa);
        double *buf = berg__alloc(2 * na, sizeof(double), fn);
        size_t *start = berg__alloc(na, sizeof(size_t), fn);
        if (!buf || !start) {
            berg__free(buf);
            berg__free(start);
            st = BERG_ERR_NOMEM;
            goto done;
        }
        double *marg = buf, *Sa = buf + na;
        for (size_t i = 0; i < na; i++) {
            double acc = 0.0;
            for (size_t o = 0; o < outer; o++)
                acc += berg__sum(p + o * na * sa + i * sa, sa);
            marg[i] = acc * space->weight;
            start[i] = i;
        }
        berg_space *sub = NULL;
        if (!(st = sub_space(space, &a, 1, &sub)))
            st = kernel_entropies(sub, na, start, flags, t, Sa, fn);
        berg_space_destroy(sub);
        if (!st) {
            berg__acc acc = {0.0, 0.0};
            for (size_t i = 0; i < na; i++)
                berg__acc_add(&acc, marg[i] * Sa[i]);
            H += berg__acc_value(&acc);
        }
        berg__free(buf);
        berg__free(start);
        if (st)
            goto done;
    }
    *info = S_out - H;
done:
    berg_heat_destroy(heat);
    berg__free(pt);
    return st;
}
