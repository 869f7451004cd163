/* Distributed heat and multipliers against serial libberg on the same
 * global grid (1e-13 relative, max norm over the grid): every boundary kind
 * and mixes of them, odd sizes, fewer rows than ranks, a coupled metric on
 * periodic axes, batches, several times, the finite-difference symbol,
 * callback symbols and every regulator; the refusals agree on every rank. */
#include <float.h>
#include <string.h>

#include "mpi_testutil.h"

#define RTOL 1e-13

typedef struct {
    const char *name;
    size_t d, n[3];
    berg_boundary bc[3];
    double lo[3], hi[3];
    const double *metric;
} grid;

static const double g_coupled2[4] = {1.0, 0.3, 0.3, 2.0};
static const double g_diag3[9] = {1.0, 0, 0, 0, 2.0, 0, 0, 0, 0.5};
static const double g_coupled3[9] = {1.0, 0.2, 0, 0.2, 1.5, 0, 0, 0, 1.0};

static const grid grids[] = {
    {"periodic 8x6", 2, {8, 6}, {BERG_PERIODIC, BERG_PERIODIC}, {0, 0}, {1, 1}, NULL},
    {"periodic 9x8 coupled", 2, {9, 8}, {BERG_PERIODIC, BERG_PERIODIC}, {-1, 0}, {2, 1.5},
     g_coupled2},
    {"neumann x dirichlet 7x5", 2, {7, 5}, {BERG_NEUMANN, BERG_DIRICHLET}, {0, -1}, {1, 1}, NULL},
    {"neumann x periodic x dirichlet 3x6x5", 3, {3, 6, 5},
     {BERG_NEUMANN, BERG_PERIODIC, BERG_DIRICHLET}, {0, 0, 0}, {1, 2, 1}, NULL},
    {"periodic x neumann 5x4", 2, {5, 4}, {BERG_PERIODIC, BERG_NEUMANN}, {0, 0}, {1, 1}, NULL},
    {"periodic 5x4x6 diagonal", 3, {5, 4, 6}, {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC},
     {0, 0, 0}, {1, 1, 2}, g_diag3},
    {"dirichlet x periodic 2x7", 2, {2, 7}, {BERG_DIRICHLET, BERG_PERIODIC}, {0, 0}, {0.5, 1},
     NULL},
    {"periodic x periodic x neumann 4x4x3 coupled", 3, {4, 4, 3},
     {BERG_PERIODIC, BERG_PERIODIC, BERG_NEUMANN}, {0, 0, 0}, {1, 1, 1}, g_coupled3},
};

/* a symbol even in every k_a */
static int sym_fn(size_t ndim, const double *k, double *c, void *user_data)
{
    (void)user_data;
    double q = 0.0;
    for (size_t a = 0; a < ndim; a++)
        q += k[a] * k[a];
    *c = 1.0 / (1.0 + 0.05 * q) + 0.01 * k[0] * k[0];
    return 0;
}

static int coupled_mixed(const grid *g)
{
    if (g->metric == NULL)
        return 0;
    int coupled = 0, nonper = 0;
    for (size_t a = 0; a < g->d; a++) {
        nonper |= g->bc[a] != BERG_PERIODIC;
        for (size_t b = 0; b < g->d; b++)
            coupled |= a != b && g->metric[a * g->d + b] != 0.0;
    }
    return coupled && nonper;
}

static int several_periodic_mixed(const grid *g)
{
    size_t nper = 0;
    for (size_t a = 0; a < g->d; a++)
        nper += g->bc[a] == BERG_PERIODIC;
    return nper >= 2 && nper < g->d;
}

/* this rank's slab of `batch` global arrays of N values into local arrays */
static void slab(const double *global, size_t batch, size_t N, size_t first, size_t size,
                 double *local)
{
    for (size_t b = 0; b < batch; b++)
        memcpy(local + b * size, global + b * N + first, size * sizeof(double));
}

