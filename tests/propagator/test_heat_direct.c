/* heat, direct path (issue 18): the separable convolution with the exact
 * discrete kernel equals the spectral path to 1e-14 of the maximum on
 * random data, for every boundary kind (mixed per axis), diagonal metrics,
 * both symbols, 1-D / 2-D / 3-D, odd and even sizes, many t around the
 * width where the kernel stops being compact; in place, batches, several
 * times (bitwise equal to separate applies), the automatic choice, and
 * thread counts (bitwise equal); multipliers with the heat symbol. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "propagator/heat_internal.h"

static unsigned long long seed = 12345;

static void random_fill(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = 2.0 * tu_uniform(&seed) - 1.0;
}

static berg_heat *make(const berg_space *s, size_t batch, size_t nthreads, unsigned flags)
{
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create_ex(&h, s, batch, nthreads, flags | BERG_PLAN_ESTIMATE),
                 BERG_OK, "create flags 0x%x", flags);
    return h;
}

/* whether handle h runs time t by the direct path */
static int takes_direct(const berg_heat *h, double t)
{
    berg__heat_work w;
    if (berg__heat_begin(h, &w, "test") != BERG_OK)
        return -1;
    int r = berg__heat_uses_direct(h, &w, t);
    berg__heat_end(h, &w);
    return r;
}

static double rel_diff(const double *a, const double *ref, size_t n)
{
    double m = tu_max_abs(ref, n);
    return tu_max_abs_diff(a, ref, n) / (m > 0 ? m : 1.0);
}

/* forced direct vs forced spectral on one space, sigma = sqrt(2 t) / h_min
 * over a sweep; returns how many times went direct */
static int compare_space(const berg_space *s, unsigned fd, const char *what)
{
    size_t n = berg_space_size(s);
    berg_heat *hd = make(s, 1, 1, fd | BERG_HEAT_DIRECT);
    berg_heat *hs = make(s, 1, 1, fd | BERG_HEAT_SPECTRAL);
    double *in = tu_vec(n), *a = tu_vec(n), *b = tu_vec(n);
    random_fill(in, n);
    int d = (int)berg_space_rank(s);
    double hs_[3], hmin = INFINITY;
    berg_space_spacing(s, hs_);
    for (int ax = 0; ax < d; ax++)
        hmin = fmin(hmin, hs_[ax]);
    static const double sig[] = {0.02, 0.1, 0.3, 0.7, 1.0, 1.5, 2.0, 2.5, 2.8, 3.0, 3.2,
                                 3.5, 4.0, 5.0, 6.0, 8.0, 12.0, 17.0, 25.0};
    int direct = 0;
    for (size_t j = 0; j < sizeof sig / sizeof sig[0]; j++) {
        double t = 0.5 * sig[j] * sig[j] * hmin * hmin;
        CHECK_STATUS(berg_heat_apply(hd, t, in, a), BERG_OK, "%s direct t %g", what, t);
        CHECK_STATUS(berg_heat_apply(hs, t, in, b), BERG_OK, "%s spectral t %g", what, t);
        double e = rel_diff(a, b, n);
        CHECK(e <= 1e-14, "%s fd %u sigma %g: direct - spectral = %.3g of the max", what, fd,
              sig[j], e);
        direct += takes_direct(hd, t) == 1;
        CHECK(takes_direct(hs, t) == 0, "%s: BERG_HEAT_SPECTRAL took the direct path", what);
    }
    free(in);
    free(a);
    free(b);
    berg_heat_destroy(hd);
    berg_heat_destroy(hs);
    return direct;
}

static void test_boundaries(void)
{
    berg_boundary k3[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    /* 1-D, odd and even */
    size_t n1[3] = {37, 64, 301};
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 3; i++)
            for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
                double lo = -0.3, hi = 1.9;
                berg_space *s = tu_space(1, &n1[i], &lo, &hi, &k3[b], NULL);
                char what[64];
                snprintf(what, sizeof what, "1-D n %zu bc %d", n1[i], b);
                int nd = compare_space(s, fd, what);
                /* the FD kernel is compact at small sigma; the continuum
                 * one from sigma ~3 on, once 2 W + 1 fits the period */
                if (fd || n1[i] >= 64)
                    CHECK(nd > 0, "%s fd %u: the direct path was never taken", what, fd);
                berg_space_destroy(s);
            }
    /* 2-D, every pair of kinds, a diagonal metric, odd sizes */
    size_t n2[2] = {61, 58};
    double lo2[2] = {0, -1}, hi2[2] = {2.0, 1.5}, g2[4] = {1.7, 0, 0, 0.6};
    for (int b0 = 0; b0 < 3; b0++)
        for (int b1 = 0; b1 < 3; b1++)
            for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
                berg_boundary bc[2] = {k3[b0], k3[b1]};
                berg_space *s = tu_space(2, n2, lo2, hi2, bc, g2);
                char what[64];
                snprintf(what, sizeof what, "2-D bc %d x %d", b0, b1);
                int nd = compare_space(s, fd, what);
                if (fd)
                    CHECK(nd > 0, "%s fd: the direct path was never taken", what);
                berg_space_destroy(s);
            }
    /* 2-D with axes longer than a panel's outputs (256): a strided axis in
     * row chunks, a contiguous one in chunks of a line; column blocks of
     * 128 with a partial one */
    size_t nc[3][2] = {{300, 37}, {21, 530}, {260, 140}};
    for (int i = 0; i < 3; i++)
        for (int b0 = 0; b0 < 3; b0++) {
            berg_boundary bc[2] = {k3[b0], k3[(b0 + i) % 3]};
            berg_space *s = tu_space(2, nc[i], lo2, hi2, bc, g2);
            char what[64];
            snprintf(what, sizeof what, "2-D %zu x %zu bc %d x %d", nc[i][0], nc[i][1], b0,
                     (b0 + i) % 3);
            CHECK(compare_space(s, BERG_SYMBOL_FD, what) > 0, "%s: never direct", what);
            berg_space_destroy(s);
        }
    /* 3-D, mixed kinds, odd sizes, a diagonal metric */
    size_t n3[3] = {19, 24, 13};
    double lo3[3] = {0, 0, 0}, hi3[3] = {1, 1.3, 0.7};
    double g3[9] = {1.0, 0, 0, 0, 2.5, 0, 0, 0, 0.4};
    berg_boundary m3[3][3] = {{BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET},
                              {BERG_DIRICHLET, BERG_PERIODIC, BERG_NEUMANN},
                              {BERG_NEUMANN, BERG_NEUMANN, BERG_PERIODIC}};
    for (int c = 0; c < 3; c++)
        for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
            berg_space *s = tu_space(3, n3, lo3, hi3, m3[c], g3);
            char what[64];
            snprintf(what, sizeof what, "3-D mix %d", c);
            int nd = compare_space(s, fd, what);
            if (fd)
                CHECK(nd > 0, "%s fd: the direct path was never taken", what);
            berg_space_destroy(s);
        }
    /* 3-D large enough for the continuum kernel at sigma 3-6 */
    size_t nb[3] = {60, 60, 60};
    double hb[3] = {1, 1, 1};
    berg_space *s = tu_space(3, nb, lo3, hb, m3[0], NULL);
    CHECK(compare_space(s, 0, "3-D 60^3") > 0, "3-D continuum: never direct");
    berg_space_destroy(s);
}

