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
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
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

/* ---- W2: the merge of the two CDFs, 32 pieces side by side ----------------
 *
 * The same integral as walk_sum at r = 2, organised for speed.
 *
 * Cumulative masses. Cell k of p holds the raw mass p_k; the raw CDF at the
 * cell boundary k is summed with TwoSum compensation in chains of W2_BLK
 * cells ("lane blocks"), eight lane blocks to a tile of W2_GRP cells, so
 * that the eight chains of a tile run side by side in one vector. A first
 * pass over the input (which also makes the checks of berg__check_density)
 * stores the double-double raw mass before each tile and the totals of its
 * lane blocks; a tile's boundary values are then (tile start + lane blocks
 * before it, in double-double) + the lane's running compensated sum
 * (non-decreasing), rounded once, and at most the first value of the next
 * lane block (tile_lanes): non-decreasing, and the same value whichever
 * piece of the merge asks for it. The second pass (tile_values, as the
 * merge reaches a tile) sums the lane blocks again and writes the
 * normalized values as it goes. The raw masses are
 * normalized without a division: with P, Q the raw totals and P', Q' them
 * scaled by powers of two into [1, 2), p's CDF is v 2^-e(P) Q' and q's is
 * w 2^-e(Q) P', so both end at T = P' Q' exactly (a product commutes), a
 * cell holding all of a measure's mass has a boundary equal to T, and
 * W2^2 is the integral over [0, T] divided by T. From the end of the last
 * cell with mass on the CDF is T (trailing empty cells keep length 0) and
 * entries above T before it are clamped to T, as the cell walk's
 * normalization does.
 *
 * The merge. The ends of the cells of p and q (A[1..n], B[1..n]) are merged
 * in order (A first on ties): 2n steps, each taking one end s1. The segment
 * from the previous end s to s1 lies in cell i of p and cell j of q, where
 * D(s) = F^{-1}(s) - G^{-1}(s) is linear; D is carried as the integer
 * k = i - j plus the fraction of the side not taken: at s1 the side taken is
 * at its cell's end and the other at g = (hi - s1) / (hi - lo) short of the
 * end of its cell [lo, hi] (a division per step, which costs less than
 * loading a reciprocal stored per cell: a whole cell is exactly 1, a cell
 * spanning a subnormal interval of the CDF divides without overflow, and
 * 0 / 0 for a zero-mass cell, a step of length 0, gives g = 0), so D(s1) =
 * k + g when p's cell ends and k - g when q's does. int |D|^2 over the
 * segment is (s1 - s)(a^2 + ab + b^2) / 3 with a, b the values of D at its
 * ends.
 *
 * The 2n steps are cut at fixed diagonals (merge path: a binary search for
 * how many ends of p the first d steps take) into batches of W2_PIECES *
 * W2_STEPS steps, each batch into W2_PIECES pieces run side by side: a
 * step's chain (the next end's load, the comparison, the index) is long,
 * and 32 independent chains overlap it (with AVX-512 four vectors of eight
 * pieces, the next end of the side taken one gather; otherwise the
 * compiler's code for each piece). The tiles a batch needs are computed
 * into a window per side that slides along the merge (moved back to the
 * start of its buffer only when full), and the cells of the next batch's
 * tiles are prefetched while a batch merges. The two halves of the merge (split at the
 * diagonal n) run on two threads when berg_set_threads allows; the cuts
 * depend on n only, so the result is the same on any number of threads. */

#define W2_LANES 8                                         /* lane blocks per tile */
#define W2_BLK 64                                          /* cells per lane block */
#define W2_GRP (W2_LANES * W2_BLK)                         /* cells per tile */
#define W2_PIECES 32                                       /* pieces side by side */
#define W2_STEPS 512                                       /* steps per piece */
#define W2_BATCH (W2_PIECES * W2_STEPS)                    /* steps per batch */
#define W2_SPAN (W2_BATCH + 3 * W2_GRP)                    /* a batch's tiles, at most */
#define W2_WIN (2 * W2_SPAN)                               /* window capacity */
#define W2_HALVES_MIN ((size_t)1 << 15)                    /* cells for two halves */
#define W2_SUB 256                                         /* steps per partial sum */
#define W2_PAST 8.0 /* boundary values past n: above every CDF value (T < 4) */

#if defined(__GNUC__)
#  define W2_PREFETCH_LINE(x) __builtin_prefetch(x)
#else
#  define W2_PREFETCH_LINE(x) ((void)(x))
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(BERG_NO_CLONES) && !defined(__SANITIZE_THREAD__)
/* the compiler's own vectorisation for AVX-512, AVX2 and the x86-64
 * baseline, chosen at load time (as in lib/propagator/heat_direct.c; not
 * under ThreadSanitizer, whose runtime is not up when ifunc resolvers run).
 * No floating-point contraction (C11 mode): every clone rounds the same. */
#  define W2_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#  define W2_HAVE_CLONES 1
#else
#  define W2_CLONES
#endif

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BERG_NO_CLONES) && \
    !defined(BERG_W2_NO_VECTORS)
/* the merge's steps with AVX-512 gathers, chosen at run time (w2_avx512) */
#  include <immintrin.h>
#  define W2_AVX512 1
#endif

