/*
 * tests/erg/test_erg.c - Wegner-Morris schemes and the ensemble flow in
 * ln Lambda (issue 17), against independent references:
 *   - Cdot of every family against central differences of C;
 *   - free fields: Gaussian ensembles (drawn by berg_multiplier_random_field)
 *     flow to the Gaussian of the closed-form mode equation, mode variances
 *     measured with FFTW and compared by chi-square at a fixed seed, for the
 *     exponential and Litim families and a coupled metric; the scheme's
 *     Gaussian point stays where it is;
 *   - strong order in ln Lambda by step halving against the exact OU
 *     solution driven by the same Brownian path;
 *   - one- and two-site lattices: histograms of the flowed ensemble against
 *     the closed-form density evolution (a Gaussian mixture convolved with
 *     the flow's Gaussian transition), chi-square; and against the grid
 *     Fokker-Planck flow of the same scheme (berg_fp_evolve_field: one site
 *     by finite volume, two sites by Fourier with the coupled site-space
 *     metric), where a doubled diffusion must be rejected;
 *   - the deterministic reparameterization: its exact Gaussian map against
 *     the second-order integration with the Gaussian score;
 *   - the seed action against a Fourier multiplier with symbol 1/C;
 *   - thread-count independence, continuation, refusals.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "berg.h"
#include "testutil.h"

/* ---- small helpers ------------------------------------------------------ */

static uint64_t rng_state = 0x1234567ull;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(rng_state >> 11) + 0.5) * 0x1.0p-53;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* the two-site mixture of Gaussians (means M, covariances S row-major,
 * weight mix_w on the first) that the two-site tests flow */
static const double mix_M[2][2] = {{-1.0, 0.8}, {1.0, -0.5}};
static const double mix_S[2][4] = {{0.3, 0.1, 0.1, 0.2}, {0.15, -0.05, -0.05, 0.25}};
static const double mix_w = 0.5;

/* count draws of the mixture into phi (2 count values) */
static void draw_mixture(double *phi, size_t count)
{
    for (size_t m = 0; m < count; m++) {
        int c = urand() < mix_w ? 0 : 1;
        const double *S = mix_S[c];
        double l00 = sqrt(S[0]), l10 = S[1] / l00, l11 = sqrt(S[3] - l10 * l10);
        double z0 = nrand(), z1 = nrand();
        phi[2 * m] = mix_M[c][0] + l00 * z0;
        phi[2 * m + 1] = mix_M[c][1] + l10 * z0 + l11 * z1;
    }
}

static berg_space *lattice(int d, const size_t *n, const double *L, const double *g)
{
    double lo[8] = {0}, hi[8];
    berg_boundary bc[8];
    for (int a = 0; a < d; a++) {
        hi[a] = L[a];
        bc[a] = BERG_PERIODIC;
    }
    return tu_space(d, n, lo, hi, bc, g);
}

/* ---- Cdot against finite differences ------------------------------------ */

static int cb_reg(size_t ndim, double lambda, const double *k, double *c, void *ud)
{
    (void)ud;
    double q = 0.0;
    for (size_t a = 0; a < ndim; a++)
        q += k[a] * k[a];
    *c = exp(-(q + 1.0) / (lambda * lambda));
    return 0;
}

static void check_cdot(const berg_scheme *s, const char *name, double lambda, const double *k)
{
    double c, cd, cp, cm, h = 1e-4;
    CHECK_STATUS(berg_scheme_value(s, lambda, k, &c, &cd), BERG_OK, "%s value", name);
    berg_scheme_value(s, lambda * exp(h), k, &cp, NULL);
    berg_scheme_value(s, lambda * exp(-h), k, &cm, NULL);
    double fd = -(cp - cm) / (2 * h);
    CHECK_ABS(cd, fd, 1e-6 * (fabs(fd) + fabs(c)) + 1e-12, "%s: Cdot at lambda %g, k0 %g", name,
              lambda, k[0]);
}

static void test_cdot(void)
{
    size_t n[2] = {16, 16};
    double L[2] = {8.0, 8.0};
    berg_space *sp = lattice(2, n, L, NULL);
    berg_scheme *se = NULL, *sl = NULL, *sr = NULL, *sc = NULL, *ss = NULL;
    CHECK_STATUS(berg_scheme_create_regulator(&se, sp, BERG_REGULATOR_EXPONENTIAL, 0.5, 0),
                 BERG_OK, "create exponential");
    CHECK_STATUS(berg_scheme_create_regulator(&sl, sp, BERG_REGULATOR_LITIM, 0.5, 0), BERG_OK,
                 "create litim");
    CHECK_STATUS(berg_scheme_create_regulator(&ss, sp, BERG_REGULATOR_SHARP, 0.5, 0), BERG_OK,
                 "create sharp");
    double xp[6] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0}, fp[6] = {1.0, 0.9, 0.6, 0.25, 0.05, 0.0};
    CHECK_STATUS(berg_scheme_create_radial(&sr, sp, 6, xp, fp, 0), BERG_OK, "create radial");
    CHECK_STATUS(berg_scheme_create(&sc, sp, 0, cb_reg, NULL), BERG_OK, "create callback");
    double ks[4][2] = {{0.3, 0.4}, {1.1, -0.2}, {0.0, 2.0}, {2.5, 1.5}};
    for (int i = 0; i < 4; i++) {
        check_cdot(se, "exponential", 1.7, ks[i]);
        check_cdot(sr, "radial", 1.7, ks[i]);
        check_cdot(sc, "callback", 1.7, ks[i]);
        if (i != 2) /* |k| = 2 is off the Litim shell at 1.7 only for the others */
            check_cdot(sl, "litim", 1.7, ks[i]);
        /* C of the built-ins: R(|k|, Lambda) / (|k|^2 + m^2) */
        double kn = hypot(ks[i][0], ks[i][1]), r, c;
        berg_regulator_value(BERG_REGULATOR_EXPONENTIAL, 1.7, kn, &r);
        berg_scheme_value(se, 1.7, ks[i], &c, NULL);
        CHECK_REL(c, r / (kn * kn + 0.5), 1e-14, "exponential C at k %d", i);
        berg_regulator_value(BERG_REGULATOR_LITIM, 1.7, kn, &r);
        berg_scheme_value(sl, 1.7, ks[i], &c, NULL);
        CHECK_ABS(c, r / (kn * kn + 0.5), 1e-14, "litim C at k %d", i);
    }
    double cdv = 0.0, cv;
    CHECK_STATUS(berg_scheme_value(ss, 1.0, ks[0], &cv, &cdv), BERG_ERR_UNSUPPORTED,
                 "sharp Cdot is a delta shell");
    CHECK_STATUS(berg_scheme_value(ss, 1.0, ks[0], &cv, NULL), BERG_OK, "sharp C");
    CHECK_ABS(cv, 1.0 / (0.25 + 0.5), 1e-15, "sharp C inside the shell");
    berg_scheme_destroy(se);
    berg_scheme_destroy(sl);
    berg_scheme_destroy(ss);
    berg_scheme_destroy(sr);
    berg_scheme_destroy(sc);
    berg_space_destroy(sp);
}

