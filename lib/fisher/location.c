/*
 * Fisher metric of a location family on a grid,
 *   I_ab = integral (d_a p0)(d_b p0) / p0 = 4 integral (d_a r)(d_b r),   r = sqrt(p0).
 *
 * Why r = sqrt(p0): (d p0)^2 / p0 is 0/0 in the tails, and a difference of
 * ln p0 is unbounded there; r is bounded, vanishes with p0, and its gradient
 * is square-integrable for every density of finite Fisher information.
 *
 * Diagonal entries (the part that must survive kinks): along every grid line
 * of axis a, the difference D_k = (r_{k+1} - r_k) / h over the interval
 * between two cell centres is EXACTLY the mean of d_a r over it, so
 * integral (d_a r)^2 = h (D_k^2 + var_k) with var_k the variance of d_a r
 * inside the interval, estimated from the neighbouring slopes (see
 * interval_square): fourth order for smooth p0, and a kink (Laplace) inside
 * an interval is recognised and its jump accounted for.
 * Off-diagonal entries: fourth-order central differences at the cell
 * centres, midpoint rule.
 * Boundaries through two ghost layers: periodic axes wrap, Neumann axes
 * reflect r evenly, Dirichlet axes oddly (r = 0 on the wall).
 * The measured convergence of this rule and of the alternatives is in
 * docs/fisher.md.
 */
#include <math.h>
#include <string.h>

#include "fisher/internal.h"
#include "space/internal.h"

#define GHOST 2

/*
 * integral of (d_a r)^2 over interval k of a line, divided by h, from the
 * slopes D[] of the line's intervals. D[k] is the exact mean slope; what
 * D[k]^2 misses is the variance of r' inside the interval:
 *   smooth r:   var = h^2 r''^2 / 12 + O(h^4) = (D[k+1] - D[k-1])^2 / 48 + O(h^4)
 *               (fourth order overall);
 *   a kink inside the interval (r' jumps from D[k-1] to D[k+1] at the point
 *               that makes the mean D[k]): var = (D[k+1] - D[k]) (D[k] - D[k-1]);
 *   a kink at an end of the interval: r' is smooth inside: no correction.
 * A kink shows as slope changes c_L = D[k] - D[k-1], c_R = D[k+1] - D[k]
 * that both exceed 4 times those one interval further out (and have the
 * same sign). Next to a kink, or where c_L and c_R disagree by more than a
 * factor 4, the smaller one-sided estimate min(c_L^2, c_R^2) / 12 is used,
 * so that no interval borrows a slope from across a kink. nb[j] < 0 marks a
 * neighbour that does not exist (near a wall).
 */
static double interval_square(const double *D, const long *nb)
{
    double dk = D[nb[2]], sq = dk * dk;
    if (nb[1] < 0 || nb[3] < 0)
        return sq;
    double dm1 = D[nb[1]], dp1 = D[nb[3]];
    double cl = dk - dm1, cr = dp1 - dk;
    if (nb[0] >= 0 && nb[4] >= 0) {
        double far = 4.0 * fmax(fabs(dm1 - D[nb[0]]), fabs(D[nb[4]] - dp1));
        if (fabs(cl) > far && fabs(cr) > far && cl * cr > 0.0)
            return sq + cl * cr; /* a kink inside the interval */
    }
    double al = fabs(cl), ar = fabs(cr);
    if (cl * cr > 0.0 && al <= 4.0 * ar && ar <= 4.0 * al)
        return sq + (cl + cr) * (cl + cr) / 48.0; /* smooth: centred r'' */
    /* a kink next door (or an inflection): the one-sided r'' that does
     * not reach across it */
    return sq + fmin(al, ar) * fmin(al, ar) / 12.0;
}

/* sum over the lines along axis a of sum_k weight_k D_k^2 (+ variance):
 * the integral of (d_a r)^2 divided by the cell volume */
