/*
 * Basis operators L_i of lattice fields (seed eq 1): the built-in lattice
 * integrals of phi, phi^2, phi^4, phi^6 and (grad phi)^2 on a periodic
 * lattice, and user callbacks, with their gradients dL/dphi_x and field
 * Laplacians sum_x d^2 L / dphi_x^2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couplings/internal.h"
#include "space/internal.h"

berg_status berg_basis_create(berg_basis **out, const berg_space *lattice, size_t count,
                              const berg_operator *ops)
{
    static const char fn[] = "berg_basis_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(berg__check_ptr(lattice, fn, "lattice"));
    BERG_REQUIRE(count <= BERG__BASIS_MAX, BERG_ERR_SIZE,
                 "%s: count = %zu exceeds the %d operators of a basis", fn, count,
                 BERG__BASIS_MAX);
    BERG_REQUIRE(count == 0 || ops != NULL, BERG_ERR_NULL, "%s: ops is NULL (count = %zu)", fn,
                 count);
    int grad2 = 0;
    for (size_t i = 0; i < count; i++) {
        int v = (int)ops[i];
        BERG_REQUIRE(v >= (int)BERG_OPERATOR_PHI && v <= (int)BERG_OPERATOR_GRAD2, BERG_ERR_DOMAIN,
                     "%s: ops[%zu] = %d is not a berg_operator", fn, i, v);
        grad2 |= ops[i] == BERG_OPERATOR_GRAD2;
    }
    const struct berg_space *s = lattice;
    for (int a = 0; a < s->ndim; a++)
        BERG_REQUIRE(s->bc[a] == BERG_PERIODIC, BERG_ERR_UNSUPPORTED,
                     "%s: lattice axis %d is not periodic (basis operators live on periodic "
                     "lattices)", fn, a);
    BERG_REQUIRE(!grad2 || s->diagonal, BERG_ERR_UNSUPPORTED,
                 "%s: ops has BERG_OPERATOR_GRAD2 but the lattice metric couples two axes "
                 "(nearest-neighbour differences need a diagonal metric)", fn);
    double c[BERG__BASIS_RANK] = {0};
    for (int a = 0; a < s->ndim; a++) {
        c[a] = s->ginv[a * s->ndim + a] / (s->h[a] * s->h[a]);
        BERG_REQUIRE(!grad2 || (isfinite(c[a]) && isfinite(4.0 * c[a] * s->weight)),
                     BERG_ERR_DOMAIN,
                     "%s: the BERG_OPERATOR_GRAD2 weight g^aa / h_a^2 of lattice axis %d "
                     "overflows (h = %g)", fn, a, s->h[a]);
    }
    berg_basis *b = berg__alloc(1, sizeof *b, fn);
    if (!b)
        return berg_last_status();
    memset(b, 0, sizeof *b);
    b->ndim = (size_t)s->ndim;
    b->ncells = s->size;
    for (size_t a = 0; a < b->ndim; a++) {
        b->n[a] = s->n[a];
        b->stride[a] = s->stride[a];
        b->c[a] = c[a];
    }
    b->w = s->weight;
    b->diagonal = s->diagonal;
    b->k = count;
    for (size_t i = 0; i < count; i++) {
        b->ops[i].builtin = 1;
        b->ops[i].kind = ops[i];
    }
    *out = b;
    return BERG_OK;
}

berg_status berg_basis_add(berg_basis *basis, berg_operator_fn op, void *user_data)
{
    static const char fn[] = "berg_basis_add";
    BERG_TRY(berg__check_ptr(basis, fn, "basis"));
    BERG_REQUIRE(op != NULL, BERG_ERR_NULL, "%s: op is NULL", fn);
    BERG_REQUIRE(basis->k < BERG__BASIS_MAX, BERG_ERR_SIZE,
                 "%s: basis already has %d operators", fn, BERG__BASIS_MAX);
    basis->ops[basis->k].builtin = 0;
    basis->ops[basis->k].fn = op;
    basis->ops[basis->k].user_data = user_data;
    basis->k++;
    return BERG_OK;
}

size_t berg_basis_size(const berg_basis *basis) { return basis ? basis->k : 0; }

size_t berg_basis_cells(const berg_basis *basis) { return basis ? basis->ncells : 0; }

void berg_basis_destroy(berg_basis *basis) { berg__free(basis); }

/* ---- one field ------------------------------------------------------------ */

