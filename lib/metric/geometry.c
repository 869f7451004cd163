/* Tangent space of densities: l2 and W2 gradients, and the W2 metric tensor
 * through the potential eta_hat solving div(p g^{-1} grad eta_hat) = eta
 * (seed eq 17-20) by preconditioned conjugate gradients. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "berg/metric.h"
#include "berg/propagator.h"
#include "metric/func_internal.h"

#define TANGENT_TOL 1e-10

berg_status berg_l2_gradient(const berg_space *space, const double *dF, double *out)
{
    static const char fn[] = "berg_l2_gradient";
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__check_finite(dF, space->size, fn, "dF")) ||
        (st = berg__check_ptr(out, fn, "out")))
        return st;
    return berg_space_project_tangent(space, dF, out);
}

berg_status berg_w2_gradient(const berg_space *space, const double *p, const double *dF,
                             double *out)
{
    static const char fn[] = "berg_w2_gradient";
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__func_density(space, p, fn, "p", NULL)) ||
        (st = berg__check_finite(dF, space->size, fn, "dF")) ||
        (st = berg__check_ptr(out, fn, "out")) || (st = berg__func_diagonal(space, fn)))
        return st;
    const size_t n = space->size;
    double *mob = berg__alloc(n * ((size_t)space->ndim + 1), sizeof(double), fn);
    if (!mob)
        return BERG_ERR_NOMEM;
    double *tmp = mob + n * (size_t)space->ndim;
    berg__face_mobility(space, p, 0.0, mob, tmp);
    berg__div_mobility(space, mob, dF, tmp);
    for (size_t i = 0; i < n; i++)
        out[i] = -tmp[i];
    berg__free(mob);
    return BERG_OK;
}

/* ---- the W2 metric handle ------------------------------------------- */

struct berg_w2_metric {
    berg_space space;
    double regularization;
    double rtol;
    size_t max_iter;
    berg_multiplier *poisson; /* symbol 1/|k|_g^2 on finite-difference k, 0 at k = 0 */
    double *mob;              /* ndim * size face mobilities */
    double *scale;            /* size: s^{-1/2}, s = regularized cell mobility */
    double *r, *z, *dir, *ad, *x; /* CG scratch */
};

static int inverse_laplacian_symbol(int ndim, const double *k, double *c, void *user_data)
{
    const berg_space *s = user_data;
    double q = 0.0;
    for (int a = 0; a < ndim; a++)
        q += s->ginv[a * ndim + a] * k[a] * k[a];
    *c = q > 0.0 ? 1.0 / q : 0.0;
    return 0;
}

/* mobilities of p into fresh arrays; refuses zero faces when the floor
 * delta * max p is 0 (delta = 0, or so small that the product underflows).
 * A face next to a cell where p = 0 has log-mean mobility L(0, b) = 0, so
 * an accepted density then has p > 0 in every cell (a grid of one cell has
 * no faces, but its p > 0 by normalization). */
static berg_status make_mobility(const berg_space *s, const double *p, double delta, double *mob,
                                 double *scale, const char *fn)
{
    double pmax = 0.0;
    for (size_t i = 0; i < s->size; i++)
        pmax = p[i] > pmax ? p[i] : pmax;
    double floor = delta * pmax;
    berg__face_mobility(s, p, floor, mob, scale);
    if (!(floor > 0.0)) {
        for (int a = 0; a < s->ndim; a++) {
            const double *m = mob + (size_t)a * s->size;
            int bad = 0;
            size_t where = 0;
            BERG__FOR_FACES(s, a, lo, hi, {
                if (!bad && !(m[lo] > 0.0)) {
                    bad = 1;
                    where = p[lo] > 0.0 ? hi : lo;
                }
            });
            if (bad)
                return berg__error(BERG_ERR_DOMAIN,
                                   "%s: p vanishes at index %zu, so the W2 operator "
                                   "div(p g^-1 grad) is degenerate there; pass a regularization "
                                   "> 0 (mobility + regularization * max p; that floor is %g)",
                                   fn, where, floor);
        }
    }
    /* cell mobility for the diagonal scaling of the preconditioner: p + floor
     * > 0 in every cell (floor > 0, or p > 0 everywhere as checked above) */
    for (size_t i = 0; i < s->size; i++)
        scale[i] = 1.0 / sqrt(p[i] + floor);
    return BERG_OK;
}

