/*
 * lib/mpi/field_internal.h - what the distributed random fields, the field
 * Langevin flow and the distributed Fourier Fokker-Planck flow (mpifield,
 * issue 16) share on top of lib/mpi/internal.h: the counter-based normal
 * generator and the symbol tables of a distributed transform. Not
 * installed.
 */
#ifndef BERG_MPI_FIELD_INTERNAL_H
#define BERG_MPI_FIELD_INTERNAL_H

#include <stdint.h>

#include "mpi/internal.h"

/* ---- counter-based normals (rng_philox.c) ------------------------------- */

/* Philox4x32-10 (Salmon et al., SC11; Random123): out = the block cipher of
 * the counter ctr under key */
void berg__philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* the standard normal number `index` of the stream (seed, stream):
 * Box-Muller on the two 53-bit uniforms of Philox(ctr = (index, stream),
 * key = seed); a pure function of its three arguments */
double berg__counter_normal(uint64_t seed, uint64_t stream, uint64_t index);
/* out = the normals of the local sites of x (global flat index off0 * row + i) */
void berg__mpi_white_noise(const berg__mpi_xform *x, uint64_t seed, uint64_t stream,
                           double *out);

/* ---- symbol tables (field.c) -------------------------------------------- */

/* the transform flags a symbol needs: BERG__MPI_XF_EVEN when it is even in
 * every k_a (a regulator of |k|_g on a diagonal metric, a callback symbol
 * with at most one periodic axis), as libberg's multipliers */
unsigned berg__mpi_symbol_xflags(const berg_mpi_space *space, int regulator, unsigned flags);
/* *out = the symbol per local spectral mode (collective): symbol averaged
 * over the signs of Nyquist indices (berg_multiplier_create), or when symbol
 * is NULL the regulator (kind, lambda) of |k|_g (berg_multiplier_create_
 * regulator); flags may hold BERG_SYMBOL_FD. Free with berg__mpi_free. */
berg_status berg__mpi_symbol_table(const berg__mpi_xform *x, unsigned flags,
                                   berg_symbol_fn symbol, void *user_data, berg_regulator kind,
                                   double lambda, double **out, const char *fn);
/* *out = sqrt(c / w) * norm (collective); BERG_ERR_DOMAIN when some c < 0 */
berg_status berg__mpi_sqrt_table(const berg__mpi_xform *x, const double *c, double **out,
                                 const char *fn);

#endif
