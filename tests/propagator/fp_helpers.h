/*
 * tests/propagator/fp_helpers.h - what the Fokker-Planck tests (finite
 * volume, Fourier, Wegner-Morris, randomized properties) share: grid
 * measures (L1 distance, mass, minimum; KL(p || q) is tu_kl of
 * testutil.h), 1-D spaces and grid functions, a Gaussian, one handle evolved
 * from many threads, and the refusal of a foreign flag.
 */
#ifndef BERG_TEST_FP_HELPERS_H
#define BERG_TEST_FP_HELPERS_H

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berg.h"
#include "testutil.h"

static inline double l1_dist(const berg_space *s, const double *a, const double *b)
{
    size_t n = berg_space_size(s);
    double w, sum = 0.0;
    w = berg_space_cell_weight(s);
    for (size_t i = 0; i < n; i++)
        sum += fabs(a[i] - b[i]);
    return sum * w;
}

static inline double mass(const berg_space *s, const double *p)
{
    double m;
    berg_space_integrate(s, p, &m);
    return m;
}

static inline double min_of(const double *a, size_t n)
{
    double m = a[0];
    for (size_t i = 1; i < n; i++)
        m = a[i] < m ? a[i] : m;
    return m;
}

/* ---- grids and closed forms ---------------------------------------------- */
/* a 1-D space of n cells on [lo, hi] */
static inline berg_space *space1(size_t n, double lo, double hi, berg_boundary bc)
{
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL), BERG_OK, "space 1-D");
    return s;
}

static inline double *grid_fn(const berg_space *s, double (*f)(const double *x, void *), void *ctx)
{
    size_t d = berg_space_rank(s);
    size_t n = berg_space_size(s), shape[8];
    berg_space_shape(s, shape);
    double *c[8], *out = malloc(n * sizeof(double));
    for (size_t a = 0; a < d; a++) {
        c[a] = malloc(shape[a] * sizeof(double));
        berg_space_coordinates(s, a, c[a]);
    }
    for (size_t i = 0; i < n; i++) {
        double x[8];
        size_t r = i;
        for (size_t a = d; a-- > 0;) {
            x[a] = c[a][r % shape[a]];
            r /= shape[a];
        }
        out[i] = f(x, ctx);
    }
    for (size_t a = 0; a < d; a++)
        free(c[a]);
    return out;
}

static inline double quad(const double *x, void *ctx)
{
    double a = ctx ? *(double *)ctx : 1.0;
    return 0.5 * a * x[0] * x[0];
}

static inline double gauss1(double x, double m, double v)
{
    return exp(-(x - m) * (x - m) / (2 * v)) / sqrt(2 * M_PI * v);
}

/* ---- one handle evolved from many threads at once ------------------------ */
#define FP_THREADS 8

typedef struct fp_thread_job {
    const berg_fp *fp;
    double t;
    const double *in;
    double *out;
    size_t n;
    berg_status status;
    size_t accepted;
} fp_thread_job;

static inline void *fp_thread_run(void *arg)
{
    fp_thread_job *job = arg;
    job->status = berg_fp_evolve(job->fp, job->t, job->in, job->out);
    berg_fp_last_steps(job->fp, &job->accepted, NULL);
    return NULL;
}

/* evolve in from FP_THREADS threads at once on the one handle fp; 1 when
 * every thread succeeded with the serial result bit for bit and reported
 * the serial step count (of its own call) */
static inline int fp_threads_bitwise(const berg_fp *fp, double t, const double *in, size_t n)
{
    double *serial = malloc(n * sizeof(double));
    size_t serial_steps = 0;
    int ok = serial && berg_fp_evolve(fp, t, in, serial) == BERG_OK;
    berg_fp_last_steps(fp, &serial_steps, NULL);
    fp_thread_job jobs[FP_THREADS];
    pthread_t th[FP_THREADS];
    for (int k = 0; k < FP_THREADS; k++) {
        jobs[k] = (fp_thread_job){fp, t, in, malloc(n * sizeof(double)), n, BERG_ERR_INTERNAL, 0};
        if (!jobs[k].out || pthread_create(&th[k], NULL, fp_thread_run, &jobs[k]) != 0) {
            free(jobs[k].out);
            jobs[k].out = NULL;
            ok = 0;
        }
    }
    for (int k = 0; k < FP_THREADS; k++) {
        if (!jobs[k].out)
            continue;
        pthread_join(th[k], NULL);
        ok = ok && jobs[k].status == BERG_OK && jobs[k].accepted == serial_steps &&
             memcmp(jobs[k].out, serial, n * sizeof(double)) == 0;
        free(jobs[k].out);
    }
    free(serial);
    return ok && serial_steps > 0;
}

/* a flag of another creator is refused naming it, out untouched */
static inline int fp_refuses_foreign_flag(const berg_space *s, const double *V, unsigned flags,
                                   const char *name)
{
    berg_fp *fp = (berg_fp *)(void *)&fp; /* any non-NULL value */
    berg_fp *keep = fp;
    berg_status st = berg_fp_create(&fp, s, V, flags);
    return st == BERG_ERR_DOMAIN && strstr(berg_last_error(), name) != NULL && fp == keep;
}

#endif
