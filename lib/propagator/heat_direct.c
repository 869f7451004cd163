/* The direct path of the heat semigroup: separable convolution with the
 * exact discrete kernel of each axis (issue 18).
 *
 * On a diagonal metric e^{t Delta_g} is the tensor product of per-axis
 * operators K_a = T_a^{-1} e^{-t g^{aa} q(k_a)} T_a. K_a is a convolution
 * with the inverse transform of its symbol, taken on the extension that
 * the axis' transform diagonalises: periodic (period n), even about the
 * cell faces (Neumann, DCT-II/III, period 2n) or odd about them
 * (Dirichlet, DST-II/III, period 2n). Its kernel g_m (m in Z, period
 * N = n or 2n) is in closed form:
 *   BERG_SYMBOL_FD  the symbol is 2 pi / h periodic, so g is the lattice
 *                   kernel of the continuous-time random walk,
 *                   c_m = e^{-2s} I_m(2s), s = g^{aa} t / h^2, summed over
 *                   the images m + p N (Miller's backward recurrence gives
 *                   every c_m to relative precision);
 *   continuum       Poisson summation: g_m = h sum_p G(m h + p N h) minus
 *                   the part of the sum beyond the band of N modes, with
 *                   G the Gaussian of variance 2 g^{aa} t. That part's l1
 *                   norm is at most sum_{|j| > N/2} e^{-t g^{aa} k_j^2}:
 *                   the kernel is compact (and the Gaussian exact to it)
 *                   only when that sum is below the 1e-17 threshold, i.e.
 *                   for sigma = sqrt(2 g^{aa} t) / h above ~2.8-3.2 (at
 *                   smaller sigma the spectral cut at the Nyquist mode
 *                   rings with e^{-pi^2 sigma^2 / 2} / (pi m) tails).
 * The kernel is truncated at the half-width W beyond which every entry is
 * below 1e-17 of the peak g_0; it is "compact" when 2 W + 1 <= N (no
 * entry aliases another) and W <= BERG__HDIR_WMAX. Entries of the images
 * p != 0 are then below the threshold too and are dropped with the rest.
 *
 * A pass convolves one axis for the whole batch, out of place: along the
 * contiguous last axis a line is cut into chunks, each copied with its
 * halo (the boundary's extension) into a padded buffer and convolved with
 * the symmetric kernel in register blocks; along another axis whole rows
 * (contiguous blocks of the later axes) are combined axpy-like, in column
 * blocks so that the 2W+1 rows of the window stay in cache. The units of
 * a pass (chunks, column blocks) are split among threads; every output
 * value is summed in the same order whatever the split, so the result does
 * not depend on the thread count.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "propagator/heat_internal.h"

/* relative threshold of the truncation */
#define THRESH 1e-17
/* outputs per chunk of the contiguous pass, columns per block of a strided
 * pass */
#define CHUNK 512
#define COLS 128

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(BERG_NO_CLONES) && !defined(__SANITIZE_THREAD__)
/* the compiler's own vectorisation for AVX-512, AVX2+FMA and the x86-64
 * baseline, chosen at load time (no intrinsics). Not under ThreadSanitizer:
 * the ifunc resolvers run before its runtime is up and crash the process
 * at load. */
#  define CLONES                                                                              \
      __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"),            \
                     optimize("fp-contract=fast")))
#else
#  define CLONES
#endif

/* ---- kernels ---------------------------------------------------------------- */

/* the largest m whose lattice FD kernel entry may reach thr * c_0: from the
 * bound I_m(2s) <= s^m / m! e^{s^2 / (m + 1)} and I_0(2s) >= max(1,
 * e^{2s} / sqrt(4 pi s)) (for 2s >= 1/2); returns WMAX + 1 when larger */
static size_t fd_width_bound(double s)
{
    double x = 2.0 * s;
    double lni0 = x >= 0.5 ? x - 0.5 * log(2.0 * M_PI * x) : 0.0;
    double lnthr = log(THRESH), ls = log(s), lfact = 0.0; /* ln m! (lgamma writes signgam) */
    size_t last = 0;
    for (size_t m = 1; m <= BERG__HDIR_WMAX + 1; m++) {
        lfact += log((double)m);
        double lb = (double)m * ls - lfact + s * s / ((double)m + 1.0) - lni0;
        if (lb >= lnthr)
            last = m;
        else if ((double)m > s + 1.0)
            return last;
    }
    return BERG__HDIR_WMAX + 1;
}

