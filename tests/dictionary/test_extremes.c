/* Regression tests of issue 13 in the dictionary layer: extreme but finite
 * inputs give a right answer or a refusal with a message, never NaN, inf or
 * a crash with BERG_OK; counts are checked before the caller's arrays are
 * read; outputs are untouched on failure (sentinel-filled buffers). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const double SENTINEL = -12345.5;

typedef struct {
    double sigma;
    int inf_far; /* G returns +inf for |u| > 50 */
    int nan_now; /* G returns NaN everywhere (switched on after the model is set) */
} model;

static int G_fn(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    const model *m = ud;
    y[0] = (m->inf_far && fabs(u[0]) > 50.0) ? INFINITY : u[0];
    if (m->nan_now)
        y[0] = NAN;
    return 0;
}

static int noise_fn(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    const model *m = ud;
    *lp = -0.5 * n[0] * n[0] / (m->sigma * m->sigma) - 0.5 * log(2 * M_PI * m->sigma * m->sigma);
    return 0;
}

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

static int untouched(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != SENTINEL)
            return 0;
    return 1;
}

static void fill(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = SENTINEL;
}

/* right or refused: OK with finite values, or the status `want` with a
 * message and the output untouched */
static void right_or_refused(berg_status st, berg_status want, const double *out, size_t n,
                             const char *what)
{
    if (st == BERG_OK)
        CHECK(all_finite(out, n), "%s: OK must give finite values", what);
    else {
        CHECK(st == want, "%s: status %d, want %d (%s)", what, (int)st, (int)want,
              berg_last_error());
        CHECK(strlen(berg_last_error()) > 0, "%s: a message", what);
        CHECK(untouched(out, n), "%s: output untouched on failure", what);
    }
}

/* a prior whose mass overflows (DBL_MAX on a wide cell) or underflows (a
 * subnormal value): the posterior is finite and normalized */
static void test_extreme_priors(void)
{
    model M = {1.0, 0, 0};
    double prior_max[2] = {DBL_MAX, 0.0}, post[9];
    berg_space *U = tu_line(2, -4.0, 6.0, BERG_NEUMANN), *Y = tu_line(64, -10.0, 10.0, BERG_NEUMANN);
    berg_bayes *b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, prior_max, 0), BERG_OK, "prior {DBL_MAX, 0}");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, &M), BERG_OK, "location");
    CHECK_STATUS(berg_bayes_posterior(b, post), BERG_OK, "posterior");
    CHECK(all_finite(post, 2) && post[0] > 0.0 && post[1] == 0.0,
          "prior {DBL_MAX, 0}: posterior finite (%g, %g)", post[0], post[1]);
    CHECK_REL(post[0] * 5.0, 1.0, 1e-12, "prior {DBL_MAX, 0}: normalized");
    double y = 0.5;
    CHECK_STATUS(berg_bayes_observe(b, 1, &y), BERG_OK, "observe");
    CHECK_STATUS(berg_bayes_posterior(b, post), BERG_OK, "posterior after data");
    CHECK(all_finite(post, 2), "prior {DBL_MAX, 0}: posterior after data finite");
    berg_bayes_destroy(b);
    berg_space_destroy(U);

    double prior_sub[9] = {4.94e-324, 0, 0, 0, 0, 0, 0, 0, 0};
    U = tu_line(9, -1.0, 2.0, BERG_NEUMANN);
    b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, prior_sub, 0), BERG_OK, "prior {4.94e-324, 0...}");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, &M), BERG_OK, "location");
    CHECK_STATUS(berg_bayes_posterior(b, post), BERG_OK, "posterior");
    CHECK(all_finite(post, 9), "subnormal prior: posterior finite");
    CHECK_REL(post[0] * (3.0 / 9.0), 1.0, 1e-12, "subnormal prior: normalized");
    berg_bayes_destroy(b);
    berg_space_destroy(U);

    /* every value 1e307 on 100 cells: the sum overflows, each value is finite */
    double big[100], post100[100];
    for (int i = 0; i < 100; i++)
        big[i] = 1e307;
    U = tu_line(100, -1.0, 1.0, BERG_NEUMANN);
    b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, big, 0), BERG_OK, "prior 1e307 x 100");
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, &M), BERG_OK, "location");
    CHECK_STATUS(berg_bayes_posterior(b, post100), BERG_OK, "posterior");
    CHECK(all_finite(post100, 100), "prior 1e307 x 100: posterior finite");
    CHECK_REL(post100[37], 0.5, 1e-12, "prior 1e307 x 100: the uniform density 1/2");
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

