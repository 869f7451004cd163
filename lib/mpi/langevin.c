/*
 * The distributed lattice field Langevin flow of the stochastic RG (seed eq
 * 27-37; issue 16), the algorithm of berg_langevin_step on a slab of a
 * periodic lattice:
 *   phi += -dt Cdot grad + sqrt(2 dt) T^{-1} sqrt(c) T xi,
 * Cdot the Fourier multiplier of the regulator c(k), xi lattice white noise
 * of variance 1/w per cell whose value at a site is the counter-based
 * normal of (seed, step, global site index): the same seed gives the same
 * trajectory on any number of ranks. Drift and noise share one inverse
 * transform: a step costs three distributed FFTs (grad, noise forward; the
 * sum back).
 */
#include <math.h>
#include <string.h>

#include "mpi/field_internal.h"

struct berg_mpi_langevin {
    berg__mpix x;
    double *cn;    /* c / prod n */
    double *csqrt; /* sqrt(c / w) / prod n */
    unsigned long long seed, steps;
    double *phi, *grad, *noise; /* local: nlocal each */
    fftw_complex *drift;        /* the transformed drift: nspec */
};

void berg_mpi_langevin_destroy(berg_mpi_langevin *lf)
{
    if (!lf)
        return;
    berg__mpix_free(&lf->x);
    berg__free(lf->cn);
    berg__free(lf->csqrt);
    berg__free(lf->phi);
    berg__free(lf->drift);
    berg__free(lf);
}

static berg_status build(berg_mpi_langevin **out, MPI_Comm comm, const berg_space *space,
                         unsigned long long seed, berg_symbol_fn regulator, void *user_data,
                         berg_regulator kind, double lambda, const char *fn)
{
    berg_mpi_langevin *lf = berg__alloc(1, sizeof *lf, fn);
    berg_status st = berg__mpi_agree(comm, lf ? BERG_OK : berg_last_status());
    if (st != BERG_OK) {
        berg__free(lf);
        return st;
    }
    memset(lf, 0, sizeof *lf);
    lf->seed = seed;
    double *c = NULL;
    BERG_TRY_GOTO(st, berg__mpix_init(&lf->x, comm, space, 0, fn), fail);
    BERG_TRY_GOTO(st, berg__mpi_symbol_table(&lf->x, 0, regulator, user_data, kind, lambda, &c, fn),
                  fail);
    BERG_TRY_GOTO(st, berg__mpi_sqrt_table(&lf->x, c, &lf->csqrt, fn), fail);
    const size_t nl = lf->x.nlocal, ns = lf->x.nspec;
    lf->cn = berg__alloc(ns ? ns : 1, sizeof(double), fn);
    lf->phi = berg__alloc(3 * (nl ? nl : 1), sizeof(double), fn);
    lf->drift = berg__alloc(ns ? ns : 1, sizeof(fftw_complex), fn);
    st = berg__mpi_agree(comm, (lf->cn && lf->phi && lf->drift) ? BERG_OK : berg_last_status());
    if (st != BERG_OK)
        goto fail;
    for (size_t i = 0; i < ns; i++)
        lf->cn[i] = c[i] * lf->x.norm;
    lf->grad = lf->phi + nl;
    lf->noise = lf->grad + nl;
    berg__free(c);
    *out = lf;
    return BERG_OK;
fail:
    berg__free(c);
    berg_mpi_langevin_destroy(lf);
    return st;
}

berg_status berg_mpi_langevin_create(berg_mpi_langevin **out, MPI_Comm comm,
                                     const berg_space *space, unsigned long long seed,
                                     berg_symbol_fn regulator, void *user_data)
{
    static const char fn[] = "berg_mpi_langevin_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(comm != MPI_COMM_NULL, BERG_ERR_NULL, "%s: comm is MPI_COMM_NULL", fn);
    BERG_TRY(berg__space_check(space, fn));
    BERG_REQUIRE(regulator != NULL, BERG_ERR_NULL, "%s: regulator is NULL", fn);
    return build(out, comm, space, seed, regulator, user_data, BERG_REGULATOR_SHARP, 1.0, fn);
}