/* c[0..M] = e^{-x} I_m(x) for x = 2 s > 0, relative precision */
static void fd_lattice(double s, size_t M, double *c)
{
    double x = 2.0 * s;
    if (x <= 2.0) {
        /* the series e^{-x} sum_k (x/2)^{2k+m} / (k! (k+m)!): positive terms */
        double e = exp(-x), y = 0.25 * x * x, lead = e; /* e^{-x} (x/2)^m / m! */
        for (size_t m = 0; m <= M; m++) {
            double term = lead, sum = 0.0;
            for (int k = 1; k < 60 && term > 0.0; k++) {
                sum += term;
                term *= y / ((double)k * ((double)k + (double)m));
            }
            c[m] = sum;
            lead *= 0.5 * x / ((double)m + 1.0);
        }
        return;
    }
    /* Miller: I_{m-1} = I_{m+1} + (2m / x) I_m downwards from a start well
     * beyond M, normalised by e^{-x} (I_0 + 2 sum_{m>=1} I_m) = 1 */
    size_t start = 2 * M + 40 + (size_t)sqrt(40.0 * x);
    double up = 0.0, cur = 1e-280, norm = 0.0;
    for (size_t m = start; m >= 1; m--) {
        double down = up + (2.0 * (double)m / x) * cur; /* I_{m-1} */
        norm += 2.0 * cur;
        if (m <= M)
            c[m] = cur;
        up = cur;
        cur = down;
        if (cur > 1e250) {
            up *= 1e-250;
            cur *= 1e-250;
            norm *= 1e-250;
            for (size_t j = m; j <= M; j++)
                c[j] *= 1e-250;
        }
    }
    norm += cur;
    c[0] = cur;
    for (size_t m = 0; m <= M; m++)
        c[m] /= norm;
}

/* the kernel of axis a for time t; kernel->w[a] = WMAX + 1 when it is not
 * compact */
static void axis_kernel(const berg__hdir *e, int a, double t, berg__hdir_kernel *k)
{
    const berg__hdir_axis *ax = &e->ax[a];
    double tau = ax->gaa * t, h = ax->h;
    size_t N = ax->period, none = BERG__HDIR_WMAX + 1;
    double *g = k->g[a];
    k->w[a] = none;
    if (!(tau > 0.0) || !isfinite(tau))
        return;
    if (e->fd) {
        double s = tau / (h * h);
        if (!(s > 0.0) || !isfinite(s))
            return;
        size_t wb = fd_width_bound(s);
        if (wb > BERG__HDIR_WMAX || 2 * wb + 1 > N)
            return;
        fd_lattice(s, wb, g);
        size_t w = 0;
        for (size_t m = 1; m <= wb; m++)
            if (g[m] >= THRESH * g[0])
                w = m;
        k->w[a] = w;
        return;
    }
    /* continuum: the out-of-band mass 2 sum_{j > J} e^{-tau c j^2} with
     * c = (2 pi / (N h))^2 and J the band edge, bounded geometrically */
    double L = (double)N * h, c = (2.0 * M_PI / L) * (2.0 * M_PI / L);
    double J = (double)(N / 2), j1 = J + 1.0;
    double oob = 2.0 * exp(-tau * c * j1 * j1) / (-expm1(-tau * c * (2.0 * j1 + 1.0)));
    double peak = fmin(1.0, h / sqrt(4.0 * M_PI * tau));
    if (!(oob <= THRESH * peak))
        return;
    /* entries exp(-(m h)^2 / (4 tau)) g_0 >= THRESH g_0 */
    double wr = 2.0 * sqrt(tau * -log(THRESH)) / h;
    if (!(wr < (double)BERG__HDIR_WMAX + 1.0))
        return;
    size_t w = (size_t)wr;
    if (2 * w + 1 > N)
        return;
    double g0 = h / sqrt(4.0 * M_PI * tau);
    for (size_t m = 0; m <= w; m++) {
        double z = (double)m * h;
        g[m] = g0 * exp(-z * z / (4.0 * tau));
    }
    k->w[a] = w;
}

void berg__hdir_kernels(const berg__hdir *e, double t, berg__hdir_kernel *k)
{
    k->compact = 1;
    for (int a = 0; a < e->ndim; a++) {
        axis_kernel(e, a, t, k);
        if (k->w[a] > BERG__HDIR_WMAX)
            k->compact = 0;
    }
}

