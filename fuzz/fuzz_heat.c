/*
 * fuzz_heat: berg_heat_create + apply / apply_times / channel information
 * with any t, and the multipliers (regulator and radial-table symbols):
 * create + apply + exp_apply, on spaces of any rank, box and metric.
 *
 * Promises checked: OK => outputs finite; t = 0 copies the input exactly;
 * without Dirichlet axes the integral of the state is conserved (to 1e-9
 * of the integral of |in|); with BERG_SYMBOL_FD and a diagonal metric a
 * state >= 0 stays >= 0 (to rounding); apply_times equals separate applies
 * bitwise; the channel information is finite and >= 0. Refusals name the
 * function and leave out / *out untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 128

static int diagonal_metric(const berg_space *s)
{
    double g[16];
    size_t d = berg_space_rank(s);
    (void)berg_space_metric(s, g);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            if (i != j && g[i * d + j] != 0.0)
                return 0;
    return 1;
}

static void check_state(const berg_space *s, const char *fn, double t, const double *in,
                        const double *out, int fd)
{
    size_t n = berg_space_size(s);
    FZ_CHECK(fz_all_finite(out, n), "%s: OK with a non-finite output (t = %g)", fn, t);
    if (t == 0.0)
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(memcmp(in + i, out + i, sizeof(double)) == 0,
                     "%s: t = 0 did not copy: in[%zu] = %.17g, out[%zu] = %.17g", fn, i, in[i], i,
                     out[i]);
    double amax = 0.0;
    int nonneg = 1;
    for (size_t i = 0; i < n; i++) {
        amax = fmax(amax, fabs(in[i]));
        nonneg &= in[i] >= 0.0;
    }
    if (!fz_has_dirichlet(s)) {
        double abs_in = fz_abs_mass(s, in);
        if (isfinite(abs_in)) {
            long double m_in = fz_mass_ld(s, in), m_out = fz_mass_ld(s, out);
            /* an output value in the subnormal range is rounded to a
             * multiple of DBL_TRUE_MIN: up to one such step per value may
             * be lost or gained (an input of values 16 DBL_TRUE_MIN spread
             * by a long time: relative 1e-3, the grid's own limit) */
            long double grid = (long double)n * DBL_TRUE_MIN * berg_space_cell_weight(s);
            FZ_CHECK(fabsl(m_out - m_in) <= 1e-9L * abs_in + grid + 1e-300L,
                     "%s: mass %.17Lg -> %.17Lg (t = %g, integral of |in| %g)", fn, m_in, m_out,
                     t, abs_in);
        }
    }
    if (fd && nonneg && diagonal_metric(s))
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(out[i] >= -1e-12 * amax, "%s: FD symbol made out[%zu] = %g < 0 (t = %g)", fn,
                     i, out[i], t);
}

static void fuzz_heat(fz_in *f, const berg_space *s)
{
    static const unsigned flag_choices[] = {0, BERG_PLAN_ESTIMATE, BERG_SYMBOL_FD,
                                            BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD,
                                            BERG_FP_FOURIER, 0x80000000u};
    unsigned flags = flag_choices[fz_byte(f) % 6] | BERG_PLAN_ESTIMATE;
    if (flags & (BERG_FP_FOURIER | 0x80000000u))
        flags &= ~(unsigned)BERG_PLAN_ESTIMATE;
    size_t n = berg_space_size(s);
    int ex = fz_byte(f) % 4 == 0;
    const char *cfn = ex ? "berg_heat_create_ex" : "berg_heat_create";
    berg_heat *h = FZ_HANDLE_SENTINEL;
    berg_status st = ex ? berg_heat_create_ex(&h, s, 1, 1 + fz_byte(f) % 2, flags)
                        : berg_heat_create(&h, s, flags);
    if (st != BERG_OK) {
        fz_check_refusal(st, cfn);
        FZ_CHECK(h == FZ_HANDLE_SENTINEL, "%s wrote *out on failure", cfn);
        return;
    }
    int fd = (flags & BERG_SYMBOL_FD) != 0;
    double in[MAX_SIZE], out[3 * MAX_SIZE], one[MAX_SIZE];
    fz_array(f, n, in);
    double t = fz_byte(f) < 200 ? fabs(fz_double(f)) : fz_double(f);
    fz_note(" heat flags 0x%x t %.17g", flags, t);
    fz_note_array("in", in, n);

    fz_fill(out, n * sizeof(double));
    st = berg_heat_apply(h, t, in, out);
    if (st == BERG_OK)
        check_state(s, "berg_heat_apply", t, in, out, fd);
    else {
        fz_check_refusal(st, "berg_heat_apply");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)), "berg_heat_apply wrote out on failure");
    }

    /* several times at once equal separate applies */
    size_t nt = fz_range(f, 1, 3);
    double ts[3];
    for (size_t j = 0; j < nt; j++)
        ts[j] = fz_byte(f) < 220 ? fabs(fz_double(f)) : fz_double(f);
    fz_fill(out, nt * n * sizeof(double));
    fz_note_array(" apply_times t", ts, nt);
    st = berg_heat_apply_times(h, nt, ts, in, out);
    if (st == BERG_OK) {
        for (size_t j = 0; j < nt; j++) {
            check_state(s, "berg_heat_apply_times", ts[j], in, out + j * n, fd);
            FZ_CHECK(berg_heat_apply(h, ts[j], in, one) == BERG_OK,
                     "berg_heat_apply_times accepted t[%zu] = %g that berg_heat_apply refuses", j,
                     ts[j]);
            FZ_CHECK(memcmp(one, out + j * n, n * sizeof(double)) == 0,
                     "berg_heat_apply_times block %zu (t = %g) differs from berg_heat_apply", j,
                     ts[j]);
        }
    } else {
        fz_check_refusal(st, "berg_heat_apply_times");
        FZ_CHECK(fz_untouched(out, nt * n * sizeof(double)),
                 "berg_heat_apply_times wrote out on failure");
    }

    /* mutual information of the heat channel for a density */
    double p[MAX_SIZE], info;
    memcpy(p, in, n * sizeof(double));
    if (fz_byte(f) < 192)
        fz_make_density(s, p);
    fz_fill(&info, sizeof info);
    st = berg_heat_channel_information(h, t, p, &info);
    if (st == BERG_OK)
        FZ_CHECK(isfinite(info) && info >= -1e-9, "berg_heat_channel_information: OK with %g",
                 info);
    else {
        fz_check_refusal(st, "berg_heat_channel_information");
        FZ_CHECK(fz_untouched(&info, sizeof info),
                 "berg_heat_channel_information wrote info on failure");
    }
    berg_heat_destroy(h);
}

