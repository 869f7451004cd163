/*
 * lib/dictionary/bayes_map.c - the MAP of the expected-data flow on the
 * continuous parameter space and its tau-derivative (seed eq 50 in its
 * exact form), for the dictionary's gamma_tau and drift m = J dgamma/dtau.
 *
 * F(u) = ln pi_0(u) - T D(G(u)), T = 1/tau, with
 *   D(g) = KL(p* || p0(. - g)/Z(g)) = sum_j w p*_j [ln p*_j - ln p0(y_j - g) + ln Z(g)],
 *   Z(g) = sum_j w p0(y_j - g)   (the model normalized on the data grid),
 * the noise called at the off-grid points y_j - g. ln pi_0 between the
 * parameter cells is the tensor-product Catmull-Rom cubic through the 4^du
 * nearest cell values (C^1, exact for quadratics, so exact for Gaussian and
 * flat priors). Derivatives:
 *   - of D in g by fourth-order central differences with the data grid's
 *     own spacing h_a as step: the grid sum is a quadrature whose error is
 *     periodic in g with period h_a (for a noise with a kink, such as the
 *     Laplace density, the sum is piecewise smooth in g with a kink at every
 *     grid point); a step of h_a and 2 h_a averages that error out, where a
 *     smaller step would differentiate it;
 *   - of G by the rule of berg_fisher_jacobian (fourth-order central
 *     differences, step 1e-3 max(|u_k|, 1)), the second derivatives by the
 *     fourth-order rule with the same step;
 *   - of ln pi_0 analytically from the interpolant.
 * gradient F = grad ln pi_0 - T J^T D_g,
 * Hessian  H = Hess ln pi_0 - T (J^T D_gg J + sum_a D_g,a Hess G_a),
 * dgamma/dtau = -H^{-1} d/dtau grad F = (-H)^{-1} J^T D_g / tau^2.
 */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dictionary/internal.h"
#include "core/linalg.h"
#include "fisher/internal.h"

#define R BERG_MAX_RANK

enum { MAP_MAX_STEPS = 100, MAP_MAX_HALVINGS = 60 };
static const double MAP_TOL = 1e-10;

/* ---- D(g) and its derivatives in g ------------------------------------- */

/* D(g) on the data grid; +inf where p* > 0 but p0(y_j - g) = 0 */
static berg_status div_at(const berg_bayes *b, const double *g, double *D, const char *fn)
{
    double y[R], w = b->data.weight;
    double cross = 0.0, comp = 0.0, m = -HUGE_VAL, s = 0.0;
    int inf = 0;
    for (size_t j = 0; j < b->ny; j++) {
        double phi;
        berg__bayes_data_point(b, j, y);
        BERG_TRY(berg__bayes_noise_logpdf(b, y, g, &phi, fn));
        if (phi == -HUGE_VAL) {
            inf |= b->truth[j] > 0.0;
            continue;
        }
        if (phi > m) { /* running log-sum-exp of ln Z */
            s = s * exp(m - phi) + 1.0;
            m = phi;
        } else {
            s += exp(phi - m);
        }
        double t = w * b->truth[j] * phi, c = cross + t; /* Neumaier */
        comp += fabs(cross) >= fabs(t) ? (cross - c) + t : (t - c) + cross;
        cross = c;
    }
    if (inf || m == -HUGE_VAL) {
        *D = HUGE_VAL;
        return BERG_OK;
    }
    *D = b->truth_negS - (cross + comp) + m + log(s * w);
    return BERG_OK;
}

static berg_status div_finite(const berg_bayes *b, const double *g, double *D, const char *fn)
{
    BERG_TRY(div_at(b, g, D, fn));
    BERG_REQUIRE(isfinite(*D), BERG_ERR_DOMAIN,
                 "%s: KL(p*||p(.|u)) is infinite within two data cells of G(u) (G(u)[0] = %g): "
                 "the noise vanishes where the truth does not",
                 fn, g[0]);
    return BERG_OK;
}

