/* The spectral transform of a space: planning, serial and const execution, mode tables. */
#include <math.h>
#include <string.h>

#include "propagator/transform.h"
#include "propagator/wavenumber.h"

static int aligned_like(const berg__xform *x, const double *p)
{
    return fftw_alignment_of((double *)(uintptr_t)p) == x->align;
}

void berg__xform_free(berg__xform *x)
{
    if (x == NULL)
        return;
    /* never waits for another thread's planning */
    berg__fftw_destroy_plan(x->a_fwd);
    berg__fftw_destroy_plan(x->a_bwd);
    berg__fftw_destroy_plan(x->b_fwd);
    berg__fftw_destroy_plan(x->b_bwd);
    x->a_fwd = x->a_bwd = x->b_fwd = x->b_bwd = NULL;
    berg__free(x->rbuf);
    berg__free(x->rbuf2);
    berg__free(x->spec);
    berg__free(x->spec2);
    berg__free(x->cbuf);
    x->rbuf = x->rbuf2 = x->spec = x->spec2 = x->cbuf = NULL;
    for (int a = 0; a < BERG_MAX_RANK; a++) {
        berg__free(x->kaxis[a]);
        berg__free(x->twiddle[a]);
        x->kaxis[a] = NULL;
        x->twiddle[a] = NULL;
    }
}

