/*
 * lib/dictionary/internal.h - the layout of berg_bayes and the helpers shared
 * by the dictionary module's sources (bayes.c: state and observation;
 * bayes_truth.c: expected-data flow, MAP, trajectories; bayes_predictive.c;
 * bayes_flow.c: the backward drift-diffusion; dictionary.c; channel.c).
 * Not installed.
 */
#ifndef BERG_DICTIONARY_INTERNAL_H
#define BERG_DICTIONARY_INTERNAL_H

#include "berg/bayes.h"
#include "berg/channel.h"
#include "berg/dictionary.h"
#include "core/internal.h"
#include "space/internal.h"

enum { BERG__MODEL_NONE = 0, BERG__MODEL_LOCATION = 1, BERG__MODEL_LOGLIK = 2 };

struct berg_bayes {
    struct berg_space param, data; /* parameter space U and data space Y (copies) */
    size_t nu, ny, du, dy;         /* cell counts and ranks of U and Y */
    double *ucoord;                /* nu x du coordinates of the parameter cells */
    double *logprior;              /* ln pi_0 (normalized; -inf where 0) */
    double *logpost, *logpost_comp;/* ln pi_T (shifted: max 0) and its Neumaier compensation */
    double *trial, *trial_comp;    /* the trial state of an observation batch */
    double T;                      /* amount of data */
    int model;                     /* BERG__MODEL_* */
    unsigned long generation;      /* bumped whenever the model or truth changes */
    berg_forward_fn G;
    berg_noise_logpdf_fn logp0;
    berg_point_loglik_fn loglik;
    void *user_data;
    int grid_noise;                /* the noise is a grid measure (noise_space, noise) */
    struct berg_space noise_space;
    double *noise;                 /* normalized noise density on noise_space */
    double *G_at_cells;            /* nu x dy values of G at the parameter cells */
    double *divergence;            /* KL(p* || p(.|u)) per parameter cell, or NULL */
    double *truth;                 /* the truth p*, normalized (ny values), with divergence */
    double truth_negS;             /* sum p* ln p* w of the normalized truth */
    berg_progress_fn progress;     /* configuration: berg_bayes_set_progress */
    void *progress_data;
    size_t nthreads;               /* configuration: berg_bayes_set_threads (0: berg_threads()) */
};

/* ---- threads over the parameter or data cells (bayes.c) ----------------
 * berg__bayes_cell_threads: the threads for a loop over the nu parameter
 * cells with `cost` of them per item (the handle's setting, fewer when the
 * loop is short). A failing range keeps its status, the item where it
 * failed and its thread's berg_last_error() message in a slot of
 * berg__bayes_fails(nranges) (berg__free it); berg__bayes_fail_first
 * re-records, in the calling thread, the failure of the smallest item. */
size_t berg__bayes_cell_threads(const berg_bayes *b, size_t cost);
void *berg__bayes_fails(size_t nranges, const char *fn);
void berg__bayes_fail_keep(void *fails, size_t r, size_t k, berg_status st);
berg_status berg__bayes_fail_first(const void *fails, size_t nranges);

/* ---- callbacks (bayes.c): the one place their outputs are checked ---- */

/* y = G(u) (dy values), the return code and the finiteness of y checked */
berg_status berg__bayes_forward(const berg_bayes *b, const double *u, double *y, const char *fn);
/* ln p0(y - g) of the location model's noise (grid or callback): y a data
 * point, g = G(u) (dy values each); a grid noise on a periodic axis is read
 * at (y - g - lo) mod (hi - lo) from the remainders of each term, right to
 * a few roundings of the width for any finite y and g (BERG_ERR_DOMAIN when
 * one is not) */
berg_status berg__bayes_noise_logpdf(const berg_bayes *b, const double *y, const double *g,
                                     double *lp, const char *fn);
/* ln p(y | u_i) for the parameter cell i (location: uses G_at_cells) */
berg_status berg__bayes_loglik_cell(const berg_bayes *b, size_t i, const double *y, double *lp,
                                    const char *fn);
/* ln p(y | u) at an arbitrary parameter point u (location model: calls G) */
berg_status berg__bayes_loglik_at(const berg_bayes *b, const double *u, const double *y,
                                  double *lp, const char *fn);