/* ---- convolution loops -------------------------------------------------------- */

/* out[k] = g0 r0[k] + sum_{m=1}^{w} (c1[m] r1[m][k] + c2[m] r2[m][k]), k < len
 * (the rows of the window and their signed coefficients): whole rows at a
 * time, RB columns in registers across the window (GCC's generic vector
 * type, no intrinsics: the plain loop was vectorised across m, with
 * gathers), then axpy-like sweeps for the rest */
#if defined(__GNUC__)
typedef double vrow __attribute__((vector_size(64), aligned(8)));
#  define RB 4
#endif
CLONES static void conv_rows(const double *restrict r0, double g0, const double *const *r1,
                             const double *const *r2, const double *restrict c1,
                             const double *restrict c2, size_t w, size_t len,
                             double *restrict out)
{
    size_t k0 = 0;
#ifdef RB
    const size_t V = sizeof(vrow) / sizeof(double), step = RB * V;
    for (; k0 + step <= len; k0 += step) {
        vrow acc[RB];
        for (size_t b = 0; b < RB; b++) {
            vrow x;
            memcpy(&x, r0 + k0 + b * V, sizeof x);
            acc[b] = g0 * x;
        }
        for (size_t m = 1; m <= w; m++) {
            const double a1 = c1[m], a2 = c2[m];
            const double *p1 = r1[m] + k0, *p2 = r2[m] + k0;
            for (size_t b = 0; b < RB; b++) {
                vrow x, y;
                memcpy(&x, p1 + b * V, sizeof x);
                memcpy(&y, p2 + b * V, sizeof y);
                acc[b] += a1 * x + a2 * y;
            }
        }
        for (size_t b = 0; b < RB; b++)
            memcpy(out + k0 + b * V, &acc[b], sizeof acc[b]);
    }
#endif
    for (size_t k = k0; k < len; k++)
        out[k] = g0 * r0[k];
    for (size_t m = 1; m <= w; m++) {
        const double a1 = c1[m], a2 = c2[m];
        const double *restrict p1 = r1[m], *restrict p2 = r2[m];
        for (size_t k = k0; k < len; k++)
            out[k] += a1 * p1[k] + a2 * p2[k];
    }
}

/* out[i] = g_0 p[i] + sum_{m=1}^{w} g_m (p[i - m] + p[i + m]), i < len, where
 * p = pad + w (pad holds len + 2 w values, in L1): RB vectors of outputs
 * in registers across the kernel, then axpy-like sweeps for the rest */
CLONES static void conv_pad(const double *restrict pad, const double *restrict g, size_t w,
                            size_t len, double *restrict out)
{
    const double *p = pad + w;
    const double g0 = g[0];
    size_t i0 = 0;
#ifdef RB
    const size_t V = sizeof(vrow) / sizeof(double), step = RB * V;
    for (; i0 + step <= len; i0 += step) {
        vrow acc[RB];
        for (size_t b = 0; b < RB; b++) {
            vrow x;
            memcpy(&x, p + i0 + b * V, sizeof x);
            acc[b] = g0 * x;
        }
        for (size_t m = 1; m <= w; m++) {
            const double gm = g[m];
            const double *lo = p + i0 - m, *hi = p + i0 + m;
            for (size_t b = 0; b < RB; b++) {
                vrow x, y;
                memcpy(&x, lo + b * V, sizeof x);
                memcpy(&y, hi + b * V, sizeof y);
                acc[b] += gm * (x + y);
            }
        }
        for (size_t b = 0; b < RB; b++)
            memcpy(out + i0 + b * V, &acc[b], sizeof acc[b]);
    }
#endif
    for (size_t i = i0; i < len; i++)
        out[i] = g0 * p[i];
    for (size_t m = 1; m <= w; m++) {
        const double gm = g[m];
        const double *restrict lo = p - m, *restrict hi = p + m;
        for (size_t i = i0; i < len; i++)
            out[i] += gm * (lo[i] + hi[i]);
    }
}

/* ROWS output rows at once: out[r][k] = sum_j cf[j][r] rows[j][k] over the
 * window of nrow = 2 w + ROWS input rows (zero coefficients outside each
 * output's own window), each loaded vector feeding ROWS accumulators held
 * in registers */
