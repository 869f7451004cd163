/* tests of information along flows (closed forms for the heat and OU flows of
 * Gaussians, de Bruijn, monotonicity) and of diffusion learning (the reverse
 * flow recovers p0, better with more steps). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static berg_space *line(size_t n, double lo, double hi)
{
    berg_space *s = NULL;
    berg_boundary bc = BERG_NEUMANN;
    berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
    return s;
}

static void gaussian(const berg_space *s, double m, double v, double *p)
{
    size_t n = berg_space_size(s);
    double *x = malloc(n * sizeof *x), mass;
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++)
        p[i] = exp(-0.5 * (x[i] - m) * (x[i] - m) / v);
    berg_space_normalize(s, p, &mass);
    free(x);
}

enum { C = BERG_FLOW_INFO_COUNT };

static void test_heat(void)
{
    size_t n = 512;
    berg_space *S = line(n, -20.0, 20.0);
    double *p0 = malloc(n * sizeof *p0), t[4] = {0.0, 0.5, 1.0, 1.0 + 1e-4}, out[4 * C];
    double v0 = 0.7, m0 = 0.5;
    gaussian(S, m0, v0, p0);
    CHECK_STATUS(berg_flow_information(S, NULL, p0, 4, t, out), BERG_OK, "heat information");
    for (int j = 0; j < 3; j++) {
        double v = v0 + 2 * t[j];
        CHECK_REL(out[j * C + BERG_FLOW_INFO_KAPPA1], m0, 1e-10, "kappa1 at t = %g", t[j]);
        CHECK_REL(out[j * C + BERG_FLOW_INFO_KAPPA2], v, 1e-9, "kappa2 = v0 + 2t at t = %g", t[j]);
        CHECK_ABS(out[j * C + BERG_FLOW_INFO_KAPPA3], 0.0, 1e-9, "kappa3 = 0");
        CHECK_ABS(out[j * C + BERG_FLOW_INFO_KAPPA4], 0.0, 1e-8, "kappa4 = 0");
        CHECK_REL(out[j * C + BERG_FLOW_INFO_ENTROPY], 0.5 * log(2 * M_PI * exp(1.0) * v), 1e-9,
                  "entropy of N(m, v0 + 2t)");
        /* measured <= 1.2e-11 (Fisher information), 3.6e-15 (mutual) */
        CHECK_REL(out[j * C + BERG_FLOW_INFO_FISHER], 1.0 / v, 1e-9, "Fisher information 1/v");
        /* Gaussian channel: I(X0; Xt) = 1/2 ln(1 + v0 / 2t) */
        if (t[j] > 0)
            CHECK_REL(out[j * C + BERG_FLOW_INFO_MUTUAL], 0.5 * log(1 + v0 / (2 * t[j])), 1e-13,
                      "mutual information at t = %g", t[j]);
    }
    double dS = (out[3 * C + 1] - out[2 * C + 1]) / 1e-4;
    CHECK_REL(dS, out[2 * C + BERG_FLOW_INFO_FISHER], 1e-3, "de Bruijn dS/dt = J");
    CHECK(out[1 * C] > out[2 * C], "KL to the fixed point decreases");
    CHECK(out[1 * C + 3] > out[2 * C + 3], "information retained decreases");
    double bad[1] = {-1.0};
    double keep[C];
    memcpy(keep, out, sizeof keep);
    CHECK_STATUS(berg_flow_information(S, NULL, p0, 1, bad, out), BERG_ERR_TIME, "t < 0");
    CHECK(memcmp(keep, out, sizeof keep) == 0, "out untouched");
    free(p0);
    berg_space_destroy(S);
}

