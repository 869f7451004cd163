/*
 * The berg_sinkhorn handle: creation, configuration, scratch, thread-local
 * reports and the messages its solves share. The solves are in
 * sinkhorn_solve.c and sinkhorn_barycenter.c, the kernels in
 * sinkhorn_kernel.c; the mathematics is in sinkhorn_internal.h.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "metric/sinkhorn_internal.h"

#define SINKHORN_FLAGS ((unsigned)BERG_SINKHORN_LOG_DOMAIN | (unsigned)BERG_PLAN_ESTIMATE)

berg_status berg__sinkhorn_reprefix(const char *fn, berg_status st)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", berg_last_error());
    return berg__error(st, "%s: %s", fn, msg);
}

/* ---- creation ------------------------------------------------------------ */

/* the refusals of the log-domain mode: diagonal metric, axis lengths, eps
 * within the image sums */
static berg_status check_log_domain(const berg_space *space, double eps, const char *fn)
{
    size_t rank = (size_t)space->ndim;
    BERG_REQUIRE(space->diagonal, BERG_ERR_UNSUPPORTED,
                 "%s: the log-domain mode needs a diagonal metric (its kernel is a product "
                 "over axes)",
                 fn);
    for (size_t a = 0; a < rank; a++) {
        BERG_REQUIRE(space->n[a] <= BERG__SINKHORN_LOG_MAX_AXIS, BERG_ERR_UNSUPPORTED,
                     "%s: axis %zu has %zu cells; the log-domain mode allows at most %d per axis",
                     fn, a, space->n[a], BERG__SINKHORN_LOG_MAX_AXIS);
        BERG_REQUIRE(berg__sinkhorn_images_cover(space, a, eps), BERG_ERR_DOMAIN,
                     "%s: at eps = %g the kernel of axis %zu reaches %.3g axis lengths, more "
                     "than the log-domain image sum covers (%d images each side); use the "
                     "scaling mode (no BERG_SINKHORN_LOG_DOMAIN), which is accurate at large eps",
                     fn, eps, a, berg__sinkhorn_image_reach(space, a, eps),
                     BERG__SINKHORN_MAX_IMAGES);
    }
    return BERG_OK;
}

/* The cost c = |x - y|_g^2 must be representable: the bound
 * sum_ab |g_ab| L_a L_b of its largest value over the box (L_a the axis
 * lengths) is finite. A box such as [1e300, 2e300] is refused here, naming
 * the axes whose lengths overflow it. */
static double cost_bound(const berg_space *space)
{
    size_t rank = (size_t)space->ndim;
    double bound = 0.0;
    for (size_t a = 0; a < rank; a++)
        for (size_t b = 0; b < rank; b++)
            bound += fabs(space->g[a * rank + b]) * (space->hi[a] - space->lo[a]) *
                     (space->hi[b] - space->lo[b]);
    return bound;
}

static berg_status check_cost_range(const berg_space *space, const char *fn)
{
    size_t rank = (size_t)space->ndim;
    for (size_t a = 0; a < rank; a++)
        BERG_REQUIRE(isfinite(space->hi[a] - space->lo[a]), BERG_ERR_DOMAIN,
                     "%s: axis %zu has a length that overflows: the transport cost "
                     "c = |x - y|_g^2 is not representable on this space",
                     fn, a);
    size_t big = 0; /* the longest axis, named in the message */
    for (size_t a = 1; a < rank; a++)
        if (space->hi[a] - space->lo[a] > space->hi[big] - space->lo[big])
            big = a;
    BERG_REQUIRE(isfinite(cost_bound(space)), BERG_ERR_DOMAIN,
                 "%s: the squared box diameter sum_ab |g_ab| L_a L_b overflows (axis %zu has "
                 "length %g): the transport cost c = |x - y|_g^2 is not representable on this "
                 "space; rescale the coordinates",
                 fn, big, space->hi[big] - space->lo[big]);
    return BERG_OK;
}

