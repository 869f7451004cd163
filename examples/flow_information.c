/*
 * Information along a flow (seed discussion p.39), composed from public
 * libberg calls: started from a density p0, the heat flow (fixed point the
 * uniform density) and the Ornstein-Uhlenbeck Fokker-Planck flow (V = x^2/2,
 * fixed point N(0, 1)) are followed in time, and at each time the program
 * prints
 *   KL(p_t || q)    berg_kl_divergence to the fixed point q
 *   S[p_t]          berg_entropy
 *   J[p_t]          berg_density_fisher_information
 *   I(X_0; X_t)     the information the channel keeps about X_0 ~ p0:
 *                   heat by berg_heat_channel_information, Fokker-Planck from
 *                   the exact spectral propagator (berg_fp_spectral) column
 *                   by column, I = S[p_t] - sum_x p0(x) w S[E delta_x]
 *   kappa_1..4      berg_cumulants
 * and checks them against the closed forms of Gaussians: heat N(m, v0 + 2t)
 * (entropy, Fisher information 1/v, I = 1/2 ln(1 + v0/2t), de Bruijn
 * dS/dt = J), OU N(m0 e^{-t}, 1 + (v0 - 1) e^{-2t}) (mean, variance, KL,
 * I = 1/2 ln(1 + e^{-2t} v0/(1 - e^{-2t}))). Registered as a test; exits 1
 * when a check fails.
 *
 *   flow_information
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berg.h>

/* ISO C11 has no M_PI (POSIX does): this example builds with -std=c11 alone */
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { KL, ENTROPY, FISHER, MUTUAL, KAPPA1, KAPPA2, KAPPA3, KAPPA4, NCOL };

static int failures = 0;

static void check(int ok, const char *what, double got, double want)
{
    if (!ok) {
        failures++;
        fprintf(stderr, "FAIL %s: got %.17g, want %.17g\n", what, got, want);
    }
}

static void check_rel(double got, double want, double rtol, const char *what)
{
    check(fabs(got - want) <= rtol * fabs(want), what, got, want);
}

static int fail(const char *what)
{
    fprintf(stderr, "flow_information: %s: %s\n", what, berg_last_error());
    return 1;
}

static berg_space *line(size_t n, double lo, double hi)
{
    berg_space *s = NULL;
    berg_boundary bc = BERG_NEUMANN;
    berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    return s;
}

/* normalized N(m, v) sampled on the grid */
static void gaussian(const berg_space *s, double m, double v, double *p)
{
    size_t n = berg_space_size(s);
    double mass;
    berg_space_coordinates(s, 0, p);
    for (size_t i = 0; i < n; i++)
        p[i] = exp(-0.5 * (p[i] - m) * (p[i] - m) / v);
    berg_space_normalize(s, p, &mass);
}

/* the functionals of p_t (values below 1e-300, spectral round-off in far
 * tails, raised to 1e-300 first) */
static berg_status functionals(const berg_space *s, double *p, const double *q, double *r)
{
    size_t n = berg_space_size(s);
    double kappa[5];
    for (size_t i = 0; i < n; i++)
        p[i] = fmax(p[i], 1e-300);
    berg_status st;
    if ((st = berg_kl_divergence(s, p, q, &r[KL])) || (st = berg_entropy(s, p, &r[ENTROPY])) ||
        (st = berg_density_fisher_information(s, p, &r[FISHER])) ||
        (st = berg_cumulants(s, 4, p, kappa)))
        return st;
    for (int k = 1; k <= 4; k++)
        r[KAPPA1 + k - 1] = kappa[k];
    return BERG_OK;
}

/* I(X0; Xt) of the Fokker-Planck channel from its spectral propagator:
 * S[p_t] - sum_x p0(x) w S[E delta_x]; col: scratch */
static berg_status fp_mutual(const berg_space *s, const berg_fp_spectral *sp, const double *p0,
                             double St, double t, double *col, double *mi)
{
    size_t n = berg_space_size(s);
    double w = berg_space_cell_weight(s), hcond = 0.0;
    for (size_t x = 0; x < n; x++) {
        if (p0[x] <= 0.0)
            continue;
        memset(col, 0, n * sizeof *col);
        col[x] = 1.0 / w;
        berg_status st = berg_fp_spectral_evolve(sp, t, col, col);
        if (st)
            return st;
        double h = 0.0;
        for (size_t y = 0; y < n; y++)
            if (col[y] > 0.0)
                h -= col[y] * log(col[y]) * w;
        hcond += p0[x] * w * h;
    }
    *mi = St - hcond;
    return BERG_OK;
}

static void print_row(const char *flow, double t, const double *r)
{
    printf("%-5s %6.3f %10.3e %9.5f %9.5f %9.6f %8.4f %8.4f %9.2e %9.2e\n", flow, t, r[KL],
           r[ENTROPY], r[FISHER], r[MUTUAL], r[KAPPA1], r[KAPPA2], r[KAPPA3], r[KAPPA4]);
}

