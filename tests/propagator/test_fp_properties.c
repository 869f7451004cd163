/* Randomized properties of both Fokker-Planck discretizations: random rank
 * (1-4), shapes, boundary kinds, metrics and potentials, each case checked
 * against the invariants docs/fokker_planck.md promises:
 *   L q = 0 without absorbing walls (q = e^{-V}/Z exactly stationary),
 *   <f, L p> = <L^T f, p>,
 *   mass conserved (no absorbing wall) or decreasing (absorbing walls),
 *   positivity, KL(p_t || q) not increasing, q evolved stays q, and the
 *   stepper against the exact spectral propagator within 10x the tolerance.
 * The data are reproducible (a fixed seed); a failure prints the case. */
#include <stdlib.h>

#include "testutil.h"
#include "fp_helpers.h"

#define CASES_VOLUME 40
#define CASES_FOURIER 16

typedef struct fp_case {
    size_t rank, n[4], size;
    double lo[4], hi[4], g[16];
    berg_boundary bc[4];
    int absorbing;
    char name[160];
} fp_case;

static size_t pick(unsigned long long *rng, size_t lo, size_t hi)
{
    return lo + (size_t)(tu_uniform(rng) * (double)(hi - lo + 1));
}

/* a random case; Fourier: periodic axes with an even number of cells in
 * 16..32, a random coupled metric; finite volume: any boundary kind, any
 * cell count >= 1, a diagonal metric */
static void random_case(unsigned long long *rng, int fourier, fp_case *c)
{
    c->rank = fourier ? pick(rng, 1, 2) : pick(rng, 1, 4);
    size_t cap = 900; /* finite volume: keeps the spectral check fast */
    c->size = 1;
    c->absorbing = 0;
    for (size_t a = 0; a < c->rank; a++) {
        size_t room = cap / c->size;
        size_t most = room < (fourier ? 24u : 12u) ? room : (fourier ? 24u : 12u);
        c->n[a] = fourier ? 2 * pick(rng, 8, 16) : pick(rng, 1, most > 1 ? most : 1);
        c->size *= c->n[a];
        double width = 3.0 + 4.0 * tu_uniform(rng);
        c->lo[a] = -width * (0.5 + 0.2 * (tu_uniform(rng) - 0.5));
        c->hi[a] = c->lo[a] + width;
        c->bc[a] = fourier ? BERG_PERIODIC : (berg_boundary)pick(rng, 0, 2);
        if (c->bc[a] == BERG_DIRICHLET)
            c->absorbing = 1;
    }
    for (size_t a = 0; a < c->rank; a++)
        for (size_t b = 0; b < c->rank; b++)
            c->g[a * c->rank + b] = (a == b) ? 0.5 + tu_uniform(rng) : 0.0;
    if (fourier && c->rank == 2)
        c->g[1] = c->g[2] = 0.4 * (tu_uniform(rng) - 0.5) * sqrt(c->g[0] * c->g[3]);
    int len = snprintf(c->name, sizeof c->name, "%s rank %zu,", fourier ? "Fourier" : "volume",
                       c->rank);
    for (size_t a = 0; a < c->rank && len > 0 && (size_t)len < sizeof c->name; a++)
        len += snprintf(c->name + len, sizeof c->name - (size_t)len, " %zu%c", c->n[a],
                         "PND"[c->bc[a]]);
}

/* a random potential: finite volume: a random quadratic plus a few waves of
 * random amplitude (any V works); Fourier: long waves periodic on the box,
 * small enough that e^{-V/2} is resolved on 16 cells */
