/*
 * Right or refused on extreme but finite input (issue 13, space and
 * propagator): boxes at the ends of the double range, counts whose byte
 * size overflows, subnormal times, inputs near DBL_MAX, Fokker-Planck runs
 * that used to hang, and the statuses of non-finite symbols. Every success
 * is checked against an independent value (an exact eigenmode, scale
 * invariance, an equilibrium formula, a leak bound); every refusal for its
 * status, its message and untouched outputs.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SENTINEL (-7.25)

static berg_space *line_or_null(size_t n, double lo, double hi, berg_boundary bc)
{
    berg_space *s = NULL;
    berg_status st = berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    return st == BERG_OK ? s : NULL;
}

/* ---- boxes ------------------------------------------------------------- */

static void refused_space(size_t ndim, const size_t *n, const double *lo, const double *hi,
                          const char *fragment, const char *what)
{
    berg_space *s = (berg_space *)(uintptr_t)0x1234;
    CHECK_STATUS(berg_space_create(&s, ndim, n, lo, hi, NULL, NULL), BERG_ERR_DOMAIN, "%s", what);
    CHECK(s == (berg_space *)(uintptr_t)0x1234, "%s: out untouched", what);
    CHECK_MESSAGE(fragment, what);
    CHECK_MESSAGE("berg_space_create", what);
}

static void test_space_scales(void)
{
    /* 13 cells of total width 2.2e-308: subnormal cells (the normalized
     * density's integral was inf) */
    size_t n13 = 13, n8 = 8, n1[2] = {1, 1};
    double lo = 0.0, hi = 2.2e-308;
    refused_space(1, &n13, &lo, &hi, "cell width", "13 cells over 2.2e-308");
    /* cells of normal widths whose product underflows */
    double lo2[2] = {0, 0}, hi2[2] = {1e-200, 1e-200};
    refused_space(2, n1, lo2, hi2, "cell volume", "1e-200 x 1e-200 cell");
    /* the box of the Fokker-Planck stationary state with mass 0 */
    double lo3 = 4.9e-324, hi3 = 1.79e308;
    refused_space(1, &n8, &lo3, &hi3, "volume", "box [4.9e-324, 1.79e308]");

    /* the largest accepted volumes: a normalized density is normal and
     * integrates to 1 */
    berg_space *s = line_or_null(8, 0.0, 4e307, BERG_NEUMANN);
    CHECK(s != NULL, "box [0, 4e307] accepted: %s", berg_last_error());
    if (s) {
        /* values 1/36 .. 8/36: the mass 5e306 is finite */
        double p[8], mass = 0.0, one = 0.0;
        for (int i = 0; i < 8; i++)
            p[i] = (1.0 + i) / 36.0;
        CHECK_STATUS(berg_space_normalize(s, p, &mass), BERG_OK, "normalize on [0, 4e307]");
        CHECK_STATUS(berg_space_integrate(s, p, &one), BERG_OK, "integrate on [0, 4e307]");
        CHECK_REL(one, 1.0, 1e-14, "mass after normalizing on [0, 4e307]");
        CHECK(tu_max_abs(p, 8) >= DBL_MIN, "normalized values on [0, 4e307] are normal");
        double V[8], q[8];
        for (int i = 0; i < 8; i++)
            V[i] = 0.5 * i;
        berg_fp *fp = NULL;
        CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "fp on [0, 4e307]");
        if (fp) {
            CHECK_STATUS(berg_fp_stationary(fp, q), BERG_OK, "stationary on [0, 4e307]");
            CHECK_STATUS(berg_space_integrate(s, q, &one), BERG_OK, "integrate q");
            CHECK_REL(one, 1.0, 1e-14, "stationary mass on [0, 4e307]");
            for (int i = 0; i < 8; i++)
                CHECK_REL(q[i] / q[0], exp(-V[i]), 1e-14, "stationary q[%d] / q[0]", i);
            berg_fp_destroy(fp);
        }
        berg_space_destroy(s);
    }
}

/* integrals and moments of values near the ends of the double range (the
 * fuzz findings of /tmp/berg-spec/bugs.md, space) */
