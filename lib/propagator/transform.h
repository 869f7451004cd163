/*
 * lib/propagator/transform.h - the spectral transform shared by the heat
 * propagator, Fourier multipliers and Gaussian random fields (and usable by
 * the rest of the propagator module). Not installed.
 *
 * A transform diagonalises every constant-coefficient operator on a space
 * with the boundary kinds of ARCHITECTURE.md:
 *   periodic axes   real-to-complex DFT (r2c / c2r), k = 2 pi m / L
 *   Neumann axes    DCT-II / DCT-III (REDFT10 / REDFT01), k = pi m / L
 *   Dirichlet axes  DST-II / DST-III (RODFT10 / RODFT01), k = pi (m + 1) / L
 * Plans, by the axes of the space:
 *   only periodic        one r2c plan each way (what a user writes by hand)
 *   no periodic          DCT-II/DST-II and inverses as one r2c / c2r of the
 *                        permuted array plus two passes (lib/propagator/
 *                        dct.c, Makhoul's algorithm in every rank): FFTW's
 *                        own multi-dimensional REDFT10/01 pair took 4.1x
 *                        an r2c pair on 256^2 (x->makhoul; the spectrum is
 *                        FFTW's REDFT10 / RODFT10 output, same layout, same
 *                        scale)
 *   mixed, even symbol   one r2r plan each way with R2HC / HC2R on the
 *   (BERG__XF_EVEN)      periodic axes ("halfcomplex" mode): the fastest
 *                        measured while developing it (the two-stage form
 *                        below was 1.1-1.6x slower at 256^2 and 1024^2; no
 *                        committed benchmark reaches the two-stage form)
 *   mixed, otherwise     stage A, the r2r transforms of all non-periodic axes
 *                        (a guru plan looping over the periodic axes), then
 *                        stage B, one r2c transform of all periodic axes
 *                        (looping over the others): needed when coupled
 *                        periodic axes need the signs of k.
 *
 * Spectral layout: C order over the axes in their original order; with an
 * r2c stage the spectral array is complex (interleaved re, im) and the last
 * periodic axis keeps n/2 + 1 entries (FFTW's r2c layout); otherwise it is
 * real, and in halfcomplex mode index j of a periodic axis holds frequency
 * min(j, n - j) (cosine part for j <= n/2, sine part above). A batch of
 * arrays is stored one after the other.
 *
 * The round trip forward + inverse multiplies by prod_a s_a with s_a = n_a
 * (periodic) or 2 n_a (Neumann, Dirichlet); berg__xform.axis_norm[a] =
 * 1 / s_a is folded into the multiplier tables by the callers.
 *
 * Two ways to execute a transform:
 *   serial     berg__xform_forward / berg__xform_inverse use the buffers the
 *              transform owns (x->spec, x->rbuf2): one caller at a time.
 *   const      berg__xform_forward_s / berg__xform_inverse_s take the
 *              buffers from a caller's scratch block (berg__xscratch, cut from
 *              a berg__pool block by berg__xform_scratch_carve) and execute
 *              the plans with FFTW's new-array functions: any number of
 *              threads at once on one transform. With BERG__XF_NOBUFS the
 *              planning buffers are freed after planning (only the const
 *              form may then be used).
 * Every scratch part starts at a multiple of 64 bytes of a block allocated
 * by berg__alloc, so it has the alignment of the planning buffers, which
 * FFTW's new-array execution requires. Creation takes the FFTW planner lock;
 * destruction never waits for another thread's planning (the plans are
 * handed to berg__fftw_destroy_plan).
 */
#ifndef BERG_PROPAGATOR_TRANSFORM_H
#define BERG_PROPAGATOR_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>
#include <fftw3.h>

#include "space/internal.h"

/*
 * Subnormal numbers: e^{-t q(k)} of the high modes passes through the
 * subnormal range, and x86 arithmetic on subnormals is ~100x slower, which
 * made a 1024^2 heat step 30% slower than it needs to be. Every apply runs
 * its transforms and products with flush-to-zero / denormals-are-zero set
 * in this thread's MXCSR and restores the caller's MXCSR before
 * returning. This only changes values below DBL_MIN ~ 2.2e-308.
 */
#if defined(__SSE2__) || defined(__x86_64__) || defined(_M_X64)
#  include <xmmintrin.h>
static inline unsigned berg__ftz_enter(void)
{
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u); /* FTZ | DAZ */
    return old;
}
static inline void berg__ftz_leave(unsigned old) { _mm_setcsr(old); }
#else
static inline unsigned berg__ftz_enter(void) { return 0u; }
static inline void berg__ftz_leave(unsigned old) { (void)old; }
#endif

