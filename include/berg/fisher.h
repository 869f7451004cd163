/*
 * berg/fisher.h - see docs/fisher.md.
 */
#ifndef BERG_FISHER_H
#define BERG_FISHER_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* BERG_FISHER_H */
