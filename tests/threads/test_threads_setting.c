/* libberg's own threads (issue 18, "Every core"): every loop it splits
 * across threads gives the serial result. The finite-volume line solves,
 * the Bayes observe and predictive, the Fisher score sums (the free
 * function and the accumulator) and the W2-metric operator are run with
 * 1 thread and with 2, 3 and 4 (library-wide setting and per-handle
 * overrides) and compared: bitwise where each value is computed by one
 * thread as on one (lines, cells), and to 1e-14 relative where a
 * reduction is split (fixed ranges: bitwise as well). The Fisher sums are
 * also checked against an independent long-double sum. A callback failing
 * inside a worker thread reports, in the calling thread, the error the
 * serial loop reports, and leaves the posterior unchanged. The exact 1-D
 * W2 (fixed pieces of the CDF merge) is the same on 1, 2 and 3 threads,
 * agrees with the W_p walk and with a shift's closed form. Run under
 * ThreadSanitizer by scripts/test. */
#include <math.h>
#include <string.h>

#include "testutil.h"

static int same(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof(double)) == 0;
}

/* largest |a - b| relative to max |b| */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        m = fmax(m, fabs(b[i]));
    }
    return m > 0.0 ? d / m : d;
}

/* ---- setters --------------------------------------------------------- */

static void test_setters(void)
{
    CHECK_STATUS(berg_fp_set_threads(NULL, 2), BERG_ERR_NULL, "fp NULL");
    CHECK_MESSAGE("fp", "fp NULL named");
    CHECK_STATUS(berg_bayes_set_threads(NULL, 2), BERG_ERR_NULL, "bayes NULL");
    CHECK_STATUS(berg_fisher_acc_set_threads(NULL, 2), BERG_ERR_NULL, "acc NULL");
    CHECK_STATUS(berg_w2_metric_set_threads(NULL, 2), BERG_ERR_NULL, "metric NULL");
    berg_fisher_acc *acc = NULL;
    CHECK_STATUS(berg_fisher_acc_create(&acc, 3, 0), BERG_OK, "acc create");
    CHECK_STATUS(berg_fisher_acc_set_threads(acc, 1025), BERG_ERR_DOMAIN, "acc 1025");
    CHECK_MESSAGE("nthreads", "nthreads named");
    CHECK_STATUS(berg_fisher_acc_set_threads(acc, 0), BERG_OK, "acc 0");
    CHECK_STATUS(berg_fisher_acc_set_threads(acc, 1024), BERG_OK, "acc 1024");
    berg_fisher_acc_destroy(acc);
}

/* ---- finite-volume Fokker-Planck: independent grid lines -------------- */

static void test_fp_lines(void)
{
    /* 320 x 320: lines of 320 cells, enough lines for 3 threads per sweep;
     * one axis periodic and one Neumann (both line solvers), a tilted
     * double well */
    size_t n[2] = {320, 320};
    double lo[2] = {-3, -3}, hi[2] = {3, 3};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = n[0] * n[1];
    double *V = tu_vec(N), *p0 = tu_vec(N), *serial = tu_vec(N), *par = tu_vec(N);
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n[1]; j++) {
            double x = lo[0] + 6.0 * ((double)i + 0.5) / (double)n[0];
            double y = lo[1] + 6.0 * ((double)j + 0.5) / (double)n[1];
            V[i * n[1] + j] = 0.5 * (y * y - 1) * (y * y - 1) + 0.3 * sin(x) + 0.2 * x * y / 9;
            p0[i * n[1] + j] = exp(-2 * (x - 0.5) * (x - 0.5) - 3 * (y + 0.7) * (y + 0.7));
        }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "fp create");
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK_STATUS(berg_fp_evolve(fp, 0.05, p0, serial), BERG_OK, "fp serial: %s",
                 berg_last_error());
    /* the library-wide setting, then a handle override above it */
    CHECK_STATUS(berg_set_threads(3), BERG_OK, "3 threads");
    CHECK_STATUS(berg_fp_evolve(fp, 0.05, p0, par), BERG_OK, "fp 3 threads");
    CHECK(same(par, serial, N), "fp evolve on 3 threads equals 1 thread bitwise (max diff %g)",
          tu_max_abs_diff(par, serial, N));
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK_STATUS(berg_fp_set_threads(fp, 2), BERG_OK, "fp override 2");
    tu_fill(par, N, 0.0);
    CHECK_STATUS(berg_fp_evolve(fp, 0.05, p0, par), BERG_OK, "fp 2 threads");
    CHECK(same(par, serial, N), "fp evolve with the handle at 2 threads equals 1 thread bitwise");
    CHECK_STATUS(berg_fp_set_threads(fp, 0), BERG_OK, "fp follows again");
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p0);
    free(serial);
    free(par);
}

