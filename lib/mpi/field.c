/*
 * Distributed Gaussian random fields (issue 16): the field of
 * berg_multiplier_random_field,
 *   out = T^{-1} sqrt(C) T xi,   xi_i = z_i / sqrt(w),
 * on a slab-distributed lattice (any boundary kinds the distributed
 * transform has), with z_i the counter-based normal of (seed, stream,
 * global site index i) (rng_philox.c): the field of a seed is the same for
 * every number of ranks, only the FFT's round-off depends on the
 * decomposition. Also the symbol tables shared with the field Langevin flow
 * (langevin.c).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mpi/field_internal.h"

struct berg_mpi_field {
    berg__mpi_xform x;
    double *csqrt;        /* sqrt(C / w) * norm per local spectral mode */
    pthread_mutex_t lock; /* the transform buffers: one sample at a time */
    int has_lock;
};

/* ---- symbol tables -------------------------------------------------------- */

unsigned berg__mpi_symbol_xflags(const berg_mpi_space *space, int regulator, unsigned flags)
{
    int nper = 0;
    for (int a = 0; a < space->ndim; a++)
        nper += space->bc[a] == BERG_PERIODIC;
    int even = regulator ? space->diagonal : nper <= 1;
    return (even ? BERG__MPI_XF_EVEN : 0u) |
           ((flags & BERG_PLAN_ESTIMATE) ? BERG__MPI_XF_ESTIMATE : 0u);
}

typedef struct {
    const berg__mpi_xform *x;
    berg_symbol_fn fnp;
    void *ud;
    berg_regulator kind;
    double lambda;
    int fd;
    const char *fn;
} sym_ctx;

static void wave_k(const berg__mpi_xform *x, const double *k, int fd, double *kk)
{
    for (int a = 0; a < x->sp.ndim; a++) {
        double h = x->sp.h[a];
        kk[a] = fd ? 2.0 * sin(0.5 * k[a] * h) / h : k[a];
    }
}

