/* tests of berg_bayes: posterior against closed forms, log-domain accumulation
 * of 10^6 observations, expected-data flow and its replicator equation,
 * trajectories, predictive, Wick asymptotics, Bayesian diffusion = heat,
 * and bad input leaving the state unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
    double sigma;      /* normal noise sd */
    double a, c;       /* G(u) = a u + c */
    double nan_above;  /* the noise callback returns NaN for n above this */
} model;

static int G_affine(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    const model *m = ud;
    y[0] = m->a * u[0] + m->c;
    return 0;
}

static int normal_logpdf(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    const model *m = ud;
    if (n[0] > m->nan_above) {
        *lp = NAN;
        return 0;
    }
    *lp = -0.5 * n[0] * n[0] / (m->sigma * m->sigma) - 0.5 * log(2 * M_PI * m->sigma * m->sigma);
    return 0;
}

static int laplace_logpdf(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    (void)ud;
    *lp = -fabs(n[0]) - log(2.0);
    return 0;
}

static int normal_loglik(size_t du, const double *u, size_t dy, const double *y, double *lp,
                         void *ud)
{
    (void)du;
    double n = y[0] - (((const model *)ud)->a * u[0] + ((const model *)ud)->c);
    return normal_logpdf(dy, &n, lp, ud);
}

static int failing_G(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[0];
    return u[0] > 1.0 ? 7 : 0;
}

static void coords(const berg_space *s, double *x)
{
    berg_space_coordinates(s, 0, x);
}

