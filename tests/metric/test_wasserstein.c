/* Wasserstein distances, exact: 1-D quantile formulas, displacement
 * interpolation and the Bures formula between Gaussians. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"

static berg_space *line(size_t n, double lo, double hi, berg_boundary bc, double g)
{
    berg_space *s = NULL;
    berg_status st = berg_space_create(&s, 1, &n, &lo, &hi, &bc, g > 0 ? &g : NULL);
    CHECK(st == BERG_OK, "create line: %s", berg_last_error());
    return s;
}

/* indicator of the cells [i0, i1) */
static void box(double *p, size_t n, size_t i0, size_t i1)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (i >= i0 && i < i1) ? 1.0 : 0.0;
}

static void test_uniforms(void)
{
    /* piecewise constant reading: cell-aligned uniforms are exact */
    size_t n = 400;
    berg_space *s = line(n, 0.0, 4.0, BERG_NEUMANN, 0); /* h = 0.01 */
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q), w;
    box(p, n, 0, 100);   /* U[0, 1] */
    box(q, n, 150, 250); /* U[1.5, 2.5] */
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "shifted uniforms");
    CHECK_REL(w, 1.5, 1e-13, "W2 of a shift is the shift");
    for (double r = 1.0; r <= 5.0; r += 0.75) {
        CHECK_STATUS(berg_wp_distance_1d(s, r, p, q, &w), BERG_OK, "W_p shift");
        CHECK_REL(w, 1.5, 1e-13, "W_%g of a shift is the shift", r);
    }
    /* U[0,1] vs U[0,2]: D(s) = -s, W_p = (1/(p+1))^{1/p} */
    box(q, n, 0, 200);
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "scaled uniforms");
    CHECK_REL(w, sqrt(1.0 / 3.0), 1e-13, "W2 of U[0,1], U[0,2]");
    for (double r = 1.0; r <= 6.0; r += 1.25) {
        CHECK_STATUS(berg_wp_distance_1d(s, r, p, q, &w), BERG_OK, "W_p scaled");
        CHECK_REL(w, pow(1.0 / (r + 1.0), 1.0 / r), 1e-12, "W_%g of U[0,1], U[0,2]", r);
    }
    /* U[0,1] vs U[2.5,3]: mean 0.5 -> 2.75, sd 1/sqrt12 -> 0.5/sqrt12 */
    box(q, n, 250, 300);
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "uniform to narrower uniform");
    CHECK_REL(w * w, 2.25 * 2.25 + pow(0.5 / sqrt(12.0), 2), 1e-13, "W2^2 = dm^2 + dsd^2");
    /* mass only matters through its shape; two separated bumps with a gap */
    for (size_t i = 0; i < n; i++)
        q[i] *= 7.0;
    double w7;
    berg_w2_distance_1d(s, p, q, &w7);
    CHECK_REL(w7, w, 1e-14, "scale invariance of the inputs");
    berg_space_destroy(s);
    /* metric g scales distances by sqrt(g) */
    s = line(n, 0.0, 4.0, BERG_PERIODIC, 9.0);
    box(q, n, 150, 250);
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "metric");
    CHECK_REL(w, 3.0 * 1.5, 1e-13, "metric 9 triples the distance");
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* W1 by the CDF formula int |F - G| dx, exact for piecewise linear CDFs */
static double w1_cdf(const double *p, const double *q, size_t n, double h)
{
    double mp = 0, mq = 0;
    for (size_t i = 0; i < n; i++) {
        mp += p[i];
        mq += q[i];
    }
    double F = 0, G = 0, acc = 0;
    for (size_t i = 0; i < n; i++) {
        double a = F - G;
        F += p[i] / mp;
        G += q[i] / mq;
        double b = F - G;
        if ((a > 0 && b < 0) || (a < 0 && b > 0))
            acc += h * (a * a + b * b) / (2.0 * (fabs(a) + fabs(b)));
        else
            acc += h * 0.5 * (fabs(a) + fabs(b));
    }
    return acc;
}

