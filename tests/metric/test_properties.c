/* A randomized property driver for the functionals, the W2 geometry and the
 * moments: random rank 1-3, grid sizes, boundary kinds and diagonal
 * metrics, and on each configuration the invariants the headers promise:
 * Gibbs' inequality and S + KL = cross-entropy, first variations against
 * finite differences, grad_W2 S = Delta_h p on periodic and Neumann axes,
 * W2 gradients are tangent vectors, L_p is symmetric and negative
 * semi-definite, the W2 metric inverts its own tangent map, G_W2 is
 * symmetric and positive, and the moments agree with berg_space_mean and
 * berg_space_covariance. */
#include <stdlib.h>

#include "func_helpers.h"

#define CONFIGS 24

typedef struct {
    size_t d, n[3];
    double lo[3], hi[3], g[9];
    berg_boundary bc[3];
} config;

static config random_config(unsigned long long *seed)
{
    config c;
    memset(&c, 0, sizeof c);
    c.d = 1 + (size_t)(3.0 * tu_uniform(seed));
    for (size_t a = 0; a < c.d; a++) {
        size_t nmax = c.d == 3 ? 10 : c.d == 2 ? 24 : 64;
        c.n[a] = 4 + (size_t)((double)(nmax - 4) * tu_uniform(seed));
        c.lo[a] = -3.0 - 2.0 * tu_uniform(seed);
        c.hi[a] = 2.0 + 2.0 * tu_uniform(seed);
        c.bc[a] = (berg_boundary)(3.0 * tu_uniform(seed));
        c.g[a * c.d + a] = 0.5 + 1.5 * tu_uniform(seed);
    }
    return c;
}

static int has_dirichlet(const config *c)
{
    for (size_t a = 0; a < c->d; a++)
        if (c->bc[a] == BERG_DIRICHLET)
            return 1;
    return 0;
}

