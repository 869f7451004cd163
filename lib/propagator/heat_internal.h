/*
 * lib/propagator/heat_internal.h - the heat handle, shared by heat.c and
 * heat_channel.c. Not installed.
 */
#ifndef BERG_PROPAGATOR_HEAT_INTERNAL_H
#define BERG_PROPAGATOR_HEAT_INTERNAL_H

#include <limits.h>
#include <stdint.h>

#include "berg/heat.h"
#include "propagator/transform.h"

/* Immutable after creation; the mutable workspace lives in pool blocks. */
struct berg_heat {
    berg__xform x;                 /* plans (no buffers: BERG__XF_NOBUFS) */
    int separable;                 /* g^{-1} diagonal: per-axis factor tables */
    unsigned flags;                /* the creation flags */
    double *qaxis[BERG_MAX_RANK];  /* separable: g^{aa} k_a^2 per spectral index */
    double *qfull;                 /* coupled: q(k) per mode */
    size_t fac_off[BERG_MAX_RANK]; /* offsets of the factor tables in a block */
    size_t block_doubles;          /* doubles per scratch block */
    berg__pool pool;               /* scratch blocks, one per concurrent call */
};

/* one call's workspace: a pool block cut into the transform's buffers and
 * the factor tables e^{-t q} of the block's last t */
typedef struct berg__heat_work {
    double *block;
    berg__xscratch s;
    double *faxis[BERG_MAX_RANK];
    double *efull;
} berg__heat_work;

/* the creator behind berg_heat_create and berg_heat_create_ex (fn names
 * the public function for messages) */
berg_status berg__heat_create(berg_heat **out, const berg_space *space, size_t batch,
                              size_t nthreads, unsigned flags, const char *fn);
/* take / give back a workspace (BERG_ERR_NOMEM when none can be allocated) */
berg_status berg__heat_begin(const berg_heat *h, berg__heat_work *w, const char *fn);
void berg__heat_end(const berg_heat *h, berg__heat_work *w);
/* out = e^{t Delta_g} in for the handle's batch; inputs trusted */
void berg__heat_run(const berg_heat *h, berg__heat_work *w, double t, const double *in,
                    double *out);

#endif
