/* The Fourier discretization of the Fokker-Planck flow (BERG_FP_FOURIER):
 * Ornstein-Uhlenbeck closed forms in 1-D and in 2-D with anisotropic and
 * coupled metrics (covariance by the Lyapunov equation), the exact
 * properties (mass, stationary state, positivity, KL), the split-step
 * stepper against the eigen-decomposition of the same generator (second
 * method), stiff potentials, the generator, and every refusal. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "fp_helpers.h"
#include "ou_reference.h"

static berg_space *periodic2(size_t n0, size_t n1, double L0, double L1, const double *g)
{
    size_t sh[2] = {n0, n1};
    double lo[2] = {-L0, -L1}, hi[2] = {L0, L1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, sh, lo, hi, bc, g), BERG_OK, "periodic 2-D space");
    return s;
}

/* Gaussian density (w.r.t. the Riemannian volume sqrt(det g) dx) */
static double gauss2(double x, double y, const double *m, const double *S, double sqrtdetg)
{
    double det = S[0] * S[3] - S[1] * S[2], dx = x - m[0], dy = y - m[1];
    return exp(-0.5 * (S[3] * dx * dx - 2 * S[1] * dx * dy + S[0] * dy * dy) / det) /
           (2 * M_PI * sqrt(det)) / sqrtdetg;
}

/* ---- 2-D Ornstein-Uhlenbeck: L1 error against the Lyapunov solution ----- */

/* V = x^T A x / 2 on the periodic box [-L, L]^2 (V is not periodic: a
 * confining potential on a large box), metric g = inverse of gi */
static double ou2d(size_t n, double L, const double *gi, double t, double tol, size_t *steps)
{
    double det = gi[0] * gi[3] - gi[1] * gi[2];
    double g[4] = {gi[3] / det, -gi[1] / det, -gi[2] / det, gi[0] / det};
    double A[4] = {1.0, 0.6, 0.6, 2.0};
    double B[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            B[i * 2 + j] = gi[i * 2] * A[j] + gi[i * 2 + 1] * A[2 + j];
    berg_space *s = periodic2(n, n, L, L, g);
    size_t N = n * n;
    double h = 2 * L / (double)n, sdg = sqrt(g[0] * g[3] - g[1] * g[2]);
    double *V = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double)),
           *pe = malloc(N * sizeof(double));
    double m0[2] = {1.0, -0.5}, S0[4] = {0.3, 0.1, 0.1, 0.2};
    double m[2] = {m0[0], m0[1]}, S[4] = {S0[0], S0[1], S0[2], S0[3]};
    ou_reference_2d(B, gi, t, m, S);
    for (size_t i = 0; i < N; i++) {
        double x = -L + ((double)(i / n) + 0.5) * h, y = -L + ((double)(i % n) + 0.5) * h;
        V[i] = 0.5 * (A[0] * x * x + 2 * A[1] * x * y + A[3] * y * y);
        p[i] = gauss2(x, y, m0, S0, sdg);
        pe[i] = gauss2(x, y, m, S, sdg);
    }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_OK, "OU 2-D Fourier create");
    if (tol > 0)
        berg_fp_set_tolerance(fp, tol);
    CHECK_STATUS(berg_fp_evolve(fp, t, p, p), BERG_OK, "OU 2-D Fourier evolve");
    berg_fp_last_steps(fp, steps, NULL);
    double e = l1_dist(s, p, pe);
    CHECK(min_of(p, N) >= 0.0, "OU 2-D Fourier: no negative values (min %g)", min_of(p, N));
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(pe);
    return e;
}

