/* Information functionals of densities on the grid and their first
 * variations (seed eq 14-24). Integrals are w * cell sums, accumulated with
 * Neumaier compensation; stencils are in stencil.c. */
#include <math.h>
#include <string.h>

#include "berg/metric.h"
#include "metric/func_internal.h"

double berg_density_mass_tolerance(void)
{
    return BERG__MASS_TOL;
}

/* common prologue: space, one density */
static berg_status check1(const berg_space *space, const double *p, const void *out,
                          const char *fn, const char *out_name)
{
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__func_density(space, p, fn, "p", NULL)) ||
        (st = berg__check_ptr(out, fn, out_name)))
        return st;
    return BERG_OK;
}

static berg_status check2(const berg_space *space, const double *p, const double *q,
                          const void *out, const char *fn, const char *out_name)
{
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__func_density(space, p, fn, "p", NULL)) ||
        (st = berg__func_density(space, q, fn, "q", NULL)) ||
        (st = berg__check_ptr(out, fn, out_name)))
        return st;
    return BERG_OK;
}

static berg_status checkV(const berg_space *space, const double *p, const double *V,
                          const void *out, const char *fn, const char *out_name)
{
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__func_density(space, p, fn, "p", NULL)) ||
        (st = berg__check_finite(V, space->size, fn, "V")) ||
        (st = berg__check_ptr(out, fn, out_name)))
        return st;
    return BERG_OK;
}

/* ---- values --------------------------------------------------------- */

berg_status berg_entropy(const berg_space *space, const double *p, double *S)
{
    static const char fn[] = "berg_entropy";
    berg_status st = check1(space, p, S, fn, "S");
    if (st)
        return st;
    double sum;
    BERG__BLOCK_SUM(space->size, i, p[i] > 0.0 ? p[i] * log(p[i]) : 0.0, sum);
    *S = -space->weight * sum;
    return BERG_OK;
}

/* sum over the support of p of p (ln p - ln q) (with_p) or -p ln q; +inf
 * when q vanishes on the support of p */
static double kl_sum(const berg_space *s, const double *p, const double *q, int with_p)
{
    for (size_t i = 0; i < s->size; i++)
        if (p[i] > 0.0 && q[i] == 0.0)
            return HUGE_VAL;
    double sum;
    if (with_p)
        BERG__BLOCK_SUM(s->size, i, p[i] > 0.0 ? p[i] * (log(p[i]) - log(q[i])) : 0.0, sum);
    else
        BERG__BLOCK_SUM(s->size, i, p[i] > 0.0 ? -p[i] * log(q[i]) : 0.0, sum);
    return s->weight * sum;
}

berg_status berg_kl_divergence(const berg_space *space, const double *p, const double *q,
                               double *D)
{
    berg_status st = check2(space, p, q, D, "berg_kl_divergence", "D");
    if (st)
        return st;
    double d = kl_sum(space, p, q, 1);
    /* Gibbs: KL >= 0; only rounding can make it negative */
    *D = d < 0.0 ? 0.0 : d;
    return BERG_OK;
}

berg_status berg_cross_entropy(const berg_space *space, const double *p, const double *q,
                               double *H)
{
    berg_status st = check2(space, p, q, H, "berg_cross_entropy", "H");
    if (st)
        return st;
    *H = kl_sum(space, p, q, 0);
    return BERG_OK;
}

berg_status berg_potential_energy(const berg_space *space, const double *p, const double *V,
                                  double *E)
{
    berg_status st = checkV(space, p, V, E, "berg_potential_energy", "E");
    if (st)
        return st;
    double sum;
    BERG__BLOCK_SUM(space->size, i, p[i] * V[i], sum);
    *E = space->weight * sum;
    return BERG_OK;
}

berg_status berg_free_energy(const berg_space *space, const double *p, const double *V, double *F)
{
    berg_status st = checkV(space, p, V, F, "berg_free_energy", "F");
    if (st)
        return st;
    double sum;
    BERG__BLOCK_SUM(space->size, i, p[i] > 0.0 ? p[i] * (V[i] + log(p[i])) : 0.0, sum);
    *F = space->weight * sum;
    return BERG_OK;
}

berg_status berg_dirichlet_energy(const berg_space *space, const double *p, double *E)
{
    static const char fn[] = "berg_dirichlet_energy";
    berg_status st = check1(space, p, E, fn, "E");
    if (st || (st = berg__func_diagonal(space, fn)))
        return st;
    berg__acc acc = {0.0, 0.0};
    for (int a = 0; a < space->ndim; a++) {
        const double c = berg__axis_coef(space, a);
        BERG__FOR_FACES(space, a, lo, hi, {
            double d = p[hi] - p[lo];
            berg__acc_add(&acc, c * d * d);
        });
        if (space->bc[a] == BERG_DIRICHLET) {
            const size_t sa = space->stride[a], n = space->n[a], outer = space->size / (n * sa);
            for (size_t o = 0; o < outer; o++)
                for (size_t j = 0; j < sa; j++) {
                    size_t first = o * n * sa + j, last = first + (n - 1) * sa;
                    berg__acc_add(&acc, 2.0 * c * (p[first] * p[first] + p[last] * p[last]));
                }
        }
    }
    *E = 0.5 * space->weight * berg__acc_value(&acc);
    return BERG_OK;
}

