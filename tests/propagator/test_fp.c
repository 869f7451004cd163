/* Fokker-Planck flows (finite volume): exact properties of the generator,
 * the adaptive time stepper against the exact spectral propagator (second
 * independent method) and against Ornstein-Uhlenbeck closed forms, one
 * handle from many threads, and every bad input. The Wegner-Morris data are
 * tested in test_fp_wegner_morris.c. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"
#include "fp_helpers.h"
#include "ou_reference.h"

static double dwell(const double *x, void *ctx)
{
    (void)ctx;
    return (x[0] * x[0] - 1) * (x[0] * x[0] - 1);
}

/* ---- exact properties of the discrete generator ------------------------- */

static void test_generator_properties(void)
{
    size_t n[2] = {24, 20};
    double lo[2] = {-3, -2.5}, hi[2] = {3, 2.5}, g[4] = {1.0, 0, 0, 0.5};
    berg_boundary bc[3][2] = {{BERG_PERIODIC, BERG_NEUMANN},
                              {BERG_NEUMANN, BERG_NEUMANN},
                              {BERG_PERIODIC, BERG_PERIODIC}};
    for (int c = 0; c < 3; c++) {
        berg_space *s = NULL;
        CHECK_STATUS(berg_space_create(&s, 2, n, lo, hi, bc[c], g), BERG_OK, "space");
        size_t N = berg_space_size(s);
        double *V = malloc(N * sizeof(double)), *q = malloc(N * sizeof(double)),
               *Lq = malloc(N * sizeof(double)), *e = malloc(N * sizeof(double)),
               *col = malloc(N * sizeof(double));
        unsigned long long seed = 7;
        for (size_t i = 0; i < N; i++)
            V[i] = 3.0 * tu_uniform(&seed); /* rough, non-periodic potential */
        berg_fp *fp = NULL;
        CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "create");
        CHECK_STATUS(berg_fp_stationary(fp, q), BERG_OK, "stationary");
        CHECK_REL(mass(s, q), 1.0, 1e-14, "q normalized");
        CHECK_REL(q[5] / q[9], exp(V[9] - V[5]), 1e-13, "q = e^{-V}/Z");
        berg_fp_generator_apply(fp, q, Lq);
        double big = 0.0;
        for (size_t i = 0; i < N; i++)
            big = fmax(big, fabs(Lq[i]));
        CHECK(big < 1e-12 * 400 * q[0] * 100, "L q = 0 (case %d): max %g", c, big);
        /* columns sum to 0, off-diagonals >= 0, detailed balance L_ij q_j = L_ji q_i */
        double worst_col = 0, worst_db = 0;
        int neg = 0;
        for (size_t j = 0; j < N; j += 7) {
            for (size_t i = 0; i < N; i++)
                e[i] = (i == j);
            berg_fp_generator_apply(fp, e, col);
            double sum = 0, scale = fabs(col[j]);
            for (size_t i = 0; i < N; i++) {
                sum += col[i];
                if (i != j && col[i] < 0)
                    neg = 1;
            }
            worst_col = fmax(worst_col, fabs(sum) / scale);
            /* row j of L^T e_i ... use backward: (L^T e_j)_i = L_ji */
            berg_fp_backward_apply(fp, e, Lq);
            for (size_t i = 0; i < N; i++)
                worst_db = fmax(worst_db, fabs(col[i] * q[j] - Lq[i] * q[i]) / (scale * q[j]));
        }
        CHECK(worst_col < 1e-14, "columns of L sum to 0 (case %d): %g", c, worst_col);
        CHECK(!neg, "L has non-negative off-diagonals (case %d)", c);
        CHECK(worst_db < 1e-13, "detailed balance (case %d): %g", c, worst_db);
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(V);
        free(q);
        free(Lq);
        free(e);
        free(col);
    }
}

/* ---- mass, positivity, KL monotone, convergence to q --------------------- */

