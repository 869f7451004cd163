/* metric / functionals: entropy, KL and friends against closed forms,
 * first variations against finite differences, the discrete Otto-calculus
 * identities, moments and cumulants, heat-channel information, bad input. */
#include <float.h>
#include <stdlib.h>

#include "testutil.h"

static double *vec(size_t n)
{
    return calloc(n, sizeof(double));
}

/* coordinates of grid point k (C order) */
static void point(const berg_space *s, size_t k, double *x)
{
    int d = berg_space_rank(s);
    size_t n[8];
    double lo[8], hi[8];
    berg_space_shape(s, n);
    berg_space_bounds(s, lo, hi);
    for (int a = d - 1; a >= 0; a--) {
        size_t i = k % n[a];
        k /= n[a];
        x[a] = lo[a] + ((double)i + 0.5) * (hi[a] - lo[a]) / (double)n[a];
    }
}

/* Gaussian N(mu, Sigma) as a density w.r.t. Vol (divided by sqrt det g),
 * normalized on the grid */
static void gaussian(const berg_space *s, const double *mu, const double *Sig, double *p)
{
    int d = berg_space_rank(s);
    double P[4];
    if (d == 1) {
        P[0] = 1.0 / Sig[0];
    } else {
        double det = Sig[0] * Sig[3] - Sig[1] * Sig[2];
        P[0] = Sig[3] / det;
        P[1] = P[2] = -Sig[1] / det;
        P[3] = Sig[0] / det;
    }
    for (size_t k = 0; k < berg_space_size(s); k++) {
        double x[2];
        point(s, k, x);
        double q = 0.0;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                q += (x[a] - mu[a]) * P[a * d + b] * (x[b] - mu[b]);
        p[k] = exp(-0.5 * q);
    }
    berg_space_normalize(s, p, NULL);
}

static void smooth_random(const berg_space *s, double *p, unsigned long long seed, double amp)
{
    /* positive, smooth-ish: exp of a few random Fourier modes */
    double c[6];
    for (int i = 0; i < 6; i++)
        c[i] = amp * (2.0 * tu_uniform(&seed) - 1.0);
    for (size_t k = 0; k < berg_space_size(s); k++) {
        double x[8] = {0};
        point(s, k, x);
        p[k] = exp(c[0] * sin(x[0] + c[5]) + c[1] * cos(2.0 * x[0]) + c[2] * sin(x[1] + 0.3) +
                   c[3] * cos(x[0] + x[1]) + c[4] * x[0] * 0.1);
    }
    berg_space_normalize(s, p, NULL);
}

static void random_tangent(const berg_space *s, double *eta, unsigned long long seed)
{
    for (size_t k = 0; k < berg_space_size(s); k++)
        eta[k] = 2.0 * tu_uniform(&seed) - 1.0;
    berg_space_project_tangent(s, eta, eta);
}

/* ---- closed forms ------------------------------------------------------ */

