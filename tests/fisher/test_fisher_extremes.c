/* berg_fisher_location right or refused at extreme values (issue 13):
 * subnormal densities, and boxes whose cell widths make 1/h^2 leave the
 * double range. Successes are held against exact scaling laws. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

#define SENTINEL 12345.0

/* integer weights of a bump (exact in double, and exact times 2^-1074) */
static void bump_counts(size_t n, double *k)
{
    for (size_t i = 0; i < n; i++) {
        double x = (i + 0.5) / (double)n;
        k[i] = floor(1000.0 * exp(-30.0 * (x - 0.45) * (x - 0.45))) + 1.0;
    }
}

static void test_subnormal_density(void)
{
    const size_t n = 48;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    double k[48], sub[48], I1, Is;
    bump_counts(n, k);
    for (size_t i = 0; i < n; i++)
        sub[i] = ldexp(k[i], -1074); /* exact subnormals: k * 4.9e-324 */
    CHECK_STATUS(berg_fisher_location(s, k, &I1), BERG_OK, "integer bump");
    CHECK_STATUS(berg_fisher_location(s, sub, &Is), BERG_OK, "the same bump, subnormal");
    CHECK(isfinite(Is) && fabs(Is - I1) <= 1e-13 * I1,
          "the Fisher metric depends only on the shape: %.17g vs %.17g", Is, I1);
    /* a unit spike among subnormal cells is the spike alone */
    for (size_t i = 0; i < n; i++) {
        k[i] = i == 20 ? 1.0 : 0.0;
        sub[i] = i == 20 ? 1.0 : 1e-310;
    }
    CHECK_STATUS(berg_fisher_location(s, k, &I1), BERG_OK, "spike");
    CHECK_STATUS(berg_fisher_location(s, sub, &Is), BERG_OK, "spike among subnormals");
    CHECK(isfinite(Is) && fabs(Is - I1) <= 1e-6 * I1, "spike: %.17g vs %.17g", Is, I1);
    berg_space_destroy(s);
}

static void test_extreme_boxes(void)
{
    const size_t n = 48;
    double k[48], I1, IL;
    bump_counts(n, k);
    berg_space *s1 = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    CHECK_STATUS(berg_fisher_location(s1, k, &I1), BERG_OK, "on [0, 1]");
    berg_space_destroy(s1);
    /* I(L) = I(1) / L^2 while that is a normal double */
    const double ok[4] = {1e-150, 1e-100, 1e100, 1e150};
    for (size_t j = 0; j < 4; j++) {
        berg_space *s = tu_line(n, 0.0, ok[j], BERG_NEUMANN);
        CHECK_STATUS(berg_fisher_location(s, k, &IL), BERG_OK, "on [0, %g]", ok[j]);
        CHECK_REL(IL * ok[j] * ok[j], I1, 1e-13, "I scales as 1/L^2 (L = %g)", ok[j]);
        berg_space_destroy(s);
    }
    /* beyond, I overflows (L = 1e-300) or underflows (L = 1e300): refused */
    const double bad[2] = {1e-300, 1e300};
    for (size_t j = 0; j < 2; j++) {
        berg_space *s = tu_line(n, 0.0, bad[j], BERG_NEUMANN);
        IL = SENTINEL;
        CHECK_STATUS(berg_fisher_location(s, k, &IL), BERG_ERR_DOMAIN, "on [0, %g]", bad[j]);
        CHECK_MESSAGE("Imat[0][0]", "the message names the entry");
        CHECK(IL == SENTINEL, "Imat untouched (L = %g)", bad[j]);
        berg_space_destroy(s);
    }
    /* rank 2, axes of widths 1e-100 and 1e100, a tilted density: I_aa scale
     * as 1/L_a^2, the off-diagonal entry as 1/(L_0 L_1) */
    const size_t nn[2] = {24, 20};
    double lo[2] = {0.0, 0.0}, hi1[2] = {1.0, 1.0}, hiL[2] = {1e-100, 1e100};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    double *p = tu_vec(nn[0] * nn[1]), A[4], B[4];
    for (size_t i = 0; i < nn[0]; i++)
        for (size_t j = 0; j < nn[1]; j++) {
            double x = (i + 0.5) / nn[0] - 0.5, y = (j + 0.5) / nn[1];
            p[i * nn[1] + j] = exp(-12.0 * x * x) * (1.2 + sin(2.0 * M_PI * y + 3.0 * x));
        }
    berg_space *a = tu_space(2, nn, lo, hi1, bc, NULL), *b = tu_space(2, nn, lo, hiL, bc, NULL);
    CHECK_STATUS(berg_fisher_location(a, p, A), BERG_OK, "rank 2 on the unit box");
    CHECK_STATUS(berg_fisher_location(b, p, B), BERG_OK, "rank 2 on the 1e-100 x 1e100 box");
    CHECK_REL(B[0] * 1e-200, A[0], 1e-13, "I_00 scales as 1/L_0^2");
    CHECK_REL(B[3] * 1e200, A[3], 1e-13, "I_11 scales as 1/L_1^2");
    CHECK_REL(B[1], A[1], 1e-12, "I_01 scales as 1/(L_0 L_1) = 1");
    CHECK(B[1] == B[2], "symmetric");
    berg_space_destroy(a);
    berg_space_destroy(b);
    free(p);
}

/* G(u) = (u_0, -u_0 / 2): values near DBL_MAX */
static int linear_model(size_t du, const double *u, size_t dy, double *y, void *user_data)
{
    (void)du;
    (void)dy;
    (void)user_data;
    y[0] = u[0];
    y[1] = -0.5 * u[0];
    return 0;
}

static void test_jacobian_huge_u(void)
{
    /* finite differences at u = 1e308: the stencil's values are near
     * DBL_MAX and 8 f overflowed (inf/NaN with OK); now exact for a linear G */
    double u = 1e308, J[2] = {SENTINEL, SENTINEL};
    CHECK_STATUS(berg_fisher_jacobian(1, 2, &u, J, linear_model, NULL, NULL), BERG_OK,
                 "Jacobian at u = 1e308");
    CHECK_REL(J[0], 1.0, 1e-12, "dG_0/du = 1");
    CHECK_REL(J[1], -0.5, 1e-12, "dG_1/du = -1/2");
    /* at DBL_MAX the stencil u +- 2h leaves the range: refused, J untouched */
    u = DBL_MAX;
    J[0] = J[1] = SENTINEL;
    CHECK_STATUS(berg_fisher_jacobian(1, 2, &u, J, linear_model, NULL, NULL), BERG_ERR_DOMAIN,
                 "Jacobian at u = DBL_MAX");
    CHECK_MESSAGE("u[0]", "the message names u[0]");
    CHECK(J[0] == SENTINEL && J[1] == SENTINEL, "J untouched");
}

int main(void)
{
    test_subnormal_density();
    test_extreme_boxes();
    test_jacobian_huge_u();
    return test_summary("fisher-extremes");
}
