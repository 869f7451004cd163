/* fisher: scores, accumulator, location families, exponential families,
 * parametric models, pull-backs, spectra, Wick moments, Fisher-Rao
 * distances; closed forms and every bad input. */
#include <float.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"

#define SENT (-12345.678)
static const double PI = 3.14159265358979323846;

static berg_space *line_space(size_t n, double lo, double hi, berg_boundary bc)
{
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL), BERG_OK, "space 1-D");
    return s;
}

static void coords(const berg_space *s, int axis, double *x)
{
    CHECK_STATUS(berg_space_coordinates(s, axis, x), BERG_OK, "coordinates");
}

/* ---- scores ---------------------------------------------------------- */

static void naive_scores(size_t n, size_t d, const double *S, double *I)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            long double acc = 0;
            for (size_t t = 0; t < n; t++)
                acc += (long double)S[t * d + i] * S[t * d + j];
            I[i * d + j] = (double)(acc / n);
        }
}

static void test_from_scores(void)
{
    enum { N = 1003, D = 5 };
    static double S[N * D];
    double I[D * D], R[D * D];
    unsigned long long st = 42;
    for (size_t k = 0; k < N * D; k++)
        S[k] = 2.0 * tu_uniform(&st) - 1.0 + (k % D == 2 ? 3.0 : 0.0);
    CHECK_STATUS(berg_fisher_from_scores(N, D, S, I), BERG_OK, "from_scores");
    naive_scores(N, D, S, R);
    for (size_t k = 0; k < D * D; k++)
        CHECK_REL(I[k], R[k], 1e-13, "from_scores entry %zu", k);
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            CHECK(I[i * D + j] == I[j * D + i], "exactly symmetric %zu %zu", i, j);
    /* one sample, one dimension */
    double one = 3.0, r;
    CHECK_STATUS(berg_fisher_from_scores(1, 1, &one, &r), BERG_OK, "1 x 1");
    CHECK(r == 9.0, "1 x 1 value");

    /* bad input: nothing written */
    tu_fill(I, D * D, SENT);
    CHECK_STATUS(berg_fisher_from_scores(0, D, S, I), BERG_ERR_SIZE, "N = 0");
    CHECK_STATUS(berg_fisher_from_scores(N, 0, S, I), BERG_ERR_SIZE, "d = 0");
    CHECK_STATUS(berg_fisher_from_scores(N, D, NULL, I), BERG_ERR_NULL, "NULL scores");
    CHECK_STATUS(berg_fisher_from_scores(N, D, S, NULL), BERG_ERR_NULL, "NULL I");
    CHECK_STATUS(berg_fisher_from_scores(SIZE_MAX / 2, D, S, I), BERG_ERR_SIZE, "overflow");
    double keep = S[3 * D + 1];
    S[3 * D + 1] = NAN;
    CHECK_STATUS(berg_fisher_from_scores(N, D, S, I), BERG_ERR_NONFINITE, "NaN score");
    CHECK_MESSAGE("[3][1]", "NaN score position");
    S[3 * D + 1] = INFINITY;
    CHECK_STATUS(berg_fisher_from_scores(N, D, S, I), BERG_ERR_NONFINITE, "Inf score");
    S[3 * D + 1] = 1e200;
    CHECK_STATUS(berg_fisher_from_scores(N, D, S, I), BERG_ERR_NONFINITE, "overflowing score");
    S[3 * D + 1] = keep;
    CHECK(tu_untouched(I, D * D, SENT), "I untouched on failure");
}

