/* functionals: entropy, KL and friends against closed forms, first
 * variations against finite differences, bad input. */
#include <float.h>
#include <stdlib.h>

#include "func_helpers.h"

/* ---- closed forms ------------------------------------------------------ */

static void test_closed_forms(void)
{
    /* 1-D Gaussian, metric g = 4: S = 1/2 ln(2 pi e sigma^2) + 1/2 ln g */
    size_t n1 = 400;
    double lo = -12, hi = 12, g1 = 4.0;
    berg_space *s = tu_space(1, &n1, &lo, &hi, NULL, &g1);
    double *p = vec(n1), *q = vec(n1), *V = vec(n1), *t = vec(n1);
    double mu = 0.3, var = 1.7, S, D, H, F, E;
    tu_gaussian(s, &mu, &var, p);
    CHECK_STATUS(berg_entropy(s, p, &S), BERG_OK, "entropy");
    CHECK_REL(S, 0.5 * log(2 * M_PI * M_E * var) + 0.5 * log(g1), 1e-12, "Gaussian entropy");
    double mu2 = -0.4, var2 = 2.5;
    tu_gaussian(s, &mu2, &var2, q);
    CHECK_STATUS(berg_kl_divergence(s, p, q, &D), BERG_OK, "kl");
    double want = 0.5 * log(var2 / var) + (var + (mu - mu2) * (mu - mu2)) / (2 * var2) - 0.5;
    CHECK_REL(D, want, 1e-11, "Gaussian KL");
    CHECK_STATUS(berg_cross_entropy(s, p, q, &H), BERG_OK, "cross entropy");
    CHECK_REL(H, S + D, 1e-13, "cross entropy = S + KL");
    CHECK_STATUS(berg_kl_divergence(s, p, p, &D), BERG_OK, "kl self");
    CHECK_ABS(D, 0.0, 1e-15, "KL(p||p) = 0");

    /* free energy + ln Z = KL(p || e^{-V}/Z) (eq 23), exactly on the grid;
     * V stays below 40 on the box so that e^{-V} does not underflow (with
     * x^4/4 it did in 154 cells, KL was +inf and the check could not fail) */
    double w;
    w = berg_space_cell_weight(s);
    double Z = 0.0;
    for (size_t i = 0; i < n1; i++) {
        double x;
        tu_grid_point(s, i, &x);
        V[i] = 1e-3 * x * x * x * x - 0.5 * x;
        t[i] = exp(-V[i]);
        Z += w * t[i];
    }
    berg_space_normalize(s, t, NULL);
    CHECK_STATUS(berg_free_energy(s, p, V, &F), BERG_OK, "free energy");
    CHECK_STATUS(berg_kl_divergence(s, p, t, &D), BERG_OK, "kl to Gibbs");
    CHECK(isfinite(D), "KL to the Gibbs state is finite: %g", D);
    CHECK_REL(F + log(Z), D, 1e-12, "F + ln Z = KL (eq 23)");
    CHECK_STATUS(berg_potential_energy(s, p, V, &E), BERG_OK, "potential energy");
    CHECK_REL(E - S, F, 1e-13, "F = E_V - S");

    /* Dirichlet energy and Fisher information of a Gaussian (g = 4):
     * E = g^{-1} / (8 sqrt(pi) sigma^3) / sqrt(g) (p carries 1/sqrt g, Vol
     * sqrt g), second-order accurate (2.7e-4 at h = 0.06);
     * J = g^{-1} / sigma^2 */
    double J;
    CHECK_STATUS(berg_density_fisher_information(s, p, &J), BERG_OK, "fisher");
    /* exact: summation by parts gives J_h = -w sum p Delta_h ln p, and
     * Delta_h of the quadratic ln p is the exact constant */
    CHECK_REL(J, 1.0 / (g1 * var), 1e-12, "Gaussian Fisher information");
    CHECK_STATUS(berg_dirichlet_energy(s, p, &E), BERG_OK, "dirichlet energy");
    CHECK_REL(E, 1.0 / (g1 * 8 * sqrt(M_PI) * pow(var, 1.5)) / sqrt(g1), 1e-3,
              "Gaussian Dirichlet energy");

    /* 0 ln 0 = 0; KL = +inf where q vanishes on the support of p */
    for (size_t i = 0; i < n1; i++)
        t[i] = (i < n1 / 2) ? q[i] : 0.0;
    berg_space_normalize(s, t, NULL);
    CHECK_STATUS(berg_entropy(s, t, &S), BERG_OK, "entropy with zeros");
    double acc = 0.0;
    for (size_t i = 0; i < n1 / 2; i++)
        acc -= w * t[i] * log(t[i]);
    CHECK_REL(S, acc, 1e-12, "0 ln 0 = 0");
    CHECK_STATUS(berg_kl_divergence(s, p, t, &D), BERG_OK, "kl infinite");
    CHECK(D == HUGE_VAL, "KL = +inf where q vanishes on supp p (got %g)", D);
    CHECK_STATUS(berg_cross_entropy(s, p, t, &H), BERG_OK, "cross entropy infinite");
    CHECK(H == HUGE_VAL, "cross entropy = +inf (got %g)", H);
    CHECK_STATUS(berg_kl_divergence(s, t, p, &D), BERG_OK, "kl finite other way");
    CHECK(isfinite(D) && D > 0, "KL(t||p) finite (got %g)", D);
    CHECK_STATUS(berg_density_fisher_information(s, t, &J), BERG_OK, "fisher with a zero edge");
    CHECK(J == HUGE_VAL, "Fisher information of a density with a jump to 0 is +inf");
    berg_space_destroy(s);

    /* 2-D correlated Gaussian, anisotropic metric */
    size_t n2[2] = {96, 96};
    double lo2[2] = {-11, -11}, hi2[2] = {11, 11}, g2[4] = {2.0, 0.0, 0.0, 0.5};
    double m2[2] = {0.2, -0.1}, Sig[4] = {1.5, 0.6, 0.6, 1.0};
    s = tu_space(2, n2, lo2, hi2, NULL, g2);
    double *p2 = vec(96 * 96);
    tu_gaussian(s, m2, Sig, p2);
    CHECK_STATUS(berg_entropy(s, p2, &S), BERG_OK, "entropy 2-D");
    double detS = Sig[0] * Sig[3] - Sig[1] * Sig[2];
    CHECK_REL(S, 0.5 * log(pow(2 * M_PI * M_E, 2) * detS) + 0.5 * log(g2[0] * g2[3]), 1e-11,
              "2-D Gaussian entropy with metric");
    /* J = tr(Sigma^{-1} g^{-1}) */
    CHECK_STATUS(berg_density_fisher_information(s, p2, &J), BERG_OK, "fisher 2-D");
    CHECK_REL(J, (Sig[3] / detS) / g2[0] + (Sig[0] / detS) / g2[3], 1e-12,
              "2-D Gaussian Fisher information");
    berg_space_destroy(s);
    free(p2);
    free(p), free(q), free(V), free(t);
}