static berg_status check_create(berg_sinkhorn **out, const berg_space *space, double eps,
                                unsigned flags, const char *fn)
{
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    BERG_REQUIRE(isfinite(eps) && eps > 0.0, BERG_ERR_DOMAIN,
                 "%s: eps = %g must be finite and > 0", fn, eps);
    BERG_TRY(berg__check_flags(flags, SINKHORN_FLAGS, fn));
    for (size_t a = 0; a < (size_t)space->ndim; a++)
        BERG_REQUIRE(space->bc[a] != BERG_DIRICHLET, BERG_ERR_UNSUPPORTED,
                     "%s: axis %zu is Dirichlet (absorbing): transport needs a mass-conserving "
                     "kernel; use periodic or Neumann axes",
                     fn, a);
    BERG_TRY(check_cost_range(space, fn));
    BERG_REQUIRE(isfinite(1.0 / space->weight), BERG_ERR_DOMAIN,
                 "%s: the cell volume %g is so small that a normalized density overflows", fn,
                 space->weight);
    if (flags & (unsigned)BERG_SINKHORN_LOG_DOMAIN)
        BERG_TRY(check_log_domain(space, eps, fn));
    return BERG_OK;
}

/* the log-domain tables (n_a^2 doubles per axis, twice) */
static berg_status alloc_log_kernels(berg_sinkhorn *sk, const char *fn)
{
    const berg_space *s = &sk->space;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        size_t nn = s->n[a] * s->n[a];
        sk->log_kernel[a] = berg__alloc(nn, sizeof(double), fn);
        sk->kernel[a] = berg__alloc(nn, sizeof(double), fn);
        if (!sk->log_kernel[a] || !sk->kernel[a])
            return berg_last_status();
    }
    berg__sinkhorn_fill_kernels(sk);
    return BERG_OK;
}

/* the heat kernel of the scaling mode, on nthreads FFT threads */
static berg_status make_heat(const berg_sinkhorn *sk, size_t nthreads, berg_heat **heat,
                             const char *fn)
{
    berg_status st = berg_heat_create_ex(heat, &sk->space, 1, nthreads,
                                         sk->flags & (unsigned)BERG_PLAN_ESTIMATE);
    return st == BERG_OK ? BERG_OK : berg__sinkhorn_reprefix(fn, st);
}

berg_status berg_sinkhorn_create(berg_sinkhorn **out, const berg_space *space, double eps,
                                 unsigned flags)
{
    static const char fn[] = "berg_sinkhorn_create";
    BERG_TRY(check_create(out, space, eps, flags, fn));
    size_t N = space->size, words;
    BERG_TRY(berg__mul_size(N, 6, &words, fn, "workspace"));
    berg_sinkhorn *sk = berg__alloc(1, sizeof *sk, fn);
    if (!sk)
        return berg_last_status();
    memset(sk, 0, sizeof *sk);
    sk->space = *space;
    sk->id = berg__handle_id();
    sk->eps = eps;
    sk->flags = flags;
    sk->log_domain = (flags & (unsigned)BERG_SINKHORN_LOG_DOMAIN) != 0;
    sk->max_iter = 10000;
    sk->tol = 1e-9;
    sk->cost_bound = cost_bound(space);
    sk->max_axis = 1;
    for (size_t a = 0; a < (size_t)space->ndim; a++)
        if (space->n[a] > sk->max_axis)
            sk->max_axis = space->n[a];
    berg_status st;
    if (sk->log_domain) {
        /* E, R and the shifts (3 N), two fibers (2 max n_a); no overflow:
         * 6 N did not overflow and 2 max n_a <= 2 N */
        sk->lse_words = 3 * N + 2 * sk->max_axis;
        words += sk->lse_words;
        BERG_TRY_GOTO(st, alloc_log_kernels(sk, fn), fail);
    } else {
        BERG_TRY_GOTO(st, make_heat(sk, 1, &sk->heat, fn), fail);
    }
    BERG_TRY_GOTO(st, berg__pool_init(&sk->scratch, words, sizeof(double), fn), fail);
    *out = sk;
    return BERG_OK;
fail:
    berg_sinkhorn_destroy(sk);
    return st;
}

