/* metric / W2 metric tensor: the CG solve of div(p g^-1 grad eta_hat) = eta,
 * its preconditioner (iterations independent of the grid), residuals,
 * regularization and failures. */
#include <pthread.h>
#include <stdlib.h>

#include "testutil.h"

/* p ~ exp(-|x|^2/2 + 0.3 sin(3 x_0)) on the box [-3, 3]^d: max/min ~ e^9 */
static void density(const berg_space *s, double *p)
{
    int d = berg_space_rank(s);
    size_t n[8], N = berg_space_size(s);
    double lo[8], hi[8];
    berg_space_shape(s, n);
    berg_space_bounds(s, lo, hi);
    for (size_t k = 0; k < N; k++) {
        size_t r = k;
        double e = 0;
        for (int a = d - 1; a >= 0; a--) {
            double x = lo[a] + ((double)(r % n[a]) + 0.5) * (hi[a] - lo[a]) / (double)n[a];
            r /= n[a];
            e += -0.5 * x * x + (a == 0 ? 0.3 * sin(3 * x) : 0.0);
        }
        p[k] = exp(e);
    }
    berg_space_normalize(s, p, NULL);
}

/* a smooth tangent vector: the W2 tangent of a smooth potential */
static void smooth_eta(const berg_space *s, const double *p, double *eta)
{
    int d = berg_space_rank(s);
    size_t n[8], N = berg_space_size(s);
    double lo[8], hi[8];
    berg_space_shape(s, n);
    berg_space_bounds(s, lo, hi);
    for (size_t k = 0; k < N; k++) {
        size_t r = k;
        double e = 0;
        for (int a = d - 1; a >= 0; a--) {
            double x = lo[a] + ((double)(r % n[a]) + 0.5) * (hi[a] - lo[a]) / (double)n[a];
            r /= n[a];
            e += cos(1.3 * x + a) * (1 + 0.2 * x);
        }
        eta[k] = e;
    }
    double *tmp = malloc(N * sizeof(double));
    berg_w2_gradient(s, p, eta, tmp);
    memcpy(eta, tmp, N * sizeof(double));
    free(tmp);
}

static size_t iterations(int d, size_t n1, berg_boundary bc)
{
    size_t n[3] = {n1, n1, n1};
    double lo[3] = {-3, -3, -3}, hi[3] = {3, 3, 3}, g[9] = {1.3, 0, 0, 0, 0.7, 0, 0, 0, 1};
    berg_boundary bcs[3] = {bc, bc, bc};
    double gd[9] = {0};
    for (int a = 0; a < d; a++)
        gd[a * d + a] = g[a * 3 + a];
    berg_space *s = tu_space(d, n, lo, hi, bcs, gd);
    size_t N = berg_space_size(s);
    double *p = malloc(N * sizeof(double)), *eta = malloc(N * sizeof(double)),
           *x = malloc(N * sizeof(double)), *back = malloc(N * sizeof(double));
    density(s, p);
    smooth_eta(s, p, eta);
    berg_w2_metric *m = NULL;
    size_t it = 0;
    double res = 1;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_OK, "create");
    if (m) {
        CHECK_STATUS(berg_w2_metric_potential(m, eta, x, &it, &res), BERG_OK, "potential");
        CHECK(res <= 1e-10, "residual reported %g <= tolerance", res);
        /* independent check of the residual */
        berg_w2_metric_tangent(m, x, back);
        double e = 0, b = 0, sum = 0;
        for (size_t i = 0; i < N; i++) {
            e += (back[i] - eta[i]) * (back[i] - eta[i]);
            b += eta[i] * eta[i];
            sum += x[i];
        }
        CHECK(sqrt(e / b) <= 1.5e-10, "L eta_hat = eta (%g)", sqrt(e / b));
        CHECK(fabs(sum) <= 1e-10 * N, "eta_hat has zero mean");
        berg_w2_metric_destroy(m);
    }
    free(p), free(eta), free(x), free(back);
    berg_space_destroy(s);
    return it;
}

