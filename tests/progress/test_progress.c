/* Progress callbacks and cancellation of the long-running calls: the
 * callback sees a start, non-decreasing fractions in [0, 1] and a last call
 * at fraction 1 before the outputs are written; a non-zero return stops the
 * call with BERG_ERR_CANCELLED, a message naming the function the caller
 * called, the outputs and the handle (and its thread's report) unchanged;
 * a callback that never stops changes no result bit. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SENTINEL -12345.25

/* what a callback saw, and when it stops the call */
typedef struct recorder {
    size_t calls;
    size_t stop_at_call; /* 0: never; k: return 1 at the k-th call */
    size_t stop_at_iteration; /* 0: never; return 1 once iteration >= it */
    int stop_at_end;      /* return 1 at the last call (fraction 1) */
    double first_fraction, last_fraction, first_error;
    size_t first_iteration, last_iteration;
    int fraction_ok;      /* every fraction in [0, 1], non-decreasing */
    int iteration_ok;     /* iterations non-decreasing */
} recorder;

static void rec_init(recorder *r, size_t stop_at_call, size_t stop_at_iteration)
{
    memset(r, 0, sizeof *r);
    r->stop_at_end = stop_at_call == (size_t)-1;
    if (r->stop_at_end)
        stop_at_call = 0;
    r->stop_at_call = stop_at_call;
    r->stop_at_iteration = stop_at_iteration;
    r->fraction_ok = r->iteration_ok = 1;
    r->last_fraction = -1.0;
}

static int record(double fraction, size_t iteration, double error, void *user_data)
{
    recorder *r = user_data;
    r->calls++;
    if (r->calls == 1) {
        r->first_fraction = fraction;
        r->first_iteration = iteration;
        r->first_error = error;
    } else {
        if (!isnan(fraction) && !isnan(r->last_fraction) && fraction < r->last_fraction)
            r->fraction_ok = 0;
        if (iteration < r->last_iteration)
            r->iteration_ok = 0;
    }
    if (!isnan(fraction) && !(fraction >= 0.0 && fraction <= 1.0))
        r->fraction_ok = 0;
    r->last_fraction = fraction;
    r->last_iteration = iteration;
    if (r->stop_at_call && r->calls >= r->stop_at_call)
        return 1;
    if (r->stop_at_iteration && iteration >= r->stop_at_iteration)
        return 7;
    if (r->stop_at_end && fraction == 1.0)
        return -1;
    return 0;
}

/* the promises of a run that completed with the callback set */
static void check_complete(const recorder *r, const char *what)
{
    CHECK(r->calls >= 2, "%s: callback called at start and end (%zu calls)", what, r->calls);
    CHECK(r->first_fraction == 0.0 && r->first_iteration == 0, "%s: first call at 0 (%g, %zu)",
          what, r->first_fraction, r->first_iteration);
    CHECK(r->last_fraction == 1.0, "%s: last call at fraction 1 (%g)", what, r->last_fraction);
    CHECK(r->fraction_ok && r->iteration_ok, "%s: fractions in [0, 1] and non-decreasing", what);
}

/* ---- Sinkhorn ------------------------------------------------------------ */

/* compactly supported C^1 bumps ((1 + cos(pi r / R)) / 2)^2, r < R, at
 * 0.35 and 0.6 (within the scaling mode's range at eps = 1e-2) */
static void bumps(const berg_space *s, double *p, double *q)
{
    size_t n = berg_space_size(s);
    double *x = tu_vec(n);
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++) {
        double rp = fabs(x[i] - 0.35) / 0.12, rq = fabs(x[i] - 0.6) / 0.15;
        p[i] = rp < 1 ? pow(0.5 * (1.0 + cos(3.141592653589793 * rp)), 2) : 0.0;
        q[i] = rq < 1 ? pow(0.5 * (1.0 + cos(3.141592653589793 * rq)), 2) : 0.0;
    }
    free(x);
}

