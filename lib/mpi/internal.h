/*
 * lib/mpi/internal.h - libberg_mpi's internals: errors and collective
 * agreement, the distributed space, and the distributed spectral transform
 * (FFTW-MPI, transposed spectral layout). Not installed.
 *
 * libberg_mpi links against the shared libberg and sees only its public
 * API (libberg's berg__ helpers are hidden): everything it needs of them is
 * here, prefixed berg__mpi_.
 *
 * ---- for the modules built on it (heat.c, multiplier.c, and mpifield's
 * fp*.c, field*.c, langevin*.c) -------------------------------------------
 *
 * Errors: record with berg__mpi_error(status, fmt, ...) (the message names
 * the public function and the argument, as libberg's); a failure of a
 * libberg call is taken over with berg__mpi_from_core(status). A
 * collective function checks its arguments locally, then calls
 *     BERG_MPI_TRY(berg__mpi_agree(comm, st));
 * which returns on every rank the status of the lowest failing rank and
 * copies its message to all ranks: no rank goes on when one refused.
 *
 * Space (struct berg_mpi_space): a copy of the global berg_space, the
 * duplicated communicator, and this rank's slab: rows [off0, off0 + n0loc)
 * of axis 0, local arrays of size = n0loc * row doubles, C order.
 *
 * Transform (berg__mpi_xform), the distributed berg__xform of libberg:
 *     berg__mpi_xform x;
 *     BERG_MPI_TRY(berg__mpi_xform_init(&x, space, batch, flags, fn));   collective
 *     berg__mpi_xform_load(&x, in, scale);    local blocks -> x.rbuf (pad, interleave)
 *     berg__mpi_xform_forward(&x);            x.rbuf -> x.sbuf (collective, 1 transpose)
 *     ... multiply x.sbuf mode by mode (x.nloc local modes) ...
 *     berg__mpi_xform_backward(&x, x.sbuf);   -> x.rbuf (collective, 1 transpose)
 *     berg__mpi_xform_store(&x, out, scale);  x.rbuf -> local blocks
 *     berg__mpi_xform_free(&x);               collective (frees a communicator)
 * Kinds, as the serial transform: all periodic axes r2c (complex spectrum,
 * last axis n/2 + 1 entries); no periodic axis r2r DCT-II/DST-II; mixed
 * spaces (flag BERG__MPI_XF_EVEN required: symbols even in every k_a) r2r
 * with R2HC/HC2R on the periodic axes (index j holds frequency min(j, n-j)).
 * A mixed space without BERG__MPI_XF_EVEN is refused (UNSUPPORTED), and so
 * is rank 1.
 *
 * Spectral layout (FFTW_MPI_TRANSPOSED_OUT): the local spectral block is
 *     [j1 in s1 .. s1 + n1loc) x [j0 in 0 .. sshape[0]) x [j2] x ... x [j_{d-1}] x [batch]
 * i.e. axes in the order 1, 0, 2, ..., d-1, axis 1 distributed, the batch
 * innermost (interleaved). Entry e (0 <= e < x.nloc, one per mode, batch
 * excluded) starts at double (e * batch + b) * (is_complex ? 2 : 1) of
 * x.sbuf. berg__mpi_xform_index(x, e, idx) gives the global spectral index
 * of every axis (original numbering); x.kaxis[a][idx[a]] its wave number
 * (signed on periodic r2c axes; |k| on R2HC axes; pi m / L Neumann,
 * pi (m + 1) / L Dirichlet); x.nyquist[a] the Nyquist index of an even
 * periodic axis or -1. berg__mpi_mode_quad gives k . g^{-1} k of a mode
 * exactly as libberg's heat symbol (cross terms 0 at Nyquist; fd: the
 * finite-difference form), so tables built with it equal the serial ones.
 *
 * Real layout of x.rbuf: [i0 < n0loc] x [i1] x ... x [i_{d-1} < rpad] x
 * [batch], rpad = 2 (n_{d-1}/2 + 1) for r2c (FFTW's padding), n_{d-1}
 * otherwise. load/store convert from/to the user's layout (batch local
 * blocks one after the other) and multiply by `scale`.
 *
 * Normalization: forward then backward multiplies by prod_a s_a, s_a = n_a
 * (periodic) or 2 n_a (Neumann, Dirichlet); x.axis_norm[a] = 1 / s_a and
 * x.norm = prod x.axis_norm are folded into multiplier tables by callers.
 *
 * Buffers: x.rbuf and x.sbuf have x.alloc doubles each (FFTW-MPI's local
 * size, at least 1); with BERG__MPI_XF_SPEC2 x.sbuf2 is a second spectral
 * buffer (berg__mpi_xform_backward(&x, x.sbuf2) keeps x.sbuf). The
 * backward transform destroys its input. Noise or data indexed by global
 * site: global row off0 + i0 of the real block (berg__mpi_xform_load from
 * a local block the caller filled by global index gives a field that does
 * not depend on the rank count).
 *
 * Python (berg.mpi, mpi4py): berg_mpi_space_create_fcomm(out, space,
 * comm.py2f()) takes the communicator's Fortran handle (a C int); local
 * arrays are numpy arrays of shape (rows,) + n[1:] from
 * berg_mpi_space_local(); pass None (NULL) or an empty array on a rank
 * with rows == 0. Errors: berg_mpi_last_error() / berg_mpi_last_status().
 */
