/*
 * libberg's FFTW planner lock, shared by all modules.
 *
 * FFTW's planner is not thread-safe. Since FFTW 3.3.5,
 * fftw_make_planner_thread_safe() makes FFTW serialize its own planner
 * (plan creation and destruction) with an internal lock, which also
 * protects libberg against a host program that plans at the same time.
 * libberg calls it once, with fftw_init_threads().
 *
 * libberg still keeps one mutex of its own, held around what FFTW's lock
 * does not cover: fftw_plan_with_nthreads is a global setting that must
 * stay the same from the moment it is set to the end of the planning,
 * and the wisdom functions.
 *
 * The first time the mutex is taken (the first planning or wisdom call of
 * the process) libberg imports the system wisdom: the file named by
 * $BERG_WISDOM, or when that is unset BERG_SYSTEM_WISDOM
 * (<sysconfdir>/berg/wisdom, written by berg-wisdom); $BERG_WISDOM set to
 * the empty string imports nothing. A missing or unreadable file, or one
 * that is not FFTW wisdom, is skipped (FFTW's import is all or nothing), so
 * planning never fails because of it.
 *
 * Destruction never waits for a libberg planning of another thread (a
 * FFTW_MEASURE plan may take seconds): berg__fftw_destroy_plan destroys the
 * plan at once when the mutex is free, and otherwise puts it on a deferred
 * list that the thread holding the mutex empties before it lets go of it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <fftw3.h>

#include "core/berg_paths.h"
#include "core/internal.h"

static pthread_mutex_t planner_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

/* plans whose destruction waits for the planner mutex */
typedef struct deferred_plan {
    struct deferred_plan *next;
    fftw_plan plan;
} deferred_plan;
static pthread_mutex_t deferred_mutex = PTHREAD_MUTEX_INITIALIZER;
static deferred_plan *deferred = NULL;

void berg__fftw_destroy_plan(fftw_plan p);

static void init_threads(void)
{
    fftw_init_threads();
    fftw_make_planner_thread_safe();
}

/* destroy the deferred plans; the caller holds planner_mutex */
static void drain_deferred(void)
{
    pthread_mutex_lock(&deferred_mutex);
    deferred_plan *list = deferred;
    deferred = NULL;
    pthread_mutex_unlock(&deferred_mutex);
    while (list != NULL) {
        deferred_plan *next = list->next;
        fftw_destroy_plan(list->plan);
        free(list);
        list = next;
    }
}

static int have_deferred(void)
{
    pthread_mutex_lock(&deferred_mutex);
    int any = deferred != NULL;
    pthread_mutex_unlock(&deferred_mutex);
    return any;
}

/* the system wisdom, once; the caller holds planner_mutex */
static int system_wisdom_read = 0;
static void import_system_wisdom(void)
{
    system_wisdom_read = 1;
    const char *path = getenv("BERG_WISDOM");
    if (path == NULL)
        path = BERG_SYSTEM_WISDOM;
    if (path[0] == '\0')
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    (void)fftw_import_wisdom_from_file(f);
    fclose(f);
}

void berg__fftw_lock(void)
{
    pthread_once(&threads_once, init_threads);
    pthread_mutex_lock(&planner_mutex);
    if (!system_wisdom_read)
        import_system_wisdom();
    drain_deferred();
}

/* Empties the deferred list before letting go; a plan deferred after the
 * last drain but before the unlock (its thread found the mutex taken) is
 * destroyed by the re-check after the unlock. */
void berg__fftw_unlock(void)
{
    for (;;) {
        drain_deferred();
        pthread_mutex_unlock(&planner_mutex);
        if (!have_deferred() || pthread_mutex_trylock(&planner_mutex) != 0)
            return;
    }
}

void berg__fftw_destroy_plan(fftw_plan p)
{
    if (p == NULL)
        return;
    pthread_once(&threads_once, init_threads);
    if (pthread_mutex_trylock(&planner_mutex) == 0) {
        fftw_destroy_plan(p);
        berg__fftw_unlock();
        return;
    }
    deferred_plan *node = malloc(sizeof *node);
    if (node == NULL) { /* no memory for the list: wait for the planner instead */
        berg__fftw_lock();
        fftw_destroy_plan(p);
        berg__fftw_unlock();
        return;
    }
    node->plan = p;
    pthread_mutex_lock(&deferred_mutex);
    node->next = deferred;
    deferred = node;
    pthread_mutex_unlock(&deferred_mutex);
    /* the holder may have let go meanwhile: then empty the list here */
    if (pthread_mutex_trylock(&planner_mutex) == 0)
        berg__fftw_unlock();
}