berg_status berg_fisher_information(const berg_space *space, const double *p, double *J)
{
    static const char fn[] = "berg_fisher_information";
    berg_status st = check1(space, p, J, fn, "J");
    if (st || (st = berg__func_diagonal(space, fn)))
        return st;
    const size_t n = space->size;
    double *lg = berg__alloc(2 * n, sizeof(double), fn);
    if (!lg)
        return BERG_ERR_NOMEM;
    double *t = lg + n; /* per-cell sums of the faces above each cell */
    for (size_t i = 0; i < n; i++)
        lg[i] = p[i] > 0.0 ? log(p[i]) : 0.0;
    memset(t, 0, sizeof(double) * n);
    int infinite = 0;
    for (int a = 0; a < space->ndim; a++) {
        const double c = berg__axis_coef(space, a);
        BERG__FOR_FACES(space, a, lo, hi, {
            double x = p[lo], y = p[hi];
            if (x > 0.0 && y > 0.0)
                t[lo] += c * (y - x) * (lg[hi] - lg[lo]);
            else if (x != y)
                infinite = 1;
        });
    }
    *J = infinite ? HUGE_VAL : space->weight * berg__sum(t, n);
    berg__free(lg);
    return BERG_OK;
}

berg_status berg_relative_fisher_information(const berg_space *space, const double *p,
                                             const double *q, double *info)
{
    static const char fn[] = "berg_relative_fisher_information";
    berg_status st = check2(space, p, q, info, fn, "info");
    if (st || (st = berg__func_diagonal(space, fn)) ||
        (st = berg__func_positive(q, space->size, fn, "q")))
        return st;
    const size_t n = space->size;
    double *lg = berg__alloc(3 * n, sizeof(double), fn);
    if (!lg)
        return BERG_ERR_NOMEM;
    double *u = lg + n, *t = u + n;
    for (size_t i = 0; i < n; i++) {
        lg[i] = p[i] > 0.0 ? log(p[i]) : 0.0;
        u[i] = lg[i] - log(q[i]);
    }
    memset(t, 0, sizeof(double) * n);
    int infinite = 0;
    for (int a = 0; a < space->ndim; a++) {
        const double c = berg__axis_coef(space, a);
        BERG__FOR_FACES(space, a, lo, hi, {
            double x = p[lo], y = p[hi];
            if (x > 0.0 && y > 0.0) {
                double du = u[hi] - u[lo];
                t[lo] += c * berg__log_mean_l(x, y, lg[lo], lg[hi]) * du * du;
            } else if (x != y) {
                infinite = 1;
            }
        });
    }
    *info = infinite ? HUGE_VAL : space->weight * berg__sum(t, n);
    berg__free(lg);
    return BERG_OK;
}

/* ---- first variations ------------------------------------------------ */

berg_status berg_entropy_derivative(const berg_space *space, const double *p, double *out)
{
    static const char fn[] = "berg_entropy_derivative";
    berg_status st = check1(space, p, out, fn, "out");
    if (st || (st = berg__func_positive(p, space->size, fn, "p")))
        return st;
    for (size_t i = 0; i < space->size; i++)
        out[i] = -log(p[i]) - 1.0;
    return BERG_OK;
}

berg_status berg_kl_derivative(const berg_space *space, const double *p, const double *q,
                               double *out)
{
    static const char fn[] = "berg_kl_derivative";
    berg_status st = check2(space, p, q, out, fn, "out");
    if (st || (st = berg__func_positive(p, space->size, fn, "p")) ||
        (st = berg__func_positive(q, space->size, fn, "q")))
        return st;
    for (size_t i = 0; i < space->size; i++)
        out[i] = log(p[i]) - log(q[i]) + 1.0;
    return BERG_OK;
}

berg_status berg_cross_entropy_derivative(const berg_space *space, const double *p,
                                          const double *q, double *out)
{
    static const char fn[] = "berg_cross_entropy_derivative";
    berg_status st = check2(space, p, q, out, fn, "out");
    if (st || (st = berg__func_positive(q, space->size, fn, "q")))
        return st;
    for (size_t i = 0; i < space->size; i++)
        out[i] = -log(q[i]);
    return BERG_OK;
}

berg_status berg_potential_energy_derivative(const berg_space *space, const double *p,
                                             const double *V, double *out)
{
    berg_status st = checkV(space, p, V, out, "berg_potential_energy_derivative", "out");
    if (st)
        return st;
    if (out != V)
        memmove(out, V, sizeof(double) * space->size);
    return BERG_OK;
}

