/* multipliers: user symbols, exp, regulators, radial profiles, random fields, bad input. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
    double ginv[4];
    int calls;
} knorm_ctx;

/* |k|_g^2 for a rank-2 space */
static int k2_symbol(size_t d, const double *k, double *c, void *ud)
{
    knorm_ctx *g = ud;
    g->calls++;
    if (d != 2)
        return 7;
    *c = g->ginv[0] * k[0] * k[0] + 2 * g->ginv[1] * k[0] * k[1] + g->ginv[3] * k[1] * k[1];
    return 0;
}

/* 1/|k|^2 with 0 at k = 0: the inverse of -Delta on mean-zero functions (the
 * W2 Poisson preconditioner) */
static int inv_k2_symbol(size_t d, const double *k, double *c, void *ud)
{
    knorm_ctx *g = ud;
    double q = 0;
    (void)d;
    q = g->ginv[0] * k[0] * k[0] + 2 * g->ginv[1] * k[0] * k[1] + g->ginv[3] * k[1] * k[1];
    *c = q > 0 ? 1.0 / q : 0.0;
    return 0;
}

static void test_symbols(void)
{
    size_t n[2] = {20, 16};
    double lo[2] = {0, 0}, hi[2] = {1, 2};
    double g[4] = {1.5, 0.4, 0.4, 1.0};
    berg_space *s = tu_space(2, n, lo, hi, NULL, g);
    knorm_ctx ctx = {{0}, 0};
    berg_space_inverse_metric(s, ctx.ginv);
    berg_multiplier *m = NULL, *minv = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, k2_symbol, &ctx), BERG_OK, "create");
    /* once per half-spectrum mode, twice (+-k) per Nyquist axis of a mode:
     * 152 plain modes, 27 with one Nyquist axis, 1 with two */
    CHECK(ctx.calls == 152 + 2 * 27 + 4, "symbol evaluations (%d)", ctx.calls);
    CHECK_STATUS(berg_multiplier_create(&minv, s, BERG_PLAN_ESTIMATE, inv_k2_symbol, &ctx),
                 BERG_OK, "create inverse");
    size_t N = 320;
    double *f = tu_vec(N), *o = tu_vec(N), *o2 = tu_vec(N), x0[20], x1[16];
    berg_space_coordinates(s, 0, x0);
    berg_space_coordinates(s, 1, x1);
    double k0 = 2 * M_PI * 3, k1 = 2 * M_PI * -2 / 2.0;
    for (size_t a = 0; a < 20; a++)
        for (size_t b = 0; b < 16; b++)
            f[a * 16 + b] = sin(k0 * x0[a] + k1 * x1[b]) + 0.25;
    double q = ctx.ginv[0] * k0 * k0 + 2 * ctx.ginv[1] * k0 * k1 + ctx.ginv[3] * k1 * k1;
    CHECK_STATUS(berg_multiplier_apply(m, f, o), BERG_OK, "apply");
    double err = 0;
    for (size_t i = 0; i < N; i++)
        err = fmax(err, fabs(o[i] - q * (f[i] - 0.25)));
    CHECK(err < 1e-13 * q, "|k|^2 multiplier is -Delta_g on a plane wave: %.3g", err);
    /* the inverse symbol undoes it up to the mean */
    CHECK_STATUS(berg_multiplier_apply(minv, o, o2), BERG_OK, "apply inverse");
    err = 0;
    for (size_t i = 0; i < N; i++)
        err = fmax(err, fabs(o2[i] - (f[i] - 0.25)));
    CHECK(err < 1e-14, "1/|k|^2 inverts -Delta on mean-zero functions: %.3g", err);
    /* exp of the |k|^2 multiplier is the heat semigroup */
    berg_heat *h = NULL;
    berg_heat_create(&h, s, 0);
    unsigned long long seed = 5;
    for (size_t i = 0; i < N; i++)
        f[i] = tu_uniform(&seed);
    CHECK_STATUS(berg_multiplier_exp_apply(m, 0.01, f, o), BERG_OK, "exp apply");
    berg_heat_apply(h, 0.01, f, o2);
    CHECK(tu_max_abs_diff(o, o2, N) < 1e-15, "exp(-t |k|^2) = heat: %.3g",
          tu_max_abs_diff(o, o2, N));
    CHECK_STATUS(berg_multiplier_exp_apply(m, 0.0, f, o), BERG_OK, "exp apply t = 0");
    CHECK(memcmp(o, f, N * sizeof(double)) == 0, "t = 0 exact copy");
    memcpy(o, f, N * sizeof(double));
    CHECK_STATUS(berg_multiplier_exp_apply(m, 0.01, o, o), BERG_OK, "in place");
    CHECK(tu_max_abs_diff(o, o2, N) < 1e-15, "in place exp apply");
    berg_heat_destroy(h);
    berg_multiplier_destroy(m);
    berg_multiplier_destroy(minv);
    free(f);
    free(o);
    free(o2);
    berg_space_destroy(s);
}

