/**
 * @file berg.h
 * @brief libberg: Exact Renormalization Group flows and dynamical Bayesian
 * inference on grids. Include this umbrella, or the headers under berg/.
 *
 * | header               | what                                                        |
 * |----------------------|-------------------------------------------------------------|
 * | berg/core.h          | statuses, per-thread errors, versions, flags, aligned memory |
 * | berg/space.h         | sample spaces: grids, boundaries, metric, measure, moments   |
 * | berg/heat.h          | heat kernels, Fourier multipliers, regulators, random fields |
 * | berg/fokker_planck.h | Fokker-Planck / ERG flows and their spectral propagator     |
 * | berg/stochastic.h    | particle ensembles and lattice-field Langevin flows         |
 * | berg/functional.h    | information functionals and their first variations          |
 * | berg/w2_geometry.h   | l2 / Wasserstein-2 gradients and the W2 metric tensor       |
 * | berg/moments.h       | moments and cumulants                                       |
 * | berg/transport.h     | Wasserstein distances and entropic transport                |
 * | berg/fisher.h        | Fisher metrics                                              |
 * | berg/bayes.h         | dynamical Bayesian inference                                |
 * | berg/dictionary.h    | the ERG <-> Bayes dictionary                                |
 * | berg/channel.h       | channels and Petz recovery                                  |
 */
#ifndef BERG_H
#define BERG_H

#include "berg/version.h"
#include "berg/core.h"
#include "berg/space.h"
#include "berg/heat.h"
#include "berg/fokker_planck.h"
#include "berg/stochastic.h"
#include "berg/functional.h"
#include "berg/w2_geometry.h"
#include "berg/moments.h"
#include "berg/transport.h"
#include "berg/fisher.h"
#include "berg/bayes.h"
#include "berg/dictionary.h"
#include "berg/channel.h"
#include "berg/erg.h"
#include "berg/couplings.h"

#endif /* BERG_H */
