/**
 * @file berg/mpi.h
 * @brief libberg_mpi: lattices distributed over the ranks of an MPI
 * communicator, with FFTW-MPI transforms (link with `pkg-config berg-mpi`).
 *
 * A separate library (libberg_mpi.so.1) built on libberg and FFTW's MPI
 * interface; this is the only libberg header that includes <mpi.h>, and
 * berg.h does not include it.
 *
 * Decomposition. Every rank describes the same global grid with a serial
 * ::berg_space (same shape, bounds, boundary kinds and metric, bitwise) and
 * hands it to berg_mpi_space_create(). The arrays are split in slabs along
 * the first axis: with P ranks and n_0 rows, block = ceil(n_0 / P) (FFTW's
 * default block), rank r holds the rows [r block, min((r + 1) block, n_0))
 * — the last ranks may hold fewer rows, or none when n_0 < P (n_0 need not
 * be a multiple of P). A rank's local block is its rows in C order (last
 * axis fastest): berg_mpi_space_local() gives the row count, the first
 * global row and the number of doubles; a batch of arrays is that many
 * local blocks one after the other. A local pointer may be NULL on a rank
 * whose local block is empty.
 *
 * Collective calls. Every function that takes a handle and reads arrays is
 * collective over the handle's communicator (a duplicate of the caller's,
 * so its messages never mix with the caller's): every rank calls it, in the
 * same order, with the same scalar arguments. Argument checks are
 * collective as well: when any rank refuses, every rank returns the status
 * of the lowest failing rank, berg_mpi_last_error() gives its message
 * (followed by "(rank r of P)"), and no rank has written its outputs. The
 * scalar results (integrals, entropies, moments) are the same on every
 * rank, bitwise: local compensated sums are gathered and added in rank
 * order.
 *
 * Errors. libberg_mpi records its failures for berg_mpi_last_error() and
 * berg_mpi_last_status() (per thread, like berg_last_error() of libberg,
 * which keeps recording libberg's own calls).
 *
 * Threads. Handles are immutable after creation except for their
 * transform buffers: calls on one handle are serialized by a lock, and MPI
 * requires the collective calls of one communicator to be made in the same
 * order on every rank, so use each handle from one thread per rank.
 * Creators plan with FFTW's planner, which the process shares: create
 * libberg_mpi handles while no other thread creates libberg or FFTW plans
 * (libberg's own planner lock is internal to libberg). MPI
 * must be initialized (MPI_Init) before the first call and finalized after
 * the last destroy.
 *
 * Transforms. FFTW-MPI plans with FFTW_MPI_TRANSPOSED_OUT forward and
 * FFTW_MPI_TRANSPOSED_IN backward: one step (forward, multiply, backward)
 * moves the data through two global transposes. Periodic spaces use r2c;
 * spaces without periodic axes DCT-II/DST-II (Neumann/Dirichlet); mixed
 * spaces R2HC on the periodic axes (their symbols must be even in every
 * k_a: a diagonal metric for heat and regulators, at most one periodic axis
 * for a callback symbol). The wave vectors, symbols and the Nyquist
 * averaging are those of the serial berg_heat_create() and
 * berg_multiplier_create() (berg/heat.h), so a distributed result equals
 * the serial one on the same global grid to round-off.
 */
#ifndef BERG_MPI_H
#define BERG_MPI_H

#include <stddef.h>
#include <mpi.h>

#include "berg/core.h"
#include "berg/space.h"
#include "berg/heat.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A global grid distributed in slabs of its first axis over the
 * ranks of a communicator (opaque, immutable).
 * @since 1.1
 */
typedef struct berg_mpi_space berg_mpi_space;

/**
 * @brief The message of the last libberg_mpi failure of this thread.
 * @return a NUL-terminated sentence naming the function and the argument
 *         (and, for a collective refusal, the rank that refused); "" when
 *         nothing failed. Never NULL.
 * @since 1.1
 */
BERG_API const char *berg_mpi_last_error(void);

