/* Wegner-Morris data of the finite-volume Fokker-Planck flow: the velocity
 * Psi = -g^{-1} grad Sigma and the scheme Sigma = V + ln p against closed
 * forms, the transport form -div(Psi p) = L p, the backward generator
 * A = L^T against the continuum operator and against (P_t f - f)/t, and
 * particles carried by Psi (the probability-flow ODE, eq 26). */
#include <float.h>
#include <stdlib.h>

#include "testutil.h"
#include "fp_helpers.h"

/* ---- Wegner-Morris velocity and the generator A --------------------------- */

static void test_wegner_morris(void)
{
    size_t N = 300;
    berg_space *s = space1(N, -6, 6, BERG_NEUMANN);
    double h = 12.0 / (double)N;
    double *V = grid_fn(s, quad, NULL), *p = malloc(N * sizeof(double)),
           *psi = malloc(N * sizeof(double)), *sig = malloc(N * sizeof(double)),
           *Lp = malloc(N * sizeof(double)), *div = malloc(N * sizeof(double));
    double m = 0.7, v = 0.6;
    for (size_t i = 0; i < N; i++)
        p[i] = gauss1(-6 + (i + 0.5) * h, m, v);
    berg_fp *fp = NULL;
    berg_fp_create(&fp, s, V, 0);
    CHECK_STATUS(berg_fp_velocity(fp, p, psi), BERG_OK, "velocity");
    CHECK_STATUS(berg_fp_scheme(fp, p, sig), BERG_OK, "scheme");
    /* Sigma = x^2/2 - (x - m)^2 / (2 v) + const is quadratic: central
     * differences are exact, psi = -(x - (x - m)/v) */
    double worst = 0;
    for (size_t i = 1; i + 1 < N; i++) {
        double x = -6 + (i + 0.5) * h;
        worst = fmax(worst, fabs(psi[i] + (x - (x - m) / v)));
    }
    CHECK(worst < 1e-9, "Wegner-Morris velocity closed form: %g", worst);
    double sm = 0;
    for (size_t i = 0; i < N; i++)
        sm += sig[i];
    CHECK(fabs(sm) < 1e-10 * N, "Sigma has zero mean");
    CHECK_REL(sig[200] - sig[100],
              0.5 * (pow(-6 + 200.5 * h, 2) - pow(-6 + 100.5 * h, 2)) -
                  (pow(-6 + 200.5 * h - m, 2) - pow(-6 + 100.5 * h - m, 2)) / (2 * v),
              1e-10, "Sigma = S_q - S_p differences");
    /* transport form -d/dx(psi p) agrees with L p to O(h^2) */
    berg_fp_generator_apply(fp, p, Lp);
    double err = 0, scale = 0;
    for (size_t i = 2; i + 2 < N; i++) {
        div[i] = -(psi[i + 1] * p[i + 1] - psi[i - 1] * p[i - 1]) / (2 * h);
        err = fmax(err, fabs(div[i] - Lp[i]));
        scale = fmax(scale, fabs(Lp[i]));
    }
    CHECK(err < 0.05 * h * h * scale * 10, "-div(psi p) = L p to O(h^2): %g (scale %g)", err,
          scale);
    p[17] = 0.0;
    CHECK_STATUS(berg_fp_velocity(fp, p, psi), BERG_ERR_DOMAIN, "velocity needs p > 0");
    CHECK_MESSAGE("p[17]", "velocity names the index");
    /* A f = lim (P_t f - f)/t, P_t f = E[f(X_t)|X_0] = e^{t L^T} f =
     * Q^{-1} e^{tL} (Q f) by detailed balance */
    double *f = malloc(N * sizeof(double)), *Af = malloc(N * sizeof(double)),
           *q = malloc(N * sizeof(double)), *Pf = malloc(N * sizeof(double));
    berg_fp_stationary(fp, q);
    for (size_t i = 0; i < N; i++) {
        double x = -6 + (i + 0.5) * h;
        f[i] = sin(x) + 0.1 * x * x;
    }
    berg_fp_backward_apply(fp, f, Af);
    /* continuum: A f = -x f' + f'' */
    worst = 0;
    for (size_t i = 50; i < N - 50; i++) {
        double x = -6 + (i + 0.5) * h;
        double exact = -x * (cos(x) + 0.2 * x) + (-sin(x) + 0.2);
        worst = fmax(worst, fabs(Af[i] - exact));
    }
    CHECK(worst < 0.05, "A f vs the continuum operator (O(h^2), h = %g): %g", h, worst);
    berg_fp_spectral *sp = NULL;
    berg_fp_spectral_create(&sp, fp);
    double e_prev = 0;
    for (int k = 0; k < 3; k++) {
        double t = 1e-3 * pow(0.1, k);
        for (size_t i = 0; i < N; i++)
            Pf[i] = q[i] * f[i];
        berg_fp_spectral_evolve(sp, t, Pf, Pf);
        double e = 0;
        for (size_t i = 100; i < N - 100; i++)
            e = fmax(e, fabs((Pf[i] / q[i] - f[i]) / t - Af[i]));
        if (k > 0)
            CHECK(e < 0.2 * e_prev, "(P_t f - f)/t -> A f linearly in t: %g then %g", e_prev, e);
        e_prev = e;
    }
    CHECK(e_prev < 1e-3, "(P_t f - f)/t = A f at t = 1e-5: %g", e_prev);
    berg_fp_spectral_destroy(sp);
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(psi);
    free(sig);
    free(Lp);
    free(div);
    free(f);
    free(Af);
    free(q);
    free(Pf);
}

