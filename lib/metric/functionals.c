/* Information functionals of densities on the grid (values): entropy, KL,
 * cross-entropy, potential and free energy, Dirichlet energy and the Fisher
 * informations. Integrals are w * cell sums, accumulated with Neumaier
 * compensation; the stencils are in stencil.c, the first variations in
 * variations.c. */
#include <math.h>
#include <string.h>

#include "berg/functional.h"
#include "metric/func_internal.h"

double berg_density_mass_tolerance(void)
{
    return BERG__MASS_TOL;
}

berg_status berg_entropy(const berg_space *space, const double *p, double *S)
{
    static const char fn[] = "berg_entropy";
    BERG_TRY(berg__check_functional_args(space, p, NULL, NULL, S, "S", fn));
    /* cell masses w p_i <= 1 times ln p_i: no p ln p that overflows on
     * tiny cells */
    const double w = space->weight;
    double sum;
    BERG__BLOCK_SUM(space->size, i, p[i] > 0.0 ? (w * p[i]) * log(p[i]) : 0.0, sum);
    *S = -sum;
    return BERG_OK;
}

/* sum over the support of p of (w p) (ln p - ln q) (with_p) or -(w p) ln q
 * (cell masses times logarithms); +inf when q vanishes on the support of p */
static double kl_sum(const berg_space *s, const double *p, const double *q, int with_p)
{
    for (size_t i = 0; i < s->size; i++)
        if (p[i] > 0.0 && q[i] == 0.0)
            return HUGE_VAL;
    const double w = s->weight;
    double sum;
    if (with_p)
        BERG__BLOCK_SUM(s->size, i, p[i] > 0.0 ? (w * p[i]) * (log(p[i]) - log(q[i])) : 0.0,
                        sum);
    else
        BERG__BLOCK_SUM(s->size, i, p[i] > 0.0 ? -(w * p[i]) * log(q[i]) : 0.0, sum);
    return sum;
}

berg_status berg_kl_divergence(const berg_space *space, const double *p, const double *q,
                               double *D)
{
    static const char fn[] = "berg_kl_divergence";
    BERG_TRY(berg__check_functional_args(space, p, q, "q", D, "D", fn));
    double d = kl_sum(space, p, q, 1);
    /* Gibbs: KL >= 0; only rounding can make it negative */
    *D = d < 0.0 ? 0.0 : d;
    return BERG_OK;
}

berg_status berg_cross_entropy(const berg_space *space, const double *p, const double *q,
                               double *H)
{
    static const char fn[] = "berg_cross_entropy";
    BERG_TRY(berg__check_functional_args(space, p, q, "q", H, "H", fn));
    *H = kl_sum(space, p, q, 0);
    return BERG_OK;
}

berg_status berg_potential_energy(const berg_space *space, const double *p, const double *V,
                                  double *E)
{
    static const char fn[] = "berg_potential_energy";
    BERG_TRY(berg__check_potential_args(space, p, V, E, "E", fn));
    const double w = space->weight;
    double sum;
    BERG__BLOCK_SUM(space->size, i, (w * p[i]) * V[i], sum);
    BERG_REQUIRE(isfinite(sum), BERG_ERR_DOMAIN, "%s: E overflows (V too large)", fn);
    *E = sum;
    return BERG_OK;
}

berg_status berg_free_energy(const berg_space *space, const double *p, const double *V, double *F)
{
    static const char fn[] = "berg_free_energy";
    BERG_TRY(berg__check_potential_args(space, p, V, F, "F", fn));
    const double w = space->weight;
    double sum;
    BERG__BLOCK_SUM(space->size, i, p[i] > 0.0 ? (w * p[i]) * (V[i] + log(p[i])) : 0.0, sum);
    BERG_REQUIRE(isfinite(sum), BERG_ERR_DOMAIN, "%s: F overflows (V too large)", fn);
    *F = sum;
    return BERG_OK;
}