/* |k|^2 for rank 3 with a diagonal inverse metric in ud */
static int k2_diag3(size_t d, const double *k, double *c, void *ud)
{
    const double *gi = ud;
    (void)d;
    *c = gi[0] * k[0] * k[0] + gi[1] * k[1] * k[1] + gi[2] * k[2] * k[2];
    return 0;
}

/* two transform paths agree: a user symbol on two periodic axes beside a
 * Neumann axis uses the DCT stage + r2c stage; the heat handle (even
 * symbol) uses one r2r plan with R2HC on the periodic axes */
static void test_two_paths(void)
{
    size_t n[3] = {9, 8, 10};
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1.5, 2};
    berg_boundary bc[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_PERIODIC};
    double g[9] = {2, 0, 0, 0, 1, 0, 0, 0, 0.5}, gi[3] = {0.5, 1, 2};
    berg_space *s = tu_space(3, n, lo, hi, bc, g);
    berg_multiplier *m = NULL;
    berg_heat *h = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, k2_diag3, gi), BERG_OK, "multiplier");
    CHECK_STATUS(berg_heat_create(&h, s, 0), BERG_OK, "heat");
    size_t N = berg_space_size(s);
    double *f = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N);
    unsigned long long seed = 21;
    for (size_t i = 0; i < N; i++)
        f[i] = tu_uniform(&seed);
    for (int j = 0; j < 3; j++) {
        double t = j == 0 ? 1e-3 : j == 1 ? 0.02 : 0.3;
        berg_multiplier_exp_apply(m, t, f, a);
        berg_heat_apply(h, t, f, b);
        CHECK(tu_max_abs_diff(a, b, N) < 1e-15, "t = %g: two transform paths agree (%.3g)", t,
              tu_max_abs_diff(a, b, N));
    }
    free(f);
    free(a);
    free(b);
    berg_multiplier_destroy(m);
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

/* symbols on non-periodic axes receive k = pi m / L (Neumann), pi (m+1) / L
 * (Dirichlet); the FD flag hands over 2 sin(kh/2)/h */
static int record_k(size_t d, const double *k, double *c, void *ud)
{
    double *kmax = ud;
    for (size_t a = 0; a < d; a++)
        kmax[a] = fmax(kmax[a], k[a]);
    *c = 1.0;
    return 0;
}

static void test_mode_k(void)
{
    size_t n[2] = {10, 8};
    double lo[2] = {0, 0}, hi[2] = {2, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_DIRICHLET};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    double kmax[2] = {0, 0};
    berg_multiplier *m = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, record_k, kmax), BERG_OK, "create");
    CHECK_REL(kmax[0], M_PI * 9 / 2.0, 1e-15, "Neumann largest k");
    CHECK_REL(kmax[1], M_PI * 8 / 1.0, 1e-15, "Dirichlet largest k");
    berg_multiplier_destroy(m);
    kmax[0] = kmax[1] = 0;
    CHECK_STATUS(berg_multiplier_create(&m, s, BERG_SYMBOL_FD, record_k, kmax), BERG_OK, "FD");
    CHECK_REL(kmax[0], 2 * sin(M_PI * 9 / 2.0 * 0.1) / 0.2, 1e-15, "FD Neumann largest k");
    CHECK_REL(kmax[1], 2 * sin(M_PI * 8 * 0.125 / 2) / 0.125, 1e-15, "FD Dirichlet largest k");
    /* identity symbol is the identity */
    double f[80], o[80];
    unsigned long long seed = 1;
    for (int i = 0; i < 80; i++)
        f[i] = tu_uniform(&seed);
    berg_multiplier_apply(m, f, o);
    CHECK(tu_max_abs_diff(f, o, 80) < 1e-15, "symbol 1 is the identity");
    berg_multiplier_destroy(m);
    berg_space_destroy(s);
}

