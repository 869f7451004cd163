/* Allocation-failure injection (as SQLite's malloc tests): the scenario
 * below creates, applies and destroys every handle type of the library.
 * It runs once to count the allocation points (libberg's posix_memalign
 * and malloc calls, which this program intercepts with the linker's
 * --wrap, and the LAPACKE drivers that allocate a workspace or a
 * transposed copy), then once for every k with the k-th allocation
 * failing. Every call must either succeed or return BERG_ERR_NOMEM with a
 * message; a creator that fails leaves *out as the caller set it; an apply
 * that fails leaves its sentinel-filled output untouched, and the message
 * starts with the name of the function called. Leaks are found
 * by LeakSanitizer in the ASan build (scripts/test).
 *
 * FFTW's own allocations are not injected: libfftw3 allocates through its
 * internal fftw_malloc_plain, which aborts on NULL (CK(p) in kernel/alloc.c),
 * so a failing FFTW allocation cannot be turned into a status
 * (docs/reliability.md).
 *
 * BERG_OOM_STRIDE=s (default 1) tries every s-th k only, for a quick run. */
#include <errno.h>
#include <lapacke.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- the injector ------------------------------------------------------ */
static atomic_long points;   /* allocation points passed since arming */
static long fail_at;         /* 0: never fail */
static atomic_int injected;  /* failures injected in this run */

static int inject(void)
{
    long k = atomic_fetch_add(&points, 1) + 1;
    if (fail_at > 0 && k == fail_at) {
        atomic_fetch_add(&injected, 1);
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n) { return inject() ? NULL : __real_malloc(n); }
int __real_posix_memalign(void **p, size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    return inject() ? ENOMEM : __real_posix_memalign(p, a, n);
}

/* the LAPACKE drivers that allocate: a failure is what LAPACKE reports when
 * its own malloc fails (a transposed copy for row-major calls, else work) */
#define LAPACK_FAIL(layout) ((layout) == LAPACK_ROW_MAJOR ? LAPACK_TRANSPOSE_MEMORY_ERROR \
                                                          : LAPACK_WORK_MEMORY_ERROR)
lapack_int __real_LAPACKE_dsyevd(int l, char jobz, char uplo, lapack_int n, double *a,
                                 lapack_int lda, double *w);
lapack_int __wrap_LAPACKE_dsyevd(int l, char jobz, char uplo, lapack_int n, double *a,
                                 lapack_int lda, double *w);
lapack_int __wrap_LAPACKE_dsyevd(int l, char jobz, char uplo, lapack_int n, double *a,
                                 lapack_int lda, double *w)
{
    return inject() ? LAPACK_FAIL(l) : __real_LAPACKE_dsyevd(l, jobz, uplo, n, a, lda, w);
}
lapack_int __real_LAPACKE_dgesvd(int l, char ju, char jv, lapack_int m, lapack_int n, double *a,
                                 lapack_int lda, double *s, double *u, lapack_int ldu, double *vt,
                                 lapack_int ldvt, double *superb);
lapack_int __wrap_LAPACKE_dgesvd(int l, char ju, char jv, lapack_int m, lapack_int n, double *a,
                                 lapack_int lda, double *s, double *u, lapack_int ldu, double *vt,
                                 lapack_int ldvt, double *superb);
lapack_int __wrap_LAPACKE_dgesvd(int l, char ju, char jv, lapack_int m, lapack_int n, double *a,
                                 lapack_int lda, double *s, double *u, lapack_int ldu, double *vt,
                                 lapack_int ldvt, double *superb)
{
    return inject() ? LAPACK_FAIL(l)
                    : __real_LAPACKE_dgesvd(l, ju, jv, m, n, a, lda, s, u, ldu, vt, ldvt, superb);
}
lapack_int __real_LAPACKE_dpocon(int l, char uplo, lapack_int n, const double *a, lapack_int lda,
                                 double anorm, double *rcond);
lapack_int __wrap_LAPACKE_dpocon(int l, char uplo, lapack_int n, const double *a, lapack_int lda,
                                 double anorm, double *rcond);
