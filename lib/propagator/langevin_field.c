/*
 * Lattice field Langevin flow of the stochastic RG
 *   d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW
 * Euler-Maruyama in time; Cdot and Cdot^{1/2} are Fourier multipliers
 * (berg_multiplier, applied by FFT) of the regulator symbol c(k) and of
 * sqrt(c(k)). dW is lattice white noise of variance dt / w per cell, so
 * that for S = (w/2) sum phi K phi the stationary covariance is (w K)^{-1},
 * the law e^{-S}.
 */
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"

struct berg_langevin {
    size_t n;
    double w;
    berg_multiplier *c, *csqrt;
    unsigned long long seed, calls;
    double *phi, *grad, *noise;
};

typedef struct {
    berg_symbol_fn f;
    void *ud;
    int negative;
    int rc;
} sqrt_ctx;

static int sqrt_symbol(int ndim, const double *k, double *c, void *user_data)
{
    sqrt_ctx *s = user_data;
    double v;
    int rc = s->f(ndim, k, &v, s->ud);
    if (rc != 0) {
        s->rc = rc;
        return rc;
    }
    if (!(v >= 0.0) || !isfinite(v)) {
        s->negative = 1;
        return -1;
    }
    *c = sqrt(v);
    return 0;
}

void berg_langevin_destroy(berg_langevin *lf)
{
    if (!lf)
        return;
    berg_multiplier_destroy(lf->c);
    berg_multiplier_destroy(lf->csqrt);
    berg__free(lf->phi);
    berg__free(lf->grad);
    berg__free(lf->noise);
    berg__free(lf);
}

berg_status berg_langevin_create(berg_langevin **out, const berg_space *space,
                                 berg_symbol_fn regulator, void *user_data,
                                 unsigned long long seed)
{
    static const char *fn = "berg_langevin_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)) ||
        (st = berg__check_ptr(space, fn, "space")))
        return st;
    if (!regulator)
        return berg__error(BERG_ERR_NULL, "%s: regulator is NULL", fn);
    for (int a = 0; a < space->ndim; a++)
        if (space->bc[a] != BERG_PERIODIC)
            return berg__error(BERG_ERR_UNSUPPORTED,
                               "%s: axis %d is not periodic; the lattice field flow needs a "
                               "periodic space",
                               fn, a);
    berg_langevin *lf = berg__alloc(1, sizeof *lf, fn);
    if (!lf)
        return berg_last_status();
    memset(lf, 0, sizeof *lf);
    lf->n = space->size;
    lf->w = space->weight;
    lf->seed = seed;
    lf->phi = berg__alloc(lf->n, sizeof(double), fn);
    lf->grad = berg__alloc(lf->n, sizeof(double), fn);
    lf->noise = berg__alloc(lf->n, sizeof(double), fn);
    if (!lf->phi || !lf->grad || !lf->noise) {
        berg_langevin_destroy(lf);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    }
    sqrt_ctx sc = {regulator, user_data, 0, 0};
    st = berg_multiplier_create(&lf->csqrt, space, sqrt_symbol, &sc, 0);
    if (st != BERG_OK) {
        berg_langevin_destroy(lf);
        if (sc.negative)
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: the regulator symbol is negative or not finite on some "
                               "mode; Cdot must be >= 0",
                               fn);
        if (sc.rc != 0)
            return berg__error(BERG_ERR_CALLBACK, "%s: the regulator symbol returned %d", fn,
                               sc.rc);
        return st;
    }
    st = berg_multiplier_create(&lf->c, space, regulator, user_data, 0);
    if (st != BERG_OK) {
        berg_langevin_destroy(lf);
        return st;
    }
    *out = lf;
    return BERG_OK;
}

typedef struct {
    berg_regulator kind;
    double lambda;
    int d;
    double ginv[BERG_MAX_RANK * BERG_MAX_RANK];
} reg_ctx;

static int reg_symbol(int ndim, const double *k, double *c, void *user_data)
{
    const reg_ctx *r = user_data;
    double k2 = 0.0;
    for (int a = 0; a < ndim; a++)
        for (int b = 0; b < ndim; b++)
            k2 += k[a] * r->ginv[a * ndim + b] * k[b];
    return berg_regulator_value(r->kind, r->lambda, sqrt(k2 > 0.0 ? k2 : 0.0), c) == BERG_OK
               ? 0
               : 1;
}

berg_status berg_langevin_create_regulator(berg_langevin **out, const berg_space *space,
                                           berg_regulator kind, double lambda,
                                           unsigned long long seed)
{
    static const char *fn = "berg_langevin_create_regulator";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)))
        return st;
    double probe;
    if (berg_regulator_value(kind, lambda, 0.0, &probe) != BERG_OK)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: regulator kind %d with lambda = %g is not valid (kind 0..4, "
                           "lambda > 0 finite)",
                           fn, (int)kind, lambda);
    reg_ctx r;
    r.kind = kind;
    r.lambda = lambda;
    r.d = space->ndim;
    memcpy(r.ginv, space->ginv, sizeof r.ginv);
    /* the multipliers evaluate the symbol during creation only */
    return berg_langevin_create(out, space, reg_symbol, &r, seed);
}

berg_status berg_langevin_step(berg_langevin *lf, double *phi, double dt, size_t nsteps,
                               berg_action_grad_fn grad, void *user_data)
{
    static const char *fn = "berg_langevin_step";
    berg_status st;
    if ((st = berg__check_ptr(lf, fn, "lf")) ||
        (st = berg__check_finite(phi, lf->n, fn, "phi")))
        return st;
    if (!grad)
        return berg__error(BERG_ERR_NULL, "%s: grad is NULL", fn);
    if (!(dt > 0.0) || !isfinite(dt))
        return berg__error(BERG_ERR_TIME, "%s: dt = %g must be finite and > 0", fn, dt);
    size_t n = lf->n;
    memcpy(lf->phi, phi, n * sizeof(double));
    double amp = sqrt(2.0 * dt / lf->w);
    berg__rng rng;
    berg__rng_seed(&rng, lf->seed, lf->calls);
    for (size_t s = 0; s < nsteps; s++) {
        int rc = grad(n, lf->phi, lf->grad, user_data);
        if (rc != 0)
            return berg__error(BERG_ERR_CALLBACK, "%s: grad returned %d at step %zu", fn, rc, s);
        if ((st = berg__check_finite(lf->grad, n, fn, "the action gradient")))
            return berg__error(BERG_ERR_CALLBACK, "%s: grad gave a non-finite value at step %zu",
                               fn, s);
        if ((st = berg_multiplier_apply(lf->c, lf->grad, lf->grad)))
            return st;
        berg__rng_normals(&rng, lf->noise, n);
        if ((st = berg_multiplier_apply(lf->csqrt, lf->noise, lf->noise)))
            return st;
        for (size_t i = 0; i < n; i++)
            lf->phi[i] += -dt * lf->grad[i] + amp * lf->noise[i];
    }
    if ((st = berg__check_finite(lf->phi, n, fn, "the evolved field")))
        return berg__error(BERG_ERR_NONFINITE, "%s: the field overflowed (dt = %g too large?)",
                           fn, dt);
    memcpy(phi, lf->phi, n * sizeof(double));
    lf->calls++;
    return BERG_OK;
}
