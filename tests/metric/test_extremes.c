/* Right or refused at extreme values (issue 13): 1-D Wasserstein distances
 * and interpolation with subnormal values and huge orders, entropic
 * transport at extreme eps and on extreme boxes, and measures whose
 * integral overflows. Every success is checked against an independent
 * closed form or an exact scaling law; every refusal names its argument and
 * leaves the outputs as they were. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SENTINEL 12345.0

/* W2 and W_3 of U[0, 1] against U[0, 1/2] (quantiles s and s/2):
 * W_r^r = int (s/2)^r ds = 2^-r / (r + 1) */
static double wr_half(double r)
{
    return 0.5 * pow(r + 1.0, -1.0 / r);
}

static void test_subnormal_1d(void)
{
    const size_t n = 16;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    double p[16], q[16], p1[16], q1[16], out[16], ref[16], w;
    /* exact subnormals: one times, three times the smallest, and 1e-310 */
    const double vals[3] = {4.9406564584124654e-324, 3.0 * 4.9406564584124654e-324, 1e-310};
    for (size_t k = 0; k < 3; k++) {
        const double v = vals[k];
        for (size_t i = 0; i < n; i++) {
            p[i] = v;
            q[i] = i < n / 2 ? v : 0.0;
            p1[i] = 1.0;
            q1[i] = i < n / 2 ? 1.0 : 0.0;
        }
        CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "W2 of subnormal measures");
        CHECK_REL(w, wr_half(2.0), 1e-13, "W2 of subnormal U[0,1] vs U[0,1/2] (v = %g)", v);
        CHECK_STATUS(berg_wp_distance_1d(s, 3.0, p, q, &w), BERG_OK, "W3 of subnormal measures");
        CHECK_REL(w, wr_half(3.0), 1e-13, "W3 of subnormal measures (v = %g)", v);
        CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p, q, out), BERG_OK,
                     "interpolation of subnormal measures");
        CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p1, q1, ref), BERG_OK,
                     "interpolation of the same shapes at scale 1");
        CHECK(tu_max_abs_diff(out, ref, n) <= 1e-13 * tu_max_abs(ref, n),
              "interpolation is scale free down to subnormals (v = %g): max diff %g", v,
              tu_max_abs_diff(out, ref, n));
        /* a unit spike among subnormal cells: the subnormal mass is 1e-310
         * of the total, so the distance is that of the spike alone */
        for (size_t i = 0; i < n; i++) {
            p[i] = i == 5 ? 1.0 : v;
            p1[i] = i == 5 ? 1.0 : 0.0;
        }
        double w0;
        CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "W2 spike among subnormals");
        CHECK_STATUS(berg_w2_distance_1d(s, p1, q, &w0), BERG_OK, "W2 spike alone");
        CHECK(isfinite(w) && fabs(w - w0) <= 1e-14 * w0, "spike among subnormals: %.17g vs %.17g",
              w, w0);
    }
    berg_space_destroy(s);
}

static void test_wp_huge_order(void)
{
    /* U[0, 1] against U[0, a], a = 10/64: D(s) = (1 - a) s, so
     * W_r = (1 - a) (r + 1)^{-1/r}, which tends to W_inf = 1 - a */
    const size_t n = 64;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    double p[64], q[64], w;
    for (size_t i = 0; i < n; i++) {
        p[i] = 1.0;
        q[i] = i < 10 ? 1.0 : 0.0;
    }
    const double a = 10.0 / 64.0;
    const double orders[6] = {3.0, 700.0, 1000.0, 1e6, 1e15, 1e300};
    for (size_t k = 0; k < 6; k++) {
        double r = orders[k], want = (1.0 - a) * exp(-log1p(r) / r);
        w = NAN;
        CHECK_STATUS(berg_wp_distance_1d(s, r, p, q, &w), BERG_OK, "W_%g", r);
        CHECK_REL(w, want, 1e-12, "W_%g of U[0,1] vs U[0,a] (closed form)", r);
    }
    /* a shift: W_r is the shift for every order */
    for (size_t i = 0; i < n; i++) {
        p[i] = i < 20 ? 1.0 : 0.0;
        q[i] = i >= 30 && i < 50 ? 1.0 : 0.0;
    }
    CHECK_STATUS(berg_wp_distance_1d(s, 1e300, p, q, &w), BERG_OK, "W_1e300 of a shift");
    CHECK_REL(w, 30.0 / 64.0, 1e-13, "W_1e300 of a shift is the shift");
    berg_space_destroy(s);
}