static void test_mass_positivity_kl(void)
{
    /* a confining potential that is not periodic on a large periodic x
     * axis, Neumann y axis, anisotropic metric; initial data with zeros */
    size_t n[2] = {64, 48};
    double lo[2] = {-8, -3}, hi[2] = {8, 3}, g[4] = {1.0, 0, 0, 4.0};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, n, lo, hi, bc, g), BERG_OK, "space");
    size_t N = berg_space_size(s);
    double *V = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double)),
           *q = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        double x = lo[0] + (double)(i / n[1] + 0.5) * 0.25, y = lo[1] + (double)(i % n[1] + 0.5) * 0.125;
        V[i] = 0.5 * x * x + 0.3 * x * y + y * y * y * y;
        p[i] = (x > 2 && x < 4 && y < 0) ? 1.0 : 0.0;
    }
    berg_space_normalize(s, p, NULL);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "create");
    berg_fp_stationary(fp, q);
    double klprev = tu_kl(s, p, q);
    double worst_mass = 0, worst_min = 0;
    int kl_up = 0;
    for (int k = 0; k < 12; k++) {
        CHECK_STATUS(berg_fp_evolve(fp, 0.05 * (k + 1), p, p), BERG_OK, "evolve in place");
        worst_mass = fmax(worst_mass, fabs(mass(s, p) - 1.0));
        worst_min = fmin(worst_min, min_of(p, N));
        double k2 = tu_kl(s, p, q);
        if (k2 > klprev)
            kl_up = 1;
        klprev = k2;
    }
    CHECK(worst_mass < 1e-12, "mass conserved to 1e-12: %g", worst_mass);
    CHECK(worst_min >= 0.0, "no negative values: min %g", worst_min);
    CHECK(!kl_up, "KL(p_t||q) never increases");
    CHECK_STATUS(berg_fp_evolve(fp, 200.0, p, p), BERG_OK, "long time");
    CHECK(l1_dist(s, p, q) < 1e-9, "converges to e^{-V}/Z: L1 %g", l1_dist(s, p, q));
    CHECK(fabs(mass(s, p) - 1.0) < 1e-12, "mass after a long time");
    /* a huge time from rough data: small first steps, then geometric growth */
    for (size_t i = 0; i < N; i++)
        p[i] = (i % 7 == 0) ? 1.0 : 0.0;
    berg_space_normalize(s, p, NULL);
    CHECK_STATUS(berg_fp_evolve(fp, 1e12, p, p), BERG_OK, "t = 1e12");
    CHECK(l1_dist(s, p, q) < 1e-9, "t = 1e12 gives q: L1 %g", l1_dist(s, p, q));
    /* any finite time: the stepper stops at equilibrium (tol/100) instead
     * of letting tau L overflow the line matrices (it returned
     * BERG_ERR_INTERNAL from LAPACK at t = 1e300) */
    size_t acc = 0;
    for (size_t i = 0; i < N; i++)
        p[i] = (i % 7 == 0) ? 1.0 : 0.0;
    berg_space_normalize(s, p, NULL);
    CHECK_STATUS(berg_fp_evolve(fp, 1e300, p, p), BERG_OK, "t = 1e300");
    berg_fp_last_steps(fp, &acc, NULL);
    CHECK(l1_dist(s, p, q) < 1e-9 && acc < 200, "t = 1e300 gives q: L1 %g after %zu steps",
          l1_dist(s, p, q), acc);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(q);
}

/* ---- the second method: exact spectral propagator ------------------------ */

static void compare_spectral(berg_space *s, double *V, double tol_rel, const char *what)
{
    size_t N = berg_space_size(s);
    double *p = malloc(N * sizeof(double)), *a = malloc(N * sizeof(double)),
           *b = malloc(N * sizeof(double)), *c = malloc(N * sizeof(double));
    /* rough data (zeros, random values) scaled by q^{1/2}: the spectral
     * propagator multiplies by q^{-1/2} and its rounding error is about
     * eps * max |p / q^{1/2}| (docs/fokker_planck.md) */
    unsigned long long seed = 11;
    double vmin = V[0];
    for (size_t i = 0; i < N; i++)
        vmin = fmin(vmin, V[i]);
    for (size_t i = 0; i < N; i++)
        p[i] = ((i % 5 == 0) ? 0.0 : tu_uniform(&seed)) * exp(-0.5 * (V[i] - vmin));
    berg_space_normalize(s, p, NULL);
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "%s: create", what);
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "%s: spectral", what);
    if (!sp) {
        berg_fp_destroy(fp);
        return;
    }
    double ts[3] = {0.01, 0.3, 3.0};
    for (int k = 0; k < 3; k++) {
        CHECK_STATUS(berg_fp_evolve(fp, ts[k], p, a), BERG_OK, "%s: evolve", what);
        CHECK_STATUS(berg_fp_spectral_evolve(sp, ts[k], p, b), BERG_OK, "%s: spectral evolve",
                     what);
        double d = l1_dist(s, a, b), m = mass(s, b);
        CHECK(d < tol_rel, "%s: t = %g: stepper vs spectral L1 %g (mass %g)", what, ts[k], d,
              m);
    }
    /* semigroup P_s P_t = P_{s+t} of the spectral propagator */
    berg_fp_spectral_evolve(sp, 0.2, p, a);
    berg_fp_spectral_evolve(sp, 0.3, a, a);
    berg_fp_spectral_evolve(sp, 0.5, p, c);
    CHECK(l1_dist(s, a, c) < 1e-11, "%s: spectral semigroup %g", what, l1_dist(s, a, c));
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    free(p);
    free(a);
    free(b);
    free(c);
}

