/* The W2 metric tensor at a density, through the potential eta_hat solving
 * div(p g^{-1} grad eta_hat) = eta by preconditioned conjugate gradients
 * (the gradients of functionals are in gradients.c).
 *
 * A berg_w2_metric is immutable between configuration calls: the solves
 * read the mobilities, the settings and the preconditioner (a multiplier
 * applied through its thread-safe apply) and take their CG vectors from a
 * scratch pool, so one handle serves many threads. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "berg/heat.h"
#include "berg/w2_geometry.h"
#include "metric/func_internal.h"

#define TANGENT_TOL 1e-10

/* the CG vectors of one solve, one pool block of SCRATCH_VECTORS * size */
enum { CG_R, CG_Z, CG_DIR, CG_AD, CG_X, SCRATCH_VECTORS };

struct berg_w2_metric {
    berg_space space;
    double regularization;
    double rtol;
    size_t max_iter;
    berg_multiplier *poisson; /* symbol 1/|k|_g^2 on finite-difference k, 0 at k = 0 */
    double *mob;              /* ndim * size face mobilities, then size scale */
    double *scale;            /* size: s^{-1/2}, s = regularized cell mobility */
    berg__pool scratch;       /* CG vectors */
    berg_progress_fn progress; /* configuration: berg_w2_metric_set_progress */
    void *progress_data;
    size_t nthreads;          /* configuration: berg_w2_metric_set_threads (0: berg_threads()) */
};

/* ---- the operator on threads ---------------------------------------------
 * out = div(mob g^{-1} grad u), the result of berg__div_mobility (stencil.c)
 * computed cell by cell: each cell adds its faces' fluxes in the order the
 * face loop does (per axis: the lower face's -flux, then the upper face's
 * +flux; on a periodic axis the first cell gets its upper face before the
 * wrap-around face), so the values are those of berg__div_mobility,
 * bitwise, and contiguous ranges of cells run on threads independently. */
typedef struct op_job {
    const berg_space *s;
    const double *mob, *u;
    double *out;
} op_job;

static void op_range(void *ctx, size_t b, size_t e, size_t r)
{
    const op_job *job = ctx;
    const berg_space *s = job->s;
    const double *u = job->u;
    double *out = job->out;
    (void)r;
    for (size_t i = b; i < e; i++)
        out[i] = 0.0;
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        const double c = berg__axis_coef(s, a);
        const double *m = job->mob + a * s->size;
        const size_t st = s->stride[a], n = s->n[a];
        const int wrap = s->bc[a] == BERG_PERIODIC && n > 1;
        if (n == 1)
            continue; /* no faces */
        size_t rem = b % st, k = (b / st) % n; /* coordinate k of cell i on axis a */
        for (size_t i = b; i < e; i++) {
            double v = out[i];
            if (k > 0) {
                v -= c * m[i - st] * (u[i] - u[i - st]);
                if (k + 1 < n)
                    v += c * m[i] * (u[i + st] - u[i]);
                else if (wrap) /* the wrap-around face, lower cell i */
                    v += c * m[i] * (u[i - (n - 1) * st] - u[i]);
            } else {
                v += c * m[i] * (u[i + st] - u[i]);
                if (wrap) /* the wrap-around face, upper cell i */
                    v -= c * m[i + (n - 1) * st] * (u[i] - u[i + (n - 1) * st]);
            }
            out[i] = v;
            if (++rem == st) {
                rem = 0;
                if (++k == n)
                    k = 0;
            }
        }
    }
}

/* cells per thread below which the operator stays on one thread */
#define OP_GRAIN 16384

static void apply_operator(const berg_w2_metric *m, const double *u, double *out)
{
    op_job job = {&m->space, m->mob, u, out};
    size_t nt = berg__threads(m->nthreads);
    if (nt <= 1 || m->space.size < 2 * OP_GRAIN)
        op_range(&job, 0, m->space.size, 0);
    else
        berg__parallel_for(m->space.size, nt, OP_GRAIN, op_range, &job);
}

static int inverse_laplacian_symbol(size_t ndim, const double *k, double *c, void *user_data)
{
    const berg_space *s = user_data;
    const size_t d = ndim;
    double q = 0.0;
    for (size_t a = 0; a < d; a++)
        q += s->ginv[a * d + a] * k[a] * k[a];
    *c = q > 0.0 ? 1.0 / q : 0.0;
    return 0;
}