/* D_g (dy) and D_gg (dy x dy) at g, steps h_a of the data grid */
static berg_status div_derivs(const berg_bayes *b, const double *g, double *Dg, double *Dgg,
                              const char *fn)
{
    size_t dy = b->dy;
    double gg[R], d0, f[4];
    static const double st[4] = {2.0, 1.0, -1.0, -2.0};
    BERG_TRY(div_finite(b, g, &d0, fn));
    for (size_t a = 0; a < dy; a++) {
        double h = b->data.h[a];
        memcpy(gg, g, dy * sizeof(double));
        for (int e = 0; e < 4; e++) {
            gg[a] = g[a] + st[e] * h;
            BERG_TRY(div_finite(b, gg, &f[e], fn));
        }
        Dg[a] = (-f[0] + 8.0 * f[1] - 8.0 * f[2] + f[3]) / (12.0 * h);
        Dgg[a * dy + a] = (-f[0] + 16.0 * f[1] - 30.0 * d0 + 16.0 * f[2] - f[3]) / (12.0 * h * h);
    }
    /* mixed: Richardson of the four-point rule at steps h and 2h */
    for (size_t a = 0; a < dy; a++)
        for (size_t c = 0; c < a; c++) {
            double M[2];
            for (int r = 0; r < 2; r++) {
                double ha = (r + 1) * b->data.h[a], hc = (r + 1) * b->data.h[c], v[4];
                for (int e = 0; e < 4; e++) {
                    memcpy(gg, g, dy * sizeof(double));
                    gg[a] += (e & 1) ? -ha : ha;
                    gg[c] += (e & 2) ? -hc : hc;
                    BERG_TRY(div_finite(b, gg, &v[e], fn));
                }
                M[r] = (v[0] - v[1] - v[2] + v[3]) / (4.0 * ha * hc);
            }
            Dgg[a * dy + c] = Dgg[c * dy + a] = (4.0 * M[0] - M[1]) / 3.0;
        }
    return BERG_OK;
}

/* ---- G and its second derivatives --------------------------------------- */

/* the step of berg_fisher_jacobian: 1e-3 max(|u|, 1), exact in floating point */
static double fd_step(double u)
{
    double h = 1e-3 * fmax(fabs(u), 1.0);
    volatile double up = u + h;
    return up - u;
}

/* HG[a][k][l] = d^2 G_a / du_k du_l (dy x du x du), fourth order */
static berg_status forward_hessian(const berg_bayes *b, const double *u, const double *G0,
                                   double *HG, const char *fn)
{
    size_t du = b->du, dy = b->dy;
    double uu[R], f[4][R];
    static const double st[4] = {2.0, 1.0, -1.0, -2.0};
    for (size_t k = 0; k < du; k++) {
        double h = fd_step(u[k]);
        for (int e = 0; e < 4; e++) {
            memcpy(uu, u, du * sizeof(double));
            uu[k] = u[k] + st[e] * h;
            BERG_TRY(berg__bayes_forward(b, uu, f[e], fn));
        }
        for (size_t a = 0; a < dy; a++)
            HG[(a * du + k) * du + k] =
                (-f[0][a] + 16.0 * f[1][a] - 30.0 * G0[a] + 16.0 * f[2][a] - f[3][a]) /
                (12.0 * h * h);
    }
    for (size_t k = 0; k < du; k++)
        for (size_t l = 0; l < k; l++) {
            double M[2][R];
            for (int r = 0; r < 2; r++) {
                double hk = (r + 1) * fd_step(u[k]), hl = (r + 1) * fd_step(u[l]);
                for (int e = 0; e < 4; e++) {
                    memcpy(uu, u, du * sizeof(double));
                    uu[k] += (e & 1) ? -hk : hk;
                    uu[l] += (e & 2) ? -hl : hl;
                    BERG_TRY(berg__bayes_forward(b, uu, f[e], fn));
                }
                for (size_t a = 0; a < dy; a++)
                    M[r][a] = (f[0][a] - f[1][a] - f[2][a] + f[3][a]) / (4.0 * hk * hl);
            }
            for (size_t a = 0; a < dy; a++)
                HG[(a * du + k) * du + l] = HG[(a * du + l) * du + k] =
                    (4.0 * M[0][a] - M[1][a]) / 3.0;
        }
    return BERG_OK;
}