static void test_accumulator(void)
{
    enum { N = 2000, D = 3 };
    static double S[N * D];
    unsigned long long st = 7;
    for (size_t k = 0; k < N * D; k++)
        S[k] = tu_uniform(&st) * 4.0 - 1.0;
    double I[D * D], R[D * D], se[D * D];
    berg_fisher_acc *a = NULL, *b = NULL, *c = NULL;
    CHECK_STATUS(berg_fisher_acc_create(&a, D, 0), BERG_OK, "create a");
    CHECK_STATUS(berg_fisher_acc_create(&b, D, 0), BERG_OK, "create b");
    CHECK_STATUS(berg_fisher_acc_create(&c, D + 1, 0), BERG_OK, "create c");
    if (!a || !b || !c)
        return;
    CHECK(berg_fisher_acc_dim(a) == D && berg_fisher_acc_count(a) == 0, "fresh accumulator");
    tu_fill(I, D * D, SENT);
    CHECK_STATUS(berg_fisher_acc_result(a, I, NULL), BERG_ERR_SIZE, "empty accumulator");
    CHECK(tu_untouched(I, D * D, SENT), "I untouched (empty)");
    /* batches 0..700 in a, 700..2000 in b in two pieces, then merge */
    CHECK_STATUS(berg_fisher_acc_add(a, 700, S), BERG_OK, "add a");
    CHECK_STATUS(berg_fisher_acc_add(b, 0, S), BERG_OK, "add empty batch");
    CHECK_STATUS(berg_fisher_acc_add(b, 1, S + 700 * D), BERG_OK, "add b1");
    CHECK_STATUS(berg_fisher_acc_add(b, N - 701, S + 701 * D), BERG_OK, "add b2");
    /* a failing batch leaves b alone */
    double keep = S[900 * D + 2];
    S[900 * D + 2] = NAN;
    CHECK_STATUS(berg_fisher_acc_add(b, N - 700, S + 700 * D), BERG_ERR_NONFINITE, "NaN batch");
    CHECK_MESSAGE("[200][2]", "NaN batch position");
    S[900 * D + 2] = keep;
    CHECK(berg_fisher_acc_count(b) == N - 700, "count after failed add");
    CHECK_STATUS(berg_fisher_acc_merge(a, b), BERG_OK, "merge");
    CHECK_STATUS(berg_fisher_acc_merge(a, c), BERG_ERR_MISMATCH, "merge mismatched");
    CHECK_STATUS(berg_fisher_acc_merge(a, a), BERG_ERR_DOMAIN, "merge self");
    CHECK(berg_fisher_acc_count(a) == N, "count after merge");
    CHECK_STATUS(berg_fisher_acc_result(a, I, se), BERG_OK, "result");
    CHECK_STATUS(berg_fisher_from_scores(N, D, S, R), BERG_OK, "reference");
    for (size_t k = 0; k < D * D; k++)
        CHECK_REL(I[k], R[k], 1e-13, "accumulated entry %zu", k);
    /* standard errors against a direct two-pass computation */
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double m = 0, v = 0;
            for (size_t t = 0; t < N; t++)
                m += S[t * D + i] * S[t * D + j];
            m /= N;
            for (size_t t = 0; t < N; t++) {
                double x = S[t * D + i] * S[t * D + j] - m;
                v += x * x;
            }
            v /= (N - 1);
            CHECK_REL(se[i * D + j], sqrt(v / N), 1e-10, "standard error %zu %zu", i, j);
        }
    /* reset, and a no-stderr accumulator */
    CHECK_STATUS(berg_fisher_acc_reset(b), BERG_OK, "reset");
    CHECK(berg_fisher_acc_count(b) == 0, "count after reset");
    CHECK_STATUS(berg_fisher_acc_add(b, 1, S), BERG_OK, "one sample");
    CHECK_STATUS(berg_fisher_acc_result(b, I, NULL), BERG_OK, "one sample result");
    tu_fill(se, D * D, SENT);
    CHECK_STATUS(berg_fisher_acc_result(b, NULL, se), BERG_ERR_SIZE, "se with one sample");
    CHECK(tu_untouched(se, D * D, SENT), "se untouched");
    berg_fisher_acc *q = NULL;
    CHECK_STATUS(berg_fisher_acc_create(&q, D, BERG_FISHER_ACC_NO_STDERR), BERG_OK, "no-se create");
    CHECK_STATUS(berg_fisher_acc_add(q, N, S), BERG_OK, "no-se add");
    CHECK_STATUS(berg_fisher_acc_result(q, I, NULL), BERG_OK, "no-se result");
    for (size_t k = 0; k < D * D; k++)
        CHECK_REL(I[k], R[k], 1e-13, "no-se entry %zu", k);
    CHECK_STATUS(berg_fisher_acc_result(q, I, se), BERG_ERR_UNSUPPORTED, "no-se se");
    CHECK_STATUS(berg_fisher_acc_merge(a, q), BERG_ERR_MISMATCH, "merge flags mismatch");
    /* a finite score of 1e100: its square fits, its fourth power (for the
     * standard errors) does not, and the message gives that limit */
    double s1[1] = {1e100};
    berg_fisher_acc *o = NULL, *o2 = NULL;
    CHECK_STATUS(berg_fisher_acc_create(&o, 1, 0), BERG_OK, "1-D accumulator");
    CHECK_STATUS(berg_fisher_acc_add(o, 1, s1), BERG_ERR_NONFINITE, "(1e100)^4 overflows");
    CHECK_MESSAGE("1.2e+77", "fourth-power limit (DBL_MAX)^(1/4)");
    CHECK(berg_fisher_acc_count(o) == 0, "nothing added");
    CHECK_STATUS(berg_fisher_acc_create(&o2, 1, BERG_FISHER_ACC_NO_STDERR), BERG_OK, "no-se 1-D");
    CHECK_STATUS(berg_fisher_acc_add(o2, 1, s1), BERG_OK, "(1e100)^2 fits");
    s1[0] = 2e154;
    CHECK_STATUS(berg_fisher_acc_add(o2, 1, s1), BERG_ERR_NONFINITE, "(2e154)^2 overflows");
    CHECK_MESSAGE("1.3e+154", "square limit (DBL_MAX)^(1/2)");
    berg_fisher_acc_destroy(o);
    berg_fisher_acc_destroy(o2);
    berg_fisher_acc *z = (berg_fisher_acc *)0x1;
    CHECK_STATUS(berg_fisher_acc_create(&z, 0, 0), BERG_ERR_SIZE, "dim 0");
    CHECK(z == (berg_fisher_acc *)0x1, "out untouched");
    CHECK_STATUS(berg_fisher_acc_create(&z, 2, 8), BERG_ERR_DOMAIN, "bad flags");
    /* a flag of another creator is refused by its name, out untouched */
    CHECK_STATUS(berg_fisher_acc_create(&z, 2, BERG_PLAN_ESTIMATE), BERG_ERR_DOMAIN,
                 "BERG_PLAN_ESTIMATE refused");
    CHECK_MESSAGE("BERG_PLAN_ESTIMATE", "the refusal names the flag");
    CHECK_MESSAGE("berg_fisher_acc_create", "the refusal names the function");
    CHECK(z == (berg_fisher_acc *)0x1, "out untouched by a refused flag");
    CHECK_STATUS(berg_fisher_acc_create(&z, 2, BERG_FISHER_ACC_NO_STDERR | BERG_FP_FOURIER),
                 BERG_ERR_DOMAIN, "BERG_FP_FOURIER refused next to an allowed flag");
    CHECK_MESSAGE("BERG_FP_FOURIER", "the refusal names the foreign flag");
    CHECK(z == (berg_fisher_acc *)0x1, "out untouched");
    CHECK_STATUS(berg_fisher_acc_create(NULL, 2, 0), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_fisher_acc_add(NULL, 1, S), BERG_ERR_NULL, "NULL acc");
    CHECK_STATUS(berg_fisher_acc_result(a, NULL, NULL), BERG_ERR_NULL, "no outputs");
    berg_fisher_acc_destroy(a);
    berg_fisher_acc_destroy(b);
    berg_fisher_acc_destroy(c);
    berg_fisher_acc_destroy(q);
    berg_fisher_acc_destroy(NULL);
}

/* one accumulator per thread, merged at the end */
typedef struct {
    const double *X;
    size_t rows, d;
    berg_fisher_acc *acc;
    berg_status st;
} acc_job;

static void *acc_worker(void *arg)
{
    acc_job *j = arg;
    j->st = berg_fisher_acc_create(&j->acc, j->d, 0);
    for (size_t t = 0; t < j->rows && j->st == BERG_OK; t += 97) {
        size_t r = j->rows - t < 97 ? j->rows - t : 97;
        j->st = berg_fisher_acc_add(j->acc, r, j->X + t * j->d);
    }
    return NULL;
}