static void test_sinkhorn_mode(unsigned flags, const char *mode)
{
    size_t n = 200;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 1e-2, flags), BERG_OK, "%s create", mode);
    double *p = tu_vec(n), *q = tu_vec(n), *f0 = tu_vec(n), *g0 = tu_vec(n), *f = tu_vec(n),
           *g = tu_vec(n), *dens = tu_vec(2 * n), *b0 = tu_vec(n), *b = tu_vec(n);
    bumps(s, p, q);
    memcpy(dens, p, n * sizeof *p);
    memcpy(dens + n, q, n * sizeof *q);
    double w[2] = {0.5, 0.5}, c0, c, err0, err;
    size_t it0, it;

    /* reference without a callback */
    CHECK_STATUS(berg_sinkhorn_solve(sk, p, q, &c0, f0, g0), BERG_OK, "%s solve", mode);
    CHECK_STATUS(berg_sinkhorn_report(sk, &err0, &it0), BERG_OK, "%s report", mode);
    CHECK(it0 >= 5, "%s: the reference solve iterates (%zu)", mode, it0);

    /* a callback that never stops: the same bits, called at start and end */
    recorder r;
    rec_init(&r, 0, 0);
    CHECK_STATUS(berg_sinkhorn_set_progress(sk, record, &r), BERG_OK, "%s set_progress", mode);
    CHECK_STATUS(berg_sinkhorn_solve(sk, p, q, &c, f, g), BERG_OK, "%s solve with progress", mode);
    check_complete(&r, mode);
    CHECK(isnan(r.first_error), "%s: no error before the first iteration (%g)", mode,
          r.first_error);
    CHECK(c == c0 && memcmp(f, f0, n * sizeof *f) == 0 && memcmp(g, g0, n * sizeof *g) == 0,
          "%s: progress changes no result bit", mode);
    CHECK_STATUS(berg_sinkhorn_report(sk, &err, &it), BERG_OK, "%s report", mode);
    CHECK(r.last_iteration == it, "%s: last call's iteration %zu = report's %zu", mode,
          r.last_iteration, it);

    /* stopped at the first call, at the last call, and mid-run (tolerance
     * 0 and a cap of 10^8 iterations: hours of work unless the second call,
     * due ~10 ms into the run, stops it): CANCELLED, outputs and report
     * untouched */
    size_t stops[3] = {1, (size_t)-1, 2};
    for (size_t k = 0; k < 3; k++) {
        recorder rs;
        rec_init(&rs, stops[k], 0);
        berg_sinkhorn_set_progress(sk, record, &rs);
        if (k == 2) {
            berg_sinkhorn_set_tolerance(sk, 0.0);
            berg_sinkhorn_set_max_iterations(sk, 100000000);
        }
        double cs = SENTINEL;
        tu_fill(f, n, SENTINEL);
        tu_fill(g, n, SENTINEL);
        CHECK_STATUS(berg_sinkhorn_solve(sk, p, q, &cs, f, g), BERG_ERR_CANCELLED,
                     "%s solve stopped (%zu)", mode, k);
        CHECK_MESSAGE("berg_sinkhorn_solve", "cancel message names the call");
        CHECK(cs == SENTINEL && tu_untouched(f, n, SENTINEL) && tu_untouched(g, n, SENTINEL),
              "%s: stopped solve (%zu) writes no output", mode, k);
        CHECK_STATUS(berg_sinkhorn_report(sk, &err, &it), BERG_OK, "report");
        CHECK(it == it0 && err == err0, "%s: stopped solve (%zu) leaves the report (%zu, %zu)",
              mode, k, it, it0);
        if (k == 2) {
            CHECK(rs.calls == 2 && rs.last_iteration > 0 && rs.last_iteration < 100000000,
                  "%s: stopped mid-run at iteration %zu", mode, rs.last_iteration);
            berg_sinkhorn_set_tolerance(sk, 1e-9);
            berg_sinkhorn_set_max_iterations(sk, 10000);
        }
    }

    /* cost and divergence: stopped, nothing written; divergence counts the
     * iterations of its three solves */
    recorder rd;
    rec_init(&rd, 0, 0);
    berg_sinkhorn_set_progress(sk, record, &rd);
    double d0, d = SENTINEL;
    CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &d0), BERG_OK, "%s divergence", mode);
    check_complete(&rd, "divergence");
    CHECK_STATUS(berg_sinkhorn_report(sk, NULL, &it), BERG_OK, "report");
    CHECK(rd.last_iteration == it && it > it0, "%s: divergence reports its 3 solves (%zu)", mode,
          it);
    rec_init(&rd, 0, it);
    CHECK_STATUS(berg_sinkhorn_divergence(sk, p, q, &d), BERG_ERR_CANCELLED, "divergence stop");
    CHECK_MESSAGE("berg_sinkhorn_divergence", "divergence cancel message");
    CHECK(d == SENTINEL, "%s: stopped divergence writes nothing", mode);
    rec_init(&rd, 2, 0);
    c = SENTINEL;
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c), BERG_ERR_CANCELLED, "cost stop");
    CHECK(c == SENTINEL, "%s: stopped cost writes nothing", mode);

    /* barycenter */
    berg_sinkhorn_set_progress(sk, NULL, NULL);
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, dens, w, b0), BERG_OK, "%s barycenter", mode);
    rec_init(&rd, 0, 0);
    berg_sinkhorn_set_progress(sk, record, &rd);
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, dens, w, b), BERG_OK, "barycenter progress");
    check_complete(&rd, "barycenter");
    CHECK(memcmp(b, b0, n * sizeof *b) == 0, "%s: barycenter bits unchanged by progress", mode);
    rec_init(&rd, 0, 0);
    rd.stop_at_call = 1;
    tu_fill(b, n, SENTINEL);
    CHECK_STATUS(berg_sinkhorn_barycenter(sk, 2, dens, w, b), BERG_ERR_CANCELLED,
                 "barycenter stop");
    CHECK_MESSAGE("berg_sinkhorn_barycenter", "barycenter cancel message");
    CHECK(tu_untouched(b, n, SENTINEL), "%s: stopped barycenter writes nothing", mode);

    /* cleared: not called any more */
    rec_init(&rd, 1, 0);
    berg_sinkhorn_set_progress(sk, NULL, &rd);
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c), BERG_OK, "cleared progress");
    CHECK(rd.calls == 0 && c == c0, "%s: a cleared callback is not called", mode);
    CHECK_STATUS(berg_sinkhorn_set_progress(NULL, record, &rd), BERG_ERR_NULL, "NULL sk");
    CHECK_MESSAGE("berg_sinkhorn_set_progress", "setter message");

    free(p), free(q), free(f0), free(g0), free(f), free(g), free(dens), free(b0), free(b);
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(s);
}

