/*
 * lib/space/iter.h - walking the grid of a berg_space: the C-order
 * multi-index increment and the neighbour of a cell along one axis under
 * the axis's boundary kind. Not installed.
 */
#ifndef BERG_SPACE_ITER_H
#define BERG_SPACE_ITER_H

#include "space/internal.h"

/* Advance the C-order multi-index idx over the box n[0..d-1] (last axis
 * fastest). Returns 1 when idx moved to the next cell, 0 when it wrapped
 * around to all zeros (the walk is over). d == 0 returns 0. */
static inline int berg__index_next(size_t d, const size_t *n, size_t *idx)
{
    for (size_t a = d; a-- > 0;) {
        if (++idx[a] < n[a])
            return 1;
        idx[a] = 0;
    }
    return 0;
}

/* The flat index *nb of the neighbour of cell `flat` (multi-index idx) one
 * cell along axis a, forward (dir > 0) or backward (dir < 0). Periodic axes
 * wrap. Returns 0 (and leaves *nb) when the step crosses a Neumann or
 * Dirichlet wall: the face between the cell and the wall is a boundary
 * face. */
static inline int berg__neighbour(const berg_space *s, const size_t *idx, size_t flat, size_t a,
                                  int dir, size_t *nb)
{
    const size_t n = s->n[a], st = s->stride[a];
    if (dir > 0) {
        if (idx[a] + 1 < n)
            *nb = flat + st;
        else if (s->bc[a] == BERG_PERIODIC)
            *nb = flat - (n - 1) * st;
        else
            return 0;
        return 1;
    }
    if (idx[a] > 0)
        *nb = flat - st;
    else if (s->bc[a] == BERG_PERIODIC)
        *nb = flat + (n - 1) * st;
    else
        return 0;
    return 1;
}

#endif