/* ---- first variations: d/de F[p + e eta] = integral dF eta ------------- */

typedef berg_status (*val1_fn)(const berg_space *, const double *, double *);
typedef berg_status (*der1_fn)(const berg_space *, const double *, double *);
typedef berg_status (*val2_fn)(const berg_space *, const double *, const double *, double *);
typedef berg_status (*der2_fn)(const berg_space *, const double *, const double *, double *);

static void check_variation(const berg_space *s, const double *p, const double *q,
                            const double *eta, val1_fn v1, der1_fn d1, val2_fn v2, der2_fn d2,
                            const char *name, double tol)
{
    size_t n = berg_space_size(s);
    double *pp = vec(n), *dF = vec(n);
    double eps = 1e-5, fp = 0, fm = 0, ip;
    /* tangent direction scaled by p keeps positivity: eta_p = eta * p - mean */
    double *dir = vec(n);
    for (size_t i = 0; i < n; i++)
        dir[i] = eta[i] * p[i];
    berg_space_project_tangent(s, dir, dir);
    for (size_t i = 0; i < n; i++)
        pp[i] = p[i] + eps * dir[i];
    berg_status st = v1 ? v1(s, pp, &fp) : v2(s, pp, q, &fp);
    CHECK_STATUS(st, BERG_OK, "%s at p + e eta", name);
    for (size_t i = 0; i < n; i++)
        pp[i] = p[i] - eps * dir[i];
    st = v1 ? v1(s, pp, &fm) : v2(s, pp, q, &fm);
    CHECK_STATUS(st, BERG_OK, "%s at p - e eta", name);
    st = d1 ? d1(s, p, dF) : d2(s, p, q, dF);
    CHECK_STATUS(st, BERG_OK, "%s derivative", name);
    berg_space_inner_l2(s, dF, dir, &ip);
    double fd = (fp - fm) / (2 * eps);
    CHECK_REL(ip, fd, tol, "%s: delta F(eta) = G_l2(dF, eta)", name);
    free(pp), free(dF), free(dir);
}

