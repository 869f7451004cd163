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
 * A job convolves for the whole batch, out of place: the last two axes
 * together, in bands of rows whose values along the contiguous axis stay
 * in cache for the other (run_band); each axis before them in a pass of
 * its own over column blocks (pass_strided); a 1-D space in chunks of its
 * line (pass_contiguous). The units of a job (strips and row segments,
 * column blocks, chunks) are split among threads; every output value is
 * summed in the same order whatever the split, so the result does not
 * depend on the thread count.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "propagator/heat_internal.h"

/* relative threshold of the truncation */
#define THRESH 1e-17

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

/* Every pass works on panels: LANES independent sequences side by side, a
 * panel row holding entry j of each (two vectors of 8), with the halo of
 * the boundary's extension above and below. Along the contiguous axis the
 * lanes are LANES chunks of lines, put side by side by 8x8 transposes;
 * along another axis they are LANES adjacent columns, copied row by row
 * (reading the window straight from the array would put its rows, one
 * array row apart, in the same few L1 sets).
 *
 * The kernel is symmetric: out_i = g_0 x_i + sum_m g_m (x_{i-m} + x_{i+m}),
 * an add and an FMA per tap pair, which run on different pipes. Four
 * outputs i..i+3 at once share their loads: tap m needs x_{i-m} and
 * x_{i+3+m} only, the other six rows are the last steps' loads. Per output
 * vector and tap pair that is half a load, an add and an FMA, against the
 * two FMAs of the plain form. */
#define LANES 16
/* outputs of one panel: a chunk of a line, or rows of a column block */
#define CH 256
/* panels of a strided pass' column block: its rows are copied from the
 * array GROUP * LANES values at a time */
#define GROUP 8

#if defined(__GNUC__)
typedef double vrow __attribute__((vector_size(64), aligned(8)));
#  define VW 8
#  if defined(__has_builtin)
#    if __has_builtin(__builtin_shufflevector)
#      define HAVE_SHUFFLE 1
#    endif
#  endif
#endif

/* unaligned vector loads and stores (macros: a function returning a vector
 * would have the baseline ABI outside the clones) */
#  define VLD(v, p) memcpy(&(v), (p), sizeof(vrow))
#  define VST(p, v) memcpy((p), &(v), sizeof(vrow))

/* out rows i < nout (row i at out + i * os, LANES values) of the symmetric
 * kernel g[0..w] over the panel rows x_j = P + (j + w) * LANES,
 * -w <= j < nout + w */
/* one tap gm of the eight outputs (four rows of two vectors): the pairs
 * (x_k, y_k) of the first vector's rows k, (u_k, v_k) of the second's */
#define TAPS(gm, x0, y0, x1, y1, x2, y2, x3, y3, u0, v0, u1, v1, u2, v2, u3, v3)             \
    do {                                                                                  \
        o0 += (gm) * ((x0) + (y0));                                                       \
        o1 += (gm) * ((x1) + (y1));                                                       \
        o2 += (gm) * ((x2) + (y2));                                                       \
        o3 += (gm) * ((x3) + (y3));                                                       \
        p0 += (gm) * ((u0) + (v0));                                                       \
        p1 += (gm) * ((u1) + (v1));                                                       \
        p2 += (gm) * ((u2) + (v2));                                                       \
        p3 += (gm) * ((u3) + (v3));                                                       \
    } while (0)

CLONES static void conv_panel(const double *restrict P, const double *restrict g, size_t w,
                              size_t nout, double *restrict out, size_t os)
{
    const double *x = P + w * LANES;
    const double g0 = g[0];
    size_t i = 0;
#ifdef VW
    /* both vectors of a row in one sweep: eight accumulators, enough
     * independent FMA chains for two FMA pipes of latency 4 */
    for (; i + 4 <= nout; i += 4) {
        const double *c = x + i * LANES;
        vrow x0, x1, x2, x3, y0, y1, y2, y3;
        VLD(x0, c);
        VLD(x1, c + LANES);
        VLD(x2, c + 2 * LANES);
        VLD(x3, c + 3 * LANES);
        VLD(y0, c + VW);
        VLD(y1, c + LANES + VW);
        VLD(y2, c + 2 * LANES + VW);
        VLD(y3, c + 3 * LANES + VW);
        vrow o0 = g0 * x0, o1 = g0 * x1, o2 = g0 * x2, o3 = g0 * x3;
        vrow p0 = g0 * y0, p1 = g0 * y1, p2 = g0 * y2, p3 = g0 * y3;
        /* before step m: a1 = x_{1-m}, a2 = x_{2-m}, a3 = x_{3-m},
         * b1 = x_{2+m}, b2 = x_{1+m}, b3 = x_m (c, d: the second vector) */
        vrow a1 = x0, a2 = x1, a3 = x2, b1 = x3, b2 = x2, b3 = x1;
        vrow c1 = y0, c2 = y1, c3 = y2, d1 = y3, d2 = y2, d3 = y1;
        const double *lo = c - LANES, *hi = c + 4 * LANES;
        size_t m = 1;
        /* three steps at a time, the roles of the last loads renamed rather
         * than moved (the same sums in the same order as one at a time) */
        for (; m + 3 <= w + 1; m += 3, lo -= 3 * LANES, hi += 3 * LANES) {
            const double g1 = g[m], g2 = g[m + 1], g3 = g[m + 2];
            vrow A1, A2, A3, B1, B2, B3, C1, C2, C3, D1, D2, D3;
            VLD(A1, lo);
            VLD(B1, hi);
            VLD(C1, lo + VW);
            VLD(D1, hi + VW);
            VLD(A2, lo - LANES);
            VLD(B2, hi + LANES);
            VLD(C2, lo - LANES + VW);
            VLD(D2, hi + LANES + VW);
            VLD(A3, lo - 2 * LANES);
            VLD(B3, hi + 2 * LANES);
            VLD(C3, lo - 2 * LANES + VW);
            VLD(D3, hi + 2 * LANES + VW);
            TAPS(g1, A1, b3, a1, b2, a2, b1, a3, B1, C1, d3, c1, d2, c2, d1, c3, D1);
            TAPS(g2, A2, b2, A1, b1, a1, B1, a2, B2, C2, d2, C1, d1, c1, D1, c2, D2);
            TAPS(g3, A3, b1, A2, B1, A1, B2, a1, B3, C3, d1, C2, D1, C1, D2, c1, D3);
            a1 = A3;
            a2 = A2;
            a3 = A1;
            b1 = B3;
            b2 = B2;
            b3 = B1;
            c1 = C3;
            c2 = C2;
            c3 = C1;
            d1 = D3;
            d2 = D2;
            d3 = D1;
        }
        for (; m <= w; m++, lo -= LANES, hi += LANES) {
            const double gm = g[m];
            vrow A, B, C, D;
            VLD(A, lo);
            VLD(B, hi);
            VLD(C, lo + VW);
            VLD(D, hi + VW);
            TAPS(gm, A, b3, a1, b2, a2, b1, a3, B, C, d3, c1, d2, c2, d1, c3, D);
            a3 = a2;
            a2 = a1;
            a1 = A;
            b3 = b2;
            b2 = b1;
            b1 = B;
            c3 = c2;
            c2 = c1;
            c1 = C;
            d3 = d2;
            d2 = d1;
            d1 = D;
        }
        VST(out + i * os, o0);
        VST(out + (i + 1) * os, o1);
        VST(out + (i + 2) * os, o2);
        VST(out + (i + 3) * os, o3);
        VST(out + i * os + VW, p0);
        VST(out + (i + 1) * os + VW, p1);
        VST(out + (i + 2) * os + VW, p2);
        VST(out + (i + 3) * os + VW, p3);
    }
    for (; i < nout; i++) {
        const double *c = x + i * LANES;
        for (size_t v = 0; v < LANES; v += VW) {
            vrow o, lo, hi;
            VLD(o, c + v);
            o *= g0;
            for (size_t m = 1; m <= w; m++) {
                VLD(lo, c + v - m * LANES);
                VLD(hi, c + v + m * LANES);
                o += g[m] * (lo + hi);
            }
            VST(out + i * os + v, o);
        }
    }
#else
    for (; i < nout; i++) {
        const double *c = x + i * LANES;
        for (size_t l = 0; l < LANES; l++) {
            double o = g0 * c[l];
            for (size_t m = 1; m <= w; m++)
                o += g[m] * (c[l - m * LANES] + c[l + m * LANES]);
            out[i * os + l] = o;
        }
    }
#endif
}

