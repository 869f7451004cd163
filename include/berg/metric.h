/* Transitional: removed before 1.0 (the declarations moved to functional.h, w2_geometry.h, moments.h, transport.h). */
#ifndef BERG_METRIC_H
#define BERG_METRIC_H
#include "berg/functional.h"
#include "berg/w2_geometry.h"
#include "berg/moments.h"
#include "berg/transport.h"
#endif
