/*
 * Particle ensembles of the Fokker-Planck SDE (seed eq 27-31)
 *   dX = -g^{-1} grad V dt + sqrt(2) g^{-1/2} dW
 * by Euler-Maruyama (any V, gradient callback) and by the exact
 * Ornstein-Uhlenbeck transition (quadratic V), with reproducible noise:
 * particle j in call c draws from the xoshiro256** stream (seed, c 2^32 + j).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "berg/stochastic.h"
#include "space/internal.h"

#define PMAX BERG_MAX_RANK

struct berg_particles {
    int d;
    double ginv[PMAX * PMAX];       /* g^{-1} */
    double ginv_half[PMAX * PMAX];  /* g^{-1/2} */
    double g_half[PMAX * PMAX];     /* g^{1/2} */
    unsigned long long seed;
    unsigned long long calls;
};

void berg_particles_destroy(berg_particles *ps) { berg__free(ps); }

/* symmetric check + eigen-decomposition of a d x d matrix: W (columns) and ev */
static berg_status sym_eig(int d, const double *A, double *W, double *ev, const char *fn,
                           const char *name)
{
    berg_status st = berg__check_symmetric(A, (size_t)d, 1e-12, fn, name);
    if (st != BERG_OK)
        return st;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            W[i * d + j] = 0.5 * (A[i * d + j] + A[j * d + i]);
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', d, W, d, ev);
    if (info != 0)
        return berg__error(BERG_ERR_INTERNAL, "%s: LAPACKE_dsyev failed on %s (info %d)", fn,
                           name, (int)info);
    return BERG_OK;
}

/* out = W diag(f) W^T */
static void sym_fun(int d, const double *W, const double *f, double *out)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int k = 0; k < d; k++)
                s += W[i * d + k] * f[k] * W[j * d + k];
            out[i * d + j] = s;
        }
}

berg_status berg_particles_create(berg_particles **out, size_t ndim, unsigned long long seed,
                                  const double *metric)
{
    static const char fn[] = "berg_particles_create";
    berg_status st;
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(ndim >= 1 && ndim <= PMAX, BERG_ERR_DOMAIN, "%s: ndim = %zu must be in 1..%d",
                 fn, ndim, PMAX);
    int d = (int)ndim;
    double g[PMAX * PMAX], W[PMAX * PMAX], ev[PMAX], f[PMAX];
    for (int i = 0; i < d * d; i++)
        g[i] = metric ? metric[i] : ((i % (d + 1)) == 0 ? 1.0 : 0.0);
    if ((st = sym_eig(d, g, W, ev, fn, "metric")))
        return st;
    for (int k = 0; k < d; k++)
        if (!(ev[k] > 0.0))
            return berg__error(BERG_ERR_NOT_SPD,
                               "%s: metric is not positive definite (eigenvalue %g)", fn, ev[k]);
    berg_particles *ps = berg__alloc(1, sizeof *ps, fn);
    if (!ps)
        return berg_last_status();
    memset(ps, 0, sizeof *ps);
    ps->d = d;
    ps->seed = seed;
    for (int k = 0; k < d; k++)
        f[k] = 1.0 / ev[k];
    sym_fun(d, W, f, ps->ginv);
    for (int k = 0; k < d; k++)
        f[k] = 1.0 / sqrt(ev[k]);
    sym_fun(d, W, f, ps->ginv_half);
    for (int k = 0; k < d; k++)
        f[k] = sqrt(ev[k]);
    sym_fun(d, W, f, ps->g_half);
    *out = ps;
    return BERG_OK;
}

static berg_status check_ensemble(berg_particles *ps, size_t count, const double *x,
                                  const char *fn, size_t *total)
{
    berg_status st;
    if ((st = berg__check_ptr(ps, fn, "ps")))
        return st;
    if (count == 0)
        return berg__error(BERG_ERR_SIZE, "%s: count is 0 (no particles)", fn);
    if ((st = berg__mul_size(count, (size_t)ps->d, total, fn, "count x ndim")))
        return st;
    if ((st = berg__check_finite(x, *total, fn, "x")))
        return st;
    if ((count >> 32) != 0)
        return berg__error(BERG_ERR_SIZE, "%s: count %zu exceeds 2^32 noise streams per call",
                           fn, count);
    return BERG_OK;
}

