/*
 * A 3-D lattice field Langevin flow of the stochastic RG (seed eq 27-37) on
 * ranks of MPI: the Ito SDE
 *   d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW
 * of berg_mpi_langevin_step, with Cdot the exponential regulator
 * exp(-|k|^2 / Lambda^2) and the free lattice action
 *   S = sum_x [ 1/2 sum_a (phi(x + e_a) - phi(x))^2 + m^2/2 phi(x)^2 ]
 * (lattice spacing 1, cell weight w = 1) on an n^3 periodic lattice split in
 * slabs of the first axis. The action gradient -Delta phi + m^2 phi is the
 * callback: it exchanges one plane with each neighbouring rank (a halo, as
 * a lattice code does).
 *
 * Measured: the two-point function G(r) = <phi(x) phi(x + r e_a)> along the
 * two axes each rank holds whole (a = 1, 2), averaged over the sites and
 * over configurations `every` steps apart after `therm` steps from phi = 0.
 * Exact: the Euler-Maruyama chain with step dt is a linear Gaussian chain,
 * whose stationary covariance per Fourier mode is, with
 * K(k) = sum_a 4 sin^2(k_a / 2) + m^2 and c(k) = exp(-|k|^2 / Lambda^2),
 *   E|phi^(k)|^2 / N = g(k) = 1 / (K (1 - dt c K / 2))
 * (the continuum-time law e^{-S} has 1 / K), so
 *   G(r) = (1/N) sum_k g(k) cos(k_2 r).
 * The error bar: a configuration's estimate of G(r) has a variance at most
 * 2 sum_k g^2 / N^2, and configurations `every` steps apart are correlated
 * at most by rho = max_k |1 - dt c K|^every, inflating it by
 * (1 + rho) / (1 - rho).
 *
 * Usage: mpirun -np 2 mpi_langevin [--n 256] [--therm 60] [--configs 8]
 *            [--every 10] [--dt 0.1] [--m2 1] [--lambda 4] [--seed 1]
 *            [--out two_point.csv] [--check]
 * writes r, measured G, exact G, its error bar, the deviation in error bars,
 * and the continuum (dt -> 0) value; --check returns 1 when a deviation
 * exceeds 5 error bars (the test suite runs --n 32 --check on 2 ranks).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berg/mpi.h"

/* pi, spelled out: M_PI is not ISO C */
#define BERG_EX_PI 3.14159265358979323846

#define RMAX 8

typedef struct {
    MPI_Comm comm;
    int prev, next;
    size_t n, rows;
    double m2;
    double *halo; /* two planes: the one before the slab and the one after */
} lattice;

/* grad = -Delta phi + m^2 phi on the local slab (collective: halo planes) */
static int gradient(size_t size, const double *phi, double *grad, void *user_data)
{
    lattice *L = user_data;
    const size_t n = L->n, plane = n * n, rows = L->rows;
    (void)size;
    double *before = L->halo, *after = L->halo + plane;
    /* my first plane goes to prev (its `after`), my last to next */
    MPI_Sendrecv(phi, (int)plane, MPI_DOUBLE, L->prev, 1, after, (int)plane, MPI_DOUBLE, L->next,
                 1, L->comm, MPI_STATUS_IGNORE);
    MPI_Sendrecv(phi + (rows - 1) * plane, (int)plane, MPI_DOUBLE, L->next, 2, before, (int)plane,
                 MPI_DOUBLE, L->prev, 2, L->comm, MPI_STATUS_IGNORE);
    for (size_t i = 0; i < rows; i++) {
        const double *up = i + 1 < rows ? phi + (i + 1) * plane : after;
        const double *dn = i > 0 ? phi + (i - 1) * plane : before;
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                size_t c = j * n + k, x = i * plane + c;
                size_t jp = ((j + 1) % n) * n + k, jm = ((j + n - 1) % n) * n + k;
                size_t kp = j * n + (k + 1) % n, km = j * n + (k + n - 1) % n;
                double lap = up[c] + dn[c] + phi[i * plane + jp] + phi[i * plane + jm] +
                             phi[i * plane + kp] + phi[i * plane + km] - 6.0 * phi[x];
                grad[x] = -lap + L->m2 * phi[x];
            }
    }
    return 0;
}

