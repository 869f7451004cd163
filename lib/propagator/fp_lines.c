/*
 * The grid-line solvers of the finite-volume Fokker-Planck stepper: one
 * implicit Euler factor (I - tau L_a)^{-1} of axis a is one tridiagonal
 * solve per grid line (cyclic on periodic axes), by subtraction-free
 * Gaussian elimination.
 */
#include <math.h>
#include <stdlib.h>

#include "propagator/fp_internal.h"

/* one grid line of axis a: its tables (offset to the axis) and scratch */
typedef struct line {
    const double *rate_up, *rate_down, *rate_wall;
    size_t cells, stride;
    int periodic;
    double *sub, *diag, *super, *rhs;
} line;

/*
 * (I - tau L_a) x = b on one line by Gaussian elimination in the order of
 * the cells, the wrap-around entries of a periodic line (row and column of
 * the last cell) carried as a border. I - tau L_a is an M-matrix whose
 * column k sums to s_k = 1 + tau wall_k >= 1 (L conserves mass but for the
 * walls), and so is every Schur complement of it, with column sums that
 * only grow: eliminating pivot k adds |A_kj| ex_k / p_k to the excess ex_j
 * of column j. Each pivot is therefore formed as its column's excess plus
 * the magnitudes of the column's remaining off-diagonal entries (Grassmann,
 * Taksar & Heyman 1985): no subtraction anywhere, so every pivot is >= 1,
 * the solve never breaks down, and for b >= 0 each value of x has a small
 * relative error for ANY tau (also tau |L| >> 1/DBL_EPSILON, where the 1 of
 * I - tau L is lost in rounding and dgtsv met exact zero pivots).
 *
 * Every product is formed as (ratio <= 1) * entry, so nothing overflows
 * before a division.
 *
 * Storage (magnitudes): sub[k] = |A[k][m-1]| (the border column, k < m-2),
 * super[k] = |A[k][k+1]|, diag[k] = the pivot p_k, rhs = b, then x.
 */
/* the same elimination on a line without wrap-around (no border): the
 * common case, kept lean (one division per cell, inverse pivots stored) */
static void solve_open(const line *L, size_t base, double td, double inv_d)
{
    const size_t m = L->cells, st = L->stride;
    const double *up = L->rate_up + base, *down = L->rate_down + base,
                 *wall = L->rate_wall + base;
    double *ip = L->diag, *U = L->super, *y = L->rhs;
    double ex = inv_d + td * wall[0];
    y[0] *= inv_d;
    for (size_t k = 0; k + 1 < m; k++) {
        const size_t i = k * st;
        double low = td * up[i], inv = 1.0 / (ex + low);
        ip[k] = inv;
        U[k] = td * down[i + st];
        y[k + 1] = y[k + 1] * inv_d + (low * inv) * y[k];
        ex = inv_d + td * wall[i + st] + U[k] * (ex * inv);
    }
    ip[m - 1] = 1.0 / ex;
    y[m - 1] *= ip[m - 1];
    /* a mass-conserving line at tau |L| beyond ~1e300 (1/D underflowed):
     * the line's equilibrium, as in solve_line */
    int equilibrium = !(y[m - 1] <= 1e250);
    if (equilibrium)
        y[m - 1] = 1.0;
    for (size_t k = m - 1; k-- > 0;)
        y[k] = ((equilibrium ? 0.0 : y[k]) + U[k] * y[k + 1]) * ip[k];
}