static void test_closed_forms(void)
{
    /* 1-D Gaussian, metric g = 4: S = 1/2 ln(2 pi e sigma^2) + 1/2 ln g */
    size_t n1 = 400;
    double lo = -12, hi = 12, g1 = 4.0;
    berg_space *s = tu_space(1, &n1, &lo, &hi, NULL, &g1);
    double *p = vec(n1), *q = vec(n1), *V = vec(n1), *t = vec(n1);
    double mu = 0.3, var = 1.7, S, D, H, F, E;
    gaussian(s, &mu, &var, p);
    CHECK_STATUS(berg_entropy(s, p, &S), BERG_OK, "entropy");
    CHECK_REL(S, 0.5 * log(2 * M_PI * M_E * var) + 0.5 * log(g1), 1e-12, "Gaussian entropy");
    double mu2 = -0.4, var2 = 2.5;
    gaussian(s, &mu2, &var2, q);
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
    berg_space_cell_weight(s, &w);
    double Z = 0.0;
    for (size_t i = 0; i < n1; i++) {
        double x;
        point(s, i, &x);
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
    CHECK_STATUS(berg_fisher_information(s, p, &J), BERG_OK, "fisher");
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
    CHECK_STATUS(berg_fisher_information(s, t, &J), BERG_OK, "fisher with a zero edge");
    CHECK(J == HUGE_VAL, "Fisher information of a density with a jump to 0 is +inf");
    berg_space_destroy(s);

    /* 2-D correlated Gaussian, anisotropic metric */
    size_t n2[2] = {96, 96};
    double lo2[2] = {-11, -11}, hi2[2] = {11, 11}, g2[4] = {2.0, 0.0, 0.0, 0.5};
    double m2[2] = {0.2, -0.1}, Sig[4] = {1.5, 0.6, 0.6, 1.0};
    s = tu_space(2, n2, lo2, hi2, NULL, g2);
    double *p2 = vec(96 * 96);
    gaussian(s, m2, Sig, p2);
    CHECK_STATUS(berg_entropy(s, p2, &S), BERG_OK, "entropy 2-D");
    double detS = Sig[0] * Sig[3] - Sig[1] * Sig[2];
    CHECK_REL(S, 0.5 * log(pow(2 * M_PI * M_E, 2) * detS) + 0.5 * log(g2[0] * g2[3]), 1e-11,
              "2-D Gaussian entropy with metric");
    /* J = tr(Sigma^{-1} g^{-1}) */
    CHECK_STATUS(berg_fisher_information(s, p2, &J), BERG_OK, "fisher 2-D");
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
        check_variation(s, p, NULL, eta, berg_fisher_information,
                        berg_fisher_information_derivative, NULL, NULL, "Fisher information",
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
        berg_fisher_information_derivative(s, p, b);
        CHECK_STATUS(berg_fisher_information_derivative(s, a, a), BERG_OK, "in place");
        CHECK(tu_max_abs_diff(a, b, N) == 0.0, "in-place Fisher derivative equals out of place");
        free(a), free(b);
        free(p), free(q), free(eta), free(V);
        berg_space_destroy(s);
    }
}

/* ---- identities of the Otto calculus ----------------------------------- */

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static void test_identities(void)
{
    size_t n[2] = {40, 28};
    double lo[2] = {-3, -2}, hi[2] = {3, 2.5}, g[4] = {0.8, 0, 0, 1.9};
    berg_boundary bcs[2][2] = {{BERG_PERIODIC, BERG_NEUMANN}, {BERG_NEUMANN, BERG_NEUMANN}};
    for (int c = 0; c < 2; c++) {
        berg_space *s = tu_space(2, n, lo, hi, bcs[c], g);
        size_t N = berg_space_size(s);
        double *p = vec(N), *dS = vec(N), *gw = vec(N), *lap = vec(N), *dE = vec(N),
               *gl = vec(N);
        smooth_random(s, p, 77 + (unsigned)c, 1.0);
        berg_entropy_derivative(s, p, dS);
        CHECK_STATUS(berg_w2_gradient(s, p, dS, gw), BERG_OK, "grad_W2 S");
        CHECK_STATUS(berg_discrete_laplacian(s, p, lap), BERG_OK, "laplacian");
        double scale = max_abs(lap, N);
        CHECK(tu_max_abs_diff(gw, lap, N) <= 1e-12 * scale,
              "grad_W2 S = Delta_h p exactly (eq 19), case %d: error %g", c,
              tu_max_abs_diff(gw, lap, N) / scale);
        berg_dirichlet_energy_derivative(s, p, dE);
        CHECK_STATUS(berg_l2_gradient(s, dE, gl), BERG_OK, "grad_l2 E");
        for (size_t i = 0; i < N; i++)
            gl[i] = -gl[i];
        CHECK(tu_max_abs_diff(gw, gl, N) <= 1e-12 * scale,
              "grad_W2 S = -grad_l2 E (eq 15), case %d", c);
        double m;
        berg_space_integrate(s, gw, &m);
        CHECK_ABS(m, 0.0, 1e-12 * scale, "W2 gradient is a tangent vector");

        /* L_p: annihilates constants, symmetric, negative semi-definite */
        double *one = vec(N), *a = vec(N), *b = vec(N), *La = vec(N), *Lb = vec(N);
        for (size_t i = 0; i < N; i++)
            one[i] = 3.25;
        berg_w2_gradient(s, p, one, La);
        CHECK(max_abs(La, N) <= 1e-14, "L_p annihilates constants (%g)", max_abs(La, N));
        random_tangent(s, a, 91);
        random_tangent(s, b, 92);
        berg_w2_gradient(s, p, a, La); /* = -L_p a */
        berg_w2_gradient(s, p, b, Lb);
        double ab, ba, aa;
        berg_space_inner_l2(s, a, Lb, &ab);
        berg_space_inner_l2(s, b, La, &ba);
        berg_space_inner_l2(s, a, La, &aa);
        CHECK_REL(ab, ba, 1e-13, "L_p symmetric");
        CHECK(aa > 0, "-L_p positive on a non-constant vector (%g)", aa);
        free(one), free(a), free(b), free(La), free(Lb);
        free(p), free(dS), free(gw), free(lap), free(dE), free(gl);
        berg_space_destroy(s);
    }
}

/* the continuum Fokker-Planck right-hand side of p = (1 + 0.5 sin x) / 2pi,
 * V = cos 2x on the circle: (p' + p V')' */
static double fp_rhs_exact(double x)
{
    double p = (1 + 0.5 * sin(x)) / (2 * M_PI), dp = 0.5 * cos(x) / (2 * M_PI),
           d2p = -0.5 * sin(x) / (2 * M_PI);
    double dV = -2 * sin(2 * x), d2V = -4 * cos(2 * x);
    return d2p + dp * dV + p * d2V;
}

/* -grad_W2 KL(p||q) against (a) a central arithmetic-mean discretization of
 * div(grad p + p grad V) and (b) the exact continuum value: both converge at
 * second order */
static void test_fokker_planck_rhs(void)
{
    double err_a[2], err_b[2];
    for (int r = 0; r < 2; r++) {
        size_t n = r == 0 ? 64 : 128;
        double lo = 0, hi = 2 * M_PI;
        berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
        double *p = vec(n), *q = vec(n), *V = vec(n), *dK = vec(n), *gw = vec(n);
        double h = (hi - lo) / (double)n;
        for (size_t i = 0; i < n; i++) {
            double x = lo + ((double)i + 0.5) * h;
            p[i] = (1 + 0.5 * sin(x)) / (2 * M_PI);
            V[i] = cos(2 * x);
            q[i] = exp(-V[i]);
        }
        berg_space_normalize(s, p, NULL);
        berg_space_normalize(s, q, NULL);
        CHECK_STATUS(berg_kl_derivative(s, p, q, dK), BERG_OK, "kl derivative");
        CHECK_STATUS(berg_w2_gradient(s, p, dK, gw), BERG_OK, "grad_W2 KL");
        double ea = 0, eb = 0;
        for (size_t i = 0; i < n; i++) {
            size_t ip = (i + 1) % n, im = (i + n - 1) % n;
            double fr = (p[ip] - p[i]) / h + 0.5 * (p[ip] + p[i]) * (V[ip] - V[i]) / h;
            double fl = (p[i] - p[im]) / h + 0.5 * (p[i] + p[im]) * (V[i] - V[im]) / h;
            double own = (fr - fl) / h;
            double x = lo + ((double)i + 0.5) * h;
            ea = fmax(ea, fabs(-gw[i] - own));
            eb = fmax(eb, fabs(-gw[i] - fp_rhs_exact(x)));
        }
        err_a[r] = ea;
        err_b[r] = eb;
        free(p), free(q), free(V), free(dK), free(gw);
        berg_space_destroy(s);
    }
    CHECK(err_a[0] < 1e-3 && err_b[0] < 1e-2, "-grad_W2 KL = FP rhs at n = 64 (%g, %g)", err_a[0],
          err_b[0]);
    double oa = log2(err_a[0] / err_a[1]), ob = log2(err_b[0] / err_b[1]);
    CHECK(oa > 1.9 && oa < 2.2, "order vs arithmetic-mean flux form: %g", oa);
    CHECK(ob > 1.9 && ob < 2.2, "order vs exact continuum rhs: %g", ob);
}

/* Delta_h converges at second order (periodic and Neumann) */
static void test_laplacian_order(void)
{
    berg_boundary bcs[2] = {BERG_PERIODIC, BERG_NEUMANN};
    for (int c = 0; c < 2; c++) {
        double err[2];
        for (int r = 0; r < 2; r++) {
            size_t n = r == 0 ? 50 : 100;
            double lo = 0, hi = 2 * M_PI, g = 2.0;
            berg_space *s = tu_space(1, &n, &lo, &hi, &bcs[c], &g);
            double *f = vec(n), *l = vec(n);
            for (size_t i = 0; i < n; i++)
                f[i] = cos(lo + ((double)i + 0.5) * (hi - lo) / (double)n);
            berg_discrete_laplacian(s, f, l);
            double e = 0;
            for (size_t i = 0; i < n; i++)
                e = fmax(e, fabs(l[i] + f[i] / g));
            err[r] = e;
            free(f), free(l);
            berg_space_destroy(s);
        }
        double o = log2(err[0] / err[1]);
        CHECK(o > 1.9 && o < 2.1, "Delta_h second order (bc %d): %g", c, o);
    }
}


/* -grad_W2 KL(p||q) against the Scharfetter-Gummel generator of berg_fp
 * (an independent discretization of the same flow: they agree to O(h^2));
 * dKL/dt along berg_fp_evolve = -relative Fisher information to O(h^2) */
static void test_against_fp(void)
{
    double err[2], kl_err[2];
    for (int r = 0; r < 2; r++) {
        size_t n[2] = {r == 0 ? 24u : 48u, r == 0 ? 20u : 40u};
        double lo[2] = {0, -2}, hi[2] = {2 * M_PI, 2}, g[4] = {1.2, 0, 0, 0.8};
        berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
        berg_space *s = tu_space(2, n, lo, hi, bc, g);
        size_t N = berg_space_size(s);
        double *p = vec(N), *V = vec(N), *q = vec(N), *dK = vec(N), *gw = vec(N), *Lp = vec(N);
        for (size_t k = 0; k < N; k++) {
            double x[2];
            point(s, k, x);
            V[k] = 0.5 * x[1] * x[1] + 0.4 * cos(x[0]) + 0.2 * sin(x[0]) * x[1];
            p[k] = exp(0.3 * sin(x[0]) + 0.2 * cos(x[1]) - 0.3 * x[1] * x[1]);
        }
        berg_space_normalize(s, p, NULL);
        berg_fp *fp = NULL;
        CHECK_STATUS(berg_fp_create(&fp, s, V, 0), BERG_OK, "berg_fp_create");
        if (!fp)
            return;
        berg_fp_stationary(fp, q);
        berg_kl_derivative(s, p, q, dK);
        berg_w2_gradient(s, p, dK, gw);
        CHECK_STATUS(berg_fp_generator_apply(fp, p, Lp), BERG_OK, "generator");
        /* away from the Neumann walls: p does not satisfy the zero-flux
         * condition, so both operators are O(1/h) in the wall cells and
         * differ there at O(h) (an O(h^2) flux difference over one cell) */
        double e = 0;
        for (size_t i = 0; i < N; i++) {
            size_t j = i % n[1];
            if (j != 0 && j != n[1] - 1)
                e = fmax(e, fabs(-gw[i] - Lp[i]));
        }
        err[r] = e;
        /* the stationary state is a fixed point of both, exactly */
        berg_kl_derivative(s, q, q, dK);
        berg_w2_gradient(s, q, dK, gw);
        CHECK(max_abs(gw, N) <= 1e-12 * max_abs(Lp, N), "grad_W2 KL(q||q) = 0");
        /* KL decay along the berg_fp flow */
        double t = 0.05, dt = 1e-3, Kp, Km, Irel;
        double *pt = vec(N);
        berg_fp_set_tolerance(fp, 1e-9);
        berg_fp_evolve(fp, t + dt, p, pt);
        berg_kl_divergence(s, pt, q, &Kp);
        berg_fp_evolve(fp, t - dt, p, pt);
        berg_kl_divergence(s, pt, q, &Km);
        berg_fp_evolve(fp, t, p, pt);
        berg_relative_fisher_information(s, pt, q, &Irel);
        kl_err[r] = fabs((Kp - Km) / (2 * dt) + Irel) / Irel;
        free(pt);
        berg_fp_destroy(fp);
        free(p), free(V), free(q), free(dK), free(gw), free(Lp);
        berg_space_destroy(s);
    }
    CHECK(err[0] < 5e-4, "-grad_W2 KL = berg_fp generator to O(h^2): %g", err[0]);
    double o = log2(err[0] / err[1]);
    CHECK(o > 1.8 && o < 2.3, "order of agreement with berg_fp: %g (%g -> %g)", o, err[0], err[1]);
    CHECK(kl_err[1] < 1e-3 && kl_err[0] > 3 * kl_err[1],
          "dKL/dt = -I along berg_fp_evolve: %g -> %g", kl_err[0], kl_err[1]);
}

/* ---- flows: de Bruijn and KL decay -------------------------------------- */

static void test_de_bruijn(void)
{
    /* along the exact semigroup of Delta_h (BERG_SYMBOL_FD) dS/dt = J_h
     * exactly; along the continuum-symbol semigroup to O(h^2) */
    size_t n[2] = {32, 24};
    double lo[2] = {-4, -3}, hi[2] = {4, 3}, g[4] = {1.3, 0, 0, 0.6};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    size_t N = berg_space_size(s);
    double *p = vec(N), *pm = vec(N), *pp = vec(N), *p0 = vec(N);
    smooth_random(s, p0, 5, 1.0);
    unsigned flags[2] = {BERG_SYMBOL_FD, 0};
    double tol[2] = {1e-7, 2e-2};
    for (int c = 0; c < 2; c++) {
        berg_heat *heat = NULL;
        CHECK_STATUS(berg_heat_create(&heat, s, flags[c] | BERG_PLAN_ESTIMATE), BERG_OK,
                     "heat create");
        if (!heat)
            continue;
        double t = 0.3, dt = 1e-4, Sp, Sm, J;
        berg_heat_apply(heat, t, p0, p);
        berg_heat_apply(heat, t + dt, p0, pp);
        berg_heat_apply(heat, t - dt, p0, pm);
        CHECK_STATUS(berg_entropy(s, pp, &Sp), BERG_OK, "S(t+dt)");
        CHECK_STATUS(berg_entropy(s, pm, &Sm), BERG_OK, "S(t-dt)");
        CHECK_STATUS(berg_fisher_information(s, p, &J), BERG_OK, "J(t)");
        CHECK_REL((Sp - Sm) / (2 * dt), J, tol[c], "de Bruijn dS/dt = J (flags %u)", flags[c]);
        berg_heat_destroy(heat);
    }
    free(p), free(pm), free(pp), free(p0);
    berg_space_destroy(s);
}

/* own RK4 for the discrete Fokker-Planck flow dp/dt = -grad_W2 KL(p||q) */
static void fp_rhs(const berg_space *s, const double *p, const double *q, double *out, double *tmp)
{
    berg_kl_derivative(s, p, q, tmp);
    berg_w2_gradient(s, p, tmp, out);
    for (size_t i = 0; i < berg_space_size(s); i++)
        out[i] = -out[i];
}

static void rk4(const berg_space *s, double *p, const double *q, double dt, double **w)
{
    size_t N = berg_space_size(s);
    double *k1 = w[0], *k2 = w[1], *k3 = w[2], *k4 = w[3], *y = w[4], *tmp = w[5];
    fp_rhs(s, p, q, k1, tmp);
    for (size_t i = 0; i < N; i++)
        y[i] = p[i] + 0.5 * dt * k1[i];
    fp_rhs(s, y, q, k2, tmp);
    for (size_t i = 0; i < N; i++)
        y[i] = p[i] + 0.5 * dt * k2[i];
    fp_rhs(s, y, q, k3, tmp);
    for (size_t i = 0; i < N; i++)
        y[i] = p[i] + dt * k3[i];
    fp_rhs(s, y, q, k4, tmp);
    for (size_t i = 0; i < N; i++)
        p[i] += dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

static void test_kl_decay(void)
{
    size_t n[2] = {20, 16};
    double lo[2] = {-3, -2}, hi[2] = {3, 2}, g[4] = {1.0, 0, 0, 1.4};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    size_t N = berg_space_size(s);
    double *p = vec(N), *q = vec(N), *w[6];
    for (int i = 0; i < 6; i++)
        w[i] = vec(N);
    smooth_random(s, p, 3, 0.7);
    smooth_random(s, q, 4, 0.7);
    double dt = 2e-5, K0, K1, K2, Irel;
    rk4(s, p, q, dt, w); /* a step away from the initial data */
    berg_kl_divergence(s, p, q, &K0);
    rk4(s, p, q, dt, w);
    berg_kl_divergence(s, p, q, &K1);
    CHECK_STATUS(berg_relative_fisher_information(s, p, q, &Irel), BERG_OK, "relative Fisher");
    rk4(s, p, q, dt, w);
    berg_kl_divergence(s, p, q, &K2);
    CHECK_REL((K2 - K0) / (2 * dt), -Irel, 1e-6, "dKL/dt = -relative Fisher information");
    CHECK(K2 < K1 && K1 < K0, "KL decreases along Fokker-Planck");

    /* ||dp/dt||_W2^2 = relative Fisher information, through the CG solve */
    double *pdot = vec(N);
    fp_rhs(s, p, q, pdot, w[5]);
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, p, 0.0, BERG_PLAN_ESTIMATE), BERG_OK, "metric");
    if (m) {
        double G, res;
        size_t it;
        berg_relative_fisher_information(s, p, q, &Irel);
        CHECK_STATUS(berg_w2_metric_inner(m, pdot, pdot, &G, &it, &res), BERG_OK, "W2 norm");
        CHECK_REL(G, Irel, 1e-10, "||dp/dt||^2_W2 = relative Fisher information (%zu its)", it);
        berg_w2_metric_destroy(m);
    }
    free(pdot);
    for (int i = 0; i < 6; i++)
        free(w[i]);
    free(p), free(q);
    berg_space_destroy(s);
}