/* ---- free fields: mode variances by chi-square -------------------------- */

typedef struct {
    const berg_scheme *s;
    double lambda;   /* G0 = C_lambda when scale > 0 ... */
    double amp;      /* G0 = amp / (|k|^2 + 1) otherwise */
    const double *ginv;
} g0_ctx;

static int g0_symbol(size_t ndim, const double *k, double *c, void *ud)
{
    g0_ctx *g = ud;
    if (g->lambda > 0.0)
        return berg_scheme_value(g->s, g->lambda, k, c, NULL) == BERG_OK ? 0 : 1;
    double q = 0.0;
    for (size_t a = 0; a < ndim; a++)
        for (size_t b = 0; b < ndim; b++)
            q += k[a] * g->ginv[a * ndim + b] * k[b];
    *c = g->amp / (q + 1.0);
    return 0;
}

/* draw count fields of spectrum G0 with berg_multiplier_random_field */
static void draw_ensemble(const berg_space *sp, g0_ctx *g, size_t count, double *phi,
                          unsigned long long seed)
{
    berg_multiplier *m = NULL;
    CHECK_STATUS(berg_multiplier_create(&m, sp, BERG_PLAN_ESTIMATE, g0_symbol, g), BERG_OK,
                 "G0 multiplier");
    size_t n = berg_space_size(sp);
    for (size_t j = 0; j < count; j++)
        berg_multiplier_random_field(m, seed, j, phi + j * n);
    berg_multiplier_destroy(m);
}

/* mode-variance chi-square of an ensemble against G1 of the closed form;
 * 2-D lattice n0 x n1. Returns the number of components tested. */
static size_t chi_square_modes(const berg_space *sp, const berg_scheme *s, double l0, double l1,
                               g0_ctx *g, size_t count, const double *phi, const char *what)
{
    size_t n[2];
    double lo[2], hi[2];
    berg_space_shape(sp, n);
    berg_space_bounds(sp, lo, hi);
    size_t N = n[0] * n[1], nh = n[1] / 2 + 1;
    double w = berg_space_cell_weight(sp);
    double *in = fftw_alloc_real(N);
    fftw_complex *out = fftw_alloc_complex(n[0] * nh);
    fftw_plan p = fftw_plan_dft_r2c_2d((int)n[0], (int)n[1], in, out, FFTW_ESTIMATE);
    size_t ncomp = 2 * n[0] * nh;
    double *Q = calloc(ncomp, sizeof(double)), *var = calloc(ncomp, sizeof(double));
    int *use = calloc(ncomp, sizeof(int));
    /* expected variances of Re and Im of the unnormalized DFT */
    size_t nzero = 0;
    for (size_t i0 = 0; i0 < n[0]; i0++)
        for (size_t i1 = 0; i1 < nh; i1++) {
            double k[2] = {2 * M_PI * (double)(i0 <= n[0] / 2 ? (long)i0 : (long)i0 - (long)n[0]) /
                               (hi[0] - lo[0]),
                           2 * M_PI * (double)i1 / (hi[1] - lo[1])};
            /* G0 as the multiplier tabulated it: averaged over +-k at a
             * Nyquist index */
            double gz = 0.0, g1;
            int nyq0 = n[0] % 2 == 0 && i0 == n[0] / 2, nyq1 = n[1] % 2 == 0 && i1 == n[1] / 2;
            int npat = 0;
            for (int p0 = 0; p0 <= nyq0; p0++)
                for (int p1 = 0; p1 <= nyq1; p1++) {
                    double kk[2] = {p0 ? -k[0] : k[0], p1 ? -k[1] : k[1]}, v;
                    g0_symbol(2, kk, &v, g);
                    gz += v;
                    npat++;
                }
            gz /= npat;
            CHECK_STATUS(berg_scheme_mode_variance(s, l0, l1, gz, k, &g1), BERG_OK,
                         "closed form");
            /* skip the mirrors of the stored plane entries */
            int plane = i1 == 0 || (n[1] % 2 == 0 && i1 == n[1] / 2);
            size_t mi0 = (n[0] - i0) % n[0];
            if (plane && mi0 < i0)
                continue;
            int self = plane && mi0 == i0;
            size_t c = 2 * (i0 * nh + i1);
            if (g1 == 0.0) {
                use[c] = use[c + 1] = -1; /* must be exactly zero */
                nzero++;
                continue;
            }
            var[c] = self ? N * g1 / w : N * g1 / (2 * w);
            var[c + 1] = N * g1 / (2 * w);
            use[c] = 1;
            use[c + 1] = !self;
        }
    double zmax = 0.0;
    for (size_t m = 0; m < count; m++) {
        memcpy(in, phi + m * N, N * sizeof(double));
        fftw_execute(p);
        for (size_t c = 0; c < ncomp; c++) {
            double x = ((double *)out)[c];
            if (use[c] == 1)
                Q[c] += x * x / var[c];
            else if (use[c] == -1)
                zmax = fmax(zmax, fabs(x));
        }
    }
    double T = 0.0, S = 0.0;
    size_t nc = 0;
    for (size_t c = 0; c < ncomp; c++)
        if (use[c] == 1) {
            T += Q[c];
            double z = (Q[c] - (double)count) / sqrt(2.0 * (double)count);
            S += z * z;
            nc++;
        }
    double dof = (double)count * (double)nc;
    double zT = (T - dof) / sqrt(2.0 * dof), zS = (S - (double)nc) / sqrt(2.0 * (double)nc);
    printf("%-34s components %3zu  total chi2 z = %+.2f  per-mode chi2 z = %+.2f  (zero modes %zu, "
           "max %.1e)\n",
           what, nc, zT, zS, nzero, zmax);
    CHECK(fabs(zT) < 4.0, "%s: total chi-square z = %.2f", what, zT);
    /* the per-mode statistic is ~ chi2_nc (z-scores of chi2_count sums) */
    CHECK(fabs(zS) < 4.5, "%s: per-mode chi-square z = %.2f", what, zS);
    CHECK(zmax < 1e-9, "%s: modes outside the regulator are %.2e, not 0", what, zmax);
    fftw_destroy_plan(p);
    fftw_free(in);
    fftw_free(out);
    free(Q);
    free(var);
    free(use);
    return nc;
}