void berg_w2_metric_destroy(berg_w2_metric *m)
{
    if (!m)
        return;
    berg_multiplier_destroy(m->poisson);
    berg__free(m->mob);
    berg__free(m);
}

berg_status berg_w2_metric_create(berg_w2_metric **out, const berg_space *space, const double *p,
                                  double regularization, unsigned flags)
{
    static const char fn[] = "berg_w2_metric_create";
    berg_status st;
    if ((st = berg__check_ptr(out, fn, "out")) || (st = berg__space_check(space, fn)) ||
        (st = berg__func_density(space, p, fn, "p", NULL)) || (st = berg__func_diagonal(space, fn)))
        return st;
    if (!(regularization >= 0.0 && regularization < HUGE_VAL))
        return berg__error(BERG_ERR_DOMAIN, "%s: regularization = %g must be finite and >= 0", fn,
                           regularization);
    if (flags & ~(unsigned)BERG_PLAN_ESTIMATE)
        return berg__error(BERG_ERR_DOMAIN, "%s: unknown flag bits 0x%x", fn,
                           flags & ~(unsigned)BERG_PLAN_ESTIMATE);
    const size_t n = space->size, d = (size_t)space->ndim;
    if (n > (size_t)INT_MAX)
        return berg__error(BERG_ERR_SIZE,
                           "%s: %zu grid points exceed the %d that CBLAS can index", fn, n,
                           INT_MAX);
    berg_w2_metric *m = berg__alloc(1, sizeof *m, fn);
    if (!m)
        return BERG_ERR_NOMEM;
    memset(m, 0, sizeof *m);
    m->space = *space;
    m->regularization = regularization;
    m->rtol = 1e-10;
    m->max_iter = 1000;
    size_t total;
    if ((st = berg__mul_size(n, d + 6, &total, fn, "workspace"))) {
        berg__free(m);
        return st;
    }
    m->mob = berg__alloc(total, sizeof(double), fn);
    if (!m->mob) {
        berg__free(m);
        return BERG_ERR_NOMEM;
    }
    m->scale = m->mob + n * d;
    m->r = m->scale + n;
    m->z = m->r + n;
    m->dir = m->z + n;
    m->ad = m->dir + n;
    m->x = m->ad + n;
    if ((st = make_mobility(&m->space, p, regularization, m->mob, m->scale, fn))) {
        berg_w2_metric_destroy(m);
        return st;
    }
    /* the preconditioner's space: Dirichlet walls carry no flux in L_p, so
     * their axes use the cosine transform */
    berg_boundary bc[BERG_MAX_RANK];
    for (int a = 0; a < space->ndim; a++)
        bc[a] = space->bc[a] == BERG_DIRICHLET ? BERG_NEUMANN : space->bc[a];
    berg_space *ps = NULL;
    st = berg_space_create(&ps, space->ndim, space->n, space->lo, space->hi, bc, space->g);
    if (!st)
        st = berg_multiplier_create(&m->poisson, ps, inverse_laplacian_symbol, &m->space,
                                    flags | BERG_SYMBOL_FD);
    berg_space_destroy(ps);
    if (st) {
        berg_w2_metric_destroy(m);
        return st;
    }
    *out = m;
    return BERG_OK;
}

berg_status berg_w2_metric_set_density(berg_w2_metric *m, const double *p)
{
    static const char fn[] = "berg_w2_metric_set_density";
    berg_status st;
    if ((st = berg__check_ptr(m, fn, "m")) ||
        (st = berg__func_density(&m->space, p, fn, "p", NULL)))
        return st;
    const size_t n = m->space.size, d = (size_t)m->space.ndim;
    /* build into the CG scratch (n * (d + 1) doubles are not available
     * there), so validate on a separate buffer first */
    double *mob = berg__alloc(n * (d + 1), sizeof(double), fn);
    if (!mob)
        return BERG_ERR_NOMEM;
    if ((st = make_mobility(&m->space, p, m->regularization, mob, mob + n * d, fn))) {
        berg__free(mob);
        return st;
    }
    memcpy(m->mob, mob, sizeof(double) * n * (d + 1));
    berg__free(mob);
    return BERG_OK;
}