static void test_random_and_gaussians(void)
{
    size_t n = 1000;
    berg_space *s = line(n, -5.0, 5.0, BERG_NEUMANN, 0);
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q), *r = malloc(n * sizeof *r);
    unsigned long long seed = 11;
    double h = 10.0 / (double)n;
    for (int trial = 0; trial < 5; trial++) {
        for (size_t i = 0; i < n; i++) {
            p[i] = tu_uniform(&seed) < 0.3 ? 0.0 : tu_uniform(&seed);
            q[i] = tu_uniform(&seed) < 0.5 ? 0.0 : tu_uniform(&seed) * tu_uniform(&seed);
            r[i] = tu_uniform(&seed);
        }
        double w1, wpq, wqp, wpr, wrq, wpp;
        CHECK_STATUS(berg_wp_distance_1d(s, 1.0, p, q, &w1), BERG_OK, "W1");
        CHECK_REL(w1, w1_cdf(p, q, n, h), 1e-10, "W1 quantile vs CDF formula, trial %d", trial);
        berg_w2_distance_1d(s, p, q, &wpq);
        berg_w2_distance_1d(s, q, p, &wqp);
        berg_w2_distance_1d(s, p, r, &wpr);
        berg_w2_distance_1d(s, r, q, &wrq);
        berg_w2_distance_1d(s, p, p, &wpp);
        CHECK_REL(wpq, wqp, 1e-13, "symmetric");
        CHECK(wpq <= wpr + wrq + 1e-14, "triangle inequality");
        CHECK_ABS(wpp, 0.0, 1e-14, "zero on equal inputs");
        double w2b, w3;
        berg_wp_distance_1d(s, 2.0, p, q, &w2b);
        berg_wp_distance_1d(s, 3.0, p, q, &w3);
        CHECK_REL(w2b, wpq, 1e-14, "W_p at p = 2 is W2");
        CHECK(w1 <= wpq * (1 + 1e-14) && wpq <= w3 * (1 + 1e-14), "W1 <= W2 <= W3");
        /* W_p at p near 2 is continuous (general segment formula) */
        double w2e;
        berg_wp_distance_1d(s, 2.0 + 1e-9, p, q, &w2e);
        CHECK_REL(w2e, wpq, 1e-8, "general formula at p = 2 + 1e-9");
    }
    /* Gaussians N(m, s^2) with exact cell masses: W2^2 = dm^2 + ds^2 to O(h^2) */
    double m1 = -1.0, s1 = 0.5, m2 = 1.3, s2 = 0.8;
    for (size_t i = 0; i < n; i++) {
        double a = -5.0 + (double)i * h, b = a + h;
        p[i] = 0.5 * (erf((b - m1) / (s1 * sqrt(2.0))) - erf((a - m1) / (s1 * sqrt(2.0))));
        q[i] = 0.5 * (erf((b - m2) / (s2 * sqrt(2.0))) - erf((a - m2) / (s2 * sqrt(2.0))));
    }
    double w;
    berg_w2_distance_1d(s, p, q, &w);
    CHECK_REL(w, hypot(m2 - m1, s2 - s1), 2e-5, "Gaussians, closed form");
    /* a pure shift by 37 cells is exact */
    for (size_t i = 0; i < n; i++)
        q[i] = i >= 37 ? p[i - 37] : 0.0;
    berg_w2_distance_1d(s, p, q, &w);
    CHECK_REL(w, 37 * h, 1e-10, "Gaussian shifted by 37 cells");
    berg_space_destroy(s);
    free(p);
    free(q);
    free(r);
}

/* cells whose mass is subnormal (their inverse overflows) are harmless */
static void test_subnormal_cells(void)
{
    size_t n = 64;
    berg_space *s = line(n, 0.0, 1.0, BERG_NEUMANN, 0);
    double p[64], q[64], m[64], w;
    for (size_t i = 0; i < n; i++) {
        p[i] = i < 32 ? 1.0 : 4e-322;
        q[i] = i >= 32 ? 1.0 : 1e-320;
    }
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "subnormal cells");
    CHECK_REL(w, 0.5, 1e-12, "halves shifted by 1/2");
    CHECK_STATUS(berg_wp_distance_1d(s, 3.0, p, q, &w), BERG_OK, "subnormal cells W3");
    CHECK_REL(w, 0.5, 1e-12, "W3 of halves shifted by 1/2");
    CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p, q, m), BERG_OK, "subnormal interpolation");
    int finite = 1;
    for (size_t i = 0; i < n; i++)
        finite &= isfinite(m[i]);
    CHECK(finite && fabs(m[32] - 2.0) < 1e-12 && fabs(m[0]) < 1e-300, "interpolant is U[1/4, 3/4]");
    berg_space_destroy(s);
}

