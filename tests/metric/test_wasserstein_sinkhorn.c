/* Entropic transport: convolutional Sinkhorn costs, debiased divergences,
 * the log-domain mode, barycenters, flags, and one handle solving from many
 * threads at once. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "testutil.h"

static berg_space *box1(size_t n, berg_boundary bc)
{
    double lo = 0.0, hi = 1.0;
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL), BERG_OK, "line");
    return s;
}

static berg_sinkhorn *solver(const berg_space *s, double eps, unsigned flags)
{
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, eps, flags), BERG_OK, "create eps %g", eps);
    return sk;
}

static void bump(const berg_space *s, double c, double sd, double *p)
{
    size_t n = berg_space_size(s);
    double *x = malloc(n * sizeof *x);
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++)
        p[i] = exp(-0.5 * pow((x[i] - c) / sd, 2));
    free(x);
}

/* a compactly supported C^1 bump ((1 + cos(pi r / R)) / 2)^2, r < R */
static double cbump(double r, double R)
{
    return r < R ? pow(0.5 * (1.0 + cos(3.141592653589793 * r / R)), 2) : 0.0;
}

static void cbump1(const berg_space *s, double c, double R, double *p)
{
    size_t n = berg_space_size(s);
    double *x = malloc(n * sizeof *x);
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++)
        p[i] = cbump(fabs(x[i] - c), R);
    free(x);
}

/* OT_eps -> W2^2 as eps -> 0; the divergence converges faster; the two
 * modes agree where both apply */