static void test_accumulator_threads(void)
{
    enum { N = 4000, D = 6, T = 4 };
    static double X[N * D];
    unsigned long long st = 77;
    for (size_t k = 0; k < N * D; k++)
        X[k] = tu_uniform(&st) - 0.3;
    pthread_t th[T];
    acc_job job[T];
    for (int t = 0; t < T; t++) {
        job[t] = (acc_job){X + (size_t)t * (N / T) * D, N / T, D, NULL, BERG_OK};
        pthread_create(&th[t], NULL, acc_worker, &job[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++)
        CHECK_STATUS(job[t].st, BERG_OK, "thread %d", t);
    for (int t = 1; t < T; t++)
        CHECK_STATUS(berg_fisher_acc_merge(job[0].acc, job[t].acc), BERG_OK, "merge %d", t);
    double I[D * D], R[D * D];
    CHECK_STATUS(berg_fisher_acc_result(job[0].acc, I, NULL), BERG_OK, "merged result");
    berg_fisher_from_scores(N, D, X, R);
    for (size_t k = 0; k < D * D; k++)
        CHECK_REL(I[k], R[k], 1e-13, "threads merged entry %zu", k);
    for (int t = 0; t < T; t++)
        berg_fisher_acc_destroy(job[t].acc);
}

/* ---- location families --------------------------------------------------- */

static double location_1d(size_t n, double L, double (*pdf)(double, double), double par)
{
    berg_space *s = line_space(n, -L, L, BERG_NEUMANN);
    double *x = malloc(n * sizeof *x), *p = malloc(n * sizeof *p), I = NAN;
    coords(s, 0, x);
    for (size_t i = 0; i < n; i++)
        p[i] = pdf(x[i], par);
    CHECK_STATUS(berg_fisher_location(s, p, &I), BERG_OK, "location 1-D");
    free(x);
    free(p);
    berg_space_destroy(s);
    return I;
}

static double gauss(double x, double sg) { return exp(-0.5 * x * x / (sg * sg)); }
static double kink = 0.0;
static double laplace(double x, double b) { return exp(-fabs(x - kink) / b); }
static double logistic(double x, double sc)
{
    double e = exp(-fabs(x) / sc);
    return e / ((1 + e) * (1 + e));
}
static double cauchy(double x, double g) { return 1.0 / (1.0 + x * x / (g * g)); }
static double biweight(double x, double c)
{
    double t = 1.0 - (x - c) * (x - c);
    return t > 0.0 ? t * t : 0.0;
}
static double student3(double x, double sg) { return pow(1.0 + x * x / (3.0 * sg * sg), -2.0); }

static void test_location(void)
{
    /* smooth families: fourth order; the kinked Laplace second order
     * wherever the kink falls; heavy tails (Cauchy, Student-t) too */
    CHECK_REL(location_1d(4000, 10, gauss, 0.7), 1 / 0.49, 1e-9, "Gaussian 1/sigma^2");
    CHECK_REL(location_1d(4000, 20, logistic, 0.8), 1 / (3 * 0.64), 1e-9, "logistic 1/(3s^2)");
    for (int k = 0; k < 3; k++) {
        kink = (k == 0) ? 0.0 : (k == 1 ? 0.003 : 0.0018); /* vertex, centre, between */
        CHECK_REL(location_1d(4000, 12, laplace, 0.5), 1 / 0.25, 2e-4, "Laplace 1/b^2 kink %d", k);
    }
    kink = 0.0;
    /* compact support: p = (15/16)(1 - x^2)^2, r has kinks where p reaches
     * zero; I = 4 (15/16) integral 4 x^2 = 10 */
    CHECK_REL(location_1d(4000, 2, biweight, 0.0), 10.0, 3e-6, "biweight, support edge on a vertex");
    CHECK_REL(location_1d(4000, 2, biweight, 0.00037), 10.0, 3e-6, "biweight, edge off the grid");
    double l1 = fabs(location_1d(1000, 12, laplace, 0.5) - 4.0);
    double l2 = fabs(location_1d(2000, 12, laplace, 0.5) - 4.0);
    CHECK(l2 < 0.3 * l1 && l2 > 0.2 * l1, "Laplace second order: %g -> %g", l1, l2);
    /* Cauchy on [-400, 400] holds the mass m = (2/pi) atan(400/g): the grid
     * density is the truncated, renormalised Cauchy */
    CHECK_REL(location_1d(40000, 400, cauchy, 1.3), 1 / (2 * 1.69) / (2 / PI * atan(400 / 1.3)),
              1e-6, "Cauchy 1/(2g^2)");
    CHECK_REL(location_1d(40000, 400, student3, 0.9), 4.0 / (6.0 * 0.81), 1e-6,
              "Student-t nu=3 (nu+1)/((nu+3)sigma^2)");
    /* a space with a metric: p is a density w.r.t. Vol_S = sqrt(det g) dx
     * and I is in box coordinates, so a Gaussian in x still gives 1/s^2 */
    {
        size_t ng = 2000;
        double glo = -10, ghi = 10, gm = 4.0, xg[2000], pg[2000], Ig;
        berg_space *sg = NULL;
        CHECK_STATUS(berg_space_create(&sg, 1, &ng, &glo, &ghi, NULL, &gm), BERG_OK, "metric space");
        coords(sg, 0, xg);
        for (size_t i = 0; i < ng; i++)
            pg[i] = gauss(xg[i], 0.9);
        CHECK_STATUS(berg_fisher_location(sg, pg, &Ig), BERG_OK, "location with a metric");
        CHECK_REL(Ig, 1 / 0.81, 1e-9, "metric does not change the box-coordinate Fisher metric");
        berg_space_destroy(sg);
    }
    /* halving h reduces the Gaussian error sixteenfold */
    double e1 = fabs(location_1d(1000, 10, gauss, 0.7) - 1 / 0.49);
    double e2 = fabs(location_1d(2000, 10, gauss, 0.7) - 1 / 0.49);
    CHECK(e2 < e1 / 12 && e2 > e1 / 20, "fourth order: errors %g -> %g", e1, e2);

    /* 2-D correlated Gaussian on a periodic box: I = Sigma^{-1} */
    size_t n[2] = {320, 256};
    double lo[2] = {-9, -7}, hi[2] = {9, 7};
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 2, n, lo, hi, NULL, NULL), BERG_OK, "2-D space");
    double Sg[4] = {1.5, 0.6, 0.6, 0.9}, det = 1.5 * 0.9 - 0.36;
    double P[4] = {0.9 / det, -0.6 / det, -0.6 / det, 1.5 / det};
    double *p = malloc(n[0] * n[1] * sizeof *p), x[320], y[256], I[4];
    coords(s, 0, x);
    coords(s, 1, y);
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n[1]; j++) {
            double a = x[i] - 0.3, b = y[j] + 0.2;
            p[i * n[1] + j] = exp(-0.5 * (P[0] * a * a + 2 * P[1] * a * b + P[3] * b * b));
        }
    CHECK_STATUS(berg_fisher_location(s, p, I), BERG_OK, "2-D Gaussian");
    for (int k = 0; k < 4; k++)
        CHECK_REL(I[k], P[k], 3e-6, "2-D Gaussian Sigma^{-1} entry %d", k);
    CHECK(I[1] == I[2], "2-D symmetric");
    (void)Sg;

    /* 2-D product of Laplaces (Dirichlet box): diag(1/b1^2, 1/b2^2); h/b is
     * 0.07 and 0.09 here, second order: error about (h/b)^2 / 3 */
    berg_boundary bc[2] = {BERG_DIRICHLET, BERG_NEUMANN};
    berg_space *t = NULL;
    CHECK_STATUS(berg_space_create(&t, 2, n, lo, hi, bc, NULL), BERG_OK, "2-D Dirichlet space");
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n[1]; j++)
            p[i * n[1] + j] = exp(-fabs(x[i]) / 0.8 - fabs(y[j] - 0.01) / 0.6);
    CHECK_STATUS(berg_fisher_location(t, p, I), BERG_OK, "2-D Laplace");
    CHECK_REL(I[0], 1 / 0.64, 1e-3, "2-D Laplace I_xx");
    CHECK_REL(I[3], 1 / 0.36, 5e-3, "2-D Laplace I_yy");
    CHECK_ABS(I[1], 0.0, 1e-12, "2-D Laplace I_xy");

    /* the three boundary kinds with smooth extensions, closed forms:
     * periodic p = 1 + cos(2 pi x)/2: I = pi^2 (1 - sqrt(3/4)) / (1/4);
     * Neumann p = 1 + cos(pi x)/2: I = pi^2 (1 - sqrt(3/4));
     * Dirichlet p = 2 sin^2(pi x): I = 4 pi^2 (r = sqrt2 sin pi x is odd
     * about the walls) */
    berg_space *u = line_space(100, 0, 1, BERG_DIRICHLET), *v = line_space(100, 0, 1, BERG_PERIODIC);
    berg_space *nm = line_space(100, 0, 1, BERG_NEUMANN);
    double flat[100], xs[100], Ib;
    coords(u, 0, xs);
    for (int i = 0; i < 100; i++)
        flat[i] = 1 + 0.5 * cos(2 * PI * xs[i]);
    CHECK_STATUS(berg_fisher_location(v, flat, &Ib), BERG_OK, "periodic");
    CHECK_REL(Ib, PI * PI * (1 - sqrt(0.75)) / 0.25, 2e-6, "periodic closed form");
    for (int i = 0; i < 100; i++)
        flat[i] = 1 + 0.5 * cos(PI * xs[i]);
    CHECK_STATUS(berg_fisher_location(nm, flat, &Ib), BERG_OK, "Neumann");
    CHECK_REL(Ib, PI * PI * (1 - sqrt(0.75)), 1e-7, "Neumann closed form");
    for (int i = 0; i < 100; i++)
        flat[i] = 2 * sin(PI * xs[i]) * sin(PI * xs[i]);
    CHECK_STATUS(berg_fisher_location(u, flat, &Ib), BERG_OK, "Dirichlet");
    CHECK_REL(Ib, 4 * PI * PI, 1e-7, "Dirichlet closed form");
    tu_fill(flat, 100, 1.0);
    CHECK_STATUS(berg_fisher_location(v, flat, &Ib), BERG_OK, "flat periodic");
    CHECK(Ib == 0.0, "uniform periodic density has zero Fisher information");

    /* bad input */
    double I1 = SENT;
    flat[42] = -1e-3;
    CHECK_STATUS(berg_fisher_location(u, flat, &I1), BERG_ERR_NEGATIVE, "negative density");
    CHECK_MESSAGE("42", "negative density index");
    flat[42] = NAN;
    CHECK_STATUS(berg_fisher_location(u, flat, &I1), BERG_ERR_NONFINITE, "NaN density");
    tu_fill(flat, 100, 0.0);
    CHECK_STATUS(berg_fisher_location(u, flat, &I1), BERG_ERR_MASS, "zero density");
    CHECK_STATUS(berg_fisher_location(NULL, flat, &I1), BERG_ERR_NULL, "NULL space");
    CHECK_STATUS(berg_fisher_location(u, NULL, &I1), BERG_ERR_NULL, "NULL p0");
    CHECK_STATUS(berg_fisher_location(u, flat, NULL), BERG_ERR_NULL, "NULL I");
    CHECK(I1 == SENT, "I untouched");
    free(p);
    berg_space_destroy(s);
    berg_space_destroy(t);
    berg_space_destroy(u);
    berg_space_destroy(v);
    berg_space_destroy(nm);
}

