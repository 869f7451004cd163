/*
 * The distributed Fourier Fokker-Planck flow (issue 16), run under mpirun
 * -np 1..4: the run splits its ranks into communicators of 1..P ranks and
 * compares, on each, berg_mpi_fp_evolve (gathered) with the serial
 * berg_fp_evolve(BERG_FP_FOURIER) on the same global grid, to 1e-13 of the
 * largest value: a 2-D grid with a diagonal metric, a 3-D grid with 4 rows
 * (fewer than or as many as the ranks; a rank without rows at P = 3), odd
 * sizes, a coupled metric on the periodic axes (the per-mode heat table),
 * and a confining potential whose walls use the finite-difference U across
 * the slab boundaries. Also: mass conservation, t = 0, the collective
 * refusals (a negative value on one rank, flags, boundaries) with the
 * output untouched on every rank.
 */
#include <float.h>
#include <math.h>

#include "berg/mpi.h"
#include "testutil.h"
#include "mpi_gather.h"

static int rank_, nproc_;

#define MPI_STATUS(got, want, ...)                                                                 \
    do {                                                                                           \
        char tu_w_[256];                                                                           \
        TU_WHAT(tu_w_, __VA_ARGS__);                                                               \
        berg_status tu_g_ = (got), tu_e_ = (want);                                                 \
        CHECK(tu_g_ == tu_e_, "%s: status %d, want %d (%s)", tu_w_, (int)tu_g_, (int)tu_e_,        \
              berg_mpi_last_error());                                                              \
        if (tu_e_ != BERG_OK)                                                                      \
            CHECK(berg_mpi_last_error()[0] != '\0', "%s: no message", tu_w_);                      \
    } while (0)

typedef double (*field_fn)(const double *x);

/* V and p0 of the cases (coordinates of the cell centres) */
static double V_smooth2(const double *x)
{
    return 1.0 * cos(x[0]) + 0.5 * cos(2 * M_PI * x[1] / 3.0);
}
static double p_smooth2(const double *x)
{
    return exp(-0.5 * V_smooth2(x)) * (1.0 + 0.5 * sin(x[0]) * cos(2 * M_PI * x[1] / 3.0));
}
static double V_rows3(const double *x) { return 0.3 * cos(x[1] * 2 * M_PI / 3.0) + 0.2 * sin(x[2]); }
static double p_rows3(const double *x)
{
    return exp(-0.5 * V_rows3(x)) * (1.0 + 0.3 * cos(x[0]) + 0.2 * sin(x[2]));
}
static double V_wall(const double *x)
{
    return 8.0 * (x[0] - M_PI) * (x[0] - M_PI) + 0.3 * cos(2 * M_PI * x[1] / 3.0);
}
static double p_wall(const double *x)
{
    return exp(-0.5 * V_wall(x)) * exp(-2.0 * (x[0] - M_PI - 0.3) * (x[0] - M_PI - 0.3));
}

static void fill(const berg_space *s, size_t d, const size_t *n, field_fn f, double *out)
{
    double lo[3] = {0, -1, 0.5}, hi[3] = {2 * M_PI, 2.0, 0.5 + 2 * M_PI};
    size_t N = berg_space_size(s), idx[3];
    for (size_t i = 0; i < N; i++) {
        size_t r = i;
        for (size_t a = d; a-- > 0;) {
            idx[a] = r % n[a];
            r /= n[a];
        }
        double x[3];
        for (size_t a = 0; a < d; a++)
            x[a] = lo[a] + (idx[a] + 0.5) * (hi[a] - lo[a]) / (double)n[a];
        out[i] = f(x);
    }
}

