/* The SDE side (seed eq 27-37): particle ensembles against berg_fp (chi-square
 * test of the histogram), exact Ornstein-Uhlenbeck steps against the
 * Lyapunov closed form, a martingale check, and the lattice-field Langevin
 * flow of the stochastic RG against the free-field two-point function. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"
#include "ou_reference.h"

static int grad_dwell(size_t ndim, const double *x, double *g, void *ud)
{
    (void)ndim;
    (void)ud;
    g[0] = 4.0 * x[0] * (x[0] * x[0] - 1.0);
    return 0;
}

static int grad_fail(size_t ndim, const double *x, double *g, void *ud)
{
    (void)ndim;
    int *calls = ud;
    g[0] = x[0];
    return ++*calls > 3 ? 5 : 0;
}

static int grad_nan(size_t ndim, const double *x, double *g, void *ud)
{
    (void)ndim;
    (void)ud;
    g[0] = x[0] > 0.5 ? NAN : x[0];
    return 0;
}

/* upper 1 - alpha quantile of chi-square with k dof (Wilson-Hilferty), z = z_alpha */
static double chi2_quantile(int k, double z)
{
    double c = 2.0 / (9.0 * k);
    return k * pow(1.0 - c + z * sqrt(c), 3);
}

/* chi-square of the particle counts against the expected bin masses of p */
static double chi2_stat(const double *x, size_t count, const double *p, size_t N, double lo,
                        double h, size_t per_bin, int *dof)
{
    size_t nb = N / per_bin;
    double *obs = calloc(nb, sizeof(double)), *expct = calloc(nb, sizeof(double));
    for (size_t i = 0; i < N; i++)
        expct[i / per_bin] += p[i] * h * (double)count;
    for (size_t j = 0; j < count; j++) {
        long b = (long)floor((x[j] - lo) / (h * (double)per_bin));
        if (b >= 0 && (size_t)b < nb)
            obs[b] += 1.0;
    }
    /* pool bins with expected < 5 into one */
    double chi = 0, po = 0, pe = 0;
    int k = 0;
    for (size_t b = 0; b < nb; b++) {
        if (expct[b] >= 5.0) {
            chi += (obs[b] - expct[b]) * (obs[b] - expct[b]) / expct[b];
            k++;
        } else {
            po += obs[b];
            pe += expct[b];
        }
    }
    double outside = (double)count, inside = 0;
    for (size_t b = 0; b < nb; b++)
        inside += obs[b];
    po += outside - inside;
    pe += (double)count;
    for (size_t b = 0; b < nb; b++)
        pe -= expct[b];
    if (pe >= 5.0) {
        chi += (po - pe) * (po - pe) / pe;
        k++;
    }
    *dof = k - 1;
    free(obs);
    free(expct);
    return chi;
}

static void test_histogram_vs_fp(void)
{
    size_t N = 600, count = 10000;
    double lo = -3, hi = 3, h = 0.01;
    berg_boundary bc = BERG_NEUMANN;
    berg_space *s = NULL;
    berg_space_create(&s, 1, &N, &lo, &hi, &bc, NULL);
    double *V = malloc(N * sizeof(double)), *p = calloc(N, sizeof(double)),
           *pt = malloc(N * sizeof(double)), *pwrong = malloc(N * sizeof(double)),
           *hist = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        double x = lo + (i + 0.5) * h;
        V[i] = (x * x - 1) * (x * x - 1);
    }
    size_t i0 = 330;
    double x0 = lo + (i0 + 0.5) * h;
    p[i0] = 1.0 / h;
    berg_fp *fp = NULL;
    berg_fp_create(&fp, s, V, 0);
    berg_fp_evolve(fp, 0.6, p, pt);
    berg_fp_evolve(fp, 0.3, p, pwrong);
    double *x = malloc(count * sizeof(double));
    for (size_t j = 0; j < count; j++)
        x[j] = x0;
    berg_particles *ps = NULL;
    CHECK_STATUS(berg_particles_create(&ps, 1, 2024, NULL), BERG_OK, "particles");
    CHECK_STATUS(berg_particles_euler(ps, 2e-3, 300, count, x, grad_dwell, NULL), BERG_OK,
                 "Euler-Maruyama");
    int dof;
    double chi = chi2_stat(x, count, pt, N, lo, h, 20, &dof);
    double crit = chi2_quantile(dof, 3.0902); /* p-value 1e-3 */
    printf("particles vs berg_fp: chi2 = %.1f with %d dof (1e-3 critical value %.1f)\n", chi, dof,
           crit);
    CHECK(chi < crit, "histogram agrees with berg_fp: chi2 %g < %g (%d dof, p = 1e-3)", chi, crit,
          dof);
    double chi_w = chi2_stat(x, count, pwrong, N, lo, h, 20, &dof);
    CHECK(chi_w > chi2_quantile(dof, 3.0902), "the test has power: wrong time gives chi2 %g",
          chi_w);
    size_t outside = 99;
    CHECK_STATUS(berg_space_histogram(s, count, x, hist, &outside), BERG_OK, "histogram");
    double m;
    berg_space_integrate(s, hist, &m);
    CHECK_REL(m, 1.0 - (double)outside / (double)count, 1e-12, "histogram is a density");
    berg_particles_destroy(ps);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(pt);
    free(pwrong);
    free(hist);
    free(x);
}