berg_status berg_mpi_langevin_create_regulator(berg_mpi_langevin **out, MPI_Comm comm,
                                               const berg_space *space, berg_regulator kind,
                                               double lambda, unsigned long long seed)
{
    static const char fn[] = "berg_mpi_langevin_create_regulator";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(comm != MPI_COMM_NULL, BERG_ERR_NULL, "%s: comm is MPI_COMM_NULL", fn);
    BERG_TRY(berg__space_check(space, fn));
    double probe;
    BERG_REQUIRE(berg_regulator_value(kind, lambda, 0.0, &probe) == BERG_OK, BERG_ERR_DOMAIN,
                 "%s: regulator kind %d with lambda = %g is not valid (a berg_regulator, "
                 "lambda > 0 finite)",
                 fn, (int)kind, lambda);
    return build(out, comm, space, seed, NULL, NULL, kind, lambda, fn);
}

/* one step on lf->phi with the noise of step number `step` */
static berg_status one_step(berg_mpi_langevin *lf, double dt, unsigned long long step,
                            berg_action_gradient_fn grad, void *user_data, const char *fn)
{
    berg__mpix *x = &lf->x;
    const size_t nl = x->nlocal, ns = x->nspec;
    /* every rank calls grad (it may communicate), then all agree */
    int rc = grad(nl, lf->phi, lf->grad, user_data);
    berg_status st = (rc != 0) ? berg__error(BERG_ERR_CALLBACK, "%s: grad returned %d at step %llu",
                                             fn, rc, step)
                               : berg__check_callback_output(lf->grad, nl, fn, "grad");
    BERG_TRY(berg__mpi_agree(x->comm, st));
    berg__mpix_forward(x, lf->grad);
    const double amp = sqrt(2.0 * dt);
    for (size_t i = 0; i < ns; i++) {
        double f = -dt * lf->cn[i];
        lf->drift[i][0] = x->cbuf[i][0] * f;
        lf->drift[i][1] = x->cbuf[i][1] * f;
    }
    berg__mpi_white_noise(x, lf->seed, step, lf->noise);
    berg__mpix_forward(x, lf->noise);
    for (size_t i = 0; i < ns; i++) {
        double f = amp * lf->csqrt[i];
        x->cbuf[i][0] = x->cbuf[i][0] * f + lf->drift[i][0];
        x->cbuf[i][1] = x->cbuf[i][1] * f + lf->drift[i][1];
    }
    berg__mpix_inverse(x, lf->noise);
    for (size_t i = 0; i < nl; i++)
        lf->phi[i] += lf->noise[i];
    return BERG_OK;
}

berg_status berg_mpi_langevin_step(berg_mpi_langevin *lf, double dt, size_t nsteps, double *phi,
                                   berg_action_gradient_fn grad, void *user_data)
{
    static const char fn[] = "berg_mpi_langevin_step";
    BERG_TRY(berg__check_ptr(lf, fn, "lf"));
    const size_t nl = lf->x.nlocal;
    berg_status st = BERG_OK;
    if (nl && !phi)
        st = berg__error(BERG_ERR_NULL, "%s: phi is NULL", fn);
    else if (!grad)
        st = berg__error(BERG_ERR_NULL, "%s: grad is NULL", fn);
    else if (!(dt > 0.0 && isfinite(dt)))
        st = berg__error(BERG_ERR_TIME, "%s: dt = %g must be finite and > 0", fn, dt);
    else if (nl)
        st = berg__check_finite(phi, nl, fn, "phi");
    BERG_TRY(berg__mpi_agree(lf->x.comm, st));
    if (nl)
        memcpy(lf->phi, phi, nl * sizeof(double));
    for (size_t s = 0; s < nsteps; s++)
        BERG_TRY(one_step(lf, dt, lf->steps + s, grad, user_data, fn));
    st = BERG_OK;
    for (size_t i = 0; i < nl && st == BERG_OK; i++)
        if (!isfinite(lf->phi[i]))
            st = berg__error(BERG_ERR_NONFINITE,
                             "%s: the field overflowed at local index %zu (dt = %g too large?)", fn,
                             i, dt);
    BERG_TRY(berg__mpi_agree(lf->x.comm, st));
    if (nl)
        memcpy(phi, lf->phi, nl * sizeof(double));
    lf->steps += nsteps;
    return BERG_OK;
}