static void test_limit_1d(void)
{
    size_t n = 200;
    berg_space *s = box1(n, BERG_NEUMANN);
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    bump(s, 0.35, 0.05, p);
    bump(s, 0.6, 0.08, q);
    double w2;
    berg_w2_distance_1d(s, p, q, &w2);
    double W = w2 * w2, prev = INFINITY;
    const double eps[4] = {1e-2, 3e-3, 1e-3, 3e-4};
    for (int k = 0; k < 4; k++) {
        berg_sinkhorn *sk = solver(s, eps[k], BERG_SINKHORN_LOG_DOMAIN);
        double c, dv, err;
        size_t it;
        CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c), BERG_OK, "cost eps %g", eps[k]);
        berg_sinkhorn_report(sk, &err, &it);
        CHECK(err <= 1e-9 && it > 0, "converged: error %g after %zu iterations", err, it);
        CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &dv), BERG_OK, "divergence");
        double e = fabs(c - W);
        printf("  eps %-6g OT_eps %.8f  S_eps %.8f  W2^2 %.8f  |OT-W2^2| %.2e  |S-W2^2| %.2e\n",
               eps[k], c, dv, W, e, fabs(dv - W));
        CHECK(e < prev, "OT_eps error decreases with eps (%g)", eps[k]);
        prev = e;
        /* the entropic bias of OT_eps is ~ eps log(1/eps); S_eps is within
         * O(eps^2)-ish plus the discretization */
        CHECK(e < 3.0 * eps[k] * log(1.0 / eps[k]), "OT_eps bias bounded, eps %g", eps[k]);
        if (eps[k] <= 1e-3)
            CHECK_REL(dv, W, 2e-3, "S_eps ~ W2^2 at eps %g", eps[k]);
        berg_sinkhorn_destroy(sk);
    }
    /* scaling (heat kernel) and log-domain agree when eps >> h^2 and the
     * kernel is resolved across the supports (here e^{-D^2/eps} >= e^{-12}) */
    const double ek = 1e-2;
    cbump1(s, 0.35, 0.12, p);
    cbump1(s, 0.6, 0.15, q);
    double c1, c2;
    berg_sinkhorn *a = solver(s, ek, 0), *b = solver(s, ek, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_cost(a, p, q, &c1), BERG_OK, "scaling mode");
    CHECK_STATUS(berg_sinkhorn_cost(b, p, q, &c2), BERG_OK, "log mode");
    CHECK_REL(c1, c2, 1e-8, "scaling and log-domain modes agree (eps = 400 h^2)");
    /* potentials: the plan built from them has first marginal p */
    double *f = malloc(n * sizeof *f), *g = malloc(n * sizeof *g), cost;
    CHECK_STATUS(berg_sinkhorn_solve(b, p, q, &cost, f, g), BERG_OK, "solve");
    CHECK_REL(cost, c2, 1e-12, "solve gives the cost");
    double *x = malloc(n * sizeof *x), pm, qm, worst = 0;
    berg_space_coordinates(s, 0, x);
    berg_space_integrate(s, p, &pm);
    berg_space_integrate(s, q, &qm);
    for (size_t i = 0; i < n; i += 3) {
        if (p[i] == 0.0)
            continue;
        double row = 0;
        for (size_t j = 0; j < n; j++) {
            if (q[j] == 0.0)
                continue;
            /* the kernel of a Neumann axis is the image sum */
            double k = exp(-pow(x[i] - x[j], 2) / ek) + exp(-pow(x[i] + x[j], 2) / ek) +
                       exp(-pow(2 - x[i] - x[j], 2) / ek);
            row += q[j] / qm * exp((f[i] + g[j]) / ek) * k / n;
        }
        worst = fmax(worst, fabs(row - 1.0));
    }
    CHECK(worst < 1e-7, "plan marginal from the potentials (%g)", worst);
    /* the scaling mode gives the same potentials on the supports, up to
     * the gauge f + k, g - k */
    double *f2 = malloc(n * sizeof *f2), *g2 = malloc(n * sizeof *g2);
    berg_sinkhorn_solve(a, p, q, NULL, f2, g2);
    double shift = f[70] - f2[70], dmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] > 0)
            dmax = fmax(dmax, fabs(f[i] - f2[i] - shift));
        if (q[i] > 0)
            dmax = fmax(dmax, fabs(g[i] - g2[i] + shift));
    }
    CHECK(dmax < 1e-8, "potentials agree up to the gauge shift (%g)", dmax);
    berg_sinkhorn_destroy(a);
    berg_sinkhorn_destroy(b);
    free(f);
    free(g);
    free(f2);
    free(g2);
    free(x);
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* small eps: the scaling mode reports its underflow, the log domain copes */
static void test_small_eps(void)
{
    size_t n = 64;
    berg_space *s = box1(n, BERG_NEUMANN);
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q), c = -1, w2;
    bump(s, 0.25, 0.04, p);
    bump(s, 0.7, 0.06, q);
    berg_w2_distance_1d(s, p, q, &w2);
    double eps = 1e-4; /* 0.4 h^2: the potentials span ~ 2e3 eps */
    berg_sinkhorn *a = solver(s, eps, 0), *b = solver(s, eps, BERG_SINKHORN_LOG_DOMAIN);
    berg_sinkhorn_set_max_iterations(a, 20000);
    CHECK_STATUS(berg_sinkhorn_cost(a, p, q, &c), BERG_ERR_NO_CONVERGENCE, "scaling underflows");
    CHECK_MESSAGE("BERG_SINKHORN_LOG_DOMAIN", "the message points to the log domain");
    CHECK(c == -1, "cost untouched");
    CHECK_STATUS(berg_sinkhorn_set_max_iterations(b, 100000), BERG_OK, "cap");
    CHECK_STATUS(berg_sinkhorn_cost(b, p, q, &c), BERG_OK, "log domain at eps = %g", eps);
    CHECK(isfinite(c), "finite");
    CHECK_REL(c, w2 * w2, 5e-3, "log domain: OT_eps ~ W2^2 at small eps");
    double dv;
    CHECK_STATUS(berg_sinkhorn_divergence(b, p, q, &dv), BERG_OK, "divergence");
    CHECK_REL(dv, w2 * w2, 2e-3, "log domain: S_eps ~ W2^2");
    berg_sinkhorn_destroy(a);
    berg_sinkhorn_destroy(b);
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* translation on a periodic grid: S_eps = |shift|^2 */
static void test_translation_2d(void)
{
    size_t n[2] = {40, 40};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_space *s = NULL;
    berg_space_create(&s, 2, n, lo, hi, NULL, NULL);
    size_t N = 40 * 40;
    double *p = malloc(N * sizeof *p), *q = malloc(N * sizeof *q);
    /* shift by (4, -2) cells = (0.1, -0.05); two compact bumps */
    for (size_t i = 0; i < 40; i++)
        for (size_t j = 0; j < 40; j++) {
            double x = (i + 0.5) / 40, y = (j + 0.5) / 40;
            double xs = x - 4.0 / 40, ys = y + 2.0 / 40;
            p[i * 40 + j] = cbump(hypot(x - 0.5, 2 * (y - 0.45)), 0.15) +
                            0.5 * cbump(hypot(x - 0.4, y - 0.6), 0.08);
            q[i * 40 + j] = cbump(hypot(xs - 0.5, 2 * (ys - 0.45)), 0.15) +
                            0.5 * cbump(hypot(xs - 0.4, ys - 0.6), 0.08);
        }
    double want = pow(4.0 / 40, 2) + pow(2.0 / 40, 2);
    const unsigned modes[2] = {0, BERG_SINKHORN_LOG_DOMAIN};
    for (int m = 0; m < 2; m++) {
        berg_sinkhorn *sk = solver(s, 1e-2, modes[m]);
        double dv, c, cpp;
        CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &dv), BERG_OK, "divergence mode %d", m);
        CHECK_REL(dv, want, 1e-6, "translation: S_eps = |shift|^2 (mode %u)", modes[m]);
        berg_sinkhorn_cost(sk, p, q, &c);
        berg_sinkhorn_cost(sk, p, p, &cpp);
        CHECK_REL(c - cpp, want, 1e-6, "translation: OT(p, T p) - OT(p, p) (mode %u)", modes[m]);
        /* >= 0 and zero on equal inputs */
        double z;
        CHECK_STATUS(berg_sinkhorn_divergence(sk, p, p, &z), BERG_OK, "same array");
        CHECK(z == 0.0, "zero on the same array");
        double *p2 = malloc(N * sizeof *p2);
        for (size_t i = 0; i < N; i++)
            p2[i] = 3.0 * p[i];
        berg_sinkhorn_divergence(sk, p, p2, &z);
        CHECK_ABS(z, 0.0, 1e-12, "zero on equal (rescaled) inputs");
        unsigned long long seed = 3 + m;
        for (int t = 0; t < 2; t++) {
            for (size_t i = 0; i < N; i++)
                p2[i] = p[i] + 0.3 * tu_uniform(&seed) * q[i];
            berg_sinkhorn_divergence(sk, p, p2, &z);
            CHECK(z >= 0.0 && z < want, "0 <= S_eps(p, perturbed p) = %g", z);
        }
        free(p2);
        berg_sinkhorn_destroy(sk);
    }
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* barycenters: 1-D translates interpolate, the log and scaling modes agree,
 * and they match the exact displacement interpolation as eps -> 0 */
