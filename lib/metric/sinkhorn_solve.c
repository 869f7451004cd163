/*
 * Entropic transport between two measures: berg_sinkhorn_cost, _solve and
 * _divergence, by the scaling iteration (FFT heat kernel) or the log-domain
 * iteration (sinkhorn_internal.h has the mathematics). The handle is const:
 * each call takes its scratch from the handle's pool and records its report
 * for the calling thread.
 */
#include <float.h>
#include <math.h>

#include "metric/sinkhorn_internal.h"

/* The scratch of one pair solve: normalized inputs, potentials (F, G),
 * two kernel buffers, and the log-sum-exp scratch. */
typedef struct pair_work {
    double *pn, *qn, *F, *G, *t1, *t2, *lse;
    berg__progress *pr; /* the call's progress; this solve covers [base, base + span] of it */
    double base, span;
    size_t it0;         /* iterations of the call's earlier solves */
} pair_work;

static pair_work pair_layout(const berg_sinkhorn *sk, double *block)
{
    size_t N = sk->space.size;
    pair_work w = {block, block + N, block + 2 * N, block + 3 * N, block + 4 * N, block + 5 * N,
                   block + 6 * N, NULL, 0.0, 1.0, 0};
    return w;
}

/* the progress report of an iteration (err0: the first error known) */
static berg_status progress_at(const berg_sinkhorn *sk, const char *fn, const pair_work *w,
                               berg__sinkhorn_run run, double err0)
{
    double frac = berg__progress_fraction(run.iters, sk->max_iter, err0, run.err, sk->tol);
    return berg__progress_report(w->pr, 0, w->base + w->span * frac, w->it0 + run.iters,
                                 isfinite(run.err) ? run.err : NAN, fn);
}

/* Log domain: F = -Klog(log q + G), G = -Klog(log p + F) until the first
 * marginal is within tolerance. On return F, G hold f/eps, g/eps. */
static berg_status solve_log(const berg_sinkhorn *sk, const char *fn, const double *pn,
                             const double *qn, const pair_work *w, berg__sinkhorn_run *out)
{
    size_t N = sk->space.size;
    double *F = w->F, *G = w->G, *t1 = w->t1, *t2 = w->t2, err0 = NAN;
    berg__sinkhorn_run run = {INFINITY, 0};
    for (size_t i = 0; i < N; i++)
        G[i] = 0.0;
    for (run.iters = 0;; run.iters++) {
        for (size_t j = 0; j < N; j++)
            t1[j] = qn[j] > 0.0 ? log(qn[j]) + G[j] : -INFINITY;
        berg__sinkhorn_logsumexp(sk, t1, w->lse);
        if (run.iters > 0) {
            /* the first marginal's L1 gap: p |e^{F + Klog(..)} - 1| */
            double e = 0.0;
            for (size_t i = 0; i < N; i++)
                if (pn[i] > 0.0)
                    e += pn[i] * fabs(expm1(F[i] + t1[i]));
            run.err = e * sk->space.weight;
            if ((sk->tol > 0.0 && run.err <= sk->tol) || run.iters >= sk->max_iter)
                break;
            if (run.iters == 1)
                err0 = run.err;
        }
        *out = run;
        BERG_TRY(progress_at(sk, fn, w, run, err0));
        for (size_t i = 0; i < N; i++)
            F[i] = -t1[i];
        for (size_t i = 0; i < N; i++)
            t2[i] = pn[i] > 0.0 ? log(pn[i]) + F[i] : -INFINITY;
        berg__sinkhorn_logsumexp(sk, t2, w->lse);
        for (size_t j = 0; j < N; j++)
            G[j] = -t2[j];
    }
    *out = run;
    return BERG_OK;
}

/* One scaling half-step: out = 1 / max(heat(weight * scal), floor), where
 * weight = 0 keeps the product 0. BERG_OK, or the under/overflow. */
static berg_status scaling_step(const berg_sinkhorn *sk, const char *fn, const double *weight,
                                const double *scal, double *tmp, double *kout, double *out)
{
    size_t N = sk->space.size;
    for (size_t j = 0; j < N; j++)
        tmp[j] = weight[j] > 0.0 ? weight[j] * scal[j] : 0.0;
    double fl;
    BERG_TRY(berg__sinkhorn_heat(sk, fn, tmp, kout, &fl));
    for (size_t i = 0; i < N; i++)
        out[i] = 1.0 / (kout[i] > fl ? kout[i] : fl);
    return BERG_OK;
}

