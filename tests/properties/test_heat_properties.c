/* Randomized properties of the heat semigroup (in the manner of FFTW's
 * self-test with random sizes): random rank 1-4, axis sizes drawn from
 * {1, 2, 3, primes, powers of 2}, a random boundary kind per axis, a
 * random diagonal metric or one coupled on a pair of periodic axes, both
 * symbols (continuum and BERG_SYMBOL_FD). On each configuration:
 *   - semigroup: e^{sL} e^{tL} f = e^{(s+t)L} f;
 *   - symmetry in the grid inner product: <g, e^{tL} f> = <e^{tL} g, f>;
 *   - the symbol is >= 0 (the flow contracts the l2 norm);
 *   - mass: conserved without a Dirichlet axis; with one, the FD semigroup
 *     never raises it;
 *   - positivity: with a diagonal metric the FD semigroup maps f >= 0 to
 *     values >= 0 (up to FFT round-off);
 *   - the multiplier with the symbol k.g^{-1}k (exp_apply) equals the heat
 *     semigroup (an independent path through the symbol callback);
 *   - scale invariance: the box scaled by c at time c^2 t gives the same
 *     array (c up to 10^+-140: the cell volume, 1/h^2 and c^2 t stay normal).
 * The seed is printed; BERG_PROPERTY_SEED overrides it and
 * BERG_PROPERTY_CASES the number of configurations (a longer sweep). */
#include <stdlib.h>

#include "testutil.h"

#define TOL 1e-12

typedef struct {
    size_t d, n[4];
    double lo[4], hi[4], g[16];
    berg_boundary bc[4];
    int coupled;
    unsigned flags;
} config;

static const size_t SIZES[] = {1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 23, 32};

static size_t pick(unsigned long long *rng, size_t k) { return (size_t)(tu_uniform(rng) * (double)k); }

static config random_config(unsigned long long *rng)
{
    config c;
    memset(&c, 0, sizeof c);
    c.d = 1 + pick(rng, 4);
    size_t total = 1, cap = 4096;
    for (size_t a = 0; a < c.d; a++) {
        size_t n;
        do
            n = SIZES[pick(rng, sizeof SIZES / sizeof SIZES[0])];
        while (total * n > cap);
        c.n[a] = n;
        total *= n;
        c.lo[a] = -1.0 - 2.0 * tu_uniform(rng);
        c.hi[a] = 0.5 + 2.0 * tu_uniform(rng);
        c.bc[a] = (berg_boundary)pick(rng, 3);
        c.g[a * c.d + a] = 0.5 + 1.5 * tu_uniform(rng);
    }
    /* a coupling between two periodic axes, half of the time */
    size_t per[4], np = 0;
    for (size_t a = 0; a < c.d; a++)
        if (c.bc[a] == BERG_PERIODIC)
            per[np++] = a;
    if (np >= 2 && tu_uniform(rng) < 0.5) {
        size_t a = per[0], b = per[1 + pick(rng, np - 1)];
        double r = 0.6 * (2.0 * tu_uniform(rng) - 1.0);
        double gab = r * sqrt(c.g[a * c.d + a] * c.g[b * c.d + b]);
        c.g[a * c.d + b] = c.g[b * c.d + a] = gab;
        c.coupled = 1;
    }
    c.flags = BERG_PLAN_ESTIMATE | (tu_uniform(rng) < 0.5 ? BERG_SYMBOL_FD : 0u);
    return c;
}