static void test_normal_posterior(void)
{
    model M = {1.5, 1.0, 0.0, HUGE_VAL};
    berg_space *U = tu_line(401, -1.0, 3.0, BERG_NEUMANN);
    berg_space *Y = tu_line(512, -10.0, 10.0, BERG_NEUMANN);
    size_t nu = 401;
    double *flat = malloc(nu * sizeof *flat), *pi = malloc(nu * sizeof *pi);
    double *want = malloc(nu * sizeof *want), *pi2 = malloc(nu * sizeof *pi2);
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    berg_bayes *b = NULL, *b2 = NULL, *b3 = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, flat, 0), BERG_OK, "create");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &M), BERG_OK,
                 "set_location");
    double y[50], ybar = 0.0;
    unsigned long long seed = 42;
    for (int k = 0; k < 50; k++) {
        y[k] = 1.0 + 3.0 * (tu_uniform(&seed) - 0.5);
        ybar += y[k] / 50;
    }
    CHECK_STATUS(berg_bayes_observe(b, 50, y), BERG_OK, "observe batch");
    berg_bayes_posterior(b, pi);
    tu_gaussian1(U, ybar, M.sigma * M.sigma / 50, want);
    CHECK(tu_max_abs_diff(pi, want, nu) < 1e-12 * 3.0, "posterior = N(ybar, sigma^2/T): %.3g",
          tu_max_abs_diff(pi, want, nu));
    CHECK(berg_bayes_time(b) == 50.0, "T = 50 observations");
    /* one at a time gives the same posterior */
    berg_bayes_create(&b2, U, Y, flat, 0);
    berg_bayes_set_location(b2, NULL, NULL, G_affine, normal_logpdf, &M);
    for (int k = 0; k < 50; k++)
        berg_bayes_observe(b2, 1, &y[k]);
    berg_bayes_posterior(b2, pi2);
    CHECK(tu_max_abs_diff(pi, pi2, nu) < 1e-12, "one at a time = batch: %.3g",
          tu_max_abs_diff(pi, pi2, nu));
    /* general log-likelihood model: the same posterior */
    berg_bayes_create(&b3, U, Y, flat, 0);
    berg_bayes_set_loglik(b3, normal_loglik, &M);
    berg_bayes_observe(b3, 50, y);
    berg_bayes_posterior(b3, pi2);
    CHECK(tu_max_abs_diff(pi, pi2, nu) < 1e-12, "loglik model = location model");
    double u, mean, var;
    CHECK_STATUS(berg_bayes_map(b, &u), BERG_OK, "map");
    CHECK_ABS(u, ybar, 1e-10, "MAP = ybar (parabola exact on a quadratic log posterior)");
    berg_bayes_mean(b, &mean, &var);
    CHECK_ABS(mean, ybar, 1e-14, "mean"); /* measured 2.2e-16 */
    CHECK_REL(var, M.sigma * M.sigma / 50, 1e-13, "variance"); /* measured 6.2e-16 */

    /* failed observations leave the state unchanged */
    double lp_before[401], lp_after[401];
    berg_bayes_log_posterior(b, lp_before);
    double bad[3] = {0.5, 11.0, 0.2};
    CHECK_STATUS(berg_bayes_observe(b, 3, bad), BERG_ERR_OUT_OF_RANGE, "data outside the box");
    CHECK_MESSAGE("observation 1", "names the observation");
    double nanobs[2] = {0.5, NAN};
    CHECK_STATUS(berg_bayes_observe(b, 2, nanobs), BERG_ERR_NONFINITE, "NaN datum");
    M.nan_above = 4.0;
    double cb[2] = {0.5, 9.0}; /* n = 9 - u > 4: the callback returns NaN */
    CHECK_STATUS(berg_bayes_observe(b, 2, cb), BERG_ERR_CALLBACK, "callback NaN");
    M.nan_above = HUGE_VAL;
    berg_bayes_log_posterior(b, lp_after);
    CHECK(memcmp(lp_before, lp_after, sizeof lp_before) == 0, "state unchanged after failures");
    CHECK(berg_bayes_time(b) == 50.0, "T unchanged");
    CHECK_STATUS(berg_bayes_expected(b, 1.0), BERG_ERR_DOMAIN, "expected without a truth");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, failing_G, normal_logpdf, &M),
                 BERG_ERR_CALLBACK, "G fails");
    berg_bayes_log_posterior(b, lp_after);
    CHECK(memcmp(lp_before, lp_after, sizeof lp_before) == 0, "state unchanged after failed G");

    /* grid noise, compactly supported: impossible data */
    berg_space *N = tu_line(200, -1.0, 1.0, BERG_NEUMANN);
    double unif[200];
    for (int j = 0; j < 200; j++)
        unif[j] = 1.0;
    berg_bayes *bu = NULL;
    berg_bayes_create(&bu, U, Y, flat, 0);
    CHECK_STATUS(berg_bayes_set_location(bu, N, unif, G_affine, NULL, &M), BERG_OK, "grid noise");
    double y1 = 1.0, yfar = 8.0;
    CHECK_STATUS(berg_bayes_observe(bu, 1, &y1), BERG_OK, "possible datum");
    berg_bayes_posterior(bu, pi2);
    /* posterior uniform on [0, 2] (the cells whose noise n = 1 - u lies in the noise box) */
    CHECK(pi2[200] > 0.4 && pi2[200] == pi2[150] && pi2[200] == pi2[250], "uniform posterior inside");
    CHECK_ABS(pi2[50], 0.0, 0.0, "zero outside");
    berg_bayes_log_posterior(bu, lp_before);
    CHECK_STATUS(berg_bayes_observe(bu, 1, &yfar), BERG_ERR_MASS, "impossible datum");
    berg_bayes_log_posterior(bu, lp_after);
    CHECK(memcmp(lp_before, lp_after, sizeof lp_before) == 0, "state unchanged after MASS");
    CHECK_STATUS(berg_bayes_set_location(bu, N, unif, G_affine, normal_logpdf, &M), BERG_ERR_NULL,
                 "two noises");
    berg_bayes_destroy(bu);
    berg_space_destroy(N);

    berg_bayes_destroy(b);
    berg_bayes_destroy(b2);
    berg_bayes_destroy(b3);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(flat);
    free(pi);
    free(pi2);
    free(want);
}

