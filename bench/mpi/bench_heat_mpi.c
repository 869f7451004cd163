/*
 * The distributed heat step against serial libberg, in one process run:
 *
 *   mpirun --oversubscribe -np 2 build/bench/mpi/bench_heat_mpi [samples] [--measure] [2d|3d]
 *
 * Three cases per grid (periodic 2048^2 and 256^3, t = 1e-3), interleaved
 * sample by sample (serial, np=1, np=2, then the next sample in another
 * order), medians of each:
 *   serial  berg_heat_apply on rank 0;
 *   np=1    berg_mpi_heat_apply on a communicator of rank 0 alone
 *           (MPI_Comm_split of the world): FFTW-MPI on one rank;
 *   np=2    berg_mpi_heat_apply on the world communicator (both ranks).
 * While rank 0 times serial and np=1, rank 1 sleeps (a non-spinning wait
 * for rank 0's token), so it takes no core. Printed: the two ratios
 * np=1 / serial (goal <= 1.15) and np=2 / np=1 (goal <= 0.65), plus the
 * per-rank bytes of the two transposes for the cost model of
 * docs/distributed.md. Plans: FFTW_ESTIMATE unless --measure (both sides
 * get the same planner flag).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berg.h"
#include "berg/mpi.h"
#include "bench.h"

static int rank = 0, nranks = 1;

/* rank 1 waits without spinning until rank 0 sends the token */
static void idle_until_token(void)
{
    int token = 0, done = 0;
    MPI_Request req;
    MPI_Irecv(&token, 1, MPI_INT, 0, 77, MPI_COMM_WORLD, &req);
    while (!done) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
}

static void send_token(void)
{
    int token = 1;
    for (int r = 1; r < nranks; r++)
        MPI_Send(&token, 1, MPI_INT, r, 77, MPI_COMM_WORLD);
}

typedef struct {
    size_t d, n[3];
    unsigned flags;
    berg_space *s;
    berg_heat *h;                 /* serial, rank 0 */
    berg_mpi_space *ms1, *ms2;    /* np=1 (rank 0 only), np=2 */
    berg_mpi_heat *h1, *h2;
    double *in, *out;             /* whole grid, rank 0 */
    double *in2, *out2;           /* rank's slab of np=2 */
    size_t size2;
} bcase;

static double seconds(void) { return bench_now(); }

/* one timed sample of each case; returns the three times (rank 0) */
static void sample(bcase *c, int order, double *ts, double *t1, double *t2)
{
    const double t = 1e-3;
    for (int k = 0; k < 3; k++) {
        int which = (order + k) % 3;
        MPI_Barrier(MPI_COMM_WORLD);
        if (which == 2) { /* np=2: both ranks */
            double t0 = seconds();
            berg_mpi_heat_apply(c->h2, t, c->in2, c->out2);
            MPI_Barrier(MPI_COMM_WORLD);
            if (rank == 0)
                *t2 = seconds() - t0;
            continue;
        }
        if (rank == 0) {
            double t0 = seconds();
            if (which == 0)
                berg_heat_apply(c->h, t, c->in, c->out);
            else
                berg_mpi_heat_apply(c->h1, t, c->in, c->out);
            double dt = seconds() - t0;
            if (which == 0)
                *ts = dt;
            else
                *t1 = dt;
            send_token();
        } else {
            idle_until_token();
        }
    }
}