/* the first cell where a face of zero mobility touches p = 0, or size */
static size_t first_zero_face(const berg_space *s, const double *p, const double *mob)
{
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        const double *m = mob + a * s->size;
        size_t where = s->size;
        BERG__FOR_FACES(s, a, lo, hi, {
            if (where == s->size && !(m[lo] > 0.0))
                where = p[lo] > 0.0 ? hi : lo;
        });
        if (where < s->size)
            return where;
    }
    return s->size;
}

/* mobilities of p into mob and scale; refuses zero faces when the floor
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
        size_t where = first_zero_face(s, p, mob);
        BERG_REQUIRE(where == s->size, BERG_ERR_DOMAIN,
                     "%s: p[%zu] = 0, so the W2 operator div(p g^-1 grad) is degenerate "
                     "there; pass a regularization > 0 (mobility + regularization * max p; "
                     "that floor is %g)",
                     fn, where, floor);
    }
    /* cell mobility for the diagonal scaling of the preconditioner: p + floor
     * > 0 in every cell (floor > 0, or p > 0 everywhere as checked above) */
    for (size_t i = 0; i < s->size; i++)
        scale[i] = 1.0 / sqrt(p[i] + floor);
    return BERG_OK;
}

/* The operator's coefficients g^{aa} p / h_a^2 and its inverse's scale
 * h_a^2 / g^{aa} must lie well inside the double range for the CG sums
 * (RANGE leaves 1e8 of headroom): on extreme boxes (cell widths ~1e-100
 * or ~1e150) they do not, and the metric is refused here, naming the
 * quantity, instead of failing later with a NaN residual. */
#define RANGE 1e300
static berg_status check_operator_range(const berg_space *s, const double *p, const char *fn)
{
    double pmax = 0.0;
    for (size_t i = 0; i < s->size; i++)
        pmax = p[i] > pmax ? p[i] : pmax;
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        double h = s->h[a], c = s->ginv[a * BERG__RANK(s) + a] / h / h, top = c * pmax;
        BERG_REQUIRE(top < RANGE && top > 1.0 / RANGE && c < RANGE && c > 1.0 / RANGE,
                     BERG_ERR_DOMAIN,
                     "%s: on axis %zu the W2 operator's coefficient g^{aa} / h^2 = %g (cell "
                     "width h = %g; times max p: %g) is outside [1e-300, 1e300], where its "
                     "solves are computed; rescale the coordinates",
                     fn, a, c, h, top);
    }
    return BERG_OK;
}

/* the preconditioner: the inverse finite-difference Laplacian on the
 * space's grid, Dirichlet axes replaced by Neumann ones (L_p has no flux
 * through their walls, so they use the cosine transform) */
static berg_status make_poisson(berg_w2_metric *m, unsigned flags, const char *fn)
{
    const berg_space *space = &m->space;
    berg_boundary bc[BERG_MAX_RANK];
    for (size_t a = 0; a < BERG__RANK(space); a++)
        bc[a] = space->bc[a] == BERG_DIRICHLET ? BERG_NEUMANN : space->bc[a];
    berg_space *ps = NULL;
    berg_status st = berg_space_create(&ps, space->ndim, space->n, space->lo, space->hi, bc,
                                       space->g);
    if (st == BERG_OK)
        st = berg_multiplier_create(&m->poisson, ps, flags | BERG_SYMBOL_FD,
                                    inverse_laplacian_symbol, &m->space);
    berg_space_destroy(ps);
    if (st != BERG_OK)
        return berg__prefix_last_error(st, fn, "preconditioner");
    return BERG_OK;
}

void berg_w2_metric_destroy(berg_w2_metric *m)
{
    if (!m)
        return;
    berg_multiplier_destroy(m->poisson);
    berg__pool_free(&m->scratch);
    berg__free(m->mob);
    berg__free(m);
}

