/*
 * Distributed Gaussian random fields and the distributed field Langevin
 * flow (issue 16), run under mpirun -np 1..4:
 * - the counter-based generator: Philox4x32-10 known-answer vectors of
 *   Random123, the moments, a histogram chi-square and the independence of
 *   its normals;
 * - the field of a seed is the same on every number of ranks: the run splits
 *   its ranks into communicators of 1..P ranks and compares the gathered
 *   fields (1e-13 of the field's size), on grids with odd sizes, fewer rows
 *   than ranks and a coupled metric;
 * - each field equals the serial libberg algorithm T^{-1} sqrt(C) T xi
 *   (berg_multiplier_apply with the symbol sqrt(C)) on the same noise;
 * - its two-point function has the exact spectrum: chi-square of the Fourier
 *   modes of 48 samples against N C(k) / w, overall and per shell of |k|;
 * - the Langevin step equals the serial algebra phi - dt Cdot grad +
 *   sqrt(2 dt) T^{-1} sqrt(c) T xi, k calls of one step equal one call of k
 *   steps, trajectories agree across rank counts, and a failure on one rank
 *   (callback, NaN) is the failure of every rank with the state untouched.
 */
#include <complex.h>
#include <fftw3.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "berg/mpi.h"
#include "testutil.h"
#include "mpi_gather.h"

static int rank_, nproc_;

/* MPI_STATUS(got, want, "what"): the status, and on a failure a message
 * from berg_mpi_last_error() */
#define MPI_STATUS(got, want, ...)                                                                 \
    do {                                                                                           \
        char tu_w_[256];                                                                           \
        TU_WHAT(tu_w_, __VA_ARGS__);                                                               \
        berg_status tu_g_ = (got), tu_e_ = (want);                                                 \
        CHECK(tu_g_ == tu_e_, "%s: status %d, want %d (%s)", tu_w_, (int)tu_g_, (int)tu_e_,        \
              berg_mpi_last_error());                                                              \
        if (tu_e_ != BERG_OK)                                                                      \
            CHECK(berg_mpi_last_error()[0] != '\0', "%s: no message", tu_w_);                      \
    } while (0)

/* ---- helpers ---------------------------------------------------------------- */

