/*
 * Exact 1-D Wasserstein distances and displacement interpolation through
 * quantile functions.
 *
 * A density that is constant on each cell has a piecewise linear CDF, so
 * its quantile function F^{-1} is piecewise linear on [0, 1] with one
 * breakpoint per cell boundary (cells of zero mass make it jump). Merging
 * the breakpoints of F^{-1} and G^{-1} (a two-pointer walk, O(n)) leaves
 * segments on which D(s) = F^{-1}(s) - G^{-1}(s) is linear, and
 * int |D|^p ds is integrated exactly on each.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "berg/transport.h"
#include "space/internal.h"

/* The walk over merged quantile segments. Positions are in cell units
 * relative to lo (x = lo + u h), masses in units of each density's mass. */
typedef struct seg_walk {
    const double *p, *q;
    size_t n, lastp, lastq; /* last cells with positive mass */
    double mp, mq; /* the masses: mass of cell i = p[i] / mp (a division, so a
                    * subnormal mass, whose reciprocal overflows, is exact) */
    size_t i, j;   /* current cells (with positive mass) */
    double ai, bj; /* masses of the current cells (normalized) */
    double ria, rjb; /* their inverses */
    double Ai, Bj; /* cumulative mass before cell i / j (normalized) */
    double s;      /* current position in [0, 1] */
} seg_walk;

static size_t next_cell(const double *a, size_t n, size_t i)
{
    while (i < n && !(a[i] > 0.0))
        i++;
    return i;
}

static void walk_init(seg_walk *w, const double *p, const double *q, size_t n, double mp,
                      double mq)
{
    w->p = p;
    w->q = q;
    w->n = n;
    w->lastp = n - 1;
    while (w->lastp > 0 && !(p[w->lastp] > 0.0))
        w->lastp--;
    w->lastq = n - 1;
    while (w->lastq > 0 && !(q[w->lastq] > 0.0))
        w->lastq--;
    w->mp = mp;
    w->mq = mq;
    w->i = next_cell(p, n, 0);
    w->j = next_cell(q, n, 0);
    w->ai = p[w->i] / w->mp;
    w->bj = q[w->j] / w->mq;
    w->ria = 1.0 / w->ai;
    w->rjb = 1.0 / w->bj;
    w->Ai = 0.0;
    w->Bj = 0.0;
    w->s = 0.0;
}

/* v clamped to [0, 1]; NaN (0 * inf for a cell whose mass is so small,
 * subnormal, that its inverse overflows) gives 0 */
static double clamp01(double v)
{
    return v > 0.0 ? (v < 1.0 ? v : 1.0) : 0.0;
}

/* Next segment [s0, s1] with quantile positions (cell units) u0 -> u1 of
 * the first density and v0 -> v1 of the second. Returns 0 when done. */
static int walk_next(seg_walk *w, double *ds, double *u0, double *u1, double *v0, double *v1)
{
    if (w->i >= w->n || w->j >= w->n)
        return 0;
    double endA = w->Ai + w->ai, endB = w->Bj + w->bj;
    double s0 = w->s, s1 = endA < endB ? endA : endB;
    int lastA = 0, lastB = 0;
    {
        /* does either density end with this cell? then round-off in the
         * cumulative masses must not cut the walk short */
        lastA = w->i == w->lastp;
        lastB = w->j == w->lastq;
        if (lastA && lastB)
            s1 = endA > endB ? endA : endB;
        else if (lastA && !(endB < endA))
            s1 = endB;
        else if (lastB && !(endA < endB))
            s1 = endA;
    }
    /* positions: u = i + (s - Ai) / ai, clamped to the cell for round-off */
    double fi = (double)w->i, fj = (double)w->j;
    double ua = (s0 - w->Ai) * w->ria, ub = (s1 - w->Ai) * w->ria;
    double va = (s0 - w->Bj) * w->rjb, vb = (s1 - w->Bj) * w->rjb;
    ua = clamp01(ua);
    ub = clamp01(ub);
    va = clamp01(va);
    vb = clamp01(vb);
    *ds = s1 - s0;
    *u0 = fi + ua;
    *u1 = fi + ub;
    *v0 = fj + va;
    *v1 = fj + vb;
    w->s = s1;
    /* advance whichever cell is exhausted (both on a tie) */
    int advA = (s1 >= endA) || (lastA && lastB), advB = (s1 >= endB) || (lastA && lastB);
    if (lastA && lastB) {
        w->i = w->n;
        w->j = w->n;
        return 1;
    }
    if (advA && !lastA) {
        w->Ai = endA;
        w->i = next_cell(w->p, w->n, w->i + 1);
        w->ai = w->p[w->i] / w->mp;
        w->ria = 1.0 / w->ai;
    }
    if (advB && !lastB) {
        w->Bj = endB;
        w->j = next_cell(w->q, w->n, w->j + 1);
        w->bj = w->q[w->j] / w->mq;
        w->rjb = 1.0 / w->bj;
    }
    return 1;
}

