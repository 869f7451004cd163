/* The sample space: a gridded box with boundary kinds and a constant metric. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "core/linalg.h"
#include "space/internal.h"
#include "space/iter.h"

size_t berg_space_max_rank(void) { return BERG_MAX_RANK; }

berg_status berg__space_check(const berg_space *space, const char *fn)
{
    BERG_REQUIRE(space != NULL, BERG_ERR_NULL, "%s: space is NULL", fn);
    return BERG_OK;
}

int berg_space_equal(const berg_space *a, const berg_space *b)
{
    if (a == NULL || b == NULL)
        return 0;
    if (a == b)
        return 1;
    int d = a->ndim;
    if (d != b->ndim)
        return 0;
    for (int i = 0; i < d; i++)
        if (a->n[i] != b->n[i] || a->lo[i] != b->lo[i] || a->hi[i] != b->hi[i] ||
            a->bc[i] != b->bc[i])
            return 0;
    return memcmp(a->g, b->g, sizeof a->g) == 0;
}

berg_status berg__space_match(const berg_space *a, const berg_space *b, const char *fn,
                              const char *name_a, const char *name_b)
{
    if (berg_space_equal(a, b))
        return BERG_OK;
    BERG_REQUIRE(a->ndim == b->ndim, BERG_ERR_MISMATCH, "%s: %s has rank %d but %s has rank %d",
                 fn, name_a, a->ndim, name_b, b->ndim);
    for (int i = 0; i < a->ndim; i++) {
        BERG_REQUIRE(a->n[i] == b->n[i], BERG_ERR_MISMATCH,
                     "%s: axis %d has %zu cells in %s but %zu in %s", fn, i, a->n[i], name_a,
                     b->n[i], name_b);
        BERG_REQUIRE(a->lo[i] == b->lo[i] && a->hi[i] == b->hi[i], BERG_ERR_MISMATCH,
                     "%s: axis %d bounds differ between %s and %s", fn, i, name_a, name_b);
        BERG_REQUIRE(a->bc[i] == b->bc[i], BERG_ERR_MISMATCH,
                     "%s: axis %d boundary kinds differ between %s and %s", fn, i, name_a, name_b);
    }
    return berg__error(BERG_ERR_MISMATCH, "%s: the metrics of %s and %s differ", fn, name_a, name_b);
}

/* Validate and factor the metric: fills s->g, s->ginv, s->sqrt_det_g, s->diagonal. */
static berg_status set_metric(berg_space *s, const double *metric)
{
    static const char fn[] = "berg_space_create";
    const size_t d = (size_t)s->ndim;
    double g[BERG_MAX_RANK * BERG_MAX_RANK] = {0};
    if (metric == NULL) {
        for (size_t a = 0; a < d; a++)
            g[a * d + a] = 1.0;
    } else {
        BERG_TRY(berg__linalg_check_symmetric(d, metric, fn, "metric"));
        memcpy(g, metric, d * d * sizeof(double));
        berg__linalg_symmetrize(d, g);
        for (size_t a = 0; a < d; a++) {
            if (s->bc[a] == BERG_PERIODIC)
                continue;
            for (size_t b = 0; b < d; b++)
                BERG_REQUIRE(b == a || g[a * d + b] == 0.0, BERG_ERR_UNSUPPORTED,
                             "%s: metric[%zu][%zu] = %g couples axis %zu, which is not "
                             "periodic, to axis %zu; only periodic axes may be coupled",
                             fn, a, b, g[a * d + b], a, b);
        }
    }
    /* Cholesky g = L L^T (refusing indefinite and numerically singular
     * metrics) gives sqrt(det g) = prod L_aa */
    double L[BERG_MAX_RANK * BERG_MAX_RANK];
    BERG_TRY(berg__linalg_cholesky(d, g, L, berg__linalg_rcond_floor(d), NULL, fn, "metric"));
    double sd = 1.0;
    for (size_t a = 0; a < d; a++)
        sd *= L[a * d + a];
    BERG_REQUIRE(isfinite(sd) && sd > 0.0, BERG_ERR_NOT_SPD,
                 "%s: metric has determinant %g, not a positive finite number", fn, sd * sd);
    double ginv[BERG_MAX_RANK * BERG_MAX_RANK];
    BERG_TRY(berg__linalg_spd_inverse(d, g, ginv, fn, "metric"));
    /* non-periodic axes are uncoupled, so their inverse entries are exact */
    for (size_t a = 0; a < d; a++)
        if (s->bc[a] != BERG_PERIODIC)
            for (size_t b = 0; b < d; b++)
                if (b != a)
                    ginv[a * d + b] = ginv[b * d + a] = 0.0;
    s->diagonal = 1;
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
            if (a != b && g[a * d + b] != 0.0)
                s->diagonal = 0;
    memcpy(s->g, g, sizeof s->g);
    memcpy(s->ginv, ginv, d * d * sizeof(double));
    s->sqrt_det_g = sd;
    return BERG_OK;
}

