/* space: construction, queries, integrals, moments, and every bad input. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "space/internal.h"
#include "space/iter.h"
#include "testutil.h"

static void test_queries(void)
{
    size_t n[3] = {4, 5, 6};
    double lo[3] = {-1, 0, 2}, hi[3] = {1, 10, 3.5};
    berg_boundary bc[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    double g[9] = {4, 0, 0, 0, 1, 0, 0, 0, 9};
    berg_space *s = tu_space(3, n, lo, hi, bc, g);
    if (!s)
        return;
    CHECK(berg_space_rank(s) == 3, "rank");
    CHECK(berg_space_size(s) == 120, "size");
    size_t nn[3];
    double l[3], u[3], h[3], gg[9], gi[9], w, sd, vol, x[6];
    berg_boundary b[3];
    berg_space_shape(s, nn);
    berg_space_bounds(s, l, u);
    berg_space_boundaries(s, b);
    berg_space_spacing(s, h);
    berg_space_metric(s, gg);
    berg_space_inverse_metric(s, gi);
    sd = berg_space_volume_factor(s);
    w = berg_space_cell_weight(s);
    vol = berg_space_volume(s);
    for (int a = 0; a < 3; a++) {
        CHECK(nn[a] == n[a] && l[a] == lo[a] && u[a] == hi[a] && b[a] == bc[a], "axis %d", a);
        CHECK_REL(h[a], (hi[a] - lo[a]) / (double)n[a], 1e-15, "spacing");
    }
    CHECK_REL(sd, 6.0, 1e-15, "sqrt det g");
    CHECK_REL(w, 6.0 * 0.5 * 2.0 * 0.25, 1e-15, "cell weight");
    CHECK_REL(vol, 6.0 * 2 * 10 * 1.5, 1e-15, "volume");
    CHECK_REL(gi[0], 0.25, 1e-15, "inverse metric 00");
    CHECK_REL(gi[8], 1.0 / 9.0, 1e-15, "inverse metric 22");
    CHECK(gi[1] == 0 && gi[5] == 0, "inverse metric off-diagonal");
    CHECK_STATUS(berg_space_coordinates(s, 2, x), BERG_OK, "coordinates");
    CHECK_REL(x[0], 2.0 + 0.125, 1e-15, "first cell centre");
    CHECK_REL(x[5], 3.5 - 0.125, 1e-15, "last cell centre");
    CHECK_STATUS(berg_space_coordinates(s, 3, x), BERG_ERR_DOMAIN, "axis out of range");
    CHECK_STATUS(berg_space_coordinates(s, SIZE_MAX, x), BERG_ERR_DOMAIN, "huge axis");
    CHECK_STATUS(berg_space_shape(s, NULL), BERG_ERR_NULL, "NULL shape");
    CHECK_STATUS(berg_space_shape(NULL, nn), BERG_ERR_NULL, "NULL space");
    CHECK(berg_space_rank(NULL) == 0 && berg_space_size(NULL) == 0, "NULL space queries");
    CHECK(isnan(berg_space_cell_weight(NULL)) && isnan(berg_space_volume(NULL)) &&
              isnan(berg_space_volume_factor(NULL)),
          "NULL space: scalar queries give NaN");
    CHECK_STATUS(berg_space_coordinates(s, 3, x), BERG_ERR_DOMAIN, "axis 3 of a rank-3 space");
    CHECK_MESSAGE("berg_space_coordinates: axis = 3", "message names the function and axis");
    CHECK(berg_space_max_rank() == 8, "max rank");

    berg_space *c = NULL;
    CHECK_STATUS(berg_space_clone(&c, s), BERG_OK, "clone");
    CHECK(berg_space_equal(s, c), "clone equals original");
    CHECK_STATUS(berg__space_match(s, c, "f", "a", "b"), BERG_OK, "match");
    berg_space_destroy(c);
    bc[1] = BERG_DIRICHLET;
    berg_space *t = tu_space(3, n, lo, hi, bc, g);
    CHECK(!berg_space_equal(s, t), "different boundary kinds differ");
    CHECK_STATUS(berg__space_match(s, t, "f", "a", "b"), BERG_ERR_MISMATCH, "mismatch");
    CHECK_MESSAGE("axis 1", "mismatch names the axis");
    berg_space_destroy(t);
    berg_space_destroy(s);
    berg_space_destroy(NULL);
}

static void test_general_metric(void)
{
    /* periodic axes may be coupled; the inverse is exact to rounding */
    size_t n[2] = {8, 8};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    double g[4] = {2.0, 0.5, 0.5, 1.0};
    berg_space *s = tu_space(2, n, lo, hi, NULL, g);
    if (!s)
        return;
    double gi[4], sd;
    berg_space_inverse_metric(s, gi);
    sd = berg_space_volume_factor(s);
    double det = 2.0 - 0.25;
    CHECK_REL(gi[0], 1.0 / det, 1e-15, "ginv 00");
    CHECK_REL(gi[1], -0.5 / det, 1e-15, "ginv 01");
    CHECK_REL(gi[3], 2.0 / det, 1e-15, "ginv 11");
    CHECK(gi[1] == gi[2], "ginv symmetric");
    CHECK_REL(sd, sqrt(det), 1e-15, "sqrt det");
    berg_space_destroy(s);
}

