/*
 * lib/propagator/heat_internal.h - the heat handle, shared by heat.c and
 * heat_channel.c. Not installed.
 */
#ifndef BERG_PROPAGATOR_HEAT_INTERNAL_H
#define BERG_PROPAGATOR_HEAT_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "berg/heat.h"
#include "propagator/transform.h"

/* ---- the direct path (heat_direct.c) ----------------------------------
 * Separable convolution with the exact discrete kernel of each axis of a
 * diagonal metric; see heat_direct.c for the kernels and their truncation.
 * BERG__HDIR_WMAX is the largest half-width the direct path considers. */
#define BERG__HDIR_WMAX 160

typedef struct berg__hdir_axis {
    size_t n;       /* cells */
    int bc;         /* berg_boundary */
    double h, gaa;  /* cell width, g^{aa} */
    size_t period;  /* of the extension: n (periodic) or 2 n */
} berg__hdir_axis;

typedef struct berg__hdir {
    int ndim, fd, usable;       /* usable: the metric is diagonal */
    size_t batch, nreal, nthreads;
    berg__hdir_axis ax[BERG_MAX_RANK];
    /* the crossover model, measured once on first need (under lock) */
    pthread_mutex_t lock;
    int lock_live;
    atomic_int measured;
    double fft_seconds;                 /* one spectral step */
    double pass_a[BERG_MAX_RANK], pass_b[BERG_MAX_RANK]; /* job j: a + b taps */
    double pad_a, pad_b;                /* the last job, contiguous axis in pad form */
} berg__hdir;

/* the kernels of one time: g[a][0..w[a]] (symmetric), compact when every
 * axis' kernel fits (w[a] <= WMAX) */
typedef struct berg__hdir_kernel {
    int compact;
    size_t w[BERG_MAX_RANK];
    double g[BERG_MAX_RANK][BERG__HDIR_WMAX + 1];
} berg__hdir_kernel;

/* doubles a kernel struct takes in a scratch block (64-byte rounded) */
#define BERG__HDIR_KERNEL_DOUBLES \
    ((sizeof(berg__hdir_kernel) + sizeof(double) - 1) / sizeof(double) + 8)

berg_status berg__hdir_init(berg__hdir *e, const berg_space *s, size_t batch, int fd,
                            size_t nthreads, const char *fn);
void berg__hdir_free(berg__hdir *e);
/* the kernels of time t (in units of the symbol: heat t, or lambda t) */
void berg__hdir_kernels(const berg__hdir *e, double t, berg__hdir_kernel *k);
/* doubles of the panels a run works in (one per thread) */
size_t berg__hdir_panel_doubles(const berg__hdir *e);
/* out = the direct result for the whole batch; tmp holds batch * nreal
 * doubles, panels berg__hdir_panel_doubles(e); in may equal out; run on
 * e->nthreads threads */
void berg__hdir_run(const berg__hdir *e, const berg__hdir_kernel *k, const double *in,
                    double *out, double *tmp, double *panels);
/* whether berg__hdir_run_scanned can run: the first job writes tmp */
int berg__hdir_scans(const berg__hdir *e);
/* berg__hdir_run with the input's check made by its first job: the sum
 * of |in| over the batch (in some order, to a relative n 2^-52; NaN or
 * infinite when a value is), handed to takes. 1 when takes accepts it and
 * the run is done; 0 when not, and nothing is written to out. Under
 * flush-to-zero, like berg__hdir_run (subnormal values count as 0). */
int berg__hdir_run_scanned(const berg__hdir *e, const berg__hdir_kernel *k, const double *in,
                           double *out, double *tmp, double *panels,
                           int (*takes)(double sum, const void *ctx), const void *ctx);
/* one spectral step of the owner on its own scratch (for the measurement) */
typedef berg_status (*berg__hdir_fft_fn)(void *ctx, const char *fn);
/* *use = run the direct path for kernel k: force > 0 whenever compact,
 * force < 0 never, else when compact and the measured model predicts it
 * faster than the spectral step (measured on first need) */
berg_status berg__hdir_choose(const berg__hdir *e, const berg__hdir_kernel *k, int force,
                              berg__hdir_fft_fn fft, void *fft_ctx, int *use, const char *fn);
/* the predicted seconds of the direct path for k (model measured) */
double berg__hdir_predict(const berg__hdir *e, const berg__hdir_kernel *k);

/* Immutable after creation (but for the measured crossover, set once under
 * its lock); the mutable workspace lives in pool blocks. */
struct berg_heat {
    berg__xform x;                 /* plans (no buffers: BERG__XF_NOBUFS) */
    int separable;                 /* g^{-1} diagonal: per-axis factor tables */
    unsigned flags;                /* the creation flags */
    double *qaxis[BERG_MAX_RANK];  /* separable: g^{aa} k_a^2 per spectral index */
    double *qfull;                 /* coupled: q(k) per mode */
    size_t fac_off[BERG_MAX_RANK]; /* offsets of the factor tables in a block */
    size_t kern_off;               /* offset of the direct kernels in a block */
    size_t panel_off;              /* offset of the direct path's panels */
    size_t block_doubles;          /* doubles per scratch block */
    berg__hdir direct;             /* the direct path (diagonal metrics) */
    int force;                     /* +1 BERG_HEAT_DIRECT, -1 BERG_HEAT_SPECTRAL, 0 */
    berg__pool pool;               /* scratch blocks, one per concurrent call */
};

/* one call's workspace: a pool block cut into the transform's buffers and
 * the factor tables e^{-t q} of the block's last t */
typedef struct berg__heat_work {
    double *block;
    berg__xscratch s;
    double *faxis[BERG_MAX_RANK];
    double *efull;
    berg__hdir_kernel *kern; /* the direct kernels of the block's last t */
    double *panels;          /* the direct path's panels */
} berg__heat_work;

/* the creator behind berg_heat_create and berg_heat_create_ex (fn names
 * the public function for messages) */
berg_status berg__heat_create(berg_heat **out, const berg_space *space, size_t batch,
                              size_t nthreads, unsigned flags, const char *fn);
/* take / give back a workspace (BERG_ERR_NOMEM when none can be allocated) */
berg_status berg__heat_begin(const berg_heat *h, berg__heat_work *w, const char *fn);
void berg__heat_end(const berg_heat *h, berg__heat_work *w);
/* whether a run at time t > 0 takes the direct path (sets w's tables for t) */
int berg__heat_uses_direct(const berg_heat *h, berg__heat_work *w, double t);
/* whether the sum of |in| that berg__hdir_run_scanned hands over (heat: the
 * berg_heat) is one whose input the apply runs unscaled, by input_scale's
 * rule with a margin for the order of the sums */
int berg__heat_scan_takes(double sum, const void *heat);
/* out = e^{t Delta_g} in for the handle's batch; inputs trusted */
void berg__heat_run(const berg_heat *h, berg__heat_work *w, double t, const double *in,
                    double *out);

#endif
