/*
 * fuzz_space: berg_space_create with any rank, sizes, bounds, boundaries and
 * metric, then the queries and the functions that take arrays on a space
 * (integrate, normalize, mean/covariance, histogram).
 *
 * Promises checked: a created space reports the shape, bounds and boundaries
 * it was given, positive finite spacing, cell weight and volume, and a
 * symmetric inverse metric with g ginv = I; integrals of finite states are
 * finite; normalize leaves a measure of integral 1 (and reports a positive
 * finite mass); mean and covariance are finite, the mean inside the box, the
 * covariance symmetric with a non-negative diagonal; a histogram is a
 * density (>= 0, integral = the share of the points inside the box). Every refusal names the
 * function and leaves the outputs untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 256

static void check_queries(const berg_space *s, const fz_space_args *a)
{
    size_t d = a->ndim, size = 1;
    for (size_t i = 0; i < d; i++)
        size *= a->n[i];
    FZ_CHECK(berg_space_rank(s) == d, "rank %zu, expected %zu", berg_space_rank(s), d);
    FZ_CHECK(berg_space_size(s) == size, "size %zu, expected %zu", berg_space_size(s), size);
    size_t n[4];
    double lo[4], hi[4], h[4], g[16], gi[16];
    berg_boundary bc[4];
    FZ_CHECK(berg_space_shape(s, n) == BERG_OK, "berg_space_shape failed");
    FZ_CHECK(berg_space_bounds(s, lo, hi) == BERG_OK, "berg_space_bounds failed");
    FZ_CHECK(berg_space_boundaries(s, bc) == BERG_OK, "berg_space_boundaries failed");
    FZ_CHECK(berg_space_spacing(s, h) == BERG_OK, "berg_space_spacing failed");
    FZ_CHECK(berg_space_metric(s, g) == BERG_OK, "berg_space_metric failed");
    FZ_CHECK(berg_space_inverse_metric(s, gi) == BERG_OK, "berg_space_inverse_metric failed");
    for (size_t i = 0; i < d; i++) {
        FZ_CHECK(n[i] == a->n[i], "n[%zu] = %zu, given %zu", i, n[i], a->n[i]);
        FZ_CHECK(lo[i] == a->lower[i] && hi[i] == a->upper[i], "bounds of axis %zu changed", i);
        FZ_CHECK(bc[i] == (a->has_bc ? a->bc[i] : BERG_PERIODIC), "bc[%zu] = %d", i, (int)bc[i]);
        FZ_CHECK(isfinite(h[i]) && h[i] > 0.0, "h[%zu] = %g", i, h[i]);
    }
    double w = berg_space_cell_weight(s), vol = berg_space_volume(s),
           vf = berg_space_volume_factor(s);
    FZ_CHECK(isfinite(w) && w > 0.0, "cell weight %g", w);
    FZ_CHECK(isfinite(vol) && vol > 0.0, "volume %g", vol);
    FZ_CHECK(isfinite(vf) && vf > 0.0, "volume factor sqrt(det g) = %g", vf);
    FZ_CHECK(fz_all_finite(g, d * d) && fz_all_finite(gi, d * d), "metric not finite");
    /* g ginv = I to a tolerance that scales with the condition of g */
    double gmax = 0.0, gimax = 0.0;
    for (size_t i = 0; i < d * d; i++) {
        gmax = fmax(gmax, fabs(g[i]));
        gimax = fmax(gimax, fabs(gi[i]));
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            FZ_CHECK(gi[i * d + j] == gi[j * d + i], "inverse metric not symmetric at (%zu,%zu)",
                     i, j);
            long double sum = 0.0L;
            for (size_t k = 0; k < d; k++)
                sum += (long double)g[i * d + k] * gi[k * d + j];
            double err = fabs((double)sum - (i == j ? 1.0 : 0.0));
            FZ_CHECK(err <= 1e-10 * fmax(1.0, gmax * gimax), "g ginv - I = %g at (%zu,%zu)", err,
                     i, j);
        }
    for (size_t i = 0; i < d; i++) {
        double x[64];
        FZ_CHECK(berg_space_coordinates(s, i, x) == BERG_OK, "coordinates of axis %zu", i);
        for (size_t k = 0; k < n[i]; k++)
            FZ_CHECK(isfinite(x[k]) && x[k] >= lo[i] && x[k] <= hi[i],
                     "coordinate %zu of axis %zu = %g outside [%g, %g]", k, i, x[k], lo[i], hi[i]);
    }
}