static berg_status potential_v(const berg_space *s, const double *p, const double *V, double *out)
{
    return berg_potential_energy(s, p, V, out);
}

static void test_variations(void)
{
    size_t n[2] = {24, 20};
    double lo[2] = {0, 0}, hi[2] = {2 * M_PI, 3.0}, g[4] = {1.5, 0, 0, 0.7};
    berg_boundary bcs[3][2] = {{BERG_PERIODIC, BERG_NEUMANN},
                              {BERG_PERIODIC, BERG_DIRICHLET},
                              {BERG_NEUMANN, BERG_PERIODIC}};
    for (int c = 0; c < 3; c++) {
        berg_space *s = tu_space(2, n, lo, hi, bcs[c], g);
        size_t N = berg_space_size(s);
        double *p = vec(N), *q = vec(N), *eta = vec(N), *V = vec(N);
        smooth_random(s, p, 11 + (unsigned)c, 0.8);
        smooth_random(s, q, 23 + (unsigned)c, 0.8);
        random_tangent(s, eta, 5 + (unsigned)c);
        check_variation(s, p, NULL, eta, berg_entropy, berg_entropy_derivative, NULL, NULL,
                        "entropy", 1e-8);
        check_variation(s, p, q, eta, NULL, NULL, berg_kl_divergence, berg_kl_derivative, "KL",
                        1e-8);
        check_variation(s, p, q, eta, NULL, NULL, berg_cross_entropy,
                        berg_cross_entropy_derivative, "cross entropy", 1e-7);
        check_variation(s, p, NULL, eta, berg_dirichlet_energy, berg_dirichlet_energy_derivative,
                        NULL, NULL, "Dirichlet energy", 1e-8);
        check_variation(s, p, NULL, eta, berg_density_fisher_information,
                        berg_density_fisher_information_derivative, NULL, NULL, "Fisher information",
                        1e-7);
        check_variation(s, p, q, eta, NULL, NULL, berg_relative_fisher_information,
                        berg_relative_fisher_information_derivative, "relative Fisher", 1e-7);
        /* the free energy with V = -ln q: derivative V + ln p + 1 */
        for (size_t i = 0; i < N; i++)
            V[i] = -log(q[i]) + 0.3;
        check_variation(s, p, V, eta, NULL, NULL, berg_free_energy, berg_free_energy_derivative,
                        "free energy", 1e-8);
        check_variation(s, p, V, eta, NULL, NULL, potential_v, berg_potential_energy_derivative,
                        "potential energy", 1e-7);
        /* in place: out may alias p */
        double *a = vec(N), *b = vec(N);
        memcpy(a, p, N * sizeof(double));
        berg_density_fisher_information_derivative(s, p, b);
        CHECK_STATUS(berg_density_fisher_information_derivative(s, a, a), BERG_OK, "in place");
        CHECK(tu_max_abs_diff(a, b, N) == 0.0, "in-place Fisher derivative equals out of place");
        free(a), free(b);
        free(p), free(q), free(eta), free(V);
        berg_space_destroy(s);
    }
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void)
{
    size_t n = 16;
    double lo = 0, hi = 1;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    double p[16], q[16], out[16], v = 1234.5;
    for (int i = 0; i < 16; i++)
        p[i] = q[i] = 1.0;
    double bad[16];
    memcpy(bad, p, sizeof p);
    bad[5] = -0.1;
    tu_fill(out, 16, -7.0);
    CHECK_STATUS(berg_entropy(NULL, p, &v), BERG_ERR_NULL, "NULL space");
    CHECK_STATUS(berg_entropy(s, NULL, &v), BERG_ERR_NULL, "NULL p");
    CHECK_STATUS(berg_entropy(s, p, NULL), BERG_ERR_NULL, "NULL S");
    CHECK_STATUS(berg_entropy(s, bad, &v), BERG_ERR_NEGATIVE, "negative density");
    CHECK_MESSAGE("index 5", "names the index");
    bad[5] = NAN;
    CHECK_STATUS(berg_kl_divergence(s, p, bad, &v), BERG_ERR_NONFINITE, "NaN q");
    CHECK_MESSAGE("q[5]", "names q and the index");
    double half[16];
    for (int i = 0; i < 16; i++)
        half[i] = 0.5;
    CHECK_STATUS(berg_entropy(s, half, &v), BERG_ERR_MASS, "unnormalized density refused");
    CHECK_MESSAGE("normalize", "suggests normalizing");
    CHECK(v == 1234.5, "output untouched");
    q[3] = 0.0;
    q[4] = 2.0;
    CHECK_STATUS(berg_kl_derivative(s, p, q, out), BERG_ERR_DOMAIN, "KL derivative where q = 0");
    CHECK_MESSAGE("q[3]", "names the zero");
    CHECK(tu_untouched(out, 16, -7.0), "out untouched");
    CHECK_STATUS(berg_relative_fisher_information(s, p, q, &v), BERG_ERR_DOMAIN,
                 "relative Fisher needs q > 0");
    CHECK_STATUS(berg_potential_energy(s, p, bad, &v), BERG_ERR_NONFINITE, "NaN V");

    /* coupled metric: stencils refuse, entropy works */
    size_t n2[2] = {4, 4};
    double lo2[2] = {0, 0}, hi2[2] = {1, 1}, g[4] = {1, 0.3, 0.3, 1};
    berg_space *sc = tu_space(2, n2, lo2, hi2, NULL, g);
    double w, p2[16], o2[16];
    w = berg_space_cell_weight(sc);
    for (int i = 0; i < 16; i++)
        p2[i] = 1.0 / (16 * w);
    tu_fill(o2, 16, -7.0);
    CHECK_STATUS(berg_entropy(sc, p2, &v), BERG_OK, "entropy with coupled metric");
    CHECK_STATUS(berg_density_fisher_information(sc, p2, &v), BERG_ERR_UNSUPPORTED, "coupled Fisher");
    CHECK_MESSAGE("axes 0 and 1", "names the coupled axes");
    CHECK_STATUS(berg_w2_gradient(sc, p2, p2, o2), BERG_ERR_UNSUPPORTED, "coupled W2 gradient");
    CHECK(tu_untouched(o2, 16, -7.0), "out untouched");
    berg_space_destroy(sc);
    berg_space_destroy(s);
}

int main(void)
{
    test_closed_forms();
    test_variations();
    test_bad_input();
    return test_summary("metric/functionals");
}
