/*
 * tests/couplings/test_couplings.c - basis operators (gradients and
 * Laplacians against finite differences), score matching of exactly
 * sampled free fields (z-scores), grid densities (score matching against
 * the KL projection, both against the couplings of the family), beta
 * functions (exact on quadratics, second order, propagated covariance),
 * the flow record on a Gaussian whose mass runs analytically, refusals.
 */
#include <pthread.h>

#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

static berg_space *lattice(size_t ndim, const size_t *n, const double *len, const double *metric)
{
    double lo[8] = {0}, hi[8];
    for (size_t a = 0; a < ndim; a++)
        hi[a] = len[a];
    return tu_space((int)ndim, n, lo, hi, NULL, metric);
}

typedef struct ff { double m2; } ff;

/* the free-field spectrum 1 / (k_FD^2 + m^2) (the multiplier passes
 * 2 sin(k h / 2) / h with BERG_SYMBOL_FD) */
static int ff_symbol(size_t ndim, const double *k, double *c, void *ud)
{
    const ff *f = ud;
    double k2 = 0.0;
    for (size_t a = 0; a < ndim; a++)
        k2 += k[a] * k[a];
    *c = 1.0 / (k2 + f->m2);
    return 0;
}

/* count exact draws of the free field S = 1/2 int (grad phi)^2 + m2/2 int
 * phi^2 (lambda_GRAD2 = 1/2, lambda_PHI2 = m2/2), member m from stream m */
static void free_field(const berg_space *lat, double m2, size_t count, unsigned long long seed,
                       double *phi)
{
    ff f = {m2};
    berg_multiplier *M = NULL;
    CHECK_STATUS(berg_multiplier_create(&M, lat, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD, ff_symbol,
                                        &f),
                 BERG_OK, "multiplier");
    size_t N = berg_space_size(lat);
    for (size_t m = 0; m < count; m++)
        berg_multiplier_random_field(M, seed, m, phi + m * N);
    berg_multiplier_destroy(M);
}

/* a user operator: L = sum_x w phi_x^4 (as BERG_OPERATOR_PHI4), w in user_data */
static int op_phi4(size_t size, const double *phi, double *value, double *grad, double *lap,
                   void *ud)
{
    double w = *(const double *)ud, s = 0.0, s2 = 0.0;
    for (size_t x = 0; x < size; x++) {
        double p2 = phi[x] * phi[x];
        s += p2 * p2;
        s2 += p2;
        if (grad)
            grad[x] = 4.0 * w * p2 * phi[x];
    }
    *value = w * s;
    if (lap)
        *lap = 12.0 * w * s2;
    return 0;
}

/* a user operator that is not a built-in: L = sum_x w phi_x phi_{x+2} on a
 * ring (next-nearest neighbours), grad_x = w (phi_{x+2} + phi_{x-2}), lap 0 */
static int op_nnn(size_t size, const double *phi, double *value, double *grad, double *lap,
                  void *ud)
{
    double w = *(const double *)ud, s = 0.0;
    for (size_t x = 0; x < size; x++) {
        s += phi[x] * phi[(x + 2) % size];
        if (grad)
            grad[x] = w * (phi[(x + 2) % size] + phi[(x + size - 2) % size]);
    }
    *value = w * s;
    if (lap)
        *lap = 0.0;
    return 0;
}

static int op_fail(size_t size, const double *phi, double *value, double *grad, double *lap,
                   void *ud)
{
    (void)size, (void)phi, (void)value, (void)grad, (void)lap, (void)ud;
    return 7;
}

static int op_nan(size_t size, const double *phi, double *value, double *grad, double *lap,
                  void *ud)
{
    (void)ud;
    *value = 0.0;
    if (grad)
        for (size_t x = 0; x + 1 < size; x++) /* forgets the last entry */
            grad[x] = phi[x];
    if (lap)
        *lap = 1.0;
    return 0;
}

/* ---- basis operators against finite differences -------------------------- */

