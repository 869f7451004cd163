/*
 * lib/core/threads.c - the library-wide thread setting and the parallel
 * loops libberg runs itself (POSIX threads started per call: no runtime of
 * its own to clash with a caller's OpenMP, and every synchronisation is
 * visible to ThreadSanitizer).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

static atomic_size_t berg__nthreads = 1;

berg_status berg_set_threads(size_t nthreads)
{
    static const char fn[] = "berg_set_threads";
    BERG_REQUIRE(nthreads >= 1 && nthreads <= BERG__THREADS_MAX, BERG_ERR_DOMAIN,
                 "%s: nthreads is %zu, not in [1, %d]", fn, nthreads, BERG__THREADS_MAX);
    atomic_store(&berg__nthreads, nthreads);
    return BERG_OK;
}

size_t berg_threads(void)
{
    return atomic_load(&berg__nthreads);
}

size_t berg__threads(size_t handle_setting)
{
    size_t n = handle_setting ? handle_setting : atomic_load(&berg__nthreads);
    if (n < 1)
        n = 1;
    if (n > BERG__THREADS_MAX)
        n = BERG__THREADS_MAX;
    return n;
}

/* one worker: the ranges r = first, first + stride, ... < nranges */
typedef struct berg__worker {
    pthread_t tid;
    int started;
    size_t first, stride, nranges, n;
    berg__range_fn body;
    void *ctx;
} berg__worker;

static void range_bounds(size_t n, size_t nranges, size_t r, size_t *b, size_t *e)
{
    /* balanced contiguous split: the first n % nranges ranges get one more */
    size_t q = n / nranges, rem = n % nranges;
    *b = r * q + (r < rem ? r : rem);
    *e = *b + q + (r < rem ? 1 : 0);
}

static void run_worker(berg__worker *w)
{
    for (size_t r = w->first; r < w->nranges; r += w->stride) {
        size_t b, e;
        range_bounds(w->n, w->nranges, r, &b, &e);
        if (b < e)
            w->body(w->ctx, b, e, r);
    }
}

static void *worker_main(void *arg)
{
    run_worker((berg__worker *)arg);
    return NULL;
}

void berg__parallel_ranges(size_t n, size_t nranges, size_t nthreads, berg__range_fn body,
                           void *ctx)
{
    if (n == 0 || nranges == 0)
        return;
    if (nranges > n)
        nranges = n;
    if (nthreads > nranges)
        nthreads = nranges;
    if (nthreads > BERG__THREADS_MAX)
        nthreads = BERG__THREADS_MAX;
    if (nthreads <= 1) {
        berg__worker w = {.first = 0, .stride = 1, .nranges = nranges, .n = n,
                          .body = body, .ctx = ctx};
        run_worker(&w);
        return;
    }
    berg__worker local[8];
    berg__worker *ws = local;
    if (nthreads > 8) {
        ws = malloc(nthreads * sizeof *ws);
        if (ws == NULL) { /* run serially: the same ranges, the same answer */
            berg__worker w = {.first = 0, .stride = 1, .nranges = nranges, .n = n,
                              .body = body, .ctx = ctx};
            run_worker(&w);
            return;
        }
    }
    for (size_t k = 0; k < nthreads; k++) {
        ws[k] = (berg__worker){.first = k, .stride = nthreads, .nranges = nranges, .n = n,
                               .body = body, .ctx = ctx};
    }
    for (size_t k = 1; k < nthreads; k++)
        ws[k].started = pthread_create(&ws[k].tid, NULL, worker_main, &ws[k]) == 0;
    run_worker(&ws[0]);
    for (size_t k = 1; k < nthreads; k++) {
        if (ws[k].started)
            pthread_join(ws[k].tid, NULL);
        else
            run_worker(&ws[k]); /* could not start: its ranges run here */
    }
    if (ws != local)
        free(ws);
}

void berg__parallel_for(size_t n, size_t nthreads, size_t grain, berg__range_fn body, void *ctx)
{
    if (n == 0)
        return;
    if (grain == 0)
        grain = 1;
    size_t maxr = n / grain;
    if (maxr < 1)
        maxr = 1;
    if (nthreads > maxr)
        nthreads = maxr;
    if (nthreads < 1)
        nthreads = 1;
    berg__parallel_ranges(n, nthreads, nthreads, body, ctx);
}