static void test_barycenter(void)
{
    size_t n = 256;
    berg_space *s = box1(n, BERG_NEUMANN);
    double *P = malloc(2 * n * sizeof *P), *b = malloc(n * sizeof *b), *b2 = malloc(n * sizeof *b2);
    double *m = malloc(n * sizeof *m);
    cbump1(s, 0.4, 0.1, P);
    cbump1(s, 0.6, 0.15, P + n);
    double wts[2] = {1.0, 3.0}; /* normalized to 1/4, 3/4 */
    /* the FFT kernel resolves the far tails at eps = 1e-2 (the scaling
     * barycenter then agrees with the log-domain one); the log domain goes
     * on to small eps, where the barycenter approaches the exact one */
    berg_sinkhorn *a = solver(s, 1e-2, 0), *l = solver(s, 1e-2, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_barycenter(a, 2, P, wts, b), BERG_OK, "barycenter");
    CHECK_STATUS(berg_sinkhorn_barycenter(l, 2, P, wts, b2), BERG_OK, "log barycenter");
    double mass, mean, cov;
    berg_space_integrate(s, b, &mass);
    CHECK_REL(mass, 1.0, 1e-12, "normalized");
    berg_space_moments(s, b, &mean, &cov);
    CHECK_REL(mean, 0.25 * 0.4 + 0.75 * 0.6, 1e-3, "barycenter mean");
    double dmax = tu_max_abs_diff(b, b2, n);
    CHECK(dmax < 1e-5, "scaling and log barycenters agree (%g)", dmax);
    berg_sinkhorn_destroy(l);
    l = solver(s, 2e-4, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_barycenter(l, 2, P, wts, b2), BERG_OK, "log barycenter 2e-4");
    berg_space_moments(s, b2, &mean, &cov);
    CHECK_REL(mean, 0.25 * 0.4 + 0.75 * 0.6, 1e-3, "barycenter mean, eps 2e-4");
    /* the exact W2 barycenter of two 1-D densities is McCann's interpolant */
    berg_w2_interpolate_1d(s, 0.75, P, P + n, m);
    double w;
    berg_w2_distance_1d(s, m, b2, &w);
    CHECK(w < 0.01, "entropic barycenter is W2-close to the exact one (W2 %g)", w);
    /* the sd of the exact one is the weighted mean of the sds (1-D) */
    double m0, v0, m1, v1;
    berg_space_moments(s, P, &m0, &v0);
    berg_space_moments(s, P + n, &m1, &v1);
    CHECK_REL(sqrt(cov), 0.25 * sqrt(v0) + 0.75 * sqrt(v1), 0.05, "barycenter spread");
    /* fixed iterations: tolerance 0 never reports non-convergence */
    berg_sinkhorn_set_tolerance(a, 0.0);
    berg_sinkhorn_set_max_iterations(a, 3);
    size_t it;
    CHECK_STATUS(berg_sinkhorn_barycenter(a, 2, P, wts, b), BERG_OK, "3 iterations");
    berg_sinkhorn_report(a, NULL, &it);
    CHECK(it == 3, "ran 3 iterations (%zu)", it);
    berg_sinkhorn_destroy(a);
    berg_sinkhorn_destroy(l);
    berg_space_destroy(s);
    free(P);
    free(b);
    free(b2);
    free(m);
}