/* the automatic choice: any t gives the spectral answer; in place, batch,
 * several times (bitwise equal to separate applies), threads (bitwise) */
static void forms_on(size_t n0, size_t n1, berg_boundary b0, berg_boundary b1)
{
    size_t n[2] = {n0, n1};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {b0, b1};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s), B = 3;
    for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
        berg_heat *ha = make(s, 1, 1, fd), *hs = make(s, 1, 1, fd | BERG_HEAT_SPECTRAL);
        berg_heat *hd = make(s, 1, 1, fd | BERG_HEAT_DIRECT);
        berg_heat *hd2 = make(s, 1, 2, fd | BERG_HEAT_DIRECT);
        berg_heat *hb = make(s, B, 2, fd | BERG_HEAT_DIRECT);
        double *in = tu_vec(B * N), *a = tu_vec(B * N), *b = tu_vec(B * N), *c = tu_vec(B * N);
        random_fill(in, B * N);
        double h = 1.0 / (double)n0;
        double ts[6];
        int k = 0;
        for (double sg = 0.25; sg < 40.0; sg *= 1.19, k++) {
            double t = 0.5 * sg * sg * h * h;
            if (k < 6)
                ts[k] = fd ? t : 20.0 * t;
            CHECK_STATUS(berg_heat_apply(ha, t, in, a), BERG_OK, "auto");
            CHECK_STATUS(berg_heat_apply(hs, t, in, b), BERG_OK, "spectral");
            double e = rel_diff(a, b, N);
            CHECK(e <= 1e-14, "auto fd %u sigma %g: %.3g", fd, sg, e);
            /* threads: bitwise */
            CHECK_STATUS(berg_heat_apply(hd, t, in, a), BERG_OK, "direct");
            CHECK_STATUS(berg_heat_apply(hd2, t, in, c), BERG_OK, "direct 2 threads");
            CHECK(memcmp(a, c, N * sizeof(double)) == 0, "fd %u sigma %g: 2 threads differ", fd,
                  sg);
            /* in place */
            memcpy(c, in, N * sizeof(double));
            CHECK_STATUS(berg_heat_apply(hd, t, c, c), BERG_OK, "in place");
            CHECK(memcmp(a, c, N * sizeof(double)) == 0, "fd %u sigma %g: in place differs", fd,
                  sg);
            /* batch: each array as alone */
            CHECK_STATUS(berg_heat_apply_batch(hb, t, B, in, c), BERG_OK, "batch");
            for (size_t j = 0; j < B; j++) {
                CHECK_STATUS(berg_heat_apply(hd, t, in + j * N, b), BERG_OK, "one");
                CHECK(memcmp(b, c + j * N, N * sizeof(double)) == 0,
                      "fd %u sigma %g: batch array %zu differs", fd, sg, j);
            }
        }
        /* several times at once (one of them 0), out equal to in */
        ts[2] = 0.0;
        double *outs = tu_vec(6 * B * N);
        memcpy(outs, in, B * N * sizeof(double));
        CHECK_STATUS(berg_heat_apply_times(hb, 6, ts, outs, outs), BERG_OK, "times");
        for (int j = 0; j < 6; j++) {
            CHECK_STATUS(berg_heat_apply_batch(hb, ts[j], B, in, c), BERG_OK, "batch t");
            CHECK(memcmp(c, outs + (size_t)j * B * N, B * N * sizeof(double)) == 0,
                  "fd %u: apply_times block %d differs from a separate apply", fd, j);
        }
        free(outs);
        free(in);
        free(a);
        free(b);
        free(c);
        berg_heat_destroy(ha);
        berg_heat_destroy(hs);
        berg_heat_destroy(hd);
        berg_heat_destroy(hd2);
        berg_heat_destroy(hb);
    }
    berg_space_destroy(s);
}

/* the second grid has several units per pass for the threads to share:
 * lines of two chunks, two column blocks of the strided pass, two row
 * chunks (a partial one) */
