/*
 * lib/dictionary/dictionary.c - the ERG <-> Bayes dictionary (table p.33,
 * seed eq 51-58) and the ERG -> Bayes direction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/fisher.h"
#include "dictionary/internal.h"
#include "fisher/internal.h"

struct berg_dictionary {
    const berg_bayes *b;          /* borrowed: for berg_dictionary_scheme */
    unsigned long generation;     /* b's model/truth generation at creation */
    double tau;
    size_t du, dy, ny;
    double gamma[BERG_MAX_RANK];  /* the MAP gamma_tau */
    double drift[BERG_MAX_RANK];  /* m = J dgamma/dtau */
    double jacobian[BERG_MAX_RANK * BERG_MAX_RANK];
    double fisher[BERG_MAX_RANK * BERG_MAX_RANK], fisher_inv[BERG_MAX_RANK * BERG_MAX_RANK];
    double inverse_metric[BERG_MAX_RANK * BERG_MAX_RANK];
    double *potential;            /* V on the data grid */
};

/* gamma_tau and dgamma/dtau from the continuous MAP (bayes_map.c), then
 * J, I, K at gamma_tau and m = J dgamma/dtau */
static berg_status geometry(const berg_bayes *b, berg_dictionary *d, const char *fn)
{
    double dgam[BERG_MAX_RANK];
    BERG_TRY(berg__bayes_map_exact(b, d->tau, d->gamma, dgam, fn));
    BERG_TRY(berg__bayes_geometry_at(b, d->tau, 1, d->gamma, d->jacobian, d->fisher,
                                     d->inverse_metric, fn));
    for (size_t i = 0; i < d->dy; i++) {
        double s = 0.0;
        for (size_t k = 0; k < d->du; k++)
            s += d->jacobian[i * d->du + k] * dgam[k];
        BERG_REQUIRE(isfinite(s), BERG_ERR_NONFINITE,
                     "%s: the drift m[%zu] = J dgamma/dtau overflows at tau = %g", fn, i, d->tau);
        d->drift[i] = s;
    }
    return BERG_OK;
}

berg_status berg_dictionary_create(berg_dictionary **out, const berg_bayes *b, double tau)
{
    static const char fn[] = "berg_dictionary_create";
    berg_status st;
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_ptr(b, fn, "b"));
    BERG_REQUIRE(isfinite(tau) && tau > 0.0, BERG_ERR_TIME, "%s: tau = %g must be finite and > 0",
                 fn, tau);
    BERG_TRY(berg__bayes_need_location_truth(b, fn));
    berg_dictionary *d = berg__alloc(1, sizeof *d, fn);
    if (!d)
        return berg_last_status();
    memset(d, 0, sizeof *d);
    d->b = b;
    d->generation = b->generation;
    d->tau = tau;
    d->du = b->du;
    d->dy = b->dy;
    d->ny = b->ny;
    if (!(d->potential = berg__alloc(b->ny, sizeof(double), fn))) {
        st = berg_last_status();
        goto fail;
    }
    BERG_TRY_GOTO(st, geometry(b, d, fn), fail);
    BERG_TRY_GOTO(st, berg__fisher_inverse(d->du, d->fisher, d->fisher_inv, fn), fail);
    BERG_TRY_GOTO(st, berg__bayes_phi_grid(b, d->gamma, d->potential, fn), fail);
    for (size_t j = 0; j < d->ny; j++)
        d->potential[j] = -d->potential[j];
    *out = d;
    return BERG_OK;
fail:
    berg_dictionary_destroy(d);
    return st;
}

void berg_dictionary_destroy(berg_dictionary *d)
{
    if (!d)
        return;
    berg__free(d->potential);
    berg__free(d);
}

double berg_dictionary_tau(const berg_dictionary *d)
{
    return d ? d->tau : NAN;
}

