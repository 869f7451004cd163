/*
 * fuzz_sinkhorn: berg_sinkhorn_create (scaling and log domain) with any
 * eps, then solve, divergence and barycenter on any measures of spaces of
 * rank 1-2 with any box, boundaries and metric, on 1 or 2 threads.
 *
 * Promises checked: OK => cost and potentials finite; the Sinkhorn
 * divergence is finite and >= 0 (to 1e-6 of the squared diameter of the
 * box); the barycenter is a density (finite, >= 0, integral 1 to 1e-9).
 * Refusals name the function and leave every output untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    berg_space *s = fz_space(&f, 2, 24, MAX_SIZE);
    if (s == NULL)
        return 0;
    size_t n = berg_space_size(s), d = berg_space_rank(s);
    double lo[4], hi[4];
    (void)berg_space_bounds(s, lo, hi);
    double diam2 = 0.0;
    for (size_t i = 0; i < d; i++)
        diam2 += (hi[i] - lo[i]) * (hi[i] - lo[i]);

    static const unsigned flag_choices[] = {0, BERG_SINKHORN_LOG_DOMAIN, 0,
                                            BERG_SINKHORN_LOG_DOMAIN, BERG_FP_FOURIER};
    /* the byte that picks the mode also picks 1 or 2 threads (the
     * corpus's other bytes keep their meaning) */
    unsigned pick = fz_byte(&f), flags = flag_choices[pick % 5];
    size_t threads = 1 + (pick / 5) % 2;
    double eps = fz_byte(&f) < 200 ? (0.01 + (double)fz_byte(&f) / 64.0) * (diam2 > 0 ? diam2 : 1)
                                   : fz_double(&f);
    fz_note(" sinkhorn flags 0x%x eps %.17g threads %zu", flags, eps, threads);
    /* the library-wide setting, which every mode follows (a log-domain
     * handle takes no count of its own) */
    FZ_CHECK(berg_set_threads(threads) == BERG_OK, "berg_set_threads(%zu)", threads);
    berg_sinkhorn *sk = FZ_HANDLE_SENTINEL;
    berg_status st = berg_sinkhorn_create(&sk, s, eps, flags);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_sinkhorn_create");
        FZ_CHECK(sk == FZ_HANDLE_SENTINEL, "berg_sinkhorn_create wrote *out on failure");
        berg_space_destroy(s);
        return 0;
    }
    /* bounded work per execution: a fuzzed cap, at most 2000 iterations */
    size_t cap = 1 + (size_t)fz_u16(&f) % 2000;
    FZ_CHECK(berg_sinkhorn_set_max_iterations(sk, cap) == BERG_OK, "set_max_iterations(%zu)", cap);

    double p[3 * MAX_SIZE], q[MAX_SIZE];
    fz_array(&f, n, p);
    fz_array(&f, n, q);
    fz_note_array("p", p, n);
    fz_note_array("q", q, n);

    double cost, fpot[MAX_SIZE], gpot[MAX_SIZE];
    fz_fill(&cost, sizeof cost);
    fz_fill(fpot, n * sizeof(double));
    fz_fill(gpot, n * sizeof(double));
    st = berg_sinkhorn_solve(sk, p, q, &cost, fpot, gpot);
    if (st == BERG_OK) {
        FZ_CHECK(isfinite(cost), "berg_sinkhorn_solve: OK with cost %g", cost);
        FZ_CHECK(fz_all_finite(fpot, n) && fz_all_finite(gpot, n),
                 "berg_sinkhorn_solve: OK with non-finite potentials");
    } else {
        fz_check_refusal(st, "berg_sinkhorn_solve");
        FZ_CHECK(fz_untouched(&cost, sizeof cost) && fz_untouched(fpot, n * sizeof(double)) &&
                     fz_untouched(gpot, n * sizeof(double)),
                 "berg_sinkhorn_solve wrote an output on failure");
    }

    double div;
    fz_fill(&div, sizeof div);
    st = berg_sinkhorn_divergence(sk, p, q, &div);
    if (st == BERG_OK)
        FZ_CHECK(isfinite(div) && div >= -1e-6 * diam2,
                 "berg_sinkhorn_divergence: OK with %g (squared diameter %g)", div, diam2);
    else {
        fz_check_refusal(st, "berg_sinkhorn_divergence");
        FZ_CHECK(fz_untouched(&div, sizeof div), "berg_sinkhorn_divergence wrote div on failure");
    }

    size_t k = fz_range(&f, 1, 3);
    memcpy(p + n, q, n * sizeof(double));
    if (k == 3)
        fz_array(&f, n, p + 2 * n);
    double w[3], out[MAX_SIZE];
    for (size_t r = 0; r < k; r++)
        w[r] = fz_byte(&f) < 220 ? (double)fz_byte(&f) / 16.0 : fz_double(&f);
    fz_note_array(" barycenter weights", w, k);
    fz_fill(out, n * sizeof(double));
    st = berg_sinkhorn_barycenter(sk, k, p, w, out);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(out, n), "berg_sinkhorn_barycenter: OK with a non-finite value");
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(out[i] >= 0.0, "berg_sinkhorn_barycenter: out[%zu] = %g", i, out[i]);
        double m = fz_mass(s, out);
        FZ_CHECK(fabs(m - 1.0) <= 1e-9, "berg_sinkhorn_barycenter: integral %.17g", m);
    } else {
        fz_check_refusal(st, "berg_sinkhorn_barycenter");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)),
                 "berg_sinkhorn_barycenter wrote out on failure");
    }
    berg_sinkhorn_destroy(sk);
    berg_space_destroy(s);
    return 0;
}