static void test_interpolation(void)
{
    size_t n = 500;
    berg_space *s = line(n, 0.0, 5.0, BERG_NEUMANN, 0); /* h = 0.01 */
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q), *m = malloc(n * sizeof *m);
    double *e = malloc(n * sizeof *e);
    box(p, n, 0, 100);
    box(q, n, 200, 300);
    CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p, q, m), BERG_OK, "interpolate");
    box(e, n, 100, 200);
    for (size_t i = 0; i < n; i++)
        e[i] /= 1.0; /* density 1 on [1, 2] */
    CHECK(tu_max_abs_diff(m, e, n) < 1e-10, "midpoint of U[0,1], U[2,3] is U[1,2]");
    unsigned long long seed = 5;
    for (size_t i = 0; i < n; i++) {
        p[i] = i < 300 ? tu_uniform(&seed) : 0.0;
        q[i] = i > 150 ? tu_uniform(&seed) * tu_uniform(&seed) : 0.0;
    }
    double wpq, wpt, wtq, mass;
    berg_w2_distance_1d(s, p, q, &wpq);
    for (double t = 0.0; t <= 1.0; t += 0.25) {
        CHECK_STATUS(berg_w2_interpolate_1d(s, t, p, q, m), BERG_OK, "interpolate t = %g", t);
        berg_space_integrate(s, m, &mass);
        CHECK_REL(mass, 1.0, 1e-13, "interpolant is normalized");
        berg_w2_distance_1d(s, p, m, &wpt);
        berg_w2_distance_1d(s, m, q, &wtq);
        /* re-binning into cells costs O(h) at worst; measured at most 3.1e-5
         * (t = 0.75; W2(p, q) = 1.76, h = 0.01) */
        CHECK_ABS(wpt, t * wpq, 3e-4, "geodesic: W2(p, m_t) = t W2(p, q), t = %g", t);
        CHECK_ABS(wtq, (1 - t) * wpq, 3e-4, "geodesic: W2(m_t, q) = (1-t) W2, t = %g", t);
    }
    /* endpoints reproduce the inputs */
    double pm;
    berg_w2_interpolate_1d(s, 0.0, p, q, m);
    berg_space_integrate(s, p, &pm);
    for (size_t i = 0; i < n; i++)
        e[i] = p[i] / pm;
    CHECK(tu_max_abs_diff(m, e, n) < 1e-10, "t = 0 gives p");
    /* in place */
    memcpy(e, p, n * sizeof *p);
    CHECK_STATUS(berg_w2_interpolate_1d(s, 0.3, e, q, e), BERG_OK, "in place");
    berg_w2_interpolate_1d(s, 0.3, p, q, m);
    CHECK(tu_max_abs_diff(m, e, n) == 0.0, "in place equals out of place");
    berg_space_destroy(s);
    free(p);
    free(q);
    free(m);
    free(e);
}