/* a 3-D Neumann/periodic space, a non-diagonal metric in scaling mode */
static void test_rank3_and_metric(void)
{
    size_t n[3] = {16, 16, 16};
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    berg_boundary bc[3] = {BERG_NEUMANN, BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = NULL;
    berg_space_create(&s, 3, n, lo, hi, bc, NULL);
    size_t N = 4096;
    double *p = malloc(N * sizeof *p), *q = malloc(N * sizeof *q);
    for (size_t i = 0; i < 16; i++)
        for (size_t j = 0; j < 16; j++)
            for (size_t k = 0; k < 16; k++) {
                double x = (i + 0.5) / 16, y = (j + 0.5) / 16, z = (k + 0.5) / 16;
                double r1 = sqrt(pow(x - 0.4, 2) + pow(y - 0.5, 2) + pow(z - 0.5, 2));
                double r2 = sqrt(pow(x - 0.6, 2) + pow(y - 0.5, 2) + pow(z - 0.5, 2));
                p[(i * 16 + j) * 16 + k] = cbump(r1, 0.3);
                q[(i * 16 + j) * 16 + k] = cbump(r2, 0.3);
            }
    berg_sinkhorn *a = solver(s, 0.02, 0), *l = solver(s, 0.02, BERG_SINKHORN_LOG_DOMAIN);
    double c1, c2;
    CHECK_STATUS(berg_sinkhorn_cost(a, p, q, &c1), BERG_OK, "3-D scaling");
    CHECK_STATUS(berg_sinkhorn_cost(l, p, q, &c2), BERG_OK, "3-D log");
    CHECK_REL(c1, c2, 1e-6, "3-D modes agree (eps = 5 h^2)");
    berg_sinkhorn_destroy(a);
    berg_sinkhorn_destroy(l);
    berg_space_destroy(s);
    free(p);
    free(q);
    /* metric g = diag(4, 1) on a periodic square: the divergence of an x
     * translation is 4 dx^2 */
    size_t n2[2] = {48, 48};
    double g[4] = {4, 0, 0, 1}, gc[4] = {2, 0.5, 0.5, 1};
    berg_space_create(&s, 2, n2, lo, hi, NULL, g);
    N = 48 * 48;
    p = malloc(N * sizeof *p);
    q = malloc(N * sizeof *q);
    for (size_t i = 0; i < 48; i++)
        for (size_t j = 0; j < 48; j++) {
            double x = (i + 0.5) / 48, y = (j + 0.5) / 48;
            p[i * 48 + j] = cbump(hypot(x - 0.5, y - 0.5), 0.12);
            q[i * 48 + j] = cbump(hypot(x - 0.5 - 4.0 / 48, y - 0.5), 0.12);
        }
    a = solver(s, 0.02, 0);
    double dv;
    CHECK_STATUS(berg_sinkhorn_divergence(a, p, q, &dv), BERG_OK, "metric divergence");
    CHECK_REL(dv, 4.0 * pow(4.0 / 48, 2), 1e-6, "S_eps = |shift|_g^2");
    berg_sinkhorn_destroy(a);
    berg_space_destroy(s);
    /* coupled metric: scaling mode only */
    berg_space_create(&s, 2, n2, lo, hi, NULL, gc);
    a = solver(s, 0.01, 0);
    CHECK_STATUS(berg_sinkhorn_divergence(a, p, q, &dv), BERG_OK, "coupled metric");
    CHECK_REL(dv, 2.0 * pow(4.0 / 48, 2), 1e-6, "S_eps = |shift|_g^2, coupled g");
    berg_sinkhorn_destroy(a);
    berg_sinkhorn *bad = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&bad, s, 0.01, BERG_SINKHORN_LOG_DOMAIN),
                 BERG_ERR_UNSUPPORTED, "log domain needs a diagonal metric");
    CHECK(bad == NULL, "out untouched");
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* Large eps: the log-domain kernel sums images up to 64 periods each side.
 * Just inside that range it equals the scaling mode to rounding; beyond it
 * creation refuses (BERG_ERR_DOMAIN naming the axis and the scaling mode),
 * where a truncated image sum used to give a cost wrong by 1e-3 relative
 * (periodic [0, 1], eps = 1000). The scaling mode is exact there. */
static void test_large_eps(void)
{
    size_t n = 64;
    const berg_boundary bcs[2] = {BERG_PERIODIC, BERG_NEUMANN};
    /* accepted up to 63^2 L^2 g / 40 = 99.2 (periodic: images y + m L) and
     * 126^2 / 40 = 396.9 (Neumann: images y + 2 m L) */
    const double ok[2] = {99.0, 390.0}, refused[2] = {100.0, 400.0};
    double p[64], q[64];
    for (size_t i = 0; i < n; i++) {
        double x = (i + 0.5) / (double)n;
        p[i] = exp(-50.0 * (x - 0.3) * (x - 0.3));
        q[i] = exp(-30.0 * (x - 0.7) * (x - 0.7));
    }
    for (int b = 0; b < 2; b++) {
        berg_space *s = box1(n, bcs[b]);
        berg_sinkhorn *a = solver(s, ok[b], 0), *l = solver(s, ok[b], BERG_SINKHORN_LOG_DOMAIN);
        berg_sinkhorn_set_tolerance(a, 1e-13);
        berg_sinkhorn_set_tolerance(l, 1e-13);
        double c1 = NAN, c2 = NAN;
        CHECK_STATUS(berg_sinkhorn_cost(a, p, q, &c1), BERG_OK, "scaling, eps %g", ok[b]);
        CHECK_STATUS(berg_sinkhorn_cost(l, p, q, &c2), BERG_OK, "log domain, eps %g", ok[b]);
        /* measured 2e-16 (periodic) and 8e-16 (Neumann) */
        CHECK_REL(c2, c1, 1e-14, "log domain = scaling at the image limit, bc %d", (int)bcs[b]);
        berg_sinkhorn_destroy(a);
        berg_sinkhorn_destroy(l);
        berg_sinkhorn *bad = NULL;
        CHECK_STATUS(berg_sinkhorn_create(&bad, s, refused[b], BERG_SINKHORN_LOG_DOMAIN),
                     BERG_ERR_DOMAIN, "log domain past the image sum, eps %g", refused[b]);
        CHECK_MESSAGE("scaling mode", "the message points to the scaling mode");
        CHECK(bad == NULL, "out untouched");
        /* the scaling mode at eps = 1000: S_eps(p, p) = 0 and S_eps(p, q)
         * ~ 0 (measured 9e-13 against costs of -4026) */
        a = solver(s, 1000.0, 0);
        double dv = NAN;
        CHECK_STATUS(berg_sinkhorn_divergence(a, p, q, &dv), BERG_OK, "scaling, eps 1000");
        CHECK(fabs(dv) < 1e-11, "S_eps(p, q) ~ 0 at eps 1000 (%g)", dv);
        berg_sinkhorn_destroy(a);
        berg_space_destroy(s);
    }
    /* the check is per axis: only the short axis is refused */
    size_t n2[2] = {16, 16};
    double lo[2] = {0.0, 0.0}, hi[2] = {10.0, 1.0};
    berg_boundary bc2[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s2 = NULL;
    CHECK_STATUS(berg_space_create(&s2, 2, n2, lo, hi, bc2, NULL), BERG_OK, "2-D box");
    berg_sinkhorn *bad = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&bad, s2, 100.0, BERG_SINKHORN_LOG_DOMAIN), BERG_ERR_DOMAIN,
                 "2-D, eps 100");
    CHECK_MESSAGE("axis 1", "names the short axis");
    bad = solver(s2, 99.0, BERG_SINKHORN_LOG_DOMAIN);
    berg_sinkhorn_destroy(bad);
    berg_space_destroy(s2);
}

