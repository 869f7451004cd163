/* Time-dependent Fokker-Planck flows (berg_fp_evolve_field, berg_fp_evolve_table):
 * Ornstein-Uhlenbeck flows with a time-dependent stiffness a(t) and
 * diffusion c(t) (metric g = 1/c) against the moment equations solved
 * independently by RK4 (the law stays Gaussian: L1 of the Gaussian with the
 * reference moments against the grid density); second order of the
 * fixed-step mode by halving the step; a coupled time-dependent metric in
 * 2-D against the Lyapunov ODE; table input against callback input;
 * time-independent coefficients against berg_fp_evolve; concurrent use of
 * one handle; every refusal with nothing written. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- the 1-D problem: V = a(t) x^2 / 2, g = 1 / c(t) ---------------------- */

static double stiffness(double t) { return 1.0 + 0.3 * sin(2.0 * t); }
static double diffusion(double t) { return 1.0 + 0.4 * cos(3.0 * t); }

typedef struct ou1 {
    const berg_space *s;
    int metric;       /* fill g = 1 / c(t) (else the space's) */
    int nan_at;       /* fail modes for the refusal tests */
    double bad_after; /* from this time on */
    size_t calls;
} ou1;

static int field_ou1(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    ou1 *o = ud;
    o->calls++;
    if (ndim != 1 || n != berg_space_size(o->s))
        CHECK(0, "field: n = %zu and ndim = %zu", n, ndim);
    double a = stiffness(t);
    for (size_t i = 0; i < n; i++) {
        double x;
        tu_grid_point(o->s, i, &x);
        V[i] = 0.5 * a * x * x;
    }
    if (o->metric)
        g[0] = 1.0 / diffusion(t);
    if (t >= o->bad_after) {
        if (o->nan_at == 1)
            V[3] = NAN;
        if (o->nan_at == 2)
            g[0] = -1.0;
        if (o->nan_at == 3)
            return 7;
        if (o->nan_at == 5) /* steepening faster than the density follows */
            for (size_t i = 0; i < n; i++)
                V[i] *= (1.0 + 20.0 * t) / a;
        if (o->nan_at == 4) /* not confining on a periodic box: unresolved */
            for (size_t i = 0; i < n; i++) {
                double x;
                tu_grid_point(o->s, i, &x);
                V[i] = 0.3 * x;
            }
    }
    return 0;
}

/* mean m and variance v of the 1-D OU: m' = -c a m, v' = -2 c a v + 2 c
 * (c = 1 when the metric is the space's), RK4 with 40000 steps */
static void ou1_moments(int metric, double t0, double t1, double *m, double *v)
{
    const int K = 40000;
    double h = (t1 - t0) / K, y[2] = {*m, *v};
    for (int k = 0; k < K; k++) {
        double t = t0 + k * h, kk[4][2], u[2];
        for (int s = 0; s < 4; s++) {
            double ts = t + (s == 0 ? 0.0 : s == 3 ? h : 0.5 * h);
            const double *prev = s ? kk[s - 1] : NULL;
            double f = (s == 0) ? 0.0 : (s == 3 ? 1.0 : 0.5);
            for (int i = 0; i < 2; i++)
                u[i] = y[i] + (prev ? f * h * prev[i] : 0.0);
            double c = metric ? diffusion(ts) : 1.0, a = stiffness(ts);
            kk[s][0] = -c * a * u[0];
            kk[s][1] = -2.0 * c * a * u[1] + 2.0 * c;
        }
        for (int i = 0; i < 2; i++)
            y[i] += h / 6.0 * (kk[0][i] + 2 * kk[1][i] + 2 * kk[2][i] + kk[3][i]);
    }
    *m = y[0];
    *v = y[1];
}

/* L1 distance (cell weight of the box: the state is a coordinate density)
 * between p and the Gaussian N(m, v), both with unit mass */
static double l1_gauss1(const berg_space *s, const double *p, double m, double v)
{
    size_t n = berg_space_size(s);
    double h = (double)berg_space_cell_weight(s), mass = 0.0, err = 0.0;
    for (size_t i = 0; i < n; i++)
        mass += p[i];
    for (size_t i = 0; i < n; i++) {
        double x;
        tu_grid_point(s, i, &x);
        double q = exp(-0.5 * (x - m) * (x - m) / v) / sqrt(2 * M_PI * v);
        err += fabs(p[i] / (mass * h) - q) * h;
    }
    return err;
}

static void gauss1(const berg_space *s, double m, double v, double *p)
{
    for (size_t i = 0; i < berg_space_size(s); i++) {
        double x;
        tu_grid_point(s, i, &x);
        p[i] = exp(-0.5 * (x - m) * (x - m) / v);
    }
}

static berg_fp *fp_1d(const berg_space *s, unsigned flags, double tol)
{
    size_t n = berg_space_size(s);
    double *V = tu_vec(n);
    for (size_t i = 0; i < n; i++) {
        double x;
        tu_grid_point(s, i, &x);
        V[i] = 0.5 * x * x;
    }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, flags), BERG_OK, "create");
    CHECK_STATUS(berg_fp_set_tolerance(fp, tol), BERG_OK, "tolerance");
    free(V);
    return fp;
}

