/*
 * fuzz_bayes: berg_bayes_create with any prior on parameter spaces of rank
 * 1-2 and a rank-1 data space, the location model y = a . u + b + noise
 * (noise as a measure on a grid, or a Gaussian log-density callback, with
 * any coefficients, so callbacks may return huge or non-finite values),
 * then observe any data and read the posterior, MAP and moments.
 *
 * Promises checked: OK => the posterior is a density (finite, >= 0,
 * integral 1 to 1e-9); the MAP lies in the parameter box; the mean is
 * finite and inside the box; the covariance is finite and symmetric with a
 * non-negative diagonal. Refusals name the function; a failed observe
 * leaves the posterior exactly as before (all or nothing); *out untouched.
 */
#include "fuzz_common.h"

#define MAX_SIZE 32

typedef struct model {
    double a[4], b, sigma;
} model;

static int forward(size_t du, const double *u, size_t dy, double *y, void *user_data)
{
    const model *m = user_data;
    double sum = m->b;
    for (size_t i = 0; i < du; i++)
        sum += m->a[i] * u[i];
    for (size_t j = 0; j < dy; j++)
        y[j] = sum;
    return 0;
}

static int gauss_logpdf(size_t dy, const double *x, double *logp, void *user_data)
{
    const model *m = user_data;
    double s = 0.0;
    for (size_t j = 0; j < dy; j++)
        s += x[j] * x[j];
    *logp = -0.5 * s / (m->sigma * m->sigma);
    return 0;
}