/* int_0^1 |a + (b - a) s|^2 ds */
static double seg_sq(double a, double b)
{
    return (a * a + a * b + b * b) / 3.0;
}

/* int_0^1 |a + (b - a) s|^r ds, exact and without cancellation */
static double seg_pow(double a, double b, double r)
{
    if ((a >= 0) != (b >= 0) && a != 0 && b != 0) {
        /* crosses zero: (|a|^{r+1} + |b|^{r+1}) / ((r + 1)(|a| + |b|)) */
        double x = fabs(a), y = fabs(b), m = x > y ? x : y;
        double xs = x / m, ys = y / m;
        return pow(m, r) * (pow(xs, r + 1) + pow(ys, r + 1)) / ((r + 1) * (xs + ys));
    }
    double x = fabs(a), y = fabs(b);
    if (x > y) {
        double t = x;
        x = y;
        y = t;
    }
    if (y == 0.0)
        return 0.0;
    /* y^r (1 - rho^{r+1}) / ((r + 1)(1 - rho)), rho = x / y in [0, 1] */
    double rho = x / y;
    if (rho == 1.0)
        return pow(y, r);
    if (rho == 0.0)
        return pow(y, r) / (r + 1);
    double L = log(rho);
    return pow(y, r) * expm1((r + 1) * L) / ((r + 1) * expm1(L));
}

/* the checks of every function here: a rank-1 space, measures p and q
 * (their masses into *mp, *mq) and a non-NULL output named out_name */
static berg_status check_1d(const char *fn, const berg_space *space, const double *p,
                            const double *q, const void *out, const char *out_name, double *mp,
                            double *mq)
{
    BERG_TRY(berg__space_check(space, fn));
    BERG_REQUIRE((size_t)space->ndim == 1, BERG_ERR_DOMAIN,
                 "%s: space has rank %zu; a 1-D space is required", fn, (size_t)space->ndim);
    BERG_TRY(berg__check_density(p, space->size, fn, "p", mp));
    BERG_TRY(berg__check_density(q, space->size, fn, "q", mq));
    return berg__check_ptr(out, fn, out_name);
}

/* log of int_0^1 |a + (b - a) s|^r ds for |a|, |b| <= 1 (-inf when it is 0):
 * the terms of seg_pow in logarithms, for orders whose powers underflow */
static double seg_logpow(double a, double b, double r)
{
    double x = fabs(a), y = fabs(b);
    if ((a >= 0) != (b >= 0) && a != 0 && b != 0) {
        double m = x > y ? x : y, lo = (x > y ? y : x) / m;
        return r * log(m) + log1p(pow(lo, r + 1)) - log1p(r) - log1p(lo);
    }
    if (x > y) {
        double t = x;
        x = y;
        y = t;
    }
    if (y == 0.0)
        return -INFINITY;
    double rho = x / y, ly = r * log(y);
    if (rho == 1.0)
        return ly;
    if (rho == 0.0)
        return ly - log1p(r);
    double L = log(rho);
    return ly + log(expm1((r + 1) * L) / expm1(L)) - log1p(r);
}

/* the largest |F^{-1} - G^{-1}| over the merged segments of positive
 * length (cell units), rounded up to a power of two (0 when p = q) */
static double walk_max(const berg_space *space, const double *p, const double *q, double mp,
                       double mq)
{
    seg_walk w;
    walk_init(&w, p, q, space->size, mp, mq);
    double ds, u0, u1, v0, v1, M = 0.0;
    while (walk_next(&w, &ds, &u0, &u1, &v0, &v1))
        if (ds > 0.0)
            M = fmax(M, fmax(fabs(u0 - v0), fabs(u1 - v1)));
    if (!(M > 0.0))
        return 0.0;
    int e;
    frexp(M, &e);
    return ldexp(1.0, e);
}

/* sum over the merged segments of ds int |D / M|^r (cell units), Neumaier
 * sums of blocks of 256 plain sums; with log_domain, the logarithm of that
 * sum by a running log-sum-exp (no term underflows) */
static double walk_sum(const berg_space *space, double r, double M, int log_domain,
                       const double *p, const double *q, double mp, double mq)
{
    seg_walk w;
    walk_init(&w, p, q, space->size, mp, mq);
    double ds, u0, u1, v0, v1, block = 0.0, sum = 0.0, comp = 0.0, lmax = -INFINITY;
    unsigned count = 0;
    while (walk_next(&w, &ds, &u0, &u1, &v0, &v1)) {
        if (!(ds > 0.0))
            continue; /* ties and round-off contribute nothing */
        double a = (u0 - v0) / M, b = (u1 - v1) / M;
        if (log_domain) {
            double l = log(ds) + seg_logpow(a, b, r);
            if (l == -INFINITY)
                continue;
            if (l > lmax) { /* rescale what was summed to the new maximum */
                double f = exp(lmax - l);
                sum *= f;
                comp *= f;
                lmax = l;
            }
            berg__neumaier_add(&sum, &comp, exp(l - lmax));
            continue;
        }
        block += ds * (r == 2.0 ? seg_sq(a, b) : seg_pow(a, b, r));
        if (++count == 256) {
            berg__neumaier_add(&sum, &comp, block);
            block = 0.0;
            count = 0;
        }
    }
    if (log_domain)
        return lmax + log(sum + comp);
    berg__neumaier_add(&sum, &comp, block);
    return sum + comp;
}