static void test_regulators(void)
{
    double v;
    CHECK_STATUS(berg_regulator_value(BERG_REGULATOR_SHARP, 2, 2, &v), BERG_OK, "sharp");
    CHECK(v == 1.0, "sharp at k = Lambda is 1");
    berg_regulator_value(BERG_REGULATOR_SHARP, 2, 2.0001, &v);
    CHECK(v == 0.0, "sharp above Lambda is 0");
    berg_regulator_value(BERG_REGULATOR_EXPONENTIAL, 2, 1, &v);
    CHECK_REL(v, exp(-0.25), 1e-15, "exponential");
    berg_regulator_value(BERG_REGULATOR_LITIM, 2, 1, &v);
    CHECK_REL(v, 3.0, 1e-15, "Litim");
    berg_regulator_value(BERG_REGULATOR_LITIM, 2, 3, &v);
    CHECK(v == 0.0, "Litim above Lambda");
    berg_regulator_value(BERG_REGULATOR_LITIM_DOT, 2, 1, &v);
    CHECK_REL(v, 8.0, 1e-15, "Litim dot");
    /* EXPONENTIAL_DOT is Lambda d/dLambda of EXPONENTIAL: check by a difference quotient */
    double L = 1.7, k = 1.1, e1, e2, dot;
    berg_regulator_value(BERG_REGULATOR_EXPONENTIAL, L * (1 + 1e-6), k, &e1);
    berg_regulator_value(BERG_REGULATOR_EXPONENTIAL, L * (1 - 1e-6), k, &e2);
    berg_regulator_value(BERG_REGULATOR_EXPONENTIAL_DOT, L, k, &dot);
    CHECK_REL(dot, (e1 - e2) / (2e-6), 1e-8, "exponential dot = Lambda d/dLambda");
    berg_regulator_value(BERG_REGULATOR_LITIM, L * (1 + 1e-6), k, &e1);
    berg_regulator_value(BERG_REGULATOR_LITIM, L * (1 - 1e-6), k, &e2);
    berg_regulator_value(BERG_REGULATOR_LITIM_DOT, L, k, &dot);
    CHECK_REL(dot, (e1 - e2) / (2e-6), 1e-8, "Litim dot = Lambda d/dLambda");
    CHECK_STATUS(berg_regulator_value((berg_regulator)9, 1, 1, &v), BERG_ERR_DOMAIN, "kind");
    CHECK_STATUS(berg_regulator_value(BERG_REGULATOR_SHARP, 0, 1, &v), BERG_ERR_DOMAIN, "lambda 0");
    CHECK_MESSAGE("lambda", "lambda message");
    CHECK_STATUS(berg_regulator_value(BERG_REGULATOR_SHARP, 1, -1, &v), BERG_ERR_DOMAIN, "k < 0");
    CHECK_STATUS(berg_regulator_value(BERG_REGULATOR_SHARP, 1, NAN, &v), BERG_ERR_NONFINITE, "NaN");
    CHECK_STATUS(berg_regulator_value(BERG_REGULATOR_SHARP, 1, 1, NULL), BERG_ERR_NULL, "NULL");

    /* the exponential regulator multiplier is the heat semigroup at t = 1/Lambda^2 */
    size_t n[2] = {18, 12};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    double g[4] = {2, 0, 0, 0.5};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    berg_multiplier *m = NULL, *sharp = NULL;
    CHECK_STATUS(berg_multiplier_create_regulator(&m, s, BERG_REGULATOR_EXPONENTIAL, 20.0, 0),
                 BERG_OK, "regulator multiplier");
    berg_heat *h = NULL;
    berg_heat_create(&h, s, 0);
    double f[216], o[216], o2[216];
    unsigned long long seed = 9;
    for (int i = 0; i < 216; i++)
        f[i] = tu_uniform(&seed);
    berg_multiplier_apply(m, f, o);
    berg_heat_apply(h, 1.0 / 400.0, f, o2);
    CHECK(tu_max_abs_diff(o, o2, 216) < 1e-15, "exponential regulator = heat at 1/Lambda^2 (%.3g)",
          tu_max_abs_diff(o, o2, 216));
    /* the sharp regulator keeps |k|_g <= Lambda and removes the rest */
    CHECK_STATUS(berg_multiplier_create_regulator(&sharp, s, BERG_REGULATOR_SHARP, 10.0, 0),
                 BERG_OK, "sharp");
    double x0[18], x1[12];
    berg_space_coordinates(s, 0, x0);
    berg_space_coordinates(s, 1, x1);
    /* mode A: k = (2 pi, pi) |k|_g^2 = 4pi^2/2 + 2 pi^2 = 39.5 < 100: kept;
     * mode B: k = (4 pi, 3 pi): 8 pi^2 + 18 pi^2 = 256 > 100: removed */
    for (int a = 0; a < 18; a++)
        for (int b = 0; b < 12; b++)
            f[a * 12 + b] = cos(2 * M_PI * x0[a]) * cos(M_PI * x1[b]) +
                            sin(4 * M_PI * x0[a]) * cos(3 * M_PI * x1[b]);
    berg_multiplier_apply(sharp, f, o);
    double err = 0;
    for (int a = 0; a < 18; a++)
        for (int b = 0; b < 12; b++)
            err = fmax(err, fabs(o[a * 12 + b] - cos(2 * M_PI * x0[a]) * cos(M_PI * x1[b])));
    CHECK(err < 1e-15, "sharp regulator projection: %.3g", err);
    berg_multiplier *bad = NULL;
    CHECK_STATUS(berg_multiplier_create_regulator(&bad, s, BERG_REGULATOR_SHARP, -1, 0),
                 BERG_ERR_DOMAIN, "negative lambda");
    CHECK_STATUS(berg_multiplier_create_regulator(&bad, s, (berg_regulator)-1, 1, 0),
                 BERG_ERR_DOMAIN, "bad kind");
    CHECK(bad == NULL, "out untouched");
    berg_heat_destroy(h);
    berg_multiplier_destroy(m);
    berg_multiplier_destroy(sharp);
    berg_space_destroy(s);
}

