/*
 * Distributed Gaussian random fields (issue 16): the field of
 * berg_multiplier_random_field,
 *   out = T^{-1} sqrt(C) T xi,   xi_i = z_i / sqrt(w),
 * on a slab-distributed periodic lattice, with z_i the counter-based normal
 * of (seed, stream, global site index i) (rng_philox.c), so the field of a
 * seed is the same for every number of ranks: only the FFT's round-off
 * depends on the decomposition. Also the symbol tables shared with the
 * field Langevin flow (langevin.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mpi/field_internal.h"

struct berg_mpi_field {
    berg__mpix x;
    double *csqrt; /* sqrt(C / w) / prod n per local spectral mode */
};

/* ---- symbol tables -------------------------------------------------------- */

typedef struct {
    const berg__mpix *x;
    berg_symbol_fn fnp;
    void *ud;
    berg_regulator kind;
    double lambda;
    int fd;
    double *c;
    const char *fn;
} sym_ctx;

static void wave_k(const berg__mpix *x, const double *k, int fd, double *kk)
{
    for (int a = 0; a < x->d; a++) {
        double h = x->space.h[a];
        kk[a] = fd ? 2.0 * sin(0.5 * k[a] * h) / h : k[a];
    }
}

/* a user symbol, averaged over the signs of the Nyquist indices (as
 * berg_multiplier_create) */
static int user_mode(size_t mode, const size_t *idx, const double *k, void *vctx)
{
    sym_ctx *s = vctx;
    const berg__mpix *x = s->x;
    int d = x->d, nyq[BERG_MAX_RANK], r = 0;
    for (int a = 0; a < d; a++)
        if (berg__mpix_nyquist(x, a, idx[a]))
            nyq[r++] = a;
    double sum = 0.0;
    for (unsigned pat = 0; pat < (1u << r); pat++) {
        double ks[BERG_MAX_RANK], kk[BERG_MAX_RANK], cv = NAN;
        memcpy(ks, k, (size_t)d * sizeof(double));
        for (int j = 0; j < r; j++)
            if (pat & (1u << j))
                ks[nyq[j]] = -ks[nyq[j]];
        wave_k(x, ks, s->fd, kk);
        int rc = s->fnp((size_t)d, kk, &cv, s->ud);
        if (rc != 0) {
            berg__error(BERG_ERR_CALLBACK, "%s: symbol returned %d at k = (%g, %g%s)", s->fn, rc,
                        kk[0], kk[1], d > 2 ? ", ..." : "");
            return 1;
        }
        if (!isfinite(cv)) {
            berg__error(BERG_ERR_CALLBACK, "%s: symbol returned %g at k = (%g, %g%s)", s->fn, cv,
                        kk[0], kk[1], d > 2 ? ", ..." : "");
            return 1;
        }
        sum += cv;
    }
    s->c[mode] = r ? sum / (double)(1u << r) : sum;
    return 0;
}

static int regulator_mode(size_t mode, const size_t *idx, const double *k, void *vctx)
{
    sym_ctx *s = vctx;
    double q = berg__mpix_quad(s->x, idx, k, s->fd), v = NAN;
    if (isnan(q)) {
        berg__error(BERG_ERR_DOMAIN, "%s: |k|_g overflows on this grid", s->fn);
        return 1;
    }
    if (berg_regulator_value(s->kind, s->lambda, sqrt(q > 0.0 ? q : 0.0), &v) != BERG_OK ||
        !isfinite(v)) {
        berg__error(BERG_ERR_DOMAIN, "%s: the regulator is %g at |k| = %g (lambda^2 overflows)",
                    s->fn, v, sqrt(q));
        return 1;
    }
    s->c[mode] = v;
    return 0;
}

berg_status berg__mpi_symbol_table(const berg__mpix *x, unsigned flags, berg_symbol_fn symbol,
                                   void *user_data, berg_regulator kind, double lambda,
                                   double **out, const char *fn)
{
    double *c = berg__alloc(x->nspec ? x->nspec : 1, sizeof(double), fn);
    berg_status st = c ? BERG_OK : berg_last_status();
    if (st == BERG_OK) {
        sym_ctx s = {x, symbol, user_data, kind, lambda, (flags & BERG_SYMBOL_FD) != 0, c, fn};
        if (berg__mpix_each_mode(x, symbol ? user_mode : regulator_mode, &s) != 0)
            st = berg_last_status();
    }
    st = berg__mpi_agree(x->comm, st);
    if (st != BERG_OK) {
        berg__free(c);
        return st;
    }
    *out = c;
    return BERG_OK;
}

berg_status berg__mpi_sqrt_table(const berg__mpix *x, const double *c, double **out,
                                 const char *fn)
{
    berg_status st = BERG_OK;
    size_t bad = SIZE_MAX;
    for (size_t i = 0; i < x->nspec && bad == SIZE_MAX; i++)
        if (c[i] < 0.0)
            bad = i;
    if (bad != SIZE_MAX)
        st = berg__error(BERG_ERR_DOMAIN,
                         "%s: the symbol is %g < 0 at local spectral mode %zu; a spectrum must "
                         "be >= 0",
                         fn, c[bad], bad);
    double *s = NULL;
    if (st == BERG_OK && !(s = berg__alloc(x->nspec ? x->nspec : 1, sizeof(double), fn)))
        st = berg_last_status();
    st = berg__mpi_agree(x->comm, st);
    if (st != BERG_OK) {
        berg__free(s);
        return st;
    }
    double f = x->norm / sqrt(x->space.weight);
    for (size_t i = 0; i < x->nspec; i++)
        s[i] = sqrt(c[i]) * f;
    *out = s;
    return BERG_OK;
}