/* ---- Fokker-Planck evolve and the spectral decomposition ------------------ */

/* a run with the callback set that must not be stopped, then stops at the
 * first call, the last call and (when the run made >= 3 calls) the second */
static void test_fp_kind(unsigned flags, const char *kind)
{
    size_t n[2] = {64, 64};
    int periodic = (flags & BERG_FP_FOURIER) != 0;
    double lo[2] = {-4.0, -4.0}, hi[2] = {4.0, 4.0};
    berg_boundary bc[2] = {periodic ? BERG_PERIODIC : BERG_NEUMANN,
                           periodic ? BERG_PERIODIC : BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    double *V = tu_vec(N), *in = tu_vec(N), *ref = tu_vec(N), *out = tu_vec(N);
    for (size_t k = 0; k < N; k++) {
        double x[2];
        tu_grid_point(s, k, x);
        double c = 3.141592653589793 / 4.0; /* V periodic on the box */
        V[k] = periodic ? 2.0 * cos(c * x[0]) + cos(c * x[1]) : 0.5 * (x[0] * x[0] + x[1] * x[1]);
    }
    double mu[2] = {1.0, -0.5}, Sig[4] = {0.3, 0.0, 0.0, 0.3};
    tu_gaussian(s, mu, Sig, in);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, flags), BERG_OK, "%s create", kind);
    berg_fp_set_tolerance(fp, 1e-10);
    CHECK_STATUS(berg_fp_evolve(fp, 2.0, in, ref), BERG_OK, "%s reference evolve", kind);
    recorder r;
    rec_init(&r, 0, 0);
    CHECK_STATUS(berg_fp_set_progress(fp, record, &r), BERG_OK, "%s set_progress", kind);
    CHECK_STATUS(berg_fp_evolve(fp, 2.0, in, out), BERG_OK, "%s evolve with progress", kind);
    check_complete(&r, kind);
    CHECK(memcmp(out, ref, N * sizeof *out) == 0, "%s: progress changes no result bit", kind);
    size_t acc, rej;
    berg_fp_last_steps(fp, &acc, &rej);
    CHECK(r.last_iteration == acc + rej, "%s: last call's iteration %zu = steps %zu", kind,
          r.last_iteration, acc + rej);
    printf("  %s: %zu progress calls over %zu steps\n", kind, r.calls, acc + rej);
    size_t stops[3] = {1, (size_t)-1, 2};
    for (size_t k = 0; k < 3; k++) {
        if (k == 2 && r.calls < 3)
            continue; /* the run was too short to have a call between start and end */
        recorder rs;
        rec_init(&rs, stops[k], 0);
        berg_fp_set_progress(fp, record, &rs);
        tu_fill(out, N, SENTINEL);
        CHECK_STATUS(berg_fp_evolve(fp, 2.0, in, out), BERG_ERR_CANCELLED, "%s stop (%zu)", kind,
                     k);
        CHECK_MESSAGE("berg_fp_evolve", "fp cancel message");
        CHECK(tu_untouched(out, N, SENTINEL), "%s: stopped evolve (%zu) writes nothing", kind, k);
    }
    /* in place: a stopped call leaves in as it was */
    recorder rs;
    rec_init(&rs, 1, 0);
    berg_fp_set_progress(fp, record, &rs);
    memcpy(out, in, N * sizeof *out);
    CHECK_STATUS(berg_fp_evolve(fp, 2.0, out, out), BERG_ERR_CANCELLED, "%s in place", kind);
    CHECK(memcmp(out, in, N * sizeof *out) == 0, "%s: stopped in-place evolve keeps in", kind);
    /* t = 0 does no work and calls nothing */
    rec_init(&rs, 1, 0);
    CHECK_STATUS(berg_fp_evolve(fp, 0.0, in, out), BERG_OK, "%s t = 0", kind);
    CHECK(rs.calls == 0, "%s: t = 0 calls no progress", kind);
    CHECK_STATUS(berg_fp_set_progress(NULL, record, &rs), BERG_ERR_NULL, "NULL fp");
    berg_fp_destroy(fp);
    free(V), free(in), free(ref), free(out);
    berg_space_destroy(s);
}