static void test_bad(void)
{
    size_t n = 32;
    berg_space *s = box1(n, BERG_NEUMANN), *sd = box1(n, BERG_DIRICHLET);
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(NULL, s, 0.1, 0), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_sinkhorn_create(&sk, NULL, 0.1, 0), BERG_ERR_NULL, "NULL space");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 0.0, 0), BERG_ERR_DOMAIN, "eps = 0");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, -1.0, 0), BERG_ERR_DOMAIN, "eps < 0");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, NAN, 0), BERG_ERR_DOMAIN, "eps NaN");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, INFINITY, 0), BERG_ERR_DOMAIN, "eps inf");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 0.1, 8u), BERG_ERR_DOMAIN, "unknown flag");
    CHECK_STATUS(berg_sinkhorn_create(&sk, sd, 0.1, 0), BERG_ERR_UNSUPPORTED, "Dirichlet");
    CHECK_MESSAGE("Dirichlet", "names the boundary kind");
    CHECK(sk == NULL, "out untouched");
    size_t big = 5000;
    double lo = 0, hi = 1;
    berg_space *sb = NULL;
    berg_space_create(&sb, 1, &big, &lo, &hi, NULL, NULL);
    CHECK_STATUS(berg_sinkhorn_create(&sk, sb, 0.1, BERG_SINKHORN_LOG_DOMAIN),
                 BERG_ERR_UNSUPPORTED, "log domain axis too long");
    berg_space_destroy(sb);
    berg_sinkhorn_destroy(NULL);

    sk = solver(s, 0.01, 0);
    double p[32], q[32], out[32], c = -9, e;
    for (size_t i = 0; i < n; i++) {
        p[i] = 1.0 + (double)i;
        q[i] = 1.0;
    }
    CHECK_STATUS(berg_sinkhorn_set_max_iterations(sk, 0), BERG_ERR_DOMAIN, "0 iterations");
    CHECK_STATUS(berg_sinkhorn_set_tolerance(sk, -1), BERG_ERR_DOMAIN, "negative tolerance");
    CHECK_STATUS(berg_sinkhorn_set_tolerance(sk, NAN), BERG_ERR_DOMAIN, "NaN tolerance");
    CHECK_STATUS(berg_sinkhorn_set_tolerance(NULL, 1), BERG_ERR_NULL, "NULL handle");
    e = berg_sinkhorn_epsilon(sk);
    CHECK(e == 0.01, "epsilon value");
    CHECK(isnan(berg_sinkhorn_epsilon(NULL)), "epsilon of NULL is NaN");
    CHECK_STATUS(berg_sinkhorn_cost(NULL, p, q, &c), BERG_ERR_NULL, "NULL sk");
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, NULL), BERG_ERR_NULL, "NULL cost");
    q[7] = -1;
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c), BERG_ERR_NEGATIVE, "negative q");
    CHECK_MESSAGE("index 7", "names the index");
    q[7] = INFINITY;
    CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &c), BERG_ERR_NONFINITE, "inf q");
    tu_fill(q, n, 0.0);
    CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &c), BERG_ERR_MASS, "zero mass");
    tu_fill(q, n, 1.0);
    CHECK(c == -9, "cost untouched");
    /* non-convergence: the error reached is reported, nothing written */
    berg_sinkhorn_set_max_iterations(sk, 2);
    berg_sinkhorn_set_tolerance(sk, 1e-14);
    tu_fill(out, n, -4.0);
    CHECK_STATUS(berg_sinkhorn_solve(sk, p, q, &c, out, NULL), BERG_ERR_NO_CONVERGENCE,
                 "iteration cap");
    CHECK_MESSAGE("marginal error", "message gives the error reached");
    double err;
    size_t it;
    berg_sinkhorn_report(sk, &err, &it);
    CHECK(it == 2 && err > 1e-14 && isfinite(err), "report: %zu iterations, error %g", it, err);
    CHECK(c == -9 && tu_untouched(out, n, -4.0), "outputs untouched");
    /* barycenter inputs */
    double P[64], wts[2] = {1, 1};
    for (size_t i = 0; i < 64; i++)
        P[i] = 1.0;
    berg_sinkhorn_set_max_iterations(sk, 1000);
    berg_sinkhorn_set_tolerance(sk, 1e-9);
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 0, P, wts, out), BERG_ERR_SIZE, "k = 0");
    wts[1] = -1;
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, P, wts, out), BERG_ERR_NEGATIVE, "weight < 0");
    wts[0] = wts[1] = 0;
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, P, wts, out), BERG_ERR_MASS, "weights sum 0");
    wts[0] = wts[1] = 1;
    P[40] = NAN;
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, P, wts, out), BERG_ERR_NONFINITE, "NaN density");
    CHECK_MESSAGE("densities[1]", "names the density");
    P[40] = 1;
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, P, wts, NULL), BERG_ERR_NULL, "NULL out");
    CHECK(tu_untouched(out, n, -4.0), "out untouched");
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, P, wts, out), BERG_OK, "uniform barycenter");
    double one[32];
    tu_fill(one, n, 1.0);
    CHECK(tu_max_abs_diff(out, one, n) < 1e-8, "barycenter of uniforms is uniform");
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(s);
    berg_space_destroy(sd);
}

