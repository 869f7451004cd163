/*
 * Entropic Wasserstein barycenters: convolutional iterative Bregman
 * projections (Benamou et al. 2015, Solomon et al. 2015) in the three
 * iterations of berg_sinkhorn. For measures p_r with weights lambda_r, each
 * iteration
 *   u_r = p_r / K v_r,   b = prod_r (v_r K^t u_r)^{lambda_r},   v_r = b / K^t u_r
 * (prod v_r^{lambda_r} = 1 is preserved, so b = prod (K^t u_r)^{lambda_r} as
 * in POT); the log domain iterates on log u_r, log v_r with Klog, the
 * stabilized mode on the scalings left after absorbing the separable part
 * of the potentials (sinkhorn_dense.c).
 *
 * Stopping: the coupling r is diag(u_r) K diag(v_r); after the update of v_r
 * its second marginal is the barycenter b itself (up to the FFT kernel's
 * floor, whose gap is measured), and its first marginal u_r K v_r must be
 * p_r. The error is the largest L1 violation over the k couplings of both
 * marginals, measured for the barycenter returned (the K v_r of the next
 * iteration measures the first marginals of the current state before u_r
 * moves).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fisher/blas_threads.h"
#include "metric/sinkhorn_internal.h"

/* The state of one barycenter: P normalized measures, U, V scalings (or
 * log-scalings), KU the kernel applied to U (k N each); b the log of the
 * barycenter, bold the barycenter (N each). */
typedef struct bary {
    const berg_sinkhorn *sk;
    const char *fn;
    size_t k, N;
    const double *weights;
    double wsum;
    int mode;
    double unit; /* the barycenter's unit: w (FFT, log: densities), 1 (stabilized: masses) */
    double *P, *U, *V, *KU, *b, *bold;
    double *fl;    /* k kernel floors (FFT) */
    double *cpl;   /* k couplings (stabilized) */
    double *acc;   /* absorption sums (stabilized): 2 sum_axis per measure */
    double *tmp;   /* N */
    double *lse;   /* log-sum-exp scratch (log domain, stabilized start) */
    double *tmpk;  /* k N: the stabilized products' scratch of each measure */
    double *mres;  /* 2 k: each measure's first-marginal error and range flag */
    size_t *span;  /* 2 k: each measure's cells [span[2 r], span[2 r + 1]) from its
                    * first to its last positive one */
    size_t nthreads; /* the call's threads */
    double *lsek;    /* lse_slots log-sum-exp scratch blocks (log domain by measure) */
    size_t lse_slots;
    double gap;    /* the second marginals' floor gap of the current state (FFT) */
    int absorb_v;  /* stabilized: some v_r left the range */
    berg__progress *pr;
} bary;

/* k, the weights and out; the weights' sum into *wsum, k N into *kN */
static berg_status check_inputs(const berg_sinkhorn *sk, const char *fn, size_t k,
                                const double *densities, const double *weights, const double *out,
                                double *wsum, size_t *kN)
{
    BERG_TRY(berg__check_ptr(sk, fn, "sk"));
    BERG_REQUIRE(k >= 1, BERG_ERR_SIZE, "%s: k = 0; at least one measure is needed", fn);
    BERG_TRY(berg__mul_size(k, sk->space.size, kN, fn, "k * size"));
    BERG_TRY(berg__check_ptr(densities, fn, "densities"));
    BERG_TRY(berg__check_nonneg(weights, k, fn, "weights"));
    double sum = 0.0;
    for (size_t r = 0; r < k; r++)
        sum += weights[r];
    BERG_REQUIRE(sum > 0.0 && isfinite(sum), BERG_ERR_MASS,
                 "%s: weights sum to %g (must be positive and finite)", fn, sum);
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    *wsum = sum;
    return BERG_OK;
}

/* each measure checked (named densities[r]) and normalized into P */
static berg_status load_measures(bary *B, const double *densities)
{
    for (size_t r = 0; r < B->k; r++) {
        char name[48];
        double mass;
        snprintf(name, sizeof name, "densities[%zu]", r);
        BERG_TRY(berg__check_density(densities + r * B->N, B->N, B->fn, name, &mass));
        const double *Pr = B->P + r * B->N;
        berg__sinkhorn_normalize(&B->sk->space, densities + r * B->N, mass, B->P + r * B->N);
        size_t lo = 0, hi = B->N;
        while (lo < hi && !(Pr[lo] > 0.0))
            lo++;
        while (hi > lo && !(Pr[hi - 1] > 0.0))
            hi--;
        B->span[2 * r] = lo;
        B->span[2 * r + 1] = hi;
    }
    return BERG_OK;
}