static void test_fp_spectral(void)
{
    size_t n = 120;
    berg_space *s = tu_line(n, -4.0, 4.0, BERG_NEUMANN);
    double *V = tu_vec(n), *x = tu_vec(n), *l0 = tu_vec(n), *l1 = tu_vec(n);
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++)
        V[i] = 0.5 * x[i] * x[i];
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "fp");
    berg_fp_spectral *a = NULL, *b = NULL;
    CHECK_STATUS(berg_fp_spectral_create(&a, fp), BERG_OK, "spectral");
    recorder r;
    rec_init(&r, 0, 0);
    CHECK_STATUS(berg_fp_spectral_create_progress(&b, fp, record, &r), BERG_OK,
                 "spectral with progress");
    CHECK(r.calls == 2 && r.first_fraction == 0.0 && r.last_fraction == 1.0 &&
              r.last_iteration == 1,
          "spectral: called before (0) and after (1) the decomposition (%zu calls)", r.calls);
    berg_fp_spectral_eigenvalues(a, l0);
    berg_fp_spectral_eigenvalues(b, l1);
    CHECK(memcmp(l0, l1, n * sizeof *l0) == 0, "spectral: same eigenvalues with progress");
    berg_fp_spectral_destroy(b);
    for (size_t stop = 1; stop <= 2; stop++) {
        berg_fp_spectral *sentinel = (berg_fp_spectral *)&r, *c = sentinel;
        rec_init(&r, stop, 0);
        CHECK_STATUS(berg_fp_spectral_create_progress(&c, fp, record, &r), BERG_ERR_CANCELLED,
                     "spectral stopped at call %zu", stop);
        CHECK_MESSAGE("berg_fp_spectral_create_progress", "spectral cancel message");
        CHECK(c == sentinel, "spectral: *out untouched when stopped at call %zu", stop);
    }
    CHECK_STATUS(berg_fp_spectral_create_progress(&b, fp, NULL, NULL), BERG_OK, "NULL progress");
    berg_fp_spectral_destroy(b);
    berg_fp_spectral_destroy(a);
    berg_fp_destroy(fp);
    free(V), free(x), free(l0), free(l1);
    berg_space_destroy(s);
}