berg_status berg_dirichlet_energy(const berg_space *space, const double *p, double *E)
{
    static const char fn[] = "berg_dirichlet_energy";
    BERG_TRY(berg__check_functional_args(space, p, NULL, NULL, E, "E", fn));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    /* per axis, the sum of squared differences of cell masses m = w p
     * (<= 1), then g^{aa} / (h_a^2 w): no 1/h^2 or p^2 that over- or
     * underflows on extreme boxes while E is representable */
    const double w = space->weight;
    double E_total = 0.0, raw_total = 0.0;
    for (size_t a = 0; a < BERG__RANK(space); a++) {
        double sum = 0.0, comp = 0.0;
        BERG__FOR_FACES(space, a, lo, hi, {
            double d = (p[hi] - p[lo]) * w;
            berg__neumaier_add(&sum, &comp, d * d);
        });
        if (space->bc[a] == BERG_DIRICHLET)
            BERG__FOR_WALLS(space, a, first, last, {
                double m0 = w * p[first], m1 = w * p[last];
                berg__neumaier_add(&sum, &comp, 2.0 * (m0 * m0 + m1 * m1));
            });
        double raw = sum + comp, h = space->h[a];
        raw_total += raw;
        E_total += 0.5 * raw * space->ginv[a * BERG__RANK(space) + a] / h / h / w;
    }
    BERG_TRY(berg__check_scaled(space, E_total, raw_total, fn, "E"));
    *E = E_total;
    return BERG_OK;
}

/* Face sum w sum_faces c_a theta(p_i, p_j) (u_j - u_i)^2 for the Fisher
 * informations: with u = ln p and theta = (p_j - p_i)/(u_j - u_i) it is the
 * Fisher information of p, with u = ln(p/q) and theta the log mean the
 * relative one. lg (ln p, 0 where p = 0), u and t are size-n arrays; t is
 * scratch. Per axis the faces sum w theta du^2 (theta is homogeneous, so
 * that is the theta of the cell masses), then c_a = g^{aa}/h_a^2 scales
 * it: no 1/h^2 that over- or underflows on its own. *raw is the unscaled
 * total (0 exactly when the information is). +inf, and *raw +inf, when a
 * zero of p neighbours a positive value. */
static double face_information(const berg_space *s, const double *p, const double *lg,
                               const double *u, double *t, double *raw)
{
    const size_t n = s->size, d = BERG__RANK(s);
    const double w = s->weight;
    int infinite = 0;
    double total = 0.0;
    *raw = 0.0;
    for (size_t a = 0; a < d; a++) {
        memset(t, 0, sizeof(double) * n);
        BERG__FOR_FACES(s, a, lo, hi, {
            double x = p[lo], y = p[hi];
            if (x > 0.0 && y > 0.0) {
                double du = u[hi] - u[lo];
                if (u == lg) /* theta du^2 = (y - x) du exactly */
                    t[lo] += ((y - x) * w) * du;
                else
                    t[lo] += (berg__log_mean_from_logs(x, y, lg[lo], lg[hi]) * w) * du * du;
            } else if (x != y) {
                infinite = 1;
            }
        });
        double sa = berg__sum(t, n), h = s->h[a];
        *raw += sa;
        total += sa * s->ginv[a * d + a] / h / h;
    }
    if (infinite)
        *raw = HUGE_VAL;
    return infinite ? HUGE_VAL : total;
}

berg_status berg_density_fisher_information(const berg_space *space, const double *p, double *J)
{
    static const char fn[] = "berg_density_fisher_information";
    BERG_TRY(berg__check_functional_args(space, p, NULL, NULL, J, "J", fn));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    const size_t n = space->size;
    double *lg = berg__alloc(2 * n, sizeof(double), fn);
    if (!lg)
        return berg_last_status();
    for (size_t i = 0; i < n; i++)
        lg[i] = p[i] > 0.0 ? log(p[i]) : 0.0;
    double raw, v = face_information(space, p, lg, lg, lg + n, &raw);
    berg__free(lg);
    if (raw != HUGE_VAL) /* +inf is the documented value of a zero next to mass */
        BERG_TRY(berg__check_scaled(space, v, raw, fn, "J"));
    *J = v;
    return BERG_OK;
}

berg_status berg_relative_fisher_information(const berg_space *space, const double *p,
                                             const double *q, double *info)
{
    static const char fn[] = "berg_relative_fisher_information";
    BERG_TRY(berg__check_functional_args(space, p, q, "q", info, "info", fn));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    BERG_TRY(berg__check_positive(q, space->size, fn, "q"));
    const size_t n = space->size;
    double *lg = berg__alloc(3 * n, sizeof(double), fn);
    if (!lg)
        return berg_last_status();
    double *u = lg + n;
    for (size_t i = 0; i < n; i++) {
        lg[i] = p[i] > 0.0 ? log(p[i]) : 0.0;
        u[i] = lg[i] - log(q[i]);
    }
    double raw, v = face_information(space, p, lg, u, u + n, &raw);
    berg__free(lg);
    if (raw != HUGE_VAL) /* +inf is the documented value of a zero next to mass */
        BERG_TRY(berg__check_scaled(space, v, raw, fn, "info"));
    *info = v;
    return BERG_OK;
}
