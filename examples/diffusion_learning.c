/*
 * Score-based diffusion on a 1-D grid (seed p.38), composed from public
 * libberg calls: forward Ornstein-Uhlenbeck noising dX = -X dt + sqrt(2) dW
 * of a density p0 up to time T (berg_fp_evolve with V = x^2/2, fixed point
 * N(0, 1)); the exact grid score d/dx ln p_t (central differences); and the
 * reverse-time flow
 *   dY = (Y + 2 d/dy ln p_{T-s}(Y)) ds + sqrt(2) dW,  s in [0, T],
 * on nsteps equal steps with the score frozen at each step's midpoint time:
 *   PDE: each step is a berg_fp flow with the potential
 *        V_s = -y^2/2 - 2 ln p_{T-s} (p floored at 1e-250 of its maximum);
 *   particles: Euler-Maruyama with the score interpolated linearly between
 *        cell centres (reflected at the walls), histogrammed at the end
 *        (berg_space_histogram).
 * Both start from p_T itself (PDE) or samples of it (particles), so what is
 * measured is the error of the reverse flow; a trained model would start from
 * N(0, 1) instead, which costs KL(p_T || N(0, 1)), also printed.
 * Registered as a test: a bimodal p0, T = 3, 256 cells; KL(p0 || recovered)
 * falls by more than 2.5x per doubling of the steps and is below 1e-3 at 32
 * steps; 40000 particles recover p0 to KL(histogram || p0) < 0.03; exits 1
 * when a check fails.
 *
 *   diffusion_learning
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berg.h>

/* ISO C11 has no M_PI (POSIX does): this example builds with -std=c11 alone */
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct {
    size_t n;
    double lo, hi, h;
    const berg_space *space;
} grid;

/* ---- a small random number generator (splitmix64, Box-Muller) ---- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform on (0, 1) */
static double uniform(uint64_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
    return sqrt(-2.0 * log(uniform(s))) * cos(2.0 * M_PI * uniform(s));
}

/* ---- grid helpers ---- */

static double coord(const grid *g, size_t i)
{
    return g->lo + ((double)i + 0.5) * g->h;
}

/* score d/dx ln p on the grid (central differences, one-sided at the ends) */
static void grid_score(const grid *g, const double *lp, double *s)
{
    size_t n = g->n;
    for (size_t i = 0; i < n; i++) {
        if (n == 1)
            s[i] = 0.0;
        else if (i == 0)
            s[i] = (lp[1] - lp[0]) / g->h;
        else if (i == n - 1)
            s[i] = (lp[n - 1] - lp[n - 2]) / g->h;
        else
            s[i] = (lp[i + 1] - lp[i - 1]) / (2.0 * g->h);
    }
}

static double interp(const grid *g, const double *f, double x)
{
    double s = (x - g->lo) / g->h - 0.5;
    if (s <= 0.0)
        return f[0];
    if (s >= (double)(g->n - 1))
        return f[g->n - 1];
    size_t i = (size_t)s;
    double fr = s - (double)i;
    return (1.0 - fr) * f[i] + fr * f[i + 1];
}

/* lp = ln max(p, 1e-250 max p) */
static void log_floor(const double *p, size_t n, double *lp)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, p[i]);
    for (size_t i = 0; i < n; i++)
        lp[i] = log(fmax(p[i], 1e-250 * mx));
}

typedef struct {
    double kl;           /* KL(p0 || recovered), PDE */
    double kl_forward;   /* KL(p_T || N(0, 1)) */
    double kl_particles; /* KL(histogram || p0), with particles */
} result;

/* forward noising: pmid[k] = p at the midpoint time T - (k + 1/2) dt, and p = p_T */
static berg_status noise_forward(const berg_fp *ou, size_t n, size_t nsteps, double T,
                                 double *p, double *pmid)
{
    double dt = T / (double)nsteps, tnow = 0.0;
    berg_status st;
    for (size_t kk = nsteps; kk-- > 0;) {
        double tk = T - ((double)kk + 0.5) * dt;
        if ((st = berg_fp_evolve(ou, tk - tnow, p, p)))
            return st;
        tnow = tk;
        memcpy(pmid + kk * n, p, n * sizeof *p);
    }
    return berg_fp_evolve(ou, T - tnow, p, p);
}

/* particles sampled from pT, run backwards through the frozen scores */
static berg_status particles(const grid *g, const double *pT, const double *pmid, size_t nsteps,
                             double T, size_t count, uint64_t seed, double *hist)
{
    size_t n = g->n;
    double dt = T / (double)nsteps, sq = sqrt(2.0 * dt), acc = 0.0, w = g->h;
    double *xs = malloc(count * sizeof *xs), *cdf = malloc(n * sizeof *cdf);
    double *lp = malloc(n * sizeof *lp), *sc = malloc(n * sizeof *sc);
    for (size_t i = 0; i < n; i++) {
        acc += fmax(pT[i], 0.0) * w;
        cdf[i] = acc;
    }
    for (size_t m = 0; m < count; m++) { /* inverse CDF, uniform within a cell */
        double u = uniform(&seed) * acc;
        size_t lo = 0, hi = n - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        xs[m] = coord(g, lo) + (uniform(&seed) - 0.5) * g->h;
    }
    for (size_t k = 0; k < nsteps; k++) {
        log_floor(pmid + k * n, n, lp);
        grid_score(g, lp, sc);
        for (size_t m = 0; m < count; m++) {
            double x = xs[m];
            x += (x + 2.0 * interp(g, sc, x)) * dt + sq * normal(&seed);
            if (x < g->lo) /* reflect at the walls (Neumann box) */
                x = 2.0 * g->lo - x;
            if (x > g->hi)
                x = 2.0 * g->hi - x;
            xs[m] = x;
        }
    }
    size_t outside = 0;
    berg_status st = berg_space_histogram(g->space, count, xs, hist, &outside);
    free(xs);
    free(cdf);
    free(lp);
    free(sc);
    return st;
}

