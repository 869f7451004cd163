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

#ifdef __cplusplus
}
#endif

#endif /* BERG_METRIC_H */
