/*
 * The distributed Fourier Fokker-Planck flow (issue 16): the algorithm of
 * libberg's berg_fp_create(..., BERG_FP_FOURIER) / berg_fp_evolve
 * (lib/propagator/fp_fourier.c, docs/fokker_planck.md "Fourier
 * discretization") on a slab-distributed periodic grid.
 *
 * With r = e^{-(V - min V)/2} and p = r psi the flow is d/dt psi = H psi,
 * H = Delta_g - U, U = (Delta_g r) / r (finite differences of V where
 * r < R_THRESHOLD). Strang steps S(tau) = e^{-tau U/2} e^{tau Delta_g}
 * e^{-tau U/2} (the heat factor by the distributed FFT, two transposes; the
 * potential factor pointwise) are extrapolated in tau^2 over the substeps
 * tau/j, j = 1..4, with the serial controller's error control, step-size
 * rule, equilibrium stop and step budget; every norm it reads (the error
 * estimate, the mass, |rest|_2, the Fourier tails, the first step's rate)
 * is a global sum of local sums gathered and added in rank order, so every
 * rank takes the same step decisions, and the result equals the serial one
 * to round-off. The finite differences of V at the walls need V on up to
 * HALO rows of the neighbouring slabs: fetched once at creation.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "mpi/field_internal.h"

#define STAGES 4
#define R_THRESHOLD 1e-5
#define R_TAIL_MAX 1e-5
#define PSI_TAIL_MAX 1e-4
#define MAX_STEPS ((size_t)20000)
#define HALO 3
#define FP_FLAGS ((unsigned)BERG_FP_FOURIER | (unsigned)BERG_PLAN_ESTIMATE)

struct berg_mpi_fp {
    berg__mpi_xform x;              /* r2c, batch 1 (mutable buffers: under lock) */
    pthread_mutex_t lock;
    int locked_init;
    double tol;
    size_t n;                       /* global size */
    int separable;
    double *wave_form;              /* k.g^{-1}k per local mode */
    double *axis_form[BERG__MPI_MAX_RANK]; /* separable: g^{aa} k_a^2 per global index */
    double *r, *U;                  /* local */
    double r_norm2, umax, wave_max; /* global */
    /* the workspace of one evolve (used under the lock) */
    double *psi, *stage[STAGES], *half[STAGES];
    double *heat_axis[STAGES][BERG__MPI_MAX_RANK], *heat_mode[STAGES];
};

/* ---- global sums ----------------------------------------------------------- */

/* total[j] = sum over the ranks of local[j] (rank order: same bits on every
 * rank) */
static berg_status gsum(const berg_mpi_fp *fp, size_t k, const double *local, double *total,
                        const char *fn)
{
    double comp[4] = {0, 0, 0, 0};
    return berg__mpi_sum_pairs(fp->x.sp.comm, k, local, comp, total, fn);
}

static double gmax(const berg_mpi_fp *fp, double v)
{
    double m = v;
    MPI_Allreduce(&v, &m, 1, MPI_DOUBLE, MPI_MAX, fp->x.sp.comm);
    return m;
}

/* ---- spectral helpers ---------------------------------------------------------- */

/* sqrt(high-mode energy / energy) of f (collective); the transform's rbuf
 * and sbuf are used */
static berg_status fourier_tail(berg_mpi_fp *fp, const double *f, double *tail, const char *fn)
{
    berg__mpi_xform *x = &fp->x;
    const int d = x->sp.ndim, ha = d - 1;
    berg__mpi_xform_load(x, f, 1.0);
    berg__mpi_xform_forward(x);
    double e2[2] = {0.0, 0.0}, tot[2];
    size_t idx[BERG__MPI_MAX_RANK];
    double k[BERG__MPI_MAX_RANK];
    for (size_t e = 0; e < x->nloc; e++) {
        berg__mpi_xform_index(x, e, idx);
        berg__mpi_xform_k(x, idx, k);
        double re = x->sbuf[2 * e], im = x->sbuf[2 * e + 1], en = re * re + im * im;
        if (idx[ha] != 0 && !(x->sp.n[ha] % 2 == 0 && idx[ha] == x->sp.n[ha] / 2))
            en *= 2.0; /* the conjugate mode r2c leaves out */
        int high = 0;
        for (int a = 0; a < d; a++)
            if (fabs(k[a]) * x->sp.h[a] > (2.0 / 3.0) * M_PI)
                high = 1;
        e2[0] += en;
        if (high)
            e2[1] += en;
    }
    BERG_MPI_TRY(gsum(fp, 2, e2, tot, fn));
    *tail = tot[0] > 0.0 ? sqrt(tot[1] / tot[0]) : 0.0;
    return BERG_OK;
}