typedef struct {
    double a, b, sigma;
} affine;

static int affine_G(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    const affine *m = ud;
    y[0] = m->a * u[0] + m->b;
    return 0;
}

static int affine_noise(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    const affine *m = ud;
    *lp = -0.5 * n[0] * n[0] / (m->sigma * m->sigma);
    return 0;
}

/* log-likelihoods of -1e46 (sigma = 1e-20): the compensated sum's residual
 * at the maximum is 1e29 and must not be left in the shifted state; and a
 * prior spanning 1e300 on a box of width 1e150 */
static void test_huge_loglik(void)
{
    size_t n = 3, ny = 1;
    double lo = -3.0, hi = 1.0, ylo = -7.0, yhi = 5.0, pi[3], lp[3];
    berg_boundary bc = BERG_NEUMANN;
    berg_space *U = NULL, *Y = NULL;
    berg_space_create(&U, 1, &n, &lo, &hi, &bc, NULL);
    berg_space_create(&Y, 1, &ny, &ylo, &yhi, &bc, NULL);
    double prior[3] = {0.01, 0.01, 0.01}, y[3] = {-7.0, -7.0, -7.0};
    affine M = {1000.0, 2.6875, 1e-20};
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior, 0);
    berg_bayes_set_location(b, NULL, NULL, affine_G, affine_noise, &M);
    CHECK_STATUS(berg_bayes_observe(b, 3, y), BERG_OK, "observe with sigma = 1e-20");
    CHECK_STATUS(berg_bayes_posterior(b, pi), BERG_OK, "posterior");
    CHECK(all_finite(pi, 3) && pi[0] == 0.0 && pi[1] == 0.0, "sigma = 1e-20: posterior finite");
    CHECK_REL(pi[2], 0.75, 1e-12, "sigma = 1e-20: all mass in the best cell (1 / h)");
    CHECK_STATUS(berg_bayes_log_posterior(b, lp), BERG_OK, "log posterior");
    CHECK(isfinite(lp[0]) && isfinite(lp[2]), "sigma = 1e-20: log posterior finite");
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);

    size_t n12 = 12, n1 = 1;
    double lo12 = 1e-150, hi12 = 1e150, p12[12] = {22, 1e300, 100, 2.251708984375e42}, pi12[12];
    double y1lo = -1.0, y1hi = 1.0, y1 = -1.0;
    affine M2 = {-4.0, -4.0, 0.05};
    U = NULL;
    Y = NULL;
    berg_space_create(&U, 1, &n12, &lo12, &hi12, &bc, NULL);
    berg_space_create(&Y, 1, &n1, &y1lo, &y1hi, &bc, NULL);
    b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, p12, 0), BERG_OK, "prior up to 1e300 on [1e-150, 1e150]");
    berg_bayes_set_location(b, NULL, NULL, affine_G, affine_noise, &M2);
    CHECK_STATUS(berg_bayes_posterior(b, pi12), BERG_OK, "posterior");
    CHECK(all_finite(pi12, 12), "prior up to 1e300: posterior finite");
    berg_status st = berg_bayes_observe(b, 1, &y1);
    if (st == BERG_OK) {
        CHECK_STATUS(berg_bayes_posterior(b, pi12), BERG_OK, "posterior after data");
        CHECK(all_finite(pi12, 12), "prior up to 1e300: posterior after data finite");
    }
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* G ignores u0 and the prior is flat along u0 (a periodic axis, so no
 * edge): the MAP is not isolated, and the dictionary refuses it rather than
 * return one point of the ridge */