static void heat_case(const grid *g, const berg_space *s, const berg_mpi_space *ms, size_t batch,
                      unsigned flags)
{
    size_t N = berg_space_size(s), rows, off, size;
    berg_mpi_space_local(ms, &rows, &off, &size);
    size_t first = size ? off * (N / g->n[0]) : 0;
    const double t[3] = {0.0, 0.02, 0.3};
    double *in = mt_global(batch * N, 1000 * batch + flags, -0.5);
    double *ref = malloc(3 * batch * N * sizeof(double));
    berg_heat *h = NULL;
    MT_CHECK_OK(berg_heat_create_ex(&h, s, batch, 1, flags), "serial heat");
    MT_CHECK_OK(berg_heat_apply_times(h, 3, t, in, ref), "serial apply_times");
    berg_heat_destroy(h);

    berg_mpi_heat *mh = NULL;
    berg_status st = berg_mpi_heat_create(&mh, ms, batch, flags);
    if (coupled_mixed(g)) {
        CHECK(st == BERG_ERR_UNSUPPORTED && mh == NULL, "%s: coupled mixed heat refused (%d)",
              g->name, (int)st);
        free(in);
        free(ref);
        return;
    }
    CHECK(st == BERG_OK, "%s: berg_mpi_heat_create: %s", g->name, berg_mpi_last_error());
    double *lin = malloc((batch * size + 1) * sizeof(double));
    double *lout = malloc((3 * batch * size + 1) * sizeof(double));
    double *want = malloc(3 * batch * size * sizeof(double) + 8);
    slab(in, batch, N, first, size, lin);
    for (size_t j = 0; j < 3; j++)
        slab(ref + j * batch * N, batch, N, first, size, want + j * batch * size);
    MT_CHECK_OK(berg_mpi_heat_apply(mh, t[2], lin, lout), "mpi heat apply");
    double e = mt_relerr(lout, want + 2 * batch * size, 0, batch * size);
    CHECK(e <= RTOL, "%s batch %zu flags %u: apply relative error %.3g", g->name, batch, flags,
          e);
    MT_CHECK_OK(berg_mpi_heat_apply_times(mh, 3, t, lin, lout), "mpi heat apply_times");
    e = mt_relerr(lout, want, 0, 3 * batch * size);
    CHECK(e <= RTOL, "%s batch %zu flags %u: apply_times relative error %.3g", g->name, batch,
          flags, e);
    /* in place */
    MT_CHECK_OK(berg_mpi_heat_apply(mh, t[1], lin, lin), "mpi heat apply in place");
    e = mt_relerr(lin, want + batch * size, 0, batch * size);
    CHECK(e <= RTOL, "%s: in-place apply relative error %.3g", g->name, e);
    berg_mpi_heat_destroy(mh);
    free(lin);
    free(lout);
    free(want);
    free(in);
    free(ref);
}

static void compare_mult(const grid *g, const berg_space *s, const berg_mpi_space *ms,
                         berg_multiplier *sm, berg_mpi_multiplier *mm, const char *what,
                         int nonneg)
{
    size_t N = berg_space_size(s), rows, off, size;
    berg_mpi_space_local(ms, &rows, &off, &size);
    size_t first = size ? off * (N / g->n[0]) : 0;
    double *in = mt_global(N, 77, -0.5), *ref = malloc(N * sizeof(double));
    double *lout = malloc((size + 1) * sizeof(double));
    MT_CHECK_OK(berg_multiplier_apply(sm, in, ref), "serial multiplier apply");
    MT_CHECK_OK(berg_mpi_multiplier_apply(mm, in + first, lout), "mpi multiplier apply");
    double e = mt_relerr(lout, ref, first, size);
    CHECK(e <= RTOL, "%s %s: multiplier apply relative error %.3g", g->name, what, e);
    if (nonneg) {
        MT_CHECK_OK(berg_multiplier_exp_apply(sm, 0.3, in, ref), "serial exp_apply");
        MT_CHECK_OK(berg_mpi_multiplier_exp_apply(mm, 0.3, in + first, lout), "mpi exp_apply");
        e = mt_relerr(lout, ref, first, size);
        CHECK(e <= RTOL, "%s %s: exp_apply relative error %.3g", g->name, what, e);
    } else {
        berg_status st = berg_mpi_multiplier_exp_apply(mm, 0.3, in + first, lout);
        CHECK(st == BERG_ERR_DOMAIN && mt_same((long)st), "%s %s: negative symbol refused",
              g->name, what);
    }
    free(in);
    free(ref);
    free(lout);
}