/* ---- exponential families -------------------------------------------------- */

static void test_expfam(void)
{
    /* Poisson(lambda) on the integers 0..79: q = y, h = 1/y!, u = ln lambda */
    berg_space *s = line_space(80, -0.5, 79.5, BERG_NEUMANN);
    double y[80], lh[80], lam = 3.7, u = log(lam), psi, mean, I, p[80];
    coords(s, 0, y);
    for (int i = 0; i < 80; i++)
        lh[i] = -lgamma(y[i] + 1.0);
    CHECK_STATUS(berg_fisher_expfam(s, 1, y, lh, &u, &psi, &mean, &I, p), BERG_OK, "Poisson");
    CHECK_REL(psi, lam, 1e-13, "Poisson psi = lambda");
    CHECK_REL(mean, lam, 1e-13, "Poisson mean = lambda");
    CHECK_REL(I, lam, 1e-12, "Poisson Fisher (natural) = lambda");
    CHECK_REL(p[2], exp(-lam) * lam * lam / 2, 1e-13, "Poisson pmf(2)");
    /* consistency: mean = dpsi/du, I = dmean/du (central differences) */
    double hs = 1e-5, pp, pm, mp, mm;
    double up = u + hs, um = u - hs;
    berg_fisher_expfam(s, 1, y, lh, &up, &pp, &mp, NULL, NULL);
    berg_fisher_expfam(s, 1, y, lh, &um, &pm, &mm, NULL, NULL);
    CHECK_REL((pp - pm) / (2 * hs), mean, 1e-8, "mean = grad psi");
    CHECK_REL((mp - mm) / (2 * hs), I, 1e-8, "I = grad mean");

    /* Bernoulli on {0, 1} */
    berg_space *b = line_space(2, -0.5, 1.5, BERG_NEUMANN);
    double q2[2] = {0, 1}, pr = 0.27, ub = log(pr / (1 - pr));
    CHECK_STATUS(berg_fisher_expfam(b, 1, q2, NULL, &ub, &psi, &mean, &I, NULL), BERG_OK,
                 "Bernoulli");
    CHECK_REL(psi, log1p(pr / (1 - pr)), 1e-14, "Bernoulli psi");
    CHECK_REL(mean, pr, 1e-14, "Bernoulli mean");
    CHECK_REL(I, pr * (1 - pr), 1e-14, "Bernoulli Fisher p(1-p)");

    /* Normal with q = (y, y^2), natural (mu/s^2, -1/(2 s^2)) */
    berg_space *g = line_space(3000, -15, 15, BERG_NEUMANN);
    double *q = malloc(2 * 3000 * sizeof *q), mu = 0.4, sg = 1.3;
    coords(g, 0, q);
    for (int i = 0; i < 3000; i++)
        q[3000 + i] = q[i] * q[i];
    double un[2] = {mu / (sg * sg), -0.5 / (sg * sg)}, mn[2], In[4];
    CHECK_STATUS(berg_fisher_expfam(g, 2, q, NULL, un, &psi, mn, In, NULL), BERG_OK, "Normal");
    double s2 = sg * sg;
    CHECK_REL(psi, mu * mu / (2 * s2) + 0.5 * log(2 * PI * s2), 1e-12, "Normal psi");
    CHECK_REL(mn[0], mu, 1e-12, "Normal E[y]");
    CHECK_REL(mn[1], mu * mu + s2, 1e-12, "Normal E[y^2]");
    CHECK_REL(In[0], s2, 1e-12, "Var y");
    CHECK_REL(In[1], 2 * mu * s2, 1e-11, "Cov(y, y^2)");
    CHECK_REL(In[3], 4 * mu * mu * s2 + 2 * s2 * s2, 1e-12, "Var y^2");

    /* bad input */
    double psi0 = SENT, m2[2] = {SENT, SENT};
    q[7] = NAN;
    CHECK_STATUS(berg_fisher_expfam(g, 2, q, NULL, un, &psi0, m2, NULL, NULL), BERG_ERR_NONFINITE,
                 "NaN statistic");
    CHECK_MESSAGE("q[7]", "NaN statistic index");
    q[7] = 0;
    CHECK_STATUS(berg_fisher_expfam(g, 0, q, NULL, un, &psi0, m2, NULL, NULL), BERG_ERR_SIZE, "k = 0");
    double allneg[2] = {-INFINITY, -INFINITY};
    CHECK_STATUS(berg_fisher_expfam(b, 1, q2, allneg, &ub, &psi0, m2, NULL, NULL), BERG_ERR_MASS,
                 "zero base measure");
    double big = 1e308;
    CHECK_STATUS(berg_fisher_expfam(g, 1, q + 3000, NULL, &big, &psi0, m2, NULL, NULL),
                 BERG_ERR_NONFINITE, "overflow");
    CHECK(psi0 == SENT && tu_untouched(m2, 2, SENT), "outputs untouched");
    /* u.q is modest but Var q = Var(j 1e200) ~ 1e400 overflows; and for q
     * near DBL_MAX the sum w p q behind E[q] overflows (E[q] itself, 1.7e308,
     * would not): refused, not returned as inf */
    double qb[10], ut = 1e-200, Ib = SENT;
    for (int j = 0; j < 10; j++)
        qb[j] = j * 1e200;
    berg_space *t10 = line_space(10, 0, 1, BERG_NEUMANN);
    CHECK_STATUS(berg_fisher_expfam(t10, 1, qb, NULL, &ut, &psi0, m2, &Ib, NULL),
                 BERG_ERR_NONFINITE, "Cov(q) overflows");
    CHECK_MESSAGE("Cov(q)", "the overflowing result named");
    CHECK(psi0 == SENT && m2[0] == SENT && Ib == SENT, "outputs untouched on overflow");
    CHECK_STATUS(berg_fisher_expfam(t10, 1, qb, NULL, &ut, &psi0, m2, NULL, NULL), BERG_OK,
                 "without I nothing overflows");
    for (int j = 0; j < 10; j++)
        qb[j] = 1.7e308;
    m2[0] = SENT;
    CHECK_STATUS(berg_fisher_expfam(t10, 1, qb, NULL, &ut, &psi0, m2, NULL, NULL),
                 BERG_ERR_NONFINITE, "E[q] overflows");
    CHECK(m2[0] == SENT, "mean untouched");
    berg_space_destroy(t10);
    free(q);
    berg_space_destroy(s);
    berg_space_destroy(b);
    berg_space_destroy(g);
}