static void test_forms(void)
{
    forms_on(96, 75, BERG_NEUMANN, BERG_PERIODIC);
    forms_on(300, 150, BERG_DIRICHLET, BERG_NEUMANN);
}

/* the band form of the last two axes on 1, 2 and 3 threads (bitwise) and
 * against the spectral path: an axis of rows longer than one band (bands
 * of 64 rows, a partial last one), strips of a long contiguous axis (a
 * partial column panel), row segments shared by threads, a batch, and a
 * 3-D space whose planes each take several bands (sigma up to 2: the
 * kernels fit the periods of 48 cells) */
static void bands_on(size_t d, const size_t *n, size_t batch, const berg_boundary *bc,
                     const char *what)
{
    /* cells of one width (0.01, 0.013, 0.008 on the axes) */
    double lo[3] = {0, -0.5, 0.2}, hi[3];
    static const double hw[3] = {0.01, 0.013, 0.008};
    for (size_t ax = 0; ax < d; ax++)
        hi[ax] = lo[ax] + hw[ax] * (double)n[ax];
    berg_space *s = tu_space(d, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s) * batch;
    berg_heat *hs = make(s, batch, 1, BERG_SYMBOL_FD | BERG_HEAT_SPECTRAL), *hd[3];
    for (size_t q = 0; q < 3; q++)
        hd[q] = make(s, batch, q + 1, BERG_SYMBOL_FD | BERG_HEAT_DIRECT);
    double *in = tu_vec(N), *ref = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N);
    random_fill(in, N);
    double hs_[3], hmin = INFINITY;
    berg_space_spacing(s, hs_);
    for (size_t ax = 0; ax < d; ax++)
        hmin = fmin(hmin, hs_[ax]);
    static const double sig[] = {0.3, 1.0, 2.0};
    for (size_t j = 0; j < sizeof sig / sizeof sig[0]; j++) {
        double t = 0.5 * sig[j] * sig[j] * hmin * hmin;
        CHECK_STATUS(berg_heat_apply_batch(hs, t, batch, in, ref), BERG_OK, "%s spectral", what);
        CHECK_STATUS(berg_heat_apply_batch(hd[0], t, batch, in, a), BERG_OK, "%s direct", what);
        CHECK(takes_direct(hd[0], t) == 1, "%s sigma %g: not direct", what, sig[j]);
        CHECK(rel_diff(a, ref, N) <= 1e-14, "%s sigma %g: direct - spectral = %.3g", what,
              sig[j], rel_diff(a, ref, N));
        for (size_t q = 1; q < 3; q++) {
            CHECK_STATUS(berg_heat_apply_batch(hd[q], t, batch, in, b), BERG_OK, "%s threads",
                         what);
            CHECK(memcmp(a, b, N * sizeof(double)) == 0, "%s sigma %g: %zu threads differ", what,
                  sig[j], q + 1);
        }
    }
    free(in);
    free(ref);
    free(a);
    free(b);
    berg_heat_destroy(hs);
    for (size_t q = 0; q < 3; q++)
        berg_heat_destroy(hd[q]);
    berg_space_destroy(s);
}

