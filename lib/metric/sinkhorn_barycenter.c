/*
 * Entropic Wasserstein barycenters: convolutional iterative Bregman
 * projections (Benamou et al. 2015, Solomon et al. 2015) in either mode of
 * berg_sinkhorn. For measures p_r with weights lambda_r, each iteration
 *   u_r = p_r / K v_r,   b = prod_r (v_r K u_r)^{lambda_r},   v_r = b / K u_r
 * (prod v_r^{lambda_r} = 1 is preserved, so b = prod (K u_r)^{lambda_r} as
 * in POT); the log domain iterates on log u_r, log v_r with Klog.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
    double *P, *U, *V, *KU, *b, *bold;
    double *lse; /* log-sum-exp scratch (log domain) */
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
        berg__sinkhorn_normalize(&B->sk->space, densities + r * B->N, mass, B->P + r * B->N);
    }
    return BERG_OK;
}

/* log domain, measure r: KU_r = Klog(log p_r - Klog(V_r)) */
static void project_log(bary *B, size_t r)
{
    size_t N = B->N;
    const double *Pr = B->P + r * N, *Vr = B->V + r * N;
    double *Ur = B->U + r * N, *KUr = B->KU + r * N;
    memcpy(KUr, Vr, N * sizeof(double));
    berg__sinkhorn_logsumexp(B->sk, KUr, B->lse);
    for (size_t i = 0; i < N; i++)
        Ur[i] = Pr[i] > 0.0 ? log(Pr[i]) - KUr[i] : -INFINITY;
    memcpy(KUr, Ur, N * sizeof(double));
    berg__sinkhorn_logsumexp(B->sk, KUr, B->lse);
}

/* scaling mode, measure r: U_r = p_r / K V_r, KU_r = K U_r (both floored) */
static berg_status project_scaling(bary *B, size_t r)
{
    size_t N = B->N;
    const double *Pr = B->P + r * N, *Vr = B->V + r * N;
    double *Ur = B->U + r * N, *KUr = B->KU + r * N;
    double fl;
    BERG_TRY(berg__sinkhorn_heat(B->sk, B->fn, Vr, KUr, &fl));
    for (size_t i = 0; i < N; i++)
        Ur[i] = Pr[i] > 0.0 ? Pr[i] / (KUr[i] > fl ? KUr[i] : fl) : 0.0;
    BERG_TRY(berg__sinkhorn_heat(B->sk, B->fn, Ur, KUr, &fl));
    for (size_t i = 0; i < N; i++)
        if (!(KUr[i] > fl))
            KUr[i] = fl;
    return BERG_OK;
}

/* log b = sum_r lambda_r log(V_r KU_r) (log domain: the sum of the logs) */
static berg_status log_mean(bary *B)
{
    size_t N = B->N;
    int logmode = B->sk->log_domain;
    for (size_t i = 0; i < N; i++)
        B->b[i] = 0.0;
    for (size_t r = 0; r < B->k; r++) {
        double lr = B->weights[r] / B->wsum;
        const double *Vr = B->V + r * N, *KUr = B->KU + r * N;
        if (lr == 0.0)
            continue;
        for (size_t i = 0; i < N; i++) {
            if (logmode) {
                B->b[i] += lr * (Vr[i] + KUr[i]);
                continue;
            }
            double x = Vr[i] * KUr[i];
            if (!(x > 0.0 && x < HUGE_VAL))
                return berg__sinkhorn_lost_at(B->sk, B->fn, i);
            B->b[i] += lr * log(x);
        }
    }
    return BERG_OK;
}

/* bold = e^b and V_r = b / KU_r (log domain: log b - KU_r); returns the L1
 * change of the barycenter */
static double update(bary *B)
{
    size_t N = B->N;
    int logmode = B->sk->log_domain;
    double e = 0.0;
    for (size_t i = 0; i < N; i++) {
        double bi = exp(B->b[i]);
        e += fabs(bi - B->bold[i]);
        B->bold[i] = bi;
    }
    for (size_t r = 0; r < B->k; r++) {
        double *Vr = B->V + r * N;
        const double *KUr = B->KU + r * N;
        for (size_t i = 0; i < N; i++)
            Vr[i] = logmode ? B->b[i] - KUr[i] : B->bold[i] / KUr[i];
    }
    return e * B->sk->space.weight;
}

