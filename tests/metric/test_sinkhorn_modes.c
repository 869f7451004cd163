/* Entropic transport in its three iterations (issue 14): no entry point
 * returns success with a marginal error above its tolerance (the FFT mode
 * put into its stalled regime refuses in cost, solve, divergence and
 * barycenter), the default mode picks an iteration that converges from a few
 * h^2 to the box size and says which (berg_sinkhorn_report_mode), the
 * stabilized mode agrees with the log domain, the flags and threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static berg_space *line(size_t n, double lo, double hi, berg_boundary bc)
{
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL), BERG_OK, "line");
    return s;
}

static berg_space *square(size_t n, berg_boundary bc)
{
    size_t nn[2] = {n, n};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary b[2] = {bc, bc};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, nn, lo, hi, b, NULL), BERG_OK, "square");
    return s;
}

/* the cell centres of a unit square with n x n cells, row-major */
static void grid(size_t n, double *X, double *Y)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            X[i * n + j] = (i + 0.5) / (double)n;
            Y[i * n + j] = (j + 0.5) / (double)n;
        }
}

static berg_sinkhorn *solver(const berg_space *s, double eps, unsigned flags)
{
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, eps, flags), BERG_OK, "create eps %g flags %#x", eps,
                 flags);
    return sk;
}

static void gauss1(const berg_space *s, double m, double var, double *p)
{
    size_t n = berg_space_size(s);
    double *x = malloc(n * sizeof *x);
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++)
        p[i] = exp(-(x[i] - m) * (x[i] - m) / (2.0 * var));
    free(x);
}

static unsigned mode_of(const berg_sinkhorn *sk)
{
    unsigned m = 0;
    CHECK_STATUS(berg_sinkhorn_report_mode(sk, &m), BERG_OK, "report_mode");
    return m;
}

/* The issue's barycenter: N(-2, 1/2) and N(2, 1/2) on 256 Neumann cells of
 * [-8, 8] at eps = 0.01 (2.6 h^2). 1.0 returned variance 4.29 with OK; the
 * entropic barycenter has variance 1/2 + eps/2. */
static void test_issue_barycenter(void)
{
    size_t n = 256;
    berg_space *s = line(n, -8.0, 8.0, BERG_NEUMANN);
    double *P = malloc(2 * n * sizeof *P), *b = malloc(n * sizeof *b), w[2] = {0.5, 0.5};
    gauss1(s, -2.0, 0.5, P);
    gauss1(s, 2.0, 0.5, P + n);
    /* the FFT kernel's floor stalls the marginals: refused, out untouched */
    berg_sinkhorn *fft = solver(s, 0.01, BERG_SINKHORN_FFT);
    berg_sinkhorn_set_max_iterations(fft, 500);
    tu_fill(b, n, -3.0);
    CHECK_STATUS(berg_sinkhorn_barycenter(fft, 2, P, w, b), BERG_ERR_NO_CONVERGENCE,
                 "FFT barycenter in its stalled regime");
    CHECK_MESSAGE("marginal error", "the message gives the error reached");
    double err = 0.0;
    size_t it = 0;
    CHECK_STATUS(berg_sinkhorn_report(fft, &err, &it), BERG_OK, "report");
    CHECK(err > 1e-9 && isfinite(err) && it == 500, "error reached %g after %zu", err, it);
    CHECK(mode_of(fft) == BERG_SINKHORN_FFT, "FFT mode reported");
    CHECK(b[0] == -3.0 && b[n / 2] == -3.0, "out untouched");
    /* the default mode: stabilized, right */
    berg_sinkhorn *def = solver(s, 0.01, 0);
    CHECK_STATUS(berg_sinkhorn_barycenter(def, 2, P, w, b), BERG_OK, "default barycenter");
    CHECK(mode_of(def) == BERG_SINKHORN_STABILIZED, "the default picks the stabilized mode");
    CHECK_STATUS(berg_sinkhorn_report(def, &err, &it), BERG_OK, "report");
    CHECK(err <= 1e-9, "marginal error %g within tolerance", err);
    double mean, var;
    berg_space_moments(s, b, &mean, &var);
    CHECK(fabs(mean) < 1e-9, "mean 0 (%g)", mean);
    CHECK_REL(var, 0.5 + 0.005, 1e-6, "variance 1/2 + eps/2");
    berg_sinkhorn_destroy(fft);
    berg_sinkhorn_destroy(def);
    berg_space_destroy(s);
    free(P);
    free(b);
}