/* ---- W2 metric ------------------------------------------------------------- */

static void test_w2_metric(void)
{
    size_t n[2] = {128, 128};
    double lo[2] = {-3.0, -3.0}, hi[2] = {3.0, 3.0};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    double *p = tu_vec(N), *q = tu_vec(N), *eta = tu_vec(N), *ref = tu_vec(N), *out = tu_vec(N);
    double m1[2] = {-0.5, 0.0}, m2[2] = {0.7, 0.4}, S1[4] = {0.5, 0.1, 0.1, 0.4},
           S2[4] = {0.3, 0.0, 0.0, 0.6};
    tu_gaussian(s, m1, S1, p);
    tu_gaussian(s, m2, S2, q);
    for (size_t i = 0; i < N; i++)
        eta[i] = q[i] - p[i];
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 1e-3, p, BERG_PLAN_ESTIMATE), BERG_OK, "metric");
    size_t it0, it = 777;
    double res0, res = -1.0, G0, G = SENTINEL;
    CHECK_STATUS(berg_w2_metric_potential(m, eta, ref, &it0, &res0), BERG_OK, "potential");
    recorder r;
    rec_init(&r, 0, 0);
    CHECK_STATUS(berg_w2_metric_set_progress(m, record, &r), BERG_OK, "set_progress");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, out, &it, &res), BERG_OK, "with progress");
    check_complete(&r, "w2 metric");
    CHECK(memcmp(out, ref, N * sizeof *out) == 0 && it == it0 && res == res0,
          "w2 metric: progress changes no result bit");
    CHECK(r.last_iteration == it0, "w2 metric: last call at iteration %zu of %zu",
          r.last_iteration, it0);
    printf("  w2 metric: %zu progress calls over %zu CG iterations\n", r.calls, it0);
    size_t stops[3] = {1, (size_t)-1, 2};
    for (size_t k = 0; k < 3; k++) {
        if (k == 2 && r.calls < 3)
            continue;
        recorder rs;
        rec_init(&rs, stops[k], 0);
        berg_w2_metric_set_progress(m, record, &rs);
        tu_fill(out, N, SENTINEL);
        it = 777;
        res = -1.0;
        CHECK_STATUS(berg_w2_metric_potential(m, eta, out, &it, &res), BERG_ERR_CANCELLED,
                     "potential stop (%zu)", k);
        CHECK_MESSAGE("berg_w2_metric_potential", "metric cancel message");
        CHECK(tu_untouched(out, N, SENTINEL) && it == 777 && res == -1.0,
              "w2 metric: stopped solve (%zu) writes no output", k);
    }
    berg_w2_metric_set_progress(m, NULL, NULL);
    CHECK_STATUS(berg_w2_metric_inner(m, eta, eta, &G0, NULL, NULL), BERG_OK, "inner");
    rec_init(&r, 1, 0);
    berg_w2_metric_set_progress(m, record, &r);
    CHECK_STATUS(berg_w2_metric_inner(m, eta, eta, &G, NULL, NULL), BERG_ERR_CANCELLED,
                 "inner stop");
    CHECK_MESSAGE("berg_w2_metric_inner", "inner cancel message");
    CHECK(G == SENTINEL, "w2 metric: stopped inner product writes nothing");
    CHECK_STATUS(berg_w2_metric_set_progress(NULL, NULL, NULL), BERG_ERR_NULL, "NULL m");
    berg_w2_metric_destroy(m);
    free(p), free(q), free(eta), free(ref), free(out);
    berg_space_destroy(s);
}