static void format_k(char *buf, size_t len, int d, const double *k)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int a = 0; a < d && used + 1 < len; a++) {
        int w = snprintf(buf + used, len - used, "%s%g", a ? ", " : "", k[a]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* a callback symbol averaged over the signs of the Nyquist indices (as
 * berg_multiplier_create) */
static berg_status user_mode(const sym_ctx *s, const size_t *idx, double *c)
{
    const berg__mpi_xform *x = s->x;
    int d = x->sp.ndim, nyq[BERG__MPI_MAX_RANK], r = 0;
    double k[BERG__MPI_MAX_RANK];
    berg__mpi_xform_k(x, idx, k);
    for (int a = 0; a < d; a++)
        if (x->nyquist[a] == (int)idx[a])
            nyq[r++] = a;
    double sum = 0.0;
    for (unsigned pat = 0; pat < (1u << r); pat++) {
        double ks[BERG__MPI_MAX_RANK], kk[BERG__MPI_MAX_RANK], cv = NAN;
        char kb[256];
        memcpy(ks, k, (size_t)d * sizeof(double));
        for (int j = 0; j < r; j++)
            if (pat & (1u << j))
                ks[nyq[j]] = -ks[nyq[j]];
        wave_k(x, ks, s->fd, kk);
        int rc = s->fnp((size_t)d, kk, &cv, s->ud);
        if (rc != 0 || !isfinite(cv)) {
            format_k(kb, sizeof kb, d, kk);
            if (rc != 0)
                return berg__mpi_error(BERG_ERR_CALLBACK, "%s: symbol returned %d at k = (%s)",
                                       s->fn, rc, kb);
            return berg__mpi_error(BERG_ERR_CALLBACK,
                                   "%s: symbol at k = (%s) returned %g (not finite)", s->fn, kb,
                                   cv);
        }
        sum += cv;
    }
    *c = r ? sum / (double)(1u << r) : sum;
    return BERG_OK;
}

static berg_status regulator_mode(const sym_ctx *s, const size_t *idx, double *c)
{
    double q = berg__mpi_mode_quad(s->x, idx, s->fd), v = NAN;
    BERG_MPI_REQUIRE(!isnan(q), BERG_ERR_DOMAIN,
                     "%s: |k|_g overflows on this grid (1/h^2 times the inverse metric is "
                     "beyond DBL_MAX)",
                     s->fn);
    berg_status st = berg_regulator_value(s->kind, s->lambda, sqrt(q > 0.0 ? q : 0.0), &v);
    BERG_MPI_REQUIRE(st == BERG_OK && isfinite(v), BERG_ERR_DOMAIN,
                     "%s: the regulator is %g at |k| = %g (lambda^2 or k^2 overflows)", s->fn, v,
                     sqrt(q));
    *c = v;
    return BERG_OK;
}

berg_status berg__mpi_symbol_table(const berg__mpi_xform *x, unsigned flags,
                                   berg_symbol_fn symbol, void *user_data, berg_regulator kind,
                                   double lambda, double **out, const char *fn)
{
    double *c = berg__mpi_alloc(x->nloc, fn);
    berg_status st = c ? BERG_OK : berg_mpi_last_status();
    sym_ctx s = {x, symbol, user_data, kind, lambda, (flags & BERG_SYMBOL_FD) != 0, fn};
    size_t idx[BERG__MPI_MAX_RANK];
    for (size_t e = 0; e < x->nloc && st == BERG_OK; e++) {
        berg__mpi_xform_index(x, e, idx);
        st = symbol ? user_mode(&s, idx, &c[e]) : regulator_mode(&s, idx, &c[e]);
    }
    st = berg__mpi_agree(x->sp.comm, st);
    if (st != BERG_OK) {
        berg__mpi_free(c);
        return st;
    }
    *out = c;
    return BERG_OK;
}

berg_status berg__mpi_sqrt_table(const berg__mpi_xform *x, const double *c, double **out,
                                 const char *fn)
{
    berg_status st = BERG_OK;
    for (size_t e = 0; e < x->nloc && st == BERG_OK; e++)
        if (c[e] < 0.0) {
            size_t idx[BERG__MPI_MAX_RANK];
            double k[BERG__MPI_MAX_RANK];
            char kb[256];
            berg__mpi_xform_index(x, e, idx);
            berg__mpi_xform_k(x, idx, k);
            format_k(kb, sizeof kb, x->sp.ndim, k);
            st = berg__mpi_error(BERG_ERR_DOMAIN,
                                 "%s: a spectrum must be >= 0, but the symbol is %g at k = (%s)",
                                 fn, c[e], kb);
        }
    double *s = NULL;
    if (st == BERG_OK && !(s = berg__mpi_alloc(x->nloc, fn)))
        st = berg_mpi_last_status();
    st = berg__mpi_agree(x->sp.comm, st);
    if (st != BERG_OK) {
        berg__mpi_free(s);
        return st;
    }
    double f = x->norm / sqrt(x->sp.weight);
    for (size_t e = 0; e < x->nloc; e++)
        s[e] = sqrt(c[e]) * f;
    *out = s;
    return BERG_OK;
}

/* ---- the public random field ------------------------------------------------ */

void berg_mpi_field_destroy(berg_mpi_field *f)
{
    if (!f)
        return;
    berg__mpi_xform_free(&f->x);
    berg__mpi_free(f->csqrt);
    if (f->has_lock)
        pthread_mutex_destroy(&f->lock);
    berg__mpi_free(f);
}

static berg_status field_build(berg_mpi_field **out, const berg_mpi_space *space, unsigned flags,
                               berg_symbol_fn symbol, void *user_data, berg_regulator kind,
                               double lambda, const char *fn)
{
    berg_mpi_field *f = (berg_mpi_field *)berg__mpi_alloc(
        (sizeof(berg_mpi_field) + sizeof(double) - 1) / sizeof(double), fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, f ? BERG_OK : berg_mpi_last_status()));
    memset(f, 0, sizeof *f);
    double *c = NULL;
    berg_status st = berg__mpi_xform_init(
        &f->x, space, 1, berg__mpi_symbol_xflags(space, symbol == NULL, flags), fn);
    if (st == BERG_OK)
        st = berg__mpi_symbol_table(&f->x, flags, symbol, user_data, kind, lambda, &c, fn);
    if (st == BERG_OK)
        st = berg__mpi_sqrt_table(&f->x, c, &f->csqrt, fn);
    if (st == BERG_OK) {
        f->has_lock = pthread_mutex_init(&f->lock, NULL) == 0;
        st = berg__mpi_agree(space->comm,
                             f->has_lock ? BERG_OK
                                         : berg__mpi_error(BERG_ERR_NOMEM,
                                                           "%s: cannot create the lock", fn));
    }
    berg__mpi_free(c);
    if (st != BERG_OK) {
        berg_mpi_field_destroy(f);
        return st;
    }
    *out = f;
    return BERG_OK;
}

#define FIELD_FLAGS ((unsigned)BERG_PLAN_ESTIMATE | (unsigned)BERG_SYMBOL_FD)

static berg_status check_flags(unsigned flags, const char *fn)
{
    BERG_MPI_REQUIRE((flags & ~FIELD_FLAGS) == 0, BERG_ERR_DOMAIN,
                     "%s: flags 0x%x has a bit other than BERG_PLAN_ESTIMATE and "
                     "BERG_SYMBOL_FD",
                     fn, flags & ~FIELD_FLAGS);
    return BERG_OK;
}

berg_status berg_mpi_field_create(berg_mpi_field **out, const berg_mpi_space *space,
                                  unsigned flags, berg_symbol_fn spectrum, void *user_data)
{
    static const char fn[] = "berg_mpi_field_create";
    BERG_MPI_TRY(berg__mpi_check_ptr(out, fn, "out"));
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status st = spectrum ? check_flags(flags, fn)
                              : berg__mpi_error(BERG_ERR_NULL, "%s: spectrum is NULL", fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    return field_build(out, space, flags, spectrum, user_data, BERG_REGULATOR_SHARP, 1.0, fn);
}

berg_status berg_mpi_field_create_regulator(berg_mpi_field **out, const berg_mpi_space *space,
                                            berg_regulator kind, double lambda, unsigned flags)
{
    static const char fn[] = "berg_mpi_field_create_regulator";
    BERG_MPI_TRY(berg__mpi_check_ptr(out, fn, "out"));
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status st = berg__mpi_check_regulator(kind, lambda, fn);
    if (st == BERG_OK)
        st = check_flags(flags, fn);
    BERG_MPI_TRY(berg__mpi_agree(space->comm, st));
    return field_build(out, space, flags, NULL, NULL, kind, lambda, fn);
}

berg_status berg_mpi_field_sample(berg_mpi_field *f, unsigned long long seed,
                                  unsigned long long stream, double *out)
{
    static const char fn[] = "berg_mpi_field_sample";
    BERG_MPI_TRY(berg__mpi_check_ptr(f, fn, "f"));
    BERG_MPI_TRY(berg__mpi_agree(f->x.sp.comm, berg__mpi_check_array(out, f->x.sp.size, fn, "out")));
    berg__mpi_xform *x = &f->x;
    /* the noise goes through rbuf (padded) directly: out is written only
     * with the field */
    double *z = berg__mpi_alloc(x->sp.size, fn);
    BERG_MPI_TRY(berg__mpi_agree(x->sp.comm, z ? BERG_OK : berg_mpi_last_status()));
    berg__mpi_white_noise(x, seed, stream, z);
    pthread_mutex_lock(&f->lock);
    unsigned ftz = berg__mpi_ftz_enter();
    berg__mpi_xform_load(x, z, 1.0);
    berg__mpi_xform_forward(x);
    berg__mpi_xform_mul_table(x, f->csqrt, x->sbuf, x->sbuf);
    berg__mpi_xform_backward(x, x->sbuf);
    berg__mpi_ftz_leave(ftz);
    berg__mpi_xform_store(x, out, 1.0);
    pthread_mutex_unlock(&f->lock);
    berg__mpi_free(z);
    return BERG_OK;
}

berg_status berg_mpi_noise_normals(unsigned long long seed, unsigned long long stream,
                                   unsigned long long first, size_t count, double *out)
{
    static const char fn[] = "berg_mpi_noise_normals";
    BERG_MPI_TRY(berg__mpi_check_array(out, count, fn, "out"));
    for (size_t i = 0; i < count; i++)
        out[i] = berg__counter_normal(seed, stream, first + i);
    return BERG_OK;
}
