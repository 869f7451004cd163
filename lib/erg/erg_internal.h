/*
 * lib/erg/erg_internal.h - the scheme handle, shared by the files of the
 * erg module (scheme.c, flow.c, noise.c). Not installed.
 */
#ifndef BERG_ERG_INTERNAL_H
#define BERG_ERG_INTERNAL_H

#include <stdint.h>

#include "berg/erg.h"
#include "propagator/transform.h"

enum { ERG_BUILTIN = 0, ERG_RADIAL = 1, ERG_CALLBACK = 2 };

/* how a spectral entry of the r2c layout gets its Hermitian noise */
enum { ERG_GENERIC = 0, ERG_SELF = 1, ERG_MIRROR = 2 };

/* Immutable after creation. */
struct berg_scheme {
    berg__xform x;            /* r2c plans of one field (BERG__XF_NOBUFS) */
    int family;               /* ERG_BUILTIN, ERG_RADIAL, ERG_CALLBACK */
    int fd;                   /* BERG_SYMBOL_FD: finite-difference wave numbers */
    berg_regulator kind;      /* built-in */
    double mass2;             /* built-in */
    size_t np;                /* radial: knots */
    double *xp, *fp, *dp;     /* radial: knots, values, PCHIP slopes */
    berg_scheme_regulator_fn cb; /* callback */
    void *ud;
    double *knorm;            /* |k|_g per spectral entry (nspec) */
    double *kvec;             /* the wave vector per entry (ndim * nspec) */
    unsigned char *hkind;     /* ERG_GENERIC / ERG_SELF / ERG_MIRROR per entry */
    size_t *mirror;           /* the partner of an ERG_MIRROR entry */
    double *mult;             /* 1 or 2: modes an entry stands for (Parseval) */
    size_t *special;          /* the ERG_SELF and ERG_MIRROR entries */
    size_t nspecial;
    size_t block_doubles;     /* doubles of one worker's scratch block */
    size_t off_z, off_g, off_gs, off_p, off_q; /* parts of a block after the transform's */
    berg__pool pool;
};

/* C_Lambda at spectral entry j (callback failures recorded naming fn) */
berg_status berg__scheme_c(const berg_scheme *s, double lambda, size_t j, double *c,
                           const char *fn);
/* C at every entry (nspec values); refuses negative or non-finite values */
berg_status berg__scheme_table(const berg_scheme *s, double lambda, double *c, const char *fn);
/* 2 n standard normals re[0..n-1], im[0..n-1] of the stream (seed,
 * stream): the same values on every platform up to the last bits of the
 * vector math functions */
void berg__erg_normals(uint64_t seed, uint64_t stream, double *re, double *im, size_t n);
/* spec[j] = ta[j] spec[j] + tb[j] (re_j + i im_j), j < n (complex entries,
 * interleaved), with the normals of berg__erg_normals(seed, stream, ., ., n);
 * ta NULL stands for 1 */
void berg__erg_noise_apply(uint64_t seed, uint64_t stream, size_t n, const double *ta,
                           const double *tb, double *spec);
/* check count members of one scheme's fields are addressable */
berg_status berg__scheme_check_ensemble(const berg_scheme *s, size_t count, const char *fn);

#endif