/* ---- 1-D OU with a(t) and c(t): adaptive accuracy, both discretizations -- */
static void test_ou_1d_adaptive(void)
{
    const double t0 = 0.2, t1 = 1.4, m0 = 0.8, v0 = 0.4;
    for (int metric = 0; metric <= 1; metric++) {
        double m = m0, v = v0;
        ou1_moments(metric, t0, t1, &m, &v);
        /* Fourier: spectral in space, so the L1 error is the time error */
        berg_space *s = tu_line(128, -10.0, 10.0, BERG_PERIODIC);
        size_t n = berg_space_size(s);
        double *p = tu_vec(n), *out = tu_vec(n);
        gauss1(s, m0, v0, p);
        ou1 o = {s, metric, 0, INFINITY, 0};
        berg_fp *fp = fp_1d(s, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE, 1e-9);
        CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, 0.0, p, out, field_ou1, &o), BERG_OK,
                     "fourier evolve_field (metric %d)", metric);
        double err = l1_gauss1(s, out, m, v);
        size_t acc = 0, rej = 0;
        berg_fp_last_steps(fp, &acc, &rej);
        printf("  fourier OU a(t)%s: L1 %.3g vs RK4 moments (m %.6f v %.6f), %zu + %zu steps, "
               "%zu field calls\n", metric ? " c(t)" : "", err, m, v, acc, rej, o.calls);
        CHECK(err < 1e-7, "fourier OU with a(t)%s: L1 %.3g < 1e-7", metric ? ", c(t)" : "", err);
        CHECK(acc > 0 && acc < 200, "fourier: %zu steps", acc);
        double mass = 0.0, mass0 = 0.0;
        for (size_t i = 0; i < n; i++) {
            mass += out[i];
            mass0 += p[i];
        }
        CHECK_REL(mass, mass0, 1e-12, "fourier: mass conserved");
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(p);
        free(out);

        /* finite volume: O(h^2) in space; n = 2048 on [-8, 8] */
        s = tu_line(2048, -8.0, 8.0, BERG_NEUMANN);
        n = berg_space_size(s);
        p = tu_vec(n);
        out = tu_vec(n);
        gauss1(s, m0, v0, p);
        o = (ou1){s, metric, 0, INFINITY, 0};
        fp = fp_1d(s, 0, 1e-9);
        CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, 0.0, p, out, field_ou1, &o), BERG_OK,
                     "volume evolve_field (metric %d)", metric);
        err = l1_gauss1(s, out, m, v);
        berg_fp_last_steps(fp, &acc, &rej);
        printf("  volume  OU a(t)%s: L1 %.3g vs RK4 moments, %zu + %zu steps\n",
               metric ? " c(t)" : "", err, acc, rej);
        CHECK(err < 2e-5, "volume OU with a(t)%s: L1 %.3g < 2e-5 (h^2 = %.2g)",
              metric ? ", c(t)" : "", err, (16.0 / 2048) * (16.0 / 2048));
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(p);
        free(out);
    }
}

/* ---- second order of the fixed-step mode: halving the step --------------- */
static void test_fixed_step_order(void)
{
    const double t0 = 0.0, t1 = 1.0, m0 = 0.8, v0 = 0.4;
    double m = m0, v = v0;
    ou1_moments(1, t0, t1, &m, &v);
    berg_space *s = tu_line(128, -10.0, 10.0, BERG_PERIODIC);
    size_t n = berg_space_size(s);
    double *p = tu_vec(n), *out = tu_vec(n);
    gauss1(s, m0, v0, p);
    berg_fp *fp = fp_1d(s, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE, 0.1);
    double err[4];
    for (int k = 0; k < 4; k++) {
        double h = 0.1 / (double)(1 << k);
        ou1 o = {s, 1, 0, INFINITY, 0};
        CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, h, p, out, field_ou1, &o), BERG_OK,
                     "fourier fixed step %g", h);
        err[k] = l1_gauss1(s, out, m, v);
        size_t acc = 0;
        berg_fp_last_steps(fp, &acc, NULL);
        CHECK(acc == (size_t)(10 << k), "fixed step %g: %zu steps", h, acc);
    }
    for (int k = 0; k + 1 < 4; k++) {
        double ratio = err[k] / err[k + 1];
        printf("  fourier fixed step %.4f: L1 %.3e, ratio to the halved step %.3f\n",
               0.1 / (1 << k), err[k], ratio);
        CHECK(ratio > 3.6 && ratio < 4.4, "fourier fixed steps: error ratio %.3f ~ 4", ratio);
    }
    /* a fixed step whose estimate exceeds the tolerance is refused */
    CHECK_STATUS(berg_fp_set_tolerance(fp, 1e-10), BERG_OK, "tight tolerance");
    tu_fill(out, n, -7.0);
    ou1 o = {s, 1, 0, INFINITY, 0};
    CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, 0.1, p, out, field_ou1, &o),
                 BERG_ERR_NO_CONVERGENCE, "fixed step above the tolerance");
    CHECK_MESSAGE("error estimate", "the message gives the error reached");
    CHECK(tu_untouched(out, n, -7.0), "out untouched");
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(p);
    free(out);

    /* finite volume: 2 Phi_{h/2}^2 - Phi_h against the adaptive result at
     * a tight tolerance on the same grid (the time error alone) */
    s = tu_line(256, -8.0, 8.0, BERG_NEUMANN);
    n = berg_space_size(s);
    p = tu_vec(n);
    out = tu_vec(n);
    double *ref = tu_vec(n);
    gauss1(s, m0, v0, p);
    fp = fp_1d(s, 0, 1e-12);
    o = (ou1){s, 1, 0, INFINITY, 0};
    CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, 0.0, p, ref, field_ou1, &o), BERG_OK,
                 "volume reference");
    CHECK_STATUS(berg_fp_set_tolerance(fp, 0.1), BERG_OK, "loose tolerance");
    double mass = 0.0;
    for (size_t i = 0; i < n; i++)
        mass += p[i];
    for (int k = 0; k < 4; k++) {
        double h = 0.1 / (double)(1 << k);
        o = (ou1){s, 1, 0, INFINITY, 0};
        CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, h, p, out, field_ou1, &o), BERG_OK,
                     "volume fixed step %g", h);
        double e = 0.0;
        for (size_t i = 0; i < n; i++)
            e += fabs(out[i] - ref[i]) / mass;
        err[k] = e;
    }
    for (int k = 0; k + 1 < 4; k++) {
        double ratio = err[k] / err[k + 1];
        printf("  volume  fixed step %.4f: L1 %.3e, ratio to the halved step %.3f\n",
               0.1 / (1 << k), err[k], ratio);
        CHECK(ratio > 3.4 && ratio < 4.6, "volume fixed steps: error ratio %.3f ~ 4", ratio);
    }
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(p);
    free(out);
    free(ref);
}