/* Validate and set axis a: n cells on [lo, hi] with boundary kind b. */
static berg_status set_axis(berg_space *s, int a, size_t n, double lo, double hi, berg_boundary b)
{
    static const char fn[] = "berg_space_create";
    BERG_REQUIRE(n > 0, BERG_ERR_SIZE, "%s: n[%d] = 0; every axis needs at least one cell", fn, a);
    BERG_REQUIRE(isfinite(lo) && isfinite(hi), BERG_ERR_NONFINITE,
                 "%s: bounds of axis %d (%g, %g) are not finite", fn, a, lo, hi);
    BERG_REQUIRE(hi > lo, BERG_ERR_DOMAIN, "%s: upper[%d] = %g is not greater than lower[%d] = %g",
                 fn, a, hi, a, lo);
    BERG_REQUIRE(b == BERG_PERIODIC || b == BERG_NEUMANN || b == BERG_DIRICHLET, BERG_ERR_DOMAIN,
                 "%s: bc[%d] = %d is not BERG_PERIODIC, BERG_NEUMANN or BERG_DIRICHLET", fn, a,
                 (int)b);
    s->n[a] = n;
    s->lo[a] = lo;
    s->hi[a] = hi;
    s->h[a] = (hi - lo) / (double)n;
    s->bc[a] = b;
    BERG_REQUIRE(s->h[a] > 0.0 && isfinite(s->h[a]), BERG_ERR_DOMAIN,
                 "%s: cell width of axis %d is %g", fn, a, s->h[a]);
    /* a subnormal width carries fewer than 53 bits and every product with
     * it loses more: refuse rather than return rounded-away integrals */
    BERG_REQUIRE(s->h[a] >= DBL_MIN, BERG_ERR_DOMAIN,
                 "%s: cell width of axis %d, (upper[%d] - lower[%d]) / n[%d] = %g, is below "
                 "DBL_MIN = %g (subnormal)",
                 fn, a, a, a, a, s->h[a], DBL_MIN);
    return BERG_OK;
}

/* first * f[0] * ... * f[n-1] (all > 0) without an intermediate overflow
 * or underflow: mantissas and exponents separately (frexp), one rounding
 * per factor; inf or 0 only when the product itself is out of range */
static double scaled_product(double first, const double *f, int n)
{
    int e, ea, eb;
    double v = frexp(first, &e);
    for (int a = 0; a < n; a++) {
        double m = frexp(f[a], &ea);
        v = frexp(v * m, &eb); /* v m in [1/4, 1): renormalize */
        e += ea + eb;
    }
    return ldexp(v, e);
}

/* The scales a density on the space must be able to take: a normalized
 * density concentrated on one cell has the value 1 / weight, a uniform one
 * 1 / volume; both (and the mass sum of either) must be normal doubles. */
static berg_status check_scales(const berg_space *s, const char *fn)
{
    BERG_REQUIRE(isfinite(s->weight) && s->weight >= DBL_MIN, BERG_ERR_DOMAIN,
                 "%s: cell volume sqrt(det g) prod h = %g is %s; a density of one cell "
                 "(1 / cell volume) would not be a finite normal number",
                 fn, s->weight, isfinite(s->weight) ? "below DBL_MIN" : "not finite");
    double vol = s->weight * (double)s->size;
    BERG_REQUIRE(isfinite(vol) && vol <= 1.0 / DBL_MIN, BERG_ERR_DOMAIN,
                 "%s: volume sqrt(det g) prod (upper - lower) = %g exceeds 1/DBL_MIN = %g; a "
                 "normalized density on it (1 / volume) would be subnormal",
                 fn, vol, 1.0 / DBL_MIN);
    return BERG_OK;
}