static void test_ou_2d(void)
{
    const double diag[4] = {1.0, 0.0, 0.0, 1.0 / 3.0};   /* anisotropic, g = diag(1, 3) */
    const double coupled[4] = {1.0, 0.45, 0.45, 0.5};    /* anisotropic and coupled */
    double ts[3] = {0.1, 0.5, 2.0};
    for (int k = 0; k < 3; k++) {
        size_t st1 = 0, st2 = 0;
        double e1 = ou2d(96, 8.0, diag, ts[k], 0, &st1);
        double e2 = ou2d(96, 8.0, coupled, ts[k], 0, &st2);
        printf("OU 2-D Fourier 96^2 on [-8,8]^2, t = %.1f: L1 error %.2e (diagonal metric, %zu "
               "steps), %.2e (coupled, %zu steps)\n",
               ts[k], e1, st1, e2, st2);
        /* the issue asks 1e-6; the spectral error is far below (~3e-10),
         * so the bound is the tolerance */
        CHECK(e1 < 1e-8, "OU 2-D, anisotropic diagonal metric, t = %g: L1 %g < 1e-8", ts[k], e1);
        CHECK(e2 < 1e-8, "OU 2-D, coupled metric, t = %g: L1 %g < 1e-8", ts[k], e2);
    }
    /* the time error follows the tolerance; the spatial one is far below */
    double ea = ou2d(96, 8.0, coupled, 0.5, 1e-4, NULL);
    double eb = ou2d(96, 8.0, coupled, 0.5, 1e-11, NULL);
    printf("OU 2-D Fourier, coupled: L1 error %.2e at tol 1e-4, %.2e at tol 1e-11\n", ea, eb);
    CHECK(ea < 1e-4 && eb < 1e-9 && eb < ea, "tolerance controls the error: %g (1e-4), %g (1e-11)",
          ea, eb);
}

/* ---- 1-D Ornstein-Uhlenbeck ---------------------------------------------- */

static void test_ou_1d(void)
{
    size_t n = 128;
    double L = 9.0, h = 2 * L / (double)n;
    berg_boundary bc = BERG_PERIODIC;
    double lo = -L, hi = L;
    berg_space *s = NULL;
    berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    double *V = malloc(n * sizeof(double)), *p = malloc(n * sizeof(double)),
           *pe = malloc(n * sizeof(double));
    double m0 = 1.0, v0 = 0.25, t = 0.5, a = 1.5;
    double mt = m0 * exp(-a * t), vt = 1.0 / a - (1.0 / a - v0) * exp(-2 * a * t);
    for (size_t i = 0; i < n; i++) {
        double x = -L + (i + 0.5) * h;
        V[i] = 0.5 * a * x * x;
        p[i] = exp(-(x - m0) * (x - m0) / (2 * v0)) / sqrt(2 * M_PI * v0);
        pe[i] = exp(-(x - mt) * (x - mt) / (2 * vt)) / sqrt(2 * M_PI * vt);
    }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_OK, "OU 1-D Fourier create");
    CHECK_STATUS(berg_fp_evolve(fp, t, p, p), BERG_OK, "OU 1-D Fourier evolve");
    double e = l1_dist(s, p, pe);
    printf("OU 1-D Fourier n = %zu: L1 error %.2e at the default tolerance\n", n, e);
    CHECK(e < 1e-9, "OU 1-D Fourier: L1 error %g < 1e-9", e);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(pe);
}

/* ---- exact properties ----------------------------------------------------- */

/* a periodic, non-separable potential and a coupled metric */
static double *periodic_V(const berg_space *s, double amp)
{
    size_t sh[2], N = berg_space_size(s);
    berg_space_shape(s, sh);
    double *x = malloc(sh[0] * sizeof(double)), *y = malloc(sh[1] * sizeof(double)),
           *V = malloc(N * sizeof(double));
    berg_space_coordinates(s, 0, x);
    berg_space_coordinates(s, 1, y);
    for (size_t i = 0; i < N; i++) {
        double u = x[i / sh[1]], v = y[i % sh[1]];
        V[i] = amp * (cos(u) + 0.5 * sin(2 * v) + 0.7 * cos(u + v));
    }
    free(x);
    free(y);
    return V;
}

