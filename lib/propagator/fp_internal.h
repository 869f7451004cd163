/*
 * lib/propagator/fp_internal.h - the layout of berg_fp (Scharfetter-Gummel
 * finite-volume Fokker-Planck generator) for the files of issue 4. Not
 * installed.
 */
#ifndef BERG_PROPAGATOR_FP_INTERNAL_H
#define BERG_PROPAGATOR_FP_INTERNAL_H

#include "berg/propagator.h"
#include "space/internal.h"

#define BERG_FP_KMAX 6

struct berg_fp {
    berg_space space;
    size_t n;           /* grid size */
    double *V;          /* V - min V (>= 0) */
    double vmin, vmax;  /* of the original V */
    /* jump rates per axis a (arrays a * n + i):
     *   rp: cell i -> its + neighbour on axis a (wrapping on periodic axes),
     *   rm: cell i -> its - neighbour, ra: i -> absorbing wall (Dirichlet). */
    double *rp, *rm, *ra;
    double *out_rate;   /* sum over axes of rp + rm + ra: -L_ii */
    /* symmetric form of each line (axis a, arrays a * n + i): the line's
     * generator is D S D^{-1} with D = diag(sc), sc = e^{-(V - min_line V)/2};
     * sym = D_a/h_a^2 (dV/2)/sinh(dV/2) on the face to the + neighbour.
     * lsym[a * n + i] = 1 when the line through i has a V range <= 700 and
     * is solved in this form (LAPACK dptsv), else by dgtsv. */
    double *sc, *isc, *sym;
    unsigned char *lsym;
    int absorbing;      /* some axis is Dirichlet */
    double max_rate;    /* max_i -L_ii */
    double tol;
    size_t accepted, rejected;
    /* scratch for berg_fp_evolve */
    int order;          /* extrapolation stages K: T_{j1} for j = 1..K, order K */
    double *y, *tmp;
    double *T[BERG_FP_KMAX];
    double *ldl, *ld, *ldu, *lb; /* one line: n_a-1, n_a, n_a-1, 2 n_a */
    size_t maxline;
    /* BERG_FP_FOURIER: the pseudo-spectral discretization (fp_fourier.c);
     * NULL for the finite-volume one, whose tables above are then unused */
    struct berg__fp_fourier *fr;
};

/* fp_fourier.c */
struct berg__fp_fourier;
berg_status berg__fp_fourier_init(berg_fp *fp, unsigned flags, const char *fn);
void berg__fp_fourier_free(struct berg__fp_fourier *fr);
berg_status berg__fp_fourier_evolve(berg_fp *fp, double t, const double *in, double *out,
                                    const char *fn);
/* out = L in (transpose: L^T in) of the Fourier discretization */
berg_status berg__fp_fourier_generator(const berg_fp *fp, const double *in, double *out,
                                       int transpose, const char *fn);
/* S (n x n, row-major) = the symmetric H = R^{-1} L R, R = diag(e^{-(V - min V)/2}) */
berg_status berg__fp_fourier_matrix(const berg_fp *fp, double *S, const char *fn);

/* Bernoulli function B(x) = x / (e^x - 1), B(0) = 1, stable everywhere. */
double berg__bernoulli(double x);
/* (x/2) / sinh(x/2): the symmetrized rate factor sqrt(B(x) B(-x)). */
double berg__bernoulli_sym(double x);

#endif
