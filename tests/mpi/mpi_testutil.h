/*
 * tests/mpi/mpi_testutil.h - helpers of the libberg_mpi tests: global test
 * arrays indexed by global site (the same on every rank count), the slab of
 * this rank, and comparisons of a distributed result with the serial one
 * over all ranks. Every rank computes the serial reference on the whole
 * (small) global grid itself.
 */
#ifndef BERG_MPI_TESTUTIL_H
#define BERG_MPI_TESTUTIL_H

#include <mpi.h>
#include <stdint.h>

#include "testutil.h"
#include "berg/mpi.h"

static int mt_rank = 0, mt_nranks = 1;

static void mt_init(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &mt_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mt_nranks);
}

/* the summary of every rank: non-zero when any rank failed a check */
static int mt_finish(void)
{
    int local = tu_failures, total = 0, checks = 0;
    MPI_Allreduce(&local, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&tu_checks, &checks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (mt_rank == 0)
        printf("%d ranks: %d checks, %d failed\n", mt_nranks, checks, total);
    MPI_Finalize();
    return total != 0;
}

/* a value in [lo, lo + 1) from a global index (splitmix64) */
static double mt_value(uint64_t i, double lo)
{
    uint64_t z = i * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (double)(z >> 11) * 0x1p-53;
}

/* the global array of `count` values starting at global index seed */
static double *mt_global(size_t count, uint64_t seed, double lo)
{
    double *a = malloc((count ? count : 1) * sizeof(double));
    for (size_t i = 0; i < count; i++)
        a[i] = mt_value(seed + i, lo);
    return a;
}

/* max over all ranks of a local value */
static double mt_max(double v)
{
    double g = 0.0;
    MPI_Allreduce(&v, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return g;
}

/* every rank agrees on an integer (returns 1 when all ranks have v) */
static int mt_same(long v)
{
    long lo = 0, hi = 0;
    MPI_Allreduce(&v, &lo, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &hi, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi && lo == v;
}

/* max |got - want| / max |want| over all ranks of `count` local values
 * compared with the global array want_global at local offset `first` */
static double mt_relerr(const double *got, const double *want_global, size_t first, size_t count)
{
    double e = 0.0, m = 0.0;
    for (size_t i = 0; i < count; i++) {
        double w = want_global[first + i];
        e = fmax(e, fabs(got[i] - w));
        if (!isfinite(got[i]))
            e = INFINITY;
        m = fmax(m, fabs(w));
    }
    e = mt_max(e);
    m = mt_max(m);
    return m > 0.0 ? e / m : e;
}

#define MT_CHECK_OK(call, what)                                                                   \
    do {                                                                                          \
        berg_status mt_st_ = (call);                                                              \
        CHECK(mt_st_ == BERG_OK, "%s: status %d (%s)", (what), (int)mt_st_,                     \
              berg_mpi_last_error());                                                             \
    } while (0)

#endif