/* ---- ln pi_0 between the cells: tensor-product Catmull-Rom --------------- */

/* value (-inf outside the prior's support), gradient and Hessian at u;
 * grad/hess may be NULL */
static berg_status logprior_at(const berg_bayes *b, const double *u, double *f, double *grad,
                               double *hess, const char *fn)
{
    const struct berg_space *S = &b->param;
    size_t du = b->du, node[R][4];
    double w[R][4], dw[R][4], d2w[R][4];
    for (size_t a = 0; a < du; a++) {
        size_t n = S->n[a];
        BERG_REQUIRE(isfinite(u[a]), BERG_ERR_OUT_OF_RANGE, "%s: the MAP u[%zu] = %g is not finite",
                     fn, a, u[a]);
        double x = u[a] - S->lo[a];
        /* a Newton step may leave a periodic axis: its offset in [0, L]
         * without forming u - lo (overflow, then fmod(NaN) to size_t) */
        if (S->bc[a] == BERG_PERIODIC && !(u[a] >= S->lo[a] && u[a] <= S->hi[a]))
            x = berg__periodic_offset(u[a], S->lo[a], S->hi[a] - S->lo[a]);
        double t = x / S->h[a] - 0.5, k = floor(t), s = t - k;
        if (S->bc[a] == BERG_PERIODIC) {
            for (int e = 0; e < 4; e++) {
                double i = fmod(k - 1.0 + e, (double)n);
                node[a][e] = (size_t)(i < 0.0 ? i + (double)n : i);
            }
        } else {
            BERG_REQUIRE(k >= 1.0 && k + 2.0 <= (double)n - 1.0, BERG_ERR_OUT_OF_RANGE,
                         "%s: the MAP u[%zu] = %g is within two cells of the edge of parameter "
                         "axis %zu (enlarge the parameter box)",
                         fn, a, u[a], a);
            for (int e = 0; e < 4; e++)
                node[a][e] = (size_t)k - 1 + (size_t)e;
        }
        double s2 = s * s, s3 = s2 * s, ih = 1.0 / S->h[a];
        w[a][0] = 0.5 * (-s3 + 2.0 * s2 - s);
        w[a][1] = 0.5 * (3.0 * s3 - 5.0 * s2 + 2.0);
        w[a][2] = 0.5 * (-3.0 * s3 + 4.0 * s2 + s);
        w[a][3] = 0.5 * (s3 - s2);
        dw[a][0] = 0.5 * (-3.0 * s2 + 4.0 * s - 1.0) * ih;
        dw[a][1] = 0.5 * (9.0 * s2 - 10.0 * s) * ih;
        dw[a][2] = 0.5 * (-9.0 * s2 + 8.0 * s + 1.0) * ih;
        dw[a][3] = 0.5 * (3.0 * s2 - 2.0 * s) * ih;
        d2w[a][0] = (2.0 - 3.0 * s) * ih * ih;
        d2w[a][1] = (9.0 * s - 5.0) * ih * ih;
        d2w[a][2] = (4.0 - 9.0 * s) * ih * ih;
        d2w[a][3] = (3.0 * s - 1.0) * ih * ih;
    }
    double val = 0.0, gr[R] = {0}, he[R * R] = {0};
    size_t total = 1;
    for (size_t a = 0; a < du; a++)
        total *= 4;
    for (size_t c = 0; c < total; c++) {
        size_t e[R] = {0}, idx = 0, r = c;
        for (size_t a = 0; a < du; a++) {
            e[a] = r % 4;
            r /= 4;
            idx += node[a][e[a]] * S->stride[a];
        }
        double v = b->logprior[idx];
        if (v == -HUGE_VAL) {
            *f = -HUGE_VAL;
            return BERG_OK;
        }
        double prod = 1.0;
        for (size_t a = 0; a < du; a++)
            prod *= w[a][e[a]];
        val += prod * v;
        for (size_t a = 0; a < du; a++) {
            double pa = 1.0;
            for (size_t q = 0; q < du; q++)
                pa *= q == a ? dw[q][e[q]] : w[q][e[q]];
            gr[a] += pa * v;
            for (size_t c2 = 0; c2 <= a; c2++) {
                double pac = 1.0;
                for (size_t q = 0; q < du; q++) {
                    if (q == a && q == c2)
                        pac *= d2w[q][e[q]];
                    else if (q == a || q == c2)
                        pac *= dw[q][e[q]];
                    else
                        pac *= w[q][e[q]];
                }
                he[a * du + c2] += pac * v;
            }
        }
    }
    *f = val;
    if (grad)
        memcpy(grad, gr, du * sizeof(double));
    if (hess)
        for (size_t a = 0; a < du; a++)
            for (size_t c = 0; c <= a; c++)
                hess[a * du + c] = hess[c * du + a] = he[a * du + c];
    return BERG_OK;
}

