/* The distributed spectral transform: FFTW-MPI plans with
 * FFTW_MPI_TRANSPOSED_OUT (forward) and FFTW_MPI_TRANSPOSED_IN (backward),
 * so a forward-multiply-backward step costs two global transposes. The
 * layouts are described in lib/mpi/internal.h. */
#include <math.h>
#include <string.h>

#include "mpi/internal.h"
#include "propagator/wavenumber.h"

void berg__mpi_xform_free(berg__mpi_xform *x)
{
    if (x == NULL)
        return;
    if (x->fwd)
        fftw_destroy_plan(x->fwd);
    if (x->bwd)
        fftw_destroy_plan(x->bwd);
    x->fwd = x->bwd = NULL;
    berg__mpi_free(x->rbuf);
    berg__mpi_free(x->sbuf);
    berg__mpi_free(x->sbuf2);
    x->rbuf = x->sbuf = x->sbuf2 = NULL;
    for (int a = 0; a < BERG__MPI_MAX_RANK; a++) {
        berg__mpi_free(x->kaxis[a]);
        x->kaxis[a] = NULL;
    }
    berg__mpi_space_clear(&x->sp);
}

/* the wave number of each global spectral index, as libberg's transform */
static berg_status make_kaxis(berg__mpi_xform *x, const char *fn)
{
    const berg_mpi_space *s = &x->sp;
    for (int a = 0; a < s->ndim; a++) {
        size_t m = x->sshape[a], n = s->n[a];
        double L = s->hi[a] - s->lo[a];
        x->kaxis[a] = berg__mpi_alloc(m, fn);
        if (x->kaxis[a] == NULL)
            return berg_mpi_last_status();
        x->nyquist[a] = -1;
        for (size_t i = 0; i < m; i++) {
            int nyq;
            x->kaxis[a][i] = berg__wavenumber(s->bc[a], x->halfcomplex, n, L, i, &nyq);
            if (nyq)
                x->nyquist[a] = (int)i;
        }
    }
    return BERG_OK;
}

/* local sizes, buffers and plans; any failure is local (agreed by the caller) */
static berg_status setup(berg__mpi_xform *x, unsigned flags, const char *fn)
{
    const berg_mpi_space *s = &x->sp;
    const int d = s->ndim;
    ptrdiff_t nc[BERG__MPI_MAX_RANK];
    for (int a = 0; a < d; a++)
        nc[a] = (ptrdiff_t)x->sshape[a];
    ptrdiff_t ln0 = 0, s0 = 0, ln1 = 0, s1 = 0;
    ptrdiff_t alloc = fftw_mpi_local_size_many_transposed(
        d, nc, (ptrdiff_t)x->batch, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, s->comm, &ln0,
        &s0, &ln1, &s1);
    BERG_MPI_REQUIRE((size_t)ln0 == s->n0loc, BERG_ERR_INTERNAL,
                     "%s: FFTW-MPI's transposed layout gives rank %d %td rows, the space %zu", fn,
                     s->rank, ln0, s->n0loc);
    x->n1loc = (size_t)ln1;
    x->s1 = ln1 > 0 ? (size_t)s1 : 0;
    x->nloc = x->n1loc;
    for (int a = 0; a < d; a++)
        if (a != 1)
            x->nloc *= x->sshape[a];
    x->rpad = x->is_complex ? 2 * x->sshape[d - 1] : s->n[d - 1];
    x->alloc = (size_t)alloc * (x->is_complex ? 2u : 1u);
    x->rbuf = berg__mpi_alloc(x->alloc, fn);
    x->sbuf = berg__mpi_alloc(x->alloc, fn);
    if (x->rbuf == NULL || x->sbuf == NULL)
        return berg_mpi_last_status();
    if (flags & BERG__MPI_XF_SPEC2) {
        x->sbuf2 = berg__mpi_alloc(x->alloc, fn);
        if (x->sbuf2 == NULL)
            return berg_mpi_last_status();
    }
    BERG_MPI_TRY(make_kaxis(x, fn));
    return BERG_OK;
}

