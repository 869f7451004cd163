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
 * Boundaries through two ghost cells per side (mirrored on the fly, no
 * padded copy): periodic axes wrap, Neumann axes
 * reflect r evenly, Dirichlet axes oddly (r = 0 on the wall).
 * The measured convergence of this rule and of the alternatives is in
 * docs/fisher.md.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
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

/* the real cell that ghost cell i (i < 0 or i >= n) of a line of n cells
 * mirrors, and the sign it takes */
static long ghost_source(berg_boundary bc, long i, long n, double *sign)
{
    *sign = 1.0;
    if (bc == BERG_PERIODIC)
        return ((i % n) + n) % n;
    /* reflect about the wall: -1 <-> 0, -2 <-> 1, n <-> n-1, n+1 <-> n-2 */
    long j = i < 0 ? -1 - i : 2 * n - 1 - i;
    if (j < 0)
        j = 0;
    if (j > n - 1)
        j = n - 1;
    if (bc == BERG_DIRICHLET)
        *sign = -1.0;
    return j;
}

/* neighbours at -2, -1, +1, +2 along one axis of one cell: flat offsets
 * and signs (ghosts mirror real cells with the boundary's sign) */
typedef struct {
    ptrdiff_t off[4];
    double sg[4];
} nb4;

static void neighbour_table(const berg_space *space, size_t a, nb4 *t)
{
    static const long step[4] = {-2, -1, 1, 2};
    const long n = (long)space->n[a];
    const ptrdiff_t st = (ptrdiff_t)space->stride[a];
    for (long i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            long j = i + step[k];
            double sg = 1.0;
            if (j < 0 || j >= n)
                j = ghost_source(space->bc[a], j, n, &sg);
            t[i].off[k] = (ptrdiff_t)(j - i) * st;
            t[i].sg[k] = sg;
        }
}

/* sum over the lines along axis a of sum_k weight_k (D_k^2 + variance),
 * differences per cell (h_a = 1): h_a^2 times the integral of (d_a r)^2
 * for r = sqrt(p0 / (mass w)) (the weight cancels). buf holds n + 4
 * values (the line with two ghosts at each end), D n + 3 slopes. */
static double diagonal_entry(const berg_space *space, const double *R, size_t a, double *buf,
                             double *D)
{
    const size_t d = (size_t)space->ndim;
    const long n = (long)space->n[a];
    const size_t st = space->stride[a];
    const int periodic = space->bc[a] == BERG_PERIODIC;
    /* buf[k] is real cell k - GHOST; interval k lies between buf[k] and
     * buf[k + 1], k = 0 .. n + 2. The box holds k = GHOST .. n + 1
     * (periodic: n intervals, the last wraps) or k = GHOST - 1 .. n + 1
     * (walls at both ends, half weight). */
    const long klo = periodic ? GHOST : GHOST - 1, khi = n + 1, kmax = n + 2;
    long gsrc[2 * GHOST];
    double gsg[2 * GHOST];
    for (long g = 0; g < GHOST; g++) {
        gsrc[g] = ghost_source(space->bc[a], g - GHOST, n, &gsg[g]);
        gsrc[GHOST + g] = ghost_source(space->bc[a], n + g, n, &gsg[GHOST + g]);
    }
    size_t idx[BERG_MAX_RANK] = {0};
    double total = 0.0, comp = 0.0;
    for (;;) {
        size_t base = 0;
        for (size_t b = 0; b < d; b++)
            if (b != a)
                base += idx[b] * space->stride[b];
        for (long k = 0; k < n; k++)
            buf[k + GHOST] = R[base + (size_t)k * st];
        for (long g = 0; g < GHOST; g++) {
            buf[g] = gsg[g] * R[base + (size_t)gsrc[g] * st];
            buf[n + GHOST + g] = gsg[GHOST + g] * R[base + (size_t)gsrc[GHOST + g] * st];
        }
        for (long k = 0; k <= kmax; k++)
            D[k] = buf[k + 1] - buf[k];
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
        berg__neumaier_add(&total, &comp, line);
        /* next line: odometer over the axes other than a, last fastest */
        size_t b = d;
        while (b-- > 0) {
            if (b == a)
                continue;
            if (++idx[b] < space->n[b])
                break;
            idx[b] = 0;
        }
        if (b == SIZE_MAX)
            break;
    }
    return total + comp;
}

/* sum over the cells of g_a g_b (a > b, lower triangle of off) with g the
 * fourth-order central differences of R per cell (h = 1), ghosts through
 * the tables */