static berg__sk_coupling coupling(const bary *B, size_t r)
{
    return berg__sinkhorn_coupling_at(B->sk, B->cpl + r * berg__sinkhorn_coupling_words(B->sk));
}

/* the absorption sums of measure r */
static double *acc_of(const bary *B, size_t r)
{
    return B->acc + r * 2 * B->sk->sum_axis;
}

/* ---- pointwise loops (threaded, fixed ranges) ------------------------------ */

/* the first marginal of coupling r: e_r = sum |u KV - p| in the unit, and
 * the update of u from KV (KV the kernel applied to v_r) */
typedef struct first_job {
    const bary *B;
    const double *Pr, *KV;
    double *Ur;
    double fl;                /* FFT floor */
    int measure;              /* accumulate the violation */
    int update;               /* update u_r */
    double *t;                /* log domain: N of scratch */
    double part[BERG__SK_RANGES];
    int range_bad[BERG__SK_RANGES]; /* stabilized: 1 out of range, 2 lost */
} first_job;

static void first_range(void *ctx, size_t begin, size_t end, size_t range)
{
    first_job *j = ctx;
    const bary *B = j->B;
    const double *P = j->Pr, *KV = j->KV;
    double *U = j->Ur, e = 0.0, w = B->sk->space.weight;
    int bad = 0;
    if (B->mode == BERG__SK_LOG) {
        double *t = j->t;
        if (j->measure) {
            for (size_t i = begin; i < end; i++)
                t[i] = U[i] + KV[i];
            berg__sinkhorn_vexp(t + begin, t + begin, end - begin);
            for (size_t i = begin; i < end; i++)
                e += fabs(t[i] - P[i]);
            e *= w;
        }
        if (j->update) {
            berg__sinkhorn_vlog(t + begin, P + begin, end - begin);
            for (size_t i = begin; i < end; i++)
                U[i] = P[i] > 0.0 ? t[i] - KV[i] : -INFINITY;
        }
    } else if (B->mode == BERG__SK_FFT) {
        if (j->measure) {
            for (size_t i = begin; i < end; i++)
                e += fabs(U[i] * KV[i] - P[i]);
            e *= w;
        }
        double fl = j->fl;
        if (j->update)
            for (size_t i = begin; i < end; i++)
                U[i] = P[i] > 0.0 ? P[i] / (KV[i] > fl ? KV[i] : fl) : 0.0;
    } else {
        if (j->measure)
            for (size_t i = begin; i < end; i++)
                e += fabs(U[i] * KV[i] - P[i] * w);
        for (size_t i = begin; i < end && j->update; i++) {
            if (!(P[i] > 0.0)) {
                U[i] = 0.0;
                continue;
            }
            if (!(KV[i] > 0.0 && KV[i] < HUGE_VAL)) {
                bad = 2;
                U[i] = 1.0;
                continue;
            }
            U[i] = (P[i] * w) / KV[i];
            if (!(U[i] <= 1e100 && U[i] >= 1e-100) && bad == 0)
                bad = 1;
        }
    }
    j->part[range] = e;
    j->range_bad[range] = bad;
}

/* the barycenter from the second marginals, and v_r = b / K^t u_r */
typedef struct mean_job {
    bary *B;
    double part[BERG__SK_RANGES];  /* FFT: the floor gap of the second marginals */
    int range_bad[BERG__SK_RANGES];
} mean_job;

#define CHUNK 256

