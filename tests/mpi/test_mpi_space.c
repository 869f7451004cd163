/* The distributed space: the slab decomposition (FFTW-MPI's default block,
 * empty ranks, sizes not divisible by the rank count) and the global
 * reductions against serial libberg on the whole grid (1e-13 relative),
 * the same bits on every rank; collective refusals. */
#include <float.h>
#include <string.h>

#include "berg/functional.h"
#include "mpi_testutil.h"

#define RTOL 1e-13

typedef struct {
    const char *name;
    size_t d, n[3];
    berg_boundary bc[3];
    double lo[3], hi[3];
    const double *metric;
} grid;

static const double g_coupled3[9] = {1.0, 0.2, 0.1, 0.2, 1.5, 0.0, 0.1, 0.0, 0.8};

static const grid grids[] = {
    {"neumann x periodic 7x5", 2, {7, 5}, {BERG_NEUMANN, BERG_PERIODIC}, {1, -2}, {3, 0.5}, NULL},
    {"periodic 3x4x5 coupled", 3, {3, 4, 5}, {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC},
     {0.5, 1, 2}, {1.5, 2, 4}, g_coupled3},
    {"dirichlet 10", 1, {10}, {BERG_DIRICHLET}, {2}, {5}, NULL},
    {"2x3", 2, {2, 3}, {BERG_PERIODIC, BERG_NEUMANN}, {1, 1}, {2, 3}, NULL},
};