/* out = Delta_g in (spectral, collective); in may equal out */
static void laplacian(berg_mpi_fp *fp, const double *in, double *out)
{
    berg__mpi_xform *x = &fp->x;
    berg__mpi_xform_load(x, in, 1.0);
    berg__mpi_xform_forward(x);
    double *s = x->sbuf, nm = x->norm;
    for (size_t j = 0; j < x->nloc; j++) {
        double f = -fp->wave_form[j] * nm;
        s[2 * j] *= f;
        s[2 * j + 1] *= f;
    }
    berg__mpi_xform_backward(x, x->sbuf);
    berg__mpi_xform_store(x, out, 1.0);
}

/* ---- set-up ------------------------------------------------------------------------ */

/* the global rows [lo, hi) of the distributed array `local` into out
 * (collective; every rank asks for its own range) */
static berg_status fetch_rows(const berg_mpi_space *sp, const double *local, size_t lo, size_t hi,
                              double *out, const char *fn)
{
    const int P = sp->nranks;
    const size_t rs = sp->row;
    unsigned long long mine[4] = {lo, hi, sp->off0, sp->n0loc};
    unsigned long long *all = (unsigned long long *)berg__mpi_alloc(4 * (size_t)P, fn);
    int *cnt = all ? (int *)berg__mpi_alloc(2 * (size_t)P, fn) : NULL;
    BERG_MPI_TRY(berg__mpi_agree(sp->comm, cnt ? BERG_OK : berg_mpi_last_status()));
    MPI_Allgather(mine, 4, MPI_UNSIGNED_LONG_LONG, all, 4, MPI_UNSIGNED_LONG_LONG, sp->comm);
    int *sc = cnt, *sd = cnt + P, *rc = cnt + 2 * P, *rd = cnt + 3 * P;
    berg_status st = BERG_OK;
    const size_t me0 = sp->off0, me1 = sp->off0 + sp->n0loc;
    for (int q = 0; q < P; q++) {
        size_t a = all[4 * q] > me0 ? all[4 * q] : me0;
        size_t b = all[4 * q + 1] < me1 ? all[4 * q + 1] : me1;
        size_t qa = all[4 * q + 2], qb = qa + all[4 * q + 3];
        size_t c = qa > lo ? qa : lo, e = qb < hi ? qb : hi;
        size_t ns = b > a ? (b - a) * rs : 0, nr = e > c ? (e - c) * rs : 0;
        size_t os = b > a ? (a - me0) * rs : 0, orr = e > c ? (c - lo) * rs : 0;
        if (ns > INT_MAX || nr > INT_MAX || os > INT_MAX || orr > INT_MAX)
            st = berg__mpi_error(BERG_ERR_SIZE,
                                 "%s: the halo rows of V exceed INT_MAX values (rows of %zu "
                                 "values)",
                                 fn, rs);
        sc[q] = (int)ns;
        sd[q] = (int)os;
        rc[q] = (int)nr;
        rd[q] = (int)orr;
    }
    st = berg__mpi_agree(sp->comm, st);
    if (st == BERG_OK)
        st = berg__mpi_check(MPI_Alltoallv(local, sc, sd, MPI_DOUBLE, out, rc, rd, MPI_DOUBLE,
                                           sp->comm),
                             fn, "MPI_Alltoallv");
    berg__mpi_free(all);
    berg__mpi_free(cnt);
    return st;
}

/* d/dx_a of f on the rows [lo, hi) of the global grid (f holds them),
 * second order, one-sided on the two edge cells of the axis as the serial
 * stepper; rows next to the ends of [lo, hi) that are not global edges are
 * left 0 (not needed: the caller's rows are HALO rows inside) */
static void fd_derivative(const berg_mpi_space *s, size_t lo, size_t hi, int a, const double *f,
                          double *out)
{
    const size_t rows = hi - lo, n = rows * s->row;
    size_t st = 1;
    for (int b = s->ndim - 1; b > a; b--)
        st *= s->n[b];
    const size_t na = s->n[a];
    const double h = s->h[a];
    for (size_t i = 0; i < n; i++) {
        size_t c = a == 0 ? lo + i / s->row : (i / st) % na;
        if (c == 0) /* rows 1 and 2 are in [lo, hi): lo = 0 and hi >= 3 */
            out[i] = (-3.0 * f[i] + 4.0 * f[i + st] - f[i + 2 * st]) / (2.0 * h);
        else if (c == na - 1) /* lo <= n0 - 4 */
            out[i] = (3.0 * f[i] - 4.0 * f[i - st] + f[i - 2 * st]) / (2.0 * h);
        else if (a == 0 && (c == lo || c == hi - 1))
            out[i] = 0.0; /* a neighbour outside the fetched rows */
        else
            out[i] = (f[i + st] - f[i - st]) / (2.0 * h);
    }
}