/* Every pair entry point, forced into the FFT's stalled regime (supports
 * 0.6 apart at eps = 0.01: the kernel needs e^{-36}, below the FFT's
 * round-off), refuses with the error reached and writes nothing; the default
 * mode converges and agrees with the log domain. */
static void test_stalled_pairs(void)
{
    size_t n = 200;
    berg_space *s = line(n, 0.0, 1.0, BERG_NEUMANN);
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q), *f = malloc(n * sizeof *f);
    gauss1(s, 0.2, 0.003, p);
    gauss1(s, 0.8, 0.002, q);
    for (size_t i = 0; i < n; i++) { /* compact supports [0.05, 0.35], [0.65, 0.95] */
        double x = (i + 0.5) / n;
        p[i] = fabs(x - 0.2) < 0.15 ? p[i] : 0.0;
        q[i] = fabs(x - 0.8) < 0.15 ? q[i] : 0.0;
    }
    berg_sinkhorn *fft = solver(s, 0.01, BERG_SINKHORN_FFT);
    berg_sinkhorn_set_max_iterations(fft, 300);
    double c = -7.0, err;
    size_t it;
    tu_fill(f, n, -7.0);
    CHECK_STATUS(berg_sinkhorn_cost(fft, p, q, &c), BERG_ERR_NO_CONVERGENCE, "FFT cost refuses");
    CHECK(c == -7.0, "cost untouched");
    CHECK_STATUS(berg_sinkhorn_solve(fft, p, q, &c, f, NULL), BERG_ERR_NO_CONVERGENCE,
                 "FFT solve refuses");
    CHECK(c == -7.0 && f[0] == -7.0 && f[n - 1] == -7.0, "solve outputs untouched");
    CHECK_STATUS(berg_sinkhorn_report(fft, &err, &it), BERG_OK, "report");
    CHECK(err > 1e-9 && isfinite(err), "error reached %g", err);
    CHECK_STATUS(berg_sinkhorn_divergence(fft, p, q, &c), BERG_ERR_NO_CONVERGENCE,
                 "FFT divergence refuses");
    CHECK(c == -7.0, "divergence untouched");
    berg_sinkhorn *def = solver(s, 0.01, 0), *lg = solver(s, 0.01, BERG_SINKHORN_LOG_DOMAIN);
    double c1, c2, d1, d2;
    CHECK_STATUS(berg_sinkhorn_cost(def, p, q, &c1), BERG_OK, "default cost");
    CHECK(mode_of(def) == BERG_SINKHORN_STABILIZED, "default: stabilized");
    CHECK_STATUS(berg_sinkhorn_cost(lg, p, q, &c2), BERG_OK, "log cost");
    CHECK(mode_of(lg) == BERG_SINKHORN_LOG_DOMAIN, "log reported");
    CHECK_REL(c1, c2, 1e-9, "stabilized and log costs agree");
    CHECK_STATUS(berg_sinkhorn_divergence(def, p, q, &d1), BERG_OK, "default divergence");
    CHECK_STATUS(berg_sinkhorn_divergence(lg, p, q, &d2), BERG_OK, "log divergence");
    CHECK_REL(d1, d2, 1e-8, "divergences agree");
    double *g1 = malloc(n * sizeof *g1), *g2 = malloc(n * sizeof *g2);
    CHECK_STATUS(berg_sinkhorn_solve(def, p, q, NULL, f, g1), BERG_OK, "default solve");
    CHECK_STATUS(berg_sinkhorn_solve(lg, p, q, NULL, NULL, g2), BERG_OK, "log solve");
    /* potentials are defined up to a constant shift: compare differences on q's support */
    size_t j0 = (size_t)(0.8 * n);
    double dg = 0.0;
    for (size_t j = 0; j < n; j++)
        if (q[j] > 0.0)
            dg = fmax(dg, fabs((g1[j] - g1[j0]) - (g2[j] - g2[j0])));
    CHECK(dg < 1e-7, "potentials g agree on the support (%g)", dg);
    berg_sinkhorn_destroy(fft);
    berg_sinkhorn_destroy(def);
    berg_sinkhorn_destroy(lg);
    berg_space_destroy(s);
    free(p);
    free(q);
    free(f);
    free(g1);
    free(g2);
}

