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
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

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

berg_status berg_fisher_from_scores(size_t nsamples, size_t dim, const double *scores, double *Imat)
{
    static const char fn[] = "berg_fisher_from_scores";
    berg_status st;
    BERG_TRY(berg__check_ptr(Imat, fn, "Imat"));
    BERG_TRY(check_common(nsamples, dim, scores, fn));
    BERG_REQUIRE(nsamples > 0, BERG_ERR_SIZE, "%s: nsamples is 0 (need at least one sample)", fn);
    double *C = berg__alloc(dim * dim, sizeof(double), fn);
    if (!C)
        return berg_last_status();
    syrk_rows(nsamples, dim, scores, 1.0 / (double)nsamples, 0.0, C);
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

/* bQ (upper triangle) = sum over the batch of (s s^T)^2 elementwise, as
 * dsyrk of the squared scores in blocks of sq_rows rows */
static void squared_moments(berg_fisher_acc *acc, size_t nsamples, const double *scores)
{
    const size_t d = acc->d;
    double beta = 0.0;
    for (size_t t0 = 0; t0 < nsamples; t0 += acc->sq_rows) {
        size_t rows = nsamples - t0 < acc->sq_rows ? nsamples - t0 : acc->sq_rows;
        const double *src = scores + t0 * d;
        for (size_t k = 0; k < rows * d; k++)
            acc->sq[k] = src[k] * src[k];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)rows, 1.0, acc->sq,
                    (int)d, beta, acc->bQ, (int)d);
        beta = 1.0;
    }
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
    const size_t d = acc->d;
    /* both batch sums are checked before either is added: a failed add
     * leaves the accumulator unchanged */
    syrk_rows(nsamples, d, scores, 1.0, 0.0, acc->bS);
    BERG_TRY(diag_check(nsamples, d, scores, acc->bS, fn, "sum s s^T", 2));
    const int with_se = !(acc->flags & BERG_FISHER_ACC_NO_STDERR);
    if (with_se) {
        squared_moments(acc, nsamples, scores);
        BERG_TRY(diag_check(nsamples, d, scores, acc->bQ, fn, "sum (s_i s_j)^2", 4));
        berg__linalg_mirror_upper(d, acc->bQ);
        neumaier_add_lower(d, acc->Q, acc->Qc, acc->bQ);
    }
    berg__linalg_mirror_upper(d, acc->bS);
    neumaier_add_lower(d, acc->S, acc->Sc, acc->bS);
    acc->count += nsamples;
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
