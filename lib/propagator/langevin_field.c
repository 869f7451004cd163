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
#include <stdio.h>
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

static int checked_symbol(size_t ndim, const double *k, double *c, void *user_data)
{
    check_ctx *s = user_data;
    int rc = s->f(ndim, k, c, s->ud);
    if (rc != 0) {
        s->rc = rc;
        return rc;
    }
    /* a non-finite value is the multiplier's BERG_ERR_CALLBACK, as for
     * every callback; only a finite negative one is a domain error */
    if (isfinite(*c) && *c < 0.0) {
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
    berg__free(lf);
}

/* a callee's failure, its message prefixed with the public function's name */
static berg_status reprefix(berg_status st, const char *fn)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", berg_last_error());
    return berg__error(st, "%s: %s", fn, msg);
}

static berg_status check_periodic(const berg_space *space, const char *fn)
{
    for (int a = 0; a < space->ndim; a++)
        BERG_REQUIRE(space->bc[a] == BERG_PERIODIC, BERG_ERR_UNSUPPORTED,
                     "%s: axis %d is not periodic; the lattice field flow needs a periodic space",
                     fn, a);
    return BERG_OK;
}

/* a handle around the multiplier c (taken over, also on failure); one
 * block of 3 n doubles is the step's scratch (field, drift, noise) */
static berg_status finish(berg_langevin **out, const berg_space *space, berg_multiplier *c,
                          unsigned long long seed, const char *fn)
{
    berg_status st = BERG_OK;
    berg_langevin *lf = berg__alloc(1, sizeof *lf, fn);
    if (!lf) {
        st = berg_last_status();
        goto fail;
    }
    memset(lf, 0, sizeof *lf);
    lf->c = c;
    c = NULL;
    lf->n = space->size;
    lf->seed = seed;
    /* 3 n cannot overflow: berg_space_create keeps 4 n doubles addressable */
    lf->phi = berg__alloc(3 * lf->n, sizeof(double), fn);
    if (!lf->phi) {
        st = berg_last_status();
        goto fail;
    }
    lf->grad = lf->phi + lf->n;
    lf->noise = lf->grad + lf->n;
    *out = lf;
    return BERG_OK;
fail:
    berg_multiplier_destroy(c);
    berg_langevin_destroy(lf);
    return st;
}

berg_status berg_langevin_create(berg_langevin **out, const berg_space *space,
                                 unsigned long long seed, berg_symbol_fn regulator,
                                 void *user_data)
{
    static const char fn[] = "berg_langevin_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    BERG_REQUIRE(regulator != NULL, BERG_ERR_NULL, "%s: regulator is NULL", fn);
    BERG_TRY(check_periodic(space, fn));
    check_ctx cc = {regulator, user_data, 0, 0};
    berg_multiplier *c = NULL;
    berg_status st = berg_multiplier_create(&c, space, 0, checked_symbol, &cc);
    if (st != BERG_OK) {
        BERG_REQUIRE(!cc.negative, BERG_ERR_DOMAIN,
                     "%s: the regulator symbol is negative on some mode; Cdot must be >= 0",
                     fn);
        BERG_REQUIRE(cc.rc == 0, BERG_ERR_CALLBACK, "%s: regulator returned %d", fn, cc.rc);
        return reprefix(st, fn);
    }
    return finish(out, space, c, seed, fn);
}

berg_status berg_langevin_create_regulator(berg_langevin **out, const berg_space *space,
                                           berg_regulator kind, double lambda,
                                           unsigned long long seed)
{
    static const char fn[] = "berg_langevin_create_regulator";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    double probe;
    BERG_REQUIRE(berg_regulator_value(kind, lambda, 0.0, &probe) == BERG_OK, BERG_ERR_DOMAIN,
                 "%s: regulator kind %d with lambda = %g is not valid (a berg_regulator, "
                 "lambda > 0 finite)",
                 fn, (int)kind, lambda);
    BERG_TRY(check_periodic(space, fn));
    /* every built-in regulator is >= 0 and finite: no symbol check needed */
    berg_multiplier *c = NULL;
    berg_status st = berg_multiplier_create_regulator(&c, space, kind, lambda, 0);
    if (st != BERG_OK)
        return reprefix(st, fn);
    return finish(out, space, c, seed, fn);
}

/* step s (0-based within this call) on lf->phi: drift from grad, noise of
 * the handle's step number lf->steps + s */
static berg_status one_step(berg_langevin *lf, double dt, size_t s, berg_action_gradient_fn grad,
                            void *user_data, const char *fn)
{
    const size_t n = lf->n;
    int rc = grad(n, lf->phi, lf->grad, user_data);
    BERG_REQUIRE(rc == 0, BERG_ERR_CALLBACK, "%s: grad returned %d at step %zu", fn, rc, s);
    BERG_TRY(berg__check_callback_output(lf->grad, n, fn, "grad"));
    berg_status st = berg_multiplier_apply(lf->c, lf->grad, lf->grad);
    if (st == BERG_OK)
        st = berg_multiplier_random_field(lf->c, lf->seed, lf->steps + s, lf->noise);
    if (st != BERG_OK)
        return reprefix(st, fn);
    const double amp = sqrt(2.0 * dt);
    for (size_t i = 0; i < n; i++)
        lf->phi[i] += -dt * lf->grad[i] + amp * lf->noise[i];
    return BERG_OK;
}

berg_status berg_langevin_step(berg_langevin *lf, double dt, size_t nsteps, double *phi,
                               berg_action_gradient_fn grad, void *user_data)
{
    static const char fn[] = "berg_langevin_step";
    BERG_TRY(berg__check_ptr(lf, fn, "lf"));
    BERG_TRY(berg__check_finite(phi, lf->n, fn, "phi"));
    BERG_REQUIRE(grad != NULL, BERG_ERR_NULL, "%s: grad is NULL", fn);
    BERG_REQUIRE(dt > 0.0 && isfinite(dt), BERG_ERR_TIME, "%s: dt = %g must be finite and > 0",
                 fn, dt);
    const size_t n = lf->n;
    memcpy(lf->phi, phi, n * sizeof(double));
    for (size_t s = 0; s < nsteps; s++)
        BERG_TRY(one_step(lf, dt, s, grad, user_data, fn));
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(isfinite(lf->phi[i]), BERG_ERR_NONFINITE,
                     "%s: the field overflowed at index %zu (dt = %g too large?)", fn, i, dt);
    memcpy(phi, lf->phi, n * sizeof(double));
    lf->steps += nsteps;
    return BERG_OK;
}