static int affine_symbol(size_t d, const double *k, double *c, void *ud)
{
    (void)ud;
    double q = 0;
    for (size_t a = 0; a < d; a++)
        q += k[a] * k[a];
    *c = 3.0 * sqrt(q) + 1.0;
    return 0;
}

static void test_radial(void)
{
    size_t n[2] = {16, 10};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_DIRICHLET, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    /* a profile linear in |k| is interpolated exactly */
    double kp[3] = {0, 20, 200}, cp[3] = {1, 61, 601};
    berg_multiplier *mr = NULL, *mc = NULL;
    CHECK_STATUS(berg_multiplier_create_radial(&mr, s, 3, kp, cp, 0), BERG_OK, "radial");
    berg_multiplier_create(&mc, s, 0, affine_symbol, NULL);
    double f[160], a[160], b[160];
    unsigned long long seed = 4;
    for (int i = 0; i < 160; i++)
        f[i] = tu_uniform(&seed);
    berg_multiplier_apply(mr, f, a);
    berg_multiplier_apply(mc, f, b);
    CHECK(tu_max_abs_diff(a, b, 160) < 1e-12, "radial = callback: %.3g",
          tu_max_abs_diff(a, b, 160));
    /* clamping: a profile with knots only in [5, 6] gives its end values */
    double kq[2] = {5, 6}, cq[2] = {2, 2};
    berg_multiplier *mk = NULL;
    berg_multiplier_create_radial(&mk, s, 2, kq, cq, 0);
    berg_multiplier_apply(mk, f, a);
    for (int i = 0; i < 160; i++)
        b[i] = 2 * f[i];
    CHECK(tu_max_abs_diff(a, b, 160) < 1e-14, "constant clamped profile");
    berg_multiplier *bad = NULL;
    double kbad[3] = {0, 2, 2};
    CHECK_STATUS(berg_multiplier_create_radial(&bad, s, 3, kbad, cp, 0), BERG_ERR_DOMAIN,
                 "non-increasing knots");
    CHECK_MESSAGE("kp[2]", "names the knot");
    CHECK_STATUS(berg_multiplier_create_radial(&bad, s, 1, kp, cp, 0), BERG_ERR_SIZE, "np 1");
    double cnan[3] = {1, NAN, 2};
    CHECK_STATUS(berg_multiplier_create_radial(&bad, s, 3, kp, cnan, 0), BERG_ERR_NONFINITE,
                 "NaN value");
    CHECK_MESSAGE("cp[1]", "names the value");
    double kneg[2] = {-1, 1};
    CHECK_STATUS(berg_multiplier_create_radial(&bad, s, 2, kneg, cq, 0), BERG_ERR_DOMAIN,
                 "negative knot");
    CHECK_STATUS(berg_multiplier_create_radial(&bad, s, 2, NULL, cq, 0), BERG_ERR_NULL, "NULL");
    CHECK(bad == NULL, "out untouched");
    berg_multiplier_destroy(mr);
    berg_multiplier_destroy(mc);
    berg_multiplier_destroy(mk);
    berg_space_destroy(s);
}