berg_status berg_free_energy_derivative(const berg_space *space, const double *p, const double *V,
                                        double *out)
{
    static const char fn[] = "berg_free_energy_derivative";
    berg_status st = checkV(space, p, V, out, fn, "out");
    if (st || (st = berg__func_positive(p, space->size, fn, "p")))
        return st;
    for (size_t i = 0; i < space->size; i++)
        out[i] = V[i] + log(p[i]) + 1.0;
    return BERG_OK;
}

berg_status berg_discrete_laplacian(const berg_space *space, const double *f, double *out)
{
    static const char fn[] = "berg_discrete_laplacian";
    berg_status st;
    if ((st = berg__space_check(space, fn)) || (st = berg__check_finite(f, space->size, fn, "f")) ||
        (st = berg__check_ptr(out, fn, "out")) || (st = berg__func_diagonal(space, fn)))
        return st;
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return BERG_ERR_NOMEM;
    berg__laplacian(space, f, tmp);
    memcpy(out, tmp, sizeof(double) * space->size);
    berg__free(tmp);
    return BERG_OK;
}

berg_status berg_dirichlet_energy_derivative(const berg_space *space, const double *p,
                                             double *out)
{
    static const char fn[] = "berg_dirichlet_energy_derivative";
    berg_status st = check1(space, p, out, fn, "out");
    if (st || (st = berg__func_diagonal(space, fn)))
        return st;
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return BERG_ERR_NOMEM;
    berg__laplacian(space, p, tmp);
    for (size_t i = 0; i < space->size; i++)
        out[i] = -tmp[i];
    berg__free(tmp);
    return BERG_OK;
}

berg_status berg_fisher_information_derivative(const berg_space *space, const double *p,
                                               double *out)
{
    static const char fn[] = "berg_fisher_information_derivative";
    berg_status st = check1(space, p, out, fn, "out");
    if (st || (st = berg__func_diagonal(space, fn)) ||
        (st = berg__func_positive(p, space->size, fn, "p")))
        return st;
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return BERG_ERR_NOMEM;
    memset(tmp, 0, sizeof(double) * space->size);
    /* d/dp_i of (p_j - p_i)(ln p_j - ln p_i) = (ln p_i - ln p_j) + (p_i - p_j) / p_i */
    for (int a = 0; a < space->ndim; a++) {
        const double c = berg__axis_coef(space, a);
        BERG__FOR_FACES(space, a, lo, hi, {
            double x = p[lo], y = p[hi];
            double dl = log(x) - log(y);
            tmp[lo] += c * (dl + (x - y) / x);
            tmp[hi] += c * (-dl + (y - x) / y);
        });
    }
    memcpy(out, tmp, sizeof(double) * space->size);
    berg__free(tmp);
    return BERG_OK;
}

/* d theta(a, b) / d a for the log mean, as a function of L = ln a - ln b:
 * (L - 1 + e^{-L}) / L^2 (1/2 at L = 0) */
static double log_mean_slope(double L)
{
    if (fabs(L) < 1e-4)
        return 0.5 - L / 6.0 + L * L / 24.0;
    return (expm1(-L) + L) / (L * L);
}

berg_status berg_relative_fisher_information_derivative(const berg_space *space,
                                                        const double *p, const double *q,
                                                        double *out)
{
    static const char fn[] = "berg_relative_fisher_information_derivative";
    berg_status st = check2(space, p, q, out, fn, "out");
    if (st || (st = berg__func_diagonal(space, fn)) ||
        (st = berg__func_positive(p, space->size, fn, "p")) ||
        (st = berg__func_positive(q, space->size, fn, "q")))
        return st;
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return BERG_ERR_NOMEM;
    memset(tmp, 0, sizeof(double) * space->size);
    /* face term c theta(x, y) du^2, du = u_hi - u_lo, u = ln p - ln q */
    for (int a = 0; a < space->ndim; a++) {
        const double c = berg__axis_coef(space, a);
        BERG__FOR_FACES(space, a, lo, hi, {
            double x = p[lo], y = p[hi];
            double lx = log(x), ly = log(y);
            double du = (ly - log(q[hi])) - (lx - log(q[lo]));
            double th = berg__log_mean(x, y), L = lx - ly;
            tmp[lo] += c * (log_mean_slope(L) * du * du - 2.0 * th * du / x);
            tmp[hi] += c * (log_mean_slope(-L) * du * du + 2.0 * th * du / y);
        });
    }
    for (size_t i = 0; i < space->size; i++) {
        if (!isfinite(tmp[i])) {
            berg__free(tmp);
            return berg__error(BERG_ERR_DOMAIN,
                               "%s: the derivative overflows at index %zu (p = %g, q = %g are too "
                               "far apart in scale)",
                               fn, i, p[i], q[i]);
        }
    }
    memcpy(out, tmp, sizeof(double) * space->size);
    berg__free(tmp);
    return BERG_OK;
}
