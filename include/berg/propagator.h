/* Transitional: removed before 1.0 (the declarations moved to heat.h, fokker_planck.h, stochastic.h). */
#ifndef BERG_PROPAGATOR_H
#define BERG_PROPAGATOR_H
#include "berg/heat.h"
#include "berg/fokker_planck.h"
#include "berg/stochastic.h"
#endif