#define ROWS 8
CLONES static void conv_rows_block(const double *const *rows, const double (*cf)[ROWS],
                                   size_t nrow, size_t len, double *const *out)
{
    size_t k0 = 0;
#ifdef RB
    const size_t V = sizeof(vrow) / sizeof(double), step = 2 * V;
    for (; k0 + step <= len; k0 += step) {
        vrow a0[ROWS], a1[ROWS];
        for (size_t r = 0; r < ROWS; r++) {
            a0[r] = (vrow){0};
            a1[r] = (vrow){0};
        }
        for (size_t j = 0; j < nrow; j++) {
            vrow x, y;
            memcpy(&x, rows[j] + k0, sizeof x);
            memcpy(&y, rows[j] + k0 + V, sizeof y);
            for (size_t r = 0; r < ROWS; r++) {
                a0[r] += cf[j][r] * x;
                a1[r] += cf[j][r] * y;
            }
        }
        for (size_t r = 0; r < ROWS; r++) {
            memcpy(out[r] + k0, &a0[r], sizeof a0[r]);
            memcpy(out[r] + k0 + V, &a1[r], sizeof a1[r]);
        }
    }
#endif
    for (size_t r = 0; r < ROWS; r++) {
        double *restrict o = out[r];
        for (size_t k = k0; k < len; k++)
            o[k] = 0.0;
        for (size_t j = 0; j < nrow; j++) {
            const double a = cf[j][r];
            const double *restrict x = rows[j];
            for (size_t k = k0; k < len; k++)
                o[k] += a * x[k];
        }
    }
}

/* index j (|j| < 2 n or so: one wrap or reflection) of the extension of an
 * axis of n cells: the cell it reads and its sign */
static size_t fold(int bc, ptrdiff_t n, ptrdiff_t j, double *sign)
{
    *sign = 1.0;
    if (j >= 0 && j < n)
        return (size_t)j;
    if (bc == BERG_PERIODIC)
        return (size_t)(j < 0 ? j + n : j - n);
    if (bc == BERG_DIRICHLET)
        *sign = -1.0;
    return (size_t)(j < 0 ? -1 - j : 2 * n - 1 - j);
}

/* ---- passes --------------------------------------------------------------------- */

typedef struct pass_ctx {
    const berg__hdir *e;
    int axis;
    size_t w;
    const double *g;
    const double *src;
    double *dst;
    size_t n, inner, lines;   /* axis length, values after it, lines (outer x batch) */
    size_t units_per_line;    /* chunks (contiguous) or column blocks (strided) */
} pass_ctx;

static void pass_contiguous(void *v, size_t begin, size_t end, size_t range)
{
    (void)range;
    const pass_ctx *c = v;
    const int bc = c->e->ax[c->axis].bc;
    const ptrdiff_t n = (ptrdiff_t)c->n, w = (ptrdiff_t)c->w;
    double pad[CHUNK + 2 * BERG__HDIR_WMAX];
    for (size_t u = begin; u < end; u++) {
        size_t line = u / c->units_per_line, chunk = u % c->units_per_line;
        const double *src = c->src + line * c->n;
        double *dst = c->dst + line * c->n;
        ptrdiff_t i0 = (ptrdiff_t)(chunk * CHUNK);
        ptrdiff_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
        ptrdiff_t j0 = i0 - w, j1 = i0 + len + w; /* pad covers [j0, j1) */
        ptrdiff_t a = j0 < 0 ? 0 : j0, b = j1 > n ? n : j1;
        for (ptrdiff_t j = j0; j < a; j++) {
            double s;
            size_t q = fold(bc, n, j, &s);
            pad[j - j0] = s * src[q];
        }
        memcpy(pad + (a - j0), src + a, (size_t)(b - a) * sizeof(double));
        for (ptrdiff_t j = b; j < j1; j++) {
            double s;
            size_t q = fold(bc, n, j, &s);
            pad[j - j0] = s * src[q];
        }
        conv_pad(pad, c->g, c->w, (size_t)len, dst + i0);
    }
}

