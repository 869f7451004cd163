/* The distributed space: slabs of the first axis (FFTW-MPI's default block)
 * and the global reductions (compensated local sums gathered and added in
 * rank order, so every rank gets the same bits). */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berg/functional.h"
#include "mpi/internal.h"

static pthread_once_t fftw_mpi_once = PTHREAD_ONCE_INIT;
static void init_fftw_mpi(void) { fftw_mpi_init(); }

/* the global space's layout, copied from its public queries */
static berg_status describe(berg_mpi_space *s, const berg_space *g, const char *fn)
{
    size_t d = berg_space_rank(g);
    BERG_MPI_REQUIRE(d >= 1 && d <= BERG__MPI_MAX_RANK, BERG_ERR_DOMAIN,
                     "%s: space has rank %zu", fn, d);
    s->ndim = (int)d;
    double gm[BERG__MPI_MAX_RANK * BERG__MPI_MAX_RANK];
    if (berg_space_shape(g, s->n) != BERG_OK || berg_space_bounds(g, s->lo, s->hi) != BERG_OK ||
        berg_space_boundaries(g, s->bc) != BERG_OK || berg_space_spacing(g, s->h) != BERG_OK ||
        berg_space_inverse_metric(g, s->ginv) != BERG_OK || berg_space_metric(g, gm) != BERG_OK)
        return berg__mpi_from_core(berg_last_status());
    s->diagonal = 1;
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
            if (a != b && gm[a * d + b] != 0.0)
                s->diagonal = 0;
    s->weight = berg_space_cell_weight(g);
    s->row = 1;
    for (size_t a = 1; a < d; a++)
        s->row *= s->n[a];
    return BERG_OK;
}

/* this rank's slab, from FFTW-MPI (block ceil(n0 / P)) */
static berg_status decompose(berg_mpi_space *s, const char *fn)
{
    pthread_once(&fftw_mpi_once, init_fftw_mpi);
    size_t P = (size_t)s->nranks, n0 = s->n[0];
    s->block0 = (n0 + P - 1) / P;
    ptrdiff_t nn[BERG__MPI_MAX_RANK], ln0 = 0, st0 = 0;
    for (int a = 0; a < s->ndim; a++)
        nn[a] = (ptrdiff_t)s->n[a];
    size_t start = (size_t)s->rank * s->block0;
    size_t rows = start >= n0 ? 0 : (n0 - start < s->block0 ? n0 - start : s->block0);
    /* FFTW-MPI's rank-1 layout is that of its complex 1-D transform (a
     * different split): a rank-1 space, which has no distributed transform,
     * uses the same blocks as the others */
    if (s->ndim >= 2)
        fftw_mpi_local_size_many(s->ndim, nn, 1, (ptrdiff_t)s->block0, s->comm, &ln0, &st0);
    else {
        ln0 = (ptrdiff_t)rows;
        st0 = (ptrdiff_t)start;
    }
    BERG_MPI_REQUIRE((size_t)ln0 == rows && (rows == 0 || (size_t)st0 == start),
                     BERG_ERR_INTERNAL,
                     "%s: FFTW-MPI gives rank %d the rows %td + %td, expected %zu + %zu", fn,
                     s->rank, st0, ln0, start, rows);
    s->n0loc = rows;
    s->off0 = rows ? start : n0;
    s->size = rows * s->row;
    return BERG_OK;
}

/* the global space is the same on every rank: rank 0's description is
 * broadcast and compared bitwise */
static berg_status same_everywhere(const berg_mpi_space *s, MPI_Comm comm, const char *fn)
{
    struct {
        double lo[BERG__MPI_MAX_RANK], hi[BERG__MPI_MAX_RANK];
        double ginv[BERG__MPI_MAX_RANK * BERG__MPI_MAX_RANK];
        unsigned long long n[BERG__MPI_MAX_RANK];
        int bc[BERG__MPI_MAX_RANK];
        int ndim;
    } mine, root;
    memset(&mine, 0, sizeof mine);
    mine.ndim = s->ndim;
    for (int a = 0; a < s->ndim; a++) {
        mine.lo[a] = s->lo[a];
        mine.hi[a] = s->hi[a];
        mine.n[a] = s->n[a];
        mine.bc[a] = (int)s->bc[a];
    }
    memcpy(mine.ginv, s->ginv, sizeof mine.ginv);
    root = mine;
    BERG_MPI_TRY(berg__mpi_check(MPI_Bcast(&root, (int)sizeof root, MPI_BYTE, 0, comm), fn,
                                 "MPI_Bcast"));
    berg_status st = BERG_OK;
    if (memcmp(&root, &mine, sizeof root) != 0)
        st = berg__mpi_error(BERG_ERR_MISMATCH,
                             "%s: space differs from rank 0's (shape, bounds, boundary kinds "
                             "or metric)",
                             fn);
    return berg__mpi_agree(comm, st);
}

