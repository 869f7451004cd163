/*
 * lib/metric/sinkhorn_internal.h - the berg_sinkhorn handle and the pieces
 * its solves share: the two Gibbs kernels, scratch, reports, messages.
 *
 * Discrete problem. With cell weight w, a_i = p_i w, b_j = q_j w (p, q
 * normalized) and K_ij = exp(-c_ij / eps),
 *   OT_eps = max_{f,g} <f, a> + <g, b> - eps <a (x) b, e^{(f+g-c)/eps} - 1>.
 * The heat kernel of Delta_g at t = eps/4 is, as a density on Vol_S,
 * H(x, y) = (pi eps)^{-d/2} e^{-|x-y|_g^2 / eps} (summed over images on
 * periodic / Neumann axes), and berg_heat_apply computes
 * heat(f)_i = sum_j H_ij f_j w. So K(b v) = C heat(q v) with C = (pi eps)^{d/2}.
 *
 * Scaling mode iterates u = 1 / heat(q v), v = 1 / heat(p u) (the constant
 * split evenly between the two scalings); the potentials are
 * f = eps log u - (eps/2) log C, g likewise.
 *
 * Log-domain mode iterates on F = f/eps, G = g/eps:
 *   F = -Klog(log q + G),  G = -Klog(log p + F),
 *   Klog(phi)_i = log sum_j K_ij w e^{phi_j},
 * evaluated exactly (row-wise max shift) axis by axis, since for a diagonal
 * metric K is the tensor product of 1-D kernels K^a_ij = sum over images
 * exp(-g_aa (x_i - y'_j)^2 / eps).
 */
#ifndef BERG_SINKHORN_INTERNAL_H
#define BERG_SINKHORN_INTERNAL_H

#include <stdint.h>

#include "berg/heat.h"
#include "berg/transport.h"
#include "space/internal.h"

#define BERG__SINKHORN_LOG_MAX_AXIS 4096 /* log-domain tables are n_a^2 doubles */
#define BERG__SINKHORN_AUTO_MAX_AXIS 1024 /* the default mode builds tables up to this */
#define BERG__SINKHORN_MAX_IMAGES 64     /* images on each side in the log-domain kernel */

/* The three iterations (berg_sinkhorn_report_mode gives their flags). */
enum {
    BERG__SK_AUTO = 0,
    BERG__SK_FFT = 1,  /* scaling, FFT heat kernel */
    BERG__SK_STAB = 2, /* scaling, exact separable kernel, absorbed potentials */
    BERG__SK_LOG = 3   /* log domain */
};

/* Immutable after creation but for the configuration setters; the pool is
 * internally locked (solves take scratch from it through a const handle). */
struct berg_sinkhorn {
    berg_space space;
    uint64_t id;                 /* unique per handle: keys the thread-local reports */
    double eps;
    unsigned flags;              /* BERG_PLAN_ESTIMATE is passed on to the heat kernel */
    int log_domain;              /* created with BERG_SINKHORN_LOG_DOMAIN */
    int mode;                    /* BERG__SK_AUTO or the mode the flags fixed */
    int tables;                  /* log_kernel / kernel filled (STAB and LOG usable) */
    size_t threads;              /* berg_sinkhorn_set_threads; 0: berg_set_threads() */
    size_t max_iter;
    double tol;
    double cost_bound;           /* sum_ab |g_ab| L_a L_b >= max c over the box */
    double res_h2;               /* max_a g_aa h_a^2: the grid's kernel resolution */
    berg_heat *heat;             /* scaling mode: e^{(eps/4) Delta_g} */
    double *log_kernel[BERG_MAX_RANK]; /* n_a x n_a log-kernel per axis */
    double *kernel[BERG_MAX_RANK];     /* its exponential (may underflow) */
    size_t max_axis;             /* largest n_a */
    size_t sum_axis;             /* sum of n_a */
    size_t sum_axis2;            /* sum of n_a^2 */
    size_t lse_words;            /* doubles of log-sum-exp / stabilized scratch */
    berg__pool scratch;          /* blocks of 6 N + lse_words doubles */
    berg_progress_fn progress;   /* berg_sinkhorn_set_progress (configuration) */
    void *progress_data;
};

/* A solve's outcome for berg_sinkhorn_report. */
typedef struct berg__sinkhorn_run {
    double err;
    size_t iters;
    int mode; /* BERG__SK_FFT, _STAB or _LOG: the iteration that produced it */
} berg__sinkhorn_run;

