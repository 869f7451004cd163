/*
 * Fokker-Planck / ERG flow d/dt p = div(g^{-1}(grad p + p grad V)) on a grid:
 * the Scharfetter-Gummel finite-volume generator and its adaptive
 * extrapolated linearly implicit Euler time stepper (docs/fokker_planck.md).
 *
 * Generator. Across the face between cells i and j = i + e_a the flux is
 *   J = -(D_a / h_a) [ B(-dV) p_j - B(dV) p_i ],  dV = V_j - V_i,
 * with B(x) = x / (e^x - 1), D_a = g^{aa}. So cell i jumps to j at the rate
 * D_a / h_a^2 B(V_j - V_i): detailed balance with q = e^{-V} holds face by
 * face, columns of L sum to zero, off-diagonals are >= 0 (M-matrix).
 * An absorbing (Dirichlet) wall lies h_a/2 from the edge cell; its rate is
 * 2 D_a / h_a^2 B(V_wall - V_i) with V_wall linearly extrapolated.
 *
 * Time stepping. Phi_tau = prod_a (I - tau L_a)^{-1} (each factor one
 * tridiagonal solve per grid line; positive, mass conserving, q-invariant)
 * is first order; T_{j1} = Phi_{tau/j}^j for j = 1..K (K = BERG_FP_ORDER = 6)
 * are extrapolated (Aitken-Neville, harmonic sequence; the SEULEX idea of
 * Hairer & Wanner with a fixed order) to T_{K,K-1} and T_{KK}.
 * |T_KK - T_{K,K-1}|_1 estimates the local error; it is kept below tol (L1,
 * relative to the mass of the step's input) and T_KK is accepted. Measured
 * (docs/fokker_planck.md): K = 6 needs 2-5x fewer sweeps than K = 3..5 at
 * tol 1e-7..1e-8, and the stability function of T_KK stays in (-4e-4, 1]
 * on the negative real axis.
 */
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"

#ifndef BERG_FP_ORDER
#define BERG_FP_ORDER 6
#endif

double berg__bernoulli(double x)
{
    if (fabs(x) < 1e-10)
        return 1.0 - 0.5 * x;
    if (x > 0)
        return x * exp(-x) / (-expm1(-x));
    return x / expm1(x);
}

double berg__bernoulli_sym(double x)
{
    double a = 0.5 * fabs(x);
    if (a < 1e-8)
        return 1.0;
    if (a > 700.0)
        return 2.0 * a * exp(-a); /* 1/sinh ~ 2 e^{-a} */
    return a / sinh(a);
}

/* index of the neighbour of cell i at axis coordinate c + dir, or (size_t)-1 */
static size_t neighbour(const berg_space *s, size_t i, int a, int dir)
{
    size_t st = s->stride[a], n = s->n[a];
    size_t c = (i / st) % n;
    if (dir > 0) {
        if (c + 1 < n)
            return i + st;
        if (s->bc[a] == BERG_PERIODIC && n > 1)
            return i - (n - 1) * st;
        return (size_t)-1;
    }
    if (c > 0)
        return i - st;
    if (s->bc[a] == BERG_PERIODIC && n > 1)
        return i + (n - 1) * st;
    return (size_t)-1;
}

static void fp_free(berg_fp *fp)
{
    if (!fp)
        return;
    berg__free(fp->V);
    berg__free(fp->rp);
    berg__free(fp->rm);
    berg__free(fp->ra);
    berg__free(fp->out_rate);
    berg__free(fp->sc);
    berg__free(fp->isc);
    berg__free(fp->sym);
    berg__free(fp->lsym);
    berg__free(fp->y);
    for (int k = 0; k < BERG_FP_KMAX; k++)
        berg__free(fp->T[k]);
    berg__free(fp->tmp);
    berg__free(fp->ldl);
    berg__free(fp->ld);
    berg__free(fp->ldu);
    berg__free(fp->lb);
    berg__fp_fourier_free(fp->fr);
    berg__free(fp);
}