void berg__mpi_space_clear(berg_mpi_space *s)
{
    if (s == NULL)
        return;
    if (s->comm != MPI_COMM_NULL) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin)
            MPI_Comm_free(&s->comm);
    }
    s->comm = MPI_COMM_NULL;
    berg_space_destroy(s->global);
    s->global = NULL;
}

static berg_status create(berg_mpi_space **out, const berg_space *space, MPI_Comm comm,
                          const char *fn)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    BERG_MPI_REQUIRE(init && !fin, BERG_ERR_DOMAIN,
                     "%s: MPI is not initialized (call MPI_Init first) or already finalized", fn);
    BERG_MPI_REQUIRE(comm != MPI_COMM_NULL, BERG_ERR_DOMAIN, "%s: comm is MPI_COMM_NULL", fn);
    int inter = 0;
    BERG_MPI_TRY(berg__mpi_check(MPI_Comm_test_inter(comm, &inter), fn, "MPI_Comm_test_inter"));
    BERG_MPI_REQUIRE(!inter, BERG_ERR_DOMAIN, "%s: comm is an intercommunicator", fn);

    berg_status st = berg__mpi_check_ptr(out, fn, "out");
    if (st == BERG_OK)
        st = berg__mpi_check_ptr(space, fn, "space");
    berg_mpi_space *s = NULL;
    if (st == BERG_OK) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            st = berg__mpi_error(BERG_ERR_NOMEM, "%s: cannot allocate the space", fn);
    }
    if (st == BERG_OK) {
        s->comm = MPI_COMM_NULL;
        st = describe(s, space, fn);
    }
    if (st == BERG_OK && berg_space_clone(&s->global, space) != BERG_OK)
        st = berg__mpi_from_core(berg_last_status());
    st = berg__mpi_agree(comm, st);
    if (st == BERG_OK)
        st = same_everywhere(s, comm, fn);
    if (st == BERG_OK)
        st = berg__mpi_check(MPI_Comm_dup(comm, &s->comm), fn, "MPI_Comm_dup");
    if (st == BERG_OK) {
        MPI_Comm_rank(s->comm, &s->rank);
        MPI_Comm_size(s->comm, &s->nranks);
        st = berg__mpi_agree(s->comm, decompose(s, fn));
    }
    if (st != BERG_OK) {
        if (s) {
            berg__mpi_space_clear(s);
            free(s);
        }
        return st;
    }
    *out = s;
    return BERG_OK;
}

berg_status berg_mpi_space_create(berg_mpi_space **out, const berg_space *space, MPI_Comm comm)
{
    return create(out, space, comm, "berg_mpi_space_create");
}

berg_status berg_mpi_space_create_fcomm(berg_mpi_space **out, const berg_space *space,
                                        MPI_Fint fcomm)
{
    static const char fn[] = "berg_mpi_space_create_fcomm";
    int init = 0;
    MPI_Initialized(&init);
    BERG_MPI_REQUIRE(init, BERG_ERR_DOMAIN, "%s: MPI is not initialized (call MPI_Init first)",
                     fn);
    return create(out, space, MPI_Comm_f2c(fcomm), fn);
}

void berg_mpi_space_destroy(berg_mpi_space *space)
{
    if (space == NULL)
        return;
    berg__mpi_space_clear(space);
    free(space);
}

berg_status berg__mpi_space_copy(berg_mpi_space *dst, const berg_mpi_space *src, const char *fn)
{
    *dst = *src;
    dst->comm = MPI_COMM_NULL;
    dst->global = NULL;
    berg_status st = BERG_OK;
    if (berg_space_clone(&dst->global, src->global) != BERG_OK)
        st = berg__mpi_from_core(berg_last_status());
    st = berg__mpi_agree(src->comm, st);
    if (st != BERG_OK) {
        berg__mpi_space_clear(dst);
        return st;
    }
    st = berg__mpi_check(MPI_Comm_dup(src->comm, &dst->comm), fn, "MPI_Comm_dup");
    if (st != BERG_OK) {
        dst->comm = MPI_COMM_NULL;
        berg__mpi_space_clear(dst);
    }
    return st;
}

const berg_space *berg_mpi_space_global(const berg_mpi_space *space)
{
    return space ? space->global : NULL;
}