/* sum over the lattice of c_a (phi_{x+a} - phi_x)^2 for every axis, and
 * when g is not NULL g_x += 2 w sum_a c_a (2 phi_x - phi_{x+a} - phi_{x-a}) */
static double grad2(const berg_basis *b, const double *phi, double *g)
{
    const size_t N = b->ncells;
    double total = 0.0;
    if (g)
        for (size_t x = 0; x < N; x++)
            g[x] = 0.0;
    for (size_t a = 0; a < b->ndim; a++) {
        const size_t n = b->n[a], st = b->stride[a], blk = n * st, outer = N / blk;
        if (n < 2)
            continue;
        const double ca = b->c[a], f = 2.0 * b->w * ca;
        double sa = 0.0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < n; i++) {
                const size_t ip = (i + 1 == n) ? 0 : i + 1, im = (i == 0) ? n - 1 : i - 1;
                const double *row = phi + o * blk, *rp = row + ip * st, *rm = row + im * st,
                             *r0 = row + i * st;
                double *gr = g ? g + o * blk + i * st : NULL;
                for (size_t j = 0; j < st; j++) {
                    double d = rp[j] - r0[j];
                    sa += d * d;
                    if (gr)
                        gr[j] += f * (2.0 * r0[j] - rp[j] - rm[j]);
                }
            }
        total += ca * sa;
    }
    return b->w * total;
}

static int builtin(const berg_basis *b, berg_operator kind, const double *phi, double *value,
                   double *g, double *lap)
{
    const size_t N = b->ncells;
    const double w = b->w;
    double s = 0.0, s2 = 0.0;
    switch (kind) {
    case BERG_OPERATOR_PHI:
        for (size_t x = 0; x < N; x++)
            s += phi[x];
        if (g)
            for (size_t x = 0; x < N; x++)
                g[x] = w;
        *value = w * s;
        if (lap)
            *lap = 0.0;
        break;
    case BERG_OPERATOR_PHI2:
        for (size_t x = 0; x < N; x++)
            s += phi[x] * phi[x];
        if (g)
            for (size_t x = 0; x < N; x++)
                g[x] = 2.0 * w * phi[x];
        *value = w * s;
        if (lap)
            *lap = 2.0 * w * (double)N;
        break;
    case BERG_OPERATOR_PHI4:
        for (size_t x = 0; x < N; x++) {
            double p2 = phi[x] * phi[x];
            s += p2 * p2;
            s2 += p2;
            if (g)
                g[x] = 4.0 * w * p2 * phi[x];
        }
        *value = w * s;
        if (lap)
            *lap = 12.0 * w * s2;
        break;
    case BERG_OPERATOR_PHI6:
        for (size_t x = 0; x < N; x++) {
            double p2 = phi[x] * phi[x], p4 = p2 * p2;
            s += p4 * p2;
            s2 += p4;
            if (g)
                g[x] = 6.0 * w * p4 * phi[x];
        }
        *value = w * s;
        if (lap)
            *lap = 30.0 * w * s2;
        break;
    case BERG_OPERATOR_GRAD2: {
        *value = grad2(b, phi, g);
        if (lap) {
            double c = 0.0;
            for (size_t a = 0; a < b->ndim; a++)
                if (b->n[a] >= 2)
                    c += b->c[a];
            *lap = 4.0 * w * (double)N * c;
        }
        break;
    }
    }
    int bad = !isfinite(*value) || (lap && !isfinite(*lap));
    if (g && !bad)
        for (size_t x = 0; x < N; x++)
            bad |= !isfinite(g[x]);
    return bad;
}

int berg__basis_eval(const berg_basis *b, const double *phi, double *values, double *grad,
                     double *laplacian, berg__eval_fail *fail)
{
    const size_t N = b->ncells;
    fail->code = 0;
    for (size_t i = 0; i < b->k; i++) {
        double v = NAN, lap = NAN;
        double *g = grad ? grad + i * N : NULL;
        double *lp = laplacian ? &lap : NULL;
        const berg__operator *op = &b->ops[i];
        if (op->builtin) {
            if (builtin(b, op->kind, phi, &v, g, lp)) {
                fail->code = 3;
                fail->op = i;
                return 1;
            }
        } else {
            if (g)
                for (size_t x = 0; x < N; x++)
                    g[x] = NAN;
            if (op->fn(N, phi, &v, g, lp, op->user_data) != 0) {
                fail->code = 1;
                fail->op = i;
                return 1;
            }
            fail->op = i;
            fail->code = 2;
            if (!isfinite(v)) {
                fail->what = "value";
                return 1;
            }
            if (lp && !isfinite(lap)) {
                fail->what = "laplacian";
                return 1;
            }
            for (size_t x = 0; g && x < N; x++)
                if (!isfinite(g[x])) {
                    fail->what = "grad";
                    fail->index = x;
                    return 1;
                }
            fail->code = 0;
        }
        if (values)
            values[i] = v;
        if (laplacian)
            laplacian[i] = lap;
    }
    return 0;
}