static void test_w2_extreme_boxes(void)
{
    /* W_r scales with the box: W(L) = L W(1) for L = 1e-300 .. 1e300 */
    const size_t n = 40;
    double p[40], q[40], w1, w3, wL, out[40], out1[40];
    for (size_t i = 0; i < n; i++) {
        double x = (i + 0.5) / n;
        p[i] = exp(-30.0 * (x - 0.3) * (x - 0.3)) + 0.05;
        q[i] = exp(-50.0 * (x - 0.7) * (x - 0.7)) + 0.01;
    }
    berg_space *s1 = tu_line(n, 0.0, 1.0, BERG_PERIODIC);
    CHECK_STATUS(berg_w2_distance_1d(s1, p, q, &w1), BERG_OK, "W2 on [0, 1]");
    CHECK_STATUS(berg_wp_distance_1d(s1, 3.0, p, q, &w3), BERG_OK, "W3 on [0, 1]");
    CHECK_STATUS(berg_w2_interpolate_1d(s1, 0.25, p, q, out1), BERG_OK, "interpolate on [0, 1]");
    const double Ls[4] = {1e-300, 1e-150, 1e150, 1e300};
    for (size_t k = 0; k < 4; k++) {
        berg_space *s = tu_line(n, 0.0, Ls[k], BERG_PERIODIC);
        CHECK_STATUS(berg_w2_distance_1d(s, p, q, &wL), BERG_OK, "W2 on [0, %g]", Ls[k]);
        CHECK_REL(wL / Ls[k], w1, 1e-13, "W2 scales with the box (L = %g)", Ls[k]);
        CHECK_STATUS(berg_wp_distance_1d(s, 3.0, p, q, &wL), BERG_OK, "W3 on [0, %g]", Ls[k]);
        CHECK_REL(wL / Ls[k], w3, 1e-13, "W3 scales with the box (L = %g)", Ls[k]);
        CHECK_STATUS(berg_w2_interpolate_1d(s, 0.25, p, q, out), BERG_OK, "interpolate (L = %g)",
                     Ls[k]);
        double dev = 0.0;
        for (size_t i = 0; i < n; i++)
            dev = fmax(dev, fabs(out[i] * Ls[k] - out1[i]));
        CHECK(dev <= 1e-13 * tu_max_abs(out1, n), "interpolation scales as 1/L (L = %g): %g",
              Ls[k], dev);
        berg_space_destroy(s);
    }
    berg_space_destroy(s1);
}

static void test_interpolate_overflow(void)
{
    /* cells of volume 1e-310: a unit mass in one cell has density 1e310 */
    const size_t n = 1000;
    double lo = 0.0, hi = 1e-307;
    berg_boundary bc = BERG_NEUMANN;
    berg_space *s = NULL;
    berg_status st = berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    if (st != BERG_OK) {
        /* the space layer may refuse such cells itself: then with a reason */
        CHECK(berg_last_error()[0] != '\0', "refused tiny cells without a message");
        return;
    }
    double *p = tu_vec(n), *out = tu_vec(n);
    for (size_t i = 0; i < n; i++)
        p[i] = i == 7 ? 1.0 : 0.0;
    tu_fill(out, n, SENTINEL);
    CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p, p, out), BERG_ERR_DOMAIN,
                 "an interpolated density that overflows");
    CHECK_MESSAGE("out[7]", "the message names the overflowing cell");
    CHECK(tu_untouched(out, n, SENTINEL), "out untouched on failure");
    /* spread out, the same density is finite and right: 1 / L */
    for (size_t i = 0; i < n; i++)
        p[i] = 1.0;
    CHECK_STATUS(berg_w2_interpolate_1d(s, 0.5, p, p, out), BERG_OK, "uniform on tiny cells");
    CHECK_REL(out[500], 1.0 / hi, 1e-12, "uniform interpolation is 1/L");
    free(p);
    free(out);
    berg_space_destroy(s);
}

