/*
 * Fokker-Planck benchmarks:
 *  1. berg_fp_evolve per unit of time versus the FFT heat step
 *     berg_heat_apply over the same time on the same grid (ratio);
 *  2. berg_fp_evolve versus an explicit finite-difference solver (forward
 *     Euler, centred conservative fluxes, the textbook scheme) on the 1-D
 *     Ornstein-Uhlenbeck problem, each on a grid where it reaches the same
 *     L1 error against the closed form (printed);
 *  3. spectral propagator: creation (dsyevd) and apply time versus N;
 *  4. the Fourier discretization (BERG_FP_FOURIER): evolution per unit of
 *     time versus the heat step it is built on, and versus the explicit
 *     solver at the same L1 error on the 1-D Ornstein-Uhlenbeck problem.
 * Run: meson benchmark -C build --suite propagator (or build/bench/propagator/bench_fp;
 * bench_fp fourier runs section 4 alone).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "berg.h"

static double gauss(double x, double m, double v)
{
    return exp(-(x - m) * (x - m) / (2 * v)) / sqrt(2 * M_PI * v);
}

/* ---- 1. FP vs heat --------------------------------------------------------- */

typedef struct {
    berg_fp *fp;
    berg_heat *heat;
    double *in, *out, t;
} fp_ctx;

static void run_fp(void *c)
{
    fp_ctx *x = c;
    berg_fp_evolve(x->fp, x->t, x->in, x->out);
}

static void run_heat(void *c)
{
    fp_ctx *x = c;
    berg_heat_apply(x->heat, x->t, x->in, x->out);
}

/* t = 1 of the flow with V = (x^2 + 2 y^2)/2 against the heat step on the
 * same grid. Finite volume (flags 0): Neumann box [-6, 6]^d. Fourier: the
 * periodic box [-9, 9]^d (e^{-V/2} negligible at its edges), with
 * coupled != 0 the metric [[1, 0.4], [0.4, 1]] and V + 0.6 x y. */
static void fp_vs_heat(int d, size_t n, unsigned flags, int coupled)
{
    int fourier = (flags & BERG_FP_FOURIER) != 0;
    size_t shape[2] = {n, n};
    const double L = fourier ? 9.0 : 6.0;
    double lo[2] = {-L, -L}, hi[2] = {L, L}, g[4] = {1.0, 0.0, 0.0, 1.0};
    if (coupled)
        g[1] = g[2] = 0.4;
    berg_boundary kind = fourier ? BERG_PERIODIC : BERG_NEUMANN, bc[2] = {kind, kind};
    berg_space *s = NULL;
    berg_space_create(&s, d, shape, lo, hi, bc, d == 2 ? g : NULL);
    size_t N = berg_space_size(s);
    double h = 2 * L / (double)n;
    double *V = malloc(N * sizeof(double));
    fp_ctx c = {NULL, NULL, malloc(N * sizeof(double)), malloc(N * sizeof(double)), 1.0};
    for (size_t i = 0; i < N; i++) {
        double x = -L + ((double)(d == 1 ? i : i / n) + 0.5) * h;
        double y = d == 1 ? 0.0 : -L + ((double)(i % n) + 0.5) * h;
        V[i] = 0.5 * (x * x + 2 * y * y) + (coupled ? 0.6 * x * y : 0.0);
        c.in[i] = gauss(x, 1.0, 0.3) * gauss(y, -0.5, 0.3);
    }
    if (berg_fp_create(&c.fp, s, V, flags) != BERG_OK) {
        printf("fp %d-D: %s\n", d, berg_last_error());
        exit(1);
    }
    berg_heat_create(&c.heat, s, 0);
    char name[80];
    snprintf(name, sizeof name, "%s evolve t=1 %d-D %zu^%d%s", fourier ? "fourier" : "fp", d, n,
             d, coupled ? " coupled g" : "");
    bench_pair(name, run_fp, &c, "heat t=1", run_heat, &c, 5);
    size_t acc, rej;
    berg_fp_evolve(c.fp, 1.0, c.in, c.out);
    berg_fp_last_steps(c.fp, &acc, &rej);
    printf("    (%zu accepted + %zu rejected steps of %s each, tol 1e-8)\n", acc, rej,
           fourier ? "10 FFT heat steps" : "21 implicit sweeps");
    berg_fp_destroy(c.fp);
    berg_heat_destroy(c.heat);
    berg_space_destroy(s);
    free(V);
    free(c.in);
    free(c.out);
}

/* ---- 2. FP vs explicit finite differences ---------------------------------- */

typedef struct {
    size_t n;
    double lo, h, t, dt;
    double *V, *p0, *p, *q, *flux;
    berg_fp *fp;
    berg_space *s;
} ou_ctx;