/* 10^6 observations: no underflow, closed form to 1e-9 in the log (measured
 * 3.5e-11; with the Neumaier compensation of berg_bayes_observe replaced by
 * a plain sum, 5.7e-8, and the mean and variance checks fail too) */
static void test_million(void)
{
    model M = {1.0, 1.0, 0.0, HUGE_VAL};
    size_t K = 1000000;
    double *y = malloc(K * sizeof *y), ybar = 0.0;
    for (size_t k = 0; k < K; k++) {
        double f = fmod((double)k * 0.6180339887498949, 1.0);
        y[k] = 0.3 + sqrt(3.0) * (2.0 * f - 1.0);
    }
    for (size_t k = 0; k < K; k++)
        ybar += y[k];
    ybar /= (double)K;
    size_t nu = 101;
    berg_space *U = tu_line(nu, ybar - 0.01, ybar + 0.01, BERG_NEUMANN);
    berg_space *Y = tu_line(64, -5.0, 5.0, BERG_NEUMANN);
    double flat[101], lp[101], x[101];
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    coords(U, x);
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, flat, 0);
    berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &M);
    CHECK_STATUS(berg_bayes_observe(b, K / 2, y), BERG_OK, "first half");
    CHECK_STATUS(berg_bayes_observe(b, K - K / 2, y + K / 2), BERG_OK, "second half");
    berg_bayes_log_posterior(b, lp);
    double err = 0.0;
    for (size_t i = 0; i < nu; i++) {
        double want = -0.5 * (double)K * ((x[i] - ybar) * (x[i] - ybar) - (x[50] - ybar) * (x[50] - ybar));
        err = fmax(err, fabs((lp[i] - lp[50]) - want));
    }
    CHECK(err < 1e-9, "log posterior of 10^6 observations: max error %.3g", err);
    double mean, var;
    berg_bayes_mean(b, &mean, &var);
    CHECK_ABS(mean, ybar, 1e-13, "mean of the 10^6-observation posterior"); /* 3.4e-15 */
    CHECK_REL(var, 1e-6, 1e-12, "variance 1/T");                            /* 1.7e-14 */
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(y);
}