/* threads change how the FFTs are computed, not what they compute */
static void test_threads(void)
{
    size_t n[2] = {128, 96};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = NULL;
    berg_space_create(&s, 2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    double *P = malloc(2 * N * sizeof *P), *b1 = malloc(N * sizeof *b1), *b2 = malloc(N * sizeof *b2);
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n[1]; j++) {
            double x = (i + 0.5) / n[0], y = (j + 0.5) / n[1];
            P[i * n[1] + j] = exp(-((x - 0.35) * (x - 0.35) + (y - 0.5) * (y - 0.5)) / 0.01);
            P[N + i * n[1] + j] = exp(-((x - 0.65) * (x - 0.65) + (y - 0.4) * (y - 0.4)) / 0.02);
        }
    berg_space_normalize(s, P, NULL);
    berg_space_normalize(s, P + N, NULL);
    double wts[2] = {0.5, 0.5}, d1, d2, d3;
    /* threaded FFTW plans may round differently (the plan chosen under
     * FFTW_MEASURE depends on the load), and the iteration amplifies
     * rounding: the two agree to what the solves converge to. Stopping at
     * 1e-10 (the barycenter's rounding floor is ~2e-12), they agree to 1e-9
     * (seen: bitwise when the plans coincide, 2e-11 and 8e-11 when they did
     * not, with the default tolerance 1e-9) */
    berg_sinkhorn *one = solver(s, 2e-2, 0), *two = solver(s, 2e-2, 0);
    berg_sinkhorn_set_tolerance(one, 1e-10);
    berg_sinkhorn_set_tolerance(two, 1e-10);
    CHECK_STATUS(berg_sinkhorn_set_threads(two, 2), BERG_OK, "two threads");
    CHECK_STATUS(berg_sinkhorn_barycenter(one, 2, P, wts, b1), BERG_OK, "barycenter, 1 thread");
    CHECK_STATUS(berg_sinkhorn_barycenter(two, 2, P, wts, b2), BERG_OK, "barycenter, 2 threads");
    double bmax = 0.0;
    for (size_t i = 0; i < N; i++)
        bmax = fmax(bmax, b1[i]);
    CHECK(tu_max_abs_diff(b1, b2, N) <= 1e-9 * bmax, "threaded barycenter equals serial (%g)",
          tu_max_abs_diff(b1, b2, N) / bmax);
    /* divergences stop on the marginal error, whose rounding floor is
     * ~3e-11: at the default 1e-9 they agree to 1e-8 (seen: 8e-11) */
    berg_sinkhorn_set_tolerance(one, 1e-9);
    berg_sinkhorn_set_tolerance(two, 1e-9);
    d1 = d2 = d3 = NAN;
    CHECK_STATUS(berg_sinkhorn_divergence(one, P, P + N, &d1), BERG_OK, "divergence, 1 thread");
    CHECK_STATUS(berg_sinkhorn_divergence(two, P, P + N, &d2), BERG_OK, "divergence, 2 threads");
    CHECK_REL(d2, d1, 1e-8, "threaded divergence equals serial");
    CHECK_STATUS(berg_sinkhorn_set_threads(two, 0), BERG_ERR_DOMAIN, "zero threads");
    CHECK_STATUS(berg_sinkhorn_divergence(two, P, P + N, &d3), BERG_OK, "divergence after refusal");
    CHECK(d3 == d2, "handle unchanged by a refused setting (%.17g vs %.17g)", d3, d2);
    CHECK_STATUS(berg_sinkhorn_set_threads(NULL, 2), BERG_ERR_NULL, "NULL handle");
    berg_sinkhorn *lg = solver(s, 2e-2, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_set_threads(lg, 2), BERG_ERR_UNSUPPORTED, "log domain has no FFT");
    berg_sinkhorn_destroy(lg);
    berg_sinkhorn_destroy(one);
    berg_sinkhorn_destroy(two);
    berg_space_destroy(s);
    free(P);
    free(b1);
    free(b2);
}

/* The flag table: BERG_PLAN_ESTIMATE is the heat kernel's planning flag and
 * no longer selects the log domain (the two used to share a value); flags of
 * other creators are refused by name and out is left alone. */
