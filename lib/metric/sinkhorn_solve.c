/*
 * Entropic transport between two measures: berg_sinkhorn_cost, _solve and
 * _divergence, by the FFT scaling iteration, the stabilized scaling
 * iteration (exact separable kernel, sinkhorn_dense.c) or the log-domain
 * iteration (sinkhorn_internal.h has the mathematics); the default mode
 * picks one per call (berg__sinkhorn_pick). The handle is const:
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
 * marginal is within tolerance, from G = 0 or (warm) the G of w. On return
 * F, G hold f/eps, g/eps. */
static berg_status solve_log(const berg_sinkhorn *sk, const char *fn, const double *pn,
                             const double *qn, const pair_work *w, int warm,
                             berg__sinkhorn_run *out)
{
    size_t N = sk->space.size;
    double *F = w->F, *G = w->G, *t1 = w->t1, *t2 = w->t2, err0 = NAN;
    berg__sinkhorn_run run = {INFINITY, 0, BERG__SK_LOG};
    for (size_t i = 0; i < N && !warm; i++)
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
 * weight = 0 keeps the product 0; *gap the L1 violation of the weight's
 * marginal that the floor leaves (sum weight |out heat(..) - 1| w).
 * BERG_OK, or the under/overflow. */
static berg_status scaling_step(const berg_sinkhorn *sk, const char *fn, const double *weight,
                                const double *scal, double *tmp, double *kout, double *out,
                                double *gap)
{
    size_t N = sk->space.size;
    for (size_t j = 0; j < N; j++)
        tmp[j] = weight[j] > 0.0 ? weight[j] * scal[j] : 0.0;
    double fl, e = 0.0;
    BERG_TRY(berg__sinkhorn_heat(sk, fn, tmp, kout, &fl));
    for (size_t i = 0; i < N; i++) {
        if (kout[i] > fl) {
            out[i] = 1.0 / kout[i];
        } else {
            out[i] = 1.0 / fl;
            if (weight[i] > 0.0)
                e += weight[i] * (1.0 - kout[i] / fl);
        }
    }
    *gap = e * sk->space.weight;
    return BERG_OK;
}

/* Scaling mode: u = 1 / heat(q v), v = 1 / heat(p u) (F holds u, G holds v)
 * until both marginals are within tolerance (the first, p u heat(q v); the
 * second is exact unless the kernel floor binds, and its gap is measured);
 * then F, G become f/eps, g/eps. */
static berg_status solve_scaling(const berg_sinkhorn *sk, const char *fn, const double *pn,
                                 const double *qn, const pair_work *w, berg__sinkhorn_run *run)
{
    const berg_space *s = &sk->space;
    size_t N = s->size;
    double *F = w->F, *G = w->G, *t1 = w->t1, *t2 = w->t2, err0 = NAN, gap = 0.0;
    run->err = INFINITY;
    run->mode = BERG__SK_FFT;
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
            run->err = fmax(e * s->weight, gap);
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
        BERG_TRY(scaling_step(sk, fn, pn, F, t2, t1, G, &gap));
    }
    /* potentials over eps: log u - (1/2) log C, C = (pi eps)^{d/2} */
    double half_logC = 0.25 * (double)s->ndim * log(M_PI * sk->eps);
    for (size_t i = 0; i < N; i++) {
        F[i] = F[i] > 0.0 ? log(F[i]) - half_logC : HUGE_VAL;
        G[i] = G[i] > 0.0 ? log(G[i]) - half_logC : HUGE_VAL;
    }
    return BERG_OK;
}

/* ---- the stabilized mode ---------------------------------------------------- */

#define SCAL_ABSORB 1e100 /* scalings beyond [1/SCAL_ABSORB, SCAL_ABSORB] are absorbed */

/* the stabilized mode's scratch inside the lse region: tmp (N), log-sum-exp
 * scratch (3 N + 2 max n), the coupling, the absorption accumulators */
typedef struct stab_work {
    double *tmp, *lse, *acc;
    berg__sk_coupling c;
} stab_work;

static stab_work stab_layout(const berg_sinkhorn *sk, double *lse)
{
    size_t N = sk->space.size;
    stab_work sw;
    sw.tmp = lse;
    sw.lse = lse + N;
    sw.c = berg__sinkhorn_coupling_at(sk, lse + 4 * N + 2 * sk->max_axis);
    sw.acc = lse + 4 * N + 2 * sk->max_axis + berg__sinkhorn_coupling_words(sk);
    return sw;
}