static void test_free_field(void)
{
    size_t n[2] = {8, 8};
    double L[2] = {8.0, 8.0}, gc[4] = {1.0, 0.4, 0.4, 1.5}, id[4] = {1, 0, 0, 1};
    double gci[4];
    double det = gc[0] * gc[3] - gc[1] * gc[2];
    gci[0] = gc[3] / det;
    gci[1] = gci[2] = -gc[1] / det;
    gci[3] = gc[0] / det;
    const size_t count = 3000;
    double *phi = malloc(count * 64 * sizeof(double));
    struct {
        const char *name;
        berg_regulator kind;
        const double *g, *ginv;
    } cases[3] = {{"exponential", BERG_REGULATOR_EXPONENTIAL, NULL, id},
                  {"litim", BERG_REGULATOR_LITIM, NULL, id},
                  {"exponential, coupled metric", BERG_REGULATOR_EXPONENTIAL, gc, gci}};
    for (int c = 0; c < 3; c++) {
        /* Litim: keep a few modes inside the shell at the end */
        const double l0 = c == 1 ? 3.2 : 2.5, l1 = c == 1 ? 1.7 : 0.6;
        berg_space *sp = lattice(2, n, L, cases[c].g);
        berg_scheme *s = NULL;
        CHECK_STATUS(berg_scheme_create_regulator(&s, sp, cases[c].kind, 0.5, 0), BERG_OK,
                     "create %s", cases[c].name);
        /* a Gaussian ensemble away from the scheme's Gaussian point */
        g0_ctx g = {s, 0.0, 3.0, cases[c].ginv};
        draw_ensemble(sp, &g, count, phi, 11 + (unsigned)c);
        CHECK_STATUS(berg_scheme_flow(s, l0, l1, 6, count, 5, 0, NULL, phi, NULL, NULL), BERG_OK,
                     "flow %s", cases[c].name);
        char what[96];
        snprintf(what, sizeof what, "free field, %s", cases[c].name);
        chi_square_modes(sp, s, l0, l1, &g, count, phi, what);
        /* the Gaussian point of the scheme is stationary: C_l0 -> C_l1 */
        g0_ctx gf = {s, l0, 0.0, cases[c].ginv};
        draw_ensemble(sp, &gf, count, phi, 21 + (unsigned)c);
        CHECK_STATUS(berg_scheme_flow(s, l0, l1, 3, count, 6, 0, NULL, phi, NULL, NULL), BERG_OK,
                     "flow fixed point %s", cases[c].name);
        snprintf(what, sizeof what, "Gaussian point, %s", cases[c].name);
        chi_square_modes(sp, s, l0, l1, &gf, count, phi, what);
        double k[2] = {0.7, -0.4}, c0, c1, g1;
        berg_scheme_value(s, l0, k, &c0, NULL);
        berg_scheme_value(s, l1, k, &c1, NULL);
        berg_scheme_mode_variance(s, l0, l1, c0, k, &g1);
        CHECK_REL(g1, c1, 1e-14, "closed form keeps G = C (%s)", cases[c].name);
        berg_scheme_destroy(s);
        berg_space_destroy(sp);
    }
    free(phi);
}

/* ---- strong order against the exact OU solution, same Brownian path ---- */

typedef struct {
    double mu;
} mass_ctx;

static int mass_grad(size_t size, double lambda, const double *phi, double *grad, void *ud)
{
    (void)lambda;
    const mass_ctx *m = ud;
    for (size_t i = 0; i < size; i++)
        grad[i] = m->mu * phi[i];
    return 0;
}

/* C(s) = exp(-e^{2s}) (Lambda = e^{-s}, the callback at k = 0) */
static double Cs(double s) { return exp(-exp(2.0 * s)); }

static void test_strong_order(void)
{
    size_t n[1] = {1};
    double L[1] = {2.0};
    berg_space *sp = lattice(1, n, L, NULL);
    berg_scheme *s = NULL;
    CHECK_STATUS(berg_scheme_create(&s, sp, 0, cb_reg, NULL), BERG_OK, "create 1-site");
    const double w = berg_space_cell_weight(sp), l0 = 2.0, l1 = 0.7;
    const double s0 = -log(l0), s1 = -log(l1);
    const size_t F = 1u << 12, P = 300;
    const size_t levels[5] = {4, 8, 16, 32, 64};
    double err[5] = {0}, err_lin = 0.0;
    mass_ctx mc = {0.8};
    double *dW = malloc(F * sizeof(double)), noise[64];
    const double hf = (s1 - s0) / (double)F;
    for (size_t p = 0; p < P; p++) {
        for (size_t i = 0; i < F; i++)
            dW[i] = sqrt(hf) * nrand();
        double phi0 = 0.5 + 0.3 * nrand();
        /* exact: Phi(S, s0) phi0 + sum_i Phi(S, s_i) b(s_i) dW_i, with
         * Phi(S, s) = C(S)/C(s) e^{mu (C(S) - C(s))}, b = sqrt(-Cdot / w) */
        double CS = Cs(s1), ex = CS / Cs(s0) * exp(mc.mu * (CS - Cs(s0))) * phi0, ex0 = CS / Cs(s0) * phi0;
        for (size_t i = 0; i < F; i++) {
            double si = s0 + (double)i * hf, ci = Cs(si), b = sqrt(2.0 * exp(2 * si) * ci / w);
            ex += CS / ci * exp(mc.mu * (CS - ci)) * b * dW[i];
            ex0 += CS / ci * b * dW[i];
        }
        for (int lv = 0; lv < 5; lv++) {
            size_t nc = levels[lv], per = F / nc;
            /* the caller noise of each coarse step: its Gaussian-part
             * integral of the same path, normalized by sqrt(v / w) */
            for (size_t j = 0; j < nc; j++) {
                double sa = s0 + (double)j * per * hf, sb = sa + (double)per * hf;
                double ca = Cs(sa), cb = Cs(sb), J = 0.0;
                for (size_t i = j * per; i < (j + 1) * per; i++) {
                    double si = s0 + (double)i * hf, ci = Cs(si);
                    J += cb / ci * sqrt(2.0 * exp(2 * si) * ci / w) * dW[i];
                }
                noise[j] = J / sqrt(cb * (1.0 - cb / ca) / w);
            }
            double x = phi0;
            CHECK_STATUS(berg_scheme_flow(s, l0, l1, nc, 1, 0, 0, noise, &x, mass_grad, &mc),
                         BERG_OK, "flow with caller noise");
            err[lv] += (x - ex) * (x - ex);
            if (lv == 0) {
                double y = phi0;
                berg_scheme_flow(s, l0, l1, nc, 1, 0, 0, noise, &y, NULL, NULL);
                err_lin += (y - ex0) * (y - ex0);
            }
        }
    }
    double order_sum = 0.0;
    for (int lv = 0; lv < 5; lv++) {
        err[lv] = sqrt(err[lv] / (double)P);
        printf("strong error, %2zu steps: %.3e%s", levels[lv], err[lv], lv == 4 ? "\n" : "\n");
        if (lv > 0)
            order_sum += log2(err[lv - 1] / err[lv]);
    }
    double order = order_sum / 4.0;
    err_lin = sqrt(err_lin / (double)P);
    printf("strong order (mean of 4 halvings): %.2f; without the user term (exact): %.2e\n",
           order, err_lin);
    CHECK(order > 0.85, "strong order %.2f < 0.85", order);
    CHECK(err[4] < 2e-3, "error at 64 steps %.2e", err[4]);
    /* without a user term the step is exact: only the reference's own
     * discretization (1/F) is left */
    CHECK(err_lin < 0.1 * err[4], "exact Gaussian step error %.2e", err_lin);
    free(dW);
    berg_scheme_destroy(s);
    berg_space_destroy(sp);
}