static void test_integrals(void)
{
    size_t n[2] = {30, 20};
    double lo[2] = {-3, 0}, hi[2] = {3, 2};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    double g[4] = {1.5, 0, 0, 1};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    if (!s)
        return;
    size_t N = berg_space_size(s);
    double *f = malloc(N * sizeof *f), *q = malloc(N * sizeof *q);
    double vol, I, mass;
    vol = berg_space_volume(s);
    for (size_t i = 0; i < N; i++)
        f[i] = 2.0;
    CHECK_STATUS(berg_space_integrate(s, f, &I), BERG_OK, "integrate");
    CHECK_REL(I, 2.0 * vol, 1e-14, "integral of a constant");
    CHECK_STATUS(berg_space_normalize(s, f, &mass), BERG_OK, "normalize");
    CHECK_REL(mass, 2.0 * vol, 1e-14, "mass returned");
    berg_space_integrate(s, f, &I);
    CHECK_REL(I, 1.0, 1e-14, "normalized mass");

    /* l2 inner product and tangent projection */
    unsigned long long seed = 7;
    for (size_t i = 0; i < N; i++) {
        f[i] = tu_uniform(&seed) - 0.3;
        q[i] = tu_uniform(&seed);
    }
    double ip, direct = 0.0, w;
    w = berg_space_cell_weight(s);
    for (size_t i = 0; i < N; i++)
        direct += f[i] * q[i];
    CHECK_STATUS(berg_space_inner_l2(s, f, q, &ip), BERG_OK, "inner_l2");
    CHECK_REL(ip, direct * w, 1e-13, "inner product");
    CHECK_STATUS(berg_space_project_tangent(s, f, f), BERG_OK, "project in place");
    berg_space_integrate(s, f, &I);
    CHECK_ABS(I, 0.0, 1e-14, "tangent vector integrates to zero");

    /* bad inputs leave outputs untouched */
    f[17] = NAN;
    I = 42.0;
    CHECK_STATUS(berg_space_integrate(s, f, &I), BERG_ERR_NONFINITE, "NaN integrand");
    CHECK_MESSAGE("f[17]", "NaN index named");
    CHECK(I == 42.0, "output untouched");
    for (size_t i = 0; i < N; i++)
        q[i] = 1.0;
    q[33] = -0.5;
    CHECK_STATUS(berg_space_normalize(s, q, &mass), BERG_ERR_NEGATIVE, "negative density");
    CHECK_MESSAGE("index 33", "negative index named");
    CHECK(q[0] == 1.0 && q[33] == -0.5, "density untouched");
    tu_fill(q, N, 0.0);
    CHECK_STATUS(berg_space_normalize(s, q, &mass), BERG_ERR_MASS, "zero mass");
    tu_fill(q, N, DBL_MAX);
    CHECK_STATUS(berg_space_normalize(s, q, &mass), BERG_ERR_MASS, "overflowing mass");
    CHECK(tu_untouched(q, N, DBL_MAX), "density untouched after mass failure");
    CHECK_STATUS(berg_space_integrate(s, NULL, &I), BERG_ERR_NULL, "NULL f");
    CHECK_STATUS(berg_space_integrate(s, q, NULL), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_space_integrate(NULL, q, &I), BERG_ERR_NULL, "NULL space");
    free(f);
    free(q);
    berg_space_destroy(s);
}