static void test_properties(void)
{
    const double g[4] = {1.0, 0.4, 0.4, 0.8};
    berg_space *s = periodic2(32, 40, M_PI, M_PI, g);
    size_t N = berg_space_size(s);
    double *V = periodic_V(s, 1.5), *q = malloc(N * sizeof(double)),
           *p = malloc(N * sizeof(double)), *Lq = malloc(N * sizeof(double)),
           *pt = malloc(N * sizeof(double));
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE), BERG_OK,
                 "Fourier create, periodic V, coupled metric");
    berg_fp_stationary(fp, q);
    /* the discrete stationary state is e^{-V}/Z exactly */
    CHECK_STATUS(berg_fp_generator_apply(fp, q, Lq), BERG_OK, "generator of q");
    double lmax = 0.0, qmax = 0.0;
    for (size_t i = 0; i < N; i++) {
        lmax = fmax(lmax, fabs(Lq[i]));
        qmax = fmax(qmax, q[i]);
    }
    CHECK(lmax < 1e-12 * qmax, "L q = 0 to rounding: %g (max q %g)", lmax, qmax);
    berg_fp_evolve(fp, 3.0, q, pt);
    CHECK(l1_dist(s, pt, q) < 1e-13, "q is a fixed point of the stepper: %g", l1_dist(s, pt, q));
    /* a smooth start: mass, positivity, monotone KL, convergence to q */
    size_t sh[2];
    berg_space_shape(s, sh);
    for (size_t i = 0; i < N; i++) {
        double u = -M_PI + (i / sh[1] + 0.5) * 2 * M_PI / sh[0];
        p[i] = exp(2.0 * cos(u - 1.0)) * q[i];
    }
    double m0 = mass(s, p), prev = tu_kl(s, p, q), ts[6] = {0.02, 0.05, 0.1, 0.3, 1.0, 3.0};
    double told = 0.0;
    memcpy(pt, p, N * sizeof(double));
    int mono = 1;
    double worst_mass = 0.0, worst_min = 0.0;
    for (int k = 0; k < 6; k++) {
        CHECK_STATUS(berg_fp_evolve(fp, ts[k] - told, pt, pt), BERG_OK, "evolve to %g", ts[k]);
        told = ts[k];
        double kk = tu_kl(s, pt, q);
        if (kk > prev * (1 + 1e-9) + 1e-15)
            mono = 0;
        prev = kk;
        worst_mass = fmax(worst_mass, fabs(mass(s, pt) / m0 - 1));
        worst_min = fmin(worst_min, min_of(pt, N));
    }
    CHECK(mono, "KL(p_t || q) never increases");
    CHECK(worst_mass < 1e-13, "mass conserved to %g < 1e-13", worst_mass);
    CHECK(worst_min >= 0.0, "no negative values (min %g)", worst_min);
    berg_fp_evolve(fp, 40.0, pt, pt);
    for (size_t i = 0; i < N; i++)
        Lq[i] = q[i] * m0;
    CHECK(l1_dist(s, pt, Lq) < 1e-8 * m0, "long-time limit is e^{-V}/Z to the tolerance: L1 %g",
          l1_dist(s, pt, Lq));
    /* any finite time: the stepper stops once at equilibrium to tol/100 */
    size_t acc = 0;
    CHECK_STATUS(berg_fp_evolve(fp, 1e300, p, pt), BERG_OK, "evolve to t = 1e300");
    berg_fp_last_steps(fp, &acc, NULL);
    CHECK(l1_dist(s, pt, Lq) < 1e-9 * m0 && acc < 2000,
          "t = 1e300: L1 %g from equilibrium after %zu steps", l1_dist(s, pt, Lq), acc);
    /* generator = d/dt at t = 0 (second-order difference quotient) */
    double tau = 1e-4;
    berg_fp_set_tolerance(fp, 1e-13);
    double *pm = malloc(N * sizeof(double));
    berg_fp_evolve(fp, tau, p, pt);
    berg_fp_evolve(fp, 2 * tau, p, pm);
    berg_fp_generator_apply(fp, p, Lq);
    double dmax = 0.0, lm = 0.0;
    for (size_t i = 0; i < N; i++) {
        double fd = (4 * pt[i] - 3 * p[i] - pm[i]) / (2 * tau);
        dmax = fmax(dmax, fabs(fd - Lq[i]));
        lm = fmax(lm, fabs(Lq[i]));
    }
    CHECK(dmax < 3e-6 * lm, "generator vs (P_t p - p)/t: %g of %g", dmax, lm);
    /* backward generator: <f, L p> = <L^T f, p> */
    double *f = malloc(N * sizeof(double)), *Af = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++)
        f[i] = sin(0.3 * (double)i) + cos(0.011 * (double)(i * i % 97));
    berg_fp_backward_apply(fp, f, Af);
    double a1 = 0.0, a2 = 0.0, sc = 0.0;
    for (size_t i = 0; i < N; i++) {
        a1 += f[i] * Lq[i];
        a2 += Af[i] * p[i];
        sc += fabs(f[i] * Lq[i]);
    }
    CHECK_ABS(a1, a2, 1e-13 * sc, "<f, L p> = <A f, p>");
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(q);
    free(p);
    free(Lq);
    free(pt);
    free(pm);
    free(f);
    free(Af);
}

/* ---- split steps against the eigen-decomposition of the same generator --- */

static double stiff1(double x) { return 40.0 * x * x * x * x; }

