/* Tangent space of densities: the l2 gradient (projection to zero
 * integral) and the W2 gradient -L_p dF with the log-mean face mobilities. */
#include <math.h>

#include "berg/w2_geometry.h"
#include "metric/func_internal.h"

berg_status berg_l2_gradient(const berg_space *space, const double *dF, double *out)
{
    static const char fn[] = "berg_l2_gradient";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_finite(dF, space->size, fn, "dF"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    return berg_space_project_tangent(space, dF, out);
}

berg_status berg_w2_gradient(const berg_space *space, const double *p, const double *dF,
                             double *out)
{
    static const char fn[] = "berg_w2_gradient";
    BERG_TRY(berg__space_check(space, fn));
    BERG_TRY(berg__check_normalized(space, p, fn, "p"));
    BERG_TRY(berg__check_finite(dF, space->size, fn, "dF"));
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__require_diagonal_metric(space, fn));
    const size_t n = space->size, d = BERG__RANK(space);
    double *mob = berg__alloc(n * (d + 1), sizeof(double), fn);
    if (!mob)
        return berg_last_status();
    double *tmp = mob + n * d;
    berg__face_mobility(space, p, 0.0, mob, tmp);
    berg__div_mobility(space, mob, dF, tmp);
    berg_status st = berg__check_result(space, tmp, n, fn, "out", "p and dF");
    if (st == BERG_OK)
        for (size_t i = 0; i < n; i++)
            out[i] = -tmp[i];
    berg__free(mob);
    return st;
}