static void test_space_values(void)
{
    /* two cells of 0.75 DBL_MAX on [0, 1]: the sum overflows, the integral
     * 0.75 DBL_MAX does not */
    berg_space *s = line_or_null(2, 0.0, 1.0, BERG_PERIODIC);
    double f[2] = {0.75 * DBL_MAX, 0.75 * DBL_MAX}, v = SENTINEL;
    CHECK_STATUS(berg_space_integrate(s, f, &v), BERG_OK, "integral of 2 x 0.75 DBL_MAX");
    CHECK_REL(v, 0.75 * DBL_MAX, 1e-15, "integral of 2 x 0.75 DBL_MAX");
    berg_space_destroy(s);
    /* one cell on [-5, 3] with f = DBL_MAX: 8 DBL_MAX is refused */
    s = line_or_null(1, -5.0, 3.0, BERG_PERIODIC);
    double g = DBL_MAX;
    v = SENTINEL;
    CHECK_STATUS(berg_space_integrate(s, &g, &v), BERG_ERR_DOMAIN, "integral 8 DBL_MAX");
    CHECK_MESSAGE("berg_space_integrate", "integral 8 DBL_MAX");
    CHECK(v == SENTINEL, "integral 8 DBL_MAX: out untouched");
    berg_space_destroy(s);

    /* 57 cells on [-3, 4], p = {DBL_MAX, 1000, 0, ...}: the mean is the
     * first cell's centre to the weight 1000 / DBL_MAX */
    s = line_or_null(57, -3.0, 4.0, BERG_PERIODIC);
    double p57[57] = {DBL_MAX, 1000.0}, mean = SENTINEL, cov = SENTINEL;
    double h = 7.0 / 57.0, x0 = -3.0 + 0.5 * h;
    CHECK_STATUS(berg_space_moments(s, p57, &mean, &cov), BERG_OK, "moments of DBL_MAX");
    CHECK_REL(mean, x0, 1e-15, "mean of {DBL_MAX, 1000, 0..}");
    CHECK_ABS(cov, 0.0, 1e-290, "covariance of {DBL_MAX, 1000, 0..}");
    berg_space_destroy(s);

    /* subnormal masses: 1 cell with 2.0257e-322, 55 cells with 4.94e-324
     * in the first: the mean is that cell's centre (was outside the box) */
    s = line_or_null(1, -21.4912109375, -21.490234375, BERG_PERIODIC);
    double sub = 2.0257e-322;
    CHECK_STATUS(berg_space_mean(s, &sub, &mean), BERG_OK, "mean of a subnormal mass");
    CHECK_REL(mean, -21.4912109375 + 0.5 * 0.0009765625, 1e-15, "mean of a subnormal mass");
    berg_space_destroy(s);
    s = line_or_null(55, 0.0009765625, 2.13671875, BERG_DIRICHLET);
    double p55[55] = {4.94e-324};
    CHECK_STATUS(berg_space_mean(s, p55, &mean), BERG_OK, "mean of DBL_TRUE_MIN");
    CHECK_REL(mean, 0.0009765625 + 0.5 * (2.13671875 - 0.0009765625) / 55.0, 1e-15,
              "mean of DBL_TRUE_MIN in cell 0");
    berg_space_destroy(s);

    /* 29 cells on [-7.58e176, 5.02]: the variance ~ L^2 / 12 ~ 5e352 exceeds
     * DBL_MAX: refused, the mean is not written either */
    size_t n29 = 29;
    double lo = -7.58e176, hi = 5.02, gm = 0.28125, p29[29];
    berg_boundary neu = BERG_NEUMANN;
    s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n29, &lo, &hi, &neu, &gm), BERG_OK, "wide box");
    tu_fill(p29, 29, 0.01);
    mean = cov = SENTINEL;
    CHECK_STATUS(berg_space_moments(s, p29, &mean, &cov), BERG_ERR_DOMAIN, "covariance overflow");
    CHECK_MESSAGE("cov", "covariance overflow");
    CHECK(mean == SENTINEL && cov == SENTINEL, "covariance overflow: outputs untouched");
    CHECK_STATUS(berg_space_mean(s, p29, &mean), BERG_OK, "mean on the wide box");
    CHECK_REL(mean, 0.5 * (lo + hi), 1e-14, "mean on the wide box");
    berg_space_destroy(s);

    /* histogram on one cell of 4.3268e307 with 7 points: 1 / (count w)
     * overflowed to 0; the density 1 / w integrates to 1 */
    size_t n1c = 1;
    double lo1 = -2.44e-238, hi1 = 4.3268e307, pts[7], hist1 = SENTINEL;
    s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n1c, &lo1, &hi1, NULL, NULL), BERG_OK, "cell 4.3e307");
    for (int i = 0; i < 7; i++)
        pts[i] = 1e300 * (i + 1);
    CHECK_STATUS(berg_space_histogram(s, 7, pts, &hist1, NULL), BERG_OK, "histogram 4.3e307");
    CHECK_STATUS(berg_space_integrate(s, &hist1, &v), BERG_OK, "integrate histogram");
    CHECK_REL(v, 1.0, 1e-12, "histogram on 4.3e307 integrates to 1");
    berg_space_destroy(s);

    /* the volume of 4x1x1x63 cells on [-4,1] x [5.23e250, 1e307] x [-4,3] x
     * [-0.0176, 0]: 5 * 1e307 * 7 overflowed before * 0.0176 */
    size_t n4d[4] = {4, 1, 1, 63};
    double lo4[4] = {-4, 5.23e250, -4, -0.0176}, hi4[4] = {1, 1e307, 3, 0};
    s = NULL;
    CHECK_STATUS(berg_space_create(&s, 4, n4d, lo4, hi4, NULL, NULL), BERG_OK, "4-D wide box");
    CHECK_REL(berg_space_volume(s), 0.0176 * 5.0 * 7.0 * (1e307 - 5.23e250), 1e-15,
              "volume of the 4-D wide box");
    CHECK_REL(berg_space_cell_weight(s) * 252.0, berg_space_volume(s), 1e-14,
              "cell weight x cells = volume");
    berg_space_destroy(s);

    /* inner product and tangent projection of values near DBL_MAX */
    s = line_or_null(4, 0.0, 1e-300, BERG_PERIODIC);
    double f4[4] = {1e300, -1e300, 1e300, 1e300}, g4[4] = {1e10, -1e10, 1e10, 1e10}, o4[4];
    CHECK_STATUS(berg_space_inner_l2(s, f4, g4, &v), BERG_OK, "inner_l2 of products 1e310");
    /* four products of 1e310 on cells of 2.5e-301 */
    CHECK_REL(v, 1e10, 1e-14, "inner_l2 of products 1e310");
    berg_space_destroy(s);
    s = line_or_null(4, 0.0, 1.0, BERG_PERIODIC);
    double t4[4] = {DBL_MAX, DBL_MAX, 0.5 * DBL_MAX, 0.5 * DBL_MAX};
    CHECK_STATUS(berg_space_project_tangent(s, t4, o4), BERG_OK, "project_tangent near DBL_MAX");
    CHECK_REL(o4[0], 0.25 * DBL_MAX, 1e-15, "project_tangent near DBL_MAX, 0");
    CHECK_REL(o4[3], -0.25 * DBL_MAX, 1e-15, "project_tangent near DBL_MAX, 3");
    double u4[4] = {DBL_MAX, -DBL_MAX, DBL_MAX, DBL_MAX};
    tu_fill(o4, 4, SENTINEL);
    CHECK_STATUS(berg_space_project_tangent(s, u4, o4), BERG_ERR_DOMAIN,
                 "project_tangent beyond DBL_MAX");
    CHECK(tu_untouched(o4, 4, SENTINEL), "project_tangent beyond DBL_MAX: out untouched");
    berg_space_destroy(s);

    /* messages name the function the caller called */
    s = line_or_null(8, 0.0, 1.0, BERG_PERIODIC);
    berg_heat *hh = NULL;
    CHECK_STATUS(berg_heat_create_ex(&hh, s, 1, 1, BERG_FP_FOURIER), BERG_ERR_DOMAIN,
                 "heat_create_ex foreign flag");
    CHECK_MESSAGE("berg_heat_create_ex", "heat_create_ex foreign flag");
    CHECK_STATUS(berg_space_mean(s, NULL, &mean), BERG_ERR_NULL, "space_mean NULL p");
    CHECK_MESSAGE("berg_space_mean", "space_mean NULL p");
    berg_space_destroy(s);
}

/* one cell of width 1e-300 with a metric: the finite-difference heat step
 * was NaN (0/0 at k = 0); the only mode is constant, so out = in */
