// Every public header compiles as C++11 and declares its functions with C
// linkage; the umbrella header includes them all.
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

int main()
{
    // C linkage: taking the address of a function through a C-typed pointer
    const char *(*f)(berg_status) = &berg_status_string;
    return (f(BERG_OK) != nullptr && berg_version_number() == BERG_VERSION_NUMBER) ? 0 : 1;
}