static void test_basis_derivatives(void)
{
    size_t n[2] = {4, 3};
    double len[2] = {2.0, 1.5}, g[4] = {1.5, 0.0, 0.0, 0.8};
    berg_space *lat = lattice(2, n, len, g);
    berg_operator ops[5] = {BERG_OPERATOR_PHI, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4,
                            BERG_OPERATOR_PHI6, BERG_OPERATOR_GRAD2};
    berg_basis *b = NULL;
    CHECK_STATUS(berg_basis_create(&b, lat, 5, ops), BERG_OK, "basis of 5 built-ins");
    double w = berg_space_cell_weight(lat);
    CHECK_STATUS(berg_basis_add(b, op_phi4, &w), BERG_OK, "add a callback");
    const size_t k = 6, N = 12;
    CHECK(berg_basis_size(b) == k && berg_basis_cells(b) == N, "size and cells");
    double phi[12], v[6], grad[72], lap[6];
    unsigned long long st = 5;
    for (size_t x = 0; x < N; x++)
        phi[x] = 2.0 * tu_uniform(&st) - 1.0;
    CHECK_STATUS(berg_basis_evaluate(b, 1, phi, v), BERG_OK, "evaluate");
    CHECK_STATUS(berg_basis_gradient(b, phi, grad, lap), BERG_OK, "gradient");
    /* values by hand: GRAD2 with g^{aa} = 1/g_aa, h = (0.5, 0.5) */
    double s1 = 0, s2 = 0, s4 = 0, s6 = 0, gr = 0;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 3; j++) {
            double p = phi[i * 3 + j];
            s1 += p, s2 += p * p, s4 += pow(p, 4), s6 += pow(p, 6);
            double d0 = (phi[((i + 1) % 4) * 3 + j] - p) / 0.5;
            double d1 = (phi[i * 3 + (j + 1) % 3] - p) / 0.5;
            gr += d0 * d0 / 1.5 + d1 * d1 / 0.8;
        }
    double want[6] = {w * s1, w * s2, w * s4, w * s6, w * gr, w * s4};
    for (size_t i = 0; i < k; i++)
        CHECK_REL(v[i], want[i], 1e-13, "value of operator %zu", i);
    /* gradients and Laplacians by central differences */
    const double e = 1e-4;
    for (size_t i = 0; i < k; i++) {
        double lap_fd = 0.0, gerr = 0.0, gscale = 0.0;
        for (size_t x = 0; x < N; x++) {
            double p0 = phi[x], vp[6], vm[6];
            phi[x] = p0 + e;
            berg_basis_evaluate(b, 1, phi, vp);
            phi[x] = p0 - e;
            berg_basis_evaluate(b, 1, phi, vm);
            phi[x] = p0;
            double d1 = (vp[i] - vm[i]) / (2 * e);
            lap_fd += (vp[i] - 2 * v[i] + vm[i]) / (e * e);
            gerr = fmax(gerr, fabs(d1 - grad[i * N + x]));
            gscale = fmax(gscale, fabs(grad[i * N + x]));
        }
        CHECK(gerr <= 1e-7 * fmax(gscale, 1.0), "gradient of operator %zu: error %g", i, gerr);
        CHECK_ABS(lap[i], lap_fd, 1e-4 * fmax(fabs(lap[i]), 1.0), "laplacian of operator %zu", i);
    }
    /* the callback copy of PHI4 agrees exactly */
    CHECK(v[5] == v[2], "callback phi^4 value");
    CHECK(tu_max_abs_diff(grad + 5 * N, grad + 2 * N, N) == 0.0, "callback phi^4 gradient");
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

/* ---- free fields sampled exactly ----------------------------------------- */

static void z_check(const double *lam, const double *cov, const double *want, size_t k,
                    double zmax, const char *what)
{
    for (size_t i = 0; i < k; i++) {
        double se = sqrt(cov[i * k + i]), z = (lam[i] - want[i]) / se;
        printf("  %s: lambda_%zu = %.6f +- %.6f (true %.6f, z = %+.2f)\n", what, i, lam[i], se,
               want[i], z);
        CHECK(se > 0 && fabs(z) <= zmax, "%s: coupling %zu: z = %g", what, i, z);
    }
}

