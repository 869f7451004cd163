/*
 * bench/erg/bench_erg.c - one step in ln Lambda of the ensemble flow
 * (berg_scheme_flow) against the same number of plain FFT heat steps
 * (berg_heat_apply on each member: one forward and one inverse transform
 * plus a pointwise product), on a 256^2 periodic lattice with 1024 members
 * (the target: ratio <= 1.3), single-threaded, interleaved samples.
 *
 * Usage: bench_erg [members [side]]  (defaults 1024 and 256)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berg.h"
#include "bench.h"

typedef struct {
    const berg_scheme *scheme;
    const berg_heat *heat;
    size_t count, n;
    double *phi;
    unsigned long long counter;
} ctx;

static void run_flow(void *p)
{
    ctx *c = p;
    if (berg_scheme_flow(c->scheme, 2.0, 1.9, 1, c->count, 7, c->counter++, NULL, c->phi, NULL,
                         NULL) != BERG_OK) {
        fprintf(stderr, "flow: %s\n", berg_last_error());
        exit(1);
    }
}

static void run_heat(void *p)
{
    ctx *c = p;
    for (size_t m = 0; m < c->count; m++)
        if (berg_heat_apply(c->heat, 1e-4, c->phi + m * c->n, c->phi + m * c->n) != BERG_OK) {
            fprintf(stderr, "heat: %s\n", berg_last_error());
            exit(1);
        }
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? (size_t)atol(argv[1]) : 1024, side = argc > 2 ? (size_t)atol(argv[2]) : 256;
    size_t n[2] = {side, side};
    double lo[2] = {0, 0}, hi[2] = {(double)side, (double)side};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *space = NULL;
    berg_scheme *scheme = NULL;
    berg_heat *heat = NULL;
    if (berg_space_create(&space, 2, n, lo, hi, bc, NULL) != BERG_OK ||
        berg_scheme_create_regulator(&scheme, space, BERG_REGULATOR_EXPONENTIAL, 0.25, 0) !=
            BERG_OK ||
        /* the peer is the FFT heat step: BERG_HEAT_SPECTRAL keeps the short-time
         * direct path (faster than an FFT at small t) out of the baseline */
        berg_heat_create(&heat, space, BERG_HEAT_SPECTRAL) != BERG_OK) {
        fprintf(stderr, "setup: %s\n", berg_last_error());
        return 1;
    }
    size_t N = side * side, total = count * N;
    double *a = NULL, *b = NULL;
    if (berg_alloc((void **)&a, total, sizeof(double)) != BERG_OK ||
        berg_alloc((void **)&b, total, sizeof(double)) != BERG_OK) {
        fprintf(stderr, "alloc: %s\n", berg_last_error());
        return 1;
    }
    for (size_t i = 0; i < total; i++)
        a[i] = b[i] = (double)((i * 2654435761u) % 1000) * 1e-3 - 0.5;
    ctx cf = {scheme, NULL, count, N, a, 0}, ch = {NULL, heat, count, N, b, 0};
    char name[96];
    snprintf(name, sizeof name, "erg flow step %zu^2 x %zu", side, count);
    printf("threads %zu\n", berg_threads());
    bench_pair(name, run_flow, &cf, "heat steps", run_heat, &ch, 7);
    berg_free(a);
    berg_free(b);
    berg_heat_destroy(heat);
    berg_scheme_destroy(scheme);
    berg_space_destroy(space);
    return 0;
}
