/* Reproducible random numbers for noise terms (fields, particles, SDEs). */
#include <math.h>

#include "core/internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void berg__rng_seed(berg__rng *rng, uint64_t seed, uint64_t stream)
{
    /* mix the stream into the seed so that (seed, stream) pairs differ */
    uint64_t x = seed ^ (0xD1B54A32D192ED03ull * (stream + 1));
    splitmix64(&x);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
    rng->has_spare = 0;
    rng->spare = 0.0;
}

uint64_t berg__rng_next(berg__rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double berg__rng_uniform(berg__rng *rng)
{
    /* (k + 0.5) / 2^52 for k in [0, 2^52): never 0, never 1, exact. (With 53
     * bits, k = 2^53 - 1 gives 2^53 - 0.5, which rounds to 2^53: u = 1.) */
    return ((double)(berg__rng_next(rng) >> 12) + 0.5) * 0x1.0p-52;
}

void berg__rng_normals(berg__rng *rng, double *out, size_t n)
{
    size_t i = 0;
    if (n > 0 && rng->has_spare) {
        out[i++] = rng->spare;
        rng->has_spare = 0;
    }
    while (i < n) {
        double u, v, s;
        do {
            u = 2.0 * berg__rng_uniform(rng) - 1.0;
            v = 2.0 * berg__rng_uniform(rng) - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double f = sqrt(-2.0 * log(s) / s);
        out[i++] = u * f;
        if (i < n)
            out[i++] = v * f;
        else {
            rng->spare = v * f;
            rng->has_spare = 1;
        }
    }
}