/* ---- one- and two-site lattices against the closed-form density -------- */

/* the exact law of the Gaussian-seed flow of a Gaussian mixture: each
 * component N(m, S) -> N(A m, A S A^T + Sn), A and Sn the transition's
 * mean map and noise covariance in site coordinates */
static void two_site_transition(const berg_scheme *s, double l0, double l1, double w, double A[4],
                                double Sn[4])
{
    /* modes k = 0 (e = (1, 1)/sqrt 2) and k = pi/h (e = (1, -1)/sqrt 2) on
     * two sites of width h = 1 */
    double k0[1] = {0.0}, kp[1] = {M_PI};
    double c00, c01, cp0, cp1;
    berg_scheme_value(s, l0, k0, &c00, NULL);
    berg_scheme_value(s, l1, k0, &c01, NULL);
    berg_scheme_value(s, l0, kp, &cp0, NULL);
    berg_scheme_value(s, l1, kp, &cp1, NULL);
    double r0 = c01 / c00, rp = cp1 / cp0;
    /* variance of the field's projection on a unit mode vector: the
     * spectrum v per mode gives E[phi_i phi_j] = (1/V) sum v e^{ik(xi-xj)},
     * V = 2 w, so the projections carry v / w */
    double v0 = c01 * (1 - r0) / w, vp = cp1 * (1 - rp) / w;
    A[0] = A[3] = 0.5 * (r0 + rp);
    A[1] = A[2] = 0.5 * (r0 - rp);
    Sn[0] = Sn[3] = 0.5 * (v0 + vp);
    Sn[1] = Sn[2] = 0.5 * (v0 - vp);
}

static double gauss2(const double *x, const double *m, const double *S)
{
    double det = S[0] * S[3] - S[1] * S[2];
    double a = x[0] - m[0], b = x[1] - m[1];
    double q = (S[3] * a * a - 2 * S[1] * a * b + S[0] * b * b) / det;
    return exp(-0.5 * q) / (2 * M_PI * sqrt(det));
}

/* the grid Fokker-Planck flow of the same scheme on a one-site lattice
 * (berg_fp_evolve_field, issue 17's time-dependent berg_fp): with s =
 * -ln Lambda, g(s)^{-1} = -Cdot / (2 w) and V(s) = 2 S^ = w phi^2 / C(s);
 * C(s) = exp(-e^{2s}) (cb_reg at k = 0), Cdot = dC/ds = -2 e^{2s} C */
typedef struct {
    double w;
    size_t n;
    const double *x;
} fp1_ctx;

static int fp1_field(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    (void)ndim;
    const fp1_ctx *c = ud;
    double C = Cs(t), mcdot = 2.0 * exp(2.0 * t) * C;
    for (size_t i = 0; i < n; i++)
        V[i] = c->w * c->x[i] * c->x[i] / C;
    g[0] = 2.0 * c->w / mcdot;
    return 0;
}

static double mixture1(double x, const double *mu, const double *sd, double wt)
{
    double a = (x - mu[0]) / sd[0], b = (x - mu[1]) / sd[1];
    return wt * exp(-0.5 * a * a) / (sd[0] * sqrt(2 * M_PI)) +
           (1 - wt) * exp(-0.5 * b * b) / (sd[1] * sqrt(2 * M_PI));
}

static void test_one_site_fokker_planck(void)
{
    const double l0 = 1.5, l1 = 1.0, L = 1.5;
    const size_t count = 40000, ng = 240;
    size_t n1[1] = {1};
    double Ll[1] = {L};
    berg_space *sp = lattice(1, n1, Ll, NULL);
    berg_scheme *s = NULL;
    berg_scheme_create(&s, sp, 0, cb_reg, NULL);
    const double w = berg_space_cell_weight(sp);
    const double mu[2] = {-1.2, 0.9}, sd[2] = {0.4, 0.6}, wt = 0.35;
    double *phi = malloc(count * sizeof(double));
    for (size_t m = 0; m < count; m++) {
        int c = urand() < wt ? 0 : 1;
        phi[m] = mu[c] + sd[c] * nrand();
    }
    CHECK_STATUS(berg_scheme_flow(s, l0, l1, 5, count, 79, 0, NULL, phi, NULL, NULL), BERG_OK,
                 "1-site flow (FP check)");
    /* the density on a Neumann grid of field values [-4, 4] */
    size_t ngs[1] = {ng};
    double lo[1] = {-4.0}, hi[1] = {4.0}, x[240], p0[240], p1[240], V0[240];
    berg_boundary bc[1] = {BERG_NEUMANN};
    berg_space *grid = tu_space(1, ngs, lo, hi, bc, NULL);
    berg_space_coordinates(grid, 0, x);
    fp1_ctx fc = {w, ng, x};
    double g0v = 0.0;
    fp1_field(-log(l0), ng, 1, V0, &g0v, &fc);
    for (size_t i = 0; i < ng; i++)
        p0[i] = mixture1(x[i], mu, sd, wt);
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, grid, V0, 0), BERG_OK, "fp on the field grid");
    CHECK_STATUS(berg_fp_evolve_field(fp, -log(l0), -log(l1), 0.0, p0, p1, fp1_field, &fc),
                 BERG_OK, "time-dependent fp");
    /* histogram in bins of 4 grid cells against the grid density's masses */
    const size_t per = 4, nb = ng / per;
    double hcell = 8.0 / (double)ng, mass = 0.0, chi2 = 0.0;
    for (size_t i = 0; i < ng; i++)
        mass += p1[i] * hcell;
    long cnt[60] = {0};
    for (size_t m = 0; m < count; m++) {
        long b = (long)floor((phi[m] + 4.0) / (hcell * (double)per));
        if (b >= 0 && b < (long)nb)
            cnt[b]++;
    }
    int dof = 0;
    for (size_t b = 0; b < nb; b++) {
        double e = 0.0;
        for (size_t i = b * per; i < (b + 1) * per; i++)
            e += p1[i] * hcell / mass;
        e *= (double)count;
        if (e < 5)
            continue;
        chi2 += (cnt[b] - e) * (cnt[b] - e) / e;
        dof++;
    }
    double z = (chi2 - dof) / sqrt(2.0 * dof);
    printf("1-site lattice vs grid Fokker-Planck (berg_fp_evolve_field): chi2 %.1f on %d bins "
           "(z = %+.2f)\n",
           chi2, dof, z);
    CHECK(dof > 20 && fabs(z) < 4.0, "1-site ensemble vs FP density: chi2 %.1f, %d bins", chi2,
          dof);
    berg_fp_destroy(fp);
    berg_space_destroy(grid);
    free(phi);
    berg_scheme_destroy(s);
    berg_space_destroy(sp);
}