/* ---- 2-D: V = x^T A(t) x / 2 with a coupled metric g(t) ------------------- */

static void A_of(double t, double *A)
{
    A[0] = 1.0 + 0.3 * sin(t);
    A[1] = A[2] = 0.4 * cos(2.0 * t);
    A[3] = 1.5;
}
/* gi = g^{-1}(t), the diffusion tensor */
static void gi_of(double t, double *gi)
{
    gi[0] = 1.0 + 0.2 * t;
    gi[1] = gi[2] = 0.4 * sin(1.5 * t);
    gi[3] = 0.8;
}

typedef struct ou2 {
    const berg_space *s;
} ou2;

static int field_ou2(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    const ou2 *o = ud;
    (void)ndim;
    double A[4], gi[4];
    A_of(t, A);
    gi_of(t, gi);
    for (size_t i = 0; i < n; i++) {
        double x[2];
        tu_grid_point(o->s, i, x);
        V[i] = 0.5 * (A[0] * x[0] * x[0] + 2 * A[1] * x[0] * x[1] + A[3] * x[1] * x[1]);
    }
    double det = gi[0] * gi[3] - gi[1] * gi[2];
    g[0] = gi[3] / det;
    g[1] = g[2] = -gi[1] / det;
    g[3] = gi[0] / det;
    return 0;
}

static void rhs2(double t, const double *y, double *dy)
{
    double A[4], gi[4], B[4];
    A_of(t, A);
    gi_of(t, gi);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            B[i * 2 + j] = gi[i * 2] * A[j] + gi[i * 2 + 1] * A[2 + j];
    const double *m = y, *S = y + 2;
    for (int i = 0; i < 2; i++)
        dy[i] = -(B[i * 2] * m[0] + B[i * 2 + 1] * m[1]);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double v = 2 * gi[i * 2 + j];
            for (int k = 0; k < 2; k++)
                v -= B[i * 2 + k] * S[k * 2 + j] + S[i * 2 + k] * B[j * 2 + k];
            dy[2 + i * 2 + j] = v;
        }
}

