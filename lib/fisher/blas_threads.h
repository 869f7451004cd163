/*
 * lib/fisher/blas_threads.h - OpenBLAS held at one thread while libberg's
 * own threads call it (blas_threads.c). Not installed.
 *
 * OpenBLAS's thread count is one process-wide setting
 * (openblas_set_num_threads; OpenBLAS 0.3.21 has no per-thread one). When
 * libberg splits a BLAS-heavy loop across its own threads, each of them
 * calling dsyrk / dgemv on its part, OpenBLAS must not start threads of its
 * own inside those calls (2 x 2 threads on 2 cores, and concurrent
 * threaded level-3 calls queue on OpenBLAS's server). berg__blas_hold sets
 * OpenBLAS to one thread for the duration; holds nest and overlap across
 * concurrent libberg calls (a count under a mutex): the first hold saves
 * the setting, the last release restores it unless someone else changed it
 * meanwhile. While a hold lasts, every OpenBLAS call in the process
 * (the caller's too) runs on one thread.
 */
#ifndef BERG_FISHER_BLAS_THREADS_H
#define BERG_FISHER_BLAS_THREADS_H

/* 1: libberg's threads may call OpenBLAS until berg__blas_release (a
 * sequential OpenBLAS, or the pthreads one now held at one thread);
 * 0: an OpenMP OpenBLAS, whose thread count is per calling thread - do not
 * split the loop (OpenBLAS threads each call itself); no release needed. */
int berg__blas_hold(void);
void berg__blas_release(void);

#endif
