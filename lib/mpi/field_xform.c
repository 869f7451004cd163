/*
 * The distributed r2c transform of an all-periodic space used by the random
 * fields, the field Langevin flow and the Fourier Fokker-Planck flow
 * (field_internal.h), FFTW-MPI with TRANSPOSED_OUT / TRANSPOSED_IN: a
 * forward and an inverse transform cost two global transposes, not four.
 * Also the collective helpers: status agreement, reductions, row fetch.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mpi/field_internal.h"
#include "propagator/transform.h"

/* ---- collectives --------------------------------------------------------- */

berg_status berg__mpi_agree(MPI_Comm comm, berg_status st)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int mine = (st != BERG_OK) ? rank : INT_MAX, first = INT_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT_MAX)
        return BERG_OK;
    struct {
        int st;
        char msg[480];
    } m;
    memset(&m, 0, sizeof m);
    if (rank == first) {
        m.st = (int)st;
        snprintf(m.msg, sizeof m.msg, "%s", berg_last_error());
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, comm);
    if (rank == first)
        return st;
    m.msg[sizeof m.msg - 1] = '\0';
    return berg__error((berg_status)m.st, "rank %d: %s", first, m.msg);
}

double berg__mpi_sum(MPI_Comm comm, double v)
{
    double s = 0.0;
    MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, comm);
    return s;
}

double berg__mpi_max(MPI_Comm comm, double v)
{
    double s = 0.0;
    MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_MAX, comm);
    return s;
}

double berg__mpi_min(MPI_Comm comm, double v)
{
    double s = 0.0;
    MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_MIN, comm);
    return s;
}

berg_status berg__mpix_fetch_rows(const berg__mpix *x, const double *local, size_t lo, size_t hi,
                                  double *out, const char *fn)
{
    const int P = x->nproc;
    const size_t rs = x->row_size;
    unsigned long long mine[4] = {lo, hi, x->row0, x->nrows};
    unsigned long long *all = berg__alloc((size_t)P * 4, sizeof *all, fn);
    int *cnt = berg__alloc((size_t)P * 4, sizeof *cnt, fn);
    berg_status st = (all && cnt) ? BERG_OK : berg_last_status();
    st = berg__mpi_agree(x->comm, st);
    if (st != BERG_OK)
        goto done;
    MPI_Allgather(mine, 4, MPI_UNSIGNED_LONG_LONG, all, 4, MPI_UNSIGNED_LONG_LONG, x->comm);
    int *sc = cnt, *sd = cnt + P, *rc = cnt + 2 * P, *rd = cnt + 3 * P;
    int big = 0;
    for (int q = 0; q < P; q++) {
        /* mine to q: my rows within q's range */
        size_t a = all[4 * q] > x->row0 ? all[4 * q] : x->row0;
        size_t b = all[4 * q + 1] < x->row0 + x->nrows ? all[4 * q + 1] : x->row0 + x->nrows;
        size_t n = b > a ? (b - a) * rs : 0, off = b > a ? (a - x->row0) * rs : 0;
        /* q's to me: q's rows within mine */
        size_t qa = all[4 * q + 2], qb = qa + all[4 * q + 3];
        size_t c = qa > lo ? qa : lo, e = qb < hi ? qb : hi;
        size_t m = e > c ? (e - c) * rs : 0, moff = e > c ? (c - lo) * rs : 0;
        if (n > INT_MAX || off > INT_MAX || m > INT_MAX || moff > INT_MAX)
            big = 1;
        sc[q] = (int)n;
        sd[q] = (int)off;
        rc[q] = (int)m;
        rd[q] = (int)moff;
    }
    st = big ? berg__error(BERG_ERR_SIZE, "%s: a halo exchange of more than INT_MAX values", fn)
             : BERG_OK;
    st = berg__mpi_agree(x->comm, st);
    if (st == BERG_OK)
        MPI_Alltoallv(local, sc, sd, MPI_DOUBLE, out, rc, rd, MPI_DOUBLE, x->comm);
done:
    berg__free(all);
    berg__free(cnt);
    return st;
}