lapack_int __wrap_LAPACKE_dpocon(int l, char uplo, lapack_int n, const double *a, lapack_int lda,
                                 double anorm, double *rcond)
{
    return inject() ? LAPACK_WORK_MEMORY_ERROR
                    : __real_LAPACKE_dpocon(l, uplo, n, a, lda, anorm, rcond);
}
lapack_int __real_LAPACKE_dposv(int l, char uplo, lapack_int n, lapack_int nrhs, double *a,
                                lapack_int lda, double *b, lapack_int ldb);
lapack_int __wrap_LAPACKE_dposv(int l, char uplo, lapack_int n, lapack_int nrhs, double *a,
                                lapack_int lda, double *b, lapack_int ldb);
lapack_int __wrap_LAPACKE_dposv(int l, char uplo, lapack_int n, lapack_int nrhs, double *a,
                                lapack_int lda, double *b, lapack_int ldb)
{
    return inject() ? LAPACK_FAIL(l) : __real_LAPACKE_dposv(l, uplo, n, nrhs, a, lda, b, ldb);
}
lapack_int __real_LAPACKE_dpotrf(int l, char uplo, lapack_int n, double *a, lapack_int lda);
lapack_int __wrap_LAPACKE_dpotrf(int l, char uplo, lapack_int n, double *a, lapack_int lda);
lapack_int __wrap_LAPACKE_dpotrf(int l, char uplo, lapack_int n, double *a, lapack_int lda)
{
    return inject() ? LAPACK_FAIL(l) : __real_LAPACKE_dpotrf(l, uplo, n, a, lda);
}
lapack_int __real_LAPACKE_dpotri(int l, char uplo, lapack_int n, double *a, lapack_int lda);
lapack_int __wrap_LAPACKE_dpotri(int l, char uplo, lapack_int n, double *a, lapack_int lda);
lapack_int __wrap_LAPACKE_dpotri(int l, char uplo, lapack_int n, double *a, lapack_int lda)
{
    return inject() ? LAPACK_FAIL(l) : __real_LAPACKE_dpotri(l, uplo, n, a, lda);
}
lapack_int __real_LAPACKE_dpotrs(int l, char uplo, lapack_int n, lapack_int nrhs, const double *a,
                                 lapack_int lda, double *b, lapack_int ldb);
lapack_int __wrap_LAPACKE_dpotrs(int l, char uplo, lapack_int n, lapack_int nrhs, const double *a,
                                 lapack_int lda, double *b, lapack_int ldb);
lapack_int __wrap_LAPACKE_dpotrs(int l, char uplo, lapack_int n, lapack_int nrhs, const double *a,
                                 lapack_int lda, double *b, lapack_int ldb)
{
    return inject() ? LAPACK_FAIL(l) : __real_LAPACKE_dpotrs(l, uplo, n, nrhs, a, lda, b, ldb);
}

/* ---- the checks of one call -------------------------------------------- */
#define SENT 1.2345678901234567e-300
static char sentinel_handle; /* what *out holds before a creator is called */
static long nomem_seen, swallowed, calls_checked;
static char swallowed_at[4096];

/* called after every library call of the scenario: 1 to go on */
static int step_ok(berg_status st, const char *what, int before)
{
    calls_checked++;
    int now = atomic_load(&injected);
    if (st == BERG_OK) {
        if (now != before && strlen(swallowed_at) + strlen(what) + 3 < sizeof swallowed_at &&
            !strstr(swallowed_at, what)) {
            strcat(swallowed_at, what);
            strcat(swallowed_at, "; ");
        }
        swallowed += now != before;
        return 1;
    }
    if (fail_at == 0) {
        CHECK(0, "scenario without injection: %s -> %s (%s)", what, berg_status_string(st),
              berg_last_error());
        return 0;
    }
    nomem_seen++;
    CHECK(st == BERG_ERR_NOMEM, "k = %ld: %s -> %s, not NOMEM (%s)", fail_at, what,
          berg_status_string(st), berg_last_error());
    CHECK(now != before, "k = %ld: %s failed (%s) without an injected failure", fail_at, what,
          berg_last_error());
    CHECK(berg_last_status() == st, "k = %ld: %s: berg_last_status %d != returned %d", fail_at,
          what, (int)berg_last_status(), (int)st);
    CHECK(berg_last_error()[0] != '\0', "k = %ld: %s: no message", fail_at, what);
    /* the message starts with the function the caller called */
    size_t len = strcspn(what, "(");
    CHECK(strncmp(berg_last_error(), what, len) == 0 && berg_last_error()[len] == ':',
          "k = %ld: %.*s: the message names another function: %s", fail_at, (int)len, what,
          berg_last_error());
    return 0;
}