/* U = |grad V|_g^2 / 4 - Delta_g V / 2 by finite differences at the local
 * cells where r < R_THRESHOLD (collective: the halo rows are fetched) */
static berg_status potential_fd(berg_mpi_fp *fp, const double *V, const char *fn)
{
    const berg_mpi_space *s = &fp->x.sp;
    const size_t d = (size_t)s->ndim, n0 = s->n[0];
    size_t lo = s->off0 > HALO ? s->off0 - HALO : 0;
    size_t hi = s->off0 + s->n0loc + HALO < n0 ? s->off0 + s->n0loc + HALO : n0;
    if (s->n0loc == 0)
        lo = hi = 0;
    const size_t ne = (hi - lo) * s->row;
    double *Ve = berg__mpi_alloc(ne, fn);
    double *grad = Ve ? berg__mpi_alloc(d * ne, fn) : NULL;
    double *second = grad ? berg__mpi_alloc(ne, fn) : NULL;
    double *acc = second ? berg__mpi_alloc(ne, fn) : NULL;
    berg_status st = berg__mpi_agree(s->comm, acc ? BERG_OK : berg_mpi_last_status());
    if (st == BERG_OK)
        st = fetch_rows(s, V, lo, hi, Ve, fn);
    if (st == BERG_OK && ne > 0) {
        for (size_t a = 0; a < d; a++)
            fd_derivative(s, lo, hi, (int)a, Ve, grad + a * ne);
        memset(acc, 0, ne * sizeof(double));
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) {
                double D = s->ginv[a * d + b];
                if (D == 0.0)
                    continue;
                fd_derivative(s, lo, hi, (int)a, grad + b * ne, second);
                const double *ga = grad + a * ne, *gb = grad + b * ne;
                for (size_t i = 0; i < ne; i++)
                    acc[i] += D * (0.25 * ga[i] * gb[i] - 0.5 * second[i]);
            }
        const double *mine = acc + (s->off0 - lo) * s->row;
        for (size_t i = 0; i < s->size; i++)
            if (fp->r[i] < R_THRESHOLD)
                fp->U[i] = mine[i];
    }
    berg__mpi_free(Ve);
    berg__mpi_free(grad);
    berg__mpi_free(second);
    berg__mpi_free(acc);
    return st;
}

void berg_mpi_fp_destroy(berg_mpi_fp *fp)
{
    if (!fp)
        return;
    berg__mpi_xform_free(&fp->x);
    berg__mpi_free(fp->wave_form);
    for (int a = 0; a < BERG__MPI_MAX_RANK; a++)
        berg__mpi_free(fp->axis_form[a]);
    berg__mpi_free(fp->r);
    berg__mpi_free(fp->U);
    berg__mpi_free(fp->psi);
    for (int j = 0; j < STAGES; j++) {
        berg__mpi_free(fp->stage[j]);
        berg__mpi_free(fp->half[j]);
        berg__mpi_free(fp->heat_mode[j]);
        for (int a = 0; a < BERG__MPI_MAX_RANK; a++)
            berg__mpi_free(fp->heat_axis[j][a]);
    }
    if (fp->locked_init)
        pthread_mutex_destroy(&fp->lock);
    berg__mpi_free(fp);
}

static berg_status check_grid(const berg_mpi_space *s, const char *fn)
{
    for (int a = 0; a < s->ndim; a++) {
        BERG_MPI_REQUIRE(s->bc[a] == BERG_PERIODIC, BERG_ERR_UNSUPPORTED,
                         "%s: BERG_FP_FOURIER needs periodic axes (axis %d is not)", fn, a);
        BERG_MPI_REQUIRE(s->n[a] >= 4, BERG_ERR_SIZE,
                         "%s: BERG_FP_FOURIER needs at least 4 cells per axis (axis %d has %zu)",
                         fn, a, s->n[a]);
    }
    return BERG_OK;
}