/**
 * @brief The status of the last libberg_mpi failure of this thread.
 * @return the status, BERG_OK when nothing failed.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_last_status(void);

/**
 * @brief Distribute a global space over the ranks of comm (collective).
 *
 * The communicator is duplicated (MPI_Comm_dup); the space is copied.
 * @param[out] out    the distributed space; untouched on failure. Free with
 *                    berg_mpi_space_destroy() (collective).
 * @param[in]  space  the global space, the same (bitwise) on every rank.
 * @param[in]  comm   an intracommunicator; every rank of it calls.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_DOMAIN when comm is MPI_COMM_NULL or an
 *         intercommunicator, or MPI is not initialized;
 *         BERG_ERR_MISMATCH when the ranks' spaces differ; BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL when an MPI call fails.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_create(berg_mpi_space **out, const berg_space *space,
                                           MPI_Comm comm);

/**
 * @brief berg_mpi_space_create() with the communicator given by its Fortran
 * handle (MPI_Comm_c2f; mpi4py's Comm.py2f()), for bindings.
 * @param[out] out    the distributed space; untouched on failure.
 * @param[in]  space  the global space, the same on every rank.
 * @param[in]  fcomm  the Fortran handle of the communicator.
 * @return as berg_mpi_space_create().
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_create_fcomm(berg_mpi_space **out, const berg_space *space,
                                                 MPI_Fint fcomm);

/**
 * @brief Free a distributed space (collective: it frees a communicator).
 * @param[in] space  the space, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_mpi_space_destroy(berg_mpi_space *space);

/**
 * @brief The global space (owned by the distributed space: valid while it
 * lives, not to be destroyed).
 * @param[in] space  the distributed space.
 * @return the global space, or NULL when space is NULL.
 * @since 1.1
 */
BERG_API const berg_space *berg_mpi_space_global(const berg_mpi_space *space);