static const double OU_M0 = 1.0, OU_V0 = 0.25, OU_T = 0.5, OU_L = 6.5;

/* the OU problem on [-L, L] with n cells: finite volume on a Neumann box
 * (flags 0) or the Fourier discretization on a periodic one; c->fp stays
 * NULL when libberg refuses the grid (Fourier: e^{-V/2} not resolved) */
static void ou_setup_on(ou_ctx *c, size_t n, double L, unsigned flags)
{
    c->n = n;
    c->lo = -L;
    c->h = 2 * L / (double)n;
    c->t = OU_T;
    c->V = malloc(n * sizeof(double));
    c->p0 = malloc(n * sizeof(double));
    c->p = malloc(n * sizeof(double));
    c->q = malloc(n * sizeof(double));
    c->flux = malloc((n + 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double x = c->lo + (i + 0.5) * c->h;
        c->V[i] = 0.5 * x * x;
        c->p0[i] = gauss(x, OU_M0, OU_V0);
    }
    /* forward Euler stability: dt <= h^2 / (2 D + h^2 max V''/2); take 0.9 of it */
    c->dt = 0.9 * c->h * c->h / (2.0 + 0.5 * c->h * c->h);
    double lo = -L, hi = L;
    berg_boundary bc = (flags & BERG_FP_FOURIER) ? BERG_PERIODIC : BERG_NEUMANN;
    c->s = NULL;
    c->fp = NULL;
    berg_space_create(&c->s, 1, &n, &lo, &hi, &bc, NULL);
    berg_fp_create(&c->fp, c->s, c->V, flags);
}

static void ou_setup(ou_ctx *c, size_t n) { ou_setup_on(c, n, OU_L, 0); }

static void ou_free(ou_ctx *c)
{
    free(c->V);
    free(c->p0);
    free(c->p);
    free(c->q);
    free(c->flux);
    berg_fp_destroy(c->fp);
    berg_space_destroy(c->s);
}

/* explicit: F_{i+1/2} = -[(p_{i+1} - p_i)/h + (p_i + p_{i+1})/2 (V_{i+1} - V_i)/h],
 * zero at the walls; p_i -= dt (F_{i+1/2} - F_{i-1/2}) / h */
static void run_explicit(void *cv)
{
    ou_ctx *c = cv;
    size_t n = c->n;
    double *p = c->p, *F = c->flux, ih = 1.0 / c->h;
    for (size_t i = 0; i < n; i++)
        p[i] = c->p0[i];
    size_t steps = (size_t)ceil(c->t / c->dt);
    double dt = c->t / (double)steps;
    F[0] = F[n] = 0.0;
    for (size_t k = 0; k < steps; k++) {
        for (size_t i = 0; i + 1 < n; i++)
            F[i + 1] = -((p[i + 1] - p[i]) + 0.5 * (p[i] + p[i + 1]) * (c->V[i + 1] - c->V[i])) *
                       ih;
        for (size_t i = 0; i < n; i++)
            p[i] -= dt * ih * (F[i + 1] - F[i]);
    }
}

static void run_berg_ou(void *cv)
{
    ou_ctx *c = cv;
    berg_fp_evolve(c->fp, c->t, c->p0, c->p);
}

static double ou_error(ou_ctx *c)
{
    double mt = OU_M0 * exp(-OU_T), vt = 1 - (1 - OU_V0) * exp(-2 * OU_T), e = 0;
    for (size_t i = 0; i < c->n; i++)
        e += fabs(c->p[i] - gauss(c->lo + (i + 0.5) * c->h, mt, vt));
    return e * c->h;
}

static void fp_vs_explicit(size_t n)
{
    ou_ctx a, b;
    ou_setup(&a, n);
    run_berg_ou(&a);
    double ea = ou_error(&a);
    /* the spatial error dominates: a tolerance of 1/20 of it is enough */
    double tol = fmax(1e-8, ea / 20);
    berg_fp_set_tolerance(a.fp, tol);
    run_berg_ou(&a);
    ea = ou_error(&a);
    /* the explicit solver on the coarsest grid (multiples of 256 cells)
     * whose error is no larger than libberg's */
    size_t nb = 256;
    double eb = INFINITY;
    for (;;) {
        ou_setup(&b, nb);
        run_explicit(&b);
        eb = ou_error(&b);
        if (eb <= ea || nb >= 4 * n)
            break;
        ou_free(&b);
        nb += 256;
    }
    char name[96];
    snprintf(name, sizeof name, "OU 1-D t=0.5 to L1 %.2g (n %zu vs %zu)", ea, n, nb);
    printf("    libberg n=%zu tol %.2g L1 error %.3g; explicit n=%zu L1 error %.3g (dt %.2g, %zu "
           "steps)\n",
           n, tol, ea, nb, eb, b.dt, (size_t)ceil(b.t / b.dt));
    bench_pair(name, run_berg_ou, &a, "explicit FD", run_explicit, &b, 3);
    ou_free(&a);
    ou_free(&b);
}

/* ---- 3. spectral propagator ------------------------------------------------ */

typedef struct {
    berg_fp *fp;
    berg_fp_spectral *sp;
    double *in, *out;
} sp_ctx;

static void run_sp_create(void *cv)
{
    sp_ctx *c = cv;
    berg_fp_spectral *sp = NULL;
    berg_fp_spectral_create(&sp, c->fp);
    berg_fp_spectral_destroy(sp);
}

static void run_sp_apply(void *cv)
{
    sp_ctx *c = cv;
    berg_fp_spectral_evolve(c->sp, 0.7, c->in, c->out);
}

static void spectral_sizes(void)
{
    size_t sizes[4] = {256, 512, 1024, 2048};
    for (int k = 0; k < 4; k++) {
        size_t n = sizes[k];
        double lo = -5, hi = 5;
        berg_boundary bc = BERG_NEUMANN;
        berg_space *s = NULL;
        berg_space_create(&s, 1, &n, &lo, &hi, &bc, NULL);
        double *V = malloc(n * sizeof(double));
        sp_ctx c = {NULL, NULL, malloc(n * sizeof(double)), malloc(n * sizeof(double))};
        for (size_t i = 0; i < n; i++) {
            double x = lo + (i + 0.5) * 10.0 / (double)n;
            V[i] = (x * x - 1) * (x * x - 1) / 4;
            c.in[i] = gauss(x, 0.5, 0.2);
        }
        berg_fp_create(&c.fp, s, V, 0);
        berg_fp_spectral_create(&c.sp, c.fp);
        char name[64];
        snprintf(name, sizeof name, "spectral create N=%zu", n);
        bench_single(name, run_sp_create, &c, n >= 2048 ? 1 : 3);
        snprintf(name, sizeof name, "spectral apply  N=%zu", n);
        bench_single(name, run_sp_apply, &c, 9);
        berg_fp_spectral_destroy(c.sp);
        berg_fp_destroy(c.fp);
        berg_space_destroy(s);
        free(V);
        free(c.in);
        free(c.out);
    }
}

/* ---- 4. the Fourier discretization (its heat-step ratio: fp_vs_heat) ---- */

static void fourier_vs_explicit(size_t nb)
{
    ou_ctx b;
    ou_setup(&b, nb);
    run_explicit(&b);
    double eb = ou_error(&b);
    /* the coarsest Fourier grid (multiples of 8 cells) on the periodic box
     * [-9, 9] at least as accurate */
    ou_ctx a;
    size_t na = 16;
    double ea;
    for (;;) {
        ou_setup_on(&a, na, 9.0, BERG_FP_FOURIER);
        ea = INFINITY;
        if (a.fp) {
            run_berg_ou(&a);
            ea = ou_error(&a);
        }
        if (ea <= eb || na >= 512)
            break;
        ou_free(&a);
        na += 8;
    }
    char name[96];
    snprintf(name, sizeof name, "OU 1-D t=0.5 to L1 %.2g (fourier n %zu vs %zu)", eb, na, nb);
    printf("    libberg Fourier n=%zu tol 1e-8 L1 error %.3g; explicit n=%zu L1 error %.3g\n", na,
           ea, nb, eb);
    double ratio = bench_pair(name, run_berg_ou, &a, "explicit FD", run_explicit, &b, 3);
    printf("    libberg Fourier is %.0fx faster (and %.0fx more accurate)\n", 1.0 / ratio,
           eb / ea);
    ou_free(&a);
    ou_free(&b);
}

int main(int argc, char **argv)
{
    /* "bench_fp fourier": only section 4 */
    int all = !(argc > 1 && strcmp(argv[1], "fourier") == 0);
    if (all) {
        fp_vs_heat(1, 4096, 0, 0);
        fp_vs_heat(2, 256, 0, 0);
        fp_vs_explicit(1536);
        fp_vs_explicit(6144);
        spectral_sizes();
    }
    fp_vs_heat(1, 4096, BERG_FP_FOURIER, 0);
    fp_vs_heat(2, 256, BERG_FP_FOURIER, 0);
    fp_vs_heat(2, 256, BERG_FP_FOURIER, 1);
    fourier_vs_explicit(1536);
    fourier_vs_explicit(6144);
    return 0;
}