void berg__mpi_white_noise(const berg__mpix *x, uint64_t seed, uint64_t stream, double *out)
{
    const uint64_t first = (uint64_t)x->row0 * (uint64_t)x->row_size;
    for (size_t i = 0; i < x->nlocal; i++)
        out[i] = berg__counter_normal(seed, stream, first + i);
}

void berg__mpi_mul(const berg__mpix *x, const double *table)
{
    fftw_complex *c = x->cbuf;
    for (size_t i = 0; i < x->nspec; i++) {
        c[i][0] *= table[i];
        c[i][1] *= table[i];
    }
}

/* ---- the public random field ------------------------------------------------ */

void berg_mpi_field_destroy(berg_mpi_field *f)
{
    if (!f)
        return;
    berg__mpix_free(&f->x);
    berg__free(f->csqrt);
    berg__free(f);
}

static berg_status check_comm(MPI_Comm comm, const char *fn)
{
    BERG_REQUIRE(comm != MPI_COMM_NULL, BERG_ERR_NULL, "%s: comm is MPI_COMM_NULL", fn);
    return BERG_OK;
}

static berg_status field_build(berg_mpi_field **out, MPI_Comm comm, const berg_space *space,
                               unsigned flags, berg_symbol_fn symbol, void *user_data,
                               berg_regulator kind, double lambda, const char *fn)
{
    berg_mpi_field *f = berg__alloc(1, sizeof *f, fn);
    berg_status st = f ? BERG_OK : berg_last_status();
    st = berg__mpi_agree(comm, st);
    if (st != BERG_OK) {
        berg__free(f);
        return st;
    }
    memset(f, 0, sizeof *f);
    double *c = NULL;
    BERG_TRY_GOTO(st, berg__mpix_init(&f->x, comm, space, flags, fn), fail);
    BERG_TRY_GOTO(st, berg__mpi_symbol_table(&f->x, flags, symbol, user_data, kind, lambda, &c, fn),
                  fail);
    BERG_TRY_GOTO(st, berg__mpi_sqrt_table(&f->x, c, &f->csqrt, fn), fail);
    berg__free(c);
    *out = f;
    return BERG_OK;
fail:
    berg__free(c);
    berg_mpi_field_destroy(f);
    return st;
}

berg_status berg_mpi_field_create(berg_mpi_field **out, MPI_Comm comm, const berg_space *space,
                                  unsigned flags, berg_symbol_fn spectrum, void *user_data)
{
    static const char fn[] = "berg_mpi_field_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_comm(comm, fn));
    BERG_TRY(berg__space_check(space, fn));
    BERG_REQUIRE(spectrum != NULL, BERG_ERR_NULL, "%s: spectrum is NULL", fn);
    BERG_TRY(berg__check_flags(flags, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD, fn));
    return field_build(out, comm, space, flags, spectrum, user_data, BERG_REGULATOR_SHARP, 1.0,
                       fn);
}

berg_status berg_mpi_field_create_regulator(berg_mpi_field **out, MPI_Comm comm,
                                            const berg_space *space, berg_regulator kind,
                                            double lambda, unsigned flags)
{
    static const char fn[] = "berg_mpi_field_create_regulator";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_comm(comm, fn));
    BERG_TRY(berg__space_check(space, fn));
    double probe;
    BERG_REQUIRE(berg_regulator_value(kind, lambda, 0.0, &probe) == BERG_OK, BERG_ERR_DOMAIN,
                 "%s: regulator kind %d with lambda = %g is not valid (a berg_regulator, "
                 "lambda > 0 finite)",
                 fn, (int)kind, lambda);
    BERG_TRY(berg__check_flags(flags, BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD, fn));
    return field_build(out, comm, space, flags, NULL, NULL, kind, lambda, fn);
}

berg_status berg_mpi_field_local(const berg_mpi_field *f, size_t *row0, size_t *nrows,
                                 size_t *count)
{
    static const char fn[] = "berg_mpi_field_local";
    BERG_TRY(berg__check_ptr(f, fn, "f"));
    if (row0)
        *row0 = f->x.row0;
    if (nrows)
        *nrows = f->x.nrows;
    if (count)
        *count = f->x.nlocal;
    return BERG_OK;
}

berg_status berg_mpi_field_sample(berg_mpi_field *f, unsigned long long seed,
                                  unsigned long long stream, double *out)
{
    static const char fn[] = "berg_mpi_field_sample";
    BERG_TRY(berg__check_ptr(f, fn, "f"));
    /* a rank with no rows may pass NULL */
    BERG_TRY(berg__mpi_agree(f->x.comm, f->x.nlocal ? berg__check_ptr(out, fn, "out") : BERG_OK));
    berg__mpi_white_noise(&f->x, seed, stream, out);
    berg__mpix_forward(&f->x, out);
    berg__mpi_mul(&f->x, f->csqrt);
    berg__mpix_inverse(&f->x, out);
    return BERG_OK;
}

berg_status berg_mpi_noise_normals(unsigned long long seed, unsigned long long stream,
                                   unsigned long long first, size_t count, double *out)
{
    static const char fn[] = "berg_mpi_noise_normals";
    BERG_REQUIRE(count == 0 || out != NULL, BERG_ERR_NULL, "%s: out is NULL", fn);
    for (size_t i = 0; i < count; i++)
        out[i] = berg__counter_normal(seed, stream, first + i);
    return BERG_OK;
}