/**
 * @brief This rank's slab: its rows of axis 0, the first of them, and the
 * number of doubles of one local array.
 * @param[in]  space   the distributed space.
 * @param[out] rows    the number of rows of axis 0 held here (0 is possible).
 * @param[out] offset  the global index of the first of them (n_0 when rows is 0).
 * @param[out] size    rows * n_1 * ... * n_{d-1}, the length of a local array.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_local(const berg_mpi_space *space, size_t *rows,
                                          size_t *offset, size_t *size);

/**
 * @brief This rank's index and the number of ranks of the space's
 * communicator.
 * @param[in]  space   the distributed space.
 * @param[out] rank    this rank, 0-based.
 * @param[out] nranks  the number of ranks.
 * @return BERG_OK; BERG_ERR_NULL when an argument is NULL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_ranks(const berg_mpi_space *space, size_t *rank,
                                          size_t *nranks);

/**
 * @brief Integral of a distributed array: *out = w sum_i f_i over all
 * ranks (collective), as berg_space_integrate() of the whole array.
 * @param[in]  space  the distributed space.
 * @param[in]  f      state: the local block, finite.
 * @param[out] out    the integral, the same on every rank; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when space or out is NULL or f is NULL
 *         with a non-empty local block; BERG_ERR_NONFINITE when f has a
 *         non-finite value; BERG_ERR_DOMAIN when the integral exceeds
 *         DBL_MAX; BERG_ERR_INTERNAL when an MPI call fails.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_integrate(const berg_mpi_space *space, const double *f,
                                              double *out);

/**
 * @brief Divide a distributed measure by its integral (collective), as
 * berg_space_normalize().
 * @param[in]     space  the distributed space.
 * @param[in,out] p      measure: the local block, finite, >= 0, with a
 *                       positive finite global mass; unchanged on failure.
 * @param[out]    mass   the global integral p was divided by, or NULL.
 * @return BERG_OK; BERG_ERR_NULL when space is NULL or p is NULL with a
 *         non-empty local block; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE for
 *         a non-finite or negative value; BERG_ERR_MASS when the mass is
 *         zero, infinite or too small to divide by; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_normalize(const berg_mpi_space *space, double *p,
                                              double *mass);

/**
 * @brief Mean E[x_a] of a distributed measure (collective), as
 * berg_space_mean().
 * @param[in]  space  the distributed space.
 * @param[in]  p      measure: the local block (the global mass is divided out).
 * @param[out] mean   d values, the same on every rank; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE,
 *         BERG_ERR_MASS when p is not a measure; BERG_ERR_DOMAIN when a
 *         moment is not finite; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_mean(const berg_mpi_space *space, const double *p,
                                         double *mean);

/**
 * @brief Covariance E[(x_a - m_a)(x_b - m_b)] of a distributed measure
 * (collective; two passes: mean, then centred moments), as
 * berg_space_covariance().
 * @param[in]  space  the distributed space.
 * @param[in]  p      measure: the local block.
 * @param[out] cov    d*d values, row-major, symmetric, the same on every
 *                    rank; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE,
 *         BERG_ERR_MASS when p is not a measure; BERG_ERR_DOMAIN when an
 *         entry exceeds DBL_MAX; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_covariance(const berg_mpi_space *space, const double *p,
                                               double *cov);

/**
 * @brief Entropy S[p] = -w sum_i p_i ln p_i (0 ln 0 = 0) of a distributed
 * density (collective), as berg_entropy().
 * @param[in]  space  the distributed space.
 * @param[in]  p      density: the local block; the global mass is 1 within
 *                    berg_density_mass_tolerance().
 * @param[out] S      the entropy, the same on every rank; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or
 *         BERG_ERR_MASS when p is not a density; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_entropy(const berg_mpi_space *space, const double *p,
                                            double *S);

/**
 * @brief Relative entropy KL(p || q) = w sum_i p_i ln(p_i / q_i) of two
 * distributed densities (collective), as berg_kl_divergence(): +infinity
 * when q vanishes where p does not, terms with p_i = 0 are 0, rounding
 * below 0 gives 0.
 * @param[in]  space  the distributed space.
 * @param[in]  p      density: the local block.
 * @param[in]  q      density: the local block.
 * @param[out] D      the divergence, the same on every rank; untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE or
 *         BERG_ERR_MASS when p or q is not a density; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_space_kl_divergence(const berg_mpi_space *space, const double *p,
                                                  const double *q, double *D);

/**
 * @brief The heat semigroup e^{t Delta_g} on a distributed space (opaque).
 * @since 1.1
 */
typedef struct berg_mpi_heat berg_mpi_heat;

