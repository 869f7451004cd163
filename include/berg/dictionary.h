/*
 * berg/dictionary.h - see docs/dictionary.md.
 */
#ifndef BERG_DICTIONARY_H
#define BERG_DICTIONARY_H

#include <stddef.h>
#include "berg/core.h"
#include "berg/space.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* BERG_DICTIONARY_H */