static int gauss_spectrum(size_t d, const double *k, double *c, void *ud)
{
    double ell = *(double *)ud;
    (void)d;
    *c = exp(-0.5 * k[0] * k[0] * ell * ell);
    return 0;
}

static void test_random_field(void)
{
    const size_t n = 64;
    double lo = 0, hi = 8, ell = 0.7;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_multiplier *m = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, gauss_spectrum, &ell), BERG_OK, "create");
    double a[64], b[64], c[64];
    CHECK_STATUS(berg_multiplier_random_field(m, 123, 0, a), BERG_OK, "field");
    berg_multiplier_random_field(m, 123, 0, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed and stream: same field");
    berg_multiplier_random_field(m, 123, 1, c);
    CHECK(tu_max_abs_diff(a, c, 64) > 1e-3, "another stream: another field");
    /* exact lattice covariance: E[phi_i phi_j] = (1/L) sum_m C(k_m) cos(k_m (x_i - x_j)) */
    double var0 = 0, cov1 = 0, hstep = 8.0 / 64;
    for (int mm = -31; mm <= 32; mm++) {
        double k = 2 * M_PI * mm / 8.0, C = exp(-0.5 * k * k * ell * ell);
        var0 += C / 8.0;
        cov1 += C * cos(k * hstep) / 8.0;
    }
    const int R = 400;
    double s0 = 0, s1 = 0;
    for (int r = 0; r < R; r++) {
        berg_multiplier_random_field(m, 2024, (unsigned long long)r, a);
        for (size_t i = 0; i < n; i++) {
            s0 += a[i] * a[i];
            s1 += a[i] * a[(i + 1) % n];
        }
    }
    s0 /= (double)(R * n);
    s1 /= (double)(R * n);
    /* the estimator from 400 fields of ~8 correlation lengths each: standard
     * error ~ var0 * sqrt(2 / (400 * 8 / 0.7 * ...)) ~ 2%; allow 6 sigma */
    CHECK_REL(s0, var0, 0.12, "field variance");
    CHECK_REL(s1, cov1, 0.12, "field nearest-neighbour covariance");
    /* a negative spectrum is refused, output untouched */
    double kp[2] = {0, 10}, cp[2] = {1, -1};
    berg_multiplier *neg = NULL;
    berg_multiplier_create_radial(&neg, s, 2, kp, cp, 0);
    tu_fill(b, 64, -3.5);
    CHECK_STATUS(berg_multiplier_random_field(neg, 1, 0, b), BERG_ERR_DOMAIN, "negative spectrum");
    CHECK(tu_untouched(b, 64, -3.5), "untouched");
    CHECK_STATUS(berg_multiplier_exp_apply(neg, 0.1, a, b), BERG_ERR_DOMAIN, "negative exp");
    CHECK_MESSAGE("k = (", "names the mode");
    CHECK(tu_untouched(b, 64, -3.5), "untouched");
    CHECK_STATUS(berg_multiplier_apply(neg, a, b), BERG_OK, "plain apply allows any sign");
    CHECK_STATUS(berg_multiplier_random_field(NULL, 1, 0, b), BERG_ERR_NULL, "NULL m");
    CHECK_STATUS(berg_multiplier_random_field(m, 1, 0, NULL), BERG_ERR_NULL, "NULL out");
    berg_multiplier_destroy(neg);
    berg_multiplier_destroy(m);
    berg_space_destroy(s);
}