/* mean and covariance by RK4 (the Lyapunov ODE), 40000 steps */
static void lyapunov_rk4(double t0, double t1, double *y)
{
    const int K = 40000;
    double h = (t1 - t0) / K;
    for (int k = 0; k < K; k++) {
        double t = t0 + k * h, k1[6], k2[6], k3[6], k4[6], u[6];
        rhs2(t, y, k1);
        for (int i = 0; i < 6; i++)
            u[i] = y[i] + 0.5 * h * k1[i];
        rhs2(t + 0.5 * h, u, k2);
        for (int i = 0; i < 6; i++)
            u[i] = y[i] + 0.5 * h * k2[i];
        rhs2(t + 0.5 * h, u, k3);
        for (int i = 0; i < 6; i++)
            u[i] = y[i] + h * k3[i];
        rhs2(t + h, u, k4);
        for (int i = 0; i < 6; i++)
            y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
}

static double gauss2_l1(const berg_space *s, const double *p, const double *y)
{
    size_t n = berg_space_size(s);
    double w = berg_space_cell_weight(s) / berg_space_volume_factor(s), mass = 0.0, err = 0.0;
    const double *m = y, *S = y + 2;
    double det = S[0] * S[3] - S[1] * S[2];
    for (size_t i = 0; i < n; i++)
        mass += p[i];
    for (size_t i = 0; i < n; i++) {
        double x[2];
        tu_grid_point(s, i, x);
        double dx = x[0] - m[0], dy = x[1] - m[1];
        double q = exp(-0.5 * (S[3] * dx * dx - 2 * S[1] * dx * dy + S[0] * dy * dy) / det) /
                   (2 * M_PI * sqrt(det));
        err += fabs(p[i] / (mass * w) - q) * w;
    }
    return err;
}

static void test_ou_2d_coupled_metric(void)
{
    size_t sh[2] = {64, 64};
    double lo[2] = {-8, -8}, hi[2] = {8, 8};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = tu_space(2, sh, lo, hi, bc, NULL);
    size_t n = berg_space_size(s);
    double *V = tu_vec(n), *p = tu_vec(n), *out = tu_vec(n);
    const double t0 = 0.0, t1 = 1.5;
    double y[6] = {0.7, -0.4, 0.35, 0.1, 0.1, 0.3};
    double mu[2] = {y[0], y[1]}, Sig[4] = {y[2], y[3], y[4], y[5]};
    tu_gaussian(s, mu, Sig, p);
    ou2 o = {s};
    double gg[4];
    field_ou2(t0, n, 2, V, gg, &o);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE), BERG_OK,
                 "2-D create");
    CHECK_STATUS(berg_fp_evolve_field(fp, t0, t1, 0.0, p, out, field_ou2, &o), BERG_OK,
                 "2-D coupled g(t)");
    lyapunov_rk4(t0, t1, y);
    double err = gauss2_l1(s, out, y);
    size_t acc = 0, rej = 0;
    berg_fp_last_steps(fp, &acc, &rej);
    printf("  fourier 2-D OU, A(t), coupled g(t): L1 %.3g vs the Lyapunov ODE (RK4), %zu + %zu "
           "steps\n", err, acc, rej);
    CHECK(err < 1e-6, "2-D coupled g(t): L1 %.3g < 1e-6", err);
    /* the finite volume refuses a coupled g(t), writing nothing */
    berg_space_destroy(s);
    bc[0] = bc[1] = BERG_NEUMANN;
    s = tu_space(2, sh, lo, hi, bc, NULL);
    berg_fp *fv = NULL;
    o.s = s;
    field_ou2(t0, n, 2, V, gg, &o);
    CHECK_STATUS(berg_fp_create(&fv, s, V, 0), BERG_OK, "2-D volume create");
    tu_fill(out, n, -7.0);
    CHECK_STATUS(berg_fp_evolve_field(fv, t0, t1, 0.0, p, out, field_ou2, &o),
                 BERG_ERR_UNSUPPORTED, "volume: coupled g(t)");
    CHECK(tu_untouched(out, n, -7.0), "out untouched");
    berg_fp_destroy(fv);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(out);
}

/* ---- from the equilibrium of V(t0): the estimate's rounding level ---------
 * The Fourier stepper's stages are p itself, so their differences carry
 * rounding of order eps |p|_1 however close p is to the equilibrium of the
 * current frame. Started at the equilibrium of V(t0) (the rest is rounding),
 * the error scale used to floor at 1e-2 tol mass: an estimate of 1e-18 of
 * the mass at tol 1e-8, below rounding, so whether a step was accepted
 * depended on the last bits (an FFT plan FFTW took from wisdom, one ulp of
 * the data) and the step size collapsed at t ~ 1e-10 in about one run in
 * six (CI: test_refusals_write_nothing in python/tests/test_fp_time.py).
 * Every perturbation of the data by a few ulps must now run to t1 and match
 * the moments. */
static uint64_t lcg_next(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return *state >> 33;
}

/* p[i] *= 1 + k 2^-53 with k in {-2, ..., 2} */
static void perturb_ulps(double *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        p[i] *= 1.0 + (double)((int)(lcg_next(state) % 5u) - 2) * 0x1p-53;
}