static void random_potential(unsigned long long *rng, const berg_space *s, const fp_case *c,
                             int fourier, double *V)
{
    double curv[4], k[3][4], amp[3], phase[3];
    for (size_t a = 0; a < c->rank; a++)
        curv[a] = fourier ? 0.0 : 2.0 * tu_uniform(rng);
    for (int w = 0; w < 3; w++) {
        amp[w] = (fourier ? 0.25 : 1.5) * tu_uniform(rng);
        phase[w] = 6.28 * tu_uniform(rng);
        for (size_t a = 0; a < c->rank; a++)
            k[w][a] = 2.0 * M_PI * (double)pick(rng, 0, fourier ? 1 : 2) / (c->hi[a] - c->lo[a]);
    }
    for (size_t i = 0; i < c->size; i++) {
        double x[4], v = 0.0;
        tu_grid_point(s, i, x);
        for (size_t a = 0; a < c->rank; a++)
            v += 0.5 * curv[a] * x[a] * x[a];
        for (int w = 0; w < 3; w++) {
            double kx = phase[w];
            for (size_t a = 0; a < c->rank; a++)
                kx += k[w][a] * (x[a] - c->lo[a]);
            v += amp[w] * cos(kx);
        }
        V[i] = v;
    }
}

/* the largest stepper-vs-spectral L1 difference / (tol mass) per kind */
static double worst_ratio[2];
static size_t cases_run[2];

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double l1(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs(a[i]);
    return s;
}

/* the generator: L q = 0 and the transpose identity */
static void check_generator(const berg_fp *fp, const fp_case *c, const double *q,
                            const double *p, const double *f, double *w1, double *w2)
{
    size_t n = c->size;
    CHECK_STATUS(berg_fp_generator_apply(fp, q, w1), BERG_OK, "%s: L q", c->name);
    CHECK_STATUS(berg_fp_generator_apply(fp, p, w2), BERG_OK, "%s: L p", c->name);
    double scale = l1(w2, n) / l1(p, n) * l1(q, n); /* |L| at the data's scale */
    if (!c->absorbing) /* absorbing walls: q is not stationary */
        CHECK(l1(w1, n) <= 1e-10 * scale + 1e-300, "%s: |L q|_1 = %.3g (scale %.3g)", c->name,
              l1(w1, n), scale);
    double fLp = dot(f, w2, n);
    CHECK_STATUS(berg_fp_backward_apply(fp, f, w1), BERG_OK, "%s: L^T f", c->name);
    double Ltfp = dot(w1, p, n);
    double size = fabs(fLp) + fabs(Ltfp) + 1e-12 * l1(f, n) * scale;
    CHECK(fabs(fLp - Ltfp) <= 1e-10 * size, "%s: <f, L p> = %.17g, <L^T f, p> = %.17g",
          c->name, fLp, Ltfp);
    if (!c->absorbing) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += w2[i];
        CHECK(fabs(sum) <= 1e-11 * l1(w2, n) + 1e-300, "%s: sum L p = %.3g", c->name, sum);
    }
}

/* the stepper: mass, positivity, KL, stationarity, the spectral propagator */
static void check_evolve(const berg_fp *fp, const fp_case *c, const berg_space *s,
                         const double *q, const double *p, double t, double *pt, double *w)
{
    size_t n = c->size;
    double tol = 1e-8;
    CHECK_STATUS(berg_fp_evolve(fp, t, p, pt), BERG_OK, "%s: evolve", c->name);
    double m0 = mass(s, p), m1 = mass(s, pt);
    if (c->absorbing)
        CHECK(m1 <= m0 * (1 + 1e-12), "%s: mass %.17g -> %.17g with absorbing walls", c->name,
              m0, m1);
    else
        CHECK_REL(m1, m0, 1e-12, "%s: mass conserved", c->name);
    CHECK(min_of(pt, n) >= 0.0, "%s: p_t >= 0 (min %.3g)", c->name, min_of(pt, n));
    if (!c->absorbing)
        CHECK(tu_kl(s, pt, q) <= tu_kl(s, p, q) + 10 * tol, "%s: KL %.6g -> %.6g", c->name,
              tu_kl(s, p, q), tu_kl(s, pt, q));
    if (!c->absorbing) {
        CHECK_STATUS(berg_fp_evolve(fp, t, q, w), BERG_OK, "%s: evolve q", c->name);
        CHECK(l1_dist(s, w, q) <= 10 * tol, "%s: q is stationary under evolve (L1 %.3g)",
              c->name, l1_dist(s, w, q));
    }
    berg_fp_spectral *sp = NULL;
    CHECK_STATUS(berg_fp_spectral_create(&sp, fp), BERG_OK, "%s: spectral", c->name);
    if (!sp)
        return;
    CHECK_STATUS(berg_fp_spectral_evolve(sp, t, p, w), BERG_OK, "%s: spectral evolve", c->name);
    CHECK(l1_dist(s, pt, w) <= 10 * tol * m0, "%s: stepper vs spectral L1 %.3g (mass %.3g)",
          c->name, l1_dist(s, pt, w), m0);
    int kind = c->name[0] == 'F';
    worst_ratio[kind] = fmax(worst_ratio[kind], l1_dist(s, pt, w) / (tol * m0));
    cases_run[kind]++;
    berg_fp_spectral_destroy(sp);
}

