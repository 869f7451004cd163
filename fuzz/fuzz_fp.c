/*
 * fuzz_fp: berg_fp_create (finite volume and BERG_FP_FOURIER) + evolve with
 * any t + stationary, on spaces of rank 1-3 with any box, boundaries and
 * metric, and any potential V (arbitrary values, or a smooth confining
 * quadratic that the Fourier discretization accepts).
 *
 * Promises checked: OK => outputs finite; evolve keeps a state >= 0 (to the
 * tolerance 1e-8 relative to the mass, plus rounding) and, without
 * Dirichlet axes, conserves its mass; t = 0 copies; stationary is a density
 * (finite, >= 0, integral 1). Refusals name the function and leave out /
 * *out untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 64

static void potential(fz_in *f, const berg_space *s, double *V)
{
    size_t n = berg_space_size(s), d = berg_space_rank(s);
    if (fz_byte(f) % 2) {
        fz_array(f, n, V);
        return;
    }
    /* a quadratic a |x - c|^2 over the box, in cell-centre coordinates */
    size_t shape[4];
    double lo[4], hi[4];
    (void)berg_space_shape(s, shape);
    (void)berg_space_bounds(s, lo, hi);
    double a = fz_byte(f) < 220 ? (double)fz_byte(f) / 8.0 : fz_double(f);
    for (size_t i = 0; i < n; i++) {
        size_t rem = i;
        double r2 = 0.0;
        for (size_t k = d; k-- > 0;) {
            size_t j = rem % shape[k];
            rem /= shape[k];
            double u = ((double)j + 0.5) / (double)shape[k] - 0.5; /* in (-1/2, 1/2) */
            r2 += 16.0 * u * u;
        }
        V[i] = a * r2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    berg_space *s = fz_space(&f, 3, 16, MAX_SIZE);
    if (s == NULL)
        return 0;
    size_t n = berg_space_size(s);
    double V[MAX_SIZE];
    potential(&f, s, V);
    static const unsigned flag_choices[] = {0, BERG_PLAN_ESTIMATE,
                                            BERG_FP_FOURIER | BERG_PLAN_ESTIMATE,
                                            BERG_FP_FOURIER | BERG_PLAN_ESTIMATE,
                                            BERG_SYMBOL_FD, BERG_SINKHORN_LOG_DOMAIN};
    uint8_t fsel = fz_byte(&f);
    unsigned flags = flag_choices[fsel % 6];
    fz_note(" fp flags 0x%x", flags);
    fz_note_array("V", V, n);
    berg_fp *fp = FZ_HANDLE_SENTINEL;
    berg_status st = berg_fp_create(&fp, s, V, flags);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_fp_create");
        FZ_CHECK(fp == FZ_HANDLE_SENTINEL, "berg_fp_create wrote *out on failure");
        berg_space_destroy(s);
        return 0;
    }

    double q[MAX_SIZE];
    fz_fill(q, n * sizeof(double));
    st = berg_fp_stationary(fp, q);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(q, n), "berg_fp_stationary: OK with a non-finite value");
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(q[i] >= 0.0, "berg_fp_stationary: q[%zu] = %g", i, q[i]);
        double m = fz_mass(s, q);
        FZ_CHECK(fabs(m - 1.0) <= 1e-12, "berg_fp_stationary: integral %.17g", m);
    } else {
        fz_check_refusal(st, "berg_fp_stationary");
        FZ_CHECK(fz_untouched(q, n * sizeof(double)), "berg_fp_stationary wrote q on failure");
    }

    double in[MAX_SIZE], out[MAX_SIZE];
    uint8_t isel = fz_byte(&f);
    if (isel < 64 && st == BERG_OK) /* the stationary state times a scale */
        for (size_t i = 0; i < n; i++)
            in[i] = q[i] * (1.0 + (double)(isel % 4));
    else
        fz_array(&f, n, in);
    double t = fz_byte(&f) < 200 ? fabs(fz_double(&f)) : fz_double(&f);
    fz_note(" evolve t %.17g", t);
    fz_note_array("in", in, n);
    fz_fill(out, n * sizeof(double));
    st = berg_fp_evolve(fp, t, in, out);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(out, n), "berg_fp_evolve: OK with a non-finite value (t = %g)", t);
        if (t == 0.0)
            FZ_CHECK(memcmp(in, out, n * sizeof(double)) == 0, "berg_fp_evolve: t = 0 did not copy");
        double m_in = fz_mass(s, in);
        long double lm_in = fz_mass_ld(s, in), lm_out = fz_mass_ld(s, out);
        double w = berg_space_cell_weight(s);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(out[i] >= -1e-7 * m_in / w, "berg_fp_evolve: out[%zu] = %g < 0 (mass %g)", i,
                     out[i], m_in);
        /* a state whose integral overflows has no mass to compare */
        if (!isfinite(m_in))
            ;
        else if (!fz_has_dirichlet(s))
            FZ_CHECK(fabsl(lm_out - lm_in) <= 1e-9L * lm_in + 4.0L * (long double)n * w * DBL_TRUE_MIN,
                     "berg_fp_evolve: mass %.17Lg -> %.17Lg", lm_in, lm_out);
        else
            FZ_CHECK(lm_out <= lm_in * (1.0L + 1e-9L),
                     "berg_fp_evolve: Dirichlet mass %.17Lg -> %.17Lg", lm_in, lm_out);
    } else {
        fz_check_refusal(st, "berg_fp_evolve");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)), "berg_fp_evolve wrote out on failure");
    }
    berg_fp_destroy(fp);
    berg_space_destroy(s);
    return 0;
}