/* Scaling mode: u = 1 / heat(q v), v = 1 / heat(p u) (F holds u, G holds v)
 * until the first marginal p u heat(q v) is within tolerance; then F, G
 * become f/eps, g/eps. */
static berg_status solve_scaling(const berg_sinkhorn *sk, const char *fn, const double *pn,
                                 const double *qn, const pair_work *w, berg__sinkhorn_run *run)
{
    const berg_space *s = &sk->space;
    size_t N = s->size;
    double *F = w->F, *G = w->G, *t1 = w->t1, *t2 = w->t2, err0 = NAN;
    run->err = INFINITY;
    for (size_t i = 0; i < N; i++)
        G[i] = 1.0;
    for (run->iters = 0;; run->iters++) {
        /* t1 = heat(q v) */
        for (size_t j = 0; j < N; j++)
            t2[j] = qn[j] * G[j];
        double fl;
        BERG_TRY(berg__sinkhorn_heat(sk, fn, t2, t1, &fl));
        if (run->iters > 0) {
            double e = 0.0;
            for (size_t i = 0; i < N; i++)
                if (pn[i] > 0.0)
                    e += pn[i] * fabs(F[i] * t1[i] - 1.0);
            run->err = e * s->weight;
            if (!isfinite(run->err)) {
                size_t i = 0;
                while (i + 1 < N && (!(pn[i] > 0.0) || isfinite(F[i] * t1[i])))
                    i++;
                return berg__sinkhorn_lost_at(sk, fn, i);
            }
            if ((sk->tol > 0.0 && run->err <= sk->tol) || run->iters >= sk->max_iter)
                break;
            if (run->iters == 1)
                err0 = run->err;
        }
        BERG_TRY(progress_at(sk, fn, w, *run, err0));
        for (size_t i = 0; i < N; i++)
            F[i] = 1.0 / (t1[i] > fl ? t1[i] : fl);
        BERG_TRY(scaling_step(sk, fn, pn, F, t2, t1, G));
    }
    /* potentials over eps: log u - (1/2) log C, C = (pi eps)^{d/2} */
    double half_logC = 0.25 * (double)s->ndim * log(M_PI * sk->eps);
    for (size_t i = 0; i < N; i++) {
        F[i] = F[i] > 0.0 ? log(F[i]) - half_logC : HUGE_VAL;
        G[i] = G[i] > 0.0 ? log(G[i]) - half_logC : HUGE_VAL;
    }
    return BERG_OK;
}

/* One entropic OT solve between normalized pn and qn: F and G of w hold
 * f/eps and g/eps, *cost the dual value; *run the outcome (also on failure). */
/* The entropic cost between pn and qn into *cost, and a bound on its
 * rounding error into *rounding (the dual value is a sum of eps F p and
 * eps G q whose terms may cancel far below their size) */
static berg_status solve_between(const berg_sinkhorn *sk, const char *fn, const double *pn,
                                 const double *qn, const pair_work *w, double *cost,
                                 double *rounding, berg__sinkhorn_run *run)
{
    size_t N = sk->space.size;
    BERG_TRY(berg__sinkhorn_check_resolution(sk, fn));
    berg_status st = sk->log_domain ? solve_log(sk, fn, pn, qn, w, run)
                                    : solve_scaling(sk, fn, pn, qn, w, run);
    if (st != BERG_OK)
        return st;
    BERG_TRY(berg__sinkhorn_converged(sk, fn, "marginal error", *run));
    /* sum of the cell masses (pn w <= 1) times F, G: no product of the
     * weight and eps, which over- or underflows on extreme boxes */
    double acc = 0.0, size = 0.0, wgt = sk->space.weight;
    for (size_t i = 0; i < N; i++) {
        if (pn[i] > 0.0) {
            acc += (pn[i] * wgt) * w->F[i];
            size += (pn[i] * wgt) * fabs(w->F[i]);
        }
        if (qn[i] > 0.0) {
            acc += (qn[i] * wgt) * w->G[i];
            size += (qn[i] * wgt) * fabs(w->G[i]);
        }
    }
    /* the dual value grows like eps log eps at large eps (the image sums of
     * a bounded box); beyond the double range it is refused, not -inf */
    double c = sk->eps * acc;
    BERG_REQUIRE(isfinite(c), BERG_ERR_DOMAIN,
                 "%s: the entropic cost overflows at eps = %g (it grows like eps log eps); use "
                 "a smaller eps",
                 fn, sk->eps);
    *cost = c;
    *rounding = 8.0 * DBL_EPSILON * sk->eps * size;
    return BERG_OK;
}