static void test_grid_independence(void)
{
    struct {
        int d;
        size_t n;
        berg_boundary bc;
    } cases[] = {{1, 64, BERG_PERIODIC}, {1, 64, BERG_NEUMANN}, {2, 24, BERG_NEUMANN},
                 {2, 24, BERG_DIRICHLET}, {3, 10, BERG_PERIODIC}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t coarse = iterations(cases[c].d, cases[c].n, cases[c].bc);
        size_t fine = iterations(cases[c].d, 4 * cases[c].n, cases[c].bc);
        printf("W2 CG d=%d bc=%d: n=%zu %zu iterations, n=%zu %zu iterations\n", cases[c].d,
               (int)cases[c].bc, cases[c].n, coarse, 4 * cases[c].n, fine);
        CHECK(coarse > 0 && (double)fine <= 1.5 * (double)coarse + 3,
              "iterations nearly independent of the grid: %zu -> %zu", coarse, fine);
        CHECK(fine < 60, "few iterations (%zu)", fine);
    }
}

static void test_failures(void)
{
    size_t n[2] = {16, 12};
    double lo[2] = {-3, -3}, hi[2] = {3, 3};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    double *p = malloc(N * sizeof(double)), *eta = malloc(N * sizeof(double)),
           *x = malloc(N * sizeof(double));
    density(s, p);
    smooth_eta(s, p, eta);
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 0.0, p, BERG_PLAN_ESTIMATE), BERG_OK, "create");
    if (!m)
        return;
    /* CG cap too small: NO_CONVERGENCE with the residual in the message */
    CHECK_STATUS(berg_w2_metric_set_max_iterations(m, 2), BERG_OK, "cap");
    size_t it = 0;
    double res = 0;
    tu_fill(x, N, -7.0);
    CHECK_STATUS(berg_w2_metric_potential(m, eta, x, &it, &res), BERG_ERR_NO_CONVERGENCE,
                 "cap of 2 iterations");
    CHECK_MESSAGE("residual", "message gives the residual");
    CHECK(it == 2 && res > 1e-10 && res < 1, "iterations %zu and residual %g reported", it, res);
    CHECK(tu_untouched(x, N, -7.0), "eta_hat untouched on failure");
    CHECK_STATUS(berg_w2_metric_set_max_iterations(m, 0), BERG_ERR_DOMAIN, "cap 0");
    CHECK_STATUS(berg_w2_metric_set_max_iterations(m, 1000), BERG_OK, "cap back");
    /* looser tolerance: fewer iterations, residual within it */
    size_t it_tight, it_loose;
    berg_w2_metric_potential(m, eta, x, &it_tight, &res);
    CHECK_STATUS(berg_w2_metric_set_tolerance(m, 1e-4), BERG_OK, "tolerance");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, x, &it_loose, &res), BERG_OK, "loose solve");
    CHECK(it_loose < it_tight && res <= 1e-4, "looser tolerance: %zu < %zu its, residual %g",
          it_loose, it_tight, res);
    CHECK_STATUS(berg_w2_metric_set_tolerance(m, 0.0), BERG_ERR_DOMAIN, "tolerance 0");
    CHECK_STATUS(berg_w2_metric_set_tolerance(m, NAN), BERG_ERR_DOMAIN, "tolerance NaN");
    /* not a tangent vector */
    double *one = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++)
        one[i] = eta[i] + 1e-3;
    tu_fill(x, N, -7.0);
    CHECK_STATUS(berg_w2_metric_potential(m, one, x, NULL, NULL), BERG_ERR_NOT_TANGENT,
                 "nonzero integral");
    CHECK(tu_untouched(x, N, -7.0), "eta_hat untouched");
    double G = 99;
    CHECK_STATUS(berg_w2_metric_inner(m, eta, one, &G, NULL, NULL), BERG_ERR_NOT_TANGENT,
                 "inner with a non-tangent");
    CHECK_MESSAGE("eta2", "names the argument");
    CHECK(G == 99, "G untouched");
    one[5] = NAN;
    CHECK_STATUS(berg_w2_metric_potential(m, one, x, NULL, NULL), BERG_ERR_NONFINITE, "NaN eta");
    CHECK_MESSAGE("eta[5]", "names the index");
    CHECK_STATUS(berg_w2_metric_tangent(m, one, x), BERG_ERR_NONFINITE, "NaN eta_hat");
    CHECK(tu_untouched(x, N, -7.0), "eta_hat untouched");
    /* zero vector: zero potential, no iterations */
    memset(one, 0, N * sizeof(double));
    CHECK_STATUS(berg_w2_metric_potential(m, one, x, &it, &res), BERG_OK, "zero eta");
    CHECK(it == 0 && res == 0 && x[3] == 0, "zero eta: zero potential");

    /* densities that vanish: refused without regularization */
    double *pz = malloc(N * sizeof(double));
    memcpy(pz, p, N * sizeof(double));
    for (size_t j = 0; j < n[1]; j++)
        pz[0 * n[1] + j] = 0; /* the first row of axis 0 */
    berg_space_normalize(s, pz, NULL);
    berg_w2_metric *mz = NULL;
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 0.0, pz, 0), BERG_ERR_DOMAIN, "vanishing p");
    CHECK_MESSAGE("regularization", "suggests a regularization");
    CHECK(mz == NULL, "out untouched");
    CHECK_STATUS(berg_w2_metric_set_density(m, pz), BERG_ERR_DOMAIN, "set vanishing density");
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 1e-4, pz, BERG_PLAN_ESTIMATE), BERG_OK,
                 "regularized");
    if (mz) {
        CHECK_STATUS(berg_w2_metric_potential(mz, eta, x, &it, &res), BERG_OK,
                     "regularized solve (%zu its)", it);
        CHECK(it > 0 && it < 100 && res <= 1e-10, "regularized solve: %zu iterations", it);
        berg_w2_metric_destroy(mz);
    }
    /* set_density: same answers as a new handle */
    double *q = malloc(N * sizeof(double)), *x2 = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++)
        q[i] = p[(i * 7) % N] + p[i];
    berg_space_normalize(s, q, NULL);
    berg_w2_metric_set_tolerance(m, 1e-12);
    CHECK_STATUS(berg_w2_metric_set_density(m, q), BERG_OK, "set density");
    berg_w2_metric_potential(m, eta, x, NULL, NULL);
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 0.0, q, BERG_PLAN_ESTIMATE), BERG_OK, "new");
    if (mz) {
        berg_w2_metric_set_tolerance(mz, 1e-12);
        berg_w2_metric_potential(mz, eta, x2, NULL, NULL);
        CHECK(tu_max_abs_diff(x, x2, N) <= 1e-12, "set_density = new handle");
        berg_w2_metric_destroy(mz);
    }
    /* bad arguments */
    CHECK_STATUS(berg_w2_metric_create(NULL, s, 0, p, 0), BERG_ERR_NULL, "NULL out");
    CHECK_STATUS(berg_w2_metric_create(&mz, s, -1, p, 0), BERG_ERR_DOMAIN, "negative delta");
    /* flags of other creators are refused by name, out untouched */
    mz = NULL;
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 0, p, BERG_SYMBOL_FD), BERG_ERR_DOMAIN,
                 "BERG_SYMBOL_FD is not a W2 metric flag");
    CHECK_MESSAGE("BERG_SYMBOL_FD", "names the flag");
    CHECK_MESSAGE("berg_w2_metric_create", "names the function");
    CHECK(mz == NULL, "out untouched");
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 0, p, BERG_PLAN_ESTIMATE | BERG_SINKHORN_LOG_DOMAIN),
                 BERG_ERR_DOMAIN, "BERG_SINKHORN_LOG_DOMAIN is not a W2 metric flag");
    CHECK_MESSAGE("BERG_SINKHORN_LOG_DOMAIN", "names the flag");
    CHECK(mz == NULL, "out untouched");
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 0, p, 0x80000000u), BERG_ERR_DOMAIN,
                 "a bit that is no libberg flag");
    CHECK(mz == NULL, "out untouched");
    for (size_t i = 0; i < N; i++)
        q[i] = 2 * p[i];
    CHECK_STATUS(berg_w2_metric_create(&mz, s, 0, q, 0), BERG_ERR_MASS, "unnormalized p");
    CHECK_STATUS(berg_w2_metric_potential(NULL, eta, x, NULL, NULL), BERG_ERR_NULL, "NULL m");
    CHECK_STATUS(berg_w2_metric_potential(m, eta, NULL, NULL, NULL), BERG_ERR_NULL, "NULL out");
    /* in place */
    memcpy(x2, eta, N * sizeof(double));
    berg_w2_metric_potential(m, eta, x, NULL, NULL);
    CHECK_STATUS(berg_w2_metric_potential(m, x2, x2, NULL, NULL), BERG_OK, "in place");
    CHECK(tu_max_abs_diff(x, x2, N) == 0, "in place = out of place");
    berg_w2_metric_destroy(m);
    berg_w2_metric_destroy(NULL);
    free(p), free(eta), free(x), free(one), free(pz), free(q), free(x2);
    berg_space_destroy(s);
}