static void test_moments(void)
{
    /* uniform density: exact discrete moments of cell centres */
    size_t n[2] = {10, 7};
    double lo[2] = {1, -2}, hi[2] = {3, 5};
    berg_space *s = tu_space(2, n, lo, hi, NULL, NULL);
    if (!s)
        return;
    size_t N = berg_space_size(s);
    double *p = malloc(N * sizeof *p);
    tu_fill(p, N, 3.0); /* unnormalized on purpose */
    double m[2], c[4];
    CHECK_STATUS(berg_space_moments(s, p, m, c), BERG_OK, "moments");
    CHECK_REL(m[0], 2.0, 1e-15, "uniform mean 0");
    CHECK_REL(m[1], 1.5, 1e-15, "uniform mean 1");
    double h0 = 0.2, h1 = 1.0;
    CHECK_REL(c[0], h0 * h0 * (100.0 - 1.0) / 12.0, 1e-14, "uniform variance 0");
    CHECK_REL(c[3], h1 * h1 * (49.0 - 1.0) / 12.0, 1e-14, "uniform variance 1");
    CHECK_ABS(c[1], 0.0, 1e-15, "uniform covariance");
    /* two point masses: mean is the midpoint, covariance 1/4 d d^T */
    tu_fill(p, N, 0.0);
    p[2 * 7 + 1] = 1.0;
    p[8 * 7 + 5] = 1.0;
    double x0 = 1 + 2.5 * h0, y0 = -2 + 1.5 * h1, x1 = 1 + 8.5 * h0, y1 = -2 + 5.5 * h1;
    berg_space_mean(s, p, m);
    berg_space_covariance(s, p, c);
    CHECK_REL(m[0], 0.5 * (x0 + x1), 1e-15, "two-point mean 0");
    CHECK_REL(m[1], 0.5 * (y0 + y1), 1e-15, "two-point mean 1");
    CHECK_REL(c[0], 0.25 * (x1 - x0) * (x1 - x0), 1e-14, "two-point var 0");
    CHECK_REL(c[1], 0.25 * (x1 - x0) * (y1 - y0), 1e-14, "two-point cov 01");
    CHECK(c[1] == c[2], "covariance symmetric");
    CHECK_REL(c[3], 0.25 * (y1 - y0) * (y1 - y0), 1e-14, "two-point var 1");
    p[0] = -1.0;
    m[0] = 99.0;
    CHECK_STATUS(berg_space_mean(s, p, m), BERG_ERR_NEGATIVE, "negative density moments");
    CHECK(m[0] == 99.0, "mean untouched");
    free(p);
    berg_space_destroy(s);

    /* a correlated Gaussian on a fine 3-D grid: continuum moments (the
     * midpoint rule is spectrally accurate for it) */
    size_t n3[3] = {64, 64, 48};
    double lo3[3] = {-8, -8, -6}, hi3[3] = {8, 8, 6};
    s = tu_space(3, n3, lo3, hi3, NULL, NULL);
    N = berg_space_size(s);
    p = malloc(N * sizeof *p);
    double S[9] = {1.0, 0.4, 0.0, 0.4, 0.8, 0.2, 0.0, 0.2, 0.6};
    /* inverse of S by cofactors */
    double det = S[0] * (S[4] * S[8] - S[5] * S[7]) - S[1] * (S[3] * S[8] - S[5] * S[6]) +
                 S[2] * (S[3] * S[7] - S[4] * S[6]);
    double P[9] = {(S[4] * S[8] - S[5] * S[7]) / det, -(S[1] * S[8] - S[2] * S[7]) / det,
                   (S[1] * S[5] - S[2] * S[4]) / det, -(S[3] * S[8] - S[5] * S[6]) / det,
                   (S[0] * S[8] - S[2] * S[6]) / det, -(S[0] * S[5] - S[2] * S[3]) / det,
                   (S[3] * S[7] - S[4] * S[6]) / det, -(S[0] * S[7] - S[1] * S[6]) / det,
                   (S[0] * S[4] - S[1] * S[3]) / det};
    double mu[3] = {0.3, -0.2, 0.1};
    size_t i = 0;
    for (size_t a = 0; a < n3[0]; a++)
        for (size_t b = 0; b < n3[1]; b++)
            for (size_t k = 0; k < n3[2]; k++, i++) {
                double y[3] = {berg__coord(s, 0, a) - mu[0], berg__coord(s, 1, b) - mu[1],
                               berg__coord(s, 2, k) - mu[2]};
                double q = 0;
                for (int r = 0; r < 3; r++)
                    for (int t = 0; t < 3; t++)
                        q += y[r] * P[r * 3 + t] * y[t];
                p[i] = exp(-0.5 * q);
            }
    double m3[3], c3[9];
    berg_space_moments(s, p, m3, c3);
    for (int a = 0; a < 3; a++)
        CHECK_ABS(m3[a], mu[a], 1e-12, "Gaussian mean");
    for (int a = 0; a < 9; a++)
        CHECK_ABS(c3[a], S[a], 1e-10, "Gaussian covariance");
    free(p);
    berg_space_destroy(s);
}