void berg_fp_destroy(berg_fp *fp) { fp_free(fp); }

berg_status berg_fp_create(berg_fp **out, const berg_space *space, const double *V,
                           unsigned flags)
{
    static const char *fn = "berg_fp_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)))
        return st;
    size_t n = space->size;
    if ((st = berg__check_finite(V, n, fn, "V")))
        return st;
    int fourier = (flags & BERG_FP_FOURIER) != 0;
    if (fourier ? (flags & ~(BERG_FP_FOURIER | BERG_PLAN_ESTIMATE)) != 0 : flags != 0)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: unknown flags 0x%x (0, or BERG_FP_FOURIER optionally with "
                           "BERG_PLAN_ESTIMATE)",
                           fn, flags);
    int d = space->ndim;
    for (int a = 0; a < d && !fourier; a++)
        for (int b = 0; b < d; b++)
            if (a != b && space->ginv[a * d + b] != 0.0)
                return berg__error(BERG_ERR_UNSUPPORTED,
                                   "%s: the metric couples axes %d and %d; the finite-volume "
                                   "Fokker-Planck generator needs a diagonal metric (the "
                                   "Fourier one, BERG_FP_FOURIER, takes any metric on a "
                                   "periodic box)",
                                   fn, a, b);
    size_t dn;
    if ((st = berg__mul_size(n, (size_t)d, &dn, fn, "grid size x rank")))
        return st;
    berg_fp *fp = berg__alloc(1, sizeof *fp, fn);
    if (!fp)
        return berg_last_status();
    memset(fp, 0, sizeof *fp);
    fp->space = *space;
    fp->n = n;
    fp->tol = 1e-8;
    size_t maxline = 1;
    for (int a = 0; a < d; a++)
        if (space->n[a] > maxline)
            maxline = space->n[a];
    fp->maxline = maxline;
    fp->V = berg__alloc(n, sizeof(double), fn);
    if (!fp->V) {
        fp_free(fp);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory for a grid of %zu cells", fn, n);
    }
    double vmin = V[0], vmax = V[0];
    for (size_t i = 1; i < n; i++) {
        if (V[i] < vmin)
            vmin = V[i];
        if (V[i] > vmax)
            vmax = V[i];
    }
    fp->vmin = vmin;
    fp->vmax = vmax;
    for (size_t i = 0; i < n; i++)
        fp->V[i] = V[i] - vmin;
    if (!isfinite(vmax - vmin)) {
        fp_free(fp);
        return berg__error(BERG_ERR_DOMAIN, "%s: the range of V (%g .. %g) overflows", fn, vmin,
                           vmax);
    }
    if (fourier) {
        if ((st = berg__fp_fourier_init(fp, flags, fn))) {
            fp_free(fp);
            return st;
        }
        *out = fp;
        return BERG_OK;
    }
    fp->rp = berg__alloc(dn, sizeof(double), fn);
    fp->rm = berg__alloc(dn, sizeof(double), fn);
    fp->ra = berg__alloc(dn, sizeof(double), fn);
    fp->out_rate = berg__alloc(n, sizeof(double), fn);
    fp->sc = berg__alloc(dn, sizeof(double), fn);
    fp->isc = berg__alloc(dn, sizeof(double), fn);
    fp->sym = berg__alloc(dn, sizeof(double), fn);
    fp->lsym = berg__alloc(dn, 1, fn);
    fp->y = berg__alloc(n, sizeof(double), fn);
    fp->order = BERG_FP_ORDER;
    int tfail = 0;
    for (int k = 0; k < fp->order; k++)
        if (!(fp->T[k] = berg__alloc(n, sizeof(double), fn)))
            tfail = 1;
    fp->tmp = berg__alloc(n, sizeof(double), fn);
    fp->ldl = berg__alloc(maxline, sizeof(double), fn);
    fp->ld = berg__alloc(maxline, sizeof(double), fn);
    fp->ldu = berg__alloc(maxline, sizeof(double), fn);
    fp->lb = berg__alloc(2 * maxline, sizeof(double), fn);
    if (!fp->rp || !fp->rm || !fp->ra || !fp->out_rate || !fp->sc || !fp->isc ||
        !fp->sym || !fp->lsym || !fp->y || tfail || !fp->tmp || !fp->ldl || !fp->ld || !fp->ldu || !fp->lb) {
        fp_free(fp);
        return berg__error(BERG_ERR_NOMEM, "%s: out of memory for a grid of %zu cells", fn, n);
    }
    for (size_t i = 0; i < n; i++)
        fp->out_rate[i] = 0.0;
    for (int a = 0; a < d; a++) {
        double c = space->ginv[a * d + a] / (space->h[a] * space->h[a]);
        if (space->bc[a] == BERG_DIRICHLET)
            fp->absorbing = 1;
        for (size_t i = 0; i < n; i++) {
            double *rp = fp->rp + (size_t)a * n, *rm = fp->rm + (size_t)a * n,
                   *ra = fp->ra + (size_t)a * n;
            size_t jp = neighbour(space, i, a, +1), jm = neighbour(space, i, a, -1);
            rp[i] = (jp != (size_t)-1) ? c * berg__bernoulli(fp->V[jp] - fp->V[i]) : 0.0;
            rm[i] = (jm != (size_t)-1) ? c * berg__bernoulli(fp->V[jm] - fp->V[i]) : 0.0;
            ra[i] = 0.0;
            if (space->bc[a] == BERG_DIRICHLET) {
                size_t nb = (jp == (size_t)-1) ? jm : jp; /* interior neighbour */
                int edge = (jp == (size_t)-1) || (jm == (size_t)-1);
                if (edge) {
                    double dv = (nb == (size_t)-1) ? 0.0 : -0.5 * (fp->V[nb] - fp->V[i]);
                    double r = 2.0 * c * berg__bernoulli(dv);
                    /* a single-cell axis has two walls */
                    ra[i] = (space->n[a] == 1) ? 2.0 * r : r;
                }
            }
            fp->out_rate[i] += rp[i] + rm[i] + ra[i];
            if (!isfinite(rp[i]) || !isfinite(rm[i]) || !isfinite(ra[i]) ||
                !isfinite(fp->out_rate[i])) {
                fp_free(fp);
                return berg__error(BERG_ERR_DOMAIN,
                                   "%s: V is too steep at index %zu (axis %d): a jump rate "
                                   "overflows",
                                   fn, i, a);
            }
        }
    }
    for (int a = 0; a < d; a++) {
        size_t na = space->n[a], sv = space->stride[a], block = na * sv;
        double c = space->ginv[a * d + a] / (space->h[a] * space->h[a]);
        double *sc = fp->sc + (size_t)a * n, *isc = fp->isc + (size_t)a * n,
               *sym = fp->sym + (size_t)a * n;
        unsigned char *ok = fp->lsym + (size_t)a * n;
        for (size_t o = 0; o < n / block; o++)
            for (size_t r = 0; r < sv; r++) {
                size_t base = o * block + r;
                double lo = fp->V[base], hi = fp->V[base];
                for (size_t k = 1; k < na; k++) {
                    lo = fmin(lo, fp->V[base + k * sv]);
                    hi = fmax(hi, fp->V[base + k * sv]);
                }
                for (size_t k = 0; k < na; k++) {
                    size_t i = base + k * sv, j = (size_t)-1;
                    if (k + 1 < na)
                        j = i + sv;
                    else if (space->bc[a] == BERG_PERIODIC && na > 1)
                        j = base;
                    ok[i] = (hi - lo <= 700.0);
                    sc[i] = exp(-0.5 * (fp->V[i] - lo));
                    isc[i] = 1.0 / sc[i];
                    sym[i] = (j == (size_t)-1) ? 0.0 : c * berg__bernoulli_sym(fp->V[j] - fp->V[i]);
                    if (!ok[i])
                        sc[i] = isc[i] = 1.0;
                }
            }
    }
    fp->max_rate = 0.0;
    for (size_t i = 0; i < n; i++)
        fp->max_rate = fmax(fp->max_rate, fp->out_rate[i]);
    *out = fp;
    return BERG_OK;
}