#define STEP(call)                                                                      \
    do {                                                                                \
        int b_ = atomic_load(&injected);                                                \
        if (!step_ok((call), #call, b_))                                                \
            goto done;                                                                  \
    } while (0)
/* a creator: *out stays as the caller set it on failure */
#define CREATE(var, call)                                                               \
    do {                                                                                \
        int b_ = atomic_load(&injected);                                                \
        var = (void *)&sentinel_handle;                                                 \
        berg_status s_ = (call);                                                        \
        if (s_ != BERG_OK) {                                                            \
            CHECK(var == (void *)&sentinel_handle, "k = %ld: %s changed *out on failure", \
                  fail_at, #call);                                                      \
            var = NULL;                                                                 \
        }                                                                               \
        if (!step_ok(s_, #call, b_))                                                    \
            goto done;                                                                  \
    } while (0)
/* an apply: its output (n doubles, sentinel-filled) is untouched on failure */
#define APPLY(call, buf, n)                                                             \
    do {                                                                                \
        int b_ = atomic_load(&injected);                                                \
        tu_fill((buf), (n), SENT);                                                      \
        berg_status s_ = (call);                                                        \
        if (s_ != BERG_OK)                                                              \
            CHECK(tu_untouched((buf), (n), SENT), "k = %ld: %s wrote its output on failure", \
                  fail_at, #call);                                                      \
        if (!step_ok(s_, #call, b_))                                                    \
            goto done;                                                                  \
    } while (0)

/* ---- callbacks ------------------------------------------------------------ */
static int symbol(size_t ndim, const double *k, double *c, void *ud)
{
    (void)ud;
    double k2 = 0;
    for (size_t a = 0; a < ndim; a++)
        k2 += k[a] * k[a];
    *c = k2;
    return 0;
}
static int grad_quad(size_t ndim, const double *x, double *g, void *ud)
{
    (void)ud;
    for (size_t a = 0; a < ndim; a++)
        g[a] = x[a];
    return 0;
}
static int action_grad(size_t size, const double *phi, double *g, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < size; i++)
        g[i] = 0.1 * phi[i];
    return 0;
}
static int G_lin(size_t du, const double *u, size_t dy, double *y, void *ud)
{
    (void)du;
    (void)dy;
    (void)ud;
    y[0] = 0.8 * u[0] + 0.1;
    return 0;
}
static int normal_logpdf(size_t dy, const double *n, double *lp, void *ud)
{
    (void)dy;
    (void)ud;
    *lp = -0.5 * n[0] * n[0] - 0.5 * log(2 * M_PI);
    return 0;
}
static int rao_metric(double th, double *v, void *ud)
{
    (void)ud;
    *v = 1.0 + th * th;
    return 0;
}

/* ---- the scenario ------------------------------------------------------- */
#define NB 4096
#define N3 16
static double *bufA, *bufB, *bufC, *bufD, *V1, *p1, *q1, *p2, *V2;
static size_t N1, N2;

static void scenario(void)
{
    berg_space *S1 = NULL, *S2 = NULL, *S3 = NULL, *Sc = NULL;
    berg_heat *H = NULL, *Hx = NULL;
    berg_multiplier *M = NULL, *Mr = NULL, *Mg = NULL;
    berg_fp *F = NULL, *Ff = NULL;
    berg_fp_spectral *Fs = NULL;
    berg_particles *P = NULL;
    berg_langevin *L = NULL;
    berg_w2_metric *W = NULL;
    berg_sinkhorn *K = NULL, *Kl = NULL;
    berg_fisher_acc *A = NULL, *A2 = NULL;
    berg_bayes *B = NULL;
    berg_dictionary *D = NULL;
    berg_channel *C = NULL, *Cf = NULL;
    char *wis = NULL;
    double x, y, z;
    size_t it, jt;
    const unsigned E = BERG_PLAN_ESTIMATE;

    size_t n1[1] = {N1}, n2[2] = {6, 5}, n3[1] = {N3};
    double lo1[1] = {-4}, hi1[1] = {4}, lo2[2] = {-3, -2}, hi2[2] = {3, 2};
    double lo3[1] = {-3}, hi3[1] = {3};
    berg_boundary bc1[1] = {BERG_NEUMANN}, bc2[2] = {BERG_PERIODIC, BERG_DIRICHLET};
    berg_boundary bc3[1] = {BERG_PERIODIC};
    double g2[4] = {1.5, 0, 0, 0.75};
    CREATE(S1, berg_space_create(&S1, 1, n1, lo1, hi1, bc1, NULL));
    CREATE(S2, berg_space_create(&S2, 2, n2, lo2, hi2, bc2, g2));
    CREATE(S3, berg_space_create(&S3, 1, n3, lo3, hi3, bc3, NULL));
    CREATE(Sc, berg_space_clone(&Sc, S2));
    APPLY(berg_space_integrate(S1, p1, &x), &x, 1);
    memcpy(bufB, p1, N1 * sizeof(double));
    STEP(berg_space_normalize(S1, bufB, &x));
    APPLY(berg_space_covariance(S1, p1, &x), &x, 1);

    /* heat and multipliers */
    CREATE(H, berg_heat_create(&H, S1, E));
    CREATE(Hx, berg_heat_create_ex(&Hx, S2, 2, 1, E | BERG_SYMBOL_FD));
    APPLY(berg_heat_apply(H, 0.1, p1, bufA), bufA, N1);
    for (size_t i = 0; i < 2 * N2; i++)
        bufB[i] = 1.0 + 0.01 * (double)i;
    APPLY(berg_heat_apply_batch(Hx, 0.1, 2, bufB, bufA), bufA, 2 * N2);
    double ts[3] = {0.0, 0.05, 0.2};
    APPLY(berg_heat_apply_times(H, 3, ts, p1, bufA), bufA, 3 * N1);
    APPLY(berg_heat_channel_information(H, 1.0, p1, &x), &x, 1);
    CREATE(M, berg_multiplier_create(&M, S2, E, symbol, NULL));
    double kp[3] = {0, 1, 10}, cp[3] = {1, 0.5, 0};
    CREATE(Mr, berg_multiplier_create_radial(&Mr, S1, 3, kp, cp, E));
    CREATE(Mg, berg_multiplier_create_regulator(&Mg, S3, BERG_REGULATOR_EXPONENTIAL, 2.0, E));
    APPLY(berg_multiplier_apply(Mr, p1, bufA), bufA, N1);
    APPLY(berg_multiplier_exp_apply(M, 0.1, bufB, bufA), bufA, N2);
    APPLY(berg_multiplier_random_field(Mg, 7, 1, bufA), bufA, N3);

    /* Fokker-Planck: both discretizations and the spectral propagator */
    CREATE(F, berg_fp_create(&F, S1, V1, 0));
    CREATE(Ff, berg_fp_create(&Ff, S3, V2, BERG_FP_FOURIER | E));
    APPLY(berg_fp_evolve(F, 0.3, p1, bufA), bufA, N1);
    for (size_t i = 0; i < N3; i++)
        bufC[i] = 1.0 / 6.0;
    APPLY(berg_fp_evolve(Ff, 0.3, bufC, bufA), bufA, N3);
    APPLY(berg_fp_stationary(F, bufA), bufA, N1);
    APPLY(berg_fp_generator_apply(F, p1, bufA), bufA, N1);
    APPLY(berg_fp_backward_apply(F, p1, bufA), bufA, N1);
    APPLY(berg_fp_velocity(F, p1, bufA), bufA, N1);
    APPLY(berg_fp_scheme(F, p1, bufA), bufA, N1);
    CREATE(Fs, berg_fp_spectral_create(&Fs, F));
    APPLY(berg_fp_spectral_evolve(Fs, 0.3, p1, bufA), bufA, N1);
    APPLY(berg_fp_spectral_eigenvalues(Fs, bufA), bufA, N1);
    APPLY(berg_fp_spectral_mode(Fs, 1, bufA), bufA, N1);

    /* stochastic */
    double I2[4] = {1, 0, 0, 1};
    CREATE(P, berg_particles_create(&P, 2, 11, I2));
    for (size_t i = 0; i < 16; i++)
        bufD[i] = 0.1 * (double)i;
    STEP(berg_particles_euler(P, 0.01, 3, 8, bufD, grad_quad, NULL));
    STEP(berg_particles_ou(P, 0.2, 8, I2, NULL, bufD));
    CREATE(L, berg_langevin_create_regulator(&L, S3, BERG_REGULATOR_EXPONENTIAL, 2.0, 5));
    for (size_t i = 0; i < N3; i++)
        bufD[i] = 0.0;
    STEP(berg_langevin_step(L, 0.01, 2, bufD, action_grad, NULL));

    /* functionals, moments, W2 */
    APPLY(berg_entropy(S1, p1, &x), &x, 1);
    APPLY(berg_kl_divergence(S1, p1, q1, &x), &x, 1);
    APPLY(berg_dirichlet_energy(S1, p1, &x), &x, 1);
    APPLY(berg_relative_fisher_information(S1, p1, q1, &x), &x, 1);
    APPLY(berg_w2_gradient(S1, p1, V1, bufA), bufA, N1);
    APPLY(berg_cumulants(S1, 4, p1, bufA), bufA, 5);
    APPLY(berg_w2_distance_1d(S1, p1, q1, &x), &x, 1);
    APPLY(berg_wp_distance_1d(S1, 3.0, p1, q1, &x), &x, 1);
    APPLY(berg_w2_interpolate_1d(S1, 0.4, p1, q1, bufA), bufA, N1);
    double m1[2] = {0, 1}, m2[2] = {1, 0}, A1[4] = {2, 0.3, 0.3, 1}, A2m[4] = {1, -0.2, -0.2, 3};
    APPLY(berg_w2_gaussian(2, m1, A1, m2, A2m, &x), &x, 1);
    CREATE(W, berg_w2_metric_create(&W, S1, 1e-3, p1, E));
    for (size_t i = 0; i < N1; i++)
        bufC[i] = p1[i] - q1[i];
    APPLY(berg_w2_metric_potential(W, bufC, bufA, &it, &y), bufA, N1);
    APPLY(berg_w2_metric_inner(W, bufC, bufC, &x, &it, &y), &x, 1);
    APPLY(berg_w2_metric_tangent(W, V1, bufA), bufA, N1);

    /* Sinkhorn */
    CREATE(K, berg_sinkhorn_create(&K, S1, 4.0, 0));
    CREATE(Kl, berg_sinkhorn_create(&Kl, S1, 0.5, BERG_SINKHORN_LOG_DOMAIN));
    APPLY(berg_sinkhorn_cost(K, p1, q1, &x), &x, 1);
    APPLY(berg_sinkhorn_divergence(Kl, p1, q1, &x), &x, 1);
    APPLY(berg_sinkhorn_solve(Kl, p1, q1, &x, bufA, bufA + N1), bufA, 2 * N1);
    memcpy(bufC, p1, N1 * sizeof(double));
    memcpy(bufC + N1, q1, N1 * sizeof(double));
    double wts[2] = {0.5, 0.5};
    APPLY(berg_sinkhorn_barycenter(K, 2, bufC, wts, bufA), bufA, N1);
    STEP(berg_sinkhorn_report(K, &x, &it));

    /* Fisher */
    for (size_t i = 0; i < 40; i++)
        bufD[i] = sin(1.3 * (double)i + 0.2 * (double)(i % 3));
    APPLY(berg_fisher_from_scores(20, 2, bufD, bufA), bufA, 4);
    CREATE(A, berg_fisher_acc_create(&A, 2, 0));
    CREATE(A2, berg_fisher_acc_create(&A2, 2, 0));
    STEP(berg_fisher_acc_add(A, 10, bufD));
    STEP(berg_fisher_acc_add(A2, 10, bufD + 20));
    STEP(berg_fisher_acc_merge(A, A2));
    APPLY(berg_fisher_acc_result(A, bufA, bufA + 4), bufA, 8);
    APPLY(berg_fisher_location(S1, p1, bufA), bufA, 1);
    APPLY(berg_fisher_inverse(2, A1, bufA), bufA, 4);
    APPLY(berg_fisher_eigen(2, A1, bufA, bufA + 2), bufA, 6);
    APPLY(berg_fisher_condition(2, A1, &x), &x, 1);
    size_t idx[4] = {0, 1, 0, 1};
    APPLY(berg_fisher_wick(2, 10.0, 4, A1, idx, &x), &x, 1);
    double J[2] = {1.0, 0.5}, In[1] = {2.0};
    APPLY(berg_fisher_parameter_metric(1, 2, J, In, bufA), bufA, 4);
    APPLY(berg_fisher_pullback(1, 2, J, A1, bufA), bufA, 1);
    APPLY(berg_fisher_rao_distance(0.0, 1.0, &x, rao_metric, NULL), &x, 1);
    for (size_t i = 0; i < N1; i++) {
        double xi = -4 + 8 * ((double)i + 0.5) / (double)N1;
        bufC[i] = xi;
        bufC[N1 + i] = xi * xi;
        bufD[i] = 0.0;
    }
    double un[2] = {0.3, -0.5};
    APPLY(berg_fisher_expfam(S1, 2, bufC, bufD, un, &x, bufA, bufA + 2, bufA + 6), bufA, 6 + N1);

    /* Bayes, dictionary, channels */
    for (size_t i = 0; i < N3; i++)
        bufC[i] = 1.0 / 6.0;
    CREATE(B, berg_bayes_create(&B, S3, S1, bufC, 0));
    STEP(berg_bayes_set_location(B, NULL, NULL, G_lin, normal_logpdf, NULL));
    double ys[3] = {0.2, -0.4, 0.9};
    STEP(berg_bayes_observe(B, 3, ys));
    APPLY(berg_bayes_posterior(B, bufA), bufA, N3);
    APPLY(berg_bayes_mean(B, bufA, bufA + 1), bufA, 2);
    STEP(berg_bayes_set_truth(B, p1));
    APPLY(berg_bayes_divergence(B, bufA), bufA, N3);
    STEP(berg_bayes_expected(B, 2.0));
    double Ts[2] = {1.0, 4.0};
    APPLY(berg_bayes_trajectory(B, 2, Ts, bufA, bufA + 2), bufA, 4);
    APPLY(berg_bayes_predictive(B, bufA), bufA, N1);
    APPLY(berg_bayes_predictive_fft(B, bufA), bufA, N1);
    APPLY(berg_bayes_backward_flow(B, 0.1, 0.2, 4, p1, bufA), bufA, N1);
    APPLY(berg_bayes_flow_discrepancy(B, 0.1, 4, &x, &y), &x, 1);
    CREATE(D, berg_dictionary_create(&D, B, 0.05));
    APPLY(berg_dictionary_drift(D, &x), &x, 1);
    APPLY(berg_dictionary_potential(D, bufA), bufA, N1);
    APPLY(berg_dictionary_heat_time(D, &x), &x, 1);
    APPLY(berg_dictionary_from_erg(S1, V1, bufA, bufA + N1), bufA, N1 + 1);
    CREATE(C, berg_channel_create(&C, S1, BERG_CHANNEL_HEAT, 0.2, NULL));
    CREATE(Cf, berg_channel_create(&Cf, S1, BERG_CHANNEL_FP, 0.2, V1));
    APPLY(berg_channel_apply(C, p1, bufA), bufA, N1);
    APPLY(berg_channel_adjoint(Cf, V1, bufA), bufA, N1);
    APPLY(berg_channel_petz_recover(Cf, q1, p1, bufA), bufA, N1);
    STEP(berg_wisdom_export_string(&wis));
    (void)z;
    (void)jt;
done:
    berg_free(wis);
    berg_channel_destroy(Cf);
    berg_channel_destroy(C);
    berg_dictionary_destroy(D);
    berg_bayes_destroy(B);
    berg_fisher_acc_destroy(A2);
    berg_fisher_acc_destroy(A);
    berg_sinkhorn_destroy(Kl);
    berg_sinkhorn_destroy(K);
    berg_w2_metric_destroy(W);
    berg_langevin_destroy(L);
    berg_particles_destroy(P);
    berg_fp_spectral_destroy(Fs);
    berg_fp_destroy(Ff);
    berg_fp_destroy(F);
    berg_multiplier_destroy(Mg);
    berg_multiplier_destroy(Mr);
    berg_multiplier_destroy(M);
    berg_heat_destroy(Hx);
    berg_heat_destroy(H);
    berg_space_destroy(Sc);
    berg_space_destroy(S3);
    berg_space_destroy(S2);
    berg_space_destroy(S1);
}

static double *dvec(size_t n) { return calloc(n, sizeof(double)); }

int main(void)
{
    N1 = 24;
    N2 = 30;
    bufA = dvec(NB), bufB = dvec(NB), bufC = dvec(NB), bufD = dvec(NB);
    V1 = dvec(N1), p1 = dvec(N1), q1 = dvec(N1), p2 = dvec(N1), V2 = dvec(N3);
    double h = 8.0 / (double)N1, zp = 0, zq = 0;
    for (size_t i = 0; i < N1; i++) {
        double xi = -4 + h * ((double)i + 0.5);
        V1[i] = 0.5 * xi * xi;
        p1[i] = exp(-0.5 * (xi - 0.5) * (xi - 0.5));
        q1[i] = exp(-(xi + 0.7) * (xi + 0.7)) + 1e-3;
        zp += p1[i] * h;
        zq += q1[i] * h;
    }
    for (size_t i = 0; i < N1; i++) {
        p1[i] /= zp;
        q1[i] /= zq;
    }
    for (size_t i = 0; i < N3; i++) {
        double xi = -3 + 6.0 * (double)i / (double)N3;
        V2[i] = 0.5 * cos(xi * 2 * M_PI / 6.0);
        bufC[i] = 1.0 / 6.0;
    }
    long stride = getenv("BERG_OOM_STRIDE") ? atol(getenv("BERG_OOM_STRIDE")) : 1;
    if (stride < 1)
        stride = 1;

    /* the count of allocation points of one clean run (the second run: the
     * first may populate FFTW's plan cache and wisdom) */
    fail_at = 0;
    int before = tu_failures;
    scenario();
    atomic_store(&points, 0);
    scenario();
    long total = atomic_load(&points);
    CHECK(tu_failures == before && total > 0, "the scenario runs cleanly (%ld allocation points)",
          total);
    if (tu_failures != before)
        return test_summary("oom");
    long runs = 0;
    for (long k = 1; k <= total; k += stride) {
        atomic_store(&points, 0);
        atomic_store(&injected, 0);
        fail_at = k;
        scenario();
        runs++;
    }
    fail_at = 0;
    printf("oom: %ld allocation points; %ld runs with one failure injected; %ld calls checked, "
           "%ld refused with NOMEM, %ld injected failures absorbed with success%s%s\n",
           total, runs, calls_checked, nomem_seen, swallowed, swallowed ? ": " : "", swallowed_at);
    free(bufA), free(bufB), free(bufC), free(bufD);
    free(V1), free(p1), free(q1), free(p2), free(V2);
    return test_summary("oom");
}