/**
 * @brief Create a distributed heat propagator for batches of batch arrays
 * (collective), the distributed berg_heat_create_ex() (one FFTW thread per
 * rank).
 *
 * Every boundary kind; a coupled metric only on a periodic space (a mixed
 * space needs the symbol even in every k_a). The space needs rank >= 2
 * (FFTW-MPI distributes multi-dimensional real transforms only).
 * @param[out] out    the handle; untouched on failure. Free with
 *                    berg_mpi_heat_destroy() (collective).
 * @param[in]  space  the distributed space (copied: it may be destroyed
 *                    while the handle lives).
 * @param[in]  batch  arrays per call, >= 1.
 * @param[in]  flags  0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                    BERG_SYMBOL_FD.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL; BERG_ERR_SIZE
 *         when batch is 0 or the buffers cannot be addressed;
 *         BERG_ERR_DOMAIN when flags has a bit of another creator or the
 *         symbol overflows (1/h^2 beyond DBL_MAX); BERG_ERR_UNSUPPORTED for
 *         a rank-1 space or a coupled metric on a space with a non-periodic
 *         axis; BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW-MPI cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_heat_create(berg_mpi_heat **out, const berg_mpi_space *space,
                                          size_t batch, unsigned flags);

/**
 * @brief out = e^{t Delta_g} in for the handle's batch (collective).
 *
 * Huge inputs are transformed at a power-of-two scale, as in
 * berg_heat_apply().
 * @param[in]  heat  the handle.
 * @param[in]  t     the time, finite and >= 0 (t = 0 copies).
 * @param[in]  in    state: batch local blocks, finite.
 * @param[out] out   batch local blocks; may equal in. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL when heat is NULL, or in or out is NULL
 *         with a non-empty local block; BERG_ERR_TIME when t is negative or
 *         not finite; BERG_ERR_NONFINITE when in has a NaN or infinity;
 *         BERG_ERR_DOMAIN when the result exceeds DBL_MAX; BERG_ERR_INTERNAL
 *         when an MPI call fails.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_heat_apply(const berg_mpi_heat *heat, double t, const double *in,
                                         double *out);

/**
 * @brief out[j] = e^{t_j Delta_g} in for nt times: one forward transform,
 * nt backward ones (collective).
 * @param[in]  heat  the handle.
 * @param[in]  nt    the number of times, >= 1.
 * @param[in]  t     nt times, finite and >= 0.
 * @param[in]  in    state: batch local blocks, finite.
 * @param[out] out   nt * batch local blocks (time-major); may not overlap
 *                   in. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_SIZE when nt is 0 or nt blocks
 *         overflow; BERG_ERR_TIME when a time is negative or not finite;
 *         BERG_ERR_NONFINITE when in has a NaN or infinity; BERG_ERR_DOMAIN
 *         when a result exceeds DBL_MAX; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_heat_apply_times(const berg_mpi_heat *heat, size_t nt,
                                               const double *t, const double *in, double *out);

/**
 * @brief Free a distributed heat propagator (collective).
 * @param[in] heat  the handle, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_mpi_heat_destroy(berg_mpi_heat *heat);

/**
 * @brief A Fourier multiplier c(k) on a distributed space (opaque).
 * @since 1.1
 */
typedef struct berg_mpi_multiplier berg_mpi_multiplier;

/**
 * @brief Create a distributed Fourier multiplier with a callback symbol
 * (collective), the distributed berg_multiplier_create().
 *
 * Each rank evaluates the symbol on its own spectral modes (the modes and
 * the Nyquist averaging of berg_multiplier_create_ex()); the symbol must be
 * the same function on every rank.
 * @param[out] out        the handle; untouched on failure. Free with
 *                        berg_mpi_multiplier_destroy() (collective).
 * @param[in]  space      the distributed space (copied).
 * @param[in]  flags      0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                        BERG_SYMBOL_FD.
 * @param[in]  symbol     the symbol c(k), even: c(-k) = c(k).
 * @param[in]  user_data  passed to symbol.
 * @return BERG_OK; BERG_ERR_NULL when out, space or symbol is NULL;
 *         BERG_ERR_DOMAIN when flags has a bit of another creator;
 *         BERG_ERR_CALLBACK when symbol returns nonzero or a non-finite
 *         value on some rank; BERG_ERR_UNSUPPORTED for a rank-1 space or a
 *         space with two or more periodic axes and a non-periodic one;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_multiplier_create(berg_mpi_multiplier **out,
                                                const berg_mpi_space *space, unsigned flags,
                                                berg_symbol_fn symbol, void *user_data);

/**
 * @brief A distributed multiplier whose symbol is a regulator of
 * berg_regulator_value() at scale lambda, as a function of |k|_g
 * (collective), the distributed berg_multiplier_create_regulator().
 * @param[out] out     the handle; untouched on failure.
 * @param[in]  space   the distributed space (copied).
 * @param[in]  kind    the regulator.
 * @param[in]  lambda  the scale Lambda, finite and > 0.
 * @param[in]  flags   0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                     BERG_SYMBOL_FD.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_DOMAIN when kind is unknown, lambda is not positive and
 *         finite, the regulator overflows on some mode, or flags has a bit
 *         of another creator; BERG_ERR_UNSUPPORTED for a rank-1 space or a
 *         coupled metric on a space with a non-periodic axis;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_multiplier_create_regulator(berg_mpi_multiplier **out,
                                                          const berg_mpi_space *space,
                                                          berg_regulator kind, double lambda,
                                                          unsigned flags);

/**
 * @brief out = c(k) applied mode by mode to in (collective).
 * @param[in]  m    the multiplier.
 * @param[in]  in   state: the local block, finite.
 * @param[out] out  the local block; may equal in. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_NONFINITE when in has a NaN or
 *         infinity; BERG_ERR_DOMAIN when the result exceeds DBL_MAX;
 *         BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_multiplier_apply(const berg_mpi_multiplier *m, const double *in,
                                               double *out);

/**
 * @brief out = e^{-t c(k)} applied mode by mode to in (collective).
 * @param[in]  m    the multiplier; its symbol must be >= 0 on every mode.
 * @param[in]  t    the time, finite and >= 0 (t = 0 copies).
 * @param[in]  in   state: the local block, finite.
 * @param[out] out  the local block; may equal in. Untouched on failure.
 * @return BERG_OK; BERG_ERR_NULL; BERG_ERR_TIME when t is negative or not
 *         finite; BERG_ERR_NONFINITE when in has a NaN or infinity;
 *         BERG_ERR_DOMAIN when the symbol is negative on some mode or the
 *         result exceeds DBL_MAX; BERG_ERR_INTERNAL.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_multiplier_exp_apply(const berg_mpi_multiplier *m, double t,
                                                   const double *in, double *out);

/**
 * @brief Free a distributed multiplier (collective).
 * @param[in] m  the multiplier, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_mpi_multiplier_destroy(berg_mpi_multiplier *m);

/* ---- mpifield (issue 16): distributed Fokker-Planck, random fields, field Langevin ---- */