static void mean_range(void *ctx, size_t begin, size_t end, size_t range)
{
    mean_job *j = ctx;
    bary *B = j->B;
    size_t N = B->N;
    int mode = B->mode, bad = 0;
    double gap = 0.0, x[CHUNK], acc[CHUNK];
    for (size_t c0 = begin; c0 < end; c0 += CHUNK) {
        size_t m = end - c0 < CHUNK ? end - c0 : CHUNK;
        for (size_t i = 0; i < m; i++)
            acc[i] = 0.0;
        for (size_t r = 0; r < B->k; r++) {
            double lr = B->weights[r] / B->wsum;
            const double *Vr = B->V + r * N + c0, *KUr = B->KU + r * N + c0;
            if (lr == 0.0)
                continue;
            if (mode == BERG__SK_LOG) {
                for (size_t i = 0; i < m; i++)
                    acc[i] += lr * (Vr[i] + KUr[i]);
                continue;
            }
            double fl = mode == BERG__SK_FFT ? B->fl[r] : 0.0;
            for (size_t i = 0; i < m; i++) {
                double ku = KUr[i] > fl ? KUr[i] : fl;
                x[i] = Vr[i] * ku;
                if (!(x[i] > 0.0 && x[i] < HUGE_VAL))
                    bad = 2;
            }
            berg__sinkhorn_vlog(x, x, m);
            for (size_t i = 0; i < m; i++)
                acc[i] += lr * x[i];
        }
        double *b = B->b + c0, *bold = B->bold + c0;
        for (size_t i = 0; i < m; i++)
            b[i] = acc[i];
        berg__sinkhorn_vexp(bold, b, m);
        for (size_t r = 0; r < B->k; r++) {
            double *Vr = B->V + r * N + c0;
            const double *KUr = B->KU + r * N + c0;
            if (mode == BERG__SK_LOG) {
                for (size_t i = 0; i < m; i++)
                    Vr[i] = b[i] - KUr[i];
            } else if (mode == BERG__SK_FFT) {
                double fl = B->fl[r];
                for (size_t i = 0; i < m; i++) {
                    if (KUr[i] > fl) {
                        Vr[i] = bold[i] / KUr[i];
                    } else {
                        Vr[i] = bold[i] / fl;
                        gap += bold[i] * (1.0 - KUr[i] / fl);
                    }
                }
            } else {
                for (size_t i = 0; i < m; i++) {
                    Vr[i] = bold[i] > 0.0 ? bold[i] / KUr[i] : 0.0;
                    if (bold[i] > 0.0 && !(Vr[i] <= 1e100 && Vr[i] >= 1e-100) && bad == 0)
                        bad = 1;
                }
            }
        }
    }
    j->part[range] = gap;
    j->range_bad[range] = bad;
}

/* ---- kernels of the three modes -------------------------------------------- */

/* The log-sum-exp scratch of measure r: with measures side by side on T
 * threads, worker w runs the ranges (measures) w, w + T, ... in turn
 * (berg__parallel_ranges), so slot r mod T is its own; else the handle's */
static double *lse_of(const bary *B, size_t r)
{
    return B->lse_slots ? B->lsek + (r % B->lse_slots) * B->sk->lse_words : B->lse;
}

/* N of scratch of measure r (tables: one per measure) */
static double *tmp_of(const bary *B, size_t r)
{
    return B->tmpk ? B->tmpk + r * B->N : B->tmp;
}

/* The stabilized product of measure r in two halves of its output rows
 * (first axis), split where the output box is halved: the halves are the
 * units threads share (two measures of different supports then balance),
 * and one thread computes them in turn the same way. */
static void stab_half(bary *B, size_t r, int transpose, const double *in, double *out, int h)
{
    berg__sk_coupling c = coupling(B, r);
    size_t mid = berg__sinkhorn_dense_mid(B->sk, &c, transpose), n0 = B->sk->space.n[0];
    berg__sinkhorn_dense_rows(B->sk, &c, transpose, in, out, tmp_of(B, r), h ? mid : 0,
                              h ? n0 : mid);
}

/* out = K in for measure r (transpose: K^t); FFT: *fl its floor */
static berg_status kernel(bary *B, size_t r, int transpose, const double *in, double *out,
                          double *fl)
{
    if (B->mode == BERG__SK_FFT)
        return berg__sinkhorn_heat(B->sk, B->fn, in, out, fl);
    if (B->mode == BERG__SK_LOG) {
        memcpy(out, in, B->N * sizeof(double));
        berg__sinkhorn_logsumexp(B->sk, out, lse_of(B, r));
        return BERG_OK;
    }
    berg__sk_coupling c = coupling(B, r);
    berg__sinkhorn_dense(B->sk, &c, transpose, in, out, tmp_of(B, r));
    return BERG_OK;
}

/* what a unit of a half_job does */
enum { HJ_FIRST, HJ_KERNEL_T, HJ_EXACT, HJ_STAB_HALF, HJ_FIRST_ONLY, HJ_START };

typedef struct half_job {
    struct bary *B;
    int what, measure, update;
    int transpose; /* HJ_STAB_HALF: the product's direction */
    int whole;     /* HJ_STAB_HALF: a unit a measure, not a half (by_measure_run) */
} half_job;
static void half_range(void *ctx, size_t begin, size_t end, size_t range);
static void exact_measure(bary *B, size_t r);
static int start_measure(bary *B, size_t r);

