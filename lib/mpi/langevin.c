/*
 * The distributed lattice field Langevin flow of the stochastic RG (seed eq
 * 27-37; issue 16), the algorithm of berg_langevin_step on a slab of a
 * periodic lattice:
 *   phi += -dt Cdot grad + sqrt(2 dt) T^{-1} sqrt(c) T xi,
 * Cdot the Fourier multiplier of the regulator c(k) (Nyquist handling as
 * berg_langevin_create / _create_regulator), xi lattice white noise of
 * variance 1/w per cell whose value at a site is the counter-based normal
 * of (seed, step, global site index): the same seed gives the same
 * trajectory on any number of ranks. Drift and noise share one inverse
 * transform: a step costs three distributed FFTs (grad and noise forward,
 * their sum back; the serial flow takes four).
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "mpi/field_internal.h"

struct berg_mpi_langevin {
    berg__mpi_xform x;
    double *cn;    /* c * norm */
    double *csqrt; /* sqrt(c / w) * norm */
    unsigned long long seed, steps;
    double *phi, *grad, *noise; /* local: size each (3 size doubles) */
    double *drift;              /* the transformed drift: the spectral buffer's size */
    pthread_mutex_t lock;       /* buffers and counter: one call at a time */
    int has_lock;
};

void berg_mpi_langevin_destroy(berg_mpi_langevin *lf)
{
    if (!lf)
        return;
    berg__mpi_xform_free(&lf->x);
    berg__mpi_free(lf->cn);
    berg__mpi_free(lf->csqrt);
    berg__mpi_free(lf->phi);
    berg__mpi_free(lf->drift);
    if (lf->has_lock)
        pthread_mutex_destroy(&lf->lock);
    berg__mpi_free(lf);
}

static berg_status check_periodic(const berg_mpi_space *space, const char *fn)
{
    for (int a = 0; a < space->ndim; a++)
        BERG_MPI_REQUIRE(space->bc[a] == BERG_PERIODIC, BERG_ERR_UNSUPPORTED,
                         "%s: axis %d is not periodic; the lattice field flow needs a periodic "
                         "space",
                         fn, a);
    return BERG_OK;
}

static berg_status build(berg_mpi_langevin **out, const berg_mpi_space *space,
                         unsigned long long seed, berg_symbol_fn regulator, void *user_data,
                         berg_regulator kind, double lambda, const char *fn)
{
    berg_mpi_langevin *lf = (berg_mpi_langevin *)berg__mpi_alloc(
        (sizeof(berg_mpi_langevin) + sizeof(double) - 1) / sizeof(double), fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, lf ? BERG_OK : berg_mpi_last_status()));
    memset(lf, 0, sizeof *lf);
    lf->seed = seed;
    double *c = NULL;
    berg_status st = berg__mpi_xform_init(
        &lf->x, space, 1, berg__mpi_symbol_xflags(space, regulator == NULL, 0), fn);
    if (st == BERG_OK)
        st = berg__mpi_symbol_table(&lf->x, 0, regulator, user_data, kind, lambda, &c, fn);
    if (st == BERG_OK) {
        /* a negative callback symbol is the creator's domain error */
        st = berg__mpi_sqrt_table(&lf->x, c, &lf->csqrt, fn);
    }
    if (st == BERG_OK) {
        const size_t nl = lf->x.sp.size;
        lf->cn = berg__mpi_alloc(lf->x.nloc, fn);
        lf->phi = lf->cn ? berg__mpi_alloc(3 * nl, fn) : NULL;
        lf->drift = lf->phi ? berg__mpi_alloc(lf->x.alloc, fn) : NULL;
        if (lf->drift)
            lf->has_lock = pthread_mutex_init(&lf->lock, NULL) == 0;
        st = berg__mpi_agree(space->comm,
                             !lf->drift ? berg_mpi_last_status()
                             : lf->has_lock ? BERG_OK
                                            : berg__mpi_error(BERG_ERR_NOMEM,
                                                              "%s: cannot create the lock", fn));
    }
    if (st != BERG_OK) {
        berg__mpi_free(c);
        berg_mpi_langevin_destroy(lf);
        return st;
    }
    for (size_t e = 0; e < lf->x.nloc; e++)
        lf->cn[e] = c[e] * lf->x.norm;
    lf->grad = lf->phi + lf->x.sp.size;
    lf->noise = lf->grad + lf->x.sp.size;
    berg__mpi_free(c);
    *out = lf;
    return BERG_OK;
}