/* The checks of a two-measure call: handle, p, q, then out named out_name
 * unless out_name is NULL; the masses of p and q. */
static berg_status check_pair(const berg_sinkhorn *sk, const char *fn, const double *p,
                              const double *q, const void *out, const char *out_name,
                              double *mp, double *mq)
{
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    BERG_TRY(berg__check_density(p, sk->space.size, fn, "p", mp));
    BERG_TRY(berg__check_density(q, sk->space.size, fn, "q", mq));
    if (out_name)
        BERG_TRY(berg__check_ptr(out, fn, out_name));
    return BERG_OK;
}

/* BERG_ERR_DOMAIN unless the potentials f = eps F and g = eps G are finite
 * (a huge eps times the logarithms of the scalings may overflow) */
static berg_status check_potentials(const berg_sinkhorn *sk, const char *fn, const pair_work *w)
{
    for (size_t i = 0; i < sk->space.size; i++)
        BERG_REQUIRE(isfinite(sk->eps * w->F[i]) && isfinite(sk->eps * w->G[i]), BERG_ERR_DOMAIN,
                     "%s: the potentials overflow at index %zu (eps = %g times the logarithm of "
                     "a scaling); use a smaller eps",
                     fn, i, sk->eps);
    return BERG_OK;
}

/* berg_sinkhorn_solve, and berg_sinkhorn_cost (cost required, no potentials) */
static berg_status solve_pair(const berg_sinkhorn *sk, const char *fn, const double *p,
                              const double *q, double *cost, int need_cost, double *f, double *g)
{
    double mp, mq, c;
    BERG_TRY(check_pair(sk, fn, p, q, cost, need_cost ? "cost" : NULL, &mp, &mq));
    double *block = berg__sinkhorn_scratch_get(sk, fn);
    if (!block)
        return berg_last_status();
    pair_work w = pair_layout(sk, block);
    berg__progress pr;
    berg__progress_start(&pr, sk->progress, sk->progress_data);
    w.pr = &pr;
    berg__sinkhorn_normalize(&sk->space, p, mp, w.pn);
    berg__sinkhorn_normalize(&sk->space, q, mq, w.qn);
    berg__sinkhorn_run run = {NAN, 0};
    double rounding;
    berg_status st = solve_between(sk, fn, w.pn, w.qn, &w, &c, &rounding, &run);
    if (st == BERG_OK && (f || g))
        st = check_potentials(sk, fn, &w);
    if (st == BERG_OK)
        st = berg__progress_report(&pr, 1, 1.0, run.iters, run.err, fn);
    if (st != BERG_ERR_CANCELLED) /* a stopped call leaves the report as it was */
        berg__sinkhorn_record(sk, run);
    if (st == BERG_OK) {
        size_t N = sk->space.size;
        if (f)
            for (size_t i = 0; i < N; i++)
                f[i] = sk->eps * w.F[i];
        if (g)
            for (size_t i = 0; i < N; i++)
                g[i] = sk->eps * w.G[i];
        if (cost)
            *cost = c;
    }
    berg__sinkhorn_scratch_put(sk, block);
    return st;
}

berg_status berg_sinkhorn_solve(const berg_sinkhorn *sk, const double *p, const double *q,
                                double *cost, double *f, double *g)
{
    static const char fn[] = "berg_sinkhorn_solve";
    return solve_pair(sk, fn, p, q, cost, 0, f, g);
}