static void test_from_equilibrium(void)
{
    uint64_t state = 12345;
    /* 1-D: p(0) = e^{-x^2/2}, the equilibrium of V(0) = x^2/2 */
    berg_space *s = tu_line(64, -10.0, 10.0, BERG_PERIODIC);
    size_t n = berg_space_size(s);
    double *p0 = tu_vec(n), *p = tu_vec(n), *out = tu_vec(n);
    gauss1(s, 0.0, 1.0, p0);
    double m = 0.0, v = 1.0;
    ou1_moments(1, 0.0, 1.0, &m, &v);
    berg_fp *fp = fp_1d(s, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE, 1e-8);
    const int runs = 40;
    int failed = 0;
    double worst = 0.0;
    size_t most = 0;
    for (int r = 0; r < runs; r++) {
        memcpy(p, p0, n * sizeof(double));
        if (r > 0)
            perturb_ulps(p, n, &state);
        ou1 o = {s, 1, 0, INFINITY, 0};
        berg_status st = berg_fp_evolve_field(fp, 0.0, 1.0, 0.0, p, out, field_ou1, &o);
        if (st != BERG_OK) {
            if (!failed)
                printf("  run %d: %s\n", r, berg_last_error());
            failed++;
            continue;
        }
        size_t acc = 0, rej = 0;
        berg_fp_last_steps(fp, &acc, &rej);
        most = acc + rej > most ? acc + rej : most;
        double err = l1_gauss1(s, out, m, v);
        worst = err > worst ? err : worst;
    }
    printf("  fourier from the equilibrium of V(0), %d runs a few ulps apart: %d refused, "
           "L1 at most %.3g vs RK4 moments, at most %zu steps\n", runs, failed, worst, most);
    CHECK(failed == 0, "from the equilibrium: %d of %d runs refused", failed, runs);
    CHECK(worst < 1e-7, "from the equilibrium: L1 %.3g < 1e-7", worst);
    CHECK(most < 200, "from the equilibrium: %zu steps", most);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(p0);
    free(p);
    free(out);

    /* 2-D with the coupled metric: p(0) = e^{-V(0)}, N(0, A(0)^{-1}) */
    size_t sh[2] = {64, 64};
    double lo[2] = {-8, -8}, hi[2] = {8, 8};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    s = tu_space(2, sh, lo, hi, bc, NULL);
    n = berg_space_size(s);
    double *V = tu_vec(n), gg[4], A[4];
    p0 = tu_vec(n);
    p = tu_vec(n);
    out = tu_vec(n);
    ou2 o2 = {s};
    field_ou2(0.0, n, 2, V, gg, &o2);
    for (size_t i = 0; i < n; i++)
        p0[i] = exp(-V[i]);
    A_of(0.0, A);
    double det = A[0] * A[3] - A[1] * A[2];
    double y0[6] = {0.0, 0.0, A[3] / det, -A[1] / det, -A[2] / det, A[0] / det};
    lyapunov_rk4(0.0, 0.5, y0);
    CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE), BERG_OK,
                 "2-D create");
    failed = 0;
    worst = 0.0;
    for (int r = 0; r < 6; r++) {
        memcpy(p, p0, n * sizeof(double));
        if (r > 0)
            perturb_ulps(p, n, &state);
        berg_status st = berg_fp_evolve_field(fp, 0.0, 0.5, 0.0, p, out, field_ou2, &o2);
        if (st != BERG_OK) {
            if (!failed)
                printf("  2-D run %d: %s\n", r, berg_last_error());
            failed++;
            continue;
        }
        double err = gauss2_l1(s, out, y0);
        worst = err > worst ? err : worst;
    }
    printf("  fourier 2-D from the equilibrium of V(0), coupled g(t), 6 runs: %d refused, L1 "
           "at most %.3g vs the Lyapunov ODE\n", failed, worst);
    CHECK(failed == 0, "2-D from the equilibrium: %d of 6 runs refused", failed);
    CHECK(worst < 1e-6, "2-D from the equilibrium: L1 %.3g < 1e-6", worst);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p0);
    free(p);
    free(out);
}

/* ---- table input against the callback ------------------------------------ */

/* coefficients linear in t on [0, 2]: the table with knots 0, 0.7, 2 is
 * exact, so both inputs are the same flow */
static int field_linear(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    const berg_space *s = ud;
    (void)ndim;
    for (size_t i = 0; i < n; i++) {
        double x;
        tu_grid_point(s, i, &x);
        V[i] = 0.5 * (1.0 + 0.4 * t) * x * x + 0.3 * t * x;
    }
    g[0] = 1.0 + 0.25 * t;
    return 0;
}

static void test_table_vs_callback(void)
{
    for (int fourier = 0; fourier <= 1; fourier++) {
        berg_space *s = fourier ? tu_line(128, -10.0, 10.0, BERG_PERIODIC)
                                : tu_line(400, -8.0, 8.0, BERG_NEUMANN);
        size_t n = berg_space_size(s);
        double times[3] = {0.0, 0.7, 2.0}, Vt[3 * 400], gt[3];
        double *p = tu_vec(n), *a = tu_vec(n), *b = tu_vec(n);
        gauss1(s, 0.5, 0.3, p);
        for (int k = 0; k < 3; k++) {
            double g1[1];
            field_linear(times[k], n, 1, Vt + k * n, g1, s);
            gt[k] = g1[0];
        }
        berg_fp *fp = fp_1d(s, fourier ? BERG_FP_FOURIER | BERG_PLAN_ESTIMATE : 0, 1e-10);
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.1, 1.8, 0.0, p, a, field_linear, (void *)s),
                     BERG_OK, "callback");
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.1, 1.8, 0.0, 3, times, Vt, gt, p, b), BERG_OK,
                     "table");
        double d = 0.0, mass = 0.0;
        for (size_t i = 0; i < n; i++) {
            d += fabs(a[i] - b[i]);
            mass += p[i];
        }
        printf("  %s: table (3 knots, linear coefficients) vs callback: L1 %.3g\n",
               fourier ? "fourier" : "volume ", d / mass);
        CHECK(d / mass < 1e-8, "%s: table vs callback %.3g", fourier ? "fourier" : "volume",
              d / mass);
        /* smooth coefficients sampled at knots: the interpolation error
         * falls like the square of the knot spacing */
        if (fourier) {
            ou1 o = {s, 1, 0, INFINITY, 0};
            CHECK_STATUS(berg_fp_set_tolerance(fp, 1e-11), BERG_OK, "tolerance");
            CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.0, 0.0, p, a, field_ou1, &o), BERG_OK,
                         "callback a(t) c(t)");
            double e[2];
            for (int r = 0; r < 2; r++) {
                size_t nk = (r == 0) ? 11 : 21;
                double *tk = tu_vec(nk), *Vk = tu_vec(nk * n), *gk = tu_vec(nk);
                for (size_t k = 0; k < nk; k++) {
                    tk[k] = (double)k / (double)(nk - 1);
                    field_ou1(tk[k], n, 1, Vk + k * n, gk + k, &o);
                }
                CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 1.0, 0.0, nk, tk, Vk, gk, p, b),
                             BERG_OK, "table of %zu knots", nk);
                e[r] = 0.0;
                for (size_t i = 0; i < n; i++)
                    e[r] += fabs(a[i] - b[i]) / mass;
                free(tk);
                free(Vk);
                free(gk);
            }
            printf("  fourier: table of a(t) c(t) vs callback: L1 %.3g (11 knots), %.3g (21 "
                   "knots), ratio %.2f\n", e[0], e[1], e[0] / e[1]);
            CHECK(e[0] / e[1] > 3.3 && e[0] / e[1] < 4.7,
                  "table interpolation error ratio %.2f ~ 4", e[0] / e[1]);
        }
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(p);
        free(a);
        free(b);
    }
}

