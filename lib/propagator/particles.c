/*
 * Particle ensembles of the Fokker-Planck SDE
 *   dX = -g^{-1} grad V dt + sqrt(2) g^{-1/2} dW
 * by Euler-Maruyama (any V, gradient callback) and by the exact
 * Ornstein-Uhlenbeck transition (quadratic V), with reproducible noise:
 * particle j in call c draws from the xoshiro256** stream (seed, c 2^32 + j).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "berg/stochastic.h"
#include "core/linalg.h"
#include "space/internal.h"

#define PMAX BERG_MAX_RANK

struct berg_particles {
    size_t d;
    double ginv[PMAX * PMAX];       /* g^{-1} */
    double ginv_half[PMAX * PMAX];  /* g^{-1/2} */
    double g_half[PMAX * PMAX];     /* g^{1/2} */
    unsigned long long seed;
    unsigned long long calls;       /* successful stepping calls so far */
};

void berg_particles_destroy(berg_particles *ps) { berg__free(ps); }

/* W diag(f) W^T into out (d x d) */
static void sym_fun(size_t d, const double *W, const double *f, double *out)
{
    double work[PMAX * PMAX];
    berg__linalg_sym_function(d, W, f, work, out);
}

/* C = A B for d x d row-major matrices */
static void matmul(size_t d, const double *A, const double *B, double *C)
{
    const int n = (int)d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
}

berg_status berg_particles_create(berg_particles **out, size_t ndim, unsigned long long seed,
                                  const double *metric)
{
    static const char fn[] = "berg_particles_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(ndim >= 1 && ndim <= PMAX, BERG_ERR_DOMAIN, "%s: ndim = %zu must be in 1..%d",
                 fn, ndim, PMAX);
    const size_t d = ndim;
    double W[PMAX * PMAX] = {0}, ev[PMAX], f[PMAX];
    if (metric) {
        BERG_TRY(berg__linalg_check_symmetric(d, metric, fn, "metric"));
        memcpy(W, metric, d * d * sizeof(double));
        berg__linalg_symmetrize(d, W);
    } else {
        for (size_t a = 0; a < d; a++)
            W[a * d + a] = 1.0;
    }
    BERG_TRY(berg__linalg_eigh(d, W, ev, 1, fn, "metric"));
    /* ascending eigenvalues: the smallest decides definiteness */
    BERG_REQUIRE(ev[0] > 0.0, BERG_ERR_NOT_SPD,
                 "%s: metric is not positive definite (smallest eigenvalue %g)", fn, ev[0]);
    berg_particles *ps = berg__alloc(1, sizeof *ps, fn);
    if (!ps)
        return berg_last_status();
    memset(ps, 0, sizeof *ps);
    ps->d = d;
    ps->seed = seed;
    for (size_t k = 0; k < d; k++)
        f[k] = 1.0 / ev[k];
    sym_fun(d, W, f, ps->ginv);
    for (size_t k = 0; k < d; k++)
        f[k] = 1.0 / sqrt(ev[k]);
    sym_fun(d, W, f, ps->ginv_half);
    for (size_t k = 0; k < d; k++)
        f[k] = sqrt(ev[k]);
    sym_fun(d, W, f, ps->g_half);
    *out = ps;
    return BERG_OK;
}

/* the checks shared by the stepping functions; *total = count * d */
static berg_status check_ensemble(const berg_particles *ps, size_t count, const double *x,
                                  const char *fn, size_t *total)
{
    BERG_TRY(berg__check_ptr(ps, fn, "ps"));
    BERG_REQUIRE(count > 0, BERG_ERR_SIZE, "%s: count is 0 (no particles)", fn);
    BERG_REQUIRE((count >> 32) == 0, BERG_ERR_SIZE,
                 "%s: count %zu exceeds 2^32 noise streams per call", fn, count);
    BERG_TRY(berg__mul_size(count, ps->d, total, fn, "count x ndim"));
    /* the array must be able to exist before any element of it is read */
    BERG_TRY(berg__check_addressable(*total, sizeof(double), fn, "x (count x ndim doubles)"));
    return berg__check_finite(x, *total, fn, "x");
}

/* the first non-finite particle of y (total values), or count when none */
static size_t first_nonfinite(const double *y, size_t total, size_t d)
{
    for (size_t i = 0; i < total; i++)
        if (!isfinite(y[i]))
            return i / d;
    return total / d;
}

/* nsteps Euler-Maruyama steps of particle j (xj, d values) in place */
static berg_status euler_particle(const berg_particles *ps, unsigned long long call, size_t j,
                                  double *xj, double dt, size_t nsteps, berg_gradient_fn grad,
                                  void *user_data, const char *fn)
{
    const size_t d = ps->d;
    const double sq = sqrt(2.0 * dt);
    double gv[PMAX], xi[PMAX], step[PMAX];
    berg__rng rng;
    berg__rng_seed(&rng, ps->seed, (call << 32) + j);
    for (size_t s = 0; s < nsteps; s++) {
        int rc = grad(d, xj, gv, user_data);
        BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK,
                     "%s: grad returned %d for particle %zu at step %zu", fn, rc, j, s);
        BERG_TRY(berg__check_callback_output(gv, d, fn, "grad"));
        berg__rng_normals(&rng, xi, d);
        /* d <= BERG_MAX_RANK: plain loops (a BLAS call costs more than the work) */
        for (size_t a = 0; a < d; a++) {
            double drift = 0.0, noise = 0.0;
            for (size_t b = 0; b < d; b++) {
                drift += ps->ginv[a * d + b] * gv[b];
                noise += ps->ginv_half[a * d + b] * xi[b];
            }
            step[a] = -dt * drift + sq * noise;
        }
        for (size_t a = 0; a < d; a++)
            xj[a] += step[a];
    }
    return BERG_OK;
}

