/*
 * berg_fp: the public entry points of the Fokker-Planck / ERG flow
 * d/dt p = div(g^{-1}(grad p + p grad V)) (docs/fokker_planck.md). They
 * validate their arguments once, take a workspace from the handle's scratch
 * pool and call the discretization (fp_volume.c: finite volume,
 * fp_fourier.c: Fourier) through fp->ops.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "propagator/fp_internal.h"

#define BERG_FP_ALLOWED_FLAGS ((unsigned)BERG_FP_FOURIER | (unsigned)BERG_PLAN_ESTIMATE)

/* ---- the step reports of this thread's last evolve per handle ------------
 * A few handles per thread, keyed by the handle's unique id (an address can
 * be reused by a later handle, an id cannot). */
#define STEP_REPORTS 8
typedef struct step_report {
    uint64_t id;
    berg__fp_steps steps;
} step_report;
static _Thread_local step_report step_reports[STEP_REPORTS];
static _Thread_local size_t step_report_next;

void berg__fp_record_steps(const berg_fp *fp, const berg__fp_steps *steps)
{
    for (size_t k = 0; k < STEP_REPORTS; k++)
        if (step_reports[k].id == fp->id) {
            step_reports[k].steps = *steps;
            return;
        }
    step_reports[step_report_next] = (step_report){fp->id, *steps};
    step_report_next = (step_report_next + 1) % STEP_REPORTS;
}

/* ---- lifecycle ----------------------------------------------------------- */

void berg_fp_destroy(berg_fp *fp)
{
    if (!fp)
        return;
    if (fp->ops)
        fp->ops->destroy(fp->tables);
    berg__pool_free(&fp->scratch);
    berg__free(fp->V);
    berg__free(fp);
}

/* V - min V into fp->V, with the range of V */
static berg_status shift_potential(berg_fp *fp, const double *V, const char *fn)
{
    size_t n = fp->n;
    double vmin = V[0], vmax = V[0];
    for (size_t i = 1; i < n; i++) {
        vmin = fmin(vmin, V[i]);
        vmax = fmax(vmax, V[i]);
    }
    BERG_REQUIRE(isfinite(vmax - vmin), BERG_ERR_DOMAIN, "%s: the range of V (%g .. %g) overflows",
                 fn, vmin, vmax);
    fp->vmin = vmin;
    fp->vmax = vmax;
    for (size_t i = 0; i < n; i++)
        fp->V[i] = V[i] - vmin;
    return BERG_OK;
}

berg_status berg_fp_create(berg_fp **out, const berg_space *space, const double *V,
                           unsigned flags)
{
    static const char fn[] = "berg_fp_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_finite(V, space->size, fn, "V"));
    BERG_TRY(berg__check_flags(flags, BERG_FP_ALLOWED_FLAGS, fn));
    berg_fp *fp = berg__alloc(1, sizeof *fp, fn);
    if (!fp)
        return berg_last_status();
    memset(fp, 0, sizeof *fp);
    berg_status st = BERG_OK;
    fp->space = *space;
    fp->n = space->size;
    fp->tol = 1e-8;
    fp->fourier = (flags & BERG_FP_FOURIER) != 0;
    for (size_t a = 0; a < (size_t)space->ndim; a++)
        if (space->bc[a] == BERG_DIRICHLET)
            fp->absorbing = 1;
    if (!(fp->V = berg__alloc(fp->n, sizeof(double), fn))) {
        st = berg_last_status();
        goto fail;
    }
    BERG_TRY_GOTO(st, shift_potential(fp, V, fn), fail);
    size_t scratch_bytes = 0;
    if (flags & BERG_FP_FOURIER)
        BERG_TRY_GOTO(st, berg__fp_fourier_init(fp, flags, &scratch_bytes, fn), fail);
    else /* BERG_PLAN_ESTIMATE plans nothing here */
        BERG_TRY_GOTO(st, berg__fp_volume_init(fp, &scratch_bytes, fn), fail);
    /* velocity, scheme and the generator need n doubles */
    if (scratch_bytes < fp->n * sizeof(double))
        scratch_bytes = fp->n * sizeof(double);
    BERG_TRY_GOTO(st, berg__pool_init(&fp->scratch, scratch_bytes, 1, fn), fail);
    fp->id = berg__handle_id();
    *out = fp;
    return BERG_OK;
fail:
    berg_fp_destroy(fp);
    return st;
}

/* ---- configuration and queries ------------------------------------------- */

berg_status berg_fp_set_tolerance(berg_fp *fp, double tol)
{
    static const char fn[] = "berg_fp_set_tolerance";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_REQUIRE(tol >= 1e-14 && tol <= 0.1, BERG_ERR_DOMAIN,
                 "%s: tol = %g must be in [1e-14, 0.1]", fn, tol);
    fp->tol = tol;
    return BERG_OK;
}