/* delta F(eta) = G_W2(grad_W2 F, eta) for random tangent vectors (eq 14) */
static void test_w2_variations(void)
{
    size_t n[2] = {30, 22};
    double lo[2] = {0, 0}, hi[2] = {2 * M_PI, 2.0}, g[4] = {0.9, 0, 0, 1.6};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_DIRICHLET};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    size_t N = berg_space_size(s);
    double *p = vec(N), *q = vec(N), *eta = vec(N), *dF = vec(N), *gw = vec(N);
    smooth_random(s, p, 8, 0.8);
    smooth_random(s, q, 9, 0.8);
    random_tangent(s, eta, 10);
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, p, 0.0, BERG_PLAN_ESTIMATE), BERG_OK, "metric");
    if (m) {
        for (int f = 0; f < 3; f++) {
            if (f == 0)
                berg_entropy_derivative(s, p, dF);
            else if (f == 1)
                berg_kl_derivative(s, p, q, dF);
            else
                berg_fisher_information_derivative(s, p, dF);
            berg_w2_gradient(s, p, dF, gw);
            double G, l2;
            CHECK_STATUS(berg_w2_metric_inner(m, gw, eta, &G, NULL, NULL), BERG_OK, "inner");
            berg_space_inner_l2(s, dF, eta, &l2);
            CHECK_REL(G, l2, 1e-9, "delta F(eta) = G_W2(grad_W2 F, eta), functional %d", f);
            /* symmetric in its arguments */
            double G2;
            berg_w2_metric_inner(m, eta, gw, &G2, NULL, NULL);
            CHECK_REL(G2, G, 1e-8, "G_W2 symmetric, functional %d", f);
        }
        berg_w2_metric_destroy(m);
    }
    free(p), free(q), free(eta), free(dF), free(gw);
    berg_space_destroy(s);
}