/* flags understood by the transform layer (the public flags are in berg/core.h; callers translate them) */
#define BERG__XF_ESTIMATE 0x1u
/* the symbols used with this transform are even in every k_a separately
 * (no coupling g^{ab} between periodic axes, or at most one periodic
 * axis): a space mixing periodic and non-periodic axes may then use one
 * r2r plan with R2HC / HC2R on the periodic axes */
#define BERG__XF_EVEN 0x2u
/* allocate spec2, the second spectral buffer (berg_heat_apply_times) */
#define BERG__XF_SPEC2 0x4u
/* free the planning buffers after planning: const execution only */
#define BERG__XF_NOBUFS 0x8u

typedef struct berg__xform {
    berg_space space;           /* a copy of the space */
    size_t batch;               /* arrays per call */
    size_t nthreads;            /* FFTW threads of the plans */
    int has_r2r, has_r2c;       /* which stages exist */
    int halfcomplex;            /* periodic axes transformed by R2HC inside the r2r stage */
    int is_complex;             /* spectral data complex */
    int halved_axis;            /* the axis with n/2 + 1 spectral entries, or -1 */
    size_t nreal;               /* real values per array (space.size) */
    size_t nspec;               /* spectral entries per array (complex numbers when complex) */
    size_t nspec_doubles;       /* doubles per spectral array */
    size_t sshape[BERG_MAX_RANK];   /* spectral shape per axis */
    double axis_norm[BERG_MAX_RANK];/* 1 / round-trip scale of each axis */
    double norm;                /* prod axis_norm */
    double *kaxis[BERG_MAX_RANK];   /* signed k of each spectral index per axis (>= 0 on
                                       non-periodic and halved axes; the Nyquist index of an
                                       even periodic axis has k = +pi n / L) */
    int nyquist[BERG_MAX_RANK];     /* spectral index of the Nyquist mode of an even periodic
                                       axis, or -1 */
    fftw_plan a_fwd, a_bwd, b_fwd, b_bwd;
    double *rbuf;               /* batch * nreal, two-stage intermediate (else NULL) */
    double *rbuf2;              /* batch * nreal: planning input, misaligned user arrays,
                                   random-field noise */
    double *spec;               /* batch * nspec_doubles */
    double *spec2;              /* batch * nspec_doubles with BERG__XF_SPEC2 (multi-time),
                                   else NULL */
    int align;                  /* fftw_alignment_of the planning buffers */
    int makhoul;                /* no periodic axis: DCT/DST through b_fwd / b_bwd (r2c,
                                   c2r of the permuted array, dct.c) */
    size_t chalf;               /* makhoul: n_{d-1} / 2 + 1 */
    size_t ncplx;               /* makhoul: complex entries per array of the r2c */
    double *cbuf;               /* makhoul: batch * 2 ncplx doubles (planning) */
    double *twiddle[BERG_MAX_RANK]; /* makhoul: cos, sin of pi k / (2 n_a), k < n_a */
} berg__xform;

/* Plan a transform for batch arrays on space with nthreads FFTW threads.
 * flags: BERG__XF_ESTIMATE for FFTW_ESTIMATE (default FFTW_MEASURE).
 * On failure x is left empty (berg__xform_free is still safe). */
berg_status berg__xform_init(berg__xform *x, const berg_space *space, size_t batch,
                             size_t nthreads, unsigned flags, const char *fn);
void berg__xform_free(berg__xform *x);

/* The buffers of one const execution (parts of a caller's scratch block). */
typedef struct berg__xscratch {
    double *rbuf;   /* two-stage intermediate (NULL when there is one stage) */
    double *rbuf2;  /* misaligned input / output, random-field noise */
    double *spec;   /* batch spectral arrays */
    double *spec2;  /* second spectral arrays (nspec_bufs = 2), else NULL */
    double *cbuf;   /* makhoul: the complex spectrum of the r2c, else NULL */
} berg__xscratch;

/* round n doubles up to a multiple of 64 bytes */
static inline size_t berg__xround(size_t n) { return (n + 7u) & ~(size_t)7u; }
/* doubles of scratch one const execution needs (nspec_bufs = 1 or 2
 * spectral arrays), every part rounded to 64 bytes */
size_t berg__xform_scratch_doubles(const berg__xform *x, int nspec_bufs);
/* cut the parts of s out of block (64-byte aligned); returns the first
 * double after them */
double *berg__xform_scratch_carve(const berg__xform *x, double *block, int nspec_bufs,
                                  berg__xscratch *s);
