/*
 * berg/metric.h - see docs/metric.md.
 */
#ifndef BERG_METRIC_H
#define BERG_METRIC_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== information functionals, tangent space, l2 / W2 geometry (issue 5) ==== */

/* ==== end of the functionals section ==== */

/* ==== Wasserstein distances and entropic transport (issue 6) ==== */

/* ==== end of the Wasserstein section ==== */

#ifdef __cplusplus
}
#endif

#endif /* BERG_METRIC_H */