static berg_status plan(berg__mpi_xform *x, unsigned flags, const char *fn)
{
    const berg_mpi_space *s = &x->sp;
    const int d = s->ndim;
    ptrdiff_t nr[BERG__MPI_MAX_RANK];
    for (int a = 0; a < d; a++)
        nr[a] = (ptrdiff_t)s->n[a];
    unsigned pf = (flags & BERG__MPI_XF_ESTIMATE) ? FFTW_ESTIMATE : FFTW_MEASURE;
    ptrdiff_t hm = (ptrdiff_t)x->batch, bl = FFTW_MPI_DEFAULT_BLOCK;
    if (x->is_complex) {
        x->fwd = fftw_mpi_plan_many_dft_r2c(d, nr, hm, bl, bl, x->rbuf, (fftw_complex *)x->sbuf,
                                            s->comm, pf | FFTW_MPI_TRANSPOSED_OUT);
        x->bwd = fftw_mpi_plan_many_dft_c2r(d, nr, hm, bl, bl, (fftw_complex *)x->sbuf, x->rbuf,
                                            s->comm, pf | FFTW_MPI_TRANSPOSED_IN);
    } else {
        fftw_r2r_kind kf[BERG__MPI_MAX_RANK], kb[BERG__MPI_MAX_RANK];
        for (int a = 0; a < d; a++) {
            if (s->bc[a] == BERG_PERIODIC) {
                kf[a] = FFTW_R2HC;
                kb[a] = FFTW_HC2R;
            } else if (s->bc[a] == BERG_NEUMANN) {
                kf[a] = FFTW_REDFT10;
                kb[a] = FFTW_REDFT01;
            } else {
                kf[a] = FFTW_RODFT10;
                kb[a] = FFTW_RODFT01;
            }
        }
        x->fwd = fftw_mpi_plan_many_r2r(d, nr, hm, bl, bl, x->rbuf, x->sbuf, s->comm, kf,
                                        pf | FFTW_MPI_TRANSPOSED_OUT);
        x->bwd = fftw_mpi_plan_many_r2r(d, nr, hm, bl, bl, x->sbuf, x->rbuf, s->comm, kb,
                                        pf | FFTW_MPI_TRANSPOSED_IN);
    }
    BERG_MPI_REQUIRE(x->fwd != NULL && x->bwd != NULL, BERG_ERR_INTERNAL,
                     "%s: FFTW-MPI could not plan the distributed transform", fn);
    return BERG_OK;
}

berg_status berg__mpi_xform_init(berg__mpi_xform *x, const berg_mpi_space *space, size_t batch,
                                 unsigned flags, const char *fn)
{
    memset(x, 0, sizeof *x);
    x->sp.comm = MPI_COMM_NULL;
    BERG_MPI_REQUIRE(space->ndim >= 2, BERG_ERR_UNSUPPORTED,
                     "%s: space has rank 1; FFTW-MPI distributes transforms of rank >= 2 (use "
                     "libberg's serial propagators)",
                     fn);
    int nper = 0;
    for (int a = 0; a < space->ndim; a++)
        nper += space->bc[a] == BERG_PERIODIC;
    BERG_MPI_REQUIRE(nper == 0 || nper == space->ndim || (flags & BERG__MPI_XF_EVEN),
                     BERG_ERR_UNSUPPORTED,
                     "%s: a space mixing periodic and non-periodic axes needs a symbol even in "
                     "every k_a (a diagonal metric, or at most one periodic axis for a callback "
                     "symbol)",
                     fn);
    BERG_MPI_REQUIRE(batch >= 1, BERG_ERR_SIZE, "%s: batch is 0 (need at least one array)", fn);
    BERG_MPI_TRY(berg__mpi_space_copy(&x->sp, space, fn));
    const int d = space->ndim;
    x->batch = batch;
    x->is_complex = nper == d;
    x->halfcomplex = nper > 0 && nper < d;
    x->norm = 1.0;
    for (int a = 0; a < d; a++) {
        size_t n = space->n[a];
        x->sshape[a] = (x->is_complex && a == d - 1) ? n / 2 + 1 : n;
        x->axis_norm[a] = 1.0 / ((space->bc[a] == BERG_PERIODIC ? 1.0 : 2.0) * (double)n);
        x->norm *= x->axis_norm[a];
    }
    berg_status st = setup(x, flags, fn);
    st = berg__mpi_agree(x->sp.comm, st);
    if (st == BERG_OK)
        st = berg__mpi_agree(x->sp.comm, plan(x, flags, fn));
    if (st != BERG_OK) {
        berg__mpi_xform_free(x);
        return st;
    }
    return BERG_OK;
}

