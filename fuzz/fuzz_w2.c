/*
 * fuzz_w2: the 1-D Wasserstein functions (berg_w2_distance_1d,
 * berg_wp_distance_1d with any order, berg_w2_interpolate_1d with any t)
 * on any rank-1 space (and sometimes rank 2, which they refuse), and
 * berg_w2_gaussian with any means and covariances.
 *
 * Promises checked: OK => a distance is finite, >= 0 and at most the
 * diameter of the box (length times sqrt(g)); W2(p, q) = W2(q, p) to 1e-12
 * relative; W_1 <= W_2 <= W_order for order >= 2 (Jensen, probability
 * measures), compared as squares in units of the diameter L to 2e-9
 * relative plus 64 eps (the rounding of a W_p^p integral is absolute,
 * ~eps L^p); W2(p, p) = 0; the interpolant is a density
 * (finite, >= 0, integral 1); W2 between Gaussians is finite and >= 0.
 * Refusals name the function and leave the output untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 64

static int w(const berg_space *s, const char *fn, double order, const double *p, const double *q,
             double L, double *out)
{
    double v;
    fz_fill(&v, sizeof v);
    berg_status st = strcmp(fn, "berg_w2_distance_1d") == 0
                         ? berg_w2_distance_1d(s, p, q, &v)
                         : berg_wp_distance_1d(s, order, p, q, &v);
    if (st != BERG_OK) {
        fz_check_refusal(st, fn);
        FZ_CHECK(fz_untouched(&v, sizeof v), "%s wrote its output on failure", fn);
        return 0;
    }
    FZ_CHECK(isfinite(v) && v >= 0.0, "%s: OK with distance %g (order %g)", fn, v, order);
    FZ_CHECK(v <= L * (1.0 + 1e-12), "%s: distance %g above the diameter %g (order %g)", fn, v, L,
             order);
    *out = v;
    return 1;
}

static void gaussian(fz_in *f)
{
    size_t d = fz_range(f, 1, 4);
    double m1[4], m2[4], S1[16], S2[16], A[16];
    for (size_t i = 0; i < d; i++) {
        m1[i] = fz_double(f);
        m2[i] = fz_double(f);
    }
    for (int which = 0; which < 2; which++) {
        double *S = which ? S2 : S1;
        if (fz_byte(f) < 200) { /* A A^T + diag: SPD */
            for (size_t i = 0; i < d * d; i++)
                A[i] = ((double)fz_byte(f) - 128.0) / 32.0;
            double scale = fz_byte(f) < 200 ? 1.0 : fabs(fz_double(f));
            for (size_t i = 0; i < d; i++)
                for (size_t j = 0; j < d; j++) {
                    double sum = i == j ? 0.01 : 0.0;
                    for (size_t k = 0; k < d; k++)
                        sum += A[i * d + k] * A[j * d + k];
                    S[i * d + j] = scale * sum;
                }
        } else
            for (size_t i = 0; i < d * d; i++)
                S[i] = fz_double(f);
    }
    fz_note(" gaussian d %zu", d);
    fz_note_array("m1", m1, d);
    fz_note_array("S1", S1, d * d);
    fz_note_array("m2", m2, d);
    fz_note_array("S2", S2, d * d);
    double v;
    fz_fill(&v, sizeof v);
    berg_status st = berg_w2_gaussian(d, m1, S1, m2, S2, &v);
    if (st == BERG_OK)
        FZ_CHECK(isfinite(v) && v >= 0.0, "berg_w2_gaussian: OK with %g", v);
    else {
        fz_check_refusal(st, "berg_w2_gaussian");
        FZ_CHECK(fz_untouched(&v, sizeof v), "berg_w2_gaussian wrote w2 on failure");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    if (fz_byte(&f) % 4 == 0) {
        gaussian(&f);
        return 0;
    }
    berg_space *s = fz_space(&f, fz_byte(&f) < 240 ? 1 : 2, 64, MAX_SIZE);
    if (s == NULL)
        return 0;
    size_t n = berg_space_size(s);
    double lo[4], hi[4], g[16];
    (void)berg_space_bounds(s, lo, hi);
    (void)berg_space_metric(s, g);
    double L = (hi[0] - lo[0]) * sqrt(g[0]);
    double p[MAX_SIZE], q[MAX_SIZE];
    fz_array(&f, n, p);
    fz_array(&f, n, q);
    double order = fz_byte(&f) < 128 ? 1.0 + (double)fz_byte(&f) / 16.0 : fz_double(&f);
    double t = fz_byte(&f) < 200 ? (double)fz_byte(&f) / 255.0 : fz_double(&f);
    fz_note_array("p", p, n);
    fz_note_array("q", q, n);
    fz_note(" order %.17g t %.17g", order, t);

    double w2pq, w2qp, w2pp, w1, wo;
    int ok = w(s, "berg_w2_distance_1d", 2.0, p, q, L, &w2pq);
    if (ok) {
        FZ_CHECK(w(s, "berg_w2_distance_1d", 2.0, q, p, L, &w2qp), "W2(q, p) refused, W2(p, q) not");
        FZ_CHECK(fabs(w2pq - w2qp) <= 1e-12 * w2pq + 1e-300 * L,
                 "W2 not symmetric: %.17g vs %.17g", w2pq, w2qp);
        FZ_CHECK(w(s, "berg_w2_distance_1d", 2.0, p, p, L, &w2pp), "W2(p, p) refused");
        FZ_CHECK(w2pp <= 1e-12 * L, "W2(p, p) = %g", w2pp);
        if (w(s, "berg_wp_distance_1d", 1.0, p, q, L, &w1))
            /* Jensen, up to the rounding of each distance. A CDF-based W_p^p
             * is an integral whose rounding is absolute, ~eps L^p (two
             * CDFs an ulp apart inside the grid give W2^2 ~ eps L^2, W2 ~
             * sqrt(eps) L), so the comparison is of the squares: relative
             * 2e-9, plus 64 eps L^2 */
            FZ_CHECK((w1 / L) * (w1 / L) <= (w2pq / L) * (w2pq / L) * (1.0 + 2e-9) +
                         64.0 * DBL_EPSILON,
                     "W1 = %.17g > W2 = %.17g", w1, w2pq);
    }
    if (w(s, "berg_wp_distance_1d", order, p, q, L, &wo) && ok && order >= 2.0)
        FZ_CHECK((wo / L) * (wo / L) >= (w2pq / L) * (w2pq / L) * (1.0 - 2e-9) -
                     64.0 * DBL_EPSILON,
                 "W_%g = %.17g < W2 = %.17g", order, wo, w2pq);

    double out[MAX_SIZE];
    fz_fill(out, n * sizeof(double));
    berg_status st = berg_w2_interpolate_1d(s, t, p, q, out);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(out, n), "berg_w2_interpolate_1d: OK with a non-finite value");
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(out[i] >= 0.0, "berg_w2_interpolate_1d: out[%zu] = %g", i, out[i]);
        double m = fz_mass(s, out);
        FZ_CHECK(fabs(m - 1.0) <= 1e-9, "berg_w2_interpolate_1d: integral %.17g", m);
    } else {
        fz_check_refusal(st, "berg_w2_interpolate_1d");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)),
                 "berg_w2_interpolate_1d wrote out on failure");
    }
    berg_space_destroy(s);
    return 0;
}