/* expected-data flow of the normal model with a normal prior */
static void test_expected_flow(void)
{
    model M = {1.0, 1.0, 0.0, HUGE_VAL};
    double m0 = 0.0, s0 = 1.0, ustar = 1.2;
    size_t nu = 650, ny = 1024;
    berg_space *U = tu_line(nu, -6.0, 7.0, BERG_NEUMANN);
    berg_space *Y = tu_line(ny, -12.0, 14.0, BERG_NEUMANN);
    double *prior = malloc(nu * sizeof *prior), *pstar = malloc(ny * sizeof *pstar);
    double *D = malloc(nu * sizeof *D), *x = malloc(nu * sizeof *x);
    double *lp1 = malloc(nu * sizeof *lp1), *lp2 = malloc(nu * sizeof *lp2);
    double *pi = malloc(nu * sizeof *pi);
    tu_gaussian1(U, m0, s0 * s0, prior);
    tu_gaussian1(Y, ustar, 1.0, pstar);
    coords(U, x);
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior, 0);
    berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &M);
    CHECK_STATUS(berg_bayes_set_truth(b, pstar), BERG_OK, "set_truth");
    berg_bayes_divergence(b, D);
    double err = 0.0;
    for (size_t i = 0; i < nu; i++)
        if (fabs(x[i]) < 3.0)
            err = fmax(err, fabs(D[i] - 0.5 * (x[i] - ustar) * (x[i] - ustar)));
    CHECK(err < 1e-10, "D(u) = (u - u*)^2 / 2 sigma^2 on the grid: %.3g", err);
    /* replicator equation d/dT ln pi = -(D - <D>) */
    double T = 5.0, h = 1e-3;
    berg_bayes_expected(b, T + h);
    berg_bayes_log_posterior(b, lp1);
    berg_bayes_expected(b, T - h);
    berg_bayes_log_posterior(b, lp2);
    berg_bayes_expected(b, T);
    berg_bayes_posterior(b, pi);
    double Dbar = 0.0, w = 13.0 / (double)nu;
    for (size_t i = 0; i < nu; i++)
        Dbar += pi[i] * D[i] * w;
    double res = 0.0;
    for (size_t i = 0; i < nu; i++)
        if (pi[i] > 1e-6)
            res = fmax(res, fabs((lp1[i] - lp2[i]) / (2 * h) + (D[i] - Dbar)));
    CHECK(res < 1e-8, "replicator residual %.3g", res);
    /* trajectories: Gaussian posterior, precision 1/s0^2 + T */
    double Ts[4] = {0.0, 1.0, 10.0, 100.0}, map[4], mean[4];
    CHECK_STATUS(berg_bayes_trajectory(b, 4, Ts, map, mean), BERG_OK, "trajectory");
    for (int j = 0; j < 4; j++) {
        double want = (m0 / (s0 * s0) + Ts[j] * ustar) / (1 / (s0 * s0) + Ts[j]);
        /* measured <= 2.6e-14 (MAP) and <= 1.8e-15 (mean); at T = 0 the
         * mean is that of the prior cut to the box [-6, 7]: 6.1e-9 */
        CHECK_ABS(map[j], want, 1e-12, "MAP trajectory at T = %g", Ts[j]);
        CHECK_ABS(mean[j], want, j == 0 ? 1e-7 : 1e-13, "mean trajectory at T = %g", Ts[j]);
    }
    /* predictive N(m_T, v_T + sigma^2) */
    double *pred = malloc(ny * sizeof *pred), *want = malloc(ny * sizeof *want);
    berg_bayes_expected(b, 4.0);
    CHECK_STATUS(berg_bayes_predictive(b, pred), BERG_OK, "predictive");
    double mT = (m0 + 4.0 * ustar) / 5.0, vT = 1.0 / 5.0;
    tu_gaussian1(Y, mT, vT + 1.0, want);
    CHECK(tu_max_abs_diff(pred, want, ny) < 1e-9, "predictive = N(m_T, v_T + sigma^2): %.3g",
          tu_max_abs_diff(pred, want, ny));
    /* the MAP leaves the grid: truth far outside the parameter box */
    tu_gaussian1(Y, 7.0, 1.0, pstar);
    berg_bayes_set_truth(b, pstar);
    double Tbad[2] = {0.0, 1000.0};
    CHECK_STATUS(berg_bayes_trajectory(b, 2, Tbad, map, NULL), BERG_ERR_OUT_OF_RANGE,
                 "MAP leaves the grid");
    CHECK_MESSAGE("T[1]", "names the time");
    CHECK_STATUS(berg_bayes_expected(b, -1.0), BERG_ERR_TIME, "T < 0");
    free(pred);
    free(want);
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(prior);
    free(pstar);
    free(D);
    free(x);
    free(lp1);
    free(lp2);
    free(pi);
}

/* Laplace noise: posterior moments approach the Wick moments of N(u*, I^{-1}/T)
 * with relative error O(T^{-1/2}) (the |u - u*|^3 / 6 term of D) */