/* whether the CPU runs w2_run_avx512 */
static int w2_avx512(void)
{
#ifdef W2_AVX512
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

/* s + e = a + b exactly */
/* one cell x into a lane's compensated chain (s, c) and its running
 * maximum mx of s + c before the cell (kept non-decreasing), which it
 * returns: the scalar step of every pass over a lane block */
static inline double chain_add(double x, double *s, double *c, double *mx)
{
    double u = *s + x, bp = u - *s, v = *s + *c;
    *mx = v > *mx ? v : *mx;
    *c += (*s - (u - bp)) + (x - bp);
    *s = u;
    return *mx;
}

static inline void two_sum(double a, double b, double *s, double *e)
{
    double t = a + b, bp = t - a;
    *e = (a - (t - bp)) + (b - bp);
    *s = t;
}

/* (*hi, *lo) += (bh, bl), double-double */
static inline void dd_add(double *hi, double *lo, double bh, double bl)
{
    double s, e;
    two_sum(*hi, bh, &s, &e);
    e += *lo + bl;
    *hi = s + e;
    *lo = e - (*hi - s);
}

/* One measure: its cells, the raw mass before each tile (double-double,
 * G[2g], G[2g + 1]) and the normalization. */
typedef struct w2_side {
    const double *p;
    size_t n, last;   /* boundary values from last on are T */
    size_t ntiles;    /* tiles covering the boundaries 0 .. n + 1 */
    double *G;        /* 2 (ntiles + 1) */
    double *Lt;       /* 2 W2_LANES ntiles: the lane blocks' totals (th, tl) */
    double m1, m2, m3; /* normalized value = ((raw m1) m2) m3 */
    int vec;           /* tile_chains transposes in vectors (w2_vectors) */
    int avx512;        /* tile_values and the merge with AVX-512 (w2_avx512) */
    double T;
} w2_side;

/* the eight compensated chains of the tile from cell base: loc[t W2_LANES
 * + l] = raw mass of lane block l before its cell t, th/tl its total;
 * *bad set when a cell is negative, NaN or infinite. With GCC or clang a
 * vector of eight doubles holds one cell of each lane block (GCC's generic
 * vector type, no intrinsics: plain IEEE operations lane by lane, the same
 * on every clone), and a full tile is read as 8 x 8 blocks (eight cells of
 * each lane block) transposed in registers; otherwise lane arrays, with the
 * same operations in the same order. */
#if defined(__GNUC__) && (defined(__clang__) || __GNUC__ >= 12) && !defined(BERG_W2_NO_VECTORS)
#  define W2_VECTORS 1
typedef double w2_vec __attribute__((vector_size(W2_LANES * sizeof(double))));
_Static_assert(W2_LANES == 8, "tile_chains transposes 8 x 8 blocks");
#  define W2_SHUF(a, b, i0, i1, i2, i3, i4, i5, i6, i7)                                        \
      __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)

typedef int64_t w2_ivec __attribute__((vector_size(W2_LANES * sizeof(int64_t))));

/* lane by lane max of the vectors a and b, m a w2_ivec (a blend: a vector
 * ?: is C++ only; a macro, not a function returning a vector, whose ABI
 * differs between the clones) */
#  define W2_MAX(a, b, m) ((m) = (a) > (b), (w2_vec)(((m) & (w2_ivec)(a)) | (~(m) & (w2_ivec)(b))))
/* a < b ? a : b lane by lane (as W2_MAX) */
#  define W2_MIN(a, b, m) ((m) = (a) < (b), (w2_vec)(((m) & (w2_ivec)(a)) | (~(m) & (w2_ivec)(b))))

/* one compensated step of the eight chains: loc gets the values before x,
 * kept non-decreasing (s + c can lose an ulp where c's own rounding
 * crosses one of s's) */
#  define W2_CHAIN(x, o)     /* o: offset in loc */                                          \
      do {                                                                                   \
          const w2_vec x_ = (x);                                                             \
          w2_vec u_ = s + x_, bp_ = u_ - s;                                                 \
          if (loc) {                                                                         \
              w2_vec v_ = s + c;                                                             \
              w2_ivec m_;                                                                    \
              v_ = W2_MAX(v_, mx, m_);                                                       \
              mx = v_;                                                                       \
              memcpy(loc + (o), &v_, sizeof v_);                                             \
          }                                                                                  \
          c += (s - (u_ - bp_)) + (x_ - bp_);                                                \
          s = u_;                                                                            \
      } while (0)
#endif

#ifdef W2_VECTORS
/* c[q] = lane q of r[0 .. 7], lane l of c[q] = lane q of r[l] (8 x 8) */
#  define W2_TRANSPOSE(r, c)                                                                 \
      do {                                                                                   \
          w2_vec t0 = W2_SHUF(r[0], r[1], 0, 8, 2, 10, 4, 12, 6, 14);                       \
          w2_vec t1 = W2_SHUF(r[0], r[1], 1, 9, 3, 11, 5, 13, 7, 15);                       \
          w2_vec t2 = W2_SHUF(r[2], r[3], 0, 8, 2, 10, 4, 12, 6, 14);                       \
          w2_vec t3 = W2_SHUF(r[2], r[3], 1, 9, 3, 11, 5, 13, 7, 15);                       \
          w2_vec t4 = W2_SHUF(r[4], r[5], 0, 8, 2, 10, 4, 12, 6, 14);                       \
          w2_vec t5 = W2_SHUF(r[4], r[5], 1, 9, 3, 11, 5, 13, 7, 15);                       \
          w2_vec t6 = W2_SHUF(r[6], r[7], 0, 8, 2, 10, 4, 12, 6, 14);                       \
          w2_vec t7 = W2_SHUF(r[6], r[7], 1, 9, 3, 11, 5, 13, 7, 15);                       \
          w2_vec u0 = W2_SHUF(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);                            \
          w2_vec u2 = W2_SHUF(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);                          \
          w2_vec u1 = W2_SHUF(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);                            \
          w2_vec u3 = W2_SHUF(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);                          \
          w2_vec u4 = W2_SHUF(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);                            \
          w2_vec u6 = W2_SHUF(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);                          \
          w2_vec u5 = W2_SHUF(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);                            \
          w2_vec u7 = W2_SHUF(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);                          \
          c[0] = W2_SHUF(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);                                 \
          c[1] = W2_SHUF(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);                                 \
          c[2] = W2_SHUF(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);                                 \
          c[3] = W2_SHUF(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);                                 \
          c[4] = W2_SHUF(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);                               \
          c[5] = W2_SHUF(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);                               \
          c[6] = W2_SHUF(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);                               \
          c[7] = W2_SHUF(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);                               \
      } while (0)
#endif

/* whether tile_chains' 8 x 8 transposes pay: with GCC on an AVX-512 CPU
 * (its x86-64-v4 clone) and with clang; GCC's AVX2 and baseline code for
 * them (two or four registers a vector) is slower than the lane arrays,
 * which give the same bits (2^20 cells, the AVX2 clones alone run on this
 * Zen 5: 34.8 ms with the transposes, 22.1 ms without) */