/* The contiguous axis' second form, for narrow kernels: a chunk of a line
 * with its halo copied to a buffer in L1, convolved in place along the
 * line with unaligned loads: two loads per output vector and tap pair
 * (the panels take half a load) but no transposes, which cost more than
 * that for a few taps. The crossover picks the form per grid.
 *
 * out[i] = g_0 p[i] + sum_{m=1}^{w} g_m (p[i - m] + p[i + m]), i < len, where
 * p = pad + w (pad holds len + 2 w values): PAD_RB vectors of outputs
 * in registers across the kernel, then axpy-like sweeps for the rest */
#define PAD_RB 4
#define PAD_CH 512
CLONES static void conv_pad(const double *restrict pad, const double *restrict g, size_t w,
                            size_t len, double *restrict out)
{
    const double *p = pad + w;
    const double g0 = g[0];
    size_t i0 = 0;
#ifdef VW
    const size_t V = VW, step = PAD_RB * V;
    for (; i0 + step <= len; i0 += step) {
        vrow acc[PAD_RB];
        for (size_t b = 0; b < PAD_RB; b++) {
            vrow x;
            memcpy(&x, p + i0 + b * V, sizeof x);
            acc[b] = g0 * x;
        }
        for (size_t m = 1; m <= w; m++) {
            const double gm = g[m];
            const double *lo = p + i0 - m, *hi = p + i0 + m;
            for (size_t b = 0; b < PAD_RB; b++) {
                vrow x, y;
                memcpy(&x, lo + b * V, sizeof x);
                memcpy(&y, hi + b * V, sizeof y);
                acc[b] += gm * (x + y);
            }
        }
        for (size_t b = 0; b < PAD_RB; b++)
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

/* index j (-n <= j < 2 n: one wrap or reflection) of the extension of an
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

/* r0..r7 <- their transpose (8 x 8: element e of rk <-> element k of re),
 * named variables so that they stay in registers */
#ifdef HAVE_SHUFFLE
#  define SV __builtin_shufflevector
#  define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                          \
      do {                                                                                    \
          vrow t0_ = SV(r0, r1, 0, 8, 2, 10, 4, 12, 6, 14), t1_ = SV(r0, r1, 1, 9, 3, 11, 5, 13, 7, 15); \
          vrow t2_ = SV(r2, r3, 0, 8, 2, 10, 4, 12, 6, 14), t3_ = SV(r2, r3, 1, 9, 3, 11, 5, 13, 7, 15); \
          vrow t4_ = SV(r4, r5, 0, 8, 2, 10, 4, 12, 6, 14), t5_ = SV(r4, r5, 1, 9, 3, 11, 5, 13, 7, 15); \
          vrow t6_ = SV(r6, r7, 0, 8, 2, 10, 4, 12, 6, 14), t7_ = SV(r6, r7, 1, 9, 3, 11, 5, 13, 7, 15); \
          vrow u0_ = SV(t0_, t2_, 0, 1, 8, 9, 4, 5, 12, 13), u2_ = SV(t0_, t2_, 2, 3, 10, 11, 6, 7, 14, 15); \
          vrow u1_ = SV(t1_, t3_, 0, 1, 8, 9, 4, 5, 12, 13), u3_ = SV(t1_, t3_, 2, 3, 10, 11, 6, 7, 14, 15); \
          vrow u4_ = SV(t4_, t6_, 0, 1, 8, 9, 4, 5, 12, 13), u6_ = SV(t4_, t6_, 2, 3, 10, 11, 6, 7, 14, 15); \
          vrow u5_ = SV(t5_, t7_, 0, 1, 8, 9, 4, 5, 12, 13), u7_ = SV(t5_, t7_, 2, 3, 10, 11, 6, 7, 14, 15); \
          r0 = SV(u0_, u4_, 0, 1, 2, 3, 8, 9, 10, 11);                                        \
          r4 = SV(u0_, u4_, 4, 5, 6, 7, 12, 13, 14, 15);                                      \
          r1 = SV(u1_, u5_, 0, 1, 2, 3, 8, 9, 10, 11);                                        \
          r5 = SV(u1_, u5_, 4, 5, 6, 7, 12, 13, 14, 15);                                      \
          r2 = SV(u2_, u6_, 0, 1, 2, 3, 8, 9, 10, 11);                                        \
          r6 = SV(u2_, u6_, 4, 5, 6, 7, 12, 13, 14, 15);                                      \
          r3 = SV(u3_, u7_, 0, 1, 2, 3, 8, 9, 10, 11);                                        \
          r7 = SV(u3_, u7_, 4, 5, 6, 7, 12, 13, 14, 15);                                      \
      } while (0)
#elif defined(VW)
#  define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                          \
      do {                                                                                    \
          vrow a_[8] = {r0, r1, r2, r3, r4, r5, r6, r7}, b_[8];                               \
          for (int k_ = 0; k_ < 8; k_++)                                                      \
              for (int e_ = 0; e_ < 8; e_++)                                                  \
                  b_[k_][e_] = a_[e_][k_];                                                    \
          r0 = b_[0], r1 = b_[1], r2 = b_[2], r3 = b_[3];                                     \
          r4 = b_[4], r5 = b_[5], r6 = b_[6], r7 = b_[7];                                     \
      } while (0)
#endif

/* the lanes of a contiguous-axis panel: lane l reads panel rows j0 .. j0 + 7
 * from line[l] + first[l] + j0 when that block lies inside its line
 * (dlo <= j0 < dhi),
 * else from in[l] + j0 (a staged copy of the extension), and writes len[l]
 * outputs to dst[l] + i0[l] */
typedef struct lanes {
    size_t nl;                        /* lanes in use */
    const double *in[LANES];          /* staged extension (edge blocks) */
    const double *line[LANES];        /* the line */
    ptrdiff_t first[LANES];           /* i0 - w: its entry at panel row 0 */
    size_t dlo[LANES], dhi[LANES];    /* rows [dlo, dhi) read from line */
    double *dst[LANES];
    ptrdiff_t i0[LANES];
    size_t len[LANES];
} lanes;

/* panel rows from .. rows - 1 (multiples of 8) from the lanes' inputs
 * (every lane's, unused ones too, holds rows values): the blocks that every lane
 * of a group reads from its line (edges = 0) or the others (edges = 1).
 * The first call reads the lines before their edges are staged, which
 * would otherwise take the first touch of each line's ends from memory. */
CLONES static void panel_gather(const lanes *L, size_t from, size_t rows, int edges,
                                double *restrict P)
{
#ifdef VW
    for (size_t j0 = from; j0 < rows; j0 += 8)
        for (size_t lg = 0; lg < LANES; lg += 8) {
            const double *s[8];
            int inner = 1;
            for (size_t k = 0; k < 8; k++) {
                size_t l = lg + k;
                int in_line = j0 >= L->dlo[l] && j0 < L->dhi[l];
                inner &= in_line;
                s[k] = in_line ? L->line[l] + (L->first[l] + (ptrdiff_t)j0) : L->in[l] + j0;
            }
            if (inner == edges)
                continue;
            vrow r0, r1, r2, r3, r4, r5, r6, r7;
            VLD(r0, s[0]);
            VLD(r1, s[1]);
            VLD(r2, s[2]);
            VLD(r3, s[3]);
            VLD(r4, s[4]);
            VLD(r5, s[5]);
            VLD(r6, s[6]);
            VLD(r7, s[7]);
            TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7);
            double *d = P + j0 * LANES + lg;
            VST(d, r0);
            VST(d + LANES, r1);
            VST(d + 2 * LANES, r2);
            VST(d + 3 * LANES, r3);
            VST(d + 4 * LANES, r4);
            VST(d + 5 * LANES, r5);
            VST(d + 6 * LANES, r6);
            VST(d + 7 * LANES, r7);
        }
#else
    if (!edges) /* all of it once the edges are staged */
        return;
    for (size_t j = from; j < rows; j++)
        for (size_t l = 0; l < LANES; l++) {
            size_t j0 = j & ~(size_t)7;
            P[j * LANES + l] = j0 >= L->dlo[l] && j0 < L->dhi[l]
                                   ? L->line[l][L->first[l] + (ptrdiff_t)j]
                                   : L->in[l][j];
        }
#endif
}

#ifdef VW
/* out[k] = the 8 values of lane k of the 8 rows of Q from q (the rows
 * LANES apart): entries j .. j + 7 of that lane's sequence */
#  define Q_LANES(q, out)                                                                     \
      do {                                                                                    \
          vrow r0_, r1_, r2_, r3_, r4_, r5_, r6_, r7_;                                        \
          VLD(r0_, (q));                                                                      \
          VLD(r1_, (q) + LANES);                                                              \
          VLD(r2_, (q) + 2 * LANES);                                                          \
          VLD(r3_, (q) + 3 * LANES);                                                          \
          VLD(r4_, (q) + 4 * LANES);                                                          \
          VLD(r5_, (q) + 5 * LANES);                                                          \
          VLD(r6_, (q) + 6 * LANES);                                                          \
          VLD(r7_, (q) + 7 * LANES);                                                          \
          TRANSPOSE8(r0_, r1_, r2_, r3_, r4_, r5_, r6_, r7_);                                 \
          (out)[0] = r0_, (out)[1] = r1_, (out)[2] = r2_, (out)[3] = r3_;                     \
          (out)[4] = r4_, (out)[5] = r5_, (out)[6] = r6_, (out)[7] = r7_;                     \
      } while (0)
#endif

/* outputs j .. j + 7 of every lane from the 8 rows of Q back into the
 * lines (those below each lane's length) */
CLONES static void panel_scatter(const lanes *L, const double *restrict Q, size_t j)
{
#ifdef VW
    for (size_t lg = 0; lg < L->nl; lg += 8) {
        vrow out[8];
        Q_LANES(Q + lg, out);
        for (size_t k = 0; k < 8 && lg + k < L->nl; k++) {
            size_t l = lg + k;
            if (j >= L->len[l])
                continue;
            double *d = L->dst[l] + L->i0[l] + j;
            if (L->len[l] - j >= 8)
                VST(d, out[k]);
            else
                memcpy(d, &out[k], (L->len[l] - j) * sizeof(double));
        }
    }
#else
    for (size_t l = 0; l < L->nl; l++)
        for (size_t k = 0; k < 8 && j + k < L->len[l]; k++)
            L->dst[l][L->i0[l] + j + k] = Q[k * LANES + l];
#endif
}

/* outputs j .. j + 7 (j a multiple of 8) of lanes l < nl from the 8 rows
 * of Q into the band's column panels, times sg[l]: lane l's values to
 * row[l] of panel j / LANES (row[l]: that row of panel 0; panels tps
 * doubles apart) */
CLONES static void band_scatter(size_t nl, const double *sg, double *const *row,
                                const double *restrict Q, size_t j, size_t tps)
{
    const size_t off = (j / LANES) * tps + j % LANES;
#ifdef VW
    for (size_t lg = 0; lg < nl; lg += 8) {
        vrow out[8];
        Q_LANES(Q + lg, out);
        for (size_t k = 0; k < 8 && lg + k < nl; k++) {
            vrow o = out[k];
            if (sg[lg + k] != 1.0)
                o *= sg[lg + k];
            VST(row[lg + k] + off, o);
        }
    }
#else
    for (size_t l = 0; l < nl; l++)
        for (size_t k = 0; k < 8; k++)
            row[l][off + k] = sg[l] * Q[k * LANES + l];
#endif
}

/* Panels whose windows for 8 output rows ((8 + 2 w) rows of LANES values)
 * stay in L1 together: the passes that store whole rows sweep the output
 * rows with that many panels at a time (all of a column block's or a
 * strip's for narrow kernels, where the rows' stores cost more than the
 * windows' loads from L2; a few for wide ones, where it is the other way
 * round) */
#define L1_PANEL_BYTES (32 * 1024)
static size_t panel_group(size_t w)
{
    size_t g = L1_PANEL_BYTES / ((8 + 2 * w) * LANES * sizeof(double));
    return g > 0 ? g : 1;
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
    size_t per_line;          /* chunks (contiguous) or column blocks x row chunks */
    size_t units;
    int pad;                  /* contiguous axis: the pad form */
    double *panels;           /* a thread's panels per range */
    size_t panel_doubles;     /* per range */
    size_t panel_stride;      /* doubles of one panel */
    size_t panel_count;       /* panels per range */
    int scan;                 /* accumulate the input's check (panels_copy) */
} pass_ctx;

/* stage[j] = entry first + j of the extension of line src (n cells) for
 * the rows j < rows of the 8-row blocks outside [dlo, dhi); zero beyond one
 * period on either side */
/* out[i] = entry p + i (i < cnt) of the extension of line src (n cells),
 * as fold gives it (sign times the cell), zero beyond one period on either
 * side: in runs, each a copy, a wrap or a reflection */
static void ext_copy(const double *src, int bc, ptrdiff_t n, ptrdiff_t p, size_t cnt, double *out)
{
    const ptrdiff_t end = p + (ptrdiff_t)cnt;
    const double sg = bc == BERG_DIRICHLET ? -1.0 : 1.0;
    while (p < end) {
        ptrdiff_t q;
        if (p < -n) {
            q = end < -n ? end : -n;
            memset(out, 0, (size_t)(q - p) * sizeof(double));
        } else if (p < 0) {
            q = end < 0 ? end : 0;
            if (bc == BERG_PERIODIC)
                memcpy(out, src + p + n, (size_t)(q - p) * sizeof(double));
            else
                for (ptrdiff_t j = p; j < q; j++)
                    out[j - p] = sg * src[-1 - j];
        } else if (p < n) {
            q = end < n ? end : n;
            memcpy(out, src + p, (size_t)(q - p) * sizeof(double));
        } else if (p < 2 * n) {
            q = end < 2 * n ? end : 2 * n;
            if (bc == BERG_PERIODIC)
                memcpy(out, src + p - n, (size_t)(q - p) * sizeof(double));
            else
                for (ptrdiff_t j = p; j < q; j++)
                    out[j - p] = sg * src[2 * n - 1 - j];
        } else {
            q = end;
            memset(out, 0, (size_t)(q - p) * sizeof(double));
        }
        out += q - p;
        p = q;
    }
}

static void stage_edges(const double *src, int bc, ptrdiff_t n, ptrdiff_t first, size_t rows,
                        size_t dlo, size_t dhi, double *stage)
{
    if (dhi <= dlo) {
        ext_copy(src, bc, n, first, rows, stage);
        return;
    }
    ext_copy(src, bc, n, first, dlo, stage);
    ext_copy(src, bc, n, first + (ptrdiff_t)dhi, rows - dhi, stage + dhi);
}

/* the panel of the lanes L (set but for their windows: line, i0, len of
 * the lanes in use, the others NULL, 0, 0) along the contiguous axis of c:
 * each lane's window, its edges staged (stage: srows values per lane), all
 * gathered into P; returns the panel's rows */
static size_t lanes_load(const pass_ctx *c, lanes *L, size_t maxlen, double *P, double *stage,
                         size_t srows)
{
    const int bc = c->e->ax[c->axis].bc;
    const ptrdiff_t n = (ptrdiff_t)c->n, w = (ptrdiff_t)c->w;
    size_t rows = (maxlen + 2 * c->w + 7) & ~(size_t)7;
    for (size_t l = 0; l < LANES; l++) {
        double *st = stage + l * srows;
        L->in[l] = st;
        L->first[l] = 0;
        L->dlo[l] = L->dhi[l] = 0;
        if (l >= L->nl) {
            memset(st, 0, rows * sizeof(double));
            continue;
        }
        ptrdiff_t first = L->i0[l] - w;
        /* blocks j0 with 0 <= first + j0 and first + j0 + 8 <= n */
        ptrdiff_t lo = first >= 0 ? 0 : (-first + 7) / 8 * 8;
        ptrdiff_t hi = n - 8 - first >= 0 ? (n - 8 - first) / 8 * 8 + 8 : 0;
        hi = hi > (ptrdiff_t)rows ? (ptrdiff_t)rows : hi;
        if (hi > lo) {
            L->dlo[l] = (size_t)lo;
            L->dhi[l] = (size_t)hi;
            L->first[l] = first;
        }
    }
    panel_gather(L, 0, rows, 0, P);
    for (size_t l = 0; l < L->nl; l++)
        if (L->dlo[l] > 0 || L->dhi[l] < rows)
            stage_edges(L->line[l], bc, n, L->i0[l] - w, rows, L->dlo[l], L->dhi[l],
                        stage + l * srows);
    panel_gather(L, 0, rows, 1, P);
    return rows;
}

/* to[i] = sg * from[i], i < cnt (the ranges apart) */
static void copy_signed(double *restrict to, const double *restrict from, size_t cnt, double sg)
{
    if (sg == 1.0) {
        memcpy(to, from, cnt * sizeof(double));
        return;
    }
    for (size_t i = 0; i < cnt; i++)
        to[i] = sg * from[i];
}

/* whether lanes_whole can load the panel of whole lines of c's axis: its
 * length a multiple of 8, the halo (W8 = w rounded up to 8) within one
 * line, and W8 + n + w rows within a panel of srows */
static int whole_fits(const pass_ctx *c, size_t srows)
{
    const size_t n = c->n, w8 = (c->w + 7) & ~(size_t)7;
    return n % 8 == 0 && w8 <= n && w8 + n + c->w <= srows;
}

/* The panel of the lanes L (set as for lanes_load) when every lane's
 * window is its whole line (i0 = 0, len = n) and whole_fits: panel row
 * W8 + j holds entry j, read in aligned blocks straight from the lines (no
 * staging), and the w halo rows on either side are copies of panel rows
 * (the wrap or the reflection, with the sign). The lanes past nl read the
 * first line. Returns the panel row of entry -w. */
static size_t lanes_whole(const pass_ctx *c, lanes *L, double *P)
{
    const size_t n = c->n, w = c->w, w8 = (w + 7) & ~(size_t)7;
    const int bc = c->e->ax[c->axis].bc;
    for (size_t l = 0; l < LANES; l++) {
        if (l >= L->nl)
            L->line[l] = L->line[0];
        L->in[l] = NULL;
        L->first[l] = -(ptrdiff_t)w8;
        L->dlo[l] = w8;
        L->dhi[l] = w8 + n;
    }
    panel_gather(L, w8, w8 + n, 0, P);
    panel_gather(L, w8, w8 + n, 1, P); /* no block left, but without vectors */
    const double sg = bc == BERG_DIRICHLET ? -1.0 : 1.0;
    for (size_t q = 0; q < w; q++) {
        /* entries -1 - q and n + q */
        size_t lsrc = bc == BERG_PERIODIC ? w8 + n - 1 - q : w8 + q;
        size_t rsrc = bc == BERG_PERIODIC ? w8 + q : w8 + n - 1 - q;
        copy_signed(P + (w8 - 1 - q) * LANES, P + lsrc * LANES, LANES, sg);
        copy_signed(P + (w8 + n + q) * LANES, P + rsrc * LANES, LANES, sg);
    }
    return w8 - w;
}

static void pass_contiguous(void *v, size_t begin, size_t end, size_t range)
{
    const pass_ctx *c = v;
    double *P = c->panels + range * c->panel_doubles;
    const size_t pstride = c->panel_stride, srows = pstride / LANES;
    double *stage = P + pstride, *Q = P + c->panel_count * pstride;
    const size_t nchunks = c->lines * c->per_line;
    for (size_t u = begin; u < end; u++) {
        lanes L;
        size_t maxlen = 0;
        L.nl = 0;
        for (size_t l = 0; l < LANES; l++) {
            size_t q = u * LANES + l;
            if (q >= nchunks) {
                L.dst[l] = NULL;
                L.line[l] = NULL;
                L.i0[l] = 0;
                L.len[l] = 0;
                continue;
            }
            size_t line = q / c->per_line, chunk = q % c->per_line;
            L.dst[l] = c->dst + line * c->n;
            L.line[l] = c->src + line * c->n;
            L.i0[l] = (ptrdiff_t)(chunk * CH);
            L.len[l] = c->n - chunk * CH < CH ? c->n - chunk * CH : CH;
            maxlen = L.len[l] > maxlen ? L.len[l] : maxlen;
            L.nl = l + 1;
        }
        lanes_load(c, &L, maxlen, P, stage, srows);
        for (size_t j = 0; j < maxlen; j += 8) {
            size_t nr = maxlen - j < 8 ? maxlen - j : 8;
            if (nr < 8) /* rows of Q not written: no output reads them */
                memset(Q + nr * LANES, 0, (8 - nr) * LANES * sizeof(double));
            conv_panel(P + j * LANES, c->g, c->w, nr, Q, LANES);
            panel_scatter(&L, Q, j);
        }
    }
}

/* pad = the entries [i0 - w, i0 + len + w) of the extension of line src
 * (n cells) */
static void pad_fill(const double *src, int bc, ptrdiff_t n, ptrdiff_t w, ptrdiff_t i0,
                     ptrdiff_t len, double *pad)
{
    ext_copy(src, bc, n, i0 - w, (size_t)(len + 2 * w), pad);
}

static void pass_contiguous_pad(void *v, size_t begin, size_t end, size_t range)
{
    (void)range;
    const pass_ctx *c = v;
    const ptrdiff_t n = (ptrdiff_t)c->n;
    double pad[PAD_CH + 2 * BERG__HDIR_WMAX];
    for (size_t u = begin; u < end; u++) {
        size_t line = u / c->per_line, chunk = u % c->per_line;
        ptrdiff_t i0 = (ptrdiff_t)(chunk * PAD_CH);
        ptrdiff_t len = n - i0 < PAD_CH ? n - i0 : PAD_CH;
        pad_fill(c->src + line * c->n, c->e->ax[c->axis].bc, n, (ptrdiff_t)c->w, i0, len, pad);
        conv_pad(pad, c->g, c->w, (size_t)len, c->dst + line * c->n + i0);
    }
}

/* the input's check, accumulated by the first job's copies (panels_copy):
 * acc[l] += |x| over its rows' values, lane l = the value's index mod
 * LANES. A NaN or an infinity makes a sum NaN or infinite. */
#define SCAN_DOUBLES LANES

/* panel rows j < rows of the GROUP panels of a column block: the rows of
 * the block (nc <= GROUP * LANES values each, from src's rows folded, with
 * their signs), LANES columns to a panel, zeros past nc */
CLONES static void panels_copy(const double *src, size_t inner, int bc, ptrdiff_t n,
                               ptrdiff_t first, size_t rows, size_t nc, size_t pstride,
                               double *restrict P, size_t slo, size_t shi, double *restrict acc)
{
#ifdef VW
    /* the input's check on the rows [slo, shi), as they are read */
    typedef long long vbits __attribute__((vector_size(64)));
    const vbits mag = {LLONG_MAX, LLONG_MAX, LLONG_MAX, LLONG_MAX,
                       LLONG_MAX, LLONG_MAX, LLONG_MAX, LLONG_MAX};
    vrow s0 = {0}, s1 = {0};
    double tail[LANES] = {0}, *tacc = tail; /* the values past the last LANES */
    if (acc != NULL) {
        VLD(s0, acc);
        VLD(s1, acc + VW);
    }
#else
    double *tacc = acc;
#endif
    for (size_t j = 0; j < rows; j++) {
        double sg;
        const double *row = src + fold(bc, n, first + (ptrdiff_t)j, &sg) * inner;
        double *d = P + j * LANES;
        const int scan = acc != NULL && j >= slo && j < shi;
        size_t k = 0;
#ifdef VW
        if (scan) /* rows inside the axis: sg = 1 */
            for (; k + LANES <= nc; k += LANES, d += pstride) {
                vrow a, b;
                VLD(a, row + k);
                VLD(b, row + k + VW);
                VST(d, a);
                VST(d + VW, b);
                s0 += (vrow)((vbits)a & mag);
                s1 += (vrow)((vbits)b & mag);
            }
#endif
        for (; k + LANES <= nc; k += LANES, d += pstride)
            for (size_t l = 0; l < LANES; l++)
                d[l] = sg * row[k + l];
        if (k < nc) {
            for (size_t l = 0; l < LANES; l++)
                d[l] = k + l < nc ? sg * row[k + l] : 0.0;
        }
        if (scan) {
#ifndef VW
            k = 0;
#endif
            for (; k < nc; k++)
                tacc[k % LANES] += fabs(row[k]);
        }
    }
#ifdef VW
    if (acc != NULL) {
        VST(acc, s0);
        VST(acc + VW, s1);
        for (size_t l = 0; l < LANES; l++)
            acc[l] += tail[l];
    }
#endif
}

/* A prefetch cursor: the cache lines of rows [r, rend) of a plane (row q
 * at base + q * stride doubles), columns [c, cend) of each, handed out a
 * few at a time while other work runs (the next fill's rows from memory
 * while the current band's convolution computes) */
typedef struct pf_cursor {
    const double *base;
    size_t stride, r, rend, c0, c, cend;
} pf_cursor;

static void pf_set(pf_cursor *f, const double *base, size_t stride, ptrdiff_t r, ptrdiff_t rend,
                   ptrdiff_t c, ptrdiff_t cend, size_t n0, size_t n1)
{
    r = r < 0 ? 0 : r;
    rend = rend > (ptrdiff_t)n0 ? (ptrdiff_t)n0 : rend;
    c = c < 0 ? 0 : c;
    cend = cend > (ptrdiff_t)n1 ? (ptrdiff_t)n1 : cend;
    f->base = base;
    f->stride = stride;
    f->r = (size_t)r;
    f->rend = rend > r ? (size_t)rend : (size_t)r;
    f->c0 = f->c = (size_t)c;
    f->cend = cend > c ? (size_t)cend : (size_t)c;
    if (f->cend == f->c0)
        f->r = f->rend;
}

/* lines of the cursor left */
static size_t pf_lines(const pf_cursor *f)
{
    return (f->rend - f->r) * ((f->cend - f->c0 + 7) / 8 + 1);
}

static void pf_step(pf_cursor *f, size_t lines)
{
    while (lines > 0 && f->r < f->rend) {
        const double *row = f->base + f->r * f->stride;
        __builtin_prefetch(row + f->c, 0, 2);
        lines--;
        f->c += 8;
        if (f->c >= f->cend) {
            /* the row's last line (its end may start a new one) */
            __builtin_prefetch(row + f->cend - 1, 0, 2);
            f->r++;
            f->c = f->c0;
        }
    }
}

/* the lines of 8 rows of LANES values (rows os apart), requested for
 * writing: the next 8 output rows of a panel while the current ones
 * compute (stores into lines not in cache stall the convolution) */
static void pf_rows_write(const double *row, size_t os)
{
    for (size_t r = 0; r < 8; r++) {
        __builtin_prefetch(row + r * os, 1, 3);
        __builtin_prefetch(row + r * os + LANES / 2, 1, 3);
    }
}

static void pass_strided(void *v, size_t begin, size_t end, size_t range)
{
    const pass_ctx *c = v;
    const int bc = c->e->ax[c->axis].bc;
    const ptrdiff_t n = (ptrdiff_t)c->n, w = (ptrdiff_t)c->w;
    const size_t inner = c->inner, ncb = (inner + GROUP * LANES - 1) / (GROUP * LANES);
    double *P = c->panels + range * c->panel_doubles;
    const size_t pstride = c->panel_stride;
    double *Q = P + c->panel_count * pstride;
    for (size_t u = begin; u < end; u++) {
        size_t line = u / c->per_line, rest = u % c->per_line;
        size_t cb = rest % ncb, rc = rest / ncb;
        size_t k0 = cb * GROUP * LANES;
        size_t nc = inner - k0 < GROUP * LANES ? inner - k0 : GROUP * LANES;
        size_t r0 = rc * CH, len = c->n - r0 < CH ? c->n - r0 : CH;
        const double *src = c->src + line * c->n * inner + k0;
        double *dst = c->dst + line * c->n * inner + r0 * inner + k0;
        /* with the input's check of the unit's own rows: every value once */
        panels_copy(src, inner, bc, n, (ptrdiff_t)r0 - w, len + 2 * c->w, nc, pstride, P,
                    c->w, c->w + len, c->scan ? P + c->panel_doubles - SCAN_DOUBLES : NULL);
        /* the next unit's window from memory meanwhile */
        pf_cursor pf;
        if (u + 1 < end) {
            size_t line2 = (u + 1) / c->per_line, rest2 = (u + 1) % c->per_line;
            size_t k02 = rest2 % ncb * GROUP * LANES, r02 = rest2 / ncb * CH;
            size_t nc2 = inner - k02 < GROUP * LANES ? inner - k02 : GROUP * LANES;
            size_t len2 = c->n - r02 < CH ? c->n - r02 : CH;
            pf_set(&pf, c->src + line2 * c->n * inner + k02, inner, (ptrdiff_t)r02 - w,
                   (ptrdiff_t)(r02 + len2) + w, 0, (ptrdiff_t)nc2, c->n, nc2);
        } else {
            pf_set(&pf, src, inner, 0, 0, 0, 0, c->n, nc);
        }
        /* 8 output rows of every whole panel straight into the block's
         * rows, of a partial one through Q */
        const size_t full = nc / LANES * LANES;
        const size_t calls = (len + 7) / 8 * (full > 0 ? full / LANES : 1);
        const size_t per = (pf_lines(&pf) + calls - 1) / calls;
        const size_t grp = panel_group(c->w) * LANES;
        for (size_t ka = 0; ka < full; ka += grp) {
            const size_t kb = full - ka < grp ? full : ka + grp;
            for (size_t j = 0; j < len; j += 8) {
                size_t nr = len - j < 8 ? len - j : 8;
                for (size_t k = ka; k < kb; k += LANES) {
                    conv_panel(P + (k / LANES) * pstride + j * LANES, c->g, c->w, nr,
                               dst + j * inner + k, inner);
                    pf_step(&pf, per);
                    if (j + 16 <= len)
                        pf_rows_write(dst + (j + 8) * inner + k, inner);
                }
            }
        }
        if (full < nc)
            for (size_t j = 0; j < len; j += 8) {
                size_t nr = len - j < 8 ? len - j : 8;
                conv_panel(P + (full / LANES) * pstride + j * LANES, c->g, c->w, nr, Q, LANES);
                for (size_t r = 0; r < nr; r++)
                    memcpy(dst + (j + r) * inner + full, Q + r * LANES,
                           (nc - full) * sizeof(double));
            }
    }
}

/* the widest half-width of an axis' compact kernels: 2 w + 1 taps fit
 * one period, and w <= WMAX */
static size_t axis_wcap(const berg__hdir_axis *ax)
{
    size_t w = (ax->period - 1) / 2;
    return w < BERG__HDIR_WMAX ? w : BERG__HDIR_WMAX;
}

/* doubles of one panel: the rows of the largest of the axes (outputs and
 * halo, a multiple of 8) */
static size_t panel_stride(const berg__hdir *e)
{
    size_t most = 0;
    for (int a = 0; a < e->ndim; a++) {
        const berg__hdir_axis *ax = &e->ax[a];
        size_t len = ax->n < CH ? ax->n : CH;
        size_t rows = (len + 2 * axis_wcap(ax) + 7) & ~(size_t)7;
        most = rows > most ? rows : most;
    }
    return most * LANES;
}

/* panels per thread: those of the widest column block of a strided pass
 * (at most GROUP; the axes before the last two), and at least 2 (a
 * contiguous pass stages its lines' edges in the second) */
static size_t panel_count(const berg__hdir *e)
{
    size_t most = 2, inner = 1;
    for (int a = e->ndim - 1; a >= 0; a--) {
        if (a == e->ndim - 2) { /* the band's axis: not a strided pass */
            inner *= e->ax[a].n;
            continue;
        }
        if (inner > 1) {
            size_t g = (inner + LANES - 1) / LANES;
            g = g < GROUP ? g : GROUP;
            most = g > most ? g : most;
        }
        inner *= e->ax[a].n;
    }
    return most;
}

/* the band form: strips of at most BAND_S columns; an axis of at most
 * BAND_WHOLE rows in one band, a longer one in bands of BAND_B rows */
#define BAND_S 256
#define BAND_B 64
#define BAND_WHOLE 256

/* values of a plane of the last two axes */
static size_t plane_doubles(const berg__hdir *e)
{
    return e->ndim >= 2 ? e->ax[e->ndim - 2].n * e->ax[e->ndim - 1].n : 0;
}

/* the last two axes run together in bands (run_band) whenever there are
 * two: one job for both */
static int banded(const berg__hdir *e) { return e->ndim >= 2; }

static size_t band_rows(const berg__hdir *e);
static size_t band_strips(const berg__hdir *e, size_t *width);

/* a thread's panels: its panels, 8 output rows of one (Q: a contiguous
 * pass' transposes, a partial panel's outputs), and a band's column
 * panels */
static size_t thread_doubles(const berg__hdir *e)
{
    size_t base = panel_count(e) * panel_stride(e), width;
    if (!banded(e))
        return base + 8 * LANES + SCAN_DOUBLES;
    (void)band_strips(e, &width);
    return base + 8 * LANES + width * band_rows(e) + SCAN_DOUBLES;
}

size_t berg__hdir_panel_doubles(const berg__hdir *e)
{
    return e->nthreads * thread_doubles(e);
}

/* the pass of axis a over lines of src (the whole batch; a band's
 * contiguous axis takes its lines, chunks and panels from it) */
static pass_ctx pass_setup(const berg__hdir *e, const berg__hdir_kernel *k, int axis,
                           size_t lines, const double *src, double *dst, double *panels, int pad)
{
    pass_ctx c = {.e = e, .axis = axis, .w = k->w[axis], .g = k->g[axis], .src = src,
                  .dst = dst, .n = e->ax[axis].n, .pad = pad, .panels = panels,
                  .panel_doubles = thread_doubles(e), .panel_stride = panel_stride(e),
                  .panel_count = panel_count(e)};
    size_t inner = 1;
    for (int b = axis + 1; b < e->ndim; b++)
        inner *= e->ax[b].n;
    c.inner = inner;
    c.lines = lines;
    size_t chunks = (c.n + CH - 1) / CH;
    if (inner == 1 && c.pad) {
        c.per_line = (c.n + PAD_CH - 1) / PAD_CH;
        c.units = c.lines * c.per_line;
    } else if (inner == 1) {
        c.per_line = chunks;
        c.units = (c.lines * chunks + LANES - 1) / LANES;
    } else {
        c.per_line = chunks * ((inner + GROUP * LANES - 1) / (GROUP * LANES));
        c.units = c.lines * c.per_line;
    }
    return c;
}

/* dst = K_axis src over the whole batch (src != dst) */
static void run_pass(const berg__hdir *e, const berg__hdir_kernel *k, int axis, size_t nthreads,
                     const double *src, double *dst, double *panels, int pad, int scan)
{
    size_t lines = e->batch * (e->nreal / e->ax[axis].n);
    for (int b = axis + 1; b < e->ndim; b++)
        lines /= e->ax[b].n;
    pass_ctx c = pass_setup(e, k, axis, lines, src, dst, panels, pad);
    c.scan = scan;
    berg__parallel_for(c.units, nthreads, 1,
                       c.inner > 1 ? pass_strided : c.pad ? pass_contiguous_pad : pass_contiguous,
                       &c);
}

/* The band form of the last two axes (rows along axis d-2, columns along
 * the contiguous d-1): the contiguous axis' pass (in panels as in
 * pass_contiguous, or in the pad form) writes a strip of at most BAND_S
 * columns, band by band of rows, into column panels of LANES columns that
 * stay in cache; the rows' pass (conv_panel, as in pass_strided) reads its
 * windows from there and stores the output rows. One trip through memory
 * for both axes: no intermediate array, no copies of strided windows.
 * A band of output rows needs the values of its rows and of 2 w halo rows;
 * the halo of the next band moves to the top of the panels, and a halo row
 * outside the axis whose folded row is in the panels is copied from it
 * (an axis of at most BAND_WHOLE rows is one band: no row is computed
 * twice). Every value is computed the same way whatever the strips, bands,
 * segments and threads. */

/* output rows of a band */
static size_t band_height(const berg__hdir *e)
{
    size_t n0 = e->ax[e->ndim - 2].n;
    return n0 <= BAND_WHOLE ? n0 : BAND_B;
}

/* rows of a band's column panel: its outputs and the widest halo */
static size_t band_rows(const berg__hdir *e)
{
    return band_height(e) + 2 * axis_wcap(&e->ax[e->ndim - 2]);
}

/* strips of the contiguous axis and their width (a multiple of LANES, the
 * strips as equal as that allows) */
static size_t band_strips(const berg__hdir *e, size_t *width)
{
    size_t n1 = e->ax[e->ndim - 1].n, ns = (n1 + BAND_S - 1) / BAND_S;
    size_t sw = (n1 + ns - 1) / ns;
    *width = (sw + LANES - 1) / LANES * LANES;
    return (n1 + *width - 1) / *width;
}

typedef struct band_ctx {
    const berg__hdir *e;
    pass_ctx x;             /* the contiguous axis' pass (lines set per band) */
    size_t w0;              /* the other axis' half-width and kernel */
    const double *g0;
    const double *src;
    double *dst, *panels;
    size_t strips, width, segs;
} band_ctx;

/* the rows rows[i] (i < count) of the band's panels T: the contiguous pass
 * of row rbase + rows[i] of plane src (folded into the axis, with its
 * sign), columns [c0, c0 + len) */
static void band_fill(const band_ctx *b, const double *src, ptrdiff_t rbase, const size_t *rows,
                      size_t count, size_t c0, size_t len, double *T, size_t tps, double *P,
                      double *Q)
{
    const pass_ctx *c = &b->x;
    const berg__hdir_axis *ax0 = &b->e->ax[b->e->ndim - 2];
    const size_t pstride = c->panel_stride, srows = pstride / LANES;
    double *stage = P + pstride;
    if (c->pad) {
        /* the pad form, a row at a time, its outputs cut into the panels
         * (zeros past len) */
        double pad[BAND_S + 2 * BERG__HDIR_WMAX], out[BAND_S];
        const size_t lp = (len + LANES - 1) / LANES;
        memset(out + len, 0, (lp * LANES - len) * sizeof(double));
        for (size_t i = 0; i < count; i++) {
            double sg;
            size_t q = fold(ax0->bc, (ptrdiff_t)ax0->n, rbase + (ptrdiff_t)rows[i], &sg);
            pad_fill(src + q * c->n, b->e->ax[c->axis].bc, (ptrdiff_t)c->n, (ptrdiff_t)c->w,
                     (ptrdiff_t)c0, (ptrdiff_t)len, pad);
            conv_pad(pad, c->g, c->w, len, out);
            for (size_t k = 0; k < lp; k++) {
                double *to = T + k * tps + rows[i] * LANES;
                for (size_t l = 0; l < LANES; l++)
                    to[l] = sg * out[k * LANES + l];
            }
        }
        return;
    }
    /* whole lines: their halo from the panel itself */
    const int whole = c0 == 0 && len == c->n && whole_fits(c, srows);
    for (size_t i0 = 0; i0 < count; i0 += LANES) {
        lanes L;
        double sg[LANES], *row[LANES];
        L.nl = count - i0 < LANES ? count - i0 : LANES;
        for (size_t l = 0; l < LANES; l++) {
            L.dst[l] = NULL;
            if (l >= L.nl) {
                L.line[l] = NULL;
                L.i0[l] = 0;
                L.len[l] = 0;
                continue;
            }
            size_t t = rows[i0 + l];
            size_t q = fold(ax0->bc, (ptrdiff_t)ax0->n, rbase + (ptrdiff_t)t, &sg[l]);
            L.line[l] = src + q * c->n;
            L.i0[l] = (ptrdiff_t)c0;
            L.len[l] = len;
            row[l] = T + t * LANES;
        }
        size_t p0 = 0; /* panel row of entry c0 - w */
        if (whole)
            p0 = lanes_whole(c, &L, P);
        else
            lanes_load(c, &L, len, P, stage, srows);
        for (size_t j = 0; j < len; j += 8) {
            size_t nr = len - j < 8 ? len - j : 8;
            if (nr < 8)
                memset(Q + nr * LANES, 0, (8 - nr) * LANES * sizeof(double));
            conv_panel(P + (p0 + j) * LANES, c->g, c->w, nr, Q, LANES);
            band_scatter(L.nl, sg, row, Q, j, tps);
        }
    }
}

/* rows [have, need) of the band's panels T (row t: row rbase + t of the
 * axis, folded): the contiguous pass of those inside the axis, and of the
 * halo rows outside it whose folded row is not among T's rows; the other
 * halo rows are copies of theirs, times their sign (the same values) */
static void band_rows_fill(const band_ctx *b, const double *src, ptrdiff_t rbase, size_t have,
                           size_t need, size_t c0, size_t len, size_t lp, double *T, size_t tps,
                           double *P, double *Q)
{
    const berg__hdir_axis *ax0 = &b->e->ax[b->e->ndim - 2];
    const ptrdiff_t n0 = (ptrdiff_t)ax0->n;
    /* rows computed, and rows copied (from row from[i], times sign[i]) */
    size_t rows[BAND_WHOLE + 2 * BERG__HDIR_WMAX], count = 0;
    size_t copy[2 * BERG__HDIR_WMAX], from[2 * BERG__HDIR_WMAX], ncopy = 0;
    double sign[2 * BERG__HDIR_WMAX];
    for (size_t t = have; t < need; t++) {
        ptrdiff_t r = rbase + (ptrdiff_t)t;
        double sg;
        ptrdiff_t tq = (ptrdiff_t)fold(ax0->bc, n0, r, &sg) - rbase;
        if ((r >= 0 && r < n0) || tq < 0 || tq >= (ptrdiff_t)need) {
            rows[count++] = t;
        } else {
            copy[ncopy] = t;
            from[ncopy] = (size_t)tq;
            sign[ncopy++] = sg;
        }
    }
    band_fill(b, src, rbase, rows, count, c0, len, T, tps, P, Q);
    for (size_t i = 0; i < ncopy; i++)
        for (size_t k = 0; k < lp; k++)
            copy_signed(T + k * tps + copy[i] * LANES, T + k * tps + from[i] * LANES, LANES,
                        sign[i]);
}

static void pass_band(void *v, size_t begin, size_t end, size_t range)
{
    const band_ctx *b = v;
    const berg__hdir *e = b->e;
    const size_t n0 = e->ax[e->ndim - 2].n, n1 = b->x.n, w0 = b->w0;
    const size_t bh = band_height(e), pl = n0 * n1, tps = (bh + 2 * w0) * LANES;
    double *P = b->panels + range * thread_doubles(e);
    double *Q = P + b->x.panel_count * b->x.panel_stride;
    double *T = Q + 8 * LANES;
    for (size_t u = begin; u < end; u++) {
        size_t plane = u / (b->strips * b->segs), rest = u % (b->strips * b->segs);
        size_t strip = rest / b->segs, seg = rest % b->segs;
        size_t c0 = strip * b->width, len = n1 - c0 < b->width ? n1 - c0 : b->width;
        size_t ra = n0 * seg / b->segs, rb = n0 * (seg + 1) / b->segs;
        const double *src = b->src + plane * pl;
        double *dst = b->dst + plane * pl + c0;
        const size_t lp = (len + LANES - 1) / LANES; /* panels in use */
        if (len % LANES != 0 && len % LANES <= 8) /* the half panel never written */
            memset(T + (lp - 1) * tps, 0, tps * sizeof(double));
        size_t have = 0; /* rows of T holding the current band's values */
        for (size_t r0 = ra; r0 < rb;) {
            size_t nb = rb - r0 < bh ? rb - r0 : bh, need = nb + 2 * w0;
            band_rows_fill(b, src, (ptrdiff_t)r0 - (ptrdiff_t)w0, have, need, c0, len, lp, T, tps,
                           P, Q);
            /* the next unit's first band from memory meanwhile (the next
             * band of a strip is left to the hardware's prefetch: asking
             * for it too made 2-D 1024^2 1-3% slower) */
            pf_cursor pf;
            const size_t wc = b->x.w;
            if (r0 + nb < rb) {
                pf_set(&pf, src, n1, 0, 0, 0, 0, n0, n1);
            } else if (u + 1 < end) {
                size_t u2 = u + 1, plane2 = u2 / (b->strips * b->segs);
                size_t rest2 = u2 % (b->strips * b->segs), strip2 = rest2 / b->segs;
                size_t seg2 = rest2 % b->segs, c02 = strip2 * b->width;
                size_t len2 = n1 - c02 < b->width ? n1 - c02 : b->width;
                size_t ra2 = n0 * seg2 / b->segs, rb2 = n0 * (seg2 + 1) / b->segs;
                size_t nb2 = rb2 - ra2 < bh ? rb2 - ra2 : bh;
                pf_set(&pf, b->src + plane2 * pl, n1, (ptrdiff_t)ra2 - (ptrdiff_t)w0,
                       (ptrdiff_t)(ra2 + nb2 + w0), (ptrdiff_t)c02 - (ptrdiff_t)wc,
                       (ptrdiff_t)(c02 + len2 + wc), n0, n1);
            } else {
                pf_set(&pf, src, n1, 0, 0, 0, 0, n0, n1);
            }
            /* whole panels straight into the output rows, a partial one
             * through Q */
            const size_t full = len / LANES;
            const size_t calls = ((nb + 7) / 8) * (full > 0 ? full : 1);
            const size_t per = (pf_lines(&pf) + calls - 1) / calls;
            const size_t grp = panel_group(w0);
            for (size_t ka = 0; ka < full; ka += grp) {
                const size_t kb = full - ka < grp ? full : ka + grp;
                for (size_t j = 0; j < nb; j += 8) {
                    size_t nr = nb - j < 8 ? nb - j : 8;
                    for (size_t k = ka; k < kb; k++) {
                        conv_panel(T + k * tps + j * LANES, b->g0, w0, nr,
                                   dst + (r0 + j) * n1 + k * LANES, n1);
                        pf_step(&pf, per);
                        if (j + 16 <= nb)
                            pf_rows_write(dst + (r0 + j + 8) * n1 + k * LANES, n1);
                    }
                }
            }
            if (full < lp)
                for (size_t j = 0; j < nb; j += 8) {
                    size_t nr = nb - j < 8 ? nb - j : 8;
                    conv_panel(T + full * tps + j * LANES, b->g0, w0, nr, Q, LANES);
                    for (size_t r = 0; r < nr; r++)
                        memcpy(dst + (r0 + j + r) * n1 + full * LANES, Q + r * LANES,
                               (len % LANES) * sizeof(double));
                }
            r0 += nb;
            if (r0 < rb) { /* the next band's halo rows to the top */
                for (size_t k = 0; k < lp; k++)
                    memmove(T + k * tps, T + k * tps + nb * LANES, 2 * w0 * LANES * sizeof(double));
                have = 2 * w0;
            }
        }
    }
}

/* dst = K_{d-2} K_{d-1} src band by band (src != dst) */
static void run_band(const berg__hdir *e, const berg__hdir_kernel *k, size_t nthreads,
                     const double *src, double *dst, double *panels, int pad)
{
    const int d = e->ndim;
    const size_t pl = plane_doubles(e), planes = e->batch * (e->nreal / pl);
    band_ctx b = {.e = e, .w0 = k->w[d - 2], .g0 = k->g[d - 2], .src = src, .dst = dst,
                  .panels = panels};
    b.x = pass_setup(e, k, d - 1, 1, src, dst, panels, pad);
    b.strips = band_strips(e, &b.width);
    b.segs = 1;
    if (nthreads > 1) {
        /* units for every thread: rows split into segments (each one's
         * halo computed again) when the strips are too few */
        size_t want = (4 * nthreads + planes * b.strips - 1) / (planes * b.strips);
        size_t most = e->ax[d - 2].n / 32;
        most = most > 1 ? most : 1;
        b.segs = want < most ? want : most;
    }
    berg__parallel_for(planes * b.strips * b.segs, nthreads, 1, pass_band, &b);
}

static int pad_form(const berg__hdir *e, const size_t *w);

static int n_jobs(const berg__hdir *e);

int berg__hdir_scans(const berg__hdir *e)
{
    /* the first job is a strided pass into tmp */
    return e->ndim >= 3 && n_jobs(e) % 2 == 0;
}

/* the first job's check: the input's sum of magnitudes, as the threads'
 * accumulators in panels hold it (NaN or infinite when a value is; the
 * order of the sums depends on the threads) */
static double scan_sum(const berg__hdir *e, const double *panels)
{
    const size_t td = thread_doubles(e);
    double sum = 0.0;
    for (size_t r = 0; r < e->nthreads; r++) {
        const double *acc = panels + (r + 1) * td - SCAN_DOUBLES;
        for (size_t l = 0; l < LANES; l++)
            sum += acc[l];
    }
    return sum;
}

/* the jobs (src: the input, or its copy in tmp); with takes, the first
 * job checks the input and the run stops after it unless takes accepts
 * the sum: 1 when done */
static int run_jobs(const berg__hdir *e, const berg__hdir_kernel *k, const double *src,
                    double *out, double *tmp, double *panels,
                    int (*takes)(double sum, const void *ctx), const void *ctx)
{
    const int scan = takes != NULL;
    const int d = e->ndim, band = banded(e);
    const int jobs = n_jobs(e);
    size_t nt = e->nthreads;
    /* job j writes bufs[j % 2]; the last one writes out */
    double *bufs[2] = {jobs % 2 ? out : tmp, jobs % 2 ? tmp : out};
    const int pad = pad_form(e, k->w);
    for (int j = 0; j < jobs; j++) {
        double *dst = bufs[j % 2];
        if (band && j == d - 2)
            run_band(e, k, nt, src, dst, panels, pad);
        else
            run_pass(e, k, j, nt, src, dst, panels, j == d - 1 && pad, scan && j == 0);
        src = dst;
        if (scan && j == 0 && !takes(scan_sum(e, panels), ctx))
            return 0;
    }
    return 1;
}

void berg__hdir_run(const berg__hdir *e, const berg__hdir_kernel *k, const double *in,
                    double *out, double *tmp, double *panels)
{
    const size_t total = e->batch * e->nreal;
    /* out of place jobs ending in out: in -> (tmp, out, tmp, ...) -> out */
    const double *src = in;
    if (n_jobs(e) % 2 == 1 && in == out) {
        memcpy(tmp, in, total * sizeof(double));
        src = tmp;
    }
    (void)run_jobs(e, k, src, out, tmp, panels, NULL, NULL);
}

int berg__hdir_run_scanned(const berg__hdir *e, const berg__hdir_kernel *k, const double *in,
                           double *out, double *tmp, double *panels,
                           int (*takes)(double sum, const void *ctx), const void *ctx)
{
    const size_t td = thread_doubles(e);
    for (size_t r = 0; r < e->nthreads; r++)
        memset(panels + (r + 1) * td - SCAN_DOUBLES, 0, SCAN_DOUBLES * sizeof(double));
    return run_jobs(e, k, in, out, tmp, panels, takes, ctx);
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

/* the jobs of a run: one per axis, but one for the last two axes (the
 * band form); job j covers axes j .. last_axis(j) */
static int n_jobs(const berg__hdir *e) { return banded(e) ? e->ndim - 1 : e->ndim; }

static int last_axis(const berg__hdir *e, int j)
{
    return banded(e) && j == e->ndim - 2 ? j + 1 : j;
}

/* the taps of job j for kernel widths w[] */
static double job_taps(const berg__hdir *e, int j, const size_t *w)
{
    double taps = 0.0;
    for (int a = j; a <= last_axis(e, j); a++)
        taps += 2.0 * (double)w[a] + 1.0;
    return taps;
}

/* the last job's model with the contiguous axis in the pad form cheaper
 * than in panels at the widths w: that form runs (0 before measurement) */
static int pad_form(const berg__hdir *e, const size_t *w)
{
    /* the model is read only once measured (a forced handle whose
     * measurement failed runs the panels) */
    if (!atomic_load_explicit(&e->measured, memory_order_acquire))
        return 0;
    int j = n_jobs(e) - 1;
    double taps = job_taps(e, j, w);
    return e->pad_b > 0.0 && e->pad_a + e->pad_b * taps < e->pass_a[j] + e->pass_b[j] * taps;
}

/* seconds of job j with the half-widths w[] of its axes (pad: the
 * contiguous axis in the pad form) */
static double time_job(const berg__hdir *e, int j, const size_t *w, const double *src,
                       double *dst, double *panels, int pad)
{
    berg__hdir_kernel k;
    memset(&k, 0, sizeof k);
    for (int a = j; a <= last_axis(e, j); a++) {
        for (size_t m = 0; m <= w[a]; m++)
            k.g[a][m] = 1.0 / (double)(2 * w[a] + 1);
        k.w[a] = w[a];
    }
    double t0 = now_seconds(e);
    if (last_axis(e, j) > j)
        run_band(e, &k, e->nthreads, src, dst, panels, pad);
    else
        run_pass(e, &k, j, e->nthreads, src, dst, panels, pad && j == e->ndim - 1, 0);
    return now_seconds(e) - t0;
}

/* the model: the spectral step's time, and per job (an axis' pass, or the
 * bands of the last two) its time as a + b taps (2 w + 1 per axis) from
 * runs at half-widths W1 and W2; the least of 3
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
    double fft_seconds, pass_a[BERG_MAX_RANK], pass_b[BERG_MAX_RANK], pad_a, pad_b;
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
            e->pad_a = cache[i].pad_a;
            e->pad_b = cache[i].pad_b;
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
        c->pad_a = e->pad_a;
        c->pad_b = e->pad_b;
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
        size_t np = berg__hdir_panel_doubles(e);
        double *buf = berg__alloc(2 * total + np, sizeof(double), fn);
        if (buf == NULL) {
            st = berg_last_status();
        } else {
            memset(buf, 0, 2 * total * sizeof(double));
            for (size_t i = 0; i < total; i++)
                buf[i] = (double)(i % 7) - 3.0;
            double tf = INFINITY, p1[BERG_MAX_RANK], p2[BERG_MAX_RANK], q1 = INFINITY,
                   q2 = INFINITY;
            size_t w1[BERG_MAX_RANK], w2[BERG_MAX_RANK];
            for (int a = 0; a < e->ndim; a++) {
                /* widths whose 2 w + 1 taps fit one period */
                size_t wmax = axis_wcap(&e->ax[a]);
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
                const int jl = n_jobs(e) - 1;
                for (int j = 0; j < n_jobs(e) && st == BERG_OK; j++) {
                    double *dst = buf + total, *pan = buf + 2 * total;
                    p1[j] = fmin(p1[j], time_job(e, j, w1, buf, dst, pan, 0));
                    if (job_taps(e, j, w2) > job_taps(e, j, w1))
                        p2[j] = fmin(p2[j], time_job(e, j, w2, buf, dst, pan, 0));
                }
                q1 = fmin(q1, time_job(e, jl, w1, buf, buf + total, buf + 2 * total, 1));
                if (job_taps(e, jl, w2) > job_taps(e, jl, w1))
                    q2 = fmin(q2, time_job(e, jl, w2, buf, buf + total, buf + 2 * total, 1));
            }
            if (st == BERG_OK) {
                for (int j = 0; j < n_jobs(e); j++) {
                    double t1 = job_taps(e, j, w1), t2 = job_taps(e, j, w2);
                    double b = t2 > t1 ? fmax(0.0, (p2[j] - p1[j]) / (t2 - t1)) : 0.0;
                    e->pass_b[j] = b;
                    e->pass_a[j] = fmax(0.0, p1[j] - t1 * b);
                    if (j == n_jobs(e) - 1) {
                        /* the same line through the pad form's two points
                         * (a positive slope even when flat: pad_b > 0 says
                         * measured) */
                        double bp = t2 > t1 ? fmax(1e-300, (q2 - q1) / (t2 - t1)) : 1e-300;
                        e->pad_b = bp;
                        e->pad_a = fmax(0.0, q1 - t1 * bp);
                    }
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
    for (int j = 0; j < n_jobs(e); j++) {
        double taps = job_taps(e, j, k->w), pj = e->pass_a[j] + e->pass_b[j] * taps;
        if (j == n_jobs(e) - 1 && pad_form(e, k->w))
            pj = e->pad_a + e->pad_b * taps;
        p += pj;
    }
    return p;
}

berg_status berg__hdir_choose(const berg__hdir *e, const berg__hdir_kernel *k, int force,
                              berg__hdir_fft_fn fft, void *fft_ctx, int *use, const char *fn)
{
    *use = 0;
    if (!e->usable || !k->compact || force < 0)
        return BERG_OK;
    if (force > 0) {
        /* the measured model also picks the form of the contiguous axis
         * (the same bits either way); without it the panels run */
        (void)measure(e, fft, fft_ctx, fn);
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
