/*
 * lib/core/threads.c - the library-wide thread setting and the parallel
 * loops libberg runs itself: POSIX threads (no runtime of its own to clash
 * with a caller's OpenMP, and every synchronisation visible to
 * ThreadSanitizer), kept in a pool between calls.
 *
 * The pool: workers started on first use (at most POOL_MAX), each waiting
 * for the next job on a condition variable. A job takes the pool whole
 * (pool_busy, a trylock): a second caller at the same time, or a loop
 * nested in a worker, starts threads of its own for its call as before.
 * Starting and joining a thread per call cost 55-78 us on the 2-core test
 * machine, a dispatch to the pool 22-26 us when its waiters sleep. After
 * fork() the child has no workers (pthread_atfork resets the pool); at
 * unload a destructor stops and joins them.
 *
 * Waiting: a waiter (a worker for its next job, the caller for the last
 * worker) spins on the state it waits for before it sleeps on the
 * condition variable, for at most a budget. The wake of a sleeping thread
 * is the 22-26 us above (an idle vCPU here), and loops that run parallel
 * sections back to back lost a third of their second thread to it (the
 * Sinkhorn barycenter: four sections per iteration). The budget adapts to
 * how long the waits turn out (spinning included): a wait shorter than
 * SPIN_MAX_NS raises it to twice that wait, a longer one (the partner was
 * not running: a loaded machine, or the time between two calls) halves
 * it, towards nothing. So a quiet machine running sections back to back
 * keeps its threads awake, and a loaded one, or a program that calls
 * libberg now and then, sleeps at once, as before. A spinning thread
 * yields its core every 64 pauses, so that a thread waiting for a core
 * (its partner, another process's) gets it. With a CPU-bound process on
 * the other core, the barycenter on 2 threads ran at 0.74-0.78 of its
 * 1-thread speed spinning without yielding, 0.81-0.87 spinning and
 * yielding, 0.85-0.87 not spinning (no thread count gains there).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

/* one worker: the ranges r = first, first + stride, ... < last (of
 * nranges) */