/* ---- Bayes: cells of observe, blocks of the predictive ---------------- */

static int G_identity(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[0];
    return 0;
}

/* a Gaussian noise callback that fails (returns 7) for the residual
 * marked in *ud, so that it fails in some worker thread */
static int noise_fails(size_t dy, const double *nres, double *lp, void *ud)
{
    (void)dy;
    const double *bad = ud;
    if (fabs(nres[0] - *bad) < 1e-12)
        return 7;
    *lp = -0.5 * nres[0] * nres[0] / 0.09;
    return 0;
}

static void test_bayes(void)
{
    const size_t nu = 20000, ny = 200;
    berg_space *U = tu_line(nu, -4, 4, BERG_NEUMANN), *Y = tu_line(ny, -6, 6, BERG_NEUMANN);
    berg_space *Ns = tu_line(301, -3, 3, BERG_NEUMANN);
    double *prior = tu_vec(nu), *noise = tu_vec(301);
    for (size_t i = 0; i < nu; i++) {
        double u = -4 + 8 * ((double)i + 0.5) / (double)nu;
        prior[i] = exp(-0.5 * u * u);
    }
    for (size_t k = 0; k < 301; k++) {
        double x = -3 + 6 * ((double)k + 0.5) / 301.0;
        noise[k] = exp(-0.5 * x * x / 0.25) * (1 + 0.3 * sin(3 * x));
    }
    double y[40];
    unsigned long long st = 11;
    for (size_t k = 0; k < 40; k++)
        y[k] = 0.7 + (tu_uniform(&st) - 0.5);
    berg_bayes *b1 = NULL, *b2 = NULL;
    CHECK_STATUS(berg_bayes_create(&b1, U, Y, prior, 0), BERG_OK, "bayes create");
    CHECK_STATUS(berg_bayes_create(&b2, U, Y, prior, 0), BERG_OK, "bayes create");
    CHECK_STATUS(berg_bayes_set_location(b1, Ns, noise, G_identity, NULL, NULL), BERG_OK, "loc");
    CHECK_STATUS(berg_bayes_set_location(b2, Ns, noise, G_identity, NULL, NULL), BERG_OK, "loc");
    CHECK_STATUS(berg_bayes_set_threads(b1, 1), BERG_OK, "b1 on 1");
    CHECK_STATUS(berg_bayes_set_threads(b2, 4), BERG_OK, "b2 on 4");
    CHECK_STATUS(berg_bayes_observe(b1, 40, y), BERG_OK, "observe serial: %s", berg_last_error());
    CHECK_STATUS(berg_bayes_observe(b2, 40, y), BERG_OK, "observe 4 threads: %s",
                 berg_last_error());
    double *l1 = tu_vec(nu), *l2 = tu_vec(nu), *p1 = tu_vec(ny), *p2 = tu_vec(ny);
    CHECK_STATUS(berg_bayes_log_posterior(b1, l1), BERG_OK, "log posterior");
    CHECK_STATUS(berg_bayes_log_posterior(b2, l2), BERG_OK, "log posterior");
    CHECK(same(l1, l2, nu), "observe on 4 threads equals 1 thread bitwise (max diff %g)",
          tu_max_abs_diff(l1, l2, nu));
    CHECK_STATUS(berg_bayes_predictive(b1, p1), BERG_OK, "predictive serial");
    CHECK_STATUS(berg_bayes_predictive(b2, p2), BERG_OK, "predictive 4 threads");
    double r = rel_diff(p2, p1, ny);
    CHECK(r <= 1e-14, "predictive on 4 threads equals 1 thread to 1e-14 relative (%g)", r);
    /* an independent check of the predictive: it integrates to ~1 */
    double mass = 0;
    for (size_t j = 0; j < ny; j++)
        mass += p1[j] * 12.0 / (double)ny;
    CHECK_REL(mass, 1.0, 1e-3, "predictive mass");

    /* a callback failing in a worker: observation 3 (residual y[3] - u at
     * a cell in the last quarter of the grid, so not in the first range)
     * fails; the serial and threaded calls report the same error and leave
     * the posterior as it was */
    size_t badcell = 3 * nu / 4 + 17;
    double ubad = -4 + 8 * ((double)badcell + 0.5) / (double)nu, bad = y[3] - ubad;
    CHECK_STATUS(berg_bayes_set_location(b1, NULL, NULL, G_identity, noise_fails, &bad), BERG_OK,
                 "callback model");
    CHECK_STATUS(berg_bayes_set_location(b2, NULL, NULL, G_identity, noise_fails, &bad), BERG_OK,
                 "callback model");
    CHECK_STATUS(berg_bayes_observe(b1, 2, y), BERG_OK, "two good observations");
    CHECK_STATUS(berg_bayes_observe(b2, 2, y), BERG_OK, "two good observations");
    CHECK_STATUS(berg_bayes_log_posterior(b1, l1), BERG_OK, "log posterior");
    CHECK_STATUS(berg_bayes_observe(b1, 10, y), BERG_ERR_CALLBACK, "serial failure");
    char serial_msg[512];
    snprintf(serial_msg, sizeof serial_msg, "%s", berg_last_error());
    CHECK_STATUS(berg_bayes_observe(b2, 10, y), BERG_ERR_CALLBACK, "threaded failure");
    CHECK(strcmp(serial_msg, berg_last_error()) == 0,
          "the threaded failure reports the serial message ('%s' vs '%s')", serial_msg,
          berg_last_error());
    CHECK_MESSAGE("returned 7", "the callback's code in the message");
    CHECK_STATUS(berg_bayes_log_posterior(b2, l2), BERG_OK, "log posterior");
    CHECK(same(l1, l2, nu), "a failed threaded observe leaves the posterior as it was");
    CHECK(berg_bayes_time(b2) == 2.0, "and T");
    berg_bayes_destroy(b1);
    berg_bayes_destroy(b2);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    berg_space_destroy(Ns);
    free(prior);
    free(noise);
    free(l1);
    free(l2);
    free(p1);
    free(p2);
}