berg_status berg_sinkhorn_cost(const berg_sinkhorn *sk, const double *p, const double *q,
                               double *cost)
{
    static const char fn[] = "berg_sinkhorn_cost";
    return solve_pair(sk, fn, p, q, cost, 1, NULL, NULL);
}

/* the three solves of a divergence (one when p and q are the same array);
 * *run gathers the largest error and the total iterations */
static berg_status divergence_solves(const berg_sinkhorn *sk, const char *fn, int same,
                                     const pair_work *w, double *div, berg__sinkhorn_run *run)
{
    double cpq, cpp, cqq, rounding[3] = {0.0, 0.0, 0.0};
    berg__sinkhorn_run one = {NAN, 0};
    const double *pn = w->pn, *qn = w->qn;
    const double *first[3] = {pn, pn, qn}, *second[3] = {qn, pn, qn};
    double *costs[3] = {&cpq, &cpp, &cqq};
    size_t start = same ? 1 : 0, stop = same ? 2 : 3;
    run->err = NAN;
    run->iters = 0;
    for (size_t k = start; k < stop; k++) {
        pair_work wk = *w;
        wk.span = 1.0 / (double)(stop - start);
        wk.base = (double)(k - start) * wk.span;
        wk.it0 = run->iters;
        berg_status st =
            solve_between(sk, fn, first[k], second[k], &wk, costs[k], &rounding[k], &one);
        run->err = k == start ? one.err : fmax(run->err, one.err);
        run->iters += one.iters;
        if (st != BERG_OK)
            return st;
    }
    if (same) {
        *div = 0.0;
        return BERG_OK;
    }
    /* S = OT(p,q) - (OT(p,p) + OT(q,q))/2 >= 0 (the Gibbs kernel is positive
     * definite), of the size of the squared diameter max c. Its error is the
     * rounding of the three dual values plus their marginal errors (a
     * potential's oscillation is at most max c). When that error exceeds
     * max c, the difference says nothing about S (eps = 1e103 on a box of
     * squared diameter 16 gave -2.5e89 with OK): refuse. A negative value
     * within the error is the rounding of a zero divergence. */
    double d = cpq - 0.5 * (cpp + cqq);
    double err = rounding[0] + 0.5 * (rounding[1] + rounding[2]) +
                 2.0 * sk->cost_bound * run->err;
    BERG_REQUIRE(err <= sk->cost_bound, BERG_ERR_DOMAIN,
                 "%s: eps = %g is too large for this box: the divergence (at most the squared "
                 "diameter %g) is lost in the error %g of the three entropic costs; use a "
                 "smaller eps",
                 fn, sk->eps, sk->cost_bound, err);
    BERG_REQUIRE(d >= -err, BERG_ERR_NO_CONVERGENCE,
                 "%s: the divergence came out %g, below its error bound -%g: the solves did not "
                 "converge far enough (lower the tolerance)",
                 fn, d, err);
    *div = fmax(d, 0.0);
    return BERG_OK;
}

berg_status berg_sinkhorn_divergence(const berg_sinkhorn *sk, const double *p, const double *q,
                                     double *div)
{
    static const char fn[] = "berg_sinkhorn_divergence";
    double mp, mq, d = 0.0;
    BERG_TRY(check_pair(sk, fn, p, q, div, "div", &mp, &mq));
    double *block = berg__sinkhorn_scratch_get(sk, fn);
    if (!block)
        return berg_last_status();
    pair_work w = pair_layout(sk, block);
    berg__progress pr;
    berg__progress_start(&pr, sk->progress, sk->progress_data);
    w.pr = &pr;
    berg__sinkhorn_normalize(&sk->space, p, mp, w.pn);
    berg__sinkhorn_normalize(&sk->space, q, mq, w.qn);
    berg__sinkhorn_run run = {NAN, 0};
    berg_status st = divergence_solves(sk, fn, p == q, &w, &d, &run);
    if (st == BERG_OK)
        st = berg__progress_report(&pr, 1, 1.0, run.iters, run.err, fn);
    if (st != BERG_ERR_CANCELLED) /* a stopped call leaves the report as it was */
        berg__sinkhorn_record(sk, run);
    berg__sinkhorn_scratch_put(sk, block);
    if (st == BERG_OK)
        *div = d;
    return st;
}