static void test_flags(void)
{
    size_t n = 64;
    berg_space *s = box1(n, BERG_NEUMANN);
    double p[64], q[64];
    bump(s, 0.25, 0.04, p);
    bump(s, 0.7, 0.06, q);
    /* at eps = 0.4 h^2 only the log domain converges: a handle created with
     * BERG_PLAN_ESTIMATE behaves as the scaling mode */
    berg_sinkhorn *est = solver(s, 1e-4, BERG_PLAN_ESTIMATE);
    berg_sinkhorn *lg = solver(s, 1e-4, BERG_SINKHORN_LOG_DOMAIN);
    double c = -1;
    CHECK_STATUS(berg_sinkhorn_set_threads(est, 1), BERG_OK,
                 "BERG_PLAN_ESTIMATE gives a scaling (FFT) handle");
    CHECK_STATUS(berg_sinkhorn_cost(est, p, q, &c), BERG_ERR_NO_CONVERGENCE,
                 "BERG_PLAN_ESTIMATE: the scaling mode's underflow");
    CHECK_MESSAGE("BERG_SINKHORN_LOG_DOMAIN", "the message points to the log domain");
    CHECK_STATUS(berg_sinkhorn_set_max_iterations(lg, 100000), BERG_OK, "cap");
    CHECK_STATUS(berg_sinkhorn_cost(lg, p, q, &c), BERG_OK, "the log domain converges");
    berg_sinkhorn_destroy(est);
    berg_sinkhorn_destroy(lg);
    /* both flags together: a log-domain handle */
    lg = solver(s, 1e-2, BERG_SINKHORN_LOG_DOMAIN | BERG_PLAN_ESTIMATE);
    CHECK_STATUS(berg_sinkhorn_set_threads(lg, 2), BERG_ERR_UNSUPPORTED,
                 "LOG_DOMAIN | PLAN_ESTIMATE is a log-domain handle");
    berg_sinkhorn_destroy(lg);
    /* the scaling mode planned with FFTW_ESTIMATE agrees with FFTW_MEASURE */
    double c1 = NAN, c2 = NAN;
    cbump1(s, 0.35, 0.12, p);
    cbump1(s, 0.6, 0.15, q);
    berg_sinkhorn *a = solver(s, 1e-2, 0), *b = solver(s, 1e-2, BERG_PLAN_ESTIMATE);
    CHECK_STATUS(berg_sinkhorn_cost(a, p, q, &c1), BERG_OK, "measured plans");
    CHECK_STATUS(berg_sinkhorn_cost(b, p, q, &c2), BERG_OK, "estimated plans");
    CHECK_REL(c2, c1, 1e-9, "FFTW_ESTIMATE and FFTW_MEASURE plans agree");
    berg_sinkhorn_destroy(a);
    berg_sinkhorn_destroy(b);
    /* flags of other creators */
    const unsigned foreign[3] = {BERG_FP_FOURIER, BERG_SYMBOL_FD, BERG_FISHER_ACC_NO_STDERR};
    const char *names[3] = {"BERG_FP_FOURIER", "BERG_SYMBOL_FD", "BERG_FISHER_ACC_NO_STDERR"};
    for (int k = 0; k < 3; k++) {
        berg_sinkhorn *sentinel = (berg_sinkhorn *)&c, *sk = sentinel;
        CHECK_STATUS(berg_sinkhorn_create(&sk, s, 1e-2, foreign[k] | BERG_SINKHORN_LOG_DOMAIN),
                     BERG_ERR_DOMAIN, "%s refused", names[k]);
        CHECK_MESSAGE(names[k], "the message names the flag");
        CHECK_MESSAGE("berg_sinkhorn_create", "the message names the function");
        CHECK(sk == sentinel, "out untouched (%s)", names[k]);
    }
    berg_space_destroy(s);
}

/* ---- one handle, many threads ------------------------------------------- */

#define NTHREADS 8

typedef struct sk_job {
    const berg_sinkhorn *sk;
    int kind; /* 0 cost, 1 solve (potentials), 2 divergence, 3 barycenter */
    const double *p, *q;
    size_t n;
    double value, *f, *g;
    berg_status status;
    double err;
    size_t iters;
} sk_job;

static pthread_barrier_t sk_start;

static void run_job(sk_job *j)
{
    double wts[2] = {1.0, 2.0};
    switch (j->kind) {
    case 0: j->status = berg_sinkhorn_cost(j->sk, j->p, j->q, &j->value); break;
    case 1: j->status = berg_sinkhorn_solve(j->sk, j->p, j->q, &j->value, j->f, j->g); break;
    case 2: j->status = berg_sinkhorn_divergence(j->sk, j->p, j->q, &j->value); break;
    default: j->status = berg_sinkhorn_barycenter(j->sk, 2, j->p, wts, j->f); break;
    }
    berg_sinkhorn_report(j->sk, &j->err, &j->iters);
}

static void *sk_worker(void *arg)
{
    sk_job *j = arg;
    pthread_barrier_wait(&sk_start);
    run_job(j);
    return NULL;
}

static int same_bits(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof(double)) == 0;
}

/* every thread solves its own pair (or barycenter) on the one handle at the
 * same time; each result and each thread's report equal the serial ones
 * bitwise */
