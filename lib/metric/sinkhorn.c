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

#define MODE_FLAGS                                                                         \
    ((unsigned)BERG_SINKHORN_LOG_DOMAIN | (unsigned)BERG_SINKHORN_FFT |                    \
     (unsigned)BERG_SINKHORN_STABILIZED)
#define SINKHORN_FLAGS (MODE_FLAGS | (unsigned)BERG_PLAN_ESTIMATE)

/* The default mode uses the FFT kernel while the squared distance D^2
 * across the measures' supports is at most fft_range(tol) eps. The FFT's
 * round-off (~1e-16 of the kernel's peak) is relative error 1e-16
 * e^{D^2/eps} on the smallest kernel value the plan needs, and the
 * marginal error stalls at about that (measured: 9e-8 at D^2/eps = 20 in
 * 1-D): the FFT is used while it stays 20 times below the tolerance
 * (1e-9 when the tolerance is 0), D^2/eps <= log(tol / 2.2e-16) - 3, at
 * most FFT_RANGE. */
#define FFT_RANGE 25.0
/* and while eps >= FFT_RESOLUTION max_a g_aa h_a^2 (the FFT's continuum
 * symbol and the sampled kernel agree there) */
#define FFT_RESOLUTION 4.0

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
                 "%s: the log-domain and stabilized modes need a diagonal metric (their kernel "
                 "is a product over axes)",
                 fn);
    for (size_t a = 0; a < rank; a++) {
        BERG_REQUIRE(space->n[a] <= BERG__SINKHORN_LOG_MAX_AXIS, BERG_ERR_UNSUPPORTED,
                     "%s: axis %zu has %zu cells; the log-domain and stabilized modes allow at "
                     "most %d per axis",
                     fn, a, space->n[a], BERG__SINKHORN_LOG_MAX_AXIS);
        BERG_REQUIRE(berg__sinkhorn_images_cover(space, a, eps), BERG_ERR_DOMAIN,
                     "%s: at eps = %g the kernel of axis %zu reaches %.3g axis lengths, more "
                     "than the separable kernel's image sum covers (%d images each side); use "
                     "the FFT scaling mode (flags 0 or BERG_SINKHORN_FFT), accurate at large eps",
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
    unsigned modes = flags & MODE_FLAGS;
    BERG_REQUIRE((modes & (modes - 1)) == 0, BERG_ERR_DOMAIN,
                 "%s: flags 0x%x ask for more than one of BERG_SINKHORN_LOG_DOMAIN, "
                 "BERG_SINKHORN_FFT and BERG_SINKHORN_STABILIZED",
                 fn, flags);
    for (size_t a = 0; a < (size_t)space->ndim; a++)
        BERG_REQUIRE(space->bc[a] != BERG_DIRICHLET, BERG_ERR_UNSUPPORTED,
                     "%s: axis %zu is Dirichlet (absorbing): transport needs a mass-conserving "
                     "kernel; use periodic or Neumann axes",
                     fn, a);
    BERG_TRY(check_cost_range(space, fn));
    BERG_REQUIRE(isfinite(1.0 / space->weight), BERG_ERR_DOMAIN,
                 "%s: the cell volume %g is so small that a normalized density overflows", fn,
                 space->weight);
    if (flags & ((unsigned)BERG_SINKHORN_LOG_DOMAIN | (unsigned)BERG_SINKHORN_STABILIZED))
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

/* The default mode builds the separable tables when it may need them: a
 * diagonal metric, axes of at most BERG__SINKHORN_AUTO_MAX_AXIS cells
 * covered by the image sums, eps at or above the grid's resolution and a
 * box wide enough for the FFT kernel to lose its tails. */
static int auto_tables(const berg_sinkhorn *sk)
{
    const berg_space *s = &sk->space;
    if (!s->diagonal || sk->eps < sk->res_h2 || sk->cost_bound <= 2.0 * sk->eps)
        return 0;
    for (size_t a = 0; a < (size_t)s->ndim; a++)
        if (s->n[a] > BERG__SINKHORN_AUTO_MAX_AXIS || !berg__sinkhorn_images_cover(s, a, sk->eps))
            return 0;
    return 1;
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
    sk->mode = sk->log_domain                              ? BERG__SK_LOG
               : (flags & (unsigned)BERG_SINKHORN_FFT)     ? BERG__SK_FFT
               : (flags & (unsigned)BERG_SINKHORN_STABILIZED) ? BERG__SK_STAB
                                                           : BERG__SK_AUTO;
    sk->max_iter = 10000;
    sk->tol = 1e-9;
    sk->cost_bound = cost_bound(space);
    sk->max_axis = 1;
    size_t rank = (size_t)space->ndim;
    for (size_t a = 0; a < rank; a++) {
        double h = (space->hi[a] - space->lo[a]) / (double)space->n[a];
        double r = space->g[a * rank + a] * h * h;
        if (r > sk->res_h2)
            sk->res_h2 = r;
        if (space->n[a] > sk->max_axis)
            sk->max_axis = space->n[a];
        sk->sum_axis += space->n[a];
        sk->sum_axis2 += space->n[a] * space->n[a];
    }
    berg_status st;
    sk->tables = sk->mode == BERG__SK_LOG || sk->mode == BERG__SK_STAB ||
                 (sk->mode == BERG__SK_AUTO && auto_tables(sk));
    if (sk->tables) {
        /* log domain: E, R and the shifts (3 N), two fibers (2 max n_a);
         * stabilized: also a kernel buffer (N), one coupling and the
         * absorption sums. The axes have at most 4096 cells, so the sums
         * of n_a and n_a^2 are far from overflowing, and 6 N did not. */
        sk->lse_words = 4 * N + 2 * sk->max_axis + 4 * sk->sum_axis + sk->sum_axis2;
        words += sk->lse_words;
        BERG_TRY_GOTO(st, alloc_log_kernels(sk, fn), fail);
    }
    if (sk->mode == BERG__SK_FFT || sk->mode == BERG__SK_AUTO)
        BERG_TRY_GOTO(st, make_heat(sk, berg__threads(0), &sk->heat, fn), fail);
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
                 "%s: a log-domain handle (BERG_SINKHORN_LOG_DOMAIN) follows berg_set_threads(); "
                 "a thread count of its own does not apply to it (as in 1.0)",
                 fn);
    if (sk->heat) {
        berg_heat *h = NULL;
        BERG_TRY(make_heat(sk, nthreads, &h, fn));
        berg_heat_destroy(sk->heat);
        sk->heat = h;
    }
    sk->threads = nthreads;
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

/* this thread's report on sk, or BERG_ERR_DOMAIN naming fn */
static berg_status find_report(const berg_sinkhorn *sk, const char *fn, berg__sinkhorn_run *out)
{
    int found = 0;
    for (size_t i = 0; i < REPORT_SLOTS; i++)
        if (reports[i].id == sk->id) {
            *out = reports[i].run;
            found = 1;
        }
    /* no report is not a NaN one: refused, outputs untouched */
    BERG_REQUIRE(found, BERG_ERR_DOMAIN,
                 "%s: sk has no report for this thread: no cost, divergence, solve or "
                 "barycenter call of this thread on it yet (or 16 other handles since)",
                 fn);
    return BERG_OK;
}

berg_status berg_sinkhorn_report(const berg_sinkhorn *sk, double *marginal_error,
                                 size_t *iterations)
{
    static const char fn[] = "berg_sinkhorn_report";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    berg__sinkhorn_run run = {NAN, 0, BERG__SK_FFT};
    BERG_TRY(find_report(sk, fn, &run));
    if (marginal_error)
        *marginal_error = run.err;
    if (iterations)
        *iterations = run.iters;
    return BERG_OK;
}

berg_status berg_sinkhorn_report_mode(const berg_sinkhorn *sk, unsigned *mode)
{
    static const char fn[] = "berg_sinkhorn_report_mode";
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    BERG_TRY(berg__check_ptr(mode, fn, "mode"));
    berg__sinkhorn_run run = {NAN, 0, BERG__SK_FFT};
    BERG_TRY(find_report(sk, fn, &run));
    *mode = run.mode == BERG__SK_LOG    ? (unsigned)BERG_SINKHORN_LOG_DOMAIN
            : run.mode == BERG__SK_STAB ? (unsigned)BERG_SINKHORN_STABILIZED
                                        : (unsigned)BERG_SINKHORN_FFT;
    return BERG_OK;
}

/* ---- the default mode's choice -------------------------------------------- */

/* Bounding boxes of supports, [lo, hi] per axis (empty: lo > hi) */
static void box_empty(const berg_space *s, size_t *lo, size_t *hi)
{
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        lo[a] = s->n[a];
        hi[a] = 0;
    }
}

/* [lo, hi] grown by the cells where m > 0 */
static void box_grow(const berg_space *s, const double *m, size_t *lo, size_t *hi)
{
    for (size_t i = 0; i < s->size; i++) {
        if (!(m[i] > 0.0))
            continue;
        for (size_t a = 0; a < (size_t)s->ndim; a++) {
            size_t j = (i / s->stride[a]) % s->n[a];
            lo[a] = j < lo[a] ? j : lo[a];
            hi[a] = j > hi[a] ? j : hi[a];
        }
    }
}

/* the squared extent (metric) of the box; half a period at most on a
 * periodic axis */
static double box_extent2(const berg_space *s, const size_t *lo, const size_t *hi)
{
    size_t d = (size_t)s->ndim;
    double D2 = 0.0;
    for (size_t a = 0; a < d; a++) {
        double L = s->hi[a] - s->lo[a], h = L / (double)s->n[a];
        double ext = hi[a] >= lo[a] ? (double)(hi[a] - lo[a] + 1) * h : 0.0;
        if (s->bc[a] == BERG_PERIODIC && ext > 0.5 * L)
            ext = 0.5 * L;
        D2 += s->g[a * d + a] * ext * ext;
    }
    return D2;
}

double berg__sinkhorn_extent2(const berg_sinkhorn *sk, const double *meas, size_t k,
                              const double *more)
{
    const berg_space *s = &sk->space;
    size_t lo[BERG_MAX_RANK], hi[BERG_MAX_RANK];
    box_empty(s, lo, hi);
    for (size_t r = 0; r < k; r++)
        box_grow(s, meas + r * s->size, lo, hi);
    if (more)
        box_grow(s, more, lo, hi);
    return box_extent2(s, lo, hi);
}

/* The flops of one stabilized product (sinkhorn_dense.c) of a measure
 * whose support's bounding box is [lo, hi] on the u side, the whole grid
 * on the v side: axis a maps n_a to |box_a| with the axes before it
 * already boxed. */
static double dense_flops(const berg_space *s, const size_t *lo, const size_t *hi)
{
    size_t d = (size_t)s->ndim;
    double total = 0.0;
    for (size_t a = 0; a < d; a++) {
        double f = 2.0 * (double)s->n[a];
        for (size_t b = 0; b < d; b++) {
            double w = hi[b] >= lo[b] ? (double)(hi[b] - lo[b] + 1) : 0.0;
            f *= b <= a ? w : (double)s->n[b];
        }
        total += f;
    }
    return total;
}

/* One pass over each of the k measures (and more, unless NULL): the mean
 * of dense_flops with each one's own support box into *flops, and the
 * squared extent of the union of the boxes (berg__sinkhorn_extent2) */
static double boxes(const berg_sinkhorn *sk, const double *meas, size_t k, const double *more,
                    double *flops)
{
    const berg_space *s = &sk->space;
    size_t count = k + (more != NULL), ulo[BERG_MAX_RANK], uhi[BERG_MAX_RANK];
    double total = 0.0;
    box_empty(s, ulo, uhi);
    for (size_t r = 0; r < count; r++) {
        size_t lo[BERG_MAX_RANK], hi[BERG_MAX_RANK];
        box_empty(s, lo, hi);
        box_grow(s, r < k ? meas + r * s->size : more, lo, hi);
        total += dense_flops(s, lo, hi);
        for (size_t a = 0; a < (size_t)s->ndim; a++) {
            ulo[a] = lo[a] < ulo[a] ? lo[a] : ulo[a];
            uhi[a] = hi[a] > uhi[a] ? hi[a] : uhi[a];
        }
    }
    *flops = total / (double)count;
    return box_extent2(s, ulo, uhi);
}

int berg__sinkhorn_pick(const berg_sinkhorn *sk, const double *meas, size_t k,
                        const double *more)
{
    if (sk->mode != BERG__SK_AUTO)
        return sk->mode;
    /* below the grid's resolution the default keeps 1.0's FFT mode */
    if (!sk->tables || sk->eps < sk->res_h2)
        return BERG__SK_FFT;
    double box, D2 = boxes(sk, meas, k, more, &box);
    double tol = sk->tol > 0.0 ? sk->tol : 1e-9;
    double range = fmin(log(tol / DBL_EPSILON) - 3.0, FFT_RANGE);
    if (!(D2 <= range * sk->eps && sk->eps >= FFT_RESOLUTION * sk->res_h2))
        return BERG__SK_STAB;
    /* Both are accurate: the stabilized mode's exact kernel when it costs
     * less, in dgemm flops per measure. A model, not a measurement per
     * machine: an FFT heat apply is taken as 15 N log2 N flops, from two
     * times measured on the test machine (a 256^2 Neumann apply 0.39 ms;
     * 1.1's stabilized iteration, 268 Mflop of whole-grid products, 4.7
     * ms); a stabilized iteration 1.5 times
     * its products on the supports' boxes (the pointwise work is the same in
     * both modes and left out); the stabilized start and exact check add
     * about 1.5 log-domain products on the whole grid and one on the box.
     * Iterations: max_iter without a tolerance, else a nominal 10 (a
     * converged solve needs ~10-30 here: the FFT mode is kept when the
     * stabilized one pays off only over more). */
    const berg_space *s = &sk->space;
    size_t lo[BERG_MAX_RANK], hi[BERG_MAX_RANK];
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        lo[a] = 0;
        hi[a] = s->n[a] - 1;
    }
    double N = (double)s->size, fft = 15.0 * N * log2(N > 2.0 ? N : 2.0);
    double full = dense_flops(s, lo, hi);
    double iters = sk->tol > 0.0 ? 10.0 : (double)sk->max_iter;
    double stab = 1.5 * (full + box) + iters * 1.5 * box;
    return stab < iters * fft ? BERG__SK_STAB : BERG__SK_FFT;
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
                       run.mode != BERG__SK_FFT ? ""
                                                : "; at small eps the FFT kernel loses the far "
                                                  "tails: use BERG_SINKHORN_LOG_DOMAIN");
}