#ifndef BERG_MPI_INTERNAL_H
#define BERG_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <mpi.h>
#include <fftw3-mpi.h>

#include "berg/mpi.h"

#define BERG__MPI_MAX_RANK 8
#define BERG__MPI_MSG 512

#if defined(__GNUC__)
#  define BERG__MPI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define BERG__MPI_PRINTF(a, b)
#endif

/* ---- errors ------------------------------------------------------------- */
/* record status and a message for berg_mpi_last_error(); returns status */
berg_status berg__mpi_error(berg_status status, const char *fmt, ...) BERG__MPI_PRINTF(2, 3);
/* take over libberg's last error (berg_last_error()) for a failed libberg call */
berg_status berg__mpi_from_core(berg_status status);
/* collective: every rank passes its local status; returns the status of
 * the lowest rank that failed (its message recorded on every rank, followed
 * by " (rank r of P)"), or BERG_OK when none did. An MPI failure gives
 * BERG_ERR_INTERNAL. */
berg_status berg__mpi_agree(MPI_Comm comm, berg_status local);
/* BERG_ERR_INTERNAL naming fn and the MPI call unless rc == MPI_SUCCESS */
berg_status berg__mpi_check(int rc, const char *fn, const char *call);

#define BERG_MPI_TRY(expr)                                                        \
    do {                                                                          \
        berg_status berg__mpi_st = (expr);                                        \
        if (berg__mpi_st != BERG_OK)                                              \
            return berg__mpi_st;                                                  \
    } while (0)
#define BERG_MPI_REQUIRE(cond, status, ...)                                       \
    do {                                                                          \
        if (!(cond))                                                              \
            return berg__mpi_error((status), __VA_ARGS__);                        \
    } while (0)

/* local argument checks (no communication); NULL is fine when n == 0 */
berg_status berg__mpi_check_ptr(const void *p, const char *fn, const char *name);
/* kind and lambda make a regulator (libberg's check, its message prefixed by fn) */
berg_status berg__mpi_check_regulator(berg_regulator kind, double lambda, const char *fn);
berg_status berg__mpi_check_array(const void *p, size_t n, const char *fn, const char *name);
berg_status berg__mpi_check_finite(const double *a, size_t n, const char *fn, const char *name);
berg_status berg__mpi_check_nonneg(const double *a, size_t n, const char *fn, const char *name);