static double stiff(const double *x, void *ctx)
{
    (void)ctx;
    return 40.0 * pow(x[0], 4) + 10.0 * x[0];
}

static void test_spectral_agreement(void)
{
    /* 1-D: stiff potential (rates up to ~1e5 h^-2 ...), Neumann */
    berg_space *s = space1(300, -2, 2, BERG_NEUMANN);
    double *V = grid_fn(s, stiff, NULL);
    compare_spectral(s, V, 2e-8, "stiff quartic Neumann");
    free(V);
    berg_space_destroy(s);
    /* 1-D: confining quadratic on a large periodic box (V not periodic) */
    s = space1(256, -10, 10, BERG_PERIODIC);
    V = grid_fn(s, quad, NULL);
    compare_spectral(s, V, 2e-8, "quadratic on a periodic box");
    free(V);
    berg_space_destroy(s);
    /* V range 1000 > 700 on a periodic axis: the cyclic non-symmetric
     * (dgtsv + Sherman-Morrison) path */
    s = space1(64, -10, 10, BERG_PERIODIC);
    double ten = 20.0;
    V = grid_fn(s, quad, &ten);
    compare_spectral(s, V, 2e-8, "steep quadratic on a periodic box");
    free(V);
    berg_space_destroy(s);
    /* tiny axes: periodic n = 2 (two faces between the same cells), n = 1 */
    size_t nt[3][2] = {{2, 5}, {1, 4}, {1, 4}};
    const char *names[3] = {"periodic n = 2", "periodic n = 1", "Dirichlet n = 1"};
    for (int k = 0; k < 3; k++) {
        double lt[2] = {0, 0}, ht[2] = {1, 1};
        berg_boundary bt[2] = {k == 2 ? BERG_DIRICHLET : BERG_PERIODIC, BERG_NEUMANN};
        berg_space_create(&s, 2, nt[k], lt, ht, bt, NULL);
        V = grid_fn(s, dwell, NULL);
        compare_spectral(s, V, 2e-8, names[k]);
        free(V);
        berg_space_destroy(s);
    }
    /* 2-D periodic x Dirichlet with anisotropic metric: mass leaks */
    size_t n[2] = {18, 14};
    double lo[2] = {-2, 0}, hi[2] = {2, 1.5}, g[4] = {2.0, 0, 0, 0.7};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_DIRICHLET};
    berg_space_create(&s, 2, n, lo, hi, bc, g);
    V = grid_fn(s, dwell, NULL);
    compare_spectral(s, V, 2e-8, "2-D periodic x Dirichlet");
    free(V);
    berg_space_destroy(s);
    /* 3-D Neumann x periodic x Neumann */
    size_t n3[3] = {6, 5, 7};
    double lo3[3] = {0, 0, 0}, hi3[3] = {1, 2, 1.5};
    berg_boundary bc3[3] = {BERG_NEUMANN, BERG_PERIODIC, BERG_NEUMANN};
    berg_space_create(&s, 3, n3, lo3, hi3, bc3, NULL);
    V = grid_fn(s, dwell, NULL);
    compare_spectral(s, V, 2e-8, "3-D");
    free(V);
    berg_space_destroy(s);
}

