/*
 * Fisher metric from samples of the score: Imat = (1/N) sum s s^T with CBLAS
 * dsyrk, and an accumulating estimator (batches, merge, standard errors).
 *
 * Non-finite scores are detected from the result rather than by a separate
 * pass over the input: I_ii = sum_t s_ti^2 is finite exactly when every
 * s_ti is (barring overflow: finite scores beyond about 1e154 / sqrt(N),
 * or 1e77 / N^(1/4) for the squared-score sums of the standard errors, are
 * refused too), so the check costs d operations; only on failure is the
 * input scanned to name the entry.
 *
 * Threads (berg_set_threads / berg_fisher_acc_set_threads): the N rows are
 * cut into a fixed number of ranges that depends on N and d only (at most
 * RANGES_MAX, each at least max(RANGE_MIN_ROWS, 8 d) rows), one dsyrk per
 * range into its own d x d partial, and the partials are added in range
 * order with Neumaier compensation. The split is the same on any number of
 * threads, so the result is too (bitwise). While several threads run,
 * OpenBLAS is held at one thread (fisher/blas_threads.h).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fisher/blas_threads.h"
#include "fisher/internal.h"

/* after the berg headers: OpenBLAS's cblas.h may pull in <complex.h> */
#include <cblas.h>

/* rows per dsyrk call: the BLAS integer limit */
#define ROWS_PER_CALL ((size_t)INT_MAX)

/* C (upper triangle) = alpha * sum of s s^T over n rows (+ beta * C) in
 * calls of at most INT_MAX rows. The upper triangle: OpenBLAS's kernel for
 * it (row-major, transposed; numpy's choice for X.T @ X) is faster than the
 * lower one (docs/fisher.md has the measurement). */
static void syrk_rows(size_t n, size_t d, const double *A, double alpha, double beta, double *C)
{
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < ROWS_PER_CALL ? n - done : ROWS_PER_CALL;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)k, alpha, A + done * d,
                    (int)d, beta, C, (int)d);
        beta = 1.0;
        done += k;
    }
}

/* the diagonal of C (sums of the power-th powers of the n scores of a
 * column) is finite; otherwise name the first non-finite score */
static berg_status diag_check(size_t n, size_t d, const double *scores, const double *C,
                              const char *fn, const char *what, int power)
{
    int bad = 0;
    for (size_t i = 0; i < d; i++)
        bad |= !isfinite(C[i * d + i]);
    if (!bad)
        return BERG_OK;
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < d; i++)
            if (!isfinite(scores[t * d + i]))
                return berg__error(BERG_ERR_NONFINITE,
                                   "%s: scores[%zu][%zu] (row %zu, column %zu) = %g is not "
                                   "finite",
                                   fn, t, i, t, i, scores[t * d + i]);
    /* n scores of magnitude x overflow the sum when n x^power > DBL_MAX */
    double limit = pow(DBL_MAX / (double)n, 1.0 / power);
    return berg__error(BERG_ERR_NONFINITE,
                       "%s: the scores are finite but %s overflows (n = %zu samples: scores "
                       "above about %.1e in magnitude)",
                       fn, what, n, limit);
}

static berg_status check_common(size_t nsamples, size_t dim, const double *scores, const char *fn)
{
    size_t nd;
    BERG_TRY(berg__check_ptr(scores, fn, "scores"));
    BERG_TRY(berg__linalg_check_dim(dim, fn, "dim"));
    BERG_TRY(berg__mul_size(nsamples, dim, &nd, fn, "scores"));
    BERG_REQUIRE(nd <= SIZE_MAX / sizeof(double), BERG_ERR_SIZE,
                 "%s: nsamples x dim = %zu x %zu scores overflow size_t in bytes", fn, nsamples,
                 dim);
    return BERG_OK;
}

/* ---- the fixed split of the rows ----------------------------------------- */

#define RANGES_MAX 32
#define RANGE_MIN_ROWS 8192

/* ranges of the split of n rows of d scores: a function of n and d only
 * (never of the thread count); partials take at most 1/8 of the input */
static size_t split_ranges(size_t n, size_t d)
{
    size_t min_rows = d > RANGE_MIN_ROWS / 8 ? 8 * d : RANGE_MIN_ROWS;
    size_t r = n / min_rows;
    return r < 1 ? 1 : (r > RANGES_MAX ? RANGES_MAX : r);
}

/* Q (upper) = sum over n rows of (s s^T)^2 elementwise, as dsyrk of the
 * squared scores in blocks of sq_rows rows through sq */