static void compare_eigen(berg_space *s, const double *V, const double *p0, double t,
                          const char *what)
{
    size_t N = berg_space_size(s);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_OK, "%s: create", what);
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "%s: spectral", what);
    double *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double));
    double tols[3] = {1e-6, 1e-8, 1e-11}, errs[3];
    berg_fp_spectral_evolve(sp, t, p0, b);
    double m = mass(s, p0);
    for (int k = 0; k < 3; k++) {
        berg_fp_set_tolerance(fp, tols[k]);
        CHECK_STATUS(berg_fp_evolve(fp, t, p0, a), BERG_OK, "%s: evolve", what);
        errs[k] = l1_dist(s, a, b) / m;
        CHECK(errs[k] < tols[k], "%s: split steps vs eigen at tol %g: %g", what,
              tols[k], errs[k]);
    }
    printf("%s: split steps vs eigen-decomposition, relative L1 %.2e / %.2e / %.2e at tol "
           "1e-6 / 1e-8 / 1e-11\n",
           what, errs[0], errs[1], errs[2]);
    CHECK(errs[2] < errs[0], "%s: the error follows the tolerance", what);
    /* the eigenvalues: 0 on top (the stationary state), then the gap */
    double *lam = malloc(N * sizeof(double));
    berg_fp_spectral_eigenvalues(sp, lam);
    CHECK(fabs(lam[0]) < 1e-9 && lam[1] < 0, "%s: lambda_0 = %g, lambda_1 = %g", what, lam[0],
          lam[1]);
    free(lam);
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    free(a);
    free(b);
}

static void test_against_eigen(void)
{
    /* 2-D: periodic potential, coupled metric */
    const double g[4] = {1.0, -0.3, -0.3, 0.6};
    berg_space *s = periodic2(20, 24, M_PI, M_PI, g);
    size_t N = berg_space_size(s), sh[2];
    berg_space_shape(s, sh);
    double *V = periodic_V(s, 1.0), *p = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        double u = -M_PI + (i / sh[1] + 0.5) * 2 * M_PI / sh[0];
        double v = -M_PI + (i % sh[1] + 0.5) * 2 * M_PI / sh[1];
        p[i] = exp(cos(u) + sin(v) - V[i]);
    }
    compare_eigen(s, V, p, 0.7, "2-D periodic V, coupled metric");
    berg_space_destroy(s);
    free(V);
    free(p);
    /* 1-D stiff confining potential 40 x^4 on a periodic box */
    size_t n = 256;
    double lo = -2.0, hi = 2.0;
    berg_boundary bc = BERG_PERIODIC;
    berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    V = malloc(n * sizeof(double));
    p = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double x = lo + (i + 0.5) * (hi - lo) / n;
        V[i] = stiff1(x);
        p[i] = exp(-V[i]) * (1.0 + 0.9 * sin(3.0 * x + 0.4));
    }
    compare_eigen(s, V, p, 0.05, "1-D stiff V = 40 x^4");
    berg_space_destroy(s);
    free(V);
    free(p);
}

/* ---- Wegner-Morris velocity with a coupled metric ------------------------ */

static void test_velocity_coupled(void)
{
    /* p = N(0, S): Sigma = V + ln p, grad Sigma = (A - S^{-1}) x, central
     * differences are exact on quadratics away from the edges */
    const double g[4] = {2.0, 0.5, 0.5, 1.0};
    double det = g[0] * g[3] - g[1] * g[2];
    double gi[4] = {g[3] / det, -g[1] / det, -g[2] / det, g[0] / det};
    double A[4] = {1.0, 0.2, 0.2, 0.7}, S[4] = {0.8, 0.1, 0.1, 0.5};
    double ds = S[0] * S[3] - S[1] * S[2], Si[4] = {S[3] / ds, -S[1] / ds, -S[2] / ds, S[0] / ds};
    size_t n = 40;
    berg_space *s = periodic2(n, n, 10.0, 10.0, g);
    size_t N = n * n;
    double h = 20.0 / n, *V = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double)),
           *psi = malloc(2 * N * sizeof(double));
    double zero[2] = {0, 0};
    for (size_t i = 0; i < N; i++) {
        double x = -10 + (i / n + 0.5) * h, y = -10 + (i % n + 0.5) * h;
        V[i] = 0.5 * (A[0] * x * x + 2 * A[1] * x * y + A[3] * y * y);
        p[i] = gauss2(x, y, zero, S, 1.0);
    }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_OK, "create (velocity)");
    CHECK_STATUS(berg_fp_velocity(fp, p, psi), BERG_OK, "velocity, coupled metric");
    double worst = 0.0;
    for (size_t i = 0; i < N; i++) {
        size_t r = i / n, c = i % n;
        if (r == 0 || c == 0 || r == n - 1 || c == n - 1)
            continue;
        double x = -10 + (r + 0.5) * h, y = -10 + (c + 0.5) * h;
        double gs[2] = {(A[0] - Si[0]) * x + (A[1] - Si[1]) * y,
                        (A[2] - Si[2]) * x + (A[3] - Si[3]) * y};
        for (int a = 0; a < 2; a++) {
            double want = -(gi[a * 2] * gs[0] + gi[a * 2 + 1] * gs[1]);
            worst = fmax(worst, fabs(psi[(size_t)a * N + i] - want));
        }
    }
    CHECK(worst < 1e-11, "psi = -g^{-1} grad Sigma with a coupled metric: max error %g", worst);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(psi);
}