static void pass_strided(void *v, size_t begin, size_t end, size_t range)
{
    (void)range;
    const pass_ctx *c = v;
    const int bc = c->e->ax[c->axis].bc;
    const ptrdiff_t n = (ptrdiff_t)c->n;
    const size_t w = c->w, inner = c->inner;
    const double *r1[BERG__HDIR_WMAX + 1], *r2[BERG__HDIR_WMAX + 1];
    double c1[BERG__HDIR_WMAX + 1], c2[BERG__HDIR_WMAX + 1];
    const double *rows[2 * BERG__HDIR_WMAX + ROWS];
    double cf[2 * BERG__HDIR_WMAX + ROWS][ROWS];
    double *outs[ROWS];
    for (size_t u = begin; u < end; u++) {
        size_t line = u / c->units_per_line, cb = u % c->units_per_line;
        size_t k0 = cb * COLS, len = inner - k0 < COLS ? inner - k0 : COLS;
        const double *src = c->src + line * c->n * inner + k0;
        double *dst = c->dst + line * c->n * inner + k0;
        ptrdiff_t i = 0;
        for (; i + ROWS <= n; i += ROWS) {
            /* the window rows i - w .. i + ROWS - 1 + w, folded */
            size_t nrow = 2 * w + ROWS;
            for (size_t j = 0; j < nrow; j++) {
                double sg;
                ptrdiff_t jj = i - (ptrdiff_t)w + (ptrdiff_t)j;
                rows[j] = src + fold(bc, n, jj, &sg) * inner;
                for (size_t r = 0; r < ROWS; r++) {
                    ptrdiff_t m = jj - (i + (ptrdiff_t)r);
                    size_t am = (size_t)(m < 0 ? -m : m);
                    cf[j][r] = am <= w ? sg * c->g[am] : 0.0;
                }
            }
            for (size_t r = 0; r < ROWS; r++)
                outs[r] = dst + (size_t)(i + (ptrdiff_t)r) * inner;
            conv_rows_block(rows, (const double(*)[ROWS])cf, nrow, len, outs);
        }
        for (; i < n; i++) {
            for (size_t m = 1; m <= w; m++) {
                double s1, s2;
                size_t q1 = fold(bc, n, i - (ptrdiff_t)m, &s1);
                size_t q2 = fold(bc, n, i + (ptrdiff_t)m, &s2);
                r1[m] = src + q1 * inner;
                r2[m] = src + q2 * inner;
                c1[m] = s1 * c->g[m];
                c2[m] = s2 * c->g[m];
            }
            conv_rows(src + (size_t)i * inner, c->g[0], r1, r2, c1, c2, w, len,
                      dst + (size_t)i * inner);
        }
    }
}

/* dst = K_axis src over the whole batch (src != dst) */
static void run_pass(const berg__hdir *e, const berg__hdir_kernel *k, int axis, size_t nthreads,
                     const double *src, double *dst)
{
    pass_ctx c = {.e = e, .axis = axis, .w = k->w[axis], .g = k->g[axis], .src = src,
                  .dst = dst, .n = e->ax[axis].n};
    size_t inner = 1;
    for (int b = axis + 1; b < e->ndim; b++)
        inner *= e->ax[b].n;
    c.inner = inner;
    c.lines = e->batch * (e->nreal / (c.n * inner));
    if (inner == 1) {
        c.units_per_line = (c.n + CHUNK - 1) / CHUNK;
        berg__parallel_for(c.lines * c.units_per_line, nthreads, 1, pass_contiguous, &c);
    } else {
        c.units_per_line = (inner + COLS - 1) / COLS;
        berg__parallel_for(c.lines * c.units_per_line, nthreads, 1, pass_strided, &c);
    }
}

void berg__hdir_run(const berg__hdir *e, const berg__hdir_kernel *k, const double *in,
                    double *out, double *tmp)
{
    const size_t total = e->batch * e->nreal;
    const int d = e->ndim;
    size_t nt = e->nthreads;
    /* out of place passes ending in out: in -> (tmp, out, tmp, ...) -> out */
    const double *src = in;
    if (d % 2 == 1 && in == out) {
        memcpy(tmp, in, total * sizeof(double));
        src = tmp;
    }
    /* pass j writes bufs[j % 2]; the last one writes out */
    double *bufs[2] = {d % 2 ? out : tmp, d % 2 ? tmp : out};
    for (int a = 0; a < d; a++) {
        double *dst = bufs[a % 2];
        run_pass(e, k, a, nt, src, dst);
        src = dst;
    }
}

/* ---- engine and the measured crossover ------------------------------------------ */