static void check_config(const config *c, int k, unsigned long long seed)
{
    berg_space *s = tu_space((int)c->d, c->n, c->lo, c->hi, c->bc, c->g);
    if (!s)
        return;
    size_t N = berg_space_size(s);
    double *p = vec(N), *q = vec(N), *eta = vec(N), *eta2 = vec(N), *dF = vec(N), *a = vec(N),
           *b = vec(N), *pp = vec(N);
    smooth_random(s, p, seed, 0.8);
    smooth_random(s, q, seed + 1, 0.8);
    random_tangent(s, eta, seed + 2);
    random_tangent(s, eta2, seed + 3);

    /* values: Gibbs, KL(p||p) = 0, H = S + KL */
    double S, D, Dpp, H;
    CHECK_STATUS(berg_entropy(s, p, &S), BERG_OK, "config %d: entropy", k);
    CHECK_STATUS(berg_kl_divergence(s, p, q, &D), BERG_OK, "config %d: KL", k);
    CHECK_STATUS(berg_kl_divergence(s, p, p, &Dpp), BERG_OK, "config %d: KL(p||p)", k);
    CHECK_STATUS(berg_cross_entropy(s, p, q, &H), BERG_OK, "config %d: cross entropy", k);
    CHECK(D > 0.0 && Dpp == 0.0, "config %d: KL(p||q) = %g > 0, KL(p||p) = %g", k, D, Dpp);
    CHECK_REL(H, S + D, 1e-12, "config %d: H = S + KL", k);

    /* first variations of S and of the density Fisher information against
     * central differences along a tangent direction that keeps p > 0 */
    for (size_t i = 0; i < N; i++)
        a[i] = eta[i] * p[i];
    berg_space_project_tangent(s, a, a);
    const double eps = 1e-5;
    for (int f = 0; f < 2; f++) {
        double vp, vm, ip;
        berg_status (*val)(const berg_space *, const double *, double *) =
            f == 0 ? berg_entropy : berg_density_fisher_information;
        berg_status (*der)(const berg_space *, const double *, double *) =
            f == 0 ? berg_entropy_derivative : berg_density_fisher_information_derivative;
        for (size_t i = 0; i < N; i++)
            pp[i] = p[i] + eps * a[i];
        val(s, pp, &vp);
        for (size_t i = 0; i < N; i++)
            pp[i] = p[i] - eps * a[i];
        val(s, pp, &vm);
        CHECK_STATUS(der(s, p, dF), BERG_OK, "config %d: derivative %d", k, f);
        berg_space_inner_l2(s, dF, a, &ip);
        CHECK_REL(ip, (vp - vm) / (2 * eps), 1e-6, "config %d: first variation %d", k, f);
    }

    /* grad_W2 S: a tangent vector, = Delta_h p without Dirichlet axes */
    berg_entropy_derivative(s, p, dF);
    CHECK_STATUS(berg_w2_gradient(s, p, dF, a), BERG_OK, "config %d: W2 gradient", k);
    CHECK_STATUS(berg_discrete_laplacian(s, p, b), BERG_OK, "config %d: Laplacian", k);
    double scale = tu_max_abs(b, N), integral;
    berg_space_integrate(s, a, &integral);
    CHECK_ABS(integral, 0.0, 1e-11 * scale, "config %d: grad_W2 S is tangent", k);
    if (!has_dirichlet(c))
        CHECK(tu_max_abs_diff(a, b, N) <= 1e-11 * scale,
              "config %d: grad_W2 S = Delta_h p (%g)", k, tu_max_abs_diff(a, b, N) / scale);

    /* L_p symmetric, negative semi-definite: <u, -L_p v> = <v, -L_p u> */
    double uv, vu, uu;
    berg_w2_gradient(s, p, eta, a);  /* -L_p eta */
    berg_w2_gradient(s, p, eta2, b); /* -L_p eta2 */
    berg_space_inner_l2(s, eta, b, &uv);
    berg_space_inner_l2(s, eta2, a, &vu);
    berg_space_inner_l2(s, eta, a, &uu);
    CHECK_REL(uv, vu, 1e-11, "config %d: L_p symmetric", k);
    CHECK(uu > 0.0, "config %d: -L_p positive on a non-constant vector (%g)", k, uu);

    /* the metric handle: tangent(potential(eta)) = eta, G symmetric, > 0 */
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_OK,
                 "config %d: W2 metric", k);
    if (m) {
        size_t it;
        double res, G12, G21, G11;
        CHECK_STATUS(berg_w2_metric_potential(m, eta, a, &it, &res), BERG_OK,
                     "config %d: potential", k);
        berg_w2_metric_tangent(m, a, b);
        CHECK(tu_max_abs_diff(b, eta, N) <= 1e-8 * tu_max_abs(eta, N),
              "config %d: L_p eta_hat = eta (%zu iterations, residual %g)", k, it, res);
        CHECK_STATUS(berg_w2_metric_inner(m, eta, eta2, &G12, NULL, NULL), BERG_OK,
                     "config %d: inner", k);
        berg_w2_metric_inner(m, eta2, eta, &G21, NULL, NULL);
        berg_w2_metric_inner(m, eta, eta, &G11, NULL, NULL);
        CHECK_ABS(G12, G21, 1e-8 * G11, "config %d: G_W2 symmetric", k);
        CHECK(G11 > 0.0, "config %d: G_W2(eta, eta) = %g > 0", k, G11);
        berg_w2_metric_destroy(m);
    }

    /* moments: m_0 = 1, first moments = berg_space_mean, second cumulants =
     * berg_space_covariance */
    const size_t K = 2;
    size_t stride[3];
    stride[c->d - 1] = 1;
    for (size_t a2 = c->d - 1; a2-- > 0;)
        stride[a2] = stride[a2 + 1] * (K + 1);
    double mom[27], kap[27], mean[3], cov[9];
    CHECK_STATUS(berg_moments(s, K, p, mom), BERG_OK, "config %d: moments", k);
    CHECK_STATUS(berg_cumulants(s, K, p, kap), BERG_OK, "config %d: cumulants", k);
    berg_space_mean(s, p, mean);
    berg_space_covariance(s, p, cov);
    CHECK_REL(mom[0], 1.0, 1e-13, "config %d: m_0 = 1", k);
    for (size_t x = 0; x < c->d; x++) {
        CHECK_ABS(mom[stride[x]], mean[x], 1e-12 * (1 + fabs(mean[x])), "config %d: m_e%zu", k,
                  x);
        for (size_t y = 0; y < c->d; y++)
            CHECK_ABS(kap[stride[x] + stride[y]], cov[x * c->d + y], 1e-11,
                      "config %d: kappa_(e%zu + e%zu) = covariance", k, x, y);
    }

    free(p), free(q), free(eta), free(eta2), free(dF), free(a), free(b), free(pp);
    berg_space_destroy(s);
}

int main(void)
{
    unsigned long long seed = 20261206;
    for (int k = 0; k < CONFIGS; k++) {
        config c = random_config(&seed);
        printf("config %d: rank %zu, n = %zu x %zu x %zu, boundaries %d %d %d\n", k, c.d, c.n[0],
               c.n[1], c.n[2], (int)c.bc[0], (int)c.bc[1], (int)c.bc[2]);
        check_config(&c, k, seed + 7 * (unsigned long long)k);
    }
    return test_summary("metric/properties");
}