berg_status berg_w2_metric_set_tolerance(berg_w2_metric *m, double rtol)
{
    static const char fn[] = "berg_w2_metric_set_tolerance";
    berg_status st = berg__check_ptr(m, fn, "m");
    if (st)
        return st;
    if (!(rtol >= 1e-15 && rtol < 1.0))
        return berg__error(BERG_ERR_DOMAIN, "%s: rtol = %g must be in [1e-15, 1)", fn, rtol);
    m->rtol = rtol;
    return BERG_OK;
}

berg_status berg_w2_metric_set_max_iterations(berg_w2_metric *m, size_t max_iterations)
{
    static const char fn[] = "berg_w2_metric_set_max_iterations";
    berg_status st = berg__check_ptr(m, fn, "m");
    if (st)
        return st;
    if (max_iterations < 1)
        return berg__error(BERG_ERR_DOMAIN, "%s: max_iterations must be >= 1", fn);
    m->max_iter = max_iterations;
    return BERG_OK;
}

static void project_mean(double *v, size_t n)
{
    double mean = berg__sum(v, n) / (double)n;
    for (size_t i = 0; i < n; i++)
        v[i] -= mean;
}

/* z = P S K S r (P: zero mean, S: diagonal scaling, K: inverse Laplacian) */
static berg_status precondition(berg_w2_metric *m, const double *r, double *z)
{
    const size_t n = m->space.size;
    for (size_t i = 0; i < n; i++)
        z[i] = m->scale[i] * r[i];
    berg_status st = berg_multiplier_apply(m->poisson, z, z);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++)
        z[i] *= m->scale[i];
    project_mean(z, n);
    return BERG_OK;
}

/* tangent check of eta: |sum eta| <= tol sum |eta| */
static berg_status check_tangent(const berg_space *s, const double *eta, const char *fn,
                                 const char *name)
{
    berg_status st = berg__check_finite(eta, s->size, fn, name);
    if (st)
        return st;
    double sum = berg__sum(eta, s->size), abs_sum = cblas_dasum((int)s->size, eta, 1);
    if (!(fabs(sum) <= TANGENT_TOL * abs_sum))
        return berg__error(BERG_ERR_NOT_TANGENT,
                           "%s: %s integrates to %g (relative %g of its absolute integral > %g); a "
                           "tangent vector must integrate to zero (berg_space_project_tangent)",
                           fn, name, sum * s->weight, fabs(sum) / abs_sum, TANGENT_TOL);
    return BERG_OK;
}