static void test_bands(void)
{
    berg_boundary k3[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    char what[64];
    for (int b = 0; b < 3; b++) {
        berg_boundary bc[3] = {k3[b], k3[(b + 1) % 3], k3[(b + 2) % 3]};
        size_t tall[2] = {530, 48}, wide[2] = {270, 530}, cube[3] = {48, 260, 56};
        snprintf(what, sizeof what, "bands 530 x 48 bc %d", b);
        bands_on(2, tall, 1, bc, what);
        snprintf(what, sizeof what, "bands 270 x 530 bc %d", b);
        bands_on(2, wide, 1, bc, what);
        snprintf(what, sizeof what, "bands 3 x 270 x 50 batch bc %d", b);
        size_t small[2] = {270, 50};
        bands_on(2, small, 3, bc, what);
        snprintf(what, sizeof what, "bands 48 x 260 x 56 bc %d", b);
        bands_on(3, cube, 1, bc, what);
    }
}

/* the FD kernel of a single spike against the modified Bessel closed form
 * on a long periodic line: e^{-2s} I_m(2s), I_m by its series in long
 * double (an independent reference) */
static void test_bessel(void)
{
    size_t n = 400;
    double lo = 0, hi = 400; /* h = 1 */
    berg_boundary bc = BERG_PERIODIC;
    berg_space *s = tu_space(1, &n, &lo, &hi, &bc, NULL);
    berg_heat *h = make(s, 1, 1, BERG_SYMBOL_FD | BERG_HEAT_DIRECT);
    double *in = tu_vec(n), *out = tu_vec(n);
    double svals[4] = {0.01, 0.7, 3.0, 40.0};
    for (int j = 0; j < 4; j++) {
        double sv = svals[j];
        tu_fill(in, n, 0.0);
        in[200] = 1.0;
        CHECK_STATUS(berg_heat_apply(h, sv, in, out), BERG_OK, "spike");
        CHECK(takes_direct(h, sv) == 1, "s = %g not direct", sv);
        double err = 0.0;
        for (int m = 0; m < 60; m++) {
            long double x = 2.0L * sv, y = x * x / 4.0L, term = expl(-x), sum = 0;
            for (int q = 1; q <= m; q++)
                term *= (x / 2.0L) / q;
            for (int k = 1; k < 400 && term > 0; k++) {
                sum += term;
                term *= y / ((long double)k * (long double)(k + m));
            }
            err = fmax(err, fabs(out[200 + m] - (double)sum));
            err = fmax(err, fabs(out[200 - m] - (double)sum));
        }
        CHECK(err < 1e-15, "FD spike s = %g: max error vs e^{-2s} I_m(2s) %.3g", sv, err);
    }
    free(in);
    free(out);
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

/* multipliers whose symbol is the heat symbol: e^{-t c} by the direct
 * path (bitwise the heat handle's direct result when c = |k|^2 exactly),
 * any other symbol spectral whatever the flag */
static int sym_k2(size_t d, const double *k, double *c, void *u)
{
    double D = *(const double *)u, q = 0.0;
    for (size_t a = 0; a < d; a++)
        q += k[a] * k[a];
    *c = D * q;
    return 0;
}

static int sym_k2k4(size_t d, const double *k, double *c, void *u)
{
    (void)u;
    double q = 0.0;
    for (size_t a = 0; a < d; a++)
        q += k[a] * k[a];
    *c = q + 1e-6 * q * q;
    return 0;
}

static void test_multiplier(void)
{
    size_t n[2] = {90, 77};
    double lo[2] = {0, 0}, hi[2] = {1, 1.1};
    berg_boundary bc[2] = {BERG_DIRICHLET, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    double *in = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N), *c = tu_vec(N);
    random_fill(in, N);
    for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
        double one = 1.0, D = 0.37;
        berg_multiplier *md = NULL, *ms = NULL, *mD = NULL, *mx = NULL;
        unsigned f = fd | BERG_PLAN_ESTIMATE;
        CHECK_STATUS(berg_multiplier_create(&md, s, f | BERG_HEAT_DIRECT, sym_k2, &one),
                     BERG_OK, "multiplier direct");
        CHECK_STATUS(berg_multiplier_create(&ms, s, f | BERG_HEAT_SPECTRAL, sym_k2, &one),
                     BERG_OK, "multiplier spectral");
        CHECK_STATUS(berg_multiplier_create(&mD, s, f, sym_k2, &D), BERG_OK, "multiplier D");
        CHECK_STATUS(berg_multiplier_create(&mx, s, f | BERG_HEAT_DIRECT, sym_k2k4, NULL),
                     BERG_OK, "multiplier k2k4");
        berg_heat *hd = make(s, 1, 1, fd | BERG_HEAT_DIRECT);
        berg_heat *hs = make(s, 1, 1, fd | BERG_HEAT_SPECTRAL);
        int bitwise = 0, tried = 0;
        for (double sg = 0.3; sg < 30.0; sg *= 1.6) {
            double h = 1.0 / 90.0, t = 0.5 * sg * sg * h * h;
            CHECK_STATUS(berg_multiplier_exp_apply(md, t, in, a), BERG_OK, "exp direct");
            CHECK_STATUS(berg_multiplier_exp_apply(ms, t, in, b), BERG_OK, "exp spectral");
            double e = rel_diff(a, b, N);
            CHECK(e <= 1e-14, "multiplier fd %u sigma %g: direct - spectral %.3g", fd, sg, e);
            CHECK_STATUS(berg_heat_apply(hd, t, in, c), BERG_OK, "heat direct");
            if (takes_direct(hd, t) == 1) {
                tried++;
                bitwise += memcmp(a, c, N * sizeof(double)) == 0;
            }
            /* D |k|^2 at t is the heat semigroup at D t */
            CHECK_STATUS(berg_multiplier_exp_apply(mD, t, in, a), BERG_OK, "exp D");
            CHECK_STATUS(berg_heat_apply(hs, D * t, in, b), BERG_OK, "heat D t");
            e = rel_diff(a, b, N);
            CHECK(e <= 1e-14, "multiplier D fd %u sigma %g: %.3g", fd, sg, e);
            /* not the heat symbol: the spectral answer */
            CHECK_STATUS(berg_multiplier_exp_apply(mx, t, in, a), BERG_OK, "exp k2k4");
            for (size_t i = 0; i < N; i++)
                c[i] = in[i];
            berg_multiplier *mxs = NULL;
            CHECK_STATUS(berg_multiplier_create(&mxs, s, f | BERG_HEAT_SPECTRAL, sym_k2k4, NULL),
                         BERG_OK, "k2k4 spectral");
            CHECK_STATUS(berg_multiplier_exp_apply(mxs, t, in, b), BERG_OK, "exp k2k4 s");
            CHECK(memcmp(a, b, N * sizeof(double)) == 0, "k2k4 fd %u: not spectral", fd);
            berg_multiplier_destroy(mxs);
        }
        CHECK(tried > 0 && bitwise == tried,
              "fd %u: the multiplier's direct result equals the heat handle's in %d of %d", fd,
              bitwise, tried);
        berg_multiplier_destroy(md);
        berg_multiplier_destroy(ms);
        berg_multiplier_destroy(mD);
        berg_multiplier_destroy(mx);
        berg_heat_destroy(hd);
        berg_heat_destroy(hs);
    }
    free(in);
    free(a);
    free(b);
    free(c);
    berg_space_destroy(s);
}

/* one automatic handle applied by 4 threads at once from its first call:
 * the crossover is measured once under its lock, every result equals the
 * spectral one (run under TSan by scripts/test) */
typedef struct {
    const berg_heat *h;
    const double *in;
    double *out;
    double t;
    berg_status st;
} conc_job;

static void *conc_main(void *v)
{
    conc_job *j = v;
    j->st = berg_heat_apply(j->h, j->t, j->in, j->out);
    return NULL;
}

static void test_concurrent_first_use(void)
{
    size_t n[2] = {128, 96};
    double lo[2] = {0, 0}, hi[2] = {1, 0.75};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
        berg_heat *ha = make(s, 1, 1, fd), *hs = make(s, 1, 1, fd | BERG_HEAT_SPECTRAL);
        double *in = tu_vec(N), *ref = tu_vec(4 * N), *out = tu_vec(4 * N);
        random_fill(in, N);
        conc_job jobs[4];
        pthread_t th[4];
        for (int k = 0; k < 4; k++) {
            double sg = 1.0 + 2.5 * k, h = 1.0 / 128.0;
            jobs[k] = (conc_job){ha, in, out + (size_t)k * N, 0.5 * sg * sg * h * h, BERG_OK};
            CHECK(pthread_create(&th[k], NULL, conc_main, &jobs[k]) == 0, "thread %d", k);
        }
        for (int k = 0; k < 4; k++) {
            pthread_join(th[k], NULL);
            CHECK_STATUS(jobs[k].st, BERG_OK, "concurrent apply %d", k);
            CHECK_STATUS(berg_heat_apply(hs, jobs[k].t, in, ref + (size_t)k * N), BERG_OK,
                         "spectral");
            double e = rel_diff(out + (size_t)k * N, ref + (size_t)k * N, N);
            CHECK(e <= 1e-14, "concurrent fd %u job %d: %.3g", fd, k, e);
        }
        free(in);
        free(ref);
        free(out);
        berg_heat_destroy(ha);
        berg_heat_destroy(hs);
    }
    berg_space_destroy(s);
}