static void test_bad_1d(void)
{
    size_t n = 16;
    berg_space *s = line(n, 0.0, 1.0, BERG_NEUMANN, 0);
    size_t n2[2] = {4, 4};
    double lo2[2] = {0, 0}, hi2[2] = {1, 1};
    berg_space *s2 = NULL;
    berg_space_create(&s2, 2, n2, lo2, hi2, NULL, NULL);
    double p[16], q[16], out[16], w = -7.0;
    for (size_t i = 0; i < n; i++)
        p[i] = q[i] = 1.0;
    CHECK_STATUS(berg_w2_distance_1d(NULL, p, q, &w), BERG_ERR_NULL, "NULL space");
    CHECK_STATUS(berg_w2_distance_1d(s, NULL, q, &w), BERG_ERR_NULL, "NULL p");
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, NULL), BERG_ERR_NULL, "NULL w2");
    CHECK_STATUS(berg_w2_distance_1d(s2, p, q, &w), BERG_ERR_DOMAIN, "rank 2");
    p[5] = -1e-300;
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_ERR_NEGATIVE, "negative");
    CHECK_MESSAGE("index 5", "negative names the index");
    p[5] = NAN;
    CHECK_STATUS(berg_wp_distance_1d(s, 1.5, p, q, &w), BERG_ERR_NONFINITE, "NaN");
    p[5] = 1.0;
    tu_fill(q, n, 0.0);
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_ERR_MASS, "zero mass");
    CHECK_MESSAGE("q", "zero mass names q");
    tu_fill(q, n, 1.0);
    CHECK_STATUS(berg_wp_distance_1d(s, 0.5, p, q, &w), BERG_ERR_DOMAIN, "order < 1");
    CHECK_STATUS(berg_wp_distance_1d(s, INFINITY, p, q, &w), BERG_ERR_DOMAIN, "order inf");
    CHECK_STATUS(berg_wp_distance_1d(s, NAN, p, q, &w), BERG_ERR_DOMAIN, "order NaN");
    CHECK(w == -7.0, "w untouched");
    tu_fill(out, n, -3.0);
    CHECK_STATUS(berg_w2_interpolate_1d(s, 1.5, p, q, out), BERG_ERR_DOMAIN, "t > 1");
    CHECK_STATUS(berg_w2_interpolate_1d(s, NAN, p, q, out), BERG_ERR_DOMAIN, "t NaN");
    q[3] = -1;
    CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p, q, out), BERG_ERR_NEGATIVE, "negative q");
    CHECK(tu_untouched(out, n, -3.0), "out untouched");
    berg_space_destroy(s);
    berg_space_destroy(s2);
}

/* ---- Gaussians ----------------------------------------------------------- */

/* A = Q diag(lam) Q^T, symmetrized (Q: d x d row-major) */
static void qdq(int d, const double *Q, const double *lam, double *A)
{
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double v = 0;
            for (int k = 0; k < d; k++)
                v += Q[a * d + k] * lam[k] * Q[b * d + k];
            A[a * d + b] = v;
        }
    for (int a = 0; a < d; a++)
        for (int b = a + 1; b < d; b++)
            A[b * d + a] = A[a * d + b];
}

/* A = Q diag(lam) Q^T with Q a product of random Givens rotations */
static void spd(int d, const double *lam, unsigned long long *seed, double *A, double *Qout)
{
    double Q[64];
    for (int a = 0; a < d * d; a++)
        Q[a] = (a % (d + 1) == 0) ? 1.0 : 0.0;
    for (int r = 0; r < 3 * d; r++) {
        int i = (int)(tu_uniform(seed) * d), j = (int)(tu_uniform(seed) * d);
        if (i == j)
            continue;
        double th = 6.283185307179586 * tu_uniform(seed), c = cos(th), sn = sin(th);
        for (int k = 0; k < d; k++) {
            double x = Q[k * d + i], y = Q[k * d + j];
            Q[k * d + i] = c * x - sn * y;
            Q[k * d + j] = sn * x + c * y;
        }
    }
    qdq(d, Q, lam, A);
    if (Qout)
        memcpy(Qout, Q, sizeof(double) * (size_t)(d * d));
}