static int G_u1(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[1];
    return 0;
}

static void test_ridge_refused(void)
{
    model M = {1.0, 0, 0};
    size_t nu[2] = {16, 40}, ny = 128;
    double lo[2] = {-1.0, -2.0}, hi[2] = {1.0, 2.0};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *U = NULL, *Y = tu_line(ny, -8.0, 8.0, BERG_NEUMANN);
    berg_space_create(&U, 2, nu, lo, hi, bc, NULL);
    double prior[640], ps[128], y[128];
    for (size_t i = 0; i < 640; i++)
        prior[i] = 1.0;
    berg_space_coordinates(Y, 0, y);
    for (size_t j = 0; j < ny; j++)
        ps[j] = exp(-0.5 * (y[j] - 0.3) * (y[j] - 0.3));
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior, 0);
    berg_bayes_set_location(b, NULL, NULL, G_u1, noise_fn, &M);
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "ridge truth");
    berg_dictionary *d = NULL;
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.1), BERG_ERR_NO_CONVERGENCE,
                 "a ridge of MAPs is refused");
    CHECK(d == NULL && strstr(berg_last_error(), "berg_dictionary_create") &&
              strstr(berg_last_error(), "Newton step"),
          "ridge: *out untouched, the message names the function and the step (%s)",
          berg_last_error());
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* a MAP refined across the wrap of a periodic axis lies in [lo, hi) */
static void test_periodic_map(void)
{
    berg_space *U = tu_line(8, -1.0, 1.0, BERG_PERIODIC), *Y = tu_line(16, -2.0, 2.0, BERG_NEUMANN);
    double prior[8] = {1.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1.0}, u = SENTINEL;
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior, 0);
    CHECK_STATUS(berg_bayes_map(b, &u), BERG_OK, "periodic map");
    CHECK(u >= -1.0 && u < 1.0, "periodic map %.17g in [-1, 1)", u);
    CHECK_ABS(fabs(u), 1.0, 1e-15, "periodic map at the wrap");
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* a truth with values near 1e300 (its mass 2.6e302 is finite, its mass
 * times the cell volume is not formed): D finite and the same as for the
 * same truth scaled to 1 */
static void test_huge_truth(void)
{
    model M = {1.0, 0, 0};
    size_t ny = 256, nu = 50;
    berg_space *U = tu_line(nu, -2.0, 2.0, BERG_NEUMANN), *Y = tu_line(ny, -10.0, 10.0, BERG_NEUMANN);
    double *flat = malloc(nu * sizeof *flat), *ps = malloc(ny * sizeof *ps), *y = malloc(ny * sizeof *y);
    double *D1 = malloc(nu * sizeof *D1), *D2 = malloc(nu * sizeof *D2);
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    berg_space_coordinates(Y, 0, y);
    for (size_t j = 0; j < ny; j++)
        ps[j] = exp(-0.5 * (y[j] - 0.3) * (y[j] - 0.3));
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, flat, 0);
    berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, &M);
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "truth");
    berg_bayes_divergence(b, D1);
    for (size_t j = 0; j < ny; j++)
        ps[j] *= 1e300;
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "truth near 1e300");
    berg_bayes_divergence(b, D2);
    double dev = 0.0;
    for (size_t i = 0; i < nu; i++)
        dev = fmax(dev, fabs(D2[i] - D1[i]));
    CHECK(all_finite(D2, nu) && dev < 1e-12, "truth near 1e300: D as for the unscaled truth (%.3g)",
          dev);
    for (size_t j = 0; j < ny; j++)
        ps[j] = ps[j] * 1e7 + 1e306; /* the sum overflows: 2.6e308 */
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "truth whose sum overflows");
    berg_bayes_divergence(b, D2);
    CHECK(all_finite(D2, nu), "truth whose sum overflows: D finite");
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(flat);
    free(ps);
    free(y);
    free(D1);
    free(D2);
}