/* The stabilized mode runs the k measures' products and first marginals
 * side by side on the call's threads (each measure's own scratch; each
 * measure's pointwise ranges in its thread, the same ranges as on one
 * thread: the same bits on any count). The FFT mode keeps the measures in
 * turn, its heat kernel and loops threaded within (its heat applies
 * would share the FFT threads); the log domain shares one scratch. */
static int by_measure_in(const bary *B, int mode)
{
    return (mode == BERG__SK_STAB || (mode == BERG__SK_LOG && B->lse_slots > 0)) &&
           B->k >= 2 && B->nthreads >= 2;
}

static int by_measure(const bary *B)
{
    return by_measure_in(B, B->mode);
}

/* the threads of measures side by side: at most SLOTS_MAX (the log domain's
 * scratch slots) */
#define SLOTS_MAX 8
static size_t lse_threads(const bary *B)
{
    size_t t = B->nthreads < B->k ? B->nthreads : B->k;
    return t < SLOTS_MAX ? t : SLOTS_MAX;
}

/* The stabilized products side by side: a measure's whole product a
 * unit, or its two halves (stab_half) when that deals the work more
 * evenly. Halves balance measures of different supports, but each packs
 * the product's shared operand anew (berg__sinkhorn_dense_cost): with the
 * input box much larger than the output's (the first marginal's product,
 * from the barycenter's box to a small measure's), two halves took 1.27
 * times a whole product's time. Units go to the threads round robin
 * (berg__parallel_ranges); whole products are taken when their largest
 * load is the smaller. The two agree to rounding: OpenBLAS may block a
 * half's product differently from the whole one's. */
static int stab_whole(const bary *B, int transpose, size_t nthreads)
{
    double whole[SLOTS_MAX] = {0}, halves[SLOTS_MAX] = {0}, mw = 0.0, mh = 0.0;
    size_t n0 = B->sk->space.n[0];
    for (size_t r = 0; r < B->k; r++) {
        berg__sk_coupling c = coupling(B, r);
        size_t mid = berg__sinkhorn_dense_mid(B->sk, &c, transpose);
        whole[r % nthreads] += berg__sinkhorn_dense_cost(B->sk, &c, transpose, 0, n0);
        halves[2 * r % nthreads] += berg__sinkhorn_dense_cost(B->sk, &c, transpose, 0, mid);
        halves[(2 * r + 1) % nthreads] += berg__sinkhorn_dense_cost(B->sk, &c, transpose, mid, n0);
    }
    for (size_t t = 0; t < nthreads; t++) {
        mw = fmax(mw, whole[t]);
        mh = fmax(mh, halves[t]);
    }
    return mw < mh;
}

/* the measures' units side by side, OpenBLAS held at one thread while
 * libberg's threads call dgemm (fisher/blas_threads.h); with an OpenMP
 * OpenBLAS (no hold) they run in turn, OpenBLAS threading each product */
static void by_measure_run(bary *B, half_job *h)
{
    size_t units = B->k, nthreads = lse_threads(B);
    if (h->what == HJ_STAB_HALF) {
        h->whole = stab_whole(B, h->transpose, nthreads);
        units = h->whole ? B->k : 2 * B->k;
    }
    if (berg__blas_hold()) {
        berg__parallel_ranges(units, units, nthreads, half_range, h);
        berg__blas_release();
    } else {
        half_range(h, 0, units, 0);
    }
}

static berg_status lost(const bary *B, size_t iters)
{
    return berg__error(BERG_ERR_NO_CONVERGENCE,
                       "%s: the stabilized scalings left the double range after %zu iterations "
                       "(eps = %g: the potentials' non-separable part exceeds ~270 eps); create "
                       "the solver with BERG_SINKHORN_LOG_DOMAIN",
                       B->fn, iters, B->sk->eps);
}

/* absorb the scalings S_r (U or V, on the cells where weight > 0, or all
 * when weight is NULL) into the potentials P (A or B) of coupling r; 0
 * when the rest leaves the range */
static int absorb(bary *B, size_t r, int v_side, const double *weight)
{
    size_t N = B->N;
    berg__sk_coupling c = coupling(B, r);
    double *S = (v_side ? B->V : B->U) + r * N;
    berg__sinkhorn_vlog(B->tmp, S, N);
    return berg__sinkhorn_absorb(B->sk, v_side ? c.B : c.A, B->tmp, weight, S, acc_of(B, r)) &&
           berg__sinkhorn_coupling_tables(B->sk, &c);
}