static void test_gaussian(void)
{
    double m1[8] = {0}, m2[8] = {0}, S1[64], S2[64], S3[64], w;
    /* d = 1 */
    m1[0] = 1.0;
    m2[0] = -2.0;
    S1[0] = 4.0;
    S2[0] = 0.25;
    CHECK_STATUS(berg_w2_gaussian(1, m1, S1, m2, S2, &w), BERG_OK, "d = 1");
    CHECK_REL(w, hypot(3.0, 1.5), 1e-15, "d = 1 closed form");
    /* commuting covariances (same eigenvectors): sum (sqrt l - sqrt s)^2 */
    unsigned long long seed = 99;
    for (int d = 1; d <= 8; d++) {
        double l1[8], l2[8], Q[64], want = 0;
        for (int k = 0; k < d; k++) {
            l1[k] = 0.1 + 3 * tu_uniform(&seed);
            l2[k] = 0.1 + 3 * tu_uniform(&seed);
            m1[k] = tu_uniform(&seed);
            m2[k] = tu_uniform(&seed);
            want += pow(sqrt(l1[k]) - sqrt(l2[k]), 2) + pow(m1[k] - m2[k], 2);
        }
        spd(d, l1, &seed, S1, Q);
        /* same rotation for S2 */
        qdq(d, Q, l2, S2);
        CHECK_STATUS(berg_w2_gaussian(d, m1, S1, m2, S2, &w), BERG_OK, "commuting d = %d", d);
        CHECK_REL(w, sqrt(want), 1e-12, "commuting closed form d = %d", d);
        /* symmetric, zero on equal, triangle inequality */
        double l3[8];
        for (int k = 0; k < d; k++)
            l3[k] = 0.01 + tu_uniform(&seed);
        spd(d, l3, &seed, S3, NULL);
        double w12, w21, w13, w32, w11;
        berg_w2_gaussian(d, m1, S1, m2, S2, &w12);
        berg_w2_gaussian(d, m2, S2, m1, S1, &w21);
        berg_w2_gaussian(d, m1, S1, m1, S3, &w13);
        berg_w2_gaussian(d, m1, S3, m2, S2, &w32);
        berg_w2_gaussian(d, m1, S1, m1, S1, &w11);
        CHECK_REL(w21, w12, 1e-12, "symmetric d = %d", d);
        CHECK(w12 <= w13 + w32 + 1e-12, "triangle d = %d", d);
        CHECK_ABS(w11, 0.0, 5e-14, "zero on equal inputs d = %d (a few ulps of ||R||)", d);
    }
    /* tiny distances keep their relative accuracy: S2 = Q diag(l + delta) Q^T */
    for (int d = 2; d <= 8; d += 3) {
        double l1[8], l2[8], Q[64], want = 0, delta = 1e-8;
        for (int k = 0; k < d; k++) {
            l1[k] = 0.5 + tu_uniform(&seed);
            l2[k] = l1[k] + delta;
            want += pow(delta / (sqrt(l1[k]) + sqrt(l2[k])), 2);
            m1[k] = m2[k] = 0.0;
        }
        spd(d, l1, &seed, S1, Q);
        qdq(d, Q, l2, S2);
        berg_w2_gaussian(d, m1, S1, m2, S2, &w);
        /* the trace formula would have an error ~ sqrt(1e-16) = 1e-8 here */
        CHECK_REL(w, sqrt(want), 1e-5, "tiny distance d = %d (want %g)", d, sqrt(want));
    }
    /* nearly singular: eigenvalues (1e-12, ...) against (0, ...) in a
     * rotated frame: accepted, finite, W2 = 1e-6 */
    for (int d = 2; d <= 8; d += 2) {
        double l1[8], l2[8], Q[64];
        for (int k = 0; k < d; k++) {
            l1[k] = k == 0 ? 1e-12 : 0.5 + tu_uniform(&seed);
            l2[k] = k == 0 ? 0.0 : l1[k];
            m1[k] = m2[k] = 0.25;
        }
        spd(d, l1, &seed, S1, Q);
        qdq(d, Q, l2, S2);
        CHECK_STATUS(berg_w2_gaussian(d, m1, S1, m2, S2, &w), BERG_OK, "nearly singular d = %d",
                     d);
        /* the rounding of the rotated inputs moves the zero eigenvalue of S2
         * by ~1e-16 d, i.e. its square root by ~3e-8: a few per cent of the
         * answer is the conditioning of the inputs, not of the method */
        CHECK_REL(w, 1e-6, 0.05, "nearly singular covariances d = %d", d);
    }
    /* singular (PSD) covariances are Gaussians on a subspace */
    double A[4] = {1, 0, 0, 0}, B[4] = {0, 0, 0, 1}, z[2] = {0, 0};
    CHECK_STATUS(berg_w2_gaussian(2, z, A, z, B, &w), BERG_OK, "singular covariances");
    CHECK_REL(w, sqrt(2.0), 1e-15, "orthogonal degenerate Gaussians");
    double Z[4] = {0, 0, 0, 0};
    berg_w2_gaussian(2, z, Z, z, A, &w);
    CHECK_REL(w, 1.0, 1e-15, "point mass to a degenerate Gaussian");
    /* round-off negative eigenvalue is clamped */
    double C[4] = {1, 1, 1, 1 - 1e-16};
    CHECK_STATUS(berg_w2_gaussian(2, z, C, z, C, &w), BERG_OK, "round-off indefinite accepted");
    CHECK_ABS(w, 0.0, 1e-14, "and gives zero on equal inputs");
}