static void test_spectrum(void)
{
    /* OU V = x^2/2: continuum eigenvalues -k; discrete O(h^2) */
    berg_space *s = space1(400, -10, 10, BERG_NEUMANN);
    size_t N = 400;
    double *V = grid_fn(s, quad, NULL), *lam = malloc(N * sizeof(double)),
           *mode = malloc(N * sizeof(double)), *q = malloc(N * sizeof(double));
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    berg_fp_create(&fp, s, V, 0);
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "spectral");
    CHECK_STATUS(berg_fp_spectral_eigenvalues(sp, lam), BERG_OK, "eigenvalues");
    CHECK(lam[0] == 0.0, "lambda_0 = 0 exactly: %g", lam[0]);
    for (int k = 1; k <= 4; k++)
        CHECK_REL(lam[k], -(double)k, 2e-3, "OU eigenvalue %d", k);
    for (size_t k = 1; k < N; k++)
        if (lam[k] > lam[k - 1])
            CHECK(0, "eigenvalues not decreasing at %zu", k);
    berg_fp_stationary(fp, q);
    CHECK_STATUS(berg_fp_spectral_mode(sp, 0, mode), BERG_OK, "mode 0");
    double r = mode[200] / q[200], worst = 0;
    for (size_t i = 0; i < N; i++)
        worst = fmax(worst, fabs(mode[i] - r * q[i]));
    CHECK(worst < 1e-12 * r * q[200], "mode 0 proportional to q: %g", worst);
    /* mode k is an eigenvector of L */
    double *Lm = malloc(N * sizeof(double));
    berg_fp_spectral_mode(sp, 2, mode);
    berg_fp_generator_apply(fp, mode, Lm);
    worst = 0;
    double mx = 0;
    for (size_t i = 0; i < N; i++) {
        worst = fmax(worst, fabs(Lm[i] - lam[2] * mode[i]));
        mx = fmax(mx, fabs(mode[i]));
    }
    CHECK(worst < 1e-10 * mx, "L mode_2 = lambda_2 mode_2: %g", worst);
    CHECK_STATUS(berg_fp_spectral_mode(sp, N, mode), BERG_ERR_DOMAIN, "mode index out of range");
    /* KL(p_t||q) decays at twice the gap: start from an odd perturbation */
    double *p = malloc(N * sizeof(double)), *pt = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        double x = -10 + (i + 0.5) * 0.05;
        p[i] = gauss1(x, 1.0, 0.5);
    }
    berg_fp_spectral_evolve(sp, 6.0, p, pt);
    double k1 = tu_kl(s, pt, q);
    berg_fp_spectral_evolve(sp, 8.0, p, pt);
    double k2 = tu_kl(s, pt, q);
    double rate = -log(k2 / k1) / 2.0;
    CHECK_REL(rate, -2.0 * lam[1], 2e-3, "KL decay rate = 2 x spectral gap");
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(lam);
    free(mode);
    free(q);
    free(Lm);
    free(p);
    free(pt);
}

/* ---- time accuracy: tolerance controls the error, order >= 2 ------------- */

static void test_tolerance_and_order(void)
{
    berg_space *s = space1(200, -2.5, 2.5, BERG_NEUMANN);
    size_t N = 200;
    double *V = grid_fn(s, dwell, NULL), *p = malloc(N * sizeof(double)),
           *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        double x = -2.5 + (i + 0.5) * 0.025;
        p[i] = gauss1(x, 1.5, 0.1);
    }
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    berg_fp_create(&fp, s, V, 0);
    berg_fp_spectral_create(&sp, fp);
    berg_fp_spectral_evolve(sp, 1.0, p, b);
    double tols[4] = {1e-4, 1e-6, 1e-8, 1e-10}, err[4];
    size_t steps[4];
    for (int k = 0; k < 4; k++) {
        CHECK_STATUS(berg_fp_set_tolerance(fp, tols[k]), BERG_OK, "tolerance");
        berg_fp_evolve(fp, 1.0, p, a);
        berg_fp_last_steps(fp, &steps[k], NULL);
        err[k] = l1_dist(s, a, b);
        CHECK(err[k] < tols[k], "tol %g: L1 error %g below the tolerance", tols[k], err[k]);
        CHECK(err[k] > 1e-3 * tols[k] || err[k] < 1e-13, "tol %g: error %g not far below it either",
              tols[k], err[k]);
    }
    /* asymptotic order from the finer tolerances (at 1e-4 the run has ~10
     * steps and its error is far below the tolerance: pre-asymptotic) */
    for (int k = 2; k < 4; k++) {
        double order = log(err[k - 1] / err[k]) / log((double)steps[k] / (double)steps[k - 1]);
        CHECK(order >= 2.0, "observed order %g >= 2 (steps %zu -> %zu, error %g -> %g)", order,
              steps[k - 1], steps[k], err[k - 1], err[k]);
    }
    CHECK_STATUS(berg_fp_set_tolerance(fp, 0.0), BERG_ERR_DOMAIN, "tolerance 0");
    CHECK_STATUS(berg_fp_set_tolerance(fp, NAN), BERG_ERR_DOMAIN, "tolerance NaN");
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(a);
    free(b);
}

/* ---- Ornstein-Uhlenbeck closed forms ------------------------------------- */