/* the default mode's choice: the FFT kernel at large eps, the stabilized
 * iteration where the FFT kernel loses the tails; a non-separable transport
 * at 1.5 h^2 falls back on the log domain; agreement with it */
static void test_default_choice(void)
{
    size_t n = 64, N = n * n;
    berg_space *s = square(n, BERG_NEUMANN);
    double *X = malloc(N * sizeof *X), *Y = malloc(N * sizeof *Y);
    double *p = malloc(N * sizeof *p), *q = malloc(N * sizeof *q);
    grid(n, X, Y);
    for (size_t i = 0; i < N; i++) {
        double r2 = (X[i] - 0.5) * (X[i] - 0.5) + (Y[i] - 0.5) * (Y[i] - 0.5);
        p[i] = r2 < 0.15 ? exp(-(X[i] - Y[i]) * (X[i] - Y[i]) / 0.002) : 0.0;
        q[i] = r2 < 0.15 ? exp(-(X[i] + Y[i] - 1) * (X[i] + Y[i] - 1) / 0.002) : 0.0;
    }
    double h2 = 1.0 / (double)(n * n), c1, c2;
    const double eps[3] = {0.5, 30 * h2, 1.5 * h2};
    const unsigned want[3] = {BERG_SINKHORN_FFT, BERG_SINKHORN_STABILIZED,
                              BERG_SINKHORN_LOG_DOMAIN};
    for (size_t k = 0; k < 3; k++) {
        berg_sinkhorn *def = solver(s, eps[k], 0);
        berg_sinkhorn_set_tolerance(def, 1e-7);
        CHECK_STATUS(berg_sinkhorn_cost(def, p, q, &c1), BERG_OK, "default at eps %g", eps[k]);
        CHECK(mode_of(def) == want[k], "eps %g: mode %#x, want %#x", eps[k], mode_of(def),
              want[k]);
        if (k > 0) {
            berg_sinkhorn *lg = solver(s, eps[k], BERG_SINKHORN_LOG_DOMAIN);
            berg_sinkhorn_set_tolerance(lg, 1e-7);
            CHECK_STATUS(berg_sinkhorn_cost(lg, p, q, &c2), BERG_OK, "log at eps %g", eps[k]);
            CHECK_REL(c1, c2, 1e-6, "default and log agree at eps %g", eps[k]);
            berg_sinkhorn_destroy(lg);
        }
        berg_sinkhorn_destroy(def);
    }
    /* the explicit stabilized mode at 1.5 h^2: its exact check refuses */
    berg_sinkhorn *st = solver(s, 1.5 * h2, BERG_SINKHORN_STABILIZED);
    berg_sinkhorn_set_tolerance(st, 1e-7);
    c1 = -5.0;
    CHECK_STATUS(berg_sinkhorn_cost(st, p, q, &c1), BERG_ERR_NO_CONVERGENCE,
                 "stabilized refuses a non-separable transport at 1.5 h^2");
    CHECK(c1 == -5.0, "cost untouched");
    berg_sinkhorn_destroy(st);
    berg_space_destroy(s);
    free(X);
    free(Y);
    free(p);
    free(q);
}

/* 2-D barycenter of three measures with unequal weights on a periodic box:
 * stabilized and log domain agree; 1 and 2 threads agree */
