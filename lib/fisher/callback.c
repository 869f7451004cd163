/*
 * Checks the fisher module shares: results that may overflow, and the one
 * check of every callback's output.
 */
#include <math.h>

#include "fisher/internal.h"

berg_status berg__fisher_result_finite(const double *A, size_t n, const char *fn,
                                       const char *what)
{
    for (size_t i = 0; i < n; i++)
        BERG_REQUIRE(isfinite(A[i]), BERG_ERR_NONFINITE,
                     "%s: %s overflows (entry %zu is %g): rescale the input", fn, what, i, A[i]);
    return BERG_OK;
}

berg_status berg__fisher_callback_output(const double *a, size_t n, int allow_neg_inf,
                                         const char *fn, const char *what)
{
    if (!allow_neg_inf)
        return berg__check_callback_output(a, n, fn, what);
    for (size_t j = 0; j < n; j++)
        BERG_REQUIRE(!isnan(a[j]) && a[j] < 700.0, BERG_ERR_CALLBACK,
                     "%s: %s wrote logp[%zu] = %g (it must be finite and below 700, or -inf)",
                     fn, what, j, a[j]);
    return BERG_OK;
}

void berg__fisher_poison(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
}
