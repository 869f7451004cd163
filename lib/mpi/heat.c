/* The distributed heat semigroup e^{t Delta_g}: libberg's heat symbol
 * (lib/propagator/heat.c) on the local modes of the transposed spectral
 * layout; one step is a forward transform (one transpose), a product, a
 * backward transform (one transpose). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/internal.h"

#define ALLOWED_FLAGS (BERG_PLAN_ESTIMATE | BERG_SYMBOL_FD)

struct berg_mpi_heat {
    berg__mpi_xform x;
    int separable;                        /* diagonal metric: per-axis tables */
    double *qaxis[BERG__MPI_MAX_RANK];     /* g^{aa} k_a^2 per global spectral index */
    double *qfull;                        /* k . g^{-1} k per local mode */
    double *faxis[BERG__MPI_MAX_RANK];     /* e^{-t q_a} axis_norm[a] of the last t */
    double *efull;                        /* e^{-t q} norm of the last t */
    double last_t;
    int has_t;
    pthread_mutex_t lock;
};

void berg_mpi_heat_destroy(berg_mpi_heat *heat)
{
    if (heat == NULL)
        return;
    berg__mpi_xform_free(&heat->x);
    for (int a = 0; a < BERG__MPI_MAX_RANK; a++) {
        berg__mpi_free(heat->qaxis[a]);
        berg__mpi_free(heat->faxis[a]);
    }
    berg__mpi_free(heat->qfull);
    berg__mpi_free(heat->efull);
    pthread_mutex_destroy(&heat->lock);
    free(heat);
}

/* the symbol tables (local; the caller agrees on the status) */
static berg_status make_tables(berg_mpi_heat *h, int fd, const char *fn)
{
    const berg__mpi_xform *x = &h->x;
    const int d = x->sp.ndim;
    if (h->separable) {
        for (int a = 0; a < d; a++) {
            size_t m = x->sshape[a];
            h->qaxis[a] = berg__mpi_alloc(m, fn);
            h->faxis[a] = berg__mpi_alloc(m, fn);
            if (!h->qaxis[a] || !h->faxis[a])
                return berg_mpi_last_status();
            double gaa = x->sp.ginv[a * d + a];
            for (size_t i = 0; i < m; i++) {
                double dg, cr;
                berg__mpi_axis_symbol(x, a, i, fd, &dg, &cr);
                h->qaxis[a][i] = gaa * dg;
                BERG_MPI_REQUIRE(isfinite(h->qaxis[a][i]), BERG_ERR_DOMAIN,
                                 "%s: the heat symbol g^{aa} k^2 of axis %d overflows (cell "
                                 "width %g, g^{aa} = %g)",
                                 fn, a, x->sp.h[a], gaa);
            }
        }
        return BERG_OK;
    }
    h->qfull = berg__mpi_alloc(x->nloc, fn);
    h->efull = berg__mpi_alloc(x->nloc, fn);
    if (!h->qfull || !h->efull)
        return berg_mpi_last_status();
    size_t idx[BERG__MPI_MAX_RANK];
    for (size_t e = 0; e < x->nloc; e++) {
        berg__mpi_xform_index(x, e, idx);
        h->qfull[e] = berg__mpi_mode_quad(x, idx, fd);
        BERG_MPI_REQUIRE(isfinite(h->qfull[e]), BERG_ERR_DOMAIN,
                         "%s: the heat symbol k . g^{-1} k overflows (1/h^2 times the inverse "
                         "metric is beyond DBL_MAX)",
                         fn);
    }
    return BERG_OK;
}