static int w2_vectors(void)
{
#if defined(W2_VECTORS) && defined(__clang__)
    return 1;
#elif defined(W2_VECTORS) && defined(W2_HAVE_CLONES)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

W2_CLONES static void tile_chains(const double *p, size_t n, size_t base, int vec, double *loc,
                                  double *th, double *tl, int *bad)
{
    const double *q = p + base;
#ifdef W2_VECTORS
    if (vec && base + W2_GRP <= n) {
        w2_vec s = {0}, c = {0}, mx = {0};
        for (size_t t = 0; t < W2_BLK; t += 8) {
            w2_vec r[8];
            for (size_t l = 0; l < 8; l++)
                memcpy(&r[l], q + l * W2_BLK + t, sizeof r[l]);
            w2_vec t0 = W2_SHUF(r[0], r[1], 0, 8, 2, 10, 4, 12, 6, 14);
            w2_vec t1 = W2_SHUF(r[0], r[1], 1, 9, 3, 11, 5, 13, 7, 15);
            w2_vec t2 = W2_SHUF(r[2], r[3], 0, 8, 2, 10, 4, 12, 6, 14);
            w2_vec t3 = W2_SHUF(r[2], r[3], 1, 9, 3, 11, 5, 13, 7, 15);
            w2_vec t4 = W2_SHUF(r[4], r[5], 0, 8, 2, 10, 4, 12, 6, 14);
            w2_vec t5 = W2_SHUF(r[4], r[5], 1, 9, 3, 11, 5, 13, 7, 15);
            w2_vec t6 = W2_SHUF(r[6], r[7], 0, 8, 2, 10, 4, 12, 6, 14);
            w2_vec t7 = W2_SHUF(r[6], r[7], 1, 9, 3, 11, 5, 13, 7, 15);
            w2_vec u0 = W2_SHUF(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
            w2_vec u2 = W2_SHUF(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
            w2_vec u1 = W2_SHUF(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
            w2_vec u3 = W2_SHUF(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
            w2_vec u4 = W2_SHUF(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
            w2_vec u6 = W2_SHUF(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
            w2_vec u5 = W2_SHUF(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
            w2_vec u7 = W2_SHUF(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
            const size_t o = t * W2_LANES;
            W2_CHAIN(W2_SHUF(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11), o);
            W2_CHAIN(W2_SHUF(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11), o + W2_LANES);
            W2_CHAIN(W2_SHUF(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11), o + 2 * W2_LANES);
            W2_CHAIN(W2_SHUF(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11), o + 3 * W2_LANES);
            W2_CHAIN(W2_SHUF(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15), o + 4 * W2_LANES);
            W2_CHAIN(W2_SHUF(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15), o + 5 * W2_LANES);
            W2_CHAIN(W2_SHUF(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15), o + 6 * W2_LANES);
            W2_CHAIN(W2_SHUF(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15), o + 7 * W2_LANES);
        }
        for (size_t l = 0; l < W2_LANES; l++) {
            th[l] = s[l];
            tl[l] = c[l];
        }
    } else
#else
    (void)vec;
#endif
    if (base + W2_GRP <= n) {
        double s[W2_LANES], c[W2_LANES], mx[W2_LANES];
        for (size_t l = 0; l < W2_LANES; l++)
            s[l] = c[l] = mx[l] = 0.0;
        for (size_t t = 0; t < W2_BLK; t++)
            for (size_t l = 0; l < W2_LANES; l++) {
                double m = chain_add(q[l * W2_BLK + t], &s[l], &c[l], &mx[l]);
                if (loc)
                    loc[t * W2_LANES + l] = m;
            }
        for (size_t l = 0; l < W2_LANES; l++) {
            th[l] = s[l];
            tl[l] = c[l];
        }
    } else {
        /* the tile past the last cell: each lane block up to its last cell
         * (the same operations; after it the chain no longer changes) */
        for (size_t l = 0; l < W2_LANES; l++) {
            const size_t b0 = base + l * W2_BLK;
            const size_t m = b0 < n ? (n - b0 < W2_BLK ? n - b0 : W2_BLK) : 0;
            double sl = 0.0, cl = 0.0, mxl = 0.0;
            for (size_t t = 0; t < W2_BLK; t++) {
                /* past the last cell x = 0: s, c and so the values stay */
                double mv = chain_add(t < m ? q[l * W2_BLK + t] : 0.0, &sl, &cl, &mxl);
                if (loc)
                    loc[t * W2_LANES + l] = mv;
                if (t >= m) {
                    if (loc)
                        for (size_t r = t + 1; r < W2_BLK; r++)
                            loc[r * W2_LANES + l] = mv;
                    break;
                }
            }
            th[l] = sl;
            tl[l] = cl;
        }
    }
    if (loc) /* (the second pass: checked in the first) */
        return;
    /* the checks of berg__check_nonneg (x >= 0 and finite: its bits below
     * those of +inf, or -0), on cells now in cache, in integers (vectors) */
    const size_t m = n - base < W2_GRP ? n - base : W2_GRP;
    uint64_t neg = 0;
    for (size_t k = 0; k < m; k++) {
        uint64_t u;
        memcpy(&u, q + k, sizeof u);
        neg |= (uint64_t)(u >= 0x7ff0000000000000u) & (uint64_t)(u != 0x8000000000000000u);
    }
    *bad |= neg != 0;
}

/* the lane blocks' starts within a tile: (sh[l], sl[l]) = sum of the totals
 * of lane blocks 0 .. l - 1, double-double; returns the tile's total in
 * (*uh, *ul) */
static void tile_starts(const double *th, const double *tl, double *sh, double *sl, double *uh,
                        double *ul)
{
    double h = 0.0, lo = 0.0;
    for (size_t l = 0; l < W2_LANES; l++) {
        sh[l] = h;
        sl[l] = lo;
        dd_add(&h, &lo, th[l], tl[l]);
    }
    *uh = h;
    *ul = lo;
}

/* The raw cumulative mass at the boundaries of tile g is
 * min(cap[l], sh[l] + (sl[l] + loc)): (sh, sl) the lane block's start (the
 * tile's start G + the lane blocks before it), cap[l] the first value of
 * the next lane block (or tile, from Gn). Where two double-double sums
 * meet, an empty cell could otherwise get an ulp of negative mass, and the
 * segments around it O(ulp) of W2^2, which equal measures must not have. */
static void tile_lanes(const double *G, const double *Gn, const double *th, const double *tl,
                       double *sh, double *sl, double *cap)
{
    double uh, ul, h = 0.0, lo = 0.0;
    tile_starts(th, tl, sh, sl, &uh, &ul);
    for (size_t l = 0; l < W2_LANES; l++)
        dd_add(&sh[l], &sl[l], G[0], G[1]);
    for (size_t l = 0; l + 1 < W2_LANES; l++)
        cap[l] = sh[l + 1] + (sl[l + 1] + 0.0);
    dd_add(&h, &lo, Gn[0], Gn[1]);
    cap[W2_LANES - 1] = h + (lo + 0.0);
}

/* pass 1: the raw mass before each tile, and the last cell with mass;
 * 0 when a cell is negative or not finite or the mass is not positive and
 * finite (the caller's checks then say which) */
static int side_scan(w2_side *X)
{
    const size_t n = X->n;
    X->ntiles = (n + 1) / W2_GRP + 1;
    double h = 0.0, lo = 0.0;
    int bad = 0;
    X->G[0] = X->G[1] = 0.0;
    for (size_t g = 0; g < X->ntiles; g++) {
        /* (the tile after next into the cache: the hardware's prefetch
         * does not follow the lane blocks' eight streams well) */
        for (size_t k = (g + 2) * W2_GRP; k < (g + 3) * W2_GRP && k < n; k += 8)
            W2_PREFETCH_LINE(X->p + k);
        if (g * W2_GRP < n) {
            double th[W2_LANES], tl[W2_LANES], sh[W2_LANES], sl[W2_LANES], uh, ul;
            tile_chains(X->p, n, g * W2_GRP, X->vec, NULL, th, tl, &bad);
            memcpy(X->Lt + 2 * W2_LANES * g, th, sizeof th);
            memcpy(X->Lt + 2 * W2_LANES * g + W2_LANES, tl, sizeof tl);
            tile_starts(th, tl, sh, sl, &uh, &ul);
            dd_add(&h, &lo, uh, ul);
        }
        X->G[2 * g + 2] = h;
        X->G[2 * g + 3] = lo;
    }
    double P = X->G[2 * X->ntiles] + X->G[2 * X->ntiles + 1];
    if (bad || !(P > 0.0) || !(P < 0x1p1023)) /* (near overflow: the checks decide) */
        return 0;
    size_t last = n;
    while (last > 1 && X->p[last - 1] == 0.0)
        last--;
    X->last = last;
    return 1;
}

/* scale factors 2^-e(P) as two exact factors, and P scaled into [1, 2) */
static double side_scale(w2_side *X)
{
    double P = X->G[2 * X->ntiles] + X->G[2 * X->ntiles + 1];
    int e = ilogb(P);
    int e1 = -e > 1000 ? 1000 : (-e < -1000 ? -1000 : -e);
    X->m1 = ldexp(1.0, e1);
    X->m2 = ldexp(1.0, -e - e1);
    return (P * X->m1) * X->m2;
}

#if defined(W2_AVX512) && defined(W2_VECTORS)
/* tile_values on a full tile below the last cell with mass, with AVX-512's
 * min and max instructions (the generic vectors' selects take two each):
 * the same operations lane by lane */
__attribute__((target("avx512f"))) static void
tile_fill_avx512(const double *q, const double *sh, const double *sl, const double *cap,
                 double m1, double m2, double m3, double T, double *out)
{
    const __m512d zero = _mm512_setzero_pd(), vsh = _mm512_loadu_pd(sh), vsl = _mm512_loadu_pd(sl),
                  vcap = _mm512_loadu_pd(cap), vT = _mm512_set1_pd(T), vm1 = _mm512_set1_pd(m1),
                  vm2 = _mm512_set1_pd(m2), vm3 = _mm512_set1_pd(m3);
    __m512d s = zero, c = zero, mx = zero;
    w2_vec r[8], y[8];
    for (size_t t = 0; t < W2_BLK; t += 8) {
        for (size_t l = 0; l < 8; l++)
            r[l] = (w2_vec)_mm512_loadu_pd(q + l * W2_BLK + t);
        W2_TRANSPOSE(r, y);
        for (size_t u = 0; u < 8; u++) {
            const __m512d x = (__m512d)y[u], sx = _mm512_add_pd(s, x), bp = _mm512_sub_pd(sx, s);
            __m512d v = _mm512_max_pd(_mm512_add_pd(s, c), mx);
            mx = v;
            v = _mm512_min_pd(_mm512_add_pd(vsh, _mm512_add_pd(vsl, v)), vcap);
            v = _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(v, vm1), vm2), vm3);
            y[u] = (w2_vec)_mm512_min_pd(v, vT);
            c = _mm512_add_pd(c, _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(sx, bp)),
                                               _mm512_sub_pd(x, bp)));
            s = sx;
        }
        W2_TRANSPOSE(y, r);
        for (size_t l = 0; l < 8; l++)
            _mm512_storeu_pd(out + l * W2_BLK + t, (__m512d)r[l]);
    }
}
#endif

/* the normalized boundary values of tile g into out[0 .. W2_GRP): the lane
 * blocks' chains again (tile_chains), from the starts and caps of the
 * lane totals of the first pass (the same values), the values normalized
 * as they are summed in the tiles below the last cell with mass */
W2_CLONES static void tile_values(const w2_side *X, size_t g, double *loc, double *out)
{
    const size_t base = g * W2_GRP, n = X->n, last = X->last;
    const double m1 = X->m1, m2 = X->m2, m3 = X->m3, T = X->T;
    if (base > n) {
        for (size_t k = 0; k < W2_GRP; k++)
            out[k] = W2_PAST;
        return;
    }
    double sh[W2_LANES], sl[W2_LANES], cap[W2_LANES];
    const double *th = X->Lt + 2 * W2_LANES * g, *tl = th + W2_LANES, *q = X->p + base;
    tile_lanes(X->G + 2 * g, X->G + 2 * g + 2, th, tl, sh, sl, cap);
    if (base + W2_GRP <= last) { /* (last <= n: a full tile) */
#if defined(W2_AVX512) && defined(W2_VECTORS)
        if (X->avx512) {
            tile_fill_avx512(q, sh, sl, cap, m1, m2, m3, T, out);
            return;
        }
#endif
#ifdef W2_VECTORS
        if (X->vec) {
            w2_vec s = {0}, c = {0}, mx = {0}, vsh, vsl, vcap, vT = (w2_vec){0} + T, r[8], y[8];
            w2_ivec msk;
            memcpy(&vsh, sh, sizeof vsh);
            memcpy(&vsl, sl, sizeof vsl);
            memcpy(&vcap, cap, sizeof vcap);
            for (size_t t = 0; t < W2_BLK; t += 8) {
                for (size_t l = 0; l < 8; l++)
                    memcpy(&r[l], q + l * W2_BLK + t, sizeof r[l]);
                W2_TRANSPOSE(r, y);
                for (size_t u = 0; u < 8; u++) {
                    const w2_vec x = y[u];
                    w2_vec v = s + c, sx = s + x, bp = sx - s;
                    v = W2_MAX(v, mx, msk);
                    mx = v;
                    v = vsh + (vsl + v);
                    v = W2_MIN(v, vcap, msk);
                    v = ((v * m1) * m2) * m3;
                    y[u] = W2_MIN(v, vT, msk);
                    c += (s - (sx - bp)) + (x - bp);
                    s = sx;
                }
                W2_TRANSPOSE(y, r);
                for (size_t l = 0; l < 8; l++)
                    memcpy(out + l * W2_BLK + t, &r[l], sizeof r[l]);
            }
            return;
        }
#endif
        double s[W2_LANES], c[W2_LANES], mx[W2_LANES];
        for (size_t l = 0; l < W2_LANES; l++)
            s[l] = c[l] = mx[l] = 0.0;
        for (size_t t = 0; t < W2_BLK; t++)
            for (size_t l = 0; l < W2_LANES; l++) {
                double v = sh[l] + (sl[l] + chain_add(q[l * W2_BLK + t], &s[l], &c[l], &mx[l]));
                v = v < cap[l] ? v : cap[l];
                v = ((v * m1) * m2) * m3;
                out[l * W2_BLK + t] = v < T ? v : T;
            }
        return;
    }
    double th2[W2_LANES], tl2[W2_LANES];
    int bad = 0;
    tile_chains(X->p, n, base, X->vec, loc, th2, tl2, &bad);
    for (size_t l = 0; l < W2_LANES; l++)
        for (size_t t = 0; t < W2_BLK; t++) {
            size_t k = base + l * W2_BLK + t;
            double v = sh[l] + (sl[l] + loc[t * W2_LANES + l]);
            v = v < cap[l] ? v : cap[l];
            double a = ((v * m1) * m2) * m3;
            a = a < T ? a : T;
            a = k >= last ? T : a;
            out[l * W2_BLK + t] = k > n ? W2_PAST : a;
        }
}

/* A sliding window: a[k - org] = A[k] for k in [org, org + len), org a
 * multiple of W2_GRP; room for cap values (slid back to the start only
 * when the next tile would not fit). */
typedef struct w2_win {
    double *a;
    size_t org, len, cap;
} w2_win;

/* make the window start at or before the tile of lo and reach past hi */
static void win_cover(const w2_side *X, w2_win *W, double *loc, size_t lo, size_t hi)
{
    const size_t org = lo / W2_GRP * W2_GRP, need = (hi / W2_GRP + 1) * W2_GRP;
    if (org < W->org || org >= W->org + W->len) { /* a jump (the search): start afresh */
        W->org = org;
        W->len = 0;
    } else if (need - W->org > W->cap) {
        /* no room for the tiles to hi: keep those from org's on, at the start */
        size_t keep = W->org + W->len - org;
        memmove(W->a, W->a + (org - W->org), keep * sizeof(double));
        W->org = org;
        W->len = keep;
    }
    while (W->org + W->len <= hi) {
        tile_values(X, (W->org + W->len) / W2_GRP, loc, W->a + W->len);
        W->len += W2_GRP;
    }
}

/* where the pieces of the batch of len steps from d (at i0, j0) end: end[l]
 * of the first e = d + len (l + 1) / W2_PIECES merged ends are A's (ties
 * to A): the number of i with A's end i before B's end e - i - 1, A[i + 1]
 * <= B[e - i] (true, then false), by binary searches side by side
 * (independent chains of loads instead of one after the other) */
static void win_splits(const w2_win *WA, const w2_win *WB, size_t n, size_t d, size_t len,
                       size_t i0, size_t j0, size_t ihi, size_t *end)
{
    const double *A = WA->a - WA->org, *B = WB->a - WB->org;
    size_t b[W2_PIECES], m[W2_PIECES], e[W2_PIECES];
    int more = 0;
    for (size_t l = 0; l < W2_PIECES; l++) {
        /* the end is in [lo, hi]: i0 <= i, e - i <= n, e - i >= j0 */
        const size_t el = d + len * (l + 1) / W2_PIECES;
        size_t lo = el > n && el - n > i0 ? el - n : i0, hi = el - j0;
        hi = hi < ihi ? hi : ihi;
        hi = hi < n ? hi : n;
        e[l] = el;
        b[l] = lo;
        m[l] = hi - lo;
        more |= m[l] > 1;
    }
    /* (the answer stays in [b, b + m]; probes below b + m <= hi) */
    while (more) {
        more = 0;
        for (size_t l = 0; l < W2_PIECES; l++)
            if (m[l] > 1) {
                const size_t half = m[l] / 2, k = b[l] + half;
                b[l] = A[k + 1] <= B[e[l] - k] ? k : b[l];
                m[l] -= half;
                more |= m[l] > 1;
            }
    }
    for (size_t l = 0; l < W2_PIECES; l++)
        end[l] = b[l] + (m[l] && A[b[l] + 1] <= B[e[l] - b[l]]);
}

/* v clamped to [0, 1], NaN to 0 */
static inline double frac01(double v)
{
    v = v > 0.0 ? v : 0.0;
    return v < 1.0 ? v : 1.0;
}

/* The state of the pieces of a batch, piece by piece. The two windows are
 * one array V (B's values from offset ob on): i indexes A's current cell in
 * V, j B's (ob added); ea, eb are the ends of those cells, la, lb their
 * starts; s the last end taken and a the value of D there; D's integer part
 * is i - j + kc (kc = ob + A's origin - B's origin). */
typedef struct w2_lanes {
    int64_t i[W2_PIECES], j[W2_PIECES];
    double ea[W2_PIECES], eb[W2_PIECES], la[W2_PIECES], lb[W2_PIECES];
    double s[W2_PIECES], a[W2_PIECES], acc[W2_PIECES];
} w2_lanes;

/* One step of piece l (see above): the next end s1 = min(ea, eb) (A's on a
 * tie), the side not taken at g = (hi - s1) / (hi - lo) short of the end of
 * its cell [lo, hi] (a division, exact for a whole cell: g = 1; 0 / 0 for
 * an empty cell gives 0; a subnormal length divides without overflow),
 * D(s1) = k + g when A's cell ends and k - g when B's does, the segment's
 * (s1 - s)(a^2 + ab + b^2) summed into acc, and the taken side's next cell
 * loaded. The vector code (w2_run_avx512) does these operations lane by
 * lane in the same order. */
static inline void w2_step(const double *restrict V, int64_t kc, w2_lanes *restrict L, size_t l)
{
    const double ea = L->ea[l], eb = L->eb[l];
    int64_t i = L->i[l], j = L->j[l];
    const int64_t ta = ea <= eb;
    const double t = (double)ta, sg = t + t - 1.0;
    const double s1 = ea < eb ? ea : eb, hi = eb > ea ? eb : ea;
    const double lo = ta ? L->lb[l] : L->la[l];
    const double g = frac01((hi - s1) / (hi - lo));
    const double b = (double)(i - j + kc) + sg * g, a = L->a[l];
    L->acc[l] += (s1 - L->s[l]) * (a * (a + b) + b * b);
    L->s[l] = s1;
    L->a[l] = b;
    i += ta;
    j += 1 - ta;
    const double nv = V[(ta ? i : j) + 1];
    L->la[l] = ta ? ea : L->la[l];
    L->lb[l] = ta ? L->lb[l] : eb;
    L->ea[l] = ta ? nv : ea;
    L->eb[l] = ta ? eb : nv;
    L->i[l] = i;
    L->j[l] = j;
}

/* The cells of the tiles the next batch will compute into the cache, two
 * lines of each measure per step of the merge from pa and pb on, for the
 * first npf steps: the tiles are computed in bursts, one per batch, which
 * the hardware's prefetch does not follow, and a burst of prefetches would
 * stall as the loads do. */
#define W2_PREFETCH(t)                                                                        \
    do {                                                                                     \
        if ((t) < npf) {                                                                     \
            W2_PREFETCH_LINE(pa + 16 * (t));                                                 \
            W2_PREFETCH_LINE(pa + 16 * (t) + 8);                                             \
            W2_PREFETCH_LINE(pb + 16 * (t));                                                 \
            W2_PREFETCH_LINE(pb + 16 * (t) + 8);                                             \
        }                                                                                    \
    } while (0)

/* steps of all pieces side by side, acc reset first */
W2_CLONES static void w2_run(const double *restrict V, int64_t kc, w2_lanes *restrict L,
                             size_t steps, const double *pa, const double *pb, size_t npf)
{
    for (size_t l = 0; l < W2_PIECES; l++)
        L->acc[l] = 0.0;
    for (size_t t = 0; t < steps; t++) {
        W2_PREFETCH(t);
        for (size_t l = 0; l < W2_PIECES; l++)
            w2_step(V, kc, L, l);
    }
}

#ifdef W2_AVX512
/* w2_run with AVX-512: four vectors of eight pieces, each step's load one
 * gather (the compiler's own vector code loads lane by lane, which costs
 * more than the rest of a step), the same operations lane by lane */
__attribute__((target("avx512f,avx512dq"))) static void
w2_run_avx512(const double *restrict V, int64_t kc, w2_lanes *restrict L, size_t steps,
              const double *pa, const double *pb, size_t npf)
{
    enum { NV = W2_PIECES / 8 };
    __m512d ea[NV], eb[NV], la[NV], lb[NV], s[NV], a[NV], acc[NV];
    __m512i I[NV], J[NV];
    const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
    const __m512i ione = _mm512_set1_epi64(1), vkc = _mm512_set1_epi64(kc);
    for (int v = 0; v < NV; v++) {
        ea[v] = _mm512_loadu_pd(L->ea + 8 * v);
        eb[v] = _mm512_loadu_pd(L->eb + 8 * v);
        la[v] = _mm512_loadu_pd(L->la + 8 * v);
        lb[v] = _mm512_loadu_pd(L->lb + 8 * v);
        s[v] = _mm512_loadu_pd(L->s + 8 * v);
        a[v] = _mm512_loadu_pd(L->a + 8 * v);
        acc[v] = zero;
        I[v] = _mm512_add_epi64(_mm512_loadu_si512(L->i + 8 * v), ione); /* (i + 1, j + 1) */
        J[v] = _mm512_add_epi64(_mm512_loadu_si512(L->j + 8 * v), ione);
    }
    for (size_t t = 0; t < steps; t++) {
        W2_PREFETCH(t);
        for (int v = 0; v < NV; v++) {
            const __mmask8 m = _mm512_cmp_pd_mask(ea[v], eb[v], _CMP_LE_OQ);
            const __m512d s1 = _mm512_min_pd(ea[v], eb[v]), hi = _mm512_max_pd(eb[v], ea[v]);
            const __m512d lo = _mm512_mask_blend_pd(m, la[v], lb[v]);
            __m512d g = _mm512_div_pd(_mm512_sub_pd(hi, s1), _mm512_sub_pd(hi, lo));
            g = _mm512_min_pd(_mm512_max_pd(g, zero), one);
            const __m512d k =
                _mm512_cvtepi64_pd(_mm512_add_epi64(_mm512_sub_epi64(I[v], J[v]), vkc));
            /* k + g where A's end is taken, k - g (= k + (-1) g) where B's is */
            const __m512d b = _mm512_mask_sub_pd(_mm512_add_pd(k, g), (__mmask8)~m, k, g);
            const __m512d sq = _mm512_add_pd(_mm512_mul_pd(a[v], _mm512_add_pd(a[v], b)),
                                             _mm512_mul_pd(b, b));
            acc[v] = _mm512_add_pd(acc[v], _mm512_mul_pd(_mm512_sub_pd(s1, s[v]), sq));
            s[v] = s1;
            a[v] = b;
            I[v] = _mm512_mask_add_epi64(I[v], m, I[v], ione);
            J[v] = _mm512_mask_add_epi64(J[v], (__mmask8)~m, J[v], ione);
            const __m512d nv = _mm512_i64gather_pd(_mm512_mask_blend_epi64(m, J[v], I[v]), V, 8);
            la[v] = _mm512_mask_blend_pd(m, la[v], ea[v]);
            lb[v] = _mm512_mask_blend_pd(m, eb[v], lb[v]);
            ea[v] = _mm512_mask_blend_pd(m, ea[v], nv);
            eb[v] = _mm512_mask_blend_pd(m, nv, eb[v]);
        }
    }
    for (int v = 0; v < NV; v++) {
        _mm512_storeu_pd(L->ea + 8 * v, ea[v]);
        _mm512_storeu_pd(L->eb + 8 * v, eb[v]);
        _mm512_storeu_pd(L->la + 8 * v, la[v]);
        _mm512_storeu_pd(L->lb + 8 * v, lb[v]);
        _mm512_storeu_pd(L->s + 8 * v, s[v]);
        _mm512_storeu_pd(L->a + 8 * v, a[v]);
        _mm512_storeu_pd(L->acc + 8 * v, acc[v]);
        _mm512_storeu_si512(L->i + 8 * v, _mm512_sub_epi64(I[v], ione));
        _mm512_storeu_si512(L->j + 8 * v, _mm512_sub_epi64(J[v], ione));
    }
}
#endif

/* the merge steps [d0, d1) (a half of the merge) in batches; sum of the
 * segments' ds (a^2 + ab + b^2), cell units */
static double merge_half(const w2_side *X, const w2_side *Y, double *buf, size_t win, size_t d0,
                         size_t d1, int avx512)
{
    const size_t n = X->n;
    w2_win WA = {buf, 0, 0, win}, WB = {buf + win, 0, 0, win};
    double *loc = buf + 2 * win;
    const int64_t ob = (int64_t)win;
    (void)avx512;
    /* where the merge is at d0: search over the whole range, tile by tile */
    size_t lo = d0 > n ? d0 - n : 0, hi = d0 < n ? d0 : n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        win_cover(X, &WA, loc, mid + 1, mid + 1);
        win_cover(Y, &WB, loc, d0 - mid, d0 - mid);
        if (WA.a[mid + 1 - WA.org] <= WB.a[d0 - mid - WB.org])
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i0 = lo, j0 = d0 - lo;
    double sum = 0.0, comp = 0.0;
    for (size_t d = d0; d < d1;) {
        const size_t len = d1 - d < W2_BATCH ? d1 - d : W2_BATCH;
        /* the boundaries this batch can reach */
        size_t ihi = i0 + len + 1 < n + 1 ? i0 + len + 1 : n + 1;
        size_t jhi = j0 + len + 1 < n + 1 ? j0 + len + 1 : n + 1;
        win_cover(X, &WA, loc, i0, ihi);
        win_cover(Y, &WB, loc, j0, jhi);
        const double *A = WA.a - WA.org, *B = WB.a - WB.org;
        const int64_t kc = ob + (int64_t)WA.org - (int64_t)WB.org;
        w2_lanes L;
        size_t end[W2_PIECES], steps[W2_PIECES], common = len;
        win_splits(&WA, &WB, n, d, len, i0, j0, ihi, end);
        for (size_t l = 0; l < W2_PIECES; l++) {
            size_t da = d + len * l / W2_PIECES, db = d + len * (l + 1) / W2_PIECES;
            size_t i = l == 0 ? i0 : end[l - 1], j = da - i;
            steps[l] = db - da;
            common = steps[l] < common ? steps[l] : common;
            double s = A[i] > B[j] ? A[i] : B[j];
            double fu = frac01((s - A[i]) / (A[i + 1] - A[i]));
            double fv = frac01((s - B[j]) / (B[j + 1] - B[j]));
            L.i[l] = (int64_t)(i - WA.org);
            L.j[l] = (int64_t)(j - WB.org) + ob;
            L.ea[l] = A[i + 1];
            L.eb[l] = B[j + 1];
            L.la[l] = A[i];
            L.lb[l] = B[j];
            L.s[l] = s;
            L.a[l] = ((double)i - (double)j) + (fu - fv);
        }
        double part[W2_PIECES], pc[W2_PIECES];
        for (size_t l = 0; l < W2_PIECES; l++)
            part[l] = pc[l] = 0.0;
        /* the next batch's cells: about len / 2 of each measure past the
         * windows, two lines a step */
        const size_t pka = WA.org + WA.len < n ? WA.org + WA.len : n;
        const size_t pkb = WB.org + WB.len < n ? WB.org + WB.len : n;
        const size_t pfa = (n - pka) / 16, pfb = (n - pkb) / 16;
        size_t npf = len / 32;
        npf = npf < pfa ? npf : pfa;
        npf = npf < pfb ? npf : pfb;
        const double *pa = X->p + pka, *pb = Y->p + pkb;
        for (size_t t = 0; t < common; t += W2_SUB) {
            const size_t m = common - t < W2_SUB ? common - t : W2_SUB, np = npf < m ? npf : m;
#ifdef W2_AVX512
            if (avx512)
                w2_run_avx512(WA.a, kc, &L, m, pa, pb, np);
            else
#endif
                w2_run(WA.a, kc, &L, m, pa, pb, np);
            pa += 16 * np;
            pb += 16 * np;
            npf -= np;
            for (size_t l = 0; l < W2_PIECES; l++)
                berg__neumaier_add(&part[l], &pc[l], L.acc[l]);
        }
        for (size_t l = 0; l < W2_PIECES; l++) {
            L.acc[l] = 0.0;
            for (size_t t = common; t < steps[l]; t++)
                w2_step(WA.a, kc, &L, l);
            berg__neumaier_add(&part[l], &pc[l], L.acc[l]);
            berg__neumaier_add(&sum, &comp, part[l]);
            berg__neumaier_add(&sum, &comp, pc[l]);
        }
        i0 = end[W2_PIECES - 1];
        j0 = d + len - i0;
        d += len;
    }
    return sum + comp;
}

/* One scratch block kept between calls (up to W2_KEEP bytes): a fresh
 * block costs a page fault per 4 KiB page when first written, about 14 us
 * each on the (virtual) machine of the figures in docs/wasserstein.md, 5
 * ms a call on 2^20 cells whenever other code (numpy's argsort, POT's
 * emd2_1d) has given its memory back to the system in between. Taken and
 * given back by atomic exchanges: concurrent calls allocate their own. */
#define W2_KEEP ((size_t)16 << 20)
typedef struct w2_block {
    size_t bytes;
    double data[];
} w2_block;
static _Atomic(w2_block *) w2_kept;

/* a block of at least bytes, or NULL */
static w2_block *block_get(size_t bytes)
{
    w2_block *b = atomic_exchange(&w2_kept, NULL);
    if (b && b->bytes >= bytes)
        return b;
    free(b);
    b = malloc(sizeof(w2_block) + bytes);
    if (b)
        b->bytes = bytes;
    return b;
}

static void block_put(w2_block *b)
{
    if (b->bytes > W2_KEEP) {
        free(b);
        return;
    }
    free(atomic_exchange(&w2_kept, b));
}

#if defined(__GNUC__)
__attribute__((destructor)) static void block_release(void)
{
    free(atomic_exchange(&w2_kept, NULL));
}
#endif

typedef struct w2_job {
    w2_side *X, *Y;
    double *buf; /* per thread: 2 windows and a tile's chains */
    size_t n, win, halves, nbuf;
    int avx512;
    int ok[2];
    double part[2];
} w2_job;

/* the first pass over p (range 0) or q (range 1) */
static void scan_range(void *ctx, size_t b, size_t e, size_t r)
{
    w2_job *job = ctx;
    (void)b;
    (void)e;
    job->ok[r] = side_scan(r == 0 ? job->X : job->Y);
}


static void merge_range(void *ctx, size_t b, size_t e, size_t r)
{
    w2_job *job = ctx;
    (void)b;
    (void)e;
    const size_t steps = 2 * job->n;
    /* (one thread: the halves one after the other in one buffer) */
    double *buf = job->buf + r % job->nbuf * (2 * job->win + W2_GRP);
    job->part[r] = merge_half(job->X, job->Y, buf, job->win, steps * r / job->halves,
                              steps * (r + 1) / job->halves, job->avx512);
}

/* W2 in the space's units, or NaN when the scratch cannot be allocated or
 * p or q is not a measure (the caller then checks and walks) */
static double w2_merge(const berg_space *space, const double *p, const double *q,
                       size_t nthreads)
{
    const size_t n = space->size, ntiles = (n + 1) / W2_GRP + 1;
    /* a window holds at most the tiles of the boundaries 0 .. n + 1; one
     * half below W2_HALVES_MIN cells (the cut depends on n only) */
    const size_t win = ntiles + 2 < W2_WIN / W2_GRP ? (ntiles + 2) * W2_GRP : W2_WIN;
    const size_t halves = n >= W2_HALVES_MIN ? 2 : 1, per = 2 * win + W2_GRP;
    const size_t nbuf = nthreads >= 2 ? halves : 1;
    w2_block *block =
        block_get((nbuf * per + 4 * (ntiles + 1) + 4 * W2_LANES * ntiles) * sizeof(double));
    if (!block)
        return NAN;
    double *buf = block->data;
    const int vec = w2_vectors();
    double *G = buf + nbuf * per, *Lt = G + 4 * (ntiles + 1);
    const int avx512 = w2_avx512();
    w2_side X = {.p = p, .n = n, .G = G, .Lt = Lt, .vec = vec, .avx512 = avx512};
    w2_side Y = {.p = q, .n = n, .G = G + 2 * (ntiles + 1), .Lt = Lt + 2 * W2_LANES * ntiles,
                 .vec = vec, .avx512 = avx512};
    w2_job job = {.X = &X, .Y = &Y, .buf = buf, .n = n, .win = win, .halves = halves,
                  .nbuf = nbuf, .avx512 = avx512};
    berg__parallel_ranges(2, 2, nthreads, scan_range, &job);
    if (!job.ok[0] || !job.ok[1]) {
        block_put(block);
        return NAN;
    }
    double P1 = side_scale(&X), Q1 = side_scale(&Y);
    X.m3 = Q1;
    Y.m3 = P1;
    X.T = Y.T = P1 * Q1;
    job.part[1] = 0.0;
    berg__parallel_ranges(halves, halves, nthreads, merge_range, &job);
    block_put(block);
    double sum = 0.0, comp = 0.0;
    berg__neumaier_add(&sum, &comp, job.part[0]);
    berg__neumaier_add(&sum, &comp, job.part[1]);
    /* the CDFs run to T = P'Q' in [1, 4): the quantile's s is s / T */
    return space->h[0] * sqrt(space->g[0]) * sqrt((sum + comp) / (3.0 * X.T));
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

/* W2 by the merge when the arguments are valid (the merge's first pass
 * checks the measures, which it reads anyway) and the scratch is there;
 * otherwise NaN, and check_1d then refuses with its message or the walk
 * runs */
static double w2_fast(const char *fn, const berg_space *space, const double *p, const double *q,
                      const void *out)
{
    if (!space || !p || !q || !out || berg__space_check(space, fn) != BERG_OK ||
        space->ndim != 1)
        return NAN;
    return w2_merge(space, p, q, berg__threads(0));
}

berg_status berg_w2_distance_1d(const berg_space *space, const double *p, const double *q,
                                double *w2)
{
    static const char fn[] = "berg_w2_distance_1d";
    double w = w2_fast(fn, space, p, q, w2), mp, mq;
    if (isnan(w)) {
        BERG_TRY(check_1d(fn, space, p, q, w2, "w2", &mp, &mq));
        w = wp_walk(space, 2.0, p, q, mp, mq);
    }
    *w2 = w;
    return BERG_OK;
}

berg_status berg_wp_distance_1d(const berg_space *space, double order, const double *p,
                                const double *q, double *wp)
{
    static const char fn[] = "berg_wp_distance_1d";
    BERG_REQUIRE(isfinite(order) && order >= 1.0, BERG_ERR_DOMAIN,
                 "%s: order = %g must be finite and >= 1", fn, order);
    double w = order == 2.0 ? w2_fast(fn, space, p, q, wp) : NAN, mp, mq;
    if (isnan(w)) {
        BERG_TRY(check_1d(fn, space, p, q, wp, "wp", &mp, &mq));
        w = wp_walk(space, order, p, q, mp, mq);
    }
    *wp = w;
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
