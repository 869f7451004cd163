/* Benchmarks of the transport functions, each against a baseline measured
 * in the same run:
 *   - exact 1-D W2 on 2^20 cells vs one plain pass summing both arrays
 *     (the O(n) quantile walk costs a few memory passes);
 *   - one Sinkhorn iteration (tolerance 0, fixed count) on 256^2 in the
 *     scaling mode vs two heat applies (its FFT work): the ratio is the
 *     overhead around the FFTs;
 *   - the same iterations in the log domain vs the scaling mode: the price
 *     of stability at small eps.
 * The comparisons with POT are in bench/python/bench_transport.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "berg.h"
#include "bench.h"

typedef struct {
    berg_space *s;
    berg_sinkhorn *sk;
    berg_heat *heat;
    double *p, *q, *tmp;
    size_t n;
    double sink;
} ctx_t;

static void run_w2(void *c)
{
    ctx_t *x = c;
    double w;
    berg_w2_distance_1d(x->s, x->p, x->q, &w);
    x->sink += w;
}

static void run_sum(void *c)
{
    ctx_t *x = c;
    double acc = 0;
    for (size_t i = 0; i < x->n; i++)
        acc += x->p[i] + x->q[i];
    x->sink += acc;
}

static void run_sinkhorn(void *c)
{
    ctx_t *x = c;
    double cost;
    berg_sinkhorn_cost(x->sk, x->p, x->q, &cost);
    x->sink += cost;
}

static void run_heat(void *c)
{
    ctx_t *x = c;
    for (int k = 0; k < 2 * 10; k++)
        berg_heat_apply(x->heat, 0.25 * 0.01, x->p, x->tmp);
    x->sink += x->tmp[0];
}

int main(void)
{
    /* 1-D W2 on 2^20 cells */
    ctx_t a = {0};
    a.n = (size_t)1 << 20;
    double lo = 0, hi = 1;
    berg_boundary nb = BERG_NEUMANN;
    berg_space_create(&a.s, 1, &a.n, &lo, &hi, &nb, NULL);
    a.p = malloc(a.n * sizeof(double));
    a.q = malloc(a.n * sizeof(double));
    unsigned long long st = 1;
    for (size_t i = 0; i < a.n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        double x = ((double)i + 0.5) / (double)a.n, r = (double)(st >> 11) * 0x1.0p-53;
        a.p[i] = r * exp(-0.5 * pow((x - 0.4) / 0.1, 2));
        a.q[i] = (1 - r) * exp(-0.5 * pow((x - 0.6) / 0.15, 2));
    }
    bench_pair("w2_distance_1d 2^20", run_w2, &a, "sum pass", run_sum, &a, 11);

    /* Sinkhorn iterations on 256^2 (Neumann), eps = 0.01 */
    ctx_t b = {0};
    size_t n2[2] = {256, 256};
    double lo2[2] = {0, 0}, hi2[2] = {1, 1};
    berg_boundary bc2[2] = {BERG_NEUMANN, BERG_NEUMANN};
    berg_space_create(&b.s, 2, n2, lo2, hi2, bc2, NULL);
    b.n = 256 * 256;
    b.p = malloc(b.n * sizeof(double));
    b.q = malloc(b.n * sizeof(double));
    b.tmp = malloc(b.n * sizeof(double));
    for (size_t i = 0; i < 256; i++)
        for (size_t j = 0; j < 256; j++) {
            double x = (i + 0.5) / 256, y = (j + 0.5) / 256;
            /* compact cos^2 bumps: the FFT kernel resolves them at eps 0.01 */
            double r1 = hypot(x - 0.4, y - 0.45), r2 = hypot(x - 0.6, y - 0.55);
            b.p[i * 256 + j] = r1 < 0.15 ? pow(cos(1.5707963267948966 * r1 / 0.15), 2) : 0.0;
            b.q[i * 256 + j] = r2 < 0.2 ? pow(cos(1.5707963267948966 * r2 / 0.2), 2) : 0.0;
        }
    berg_sinkhorn_create(&b.sk, b.s, 0.01, 0);
    berg_sinkhorn_set_tolerance(b.sk, 0.0);
    berg_sinkhorn_set_max_iterations(b.sk, 10);
    berg_heat_create(&b.heat, b.s, 0);
    bench_pair("sinkhorn 256^2 x10 it (scaling)", run_sinkhorn, &b, "20 heat", run_heat, &b, 7);
    ctx_t c = b;
    berg_sinkhorn_create(&c.sk, c.s, 0.01, BERG_SINKHORN_LOG_DOMAIN);
    berg_sinkhorn_set_tolerance(c.sk, 0.0);
    berg_sinkhorn_set_max_iterations(c.sk, 10);
    bench_pair("sinkhorn 256^2 x10 it (log domain)", run_sinkhorn, &c, "scaling", run_sinkhorn,
               &b, 5);
    printf("(checksum %g)\n", a.sink + b.sink + c.sink);
    berg_sinkhorn_destroy(b.sk);
    berg_sinkhorn_destroy(c.sk);
    berg_heat_destroy(b.heat);
    berg_space_destroy(a.s);
    berg_space_destroy(b.s);
    free(a.p);
    free(a.q);
    free(b.p);
    free(b.q);
    free(b.tmp);
    return 0;
}