/* W_r in the space's units: (sum)^{1/r} in cell units, scaled by h sqrt(g).
 * r = 2 sums the differences directly (squares of cell counts cannot
 * overflow); other orders divide them by their largest value M (a power of
 * two) first, and when the scaled sum leaves the normal range (large r:
 * the powers underflow) it is summed again in logarithms. */
static double wp_walk(const berg_space *space, double r, const double *p, const double *q,
                      double mp, double mq)
{
    double scale = space->h[0] * sqrt(space->g[0]);
    if (r == 2.0)
        return scale * sqrt(walk_sum(space, r, 1.0, 0, p, q, mp, mq));
    double M = walk_max(space, p, q, mp, mq);
    if (M == 0.0)
        return 0.0;
    double sum = walk_sum(space, r, M, 0, p, q, mp, mq);
    if (sum > 0x1p-800 && sum < HUGE_VAL)
        return scale * (M * pow(sum, 1.0 / r));
    double lsum = walk_sum(space, r, M, 1, p, q, mp, mq);
    return scale * (M * exp(lsum / r));
}

berg_status berg_w2_distance_1d(const berg_space *space, const double *p, const double *q,
                                double *w2)
{
    static const char fn[] = "berg_w2_distance_1d";
    double mp, mq;
    BERG_TRY(check_1d(fn, space, p, q, w2, "w2", &mp, &mq));
    *w2 = wp_walk(space, 2.0, p, q, mp, mq);
    return BERG_OK;
}

berg_status berg_wp_distance_1d(const berg_space *space, double order, const double *p,
                                const double *q, double *wp)
{
    static const char fn[] = "berg_wp_distance_1d";
    BERG_REQUIRE(isfinite(order) && order >= 1.0, BERG_ERR_DOMAIN,
                 "%s: order = %g must be finite and >= 1", fn, order);
    double mp, mq;
    BERG_TRY(check_1d(fn, space, p, q, wp, "wp", &mp, &mq));
    *wp = wp_walk(space, order, p, q, mp, mq);
    return BERG_OK;
}

berg_status berg_w2_interpolate_1d(const berg_space *space, double t, const double *p,
                                   const double *q, double *out)
{
    static const char fn[] = "berg_w2_interpolate_1d";
    BERG_REQUIRE(t >= 0.0 && t <= 1.0, BERG_ERR_DOMAIN, "%s: t = %g must lie in [0, 1]", fn, t);
    double mp, mq;
    BERG_TRY(check_1d(fn, space, p, q, out, "out", &mp, &mq));
    size_t n = space->size;
    double *mass = berg__alloc(n, sizeof(double), fn);
    if (!mass)
        return berg_last_status();
    for (size_t k = 0; k < n; k++)
        mass[k] = 0.0;
    seg_walk w;
    walk_init(&w, p, q, n, mp, mq);
    double ds, u0, u1, v0, v1;
    const double dn = (double)n;
    while (walk_next(&w, &ds, &u0, &u1, &v0, &v1)) {
        if (!(ds > 0.0))
            continue;
        /* image of the segment: uniform mass ds on [x0, x1] (cell units) */
        double x0 = (1.0 - t) * u0 + t * v0, x1 = (1.0 - t) * u1 + t * v1;
        x0 = x0 < 0 ? 0 : (x0 > dn ? dn : x0);
        x1 = x1 < x0 ? x0 : (x1 > dn ? dn : x1);
        size_t k0 = (size_t)x0, k1 = (size_t)x1;
        if (k0 >= n)
            k0 = n - 1;
        if (k1 >= n)
            k1 = n - 1;
        double len = x1 - x0;
        if (k0 == k1 || !(len > 0.0)) {
            mass[k0] += ds;
            continue;
        }
        double dens = ds / len;
        mass[k0] += dens * ((double)(k0 + 1) - x0);
        for (size_t k = k0 + 1; k < k1; k++)
            mass[k] += dens;
        mass[k1] += dens * (x1 - (double)k1);
    }
    /* normalize exactly to one (round-off of the walk); a cell volume so
     * small that the density overflows is refused before out is written */
    double total = berg__sum(mass, n), wgt = space->weight;
    for (size_t k = 0; k < n; k++) {
        mass[k] = mass[k] / total / wgt;
        if (!isfinite(mass[k])) {
            berg__free(mass);
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: out[%zu] overflows: the cell volume %g is too small for "
                               "the interpolated density",
                               fn, k, wgt);
        }
    }
    memcpy(out, mass, n * sizeof(double));
    berg__free(mass);
    return BERG_OK;
}