static void test_bad_create(void)
{
    size_t n[2] = {4, 4};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *sentinel = (berg_space *)(uintptr_t)0x1234, *s = sentinel;
#define BAD(expr, want, what, frag)                                                                \
    do {                                                                                           \
        s = sentinel;                                                                              \
        CHECK_STATUS(expr, want, what);                                                            \
        CHECK(s == sentinel, "%s: out untouched", what);                                           \
        CHECK_MESSAGE(frag, what);                                                                 \
    } while (0)
    BAD(berg_space_create(&s, 0, n, lo, hi, bc, NULL), BERG_ERR_DOMAIN, "rank 0", "ndim");
    BAD(berg_space_create(&s, 9, n, lo, hi, bc, NULL), BERG_ERR_DOMAIN, "rank 9", "ndim");
    BAD(berg_space_create(&s, 2, NULL, lo, hi, bc, NULL), BERG_ERR_NULL, "NULL n", "n is NULL");
    BAD(berg_space_create(&s, 2, n, NULL, hi, bc, NULL), BERG_ERR_NULL, "NULL lower", "lower");
    BAD(berg_space_create(&s, 2, n, lo, NULL, bc, NULL), BERG_ERR_NULL, "NULL upper", "upper");
    CHECK_STATUS(berg_space_create(NULL, 2, n, lo, hi, bc, NULL), BERG_ERR_NULL, "NULL out");
    size_t n0[2] = {4, 0};
    BAD(berg_space_create(&s, 2, n0, lo, hi, bc, NULL), BERG_ERR_SIZE, "zero cells", "n[1]");
    size_t nbig[3] = {SIZE_MAX / 2, 4, 4};
    double lo3[3] = {0, 0, 0}, hi3[3] = {1, 1, 1};
    BAD(berg_space_create(&s, 3, nbig, lo3, hi3, NULL, NULL), BERG_ERR_SIZE, "overflow",
        "overflows");
    size_t nhuge[2] = {(size_t)1 << 31, (size_t)1 << 31};
    BAD(berg_space_create(&s, 2, nhuge, lo, hi, NULL, NULL), BERG_ERR_SIZE, "unaddressable",
        "too large");
    double hi_bad[2] = {1, 0};
    BAD(berg_space_create(&s, 2, n, lo, hi_bad, bc, NULL), BERG_ERR_DOMAIN, "empty axis",
        "upper[1]");
    double lo_nan[2] = {0, NAN};
    BAD(berg_space_create(&s, 2, n, lo_nan, hi, bc, NULL), BERG_ERR_NONFINITE, "NaN bound",
        "axis 1");
    berg_boundary bc_bad[2] = {BERG_PERIODIC, (berg_boundary)7};
    BAD(berg_space_create(&s, 2, n, lo, hi, bc_bad, NULL), BERG_ERR_DOMAIN, "bad boundary",
        "bc[1]");
    double g_asym[4] = {1, 0.5, 0.4, 1};
    BAD(berg_space_create(&s, 2, n, lo, hi, NULL, g_asym), BERG_ERR_NOT_SPD, "asymmetric metric",
        "symmetric");
    double g_indef[4] = {1, 2, 2, 1};
    BAD(berg_space_create(&s, 2, n, lo, hi, NULL, g_indef), BERG_ERR_NOT_SPD, "indefinite metric",
        "positive definite");
    double g_sing[4] = {1, 1, 1, 1 + 1e-15};
    BAD(berg_space_create(&s, 2, n, lo, hi, NULL, g_sing), BERG_ERR_NOT_SPD, "singular metric",
        "metric");
    double g_nan[4] = {1, 0, 0, NAN};
    BAD(berg_space_create(&s, 2, n, lo, hi, NULL, g_nan), BERG_ERR_NONFINITE, "NaN metric",
        "metric[3]");
    double g_coupled[4] = {1, 0.3, 0.3, 1};
    BAD(berg_space_create(&s, 2, n, lo, hi, bc, g_coupled), BERG_ERR_UNSUPPORTED,
        "coupled Neumann axis", "not periodic");
#undef BAD
}