/* ---- Fisher from scores: fixed ranges, compensated reduction ---------- */

static void fisher_reference(size_t N, size_t d, const double *S, double *ref)
{
    for (size_t i = 0; i < d; i++)
        for (size_t k = 0; k < d; k++) {
            long double acc = 0.0L;
            for (size_t t = 0; t < N; t++)
                acc += (long double)S[t * d + i] * S[t * d + k];
            ref[i * d + k] = (double)(acc / (long double)N);
        }
}

static void test_fisher(void)
{
    const size_t N = 300000, d = 6;
    double *S = tu_vec(N * d);
    unsigned long long st = 5;
    for (size_t t = 0; t < N; t++)
        for (size_t i = 0; i < d; i++) /* correlated, non-zero mean columns */
            S[t * d + i] = (tu_uniform(&st) - 0.5) * (1.0 + (double)i) + 0.1 * (double)i +
                           (i ? 0.5 * S[t * d] : 0.0);
    double I1[36], I2[36], I3[36], ref[36];
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK_STATUS(berg_fisher_from_scores(N, d, S, I1), BERG_OK, "from scores, 1 thread");
    CHECK_STATUS(berg_set_threads(2), BERG_OK, "2 threads");
    CHECK_STATUS(berg_fisher_from_scores(N, d, S, I2), BERG_OK, "from scores, 2 threads");
    CHECK_STATUS(berg_set_threads(3), BERG_OK, "3 threads");
    CHECK_STATUS(berg_fisher_from_scores(N, d, S, I3), BERG_OK, "from scores, 3 threads");
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK(rel_diff(I2, I1, 36) <= 1e-14 && rel_diff(I3, I1, 36) <= 1e-14,
          "from scores on 2 and 3 threads equals 1 thread to 1e-14 (%g, %g)",
          rel_diff(I2, I1, 36), rel_diff(I3, I1, 36));
    CHECK(same(I2, I1, 36) && same(I3, I1, 36), "and bitwise (fixed ranges)");
    fisher_reference(N, d, S, ref);
    double r = rel_diff(I1, ref, 36);
    CHECK(r <= 1e-14, "from scores equals a long-double sum to 1e-14 of max |I| (%g)", r);
    for (size_t i = 0; i < d; i++)
        for (size_t k = 0; k < d; k++)
            CHECK(I1[i * d + k] == I1[k * d + i], "exactly symmetric (%zu, %zu)", i, k);

    /* the accumulator: three batches, 1 thread vs 3 (handle override) */
    berg_fisher_acc *a1 = NULL, *a3 = NULL;
    CHECK_STATUS(berg_fisher_acc_create(&a1, d, 0), BERG_OK, "acc");
    CHECK_STATUS(berg_fisher_acc_create(&a3, d, 0), BERG_OK, "acc");
    CHECK_STATUS(berg_fisher_acc_set_threads(a1, 1), BERG_OK, "a1 on 1");
    CHECK_STATUS(berg_fisher_acc_set_threads(a3, 3), BERG_OK, "a3 on 3");
    size_t cut[4] = {0, 1000, 170000, N};
    for (int k = 0; k < 3; k++) {
        CHECK_STATUS(berg_fisher_acc_add(a1, cut[k + 1] - cut[k], S + cut[k] * d), BERG_OK,
                     "add 1");
        CHECK_STATUS(berg_fisher_acc_add(a3, cut[k + 1] - cut[k], S + cut[k] * d), BERG_OK,
                     "add 3");
    }
    double se1[36], se3[36];
    CHECK_STATUS(berg_fisher_acc_result(a1, I1, se1), BERG_OK, "result 1");
    CHECK_STATUS(berg_fisher_acc_result(a3, I3, se3), BERG_OK, "result 3");
    CHECK(same(I1, I3, 36) && same(se1, se3, 36),
          "the accumulator on 3 threads equals 1 thread bitwise (%g, %g)", rel_diff(I3, I1, 36),
          rel_diff(se3, se1, 36));
    r = rel_diff(I1, ref, 36);
    CHECK(r <= 1e-14, "the accumulator equals the long-double sum to 1e-14 (%g)", r);
    /* a non-finite score deep in a threaded batch: refused, acc unchanged */
    S[(N - 5) * d + 2] = NAN;
    CHECK_STATUS(berg_fisher_acc_add(a3, N, S), BERG_ERR_NONFINITE, "NaN refused on 3 threads");
    CHECK_MESSAGE("scores[299995][2]", "the NaN's row and column named");
    CHECK(berg_fisher_acc_count(a3) == N, "count unchanged");
    CHECK_STATUS(berg_fisher_acc_result(a3, I3, NULL), BERG_OK, "result after refusal");
    CHECK(same(I1, I3, 36), "estimate unchanged after the refusal");
    berg_fisher_acc_destroy(a1);
    berg_fisher_acc_destroy(a3);
    free(S);
}

