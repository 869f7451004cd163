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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* ---- W2: the merge of the two CDFs, branch-light ---------------------------
 *
 * The same integral as walk_sum at r = 2, organised for speed. Pass 1 forms
 * the normalized CDFs at the cell boundaries, A[k] = sum_{i<k} p_i / mp
 * (compensated running sums, A[n] = 1 exactly, A[n + 1] = 2 a sentinel),
 * and B likewise. Pass 2 merges the cell ends A[1..n], B[1..n] (A first on
 * ties): every step takes one end, so 2n steps in all, and the segment
 * from the previous end s to this one s1 lies in cell i of p and cell j of
 * q, where D(s) = F^{-1}(s) - G^{-1}(s) is linear. At s1 the quantile of
 * the side taken is its cell's end (exactly i + 1 or j + 1); the other's is
 * j + (s1 - B[j]) / (B[j+1] - B[j]), clamped to its cell. D is carried as
 * the integer i - j plus the difference of the two fractions, so no digits
 * are lost to positions of a million cells. A step's choices are selects,
 * not branches (the ends interleave at random). Zero-mass cells give steps
 * of length 0, whose NaN fraction the clamp and the ds > 0 select drop.
 *
 * The 2n steps are cut into W2_STREAMS pieces at fixed diagonals of the
 * merge (merge path: a binary search for how many A ends the first d steps
 * take), so four pieces run interleaved in one loop (their dependency
 * chains overlap) and groups of four run on threads. The pieces depend on
 * n only: the result is the same on any number of threads. */

/* pieces of the merge (a multiple of 4) and the groups of 4 among them */
#define W2_STREAMS 16
#define W2_GROUPS (W2_STREAMS / 4)

/* A[0..n+1]: normalized compensated CDF of p at the cell boundaries */
static void cdf_bounds(const double *p, size_t n, double mp, double *A)
{
    /* divide, not multiply by 1/mp: p_k * (1/mp) can be 1 ulp below 1 for
     * a cell holding all but a negligible part of the mass, which then
     * moves an ulp of mass to the cells after it and puts sqrt(ulp) into
     * W2 (fuzz_w2); the division is off the TwoSum's dependency chain */
    double sum = 0.0, comp = 0.0;
    A[0] = 0.0;
    for (size_t k = 0; k < n; k++) {
        double x = p[k] / mp;
        double t = sum + x, bp = t - sum;
        comp += (sum - (t - bp)) + (x - bp); /* TwoSum: no branch */
        sum = t;
        A[k + 1] = sum + comp;
    }
    /* the total is 1 up to rounding: make it exactly 1 from the end of the
     * last cell with mass on, so trailing empty cells keep length 0 (a
     * total of 1 - 1 ulp set to 1 at A[n] alone would give an empty cell
     * a mass of 1 ulp, and W2 of two proportional densities sqrt(ulp)),
     * and clamp the entries above 1 before it (a suffix: the CDF is
     * non-decreasing) */
    size_t last = n;
    while (last > 1 && p[last - 1] == 0.0)
        last--;
    for (size_t k = last; k <= n; k++)
        A[k] = 1.0;
    for (size_t k = last; k-- > 0 && A[k] > 1.0;)
        A[k] = 1.0;
    A[n + 1] = 2.0;
}