static void test_tiny_cells_heat(void)
{
    size_t n = 1;
    double lo = 0.0, hi = 1e-300, g = 2.0;
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, NULL, &g), BERG_OK, "one cell of 1e-300");
    if (!s)
        return;
    for (int fd = 0; fd < 2; fd++) {
        berg_heat *h = NULL;
        unsigned flags = BERG_PLAN_ESTIMATE | (fd ? BERG_SYMBOL_FD : 0u);
        CHECK_STATUS(berg_heat_create(&h, s, flags), BERG_OK, "heat on one tiny cell (fd %d)", fd);
        if (!h)
            continue;
        double in = 3.5, out = SENTINEL;
        CHECK_STATUS(berg_heat_apply(h, 1.0, &in, &out), BERG_OK, "apply (fd %d)", fd);
        CHECK(out == 3.5, "one cell keeps its value (fd %d): %g", fd, out);
        berg_heat_destroy(h);
    }
    berg_space_destroy(s);

    /* two periodic cells of 5e-301: (2 pi / L)^2 overflows; refused at
     * creation naming 1/h^2 rather than NaN at apply */
    s = line_or_null(2, 0.0, 1e-300, BERG_PERIODIC);
    CHECK(s != NULL, "two cells of 5e-301");
    for (int fd = 0; s && fd < 2; fd++) {
        berg_heat *h = (berg_heat *)(uintptr_t)0x99;
        unsigned flags = BERG_PLAN_ESTIMATE | (fd ? BERG_SYMBOL_FD : 0u);
        CHECK_STATUS(berg_heat_create(&h, s, flags), BERG_ERR_DOMAIN, "symbol overflow (fd %d)",
                     fd);
        CHECK(h == (berg_heat *)(uintptr_t)0x99, "out untouched (fd %d)", fd);
        CHECK_MESSAGE("1/h^2", "symbol overflow");
    }
    berg_space_destroy(s);
}

/* ---- counts whose byte size overflows: refused before the array is read */

static double grad_zero(size_t d, const double *x, double *g, void *u)
{
    (void)x;
    (void)u;
    for (size_t a = 0; a < d; a++)
        g[a] = 0.0;
    return 0;
}

static int grad_cb(size_t d, const double *x, double *g, void *u)
{
    grad_zero(d, x, g, u);
    return 0;
}

static void test_count_overflow(void)
{
    berg_space *s = line_or_null(16, 0.0, 1.0, BERG_PERIODIC);
    double one[4] = {0.5, 0.5, 0.5, 0.5}, out[4];
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE), BERG_OK, "heat");
    /* t has 4 elements: reading SIZE_MAX / 2 of them would crash */
    size_t bad_nt[2] = {SIZE_MAX / 2, ((size_t)1 << 60) + 1};
    for (int k = 0; k < 2; k++) {
        tu_fill(out, 4, SENTINEL);
        CHECK_STATUS(berg_heat_apply_times(h, bad_nt[k], one, one, out), BERG_ERR_SIZE,
                     "apply_times nt = %zu", bad_nt[k]);
        CHECK_MESSAGE("berg_heat_apply_times", "apply_times count");
        CHECK(tu_untouched(out, 4, SENTINEL), "apply_times: out untouched");
    }
    berg_heat_destroy(h);

    berg_multiplier *m = (berg_multiplier *)(uintptr_t)0x77;
    CHECK_STATUS(berg_multiplier_create_radial(&m, s, SIZE_MAX / 4, one, one, BERG_PLAN_ESTIMATE),
                 BERG_ERR_SIZE, "radial np = SIZE_MAX / 4");
    CHECK_MESSAGE("berg_multiplier_create_radial", "radial count");
    CHECK(m == (berg_multiplier *)(uintptr_t)0x77, "radial: out untouched");

    double hist[16];
    tu_fill(hist, 16, SENTINEL);
    CHECK_STATUS(berg_space_histogram(s, SIZE_MAX / 4, one, hist, NULL), BERG_ERR_SIZE,
                 "histogram count = SIZE_MAX / 4");
    CHECK_MESSAGE("berg_space_histogram", "histogram count");
    CHECK(tu_untouched(hist, 16, SENTINEL), "histogram: hist untouched");
    berg_space_destroy(s);

    berg_particles *ps = NULL;
    CHECK_STATUS(berg_particles_create(&ps, 2, 1, NULL), BERG_OK, "particles");
    double A[4] = {1, 0, 0, 1};
    tu_fill(out, 4, SENTINEL);
    CHECK_STATUS(berg_particles_euler(ps, 0.1, 1, SIZE_MAX, out, grad_cb, NULL), BERG_ERR_SIZE,
                 "euler count = SIZE_MAX");
    CHECK(tu_untouched(out, 4, SENTINEL), "euler: x untouched");
    CHECK_STATUS(berg_particles_ou(ps, 0.1, (size_t)1 << 32, A, NULL, out), BERG_ERR_SIZE,
                 "ou count = 2^32");
    CHECK_MESSAGE("berg_particles_ou", "ou count");
    CHECK(tu_untouched(out, 4, SENTINEL), "ou: x untouched");
    berg_particles_destroy(ps);
}

/* ---- subnormal times ------------------------------------------------------ */