berg_status berg_mpi_space_local(const berg_mpi_space *space, size_t *rows, size_t *offset,
                                 size_t *size)
{
    static const char fn[] = "berg_mpi_space_local";
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    BERG_MPI_TRY(berg__mpi_check_ptr(rows, fn, "rows"));
    BERG_MPI_TRY(berg__mpi_check_ptr(offset, fn, "offset"));
    BERG_MPI_TRY(berg__mpi_check_ptr(size, fn, "size"));
    *rows = space->n0loc;
    *offset = space->off0;
    *size = space->size;
    return BERG_OK;
}

berg_status berg_mpi_space_ranks(const berg_mpi_space *space, size_t *rank, size_t *nranks)
{
    static const char fn[] = "berg_mpi_space_ranks";
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    BERG_MPI_TRY(berg__mpi_check_ptr(rank, fn, "rank"));
    BERG_MPI_TRY(berg__mpi_check_ptr(nranks, fn, "nranks"));
    *rank = (size_t)space->rank;
    *nranks = (size_t)space->nranks;
    return BERG_OK;
}

/* ---- reductions ------------------------------------------------------------ */

/* a NULL space cannot agree with anyone: refused locally (every rank of a
 * correct program passes its space) */
#define SPACE_PROLOGUE(space)                                                     \
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"))

static void local_sum(const double *f, size_t n, int e, double *s, double *c)
{
    *s = 0.0;
    *c = 0.0;
    for (size_t i = 0; i < n; i++)
        berg__mpi_neumaier(s, c, e ? ldexp(f[i], e) : f[i]);
}

/* global sum of f (at scale 2^-e when the plain one overflows): *total and
 * *e with total * 2^e the sum */
static berg_status global_sum(const berg_mpi_space *s, const double *f, double *total, int *e,
                              const char *fn)
{
    double ls, lc;
    local_sum(f, s->size, 0, &ls, &lc);
    BERG_MPI_TRY(berg__mpi_sum_pairs(s->comm, 1, &ls, &lc, total, fn));
    *e = 0;
    if (isfinite(*total))
        return BERG_OK;
    double m = 0.0, gm = 0.0;
    for (size_t i = 0; i < s->size; i++)
        m = fmax(m, fabs(f[i]));
    BERG_MPI_TRY(berg__mpi_check(MPI_Allreduce(&m, &gm, 1, MPI_DOUBLE, MPI_MAX, s->comm), fn,
                                 "MPI_Allreduce"));
    *e = ilogb(gm);
    local_sum(f, s->size, -*e, &ls, &lc);
    return berg__mpi_sum_pairs(s->comm, 1, &ls, &lc, total, fn);
}

berg_status berg_mpi_space_integrate(const berg_mpi_space *space, const double *f, double *out)
{
    static const char fn[] = "berg_mpi_space_integrate";
    SPACE_PROLOGUE(space);
    berg_status st = berg__mpi_check_ptr(out, fn, "out");
    if (st == BERG_OK)
        st = berg__mpi_check_finite(f, space->size, fn, "f");
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    double total;
    int e;
    BERG_MPI_TRY(global_sum(space, f, &total, &e, fn));
    double v = ldexp(total * space->weight, e);
    BERG_MPI_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                     "%s: the integral of f is %g x 2^%d, beyond DBL_MAX", fn,
                     total * space->weight, e);
    *out = v;
    return BERG_OK;
}

/* a measure: local checks agreed, then its global mass w sum p */
static berg_status measure_mass(const berg_mpi_space *s, const double *p, const char *name,
                                double *mass, const char *fn)
{
    double total;
    int e;
    BERG_MPI_TRY(global_sum(s, p, &total, &e, fn));
    double m = ldexp(total * s->weight, e);
    BERG_MPI_REQUIRE(m > 0.0 && isfinite(m), BERG_ERR_MASS,
                     "%s: %s has mass %g (it must be positive and finite)", fn, name, m);
    *mass = m;
    return BERG_OK;
}

berg_status berg_mpi_space_normalize(const berg_mpi_space *space, double *p, double *mass)
{
    static const char fn[] = "berg_mpi_space_normalize";
    SPACE_PROLOGUE(space);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, berg__mpi_check_nonneg(p, space->size, fn, "p")));
    double m = 0.0;
    BERG_MPI_TRY(measure_mass(space, p, "p", &m, fn));
    double inv = 1.0 / m;
    BERG_MPI_REQUIRE(isfinite(inv), BERG_ERR_MASS, "%s: p has mass %g, too small to normalize",
                     fn, m);
    for (size_t i = 0; i < space->size; i++)
        p[i] *= inv;
    if (mass)
        *mass = m;
    return BERG_OK;
}