void berg_sinkhorn_destroy(berg_sinkhorn *sk)
{
    if (!sk)
        return;
    berg_heat_destroy(sk->heat);
    for (size_t a = 0; a < BERG_MAX_RANK; a++) {
        berg__free(sk->log_kernel[a]);
        berg__free(sk->kernel[a]);
    }
    berg__pool_free(&sk->scratch);
    berg__free(sk);
}

/* ---- configuration -------------------------------------------------------- */

berg_status berg_sinkhorn_set_threads(berg_sinkhorn *sk, size_t nthreads)
{
    static const char fn[] = "berg_sinkhorn_set_threads";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    BERG_REQUIRE(nthreads >= 1, BERG_ERR_DOMAIN, "%s: nthreads = %zu must be >= 1", fn,
                 nthreads);
    BERG_REQUIRE(!sk->log_domain, BERG_ERR_UNSUPPORTED,
                 "%s: a log-domain handle uses no FFT, threads do not apply", fn);
    berg_heat *h = NULL;
    BERG_TRY(make_heat(sk, nthreads, &h, fn));
    berg_heat_destroy(sk->heat);
    sk->heat = h;
    return BERG_OK;
}

berg_status berg_sinkhorn_set_max_iterations(berg_sinkhorn *sk, size_t max_iterations)
{
    static const char fn[] = "berg_sinkhorn_set_max_iterations";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    BERG_REQUIRE(max_iterations >= 1, BERG_ERR_DOMAIN, "%s: max_iterations must be >= 1", fn);
    sk->max_iter = max_iterations;
    return BERG_OK;
}

berg_status berg_sinkhorn_set_tolerance(berg_sinkhorn *sk, double tolerance)
{
    static const char fn[] = "berg_sinkhorn_set_tolerance";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    BERG_REQUIRE(isfinite(tolerance) && tolerance >= 0.0, BERG_ERR_DOMAIN,
                 "%s: tolerance = %g must be finite and >= 0", fn, tolerance);
    sk->tol = tolerance;
    return BERG_OK;
}

berg_status berg_sinkhorn_set_progress(berg_sinkhorn *sk, berg_progress_fn progress,
                                       void *user_data)
{
    static const char fn[] = "berg_sinkhorn_set_progress";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    sk->progress = progress;
    sk->progress_data = progress ? user_data : NULL;
    return BERG_OK;
}

double berg_sinkhorn_epsilon(const berg_sinkhorn *sk)
{
    return sk ? sk->eps : NAN;
}

/* ---- thread-local reports -------------------------------------------------
 * Each thread keeps the reports of the last REPORT_SLOTS handles it solved
 * on, keyed by the handle's serial number (never reused, unlike an
 * address). */
#define REPORT_SLOTS 16

typedef struct report_slot {
    uint64_t id; /* 0: empty */
    berg__sinkhorn_run run;
} report_slot;

static _Thread_local report_slot reports[REPORT_SLOTS];
static _Thread_local size_t report_next;

void berg__sinkhorn_record(const berg_sinkhorn *sk, berg__sinkhorn_run run)
{
    if (!isfinite(run.err))
        return; /* refused or lost before an error was measured: nothing to report */
    for (size_t i = 0; i < REPORT_SLOTS; i++)
        if (reports[i].id == sk->id) {
            reports[i].run = run;
            return;
        }
    report_slot *slot = &reports[report_next];
    report_next = (report_next + 1) % REPORT_SLOTS;
    slot->id = sk->id;
    slot->run = run;
}

