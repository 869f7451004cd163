/*
 * Lattice field Langevin flow of the stochastic RG
 *   d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW
 * Euler-Maruyama in time. Cdot is one Fourier multiplier (berg_multiplier)
 * of the regulator symbol c(k); the noise of a step is
 * sqrt(2 dt) berg_multiplier_random_field(Cdot) = sqrt(2 dt) T^{-1} sqrt(c) T xi
 * with xi lattice white noise of variance 1/w per cell, so that for
 * S = (w/2) sum phi K phi the stationary covariance is (w K)^{-1}, the law
 * e^{-S}. Drift and noise use the same symbol table on every mode (Nyquist
 * modes included, where the table holds the average of c over +-k).
 */
#include <math.h>
#include <string.h>

#include "berg/stochastic.h"
#include "space/internal.h"

struct berg_langevin {
    size_t n;
    berg_multiplier *c;
    unsigned long long seed, steps; /* steps: taken by earlier successful calls */
    double *phi, *grad, *noise;
};

/* the user's symbol, checked: c(k) >= 0 and finite on every evaluated k */
typedef struct {
    berg_symbol_fn f;
    void *ud;
    int negative;
    int rc;
} check_ctx;

static int checked_symbol(int ndim, const double *k, double *c, void *user_data)
{
    check_ctx *s = user_data;
    int rc = s->f(ndim, k, c, s->ud);
    if (rc != 0) {
        s->rc = rc;
        return rc;
    }
    if (!(*c >= 0.0) || !isfinite(*c)) {
        s->negative = 1;
        return -1;
    }
    return 0;
}

void berg_langevin_destroy(berg_langevin *lf)
{
    if (!lf)
        return;
    berg_multiplier_destroy(lf->c);
    berg__free(lf->phi);
    berg__free(lf->grad);
    berg__free(lf->noise);
    berg__free(lf);
}

static berg_status check_periodic(const berg_space *space, const char *fn)
{
    for (int a = 0; a < space->ndim; a++)
        if (space->bc[a] != BERG_PERIODIC)
            return berg__error(BERG_ERR_UNSUPPORTED,
                               "%s: axis %d is not periodic; the lattice field flow needs a "
                               "periodic space",
                               fn, a);
    return BERG_OK;
}

/* a handle around the multiplier c (taken over, also on failure) */
static berg_status finish(berg_langevin **out, const berg_space *space, berg_multiplier *c,
                          unsigned long long seed, const char *fn)
{
    berg_langevin *lf = berg__alloc(1, sizeof *lf, fn);
    if (!lf) {
        berg_multiplier_destroy(c);
        return berg_last_status();
    }
    memset(lf, 0, sizeof *lf);
    lf->c = c;
    lf->n = space->size;
    lf->seed = seed;
    lf->phi = berg__alloc(lf->n, sizeof(double), fn);
    lf->grad = berg__alloc(lf->n, sizeof(double), fn);
    lf->noise = berg__alloc(lf->n, sizeof(double), fn);
    if (!lf->phi || !lf->grad || !lf->noise) {
        berg_langevin_destroy(lf);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory", fn);
    }
    *out = lf;
    return BERG_OK;
}

berg_status berg_langevin_create(berg_langevin **out, const berg_space *space,
                                 unsigned long long seed, berg_symbol_fn regulator,
                                 void *user_data)
{
    static const char fn[] = "berg_langevin_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)))
        return st;
    if (!regulator)
        return berg__error(BERG_ERR_NULL, "%s: regulator is NULL", fn);
    if ((st = check_periodic(space, fn)))
        return st;
    check_ctx cc = {regulator, user_data, 0, 0};
    berg_multiplier *c = NULL;
    st = berg_multiplier_create(&c, space, checked_symbol, &cc, 0);
    if (st != BERG_OK) {
        if (cc.negative)
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: the regulator symbol is negative or not finite on some "
                               "mode; Cdot must be >= 0",
                               fn);
        if (cc.rc != 0)
            return berg__error(BERG_ERR_CALLBACK, "%s: the regulator symbol returned %d", fn,
                               cc.rc);
        return st;
    }
    return finish(out, space, c, seed, fn);
}

berg_status berg_langevin_create_regulator(berg_langevin **out, const berg_space *space,
                                           berg_regulator kind, double lambda,
                                           unsigned long long seed)
{
    static const char fn[] = "berg_langevin_create_regulator";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)))
        return st;
    double probe;
    if (berg_regulator_value(kind, lambda, 0.0, &probe) != BERG_OK)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: regulator kind %d with lambda = %g is not valid (kind 0..4, "
                           "lambda > 0 finite)",
                           fn, (int)kind, lambda);
    if ((st = check_periodic(space, fn)))
        return st;
    /* every built-in regulator is >= 0 and finite: no symbol check needed */
    berg_multiplier *c = NULL;
    if ((st = berg_multiplier_create_regulator(&c, space, kind, lambda, 0)))
        return st;
    return finish(out, space, c, seed, fn);
}

berg_status berg_langevin_step(berg_langevin *lf, double dt, size_t nsteps, double *phi,
                               berg_action_gradient_fn grad, void *user_data)
{
    static const char fn[] = "berg_langevin_step";
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
    double amp = sqrt(2.0 * dt);
    for (size_t s = 0; s < nsteps; s++) {
        int rc = grad(n, lf->phi, lf->grad, user_data);
        if (rc != 0)
            return berg__error(BERG_ERR_CALLBACK, "%s: grad returned %d at step %zu", fn, rc, s);
        if ((st = berg__check_finite(lf->grad, n, fn, "the action gradient")))
            return berg__error(BERG_ERR_CALLBACK, "%s: grad gave a non-finite value at step %zu",
                               fn, s);
        if ((st = berg_multiplier_apply(lf->c, lf->grad, lf->grad)))
            return st;
        /* step number lf->steps + s of the handle draws stream lf->steps + s */
        if ((st = berg_multiplier_random_field(lf->c, lf->seed, lf->steps + s, lf->noise)))
            return st;
        for (size_t i = 0; i < n; i++)
            lf->phi[i] += -dt * lf->grad[i] + amp * lf->noise[i];
    }
    if ((st = berg__check_finite(lf->phi, n, fn, "the evolved field")))
        return berg__error(BERG_ERR_NONFINITE, "%s: the field overflowed (dt = %g too large?)",
                           fn, dt);
    memcpy(phi, lf->phi, n * sizeof(double));
    lf->steps += nsteps;
    return BERG_OK;
}