/* a count whose byte size overflows: refused before the (one-element)
 * array is read */
static void test_huge_counts(void)
{
    model M = {1.0, 0, 0};
    size_t ny = 64, nu = 40;
    berg_space *U = tu_line(nu, -2.0, 2.0, BERG_NEUMANN), *Y = tu_line(ny, -10.0, 10.0, BERG_NEUMANN);
    double flat[40], ps[64], post0[40], post1[40], y1 = 0.1, yg[64];
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    berg_space_coordinates(Y, 0, yg);
    for (size_t j = 0; j < ny; j++)
        ps[j] = exp(-0.5 * yg[j] * yg[j]);
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, flat, 0);
    berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, &M);
    berg_bayes_set_truth(b, ps);
    berg_bayes_observe(b, 1, &y1);
    berg_bayes_posterior(b, post0);
    double T0 = berg_bayes_time(b);
    size_t counts[3] = {SIZE_MAX, SIZE_MAX / 8 + 1, (size_t)PTRDIFF_MAX / 8 + 1};
    for (int k = 0; k < 3; k++) {
        CHECK_STATUS(berg_bayes_observe(b, counts[k], &y1), BERG_ERR_SIZE, "observe count %zu",
                     counts[k]);
        berg_bayes_posterior(b, post1);
        CHECK(memcmp(post0, post1, sizeof post0) == 0 && berg_bayes_time(b) == T0,
              "observe count %zu: posterior and T unchanged", counts[k]);
        double map[4], mean[4], T1 = 1.0;
        fill(map, 4);
        fill(mean, 4);
        CHECK_STATUS(berg_bayes_trajectory(b, counts[k], &T1, map, mean), BERG_ERR_SIZE,
                     "trajectory nT = %zu", counts[k]);
        CHECK(untouched(map, 4) && untouched(mean, 4), "trajectory nT = %zu: outputs untouched",
              counts[k]);
    }
    double map[2], T1 = 1.0;
    fill(map, 2);
    CHECK_STATUS(berg_bayes_trajectory(b, 0, &T1, map, NULL), BERG_ERR_SIZE, "trajectory nT = 0");
    CHECK(untouched(map, 2), "trajectory nT = 0: map untouched");
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* the dictionary's heat time overflowing, the scheme's G returning +inf,
 * a tiny tau in the discrepancy */
