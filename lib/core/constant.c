/* Public constants by name (berg_constant_value) and the flag check every
 * creator shares: one table, so a binding and a refusal message read the
 * same names. */
#include <string.h>

#include "berg.h"
#include "core/internal.h"

typedef struct named { const char *name; long long value; } named;

#define C(x) { #x, (long long)(x) }
/* the flags first: flag_name() reads entries [0, NFLAGS) */
static const named constants[] = {
    C(BERG_PLAN_ESTIMATE), C(BERG_SYMBOL_FD), C(BERG_FP_FOURIER), C(BERG_SINKHORN_LOG_DOMAIN),
    C(BERG_FISHER_ACC_NO_STDERR),
    /* heat flags (1.1) */
    C(BERG_HEAT_DIRECT), C(BERG_HEAT_SPECTRAL),
    /* sinkhorn flags (1.1) */
    C(BERG_SINKHORN_FFT), C(BERG_SINKHORN_STABILIZED),
#define NFLAGS 9
    /* erg constants (1.1) */
    /* couplings constants (1.1) */
    C(BERG_OPERATOR_PHI), C(BERG_OPERATOR_PHI2), C(BERG_OPERATOR_PHI4), C(BERG_OPERATOR_PHI6),
    C(BERG_OPERATOR_GRAD2),
    C(BERG_OK), C(BERG_ERR_NULL), C(BERG_ERR_SIZE), C(BERG_ERR_NONFINITE), C(BERG_ERR_NEGATIVE),
    C(BERG_ERR_MASS), C(BERG_ERR_TIME), C(BERG_ERR_NOT_SPD), C(BERG_ERR_MISMATCH),
    C(BERG_ERR_DOMAIN), C(BERG_ERR_UNSUPPORTED), C(BERG_ERR_NOMEM), C(BERG_ERR_CALLBACK),
    C(BERG_ERR_NO_CONVERGENCE), C(BERG_ERR_PARSE), C(BERG_ERR_IO), C(BERG_ERR_NOT_TANGENT),
    C(BERG_ERR_OUT_OF_RANGE), C(BERG_ERR_INTERNAL), C(BERG_ERR_CANCELLED),
    C(BERG_PERIODIC), C(BERG_NEUMANN), C(BERG_DIRICHLET),
    C(BERG_REGULATOR_SHARP), C(BERG_REGULATOR_EXPONENTIAL), C(BERG_REGULATOR_LITIM),
    C(BERG_REGULATOR_EXPONENTIAL_DOT), C(BERG_REGULATOR_LITIM_DOT),
    C(BERG_CHANNEL_HEAT), C(BERG_CHANNEL_FP),
    C(BERG_VERSION_MAJOR), C(BERG_VERSION_MINOR), C(BERG_VERSION_PATCH), C(BERG_VERSION_NUMBER),
};
#undef C

berg_status berg_constant_value(const char *name, long long *value)
{
    static const char fn[] = "berg_constant_value";
    BERG_TRY(berg__check_ptr(name, fn, "name"));
    BERG_TRY(berg__check_ptr(value, fn, "value"));
    const char *key = strncmp(name, "BERG_", 5) == 0 ? name + 5 : name;
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (strcmp(constants[i].name + 5, key) == 0) {
            *value = constants[i].value;
            return BERG_OK;
        }
    return berg__error(BERG_ERR_DOMAIN, "%s: no public constant is named \"%s\"", fn, name);
}

/* the flags of the table, by bit */
static const char *flag_name(unsigned bit)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if ((unsigned long long)constants[i].value == bit)
            return constants[i].name;
    return NULL;
}

berg_status berg__check_flags(unsigned flags, unsigned allowed, const char *fn)
{
    unsigned bad = flags & ~allowed;
    if (bad == 0)
        return BERG_OK;
    unsigned bit = bad & (~bad + 1u); /* lowest offending bit */
    const char *name = flag_name(bit);
    if (name)
        return berg__error(BERG_ERR_DOMAIN, "%s: flag %s (0x%x) is not a flag of this function",
                           fn, name, bit);
    return berg__error(BERG_ERR_DOMAIN, "%s: flags bit 0x%x is not a libberg flag", fn, bit);
}
