/* The stabilized mode's products by rows (issue 14): a product computed
 * on two halves of its output rows agrees with the whole product (to
 * 1e-15 of its largest value: OpenBLAS may block a half differently), on
 * boxes of finite potentials in 1-, 2- and 3-D, both directions; and the
 * work model that deals whole products or halves to threads counts the
 * halves' repeated packing: two halves cost the whole product plus one
 * more packing of each product's shared (k x n) operand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metric/sinkhorn_internal.h"
#include "testutil.h"

/* potentials: -inf outside [lo, hi) of each axis, values in [-1, 1] in it */
static void potentials(const berg_space *s, const size_t *lo, const size_t *hi, double *P,
                       unsigned long long *seed)
{
    size_t off = 0;
    for (size_t a = 0; a < (size_t)s->ndim; a++) {
        for (size_t i = 0; i < s->n[a]; i++)
            P[off + i] = i >= lo[a] && i < hi[a] ? 2.0 * tu_uniform(seed) - 1.0 : -INFINITY;
        off += s->n[a];
    }
}

int main(void)
{
    static const struct {
        size_t d, n[3];
        size_t alo[3], ahi[3], blo[3], bhi[3];
    } cases[] = {
        {1, {40}, {5}, {20}, {0}, {40}},
        {2, {48, 36}, {10, 12}, {21, 20}, {0, 0}, {48, 36}},  /* small u box, whole v box */
        {2, {40, 44}, {3, 0}, {37, 44}, {12, 5}, {30, 33}},   /* both cut */
        {3, {12, 10, 14}, {1, 2, 0}, {9, 6, 14}, {0, 0, 3}, {12, 10, 11}},
        {3, {10, 12, 9}, {2, 0, 0}, {8, 12, 9}, {0, 1, 2}, {10, 12, 9}},
    };
    unsigned long long seed = 17;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t d = cases[c].d;
        double lo[3] = {0, 0, 0}, hi[3] = {1, 1.1, 0.9};
        berg_boundary bc[3] = {BERG_NEUMANN, BERG_PERIODIC, BERG_NEUMANN};
        berg_space *s = NULL;
        berg_sinkhorn *sk = NULL;
        CHECK_STATUS(berg_space_create(&s, d, cases[c].n, lo, hi, bc, NULL), BERG_OK,
                     "case %zu: space", c);
        CHECK_STATUS(berg_sinkhorn_create(&sk, s, 0.05, BERG_SINKHORN_STABILIZED), BERG_OK,
                     "case %zu: solver", c);
        if (!s || !sk)
            return test_summary("sinkhorn-dense");
        size_t N = s->size;
        double *block = malloc(berg__sinkhorn_coupling_words(sk) * sizeof *block);
        double *in = malloc(N * sizeof *in), *whole = malloc(N * sizeof *whole);
        double *halves = malloc(N * sizeof *halves), *tmp = malloc(N * sizeof *tmp);
        berg__sk_coupling cp = berg__sinkhorn_coupling_at(sk, block);
        berg__sinkhorn_coupling_reset(sk, &cp);
        potentials(s, cases[c].alo, cases[c].ahi, cp.A, &seed);
        potentials(s, cases[c].blo, cases[c].bhi, cp.B, &seed);
        CHECK(berg__sinkhorn_coupling_tables(sk, &cp), "case %zu: tables", c);
        for (int t = 0; t < 2; t++) {
            for (size_t i = 0; i < N; i++)
                in[i] = tu_uniform(&seed);
            for (size_t i = 0; i < N; i++)
                whole[i] = halves[i] = NAN; /* every row must be written */
            berg__sinkhorn_dense(sk, &cp, t, in, whole, tmp);
            size_t mid = berg__sinkhorn_dense_mid(sk, &cp, t), n0 = s->n[0];
            berg__sinkhorn_dense_rows(sk, &cp, t, in, halves, tmp, 0, mid);
            berg__sinkhorn_dense_rows(sk, &cp, t, in, halves, tmp, mid, n0);
            double big = 0.0, diff = 0.0;
            int finite = 1;
            for (size_t i = 0; i < N; i++) {
                finite &= isfinite(whole[i]) && isfinite(halves[i]);
                big = fmax(big, fabs(whole[i]));
                diff = fmax(diff, fabs(whole[i] - halves[i]));
            }
            CHECK(finite && big > 0.0, "case %zu, transpose %d: every row written", c, t);
            CHECK(diff <= 1e-15 * big, "case %zu, transpose %d: halves agree with the whole (%g)",
                  c, t, diff / big);
            /* the model: the halves' m k n and m k add up to the whole
             * product's; each product's k x n is packed once per half */
            double cw = berg__sinkhorn_dense_cost(sk, &cp, t, 0, n0);
            double ch = berg__sinkhorn_dense_cost(sk, &cp, t, 0, mid) +
                        berg__sinkhorn_dense_cost(sk, &cp, t, mid, n0);
            /* the shared operands: axis 0 contracts J0 against the input
             * box's columns (the whole rows when the input box spans
             * every later axis, else |J_last| columns in one call per
             * index of the middle axis); in 2-D the last axis' table,
             * the output box's I against J (in 3-D its calls, one per
             * output row of axis 0, are split, not repeated; so are the
             * middle axis') */
            const size_t *ilo = t ? cases[c].blo : cases[c].alo;
            const size_t *ihi = t ? cases[c].bhi : cases[c].ahi;
            const size_t *jlo = t ? cases[c].alo : cases[c].blo;
            const size_t *jhi = t ? cases[c].ahi : cases[c].bhi;
            double shared = (double)(jhi[0] - jlo[0]);
            if (d >= 2) {
                int full = 1;
                double rows = 1.0, cols = (double)(jhi[d - 1] - jlo[d - 1]);
                for (size_t a = 1; a < d; a++)
                    full &= jlo[a] == 0 && jhi[a] == s->n[a];
                for (size_t a = 1; a + 1 < d; a++)
                    rows *= (double)(jhi[a] - jlo[a]);
                shared *= full ? (double)s->stride[0] : rows * cols;
            }
            if (d == 2)
                shared += (double)(jhi[1] - jlo[1]) * (double)(ihi[1] - ilo[1]);
            CHECK(fabs(ch - cw - BERG__SK_PACK_COST * shared) <= 1e-12 * cw,
                  "case %zu, transpose %d: halves cost the whole plus one packing of the "
                  "shared operands (%g, %g, %g)",
                  c, t, cw, ch, BERG__SK_PACK_COST * shared);
        }
        free(block);
        free(in);
        free(whole);
        free(halves);
        free(tmp);
        berg_sinkhorn_destroy(sk);
        berg_space_destroy(s);
    }
    return test_summary("sinkhorn-dense");
}
