/*
 * fuzz_channel: berg_channel_create (heat and Fokker-Planck kinds) with any
 * t and potential, then apply, adjoint and Petz recovery, on spaces of rank
 * 1-2 with any box, boundaries and metric.
 *
 * Promises checked: OK => outputs finite; apply keeps a state >= 0 (to
 * 1e-7 of its largest value) and conserves its mass without Dirichlet axes
 * (1e-8 relative); without Dirichlet axes (where E keeps mass, so
 * E^dagger 1 = 1) the Petz map recovers the reference state: R(E(sigma)) =
 * sigma to 1e-6 of max sigma; Petz outputs are >= 0. Refusals name the
 * function and leave the output untouched.
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
    size_t n = berg_space_size(s);
    uint8_t ksel = fz_byte(&f);
    berg_channel_kind kind = (berg_channel_kind)(ksel < 250 ? ksel % 2 : ksel);
    double t = fz_byte(&f) < 200 ? (double)fz_byte(&f) / 64.0 : fz_double(&f);
    double V[MAX_SIZE];
    if (fz_byte(&f) % 2)
        fz_array(&f, n, V);
    else
        for (size_t i = 0; i < n; i++)
            V[i] = (double)fz_byte(&f) / 64.0;
    fz_note(" channel kind %d t %.17g", (int)kind, t);
    fz_note_array("V", V, n);
    berg_channel *ch = FZ_HANDLE_SENTINEL;
    berg_status st = berg_channel_create(&ch, s, kind, t, V);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_channel_create");
        FZ_CHECK(ch == FZ_HANDLE_SENTINEL, "berg_channel_create wrote *out on failure");
        berg_space_destroy(s);
        return 0;
    }
    double in[MAX_SIZE], out[MAX_SIZE], back[MAX_SIZE];
    fz_array(&f, n, in);
    fz_note_array("in", in, n);
    fz_fill(out, n * sizeof(double));
    st = berg_channel_apply(ch, in, out);
    int applied = st == BERG_OK;
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(out, n), "berg_channel_apply: OK with a non-finite value");
        double amax = 0.0;
        for (size_t i = 0; i < n; i++)
            amax = fmax(amax, in[i]);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(out[i] >= -1e-7 * amax, "berg_channel_apply: out[%zu] = %g < 0", i, out[i]);
        if (!fz_has_dirichlet(s)) {
            long double m_in = fz_mass_ld(s, in), m_out = fz_mass_ld(s, out);
            long double subn = 4.0L * (long double)n * berg_space_cell_weight(s) * DBL_TRUE_MIN;
            FZ_CHECK(fabsl(m_out - m_in) <= 1e-8L * m_in + subn,
                     "berg_channel_apply: mass %.17Lg -> %.17Lg", m_in, m_out);
        }
    } else {
        fz_check_refusal(st, "berg_channel_apply");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)), "berg_channel_apply wrote out on failure");
    }

    fz_fill(back, n * sizeof(double));
    st = berg_channel_adjoint(ch, in, back);
    if (st == BERG_OK)
        FZ_CHECK(fz_all_finite(back, n), "berg_channel_adjoint: OK with a non-finite value");
    else {
        fz_check_refusal(st, "berg_channel_adjoint");
        FZ_CHECK(fz_untouched(back, n * sizeof(double)), "berg_channel_adjoint wrote out on failure");
    }

    /* Petz recovery of sigma (a density) from rho1: E(sigma) or any state */
    double sigma[MAX_SIZE], rho1[MAX_SIZE], rec[MAX_SIZE];
    memcpy(sigma, in, n * sizeof(double));
    fz_make_density(s, sigma);
    int exact = fz_byte(&f) < 160;
    if (exact) {
        if (berg_channel_apply(ch, sigma, rho1) != BERG_OK)
            exact = 0;
    }
    if (!exact)
        fz_array(&f, n, rho1);
    fz_note_array(" petz sigma", sigma, n);
    fz_note_array("rho1", rho1, n);
    fz_fill(rec, n * sizeof(double));
    st = berg_channel_petz_recover(ch, sigma, rho1, rec);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(rec, n), "berg_channel_petz_recover: OK with a non-finite value");
        double smax = 0.0;
        for (size_t i = 0; i < n; i++)
            smax = fmax(smax, sigma[i]);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(rec[i] >= 0.0, "berg_channel_petz_recover: out[%zu] = %g < 0", i, rec[i]);
        /* E^dagger 1 = 1 only when E keeps mass: not on Dirichlet axes */
        if (exact && !fz_has_dirichlet(s))
            for (size_t i = 0; i < n; i++)
                FZ_CHECK(fabs(rec[i] - sigma[i]) <= 1e-6 * smax,
                         "berg_channel_petz_recover: R(E(sigma))[%zu] = %.17g, sigma = %.17g", i,
                         rec[i], sigma[i]);
    } else {
        fz_check_refusal(st, "berg_channel_petz_recover");
        FZ_CHECK(fz_untouched(rec, n * sizeof(double)),
                 "berg_channel_petz_recover wrote out on failure");
    }
    (void)applied;
    berg_channel_destroy(ch);
    berg_space_destroy(s);
    return 0;
}