static void test_subnormal_times(void)
{
    /* on [0, 1] every t q is far below rounding: each block equals in */
    berg_space *s = line_or_null(16, 0.0, 1.0, BERG_PERIODIC);
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE), BERG_OK, "heat");
    double in[16], out[48], t[3] = {1e-310, 0.0, 5e-324};
    for (int i = 0; i < 16; i++)
        in[i] = 1.0 + cos(0.3 * i);
    tu_fill(out, 48, SENTINEL);
    CHECK_STATUS(berg_heat_apply_times(h, 3, t, in, out), BERG_OK, "apply_times subnormal");
    for (int j = 0; j < 3; j++)
        CHECK(tu_max_abs_diff(out + 16 * j, in, 16) <= 1e-14, "block %d (t = %g) is in", j, t[j]);
    berg_heat_destroy(h);
    berg_space_destroy(s);

    /* on a box of side 1e-150, t = 1e-310 is the time 1e-10 of the unit
     * box (scale invariance: t / L^2); the mode sin(2 pi x) decays by
     * exp(-4 pi^2 t / L^2) */
    const double L = 1e-150, ts = 1e-310;
    s = line_or_null(16, 0.0, L, BERG_PERIODIC);
    berg_space *u = line_or_null(16, 0.0, 1.0, BERG_PERIODIC);
    berg_heat *hs = NULL, *hu = NULL;
    CHECK_STATUS(berg_heat_create(&hs, s, BERG_PLAN_ESTIMATE), BERG_OK, "heat on 1e-150");
    CHECK_STATUS(berg_heat_create(&hu, u, BERG_PLAN_ESTIMATE), BERG_OK, "heat on 1");
    double a[16], b[16];
    for (int i = 0; i < 16; i++)
        in[i] = 2.0 + sin(2.0 * M_PI * (i + 0.5) / 16.0);
    CHECK_STATUS(berg_heat_apply(hs, ts, in, a), BERG_OK, "apply t = 1e-310");
    CHECK_STATUS(berg_heat_apply_times(hs, 1, &ts, in, out), BERG_OK, "apply_times t = 1e-310");
    CHECK_STATUS(berg_heat_apply(hu, ts / (L * L), in, b), BERG_OK, "apply t = 1e-10");
    double decay = exp(-4.0 * M_PI * M_PI * ts / (L * L));
    CHECK(decay < 1.0 - 1e-9, "the test time is not negligible");
    for (int i = 0; i < 16; i++) {
        double want = 2.0 + decay * sin(2.0 * M_PI * (i + 0.5) / 16.0);
        CHECK_REL(a[i], want, 1e-12, "1e-150 box at t = 1e-310, cell %d", i);
        CHECK_REL(b[i], want, 1e-13, "unit box at t = 1e-10, cell %d", i);
        CHECK(out[i] == a[i], "apply_times equals apply bitwise, cell %d", i);
    }
    berg_heat_destroy(hs);
    berg_heat_destroy(hu);
    berg_space_destroy(s);
    berg_space_destroy(u);
}

/* t = 0 is an exact copy, also of subnormal values next to -DBL_MAX (the
 * scaled transform flushed them), and apply equals apply_times bitwise */
static void test_heat_t0_copy(void)
{
    size_t n[3] = {6, 8, 2};
    double lo[3] = {0, 1e307, 0}, hi[3] = {1, 1.0000001e307, 1};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 3, n, lo, hi, NULL, NULL), BERG_OK, "6x8x2 space");
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE), BERG_OK, "heat");
    double in[96] = {100.0, -DBL_MAX, 1.26e-321}, a[96], b[96], t0 = 0.0;
    in[50] = 2.94e-319;
    CHECK_STATUS(berg_heat_apply(h, 0.0, in, a), BERG_OK, "apply t = 0");
    CHECK_STATUS(berg_heat_apply_times(h, 1, &t0, in, b), BERG_OK, "apply_times t = 0");
    CHECK(memcmp(a, in, sizeof in) == 0, "apply at t = 0 copies in exactly");
    CHECK(memcmp(b, in, sizeof in) == 0, "apply_times at t = 0 copies in exactly");
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

/* ---- inputs near DBL_MAX -------------------------------------------------- */

/* in = A (1.5 + e(x)) with e an eigenmode of the cell-centred transform of
 * the boundary kind: the heat step multiplies e by exp(-k^2 t) */
static void huge_mode(berg_boundary bc, size_t n, double A)
{
    berg_space *s = line_or_null(n, 0.0, 1.0, bc);
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE), BERG_OK, "heat bc %d", (int)bc);
    double *in = tu_vec(n), *out = tu_vec(2 * n), k = (bc == BERG_PERIODIC) ? 2.0 * M_PI : M_PI;
    double c = (bc == BERG_DIRICHLET) ? 0.0 : 1.5, t[2] = {0.01, 0.002};
    for (size_t i = 0; i < n; i++) {
        double x = (i + 0.5) / (double)n;
        in[i] = A * (c + (bc == BERG_NEUMANN ? cos(k * x) : sin(k * x)));
    }
    CHECK_STATUS(berg_heat_apply(h, t[0], in, out), BERG_OK, "apply near %g (bc %d)", A, (int)bc);
    CHECK_STATUS(berg_heat_apply_times(h, 2, t, in, out), BERG_OK, "apply_times near %g", A);
    for (int j = 0; j < 2; j++)
        for (size_t i = 0; i < n; i++) {
            double x = (i + 0.5) / (double)n, e = bc == BERG_NEUMANN ? cos(k * x) : sin(k * x);
            double want = c + exp(-k * k * t[j]) * e; /* out / A */
            CHECK_ABS(out[j * n + i] / A, want, 1e-12, "A = %g bc %d t %g cell %zu", A,
                      (int)bc, t[j], i);
        }
    /* a NaN is refused, out untouched */
    in[n / 2] = NAN;
    tu_fill(out, n, SENTINEL);
    CHECK_STATUS(berg_heat_apply(h, t[0], in, out), BERG_ERR_NONFINITE, "NaN input");
    CHECK(tu_untouched(out, n, SENTINEL), "NaN input: out untouched");
    free(in);
    free(out);
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

static void test_huge_inputs(void)
{
    const berg_boundary kinds[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    for (int b = 0; b < 3; b++) {
        huge_mode(kinds[b], 1024, 1e307);
        huge_mode(kinds[b], 64, 0.3 * DBL_MAX);
        huge_mode(kinds[b], 64, 1.0); /* the unscaled path, same formula */
    }
    /* DBL_MAX everywhere: the exact result is DBL_MAX; right or refused */
    berg_space *s = line_or_null(64, 0.0, 1.0, BERG_PERIODIC);
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE), BERG_OK, "heat");
    double in[64], out[64];
    tu_fill(in, 64, DBL_MAX);
    tu_fill(out, 64, SENTINEL);
    berg_status st = berg_heat_apply(h, 0.1, in, out);
    if (st == BERG_OK) {
        for (int i = 0; i < 64; i++)
            CHECK_REL(out[i], DBL_MAX, 1e-13, "DBL_MAX constant, cell %d", i);
    } else {
        CHECK_STATUS(st, BERG_ERR_DOMAIN, "DBL_MAX constant refused");
        CHECK(tu_untouched(out, 64, SENTINEL), "DBL_MAX constant: out untouched");
    }
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

/* ---- statuses of symbols ---------------------------------------------- */

static int symbol_value(size_t d, const double *k, double *c, void *u)
{
    (void)d;
    (void)k;
    *c = *(const double *)u;
    return 0;
}