static void test_dictionary_extremes(void)
{
    model M = {2.0, 1, 0};
    size_t ny = 256, nu = 200;
    berg_space *U = tu_line(nu, -3.0, 3.0, BERG_NEUMANN), *Y = tu_line(ny, -16.0, 16.0, BERG_NEUMANN);
    double *prior = malloc(nu * sizeof *prior), *ps = malloc(ny * sizeof *ps);
    double *yg = malloc(ny * sizeof *yg), *sig = malloc(ny * sizeof *sig);
    berg_space_coordinates(U, 0, prior);
    for (size_t i = 0; i < nu; i++)
        prior[i] = exp(-0.5 * prior[i] * prior[i]);
    berg_space_coordinates(Y, 0, yg);
    for (size_t j = 0; j < ny; j++)
        ps[j] = exp(-0.125 * (yg[j] - 0.5) * (yg[j] - 0.5));
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior, 0);
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, &M), BERG_OK, "location");
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "truth");
    berg_dictionary *d = NULL;
    /* tau = 1e308: K = sigma^2 = 4, t = K tau / 2 = 2e308 overflows */
    CHECK_STATUS(berg_dictionary_create(&d, b, 1e308), BERG_OK, "dictionary at tau = 1e308");
    if (d) {
        double t = SENTINEL, m = SENTINEL, g = SENTINEL;
        CHECK_STATUS(berg_dictionary_heat_time(d, &t), BERG_ERR_NONFINITE, "heat time overflows");
        CHECK(t == SENTINEL, "heat time untouched");
        berg_dictionary_drift(d, &m);
        berg_dictionary_map(d, &g);
        CHECK(isfinite(m) && isfinite(g), "tau = 1e308: gamma %g and drift %g finite", g, m);
        berg_dictionary_destroy(d);
    }
    d = NULL;
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.1), BERG_OK, "dictionary at tau = 0.1");
    if (d) {
        double u = 100.0;
        fill(sig, ny);
        CHECK_STATUS(berg_dictionary_scheme(d, &u, sig), BERG_ERR_CALLBACK, "scheme: G(u) = +inf");
        CHECK(untouched(sig, ny), "scheme: sigma untouched");
        berg_dictionary_destroy(d);
    }
    /* G(gamma) = NaN at creation: refused, never stored */
    M.nan_now = 1;
    d = NULL;
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.1), BERG_ERR_CALLBACK, "dictionary with G = NaN");
    CHECK(d == NULL && strstr(berg_last_error(), "berg_dictionary_create"),
          "G = NaN: *out untouched, message names berg_dictionary_create (%s)", berg_last_error());
    M.nan_now = 0;
    /* a tiny tau: the flow has nothing to do; right (l1 ~ 0) or refused naming tau */
    double l1 = SENTINEL, kl = SENTINEL;
    berg_status st = berg_bayes_flow_discrepancy(b, 1e-300, 1, &l1, &kl);
    if (st == BERG_OK) {
        CHECK(isfinite(l1) && isfinite(kl) && l1 < 1e-6, "tau = 1e-300: discrepancy %g %g", l1, kl);
    } else {
        CHECK(st == BERG_ERR_TIME && strstr(berg_last_error(), "tau") != NULL,
              "tau = 1e-300: status %d (%s), want BERG_ERR_TIME naming tau", (int)st,
              berg_last_error());
        CHECK(l1 == SENTINEL && kl == SENTINEL, "tau = 1e-300: outputs untouched");
    }
    /* the backward flow over a tiny tau: the identity, not a refusal about
     * an internal matrix */
    double *p2 = malloc(ny * sizeof *p2), dev = 0.0;
    st = berg_bayes_backward_flow(b, 0.0, 1e-300, 1, ps, p2);
    CHECK_STATUS(st, BERG_OK, "backward flow over tau = 1e-300");
    for (size_t j = 0; st == BERG_OK && j < ny; j++)
        dev = fmax(dev, fabs(p2[j] - ps[j]));
    CHECK(st == BERG_OK && dev < 1e-12, "backward flow over tau = 1e-300: identity (%.3g)", dev);
    /* caller-requested work has a bound */
    fill(p2, ny);
    CHECK_STATUS(berg_bayes_backward_flow(b, 0.0, 0.1, SIZE_MAX, ps, p2), BERG_ERR_SIZE,
                 "backward flow with nsteps = SIZE_MAX");
    CHECK(untouched(p2, ny), "backward flow refused: p2 untouched");
    CHECK_STATUS(berg_bayes_flow_discrepancy(b, 0.1, SIZE_MAX, &l1, &kl), BERG_ERR_SIZE,
                 "discrepancy with nsteps = SIZE_MAX");
    free(p2);
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(prior);
    free(ps);
    free(yg);
    free(sig);
}

/* G at the four cells of [-1, 1] (centres -0.75, -0.25, 0.25, 0.75) from a table */
static int G_table(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    const double *g = ud;
    y[0] = g[u[0] < -0.5 ? 0 : u[0] < 0.0 ? 1 : u[0] < 0.5 ? 2 : 3];
    return 0;
}

