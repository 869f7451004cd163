/*
 * tests/propagator/ou_reference.h - the 2-D Ornstein-Uhlenbeck reference
 * shared by the Fokker-Planck and particle tests: for V = x^T A x / 2 and
 * an inverse metric gi, B = gi A, the mean obeys dm/dt = -B m and the
 * covariance the Lyapunov equation dS/dt = -B S - S B^T + 2 gi. Integrated
 * by RK4 with 20000 steps (an independent method: error ~ (t/20000)^4).
 */
#ifndef BERG_TEST_OU_REFERENCE_H
#define BERG_TEST_OU_REFERENCE_H

static void ou_lyapunov_rhs(const double *B, const double *gi, const double *S, double *dS)
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double v = 2 * gi[i * 2 + j];
            for (int k = 0; k < 2; k++)
                v -= B[i * 2 + k] * S[k * 2 + j] + S[i * 2 + k] * B[j * 2 + k];
            dS[i * 2 + j] = v;
        }
}

static void ou_mean_rhs(const double *B, const double *m, double *dm)
{
    for (int i = 0; i < 2; i++)
        dm[i] = -(B[i * 2] * m[0] + B[i * 2 + 1] * m[1]);
}

/* advance the mean m[2] and covariance S[4] (row-major) by time t */
static void ou_reference_2d(const double *B, const double *gi, double t, double *m, double *S)
{
    const int K = 20000;
    const double dt = t / K;
    for (int k = 0; k < K; k++) {
        double k1[4], k2[4], k3[4], k4[4], T[4];
        ou_lyapunov_rhs(B, gi, S, k1);
        for (int i = 0; i < 4; i++)
            T[i] = S[i] + 0.5 * dt * k1[i];
        ou_lyapunov_rhs(B, gi, T, k2);
        for (int i = 0; i < 4; i++)
            T[i] = S[i] + 0.5 * dt * k2[i];
        ou_lyapunov_rhs(B, gi, T, k3);
        for (int i = 0; i < 4; i++)
            T[i] = S[i] + dt * k3[i];
        ou_lyapunov_rhs(B, gi, T, k4);
        for (int i = 0; i < 4; i++)
            S[i] += dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        double a1[2], a2[2], a3[2], a4[2], u[2];
        ou_mean_rhs(B, m, a1);
        for (int i = 0; i < 2; i++)
            u[i] = m[i] + 0.5 * dt * a1[i];
        ou_mean_rhs(B, u, a2);
        for (int i = 0; i < 2; i++)
            u[i] = m[i] + 0.5 * dt * a2[i];
        ou_mean_rhs(B, u, a3);
        for (int i = 0; i < 2; i++)
            u[i] = m[i] + dt * a3[i];
        ou_mean_rhs(B, u, a4);
        for (int i = 0; i < 2; i++)
            m[i] += dt / 6 * (a1[i] + 2 * a2[i] + 2 * a3[i] + a4[i]);
    }
}

#endif
