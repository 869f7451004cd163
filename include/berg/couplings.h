/**
 * @file berg/couplings.h
 * @brief Couplings and beta functions: the couplings of P = exp(-sum lambda^i L_i)/Z from an ensemble or a grid density, and their flow (seed eq 1-2).
 */
#ifndef BERG_COUPLINGS_H
#define BERG_COUPLINGS_H

#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* BERG_COUPLINGS_H */
