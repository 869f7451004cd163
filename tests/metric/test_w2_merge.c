/* The 1-D W2 merge (berg_w2_distance_1d: tiles of cumulative masses,
 * pieces run side by side, two halves) against a slow straightforward
 * reference: a two-pointer walk over the cells with positive mass, CDFs
 * summed (Kahan) and normalized in long double (64-bit significand, 15-bit
 * exponent: no subnormal masses), each segment integrated exactly. Random
 * sizes around the tile (512 cells), batch (8192 steps) and half
 * boundaries, empty cells (scattered, leading, trailing, all but one),
 * masses over 600 decades, subnormal cells, huge and tiny scales, equal,
 * proportional and shifted measures, masses of 1e-310 of the total near the
 * start of a CDF; W_p at order 2 takes the same path
 * and must agree bitwise; the result must not depend on the thread count;
 * calls from several of the caller's threads at once (sharing the scratch
 * block the merge keeps between calls) give the serial bits. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* normalized CDF of p at the cell boundaries, A[k] = 1 from the end of the
 * last cell with mass on */
static void ref_cdf(const double *p, size_t n, long double *A)
{
    long double m = 0.0L, c = 0.0L;
    for (size_t k = 0; k < n; k++) { /* Kahan */
        long double y = (long double)p[k] - c, t = m + y;
        c = (t - m) - y;
        m = t;
    }
    long double s = 0.0L;
    c = 0.0L;
    A[0] = 0.0L;
    for (size_t k = 0; k < n; k++) {
        long double y = (long double)p[k] / m - c, t = s + y;
        c = (t - s) - y;
        s = t;
        A[k + 1] = s;
    }
    size_t last = n;
    while (last > 1 && p[last - 1] == 0.0)
        last--;
    for (size_t k = last; k <= n; k++)
        A[k] = 1.0L;
    for (size_t k = 0; k < last; k++)
        if (A[k] > 1.0L)
            A[k] = 1.0L;
}

static size_t next_mass(const double *p, size_t n, size_t i)
{
    while (i < n && !(p[i] > 0.0))
        i++;
    return i;
}

/* W2 in cell units (the distance, not its square) */
static double ref_w2(const double *p, const double *q, size_t n)
{
    long double *A = malloc((n + 1) * sizeof *A), *B = malloc((n + 1) * sizeof *B);
    ref_cdf(p, n, A);
    ref_cdf(q, n, B);
    size_t i = next_mass(p, n, 0), j = next_mass(q, n, 0);
    long double s = 0.0L, sum = 0.0L;
    while (i < n && j < n) {
        long double ea = A[i + 1], eb = B[j + 1], s1 = ea < eb ? ea : eb;
        long double da = A[i + 1] - A[i], db = B[j + 1] - B[j];
        long double u0 = (long double)i + (s - A[i]) / da, u1 = (long double)i + (s1 - A[i]) / da;
        long double v0 = (long double)j + (s - B[j]) / db, v1 = (long double)j + (s1 - B[j]) / db;
        long double d0 = u0 - v0, d1 = u1 - v1;
        if (s1 > s)
            sum += (s1 - s) * (d0 * d0 + d0 * d1 + d1 * d1) / 3.0L;
        s = s1 > s ? s1 : s;
        if (ea <= eb)
            i = next_mass(p, n, i + 1);
        if (eb <= ea)
            j = next_mass(q, n, j + 1);
    }
    free(A);
    free(B);
    return (double)sqrtl(sum);
}

static unsigned long long seed = 20261206;

/* a measure of kind 0..5 on n cells */
static void fill(double *p, size_t n, int kind)
{
    double c = 0.2 + 0.6 * tu_uniform(&seed), w = 0.02 + 0.3 * tu_uniform(&seed);
    double zeros = kind == 1 ? 0.3 + 0.6 * tu_uniform(&seed) : 0.0;
    for (size_t k = 0; k < n; k++) {
        double x = ((double)k + 0.5) / (double)n, u = tu_uniform(&seed);
        switch (kind) {
        case 0: /* a noisy bump */
            p[k] = u * exp(-0.5 * (x - c) * (x - c) / (w * w));
            break;
        case 1: /* scattered empty cells */
            p[k] = tu_uniform(&seed) < zeros ? 0.0 : u;
            break;
        case 2: /* masses over 600 decades */
            p[k] = pow(10.0, -300.0 + 600.0 * u);
            break;
        case 3: /* subnormal cells among normal ones */
            p[k] = u < 0.5 ? (double)(1 + k % 7) * 4.9406564584124654e-324 : u;
            break;
        case 4: /* leading and trailing empty runs, a block of mass */
            p[k] = x > c - w && x < c + w ? 0.5 + u : 0.0;
            break;
        default: /* one cell of mass, at a random place */
            p[k] = 0.0;
            break;
        }
    }
    int any = 0;
    for (size_t k = 0; k < n; k++)
        any |= p[k] > 0.0;
    if (kind == 5 || !any)
        p[(size_t)(tu_uniform(&seed) * (double)n) % n] = 1.0;
}

