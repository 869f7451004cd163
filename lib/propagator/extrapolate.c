/*
 * The adaptive Aitken-Neville extrapolation controller shared by the two
 * discretizations of the Fokker-Planck flow (the SEULEX idea of Hairer &
 * Wanner with a fixed order).
 *
 * For a one-step method Phi whose error expands in powers of tau (or of
 * tau^2 when Phi is symmetric), T_{j1} = Phi_{tau/j}^j y, j = 1..K, are
 * combined column by column,
 *   T_{j,k+1} = T_{jk} + (T_{jk} - T_{j-1,k}) / ((j / (j - k))^p - 1),
 * p = 1 or 2, to T_KK. The last correction T_KK - T_{K,K-1} estimates the
 * local error; its weighted L1 norm relative to the caller's scale is kept
 * below tol: a step is accepted when it is, and the next step is
 * tau 0.9 (tol / err)^exponent, the factor clamped to [0.2, 4].
 */
#include <math.h>

#include "propagator/fp_internal.h"

/* Aitken-Neville over n_j = j (T[j - 1] = T_{j1} on entry, T[K - 1] = T_KK
 * on return); returns the weighted L1 norm of the last correction */
static double extrapolate(const berg__extrap *e, double *const *T)
{
    const size_t K = e->stages, n = e->n;
    double err = 0.0;
    for (size_t k = 1; k < K; k++) {
        /* after column k, T[j] = T_{j+1,k+1} */
        for (size_t j = K - 1; j >= k; j--) {
            double ratio = (double)(j + 1) / (double)(j + 1 - k);
            if (e->in_tau_squared)
                ratio *= ratio;
            double f = 1.0 / (ratio - 1.0);
            double *a = T[j];
            const double *b = T[j - 1];
            if (k < K - 1) {
                for (size_t i = 0; i < n; i++)
                    a[i] += (a[i] - b[i]) * f;
            } else if (e->weight) {
                for (size_t i = 0; i < n; i++) {
                    double d = (a[i] - b[i]) * f;
                    err += e->weight[i] * fabs(d);
                    a[i] += d;
                }
            } else {
                for (size_t i = 0; i < n; i++) {
                    double d = (a[i] - b[i]) * f;
                    err += fabs(d);
                    a[i] += d;
                }
            }
        }
    }
    return err;
}

/* weighted L1 norm of (a - b) f */
static double difference_norm(const berg__extrap *e, const double *a, const double *b, double f)
{
    double err = 0.0;
    for (size_t i = 0; i < e->n; i++)
        err += (e->weight ? e->weight[i] : 1.0) * fabs((a[i] - b[i]) * f);
    return err;
}

berg_status berg__extrap_run(const berg__extrap *e, double t, double tau, double *y,
                             double *const *T, berg__fp_steps *steps, const char *fn)
{
    const size_t K = e->stages;
    const double tol = e->tol;
    const int fixed = e->fixed_step > 0.0;
    double elapsed = 0.0, err = NAN;
    size_t next_break = 0;
    berg__progress *pr = steps->progress;
    while (elapsed < t) {
        /* elapsed / t: the fraction of the time interval done */
        if (pr)
            BERG_TRY(berg__progress_report(pr, 0, elapsed / t,
                                           steps->accepted + steps->rejected, err, fn));
        /* this step ends at the latest at the next break (a knot of a
         * table), or at t */
        while (next_break < e->nbreaks && e->breaks[next_break] <= elapsed)
            next_break++;
        double end = (next_break < e->nbreaks && e->breaks[next_break] < t)
                         ? e->breaks[next_break] : t;
        double rest = end - elapsed, wish = tau;
        int last = 0;
        if (fixed) {
            /* equal steps to the end of the segment */
            double m = fmax(1.0, ceil(rest / e->fixed_step * (1.0 - 1e-12)));
            tau = rest / m;
            last = (m == 1.0);
        } else {
            if (tau > e->tau_max)
                tau = e->tau_max;
            wish = tau;
            if (tau >= rest * (1.0 - 1e-12)) {
                tau = rest;
                last = 1;
            }
        }
        size_t stages = K;
        for (size_t j = 1; j <= stages; j++) {
            BERG_TRY(e->step(e->ctx, e->t0 + elapsed, tau, j, y, T[j - 1]));
            /* between stages too: one step of a large grid can take long */
            if (pr && j < stages)
                BERG_TRY(berg__progress_report(pr, 0, elapsed / t,
                                               steps->accepted + steps->rejected, err, fn));
        }
        double *result = T[K - 1];
        if (e->base_result) {
            /* the one-step method itself; its error from the step-halved
             * value (Richardson) */
            double r = e->in_tau_squared ? 4.0 : 2.0;
            err = difference_norm(e, T[1], T[0], r / (r - 1.0));
            result = T[0];
        } else {
            err = extrapolate(e, T);
        }
        double scale = e->error_scale(e->ctx, y);
        err = (scale > 0.0) ? err / scale : 0.0;
        if (!isfinite(err))
            err = 1e300;
        int accepted = (err <= tol);
        BERG_REQUIRE(!fixed || accepted, BERG_ERR_NO_CONVERGENCE,
                     "%s: the fixed step %g has an error estimate %g (relative to the mass) "
                     "above the tolerance %g at time %g: take a shorter step or a larger "
                     "tolerance",
                     fn, tau, err, tol, e->t0 + elapsed);
        if (accepted) {
            int equilibrium = e->accept(e->ctx, result, y);
            elapsed = equilibrium ? t : last ? end : elapsed + tau;
            steps->accepted++;
        } else {
            steps->rejected++;
        }
        if (!fixed) {
            double fac = (err > 0.0) ? 0.9 * pow(tol / err, e->exponent) : 4.0;
            if (accepted && e->hold_small_growth && fac >= 1.0 && fac < 1.3)
                fac = 1.0; /* the step's tables stay valid */
            fac = fmin(fmax(fac, 0.2), 4.0);
            tau *= fac;
            /* a step cut short by a break does not shrink the next one */
            if (accepted && last && end < t)
                tau = fmax(tau, wish * fmin(fac, 1.0));
            BERG_REQUIRE(!(tau < t * 1e-13 && tau * e->stiffness < 1e-6),
                         BERG_ERR_NO_CONVERGENCE,
                         "%s: the step size fell to %g at time %g of %g (tolerance %g, error "
                         "estimate %g of it)",
                         fn, tau, e->t0 + elapsed, e->t0 + t, tol, err / tol);
        }
        /* steps grow up to 4x when accepted and the equilibrium ends any
         * long run, so a smooth run takes tens to a few hundred steps; a
         * run past the budget is not converging and is refused */
        BERG_REQUIRE(steps->accepted + steps->rejected < BERG__EXTRAP_MAX_STEPS || elapsed >= t,
                     BERG_ERR_NO_CONVERGENCE,
                     "%s: %zu steps (%zu rejected) reached only time %g of %g (tolerance %g, "
                     "last step %g, error estimate %g of the tolerance): the error estimate "
                     "does not settle",
                     fn, steps->accepted + steps->rejected, steps->rejected, e->t0 + elapsed,
                     e->t0 + t, tol, tau, err / tol);
    }
    if (pr) /* before the caller writes its output */
        BERG_TRY(berg__progress_report(pr, 1, 1.0, steps->accepted + steps->rejected, err, fn));
    return BERG_OK;
}