static void test_ranks(void)
{
    /* ranks 1..8 integrate constants exactly */
    for (size_t d = 1; d <= berg_space_max_rank(); d++) {
        size_t n[8];
        double lo[8], hi[8];
        for (size_t a = 0; a < d; a++) {
            n[a] = 2 + a % 3;
            lo[a] = -0.5 * a;
            hi[a] = 1.0 + a;
        }
        berg_space *s = tu_space(d, n, lo, hi, NULL, NULL);
        if (!s)
            continue;
        size_t N = berg_space_size(s);
        double *f = malloc(N * sizeof *f), I, vol;
        tu_fill(f, N, 1.0);
        berg_space_integrate(s, f, &I);
        vol = berg_space_volume(s);
        CHECK_REL(I, vol, 1e-14, "rank %zu volume", d);
        free(f);
        berg_space_destroy(s);
    }
}

static void test_clip(void)
{
    size_t n[1] = {8};
    double lo[1] = {0}, hi[1] = {4}; /* w = 0.5 */
    berg_space *s = tu_space(1, n, lo, hi, NULL, NULL);
    if (!s)
        return;
    double p[8] = {1e-3, -1e-17, 0.5, 2.0, -3e-16, 0.0, 1.0, 0.25}, removed = -1;
    CHECK_STATUS(berg_space_clip_roundoff(s, 1e-12, p, &removed), BERG_OK, "clip round-off");
    CHECK(p[1] == 0.0 && p[4] == 0.0 && p[3] == 2.0 && p[0] == 1e-3, "only negatives cleared");
    CHECK_REL(removed, 0.5 * (1e-17 + 3e-16), 1e-15, "removed mass");
    double q[8] = {1, 1, 1, -1e-6, 1, 1, 1, 1}, copy[8];
    memcpy(copy, q, sizeof q);
    CHECK_STATUS(berg_space_clip_roundoff(s, 1e-12, q, &removed), BERG_ERR_NEGATIVE,
                 "real negativity refused");
    CHECK_MESSAGE("index 3", "index named");
    CHECK(memcmp(q, copy, sizeof q) == 0, "p unchanged on failure");
    double q2[8] = {1, 1, -1e-20, -1e-6, 1, -1e-3, 1, 1};
    CHECK_STATUS(berg_space_clip_roundoff(s, 1e-12, q2, NULL), BERG_ERR_NEGATIVE,
                 "two values beyond round-off");
    CHECK_MESSAGE("index 3", "the first one named, not the most negative");
    CHECK(q2[2] == -1e-20, "nothing cleared on failure");
    CHECK_STATUS(berg_space_clip_roundoff(s, 0.0, q, NULL), BERG_ERR_DOMAIN, "rtol 0");
    CHECK_STATUS(berg_space_clip_roundoff(s, NAN, q, NULL), BERG_ERR_DOMAIN, "rtol NaN");
    q[2] = INFINITY;
    CHECK_STATUS(berg_space_clip_roundoff(s, 1e-12, q, NULL), BERG_ERR_NONFINITE, "Inf value");
    berg_space_destroy(s);
}