static void squared_rows(size_t n, size_t d, const double *A, double *sq, size_t sq_rows,
                         double *Q)
{
    double beta = 0.0;
    for (size_t t0 = 0; t0 < n; t0 += sq_rows) {
        size_t rows = n - t0 < sq_rows ? n - t0 : sq_rows;
        const double *src = A + t0 * d;
        for (size_t k = 0; k < rows * d; k++)
            sq[k] = src[k] * src[k];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)rows, 1.0, sq, (int)d,
                    beta, Q, (int)d);
        beta = 1.0;
    }
}

/* one split: range r of the rows into S + r d^2 (and Q + r d^2) */
typedef struct syrk_job {
    size_t d, sq_rows;
    const double *A;
    double alpha;
    double *S, *Q, *sq; /* Q, sq NULL: no squared moments */
} syrk_job;

static void syrk_range(void *ctx, size_t b, size_t e, size_t r)
{
    const syrk_job *j = ctx;
    const size_t d = j->d, dd = d * d;
    syrk_rows(e - b, d, j->A + b * d, j->alpha, 0.0, j->S + r * dd);
    if (j->Q)
        squared_rows(e - b, d, j->A + b * d, j->sq + r * j->sq_rows * d, j->sq_rows,
                     j->Q + r * dd);
}

/* P[0] (upper) = sum of the nranges partials P[r], in range order, with
 * Neumaier compensation (comp: d^2 scratch) */
static void reduce_partials(size_t d, size_t nranges, double *P, double *comp)
{
    const size_t dd = d * d;
    if (nranges < 2)
        return;
    memset(comp, 0, dd * sizeof(double));
    for (size_t r = 1; r < nranges; r++)
        for (size_t i = 0; i < d; i++)
            for (size_t k = i; k < d; k++)
                berg__neumaier_add(&P[i * d + k], &comp[i * d + k], P[r * dd + i * d + k]);
    for (size_t i = 0; i < d; i++)
        for (size_t k = i; k < d; k++)
            P[i * d + k] += comp[i * d + k];
}

/* run the split on nthreads threads (OpenBLAS held at one thread while
 * more than one runs) */
static void run_split(size_t n, size_t nranges, size_t nthreads, syrk_job *job)
{
    int held = 0;
    if (nthreads > 1 && nranges > 1) {
        held = berg__blas_hold();
        if (!held) /* an OpenMP OpenBLAS threads each call itself */
            nthreads = 1;
    }
    berg__parallel_ranges(n, nranges, nthreads, syrk_range, job);
    if (held)
        berg__blas_release();
}

berg_status berg_fisher_from_scores(size_t nsamples, size_t dim, const double *scores, double *Imat)
{
    static const char fn[] = "berg_fisher_from_scores";
    berg_status st;
    BERG_TRY(berg__check_ptr(Imat, fn, "Imat"));
    BERG_TRY(check_common(nsamples, dim, scores, fn));
    BERG_REQUIRE(nsamples > 0, BERG_ERR_SIZE, "%s: nsamples is 0 (need at least one sample)", fn);
    const size_t nranges = split_ranges(nsamples, dim);
    /* nranges partials and the compensation (nranges > 1 only) */
    double *C = berg__alloc((nranges > 1 ? nranges + 1 : 1) * dim * dim, sizeof(double), fn);
    if (!C)
        return berg_last_status();
    syrk_job job = {.d = dim, .A = scores, .alpha = 1.0 / (double)nsamples, .S = C};
    run_split(nsamples, nranges, berg__threads(0), &job);
    reduce_partials(dim, nranges, C, C + nranges * dim * dim);
    BERG_TRY_GOTO(st, diag_check(nsamples, dim, scores, C, fn, "sum s s^T", 2), fail);
    berg__linalg_mirror_upper(dim, C);
    memcpy(Imat, C, dim * dim * sizeof(double));
fail:
    berg__free(C);
    return st;
}

/* ---- accumulator ------------------------------------------------------ */

/* rows of squared scores per block (the only scratch that scales with N) */
#define SQ_BLOCK_DOUBLES 32768

struct berg_fisher_acc {
    size_t d;
    unsigned flags;
    size_t count;
    double *S, *Sc;   /* sum s s^T (lower) and its Neumaier compensation */
    double *Q, *Qc;   /* sum (s s^T)^2 elementwise = sum (s.s)(s.s)^T, and compensation */
    double *bS, *bQ;  /* one batch */
    double *sq;       /* block of squared scores */
    size_t sq_rows;
    size_t nthreads;  /* configuration: berg_fisher_acc_set_threads (0: berg_threads()) */
};