berg_status berg_particles_euler(berg_particles *ps, double dt, size_t nsteps, size_t count,
                                 double *x, berg_gradient_fn grad, void *user_data)
{
    static const char fn[] = "berg_particles_euler";
    berg_status st;
    size_t total;
    if ((st = check_ensemble(ps, count, x, fn, &total)))
        return st;
    if (!grad)
        return berg__error(BERG_ERR_NULL, "%s: grad is NULL", fn);
    if (!(dt > 0.0) || !isfinite(dt))
        return berg__error(BERG_ERR_TIME, "%s: dt = %g must be finite and > 0", fn, dt);
    double *y = berg__alloc(total, sizeof(double), fn);
    if (!y)
        return berg_last_status();
    memcpy(y, x, total * sizeof(double));
    int d = ps->d;
    double gv[PMAX], xi[PMAX], step[PMAX];
    double sq = sqrt(2.0 * dt);
    unsigned long long call = ps->calls;
    for (size_t j = 0; j < count; j++) {
        berg__rng rng;
        berg__rng_seed(&rng, ps->seed, (call << 32) + j);
        double *xj = y + j * (size_t)d;
        for (size_t s = 0; s < nsteps; s++) {
            int rc = grad((size_t)d, xj, gv, user_data);
            if (rc != 0) {
                berg__free(y);
                return berg__error(BERG_ERR_CALLBACK,
                                   "%s: grad returned %d for particle %zu at step %zu", fn, rc, j,
                                   s);
            }
            for (int a = 0; a < d; a++)
                if (!isfinite(gv[a])) {
                    berg__free(y);
                    return berg__error(BERG_ERR_CALLBACK,
                                       "%s: grad gave a non-finite value (component %d) for "
                                       "particle %zu at step %zu",
                                       fn, a, j, s);
                }
            berg__rng_normals(&rng, xi, (size_t)d);
            /* d <= BERG_MAX_RANK: plain loops (a BLAS call costs more than the work) */
            for (int a = 0; a < d; a++) {
                double drift = 0.0, noise = 0.0;
                for (int b = 0; b < d; b++) {
                    drift += ps->ginv[a * d + b] * gv[b];
                    noise += ps->ginv_half[a * d + b] * xi[b];
                }
                step[a] = -dt * drift + sq * noise;
            }
            for (int a = 0; a < d; a++)
                xj[a] += step[a];
        }
    }
    for (size_t i = 0; i < total; i++)
        if (!isfinite(y[i])) {
            berg__free(y);
            return berg__error(BERG_ERR_NONFINITE,
                               "%s: particle %zu left the finite range (dt = %g too large for "
                               "this potential?)",
                               fn, i / (size_t)d, dt);
        }
    memcpy(x, y, total * sizeof(double));
    berg__free(y);
    ps->calls++;
    return BERG_OK;
}

berg_status berg_particles_ou(berg_particles *ps, double t, size_t count, const double *A,
                              const double *m, double *x)
{
    static const char fn[] = "berg_particles_ou";
    berg_status st;
    size_t total;
    if ((st = check_ensemble(ps, count, x, fn, &total)) || (st = berg__check_ptr(A, fn, "A")) ||
        (st = berg__check_time(t, fn, "t")))
        return st;
    int d = ps->d;
    if (m && (st = berg__check_finite(m, (size_t)d, fn, "m")))
        return st;
    double M[PMAX * PMAX], T1[PMAX * PMAX], W[PMAX * PMAX], mu[PMAX], f[PMAX] = {0};
    /* M = g^{-1/2} A g^{-1/2} (symmetric: A is checked symmetric first) */
    if ((st = berg__check_symmetric(A, (size_t)d, 1e-12, fn, "A")))
        return st;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, ps->ginv_half, d, A, d,
                0.0, T1, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, T1, d, ps->ginv_half, d,
                0.0, M, d);
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++)
            M[i * d + j] = M[j * d + i] = 0.5 * (M[i * d + j] + M[j * d + i]);
    if ((st = sym_eig(d, M, W, mu, fn, "g^{-1/2} A g^{-1/2}")))
        return st;
    /* P = g^{-1/2} U e^{-mu t} U^T g^{1/2};  N = g^{-1/2} U diag(s) */
    double E[PMAX * PMAX], P[PMAX * PMAX], Nm[PMAX * PMAX], US[PMAX * PMAX];
    for (int k = 0; k < d; k++)
        f[k] = exp(-mu[k] * t);
    sym_fun(d, W, f, E);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, ps->ginv_half, d, E, d,
                0.0, T1, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, T1, d, ps->g_half, d,
                0.0, P, d);
    for (int k = 0; k < d; k++) {
        double z = 2.0 * mu[k] * t;
        double var = (fabs(z) < 1e-300) ? 2.0 * t : -expm1(-z) / mu[k];
        f[k] = sqrt(var);
    }
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++)
            US[i * d + k] = W[i * d + k] * f[k];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, ps->ginv_half, d, US, d,
                0.0, Nm, d);
    for (int i = 0; i < d * d; i++)
        if (!isfinite(P[i]) || !isfinite(Nm[i]))
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: the transition over t = %g overflows (A has a negative "
                               "eigenvalue %g)",
                               fn, t, mu[0]);
    double *y = berg__alloc(total, sizeof(double), fn);
    if (!y)
        return berg_last_status();
    double xi[PMAX], dx[PMAX];
    unsigned long long call = ps->calls;
    for (size_t j = 0; j < count; j++) {
        berg__rng rng;
        berg__rng_seed(&rng, ps->seed, (call << 32) + j);
        const double *xj = x + j * (size_t)d;
        for (int a = 0; a < d; a++)
            dx[a] = xj[a] - (m ? m[a] : 0.0);
        berg__rng_normals(&rng, xi, (size_t)d);
        for (int a = 0; a < d; a++) {
            double a1 = 0.0, a2 = 0.0;
            for (int b = 0; b < d; b++) {
                a1 += P[a * d + b] * dx[b];
                a2 += Nm[a * d + b] * xi[b];
            }
            y[j * (size_t)d + (size_t)a] = (m ? m[a] : 0.0) + a1 + a2;
        }
    }
    for (size_t i = 0; i < total; i++)
        if (!isfinite(y[i])) {
            berg__free(y);
            return berg__error(BERG_ERR_DOMAIN, "%s: particle %zu overflowed", fn,
                               i / (size_t)d);
        }
    memcpy(x, y, total * sizeof(double));
    berg__free(y);
    ps->calls++;
    return BERG_OK;
}