/* One observation y under a periodic grid noise on [nlo, nhi] (nn cells,
 * values noise) with G(u_i) = g[i] on four cells of [-1, 1] and a flat
 * prior: the posterior is p0(y - g_i) / sum_k p0(y - g_k) w, and want[i] is
 * the interpolated noise value at (y - g_i - nlo) mod (nhi - nlo), worked
 * out by hand in real arithmetic (proportional values suffice). */
static void periodic_noise_case(const char *what, double nlo, double nhi, size_t nn,
                                const double *metric, const double *noise, double ylo, double yhi,
                                double y, const double *g, const double *want)
{
    berg_boundary per = BERG_PERIODIC;
    berg_space *U = tu_line(4, -1.0, 1.0, BERG_NEUMANN), *Y = tu_line(16, ylo, yhi, BERG_NEUMANN);
    berg_space *N = NULL;
    CHECK_STATUS(berg_space_create(&N, 1, &nn, &nlo, &nhi, &per, metric), BERG_OK,
                 "%s: noise space", what);
    double flat[4] = {1.0, 1.0, 1.0, 1.0}, pi[4];
    berg_bayes *b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, flat, 0), BERG_OK, "%s: create", what);
    CHECK_STATUS(berg_bayes_set_location(b, N, noise, G_table, NULL, (void *)g), BERG_OK,
                 "%s: grid noise", what);
    CHECK_STATUS(berg_bayes_observe(b, 1, &y), BERG_OK, "%s: observe", what);
    fill(pi, 4);
    CHECK_STATUS(berg_bayes_posterior(b, pi), BERG_OK, "%s: posterior", what);
    double s = 0.0;
    for (size_t i = 0; i < 4; i++)
        s += want[i] * 0.5; /* the cell volume of U */
    for (size_t i = 0; i < 4; i++)
        CHECK_REL(pi[i], want[i] / s, 1e-12, "%s: posterior at cell %zu", what, i);
    berg_bayes_destroy(b);
    berg_space_destroy(N);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* A periodic grid noise is evaluated at (y - G(u) - lo) mod (hi - lo)
 * whatever the size of y - G(u), lo and the width, as long as the space
 * exists: before, fmod(x - lo, L) + L overflowed on these boxes, the index
 * (long)floor(NaN) was undefined (UBSan; a refusal "zero probability" in
 * release, found by fuzz_bayes), and a noise y - G(u) of 2^50 lost its
 * fraction to the rounding of y - G(u) - lo. */