static void test_histogram(void)
{
    /* 2-D: axis 0 periodic on [0, 2) (2 cells), axis 1 Neumann on [0, 1) (4 cells) */
    size_t n[2] = {2, 4};
    double lo[2] = {0, 0}, hi[2] = {2, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    if (!s)
        return;
    double x[10] = {0.5, 0.1,  /* cell (0, 0) */
                    2.5, 0.1,  /* wraps to (0, 0) */
                    -0.5, 0.9, /* wraps to (1, 3) */
                    1.5, 1.5,  /* outside on the Neumann axis */
                    1.2, 0.3}; /* (1, 1) */
    double hist[8], m;
    size_t outside = 99;
    CHECK_STATUS(berg_space_histogram(s, 5, x, hist, &outside), BERG_OK, "histogram");
    CHECK(outside == 1, "one point outside (%zu)", outside);
    double w = berg_space_cell_weight(s); /* 0.25 */
    CHECK_REL(hist[0], 2.0 / (5 * w), 1e-15, "two points in cell (0, 0)");
    CHECK_REL(hist[7], 1.0 / (5 * w), 1e-15, "wrapped point in cell (1, 3)");
    CHECK_REL(hist[5], 1.0 / (5 * w), 1e-15, "cell (1, 1)");
    berg_space_integrate(s, hist, &m);
    CHECK_REL(m, 4.0 / 5.0, 1e-15, "mass = fraction inside");
    tu_fill(hist, 8, 42.0);
    x[3] = NAN;
    CHECK_STATUS(berg_space_histogram(s, 5, x, hist, NULL), BERG_ERR_NONFINITE, "NaN point");
    CHECK_MESSAGE("berg_space_histogram", "message names the function");
    CHECK_MESSAGE("x[3]", "message names the index");
    CHECK(tu_untouched(hist, 8, 42.0), "hist untouched on failure");
    CHECK_STATUS(berg_space_histogram(s, 0, x, hist, NULL), BERG_ERR_SIZE, "no points");
    CHECK_STATUS(berg_space_histogram(s, 5, NULL, hist, NULL), BERG_ERR_NULL, "NULL x");
    CHECK_STATUS(berg_space_histogram(NULL, 5, x, hist, NULL), BERG_ERR_NULL, "NULL space");
    berg_space_destroy(s);
}

/* A point is binned on a periodic axis by (x - lo) mod (hi - lo) whatever
 * its distance from the box: before, fmod(x - lo, L) was NaN when x - lo
 * overflowed (the point went to cell 0) and x - lo rounded away the
 * fraction of points far from the box */
static void test_histogram_periodic_far(void)
{
    /* [-1.75e308, -1.35e308], 4 cells of 1e307: x - lo = 3.25e308 ... 3.53e308
     * overflows; minus 8 L the offsets are 0.5, 1.5, 2.25, 3.3 (1e307) */
    size_t n = 4;
    double lo = -1.75e308, hi = -1.35e308, hist[4], w;
    berg_boundary per = BERG_PERIODIC;
    berg_space *s = tu_space(1, &n, &lo, &hi, &per, NULL);
    if (!s)
        return;
    double x[5] = {1.5e308, 1.6e308, 1.675e308, 1.78e308, -1.5e308 /* inside: cell 2 */};
    size_t outside = 99;
    CHECK_STATUS(berg_space_histogram(s, 5, x, hist, &outside), BERG_OK, "histogram far");
    w = berg_space_cell_weight(s);
    CHECK(outside == 0, "far: no point outside a periodic box (%zu)", outside);
    const double count[4] = {1, 1, 2, 1};
    for (size_t i = 0; i < 4; i++)
        CHECK_REL(hist[i] * (5.0 * w), count[i], 1e-15, "far: %g points in cell %zu", count[i], i);
    berg_space_destroy(s);
    /* [-0.5, 0.5], 4 cells: 2^52 + 1 - lo = 2^52 + 1.5 is not a double
     * (it rounded to 2^52 + 2: offset 0, cell 0); offset 0.5, cell 2 */
    lo = -0.5;
    hi = 0.5;
    s = tu_space(1, &n, &lo, &hi, &per, NULL);
    if (!s)
        return;
    double y[2] = {4503599627370497.0 /* 2^52 + 1 */, -4503599627370497.0 /* offset 0.5 */};
    CHECK_STATUS(berg_space_histogram(s, 2, y, hist, NULL), BERG_OK, "histogram 2^52 + 1");
    w = berg_space_cell_weight(s);
    CHECK_REL(hist[2] * (2.0 * w), 2.0, 1e-15, "2^52 + 1 and its negative in cell 2");
    CHECK(hist[0] == 0.0 && hist[1] == 0.0 && hist[3] == 0.0, "2^52 + 1: no other cell");
    berg_space_destroy(s);
}

static void test_moment_messages(void)
{
    size_t n[1] = {4};
    double lo[1] = {0}, hi[1] = {1};
    berg_space *s = tu_space(1, n, lo, hi, NULL, NULL);
    if (!s)
        return;
    double p[4] = {1, -1, 1, 1}, m = 42.0, c = 42.0;
    CHECK_STATUS(berg_space_mean(s, p, &m), BERG_ERR_NEGATIVE, "mean of a negative p");
    CHECK_MESSAGE("berg_space_mean:", "mean names itself");
    CHECK_MESSAGE("index 1", "and the index");
    CHECK_STATUS(berg_space_covariance(s, p, &c), BERG_ERR_NEGATIVE, "covariance of a negative p");
    CHECK_MESSAGE("berg_space_covariance:", "covariance names itself");
    CHECK(m == 42.0 && c == 42.0, "outputs untouched");
    CHECK_STATUS(berg_space_mean(s, p, NULL), BERG_ERR_NULL, "NULL mean");
    CHECK_MESSAGE("berg_space_mean: mean", "NULL mean named");
    berg_space_destroy(s);
}

static void test_iter(void)
{
    size_t n[2] = {3, 4};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    if (!s)
        return;
    size_t idx[2] = {0, 0}, visited = 1, flat = 0, nb = 99;
    int in_order = 1;
    while (berg__index_next(2, n, idx)) {
        visited++;
        flat++;
        in_order &= (idx[0] * 4 + idx[1] == flat);
    }
    CHECK(visited == 12 && in_order && idx[0] == 0 && idx[1] == 0, "C-order walk of 12 cells");
    size_t c[2] = {0, 3}; /* flat 3 */
    CHECK(berg__neighbour(s, c, 3, 1, +1, &nb) && nb == 0, "periodic axis wraps forward");
    CHECK(berg__neighbour(s, c, 3, 1, -1, &nb) && nb == 2, "periodic axis backward");
    nb = 99;
    CHECK(!berg__neighbour(s, c, 3, 0, -1, &nb) && nb == 99, "Neumann wall: no neighbour");
    CHECK(berg__neighbour(s, c, 3, 0, +1, &nb) && nb == 7, "Neumann axis forward");
    berg_space_destroy(s);
}

int main(void)
{
    test_iter();
    test_histogram();
    test_histogram_periodic_far();
    test_moment_messages();
    test_clip();
    test_queries();
    test_general_metric();
    test_integrals();
    test_moments();
    test_bad_create();
    test_ranks();
    return test_summary("space");
}