static void test_gaussian_bad(void)
{
    double m[2] = {0, 0}, S[4] = {1, 0, 0, 1}, w = -5;
    double indef[4] = {1, 2, 2, 1}, asym[4] = {1, 0.5, 0.4, 1}, nanS[4] = {1, 0, NAN, 1};
    CHECK_STATUS(berg_w2_gaussian(0, m, S, m, S, &w), BERG_ERR_SIZE, "d = 0");
    CHECK_STATUS(berg_w2_gaussian(SIZE_MAX, m, S, m, S, &w), BERG_ERR_SIZE, "d too large");
    CHECK_STATUS(berg_w2_gaussian(2, NULL, S, m, S, &w), BERG_ERR_NULL, "NULL m1");
    CHECK_STATUS(berg_w2_gaussian(2, m, S, m, NULL, &w), BERG_ERR_NULL, "NULL S2");
    CHECK_STATUS(berg_w2_gaussian(2, m, S, m, S, NULL), BERG_ERR_NULL, "NULL w2");
    CHECK_STATUS(berg_w2_gaussian(2, m, indef, m, S, &w), BERG_ERR_NOT_SPD, "indefinite");
    CHECK_MESSAGE("S1", "names S1");
    CHECK_STATUS(berg_w2_gaussian(2, m, S, m, asym, &w), BERG_ERR_NOT_SPD, "asymmetric");
    CHECK_MESSAGE("S2", "names S2");
    CHECK_STATUS(berg_w2_gaussian(2, m, nanS, m, S, &w), BERG_ERR_NONFINITE, "NaN covariance");
    m[1] = INFINITY;
    CHECK_STATUS(berg_w2_gaussian(2, m, S, m, S, &w), BERG_ERR_NONFINITE, "infinite mean");
    CHECK(w == -5, "w untouched");
}

/* ---- the W2 metric's CG at its rounding floor ----------------------------- */

/* The residual recomputed from the solution floors near 4e-14 on this grid
 * (measured: 5.9e-14 at rtol 1e-13, 4.1e-14 / 4.0e-14 after 31 / 34
 * iterations at rtol 1e-14 / 1e-15): below that NO_CONVERGENCE names the
 * floor, not the iteration cap, which was far from reached. */