/* the tables and the workspace (local allocations; agreed by the caller) */
static berg_status allocate(berg_mpi_fp *fp, const char *fn)
{
    const berg__mpi_xform *x = &fp->x;
    const size_t nl = x->sp.size, d = (size_t)x->sp.ndim;
    int ok = (fp->wave_form = berg__mpi_alloc(x->nloc, fn)) && (fp->r = berg__mpi_alloc(nl, fn)) &&
             (fp->U = berg__mpi_alloc(nl, fn)) && (fp->psi = berg__mpi_alloc(nl, fn));
    for (size_t a = 0; a < d && ok && fp->separable; a++)
        ok = (fp->axis_form[a] = berg__mpi_alloc(x->sshape[a], fn)) != NULL;
    for (size_t j = 0; j < STAGES && ok; j++) {
        ok = (fp->stage[j] = berg__mpi_alloc(nl, fn)) && (fp->half[j] = berg__mpi_alloc(nl, fn));
        if (fp->separable)
            for (size_t a = 0; a < d && ok; a++)
                ok = (fp->heat_axis[j][a] = berg__mpi_alloc(x->sshape[a], fn)) != NULL;
        else if (ok)
            ok = (fp->heat_mode[j] = berg__mpi_alloc(x->nloc, fn)) != NULL;
    }
    return ok ? BERG_OK : berg_mpi_last_status();
}

static berg_status build(berg_mpi_fp *fp, const double *V, const char *fn)
{
    berg__mpi_xform *x = &fp->x;
    const size_t nl = x->sp.size, d = (size_t)x->sp.ndim;
    MPI_Comm comm = x->sp.comm;
    BERG_MPI_TRY(berg__mpi_agree(comm, allocate(fp, fn)));
    /* the symbol */
    size_t idx[BERG__MPI_MAX_RANK];
    double wmax = 0.0;
    for (size_t e = 0; e < x->nloc; e++) {
        berg__mpi_xform_index(x, e, idx);
        fp->wave_form[e] = berg__mpi_mode_quad(x, idx, 0);
        wmax = fmax(wmax, fp->wave_form[e]);
    }
    fp->wave_max = gmax(fp, wmax);
    for (size_t a = 0; a < d && fp->separable; a++)
        for (size_t m = 0; m < x->sshape[a]; m++) {
            double dg, cr;
            berg__mpi_axis_symbol(x, (int)a, m, 0, &dg, &cr);
            fp->axis_form[a][m] = x->sp.ginv[a * d + a] * dg;
        }
    /* V - min V over all ranks, and its range */
    double vmin = INFINITY, vmax = -INFINITY;
    for (size_t i = 0; i < nl; i++) {
        vmin = fmin(vmin, V[i]);
        vmax = fmax(vmax, V[i]);
    }
    vmax = gmax(fp, vmax);
    vmin = -gmax(fp, -vmin);
    BERG_MPI_REQUIRE(isfinite(vmax - vmin), BERG_ERR_DOMAIN,
                     "%s: the range of V (%g .. %g) overflows", fn, vmin, vmax);
    double *Vs = fp->stage[0];
    for (size_t i = 0; i < nl; i++) {
        Vs[i] = V[i] - vmin;
        fp->r[i] = exp(-0.5 * Vs[i]);
    }
    unsigned ftz = berg__mpi_ftz_enter();
    double tail = 0.0;
    berg_status st = fourier_tail(fp, fp->r, &tail, fn);
    if (st == BERG_OK)
        laplacian(fp, fp->r, fp->U);
    berg__mpi_ftz_leave(ftz);
    BERG_MPI_TRY(st);
    BERG_MPI_REQUIRE(tail <= R_TAIL_MAX, BERG_ERR_DOMAIN,
                     "%s: e^{-V/2} is not resolved on this periodic grid (Fourier tail %.2g > "
                     "%g): V must be periodic and smooth, or confining with e^{-V/2} negligible "
                     "at the box edges; use a larger / finer grid",
                     fn, tail, R_TAIL_MAX);
    for (size_t i = 0; i < nl; i++)
        if (fp->r[i] >= R_THRESHOLD)
            fp->U[i] /= fp->r[i];
    BERG_MPI_TRY(potential_fd(fp, Vs, fn));
    double r2 = 0.0, um = 0.0;
    st = BERG_OK;
    for (size_t i = 0; i < nl; i++) {
        r2 += fp->r[i] * fp->r[i];
        if (!isfinite(fp->U[i]) && st == BERG_OK)
            st = berg__mpi_error(BERG_ERR_DOMAIN,
                                 "%s: V is too steep at local index %zu: the potential term of "
                                 "the symmetrized flow overflows",
                                 fn, i);
        um = fmax(um, fabs(fp->U[i]));
    }
    BERG_MPI_TRY(berg__mpi_agree(comm, st));
    BERG_MPI_TRY(gsum(fp, 1, &r2, &fp->r_norm2, fn));
    fp->umax = gmax(fp, um);
    return BERG_OK;
}

