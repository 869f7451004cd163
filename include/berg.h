/*
 * berg.h - libberg, Exact Renormalization Group flows and dynamical Bayesian
 * inference on grids. Include this, or the module headers under berg/.
 *
 *   core        status codes, errors, version, memory
 *   space       sample-space geometry (grids, boundaries, metric, measure)
 *   propagator  heat kernels, Fourier multipliers, Fokker-Planck / Wegner-Morris
 *   metric      information functionals, l2 and Wasserstein-2 geometry
 *   fisher      Fisher metrics
 *   dictionary  dynamical Bayes and the ERG <-> Bayes dictionary
 */
#ifndef BERG_H
#define BERG_H

#include "berg/core.h"
#include "berg/space.h"
#include "berg/propagator.h"
#include "berg/metric.h"
#include "berg/fisher.h"
#include "berg/dictionary.h"

#endif /* BERG_H */
