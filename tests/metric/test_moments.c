/* moments, central moments and cumulants against closed forms (Gaussian,
 * Gamma, independent axes, Isserlis), bad input. */
#include <float.h>
#include <stdlib.h>

#include "func_helpers.h"

/* ---- moments and cumulants --------------------------------------------- */

static void test_cumulants(void)
{
    /* 1-D Gaussian: kappa_1 = mu, kappa_2 = var, higher vanish */
    size_t n = 600;
    double lo = -15, hi = 15, mu = 0.7, var = 2.0;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    double *p = vec(n), k[9], m[9];
    tu_gaussian(s, &mu, &var, p);
    CHECK_STATUS(berg_cumulants(s, 8, p, k), BERG_OK, "cumulants");
    CHECK_REL(k[1], mu, 1e-12, "Gaussian kappa_1");
    CHECK_REL(k[2], var, 1e-12, "Gaussian kappa_2");
    for (int j = 3; j <= 8; j++)
        CHECK_ABS(k[j], 0.0, 1e-9, "Gaussian kappa_%d vanishes", j);
    CHECK_STATUS(berg_moments(s, 4, p, m), BERG_OK, "moments");
    CHECK_REL(m[0], 1.0, 1e-14, "m_0");
    CHECK_REL(m[2], var + mu * mu, 1e-12, "raw m_2");
    CHECK_REL(m[4], mu * mu * mu * mu + 6 * mu * mu * var + 3 * var * var, 1e-12, "raw m_4");
    CHECK_STATUS(berg_central_moments(s, 4, p, m), BERG_OK, "central moments");
    CHECK(m[1] == 0.0, "central m_1 = 0");
    CHECK_REL(m[4], 3 * var * var, 1e-12, "central m_4 = 3 var^2");
    berg_space_destroy(s);
    free(p);

    /* Gamma(shape 4, scale 0.5) (times) Gaussian: per-axis kappa_n = k theta^n
     * (n-1)!, mixed cumulants of independent axes vanish */
    size_t n2[2] = {4000, 60};
    double lo2[2] = {0, -12}, hi2[2] = {40, 12};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    s = tu_space(2, n2, lo2, hi2, bc, NULL);
    size_t N = berg_space_size(s);
    p = vec(N);
    for (size_t i = 0; i < n2[0]; i++)
        for (size_t j = 0; j < n2[1]; j++) {
            double x = lo2[0] + ((double)i + 0.5) * 0.01, y = lo2[1] + ((double)j + 0.5) * 0.4;
            p[i * n2[1] + j] = x * x * x * exp(-2 * x) * exp(-0.5 * (y - 0.5) * (y - 0.5) / 1.5);
        }
    berg_space_normalize(s, p, NULL);
    const int K = 5;
    double kap[36];
    CHECK_STATUS(berg_cumulants(s, K, p, kap), BERG_OK, "2-D cumulants");
    double fact = 1;
    for (int j = 1; j <= K; j++) {
        fact *= (j > 1) ? (j - 1) : 1;
        CHECK_REL(kap[j * (K + 1)], 4 * pow(0.5, j) * fact, 1e-8, "Gamma kappa_%d", j);
    }
    CHECK_REL(kap[1], 0.5, 1e-12, "Gaussian axis mean");
    CHECK_REL(kap[2], 1.5, 1e-11, "Gaussian axis variance");
    for (int a = 1; a <= K; a++)
        for (int b = 1; a + b <= K; b++)
            CHECK_ABS(kap[a * (K + 1) + b], 0.0, 1e-10, "independent axes: kappa_(%d,%d) = 0", a,
                      b);
    for (int a = 0; a <= K; a++)
        for (int b = 0; b <= K; b++)
            if (a + b > K)
                CHECK(kap[a * (K + 1) + b] == 0.0, "entry beyond the order is 0");
    berg_space_destroy(s);
    free(p);

    /* correlated 2-D Gaussian: kappa_11 = Sigma_12; all third and fourth
     * cumulants vanish (e.g. kappa_22 = E[x^2 y^2] - ... ) */
    size_t n3[2] = {120, 120};
    double lo3[2] = {-12, -12}, hi3[2] = {12, 12}, m3[2] = {0.3, -0.2},
           Sig[4] = {1.5, 0.6, 0.6, 1.0};
    s = tu_space(2, n3, lo3, hi3, NULL, NULL);
    p = vec(120 * 120);
    tu_gaussian(s, m3, Sig, p);
    double kk[25];
    CHECK_STATUS(berg_cumulants(s, 4, p, kk), BERG_OK, "Gaussian 2-D cumulants");
    CHECK_REL(kk[1 * 5 + 1], 0.6, 1e-11, "kappa_11 = covariance");
    CHECK_REL(kk[2 * 5 + 0], 1.5, 1e-11, "kappa_20");
    CHECK_REL(kk[0 * 5 + 2], 1.0, 1e-11, "kappa_02");
    for (int a = 0; a <= 4; a++)
        for (int b = 0; a + b <= 4; b++)
            if (a + b >= 3)
                CHECK_ABS(kk[a * 5 + b], 0.0, 1e-10, "Gaussian kappa_(%d,%d) = 0", a, b);
    double mm[25];
    CHECK_STATUS(berg_central_moments(s, 4, p, mm), BERG_OK, "central moments 2-D");
    /* Isserlis: E[x^2 y^2] = S11 S22 + 2 S12^2 */
    CHECK_REL(mm[2 * 5 + 2], 1.5 * 1.0 + 2 * 0.36, 1e-11, "Isserlis mu_22");
    berg_space_destroy(s);
    free(p);
}

static void test_bad_input(void)
{
    size_t n = 16;
    double lo = 0, hi = 1;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    double p[16], half[16], k[18];
    for (int i = 0; i < 16; i++) {
        p[i] = 1.0;
        half[i] = 0.5;
    }
    CHECK_STATUS(berg_cumulants(s, 0, p, k), BERG_ERR_DOMAIN, "order 0");
    CHECK_MESSAGE("order = 0", "names the order");
    CHECK_STATUS(berg_cumulants(s, 17, p, k), BERG_ERR_DOMAIN, "order 17");
    CHECK_STATUS(berg_moments(s, 17, p, k), BERG_ERR_DOMAIN, "moments of order 17");
    CHECK_MESSAGE("berg_moments", "names the function called");
    tu_fill(k, 18, -7.0);
    CHECK_STATUS(berg_central_moments(s, 4, half, k), BERG_ERR_MASS, "unnormalized density");
    CHECK_MESSAGE("berg_central_moments", "names the function called");
    CHECK(tu_untouched(k, 18, -7.0), "output untouched");
    CHECK_STATUS(berg_moments(NULL, 4, p, k), BERG_ERR_NULL, "NULL space");
    CHECK_STATUS(berg_moments(s, 4, p, NULL), BERG_ERR_NULL, "NULL output");
    /* in place: the moments may overwrite p */
    double q[16], m[5];
    memcpy(q, p, sizeof q);
    CHECK_STATUS(berg_moments(s, 4, p, m), BERG_OK, "moments");
    CHECK_STATUS(berg_moments(s, 4, q, q), BERG_OK, "moments in place");
    CHECK(tu_max_abs_diff(m, q, 5) == 0.0, "in place = out of place");
    berg_space_destroy(s);
}

int main(void)
{
    test_cumulants();
    test_bad_input();
    return test_summary("metric/moments");
}