/* a normalized bump on a line [0, L] of n cells */
static void bump(size_t n, double L, double centre, double *p)
{
    double t = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = (i + 0.5) / (double)n;
        p[i] = exp(-20.0 * (x - centre) * (x - centre)) + 0.1;
        t += p[i];
    }
    for (size_t i = 0; i < n; i++)
        p[i] /= t * (L / (double)n);
}

static void test_functionals_extreme_boxes(void)
{
    /* the functionals on [0, L] against [0, 1] by their exact scaling laws:
     * S(L) = S(1) + ln L, KL and E_V invariant, J and I as 1/L^2, the
     * Dirichlet energy as 1/L^3, second moments as L^2; where a value
     * leaves the normal double range the call is refused, outputs kept */
    const size_t n = 16;
    double p1[16], q1[16], V[16], S1, K1, E1, J1, I1, D1, m1[3];
    for (size_t i = 0; i < n; i++)
        V[i] = ((double)i - 7.5) * ((double)i - 7.5) / 100.0;
    berg_space *s1 = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    bump(n, 1.0, 0.4, p1);
    bump(n, 1.0, 0.6, q1);
    CHECK_STATUS(berg_entropy(s1, p1, &S1), BERG_OK, "entropy");
    CHECK_STATUS(berg_kl_divergence(s1, p1, q1, &K1), BERG_OK, "KL");
    CHECK_STATUS(berg_potential_energy(s1, p1, V, &E1), BERG_OK, "potential energy");
    CHECK_STATUS(berg_density_fisher_information(s1, p1, &J1), BERG_OK, "Fisher information");
    CHECK_STATUS(berg_relative_fisher_information(s1, p1, q1, &I1), BERG_OK, "relative Fisher");
    CHECK_STATUS(berg_dirichlet_energy(s1, p1, &D1), BERG_OK, "Dirichlet energy");
    CHECK_STATUS(berg_moments(s1, 2, p1, m1), BERG_OK, "moments");
    berg_space_destroy(s1);
    const double Ls[6] = {1e-300, 1e-150, 1e-90, 1e90, 1e150, 1e300};
    for (size_t k = 0; k < 6; k++) {
        const double L = Ls[k];
        double p[16], q[16], v = SENTINEL, out[16], m[3];
        berg_space *s = tu_line(n, 0.0, L, BERG_NEUMANN);
        bump(n, L, 0.4, p);
        bump(n, L, 0.6, q);
        CHECK_STATUS(berg_entropy(s, p, &v), BERG_OK, "entropy (L = %g)", L);
        CHECK_ABS(v, S1 + log(L), 1e-12 * fabs(S1 + log(L)), "S(L) = S(1) + ln L (L = %g)", L);
        CHECK_STATUS(berg_kl_divergence(s, p, q, &v), BERG_OK, "KL (L = %g)", L);
        CHECK_REL(v, K1, 1e-12, "KL is scale free (L = %g)", L);
        CHECK_STATUS(berg_potential_energy(s, p, V, &v), BERG_OK, "E_V (L = %g)", L);
        CHECK_REL(v, E1, 1e-12, "E_V is scale free (L = %g)", L);
        /* J, I ~ 1/L^2: right for L = 1e+-90 and 1e+-150, refused at 1e+-300 */
        const int in2 = fabs(log10(L)) < 200;
        v = SENTINEL;
        CHECK_STATUS(berg_density_fisher_information(s, p, &v), in2 ? BERG_OK : BERG_ERR_DOMAIN,
                     "J (L = %g)", L);
        if (in2)
            CHECK_REL(v * L * L, J1, 1e-12, "J scales as 1/L^2 (L = %g)", L);
        else
            CHECK(v == SENTINEL, "J untouched when refused (L = %g)", L);
        v = SENTINEL;
        CHECK_STATUS(berg_relative_fisher_information(s, p, q, &v),
                     in2 ? BERG_OK : BERG_ERR_DOMAIN, "I (L = %g)", L);
        if (in2)
            CHECK_REL(v * L * L, I1, 1e-12, "I scales as 1/L^2 (L = %g)", L);
        else
            CHECK(v == SENTINEL, "I untouched when refused (L = %g)", L);
        /* the Dirichlet energy ~ 1/L^3: right at 1e+-90, refused beyond */
        const int in3 = fabs(log10(L)) < 100;
        v = SENTINEL;
        CHECK_STATUS(berg_dirichlet_energy(s, p, &v), in3 ? BERG_OK : BERG_ERR_DOMAIN,
                     "Dirichlet energy (L = %g)", L);
        if (in3)
            CHECK_REL(v * L * L * L, D1, 1e-12, "E scales as 1/L^3 (L = %g)", L);
        else
            CHECK(v == SENTINEL, "E untouched when refused (L = %g)", L);
        /* the Laplacian of p ~ 1/L^3 as well: refused where it overflows
         * (L <= 1e-150), values below the double range round towards 0 */
        tu_fill(out, n, SENTINEL);
        berg_status st = berg_discrete_laplacian(s, p, out);
        if (in3 || L > 1.0)
            CHECK(st == BERG_OK && tu_max_abs(out, n) < 1e300, "Laplacian (L = %g): %s", L,
                  berg_last_error());
        else
            CHECK(st == BERG_ERR_DOMAIN && tu_untouched(out, n, SENTINEL),
                  "Laplacian refused with out untouched (L = %g): %s", L, berg_last_error());
        /* second moments ~ L^2: refused at 1e300 where they overflow;
         * below the double range (L = 1e-300) they round towards 0 */
        tu_fill(m, 3, SENTINEL);
        st = berg_moments(s, 2, p, m);
        if (L < 1e-200)
            CHECK(st == BERG_OK && m[2] >= 0.0 && m[2] < 1e-300,
                  "second moment below the double range rounds to ~0 (L = %g)", L);
        else if (L < 1e200)
            CHECK(st == BERG_OK && fabs(m[2] / (L * L) / m1[2] - 1.0) < 1e-12,
                  "second moment scales as L^2 (L = %g)", L);
        else
            CHECK(st == BERG_ERR_DOMAIN && tu_untouched(m, 3, SENTINEL),
                  "moments refused with m untouched (L = %g)", L);
        berg_space_destroy(s);
    }
}

