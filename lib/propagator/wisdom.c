/* FFTW wisdom pass-through, so that users pay FFTW_MEASURE planning once per machine
 * (under libberg's planner lock: FFTW's wisdom functions are planner calls). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fftw3.h>

#include "berg/heat.h"
#include "core/internal.h"

berg_status berg_wisdom_export_string(char **out)
{
    static const char fn[] = "berg_wisdom_export_string";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    berg__fftw_lock();
    char *w = fftw_export_wisdom_to_string();
    berg__fftw_unlock();
    if (w == NULL)
        return berg__error(BERG_ERR_NOMEM, "%s: FFTW could not export its wisdom", fn);
    size_t len = strlen(w) + 1;
    char *copy = berg__alloc(len, 1, fn);
    if (copy == NULL) {
        free(w); /* FFTW documents free() for this string */
        return berg_last_status();
    }
    memcpy(copy, w, len);
    free(w);
    *out = copy;
    return BERG_OK;
}

berg_status berg_wisdom_import_string(const char *wisdom)
{
    static const char fn[] = "berg_wisdom_import_string";
    BERG_TRY(berg__check_ptr(wisdom, fn, "wisdom"));
    berg__fftw_lock();
    int ok = fftw_import_wisdom_from_string(wisdom);
    berg__fftw_unlock();
    if (!ok)
        return berg__error(BERG_ERR_PARSE,
                           "%s: the string is not FFTW wisdom (or is for another FFTW "
                           "version/precision); nothing was imported",
                           fn);
    return BERG_OK;
}

berg_status berg_wisdom_export_file(const char *path)
{
    static const char fn[] = "berg_wisdom_export_file";
    BERG_TRY(berg__check_ptr(path, fn, "path"));
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return berg__error(BERG_ERR_IO, "%s: cannot open \"%s\" for writing: %s", fn, path,
                           strerror(errno));
    berg__fftw_lock();
    fftw_export_wisdom_to_file(f);
    berg__fftw_unlock();
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return berg__error(BERG_ERR_IO, "%s: writing \"%s\" failed", fn, path);
    return BERG_OK;
}

berg_status berg_wisdom_import_file(const char *path)
{
    static const char fn[] = "berg_wisdom_import_file";
    BERG_TRY(berg__check_ptr(path, fn, "path"));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return berg__error(BERG_ERR_IO, "%s: cannot open \"%s\" for reading: %s", fn, path,
                           strerror(errno));
    berg__fftw_lock();
    int ok = fftw_import_wisdom_from_file(f);
    berg__fftw_unlock();
    fclose(f);
    if (!ok)
        return berg__error(BERG_ERR_PARSE, "%s: \"%s\" is not FFTW wisdom (or is for another "
                           "FFTW version/precision); nothing was imported", fn, path);
    return BERG_OK;
}