berg_status berg__hdir_init(berg__hdir *e, const berg_space *s, size_t batch, int fd,
                            size_t nthreads, const char *fn)
{
    memset(e, 0, sizeof *e);
    e->ndim = s->ndim;
    e->batch = batch;
    e->nreal = s->size;
    e->fd = fd;
    e->nthreads = nthreads;
    e->usable = s->diagonal;
    for (int a = 0; a < s->ndim; a++) {
        berg__hdir_axis *ax = &e->ax[a];
        ax->n = s->n[a];
        ax->bc = (int)s->bc[a];
        ax->h = s->h[a];
        ax->gaa = s->ginv[a * s->ndim + a];
        ax->period = s->bc[a] == BERG_PERIODIC ? ax->n : 2 * ax->n;
    }
    if (pthread_mutex_init(&e->lock, NULL) != 0)
        return berg__error(BERG_ERR_NOMEM, "%s: cannot initialise a mutex", fn);
    e->lock_live = 1;
    atomic_init(&e->measured, 0);
    return BERG_OK;
}

void berg__hdir_free(berg__hdir *e)
{
    if (e->lock_live)
        pthread_mutex_destroy(&e->lock);
    e->lock_live = 0;
}

/* the clock of the measurement: the calling thread's CPU time when it runs
 * alone (other processes' load does not count), else wall time */