static void test_w2_gaussian_huge(void)
{
    /* means of opposite sign near DBL_MAX: m1 - m2 overflows although the
     * distance may not (fuzz/crashes/w2/gaussian-huge-means-inf) */
    double S = 16.01, m1 = DBL_MAX / 2, m2 = -DBL_MAX / 4, w = SENTINEL;
    CHECK_STATUS(berg_w2_gaussian(1, &m1, &S, &m2, &S, &w), BERG_OK, "means 0.5 and -0.25 DBL_MAX");
    CHECK_REL(w, 0.75 * DBL_MAX, 1e-15, "W2 is |m1 - m2| for equal covariances");
    m1 = 1e300;
    m2 = -DBL_MAX;
    w = SENTINEL;
    CHECK_STATUS(berg_w2_gaussian(1, &m1, &S, &m2, &S, &w), BERG_ERR_DOMAIN,
                 "a distance beyond DBL_MAX");
    CHECK_MESSAGE("overflows", "the message says it overflows");
    CHECK(w == SENTINEL, "w2 untouched");
    /* covariances near DBL_MAX: W2 = |sqrt(S1) - sqrt(S2)| in 1-D */
    double S1 = DBL_MAX, S2 = DBL_MAX / 4, z = 0.0;
    CHECK_STATUS(berg_w2_gaussian(1, &z, &S1, &z, &S2, &w), BERG_OK, "covariances near DBL_MAX");
    CHECK_REL(w, sqrt(DBL_MAX) / 2, 1e-14, "W2 = sqrt(S1) - sqrt(S2)");
}

static void test_w2_metric_boxes(void)
{
    /* the W2 metric tensor scales as L^2 (eta a difference of densities):
     * right while its operator's coefficients are well inside the double
     * range (box widths 1e-97 .. 1e100 on 16 cells), refused at creation
     * beyond (it failed with a NaN residual) */
    const size_t n = 16;
    double p[16], q[16], eta[16], G1 = NAN, G, res;
    size_t it;
    const double Ls[5] = {1.0, 1e-90, 1e90, 1e-150, 1e150};
    for (size_t k = 0; k < 5; k++) {
        const double L = Ls[k];
        berg_space *s = tu_line(n, 0.0, L, BERG_NEUMANN);
        bump(n, L, 0.4, p);
        bump(n, L, 0.6, q);
        for (size_t i = 0; i < n; i++)
            eta[i] = q[i] - p[i];
        berg_w2_metric *m = (berg_w2_metric *)&G;
        if (k < 3) {
            m = NULL;
            CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, 0), BERG_OK, "W2 metric (L = %g)",
                         L);
            CHECK_STATUS(berg_w2_metric_inner(m, eta, eta, &G, &it, &res), BERG_OK,
                         "inner (L = %g)", L);
            if (k == 0)
                G1 = G;
            CHECK_REL(G / (L * L), G1, 1e-11, "G scales as L^2 (L = %g)", L);
            berg_w2_metric_destroy(m);
        } else {
            CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, 0), BERG_ERR_DOMAIN,
                         "W2 metric on [0, %g]", L);
            CHECK_MESSAGE("h^2", "the message names the coefficient");
            CHECK(m == (berg_w2_metric *)&G, "*out untouched");
        }
        berg_space_destroy(s);
    }
}

