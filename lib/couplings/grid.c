/*
 * Couplings of a density on a grid of field values (a sample space whose
 * axes are the values of the ncells lattice sites): score matching with
 * the expectations taken by the grid, and the KL projection onto the
 * exponential family by moment matching (Newton iterations with the Fisher
 * metric), the independent second method.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "couplings/internal.h"
#include "core/linalg.h"
#include "space/internal.h"

/* the field at grid index j: phi_a = coordinate a of y_j */
static void grid_point(const berg_space *s, size_t j, double *phi)
{
    for (int a = 0; a < s->ndim; a++)
        phi[a] = berg__coord(s, a, (j / s->stride[a]) % s->n[a]);
}

/* common checks; q <- p / sum p (cell probabilities) */
static berg_status grid_setup(const berg_basis *basis, const berg_space *space, const double *p,
                              const double *lambda, double **q, const char *fn)
{
    BERG_TRY(berg__check_ptr(basis, fn, "basis"));
    BERG_TRY(berg__check_ptr(space, fn, "space"));
    BERG_TRY(berg__check_ptr(p, fn, "p"));
    BERG_TRY(berg__check_ptr(lambda, fn, "lambda"));
    BERG_REQUIRE(basis->k > 0, BERG_ERR_SIZE, "%s: basis has no operator", fn);
    BERG_REQUIRE((size_t)space->ndim == basis->ncells, BERG_ERR_MISMATCH,
                 "%s: space has rank %d but the basis's lattice has %zu sites (one axis of "
                 "space per site)", fn, space->ndim, basis->ncells);
    double mass = 0.0;
    BERG_TRY(berg__check_density(p, space->size, fn, "p", &mass));
    double *qq = berg__alloc(space->size, sizeof(double), fn);
    if (!qq)
        return berg_last_status();
    for (size_t j = 0; j < space->size; j++)
        qq[j] = p[j] / mass;
    *q = qq;
    return BERG_OK;
}

static berg_status grid_fail(const berg__eval_fail *fail, const double *phi, size_t ndim,
                             const char *fn)
{
    char where[160];
    int n = snprintf(where, sizeof where, "the field (");
    for (size_t a = 0; a < ndim && n > 0 && (size_t)n < sizeof where - 24; a++)
        n += snprintf(where + n, sizeof where - (size_t)n, a ? ", %g" : "%g", phi[a]);
    snprintf(where + n, sizeof where - (size_t)n, ") of space");
    if (fail->code == 3)
        return berg__error(BERG_ERR_DOMAIN,
                           "%s: operator %zu overflows at %s (the box of space is too wide for "
                           "the operators)", fn, fail->op, where);
    return berg__basis_fail(fail, fn, where);
}

/* ---- score matching on the grid ------------------------------------------ */