berg_status berg_mpi_fp_create(berg_mpi_fp **out, const berg_mpi_space *space, const double *V,
                               unsigned flags)
{
    static const char fn[] = "berg_mpi_fp_create";
    BERG_MPI_TRY(berg__mpi_check_ptr(out, fn, "out"));
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status st = berg__mpi_check_finite(V, space->size, fn, "V");
    if (st == BERG_OK && (flags & ~FP_FLAGS))
        st = berg__mpi_error(BERG_ERR_DOMAIN,
                             "%s: flags 0x%x has a bit other than BERG_FP_FOURIER and "
                             "BERG_PLAN_ESTIMATE",
                             fn, flags & ~FP_FLAGS);
    if (st == BERG_OK && !(flags & BERG_FP_FOURIER))
        st = berg__mpi_error(BERG_ERR_UNSUPPORTED,
                             "%s: only the Fourier discretization is distributed: pass "
                             "BERG_FP_FOURIER (the finite-volume one is serial, berg_fp_create)",
                             fn);
    if (st == BERG_OK && space->ndim < 2)
        st = berg__mpi_error(BERG_ERR_UNSUPPORTED,
                             "%s: space has rank 1; FFTW-MPI distributes transforms of rank >= 2 "
                             "(use berg_fp_create)",
                             fn);
    if (st == BERG_OK)
        st = check_grid(space, fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    berg_mpi_fp *fp = (berg_mpi_fp *)berg__mpi_alloc(
        (sizeof(berg_mpi_fp) + sizeof(double) - 1) / sizeof(double), fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, fp ? BERG_OK : berg_mpi_last_status()));
    memset(fp, 0, sizeof *fp);
    fp->tol = 1e-8;
    fp->separable = space->diagonal;
    fp->n = 1;
    for (int a = 0; a < space->ndim; a++)
        fp->n *= space->n[a];
    st = berg__mpi_xform_init(&fp->x, space, 1,
                              (flags & BERG_PLAN_ESTIMATE) ? BERG__MPI_XF_ESTIMATE : 0u, fn);
    if (st == BERG_OK)
        st = build(fp, V, fn);
    if (st == BERG_OK) {
        st = pthread_mutex_init(&fp->lock, NULL) == 0
                 ? BERG_OK
                 : berg__mpi_error(BERG_ERR_NOMEM, "%s: cannot create the handle's lock", fn);
        fp->locked_init = st == BERG_OK;
        st = berg__mpi_agree(space->comm, st);
    }
    if (st != BERG_OK) {
        berg_mpi_fp_destroy(fp);
        return st;
    }
    *out = fp;
    return BERG_OK;
}

berg_status berg_mpi_fp_set_tolerance(berg_mpi_fp *fp, double tol)
{
    static const char fn[] = "berg_mpi_fp_set_tolerance";
    BERG_MPI_TRY(berg__mpi_check_ptr(fp, fn, "fp"));
    BERG_MPI_REQUIRE(tol >= 1e-14 && tol <= 0.1, BERG_ERR_DOMAIN,
                     "%s: tol = %g must be in [1e-14, 0.1]", fn, tol);
    fp->tol = tol;
    return BERG_OK;
}

/* ---- time stepping ------------------------------------------------------------------ */

typedef struct flow {
    berg_mpi_fp *fp;
    double tabulated_tau;
    double mass0, c0, rest_norm, tol;
} flow;

static void tabulate(flow *f, double tau)
{
    berg_mpi_fp *fp = f->fp;
    const berg__mpi_xform *x = &fp->x;
    const size_t nl = x->sp.size;
    for (size_t i = 0; i < nl; i++) {
        double b = exp(-tau * fp->U[i] / 24.0), b3 = b * b * b, b6 = b3 * b3;
        fp->half[0][i] = b6 * b6;
        fp->half[1][i] = b6;
        fp->half[2][i] = b3 * b;
        fp->half[3][i] = b3;
    }
    for (size_t j = 0; j < STAGES; j++) {
        double h = tau / (double)(j + 1);
        if (fp->separable) {
            for (size_t a = 0; a < (size_t)x->sp.ndim; a++)
                for (size_t m = 0; m < x->sshape[a]; m++)
                    fp->heat_axis[j][a][m] = exp(-h * fp->axis_form[a][m]) * x->axis_norm[a];
        } else {
            for (size_t m = 0; m < x->nloc; m++)
                fp->heat_mode[j][m] = exp(-h * fp->wave_form[m]) * x->norm;
        }
    }
    f->tabulated_tau = tau;
}