/* the FD direct path on periodic / Neumann axes sums nonnegative terms:
 * a nonnegative input stays nonnegative exactly (the spectral path leaves
 * round-off negatives), mass is conserved, and the semigroup composes */
static void test_fd_properties(void)
{
    size_t n[2] = {50, 41};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_NEUMANN, BERG_PERIODIC};
    berg_space *s = tu_space(2, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s);
    berg_heat *hd = make(s, 1, 1, BERG_SYMBOL_FD | BERG_HEAT_DIRECT);
    double *in = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N);
    for (size_t i = 0; i < N; i++)
        in[i] = (i % 3 == 0) ? 0.0 : tu_uniform(&seed);
    in[7] = 1e-300;
    double h = 1.0 / 50.0;
    for (double sg = 0.1; sg < 2.0; sg *= 1.7) {
        double t = 0.5 * sg * sg * h * h;
        CHECK(takes_direct(hd, t) == 1, "FD sigma %g not direct", sg);
        CHECK_STATUS(berg_heat_apply(hd, t, in, a), BERG_OK, "fd apply");
        double mn = INFINITY, m0 = 0, m1 = 0;
        for (size_t i = 0; i < N; i++) {
            mn = fmin(mn, a[i]);
            m0 += in[i];
            m1 += a[i];
        }
        CHECK(mn >= 0.0, "FD sigma %g: min %.3g < 0", sg, mn);
        CHECK(fabs(m1 - m0) <= 1e-14 * m0, "FD sigma %g: mass %.17g vs %.17g", sg, m1, m0);
        /* e^{t} e^{t} = e^{2t} */
        CHECK_STATUS(berg_heat_apply(hd, t, a, b), BERG_OK, "second");
        CHECK_STATUS(berg_heat_apply(hd, 2 * t, in, a), BERG_OK, "double");
        double e = rel_diff(b, a, N);
        CHECK(e <= 1e-14, "FD sigma %g: semigroup %.3g", sg, e);
    }
    free(in);
    free(a);
    free(b);
    berg_heat_destroy(hd);
    berg_space_destroy(s);
}

/* grids of 1 to 7 cells: the kernel (and the measurement's passes) must
 * fit one period; automatic and forced handles against the spectral one */
static void test_tiny(void)
{
    berg_boundary k3[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    size_t sizes[5] = {1, 2, 3, 4, 7};
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 5; i++)
            for (unsigned fd = 0; fd <= BERG_SYMBOL_FD; fd += BERG_SYMBOL_FD) {
                size_t n2[2] = {sizes[i], 5};
                double lo[2] = {0, 0}, hi[2] = {1, 1};
                berg_boundary bc[2] = {k3[b], BERG_PERIODIC};
                berg_space *s = tu_space(2, n2, lo, hi, bc, NULL);
                size_t N = berg_space_size(s);
                berg_heat *ha = make(s, 1, 1, fd), *hd = make(s, 1, 1, fd | BERG_HEAT_DIRECT);
                berg_heat *hs = make(s, 1, 1, fd | BERG_HEAT_SPECTRAL);
                double in[35], a[35], c[35], r[35];
                random_fill(in, N);
                for (double t = 1e-5; t < 1.0; t *= 3.0) {
                    CHECK_STATUS(berg_heat_apply(ha, t, in, a), BERG_OK, "tiny auto");
                    CHECK_STATUS(berg_heat_apply(hd, t, in, c), BERG_OK, "tiny direct");
                    CHECK_STATUS(berg_heat_apply(hs, t, in, r), BERG_OK, "tiny spectral");
                    CHECK(rel_diff(a, r, N) <= 1e-14 && rel_diff(c, r, N) <= 1e-14,
                          "tiny n %zu bc %d fd %u t %g: %.3g %.3g", sizes[i], b, fd, t,
                          rel_diff(a, r, N), rel_diff(c, r, N));
                }
                berg_heat_destroy(ha);
                berg_heat_destroy(hd);
                berg_heat_destroy(hs);
                berg_space_destroy(s);
            }
}

/* flags: both forcing bits together are refused */
static void test_flags(void)
{
    size_t n = 16;
    double lo = 0, hi = 1;
    berg_boundary bc = BERG_PERIODIC;
    berg_space *s = tu_space(1, &n, &lo, &hi, &bc, NULL);
    berg_heat *h = NULL;
    CHECK_STATUS(berg_heat_create(&h, s, BERG_HEAT_DIRECT | BERG_HEAT_SPECTRAL), BERG_ERR_DOMAIN,
                 "both forcing flags");
    CHECK(h == NULL, "out written on failure");
    CHECK_MESSAGE("BERG_HEAT_DIRECT", "both flags");
    berg_space_destroy(s);
}