/* berg_action_gradient_fn of the field Langevin flow */
#include "berg/stochastic.h"

/**
 * @brief The standard normal numbers of the counter-based generator of the
 * distributed noise: out[j] = z(seed, stream, first + j).
 *
 * z(seed, stream, i) is Box-Muller (the cosine branch) on the two 53-bit
 * uniforms of the Philox4x32-10 block cipher (Salmon et al., SC11; the
 * generator of Random123 and numpy's Philox) of the counter (i, stream)
 * under the key seed: a pure function of its three arguments, the same on
 * every platform and for every decomposition. The distributed random
 * fields and Langevin noise draw z(seed, stream, i) at the global site
 * index i (C order of the global grid), so a seed gives the same field on
 * any number of ranks. Not collective.
 * @param[in]  seed    the key.
 * @param[in]  stream  the stream (the step of a Langevin flow).
 * @param[in]  first   the global index of out[0].
 * @param[in]  count   numbers to write.
 * @param[out] out     count values.
 * @return BERG_OK; BERG_ERR_NULL when out is NULL and count > 0.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_noise_normals(unsigned long long seed, unsigned long long stream,
                                            unsigned long long first, size_t count, double *out);

/**
 * @brief A distributed Gaussian random field generator with spectrum C(k)
 * (opaque).
 *
 * A sample is the field of berg_multiplier_random_field(),
 * out = T^{-1} sqrt(C) T xi with xi_i = z(seed, stream, i) / sqrt(w) at the
 * global site index i (berg_mpi_noise_normals()), so that
 * E[out_i out_j] = (1/V) sum_k C(k) e_k(x_i) e_k(x_j): the same seed and
 * stream give the same field for every number of ranks (to the round-off of
 * the distributed FFT). The symbol table is that of the serial multiplier
 * (modes, Nyquist averaging, BERG_SYMBOL_FD).
 * @since 1.1
 */
typedef struct berg_mpi_field berg_mpi_field;

