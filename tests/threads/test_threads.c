/* One handle, many threads: a heat, a Fokker-Planck (both discretizations)
 * and a Sinkhorn handle are each applied from 8 threads at once, every
 * thread on its own data, and every result must equal the serial result
 * bitwise (the apply functions take const handles; their scratch comes from
 * the handle's pool). Failures from several threads at once must each leave
 * their own berg_last_error. Run under ThreadSanitizer by scripts/test. */
#include <pthread.h>
#include <stdint.h>

#include "testutil.h"

#define NTHREADS 8
#define ROUNDS 3

typedef struct job {
    int kind;                 /* 0 heat, 1 fp finite volume, 2 fp Fourier, 3 sinkhorn */
    const void *handle;
    const double *in;         /* this thread's input (and q for sinkhorn) */
    const double *in2;
    double *out;
    double value;             /* sinkhorn cost */
    berg_status status;
    size_t n;
} job;

static pthread_barrier_t start;

static berg_status run(job *j)
{
    switch (j->kind) {
    case 0: return berg_heat_apply((const berg_heat *)j->handle, 0.05, j->in, j->out);
    case 1:
    case 2: return berg_fp_evolve((const berg_fp *)j->handle, 0.1, j->in, j->out);
    default:
        return berg_sinkhorn_cost((const berg_sinkhorn *)j->handle, j->in, j->in2, &j->value);
    }
}

static void *worker(void *arg)
{
    job *j = arg;
    pthread_barrier_wait(&start);
    for (int r = 0; r < ROUNDS && j->status == BERG_OK; r++)
        j->status = run(j);
    return NULL;
}

/* the same computation from NTHREADS threads at once vs one at a time */
static void concurrent_equals_serial(const char *what, int kind, const void *handle,
                                     const double *inputs, const double *q, size_t n)
{
    job serial[NTHREADS], conc[NTHREADS];
    double *outs = calloc((size_t)2 * NTHREADS * n, sizeof(double));
    for (int t = 0; t < NTHREADS; t++) {
        serial[t] = (job){kind, handle, inputs + (size_t)t * n, q, outs + (size_t)t * n, 0, BERG_OK, n};
        conc[t] = serial[t];
        conc[t].out = outs + (size_t)(NTHREADS + t) * n;
        serial[t].status = run(&serial[t]);
        CHECK(serial[t].status == BERG_OK, "%s serial %d: %s", what, t, berg_last_error());
    }
    pthread_t th[NTHREADS];
    pthread_barrier_init(&start, NULL, NTHREADS);
    for (int t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, worker, &conc[t]);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    for (int t = 0; t < NTHREADS; t++) {
        CHECK(conc[t].status == BERG_OK, "%s thread %d status %d", what, t, (int)conc[t].status);
        if (kind == 3)
            CHECK(memcmp(&conc[t].value, &serial[t].value, sizeof(double)) == 0,
                  "%s thread %d: cost %.17g differs from serial %.17g", what, t, conc[t].value,
                  serial[t].value);
        else
            CHECK(memcmp(conc[t].out, serial[t].out, n * sizeof(double)) == 0,
                  "%s thread %d: result differs from the serial one", what, t);
    }
    free(outs);
}

/* NTHREADS different smooth densities (bumps at different places) */
static double *bumps(const berg_space *S, size_t n, double width, double floor)
{
    size_t d = berg_space_rank(S);
    double *p = calloc(NTHREADS * n, sizeof(double));
    double *x[2] = {NULL, NULL};
    size_t shape[2] = {1, 1};
    berg_space_shape(S, shape);
    for (size_t a = 0; a < d; a++) {
        x[a] = calloc(shape[a], sizeof(double));
        berg_space_coordinates(S, a, x[a]);
    }
    for (int t = 0; t < NTHREADS; t++) {
        double c = -1.5 + 3.0 * t / (NTHREADS - 1);
        for (size_t i = 0; i < n; i++) {
            double r2 = 0;
            size_t rem = i;
            for (size_t a = d; a-- > 0;) {
                double xa = x[a][rem % shape[a]] - (a == 0 ? c : 0.5 * c);
                rem /= shape[a];
                r2 += xa * xa;
            }
            p[(size_t)t * n + i] = exp(-r2 / (2 * width * width)) + floor;
        }
        berg_space_normalize(S, p + (size_t)t * n, NULL);
    }
    for (size_t a = 0; a < d; a++)
        free(x[a]);
    return p;
}

static void test_heat(void)
{
    size_t n[2] = {96, 80};
    double lo[2] = {-5, -4}, hi[2] = {5, 4};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *S = NULL;
    berg_heat *H = NULL;
    CHECK(berg_space_create(&S, 2, n, lo, hi, bc, NULL) == BERG_OK, "space");
    CHECK(berg_heat_create(&H, S, 0) == BERG_OK, "heat: %s", berg_last_error());
    size_t N = berg_space_size(S);
    double *p = bumps(S, N, 0.7, 0.0);
    concurrent_equals_serial("heat", 0, H, p, NULL, N);
    free(p);
    berg_heat_destroy(H);
    berg_space_destroy(S);
}

