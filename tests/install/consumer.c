/* An outside program: built by scripts/check-install with
 *   cc consumer.c $(pkg-config --cflags --libs berg)
 * against the installed library (and, as a meson subproject, with
 * dependency('berg')). Creates a space, integrates, normalizes, and reads
 * clear errors for bad input. Exit status 0 when everything is as expected. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <berg.h>

int main(void)
{
    int failed = 0;
    if (berg_version_number() != BERG_VERSION_NUMBER) {
        printf("header %d and library %d versions differ\n", BERG_VERSION_NUMBER,
               berg_version_number());
        failed++;
    }
    size_t n[2] = {64, 48};
    double lo[2] = {-6, -5}, hi[2] = {6, 5};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = NULL;
    if (berg_space_create(&s, 2, n, lo, hi, bc, NULL) != BERG_OK) {
        printf("create failed: %s\n", berg_last_error());
        return 1;
    }
    double p[64 * 48], x[64], y[48], mass = 0.0;
    berg_space_coordinates(s, 0, x);
    berg_space_coordinates(s, 1, y);
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 48; j++)
            p[i * 48 + j] = exp(-0.5 * (x[i] * x[i] + y[j] * y[j]));
    berg_space_normalize(s, p, &mass);
    /* the mass of exp(-|x|^2/2) is 2 pi (tails beyond 5 sigma are < 1e-6) */
    if (fabs(mass - 2.0 * M_PI) > 1e-5) {
        printf("mass %.12g, want 2 pi\n", mass);
        failed++;
    }
    p[100] = -1.0;
    berg_status st = berg_space_normalize(s, p, &mass);
    printf("bad input -> status %d (%s): %s\n", (int)st, berg_status_string(st), berg_last_error());
    if (st != BERG_ERR_NEGATIVE || strstr(berg_last_error(), "index 100") == NULL)
        failed++;
    berg_space *t = NULL;
    st = berg_space_create(&t, 2, n, hi, lo, bc, NULL);
    printf("bad input -> status %d (%s): %s\n", (int)st, berg_status_string(st), berg_last_error());
    if (st != BERG_ERR_DOMAIN || t != NULL)
        failed++;
    berg_space_destroy(s);
    printf("consumer: %d passed, %d failed\n", 4 - failed, failed);
    return failed ? 1 : 0;
}
