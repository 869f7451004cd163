/*
 * lib/propagator/fp_internal.h - the layout of berg_fp: the data shared by
 * both discretizations of the Fokker-Planck flow, a small table of the
 * operations that differ (finite volume: fp_volume.c, Fourier:
 * fp_fourier.c), the adaptive extrapolation controller both time steppers
 * use (extrapolate.c) and the grid-line solvers of the finite-volume
 * stepper (fp_lines.c). Not installed.
 *
 * A berg_fp is immutable after creation except for its tolerance
 * (configuration). Every call that needs a workspace takes one block of
 * the handle's scratch pool, so one handle serves many threads at once.
 */
#ifndef BERG_PROPAGATOR_FP_INTERNAL_H
#define BERG_PROPAGATOR_FP_INTERNAL_H

#include <stdint.h>

#include "berg/fokker_planck.h"
#include "space/internal.h"

/* steps of one evolve */
typedef struct berg__fp_steps {
    size_t accepted, rejected;
    berg__progress *progress; /* the evolve's progress (berg_fp_set_progress), or NULL */
} berg__fp_steps;

/* The coefficients of a time-dependent flow (berg_fp_evolve_field /
 * berg_fp_evolve_table; fp_time.c): a callback, or a table interpolated
 * linearly in t. */
typedef struct berg__fp_field {
    berg_fp_field_fn field;   /* the callback, or NULL for the table */
    void *user_data;
    size_t ntimes;            /* the table: ntimes knots */
    const double *times, *V, *g; /* g may be NULL (the space's metric) */
    const double *breaks;     /* the knots strictly inside (t0, t1), relative to t0 */
    size_t nbreaks;
} berg__fp_field;

/* V(t) - min V(t) into V (n values) and g(t)^{-1} into ginv (d x d); the
 * finite volume needs a diagonal g(t) (volume != 0). Every refusal names
 * fn and t (callback: BERG_ERR_CALLBACK for a failure or a non-finite
 * value; BERG_ERR_NOT_SPD, BERG_ERR_UNSUPPORTED for the metric,
 * BERG_ERR_DOMAIN for the range of V). */
berg_status berg__fp_field_eval(const berg_fp *fp, const berg__fp_field *src, double t,
                                int volume, double *V, double *ginv, const char *fn);

/* st with " (at t = ...)" appended to this thread's message */
berg_status berg__fp_at_time(berg_status st, double t);

/* What differs between the two discretizations. `scratch` is one block of
 * the handle's pool (at least the size the discretization asked for). */
typedef struct berg__fp_ops {
    /* out = e^{tL} in, t > 0, sum in > 0; in is finite and >= 0; out may
     * equal in and is written only on success */
    berg_status (*evolve)(const berg_fp *fp, double t, const double *in, double *out,
                          void *scratch, berg__fp_steps *steps, const char *fn);
    /* out = L in (transpose: L^T in); out may equal in */
    berg_status (*generator)(const berg_fp *fp, const double *in, double *out, int transpose,
                             void *scratch, const char *fn);
    /* S (n x n, row-major, zero on entry) = the symmetric form of L:
     * R^{-1} L R with R = diag(e^{-(V - min V)/2}) */
    berg_status (*symmetric)(const berg_fp *fp, double *S, void *scratch, const char *fn);
    void (*destroy)(void *tables);
    /* out = p(t0 + t) of the time-dependent flow src from in (t > 0, sum in
     * > 0; step: 0 adaptive, > 0 fixed); allocates its workspace; out may
     * equal in and is written only on success */
    berg_status (*evolve_field)(const berg_fp *fp, const berg__fp_field *src, double t0,
                                double t, double step, const double *in, double *out,
                                berg__fp_steps *steps, const char *fn);
} berg__fp_ops;

struct berg_fp {
    berg_space space;
    size_t n;                 /* grid size */
    double *V;                /* V - min V (>= 0) */
    double vmin, vmax;        /* of the original V */
    int absorbing;            /* some axis is Dirichlet (mass leaks) */
    int fourier;              /* BERG_FP_FOURIER (else finite volume) */
    double tol;               /* configuration: berg_fp_set_tolerance */
    uint64_t id;              /* unique per handle: key of the thread-local step reports */
    const berg__fp_ops *ops;  /* the discretization */
    void *tables;             /* its immutable tables */
    berg__pool scratch;       /* per-call workspace */
    berg_progress_fn progress; /* configuration: berg_fp_set_progress */
    void *progress_data;
    size_t nthreads;          /* configuration: berg_fp_set_threads (0: berg_threads()) */
};

/* the scratch pool of a handle used through a const pointer (the pool is
 * the one mutable, internally locked part of the handle) */
static inline berg__pool *berg__fp_pool(const berg_fp *fp)
{
    return (berg__pool *)(uintptr_t)&fp->scratch;
}

/* fp.c, shared with fp_time.c: the thread's step report of a handle; the
 * power-of-two scale of a state near the ends of the double range (1:
 * none); out = y / scale, refused when that exceeds DBL_MAX */
void berg__fp_record_steps(const berg_fp *fp, const berg__fp_steps *steps);
double berg__fp_state_scale(const double *in, size_t n);
berg_status berg__fp_unscale(const double *y, size_t n, double scale, const char *what,
                             double *out, const char *fn);

/* Discretization set-up: fills fp->ops and fp->tables and the number of
 * scratch bytes a call needs. fp->space, n, V, vmin, vmax and absorbing are
 * set; on failure the tables are freed by the callee. */