static double now_seconds(const berg__hdir *e)
{
    struct timespec ts;
    clock_gettime(e->nthreads <= 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* seconds of one pass of axis a at half-width w */
static double time_pass(const berg__hdir *e, int a, size_t w, const double *src, double *dst)
{
    berg__hdir_kernel k;
    memset(&k, 0, sizeof k);
    for (size_t m = 0; m <= w; m++)
        k.g[a][m] = 1.0 / (double)(2 * w + 1);
    k.w[a] = w;
    double t0 = now_seconds(e);
    run_pass(e, &k, a, e->nthreads, src, dst);
    return now_seconds(e) - t0;
}

/* the model: the spectral step's time, and per axis the time of a pass as
 * a + b (2 w + 1) from passes at half-widths W1 and W2; the least of 3
 * interleaved rounds of each; measured once per engine. The cost per tap
 * grows with the width (the window leaves L1), so the line through the two
 * points overestimates between them, where the crossovers fall: the choice
 * errs towards the spectral path. */
#define W1 4
#define W2 40
/* The measurements of the process, by grid: a second handle on the same
 * grid (shape, boundaries, batch, threads) takes the first one's, so that
 * handles on one grid choose alike (as FFTW's wisdom gives them one plan)
 * and results in one process do not depend on which handle made them. */
#define CACHE_MAX 64
typedef struct cache_entry {
    int ndim, bc[BERG_MAX_RANK];
    size_t n[BERG_MAX_RANK], batch, nthreads;
    double fft_seconds, pass_a[BERG_MAX_RANK], pass_b[BERG_MAX_RANK];
} cache_entry;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[CACHE_MAX];
static size_t cache_used;

static int same_grid(const cache_entry *c, const berg__hdir *e)
{
    if (c->ndim != e->ndim || c->batch != e->batch || c->nthreads != e->nthreads)
        return 0;
    for (int a = 0; a < e->ndim; a++)
        if (c->n[a] != e->ax[a].n || c->bc[a] != e->ax[a].bc)
            return 0;
    return 1;
}

/* e's model from the cache entry of its grid (1), or none there (0);
 * under cache_lock */
static int cache_take(berg__hdir *e)
{
    for (size_t i = 0; i < cache_used; i++)
        if (same_grid(&cache[i], e)) {
            e->fft_seconds = cache[i].fft_seconds;
            memcpy(e->pass_a, cache[i].pass_a, sizeof e->pass_a);
            memcpy(e->pass_b, cache[i].pass_b, sizeof e->pass_b);
            return 1;
        }
    return 0;
}

static int cache_get(berg__hdir *e)
{
    pthread_mutex_lock(&cache_lock);
    int found = cache_take(e);
    pthread_mutex_unlock(&cache_lock);
    return found;
}

/* e's measured model into the cache, unless the grid is there (another
 * handle measured it meanwhile: e takes that one) or the cache is full */
static void cache_put(berg__hdir *e)
{
    pthread_mutex_lock(&cache_lock);
    if (!cache_take(e) && cache_used < CACHE_MAX) {
        cache_entry *c = &cache[cache_used++];
        memset(c, 0, sizeof *c);
        c->ndim = e->ndim;
        c->batch = e->batch;
        c->nthreads = e->nthreads;
        for (int a = 0; a < e->ndim; a++) {
            c->n[a] = e->ax[a].n;
            c->bc[a] = e->ax[a].bc;
        }
        c->fft_seconds = e->fft_seconds;
        memcpy(c->pass_a, e->pass_a, sizeof c->pass_a);
        memcpy(c->pass_b, e->pass_b, sizeof c->pass_b);
    }
    pthread_mutex_unlock(&cache_lock);
}

static berg_status measure(const berg__hdir *ec, berg__hdir_fft_fn fft, void *fft_ctx,
                           const char *fn)
{
    berg__hdir *e = (berg__hdir *)(uintptr_t)ec;
    if (atomic_load_explicit(&e->measured, memory_order_acquire))
        return BERG_OK;
    pthread_mutex_lock(&e->lock);
    berg_status st = BERG_OK;
    if (!atomic_load_explicit(&e->measured, memory_order_relaxed) && cache_get(e))
        atomic_store_explicit(&e->measured, 1, memory_order_release);
    if (!atomic_load_explicit(&e->measured, memory_order_relaxed)) {
        size_t total = e->batch * e->nreal;
        double *buf = berg__alloc(2 * total, sizeof(double), fn);
        if (buf == NULL) {
            st = berg_last_status();
        } else {
            memset(buf, 0, 2 * total * sizeof(double));
            for (size_t i = 0; i < total; i++)
                buf[i] = (double)(i % 7) - 3.0;
            double tf = INFINITY, p1[BERG_MAX_RANK], p2[BERG_MAX_RANK];
            size_t w1[BERG_MAX_RANK], w2[BERG_MAX_RANK];
            for (int a = 0; a < e->ndim; a++) {
                /* widths whose 2 w + 1 taps fit one period */
                size_t wmax = (e->ax[a].period - 1) / 2;
                p1[a] = p2[a] = INFINITY;
                w1[a] = wmax < W1 ? wmax : W1;
                w2[a] = wmax < W2 ? wmax : W2;
            }
            /* a first spectral step outside the rounds: it may allocate */
            st = fft(fft_ctx, fn);
            for (int r = 0; r < 3 && st == BERG_OK; r++) {
                double t0 = now_seconds(e);
                st = fft(fft_ctx, fn);
                tf = fmin(tf, now_seconds(e) - t0);
                for (int a = 0; a < e->ndim && st == BERG_OK; a++) {
                    p1[a] = fmin(p1[a], time_pass(e, a, w1[a], buf, buf + total));
                    if (w2[a] > w1[a])
                        p2[a] = fmin(p2[a], time_pass(e, a, w2[a], buf, buf + total));
                }
            }
            if (st == BERG_OK) {
                for (int a = 0; a < e->ndim; a++) {
                    double b = w2[a] > w1[a] ? fmax(0.0, (p2[a] - p1[a]) /
                                                             (2.0 * (double)(w2[a] - w1[a])))
                                             : 0.0;
                    e->pass_b[a] = b;
                    e->pass_a[a] = fmax(0.0, p1[a] - (2.0 * (double)w1[a] + 1.0) * b);
                }
                e->fft_seconds = tf;
            }
            berg__free(buf);
        }
        if (st == BERG_OK) {
            cache_put(e);
            atomic_store_explicit(&e->measured, 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&e->lock);
    return st;
}

double berg__hdir_predict(const berg__hdir *e, const berg__hdir_kernel *k)
{
    double p = 0.0;
    for (int a = 0; a < e->ndim; a++)
        p += e->pass_a[a] + e->pass_b[a] * (2.0 * (double)k->w[a] + 1.0);
    return p;
}

berg_status berg__hdir_choose(const berg__hdir *e, const berg__hdir_kernel *k, int force,
                              berg__hdir_fft_fn fft, void *fft_ctx, int *use, const char *fn)
{
    *use = 0;
    if (!e->usable || !k->compact || force < 0)
        return BERG_OK;
    if (force > 0) {
        *use = 1;
        return BERG_OK;
    }
    BERG_TRY(measure(e, fft, fft_ctx, fn));
    /* a margin for the measurement's noise: the direct path only when it
     * is predicted at least 15% faster (near the crossover the two cost
     * about the same and the spectral path runs) */
    *use = berg__hdir_predict(e, k) < 0.85 * e->fft_seconds;
    return BERG_OK;
}