/* ---- parametric models ----------------------------------------------------- */

/* Normal(mu, sigma) on a grid, u = (mu, sigma) */
static int normal_ll(size_t npar, const double *u, const berg_space *space, double *logp, void *ud)
{
    (void)ud;
    if (npar != 2 || !(u[1] > 0))
        return -1;
    size_t n = berg_space_size(space);
    double *x = malloc(n * sizeof *x);
    berg_space_coordinates(space, 0, x);
    for (size_t j = 0; j < n; j++) {
        double z = (x[j] - u[0]) / u[1];
        logp[j] = -0.5 * z * z - log(u[1]) - 0.5 * log(2 * PI);
    }
    free(x);
    return 0;
}

static int normal_score(size_t npar, const double *u, const berg_space *space, double *logp,
                        double *score, void *ud)
{
    int rc = normal_ll(npar, u, space, logp, ud);
    if (rc)
        return rc;
    size_t n = berg_space_size(space);
    double *x = malloc(n * sizeof *x);
    berg_space_coordinates(space, 0, x);
    for (size_t j = 0; j < n; j++) {
        double z = (x[j] - u[0]) / u[1];
        score[j] = z / u[1];
        score[n + j] = (z * z - 1.0) / u[1];
    }
    free(x);
    return 0;
}

/* a uniform model whose finite scores +-1e200 overflow sum p s s^T */
static int huge_score(size_t npar, const double *u, const berg_space *space, double *logp,
                      double *score, void *ud)
{
    (void)u;
    (void)ud;
    size_t n = berg_space_size(space);
    double w;
    w = berg_space_cell_weight(space);
    for (size_t j = 0; j < n; j++) {
        logp[j] = -log((double)n * w);
        for (size_t k = 0; k < npar; k++)
            score[k * n + j] = (j % 2) ? 1e200 : -1e200;
    }
    return 0;
}

/* Poisson(lambda) on the integers, u = (lambda) */
static int poisson_ll(size_t npar, const double *u, const berg_space *space, double *logp, void *ud)
{
    (void)npar;
    (void)ud;
    size_t n = berg_space_size(space);
    for (size_t j = 0; j < n; j++)
        logp[j] = (double)j * log(u[0]) - u[0] - lgamma((double)j + 1.0);
    return 0;
}

static int failing_ll(size_t npar, const double *u, const berg_space *space, double *logp, void *ud)
{
    (void)npar;
    (void)u;
    int *mode = ud;
    if (*mode == 0)
        return 7;
    size_t n = berg_space_size(space);
    for (size_t j = 0; j < n; j++)
        if (*mode == 1 || j != 5) /* mode 2 forgets entry 5 */
            logp[j] = -1.0;
    if (*mode == 1)
        logp[3] = NAN;
    return 0;
}

static void test_model(void)
{
    berg_space *s = line_space(4000, -20, 20, BERG_NEUMANN);
    double u[2] = {0.3, 1.7}, I[4], J[4];
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, normal_ll, NULL, NULL), BERG_OK, "Normal FD");
    CHECK_REL(I[0], 1 / (1.7 * 1.7), 1e-9, "Normal I_mu");
    CHECK_REL(I[3], 2 / (1.7 * 1.7), 1e-9, "Normal I_sigma");
    CHECK_ABS(I[1], 0.0, 1e-10, "Normal I_mu,sigma");
    CHECK_STATUS(berg_fisher_model(s, 2, u, J, NULL, normal_score, NULL), BERG_OK, "Normal score");
    for (int k = 0; k < 4; k++)
        CHECK_ABS(J[k], I[k], 1e-10, "score vs finite differences %d", k);
    CHECK_REL(J[0], 1 / (1.7 * 1.7), 1e-13, "Normal I_mu (score)");
    CHECK_REL(J[3], 2 / (1.7 * 1.7), 1e-13, "Normal I_sigma (score)");

    /* KL(p_u || p_{u+du}) ~ 1/2 du^T I du */
    double du[2] = {1e-3, -2e-3}, u2[2] = {u[0] + du[0], u[1] + du[1]};
    size_t n = berg_space_size(s);
    double *l1 = malloc(n * sizeof *l1), *l2 = malloc(n * sizeof *l2), w;
    normal_ll(2, u, s, l1, NULL);
    normal_ll(2, u2, s, l2, NULL);
    w = berg_space_cell_weight(s);
    double kl = 0;
    for (size_t j = 0; j < n; j++)
        kl += w * exp(l1[j]) * (l1[j] - l2[j]);
    double quad = 0.5 * (I[0] * du[0] * du[0] + 2 * I[1] * du[0] * du[1] + I[3] * du[1] * du[1]);
    CHECK_REL(kl, quad, 5e-3, "KL ~ 1/2 du I du");
    free(l1);
    free(l2);

    /* Poisson in lambda: I = 1/lambda */
    berg_space *z = line_space(90, -0.5, 89.5, BERG_NEUMANN);
    double lam = 6.2, Ip;
    CHECK_STATUS(berg_fisher_model(z, 1, &lam, &Ip, poisson_ll, NULL, NULL), BERG_OK, "Poisson");
    CHECK_REL(Ip, 1 / lam, 1e-10, "Poisson 1/lambda");

    /* failures */
    int mode = 0;
    tu_fill(I, 4, SENT);
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, failing_ll, NULL, &mode), BERG_ERR_CALLBACK,
                 "callback returns 7");
    CHECK_MESSAGE("7", "callback status in message");
    mode = 1;
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, failing_ll, NULL, &mode), BERG_ERR_CALLBACK,
                 "callback writes NaN");
    CHECK_MESSAGE("logp[3]", "NaN index");
    mode = 2;
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, failing_ll, NULL, &mode), BERG_ERR_CALLBACK,
                 "callback leaves an entry unwritten");
    CHECK_MESSAGE("logp[5]", "unwritten index");
    double ubad[2] = {0.3, 0.0015}; /* the stencil steps to sigma < 0: callback fails */
    CHECK_STATUS(berg_fisher_model(s, 2, ubad, I, normal_ll, NULL, NULL), BERG_ERR_CALLBACK,
                 "callback fails inside the stencil");
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, NULL, NULL, NULL), BERG_ERR_NULL, "no callback");
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, normal_ll, normal_score, NULL), BERG_ERR_DOMAIN,
                 "two callbacks");
    CHECK_STATUS(berg_fisher_model(s, 0, u, I, normal_ll, NULL, NULL), BERG_ERR_SIZE, "npar 0");
    double unan[2] = {NAN, 1};
    CHECK_STATUS(berg_fisher_model(s, 2, unan, I, normal_ll, NULL, NULL), BERG_ERR_NONFINITE,
                 "NaN u");
    CHECK(tu_untouched(I, 4, SENT), "I untouched");
    CHECK_STATUS(berg_fisher_model(s, 2, u, I, NULL, huge_score, NULL), BERG_ERR_NONFINITE,
                 "finite scores whose I overflows");
    CHECK_MESSAGE("overflows", "overflow named");
    CHECK(tu_untouched(I, 4, SENT), "I untouched on overflow");
    berg_space_destroy(s);
    berg_space_destroy(z);
}