static void test_periodic_noise_huge_box(void)
{
    const double v8[8] = {1, 2, 3, 4, 5, 6, 7, 8}, v4[4] = {1, 2, 3, 4}, metric[1] = {1e-4};
    /* width 1.6e308 (volume 1.6e306 with the metric), cell centres
     * -7e307 + 2e307 j: y - g at 5e307, 8e307 (= lo + L), 1.1e308 (= -5e307),
     * 1.4e308 (= -2e307): centre 6, the wrap between 7 and 0, centre 1,
     * half-way between 2 and 3; fmod(x - lo, L) + L overflowed */
    const double g1[4] = {-5e307, -8e307, -1.1e308, -1.4e308};
    const double w1[4] = {7.0, 4.5, 2.0, 3.5};
    periodic_noise_case("width 1.6e308", -8e307, 8e307, 8, metric, v8, -2.0, 2.0, 0.5, g1, w1);
    /* a box near -DBL_MAX, width 4e307 (h = 1e307, centres -1.7e308 + 1e307 j):
     * y - g - lo = 3.25e308 ... 3.5e308 overflowed; minus 8 L the offsets
     * are 0.5, 1.5, 2.25, 3 (1e307): centres 0, 1, a quarter of the way from
     * 1 to 2 read from 2 (0.25 v1 + 0.75 v2), half-way between 2 and 3 */
    const double g2[4] = {-1.5e308, -1.6e308, -1.675e308, -1.75e308};
    const double w2[4] = {1.0, 2.0, 2.75, 3.5};
    periodic_noise_case("box near -DBL_MAX", -1.75e308, -1.35e308, 4, NULL, v4, -2.0, 2.0, 0.5, g2,
                        w2);
    /* y - g itself overflows: y = 1.6e308, g down to -1.75e308, y - g =
     * 3.2e308 ... 3.35e308 = 8 L + (2, 2.5, 3, 3.5) 1e307 - lo on [-2e307,
     * 2e307] (centres -1.5e307 + 1e307 j) */
    const double g3[4] = {-1.6e308, -1.65e308, -1.7e308, -1.75e308};
    const double w3[4] = {2.5, 3.0, 3.5, 4.0};
    periodic_noise_case("y - G(u) overflows", -2e307, 2e307, 4, NULL, v4, 1.5e308, 1.7e308, 1.6e308,
                        g3, w3);
    /* no overflow, but y - g = 2^50 + 0.375 + i/4 is not a double: the
     * offsets from lo = -0.5 are 0.875, 0.125, 0.375, 0.625 (centres
     * -0.375 + 0.25 j: cells 3, 0, 1, 2) */
    const double p50 = 1125899906842624.0; /* 2^50 */
    const double g4[4] = {-p50, -(p50 + 0.25), -(p50 + 0.5), -(p50 + 0.75)};
    const double w4[4] = {4.0, 1.0, 2.0, 3.0};
    periodic_noise_case("y - G(u) = 2^50 + fraction", -0.5, 0.5, 4, NULL, v4, -2.0, 2.0, 0.375, g4,
                        w4);
}