static void compare_case(const char *name, size_t d, const size_t *n, const double *metric,
                         field_fn Vf, field_fn pf, double t)
{
    double lo[3] = {0, -1, 0.5}, hi[3] = {2 * M_PI, 2.0, 0.5 + 2 * M_PI};
    berg_boundary bc[3] = {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = NULL;
    berg_space_create(&s, d, n, lo, hi, bc, metric);
    size_t N = berg_space_size(s), row = N / n[0];
    double *V = malloc(N * sizeof *V), *p0 = malloc(N * sizeof *p0), *ref = malloc(N * sizeof *ref);
    fill(s, d, n, Vf, V);
    fill(s, d, n, pf, p0);
    double mass = 0;
    for (size_t i = 0; i < N; i++)
        mass += p0[i];
    for (size_t i = 0; i < N; i++)
        p0[i] /= mass * berg_space_cell_weight(s);
    if (rank_ == 0) {
        berg_fp *fp = NULL;
        CHECK_STATUS(berg_fp_create(&fp, s, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE), BERG_OK,
                     "%s: serial create", name);
        CHECK_STATUS(berg_fp_evolve(fp, t, p0, ref), BERG_OK, "%s: serial evolve", name);
        size_t acc = 0, rej = 0;
        berg_fp_last_steps(fp, &acc, &rej);
        printf("%s: serial %zu accepted, %zu rejected steps\n", name, acc, rej);
        berg_fp_destroy(fp);
    }
    for (int P = 1; P <= nproc_; P++) {
        MPI_Comm c = mg_first_ranks(P);
        if (c == MPI_COMM_NULL)
            continue;
        berg_mpi_space *ms = NULL;
        MPI_STATUS(berg_mpi_space_create(&ms, s, c), BERG_OK, "%s: space", name);
        size_t rows = 0, off = 0, cnt = 0;
        berg_mpi_space_local(ms, &rows, &off, &cnt);
        berg_mpi_fp *fp = NULL;
        MPI_STATUS(berg_mpi_fp_create(&fp, ms, rows ? V + off * row : NULL,
                                      BERG_FP_FOURIER | BERG_PLAN_ESTIMATE),
                   BERG_OK, "%s: create on %d ranks", name, P);
        double *loc = malloc((cnt ? cnt : 1) * sizeof *loc), *all = malloc(N * sizeof *all);
        MPI_STATUS(berg_mpi_fp_evolve(fp, t, rows ? p0 + off * row : NULL, rows ? loc : NULL),
                   BERG_OK, "%s: evolve on %d ranks", name, P);
        mg_gather(c, loc, cnt, all);
        if (rank_ == 0) {
            double mx = tu_max_abs(ref, N), err = tu_max_abs_diff(all, ref, N);
            double m1 = 0, m0 = 0;
            for (size_t i = 0; i < N; i++) {
                m1 += all[i];
                m0 += p0[i];
            }
            CHECK(err <= 1e-13 * mx, "%s on %d ranks: differs from serial berg_fp_evolve by %g "
                  "(max %g, relative %.3g)",
                  name, P, err, mx, err / mx);
            CHECK_REL(m1, m0, 1e-13, "%s on %d ranks: mass", name, P);
            printf("%s on %d ranks: max relative difference to serial %.3g\n", name, P, err / mx);
        }
        free(loc);
        free(all);
        berg_mpi_fp_destroy(fp);
        berg_mpi_space_destroy(ms);
        MPI_Comm_free(&c);
    }
    free(V);
    free(p0);
    free(ref);
    berg_space_destroy(s);
}

static void test_refusals(void)
{
    const size_t n[2] = {8, 8};
    double lo[2] = {0, 0}, hi[2] = {2 * M_PI, 2 * M_PI};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = NULL;
    berg_space_create(&s, 2, n, lo, hi, bc, NULL);
    berg_mpi_space *ms = NULL;
    berg_mpi_space_create(&ms, s, MPI_COMM_WORLD);
    size_t rows = 0, off = 0, cnt = 0;
    berg_mpi_space_local(ms, &rows, &off, &cnt);
    double *V = calloc(cnt + 1, sizeof *V), *p = malloc((cnt + 1) * sizeof *p),
           *o = malloc((cnt + 1) * sizeof *o);
    for (size_t i = 0; i < cnt; i++) {
        V[i] = 0.1 * (double)(i % 8 == 3);
        p[i] = 1.0 / (4 * M_PI * M_PI);
        o[i] = -7.0;
    }
    berg_mpi_fp *fp = NULL;
    MPI_STATUS(berg_mpi_fp_create(&fp, ms, V, BERG_PLAN_ESTIMATE), BERG_ERR_UNSUPPORTED,
               "finite volume is serial");
    MPI_STATUS(berg_mpi_fp_create(&fp, ms, V, BERG_FP_FOURIER | 0x4u), BERG_ERR_DOMAIN,
               "a flag bit of another family");
    CHECK(fp == NULL, "out untouched");
    /* a NaN in V on the last rank */
    if (rank_ == nproc_ - 1 && cnt)
        V[cnt - 1] = NAN;
    MPI_STATUS(berg_mpi_fp_create(&fp, ms, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE),
               BERG_ERR_NONFINITE, "NaN in V on rank %d", nproc_ - 1);
    for (size_t i = 0; i < cnt; i++)
        V[i] = 0.05 * cos(2 * M_PI * (double)((off * 8 + i) / 8) / 8.0);
    MPI_STATUS(berg_mpi_fp_create(&fp, ms, V, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE), BERG_OK,
               "create");
    MPI_STATUS(berg_mpi_fp_evolve(fp, 0.0, p, o), BERG_OK, "t = 0");
    CHECK(cnt == 0 || memcmp(p, o, cnt * sizeof *p) == 0, "t = 0 copies");
    for (size_t i = 0; i < cnt; i++)
        o[i] = -7.0;
    if (rank_ == nproc_ - 1 && cnt)
        p[0] = -1e-3;
    MPI_STATUS(berg_mpi_fp_evolve(fp, 0.1, p, o), BERG_ERR_NEGATIVE, "negative on rank %d",
               nproc_ - 1);
    CHECK(tu_untouched(o, cnt, -7.0), "out untouched on rank %d", rank_);
    if (nproc_ > 1)
        CHECK(strstr(berg_mpi_last_error(), "rank") != NULL, "the message names the rank: %s",
              berg_mpi_last_error());
    MPI_STATUS(berg_mpi_fp_evolve(fp, -1.0, p, o), BERG_ERR_TIME, "t < 0");
    MPI_STATUS(berg_mpi_fp_set_tolerance(fp, 1e-20), BERG_ERR_DOMAIN, "tol 1e-20");
    berg_mpi_fp_destroy(fp);
    berg_mpi_space_destroy(ms);
    berg_space_destroy(s);
    /* a Neumann axis */
    bc[1] = BERG_NEUMANN;
    berg_space_create(&s, 2, n, lo, hi, bc, NULL);
    berg_mpi_space_create(&ms, s, MPI_COMM_WORLD);
    MPI_STATUS(berg_mpi_fp_create(&fp, ms, V, BERG_FP_FOURIER), BERG_ERR_UNSUPPORTED,
               "a Neumann axis");
    berg_mpi_space_destroy(ms);
    berg_space_destroy(s);
    free(V);
    free(p);
    free(o);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &nproc_);
    const double g2[4] = {1.0, 0.3, 0.3, 1.5};
    compare_case("2-D diagonal 24x16", 2, (const size_t[]){24, 16}, NULL, V_smooth2, p_smooth2,
                 0.3);
    compare_case("3-D 4x9x10 (4 rows)", 3, (const size_t[]){4, 9, 10}, NULL, V_rows3, p_rows3,
                 0.5);
    compare_case("2-D coupled metric 21x17", 2, (const size_t[]){21, 17}, g2, V_smooth2,
                 p_smooth2, 0.2);
    compare_case("2-D confining walls 64x12", 2, (const size_t[]){64, 12}, NULL, V_wall, p_wall,
                 0.05);
    test_refusals();
    int fails = tu_failures, all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int rc = test_summary("test_mpi_fp");
    MPI_Finalize();
    return all ? 1 : rc;
}
