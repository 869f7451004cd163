/* Status strings and the per-thread error detail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

static const char *const status_strings[] = {
    [BERG_OK] = "success",
    [BERG_ERR_NULL] = "a required pointer argument is NULL",
    [BERG_ERR_SIZE] = "a count or size is zero, too large or overflows",
    [BERG_ERR_NONFINITE] = "an input value is NaN or infinite",
    [BERG_ERR_NEGATIVE] = "a density has a negative value",
    [BERG_ERR_MASS] = "a density has zero, infinite or wrong total mass",
    [BERG_ERR_TIME] = "a time is negative or not finite",
    [BERG_ERR_NOT_SPD] = "a matrix is not symmetric positive definite",
    [BERG_ERR_MISMATCH] = "objects that must agree do not (spaces, shapes)",
    [BERG_ERR_DOMAIN] = "a parameter is outside its valid range",
    [BERG_ERR_UNSUPPORTED] = "the operation is not defined for this configuration",
    [BERG_ERR_NOMEM] = "out of memory",
    [BERG_ERR_CALLBACK] = "a user callback failed or returned a non-finite value",
    [BERG_ERR_NO_CONVERGENCE] = "an iteration did not converge within its cap",
    [BERG_ERR_PARSE] = "a string could not be parsed",
    [BERG_ERR_IO] = "a file could not be read or written",
    [BERG_ERR_NOT_TANGENT] = "a tangent vector does not integrate to zero",
    [BERG_ERR_OUT_OF_RANGE] = "a point lies outside the grid",
    [BERG_ERR_INTERNAL] = "a dependency (FFTW, LAPACK) failed",
    [BERG_ERR_CANCELLED] = "the call was stopped by its progress callback",
};

#define NSTATUS ((int)(sizeof status_strings / sizeof status_strings[0]))

int berg_status_count(void) { return NSTATUS; }

const char *berg_status_string(berg_status status)
{
    int s = (int)status;
    if (s < 0 || s >= NSTATUS || status_strings[s] == NULL)
        return "unknown status";
    return status_strings[s];
}

#define MSG_CAP 512
static _Thread_local char last_message[MSG_CAP];
static _Thread_local berg_status last_code = BERG_OK;

const char *berg_last_error(void) { return last_message; }
berg_status berg_last_status(void) { return last_code; }

void berg_clear_error(void)
{
    last_message[0] = '\0';
    last_code = BERG_OK;
}

berg_status berg__error(berg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_message, MSG_CAP, fmt, ap);
    va_end(ap);
    if (n < 0)
        strcpy(last_message, berg_status_string(status));
    last_code = status;
    return status;
}