static void test_symbol_statuses(void)
{
    berg_space *s = line_or_null(16, 0.0, 1.0, BERG_PERIODIC);
    const double bad[2] = {NAN, INFINITY};
    for (int j = 0; j < 2; j++) {
        berg_multiplier *m = NULL;
        berg_langevin *lf = NULL;
        CHECK_STATUS(berg_multiplier_create(&m, s, BERG_PLAN_ESTIMATE, symbol_value,
                                            (void *)(uintptr_t)&bad[j]),
                     BERG_ERR_CALLBACK, "multiplier symbol %g", bad[j]);
        CHECK_STATUS(berg_langevin_create(&lf, s, 1, symbol_value, (void *)(uintptr_t)&bad[j]),
                     BERG_ERR_CALLBACK, "langevin symbol %g", bad[j]);
        CHECK_MESSAGE("berg_langevin_create", "langevin non-finite symbol");
        CHECK(m == NULL && lf == NULL, "no handle escapes");
    }
    double neg = -1.0;
    berg_langevin *lf = NULL;
    CHECK_STATUS(berg_langevin_create(&lf, s, 1, symbol_value, &neg), BERG_ERR_DOMAIN,
                 "langevin negative symbol");
    berg_space_destroy(s);
}

/* multipliers on inputs near DBL_MAX and regulators with a tiny lambda
 * (bugs.md, propagator) */
static void test_multiplier_extremes(void)
{
    enum { N = 64 };
    berg_space *s = line_or_null(N, 0.0, 1.0, BERG_PERIODIC);
    double in[N], out[N];
    for (int i = 0; i < N; i++)
        in[i] = 0.3 * DBL_MAX * (1.5 + sin(2.0 * M_PI * (i + 0.5) / N));
    const double half = 0.5, two = 2.0;
    berg_multiplier *m = NULL;
    /* c = 1/2: out = in / 2 (the sums of the transform overflow unscaled) */
    CHECK_STATUS(berg_multiplier_create(&m, s, BERG_PLAN_ESTIMATE, symbol_value,
                                        (void *)(uintptr_t)&half),
                 BERG_OK, "multiplier c = 1/2");
    CHECK_STATUS(berg_multiplier_apply(m, in, out), BERG_OK, "c = 1/2 near DBL_MAX");
    for (int i = 0; i < N; i++)
        CHECK_REL(out[i], 0.5 * in[i], 1e-12, "c = 1/2 near DBL_MAX, cell %d", i);
    /* e^{-t c} with c = 1/2: out = e^{-t/2} in */
    CHECK_STATUS(berg_multiplier_exp_apply(m, 2.0, in, out), BERG_OK, "exp_apply near DBL_MAX");
    for (int i = 0; i < N; i++)
        CHECK_REL(out[i], exp(-1.0) * in[i], 1e-12, "exp_apply near DBL_MAX, cell %d", i);
    berg_multiplier_destroy(m);
    /* c = 2: 2 in exceeds DBL_MAX where in > DBL_MAX / 2: refused */
    m = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, s, BERG_PLAN_ESTIMATE, symbol_value,
                                        (void *)(uintptr_t)&two),
                 BERG_OK, "multiplier c = 2");
    tu_fill(out, N, SENTINEL);
    CHECK_STATUS(berg_multiplier_apply(m, in, out), BERG_ERR_DOMAIN, "2 x near DBL_MAX");
    CHECK_MESSAGE("berg_multiplier_apply", "2 x near DBL_MAX");
    CHECK(tu_untouched(out, N, SENTINEL), "2 x near DBL_MAX: out untouched");
    in[3] = NAN;
    CHECK_STATUS(berg_multiplier_apply(m, in, out), BERG_ERR_NONFINITE, "NaN into a multiplier");
    CHECK(tu_untouched(out, N, SENTINEL), "NaN into a multiplier: out untouched");
    CHECK_STATUS(berg_multiplier_exp_apply(m, 0.0, in, out), BERG_ERR_NONFINITE,
                 "NaN into exp_apply at t = 0");
    CHECK(tu_untouched(out, N, SENTINEL), "NaN into exp_apply at t = 0: out untouched");
    berg_multiplier_destroy(m);
    berg_space_destroy(s);

    /* the fuzz case: regulator EXPONENTIAL, lambda 30.37, 12 x 2 x 2 Neumann
     * cells on [-2, 8]^3, in = 21 x 30.37, -DBL_MAX, zeros: right or refused */
    size_t n3[3] = {12, 2, 2};
    double lo3[3] = {-2, -2, -2}, hi3[3] = {8, 8, 8}, big[48] = {0}, o3[48];
    berg_boundary nb[3] = {BERG_NEUMANN, BERG_NEUMANN, BERG_NEUMANN};
    for (int i = 0; i < 21; i++)
        big[i] = 30.37;
    big[21] = -DBL_MAX;
    s = NULL;
    CHECK_STATUS(berg_space_create(&s, 3, n3, lo3, hi3, nb, NULL), BERG_OK, "12x2x2 space");
    m = NULL;
    CHECK_STATUS(berg_multiplier_create_regulator(&m, s, BERG_REGULATOR_EXPONENTIAL, 30.37,
                                                  BERG_PLAN_ESTIMATE),
                 BERG_OK, "regulator 30.37");
    tu_fill(o3, 48, SENTINEL);
    berg_status st = berg_multiplier_apply(m, big, o3);
    if (st == BERG_OK) {
        int finite = 1;
        for (int i = 0; i < 48; i++)
            finite &= isfinite(o3[i]) != 0;
        CHECK(finite, "regulator on -DBL_MAX: finite output");
    } else {
        CHECK_STATUS(st, BERG_ERR_DOMAIN, "regulator on -DBL_MAX refused");
        CHECK(tu_untouched(o3, 48, SENTINEL), "regulator on -DBL_MAX: out untouched");
    }
    berg_multiplier_destroy(m);
    berg_space_destroy(s);

    /* LITIM with lambda = 1e200: lambda^2 overflows: refused at creation
     * (an inf symbol reached the apply's scale exponent) */
    s = line_or_null(8, -1.0, 1.0, BERG_NEUMANN);
    m = (berg_multiplier *)(uintptr_t)0x55;
    CHECK_STATUS(berg_multiplier_create_regulator(&m, s, BERG_REGULATOR_LITIM, 1e200,
                                                  BERG_PLAN_ESTIMATE),
                 BERG_ERR_DOMAIN, "LITIM lambda = 1e200");
    CHECK_MESSAGE("lambda^2", "LITIM lambda = 1e200");
    CHECK(m == (berg_multiplier *)(uintptr_t)0x55, "LITIM lambda = 1e200: out untouched");
    berg_space_destroy(s);

    /* lambda = DBL_MIN (lambda^2 underflows): one Neumann cell has only
     * k = 0, where every exponential regulator is 1 (EXPONENTIAL) or 0 */
    s = line_or_null(1, -1.0, 1.0, BERG_NEUMANN);
    const berg_regulator kinds[2] = {BERG_REGULATOR_EXPONENTIAL, BERG_REGULATOR_EXPONENTIAL_DOT};
    const double lambdas[2] = {DBL_MIN, 1.77e-319};
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < 2; l++) {
            double x = 3.0, y = SENTINEL;
            m = NULL;
            CHECK_STATUS(berg_multiplier_create_regulator(&m, s, kinds[k], lambdas[l],
                                                          BERG_PLAN_ESTIMATE),
                         BERG_OK, "regulator %d lambda %g", k, lambdas[l]);
            CHECK_STATUS(berg_multiplier_apply(m, &x, &y), BERG_OK, "apply");
            CHECK(y == (k == 0 ? 3.0 : 0.0), "regulator %d lambda %g at k = 0: %g", k,
                  lambdas[l], y);
            berg_multiplier_destroy(m);
        }
    berg_space_destroy(s);
}

