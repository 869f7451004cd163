/* tests of the heat and Fokker-Planck channels and the Petz recovery map:
 * adjointness, R(E(sigma)) = sigma, the data-processing inequality (eq 59)
 * and the classical recovery bound
 *   D(rho||sigma) - D(E rho||E sigma) >= D(rho || R(E rho)) >= -2 ln F(rho, R(E rho)),
 * which holds classically by the chain rule of relative entropy and joint
 * convexity (the difference is the average over y of KL between the two
 * posteriors rho(x|y) and the Petz reverse channel R(x|y)). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static double inner(const berg_space *s, const double *a, const double *b)
{
    double v = NAN;
    berg_space_inner_l2(s, a, b, &v);
    return v;
}

static void mixture(const berg_space *s, double m1, double v1, double m2, double v2, double w1,
                    double *p)
{
    size_t n = berg_space_size(s);
    double *x = malloc(n * sizeof *x), mass;
    berg_space_coordinates(s, 0, x);
    for (size_t i = 0; i < n; i++)
        p[i] = w1 * exp(-0.5 * (x[i] - m1) * (x[i] - m1) / v1) / sqrt(v1) +
               (1 - w1) * exp(-0.5 * (x[i] - m2) * (x[i] - m2) / v2) / sqrt(v2);
    berg_space_normalize(s, p, &mass);
    free(x);
}

static void run(berg_channel_kind kind, berg_boundary bc, double tol)
{
    size_t n = 256;
    double lo = -8.0, hi = 8.0;
    berg_space *S = NULL;
    berg_space_create(&S, 1, &n, &lo, &hi, &bc, NULL);
    double *V = malloc(n * sizeof *V), *x = malloc(n * sizeof *x);
    double *rho = malloc(n * sizeof *rho), *sig = malloc(n * sizeof *sig);
    double *Er = malloc(n * sizeof *Er), *Es = malloc(n * sizeof *Es), *R = malloc(n * sizeof *R);
    double *f = malloc(n * sizeof *f), *g = malloc(n * sizeof *g), *Ef = malloc(n * sizeof *Ef),
           *Ag = malloc(n * sizeof *Ag);
    berg_space_coordinates(S, 0, x);
    for (size_t i = 0; i < n; i++)
        V[i] = 0.25 * x[i] * x[i] + 0.02 * x[i] * x[i] * x[i] * x[i] / 4;
    const char *name = kind == BERG_CHANNEL_HEAT ? "heat" : "fp";
    berg_channel *ch = NULL;
    CHECK_STATUS(berg_channel_create(&ch, S, kind, 0.3, V), BERG_OK, "%s channel", name);
    mixture(S, -1.0, 0.5, 2.0, 1.0, 0.3, rho);
    mixture(S, 0.5, 2.0, -2.0, 0.7, 0.6, sig);
    /* adjointness <E f, g> = <f, E^dagger g> */
    unsigned long long seed = 7;
    for (size_t i = 0; i < n; i++) {
        f[i] = tu_uniform(&seed) * exp(-0.05 * x[i] * x[i]);
        g[i] = tu_uniform(&seed) + 0.5;
    }
    berg_channel_apply(ch, f, Ef);
    CHECK_STATUS(berg_channel_adjoint(ch, g, Ag), BERG_OK, "adjoint");
    CHECK_REL(inner(S, Ef, g), inner(S, f, Ag), tol, "%s: <E f, g> = <f, E^dagger g>", name);
    /* R(E(sigma)) = sigma */
    berg_channel_apply(ch, sig, Es);
    CHECK_STATUS(berg_channel_petz_recover(ch, sig, Es, R), BERG_OK, "recover");
    double err = 0.0, mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, fabs(R[i] - sig[i]));
        mx = fmax(mx, sig[i]);
    }
    CHECK(err < tol * mx, "%s: R(E sigma) = sigma (%.3g)", name, err / mx);
    /* data processing and the recovery bound */
    berg_channel_apply(ch, rho, Er);
    berg_channel_petz_recover(ch, sig, Er, R);
    double D0 = tu_kl(S, rho, sig), D1 = tu_kl(S, Er, Es), Drec = tu_kl(S, rho, R);
    double bc2 = 0.0, w;
    w = berg_space_cell_weight(S);
    for (size_t i = 0; i < n; i++)
        bc2 += sqrt(rho[i] * R[i]) * w;
    double fid = -2.0 * log(bc2);
    printf("%s: D(rho||sigma) %.6f  D(E rho||E sigma) %.6f  loss %.6f >= D(rho||R(E rho)) %.6f "
           ">= -2 ln F %.6f\n",
           name, D0, D1, D0 - D1, Drec, fid);
    CHECK(D1 <= D0 && D1 > 0.0, "%s: data processing", name);
    CHECK(D0 - D1 >= Drec - tol && Drec > 0.0, "%s: recovery bound", name);
    CHECK(Drec >= fid - tol, "%s: KL >= -2 ln Bhattacharyya", name);
    /* the recovered state is a density */
    double mass;
    berg_space_integrate(S, R, &mass);
    CHECK_REL(mass, 1.0, tol, "%s: R(E rho) has mass 1", name);

    /* bad input */
    double keep[256];
    memcpy(keep, R, sizeof keep);
    Er[5] = -1.0;
    CHECK_STATUS(berg_channel_petz_recover(ch, sig, Er, R), BERG_ERR_NEGATIVE, "%s: negative rho1",
                 name);
    CHECK(memcmp(keep, R, sizeof keep) == 0, "%s: out untouched", name);
    /* sigma is a density: mass 1 within berg_density_mass_tolerance() */
    for (size_t i = 0; i < n; i++)
        f[i] = 2.0 * sig[i];
    CHECK_STATUS(berg_channel_petz_recover(ch, f, Es, R), BERG_ERR_MASS, "%s: sigma of mass 2",
                 name);
    CHECK_MESSAGE("berg_channel_petz_recover", "names the function");
    CHECK(memcmp(keep, R, sizeof keep) == 0, "%s: out untouched", name);
    berg_channel_destroy(ch);
    berg_space_destroy(S);
    free(V);
    free(x);
    free(rho);
    free(sig);
    free(Er);
    free(Es);
    free(R);
    free(f);
    free(g);
    free(Ef);
    free(Ag);
}

