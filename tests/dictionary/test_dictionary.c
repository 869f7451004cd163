/* tests of the dictionary: the ERG data of table p.33 for the normal model in
 * closed form, the backward flow against the direct predictive (round-off for
 * the normal and linear-Gaussian models), and the order in tau of the
 * discrepancy for a nonlinear model with Laplace noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
    double sigma, a, c;
    int cubic;   /* G(u) = u^3 */
    int laplace; /* 0 normal, 1 Laplace (scale 1), 2 Student-t with 4 degrees of freedom */
    int nan_far; /* G returns NaN for |u| > 50 (off every grid of these tests) */
} model;

static int G_fn(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    const model *m = ud;
    y[0] = m->cubic ? u[0] * u[0] * u[0] : m->a * u[0] + m->c;
    if (m->nan_far && fabs(u[0]) > 50.0)
        y[0] = NAN;
    return 0;
}

static int noise_fn(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    const model *m = ud;
    if (m->laplace == 1)
        *lp = -fabs(n[0]) - log(2.0);
    else if (m->laplace == 2) /* Gamma(5/2) / (Gamma(2) sqrt(4 pi)) = 3/8 */
        *lp = log(0.375) - 2.5 * log1p(0.25 * n[0] * n[0]);
    else
        *lp = -0.5 * n[0] * n[0] / (m->sigma * m->sigma) - 0.5 * log(2 * M_PI * m->sigma * m->sigma);
    return 0;
}

/* a Bayesian state of model M with prior (NULL: flat) and truth p0(y - G(ustar)) */
static berg_bayes *make(model *M, berg_space *U, berg_space *Y, const double *prior, double ustar)
{
    size_t nu = berg_space_size(U), ny = berg_space_size(Y);
    double *flat = malloc(nu * sizeof *flat), *y = malloc(ny * sizeof *y);
    double *ps = malloc(ny * sizeof *ps), g;
    for (size_t i = 0; i < nu; i++)
        flat[i] = 1.0;
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, prior ? prior : flat, 0);
    CHECK_STATUS(berg_bayes_set_location(b, NULL, NULL, G_fn, noise_fn, M), BERG_OK, "location");
    G_fn(1, &ustar, 1, &g, M);
    berg_space_coordinates(Y, 0, y);
    for (size_t j = 0; j < ny; j++) {
        double n = y[j] - g, lp;
        noise_fn(1, &n, &lp, M);
        ps[j] = exp(lp);
    }
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "truth");
    free(flat);
    free(y);
    free(ps);
    return b;
}