static void test_free_field(void)
{
    /* 2-D 8 x 8 lattice, h = 0.5; S = 1/2 int (grad phi)^2 + m2/2 int phi^2 */
    size_t n[2] = {8, 8};
    double len[2] = {4.0, 4.0};
    berg_space *lat = lattice(2, n, len, NULL);
    const size_t N = 64, count = 400;
    double m2 = 1.5;
    double *phi = tu_vec(count * N);
    free_field(lat, m2, count, 11, phi);
    berg_operator ops[3] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4};
    berg_basis *b = NULL;
    CHECK_STATUS(berg_basis_create(&b, lat, 3, ops), BERG_OK, "basis");
    double lam[3], cov[9], want[3] = {0.5, 0.75, 0.0};
    CHECK_STATUS(berg_couplings_score_matching(b, count, 0, phi, lam, cov), BERG_OK,
                 "score matching, free field");
    z_check(lam, cov, want, 3, 3.0, "free field 8x8");
    /* without the (collinear) phi^4 term the mass is sharp: 400 x 64 sites */
    double cov2x2[4];
    CHECK_STATUS(berg_couplings_score_matching(b, count, 0, phi, lam, cov), BERG_OK, "again");
    berg_basis *b2 = NULL;
    berg_basis_create(&b2, lat, 2, ops);
    CHECK_STATUS(berg_couplings_score_matching(b2, count, 0, phi, lam, cov2x2), BERG_OK,
                 "free field, 2 operators");
    z_check(lam, cov2x2, want, 2, 3.0, "free field 8x8, GRAD2 + PHI2");
    CHECK(sqrt(cov2x2[3]) < 0.1, "standard error of lambda_PHI2 is %g", sqrt(cov2x2[3]));
    berg_basis_destroy(b2);
    /* a user operator (next-nearest neighbours on a 1-D ring, true coupling 0)
     * next to the built-ins */
    size_t n1[1] = {32};
    double len1[1] = {32.0};
    berg_space *ring = lattice(1, n1, len1, NULL);
    double *phi1 = tu_vec(count * 32);
    free_field(ring, 0.5, count, 12, phi1);
    berg_basis *b1 = NULL;
    double w = 1.0;
    CHECK_STATUS(berg_basis_create(&b1, ring, 2, ops), BERG_OK, "ring basis");
    CHECK_STATUS(berg_basis_add(b1, op_nnn, &w), BERG_OK, "add nnn");
    double want1[3] = {0.5, 0.25, 0.0};
    CHECK_STATUS(berg_couplings_score_matching(b1, count, 0, phi1, lam, cov), BERG_OK,
                 "score matching with a callback");
    z_check(lam, cov, want1, 3, 3.0, "ring with a callback");
    /* threads: the same numbers bit for bit */
    double lam2[3], cov2[9];
    berg_set_threads(2);
    CHECK_STATUS(berg_couplings_score_matching(b1, count, 0, phi1, lam2, cov2), BERG_OK,
                 "two threads");
    berg_set_threads(1);
    CHECK(memcmp(lam, lam2, sizeof lam) == 0 && memcmp(cov, cov2, sizeof cov) == 0,
          "results independent of the thread count");
    /* batch means of independent members estimate the same covariance */
    double cb[9];
    CHECK_STATUS(berg_couplings_score_matching(b1, count, 40, phi1, lam2, cb), BERG_OK,
                 "40 batches");
    CHECK(memcmp(lam, lam2, sizeof lam) == 0, "batches do not change lambda");
    for (size_t i = 0; i < 3; i++)
        CHECK(cb[i * 4] > 0.4 * cov[i * 4] && cb[i * 4] < 2.5 * cov[i * 4],
              "batch-means variance %zu: %g vs %g", i, cb[i * 4], cov[i * 4]);
    free(phi1);
    berg_basis_destroy(b1);
    berg_space_destroy(ring);
    free(phi);
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

/* ---- grid densities ------------------------------------------------------- */

/* p = e^{-lambda.L(y)} on the grid of space (unnormalized: a measure) */
static double *family_density(const berg_basis *b, const berg_space *s, const double *lam)
{
    size_t n = berg_space_size(s), r = berg_space_rank(s), k = berg_basis_size(b);
    double *p = tu_vec(n), y[8], v[64];
    for (size_t j = 0; j < n; j++) {
        tu_grid_point(s, j, y);
        berg_basis_evaluate(b, 1, y, v);
        double e = 0.0;
        for (size_t i = 0; i < k; i++)
            e += lam[i] * v[i];
        p[j] = exp(-e);
    }
    (void)r;
    return p;
}