/* plan every stage; called with the planner lock held */
static berg_status make_plans(berg__xform *x, unsigned pflags, const char *fn)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    ptrdiff_t cstride[BERG_MAX_RANK];
    cstride[d - 1] = 1;
    for (int a = d - 2; a >= 0; a--)
        cstride[a] = cstride[a + 1] * (ptrdiff_t)x->sshape[a + 1];

    fftw_iodim64 dims[BERG_MAX_RANK], loops[BERG_MAX_RANK + 1];
    fftw_r2r_kind kf[BERG_MAX_RANK], kb[BERG_MAX_RANK];

    if (x->makhoul) {
        /* the r2c of the permuted array: real C order in, complex C order
         * (last axis halved) out, the batch a loop */
        fftw_iodim64 rl[1], cl[1];
        ptrdiff_t ccs[BERG_MAX_RANK];
        ccs[d - 1] = 1;
        for (int a = d - 2; a >= 0; a--)
            ccs[a] = ccs[a + 1] * (ptrdiff_t)(a + 1 == d - 1 ? x->chalf : s->n[a + 1]);
        for (int a = 0; a < d; a++) {
            dims[a].n = (ptrdiff_t)s->n[a];
            dims[a].is = (ptrdiff_t)s->stride[a];
            dims[a].os = ccs[a];
            loops[a] = dims[a];
            loops[a].is = ccs[a];
            loops[a].os = (ptrdiff_t)s->stride[a];
        }
        rl[0].n = cl[0].n = (ptrdiff_t)x->batch;
        rl[0].is = cl[0].os = (ptrdiff_t)x->nreal;
        rl[0].os = cl[0].is = (ptrdiff_t)x->ncplx;
        x->b_fwd = fftw_plan_guru64_dft_r2c(d, dims, 1, rl, x->rbuf, (fftw_complex *)x->cbuf,
                                            pflags | FFTW_DESTROY_INPUT);
        x->b_bwd = fftw_plan_guru64_dft_c2r(d, loops, 1, cl, (fftw_complex *)x->cbuf, x->rbuf,
                                            pflags | FFTW_DESTROY_INPUT);
        if (!x->b_fwd || !x->b_bwd)
            return berg__error(BERG_ERR_INTERNAL, "%s: FFTW could not plan the DCT/DST stage", fn);
        return BERG_OK;
    }
    if (x->has_r2r) {
        int r = 0, h = 0;
        for (int a = 0; a < d; a++) {
            ptrdiff_t st = (ptrdiff_t)s->stride[a];
            if (s->bc[a] == BERG_PERIODIC && !x->halfcomplex) {
                loops[h].n = (ptrdiff_t)s->n[a];
                loops[h].is = loops[h].os = st;
                h++;
            } else {
                dims[r].n = (ptrdiff_t)s->n[a];
                dims[r].is = dims[r].os = st;
                if (s->bc[a] == BERG_PERIODIC) {
                    kf[r] = FFTW_R2HC;
                    kb[r] = FFTW_HC2R;
                } else {
                    kf[r] = s->bc[a] == BERG_NEUMANN ? FFTW_REDFT10 : FFTW_RODFT10;
                    kb[r] = s->bc[a] == BERG_NEUMANN ? FFTW_REDFT01 : FFTW_RODFT01;
                }
                r++;
            }
        }
        if (x->batch > 1) {
            loops[h].n = (ptrdiff_t)x->batch;
            loops[h].is = loops[h].os = (ptrdiff_t)x->nreal;
            h++;
        }
        /* the forward stage reads the caller's array: it must preserve it */
        /* without periodic axes the DCT/DST output is the spectrum itself */
        double *mid = x->has_r2c ? x->rbuf : x->spec;
        x->a_fwd = fftw_plan_guru64_r2r(r, dims, h, loops, x->rbuf2, mid, kf,
                                        pflags | FFTW_PRESERVE_INPUT);
        x->a_bwd = fftw_plan_guru64_r2r(r, dims, h, loops, mid, x->rbuf2, kb,
                                        pflags | FFTW_DESTROY_INPUT);
        if (!x->a_fwd || !x->a_bwd)
            return berg__error(BERG_ERR_INTERNAL, "%s: FFTW could not plan the DCT/DST stage", fn);
    }
    if (x->has_r2c) {
        int r = 0, h = 0;
        fftw_iodim64 cdims[BERG_MAX_RANK], cloops[BERG_MAX_RANK + 1];
        for (int a = 0; a < d; a++) {
            ptrdiff_t st = (ptrdiff_t)s->stride[a];
            if (s->bc[a] == BERG_PERIODIC) {
                dims[r].n = (ptrdiff_t)s->n[a];
                dims[r].is = st;
                dims[r].os = cstride[a];
                cdims[r].n = dims[r].n;
                cdims[r].is = cstride[a];
                cdims[r].os = st;
                r++;
            } else {
                loops[h].n = (ptrdiff_t)s->n[a];
                loops[h].is = st;
                loops[h].os = cstride[a];
                cloops[h].n = loops[h].n;
                cloops[h].is = cstride[a];
                cloops[h].os = st;
                h++;
            }
        }
        if (x->batch > 1) {
            loops[h].n = cloops[h].n = (ptrdiff_t)x->batch;
            loops[h].is = cloops[h].os = (ptrdiff_t)x->nreal;
            loops[h].os = cloops[h].is = (ptrdiff_t)x->nspec;
            h++;
        }
        double *rin = x->has_r2r ? x->rbuf : x->rbuf2;
        unsigned fin = x->has_r2r ? FFTW_DESTROY_INPUT : FFTW_PRESERVE_INPUT;
        x->b_fwd = fftw_plan_guru64_dft_r2c(r, dims, h, loops, rin, (fftw_complex *)x->spec,
                                            pflags | fin);
        x->b_bwd = fftw_plan_guru64_dft_c2r(r, cdims, h, cloops, (fftw_complex *)x->spec, rin,
                                            pflags | FFTW_DESTROY_INPUT);
        if (!x->b_fwd || !x->b_bwd)
            return berg__error(BERG_ERR_INTERNAL, "%s: FFTW could not plan the real FFT stage",
                               fn);
    }
    return BERG_OK;
}