/* The iteration a call runs: the handle's fixed mode, or (default mode)
 * the FFT scaling while the kernel's tails it needs are above the FFT's
 * round-off (the squared extent D^2 of the union of the k measures'
 * supports (k measures back to back at meas, and more unless NULL) below 25 eps, eps >= 4 max_a g_aa h_a^2) or below the grid's
 * resolution (eps < max_a g_aa h_a^2, as in 1.0), else the stabilized one
 * (which falls back on the log domain when its scalings leave the range). */
int berg__sinkhorn_pick(const berg_sinkhorn *sk, const double *meas, size_t k,
                        const double *more);
/* the squared extent D^2 (metric) of the union of the supports (as pick) */
double berg__sinkhorn_extent2(const berg_sinkhorn *sk, const double *meas, size_t k,
                              const double *more);

/* Record run as the calling thread's last solve on sk. */
void berg__sinkhorn_record(const berg_sinkhorn *sk, berg__sinkhorn_run run);

/* A scratch block (6 N + sk->lse_words doubles), or NULL with NOMEM recorded;
 * give it back with berg__sinkhorn_scratch_put. */
double *berg__sinkhorn_scratch_get(const berg_sinkhorn *sk, const char *fn);
void berg__sinkhorn_scratch_put(const berg_sinkhorn *sk, double *block);

/* Scaling mode: out = heat(in) at t = eps/4, and *kfloor the value to
 * divide by at least (a fixed fraction of max out). Fails (messages naming
 * fn) when the heat apply fails (BERG_ERR_NOMEM for a concurrent caller's
 * scratch) or the output has no positive finite maximum (the scalings
 * under- or overflowed: BERG_ERR_NO_CONVERGENCE). */
berg_status berg__sinkhorn_heat(const berg_sinkhorn *sk, const char *fn, const double *in,
                                double *out, double *kfloor);

/* Prefix the last error (recorded by a callee under its own name) with fn,
 * the function the caller called; returns st. */
berg_status berg__sinkhorn_reprefix(const char *fn, berg_status st);

/* Log mode, in place: x <- Klog(x); x may hold -inf. scratch holds
 * sk->lse_words doubles. */
void berg__sinkhorn_logsumexp(const berg_sinkhorn *sk, double *x, double *scratch);

/* Fill the log-kernel tables of a log-domain handle (space, eps set). */
void berg__sinkhorn_fill_kernels(berg_sinkhorn *sk);

/* Image sums: how far the axis-a kernel reaches (in axis lengths), and
 * whether the log domain's image sums cover it. */
double berg__sinkhorn_image_reach(const berg_space *s, size_t a, double eps);
int berg__sinkhorn_images_cover(const berg_space *s, size_t a, double eps);

/* BERG_ERR_NO_CONVERGENCE: the scaling mode's scalings left the floating
 * point range at index i (eps too small for the scaling mode). */
berg_status berg__sinkhorn_lost_at(const berg_sinkhorn *sk, const char *fn, size_t i);
/* the same, at the first index of a (n values) that is not finite, else the
 * first that is not positive */
berg_status berg__sinkhorn_lost(const berg_sinkhorn *sk, const char *fn, const double *a,
                                size_t n);
/* Log domain: BERG_ERR_DOMAIN when the tolerance is below the rounding
 * floor of the potentials F = f/eps, which reach cost_bound / eps (their
 * rounding, 4 DBL_EPSILON cost_bound / eps, is the error of the measured
 * marginal gap; 1e-3 stands for a tolerance of 0); BERG_OK otherwise and
 * in the scaling mode. */
berg_status berg__sinkhorn_check_resolution(const berg_sinkhorn *sk, const char *fn);
/* BERG_ERR_NO_CONVERGENCE when tolerance > 0 and err > tolerance, naming
 * what the error measures; BERG_OK otherwise */
berg_status berg__sinkhorn_converged(const berg_sinkhorn *sk, const char *fn, const char *what,
                                     berg__sinkhorn_run run);

/* ---- threads and vector math (sinkhorn_vec.c) ---------------------------- */

/* the threads of a call on sk */
size_t berg__sinkhorn_threads(const berg_sinkhorn *sk);
/* body over [0, n) in a split that depends on n only (partial sums indexed
 * by range add up the same on any thread count); at most BERG__SK_RANGES */