static void grid_case(size_t sites, const berg_operator *ops, size_t k, const double *lam_true,
                      size_t cells, double box)
{
    size_t nl[1] = {sites};
    double len[1] = {(double)sites};
    berg_space *lat = lattice(1, nl, len, NULL);
    berg_basis *b = NULL;
    CHECK_STATUS(berg_basis_create(&b, lat, k, ops), BERG_OK, "basis of %zu sites", sites);
    size_t n[3] = {cells, cells, cells};
    double lo[3] = {-box, -box, -box}, hi[3] = {box, box, box};
    berg_boundary bc[3] = {BERG_NEUMANN, BERG_DIRICHLET, BERG_PERIODIC};
    berg_space *s = tu_space((int)sites, n, lo, hi, bc, NULL);
    double *p = family_density(b, s, lam_true);
    double sm[8], kl[8];
    CHECK_STATUS(berg_couplings_grid_score_matching(b, s, p, sm), BERG_OK, "grid score matching");
    CHECK_STATUS(berg_couplings_kl_projection(b, s, 1e-12, 100, p, kl), BERG_OK, "KL projection");
    double dsk = tu_max_abs_diff(sm, kl, k), dkt = tu_max_abs_diff(kl, lam_true, k);
    printf("  %zu site(s), %zu^%zu grid: |SM - KL| = %.2e, |KL - true| = %.2e\n", sites, cells,
           sites, dsk, dkt);
    CHECK(dsk <= 1e-6, "%zu sites: score matching vs KL projection differ by %g", sites, dsk);
    CHECK(dkt <= 1e-9, "%zu sites: KL projection vs the family's couplings: %g", sites, dkt);
    free(p);
    berg_space_destroy(s);
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

static void test_grid(void)
{
    /* one site: a double well with a field */
    berg_operator o1[3] = {BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4, BERG_OPERATOR_PHI};
    double l1[3] = {-1.0, 0.25, 0.3};
    grid_case(1, o1, 3, l1, 2000, 5.0);
    /* two sites: kinetic, mass and quartic terms */
    berg_operator o2[3] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4};
    double l2[3] = {0.5, 0.4, 0.1};
    grid_case(2, o2, 3, l2, 160, 4.5);
    /* three sites with phi^6 */
    berg_operator o3[4] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4,
                           BERG_OPERATOR_PHI6};
    double l3[4] = {0.3, -0.2, 0.3, 0.02};
    grid_case(3, o3, 4, l3, 56, 3.8);

    /* truncated family: the wall flux term. The uniform density is lambda = 0
     * for both methods; a Gaussian cut at +-1 sigma agrees at second order */
    size_t nl[1] = {1};
    double len[1] = {1.0};
    berg_space *lat = lattice(1, nl, len, NULL);
    berg_basis *b = NULL;
    berg_operator o[2] = {BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4};
    berg_basis_create(&b, lat, 2, o);
    size_t n[1] = {64};
    double lo[1] = {-2.0}, hi[1] = {2.0};
    berg_space *s = tu_space(1, n, lo, hi, NULL, NULL);
    double *p = tu_vec(64), sm[2], kl[2];
    tu_fill(p, 64, 0.25);
    CHECK_STATUS(berg_couplings_grid_score_matching(b, s, p, sm), BERG_OK, "uniform: SM");
    CHECK_STATUS(berg_couplings_kl_projection(b, s, 1e-12, 50, p, kl), BERG_OK, "uniform: KL");
    /* KL exact; score matching to the O(h^2) of the midpoint sums (h = 1/16) */
    CHECK(tu_max_abs(sm, 2) < 1.0 / 256 && tu_max_abs(kl, 2) < 1e-10,
          "uniform density: lambda = 0 (SM %g, KL %g)", tu_max_abs(sm, 2), tu_max_abs(kl, 2));
    free(p);
    berg_space_destroy(s);
    double err[2];
    for (int r = 0; r < 2; r++) {
        size_t nn[1] = {r ? 400 : 200};
        double lo1[1] = {-1.0}, hi1[1] = {1.0}, lt[2] = {0.5, 0.0};
        s = tu_space(1, nn, lo1, hi1, NULL, NULL);
        p = family_density(b, s, lt);
        berg_couplings_grid_score_matching(b, s, p, sm);
        berg_couplings_kl_projection(b, s, 1e-12, 50, p, kl);
        err[r] = tu_max_abs_diff(sm, kl, 2);
        free(p);
        berg_space_destroy(s);
    }
    printf("  truncated Gaussian: |SM - KL| = %.3g (200 cells), %.3g (400 cells)\n", err[0],
           err[1]);
    CHECK(err[1] < 1e-4 && err[1] < err[0] / 3.0, "wall flux term: second order (%g, %g)", err[0],
          err[1]);

    /* the sample space's metric is a constant factor of Vol_S: lambda unchanged */
    {
        size_t n2[2] = {90, 90};
        double lo2[2] = {-4.5, -4.5}, hi2[2] = {4.5, 4.5}, g2[4] = {2.0, 0.0, 0.0, 0.5};
        size_t nl2[1] = {2};
        double len2[1] = {2.0};
        berg_space *lat2 = lattice(1, nl2, len2, NULL);
        berg_operator ob[3] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4};
        double lt[3] = {0.5, 0.4, 0.1}, a[3], c[3], d[3], e[3];
        berg_basis *bb = NULL;
        berg_basis_create(&bb, lat2, 3, ob);
        berg_space *s1 = tu_space(2, n2, lo2, hi2, NULL, NULL);
        berg_space *s2 = tu_space(2, n2, lo2, hi2, NULL, g2);
        double *pp = family_density(bb, s1, lt);
        berg_couplings_grid_score_matching(bb, s1, pp, a);
        berg_couplings_grid_score_matching(bb, s2, pp, c);
        berg_couplings_kl_projection(bb, s1, 1e-12, 100, pp, d);
        berg_couplings_kl_projection(bb, s2, 1e-12, 100, pp, e);
        CHECK(tu_max_abs_diff(a, c, 3) < 1e-12 && tu_max_abs_diff(d, e, 3) < 1e-12,
              "a metric on the sample space does not change lambda");
        free(pp);
        berg_space_destroy(s1);
        berg_space_destroy(s2);
        berg_basis_destroy(bb);
        berg_space_destroy(lat2);
    }

    /* moments the family cannot reach: a point mass at the edge of the box */
    berg_operator o1b[1] = {BERG_OPERATOR_PHI2};
    berg_basis *b1 = NULL;
    berg_basis_create(&b1, lat, 1, o1b);
    size_t n8[1] = {8};
    s = tu_space(1, n8, lo, hi, NULL, NULL);
    p = tu_vec(8);
    tu_fill(p, 8, 0.0);
    p[0] = 1.0;
    double l = 1234.5;
    berg_status stt = berg_couplings_kl_projection(b1, s, 1e-10, 30, p, &l);
    CHECK(stt == BERG_ERR_NO_CONVERGENCE || stt == BERG_ERR_NOT_SPD,
          "unreachable moments refused (status %d: %s)", (int)stt, berg_last_error());
    CHECK(l == 1234.5, "lambda untouched on failure");
    if (stt == BERG_ERR_NO_CONVERGENCE)
        CHECK_MESSAGE("mismatch", "the message gives the mismatch reached");
    free(p);
    berg_space_destroy(s);
    size_t n22[2] = {8, 8};
    double lo2[2] = {-1, -1}, hi2[2] = {1, 1};
    s = tu_space(2, n22, lo2, hi2, NULL, NULL);
    p = tu_vec(64);
    tu_fill(p, 64, 0.25);
    CHECK_STATUS(berg_couplings_grid_score_matching(b, s, p, sm), BERG_ERR_MISMATCH,
                 "rank 2 space, 1-site lattice");
    CHECK_MESSAGE("rank", "says why");
    free(p);
    berg_space_destroy(s);
    berg_basis_destroy(b1);
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