/* aligned (fftw_malloc) allocation of count doubles, at least one;
 * NULL with BERG_ERR_NOMEM / BERG_ERR_SIZE recorded */
double *berg__mpi_alloc(size_t count, const char *fn);
void berg__mpi_free(void *p);

/* (*sum, *comp) += x, Neumaier's compensated summation */
static inline void berg__mpi_neumaier(double *sum, double *comp, double x)
{
    double t = *sum + x;
    double as = *sum < 0 ? -*sum : *sum, ax = x < 0 ? -x : x;
    if (as >= ax)
        *comp += (*sum - t) + x;
    else
        *comp += (x - t) + *sum;
    *sum = t;
}

/* collective: the global sum of k compensated local pairs (sum[j], comp[j]),
 * gathered and added in rank order: the same bits on every rank */
berg_status berg__mpi_sum_pairs(MPI_Comm comm, size_t k, const double *sum, const double *comp,
                                double *total, const char *fn);

/* ---- the distributed space ------------------------------------------------ */
struct berg_mpi_space {
    MPI_Comm comm;                     /* owned duplicate */
    int rank, nranks;
    berg_space *global;                /* owned clone of the global space */
    int ndim;
    size_t n[BERG__MPI_MAX_RANK];
    berg_boundary bc[BERG__MPI_MAX_RANK];
    double lo[BERG__MPI_MAX_RANK], hi[BERG__MPI_MAX_RANK], h[BERG__MPI_MAX_RANK];
    double ginv[BERG__MPI_MAX_RANK * BERG__MPI_MAX_RANK];
    int diagonal;                      /* g^{-1} diagonal */
    double weight;                     /* cell weight w */
    size_t block0;                     /* ceil(n0 / nranks): FFTW's default block */
    size_t n0loc, off0;                /* this rank's rows of axis 0 */
    size_t row;                        /* prod n[1..d-1] */
    size_t size;                       /* n0loc * row: doubles of a local array */
};

/* collective: dst = a copy of src with its own communicator (for handles
 * that outlive the space); free with berg__mpi_space_clear */
berg_status berg__mpi_space_copy(berg_mpi_space *dst, const berg_mpi_space *src, const char *fn);
void berg__mpi_space_clear(berg_mpi_space *s);

/* ---- the distributed transform -------------------------------------------- */
#define BERG__MPI_XF_ESTIMATE 0x1u  /* FFTW_ESTIMATE (default FFTW_MEASURE) */
#define BERG__MPI_XF_EVEN 0x2u      /* symbols even in every k_a: mixed spaces use R2HC */
#define BERG__MPI_XF_SPEC2 0x4u     /* allocate sbuf2 */

typedef struct berg__mpi_xform {
    berg_mpi_space sp;               /* own copy (own communicator) */
    size_t batch;
    int is_complex;                  /* r2c: complex spectrum */
    int halfcomplex;                 /* R2HC on periodic axes of a mixed space */
    size_t sshape[BERG__MPI_MAX_RANK];  /* global spectral extent per axis */
    size_t n1loc, s1;                /* this rank's spectral indices of axis 1 */
    size_t nloc;                     /* local spectral modes per array (n1loc * the others) */
    size_t rpad;                     /* doubles of a padded real last-axis row */
    size_t alloc;                    /* doubles per buffer */
    double *rbuf, *sbuf, *sbuf2;
    fftw_plan fwd, bwd;
    double axis_norm[BERG__MPI_MAX_RANK], norm;
    double *kaxis[BERG__MPI_MAX_RANK];  /* wave number per global spectral index */
    int nyquist[BERG__MPI_MAX_RANK];
} berg__mpi_xform;

/* collective; on failure x is empty (berg__mpi_xform_free is safe) */
berg_status berg__mpi_xform_init(berg__mpi_xform *x, const berg_mpi_space *space, size_t batch,
                                 unsigned flags, const char *fn);
