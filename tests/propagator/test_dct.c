/* The DCT-II / DST-II of spaces without periodic axes (lib/propagator/
 * dct.c, one r2c of the permuted array) against FFTW's own REDFT10 /
 * RODFT10 and REDFT01 / RODFT01 r2r transforms of the same data: random
 * ranks 1-4, sizes 1-13 and a few large ones (odd, even, prime), Neumann
 * and Dirichlet axes in every mix, batches, the serial and the const
 * (scratch) execution, in place. Agreement to 4e-15 of the largest value
 * times log2 of the size, the accuracy of an FFT. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "testutil.h"
#include "propagator/transform.h"

static unsigned long long seed = 777;

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* FFTW's r2r of batch arrays of space s, forward (REDFT10/RODFT10) or
 * inverse (REDFT01/RODFT01), out of place */
static void fftw_reference(const berg_space *s, size_t batch, int inverse, double *in,
                           double *out)
{
    int d = s->ndim;
    fftw_iodim64 dims[BERG_MAX_RANK], loop;
    fftw_r2r_kind kind[BERG_MAX_RANK];
    for (int a = 0; a < d; a++) {
        dims[a].n = (ptrdiff_t)s->n[a];
        dims[a].is = dims[a].os = (ptrdiff_t)s->stride[a];
        if (s->bc[a] == BERG_NEUMANN)
            kind[a] = inverse ? FFTW_REDFT01 : FFTW_REDFT10;
        else
            kind[a] = inverse ? FFTW_RODFT01 : FFTW_RODFT10;
    }
    loop.n = (ptrdiff_t)batch;
    loop.is = loop.os = (ptrdiff_t)s->size;
    fftw_plan p = fftw_plan_guru64_r2r(d, dims, 1, &loop, in, out, kind,
                                       FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
    CHECK(p != NULL, "FFTW reference plan");
    if (p == NULL)
        return;
    fftw_execute(p);
    fftw_destroy_plan(p);
}

static void one_space(const size_t *n, const berg_boundary *bc, int d, size_t batch)
{
    char what[96];
    int len = snprintf(what, sizeof what, "rank %d batch %zu n=(", d, batch);
    for (int a = 0; a < d; a++)
        len += snprintf(what + len, sizeof what - (size_t)len, "%zu%c%s", n[a],
                        bc[a] == BERG_NEUMANN ? 'N' : 'D', a + 1 < d ? "," : ")");
    double lo[BERG_MAX_RANK], hi[BERG_MAX_RANK];
    for (int a = 0; a < d; a++) {
        lo[a] = -1.0;
        hi[a] = 2.0 + a;
    }
    berg_space *sp = NULL;
    CHECK_STATUS(berg_space_create(&sp, (size_t)d, n, lo, hi, bc, NULL), BERG_OK, "%s: space", what);
    if (!sp)
        return;
    berg__xform x;
    CHECK_STATUS(berg__xform_init(&x, sp, batch, 1, BERG__XF_ESTIMATE, "test"), BERG_OK,
                 "%s: init", what);
    CHECK(x.makhoul && !x.is_complex && x.nspec == x.nreal, "%s: the makhoul layout", what);
    size_t N = batch * x.nreal, total = 1;
    for (int a = 0; a < d; a++)
        total *= n[a];
    double tol = 4e-15 * (2.0 + log2((double)total));
    double *in = fftw_alloc_real(N), *keep = fftw_alloc_real(N), *ref = fftw_alloc_real(N);
    double *got = fftw_alloc_real(N);
    for (size_t i = 0; i < N; i++)
        in[i] = keep[i] = 2.0 * tu_uniform(&seed) - 1.0;

    /* forward, serial execution */
    fftw_reference(sp, batch, 0, in, ref);
    berg__xform_forward(&x, in);
    double m = max_abs(ref, N);
    double e = max_diff(x.spec, ref, N) / m;
    CHECK(e <= tol, "%s: forward vs FFTW REDFT10/RODFT10: %.3g (tol %.3g)", what, e, tol);
    CHECK(max_diff(in, keep, N) == 0.0, "%s: forward kept its input", what);

    /* inverse of a random spectrum, serial; src is the transform's spec */
    for (size_t i = 0; i < N; i++)
        x.spec[i] = keep[i];
    fftw_reference(sp, batch, 1, keep, ref);
    berg__xform_inverse(&x, x.spec, got);
    e = max_diff(got, ref, N) / max_abs(ref, N);
    CHECK(e <= tol, "%s: inverse vs FFTW REDFT01/RODFT01: %.3g (tol %.3g)", what, e, tol);

    /* const execution through carved scratch, in place: the round trip is
     * prod 2 n_a times the identity */
    size_t words = berg__xform_scratch_doubles(&x, 1);
    double *block = fftw_alloc_real(words + 8);
    berg__xscratch s;
    double *end = berg__xform_scratch_carve(&x, block, 1, &s);
    CHECK((size_t)(end - block) == words, "%s: scratch carve uses what it asks for", what);
    CHECK(s.cbuf != NULL && s.rbuf != NULL, "%s: scratch has the permuted and complex parts", what);
    memcpy(got, keep, N * sizeof(double));
    berg__xform_forward_s(&x, &s, got, s.spec);
    berg__xform_inverse_s(&x, &s, s.spec, got);
    double scale = 1.0;
    for (int a = 0; a < d; a++)
        scale *= 2.0 * (double)n[a];
    for (size_t i = 0; i < N; i++)
        got[i] /= scale;
    e = max_diff(got, keep, N) / max_abs(keep, N);
    CHECK(e <= tol, "%s: round trip in place: %.3g", what, e);

    fftw_free(block);
    fftw_free(in);
    fftw_free(keep);
    fftw_free(ref);
    fftw_free(got);
    berg__xform_free(&x);
    berg_space_destroy(sp);
}

static void random_spaces(void)
{
    for (int trial = 0; trial < 300; trial++) {
        int d = 1 + (int)(tu_uniform(&seed) * 4.0);
        if (d > 4)
            d = 4;
        size_t n[BERG_MAX_RANK], total = 1;
        berg_boundary bc[BERG_MAX_RANK];
        for (int a = 0; a < d; a++) {
            n[a] = 1 + (size_t)(tu_uniform(&seed) * 13.0);
            bc[a] = tu_uniform(&seed) < 0.5 ? BERG_NEUMANN : BERG_DIRICHLET;
            total *= n[a];
        }
        size_t batch = 1 + (size_t)(tu_uniform(&seed) * 3.0);
        (void)total;
        one_space(n, bc, d, batch);
    }
}

static void large_spaces(void)
{
    const size_t n1[] = {1u << 16};
    const size_t n1p[] = {65521};
    const berg_boundary N1[] = {BERG_NEUMANN}, D1[] = {BERG_DIRICHLET};
    one_space(n1, N1, 1, 1);
    one_space(n1p, D1, 1, 2);
    const size_t n2[] = {256, 256}, n2o[] = {255, 97};
    const berg_boundary NN[] = {BERG_NEUMANN, BERG_NEUMANN}, DN[] = {BERG_DIRICHLET, BERG_NEUMANN};
    one_space(n2, NN, 2, 1);
    one_space(n2o, DN, 2, 1);
    const size_t n3[] = {32, 31, 30};
    const berg_boundary NDN[] = {BERG_NEUMANN, BERG_DIRICHLET, BERG_NEUMANN};
    one_space(n3, NDN, 3, 2);
}

/* threads: the passes split among 3 threads give the same bits as 1
 * (every unit computed as in the serial pass), forward and inverse */
static void threads_agree(const size_t *n, const berg_boundary *bc, int d, size_t batch)
{
    double lo[3] = {0, 0, 0}, hi[3] = {1, 2, 3};
    berg_space *sp = NULL;
    CHECK_STATUS(berg_space_create(&sp, (size_t)d, n, lo, hi, bc, NULL), BERG_OK, "space");
    if (!sp)
        return;
    berg__xform x1, x3;
    CHECK_STATUS(berg__xform_init(&x1, sp, batch, 1, BERG__XF_ESTIMATE, "test"), BERG_OK, "1");
    CHECK_STATUS(berg__xform_init(&x3, sp, batch, 3, BERG__XF_ESTIMATE, "test"), BERG_OK, "3");
    size_t N = batch * x1.nreal;
    CHECK(N >= ((size_t)1 << 16), "the space is large enough to thread (%zu)", N);
    double *in = fftw_alloc_real(N), *o1 = fftw_alloc_real(N), *o3 = fftw_alloc_real(N);
    for (size_t i = 0; i < N; i++)
        in[i] = 2.0 * tu_uniform(&seed) - 1.0;
    berg__xform_forward(&x1, in);
    berg__xform_forward(&x3, in);
    CHECK(memcmp(x1.spec, x3.spec, N * sizeof(double)) == 0, "rank %d: forward on 3 threads = 1", d);
    memcpy(x3.spec, x1.spec, N * sizeof(double));
    berg__xform_inverse(&x1, x1.spec, o1);
    berg__xform_inverse(&x3, x3.spec, o3);
    CHECK(memcmp(o1, o3, N * sizeof(double)) == 0, "rank %d: inverse on 3 threads = 1", d);
    fftw_free(in);
    fftw_free(o1);
    fftw_free(o3);
    berg__xform_free(&x1);
    berg__xform_free(&x3);
    berg_space_destroy(sp);
}

int main(void)
{
    const size_t t2[] = {300, 257}, t3[] = {48, 40, 37}, t1[] = {70001};
    const berg_boundary b2[] = {BERG_NEUMANN, BERG_DIRICHLET},
                        b3[] = {BERG_DIRICHLET, BERG_NEUMANN, BERG_NEUMANN}, b1[] = {BERG_NEUMANN};
    threads_agree(t2, b2, 2, 1);
    threads_agree(t3, b3, 3, 2);
    threads_agree(t1, b1, 1, 1);
    random_spaces();
    large_spaces();
    return test_summary("dct");
}