berg_status berg_couplings_grid_score_matching(const berg_basis *basis, const berg_space *space,
                                               const double *p, double *lambda)
{
    static const char fn[] = "berg_couplings_grid_score_matching";
    double *q = NULL;
    BERG_TRY(grid_setup(basis, space, p, lambda, &q, fn));
    const size_t k = basis->k, r = basis->ncells, n = space->size;
    berg_status st = BERG_OK;
    double *work = berg__alloc(4 * k * k + k * r + 8 * k + r, sizeof(double), fn);
    if (!work) {
        berg__free(q);
        return berg_last_status();
    }
    double *A = work, *Acomp = A + k * k, *L = Acomp + k * k, *g = L + k * k, *lap = g + k * r,
           *b = lap + k, *bcomp = b + k, *D = bcomp + k, *phi = D + k, *F = phi + r,
           *Fcomp = F + k, *lam = Fcomp + k;
    memset(work, 0, (4 * k * k + k * r + 8 * k + r) * sizeof(double));
    berg__eval_fail fail;
    for (size_t j = 0; j < n; j++) {
        if (q[j] == 0.0)
            continue;
        grid_point(space, j, phi);
        if (berg__basis_eval(basis, phi, NULL, g, lap, &fail)) {
            st = grid_fail(&fail, phi, r, fn);
            goto done;
        }
        for (size_t i = 0; i < k; i++) {
            berg__neumaier_add(&b[i], &bcomp[i], q[j] * lap[i]);
            for (size_t l = 0; l <= i; l++) {
                double s = 0.0;
                for (size_t x = 0; x < r; x++)
                    s += g[i * r + x] * g[l * r + x];
                berg__neumaier_add(&A[i * k + l], &Acomp[i * k + l], q[j] * s);
            }
        }
    }
    /* the flux of p grad L_i through the walls: on the wall hi_a (lo_a) of
     * axis a, sum over the face cells of p_face (+-dL_i/dphi_a) dS, with
     * p_face dS = q_face / h_a and q_face extrapolated (second order) from
     * the three cells next to the wall */
    for (int a = 0; a < space->ndim; a++) {
        const size_t na = space->n[a], sa = space->stride[a];
        for (size_t j = 0; j < n; j++) {
            if ((j / sa) % na != 0)
                continue;
            for (int side = 0; side < 2; side++) {
                size_t j0 = side ? j + (na - 1) * sa : j;
                ptrdiff_t step = side ? -(ptrdiff_t)sa : (ptrdiff_t)sa;
                double qf;
                if (na >= 3)
                    qf = (15.0 * q[j0] - 10.0 * q[(size_t)((ptrdiff_t)j0 + step)] +
                          3.0 * q[(size_t)((ptrdiff_t)j0 + 2 * step)]) / 8.0;
                else if (na == 2)
                    qf = (3.0 * q[j0] - q[(size_t)((ptrdiff_t)j0 + step)]) / 2.0;
                else
                    qf = q[j0];
                if (!(qf > 0.0))
                    continue;
                grid_point(space, j0, phi);
                phi[a] = side ? space->hi[a] : space->lo[a];
                if (berg__basis_eval(basis, phi, NULL, g, NULL, &fail)) {
                    st = grid_fail(&fail, phi, r, fn);
                    goto done;
                }
                const double sgn = side ? 1.0 : -1.0, f = qf / space->h[a];
                for (size_t i = 0; i < k; i++)
                    berg__neumaier_add(&F[i], &Fcomp[i], sgn * f * g[i * r + (size_t)a]);
            }
        }
    }
    for (size_t i = 0; i < k; i++) {
        lam[i] = (b[i] + bcomp[i]) - (F[i] + Fcomp[i]);
        for (size_t l = 0; l <= i; l++)
            A[l * k + i] = A[i * k + l] = A[i * k + l] + Acomp[i * k + l];
    }
    for (size_t e = 0; e < k * k; e++)
        if (!isfinite(A[e])) {
            st = berg__error(BERG_ERR_DOMAIN,
                             "%s: the score-matching sums overflow (the box of space is too "
                             "wide for the operators)", fn);
            goto done;
        }
    for (size_t i = 0; i < k; i++)
        if (!isfinite(lam[i])) {
            st = berg__error(BERG_ERR_DOMAIN,
                             "%s: the score-matching sums overflow (the box of space is too "
                             "wide for the operators)", fn);
            goto done;
        }
    BERG_TRY_GOTO(st, berg__couplings_factor(k, A, D, L, fn,
                                             "the score-matching matrix A = E[grad L_i . grad L_j] over p"),
                  done);
    BERG_TRY_GOTO(st, berg__couplings_solve(k, D, L, 1, lam, fn), done);
    for (size_t i = 0; i < k; i++)
        if (!isfinite(lam[i])) {
            st = berg__error(BERG_ERR_DOMAIN, "%s: coupling %zu overflows", fn, i);
            goto done;
        }
    memcpy(lambda, lam, k * sizeof(double));
done:
    berg__free(work);
    berg__free(q);
    return st;
}

/* ---- KL projection -------------------------------------------------------- */

/* the model q_lambda on the grid: f = lambda.mp + ln sum_j e^{-lambda.L_j}
 * (D_KL(p||q_lambda) up to a constant), its mean E[L] and, when C is not
 * NULL, its covariance. Returns 0, or 1 when lambda.L overflows. */
static int model(size_t k, size_t n, const double *Lv, const double *mp, const double *lam,
                 double *P, double *f, double *mean, double *C)
{
    double lmax = -HUGE_VAL;
    for (size_t j = 0; j < n; j++) {
        double l = 0.0;
        for (size_t i = 0; i < k; i++)
            l -= lam[i] * Lv[i * n + j];
        if (!isfinite(l))
            return 1;
        P[j] = l;
        if (l > lmax)
            lmax = l;
    }
    for (size_t j = 0; j < n; j++)
        P[j] = exp(P[j] - lmax);
    double Z = berg__sum(P, n);
    for (size_t j = 0; j < n; j++)
        P[j] /= Z;
    double fl = lmax + log(Z);
    for (size_t i = 0; i < k; i++)
        fl += lam[i] * mp[i];
    *f = fl;
    for (size_t i = 0; i < k; i++) {
        double s = 0.0, comp = 0.0;
        for (size_t j = 0; j < n; j++)
            berg__neumaier_add(&s, &comp, P[j] * Lv[i * n + j]);
        mean[i] = s + comp;
    }
    if (C)
        for (size_t i = 0; i < k; i++)
            for (size_t l = 0; l <= i; l++) {
                double s = 0.0, comp = 0.0;
                for (size_t j = 0; j < n; j++)
                    berg__neumaier_add(&s, &comp,
                                       P[j] * (Lv[i * n + j] - mean[i]) * (Lv[l * n + j] - mean[l]));
                C[i * k + l] = C[l * k + i] = s + comp;
            }
    return !isfinite(*f);
}