/* spec = forward transform of in (batch arrays, any alignment), using s */
void berg__xform_forward_s(const berg__xform *x, const berg__xscratch *s, const double *in,
                           double *spec);
/* out = inverse transform of src (destroyed; a spectral part of s), any
 * alignment of out, out may equal the in of the preceding forward */
void berg__xform_inverse_s(const berg__xform *x, const berg__xscratch *s, double *src,
                           double *out);

/* makhoul transforms (dct.c): the twiddle tables; spec = FFTW's REDFT10 /
 * RODFT10 of in (any alignment; uses s->rbuf, s->cbuf); out = FFTW's
 * REDFT01 / RODFT01 of src (src kept, out may equal the in of the forward) */
berg_status berg__dct_twiddles(berg__xform *x, const char *fn);
void berg__dct_forward_s(const berg__xform *x, const berg__xscratch *s, const double *in,
                         double *spec);
void berg__dct_inverse_s(const berg__xform *x, const berg__xscratch *s, const double *src,
                         double *out);

/* The head of a heat / multiplier scratch block: the time t its factor
 * tables were made for; 64 bytes, so the parts after it keep the block's
 * alignment. Pool blocks start zero-filled, which reads "no tables"; a block
 * never leaves the pool of its handle. */
#define BERG__HEAD_DOUBLES ((size_t)8)
/* the head of block says: tables for time t */
int berg__head_holds(const double *block, double t);
void berg__head_set(double *block, double t);

/* Destroy an FFTW plan without waiting for another thread's planning: now
 * when the planner lock is free, else deferred to the end of the current
 * planning (lib/core/fftw_lock.c). NULL is a no-op. */
void berg__fftw_destroy_plan(fftw_plan p);

/* spec = forward transform of in (batch arrays). in may be any alignment. */
void berg__xform_forward(berg__xform *x, const double *in);
/* out = inverse transform of src (batch arrays), src is x->spec or x->spec2
 * and is destroyed. out may be any alignment and may equal the in of the
 * preceding forward. */
void berg__xform_inverse(berg__xform *x, double *src, double *out);

/* dst = src * f, mode by mode over the batch, with a separable factor
 * f(m) = prod_a fac[a][m_a] (fac[a] has sshape[a] entries). dst may be src. */
void berg__xform_mul_separable(const berg__xform *x, double *const *fac, const double *src,
                               double *dst);
/* the same products split among nthreads threads (berg__parallel_for;
 * serial below 2^16 entries); every entry is computed as in the serial
 * form, so the result does not depend on nthreads */
void berg__xform_mul_separable_mt(const berg__xform *x, double *const *fac, const double *src,
                                  double *dst, size_t nthreads);
void berg__xform_mul_table_mt(const berg__xform *x, const double *table, const double *src,
                              double *dst, size_t nthreads);
/* dst = src * table[mode] over the batch (table has nspec entries). */
void berg__xform_mul_table(const berg__xform *x, const double *table, const double *src,
                           double *dst);

/* Visit every spectral mode in layout order: k gets the wave vector,
 * idx the spectral multi-index. The callback returns nonzero to stop; that
 * value is returned. */
typedef int (*berg__mode_fn)(size_t mode, const size_t *idx, const double *k, void *ctx);
int berg__xform_each_mode(const berg__xform *x, berg__mode_fn f, void *ctx);

/* |k|^2 form of one mode: k . g^{-1} k with the diagonal terms from the
 * per-axis values d[a] (k_a^2 or its finite-difference eigenvalue) and the
 * cross terms from c[a] (k_a, or sin(k_a h_a)/h_a); the cross terms of an
 * axis at its Nyquist index are 0 so that the form is even in each k_a. */
double berg__quad_form(const berg_space *s, const double *d, const double *c);

/* q[mode] = k . g^{-1} k for every spectral mode (nspec entries; fd: the
 * finite-difference form of berg__axis_symbol) */
void berg__xform_quad_table(const berg__xform *x, int fd, double *q);
/* q[m] = g^{aa} k_a^2 (or its finite-difference form) for every spectral
 * index m of axis a (sshape[a] entries): the per-axis terms of a diagonal
 * metric's form */
void berg__xform_axis_quad(const berg__xform *x, int a, int fd, double *q);

/* per-axis symbol values of one spectral index: *diag = k^2 (or
 * 4/h^2 sin^2(kh/2) when fd), *cross = k (or sin(kh)/h), 0 at Nyquist */
void berg__axis_symbol(const berg__xform *x, int axis, size_t m, int fd, double *diag,
                       double *cross);

#endif