berg_status berg_particles_euler(berg_particles *ps, double dt, size_t nsteps, size_t count,
                                 double *x, berg_gradient_fn grad, void *user_data)
{
    static const char fn[] = "berg_particles_euler";
    size_t total;
    BERG_TRY(check_ensemble(ps, count, x, fn, &total));
    BERG_REQUIRE(grad != NULL, BERG_ERR_NULL, "%s: grad is NULL", fn);
    BERG_REQUIRE(dt > 0.0 && isfinite(dt), BERG_ERR_TIME, "%s: dt = %g must be finite and > 0",
                 fn, dt);
    berg_status st = BERG_OK;
    double *y = berg__alloc(total, sizeof(double), fn);
    if (!y)
        return berg_last_status();
    memcpy(y, x, total * sizeof(double));
    for (size_t j = 0; j < count; j++)
        BERG_TRY_GOTO(st, euler_particle(ps, ps->calls, j, y + j * ps->d, dt, nsteps, grad,
                                         user_data, fn),
                      fail);
    size_t bad = first_nonfinite(y, total, ps->d);
    if (bad < count) {
        st = berg__error(BERG_ERR_NONFINITE,
                         "%s: particle %zu left the finite range (dt = %g too large for this "
                         "potential?)",
                         fn, bad, dt);
        goto fail;
    }
    memcpy(x, y, total * sizeof(double));
    ps->calls++;
fail:
    berg__free(y);
    return st;
}

/* The exact OU transition over t: X_t - m = P (X_0 - m) + N xi with
 * P = g^{-1/2} U e^{-mu t} U^T g^{1/2} and N = g^{-1/2} U diag(s), where
 * g^{-1/2} A g^{-1/2} = U diag(mu) U^T and s_k^2 = (1 - e^{-2 mu_k t}) / mu_k. */
static berg_status ou_transition(const berg_particles *ps, double t, const double *A, double *P,
                                 double *Nm, const char *fn)
{
    const size_t d = ps->d;
    double M[PMAX * PMAX], T1[PMAX * PMAX], W[PMAX * PMAX], mu[PMAX], f[PMAX];
    matmul(d, ps->ginv_half, A, T1);
    matmul(d, T1, ps->ginv_half, M);
    berg__linalg_symmetrize(d, M);
    memcpy(W, M, d * d * sizeof(double));
    BERG_TRY(berg__linalg_eigh(d, W, mu, 1, fn, "g^{-1/2} A g^{-1/2}"));
    double E[PMAX * PMAX], US[PMAX * PMAX];
    for (size_t k = 0; k < d; k++)
        f[k] = exp(-mu[k] * t);
    sym_fun(d, W, f, E);
    matmul(d, ps->ginv_half, E, T1);
    matmul(d, T1, ps->g_half, P);
    for (size_t k = 0; k < d; k++) {
        double z = 2.0 * mu[k] * t;
        double var = (fabs(z) < 1e-300) ? 2.0 * t : -expm1(-z) / mu[k];
        f[k] = sqrt(var);
    }
    for (size_t i = 0; i < d; i++)
        for (size_t k = 0; k < d; k++)
            US[i * d + k] = W[i * d + k] * f[k];
    matmul(d, ps->ginv_half, US, Nm);
    for (size_t i = 0; i < d * d; i++)
        BERG_REQUIRE(isfinite(P[i]) && isfinite(Nm[i]), BERG_ERR_DOMAIN,
                     "%s: the transition over t = %g overflows (A has a negative eigenvalue %g)",
                     fn, t, mu[0]);
    return BERG_OK;
}

berg_status berg_particles_ou(berg_particles *ps, double t, size_t count, const double *A,
                              const double *m, double *x)
{
    static const char fn[] = "berg_particles_ou";
    size_t total;
    BERG_TRY(check_ensemble(ps, count, x, fn, &total));
    BERG_TRY(berg__check_ptr(A, fn, "A"));
    BERG_TRY(berg__check_time(t, fn, "t"));
    const size_t d = ps->d;
    if (m)
        BERG_TRY(berg__check_finite(m, d, fn, "m"));
    BERG_TRY(berg__linalg_check_symmetric(d, A, fn, "A"));
    double P[PMAX * PMAX], Nm[PMAX * PMAX];
    BERG_TRY(ou_transition(ps, t, A, P, Nm, fn));
    berg_status st = BERG_OK;
    double *y = berg__alloc(total, sizeof(double), fn);
    if (!y)
        return berg_last_status();
    double xi[PMAX], dx[PMAX];
    for (size_t j = 0; j < count; j++) {
        berg__rng rng;
        berg__rng_seed(&rng, ps->seed, (ps->calls << 32) + j);
        const double *xj = x + j * d;
        for (size_t a = 0; a < d; a++)
            dx[a] = xj[a] - (m ? m[a] : 0.0);
        berg__rng_normals(&rng, xi, d);
        for (size_t a = 0; a < d; a++) {
            double a1 = 0.0, a2 = 0.0;
            for (size_t b = 0; b < d; b++) {
                a1 += P[a * d + b] * dx[b];
                a2 += Nm[a * d + b] * xi[b];
            }
            y[j * d + a] = (m ? m[a] : 0.0) + a1 + a2;
        }
    }
    size_t bad = first_nonfinite(y, total, d);
    if (bad < count) {
        st = berg__error(BERG_ERR_DOMAIN, "%s: particle %zu overflowed", fn, bad);
        goto fail;
    }
    memcpy(x, y, total * sizeof(double));
    ps->calls++;
fail:
    berg__free(y);
    return st;
}
