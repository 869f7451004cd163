/*
 * lib/propagator/wavenumber.h - the wave number of a spectral index, shared
 * by libberg's transform (transform.c) and libberg_mpi's distributed one
 * (lib/mpi/xform.c), so that both tabulate the same symbols bit for bit.
 * Header-only: libberg_mpi sees none of libberg's hidden symbols.
 */
#ifndef BERG_PROPAGATOR_WAVENUMBER_H
#define BERG_PROPAGATOR_WAVENUMBER_H

#include <math.h>
#include <stddef.h>

#include "berg/space.h"

/* k of spectral index i on an axis of n cells and width L with boundary bc:
 * periodic 2 pi m / L (m signed, or |m| for a half-complex axis), Neumann
 * pi i / L (DCT-II), Dirichlet pi (i + 1) / L (DST-II); *nyquist = 1 at the
 * Nyquist index of an even periodic axis, else 0 */
static inline double berg__wavenumber(berg_boundary bc, int halfcomplex, size_t n, double L,
                                      size_t i, int *nyquist)
{
    *nyquist = 0;
    if (bc == BERG_PERIODIC) {
        double mm = (i <= n / 2) ? (double)i
                                 : (halfcomplex ? (double)(n - i) : (double)i - (double)n);
        *nyquist = n % 2 == 0 && i == n / 2;
        return 2.0 * M_PI * mm / L;
    }
    if (bc == BERG_NEUMANN)
        return M_PI * (double)i / L;
    return M_PI * (double)(i + 1) / L;
}

#endif