/* a family whose k = 0 and Nyquist modes both flow moderately */
static int cb_reg2(size_t ndim, double lambda, const double *k, double *c, void *ud)
{
    (void)ud;
    double q = 0.0;
    for (size_t a = 0; a < ndim; a++)
        q += k[a] * k[a];
    *c = exp(-(0.3 * q + 1.0) / (lambda * lambda));
    return 0;
}

static void test_sites(void)
{
    double l0 = 1.5, l1 = 1.0;
    const size_t count = 40000;
    /* one site: C_Lambda(0) = e^{-1/Lambda^2} */
    {
        size_t n[1] = {1};
        double L[1] = {1.5};
        berg_space *sp = lattice(1, n, L, NULL);
        berg_scheme *s = NULL;
        berg_scheme_create(&s, sp, 0, cb_reg, NULL);
        double w = berg_space_cell_weight(sp), k0[1] = {0}, c0, c1;
        berg_scheme_value(s, l0, k0, &c0, NULL);
        berg_scheme_value(s, l1, k0, &c1, NULL);
        double r = c1 / c0, vn = c1 * (1 - r) / w;
        double *phi = malloc(count * sizeof(double));
        const double mu[2] = {-1.2, 0.9}, sd[2] = {0.4, 0.6}, wt = 0.35;
        for (size_t m = 0; m < count; m++) {
            int c = urand() < wt ? 0 : 1;
            phi[m] = mu[c] + sd[c] * nrand();
        }
        CHECK_STATUS(berg_scheme_flow(s, l0, l1, 4, count, 77, 0, NULL, phi, NULL, NULL), BERG_OK,
                     "1-site flow");
        /* histogram on [-3, 3], 30 bins, against the mixture of N(r mu,
         * r^2 sd^2 + vn) integrated over each bin (CDF differences) */
        const int nb = 60;
        double lo = -3, hi = 3, hb = (hi - lo) / nb, chi2 = 0.0;
        int dof = 0;
        long cnt[60] = {0};
        for (size_t m = 0; m < count; m++) {
            int b = (int)floor((phi[m] - lo) / hb);
            if (b >= 0 && b < nb)
                cnt[b]++;
        }
        for (int b = 0; b < nb; b++) {
            double a = lo + b * hb, e = 0.0;
            for (int c = 0; c < 2; c++) {
                double sdc = sqrt(r * r * sd[c] * sd[c] + vn), mc = r * mu[c];
                double P = 0.5 * (erf((a + hb - mc) / (sdc * M_SQRT2)) - erf((a - mc) / (sdc * M_SQRT2)));
                e += (c == 0 ? wt : 1 - wt) * P;
            }
            e *= (double)count;
            if (e < 5)
                continue;
            chi2 += (cnt[b] - e) * (cnt[b] - e) / e;
            dof++;
        }
        double z = (chi2 - dof) / sqrt(2.0 * dof);
        printf("1-site lattice: chi2 %.1f on %d bins (z = %+.2f)\n", chi2, dof, z);
        CHECK(fabs(z) < 4.0, "1-site histogram vs density: chi2 %.1f, %d bins", chi2, dof);
        free(phi);
        berg_scheme_destroy(s);
        berg_space_destroy(sp);
    }
    /* two sites (a 2-D sample space) with the exponential family */
    {
        size_t n[1] = {2};
        double L[1] = {2.0};
        berg_space *sp = lattice(1, n, L, NULL);
        berg_scheme *s = NULL;
        berg_scheme_create(&s, sp, 0, cb_reg2, NULL);
        l0 = 2.5;
        l1 = 1.5;
        double w = berg_space_cell_weight(sp), A[4], Sn[4];
        two_site_transition(s, l0, l1, w, A, Sn);
        double *phi = malloc(2 * count * sizeof(double));
        const double(*M)[2] = mix_M, (*S)[4] = mix_S, wt = mix_w;
        draw_mixture(phi, count);
        CHECK_STATUS(berg_scheme_flow(s, l0, l1, 3, count, 78, 0, NULL, phi, NULL, NULL), BERG_OK,
                     "2-site flow");
        double m1[2][2], S1[2][4];
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 2; i++)
                m1[c][i] = A[2 * i] * M[c][0] + A[2 * i + 1] * M[c][1];
            double AS[4];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    AS[2 * i + j] = A[2 * i] * S[c][j] + A[2 * i + 1] * S[c][2 + j];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    S1[c][2 * i + j] = AS[2 * i] * A[2 * j] + AS[2 * i + 1] * A[2 * j + 1] +
                                       Sn[2 * i + j];
        }
        const int nb = 16;
        double lo = -2.5, hi = 2.5, hb = (hi - lo) / nb, chi2 = 0.0;
        int dof = 0;
        long *cnt = calloc((size_t)nb * nb, sizeof(long));
        for (size_t m = 0; m < count; m++) {
            int b0 = (int)floor((phi[2 * m] - lo) / hb), b1 = (int)floor((phi[2 * m + 1] - lo) / hb);
            if (b0 >= 0 && b0 < nb && b1 >= 0 && b1 < nb)
                cnt[b0 * nb + b1]++;
        }
        for (int b0 = 0; b0 < nb; b0++)
            for (int b1 = 0; b1 < nb; b1++) {
                /* the density integrated over the bin by 6 x 6 Gauss-free
                 * midpoint sub-cells */
                double e = 0.0;
                for (int u = 0; u < 6; u++)
                    for (int v = 0; v < 6; v++) {
                        double x[2] = {lo + (b0 + (u + 0.5) / 6) * hb, lo + (b1 + (v + 0.5) / 6) * hb};
                        e += wt * gauss2(x, m1[0], S1[0]) + (1 - wt) * gauss2(x, m1[1], S1[1]);
                    }
                e *= hb * hb / 36.0 * (double)count;
                if (e < 5)
                    continue;
                double o = (double)cnt[b0 * nb + b1];
                chi2 += (o - e) * (o - e) / e;
                dof++;
            }
        double z = (chi2 - dof) / sqrt(2.0 * dof);
        printf("2-site lattice: chi2 %.1f on %d bins (z = %+.2f)\n", chi2, dof, z);
        CHECK(fabs(z) < 4.0, "2-site histogram vs density: chi2 %.1f, %d bins", chi2, dof);
        free(cnt);
        free(phi);
        berg_scheme_destroy(s);
        berg_space_destroy(sp);
    }
}