/* the reverse PDE: p <- reverse flow of p over nsteps frozen-potential steps */
static berg_status reverse_pde(const grid *g, const double *V, const double *pmid,
                               size_t nsteps, double T, double *p)
{
    size_t n = g->n;
    double *Vs = malloc(n * sizeof *Vs);
    berg_status st = BERG_OK;
    for (size_t k = 0; k < nsteps && st == BERG_OK; k++) {
        log_floor(pmid + k * n, n, Vs);
        for (size_t i = 0; i < n; i++)
            Vs[i] = -V[i] - 2.0 * Vs[i];
        berg_fp *rev = NULL;
        if (!(st = berg_fp_create(&rev, g->space, Vs, 0)))
            st = berg_fp_evolve(rev, T / (double)nsteps, p, p);
        berg_fp_destroy(rev);
    }
    free(Vs);
    return st;
}

static berg_status learn(const grid *g, const double *p0, double T, size_t nsteps,
                         size_t count, uint64_t seed, result *res)
{
    size_t n = g->n;
    double *V = malloc(n * sizeof *V), *p = malloc(n * sizeof *p);
    double *gauss = malloc(n * sizeof *gauss), *pmid = malloc(nsteps * n * sizeof *pmid);
    double *hist = malloc(n * sizeof *hist);
    berg_fp *ou = NULL;
    berg_status st;
    for (size_t i = 0; i < n; i++)
        V[i] = 0.5 * coord(g, i) * coord(g, i);
    memcpy(p, p0, n * sizeof *p);
    if ((st = berg_fp_create(&ou, g->space, V, 0)) || (st = berg_fp_stationary(ou, gauss)) ||
        (st = noise_forward(ou, n, nsteps, T, p, pmid)) ||
        (st = berg_kl_divergence(g->space, p, gauss, &res->kl_forward)))
        goto done;
    if (count > 0 && ((st = particles(g, p, pmid, nsteps, T, count, seed, hist)) ||
                      (st = berg_kl_divergence(g->space, hist, p0, &res->kl_particles))))
        goto done;
    if ((st = reverse_pde(g, V, pmid, nsteps, T, p)))
        goto done;
    st = berg_kl_divergence(g->space, p0, p, &res->kl);
done:
    berg_fp_destroy(ou);
    free(V);
    free(p);
    free(gauss);
    free(pmid);
    free(hist);
    return st;
}

int main(void)
{
    size_t n = 256;
    double lo = -8.0, hi = 8.0, mass;
    berg_boundary bc = BERG_NEUMANN;
    berg_space *S = NULL;
    if (berg_space_create(&S, 1, &n, &lo, &hi, &bc, NULL)) {
        fprintf(stderr, "diffusion_learning: %s\n", berg_last_error());
        return 1;
    }
    grid g = {n, lo, hi, (hi - lo) / (double)n, S};
    double *p0 = malloc(n * sizeof *p0);
    for (size_t i = 0; i < n; i++) { /* 0.4 N(-1.5, 0.3) + 0.6 N(2, 0.5) */
        double x = coord(&g, i);
        p0[i] = 0.4 * exp(-0.5 * (x + 1.5) * (x + 1.5) / 0.3) / sqrt(2 * M_PI * 0.3) +
                0.6 * exp(-0.5 * (x - 2.0) * (x - 2.0) / 0.5) / sqrt(2 * M_PI * 0.5);
    }
    berg_space_normalize(S, p0, &mass);
    size_t steps[4] = {4, 8, 16, 32};
    result r[4];
    int failures = 0;
    for (int k = 0; k < 4; k++) {
        if (learn(&g, p0, 3.0, steps[k], k == 3 ? 40000 : 0, 11, &r[k])) {
            fprintf(stderr, "diffusion_learning: %s\n", berg_last_error());
            return 1;
        }
        printf("%2zu reverse steps: KL(p0 || recovered) = %.3g\n", steps[k], r[k].kl);
        if (k > 0 && !(r[k].kl < r[k - 1].kl / 2.5)) {
            fprintf(stderr, "FAIL: %zu steps do not recover better than %zu\n", steps[k],
                    steps[k - 1]);
            failures++;
        }
    }
    printf("KL(p_T || N(0,1)) = %.3g; particles (40000, 32 steps): KL(hist || p0) = %.3g\n",
           r[3].kl_forward, r[3].kl_particles);
    if (!(r[3].kl < 1e-3)) {
        fprintf(stderr, "FAIL: 32 steps do not recover p0 (KL %.3g)\n", r[3].kl);
        failures++;
    }
    if (!(r[3].kl_particles < 0.03)) {
        fprintf(stderr, "FAIL: particles do not recover p0 (KL %.3g)\n", r[3].kl_particles);
        failures++;
    }
    if (!(r[3].kl_forward > 1e-4 && r[3].kl_forward < 0.02)) {
        fprintf(stderr, "FAIL: forward noising at T = 3 (KL %.3g)\n", r[3].kl_forward);
        failures++;
    }
    printf("%s\n", failures ? "some checks FAILED" : "all checks passed");
    berg_space_destroy(S);
    free(p0);
    return failures != 0;
}