/* posterior moments on a box near 1e307 overflow: refused, outputs untouched */
static void test_huge_box_mean(void)
{
    size_t n = 16;
    double lo = 1e307, hi = 2e307, flat[16], mean[1], cov[1];
    berg_boundary bc = BERG_DIRICHLET;
    berg_space *U = NULL, *Y = tu_line(8, -1.0, 1.0, BERG_NEUMANN);
    CHECK_STATUS(berg_space_create(&U, 1, &n, &lo, &hi, &bc, NULL), BERG_OK, "huge box");
    for (size_t i = 0; i < n; i++)
        flat[i] = 1.0;
    berg_bayes *b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, flat, 0), BERG_OK, "bayes on the huge box");
    if (b) {
        fill(mean, 1);
        fill(cov, 1);
        berg_status st = berg_bayes_mean(b, mean, cov);
        /* refused here (NONFINITE) or already by berg_space_moments (DOMAIN) */
        right_or_refused(st, st == BERG_ERR_DOMAIN ? st : BERG_ERR_NONFINITE, mean, 1,
                         "mean on [1e307, 2e307]");
        if (st != BERG_OK)
            CHECK(untouched(cov, 1), "cov untouched");
        else
            CHECK(isfinite(cov[0]), "cov finite");
    }
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* the heat channel on values near DBL_MAX and a Petz ratio that overflows */
static void test_channel_extremes(void)
{
    size_t n = 64;
    berg_space *S = tu_line(n, -5.0, 5.0, BERG_PERIODIC);
    berg_channel *ch = NULL;
    CHECK_STATUS(berg_channel_create(&ch, S, BERG_CHANNEL_HEAT, 0.05, NULL), BERG_OK, "channel");
    double *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    double *sigma = malloc(n * sizeof *sigma), x[64], mass;
    berg_space_coordinates(S, 0, x);
    for (size_t i = 0; i < n; i++)
        in[i] = DBL_MAX * (0.5 + 0.5 * (i % 2));
    fill(out, n);
    right_or_refused(berg_channel_apply(ch, in, out), BERG_ERR_NONFINITE, out, n,
                     "channel apply near DBL_MAX");
    {
        /* the periodic heat channel keeps mass: compare sums scaled by DBL_MAX */
        double si = 0.0, so = 0.0;
        for (size_t i = 0; i < n; i++) {
            si += in[i] / DBL_MAX;
            so += out[i] / DBL_MAX;
        }
        CHECK(out[0] == SENTINEL || fabs(so - si) <= 1e-12 * si,
              "channel apply near DBL_MAX keeps mass (%.17g vs %.17g)", so, si);
    }
    fill(out, n);
    right_or_refused(berg_channel_adjoint(ch, in, out), BERG_ERR_NONFINITE, out, n,
                     "channel adjoint near DBL_MAX");
    for (size_t i = 0; i < n; i++)
        sigma[i] = exp(-0.5 * x[i] * x[i]); /* E(sigma) ~ 1e-6 in the tails */
    berg_space_normalize(S, sigma, &mass);
    for (size_t i = 0; i < n; i++)
        in[i] = 0.5 * DBL_MAX;
    fill(out, n);
    right_or_refused(berg_channel_petz_recover(ch, sigma, in, out), BERG_ERR_NONFINITE, out, n,
                     "Petz with rho1 = DBL_MAX / 2");
    berg_channel_destroy(ch);
    berg_space_destroy(S);
    /* subnormal states: the heat step flushes them to zero; the channel
     * scales them first (fuzz/crashes/channel/heat-apply-subnormal-state-loses-mass) */
    size_t n7 = 7;
    double lo7 = -1.157e265, hi7 = -2.26, in7[7], out7[7];
    berg_boundary per = BERG_PERIODIC;
    berg_space *S7 = NULL;
    berg_space_create(&S7, 1, &n7, &lo7, &hi7, &per, NULL);
    ch = NULL;
    CHECK_STATUS(berg_channel_create(&ch, S7, BERG_CHANNEL_HEAT, 4.03e-308, NULL), BERG_OK,
                 "channel on the wide box");
    for (size_t i = 0; i < n7; i++)
        in7[i] = 3.24e-319;
    fill(out7, n7);
    CHECK_STATUS(berg_channel_apply(ch, in7, out7), BERG_OK, "channel apply, subnormal state");
    for (size_t i = 0; i < n7; i++)
        CHECK_REL(out7[i], in7[i], 1e-3, "subnormal state kept at cell %zu", i);
    /* and a normal-range state gives the same values scaled */
    double sm[64], om[64], os[64];
    berg_channel_destroy(ch);
    S = tu_line(n, -5.0, 5.0, BERG_PERIODIC);
    ch = NULL;
    berg_channel_create(&ch, S, BERG_CHANNEL_HEAT, 0.05, NULL);
    for (size_t i = 0; i < n; i++)
        sm[i] = exp(-x[i] * x[i]);
    berg_channel_apply(ch, sm, om);
    for (size_t i = 0; i < n; i++)
        sm[i] = ldexp(sm[i], -1040);
    CHECK_STATUS(berg_channel_apply(ch, sm, os), BERG_OK, "channel apply, state * 2^-1040");
    double dev = 0.0;
    for (size_t i = 0; i < n; i++)
        dev = fmax(dev, fabs(ldexp(os[i], 1040) - om[i]));
    /* 2^-1040 leaves 34 bits for the values of order 1 (subnormal spacing
     * 2^-1074): the scaled-back result is exact to 2^-34 */
    CHECK(dev <= ldexp(1.0, -33), "channel is linear down to subnormal scale (%.3g)", dev);
    berg_channel_destroy(ch);
    berg_space_destroy(S);
    berg_space_destroy(S7);
    free(in);
    free(out);
    free(sigma);
}

int main(void)
{
    test_extreme_priors();
    test_huge_truth();
    test_huge_loglik();
    test_periodic_map();
    test_periodic_noise_huge_box();
    test_ridge_refused();
    test_huge_counts();
    test_dictionary_extremes();
    test_huge_box_mean();
    test_channel_extremes();
    return test_summary("dictionary-extremes");
}