/* the first half of an iteration for measure r (kernel and pointwise work,
 * the latter on nthreads): its violation into mres[r], its range flag into
 * mres[k + r] */
static berg_status first_measure(bary *B, size_t r, int measure, int update, size_t nthreads,
                                 int with_kernel)
{
    size_t N = B->N, k = B->k;
    double fl = 0.0;
    double *KUr = B->KU + r * N, *Ur = B->U + r * N, *Vr = B->V + r * N;
    if (with_kernel)
        BERG_TRY(kernel(B, r, 0, Vr, KUr, &fl));
    /* stabilized: only the cells from the measure's first positive one to
     * its last (elsewhere p_r = u_r = 0 from the start: no violation, no
     * update) */
    size_t lo = 0, n = N;
    if (B->mode == BERG__SK_STAB) {
        lo = B->span[2 * r];
        n = B->span[2 * r + 1] - lo;
    }
    first_job j = {B, B->P + r * N + lo, KUr + lo, Ur + lo, fl, measure, update,
                   tmp_of(B, r) + lo, {0}, {0}};
    size_t nr = berg__sinkhorn_ranges_on(nthreads, n, first_range, &j);
    double er = 0.0;
    int bad = 0;
    for (size_t q = 0; q < nr; q++) {
        er += j.part[q];
        bad = j.range_bad[q] > bad ? j.range_bad[q] : bad;
    }
    B->mres[r] = er;
    B->mres[k + r] = (double)bad;
    return BERG_OK;
}


/* measures [begin, end) of a stabilized half (kernels cannot fail there) */
static void half_range(void *ctx, size_t begin, size_t end, size_t range)
{
    (void)range;
    half_job *h = ctx;
    bary *B = h->B;
    for (size_t u = begin; u < end; u++) {
        double fl = 0.0;
        size_t r = u / 2, N = B->N;
        switch (h->what) {
        case HJ_EXACT:
            exact_measure(B, u);
            break;
        case HJ_START: /* the flag read by stab_start */
            B->mres[u] = start_measure(B, u) ? 0.0 : 1.0;
            break;
        case HJ_KERNEL_T:
            kernel(B, u, 1, B->U + u * N, B->KU + u * N, &fl);
            break;
        case HJ_STAB_HALF: /* unit u: measure u whole, or half u % 2 of measure u / 2 */
            if (h->whole) {
                kernel(B, u, h->transpose, (h->transpose ? B->U : B->V) + u * N, B->KU + u * N,
                       &fl);
                break;
            }
            stab_half(B, r, h->transpose, (h->transpose ? B->U : B->V) + r * N, B->KU + r * N,
                      (int)(u % 2));
            break;
        case HJ_FIRST_ONLY:
            first_measure(B, u, h->measure, h->update, 1, 0);
            break;
        default:
            first_measure(B, u, h->measure, h->update, 1, 1);
        }
    }
}

/* the first half of an iteration: K v_r (into KU_r, overwritten in the
 * second half), with measure set the largest first-marginal violation of
 * the current state into *err, with update set u_r = p_r / K v_r */
static berg_status first_half(bary *B, size_t iters, int measure, int update, double *err)
{
    size_t k = B->k;
    double e = 0.0;
    if (by_measure(B)) {
        if (B->mode == BERG__SK_STAB) {
            /* the products (whole or by halves), then each measure's
             * pointwise work */
            half_job p = {B, HJ_STAB_HALF, 0, 0, 0, 0};
            by_measure_run(B, &p);
            half_job h = {B, HJ_FIRST_ONLY, measure, update, 0, 0};
            by_measure_run(B, &h);
        } else {
            half_job h = {B, HJ_FIRST, measure, update, 0, 0};
            by_measure_run(B, &h);
        }
    }
    for (size_t r = 0; r < k; r++) {
        if (!by_measure(B))
            BERG_TRY(first_measure(B, r, measure, update, B->nthreads, 1));
        e = fmax(e, B->mres[r]);
        int bad = (int)B->mres[k + r];
        if (bad == 2 || (bad == 1 && !absorb(B, r, 0, B->P + r * B->N)))
            return lost(B, iters);
    }
    *err = fmax(e, B->gap);
    return BERG_OK;
}

/* one full iteration from the current V; with measure set, *err the
 * largest violation of the current state and 1 returned in *done when it
 * is within tolerance (the barycenter then stays the current one) */