static void solve_line(const line *L, size_t base, double td, double inv_d)
{
    const size_t m = L->cells, st = L->stride;
    const int per = L->periodic;
    double *R = L->sub, *p = L->diag, *U = L->super, *y = L->rhs;
    /* the system divided by D (td = tau / D, inv_d = 1 / D) */
    for (size_t k = 0; k < m; k++)
        y[k] *= inv_d;
#define UP(k) (td * L->rate_up[base + (k) * st])
#define DOWN(k) (td * L->rate_down[base + (k) * st])
#define EXCESS(k) (inv_d + td * L->rate_wall[base + (k) * st])
    /* the original entries: column k sends UP(k) to row k + 1 and DOWN(k)
     * to row k - 1 (cyclically on a periodic line; the rates to no cell are
     * 0 on the other lines); with 2 cells both go to the other cell */
    for (size_t k = 0; k + 1 < m; k++) {
        U[k] = DOWN(k + 1) + ((per && m == 2) ? UP(k + 1) : 0.0);
        R[k] = 0.0;
    }
    if (per && m >= 3)
        R[0] = UP(m - 1); /* A[0][m-1] */
    double low = UP(0) + ((per && m == 2) ? DOWN(0) : 0.0); /* |A[k+1][k]| */
    double q = (per && m >= 3) ? DOWN(0) : 0.0;               /* |A[m-1][k]|, k < m-2 */
    double ex = EXCESS(0), ex_last = EXCESS(m - 1);
    for (size_t k = 0; k + 1 < m; k++) {
        const int border = k + 2 < m; /* row/column m-1 is not the neighbour k+1 */
        double pk = ex + low + (border ? q : 0.0);
        p[k] = pk;
        double ynext = y[k + 1] + (low / pk) * y[k];
        /* column k + 1 gets only from row k, but the last column from every
         * border row too */
        double ex_next = ((k + 2 < m) ? EXCESS(k + 1) : ex_last) + U[k] * (ex / pk);
        double low_next = (k + 2 < m) ? UP(k + 1) : 0.0, q_next = 0.0;
        if (border) {
            y[m - 1] += (q / pk) * y[k];
            ex_last += R[k] * (ex / pk);
            if (k + 2 < m - 1) { /* the fill stays in the border */
                R[k + 1] += (low / pk) * R[k];
                q_next = (q / pk) * U[k];
            } else { /* k + 1 = m - 2: the border is the neighbour of k + 1 */
                U[k + 1] += (low / pk) * R[k];
                low_next += (q / pk) * U[k];
            }
        }
        y[k + 1] = ynext;
        if (k + 2 < m) {
            ex = ex_next;
            low = low_next;
            q = q_next;
        } else {
            ex_last = ex_next; /* k + 1 = m - 1: the last column */
        }
    }
    p[m - 1] = ex_last;
    y[m - 1] /= p[m - 1];
    /* a mass-conserving line at tau |L| beyond ~1e300 (1/D underflowed):
     * the solution is the line's equilibrium, which the back substitution
     * of the last column alone gives (the caller restores the mass) */
    int equilibrium = !(y[m - 1] <= 1e250);
    if (equilibrium)
        y[m - 1] = 1.0;
    for (size_t k = m - 1; k-- > 0;) {
        double v = (equilibrium ? 0.0 : y[k]) + U[k] * y[k + 1];
        if (k + 2 < m)
            v += R[k] * y[m - 1];
        y[k] = v / p[k];
    }
#undef UP
#undef DOWN
#undef EXCESS
}

/* the lines of one sweep: their shared data, and the scratch of each range */
typedef struct sweep_job {
    const berg_space *s;
    line L;                 /* the tables (scratch pointers unused) */
    const berg__fp_line_work *work; /* one per range */
    size_t m, st;
    double td, inv_d;
    int conserve;
    double *x;
} sweep_job;

/* the grid lines [b, e) (line o * st + r of block o, offset r) with the
 * scratch of range k */