/* ---- moments and cumulants --------------------------------------------- */

static void test_cumulants(void)
{
    /* 1-D Gaussian: kappa_1 = mu, kappa_2 = var, higher vanish */
    size_t n = 600;
    double lo = -15, hi = 15, mu = 0.7, var = 2.0;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    double *p = vec(n), k[9], m[9];
    gaussian(s, &mu, &var, p);
    CHECK_STATUS(berg_cumulants(s, p, 8, k), BERG_OK, "cumulants");
    CHECK_REL(k[1], mu, 1e-12, "Gaussian kappa_1");
    CHECK_REL(k[2], var, 1e-12, "Gaussian kappa_2");
    for (int j = 3; j <= 8; j++)
        CHECK_ABS(k[j], 0.0, 1e-9, "Gaussian kappa_%d vanishes", j);
    CHECK_STATUS(berg_moments(s, p, 4, m), BERG_OK, "moments");
    CHECK_REL(m[0], 1.0, 1e-14, "m_0");
    CHECK_REL(m[2], var + mu * mu, 1e-12, "raw m_2");
    CHECK_REL(m[4], mu * mu * mu * mu + 6 * mu * mu * var + 3 * var * var, 1e-12, "raw m_4");
    CHECK_STATUS(berg_central_moments(s, p, 4, m), BERG_OK, "central moments");
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
    CHECK_STATUS(berg_cumulants(s, p, K, kap), BERG_OK, "2-D cumulants");
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
    gaussian(s, m3, Sig, p);
    double kk[25];
    CHECK_STATUS(berg_cumulants(s, p, 4, kk), BERG_OK, "Gaussian 2-D cumulants");
    CHECK_REL(kk[1 * 5 + 1], 0.6, 1e-11, "kappa_11 = covariance");
    CHECK_REL(kk[2 * 5 + 0], 1.5, 1e-11, "kappa_20");
    CHECK_REL(kk[0 * 5 + 2], 1.0, 1e-11, "kappa_02");
    for (int a = 0; a <= 4; a++)
        for (int b = 0; a + b <= 4; b++)
            if (a + b >= 3)
                CHECK_ABS(kk[a * 5 + b], 0.0, 1e-10, "Gaussian kappa_(%d,%d) = 0", a, b);
    double mm[25];
    CHECK_STATUS(berg_central_moments(s, p, 4, mm), BERG_OK, "central moments 2-D");
    /* Isserlis: E[x^2 y^2] = S11 S22 + 2 S12^2 */
    CHECK_REL(mm[2 * 5 + 2], 1.5 * 1.0 + 2 * 0.36, 1e-11, "Isserlis mu_22");
    berg_space_destroy(s);
    free(p);
}

