/* The lock around FFTW's planner (not thread-safe), shared by all modules. */
#include <pthread.h>
#include <fftw3.h>

#include "core/internal.h"

static pthread_mutex_t planner_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void init_threads(void) { fftw_init_threads(); }

void berg__fftw_lock(void)
{
    pthread_once(&threads_once, init_threads);
    pthread_mutex_lock(&planner_mutex);
}

void berg__fftw_unlock(void) { pthread_mutex_unlock(&planner_mutex); }
