/* libberg demo: a sample space, a density, its moments, and a clear error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <berg.h>

int main(void)
{
    printf("libberg %s\n", berg_version_string());
    size_t n[2] = {128, 96};
    double lo[2] = {-6, -4}, hi[2] = {6, 4};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    double g[4] = {2.0, 0.0, 0.0, 1.0};
    berg_space *S = NULL;
    if (berg_space_create(&S, 2, n, lo, hi, bc, g) != BERG_OK) {
        fprintf(stderr, "%s\n", berg_last_error());
        return 1;
    }
    size_t N = berg_space_size(S);
    double *p = malloc(N * sizeof *p), x[128], y[96], mass, m[2], c[4];
    berg_space_coordinates(S, 0, x);
    berg_space_coordinates(S, 1, y);
    for (size_t i = 0; i < 128; i++)
        for (size_t j = 0; j < 96; j++)
            p[i * 96 + j] = exp(-0.5 * ((x[i] - 1) * (x[i] - 1) / 0.8 + y[j] * y[j] / 0.5));
    berg_space_normalize(S, p, &mass);
    berg_space_moments(S, p, m, c);
    printf("density on a 128 x 96 grid: mass before normalizing %.6f\n", mass);
    printf("mean (%.6f, %.6f), covariance [[%.6f, %.6f], [%.6f, %.6f]]\n", m[0], m[1], c[0], c[1],
           c[2], c[3]);
    p[7] = -1.0;
    berg_status st = berg_space_normalize(S, p, &mass);
    printf("a bad input is refused: %s: %s\n", berg_status_string(st), berg_last_error());
    free(p);
    berg_space_destroy(S);
    return 0;
}
