/* berg-wisdom: plan libberg's transforms for the grids named on the command
 * line with FFTW_MEASURE and write the accumulated FFTW wisdom to a file or
 * to the location libberg reads at its first planning (as FFTW's fftw-wisdom
 * does for /etc/fftw/wisdom). After that, creating a heat propagator or a
 * Fourier multiplier on those grids with the default (MEASURE) planning
 * finds every plan in the wisdom and measures nothing.
 *
 *   berg-wisdom [-o FILE] [-t THREADS] [-b BATCH] [-q] GRID...
 *   GRID = N[xN...][:BCS]   BCS: one letter per axis, p periodic (default),
 *                           n Neumann, d Dirichlet;  e.g. 1024 256x256:nn
 *
 * Without -o the wisdom goes to $BERG_WISDOM when it is set and not empty,
 * else to the system location compiled into libberg (<sysconfdir>/berg/wisdom).
 * The wisdom already there is read first (libberg imports it), so runs add up.
 * Exit status: 0 when every grid was planned and the wisdom written; 1 on a
 * planning or I/O error; 2 on a usage error. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berg.h>

#include "core/berg_paths.h" /* BERG_SYSTEM_WISDOM, as libberg reads it */

#ifndef BERG_SYSTEM_WISDOM
#error "BERG_SYSTEM_WISDOM (the system wisdom file) must be defined by the build"
#endif

static const char usage[] =
    "usage: berg-wisdom [-o FILE] [-t THREADS] [-b BATCH] [-q] GRID...\n"
    "  GRID     N[xN...][:BCS], BCS one letter per axis: p periodic (default),\n"
    "           n Neumann, d Dirichlet (e.g. 1024  256x256  128x64:nd)\n"
    "  -o FILE  write the wisdom to FILE ('-' = standard output); default:\n"
    "           $BERG_WISDOM if set, else " BERG_SYSTEM_WISDOM "\n"
    "  -t N     FFTW threads per transform (default 1), as berg_heat_create_ex\n"
    "  -b N     arrays per call (default 1), as berg_heat_create_ex\n"
    "  -q       quiet: no line per planned grid\n";

/* a positive size_t from text; 0 on failure */
static size_t parse_count(const char *s)
{
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > (unsigned long long)SIZE_MAX)
        return 0;
    return (size_t)v;
}

/* "256x128:pn" -> rank, sizes, boundaries; 0 on success */
static int parse_grid(const char *spec, size_t maxrank, size_t *rank, size_t *n,
                      berg_boundary *bc)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return -1;
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    if (colon != NULL)
        *colon = '\0';
    size_t d = 0;
    for (char *tok = strtok(buf, "x"); tok != NULL; tok = strtok(NULL, "x")) {
        if (d == maxrank)
            return -1;
        n[d] = parse_count(tok);
        if (n[d] == 0)
            return -1;
        bc[d] = BERG_PERIODIC;
        d++;
    }
    if (d == 0)
        return -1;
    if (colon != NULL) {
        const char *b = colon + 1;
        if (strlen(b) != d)
            return -1;
        for (size_t a = 0; a < d; a++) {
            switch (b[a]) {
            case 'p': bc[a] = BERG_PERIODIC; break;
            case 'n': bc[a] = BERG_NEUMANN; break;
            case 'd': bc[a] = BERG_DIRICHLET; break;
            default: return -1;
            }
        }
    }
    *rank = d;
    return 0;
}

static int zero_symbol(size_t ndim, const double *k, double *c, void *user_data)
{
    (void)ndim;
    (void)k;
    (void)user_data;
    *c = 0.0;
    return 0;
}

/* plan the heat propagator and the Fourier multiplier of one grid */
static int plan_grid(const char *spec, size_t batch, size_t nthreads, int quiet)
{
    size_t maxrank = berg_space_max_rank();
    size_t rank = 0, n[64];
    berg_boundary bc[64];
    double lo[64], hi[64];
    if (maxrank > 64)
        maxrank = 64;
    if (parse_grid(spec, maxrank, &rank, n, bc) != 0) {
        fprintf(stderr, "berg-wisdom: bad grid \"%s\" (want N[xN...][:BCS], BCS in p n d, "
                        "at most %zu axes)\n%s", spec, maxrank, usage);
        return 2;
    }
    for (size_t a = 0; a < rank; a++) {
        lo[a] = 0.0; /* plans depend on the sizes and boundaries only */
        hi[a] = 1.0;
    }
    berg_space *space = NULL;
    berg_heat *heat = NULL;
    berg_multiplier *mult = NULL;
    int rc = 1;
    if (berg_space_create(&space, rank, n, lo, hi, bc, NULL) != BERG_OK)
        goto fail;
    if (berg_heat_create_ex(&heat, space, batch, nthreads, 0) != BERG_OK)
        goto fail;
    if (batch == 1 && nthreads == 1 &&
        berg_multiplier_create(&mult, space, 0, zero_symbol, NULL) != BERG_OK)
        goto fail;
    if (!quiet)
        fprintf(stderr, "berg-wisdom: planned %s (batch %zu, %zu thread%s)\n", spec, batch,
                nthreads, nthreads == 1 ? "" : "s");
    rc = 0;
fail:
    if (rc != 0)
        fprintf(stderr, "berg-wisdom: %s: %s\n", spec, berg_last_error());
    berg_multiplier_destroy(mult);
    berg_heat_destroy(heat);
    berg_space_destroy(space);
    return rc;
}

static int write_wisdom(const char *path)
{
    if (strcmp(path, "-") == 0) {
        char *w = NULL;
        if (berg_wisdom_export_string(&w) != BERG_OK) {
            fprintf(stderr, "berg-wisdom: %s\n", berg_last_error());
            return 1;
        }
        int bad = fputs(w, stdout) == EOF || fflush(stdout) != 0;
        berg_free(w);
        return bad ? 1 : 0;
    }
    if (berg_wisdom_export_file(path) != BERG_OK) {
        fprintf(stderr, "berg-wisdom: %s\n", berg_last_error());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    size_t nthreads = 1, batch = 1;
    int quiet = 0, first_grid = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0) {
            quiet = 1;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "-t") == 0 || strcmp(a, "-b") == 0)) {
            if (i + 1 == argc) {
                fprintf(stderr, "berg-wisdom: %s needs a value\n%s", a, usage);
                return 2;
            }
            const char *v = argv[++i];
            if (a[1] == 'o') {
                out = v;
            } else {
                size_t c = parse_count(v);
                if (c == 0) {
                    fprintf(stderr, "berg-wisdom: %s %s: want a positive integer\n", a, v);
                    return 2;
                }
                if (a[1] == 't')
                    nthreads = c;
                else
                    batch = c;
            }
        } else if (a[0] == '-' && strcmp(a, "-") != 0) {
            fprintf(stderr, "berg-wisdom: unknown option %s\n%s", a, usage);
            return 2;
        } else {
            first_grid = i;
            break;
        }
    }
    if (first_grid == argc) {
        fprintf(stderr, "berg-wisdom: name at least one grid\n%s", usage);
        return 2;
    }
    if (out == NULL) {
        const char *env = getenv("BERG_WISDOM");
        out = (env != NULL && env[0] != '\0') ? env : BERG_SYSTEM_WISDOM;
    }
    for (int i = first_grid; i < argc; i++) {
        int rc = plan_grid(argv[i], batch, nthreads, quiet);
        if (rc != 0)
            return rc;
    }
    int rc = write_wisdom(out);
    if (rc == 0 && !quiet && strcmp(out, "-") != 0)
        fprintf(stderr, "berg-wisdom: wrote %s\n", out);
    return rc;
}