static berg_status step(bary *B, size_t iters, int measure, double *err, int *done)
{
    size_t N = B->N, k = B->k;
    *done = 0;
    /* the violation of the current state and u_r = p_r / K v_r in one
     * pass: when the state is within tolerance the barycenter returned is
     * the current b, which the new u_r do not change */
    BERG_TRY(first_half(B, iters, measure, 1, err));
    if (measure) {
        if (!isfinite(*err))
            return B->mode == BERG__SK_STAB ? lost(B, iters)
                                             : berg__sinkhorn_lost(B->sk, B->fn, B->bold, N);
        if (B->sk->tol > 0.0 && *err <= B->sk->tol) {
            *done = 1;
            return BERG_OK;
        }
    }
    if (by_measure(B)) {
        half_job h = {B, B->mode == BERG__SK_STAB ? HJ_STAB_HALF : HJ_KERNEL_T, 0, 0, 1, 0};
        by_measure_run(B, &h);
    } else {
        for (size_t r = 0; r < k; r++) {
            double fl = 0.0;
            BERG_TRY(kernel(B, r, 1, B->U + r * N, B->KU + r * N, &fl));
            if (B->mode == BERG__SK_FFT)
                B->fl[r] = fl;
        }
    }
    mean_job m = {B, {0}, {0}};
    size_t nr = berg__sinkhorn_ranges(B->sk, N, mean_range, &m);
    double gap = 0.0;
    int bad = 0;
    for (size_t q = 0; q < nr; q++) {
        gap += m.part[q];
        bad = m.range_bad[q] > bad ? m.range_bad[q] : bad;
    }
    B->gap = gap * B->unit;
    if (bad == 2) {
        if (B->mode == BERG__SK_STAB)
            return lost(B, iters);
        return berg__sinkhorn_lost(B->sk, B->fn, B->bold, N);
    }
    if (bad == 1)
        for (size_t r = 0; r < k; r++)
            if (!absorb(B, r, 1, B->bold))
                return lost(B, iters);
    return BERG_OK;
}

/* Stabilized start: one log-domain iteration from v = 1, then both
 * potentials of every coupling absorbed (the scalings become ~1) */
static berg_status stab_start(bary *B)
{
    size_t kN = B->k * B->N;
    int done;
    double err;
    B->mode = BERG__SK_LOG;
    for (size_t i = 0; i < kN; i++)
        B->V[i] = 0.0;
    BERG_TRY(step(B, 0, 0, &err, &done));
    B->mode = BERG__SK_STAB;
    /* the measures side by side (each its own coupling and sums) */
    if (by_measure(B)) {
        half_job h = {B, HJ_START, 0, 0, 0, 0};
        by_measure_run(B, &h);
    } else {
        for (size_t r = 0; r < B->k; r++)
            B->mres[r] = start_measure(B, r) ? 0.0 : 1.0;
    }
    for (size_t r = 0; r < B->k; r++)
        if (B->mres[r] != 0.0)
            return lost(B, 1);
    return BERG_OK;
}

/* the stabilized start of coupling r from its log-domain potentials in
 * U_r, V_r: the log domain's e^U K w e^V = p (densities, Klog includes
 * log w); the stabilized u K v = p w (masses, K without w): u = e^{U + 2
 * log w}, v = e^V, and then v K^t u = b w, the barycenter's masses. Both
 * potentials absorbed; 0 when the rest leaves the range */
static int start_measure(bary *B, size_t r)
{
    size_t N = B->N;
    double lw2 = 2.0 * log(B->sk->space.weight);
    berg__sk_coupling c = coupling(B, r);
    berg__sinkhorn_coupling_reset(B->sk, &c);
    double *Ur = B->U + r * N, *Vr = B->V + r * N;
    for (size_t i = 0; i < N; i++)
        Ur[i] += lw2;
    return berg__sinkhorn_absorb(B->sk, c.A, Ur, B->P + r * N, Ur, acc_of(B, r)) &&
           berg__sinkhorn_absorb(B->sk, c.B, Vr, NULL, Vr, acc_of(B, r)) &&
           berg__sinkhorn_coupling_tables(B->sk, &c);
}

/* the full log-potential of the scalings S (U or V of coupling r, where
 * S > 0; -inf elsewhere) into out */
static void full_log(const bary *B, size_t r, int v_side, const double *S, double *out)
{
    berg__sk_coupling c = coupling(B, r);
    berg__sinkhorn_vlog(out, S, B->N);
    berg__sinkhorn_add_potentials(&B->sk->space, v_side ? c.B : c.A, out);
    for (size_t i = 0; i < B->N; i++)
        if (!(S[i] > 0.0))
            out[i] = -INFINITY;
}