static double diagonal_entry(const berg_space *space, const double *R, const size_t *ps, int a,
                             double *D)
{
    const int d = space->ndim;
    const long n = (long)space->n[a];
    const int periodic = space->bc[a] == BERG_PERIODIC;
    /* interval k lies between padded cells k and k + 1, k = 0 .. n + 2;
     * the box holds k = GHOST .. n + 1 (periodic: n intervals, the last
     * wraps) or k = GHOST - 1 .. n + 1 (walls at both ends, half weight) */
    const long klo = periodic ? GHOST : GHOST - 1, khi = n + 1, kmax = n + 2;
    const double invh = 1.0 / space->h[a];
    size_t idx[BERG_MAX_RANK] = {0};
    double total = 0.0, comp = 0.0;
    for (;;) {
        size_t base = 0;
        for (int b = 0; b < d; b++)
            if (b != a)
                base += (idx[b] + GHOST) * ps[b];
        for (long k = 0; k <= kmax; k++)
            D[k] = (R[base + (size_t)(k + 1) * ps[a]] - R[base + (size_t)k * ps[a]]) * invh;
        double line = 0.0;
        for (long k = klo; k <= khi; k++) {
            long nb[5];
            for (int j = 0; j < 5; j++) {
                long kk = k + j - 2;
                if (periodic) /* cyclic in GHOST .. n + 1; n >= 5 wraps at most once */
                    nb[j] = n >= 5 ? (kk < GHOST ? kk + n : (kk > n + 1 ? kk - n : kk))
                                   : (j == 2 ? k : -1);
                else
                    nb[j] = (kk >= 0 && kk <= kmax) ? kk : -1;
            }
            double v = interval_square(D, nb);
            line += (!periodic && (k == klo || k == khi)) ? 0.5 * v : v;
        }
        double t = total + line;
        comp += fabs(total) >= fabs(line) ? (total - t) + line : (line - t) + total;
        total = t;
        int b = d - 1;
        for (; b >= 0; b--) {
            if (b == a)
                continue;
            if (++idx[b] < space->n[b])
                break;
            idx[b] = 0;
        }
        if (b < 0)
            break;
    }
    return total + comp;
}

/* padded index of the real cell i (may be < 0 or >= n) on a line of n cells */
static size_t ghost_source(berg_boundary bc, long i, long n, double *sign)
{
    *sign = 1.0;
    if (bc == BERG_PERIODIC)
        return (size_t)(((i % n) + n) % n + GHOST);
    /* reflect about the wall: -1 <-> 0, -2 <-> 1, n <-> n-1, n+1 <-> n-2 */
    long j = i < 0 ? -1 - i : 2 * n - 1 - i;
    if (j < 0)
        j = 0;
    if (j > n - 1)
        j = n - 1;
    if (bc == BERG_DIRICHLET)
        *sign = -1.0;
    return (size_t)(j + GHOST);
}