static void test_wick(void)
{
    model M = {1.0, 1.0, 0.0, HUGE_VAL};
    size_t nu = 801, ny = 4096;
    double ustar = 1.0;
    berg_space *U = tu_line(nu, 0.5, 1.5, BERG_NEUMANN);
    berg_space *Y = tu_line(ny, -17.0, 19.0, BERG_NEUMANN);
    double *flat = malloc(nu * sizeof *flat), *pstar = malloc(ny * sizeof *pstar);
    double *y = malloc(ny * sizeof *y), *pi = malloc(nu * sizeof *pi);
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    coords(Y, y);
    for (size_t j = 0; j < ny; j++)
        pstar[j] = 0.5 * exp(-fabs(y[j] - ustar));
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, flat, 0);
    berg_bayes_set_location(b, NULL, NULL, G_affine, laplace_logpdf, &M);
    berg_bayes_set_truth(b, pstar);
    double Iinv = 1.0, rel2[2], rel4[2], Ts[2] = {400.0, 6400.0};
    for (int r = 0; r < 2; r++) {
        berg_bayes_expected(b, Ts[r]);
        berg_bayes_posterior(b, pi);
        double mom[5], w2, w4;
        size_t idx[4] = {0, 0, 0, 0};
        berg_central_moments(U, 4, pi, mom);
        berg_fisher_wick(1, Ts[r], 2, &Iinv, idx, &w2);
        berg_fisher_wick(1, Ts[r], 4, &Iinv, idx, &w4);
        rel2[r] = fabs(mom[2] / w2 - 1.0);
        rel4[r] = fabs(mom[4] / w4 - 1.0);
        printf("Wick T = %g: second moment rel. error %.3g, fourth %.3g\n", Ts[r], rel2[r],
               rel4[r]);
        CHECK(rel2[r] < 2.0 / sqrt(Ts[r]) && rel4[r] < 6.0 / sqrt(Ts[r]),
              "moments within O(T^-1/2) of Wick at T = %g", Ts[r]);
    }
    /* 16 x more data: the error shrinks about 4 x (order 1/2) */
    CHECK(rel2[0] / rel2[1] > 3.0 && rel2[0] / rel2[1] < 5.5, "second-moment error ratio %.3g",
          rel2[0] / rel2[1]);
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(flat);
    free(pstar);
    free(y);
    free(pi);
}

/* Bayesian diffusion (eq 44-46): posterior at tau2 = heat at t = sigma^2 (tau2 - tau1) / 2
 * applied to the posterior at tau1 */
static void test_bayesian_diffusion(void)
{
    model M = {1.5, 1.0, 0.0, HUGE_VAL};
    size_t nu = 256;
    berg_space *U = tu_line(nu, -4.0, 6.0, BERG_PERIODIC);
    berg_space *Y = tu_line(256, -10.0, 12.0, BERG_NEUMANN);
    double flat[256], p1[256], p2[256];
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    double y10[10] = {0.1, 1.7, -0.4, 2.2, 0.9, 1.3, 0.0, 2.8, 0.6, 1.1}, y40[40];
    for (int k = 0; k < 40; k++)
        y40[k] = y10[k % 10];
    berg_bayes *b10 = NULL, *b40 = NULL;
    berg_bayes_create(&b10, U, Y, flat, 0);
    berg_bayes_create(&b40, U, Y, flat, 0);
    berg_bayes_set_location(b10, NULL, NULL, G_affine, normal_logpdf, &M);
    berg_bayes_set_location(b40, NULL, NULL, G_affine, normal_logpdf, &M);
    berg_bayes_observe(b10, 10, y10);
    berg_bayes_observe(b40, 40, y40);
    berg_bayes_posterior(b40, p1);
    berg_bayes_posterior(b10, p2);
    berg_heat *h = NULL;
    berg_heat_create(&h, U, 0);
    double t = M.sigma * M.sigma * (1.0 / 10 - 1.0 / 40) / 2.0;
    berg_heat_apply(h, t, p1, p1);
    double err = tu_max_abs_diff(p1, p2, nu), mx = 0.0;
    for (size_t i = 0; i < nu; i++)
        mx = fmax(mx, p2[i]);
    CHECK(err < 1e-13 * mx * 10, "posterior(tau2) = heat(sigma^2 dtau / 2) posterior(tau1): %.3g",
          err / mx);
    berg_heat_destroy(h);
    berg_bayes_destroy(b10);
    berg_bayes_destroy(b40);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* FFT predictive for affine G: round-off when the data grid is the image of
 * the parameter grid, O(h^2) otherwise */
static void test_predictive_fft(void)
{
    model M = {0.9, 2.0, 0.5, HUGE_VAL};
    berg_space *U = tu_line(500, -4.0, 6.0, BERG_NEUMANN);
    berg_space *Y = tu_line(900, -15.5, 20.5, BERG_NEUMANN); /* h_y = 0.04 = a h_u, aligned */
    berg_space *Y2 = tu_line(777, -15.0, 21.0, BERG_NEUMANN);
    double *prior = malloc(500 * sizeof *prior);
    tu_gaussian1(U, 0.3, 0.8, prior);
    double *p1 = malloc(900 * sizeof *p1), *p2 = malloc(900 * sizeof *p2);
    double y[3] = {1.1, 2.5, 0.4};
    for (int k = 0; k < 2; k++) {
        berg_space *YY = k ? Y2 : Y;
        size_t ny = berg_space_size(YY);
        berg_bayes *b = NULL;
        berg_bayes_create(&b, U, YY, prior, 0);
        berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &M);
        berg_bayes_observe(b, 3, y);
        berg_bayes_predictive(b, p1);
        CHECK_STATUS(berg_bayes_predictive_fft(b, p2), BERG_OK, "predictive_fft");
        double err = tu_max_abs_diff(p1, p2, ny), mx = 0.0;
        for (size_t j = 0; j < ny; j++)
            mx = fmax(mx, p1[j]);
        printf("FFT predictive, %s grids: max rel. difference %.3g\n", k ? "unaligned" : "aligned",
               err / mx);
        CHECK(err < (k ? 3e-4 : 1e-13) * mx, "FFT predictive = quadrature (%s)",
              k ? "O(h^2)" : "round-off");
        berg_bayes_destroy(b);
    }
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior, 0);
    berg_bayes_set_location(b, NULL, NULL, failing_G, normal_logpdf, &M);
    berg_bayes_set_loglik(b, normal_loglik, &M);
    CHECK_STATUS(berg_bayes_predictive_fft(b, p2), BERG_ERR_DOMAIN, "not a location model");
    berg_bayes_destroy(b);
    free(prior);
    free(p1);
    free(p2);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    berg_space_destroy(Y2);
}