/* ---- time-independent coefficients reproduce berg_fp_evolve ------------- */
static int field_const(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    const berg_space *s = ud;
    (void)t;
    (void)ndim;
    (void)g;
    for (size_t i = 0; i < n; i++) {
        double x;
        tu_grid_point(s, i, &x);
        V[i] = 0.5 * x * x;
    }
    return 0;
}

static void test_time_independent(void)
{
    for (int fourier = 0; fourier <= 1; fourier++) {
        berg_space *s = fourier ? tu_line(128, -10.0, 10.0, BERG_PERIODIC)
                                : tu_line(300, -8.0, 8.0, BERG_NEUMANN);
        size_t n = berg_space_size(s);
        double *p = tu_vec(n), *a = tu_vec(n), *b = tu_vec(n), *c = tu_vec(n);
        gauss1(s, 1.0, 0.2, p);
        berg_fp *fp = fp_1d(s, fourier ? BERG_FP_FOURIER | BERG_PLAN_ESTIMATE : 0, 1e-8);
        CHECK_STATUS(berg_fp_evolve(fp, 0.625, p, a), BERG_OK, "evolve");
        size_t acc0 = 0, acc1 = 0;
        berg_fp_last_steps(fp, &acc0, NULL);
        CHECK_STATUS(berg_fp_evolve_field(fp, 2.0, 2.625, 0.0, p, b, field_const, (void *)s),
                     BERG_OK, "evolve_field, constant");
        berg_fp_last_steps(fp, &acc1, NULL);
        /* a table whose knots all hold the same V */
        double times[2] = {-1.0, 5.0}, *Vt = tu_vec(2 * n), g1[1];
        field_const(0.0, n, 1, Vt, g1, s);
        field_const(0.0, n, 1, Vt + n, g1, s);
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 0.625, 0.0, 2, times, Vt, NULL, p, c), BERG_OK,
                     "evolve_table, constant");
        double mass = 0.0, d = 0.0, dt = 0.0;
        for (size_t i = 0; i < n; i++) {
            mass += p[i];
            d += fabs(a[i] - b[i]);
            dt += fabs(a[i] - c[i]);
        }
        printf("  %s: constant coefficients vs berg_fp_evolve: L1 %.3g (callback), %.3g "
               "(table); %zu and %zu steps\n", fourier ? "fourier" : "volume ", d / mass,
               dt / mass, acc0, acc1);
        if (!fourier) {
            CHECK(memcmp(a, b, n * sizeof(double)) == 0, "volume: bitwise equal (callback)");
            CHECK(memcmp(a, c, n * sizeof(double)) == 0, "volume: bitwise equal (table)");
        } else {
            CHECK(d / mass < 1e-12, "fourier: callback %.3g < 1e-12", d / mass);
            CHECK(dt / mass < 1e-12, "fourier: table %.3g < 1e-12", dt / mass);
        }
        CHECK(acc0 == acc1, "same step count (%zu, %zu)", acc0, acc1);
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(p);
        free(a);
        free(b);
        free(c);
        free(Vt);
    }
}