static int failing_symbol(size_t d, const double *k, double *c, void *ud)
{
    (void)d;
    (void)ud;
    *c = 1;
    return k[0] > 3 ? -2 : 0;
}

static int nan_symbol(size_t d, const double *k, double *c, void *ud)
{
    (void)d;
    (void)ud;
    *c = k[0] > 3 ? NAN : 1;
    return 0;
}

static int negative_symbol(size_t d, const double *k, double *c, void *ud)
{
    (void)d;
    (void)ud;
    *c = 1 - k[0];
    return 0;
}

static void test_bad_input(void)
{
    const size_t n = 16;
    double lo = 0, hi = 1;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_multiplier *m = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, failing_symbol, NULL), BERG_ERR_CALLBACK,
                 "symbol error");
    CHECK_MESSAGE("returned -2", "reports the return value");
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, nan_symbol, NULL), BERG_ERR_CALLBACK, "NaN");
    CHECK_MESSAGE("k = (", "reports the mode");
    CHECK_STATUS(berg_multiplier_create(&m, s, 0, NULL, NULL), BERG_ERR_NULL, "NULL symbol");
    CHECK_STATUS(berg_multiplier_create(&m, NULL, 0, negative_symbol, NULL), BERG_ERR_NULL,
                 "NULL space");
    CHECK_STATUS(berg_multiplier_create(NULL, s, 0, negative_symbol, NULL), BERG_ERR_NULL,
                 "NULL out");
    CHECK_STATUS(berg_multiplier_create(&m, s, 0x40u, negative_symbol, NULL), BERG_ERR_DOMAIN,
                 "unknown flags");
    CHECK_STATUS(berg_multiplier_create_ex(&m, s, 0, 0, negative_symbol, NULL), BERG_ERR_DOMAIN,
                 "nthreads 0");
    CHECK(m == NULL, "out untouched");
    CHECK_STATUS(berg_multiplier_create_ex(&m, s, 2, 0, negative_symbol, NULL), BERG_OK, "create");
    double in[16], out[16];
    tu_fill(in, 16, 1);
    tu_fill(out, 16, 9.5);
    CHECK_STATUS(berg_multiplier_exp_apply(m, 0.5, in, out), BERG_ERR_DOMAIN, "negative symbol");
    CHECK_MESSAGE("c >= 0", "says why");
    CHECK(tu_untouched(out, 16, 9.5), "untouched");
    CHECK_STATUS(berg_multiplier_exp_apply(m, -1, in, out), BERG_ERR_TIME, "negative t");
    CHECK_STATUS(berg_multiplier_exp_apply(m, NAN, in, out), BERG_ERR_TIME, "NaN t");
    CHECK_STATUS(berg_multiplier_apply(m, NULL, out), BERG_ERR_NULL, "NULL in");
    CHECK_STATUS(berg_multiplier_apply(m, in, NULL), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_multiplier_apply(NULL, in, out), BERG_ERR_NULL, "NULL m");
    CHECK(tu_untouched(out, 16, 9.5), "untouched");
    berg_multiplier_destroy(m);
    berg_multiplier_destroy(NULL);
    berg_space_destroy(s);
}

