/*
 * Counter-based normal numbers for distributed noise (issue 16): the normal
 * number of a lattice site is a pure function of (seed, stream, global
 * index), so a field drawn on any number of ranks is the same field.
 *
 * Philox4x32-10 (J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC11), the generator of
 * Random123, cuRAND and numpy's Philox: ten rounds of two 32x32->64
 * multiplications with a Weyl key schedule; it passes TestU01's BigCrush
 * for every counter/key pattern. tests/mpi/test_mpi_field.c checks the
 * Random123 known-answer vectors and the moments and independence of the
 * normals made here.
 */
#include <math.h>

#include "mpi/field_internal.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void berg__philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* (k + 0.5) 2^-53 for the 53 high bits k of hi:lo: in (0, 1), never 0 */
static inline double uniform53(uint32_t hi, uint32_t lo)
{
    uint64_t v = ((uint64_t)hi << 32 | lo) >> 11;
    return ((double)v + 0.5) * 0x1.0p-53;
}

double berg__counter_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
    const uint32_t ctr[4] = {(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)stream,
                             (uint32_t)(stream >> 32)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t o[4];
    berg__philox4x32(ctr, key, o);
    double u1 = uniform53(o[0], o[1]), u2 = uniform53(o[2], o[3]);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void berg__mpi_white_noise(const berg__mpi_xform *x, uint64_t seed, uint64_t stream, double *out)
{
    const uint64_t first = (uint64_t)x->sp.off0 * (uint64_t)x->sp.row;
    for (size_t i = 0; i < x->sp.size; i++)
        out[i] = berg__counter_normal(seed, stream, first + i);
}