/* the same double on every rank, bitwise */
static int same_bits(double v)
{
    double lo = 0, hi = 0;
    MPI_Allreduce(&v, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return memcmp(&lo, &v, sizeof v) == 0 && memcmp(&hi, &v, sizeof v) == 0;
}

static void decomposition(const grid *g, const berg_mpi_space *ms)
{
    size_t rows = 99, off = 99, size = 99, rank, nr;
    MT_CHECK_OK(berg_mpi_space_local(ms, &rows, &off, &size), "local");
    MT_CHECK_OK(berg_mpi_space_ranks(ms, &rank, &nr), "ranks");
    CHECK(rank == (size_t)mt_rank && nr == (size_t)mt_nranks, "%s: ranks", g->name);
    size_t block = (g->n[0] + nr - 1) / nr, start = rank * block;
    size_t want = start >= g->n[0] ? 0 : (g->n[0] - start < block ? g->n[0] - start : block);
    CHECK(rows == want, "%s: rank %zu holds %zu rows, want %zu", g->name, rank, rows, want);
    CHECK(rows == 0 || off == start, "%s: offset %zu, want %zu", g->name, off, start);
    size_t row = 1;
    for (size_t a = 1; a < g->d; a++)
        row *= g->n[a];
    CHECK(size == rows * row, "%s: local size", g->name);
    long total = 0, mine = (long)rows;
    MPI_Allreduce(&mine, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(total == (long)g->n[0], "%s: the rows add up to n0", g->name);
    CHECK(berg_mpi_space_global(ms) != NULL, "%s: global space", g->name);
}

static void reductions(const grid *g, const berg_space *s, const berg_mpi_space *ms)
{
    size_t N = berg_space_size(s), rows, off, size, d = g->d;
    berg_mpi_space_local(ms, &rows, &off, &size);
    size_t first = size ? off * (size / rows) : 0;
    double *f = mt_global(N, 11, -0.6), *p = mt_global(N, 3000, 0.05),
           *q = mt_global(N, 7000, 0.05);
    double want, got = NAN;
    /* integrate (signed values) */
    MT_CHECK_OK(berg_space_integrate(s, f, &want), "serial integrate");
    MT_CHECK_OK(berg_mpi_space_integrate(ms, f + first, &got), "mpi integrate");
    CHECK_REL(got, want, RTOL, "%s: integral", g->name);
    CHECK(same_bits(got), "%s: integral bitwise the same on every rank", g->name);
    /* normalize */
    double *lp = malloc((size + 1) * sizeof(double)), ms_mass = NAN, ss_mass;
    memcpy(lp, p + first, size * sizeof(double));
    MT_CHECK_OK(berg_space_normalize(s, p, &ss_mass), "serial normalize");
    MT_CHECK_OK(berg_space_normalize(s, q, NULL), "serial normalize q");
    MT_CHECK_OK(berg_mpi_space_normalize(ms, lp, &ms_mass), "mpi normalize");
    CHECK_REL(ms_mass, ss_mass, RTOL, "%s: mass", g->name);
    CHECK(mt_relerr(lp, p, first, size) <= RTOL, "%s: normalized values", g->name);
    /* entropy, KL */
    MT_CHECK_OK(berg_entropy(s, p, &want), "serial entropy");
    MT_CHECK_OK(berg_mpi_space_entropy(ms, p + first, &got), "mpi entropy");
    CHECK_REL(got, want, RTOL, "%s: entropy", g->name);
    CHECK(same_bits(got), "%s: entropy bitwise the same on every rank", g->name);
    MT_CHECK_OK(berg_kl_divergence(s, p, q, &want), "serial KL");
    MT_CHECK_OK(berg_mpi_space_kl_divergence(ms, p + first, q + first, &got), "mpi KL");
    CHECK_REL(got, want, 1e-12, "%s: KL (a difference of logs: 1e-12 of the value)", g->name);
    CHECK(same_bits(got), "%s: KL bitwise the same on every rank", g->name);
    /* mean, covariance */
    double sm[3], mm[3] = {NAN, NAN, NAN}, sc[9], mc[9];
    MT_CHECK_OK(berg_space_mean(s, p, sm), "serial mean");
    MT_CHECK_OK(berg_mpi_space_mean(ms, p + first, mm), "mpi mean");
    for (size_t a = 0; a < d; a++) {
        CHECK_REL(mm[a], sm[a], RTOL, "%s: mean[%zu]", g->name, a);
        CHECK(same_bits(mm[a]), "%s: mean bitwise the same on every rank", g->name);
    }
    MT_CHECK_OK(berg_space_covariance(s, p, sc), "serial covariance");
    MT_CHECK_OK(berg_mpi_space_covariance(ms, p + first, mc), "mpi covariance");
    double cmax = 0.0;
    for (size_t k = 0; k < d * d; k++)
        cmax = fmax(cmax, fabs(sc[k]));
    for (size_t k = 0; k < d * d; k++)
        CHECK_ABS(mc[k], sc[k], RTOL * cmax, "%s: cov[%zu]", g->name, k);
    /* KL = +inf where q vanishes on the support of p (the last global cell) */
    double *q0 = malloc((size + 1) * sizeof(double)), mq0 = 0.0;
    memcpy(q0, q + first, size * sizeof(double));
    if (first + size == N && size > 0)
        q0[size - 1] = 0.0;
    MT_CHECK_OK(berg_mpi_space_normalize(ms, q0, &mq0), "mpi normalize q0");
    MT_CHECK_OK(berg_mpi_space_kl_divergence(ms, p + first, q0, &got), "mpi KL inf");
    CHECK(isinf(got) && got > 0, "%s: KL is +inf when q vanishes on supp p (%g)", g->name, got);
    free(q0);
    free(lp);
    free(f);
    free(p);
    free(q);
}

static void refusals(const berg_space *s, const berg_mpi_space *ms)
{
    size_t rows, off, size;
    berg_mpi_space_local(ms, &rows, &off, &size);
    double *f = mt_global(size, 1, 0.1);
    double out = -3.0;
    /* a negative value on rank 0's block (when it has one) */
    if (mt_rank == 0 && size > 0)
        f[0] = -1.0;
    berg_status st = berg_mpi_space_entropy(ms, f, &out);
    CHECK(st == BERG_ERR_NEGATIVE && mt_same((long)st) && out == -3.0,
          "negative value refused on every rank, S untouched (%d: %s)", (int)st,
          berg_mpi_last_error());
    CHECK(strstr(berg_mpi_last_error(), "berg_mpi_space_entropy: p[0]") != NULL &&
              strstr(berg_mpi_last_error(), "(rank 0 of") != NULL,
          "message names the function, p and the rank: %s", berg_mpi_last_error());
    /* unnormalized density */
    for (size_t i = 0; i < size; i++)
        f[i] = 5.0;
    st = berg_mpi_space_entropy(ms, f, &out);
    CHECK(st == BERG_ERR_MASS && mt_same((long)st) && out == -3.0, "mass refused (%d)", (int)st);
    /* zero mass cannot be normalized; p unchanged */
    for (size_t i = 0; i < size; i++)
        f[i] = 0.0;
    st = berg_mpi_space_normalize(ms, f, NULL);
    CHECK(st == BERG_ERR_MASS && mt_same((long)st), "zero mass refused (%d)", (int)st);
    /* NULL out; NULL array with a non-empty block */
    st = berg_mpi_space_integrate(ms, f, NULL);
    CHECK(st == BERG_ERR_NULL && mt_same((long)st), "NULL out refused");
    st = berg_mpi_space_integrate(ms, mt_rank == 0 ? NULL : f, &out);
    CHECK(st == BERG_ERR_NULL && mt_same((long)st) && out == -3.0,
          "NULL f on rank 0 (which holds rows) refused on every rank");
    /* a space that differs on rank 0 */
    if (mt_nranks > 1) {
        size_t n[2] = {4, 4};
        double lo[2] = {0, 0}, hi[2] = {1, mt_rank == 0 ? 2.0 : 1.0};
        berg_space *g2 = NULL;
        berg_mpi_space *m2 = NULL;
        MT_CHECK_OK(berg_space_create(&g2, 2, n, lo, hi, NULL, NULL), "space");
        st = berg_mpi_space_create(&m2, g2, MPI_COMM_WORLD);
        CHECK(st == BERG_ERR_MISMATCH && m2 == NULL && mt_same((long)st),
              "different spaces refused on every rank (%d)", (int)st);
        berg_space_destroy(g2);
    }
    /* the communicator by its Fortran handle; MPI_COMM_NULL */
    berg_mpi_space *m3 = NULL;
    MT_CHECK_OK(berg_mpi_space_create_fcomm(&m3, s, MPI_Comm_c2f(MPI_COMM_WORLD)), "fcomm");
    berg_mpi_space_destroy(m3);
    m3 = NULL;
    st = berg_mpi_space_create(&m3, s, MPI_COMM_NULL);
    CHECK(st == BERG_ERR_DOMAIN && m3 == NULL, "MPI_COMM_NULL refused");
    /* a sub-communicator of one rank sees the whole grid */
    MPI_Comm self;
    MPI_Comm_split(MPI_COMM_WORLD, mt_rank, 0, &self);
    MT_CHECK_OK(berg_mpi_space_create(&m3, s, self), "one-rank space");
    size_t r1, o1, s1;
    berg_mpi_space_local(m3, &r1, &o1, &s1);
    CHECK(s1 == berg_space_size(s) && o1 == 0, "one rank holds everything");
    berg_mpi_space_destroy(m3);
    MPI_Comm_free(&self);
    free(f);
}

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    for (size_t c = 0; c < sizeof grids / sizeof grids[0]; c++) {
        const grid *g = &grids[c];
        berg_space *s = NULL;
        berg_mpi_space *ms = NULL;
        MT_CHECK_OK(berg_space_create(&s, g->d, g->n, g->lo, g->hi, g->bc, g->metric),
                    "serial space");
        MT_CHECK_OK(berg_mpi_space_create(&ms, s, MPI_COMM_WORLD), g->name);
        if (ms == NULL)
            continue;
        decomposition(g, ms);
        reductions(g, s, ms);
        if (c == 0)
            refusals(s, ms);
        berg_mpi_space_destroy(ms);
        berg_space_destroy(s);
    }
    return mt_finish();
}