/* ---- one handle, many threads ------------------------------------------- */

#define NTHREADS 8

typedef struct {
    const berg_w2_metric *m;
    const double *eta;  /* NTHREADS tangent vectors */
    double *out;        /* NTHREADS potentials, tangents, inner products */
    size_t N, id;
    berg_status st;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    size_t N = j->N, k = j->id;
    const double *eta = j->eta + k * N, *eta2 = j->eta + ((k + 1) % NTHREADS) * N;
    double *x = j->out + k * 2 * N, *back = x + N, *G = j->out + 2 * NTHREADS * N + k;
    for (int rep = 0; rep < 3 && !j->st; rep++) {
        size_t it;
        double res;
        j->st = berg_w2_metric_potential(j->m, eta, x, &it, &res);
        if (!j->st)
            j->st = berg_w2_metric_tangent(j->m, x, back);
        if (!j->st)
            j->st = berg_w2_metric_inner(j->m, eta, eta2, G, NULL, NULL);
    }
    return NULL;
}

static void run_jobs(const berg_w2_metric *m, const double *eta, double *out, size_t N,
                     int threaded)
{
    job_t jobs[NTHREADS];
    pthread_t th[NTHREADS];
    for (size_t k = 0; k < NTHREADS; k++) {
        jobs[k] = (job_t){m, eta, out, N, k, BERG_OK};
        if (!threaded)
            worker(&jobs[k]);
        else if (pthread_create(&th[k], NULL, worker, &jobs[k]) != 0)
            worker(&jobs[k]);
        else
            continue;
        CHECK_STATUS(jobs[k].st, BERG_OK, "serial job %zu", k);
    }
    if (threaded)
        for (size_t k = 0; k < NTHREADS; k++) {
            pthread_join(th[k], NULL);
            CHECK_STATUS(jobs[k].st, BERG_OK, "thread %zu", k);
        }
}