static void test_barycenter_2d(void)
{
    size_t n = 40, N = n * n;
    berg_space *s = square(n, BERG_PERIODIC);
    double *X = malloc(N * sizeof *X), *Y = malloc(N * sizeof *Y), *P = malloc(3 * N * sizeof *P);
    double *b1 = malloc(N * sizeof *b1), *b2 = malloc(N * sizeof *b2), *b3 = malloc(N * sizeof *b3);
    grid(n, X, Y);
    const double cx[3] = {0.3, 0.7, 0.5}, cy[3] = {0.3, 0.4, 0.7};
    for (size_t r = 0; r < 3; r++)
        for (size_t i = 0; i < N; i++) {
            double d2 = (X[i] - cx[r]) * (X[i] - cx[r]) + (Y[i] - cy[r]) * (Y[i] - cy[r]);
            P[r * N + i] = d2 < 0.02 ? 1.0 + X[i] : 0.0;
        }
    double w[3] = {0.2, 0.5, 0.3}, eps = 0.004;
    berg_sinkhorn *st = solver(s, eps, BERG_SINKHORN_STABILIZED);
    berg_sinkhorn *lg = solver(s, eps, BERG_SINKHORN_LOG_DOMAIN);
    berg_sinkhorn *def = solver(s, eps, 0);
    CHECK_STATUS(berg_sinkhorn_barycenter(st, 3, P, w, b1), BERG_OK, "stabilized barycenter");
    CHECK_STATUS(berg_sinkhorn_barycenter(lg, 3, P, w, b2), BERG_OK, "log barycenter");
    CHECK_STATUS(berg_sinkhorn_barycenter(def, 3, P, w, b3), BERG_OK, "default barycenter");
    CHECK(mode_of(def) == BERG_SINKHORN_STABILIZED, "default: stabilized");
    double bmax = 0.0;
    for (size_t i = 0; i < N; i++)
        bmax = fmax(bmax, b2[i]);
    CHECK(tu_max_abs_diff(b1, b2, N) < 1e-7 * bmax, "stabilized and log barycenters agree (%g)",
          tu_max_abs_diff(b1, b2, N) / bmax);
    CHECK(tu_max_abs_diff(b1, b3, N) == 0.0, "default = stabilized");
    CHECK_STATUS(berg_sinkhorn_set_threads(st, 2), BERG_OK, "2 threads");
    CHECK_STATUS(berg_sinkhorn_barycenter(st, 3, P, w, b3), BERG_OK, "2 threads");
    /* (libberg's sums are the same on any count; OpenBLAS, held at one
     * thread while libberg's threads multiply, may split a product
     * differently from its own threads on one libberg thread) */
    CHECK(tu_max_abs_diff(b1, b3, N) <= 1e-14 * bmax, "1 and 2 threads agree (%g)",
          tu_max_abs_diff(b1, b3, N) / bmax);
    /* the log domain follows the library-wide setting: its measures side
     * by side on 2 and 3 threads */
    for (size_t t = 2; t <= 3; t++) {
        CHECK_STATUS(berg_set_threads(t), BERG_OK, "library threads %zu", t);
        CHECK_STATUS(berg_sinkhorn_barycenter(lg, 3, P, w, b3), BERG_OK, "log on %zu threads", t);
        CHECK(tu_max_abs_diff(b2, b3, N) <= 1e-14 * bmax, "log: 1 and %zu threads agree (%g)", t,
              tu_max_abs_diff(b2, b3, N) / bmax);
    }
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "library threads back to 1");
    /* the FFT mode: at eps = 0.004 it stalls, and says so */
    berg_sinkhorn *fft = solver(s, eps, BERG_SINKHORN_FFT);
    berg_sinkhorn_set_max_iterations(fft, 300);
    CHECK_STATUS(berg_sinkhorn_barycenter(fft, 3, P, w, b3), BERG_ERR_NO_CONVERGENCE,
                 "FFT barycenter stalls at eps = 0.004");
    berg_sinkhorn_destroy(fft);
    berg_sinkhorn_destroy(st);
    berg_sinkhorn_destroy(lg);
    berg_sinkhorn_destroy(def);
    berg_space_destroy(s);
    free(X);
    free(Y);
    free(P);
    free(b1);
    free(b2);
    free(b3);
}

/* eps-scaling: at D^2 > 256 eps the stabilized pair solve starts at
 * eps 2^m and halves it; it needs fewer iterations than the log domain from
 * a cold start, for the same cost */