berg_status berg_fp_set_progress(berg_fp *fp, berg_progress_fn progress, void *user_data)
{
    static const char fn[] = "berg_fp_set_progress";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    fp->progress = progress;
    fp->progress_data = progress ? user_data : NULL;
    return BERG_OK;
}

berg_status berg_fp_last_steps(const berg_fp *fp, size_t *accepted, size_t *rejected)
{
    static const char fn[] = "berg_fp_last_steps";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    berg__fp_steps steps = {0, 0, NULL};
    for (size_t k = 0; k < STEP_REPORTS; k++)
        if (step_reports[k].id == fp->id)
            steps = step_reports[k].steps;
    if (accepted)
        *accepted = steps.accepted;
    if (rejected)
        *rejected = steps.rejected;
    return BERG_OK;
}

berg_status berg_fp_stationary(const berg_fp *fp, double *q)
{
    static const char fn[] = "berg_fp_stationary";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(berg__check_ptr(q, fn, "q"));
    size_t n = fp->n;
    /* Z' = w sum exp(-(V - min V)) >= w: never zero */
    for (size_t i = 0; i < n; i++)
        q[i] = exp(-fp->V[i]);
    double inv = 1.0 / (berg__sum(q, n) * fp->space.weight);
    for (size_t i = 0; i < n; i++)
        q[i] *= inv;
    return BERG_OK;
}

/* ---- the flow ------------------------------------------------------------ */

/* The flow is linear and both steppers' tests are relative, so a state is
 * evolved at the power-of-two scale that puts its largest value in [1, 2)
 * whenever its values could overflow the sums (max > 2^500 / n) or lose
 * bits as subnormals (max < 2^-500); 1 otherwise (no copy, bitwise the
 * unscaled computation). */
double berg__fp_state_scale(const double *in, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(in[i]));
    if (m == 0.0 || (m >= 0x1p-500 && m * (double)n <= 0x1p500))
        return 1.0;
    int e = -ilogb(m);
    return ldexp(1.0, e > 1000 ? 1000 : e); /* 2^1074 is not a double */
}

/* out = y / scale, refused (out untouched) when that exceeds DBL_MAX */
berg_status berg__fp_unscale(const double *y, size_t n, double scale, const char *what,
                           double *out, const char *fn)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(y[i]));
    BERG_REQUIRE(m <= DBL_MAX * scale, BERG_ERR_DOMAIN,
                 "%s: %s has a value %g times DBL_MAX", fn, what, m / (DBL_MAX * scale));
    for (size_t i = 0; i < n; i++)
        out[i] = y[i] / scale;
    return BERG_OK;
}

berg_status berg_fp_evolve(const berg_fp *fp, double t, const double *in, double *out)
{
    static const char fn[] = "berg_fp_evolve";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_time(t, fn, "t"));
    BERG_TRY(berg__check_nonneg(in, fp->n, fn, "in"));
    berg__fp_steps steps = {0, 0, NULL};
    berg__fp_record_steps(fp, &steps);
    berg__progress pr;
    berg__progress_start(&pr, fp->progress, fp->progress_data);
    if (fp->progress)
        steps.progress = &pr;
    if (t == 0.0 || berg__sum(in, fp->n) == 0.0) {
        memmove(out, in, fp->n * sizeof(double));
        return BERG_OK;
    }
    double scale = berg__fp_state_scale(in, fp->n);
    double *tmp = NULL;
    if (scale != 1.0) {
        if (!(tmp = berg__alloc(fp->n, sizeof(double), fn)))
            return berg_last_status();
        for (size_t i = 0; i < fp->n; i++)
            tmp[i] = in[i] * scale;
    }
    void *scratch = berg__pool_get(berg__fp_pool(fp), fn);
    if (!scratch) {
        berg__free(tmp);
        return berg_last_status();
    }
    berg_status st = tmp ? fp->ops->evolve(fp, t, tmp, tmp, scratch, &steps, fn)
                         : fp->ops->evolve(fp, t, in, out, scratch, &steps, fn);
    berg__pool_put(berg__fp_pool(fp), scratch);
    if (st == BERG_OK && tmp)
        st = berg__fp_unscale(tmp, fp->n, scale,
                              "the state at time t (its mass gathers where e^{-V} is largest)",
                              out, fn);
    berg__free(tmp);
    steps.progress = NULL;
    berg__fp_record_steps(fp, &steps);
    return st;
}