static void concurrent_solves(const berg_sinkhorn *sk, const char *mode, const berg_space *s)
{
    size_t N = berg_space_size(s);
    double *x = malloc(N * sizeof *x), *data = malloc(2 * NTHREADS * N * sizeof *data);
    double *outs = malloc(4 * NTHREADS * N * sizeof *outs);
    berg_space_coordinates(s, 0, x);
    for (size_t t = 0; t < 2 * NTHREADS; t++)
        for (size_t i = 0; i < N; i++)
            data[t * N + i] = cbump(fabs(x[i] - 0.3 - 0.02 * (double)t), 0.1 + 0.005 * (double)t);
    sk_job serial[NTHREADS], conc[NTHREADS];
    for (size_t t = 0; t < NTHREADS; t++) {
        /* barycenters read p and the array after it */
        serial[t] = (sk_job){sk, (int)(t % 4), data + 2 * t * N, data + (2 * t + 1) * N, N, NAN,
                             outs + 4 * t * N, outs + (4 * t + 1) * N, BERG_OK, NAN, 0};
        conc[t] = serial[t];
        conc[t].f = outs + (4 * t + 2) * N;
        conc[t].g = outs + (4 * t + 3) * N;
        run_job(&serial[t]);
        CHECK(serial[t].status == BERG_OK, "%s serial %zu: %s", mode, t, berg_last_error());
    }
    pthread_t th[NTHREADS];
    pthread_barrier_init(&sk_start, NULL, NTHREADS);
    for (size_t t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, sk_worker, &conc[t]);
    for (size_t t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&sk_start);
    for (size_t t = 0; t < NTHREADS; t++) {
        int kind = serial[t].kind;
        CHECK(conc[t].status == BERG_OK, "%s thread %zu (kind %d): status %d", mode, t, kind,
              (int)conc[t].status);
        if (kind != 3)
            CHECK(same_bits(&conc[t].value, &serial[t].value, 1),
                  "%s thread %zu (kind %d): %.17g differs from serial %.17g", mode, t, kind,
                  conc[t].value, serial[t].value);
        if (kind == 1 || kind == 3)
            CHECK(same_bits(conc[t].f, serial[t].f, N), "%s thread %zu (kind %d): array differs",
                  mode, t, kind);
        if (kind == 1)
            CHECK(same_bits(conc[t].g, serial[t].g, N), "%s thread %zu: g differs", mode, t);
        CHECK(conc[t].iters == serial[t].iters && same_bits(&conc[t].err, &serial[t].err, 1),
              "%s thread %zu (kind %d): its report (%zu, %g) is its own solve's (%zu, %g)", mode,
              t, kind, conc[t].iters, conc[t].err, serial[t].iters, serial[t].err);
    }
    free(x);
    free(data);
    free(outs);
}

/* the report is this thread's: a fresh handle has none, another thread's
 * solves do not change it */
static void *foreign_solve(void *arg)
{
    sk_job *j = arg;
    run_job(j);
    return NULL;
}

static void test_concurrent(void)
{
    size_t n = 128;
    berg_space *s = box1(n, BERG_NEUMANN);
    berg_sinkhorn *a = solver(s, 1e-2, 0), *l = solver(s, 1e-2, BERG_SINKHORN_LOG_DOMAIN);
    concurrent_solves(a, "scaling", s);
    concurrent_solves(l, "log domain", s);
    double err = 0.0, p[128], q[128];
    size_t it = 99;
    berg_sinkhorn *fresh = solver(s, 1e-2, BERG_SINKHORN_LOG_DOMAIN);
    CHECK_STATUS(berg_sinkhorn_report(fresh, &err, &it), BERG_ERR_DOMAIN,
                 "report before any solve");
    CHECK(err == 0.0 && it == 99, "no solve yet: refused, outputs untouched (%g, %zu)", err, it);
    cbump1(s, 0.4, 0.1, p);
    cbump1(s, 0.6, 0.1, q);
    berg_sinkhorn_set_max_iterations(fresh, 3);
    berg_sinkhorn_set_tolerance(fresh, 0.0);
    double c;
    CHECK_STATUS(berg_sinkhorn_cost(fresh, p, q, &c), BERG_OK, "3 iterations");
    berg_sinkhorn_report(fresh, &err, &it);
    CHECK(it == 3, "this thread's report: 3 iterations (%zu)", it);
    sk_job other = {fresh, 0, q, p, n, NAN, NULL, NULL, BERG_OK, NAN, 0};
    pthread_t th;
    berg_sinkhorn_set_max_iterations(fresh, 5);
    pthread_create(&th, NULL, foreign_solve, &other);
    pthread_join(th, NULL);
    CHECK(other.status == BERG_OK && other.iters == 5, "the other thread's report: 5 (%zu)",
          other.iters);
    berg_sinkhorn_report(fresh, &err, &it);
    CHECK(it == 3, "another thread's solve leaves this thread's report (%zu)", it);
    berg_sinkhorn_destroy(fresh);
    berg_sinkhorn_destroy(a);
    berg_sinkhorn_destroy(l);
    berg_space_destroy(s);
}

int main(void)
{
    test_threads();
    test_limit_1d();
    test_small_eps();
    test_large_eps();
    test_translation_2d();
    test_barycenter();
    test_rank3_and_metric();
    test_bad();
    test_flags();
    test_concurrent();
    return test_summary("wasserstein-sinkhorn");
}
