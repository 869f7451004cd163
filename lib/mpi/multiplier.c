/* Distributed Fourier multipliers: a callback symbol (with libberg's
 * Nyquist averaging) or a regulator of berg_regulator_value() at |k|_g,
 * tabulated on this rank's spectral modes. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/internal.h"

#define ALLOWED_FLAGS (BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD)

struct berg_mpi_multiplier {
    berg__mpi_xform x;
    double *c;          /* symbol per local mode */
    double *cn;         /* c * norm */
    double *ef;         /* e^{-t c} norm of the last t */
    double cmax;        /* global max |c| */
    int negative;       /* some rank has c < 0 */
    size_t neg_e;       /* this rank's first mode with c < 0, or nloc */
    double last_t;
    int has_t;
    pthread_mutex_t lock;
};

void berg_mpi_multiplier_destroy(berg_mpi_multiplier *m)
{
    if (m == NULL)
        return;
    berg__mpi_xform_free(&m->x);
    berg__mpi_free(m->c);
    berg__mpi_free(m->cn);
    berg__mpi_free(m->ef);
    pthread_mutex_destroy(&m->lock);
    free(m);
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

/* a symbol evaluated on one mode (global indices idx, wave vector k) */
typedef berg_status (*mode_symbol)(const berg__mpi_xform *x, const size_t *idx, const double *k,
                                   int fd, double *c, void *ctx, const char *fn);

typedef struct {
    berg_symbol_fn fnp;
    void *user_data;
} cb_ctx;

static berg_status cb_symbol(const berg__mpi_xform *x, const size_t *idx, const double *k, int fd,
                             double *c, void *vctx, const char *fn)
{
    cb_ctx *cb = vctx;
    const int d = x->sp.ndim;
    int nyq[BERG__MPI_MAX_RANK], r = 0;
    for (int a = 0; a < d; a++)
        if (x->nyquist[a] == (int)idx[a])
            nyq[r++] = a;
    /* a Nyquist index is both +k and -k: the average over the sign choices */
    double sum = 0.0;
    for (unsigned pat = 0; pat < (1u << r); pat++) {
        double ks[BERG__MPI_MAX_RANK], kk[BERG__MPI_MAX_RANK], cv = NAN;
        char kb[256];
        memcpy(ks, k, (size_t)d * sizeof(double));
        for (int j = 0; j < r; j++)
            if (pat & (1u << j))
                ks[nyq[j]] = -ks[nyq[j]];
        for (int a = 0; a < d; a++) {
            double h = x->sp.h[a];
            kk[a] = fd ? 2.0 * sin(0.5 * ks[a] * h) / h : ks[a];
        }
        int rc = cb->fnp((size_t)d, kk, &cv, cb->user_data);
        if (rc != 0 || !isfinite(cv)) {
            format_k(kb, sizeof kb, d, kk);
            if (rc != 0)
                return berg__mpi_error(BERG_ERR_CALLBACK, "%s: symbol returned %d at k = (%s)",
                                       fn, rc, kb);
            return berg__mpi_error(BERG_ERR_CALLBACK, "%s: symbol gave %g at k = (%s)", fn, cv,
                                   kb);
        }
        sum += cv;
    }
    *c = r ? sum / (double)(1u << r) : sum;
    return BERG_OK;
}

typedef struct {
    berg_regulator kind;
    double lambda;
} reg_ctx;

static berg_status reg_symbol(const berg__mpi_xform *x, const size_t *idx, const double *k,
                              int fd, double *c, void *vctx, const char *fn)
{
    (void)k;
    reg_ctx *r = vctx;
    double q = berg__mpi_mode_quad(x, idx, fd);
    BERG_MPI_REQUIRE(!isnan(q), BERG_ERR_DOMAIN,
                     "%s: |k|_g overflows on this grid (1/h^2 times the inverse metric is "
                     "beyond DBL_MAX)",
                     fn);
    double kn = sqrt(q > 0.0 ? q : 0.0), v;
    berg_status st = berg_regulator_value(r->kind, r->lambda, kn, &v);
    if (st != BERG_OK)
        return berg__mpi_from_core(st);
    BERG_MPI_REQUIRE(isfinite(v), BERG_ERR_DOMAIN,
                     "%s: the regulator is %g at |k| = %g (lambda^2 overflows)", fn, v, kn);
    *c = v;
    return BERG_OK;
}

/* tables of this rank's modes (local failure: the caller agrees) */
static berg_status fill(berg_mpi_multiplier *m, mode_symbol sym, void *ctx, int fd,
                        const char *fn)
{
    const berg__mpi_xform *x = &m->x;
    m->c = berg__mpi_alloc(x->nloc, fn);
    m->cn = berg__mpi_alloc(x->nloc, fn);
    m->ef = berg__mpi_alloc(x->nloc, fn);
    if (!m->c || !m->cn || !m->ef)
        return berg_mpi_last_status();
    size_t idx[BERG__MPI_MAX_RANK];
    double k[BERG__MPI_MAX_RANK];
    for (size_t e = 0; e < x->nloc; e++) {
        berg__mpi_xform_index(x, e, idx);
        berg__mpi_xform_k(x, idx, k);
        BERG_MPI_TRY(sym(x, idx, k, fd, &m->c[e], ctx, fn));
        m->cn[e] = m->c[e] * x->norm;
    }
    return BERG_OK;
}

static berg_status build(berg_mpi_multiplier **out, const berg_mpi_space *space, unsigned flags,
                         int even, mode_symbol sym, void *ctx, berg_status pre, const char *fn)
{
    berg_status st = pre;
    if (st == BERG_OK)
        st = berg__mpi_check_ptr(out, fn, "out");
    if (st == BERG_OK && (flags & ~(unsigned)ALLOWED_FLAGS))
        st = berg__mpi_error(BERG_ERR_DOMAIN,
                             "%s: flags = 0x%x has bits other than BERG_PLAN_ESTIMATE and "
                             "BERG_SYMBOL_FD",
                             fn, flags);
    berg_mpi_multiplier *m = NULL;
    if (st == BERG_OK) {
        m = calloc(1, sizeof *m);
        if (m == NULL)
            st = berg__mpi_error(BERG_ERR_NOMEM, "%s: cannot allocate the handle", fn);
    }
    st = berg__mpi_agree(space->comm, st);
    if (st != BERG_OK) {
        free(m);
        return st;
    }
    pthread_mutex_init(&m->lock, NULL);
    unsigned xf = ((flags & BERG_PLAN_ESTIMATE) ? BERG__MPI_XF_ESTIMATE : 0u) |
                  (even ? BERG__MPI_XF_EVEN : 0u);
    st = berg__mpi_xform_init(&m->x, space, 1, xf, fn);
    if (st == BERG_OK)
        st = berg__mpi_agree(space->comm, fill(m, sym, ctx, (flags & BERG_SYMBOL_FD) != 0, fn));
    if (st == BERG_OK) {
        double loc[2] = {0.0, 0.0}, glob[2];
        m->neg_e = m->x.nloc;
        for (size_t e = 0; e < m->x.nloc; e++) {
            loc[0] = fmax(loc[0], fabs(m->c[e]));
            if (m->c[e] < 0.0 && m->neg_e == m->x.nloc) {
                loc[1] = 1.0;
                m->neg_e = e;
            }
        }
        st = berg__mpi_check(MPI_Allreduce(loc, glob, 2, MPI_DOUBLE, MPI_MAX, space->comm), fn,
                             "MPI_Allreduce");
        m->cmax = glob[0];
        m->negative = glob[1] > 0.0;
    }
    if (st != BERG_OK) {
        berg_mpi_multiplier_destroy(m);
        return st;
    }
    *out = m;
    return BERG_OK;
}

berg_status berg_mpi_multiplier_create(berg_mpi_multiplier **out, const berg_mpi_space *space,
                                       unsigned flags, berg_symbol_fn symbol, void *user_data)
{
    static const char fn[] = "berg_mpi_multiplier_create";
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status pre = berg__mpi_check_ptr((const void *)(uintptr_t)symbol, fn, "symbol");
    int nper = 0;
    for (int a = 0; a < space->ndim; a++)
        nper += space->bc[a] == BERG_PERIODIC;
    cb_ctx cb = {symbol, user_data};
    return build(out, space, flags, nper <= 1, cb_symbol, &cb, pre, fn);
}

berg_status berg_mpi_multiplier_create_regulator(berg_mpi_multiplier **out,
                                                 const berg_mpi_space *space,
                                                 berg_regulator kind, double lambda,
                                                 unsigned flags)
{
    static const char fn[] = "berg_mpi_multiplier_create_regulator";
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status pre = berg__mpi_check_regulator(kind, lambda, fn);
    reg_ctx r = {kind, lambda};
    return build(out, space, flags, space->diagonal, reg_symbol, &r, pre, fn);
}

/* local checks of an apply */
static berg_status check_io(const berg_mpi_multiplier *m, const double *in, const double *out,
                            const char *fn)
{
    BERG_MPI_TRY(berg__mpi_check_finite(in, m->x.sp.size, fn, "in"));
    return berg__mpi_check_array(out, m->x.sp.size, fn, "out");
}

static void mul_table(const berg__mpi_xform *x, const double *src, double *dst, void *ctx)
{
    berg__mpi_xform_mul_table(x, (const double *)ctx, src, dst);
}

/* out = T^{-1} table T in, scaled when the sums could overflow (the table
 * is at most fmaxv * norm) */
static berg_status run_checked(berg_mpi_multiplier *m, double *table, double fmaxv,
                               const double *in, double *out, const char *fn)
{
    int es;
    BERG_MPI_TRY(berg__mpi_input_log2(&m->x, in, fn, &es));
    int e = es + m->x.sp.ndim + 1 + (fmaxv > 1.0 ? ilogb(fmaxv) + 1 : 0);
    int k = e >= 1000 ? 999 - e : 0;
    return berg__mpi_xform_run(&m->x, k, in, out, mul_table, table, fn);
}

berg_status berg_mpi_multiplier_apply(const berg_mpi_multiplier *m, const double *in,
                                      double *out)
{
    static const char fn[] = "berg_mpi_multiplier_apply";
    BERG_MPI_TRY(berg__mpi_check_ptr(m, fn, "m"));
    berg_mpi_multiplier *mm = (berg_mpi_multiplier *)(uintptr_t)m;
    BERG_MPI_TRY(berg__mpi_agree(m->x.sp.comm, check_io(m, in, out, fn)));
    pthread_mutex_lock(&mm->lock);
    berg_status st = run_checked(mm, mm->cn, mm->cmax, in, out, fn);
    pthread_mutex_unlock(&mm->lock);
    return st;
}

berg_status berg_mpi_multiplier_exp_apply(const berg_mpi_multiplier *m, double t,
                                          const double *in, double *out)
{
    static const char fn[] = "berg_mpi_multiplier_exp_apply";
    BERG_MPI_TRY(berg__mpi_check_ptr(m, fn, "m"));
    berg_mpi_multiplier *mm = (berg_mpi_multiplier *)(uintptr_t)m;
    berg_status st = BERG_OK;
    if (!(isfinite(t) && t >= 0.0))
        st = berg__mpi_error(BERG_ERR_TIME, "%s: t = %g must be finite and >= 0", fn, t);
    if (st == BERG_OK && m->neg_e < m->x.nloc) {
        size_t idx[BERG__MPI_MAX_RANK];
        double k[BERG__MPI_MAX_RANK];
        char kb[256];
        berg__mpi_xform_index(&m->x, m->neg_e, idx);
        berg__mpi_xform_k(&m->x, idx, k);
        format_k(kb, sizeof kb, m->x.sp.ndim, k);
        st = berg__mpi_error(BERG_ERR_DOMAIN,
                             "%s: e^{-t c} needs c >= 0, but the symbol is %g < 0 at k = (%s)",
                             fn, m->c[m->neg_e], kb);
    }
    if (st == BERG_OK)
        st = check_io(m, in, out, fn);
    BERG_MPI_TRY(berg__mpi_agree(m->x.sp.comm, st));
    if (t == 0.0) {
        if (in != out && m->x.sp.size > 0)
            memmove(out, in, m->x.sp.size * sizeof(double));
        return BERG_OK;
    }
    pthread_mutex_lock(&mm->lock);
    if (!(mm->has_t && mm->last_t == t)) {
        for (size_t e = 0; e < m->x.nloc; e++)
            mm->ef[e] = exp(-t * m->c[e]) * m->x.norm;
        mm->last_t = t;
        mm->has_t = 1;
    }
    st = run_checked(mm, mm->ef, 1.0, in, out, fn);
    pthread_mutex_unlock(&mm->lock);
    return st;
}