static void test_ou_1d(void)
{
    /* default tolerance; the spatial error (0.08 h^2 in L1, second order)
     * needs h ~ 2e-3 for 1e-6 */
    size_t N = 6144;
    berg_space *s = space1(N, -6.5, 6.5, BERG_NEUMANN);
    double a = 1.0, h = 13.0 / (double)N;
    double *V = grid_fn(s, quad, &a), *p = malloc(N * sizeof(double)),
           *pe = malloc(N * sizeof(double));
    double m0 = 1.0, v0 = 0.25, t = 0.5;
    double mt = m0 * exp(-t), vt = 1.0 - (1.0 - v0) * exp(-2 * t);
    for (size_t i = 0; i < N; i++) {
        double x = -6.5 + (i + 0.5) * h;
        p[i] = gauss1(x, m0, v0);
        pe[i] = gauss1(x, mt, vt);
    }
    berg_fp *fp = NULL;
    berg_fp_create(&fp, s, V, 0);
    CHECK_STATUS(berg_fp_evolve(fp, t, p, p), BERG_OK, "OU evolve");
    double e = l1_dist(s, p, pe);
    printf("OU 1-D n=%zu h=%.2e: L1 error %.3g at the default tolerance\n", N, h, e);
    CHECK(e < 1e-6, "OU 1-D: L1 error %g < 1e-6", e);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(pe);
}

/* 2-D OU with V = x^T A x / 2 and an anisotropic metric: the covariance
 * follows the Lyapunov equation dS/dt = -B S - S B^T + 2 g^{-1}, B = g^{-1} A
 * (integrated here by RK4, an independent method). */
static void ou2d_run(size_t n, double L, double *cov, double *mean, double *l1err, double t)
{
    size_t sh[2] = {n, n};
    double lo[2] = {-L, -L}, hi[2] = {L, L}, g[4] = {1.0, 0, 0, 3.0};
    double A[4] = {1.0, 0.6, 0.6, 2.0}, gi[4] = {1.0, 0, 0, 1.0 / 3.0};
    double B[4] = {A[0] * gi[0], A[1] * gi[0], A[2] * gi[3], A[3] * gi[3]};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_NEUMANN};
    berg_space *s = NULL;
    berg_space_create(&s, 2, sh, lo, hi, bc, g);
    size_t N = n * n;
    double h = 2 * L / (double)n;
    double *V = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double)),
           *pe = malloc(N * sizeof(double));
    double m0[2] = {1.0, -0.5}, S0[4] = {0.3, 0.1, 0.1, 0.2};
    /* closed form: mean by RK4 of dm = -B m, covariance by RK4 of Lyapunov */
    double m[2] = {m0[0], m0[1]}, S[4] = {S0[0], S0[1], S0[2], S0[3]};
    ou_reference_2d(B, gi, t, m, S);
    double det0 = S0[0] * S0[3] - S0[1] * S0[2], dett = S[0] * S[3] - S[1] * S[2];
    for (size_t i = 0; i < N; i++) {
        double x = -L + ((double)(i / n) + 0.5) * h, y = -L + ((double)(i % n) + 0.5) * h;
        V[i] = 0.5 * (A[0] * x * x + 2 * A[1] * x * y + A[3] * y * y);
        double dx = x - m0[0], dy = y - m0[1];
        /* density w.r.t. Vol_S = sqrt(det g) dx: divide the Lebesgue density */
        p[i] = exp(-0.5 * (S0[3] * dx * dx - 2 * S0[1] * dx * dy + S0[0] * dy * dy) / det0) /
               (2 * M_PI * sqrt(det0)) / sqrt(3.0);
        dx = x - m[0];
        dy = y - m[1];
        pe[i] = exp(-0.5 * (S[3] * dx * dx - 2 * S[1] * dx * dy + S[0] * dy * dy) / dett) /
                (2 * M_PI * sqrt(dett)) / sqrt(3.0);
    }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "OU 2-D create");
    CHECK_STATUS(berg_fp_evolve(fp, t, p, p), BERG_OK, "OU 2-D evolve");
    berg_space_moments(s, p, mean, cov);
    *l1err = l1_dist(s, p, pe);
    for (int i = 0; i < 4; i++)
        cov[4 + i] = S[i];
    mean[2] = m[0];
    mean[3] = m[1];
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(pe);
}