/* ---- beta functions --------------------------------------------------------- */

static void test_beta(void)
{
    /* exact on quadratics, on a non-uniform grid, in either direction */
    double x[6] = {0.0, 0.3, 0.5, 1.1, 1.2, 2.0}, lam[12], beta[12];
    for (int dir = 0; dir < 2; dir++) {
        double xs[6];
        for (size_t s = 0; s < 6; s++) {
            xs[s] = dir ? x[5 - s] : x[s];
            lam[2 * s] = 1.0 - 2.0 * xs[s] + 0.7 * xs[s] * xs[s];
            lam[2 * s + 1] = 3.0 + 0.5 * xs[s];
        }
        CHECK_STATUS(berg_couplings_beta(6, 2, xs, lam, NULL, beta, NULL), BERG_OK, "beta");
        double e = 0.0;
        for (size_t s = 0; s < 6; s++) {
            e = fmax(e, fabs(beta[2 * s] - (2.0 - 1.4 * xs[s])));
            e = fmax(e, fabs(beta[2 * s + 1] + 0.5));
        }
        CHECK(e < 1e-12, "beta exact on quadratics (direction %d): error %g", dir, e);
    }
    /* second order on exp(-2 s): the error falls ~4x when the spacing halves */
    double errs[2];
    for (int r = 0; r < 2; r++) {
        size_t S = r ? 21 : 11;
        double xs[21], l[21], bt[21], e = 0.0;
        for (size_t s = 0; s < S; s++) {
            xs[s] = 1.0 * (double)s / (double)(S - 1);
            l[s] = exp(-2.0 * xs[s]);
        }
        berg_couplings_beta(S, 1, xs, l, NULL, bt, NULL);
        for (size_t s = 0; s < S; s++)
            e = fmax(e, fabs(bt[s] - 2.0 * exp(-2.0 * xs[s])));
        errs[r] = e;
    }
    CHECK(errs[1] < errs[0] / 3.5 && errs[1] > errs[0] / 4.5, "second order: %g -> %g", errs[0],
          errs[1]);
    /* covariance: beta_cov = D cov D^T, checked on unit covariance at 3 scales
     * h = 1: D = [[-3/2, 2, -1/2], [-1/2, 0, 1/2], [1/2, -2, 3/2]] */
    double x3[3] = {0, 1, 2}, l3[3] = {0, 0, 0}, c3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, b3[3],
           bc[9];
    CHECK_STATUS(berg_couplings_beta(3, 1, x3, l3, c3, b3, bc), BERG_OK, "beta with cov");
    double D[9] = {-1.5, 2, -0.5, -0.5, 0, 0.5, 0.5, -2, 1.5}, want[9];
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            want[i * 3 + j] = 0;
            for (size_t t = 0; t < 3; t++)
                want[i * 3 + j] += D[i * 3 + t] * D[j * 3 + t];
        }
    CHECK(tu_max_abs_diff(bc, want, 9) < 1e-14, "beta_cov = D D^T");
    /* refusals */
    double xb[3] = {0, 1, 1}, sent[3] = {-7, -7, -7};
    CHECK_STATUS(berg_couplings_beta(3, 1, xb, l3, NULL, sent, NULL), BERG_ERR_DOMAIN,
                 "repeated scale");
    CHECK_MESSAGE("log_scale", "names log_scale");
    CHECK(sent[0] == -7 && sent[2] == -7, "beta untouched");
    CHECK_STATUS(berg_couplings_beta(3, 1, x3, l3, NULL, sent, bc), BERG_ERR_NULL,
                 "beta_cov without cov");
    CHECK_STATUS(berg_couplings_beta(1, 1, x3, l3, NULL, sent, NULL), BERG_ERR_SIZE, "one scale");
}