/* the getters: check the pointers, copy count values of a field */
#define GETTER(name, arg, field, count)                                                            \
    berg_status name(const berg_dictionary *d, double *arg)                                        \
    {                                                                                              \
        static const char fn[] = #name;                                                            \
        BERG_TRY(berg__check_ptr(d, fn, "d"));                                                     \
        BERG_TRY(berg__check_ptr(arg, fn, #arg));                                                  \
        memcpy(arg, d->field, (count) * sizeof(double));                                           \
        return BERG_OK;                                                                            \
    }

GETTER(berg_dictionary_map, gamma, gamma, d->du)
GETTER(berg_dictionary_inverse_metric, K, inverse_metric, d->dy * d->dy)
GETTER(berg_dictionary_parameter_inverse_metric, Iinv, fisher_inv, d->du * d->du)
GETTER(berg_dictionary_fisher, Imat, fisher, d->du * d->du)
GETTER(berg_dictionary_jacobian, J, jacobian, d->dy * d->du)
GETTER(berg_dictionary_drift, m, drift, d->dy)
GETTER(berg_dictionary_potential, V, potential, d->ny)

berg_status berg_dictionary_heat_time(const berg_dictionary *d, double *t)
{
    static const char fn[] = "berg_dictionary_heat_time";
    BERG_TRY(berg__check_ptr(d, fn, "d"));
    BERG_TRY(berg__check_ptr(t, fn, "t"));
    BERG_REQUIRE(d->dy == 1, BERG_ERR_UNSUPPORTED,
                 "%s: a scalar heat time exists only for dy = 1 (dy = %zu)", fn, d->dy);
    double v = 0.5 * d->inverse_metric[0] * d->tau;
    BERG_REQUIRE(isfinite(v), BERG_ERR_NONFINITE,
                 "%s: t = K tau / 2 overflows (K = %g, tau = %g)", fn, d->inverse_metric[0],
                 d->tau);
    *t = v;
    return BERG_OK;
}

berg_status berg_dictionary_scheme(const berg_dictionary *d, const double *u, double *sigma)
{
    static const char fn[] = "berg_dictionary_scheme";
    BERG_TRY(berg__check_ptr(d, fn, "d"));
    BERG_TRY(berg__check_ptr(u, fn, "u"));
    BERG_TRY(berg__check_ptr(sigma, fn, "sigma"));
    BERG_TRY(berg__check_finite(u, d->du, fn, "u"));
    const berg_bayes *b = d->b;
    BERG_REQUIRE(b->generation == d->generation, BERG_ERR_MISMATCH,
                 "%s: the berg_bayes this dictionary was built from has a new model or truth since",
                 fn);
    double *phi = berg__alloc(d->ny, sizeof(double), fn);
    if (!phi)
        return berg_last_status();
    berg_status st = berg__bayes_phi_grid(b, u, phi, fn);
    if (st == BERG_OK)
        for (size_t j = 0; j < d->ny; j++) {
            double phig = -d->potential[j];
            sigma[j] = (phi[j] == -HUGE_VAL && phig == -HUGE_VAL) ? 0.0 : phi[j] - phig;
        }
    berg__free(phi);
    return st;
}

/* ---- ERG -> Bayes ------------------------------------------------------ */

berg_status berg_dictionary_from_erg(const berg_space *data, const double *V, double *p0,
                                     double *Kmodel)
{
    static const char fn[] = "berg_dictionary_from_erg";
    berg_status st;
    BERG_TRY(berg__check_ptr(data, fn, "data"));
    BERG_TRY(berg__check_ptr(V, fn, "V"));
    BERG_TRY(berg__check_ptr(p0, fn, "p0"));
    BERG_TRY(berg__check_ptr(Kmodel, fn, "Kmodel"));
    BERG_TRY(berg__check_finite(V, data->size, fn, "V"));
    size_t n = data->size, d = (size_t)data->ndim;
    double *q = berg__alloc(n, sizeof(double), fn);
    double Imat[BERG_MAX_RANK * BERG_MAX_RANK], Ki[BERG_MAX_RANK * BERG_MAX_RANK];
    if (!q)
        return berg_last_status();
    double vmin = HUGE_VAL;
    for (size_t j = 0; j < n; j++)
        vmin = fmin(vmin, V[j]);
    for (size_t j = 0; j < n; j++)
        q[j] = exp(-(V[j] - vmin));
    double z = berg__sum(q, n) * data->weight;
    for (size_t j = 0; j < n; j++)
        q[j] /= z;
    const char *ctx = "Fisher metric of the fixed point exp(-V)";
    BERG_TRY_GOTO(st, berg_fisher_location(data, q, Imat), rewrap);
    ctx = "inverse of the Fisher metric of exp(-V)";
    BERG_TRY_GOTO(st, berg_fisher_inverse(d, Imat, Ki), rewrap);
    memcpy(p0, q, n * sizeof(double));
    memcpy(Kmodel, Ki, d * d * sizeof(double));
    goto done;
rewrap:
    berg__dict_rewrap(st, fn, ctx);
done:
    berg__free(q);
    return st;
}
