/* The public headers compile after <complex.h> (which defines the macro I)
 * and <lapacke.h>: no parameter or field of ours may be named like a
 * standard macro. */
#include <complex.h>
#include <lapacke.h>
#include "berg.h"
#include <stdio.h>

int main(void)
{
    int ok = berg_version_number() == BERG_VERSION_NUMBER;
    printf("headers-complex: %d passed, %d failed\n", ok, !ok);
    return ok ? 0 : 1;
}