static void test_ou_exact(void)
{
    size_t count = 40000;
    double g[4] = {1.0, 0.3, 0.3, 2.0}, A[4] = {1.0, 0.6, 0.6, 2.0}, m[2] = {0.5, -1.0};
    double det = g[0] * g[3] - g[1] * g[2];
    double gi[4] = {g[3] / det, -g[1] / det, -g[2] / det, g[0] / det}, B[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            B[i * 2 + j] = gi[i * 2] * A[j] + gi[i * 2 + 1] * A[2 + j];
    double x0[2] = {2.0, 1.0}, t = 0.7;
    /* closed form: mean m + e^{-Bt}(x0 - m) and the Lyapunov covariance, by RK4 */
    double mu[2] = {x0[0] - m[0], x0[1] - m[1]}, S[4] = {0, 0, 0, 0};
    ou_reference_2d(B, gi, t, mu, S);
    double *x = malloc(2 * count * sizeof(double));
    for (size_t j = 0; j < count; j++) {
        x[2 * j] = x0[0];
        x[2 * j + 1] = x0[1];
    }
    berg_particles *ps = NULL;
    CHECK_STATUS(berg_particles_create(&ps, 2, 99, g), BERG_OK, "particles 2-D");
    CHECK_STATUS(berg_particles_ou(ps, t, count, A, m, x), BERG_OK, "exact OU");
    double sm[2] = {0, 0}, sc[4] = {0, 0, 0, 0};
    for (size_t j = 0; j < count; j++)
        for (int a = 0; a < 2; a++)
            sm[a] += x[2 * j + a] / (double)count;
    for (size_t j = 0; j < count; j++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                sc[a * 2 + b] += (x[2 * j + a] - sm[a]) * (x[2 * j + b] - sm[b]) / (double)count;
    for (int a = 0; a < 2; a++) {
        double se = sqrt(S[a * 3] / (double)count);
        CHECK_ABS(sm[a], m[a] + mu[a], 5 * se, "OU mean %d within 5 standard errors", a);
        CHECK_ABS(sc[a * 3], S[a * 3], 5 * sqrt(2.0 / (double)count) * S[a * 3],
                  "OU variance %d vs Lyapunov", a);
    }
    CHECK_ABS(sc[1], S[1], 5 * sqrt((S[0] * S[3] + S[1] * S[1]) / (double)count),
              "OU covariance vs Lyapunov");
    /* reproducible */
    double *y = malloc(2 * count * sizeof(double)), *z = malloc(2 * count * sizeof(double));
    berg_particles *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;
    berg_particles_create(&p1, 2, 5, g);
    berg_particles_create(&p2, 2, 5, g);
    berg_particles_create(&p3, 2, 6, g);
    berg_particles_create(&p4, 2, 5, g);
    for (size_t i = 0; i < 2 * count; i++)
        y[i] = z[i] = 0.1;
    berg_particles_ou(p1, 0.3, 100, A, m, y);
    berg_particles_ou(p2, 0.3, 100, A, m, z);
    CHECK(memcmp(y, z, 200 * sizeof(double)) == 0, "same seed, same ensemble");
    /* fresh handles, first call, identical inputs: only the seed differs */
    for (size_t i = 0; i < 200; i++)
        y[i] = z[i] = 0.1;
    berg_particles_ou(p3, 0.3, 100, A, m, z);
    berg_particles_ou(p4, 0.3, 100, A, m, y);
    CHECK(memcmp(y, z, 200 * sizeof(double)) != 0, "different seeds differ");
    berg_particles_destroy(p1);
    berg_particles_destroy(p2);
    berg_particles_destroy(p3);
    berg_particles_destroy(p4);
    berg_particles_destroy(ps);
    free(x);
    free(y);
    free(z);
}

/* eq 28-30: u(s, x) = E[f(X_T) | X_s = x] solves the backward equation
 * du/ds + A u = 0; for V = a x^2 / 2 and f = x^2,
 * u(s, x) = x^2 e^{-2a(T-s)} + (1 - e^{-2a(T-s)}) / a, and M_s = u(s, X_s)
 * is a martingale: E[M_s - M_0] = 0 and E[(M_{s'} - M_s) X_s] = 0. */
static void test_martingale(void)
{
    size_t count = 50000;
    int K = 8;
    double a = 1.5, T = 1.2, ds = T / K;
    double *x = malloc(count * sizeof(double)), *M0 = malloc(count * sizeof(double)),
           *Mprev = malloc(count * sizeof(double)), *xprev = malloc(count * sizeof(double));
    unsigned long long st = 3;
    for (size_t j = 0; j < count; j++)
        x[j] = 1.0 + 0.5 * (tu_uniform(&st) - 0.5);
    berg_particles *ps = NULL;
    berg_particles_create(&ps, 1, 77, NULL);
    double worst_mean = 0, worst_orth = 0, naive_drift = 0;
    for (size_t j = 0; j < count; j++)
        M0[j] = Mprev[j] = x[j] * x[j] * exp(-2 * a * T) + -expm1(-2 * a * T) / a;
    double naive0 = 0;
    for (size_t j = 0; j < count; j++)
        naive0 += x[j] * x[j] / (double)count;
    for (int k = 1; k <= K; k++) {
        memcpy(xprev, x, count * sizeof(double));
        berg_particles_ou(ps, ds, count, &a, NULL, x);
        double s = k * ds, sum = 0, sum2 = 0, so = 0, so2 = 0, naive = 0;
        for (size_t j = 0; j < count; j++) {
            double M = x[j] * x[j] * exp(-2 * a * (T - s)) + -expm1(-2 * a * (T - s)) / a;
            double dM = M - M0[j], inc = (M - Mprev[j]) * xprev[j];
            sum += dM;
            sum2 += dM * dM;
            so += inc;
            so2 += inc * inc;
            naive += x[j] * x[j] / (double)count;
            Mprev[j] = M;
        }
        double n = (double)count;
        double z1 = fabs(sum / n) / sqrt((sum2 / n - (sum / n) * (sum / n)) / n);
        double z2 = fabs(so / n) / sqrt((so2 / n - (so / n) * (so / n)) / n);
        worst_mean = fmax(worst_mean, z1);
        worst_orth = fmax(worst_orth, z2);
        naive_drift = fmax(naive_drift, fabs(naive - naive0));
    }
    CHECK(worst_mean < 4.5, "E[M_s - M_0] = 0 within 4.5 standard errors: %g", worst_mean);
    CHECK(worst_orth < 4.5, "increments orthogonal to the past: %g", worst_orth);
    CHECK(naive_drift > 0.3, "X_s^2 itself is no martingale (drift %g): the test has power",
          naive_drift);
    berg_particles_destroy(ps);
    free(x);
    free(M0);
    free(Mprev);
    free(xprev);
}

static void test_particles_bad_input(void)
{
    berg_particles *ps = NULL;
    double g_bad[4] = {1, 2, 2, 1}, g_asym[4] = {1, 0.1, 0.2, 1}, A_asym[4] = {1, 0.1, 0.2, 1};
    CHECK_STATUS(berg_particles_create(NULL, 1, 0, NULL), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_particles_create(&ps, 0, 0, NULL), BERG_ERR_DOMAIN, "ndim 0");
    CHECK_STATUS(berg_particles_create(&ps, 2, 0, g_bad), BERG_ERR_NOT_SPD, "indefinite metric");
    CHECK_STATUS(berg_particles_create(&ps, 2, 0, g_asym), BERG_ERR_NOT_SPD, "asymmetric metric");
    CHECK(ps == NULL, "out untouched");
    CHECK_STATUS(berg_particles_create(&ps, 1, 1, NULL), BERG_OK, "create");
    double x[4] = {0.1, 0.2, 0.3, 0.4}, keep[4];
    memcpy(keep, x, sizeof x);
    int calls = 0;
    CHECK_STATUS(berg_particles_euler(ps, 0.1, 1, 0, x, grad_dwell, NULL), BERG_ERR_SIZE,
                 "zero particles");
    CHECK_STATUS(berg_particles_euler(ps, -0.1, 1, 4, x, grad_dwell, NULL), BERG_ERR_TIME,
                 "negative dt");
    CHECK_STATUS(berg_particles_euler(ps, 0.1, 1, 4, x, NULL, NULL), BERG_ERR_NULL, "NULL grad");
    CHECK_STATUS(berg_particles_euler(ps, 0.01, 2, 4, x, grad_fail, &calls), BERG_ERR_CALLBACK,
                 "failing callback");
    CHECK_MESSAGE("returned 5", "callback code reported");
    CHECK_STATUS(berg_particles_euler(ps, 0.01, 100, 4, x, grad_nan, NULL), BERG_ERR_CALLBACK,
                 "NaN gradient");
    CHECK(memcmp(x, keep, sizeof x) == 0, "particles untouched after failures");
    double A1 = 1.0;
    CHECK_STATUS(berg_particles_ou(ps, 1.0, 0, &A1, NULL, x), BERG_ERR_SIZE, "OU zero particles");
    CHECK_STATUS(berg_particles_ou(ps, -1.0, 4, &A1, NULL, x), BERG_ERR_TIME, "OU negative t");
    x[2] = NAN;
    CHECK_STATUS(berg_particles_ou(ps, 1.0, 4, &A1, NULL, x), BERG_ERR_NONFINITE, "NaN particle");
    x[2] = 0.3;
    berg_particles *p2 = NULL;
    berg_particles_create(&p2, 2, 1, NULL);
    CHECK_STATUS(berg_particles_ou(p2, 1.0, 2, A_asym, NULL, x), BERG_ERR_NOT_SPD,
                 "asymmetric A");
    CHECK(memcmp(x, keep, sizeof x) == 0, "particles untouched");
    berg_space *s = NULL;
    size_t n = 4;
    double lo = 0, hi = 1;
    berg_space_create(&s, 1, &n, &lo, &hi, NULL, NULL);
    double hist[4];
    tu_fill(hist, 4, 42.0);
    CHECK_STATUS(berg_space_histogram(s, 0, x, hist, NULL), BERG_ERR_SIZE, "histogram 0");
    CHECK(tu_untouched(hist, 4, 42.0), "hist untouched");
    /* periodic wrap */
    double xw[3] = {1.1, -0.1, 0.5};
    CHECK_STATUS(berg_space_histogram(s, 3, xw, hist, NULL), BERG_OK, "histogram wraps");
    CHECK(hist[0] > 0 && hist[3] > 0 && hist[2] > 0, "wrapped into cells 0, 3, 2");
    berg_space_destroy(s);
    berg_particles_destroy(p2);
    berg_particles_destroy(ps);
    berg_particles_destroy(NULL);
}

/* ---- lattice field -------------------------------------------------------- */

typedef struct {
    size_t n;
    double h, m2;
    int fail_at, calls;
} free_field;

/* dS/dphi of S = (w/2) sum phi (-Delta_h + m^2) phi on a periodic ring */
static int free_grad(size_t size, const double *phi, double *g, void *ud)
{
    free_field *f = ud;
    if (f->fail_at && ++f->calls >= f->fail_at)
        return -7;
    for (size_t i = 0; i < size; i++) {
        double l = phi[(i + 1) % size], r = phi[(i + size - 1) % size];
        g[i] = -(l - 2 * phi[i] + r) / (f->h * f->h) + f->m2 * phi[i];
    }
    return 0;
}

static int reg_exp(size_t ndim, const double *k, double *c, void *ud)
{
    (void)ud;
    double k2 = 0;
    for (size_t a = 0; a < ndim; a++)
        k2 += k[a] * k[a];
    *c = exp(-k2 / 4.0);
    return 0;
}

static int reg_neg(size_t ndim, const double *k, double *c, void *ud)
{
    (void)ndim;
    (void)ud;
    *c = k[0] > 1.0 ? -1.0 : 1.0;
    return 0;
}

static void test_langevin_field(void)
{
    size_t n = 32;
    /* h = 1/2 so that w = 1/2: a misplaced cell weight changes every variance */
    double lo = 0, hi = 16, h = 0.5, w = 0.5, dt = 0.05;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    free_field ff = {n, h, 1.0, 0, 0};
    berg_langevin *lf = NULL;
    CHECK_STATUS(berg_langevin_create(&lf, s, 12345, reg_exp, NULL), BERG_OK, "langevin");
    if (!lf) {
        berg_space_destroy(s);
        return;
    }
    double phi[32] = {0};
    berg_langevin_step(lf, dt, 400, phi, free_grad, &ff); /* burn-in: 20 relaxation times */
    /* closed form of the Euler-Maruyama chain: each Fourier mode is an AR(1)
     * (discretized OU) with a_k = dt c(k) K(k), variance 1/(w K (1 - a/2)) */
    double G[5], Gm[5] = {0}, a[32], var[32];
    for (size_t m = 0; m < n; m++) {
        double k = 2 * M_PI * (double)(m <= n / 2 ? (double)m : (double)m - (double)n) / (n * h);
        double K = 4 / (h * h) * pow(sin(k * h / 2), 2) + ff.m2;
        double c = exp(-k * k / 4.0);
        a[m] = dt * c * K;
        var[m] = 1.0 / (w * K * (1 - a[m] / 2));
    }
    for (int r = 0; r < 5; r++) {
        G[r] = 0;
        for (size_t m = 0; m < n; m++) {
            double k = 2 * M_PI * (double)m / (double)n;
            G[r] += cos(k * r) * var[m] / (double)n;
        }
    }
    /* 10^5 steps: the mode-0 variance (an AR(1) with factor 0.95) then has a
     * relative standard error of 2.0% and is checked at 5 sigma */
    int S = 100000;
    double c01 = 0, m0sq = 0, m1sq = 0, lag_sum = 0;
    int lag = 10;
    double hist0[10] = {0};
    for (int t = 0; t < S; t++) {
        berg_langevin_step(lf, dt, 1, phi, free_grad, &ff);
        for (int r = 0; r < 5; r++)
            for (size_t i = 0; i < n; i++)
                Gm[r] += phi[i] * phi[(i + (size_t)r) % n] / ((double)n * S);
        /* Fourier amplitudes of modes 0 and 1 (cosine part) */
        double f0 = 0, f1 = 0;
        for (size_t i = 0; i < n; i++) {
            f0 += phi[i] / (double)n;
            f1 += phi[i] * cos(2 * M_PI * (double)i / (double)n) / (double)n;
        }
        c01 += f0 * f1 / S;
        m0sq += f0 * f0 / S;
        m1sq += f1 * f1 / S;
        if (t >= lag)
            lag_sum += f0 * hist0[t % lag] / (S - lag);
        hist0[t % lag] = f0;
    }
    for (int r = 0; r < 5; r++)
        CHECK_ABS(Gm[r], G[r], 0.04 * G[0], "free field two-point function G(%d)", r);
    printf("free field: G(0) measured %.4f closed form %.4f; G(1) %.4f vs %.4f\n", Gm[0], G[0],
           Gm[1], G[1]);
    /* modes independent, mode 0 an AR(1) with factor (1 - a_0) */
    CHECK(fabs(c01) < 0.1 * sqrt(m0sq * m1sq), "modes 0 and 1 uncorrelated: %g", c01);
    double rho0 = 1 - a[0];
    double se0 = var[0] / n * sqrt(2.0 / S * (1 + rho0 * rho0) / (1 - rho0 * rho0));
    CHECK_ABS(m0sq, var[0] / n, 5 * se0, "mode 0 variance (5 standard errors)");
    CHECK_ABS(lag_sum / m0sq, pow(1 - a[0], lag), 0.1, "mode 0 autocorrelation at lag %d", lag);
    /* reproducible */
    berg_langevin *l2 = NULL, *l3 = NULL, *l4 = NULL;
    berg_langevin_create(&l2, s, 5, reg_exp, NULL);
    berg_langevin_create(&l3, s, 5, reg_exp, NULL);
    double p2[32] = {0}, p3[32] = {0};
    berg_langevin_step(l2, dt, 10, p2, free_grad, &ff);
    berg_langevin_step(l3, dt, 10, p3, free_grad, &ff);
    CHECK(memcmp(p2, p3, sizeof p2) == 0, "same seed, same field");
    /* the built-in regulator gives the same flow as the equal callback */
    berg_langevin *l5 = NULL, *l6 = NULL;
    CHECK_STATUS(berg_langevin_create_regulator(&l5, s, BERG_REGULATOR_EXPONENTIAL, 2.0, 9),
                 BERG_OK, "built-in regulator");
    berg_langevin_create(&l6, s, 9, reg_exp, NULL);
    double p5[32] = {0}, p6[32] = {0};
    if (l5 && l6) {
        berg_langevin_step(l5, dt, 20, p5, free_grad, &ff);
        berg_langevin_step(l6, dt, 20, p6, free_grad, &ff);
        CHECK(tu_max_abs_diff(p5, p6, 32) < 1e-12, "built-in exponential regulator = callback");
    }
    CHECK_STATUS(berg_langevin_create_regulator(&l4, s, (berg_regulator)99, 2.0, 9),
                 BERG_ERR_DOMAIN, "unknown regulator kind");
    CHECK_STATUS(berg_langevin_create_regulator(&l4, s, BERG_REGULATOR_LITIM, -1.0, 9),
                 BERG_ERR_DOMAIN, "negative lambda");
    berg_langevin_destroy(l5);
    berg_langevin_destroy(l6);
    /* bad input */
    double keep[32];
    memcpy(keep, p2, sizeof p2);
    ff.fail_at = 3;
    ff.calls = 0;
    CHECK_STATUS(berg_langevin_step(l2, dt, 10, p2, free_grad, &ff), BERG_ERR_CALLBACK,
                 "failing action gradient");
    CHECK(memcmp(keep, p2, sizeof p2) == 0, "field untouched after a failure");
    CHECK_STATUS(berg_langevin_step(l2, -dt, 10, p2, free_grad, &ff), BERG_ERR_TIME,
                 "negative dt");
    CHECK_STATUS(berg_langevin_step(l2, dt, 10, p2, NULL, &ff), BERG_ERR_NULL, "NULL grad");
    CHECK_STATUS(berg_langevin_create(&l4, s, 5, reg_neg, NULL), BERG_ERR_DOMAIN,
                 "negative regulator");
    CHECK(l4 == NULL, "no handle");
    berg_space *sn = NULL;
    berg_boundary bn = BERG_NEUMANN;
    berg_space_create(&sn, 1, &n, &lo, &hi, &bn, NULL);
    CHECK_STATUS(berg_langevin_create(&l4, sn, 5, reg_exp, NULL), BERG_ERR_UNSUPPORTED,
                 "non-periodic lattice");
    CHECK_STATUS(berg_langevin_create(&l4, s, 5, NULL, NULL), BERG_ERR_NULL, "NULL regulator");
    berg_space_destroy(sn);
    berg_langevin_destroy(l2);
    berg_langevin_destroy(l3);
    berg_langevin_destroy(lf);
    berg_langevin_destroy(NULL);
    berg_space_destroy(s);
}

/* exp(-|k|_g^2 / 32) with g^{-1} = ginv (2-D): on a coupled metric it differs
 * between the two k that a Nyquist corner mode stands for */
static int reg_coupled(size_t ndim, const double *k, double *c, void *ud)
{
    const double *gi = ud;
    (void)ndim;
    double k2 = gi[0] * k[0] * k[0] + 2 * gi[1] * k[0] * k[1] + gi[3] * k[1] * k[1];
    *c = exp(-k2 / 32.0);
    return 0;
}

/* dS/dphi of S = (w/2) m^2 sum phi^2: every mode decouples with K = m^2 */
static int mass_grad(size_t size, const double *phi, double *g, void *ud)
{
    const double *m2 = ud;
    for (size_t i = 0; i < size; i++)
        g[i] = *m2 * phi[i];
    return 0;
}

/* 8 x 8 periodic, h = 1/2, metric {1, .6; .6, 1}: the corner mode k = (2 pi,
 * 2 pi) = (2 pi, -2 pi) carries the mean c of the symbol over both. The
 * Euler-Maruyama chain of that mode is an AR(1) with a = dt c m^2 and
 * stationary variance 1 / (w m^2 (1 - a/2)) (times 1/N for the amplitude):
 * exact only if drift and noise use the same c (a noise symbol built from
 * the mean of sqrt(c) gave 0.59 of it, 19 standard errors off, seed 7). */
static void test_langevin_nyquist(void)
{
    size_t n[2] = {8, 8}, N = 64;
    double lo[2] = {0, 0}, hi[2] = {4, 4}, g[4] = {1, 0.6, 0.6, 1}, det = 0.64;
    double gi[4] = {1 / det, -0.6 / det, -0.6 / det, 1 / det};
    berg_space *s = tu_space(2, n, lo, hi, NULL, g);
    berg_langevin *lf = NULL;
    double w = 0.0;
    if (!s)
        return;
    w = berg_space_cell_weight(s);
    CHECK_REL(w, 0.8 * 0.25, 1e-15, "cell weight sqrt(det g) h^2");
    CHECK_STATUS(berg_langevin_create(&lf, s, 7, reg_coupled, gi), BERG_OK, "langevin 2-D");
    if (!lf) {
        berg_space_destroy(s);
        return;
    }
    double dt = 0.9, m2 = 2.0, phi[64] = {0};
    double kp[2] = {2 * M_PI, 2 * M_PI}, km[2] = {2 * M_PI, -2 * M_PI}, cp, cm;
    reg_coupled(2, kp, &cp, gi);
    reg_coupled(2, km, &cm, gi);
    double a = dt * m2 * 0.5 * (cp + cm), a0 = dt * m2; /* c(0) = 1 */
    double var = 1 / (w * m2 * (1 - a / 2)) / (double)N;
    double var0 = 1 / (w * m2 * (1 - a0 / 2)) / (double)N;
    CHECK_STATUS(berg_langevin_step(lf, dt, 200, phi, mass_grad, &m2), BERG_OK, "burn-in");
    int S = 20000;
    double acc = 0, acc0 = 0;
    for (int t = 0; t < S; t++) {
        berg_langevin_step(lf, dt, 1, phi, mass_grad, &m2);
        double f = 0, f0 = 0;
        for (size_t i = 0; i < 8; i++)
            for (size_t j = 0; j < 8; j++) {
                f += phi[i * 8 + j] * (((i + j) & 1) ? -1.0 : 1.0) / (double)N;
                f0 += phi[i * 8 + j] / (double)N;
            }
        acc += f * f / S;
        acc0 += f0 * f0 / S;
    }
    /* standard error of the mean square of a Gaussian AR(1) with factor rho */
    double r = 1 - a, r0 = 1 - a0;
    double se = var * sqrt(2.0 / S * (1 + r * r) / (1 - r * r));
    double se0 = var0 * sqrt(2.0 / S * (1 + r0 * r0) / (1 - r0 * r0));
    CHECK_ABS(acc, var, 5 * se, "Nyquist corner mode variance (5 standard errors)");
    CHECK_ABS(acc0, var0, 5 * se0, "mode 0 variance on the coupled metric (5 standard errors)");
    /* the noise of the handle's s-th step is stream s: one call of 7 steps
     * equals 7 calls of one step */
    berg_langevin *l1 = NULL, *l2 = NULL;
    berg_langevin_create(&l1, s, 11, reg_coupled, gi);
    berg_langevin_create(&l2, s, 11, reg_coupled, gi);
    double p1[64] = {0}, p2[64] = {0};
    if (l1 && l2) {
        berg_langevin_step(l1, dt, 7, p1, mass_grad, &m2);
        for (int k = 0; k < 7; k++)
            berg_langevin_step(l2, dt, 1, p2, mass_grad, &m2);
        CHECK(memcmp(p1, p2, sizeof p1) == 0, "7 steps in one call = 7 calls of one step");
        /* from the same field, the 9th step draws other noise than the 8th */
        memset(p1, 0, sizeof p1);
        memset(p2, 0, sizeof p2);
        berg_langevin_step(l1, dt, 1, p1, mass_grad, &m2);
        berg_langevin_step(l1, dt, 1, p2, mass_grad, &m2);
        CHECK(memcmp(p1, p2, sizeof p1) != 0, "each step draws new noise");
    }
    berg_langevin_destroy(l1);
    berg_langevin_destroy(l2);
    berg_langevin_destroy(lf);
    berg_space_destroy(s);
}

/* ---- threads: handles created and used in several threads at once ------- */

typedef struct {
    const berg_space *s, *ring;
    const double *V, *p;
    double out[64], phi[32];
    int ok;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    berg_fp *fp = NULL;
    berg_langevin *lf = NULL;
    free_field ff = {32, 1.0, 1.0, 0, 0};
    j->ok = berg_fp_create(&fp, j->s, j->V, 0) == BERG_OK &&
            berg_fp_evolve(fp, 0.3, j->p, j->out) == BERG_OK &&
            berg_langevin_create(&lf, j->ring, 5, reg_exp, NULL) == BERG_OK &&
            berg_langevin_step(lf, 0.05, 10, j->phi, free_grad, &ff) == BERG_OK;
    berg_fp_destroy(fp);
    berg_langevin_destroy(lf);
    return NULL;
}

static void test_threads(void)
{
    size_t n = 64, nr = 32;
    double lo = -3, hi = 3, rlo = 0, rhi = 32, V[64], p[64];
    berg_boundary bc = BERG_NEUMANN;
    berg_space *s = NULL, *ring = NULL;
    berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    berg_space_create(&ring, 1, &nr, &rlo, &rhi, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        double x = lo + (i + 0.5) * 6.0 / (double)n;
        V[i] = (x * x - 1) * (x * x - 1);
        p[i] = (i > 40 && i < 50) ? 1.0 : 0.0;
    }
    job ref = {s, ring, V, p, {0}, {0}, 0}, jobs[4];
    run_job(&ref);
    CHECK(ref.ok, "sequential job");
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        jobs[k] = ref;
        memset(jobs[k].out, 0, sizeof jobs[k].out);
        memset(jobs[k].phi, 0, sizeof jobs[k].phi);
        jobs[k].ok = 0;
        pthread_create(&th[k], NULL, run_job, &jobs[k]);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        CHECK(jobs[k].ok, "thread %d ran", k);
        CHECK(memcmp(jobs[k].out, ref.out, sizeof ref.out) == 0 &&
                  memcmp(jobs[k].phi, ref.phi, sizeof ref.phi) == 0,
              "thread %d: same results as sequentially", k);
    }
    berg_space_destroy(s);
    berg_space_destroy(ring);
}

int main(void)
{
    test_threads();
    test_particles_bad_input();
    test_histogram_vs_fp();
    test_ou_exact();
    test_martingale();
    test_langevin_field();
    test_langevin_nyquist();
    return test_summary("fp_sde");
}
