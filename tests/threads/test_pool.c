/* libberg's thread pool (lib/core/threads.c): the split loops give their
 * serial result on 1 to 9 threads (the pool grows as asked); a loop nested
 * in a worker and loops from several caller threads at once (the pool is
 * busy: they start threads of their own) complete with the right result;
 * after fork() the child, which has none of the parent's workers, runs
 * split loops too; berg__parallel_blocks deals the same ranges out in
 * contiguous blocks. Also run under ThreadSanitizer by scripts/test (all
 * but the fork, which ThreadSanitizer does not support). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "core/internal.h"

/* sum of f(i) = i mod 1009 over each range, into part[range] */
typedef struct sum_job {
    size_t part[64];
    int nested; /* each range also runs a split loop of its own */
    int nested_ok[64];
} sum_job;

static size_t serial_sum(size_t begin, size_t end)
{
    size_t s = 0;
    for (size_t i = begin; i < end; i++)
        s += i % 1009;
    return s;
}

static void inner_range(void *ctx, size_t begin, size_t end, size_t range)
{
    size_t *part = ctx;
    part[range] = serial_sum(begin, end);
}

static void sum_range(void *ctx, size_t begin, size_t end, size_t range)
{
    sum_job *j = ctx;
    j->part[range] = serial_sum(begin, end);
    if (j->nested) {
        size_t part[4] = {0}, total = 0;
        berg__parallel_ranges(end - begin, 4, 3, inner_range, part);
        for (int r = 0; r < 4; r++)
            total += part[r];
        j->nested_ok[range] = total == serial_sum(0, end - begin);
    }
}

static size_t split_sum(size_t n, size_t nranges, size_t nthreads, int nested, int *nested_ok)
{
    sum_job j;
    memset(&j, 0, sizeof j);
    j.nested = nested;
    berg__parallel_ranges(n, nranges, nthreads, sum_range, &j);
    size_t total = 0;
    int ok = 1;
    for (size_t r = 0; r < nranges && r < 64; r++) {
        total += j.part[r];
        ok &= !nested || j.nested_ok[r];
    }
    if (nested_ok)
        *nested_ok = ok;
    return total;
}

static void test_counts(void)
{
    size_t n = 100003, want = serial_sum(0, n);
    for (size_t t = 1; t <= 9; t++)
        for (size_t r = 1; r <= 17; r += 4)
            CHECK(split_sum(n, r, t, 0, NULL) == want, "%zu ranges on %zu threads", r, t);
    /* back to fewer threads after the pool grew */
    CHECK(split_sum(n, 16, 2, 0, NULL) == want, "2 threads after 9");
}

static void test_nested(void)
{
    int ok = 0;
    size_t n = 50000;
    CHECK(split_sum(n, 6, 3, 1, &ok) == serial_sum(0, n), "outer loop with nested loops");
    CHECK(ok, "every nested loop summed right");
}

static void *caller(void *arg)
{
    int *ok = arg;
    *ok = 1;
    for (int rep = 0; rep < 200; rep++) {
        size_t n = 20000 + (size_t)rep;
        *ok &= split_sum(n, 8, 2 + (size_t)(rep % 3), 0, NULL) == serial_sum(0, n);
    }
    return NULL;
}

static void test_callers(void)
{
    pthread_t t[4];
    int ok[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, caller, &ok[i]) == 0, "start caller %d", i);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(ok[i], "caller %d: 200 split loops at once with 3 others", i);
    }
}

static void test_fork(void)
{
    size_t n = 70001, want = serial_sum(0, n);
    CHECK(split_sum(n, 8, 4, 0, NULL) == want, "before fork");
    pid_t pid = fork();
    if (pid == 0) {
        /* the child: no workers of the parent's; exit status says */
        int good = split_sum(n, 8, 4, 0, NULL) == want && split_sum(n, 5, 3, 0, NULL) == want;
        _exit(good ? 0 : 3);
    }
    CHECK(pid > 0, "fork");
    int status = -1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's split loops (status %d)",
          status);
    CHECK(split_sum(n, 8, 4, 0, NULL) == want, "after fork, in the parent");
}

/* berg__parallel_blocks: every range runs once, with the bounds
 * berg__parallel_ranges gives it, and each thread's ranges are one
 * contiguous block, the caller's the first */
typedef struct block_job {
    size_t begin[64], end[64];
    int runs[64];
    pthread_t who[64];
} block_job;

static void block_range(void *ctx, size_t begin, size_t end, size_t range)
{
    block_job *j = ctx;
    j->begin[range] = begin;
    j->end[range] = end;
    j->runs[range]++;
    j->who[range] = pthread_self();
}

static void test_blocks(void)
{
    size_t n = 100003, want = serial_sum(0, n);
    for (size_t t = 1; t <= 9; t++)
        for (size_t r = 1; r <= 17; r += 4) {
            block_job j;
            memset(&j, 0, sizeof j);
            berg__parallel_blocks(n, r, t, block_range, &j);
            sum_job ref;
            memset(&ref, 0, sizeof ref);
            berg__parallel_ranges(n, r, t, sum_range, &ref);
            size_t total = 0, changes = 0;
            int once = 1;
            for (size_t q = 0; q < r; q++) {
                once &= j.runs[q] == 1;
                total += serial_sum(j.begin[q], j.end[q]);
                once &= serial_sum(j.begin[q], j.end[q]) == ref.part[q];
                changes += q > 0 && !pthread_equal(j.who[q], j.who[q - 1]);
            }
            CHECK(once && total == want, "blocks: %zu ranges on %zu threads", r, t);
            CHECK(pthread_equal(j.who[0], pthread_self()), "blocks: range 0 not on the caller");
            /* one run of ranges per thread at most */
            CHECK(changes + 1 <= (t < r ? t : r), "blocks: %zu ranges on %zu threads in %zu runs",
                  r, t, changes + 1);
        }
}

int main(void)
{
    test_counts();
    test_blocks();
    test_nested();
    test_callers();
#if !defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer cannot run threads in the child of a multi-threaded
     * fork ("not supported"); the release and ASan runs check it */
    test_fork();
#endif
    return test_summary("pool");
}