berg_status berg_fp_set_tolerance(berg_fp *fp, double tol)
{
    static const char *fn = "berg_fp_set_tolerance";
    berg_status st;
    if ((st = berg__check_ptr(fp, fn, "fp")))
        return st;
    if (!(tol >= 1e-14 && tol <= 0.1))
        return berg__error(BERG_ERR_DOMAIN, "%s: tol = %g must be in [1e-14, 0.1]", fn, tol);
    fp->tol = tol;
    return BERG_OK;
}

berg_status berg_fp_last_steps(const berg_fp *fp, size_t *accepted, size_t *rejected)
{
    berg_status st;
    if ((st = berg__check_ptr(fp, "berg_fp_last_steps", "fp")))
        return st;
    if (accepted)
        *accepted = fp->accepted;
    if (rejected)
        *rejected = fp->rejected;
    return BERG_OK;
}

berg_status berg_fp_stationary(const berg_fp *fp, double *q)
{
    static const char *fn = "berg_fp_stationary";
    berg_status st;
    if ((st = berg__check_ptr(fp, fn, "fp")) || (st = berg__check_ptr(q, fn, "q")))
        return st;
    size_t n = fp->n;
    /* Z' = w sum exp(-(V - min V)) >= w: never zero */
    for (size_t i = 0; i < n; i++)
        q[i] = exp(-fp->V[i]);
    double z = berg__sum(q, n) * fp->space.weight;
    double inv = 1.0 / z;
    for (size_t i = 0; i < n; i++)
        q[i] *= inv;
    return BERG_OK;
}