static void test_normal_dictionary(void)
{
    model M = {1.5, 1.0, 0.0, 0, 0, 0};
    double ustar = 1.0, s2 = M.sigma * M.sigma;
    berg_space *U = tu_line(500, -4.0, 6.0, BERG_NEUMANN);
    berg_space *Y = tu_line(1024, -14.0, 16.0, BERG_NEUMANN);
    size_t ny = 1024;
    berg_bayes *b = make(&M, U, Y, NULL, ustar);
    berg_dictionary *d = NULL;
    double tau = 0.1;
    CHECK_STATUS(berg_dictionary_create(&d, b, tau), BERG_OK, "dictionary");
    double gam, K, Iinv, I, J, m, t;
    berg_dictionary_map(d, &gam);
    berg_dictionary_inverse_metric(d, &K);
    berg_dictionary_parameter_inverse_metric(d, &Iinv);
    berg_dictionary_fisher(d, &I);
    berg_dictionary_jacobian(d, &J);
    berg_dictionary_drift(d, &m);
    berg_dictionary_heat_time(d, &t);
    CHECK_ABS(gam, ustar, 1e-9, "gamma_tau = u*");
    /* measured: 7.5e-14 relative (K, I, t), 3.3e-14 (m) */
    CHECK_REL(K, s2, 5e-12, "K = sigma^2");
    CHECK_REL(Iinv, s2, 5e-12, "I^-1 = sigma^2");
    CHECK_REL(I, 1.0 / s2, 5e-12, "I = 1/sigma^2");
    CHECK_REL(J, 1.0, 1e-10, "J = 1");
    CHECK_ABS(m, 0.0, 1e-12, "m = 0 (flat prior: the MAP does not move)");
    CHECK_REL(t, s2 * tau / 2, 5e-12, "t = sigma^2 tau / 2");
    CHECK(berg_dictionary_tau(d) == tau, "tau");
    double *V = malloc(ny * sizeof *V), *S = malloc(ny * sizeof *S), *y = malloc(ny * sizeof *y);
    berg_space_coordinates(Y, 0, y);
    berg_dictionary_potential(d, V);
    double u = 0.3, ev = 0.0, es = 0.0;
    berg_dictionary_scheme(d, &u, S);
    for (size_t j = 0; j < ny; j++) {
        double vw = 0.5 * (y[j] - gam) * (y[j] - gam) / s2 + 0.5 * log(2 * M_PI * s2);
        double sw = -0.5 * (y[j] - u) * (y[j] - u) / s2 + 0.5 * (y[j] - gam) * (y[j] - gam) / s2;
        ev = fmax(ev, fabs(V[j] - vw) / fmax(1.0, vw));
        es = fmax(es, fabs(S[j] - sw) / fmax(1.0, fabs(sw)));
    }
    CHECK(ev < 1e-13, "V = -Phi(gamma; y): %.3g", ev);
    CHECK(es < 1e-13, "Sigma = Phi(u; y) - Phi(gamma; y): %.3g", es);

    /* backward flow from tau1 to tau2 = direct predictive (round-off) */
    double *p1 = malloc(ny * sizeof *p1), *p2 = malloc(ny * sizeof *p2), *pf = malloc(ny * sizeof *pf);
    berg_bayes_expected(b, 1.0 / 0.05);
    berg_bayes_predictive(b, p1);
    berg_bayes_expected(b, 1.0 / 0.2);
    berg_bayes_predictive(b, p2);
    CHECK_STATUS(berg_bayes_backward_flow(b, 0.05, 0.2, 1, p1, pf), BERG_OK, "flow");
    for (size_t j = 0; j < ny; j++)
        p1[j] = pf[j] - p2[j];
    CHECK(tu_max_abs(p1, ny) < 1e-11 * tu_max_abs(p2, ny), "normal: flow = direct, %.3g",
          tu_max_abs(p1, ny) / tu_max_abs(p2, ny));
    double l1, kl;
    CHECK_STATUS(berg_bayes_flow_discrepancy(b, 0.1, 1, &l1, &kl), BERG_OK, "discrepancy");
    CHECK(l1 < 1e-10 && kl < 1e-12, "normal: discrepancy l1 %.3g kl %.3g", l1, kl);

    /* bad input */
    CHECK_STATUS(berg_bayes_backward_flow(b, 0.2, 0.1, 1, p1, pf), BERG_ERR_TIME, "tau2 < tau1");
    CHECK_MESSAGE("berg_bayes_backward_flow: tau2", "names the function and the argument");
    CHECK_STATUS(berg_bayes_backward_flow(b, 0.1, 0.2, 0, p1, pf), BERG_ERR_SIZE, "nsteps 0");
    CHECK_STATUS(berg_bayes_backward_flow(b, -1.0, 0.2, 1, p1, pf), BERG_ERR_TIME, "tau1 < 0");
    p1[3] = NAN;
    memcpy(p2, pf, ny * sizeof *p2);
    CHECK_STATUS(berg_bayes_backward_flow(b, 0.1, 0.2, 1, p1, pf), BERG_ERR_NONFINITE, "NaN p1");
    CHECK(memcmp(p2, pf, ny * sizeof *p2) == 0, "p2 untouched");
    CHECK_STATUS(berg_bayes_flow_discrepancy(b, 0.0, 1, &l1, &kl), BERG_ERR_TIME, "tau = 0");
    CHECK_MESSAGE("berg_bayes_flow_discrepancy: tau", "names the function and the argument");
    CHECK_STATUS(berg_bayes_flow_discrepancy(b, 0.1, 0, &l1, &kl), BERG_ERR_SIZE, "nsteps = 0");
    /* the forward model's output is checked off the grid too */
    double ufar = 100.0;
    M.nan_far = 1;
    CHECK_STATUS(berg_dictionary_scheme(d, &ufar, S), BERG_ERR_CALLBACK, "G returns NaN at u");
    CHECK_MESSAGE("berg_dictionary_scheme", "names the function called");
    M.nan_far = 0;
    /* a new truth invalidates the scheme */
    for (size_t j = 0; j < ny; j++)
        p2[j] = fabs(p2[j]) + 1e-3;
    berg_bayes_set_truth(b, p2);
    CHECK_STATUS(berg_dictionary_scheme(d, &u, S), BERG_ERR_MISMATCH, "stale dictionary");
    berg_dictionary_destroy(d);
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(V);
    free(S);
    free(y);
    free(p1);
    free(p2);
    free(pf);
}