/* the projections until the barycenter's change is within tolerance or the
 * cap; *run the outcome (also on failure) */
static berg_status iterate(bary *B, berg__sinkhorn_run *run)
{
    const berg_sinkhorn *sk = B->sk;
    size_t kN = B->k * B->N;
    for (size_t i = 0; i < kN; i++)
        B->V[i] = sk->log_domain ? 0.0 : 1.0;
    for (size_t i = 0; i < B->N; i++)
        B->bold[i] = 0.0;
    run->err = INFINITY;
    double err0 = NAN;
    for (run->iters = 0; run->iters < sk->max_iter; run->iters++) {
        double frac = berg__progress_fraction(run->iters, sk->max_iter, err0, run->err, sk->tol);
        BERG_TRY(berg__progress_report(B->pr, 0, frac, run->iters,
                                       isfinite(run->err) ? run->err : NAN, B->fn));
        for (size_t r = 0; r < B->k; r++) {
            if (sk->log_domain)
                project_log(B, r);
            else
                BERG_TRY(project_scaling(B, r));
        }
        BERG_TRY(log_mean(B));
        run->err = update(B);
        if (!isfinite(run->err))
            return berg__sinkhorn_lost(sk, B->fn, B->bold, B->N);
        if (sk->tol > 0.0 && run->iters > 0 && run->err <= sk->tol) {
            run->iters++;
            break;
        }
        if (run->iters == 1)
            err0 = run->err;
    }
    return berg__sinkhorn_converged(sk, B->fn, "barycenter change", *run);
}

/* the barycenter normalized into out */
static berg_status write_out(const bary *B, double *out)
{
    double total = berg__sum(B->bold, B->N) * B->sk->space.weight;
    if (!(total > 0.0) || !isfinite(total))
        return berg__sinkhorn_lost(B->sk, B->fn, B->bold, B->N);
    for (size_t i = 0; i < B->N; i++)
        out[i] = B->bold[i] / total;
    return BERG_OK;
}

berg_status berg_sinkhorn_barycenter(const berg_sinkhorn *sk, size_t k, const double *densities,
                                     const double *weights, double *out)
{
    static const char fn[] = "berg_sinkhorn_barycenter";
    double wsum = 0.0;
    size_t kN, words;
    BERG_TRY(check_inputs(sk, fn, k, densities, weights, out, &wsum, &kN));
    BERG_TRY(berg__sinkhorn_check_resolution(sk, fn));
    size_t N = sk->space.size;
    /* 4 k N + 2 N doubles; kN >= N, so 2 N cannot wrap once 4 kN did not */
    BERG_TRY(berg__mul_size(kN, 4, &words, fn, "workspace"));
    BERG_REQUIRE(words <= SIZE_MAX - 2 * N, BERG_ERR_SIZE,
                 "%s: workspace 4 k N + 2 N (k = %zu, N = %zu) overflows size_t", fn, k, N);
    words += 2 * N;
    berg_status st;
    double *work = berg__alloc(words, sizeof(double), fn), *block = NULL;
    if (!work)
        return berg_last_status();
    bary B = {sk, fn, k, N, weights, wsum, work, work + kN, work + 2 * kN, work + 3 * kN,
              work + 4 * kN, work + 4 * kN + N, NULL, NULL};
    BERG_TRY_GOTO(st, load_measures(&B, densities), fail);
    block = berg__sinkhorn_scratch_get(sk, fn);
    if (!block) {
        st = berg_last_status();
        goto fail;
    }
    B.lse = block + 6 * N;
    berg__progress pr;
    berg__progress_start(&pr, sk->progress, sk->progress_data);
    B.pr = &pr;
    berg__sinkhorn_run run = {NAN, 0};
    st = iterate(&B, &run);
    if (st == BERG_OK)
        st = berg__progress_report(&pr, 1, 1.0, run.iters, run.err, fn);
    if (st != BERG_ERR_CANCELLED) /* a stopped call leaves the report as it was */
        berg__sinkhorn_record(sk, run);
    if (st == BERG_OK)
        st = write_out(&B, out);
fail:
    berg__sinkhorn_scratch_put(sk, block);
    berg__free(work);
    return st;
}