/* out = S(tau/j)^j y (collective) */
static void strang(flow *f, double tau, size_t j, const double *y, double *out)
{
    berg_mpi_fp *fp = f->fp;
    if (f->tabulated_tau != tau)
        tabulate(f, tau);
    berg__mpi_xform *x = &fp->x;
    const size_t nl = x->sp.size;
    const double *hf = fp->half[j - 1];
    for (size_t i = 0; i < nl; i++)
        out[i] = y[i] * hf[i];
    for (size_t k = 0; k < j; k++) {
        berg__mpi_xform_load(x, out, 1.0);
        berg__mpi_xform_forward(x);
        if (fp->separable)
            berg__mpi_xform_mul_separable(x, fp->heat_axis[j - 1], x->sbuf, x->sbuf);
        else
            berg__mpi_xform_mul_table(x, fp->heat_mode[j - 1], x->sbuf, x->sbuf);
        berg__mpi_xform_backward(x, x->sbuf);
        berg__mpi_xform_store(x, out, 1.0);
        if (k + 1 < j)
            for (size_t i = 0; i < nl; i++)
                out[i] *= hf[i] * hf[i];
        else
            for (size_t i = 0; i < nl; i++)
                out[i] *= hf[i];
    }
}

/* Aitken-Neville over n_j = j in tau^2 (T[K-1] = T_KK on return); the
 * global weighted L1 norm of the last correction into *err */
static berg_status extrapolate(flow *f, double *err, const char *fn)
{
    berg_mpi_fp *fp = f->fp;
    const size_t K = STAGES, n = fp->x.sp.size;
    double *const *T = fp->stage;
    const double *w = fp->r;
    double e = 0.0;
    for (size_t k = 1; k < K; k++)
        for (size_t j = K - 1; j >= k; j--) {
            double ratio = (double)(j + 1) / (double)(j + 1 - k);
            ratio *= ratio;
            double fac = 1.0 / (ratio - 1.0);
            double *a = T[j];
            const double *b = T[j - 1];
            if (k < K - 1) {
                for (size_t i = 0; i < n; i++)
                    a[i] += (a[i] - b[i]) * fac;
            } else {
                for (size_t i = 0; i < n; i++) {
                    double dd = (a[i] - b[i]) * fac;
                    e += w[i] * fabs(dd);
                    a[i] += dd;
                }
            }
        }
    return gsum(fp, 1, &e, err, fn);
}

static double error_scale(const flow *f)
{
    return fmin(f->mass0,
                fmax(f->rest_norm * sqrt(f->fp->r_norm2), 1e-2 * f->tol * f->mass0));
}

/* y = res without its component along r; *equilibrium when the rest is
 * below the tolerance (see the serial fourier_accept) */
static berg_status accept(flow *f, const double *res, double *y, int *equilibrium,
                          const char *fn)
{
    berg_mpi_fp *fp = f->fp;
    const double *r = fp->r;
    const size_t n = fp->x.sp.size;
    double m = 0.0, cr, nrest = 0.0;
    for (size_t i = 0; i < n; i++)
        m += r[i] * res[i];
    BERG_MPI_TRY(gsum(fp, 1, &m, &m, fn));
    cr = m / fp->r_norm2;
    for (size_t i = 0; i < n; i++) {
        y[i] = res[i] - cr * r[i];
        nrest += y[i] * y[i];
    }
    BERG_MPI_TRY(gsum(fp, 1, &nrest, &nrest, fn));
    f->rest_norm = sqrt(nrest);
    *equilibrium = !(f->rest_norm > 0.1 * f->tol * f->c0 * sqrt(fp->r_norm2));
    if (*equilibrium)
        memset(y, 0, n * sizeof(double));
    return BERG_OK;
}

