/* Each public header is self-contained (compiles when included first) and
 * the library the test links matches the headers' version. */
#include "berg/bayes.h"
#include "berg/channel.h"
#include "berg/core.h"
#include "berg/dictionary.h"
#include "berg/fisher.h"
#include "berg/fokker_planck.h"
#include "berg/functional.h"
#include "berg/heat.h"
#include "berg/moments.h"
#include "berg/space.h"
#include "berg/stochastic.h"
#include "berg/transport.h"
#include "berg/version.h"
#include "berg/w2_geometry.h"
#include "berg.h"
#include <stdio.h>
#include <string.h>

int main(void)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", BERG_VERSION_MAJOR, BERG_VERSION_MINOR,
             BERG_VERSION_PATCH);
    int ok = berg_version_number() == BERG_VERSION_NUMBER && strcmp(berg_version_string(), want) == 0;
    printf("headers-c: library %s, headers %s: %s\n", berg_version_string(), want,
           ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
    return ok ? 0 : 1;
}
