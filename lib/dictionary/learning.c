/*
 * lib/dictionary/learning.c - diffusion learning (seed p.38): forward
 * Ornstein-Uhlenbeck noising, the exact grid score and the reverse-time flow
 * as a PDE and as particles.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "berg/metric.h"
#include "berg/propagator.h"
#include "dictionary/internal.h"

/* score d/dx ln p on the grid (central differences, one-sided at the ends) */
static void grid_score(const struct berg_space *S, const double *lp, double *s)
{
    size_t n = S->n[0];
    double h = S->h[0];
    for (size_t i = 0; i < n; i++) {
        if (n == 1)
            s[i] = 0.0;
        else if (i == 0)
            s[i] = (lp[1] - lp[0]) / h;
        else if (i == n - 1)
            s[i] = (lp[n - 1] - lp[n - 2]) / h;
        else
            s[i] = (lp[i + 1] - lp[i - 1]) / (2.0 * h);
    }
}

static double interp(const struct berg_space *S, const double *f, double x)
{
    size_t n = S->n[0];
    double s = (x - S->lo[0]) / S->h[0] - 0.5;
    if (s <= 0.0)
        return f[0];
    if (s >= (double)(n - 1))
        return f[n - 1];
    size_t i = (size_t)s;
    double fr = s - (double)i;
    return (1.0 - fr) * f[i] + fr * f[i + 1];
}

static void log_floor(const double *p, size_t n, double *lp)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, p[i]);
    double fl = 1e-250 * mx;
    for (size_t i = 0; i < n; i++)
        lp[i] = log(p[i] > fl ? p[i] : fl);
}

