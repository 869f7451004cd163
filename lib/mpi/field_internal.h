/*
 * lib/mpi/field_internal.h - what the distributed random fields, the field
 * Langevin flow and the distributed Fourier Fokker-Planck flow share (issue
 * 16): the counter-based normal generator, a distributed r2c transform of an
 * all-periodic space, collective error agreement and the row fetch. Not
 * installed.
 *
 * Layout: the real data of a rank are its rows [row0, row0 + nrows) of the
 * first axis, the slab of fftw_mpi_local_size_many_transposed with FFTW's
 * default block (the slab of berg/mpi.h), C order, unpadded: global flat
 * index = row0 * row_size + local index. The spectrum is FFTW-MPI's
 * TRANSPOSED_OUT layout: axes 0 and 1 exchanged, the rank holding the
 * entries [spec1, spec1 + nspec1) of the (complex) axis 1, the last axis
 * n/2 + 1 entries; a forward and an inverse transform cost two global
 * transposes.
 */
#ifndef BERG_MPI_FIELD_INTERNAL_H
#define BERG_MPI_FIELD_INTERNAL_H

#include <stdint.h>

#include <fftw3-mpi.h>
#include <mpi.h>

#include "berg/mpi.h"
#include "space/internal.h"

/* ---- counter-based normals (rng_philox.c) ------------------------------- */

/* Philox4x32-10 (Salmon et al., SC11; Random123): out = the block cipher of
 * the counter ctr under key */
void berg__philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* the standard normal number `index` of the stream (seed, stream):
 * Box-Muller on the two 53-bit uniforms of Philox(ctr = (index, stream),
 * key = seed); a pure function of its three arguments */
double berg__counter_normal(uint64_t seed, uint64_t stream, uint64_t index);

/* ---- the distributed transform (field_xform.c) -------------------------- */

typedef struct berg__mpix {
    MPI_Comm comm;              /* the caller's communicator (not duplicated) */
    int rank, nproc;
    berg_space space;           /* the global space */
    int d;
    size_t nrows, row0;         /* real slab: rows of axis 0 */
    size_t nspec1, spec1;       /* spectral slab: entries of (complex) axis 1 */
    size_t row_size;            /* prod n[1..d-1] */
    size_t nlocal;              /* nrows * row_size */
    size_t cdims[BERG_MAX_RANK];/* complex dimensions: n0, n1, ..., n_{d-1}/2 + 1 */
    size_t nspec;               /* local spectral entries (complex) */
    size_t padded;              /* 2 (n_{d-1}/2 + 1): the padded last real axis */
    double norm;                /* 1 / prod n */
    double *rbuf;               /* padded real slab */
    fftw_complex *cbuf;         /* spectral slab */
    fftw_plan fwd, bwd;
} berg__mpix;

/* Plan (collective): every axis periodic, d >= 2. flags: BERG_PLAN_ESTIMATE
 * or 0. On failure x is empty (berg__mpix_free is safe). */
berg_status berg__mpix_init(berg__mpix *x, MPI_Comm comm, const berg_space *space,
                            unsigned flags, const char *fn);
void berg__mpix_free(berg__mpix *x);
/* x->cbuf = forward transform of in (nlocal values) (collective) */
void berg__mpix_forward(berg__mpix *x, const double *in);
/* out = inverse transform of x->cbuf (destroyed) (collective); out may be in */
void berg__mpix_inverse(berg__mpix *x, double *out);
/* the local spectral modes in layout order: idx = the global index per axis
 * (original axis order), k the signed wave vector (k_a = 2 pi m / L_a, m in
 * (-n/2, n/2], the last axis m >= 0); nonzero from f stops and is returned */
typedef int (*berg__mpix_mode_fn)(size_t mode, const size_t *idx, const double *k, void *ctx);
int berg__mpix_each_mode(const berg__mpix *x, berg__mpix_mode_fn f, void *ctx);
/* 1 when index m of axis a is the Nyquist index of an even axis */
static inline int berg__mpix_nyquist(const berg__mpix *x, int a, size_t m)
{
    return x->space.n[a] % 2 == 0 && m == x->space.n[a] / 2;
}
/* k . g^{-1} k of a mode, the cross terms of a Nyquist index dropped (as
 * the serial transform's berg__quad_form); fd: the finite-difference form */
double berg__mpix_quad(const berg__mpix *x, const size_t *idx, const double *k, int fd);

/* ---- collective helpers (field_xform.c) --------------------------------- */

/* Every rank passes its own status; all return the same one: BERG_OK when
 * every rank succeeded, else the failure of the lowest failing rank, with
 * its message (prefixed "rank r: " on the others). */
berg_status berg__mpi_agree(MPI_Comm comm, berg_status st);
/* sum / max over the ranks */
double berg__mpi_sum(MPI_Comm comm, double v);
double berg__mpi_max(MPI_Comm comm, double v);
double berg__mpi_min(MPI_Comm comm, double v);
/* the global rows [lo, hi) of a slab-distributed array (row_size values
 * per row) into out ((hi - lo) * row_size values), collective: every rank
 * asks for its own range (an empty one too) */
berg_status berg__mpix_fetch_rows(const berg__mpix *x, const double *local, size_t lo, size_t hi,
                                  double *out, const char *fn);

/* ---- symbol tables and noise (field.c) ------------------------------------ */

/* *out = the symbol per local spectral mode (collective): symbol (averaged
 * over the signs of Nyquist indices, as berg_multiplier_create) or, when
 * symbol is NULL, the regulator (kind, lambda) of |k|_g (cross terms dropped
 * at Nyquist indices, as berg_multiplier_create_regulator); flags may hold
 * BERG_SYMBOL_FD */
berg_status berg__mpi_symbol_table(const berg__mpix *x, unsigned flags, berg_symbol_fn symbol,
                                   void *user_data, berg_regulator kind, double lambda,
                                   double **out, const char *fn);
/* *out = sqrt(c / w) / prod n (collective); BERG_ERR_DOMAIN when some c < 0 */
berg_status berg__mpi_sqrt_table(const berg__mpix *x, const double *c, double **out,
                                 const char *fn);
/* out = the counter normals of the local sites (global index) */
void berg__mpi_white_noise(const berg__mpix *x, uint64_t seed, uint64_t stream, double *out);
/* x->cbuf *= table, mode by mode */
void berg__mpi_mul(const berg__mpix *x, const double *table);

#endif