typedef struct berg__worker {
    pthread_t tid;
    int started;
    size_t first, stride, last, nranges, n;
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
    for (size_t r = w->first; r < w->last; r += w->stride) {
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

/* ---- the pool ------------------------------------------------------------ */

#define POOL_MAX 64

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t pool_mx = PTHREAD_MUTEX_INITIALIZER;   /* the state below */
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER, pool_done = PTHREAD_COND_INITIALIZER;
static pthread_t pool_tid[POOL_MAX];
static size_t pool_size;          /* workers started (worker k runs pool_job[k + 1]) */
static unsigned long pool_gen;    /* job generation */
static size_t pool_active;        /* workers in the current job */
static size_t pool_pending;       /* of those, not finished */
static int pool_quit;
/* the same state for the spinning waiters (written under pool_mx) */
static atomic_ulong pool_gen_seen;
static atomic_size_t pool_left;
static berg__worker pool_job[POOL_MAX + 1];
static unsigned long pool_born[POOL_MAX]; /* the generation current when worker k started */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

#define SPIN_MAX_NS 100000L
static atomic_long spin_budget; /* ns; 0 at first: sleep */

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* the budget after a wait of `waited` ns */
static void spin_learn(long waited)
{
    long b = atomic_load_explicit(&spin_budget, memory_order_relaxed);
    b = waited < SPIN_MAX_NS ? (2 * waited > b ? 2 * waited : b) : b / 2;
    atomic_store_explicit(&spin_budget, b < SPIN_MAX_NS ? b : SPIN_MAX_NS, memory_order_relaxed);
}

/* the worker: until a job after `seen` is posted, at most the budget */
static int job_posted(unsigned long seen)
{
    return atomic_load_explicit(&pool_gen_seen, memory_order_acquire) != seen;
}

/* the caller: until every worker of the job has finished */
static int job_finished(unsigned long unused)
{
    (void)unused;
    return atomic_load_explicit(&pool_left, memory_order_acquire) == 0;
}

/* spins while !ready(arg), at most the budget from t0 (ns), yielding the
 * core every 64 pauses; 1 if ready */
static int spin(int (*ready)(unsigned long), unsigned long arg, long t0)
{
    long budget = atomic_load_explicit(&spin_budget, memory_order_relaxed);
    for (unsigned i = 1;; i++) {
        if (ready(arg))
            return 1;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (i % 64 == 0) {
            if (now_ns() - t0 >= budget)
                return 0;
            sched_yield();
        }
    }
}

static void *pool_main(void *arg)
{
    size_t k = (size_t)(uintptr_t)arg;
    pthread_mutex_lock(&pool_mx);
    /* a worker started for a job waits for the job after the one before
     * it was started, which is that job */
    unsigned long seen = pool_born[k];
    for (;;) {
        if (pool_gen == seen && !pool_quit) {
            long t0 = now_ns();
            pthread_mutex_unlock(&pool_mx);
            spin(job_posted, seen, t0);
            pthread_mutex_lock(&pool_mx);
            while (pool_gen == seen && !pool_quit)
                pthread_cond_wait(&pool_go, &pool_mx);
            spin_learn(now_ns() - t0);
        }
        if (pool_quit)
            break;
        seen = pool_gen;
        if (k >= pool_active)
            continue;
        berg__worker w = pool_job[k + 1];
        pthread_mutex_unlock(&pool_mx);
        run_worker(&w);
        pthread_mutex_lock(&pool_mx);
        atomic_store_explicit(&pool_left, pool_pending - 1, memory_order_release);
        if (--pool_pending == 0)
            pthread_cond_signal(&pool_done);
    }
    pthread_mutex_unlock(&pool_mx);
    return NULL;
}

static void pool_prepare(void)
{
    pthread_mutex_lock(&pool_busy);
    pthread_mutex_lock(&pool_mx);
}

static void pool_parent(void)
{
    pthread_mutex_unlock(&pool_mx);
    pthread_mutex_unlock(&pool_busy);
}

/* The child of fork() has none of the workers, and the condition
 * variables' state counts the parent's waiters (a broadcast would wait for
 * them forever): everything starts afresh. */
static void pool_child(void)
{
    pool_size = 0;
    pool_active = pool_pending = 0;
    atomic_store(&pool_left, 0);
    atomic_store(&pool_gen_seen, pool_gen);
    atomic_store(&spin_budget, 0);
    pthread_cond_init(&pool_go, NULL);
    pthread_cond_init(&pool_done, NULL);
    pthread_mutex_init(&pool_mx, NULL);
    pthread_mutex_init(&pool_busy, NULL);
}

static void pool_init(void)
{
    pthread_atfork(pool_prepare, pool_parent, pool_child);
}

__attribute__((destructor)) static void pool_stop(void)
{
    pthread_mutex_lock(&pool_mx);
    size_t n = pool_size;
    pool_quit = 1;
    pthread_cond_broadcast(&pool_go);
    pthread_mutex_unlock(&pool_mx);
    for (size_t k = 0; k < n; k++)
        pthread_join(pool_tid[k], NULL);
    pthread_mutex_lock(&pool_mx);
    pool_size = 0;
    pool_quit = 0;
    pthread_mutex_unlock(&pool_mx);
}

/* ws[1 .. nthreads-1] on the pool's workers, ws[0] here; 0 when the pool
 * is busy (another caller's job, or this loop is nested in one) */
static int pool_run(berg__worker *ws, size_t nthreads)
{
    if (nthreads - 1 > POOL_MAX || pthread_mutex_trylock(&pool_busy) != 0)
        return 0;
    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool_mx);
    while (pool_size < nthreads - 1) {
        pool_born[pool_size] = pool_gen;
        if (pthread_create(&pool_tid[pool_size], NULL, pool_main,
                           (void *)(uintptr_t)pool_size) != 0)
            break;
        pool_size++;
    }
    size_t active = pool_size < nthreads - 1 ? pool_size : nthreads - 1;
    for (size_t k = 0; k < active; k++)
        pool_job[k + 1] = ws[k + 1];
    pool_active = active;
    pool_pending = active;
    pool_gen++;
    atomic_store_explicit(&pool_left, active, memory_order_relaxed);
    atomic_store_explicit(&pool_gen_seen, pool_gen, memory_order_release);
    pthread_cond_broadcast(&pool_go);
    pthread_mutex_unlock(&pool_mx);
    run_worker(&ws[0]);
    for (size_t k = active + 1; k < nthreads; k++)
        run_worker(&ws[k]); /* workers that could not start: their ranges run here */
    long t0 = now_ns();
    spin(job_finished, 0, t0);
    pthread_mutex_lock(&pool_mx);
    while (pool_pending > 0)
        pthread_cond_wait(&pool_done, &pool_mx);
    spin_learn(now_ns() - t0);
    pool_active = 0;
    pthread_mutex_unlock(&pool_mx);
    pthread_mutex_unlock(&pool_busy);
    return 1;
}

/* the ranges of worker k of nthreads: every nthreads-th from k, or (blocks)
 * a contiguous block of them */
static berg__worker assign(size_t k, size_t nthreads, int blocks, size_t n, size_t nranges,
                           berg__range_fn body, void *ctx)
{
    berg__worker w = {.first = k, .stride = nthreads, .last = nranges, .nranges = nranges,
                      .n = n, .body = body, .ctx = ctx};
    if (blocks) {
        w.first = k * nranges / nthreads;
        w.last = (k + 1) * nranges / nthreads;
        w.stride = 1;
    }
    return w;
}

static void parallel(size_t n, size_t nranges, size_t nthreads, int blocks, berg__range_fn body,
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
        berg__worker w = assign(0, 1, 0, n, nranges, body, ctx);
        run_worker(&w);
        return;
    }
    berg__worker local[8];
    berg__worker *ws = local;
    if (nthreads > 8) {
        ws = malloc(nthreads * sizeof *ws);
        if (ws == NULL) { /* run serially: the same ranges, the same answer */
            berg__worker w = assign(0, 1, 0, n, nranges, body, ctx);
            run_worker(&w);
            return;
        }
    }
    for (size_t k = 0; k < nthreads; k++)
        ws[k] = assign(k, nthreads, blocks, n, nranges, body, ctx);
    if (!pool_run(ws, nthreads)) {
        /* threads of this call's own */
        for (size_t k = 1; k < nthreads; k++)
            ws[k].started = pthread_create(&ws[k].tid, NULL, worker_main, &ws[k]) == 0;
        run_worker(&ws[0]);
        for (size_t k = 1; k < nthreads; k++) {
            if (ws[k].started)
                pthread_join(ws[k].tid, NULL);
            else
                run_worker(&ws[k]); /* could not start: its ranges run here */
        }
    }
    if (ws != local)
        free(ws);
}

void berg__parallel_ranges(size_t n, size_t nranges, size_t nthreads, berg__range_fn body,
                           void *ctx)
{
    parallel(n, nranges, nthreads, 0, body, ctx);
}

void berg__parallel_blocks(size_t n, size_t nranges, size_t nthreads, berg__range_fn body,
                           void *ctx)
{
    parallel(n, nranges, nthreads, 1, body, ctx);
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
