/* Aligned memory, for callers and for libberg itself. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define ALIGNMENT 64 /* a cache line; enough for AVX-512 */

size_t berg_alignment(void) { return ALIGNMENT; }

void *berg__alloc(size_t count, size_t size, const char *fn)
{
    size_t bytes;
    if (berg__mul_size(count, size, &bytes, fn, "allocation size") != BERG_OK)
        return NULL;
    if (bytes == 0)
        bytes = 1;
    void *p = NULL;
    if (posix_memalign(&p, ALIGNMENT, bytes) != 0) {
        berg__error(BERG_ERR_NOMEM, "%s: could not allocate %zu bytes", fn, bytes);
        return NULL;
    }
    return p;
}

void berg__free(void *p) { free(p); }

berg_status berg_alloc(void **out, size_t count, size_t size)
{
    if (out == NULL)
        return berg__error(BERG_ERR_NULL, "berg_alloc: out is NULL");
    *out = NULL;
    if (count == 0 || size == 0)
        return berg__error(BERG_ERR_SIZE, "berg_alloc: count (%zu) and size (%zu) must be positive",
                           count, size);
    void *p = berg__alloc(count, size, "berg_alloc");
    if (p == NULL)
        return berg_last_status();
    memset(p, 0, count * size);
    *out = p;
    return BERG_OK;
}

void berg_free(void *ptr) { free(ptr); }