/* ---- a flow: a Gaussian whose mass runs ------------------------------------ */

static void test_flow(void)
{
    /* lambda_PHI2(s) = m2(s) / 2 with m2(s) = 4 e^{-s}, s = ln Lambda in
     * [0, 1]; lambda_GRAD2 = 1/2. Member m is the same white noise at every
     * scale (stream m), so the ensembles are one flowed ensemble: strongly
     * correlated across scales. */
    size_t n[2] = {8, 8};
    double len[2] = {4.0, 4.0};
    berg_space *lat = lattice(2, n, len, NULL);
    const size_t N = 64, count = 500, S = 11, k = 2;
    berg_operator ops[2] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2};
    berg_basis *b = NULL;
    berg_basis_create(&b, lat, 2, ops);
    berg_couplings_flow *fl = NULL;
    CHECK_STATUS(berg_couplings_flow_create(&fl, b, count, 0), BERG_OK, "flow create");
    berg_basis_destroy(b); /* the flow keeps a copy */
    b = NULL;
    berg_basis_create(&b, lat, 2, ops);
    double *phi = tu_vec(count * N), xs[11], lam_single[11][2], cov_single[11][4];
    for (size_t s = 0; s < S; s++) {
        xs[s] = 0.1 * (double)s;
        free_field(lat, 4.0 * exp(-xs[s]), count, 77, phi);
        CHECK_STATUS(berg_couplings_flow_add(fl, xs[s], phi), BERG_OK, "flow add %zu", s);
        berg_couplings_score_matching(b, count, 0, phi, lam_single[s], cov_single[s]);
    }
    CHECK(berg_couplings_flow_size(fl) == S, "flow size");
    CHECK_STATUS(berg_couplings_flow_add(fl, 0.5, phi), BERG_ERR_DOMAIN, "non-monotone scale");
    CHECK(berg_couplings_flow_size(fl) == S, "refused add leaves the record");
    const size_t n2 = S * k;
    double *lam = tu_vec(n2), *cov = tu_vec(n2 * n2), *beta = tu_vec(n2), *bcov = tu_vec(n2 * n2),
           x_out[11];
    CHECK_STATUS(berg_couplings_flow_result(fl, x_out, lam, cov, beta, bcov), BERG_OK, "result");
    CHECK(memcmp(x_out, xs, sizeof xs) == 0, "scales returned");
    double dl = 0.0, dc = 0.0;
    for (size_t s = 0; s < S; s++)
        for (size_t i = 0; i < k; i++) {
            dl = fmax(dl, fabs(lam[s * k + i] - lam_single[s][i]));
            for (size_t j = 0; j < k; j++)
                dc = fmax(dc, fabs(cov[(s * k + i) * n2 + s * k + j] - cov_single[s][i * k + j]) /
                                  cov_single[s][i * k + i]);
        }
    CHECK(dl == 0.0 && dc < 1e-12, "per-scale blocks equal single-scale score matching (%g, %g)",
          dl, dc);
    /* couplings and beta within errors of the truth; the truth of beta is
     * the finite-difference operator on the exact lambda (second order, its
     * truncation checked against the analytic beta below) */
    double ltrue[22], bfd[22];
    for (size_t s = 0; s < S; s++) {
        ltrue[s * k] = 0.5;
        ltrue[s * k + 1] = 2.0 * exp(-xs[s]);
    }
    berg_couplings_beta(S, k, xs, ltrue, NULL, bfd, NULL);
    double zmax_l = 0.0, zmax_b = 0.0, trunc = 0.0, se_joint = 0.0, se_indep = 0.0;
    for (size_t s = 0; s < S; s++)
        for (size_t i = 0; i < k; i++) {
            size_t p = s * k + i;
            zmax_l = fmax(zmax_l, fabs(lam[p] - ltrue[p]) / sqrt(cov[p * n2 + p]));
            zmax_b = fmax(zmax_b, fabs(beta[p] - bfd[p]) / sqrt(bcov[p * n2 + p]));
            double banal = i ? 2.0 * exp(-xs[s]) : 0.0;
            trunc = fmax(trunc, fabs(bfd[p] - banal) / sqrt(bcov[p * n2 + p]));
        }
    /* the joint covariance matters: beta's error with the cross-scale blocks
     * dropped (independent estimates) is much larger */
    double *cind = tu_vec(n2 * n2), *bind = tu_vec(n2 * n2), bdummy[22];
    for (size_t p = 0; p < n2; p++)
        for (size_t q = 0; q < n2; q++)
            cind[p * n2 + q] = (p / k == q / k) ? cov[p * n2 + q] : 0.0;
    berg_couplings_beta(S, k, xs, lam, cind, bdummy, bind);
    size_t mid = (S / 2) * k + 1;
    se_joint = sqrt(bcov[mid * n2 + mid]);
    se_indep = sqrt(bind[mid * n2 + mid]);
    printf("  flow: max |z| lambda %.2f, beta %.2f; FD truncation %.2f SE; beta_PHI2 at s = 0.5: "
           "%.4f +- %.4f (true %.4f; +- %.4f if scales were independent)\n",
           zmax_l, zmax_b, trunc, beta[mid], se_joint, 2.0 * exp(-0.5), se_indep);
    CHECK(zmax_l <= 3.5, "couplings along the flow: max |z| = %g", zmax_l);
    CHECK(zmax_b <= 3.5, "beta functions: max |z| = %g", zmax_b);
    CHECK(fabs(beta[mid] - 2.0 * exp(-0.5)) <= 3.0 * se_joint + 2e-3, "beta_PHI2 mid");
    CHECK(se_joint < 0.5 * se_indep, "correlated scales: beta error %g vs %g independent",
          se_joint, se_indep);
    /* refusals leave outputs alone */
    berg_couplings_flow *f1 = NULL;
    CHECK_STATUS(berg_couplings_flow_create(&f1, b, count, 1), BERG_ERR_SIZE, "nbatch = 1");
    CHECK(f1 == NULL, "*out untouched");
    CHECK_STATUS(berg_couplings_flow_create(&f1, b, count, 0), BERG_OK, "empty flow");
    double sent = 99.0;
    CHECK_STATUS(berg_couplings_flow_result(f1, NULL, &sent, NULL, NULL, NULL), BERG_ERR_SIZE,
                 "no scale yet");
    CHECK(sent == 99.0, "untouched");
    berg_couplings_flow_add(f1, 0.0, phi);
    CHECK_STATUS(berg_couplings_flow_result(f1, NULL, NULL, NULL, &sent, NULL), BERG_ERR_SIZE,
                 "beta with one scale");
    berg_couplings_flow_destroy(f1);
    free(cind), free(bind), free(lam), free(cov), free(beta), free(bcov), free(phi);
    berg_couplings_flow_destroy(fl);
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

