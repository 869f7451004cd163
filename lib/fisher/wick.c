/*
 * Posterior correlation functions: Wick/Isserlis moments of N(u*, I^{-1}/T),
 * by the Stein recursion over index multiplicities instead of an
 * enumeration of the (m-1)!! pairings.
 */
#include <math.h>
#include <string.h>

#include "fisher/internal.h"

#define WICK_MAX_STATES ((size_t)1 << 22)

/* the distinct indices of idx (uniq[0..nd)) with their multiplicities, the
 * strides of the state odometer (first index fastest) and the number of
 * states prod (mult + 1); BERG_ERR_SIZE beyond WICK_MAX_STATES */
static berg_status multiplicities(size_t order, const size_t *idx, size_t *uniq, size_t *mult,
                                  size_t *stride, size_t *nd_out, size_t *nstates_out,
                                  const char *fn)
{
    size_t nd = 0, nstates = 1;
    for (size_t j = 0; j < order; j++) {
        size_t c = 0;
        while (c < nd && uniq[c] != idx[j])
            c++;
        if (c == nd) {
            uniq[nd] = idx[j];
            mult[nd++] = 0;
        }
        mult[c]++;
    }
    for (size_t c = 0; c < nd; c++) {
        stride[c] = nstates;
        BERG_REQUIRE(nstates <= WICK_MAX_STATES / (mult[c] + 1), BERG_ERR_SIZE,
                     "%s: order %zu with %zu distinct indices needs more than 2^22 recursion "
                     "states",
                     fn, order, nd);
        nstates *= mult[c] + 1;
    }
    *nd_out = nd;
    *nstates_out = nstates;
    return BERG_OK;
}

/* E[x^k] for every multiplicity vector k <= mult (E[0] = 1) by
 * E[x_a x^{k'}] = sum_b C_ab k'_b E[x^{k' - e_b}],  k' = k - e_a;
 * k: nd scratch counters. Returns the moment of the full vector mult. */
static double stein_recursion(size_t nd, size_t nstates, const size_t *mult, const size_t *stride,
                              const double *C, double *E, size_t *k)
{
    memset(k, 0, nd * sizeof(size_t));
    size_t tot = 0;
    E[0] = 1.0;
    for (size_t s = 1; s < nstates; s++) {
        /* odometer: first index fastest, matching stride */
        for (size_t c = 0; c < nd; c++) {
            if (k[c] < mult[c]) {
                k[c]++;
                tot++;
                break;
            }
            tot -= k[c];
            k[c] = 0;
        }
        if (tot % 2) {
            E[s] = 0.0;
            continue;
        }
        size_t a = 0;
        while (k[a] == 0)
            a++;
        size_t sp = s - stride[a];
        double acc = 0.0;
        for (size_t b = 0; b < nd; b++) {
            size_t kb = k[b] - (b == a);
            if (kb)
                acc += C[a * nd + b] * (double)kb * E[sp - stride[b]];
        }
        E[s] = acc;
    }
    return E[nstates - 1];
}

static berg_status check_wick_args(size_t dim, double T, size_t order, const double *Iinv,
                                   const size_t *idx, const double *out, const char *fn)
{
    size_t dd;
    BERG_TRY(berg__check_ptr(Iinv, fn, "Iinv"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__linalg_check_dim(dim, fn, "dim"));
    BERG_TRY(berg__mul_size(dim, dim, &dd, fn, "Iinv"));
    if (order > 0)
        BERG_TRY(berg__check_ptr(idx, fn, "idx"));
    BERG_REQUIRE(isfinite(T) && T > 0.0, BERG_ERR_DOMAIN, "%s: T = %g must be finite and > 0",
                 fn, T);
    BERG_TRY(berg__linalg_check_symmetric(dim, Iinv, fn, "Iinv"));
    /* there are at least order + 1 states */
    BERG_REQUIRE(order <= WICK_MAX_STATES, BERG_ERR_SIZE, "%s: order %zu exceeds 2^22", fn,
                 order);
    for (size_t j = 0; j < order; j++)
        BERG_REQUIRE(idx[j] < dim, BERG_ERR_OUT_OF_RANGE,
                     "%s: idx[%zu] = %zu is not below dim = %zu", fn, j, idx[j], dim);
    return BERG_OK;
}

berg_status berg_fisher_wick(size_t dim, double T, size_t order, const double *Iinv,
                             const size_t *idx, double *out)
{
    static const char fn[] = "berg_fisher_wick";
    berg_status st;
    BERG_TRY(check_wick_args(dim, T, order, Iinv, idx, out, fn));
    if (order % 2 || order == 0) {
        *out = order ? 0.0 : 1.0;
        return BERG_OK;
    }
    double *E = NULL;
    size_t *uniq = berg__alloc(4 * order, sizeof(size_t), fn);
    if (!uniq)
        return berg_last_status();
    size_t *mult = uniq + order, *stride = mult + order, *k = stride + order, nd = 0, nstates = 0;
    BERG_TRY_GOTO(st, multiplicities(order, idx, uniq, mult, stride, &nd, &nstates, fn), fail);
    E = berg__alloc(nstates + nd * nd, sizeof(double), fn);
    if (!E) {
        st = berg_last_status();
        goto fail;
    }
    /* the covariance Iinv / T restricted to the distinct indices (lower triangle) */
    double *C = E + nstates;
    for (size_t a = 0; a < nd; a++)
        for (size_t b = 0; b < nd; b++) {
            size_t i = uniq[a] > uniq[b] ? uniq[a] : uniq[b];
            size_t j = uniq[a] > uniq[b] ? uniq[b] : uniq[a];
            C[a * nd + b] = Iinv[i * dim + j] / T;
        }
    double r = stein_recursion(nd, nstates, mult, stride, C, E, k);
    if (isfinite(r)) {
        *out = r;
        st = BERG_OK;
    } else {
        st = berg__error(BERG_ERR_NONFINITE, "%s: the moment overflows (order %zu, T = %g)", fn, order, T);
    }
fail:
    berg__free(E);
    berg__free(uniq);
    return st;
}