berg_status berg_fisher_acc_create(berg_fisher_acc **out, size_t dim, unsigned flags)
{
    static const char fn[] = "berg_fisher_acc_create";
    size_t dd;
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__linalg_check_dim(dim, fn, "dim"));
    BERG_TRY(berg__check_flags(flags, BERG_FISHER_ACC_NO_STDERR, fn));
    BERG_TRY(berg__mul_size(dim, dim, &dd, fn, "dim x dim"));
    BERG_TRY(berg__mul_size(dd, 6 * sizeof(double), &(size_t){0}, fn, "accumulator size"));
    size_t rows = SQ_BLOCK_DOUBLES / dim;
    if (rows < 1)
        rows = 1;
    berg_fisher_acc *a = berg__alloc(1, sizeof *a, fn);
    if (!a)
        return berg_last_status();
    memset(a, 0, sizeof *a);
    a->d = dim;
    a->flags = flags;
    a->sq_rows = rows;
    a->S = berg__alloc(6 * dd, sizeof(double), fn);
    a->sq = a->S ? berg__alloc(rows * dim, sizeof(double), fn) : NULL;
    if (!a->sq)
        goto fail;
    a->Sc = a->S + dd;
    a->Q = a->S + 2 * dd;
    a->Qc = a->S + 3 * dd;
    a->bS = a->S + 4 * dd;
    a->bQ = a->S + 5 * dd;
    memset(a->S, 0, 4 * dd * sizeof(double));
    *out = a;
    return BERG_OK;
fail:
    berg_fisher_acc_destroy(a);
    return berg_last_status();
}

void berg_fisher_acc_destroy(berg_fisher_acc *acc)
{
    if (!acc)
        return;
    berg__free(acc->S);
    berg__free(acc->sq);
    berg__free(acc);
}

size_t berg_fisher_acc_count(const berg_fisher_acc *acc)
{
    return acc ? acc->count : 0;
}

size_t berg_fisher_acc_dim(const berg_fisher_acc *acc)
{
    return acc ? acc->d : 0;
}

berg_status berg_fisher_acc_reset(berg_fisher_acc *acc)
{
    static const char fn[] = "berg_fisher_acc_reset";
    BERG_TRY(berg__check_ptr(acc, fn, "acc"));
    memset(acc->S, 0, 4 * acc->d * acc->d * sizeof(double));
    acc->count = 0;
    return BERG_OK;
}

/* (sum, comp) += x, Neumaier's compensated summation, lower triangle */
static void neumaier_add_lower(size_t d, double *sum, double *comp, const double *x)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++)
            berg__neumaier_add(&sum[i * d + j], &comp[i * d + j], x[i * d + j]);
}

berg_status berg_fisher_acc_add(berg_fisher_acc *acc, size_t nsamples, const double *scores)
{
    static const char fn[] = "berg_fisher_acc_add";
    BERG_TRY(berg__check_ptr(acc, fn, "acc"));
    BERG_TRY(check_common(nsamples, acc->d, scores, fn));
    if (nsamples == 0)
        return BERG_OK;
    BERG_REQUIRE(acc->count <= SIZE_MAX - nsamples, BERG_ERR_SIZE,
                 "%s: the sample count overflows size_t", fn);
    const size_t d = acc->d, dd = d * d;
    const int with_se = !(acc->flags & BERG_FISHER_ACC_NO_STDERR);
    /* the batch sums into bS and bQ: one range in the handle's buffers,
     * several in partials of their own (then added into bS, bQ) */
    const size_t nranges = split_ranges(nsamples, d);
    syrk_job job = {.d = d, .sq_rows = acc->sq_rows, .A = scores, .alpha = 1.0,
                    .S = acc->bS, .Q = with_se ? acc->bQ : NULL, .sq = acc->sq};
    double *parts = NULL;
    if (nranges > 1) {
        /* S and Q partials, one compensation, the squared-score blocks */
        size_t per = (with_se ? 2 : 1) * nranges * dd + dd;
        size_t sq = with_se ? nranges * acc->sq_rows * d : 0;
        parts = berg__alloc(per + sq, sizeof(double), fn);
        if (!parts)
            return berg_last_status();
        job.S = parts;
        job.Q = with_se ? parts + nranges * dd : NULL;
        job.sq = with_se ? parts + per : NULL;
    }
    run_split(nsamples, nranges, berg__threads(acc->nthreads), &job);
    if (parts) {
        double *comp = parts + (with_se ? 2 : 1) * nranges * dd;
        reduce_partials(d, nranges, job.S, comp);
        memcpy(acc->bS, job.S, dd * sizeof(double));
        if (with_se) {
            reduce_partials(d, nranges, job.Q, comp);
            memcpy(acc->bQ, job.Q, dd * sizeof(double));
        }
        berg__free(parts);
    }
    /* both batch sums are checked before either is added: a failed add
     * leaves the accumulator unchanged */
    BERG_TRY(diag_check(nsamples, d, scores, acc->bS, fn, "sum s s^T", 2));
    if (with_se) {
        BERG_TRY(diag_check(nsamples, d, scores, acc->bQ, fn, "sum (s_i s_j)^2", 4));
        berg__linalg_mirror_upper(d, acc->bQ);
        neumaier_add_lower(d, acc->Q, acc->Qc, acc->bQ);
    }
    berg__linalg_mirror_upper(d, acc->bS);
    neumaier_add_lower(d, acc->S, acc->Sc, acc->bS);
    acc->count += nsamples;
    return BERG_OK;
}