/* ---- F, its gradient and Hessian --------------------------------------- */

typedef struct {
    double F, grad[R], H[R * R]; /* F, grad F, Hessian of F */
    double J[R * R], Dg[R];      /* dG/du, dD/dg at G(u) */
} map_eval;

static berg_status evaluate(const berg_bayes *b, double T, const double *u, map_eval *ev,
                            const char *fn)
{
    size_t du = b->du, dy = b->dy;
    double lp = NAN, lg[R] = {0}, lh[R * R] = {0}, g[R], Dgg[R * R], HG[R * R * R];
    BERG_TRY(logprior_at(b, u, &lp, lg, lh, fn));
    BERG_REQUIRE(lp > -HUGE_VAL, BERG_ERR_DOMAIN,
                 "%s: the prior vanishes within two parameter cells of the MAP u[0] = %g", fn,
                 u[0]);
    BERG_TRY(berg__bayes_forward(b, u, g, fn));
    BERG_TRY(berg__fisher_jacobian(du, dy, u, ev->J, b->G, NULL, b->user_data, fn));
    BERG_TRY(forward_hessian(b, u, g, HG, fn));
    BERG_TRY(div_derivs(b, g, ev->Dg, Dgg, fn));
    double D;
    BERG_TRY(div_finite(b, g, &D, fn));
    int flat = isinf(T);
    double t = flat ? 1.0 : T, pw = flat ? 0.0 : 1.0;
    ev->F = flat ? -D : lp - T * D;
    for (size_t k = 0; k < du; k++) {
        double s = 0.0;
        for (size_t a = 0; a < dy; a++)
            s += ev->J[a * du + k] * ev->Dg[a];
        ev->grad[k] = pw * lg[k] - t * s;
        for (size_t l = 0; l <= k; l++) {
            double q = 0.0;
            for (size_t a = 0; a < dy; a++) {
                q += ev->Dg[a] * HG[(a * du + k) * du + l];
                for (size_t c = 0; c < dy; c++)
                    q += ev->J[a * du + k] * Dgg[a * dy + c] * ev->J[c * du + l];
            }
            ev->H[k * du + l] = ev->H[l * du + k] = pw * lh[k * du + l] - t * q;
        }
    }
    return BERG_OK;
}

/* x = (-H)^{-1} rhs; *spd = 0 when -H is not positive definite. -H is
 * symmetric, so the column-major call reads the same matrix and LAPACKE
 * makes no transposed copy; any allocation failure inside LAPACKE is still
 * BERG_ERR_NOMEM (berg__lapack_status), never "not definite" */
static berg_status solve_neg(size_t d, const double *H, const double *rhs, double *x, int *spd,
                             const char *fn)
{
    double A[R * R];
    for (size_t q = 0; q < d * d; q++)
        A[q] = -H[q];
    memcpy(x, rhs, d * sizeof(double));
    lapack_int info =
        LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (lapack_int)d, 1, A, (lapack_int)d, x, (lapack_int)d);
    *spd = info == 0;
    return info > 0 ? BERG_OK : berg__lapack_status((long)info, fn, "dposv");
}

/* ---- Newton ------------------------------------------------------------ */