/* ---- refusals --------------------------------------------------------------- */

static void test_refusals(void)
{
    size_t n = 64;
    double lo = -8.0, hi = 8.0, h = 16.0 / 64;
    berg_boundary per = BERG_PERIODIC, neu = BERG_NEUMANN;
    berg_space *s = NULL, *sn = NULL, *s3 = NULL;
    berg_space_create(&s, 1, &n, &lo, &hi, &per, NULL);
    berg_space_create(&sn, 1, &n, &lo, &hi, &neu, NULL);
    size_t three = 3;
    berg_space_create(&s3, 1, &three, &lo, &hi, &per, NULL);
    double *V = malloc(n * sizeof(double)), *p = malloc(n * sizeof(double)),
           *out = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        V[i] = 0.5 * pow(lo + (i + 0.5) * h, 2);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, sn, V, BERG_FP_FOURIER), BERG_ERR_UNSUPPORTED,
                 "Fourier on a Neumann axis");
    CHECK_MESSAGE("periodic", "Neumann refusal names the requirement");
    CHECK(fp == NULL, "nothing created");
    CHECK_STATUS(berg_fp_create(&fp, s3, V, BERG_FP_FOURIER), BERG_ERR_SIZE, "3 cells");
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER | BERG_SYMBOL_FD), BERG_ERR_DOMAIN,
                 "unknown flag with Fourier");
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_PLAN_ESTIMATE), BERG_OK,
                 "ESTIMATE without Fourier: accepted (finite volume plans nothing)");
    berg_fp_destroy(fp);
    fp = NULL;
    CHECK(fp_refuses_foreign_flag(s, V, BERG_FP_FOURIER | BERG_SINKHORN_LOG_DOMAIN,
                                  "BERG_SINKHORN_LOG_DOMAIN"),
          "a Sinkhorn flag is refused by name, out untouched");
    CHECK(fp_refuses_foreign_flag(s, V, BERG_FP_FOURIER | BERG_SYMBOL_FD, "BERG_SYMBOL_FD"),
          "a heat flag is refused by name, out untouched");
    double *lin = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        lin[i] = 0.3 * (lo + (i + 0.5) * h);
    CHECK_STATUS(berg_fp_create(&fp, s, lin, BERG_FP_FOURIER), BERG_ERR_DOMAIN,
                 "V = 0.3 x on a periodic box: e^{-V/2} jumps at the edge");
    CHECK_MESSAGE("not resolved", "unresolved potential named");
    V[5] = NAN;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_ERR_NONFINITE, "NaN in V");
    V[5] = 0.5 * pow(lo + 5.5 * h, 2);
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_OK, "create");
    /* log form: V + 900 (e^{-V} underflows everywhere) is the same flow */
    {
        double *Vh = malloc(n * sizeof(double)), *a = malloc(n * sizeof(double)),
               *b = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            Vh[i] = V[i] + 900.0;
            p[i] = exp(-(lo + (i + 0.5) * h - 1.0) * (lo + (i + 0.5) * h - 1.0));
        }
        berg_fp *fh = NULL;
        CHECK_STATUS(berg_fp_create(&fh, s, Vh, BERG_FP_FOURIER), BERG_OK, "create V + 900");
        CHECK_STATUS(berg_fp_evolve(fh, 0.7, p, a), BERG_OK, "evolve V + 900");
        berg_fp_evolve(fp, 0.7, p, b);
        /* (V + 900) - min is V - min rounded to the ulp of 900, 1e-13 */
        CHECK(tu_max_abs_diff(a, b, n) <= 1e-12 * b[n / 2], "V + 900 gives the flow of V: %g",
              tu_max_abs_diff(a, b, n));
        berg_fp_stationary(fh, a);
        CHECK(fabs(mass(s, a) - 1.0) < 1e-14, "stationary state of V + 900 normalized");
        berg_fp_destroy(fh);
        free(Vh);
        free(a);
        free(b);
    }
    /* a box start is not resolved */
    for (size_t i = 0; i < n; i++) {
        p[i] = (i > 28 && i < 36) ? 1.0 : 0.0;
        out[i] = -7.0;
    }
    CHECK_STATUS(berg_fp_evolve(fp, 0.5, p, out), BERG_ERR_DOMAIN, "box start refused");
    CHECK_MESSAGE("not resolved", "box start: message");
    CHECK(tu_untouched(out, n, -7.0), "box start: out untouched");
    /* a Gaussian start on a quartic potential grows like e^{V/2 - x^2/c}:
     * refused (it overflows the transform), out untouched */
    {
        double *V4 = malloc(n * sizeof(double)), *g4 = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            double x = lo + (i + 0.5) * h;
            V4[i] = 0.05 * x * x * x * x;
            g4[i] = exp(-x * x / 4.0);
        }
        berg_fp *f4 = NULL;
        CHECK_STATUS(berg_fp_create(&f4, s, V4, BERG_FP_FOURIER), BERG_OK, "quartic create");
        CHECK_STATUS(berg_fp_evolve(f4, 0.5, g4, out), BERG_ERR_DOMAIN,
                     "Gaussian start on a quartic potential refused");
        CHECK(tu_untouched(out, n, -7.0), "quartic refusal: out untouched");
        berg_fp_destroy(f4);
        free(V4);
        free(g4);
    }
    /* negative times, negative and NaN inputs */
    for (size_t i = 0; i < n; i++)
        p[i] = exp(-V[i]);
    CHECK_STATUS(berg_fp_evolve(fp, -1.0, p, out), BERG_ERR_TIME, "negative time");
    p[3] = -1.0;
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, p, out), BERG_ERR_NEGATIVE, "negative density");
    p[3] = NAN;
    CHECK_STATUS(berg_fp_evolve(fp, 1.0, p, out), BERG_ERR_NONFINITE, "NaN density");
    CHECK(tu_untouched(out, n, -7.0), "bad inputs: out untouched");
    berg_fp_destroy(fp);
    /* mass where e^{-V} underflows: V = 100 x^2 on [-8, 8] (e^{-V/2} is 0
     * to double precision beyond |x| = 3.9) */
    size_t nf = 1024;
    berg_space *sf = NULL;
    berg_space_create(&sf, 1, &nf, &lo, &hi, &per, NULL);
    double *Vf = malloc(nf * sizeof(double)), *pf = malloc(nf * sizeof(double)),
           *of = malloc(nf * sizeof(double));
    for (size_t i = 0; i < nf; i++) {
        double x = lo + (i + 0.5) * 16.0 / nf;
        Vf[i] = 100 * x * x;
        pf[i] = 1.0;
        of[i] = -7.0;
    }
    CHECK_STATUS(berg_fp_create(&fp, sf, Vf, BERG_FP_FOURIER), BERG_OK, "steep create");
    CHECK_STATUS(berg_fp_evolve(fp, 0.1, pf, of), BERG_ERR_DOMAIN, "mass where q underflows");
    CHECK_MESSAGE("underflows", "underflow refusal: message");
    CHECK(tu_untouched(of, nf, -7.0), "underflow refusal: out untouched");
    berg_fp_destroy(fp);
    /* the finite-volume discretization refuses coupled metrics and says
     * where to go */
    const double gc[4] = {1.0, 0.3, 0.3, 1.0};
    berg_space *s2 = periodic2(8, 8, 1.0, 1.0, gc);
    double V2[64] = {0};
    CHECK_STATUS(berg_fp_create(&fp, s2, V2, 0), BERG_ERR_UNSUPPORTED, "FV, coupled metric");
    CHECK_MESSAGE("BERG_FP_FOURIER", "coupled refusal points to the Fourier discretization");
    CHECK_STATUS(berg_fp_create(&fp, s2, V2, BERG_FP_FOURIER), BERG_OK, "Fourier, coupled");
    berg_fp_destroy(fp);
    berg_space_destroy(s2);
    berg_space_destroy(sf);
    berg_space_destroy(s);
    berg_space_destroy(sn);
    berg_space_destroy(s3);
    free(V);
    free(p);
    free(out);
    free(lin);
    free(Vf);
    free(pf);
    free(of);
}