/* the grid Fokker-Planck check of test_one_site_fokker_planck on a two-site
 * periodic lattice (a 2-D sample space): the modes
 * k = 0 and k = pi of cb_reg2 flow at different rates, so g(s)^{-1} =
 * -Cdot/(2w) is a coupled 2 x 2 matrix in site space. With e0 = (1, 1)/sqrt 2,
 * ep = (1, -1)/sqrt 2 and a = e0.phi, b = ep.phi: V(s) = 2 S^ = w (a^2/C0 +
 * b^2/Cp) and g(s) = 2 w (e0 e0^T / (-Cdot0) + ep ep^T / (-Cdotp)); with s =
 * -ln Lambda, C_k(s) = exp(-(0.3 k^2 + 1) e^{2s}), -Cdot_k = 2 (0.3 k^2 + 1)
 * e^{2s} C_k. wrong doubles the diffusion g^{-1} (the factor 1/2 of
 * -Cdot/(2w) lost): a wrong flow the comparison must reject. (Dropping the
 * site coupling instead slows the diffusion of the k = pi mode, whose
 * potential is the steeper one, and the Fourier grid refuses the run: p
 * then falls off slower than e^{-V(t)/2}.) */
typedef struct {
    double w;
    size_t n;
    const double *x;
    int wrong;
} fp2_ctx;

static int fp2_field(double t, size_t n, size_t ndim, double *V, double *g, void *ud)
{
    (void)ndim;
    const fp2_ctx *c = ud;
    double e2 = exp(2.0 * t), q0 = 1.0, qp = 0.3 * M_PI * M_PI + 1.0;
    double C0 = exp(-q0 * e2), Cp = exp(-qp * e2);
    double m0 = 2.0 * q0 * e2 * C0, mp = 2.0 * qp * e2 * Cp;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->n; j++) {
            double a = (c->x[i] + c->x[j]) / M_SQRT2, b = (c->x[i] - c->x[j]) / M_SQRT2;
            V[i * c->n + j] = c->w * (a * a / C0 + b * b / Cp);
        }
    (void)n;
    /* wrong: g^{-1} = -Cdot/w, twice the diffusion */
    double f = c->wrong ? 0.5 : 1.0;
    g[0] = g[3] = f * c->w * (1.0 / m0 + 1.0 / mp);
    g[1] = g[2] = f * c->w * (1.0 / m0 - 1.0 / mp);
    return 0;
}

/* chi-square of a 2-D histogram (bins of per x per grid cells of width h
 * from lo) against the grid density's masses; returns the z-score */
static double chi2_grid2(const double *phi, size_t count, const double *p, size_t ng, size_t per,
                         double lo, double h, double *chi2_out, int *dof_out)
{
    const size_t nb = ng / per;
    double mass = 0.0, chi2 = 0.0;
    for (size_t i = 0; i < ng * ng; i++)
        mass += p[i];
    long *cnt = calloc(nb * nb, sizeof(long));
    for (size_t m = 0; m < count; m++) {
        long b0 = (long)floor((phi[2 * m] - lo) / (h * (double)per));
        long b1 = (long)floor((phi[2 * m + 1] - lo) / (h * (double)per));
        if (b0 >= 0 && b0 < (long)nb && b1 >= 0 && b1 < (long)nb)
            cnt[b0 * (long)nb + b1]++;
    }
    int dof = 0;
    for (size_t b0 = 0; b0 < nb; b0++)
        for (size_t b1 = 0; b1 < nb; b1++) {
            double e = 0.0;
            for (size_t i = b0 * per; i < (b0 + 1) * per; i++)
                for (size_t j = b1 * per; j < (b1 + 1) * per; j++)
                    e += p[i * ng + j];
            e *= (double)count / mass;
            if (e < 5)
                continue;
            double o = (double)cnt[b0 * nb + b1];
            chi2 += (o - e) * (o - e) / e;
            dof++;
        }
    free(cnt);
    *chi2_out = chi2;
    *dof_out = dof;
    return (chi2 - dof) / sqrt(2.0 * dof);
}

static void test_two_site_fokker_planck(void)
{
    const double l0 = 2.5, l1 = 1.5, B = 7.0;
    const size_t count = 40000, ng = 192, per = 4;
    size_t n2[1] = {2};
    double Ll[1] = {2.0};
    berg_space *sp = lattice(1, n2, Ll, NULL);
    berg_scheme *s = NULL;
    berg_scheme_create(&s, sp, 0, cb_reg2, NULL);
    const double w = berg_space_cell_weight(sp);
    /* the mixture of the closed-form two-site test, drawn and on the grid */
    const double(*M)[2] = mix_M, (*S)[4] = mix_S, wt = mix_w;
    double *phi = malloc(2 * count * sizeof(double));
    draw_mixture(phi, count);
    CHECK_STATUS(berg_scheme_flow(s, l0, l1, 3, count, 80, 0, NULL, phi, NULL, NULL), BERG_OK,
                 "2-site flow (FP check)");
    /* the density on a periodic grid of the two field values, [-B, B]^2 */
    size_t ngs[2] = {ng, ng};
    double lo[2] = {-B, -B}, hi[2] = {B, B}, x[192];
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *grid = tu_space(2, ngs, lo, hi, bc, NULL);
    berg_space_coordinates(grid, 0, x);
    double *p0 = malloc(ng * ng * sizeof(double)), *p1 = malloc(ng * ng * sizeof(double));
    double *V0 = malloc(ng * ng * sizeof(double));
    fp2_ctx fc = {w, ng, x, 0};
    double g0v[4] = {1, 0, 0, 1};
    fp2_field(-log(l0), ng * ng, 2, V0, g0v, &fc);
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < ng; j++) {
            double xy[2] = {x[i], x[j]};
            p0[i * ng + j] = wt * gauss2(xy, M[0], S[0]) + (1 - wt) * gauss2(xy, M[1], S[1]);
        }
    berg_fp *fp = NULL;
    CHECK_STATUS(berg_fp_create(&fp, grid, V0, BERG_FP_FOURIER), BERG_OK,
                 "Fourier fp on the 2-site field grid");
    CHECK_STATUS(berg_fp_evolve_field(fp, -log(l0), -log(l1), 0.0, p0, p1, fp2_field, &fc),
                 BERG_OK, "time-dependent fp, coupled metric");
    const double h = 2.0 * B / (double)ng;
    double chi2;
    int dof;
    double z = chi2_grid2(phi, count, p1, ng, per, -B, h, &chi2, &dof);
    printf("2-site lattice vs grid Fokker-Planck (Fourier, coupled metric): chi2 %.1f on %d bins "
           "(z = %+.2f)\n",
           chi2, dof, z);
    CHECK(dof > 40 && fabs(z) < 4.0, "2-site ensemble vs FP density: chi2 %.1f, %d bins", chi2,
          dof);
    /* the test can fail: the same flow with twice the diffusion */
    fc.wrong = 1;
    CHECK_STATUS(berg_fp_evolve_field(fp, -log(l0), -log(l1), 0.0, p0, p1, fp2_field, &fc),
                 BERG_OK, "time-dependent fp, doubled diffusion");
    double chi2w;
    int dofw;
    double zw = chi2_grid2(phi, count, p1, ng, per, -B, h, &chi2w, &dofw);
    printf("2-site lattice vs grid Fokker-Planck, diffusion doubled: chi2 %.1f on %d "
           "bins (z = %+.2f)\n",
           chi2w, dofw, zw);
    CHECK(zw > 4.0, "2-site: a doubled diffusion must be rejected: chi2 %.1f, %d bins",
          chi2w, dofw);
    berg_fp_destroy(fp);
    berg_space_destroy(grid);
    free(p0);
    free(p1);
    free(V0);
    free(phi);
    berg_scheme_destroy(s);
    berg_space_destroy(sp);
}