/* out = log(weight) + X where weight > 0, -inf elsewhere */
static void log_plus(const double *weight, const double *X, double *out, size_t N)
{
    berg__sinkhorn_vlog(out, weight, N);
    for (size_t i = 0; i < N; i++)
        out[i] = weight[i] > 0.0 ? out[i] + X[i] : -INFINITY;
}

/* scal = 1 / t where weight > 0 (0 elsewhere); returns 0 when a kernel
 * output on the support is not positive and finite, 1 when all scalings
 * are within [1/SCAL_ABSORB, SCAL_ABSORB], 2 when one is not */
static int invert(const double *weight, const double *t, double *scal, size_t N)
{
    int st = 1;
    for (size_t i = 0; i < N; i++) {
        if (!(weight[i] > 0.0)) {
            scal[i] = 0.0;
            continue;
        }
        if (!(t[i] > 0.0 && t[i] < HUGE_VAL))
            return 0;
        scal[i] = 1.0 / t[i];
        if (!(scal[i] <= SCAL_ABSORB && scal[i] >= 1.0 / SCAL_ABSORB))
            st = 2;
    }
    return st;
}

/* absorb scal (on weight > 0) into P; 0 when the rest leaves the range */
static int absorb_scaling(const berg_sinkhorn *sk, double *P, const double *weight, double *scal,
                          stab_work *sw)
{
    size_t N = sk->space.size;
    berg__sinkhorn_vlog(sw->tmp, scal, N);
    return berg__sinkhorn_absorb(sk, P, sw->tmp, weight, scal, sw->acc) &&
           berg__sinkhorn_coupling_tables(sk, &sw->c);
}

/* full potential over eps on the support: P(x) + log scal(x) */
static void full_potential(const berg_sinkhorn *sk, const double *P, const double *weight,
                           const double *scal, double *out)
{
    size_t N = sk->space.size;
    berg__sinkhorn_vlog(out, scal, N);
    berg__sinkhorn_add_potentials(&sk->space, P, out);
    for (size_t i = 0; i < N; i++)
        if (!(weight[i] > 0.0))
            out[i] = 0.0;
}

#define ANNEAL_FROM 256.0 /* eps-scaling when D^2 > ANNEAL_FROM eps */
#define STAGE_TOL 1e-3     /* marginal error at which a stage ends */
#define STAGE_MAX 200      /* iterations of a stage at most */

/* the potentials of eps_k carried to eps_k / 2 (doubled): A, B doubled, the
 * scalings squared and absorbed; 0 when they leave the range */
static int halve(const berg_sinkhorn *sk, const double *pn, const double *qn, double *u, double *v,
                 stab_work *sw)
{
    size_t N = sk->space.size;
    for (size_t i = 0; i < 2 * sk->sum_axis; i++)
        sw->c.A[i] *= 2.0; /* A and B are contiguous; -inf stays */
    sw->c.scale *= 2.0;
    berg__sinkhorn_vlog(sw->tmp, u, N);
    for (size_t i = 0; i < N; i++)
        sw->tmp[i] *= 2.0;
    if (!berg__sinkhorn_absorb(sk, sw->c.A, sw->tmp, pn, u, sw->acc))
        return 0;
    berg__sinkhorn_vlog(sw->tmp, v, N);
    for (size_t i = 0; i < N; i++)
        sw->tmp[i] *= 2.0;
    return berg__sinkhorn_absorb(sk, sw->c.B, sw->tmp, qn, v, sw->acc) &&
           berg__sinkhorn_coupling_tables(sk, &sw->c);
}

/* eps-scaling before the stabilized iteration at eps: stages at eps 2^m
 * down to 2 eps with the tables of scale 2^-k LK (the image sums of eps
 * rescaled: the stages need a warm start, not the exact kernel), then the
 * potentials carried to eps. *staged counts the iterations; returns 0 with
 * (u, v, A, B, T) ready for eps, 1 when annealing does not apply (m < 1),
 * -1 when the scalings left the range. */
