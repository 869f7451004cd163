/* The checks of one generated bad-input case (gen_badinput.py writes the
 * runners; test_badinput.c runs each in its own process). */
#ifndef BERG_BADINPUT_DRIVER_H
#define BERG_BADINPUT_DRIVER_H

#include <stddef.h>

typedef struct bi_result {
    int returns_status;
    int status;          /* returned status (BERG_OK for non-status functions) */
    int last_status;     /* berg_last_status() after a failure */
    int touched;         /* an output changed on failure */
    int nonfinite;       /* an output is non-finite after success */
    int handle_escaped;  /* a creator changed *out on failure */
    int value_nan;       /* a double-returning query returned NaN */
    int state_changed;   /* a refused call changed its handle's state */
    char msg[240];
} bi_result;

typedef struct bi_case {
    const char *fn, *header, *param, *mutation;
    int mut;
    void (*run)(int mut, bi_result *r);
    int optional;        /* the parameter's doc says NULL is allowed */
} bi_case;

extern const bi_case bi_cases[];
extern const size_t bi_ncases, bi_nfunctions;

#ifdef BI_RUNNERS /* the generated file: helpers of the runners */
#include "badinput_support.h"

static double bi_dbuf[8][BI_BUF];
static size_t bi_zbuf[4][BI_BUF];
static unsigned char bi_ebuf[16][64];

/* outputs registered before the call */
static struct {
    int kind;            /* 0 double out, 1 double in,out, 2 bytes, 3 handle/pointer out */
    void *p;
    size_t bytes;
    void *copy;
    bi_destroy_fn destroy;
    void *handle_before;
    int nulled;
} bi_outs[16];
static size_t bi_nouts;

static void bi_out_double(double *p, int inout)
{
    if (!p || bi_nouts >= 16)
        return;
    if (!inout)
        for (size_t i = 0; i < BI_BUF; i++)
            p[i] = BI_SENT;
    bi_outs[bi_nouts].kind = inout ? 1 : 0;
    bi_outs[bi_nouts].p = p;
    bi_outs[bi_nouts].bytes = BI_BUF * sizeof(double);
    bi_nouts++;
}
static void bi_out_bytes(void *p, size_t bytes)
{
    if (!p || bi_nouts >= 16)
        return;
    memset(p, 0xA5, bytes);
    bi_outs[bi_nouts].kind = 2;
    bi_outs[bi_nouts].p = p;
    bi_outs[bi_nouts].bytes = bytes;
    bi_nouts++;
}
/* nulled: the function documents *out = NULL on failure */
static void bi_out_handle(void **p, bi_destroy_fn d, int nulled)
{
    if (!p || bi_nouts >= 16)
        return;
    bi_outs[bi_nouts].nulled = nulled;
    bi_outs[bi_nouts].kind = 3;
    bi_outs[bi_nouts].p = p;
    bi_outs[bi_nouts].destroy = d;
    bi_outs[bi_nouts].handle_before = *p;
    bi_nouts++;
}
/* a fingerprint of a handle's observable state, for the functions that
 * change a handle (non-const object): a refusal must leave it as it was */
#define BI_FP 64
static const void *bi_state_handle;
static int bi_state_kind; /* 1 bayes, 2 fisher_acc, 3 w2_metric */
static double bi_state[BI_FP];
static void bi_fingerprint(double *fp)
{
    for (size_t i = 0; i < BI_FP; i++)
        fp[i] = 0.0;
    if (bi_state_kind == 1) {
        const berg_bayes *b = bi_state_handle;
        fp[0] = berg_bayes_time(b);
        fp[1] = (double)berg_bayes_log_posterior(b, fp + 2);           /* 16 values */
        fp[18] = (double)berg_bayes_divergence(b, fp + 19);            /* 16 values */
    } else if (bi_state_kind == 2) {
        const berg_fisher_acc *a = bi_state_handle;
        fp[0] = (double)berg_fisher_acc_count(a);
        fp[1] = (double)berg_fisher_acc_dim(a);
        fp[2] = (double)berg_fisher_acc_result(a, fp + 3, fp + 4);
    } else if (bi_state_kind == 3) {
        const berg_w2_metric *m = bi_state_handle;
        double eta[BI_N];
        size_t it = 0;
        for (size_t i = 0; i < BI_N; i++)
            eta[i] = i % 2 ? 0.01 : -0.01;
        fp[0] = (double)berg_w2_metric_inner(m, eta, eta, fp + 1, &it, fp + 2);
        fp[3] = (double)it;
    }
}
static void bi_state_of(const void *h, int kind)
{
    bi_state_handle = h;
    bi_state_kind = h ? kind : 0;
    if (bi_state_kind)
        bi_fingerprint(bi_state);
}

static void bi_before(void)
{
    for (size_t k = 0; k < bi_nouts; k++)
        if (bi_outs[k].kind != 3) {
            bi_outs[k].copy = malloc(bi_outs[k].bytes);
            memcpy(bi_outs[k].copy, bi_outs[k].p, bi_outs[k].bytes);
        }
    berg_clear_error();
}
static void bi_after(bi_result *r, int returns_status, berg_status st)
{
    r->returns_status = returns_status;
    r->status = (int)st;
    r->last_status = (int)berg_last_status();
    snprintf(r->msg, sizeof r->msg, "%s", st != BERG_OK ? berg_last_error() : "");
    for (size_t k = 0; k < bi_nouts; k++) {
        if (bi_outs[k].kind == 3) {
            void **pp = bi_outs[k].p;
            if (st != BERG_OK)
                r->handle_escaped |= *pp != (bi_outs[k].nulled ? NULL : bi_outs[k].handle_before);
            else if (*pp != bi_outs[k].handle_before && *pp != NULL)
                bi_outs[k].destroy(*pp);
            continue;
        }
        if (st != BERG_OK)
            r->touched |= memcmp(bi_outs[k].copy, bi_outs[k].p, bi_outs[k].bytes) != 0;
        else if (bi_outs[k].kind <= 1) {
            const double *d = bi_outs[k].p;
            for (size_t i = 0; i < BI_BUF; i++)
                if (!isfinite(d[i]) && memcmp(&d[i], &(double){BI_SENT}, sizeof(double)) != 0)
                    r->nonfinite = 1;
        }
        free(bi_outs[k].copy);
    }
    if (st != BERG_OK && bi_state_kind) {
        double now[BI_FP];
        bi_fingerprint(now);
        r->state_changed = memcmp(now, bi_state, sizeof now) != 0;
    }
    bi_state_kind = 0;
    bi_nouts = 0;
    bi_release();
}
#endif /* BI_RUNNERS */
#endif