/* ---- Dirichlet mass ---------------------------------------------------- */

/* the largest total mass of e^{t Delta} e_i over spikes e_i and times */
static double max_mass_ratio(size_t n, unsigned flags)
{
    berg_space *s = line_or_null(n, 0.0, 1.0, BERG_DIRICHLET);
    berg_heat *h = NULL;
    berg_heat_create(&h, s, flags | BERG_PLAN_ESTIMATE);
    double *in = tu_vec(n), *out = tu_vec(n), best = 0.0;
    for (size_t i = 0; i < n; i++)
        for (double t = 1e-5; t < 1.0; t *= 1.1) {
            tu_fill(in, n, 0.0);
            in[i] = 1.0;
            berg_heat_apply(h, t, in, out);
            double m = 0.0;
            for (size_t j = 0; j < n; j++)
                m += out[j];
            best = fmax(best, m);
        }
    free(in);
    free(out);
    berg_heat_destroy(h);
    berg_space_destroy(s);
    return best;
}

static void test_dirichlet_mass(void)
{
    for (size_t n = 2; n <= 16; n *= 2)
        CHECK(max_mass_ratio(n, BERG_SYMBOL_FD) <= 1.0 + 1e-13,
              "BERG_SYMBOL_FD never raises the mass on %zu Dirichlet cells", n);
    /* the documented behaviour of the default symbol (heat.h) */
    double r = max_mass_ratio(4, 0);
    CHECK(r > 1.001 && r < 1.1, "the default symbol gains a few percent at 4 cells: %g", r);
}

/* ---- Fokker-Planck runs that hung or failed ------------------------------ */

static berg_status fp_run(size_t ndim, const size_t *n, const double *lo, const double *hi,
                          const berg_boundary *bc, const double *V, const double *in, double t,
                          double *out)
{
    berg_space *s = NULL;
    berg_status st = berg_space_create(&s, ndim, n, lo, hi, bc, NULL);
    CHECK(st == BERG_OK, "fp space: %s", berg_last_error());
    if (st != BERG_OK)
        return st;
    berg_fp *fp = NULL;
    st = berg_fp_create(&fp, s, V, 0);
    CHECK(st == BERG_OK, "fp create: %s", berg_last_error());
    if (st == BERG_OK)
        st = berg_fp_evolve(fp, t, in, out);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    return st;
}

/* boxes 1e-8 x 1e8 and 1e8 x 1e-8 (had not returned after 900 s; LAPACK
 * info 16): the thin axis equilibrates at once, the wide axis does not move
 * (its rates are ~1e-14), so out is the in averaged along the thin axis */
static void test_fp_thin_boxes(void)
{
    enum { N = 8 };
    static double V[N * N], in[N * N], out[N * N];
    for (int i = 0; i < N * N; i++) {
        V[i] = 0.0;
        in[i] = 1.0 + (i * 7 % 5);
    }
    const berg_boundary kinds[2] = {BERG_PERIODIC, BERG_NEUMANN};
    const double times[2] = {1.0, 1e3};
    for (int b = 0; b < 2; b++)
        for (int thin = 0; thin < 2; thin++)
            for (int k = 0; k < 2; k++) {
                size_t n[2] = {N, N};
                double lo[2] = {0, 0}, hi[2];
                hi[thin] = 1e-8;
                hi[1 - thin] = 1e8;
                berg_boundary bc[2] = {kinds[b], kinds[b]};
                CHECK_STATUS(fp_run(2, n, lo, hi, bc, V, in, times[k], out), BERG_OK,
                             "thin axis %d bc %d t %g", thin, (int)kinds[b], times[k]);
                double err = 0.0;
                for (int i = 0; i < N; i++)
                    for (int j = 0; j < N; j++) {
                        double avg = 0.0;
                        for (int l = 0; l < N; l++)
                            avg += thin == 0 ? in[l * N + j] : in[i * N + l];
                        avg /= N;
                        err = fmax(err, fabs(out[i * N + j] - avg) / avg);
                    }
                CHECK(err <= 1e-6, "thin axis %d bc %d t %g: relative error %g", thin,
                      (int)kinds[b], times[k], err);
            }
}