/* ---- location model, pull-back, linear algebra ------------------------------ */

static int forward(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[0] * u[0];
    y[1] = sin(u[1]) * u[0];
    y[2] = exp(u[1]);
    return 0;
}

static int jacobian(size_t du, const double *u, size_t dy, double *J, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    double r[6] = {2 * u[0], 0, sin(u[1]), cos(u[1]) * u[0], 0, exp(u[1])};
    memcpy(J, r, sizeof r);
    return 0;
}

static int bad_forward(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)u;
    (void)dy;
    (void)ud;
    y[0] = NAN;
    return 0;
}

/* a random SPD matrix A = B B^T + d I */
static void random_spd(size_t d, double *A, unsigned long long seed)
{
    double B[64];
    for (size_t k = 0; k < d * d; k++)
        B[k] = tu_uniform(&seed) - 0.5;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double acc = (i == j) ? 0.1 * (double)(i + 1) : 0.0;
            for (size_t k = 0; k < d; k++)
                acc += B[i * d + k] * B[j * d + k];
            A[i * d + j] = acc;
        }
}

static void test_linalg(void)
{
    double u[2] = {1.3, -0.4}, J[6], Ja[6];
    CHECK_STATUS(berg_fisher_jacobian(2, 3, u, J, forward, NULL, NULL), BERG_OK, "FD Jacobian");
    CHECK_STATUS(berg_fisher_jacobian(2, 3, u, Ja, NULL, jacobian, NULL), BERG_OK, "Jacobian cb");
    for (int k = 0; k < 6; k++)
        CHECK_ABS(J[k], Ja[k], 1e-11, "Jacobian entry %d", k);
    tu_fill(J, 6, SENT);
    CHECK_STATUS(berg_fisher_jacobian(2, 3, u, J, bad_forward, NULL, NULL), BERG_ERR_CALLBACK,
                 "NaN forward");
    CHECK_STATUS(berg_fisher_jacobian(2, 3, u, J, NULL, NULL, NULL), BERG_ERR_NULL, "no G");
    CHECK(tu_untouched(J, 6, SENT), "J untouched");

    /* parameter metric J^T IN J and pull-back J I^{-1} J^T against sums */
    double IN[9], I[4], K[9];
    random_spd(3, IN, 3);
    CHECK_STATUS(berg_fisher_parameter_metric(3, 2, Ja, IN, I), BERG_OK, "J^T IN J");
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double acc = 0;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    acc += Ja[i * 2 + a] * IN[i * 3 + j] * Ja[j * 2 + b];
            CHECK_REL(I[a * 2 + b], acc, 1e-13, "J^T IN J %d %d", a, b);
        }
    CHECK_STATUS(berg_fisher_pullback(3, 2, Ja, I, K), BERG_OK, "pullback");
    double det = I[0] * I[3] - I[1] * I[2];
    double Ii[4] = {I[3] / det, -I[1] / det, -I[2] / det, I[0] / det};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double acc = 0;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    acc += Ja[i * 2 + a] * Ii[a * 2 + b] * Ja[j * 2 + b];
            CHECK_REL(K[i * 3 + j], acc, 1e-12, "pullback %d %d", i, j);
            CHECK(K[i * 3 + j] == K[j * 3 + i], "pullback symmetric");
        }
    /* refusals with the offending eigenvalue */
    double indef[4] = {1, 0, 0, -2}, sing[4] = {1, 1, 1, 1}, asym[4] = {1, 0.5, 0.4, 1};
    tu_fill(K, 9, SENT);
    CHECK_STATUS(berg_fisher_pullback(3, 2, Ja, indef, K), BERG_ERR_NOT_SPD, "indefinite");
    CHECK_MESSAGE("-2", "smallest eigenvalue -2 named");
    CHECK_STATUS(berg_fisher_pullback(3, 2, Ja, sing, K), BERG_ERR_NOT_SPD, "singular");
    CHECK_MESSAGE("singular", "singular named");
    CHECK_STATUS(berg_fisher_pullback(3, 2, Ja, asym, K), BERG_ERR_NOT_SPD, "asymmetric");
    CHECK_MESSAGE("symmetric", "asymmetry named");
    double Jn[6] = {0, 0, 0, 0, INFINITY, 0};
    CHECK_STATUS(berg_fisher_pullback(3, 2, Jn, I, K), BERG_ERR_NONFINITE, "Inf J");
    CHECK_MESSAGE("J[4]", "Inf J index");
    CHECK_STATUS(berg_fisher_pullback(0, 2, Ja, I, K), BERG_ERR_SIZE, "dy 0");
    double tiny[1] = {1e-300}, Jbig[3] = {1e10, 1, 1};
    CHECK_STATUS(berg_fisher_pullback(3, 1, Jbig, tiny, K), BERG_ERR_NONFINITE, "K overflows");
    CHECK_MESSAGE("overflows", "overflow named");
    CHECK(tu_untouched(K, 9, SENT), "K untouched");

    /* inverse, eigen-decomposition, condition number */
    enum { D = 6 };
    double A[D * D], Ai[D * D], V[D * D], ev[D], cond;
    random_spd(D, A, 11);
    CHECK_STATUS(berg_fisher_inverse(D, A, Ai), BERG_OK, "inverse");
    double maxerr = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double acc = 0;
            for (int k = 0; k < D; k++)
                acc += A[i * D + k] * Ai[k * D + j];
            maxerr = fmax(maxerr, fabs(acc - (i == j)));
        }
    CHECK(maxerr < 1e-12, "A A^{-1} = 1 (error %g)", maxerr);
    double Ac[D * D];
    memcpy(Ac, A, sizeof A);
    CHECK_STATUS(berg_fisher_inverse(D, Ac, Ac), BERG_OK, "inverse in place");
    CHECK(tu_max_abs_diff(Ac, Ai, D * D) == 0.0, "in place = out of place");
    CHECK_STATUS(berg_fisher_eigen(D, A, ev, V), BERG_OK, "eigen");
    for (int k = 1; k < D; k++)
        CHECK(ev[k] <= ev[k - 1], "eigenvalues decreasing");
    maxerr = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double acc = 0;
            for (int k = 0; k < D; k++)
                acc += V[i * D + k] * ev[k] * V[j * D + k];
            maxerr = fmax(maxerr, fabs(acc - A[i * D + j]));
        }
    CHECK(maxerr < 1e-13, "V diag V^T = A (error %g)", maxerr);
    CHECK_STATUS(berg_fisher_condition(D, A, &cond), BERG_OK, "condition");
    CHECK_REL(cond, ev[0] / ev[D - 1], 1e-13, "condition = lmax/lmin");
    double dg[9] = {1e4, 0, 0, 0, 1, 0, 0, 0, 0.01};
    CHECK_STATUS(berg_fisher_condition(3, dg, &cond), BERG_OK, "diagonal condition");
    CHECK_REL(cond, 1e6, 1e-14, "diagonal condition 1e6");
    CHECK_STATUS(berg_fisher_eigen(2, indef, ev, NULL), BERG_OK, "eigen of indefinite");
    CHECK(ev[0] == 1 && ev[1] == -2, "indefinite spectrum");
    cond = SENT;
    CHECK_STATUS(berg_fisher_condition(2, indef, &cond), BERG_ERR_NOT_SPD, "condition indefinite");
    CHECK_MESSAGE("-2", "condition names eigenvalue");
    CHECK(cond == SENT, "cond untouched");
    tu_fill(Ai, 4, SENT);
    CHECK_STATUS(berg_fisher_inverse(2, indef, Ai), BERG_ERR_NOT_SPD, "inverse indefinite");
    double den[1] = {1e-310}; /* subnormal: refused, rather than an infinite inverse */
    CHECK_STATUS(berg_fisher_inverse(1, den, Ai), BERG_ERR_NOT_SPD, "subnormal metric");
    CHECK(tu_untouched(Ai, 4, SENT), "inverse untouched");
    double INbig[9] = {1e308, 0, 0, 0, 1, 0, 0, 0, 1};
    CHECK_STATUS(berg_fisher_parameter_metric(3, 2, Ja, INbig, Ai), BERG_ERR_NONFINITE,
                 "J^T IN J overflows");
    CHECK(tu_untouched(Ai, 4, SENT), "outputs untouched");
}