static void sweep_lines(void *ctx, size_t b, size_t e, size_t k)
{
    const sweep_job *job = ctx;
    const size_t m = job->m, st = job->st, block = m * st;
    const double td = job->td, inv_d = job->inv_d;
    double *x = job->x;
    line L = job->L;
    L.sub = job->work[k].sub;
    L.diag = job->work[k].diag;
    L.super = job->work[k].super;
    L.rhs = job->work[k].rhs;
    double *rhs = L.rhs;
    for (size_t l = b; l < e; l++) {
        size_t base = (l / st) * block + l % st;
        if (m == 1) { /* a single cell between two absorbing walls */
            x[base] = x[base] * inv_d / (inv_d + td * L.rate_wall[base]);
            continue;
        }
        double mass_in = 0.0;
        for (size_t c = 0; c < m; c++) {
            rhs[c] = x[base + c * st];
            mass_in += rhs[c];
        }
        if (L.periodic)
            solve_line(&L, base, td, inv_d);
        else
            solve_open(&L, base, td, inv_d);
        double f = 1.0;
        if (job->conserve) {
            /* the exact line solution conserves the line's mass */
            double mass = 0.0;
            for (size_t c = 0; c < m; c++)
                mass += rhs[c];
            if (mass > 0.0 && mass_in > 0.0)
                f = mass_in / mass;
        }
        for (size_t c = 0; c < m; c++)
            x[base + c * st] = rhs[c] * f;
    }
}

/* cells per thread below which a sweep stays on one thread (starting a
 * thread costs about as much as solving this many cells) */
#define SWEEP_GRAIN_CELLS 32768

berg_status berg__fp_sweep_axis(const berg_fp *fp, const berg__fp_volume *fv, size_t a,
                                double tau, double *x, const berg__fp_line_work *w,
                                const char *fn)
{
    (void)fn; /* the elimination cannot fail */
    const berg_space *s = &fp->space;
    size_t n = fp->n, m = s->n[a], st = s->stride[a], off = a * n;
    if (m == 1 && s->bc[a] != BERG_DIRICHLET)
        return BERG_OK; /* no faces */
    /* I - tau L_a divided by D = max(1, tau max_rate / 1e280): its entries
     * stay below 1e280 (no sum of them overflows) for any tau */
    const double cap = 1e280 / fmax(fv->max_rate, 1e-300);
    sweep_job job = {
        .s = s,
        .L = {fv->rate_up + off, fv->rate_down + off, fv->rate_wall + off, m, st,
              s->bc[a] == BERG_PERIODIC, NULL, NULL, NULL, NULL},
        .work = w, .m = m, .st = st,
        .td = fmin(tau, cap), .inv_d = tau > cap ? cap / tau : 1.0,
        .conserve = s->bc[a] != BERG_DIRICHLET, .x = x};
    const size_t lines = n / m;
    size_t nthreads = berg__threads(fp->nthreads), grain = SWEEP_GRAIN_CELLS / m + 1;
    if (nthreads > lines / grain)
        nthreads = lines / grain;
    if (nthreads <= 1) {
        sweep_lines(&job, 0, lines, 0);
        return BERG_OK;
    }
    /* scratch for ranges 1.. (range 0 uses w): the sweep cannot fail, so
     * without memory it runs on one thread */
    const size_t per = 5 * fv->longest_line;
    berg__fp_line_work *works = malloc(nthreads * sizeof *works);
    double *mem = works ? malloc((nthreads - 1) * per * sizeof(double)) : NULL;
    if (!mem) {
        free(works);
        sweep_lines(&job, 0, lines, 0);
        return BERG_OK;
    }
    works[0] = *w;
    for (size_t k = 1; k < nthreads; k++) {
        double *b = mem + (k - 1) * per;
        works[k] = (berg__fp_line_work){b, b + fv->longest_line, b + 2 * fv->longest_line,
                                        b + 3 * fv->longest_line};
    }
    job.work = works;
    berg__parallel_ranges(lines, nthreads, nthreads, sweep_lines, &job);
    free(mem);
    free(works);
    return BERG_OK;
}

berg_status berg_fp_set_threads(berg_fp *fp, size_t nthreads)
{
    static const char fn[] = "berg_fp_set_threads";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_REQUIRE(nthreads <= BERG__THREADS_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads is %zu, not in [0, %d] (0: follow berg_set_threads)", fn,
                 nthreads, BERG__THREADS_MAX);
    fp->nthreads = nthreads;
    return BERG_OK;
}
