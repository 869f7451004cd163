// Every public header compiles as C++11 and declares its functions with C
// linkage; the umbrella header includes them all.
#include "berg/dictionary.h"
#include "berg/fisher.h"
#include "berg/metric.h"
#include "berg/propagator.h"
#include "berg/space.h"
#include "berg/core.h"
#include "berg.h"

int main()
{
    // C linkage: taking the address of a function through a C-typed pointer
    const char *(*f)(berg_status) = &berg_status_string;
    return (f(BERG_OK) != nullptr && berg_version_number() == BERG_VERSION_NUMBER) ? 0 : 1;
}