/* ---- the W2-metric operator ------------------------------------------ */

static void test_w2_metric(void)
{
    size_t n[2] = {256, 256};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = n[0] * n[1];
    double *p = tu_vec(N), *eta = tu_vec(N), *h1 = tu_vec(N), *h4 = tu_vec(N);
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n[1]; j++) {
            double x = ((double)i + 0.5) / 256, y = ((double)j + 0.5) / 256;
            p[i * n[1] + j] = 1.0 + 0.5 * sin(2 * M_PI * x) * cos(3 * y);
            eta[i * n[1] + j] = cos(2 * M_PI * x) + (y - 0.5);
        }
    CHECK_STATUS(berg_space_normalize(s, p, NULL), BERG_OK, "normalize");
    CHECK_STATUS(berg_space_project_tangent(s, eta, eta), BERG_OK, "tangent");
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, 0), BERG_OK, "metric: %s", berg_last_error());
    size_t it1 = 0, it4 = 0;
    double res1 = 0, res4 = 0, G1 = 0, G4 = 0;
    CHECK_STATUS(berg_w2_metric_set_threads(m, 1), BERG_OK, "metric on 1");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, h1, &it1, &res1), BERG_OK, "potential 1: %s",
                 berg_last_error());
    CHECK_STATUS(berg_w2_metric_inner(m, eta, eta, &G1, NULL, NULL), BERG_OK, "inner 1");
    CHECK_STATUS(berg_w2_metric_set_threads(m, 4), BERG_OK, "metric on 4");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, h4, &it4, &res4), BERG_OK, "potential 4");
    CHECK_STATUS(berg_w2_metric_inner(m, eta, eta, &G4, NULL, NULL), BERG_OK, "inner 4");
    CHECK(same(h1, h4, N) && it1 == it4 && res1 == res4 && G1 == G4,
          "potential and inner on 4 threads equal 1 thread bitwise (diff %g, it %zu %zu)",
          tu_max_abs_diff(h1, h4, N), it1, it4);
    /* the tangent map inverts the potential (an independent property) */
    CHECK_STATUS(berg_w2_metric_tangent(m, h4, h1), BERG_OK, "tangent 4");
    double r = rel_diff(h1, eta, N);
    CHECK(r <= 1e-8, "tangent(potential(eta)) = eta on 4 threads (%g)", r);
    berg_w2_metric_destroy(m);
    berg_space_destroy(s);
    free(p);
    free(eta);
    free(h1);
    free(h4);
}