/**
 * @brief Create a random field generator whose spectrum is a callback
 * symbol (collective).
 *
 * The symbol is evaluated on each rank's spectral modes as by
 * berg_multiplier_create_ex() (berg/heat.h); it must be >= 0 on every mode.
 * On a space mixing periodic and non-periodic axes the symbol must be even
 * in every k_a: at most one periodic axis.
 * @param[out] out        the new generator; untouched on failure. Free with
 *                        berg_mpi_field_destroy().
 * @param[in]  space      the distributed space (copied).
 * @param[in]  flags      0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                        BERG_SYMBOL_FD.
 * @param[in]  spectrum   the spectrum C(k).
 * @param[in]  user_data  passed to spectrum (during this call only).
 * @return BERG_OK; BERG_ERR_NULL when out, space or spectrum is NULL;
 *         BERG_ERR_DOMAIN when flags has another bit or the spectrum is
 *         negative on some mode; BERG_ERR_CALLBACK when spectrum fails or
 *         returns a value that is not finite; BERG_ERR_UNSUPPORTED for a
 *         space of rank 1 or a mixed space with more than one periodic
 *         axis; BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW-MPI cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_field_create(berg_mpi_field **out, const berg_mpi_space *space,
                                           unsigned flags, berg_symbol_fn spectrum,
                                           void *user_data);

/**
 * @brief Create a random field generator whose spectrum is a built-in
 * regulator of |k|_g (collective), the symbol of
 * berg_multiplier_create_regulator().
 * @param[out] out     the new generator; untouched on failure.
 * @param[in]  space   the distributed space (copied); a mixed space needs a
 *                     diagonal metric.
 * @param[in]  kind    the regulator.
 * @param[in]  lambda  its scale, finite and > 0.
 * @param[in]  flags   0 or a bitwise or of BERG_PLAN_ESTIMATE and
 *                     BERG_SYMBOL_FD.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_DOMAIN for an unknown kind, a bad lambda, a regulator
 *         that overflows on some mode or a flag of another creator;
 *         BERG_ERR_UNSUPPORTED for a space of rank 1 or a mixed space with a
 *         coupled metric; BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW-MPI
 *         cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_field_create_regulator(berg_mpi_field **out,
                                                     const berg_mpi_space *space,
                                                     berg_regulator kind, double lambda,
                                                     unsigned flags);

/**
 * @brief Draw the field of (seed, stream) into this rank's local block
 * (collective).
 *
 * Not const: it uses the generator's transform buffers (calls on one
 * handle are serialized by its lock).
 * @param[in,out] f       the generator.
 * @param[in]     seed    the noise's seed.
 * @param[in]     stream  the noise's stream (different streams give
 *                        independent fields).
 * @param[out]    out     the local block (berg_mpi_space_local() size; NULL
 *                        on a rank without rows).
 * @return BERG_OK; BERG_ERR_NULL when f is NULL, or out is NULL on a rank
 *         with rows; BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_field_sample(berg_mpi_field *f, unsigned long long seed,
                                           unsigned long long stream, double *out);

/**
 * @brief Free a random field generator (collective).
 * @param[in] f  the generator, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_mpi_field_destroy(berg_mpi_field *f);

/**
 * @brief A distributed Langevin flow of a lattice field on a periodic
 * space (opaque), the flow of ::berg_langevin (berg/stochastic.h).
 *
 * One Euler-Maruyama step is
 *   phi += -dt Cdot grad + sqrt(2 dt) T^{-1} sqrt(c) T xi,
 * with Cdot the Fourier multiplier of the regulator c(k) and xi the white
 * noise z(seed, s, i) / sqrt(w) at the global site index i of step
 * s = 0, 1, 2, ... (counted over the successful calls, as berg_langevin):
 * the same seed gives the same trajectory on any number of ranks (to the
 * round-off of the distributed FFT). A step costs three distributed
 * transforms. The action gradient is a callback on the local block; it is
 * called on every rank at every step and may communicate (halo exchange of
 * a nearest-neighbour action) over the caller's communicator.
 * @since 1.1
 */
typedef struct berg_mpi_langevin berg_mpi_langevin;