/* the serial controller (lib/propagator/extrapolate.c) with global norms */
static berg_status run(flow *f, double t, double tau, const char *fn)
{
    berg_mpi_fp *fp = f->fp;
    const double tol = f->tol, exponent = 1.0 / (2.0 * STAGES - 1.0);
    const double stiffness = fp->wave_max + fp->umax;
    double elapsed = 0.0, err = NAN;
    size_t accepted_n = 0, rejected_n = 0;
    while (elapsed < t) {
        double rest = t - elapsed;
        int last = 0;
        if (tau >= rest * (1.0 - 1e-12)) {
            tau = rest;
            last = 1;
        }
        for (size_t j = 1; j <= STAGES; j++)
            strang(f, tau, j, fp->psi, fp->stage[j - 1]);
        BERG_MPI_TRY(extrapolate(f, &err, fn));
        double scale = error_scale(f);
        err = (scale > 0.0) ? err / scale : 0.0;
        if (!isfinite(err))
            err = 1e300;
        int ok = (err <= tol);
        if (ok) {
            int eq = 0;
            BERG_MPI_TRY(accept(f, fp->stage[STAGES - 1], fp->psi, &eq, fn));
            elapsed = (last || eq) ? t : elapsed + tau;
            accepted_n++;
        } else {
            rejected_n++;
        }
        double fac = (err > 0.0) ? 0.9 * pow(tol / err, exponent) : 4.0;
        if (ok && fac >= 1.0 && fac < 1.3)
            fac = 1.0; /* the step's tables stay valid */
        fac = fmin(fmax(fac, 0.2), 4.0);
        tau *= fac;
        BERG_MPI_REQUIRE(!(tau < t * 1e-13 && tau * stiffness < 1e-6), BERG_ERR_NO_CONVERGENCE,
                         "%s: the step size fell to %g at time %g of %g (tolerance %g, error "
                         "estimate %g of it)",
                         fn, tau, elapsed, t, tol, err / tol);
        BERG_MPI_REQUIRE(accepted_n + rejected_n < MAX_STEPS || elapsed >= t,
                         BERG_ERR_NO_CONVERGENCE,
                         "%s: %zu steps (%zu rejected) reached only time %g of %g (tolerance "
                         "%g, last step %g, error estimate %g of the tolerance): the error "
                         "estimate does not settle",
                         fn, accepted_n + rejected_n, rejected_n, elapsed, t, tol, tau,
                         err / tol);
    }
    return BERG_OK;
}

/* the power-of-two scale of the serial berg_fp_evolve (1 unless the
 * values could overflow the sums or are below 2^-500) */
static double state_scale(const berg_mpi_fp *fp, const double *in)
{
    double m = 0.0;
    for (size_t i = 0; i < fp->x.sp.size; i++)
        m = fmax(m, fabs(in[i]));
    m = gmax(fp, m);
    if (m == 0.0 || (m >= 0x1p-500 && m * (double)fp->n <= 0x1p500))
        return 1.0;
    int e = -ilogb(m);
    return ldexp(1.0, e > 1000 ? 1000 : e);
}