static void test_annealing(void)
{
    size_t n = 64, N = n * n;
    berg_space *s = square(n, BERG_NEUMANN);
    double *X = malloc(N * sizeof *X), *Y = malloc(N * sizeof *Y);
    double *p = malloc(N * sizeof *p), *q = malloc(N * sizeof *q), c1, c2, e1, e2;
    grid(n, X, Y);
    for (size_t i = 0; i < N; i++) {
        double dx = X[i] - 0.3, dy = Y[i] - 0.4, ex = X[i] - 0.7, ey = Y[i] - 0.3;
        p[i] = exp(-(dx * dx + dy * dy) / 0.01) + 0.5 * exp(-(ex * ex + ey * ey) / 0.005);
        q[i] = ((X[i] - 0.6) * (X[i] - 0.6) + (Y[i] - 0.65) * (Y[i] - 0.65) < 0.04) + 0.1;
    }
    berg_sinkhorn *st = solver(s, 3e-4, BERG_SINKHORN_STABILIZED);
    berg_sinkhorn *lg = solver(s, 3e-4, BERG_SINKHORN_LOG_DOMAIN);
    berg_sinkhorn_set_tolerance(st, 1e-7);
    berg_sinkhorn_set_tolerance(lg, 1e-7);
    size_t i1, i2;
    CHECK_STATUS(berg_sinkhorn_cost(st, p, q, &c1), BERG_OK, "annealed stabilized");
    CHECK_STATUS(berg_sinkhorn_report(st, &e1, &i1), BERG_OK, "report");
    CHECK_STATUS(berg_sinkhorn_cost(lg, p, q, &c2), BERG_OK, "log domain");
    CHECK_STATUS(berg_sinkhorn_report(lg, &e2, &i2), BERG_OK, "report");
    CHECK(e1 <= 1e-7 && e2 <= 1e-7, "both within tolerance (%g, %g)", e1, e2);
    CHECK_REL(c1, c2, 1e-8, "annealed and log costs agree");
    CHECK(i1 < i2, "annealing cuts iterations: %zu against %zu", i1, i2);
    berg_sinkhorn_destroy(st);
    berg_sinkhorn_destroy(lg);
    berg_space_destroy(s);
    free(X);
    free(Y);
    free(p);
    free(q);
}

static void test_flags_and_report(void)
{
    berg_space *s = line(64, 0.0, 1.0, BERG_NEUMANN);
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 0.01,
                                      BERG_SINKHORN_FFT | BERG_SINKHORN_STABILIZED),
                 BERG_ERR_DOMAIN, "two modes");
    CHECK(sk == NULL, "out untouched");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 0.01,
                                      BERG_SINKHORN_LOG_DOMAIN | BERG_SINKHORN_FFT),
                 BERG_ERR_DOMAIN, "log and FFT");
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 1e4, BERG_SINKHORN_STABILIZED), BERG_ERR_DOMAIN,
                 "stabilized beyond the image sums");
    sk = solver(s, 0.01, BERG_SINKHORN_STABILIZED);
    unsigned m = 77;
    CHECK_STATUS(berg_sinkhorn_report_mode(sk, &m), BERG_ERR_DOMAIN, "no solve yet");
    CHECK(m == 77, "mode untouched");
    CHECK_STATUS(berg_sinkhorn_report_mode(NULL, &m), BERG_ERR_NULL, "NULL sk");
    CHECK_STATUS(berg_sinkhorn_report_mode(sk, NULL), BERG_ERR_NULL, "NULL mode");
    CHECK_STATUS(berg_sinkhorn_set_threads(sk, 2), BERG_OK, "threads on a stabilized handle");
    berg_sinkhorn_destroy(sk);
    size_t nn[2] = {16, 16};
    double lo[2] = {0, 0}, hi[2] = {1, 1}, gc[4] = {2, 0.5, 0.5, 1};
    berg_space *c = NULL;
    berg_space_create(&c, 2, nn, lo, hi, NULL, gc);
    CHECK_STATUS(berg_sinkhorn_create(&sk, c, 0.01, BERG_SINKHORN_STABILIZED),
                 BERG_ERR_UNSUPPORTED, "stabilized needs a diagonal metric");
    /* a coupled metric: the default mode is the FFT one */
    sk = solver(c, 0.05, 0);
    double *p = malloc(256 * sizeof *p), *q = malloc(256 * sizeof *q), cost;
    for (size_t i = 0; i < 256; i++) {
        p[i] = 1.0 + 0.5 * sin(0.1 * (double)i);
        q[i] = 1.0 + 0.5 * cos(0.07 * (double)i);
    }
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &cost), BERG_OK, "coupled metric, default");
    CHECK(mode_of(sk) == BERG_SINKHORN_FFT, "coupled metric: FFT");
    long long v = 0;
    CHECK_STATUS(berg_constant_value("BERG_SINKHORN_STABILIZED", &v), BERG_OK, "constant");
    CHECK(v == BERG_SINKHORN_STABILIZED, "constant value");
    CHECK_STATUS(berg_constant_value("SINKHORN_FFT", &v), BERG_OK, "constant");
    CHECK(v == BERG_SINKHORN_FFT, "constant value");
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(c);
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* The stabilized products run on the boxes of the supports (rows of a
 * table whose potential is -inf are 0): measures on small boxes off the
 * corner of 1-D, 2-D and 3-D grids (so that a box is whole along no axis,
 * or along some), boundaries mixed, against the log domain (which uses the
 * whole grid); the default mode picks the stabilized mode for such
 * supports where the FFT mode is also accurate, and the FFT mode for
 * supports filling the grid. */