static void test_linear_gaussian(void)
{
    model M = {0.8, 2.0, 0.5, 0, 0, 0};
    double ustar = 0.7;
    berg_space *U = tu_line(600, -3.0, 4.0, BERG_NEUMANN);
    berg_space *Y = tu_line(1024, -10.0, 14.0, BERG_NEUMANN);
    size_t nu = 600;
    berg_bayes *b = make(&M, U, Y, NULL, ustar);
    double l1, kl;
    CHECK_STATUS(berg_bayes_flow_discrepancy(b, 0.3, 1, &l1, &kl), BERG_OK, "discrepancy");
    CHECK(l1 < 1e-10, "linear-Gaussian, flat prior: discrepancy %.3g", l1);
    berg_bayes_destroy(b);
    /* Gaussian prior N(0, 1): the MAP moves (drift) and the predictive variance
     * a^2 v_tau + sigma^2 departs from sigma^2 (1 + tau) at O(tau^2) */
    double *prior = malloc(nu * sizeof *prior), *x = malloc(nu * sizeof *x), mass;
    berg_space_coordinates(U, 0, x);
    for (size_t i = 0; i < nu; i++)
        prior[i] = exp(-0.5 * x[i] * x[i]);
    berg_space_normalize(U, prior, &mass);
    b = make(&M, U, Y, prior, ustar);
    berg_dictionary *d = NULL;
    double tau = 0.2, m;
    berg_dictionary_create(&d, b, tau);
    berg_dictionary_drift(d, &m);
    /* gamma_tau = a^2 u* / (sigma^2 tau + a^2) (precision tau/s0^2 + a^2/sigma^2, s0 = 1) */
    double a2 = M.a * M.a, s2 = M.sigma * M.sigma;
    double dgam = -a2 * ustar * s2 / ((s2 * tau + a2) * (s2 * tau + a2));
    CHECK_REL(m, M.a * dgam, 1e-5, "drift m = J dgamma/dtau");
    berg_dictionary_destroy(d);
    double taus[3] = {0.05, 0.1, 0.2}, l[3];
    for (int r = 0; r < 3; r++)
        berg_bayes_flow_discrepancy(b, taus[r], 4, &l[r], NULL);
    double o1 = log2(l[1] / l[0]), o2 = log2(l[2] / l[1]);
    printf("linear-Gaussian with a N(0,1) prior: discrepancy %.3g %.3g %.3g, order %.3f %.3f\n",
           l[0], l[1], l[2], o1, o2);
    CHECK(o1 > 1.85 && o1 < 2.15 && o2 > 1.8 && o2 < 2.2, "O(tau^2) with a moving MAP");
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(prior);
    free(x);
}

/* nonlinear G or non-Gaussian noise: the measured order of the discrepancy in
 * tau. Affine G with smooth symmetric noise (Student-t): O(tau^2). Laplace
 * noise: O(tau^{3/2}) (the |z|^3 / 6 term of the KL makes the posterior's
 * variance tau I^{-1} (1 + O(tau^{1/2}))). Curved G: O(tau), because the
 * posterior mean of G(U) moves away from G(gamma_tau) at first order. */
static void test_nonlinear_order(void)
{
    static const struct {
        int cubic, noise;
        double lo, hi, want_lo, want_hi;
        const char *name;
    } cases[4] = {
        {0, 2, 1.7, 2.3, 0, 0, "G = u, Student-t(4)"},
        {0, 1, 1.3, 1.7, 0, 0, "G = u, Laplace"},
        {1, 1, 0.8, 1.3, 0, 0, "G = u^3, Laplace"},
        {1, 2, 0.8, 1.3, 0, 0, "G = u^3, Student-t(4)"},
    };
    double ustar = 1.0;
    berg_space *U = tu_line(1400, 0.3, 1.7, BERG_NEUMANN);
    berg_space *Y = tu_line(4096, -30.0, 32.0, BERG_NEUMANN);
    double taus[3] = {0.005, 0.01, 0.02};
    for (int c = 0; c < 4; c++) {
        model M = {1.0, 1.0, 0.0, cases[c].cubic, cases[c].noise, 0};
        berg_bayes *b = make(&M, U, Y, NULL, ustar);
        double l[3];
        for (int r = 0; r < 3; r++)
            CHECK_STATUS(berg_bayes_flow_discrepancy(b, taus[r], 1, &l[r], NULL), BERG_OK,
                         "discrepancy");
        double o1 = log2(l[1] / l[0]), o2 = log2(l[2] / l[1]);
        printf("%-22s L1 discrepancy %.3g %.3g %.3g at tau %g %g %g: order %.3f %.3f\n",
               cases[c].name, l[0], l[1], l[2], taus[0], taus[1], taus[2], o1, o2);
        CHECK(o1 > cases[c].lo && o1 < cases[c].hi && o2 > cases[c].lo && o2 < cases[c].hi,
              "%s: order in [%g, %g]", cases[c].name, cases[c].lo, cases[c].hi);
        berg_bayes_destroy(b);
    }
    berg_space_destroy(U);
    berg_space_destroy(Y);
}

