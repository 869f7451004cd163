/* Runtime version, so bindings can detect a header/library mismatch. */
#include "core/internal.h"

const char *berg_version_string(void) { return BERG_VERSION_STRING; }

int berg_version_number(void) { return BERG_VERSION_NUMBER; }