/* ---- absorbing walls, extreme scales -------------------------------------- */
static void test_dirichlet_and_scale(void)
{
    berg_space *s = tu_line(200, -6.0, 6.0, BERG_DIRICHLET);
    size_t n = berg_space_size(s);
    double *p = tu_vec(n), *a = tu_vec(n), *b = tu_vec(n), *c = tu_vec(n);
    gauss1(s, 1.0, 0.5, p);
    berg_fp *fp = fp_1d(s, 0, 1e-8);
    CHECK_STATUS(berg_fp_evolve(fp, 1.5, p, a), BERG_OK, "dirichlet evolve");
    CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.5, 0.0, p, b, field_const, (void *)s), BERG_OK,
                 "dirichlet evolve_field");
    CHECK(memcmp(a, b, n * sizeof(double)) == 0, "dirichlet: constant V bitwise berg_fp_evolve");
    /* a(t): mass leaks, the result is the same flow at any scale of the state */
    ou1 o = {s, 1, 0, INFINITY, 0};
    CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.5, 0.0, p, b, field_ou1, &o), BERG_OK,
                 "dirichlet a(t)");
    double m0 = 0.0, m1 = 0.0;
    for (size_t i = 0; i < n; i++) {
        m0 += p[i];
        m1 += b[i];
    }
    CHECK(m1 < m0 && m1 > 0.5 * m0, "dirichlet: mass leaks (%.6g of %.6g)", m1, m0);
    for (size_t i = 0; i < n; i++)
        c[i] = p[i] * 1e-300;
    CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.5, 0.0, c, a, field_ou1, &o), BERG_OK,
                 "state at 1e-300");
    double d = 0.0;
    for (size_t i = 0; i < n; i++)
        d += fabs(a[i] * 1e300 - b[i]);
    CHECK(d / m1 < 1e-9, "a state scaled by 1e-300 gives the scaled result (%.3g)", d / m1);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(p);
    free(a);
    free(b);
    free(c);
}

/* ---- one const handle from many threads ---------------------------------- */
typedef struct job {
    const berg_fp *fp;
    const berg_space *s;
    const double *p;
    double *out;
    berg_status st;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    ou1 o = {j->s, 1, 0, INFINITY, 0};
    j->st = berg_fp_evolve_field(j->fp, 0.0, 0.8, 0.0, j->p, j->out, field_ou1, &o);
    return NULL;
}

static void test_threads(void)
{
    for (int fourier = 0; fourier <= 1; fourier++) {
        berg_space *s = fourier ? tu_line(64, -10.0, 10.0, BERG_PERIODIC)
                                : tu_line(200, -8.0, 8.0, BERG_NEUMANN);
        size_t n = berg_space_size(s);
        double *p = tu_vec(n), *ref = tu_vec(n), *outs = tu_vec(4 * n);
        gauss1(s, 0.3, 0.5, p);
        berg_fp *fp = fp_1d(s, fourier ? BERG_FP_FOURIER | BERG_PLAN_ESTIMATE : 0, 1e-8);
        job one = {fp, s, p, ref, BERG_OK};
        run_job(&one);
        CHECK_STATUS(one.st, BERG_OK, "serial");
        pthread_t th[4];
        job jobs[4];
        for (int k = 0; k < 4; k++) {
            jobs[k] = (job){fp, s, p, outs + k * n, BERG_ERR_INTERNAL};
            pthread_create(&th[k], NULL, run_job, &jobs[k]);
        }
        for (int k = 0; k < 4; k++) {
            pthread_join(th[k], NULL);
            CHECK_STATUS(jobs[k].st, BERG_OK, "thread %d", k);
            CHECK(memcmp(outs + k * n, ref, n * sizeof(double)) == 0,
                  "%s: thread %d equals the serial result bitwise", fourier ? "fourier" : "volume",
                  k);
        }
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(p);
        free(ref);
        free(outs);
    }
}

/* the line solves of the finite volume on several threads (berg_fp_set_threads)
 * give the one-thread result bitwise in the time-dependent flow too */
static int field_radial(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    const berg_space *s = ud;
    (void)ndim;
    (void)g;
    for (size_t i = 0; i < n; i++) {
        double x[2];
        tu_grid_point(s, i, x);
        V[i] = 0.5 * stiffness(t) * (x[0] * x[0] + 2.0 * x[1] * x[1]);
    }
    return 0;
}

static void test_line_threads(void)
{
    size_t sh[2] = {96, 80};
    double lo[2] = {-6, -5}, hi[2] = {6, 5};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, sh, lo, hi, bc, NULL);
    size_t n = berg_space_size(s);
    double *V = tu_vec(n), *p = tu_vec(n), *a = tu_vec(n), *b = tu_vec(n), gg[4];
    field_radial(0.0, n, 2, V, gg, s);
    double mu[2] = {0.5, -0.3}, Sig[4] = {0.4, 0.05, 0.05, 0.3};
    tu_gaussian(s, mu, Sig, p);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "2-D volume");
    CHECK_STATUS(berg_fp_set_threads(fp, 1), BERG_OK, "1 thread");
    CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 0.5, 0.0, p, a, field_radial, s), BERG_OK,
                 "1 thread");
    CHECK_STATUS(berg_fp_set_threads(fp, 2), BERG_OK, "2 threads");
    CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 0.5, 0.0, p, b, field_radial, s), BERG_OK,
                 "2 threads");
    CHECK(memcmp(a, b, n * sizeof(double)) == 0, "2 line threads: bitwise the 1-thread result");
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(a);
    free(b);
}

/* ---- refusals ------------------------------------------------------------- */
static int cancel_progress(double fraction, size_t iteration, double error, void *ud)
{
    (void)iteration;
    (void)error;
    (void)ud;
    return fraction > 0.3;
}

