/* Runtime version, so bindings can detect a header/library mismatch. */
#include "core/internal.h"

#define STR2(x) #x
#define STR(x) STR2(x)

const char *berg_version_string(void)
{
    return STR(BERG_VERSION_MAJOR) "." STR(BERG_VERSION_MINOR) "." STR(BERG_VERSION_PATCH);
}

int berg_version_number(void) { return BERG_VERSION_NUMBER; }