static void test_ou(void)
{
    size_t n = 400;
    berg_space *S = line(n, -10.0, 10.0);
    double *p0 = malloc(n * sizeof *p0), *V = malloc(n * sizeof *V), *x = malloc(n * sizeof *x);
    berg_space_coordinates(S, 0, x);
    for (size_t i = 0; i < n; i++)
        V[i] = 0.5 * x[i] * x[i];
    double m0 = 1.5, v0 = 0.3, t[3] = {0.2, 0.6, 2.0}, out[3 * C];
    gaussian(S, m0, v0, p0);
    CHECK_STATUS(berg_flow_information(S, V, p0, 3, t, out), BERG_OK, "OU information");
    for (int j = 0; j < 3; j++) {
        double m = m0 * exp(-t[j]), v = 1 + (v0 - 1) * exp(-2 * t[j]);
        double klw = 0.5 * (v + m * m - 1 - log(v));
        CHECK_REL(out[j * C + BERG_FLOW_INFO_KAPPA1], m, 2e-3, "OU mean at t = %g", t[j]);
        CHECK_REL(out[j * C + BERG_FLOW_INFO_KAPPA2], v, 2e-3, "OU variance at t = %g", t[j]);
        CHECK_REL(out[j * C + BERG_FLOW_INFO_KL], klw, 5e-3, "KL(p_t || N(0,1)) at t = %g", t[j]);
        /* OU channel: I = 1/2 ln(1 + e^{-2t} v0 / (1 - e^{-2t})) */
        double e = exp(-2 * t[j]);
        CHECK_REL(out[j * C + BERG_FLOW_INFO_MUTUAL], 0.5 * log(1 + e * v0 / (1 - e)), 5e-3,
                  "OU mutual information at t = %g", t[j]);
    }
    free(p0);
    free(V);
    free(x);
    berg_space_destroy(S);
}

static void test_learning(void)
{
    size_t n = 256;
    berg_space *S = line(n, -8.0, 8.0);
    double *p0 = malloc(n * sizeof *p0), *g = malloc(n * sizeof *g), *rec = malloc(n * sizeof *rec);
    double *hist = malloc(n * sizeof *hist);
    gaussian(S, -1.5, 0.3, p0);
    gaussian(S, 2.0, 0.5, g);
    for (size_t i = 0; i < n; i++)
        p0[i] = 0.4 * p0[i] + 0.6 * g[i];
    size_t steps[4] = {4, 8, 16, 32};
    double kl[4], klf = 0.0, klp = 0.0;
    for (int r = 0; r < 4; r++) {
        CHECK_STATUS(berg_diffusion_learning(S, p0, 3.0, steps[r], r == 3 ? 40000 : 0, 11, rec,
                                             &kl[r], hist, &klp, &klf),
                     BERG_OK, "learning with %zu steps", steps[r]);
        printf("diffusion learning: %zu steps, KL(p0 || recovered) = %.3g\n", steps[r], kl[r]);
    }
    printf("KL(p_T || N(0,1)) = %.3g; particles (40000, 32 steps): KL(hist || p0) = %.3g\n", klf,
           klp);
    for (int r = 1; r < 4; r++)
        CHECK(kl[r] < kl[r - 1] / 2.5, "more steps recover better (%zu steps)", steps[r]);
    CHECK(kl[3] < 1e-3, "32 steps recover p0");
    CHECK(klp < 0.03, "particles recover p0 up to sampling noise");
    CHECK(klf > 1e-4 && klf < 0.02, "forward noising nearly reaches N(0,1) at T = 3");
    CHECK_STATUS(berg_diffusion_learning(S, p0, 0.0, 4, 0, 1, rec, kl, NULL, NULL, NULL),
                 BERG_ERR_TIME, "T = 0");
    CHECK_STATUS(berg_diffusion_learning(S, p0, 1.0, 0, 0, 1, rec, kl, NULL, NULL, NULL),
                 BERG_ERR_SIZE, "nsteps = 0");
    free(p0);
    free(g);
    free(rec);
    free(hist);
    berg_space_destroy(S);
}

int main(void)
{
    test_heat();
    test_ou();
    test_learning();
    return test_summary("dictionary-information");
}