/* 2-D: G(u) = (u1 + 0.3 u2 + 0.2, u2 - 0.1), noise N(0, diag(1, 0.49)) */
static int G2(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = u[0] + 0.3 * u[1] + 0.2;
    y[1] = u[1] - 0.1;
    return 0;
}

static int noise2(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    (void)ud;
    *lp = -0.5 * (n[0] * n[0] + n[1] * n[1] / 0.49) - log(2 * M_PI * 0.7);
    return 0;
}

static void test_two_dimensional(void)
{
    size_t nu[2] = {60, 60}, ny[2] = {64, 64};
    double ulo[2] = {-2, -2}, uhi[2] = {4, 4}, ylo[2] = {-8, -8}, yhi[2] = {10, 10};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_NEUMANN};
    berg_space *U = NULL, *Y = NULL;
    berg_space_create(&U, 2, nu, ulo, uhi, bc, NULL);
    berg_space_create(&Y, 2, ny, ylo, yhi, bc, NULL);
    size_t NU = 3600, NY = 4096;
    double *flat = malloc(NU * sizeof *flat), *ps = malloc(NY * sizeof *ps);
    double *yx = malloc(64 * sizeof *yx);
    for (size_t i = 0; i < NU; i++)
        flat[i] = 1.0;
    berg_space_coordinates(Y, 0, yx);
    double us[2] = {1.0, 0.5}, gs[2];
    G2(2, us, 2, gs, NULL);
    for (size_t j = 0; j < NY; j++) {
        double n[2] = {yx[j / 64] - gs[0], yx[j % 64] - gs[1]}, lp;
        noise2(2, n, &lp, NULL);
        ps[j] = exp(lp);
    }
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, flat, 0);
    berg_bayes_set_location(b, NULL, NULL, G2, noise2, NULL);
    CHECK_STATUS(berg_bayes_set_truth(b, ps), BERG_OK, "2-D truth");
    berg_dictionary *d = NULL;
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.1), BERG_OK, "2-D dictionary");
    double K[4], gam[2], J[4];
    berg_dictionary_inverse_metric(d, K);
    berg_dictionary_map(d, gam);
    berg_dictionary_jacobian(d, J);
    /* measured: 1.1e-13 and 1.5e-13 relative, 1.3e-14 */
    CHECK_REL(K[0], 1.0, 1e-11, "K11 = sigma1^2");
    CHECK_REL(K[3], 0.49, 1e-11, "K22 = sigma2^2");
    CHECK_ABS(K[1], 0.0, 1e-12, "K12 = 0");
    CHECK_ABS(gam[0], 1.0, 1e-9, "gamma1");
    CHECK_ABS(gam[1], 0.5, 1e-9, "gamma2");
    CHECK_REL(J[1], 0.3, 1e-9, "J12");
    double l1;
    CHECK_STATUS(berg_bayes_flow_discrepancy(b, 0.1, 1, &l1, NULL), BERG_OK, "2-D discrepancy");
    CHECK(l1 < 1e-9, "2-D linear-Gaussian: flow = direct (%.3g)", l1);
    berg_dictionary_destroy(d);
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    berg_space_destroy(Y);
    free(flat);
    free(ps);
    free(yx);
}

/* ERG -> Bayes: the fixed point of a scheme becomes the noise; for the
 * Gaussian fixed point V = y^2 / (2 s^2) the model metric is s^2 */