/* the crossover is measured once per process and grid: two handles on one
 * grid choose alike at every t and give the same bits (a test in the
 * Python suite saw two backward flows differ by 1.7e-16 when each handle
 * measured its own) */
static void test_one_choice_per_grid(void)
{
    size_t n = 256;
    double lo = -10.0, hi = 12.0;
    berg_boundary bc = BERG_NEUMANN;
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL), BERG_OK, "space");
    berg_heat *h1 = NULL, *h2 = NULL;
    CHECK_STATUS(berg_heat_create(&h1, s, BERG_PLAN_ESTIMATE), BERG_OK, "h1");
    double *in = tu_vec(n), *a = tu_vec(n), *b = tu_vec(n);
    random_fill(in, n);
    double h = (hi - lo) / (double)n;
    for (double sigma = 0.5; sigma < 40.0; sigma *= 1.3) {
        double t = 0.5 * sigma * sigma * h * h;
        /* the second handle is made after the first measured */
        CHECK_STATUS(berg_heat_apply(h1, t, in, a), BERG_OK, "h1 apply");
        if (h2 == NULL)
            CHECK_STATUS(berg_heat_create(&h2, s, BERG_PLAN_ESTIMATE), BERG_OK, "h2");
        CHECK_STATUS(berg_heat_apply(h2, t, in, b), BERG_OK, "h2 apply");
        CHECK(takes_direct(h1, t) == takes_direct(h2, t), "sigma %g: one choice for one grid",
              sigma);
        CHECK(memcmp(a, b, n * sizeof(double)) == 0, "sigma %g: the same bits", sigma);
    }
    berg_heat_destroy(h1);
    berg_heat_destroy(h2);
    berg_space_destroy(s);
    free(in);
    free(a);
    free(b);
}

/* both forms of the contiguous axis (panels, and the pad form the measured
 * crossover picks for narrow kernels) against the spectral path, run through
 * the engine with the form set: the same bits (the same terms in the same
 * order, so the measured choice never changes a result), and the pad form
 * on 1 and 2 threads bitwise */
static void pad_form_on(const berg_space *s, const char *what)
{
    size_t N = berg_space_size(s);
    berg_heat *hs = make(s, 1, 1, BERG_SYMBOL_FD | BERG_HEAT_SPECTRAL);
    double *in = tu_vec(N), *ref = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N), *tmp = tu_vec(N);
    random_fill(in, N);
    double hs_[3], hmin = INFINITY;
    int d = (int)berg_space_rank(s);
    berg_space_spacing(s, hs_);
    for (int ax = 0; ax < d; ax++)
        hmin = fmin(hmin, hs_[ax]);
    berg__hdir e[2];
    double *panels[2];
    for (int q = 0; q < 2; q++) {
        CHECK_STATUS(berg__hdir_init(&e[q], s, 1, 1, (size_t)q + 1, "test"), BERG_OK, "init");
        panels[q] = tu_vec(berg__hdir_panel_doubles(&e[q]) + 1);
    }
    berg__hdir_kernel *k = malloc(sizeof *k);
    static const double sig[] = {0.1, 0.5, 1.0, 2.0, 3.5, 6.0};
    int ran = 0;
    for (size_t j = 0; j < sizeof sig / sizeof sig[0]; j++) {
        double t = 0.5 * sig[j] * sig[j] * hmin * hmin;
        berg__hdir_kernels(&e[0], t, k);
        if (!k->compact)
            continue;
        CHECK_STATUS(berg_heat_apply(hs, t, in, ref), BERG_OK, "spectral");
        /* panels: no measured model (pad_b = 0) */
        berg__hdir_run(&e[0], k, in, a, tmp, panels[0]);
        CHECK(rel_diff(a, ref, N) <= 1e-14, "%s sigma %g panels: %.3g", what, sig[j],
              rel_diff(a, ref, N));
        /* the pad form: a model in which it is the cheaper one */
        for (int q = 0; q < 2; q++) {
            for (int jj = 0; jj < BERG_MAX_RANK; jj++) {
                e[q].pass_a[jj] = 1.0;
                e[q].pass_b[jj] = 1.0;
            }
            e[q].pad_a = 0.0;
            e[q].pad_b = 1e-300;
            atomic_store(&e[q].measured, 1);
        }
        berg__hdir_run(&e[0], k, in, b, tmp, panels[0]);
        CHECK(rel_diff(b, ref, N) <= 1e-14, "%s sigma %g pad form: %.3g", what, sig[j],
              rel_diff(b, ref, N));
        /* the two forms add the same terms in the same order */
        CHECK(memcmp(a, b, N * sizeof(double)) == 0, "%s sigma %g: the forms differ", what,
              sig[j]);
        berg__hdir_run(&e[1], k, in, a, tmp, panels[1]);
        CHECK(memcmp(a, b, N * sizeof(double)) == 0, "%s sigma %g: pad form on 2 threads differs",
              what, sig[j]);
        for (int q = 0; q < 2; q++) {
            e[q].pad_b = 0.0;
            atomic_store(&e[q].measured, 0);
        }
        ran++;
    }
    CHECK(ran > 0, "%s: no compact kernel", what);
    for (int q = 0; q < 2; q++) {
        berg__hdir_free(&e[q]);
        free(panels[q]);
    }
    free(k);
    free(in);
    free(ref);
    free(a);
    free(b);
    free(tmp);
    berg_heat_destroy(hs);
}