static void run_case(size_t d, const size_t *n, unsigned flags, int samples, MPI_Comm self)
{
    bcase c;
    memset(&c, 0, sizeof c);
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    if (berg_space_create(&c.s, d, n, lo, hi, NULL, NULL) != BERG_OK) {
        fprintf(stderr, "space: %s\n", berg_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    size_t N = berg_space_size(c.s);
    /* np=1 objects: rank 0 only; the rank 1 sleeps meanwhile */
    if (rank == 0) {
        c.in = malloc(N * sizeof(double));
        c.out = malloc(N * sizeof(double));
        for (size_t i = 0; i < N; i++)
            c.in[i] = 1.0 + 0.5 * sin(0.001 * (double)i);
        if (berg_heat_create(&c.h, c.s, flags) != BERG_OK ||
            berg_mpi_space_create(&c.ms1, c.s, self) != BERG_OK ||
            berg_mpi_heat_create(&c.h1, c.ms1, 1, flags) != BERG_OK) {
            fprintf(stderr, "create: %s / %s\n", berg_last_error(), berg_mpi_last_error());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        send_token();
    } else {
        idle_until_token();
    }
    if (berg_mpi_space_create(&c.ms2, c.s, MPI_COMM_WORLD) != BERG_OK ||
        berg_mpi_heat_create(&c.h2, c.ms2, 1, flags) != BERG_OK) {
        fprintf(stderr, "create np=2: %s\n", berg_mpi_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    size_t rows, off;
    berg_mpi_space_local(c.ms2, &rows, &off, &c.size2);
    c.in2 = malloc((c.size2 + 1) * sizeof(double));
    c.out2 = malloc((c.size2 + 1) * sizeof(double));
    for (size_t i = 0; i < c.size2; i++)
        c.in2[i] = 1.0 + 0.5 * sin(0.001 * (double)(i + off * (N / n[0])));

    double *ts = malloc((size_t)samples * sizeof(double));
    double *t1 = malloc((size_t)samples * sizeof(double));
    double *t2 = malloc((size_t)samples * sizeof(double));
    double a, b, e;
    sample(&c, 0, &a, &b, &e); /* warm-up: first touch of every buffer */
    for (int s = 0; s < samples; s++)
        sample(&c, s % 3, &ts[s], &t1[s], &t2[s]);
    if (rank == 0) {
        double ms = bench_median(ts, samples), m1 = bench_median(t1, samples),
               m2 = bench_median(t2, samples);
        char name[64];
        if (d == 2)
            snprintf(name, sizeof name, "heat %zu^2 periodic", n[0]);
        else
            snprintf(name, sizeof name, "heat %zu^3 periodic", n[0]);
        /* bytes a rank sends in the two transposes of a step on P = 2
         * ranks: its share spec / P of the half-complex spectrum, of which
         * (P - 1) / P leaves the rank, twice */
        const double P = 2.0;
        double spec = 16.0 * (double)(N / n[d - 1]) * (double)(n[d - 1] / 2 + 1);
        double moved = 2.0 * (spec / P) * (P - 1.0) / P;
        printf("%-24s serial %9.2f ms  np=1 %9.2f ms  np=2 %9.2f ms  "
               "np=1/serial %.3f (goal <= 1.15)  np=2/np=1 %.3f (goal <= 0.65)  "
               "transposes %.1f MB sent per rank per step\n",
               name, 1e3 * ms, 1e3 * m1, 1e3 * m2, m1 / ms, m2 / m1, moved / 1e6);
        fflush(stdout);
    }
    free(ts);
    free(t1);
    free(t2);
    berg_mpi_heat_destroy(c.h2);
    berg_mpi_space_destroy(c.ms2);
    if (rank == 0) {
        berg_mpi_heat_destroy(c.h1);
        berg_mpi_space_destroy(c.ms1);
        berg_heat_destroy(c.h);
        free(c.in);
        free(c.out);
    }
    free(c.in2);
    free(c.out2);
    berg_space_destroy(c.s);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int samples = 7;
    unsigned flags = BERG_PLAN_ESTIMATE;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--measure") == 0)
            flags = 0;
        else if (strspn(argv[i], "0123456789") == strlen(argv[i]) && atoi(argv[i]) > 0)
            samples = atoi(argv[i]);
        else
            only = argv[i];
    }
    if (nranks != 2) {
        if (rank == 0)
            fprintf(stderr, "bench_heat_mpi: run it with mpirun -np 2 (got %d ranks)\n", nranks);
        MPI_Finalize();
        return 1;
    }
    MPI_Comm self;
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? 0 : MPI_UNDEFINED, 0, &self);
    if (rank == 0)
        printf("bench_heat_mpi: %d samples, %s plans, medians; rank 1 sleeps during serial and "
               "np=1\n",
               samples, flags ? "FFTW_ESTIMATE" : "FFTW_MEASURE");
    const size_t n2[2] = {2048, 2048}, n3[3] = {256, 256, 256};
    if (only == NULL || strstr("2d", only))
        run_case(2, n2, flags, samples, self);
    if (only == NULL || strstr("3d", only))
        run_case(3, n3, flags, samples, self);
    if (self != MPI_COMM_NULL)
        MPI_Comm_free(&self);
    MPI_Finalize();
    return 0;
}