berg_status berg_mpi_heat_create(berg_mpi_heat **out, const berg_mpi_space *space, size_t batch,
                                 unsigned flags)
{
    static const char fn[] = "berg_mpi_heat_create";
    BERG_MPI_TRY(berg__mpi_check_ptr(space, fn, "space"));
    berg_status st = berg__mpi_check_ptr(out, fn, "out");
    if (st == BERG_OK && batch == 0)
        st = berg__mpi_error(BERG_ERR_SIZE, "%s: batch is 0 (need at least one array)", fn);
    if (st == BERG_OK && (flags & ~(unsigned)ALLOWED_FLAGS))
        st = berg__mpi_error(BERG_ERR_DOMAIN,
                             "%s: flags = 0x%x has bits other than BERG_PLAN_ESTIMATE and "
                             "BERG_SYMBOL_FD",
                             fn, flags);
    if (st == BERG_OK && batch > (size_t)PTRDIFF_MAX / sizeof(double) / (space->size + 1))
        st = berg__mpi_error(BERG_ERR_SIZE, "%s: batch = %zu arrays cannot be addressed", fn,
                             batch);
    if (st == BERG_OK && !space->diagonal)
        for (int a = 0; a < space->ndim; a++)
            if (space->bc[a] != BERG_PERIODIC) {
                st = berg__mpi_error(BERG_ERR_UNSUPPORTED,
                                     "%s: a coupled metric on a space with a non-periodic axis "
                                     "(%d) is not distributed (its symbol is not even in every "
                                     "k_a)",
                                     fn, a);
                break;
            }
    berg_mpi_heat *h = NULL;
    if (st == BERG_OK) {
        h = calloc(1, sizeof *h);
        if (h == NULL)
            st = berg__mpi_error(BERG_ERR_NOMEM, "%s: cannot allocate the handle", fn);
    }
    st = berg__mpi_agree(space->comm, st);
    if (st != BERG_OK) {
        free(h);
        return st;
    }
    pthread_mutex_init(&h->lock, NULL);
    h->separable = space->diagonal;
    unsigned xf = ((flags & BERG_PLAN_ESTIMATE) ? BERG__MPI_XF_ESTIMATE : 0u) |
                  (h->separable ? BERG__MPI_XF_EVEN : 0u) | BERG__MPI_XF_SPEC2;
    st = berg__mpi_xform_init(&h->x, space, batch, xf, fn);
    if (st == BERG_OK)
        st = berg__mpi_agree(space->comm, make_tables(h, (flags & BERG_SYMBOL_FD) != 0, fn));
    if (st != BERG_OK) {
        berg_mpi_heat_destroy(h);
        return st;
    }
    *out = h;
    return BERG_OK;
}

/* the factor tables for time t (kept for the last t) */
static void set_time(berg_mpi_heat *h, double t)
{
    if (h->has_t && h->last_t == t)
        return;
    const berg__mpi_xform *x = &h->x;
    if (h->separable) {
        for (int a = 0; a < x->sp.ndim; a++)
            for (size_t i = 0; i < x->sshape[a]; i++)
                h->faxis[a][i] = exp(-t * h->qaxis[a][i]) * x->axis_norm[a];
    } else {
        for (size_t e = 0; e < x->nloc; e++)
            h->efull[e] = exp(-t * h->qfull[e]) * x->norm;
    }
    h->last_t = t;
    h->has_t = 1;
}

static void multiply(const berg__mpi_xform *x, const double *src, double *dst, void *ctx)
{
    const berg_mpi_heat *h = ctx;
    if (h->separable)
        berg__mpi_xform_mul_separable(x, h->faxis, src, dst);
    else
        berg__mpi_xform_mul_table(x, h->efull, src, dst);
}

/* local checks of an apply: in finite, out present */
static berg_status check_io(const berg_mpi_heat *h, const double *in, const double *out,
                            size_t nout, const char *fn)
{
    size_t n = h->x.batch * h->x.sp.size;
    BERG_MPI_TRY(berg__mpi_check_finite(in, n, fn, "in"));
    return berg__mpi_check_array(out, nout * n, fn, "out");
}

/* the input's scale exponent k (0 when the sums cannot overflow) */
static berg_status scale_exponent(const berg_mpi_heat *h, const double *in, const char *fn,
                                  int *k)
{
    int es;
    BERG_MPI_TRY(berg__mpi_input_log2(&h->x, in, fn, &es));
    int e = es > -1100 ? es + h->x.sp.ndim + 1 : 0;
    *k = e >= 1000 ? 999 - e : 0;
    return BERG_OK;
}

berg_status berg_mpi_heat_apply(const berg_mpi_heat *heat, double t, const double *in,
                                double *out)
{
    static const char fn[] = "berg_mpi_heat_apply";
    BERG_MPI_TRY(berg__mpi_check_ptr(heat, fn, "heat"));
    berg_mpi_heat *h = (berg_mpi_heat *)(uintptr_t)heat;
    berg_status st = BERG_OK;
    if (!(isfinite(t) && t >= 0.0))
        st = berg__mpi_error(BERG_ERR_TIME, "%s: t = %g must be finite and >= 0", fn, t);
    if (st == BERG_OK)
        st = check_io(h, in, out, 1, fn);
    BERG_MPI_TRY(berg__mpi_agree(h->x.sp.comm, st));
    const size_t n = h->x.batch * h->x.sp.size;
    if (t == 0.0) {
        if (in != out && n > 0)
            memmove(out, in, n * sizeof(double));
        return BERG_OK;
    }
    pthread_mutex_lock(&h->lock);
    int k = 0;
    st = scale_exponent(h, in, fn, &k);
    if (st == BERG_OK) {
        set_time(h, t);
        st = berg__mpi_xform_run(&h->x, k, in, out, multiply, h, fn);
    }
    pthread_mutex_unlock(&h->lock);
    return st;
}