/* ---- Wick moments ------------------------------------------------------------ */

/* brute force: sum over all pairings, recursively */
static double pairings(const size_t *idx, int *used, size_t m, const double *C, size_t d)
{
    size_t first = 0;
    while (first < m && used[first])
        first++;
    if (first == m)
        return 1.0;
    used[first] = 1;
    double acc = 0;
    for (size_t j = first + 1; j < m; j++)
        if (!used[j]) {
            used[j] = 1;
            acc += C[idx[first] * d + idx[j]] * pairings(idx, used, m, C, d);
            used[j] = 0;
        }
    used[first] = 0;
    return acc;
}

static void test_wick(void)
{
    double s2 = 0.7, C1[1] = {s2}, out;
    size_t z[12] = {0};
    CHECK_STATUS(berg_fisher_wick(1, 1.0, 12, C1, z, &out), BERG_OK, "x^12");
    CHECK_REL(out, 10395.0 * pow(s2, 6), 1e-14, "E x^12 = 11!! s^12");
    CHECK_STATUS(berg_fisher_wick(1, 4.0, 12, C1, z, &out), BERG_OK, "x^12 / T^6");
    CHECK_REL(out, 10395.0 * pow(s2 / 4.0, 6), 1e-14, "T^-6 scaling");
    CHECK_STATUS(berg_fisher_wick(1, 1.0, 11, C1, z, &out), BERG_OK, "odd");
    CHECK(out == 0.0, "odd order is zero");
    CHECK_STATUS(berg_fisher_wick(1, 1.0, 0, C1, NULL, &out), BERG_OK, "order 0");
    CHECK(out == 1.0, "order 0 is one");
    /* Isserlis: E[x0 x1 x0 x1] = C00 C11 + 2 C01^2 */
    double C[16];
    random_spd(4, C, 99);
    size_t i4[4] = {0, 1, 0, 1};
    CHECK_STATUS(berg_fisher_wick(4, 1.0, 4, C, i4, &out), BERG_OK, "order 4");
    CHECK_REL(out, C[0] * C[5] + 2 * C[1] * C[1], 1e-14, "Isserlis order 4");
    /* order 12 with random indices vs all 10395 pairings */
    unsigned long long st = 5;
    int used[14] = {0};
    for (int trial = 0; trial < 5; trial++) {
        size_t idx[12];
        for (int j = 0; j < 12; j++)
            idx[j] = (size_t)(tu_uniform(&st) * 4.0);
        double want = pairings(idx, used, 12, C, 4) / pow(2.5, 6);
        CHECK_STATUS(berg_fisher_wick(4, 2.5, 12, C, idx, &out), BERG_OK, "order 12");
        CHECK_REL(out, want, 1e-12, "order 12 vs pairings, trial %d", trial);
    }
    /* order 14, all distinct: 13!! = 135135 pairings */
    double C14[14 * 14];
    for (int i = 0; i < 14; i++)
        for (int j = 0; j < 14; j++)
            C14[i * 14 + j] = (i == j) ? 1.0 : 0.3 / (1 + abs(i - j));
    size_t id14[14];
    for (int j = 0; j < 14; j++)
        id14[j] = (size_t)j;
    CHECK_STATUS(berg_fisher_wick(14, 1.0, 14, C14, id14, &out), BERG_OK, "order 14 distinct");
    int used14[14] = {0};
    CHECK_REL(out, pairings(id14, used14, 14, C14, 14), 1e-12, "order 14 vs pairings");
    /* a high order with few distinct indices is cheap: E x^40 = 39!! */
    size_t z40[40] = {0};
    double one[1] = {1.0}, df = 1;
    for (int k = 39; k > 1; k -= 2)
        df *= k;
    CHECK_STATUS(berg_fisher_wick(1, 1.0, 40, one, z40, &out), BERG_OK, "order 40");
    CHECK_REL(out, df, 1e-13, "E x^40 = 39!!");
    /* Iinv and T far from 1 whose ratio is not: E x^8 = 7!! (Iinv / T)^4 =
     * 105, though Iinv^4 and T^-4 overflow or underflow on their own */
    size_t z8[8] = {0};
    double big = 1e100, small = 1e-100;
    CHECK_STATUS(berg_fisher_wick(1, 1e100, 8, &big, z8, &out), BERG_OK, "Iinv = T = 1e100");
    CHECK_REL(out, 105.0, 1e-15, "E x^8 at Iinv = T = 1e100");
    CHECK_STATUS(berg_fisher_wick(1, 1e-100, 8, &small, z8, &out), BERG_OK, "Iinv = T = 1e-100");
    CHECK_REL(out, 105.0, 1e-15, "E x^8 at Iinv = T = 1e-100");
    /* a moment that does overflow, (1e200)^4, is still refused */
    out = SENT;
    CHECK_STATUS(berg_fisher_wick(1, 1e-100, 8, &big, z8, &out), BERG_ERR_NONFINITE,
                 "moment 105e800");
    CHECK(out == SENT, "out untouched on overflow");
    /* bad input */
    out = SENT;
    size_t bad[2] = {0, 4};
    CHECK_STATUS(berg_fisher_wick(4, 1.0, 2, C, bad, &out), BERG_ERR_OUT_OF_RANGE, "index 4");
    CHECK_MESSAGE("idx[1]", "bad index named");
    CHECK_STATUS(berg_fisher_wick(4, 0.0, 2, C, i4, &out), BERG_ERR_DOMAIN, "T = 0");
    CHECK_STATUS(berg_fisher_wick(4, NAN, 2, C, i4, &out), BERG_ERR_DOMAIN, "T NaN");
    CHECK_STATUS(berg_fisher_wick(4, 1.0, 2, C, NULL, &out), BERG_ERR_NULL, "NULL idx");
    double asym[4] = {1, 0.2, 0.3, 1};
    CHECK_STATUS(berg_fisher_wick(2, 1.0, 2, asym, i4, &out), BERG_ERR_NOT_SPD, "asymmetric");
    size_t many[64];
    for (int j = 0; j < 64; j++)
        many[j] = (size_t)j;
    double *C64 = calloc(64 * 64, sizeof *C64);
    CHECK_STATUS(berg_fisher_wick(64, 1.0, 64, C64, many, &out), BERG_ERR_SIZE, "too many states");
    CHECK_STATUS(berg_fisher_wick(64, 1.0, SIZE_MAX, C64, many, &out), BERG_ERR_SIZE, "huge order");
    free(C64);
    CHECK(out == SENT, "out untouched");
}