berg_status berg_space_create(berg_space **out, size_t rank, const size_t *n, const double *lower,
                              const double *upper, const berg_boundary *bc, const double *metric)
{
    static const char fn[] = "berg_space_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_REQUIRE(rank >= 1 && rank <= BERG_MAX_RANK, BERG_ERR_DOMAIN,
                 "%s: ndim = %zu must be between 1 and %d", fn, rank, BERG_MAX_RANK);
    BERG_TRY(berg__check_ptr(n, fn, "n"));
    BERG_TRY(berg__check_ptr(lower, fn, "lower"));
    BERG_TRY(berg__check_ptr(upper, fn, "upper"));
    const int ndim = (int)rank;

    berg_space s;
    memset(&s, 0, sizeof s);
    s.ndim = ndim;
    size_t size = 1;
    for (int a = 0; a < ndim; a++) {
        BERG_TRY(set_axis(&s, a, n[a], lower[a], upper[a], bc ? bc[a] : BERG_PERIODIC));
        BERG_TRY(berg__mul_size(size, n[a], &size, fn, "grid size"));
    }
    /* arrays of size doubles, and complex half-spectra, must be addressable */
    BERG_REQUIRE(size <= SIZE_MAX / (4 * sizeof(double)), BERG_ERR_SIZE,
                 "%s: a grid of %zu points is too large to address", fn, size);
    s.size = size;
    s.stride[ndim - 1] = 1;
    for (int a = ndim - 2; a >= 0; a--)
        s.stride[a] = s.stride[a + 1] * s.n[a + 1];
    BERG_TRY(set_metric(&s, metric));
    s.weight = scaled_product(s.sqrt_det_g, s.h, ndim);
    BERG_TRY(check_scales(&s, fn));

    berg_space *p = berg__alloc(1, sizeof *p, fn);
    if (p == NULL)
        return berg_last_status();
    *p = s;
    *out = p;
    return BERG_OK;
}

berg_status berg_space_clone(berg_space **out, const berg_space *space)
{
    static const char fn[] = "berg_space_clone";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    berg_space *p = berg__alloc(1, sizeof *p, fn);
    if (p == NULL)
        return berg_last_status();
    *p = *space;
    *out = p;
    return BERG_OK;
}

void berg_space_destroy(berg_space *space) { berg__free(space); }

size_t berg_space_rank(const berg_space *space) { return space ? (size_t)space->ndim : 0; }
size_t berg_space_size(const berg_space *space) { return space ? space->size : 0; }

