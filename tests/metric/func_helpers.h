/* tests/metric/func_helpers.h - test data of the functional and W2 tests:
 * smooth positive densities and random tangent vectors on a grid. */
#ifndef BERG_TEST_FUNC_HELPERS_H
#define BERG_TEST_FUNC_HELPERS_H

#include <stdlib.h>

#include "testutil.h"

/* n zeroed doubles */
static inline double *vec(size_t n)
{
    double *v = calloc(n, sizeof(double));
    if (v == NULL)
        abort();
    return v;
}

/* a positive, smooth density: exp of a few random Fourier modes (the
 * first two coordinates), normalized */
static inline void smooth_random(const berg_space *s, double *p, unsigned long long seed,
                                 double amp)
{
    double c[6];
    for (int i = 0; i < 6; i++)
        c[i] = amp * (2.0 * tu_uniform(&seed) - 1.0);
    for (size_t k = 0; k < berg_space_size(s); k++) {
        double x[8] = {0};
        tu_grid_point(s, k, x);
        p[k] = exp(c[0] * sin(x[0] + c[5]) + c[1] * cos(2.0 * x[0]) + c[2] * sin(x[1] + 0.3) +
                   c[3] * cos(x[0] + x[1]) + c[4] * x[0] * 0.1);
    }
    berg_space_normalize(s, p, NULL);
}

/* uniform random values on [-1, 1] projected to zero integral */
static inline void random_tangent(const berg_space *s, double *eta, unsigned long long seed)
{
    for (size_t k = 0; k < berg_space_size(s); k++)
        eta[k] = 2.0 * tu_uniform(&seed) - 1.0;
    berg_space_project_tangent(s, eta, eta);
}

#endif