static berg_status evolve_locked(berg_mpi_fp *fp, double t, const double *in, double *out,
                                 const char *fn)
{
    const size_t n = fp->x.sp.size;
    const double *r = fp->r;
    double sum = 0.0, comp = 0.0;
    for (size_t i = 0; i < n; i++)
        berg__mpi_neumaier(&sum, &comp, in[i]);
    double mass0;
    BERG_MPI_TRY(berg__mpi_sum_pairs(fp->x.sp.comm, 1, &sum, &comp, &mass0, fn));
    if (t == 0.0 || mass0 == 0.0) {
        if (n && in != out)
            memmove(out, in, n * sizeof(double));
        return BERG_OK;
    }
    const double scale = state_scale(fp, in);
    /* psi = p / r (scaled), refusing mass where r underflowed */
    berg_status st = BERG_OK;
    double *psi = fp->psi;
    for (size_t i = 0; i < n && st == BERG_OK; i++) {
        double p = in[i] * scale;
        psi[i] = (p == 0.0) ? 0.0 : p / r[i];
        if (!isfinite(psi[i]))
            st = berg__mpi_error(BERG_ERR_DOMAIN,
                                 "%s: p[%zu] = %g (local index) where e^{-V/2} = %g: the Fourier "
                                 "discretization cannot hold mass where q underflows",
                                 fn, i, in[i], r[i]);
    }
    BERG_MPI_TRY(berg__mpi_agree(fp->x.sp.comm, st));
    unsigned ftz = berg__mpi_ftz_enter();
    double tail = 0.0;
    st = fourier_tail(fp, psi, &tail, fn);
    if (st == BERG_OK && !isfinite(tail))
        st = berg__mpi_error(BERG_ERR_DOMAIN,
                             "%s: p e^{V/2} overflows in the transform: the data do not decay "
                             "like e^{-V/2}",
                             fn);
    else if (st == BERG_OK && tail > PSI_TAIL_MAX)
        st = berg__mpi_error(BERG_ERR_DOMAIN,
                             "%s: p e^{V/2} is not resolved on this periodic grid (Fourier tail "
                             "%.2g > %g): smooth data decaying at least like e^{-V/2} is needed; "
                             "use a finer grid",
                             fn, tail, PSI_TAIL_MAX);
    if (st != BERG_OK) {
        berg__mpi_ftz_leave(ftz);
        return st;
    }
    flow f = {fp, -1.0, mass0 * scale, 0.0, 0.0, fp->tol};
    f.c0 = f.mass0 / fp->r_norm2;
    double nrest = 0.0;
    for (size_t i = 0; i < n; i++) {
        psi[i] -= f.c0 * r[i];
        nrest += psi[i] * psi[i];
    }
    st = gsum(fp, 1, &nrest, &nrest, fn);
    f.rest_norm = sqrt(nrest);
    /* the first step: tol^{1/(2K)} / (the rate |H psi| / |psi|), at most t */
    double tau = t;
    if (st == BERG_OK) {
        double *hp = fp->stage[0];
        laplacian(fp, psi, hp);
        double l1[2] = {0.0, 0.0};
        for (size_t i = 0; i < n; i++) {
            hp[i] -= fp->U[i] * psi[i];
            l1[0] += r[i] * fabs(hp[i]);
            l1[1] += r[i] * fabs(psi[i]);
        }
        st = gsum(fp, 2, l1, l1, fn);
        double rate = l1[0] / l1[1];
        if (rate > 0.0)
            tau = fmin(t, pow(fp->tol, 1.0 / (2 * STAGES)) / rate);
    }
    if (st == BERG_OK)
        st = run(&f, t, tau, fn);
    berg__mpi_ftz_leave(ftz);
    BERG_MPI_TRY(st);
    /* p = r (c0 r + rest); negatives of the approximation set to 0 and the
     * mass restored; then unscaled (refused beyond DBL_MAX) into a scratch
     * stage, copied to out only when every rank succeeded */
    double *res = fp->stage[1];
    int clipped = 0;
    double m = 0.0, mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = r[i] * (f.c0 * r[i] + psi[i]);
        if (v < 0.0) {
            v = 0.0;
            clipped = 1;
        }
        res[i] = v;
        m += v;
    }
    double g[2] = {m, (double)clipped};
    BERG_MPI_TRY(gsum(fp, 2, g, g, fn));
    if (g[1] > 0.0 && g[0] > 0.0) {
        double c = f.mass0 / g[0];
        for (size_t i = 0; i < n; i++)
            res[i] *= c;
    }
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, res[i]);
    mx = gmax(fp, mx);
    BERG_MPI_REQUIRE(mx <= DBL_MAX * scale, BERG_ERR_DOMAIN,
                     "%s: the state at time t has a value %g times DBL_MAX (its mass gathers "
                     "where e^{-V} is largest)",
                     fn, mx / (DBL_MAX * scale));
    for (size_t i = 0; i < n; i++)
        out[i] = res[i] / scale;
    return BERG_OK;
}

berg_status berg_mpi_fp_evolve(const berg_mpi_fp *fp, double t, const double *in, double *out)
{
    static const char fn[] = "berg_mpi_fp_evolve";
    BERG_MPI_TRY(berg__mpi_check_ptr(fp, fn, "fp"));
    const size_t n = fp->x.sp.size;
    berg_status st = berg__mpi_check_array(out, n, fn, "out");
    if (st == BERG_OK && !(isfinite(t) && t >= 0.0))
        st = berg__mpi_error(BERG_ERR_TIME, "%s: t = %g must be finite and >= 0", fn, t);
    if (st == BERG_OK)
        st = berg__mpi_check_nonneg(in, n, fn, "in");
    BERG_MPI_TRY(berg__mpi_agree(fp->x.sp.comm, st));
    /* the transform buffers and the workspace are the handle's: one call
     * at a time */
    berg_mpi_fp *m = (berg_mpi_fp *)(uintptr_t)fp;
    pthread_mutex_lock(&m->lock);
    st = evolve_locked(m, t, in, out, fn);
    pthread_mutex_unlock(&m->lock);
    return st;
}