/* ---- deterministic reparameterization ----------------------------------- */

typedef struct {
    const berg_scheme *s;
    double l0;
    size_t n;
    double L;
    g0_ctx *g;
} score_ctx;

/* the score G_Lambda^{-1} phi of the Gaussian ensemble, G from the closed
 * form (1-D lattice, naive DFT) */
static int gauss_score(size_t size, double lambda, const double *phi, double *grad, void *ud)
{
    score_ctx *sc = ud;
    size_t n = sc->n;
    double gi[64];
    for (size_t j = 0; j < n; j++) {
        long m = j <= n / 2 ? (long)j : (long)j - (long)n;
        double k[1] = {2 * M_PI * (double)m / sc->L}, gz, g1;
        g0_symbol(1, k, &gz, sc->g);
        if (lambda <= sc->l0) {
            if (berg_scheme_mode_variance(sc->s, sc->l0, lambda, gz, k, &g1) != BERG_OK)
                return 1;
        } else {
            /* upward: the same closed form, read the other way */
            double c0, c1;
            berg_scheme_value(sc->s, sc->l0, k, &c0, NULL);
            berg_scheme_value(sc->s, lambda, k, &c1, NULL);
            double r = c1 / c0;
            g1 = c1 * (1 - r) + gz * r * r;
        }
        gi[j] = 1.0 / g1;
    }
    for (size_t i = 0; i < size; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < size; j++) {
            double re = 0.0;
            for (size_t q = 0; q < n; q++)
                re += gi[q] * cos(2 * M_PI * (double)q * ((double)i - (double)j) / (double)n);
            acc += re * phi[j];
        }
        /* (1/w) d/dphi_i of 1/2 w phi.G^{-1}.phi: sum_j (1/V) G^{-1}-kernel w phi_j */
        grad[i] = acc / (double)n;
    }
    return 0;
}

static void test_transport(void)
{
    size_t n[1] = {16};
    double L[1] = {16.0}, id[1] = {1.0};
    berg_space *sp = lattice(1, n, L, NULL);
    berg_scheme *s = NULL;
    berg_scheme_create_regulator(&s, sp, BERG_REGULATOR_EXPONENTIAL, 0.4, 0);
    const size_t count = 4;
    double phi0[64], exact[64], a[64];
    g0_ctx g = {s, 0.0, 2.0, id};
    draw_ensemble(sp, &g, count, phi0, 3);
    const double l0 = 2.0;
    const double targets[2] = {1.0, 3.0}; /* down and up */
    for (int t = 0; t < 2; t++) {
        double l1 = targets[t];
        memcpy(exact, phi0, sizeof phi0);
        CHECK_STATUS(berg_scheme_transport_gaussian(s, l0, l1, count, exact, g0_symbol, &g),
                     BERG_OK, "gaussian transport to %g", l1);
        score_ctx sc = {s, l0, 16, 16.0, &g};
        double e[3];
        size_t ns[3] = {16, 32, 64};
        for (int lv = 0; lv < 3; lv++) {
            memcpy(a, phi0, sizeof phi0);
            CHECK_STATUS(berg_scheme_transport(s, l0, l1, ns[lv], count, a, NULL, gauss_score, &sc),
                         BERG_OK, "transport with score");
            e[lv] = 0.0;
            for (size_t i = 0; i < count * 16; i++)
                e[lv] = fmax(e[lv], fabs(a[i] - exact[i]));
        }
        double o1 = log2(e[0] / e[1]), o2 = log2(e[1] / e[2]);
        printf("transport to %.1f: errors %.2e %.2e %.2e, orders %.2f %.2f\n", l1, e[0], e[1], e[2],
               o1, o2);
        CHECK(e[2] < 1e-4, "transport error %.2e", e[2]);
        CHECK(o2 > 1.7 || e[2] < 1e-12, "second order: %.2f", o2);
        /* the map preserves the Gaussian: per-mode variance ratio G1/G0 */
    }
    /* the Gaussian point: cov0 = C_l0 maps by sqrt(C1/C0) exactly, and
     * the stochastic flow's mean map r = C1/C0 differs */
    g0_ctx gf = {s, l0, 0.0, id};
    memcpy(a, phi0, sizeof phi0);
    berg_scheme_transport_gaussian(s, l0, 0.8, count, a, g0_symbol, &gf);
    /* mode 0 (the mean): factor sqrt(C1/C0) at k = 0 */
    double k0[1] = {0.0}, c0, c1, m0 = 0, m1 = 0;
    berg_scheme_value(s, l0, k0, &c0, NULL);
    berg_scheme_value(s, 0.8, k0, &c1, NULL);
    for (size_t i = 0; i < 16; i++) {
        m0 += phi0[i];
        m1 += a[i];
    }
    CHECK_REL(m1, sqrt(c1 / c0) * m0, 1e-12, "Gaussian point: the mean scales by sqrt(C1/C0)");
    berg_scheme_destroy(s);
    berg_space_destroy(sp);
}

/* ---- seed action ---------------------------------------------------------- */

static int inv_c(size_t ndim, const double *k, double *c, void *ud)
{
    const berg_scheme *s = ud;
    double v;
    if (berg_scheme_value(s, 1.3, k, &v, NULL) != BERG_OK)
        return 1;
    (void)ndim;
    *c = 1.0 / v;
    return 0;
}