berg_status berg_w2_metric_create(berg_w2_metric **out, const berg_space *space,
                                  double regularization, const double *p, unsigned flags)
{
    static const char fn[] = "berg_w2_metric_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_normalized(space, p, fn, "p"));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    BERG_REQUIRE(regularization >= 0.0 && regularization < HUGE_VAL, BERG_ERR_DOMAIN,
                 "%s: regularization = %g must be finite and >= 0", fn, regularization);
    BERG_TRY(berg__check_flags(flags, BERG_PLAN_ESTIMATE, fn));
    BERG_TRY(check_operator_range(space, p, fn));
    const size_t n = space->size, d = BERG__RANK(space);
    BERG_REQUIRE(n <= (size_t)INT_MAX, BERG_ERR_SIZE,
                 "%s: %zu grid points exceed the %d that CBLAS can index", fn, n, INT_MAX);
    size_t total;
    BERG_TRY(berg__mul_size(n, d + 1, &total, fn, "mobilities"));
    berg_status st;
    berg_w2_metric *m = berg__alloc(1, sizeof *m, fn);
    if (!m)
        return berg_last_status();
    memset(m, 0, sizeof *m);
    m->space = *space;
    m->regularization = regularization;
    m->rtol = 1e-10;
    m->max_iter = 1000;
    m->mob = berg__alloc(total, sizeof(double), fn);
    if (!m->mob) {
        st = berg_last_status();
        goto fail;
    }
    m->scale = m->mob + n * d;
    BERG_TRY_GOTO(st, make_mobility(&m->space, p, regularization, m->mob, m->scale, fn), fail);
    BERG_TRY_GOTO(st, berg__pool_init(&m->scratch, SCRATCH_VECTORS * n, sizeof(double), fn), fail);
    BERG_TRY_GOTO(st, make_poisson(m, flags, fn), fail);
    *out = m;
    return BERG_OK;
fail:
    berg_w2_metric_destroy(m);
    return st;
}

berg_status berg_w2_metric_set_density(berg_w2_metric *m, const double *p)
{
    static const char fn[] = "berg_w2_metric_set_density";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(berg__check_normalized(&m->space, p, fn, "p"));
    BERG_TRY(check_operator_range(&m->space, p, fn));
    const size_t n = m->space.size, d = BERG__RANK(&m->space);
    /* build on a separate buffer: on failure the handle keeps its density */
    berg_status st;
    double *mob = berg__alloc(n * (d + 1), sizeof(double), fn);
    if (!mob)
        return berg_last_status();
    BERG_TRY_GOTO(st, make_mobility(&m->space, p, m->regularization, mob, mob + n * d, fn), fail);
    memcpy(m->mob, mob, sizeof(double) * n * (d + 1));
fail:
    berg__free(mob);
    return st;
}

berg_status berg_w2_metric_set_tolerance(berg_w2_metric *m, double rtol)
{
    static const char fn[] = "berg_w2_metric_set_tolerance";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_REQUIRE(rtol >= 1e-15 && rtol < 1.0, BERG_ERR_DOMAIN,
                 "%s: rtol = %g must be in [1e-15, 1)", fn, rtol);
    m->rtol = rtol;
    return BERG_OK;
}

berg_status berg_w2_metric_set_max_iterations(berg_w2_metric *m, size_t max_iterations)
{
    static const char fn[] = "berg_w2_metric_set_max_iterations";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_REQUIRE(max_iterations >= 1, BERG_ERR_DOMAIN, "%s: max_iterations must be >= 1", fn);
    m->max_iter = max_iterations;
    return BERG_OK;
}

berg_status berg_w2_metric_set_progress(berg_w2_metric *m, berg_progress_fn progress,
                                        void *user_data)
{
    static const char fn[] = "berg_w2_metric_set_progress";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    m->progress = progress;
    m->progress_data = progress ? user_data : NULL;
    return BERG_OK;
}

berg_status berg_w2_metric_set_threads(berg_w2_metric *m, size_t nthreads)
{
    static const char fn[] = "berg_w2_metric_set_threads";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_REQUIRE(nthreads <= BERG__THREADS_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads is %zu, not in [0, %d] (0: follow berg_set_threads)", fn,
                 nthreads, BERG__THREADS_MAX);
    m->nthreads = nthreads;
    return BERG_OK;
}

static void project_mean(double *v, size_t n)
{
    double mean = berg__sum(v, n) / (double)n;
    for (size_t i = 0; i < n; i++)
        v[i] -= mean;
}

/* z = P S K S r (P: zero mean, S: diagonal scaling, K: inverse Laplacian) */
static berg_status precondition(const berg_w2_metric *m, const double *r, double *z,
                                const char *fn)
{
    const size_t n = m->space.size;
    for (size_t i = 0; i < n; i++)
        z[i] = m->scale[i] * r[i];
    berg_status st = berg_multiplier_apply(m->poisson, z, z);
    if (st != BERG_OK)
        return berg__prefix_last_error(st, fn, "preconditioner");
    for (size_t i = 0; i < n; i++)
        z[i] *= m->scale[i];
    project_mean(z, n);
    return BERG_OK;
}