static void check_arrays(fz_in *f, const berg_space *s)
{
    size_t size = berg_space_size(s), d = berg_space_rank(s);
    double lo[4], hi[4];
    (void)berg_space_bounds(s, lo, hi);
    double p[MAX_SIZE], q[MAX_SIZE], out;
    fz_array(f, size, p);
    fz_note_array("p", p, size);

    /* integrate */
    fz_fill(&out, sizeof out);
    berg_status st = berg_space_integrate(s, p, &out);
    if (st == BERG_OK)
        FZ_CHECK(isfinite(out), "berg_space_integrate: OK with integral %g", out);
    else {
        fz_check_refusal(st, "berg_space_integrate");
        FZ_CHECK(fz_untouched(&out, sizeof out), "berg_space_integrate wrote out on failure");
    }

    /* normalize */
    memcpy(q, p, size * sizeof(double));
    double mass;
    fz_fill(&mass, sizeof mass);
    st = berg_space_normalize(s, q, &mass);
    if (st == BERG_OK) {
        FZ_CHECK(isfinite(mass) && mass > 0.0, "berg_space_normalize: OK with mass %g", mass);
        FZ_CHECK(fz_all_finite(q, size), "berg_space_normalize: OK with a non-finite value");
        for (size_t i = 0; i < size; i++)
            FZ_CHECK(q[i] >= 0.0, "berg_space_normalize: OK with q[%zu] = %g", i, q[i]);
        double m = fz_mass(s, q);
        FZ_CHECK(fabs(m - 1.0) <= 1e-12, "berg_space_normalize: OK, integral afterwards %.17g", m);
    } else {
        fz_check_refusal(st, "berg_space_normalize");
        FZ_CHECK(memcmp(q, p, size * sizeof(double)) == 0, "berg_space_normalize changed p on failure");
        FZ_CHECK(fz_untouched(&mass, sizeof mass), "berg_space_normalize wrote mass on failure");
    }

    /* mean and covariance of the measure p */
    double mean[4], cov[16];
    fz_fill(mean, sizeof mean);
    fz_fill(cov, sizeof cov);
    st = berg_space_moments(s, p, mean, cov);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(mean, d) && fz_all_finite(cov, d * d),
                 "berg_space_moments: OK with non-finite moments");
        for (size_t i = 0; i < d; i++) {
            double tol = 1e-9 * (hi[i] - lo[i]) + 64.0 * DBL_EPSILON * fmax(fabs(lo[i]), fabs(hi[i]));
            FZ_CHECK(mean[i] >= lo[i] - tol && mean[i] <= hi[i] + tol,
                     "berg_space_moments: mean[%zu] = %.17g outside [%.17g, %.17g]", i, mean[i], lo[i],
                     hi[i]);
            FZ_CHECK(cov[i * d + i] >= 0.0, "berg_space_moments: cov[%zu][%zu] = %g", i, i,
                     cov[i * d + i]);
            for (size_t j = 0; j < d; j++)
                FZ_CHECK(cov[i * d + j] == cov[j * d + i], "berg_space_moments: cov not symmetric");
        }
    } else {
        fz_check_refusal(st, "berg_space_moments");
        FZ_CHECK(fz_untouched(mean, sizeof mean) && fz_untouched(cov, sizeof cov),
                 "berg_space_moments wrote an output on failure");
    }

    /* histogram of a few points */
    size_t count = fz_range(f, 1, 8);
    double x[32];
    for (size_t i = 0; i < count * d; i++) {
        size_t axis = i % d;
        double u = (double)fz_byte(f) / 255.0;
        x[i] = fz_byte(f) < 200 ? lo[axis] + u * (hi[axis] - lo[axis]) : fz_double(f);
    }
    double hist[MAX_SIZE];
    size_t outside;
    fz_fill(hist, size * sizeof(double));
    fz_fill(&outside, sizeof outside);
    st = berg_space_histogram(s, count, x, hist, &outside);
    if (st == BERG_OK) {
        FZ_CHECK(outside <= count, "berg_space_histogram: outside = %zu of %zu", outside, count);
        FZ_CHECK(fz_all_finite(hist, size), "berg_space_histogram: OK with a non-finite value");
        for (size_t i = 0; i < size; i++)
            FZ_CHECK(hist[i] >= 0.0, "berg_space_histogram: hist[%zu] = %g", i, hist[i]);
        /* hist_i = (number in cell i) / (count w): integral = share inside */
        double m = fz_mass(s, hist), inside = (double)(count - outside) / (double)count;
        FZ_CHECK(fabs(m - inside) <= 1e-9, "berg_space_histogram: integral %.17g, %zu of %zu inside",
                 m, count - outside, count);
    } else {
        fz_check_refusal(st, "berg_space_histogram");
        FZ_CHECK(fz_untouched(hist, size * sizeof(double)) && fz_untouched(&outside, sizeof outside),
                 "berg_space_histogram wrote an output on failure");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    fz_space_args a;
    fz_space_decode(&f, 4, 64, MAX_SIZE, &a);
    berg_space *s = FZ_HANDLE_SENTINEL;
    berg_status st = berg_space_create(&s, a.ndim, a.n, a.lower, a.upper, a.has_bc ? a.bc : NULL,
                                       a.has_metric ? a.metric : NULL);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_space_create");
        FZ_CHECK(s == FZ_HANDLE_SENTINEL, "berg_space_create wrote *out on failure");
        return 0;
    }
    check_queries(s, &a);
    check_arrays(&f, s);
    berg_space_destroy(s);
    return 0;
}
