/*
 * tests/mpi/mpi_gather.h - the sub-communicator of the first P ranks and
 * the gather of a slab-distributed array on rank 0, shared by the field
 * and Fokker-Planck tests of libberg_mpi.
 */
#ifndef BERG_MPI_GATHER_H
#define BERG_MPI_GATHER_H

#include <mpi.h>
#include <stdlib.h>

/* the communicator of the first P ranks of MPI_COMM_WORLD (MPI_COMM_NULL
 * on the others) */
static inline MPI_Comm mg_first_ranks(int P)
{
    int r;
    MPI_Comm c;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_split(MPI_COMM_WORLD, r < P ? 0 : MPI_UNDEFINED, r, &c);
    return c;
}

/* gather a slab-distributed array of comm (nlocal values on this rank) on
 * its rank 0 into global */
static inline void mg_gather(MPI_Comm comm, const double *local, size_t nlocal, double *global)
{
    int P, r;
    MPI_Comm_size(comm, &P);
    MPI_Comm_rank(comm, &r);
    int cnt = (int)nlocal, *cnts = malloc((size_t)P * sizeof *cnts),
        *disp = malloc((size_t)P * sizeof *disp);
    MPI_Gather(&cnt, 1, MPI_INT, cnts, 1, MPI_INT, 0, comm);
    if (r == 0) {
        disp[0] = 0;
        for (int q = 1; q < P; q++)
            disp[q] = disp[q - 1] + cnts[q - 1];
    }
    MPI_Gatherv(local, cnt, MPI_DOUBLE, global, cnts, disp, MPI_DOUBLE, 0, comm);
    free(cnts);
    free(disp);
}

#endif
