/* Progress callbacks and cancellation of the long-running calls: the
 * callback sees a start, non-decreasing fractions in [0, 1] and a last call
 * at fraction 1 before the outputs are written; a non-zero return stops the
 * call with BERG_ERR_CANCELLED, a message naming the function the caller
 * called, the outputs and the handle (and its thread's report) unchanged;
 * a callback that never stops changes no result bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SENTINEL -12345.25

/* what a callback saw, and when it stops the call */
typedef struct recorder {
    size_t calls;
    size_t stop_at_call; /* 0: never; k: return 1 at the k-th call */
    size_t stop_at_iteration; /* 0: never; return 1 once iteration >= it */
    double first_fraction, last_fraction, first_error;
    size_t first_iteration, last_iteration;
    int fraction_ok;      /* every fraction in [0, 1], non-decreasing */
    int iteration_ok;     /* iterations non-decreasing */
} recorder;

static void rec_init(recorder *r, size_t stop_at_call, size_t stop_at_iteration)
{
    memset(r, 0, sizeof *r);
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
    size_t stops[3] = {1, r.calls, 2};
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
    return test_summary("test_progress");
}