/* queries: one prologue (space and the output array non-NULL) */
#define QUERY_PROLOGUE(name, arg)                                                                  \
    static const char fn[] = name;                                                                 \
    BERG_TRY(berg__space_check(space, fn));                                                        \
    BERG_TRY(berg__check_ptr((arg), fn, #arg))

berg_status berg_space_shape(const berg_space *space, size_t *n)
{
    QUERY_PROLOGUE("berg_space_shape", n);
    memcpy(n, space->n, sizeof(size_t) * (size_t)space->ndim);
    return BERG_OK;
}

berg_status berg_space_bounds(const berg_space *space, double *lower, double *upper)
{
    QUERY_PROLOGUE("berg_space_bounds", lower);
    BERG_TRY(berg__check_ptr(upper, fn, "upper"));
    memcpy(lower, space->lo, sizeof(double) * (size_t)space->ndim);
    memcpy(upper, space->hi, sizeof(double) * (size_t)space->ndim);
    return BERG_OK;
}

berg_status berg_space_boundaries(const berg_space *space, berg_boundary *bc)
{
    QUERY_PROLOGUE("berg_space_boundaries", bc);
    memcpy(bc, space->bc, sizeof(berg_boundary) * (size_t)space->ndim);
    return BERG_OK;
}

berg_status berg_space_spacing(const berg_space *space, double *h)
{
    QUERY_PROLOGUE("berg_space_spacing", h);
    memcpy(h, space->h, sizeof(double) * (size_t)space->ndim);
    return BERG_OK;
}

berg_status berg_space_metric(const berg_space *space, double *g)
{
    QUERY_PROLOGUE("berg_space_metric", g);
    memcpy(g, space->g, sizeof(double) * (size_t)(space->ndim * space->ndim));
    return BERG_OK;
}

berg_status berg_space_inverse_metric(const berg_space *space, double *ginv)
{
    QUERY_PROLOGUE("berg_space_inverse_metric", ginv);
    memcpy(ginv, space->ginv, sizeof(double) * (size_t)(space->ndim * space->ndim));
    return BERG_OK;
}

/* infallible scalar queries: NaN for a NULL space */
double berg_space_volume_factor(const berg_space *space)
{
    return space ? space->sqrt_det_g : NAN;
}

double berg_space_cell_weight(const berg_space *space) { return space ? space->weight : NAN; }

double berg_space_volume(const berg_space *space)
{
    if (space == NULL)
        return NAN;
    double L[BERG_MAX_RANK];
    for (int a = 0; a < space->ndim; a++)
        L[a] = space->hi[a] - space->lo[a];
    /* finite: berg_space_create refuses volumes above 1/DBL_MIN */
    return scaled_product(space->sqrt_det_g, L, space->ndim);
}

berg_status berg_space_coordinates(const berg_space *space, size_t axis, double *x)
{
    QUERY_PROLOGUE("berg_space_coordinates", x);
    BERG_REQUIRE(axis < (size_t)space->ndim, BERG_ERR_DOMAIN, "%s: axis = %zu must be in [0, %d)",
                 fn, axis, space->ndim);
    for (size_t i = 0; i < space->n[axis]; i++)
        x[i] = berg__coord(space, (int)axis, i);
    return BERG_OK;
}

/* integrals */
berg_status berg_space_integrate(const berg_space *space, const double *f, double *out)
{
    static const char fn[] = "berg_space_integrate";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_finite(f, space->size, fn, "f"));
    double sum = berg__sum(f, space->size), v = space->weight * sum;
    if (!isfinite(v)) {
        /* a sum of finite values may overflow: sum at the power-of-two scale
         * of the largest |f|, then scale back if the integral fits */
        double m = 0.0, c = 0.0, s = 0.0;
        for (size_t i = 0; i < space->size; i++)
            m = fmax(m, fabs(f[i]));
        int e = ilogb(m);
        for (size_t i = 0; i < space->size; i++)
            berg__neumaier_add(&s, &c, ldexp(f[i], -e));
        v = ldexp((s + c) * space->weight, e);
        BERG_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                     "%s: the integral of f is %g x 2^%d, beyond DBL_MAX", fn,
                     (s + c) * space->weight, e);
    }
    *out = v;
    return BERG_OK;
}

berg_status berg_space_normalize(const berg_space *space, double *p, double *mass)
{
    static const char fn[] = "berg_space_normalize";
    double s;
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_density(p, space->size, fn, "p", &s));
    double m = s * space->weight;
    BERG_REQUIRE(m > 0.0 && isfinite(m), BERG_ERR_MASS,
                 "%s: p has mass %g, which cannot be normalized", fn, m);
    double inv = 1.0 / m;
    BERG_REQUIRE(isfinite(inv), BERG_ERR_MASS, "%s: p has mass %g, too small to normalize", fn, m);
    for (size_t i = 0; i < space->size; i++)
        p[i] *= inv;
    if (mass)
        *mass = m;
    return BERG_OK;
}