/* tangent check of eta: finite and |sum eta| <= tol sum |eta| */
static berg_status check_tangent(const berg_space *s, const double *eta, const char *fn,
                                 const char *name)
{
    BERG_TRY(berg__check_finite(eta, s->size, fn, name));
    double sum = berg__sum(eta, s->size), abs_sum = cblas_dasum((int)s->size, eta, 1);
    BERG_REQUIRE(fabs(sum) <= TANGENT_TOL * abs_sum, BERG_ERR_NOT_TANGENT,
                 "%s: %s integrates to %g (relative %g of its absolute integral > %g); a "
                 "tangent vector must integrate to zero (berg_space_project_tangent)",
                 fn, name, sum * s->weight, fabs(sum) / abs_sum, TANGENT_TOL);
    return BERG_OK;
}

/* the relative residual ||L x - b|| / ||b|| recomputed from x, b = eta
 * projected to zero mean; ad is scratch */
static double true_residual(const berg_w2_metric *m, const double *eta, const double *x,
                            double *ad)
{
    const size_t n = m->space.size;
    apply_operator(m, x, ad);
    double e2 = 0.0, b2 = 0.0;
    double mean = berg__sum(eta, n) / (double)n;
    for (size_t i = 0; i < n; i++) {
        double b = eta[i] - mean, e = ad[i] - b;
        e2 += e * e;
        b2 += b * b;
    }
    return sqrt(e2 / b2);
}

/* Solve -L x = -eta (i.e. L x = eta; A = -L is SPD on zero mean) into
 * w[CG_X] of the scratch block w. *early is set when CG stopped before the
 * cap (tolerance met by the recursion, or breakdown). */
static berg_status cg(const berg_w2_metric *m, const double *eta, double *w, size_t *iterations,
                      double *residual, int *early, berg__progress *pr, const char *fn)
{
    const berg_space *s = &m->space;
    const size_t n = s->size;
    const int ni = (int)n;
    double *r = w + CG_R * n, *z = w + CG_Z * n, *dir = w + CG_DIR * n, *ad = w + CG_AD * n,
           *x = w + CG_X * n;
    /* b = -eta projected to zero mean exactly */
    for (size_t i = 0; i < n; i++)
        r[i] = -eta[i];
    project_mean(r, n);
    memset(x, 0, sizeof(double) * n);
    double bnorm = cblas_dnrm2(ni, r, 1);
    *iterations = 0;
    *residual = 0.0;
    *early = 0;
    if (!(bnorm > 0.0))
        return BERG_OK;
    BERG_TRY(precondition(m, r, z, fn));
    memcpy(dir, z, sizeof(double) * n);
    double rz = cblas_ddot(ni, r, 1, z, 1), rel = NAN;
    size_t it = 0;
    while (it < m->max_iter) {
        /* the relative residual falls from 1 towards rtol */
        BERG_TRY(berg__progress_report(
            pr, 0, berg__progress_fraction(it, m->max_iter, 1.0, rel, m->rtol), it, rel, fn));
        apply_operator(m, dir, ad);
        cblas_dscal(ni, -1.0, ad, 1);
        double dad = cblas_ddot(ni, dir, 1, ad, 1);
        if (!(dad > 0.0)) {
            *early = 1;
            break;
        }
        double alpha = rz / dad;
        cblas_daxpy(ni, alpha, dir, 1, x, 1);
        cblas_daxpy(ni, -alpha, ad, 1, r, 1);
        it++;
        rel = cblas_dnrm2(ni, r, 1) / bnorm;
        if (rel <= m->rtol) {
            *early = 1;
            break;
        }
        BERG_TRY(precondition(m, r, z, fn));
        double rz_new = cblas_ddot(ni, r, 1, z, 1);
        double beta = rz_new / rz;
        rz = rz_new;
        /* dir = z + beta dir */
        cblas_dscal(ni, beta, dir, 1);
        cblas_daxpy(ni, 1.0, z, 1, dir, 1);
    }
    *iterations = it;
    *residual = true_residual(m, eta, x, ad);
    return BERG_OK;
}

/* solve L x = eta into w[CG_X], reporting iterations and residual (either
 * may be NULL) also on failure */