static void test_seed_action(void)
{
    size_t n[2] = {8, 6};
    double L[2] = {4.0, 3.0}, gc[4] = {1.0, 0.3, 0.3, 0.8};
    berg_space *sp = lattice(2, n, L, gc);
    berg_scheme *s = NULL;
    berg_scheme_create_regulator(&s, sp, BERG_REGULATOR_EXPONENTIAL, 0.7, 0);
    double phi[96], val[2], grad[96], ref[48];
    for (int i = 0; i < 96; i++)
        phi[i] = nrand();
    CHECK_STATUS(berg_scheme_seed_action(s, 1.3, 2, phi, val, grad), BERG_OK, "seed action");
    berg_multiplier *m = NULL;
    berg_multiplier_create(&m, sp, BERG_PLAN_ESTIMATE, inv_c, s);
    double w = berg_space_cell_weight(sp);
    for (int mm = 0; mm < 2; mm++) {
        berg_multiplier_apply(m, phi + 48 * mm, ref);
        double v = 0.0, dg = 0.0;
        for (int i = 0; i < 48; i++) {
            v += 0.5 * w * phi[48 * mm + i] * ref[i];
            dg = fmax(dg, fabs(grad[48 * mm + i] - ref[i]));
        }
        CHECK_REL(val[mm], v, 1e-10, "seed action value, member %d", mm);
        CHECK(dg < 1e-9 * (1 + fabs(v)), "seed action gradient, member %d: %.2e", mm, dg);
    }
    berg_multiplier_destroy(m);
    /* Litim at a small scale: a generic field has components where C = 0 */
    berg_scheme *sl = NULL;
    berg_scheme_create_regulator(&sl, sp, BERG_REGULATOR_LITIM, 0.7, 0);
    val[0] = 42.0;
    CHECK_STATUS(berg_scheme_seed_action(sl, 0.5, 1, phi, val, NULL), BERG_ERR_DOMAIN,
                 "infinite seed action refused");
    CHECK(val[0] == 42.0, "value untouched on failure");
    berg_scheme_destroy(sl);
    berg_scheme_destroy(s);
    berg_space_destroy(sp);
}

/* ---- threads, continuation, refusals -------------------------------------- */

static int bad_grad(size_t size, double lambda, const double *phi, double *grad, void *ud)
{
    (void)lambda;
    (void)ud;
    for (size_t i = 0; i < size; i++)
        grad[i] = phi[i];
    return phi[0] > 1e9 ? 7 : (size > 0 && ud != NULL ? 3 : 0);
}

static int growing(size_t ndim, double lambda, const double *k, double *c, void *ud)
{
    (void)ndim;
    (void)ud;
    *c = (1.0 + k[0] * k[0]) / lambda; /* grows as lambda decreases */
    return 0;
}

static void test_threads_and_refusals(void)
{
    size_t n[2] = {16, 12};
    double L[2] = {16.0, 12.0};
    berg_space *sp = lattice(2, n, L, NULL);
    berg_scheme *s = NULL;
    berg_scheme_create_regulator(&s, sp, BERG_REGULATOR_EXPONENTIAL, 0.5, 0);
    const size_t count = 37, N = 192;
    double *a = malloc(count * N * sizeof(double)), *b = malloc(count * N * sizeof(double)),
           *c = malloc(count * N * sizeof(double));
    for (size_t i = 0; i < count * N; i++)
        a[i] = b[i] = c[i] = nrand();
    size_t t0 = berg_threads();
    berg_set_threads(1);
    berg_scheme_flow(s, 3.0, 1.0, 4, count, 9, 100, NULL, a, NULL, NULL);
    berg_set_threads(3);
    berg_scheme_flow(s, 3.0, 1.0, 4, count, 9, 100, NULL, b, NULL, NULL);
    berg_set_threads(t0);
    CHECK(memcmp(a, b, count * N * sizeof(double)) == 0, "flow independent of the thread count");
    /* continuation: 4 steps = 2 + 2 with the counter advanced */
    double lm = 3.0 * exp(0.5 * log(1.0 / 3.0));
    berg_scheme_flow(s, 3.0, lm, 2, count, 9, 100, NULL, c, NULL, NULL);
    berg_scheme_flow(s, lm, 1.0, 2, count, 9, 102, NULL, c, NULL, NULL);
    double dmax = 0.0;
    for (size_t i = 0; i < count * N; i++)
        dmax = fmax(dmax, fabs(c[i] - a[i]));
    CHECK(dmax < 1e-12, "continued flow equals one call: %.2e", dmax);
    /* a different seed changes every member */
    memcpy(b, c, count * N * sizeof(double));
    /* refusals leave phi untouched */
    memcpy(b, a, count * N * sizeof(double));
    CHECK_STATUS(berg_scheme_flow(s, 1.0, 3.0, 2, count, 9, 0, NULL, b, NULL, NULL),
                 BERG_ERR_DOMAIN, "upward stochastic flow refused");
    int marker = 1;
    CHECK_STATUS(berg_scheme_flow(s, 3.0, 1.0, 2, count, 9, 0, NULL, b, bad_grad, &marker),
                 BERG_ERR_CALLBACK, "callback failure");
    CHECK(strstr(berg_last_error(), "seed_grad") != NULL, "message names seed_grad: %s",
          berg_last_error());
    CHECK(memcmp(a, b, count * N * sizeof(double)) == 0, "phi untouched after a callback failure");
    b[5] = NAN;
    CHECK_STATUS(berg_scheme_flow(s, 3.0, 1.0, 2, count, 9, 0, NULL, b, NULL, NULL),
                 BERG_ERR_NONFINITE, "NaN field refused");
    b[5] = a[5];
    berg_scheme *sg = NULL;
    CHECK_STATUS(berg_scheme_create(&sg, sp, 0, growing, NULL), BERG_OK, "growing family created");
    CHECK_STATUS(berg_scheme_flow(sg, 3.0, 1.0, 2, count, 9, 0, NULL, b, NULL, NULL),
                 BERG_ERR_DOMAIN, "C growing along the flow refused");
    CHECK(memcmp(a, b, count * N * sizeof(double)) == 0, "phi untouched after refusals");
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *sn = tu_space(2, n, lo, hi, bc, NULL);
    berg_scheme *bad = NULL;
    CHECK_STATUS(berg_scheme_create_regulator(&bad, sn, BERG_REGULATOR_EXPONENTIAL, 1.0, 0),
                 BERG_ERR_UNSUPPORTED, "non-periodic axis refused");
    CHECK_STATUS(berg_scheme_create_regulator(&bad, sp, BERG_REGULATOR_LITIM_DOT, 1.0, 0),
                 BERG_ERR_DOMAIN, "a _DOT kind is not a family");
    CHECK(bad == NULL, "out untouched");
    berg_scheme_destroy(sg);
    berg_space_destroy(sn);
    free(a);
    free(b);
    free(c);
    berg_scheme_destroy(s);
    berg_space_destroy(sp);
}

int main(void)
{
    test_cdot();
    test_free_field();
    test_strong_order();
    test_sites();
    test_one_site_fokker_planck();
    test_two_site_fokker_planck();
    test_transport();
    test_seed_action();
    test_threads_and_refusals();
    return test_summary("erg");
}