static void describe(const config *c, char *buf, size_t len)
{
    int k = snprintf(buf, len, "rank %zu n=(", c->d);
    for (size_t a = 0; a < c->d; a++)
        k += snprintf(buf + k, len - (size_t)k, "%zu%s%s", c->n[a],
                      c->bc[a] == BERG_PERIODIC ? "P" : c->bc[a] == BERG_NEUMANN ? "N" : "D",
                      a + 1 < c->d ? "," : ")");
    snprintf(buf + k, len - (size_t)k, "%s%s", c->coupled ? " coupled" : "",
             (c->flags & BERG_SYMBOL_FD) ? " FD" : "");
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static size_t cases_run, scale_checks, multiplier_checks;

/* the heat symbol k.g^{-1}k as a multiplier symbol (user_data: ndim, g^{-1}) */
typedef struct {
    size_t d;
    double ginv[16];
} symbol_data;
static int heat_symbol(size_t ndim, const double *k, double *c, void *ud)
{
    const symbol_data *sd = ud;
    double q = 0;
    for (size_t a = 0; a < ndim; a++)
        for (size_t b = 0; b < ndim; b++)
            q += k[a] * sd->ginv[a * sd->d + b] * k[b];
    *c = q;
    return 0;
}

static void check_config(const config *c, unsigned long long *rng)
{
    char what[160];
    describe(c, what, sizeof what);
    berg_space *S = NULL;
    berg_heat *H = NULL;
    berg_status st = berg_space_create(&S, c->d, c->n, c->lo, c->hi, c->bc, c->g);
    CHECK(st == BERG_OK, "%s: space refused: %s", what, berg_last_error());
    if (st != BERG_OK)
        return;
    st = berg_heat_create(&H, S, c->flags);
    CHECK(st == BERG_OK, "%s: heat refused: %s", what, berg_last_error());
    if (st != BERG_OK) {
        berg_space_destroy(S);
        return;
    }
    cases_run++;
    size_t N = berg_space_size(S);
    double *f = tu_vec(N), *g = tu_vec(N), *a = tu_vec(N), *b = tu_vec(N), *e = tu_vec(N);
    for (size_t i = 0; i < N; i++) {
        f[i] = tu_uniform(rng);
        g[i] = 2.0 * tu_uniform(rng) - 1.0;
    }
    double s = 0.01 + 0.2 * tu_uniform(rng), t = 0.01 + 0.2 * tu_uniform(rng);
    double fmax = tu_max_abs(f, N), fsum = 0, gabs = 0;
    for (size_t i = 0; i < N; i++) {
        fsum += f[i];
        gabs += fabs(g[i]);
    }

    /* semigroup */
    int ok = berg_heat_apply(H, t, f, a) == BERG_OK && berg_heat_apply(H, s, a, b) == BERG_OK &&
             berg_heat_apply(H, s + t, f, e) == BERG_OK;
    CHECK(ok, "%s: apply: %s", what, berg_last_error());
    double err = tu_max_abs_diff(b, e, N);
    CHECK(err <= TOL * fmax, "%s: semigroup e^{sL}e^{tL} - e^{(s+t)L} = %.3g (s %.3g t %.3g)", what,
          err, s, t);

    /* symmetry: <g, H f> = <H g, f> */
    berg_heat_apply(H, t, g, b);
    double l = dot(g, a, N), r = dot(b, f, N);
    CHECK(fabs(l - r) <= TOL * gabs * fmax, "%s: <g, Hf> = %.17g, <Hg, f> = %.17g", what, l, r);

    /* contraction (symbol >= 0) */
    CHECK(dot(a, a, N) <= dot(f, f, N) * (1 + TOL), "%s: |Hf|^2 %.17g > |f|^2 %.17g", what,
          dot(a, a, N), dot(f, f, N));

    /* mass and positivity */
    int dirichlet = 0;
    for (size_t k = 0; k < c->d; k++)
        dirichlet |= c->bc[k] == BERG_DIRICHLET;
    double asum = 0, amin = INFINITY;
    for (size_t i = 0; i < N; i++) {
        asum += a[i];
        amin = a[i] < amin ? a[i] : amin;
    }
    if (!dirichlet)
        CHECK(fabs(asum - fsum) <= TOL * fsum, "%s: mass %.17g -> %.17g", what, fsum, asum);
    else if (c->flags & BERG_SYMBOL_FD)
        CHECK(asum <= fsum * (1 + TOL), "%s: FD Dirichlet mass rose %.17g -> %.17g", what, fsum,
              asum);
    if ((c->flags & BERG_SYMBOL_FD) && !c->coupled)
        CHECK(amin >= -TOL * fmax, "%s: FD semigroup of f >= 0 has %.3g", what, amin);

    /* the multiplier with the symbol k.g^{-1}k (the finite-difference wave
     * numbers under BERG_SYMBOL_FD) agrees with the heat semigroup; with a
     * coupled metric the FD stencil's cross terms differ (documented), so
     * that pair is not compared */
    if (!((c->flags & BERG_SYMBOL_FD) && c->coupled)) {
        symbol_data sd;
        memset(&sd, 0, sizeof sd);
        sd.d = c->d;
        CHECK(berg_space_inverse_metric(S, sd.ginv) == BERG_OK, "%s: inverse metric", what);
        berg_multiplier *M = NULL;
        st = berg_multiplier_create(&M, S, c->flags, heat_symbol, &sd);
        if (st == BERG_OK)
            st = berg_multiplier_exp_apply(M, t, f, b);
        CHECK(st == BERG_OK, "%s: multiplier: %s", what, berg_last_error());
        if (st == BERG_OK) {
            multiplier_checks++;
            err = tu_max_abs_diff(a, b, N);
            CHECK(err <= TOL * fmax, "%s: multiplier e^{-t k.g^-1 k} differs from heat by %.3g",
                  what, err);
        }
        berg_multiplier_destroy(M);
    }

    /* scale invariance: the box scaled by k at time k^2 t */
    /* extremes 10^(+-min(250/d, 140)): the cell volume c^d prod h, 1/h^2 and
     * c^2 t stay normal numbers */
    double ext = pow(10.0, fmin(floor(250.0 / (double)c->d), 140.0));
    const double SCALES[] = {1.0 / ext, 1e-3, 0.37, 7.0, 1e3, ext};
    double k = SCALES[pick(rng, sizeof SCALES / sizeof SCALES[0])];
    config cs = *c;
    for (size_t q = 0; q < c->d; q++) {
        cs.lo[q] = c->lo[q] * k;
        cs.hi[q] = c->hi[q] * k;
    }
    berg_space *Ss = NULL;
    berg_heat *Hs = NULL;
    st = berg_space_create(&Ss, cs.d, cs.n, cs.lo, cs.hi, cs.bc, cs.g);
    if (st == BERG_OK)
        st = berg_heat_create(&Hs, Ss, c->flags);
    if (st == BERG_OK)
        st = berg_heat_apply(Hs, t * k * k, f, b);
    CHECK(st == BERG_OK, "%s scaled by %g: %s", what, k, berg_last_error());
    if (st == BERG_OK) {
        scale_checks++;
        err = tu_max_abs_diff(a, b, N);
        CHECK(err <= TOL * fmax, "%s: box scaled by %g at time c^2 t differs by %.3g", what, k,
              err);
    }
    berg_heat_destroy(Hs);
    berg_space_destroy(Ss);
    free(f), free(g), free(a), free(b), free(e);
    berg_heat_destroy(H);
    berg_space_destroy(S);
}

int main(void)
{
    unsigned long long seed = 20261206ull, rng;
    size_t cases = 150;
    if (getenv("BERG_PROPERTY_SEED"))
        seed = strtoull(getenv("BERG_PROPERTY_SEED"), NULL, 0);
    if (getenv("BERG_PROPERTY_CASES"))
        cases = (size_t)strtoull(getenv("BERG_PROPERTY_CASES"), NULL, 0);
    printf("heat properties: seed %llu (BERG_PROPERTY_SEED), %zu configurations "
           "(BERG_PROPERTY_CASES)\n", seed, cases);
    rng = seed;
    for (size_t i = 0; i < cases; i++) {
        config c = random_config(&rng);
        check_config(&c, &rng);
    }
    printf("heat properties: %zu configurations checked, %zu scale checks, %zu multiplier "
           "comparisons\n", cases_run, scale_checks, multiplier_checks);
    return test_summary("heat-properties");
}