static berg_space *grid(size_t d, const size_t *n, const double *metric)
{
    double lo[3] = {0, -1, 0.5}, hi[3] = {2 * M_PI, 2.0, 3.0};
    berg_boundary bc[3] = {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = NULL;
    berg_space_create(&s, d, n, lo, hi, bc, metric);
    return s;
}

/* the slab of a rank (FFTW's default block) */
static void slab(size_t n0, int rank, int P, size_t *row0, size_t *nrows)
{
    size_t b = (n0 + (size_t)P - 1) / (size_t)P, r0 = (size_t)rank * b;
    *row0 = r0 < n0 ? r0 : n0;
    *nrows = r0 < n0 ? (n0 - r0 < b ? n0 - r0 : b) : 0;
}

/* ---- the generator ------------------------------------------------------------ */

/* the Philox4x32-10 known-answer vectors of Random123 (kat_vectors),
 * through the public generator: z(seed, stream, i) is Box-Muller of the
 * cipher of the counter (i, stream) under the key seed */
static double box_muller(const uint32_t o[4])
{
    /* u = (the 53 high bits of the words (o[0], o[1]) or (o[2], o[3]), the
     * first word high) + 1/2, times 2^-53 */
    double u1 = ((double)((((uint64_t)o[0] << 32) | o[1]) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = ((double)((((uint64_t)o[2] << 32) | o[3]) >> 11) + 0.5) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void test_philox(void)
{
    /* counter words, key words, the cipher's output words */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
        {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
         0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
        {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
         0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
    for (int v = 0; v < 3; v++) {
        const uint32_t *k = kat[v];
        unsigned long long index = ((unsigned long long)k[1] << 32) | k[0];
        unsigned long long stream = ((unsigned long long)k[3] << 32) | k[2];
        unsigned long long seed = ((unsigned long long)k[5] << 32) | k[4];
        double z = NAN;
        MPI_STATUS(berg_mpi_noise_normals(seed, stream, index, 1, &z), BERG_OK, "KAT %d", v);
        double want = box_muller(k + 6);
        CHECK(z == want, "Philox KAT %d: z = %.17g, want %.17g", v, z, want);
    }
}

static void test_normals(void)
{
    const size_t n = (size_t)1 << 20;
    double *z = malloc(n * sizeof *z), *y = malloc(n * sizeof *y);
    MPI_STATUS(berg_mpi_noise_normals(7, 3, 0, n, z), BERG_OK, "normals");
    MPI_STATUS(berg_mpi_noise_normals(7, 4, 0, n, y), BERG_OK, "normals of stream 4");
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, lag = 0, cross = 0;
    for (size_t i = 0; i < n; i++) {
        double v = z[i];
        m1 += v;
        m2 += v * v;
        m3 += v * v * v;
        m4 += v * v * v * v;
        if (i + 1 < n)
            lag += v * z[i + 1];
        cross += v * y[i];
    }
    double N = (double)n;
    /* 5 sigma of each estimator of the moments of N(0, 1) */
    CHECK(fabs(m1 / N) < 5 / sqrt(N), "mean %g", m1 / N);
    CHECK(fabs(m2 / N - 1) < 5 * sqrt(2 / N), "variance %g", m2 / N);
    CHECK(fabs(m3 / N) < 5 * sqrt(15 / N), "third moment %g", m3 / N);
    CHECK(fabs(m4 / N - 3) < 5 * sqrt(96 / N), "fourth moment %g", m4 / N);
    CHECK(fabs(lag / N) < 5 / sqrt(N), "lag-1 correlation %g", lag / N);
    CHECK(fabs(cross / N) < 5 / sqrt(N), "correlation of streams 3 and 4: %g", cross / N);
    /* histogram chi-square over 40 equiprobable-ish bins of width 0.2 in
     * [-4, 4] plus the two tails: 41 degrees of freedom, 5 sigma */
    size_t cnt[42] = {0};
    for (size_t i = 0; i < n; i++) {
        double v = z[i];
        int b = v < -4 ? 0 : v >= 4 ? 41 : 1 + (int)floor((v + 4) / 0.2);
        if (b > 40 && v < 4)
            b = 40;
        cnt[b]++;
    }
    double chi2 = 0;
    for (int b = 0; b < 42; b++) {
        double lo = b == 0 ? -INFINITY : -4 + 0.2 * (b - 1), hi = b == 41 ? INFINITY : lo + 0.2;
        if (b == 0)
            hi = -4;
        double p = 0.5 * (erfc(-hi / M_SQRT2) - erfc(-lo / M_SQRT2));
        double e = N * p;
        chi2 += (cnt[b] - e) * (cnt[b] - e) / e;
    }
    CHECK(chi2 < 41 + 5 * sqrt(2 * 41.0), "histogram chi2 %g for 41 degrees of freedom", chi2);
    /* a block starting at index 1000 is the tail of the block from 0 */
    MPI_STATUS(berg_mpi_noise_normals(7, 3, 1000, 16, y), BERG_OK, "offset block");
    CHECK(memcmp(y, z + 1000, 16 * sizeof(double)) == 0, "normals are indexed, not streamed");
    free(z);
    free(y);
}

/* ---- symbols ------------------------------------------------------------------ */

typedef struct {
    const berg_space *s;
    const double *ginv;
    size_t d;
    const size_t *n;
    const double *L;
    int regulator; /* 1: exponential regulator of |k|_g with Nyquist cross terms dropped */
    int sqrt_of;   /* return sqrt of the symbol */
} sym_data;

/* 1 when k_a is a Nyquist wave number of an even axis */
static int at_nyquist(const sym_data *sd, size_t a, double k)
{
    return sd->n[a] % 2 == 0 && fabs(fabs(k) - M_PI * (double)sd->n[a] / sd->L[a]) <
                                    1e-9 * M_PI * (double)sd->n[a] / sd->L[a];
}

static double qform(const sym_data *sd, const double *k, int drop_nyquist)
{
    double q = 0;
    for (size_t a = 0; a < sd->d; a++)
        for (size_t b = 0; b < sd->d; b++) {
            if (a != b && drop_nyquist && (at_nyquist(sd, a, k[a]) || at_nyquist(sd, b, k[b])))
                continue;
            q += sd->ginv[a * sd->d + b] * k[a] * k[b];
        }
    return q;
}

/* the user spectrum C(k) = 1 / (1 + |k|_g^2) */
static int spectrum(size_t d, const double *k, double *c, void *ud)
{
    const sym_data *sd = ud;
    (void)d;
    *c = 1.0 / (1.0 + qform(sd, k, 0));
    return 0;
}

/* the reference symbol: sqrt of the distributed table's value at k (the
 * average over the Nyquist signs of spectrum(), or the regulator with the
 * Nyquist cross terms dropped), invariant under those sign flips so that
 * the serial multiplier tabulates exactly it */
static int reference(size_t d, const double *k, double *c, void *ud)
{
    const sym_data *sd = ud;
    double v;
    if (sd->regulator) {
        v = exp(-qform(sd, k, 1) / 4.0); /* EXPONENTIAL, lambda = 2 */
    } else {
        size_t nyq[3], r = 0;
        for (size_t a = 0; a < d; a++)
            if (at_nyquist(sd, a, k[a]))
                nyq[r++] = a;
        double sum = 0;
        for (unsigned pat = 0; pat < (1u << r); pat++) {
            double ks[3] = {k[0], k[1], d > 2 ? k[2] : 0};
            for (size_t j = 0; j < r; j++)
                ks[nyq[j]] = fabs(ks[nyq[j]]) * ((pat & (1u << j)) ? -1 : 1);
            sum += 1.0 / (1.0 + qform(sd, ks, 0));
        }
        v = sum / (double)(1u << r);
    }
    *c = sd->sqrt_of ? sqrt(v) : v;
    return 0;
}

/* ---- random fields ------------------------------------------------------------ */

static double space_weight(const berg_space *s)
{
    return berg_space_cell_weight(s);
}

/* fields of the grid on 1..nproc ranks equal each other and the serial
 * algorithm on the same noise */
static void test_field_identity(size_t d, const size_t *n, const double *metric, int regulator)
{
    berg_space *s = grid(d, n, metric);
    size_t N = berg_space_size(s);
    double L[3] = {2 * M_PI, 3.0, 2.5}, ginv[9];
    /* ginv of the metric */
    if (d == 2) {
        double det = metric[0] * metric[3] - metric[1] * metric[2];
        ginv[0] = metric[3] / det;
        ginv[1] = -metric[1] / det;
        ginv[2] = -metric[2] / det;
        ginv[3] = metric[0] / det;
    } else { /* diagonal in the 3-D cases */
        memset(ginv, 0, sizeof ginv);
        for (size_t a = 0; a < 3; a++)
            ginv[a * 3 + a] = 1.0 / metric[a * 3 + a];
    }
    sym_data sd = {s, ginv, d, n, L, regulator, 0};
    double *ref = NULL, *z = NULL;
    if (rank_ == 0) {
        /* serial: T^{-1} sqrt(C) T (z / sqrt(w)) */
        ref = malloc(N * sizeof *ref);
        z = malloc(N * sizeof *z);
        berg_mpi_noise_normals(11, 5, 0, N, z);
        double sw = sqrt(space_weight(s));
        for (size_t i = 0; i < N; i++)
            z[i] /= sw;
        sym_data sq = sd;
        sq.sqrt_of = 1;
        berg_multiplier *m = NULL;
        CHECK_STATUS(berg_multiplier_create(&m, s, BERG_PLAN_ESTIMATE, reference, &sq), BERG_OK,
                     "serial multiplier");
        CHECK_STATUS(berg_multiplier_apply(m, z, ref), BERG_OK, "serial apply");
        berg_multiplier_destroy(m);
    }
    for (int P = 1; P <= nproc_; P++) {
        MPI_Comm c = mg_first_ranks(P);
        if (c == MPI_COMM_NULL)
            continue;
        berg_mpi_field *f = NULL;
        berg_mpi_space *ms = NULL;
        MPI_STATUS(berg_mpi_space_create(&ms, s, c), BERG_OK, "space on %d ranks", P);
        berg_status st =
            regulator ? berg_mpi_field_create_regulator(&f, ms, BERG_REGULATOR_EXPONENTIAL, 2.0,
                                                        BERG_PLAN_ESTIMATE)
                      : berg_mpi_field_create(&f, ms, BERG_PLAN_ESTIMATE, spectrum, &sd);
        MPI_STATUS(st, BERG_OK, "create on %d ranks", P);
        size_t row0 = 0, nrows = 0, cnt = 0, w0, wn;
        berg_mpi_space_local(ms, &nrows, &row0, &cnt);
        slab(n[0], rank_, P, &w0, &wn);
        CHECK((row0 == w0 || nrows == 0) && nrows == wn && cnt == nrows * (N / n[0]),
              "slab of rank %d of %d: rows %zu + %zu", rank_, P, row0, nrows);
        double *loc = malloc((cnt ? cnt : 1) * sizeof *loc), *all = malloc(N * sizeof *all);
        MPI_STATUS(berg_mpi_field_sample(f, 11, 5, loc), BERG_OK, "sample on %d ranks", P);
        mg_gather(c, loc, cnt, all);
        if (rank_ == 0) {
            double mx = tu_max_abs(ref, N), err = tu_max_abs_diff(all, ref, N);
            CHECK(err <= 1e-13 * mx, "%zu-D grid %zux%zu%s%s on %d ranks: field differs from the "
                  "serial algorithm by %g (max %g)",
                  d, n[0], n[1], d > 2 ? "x.." : "", regulator ? " (regulator)" : "", P, err, mx);
        }
        free(loc);
        free(all);
        berg_mpi_field_destroy(f);
        berg_mpi_space_destroy(ms);
        MPI_Comm_free(&c);
    }
    free(ref);
    free(z);
    berg_space_destroy(s);
}

/* chi-square of the modes of 48 samples against E|phi^(k)|^2 = N C(k) / w */
static void test_field_spectrum(void)
{
    const size_t n[3] = {12, 10, 16}, N = 12 * 10 * 16;
    const double metric[9] = {1, 0, 0, 0, 2, 0, 0, 0, 0.5};
    berg_space *s = grid(3, n, metric);
    double L[3] = {2 * M_PI, 3.0, 2.5}, ginv[9] = {1, 0, 0, 0, 0.5, 0, 0, 0, 2};
    sym_data sd = {s, ginv, 3, n, L, 0, 0};
    berg_mpi_field *f = NULL;
    berg_mpi_space *ms = NULL;
    MPI_STATUS(berg_mpi_space_create(&ms, s, MPI_COMM_WORLD), BERG_OK, "space");
    MPI_STATUS(berg_mpi_field_create(&f, ms, BERG_PLAN_ESTIMATE, spectrum, &sd), BERG_OK,
                 "create");
    size_t cnt = 0, rows = 0, off = 0;
    MPI_STATUS(berg_mpi_space_local(ms, &rows, &off, &cnt), BERG_OK, "local");
    double *loc = malloc((cnt ? cnt : 1) * sizeof *loc), *all = malloc(N * sizeof *all);
    const size_t nh = n[2] / 2 + 1;
    fftw_complex *spec = fftw_alloc_complex(n[0] * n[1] * nh);
    fftw_plan p = rank_ == 0 ? fftw_plan_dft_r2c_3d((int)n[0], (int)n[1], (int)n[2], all, spec,
                                                    FFTW_ESTIMATE)
                             : NULL;
    const int M = 48, shells = 6;
    double T = 0, Ts[6] = {0}, dof = 0, dofs[6] = {0}, w = space_weight(s), kmax = 0;
    for (int sample = 0; sample < M; sample++) {
        MPI_STATUS(berg_mpi_field_sample(f, 2026, (unsigned long long)sample, loc), BERG_OK,
                     "sample");
        mg_gather(MPI_COMM_WORLD, loc, cnt, all);
        if (rank_ != 0)
            continue;
        fftw_execute(p);
        /* modes 0 < m_2 < n_2 / 2: each an independent complex Gaussian with
         * E|phi^|^2 = N C / w, so 2 |phi^|^2 / (N C / w) is chi^2 with 2
         * degrees of freedom */
        for (size_t i = 0; i < n[0]; i++)
            for (size_t j = 0; j < n[1]; j++)
                for (size_t l = 1; l < n[2] / 2; l++) {
                    double k[3] = {2 * M_PI * (i <= n[0] / 2 ? (double)i : (double)i - n[0]) / L[0],
                                   2 * M_PI * (j <= n[1] / 2 ? (double)j : (double)j - n[1]) / L[1],
                                   2 * M_PI * (double)l / L[2]};
                    double C, kn = sqrt(qform(&sd, k, 0));
                    reference(3, k, &C, &sd);
                    if (sample == 0)
                        kmax = fmax(kmax, kn);
                    double complex v = spec[(i * n[1] + j) * nh + l];
                    double x = 2 * (creal(v) * creal(v) + cimag(v) * cimag(v)) /
                               ((double)N * C / w);
                    T += x;
                    dof += 2;
                    int sh = (int)(kn / 40.0 * shells);
                    sh = sh >= shells ? shells - 1 : sh;
                    Ts[sh] += x;
                    dofs[sh] += 2;
                }
    }
    if (rank_ == 0) {
        double zt = (T - dof) / sqrt(2 * dof);
        CHECK(fabs(zt) < 5, "chi2 of %g modes x samples: z = %g", dof / 2, zt);
        for (int sh = 0; sh < shells; sh++)
            if (dofs[sh] > 0) {
                double zs = (Ts[sh] - dofs[sh]) / sqrt(2 * dofs[sh]);
                CHECK(fabs(zs) < 5, "chi2 of shell %d (%g modes): z = %g", sh, dofs[sh] / 2, zs);
            }
        CHECK(kmax > 10, "the shells reach |k| = %g", kmax);
        printf("spectrum chi2: z = %.3f over %g modes x samples\n", zt, dof / 2);
        fftw_destroy_plan(p);
    }
    fftw_free(spec);
    free(loc);
    free(all);
    berg_mpi_field_destroy(f);
    berg_mpi_space_destroy(ms);
    berg_space_destroy(s);
}

/* negative at the highest k_1 only (the modes of the last ranks of the
 * transposed layout) */
static int negative_somewhere(size_t d, const double *k, double *c, void *ud)
{
    (void)d;
    (void)ud;
    *c = fabs(k[1]) > 7.0 ? -1.0 : 1.0;
    return 0;
}

static void test_field_refusals(void)
{
    const size_t n2[2] = {8, 8};
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    berg_boundary bc[2] = {BERG_PERIODIC, BERG_NEUMANN};
    berg_space *s = NULL;
    berg_mpi_space *ms = NULL;
    berg_mpi_field *f = NULL;
    berg_mpi_langevin *lf = NULL;
    berg_space_create(&s, 2, n2, lo, hi, bc, NULL);
    berg_mpi_space_create(&ms, s, MPI_COMM_WORLD);
    MPI_STATUS(berg_mpi_langevin_create_regulator(&lf, ms, BERG_REGULATOR_LITIM, 1.0, 1),
                 BERG_ERR_UNSUPPORTED, "Langevin on a Neumann axis");
    CHECK(lf == NULL, "out untouched");
    CHECK(strstr(berg_mpi_last_error(), "not periodic") != NULL, "message: %s",
          berg_mpi_last_error());
    /* a random field on a mixed space: a regulator on a diagonal metric is
     * even in every k_a (R2HC), a callback symbol with one periodic axis too */
    MPI_STATUS(berg_mpi_field_create_regulator(&f, ms, BERG_REGULATOR_LITIM, 10.0,
                                                 BERG_PLAN_ESTIMATE),
                 BERG_OK, "a regulator field on a mixed space");
    berg_mpi_field_destroy(f);
    f = NULL;
    MPI_STATUS(berg_mpi_field_create_regulator(&f, ms, BERG_REGULATOR_LITIM, -1.0,
                                                 BERG_PLAN_ESTIMATE),
                 BERG_ERR_DOMAIN, "lambda < 0");
    MPI_STATUS(berg_mpi_field_create_regulator(&f, ms, BERG_REGULATOR_LITIM, 1.0, 0x4000u),
                 BERG_ERR_DOMAIN, "a flag of another creator");
    MPI_STATUS(berg_mpi_field_create(&f, ms, 0, NULL, NULL), BERG_ERR_NULL, "no spectrum");
    CHECK(f == NULL, "out untouched");
    berg_mpi_space_destroy(ms);
    berg_space_destroy(s);
    /* a negative spectrum on the modes of the last rank only: every rank
     * refuses */
    s = grid(2, n2, NULL);
    berg_mpi_space_create(&ms, s, MPI_COMM_WORLD);
    MPI_STATUS(berg_mpi_field_create(&f, ms, BERG_PLAN_ESTIMATE, negative_somewhere, NULL),
                 BERG_ERR_DOMAIN, "a negative spectrum");
    CHECK(f == NULL, "out untouched");
    berg_mpi_space_destroy(ms);
    berg_space_destroy(s);
}

/* ---- Langevin ------------------------------------------------------------------- */

typedef struct {
    double m2, lambda;
    int fail_rank; /* the rank whose callback fails (-1: none) */
    int my_rank;
} action;

/* dS/dphi of S = w sum (m2/2 phi^2 + lambda/4 phi^4) (w = 1 here) */
static int grad_phi4(size_t n, const double *phi, double *g, void *ud)
{
    const action *a = ud;
    if (a->my_rank == a->fail_rank)
        return 3;
    for (size_t i = 0; i < n; i++)
        g[i] = a->m2 * phi[i] + a->lambda * phi[i] * phi[i] * phi[i];
    return 0;
}

static int regulator_symbol(size_t d, const double *k, double *c, void *ud)
{
    (void)d;
    (void)ud;
    *c = exp(-(k[0] * k[0] + k[1] * k[1] + k[2] * k[2]) / 9.0);
    return 0;
}

static int sqrt_regulator_symbol(size_t d, const double *k, double *c, void *ud)
{
    regulator_symbol(d, k, c, ud);
    *c = sqrt(*c);
    return 0;
}

static void test_langevin(void)
{
    const size_t n[3] = {6, 5, 8}, N = 240;
    double lo[3] = {0, 0, 0}, hi[3] = {6, 5, 8};
    berg_boundary bc[3] = {BERG_PERIODIC, BERG_PERIODIC, BERG_PERIODIC};
    berg_space *s = NULL;
    berg_space_create(&s, 3, n, lo, hi, bc, NULL); /* h = 1: w = 1 */
    const double dt = 0.05;
    const int steps = 5;
    double *phi0 = malloc(N * sizeof *phi0), *ref = malloc(N * sizeof *ref);
    unsigned long long u = 99;
    for (size_t i = 0; i < N; i++)
        phi0[i] = tu_uniform(&u) - 0.5;
    /* one serial step: phi - dt Cdot grad + sqrt(2 dt) T^{-1} sqrt(c) T z */
    if (rank_ == 0) {
        berg_multiplier *mc = NULL, *ms = NULL;
        berg_multiplier_create(&mc, s, BERG_PLAN_ESTIMATE, regulator_symbol, NULL);
        berg_multiplier_create(&ms, s, BERG_PLAN_ESTIMATE, sqrt_regulator_symbol, NULL);
        double *g = malloc(N * sizeof *g), *z = malloc(N * sizeof *z);
        action a = {0.7, 0.3, -1, 0};
        grad_phi4(N, phi0, g, &a);
        berg_multiplier_apply(mc, g, g);
        berg_mpi_noise_normals(31, 0, 0, N, z);
        berg_multiplier_apply(ms, z, z);
        for (size_t i = 0; i < N; i++)
            ref[i] = phi0[i] - dt * g[i] + sqrt(2 * dt) * z[i];
        berg_multiplier_destroy(mc);
        berg_multiplier_destroy(ms);
        free(g);
        free(z);
    }
    double *traj[4] = {NULL};
    for (int P = 1; P <= nproc_; P++) {
        MPI_Comm c = mg_first_ranks(P);
        if (c == MPI_COMM_NULL)
            continue;
        size_t row0, nrows;
        slab(n[0], rank_, P, &row0, &nrows);
        size_t cnt = nrows * 40;
        double *loc = malloc((cnt ? cnt : 1) * sizeof *loc), *all = malloc(N * sizeof *all);
        action a = {0.7, 0.3, -1, rank_};
        berg_mpi_langevin *lf = NULL, *lg = NULL;
        berg_mpi_space *ms = NULL;
        MPI_STATUS(berg_mpi_space_create(&ms, s, c), BERG_OK, "space on %d ranks", P);
        MPI_STATUS(berg_mpi_langevin_create(&lf, ms, 31, regulator_symbol, NULL), BERG_OK,
                     "create on %d ranks", P);
        MPI_STATUS(berg_mpi_langevin_create(&lg, ms, 31, regulator_symbol, NULL), BERG_OK,
                     "second handle");
        memcpy(loc, phi0 + row0 * 40, cnt * sizeof *loc);
        MPI_STATUS(berg_mpi_langevin_step(lf, dt, 1, loc, grad_phi4, &a), BERG_OK, "one step");
        mg_gather(c, loc, cnt, all);
        if (rank_ == 0) {
            double err = tu_max_abs_diff(all, ref, N);
            CHECK(err <= 1e-13 * tu_max_abs(ref, N),
                  "one step on %d ranks differs from the serial algebra by %g", P, err);
        }
        for (int k = 1; k < steps; k++)
            MPI_STATUS(berg_mpi_langevin_step(lf, dt, 1, loc, grad_phi4, &a), BERG_OK, "step");
        /* one call of `steps` steps on the second handle: the same */
        double *loc2 = malloc((cnt ? cnt : 1) * sizeof *loc2);
        memcpy(loc2, phi0 + row0 * 40, cnt * sizeof *loc2);
        MPI_STATUS(berg_mpi_langevin_step(lg, dt, (size_t)steps, loc2, grad_phi4, &a), BERG_OK,
                     "steps");
        CHECK(cnt == 0 || memcmp(loc, loc2, cnt * sizeof *loc) == 0,
              "%d calls of one step equal one call of %d steps", steps, steps);
        mg_gather(c, loc, cnt, all);
        if (rank_ == 0)
            traj[P - 1] = all;
        else
            free(all);
        /* a callback failing on the last rank: every rank fails, state and
         * counter untouched */
        memcpy(loc2, loc, cnt * sizeof *loc);
        action bad = {0.7, 0.3, P - 1, rank_};
        MPI_STATUS(berg_mpi_langevin_step(lf, dt, 2, loc2, grad_phi4, &bad), BERG_ERR_CALLBACK,
                     "callback failing on rank %d of %d", P - 1, P);
        CHECK(cnt == 0 || memcmp(loc, loc2, cnt * sizeof *loc) == 0, "phi untouched");
        if (P > 1 && rank_ == 0)
            CHECK(strstr(berg_mpi_last_error(), "rank") != NULL,
                  "the message names the failing rank: %s", berg_mpi_last_error());
        /* a NaN on the last rank holding rows */
        size_t lr0, lrn;
        int last = P - 1;
        for (; last > 0; last--) {
            slab(n[0], last, P, &lr0, &lrn);
            if (lrn)
                break;
        }
        if (rank_ == last && cnt)
            loc2[cnt - 1] = NAN;
        MPI_STATUS(berg_mpi_langevin_step(lf, dt, 1, loc2, grad_phi4, &a), BERG_ERR_NONFINITE,
                     "NaN on rank %d", last);
        MPI_STATUS(berg_mpi_langevin_step(lf, -dt, 1, loc, grad_phi4, &a), BERG_ERR_TIME,
                     "dt < 0");
        /* the counter did not move: step 6 of lf equals step 6 of lg */
        memcpy(loc2, loc, cnt * sizeof *loc);
        MPI_STATUS(berg_mpi_langevin_step(lf, dt, 1, loc, grad_phi4, &a), BERG_OK, "step 6");
        MPI_STATUS(berg_mpi_langevin_step(lg, dt, 1, loc2, grad_phi4, &a), BERG_OK, "step 6");
        CHECK(cnt == 0 || memcmp(loc, loc2, cnt * sizeof *loc) == 0,
              "failed calls leave the step counter");
        free(loc);
        free(loc2);
        berg_mpi_langevin_destroy(lf);
        berg_mpi_langevin_destroy(lg);
        berg_mpi_space_destroy(ms);
        MPI_Comm_free(&c);
    }
    if (rank_ == 0) {
        for (int P = 2; P <= nproc_; P++) {
            double err = tu_max_abs_diff(traj[P - 1], traj[0], N);
            CHECK(err <= 1e-12 * tu_max_abs(traj[0], N),
                  "%d steps on %d ranks differ from 1 rank by %g", steps, P, err);
        }
        for (int P = 1; P <= nproc_; P++)
            free(traj[P - 1]);
    }
    free(phi0);
    free(ref);
    berg_space_destroy(s);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &nproc_);
    if (rank_ == 0) {
        test_philox();
        test_normals();
    }
    /* odd sizes; fewer rows than ranks (3 rows); a coupled metric */
    const double g3[9] = {1, 0, 0, 0, 2, 0, 0, 0, 0.5}, g2[4] = {1.0, 0.4, 0.4, 2.0};
    test_field_identity(3, (const size_t[]){5, 6, 8}, g3, 0);
    test_field_identity(3, (const size_t[]){3, 7, 6}, g3, 1);
    test_field_identity(2, (const size_t[]){10, 12}, g2, 0);
    test_field_identity(2, (const size_t[]){9, 8}, g2, 1);
    test_field_spectrum();
    test_field_refusals();
    test_langevin();
    int fails = tu_failures, all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int rc = test_summary("test_mpi_field");
    MPI_Finalize();
    return all ? 1 : rc;
}