static void box_fill(const berg_space *s, const size_t *lo, const size_t *hi, double *p)
{
    size_t d = berg_space_rank(s), n[3], N = berg_space_size(s);
    berg_space_shape(s, n);
    for (size_t i = 0; i < N; i++) {
        size_t rest = i, inside = 1, sum = 0;
        for (size_t a = d; a-- > 0;) {
            size_t j = rest % n[a];
            rest /= n[a];
            inside &= j >= lo[a] && j < hi[a];
            sum += j;
        }
        p[i] = inside ? 1.0 + 0.5 * (double)(sum % 3) : 0.0;
    }
}

static void test_boxes(void)
{
    static const struct {
        size_t d, n[3];
        berg_boundary bc[3];
        size_t plo[3], phi[3], qlo[3], qhi[3];
        double eps;
    } cases[] = {
        {1, {64}, {BERG_NEUMANN}, {5}, {20}, {30}, {41}, 0.01},
        {2, {24, 30}, {BERG_NEUMANN, BERG_PERIODIC}, {3, 4}, {9, 12}, {12, 0}, {20, 30}, 0.02},
        {3, {12, 10, 14}, {BERG_NEUMANN, BERG_NEUMANN, BERG_PERIODIC},
         {1, 2, 0}, {5, 6, 14}, {6, 0, 3}, {11, 10, 9}, 0.03},
        {3, {10, 12, 9}, {BERG_PERIODIC, BERG_NEUMANN, BERG_NEUMANN},
         {0, 3, 1}, {10, 7, 4}, {2, 6, 4}, {5, 12, 8}, 0.03},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t d = cases[c].d;
        double lo[3] = {0, 0, 0}, hi[3] = {1, 1.2, 0.9};
        berg_space *s = NULL;
        CHECK_STATUS(berg_space_create(&s, d, cases[c].n, lo, hi, cases[c].bc, NULL), BERG_OK,
                     "box case %zu: space", c);
        if (!s)
            continue;
        size_t N = berg_space_size(s);
        double *P = malloc(2 * N * sizeof *P), *b1 = malloc(N * sizeof *b1);
        double *b2 = malloc(N * sizeof *b2), *f1 = malloc(N * sizeof *f1);
        double *g1 = malloc(N * sizeof *g1), *f2 = malloc(N * sizeof *f2);
        double *g2 = malloc(N * sizeof *g2), w[2] = {0.3, 0.7}, c1 = 0, c2 = 0;
        box_fill(s, cases[c].plo, cases[c].phi, P);
        box_fill(s, cases[c].qlo, cases[c].qhi, P + N);
        berg_sinkhorn *st = solver(s, cases[c].eps, BERG_SINKHORN_STABILIZED);
        berg_sinkhorn *lg = solver(s, cases[c].eps, BERG_SINKHORN_LOG_DOMAIN);
        berg_sinkhorn_set_tolerance(st, 1e-11);
        berg_sinkhorn_set_tolerance(lg, 1e-11);
        CHECK_STATUS(berg_sinkhorn_barycenter(st, 2, P, w, b1), BERG_OK, "case %zu: stabilized", c);
        CHECK_STATUS(berg_sinkhorn_barycenter(lg, 2, P, w, b2), BERG_OK, "case %zu: log", c);
        double bmax = 0.0;
        for (size_t i = 0; i < N; i++)
            bmax = fmax(bmax, b2[i]);
        /* both stop at marginal error 1e-11: their solutions differ at that
         * order (measured 5e-15 to 2.2e-14 of the maximum, costs 2e-16 to
         * 9e-16 relative) */
        CHECK(tu_max_abs_diff(b1, b2, N) < 1e-10 * bmax,
              "case %zu: stabilized and log barycenters agree (%g)", c,
              tu_max_abs_diff(b1, b2, N) / bmax);
        /* two threads: the two measures' products whole or in halves,
         * whichever deals the work more evenly (sinkhorn_barycenter.c),
         * each the same sums as one thread's (up to OpenBLAS's blocking) */
        CHECK_STATUS(berg_sinkhorn_set_threads(st, 2), BERG_OK, "case %zu: 2 threads", c);
        CHECK_STATUS(berg_sinkhorn_barycenter(st, 2, P, w, f1), BERG_OK,
                     "case %zu: stabilized on 2 threads", c);
        CHECK(tu_max_abs_diff(b1, f1, N) <= 1e-14 * bmax, "case %zu: 1 and 2 threads agree (%g)",
              c, tu_max_abs_diff(b1, f1, N) / bmax);
        CHECK_STATUS(berg_sinkhorn_set_threads(st, 1), BERG_OK, "case %zu: 1 thread", c);
        CHECK_STATUS(berg_sinkhorn_solve(st, P, P + N, &c1, f1, g1), BERG_OK,
                     "case %zu: stabilized solve", c);
        CHECK_STATUS(berg_sinkhorn_solve(lg, P, P + N, &c2, f2, g2), BERG_OK,
                     "case %zu: log solve", c);
        CHECK_REL(c1, c2, 1e-11, "case %zu: stabilized and log costs agree", c);
        /* the default at an eps where the FFT mode is accurate too: the
         * stabilized mode on these supports */
        berg_sinkhorn *def = solver(s, 0.1, 0);
        CHECK_STATUS(berg_sinkhorn_barycenter(def, 2, P, w, b1), BERG_OK, "case %zu: default", c);
        CHECK(mode_of(def) == BERG_SINKHORN_STABILIZED,
              "case %zu: the default picks the stabilized mode on small supports (%#x)", c,
              mode_of(def));
        berg_sinkhorn_destroy(def);
        berg_sinkhorn_destroy(st);
        berg_sinkhorn_destroy(lg);
        berg_space_destroy(s);
        free(P);
        free(b1);
        free(b2);
        free(f1);
        free(g1);
        free(f2);
        free(g2);
    }
}

/* ... and the FFT mode for measures filling a 128^2 grid, whose dense
 * products (4 n^3 flops) cost more than the FFT kernel */
static void test_full_support_fft(void)
{
    size_t n = 128, N = n * n;
    berg_space *s = square(n, BERG_NEUMANN);
    double *P = malloc(2 * N * sizeof *P), *b = malloc(N * sizeof *b), w[2] = {0.5, 0.5};
    for (size_t i = 0; i < 2 * N; i++)
        P[i] = 1.0 + 0.1 * (double)(i % 7);
    berg_sinkhorn *def = solver(s, 0.5, 0);
    CHECK_STATUS(berg_sinkhorn_barycenter(def, 2, P, w, b), BERG_OK, "full support: default");
    CHECK(mode_of(def) == BERG_SINKHORN_FFT, "the default picks the FFT mode on full supports");
    berg_sinkhorn_destroy(def);
    berg_space_destroy(s);
    free(P);
    free(b);
}

int main(void)
{
    test_boxes();
    test_full_support_fft();
    test_issue_barycenter();
    test_stalled_pairs();
    test_default_choice();
    test_barycenter_2d();
    test_annealing();
    test_flags_and_report();
    return test_summary("sinkhorn-modes");
}