berg_status berg__fp_volume_init(berg_fp *fp, size_t *scratch_bytes, const char *fn);
berg_status berg__fp_fourier_init(berg_fp *fp, unsigned flags, size_t *scratch_bytes,
                                  const char *fn);

/* Carving a scratch block into arrays: a first pass with base NULL counts
 * the bytes, a second pass over the block hands out the arrays. Every array
 * starts at a multiple of 64 bytes from the (aligned) block, so FFTW plans
 * made on berg__alloc buffers execute on them. */
typedef struct berg__fp_arena {
    char *base;
    size_t used;
} berg__fp_arena;

static inline void *berg__fp_take(berg__fp_arena *a, size_t count, size_t size)
{
    void *p = a->base ? (void *)(a->base + a->used) : NULL;
    a->used += (count * size + 63u) / 64u * 64u;
    return p;
}

/* index of the neighbour of cell i on axis a in direction dir (+1 / -1),
 * wrapping on periodic axes; SIZE_MAX where there is none */
static inline size_t berg__fp_neighbour(const berg_space *s, size_t i, size_t a, int dir)
{
    size_t stride = s->stride[a], na = s->n[a];
    size_t c = (i / stride) % na;
    if (dir > 0) {
        if (c + 1 < na)
            return i + stride;
        if (s->bc[a] == BERG_PERIODIC && na > 1)
            return i - (na - 1) * stride;
        return SIZE_MAX;
    }
    if (c > 0)
        return i - stride;
    if (s->bc[a] == BERG_PERIODIC && na > 1)
        return i + (na - 1) * stride;
    return SIZE_MAX;
}

/* Bernoulli function B(x) = x / (e^x - 1), B(0) = 1, stable everywhere. */
double berg__bernoulli(double x);
/* (x/2) / sinh(x/2): the symmetrized rate factor sqrt(B(x) B(-x)). */
double berg__bernoulli_sym(double x);

/* ---- the adaptive extrapolation controller (extrapolate.c) --------------
 * Integrates y' = L y over [0, t] with a first-order (or symmetric,
 * second-order) one-step method Phi: T_j = Phi_{tau/j}^j y for j = 1..K
 * are extrapolated by Aitken-Neville over the harmonic sequence (in tau, or
 * in tau^2 for a symmetric Phi) to T_KK; the weighted L1 norm of its last
 * correction, relative to error_scale(y), is kept below tol by adapting tau.
 */
typedef struct berg__extrap {
    size_t n;                 /* values per state */
    size_t stages;            /* K >= 2 */
    int in_tau_squared;       /* the error of Phi expands in powers of tau^2 */
    const double *weight;     /* error weight per value, or NULL for 1 */
    double tol;
    double exponent;          /* step factor 0.9 (tol / err)^exponent, clamped to [0.2, 4] */
    int hold_small_growth;    /* keep tau when an accepted factor is in [1, 1.3) */
    double tau_max;           /* longest step (INFINITY: none) */
    double stiffness;         /* largest rate: collapse when tau < 1e-13 t and tau
                                 stiffness < 1e-6 */
    /* time-dependent flows (zero for berg_fp_evolve): */
    double t0;                /* the time of the start: step() gets t0 + elapsed */
    const double *breaks;     /* nbreaks increasing times in (0, t), relative to the start:
                                 no step crosses one (knots of a table) */
    size_t nbreaks;
    double fixed_step;        /* > 0: equal steps of at most this length between breaks,
                                 never adapted; an estimate above tol is NO_CONVERGENCE */
    int base_result;          /* with fixed_step and K = 2: the result is T_11 itself, its
                                 error (T_21 - T_11) r / (r - 1), r = 2 or 4 */
    /* out = Phi_{tau/j}^j y for the step starting at time t */
    berg_status (*step)(void *ctx, double t, double tau, size_t j, const double *y, double *out);
    /* the scale the error estimate is relative to (> 0, or 0: any error passes) */
    double (*error_scale)(void *ctx, const double *y);
    /* y = the accepted T_KK (res may be modified); returns 1 when y is the
     * equilibrium to the tolerance, which ends the integration */
    int (*accept)(void *ctx, double *res, double *y);
    void *ctx;
} berg__extrap;

/* the step budget of one integration (accepted + rejected) */
#define BERG__EXTRAP_MAX_STEPS ((size_t)20000)

/* y <- y(t), starting with the step tau; T holds K arrays of n values.
 * BERG_ERR_NO_CONVERGENCE (named fn) when the step size collapses; a step's
 * failure is forwarded. */
berg_status berg__extrap_run(const berg__extrap *e, double t, double tau, double *y,
                             double *const *T, berg__fp_steps *steps, const char *fn);

/* ---- finite-volume tables and their grid-line solvers (fp_lines.c) ----- */
typedef struct berg__fp_volume {
    /* jump rates per axis a (arrays a * n + i): cell i to its + neighbour on
     * axis a (wrapping on periodic axes), to its - neighbour, to the
     * absorbing wall (Dirichlet edge cells) */
    double *rate_up, *rate_down, *rate_wall;
    double *exit_rate;        /* sum over axes: -L_ii */
    double max_rate;          /* max_i -L_ii */
    size_t longest_line;
} berg__fp_volume;

/* scratch of one sweep: four arrays of longest_line values (the right-hand
 * side has room for twice that) */
typedef struct berg__fp_line_work {
    double *sub, *diag, *super, *rhs;
} berg__fp_line_work;

/* x <- (I - tau L_a)^{-1} x on every grid line of axis a */
berg_status berg__fp_sweep_axis(const berg_fp *fp, const berg__fp_volume *fv, size_t a,
                                double tau, double *x, const berg__fp_line_work *w,
                                const char *fn);

#endif
