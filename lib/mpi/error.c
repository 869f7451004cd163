/* libberg_mpi's error record, collective agreement on a status, argument
 * checks, allocation and the rank-ordered global sums. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mpi/internal.h"

static _Thread_local char last_message[BERG__MPI_MSG];
static _Thread_local berg_status last_code = BERG_OK;

const char *berg_mpi_last_error(void) { return last_message; }
berg_status berg_mpi_last_status(void) { return last_code; }

berg_status berg__mpi_error(berg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(last_message, sizeof last_message, "%s", berg_status_string(status));
    last_code = status;
    return status;
}

berg_status berg__mpi_from_core(berg_status status)
{
    return berg__mpi_error(status, "%s", berg_last_error());
}

berg_status berg__mpi_check(int rc, const char *fn, const char *call)
{
    if (rc == MPI_SUCCESS)
        return BERG_OK;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "error %d", rc);
    return berg__mpi_error(BERG_ERR_INTERNAL, "%s: %s failed: %s", fn, call, msg);
}

berg_status berg__mpi_agree(MPI_Comm comm, berg_status local)
{
    int rank = 0, nranks = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    int mine = local != BERG_OK ? rank : nranks, first = nranks;
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (rc != MPI_SUCCESS)
        return berg__mpi_check(rc, "berg_mpi", "MPI_Allreduce (status agreement)");
    if (first == nranks)
        return BERG_OK;
    struct {
        int status;
        char msg[BERG__MPI_MSG];
    } rec;
    memset(&rec, 0, sizeof rec);
    if (rank == first) {
        rec.status = (int)local;
        snprintf(rec.msg, sizeof rec.msg, "%s", last_message);
    }
    rc = MPI_Bcast(&rec, (int)sizeof rec, MPI_BYTE, first, comm);
    if (rc != MPI_SUCCESS)
        return berg__mpi_check(rc, "berg_mpi", "MPI_Bcast (status agreement)");
    rec.msg[sizeof rec.msg - 1] = '\0';
    char suffix[48];
    snprintf(suffix, sizeof suffix, " (rank %d of %d)", first, nranks);
    size_t len = strlen(rec.msg), slen = strlen(suffix);
    if (len + slen >= sizeof rec.msg)
        len = sizeof rec.msg - slen - 1;
    memcpy(rec.msg + len, suffix, slen + 1);
    return berg__mpi_error((berg_status)rec.status, "%s", rec.msg);
}

berg_status berg__mpi_check_ptr(const void *p, const char *fn, const char *name)
{
    BERG_MPI_REQUIRE(p != NULL, BERG_ERR_NULL, "%s: %s is NULL", fn, name);
    return BERG_OK;
}

berg_status berg__mpi_check_regulator(berg_regulator kind, double lambda, const char *fn)
{
    double probe;
    if (berg_regulator_value(kind, lambda, 0.0, &probe) != BERG_OK)
        return berg__mpi_error(berg_last_status(), "%s: %s", fn, berg_last_error());
    return BERG_OK;
}

berg_status berg__mpi_check_array(const void *p, size_t n, const char *fn, const char *name)
{
    BERG_MPI_REQUIRE(p != NULL || n == 0, BERG_ERR_NULL,
                     "%s: %s is NULL (the local block has %zu values)", fn, name, n);
    return BERG_OK;
}

berg_status berg__mpi_check_finite(const double *a, size_t n, const char *fn, const char *name)
{
    BERG_MPI_TRY(berg__mpi_check_array(a, n, fn, name));
    for (size_t i = 0; i < n; i++)
        BERG_MPI_REQUIRE(isfinite(a[i]), BERG_ERR_NONFINITE,
                         "%s: %s[%zu] = %g is not finite (local index)", fn, name, i, a[i]);
    return BERG_OK;
}

berg_status berg__mpi_check_nonneg(const double *a, size_t n, const char *fn, const char *name)
{
    BERG_MPI_TRY(berg__mpi_check_finite(a, n, fn, name));
    for (size_t i = 0; i < n; i++)
        BERG_MPI_REQUIRE(a[i] >= 0.0, BERG_ERR_NEGATIVE,
                         "%s: %s[%zu] = %g is negative (local index)", fn, name, i, a[i]);
    return BERG_OK;
}

double *berg__mpi_alloc(size_t count, const char *fn)
{
    if (count == 0)
        count = 1;
    if (count > (size_t)PTRDIFF_MAX / sizeof(double)) {
        berg__mpi_error(BERG_ERR_SIZE, "%s: %zu doubles exceed the address space", fn, count);
        return NULL;
    }
    double *p = fftw_malloc(count * sizeof(double));
    if (p == NULL)
        berg__mpi_error(BERG_ERR_NOMEM, "%s: cannot allocate %zu doubles", fn, count);
    return p;
}

void berg__mpi_free(void *p)
{
    if (p != NULL)
        fftw_free(p);
}

berg_status berg__mpi_sum_pairs(MPI_Comm comm, size_t k, const double *sum, const double *comp,
                                double *total, const char *fn)
{
    int nranks = 1;
    MPI_Comm_size(comm, &nranks);
    double mine[2 * 16];
    double *all = NULL;
    BERG_MPI_REQUIRE(k <= 16, BERG_ERR_INTERNAL, "%s: too many sums (%zu)", fn, k);
    for (size_t j = 0; j < k; j++) {
        mine[2 * j] = sum[j];
        mine[2 * j + 1] = comp[j];
    }
    all = berg__mpi_alloc(2 * k * (size_t)nranks, fn);
    if (all == NULL)
        return berg_mpi_last_status();
    int rc = MPI_Allgather(mine, (int)(2 * k), MPI_DOUBLE, all, (int)(2 * k), MPI_DOUBLE, comm);
    if (rc != MPI_SUCCESS) {
        berg__mpi_free(all);
        return berg__mpi_check(rc, fn, "MPI_Allgather");
    }
    for (size_t j = 0; j < k; j++) {
        double s = 0.0, c = 0.0;
        for (int r = 0; r < nranks; r++) {
            berg__mpi_neumaier(&s, &c, all[(size_t)r * 2 * k + 2 * j]);
            c += all[(size_t)r * 2 * k + 2 * j + 1];
        }
        total[j] = s + c;
    }
    berg__mpi_free(all);
    return BERG_OK;
}
