/*
 * lib/fisher/blas_threads.c - OpenBLAS held at one thread while libberg's
 * threads call it (see blas_threads.h).
 */
#include <pthread.h>
#include <stddef.h>

#include "core/internal.h"
#include "fisher/blas_threads.h"

/* after the berg headers: OpenBLAS's cblas.h may pull in <complex.h> */
#include <cblas.h>

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t holders;   /* current holds */
static int saved = 1;    /* OpenBLAS's setting before the first hold */

int berg__blas_hold(void)
{
    int parallel = openblas_get_parallel(); /* 0 sequential, 1 pthreads, 2 OpenMP */
    if (parallel == 2)
        return 0;
    if (parallel == 0)
        return 1;
    pthread_mutex_lock(&hold_lock);
    if (holders++ == 0) {
        saved = openblas_get_num_threads();
        if (saved != 1)
            openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&hold_lock);
    return 1;
}

void berg__blas_release(void)
{
    if (openblas_get_parallel() != 1)
        return;
    pthread_mutex_lock(&hold_lock);
    /* restore only what the hold changed: a caller who set another count
     * meanwhile keeps it */
    if (holders > 0 && --holders == 0 && saved != 1 && openblas_get_num_threads() == 1)
        openblas_set_num_threads(saved);
    pthread_mutex_unlock(&hold_lock);
}