static double coord(const berg_mpi_space *s, int a, size_t i)
{
    return s->lo[a] + ((double)i + 0.5) * s->h[a];
}

/* mean (and centred second moments when cov != NULL) of a checked measure
 * of plain global sum `total` (at scale 2^-e0), values at scale 2^e with
 * e putting the mass in [1, 2) as libberg's */
static berg_status moments(const berg_mpi_space *s, const double *p, double *mean, double *cov,
                           const char *fn)
{
    double total;
    int e0;
    BERG_MPI_TRY(global_sum(s, p, &total, &e0, fn));
    BERG_MPI_REQUIRE(total > 0.0 && isfinite(total), BERG_ERR_MASS,
                     "%s: p has no positive finite mass", fn);
    const int e = -ilogb(total) - e0;
    const double mass = ldexp(total, e + e0);
    const int d = s->ndim;
    /* rows of the last axis; a rank-1 space has one local row, its slab */
    const size_t nl = d == 1 ? s->size : s->n[d - 1], rows = nl ? s->size / nl : 0;
    const size_t j0 = d == 1 ? s->off0 : 0;
    double sm[BERG__MPI_MAX_RANK] = {0}, cm[BERG__MPI_MAX_RANK] = {0};
    size_t idx[BERG__MPI_MAX_RANK] = {0};
    idx[0] = s->off0;
    double m[BERG__MPI_MAX_RANK];
    for (size_t r = 0; r < rows; r++) {
        const double *row = p + r * nl;
        double s0 = 0.0, s1 = 0.0;
        for (size_t j = 0; j < nl; j++) {
            double pj = ldexp(row[j], e);
            s0 += pj;
            s1 += pj * coord(s, d - 1, j0 + j);
        }
        for (int a = 0; a < d - 1; a++)
            berg__mpi_neumaier(&sm[a], &cm[a], s0 * coord(s, a, idx[a]));
        berg__mpi_neumaier(&sm[d - 1], &cm[d - 1], s1);
        for (int a = d - 2; a >= 0; a--) {
            if (++idx[a] < s->n[a] || a == 0)
                break;
            idx[a] = 0;
        }
    }
    double tot[BERG__MPI_MAX_RANK];
    BERG_MPI_TRY(berg__mpi_sum_pairs(s->comm, (size_t)d, sm, cm, tot, fn));
    for (int a = 0; a < d; a++)
        m[a] = tot[a] / mass;
    for (int a = 0; a < d; a++)
        BERG_MPI_REQUIRE(isfinite(m[a]), BERG_ERR_DOMAIN, "%s: mean[%d] is not finite", fn, a);
    if (cov == NULL) {
        memcpy(mean, m, sizeof(double) * (size_t)d);
        return BERG_OK;
    }
    /* centred second moments, entries (a, b) with a <= b */
    double cs[36] = {0}, cc[36] = {0}, ct[36];
    int np = 0, pa[36], pb[36];
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            pa[np] = a;
            pb[np] = b;
            np++;
        }
    memset(idx, 0, sizeof idx);
    idx[0] = s->off0;
    for (size_t r = 0; r < rows; r++) {
        const double *row = p + r * nl;
        double x[BERG__MPI_MAX_RANK];
        for (int a = 0; a < d - 1; a++)
            x[a] = coord(s, a, idx[a]) - m[a];
        double s0 = 0.0, s1 = 0.0, s2 = 0.0;
        for (size_t j = 0; j < nl; j++) {
            double y = coord(s, d - 1, j0 + j) - m[d - 1];
            double pj = ldexp(row[j], e);
            s0 += pj;
            s1 += pj * y;
            s2 += (pj * y) * y;
        }
        for (int k = 0; k < np; k++) {
            int a = pa[k], b = pb[k];
            double v;
            if (b < d - 1)
                v = s0 * x[a] * x[b];
            else if (a < d - 1)
                v = s1 * x[a];
            else
                v = s2;
            berg__mpi_neumaier(&cs[k], &cc[k], v);
        }
        for (int a = d - 2; a >= 0; a--) {
            if (++idx[a] < s->n[a] || a == 0)
                break;
            idx[a] = 0;
        }
    }
    /* the pairs go in chunks of at most 16 */
    for (int k0 = 0; k0 < np; k0 += 16) {
        int k = np - k0 < 16 ? np - k0 : 16;
        BERG_MPI_TRY(berg__mpi_sum_pairs(s->comm, (size_t)k, cs + k0, cc + k0, ct + k0, fn));
    }
    double c[BERG__MPI_MAX_RANK * BERG__MPI_MAX_RANK];
    for (int k = 0; k < np; k++) {
        double v = ct[k] / mass;
        BERG_MPI_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                         "%s: cov[%d][%d] exceeds DBL_MAX (the box is too wide for a second "
                         "moment)",
                         fn, pa[k], pb[k]);
        c[pa[k] * d + pb[k]] = c[pb[k] * d + pa[k]] = v;
    }
    memcpy(cov, c, sizeof(double) * (size_t)(d * d));
    return BERG_OK;
}