/* ---- refusals --------------------------------------------------------------- */

static void test_refusals(void)
{
    size_t n[1] = {6};
    double len[1] = {6.0};
    berg_space *lat = lattice(1, n, len, NULL);
    berg_operator two[2] = {BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI2};
    berg_basis *b = NULL;
    CHECK_STATUS(berg_basis_create(&b, lat, 2, two), BERG_OK, "repeated operator accepted");
    double phi[60], lam[2] = {5, 5}, cov[4] = {5, 5, 5, 5};
    unsigned long long st = 3;
    for (size_t i = 0; i < 60; i++)
        phi[i] = tu_uniform(&st) - 0.5;
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 0, phi, lam, cov), BERG_ERR_NOT_SPD,
                 "repeated operator: A singular");
    CHECK_MESSAGE("score-matching matrix A", "names A");
    CHECK(lam[0] == 5 && cov[3] == 5, "outputs untouched");
    berg_basis_destroy(b);
    /* GRAD2 of constant fields: zero gradient */
    berg_operator g2[1] = {BERG_OPERATOR_GRAD2};
    berg_basis_create(&b, lat, 1, g2);
    double cst[12];
    tu_fill(cst, 12, 0.3);
    CHECK_STATUS(berg_couplings_score_matching(b, 2, 0, cst, lam, NULL), BERG_ERR_NOT_SPD,
                 "constant fields, GRAD2");
    CHECK_MESSAGE("zero gradient", "says why");
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 1, phi, lam, NULL), BERG_ERR_SIZE,
                 "nbatch = 1");
    CHECK_MESSAGE("nbatch", "names nbatch");
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 11, phi, lam, NULL), BERG_ERR_SIZE,
                 "nbatch > count");
    phi[13] = NAN;
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 0, phi, lam, NULL), BERG_ERR_NONFINITE,
                 "NaN field");
    CHECK_MESSAGE("phi[13]", "names the index");
    phi[13] = 0.1;
    berg_basis_destroy(b);
    /* callbacks */
    berg_basis_create(&b, lat, 1, two);
    berg_basis_add(b, op_fail, NULL);
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 0, phi, lam, NULL), BERG_ERR_CALLBACK,
                 "failing callback");
    CHECK_MESSAGE("operator 1", "names the operator");
    CHECK_MESSAGE("member 0", "names the member");
    berg_basis_destroy(b);
    berg_basis_create(&b, lat, 0, NULL);
    berg_basis_add(b, op_nan, NULL);
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 0, phi, lam, NULL), BERG_ERR_CALLBACK,
                 "callback forgets an entry");
    CHECK_MESSAGE("grad[5]", "names the entry");
    berg_basis_destroy(b);
    /* creation */
    berg_boundary bc[1] = {BERG_NEUMANN};
    double lo[1] = {0}, hi[1] = {6};
    berg_space *neu = tu_space(1, n, lo, hi, bc, NULL);
    b = NULL;
    CHECK_STATUS(berg_basis_create(&b, neu, 1, g2), BERG_ERR_UNSUPPORTED, "Neumann lattice");
    CHECK(b == NULL, "*out untouched");
    berg_operator bad[1] = {(berg_operator)9};
    CHECK_STATUS(berg_basis_create(&b, lat, 1, bad), BERG_ERR_DOMAIN, "unknown operator");
    CHECK_MESSAGE("ops[0]", "names ops[0]");
    size_t n2[2] = {4, 4};
    double lo2[2] = {0, 0}, hi2[2] = {4, 4}, gc[4] = {1, 0.3, 0.3, 1};
    berg_space *coupled = tu_space(2, n2, lo2, hi2, NULL, gc);
    CHECK_STATUS(berg_basis_create(&b, coupled, 1, g2), BERG_ERR_UNSUPPORTED,
                 "GRAD2 with a coupled metric");
    CHECK_STATUS(berg_basis_create(&b, coupled, 1, two), BERG_OK, "PHI2 with a coupled metric");
    berg_basis_destroy(b);
    /* overflow of the field powers */
    berg_basis_create(&b, lat, 1, (berg_operator[]){BERG_OPERATOR_PHI6});
    phi[3] = 1e60;
    CHECK_STATUS(berg_couplings_score_matching(b, 10, 0, phi, lam, NULL), BERG_ERR_NONFINITE,
                 "phi^6 overflows");
    CHECK(lam[0] == 5, "untouched");
    berg_basis_destroy(b);
    berg_space_destroy(coupled);
    berg_space_destroy(neu);
    berg_space_destroy(lat);
}

