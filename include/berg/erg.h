/**
 * @file berg/erg.h
 * @brief The ERG as a flow in the scale: Wegner-Morris schemes and the flow of lattice-field ensembles in ln Lambda (seed eq 1-4, 9-11).
 */
#ifndef BERG_ERG_H
#define BERG_ERG_H

#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* BERG_ERG_H */
