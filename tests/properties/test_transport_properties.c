/* Randomized identities of the 1-D Wasserstein distances and of Sinkhorn
 * (random sizes including 1, 2 and primes, random boundaries and metrics):
 *   W2 1-D: W2(p, p) = 0; symmetry W2(p, q) = W2(q, p); translation: q =
 *     p shifted by m whole cells gives Wp = m h sqrt(g) for every order;
 *     the triangle inequality; W2 = Wp at order 2;
 *   Sinkhorn (both modes, rank 1-2, periodic axes): cost and divergence are
 *     symmetric in (p, q); the divergence of p with itself is 0; cost and
 *     divergence are invariant under translating p and q together by whole
 *     cells on a periodic grid.
 * The seed is printed; BERG_PROPERTY_SEED / BERG_PROPERTY_CASES override. */
#include <stdlib.h>

#include "testutil.h"

static const size_t SIZES1[] = {1, 2, 3, 5, 7, 8, 13, 31, 64, 97, 128, 211};

static size_t pick(unsigned long long *rng, size_t k) { return (size_t)(tu_uniform(rng) * (double)k); }

static size_t w2_cases, sk_cases;

/* a random measure supported on cells [a, b), normalized on S */
static void random_measure(const berg_space *S, size_t n, size_t a, size_t b, double *p,
                           unsigned long long *rng)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (i >= a && i < b) ? 0.05 + tu_uniform(rng) : 0.0;
    berg_space_normalize(S, p, NULL);
}

static void check_w2(unsigned long long *rng)
{
    size_t n = SIZES1[pick(rng, sizeof SIZES1 / sizeof SIZES1[0])];
    double lo = -5.0 * tu_uniform(rng), L = 0.5 + 10.0 * tu_uniform(rng), g = 0.3 + 3.0 * tu_uniform(rng);
    double hi = lo + L;
    berg_boundary bc = (berg_boundary)pick(rng, 3);
    size_t nn[1] = {n};
    berg_space *S = tu_space(1, nn, &lo, &hi, &bc, &g);
    if (!S)
        return;
    w2_cases++;
    double *p = tu_vec(n), *q = tu_vec(n), *r = tu_vec(n);
    size_t m = n > 1 ? pick(rng, n) : 0;       /* shift */
    size_t w = 1 + pick(rng, n - m);            /* support [a, a + w) and its shift fit */
    size_t a = pick(rng, n - m - w + 1);
    random_measure(S, n, a, a + w, p, rng);
    for (size_t i = 0; i < n; i++)
        q[i] = i >= m ? p[i - m] : 0.0;         /* p shifted right by m cells */
    random_measure(S, n, 0, n, r, rng);
    double h = L / (double)n, want = (double)m * h * sqrt(g);
    char what[96];
    snprintf(what, sizeof what, "n %zu bc %d g %.3g shift %zu", n, (int)bc, g, m);

    double d_pp, d_pq, d_qp, d_pr, d_qr, w2p;
    int ok = berg_w2_distance_1d(S, p, p, &d_pp) == BERG_OK &&
             berg_w2_distance_1d(S, p, q, &d_pq) == BERG_OK &&
             berg_w2_distance_1d(S, q, p, &d_qp) == BERG_OK &&
             berg_w2_distance_1d(S, p, r, &d_pr) == BERG_OK &&
             berg_w2_distance_1d(S, q, r, &d_qr) == BERG_OK &&
             berg_wp_distance_1d(S, 2.0, p, q, &w2p) == BERG_OK;
    CHECK(ok, "%s: W2 refused: %s", what, berg_last_error());
    if (ok) {
        CHECK(d_pp <= 1e-12 * L * sqrt(g), "%s: W2(p, p) = %.3g", what, d_pp);
        CHECK_REL(d_pq, d_qp, 1e-12, "%s: symmetry", what);
        CHECK(fabs(d_pq - want) <= 1e-10 * (want + h * sqrt(g)), "%s: W2 of a shift %.17g, want %.17g",
              what, d_pq, want);
        CHECK(d_pq <= (d_pr + d_qr) * (1 + 1e-12) + 1e-15, "%s: triangle %.17g > %.17g + %.17g", what,
              d_pq, d_pr, d_qr);
        CHECK(fabs(w2p - d_pq) <= 1e-12 * (d_pq + h), "%s: Wp(2) %.17g != W2 %.17g", what, w2p, d_pq);
    }
    static const double ORDERS[] = {1.0, 1.5, 3.0, 7.0};
    double order = ORDERS[pick(rng, 4)], wp;
    CHECK(berg_wp_distance_1d(S, order, p, q, &wp) == BERG_OK, "%s: Wp: %s", what, berg_last_error());
    CHECK(fabs(wp - want) <= 1e-10 * (want + h * sqrt(g)), "%s: W%g of a shift %.17g, want %.17g",
          what, order, wp, want);
    free(p), free(q), free(r);
    berg_space_destroy(S);
}

static const size_t SIZESK[] = {19, 23, 24, 29, 31, 32};