static berg_sinkhorn *solver(const berg_space *s, double eps, unsigned flags)
{
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, eps, flags), BERG_OK, "sinkhorn create eps = %g",
                 eps);
    return sk;
}

static void smooth_pair(size_t n, double *p, double *q)
{
    for (size_t i = 0; i < n; i++) {
        double x = (i + 0.5) / (double)n;
        p[i] = 1.0 + 0.5 * sin(2.0 * M_PI * x);
        q[i] = 1.0 + 0.5 * cos(2.0 * M_PI * x);
    }
}

static void test_sinkhorn_huge_eps(void)
{
    /* At huge eps the Neumann image sum of [0, 1] is the constant
     * sqrt(pi eps) (Poisson summation: only the zero mode survives), so the
     * plan is p (x) q and OT_eps = -(eps / 2) log(pi eps), f_i + g_j alike */
    const size_t n = 32;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    double p[32], q[32], f[32], g[32], c = SENTINEL;
    smooth_pair(n, p, q);
    const double eps = 1e300;
    berg_sinkhorn *sk = solver(s, eps, 0);
    CHECK_STATUS(berg_sinkhorn_solve(sk, p, q, &c, f, g), BERG_OK, "eps = 1e300");
    const double want = -0.5 * eps * log(M_PI * eps);
    CHECK_REL(c, want, 1e-12, "OT_eps at eps = 1e300 (closed form)");
    double dev = 0.0;
    for (size_t i = 0; i < n; i++)
        dev = fmax(dev, fabs((f[i] + g[(i * 7) % n]) / want - 1.0));
    CHECK(dev <= 1e-12, "f_i + g_j is the constant cost at huge eps: rel dev %g", dev);
    berg_sinkhorn_destroy(sk);

    /* beyond: the value leaves the double range; refused, outputs kept */
    const double too_big[2] = {1e307, DBL_MAX};
    for (size_t k = 0; k < 2; k++) {
        sk = solver(s, too_big[k], 0);
        c = SENTINEL;
        tu_fill(f, n, SENTINEL);
        CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c), BERG_ERR_DOMAIN, "eps = %g", too_big[k]);
        CHECK_MESSAGE("eps", "the message names eps");
        CHECK(c == SENTINEL, "cost untouched at eps = %g", too_big[k]);
        CHECK_STATUS(berg_sinkhorn_solve(sk, p, q, &c, f, NULL), BERG_ERR_DOMAIN,
                     "solve at eps = %g", too_big[k]);
        CHECK(c == SENTINEL && tu_untouched(f, n, SENTINEL), "outputs untouched at eps = %g",
              too_big[k]);
        double div = SENTINEL;
        CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &div), BERG_ERR_DOMAIN,
                     "divergence at eps = %g", too_big[k]);
        CHECK(div == SENTINEL, "divergence untouched");
        berg_sinkhorn_destroy(sk);
    }
    berg_space_destroy(s);
}