berg_status berg_fisher_acc_set_threads(berg_fisher_acc *acc, size_t nthreads)
{
    static const char fn[] = "berg_fisher_acc_set_threads";
    BERG_TRY(berg__check_ptr(acc, fn, "acc"));
    BERG_REQUIRE(nthreads <= BERG__THREADS_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads is %zu, not in [0, %d] (0: follow berg_set_threads)", fn,
                 nthreads, BERG__THREADS_MAX);
    acc->nthreads = nthreads;
    return BERG_OK;
}

berg_status berg_fisher_acc_merge(berg_fisher_acc *acc, const berg_fisher_acc *other)
{
    static const char fn[] = "berg_fisher_acc_merge";
    BERG_TRY(berg__check_ptr(acc, fn, "acc"));
    BERG_TRY(berg__check_ptr(other, fn, "other"));
    BERG_REQUIRE(acc != other, BERG_ERR_DOMAIN, "%s: other is acc itself (merge a copy instead)",
                 fn);
    BERG_REQUIRE(acc->d == other->d && acc->flags == other->flags, BERG_ERR_MISMATCH,
                 "%s: acc (dim %zu, flags 0x%x) and other (dim %zu, flags 0x%x) differ", fn,
                 acc->d, acc->flags, other->d, other->flags);
    BERG_REQUIRE(acc->count <= SIZE_MAX - other->count, BERG_ERR_SIZE,
                 "%s: the sample count overflows size_t", fn);
    const size_t d = acc->d;
    neumaier_add_lower(d, acc->S, acc->Sc, other->S);
    neumaier_add_lower(d, acc->S, acc->Sc, other->Sc);
    neumaier_add_lower(d, acc->Q, acc->Qc, other->Q);
    neumaier_add_lower(d, acc->Q, acc->Qc, other->Qc);
    acc->count += other->count;
    return BERG_OK;
}

berg_status berg_fisher_acc_result(const berg_fisher_acc *acc, double *Imat, double *se)
{
    static const char fn[] = "berg_fisher_acc_result";
    BERG_TRY(berg__check_ptr(acc, fn, "acc"));
    BERG_REQUIRE(Imat || se, BERG_ERR_NULL, "%s: Imat and se are both NULL", fn);
    BERG_REQUIRE(acc->count > 0, BERG_ERR_SIZE, "%s: no samples have been added", fn);
    BERG_REQUIRE(!se || !(acc->flags & BERG_FISHER_ACC_NO_STDERR), BERG_ERR_UNSUPPORTED,
                 "%s: se requested from an accumulator created with BERG_FISHER_ACC_NO_STDERR",
                 fn);
    BERG_REQUIRE(!se || acc->count >= 2, BERG_ERR_SIZE,
                 "%s: standard errors need at least 2 samples, have %zu", fn, acc->count);
    const size_t d = acc->d;
    const double n = (double)acc->count;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            size_t k = i * d + j;
            double m = (acc->S[k] + acc->Sc[k]) / n;
            if (Imat)
                Imat[i * d + j] = Imat[j * d + i] = m;
            if (se) {
                double m2 = (acc->Q[k] + acc->Qc[k]) / n;
                double v = (m2 - m * m) * (n / (n - 1.0));
                double e = sqrt(fmax(v, 0.0) / n);
                se[i * d + j] = se[j * d + i] = e;
            }
        }
    return BERG_OK;
}