void berg__mpi_xform_load(berg__mpi_xform *x, const double *in, double scale)
{
    const size_t nl = x->sp.n[x->sp.ndim - 1], rows = x->sp.size / nl, B = x->batch;
    const size_t size = x->sp.size, rp = x->rpad;
    if (B == 1 && rp == nl) {
        if (scale == 1.0)
            memcpy(x->rbuf, in, size * sizeof(double));
        else
            for (size_t i = 0; i < size; i++)
                x->rbuf[i] = in[i] * scale;
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        double *dst = x->rbuf + r * rp * B;
        for (size_t b = 0; b < B; b++) {
            const double *src = in + b * size + r * nl;
            for (size_t j = 0; j < nl; j++)
                dst[j * B + b] = src[j] * scale;
        }
    }
}

void berg__mpi_xform_store(const berg__mpi_xform *x, double *out, double scale)
{
    const size_t nl = x->sp.n[x->sp.ndim - 1], rows = x->sp.size / nl, B = x->batch;
    const size_t size = x->sp.size, rp = x->rpad;
    if (B == 1 && rp == nl) {
        if (scale == 1.0)
            memcpy(out, x->rbuf, size * sizeof(double));
        else
            for (size_t i = 0; i < size; i++)
                out[i] = x->rbuf[i] * scale;
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        const double *src = x->rbuf + r * rp * B;
        for (size_t b = 0; b < B; b++) {
            double *dst = out + b * size + r * nl;
            for (size_t j = 0; j < nl; j++)
                dst[j] = src[j * B + b] * scale;
        }
    }
}

void berg__mpi_xform_forward(berg__mpi_xform *x)
{
    if (x->is_complex)
        fftw_mpi_execute_dft_r2c(x->fwd, x->rbuf, (fftw_complex *)x->sbuf);
    else
        fftw_mpi_execute_r2r(x->fwd, x->rbuf, x->sbuf);
}

void berg__mpi_xform_backward(berg__mpi_xform *x, double *spec)
{
    if (x->is_complex)
        fftw_mpi_execute_dft_c2r(x->bwd, (fftw_complex *)spec, x->rbuf);
    else
        fftw_mpi_execute_r2r(x->bwd, spec, x->rbuf);
}

void berg__mpi_xform_index(const berg__mpi_xform *x, size_t e, size_t *idx)
{
    const int d = x->sp.ndim;
    for (int a = d - 1; a >= 2; a--) {
        idx[a] = e % x->sshape[a];
        e /= x->sshape[a];
    }
    idx[0] = e % x->sshape[0];
    e /= x->sshape[0];
    idx[1] = x->s1 + e;
}

void berg__mpi_xform_k(const berg__mpi_xform *x, const size_t *idx, double *k)
{
    for (int a = 0; a < x->sp.ndim; a++)
        k[a] = x->kaxis[a][idx[a]];
}

void berg__mpi_axis_symbol(const berg__mpi_xform *x, int a, size_t m, int fd, double *diag,
                           double *cross)
{
    double k = x->kaxis[a][m], h = x->sp.h[a];
    int nyq = x->nyquist[a] == (int)m;
    if (fd) {
        double kf = 2.0 * sin(0.5 * k * h) / h;
        *diag = kf * kf;
        *cross = nyq ? 0.0 : sin(k * h) / h;
    } else {
        *diag = k * k;
        *cross = nyq ? 0.0 : k;
    }
}

double berg__mpi_mode_quad(const berg__mpi_xform *x, const size_t *idx, int fd)
{
    const int n = x->sp.ndim;
    double dg[BERG__MPI_MAX_RANK], cr[BERG__MPI_MAX_RANK];
    for (int a = 0; a < n; a++)
        berg__mpi_axis_symbol(x, a, idx[a], fd, &dg[a], &cr[a]);
    const double *gi = x->sp.ginv;
    double q = 0.0;
    for (int a = 0; a < n; a++) {
        q += gi[a * n + a] * dg[a];
        for (int b = a + 1; b < n; b++) {
            double gab = gi[a * n + b];
            if (gab != 0.0)
                q += 2.0 * gab * cr[a] * cr[b];
        }
    }
    return q;
}

void berg__mpi_xform_mul_table(const berg__mpi_xform *x, const double *table, const double *src,
                               double *dst)
{
    const size_t w = x->batch * (x->is_complex ? 2u : 1u);
    for (size_t e = 0; e < x->nloc; e++) {
        const double f = table[e];
        for (size_t b = 0; b < w; b++)
            dst[e * w + b] = src[e * w + b] * f;
    }
}