static berg_status solve(const berg_w2_metric *m, const double *eta, double *w,
                         size_t *iterations, double *residual, const char *fn)
{
    size_t it = 0;
    double res = 0.0;
    int early = 0;
    berg__progress pr;
    berg__progress_start(&pr, m->progress, m->progress_data);
    berg_status st = cg(m, eta, w, &it, &res, &early, &pr, fn);
    if (st == BERG_OK) /* the last call, before any output is written */
        st = berg__progress_report(&pr, 1, 1.0, it, res, fn);
    if (st == BERG_ERR_CANCELLED)
        return st;
    if (iterations)
        *iterations = it;
    if (residual)
        *residual = res;
    BERG_TRY(st);
    /* Stopping before the cap with the true residual above rtol means the
     * recursive residual reached rtol (or the curvature d.Ad lost its sign)
     * while the residual recomputed from x did not: that residual floors at
     * rounding, and a smaller rtol cannot be met. */
    BERG_REQUIRE(res <= m->rtol || !early, BERG_ERR_NO_CONVERGENCE,
                 "%s: conjugate gradients stopped after %zu iterations (cap %zu) at a "
                 "relative residual of %.3g > tolerance %.3g: the residual recomputed "
                 "from the solution has reached the rounding floor of the operator; "
                 "raise the tolerance above it",
                 fn, it, m->max_iter, res, m->rtol);
    BERG_REQUIRE(res <= m->rtol, BERG_ERR_NO_CONVERGENCE,
                 "%s: conjugate gradients reached a relative residual of %.3g after %zu "
                 "iterations, the cap (tolerance %.3g; raise the cap or the tolerance)",
                 fn, res, it, m->rtol);
    project_mean(w + CG_X * m->space.size, m->space.size);
    return BERG_OK;
}

berg_status berg_w2_metric_potential(const berg_w2_metric *m, const double *eta, double *eta_hat,
                                     size_t *iterations, double *residual)
{
    static const char fn[] = "berg_w2_metric_potential";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(check_tangent(&m->space, eta, fn, "eta"));
    BERG_TRY(berg__check_ptr(eta_hat, fn, "eta_hat"));
    berg__pool *pool = (berg__pool *)&m->scratch; /* the pool locks itself */
    double *w = berg__pool_get(pool, fn);
    if (!w)
        return berg_last_status();
    berg_status st = solve(m, eta, w, iterations, residual, fn);
    if (st == BERG_OK)
        memcpy(eta_hat, w + CG_X * m->space.size, sizeof(double) * m->space.size);
    berg__pool_put(pool, w);
    return st;
}

berg_status berg_w2_metric_inner(const berg_w2_metric *m, const double *eta1, const double *eta2,
                                 double *G, size_t *iterations, double *residual)
{
    static const char fn[] = "berg_w2_metric_inner";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(check_tangent(&m->space, eta1, fn, "eta1"));
    BERG_TRY(check_tangent(&m->space, eta2, fn, "eta2"));
    BERG_TRY(berg__check_ptr(G, fn, "G"));
    berg__pool *pool = (berg__pool *)&m->scratch; /* the pool locks itself */
    double *w = berg__pool_get(pool, fn);
    if (!w)
        return berg_last_status();
    berg_status st = solve(m, eta2, w, iterations, residual, fn);
    if (st == BERG_OK) {
        double dot = cblas_ddot((int)m->space.size, eta1, 1, w + CG_X * m->space.size, 1);
        *G = -m->space.weight * dot;
    }
    berg__pool_put(pool, w);
    return st;
}

berg_status berg_w2_metric_tangent(const berg_w2_metric *m, const double *eta_hat, double *eta)
{
    static const char fn[] = "berg_w2_metric_tangent";
    BERG_TRY(berg__check_ptr(m, fn, "m"));
    BERG_TRY(berg__check_finite(eta_hat, m->space.size, fn, "eta_hat"));
    BERG_TRY(berg__check_ptr(eta, fn, "eta"));
    berg__pool *pool = (berg__pool *)&m->scratch; /* the pool locks itself */
    double *w = berg__pool_get(pool, fn);
    if (!w)
        return berg_last_status();
    apply_operator(m, eta_hat, w);
    memcpy(eta, w, sizeof(double) * m->space.size);
    berg__pool_put(pool, w);
    return BERG_OK;
}