static void test_fp_extreme_values(void)
{
    /* DBL_MAX input on two periodic cells of width 1/2, V = 0: each cell
     * sends 2 / h^2 = 8 to the other, so the difference decays as e^{-16 t} */
    size_t n2 = 2;
    double lo = 0.0, hi = 1.0, V2[2] = {0.0, 0.0}, in2[2] = {DBL_MAX, 0.0}, out2[2];
    berg_boundary per = BERG_PERIODIC, neu = BERG_NEUMANN, dir = BERG_DIRICHLET;
    CHECK_STATUS(fp_run(1, &n2, &lo, &hi, &per, V2, in2, 1.0, out2), BERG_OK, "DBL_MAX input");
    CHECK_REL(out2[0], 0.5 * DBL_MAX * (1.0 + exp(-16.0)), 1e-8, "DBL_MAX input, cell 0");
    CHECK_REL(out2[1], 0.5 * DBL_MAX * (1.0 - exp(-16.0)), 1e-8, "DBL_MAX input, cell 1");
    /* DBL_MAX in both cells of unequal potential: the equilibrium value
     * 2 DBL_MAX / (1 + e^-5) exceeds DBL_MAX: refused, out untouched */
    double V5[2] = {0.0, 5.0}, inmax[2] = {DBL_MAX, DBL_MAX};
    tu_fill(out2, 2, SENTINEL);
    CHECK_STATUS(fp_run(1, &n2, &lo, &hi, &per, V5, inmax, 100.0, out2), BERG_ERR_DOMAIN,
                 "result beyond DBL_MAX");
    CHECK_MESSAGE("DBL_MAX", "result beyond DBL_MAX");
    CHECK(tu_untouched(out2, 2, SENTINEL), "result beyond DBL_MAX: out untouched");

    /* mass 1e-307 on a Dirichlet line: the flow is linear, so the result is
     * 1e-307 times that of the unit state (to the subnormal rounding) */
    double Vd[2] = {0.0, 0.3}, unit[2] = {1.0, 0.3}, tiny[2] = {1e-307, 3e-308}, a[2], b[2];
    CHECK_STATUS(fp_run(1, &n2, &lo, &hi, &dir, Vd, unit, 1.0, a), BERG_OK, "Dirichlet unit");
    CHECK_STATUS(fp_run(1, &n2, &lo, &hi, &dir, Vd, tiny, 1.0, b), BERG_OK, "Dirichlet 1e-307");
    for (int i = 0; i < 2; i++)
        CHECK_REL(b[i], 1e-307 * a[i], 1e-10, "Dirichlet 1e-307, cell %d", i);

    /* a barrier of 4.9e300 on three periodic cells: the two wells (joined
     * around the circle) share the mass, the barrier cell is empty */
    size_t n3 = 3;
    double V3[3] = {0.0, 4.9e300, 0.0}, in3[3] = {1.0, 0.5, 0.0}, out3[3];
    const double times[2] = {1.0, 1e20};
    for (int k = 0; k < 2; k++) {
        CHECK_STATUS(fp_run(1, &n3, &lo, &hi, &per, V3, in3, times[k], out3), BERG_OK,
                     "barrier 4.9e300 t %g", times[k]);
        CHECK_REL(out3[0], 0.75, 1e-7, "barrier t %g, cell 0", times[k]);
        CHECK_REL(out3[2], 0.75, 1e-7, "barrier t %g, cell 2", times[k]);
        CHECK(out3[1] == 0.0, "barrier t %g: the barrier cell is empty", times[k]);
    }

    /* metastable 4-cell potentials. Barrier 1000: the mass that can leave
     * cell 0 by t is at most t * rate(0 -> 1) = t 16 B(1000) < 1e-100 at
     * t = 1e300; barrier 100: at t = 1e80 the equilibrium e^{-V} / Z */
    size_t n4 = 4;
    double in4[4] = {1.0, 0.0, 0.0, 0.0}, out4[4];
    double Vh[4] = {0.0, 1000.0, 1000.0, 0.1};
    CHECK_STATUS(fp_run(1, &n4, &lo, &hi, &neu, Vh, in4, 1e300, out4), BERG_OK,
                 "metastable barrier 1000, t = 1e300");
    CHECK_REL(out4[0], 1.0, 1e-12, "barrier 1000: cell 0 keeps its mass");
    double Vm[4] = {0.0, 100.0, 100.0, 0.1};
    CHECK_STATUS(fp_run(1, &n4, &lo, &hi, &neu, Vm, in4, 1e80, out4), BERG_OK,
                 "metastable barrier 100, t = 1e80");
    double z = 1.0 + 2.0 * exp(-100.0) + exp(-0.1);
    CHECK_REL(out4[0], 1.0 / z, 1e-7, "barrier 100: equilibrium, cell 0");
    CHECK_REL(out4[3], exp(-0.1) / z, 1e-7, "barrier 100: equilibrium, cell 3");
}

/* a well of depth 40 between absorbing walls leaks at the rate lambda_0
 * ~ 2.4e-15: the mass decays as one exponential once the fast modes are
 * gone (the start is the quasi-stationary shape), so -ln m(t) / t is the
 * same at t = 1e12 and 4e14; the spectral propagator cannot resolve
 * lambda_0 in double precision and refuses */
static void test_fp_slow_leak(void)
{
    enum { N = 64 };
    double V[N], in[N], out[N], rate[2];
    const double t[2] = {1e12, 4e14};
    for (int i = 0; i < N; i++) {
        double x = -1.0 + (i + 0.5) * 2.0 / N;
        V[i] = 40.0 * (x * x - 1.0);
        in[i] = exp(-V[i] - 40.0);
    }
    size_t n = N;
    double lo = -1.0, hi = 1.0, m0 = 0.0;
    berg_boundary dir = BERG_DIRICHLET;
    for (int i = 0; i < N; i++)
        m0 += in[i];
    for (int k = 0; k < 2; k++) {
        CHECK_STATUS(fp_run(1, &n, &lo, &hi, &dir, V, in, t[k], out), BERG_OK,
                     "leak t = %g", t[k]);
        double m = 0.0;
        for (int i = 0; i < N; i++)
            m += out[i];
        rate[k] = -log(m / m0) / t[k];
    }
    CHECK(rate[0] > 1e-16 && rate[0] < 1e-13, "leak rate %g", rate[0]);
    CHECK_REL(rate[1], rate[0], 1e-4, "the leak is one exponential");

    berg_space *s = NULL;
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &dir, NULL), BERG_OK, "leak space");
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "leak fp");
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "leak spectral");
    tu_fill(out, N, SENTINEL);
    CHECK_STATUS(berg_fp_spectral_evolve(sp, t[0], in, out), BERG_ERR_DOMAIN,
                 "spectral at t = 1e12");
    CHECK_MESSAGE("berg_fp_evolve", "spectral refusal names the alternative");
    CHECK(tu_untouched(out, N, SENTINEL), "spectral refusal: out untouched");
    CHECK_STATUS(berg_fp_spectral_evolve(sp, 1e-3, in, out), BERG_OK, "spectral at t = 1e-3");
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
}

/* generator, backward generator and spectral propagator on 16 Neumann
 * cells of [-4, 4] with p = {big, 1/8, ...}: linear, so the result is
 * big * (result of e_0) + (result of the rest), each computed unscaled */