static void test_pad_form(void)
{
    berg_boundary k3[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1.3, 0.7};
    char what[64];
    for (int b = 0; b < 3; b++) {
        /* 1-D: a line of chunks (the pad form's 512) and a short one */
        size_t n1[2] = {1100, 37};
        for (int i = 0; i < 2; i++) {
            berg_space *s = tu_space(1, &n1[i], lo, hi, &k3[b], NULL);
            snprintf(what, sizeof what, "pad 1-D %zu bc %d", n1[i], b);
            pad_form_on(s, what);
            berg_space_destroy(s);
        }
        /* 2-D and 3-D (the band form: one band, several), mixed kinds */
        size_t n2[2][2] = {{300, 150}, {61, 58}}, n3[3] = {19, 24, 13};
        for (int i = 0; i < 2; i++) {
            berg_boundary bc[2] = {k3[b], k3[(b + 1) % 3]};
            berg_space *s = tu_space(2, n2[i], lo, hi, bc, NULL);
            snprintf(what, sizeof what, "pad 2-D %zu x %zu bc %d", n2[i][0], n2[i][1], b);
            pad_form_on(s, what);
            berg_space_destroy(s);
        }
        berg_boundary bc3[3] = {k3[b], k3[(b + 1) % 3], k3[(b + 2) % 3]};
        berg_space *s = tu_space(3, n3, lo, hi, bc3, NULL);
        snprintf(what, sizeof what, "pad 3-D bc %d", b);
        pad_form_on(s, what);
        berg_space_destroy(s);
    }
}

/* the 3-D direct path checks its input in its first job (no pass of its
 * own): for every input it takes, the result is bitwise the one of the
 * regular route (berg_heat_apply_times, which checks first); NaN and
 * infinities are refused with out (or, in place, in) unchanged; inputs
 * whose magnitudes sum beyond the thresholds go the scaled route, bitwise
 * the unscaled result times the power of two; threads and batches. The
 * internal decision is checked too: run_scanned says 1 only for the
 * inputs it may take, and writes nothing to out otherwise. */
static void scanned_on(const size_t *n, const double *hi, const berg_boundary *bc, size_t batch,
                       const char *what)
{
    double lo[3] = {0, 0, 0};
    berg_space *s = tu_space(3, n, lo, hi, bc, NULL);
    size_t N = berg_space_size(s) * batch;
    double *in = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N), *c = tu_vec(N), *keep = tu_vec(N);
    double hs_[3];
    berg_space_spacing(s, hs_);
    double t = 0.5 * 1.5 * 1.5 * hs_[0] * hs_[0];
    for (size_t q = 1; q <= 3; q++) {
        berg_heat *h = make(s, batch, q, BERG_SYMBOL_FD | BERG_HEAT_DIRECT);
        CHECK(berg__hdir_scans(&h->direct), "%s: a 3-D space does not scan", what);
        int direct = takes_direct(h, t) == 1;
        CHECK(direct, "%s: not direct", what);
        if (!direct) {
            berg_heat_destroy(h);
            continue;
        }
        random_fill(in, N);
        CHECK_STATUS(berg_heat_apply_batch(h, t, batch, in, a), BERG_OK, "%s apply", what);
        CHECK_STATUS(berg_heat_apply_times(h, 1, &t, in, b), BERG_OK, "%s times", what);
        CHECK(memcmp(a, b, N * sizeof(double)) == 0, "%s, %zu threads: scanned != checked first",
              what, q);
        memcpy(c, in, N * sizeof(double));
        CHECK_STATUS(berg_heat_apply_batch(h, t, batch, c, c), BERG_OK, "%s in place", what);
        CHECK(memcmp(a, c, N * sizeof(double)) == 0, "%s, %zu threads: in place differs", what,
              q);
        /* tiny and huge: the scaled route, exact powers of two */
        static const int sh[2] = {-600, 1000};
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < N; i++)
                c[i] = ldexp(in[i], sh[k]);
            CHECK_STATUS(berg_heat_apply_batch(h, t, batch, c, b), BERG_OK, "%s 2^%d", what,
                         sh[k]);
            size_t bad = 0;
            for (size_t i = 0; i < N; i++)
                bad += b[i] != ldexp(a[i], sh[k]);
            CHECK(bad == 0, "%s, %zu threads: input times 2^%d: %zu values not the result "
                            "times 2^%d", what, q, sh[k], bad, sh[k]);
        }
        /* the internal decision, and nothing written when it says 0 */
        berg__heat_work w;
        CHECK_STATUS(berg__heat_begin(h, &w, "test"), BERG_OK, "%s begin", what);
        CHECK(berg__heat_uses_direct(h, &w, t) == 1, "%s: kernels", what);
        unsigned fp = berg__ftz_enter();
        CHECK(berg__hdir_run_scanned(&h->direct, w.kern, in, b, w.s.spec, w.panels,
                                     berg__heat_scan_takes, h) == 1,
              "%s: a plain input refused", what);
        CHECK(memcmp(a, b, N * sizeof(double)) == 0, "%s: run_scanned differs", what);
        /* a NaN anywhere (first, last, 64 spread positions): every value
         * is in some unit's scan */
        size_t missed = 0;
        memcpy(c, in, N * sizeof(double));
        for (size_t k = 0; k < 66; k++) {
            size_t at = k == 64 ? 0 : k == 65 ? N - 1 : (k * N) / 64 + k % 7;
            c[at] = NAN;
            missed += berg__hdir_run_scanned(&h->direct, w.kern, c, b, w.s.spec, w.panels,
                                             berg__heat_scan_takes, h) != 0;
            c[at] = in[at];
        }
        CHECK(missed == 0, "%s: %zu NaNs of 66 not seen", what, missed);
        const double odd[4] = {NAN, INFINITY, 0x1p-520, 0x1p990};
        for (int k = 0; k < 4; k++) {
            size_t at = (size_t)(tu_uniform(&seed) * (double)N) % N;
            memcpy(c, in, N * sizeof(double));
            if (k < 2) {
                c[at] = odd[k];
            } else { /* every value of that magnitude: the sum beyond a bound */
                for (size_t i = 0; i < N; i++)
                    c[i] = odd[k] * (i % 2 ? 1.0 : -0.5);
            }
            for (size_t i = 0; i < N; i++)
                b[i] = 7.0;
            CHECK(berg__hdir_run_scanned(&h->direct, w.kern, c, b, w.s.spec, w.panels,
                                         berg__heat_scan_takes, h) == 0,
                  "%s: input %d taken", what, k);
            size_t changed = 0;
            for (size_t i = 0; i < N; i++)
                changed += b[i] != 7.0;
            CHECK(changed == 0, "%s: input %d refused but %zu values of out written", what, k,
                  changed);
        }
        berg__ftz_leave(fp);
        berg__heat_end(h, &w);
        /* the public calls: refused, out and (in place) in unchanged */
        const double bad[2] = {NAN, -INFINITY};
        for (int k = 0; k < 2; k++) {
            size_t at = (size_t)(tu_uniform(&seed) * (double)N) % N;
            memcpy(c, in, N * sizeof(double));
            c[at] = bad[k];
            for (size_t i = 0; i < N; i++)
                b[i] = 7.0;
            CHECK_STATUS(berg_heat_apply_batch(h, t, batch, c, b), BERG_ERR_NONFINITE,
                         "%s: value %g at %zu", what, bad[k], at);
            size_t changed = 0;
            for (size_t i = 0; i < N; i++)
                changed += b[i] != 7.0;
            CHECK(changed == 0, "%s: refused, but %zu values of out written", what, changed);
            memcpy(keep, c, N * sizeof(double));
            CHECK_STATUS(berg_heat_apply_batch(h, t, batch, c, c), BERG_ERR_NONFINITE,
                         "%s: in place, value %g at %zu", what, bad[k], at);
            /* the bad value still there (NaN compares unequal to
             * itself), and every other value bitwise */
            int kept = isnan(bad[k]) ? isnan(c[at]) : c[at] == bad[k];
            c[at] = 0.0;
            keep[at] = 0.0;
            CHECK(kept && memcmp(keep, c, N * sizeof(double)) == 0,
                  "%s: refused in place, in changed", what);
        }
        berg_heat_destroy(h);
    }
    free(in);
    free(a);
    free(b);
    free(c);
    free(keep);
    berg_space_destroy(s);
}