/* ---- one basis from several threads at once ------------------------------ */

typedef struct conc {
    const berg_basis *b;
    const berg_space *grid;
    const double *phi, *p;
    double lam[3], cov[9], sm[3], kl[3];
    berg_status st[3];
} conc;

static void *conc_run(void *arg)
{
    conc *c = arg;
    c->st[0] = berg_couplings_score_matching(c->b, 200, 0, c->phi, c->lam, c->cov);
    c->st[1] = berg_couplings_grid_score_matching(c->b, c->grid, c->p, c->sm);
    c->st[2] = berg_couplings_kl_projection(c->b, c->grid, 1e-12, 100, c->p, c->kl);
    return NULL;
}

static void test_concurrent(void)
{
    size_t nl[1] = {2};
    double len[1] = {2.0};
    berg_space *lat = lattice(1, nl, len, NULL);
    berg_operator ops[3] = {BERG_OPERATOR_GRAD2, BERG_OPERATOR_PHI2, BERG_OPERATOR_PHI4};
    berg_basis *b = NULL;
    berg_basis_create(&b, lat, 3, ops);
    size_t n[2] = {60, 60};
    double lo[2] = {-4, -4}, hi[2] = {4, 4}, lt[3] = {0.5, 0.4, 0.1};
    berg_space *grid = tu_space(2, n, lo, hi, NULL, NULL);
    double *p = family_density(b, grid, lt), *phi = tu_vec(400);
    unsigned long long st = 9;
    for (size_t i = 0; i < 400; i++)
        phi[i] = tu_uniform(&st) - 0.5;
    conc ref = {b, grid, phi, p, {0}, {0}, {0}, {0}, {BERG_OK}};
    conc_run(&ref);
    conc c[4];
    pthread_t th[4];
    berg_set_threads(2); /* the ensemble estimator also splits its members */
    for (int t = 0; t < 4; t++) {
        c[t] = ref;
        pthread_create(&th[t], NULL, conc_run, &c[t]);
    }
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    berg_set_threads(1);
    for (int t = 0; t < 4; t++)
        CHECK(c[t].st[0] == BERG_OK && c[t].st[1] == BERG_OK && c[t].st[2] == BERG_OK &&
                  !memcmp(c[t].lam, ref.lam, sizeof ref.lam) &&
                  !memcmp(c[t].cov, ref.cov, sizeof ref.cov) &&
                  !memcmp(c[t].sm, ref.sm, sizeof ref.sm) && !memcmp(c[t].kl, ref.kl, sizeof ref.kl),
              "thread %d: the serial results", t);
    free(p);
    free(phi);
    berg_space_destroy(grid);
    berg_basis_destroy(b);
    berg_space_destroy(lat);
}

int main(void)
{
    test_basis_derivatives();
    test_free_field();
    test_grid();
    test_beta();
    test_flow();
    test_refusals();
    test_concurrent();
    return test_summary("couplings");
}