/* ---- heat-channel mutual information ------------------------------------- */

static void test_mutual_information(void)
{
    /* against the brute-force information of the channel matrix */
    size_t n[2] = {12, 10};
    double lo[2] = {0, 0}, hi[2] = {3, 2}, g[4] = {1.2, 0, 0, 0.8};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    size_t N = berg_space_size(s);
    double *p = vec(N), *K = vec(N * N), *pt = vec(N), w;
    berg_space_cell_weight(s, &w);
    smooth_random(s, p, 2, 1.2);
    berg_heat *heat = NULL;
    CHECK_STATUS(berg_heat_create(&heat, s, BERG_SYMBOL_FD | BERG_PLAN_ESTIMATE), BERG_OK, "heat");
    double t = 0.05;
    if (heat) {
        for (size_t j = 0; j < N; j++) {
            double *col = K + j * N;
            col[j] = 1.0 / w;
            berg_heat_apply(heat, t, col, col); /* density of X_t given X_0 = cell j */
        }
        berg_heat_apply(heat, t, p, pt);
        double mi = 0.0;
        for (size_t j = 0; j < N; j++)
            for (size_t i = 0; i < N; i++) {
                double kij = K[j * N + i];
                if (kij > 0)
                    mi += w * p[j] * w * kij * log(kij / pt[i]);
            }
        double I;
        CHECK_STATUS(berg_heat_mutual_information(s, p, t, BERG_SYMBOL_FD | BERG_PLAN_ESTIMATE,
                                                  &I),
                     BERG_OK, "mutual information");
        CHECK_REL(I, mi, 1e-10, "I(X0;Xt) = brute-force channel information");
        /* t = 0: the discrete entropy of the cell probabilities */
        double H = 0;
        for (size_t i = 0; i < N; i++)
            H -= w * p[i] * log(w * p[i]);
        CHECK_STATUS(berg_heat_mutual_information(s, p, 0.0, BERG_PLAN_ESTIMATE, &I), BERG_OK,
                     "t = 0");
        CHECK_REL(I, H, 1e-12, "I(X0;X0) = H(X0)");
        /* data processing: information decreases with t */
        double I1, I2;
        berg_heat_mutual_information(s, p, 0.1, BERG_PLAN_ESTIMATE, &I1);
        berg_heat_mutual_information(s, p, 0.4, BERG_PLAN_ESTIMATE, &I2);
        CHECK(I2 < I1 && I1 < H, "information decreases along the heat flow");
        berg_heat_destroy(heat);
    }
    free(K), free(pt), free(p);
    berg_space_destroy(s);

    /* Gaussian prior on a large periodic box with a metric: the kernel has
     * covariance 2t g^{-1}, so I = 1/2 ln det(1 + Sigma g / (2t)) */
    size_t n2[2] = {128, 128};
    double lo2[2] = {-16, -16}, hi2[2] = {16, 16}, g2[4] = {1.5, 0.4, 0.4, 0.8};
    double mu[2] = {0.5, -0.3}, Sig[4] = {2.0, 0.5, 0.5, 1.0};
    s = tu_space(2, n2, lo2, hi2, NULL, g2);
    N = berg_space_size(s);
    p = vec(N);
    gaussian(s, mu, Sig, p);
    double tt[2] = {0.5, 2.0};
    for (int c = 0; c < 2; c++) {
        double I, A[4];
        /* A = Sigma g / (2t) */
        A[0] = (Sig[0] * g2[0] + Sig[1] * g2[2]) / (2 * tt[c]);
        A[1] = (Sig[0] * g2[1] + Sig[1] * g2[3]) / (2 * tt[c]);
        A[2] = (Sig[2] * g2[0] + Sig[3] * g2[2]) / (2 * tt[c]);
        A[3] = (Sig[2] * g2[1] + Sig[3] * g2[3]) / (2 * tt[c]);
        double want = 0.5 * log((1 + A[0]) * (1 + A[3]) - A[1] * A[2]);
        CHECK_STATUS(berg_heat_mutual_information(s, p, tt[c], BERG_PLAN_ESTIMATE, &I), BERG_OK,
                     "Gaussian information");
        CHECK_REL(I, want, 1e-8, "Gaussian I = 1/2 ln det(1 + Sigma g / 2t), t = %g", tt[c]);
    }
    free(p);
    berg_space_destroy(s);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void)
{
    size_t n = 16;
    double lo = 0, hi = 1;
    berg_boundary dir = BERG_DIRICHLET;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_space *sd = tu_space(1, &n, &lo, &hi, &dir, NULL);
    double p[16], q[16], out[16], v = 1234.5, k[5];
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
    CHECK_STATUS(berg_cumulants(s, p, 0, k), BERG_ERR_DOMAIN, "order 0");
    CHECK_STATUS(berg_cumulants(s, p, 17, k), BERG_ERR_DOMAIN, "order 17");
    CHECK_STATUS(berg_heat_mutual_information(s, p, -1.0, 0, &v), BERG_ERR_TIME, "negative t");
    CHECK_STATUS(berg_heat_mutual_information(s, p, 1e-5, BERG_PLAN_ESTIMATE, &v),
                 BERG_ERR_DOMAIN, "spectral ringing of the kernel at t << h^2");
    CHECK_MESSAGE("BERG_SYMBOL_FD", "suggests the positive finite-difference kernel");
    CHECK_STATUS(berg_heat_mutual_information(s, p, 1e-5, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD,
                                              &v),
                 BERG_OK, "positive kernel with BERG_SYMBOL_FD");
    v = 1234.5;
    CHECK_STATUS(berg_heat_mutual_information(sd, p, 1.0, 0, &v), BERG_ERR_UNSUPPORTED,
                 "Dirichlet channel");
    CHECK(v == 1234.5, "output untouched");
    berg_space_destroy(sd);

    /* coupled metric: stencils refuse, entropy works */
    size_t n2[2] = {4, 4};
    double lo2[2] = {0, 0}, hi2[2] = {1, 1}, g[4] = {1, 0.3, 0.3, 1};
    berg_space *sc = tu_space(2, n2, lo2, hi2, NULL, g);
    double w, p2[16], o2[16];
    berg_space_cell_weight(sc, &w);
    for (int i = 0; i < 16; i++)
        p2[i] = 1.0 / (16 * w);
    tu_fill(o2, 16, -7.0);
    CHECK_STATUS(berg_entropy(sc, p2, &v), BERG_OK, "entropy with coupled metric");
    CHECK_STATUS(berg_fisher_information(sc, p2, &v), BERG_ERR_UNSUPPORTED, "coupled Fisher");
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
    test_identities();
    test_fokker_planck_rhs();
    test_against_fp();
    test_laplacian_order();
    test_de_bruijn();
    test_kl_decay();
    test_w2_variations();
    test_cumulants();
    test_mutual_information();
    test_bad_input();
    return test_summary("metric/functionals");
}