#define BERG__SK_RANGES 16
size_t berg__sinkhorn_ranges(const berg_sinkhorn *sk, size_t n, berg__range_fn body, void *ctx);
/* the same ranges on nthreads threads (1: in the calling thread) */
size_t berg__sinkhorn_ranges_on(size_t nthreads, size_t n, berg__range_fn body, void *ctx);
/* y = exp(x), y = log(x) elementwise (glibc's vector variants where the
 * compiler can call them; y may be x) */
void berg__sinkhorn_vexp(double *y, const double *x, size_t n);
void berg__sinkhorn_vlog(double *y, const double *x, size_t n);

/* ---- the stabilized mode's separable kernel (sinkhorn_dense.c) ----------- */

/* Per-axis potentials of one coupling: A_a (u side) and B_a (v side),
 * sum_a n_a doubles each, and the tables T_a(i, j) = e^{A_a(i) + B_a(j) +
 * LK_a(i, j)} (sum_a n_a^2 doubles). */
typedef struct berg__sk_coupling {
    double *A, *B, *T;
    double scale; /* the tables use scale LK (eps / eps_k in an annealing stage); 1 */
} berg__sk_coupling;

/* doubles of one coupling (A, B, T) */
size_t berg__sinkhorn_coupling_words(const berg_sinkhorn *sk);
berg__sk_coupling berg__sinkhorn_coupling_at(const berg_sinkhorn *sk, double *block);
/* A = B = 0, T = the kernel tables */
void berg__sinkhorn_coupling_reset(const berg_sinkhorn *sk, berg__sk_coupling *c);
/* T from A, B; 0 when an entry overflowed */
int berg__sinkhorn_coupling_tables(const berg_sinkhorn *sk, berg__sk_coupling *c);
/* out = T in (transpose = 0: sum over the v index) or T^t in; tmp holds N */
void berg__sinkhorn_dense(const berg_sinkhorn *sk, const berg__sk_coupling *c, int transpose,
                          const double *in, double *out, double *tmp);
/* the same for the rows [row0, row1) of out's first axis only (all of
 * them written; tmp's rows of the same range used): calls on disjoint
 * rows may run at once */
void berg__sinkhorn_dense_rows(const berg_sinkhorn *sk, const berg__sk_coupling *c,
                               int transpose, const double *in, double *out, double *tmp,
                               size_t row0, size_t row1);
/* the middle of the output box along the first axis: where two row
 * halves of equal work meet */
size_t berg__sinkhorn_dense_mid(const berg_sinkhorn *sk, const berg__sk_coupling *c,
                                int transpose);
/* OpenBLAS packs both operands of a product (m x k) (k x n) into blocks
 * before it multiplies, the k x n one whole whichever rows of the output
 * a call computes: two calls on halves of the rows pack it twice. Timed
 * here (OpenBLAS 0.3.21, one thread), Y (m x 256) = M (m x 256) X (256 x
 * 256) took 44 us + 2.55 us m for m from 16 to 256: one packed value costs
 * as much as 17 multiply-adds. */
#define BERG__SK_PACK_COST 17.0
/* the work of berg__sinkhorn_dense_rows on [row0, row1): per product m k n
 * multiply-adds and BERG__SK_PACK_COST (m k + k n) for the packing (the
 * measure by which whole products and halves are dealt to threads) */
double berg__sinkhorn_dense_cost(const berg_sinkhorn *sk, const berg__sk_coupling *c,
                                 int transpose, size_t row0, size_t row1);
/* out[i] += sum_a P_a(i_a) (P: the per-axis potentials, axis after axis),
 * axis 0 first for every cell */
void berg__sinkhorn_add_potentials(const berg_space *s, const double *P, double *out);
/* Absorb log-scalings L (N values, only where valid[i] > 0; valid may be
 * NULL: every cell) into the per-axis potentials P (A or B): P += a
 * separable fit r of L, and scal = e^{L - r} where valid, 0 elsewhere; acc
 * holds sum n_a + sum n_a doubles. Returns 0 when the residual scalings
 * leave [1e-120, 1e120]. */
int berg__sinkhorn_absorb(const berg_sinkhorn *sk, double *P, const double *L,
                          const double *valid, double *scal, double *acc);

/* dst = src / (mass * w): a measure normalized to a density (src validated) */
void berg__sinkhorn_normalize(const berg_space *s, const double *src, double mass, double *dst);

#endif