/* ---- the transform -------------------------------------------------------- */

void berg__mpix_free(berg__mpix *x)
{
    if (x->fwd)
        berg__fftw_destroy_plan(x->fwd);
    if (x->bwd)
        berg__fftw_destroy_plan(x->bwd);
    if (x->rbuf)
        fftw_free(x->rbuf);
    if (x->cbuf)
        fftw_free(x->cbuf);
    memset(x, 0, sizeof *x);
}

berg_status berg__mpix_init(berg__mpix *x, MPI_Comm comm, const berg_space *space,
                            unsigned flags, const char *fn)
{
    memset(x, 0, sizeof *x);
    const int d = space->ndim;
    berg_status st = BERG_OK;
    for (int a = 0; a < d && st == BERG_OK; a++)
        if (space->bc[a] != BERG_PERIODIC)
            st = berg__error(BERG_ERR_UNSUPPORTED,
                             "%s: axis %d is not periodic; the distributed field flows need a "
                             "periodic space",
                             fn, a);
    if (st == BERG_OK && d < 2)
        st = berg__error(BERG_ERR_UNSUPPORTED,
                         "%s: FFTW-MPI distributes real transforms of 2 or more axes; the space "
                         "has 1 (use the serial libberg)",
                         fn);
    if (st != BERG_OK)
        return st;
    x->comm = comm;
    MPI_Comm_rank(comm, &x->rank);
    MPI_Comm_size(comm, &x->nproc);
    x->space = *space;
    x->d = d;
    ptrdiff_t nr[BERG_MAX_RANK], nc[BERG_MAX_RANK];
    x->row_size = 1;
    for (int a = 0; a < d; a++) {
        nr[a] = (ptrdiff_t)space->n[a];
        nc[a] = (ptrdiff_t)space->n[a];
        if (a > 0)
            x->row_size *= space->n[a];
    }
    nc[d - 1] = (ptrdiff_t)(space->n[d - 1] / 2 + 1);
    for (int a = 0; a < d; a++)
        x->cdims[a] = (size_t)nc[a];
    x->padded = 2 * (size_t)nc[d - 1];
    x->norm = 1.0 / (double)space->size;
    berg__fftw_lock();
    fftw_mpi_init();
    ptrdiff_t ln0, l0s, ln1, l1s;
    ptrdiff_t alloc = fftw_mpi_local_size_many_transposed(
        d, nc, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, comm, &ln0, &l0s, &ln1, &l1s);
    x->nrows = (size_t)ln0;
    x->row0 = (size_t)l0s;
    x->nspec1 = (size_t)ln1;
    x->spec1 = (size_t)l1s;
    x->nlocal = x->nrows * x->row_size;
    x->nspec = x->nspec1;
    for (int a = 0; a < d; a++)
        if (a != 1)
            x->nspec *= x->cdims[a];
    if (alloc < 1)
        alloc = 1;
    x->rbuf = fftw_alloc_real(2 * (size_t)alloc);
    x->cbuf = fftw_alloc_complex((size_t)alloc);
    unsigned pf = (flags & BERG_PLAN_ESTIMATE) ? FFTW_ESTIMATE : FFTW_MEASURE;
    if (x->rbuf && x->cbuf) {
        x->fwd = fftw_mpi_plan_many_dft_r2c(d, nr, 1, FFTW_MPI_DEFAULT_BLOCK,
                                            FFTW_MPI_DEFAULT_BLOCK, x->rbuf, x->cbuf, comm,
                                            pf | FFTW_MPI_TRANSPOSED_OUT);
        x->bwd = fftw_mpi_plan_many_dft_c2r(d, nr, 1, FFTW_MPI_DEFAULT_BLOCK,
                                            FFTW_MPI_DEFAULT_BLOCK, x->cbuf, x->rbuf, comm,
                                            pf | FFTW_MPI_TRANSPOSED_IN);
    }
    berg__fftw_unlock();
    if (!x->rbuf || !x->cbuf)
        st = berg__error(BERG_ERR_NOMEM, "%s: cannot allocate the transform buffers", fn);
    else if (!x->fwd || !x->bwd)
        st = berg__error(BERG_ERR_INTERNAL, "%s: FFTW-MPI cannot plan this grid", fn);
    st = berg__mpi_agree(comm, st);
    if (st != BERG_OK)
        berg__mpix_free(x);
    return st;
}