static void fuzz_multiplier(fz_in *f, const berg_space *s)
{
    size_t n = berg_space_size(s);
    berg_multiplier *m = FZ_HANDLE_SENTINEL;
    berg_status st;
    const char *cfn;
    unsigned flags = fz_byte(f) < 240 ? BERG_PLAN_ESTIMATE : (unsigned)fz_byte(f) << 16;
    if (fz_byte(f) % 2) {
        cfn = "berg_multiplier_create_regulator";
        uint8_t kind = fz_byte(f);
        berg_regulator k = (berg_regulator)(kind < 250 ? kind % 5 : kind);
        double lambda = fz_double(f);
        fz_note(" regulator kind %d lambda %.17g flags 0x%x", (int)k, lambda, flags);
        st = berg_multiplier_create_regulator(&m, s, k, lambda, flags);
    } else {
        cfn = "berg_multiplier_create_radial";
        size_t np = fz_range(f, 1, 8);
        double kp[8], cp[8];
        double k = fz_byte(f) < 200 ? 0.0 : fz_double(f);
        for (size_t i = 0; i < np; i++) {
            kp[i] = k;
            k += fz_byte(f) < 230 ? 0.25 + (double)fz_byte(f) / 8.0 : fz_double(f);
            cp[i] = fz_byte(f) < 200 ? (double)fz_byte(f) / 32.0 : fz_double(f);
        }
        fz_note(" radial flags 0x%x", flags);
        fz_note_array("kp", kp, np);
        fz_note_array("cp", cp, np);
        st = berg_multiplier_create_radial(&m, s, np, kp, cp, flags);
    }
    if (st != BERG_OK) {
        fz_check_refusal(st, cfn);
        FZ_CHECK(m == FZ_HANDLE_SENTINEL, "%s wrote *out on failure", cfn);
        return;
    }
    double in[MAX_SIZE], out[MAX_SIZE];
    fz_array(f, n, in);
    fz_note(" %s", cfn);
    fz_note_array("in", in, n);
    fz_fill(out, n * sizeof(double));
    st = berg_multiplier_apply(m, in, out);
    if (st == BERG_OK)
        FZ_CHECK(fz_all_finite(out, n), "berg_multiplier_apply: OK with a non-finite output");
    else {
        fz_check_refusal(st, "berg_multiplier_apply");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)), "berg_multiplier_apply wrote out on failure");
    }
    double t = fz_byte(f) < 200 ? fabs(fz_double(f)) : fz_double(f);
    fz_note(" exp_apply t %.17g", t);
    fz_fill(out, n * sizeof(double));
    st = berg_multiplier_exp_apply(m, t, in, out);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(out, n), "berg_multiplier_exp_apply: OK with a non-finite output");
        if (t == 0.0)
            FZ_CHECK(memcmp(in, out, n * sizeof(double)) == 0,
                     "berg_multiplier_exp_apply: t = 0 did not copy");
    } else {
        fz_check_refusal(st, "berg_multiplier_exp_apply");
        FZ_CHECK(fz_untouched(out, n * sizeof(double)),
                 "berg_multiplier_exp_apply wrote out on failure");
    }
    berg_multiplier_destroy(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    uint8_t which = fz_byte(&f);
    berg_space *s = fz_space(&f, 4, 32, MAX_SIZE);
    if (s == NULL)
        return 0;
    if (which % 3 != 2)
        fuzz_heat(&f, s);
    else
        fuzz_multiplier(&f, s);
    berg_space_destroy(s);
    return 0;
}