static void test_scanned(void)
{
    berg_boundary k3[3] = {BERG_PERIODIC, BERG_NEUMANN, BERG_DIRICHLET};
    char what[64];
    for (int b = 0; b < 3; b++) {
        berg_boundary bc[3] = {k3[b], k3[(b + 1) % 3], k3[(b + 2) % 3]};
        size_t n[3] = {40, 36, 52}, m[3] = {300, 12, 20}, o[3] = {48, 9, 7};
        const double hi[3] = {1.0, 1.3, 0.9}, wide[3] = {1.0, 8.1, 17.0};
        snprintf(what, sizeof what, "scanned 40 x 36 x 52 bc %d", b);
        scanned_on(n, hi, bc, 1, what);
        snprintf(what, sizeof what, "scanned 300 x 12 x 20 batch 2 bc %d", b);
        scanned_on(m, hi, bc, 2, what);
        /* 63 values a plane: a column block with a partial group of lanes */
        snprintf(what, sizeof what, "scanned 48 x 9 x 7 bc %d", b);
        scanned_on(o, wide, bc, 1, what);
    }
    /* the rule the first job's sum is held to: input_scale's scale 1 (sums
     * in [2^-500, 2^995) in 3-D), both ends of the order's margin inside */
    {
        size_t n3[3] = {8, 8, 8};
        double lo3[3] = {0, 0, 0}, hi3[3] = {1, 1, 1};
        berg_boundary p3[3] = {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC};
        berg_space *s3 = tu_space(3, n3, lo3, hi3, p3, NULL);
        berg_heat *h3 = make(s3, 1, 1, BERG_SYMBOL_FD);
        const double ok[4] = {1.0, 0x1.8p-500, 0x1.8p994, 1e-100};
        const double no[6] = {0.0, 0x1p-501, 0x1.fffffffffffffp-501, 0x1p995, NAN, INFINITY};
        for (int q = 0; q < 4; q++)
            CHECK(berg__heat_scan_takes(ok[q], h3), "sum %a not taken", ok[q]);
        for (int q = 0; q < 6; q++)
            CHECK(!berg__heat_scan_takes(no[q], h3), "sum %a taken", no[q]);
        berg_heat_destroy(h3);
        berg_space_destroy(s3);
    }
    /* a 2-D space's first job writes out: no scan */
    size_t n2[2] = {16, 16};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc2[2] = {BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = tu_space(2, n2, lo, hi, bc2, NULL);
    berg_heat *h = make(s, 1, 1, BERG_SYMBOL_FD);
    CHECK(!berg__hdir_scans(&h->direct), "a 2-D space scans");
    berg_heat_destroy(h);
    berg_space_destroy(s);
}

int main(void)
{
    test_one_choice_per_grid();
    test_flags();
    test_bessel();
    test_boundaries();
    test_forms();
    test_bands();
    test_multiplier();
    test_concurrent_first_use();
    test_fd_properties();
    test_tiny();
    test_pad_form();
    test_scanned();
    return test_summary("heat_direct");
}