/* out = L p (transpose: out = L^T p). out may alias p only via the caller's copy. */
static void apply_L(const berg_fp *fp, const double *p, double *out, int transpose)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n;
    for (size_t i = 0; i < n; i++)
        out[i] = -fp->out_rate[i] * p[i];
    for (int a = 0; a < s->ndim; a++) {
        const double *rp = fp->rp + (size_t)a * n, *rm = fp->rm + (size_t)a * n;
        for (size_t i = 0; i < n; i++) {
            size_t jp = neighbour(s, i, a, +1), jm = neighbour(s, i, a, -1);
            if (!transpose) {
                /* inflow into i: from i-1 going +, from i+1 going - */
                if (jm != (size_t)-1)
                    out[i] += fp->rp[(size_t)a * n + jm] * p[jm];
                if (jp != (size_t)-1)
                    out[i] += fp->rm[(size_t)a * n + jp] * p[jp];
            } else {
                if (jp != (size_t)-1)
                    out[i] += rp[i] * p[jp];
                if (jm != (size_t)-1)
                    out[i] += rm[i] * p[jm];
            }
        }
    }
}

static berg_status generator_common(const berg_fp *fp, const double *in, double *out,
                                    int transpose, const char *fn)
{
    berg_status st;
    if ((st = berg__check_ptr(fp, fn, "fp")) || (st = berg__check_ptr(out, fn, "out")) ||
        (st = berg__check_finite(in, fp->n, fn, transpose ? "f" : "p")))
        return st;
    if (fp->fr)
        return berg__fp_fourier_generator(fp, in, out, transpose, fn);
    double *tmp = berg__alloc(fp->n, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    apply_L(fp, in, tmp, transpose);
    memcpy(out, tmp, fp->n * sizeof(double));
    berg__free(tmp);
    return BERG_OK;
}

berg_status berg_fp_generator_apply(const berg_fp *fp, const double *p, double *out)
{
    return generator_common(fp, p, out, 0, "berg_fp_generator_apply");
}

berg_status berg_fp_backward_apply(const berg_fp *fp, const double *f, double *out)
{
    return generator_common(fp, f, out, 1, "berg_fp_backward_apply");
}

/* Sigma = V + ln p (minus its mean when centre) into sigma; p > 0 checked */
static berg_status check_positive(const berg_fp *fp, const double *p, const char *fn)
{
    berg_status st;
    if ((st = berg__check_finite(p, fp->n, fn, "p")))
        return st;
    for (size_t i = 0; i < fp->n; i++)
        if (!(p[i] > 0.0))
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: p[%zu] = %g; ln p needs p > 0 everywhere", fn, i, p[i]);
    return BERG_OK;
}

berg_status berg_fp_scheme(const berg_fp *fp, const double *p, double *sigma)
{
    static const char *fn = "berg_fp_scheme";
    berg_status st;
    if ((st = berg__check_ptr(fp, fn, "fp")) || (st = berg__check_ptr(sigma, fn, "sigma")) ||
        (st = check_positive(fp, p, fn)))
        return st;
    size_t n = fp->n;
    double *tmp = berg__alloc(n, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    for (size_t i = 0; i < n; i++)
        tmp[i] = fp->V[i] + log(p[i]);
    double mean = berg__sum(tmp, n) / (double)n;
    for (size_t i = 0; i < n; i++)
        sigma[i] = tmp[i] - mean;
    berg__free(tmp);
    return BERG_OK;
}

berg_status berg_fp_velocity(const berg_fp *fp, const double *p, double *psi)
{
    static const char *fn = "berg_fp_velocity";
    berg_status st;
    if ((st = berg__check_ptr(fp, fn, "fp")) || (st = berg__check_ptr(psi, fn, "psi")) ||
        (st = check_positive(fp, p, fn)))
        return st;
    const berg_space *s = &fp->space;
    size_t n = fp->n;
    double *sig = berg__alloc(n, sizeof(double), fn);
    if (!sig)
        return berg_last_status();
    for (size_t i = 0; i < n; i++)
        sig[i] = fp->V[i] + log(p[i]);
    int d = s->ndim;
    /* the gradient of Sigma into psi, then psi = -g^{-1} grad Sigma per cell */
    for (int a = 0; a < d; a++) {
        double h = s->h[a];
        for (size_t i = 0; i < n; i++) {
            size_t jp = neighbour(s, i, a, +1), jm = neighbour(s, i, a, -1);
            double g;
            if (jp != (size_t)-1 && jm != (size_t)-1)
                g = (jp == jm) ? 0.0 : (sig[jp] - sig[jm]) / (2.0 * h);
            else if (jp != (size_t)-1)
                g = (sig[jp] - sig[i]) / h;
            else if (jm != (size_t)-1)
                g = (sig[i] - sig[jm]) / h;
            else
                g = 0.0;
            psi[(size_t)a * n + i] = g;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double g[BERG_MAX_RANK];
        for (int a = 0; a < d; a++)
            g[a] = psi[(size_t)a * n + i];
        for (int a = 0; a < d; a++) {
            double v = 0.0;
            for (int b = 0; b < d; b++)
                v += s->ginv[a * d + b] * g[b];
            psi[(size_t)a * n + i] = -v;
        }
    }
    berg__free(sig);
    return BERG_OK;
}

/* ---- time stepping ------------------------------------------------------- */

/* One line of axis a starting at cell base, stride st, na >= 2 cells: the
 * right-hand side is in b[0..na-1] on entry, the solution on return;
 * b[na..2na-1], dl, dd, du are scratch. Returns LAPACK's info. */
typedef struct {
    const double *rp, *rm, *ra, *sc, *isc, *sym;
    size_t na, st;
    int periodic, cyclic;
    double *dl, *dd, *du, *b;
} line_solver;

/* Sherman-Morrison for the corner entries A[0][na-1] = beta, A[na-1][0] =
 * alpha of a cyclic tridiagonal matrix: dd is modified so that the
 * tridiagonal part T' = A - u v^T, u = (gamma, 0, .., alpha),
 * v = (1, 0, .., beta / gamma); u goes to b + na. */
static double cyclic_prepare(const line_solver *L, double alpha, double beta)
{
    size_t na = L->na;
    double gamma = -L->dd[0], *u = L->b + na;
    L->dd[0] -= gamma;
    L->dd[na - 1] -= alpha * beta / gamma;
    for (size_t k = 0; k < na; k++)
        u[k] = 0.0;
    u[0] = gamma;
    u[na - 1] = alpha;
    return gamma;
}

static void cyclic_finish(const line_solver *L, double beta, double gamma)
{
    size_t na = L->na;
    double *b = L->b, *u = L->b + na;
    double vy = b[0] + beta / gamma * b[na - 1];
    double vz = u[0] + beta / gamma * u[na - 1];
    double f = vy / (1.0 + vz);
    for (size_t k = 0; k < na; k++)
        b[k] -= f * u[k];
}

/* D^{-1} (I - tau L_a) D = I - tau S_a with D = diag(sc): a symmetric
 * positive definite tridiagonal M-matrix (LAPACK dptsv; no cancellation for
 * a non-negative right-hand side). */
static lapack_int solve_line_sym(const line_solver *L, size_t base, double tau)
{
    size_t na = L->na, st = L->st;
    double *dd = L->dd, *e = L->du, *b = L->b;
    for (size_t k = 0; k < na; k++) {
        size_t i = base + k * st;
        b[k] *= L->isc[i];
        dd[k] = 1.0 + tau * (L->rp[i] + L->rm[i] + L->ra[i]);
        if (k + 1 < na)
            e[k] = -tau * L->sym[i];
    }
    if (L->periodic && na == 2)
        e[0] = -tau * (L->sym[base] + L->sym[base + st]);
    lapack_int info;
    if (!L->cyclic) {
        info = LAPACKE_dptsv_work(LAPACK_COL_MAJOR, (lapack_int)na, 1, dd, e, b, (lapack_int)na);
    } else {
        double corner = -tau * L->sym[base + (na - 1) * st];
        double gamma = cyclic_prepare(L, corner, corner);
        info = LAPACKE_dptsv_work(LAPACK_COL_MAJOR, (lapack_int)na, 2, dd, e, b, (lapack_int)na);
        if (info == 0)
            cyclic_finish(L, corner, gamma);
    }
    for (size_t k = 0; k < na; k++)
        b[k] *= L->sc[base + k * st];
    return info;
}

/* I - tau L_a itself (LAPACK dgtsv), for lines whose V range is too wide
 * for the diagonal scaling. */
static lapack_int solve_line_gen(const line_solver *L, size_t base, double tau)
{
    size_t na = L->na, st = L->st;
    double *dl = L->dl, *dd = L->dd, *du = L->du, *b = L->b;
    for (size_t k = 0; k < na; k++) {
        size_t i = base + k * st;
        dd[k] = 1.0 + tau * (L->rp[i] + L->rm[i] + L->ra[i]);
        if (k + 1 < na) {
            dl[k] = -tau * L->rp[i];      /* A[k+1][k] */
            du[k] = -tau * L->rm[i + st]; /* A[k][k+1] */
        }
    }
    if (L->periodic && na == 2) {
        dl[0] = -tau * (L->rp[base] + L->rm[base]);
        du[0] = -tau * (L->rm[base + st] + L->rp[base + st]);
    }
    if (!L->cyclic)
        return LAPACKE_dgtsv_work(LAPACK_COL_MAJOR, (lapack_int)na, 1, dl, dd, du, b,
                                  (lapack_int)na);
    double beta = -tau * L->rp[base + (na - 1) * st]; /* A[0][na-1] */
    double alpha = -tau * L->rm[base];                /* A[na-1][0] */
    double gamma = cyclic_prepare(L, alpha, beta);
    lapack_int info =
        LAPACKE_dgtsv_work(LAPACK_COL_MAJOR, (lapack_int)na, 2, dl, dd, du, b, (lapack_int)na);
    if (info == 0)
        cyclic_finish(L, beta, gamma);
    return info;
}

/* x <- (I - tau L_a)^{-1} x on every line of axis a. */
static berg_status sweep_axis(berg_fp *fp, int a, double tau, double *x)
{
    const berg_space *s = &fp->space;
    size_t n = fp->n, na = s->n[a], st = s->stride[a], off = (size_t)a * n;
    if (na == 1 && s->bc[a] != BERG_DIRICHLET)
        return BERG_OK; /* no faces */
    line_solver L = {fp->rp + off, fp->rm + off, fp->ra + off, fp->sc + off, fp->isc + off,
                     fp->sym + off, na, st, s->bc[a] == BERG_PERIODIC,
                     s->bc[a] == BERG_PERIODIC && na >= 3, fp->ldl, fp->ld, fp->ldu, fp->lb};
    int conserve = (s->bc[a] != BERG_DIRICHLET);
    double *b = fp->lb;
    size_t block = na * st, nblocks = n / block;
    for (size_t o = 0; o < nblocks; o++) {
        for (size_t r = 0; r < st; r++) {
            size_t base = o * block + r;
            if (na == 1) { /* a single cell between two absorbing walls */
                x[base] /= 1.0 + tau * L.ra[base];
                continue;
            }
            double mass_in = 0.0;
            for (size_t k = 0; k < na; k++) {
                b[k] = x[base + k * st];
                mass_in += b[k];
            }
            lapack_int info = fp->lsym[off + base] ? solve_line_sym(&L, base, tau)
                                                   : solve_line_gen(&L, base, tau);
            if (info != 0)
                return berg__error(BERG_ERR_INTERNAL,
                                   "berg_fp_evolve: the tridiagonal solve failed (LAPACK info "
                                   "%d) on axis %d",
                                   (int)info, a);
            double f = 1.0;
            if (conserve) {
                /* the exact line solution conserves the line's mass */
                double m = 0.0;
                for (size_t k = 0; k < na; k++)
                    m += b[k];
                if (m > 0.0 && mass_in > 0.0)
                    f = mass_in / m;
            }
            for (size_t k = 0; k < na; k++)
                x[base + k * st] = b[k] * f;
        }
    }
    return BERG_OK;
}

/* out = Phi_{tau/m}^m in (out may be in) */
static berg_status lie_ie(berg_fp *fp, double tau, int m, const double *in, double *out)
{
    if (out != in)
        memcpy(out, in, fp->n * sizeof(double));
    berg_status st;
    for (int j = 0; j < m; j++)
        for (int a = 0; a < fp->space.ndim; a++)
            if ((st = sweep_axis(fp, a, tau / m, out)))
                return st;
    return BERG_OK;
}

static double l1(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs(a[i]);
    return s;
}

berg_status berg_fp_evolve(berg_fp *fp, double t, const double *in, double *out)
{
    static const char *fn = "berg_fp_evolve";
    berg_status st;
    if ((st = berg__check_ptr(fp, fn, "fp")) || (st = berg__check_ptr(out, fn, "out")) ||
        (st = berg__check_time(t, fn, "t")) || (st = berg__check_nonneg(in, fp->n, fn, "in")))
        return st;
    if (fp->fr)
        return berg__fp_fourier_evolve(fp, t, in, out, fn);
    size_t n = fp->n;
    fp->accepted = fp->rejected = 0;
    double *y = fp->y, **T = fp->T;
    const int K = fp->order;
    memcpy(y, in, n * sizeof(double));
    double mass0 = berg__sum(y, n);
    if (t == 0.0 || mass0 == 0.0) {
        memmove(out, in, n * sizeof(double));
        return BERG_OK;
    }
    /* first trial step (after Hairer, Norsett & Wanner's starting-step
     * rule): tol^{1/K} |y| / |L y|, at most t */
    double elapsed = 0.0, tau = t;
    apply_L(fp, y, fp->tmp, 0);
    double ly = l1(fp->tmp, n), ny = l1(y, n);
    if (ly > 0.0) {
        double guess = pow(fp->tol, 1.0 / K) * ny / ly;
        if (guess < tau)
            tau = guess;
    }
    const double tol = fp->tol;
    /* the equilibrium mass0 q (sum 1 times mass0) in tmp, for the stop below */
    double *eq = fp->tmp;
    if (!fp->absorbing) {
        for (size_t i = 0; i < n; i++)
            eq[i] = exp(-fp->V[i]);
        double z = berg__sum(eq, n);
        for (size_t i = 0; i < n; i++)
            eq[i] *= mass0 / z;
    }
    /* steps beyond this would overflow the matrices I - tau L */
    const double tau_max = 1e100 / fmax(fp->max_rate, 1e-300);
    while (elapsed < t) {
        if (tau > tau_max)
            tau = tau_max;
        double rest = t - elapsed;
        int last = 0;
        if (tau >= rest * (1.0 - 1e-12)) {
            tau = rest;
            last = 1;
        }
        for (int j = 1; j <= K; j++)
            if ((st = lie_ie(fp, tau, j, y, T[j - 1])))
                return st;
        /* Aitken-Neville over the harmonic sequence n_j = j (error expansion
         * in powers of tau): after column k, T[j] = T_{j+1,k+1}. The last
         * update is T_{KK} - T_{K,K-1} = (T_{K,K-1} - T_{K-1,K-1}) / (K - 1). */
        double err = 0.0;
        for (int k = 1; k < K; k++) {
            for (int j = K - 1; j >= k; j--) {
                double f = 1.0 / ((double)(j + 1) / (double)(j + 1 - k) - 1.0);
                double *a = T[j], *b = T[j - 1];
                if (k == K - 1 && j == K - 1)
                    for (size_t i = 0; i < n; i++) {
                        double d = (a[i] - b[i]) * f;
                        err += fabs(d);
                        a[i] += d;
                    }
                else
                    for (size_t i = 0; i < n; i++)
                        a[i] += (a[i] - b[i]) * f;
            }
        }
        double *res = T[K - 1];
        double scale = l1(y, n);
        err = (scale > 0.0) ? err / scale : 0.0;
        double allowed = tol;
        if (err <= allowed) {
            /* accept T_KK; clip what the extrapolation made negative */
            int clipped = 0;
            for (size_t i = 0; i < n; i++) {
                if (res[i] < 0.0) {
                    res[i] = 0.0;
                    clipped = 1;
                }
                y[i] = res[i];
            }
            if (!fp->absorbing) {
                double m = berg__sum(y, n);
                if (m > 0.0 && (clipped || m != mass0)) {
                    double f = mass0 / m;
                    for (size_t i = 0; i < n; i++)
                        y[i] *= f;
                }
            }
            elapsed = last ? t : elapsed + tau;
            fp->accepted++;
            /* at equilibrium to the tolerance: e^{tL} is a Markov operator
             * (an L1 contraction), so |y - mass0 q|_1 bounds the distance at
             * every later time (with absorbing walls |y|_1 bounds it); once
             * below tol/100 of the mass the result is the equilibrium (long
             * times in a few steps) */
            double dist = 0.0;
            for (size_t i = 0; i < n; i++)
                dist += fabs(y[i] - (fp->absorbing ? 0.0 : eq[i]));
            if (dist <= 1e-2 * tol * mass0) {
                for (size_t i = 0; i < n; i++)
                    y[i] = fp->absorbing ? 0.0 : eq[i];
                elapsed = t;
            }
        } else {
            fp->rejected++;
        }
        double fac = (err > 0.0) ? 0.9 * pow(allowed / err, 1.0 / K) : 4.0;
        if (fac > 4.0)
            fac = 4.0;
        if (fac < 0.2)
            fac = 0.2;
        tau *= fac;
        if ((tau < t * 1e-13 && tau * fp->max_rate < 1e-6) ||
            fp->accepted + fp->rejected > 10000000)
            return berg__error(BERG_ERR_NO_CONVERGENCE,
                               "%s: the step size fell to %g at time %g of %g (tolerance %g)", fn,
                               tau, elapsed, t, tol);
    }
    memcpy(out, y, n * sizeof(double));
    return BERG_OK;
}