static void multiplier_case(const grid *g, const berg_space *s, const berg_mpi_space *ms)
{
    /* callback symbol */
    berg_multiplier *sm = NULL;
    berg_mpi_multiplier *mm = NULL;
    MT_CHECK_OK(berg_multiplier_create(&sm, s, BERG_PLAN_ESTIMATE, sym_fn, NULL), "serial mult");
    berg_status st = berg_mpi_multiplier_create(&mm, ms, BERG_PLAN_ESTIMATE, sym_fn, NULL);
    if (several_periodic_mixed(g)) {
        CHECK(st == BERG_ERR_UNSUPPORTED && mt_same((long)st), "%s: callback refused", g->name);
    } else {
        CHECK(st == BERG_OK, "%s: berg_mpi_multiplier_create: %s", g->name,
              berg_mpi_last_error());
        if (st == BERG_OK)
            compare_mult(g, s, ms, sm, mm, "callback", 1);
    }
    berg_multiplier_destroy(sm);
    berg_mpi_multiplier_destroy(mm);
    /* every regulator, continuum and finite-difference |k| */
    for (int kind = 0; kind <= (int)BERG_REGULATOR_LITIM_DOT; kind++)
        for (unsigned fd = 0; fd <= 1; fd++) {
            unsigned flags = BERG_PLAN_ESTIMATE | (fd ? BERG_SYMBOL_FD : 0u);
            sm = NULL;
            mm = NULL;
            MT_CHECK_OK(berg_multiplier_create_regulator(&sm, s, (berg_regulator)kind, 7.0, flags),
                        "serial regulator");
            st = berg_mpi_multiplier_create_regulator(&mm, ms, (berg_regulator)kind, 7.0, flags);
            if (coupled_mixed(g)) {
                CHECK(st == BERG_ERR_UNSUPPORTED, "%s: coupled mixed regulator refused",
                      g->name);
            } else {
                char what[64];
                snprintf(what, sizeof what, "regulator %d fd %u", kind, fd);
                CHECK(st == BERG_OK, "%s %s: create: %s", g->name, what, berg_mpi_last_error());
                if (st == BERG_OK)
                    compare_mult(g, s, ms, sm, mm, what, 1);
            }
            berg_multiplier_destroy(sm);
            berg_mpi_multiplier_destroy(mm);
        }
}

