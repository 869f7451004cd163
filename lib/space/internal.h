/*
 * lib/space/internal.h - the layout of berg_space, for libberg's modules.
 * Not installed: the public header keeps berg_space opaque.
 */
#ifndef BERG_SPACE_INTERNAL_H
#define BERG_SPACE_INTERNAL_H

#include "berg/space.h"
#include "core/internal.h"

#define BERG_MAX_RANK 8

struct berg_space {
    int ndim;
    size_t size;                        /* prod n */
    size_t n[BERG_MAX_RANK];
    size_t stride[BERG_MAX_RANK];       /* C order: stride[d-1] = 1 */
    double lo[BERG_MAX_RANK], hi[BERG_MAX_RANK], h[BERG_MAX_RANK];
    berg_boundary bc[BERG_MAX_RANK];
    double g[BERG_MAX_RANK * BERG_MAX_RANK];     /* metric, row-major */
    double ginv[BERG_MAX_RANK * BERG_MAX_RANK];  /* inverse metric */
    double sqrt_det_g;
    double weight;                      /* sqrt(det g) prod h */
    int diagonal;                       /* g is diagonal */
};

/* BERG_OK when both spaces describe the same grid; otherwise records
 * BERG_ERR_MISMATCH naming fn and the two arguments. */
berg_status berg__space_match(const berg_space *a, const berg_space *b, const char *fn,
                              const char *name_a, const char *name_b);

/* BERG_ERR_NULL with a message unless space is non-NULL. */
berg_status berg__space_check(const berg_space *space, const char *fn);

/* BERG_ERR_SIZE (naming fn and what) unless an array of count elements of
 * size bytes can exist (count * size <= PTRDIFF_MAX): checked before any
 * element of a caller's array is read. */
static inline berg_status berg__check_addressable(size_t count, size_t size, const char *fn,
                                                  const char *what)
{
    BERG_REQUIRE(size == 0 || count <= (size_t)PTRDIFF_MAX / size, BERG_ERR_SIZE,
                 "%s: %s: %zu elements of %zu bytes exceed the address space", fn, what, count,
                 size);
    return BERG_OK;
}

/* coordinate of cell i on axis a */
static inline double berg__coord(const berg_space *s, int a, size_t i)
{
    return s->lo[a] + ((double)i + 0.5) * s->h[a];
}

#endif