static double norm2(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++)
        s += v[k] * v[k];
    return sqrt(s);
}

/* Damped Newton from the grid MAP. The merit of the line search is |grad F|
 * (the derivatives are those of the smoothed D; the raw grid sum F itself
 * carries the quadrature's period-h ripple, which a decrease test on F
 * would see near the optimum). */
berg_status berg__bayes_map_exact(const berg_bayes *b, double tau, double *gamma, double *dgamma,
                                  const char *fn)
{
    size_t du = b->du;
    double T = tau == 0.0 ? HUGE_VAL : 1.0 / tau, u[R], s[R], un[R], step = HUGE_VAL;
    map_eval ev, en;
    BERG_TRY(berg__bayes_map_at(b, T, u, fn)); /* start: the refined grid MAP */
    BERG_TRY(evaluate(b, T, u, &ev, fn));
    int converged = 0;
    for (size_t it = 0; it < MAP_MAX_STEPS && !converged; it++) {
        int spd;
        BERG_TRY(solve_neg(du, ev.H, ev.grad, s, &spd, fn));
        BERG_REQUIRE(spd, BERG_ERR_NO_CONVERGENCE,
                     "%s: the Hessian of ln pi_T at u[0] = %.17g is not negative definite at "
                     "Newton step %zu (tau = %g): the MAP is not an isolated maximum",
                     fn, u[0], it, tau);
        step = 0.0;
        for (size_t k = 0; k < du; k++)
            step = fmax(step, fabs(s[k]) / fmax(fabs(u[k]), 1.0));
        if (step <= MAP_TOL) {
            converged = 1;
            for (size_t k = 0; k < du; k++)
                u[k] += s[k];
            break;
        }
        double lambda = 1.0, g0 = norm2(ev.grad, du);
        int accepted = 0;
        for (int hv = 0; hv < MAP_MAX_HALVINGS && !accepted; hv++, lambda *= 0.5) {
            for (size_t k = 0; k < du; k++)
                un[k] = u[k] + lambda * s[k];
            berg_status st = evaluate(b, T, un, &en, fn);
            if (st == BERG_ERR_OUT_OF_RANGE || st == BERG_ERR_DOMAIN)
                continue; /* left the grid or the support: a shorter step */
            BERG_TRY(st);
            accepted = norm2(en.grad, du) <= (1.0 - 1e-4 * lambda) * g0;
        }
        BERG_REQUIRE(accepted, BERG_ERR_NO_CONVERGENCE,
                     "%s: the Newton step %zu for the MAP at tau = %g does not reduce the "
                     "gradient of ln pi_T (last relative step %.3g, gradient %.3g)",
                     fn, it, tau, step, g0);
        memcpy(u, un, du * sizeof(double));
        ev = en;
    }
    BERG_REQUIRE(converged, BERG_ERR_NO_CONVERGENCE,
                 "%s: the Newton iterations for the MAP at tau = %g did not reach the relative "
                 "step 1e-10 in %d steps (last step %.3g)",
                 fn, tau, MAP_MAX_STEPS, step);
    if (dgamma) {
        /* at the converged point: dgamma/dtau = (-H)^{-1} J^T D_g / tau^2 */
        double rhs[R];
        BERG_TRY(evaluate(b, T, u, &ev, fn));
        for (size_t k = 0; k < du; k++) {
            double q = 0.0;
            for (size_t a = 0; a < b->dy; a++)
                q += ev.J[a * du + k] * ev.Dg[a];
            rhs[k] = q / tau / tau; /* tau * tau underflows for tiny tau */
        }
        int spd;
        BERG_TRY(solve_neg(du, ev.H, rhs, dgamma, &spd, fn));
        BERG_REQUIRE(spd, BERG_ERR_NO_CONVERGENCE,
                     "%s: the Hessian of ln pi_T at the MAP u[0] = %.17g (tau = %g) is not "
                     "negative definite",
                     fn, u[0], tau);
    }
    berg__bayes_wrap_periodic(b, u);
    memcpy(gamma, u, du * sizeof(double));
    return BERG_OK;
}
