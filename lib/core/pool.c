/* Scratch pools: the mutable workspace of handles whose apply functions
 * take a const handle and may run on many threads at once. A pool hands out
 * equal blocks; a block goes back to the pool after the call, so serial use
 * reuses one block (allocated at creation) and n concurrent callers hold n
 * blocks. The lock is held only to pop or push a pointer. A new block is
 * zero-filled, so a handle may keep tables in its blocks behind a header
 * that reads "empty" until the handle writes it. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

berg_status berg__pool_init(berg__pool *pool, size_t count, size_t size, const char *fn)
{
    memset(pool, 0, sizeof *pool);
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        return berg__error(BERG_ERR_INTERNAL, "%s: could not create a mutex", fn);
    pool->live = 1;
    if (count == 0 || size == 0)
        return BERG_OK; /* an empty pool hands out NULL without failing */
    BERG_TRY(berg__mul_size(count, size, &pool->bytes, fn, "scratch"));
    void *first = berg__alloc(pool->bytes, 1, fn);
    if (first == NULL) {
        berg__pool_free(pool);
        return berg_last_status();
    }
    memset(first, 0, pool->bytes);
    pool->free[pool->nfree++] = first;
    return BERG_OK;
}

void *berg__pool_get(berg__pool *pool, const char *fn)
{
    if (pool->bytes == 0)
        return NULL;
    void *block = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->nfree > 0)
        block = pool->free[--pool->nfree];
    pthread_mutex_unlock(&pool->lock);
    if (block == NULL) { /* more concurrent callers than blocks so far */
        block = berg__alloc(pool->bytes, 1, fn); /* NULL with BERG_ERR_NOMEM recorded */
        if (block != NULL)
            memset(block, 0, pool->bytes);
    }
    return block;
}

void berg__pool_put(berg__pool *pool, void *block)
{
    if (block == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    if (pool->nfree < BERG__POOL_KEEP) {
        pool->free[pool->nfree++] = block;
        block = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    berg__free(block); /* more concurrent callers than the pool keeps */
}

void berg__pool_free(berg__pool *pool)
{
    if (!pool->live)
        return;
    for (size_t i = 0; i < pool->nfree; i++)
        berg__free(pool->free[i]);
    pthread_mutex_destroy(&pool->lock);
    memset(pool, 0, sizeof *pool);
}

uint64_t berg__handle_id(void)
{
    static atomic_uint_fast64_t next = 1;
    return (uint64_t)atomic_fetch_add(&next, 1);
}