/* the FFT predictive refuses a data grid that does not resolve G's image of
 * the posterior (its mass on the data grid is not 1): G = 1e-300 u puts the
 * image between two data points (mass 0) or on one (mass ~1e298), and a
 * shift puts most of it outside the data box; p is untouched, and the
 * quadrature the message points to is right. A posterior of sd 1.8 cells
 * of the coarser grid is not refused and is within the measured O(h^2)
 * bound 0.04 (h/s)^2 of the quadrature in L1 */
static void test_predictive_fft_unresolved(void)
{
    const double SENT = -12345.0;
    model M = {0.9, 1e-300, 0.0, HUGE_VAL};
    berg_space *U = tu_line(500, -4.0, 6.0, BERG_NEUMANN);
    berg_space *Y = tu_line(900, -15.5, 20.5, BERG_NEUMANN);  /* 0 is a data point */
    berg_space *Y2 = tu_line(777, -15.0, 21.0, BERG_NEUMANN); /* 0 is between two */
    double *prior = malloc(500 * sizeof *prior);
    tu_gaussian1(U, 0.3, 0.8, prior);
    double *p1 = malloc(900 * sizeof *p1), *p2 = malloc(900 * sizeof *p2);
    double *want = malloc(900 * sizeof *want), y = 1.1;
    for (int k = 0; k < 2; k++) {
        berg_space *YY = k ? Y2 : Y;
        size_t ny = berg_space_size(YY);
        berg_bayes *b = NULL;
        CHECK_STATUS(berg_bayes_create(&b, U, YY, prior, 0), BERG_OK, "create");
        CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &M), BERG_OK,
                     "G = 1e-300 u");
        CHECK_STATUS(berg_bayes_observe(b, 1, &y), BERG_OK, "observe");
        tu_fill(p2, ny, SENT);
        CHECK_STATUS(berg_bayes_predictive_fft(b, p2), BERG_ERR_DOMAIN,
                     "G = 1e-300 u: image narrower than a data cell refused");
        printf("G = 1e-300 u, %s: %s\n", k ? "image between data points" : "image on a data point",
               berg_last_error());
        CHECK_MESSAGE("berg_bayes_predictive_fft", "names the function");
        CHECK_MESSAGE("instead of 1", "says the mass");
        CHECK_MESSAGE("does not resolve", "says why");
        CHECK_MESSAGE("berg_bayes_predictive (quadrature)", "points to the quadrature");
        CHECK_MESSAGE(k ? "is 0 instead" : "e+29", "the mass: 0 between the points, huge on one");
        CHECK(tu_untouched(p2, ny, SENT), "p untouched on the refusal");
        /* the quadrature is right: G = 0 to 1e-300, so p = p0 */
        CHECK_STATUS(berg_bayes_predictive(b, p1), BERG_OK, "quadrature");
        berg_space_coordinates(YY, 0, want);
        double err = 0.0;
        for (size_t j = 0; j < ny; j++) {
            double n = want[j], lp;
            normal_logpdf(1, &n, &lp, &M);
            err = fmax(err, fabs(p1[j] - exp(lp)));
        }
        CHECK(err < 1e-13, "quadrature = p0 for G = 1e-300 u: %.3g", err);
        berg_bayes_destroy(b);
    }
    /* G(u) = 2u + 21: the image N(21.6, 3.2) of the prior, 73 % of it (1 - Phi(-0.615)) above
     * the data box's top 20.5 */
    model Moff = {0.9, 2.0, 21.0, HUGE_VAL};
    berg_bayes *b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, prior, 0), BERG_OK, "create");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &Moff), BERG_OK,
                 "G = 2u + 21");
    tu_fill(p2, 900, SENT);
    CHECK_STATUS(berg_bayes_predictive_fft(b, p2), BERG_ERR_DOMAIN, "image off the data box");
    printf("G = 2u + 21: %s\n", berg_last_error());
    CHECK_MESSAGE("mass on the data grid is 0.269", "the mass left on the grid, Phi(-1.1 / 1.789)");
    CHECK(tu_untouched(p2, 900, SENT), "p untouched on the refusal");
    CHECK_STATUS(berg_bayes_predictive(b, p1), BERG_OK, "the quadrature takes it");
    berg_bayes_destroy(b);
    /* resolved but coarse: prior sd s = 0.1 = 2 h_u (h_u = 0.05), data cell
     * h_y = 0.1125 = 1.125 a h_u, so s / h = 1.78 with h = h_y / a */
    berg_space *Uc = tu_line(200, -4.0, 6.0, BERG_NEUMANN);
    berg_space *Yc = tu_line(320, -15.5, 20.5, BERG_NEUMANN);
    double *pc = malloc(200 * sizeof *pc);
    tu_gaussian1(Uc, 0.3, 0.01, pc);
    model Mc = {0.9, 2.0, 0.5, HUGE_VAL};
    CHECK_STATUS(berg_bayes_create(&b, Uc, Yc, pc, 0), BERG_OK, "create");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_affine, normal_logpdf, &Mc), BERG_OK,
                 "G = 2u + 0.5");
    CHECK_STATUS(berg_bayes_predictive(b, p1), BERG_OK, "quadrature");
    CHECK_STATUS(berg_bayes_predictive_fft(b, p2), BERG_OK, "s = 1.78 cells: not refused");
    double hy = berg_space_cell_weight(Yc), h = hy / 2.0, l1 = 0.0;
    for (size_t j = 0; j < 320; j++)
        l1 += fabs(p1[j] - p2[j]) * hy;
    printf("FFT predictive, s / h = %.2f: L1 difference %.3g, bound 0.04 (h/s)^2 = %.3g\n",
           0.1 / h, l1, 0.04 * (h / 0.1) * (h / 0.1));
    CHECK(l1 < 0.04 * (h / 0.1) * (h / 0.1), "FFT predictive = quadrature to O(h^2): %.3g", l1);
    berg_bayes_destroy(b);
    free(pc);
    free(prior);
    free(p1);
    free(p2);
    free(want);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    berg_space_destroy(Y2);
    berg_space_destroy(Uc);
    berg_space_destroy(Yc);
}