static int anneal(const berg_sinkhorn *sk, const double *pn, const double *qn,
                  const pair_work *w, stab_work *sw, int m, size_t *staged)
{
    size_t N = sk->space.size;
    double *u = w->F, *v = w->G, *t1 = w->t1, *t2 = w->t2, wgt = sk->space.weight;
    if (m < 1)
        return 1;
    sw->c.scale = ldexp(1.0, -m);
    if (!berg__sinkhorn_coupling_tables(sk, &sw->c))
        return -1;
    for (size_t i = 0; i < N; i++) {
        u[i] = pn[i] > 0.0 ? 1.0 : 0.0;
        v[i] = qn[i] > 0.0 ? 1.0 : 0.0;
    }
    for (int k = m; k >= 1; k--) {
        for (size_t it = 0; it < STAGE_MAX; it++) {
            for (size_t j = 0; j < N; j++)
                t2[j] = (qn[j] * wgt) * v[j];
            berg__sinkhorn_dense(sk, &sw->c, 0, t2, t1, sw->tmp);
            if (it > 0) {
                double e = 0.0;
                for (size_t i = 0; i < N; i++)
                    if (pn[i] > 0.0)
                        e += (pn[i] * wgt) * fabs(u[i] * t1[i] - 1.0);
                if (!isfinite(e))
                    return -1;
                if (e <= STAGE_TOL)
                    break;
            }
            int st = invert(pn, t1, u, N);
            if (st == 0 || (st == 2 && !absorb_scaling(sk, sw->c.A, pn, u, sw)))
                return -1;
            for (size_t i = 0; i < N; i++)
                t2[i] = (pn[i] * wgt) * u[i];
            berg__sinkhorn_dense(sk, &sw->c, 1, t2, t1, sw->tmp);
            st = invert(qn, t1, v, N);
            if (st == 0 || (st == 2 && !absorb_scaling(sk, sw->c.B, qn, v, sw)))
                return -1;
            (*staged)++;
        }
        if (!halve(sk, pn, qn, u, v, sw))
            return -1;
    }
    return 0;
}

/* Stabilized mode. Start: one log-domain iteration (G = 0) and the
 * absorption of both potentials; then u = 1 / T(q v w), v = 1 / T^t(p u w)
 * with the tables T of the absorbed potentials, absorbing again whenever a
 * scaling leaves [1e-100, 1e100]. Stops on the first marginal; the last
 * step recomputes F = -Klog(log q + G) exactly everywhere and measures the
 * second marginal of the returned (F, G), which is the error reported.
 * *lost is set when the scalings left the range (the caller may fall back
 * to the log domain). */