static void test_ou_2d_lyapunov(void)
{
    double c1[8], c2[8], m1[4], m2[4], e1, e2, t = 0.4;
    ou2d_run(96, 5.0, c1, m1, &e1, t);
    ou2d_run(192, 5.0, c2, m2, &e2, t);
    printf("OU 2-D: L1 error %.3g (h = %.4f), %.3g (h = %.4f): spatial order %.2f\n", e1,
           10.0 / 96, e2, 10.0 / 192, log(e1 / e2) / log(2.0));
    CHECK(e2 < 2e-3, "OU 2-D L1 error on the fine grid %g", e2);
    CHECK(log(e1 / e2) / log(2.0) > 1.9, "OU 2-D spatial order 2: %g", log(e1 / e2) / log(2.0));
    for (int i = 0; i < 4; i++) {
        /* Richardson in h (h^2 error) of the moments vs the Lyapunov solution */
        double rich = (4 * c2[i] - c1[i]) / 3;
        CHECK_ABS(rich, c2[4 + i], 1e-6, "OU 2-D covariance %d (Richardson in h) vs Lyapunov",
                  i);
        CHECK_ABS(c2[i], c2[4 + i], 2e-3, "OU 2-D covariance %d on the fine grid", i);
    }
    for (int i = 0; i < 2; i++)
        CHECK_ABS((4 * m2[i] - m1[i]) / 3, m2[2 + i], 1e-6, "OU 2-D mean %d (Richardson)", i);
}

/* ---- huge potentials, Dirichlet leaks ------------------------------------ */

static double huge(const double *x, void *ctx)
{
    (void)ctx;
    return 900.0 + 0.5 * x[0] * x[0]; /* e^{-V} underflows to 0 everywhere */
}

static double steep(const double *x, void *ctx)
{
    (void)ctx;
    return 2000.0 * x[0] * x[0]; /* range 2000 * 16: e^{-V} underflows in the tails */
}

static void test_log_form(void)
{
    berg_space *s = space1(200, -4, 4, BERG_NEUMANN);
    size_t N = 200;
    double *V1 = grid_fn(s, huge, NULL), *V0 = grid_fn(s, quad, NULL);
    double *q1 = malloc(N * sizeof(double)), *q0 = malloc(N * sizeof(double)),
           *p = malloc(N * sizeof(double)), *p1 = malloc(N * sizeof(double));
    berg_fp *f1 = NULL, *f0 = NULL;
    CHECK_STATUS(berg_fp_create(&f1, s, V1, 0), BERG_OK, "V with underflowing e^{-V}");
    berg_fp_create(&f0, s, V0, 0);
    berg_fp_stationary(f1, q1);
    berg_fp_stationary(f0, q0);
    CHECK(tu_max_abs_diff(q1, q0, N) < 1e-13, "stationary state invariant under V -> V + 900");
    for (size_t i = 0; i < N; i++)
        p[i] = (i > 150 && i < 160) ? 1.0 : 0.0;
    berg_fp_evolve(f1, 0.7, p, p1);
    berg_fp_evolve(f0, 0.7, p, p);
    CHECK(tu_max_abs_diff(p1, p, N) < 1e-12, "evolution invariant under V -> V + 900");
    berg_fp_destroy(f1);
    berg_fp_destroy(f0);
    free(V1);
    /* a very steep potential: q underflows away from 0, still exact */
    V1 = grid_fn(s, steep, NULL);
    CHECK_STATUS(berg_fp_create(&f1, s, V1, 0), BERG_OK, "steep potential");
    berg_fp_stationary(f1, q1);
    CHECK(isfinite(q1[100]) && q1[100] > 0 && q1[0] == 0.0, "steep q");
    CHECK_REL(mass(s, q1), 1.0, 1e-14, "steep q normalized");
    berg_space_normalize(s, p, NULL);
    berg_fp_evolve(f1, 5.0, p, p1);
    CHECK(min_of(p1, N) >= 0 && l1_dist(s, p1, q1) < 1e-8,
          "steep potential converges to q: %g", l1_dist(s, p1, q1));
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_fp_spectral_create(&sp, f1), BERG_ERR_DOMAIN,
                 "spectral refuses a V range beyond 1400");
    CHECK(sp == NULL, "no handle on failure");
    berg_fp_destroy(f1);
    berg_space_destroy(s);
    free(V1);
    free(V0);
    free(q1);
    free(q0);
    free(p);
    free(p1);
}