/* The stabilized result checked with the exact log-domain kernel: the L1
 * violation of both marginals of every coupling (first p_r w, second the
 * barycenter's masses) into *err. Overwrites U, V and KU. */
static void exact_measure(bary *B, size_t r)
{
    size_t N = B->N;
    double lw = log(B->sk->space.weight), e = 0.0;
    double *Ur = B->U + r * N, *Vr = B->V + r * N, *X = B->KU + r * N, *T = tmp_of(B, r);
    full_log(B, r, 0, Ur, X);
    full_log(B, r, 1, Vr, T);
    memcpy(Ur, X, N * sizeof(double));
    memcpy(Vr, T, N * sizeof(double));
    /* first: e^{U + Klog(V) - log w} against p w; second: e^{V + Klog(U)
     * - log w} against b */
    for (int side = 0; side < 2; side++) {
        const double *own = side ? Vr : Ur, *target = side ? B->bold : B->P + r * N;
        memcpy(X, side ? Ur : Vr, N * sizeof(double));
        berg__sinkhorn_logsumexp(B->sk, X, lse_of(B, r));
        for (size_t i = 0; i < N; i++)
            X[i] = own[i] + X[i] - lw;
        berg__sinkhorn_vexp(X, X, N);
        double es = 0.0, scale = side ? 1.0 : B->sk->space.weight;
        for (size_t i = 0; i < N; i++)
            es += fabs(X[i] - target[i] * scale);
        e = fmax(e, es);
    }
    B->mres[r] = e;
}

static void stab_exact_check(bary *B, double *err)
{
    double e = 0.0;
    /* log-domain work: measures side by side as the log domain's are */
    if (by_measure_in(B, BERG__SK_LOG)) {
        half_job h = {B, HJ_EXACT, 0, 0, 0, 0};
        by_measure_run(B, &h);
    } else {
        for (size_t r = 0; r < B->k; r++)
            exact_measure(B, r);
    }
    for (size_t r = 0; r < B->k; r++)
        e = fmax(e, B->mres[r]);
    *err = e;
}

/* the iterations until the marginals are within tolerance or the cap; *run
 * the outcome (also on failure) */
static berg_status iterate(bary *B, berg__sinkhorn_run *run)
{
    const berg_sinkhorn *sk = B->sk;
    size_t kN = B->k * B->N;
    run->mode = B->mode;
    run->err = INFINITY;
    B->gap = 0.0;
    if (B->mode == BERG__SK_STAB)
        BERG_TRY(stab_start(B));
    else
        for (size_t i = 0; i < kN; i++)
            B->V[i] = B->mode == BERG__SK_LOG ? 0.0 : 1.0;
    double err0 = NAN;
    for (run->iters = 0;; run->iters++) {
        double frac = berg__progress_fraction(run->iters, sk->max_iter, err0, run->err, sk->tol);
        BERG_TRY(berg__progress_report(B->pr, 0, frac, run->iters,
                                       isfinite(run->err) ? run->err : NAN, B->fn));
        int done = 0, measure = run->iters > 0;
        if (run->iters >= sk->max_iter) {
            /* the cap: measure the last state */
            BERG_TRY(first_half(B, run->iters, 1, 0, &run->err));
            break;
        }
        BERG_TRY(step(B, run->iters, measure, &run->err, &done));
        if (done)
            break;
        if (run->iters == 1)
            err0 = run->err;
    }
    if (B->mode == BERG__SK_STAB) {
        double exact;
        stab_exact_check(B, &exact);
        run->err = fmax(run->err, exact);
    }
    return berg__sinkhorn_converged(sk, B->fn, "marginal error", *run);
}

/* the barycenter normalized into out */
static berg_status write_out(const bary *B, double *out)
{
    double total = berg__sum(B->bold, B->N);
    if (!(total > 0.0) || !isfinite(total))
        return berg__sinkhorn_lost(B->sk, B->fn, B->bold, B->N);
    double w = B->sk->space.weight;
    for (size_t i = 0; i < B->N; i++)
        out[i] = B->bold[i] / total / w;
    return BERG_OK;
}