/* shift a C-order array on an n[0] x n[1] periodic grid by (s0, s1) cells */
static void shift2(const double *p, const size_t *n, size_t d, size_t s0, size_t s1, double *out)
{
    size_t n1 = d == 2 ? n[1] : 1;
    for (size_t i = 0; i < n[0]; i++)
        for (size_t j = 0; j < n1; j++)
            out[((i + s0) % n[0]) * n1 + (j + s1) % n1] = p[i * n1 + j];
}

static void check_sinkhorn(unsigned long long *rng)
{
    size_t d = 1 + pick(rng, 2), n[2] = {1, 1};
    double lo[2], hi[2], g[4] = {0, 0, 0, 0};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    for (size_t a = 0; a < d; a++) {
        n[a] = SIZESK[pick(rng, sizeof SIZESK / sizeof SIZESK[0])];
        lo[a] = -2.0;
        hi[a] = 2.0;
        g[a * d + a] = 0.7 + 0.6 * tu_uniform(rng);
    }
    unsigned flags = tu_uniform(rng) < 0.5 ? BERG_SINKHORN_LOG_DOMAIN : BERG_PLAN_ESTIMATE;
    double eps = 0.6 + 1.4 * tu_uniform(rng);
    berg_space *S = tu_space((int)d, n, lo, hi, bc, g);
    berg_sinkhorn *K = NULL;
    char what[96];
    snprintf(what, sizeof what, "sinkhorn rank %zu n (%zu, %zu) eps %.3g %s", d, n[0], n[1], eps,
             flags & BERG_SINKHORN_LOG_DOMAIN ? "log" : "scaling");
    if (!S)
        return;
    berg_status st = berg_sinkhorn_create(&K, S, eps, flags);
    CHECK(st == BERG_OK, "%s: create: %s", what, berg_last_error());
    if (st != BERG_OK) {
        berg_space_destroy(S);
        return;
    }
    berg_sinkhorn_set_tolerance(K, 1e-11);
    sk_cases++;
    size_t N = berg_space_size(S);
    double *p = tu_vec(N), *q = tu_vec(N), *ps = tu_vec(N), *qs = tu_vec(N);
    random_measure(S, N, 0, N, p, rng);
    random_measure(S, N, 0, N, q, rng);
    size_t s0 = pick(rng, n[0]), s1 = pick(rng, n[1]);
    shift2(p, n, d, s0, s1, ps);
    shift2(q, n, d, s0, s1, qs);
    double c_pq, c_qp, c_sh, s_pq, s_qp, s_pp, s_sh;
    int ok = berg_sinkhorn_cost(K, p, q, &c_pq) == BERG_OK &&
             berg_sinkhorn_cost(K, q, p, &c_qp) == BERG_OK &&
             berg_sinkhorn_cost(K, ps, qs, &c_sh) == BERG_OK &&
             berg_sinkhorn_divergence(K, p, q, &s_pq) == BERG_OK &&
             berg_sinkhorn_divergence(K, q, p, &s_qp) == BERG_OK &&
             berg_sinkhorn_divergence(K, p, p, &s_pp) == BERG_OK &&
             berg_sinkhorn_divergence(K, ps, qs, &s_sh) == BERG_OK;
    CHECK(ok, "%s: solve: %s", what, berg_last_error());
    if (ok) {
        double scale = fabs(c_pq) + eps;
        CHECK(fabs(c_pq - c_qp) <= 1e-8 * scale, "%s: cost(p,q) %.15g != cost(q,p) %.15g", what,
              c_pq, c_qp);
        CHECK(fabs(c_pq - c_sh) <= 1e-8 * scale, "%s: cost %.15g changes under a shift (%zu,%zu): %.15g",
              what, c_pq, s0, s1, c_sh);
        CHECK(fabs(s_pq - s_qp) <= 1e-8 * scale, "%s: S(p,q) %.15g != S(q,p) %.15g", what, s_pq, s_qp);
        CHECK(fabs(s_pp) <= 1e-8 * scale, "%s: S(p,p) = %.3g", what, s_pp);
        CHECK(fabs(s_pq - s_sh) <= 1e-8 * scale, "%s: S %.15g changes under a shift: %.15g", what,
              s_pq, s_sh);
        CHECK(s_pq >= -1e-8 * scale, "%s: S(p,q) = %.3g < 0", what, s_pq);
    }
    free(p), free(q), free(ps), free(qs);
    berg_sinkhorn_destroy(K);
    berg_space_destroy(S);
}

int main(void)
{
    unsigned long long seed = 20261206ull, rng;
    size_t cases = 200;
    if (getenv("BERG_PROPERTY_SEED"))
        seed = strtoull(getenv("BERG_PROPERTY_SEED"), NULL, 0);
    if (getenv("BERG_PROPERTY_CASES"))
        cases = (size_t)strtoull(getenv("BERG_PROPERTY_CASES"), NULL, 0);
    printf("transport properties: seed %llu (BERG_PROPERTY_SEED), %zu W2 and %zu Sinkhorn "
           "configurations (BERG_PROPERTY_CASES)\n", seed, cases, cases / 5);
    rng = seed;
    for (size_t i = 0; i < cases; i++)
        check_w2(&rng);
    for (size_t i = 0; i < cases / 5; i++)
        check_sinkhorn(&rng);
    printf("transport properties: %zu W2 and %zu Sinkhorn configurations checked\n", w2_cases,
           sk_cases);
    return test_summary("transport-properties");
}