static void test_fp_linear_extremes(void)
{
    enum { N = 16 };
    size_t n = N;
    double lo = -4.0, hi = 4.0, V[N], e0[N] = {1.0}, rest[N], in[N], a[N], b[N], out[N];
    berg_boundary neu = BERG_NEUMANN;
    for (int i = 0; i < N; i++) {
        double x = -4.0 + (i + 0.5) * 0.5;
        V[i] = 0.5 * x * x;
        rest[i] = i ? 0.125 : 0.0;
    }
    berg_space *s = NULL;
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &neu, NULL), BERG_OK, "space");
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "fp");
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "spectral");
    const double bigs[2] = {1e307, 1e308};
    for (int op = 0; op < 3; op++)
        for (int k = 0; k < 2; k++) {
            const char *name[3] = {"generator", "backward", "spectral"};
            for (int i = 0; i < N; i++)
                in[i] = i ? 0.125 : bigs[k];
            berg_status sa, sb, st;
            if (op == 0) {
                sa = berg_fp_generator_apply(fp, e0, a);
                sb = berg_fp_generator_apply(fp, rest, b);
            } else if (op == 1) {
                sa = berg_fp_backward_apply(fp, e0, a);
                sb = berg_fp_backward_apply(fp, rest, b);
            } else {
                sa = berg_fp_spectral_evolve(sp, 0.05, e0, a);
                sb = berg_fp_spectral_evolve(sp, 0.05, rest, b);
            }
            CHECK(sa == BERG_OK && sb == BERG_OK, "%s of the parts", name[op]);
            tu_fill(out, N, SENTINEL);
            if (op == 0)
                st = berg_fp_generator_apply(fp, in, out);
            else if (op == 1)
                st = berg_fp_backward_apply(fp, in, out);
            else
                st = berg_fp_spectral_evolve(sp, 0.05, in, out);
            double amax = 0.0;
            int overflows = 0;
            for (int i = 0; i < N; i++) {
                amax = fmax(amax, fabs(a[i]));
                overflows |= !isfinite(bigs[k] * a[i] + b[i]);
            }
            if (overflows) {
                CHECK_STATUS(st, BERG_ERR_DOMAIN, "%s with %g: result beyond DBL_MAX", name[op],
                             bigs[k]);
                CHECK(tu_untouched(out, N, SENTINEL), "%s with %g: out untouched", name[op],
                      bigs[k]);
                continue;
            }
            CHECK_STATUS(st, BERG_OK, "%s with %g", name[op], bigs[k]);
            for (int i = 0; i < N; i++)
                CHECK_ABS(out[i] / bigs[k], a[i] + b[i] / bigs[k], 1e-13 * amax,
                          "%s with %g, cell %d", name[op], bigs[k], i);
        }
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
}

/* inputs of subnormal values: the transforms run with flush-to-zero, so
 * they run scaled up; the mass is kept (fuzz_heat: one cell of a box
 * 1.8e280 wide holding 3.5e-310 came back 0, a mass of 8.8e-30 lost) */
static int ksq_symbol(size_t ndim, const double *k, double *c, void *user_data)
{
    (void)user_data;
    double q = 0.0;
    for (size_t a = 0; a < ndim; a++)
        q += k[a] * k[a];
    *c = q;
    return 0;
}

static void test_subnormal_inputs(void)
{
    const struct { size_t n; double width; berg_boundary bc; unsigned flags; } cases[] = {
        {1, 1.7830230251503796e+280, BERG_NEUMANN, BERG_SYMBOL_FD},
        {1, 1.0, BERG_PERIODIC, 0},
        {16, 1.0, BERG_NEUMANN, 0},
        {16, 1.0, BERG_PERIODIC, BERG_SYMBOL_FD},
        {16, 1.0, BERG_PERIODIC, BERG_HEAT_DIRECT | BERG_SYMBOL_FD},
        {33, 1e100, BERG_NEUMANN, 0},
    };
    const double values[] = {3.4764657043384056e-310, 4.9406564584124654e-324, 1e-200};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        berg_space *s = line_or_null(cases[c].n, 0.0, cases[c].width, cases[c].bc);
        berg_heat *h = NULL;
        berg_multiplier *m = NULL;
        CHECK_STATUS(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE | cases[c].flags), BERG_OK,
                     "heat, case %zu", c);
        CHECK_STATUS(berg_multiplier_create(&m, s, BERG_PLAN_ESTIMATE, ksq_symbol, NULL),
                     BERG_OK, "multiplier, case %zu", c);
        for (size_t v = 0; v < sizeof values / sizeof *values; v++) {
            const double w2 = cases[c].width * cases[c].width, tt = isfinite(w2) ? 0.25 * w2 : 12.35;
            double in[33], out[33], ts[2] = {tt, 0.0};
            for (size_t i = 0; i < cases[c].n; i++)
                in[i] = values[v] * (double)(1 + (i % 3 == 0));
            long double m_in = 0.0L, m_out = 0.0L, m_exp = 0.0L, m_times = 0.0L;
            double ex[33], tm[66];
            CHECK_STATUS(berg_heat_apply(h, ts[0], in, out), BERG_OK, "apply %zu/%zu", c, v);
            CHECK_STATUS(berg_heat_apply_times(h, 2, ts, in, tm), BERG_OK, "times %zu/%zu", c, v);
            CHECK_STATUS(berg_multiplier_exp_apply(m, 4e-3 * tt, in, ex),
                         BERG_OK, "exp_apply %zu/%zu", c, v);
            for (size_t i = 0; i < cases[c].n; i++) {
                m_in += in[i];
                m_out += out[i];
                m_times += tm[i];
                m_exp += ex[i];
            }
            /* the sums of subnormal values are exact to a few ulps of DBL_TRUE_MIN */
            long double tol = 1e-9L * m_in + 8 * 4.9406564584124654e-324L * (long double)cases[c].n;
            CHECK(fabsl(m_out - m_in) <= tol, "heat keeps the mass of %g-valued input, case %zu: "
                  "%Lg -> %Lg", values[v], c, m_in, m_out);
            CHECK(fabsl(m_times - m_in) <= tol, "apply_times keeps it, case %zu", c);
            CHECK(fabsl(m_exp - m_in) <= tol, "exp_apply keeps it, case %zu: %Lg -> %Lg", c,
                  m_in, m_exp);
        }
        berg_multiplier_destroy(m);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
}

int main(void)
{
    test_subnormal_inputs();
    test_space_scales();
    test_space_values();
    test_tiny_cells_heat();
    test_count_overflow();
    test_subnormal_times();
    test_huge_inputs();
    test_heat_t0_copy();
    test_symbol_statuses();
    test_multiplier_extremes();
    test_dirichlet_mass();
    test_fp_thin_boxes();
    test_fp_extreme_values();
    test_fp_slow_leak();
    test_fp_linear_extremes();
    return test_summary("test_extremes");
}