berg_status berg_mpi_space_mean(const berg_mpi_space *space, const double *p, double *mean)
{
    static const char fn[] = "berg_mpi_space_mean";
    SPACE_PROLOGUE(space);
    berg_status st = berg__mpi_check_ptr(mean, fn, "mean");
    if (st == BERG_OK)
        st = berg__mpi_check_nonneg(p, space->size, fn, "p");
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    return moments(space, p, mean, NULL, fn);
}

berg_status berg_mpi_space_covariance(const berg_mpi_space *space, const double *p, double *cov)
{
    static const char fn[] = "berg_mpi_space_covariance";
    SPACE_PROLOGUE(space);
    berg_status st = berg__mpi_check_ptr(cov, fn, "cov");
    if (st == BERG_OK)
        st = berg__mpi_check_nonneg(p, space->size, fn, "p");
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    double m[BERG__MPI_MAX_RANK];
    return moments(space, p, m, cov, fn);
}

/* p is a density: local checks agreed, global mass 1 within the tolerance */
static berg_status check_density(const berg_mpi_space *s, const double *p, const char *name,
                                 const char *fn)
{
    double m = 0.0;
    BERG_MPI_TRY(measure_mass(s, p, name, &m, fn));
    double tol = berg_density_mass_tolerance();
    BERG_MPI_REQUIRE(fabs(m - 1.0) <= tol, BERG_ERR_MASS,
                     "%s: density %s has mass %.17g; it must be normalized to 1 (within a "
                     "relative %g): call berg_mpi_space_normalize first",
                     fn, name, m, tol);
    return BERG_OK;
}

berg_status berg_mpi_space_entropy(const berg_mpi_space *space, const double *p, double *S)
{
    static const char fn[] = "berg_mpi_space_entropy";
    SPACE_PROLOGUE(space);
    berg_status st = berg__mpi_check_ptr(S, fn, "S");
    if (st == BERG_OK)
        st = berg__mpi_check_nonneg(p, space->size, fn, "p");
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    BERG_MPI_TRY(check_density(space, p, "p", fn));
    const double w = space->weight;
    double s = 0.0, c = 0.0, total;
    for (size_t i = 0; i < space->size; i++)
        if (p[i] > 0.0)
            berg__mpi_neumaier(&s, &c, (w * p[i]) * log(p[i]));
    BERG_MPI_TRY(berg__mpi_sum_pairs(space->comm, 1, &s, &c, &total, fn));
    *S = -total;
    return BERG_OK;
}

berg_status berg_mpi_space_kl_divergence(const berg_mpi_space *space, const double *p,
                                         const double *q, double *D)
{
    static const char fn[] = "berg_mpi_space_kl_divergence";
    SPACE_PROLOGUE(space);
    berg_status st = berg__mpi_check_ptr(D, fn, "D");
    if (st == BERG_OK)
        st = berg__mpi_check_nonneg(p, space->size, fn, "p");
    if (st == BERG_OK)
        st = berg__mpi_check_nonneg(q, space->size, fn, "q");
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    BERG_MPI_TRY(check_density(space, p, "p", fn));
    BERG_MPI_TRY(check_density(space, q, "q", fn));
    const double w = space->weight;
    /* sums[0]: the divergence; sums[1]: cells where q vanishes on p's support */
    double s[2] = {0.0, 0.0}, c[2] = {0.0, 0.0}, total[2];
    for (size_t i = 0; i < space->size; i++) {
        if (!(p[i] > 0.0))
            continue;
        if (q[i] == 0.0)
            s[1] += 1.0;
        else
            berg__mpi_neumaier(&s[0], &c[0], (w * p[i]) * (log(p[i]) - log(q[i])));
    }
    BERG_MPI_TRY(berg__mpi_sum_pairs(space->comm, 2, s, c, total, fn));
    double d = total[1] > 0.0 ? HUGE_VAL : total[0];
    *D = d < 0.0 ? 0.0 : d;
    return BERG_OK;
}