berg_status berg_mpi_langevin_create(berg_mpi_langevin **out, const berg_mpi_space *space,
                                     unsigned long long seed, berg_symbol_fn regulator,
                                     void *user_data)
{
    static const char fn[] = "berg_mpi_langevin_create";
    BERG_MPI_TRY(berg__mpi_check_ptr(out, fn, "out"));
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status st = regulator ? check_periodic(space, fn)
                               : berg__mpi_error(BERG_ERR_NULL, "%s: regulator is NULL", fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    return build(out, space, seed, regulator, user_data, BERG_REGULATOR_SHARP, 1.0, fn);
}

berg_status berg_mpi_langevin_create_regulator(berg_mpi_langevin **out,
                                               const berg_mpi_space *space, berg_regulator kind,
                                               double lambda, unsigned long long seed)
{
    static const char fn[] = "berg_mpi_langevin_create_regulator";
    BERG_MPI_TRY(berg__mpi_check_ptr(out, fn, "out"));
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status st = berg__mpi_check_regulator(kind, lambda, fn);
    if (st == BERG_OK)
        st = check_periodic(space, fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    return build(out, space, seed, NULL, NULL, kind, lambda, fn);
}

/* one step on lf->phi with the noise of step number `step` */
static berg_status one_step(berg_mpi_langevin *lf, double dt, unsigned long long step,
                            berg_action_gradient_fn grad, void *user_data, const char *fn)
{
    berg__mpi_xform *x = &lf->x;
    const size_t nl = x->sp.size, ns = x->nloc;
    /* every rank calls grad (it may communicate: halos), then all agree */
    int rc = grad(nl, lf->phi, lf->grad, user_data);
    berg_status st = BERG_OK;
    if (rc != 0)
        st = berg__mpi_error(BERG_ERR_CALLBACK, "%s: grad returned %d at step %llu", fn, rc, step);
    for (size_t i = 0; i < nl && st == BERG_OK; i++)
        if (!isfinite(lf->grad[i]))
            st = berg__mpi_error(BERG_ERR_CALLBACK,
                                 "%s: grad returned %g at local index %zu (not finite)", fn,
                                 lf->grad[i], i);
    BERG_MPI_TRY(berg__mpi_agree(x->sp.comm, st));
    const double amp = sqrt(2.0 * dt);
    unsigned ftz = berg__mpi_ftz_enter();
    berg__mpi_xform_load(x, lf->grad, 1.0);
    berg__mpi_xform_forward(x);
    double *sp = x->sbuf, *dr = lf->drift;
    for (size_t e = 0; e < ns; e++) {
        double f = -dt * lf->cn[e];
        dr[2 * e] = sp[2 * e] * f;
        dr[2 * e + 1] = sp[2 * e + 1] * f;
    }
    berg__mpi_white_noise(x, lf->seed, step, lf->noise);
    berg__mpi_xform_load(x, lf->noise, 1.0);
    berg__mpi_xform_forward(x);
    for (size_t e = 0; e < ns; e++) {
        double f = amp * lf->csqrt[e];
        sp[2 * e] = sp[2 * e] * f + dr[2 * e];
        sp[2 * e + 1] = sp[2 * e + 1] * f + dr[2 * e + 1];
    }
    berg__mpi_xform_backward(x, x->sbuf);
    berg__mpi_ftz_leave(ftz);
    berg__mpi_xform_store(x, lf->noise, 1.0);
    for (size_t i = 0; i < nl; i++)
        lf->phi[i] += lf->noise[i];
    return BERG_OK;
}

/* the steps of one call (under the handle's lock) */
static berg_status steps_locked(berg_mpi_langevin *lf, double dt, size_t nsteps, double *phi,
                                berg_action_gradient_fn grad, void *user_data, const char *fn)
{
    const size_t nl = lf->x.sp.size;
    berg_status st = BERG_OK;
    if (nl)
        memcpy(lf->phi, phi, nl * sizeof(double));
    for (size_t s = 0; s < nsteps; s++)
        BERG_MPI_TRY(one_step(lf, dt, lf->steps + s, grad, user_data, fn));
    for (size_t i = 0; i < nl && st == BERG_OK; i++)
        if (!isfinite(lf->phi[i]))
            st = berg__mpi_error(BERG_ERR_NONFINITE,
                                 "%s: the field overflowed at local index %zu (dt = %g too "
                                 "large?)",
                                 fn, i, dt);
    BERG_MPI_TRY(berg__mpi_agree(lf->x.sp.comm, st));
    if (nl)
        memcpy(phi, lf->phi, nl * sizeof(double));
    lf->steps += nsteps;
    return BERG_OK;
}

berg_status berg_mpi_langevin_step(berg_mpi_langevin *lf, double dt, size_t nsteps, double *phi,
                                   berg_action_gradient_fn grad, void *user_data)
{
    static const char fn[] = "berg_mpi_langevin_step";
    BERG_MPI_TRY(berg__mpi_check_ptr(lf, fn, "lf"));
    const size_t nl = lf->x.sp.size;
    berg_status st = berg__mpi_check_finite(phi, nl, fn, "phi");
    if (st == BERG_OK && !grad)
        st = berg__mpi_error(BERG_ERR_NULL, "%s: grad is NULL", fn);
    if (st == BERG_OK && !(dt > 0.0 && isfinite(dt)))
        st = berg__mpi_error(BERG_ERR_TIME, "%s: dt = %g must be finite and > 0", fn, dt);
    BERG_MPI_TRY(berg__mpi_agree(lf->x.sp.comm, st));
    pthread_mutex_lock(&lf->lock);
    st = steps_locked(lf, dt, nsteps, phi, grad, user_data, fn);
    pthread_mutex_unlock(&lf->lock);
    return st;
}