static void check_posterior(berg_bayes *b, const berg_space *param)
{
    size_t n = berg_space_size(param), d = berg_space_rank(param);
    double lo[4], hi[4];
    (void)berg_space_bounds(param, lo, hi);
    double pi[MAX_SIZE];
    fz_fill(pi, n * sizeof(double));
    berg_status st = berg_bayes_posterior(b, pi);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(pi, n), "berg_bayes_posterior: OK with a non-finite value");
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(pi[i] >= 0.0, "berg_bayes_posterior: pi[%zu] = %g", i, pi[i]);
        double m = fz_mass(param, pi);
        FZ_CHECK(fabs(m - 1.0) <= 1e-9, "berg_bayes_posterior: integral %.17g", m);
    } else {
        fz_check_refusal(st, "berg_bayes_posterior");
        FZ_CHECK(fz_untouched(pi, n * sizeof(double)), "berg_bayes_posterior wrote pi on failure");
    }
    double u[4];
    fz_fill(u, sizeof u);
    st = berg_bayes_map(b, u);
    if (st == BERG_OK) {
        for (size_t i = 0; i < d; i++)
            FZ_CHECK(isfinite(u[i]) && u[i] >= lo[i] && u[i] <= hi[i],
                     "berg_bayes_map: u[%zu] = %g outside [%g, %g]", i, u[i], lo[i], hi[i]);
    } else {
        fz_check_refusal(st, "berg_bayes_map");
        FZ_CHECK(fz_untouched(u, sizeof u), "berg_bayes_map wrote u on failure");
    }
    double mean[4], cov[16];
    fz_fill(mean, sizeof mean);
    fz_fill(cov, sizeof cov);
    st = berg_bayes_mean(b, mean, cov);
    if (st == BERG_OK) {
        FZ_CHECK(fz_all_finite(mean, d) && fz_all_finite(cov, d * d),
                 "berg_bayes_mean: OK with non-finite moments");
        for (size_t i = 0; i < d; i++) {
            double tol = 1e-9 * (hi[i] - lo[i]) + 64.0 * DBL_EPSILON * fmax(fabs(lo[i]), fabs(hi[i]));
            FZ_CHECK(mean[i] >= lo[i] - tol && mean[i] <= hi[i] + tol,
                     "berg_bayes_mean: mean[%zu] = %g outside [%g, %g]", i, mean[i], lo[i], hi[i]);
            FZ_CHECK(cov[i * d + i] >= 0.0, "berg_bayes_mean: cov[%zu][%zu] = %g", i, i,
                     cov[i * d + i]);
            for (size_t j = 0; j < d; j++)
                FZ_CHECK(cov[i * d + j] == cov[j * d + i], "berg_bayes_mean: cov not symmetric");
        }
    } else {
        fz_check_refusal(st, "berg_bayes_mean");
        FZ_CHECK(fz_untouched(mean, sizeof mean) && fz_untouched(cov, sizeof cov),
                 "berg_bayes_mean wrote an output on failure");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in f = {data, size};
    fz_reset();
    berg_space *param = fz_space(&f, 2, 16, MAX_SIZE);
    if (param == NULL)
        return 0;
    berg_space *dspace = fz_space(&f, 1, 16, 16);
    if (dspace == NULL) {
        berg_space_destroy(param);
        return 0;
    }
    size_t n = berg_space_size(param), du = berg_space_rank(param);
    double prior[MAX_SIZE];
    fz_array(&f, n, prior);
    fz_note_array(" prior", prior, n);
    unsigned flags = fz_byte(&f) < 240 ? 0u : BERG_PLAN_ESTIMATE;
    berg_bayes *b = FZ_HANDLE_SENTINEL;
    berg_status st = berg_bayes_create(&b, param, dspace, prior, flags);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_bayes_create");
        FZ_CHECK(b == FZ_HANDLE_SENTINEL, "berg_bayes_create wrote *out on failure");
        goto done_spaces;
    }

    model m;
    for (size_t i = 0; i < du; i++)
        m.a[i] = fz_byte(&f) < 200 ? ((double)fz_byte(&f) - 128.0) / 32.0 : fz_double(&f);
    m.b = fz_byte(&f) < 200 ? ((double)fz_byte(&f) - 128.0) / 32.0 : fz_double(&f);
    m.sigma = fz_byte(&f) < 200 ? 0.05 + (double)fz_byte(&f) / 32.0 : fz_double(&f);
    fz_note_array(" model a", m.a, du);
    fz_note(" b %.17g sigma %.17g", m.b, m.sigma);
    berg_space *nspace = NULL;
    double noise[16];
    if (fz_byte(&f) % 2) {
        nspace = fz_space(&f, 1, 16, 16);
        if (nspace == NULL)
            goto done;
        fz_array(&f, berg_space_size(nspace), noise);
        fz_note_array("noise", noise, berg_space_size(nspace));
        st = berg_bayes_set_location(b, nspace, noise, forward, NULL, &m);
    } else
        st = berg_bayes_set_location(b, NULL, NULL, forward, gauss_logpdf, &m);
    if (st != BERG_OK) {
        fz_check_refusal(st, "berg_bayes_set_location");
        goto done;
    }
    check_posterior(b, param);

    size_t count = fz_range(&f, 1, 4);
    double y[4], dlo[4], dhi[4];
    (void)berg_space_bounds(dspace, dlo, dhi);
    for (size_t i = 0; i < count; i++)
        y[i] = fz_byte(&f) < 220 ? dlo[0] + (dhi[0] - dlo[0]) * (double)fz_byte(&f) / 255.0
                                 : fz_double(&f);
    fz_note_array(" y", y, count);
    double before[MAX_SIZE], after[MAX_SIZE];
    int have_before = berg_bayes_posterior(b, before) == BERG_OK;
    double T0 = berg_bayes_time(b);
    st = berg_bayes_observe(b, count, y);
    if (st == BERG_OK)
        check_posterior(b, param);
    else {
        fz_check_refusal(st, "berg_bayes_observe");
        double T1 = berg_bayes_time(b);
        FZ_CHECK(T1 == T0 || (isnan(T0) && isnan(T1)), "berg_bayes_observe changed T on failure");
        if (have_before) {
            FZ_CHECK(berg_bayes_posterior(b, after) == BERG_OK, "posterior lost after failure");
            FZ_CHECK(memcmp(before, after, n * sizeof(double)) == 0,
                     "berg_bayes_observe changed the posterior on failure");
        }
    }
done:
    berg_space_destroy(nspace);
    berg_bayes_destroy(b);
done_spaces:
    berg_space_destroy(dspace);
    berg_space_destroy(param);
    return 0;
}