/* ---- exact 1-D W2: the merge of the CDFs in fixed pieces -------------- */

static void test_w2_1d(void)
{
    const size_t n = 200003; /* odd: pieces of unequal length */
    berg_space *s = tu_line(n, -2, 3, BERG_NEUMANN);
    double *p = tu_vec(n), *q = tu_vec(n);
    unsigned long long st = 9;
    for (size_t i = 0; i < n; i++) {
        double x = -2 + 5 * ((double)i + 0.5) / (double)n;
        /* random masses, runs of empty cells in both, different supports */
        p[i] = (i % 97 < 5) ? 0.0 : tu_uniform(&st) * exp(-x * x);
        q[i] = (i % 89 > 80) ? 0.0 : tu_uniform(&st) * exp(-2 * (x - 0.7) * (x - 0.7));
    }
    double w1 = 0, w2 = 0, w3 = 0, wp = 0;
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w1), BERG_OK, "w2 1 thread");
    CHECK_STATUS(berg_set_threads(2), BERG_OK, "2 threads");
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w2), BERG_OK, "w2 2 threads");
    CHECK_STATUS(berg_set_threads(3), BERG_OK, "3 threads");
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w3), BERG_OK, "w2 3 threads");
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK(w1 == w2 && w1 == w3, "W2 1-D on 2 and 3 threads equals 1 thread bitwise (%.17g %.17g %.17g)",
          w1, w2, w3);
    /* a second method: the W_p walk (segment by segment, branches) at an
     * order next to 2 */
    CHECK_STATUS(berg_wp_distance_1d(s, 2.0 + 1e-9, p, q, &wp), BERG_OK, "wp walk");
    CHECK_REL(w1, wp, 1e-8, "W2 merge vs the W_p walk at order 2 + 1e-9");
    /* closed form: q = p shifted by 1234 cells (p zero at the end): W2 = 1234 h */
    for (size_t i = 0; i < n; i++)
        q[i] = i >= 1234 ? p[i - 1234] : 0.0;
    for (size_t i = n - 1234; i < n; i++)
        p[i] = 0.0;
    for (size_t i = 0; i < n; i++)
        q[i] = i >= 1234 ? p[i - 1234] : 0.0;
    CHECK_STATUS(berg_set_threads(2), BERG_OK, "2 threads");
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w2), BERG_OK, "shifted");
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK_REL(w2, 1234 * 5.0 / (double)n, 1e-12, "a shift by 1234 cells is 1234 h");
    berg_space_destroy(s);
    free(p);
    free(q);
}

int main(void)
{
    test_setters();
    test_fp_lines();
    test_bayes();
    test_fisher();
    test_w2_metric();
    test_w2_1d();
    berg_set_threads(1);
    return test_summary("threads-setting");
}