/* a flag of another creator is refused, names the flag, leaves out alone */
static void test_foreign_flags(void)
{
    const size_t n = 16;
    double lo = 0, hi = 1;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_multiplier *m = (berg_multiplier *)(void *)&n; /* a sentinel */
    CHECK_STATUS(berg_multiplier_create(&m, s, BERG_FP_FOURIER, negative_symbol, NULL),
                 BERG_ERR_DOMAIN, "BERG_FP_FOURIER refused");
    CHECK_MESSAGE("BERG_FP_FOURIER", "names the flag");
    CHECK_STATUS(berg_multiplier_create_regulator(&m, s, BERG_REGULATOR_SHARP, 1.0,
                                                  BERG_SINKHORN_LOG_DOMAIN),
                 BERG_ERR_DOMAIN, "BERG_SINKHORN_LOG_DOMAIN refused");
    CHECK_MESSAGE("BERG_SINKHORN_LOG_DOMAIN", "names the flag");
    CHECK(m == (berg_multiplier *)(void *)&n, "out untouched");
    berg_space_destroy(s);
}

/* ---- one handle applied from 8 threads at once --------------------------- */

#define NTHREADS 8
#define ROUNDS 20

typedef struct {
    const berg_multiplier *m;
    const double *in;
    size_t N;
    int id;
    double *out; /* 3 * N: apply, exp_apply (t depends on id), random field */
    int failures;
} mt_arg;

static void *mt_main(void *v)
{
    mt_arg *a = v;
    double *o = malloc(3 * a->N * sizeof(double));
    for (int r = 0; r < ROUNDS; r++) {
        int bad = berg_multiplier_apply(a->m, a->in, o) != BERG_OK ||
                  berg_multiplier_exp_apply(a->m, 0.001 * (1 + a->id % 3), a->in, o + a->N) !=
                      BERG_OK ||
                  berg_multiplier_random_field(a->m, 7, (unsigned long long)a->id, o + 2 * a->N) !=
                      BERG_OK;
        if (bad || (r > 0 && memcmp(o, a->out, 3 * a->N * sizeof(double)) != 0))
            a->failures++;
        memcpy(a->out, o, 3 * a->N * sizeof(double));
    }
    free(o);
    return NULL;
}

static void test_threads(void)
{
    size_t n[2] = {64, 48};
    double lo[2] = {0, 0}, hi[2] = {1, 1}, g[4] = {1.3, 0.2, 0.2, 0.9};
    berg_space *s = tu_space(2, n, lo, hi, NULL, g);
    knorm_ctx ctx = {{0}, 0};
    berg_space_inverse_metric(s, ctx.ginv);
    berg_multiplier *m = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, BERG_PLAN_ESTIMATE, k2_symbol, &ctx), BERG_OK,
                 "create");
    size_t N = n[0] * n[1];
    double *in = tu_vec(N), *ref = tu_vec(3 * N * NTHREADS), *got = tu_vec(3 * N * NTHREADS);
    for (size_t i = 0; i < N; i++)
        in[i] = sin(0.37 * (double)i) + 0.1 * (double)(i % 7);
    /* serial references */
    for (int j = 0; j < NTHREADS; j++) {
        double *o = ref + 3 * N * (size_t)j;
        berg_multiplier_apply(m, in, o);
        berg_multiplier_exp_apply(m, 0.001 * (1 + j % 3), in, o + N);
        berg_multiplier_random_field(m, 7, (unsigned long long)j, o + 2 * N);
    }
    pthread_t th[NTHREADS];
    mt_arg args[NTHREADS];
    for (int j = 0; j < NTHREADS; j++) {
        args[j] = (mt_arg){m, in, N, j, got + 3 * N * (size_t)j, 0};
        pthread_create(&th[j], NULL, mt_main, &args[j]);
    }
    int failures = 0;
    for (int j = 0; j < NTHREADS; j++) {
        pthread_join(th[j], NULL);
        failures += args[j].failures;
    }
    CHECK(failures == 0, "every call succeeded and repeated itself (%d failures)", failures);
    CHECK(memcmp(ref, got, 3 * N * NTHREADS * sizeof(double)) == 0,
          "8 threads on one handle = serial results, bitwise");
    free(in), free(ref), free(got);
    berg_multiplier_destroy(m);
    berg_space_destroy(s);
}

int main(void)
{
    test_symbols();
    test_two_paths();
    test_mode_k();
    test_regulators();
    test_radial();
    test_random_field();
    test_bad_input();
    test_foreign_flags();
    test_threads();
    return test_summary("multiplier");
}