static void test_against_reference(void)
{
    static const size_t sizes[] = {1,    2,    3,    5,    8,    63,    64,    65,    511,
                                   512,  513,  1023, 1025, 4096, 8191,  8192,  8193,  12345,
                                   16385, 24577, 40000, 65539};
    static const double scales[] = {1.0, 1e-300, 1e300 / 70000.0, 1e-310};
    double worst = 0.0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        const size_t n = sizes[si];
        berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
        double *p = tu_vec(n), *q = tu_vec(n);
        for (int kp = 0; kp < 6; kp++) {
            int kq = (int)(tu_uniform(&seed) * 6.0) % 6;
            fill(p, n, kp);
            fill(q, n, kq);
            double sc = scales[(si + (size_t)kp) % 4];
            if (kp == 2 || kp == 3 || kq == 2 || kq == 3)
                sc = 1.0; /* (their own range is wide already) */
            if (sc != 1.0) {
                int mp = 0, mq = 0;
                for (size_t k = 0; k < n; k++) {
                    p[k] *= sc;
                    q[k] *= sc;
                    mp |= p[k] > 0.0;
                    mq |= q[k] > 0.0;
                }
                p[0] = mp ? p[0] : sc;
                q[n - 1] = mq ? q[n - 1] : sc;
            }
            double want = ref_w2(p, q, n) / (double)n, w = -1.0, wqp = -1.0, wp = -1.0;
            CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "n %zu kinds %d %d", n, kp, kq);
            CHECK_STATUS(berg_w2_distance_1d(s, q, p, &wqp), BERG_OK, "swapped");
            CHECK_STATUS(berg_wp_distance_1d(s, 2.0, p, q, &wp), BERG_OK, "W_2");
            /* rounding of the CDFs: relative to W2, and absolute of the
             * order of sqrt(eps) h * (a cell) where W2 is near 0 */
            double tol = 1e-12 * want + 1e-15 / (double)n;
            CHECK(fabs(w - want) <= tol, "W2 n %zu kinds %d %d scale %g: %.17g vs reference %.17g",
                  n, kp, kq, sc, w, want);
            CHECK(fabs(wqp - want) <= tol, "W2(q, p) n %zu kinds %d %d: %.17g vs %.17g", n, kp, kq,
                  wqp, want);
            CHECK(wp == w, "W_2 and W2 are the same computation (%.17g, %.17g)", wp, w);
            if (want > 1e-100 && fabs(w - want) / want > worst)
                worst = fabs(w - want) / want;
            /* equal inputs: every segment has D = 0 */
            CHECK_STATUS(berg_w2_distance_1d(s, p, p, &w), BERG_OK, "W2(p, p)");
            CHECK(w == 0.0, "W2(p, p) = %g on %zu cells (kind %d)", w, n, kp);
        }
        berg_space_destroy(s);
        free(p);
        free(q);
    }
    printf("# largest relative difference from the long-double reference (W2 > 1e-100): %.3g\n",
           worst);
}

/* q = 2^k p and q = p shifted by m cells: W2 = 0 and m h exactly */
static void test_closed_forms(void)
{
    static const size_t sizes[] = {7, 600, 9000, 33333};
    for (size_t si = 0; si < 4; si++) {
        const size_t n = sizes[si], m = n / 7;
        berg_space *s = tu_line(n, -2.0, 3.0, BERG_NEUMANN);
        double *p = tu_vec(n), *q = tu_vec(n), w = -1.0;
        for (size_t k = 0; k < n; k++)
            p[k] = k + m < n ? tu_uniform(&seed) * (k % 5 == 0 ? 0.0 : 1.0) + 1e-3 : 0.0;
        for (size_t k = 0; k < n; k++)
            q[k] = ldexp(p[k], 37);
        CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "proportional");
        CHECK(w == 0.0, "W2(p, 2^37 p) = %g on %zu cells", w, n);
        for (size_t k = 0; k < n; k++)
            q[k] = k >= m ? p[k - m] : 0.0;
        CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_OK, "shift");
        CHECK_REL(w, 5.0 * (double)m / (double)n, 1e-12, "W2 of a shift by %zu of %zu cells", m, n);
        berg_space_destroy(s);
        free(p);
        free(q);
    }
}

/* cells of 1e-310 and 1e-306 of q's mass, near the start of its CDF (a
 * subnormal interval there: fuzz_w2 found W2(p, q) = 1.03e-155 and W2(q,
 * p) = 9.87e-156 when their fractions used reciprocals) */
static void test_subnormal_intervals(void)
{
    const size_t n = 12;
    const double lo = -1.0, hi = 1.0, g = 2.6875;
    berg_space *s = NULL;
    CHECK_STATUS(berg_space_create(&s, 1, &n, &lo, &hi, NULL, &g), BERG_OK, "space");
    double p[12] = {0}, q[12] = {0}, wpq = -1.0, wqp = -1.0;
    p[9] = 0.0009765625;
    q[7] = 0.0009765625;
    q[8] = 0.0361328125;
    q[9] = 9.9999999999999999e+306;
    q[11] = 14.75;
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &wpq), BERG_OK, "W2(p, q)");
    CHECK_STATUS(berg_w2_distance_1d(s, q, p, &wqp), BERG_OK, "W2(q, p)");
    double want = ref_w2(p, q, n) * (hi - lo) / (double)n * sqrt(g);
    CHECK(want > 1e-160 && fabs(wpq - want) <= 1e-12 * want && fabs(wqp - want) <= 1e-12 * want,
          "W2 of masses 1e-310 .. 1e-306 of the total: %.17g, %.17g, reference %.17g", wpq, wqp,
          want);
    berg_space_destroy(s);
}