/* ---- Bayes observe ----------------------------------------------------------- */

static int gauss_loglik(size_t du, const double *u, size_t dy, const double *y, double *logp,
                        void *user_data)
{
    (void)du, (void)dy, (void)user_data;
    *logp = -0.5 * (y[0] - u[0]) * (y[0] - u[0]);
    return 0;
}

static void test_bayes(void)
{
    size_t nu = 200, count = 20000;
    berg_space *U = tu_line(nu, -3.0, 3.0, BERG_NEUMANN), *Y = tu_line(50, -8.0, 8.0, BERG_NEUMANN);
    double *prior = tu_vec(nu), *y = tu_vec(count), *pi0 = tu_vec(nu), *pi1 = tu_vec(nu);
    tu_fill(prior, nu, 1.0);
    unsigned long long state = 42;
    for (size_t k = 0; k < count; k++)
        y[k] = 0.3 + 2.0 * (tu_uniform(&state) - 0.5);
    berg_bayes *b = NULL;
    CHECK_STATUS(berg_bayes_create(&b, U, Y, prior, 0), BERG_OK, "bayes");
    CHECK_STATUS(berg_bayes_set_loglik(b, gauss_loglik, NULL), BERG_OK, "loglik");
    CHECK_STATUS(berg_bayes_observe(b, 10, y), BERG_OK, "observe without progress");
    berg_bayes_posterior(b, pi0);
    recorder r;
    rec_init(&r, 0, 0);
    CHECK_STATUS(berg_bayes_set_progress(b, record, &r), BERG_OK, "set_progress");
    CHECK_STATUS(berg_bayes_observe(b, count, y), BERG_OK, "observe with progress");
    check_complete(&r, "bayes observe");
    CHECK(r.last_iteration == count, "bayes: last call after %zu of %zu", r.last_iteration, count);
    printf("  bayes observe: %zu progress calls over %zu observations\n", r.calls, count);
    CHECK_STATUS(berg_bayes_reset(b), BERG_OK, "reset");
    berg_bayes_set_progress(b, NULL, NULL);
    CHECK_STATUS(berg_bayes_observe(b, 10, y), BERG_OK, "observe again");
    size_t stops[3] = {1, (size_t)-1, 2};
    for (size_t k = 0; k < 3; k++) {
        if (k == 2 && r.calls < 3)
            continue;
        recorder rs;
        rec_init(&rs, stops[k], 0);
        berg_bayes_set_progress(b, record, &rs);
        CHECK_STATUS(berg_bayes_observe(b, count, y), BERG_ERR_CANCELLED, "observe stop (%zu)", k);
        CHECK_MESSAGE("berg_bayes_observe", "observe cancel message");
        berg_bayes_posterior(b, pi1);
        CHECK(memcmp(pi0, pi1, nu * sizeof *pi0) == 0 && berg_bayes_time(b) == 10.0,
              "bayes: stopped observe (%zu) leaves the posterior and T = %g", k,
              berg_bayes_time(b));
    }
    CHECK_STATUS(berg_bayes_set_progress(NULL, NULL, NULL), BERG_ERR_NULL, "NULL b");
    berg_bayes_destroy(b);
    free(prior), free(y), free(pi0), free(pi1);
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* ---- the calling thread only -------------------------------------------- */

/* four threads solve on one handle at once; the callback (shared
 * user_data) must run on the thread whose call it reports */
static _Thread_local int thread_tag;

typedef struct thread_check {
    atomic_size_t calls, foreign;
} thread_check;

static int on_caller(double fraction, size_t iteration, double error, void *user_data)
{
    (void)fraction, (void)iteration, (void)error;
    thread_check *tc = user_data;
    atomic_fetch_add(&tc->calls, 1);
    if (thread_tag != 1)
        atomic_fetch_add(&tc->foreign, 1);
    return 0;
}

typedef struct solve_job {
    const berg_sinkhorn *sk;
    const double *p, *q;
    double cost;
    berg_status st;
} solve_job;

static void *solve_thread(void *arg)
{
    solve_job *job = arg;
    thread_tag = 1;
    job->st = berg_sinkhorn_cost(job->sk, job->p, job->q, &job->cost);
    thread_tag = 0;
    return NULL;
}

static void test_threads(void)
{
    size_t n = 200;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    berg_sinkhorn *sk = NULL;
    CHECK_STATUS(berg_sinkhorn_create(&sk, s, 1e-2, BERG_SINKHORN_LOG_DOMAIN), BERG_OK, "create");
    double *p = tu_vec(n), *q = tu_vec(n), c0;
    bumps(s, p, q);
    CHECK_STATUS(berg_sinkhorn_cost(sk, p, q, &c0), BERG_OK, "reference");
    thread_check tc;
    atomic_init(&tc.calls, 0);
    atomic_init(&tc.foreign, 0);
    berg_sinkhorn_set_progress(sk, on_caller, &tc);
    solve_job jobs[4];
    pthread_t th[4];
    for (size_t k = 0; k < 4; k++) {
        jobs[k] = (solve_job){sk, p, q, 0.0, BERG_ERR_INTERNAL};
        pthread_create(&th[k], NULL, solve_thread, &jobs[k]);
    }
    for (size_t k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        CHECK(jobs[k].st == BERG_OK && jobs[k].cost == c0, "thread %zu: same cost", k);
    }
    size_t calls = atomic_load(&tc.calls), foreign = atomic_load(&tc.foreign);
    CHECK(calls >= 8 && foreign == 0, "callback on the calling threads only (%zu calls, %zu "
          "elsewhere)", calls, foreign);
    free(p), free(q);
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(s);
}

static void test_status(void)
{
    long long v = 0;
    CHECK(BERG_ERR_CANCELLED == 19 && berg_status_count() == 20, "CANCELLED is 19, pinned");
    CHECK_STATUS(berg_constant_value("BERG_ERR_CANCELLED", &v), BERG_OK, "constant");
    CHECK(v == 19, "constant value %lld", v);
    CHECK(strstr(berg_status_string(BERG_ERR_CANCELLED), "progress") != NULL, "status string");
}

int main(void)
{
    test_status();
    test_sinkhorn_mode(0, "scaling");
    test_sinkhorn_mode(BERG_SINKHORN_LOG_DOMAIN, "log domain");
    test_fp_kind(0, "fp finite volume");
    test_fp_kind(BERG_FP_FOURIER | BERG_PLAN_ESTIMATE, "fp Fourier");
    test_fp_spectral();
    test_w2_metric();
    test_bayes();
    test_threads();
    return test_summary("test_progress");
}
