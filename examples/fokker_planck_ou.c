/*
 * examples/fokker_planck_ou.c - an ERG flow with both discretizations of
 * berg_fp: the 2-D Ornstein-Uhlenbeck flow d/dt p = div(g^{-1}(grad p +
 * p grad V)), V = x^T A x / 2, whose Gaussian solution has the covariance of
 * the Lyapunov equation dS/dt = -B S - S B^T + 2 g^{-1}, B = g^{-1} A.
 *
 *   build/examples/fokker_planck_ou
 *
 * prints, for t = 0.5, the L1 error of the Fourier discretization
 * (BERG_FP_FOURIER: a coupled metric on a periodic box) and of the finite
 * volume one (diagonal metric, reflecting box), the mass and the steps.
 * Exit status 1 if the Fourier error is not below 1e-6.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "berg.h"

/* ISO C11 has no M_PI (POSIX does): this example builds with -std=c11 alone */
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* S <- the Lyapunov solution at time t (RK4, 4000 steps) */
static void lyapunov(const double *B, const double *gi, double t, double *S)
{
    const int K = 4000;
    double dt = t / K;
    for (int k = 0; k < K; k++) {
        double st[4][4], T[4];
        for (int s = 0; s < 4; s++) {
            const double c[4] = {0, 0.5, 0.5, 1};
            for (int i = 0; i < 4; i++)
                T[i] = S[i] + (s ? c[s] * dt * st[s - 1][i] : 0.0);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    double v = 2 * gi[i * 2 + j];
                    for (int m = 0; m < 2; m++)
                        v -= B[i * 2 + m] * T[m * 2 + j] + T[i * 2 + m] * B[j * 2 + m];
                    st[s][i * 2 + j] = v;
                }
        }
        for (int i = 0; i < 4; i++)
            S[i] += dt / 6 * (st[0][i] + 2 * st[1][i] + 2 * st[2][i] + st[3][i]);
    }
}

static double gauss(double x, double y, const double *S, double vol)
{
    double det = S[0] * S[3] - S[1] * S[2];
    return exp(-0.5 * (S[3] * x * x - 2 * S[1] * x * y + S[0] * y * y) / det) /
           (2 * M_PI * sqrt(det)) / vol;
}

/* L1 error of berg_fp at time t against the Gaussian; 0 on failure */
static int run(const char *name, size_t n, double L, berg_boundary bc, const double *g,
               unsigned flags, double t, double *err)
{
    const double A[4] = {1.0, 0.6, 0.6, 2.0}, S0[4] = {0.3, 0.1, 0.1, 0.2};
    double det = g[0] * g[3] - g[1] * g[2];
    double gi[4] = {g[3] / det, -g[1] / det, -g[2] / det, g[0] / det}, B[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            B[i * 2 + j] = gi[i * 2] * A[j] + gi[i * 2 + 1] * A[2 + j];
    double S[4] = {S0[0], S0[1], S0[2], S0[3]};
    lyapunov(B, gi, t, S);

    size_t shape[2] = {n, n};
    double lo[2] = {-L, -L}, hi[2] = {L, L}, vol = sqrt(det);
    berg_boundary kinds[2] = {bc, bc};
    berg_space *space = NULL;
    berg_fp *fp = NULL;
    if (berg_space_create(&space, 2, shape, lo, hi, kinds, g) != BERG_OK)
        goto fail;
    size_t N = n * n;
    double h = 2 * L / (double)n, w, m0, m1;
    double *V = malloc(N * sizeof *V), *p = malloc(N * sizeof *p);
    for (size_t i = 0; i < N; i++) {
        double x = -L + (double)(i / n + 0.5) * h, y = -L + (double)(i % n + 0.5) * h;
        V[i] = 0.5 * (A[0] * x * x + 2 * A[1] * x * y + A[3] * y * y);
        p[i] = gauss(x, y, S0, vol); /* a density w.r.t. sqrt(det g) dx */
    }
    berg_space_integrate(space, p, &m0);
    if (berg_fp_create(&fp, space, V, flags) != BERG_OK ||
        berg_fp_evolve(fp, t, p, p) != BERG_OK) {
        free(V);
        free(p);
        goto fail;
    }
    size_t steps;
    berg_fp_last_steps(fp, &steps, NULL);
    w = berg_space_cell_weight(space);
    berg_space_integrate(space, p, &m1);
    double e = 0.0;
    for (size_t i = 0; i < N; i++) {
        double x = -L + (double)(i / n + 0.5) * h, y = -L + (double)(i % n + 0.5) * h;
        e += fabs(p[i] - gauss(x, y, S, vol));
    }
    *err = e * w;
    printf("%-34s %4zu^2 cells  L1 error %.2e  mass change %.1e  %zu steps\n", name, n, *err,
           m1 / m0 - 1, steps);
    free(V);
    free(p);
    berg_fp_destroy(fp);
    berg_space_destroy(space);
    return 1;
fail:
    fprintf(stderr, "%s: %s\n", name, berg_last_error());
    berg_fp_destroy(fp);
    berg_space_destroy(space);
    return 0;
}

int main(void)
{
    const double coupled[4] = {1.4, -0.5, -0.5, 2.0}, diag[4] = {1.0, 0.0, 0.0, 3.0};
    double e_fourier, e_fv;
    printf("2-D Ornstein-Uhlenbeck, t = 0.5, default tolerance 1e-8\n");
    if (!run("Fourier, coupled metric, periodic", 96, 8.0, BERG_PERIODIC, coupled,
             BERG_FP_FOURIER, 0.5, &e_fourier))
        return 1;
    if (!run("finite volume, diagonal, Neumann", 192, 5.0, BERG_NEUMANN, diag, 0, 0.5, &e_fv))
        return 1;
    printf("(finite volumes are second order in space: 0.08 h^2; the Fourier\n"
           " discretization is spectral for smooth data on periodic boxes)\n");
    return e_fourier < 1e-6 ? 0 : 1;
}