/**
 * @brief Create a distributed Langevin flow with Cdot the multiplier of a
 * regulator symbol c(k) >= 0 (collective).
 *
 * The symbol is evaluated once per mode at creation as by
 * berg_langevin_create() (Nyquist averaging included).
 * @param[out] out        the new flow; untouched on failure. Free with
 *                        berg_mpi_langevin_destroy().
 * @param[in]  space      the distributed space (copied); every axis
 *                        periodic, rank >= 2.
 * @param[in]  seed       seed of the noise.
 * @param[in]  regulator  the symbol c(k); finite and >= 0.
 * @param[in]  user_data  passed to regulator (during this call only).
 * @return BERG_OK; BERG_ERR_NULL when out, space or regulator is NULL;
 *         BERG_ERR_UNSUPPORTED when an axis is not periodic or the rank is
 *         1; BERG_ERR_DOMAIN when the symbol is negative on some mode;
 *         BERG_ERR_CALLBACK when it fails or is not finite; BERG_ERR_NOMEM;
 *         BERG_ERR_INTERNAL when FFTW-MPI cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_langevin_create(berg_mpi_langevin **out,
                                              const berg_mpi_space *space,
                                              unsigned long long seed, berg_symbol_fn regulator,
                                              void *user_data);

/**
 * @brief Create a distributed Langevin flow with Cdot a built-in regulator
 * of |k|_g (collective), as berg_langevin_create_regulator().
 * @param[out] out     the new flow; untouched on failure.
 * @param[in]  space   the distributed space (copied); every axis periodic,
 *                     rank >= 2.
 * @param[in]  kind    the regulator.
 * @param[in]  lambda  its scale, finite and > 0.
 * @param[in]  seed    seed of the noise.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL;
 *         BERG_ERR_DOMAIN for an unknown kind or a bad lambda;
 *         BERG_ERR_UNSUPPORTED when an axis is not periodic or the rank is
 *         1; BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW-MPI cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_langevin_create_regulator(berg_mpi_langevin **out,
                                                        const berg_mpi_space *space,
                                                        berg_regulator kind, double lambda,
                                                        unsigned long long seed);

/**
 * @brief nsteps Euler-Maruyama steps of size dt on the local block phi, in
 * place (collective).
 *
 * On failure (on any rank) phi is untouched on every rank and the step
 * counter does not advance. Calls on one handle are serialized by its
 * lock.
 * @param[in,out] lf         the flow.
 * @param[in]     dt         step size, finite and > 0.
 * @param[in]     nsteps     number of steps.
 * @param[in,out] phi        the local block (NULL on a rank without rows).
 * @param[in]     grad       the action gradient dS/dphi on the local block
 *                           (called with the local size).
 * @param[in]     user_data  passed to grad.
 * @return BERG_OK; BERG_ERR_NULL when lf or grad is NULL, or phi is NULL on
 *         a rank with rows; BERG_ERR_NONFINITE for a non-finite phi or when
 *         the field overflows; BERG_ERR_TIME when dt is not finite and > 0;
 *         BERG_ERR_CALLBACK when grad fails (on any rank) or gives a value
 *         that is not finite.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_langevin_step(berg_mpi_langevin *lf, double dt, size_t nsteps,
                                            double *phi, berg_action_gradient_fn grad,
                                            void *user_data);

/**
 * @brief Free a distributed Langevin flow (collective).
 * @param[in] lf  the flow, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_mpi_langevin_destroy(berg_mpi_langevin *lf);

/**
 * @brief A distributed Fokker-Planck flow d/dt p = div(g^{-1}(grad p + p
 * grad V)) in the Fourier discretization (opaque), the flow of
 * berg_fp_create(..., BERG_FP_FOURIER) (berg/fokker_planck.h) on a
 * slab-distributed periodic grid.
 *
 * Strang steps e^{-tau U/2} e^{tau Delta_g} e^{-tau U/2} of the symmetrized
 * flow (the heat factor by the distributed FFT, two global transposes) are
 * extrapolated in tau^2 with the serial stepper's error control (L1 error
 * estimate below the tolerance relative to the mass, the same step-size
 * rule, equilibrium stop and step budget); every norm the control reads is
 * a global sum added in rank order, so every rank takes the same steps and
 * the result equals the serial berg_fp_evolve() on the same global grid to
 * round-off. Any constant metric (coupled periodic axes included).
 * @since 1.1
 */
