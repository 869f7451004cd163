/*
 * tests/propagator/fp_helpers.h - grid measures shared by the Fokker-Planck
 * tests (finite volume and Fourier): L1 distance, mass, minimum and
 * KL(p || q) with the space's cell weight.
 */
#ifndef BERG_TEST_FP_HELPERS_H
#define BERG_TEST_FP_HELPERS_H

#include <math.h>

#include "berg.h"

static double l1_dist(const berg_space *s, const double *a, const double *b)
{
    size_t n = berg_space_size(s);
    double w, sum = 0.0;
    berg_space_cell_weight(s, &w);
    for (size_t i = 0; i < n; i++)
        sum += fabs(a[i] - b[i]);
    return sum * w;
}

static double mass(const berg_space *s, const double *p)
{
    double m;
    berg_space_integrate(s, p, &m);
    return m;
}

static double min_of(const double *a, size_t n)
{
    double m = a[0];
    for (size_t i = 1; i < n; i++)
        m = a[i] < m ? a[i] : m;
    return m;
}

/* KL(p || q) with p normalized by its own mass */
static double kl(const berg_space *s, const double *p, const double *q)
{
    size_t n = berg_space_size(s);
    double w, m = mass(s, p), sum = 0.0;
    berg_space_cell_weight(s, &w);
    for (size_t i = 0; i < n; i++)
        if (p[i] > 0)
            sum += p[i] / m * log((p[i] / m) / q[i]);
    return sum * w;
}

#endif
