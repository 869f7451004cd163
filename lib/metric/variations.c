/* First variations delta F / delta p of the information functionals on the
 * grid (the exact derivatives of the discrete functionals of
 * functionals.c), and the discrete Laplacian. Each writes its output only
 * after every check passed: out is untouched on failure and may alias the
 * inputs. */
#include <math.h>
#include <string.h>

#include "berg/functional.h"
#include "metric/func_internal.h"

berg_status berg_entropy_derivative(const berg_space *space, const double *p, double *out)
{
    static const char fn[] = "berg_entropy_derivative";
    BERG_TRY(berg__check_functional_args(space, p, NULL, NULL, out, "out", fn));
    BERG_TRY(berg__check_positive(p, space->size, fn, "p"));
    for (size_t i = 0; i < space->size; i++)
        out[i] = -log(p[i]) - 1.0;
    return BERG_OK;
}

berg_status berg_kl_derivative(const berg_space *space, const double *p, const double *q,
                               double *out)
{
    static const char fn[] = "berg_kl_derivative";
    BERG_TRY(berg__check_functional_args(space, p, q, "q", out, "out", fn));
    BERG_TRY(berg__check_positive(p, space->size, fn, "p"));
    BERG_TRY(berg__check_positive(q, space->size, fn, "q"));
    for (size_t i = 0; i < space->size; i++)
        out[i] = log(p[i]) - log(q[i]) + 1.0;
    return BERG_OK;
}

berg_status berg_cross_entropy_derivative(const berg_space *space, const double *p,
                                          const double *q, double *out)
{
    static const char fn[] = "berg_cross_entropy_derivative";
    BERG_TRY(berg__check_functional_args(space, p, q, "q", out, "out", fn));
    BERG_TRY(berg__check_positive(q, space->size, fn, "q"));
    for (size_t i = 0; i < space->size; i++)
        out[i] = -log(q[i]);
    return BERG_OK;
}

berg_status berg_potential_energy_derivative(const berg_space *space, const double *p,
                                             const double *V, double *out)
{
    static const char fn[] = "berg_potential_energy_derivative";
    BERG_TRY(berg__check_potential_args(space, p, V, out, "out", fn));
    if (out != V)
        memmove(out, V, sizeof(double) * space->size);
    return BERG_OK;
}

berg_status berg_free_energy_derivative(const berg_space *space, const double *p, const double *V,
                                        double *out)
{
    static const char fn[] = "berg_free_energy_derivative";
    BERG_TRY(berg__check_potential_args(space, p, V, out, "out", fn));
    BERG_TRY(berg__check_positive(p, space->size, fn, "p"));
    for (size_t i = 0; i < space->size; i++)
        out[i] = V[i] + log(p[i]) + 1.0;
    return BERG_OK;
}

berg_status berg_discrete_laplacian(const berg_space *space, const double *f, double *out)
{
    static const char fn[] = "berg_discrete_laplacian";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_finite(f, space->size, fn, "f"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    berg__laplacian(space, f, tmp);
    berg_status st = berg__check_result(space, tmp, space->size, fn, "out", "f");
    if (st == BERG_OK)
        memcpy(out, tmp, sizeof(double) * space->size);
    berg__free(tmp);
    return st;
}

berg_status berg_dirichlet_energy_derivative(const berg_space *space, const double *p,
                                             double *out)
{
    static const char fn[] = "berg_dirichlet_energy_derivative";
    BERG_TRY(berg__check_functional_args(space, p, NULL, NULL, out, "out", fn));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    berg__laplacian(space, p, tmp);
    berg_status st = berg__check_result(space, tmp, space->size, fn, "out", "p");
    if (st == BERG_OK)
        for (size_t i = 0; i < space->size; i++)
            out[i] = -tmp[i];
    berg__free(tmp);
    return st;
}

berg_status berg_density_fisher_information_derivative(const berg_space *space, const double *p,
                                                       double *out)
{
    static const char fn[] = "berg_density_fisher_information_derivative";
    BERG_TRY(berg__check_functional_args(space, p, NULL, NULL, out, "out", fn));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    BERG_TRY(berg__check_positive(p, space->size, fn, "p"));
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    memset(tmp, 0, sizeof(double) * space->size);
    /* d/dp_i of (p_j - p_i)(ln p_j - ln p_i) = (ln p_i - ln p_j) + (p_i - p_j) / p_i */
    for (size_t a = 0; a < BERG__RANK(space); a++) {
        const double c = berg__axis_coef(space, a);
        BERG__FOR_FACES(space, a, lo, hi, {
            double x = p[lo], y = p[hi];
            double dl = log(x) - log(y);
            tmp[lo] += c * (dl + (x - y) / x);
            tmp[hi] += c * (-dl + (y - x) / y);
        });
    }
    berg_status st = berg__check_result(space, tmp, space->size, fn, "out", "p");
    if (st == BERG_OK)
        memcpy(out, tmp, sizeof(double) * space->size);
    berg__free(tmp);
    return st;
}

/* d theta(a, b) / d a for the log mean, as a function of L = ln a - ln b:
 * (L - 1 + e^{-L}) / L^2 (1/2 at L = 0) */
static double log_mean_slope(double L)
{
    if (fabs(L) < 1e-4)
        return 0.5 - L / 6.0 + L * L / 24.0;
    return (expm1(-L) + L) / (L * L);
}

/* tmp = the derivative of the face sum sum_faces c theta(x, y) du^2,
 * du = u_hi - u_lo, u = ln p - ln q (p, q > 0) */
static void relative_fisher_gradient(const berg_space *s, const double *p, const double *q,
                                     double *tmp)
{
    memset(tmp, 0, sizeof(double) * s->size);
    for (size_t a = 0; a < BERG__RANK(s); a++) {
        const double c = berg__axis_coef(s, a);
        BERG__FOR_FACES(s, a, lo, hi, {
            double x = p[lo], y = p[hi];
            double lx = log(x), ly = log(y);
            double du = (ly - log(q[hi])) - (lx - log(q[lo]));
            double th = berg__log_mean(x, y), L = lx - ly;
            tmp[lo] += c * (log_mean_slope(L) * du * du - 2.0 * th * du / x);
            tmp[hi] += c * (log_mean_slope(-L) * du * du + 2.0 * th * du / y);
        });
    }
}

berg_status berg_relative_fisher_information_derivative(const berg_space *space,
                                                        const double *p, const double *q,
                                                        double *out)
{
    static const char fn[] = "berg_relative_fisher_information_derivative";
    BERG_TRY(berg__check_functional_args(space, p, q, "q", out, "out", fn));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    BERG_TRY(berg__check_positive(p, space->size, fn, "p"));
    BERG_TRY(berg__check_positive(q, space->size, fn, "q"));
    double *tmp = berg__alloc(space->size, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    relative_fisher_gradient(space, p, q, tmp);
    /* overflow: neighbours far apart in scale, or extreme cell widths */
    berg_status st = berg__check_result(space, tmp, space->size, fn, "out", "p and q");
    if (st == BERG_OK)
        memcpy(out, tmp, sizeof(double) * space->size);
    berg__free(tmp);
    return st;
}