typedef struct berg_mpi_fp berg_mpi_fp;

/**
 * @brief Create a distributed Fourier Fokker-Planck flow with potential V
 * (collective).
 * @param[out] out    the new flow; untouched on failure. Free with
 *                    berg_mpi_fp_destroy().
 * @param[in]  space  the distributed space (copied): every axis periodic
 *                    with at least 4 cells, rank >= 2.
 * @param[in]  V      the potential on the local block: finite values
 *                    (NULL on a rank without rows).
 * @param[in]  flags  BERG_FP_FOURIER, optionally or-ed with
 *                    BERG_PLAN_ESTIMATE.
 * @return BERG_OK; BERG_ERR_NULL when out or space is NULL, or V is NULL on
 *         a rank with rows; BERG_ERR_NONFINITE when V has a NaN or
 *         infinity; BERG_ERR_UNSUPPORTED when flags lacks BERG_FP_FOURIER
 *         (the finite-volume flow is serial), an axis is not periodic or
 *         the rank is 1; BERG_ERR_SIZE when an axis has fewer than 4 cells;
 *         BERG_ERR_DOMAIN for another flag bit, a range of V that
 *         overflows, an e^{-V/2} the grid does not resolve or a V too steep;
 *         BERG_ERR_NOMEM; BERG_ERR_INTERNAL when FFTW-MPI cannot plan.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_fp_create(berg_mpi_fp **out, const berg_mpi_space *space,
                                        const double *V, unsigned flags);

/**
 * @brief Set the tolerance of the evolve calls (default 1e-8), as
 * berg_fp_set_tolerance(); pass the same value on every rank.
 * @param[in,out] fp   the flow.
 * @param[in]     tol  the tolerance, in [1e-14, 1e-1].
 * @return BERG_OK; BERG_ERR_NULL when fp is NULL; BERG_ERR_DOMAIN when tol
 *         is out of range.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_fp_set_tolerance(berg_mpi_fp *fp, double tol);

/**
 * @brief out = e^{tL} in on the local blocks (collective).
 *
 * Mass is conserved exactly; values the extrapolation would make negative
 * are set to 0 and the mass restored by scaling (as berg_fp_evolve()).
 * Calls on one handle are serialized by its lock.
 * @param[in]  fp   the flow.
 * @param[in]  t    the time, finite and >= 0 (t = 0 copies).
 * @param[in]  in   the local block of a measure: finite values >= 0 (NULL
 *                  on a rank without rows).
 * @param[out] out  the local block of the result; may equal in; untouched
 *                  (on every rank) on failure.
 * @return BERG_OK; BERG_ERR_NULL when fp is NULL or an array is NULL on a
 *         rank with rows; BERG_ERR_TIME when t is negative or not finite;
 *         BERG_ERR_NONFINITE, BERG_ERR_NEGATIVE for a bad in;
 *         BERG_ERR_DOMAIN when in holds mass where e^{-V/2} underflows, is
 *         not resolved by the grid, or the result exceeds DBL_MAX;
 *         BERG_ERR_NO_CONVERGENCE when the step size collapses or the step
 *         budget is spent; BERG_ERR_NOMEM.
 * @since 1.1
 */
BERG_API berg_status berg_mpi_fp_evolve(const berg_mpi_fp *fp, double t, const double *in,
                                        double *out);

/**
 * @brief Free a distributed Fokker-Planck flow (collective).
 * @param[in] fp  the flow, or NULL (a no-op).
 * @since 1.1
 */
BERG_API void berg_mpi_fp_destroy(berg_mpi_fp *fp);

/* ---- end mpifield ---- */

#ifdef __cplusplus
}
#endif

#endif /* BERG_MPI_H */