berg_status berg_fisher_location(const berg_space *space, const double *p0, double *Imat)
{
    static const char fn[] = "berg_fisher_location";
    berg_status s;
    if ((s = berg__space_check(space, fn)) || (s = berg__check_ptr(p0, fn, "p0")) ||
        (s = berg__check_ptr(Imat, fn, "Imat")))
        return s;
    double mass;
    if ((s = berg__check_density(p0, space->size, fn, "p0", &mass)) != BERG_OK)
        return s;
    const int d = space->ndim;
    size_t m[BERG_MAX_RANK], ps[BERG_MAX_RANK], psize = 1, nmax = 0;
    for (int a = 0; a < d; a++) {
        m[a] = space->n[a] + 2 * GHOST;
        if ((s = berg__mul_size(psize, m[a], &psize, fn, "padded grid")))
            return s;
        nmax = space->n[a] > nmax ? space->n[a] : nmax;
    }
    ps[d - 1] = 1;
    for (int a = d - 2; a >= 0; a--)
        ps[a] = ps[a + 1] * m[a + 1];
    double *R = berg__alloc(psize + nmax + 2 * GHOST, sizeof(double), fn);
    if (!R)
        return berg_last_status();
    double *D = R + psize;

    /* interior: r = sqrt(p0 / mass), mass = integral of p0 */
    const double inv = 1.0 / (mass * space->weight);
    {
        size_t idx[BERG_MAX_RANK] = {0};
        for (size_t j = 0; j < space->size; j++) {
            size_t pj = 0;
            for (int a = 0; a < d; a++)
                pj += (idx[a] + GHOST) * ps[a];
            R[pj] = sqrt(p0[j] * inv);
            for (int a = d - 1; a >= 0; a--) {
                if (++idx[a] < space->n[a])
                    break;
                idx[a] = 0;
            }
        }
    }
    /* ghost layers, axis by axis over the whole padded array (corners get
     * the ghosts of ghosts) */
    for (int a = 0; a < d; a++) {
        long na = (long)space->n[a];
        size_t outer = psize / (m[a] * ps[a]);
        for (size_t o = 0; o < outer; o++)
            for (size_t in = 0; in < ps[a]; in++) {
                double *line = R + o * m[a] * ps[a] + in;
                for (long g = 1; g <= GHOST; g++) {
                    double sg;
                    size_t src = ghost_source(space->bc[a], -g, na, &sg);
                    line[(size_t)(GHOST - g) * ps[a]] = sg * line[src * ps[a]];
                    src = ghost_source(space->bc[a], na - 1 + g, na, &sg);
                    line[(size_t)(na + GHOST - 1 + g) * ps[a]] = sg * line[src * ps[a]];
                }
            }
    }

    /* off-diagonal entries: fourth-order central differences at the centres */
    double off[BERG_MAX_RANK * BERG_MAX_RANK] = {0};
    if (d > 1) {
        double c1[BERG_MAX_RANK], c2[BERG_MAX_RANK];
        for (int a = 0; a < d; a++) {
            c1[a] = 8.0 / (12.0 * space->h[a]);
            c2[a] = -1.0 / (12.0 * space->h[a]);
        }
        double comp[BERG_MAX_RANK * BERG_MAX_RANK] = {0};
        double line[BERG_MAX_RANK * BERG_MAX_RANK];
        size_t idx[BERG_MAX_RANK] = {0};
        const size_t nl = space->n[d - 1];
        for (;;) {
            size_t base = 0;
            for (int a = 0; a < d - 1; a++)
                base += (idx[a] + GHOST) * ps[a];
            memset(line, 0, sizeof line);
            for (size_t i = 0; i < nl; i++) {
                const double *c = R + base + i + GHOST;
                double g[BERG_MAX_RANK];
                for (int a = 0; a < d; a++) {
                    size_t st = ps[a];
                    g[a] = c1[a] * (c[st] - c[-(ptrdiff_t)st]) +
                           c2[a] * (c[2 * st] - c[-2 * (ptrdiff_t)st]);
                }
                for (int a = 1; a < d; a++)
                    for (int b = 0; b < a; b++)
                        line[a * d + b] += g[a] * g[b];
            }
            for (int k = 0; k < d * d; k++) {
                double t = off[k] + line[k];
                comp[k] += fabs(off[k]) >= fabs(line[k]) ? (off[k] - t) + line[k]
                                                         : (line[k] - t) + off[k];
                off[k] = t;
            }
            int a = d - 2;
            for (; a >= 0; a--) {
                if (++idx[a] < space->n[a])
                    break;
                idx[a] = 0;
            }
            if (a < 0)
                break;
        }
        for (int k = 0; k < d * d; k++)
            off[k] += comp[k];
    }
    double diag[BERG_MAX_RANK];
    for (int a = 0; a < d; a++)
        diag[a] = diagonal_entry(space, R, ps, a, D);
    berg__free(R);

    const double cw = 4.0 * space->weight;
    for (int a = 0; a < d; a++) {
        Imat[a * d + a] = cw * diag[a];
        for (int b = 0; b < a; b++)
            Imat[a * d + b] = Imat[b * d + a] = cw * off[a * d + b];
    }
    return BERG_OK;
}