static void test_from_erg(void)
{
    berg_space *Y = tu_line(800, -12.0, 12.0, BERG_NEUMANN);
    size_t ny = 800;
    double *V = malloc(ny * sizeof *V), *p0 = malloc(ny * sizeof *p0), *y = malloc(ny * sizeof *y);
    double s2 = 2.0, K = 0.0;
    berg_space_coordinates(Y, 0, y);
    for (size_t j = 0; j < ny; j++)
        V[j] = 0.5 * y[j] * y[j] / s2 + 3.0;
    CHECK_STATUS(berg_dictionary_from_erg(Y, V, p0, &K), BERG_OK, "from_erg");
    /* berg_fisher_location is fourth order on a smooth density: measured
     * 6.2e-9 relative at h = 0.03 */
    CHECK_REL(K, s2, 1e-7, "K_model = I_N^-1 = s^2 (fourth-order Fisher quadrature)");
    CHECK_REL(p0[400], exp(-0.5 * y[400] * y[400] / s2) / sqrt(2 * M_PI * s2), 1e-10, "p0 = q");
    /* round trip with a non-Gaussian fixed point: the Bayesian model built
     * from the scheme (G = u, noise p0 on the grid, truth u* = 0) gives back
     * V up to a constant and an inverse metric close to K_model */
    for (size_t j = 0; j < ny; j++)
        V[j] = 0.25 * y[j] * y[j] + 0.02 * y[j] * y[j] * y[j] * y[j];
    CHECK_STATUS(berg_dictionary_from_erg(Y, V, p0, &K), BERG_OK, "from_erg quartic");
    berg_space *U = tu_line(201, -1.0, 1.0, BERG_NEUMANN);
    double flat[201];
    for (int i = 0; i < 201; i++)
        flat[i] = 1.0;
    model M = {1.0, 1.0, 0.0, 0, 0, 0};
    berg_bayes *b = NULL;
    berg_bayes_create(&b, U, Y, flat, 0);
    CHECK_STATUS(berg_bayes_set_location(b, Y, p0, G_fn, NULL, &M), BERG_OK, "grid noise");
    /* the truth is p0 without its outer 10 cells: the continuous MAP moves
     * G(u) off the grid points, and a noise given on the data grid vanishes
     * beyond it, where the full p0 (1e-196 in the end cells) would make
     * KL(p*||p(.|u)) infinite at every u != 0 */
    double *ptr = malloc(ny * sizeof *ptr);
    for (size_t j = 0; j < ny; j++)
        ptr[j] = (j < 10 || j >= ny - 10) ? 0.0 : p0[j];
    CHECK_STATUS(berg_bayes_set_truth(b, ptr), BERG_OK, "truth = p0 (inner cells)");
    free(ptr);
    berg_dictionary *d = NULL;
    CHECK_STATUS(berg_dictionary_create(&d, b, 0.05), BERG_OK, "dictionary of the ERG model");
    double *Vd = malloc(ny * sizeof *Vd), Kd, gam;
    berg_dictionary_potential(d, Vd);
    berg_dictionary_inverse_metric(d, &Kd);
    berg_dictionary_map(d, &gam);
    CHECK_ABS(gam, 0.0, 1e-9, "gamma = u* = 0");
    double c0 = Vd[400] - V[400], dev = 0.0;
    for (size_t j = 100; j < 700; j++)
        dev = fmax(dev, fabs(Vd[j] - V[j] - c0));
    CHECK(dev < 1e-10, "dictionary potential = V + const (%.3g)", dev); /* measured 5.5e-12 */
    CHECK_REL(Kd, K, 1e-3, "dictionary K = K_model");
    berg_dictionary_destroy(d);
    berg_bayes_destroy(b);
    berg_space_destroy(U);
    free(Vd);
    V[5] = INFINITY;
    CHECK_STATUS(berg_dictionary_from_erg(Y, V, p0, &K), BERG_ERR_NONFINITE, "V not finite");
    /* a flat V: the uniform fixed point has I = 0, whose inverse is refused
     * under this function's name */
    for (size_t j = 0; j < ny; j++)
        V[j] = 1.0;
    K = -1.0;
    CHECK_STATUS(berg_dictionary_from_erg(Y, V, p0, &K), BERG_ERR_NOT_SPD, "flat V");
    CHECK_MESSAGE("berg_dictionary_from_erg: inverse of the Fisher metric", "flat V: rewrapped");
    CHECK(K == -1.0, "Kmodel untouched");
    berg_space_destroy(Y);
    free(V);
    free(p0);
    free(y);
}

int main(void)
{
    test_normal_dictionary();
    test_linear_gaussian();
    test_nonlinear_order();
    test_two_dimensional();
    test_from_erg();
    return test_summary("dictionary-dictionary");
}