/* ---- one const channel handle from 8 threads at once ------------------- */

enum { NTHREADS = 8, NCELLS = 128 };

typedef struct {
    const berg_channel *ch;
    const double *sigma, *rho1;
    double apply[NCELLS], adjoint[NCELLS], petz[NCELLS];
    berg_status st;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int rep = 0; rep < 20 && w->st == BERG_OK; rep++)
        if ((w->st = berg_channel_apply(w->ch, w->sigma, w->apply)) ||
            (w->st = berg_channel_adjoint(w->ch, w->rho1, w->adjoint)) ||
            (w->st = berg_channel_petz_recover(w->ch, w->sigma, w->rho1, w->petz)))
            break;
    return NULL;
}

static void threads(berg_channel_kind kind)
{
    size_t n = NCELLS;
    double lo = -6.0, hi = 6.0, V[NCELLS], sig[NCELLS], rho[NCELLS];
    berg_boundary bc = BERG_NEUMANN;
    berg_space *S = NULL;
    berg_space_create(&S, 1, &n, &lo, &hi, &bc, NULL);
    berg_space_coordinates(S, 0, V);
    for (size_t i = 0; i < n; i++)
        V[i] = 0.5 * V[i] * V[i];
    mixture(S, 0.5, 2.0, -2.0, 0.7, 0.6, sig);
    mixture(S, -1.0, 0.5, 2.0, 1.0, 0.3, rho);
    berg_channel *ch = NULL;
    CHECK_STATUS(berg_channel_create(&ch, S, kind, 0.2, V), BERG_OK, "channel for threads");
    worker serial = {ch, sig, rho, {0}, {0}, {0}, BERG_OK}, w[NTHREADS];
    work(&serial);
    pthread_t tid[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        w[k] = (worker){ch, sig, rho, {0}, {0}, {0}, BERG_OK};
        pthread_create(&tid[k], NULL, work, &w[k]);
    }
    int same = serial.st == BERG_OK;
    for (int k = 0; k < NTHREADS; k++) {
        pthread_join(tid[k], NULL);
        same &= w[k].st == BERG_OK && memcmp(w[k].apply, serial.apply, sizeof serial.apply) == 0 &&
                memcmp(w[k].adjoint, serial.adjoint, sizeof serial.adjoint) == 0 &&
                memcmp(w[k].petz, serial.petz, sizeof serial.petz) == 0;
    }
    CHECK(same, "%s: one channel from %d threads at once = serial, bitwise",
          kind == BERG_CHANNEL_HEAT ? "heat" : "fp", NTHREADS);
    berg_channel_destroy(ch);
    berg_space_destroy(S);
}