berg_status berg_couplings_kl_projection(const berg_basis *basis, const berg_space *space,
                                         double tolerance, size_t max_iterations,
                                         const double *p, double *lambda)
{
    static const char fn[] = "berg_couplings_kl_projection";
    BERG_TRY(berg__check_ptr(basis, fn, "basis"));
    BERG_TRY(berg__check_ptr(space, fn, "space"));
    BERG_REQUIRE(tolerance >= 1e-15 && tolerance <= 0.1, BERG_ERR_DOMAIN,
                 "%s: tolerance = %g is outside [1e-15, 0.1]", fn, tolerance);
    BERG_REQUIRE(max_iterations >= 1, BERG_ERR_SIZE, "%s: max_iterations is 0", fn);
    double *q = NULL;
    BERG_TRY(grid_setup(basis, space, p, lambda, &q, fn));
    const size_t k = basis->k, r = basis->ncells, n = space->size;
    berg_status st = BERG_OK;
    size_t nl;
    double *Lv = NULL, *P = NULL, *work = NULL;
    BERG_TRY_GOTO(st, berg__mul_size(k, n, &nl, fn, "k x grid size"), done);
    Lv = berg__alloc(nl, sizeof(double), fn);
    P = berg__alloc(n, sizeof(double), fn);
    work = berg__alloc(3 * k * k + 9 * k + r, sizeof(double), fn);
    if (!Lv || !P || !work) {
        st = berg_last_status();
        goto done;
    }
    double *C = work, *L = C + k * k, *Ct = L + k * k, *D = Ct + k * k, *mp = D + k,
           *mean = mp + k, *lam = mean + k, *dir = lam + k, *g = dir + k, *lt = g + k,
           *meant = lt + k, *vals = meant + k, *phi = vals + k;
    berg__eval_fail fail;
    for (size_t j = 0; j < n; j++) {
        grid_point(space, j, phi);
        if (berg__basis_eval(basis, phi, vals, NULL, NULL, &fail)) {
            st = grid_fail(&fail, phi, r, fn);
            goto done;
        }
        for (size_t i = 0; i < k; i++)
            Lv[i * n + j] = vals[i];
    }
    /* moments of p */
    for (size_t i = 0; i < k; i++) {
        double s = 0.0, comp = 0.0;
        for (size_t j = 0; j < n; j++)
            berg__neumaier_add(&s, &comp, q[j] * Lv[i * n + j]);
        mp[i] = s + comp;
        if (!isfinite(mp[i])) {
            st = berg__error(BERG_ERR_DOMAIN,
                             "%s: the moment E_p[L_%zu] overflows (the box of space is too wide "
                             "for the operators)", fn, i);
            goto done;
        }
        lam[i] = 0.0;
    }
    double f = 0.0, delta = HUGE_VAL;
    if (model(k, n, Lv, mp, lam, P, &f, mean, C)) {
        st = berg__error(BERG_ERR_DOMAIN, "%s: the uniform density's moments overflow", fn);
        goto done;
    }
    for (size_t it = 0;; it++) {
        for (size_t i = 0; i < k; i++)
            g[i] = mp[i] - mean[i];
        BERG_TRY_GOTO(st, berg__couplings_factor(k, C, D, L, fn,
                                                 "the Fisher metric Cov(L_i, L_j) of the model fitted to p"),
                      done);
        memcpy(dir, g, k * sizeof(double));
        BERG_TRY_GOTO(st, berg__couplings_solve(k, D, L, 1, dir, fn), done);
        double d2 = 0.0;
        for (size_t i = 0; i < k; i++)
            d2 += g[i] * dir[i];
        delta = sqrt(fmax(d2, 0.0));
        if (!isfinite(delta)) {
            st = berg__error(BERG_ERR_NO_CONVERGENCE,
                             "%s: the Newton decrement is not finite after %zu iterations", fn,
                             it);
            goto done;
        }
        if (delta <= tolerance)
            break;
        if (it == max_iterations) {
            st = berg__error(BERG_ERR_NO_CONVERGENCE,
                             "%s: the moment mismatch (Newton decrement) is %.3g after %zu "
                             "iterations, above the tolerance %.3g", fn, delta, it, tolerance);
            goto done;
        }
        /* lambda <- lambda - t I^{-1} g, backtracking while far */
        double t = 1.0, ft = 0.0;
        for (;;) {
            for (size_t i = 0; i < k; i++)
                lt[i] = lam[i] - t * dir[i];
            int bad = model(k, n, Lv, mp, lt, P, &ft, meant, Ct);
            if (!bad && (delta <= 0.1 || ft <= f - 0.25 * t * d2))
                break;
            t *= 0.5;
            if (t < 1e-12) {
                st = berg__error(BERG_ERR_NO_CONVERGENCE,
                                 "%s: the line search stalled at a moment mismatch (Newton "
                                 "decrement) of %.3g after %zu iterations", fn, delta, it);
                goto done;
            }
        }
        memcpy(lam, lt, k * sizeof(double));
        memcpy(mean, meant, k * sizeof(double));
        memcpy(C, Ct, k * k * sizeof(double));
        f = ft;
    }
    memcpy(lambda, lam, k * sizeof(double));
done:
    berg__free(Lv);
    berg__free(P);
    berg__free(work);
    berg__free(q);
    return st;
}