/* huge inputs go through the power-of-two scale as serially; refusals agree */
static void extremes(const berg_space *s, const berg_mpi_space *ms)
{
    size_t N = berg_space_size(s), rows, off, size;
    berg_mpi_space_local(ms, &rows, &off, &size);
    size_t first = size ? off * (size / rows) : 0;
    double *in = mt_global(N, 5, 0.0), *ref = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++)
        in[i] *= 1e306;
    berg_heat *h = NULL;
    berg_mpi_heat *mh = NULL;
    MT_CHECK_OK(berg_heat_create(&h, s, BERG_PLAN_ESTIMATE), "serial heat");
    MT_CHECK_OK(berg_heat_apply(h, 0.01, in, ref), "serial huge apply");
    MT_CHECK_OK(berg_mpi_heat_create(&mh, ms, 1, BERG_PLAN_ESTIMATE), "mpi heat");
    double *lout = malloc((size + 1) * sizeof(double));
    MT_CHECK_OK(berg_mpi_heat_apply(mh, 0.01, in + first, lout), "mpi huge apply");
    double e = mt_relerr(lout, ref, first, size);
    CHECK(e <= RTOL, "huge input: relative error %.3g", e);
    {   /* the scaled path of apply_times (two passes) and of a multiplier */
        const double ts[2] = {0.0, 0.05};
        double *ref2 = malloc(2 * N * sizeof(double)), *lout2 = malloc((2 * size + 1) * sizeof(double));
        double *want2 = malloc((2 * size + 1) * sizeof(double));
        MT_CHECK_OK(berg_heat_apply_times(h, 2, ts, in, ref2), "serial huge apply_times");
        MT_CHECK_OK(berg_mpi_heat_apply_times(mh, 2, ts, in + first, lout2), "mpi huge apply_times");
        memcpy(want2, ref2 + first, size * sizeof(double));
        memcpy(want2 + size, ref2 + N + first, size * sizeof(double));
        e = mt_relerr(lout2, want2, 0, 2 * size);
        CHECK(e <= RTOL, "huge input apply_times: relative error %.3g", e);
        berg_multiplier *sm = NULL;
        berg_mpi_multiplier *mm = NULL;
        MT_CHECK_OK(berg_multiplier_create(&sm, s, BERG_PLAN_ESTIMATE, sym_fn, NULL), "serial m");
        MT_CHECK_OK(berg_mpi_multiplier_create(&mm, ms, BERG_PLAN_ESTIMATE, sym_fn, NULL), "mpi m");
        MT_CHECK_OK(berg_multiplier_apply(sm, in, ref2), "serial huge multiplier");
        MT_CHECK_OK(berg_mpi_multiplier_apply(mm, in + first, lout2), "mpi huge multiplier");
        e = mt_relerr(lout2, ref2, first, size);
        CHECK(e <= RTOL, "huge input multiplier: relative error %.3g", e);
        berg_multiplier_destroy(sm);
        berg_mpi_multiplier_destroy(mm);
        free(ref2);
        free(lout2);
        free(want2);
    }

    /* a negative time: refused everywhere, out untouched */
    for (size_t i = 0; i < size; i++)
        lout[i] = -7.0;
    berg_status st = berg_mpi_heat_apply(mh, -1.0, in + first, lout);
    CHECK(st == BERG_ERR_TIME && mt_same((long)st), "negative t refused on every rank (%d)",
          (int)st);
    CHECK(strstr(berg_mpi_last_error(), "berg_mpi_heat_apply") != NULL &&
              strstr(berg_mpi_last_error(), "t =") != NULL,
          "message names the function and t: %s", berg_mpi_last_error());
    /* a NaN on the last rank holding rows: every rank refuses, nothing written */
    long last = (long)(size > 0 ? mt_rank : -1), lastg = 0;
    MPI_Allreduce(&last, &lastg, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    double *bad = malloc((size + 1) * sizeof(double));
    memcpy(bad, in + first, size * sizeof(double));
    if (mt_rank == lastg)
        bad[size - 1] = NAN;
    st = berg_mpi_heat_apply(mh, 0.01, bad, lout);
    CHECK(st == BERG_ERR_NONFINITE && mt_same((long)st), "NaN refused on every rank (%d)",
          (int)st);
    char want[32];
    snprintf(want, sizeof want, "(rank %ld of %d)", lastg, mt_nranks);
    CHECK(strstr(berg_mpi_last_error(), want) != NULL && strstr(berg_mpi_last_error(), "in[") != NULL,
          "the message names in and the rank: %s", berg_mpi_last_error());
    int untouched = 1;
    for (size_t i = 0; i < size; i++)
        untouched &= lout[i] == -7.0;
    CHECK(mt_same(untouched) && untouched, "out untouched on refusal");
    /* a flag of another creator, batch 0 */
    berg_mpi_heat *h2 = NULL;
    st = berg_mpi_heat_create(&h2, ms, 1, 0x10000u);
    CHECK(st == BERG_ERR_DOMAIN && h2 == NULL, "foreign flag refused");
    st = berg_mpi_heat_create(&h2, ms, 0, 0);
    CHECK(st == BERG_ERR_SIZE && h2 == NULL, "batch 0 refused");
    free(bad);
    free(lout);
    free(in);
    free(ref);
    berg_heat_destroy(h);
    berg_mpi_heat_destroy(mh);
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
        heat_case(g, s, ms, 1, BERG_PLAN_ESTIMATE);
        heat_case(g, s, ms, 2, BERG_PLAN_ESTIMATE);
        heat_case(g, s, ms, 3, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD);
        if (c < 2)
            heat_case(g, s, ms, 1, 0); /* FFTW_MEASURE plans (slow to make: two grids) */
        multiplier_case(g, s, ms);
        if (c == 0)
            extremes(s, ms);
        berg_mpi_space_destroy(ms);
        berg_space_destroy(s);
    }
    /* rank 1: no distributed transform */
    {
        size_t n = 6;
        double lo = 0.0, hi = 1.0;
        berg_space *s = NULL;
        berg_mpi_space *ms = NULL;
        berg_mpi_heat *h = NULL;
        MT_CHECK_OK(berg_space_create(&s, 1, &n, &lo, &hi, NULL, NULL), "1-D space");
        MT_CHECK_OK(berg_mpi_space_create(&ms, s, MPI_COMM_WORLD), "1-D mpi space");
        berg_status st = berg_mpi_heat_create(&h, ms, 1, 0);
        CHECK(st == BERG_ERR_UNSUPPORTED && h == NULL, "rank-1 heat refused (%d)", (int)st);
        berg_mpi_space_destroy(ms);
        berg_space_destroy(s);
    }
    return mt_finish();
}