static void test_sinkhorn_tiny_eps(void)
{
    /* the log domain at eps so small that f/eps cannot be resolved: refused
     * before iterating (it gave NaN potentials or a wrong cost with OK) */
    const size_t n = 32;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_PERIODIC);
    double p[32], q[32], f[32], g[32], c;
    smooth_pair(n, p, q);
    const double tiny[4] = {1e-14, 1e-300, 2.2e-308, 4.9406564584124654e-324};
    for (size_t k = 0; k < 4; k++) {
        berg_sinkhorn *sk = solver(s, tiny[k], BERG_SINKHORN_LOG_DOMAIN);
        for (int pass = 0; pass < 2; pass++) { /* the default tolerance, then none */
            c = SENTINEL;
            tu_fill(f, n, SENTINEL);
            tu_fill(g, n, SENTINEL);
            CHECK_STATUS(berg_sinkhorn_solve(sk, p, p, &c, f, g), BERG_ERR_DOMAIN,
                         "log domain at eps = %g, tolerance %s", tiny[k], pass ? "0" : "default");
            CHECK_MESSAGE("eps", "the message names eps");
            CHECK(c == SENTINEL && tu_untouched(f, n, SENTINEL) && tu_untouched(g, n, SENTINEL),
                  "outputs untouched (eps = %g)", tiny[k]);
            double out[32];
            tu_fill(out, n, SENTINEL);
            double pq[64];
            memcpy(pq, p, sizeof p);
            memcpy(pq + n, q, sizeof q);
            const double wts[2] = {0.5, 0.5};
            CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, pq, wts, out), BERG_ERR_DOMAIN,
                         "barycenter at eps = %g", tiny[k]);
            CHECK(tu_untouched(out, n, SENTINEL), "barycenter output untouched");
            CHECK_STATUS(berg_sinkhorn_set_tolerance(sk, 0.0), BERG_OK, "tolerance 0");
        }
        berg_sinkhorn_destroy(sk);
    }
    /* where it resolves, p against itself: OT_eps(p, p) -> eps KL of the
     * diagonal plan, finite potentials */
    berg_sinkhorn *sk = solver(s, 1e-5, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_solve(sk, p, p, &c, f, g), BERG_OK, "log domain at eps = 1e-5");
    int finite = isfinite(c);
    for (size_t i = 0; i < n; i++)
        finite = finite && isfinite(f[i]) && isfinite(g[i]);
    CHECK(finite && fabs(c) < 1e-3, "finite potentials and a small cost: %g", c);
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(s);
}

/* eps 1e-300 on a box 1e150 wide: D^2 / (16 eps) of the stabilized pair
 * solve's eps-scaling overflows; its stage count was (int)floor(log2(inf)),
 * undefined (clang UBSan: sinkhorn_solve.c, "inf is outside the range of
 * representable values of type 'int'"; INT_MIN on x86 skipped the stages,
 * INT_MAX where the conversion saturates ran 2^31 of them). Refused, as
 * neither kernel resolves this eps, with the cost untouched. */
static void test_sinkhorn_anneal_ratio_overflow(void)
{
    const size_t n = 16;
    berg_space *s = tu_line(n, 0.0, 1e150, BERG_NEUMANN);
    double p[16] = {0}, q[16] = {0}, c;
    p[0] = q[15] = 1.0 / berg_space_cell_weight(s);
    const unsigned modes[2] = {0, BERG_SINKHORN_STABILIZED};
    for (size_t k = 0; k < 2; k++) {
        berg_sinkhorn *sk = solver(s, 1e-300, modes[k]);
        c = SENTINEL;
        berg_status st = berg_sinkhorn_cost(sk, p, q, &c);
        CHECK(st != BERG_OK, "eps 1e-300 on [0, 1e150] (%s): refused (status %d, cost %g)",
              k ? "stabilized" : "default", (int)st, c);
        CHECK_MESSAGE("berg_sinkhorn_cost", "the message names the function");
        CHECK(c == SENTINEL, "cost untouched");
        if (k == 1)
            CHECK_MESSAGE("left the double range", "stabilized: the scalings are lost");
        berg_sinkhorn_destroy(sk);
    }
    berg_space_destroy(s);
}