static void test_metric_rounding_floor(void)
{
    size_t n[2] = {48, 40}, N = 48 * 40;
    double lo[2] = {-3, -3}, hi[2] = {3, 3};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, n, lo, hi, bc, NULL), BERG_OK, "48 x 40 grid");
    double *p = malloc(N * sizeof *p), *u = malloc(N * sizeof *u), *eta = malloc(N * sizeof *eta);
    double *x = malloc(N * sizeof *x);
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n[1]; j++) {
            double X = -3 + (i + 0.5) * 6.0 / n[0], Y = -3 + (j + 0.5) * 6.0 / n[1];
            p[i * n[1] + j] = exp(-0.5 * (X * X + Y * Y) + 0.3 * sin(3 * X));
            u[i * n[1] + j] = cos(1.3 * X) * (1 + 0.2 * X) + cos(1.3 * Y + 1) * (1 + 0.2 * Y);
        }
    berg_space_normalize(s, p, NULL);
    CHECK_STATUS(berg_w2_gradient(s, p, u, eta), BERG_OK, "tangent vector");
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_OK, "metric");
    size_t it = 0;
    double res = 0;
    CHECK_STATUS(berg_w2_metric_set_tolerance(m, 1e-13), BERG_OK, "rtol 1e-13");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, x, &it, &res), BERG_OK, "rtol 1e-13 is met");
    CHECK(res <= 1e-13, "residual %g <= 1e-13", res);
    CHECK_STATUS(berg_w2_metric_set_tolerance(m, 1e-15), BERG_OK, "rtol 1e-15");
    tu_fill(x, N, -7.0);
    CHECK_STATUS(berg_w2_metric_potential(m, eta, x, &it, &res), BERG_ERR_NO_CONVERGENCE,
                 "rtol 1e-15 is below the floor");
    CHECK_MESSAGE("rounding floor", "the message names the rounding floor");
    CHECK(it < 100 && res > 1e-15 && res < 4e-13, "stopped at the floor: %zu iterations, %g", it,
          res);
    CHECK(tu_untouched(x, N, -7.0), "eta_hat untouched");
    /* a cap that binds first is named as such */
    CHECK_STATUS(berg_w2_metric_set_max_iterations(m, 5), BERG_OK, "cap 5");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, x, &it, &res), BERG_ERR_NO_CONVERGENCE, "cap 5");
    CHECK(strstr(berg_last_error(), "rounding floor") == NULL, "the cap is not the floor: %s",
          berg_last_error());
    CHECK_MESSAGE("the cap", "the message names the cap");
    CHECK(it == 5, "five iterations (%zu)", it);
    berg_w2_metric_destroy(m);
    /* a zero cell zeroes the log-mean mobility of its faces: refused unless
     * the floor delta * max p is > 0, also when a subnormal delta makes that
     * product underflow to 0 */
    p[5 * n[1] + 7] = 0.0;
    berg_space_normalize(s, p, NULL);
    m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_ERR_DOMAIN,
                 "a zero cell without regularization");
    CHECK_MESSAGE("p[207]", "names the zero cell");
    CHECK_STATUS(berg_w2_metric_create(&m, s, 4.9e-324, p, BERG_PLAN_ESTIMATE), BERG_ERR_DOMAIN,
                 "a zero cell, regularization underflowing to a zero floor");
    CHECK(m == NULL, "out untouched");
    CHECK_STATUS(berg_w2_metric_create(&m, s, 1e-6, p, BERG_PLAN_ESTIMATE), BERG_OK,
                 "a zero cell with regularization 1e-6");
    berg_w2_metric_destroy(m);
    berg_space_destroy(s);
    free(p);
    free(u);
    free(eta);
    free(x);
}

/* proportional densities with empty cells at the end: W2 = 0 to rounding
 * (fuzz_w2: p = {100, 0}, q = {3.9287109375, 0} gave 6e-9, the square root
 * of a 1-ulp mass the normalisation put into the empty cell) */
static void test_proportional_trailing_empty(void)
{
    static const double scales[] = {3.9287109375, 0.1, 7.0, 1e-3, 3.0, 1.0 / 3.0, 1e10};
    for (size_t n = 2; n <= 9; n++) {
        berg_space *s = line(n, -1.0, 1.0, BERG_NEUMANN, 0);
        double p[9], q[9], w;
        for (size_t k = 0; k < n; k++)
            p[k] = k + 1 < n / 2 + 1 ? 100.0 + 17.0 * (double)k : 0.0;
        for (size_t si = 0; si < sizeof scales / sizeof *scales; si++) {
            for (size_t k = 0; k < n; k++)
                q[k] = p[k] * scales[si];
            CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "proportional n=%zu", n);
            CHECK(w <= 1e-12 * 2.0, "W2(p, %g p) = %g on %zu cells, trailing empty", scales[si], w,
                  n);
            CHECK_STATUS(berg_w2_distance_1d(s, q, p, &w), BERG_OK, "proportional swapped");
            CHECK(w <= 1e-12 * 2.0, "W2(%g p, p) = %g on %zu cells", scales[si], w, n);
        }
        berg_space_destroy(s);
    }
    /* one cell with all but 1e-105 of p's mass: p_0 / mp is exactly 1 */
    berg_space *s = line(3, 0.0, 1.0, BERG_NEUMANN, 0);
    double p[3] = {2.3884277343750e10, 2.4e-95, 2.4e-95}, q[3] = {2.7119140625, 2.4e-95, 0.0}, w;
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "dominant cell");
    CHECK(w <= 1e-40, "W2 = %g, true ~ 5e-48 (q's 9e-96 of mass moved by < 1)", w);
    berg_space_destroy(s);
}

int main(void)
{
    test_proportional_trailing_empty();
    test_uniforms();
    test_random_and_gaussians();
    test_interpolation();
    test_subnormal_cells();
    test_bad_1d();
    test_gaussian();
    test_gaussian_bad();
    test_metric_rounding_floor();
    return test_summary("wasserstein");
}