/* Eq 26 in Lagrangian form: particles moved deterministically by the
 * Wegner-Morris velocity dx/dt = Psi(x, t) of the evolving density carry
 * p_t (probability-flow ODE). Weighted particles from p_0 = N(1, 1/4) under
 * V = x^2/2: mean e^{-t} and variance 1 - (3/4) e^{-2t}. */
static double interp(const double *f, size_t n, double lo, double h, double x)
{
    double u = (x - lo) / h - 0.5;
    if (u <= 0)
        return f[0];
    if (u >= (double)(n - 1))
        return f[n - 1];
    size_t i = (size_t)u;
    double th = u - (double)i;
    return (1 - th) * f[i] + th * f[i + 1];
}

/* ln p needs p > 0: far tails that underflowed (or were clipped) to 0 get
 * the smallest normal value; no particle goes there */
static void floor_density(double *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = fmax(p[i], DBL_MIN);
}

static void test_wegner_morris_transport(void)
{
    size_t N = 1200, P = 400;
    double lo = -6, h = 12.0 / (double)N;
    berg_space *s = space1(N, -6, 6, BERG_NEUMANN);
    double *V = grid_fn(s, quad, NULL), *p0 = malloc(N * sizeof(double)),
           *pt = malloc(N * sizeof(double)), *psi = malloc(N * sizeof(double)),
           *x = malloc(P * sizeof(double)), *wt = malloc(P * sizeof(double)),
           *xm = malloc(P * sizeof(double));
    for (size_t i = 0; i < N; i++)
        p0[i] = gauss1(lo + (i + 0.5) * h, 1.0, 0.25);
    double wsum = 0;
    for (size_t j = 0; j < P; j++) {
        x[j] = 1.0 - 3.0 + 6.0 * ((double)j + 0.5) / (double)P; /* +-6 sd */
        wt[j] = gauss1(x[j], 1.0, 0.25);
        wsum += wt[j];
    }
    berg_fp *fp = NULL;
    berg_fp_create(&fp, s, V, 0);
    double T = 0.5, dt = 0.01;
    int K = (int)(T / dt + 0.5), ok = 1;
    for (int k = 0; k < K; k++) {
        /* midpoint rule: Psi at t and t + dt/2 from the evolved grid density */
        double t0 = k * dt;
        ok &= berg_fp_evolve(fp, t0, p0, pt) == BERG_OK;
        floor_density(pt, N);
        ok &= berg_fp_velocity(fp, pt, psi) == BERG_OK;
        for (size_t j = 0; j < P; j++)
            xm[j] = x[j] + 0.5 * dt * interp(psi, N, lo, h, x[j]);
        ok &= berg_fp_evolve(fp, t0 + 0.5 * dt, p0, pt) == BERG_OK;
        floor_density(pt, N);
        ok &= berg_fp_velocity(fp, pt, psi) == BERG_OK;
        for (size_t j = 0; j < P; j++)
            x[j] += dt * interp(psi, N, lo, h, xm[j]);
    }
    CHECK(ok, "transport run");
    double m = 0, v = 0;
    for (size_t j = 0; j < P; j++)
        m += wt[j] * x[j] / wsum;
    for (size_t j = 0; j < P; j++)
        v += wt[j] * (x[j] - m) * (x[j] - m) / wsum;
    printf("particles moved by Psi: mean error %.2e, variance error %.2e\n", m - exp(-T),
           v - (1 - 0.75 * exp(-2 * T)));
    /* the weighted initial moments are exact to ~1e-6 (midpoint rule) */
    CHECK_ABS(m, exp(-T), 5e-5, "particles moved by Psi: mean");
    CHECK_ABS(v, 1 - 0.75 * exp(-2 * T), 5e-5, "particles moved by Psi: variance");
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    free(V);
    free(p0);
    free(pt);
    free(psi);
    free(x);
    free(wt);
    free(xm);
}

int main(void)
{
    test_wegner_morris();
    test_wegner_morris_transport();
    return test_summary("fp_wegner_morris");
}