static void test_sinkhorn_boxes(void)
{
    const size_t n = 32;
    double p[32], q[32], c1[2], c;
    smooth_pair(n, p, q);
    const unsigned modes[2] = {0, BERG_SINKHORN_LOG_DOMAIN};
    berg_space *s1 = tu_line(n, 0.0, 1.0, BERG_PERIODIC);
    for (size_t m = 0; m < 2; m++) {
        berg_sinkhorn *sk = solver(s1, 0.01, modes[m]);
        CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c1[m]), BERG_OK, "cost on [0, 1]");
        berg_sinkhorn_destroy(sk);
    }
    /* OT_eps scales as L^2 with eps = 0.01 L^2 */
    const double Ls[2] = {1e-150, 1e150};
    for (size_t k = 0; k < 2; k++) {
        berg_space *s = tu_line(n, 0.0, Ls[k], BERG_PERIODIC);
        for (size_t m = 0; m < 2; m++) {
            berg_sinkhorn *sk = solver(s, 0.01 * Ls[k] * Ls[k], modes[m]);
            c = NAN;
            CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c), BERG_OK, "cost on [0, %g]", Ls[k]);
            CHECK_REL(c / (Ls[k] * Ls[k]), c1[m], 1e-9, "OT_eps scales as L^2 (L = %g, mode %u)",
                      Ls[k], modes[m]);
            berg_sinkhorn_destroy(sk);
        }
        berg_space_destroy(s);
    }
    /* a box whose squared diameter overflows: refused at creation */
    berg_space *big = tu_line(n, 1e300, 2e300, BERG_PERIODIC);
    for (size_t m = 0; m < 2; m++) {
        berg_sinkhorn *sk = (berg_sinkhorn *)&c;
        CHECK_STATUS(berg_sinkhorn_create(&sk, big, 1e300, modes[m]), BERG_ERR_DOMAIN,
                     "box [1e300, 2e300]");
        CHECK_MESSAGE("diameter", "the message names the overflowing quantity");
        CHECK(sk == (berg_sinkhorn *)&c, "*out untouched");
    }
    berg_space_destroy(big);
    /* measures whose values are finite but whose integral overflows */
    berg_space *wide = tu_line(n, 0.0, 1e10, BERG_PERIODIC);
    double P[32], Q[32], cs, cb;
    for (size_t i = 0; i < n; i++) {
        P[i] = 1e300 * p[i];
        Q[i] = 1e300 * q[i];
    }
    for (size_t m = 0; m < 2; m++) {
        berg_sinkhorn *sk = solver(wide, 1e18, modes[m]);
        CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &cs), BERG_OK, "cost of the shapes");
        CHECK_STATUS(berg_sinkhorn_cost(sk, P, Q, &cb), BERG_OK, "cost of huge measures");
        CHECK_REL(cb, cs, 1e-12, "only the shape matters (integral 1e310, mode %u)", modes[m]);
        berg_sinkhorn_destroy(sk);
    }
    berg_space_destroy(wide);
    berg_space_destroy(s1);
}

static void test_sinkhorn_report_before_solve(void)
{
    berg_space *s = tu_line(16, 0.0, 1.0, BERG_PERIODIC);
    berg_sinkhorn *sk = solver(s, 0.05, 0);
    double e = SENTINEL, p[16], q[16];
    size_t it = 99;
    CHECK_STATUS(berg_sinkhorn_report(sk, &e, &it), BERG_ERR_DOMAIN, "report before any solve");
    CHECK_MESSAGE("no report", "the message says why");
    CHECK(e == SENTINEL && it == 99, "outputs untouched: %g %zu", e, it);
    smooth_pair(16, p, q);
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &e), BERG_OK, "a solve");
    CHECK_STATUS(berg_sinkhorn_report(sk, &e, &it), BERG_OK, "report after it");
    CHECK(isfinite(e) && e <= 1e-9 && it > 0, "a finite report: %g %zu", e, it);
    /* a solve refused before iterating (log domain at a tiny eps) leaves
     * no NaN report behind */
    berg_sinkhorn *tiny = solver(s, 1e-300, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_cost(tiny, p, q, &e), BERG_ERR_DOMAIN, "refused solve");
    e = SENTINEL;
    CHECK_STATUS(berg_sinkhorn_report(tiny, &e, &it), BERG_ERR_DOMAIN,
                 "no report after a refused solve");
    CHECK(e == SENTINEL, "report untouched");
    berg_sinkhorn_destroy(tiny);
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(s);
}

int main(void)
{
    test_subnormal_1d();
    test_wp_huge_order();
    test_w2_extreme_boxes();
    test_interpolate_overflow();
    test_functionals_extreme_boxes();
    test_w2_gaussian_huge();
    test_w2_metric_boxes();
    test_sinkhorn_huge_eps();
    test_sinkhorn_tiny_eps();
    test_sinkhorn_anneal_ratio_overflow();
    test_sinkhorn_boxes();
    test_sinkhorn_report_before_solve();
    return test_summary("metric-extremes");
}