static void test_fp(unsigned flags, int kind, const char *what)
{
    size_t n[2] = {64, 56};
    double lo[2] = {-8, -8}, hi[2] = {8, 8};
    berg_space *S = NULL;
    berg_fp *F = NULL;
    CHECK(berg_space_create(&S, 2, n, lo, hi, NULL, NULL) == BERG_OK, "space");
    size_t N = berg_space_size(S);
    double *V = calloc(N, sizeof(double)), x[64], y[56];
    berg_space_coordinates(S, 0, x);
    berg_space_coordinates(S, 1, y);
    for (size_t i = 0; i < 64; i++)
        for (size_t j = 0; j < 56; j++)
            V[i * 56 + j] = 0.5 * x[i] * x[i] + 0.5 * y[j] * y[j];
    CHECK(berg_fp_create(&F, S, V, flags) == BERG_OK, "%s: %s", what, berg_last_error());
    double *p = bumps(S, N, 0.7, 0.0);
    concurrent_equals_serial(what, kind, F, p, NULL, N);
    free(p);
    free(V);
    berg_fp_destroy(F);
    berg_space_destroy(S);
}

static void test_sinkhorn(void)
{
    size_t n[1] = {256};
    double lo[1] = {-4}, hi[1] = {4};
    berg_boundary bc[1] = {BERG_NEUMANN};
    berg_space *S = NULL;
    berg_sinkhorn *K = NULL;
    CHECK(berg_space_create(&S, 1, n, lo, hi, bc, NULL) == BERG_OK, "space");
    CHECK(berg_sinkhorn_create(&K, S, 1.0, 0) == BERG_OK, "sinkhorn: %s", berg_last_error());
    CHECK(berg_sinkhorn_set_tolerance(K, 1e-8) == BERG_OK, "tolerance");
    size_t N = berg_space_size(S);
    double *p = bumps(S, N, 0.6, 1e-3);
    concurrent_equals_serial("sinkhorn", 3, K, p, p + 3 * N, N);
    free(p);
    berg_sinkhorn_destroy(K);
    berg_space_destroy(S);
}

/* each thread's failure message is its own */
static void *fail_worker(void *arg)
{
    intptr_t t = (intptr_t)arg;
    char want[64];
    snprintf(want, sizeof want, "lower[0] = %d", (int)t + 10);
    size_t n[1] = {4};
    double lo[1] = {(double)t + 10}, hi[1] = {(double)t + 9};
    int ok = 1;
    pthread_barrier_wait(&start);
    for (int r = 0; r < 200; r++) {
        berg_space *S = NULL;
        berg_status st = berg_space_create(&S, 1, n, lo, hi, NULL, NULL);
        ok &= st == BERG_ERR_DOMAIN && berg_last_status() == st && S == NULL &&
              strstr(berg_last_error(), want) != NULL;
    }
    return (void *)(intptr_t)ok;
}

static void test_errors(void)
{
    pthread_t th[NTHREADS];
    pthread_barrier_init(&start, NULL, NTHREADS);
    for (intptr_t t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, fail_worker, (void *)t);
    for (int t = 0; t < NTHREADS; t++) {
        void *ok;
        pthread_join(th[t], &ok);
        CHECK(ok == (void *)1, "thread %d: its failures keep their own status", t);
    }
    pthread_barrier_destroy(&start);
}

/* ---- every handle type created, applied and destroyed by 8 threads at once */

static int normal_logpdf(size_t dy, const double *n, double *logp, void *user_data)
{
    (void)user_data;
    double r2 = 0.0;
    for (size_t i = 0; i < dy; i++)
        r2 += n[i] * n[i];
    *logp = -0.5 * r2 - 0.5 * (double)dy * log(2.0 * M_PI);
    return 0;
}

static int identity_model(size_t du, const double *u, size_t dy, double *y, void *user_data)
{
    (void)user_data;
    for (size_t i = 0; i < dy; i++)
        y[i] = u[i % du];
    return 0;
}

static int free_field(size_t size, const double *phi, double *grad, void *user_data)
{
    (void)user_data;
    for (size_t i = 0; i < size; i++)
        grad[i] = phi[i];
    return 0;
}

/* one thread's life: every handle type, created, used and destroyed; the
 * number of failed calls is returned */