/* the cuts depend on n only: 1, 2 and 3 threads give the same bits */
static void test_threads(void)
{
    const size_t n = 100003;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_PERIODIC);
    double *p = tu_vec(n), *q = tu_vec(n), w[3];
    fill(p, n, 1);
    fill(q, n, 0);
    for (size_t t = 0; t < 3; t++) {
        CHECK_STATUS(berg_set_threads(t + 1), BERG_OK, "threads %zu", t + 1);
        CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w[t]), BERG_OK, "W2 on %zu threads", t + 1);
    }
    CHECK_STATUS(berg_set_threads(1), BERG_OK, "1 thread");
    CHECK(w[0] == w[1] && w[0] == w[2], "W2 on 1, 2, 3 threads: %.17g %.17g %.17g", w[0], w[1],
          w[2]);
    CHECK_REL(w[0], ref_w2(p, q, n) / (double)n, 1e-12, "W2 against the reference");
    berg_space_destroy(s);
    free(p);
    free(q);
}

/* calls from the caller's threads at once, on different sizes (the scratch
 * block kept between calls changes hands and sizes): the serial bits */
#define CONC_THREADS 4
typedef struct conc_job {
    berg_space *s;
    double *p, *q, want;
    int differ;
} conc_job;

static void *conc_worker(void *arg)
{
    conc_job *job = arg;
    for (int r = 0; r < 12; r++) {
        double w = -1.0;
        if (berg_w2_distance_1d(job->s, job->p, job->q, &w) != BERG_OK || w != job->want)
            job->differ++;
    }
    return NULL;
}

static void test_concurrent_calls(void)
{
    static const size_t sizes[CONC_THREADS] = {70001, 513, 40000, 9000};
    conc_job jobs[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    int started[CONC_THREADS];
    for (size_t k = 0; k < CONC_THREADS; k++) {
        const size_t n = sizes[k];
        jobs[k].s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
        jobs[k].p = tu_vec(n);
        jobs[k].q = tu_vec(n);
        fill(jobs[k].p, n, (int)k % 5);
        fill(jobs[k].q, n, 0);
        jobs[k].differ = 0;
        CHECK_STATUS(berg_w2_distance_1d(jobs[k].s, jobs[k].p, jobs[k].q, &jobs[k].want), BERG_OK,
                     "serial W2 on %zu cells", n);
    }
    for (size_t k = 0; k < CONC_THREADS; k++)
        started[k] = pthread_create(&th[k], NULL, conc_worker, &jobs[k]) == 0;
    for (size_t k = 0; k < CONC_THREADS; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            conc_worker(&jobs[k]);
        CHECK(jobs[k].differ == 0, "%d of 12 concurrent calls on %zu cells differ from %.17g",
              jobs[k].differ, sizes[k], jobs[k].want);
        berg_space_destroy(jobs[k].s);
        free(jobs[k].p);
        free(jobs[k].q);
    }
}

/* the refusals of the first pass are check_1d's, and nothing is written */
static void test_refusals(void)
{
    const size_t n = 1500;
    berg_space *s = tu_line(n, 0.0, 1.0, BERG_NEUMANN);
    double *p = tu_vec(n), *q = tu_vec(n), w = 12345.0;
    fill(p, n, 0);
    fill(q, n, 1);
    static const double bad[] = {-1.0, NAN, INFINITY, -4.9406564584124654e-324};
    for (size_t b = 0; b < 4; b++) {
        double keep = q[1234];
        q[1234] = bad[b];
        berg_status st = berg_w2_distance_1d(s, p, q, &w);
        CHECK(st != BERG_OK && w == 12345.0, "q[1234] = %g refused (%d), w2 untouched", bad[b], st);
        CHECK_MESSAGE("berg_w2_distance_1d", "the message names the function");
        q[1234] = keep;
    }
    for (size_t k = 0; k < n; k++)
        p[k] = k % 2 ? 0.0 : 0x1p1020; /* the mass overflows */
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_ERR_MASS, "a mass that overflows");
    CHECK(w == 12345.0, "w2 untouched");
    memset(p, 0, n * sizeof *p);
    CHECK_STATUS(berg_w2_distance_1d(s, p, q, &w), BERG_ERR_MASS, "zero mass");
    CHECK_MESSAGE("p", "names p");
    CHECK(w == 12345.0, "w2 untouched");
    berg_space_destroy(s);
    free(p);
    free(q);
}

int main(void)
{
    test_against_reference();
    test_closed_forms();
    test_subnormal_intervals();
    test_threads();
    test_concurrent_calls();
    test_refusals();
    return test_summary("w2-merge");
}