/* the signed k of each spectral index per axis, and the Nyquist indices */
static berg_status make_kaxis(berg__xform *x, const char *fn)
{
    const berg_space *s = &x->space;
    int d = s->ndim;
    for (int a = 0; a < d; a++) {
        size_t m = x->sshape[a], n = s->n[a];
        double L = s->hi[a] - s->lo[a];
        x->kaxis[a] = berg__alloc(m, sizeof(double), fn);
        if (!x->kaxis[a])
            return berg_last_status();
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

/* doubles of rbuf: the batch's nr values, and for a makhoul transform at
 * least the 4 chalf of its rows' scratch per thread (dct.c) */
static size_t rbuf_words(const berg__xform *x, size_t nr)
{
    size_t rows = 4 * x->chalf * (x->nthreads > 1 ? x->nthreads : 1);
    return x->makhoul && rows > nr ? rows : nr;
}

berg_status berg__xform_init(berg__xform *x, const berg_space *space, size_t batch,
                             size_t nthreads, unsigned flags, const char *fn)
{
    memset(x, 0, sizeof *x);
    x->space = *space;
    x->batch = batch;
    x->nthreads = nthreads;
    x->halved_axis = -1;
    const berg_space *s = &x->space;
    int d = s->ndim;
    int nper = 0;
    for (int a = 0; a < d; a++)
        nper += s->bc[a] == BERG_PERIODIC;
    x->halfcomplex = (flags & BERG__XF_EVEN) && nper > 0 && nper < d;
    for (int a = 0; a < d; a++) {
        if (s->bc[a] == BERG_PERIODIC && !x->halfcomplex) {
            x->has_r2c = 1;
            x->halved_axis = a;
        } else {
            x->has_r2r = 1;
        }
    }
    x->is_complex = x->has_r2c;
    x->nreal = s->size;
    x->nspec = 1;
    x->norm = 1.0;
    for (int a = 0; a < d; a++) {
        size_t n = s->n[a];
        x->sshape[a] = (a == x->halved_axis) ? n / 2 + 1 : n;
        x->nspec *= x->sshape[a];
        x->axis_norm[a] = 1.0 / ((s->bc[a] == BERG_PERIODIC ? 1.0 : 2.0) * (double)n);
        x->norm *= x->axis_norm[a];
    }
    x->nspec_doubles = x->is_complex ? 2 * x->nspec : x->nspec;
    /* no periodic axis: Makhoul's DCT/DST through one r2c (dct.c) */
    x->makhoul = nper == 0;
    if (x->makhoul) {
        x->chalf = s->n[d - 1] / 2 + 1;
        x->ncplx = s->size / s->n[d - 1] * x->chalf;
    }

    size_t nr, ns;
    if (berg__mul_size(batch, x->nreal, &nr, fn, "batch * grid size") != BERG_OK ||
        berg__mul_size(batch, x->nspec_doubles, &ns, fn, "batch * spectral size") != BERG_OK)
        return berg_last_status();
    if (nr > (size_t)PTRDIFF_MAX / sizeof(double) || ns > (size_t)PTRDIFF_MAX / sizeof(double))
        return berg__error(BERG_ERR_SIZE, "%s: batch of %zu arrays of %zu values is too large", fn,
                           batch, x->nreal);
    /* rbuf holds the intermediate of the two-stage transform or the
     * permuted array of a makhoul one */
    int two_stage = x->has_r2r && x->has_r2c;
    size_t nc = 0;
    if (x->makhoul &&
        (berg__mul_size(batch, 2 * x->ncplx, &nc, fn, "batch * spectral size") != BERG_OK ||
         nc > (size_t)PTRDIFF_MAX / sizeof(double)))
        return berg__error(BERG_ERR_SIZE, "%s: batch of %zu arrays of %zu values is too large", fn,
                           batch, x->nreal);
    x->rbuf = (two_stage || x->makhoul) ? berg__alloc(rbuf_words(x, nr), sizeof(double), fn)
                                        : NULL;
    x->cbuf = x->makhoul ? berg__alloc(nc, sizeof(double), fn) : NULL;
    x->rbuf2 = berg__alloc(nr, sizeof(double), fn);
    x->spec = berg__alloc(ns, sizeof(double), fn);
    x->spec2 = (flags & BERG__XF_SPEC2) ? berg__alloc(ns, sizeof(double), fn) : NULL;
    if (((two_stage || x->makhoul) && !x->rbuf) || (x->makhoul && !x->cbuf) || !x->rbuf2 ||
        !x->spec || ((flags & BERG__XF_SPEC2) && !x->spec2)) {
        berg__xform_free(x);
        return berg_last_status();
    }
    if (make_kaxis(x, fn) != BERG_OK || (x->makhoul && berg__dct_twiddles(x, fn) != BERG_OK)) {
        berg__xform_free(x);
        return berg_last_status();
    }

    unsigned pflags = (flags & BERG__XF_ESTIMATE) ? FFTW_ESTIMATE : FFTW_MEASURE;
    berg__fftw_lock();
    int prev = fftw_planner_nthreads();
    fftw_plan_with_nthreads((int)nthreads);
    berg_status st = make_plans(x, pflags, fn);
    fftw_plan_with_nthreads(prev);
    x->align = fftw_alignment_of(x->rbuf2);
    berg__fftw_unlock();
    if (st != BERG_OK) {
        berg__xform_free(x);
        return st;
    }
    if (flags & BERG__XF_NOBUFS) {
        berg__free(x->rbuf);
        berg__free(x->rbuf2);
        berg__free(x->spec);
        berg__free(x->spec2);
        berg__free(x->cbuf);
        x->rbuf = x->rbuf2 = x->spec = x->spec2 = x->cbuf = NULL;
    }
    return BERG_OK;
}

size_t berg__xform_scratch_doubles(const berg__xform *x, int nspec_bufs)
{
    size_t nr = berg__xround(x->batch * x->nreal), ns = berg__xround(x->batch * x->nspec_doubles);
    size_t mid = (x->has_r2r && x->has_r2c) || x->makhoul ? berg__xround(rbuf_words(x, nr)) : 0u;
    size_t nc = x->makhoul ? berg__xround(x->batch * 2 * x->ncplx) : 0u;
    return nr + mid + (size_t)nspec_bufs * ns + nc;
}

double *berg__xform_scratch_carve(const berg__xform *x, double *block, int nspec_bufs,
                                  berg__xscratch *s)
{
    size_t nr = berg__xround(x->batch * x->nreal), ns = berg__xround(x->batch * x->nspec_doubles);
    s->rbuf2 = block;
    block += nr;
    s->rbuf = NULL;
    if ((x->has_r2r && x->has_r2c) || x->makhoul) {
        s->rbuf = block;
        block += berg__xround(rbuf_words(x, nr));
    }
    s->spec = block;
    block += ns;
    s->spec2 = NULL;
    if (nspec_bufs > 1) {
        s->spec2 = block;
        block += ns;
    }
    s->cbuf = NULL;
    if (x->makhoul) {
        s->cbuf = block;
        block += berg__xround(x->batch * 2 * x->ncplx);
    }
    return block;
}

/* the plans were made out of place on buffers of alignment x->align; the
 * new-array execute functions need the same, so misaligned user arrays go
 * through s->rbuf2 */
void berg__xform_forward_s(const berg__xform *x, const berg__xscratch *s, const double *in,
                           double *spec)
{
    if (x->makhoul) {
        berg__dct_forward_s(x, s, in, spec);
        return;
    }
    double *src = (double *)(uintptr_t)in;
    if (!aligned_like(x, in)) {
        memcpy(s->rbuf2, in, x->batch * x->nreal * sizeof(double));
        src = s->rbuf2;
    }
    if (x->has_r2r && x->has_r2c) {
        fftw_execute_r2r(x->a_fwd, src, s->rbuf);
        fftw_execute_dft_r2c(x->b_fwd, s->rbuf, (fftw_complex *)spec);
    } else if (x->has_r2r) {
        fftw_execute_r2r(x->a_fwd, src, spec);
    } else {
        fftw_execute_dft_r2c(x->b_fwd, src, (fftw_complex *)spec);
    }
}

void berg__xform_inverse_s(const berg__xform *x, const berg__xscratch *s, double *src,
                           double *out)
{
    if (x->makhoul) {
        berg__dct_inverse_s(x, s, src, out);
        return;
    }
    int direct = aligned_like(x, out);
    double *dst = direct ? out : s->rbuf2;
    if (x->has_r2c && x->has_r2r) {
        fftw_execute_dft_c2r(x->b_bwd, (fftw_complex *)src, s->rbuf);
        fftw_execute_r2r(x->a_bwd, s->rbuf, dst);
    } else if (x->has_r2c) {
        fftw_execute_dft_c2r(x->b_bwd, (fftw_complex *)src, dst);
    } else {
        fftw_execute_r2r(x->a_bwd, src, dst);
    }
    if (!direct)
        memcpy(out, s->rbuf2, x->batch * x->nreal * sizeof(double));
}

typedef struct {
    double t;
    uint64_t holds; /* 0 in a new (zero-filled) block */
} block_head;

int berg__head_holds(const double *block, double t)
{
    const block_head *head = (const block_head *)(const void *)block;
    return head->holds && head->t == t;
}

void berg__head_set(double *block, double t)
{
    block_head *head = (block_head *)(void *)block;
    head->t = t;
    head->holds = 1;
}

/* the serial form: the transform's own buffers */
static berg__xscratch own_scratch(const berg__xform *x)
{
    berg__xscratch s = {x->rbuf, x->rbuf2, x->spec, x->spec2, x->cbuf};
    return s;
}

void berg__xform_forward(berg__xform *x, const double *in)
{
    berg__xscratch s = own_scratch(x);
    berg__xform_forward_s(x, &s, in, x->spec);
}

void berg__xform_inverse(berg__xform *x, double *src, double *out)
{
    berg__xscratch s = own_scratch(x);
    berg__xform_inverse_s(x, &s, src, out);
}

/* one row of the separable product: dst[j] = src[j] * outer * fl[j] (complex
 * entries: both parts); in place when dst == src */
static void row_complex_inplace(double *restrict p, const double *restrict fl, double outer,
                                size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double f = outer * fl[j];
        p[2 * j] *= f;
        p[2 * j + 1] *= f;
    }
}

static void row_real_inplace(double *restrict p, const double *restrict fl, double outer, size_t n)
{
    for (size_t j = 0; j < n; j++)
        p[j] *= outer * fl[j];
}

void berg__xform_mul_separable(const berg__xform *x, double *const *fac, const double *src,
                               double *dst)
{
    int d = x->space.ndim;
    if (src == dst) {
        size_t inner = x->sshape[d - 1], rows = x->nspec / inner;
        size_t step = x->is_complex ? 2 * inner : inner;
        size_t idx[BERG_MAX_RANK] = {0};
        for (size_t b = 0; b < x->batch; b++) {
            memset(idx, 0, sizeof idx);
            for (size_t r = 0; r < rows; r++, dst += step) {
                double outer = 1.0;
                for (int a = 0; a < d - 1; a++)
                    outer *= fac[a][idx[a]];
                if (x->is_complex)
                    row_complex_inplace(dst, fac[d - 1], outer, inner);
                else
                    row_real_inplace(dst, fac[d - 1], outer, inner);
                for (int a = d - 2; a >= 0; a--) {
                    if (++idx[a] < x->sshape[a])
                        break;
                    idx[a] = 0;
                }
            }
        }
        return;
    }
    size_t inner = x->sshape[d - 1];
    size_t rows = x->nspec / inner;
    const double *fl = fac[d - 1];
    size_t idx[BERG_MAX_RANK] = {0};
    for (size_t b = 0; b < x->batch; b++) {
        memset(idx, 0, sizeof idx);
        for (size_t r = 0; r < rows; r++) {
            double outer = 1.0;
            for (int a = 0; a < d - 1; a++)
                outer *= fac[a][idx[a]];
            if (x->is_complex) {
                for (size_t j = 0; j < inner; j++) {
                    double f = outer * fl[j];
                    dst[2 * j] = src[2 * j] * f;
                    dst[2 * j + 1] = src[2 * j + 1] * f;
                }
                src += 2 * inner;
                dst += 2 * inner;
            } else {
                for (size_t j = 0; j < inner; j++)
                    dst[j] = src[j] * (outer * fl[j]);
                src += inner;
                dst += inner;
            }
            for (int a = d - 2; a >= 0; a--) {
                if (++idx[a] < x->sshape[a])
                    break;
                idx[a] = 0;
            }
        }
    }
}

/* the separable product over rows [begin, end) of the batch's spectral
 * rows (each row: the last axis' entries) */
typedef struct {
    const berg__xform *x;
    double *const *fac;
    const double *src;
    double *dst;
} mul_ctx;

static void mul_rows(void *v, size_t begin, size_t end, size_t range)
{
    (void)range;
    const mul_ctx *c = v;
    const berg__xform *x = c->x;
    int d = x->space.ndim;
    size_t inner = x->sshape[d - 1], rows = x->nspec / inner;
    size_t step = x->is_complex ? 2 * inner : inner;
    const double *fl = c->fac[d - 1];
    for (size_t g = begin; g < end; g++) {
        size_t r = g % rows, idx[BERG_MAX_RANK];
        for (int a = d - 2; a >= 0; a--) {
            idx[a] = r % x->sshape[a];
            r /= x->sshape[a];
        }
        double outer = 1.0;
        for (int a = 0; a < d - 1; a++)
            outer *= c->fac[a][idx[a]];
        const double *src = c->src + g * step;
        double *dst = c->dst + g * step;
        if (x->is_complex) {
            for (size_t j = 0; j < inner; j++) {
                double f = outer * fl[j];
                dst[2 * j] = src[2 * j] * f;
                dst[2 * j + 1] = src[2 * j + 1] * f;
            }
        } else {
            for (size_t j = 0; j < inner; j++)
                dst[j] = src[j] * (outer * fl[j]);
        }
    }
}

void berg__xform_mul_separable_mt(const berg__xform *x, double *const *fac, const double *src,
                                  double *dst, size_t nthreads)
{
    int d = x->space.ndim;
    size_t rows = x->batch * (x->nspec / x->sshape[d - 1]);
    if (nthreads <= 1 || x->batch * x->nspec < ((size_t)1 << 16)) {
        berg__xform_mul_separable(x, fac, src, dst);
        return;
    }
    mul_ctx c = {x, fac, src, dst};
    berg__parallel_for(rows, nthreads, 1, mul_rows, &c);
}

typedef struct {
    const berg__xform *x;
    const double *table, *src;
    double *dst;
} tab_ctx;

static void mul_table_range(void *v, size_t begin, size_t end, size_t range)
{
    (void)range;
    const tab_ctx *c = v;
    size_t n = c->x->nspec;
    for (size_t g = begin; g < end; g++) {
        size_t j = g % n;
        if (c->x->is_complex) {
            c->dst[2 * g] = c->src[2 * g] * c->table[j];
            c->dst[2 * g + 1] = c->src[2 * g + 1] * c->table[j];
        } else {
            c->dst[g] = c->src[g] * c->table[j];
        }
    }
}

void berg__xform_mul_table_mt(const berg__xform *x, const double *table, const double *src,
                              double *dst, size_t nthreads)
{
    if (nthreads <= 1 || x->batch * x->nspec < ((size_t)1 << 16)) {
        berg__xform_mul_table(x, table, src, dst);
        return;
    }
    tab_ctx c = {x, table, src, dst};
    berg__parallel_for(x->batch * x->nspec, nthreads, 4096, mul_table_range, &c);
}

void berg__xform_mul_table(const berg__xform *x, const double *table, const double *src,
                           double *dst)
{
    size_t n = x->nspec;
    for (size_t b = 0; b < x->batch; b++) {
        if (x->is_complex) {
            for (size_t j = 0; j < n; j++) {
                dst[2 * j] = src[2 * j] * table[j];
                dst[2 * j + 1] = src[2 * j + 1] * table[j];
            }
            src += 2 * n;
            dst += 2 * n;
        } else {
            for (size_t j = 0; j < n; j++)
                dst[j] = src[j] * table[j];
            src += n;
            dst += n;
        }
    }
}

int berg__xform_each_mode(const berg__xform *x, berg__mode_fn f, void *ctx)
{
    int d = x->space.ndim;
    size_t idx[BERG_MAX_RANK] = {0};
    double k[BERG_MAX_RANK];
    for (size_t mode = 0; mode < x->nspec; mode++) {
        for (int a = 0; a < d; a++)
            k[a] = x->kaxis[a][idx[a]];
        int r = f(mode, idx, k, ctx);
        if (r)
            return r;
        for (int a = d - 1; a >= 0; a--) {
            if (++idx[a] < x->sshape[a])
                break;
            idx[a] = 0;
        }
    }
    return 0;
}

void berg__axis_symbol(const berg__xform *x, int axis, size_t m, int fd, double *diag,
                       double *cross)
{
    double k = x->kaxis[axis][m], h = x->space.h[axis];
    int nyq = x->nyquist[axis] == (int)m;
    if (fd) {
        /* (2 sin(kh/2) / h)^2: h * h may underflow on tiny cells (and 0/0
         * at k = 0 was NaN) */
        double kf = 2.0 * sin(0.5 * k * h) / h;
        *diag = kf * kf;
        *cross = nyq ? 0.0 : sin(k * h) / h;
    } else {
        *diag = k * k;
        *cross = nyq ? 0.0 : k;
    }
}

double berg__quad_form(const berg_space *s, const double *d, const double *c)
{
    int n = s->ndim;
    double q = 0.0;
    for (int a = 0; a < n; a++) {
        q += s->ginv[a * n + a] * d[a];
        for (int b = a + 1; b < n; b++) {
            double gab = s->ginv[a * n + b];
            if (gab != 0.0)
                q += 2.0 * gab * c[a] * c[b];
        }
    }
    return q;
}

typedef struct {
    const berg__xform *x;
    int fd;
    double *q;
} quad_ctx;

static int quad_mode(size_t mode, const size_t *idx, const double *k, void *ctx)
{
    (void)k;
    const quad_ctx *c = ctx;
    double dg[BERG_MAX_RANK], cr[BERG_MAX_RANK];
    for (int a = 0; a < c->x->space.ndim; a++)
        berg__axis_symbol(c->x, a, idx[a], c->fd, &dg[a], &cr[a]);
    c->q[mode] = berg__quad_form(&c->x->space, dg, cr);
    return 0;
}

void berg__xform_quad_table(const berg__xform *x, int fd, double *q)
{
    quad_ctx c = {x, fd, q};
    berg__xform_each_mode(x, quad_mode, &c);
}

void berg__xform_axis_quad(const berg__xform *x, int a, int fd, double *q)
{
    int d = x->space.ndim;
    for (size_t m = 0; m < x->sshape[a]; m++) {
        double dg, cr;
        berg__axis_symbol(x, a, m, fd, &dg, &cr);
        q[m] = x->space.ginv[a * d + a] * dg;
    }
}