berg_status berg_sinkhorn_report(const berg_sinkhorn *sk, double *marginal_error,
                                 size_t *iterations)
{
    static const char fn[] = "berg_sinkhorn_report";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    int found = 0;
    berg__sinkhorn_run run = {NAN, 0};
    for (size_t i = 0; i < REPORT_SLOTS; i++)
        if (reports[i].id == sk->id) {
            run = reports[i].run;
            found = 1;
        }
    /* no report is not a NaN one: refused, outputs untouched */
    BERG_REQUIRE(found, BERG_ERR_DOMAIN,
                 "%s: sk has no report for this thread: no cost, divergence, solve or "
                 "barycenter call of this thread on it yet (or 16 other handles since)",
                 fn);
    if (marginal_error)
        *marginal_error = run.err;
    if (iterations)
        *iterations = run.iters;
    return BERG_OK;
}

/* ---- scratch and shared pieces of the solves ------------------------------ */

double *berg__sinkhorn_scratch_get(const berg_sinkhorn *sk, const char *fn)
{
    /* the pool is the one mutable part of a const handle; it locks itself */
    return berg__pool_get((berg__pool *)&sk->scratch, fn);
}

void berg__sinkhorn_scratch_put(const berg_sinkhorn *sk, double *block)
{
    berg__pool_put((berg__pool *)&sk->scratch, block);
}

void berg__sinkhorn_normalize(const berg_space *s, const double *src, double mass, double *dst)
{
    /* src / mass <= 1; no reciprocal of mass * w, which over- or
     * underflows for measures whose integral leaves the double range */
    for (size_t i = 0; i < s->size; i++)
        dst[i] = src[i] / mass / s->weight;
}

berg_status berg__sinkhorn_lost_at(const berg_sinkhorn *sk, const char *fn, size_t i)
{
    return berg__error(BERG_ERR_NO_CONVERGENCE,
                       "%s: the Sinkhorn scalings under- or overflowed at index %zu (eps = %g is "
                       "too small for the scaling mode on this grid); create the solver with "
                       "BERG_SINKHORN_LOG_DOMAIN",
                       fn, i, sk->eps);
}

berg_status berg__sinkhorn_lost(const berg_sinkhorn *sk, const char *fn, const double *a,
                                size_t n)
{
    size_t i = 0;
    while (i < n && isfinite(a[i]))
        i++;
    if (i == n)
        for (i = 0; i + 1 < n && a[i] > 0.0; i++)
            ;
    return berg__sinkhorn_lost_at(sk, fn, i);
}

berg_status berg__sinkhorn_check_resolution(const berg_sinkhorn *sk, const char *fn)
{
    if (!sk->log_domain)
        return BERG_OK;
    /* without a tolerance (a fixed number of iterations) the marginals
     * must still mean something: a rounding floor of at most 1e-3 */
    double tol = sk->tol > 0.0 ? sk->tol : 1e-3;
    double floor = 4.0 * DBL_EPSILON * (sk->cost_bound / sk->eps);
    BERG_REQUIRE(!(floor > tol), BERG_ERR_DOMAIN,
                 "%s: eps = %g is too small for the log domain at tolerance %g: the potentials "
                 "f/eps reach %.3g (cost bound %.3g over eps), whose rounding %.3g exceeds the "
                 "tolerance; raise eps or the tolerance",
                 fn, sk->eps, tol, sk->cost_bound / sk->eps, sk->cost_bound, floor);
    return BERG_OK;
}

berg_status berg__sinkhorn_converged(const berg_sinkhorn *sk, const char *fn, const char *what,
                                     berg__sinkhorn_run run)
{
    if (!(sk->tol > 0.0) || run.err <= sk->tol)
        return BERG_OK;
    return berg__error(BERG_ERR_NO_CONVERGENCE,
                       "%s: no convergence in %zu iterations: %s %.3g > tolerance %.3g (raise the "
                       "cap, the tolerance or eps%s)",
                       fn, run.iters, what, run.err, sk->tol,
                       sk->log_domain ? "" : "; at small eps the FFT kernel loses the far tails: "
                                             "use BERG_SINKHORN_LOG_DOMAIN");
}