static void test_dirichlet(void)
{
    /* pure diffusion on [0, 1], absorbing walls: survival decays like
     * e^{-pi^2 t} (continuum); discrete lambda_0 to O(h^2) */
    size_t N = 200;
    berg_space *s = space1(N, 0, 1, BERG_DIRICHLET);
    double *V = calloc(N, sizeof(double)), *p = malloc(N * sizeof(double)),
           *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double)),
           *lam = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++)
        p[i] = 1.0;
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    berg_fp_create(&fp, s, V, 0);
    berg_fp_spectral_create(&sp, fp);
    berg_fp_spectral_eigenvalues(sp, lam);
    CHECK_REL(lam[0], -M_PI * M_PI, 1e-4, "Dirichlet: lowest eigenvalue -pi^2");
    double prev = 1.0;
    int up = 0;
    for (int k = 1; k <= 5; k++) {
        berg_fp_evolve(fp, 0.05 * k, p, a);
        berg_fp_spectral_evolve(sp, 0.05 * k, p, b);
        double m = mass(s, a);
        if (m >= prev)
            up = 1;
        prev = m;
        CHECK(l1_dist(s, a, b) < 1e-8, "Dirichlet: stepper vs spectral %g", l1_dist(s, a, b));
        CHECK(min_of(a, N) >= 0, "Dirichlet: positive");
    }
    CHECK(!up, "Dirichlet: survival probability decreases");
    /* continuum survival of a uniform start: sum 8/((2k+1) pi)^2 e^{-(2k+1)^2 pi^2 t} */
    double surv = 0;
    for (int k = 0; k < 50; k++)
        surv += 8.0 / pow((2 * k + 1) * M_PI, 2) * exp(-pow((2 * k + 1) * M_PI, 2) * 0.25);
    CHECK_REL(prev, surv, 1e-4, "Dirichlet survival vs the continuum series");
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(a);
    free(b);
    free(lam);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void)
{
    size_t N = 16;
    berg_space *s = space1(N, -1, 1, BERG_NEUMANN);
    double V[16], p[16], out[16];
    for (size_t i = 0; i < N; i++) {
        V[i] = 0.1 * (double)i;
        p[i] = 1.0;
    }
    berg_fp *fp = (berg_fp *)(uintptr_t)0x1;
    berg_fp *keep = fp;
    CHECK_STATUS(berg_fp_create(NULL, s, V, 0), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_fp_create(&fp, NULL, V, 0), BERG_ERR_NULL, "NULL space");
    CHECK_STATUS(berg_fp_create(&fp, s, NULL, 0), BERG_ERR_NULL, "NULL V");
    V[5] = NAN;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_ERR_NONFINITE, "NaN in V");
    CHECK_MESSAGE("V[5]", "NaN index named");
    V[5] = INFINITY;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_ERR_NONFINITE, "Inf in V");
    V[5] = 0.5;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 7), BERG_ERR_DOMAIN, "unknown flags");
    V[5] = 1e308;
    V[6] = -1e308;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_ERR_DOMAIN, "overflowing V range");
    V[5] = 0.5;
    V[6] = 0.6;
    V[7] = 1e307;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_ERR_DOMAIN, "overflowing rate");
    V[7] = 0.7;
    CHECK(fp == keep, "out untouched on failure");
    /* coupled metric */
    size_t n2[2] = {4, 4};
    double lo[2] = {0, 0}, hi[2] = {1, 1}, g[4] = {2.0, 0.5, 0.5, 1.0}, V2[16] = {0};
    berg_space *s2 = NULL;
    berg_space_create(&s2, 2, n2, lo, hi, NULL, g);
    CHECK_STATUS(berg_fp_create(&fp, s2, V2, 0), BERG_ERR_UNSUPPORTED, "coupled metric");
    berg_space_destroy(s2);

    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "create");
    tu_fill(out, N, 42.0);
    CHECK_STATUS(berg_fp_evolve(fp, -1.0, p, out), BERG_ERR_TIME, "negative time");
    CHECK_STATUS(berg_fp_evolve(fp, NAN, p, out), BERG_ERR_TIME, "NaN time");
    CHECK_STATUS(berg_fp_evolve(fp, INFINITY, p, out), BERG_ERR_TIME, "infinite time");
    CHECK_STATUS(berg_fp_evolve(NULL, 1.0, p, out), BERG_ERR_NULL, "NULL fp");
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, NULL, out), BERG_ERR_NULL, "NULL in");
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, p, NULL), BERG_ERR_NULL, "NULL out");
    p[3] = -0.1;
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, p, out), BERG_ERR_NEGATIVE, "negative density");
    CHECK_MESSAGE("index 3", "negative index named");
    p[3] = NAN;
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, p, out), BERG_ERR_NONFINITE, "NaN density");
    CHECK(tu_untouched(out, N, 42.0), "out untouched on every failure");
    /* in place failure leaves the input as it was */
    p[3] = -1.0;
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, p, p), BERG_ERR_NEGATIVE, "in place negative");
    CHECK(p[3] == -1.0 && p[4] == 1.0, "in-place input untouched");
    p[3] = 1.0;
    CHECK_STATUS(berg_fp_evolve(fp, 0.0, p, out), BERG_OK, "t = 0");
    CHECK(tu_max_abs_diff(out, p, N) == 0.0, "t = 0 is the identity");
    CHECK_STATUS(berg_fp_stationary(fp, NULL), BERG_ERR_NULL, "NULL q");
    CHECK_STATUS(berg_fp_stationary(NULL, out), BERG_ERR_NULL, "NULL fp stationary");
    CHECK_STATUS(berg_fp_velocity(fp, p, NULL), BERG_ERR_NULL, "NULL psi");
    CHECK_STATUS(berg_fp_generator_apply(fp, NULL, out), BERG_ERR_NULL, "NULL p");
    CHECK_STATUS(berg_fp_last_steps(NULL, NULL, NULL), BERG_ERR_NULL, "NULL steps");
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_fp_spectral_create(&sp, NULL), BERG_ERR_NULL, "spectral NULL fp");
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "spectral");
    tu_fill(out, N, 42.0);
    CHECK_STATUS(berg_fp_spectral_evolve(sp, -2.0, p, out), BERG_ERR_TIME, "spectral negative t");
    p[2] = INFINITY;
    CHECK_STATUS(berg_fp_spectral_evolve(sp, 2.0, p, out), BERG_ERR_NONFINITE, "spectral Inf");
    CHECK(tu_untouched(out, N, 42.0), "spectral out untouched");
    berg_fp_spectral_destroy(sp);
    berg_fp_spectral_destroy(NULL);
    berg_fp_destroy(fp);
    berg_fp_destroy(NULL);
    berg_space_destroy(s);
}

