/*
 * lib/dictionary/internal.h - the layout of berg_bayes, shared by the
 * dictionary module's sources. Not installed.
 */
#ifndef BERG_DICTIONARY_INTERNAL_H
#define BERG_DICTIONARY_INTERNAL_H

#include "berg/dictionary.h"
#include "berg/channel.h"
#include "space/internal.h"

enum { BERG__MODEL_NONE = 0, BERG__MODEL_LOCATION = 1, BERG__MODEL_LOGLIK = 2 };

struct berg_bayes {
    struct berg_space U, Y;       /* parameter and data spaces (copies) */
    size_t nu, ny, du, dy;
    double *ucoord;               /* nu x du coordinates of the parameter cells */
    double *logprior;             /* ln pi_0 (normalised; -inf where 0) */
    double *logpost, *comp;       /* ln pi_T (shifted: max 0) and its Neumaier compensation */
    double *scratch, *scomp;      /* trial state of an observation */
    double T;
    int model;
    unsigned long generation;     /* bumped whenever the model or truth changes */
    berg_bayes_forward_fn G;
    berg_noise_logpdf_fn logp0;
    berg_point_loglik_fn loglik;
    void *user_data;
    int grid_noise;
    struct berg_space N;          /* grid noise: its space and density */
    double *noise;
    double *Gtab;                 /* nu x dy values of G at the parameter cells */
    double *D;                    /* KL(p* || p(.|u)) per parameter cell, or NULL */
};

/* ln p(y | u_i) for the parameter cell i (location: uses Gtab). */
berg_status berg__bayes_loglik_cell(const berg_bayes *b, size_t i, const double *y, double *lp,
                                    const char *fn);
/* ln p(y | u) at an arbitrary parameter point u (location model: calls G). */
berg_status berg__bayes_loglik_at(const berg_bayes *b, const double *u, const double *y,
                                  double *lp, const char *fn);
/* ln p0(n) of the location model's noise. */
berg_status berg__bayes_noise_logpdf(const berg_bayes *b, const double *n, double *lp,
                                     const char *fn);
/* The MAP of the expected-data flow at T (T = +inf: the minimiser of D on
 * the prior's support), refined as berg_bayes_map. */
berg_status berg__bayes_map_at(const berg_bayes *b, double T, double *u, const char *fn);
/* the posterior predictive of the expected-data flow at T (state unchanged) */
berg_status berg__bayes_expected_predictive(const berg_bayes *b, double T, double *p,
                                            const char *fn);
/* Re-record the last error of a callee with a prefix ("fn: context: callee's
 * message"): the callee's message is copied out of the per-thread buffer
 * before it is overwritten. Returns st. */
berg_status berg__dict_rewrap(berg_status st, const char *fn, const char *context);
/* n time-like values t[0..n) are finite and >= 0: BERG_ERR_TIME naming
 * "name[j]" (as berg__check_time) otherwise. */
berg_status berg__dict_check_times(const double *t, size_t n, const char *fn, const char *name);
/* coordinates of data cell j into y (dy values) */
void berg__bayes_data_point(const berg_bayes *b, size_t j, double *y);

#endif