void berg__mpi_xform_mul_separable(const berg__mpi_xform *x, double *const *fac,
                                   const double *src, double *dst)
{
    const int d = x->sp.ndim;
    const size_t w = x->batch * (x->is_complex ? 2u : 1u);
    /* memory order of the axes: 1, 0, 2, ..., d-1; the innermost runs fastest */
    int perm[BERG__MPI_MAX_RANK];
    perm[0] = 1;
    perm[1] = 0;
    for (int a = 2; a < d; a++)
        perm[a] = a;
    const int in_ax = perm[d - 1];
    const size_t inner = x->sshape[in_ax];
    const double *fl = fac[in_ax];
    if (x->nloc == 0)
        return;
    size_t rows = x->nloc / inner;
    size_t idx[BERG__MPI_MAX_RANK] = {0};
    idx[1] = x->s1;
    for (size_t r = 0; r < rows; r++) {
        double outer = 1.0;
        for (int a = 0; a < d; a++)
            if (a != in_ax)
                outer *= fac[a][idx[a]];
        const double *sp = src + r * inner * w;
        double *dp = dst + r * inner * w;
        if (w == 1) {
            for (size_t j = 0; j < inner; j++)
                dp[j] = sp[j] * (outer * fl[j]);
        } else if (w == 2) {
            for (size_t j = 0; j < inner; j++) {
                double f = outer * fl[j];
                dp[2 * j] = sp[2 * j] * f;
                dp[2 * j + 1] = sp[2 * j + 1] * f;
            }
        } else {
            for (size_t j = 0; j < inner; j++) {
                double f = outer * fl[j];
                for (size_t b = 0; b < w; b++)
                    dp[j * w + b] = sp[j * w + b] * f;
            }
        }
        /* advance the outer multi-index (memory order perm[d-2] fastest) */
        for (int p = d - 2; p >= 0; p--) {
            int a = perm[p];
            size_t lo = a == 1 ? x->s1 : 0, hi = a == 1 ? x->s1 + x->n1loc : x->sshape[a];
            if (++idx[a] < hi)
                break;
            idx[a] = lo;
        }
    }
}

berg_status berg__mpi_input_log2(const berg__mpi_xform *x, const double *in, const char *fn,
                                 int *es)
{
    const size_t n = x->batch * x->sp.size;
    double s = 0.0, c = 0.0, total;
    for (size_t i = 0; i < n; i++)
        berg__mpi_neumaier(&s, &c, fabs(in[i]));
    BERG_MPI_TRY(berg__mpi_sum_pairs(x->sp.comm, 1, &s, &c, &total, fn));
    if (isfinite(total)) {
        *es = total > 0.0 ? ilogb(total) + 1 : -1100;
        return BERG_OK;
    }
    double mx = 0.0, gmx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(in[i]));
    BERG_MPI_TRY(berg__mpi_check(MPI_Allreduce(&mx, &gmx, 1, MPI_DOUBLE, MPI_MAX, x->sp.comm), fn,
                                 "MPI_Allreduce"));
    double count = (double)x->batch * (double)x->sp.n[0] * (double)x->sp.row;
    *es = ilogb(gmx) + ilogb(count) + 2;
    return BERG_OK;
}

double berg__mpi_xform_rbuf_maxabs(const berg__mpi_xform *x)
{
    const size_t nl = x->sp.n[x->sp.ndim - 1], rows = x->sp.size / nl, B = x->batch;
    double m = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const double *src = x->rbuf + r * x->rpad * B;
        for (size_t j = 0; j < nl * B; j++)
            m = fmax(m, fabs(src[j]));
    }
    return m;
}

berg_status berg__mpi_xform_run(berg__mpi_xform *x, int k, const double *in, double *out,
                                berg__mpi_mul_fn mul, void *ctx, const char *fn)
{
    berg__mpi_xform_load(x, in, k ? ldexp(1.0, k) : 1.0);
    unsigned fp = berg__mpi_ftz_enter();
    berg__mpi_xform_forward(x);
    mul(x, x->sbuf, x->sbuf, ctx);
    berg__mpi_xform_backward(x, x->sbuf);
    berg__mpi_ftz_leave(fp);
    if (k != 0) {
        double mx = berg__mpi_xform_rbuf_maxabs(x), gmx = 0.0;
        BERG_MPI_TRY(berg__mpi_check(
            MPI_Allreduce(&mx, &gmx, 1, MPI_DOUBLE, MPI_MAX, x->sp.comm), fn, "MPI_Allreduce"));
        BERG_MPI_REQUIRE(isfinite(ldexp(gmx, -k)), BERG_ERR_DOMAIN,
                         "%s: the result has values of about 2^%d, beyond DBL_MAX", fn,
                         ilogb(gmx) - k);
    }
    berg__mpi_xform_store(x, out, k ? ldexp(1.0, -k) : 1.0);
    return BERG_OK;
}