/* rbuf = e^{t Delta} of the spectrum in sbuf (kept), through sbuf2 */
static void time_block(berg_mpi_heat *h, double t)
{
    set_time(h, t);
    unsigned fp = berg__mpi_ftz_enter();
    multiply(&h->x, h->x.sbuf, h->x.sbuf2, h);
    berg__mpi_xform_backward(&h->x, h->x.sbuf2);
    berg__mpi_ftz_leave(fp);
}

static berg_status times_run(berg_mpi_heat *h, size_t nt, const double *t, const double *in,
                             double *out, const char *fn)
{
    berg__mpi_xform *x = &h->x;
    const size_t block = x->batch * x->sp.size;
    int k = 0;
    BERG_MPI_TRY(scale_exponent(h, in, fn, &k));
    berg__mpi_xform_load(x, in, k ? ldexp(1.0, k) : 1.0);
    unsigned fp = berg__mpi_ftz_enter();
    berg__mpi_xform_forward(x);
    berg__mpi_ftz_leave(fp);
    if (k != 0) { /* first pass: no result may overflow (nothing written yet) */
        for (size_t j = 0; j < nt; j++) {
            if (t[j] == 0.0)
                continue;
            time_block(h, t[j]);
            double mx = berg__mpi_xform_rbuf_maxabs(x), gmx = 0.0;
            BERG_MPI_TRY(berg__mpi_check(
                MPI_Allreduce(&mx, &gmx, 1, MPI_DOUBLE, MPI_MAX, x->sp.comm), fn,
                "MPI_Allreduce"));
            BERG_MPI_REQUIRE(isfinite(ldexp(gmx, -k)), BERG_ERR_DOMAIN,
                             "%s: the result at t[%zu] = %g has values beyond DBL_MAX", fn, j,
                             t[j]);
        }
    }
    for (size_t j = 0; j < nt; j++) {
        if (t[j] == 0.0) {
            if (block > 0)
                memcpy(out + j * block, in, block * sizeof(double));
            continue;
        }
        time_block(h, t[j]);
        berg__mpi_xform_store(x, out + j * block, k ? ldexp(1.0, -k) : 1.0);
    }
    return BERG_OK;
}

berg_status berg_mpi_heat_apply_times(const berg_mpi_heat *heat, size_t nt, const double *t,
                                      const double *in, double *out)
{
    static const char fn[] = "berg_mpi_heat_apply_times";
    BERG_MPI_TRY(berg__mpi_check_ptr(heat, fn, "heat"));
    berg_mpi_heat *h = (berg_mpi_heat *)(uintptr_t)heat;
    const size_t block = h->x.batch * h->x.sp.size;
    berg_status st = BERG_OK;
    if (nt == 0)
        st = berg__mpi_error(BERG_ERR_SIZE, "%s: nt is 0 (need at least one time)", fn);
    else if (block > 0 && nt > (size_t)PTRDIFF_MAX / sizeof(double) / block)
        st = berg__mpi_error(BERG_ERR_SIZE, "%s: nt = %zu blocks of %zu doubles overflow", fn, nt,
                             block);
    if (st == BERG_OK)
        st = berg__mpi_check_ptr(t, fn, "t");
    for (size_t j = 0; st == BERG_OK && j < nt; j++)
        if (!(isfinite(t[j]) && t[j] >= 0.0))
            st = berg__mpi_error(BERG_ERR_TIME, "%s: t[%zu] = %g must be finite and >= 0", fn,
                                 j, t[j]);
    if (st == BERG_OK)
        st = check_io(h, in, out, nt, fn);
    BERG_MPI_TRY(berg__mpi_agree(h->x.sp.comm, st));
    pthread_mutex_lock(&h->lock);
    st = times_run(h, nt, t, in, out, fn);
    pthread_mutex_unlock(&h->lock);
    return st;
}