/* one handle (finite volume) evolved from 8 threads at once gives the serial
 * result bit for bit; flags of other creators are refused by name */
static void test_threads_and_flags(void)
{
    size_t n[2] = {48, 40};
    double lo[2] = {-4, -4}, hi[2] = {4, 4}, g[4] = {1.0, 0.0, 0.0, 2.0};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, n, lo, hi, bc, g), BERG_OK, "2-D space");
    double *V = grid_fn(s, quad, NULL), *p = malloc(48 * 40 * sizeof(double));
    for (size_t i = 0; i < 48 * 40; i++)
        p[i] = 1.0 + 0.5 * sin(0.1 * (double)i);
    CHECK(fp_refuses_foreign_flag(s, V, BERG_SINKHORN_LOG_DOMAIN, "BERG_SINKHORN_LOG_DOMAIN"),
          "a Sinkhorn flag is refused by name, out untouched");
    CHECK(fp_refuses_foreign_flag(s, V, BERG_SYMBOL_FD, "BERG_SYMBOL_FD"),
          "a heat flag is refused by name, out untouched");
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_PLAN_ESTIMATE), BERG_OK,
                 "finite volume accepts BERG_PLAN_ESTIMATE");
    CHECK(fp_threads_bitwise(fp, 0.7, p, 48 * 40), "8 threads on one handle: serial result");
    size_t acc = 99, rej = 99;
    CHECK_STATUS(berg_fp_evolve(fp, 0.0, p, p), BERG_OK, "t = 0");
    berg_fp_last_steps(fp, &acc, &rej);
    CHECK(acc == 0 && rej == 0, "t = 0 reports no steps");
    berg_fp_destroy(fp);
    free(V);
    free(p);
    berg_space_destroy(s);
}

#include <time.h>
static void timed(void (*f)(void), const char *name)
{
    clock_t c = clock();
    f();
    printf("  %-28s %.2f s CPU\n", name, (double)(clock() - c) / CLOCKS_PER_SEC);
}

int main(void)
{
    timed(test_bad_input, "bad input");
    timed(test_threads_and_flags, "threads and flags");
    timed(test_generator_properties, "generator properties");
    timed(test_mass_positivity_kl, "mass, positivity, KL");
    timed(test_spectral_agreement, "stepper vs spectral");
    timed(test_spectrum, "spectrum");
    timed(test_tolerance_and_order, "tolerance and order");
    timed(test_log_form, "log form");
    timed(test_dirichlet, "Dirichlet");
    timed(test_ou_1d, "OU 1-D");
    timed(test_ou_2d_lyapunov, "OU 2-D Lyapunov");
    return test_summary("fp");
}