static void test_bad_input(void)
{
    berg_space *U = tu_line(10, 0.0, 1.0, BERG_NEUMANN), *Y = tu_line(10, 0.0, 1.0, BERG_NEUMANN);
    double p[10], z[10];
    for (int i = 0; i < 10; i++) {
        p[i] = 1.0;
        z[i] = 0.0;
    }
    berg_bayes *b = (berg_bayes *)&p; /* sentinel */
    CHECK_STATUS(berg_bayes_create(NULL, U, Y, p, 0), BERG_ERR_NULL, "out NULL");
    CHECK_STATUS(berg_bayes_create(&b, NULL, Y, p, 0), BERG_ERR_NULL, "param NULL");
    CHECK_MESSAGE("param is NULL", "param named");
    CHECK_STATUS(berg_bayes_create(&b, U, Y, NULL, 0), BERG_ERR_NULL, "prior NULL");
    CHECK_STATUS(berg_bayes_create(&b, U, NULL, p, 0), BERG_ERR_NULL, "data NULL");
    CHECK_MESSAGE("data is NULL", "data named");
    CHECK_STATUS(berg_bayes_create(&b, U, Y, z, 0), BERG_ERR_MASS, "zero prior");
    p[3] = -1.0;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p, 0), BERG_ERR_NEGATIVE, "negative prior");
    CHECK_MESSAGE("3", "names the index");
    p[3] = NAN;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p, 0), BERG_ERR_NONFINITE, "NaN prior");
    p[3] = 1.0;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p, 5), BERG_ERR_DOMAIN, "flags");
    /* the flags are reserved: another creator's flag is refused by name */
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p, BERG_PLAN_ESTIMATE), BERG_ERR_DOMAIN,
                 "BERG_PLAN_ESTIMATE refused");
    CHECK_MESSAGE("BERG_PLAN_ESTIMATE", "the message names the flag");
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p, BERG_SINKHORN_LOG_DOMAIN), BERG_ERR_DOMAIN,
                 "BERG_SINKHORN_LOG_DOMAIN refused");
    CHECK_MESSAGE("BERG_SINKHORN_LOG_DOMAIN", "the message names the flag");
    CHECK(b == (berg_bayes *)&p, "out untouched on failure");
    CHECK(isnan(berg_bayes_time(NULL)), "T of a NULL state is NaN");
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p, 0), BERG_OK, "create");
    double y = 0.5;
    CHECK_STATUS(berg_bayes_observe(b, 1, &y), BERG_ERR_DOMAIN, "observe without a model");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, NULL, laplace_logpdf, NULL), BERG_ERR_NULL,
                 "G NULL");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_affine, NULL, NULL), BERG_ERR_NULL,
                 "no noise");
    CHECK_STATUS(berg_bayes_set_truth(b, p), BERG_ERR_DOMAIN, "truth without a model");
    CHECK_STATUS(berg_bayes_trajectory(b, 0, p, z, NULL), BERG_ERR_SIZE, "nT = 0");
    CHECK_STATUS(berg_bayes_map(b, NULL), BERG_ERR_NULL, "map NULL");
    berg_dictionary *d = NULL;
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.0), BERG_ERR_TIME, "tau = 0");
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.1), BERG_ERR_DOMAIN, "no location model");
    CHECK_MESSAGE("berg_dictionary_create", "names the function called");
    CHECK(d == NULL, "out untouched");
    berg_bayes_destroy(b);
    berg_bayes_destroy(NULL);
    berg_dictionary_destroy(NULL);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

int main(void)
{
    test_normal_posterior();
    test_million();
    test_expected_flow();
    test_wick();
    test_bayesian_diffusion();
    test_predictive_fft();
    test_predictive_fft_unresolved();
    test_bad_input();
    return test_summary("dictionary-bayes");
}