/* one const handle solved from 8 threads at once gives the serial results
 * bit for bit */
static void test_threads(void)
{
    size_t n[2] = {48, 40};
    double lo[2] = {-3, -3}, hi[2] = {3, 3};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    double *p = malloc(N * sizeof(double)), *eta = malloc(NTHREADS * N * sizeof(double));
    size_t nout = 2 * NTHREADS * N + NTHREADS;
    double *serial = malloc(nout * sizeof(double)), *threaded = malloc(nout * sizeof(double));
    density(s, p);
    unsigned long long seed = 17;
    for (size_t k = 0; k < NTHREADS; k++) {
        for (size_t i = 0; i < N; i++)
            eta[k * N + i] = 2.0 * tu_uniform(&seed) - 1.0;
        berg_space_project_tangent(s, eta + k * N, eta + k * N);
    }
    berg_w2_metric *m = NULL;
    CHECK_STATUS(berg_w2_metric_create(&m, s, 1e-3, p, BERG_PLAN_ESTIMATE), BERG_OK, "create");
    if (m) {
        tu_fill(serial, nout, -7.0);
        tu_fill(threaded, nout, -8.0);
        run_jobs(m, eta, serial, N, 0);
        run_jobs(m, eta, threaded, N, 1);
        CHECK(memcmp(serial, threaded, nout * sizeof(double)) == 0,
              "%d threads on one handle = serial, bitwise (max difference %g)", NTHREADS,
              tu_max_abs_diff(serial, threaded, nout));
        berg_w2_metric_destroy(m);
    }
    free(p), free(eta), free(serial), free(threaded);
    berg_space_destroy(s);
}

int main(void)
{
    test_grid_independence();
    test_failures();
    test_threads();
    return test_summary("metric/w2_metric");
}