/* A heat kernel that rings below zero (a point mass on 3 Neumann cells at
 * t = h^2 / 20: the continuum symbol's kernel has a negative lobe) is not a
 * channel: apply and Petz refuse it (DOMAIN, outputs untouched) instead of
 * returning a negative state; the same channel maps a smooth state. */
static void ringing_kernel(void)
{
    size_t n = 3;
    double lo = 0, hi = 3;
    berg_boundary bc = BERG_NEUMANN;
    berg_space *S = NULL;
    berg_channel *ch = NULL;
    CHECK(berg_space_create(&S, 1, &n, &lo, &hi, &bc, NULL) == BERG_OK, "space");
    CHECK(berg_channel_create(&ch, S, BERG_CHANNEL_HEAT, 0.05, NULL) == BERG_OK, "channel");
    double delta[3] = {1.0, 0.0, 0.0}, out[3] = {-7, -7, -7};
    CHECK_STATUS(berg_channel_apply(ch, delta, out), BERG_ERR_DOMAIN, "ringing kernel refused");
    CHECK(strstr(berg_last_error(), "berg_channel_apply") != NULL &&
              strstr(berg_last_error(), "negative") != NULL,
          "message: %s", berg_last_error());
    CHECK(out[0] == -7 && out[1] == -7 && out[2] == -7, "out untouched");
    double flat[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    CHECK(berg_channel_apply(ch, flat, out) == BERG_OK, "a flat state maps");
    for (int i = 0; i < 3; i++)
        CHECK_REL(out[i], 1.0 / 3, 1e-14, "flat state fixed, cell %d", i);
    berg_channel_destroy(ch);
    berg_space_destroy(S);
}

int main(void)
{
    ringing_kernel();
    run(BERG_CHANNEL_HEAT, BERG_PERIODIC, 1e-12);
    run(BERG_CHANNEL_HEAT, BERG_NEUMANN, 1e-12);
    run(BERG_CHANNEL_FP, BERG_NEUMANN, 1e-6);
    threads(BERG_CHANNEL_HEAT);
    threads(BERG_CHANNEL_FP);
    berg_channel *ch = NULL;
    size_t n = 16;
    double lo = 0, hi = 1;
    berg_boundary bc = BERG_DIRICHLET;
    berg_space *S = NULL;
    berg_space_create(&S, 1, &n, &lo, &hi, &bc, NULL);
    CHECK_STATUS(berg_channel_create(&ch, S, BERG_CHANNEL_HEAT, 0.1, NULL), BERG_ERR_UNSUPPORTED,
                 "Dirichlet heat");
    CHECK_STATUS(berg_channel_create(&ch, S, BERG_CHANNEL_FP, 0.1, NULL), BERG_ERR_NULL, "FP no V");
    CHECK_STATUS(berg_channel_create(&ch, S, BERG_CHANNEL_HEAT, -0.1, NULL), BERG_ERR_TIME,
                 "t < 0");
    CHECK(ch == NULL, "out untouched");
    {   /* e^{-V} underflowing at a cell: the detailed-balance adjoint would
           lose it, so the FP channel is refused at creation */
        size_t m = 16;
        double a = 0, b = 1, V[16] = {0};
        berg_boundary nb = BERG_NEUMANN;
        berg_space *S2 = NULL;
        V[15] = 1e20;
        CHECK(berg_space_create(&S2, 1, &m, &a, &b, &nb, NULL) == BERG_OK, "space");
        CHECK_STATUS(berg_channel_create(&ch, S2, BERG_CHANNEL_FP, 0.5, V), BERG_ERR_DOMAIN,
                     "FP channel with an underflowing stationary state");
        CHECK(strstr(berg_last_error(), "cell 15") != NULL, "names the cell: %s",
              berg_last_error());
        CHECK(ch == NULL, "out untouched");
        berg_space_destroy(S2);
    }
    berg_channel_destroy(NULL);
    berg_space_destroy(S);
    return test_summary("dictionary-petz");
}