void berg__mpix_forward(berg__mpix *x, const double *in)
{
    const size_t nl = x->space.n[x->d - 1], lines = x->nlocal / (nl ? nl : 1);
    for (size_t l = 0; l < lines; l++)
        memcpy(x->rbuf + l * x->padded, in + l * nl, nl * sizeof(double));
    fftw_mpi_execute_dft_r2c(x->fwd, x->rbuf, x->cbuf);
}

void berg__mpix_inverse(berg__mpix *x, double *out)
{
    fftw_mpi_execute_dft_c2r(x->bwd, x->cbuf, x->rbuf);
    const size_t nl = x->space.n[x->d - 1], lines = x->nlocal / (nl ? nl : 1);
    for (size_t l = 0; l < lines; l++)
        memcpy(out + l * nl, x->rbuf + l * x->padded, nl * sizeof(double));
}

int berg__mpix_each_mode(const berg__mpix *x, berg__mpix_mode_fn f, void *ctx)
{
    const int d = x->d;
    /* layout dims: [axis 1 (local), axis 0, axis 2, ..., axis d-1] */
    size_t dims[BERG_MAX_RANK], axis[BERG_MAX_RANK], off[BERG_MAX_RANK];
    dims[0] = x->nspec1;
    axis[0] = 1;
    off[0] = x->spec1;
    dims[1] = x->cdims[0];
    axis[1] = 0;
    off[1] = 0;
    for (int a = 2; a < d; a++) {
        dims[a] = x->cdims[a];
        axis[a] = (size_t)a;
        off[a] = 0;
    }
    size_t pos[BERG_MAX_RANK] = {0}, idx[BERG_MAX_RANK];
    double k[BERG_MAX_RANK];
    for (size_t mode = 0; mode < x->nspec; mode++) {
        for (int j = 0; j < d; j++) {
            size_t a = axis[j], i = pos[j] + off[j], n = x->space.n[a];
            idx[a] = i;
            double m = ((int)a == d - 1 || i <= n / 2) ? (double)i : (double)i - (double)n;
            k[a] = 2.0 * M_PI * m / (x->space.hi[a] - x->space.lo[a]);
        }
        int r = f(mode, idx, k, ctx);
        if (r)
            return r;
        for (int j = d - 1; j >= 0; j--) {
            if (++pos[j] < dims[j])
                break;
            pos[j] = 0;
        }
    }
    return 0;
}

double berg__mpix_quad(const berg__mpix *x, const size_t *idx, const double *k, int fd)
{
    const berg_space *s = &x->space;
    const int d = x->d;
    double q = 0.0, dg[BERG_MAX_RANK], cr[BERG_MAX_RANK];
    for (int a = 0; a < d; a++) {
        double h = s->h[a];
        int nyq = berg__mpix_nyquist(x, a, idx[a]);
        if (fd) {
            double kf = 2.0 * sin(0.5 * k[a] * h) / h;
            dg[a] = kf * kf;
            cr[a] = nyq ? 0.0 : sin(k[a] * h) / h;
        } else {
            dg[a] = k[a] * k[a];
            cr[a] = nyq ? 0.0 : k[a];
        }
    }
    for (int a = 0; a < d; a++) {
        q += s->ginv[a * d + a] * dg[a];
        for (int b = a + 1; b < d; b++) {
            double gab = s->ginv[a * d + b];
            if (gab != 0.0)
                q += 2.0 * gab * cr[a] * cr[b];
        }
    }
    return q;
}