berg_status berg_sinkhorn_barycenter(const berg_sinkhorn *sk, size_t k, const double *densities,
                                     const double *weights, double *out)
{
    static const char fn[] = "berg_sinkhorn_barycenter";
    double wsum = 0.0;
    size_t kN, words, N;
    BERG_TRY(check_inputs(sk, fn, k, densities, weights, out, &wsum, &kN));
    N = sk->space.size;
    /* 4 k N + 2 N doubles, k floors, 2 k per-measure results, and where the
     * stabilized mode may run k couplings, k absorption sums and k N of
     * per-measure scratch */
    size_t cw = sk->tables ? berg__sinkhorn_coupling_words(sk) : 0, ck, ak;
    BERG_TRY(berg__mul_size(kN, sk->tables ? 5 : 4, &words, fn, "workspace"));
    BERG_TRY(berg__mul_size(k, cw + 3, &ck, fn, "workspace"));
    BERG_TRY(berg__mul_size(k, 2 * sk->sum_axis, &ak, fn, "workspace"));
    BERG_REQUIRE(words <= SIZE_MAX - 2 * N - ck - ak, BERG_ERR_SIZE,
                 "%s: workspace 4 k N + 2 N (k = %zu, N = %zu) overflows size_t", fn, k, N);
    words += 2 * N + ck + ak;
    berg_status st;
    double *work = berg__alloc(words, sizeof(double), fn), *block = NULL;
    if (!work)
        return berg_last_status();
    double *after = work + 4 * kN + 2 * N + k + k * cw + ak;
    bary B = {.sk = sk, .fn = fn, .k = k, .N = N, .weights = weights, .wsum = wsum,
              .mode = BERG__SK_FFT, .unit = sk->space.weight, .P = work, .U = work + kN,
              .V = work + 2 * kN, .KU = work + 3 * kN, .b = work + 4 * kN,
              .bold = work + 4 * kN + N, .fl = work + 4 * kN + 2 * N,
              .cpl = work + 4 * kN + 2 * N + k, .acc = work + 4 * kN + 2 * N + k + k * cw,
              .mres = after, .tmpk = sk->tables ? after + 2 * k : NULL,
              .nthreads = berg__sinkhorn_threads(sk)};
    B.span = berg__alloc(2 * k, sizeof(size_t), fn);
    if (!B.span) {
        st = berg_last_status();
        goto fail;
    }
    BERG_TRY_GOTO(st, load_measures(&B, densities), fail);
    block = berg__sinkhorn_scratch_get(sk, fn);
    if (!block) {
        st = berg_last_status();
        goto fail;
    }
    B.tmp = block;
    B.lse = block + 6 * N;
    if (sk->tables && k >= 2 && B.nthreads >= 2) {
        /* the log domain's measures side by side: a scratch slot each */
        size_t slots = lse_threads(&B), lw;
        if (berg__mul_size(slots, sk->lse_words, &lw, fn, "workspace") != BERG_OK ||
            (B.lsek = berg__alloc(lw, sizeof(double), fn)) == NULL) {
            st = berg_last_status();
            goto fail;
        }
        B.lse_slots = slots;
    }
    B.mode = berg__sinkhorn_pick(sk, B.P, k, NULL);
    if (B.mode == BERG__SK_LOG)
        BERG_TRY_GOTO(st, berg__sinkhorn_check_resolution(sk, fn), fail);
    B.unit = B.mode == BERG__SK_STAB ? 1.0 : sk->space.weight;
    berg__progress pr;
    berg__progress_start(&pr, sk->progress, sk->progress_data);
    B.pr = &pr;
    berg__sinkhorn_run run = {NAN, 0, B.mode};
    st = iterate(&B, &run);
    if (st == BERG_ERR_NO_CONVERGENCE && B.mode == BERG__SK_STAB && sk->mode == BERG__SK_AUTO &&
        (!isfinite(run.err) || (sk->tol > 0.0 && run.iters < sk->max_iter)) &&
        berg__sinkhorn_check_resolution(sk, fn) == BERG_OK) {
        /* the default mode falls back on the log domain when the stabilized
         * scalings left the range or its result fails the exact check */
        size_t before = run.iters;
        B.mode = BERG__SK_LOG;
        B.unit = sk->space.weight;
        st = iterate(&B, &run);
        run.iters += before;
    }
    if (st == BERG_OK)
        st = berg__progress_report(&pr, 1, 1.0, run.iters, run.err, fn);
    if (st != BERG_ERR_CANCELLED) /* a stopped call leaves the report as it was */
        berg__sinkhorn_record(sk, run);
    if (st == BERG_OK)
        st = write_out(&B, out);
fail:
    berg__sinkhorn_scratch_put(sk, block);
    berg__free(B.lsek);
    berg__free(B.span);
    berg__free(work);
    return st;
}