berg_status berg__basis_fail(const berg__eval_fail *fail, const char *fn, const char *where)
{
    switch (fail->code) {
    case 1:
        return berg__error(BERG_ERR_CALLBACK, "%s: operator %zu (a callback) failed at %s", fn,
                           fail->op, where);
    case 2:
        if (!strcmp(fail->what, "grad"))
            return berg__error(BERG_ERR_CALLBACK,
                               "%s: operator %zu (a callback) wrote a non-finite grad[%zu] at %s",
                               fn, fail->op, fail->index, where);
        return berg__error(BERG_ERR_CALLBACK,
                           "%s: operator %zu (a callback) wrote a non-finite %s at %s", fn,
                           fail->op, fail->what, where);
    default:
        return berg__error(BERG_ERR_NONFINITE,
                           "%s: operator %zu overflows at %s (field values too large)", fn,
                           fail->op, where);
    }
}

static berg_status check_basis(const berg_basis *basis, const char *fn)
{
    BERG_TRY(berg__check_ptr(basis, fn, "basis"));
    BERG_REQUIRE(basis->k > 0, BERG_ERR_SIZE, "%s: basis has no operator", fn);
    return BERG_OK;
}

berg_status berg_basis_evaluate(const berg_basis *basis, size_t count, const double *phi,
                                double *values)
{
    static const char fn[] = "berg_basis_evaluate";
    BERG_TRY(check_basis(basis, fn));
    BERG_REQUIRE(count > 0, BERG_ERR_SIZE, "%s: count is 0", fn);
    size_t total, nv;
    BERG_TRY(berg__mul_size(count, basis->ncells, &total, fn, "count x ncells (phi)"));
    BERG_TRY(berg__mul_size(count, basis->k, &nv, fn, "count x k (values)"));
    BERG_TRY(berg__check_addressable(total, sizeof(double), fn, "phi (count x ncells)"));
    BERG_TRY(berg__check_addressable(nv, sizeof(double), fn, "values (count x k)"));
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    BERG_TRY(berg__check_ptr(values, fn, "values"));
    BERG_TRY(berg__check_finite(phi, total, fn, "phi"));
    double *tmp = berg__alloc(nv, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    for (size_t m = 0; m < count; m++) {
        berg__eval_fail fail;
        if (berg__basis_eval(basis, phi + m * basis->ncells, tmp + m * basis->k, NULL, NULL,
                             &fail)) {
            char where[64];
            snprintf(where, sizeof where, "member %zu of phi", m);
            berg_status st = berg__basis_fail(&fail, fn, where);
            berg__free(tmp);
            return st;
        }
    }
    memcpy(values, tmp, nv * sizeof(double));
    berg__free(tmp);
    return BERG_OK;
}

berg_status berg_basis_gradient(const berg_basis *basis, const double *phi, double *grad,
                                double *laplacian)
{
    static const char fn[] = "berg_basis_gradient";
    BERG_TRY(check_basis(basis, fn));
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    BERG_TRY(berg__check_ptr(grad, fn, "grad"));
    BERG_TRY(berg__check_finite(phi, basis->ncells, fn, "phi"));
    const size_t ng = basis->k * basis->ncells;
    double *tmp = berg__alloc(ng + basis->k, sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    berg__eval_fail fail;
    if (berg__basis_eval(basis, phi, NULL, tmp, tmp + ng, &fail)) {
        berg_status st = berg__basis_fail(&fail, fn, "phi");
        berg__free(tmp);
        return st;
    }
    memcpy(grad, tmp, ng * sizeof(double));
    if (laplacian)
        memcpy(laplacian, tmp + ng, basis->k * sizeof(double));
    berg__free(tmp);
    return BERG_OK;
}