void berg__mpi_xform_free(berg__mpi_xform *x);   /* collective */
/* x.rbuf = scale * in (batch local blocks; in may be NULL when sp.size == 0) */
void berg__mpi_xform_load(berg__mpi_xform *x, const double *in, double scale);
/* out = scale * x.rbuf (batch local blocks) */
void berg__mpi_xform_store(const berg__mpi_xform *x, double *out, double scale);
void berg__mpi_xform_forward(berg__mpi_xform *x);             /* rbuf -> sbuf */
void berg__mpi_xform_backward(berg__mpi_xform *x, double *spec);  /* spec -> rbuf, spec destroyed */
/* global spectral index of every axis of local mode e (0 <= e < nloc) */
void berg__mpi_xform_index(const berg__mpi_xform *x, size_t e, size_t *idx);
/* the wave vector of a mode: k[a] = kaxis[a][idx[a]] */
void berg__mpi_xform_k(const berg__mpi_xform *x, const size_t *idx, double *k);
/* per-axis symbol values of index m of axis a: *diag = k^2 (or
 * (2 sin(kh/2)/h)^2 when fd), *cross = k (or sin(kh)/h), 0 at Nyquist */
void berg__mpi_axis_symbol(const berg__mpi_xform *x, int a, size_t m, int fd, double *diag,
                           double *cross);
/* k . g^{-1} k of the mode with global indices idx (libberg's heat symbol) */
double berg__mpi_mode_quad(const berg__mpi_xform *x, const size_t *idx, int fd);
/* dst = src * table[e] over the local modes and the batch (dst may be src) */
void berg__mpi_xform_mul_table(const berg__mpi_xform *x, const double *table, const double *src,
                               double *dst);
/* dst = src * prod_a fac[a][idx[a]] (fac[a] has sshape[a] entries; the
 * product in the order a = 0 .. d-1 as libberg's) */
void berg__mpi_xform_mul_separable(const berg__mpi_xform *x, double *const *fac,
                                   const double *src, double *dst);

/* collective: a log2 bound es of sum |in| over all ranks (in: batch local
 * blocks, checked finite by the caller): ilogb(sum) + 1, -1100 for a zero
 * input, ilogb(max|in|) + ilogb(count) + 2 when the sum overflows. The
 * transform sums of T^{-1} f T in stay below 2^(es + d + 1) max(1, max f):
 * callers scale the input by 2^k, k = 999 - that exponent, when it reaches
 * 1000 (libberg's rule). */
berg_status berg__mpi_input_log2(const berg__mpi_xform *x, const double *in, const char *fn,
                                 int *es);
/* multiply the spectrum src into dst (dst may be src) */
typedef void (*berg__mpi_mul_fn)(const berg__mpi_xform *x, const double *src, double *dst,
                                 void *ctx);
/* collective: out = 2^-k T^{-1} mul T (2^k in) over the batch, with
 * flush-to-zero around the transforms; with k != 0 a result beyond DBL_MAX
 * is refused (BERG_ERR_DOMAIN, every rank) before out is written. in may
 * equal out. */
berg_status berg__mpi_xform_run(berg__mpi_xform *x, int k, const double *in, double *out,
                                berg__mpi_mul_fn mul, void *ctx, const char *fn);
/* max |value| of the valid (unpadded) entries of x.rbuf on this rank */
double berg__mpi_xform_rbuf_maxabs(const berg__mpi_xform *x);

/* the flush-to-zero guard of libberg's transforms (subnormal e^{-tq}) */
#if defined(__SSE2__) || defined(__x86_64__)
#  include <xmmintrin.h>
static inline unsigned berg__mpi_ftz_enter(void)
{
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u);
    return old;
}
static inline void berg__mpi_ftz_leave(unsigned old) { _mm_setcsr(old); }
#else
static inline unsigned berg__mpi_ftz_enter(void) { return 0u; }
static inline void berg__mpi_ftz_leave(unsigned old) { (void)old; }
#endif

#endif
