/* heat: closed forms per boundary kind and metric, algebraic properties,
 * batch / multi-time / alignment equivalence, finite-difference symbol,
 * one handle from 8 threads, the heat channel's information, bad input. */
#include <float.h>
#include <math.h>
#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "core/internal.h" /* berg__fftw_lock: stands in for another thread's planning */

static berg_heat *heat_of(const berg_space *s, unsigned flags)
{
    berg_heat *h = NULL;
    berg_status st = berg_heat_create(&h, s, flags);
    CHECK(st == BERG_OK, "berg_heat_create: %s", berg_last_error());
    return h;
}

/* 1-D eigenmodes of each boundary kind decay as e^{-k^2 t} (continuum k) */
static void test_modes_1d(void)
{
    const size_t n = 50;
    double lo = -1.0, hi = 2.0, L = 3.0, t = 0.037;
    berg_boundary kinds[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    for (int b = 0; b < 3; b++) {
        berg_space *s = tu_space(1, &n, &lo, &hi, &kinds[b], NULL);
        berg_heat *h = heat_of(s, 0);
        double *f = tu_vec(n), *out = tu_vec(n), x[50];
        berg_space_coordinates(s, 0, x);
        int modes[3] = {0, 3, 11};
        for (int j = 0; j < 3; j++) {
            int m = modes[j];
            double k;
            for (size_t i = 0; i < n; i++) {
                double u = x[i] - lo;
                if (kinds[b] == BERG_PERIODIC)
                    f[i] = cos(2 * M_PI * m * u / L) + 0.5 * sin(2 * M_PI * m * u / L);
                else if (kinds[b] == BERG_NEUMANN)
                    f[i] = cos(M_PI * m * u / L);
                else
                    f[i] = sin(M_PI * (m + 1) * u / L);
            }
            k = (kinds[b] == BERG_PERIODIC) ? 2 * M_PI * m / L
                : (kinds[b] == BERG_NEUMANN) ? M_PI * m / L
                                             : M_PI * (m + 1) / L;
            double decay = exp(-k * k * t), err = 0;
            CHECK_STATUS(berg_heat_apply(h, t, f, out), BERG_OK, "apply bc %d mode %d", b, m);
            for (size_t i = 0; i < n; i++)
                err = fmax(err, fabs(out[i] - decay * f[i]));
            CHECK(err < 2e-15, "bc %d mode %d: max error %.3g", b, m, err);
        }
        free(f);
        free(out);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
}

/* plane waves cos(k.x) under diagonal and coupled metrics decay as e^{-t k.g^{-1}k} */
static void test_metric_modes(void)
{
    size_t n[2] = {24, 30};
    double lo[2] = {0, -1}, hi[2] = {2, 2};
    double gs[2][4] = {{4, 0, 0, 0.25}, {2, 0.7, 0.7, 1.5}};
    for (int gi = 0; gi < 2; gi++) {
        berg_space *s = tu_space(2, n, lo, hi, NULL, gs[gi]);
        berg_heat *h = heat_of(s, 0);
        double ginv[4];
        berg_space_inverse_metric(s, ginv);
        size_t N = n[0] * n[1];
        double *f = tu_vec(N), *out = tu_vec(N), x0[24], x1[30];
        berg_space_coordinates(s, 0, x0);
        berg_space_coordinates(s, 1, x1);
        int ms[3][2] = {{1, 0}, {2, -3}, {-4, 5}};
        for (int j = 0; j < 3; j++) {
            double k0 = 2 * M_PI * ms[j][0] / 2.0, k1 = 2 * M_PI * ms[j][1] / 3.0;
            for (size_t a = 0; a < n[0]; a++)
                for (size_t b = 0; b < n[1]; b++)
                    f[a * n[1] + b] = cos(k0 * x0[a] + k1 * x1[b] + 0.3);
            double q = ginv[0] * k0 * k0 + 2 * ginv[1] * k0 * k1 + ginv[3] * k1 * k1;
            double t = 0.05, decay = exp(-q * t);
            CHECK_STATUS(berg_heat_apply(h, t, f, out), BERG_OK, "apply");
            double err = 0;
            for (size_t i = 0; i < N; i++)
                err = fmax(err, fabs(out[i] - decay * f[i]));
            CHECK(err < 4e-15, "metric %d mode %d: max error %.3g (decay %g)", gi, j, err, decay);
        }
        free(f);
        free(out);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
}

/* a Gaussian spreads to covariance S0 + 2 t g^{-1}, pointwise and in moments */
static void test_gaussian_spreading(void)
{
    size_t n[2] = {96, 96};
    double lo[2] = {-12, -12}, hi[2] = {12, 12};
    double g[4] = {1.5, 0.6, 0.6, 0.8};
    berg_space *s = tu_space(2, n, lo, hi, NULL, g);
    berg_heat *h = heat_of(s, 0);
    double ginv[4], sd, t = 0.4, s0 = 0.6;
    berg_space_inverse_metric(s, ginv);
    sd = berg_space_volume_factor(s);
    size_t N = n[0] * n[1];
    double *p = tu_vec(N), *out = tu_vec(N), x[96];
    berg_space_coordinates(s, 0, x);
    /* density w.r.t. Vol = sqrt(det g) dx: N(0, S) coordinate density / sqrt(det g) */
    double S[4] = {s0 + 2 * t * ginv[0], 2 * t * ginv[1], 2 * t * ginv[2], s0 + 2 * t * ginv[3]};
    double det = S[0] * S[3] - S[1] * S[2];
    for (size_t a = 0; a < 96; a++)
        for (size_t b = 0; b < 96; b++)
            p[a * 96 + b] = exp(-0.5 * (x[a] * x[a] + x[b] * x[b]) / s0) / (2 * M_PI * s0) / sd;
    CHECK_STATUS(berg_heat_apply(h, t, p, out), BERG_OK, "apply");
    double err = 0, peak = 1.0 / (2 * M_PI * sqrt(det)) / sd;
    for (size_t a = 0; a < 96; a++)
        for (size_t b = 0; b < 96; b++) {
            double u = x[a], v = x[b];
            double qf = (S[3] * u * u - 2 * S[1] * u * v + S[0] * v * v) / det;
            double want = exp(-0.5 * qf) / (2 * M_PI * sqrt(det)) / sd;
            err = fmax(err, fabs(out[a * 96 + b] - want));
        }
    CHECK(err < 1e-14 * peak, "coupled-metric Gaussian: max error %.3g (peak %.3g)", err, peak);
    double mean[2], cov[4];
    /* the far tails ring at the 1e-18 level: clip them for the moment routine */
    for (size_t i = 0; i < N; i++)
        out[i] = fmax(out[i], 0.0);
    CHECK_STATUS(berg_space_moments(s, out, mean, cov), BERG_OK, "moments");
    for (int i = 0; i < 4; i++)
        CHECK_ABS(cov[i], S[i], 3e-13, "covariance[%d] = S0 + 2 t g^{-1}", i);
    free(p);
    free(out);
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

/* mass conservation (periodic / Neumann), semigroup, linearity, t = 0 */
static void test_algebra(void)
{
    size_t n[3] = {12, 10, 9};
    double lo[3] = {0, 0, 0}, hi[3] = {1, 2, 1.5};
    berg_boundary mixes[4][3] = {{BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC},
                                 {BERG_NEUMANN, BERG_NEUMANN, BERG_NEUMANN},
                                 {BERG_PERIODIC, BERG_NEUMANN, BERG_PERIODIC},
                                 {BERG_DIRICHLET, BERG_PERIODIC, BERG_NEUMANN}};
    double g[9] = {2, 0.5, 0, 0.5, 1, 0, 0, 0, 3};
    for (int mi = 0; mi < 4; mi++) {
        /* couple axes 0 and 1 only when both are periodic */
        int coupled = mixes[mi][0] == BERG_PERIODIC && mixes[mi][1] == BERG_PERIODIC;
        double gd[9] = {2, 0, 0, 0, 1, 0, 0, 0, 3};
        berg_space *s = tu_space(3, n, lo, hi, mixes[mi], coupled ? g : gd);
        berg_heat *h = heat_of(s, 0);
        size_t N = berg_space_size(s);
        double *p = tu_vec(N), *q = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N), *c = tu_vec(N);
        unsigned long long seed = 42 + (unsigned)mi;
        for (size_t i = 0; i < N; i++) {
            p[i] = tu_uniform(&seed);
            q[i] = tu_uniform(&seed) - 0.5;
        }
        double m0, m1;
        berg_space_integrate(s, p, &m0);
        CHECK_STATUS(berg_heat_apply(h, 0.3, p, a), BERG_OK, "apply");
        berg_space_integrate(s, a, &m1);
        if (mixes[mi][0] != BERG_DIRICHLET)
            CHECK_REL(m1, m0, 1e-13, "mass conserved, mix %d", mi);
        else
            CHECK(m1 < m0, "mass leaks with a Dirichlet axis");
        /* semigroup: P_0.1 P_0.2 = P_0.3 */
        CHECK_STATUS(berg_heat_apply(h, 0.1, p, b), BERG_OK, "apply");
        CHECK_STATUS(berg_heat_apply(h, 0.2, b, b), BERG_OK, "apply in place");
        CHECK(tu_max_abs_diff(a, b, N) < 1e-14, "semigroup mix %d: %.3g", mi,
              tu_max_abs_diff(a, b, N));
        /* linearity: P(2p - 3q) = 2Pp - 3Pq */
        for (size_t i = 0; i < N; i++)
            c[i] = 2 * p[i] - 3 * q[i];
        berg_heat_apply(h, 0.05, c, c);
        berg_heat_apply(h, 0.05, p, a);
        berg_heat_apply(h, 0.05, q, b);
        double err = 0;
        for (size_t i = 0; i < N; i++)
            err = fmax(err, fabs(c[i] - (2 * a[i] - 3 * b[i])));
        CHECK(err < 1e-14, "linearity mix %d: %.3g", mi, err);
        /* t = 0 is an exact copy */
        CHECK_STATUS(berg_heat_apply(h, 0.0, p, a), BERG_OK, "t = 0");
        CHECK(memcmp(a, p, N * sizeof(double)) == 0, "t = 0 copies exactly");
        free(p);
        free(q);
        free(a);
        free(b);
        free(c);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
}

/* 3-D mixed boundaries: product eigenmode; 4-D periodic lattice */
static void test_3d_4d(void)
{
    {
        size_t n[3] = {16, 12, 10};
        double lo[3] = {0, -1, 0.5}, hi[3] = {2, 1, 2.5};
        berg_boundary bc[3] = {BERG_DIRICHLET, BERG_PERIODIC, BERG_NEUMANN};
        double g[9] = {1.5, 0, 0, 0, 0.5, 0, 0, 0, 2};
        berg_space *s = tu_space(3, n, lo, hi, bc, g);
        berg_heat *h = heat_of(s, 0);
        size_t N = berg_space_size(s);
        double *f = tu_vec(N), *out = tu_vec(N), x0[16], x1[12], x2[10];
        berg_space_coordinates(s, 0, x0);
        berg_space_coordinates(s, 1, x1);
        berg_space_coordinates(s, 2, x2);
        double k0 = M_PI * 3 / 2.0, k1 = 2 * M_PI * 2 / 2.0, k2 = M_PI * 4 / 2.0;
        for (size_t a = 0; a < 16; a++)
            for (size_t b = 0; b < 12; b++)
                for (size_t c = 0; c < 10; c++)
                    f[(a * 12 + b) * 10 + c] =
                        sin(k0 * x0[a]) * sin(k1 * x1[b] + 0.4) * cos(k2 * (x2[c] - 0.5));
        double t = 0.02, decay = exp(-t * (k0 * k0 / 1.5 + k1 * k1 / 0.5 + k2 * k2 / 2));
        CHECK_STATUS(berg_heat_apply(h, t, f, out), BERG_OK, "3-D apply");
        double err = 0;
        for (size_t i = 0; i < N; i++)
            err = fmax(err, fabs(out[i] - decay * f[i]));
        CHECK(err < 2e-15, "3-D mixed mode: %.3g", err);
        free(f);
        free(out);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
    {
        size_t n[4] = {8, 6, 8, 10};
        double lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 2, 1};
        double g[16] = {1, 0.2, 0, 0, 0.2, 1, 0.1, 0, 0, 0.1, 1, 0.3, 0, 0, 0.3, 2};
        berg_space *s = tu_space(4, n, lo, hi, NULL, g);
        berg_heat *h = heat_of(s, 0);
        double ginv[16];
        berg_space_inverse_metric(s, ginv);
        size_t N = berg_space_size(s);
        double *f = tu_vec(N), *out = tu_vec(N);
        double k[4] = {2 * M_PI * 1, -2 * M_PI * 2, 2 * M_PI * 1 / 2.0, 2 * M_PI * 3};
        double x[4][10];
        for (int a = 0; a < 4; a++)
            berg_space_coordinates(s, a, x[a]);
        size_t i = 0;
        for (size_t a = 0; a < 8; a++)
            for (size_t b = 0; b < 6; b++)
                for (size_t c = 0; c < 8; c++)
                    for (size_t d = 0; d < 10; d++)
                        f[i++] = cos(k[0] * x[0][a] + k[1] * x[1][b] + k[2] * x[2][c] +
                                     k[3] * x[3][d]);
        double q = 0;
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                q += ginv[a * 4 + b] * k[a] * k[b];
        double t = 0.01, decay = exp(-q * t);
        CHECK_STATUS(berg_heat_apply(h, t, f, out), BERG_OK, "4-D apply");
        double err = 0, m0, m1;
        for (i = 0; i < N; i++)
            err = fmax(err, fabs(out[i] - decay * f[i]));
        CHECK(err < 4e-15, "4-D lattice plane wave: %.3g", err);
        for (i = 0; i < N; i++)
            f[i] = 1.0 + f[i] * f[i];
        berg_space_integrate(s, f, &m0);
        berg_heat_apply(h, 0.7, f, out);
        berg_space_integrate(s, out, &m1);
        CHECK_REL(m1, m0, 1e-13, "4-D mass");
        free(f);
        free(out);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
}

/* coupled periodic axes next to a Neumann axis (two-stage transform with
 * a per-mode table), and tiny / odd grids of every kind */
static void test_coupled_mixed_and_tiny(void)
{
    {
        size_t n[3] = {10, 9, 12};
        double lo[3] = {0, 0, 0}, hi[3] = {1, 1.5, 2};
        berg_boundary bc[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_PERIODIC};
        double g[9] = {1.2, 0, -0.5, 0, 2, 0, -0.5, 0, 0.9};
        berg_space *s = tu_space(3, n, lo, hi, bc, g);
        berg_heat *h = heat_of(s, 0);
        double ginv[9];
        berg_space_inverse_metric(s, ginv);
        size_t N = berg_space_size(s);
        double *f = tu_vec(N), *out = tu_vec(N), x0[10], x1[9], x2[12];
        berg_space_coordinates(s, 0, x0);
        berg_space_coordinates(s, 1, x1);
        berg_space_coordinates(s, 2, x2);
        double k0 = 2 * M_PI * 2, k1 = M_PI * 3 / 1.5, k2 = 2 * M_PI * -3 / 2.0;
        for (size_t a = 0; a < 10; a++)
            for (size_t b = 0; b < 9; b++)
                for (size_t c = 0; c < 12; c++)
                    f[(a * 9 + b) * 12 + c] = cos(k0 * x0[a] + k2 * x2[c] + 1.0) * cos(k1 * x1[b]);
        double q = ginv[0] * k0 * k0 + 2 * ginv[2] * k0 * k2 + ginv[8] * k2 * k2 + ginv[4] * k1 * k1;
        double t = 0.004, decay = exp(-q * t), err = 0;
        CHECK_STATUS(berg_heat_apply(h, t, f, out), BERG_OK, "coupled + Neumann");
        for (size_t i = 0; i < N; i++)
            err = fmax(err, fabs(out[i] - decay * f[i]));
        CHECK(err < 4e-15, "coupled periodic axes beside a Neumann axis: %.3g", err);
        free(f);
        free(out);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
    berg_boundary kinds[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    size_t sizes[4] = {1, 2, 3, 7};
    for (int b = 0; b < 3; b++)
        for (int j = 0; j < 4; j++) {
            size_t n = sizes[j];
            double lo = 0, hi = 1, p[7], out[7], x[7];
            berg_space *s = tu_space(1, &n, &lo, &hi, &kinds[b], NULL);
            berg_heat *h = heat_of(s, BERG_PLAN_ESTIMATE);
            berg_space_coordinates(s, 0, x);
            /* the lowest mode of each kind */
            double k = kinds[b] == BERG_DIRICHLET ? M_PI : 0.0;
            for (size_t i = 0; i < n; i++)
                p[i] = kinds[b] == BERG_DIRICHLET ? sin(M_PI * x[i]) : 1.0;
            CHECK_STATUS(berg_heat_apply(h, 0.1, p, out), BERG_OK, "tiny grid");
            double err = 0;
            for (size_t i = 0; i < n; i++)
                err = fmax(err, fabs(out[i] - exp(-k * k * 0.1) * p[i]));
            CHECK(err < 1e-15, "bc %d n = %zu lowest mode: %.3g", b, n, err);
            berg_heat_destroy(h);
            berg_space_destroy(s);
        }
}

/* Dirichlet survival of a uniform start on [0, L] vs its series
 * S(t) = sum_{j odd} 8/(pi j)^2 e^{-(j pi / L)^2 t} */
static void test_survival(void)
{
    const size_t n = 4000;
    double lo = 0, hi = 2, L = 2;
    berg_boundary bc = BERG_DIRICHLET;
    berg_space *s = tu_space(1, &n, &lo, &hi, &bc, NULL);
    berg_heat *h = heat_of(s, 0);
    double *p = tu_vec(n), *out = tu_vec(n);
    tu_fill(p, n, 1.0 / L);
    double ts[3] = {0.05, 0.3, 1.5};
    for (int j = 0; j < 3; j++) {
        double surv = 0, series = 0;
        berg_heat_apply(h, ts[j], p, out);
        berg_space_integrate(s, out, &surv);
        for (int m = 1; m < 20001; m += 2)
            series += 8.0 / (M_PI * M_PI * m * m) * exp(-(m * M_PI / L) * (m * M_PI / L) * ts[j]);
        /* the discrete projection of 1 onto the sine modes differs from the
         * continuum one at O(h^2) */
        CHECK_REL(surv, series, 5e-7, "survival at t = %g", ts[j]);
    }
    free(p);
    free(out);
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

/* batch, multi-time, in place and misaligned arrays give the single-call result bitwise */
static void test_batch_times_alignment(void)
{
    size_t n[2] = {20, 14};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bcs[3][2] = {{BERG_PERIODIC, BERG_PERIODIC},
                               {BERG_NEUMANN, BERG_DIRICHLET},
                               {BERG_PERIODIC, BERG_NEUMANN}};
    double gc[4] = {1, 0.3, 0.3, 2};
    for (int bi = 0; bi < 3; bi++) {
        berg_space *s = tu_space(2, n, lo, hi, bcs[bi], bi == 0 ? gc : NULL);
        size_t N = berg_space_size(s), B = 3;
        berg_heat *h1 = heat_of(s, 0), *hb = NULL;
        CHECK_STATUS(berg_heat_create_ex(&hb, s, B, 1, 0), BERG_OK, "batch create");
        CHECK(berg_heat_batch(hb) == B && berg_heat_batch(h1) == 1 && berg_heat_batch(NULL) == 0,
              "berg_heat_batch");
        double *in = tu_vec(B * N), *ob = tu_vec(B * N), *o1 = tu_vec(N);
        unsigned long long seed = 7;
        for (size_t i = 0; i < B * N; i++)
            in[i] = tu_uniform(&seed);
        CHECK_STATUS(berg_heat_apply_batch(hb, 0.01, B, in, ob), BERG_OK, "apply batch");
        for (size_t b = 0; b < B; b++) {
            berg_heat_apply(h1, 0.01, in + b * N, o1);
            CHECK(memcmp(o1, ob + b * N, N * sizeof(double)) == 0 ||
                      tu_max_abs_diff(o1, ob + b * N, N) < 1e-15,
                  "bc %d batch member %zu equals the single call (diff %.3g)", bi, b,
                  tu_max_abs_diff(o1, ob + b * N, N));
        }
        /* multi-time from one forward transform */
        double ts[4] = {0.02, 0.0, 0.001, 0.02};
        double *ot = tu_vec(4 * N);
        CHECK_STATUS(berg_heat_apply_times(h1, 4, ts, in, ot), BERG_OK, "apply times");
        for (int j = 0; j < 4; j++) {
            berg_heat_apply(h1, ts[j], in, o1);
            CHECK(memcmp(o1, ot + (size_t)j * N, N * sizeof(double)) == 0,
                  "bc %d time %d equals the single call bitwise (diff %.3g)", bi, j,
                  tu_max_abs_diff(o1, ot + (size_t)j * N, N));
        }
        /* multi-time on a batch handle, in place on the first block */
        double *ip = tu_vec(2 * B * N);
        memcpy(ip, in, B * N * sizeof(double));
        double t2[2] = {0.005, 0.0};
        CHECK_STATUS(berg_heat_apply_times(hb, 2, t2, ip, ip), BERG_OK, "times in place");
        berg_heat_apply_batch(hb, 0.005, B, in, ob);
        CHECK(memcmp(ip, ob, B * N * sizeof(double)) == 0, "in-place multi-time block 0");
        CHECK(memcmp(ip + B * N, in, B * N * sizeof(double)) == 0, "in-place multi-time t = 0");
        /* misaligned in and out (offset by one double) and in place */
        double *raw = tu_vec(N + 1), *raw2 = tu_vec(N + 1);
        memcpy(raw + 1, in, N * sizeof(double));
        berg_heat_apply(h1, 0.01, in, o1);
        CHECK_STATUS(berg_heat_apply(h1, 0.01, raw + 1, raw2 + 1), BERG_OK, "misaligned");
        CHECK(memcmp(o1, raw2 + 1, N * sizeof(double)) == 0, "misaligned result bitwise");
        CHECK_STATUS(berg_heat_apply(h1, 0.01, raw + 1, raw + 1), BERG_OK, "misaligned in place");
        CHECK(memcmp(o1, raw + 1, N * sizeof(double)) == 0, "misaligned in place bitwise");
        memcpy(ob, in, N * sizeof(double));
        berg_heat_apply(h1, 0.01, ob, ob);
        CHECK(memcmp(o1, ob, N * sizeof(double)) == 0, "in place bitwise");
        free(raw);
        free(raw2);
        free(ip);
        free(ot);
        free(in);
        free(ob);
        free(o1);
        berg_heat_destroy(h1);
        berg_heat_destroy(hb);
        berg_space_destroy(s);
    }
}

/* batch and multi-time through the two-stage transform (coupled periodic
 * axes beside a Dirichlet axis), misaligned */
static void test_batch_two_stage(void)
{
    size_t n[3] = {6, 8, 5};
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    berg_boundary bc[3] = {BERG_PERIODIC, BERG_DIRICHLET, BERG_PERIODIC};
    double g[9] = {1, 0, 0.4, 0, 1, 0, 0.4, 0, 1};
    berg_space *s = tu_space(3, n, lo, hi, bc, g);
    size_t N = berg_space_size(s), B = 2;
    berg_heat *h1 = heat_of(s, 0), *hb = NULL;
    CHECK_STATUS(berg_heat_create_ex(&hb, s, B, 1, 0), BERG_OK, "batch create");
    double *in = tu_vec(B * N + 1), *ob = tu_vec(B * N + 1), *o1 = tu_vec(N), *ot = tu_vec(2 * B * N);
    unsigned long long seed = 17;
    for (size_t i = 0; i < B * N + 1; i++)
        in[i] = tu_uniform(&seed);
    /* misaligned batch (offset one double) */
    CHECK_STATUS(berg_heat_apply_batch(hb, 0.01, B, in + 1, ob + 1), BERG_OK, "batch");
    for (size_t b = 0; b < B; b++) {
        berg_heat_apply(h1, 0.01, in + 1 + b * N, o1);
        CHECK(tu_max_abs_diff(o1, ob + 1 + b * N, N) < 1e-15, "two-stage batch member %zu (%.3g)",
              b, tu_max_abs_diff(o1, ob + 1 + b * N, N));
    }
    double ts[2] = {0.03, 0.01};
    CHECK_STATUS(berg_heat_apply_times(hb, 2, ts, in + 1, ot), BERG_OK, "times");
    CHECK(memcmp(ot + B * N, ob + 1, B * N * sizeof(double)) == 0, "two-stage multi-time bitwise");
    free(in);
    free(ob);
    free(o1);
    free(ot);
    berg_heat_destroy(h1);
    berg_heat_destroy(hb);
    berg_space_destroy(s);
}

/* FD symbol: modes decay with the FD eigenvalue, the generator is the
 * cell-centred stencil with reflecting / antisymmetric ghosts, positivity */
static void test_fd_symbol(void)
{
    const size_t n = 40;
    double lo = 0, hi = 1, hh = 1.0 / 40;
    berg_boundary kinds[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    for (int b = 0; b < 3; b++) {
        berg_space *s = tu_space(1, &n, &lo, &hi, &kinds[b], NULL);
        berg_heat *h = heat_of(s, BERG_SYMBOL_FD | BERG_PLAN_ESTIMATE);
        double p[40], out[40], lap[40];
        unsigned long long seed = 3;
        for (size_t i = 0; i < n; i++)
            p[i] = tu_uniform(&seed);
        /* generator by a centred difference in t */
        /* Richardson extrapolation of forward differences: (4 D_dt - D_2dt) / 2 */
        double dt = 1e-7, plus[40], minus[40];
        berg_heat_apply(h, dt, p, plus);
        berg_heat_apply(h, 2 * dt, p, minus);
        for (size_t i = 0; i < n; i++)
            out[i] = (4 * (plus[i] - p[i]) - (minus[i] - p[i])) / (2 * dt);
        for (size_t i = 0; i < n; i++) {
            double l, r;
            if (i > 0)
                l = p[i - 1];
            else
                l = kinds[b] == BERG_PERIODIC ? p[n - 1] : kinds[b] == BERG_NEUMANN ? p[0] : -p[0];
            if (i + 1 < n)
                r = p[i + 1];
            else
                r = kinds[b] == BERG_PERIODIC ? p[0] : kinds[b] == BERG_NEUMANN ? p[n - 1]
                                                                                 : -p[n - 1];
            lap[i] = (l - 2 * p[i] + r) / (hh * hh);
        }
        double err = 0, scale = 0;
        for (size_t i = 0; i < n; i++) {
            err = fmax(err, fabs(out[i] - lap[i]));
            scale = fmax(scale, fabs(lap[i]));
        }
        /* Richardson leaves O((dt |L|)^2) ~ 4e-7 relative, rounding ~1e-16/dt */
        CHECK(err < 1e-6 * scale, "bc %d FD generator is the 3-point stencil: %.3g of %.3g", b,
              err, scale);
        /* positivity of a point mass */
        double d[40] = {0};
        d[b == 0 ? 0 : 20] = 1.0 / hh;
        berg_heat_apply(h, 0.002, d, out);
        double mn = out[0], mx = out[0];
        for (size_t i = 0; i < n; i++) {
            mn = fmin(mn, out[i]);
            mx = fmax(mx, out[i]);
        }
        CHECK(mn >= -1e-14 * mx, "bc %d FD heat kernel non-negative (min %.3g)", b, mn);
        /* a mode decays with the FD eigenvalue */
        double k = (kinds[b] == BERG_DIRICHLET) ? M_PI * 4 : (kinds[b] == BERG_NEUMANN) ? M_PI * 3
                                                                                          : 2 * M_PI * 3;
        double x[40];
        berg_space_coordinates(s, 0, x);
        for (size_t i = 0; i < n; i++)
            p[i] = kinds[b] == BERG_DIRICHLET ? sin(k * x[i]) : cos(k * x[i]);
        double lam = 4 / (hh * hh) * sin(k * hh / 2) * sin(k * hh / 2), t = 0.003;
        berg_heat_apply(h, t, p, out);
        err = 0;
        for (size_t i = 0; i < n; i++)
            err = fmax(err, fabs(out[i] - exp(-lam * t) * p[i]));
        CHECK(err < 2e-15, "bc %d FD mode decay: %.3g", b, err);
        berg_heat_destroy(h);
        berg_space_destroy(s);
    }
    /* the spectral symbol rings slightly negative on a point mass; FD does not */
    {
        const size_t m = 64;
        berg_space *s = tu_space(1, &m, &lo, &hi, NULL, NULL);
        berg_heat *hs = heat_of(s, 0), *hf = heat_of(s, BERG_SYMBOL_FD);
        double d[64] = {0}, o[64];
        d[10] = 64;
        berg_heat_apply(hs, 1e-5, d, o);
        double mn = 0;
        for (size_t i = 0; i < m; i++)
            mn = fmin(mn, o[i]);
        CHECK(mn < -1e-3, "spectral kernel of a point mass rings negative at small t (min %g)", mn);
        berg_heat_apply(hf, 1e-5, d, o);
        mn = 0;
        double mx = 0;
        for (size_t i = 0; i < m; i++) {
            mn = fmin(mn, o[i]);
            mx = fmax(mx, o[i]);
        }
        /* exactly positive in exact arithmetic; FFT rounding is ~1e-16 of the peak */
        CHECK(mn >= -1e-15 * mx, "FD kernel of a point mass non-negative to rounding (min %g)",
              mn);
        berg_heat_destroy(hs);
        berg_heat_destroy(hf);
        berg_space_destroy(s);
    }
}

/* threads: a 2-thread handle gives the single-thread result */
static void test_threads(void)
{
    size_t n[2] = {64, 48};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    berg_heat *h1 = heat_of(s, BERG_PLAN_ESTIMATE), *h2 = NULL;
    /* the host program's FFTW threading setting survives our planning */
    fftw_plan_with_nthreads(3);
    CHECK_STATUS(berg_heat_create_ex(&h2, s, 1, 2, BERG_PLAN_ESTIMATE), BERG_OK, "2 threads");
    CHECK(fftw_planner_nthreads() == 3, "host's fftw_plan_with_nthreads restored (%d)",
          fftw_planner_nthreads());
    fftw_plan_with_nthreads(1);
    size_t N = berg_space_size(s);
    double *p = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N);
    unsigned long long seed = 11;
    for (size_t i = 0; i < N; i++)
        p[i] = tu_uniform(&seed);
    berg_heat_apply(h1, 0.01, p, a);
    CHECK_STATUS(berg_heat_apply(h2, 0.01, p, b), BERG_OK, "apply 2 threads");
    CHECK(tu_max_abs_diff(a, b, N) < 1e-15, "threads agree: %.3g", tu_max_abs_diff(a, b, N));
    free(p);
    free(a);
    free(b);
    berg_heat_destroy(h1);
    berg_heat_destroy(h2);
    berg_space_destroy(s);
}

/* creation is safe from several threads at once (the planner lock);
 * each thread applies its own handle */
typedef struct {
    const berg_space *s;
    unsigned flags;
    double out[48 * 40];
    berg_status st;
} thr_arg;

static void *thread_main(void *v)
{
    thr_arg *a = v;
    berg_heat *h = NULL;
    a->st = berg_heat_create(&h, a->s, a->flags);
    if (a->st != BERG_OK)
        return NULL;
    double in[48 * 40];
    for (size_t i = 0; i < 48 * 40; i++)
        in[i] = (double)(i % 13);
    a->st = berg_heat_apply(h, 0.003, in, a->out);
    berg_heat_destroy(h);
    return NULL;
}

static void test_concurrent_creation(void)
{
    size_t n[2] = {48, 40};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    enum { NT = 4 };
    pthread_t th[NT];
    static thr_arg args[NT];
    for (int i = 0; i < NT; i++) {
        args[i].s = s;
        args[i].flags = (i % 2) ? BERG_PLAN_ESTIMATE : 0u;
        pthread_create(&th[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NT; i++) {
        CHECK(args[i].st == BERG_OK, "thread %d: %s", i, berg_status_string(args[i].st));
        CHECK(tu_max_abs_diff(args[i].out, args[0].out, 48 * 40) < 1e-14,
              "thread %d result agrees (%.3g)", i, tu_max_abs_diff(args[i].out, args[0].out, 48 * 40));
    }
    berg_space_destroy(s);
}

static void test_bad_input(void)
{
    const size_t n = 16;
    double lo = 0, hi = 1;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_heat *h = heat_of(s, 0), *hx = NULL;
    double in[16], out[16], big[32];
    tu_fill(in, 16, 1.0);
    const double S = -7.25;
    CHECK_STATUS(berg_heat_create(NULL, s, 0), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_heat_create(&hx, NULL, 0), BERG_ERR_NULL, "NULL space");
    CHECK_MESSAGE("space", "NULL space message");
    CHECK_STATUS(berg_heat_create(&hx, s, 0x40u), BERG_ERR_DOMAIN, "unknown flag");
    CHECK_STATUS(berg_heat_create_ex(&hx, s, 0, 1, 0), BERG_ERR_SIZE, "batch 0");
    CHECK_MESSAGE("batch", "batch message");
    CHECK_STATUS(berg_heat_create_ex(&hx, s, 1, 0, 0), BERG_ERR_DOMAIN, "0 threads");
    CHECK(hx == NULL, "out untouched on failed create");
    double bad_t[4] = {-1.0, NAN, INFINITY, -0.0 - 1e-300};
    for (int i = 0; i < 4; i++) {
        tu_fill(out, 16, S);
        CHECK_STATUS(berg_heat_apply(h, bad_t[i], in, out), BERG_ERR_TIME, "bad t %d", i);
        CHECK_MESSAGE("t = ", "time message");
        CHECK(tu_untouched(out, 16, S), "out untouched for bad t %d", i);
    }
    CHECK_STATUS(berg_heat_apply(NULL, 0.1, in, out), BERG_ERR_NULL, "NULL heat");
    CHECK_STATUS(berg_heat_apply(h, 0.1, NULL, out), BERG_ERR_NULL, "NULL in");
    CHECK_MESSAGE("in is NULL", "in message");
    CHECK_STATUS(berg_heat_apply(h, 0.1, in, NULL), BERG_ERR_NULL, "NULL out");
    tu_fill(out, 16, S);
    CHECK_STATUS(berg_heat_apply_batch(h, 0.1, 0, in, out), BERG_ERR_SIZE, "count 0");
    CHECK_MESSAGE("count", "count message");
    CHECK_STATUS(berg_heat_apply_batch(h, 0.1, 2, in, out), BERG_ERR_MISMATCH, "count 2 vs 1");
    CHECK(tu_untouched(out, 16, S), "out untouched for bad counts");
    berg_heat *hb = NULL;
    berg_heat_create_ex(&hb, s, 2, 1, BERG_PLAN_ESTIMATE);
    tu_fill(big, 32, S);
    CHECK_STATUS(berg_heat_apply(hb, 0.1, in, big), BERG_ERR_MISMATCH, "apply on a batch handle");
    CHECK(tu_untouched(big, 32, S), "untouched");
    double ts[3] = {0.1, -0.5, 0.2};
    CHECK_STATUS(berg_heat_apply_times(h, 3, ts, in, big), BERG_ERR_TIME, "bad time in list");
    CHECK_MESSAGE("t[1]", "names the bad time index");
    CHECK(tu_untouched(big, 32, S), "untouched after bad time list");
    CHECK_STATUS(berg_heat_apply_times(h, 0, ts, in, big), BERG_ERR_SIZE, "nt 0");
    CHECK_STATUS(berg_heat_apply_times(h, 1, NULL, in, big), BERG_ERR_NULL, "NULL times");
    berg_heat_destroy(NULL);
    berg_heat_destroy(hb);
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

static void test_wisdom(void)
{
    char *w = NULL;
    CHECK_STATUS(berg_wisdom_export_string(&w), BERG_OK, "export");
    CHECK(w != NULL && strstr(w, "fftw_wisdom") != NULL, "wisdom looks like wisdom");
    CHECK_STATUS(berg_wisdom_import_string(w), BERG_OK, "reimport");
    CHECK_STATUS(berg_wisdom_import_string("this is not wisdom"), BERG_ERR_PARSE, "bad wisdom");
    CHECK_STATUS(berg_wisdom_import_string(NULL), BERG_ERR_NULL, "NULL wisdom");
    CHECK_STATUS(berg_wisdom_export_string(NULL), BERG_ERR_NULL, "NULL out");
    berg_free(w);
    char path[] = "/tmp/berg_test_wisdom_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "temp file");
    if (fd >= 0) {
        FILE *f = fdopen(fd, "w");
        fputs("(not wisdom at all)", f);
        fclose(f);
        CHECK_STATUS(berg_wisdom_import_file(path), BERG_ERR_PARSE, "file that is not wisdom");
        CHECK_STATUS(berg_wisdom_export_file(path), BERG_OK, "export file");
        CHECK_STATUS(berg_wisdom_import_file(path), BERG_OK, "import file");
        remove(path);
    }
    CHECK_STATUS(berg_wisdom_import_file("/nonexistent/dir/wisdom"), BERG_ERR_IO, "missing file");
    CHECK_MESSAGE("/nonexistent/dir/wisdom", "names the file");
    CHECK_STATUS(berg_wisdom_export_file("/nonexistent/dir/wisdom"), BERG_ERR_IO, "unwritable");
    CHECK_STATUS(berg_wisdom_import_file(NULL), BERG_ERR_NULL, "NULL path");
}

/* a flag of another creator is refused, names the flag, leaves out alone */
static void test_foreign_flags(void)
{
    const size_t n = 16;
    double lo = 0, hi = 1;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_heat *sentinel = (berg_heat *)(void *)&n, *h = sentinel;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_FP_FOURIER), BERG_ERR_DOMAIN,
                 "BERG_FP_FOURIER refused");
    CHECK_MESSAGE("BERG_FP_FOURIER", "names the flag");
    CHECK_MESSAGE("berg_heat_create", "names the function");
    CHECK_STATUS(berg_heat_create_ex(&h, s, 1, 1, BERG_SINKHORN_LOG_DOMAIN | BERG_PLAN_ESTIMATE),
                 BERG_ERR_DOMAIN, "BERG_SINKHORN_LOG_DOMAIN refused");
    CHECK_MESSAGE("BERG_SINKHORN_LOG_DOMAIN", "names the flag");
    CHECK_MESSAGE("berg_heat_create_ex", "names the function the caller called");
    CHECK(h == sentinel, "out untouched");
    berg_space_destroy(s);
}

/* ---- one handle applied from 8 threads at once ---------------------------- */

#define MT_THREADS 8
#define MT_ROUNDS 12

typedef struct {
    const berg_heat *h;
    const double *in;
    size_t N;
    int id;
    double *out; /* 4 * N: apply at t_id, apply_times at {t_id / 2, 0, t_id} */
    int failures;
} mt_arg;

static double mt_time(int id) { return 0.002 * (1 + id % 3); }

static void *mt_main(void *v)
{
    mt_arg *a = v;
    double *o = malloc(4 * a->N * sizeof(double));
    double t = mt_time(a->id), ts[3] = {0.5 * t, 0.0, t};
    for (int r = 0; r < MT_ROUNDS; r++) {
        int bad = berg_heat_apply(a->h, t, a->in, o) != BERG_OK ||
                  berg_heat_apply_times(a->h, 3, ts, a->in, o + a->N) != BERG_OK;
        if (bad || (r > 0 && memcmp(o, a->out, 4 * a->N * sizeof(double)) != 0))
            a->failures++;
        memcpy(a->out, o, 4 * a->N * sizeof(double));
    }
    free(o);
    return NULL;
}

static void mt_case(const berg_space *s, const char *what)
{
    berg_heat *h = heat_of(s, BERG_PLAN_ESTIMATE);
    size_t N = berg_space_size(s);
    double *in = tu_vec(N), *ref = tu_vec(4 * N * MT_THREADS), *got = tu_vec(4 * N * MT_THREADS);
    for (size_t i = 0; i < N; i++)
        in[i] = sin(0.37 * (double)i) + 0.1 * (double)(i % 7);
    for (int j = 0; j < MT_THREADS; j++) {
        double *o = ref + 4 * N * (size_t)j, t = mt_time(j), ts[3] = {0.5 * t, 0.0, t};
        berg_heat_apply(h, t, in, o);
        berg_heat_apply_times(h, 3, ts, in, o + N);
    }
    pthread_t th[MT_THREADS];
    mt_arg args[MT_THREADS];
    for (int j = 0; j < MT_THREADS; j++) {
        args[j] = (mt_arg){h, in, N, j, got + 4 * N * (size_t)j, 0};
        pthread_create(&th[j], NULL, mt_main, &args[j]);
    }
    int failures = 0;
    for (int j = 0; j < MT_THREADS; j++) {
        pthread_join(th[j], NULL);
        failures += args[j].failures;
    }
    CHECK(failures == 0, "%s: every call succeeded and repeated itself (%d failures)", what,
          failures);
    CHECK(memcmp(ref, got, 4 * N * MT_THREADS * sizeof(double)) == 0,
          "%s: 8 threads on one handle = serial results, bitwise", what);
    free(in), free(ref), free(got);
    berg_heat_destroy(h);
}

static void test_one_handle_8_threads(void)
{
    size_t n[2] = {64, 48};
    double lo[2] = {0, 0}, hi[2] = {1, 1}, g[4] = {1.3, 0.2, 0.2, 0.9};
    berg_boundary mixed[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, mixed, NULL);
    mt_case(s, "separable, Neumann x periodic");
    berg_space_destroy(s);
    s = tu_space(2, n, lo, hi, NULL, g);
    mt_case(s, "coupled periodic");
    berg_space_destroy(s);
}

/* ---- information of the heat channel -------------------------------------- */

/* Gaussian N(mu, Sigma) (2-D), normalized on the grid */
static void gaussian2(const berg_space *s, const double *mu, const double *Sig, double *p)
{
    double det = Sig[0] * Sig[3] - Sig[1] * Sig[2];
    double P[4] = {Sig[3] / det, -Sig[1] / det, -Sig[1] / det, Sig[0] / det};
    for (size_t k = 0; k < berg_space_size(s); k++) {
        double x[2], q = 0.0;
        tu_grid_point(s, k, x);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                q += (x[a] - mu[a]) * P[a * 2 + b] * (x[b] - mu[b]);
        p[k] = exp(-0.5 * q);
    }
    berg_space_normalize(s, p, NULL);
}

static void smooth_random(const berg_space *s, double *p, unsigned long long seed, double amp)
{
    double c[6];
    for (int i = 0; i < 6; i++)
        c[i] = amp * (2.0 * tu_uniform(&seed) - 1.0);
    for (size_t k = 0; k < berg_space_size(s); k++) {
        double x[8] = {0};
        tu_grid_point(s, k, x);
        p[k] = exp(c[0] * sin(x[0] + c[5]) + c[1] * cos(2.0 * x[0]) + c[2] * sin(x[1] + 0.3) +
                   c[3] * cos(x[0] + x[1]) + c[4] * x[0] * 0.1);
    }
    berg_space_normalize(s, p, NULL);
}

static void test_channel_information(void)
{
    /* against the brute-force information of the channel matrix */
    size_t n[2] = {12, 10};
    double lo[2] = {0, 0}, hi[2] = {3, 2}, g[4] = {1.2, 0, 0, 0.8};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, g);
    size_t N = berg_space_size(s);
    double *p = calloc(N, sizeof(double)), *K = calloc(N * N, sizeof(double));
    double *pt = calloc(N, sizeof(double)), w = berg_space_cell_weight(s);
    smooth_random(s, p, 2, 1.2);
    berg_heat *fd = heat_of(s, BERG_SYMBOL_FD | BERG_PLAN_ESTIMATE);
    berg_heat *sp = heat_of(s, BERG_PLAN_ESTIMATE);
    double t = 0.05;
    if (fd && sp) {
        for (size_t j = 0; j < N; j++) {
            double *col = K + j * N;
            col[j] = 1.0 / w;
            berg_heat_apply(fd, t, col, col); /* density of X_t given X_0 = cell j */
        }
        berg_heat_apply(fd, t, p, pt);
        double mi = 0.0;
        for (size_t j = 0; j < N; j++)
            for (size_t i = 0; i < N; i++) {
                double kij = K[j * N + i];
                if (kij > 0)
                    mi += w * p[j] * w * kij * log(kij / pt[i]);
            }
        double I;
        CHECK_STATUS(berg_heat_channel_information(fd, t, p, &I), BERG_OK, "channel information");
        CHECK_REL(I, mi, 1e-10, "I(X0;Xt) = brute-force channel information");
        /* t = 0: the discrete entropy of the cell probabilities */
        double H = 0;
        for (size_t i = 0; i < N; i++)
            H -= w * p[i] * log(w * p[i]);
        CHECK_STATUS(berg_heat_channel_information(sp, 0.0, p, &I), BERG_OK, "t = 0");
        CHECK_REL(I, H, 1e-12, "I(X0;X0) = H(X0)");
        /* data processing: information decreases with t */
        double I1, I2;
        berg_heat_channel_information(sp, 0.1, p, &I1);
        berg_heat_channel_information(sp, 0.4, p, &I2);
        CHECK(I2 < I1 && I1 < H, "information decreases along the heat flow");
    }
    berg_heat_destroy(fd);
    berg_heat_destroy(sp);
    free(K), free(pt), free(p);
    berg_space_destroy(s);

    /* Gaussian prior on a large periodic box with a metric: the kernel has
     * covariance 2t g^{-1}, so I = 1/2 ln det(1 + Sigma g / (2t)) */
    size_t n2[2] = {128, 128};
    double lo2[2] = {-16, -16}, hi2[2] = {16, 16}, g2[4] = {1.5, 0.4, 0.4, 0.8};
    double mu[2] = {0.5, -0.3}, Sig[4] = {2.0, 0.5, 0.5, 1.0};
    s = tu_space(2, n2, lo2, hi2, NULL, g2);
    N = berg_space_size(s);
    p = calloc(N, sizeof(double));
    gaussian2(s, mu, Sig, p);
    berg_heat *h = heat_of(s, BERG_PLAN_ESTIMATE);
    double tt[2] = {0.5, 2.0};
    for (int c = 0; c < 2; c++) {
        double I, A[4];
        /* A = Sigma g / (2t) */
        A[0] = (Sig[0] * g2[0] + Sig[1] * g2[2]) / (2 * tt[c]);
        A[1] = (Sig[0] * g2[1] + Sig[1] * g2[3]) / (2 * tt[c]);
        A[2] = (Sig[2] * g2[0] + Sig[3] * g2[2]) / (2 * tt[c]);
        A[3] = (Sig[2] * g2[1] + Sig[3] * g2[3]) / (2 * tt[c]);
        double want = 0.5 * log((1 + A[0]) * (1 + A[3]) - A[1] * A[2]);
        CHECK_STATUS(berg_heat_channel_information(h, tt[c], p, &I), BERG_OK,
                     "Gaussian information");
        CHECK_REL(I, want, 1e-8, "Gaussian I = 1/2 ln det(1 + Sigma g / 2t), t = %g", tt[c]);
    }
    berg_heat_destroy(h);
    free(p);
    berg_space_destroy(s);
}

static void test_channel_bad_input(void)
{
    size_t n = 16;
    double lo = 0, hi = 1;
    berg_boundary dir = BERG_DIRICHLET;
    berg_space *s = tu_space(1, &n, &lo, &hi, NULL, NULL);
    berg_space *sd = tu_space(1, &n, &lo, &hi, &dir, NULL);
    berg_heat *h = heat_of(s, BERG_PLAN_ESTIMATE), *hfd = heat_of(s, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD);
    berg_heat *hd = heat_of(sd, BERG_PLAN_ESTIMATE), *hb = NULL;
    double p[16], half[16], v = 1234.5;
    tu_fill(p, 16, 1.0);
    tu_fill(half, 16, 0.5);
    CHECK_STATUS(berg_heat_channel_information(h, -1.0, p, &v), BERG_ERR_TIME, "negative t");
    CHECK_STATUS(berg_heat_channel_information(h, 1e-5, p, &v), BERG_ERR_DOMAIN,
                 "spectral ringing of the kernel at t << h^2");
    CHECK_MESSAGE("BERG_SYMBOL_FD", "suggests the positive finite-difference kernel");
    CHECK(v == 1234.5, "output untouched");
    CHECK_STATUS(berg_heat_channel_information(hfd, 1e-5, p, &v), BERG_OK,
                 "positive kernel with BERG_SYMBOL_FD");
    v = 1234.5;
    CHECK_STATUS(berg_heat_channel_information(hd, 1.0, p, &v), BERG_ERR_UNSUPPORTED,
                 "Dirichlet channel");
    CHECK_STATUS(berg_heat_channel_information(h, 0.1, half, &v), BERG_ERR_MASS,
                 "unnormalized density refused");
    CHECK_STATUS(berg_heat_channel_information(NULL, 0.1, p, &v), BERG_ERR_NULL, "NULL heat");
    CHECK_STATUS(berg_heat_channel_information(h, 0.1, NULL, &v), BERG_ERR_NULL, "NULL p");
    CHECK_STATUS(berg_heat_channel_information(h, 0.1, p, NULL), BERG_ERR_NULL, "NULL info");
    berg_heat_create_ex(&hb, s, 2, 1, BERG_PLAN_ESTIMATE);
    CHECK_STATUS(berg_heat_channel_information(hb, 0.1, p, &v), BERG_ERR_MISMATCH,
                 "batch handle");
    CHECK(v == 1234.5, "output untouched");
    berg_heat_destroy(h);
    berg_heat_destroy(hfd);
    berg_heat_destroy(hd);
    berg_heat_destroy(hb);
    berg_space_destroy(s);
    berg_space_destroy(sd);
}

/* destruction does not wait for another thread's planning: with the
 * planner lock held (as during a long FFTW_MEASURE planning), a destroy on
 * another thread returns; its plans are destroyed when the lock is let go */
static volatile int destroy_done = 0;

static void *destroy_main(void *v)
{
    berg_heat_destroy(v);
    berg_multiplier_destroy(NULL);
    __atomic_store_n(&destroy_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_destroy_during_planning(void)
{
    size_t n[2] = {32, 24};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    berg_heat *h = heat_of(s, BERG_PLAN_ESTIMATE);
    berg__fftw_lock();
    pthread_t th;
    pthread_create(&th, NULL, destroy_main, h);
    for (int i = 0; i < 10000 && !__atomic_load_n(&destroy_done, __ATOMIC_SEQ_CST); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK(__atomic_load_n(&destroy_done, __ATOMIC_SEQ_CST),
          "berg_heat_destroy returned while another thread held the planner lock");
    berg__fftw_unlock(); /* destroys the deferred plans */
    pthread_join(th, NULL);
    /* the planner still works afterwards */
    berg_heat *h2 = heat_of(s, BERG_PLAN_ESTIMATE);
    double in[32 * 24], out[32 * 24];
    tu_fill(in, 32 * 24, 1.0);
    CHECK_STATUS(berg_heat_apply(h2, 0.01, in, out), BERG_OK, "apply after deferred destroy");
    CHECK_REL(out[100], 1.0, 1e-13, "constants are preserved");
    berg_heat_destroy(h2);
    berg_space_destroy(s);
}

/* arrays of 2^20 values or more are scanned in 16 fixed ranges on the
 * handle's threads: a NaN or an infinity in any range is refused with out
 * unchanged, 1 and 2 threads give the same bits, and inputs scaled by
 * 2^-600 and 2^1000 (the scaled route) give the result scaled */
static void test_large_scan(void)
{
    size_t n[2] = {1024, 1025}; /* 2^20 + 1024 values: ranges of unequal ends */
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    berg_heat *h1 = NULL, *h2 = NULL;
    CHECK_STATUS(berg_heat_create_ex(&h1, s, 1, 1, BERG_HEAT_SPECTRAL | BERG_PLAN_ESTIMATE),
                 BERG_OK, "large scan create 1");
    CHECK_STATUS(berg_heat_create_ex(&h2, s, 1, 2, BERG_HEAT_SPECTRAL | BERG_PLAN_ESTIMATE),
                 BERG_OK, "large scan create 2");
    double *in = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N), *c = tu_vec(N);
    unsigned long long seed = 99;
    for (size_t i = 0; i < N; i++)
        in[i] = tu_uniform(&seed) - 0.25;
    double t = 1e-5;
    CHECK_STATUS(berg_heat_apply(h1, t, in, a), BERG_OK, "large scan, 1 thread");
    CHECK_STATUS(berg_heat_apply(h2, t, in, b), BERG_OK, "large scan, 2 threads");
    CHECK(memcmp(a, b, N * sizeof(double)) == 0, "large scan: 1 and 2 threads differ");
    static const int sh[2] = {-600, 1000};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < N; i++)
            c[i] = ldexp(in[i], sh[k]);
        CHECK_STATUS(berg_heat_apply(h2, t, c, b), BERG_OK, "large scan 2^%d", sh[k]);
        size_t bad = 0;
        for (size_t i = 0; i < N; i++)
            bad += b[i] != ldexp(a[i], sh[k]);
        CHECK(bad == 0, "large scan: input times 2^%d gave %zu values not the result times it",
              sh[k], bad);
    }
    const double odd[2] = {NAN, INFINITY};
    const size_t at[4] = {0, N / 16 - 1, N / 2 + 3, N - 1};
    for (int k = 0; k < 2; k++)
        for (int q = 0; q < 4; q++) {
            memcpy(c, in, N * sizeof(double));
            c[at[q]] = odd[k];
            for (size_t i = 0; i < N; i++)
                b[i] = 7.0;
            CHECK_STATUS(berg_heat_apply(h2, t, c, b), BERG_ERR_NONFINITE,
                         "large scan: %g at %zu", odd[k], at[q]);
            size_t changed = 0;
            for (size_t i = 0; i < N; i++)
                changed += b[i] != 7.0;
            CHECK(changed == 0, "large scan: refused, but %zu values of out written", changed);
        }
    free(in);
    free(a);
    free(b);
    free(c);
    berg_heat_destroy(h1);
    berg_heat_destroy(h2);
    berg_space_destroy(s);
}

int main(void)
{
    test_modes_1d();
    test_metric_modes();
    test_gaussian_spreading();
    test_algebra();
    test_3d_4d();
    test_coupled_mixed_and_tiny();
    test_survival();
    test_batch_times_alignment();
    test_batch_two_stage();
    test_fd_symbol();
    test_threads();
    test_concurrent_creation();
    test_bad_input();
    test_wisdom();
    test_foreign_flags();
    test_one_handle_8_threads();
    test_channel_information();
    test_channel_bad_input();
    test_destroy_during_planning();
    test_large_scan();
    return test_summary("heat");
}
