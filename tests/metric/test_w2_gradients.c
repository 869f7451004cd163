/* W2 gradients and the identities of the Otto calculus on the grid:
 * grad_W2 S = Delta_h p, the Fokker-Planck right-hand side against other
 * discretizations and berg_fp, de Bruijn and KL decay along the flows,
 * delta F(eta) = G_W2(grad_W2 F, eta). */
#include <float.h>
#include <stdlib.h>

#include "func_helpers.h"

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
        double scale = tu_max_abs(lap, N);
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
        CHECK(tu_max_abs(La, N) <= 1e-14, "L_p annihilates constants (%g)", tu_max_abs(La, N));
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
            tu_grid_point(s, k, x);
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
        CHECK(tu_max_abs(gw, N) <= 1e-12 * tu_max_abs(Lp, N), "grad_W2 KL(q||q) = 0");
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
        CHECK_STATUS(berg_density_fisher_information(s, p, &J), BERG_OK, "J(t)");
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
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_OK, "metric");
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
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_OK, "metric");
    if (m) {
        for (int f = 0; f < 3; f++) {
            if (f == 0)
                berg_entropy_derivative(s, p, dF);
            else if (f == 1)
                berg_kl_derivative(s, p, q, dF);
            else
                berg_density_fisher_information_derivative(s, p, dF);
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

int main(void)
{
    test_identities();
    test_fokker_planck_rhs();
    test_against_fp();
    test_laplacian_order();
    test_de_bruijn();
    test_kl_decay();
    test_w2_variations();
    return test_summary("metric/w2_gradients");
}