static void *lifecycle(void *arg)
{
    int bad = 0;
    (void)arg;
    pthread_barrier_wait(&start);
    size_t n[1] = {64};
    double lo[1] = {-6}, hi[1] = {6};
    berg_space *S = NULL;
    bad += berg_space_create(&S, 1, n, lo, hi, NULL, NULL) != BERG_OK;
    if (bad)
        return (void *)(intptr_t)bad;
    double x[64], p[64], q[64], V[64], out[64], eta[64], phi[64];
    berg_space_coordinates(S, 0, x);
    for (int i = 0; i < 64; i++) {
        p[i] = exp(-0.5 * x[i] * x[i]);
        q[i] = exp(-0.5 * (x[i] - 1) * (x[i] - 1));
        V[i] = 0.5 * x[i] * x[i];
        phi[i] = 0.01 * x[i];
    }
    berg_space_normalize(S, p, NULL);
    berg_space_normalize(S, q, NULL);
    for (int i = 0; i < 64; i++)
        eta[i] = p[i] - q[i];

    berg_heat *h = NULL;
    bad += berg_heat_create(&h, S, BERG_PLAN_ESTIMATE) != BERG_OK;
    bad += berg_heat_apply(h, 0.1, p, out) != BERG_OK;
    berg_heat_destroy(h);

    berg_multiplier *m = NULL;
    bad += berg_multiplier_create_regulator(&m, S, BERG_REGULATOR_EXPONENTIAL, 2.0,
                                            BERG_PLAN_ESTIMATE) != BERG_OK;
    bad += berg_multiplier_apply(m, p, out) != BERG_OK;
    berg_multiplier_destroy(m);

    unsigned fp_flags[2] = {0, BERG_FP_FOURIER | BERG_PLAN_ESTIMATE};
    for (int k = 0; k < 2; k++) {
        berg_fp *f = NULL;
        bad += berg_fp_create(&f, S, V, fp_flags[k]) != BERG_OK;
        bad += berg_fp_evolve(f, 0.1, p, out) != BERG_OK;
        if (k == 0) {
            berg_fp_spectral *sp = NULL;
            bad += berg_fp_spectral_create(&sp, f) != BERG_OK;
            bad += berg_fp_spectral_evolve(sp, 0.1, p, out) != BERG_OK;
            berg_fp_spectral_destroy(sp);
        }
        berg_fp_destroy(f);
    }

    berg_sinkhorn *k = NULL;
    bad += berg_sinkhorn_create(&k, S, 1.0, BERG_PLAN_ESTIMATE) != BERG_OK;
    bad += berg_sinkhorn_set_tolerance(k, 1e-8) != BERG_OK;
    double cost;
    bad += berg_sinkhorn_cost(k, p, q, &cost) != BERG_OK;
    berg_sinkhorn_destroy(k);

    berg_w2_metric *w = NULL;
    bad += berg_w2_metric_create(&w, S, 0.0, p, BERG_PLAN_ESTIMATE) != BERG_OK;
    bad += berg_w2_metric_potential(w, eta, out, NULL, NULL) != BERG_OK;
    berg_w2_metric_destroy(w);

    berg_channel *c = NULL;
    bad += berg_channel_create(&c, S, BERG_CHANNEL_HEAT, 0.5, NULL) != BERG_OK;
    bad += berg_channel_apply(c, p, out) != BERG_OK;
    berg_channel_destroy(c);

    berg_fisher_acc *acc = NULL;
    double scores[6] = {1, 0, 0, 1, 1, 1};
    bad += berg_fisher_acc_create(&acc, 2, 0) != BERG_OK;
    bad += berg_fisher_acc_add(acc, 3, scores) != BERG_OK;
    berg_fisher_acc_destroy(acc);

    berg_particles *ps = NULL;
    double A[1] = {1.0}, xs[16] = {0};
    bad += berg_particles_create(&ps, 1, 7, NULL) != BERG_OK;
    bad += berg_particles_ou(ps, 0.5, 16, A, NULL, xs) != BERG_OK;
    berg_particles_destroy(ps);

    berg_langevin *lf = NULL;
    bad += berg_langevin_create_regulator(&lf, S, BERG_REGULATOR_EXPONENTIAL, 2.0, 7) != BERG_OK;
    bad += berg_langevin_step(lf, 0.01, 2, phi, free_field, NULL) != BERG_OK;
    berg_langevin_destroy(lf);

    berg_bayes *b = NULL;
    berg_dictionary *d = NULL;
    double prior[64];
    for (int i = 0; i < 64; i++)
        prior[i] = 1.0;
    bad += berg_bayes_create(&b, S, S, prior, 0) != BERG_OK;
    bad += berg_bayes_set_location(b, NULL, NULL, identity_model, normal_logpdf, NULL) != BERG_OK;
    double y[2] = {0.5, 0.7};
    bad += berg_bayes_observe(b, 2, y) != BERG_OK;
    bad += berg_bayes_set_truth(b, q) != BERG_OK;
    bad += berg_dictionary_create(&d, b, 0.05) != BERG_OK;
    berg_dictionary_destroy(d);
    berg_bayes_destroy(b);
    berg_space_destroy(S);
    return (void *)(intptr_t)bad;
}

static void test_lifecycles(void)
{
    pthread_t th[NTHREADS];
    pthread_barrier_init(&start, NULL, NTHREADS);
    for (int t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, lifecycle, NULL);
    for (int t = 0; t < NTHREADS; t++) {
        void *bad;
        pthread_join(th[t], &bad);
        CHECK(bad == (void *)0, "thread %d: %d calls failed creating, using and destroying every "
              "handle type (last error: %s)", t, (int)(intptr_t)bad, berg_last_error());
    }
    pthread_barrier_destroy(&start);
}

int main(void)
{
    test_heat();
    test_fp(0, 1, "fp (finite volume)");
    test_fp(BERG_FP_FOURIER, 2, "fp (Fourier)");
    test_sinkhorn();
    test_errors();
    test_lifecycles();
    return test_summary("threads");
}
