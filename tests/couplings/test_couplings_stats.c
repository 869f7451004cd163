/*
 * tests/couplings/test_couplings_stats.c - the statistics of the
 * score-matching couplings: coverage of the sandwich standard errors over
 * replicate exact free-field ensembles, phi^4 ensembles sampled exactly
 * by Metropolis (independent chains: sandwich over members; one long
 * chain: batch means, and their coverage over replicate chains).
 */
#include "testutil.h"

typedef struct ff { double m2; } ff;

static int ff_symbol(size_t ndim, const double *k, double *c, void *ud)
{
    const ff *f = ud;
    double k2 = 0.0;
    for (size_t a = 0; a < ndim; a++)
        k2 += k[a] * k[a];
    *c = 1.0 / (k2 + f->m2);
    return 0;
}

/* ---- coverage of the sandwich on exact free fields ---------------------- */

static void test_coverage_free(void)
{
    size_t n[2] = {4, 4};
    double lo[2] = {0, 0}, hi[2] = {4, 4};
    berg_space *lat = tu_space(2, n, lo, hi, NULL, NULL);
    ff f = {0.8};
    berg_multiplier *M = NULL;
    berg_multiplier_create(&M, lat, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD, ff_symbol, &f);
    berg_operator ops[2] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2};
    berg_basis *b = NULL;
    berg_basis_create(&b, lat, 2, ops);
    const size_t R = 400, count = 400, N = 16;
    const double want[2] = {0.5, 0.4};
    double *phi = tu_vec(count * N), lam[2], cov[4], z2 = 0.0;
    size_t inside = 0, total = 0;
    for (size_t r = 0; r < R; r++) {
        for (size_t m = 0; m < count; m++)
            berg_multiplier_random_field(M, 1000 + r, m, phi + m * N);
        if (berg_couplings_score_matching(b, count, 0, phi, lam, cov) != BERG_OK) {
            CHECK(0, "replicate %zu: %s", r, berg_last_error());
            continue;
        }
        for (size_t i = 0; i < 2; i++) {
            double z = (lam[i] - want[i]) / sqrt(cov[i * 3]);
            z2 += z * z;
            inside += fabs(z) <= 1.96;
            total++;
        }
    }
    double frac = (double)inside / (double)total, mz2 = z2 / (double)total;
    printf("  sandwich, %zu exact free-field ensembles of %zu: %.3f within 1.96 SE, mean z^2 %.3f\n",
           R, count, frac, mz2);
    CHECK(frac >= 0.92 && frac <= 0.98, "coverage of the 95%% interval: %g", frac);
    CHECK(mz2 >= 0.8 && mz2 <= 1.25, "mean z^2: %g", mz2);
    free(phi);
    berg_basis_destroy(b);
    berg_multiplier_destroy(M);
    berg_space_destroy(lat);
}

/* ---- phi^4 by Metropolis ---------------------------------------------------- */

/* S = lg sum (grad phi)^2 + l2 sum phi^2 + l4 sum phi^4 on an L x L lattice
 * with h = 1 (w = 1, c_a = 1) */
typedef struct phi4 { size_t L; double lg, l2, l4; } phi4;

static double local_action(const phi4 *m, const double *phi, size_t x, double v)
{
    size_t L = m->L, i = x / L, j = x % L;
    size_t nb[4] = {((i + 1) % L) * L + j, ((i + L - 1) % L) * L + j, i * L + (j + 1) % L,
                    i * L + (j + L - 1) % L};
    double g = 0.0;
    for (int q = 0; q < 4; q++) {
        double d = phi[nb[q]] - v;
        g += d * d;
    }
    double v2 = v * v;
    return m->lg * g + m->l2 * v2 + m->l4 * v2 * v2;
}

static void sweep(const phi4 *m, double *phi, unsigned long long *st, size_t *acc)
{
    size_t N = m->L * m->L;
    for (size_t x = 0; x < N; x++) {
        double old = phi[x], prop = old + 2.4 * (tu_uniform(st) - 0.5);
        double dS = local_action(m, phi, x, prop) - local_action(m, phi, x, old);
        if (dS <= 0.0 || tu_uniform(st) < exp(-dS)) {
            phi[x] = prop;
            (*acc)++;
        }
    }
}

static void z_check(const double *lam, const double *cov, const double *want, size_t k,
                    const char *what)
{
    for (size_t i = 0; i < k; i++) {
        double se = sqrt(cov[i * k + i]), z = (lam[i] - want[i]) / se;
        printf("  %s: lambda_%zu = %.5f +- %.5f (true %.5f, z = %+.2f)\n", what, i, lam[i], se,
               want[i], z);
        CHECK(se > 0 && fabs(z) <= 3.0, "%s: coupling %zu: z = %g", what, i, z);
    }
}

