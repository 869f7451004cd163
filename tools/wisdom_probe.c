/* For tools/test_berg_wisdom.py: writes FFTW's wisdom as libberg sees it at
 * its first wisdom call (after the system-wisdom import) to argv[1], then
 * creates the default (FFTW_MEASURE) heat propagator and Fourier multiplier
 * on the grids the test planned with berg-wisdom (48x40 Neumann x periodic,
 * and 64 periodic) and writes the wisdom again to argv[2].
 * Exit status 0 when every call succeeded. */
#include <stdio.h>

#include <berg.h>

static int zero_symbol(size_t ndim, const double *k, double *c, void *user_data)
{
    (void)ndim;
    (void)k;
    (void)user_data;
    *c = 0.0;
    return 0;
}

static int plan(size_t rank, const size_t *n, const berg_boundary *bc)
{
    double lo[2] = {0.0, 0.0}, hi[2] = {1.0, 1.0};
    berg_space *s = NULL;
    berg_heat *h = NULL;
    berg_multiplier *m = NULL;
    int ok = berg_space_create(&s, rank, n, lo, hi, bc, NULL) == BERG_OK &&
             berg_heat_create(&h, s, 0) == BERG_OK &&
             berg_multiplier_create(&m, s, 0, zero_symbol, NULL) == BERG_OK;
    if (!ok)
        fprintf(stderr, "wisdom_probe: %s\n", berg_last_error());
    berg_multiplier_destroy(m);
    berg_heat_destroy(h);
    berg_space_destroy(s);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: wisdom_probe BEFORE AFTER\n");
        return 2;
    }
    if (berg_wisdom_export_file(argv[1]) != BERG_OK) {
        fprintf(stderr, "wisdom_probe: %s\n", berg_last_error());
        return 1;
    }
    size_t n2[2] = {48, 40}, n1[1] = {64};
    berg_boundary bc2[2] = {BERG_NEUMANN, BERG_PERIODIC}, bc1[1] = {BERG_PERIODIC};
    if (!plan(2, n2, bc2) || !plan(1, n1, bc1))
        return 1;
    if (berg_wisdom_export_file(argv[2]) != BERG_OK) {
        fprintf(stderr, "wisdom_probe: %s\n", berg_last_error());
        return 1;
    }
    return 0;
}