/* the first d merged ends take how many of A's (ties to A) */
static size_t merge_split(const double *A, const double *B, size_t n, size_t d)
{
    size_t lo = d > n ? d - n : 0, hi = d < n ? d : n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (A[mid + 1] <= B[d - mid]) /* A's end mid before B's end d - mid - 1 */
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* v clamped to [0, 1], NaN to 0 (maxsd/minsd, no branch) */
static inline double frac01(double v)
{
    v = v > 0.0 ? v : 0.0;
    return v < 1.0 ? v : 1.0;
}

/* One piece: the cells i, j at the position s, k = i - j, the value a of
 * D at s (cell units), and the sum of its segments. */
typedef struct w2_piece {
    size_t i, j, steps;
    double s, a, k;
    double sum, comp;
} w2_piece;

static void piece_start(w2_piece *w, const double *A, const double *B, size_t n, size_t d0,
                        size_t d1)
{
    size_t i = merge_split(A, B, n, d0), j = d0 - i;
    w->i = i;
    w->j = j;
    w->steps = d1 - d0;
    w->s = A[i] > B[j] ? A[i] : B[j];
    double fu = frac01((w->s - A[i]) / (A[i + 1] - A[i]));
    double fv = frac01((w->s - B[j]) / (B[j + 1] - B[j]));
    w->k = (double)i - (double)j;
    w->a = w->k + (fu - fv);
    w->sum = w->comp = 0.0;
}

/* One step of the merge on local state (see above): take the smaller end
 * s1, integrate the segment from s up to it into block, advance. At s1 the
 * side taken is at its cell's end and the other at fraction f of its cell,
 * so D(s1) = k + 1 - f when p's cell ends (k = i - j) and k - 1 + f when
 * q's does: b = k + sg (1 - f), sg = +-1; D continues into the next
 * segment from b (a zero-mass cell is a step of length 0 that moves D by
 * its jump). The choices between the sides are products with t = 1 or 0
 * (exact for these finite values) and min/max, not branches: the ends
 * interleave at random, and a compiler turns a ?: on doubles into a jump.
 * A zero-mass cell of the side not taken has den = 0 and num = 0: den
 * becomes 1 and its fraction 0. */
#define W2_STEP(i, j, s, a, k, block)                                                         \
    do {                                                                                     \
        const double ai_ = A[i], ea_ = A[(i) + 1], bj_ = B[j], eb_ = B[(j) + 1];              \
        const int ta_ = ea_ <= eb_;                                                          \
        const double t_ = (double)ta_, o_ = 1.0 - t_;                                        \
        const double s1_ = ea_ < eb_ ? ea_ : eb_, mx_ = ea_ < eb_ ? eb_ : ea_;               \
        const double lo_ = bj_ * t_ + ai_ * o_;                                              \
        double den_ = mx_ - lo_;                                                             \
        den_ += (double)(den_ == 0.0);                                                       \
        const double f_ = frac01((s1_ - lo_) / den_);                                        \
        const double sg_ = t_ - o_;                                                          \
        const double b_ = (k) + sg_ * (1.0 - f_), ds_ = s1_ - (s);                           \
        (block) += ds_ * ((a) * (a) + (a) * b_ + b_ * b_);                                   \
        (s) = s1_;                                                                           \
        (a) = b_;                                                                            \
        (k) += sg_;                                                                          \
        (i) += (size_t)ta_;                                                                  \
        (j) += (size_t)(1 - ta_);                                                            \
    } while (0)

/* the rest of a piece, alone */
static void piece_run(w2_piece *w, const double *A, const double *B, size_t steps)
{
    size_t i = w->i, j = w->j;
    double s = w->s, a = w->a, k = w->k, block = 0.0;
    for (size_t t = 0; t < steps; t++) {
        W2_STEP(i, j, s, a, k, block);
        if ((t & 255u) == 255u) {
            berg__neumaier_add(&w->sum, &w->comp, block);
            block = 0.0;
        }
    }
    berg__neumaier_add(&w->sum, &w->comp, block);
}

typedef struct w2_job {
    const double *p, *q, *A, *B;
    double mp, mq;
    size_t n;
    double part[W2_GROUPS]; /* each group's sum */
} w2_job;

/* ranges of the CDF pass: 0 = A, 1 = B */
static void cdf_range(void *ctx, size_t b, size_t e, size_t r)
{
    w2_job *job = ctx;
    (void)b;
    (void)e;
    if (r == 0)
        cdf_bounds(job->p, job->n, job->mp, (double *)job->A);
    else
        cdf_bounds(job->q, job->n, job->mq, (double *)job->B);
}

/* group g: pieces 4g .. 4g + 3, interleaved step by step for as long as
 * all four run (their dependency chains overlap), then each to its end */
static void merge_range(void *ctx, size_t b, size_t e, size_t g)
{
    w2_job *job = ctx;
    const double *A = job->A, *B = job->B;
    const size_t n = job->n, total = 2 * n;
    (void)b;
    (void)e;
    w2_piece w[4];
    for (size_t q = 0; q < 4; q++) {
        size_t piece = 4 * g + q;
        piece_start(&w[q], A, B, n, total * piece / W2_STREAMS,
                    total * (piece + 1) / W2_STREAMS);
    }
    size_t common = w[0].steps;
    for (size_t q = 1; q < 4; q++)
        common = w[q].steps < common ? w[q].steps : common;
    size_t i0 = w[0].i, j0 = w[0].j, i1 = w[1].i, j1 = w[1].j, i2 = w[2].i, j2 = w[2].j,
           i3 = w[3].i, j3 = w[3].j;
    double s0 = w[0].s, a0 = w[0].a, k0 = w[0].k, c0 = 0.0;
    double s1 = w[1].s, a1 = w[1].a, k1 = w[1].k, c1 = 0.0;
    double s2 = w[2].s, a2 = w[2].a, k2 = w[2].k, c2 = 0.0;
    double s3 = w[3].s, a3 = w[3].a, k3 = w[3].k, c3 = 0.0;
    for (size_t t0 = 0; t0 < common; t0 += 256) {
        size_t t1 = common - t0 < 256 ? common : t0 + 256;
        for (size_t t = t0; t < t1; t++) {
            W2_STEP(i0, j0, s0, a0, k0, c0);
            W2_STEP(i1, j1, s1, a1, k1, c1);
            W2_STEP(i2, j2, s2, a2, k2, c2);
            W2_STEP(i3, j3, s3, a3, k3, c3);
        }
        berg__neumaier_add(&w[0].sum, &w[0].comp, c0);
        berg__neumaier_add(&w[1].sum, &w[1].comp, c1);
        berg__neumaier_add(&w[2].sum, &w[2].comp, c2);
        berg__neumaier_add(&w[3].sum, &w[3].comp, c3);
        c0 = c1 = c2 = c3 = 0.0;
    }
    w[0] = (w2_piece){i0, j0, w[0].steps, s0, a0, k0, w[0].sum, w[0].comp};
    w[1] = (w2_piece){i1, j1, w[1].steps, s1, a1, k1, w[1].sum, w[1].comp};
    w[2] = (w2_piece){i2, j2, w[2].steps, s2, a2, k2, w[2].sum, w[2].comp};
    w[3] = (w2_piece){i3, j3, w[3].steps, s3, a3, k3, w[3].sum, w[3].comp};
    double sum = 0.0, comp = 0.0;
    for (size_t q = 0; q < 4; q++) {
        piece_run(&w[q], A, B, w[q].steps - common);
        berg__neumaier_add(&sum, &comp, w[q].sum);
        berg__neumaier_add(&sum, &comp, w[q].comp);
    }
    job->part[g] = sum + comp;
}

/* The two CDF arrays (16 MB at 2^20 cells). A fresh malloc of that size is
 * a fresh mapping whose 4096 pages fault one by one on first touch (45 ms
 * on the virtual machine of the benchmarks, 2.5x the whole computation);
 * a mapping of its own asks for huge pages instead (Linux: MADV_HUGEPAGE,
 * honoured when transparent huge pages are "always" or "madvise"). */
#if defined(MAP_ANONYMOUS)
#define CDF_MAP_MIN ((size_t)1 << 20)
static double *cdf_alloc(size_t bytes)
{
    if (bytes >= CDF_MAP_MIN) {
        void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
#ifdef MADV_HUGEPAGE
        madvise(m, bytes, MADV_HUGEPAGE); /* a hint: 2 MB pages, 8 faults */
#endif
        return m;
    }
    return malloc(bytes);
}
static void cdf_free(double *a, size_t bytes)
{
    if (bytes >= CDF_MAP_MIN)
        munmap(a, bytes);
    else
        free(a);
}
#else
static double *cdf_alloc(size_t bytes)
{
    return malloc(bytes);
}
static void cdf_free(double *a, size_t bytes)
{
    (void)bytes;
    free(a);
}
#endif

/* W2 in the space's units, or NaN when the two CDF arrays cannot be
 * allocated (the caller then walks) */
static double w2_merge(const berg_space *space, const double *p, const double *q, double mp,
                       double mq, size_t nthreads)
{
    const size_t n = space->size;
    const size_t bytes = 2 * (n + 2) * sizeof(double);
    double *A = cdf_alloc(bytes);
    if (!A)
        return NAN;
    w2_job job = {.p = p, .q = q, .A = A, .B = A + n + 2, .mp = mp, .mq = mq, .n = n};
    berg__parallel_ranges(2, 2, nthreads, cdf_range, &job);
    berg__parallel_ranges(W2_GROUPS, W2_GROUPS, nthreads, merge_range, &job);
    cdf_free(A, bytes);
    double sum = 0.0, comp = 0.0;
    for (size_t g = 0; g < W2_GROUPS; g++)
        berg__neumaier_add(&sum, &comp, job.part[g]);
    return space->h[0] * sqrt(space->g[0]) * sqrt((sum + comp) / 3.0);
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
    double w = w2_merge(space, p, q, mp, mq, berg__threads(0));
    *w2 = isnan(w) ? wp_walk(space, 2.0, p, q, mp, mq) : w;
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
    double w = order == 2.0 ? w2_merge(space, p, q, mp, mq, berg__threads(0)) : NAN;
    *wp = isnan(w) ? wp_walk(space, order, p, q, mp, mq) : w;
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