static void test_phi4(void)
{
    const phi4 mod = {4, 0.5, 0.3, 0.25};
    const size_t N = 16;
    const double want[3] = {0.5, 0.3, 0.25};
    size_t n[2] = {4, 4};
    double lo[2] = {0, 0}, hi[2] = {4, 4};
    berg_space *lat = tu_space(2, n, lo, hi, NULL, NULL);
    berg_operator ops[3] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4};
    berg_basis *b = NULL;
    berg_basis_create(&b, lat, 3, ops);
    unsigned long long st = 20261206;
    size_t acc = 0;

    /* independent chains: member m is the state of chain m after 300 sweeps */
    const size_t count = 2000;
    double *phi = tu_vec(count * N), lam[3], cov[9];
    for (size_t m = 0; m < count; m++) {
        double *p = phi + m * N;
        for (size_t x = 0; x < N; x++)
            p[x] = tu_uniform(&st) - 0.5;
        for (size_t s = 0; s < 300; s++)
            sweep(&mod, p, &st, &acc);
    }
    printf("  Metropolis acceptance %.2f\n", (double)acc / (double)(count * 300 * N));
    CHECK_STATUS(berg_couplings_score_matching(b, count, 0, phi, lam, cov), BERG_OK,
                 "phi^4, independent chains");
    z_check(lam, cov, want, 3, "phi^4 4x4, 2000 independent chains");
    free(phi);

    /* one long chain, every sweep kept: batch means */
    const size_t T = 40000;
    double *chain = tu_vec(T * N), cb[9], cn[9];
    double cur[16] = {0};
    for (size_t s = 0; s < 500; s++)
        sweep(&mod, cur, &st, &acc);
    for (size_t t = 0; t < T; t++) {
        sweep(&mod, cur, &st, &acc);
        memcpy(chain + t * N, cur, sizeof cur);
    }
    CHECK_STATUS(berg_couplings_score_matching(b, T, 40, chain, lam, cb), BERG_OK,
                 "one chain, 40 batches");
    z_check(lam, cb, want, 3, "phi^4 4x4, one chain of 40000 sweeps, batch means");
    CHECK_STATUS(berg_couplings_score_matching(b, T, 0, chain, lam, cn), BERG_OK,
                 "one chain, members taken as independent");
    for (size_t i = 0; i < 3; i++) {
        printf("  variance ratio batch means / independent, coupling %zu: %.2f\n", i,
               cb[i * 4] / cn[i * 4]);
        CHECK(cb[i * 4] > 1.3 * cn[i * 4],
              "the chain is correlated: batch means see a larger variance (%zu: %g vs %g)", i,
              cb[i * 4], cn[i * 4]);
    }
    free(chain);

    /* coverage of batch means over replicate chains */
    const size_t R = 60, T2 = 6000;
    double *c2 = tu_vec(T2 * N), z2 = 0.0;
    size_t inside = 0, total = 0;
    for (size_t r = 0; r < R; r++) {
        for (size_t x = 0; x < N; x++)
            cur[x] = tu_uniform(&st) - 0.5;
        for (size_t s = 0; s < 200; s++)
            sweep(&mod, cur, &st, &acc);
        for (size_t t = 0; t < T2; t++) {
            sweep(&mod, cur, &st, &acc);
            memcpy(c2 + t * N, cur, sizeof cur);
        }
        if (berg_couplings_score_matching(b, T2, 20, c2, lam, cb) != BERG_OK) {
            CHECK(0, "chain %zu: %s", r, berg_last_error());
            continue;
        }
        for (size_t i = 0; i < 3; i++) {
            double z = (lam[i] - want[i]) / sqrt(cb[i * 4]);
            z2 += z * z;
            inside += fabs(z) <= 1.96;
            total++;
        }
    }
    double frac = (double)inside / (double)total, mz2 = z2 / (double)total;
    printf("  batch means, %zu chains of %zu sweeps in 20 batches: %.3f within 1.96 SE, mean z^2 "
           "%.3f\n", R, T2, frac, mz2);
    /* 20 batches: z is Student-t with 19 degrees of freedom (E z^2 = 1.12) */
    CHECK(frac >= 0.85 && frac <= 0.99, "batch-means coverage: %g", frac);
    CHECK(mz2 >= 0.7 && mz2 <= 1.6, "batch-means mean z^2: %g", mz2);
    free(c2);
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

int main(void)
{
    test_coverage_free();
    test_phi4();
    return test_summary("couplings-stats");
}