/* ln p(y | u_i) for every parameter cell i with active[i] > -inf (active
 * NULL: all); the others get -inf */
berg_status berg__bayes_loglik_row(const berg_bayes *b, const double *y, const double *active,
                                   double *row, const char *fn);

/* ---- state ---------------------------------------------------------- */

berg_status berg__bayes_need_model(const berg_bayes *b, const char *fn);
berg_status berg__bayes_need_truth(const berg_bayes *b, const char *fn);
/* a location model and a truth (the dictionary and the backward flow) */
berg_status berg__bayes_need_location_truth(const berg_bayes *b, const char *fn);
/* coordinates of data cell j into y (dy values) */
void berg__bayes_data_point(const berg_bayes *b, size_t j, double *y);
/* normalized posterior pi from a shifted log state lp (+ compensation cp, or NULL) */
void berg__bayes_density_from_log(const berg_bayes *b, const double *lp, const double *cp,
                                  double *pi);

/* ---- expected-data flow (bayes_truth.c) ----------------------------- */

/* ln pi_0 - T D shifted by its max into lp; T = +inf: -D on the prior's support */
berg_status berg__bayes_expected_log(const berg_bayes *b, double T, double *lp, const char *fn);
/* u (du values) moved into [lo, hi) on the periodic parameter axes */
void berg__bayes_wrap_periodic(const berg_bayes *b, double *u);
/* the MAP of a shifted log state, refined as berg_bayes_map */
berg_status berg__bayes_map_from_log(const berg_bayes *b, const double *lp, double *u,
                                     const char *fn);
/* the MAP of the expected-data flow at T (T = +inf: the minimizer of D on
 * the prior's support) */
berg_status berg__bayes_map_at(const berg_bayes *b, double T, double *u, const char *fn);

/* ---- the continuous MAP (bayes_map.c) ------------------------------- */

/* The MAP gamma of F(u) = ln pi_0(u) - D(G(u)) / tau (tau = 0: of -D) on
 * the continuous parameter space by Newton iterations from the grid MAP,
 * converged to 1e-10 or refused (BERG_ERR_NO_CONVERGENCE); dgamma (NULL:
 * not computed; tau > 0 only) receives dgamma/dtau by the implicit-function
 * theorem. Location model with a truth only. */
berg_status berg__bayes_map_exact(const berg_bayes *b, double tau, double *gamma, double *dgamma,
                                  const char *fn);

/* ---- predictive (bayes_predictive.c) -------------------------------- */

/* the posterior predictive of the expected-data flow at T (state unchanged) */
berg_status berg__bayes_expected_predictive(const berg_bayes *b, double T, double *p,
                                            const char *fn);

/* ---- the dictionary geometry (bayes_flow.c) -------------------------- */

/* J, I, K at the MAP gamma of the expected flow at tau (tau = 0: T -> inf);
 * gamma is computed unless known != 0 */
berg_status berg__bayes_geometry_at(const berg_bayes *b, double tau, int known, double *gamma,
                                    double *J, double *Imat, double *K, const char *fn);
/* ln p0(y_j - G(u)) for every data cell j */
berg_status berg__bayes_phi_grid(const berg_bayes *b, const double *u, double *logp,
                                 const char *fn);

/* A measure (finite, >= 0, positive mass) in scaled form: *scale = max a,
 * *ssum = sum a / max (in [1, n]), so that the mass sum a w = scale ssum w
 * is never formed (values near DBL_MAX overflow it, subnormal ones lose
 * it); BERG_ERR_MASS naming `name` when every value is 0. */
berg_status berg__dict_measure(const double *a, size_t n, const char *fn, const char *name,
                               double *scale, double *ssum);

/* ---- messages ------------------------------------------------------- */

/* Re-record the last error of a callee with a prefix ("fn: context:
 * callee's message"): the one re-prefixing helper of composite functions.
 * The callee's message is copied out of the per-thread buffer before it is
 * overwritten. Returns st. */
berg_status berg__dict_rewrap(berg_status st, const char *fn, const char *context);

#endif
