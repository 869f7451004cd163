/*
 * Standard normals for the ensemble flow's noise, generated in Fourier
 * space, one stream per (member, step) so that results do not depend on
 * the number of threads.
 *
 * Box-Muller on four interleaved xoshiro256** lanes (each seeded through
 * splitmix64 from the stream's (seed, stream) pair and its lane): the
 * uniforms come from plain integer loops and the transcendental functions
 * from loops that GCC vectorizes with glibc's vector math (libmvec) where
 * it is available; the values are those of the scalar functions either
 * way up to libmvec's documented error (< 4 ulp), which is far below the
 * statistical resolution of any test of the noise. Measured on the flow's
 * benchmark (bench/erg): the Marsaglia polar generator of berg__rng took
 * longer than the two FFTs of a step, this one a fraction of them.
 */
#include <math.h>
#include <string.h>

#include "erg/erg_internal.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
/* glibc declares these vector variants only under -ffast-math; libmvec
 * (linked by -lm) provides them. `const`: the arguments here are always
 * in the functions' domains (u in (0, 1], finite angles, radii >= 0), so
 * errno is never set and the loops may be vectorized */
extern double log(double) __attribute__((simd("notinbranch"), const));
extern double sin(double) __attribute__((simd("notinbranch"), const));
extern double cos(double) __attribute__((simd("notinbranch"), const));
extern double sqrt(double) __attribute__((const));
#  define ERG_VECTOR __attribute__((optimize("O3")))
#else
#  define ERG_VECTOR
#endif

#define LANES 8
#define CHUNK 256 /* pairs per round */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    defined(__has_attribute) && !defined(BERG_NO_CLONES) && !defined(__SANITIZE_THREAD__)
#  if __has_attribute(target_clones)
/* one clone per vector width of libmvec, chosen at load time. Not under
 * ThreadSanitizer: the ifunc resolvers run before its runtime is up and
 * crash the process at load (as in lib/propagator/heat_direct.c). */
#    define ERG_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#  endif
#endif
#ifndef ERG_CLONES
#  define ERG_CLONES
#endif

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s0[LANES], s1[LANES], s2[LANES], s3[LANES];
} lanes;

static void seed_lanes(lanes *L, uint64_t seed, uint64_t stream)
{
    for (int l = 0; l < LANES; l++) {
        uint64_t x = seed ^ (0xD1B54A32D192ED03ull * (stream + 1)) ^
                     (0x8CB92BA72F3D8DD7ull * (uint64_t)(l + 1));
        splitmix64(&x);
        L->s0[l] = splitmix64(&x);
        L->s1[l] = splitmix64(&x);
        L->s2[l] = splitmix64(&x);
        L->s3[l] = splitmix64(&x);
    }
}

/* CHUNK pairs: re[i] = r cos(theta), im[i] = r sin(theta) with
 * r = sqrt(-2 ln u), u = 2 - a in (0, 1], theta = 2 pi (b - 1), a and b
 * doubles in [1, 2) with 52 random mantissa bits from xoshiro256** words
 * (lane l gives words l, l + LANES, ... of a for the first CHUNK / LANES
 * rounds, then those of b) */
ERG_VECTOR ERG_CLONES static void chunk(lanes *restrict L, double *restrict re,
                                        double *restrict im)
{
    uint64_t wa[CHUNK], wb[CHUNK];
    double r[CHUNK], th[CHUNK];
    uint64_t s0[LANES], s1[LANES], s2[LANES], s3[LANES];
    memcpy(s0, L->s0, sizeof s0);
    memcpy(s1, L->s1, sizeof s1);
    memcpy(s2, L->s2, sizeof s2);
    memcpy(s3, L->s3, sizeof s3);
    for (int i = 0; i < 2 * CHUNK; i += LANES) {
        uint64_t *w = i < CHUNK ? wa + i : wb + (i - CHUNK);
        for (int l = 0; l < LANES; l++) {
            uint64_t x = (s1[l] << 2) + s1[l];
            x = (x << 7) | (x >> 57);
            x = (x << 3) + x;
            uint64_t t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = (s3[l] << 45) | (s3[l] >> 19);
            w[l] = (x >> 12) | 0x3FF0000000000000ull;
        }
    }
    memcpy(L->s0, s0, sizeof s0);
    memcpy(L->s1, s1, sizeof s1);
    memcpy(L->s2, s2, sizeof s2);
    memcpy(L->s3, s3, sizeof s3);
    for (int i = 0; i < CHUNK; i++) {
        double a, b;
        memcpy(&a, &wa[i], sizeof a);
        memcpy(&b, &wb[i], sizeof b);
        r[i] = sqrt(-2.0 * log(2.0 - a));
        th[i] = 6.283185307179586 * (b - 1.0);
    }
    for (int i = 0; i < CHUNK; i++)
        re[i] = r[i] * cos(th[i]);
    for (int i = 0; i < CHUNK; i++)
        im[i] = r[i] * sin(th[i]);
}

void berg__erg_normals(uint64_t seed, uint64_t stream, double *re, double *im, size_t n)
{
    lanes L;
    double br[CHUNK], bi[CHUNK];
    seed_lanes(&L, seed, stream);
    size_t i = 0;
    for (; i + CHUNK <= n; i += CHUNK)
        chunk(&L, re + i, im + i);
    if (i < n) {
        chunk(&L, br, bi);
        memcpy(re + i, br, (n - i) * sizeof(double));
        memcpy(im + i, bi, (n - i) * sizeof(double));
    }
}

/* spec[j] = ta[j] spec[j] + tb[j] (re_j + i im_j) for the n complex
 * entries, the normals of berg__erg_normals(seed, stream) drawn a chunk at
 * a time (they never leave the cache) */
ERG_VECTOR static void apply_chunk(size_t m, const double *restrict ta, const double *restrict tb,
                                   const double *restrict re, const double *restrict im,
                                   double *restrict spec)
{
    if (ta) {
        for (size_t i = 0; i < m; i++) {
            spec[2 * i] = ta[i] * spec[2 * i] + tb[i] * re[i];
            spec[2 * i + 1] = ta[i] * spec[2 * i + 1] + tb[i] * im[i];
        }
    } else {
        for (size_t i = 0; i < m; i++) {
            spec[2 * i] += tb[i] * re[i];
            spec[2 * i + 1] += tb[i] * im[i];
        }
    }
}

void berg__erg_noise_apply(uint64_t seed, uint64_t stream, size_t n, const double *ta,
                           const double *tb, double *spec)
{
    lanes L;
    double br[CHUNK], bi[CHUNK];
    seed_lanes(&L, seed, stream);
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        chunk(&L, br, bi);
        apply_chunk(m, ta ? ta + i : NULL, tb + i, br, bi, spec + 2 * i);
    }
}
