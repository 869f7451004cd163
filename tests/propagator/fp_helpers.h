/*
 * tests/propagator/fp_helpers.h - grid measures shared by the Fokker-Planck
 * tests (finite volume and Fourier): L1 distance, mass, minimum and
 * KL(p || q) with the space's cell weight.
 */
#ifndef BERG_TEST_FP_HELPERS_H
#define BERG_TEST_FP_HELPERS_H

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berg.h"

static double l1_dist(const berg_space *s, const double *a, const double *b)
{
    size_t n = berg_space_size(s);
    double w, sum = 0.0;
    w = berg_space_cell_weight(s);
    for (size_t i = 0; i < n; i++)
        sum += fabs(a[i] - b[i]);
    return sum * w;
}

static double mass(const berg_space *s, const double *p)
{
    double m;
    berg_space_integrate(s, p, &m);
    return m;
}

static double min_of(const double *a, size_t n)
{
    double m = a[0];
    for (size_t i = 1; i < n; i++)
        m = a[i] < m ? a[i] : m;
    return m;
}

/* KL(p || q) with p normalized by its own mass */
static double kl(const berg_space *s, const double *p, const double *q)
{
    size_t n = berg_space_size(s);
    double w, m = mass(s, p), sum = 0.0;
    w = berg_space_cell_weight(s);
    for (size_t i = 0; i < n; i++)
        if (p[i] > 0)
            sum += p[i] / m * log((p[i] / m) / q[i]);
    return sum * w;
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