static void run_cases(int fourier, size_t cases, unsigned long long seed)
{
    unsigned long long rng = seed;
    for (size_t k = 0; k < cases; k++) {
        fp_case c;
        random_case(&rng, fourier, &c);
        berg_space *s = tu_space((int)c.rank, c.n, c.lo, c.hi, c.bc, c.g);
        if (!s)
            continue;
        size_t n = c.size;
        double *V = tu_vec(n), *q = tu_vec(n), *p = tu_vec(n), *f = tu_vec(n),
               *w1 = tu_vec(n), *w2 = tu_vec(n);
        random_potential(&rng, s, &c, fourier, V);
        /* p: random positive (Fourier: q times a smooth positive factor, so
         * that p e^{V/2} is resolved); f: random */
        double shift[4];
        for (size_t a = 0; a < c.rank; a++)
            shift[a] = 0.3 * (c.hi[a] - c.lo[a]) * (tu_uniform(&rng) - 0.5);
        for (size_t i = 0; i < n; i++) {
            double x[4], e = 0.0;
            tu_grid_point(s, i, x);
            for (size_t a = 0; a < c.rank; a++)
                e += 0.5 * cos(2 * M_PI * (x[a] - c.lo[a] - shift[a]) / (c.hi[a] - c.lo[a]));
            p[i] = fourier ? exp(e) : 0.1 + tu_uniform(&rng);
            f[i] = tu_uniform(&rng) - 0.5;
        }
        berg_fp *fp = NULL;
        CHECK_STATUS(berg_fp_create(&fp, s, V, fourier ? BERG_FP_FOURIER | BERG_PLAN_ESTIMATE : 0),
                     BERG_OK, "%s: create", c.name);
        if (fp) {
            CHECK_STATUS(berg_fp_stationary(fp, q), BERG_OK, "%s: q", c.name);
            if (fourier)
                for (size_t i = 0; i < n; i++)
                    p[i] *= q[i];
            check_generator(fp, &c, q, p, f, w1, w2);
            check_evolve(fp, &c, s, q, p, 0.05 + tu_uniform(&rng), w1, w2);
        }
        berg_fp_destroy(fp);
        berg_space_destroy(s);
        free(V);
        free(q);
        free(p);
        free(f);
        free(w1);
        free(w2);
    }
}

int main(void)
{
    run_cases(0, CASES_VOLUME, 20261206ull);
    run_cases(1, CASES_FOURIER, 1206ull);
    printf("finite volume: %zu cases, stepper vs spectral at most %.3g x tol x mass\n",
           cases_run[0], worst_ratio[0]);
    printf("Fourier: %zu cases, stepper vs spectral at most %.3g x tol x mass\n", cases_run[1],
           worst_ratio[1]);
    return test_summary("fp_properties");
}