/* ---- Fisher-Rao distances ------------------------------------------------- */

static int metric_const(double th, double *I, void *ud)
{
    (void)th;
    *I = *(double *)ud;
    return 0;
}
static int metric_bernoulli(double p, double *I, void *ud)
{
    (void)ud;
    *I = 1.0 / (p * (1.0 - p));
    return 0;
}
static int metric_poisson(double lam, double *I, void *ud)
{
    (void)ud;
    *I = 1.0 / lam;
    return 0;
}
static int metric_fail(double th, double *I, void *ud)
{
    int mode = *(int *)ud;
    if (mode == 0)
        return -3;
    *I = mode == 1 ? NAN : -th;
    return 0;
}

static void test_rao(void)
{
    double d;
    CHECK_STATUS(berg_fisher_rao_gaussian(0, 2, 0, 2, &d), BERG_OK, "same Gaussian");
    CHECK(d == 0.0, "distance to itself");
    CHECK_STATUS(berg_fisher_rao_gaussian(1, 1.5, 1, 4.5, &d), BERG_OK, "same mean");
    CHECK_REL(d, sqrt(2.0) * log(3.0), 1e-14, "sqrt2 ln(s2/s1)");
    CHECK_STATUS(berg_fisher_rao_gaussian(0, 2, 1e-7, 2, &d), BERG_OK, "close means");
    CHECK_REL(d, 1e-7 / 2, 1e-12, "dmu / sigma for close means");
    CHECK_STATUS(berg_fisher_rao_gaussian(-1, 0.5, 2, 1.5, &d), BERG_OK, "general");
    CHECK_REL(d, sqrt(2.0) * acosh(1 + (4.5 + 1.0) / (2 * 0.75)), 1e-14, "arccosh form");
    double e;
    CHECK_STATUS(berg_fisher_rao_gaussian(2, 1.5, -1, 0.5, &e), BERG_OK, "swapped");
    CHECK_REL(e, d, 1e-15, "symmetric");
    /* extreme but finite input: z = |.| / (2 sqrt(s1 s2)) beyond DBL_MAX or
     * its square beyond it. References by mpmath at 300 bits from the closed
     * form above (the library agrees to <= 1.0e-16 relative) */
    static const struct {
        double mu1, s1, mu2, s2, want;
    } far[] = {
        {0, 1e-300, 0, 1e300, 1953.8082402181762136},       /* sigma ratio 1e600 */
        {1e300, 1, -1e300, 1, 1954.7884983616447609},       /* means 2e300 sigmas apart */
        {0, 1e-200, 1, 1e-200, 1301.5585686686489285},      /* dmu / sigma = 1e200 */
        {0, 1e200, 0, 1e-200, 1302.5388268121174757},       /* sigma ratio 1e400 */
        {0, 1, 1e200, 1, 1301.5585686686489284},            /* (dmu / sigma)^2 overflows */
        {1.5e308, 1, -1.5e308, 1, 2008.0368799440407383},   /* mu1 - mu2 overflows */
        {0, 1.7e308, 1e308, 1.7e308, 0.58407531404769437377}, /* sigma1 sigma2 overflows */
    };
    for (size_t k = 0; k < sizeof far / sizeof far[0]; k++) {
        d = NAN;
        CHECK_STATUS(berg_fisher_rao_gaussian(far[k].mu1, far[k].s1, far[k].mu2, far[k].s2, &d),
                     BERG_OK, "extreme input %zu", k);
        CHECK_REL(d, far[k].want, 1e-15, "extreme input %zu against mpmath", k);
    }
    CHECK_STATUS(berg_fisher_rao_gaussian(0, 1, 1e-200, 1, &d), BERG_OK, "tiny dmu");
    CHECK_REL(d, 1e-200, 1e-15, "(dmu / sigma)^2 underflows: d = dmu / sigma");
    d = SENT;
    CHECK_STATUS(berg_fisher_rao_gaussian(0, 0, 0, 1, &d), BERG_ERR_DOMAIN, "sigma 0");
    CHECK_STATUS(berg_fisher_rao_gaussian(NAN, 1, 0, 1, &d), BERG_ERR_NONFINITE, "NaN mu");
    CHECK(d == SENT, "dist untouched");

    double c = 4.0;
    CHECK_STATUS(berg_fisher_rao_distance(1, -2, &d, metric_const, &c), BERG_OK, "constant metric");
    CHECK_REL(d, 6.0, 1e-13, "constant metric 3 * 2");
    CHECK_STATUS(berg_fisher_rao_distance(0, 1, &d, metric_bernoulli, NULL), BERG_OK, "Bernoulli");
    CHECK_REL(d, PI, 1e-8, "Bernoulli 0..1 = pi (endpoint singularities)");
    CHECK_STATUS(berg_fisher_rao_distance(0.1, 0.6, &d, metric_bernoulli, NULL), BERG_OK, "B");
    CHECK_REL(d, 2 * (asin(sqrt(0.6)) - asin(sqrt(0.1))), 1e-12, "Bernoulli 2 asin sqrt p");
    CHECK_STATUS(berg_fisher_rao_distance(0.5, 9, &d, metric_poisson, NULL), BERG_OK, "Poisson");
    CHECK_REL(d, 2 * (3 - sqrt(0.5)), 1e-12, "Poisson 2 |sqrt a - sqrt b|");
    int mode = 0;
    d = SENT;
    CHECK_STATUS(berg_fisher_rao_distance(1, 2, &d, metric_fail, &mode), BERG_ERR_CALLBACK, "fails");
    mode = 1;
    CHECK_STATUS(berg_fisher_rao_distance(1, 2, &d, metric_fail, &mode), BERG_ERR_CALLBACK, "NaN");
    mode = 2;
    CHECK_STATUS(berg_fisher_rao_distance(1, 2, &d, metric_fail, &mode), BERG_ERR_DOMAIN, "negative");
    CHECK_STATUS(berg_fisher_rao_distance(1, 2, &d, NULL, NULL), BERG_ERR_NULL, "NULL metric");
    CHECK_STATUS(berg_fisher_rao_distance(1, INFINITY, &d, metric_poisson, NULL),
                 BERG_ERR_NONFINITE, "infinite b");
    CHECK(d == SENT, "dist untouched");
}

int main(void)
{
    test_from_scores();
    test_accumulator();
    test_accumulator_threads();
    test_location();
    test_expfam();
    test_model();
    test_linalg();
    test_wick();
    test_rao();
    return test_summary("fisher");
}