/* solve -L x = -eta, i.e. L x = eta, into m->x; A = -L is SPD on zero mean */
static berg_status solve(berg_w2_metric *m, const double *eta, size_t *iterations,
                         double *residual, const char *fn)
{
    const berg_space *s = &m->space;
    const size_t n = s->size;
    const int ni = (int)n;
    double *r = m->r, *z = m->z, *dir = m->dir, *ad = m->ad, *x = m->x;
    /* b = -eta projected to zero mean exactly */
    for (size_t i = 0; i < n; i++)
        r[i] = -eta[i];
    project_mean(r, n);
    memset(x, 0, sizeof(double) * n);
    double bnorm = cblas_dnrm2(ni, r, 1);
    size_t it = 0;
    double res = 0.0;
    int early = 0; /* stopped before the cap: rtol met by the recursion, or breakdown */
    berg_status st;
    if (bnorm > 0.0) {
        if ((st = precondition(m, r, z)))
            return st;
        memcpy(dir, z, sizeof(double) * n);
        double rz = cblas_ddot(ni, r, 1, z, 1);
        res = 1.0;
        while (it < m->max_iter) {
            berg__div_mobility(s, m->mob, dir, ad);
            cblas_dscal(ni, -1.0, ad, 1);
            double dad = cblas_ddot(ni, dir, 1, ad, 1);
            if (!(dad > 0.0)) {
                early = 1;
                break;
            }
            double alpha = rz / dad;
            cblas_daxpy(ni, alpha, dir, 1, x, 1);
            cblas_daxpy(ni, -alpha, ad, 1, r, 1);
            it++;
            res = cblas_dnrm2(ni, r, 1) / bnorm;
            if (res <= m->rtol) {
                early = 1;
                break;
            }
            if ((st = precondition(m, r, z)))
                return st;
            double rz_new = cblas_ddot(ni, r, 1, z, 1);
            double beta = rz_new / rz;
            rz = rz_new;
            /* dir = z + beta dir */
            cblas_dscal(ni, beta, dir, 1);
            cblas_daxpy(ni, 1.0, z, 1, dir, 1);
        }
        /* the achieved residual, recomputed from x */
        berg__div_mobility(s, m->mob, x, ad);
        double e2 = 0.0, b2 = 0.0;
        double mean = berg__sum(eta, n) / (double)n;
        for (size_t i = 0; i < n; i++) {
            double b = eta[i] - mean, e = ad[i] - b;
            e2 += e * e;
            b2 += b * b;
        }
        res = sqrt(e2 / b2);
    }
    if (iterations)
        *iterations = it;
    if (residual)
        *residual = res;
    /* Stopping before the cap with the true residual above rtol means the
     * recursive residual reached rtol (or the curvature d.Ad lost its sign)
     * while the residual recomputed from x did not: that residual floors at
     * rounding (~4e-14 on a 48 x 40 grid), and a smaller rtol cannot be met. */
    if (!(res <= m->rtol) && early)
        return berg__error(BERG_ERR_NO_CONVERGENCE,
                           "%s: conjugate gradients stopped after %zu iterations (cap %zu) at a "
                           "relative residual of %.3g > tolerance %.3g: the residual recomputed "
                           "from the solution has reached the rounding floor of the operator; "
                           "raise the tolerance above it",
                           fn, it, m->max_iter, res, m->rtol);
    if (!(res <= m->rtol))
        return berg__error(BERG_ERR_NO_CONVERGENCE,
                           "%s: conjugate gradients reached a relative residual of %.3g after %zu "
                           "iterations, the cap (tolerance %.3g; raise the cap or the tolerance)",
                           fn, res, it, m->rtol);
    project_mean(x, n);
    return BERG_OK;
}

berg_status berg_w2_metric_potential(berg_w2_metric *m, const double *eta, double *eta_hat,
                                     size_t *iterations, double *residual)
{
    static const char fn[] = "berg_w2_metric_potential";
    berg_status st;
    if ((st = berg__check_ptr(m, fn, "m")) || (st = check_tangent(&m->space, eta, fn, "eta")) ||
        (st = berg__check_ptr(eta_hat, fn, "eta_hat")))
        return st;
    if ((st = solve(m, eta, iterations, residual, fn)))
        return st;
    memcpy(eta_hat, m->x, sizeof(double) * m->space.size);
    return BERG_OK;
}

berg_status berg_w2_metric_inner(berg_w2_metric *m, const double *eta1, const double *eta2,
                                 double *G, size_t *iterations, double *residual)
{
    static const char fn[] = "berg_w2_metric_inner";
    berg_status st;
    if ((st = berg__check_ptr(m, fn, "m")) || (st = check_tangent(&m->space, eta1, fn, "eta1")) ||
        (st = check_tangent(&m->space, eta2, fn, "eta2")) || (st = berg__check_ptr(G, fn, "G")))
        return st;
    if ((st = solve(m, eta2, iterations, residual, fn)))
        return st;
    double dot = cblas_ddot((int)m->space.size, eta1, 1, m->x, 1);
    *G = -m->space.weight * dot;
    return BERG_OK;
}

berg_status berg_w2_metric_tangent(berg_w2_metric *m, const double *eta_hat, double *eta)
{
    static const char fn[] = "berg_w2_metric_tangent";
    berg_status st;
    if ((st = berg__check_ptr(m, fn, "m")) ||
        (st = berg__check_finite(eta_hat, m->space.size, fn, "eta_hat")) ||
        (st = berg__check_ptr(eta, fn, "eta")))
        return st;
    berg__div_mobility(&m->space, m->mob, eta_hat, m->ad);
    memcpy(eta, m->ad, sizeof(double) * m->space.size);
    return BERG_OK;
}