berg_status berg_space_clip_roundoff(const berg_space *space, double rtol, double *p,
                                     double *clipped)
{
    static const char fn[] = "berg_space_clip_roundoff";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_finite(p, space->size, fn, "p"));
    BERG_REQUIRE(rtol > 0.0 && rtol < 1.0, BERG_ERR_DOMAIN, "%s: rtol = %g must be in (0, 1)", fn,
                 rtol);
    /* one pass for max|p| and min p, one to clip (a third only to name the
     * first offending index of a failure) */
    double amax = 0.0, pmin = 0.0;
    for (size_t i = 0; i < space->size; i++) {
        amax = fmax(amax, fabs(p[i]));
        pmin = fmin(pmin, p[i]);
    }
    const double floor = -rtol * amax;
    if (pmin < floor)
        for (size_t i = 0; i < space->size; i++)
            BERG_REQUIRE(p[i] >= floor, BERG_ERR_NEGATIVE,
                         "%s: p has a negative value %g at index %zu, beyond round-off "
                         "(%g = -rtol * max|p|)",
                         fn, p[i], i, floor);
    double removed = 0.0;
    for (size_t i = 0; i < space->size; i++)
        if (p[i] < 0.0) {
            removed -= p[i];
            p[i] = 0.0;
        }
    if (clipped)
        *clipped = removed * space->weight;
    return BERG_OK;
}

berg_status berg_space_inner_l2(const berg_space *space, const double *f1, const double *f2,
                                double *out)
{
    static const char fn[] = "berg_space_inner_l2";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_finite(f1, space->size, fn, "f1"));
    BERG_TRY(berg__check_finite(f2, space->size, fn, "f2"));
    /* blocked dot products combined pairwise keep the rounding error small */
    size_t n = space->size, block = 4096;
    double acc[64];
    size_t nb = 0;
    double total = 0.0;
    for (size_t i = 0; i < n; i += block) {
        size_t m = (n - i < block) ? n - i : block;
        acc[nb++] = cblas_ddot((blasint)m, f1 + i, 1, f2 + i, 1);
        if (nb == 64) {
            total += berg__sum(acc, nb);
            nb = 0;
        }
    }
    total += berg__sum(acc, nb);
    double v = total * space->weight;
    if (!isfinite(v)) {
        /* products or their sum overflowed: at the scales of max|f1|, max|f2| */
        double m1 = 0.0, m2 = 0.0, sum = 0.0, c = 0.0;
        for (size_t i = 0; i < n; i++) {
            m1 = fmax(m1, fabs(f1[i]));
            m2 = fmax(m2, fabs(f2[i]));
        }
        int e1 = ilogb(m1), e2 = ilogb(m2);
        for (size_t i = 0; i < n; i++)
            berg__neumaier_add(&sum, &c, ldexp(f1[i], -e1) * ldexp(f2[i], -e2));
        v = ldexp((sum + c) * space->weight, e1 + e2);
        BERG_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                     "%s: the inner product is %g x 2^%d, beyond DBL_MAX", fn,
                     (sum + c) * space->weight, e1 + e2);
    }
    *out = v;
    return BERG_OK;
}

berg_status berg_space_project_tangent(const berg_space *space, const double *f, double *out)
{
    static const char fn[] = "berg_space_project_tangent";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_finite(f, space->size, fn, "f"));
    const size_t n = space->size;
    double mean = berg__sum(f, n) / (double)n;
    if (!isfinite(mean)) { /* the sum overflowed: the mean of f_i / n */
        double c = 0.0;
        mean = 0.0;
        for (size_t i = 0; i < n; i++)
            berg__neumaier_add(&mean, &c, f[i] / (double)n);
        mean += c;
    }
    /* f_i - mean can exceed DBL_MAX (values of both signs near it) */
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(isfinite(f[i] - mean), BERG_ERR_DOMAIN,
                     "%s: f[%zu] - mean(f) = %g - %g exceeds DBL_MAX", fn, i, f[i], mean);
    for (size_t i = 0; i < n; i++)
        out[i] = f[i] - mean;
    return BERG_OK;
}

/* mean and/or covariance of a checked measure p of (plain) sum `mass`.
 * The values enter at the power-of-two scale 2^e that puts the mass in
 * [1, 2): values near DBL_MAX cannot overflow the weighted sums and a mass
 * of subnormal values keeps its bits. */
