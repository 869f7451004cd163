/*
 * The grid-line solvers of the finite-volume Fokker-Planck stepper: one
 * implicit Euler factor (I - tau L_a)^{-1} of axis a is one tridiagonal
 * solve per grid line (LAPACK dptsv in the symmetric form, dgtsv
 * otherwise), cyclic on periodic axes by Sherman-Morrison.
 */
#include <lapacke.h>
#include <math.h>

#include "propagator/fp_internal.h"

/* one grid line of axis a: its tables (offset to the axis) and scratch */
typedef struct line {
    const double *rate_up, *rate_down, *rate_wall, *scale, *unscale, *face_sym;
    size_t cells, stride;
    int periodic, cyclic; /* cyclic: periodic with >= 3 cells (corner entries) */
    double *sub, *diag, *super, *rhs;
} line;

/* Sherman-Morrison for the corner entries A[0][m-1] = beta, A[m-1][0] =
 * alpha of a cyclic tridiagonal matrix: diag is modified so that the
 * tridiagonal part is T' = A - u v^T, u = (gamma, 0, .., alpha),
 * v = (1, 0, .., beta / gamma); u goes to the second right-hand side. */
static double cyclic_prepare(const line *L, double alpha, double beta)
{
    size_t m = L->cells;
    double gamma = -L->diag[0], *u = L->rhs + m;
    L->diag[0] -= gamma;
    L->diag[m - 1] -= alpha * beta / gamma;
    for (size_t k = 0; k < m; k++)
        u[k] = 0.0;
    u[0] = gamma;
    u[m - 1] = alpha;
    return gamma;
}

static void cyclic_finish(const line *L, double beta, double gamma)
{
    size_t m = L->cells;
    double *b = L->rhs, *u = L->rhs + m;
    double vy = b[0] + beta / gamma * b[m - 1];
    double vz = u[0] + beta / gamma * u[m - 1];
    double f = vy / (1.0 + vz);
    for (size_t k = 0; k < m; k++)
        b[k] -= f * u[k];
}

/* D^{-1} (I - tau L_a) D = I - tau S_a with D = diag(scale): a symmetric
 * positive definite tridiagonal M-matrix (LAPACK dptsv; no cancellation for
 * a non-negative right-hand side). */
static lapack_int solve_symmetric(const line *L, size_t base, double tau)
{
    size_t m = L->cells, st = L->stride;
    double *dd = L->diag, *e = L->super, *b = L->rhs;
    for (size_t k = 0; k < m; k++) {
        size_t i = base + k * st;
        b[k] *= L->unscale[i];
        dd[k] = 1.0 + tau * (L->rate_up[i] + L->rate_down[i] + L->rate_wall[i]);
        if (k + 1 < m)
            e[k] = -tau * L->face_sym[i];
    }
    if (L->periodic && m == 2)
        e[0] = -tau * (L->face_sym[base] + L->face_sym[base + st]);
    lapack_int info;
    if (!L->cyclic) {
        info = LAPACKE_dptsv_work(LAPACK_COL_MAJOR, (lapack_int)m, 1, dd, e, b, (lapack_int)m);
    } else {
        double corner = -tau * L->face_sym[base + (m - 1) * st];
        double gamma = cyclic_prepare(L, corner, corner);
        info = LAPACKE_dptsv_work(LAPACK_COL_MAJOR, (lapack_int)m, 2, dd, e, b, (lapack_int)m);
        if (info == 0)
            cyclic_finish(L, corner, gamma);
    }
    for (size_t k = 0; k < m; k++)
        b[k] *= L->scale[base + k * st];
    return info;
}

/* I - tau L_a itself (LAPACK dgtsv), for lines whose V range is too wide
 * for the diagonal scaling. */
static lapack_int solve_general(const line *L, size_t base, double tau)
{
    size_t m = L->cells, st = L->stride;
    double *dl = L->sub, *dd = L->diag, *du = L->super, *b = L->rhs;
    for (size_t k = 0; k < m; k++) {
        size_t i = base + k * st;
        dd[k] = 1.0 + tau * (L->rate_up[i] + L->rate_down[i] + L->rate_wall[i]);
        if (k + 1 < m) {
            dl[k] = -tau * L->rate_up[i];        /* A[k+1][k] */
            du[k] = -tau * L->rate_down[i + st]; /* A[k][k+1] */
        }
    }
    if (L->periodic && m == 2) {
        dl[0] = -tau * (L->rate_up[base] + L->rate_down[base]);
        du[0] = -tau * (L->rate_down[base + st] + L->rate_up[base + st]);
    }
    if (!L->cyclic)
        return LAPACKE_dgtsv_work(LAPACK_COL_MAJOR, (lapack_int)m, 1, dl, dd, du, b,
                                  (lapack_int)m);
    double beta = -tau * L->rate_up[base + (m - 1) * st]; /* A[0][m-1] */
    double alpha = -tau * L->rate_down[base];             /* A[m-1][0] */
    double gamma = cyclic_prepare(L, alpha, beta);
    lapack_int info =
        LAPACKE_dgtsv_work(LAPACK_COL_MAJOR, (lapack_int)m, 2, dl, dd, du, b, (lapack_int)m);
    if (info == 0)
        cyclic_finish(L, beta, gamma);
    return info;
}

berg_status berg__fp_sweep_axis(const berg_fp *fp, const berg__fp_volume *fv, size_t a,
                                double tau, double *x, const berg__fp_line_work *w,
                                const char *fn)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n, m = s->n[a], st = s->stride[a], off = a * n;
    if (m == 1 && s->bc[a] != BERG_DIRICHLET)
        return BERG_OK; /* no faces */
    line L = {fv->rate_up + off,    fv->rate_down + off,   fv->rate_wall + off,
              fv->line_scale + off, fv->line_unscale + off, fv->face_sym + off,
              m,                    st,                     s->bc[a] == BERG_PERIODIC,
              s->bc[a] == BERG_PERIODIC && m >= 3,
              w->sub,               w->diag,                w->super,
              w->rhs};
    int conserve = (s->bc[a] != BERG_DIRICHLET);
    double *b = w->rhs;
    size_t block = m * st, nblocks = n / block;
    for (size_t o = 0; o < nblocks; o++) {
        for (size_t r = 0; r < st; r++) {
            size_t base = o * block + r;
            if (m == 1) { /* a single cell between two absorbing walls */
                x[base] /= 1.0 + tau * L.rate_wall[base];
                continue;
            }
            double mass_in = 0.0;
            for (size_t k = 0; k < m; k++) {
                b[k] = x[base + k * st];
                mass_in += b[k];
            }
            lapack_int info = fv->line_symmetric[off + base] ? solve_symmetric(&L, base, tau)
                                                             : solve_general(&L, base, tau);
            BERG_REQUIRE(info == 0, BERG_ERR_INTERNAL,
                         "%s: the tridiagonal solve failed (LAPACK info %d) on axis %zu", fn,
                         (int)info, a);
            double f = 1.0;
            if (conserve) {
                /* the exact line solution conserves the line's mass */
                double mass = 0.0;
                for (size_t k = 0; k < m; k++)
                    mass += b[k];
                if (mass > 0.0 && mass_in > 0.0)
                    f = mass_in / mass;
            }
            for (size_t k = 0; k < m; k++)
                x[base + k * st] = b[k] * f;
        }
    }
    return BERG_OK;
}