static void test_refusals(void)
{
    for (int fourier = 0; fourier <= 1; fourier++) {
        berg_space *s = fourier ? tu_line(64, -10.0, 10.0, BERG_PERIODIC)
                                : tu_line(100, -8.0, 8.0, BERG_NEUMANN);
        size_t n = berg_space_size(s);
        const char *what = fourier ? "fourier" : "volume";
        double *p = tu_vec(n), *out = tu_vec(n);
        gauss1(s, 0.3, 0.5, p);
        berg_fp *fp = fp_1d(s, fourier ? BERG_FP_FOURIER | BERG_PLAN_ESTIMATE : 0, 1e-8);
        struct {
            int mode;
            berg_status want;
            const char *fragment;
        } cases[] = {{1, BERG_ERR_CALLBACK, "V[3]"},
                     {2, BERG_ERR_NOT_SPD, "g(t"},
                     {3, BERG_ERR_CALLBACK, "returned 7"},
                     {4, BERG_ERR_DOMAIN, "e^{-V(t)/2} is not resolved"},
                     {5, BERG_ERR_DOMAIN, "p e^{V(t)/2} is not resolved"}};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            if (cases[k].mode == 4 && !fourier)
                continue;
            ou1 o = {s, 1, cases[k].mode, 0.5, 0};
            if (cases[k].mode == 5) {
                if (!fourier)
                    continue;
                o.bad_after = 0.0;
            }
            tu_fill(out, n, -7.0);
            CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.0, 0.0, p, out, field_ou1, &o),
                         cases[k].want, "%s: bad field from t = 0.5 (mode %d)", what,
                         cases[k].mode);
            CHECK_MESSAGE(cases[k].fragment, "names what was wrong");
            CHECK_MESSAGE(cases[k].mode == 5 ? "at t = 0.0" : "t = 0.5", "names the time");
            CHECK(tu_untouched(out, n, -7.0), "%s: out untouched (mode %d)", what,
                  cases[k].mode);
        }
        ou1 o = {s, 1, 0, INFINITY, 0};
        tu_fill(out, n, -7.0);
        CHECK_STATUS(berg_fp_evolve_field(fp, 1.0, 0.5, 0.0, p, out, field_ou1, &o),
                     BERG_ERR_TIME, "t1 < t0");
        CHECK_MESSAGE("t1", "names t1");
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, NAN, 0.0, p, out, field_ou1, &o),
                     BERG_ERR_TIME, "t1 NaN");
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.0, -0.1, p, out, field_ou1, &o),
                     BERG_ERR_DOMAIN, "negative step");
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.0, 1e-6, p, out, field_ou1, &o),
                     BERG_ERR_DOMAIN, "more than 20000 fixed steps");
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.0, 0.0, p, out, NULL, &o), BERG_ERR_NULL,
                     "field NULL");
        CHECK(tu_untouched(out, n, -7.0), "%s: out untouched (arguments)", what);
        /* cancellation */
        CHECK_STATUS(berg_fp_set_progress(fp, cancel_progress, NULL), BERG_OK, "progress");
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.0, 1.0, 0.0, p, out, field_ou1, &o),
                     BERG_ERR_CANCELLED, "cancelled");
        CHECK(tu_untouched(out, n, -7.0), "%s: out untouched (cancelled)", what);
        CHECK_STATUS(berg_fp_set_progress(fp, NULL, NULL), BERG_OK, "no progress");
        /* tables */
        double times[3] = {0.0, 0.5, 1.0}, *Vt = tu_vec(3 * n), gt[3] = {1.0, 1.0, 1.0};
        for (int k = 0; k < 3; k++)
            field_ou1(times[k], n, 1, Vt + k * n, gt + k, &o);
        double bad_times[3] = {0.0, 0.5, 0.5};
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 1.0, 0.0, 3, bad_times, Vt, gt, p, out),
                     BERG_ERR_DOMAIN, "times not increasing");
        CHECK_MESSAGE("times[1]", "names the knot");
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 1.5, 0.0, 3, times, Vt, gt, p, out),
                     BERG_ERR_DOMAIN, "t1 beyond the table");
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 1.0, 0.0, 1, times, Vt, gt, p, out),
                     BERG_ERR_SIZE, "one knot");
        gt[2] = -0.5;
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 1.0, 0.0, 3, times, Vt, gt, p, out),
                     BERG_ERR_NOT_SPD, "non-SPD g at a knot");
        CHECK_MESSAGE("knot 2", "names the knot");
        gt[2] = 1.0;
        Vt[n + 5] = INFINITY;
        CHECK_STATUS(berg_fp_evolve_table(fp, 0.0, 1.0, 0.0, 3, times, Vt, gt, p, out),
                     BERG_ERR_NONFINITE, "V at a knot");
        CHECK(tu_untouched(out, n, -7.0), "%s: out untouched (tables)", what);
        /* t1 = t0 copies */
        CHECK_STATUS(berg_fp_evolve_field(fp, 0.3, 0.3, 0.0, p, out, field_ou1, &o), BERG_OK,
                     "t1 = t0");
        CHECK(memcmp(out, p, n * sizeof(double)) == 0, "t1 = t0 copies in");
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(Vt);
        free(p);
        free(out);
    }
}

int main(void)
{
    test_ou_1d_adaptive();
    test_fixed_step_order();
    test_ou_2d_coupled_metric();
    test_from_equilibrium();
    test_table_vs_callback();
    test_time_independent();
    test_dirichlet_and_scale();
    test_threads();
    test_line_threads();
    test_refusals();
    return test_summary("test_fp_time");
}