static berg_status solve_stab(const berg_sinkhorn *sk, const char *fn, const double *pn,
                              const double *qn, const pair_work *w, berg__sinkhorn_run *run,
                              int *lost)
{
    const berg_space *s = &sk->space;
    size_t N = s->size;
    double *u = w->F, *v = w->G, *t1 = w->t1, *t2 = w->t2, err0 = NAN, wgt = s->weight;
    stab_work sw = stab_layout(sk, w->lse);
    run->err = INFINITY;
    run->mode = BERG__SK_STAB;
    *lost = 0;
    berg__sinkhorn_coupling_reset(sk, &sw.c);
    size_t staged = 0;
    double D2 = berg__sinkhorn_extent2(sk, pn, 1, qn == pn ? NULL : qn);
    if (D2 > ANNEAL_FROM * sk->eps) {
        /* eps-scaling: stages at eps 2^m, ..., 2 eps from D^2/eps_0 in
         * (16, 32], each to a marginal error of STAGE_TOL, the potentials
         * carried over (doubled) from stage to stage */
        double ratio = D2 / (16.0 * sk->eps);
        /* the stage scales 2^-m must be normal doubles; a ratio beyond
         * (inf for a tiny eps on a wide box, where (int)floor(log2(inf)) was
         * undefined) cannot be annealed: the scalings are lost (the
         * default mode falls back on the log domain where it resolves) */
        if (!(ratio < 0x1p1022))
            goto lost;
        int m = (int)floor(log2(ratio));
        int st = anneal(sk, pn, qn, w, &sw, m, &staged);
        if (st < 0)
            goto lost;
        if (st == 0)
            goto iterate;
    }
    /* the first log-domain iteration from G = 0 */
    for (size_t i = 0; i < N; i++)
        t2[i] = 0.0;
    log_plus(qn, t2, t1, N);
    berg__sinkhorn_logsumexp(sk, t1, sw.lse);
    for (size_t i = 0; i < N; i++)
        u[i] = -t1[i];
    log_plus(pn, u, t2, N);
    berg__sinkhorn_logsumexp(sk, t2, sw.lse);
    for (size_t i = 0; i < N; i++)
        v[i] = -t2[i];
    /* e^F = 1 / sum_j K_ij w q_j e^{G_j}: F is already the log of the
     * scaling u of the masses q w */
    if (!berg__sinkhorn_absorb(sk, sw.c.A, u, pn, u, sw.acc) ||
        !berg__sinkhorn_absorb(sk, sw.c.B, v, qn, v, sw.acc) ||
        !berg__sinkhorn_coupling_tables(sk, &sw.c))
        goto lost;
iterate:
    for (run->iters = 0;; run->iters++) {
        for (size_t j = 0; j < N; j++)
            t2[j] = (qn[j] * wgt) * v[j];
        berg__sinkhorn_dense(sk, &sw.c, 0, t2, t1, sw.tmp);
        if (run->iters > 0) {
            double e = 0.0;
            for (size_t i = 0; i < N; i++)
                if (pn[i] > 0.0)
                    e += (pn[i] * wgt) * fabs(u[i] * t1[i] - 1.0);
            run->err = e;
            if (!isfinite(e))
                goto lost;
            if ((sk->tol > 0.0 && run->err <= sk->tol) || run->iters >= sk->max_iter)
                break;
            if (run->iters == 1)
                err0 = run->err;
        }
        BERG_TRY(progress_at(sk, fn, w, *run, err0));
        int st = invert(pn, t1, u, N);
        if (st == 0 || (st == 2 && !absorb_scaling(sk, sw.c.A, pn, u, &sw)))
            goto lost;
        for (size_t i = 0; i < N; i++)
            t2[i] = (pn[i] * wgt) * u[i];
        berg__sinkhorn_dense(sk, &sw.c, 1, t2, t1, sw.tmp);
        st = invert(qn, t1, v, N);
        if (st == 0 || (st == 2 && !absorb_scaling(sk, sw.c.B, qn, v, &sw)))
            goto lost;
    }
    run->iters += staged;
    /* G on the support of q; F = -Klog(log q + G) everywhere (the first
     * marginal exact); the second marginal's gap sum q w |e^{G + Klog(log p
     * + F)} - 1| is the error of what is returned; G off the support of q
     * is -Klog(log p + F) */
    full_potential(sk, sw.c.B, qn, v, w->G);
    double *F = w->F, *G = w->G;
    log_plus(qn, G, t1, N);
    berg__sinkhorn_logsumexp(sk, t1, sw.lse);
    for (size_t i = 0; i < N; i++)
        F[i] = -t1[i];
    log_plus(pn, F, t2, N);
    berg__sinkhorn_logsumexp(sk, t2, sw.lse);
    for (size_t i = 0; i < N; i++)
        t1[i] = G[i] + t2[i];
    berg__sinkhorn_vexp(t1, t1, N);
    double e = 0.0;
    for (size_t i = 0; i < N; i++) {
        if (qn[i] > 0.0)
            e += (qn[i] * wgt) * fabs(t1[i] - 1.0);
        else
            G[i] = -t2[i];
    }
    /* the loop converged but the exact kernel disagrees: the tables lost
     * precision (a non-separable potential); the caller may fall back */
    if (sk->tol > 0.0 && run->err <= sk->tol && !(e <= sk->tol))
        *lost = 2;
    run->err = e;
    if (!isfinite(e))
        goto lost;
    return BERG_OK;
lost:
    *lost = 1;
    return berg__error(BERG_ERR_NO_CONVERGENCE,
                       "%s: the stabilized scalings left the double range after %zu iterations "
                       "(eps = %g: the potentials' non-separable part exceeds ~270 eps); create "
                       "the solver with BERG_SINKHORN_LOG_DOMAIN",
                       fn, run->iters, sk->eps);
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
    int mode = berg__sinkhorn_pick(sk, pn, 1, qn == pn ? NULL : qn), lost = 0;
    berg_status st = BERG_OK;
    if (mode == BERG__SK_FFT)
        st = solve_scaling(sk, fn, pn, qn, w, run);
    else if (mode == BERG__SK_STAB)
        st = solve_stab(sk, fn, pn, qn, w, run, &lost);
    /* the default mode falls back on the log domain when the stabilized
     * scalings leave the range (from the start) or when the exact check of
     * its result fails (from its potentials) */
    int warm = lost == 2;
    if (mode == BERG__SK_LOG ||
        (sk->mode == BERG__SK_AUTO && lost && berg__sinkhorn_check_resolution(sk, fn) == BERG_OK)) {
        BERG_TRY(berg__sinkhorn_check_resolution(sk, fn));
        size_t before = run->iters;
        st = solve_log(sk, fn, pn, qn, w, warm, run);
        run->iters += mode == BERG__SK_STAB ? before : 0;
    }
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
    berg__sinkhorn_run run = {NAN, 0, BERG__SK_FFT};
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
    berg__sinkhorn_run one = {NAN, 0, BERG__SK_FFT};
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
        run->mode = k == start ? one.mode : (one.mode > run->mode ? one.mode : run->mode);
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
    berg__sinkhorn_run run = {NAN, 0, BERG__SK_FFT};
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