static int heat_flow(void)
{
    size_t n = 512;
    berg_space *S = line(n, -20.0, 20.0);
    berg_heat *heat = NULL;
    double *p0 = malloc(n * sizeof *p0), *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    double t[4] = {0.0, 0.5, 1.0, 1.0 + 1e-4}, r[4][NCOL], v0 = 0.7, m0 = 0.5;
    if (!S || berg_heat_create(&heat, S, 0))
        return fail("heat");
    gaussian(S, m0, v0, p0);
    for (size_t i = 0; i < n; i++)
        q[i] = 1.0 / berg_space_volume(S);
    for (int j = 0; j < 4; j++) {
        if (berg_heat_apply(heat, t[j], p0, p) || functionals(S, p, q, r[j]) ||
            berg_heat_channel_information(heat, t[j], p0, &r[j][MUTUAL]))
            return fail("heat information");
        print_row("heat", t[j], r[j]);
    }
    for (int j = 0; j < 3; j++) {
        double v = v0 + 2 * t[j];
        check_rel(r[j][KAPPA1], m0, 1e-10, "heat: kappa1 = m0");
        check_rel(r[j][KAPPA2], v, 1e-9, "heat: kappa2 = v0 + 2t");
        check(fabs(r[j][KAPPA3]) <= 1e-9, "heat: kappa3 = 0", r[j][KAPPA3], 0.0);
        check(fabs(r[j][KAPPA4]) <= 1e-8, "heat: kappa4 = 0", r[j][KAPPA4], 0.0);
        check_rel(r[j][ENTROPY], 0.5 * log(2 * M_PI * exp(1.0) * v), 1e-9,
                  "heat: entropy of N(m, v0 + 2t)");
        check_rel(r[j][FISHER], 1.0 / v, 1e-9, "heat: Fisher information 1/v");
        if (t[j] > 0) /* the Gaussian channel: I = 1/2 ln(1 + v0 / 2t) */
            check_rel(r[j][MUTUAL], 0.5 * log(1 + v0 / (2 * t[j])), 1e-13,
                      "heat: mutual information");
    }
    double dS = (r[3][ENTROPY] - r[2][ENTROPY]) / 1e-4;
    check_rel(dS, r[2][FISHER], 1e-3, "heat: de Bruijn dS/dt = J");
    check(r[1][KL] > r[2][KL], "heat: KL to the fixed point decreases", r[2][KL], r[1][KL]);
    check(r[1][MUTUAL] > r[2][MUTUAL], "heat: information retained decreases", r[2][MUTUAL],
          r[1][MUTUAL]);
    berg_heat_destroy(heat);
    berg_space_destroy(S);
    free(p0);
    free(p);
    free(q);
    return 0;
}

static int ou_flow(void)
{
    size_t n = 400;
    berg_space *S = line(n, -10.0, 10.0);
    double *p0 = malloc(n * sizeof *p0), *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    double *V = malloc(n * sizeof *V), *col = malloc(n * sizeof *col);
    double m0 = 1.5, v0 = 0.3, t[3] = {0.2, 0.6, 2.0}, r[NCOL];
    berg_fp *fp = NULL;
    berg_fp_spectral *sp = NULL;
    berg_space_coordinates(S, 0, V);
    for (size_t i = 0; i < n; i++)
        V[i] = 0.5 * V[i] * V[i];
    gaussian(S, m0, v0, p0);
    if (berg_fp_create(&fp, S, V, 0) || berg_fp_stationary(fp, q) ||
        berg_fp_spectral_create(&sp, fp))
        return fail("Fokker-Planck");
    for (int j = 0; j < 3; j++) {
        if (berg_fp_spectral_evolve(sp, t[j], p0, p) || functionals(S, p, q, r) ||
            fp_mutual(S, sp, p0, r[ENTROPY], t[j], col, &r[MUTUAL]))
            return fail("Fokker-Planck information");
        print_row("OU", t[j], r);
        double m = m0 * exp(-t[j]), v = 1 + (v0 - 1) * exp(-2 * t[j]), e = exp(-2 * t[j]);
        check_rel(r[KAPPA1], m, 2e-3, "OU: mean m0 e^-t");
        check_rel(r[KAPPA2], v, 2e-3, "OU: variance");
        check_rel(r[KL], 0.5 * (v + m * m - 1 - log(v)), 5e-3, "OU: KL(p_t || N(0,1))");
        check_rel(r[MUTUAL], 0.5 * log(1 + e * v0 / (1 - e)), 5e-3, "OU: mutual information");
    }
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(S);
    free(p0);
    free(p);
    free(q);
    free(V);
    free(col);
    return 0;
}

int main(void)
{
    printf("%-5s %6s %10s %9s %9s %9s %8s %8s %9s %9s\n", "flow", "t", "KL(p|q)", "S[p]",
           "J[p]", "I(X0;Xt)", "kappa1", "kappa2", "kappa3", "kappa4");
    if (heat_flow() || ou_flow())
        return 1;
    printf("%s\n", failures ? "some checks FAILED" : "all checks passed");
    return failures != 0;
}
