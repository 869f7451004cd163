/* Progress callbacks of the long-running calls: when one is due, and the
 * cancellation it can ask for (internal.h describes the protocol). */
#include <math.h>
#include <time.h>

#include "core/internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void berg__progress_start(berg__progress *pr, berg_progress_fn cb, void *user_data)
{
    pr->cb = cb;
    pr->user_data = user_data;
    pr->next = 0.0;
    pr->fraction = 0.0;
}

berg_status berg__progress_call(berg__progress *pr, int force, double fraction, size_t iteration,
                                double error, const char *fn)
{
    double t = now();
    if (!force && pr->next != 0.0 && t < pr->next)
        return BERG_OK;
    pr->next = t + BERG__PROGRESS_INTERVAL;
    if (!isnan(fraction)) {
        fraction = fraction < pr->fraction ? pr->fraction : fraction > 1.0 ? 1.0 : fraction;
        pr->fraction = fraction;
    }
    if (pr->cb(fraction, iteration, error, pr->user_data) != 0)
        return berg__error(BERG_ERR_CANCELLED,
                           "%s: stopped by the progress callback after %zu iterations", fn,
                           iteration);
    return BERG_OK;
}

double berg__progress_fraction(size_t iteration, size_t cap, double err0, double err, double tol)
{
    double f = cap > 0 ? (double)iteration / (double)cap : 0.0;
    if (tol > 0.0 && err0 > tol && err > 0.0 && isfinite(err0) && isfinite(err)) {
        double g = log(err0 / err) / log(err0 / tol);
        if (g > f)
            f = g;
    }
    if (!(f >= 0.0))
        f = 0.0;
    return f < 0.999 ? f : 0.999;
}