/* ---- particles with a coupled metric against the Fourier density -------- */

/* V = (x^2 - 1)^2 / 4 + y^2 / 2 + 0.3 x y (not quadratic: no closed form) */
static double vnq(double x, double y) { return 0.25 * (x * x - 1) * (x * x - 1) + 0.5 * y * y + 0.3 * x * y; }

static int grad_vnq(size_t ndim, const double *x, double *g, void *ud)
{
    (void)ndim;
    (void)ud;
    g[0] = x[0] * (x[0] * x[0] - 1) + 0.3 * x[1];
    g[1] = x[1] + 0.3 * x[0];
    return 0;
}

/* chi-square of particle counts in blocks of b x b cells against density p */
static double chi2_2d(const berg_space *s, size_t n, size_t b, const double *hist_counts,
                      const double *p, double count, int *dof)
{
    double w;
    w = berg_space_cell_weight(s);
    size_t nb = n / b;
    double chi = 0.0, po = 0.0, pe = 0.0;
    int k = 0;
    for (size_t bi = 0; bi < nb; bi++)
        for (size_t bj = 0; bj < nb; bj++) {
            double o = 0.0, e = 0.0;
            for (size_t i = bi * b; i < (bi + 1) * b; i++)
                for (size_t j = bj * b; j < (bj + 1) * b; j++) {
                    o += hist_counts[i * n + j];
                    e += p[i * n + j] * w * count;
                }
            if (e >= 5.0) {
                chi += (o - e) * (o - e) / e;
                k++;
            } else {
                po += o;
                pe += e;
            }
        }
    if (pe >= 5.0) {
        chi += (po - pe) * (po - pe) / pe;
        k++;
    }
    *dof = k - 1;
    return chi;
}