static void off_diagonal(const berg_space *space, const double *R, nb4 *const *tab, double *off)
{
    const size_t d = (size_t)space->ndim;
    const double c1 = 8.0 / 12.0, c2 = -1.0 / 12.0;
    double comp[BERG_MAX_RANK * BERG_MAX_RANK] = {0};
    double line[BERG_MAX_RANK * BERG_MAX_RANK];
    size_t idx[BERG_MAX_RANK] = {0};
    const size_t nl = space->n[d - 1];
    for (size_t j0 = 0; j0 < space->size; j0 += nl) {
        memset(line, 0, sizeof line);
        for (size_t i = 0; i < nl; i++) {
            idx[d - 1] = i;
            const double *c = R + j0 + i;
            double g[BERG_MAX_RANK];
            for (size_t a = 0; a < d; a++) {
                const nb4 *t = &tab[a][idx[a]];
                g[a] = c1 * (t->sg[2] * c[t->off[2]] - t->sg[1] * c[t->off[1]]) +
                       c2 * (t->sg[3] * c[t->off[3]] - t->sg[0] * c[t->off[0]]);
            }
            for (size_t a = 1; a < d; a++)
                for (size_t b = 0; b < a; b++)
                    line[a * d + b] += g[a] * g[b];
        }
        for (size_t k = 0; k < d * d; k++)
            berg__neumaier_add(&off[k], &comp[k], line[k]);
        /* next line: odometer over the axes but the last */
        for (size_t a = d - 1; a-- > 0;) {
            if (++idx[a] < space->n[a])
                break;
            idx[a] = 0;
        }
    }
    for (size_t k = 0; k < d * d; k++)
        off[k] += comp[k];
}

/* the off-diagonal sums (lower triangle of off) through the neighbour
 * tables of every axis; tables: sum of the n[a] entries */
static void off_diagonal_entries(const berg_space *space, const double *R, nb4 *tables,
                                 double *off)
{
    const size_t d = (size_t)space->ndim;
    nb4 *tab[BERG_MAX_RANK];
    size_t at = 0;
    for (size_t a = 0; a < d; a++) {
        tab[a] = tables + at;
        at += space->n[a];
        neighbour_table(space, a, tab[a]);
    }
    off_diagonal(space, R, tab, off);
}

berg_status berg_fisher_location(const berg_space *space, const double *p0, double *Imat)
{
    static const char fn[] = "berg_fisher_location";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(p0, fn, "p0"));
    BERG_TRY(berg__check_ptr(Imat, fn, "Imat"));
    double mass;
    BERG_TRY(berg__check_density(p0, space->size, fn, "p0", &mass));
    const size_t d = (size_t)space->ndim;
    size_t nmax = 0, nsum = 0;
    for (size_t a = 0; a < d; a++) {
        nmax = space->n[a] > nmax ? space->n[a] : nmax;
        nsum += space->n[a];
    }
    /* r on the grid, one line with its ghosts, its slopes, and the
     * neighbour tables of the off-diagonal stencil */
    nb4 *tables = NULL;
    double *R = berg__alloc(space->size + 2 * (nmax + 2 * GHOST), sizeof(double), fn);
    if (!R || (d > 1 && !(tables = berg__alloc(nsum, sizeof(nb4), fn)))) {
        berg__free(R);
        return berg_last_status();
    }
    double *buf = R + space->size, *D = buf + nmax + 2 * GHOST;
    /* R = sqrt(p0 / mass) lies in [0, 1] for any finite p0, subnormal
     * values and masses included; the cell widths enter at the end */
    for (size_t j = 0; j < space->size; j++)
        R[j] = sqrt(p0[j] / mass);

    double off[BERG_MAX_RANK * BERG_MAX_RANK] = {0};
    if (d > 1)
        off_diagonal_entries(space, R, tables, off);
    double diag[BERG_MAX_RANK];
    for (size_t a = 0; a < d; a++)
        diag[a] = diagonal_entry(space, R, a, buf, D);
    berg__free(R);
    berg__free(tables);

    /* I_ab = 4 S_ab / (h_a h_b): a diagonal entry out of the normal range
     * (cells so narrow or wide that 1/h^2 over- or underflows) is refused */
    double I[BERG_MAX_RANK * BERG_MAX_RANK];
    for (size_t a = 0; a < d; a++) {
        double h = space->h[a];
        I[a * d + a] = 4.0 * diag[a] / h / h;
        BERG_REQUIRE(isfinite(I[a * d + a]) && (diag[a] == 0.0 || I[a * d + a] >= DBL_MIN),
                     BERG_ERR_DOMAIN,
                     "%s: Imat[%zu][%zu] = 4 S / h^2 (S = %g, cell width h = %g) is outside the "
                     "normal double range on this space",
                     fn, a, a, diag[a], h);
        for (size_t b = 0; b < a; b++)
            I[a * d + b] = I[b * d + a] = 4.0 * off[a * d + b] / h / space->h[b];
    }
    memcpy(Imat, I, d * d * sizeof(double));
    return BERG_OK;
}