static berg_status generator_common(const berg_fp *fp, const double *in, double *out,
                                    int transpose, const char *fn)
{
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_finite(in, fp->n, fn, transpose ? "f" : "p"));
    /* values near DBL_MAX or subnormal: computed at a power-of-two scale in
     * a copy, refused when the result exceeds DBL_MAX (out untouched) */
    double scale = berg__fp_state_scale(in, fp->n), *tmp = NULL;
    if (scale != 1.0) {
        if (!(tmp = berg__alloc(fp->n, sizeof(double), fn)))
            return berg_last_status();
        for (size_t i = 0; i < fp->n; i++)
            tmp[i] = in[i] * scale;
    }
    void *scratch = berg__pool_get(berg__fp_pool(fp), fn);
    if (!scratch) {
        berg__free(tmp);
        return berg_last_status();
    }
    berg_status st = tmp ? fp->ops->generator(fp, tmp, tmp, transpose, scratch, fn)
                         : fp->ops->generator(fp, in, out, transpose, scratch, fn);
    berg__pool_put(berg__fp_pool(fp), scratch);
    if (st == BERG_OK && tmp)
        st = berg__fp_unscale(tmp, fp->n, scale, transpose ? "L^T f" : "L p", out, fn);
    berg__free(tmp);
    return st;
}

berg_status berg_fp_generator_apply(const berg_fp *fp, const double *p, double *out)
{
    static const char fn[] = "berg_fp_generator_apply";
    return generator_common(fp, p, out, 0, fn);
}

berg_status berg_fp_backward_apply(const berg_fp *fp, const double *f, double *out)
{
    static const char fn[] = "berg_fp_backward_apply";
    return generator_common(fp, f, out, 1, fn);
}

/* ---- Wegner-Morris diagnostics ------------------------------------------- */

/* p finite and > 0 everywhere (ln p) */
static berg_status check_positive(const berg_fp *fp, const double *p, const char *fn)
{
    BERG_TRY(berg__check_finite(p, fp->n, fn, "p"));
    for (size_t i = 0; i < fp->n; i++)
        BERG_REQUIRE(p[i] > 0.0, BERG_ERR_DOMAIN, "%s: p[%zu] = %g; ln p needs p > 0 everywhere",
                     fn, i, p[i]);
    return BERG_OK;
}

berg_status berg_fp_scheme(const berg_fp *fp, const double *p, double *sigma)
{
    static const char fn[] = "berg_fp_scheme";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(berg__check_ptr(sigma, fn, "sigma"));
    BERG_TRY(check_positive(fp, p, fn));
    size_t n = fp->n;
    double *tmp = berg__pool_get(berg__fp_pool(fp), fn);
    if (!tmp)
        return berg_last_status();
    for (size_t i = 0; i < n; i++)
        tmp[i] = fp->V[i] + log(p[i]);
    double mean = berg__sum(tmp, n) / (double)n;
    for (size_t i = 0; i < n; i++)
        sigma[i] = tmp[i] - mean;
    berg__pool_put(berg__fp_pool(fp), tmp);
    return BERG_OK;
}

/* d sigma / d x_a at cell i: central differences, one-sided on the edges of
 * non-periodic axes */
static double axis_derivative(const berg_space *s, const double *sigma, size_t i, size_t a)
{
    size_t jp = berg__fp_neighbour(s, i, a, +1), jm = berg__fp_neighbour(s, i, a, -1);
    double h = s->h[a];
    if (jp != SIZE_MAX && jm != SIZE_MAX)
        return (jp == jm) ? 0.0 : (sigma[jp] - sigma[jm]) / (2.0 * h);
    if (jp != SIZE_MAX)
        return (sigma[jp] - sigma[i]) / h;
    if (jm != SIZE_MAX)
        return (sigma[i] - sigma[jm]) / h;
    return 0.0;
}

berg_status berg_fp_velocity(const berg_fp *fp, const double *p, double *psi)
{
    static const char fn[] = "berg_fp_velocity";
    BERG_TRY(berg__check_ptr(fp, fn, "fp"));
    BERG_TRY(berg__check_ptr(psi, fn, "psi"));
    BERG_TRY(check_positive(fp, p, fn));
    const berg_space *s = &fp->space;
    size_t n = fp->n, d = (size_t)s->ndim;
    double *sigma = berg__pool_get(berg__fp_pool(fp), fn);
    if (!sigma)
        return berg_last_status();
    for (size_t i = 0; i < n; i++)
        sigma[i] = fp->V[i] + log(p[i]);
    /* psi = -g^{-1} grad Sigma per cell */
    for (size_t i = 0; i < n; i++) {
        double g[BERG_MAX_RANK];
        for (size_t a = 0; a < d; a++)
            g[a] = axis_derivative(s, sigma, i, a);
        for (size_t a = 0; a < d; a++) {
            double v = 0.0;
            for (size_t b = 0; b < d; b++)
                v += s->ginv[a * d + b] * g[b];
            psi[a * n + i] = -v;
        }
    }
    berg__pool_put(berg__fp_pool(fp), sigma);
    return BERG_OK;
}