static double arg_value(int argc, char **argv, const char *name, double dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atof(argv[i + 1]);
    return dflt;
}

static int has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static const char *arg_string(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static int fail(int rank, const char *what)
{
    if (rank == 0)
        fprintf(stderr, "mpi_langevin: %s: %s\n", what, berg_mpi_last_error());
    MPI_Finalize();
    return 1;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    const size_t n = (size_t)arg_value(argc, argv, "--n", 256);
    const int therm = (int)arg_value(argc, argv, "--therm", 60);
    const int configs = (int)arg_value(argc, argv, "--configs", 8);
    const int every = (int)arg_value(argc, argv, "--every", 10);
    const double dt = arg_value(argc, argv, "--dt", 0.1), m2 = arg_value(argc, argv, "--m2", 1.0);
    const double lambda = arg_value(argc, argv, "--lambda", 4.0);
    const unsigned long long seed = (unsigned long long)arg_value(argc, argv, "--seed", 1);
    const char *out_path = arg_string(argc, argv, "--out");
    const int check = has_flag(argc, argv, "--check");

    /* the global lattice: n^3 cells of side 1 */
    const size_t shape[3] = {n, n, n};
    const double lo[3] = {0, 0, 0}, hi[3] = {(double)n, (double)n, (double)n};
    const berg_boundary bc[3] = {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC};
    berg_space *space = NULL;
    berg_mpi_space *ms = NULL;
    if (berg_space_create(&space, 3, shape, lo, hi, bc, NULL) != BERG_OK) {
        if (rank == 0)
            fprintf(stderr, "mpi_langevin: %s\n", berg_last_error());
        MPI_Finalize();
        return 1;
    }
    if (berg_mpi_space_create(&ms, space, MPI_COMM_WORLD) != BERG_OK)
        return fail(rank, "berg_mpi_space_create");
    size_t rows = 0, row0 = 0, size = 0;
    berg_mpi_space_local(ms, &rows, &row0, &size);
    int empty = rows == 0, any_empty = 0;
    MPI_Allreduce(&empty, &any_empty, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_empty) {
        if (rank == 0)
            fprintf(stderr, "mpi_langevin: n = %zu leaves a rank without rows on %d ranks; the "
                            "halo exchange needs rows on every rank\n",
                    n, nranks);
        MPI_Finalize();
        return 1;
    }
    berg_mpi_langevin *lf = NULL;
    if (berg_mpi_langevin_create_regulator(&lf, ms, BERG_REGULATOR_EXPONENTIAL, lambda, seed) !=
        BERG_OK)
        return fail(rank, "berg_mpi_langevin_create_regulator");

    const size_t plane = n * n;
    lattice L = {MPI_COMM_WORLD, (rank + nranks - 1) % nranks, (rank + 1) % nranks, n, rows, m2,
                 malloc(2 * plane * sizeof(double))};
    double *phi = calloc(size, sizeof *phi);
    double meas[RMAX + 1] = {0};
    double t0 = MPI_Wtime();
    if (berg_mpi_langevin_step(lf, dt, (size_t)therm, phi, gradient, &L) != BERG_OK)
        return fail(rank, "berg_mpi_langevin_step");
    for (int c = 0; c < configs; c++) {
        if (berg_mpi_langevin_step(lf, dt, (size_t)every, phi, gradient, &L) != BERG_OK)
            return fail(rank, "berg_mpi_langevin_step");
        /* phi(x) phi(x + r e_1) and phi(x) phi(x + r e_2): whole axes here */
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < n; j++)
                for (size_t k = 0; k < n; k++) {
                    double v = phi[i * plane + j * n + k];
                    for (size_t r = 0; r <= RMAX; r++)
                        meas[r] += v * (phi[i * plane + ((j + r) % n) * n + k] +
                                        phi[i * plane + j * n + (k + r) % n]);
                }
    }
    double seconds = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, meas, RMAX + 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    const double N = (double)n * (double)n * (double)n;
    for (size_t r = 0; r <= RMAX; r++)
        meas[r] /= 2.0 * N * configs;

    /* the exact G(r) of the chain and of the continuum-time flow, the sum
     * of g^2 and the slowest correlation, each rank over its rows of k_0 */
    double exact[RMAX + 1] = {0}, cont[RMAX + 1] = {0}, acc[2] = {0, 0};
    double *s2 = malloc(n * sizeof *s2), *cosr = malloc(n * (RMAX + 1) * sizeof *cosr);
    for (size_t m = 0; m < n; m++) {
        double k = 2.0 * BERG_EX_PI * (double)(m <= n / 2 ? (double)m : (double)m - (double)n) / n;
        s2[m] = 4.0 * sin(0.5 * k) * sin(0.5 * k);
        for (size_t r = 0; r <= RMAX; r++)
            cosr[m * (RMAX + 1) + r] = cos(k * (double)r);
    }
    double kk[3];
    for (size_t a = row0; a < row0 + rows; a++)
        for (size_t b = 0; b < n; b++) {
            double row_g[RMAX + 1] = {0}, row_c[RMAX + 1] = {0};
            for (size_t m = 0; m < n; m++) {
                size_t mm[3] = {a, b, m};
                double q = 0.0;
                for (int ax = 0; ax < 3; ax++) {
                    double mi = mm[ax] <= n / 2 ? (double)mm[ax] : (double)mm[ax] - (double)n;
                    kk[ax] = 2.0 * BERG_EX_PI * mi / (double)n;
                    q += kk[ax] * kk[ax];
                }
                double K = s2[a] + s2[b] + s2[m] + m2, c = exp(-q / (lambda * lambda));
                double g = 1.0 / (K * (1.0 - 0.5 * dt * c * K)), g0 = 1.0 / K;
                acc[0] += g * g;
                acc[1] = fmax(acc[1], fabs(1.0 - dt * c * K));
                for (size_t r = 0; r <= RMAX; r++) {
                    row_g[r] += g * cosr[m * (RMAX + 1) + r];
                    row_c[r] += g0 * cosr[m * (RMAX + 1) + r];
                }
            }
            for (size_t r = 0; r <= RMAX; r++) {
                exact[r] += row_g[r];
                cont[r] += row_c[r];
            }
        }
    MPI_Allreduce(MPI_IN_PLACE, exact, RMAX + 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, cont, RMAX + 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &acc[0], 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &acc[1], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    double rho = pow(acc[1], every);
    double sigma = sqrt(2.0 * acc[0] / (N * N) * (1.0 + rho) / (1.0 - rho) / configs);
    int bad = 0;
    if (rank == 0) {
        FILE *f = out_path ? fopen(out_path, "w") : stdout;
        if (!f) {
            fprintf(stderr, "mpi_langevin: cannot write %s\n", out_path);
            f = stdout;
        }
        fprintf(f, "# %zu^3 lattice on %d ranks, dt %g, m^2 %g, Lambda %g, %d + %d x %d steps "
                   "(%.1f s, %.3f s a step)\n",
                n, nranks, dt, m2, lambda, therm, configs, every, seconds,
                seconds / (therm + configs * every));
        fprintf(f, "r,measured,exact,error_bar,deviation,continuum\n");
        for (size_t r = 0; r <= RMAX; r++) {
            double e = exact[r] / N, dev = (meas[r] - e) / sigma;
            fprintf(f, "%zu,%.6f,%.6f,%.2e,%+.2f,%.6f\n", r, meas[r], e, sigma, dev, cont[r] / N);
            if (fabs(dev) > 5.0)
                bad = 1;
        }
        if (f != stdout)
            fclose(f);
        if (check)
            printf("mpi_langevin: %s (largest deviation within 5 error bars of %.2e)\n",
                   bad ? "FAIL" : "agreement", sigma);
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(s2);
    free(cosr);
    free(phi);
    free(L.halo);
    berg_mpi_langevin_destroy(lf);
    berg_mpi_space_destroy(ms);
    berg_space_destroy(space);
    MPI_Finalize();
    return check && bad ? 1 : 0;
}