berg_status berg_diffusion_learning(const berg_space *space, const double *p0, double T,
                                    size_t nsteps, size_t nparticles, unsigned long long seed,
                                    double *recovered, double *kl, double *recovered_particles,
                                    double *kl_particles, double *kl_forward)
{
    static const char fn[] = "berg_diffusion_learning";
    berg_status st;
    double mass;
    if ((st = berg__space_check(space, fn)) || (st = berg__check_ptr(p0, fn, "p0")) ||
        (st = berg__check_ptr(kl, fn, "kl")) ||
        (st = berg__check_density(p0, space->size, fn, "p0", &mass)))
        return st;
    if (!isfinite(T) || T <= 0.0)
        return berg__error(BERG_ERR_TIME, "%s: T = %g must be finite and > 0", fn, T);
    if (nsteps == 0)
        return berg__error(BERG_ERR_SIZE, "%s: nsteps must be >= 1", fn);
    if (space->ndim != 1 || space->g[0] != 1.0)
        return berg__error(BERG_ERR_UNSUPPORTED,
                           "%s: diffusion learning is implemented on 1-D grids with the identity "
                           "metric",
                           fn);
    size_t n = space->size, tot;
    if ((st = berg__mul_size(nsteps, n, &tot, fn, "nsteps * size")))
        return st;
    double dt = T / (double)nsteps, w = space->weight;
    double *V = berg__alloc(n, sizeof(double), fn), *p = berg__alloc(n, sizeof(double), fn);
    double *pn = berg__alloc(n, sizeof(double), fn), *lp = berg__alloc(n, sizeof(double), fn);
    double *gauss = berg__alloc(n, sizeof(double), fn);
    double *pmid = berg__alloc(tot, sizeof(double), fn); /* p at the midpoint times */
    double *sc = berg__alloc(n, sizeof(double), fn);
    double *xs = NULL, *hist = NULL;
    berg_fp *ou = NULL;
    if (!V || !p || !pn || !lp || !gauss || !pmid || !sc) {
        st = BERG_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        double x = berg__coord(space, 0, i);
        V[i] = 0.5 * x * x;
        pn[i] = p0[i] / (mass * w);
    }
    if ((st = berg_fp_create(&ou, space, V, 0)) || (st = berg_fp_stationary(ou, gauss)))
        goto done;
    /* forward: midpoints t_k = T - (k + 1/2) dt, k = nsteps-1 (smallest) .. 0, then T */
    memcpy(p, pn, n * sizeof(double));
    double tnow = 0.0;
    for (size_t kk = nsteps; kk-- > 0;) {
        double tk = T - ((double)kk + 0.5) * dt;
        if ((st = berg_fp_evolve(ou, tk - tnow, p, p)))
            goto done;
        tnow = tk;
        memcpy(pmid + kk * n, p, n * sizeof(double));
    }
    if ((st = berg_fp_evolve(ou, T - tnow, p, p)))
        goto done;
    /* p = p_T */
    double klf = 0.0;
    if (kl_forward && (st = berg_kl_divergence(space, p, gauss, &klf)))
        goto done;
    /* particles: sample p_T by inverse CDF on the grid */
    if (nparticles > 0) {
        xs = berg__alloc(nparticles, sizeof(double), fn);
        hist = berg__alloc(n, sizeof(double), fn);
        if (!xs || !hist) {
            st = BERG_ERR_NOMEM;
            goto done;
        }
        berg__rng rng;
        berg__rng_seed(&rng, (uint64_t)seed, 0);
        /* cumulative distribution of p_T over cells, uniform within a cell */
        double *cdf = sc; /* reuse as scratch */
        double acc = 0.0;
        for (size_t i = 0; i < n; i++) {
            acc += (p[i] > 0.0 ? p[i] : 0.0) * w;
            cdf[i] = acc;
        }
        for (size_t m = 0; m < nparticles; m++) {
            double u = berg__rng_uniform(&rng) * acc;
            size_t lo = 0, hi = n - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cdf[mid] < u)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            xs[m] = berg__coord(space, 0, lo) + (berg__rng_uniform(&rng) - 0.5) * space->h[0];
        }
        double sq = sqrt(2.0 * dt);
        for (size_t k = 0; k < nsteps; k++) {
            log_floor(pmid + k * n, n, lp);
            grid_score(space, lp, sc);
            for (size_t m = 0; m < nparticles; m++) {
                double z;
                berg__rng_normals(&rng, &z, 1);
                double x = xs[m];
                x += (x + 2.0 * interp(space, sc, x)) * dt + sq * z;
                /* reflect at the walls (Neumann box) */
                if (x < space->lo[0])
                    x = 2.0 * space->lo[0] - x;
                if (x > space->hi[0])
                    x = 2.0 * space->hi[0] - x;
                xs[m] = x;
            }
        }
        size_t outside = 0;
        if ((st = berg_particles_histogram(space, nparticles, xs, hist, &outside)))
            goto done;
    }
    /* PDE: reverse steps with frozen potential V_s = -y^2/2 - 2 ln p_mid */
    for (size_t k = 0; k < nsteps; k++) {
        log_floor(pmid + k * n, n, lp);
        for (size_t i = 0; i < n; i++)
            lp[i] = -V[i] - 2.0 * lp[i];
        berg_fp *rev = NULL;
        if ((st = berg_fp_create(&rev, space, lp, 0)))
            goto done;
        st = berg_fp_evolve(rev, dt, p, p);
        berg_fp_destroy(rev);
        if (st)
            goto done;
    }
    double klv, klp = 0.0;
    if ((st = berg_kl_divergence(space, pn, p, &klv)))
        goto done;
    if (nparticles > 0 && (st = berg_kl_divergence(space, hist, pn, &klp)))
        goto done;
    *kl = klv;
    if (kl_forward)
        *kl_forward = klf;
    if (recovered)
        memcpy(recovered, p, n * sizeof(double));
    if (nparticles > 0) {
        if (recovered_particles)
            memcpy(recovered_particles, hist, n * sizeof(double));
        if (kl_particles)
            *kl_particles = klp;
    }
done:
    berg_fp_destroy(ou);
    berg__free(V);
    berg__free(p);
    berg__free(pn);
    berg__free(lp);
    berg__free(gauss);
    berg__free(pmid);
    berg__free(sc);
    berg__free(xs);
    berg__free(hist);
    return st;
}
