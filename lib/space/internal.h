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

/* ---- positions on a periodic axis of width L = hi - lo --------------------
 * L is finite and positive for every space (its cell width is). A position
 * is reduced through the exact remainders fmod(v, L) of each term: forming
 * x - lo (or y - g - lo) first overflows when the terms are huge and of
 * opposite signs, or loses the fraction when they are far from the box
 * (2^50 + 0.375 is not a double); every intermediate here lies in [-L, L]
 * and the result carries one rounding of L's size per term. */

/* v mod L in [0, L] for a finite v (L only when a tiny negative remainder
 * plus L rounds up to it) */
static inline double berg__mod_period(double v, double L)
{
    double r = fmod(v, L); /* exact, |r| < L */
    return r < 0.0 ? r + L : r;
}

/* (p - q) mod L in [0, L] for p, q in [0, L] */
static inline double berg__mod_sub(double p, double q, double L)
{
    double d = p - q; /* in [-L, L]: no overflow */
    return d < 0.0 ? d + L : d;
}

/* (x - lo) mod L in [0, L] (x finite): the offset of x from the lower end
 * of a periodic axis; L (rounding) stands for the wrap, offset 0 */
static inline double berg__periodic_offset(double x, double lo, double L)
{
    return berg__mod_sub(berg__mod_period(x, L), berg__mod_period(lo, L), L);
}

#endif