static void moments(const berg_space *space, const double *p, double mass, double *mean,
                    double *cov)
{
    /* exact scaling by 2^e (ldexp: 2^e itself may not be a double) */
    const int e = -ilogb(mass);
    mass = ldexp(mass, e);
    int d = space->ndim;
    /* first pass: mean; second pass: centred second moments (stable) */
    double m[BERG_MAX_RANK] = {0};
    double x[BERG_MAX_RANK];
    size_t idx[BERG_MAX_RANK] = {0};
    const size_t nlast = space->n[d - 1];
    /* mean from marginal sums: sum over rows of the last axis */
    for (int a = 0; a < d; a++) {
        double acc = 0.0;
        size_t len = space->n[a], inner = space->stride[a];
        size_t outer = space->size / (len * inner);
        for (size_t i = 0; i < len; i++) {
            double s = 0.0;
            for (size_t o = 0; o < outer; o++)
                s += berg__sum(p + o * len * inner + i * inner, inner);
            acc += ldexp(s, e) * berg__coord(space, a, i);
        }
        m[a] = acc / mass;
    }
    if (cov != NULL) {
        double c[BERG_MAX_RANK * BERG_MAX_RANK] = {0};
        for (size_t row = 0; row < space->size; row += nlast) {
            for (int a = 0; a < d - 1; a++)
                x[a] = berg__coord(space, a, idx[a]) - m[a];
            /* last axis: accumulate sum p, sum p y, sum p y^2 along the row */
            double s0 = 0.0, s1 = 0.0, s2 = 0.0;
            for (size_t j = 0; j < nlast; j++) {
                double y = berg__coord(space, d - 1, j) - m[d - 1];
                double pj = ldexp(p[row + j], e);
                s0 += pj;
                s1 += pj * y;
                s2 += (pj * y) * y;
            }
            for (int a = 0; a < d - 1; a++) {
                for (int b = a; b < d - 1; b++)
                    c[a * d + b] += s0 * x[a] * x[b];
                c[a * d + (d - 1)] += s1 * x[a];
            }
            c[(d - 1) * d + (d - 1)] += s2;
            /* advance the multi-index of the leading axes */
            berg__index_next((size_t)(d - 1), space->n, idx);
        }
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++) {
                cov[a * d + b] = c[a * d + b] / mass;
                cov[b * d + a] = cov[a * d + b];
            }
    }
    if (mean != NULL)
        memcpy(mean, m, sizeof(double) * (size_t)d);
}

/* computed moments are finite (a covariance of a box wider than ~1e154
 * can exceed DBL_MAX: refused naming it; the caller's arrays untouched) */
static berg_status check_moments(const berg_space *space, const double *m, const double *c,
                                 const char *fn)
{
    const int d = space->ndim;
    for (int a = 0; a < d; a++)
        BERG_REQUIRE(isfinite(m[a]), BERG_ERR_DOMAIN, "%s: mean[%d] is not finite", fn, a);
    for (int k = 0; c && k < d * d; k++)
        BERG_REQUIRE(isfinite(c[k]), BERG_ERR_DOMAIN,
                     "%s: cov[%d][%d] exceeds DBL_MAX (the box is too wide for a second moment)",
                     fn, k / d, k % d);
    return BERG_OK;
}

/* the public boundary of the three moment functions: p is a measure */
static berg_status check_measure(const berg_space *space, const double *p, double *mass,
                                 const char *fn)
{
    BERG_TRY(berg__space_check(space, fn));
    return berg__check_density(p, space->size, fn, "p", mass);
}

berg_status berg_space_moments(const berg_space *space, const double *p, double *mean,
                               double *cov)
{
    static const char fn[] = "berg_space_moments";
    double mass;
    BERG_TRY(check_measure(space, p, &mass, fn));
    double m[BERG_MAX_RANK], c[BERG_MAX_RANK * BERG_MAX_RANK];
    moments(space, p, mass, m, cov ? c : NULL);
    BERG_TRY(check_moments(space, m, cov ? c : NULL, fn));
    if (mean)
        memcpy(mean, m, sizeof(double) * (size_t)space->ndim);
    if (cov)
        memcpy(cov, c, sizeof(double) * (size_t)(space->ndim * space->ndim));
    return BERG_OK;
}

