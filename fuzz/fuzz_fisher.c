/*
 * fuzz_fisher: berg_fisher_from_scores with any scores (N <= 16, d <= 4)
 * and berg_fisher_location with any measure on spaces of rank 1-3 with any
 * box, boundaries and metric.
 *
 * Promises checked: OK => Imat finite and exactly symmetric; from_scores
 * equals (1/N) sum s s^T computed independently here in long double (to
 * 1e-12 of (1/N) sum |s_a| |s_b|, plus (N + 1) DBL_MIN for gradual
 * underflow), with a non-negative diagonal; the
 * location metric has a non-negative diagonal. Refusals name the function
 * and leave Imat untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 128

static void check_sym(const char *fn, size_t d, const double *I)
{
    FZ_CHECK(fz_all_finite(I, d * d), "%s: OK with a non-finite entry", fn);
    for (size_t a = 0; a < d; a++) {
        FZ_CHECK(I[a * d + a] >= 0.0, "%s: I[%zu][%zu] = %g < 0", fn, a, a, I[a * d + a]);
        for (size_t b = 0; b < d; b++)
            FZ_CHECK(I[a * d + b] == I[b * d + a], "%s: not exactly symmetric at (%zu,%zu)", fn, a,
                     b);
    }
}

static void scores(fz_in *f)
{
    size_t N = fz_range(f, 1, 16), d = fz_range(f, 1, 4);
    double s[64], I[16];
    fz_array(f, N * d, s);
    fz_note(" from_scores N %zu d %zu", N, d);
    fz_note_array("scores", s, N * d);
    fz_fill(I, sizeof I);
    berg_status st = berg_fisher_from_scores(N, d, s, I);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_fisher_from_scores");
        FZ_CHECK(fz_untouched(I, sizeof I), "berg_fisher_from_scores wrote Imat on failure");
        return;
    }
    check_sym("berg_fisher_from_scores", d, I);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            long double ref = 0.0L, mag = 0.0L;
            for (size_t t = 0; t < N; t++) {
                ref += (long double)s[t * d + a] * s[t * d + b];
                mag += fabsl((long double)s[t * d + a] * s[t * d + b]);
            }
            ref /= (long double)N;
            mag /= (long double)N;
            /* relative, and absolute below the normal range (gradual underflow) */
            FZ_CHECK(fabsl((long double)I[a * d + b] - ref) <=
                         1e-12L * mag + (long double)(N + 1) * DBL_MIN,
                     "berg_fisher_from_scores: I[%zu][%zu] = %.17g, expected %.17Lg", a, b,
                     I[a * d + b], ref);
        }
}

static void location(fz_in *f)
{
    berg_space *s = fz_space(f, 3, 32, MAX_SIZE);
    if (s == NULL)
        return;
    size_t n = berg_space_size(s), d = berg_space_rank(s);
    double p[MAX_SIZE], I[16];
    fz_array(f, n, p);
    fz_note_array("p0", p, n);
    fz_fill(I, sizeof I);
    berg_status st = berg_fisher_location(s, p, I);
    if (st == BERG_OK)
        check_sym("berg_fisher_location", d, I);
    else {
        fz_check_refusal(st, "berg_fisher_location");
        FZ_CHECK(fz_untouched(I, sizeof I), "berg_fisher_location wrote Imat on failure");
    }
    berg_space_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    if (fz_byte(&f) % 2)
        scores(&f);
    else
        location(&f);
    return 0;
}