static void test_particles_coupled(void)
{
    /* the SDE dX = -g^{-1} grad V dt + sqrt(2) g^{-1/2} dW with a coupled
     * metric, Euler-Maruyama (dt = 1e-3: bias far below the statistical
     * error), against the Fourier Fokker-Planck density: a chi-square test
     * at p-value 1e-3, with power shown against the same flow under the
     * diagonal part of the metric */
    const double g[4] = {1.0, 0.6, 0.6, 1.5}, gdiag[4] = {1.0, 0.0, 0.0, 1.5};
    double sdg = sqrt(g[0] * g[3] - g[1] * g[2]), sdd = sqrt(gdiag[0] * gdiag[3]);
    size_t n = 96, N = n * n, count = 40000;
    double L = 8.0, h = 2 * L / (double)n, t = 0.5;
    berg_space *s = periodic2(n, n, L, L, g), *sd = periodic2(n, n, L, L, gdiag);
    double *V = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double)),
           *pt = malloc(N * sizeof(double)), *pd = malloc(N * sizeof(double)),
           *hist = malloc(N * sizeof(double)), *x = malloc(2 * count * sizeof(double));
    /* p0 = e^{-V - a |x - m0|^2} / Z (it decays like e^{-V}, as the
     * Fourier discretization needs; a Gaussian start would not, V being
     * quartic), normalized on the grid */
    double m0[2] = {0.8, -0.3}, a = 1.5, vlow = INFINITY;
    for (size_t i = 0; i < N; i++) {
        double u = -L + (i / n + 0.5) * h, v = -L + (i % n + 0.5) * h;
        V[i] = vnq(u, v);
        vlow = fmin(vlow, V[i]);
        p[i] = exp(-V[i] - a * ((u - m0[0]) * (u - m0[0]) + (v - m0[1]) * (v - m0[1])));
    }
    vlow -= 0.05; /* below the continuum minimum too (h = 0.17) */
    berg_space_normalize(s, p, NULL);
    memcpy(pd, p, N * sizeof(double));
    berg_space_normalize(sd, pd, NULL);
    berg_fp *fp = NULL, *fd = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER), BERG_OK, "particles: Fourier fp");
    CHECK_STATUS(berg_fp_create(&fd, sd, V, BERG_FP_FOURIER), BERG_OK, "particles: diagonal");
    CHECK_STATUS(berg_fp_evolve(fp, t, p, pt), BERG_OK, "particles: evolve");
    CHECK_STATUS(berg_fp_evolve(fd, t, pd, pd), BERG_OK, "particles: evolve diagonal");
    /* the diagonal flow's density w.r.t. the coupled space's volume */
    for (size_t i = 0; i < N; i++)
        pd[i] *= sdd / sdg;
    /* samples of p0: N(m0, I / (2a)) by Box-Muller, accepted with
     * probability e^{-(V - vlow)} <= 1 */
    unsigned long long st = 12345;
    for (size_t j = 0; j < count;) {
        double u1 = tu_uniform(&st), u2 = tu_uniform(&st), u3 = tu_uniform(&st);
        double rad = sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) / sqrt(2 * a);
        double px = m0[0] + rad * cos(2 * M_PI * u2), py = m0[1] + rad * sin(2 * M_PI * u2);
        if (u3 < exp(-(vnq(px, py) - vlow))) {
            x[2 * j] = px;
            x[2 * j + 1] = py;
            j++;
        }
    }
    berg_particles *ps = NULL;
    CHECK_STATUS(berg_particles_create(&ps, 2, 77, g), BERG_OK, "particles, coupled metric");
    CHECK_STATUS(berg_particles_euler(ps, 1e-3, 500, count, x, grad_vnq, NULL), BERG_OK,
                 "Euler-Maruyama");
    size_t outside = 0;
    CHECK_STATUS(berg_space_histogram(s, count, x, hist, &outside), BERG_OK, "histogram");
    double w;
    w = berg_space_cell_weight(s);
    for (size_t i = 0; i < N; i++)
        hist[i] *= (double)count * w; /* back to counts */
    int dof, dofd;
    double chi = chi2_2d(s, n, 6, hist, pt, (double)count, &dof);
    double chid = chi2_2d(s, n, 6, hist, pd, (double)count, &dofd);
    double c = 2.0 / (9.0 * dof), crit = dof * pow(1.0 - c + 3.0902 * sqrt(c), 3);
    double cd = 2.0 / (9.0 * dofd), critd = dofd * pow(1.0 - cd + 3.0902 * sqrt(cd), 3);
    printf("particles (coupled metric) vs Fourier density: chi2 = %.1f, %d dof (1e-3 critical "
           "%.1f); against the diagonal-metric flow chi2 = %.1f\n",
           chi, dof, crit, chid);
    CHECK(outside == 0, "no particle left the box (%zu)", outside);
    CHECK(chi < crit, "particles agree with the Fourier density: chi2 %g < %g", chi, crit);
    CHECK(chid > critd, "the test has power: the diagonal metric gives chi2 %g > %g", chid, critd);
    berg_particles_destroy(ps);
    berg_fp_destroy(fp);
    berg_fp_destroy(fd);
    berg_space_destroy(s);
    berg_space_destroy(sd);
    free(V);
    free(p);
    free(pt);
    free(pd);
    free(hist);
    free(x);
}

/* one Fourier handle (coupled metric) evolved from 8 threads at once gives
 * the serial result bit for bit */
static void test_threads(void)
{
    size_t n[2] = {32, 32};
    double lo[2] = {-6, -6}, hi[2] = {6, 6}, g[4] = {1.0, 0.3, 0.3, 1.5};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, n, lo, hi, bc, g), BERG_OK, "coupled space");
    size_t N = 32 * 32;
    double *V = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        double x = -6 + ((double)(i / 32) + 0.5) * 12.0 / 32, y = -6 + ((double)(i % 32) + 0.5) * 12.0 / 32;
        V[i] = 0.5 * x * x + 0.5 * y * y;
        p[i] = exp(-(x - 1) * (x - 1) - y * y);
    }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE), BERG_OK,
                 "Fourier create");
    CHECK(fp_threads_bitwise(fp, 0.5, p, N), "8 threads on one Fourier handle: serial result");
    berg_fp_destroy(fp);
    free(V);
    free(p);
    berg_space_destroy(s);
}

int main(void)
{
    test_threads();
    test_refusals();
    test_ou_1d();
    test_ou_2d();
    test_properties();
    test_against_eigen();
    test_velocity_coupled();
    test_particles_coupled();
    return test_summary("fp_fourier");
}