berg_status berg_space_mean(const berg_space *space, const double *p, double *mean)
{
    static const char fn[] = "berg_space_mean";
    double mass;
    BERG_TRY(berg__check_ptr(mean, fn, "mean"));
    BERG_TRY(check_measure(space, p, &mass, fn));
    double m[BERG_MAX_RANK];
    moments(space, p, mass, m, NULL);
    BERG_TRY(check_moments(space, m, NULL, fn));
    memcpy(mean, m, sizeof(double) * (size_t)space->ndim);
    return BERG_OK;
}

berg_status berg_space_covariance(const berg_space *space, const double *p, double *cov)
{
    static const char fn[] = "berg_space_covariance";
    double mass;
    BERG_TRY(berg__check_ptr(cov, fn, "cov"));
    BERG_TRY(check_measure(space, p, &mass, fn));
    double m[BERG_MAX_RANK], c[BERG_MAX_RANK * BERG_MAX_RANK];
    moments(space, p, mass, m, c);
    BERG_TRY(check_moments(space, m, c, fn));
    memcpy(cov, c, sizeof(double) * (size_t)(space->ndim * space->ndim));
    return BERG_OK;
}

berg_status berg_space_histogram(const berg_space *space, size_t count, const double *x,
                                 double *hist, size_t *outside)
{
    static const char fn[] = "berg_space_histogram";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_ptr(hist, fn, "hist"));
    BERG_REQUIRE(count > 0, BERG_ERR_SIZE, "%s: count is 0 (no points)", fn);
    size_t total;
    const int d = space->ndim;
    BERG_TRY(berg__mul_size(count, (size_t)d, &total, fn, "count x ndim"));
    BERG_TRY(berg__check_addressable(total, sizeof(double), fn, "x (count x ndim doubles)"));
    BERG_TRY(berg__check_ptr(x, fn, "x"));
    BERG_TRY(berg__check_finite(x, total, fn, "x"));
    /* a density of one point that would round to fewer than ~32 bits
     * (below 2^-1042, deep in the subnormals) is refused */
    const double one = (1.0 / (double)count) / space->weight;
    BERG_REQUIRE(one >= 0x1p-1042, BERG_ERR_DOMAIN,
                 "%s: one point in a cell is the density 1 / (count w) = %g, below 2^-1042 "
                 "(cell volume w = %g, count = %zu)",
                 fn, one, space->weight, count);
    size_t n = space->size, out = 0;
    memset(hist, 0, n * sizeof(double));
    for (size_t j = 0; j < count; j++) {
        size_t idx = 0;
        int in = 1;
        for (int a = 0; a < d; a++) {
            double v = x[j * (size_t)d + (size_t)a], L = space->hi[a] - space->lo[a], c;
            if (space->bc[a] == BERG_PERIODIC) {
                /* the offset from lo in [0, L] from the exact remainders of
                 * v and lo: fmod(v - lo, L) was NaN when v - lo overflowed
                 * (a point counted in cell 0) and lost v's fraction far
                 * from the box */
                c = floor(berg__periodic_offset(v, space->lo[a], L) / space->h[a]);
            } else if (v < space->lo[a] || v > space->hi[a]) {
                in = 0;
                break;
            } else {
                c = floor((v - space->lo[a]) / space->h[a]);
            }
            if (!isfinite(c)) /* v - lo and h both overflow on a box near +-DBL_MAX: halves */
                c = floor((0.5 * v - 0.5 * space->lo[a]) /
                          (0.5 * space->hi[a] - 0.5 * space->lo[a]) * (double)space->n[a]);
            size_t ci = !(c > 0.0) ? 0
                        : (c >= (double)space->n[a]) ? space->n[a] - 1 : (size_t)c;
            idx += ci * space->stride[a];
        }
        if (in)
            hist[idx] += 1.0;
        else
            out++;
    }
    /* (k / count) / w: 1 / (count w) overflowed to 0 for cells near 1e307 */
    for (size_t i = 0; i < n; i++)
        hist[i] = (hist[i] / (double)count) / space->weight;
    if (outside)
        *outside = out;
    return BERG_OK;
}
