/*
 * lib/couplings/internal.h - the layout of berg_basis and the kernels the
 * couplings sources share. Not installed; nothing here is exported.
 */
#ifndef BERG_COUPLINGS_INTERNAL_H
#define BERG_COUPLINGS_INTERNAL_H

#include <stddef.h>

#include "berg/couplings.h"
#include "core/internal.h"

#define BERG__BASIS_MAX 64
#define BERG__BASIS_RANK 8

/* the floor of the reciprocal condition estimate of the equilibrated
 * matrices these estimators invert (D A D, D = diag(A)^{-1/2}) */
#define BERG__COUPLINGS_RCOND 1e-12

typedef struct berg__operator {
    int builtin;            /* 1: kind, 0: fn */
    berg_operator kind;
    berg_operator_fn fn;
    void *user_data;
} berg__operator;

struct berg_basis {
    size_t ndim, ncells;
    size_t n[BERG__BASIS_RANK], stride[BERG__BASIS_RANK];
    double c[BERG__BASIS_RANK];   /* g^{aa} / h_a^2: the GRAD2 weight of axis a */
    double w;                     /* cell weight */
    int diagonal;                 /* the lattice metric is diagonal */
    size_t k;
    berg__operator ops[BERG__BASIS_MAX];
};

/* What went wrong in one field evaluation (filled by berg__basis_eval,
 * which records nothing: it may run on a worker thread). */
typedef struct berg__eval_fail {
    int code;        /* 0 fine, 1 callback returned non-zero, 2 callback wrote a
                        non-finite value, 3 a built-in overflowed */
    size_t op;       /* the operator */
    const char *what;/* "value", "grad", "laplacian" */
    size_t index;    /* the entry of grad */
} berg__eval_fail;

/* values (k, or NULL), grad (k x ncells, or NULL) and laplacian (k, or
 * NULL) of every operator at the field phi (finite). Returns 0, or non-zero
 * with *fail filled. */
int berg__basis_eval(const berg_basis *b, const double *phi, double *values, double *grad,
                     double *laplacian, berg__eval_fail *fail);

/* Record the failure of an evaluation for berg_last_error(): fn names the
 * public function, `where` the field ("member 3", "grid point 17"). */
berg_status berg__basis_fail(const berg__eval_fail *fail, const char *fn, const char *where);

/* Factor the k x k symmetric positive semi-definite A for solves: D =
 * diag(A)^{-1/2} (BERG_ERR_NOT_SPD when a diagonal entry is 0), L the
 * Cholesky factor of D A D, refused (BERG_ERR_NOT_SPD naming `name`) below
 * the reciprocal condition BERG__COUPLINGS_RCOND. D: k, L: k*k. */
berg_status berg__couplings_factor(size_t k, const double *A, double *D, double *L,
                                   const char *fn, const char *name);
/* X (nrhs x k, row r a right-hand side) <- A^{-1} X with the factor above */
berg_status berg__couplings_solve(size_t k, const double *D, const double *L, size_t nrhs,
                                  double *X, const char *fn);

/* Score matching of an ensemble: lambda (k) and the batch sums of the
 * influence S_b = A^{-1} sum_{m in b} (c_m - G_m lambda) (nb x k, or NULL)
 * for nb contiguous batches. Validates phi (finite), not the other
 * arguments. */
berg_status berg__couplings_ensemble(const berg_basis *b, size_t count, size_t nb,
                                     const double *phi, double *lambda, double *Sb,
                                     const char *fn);

/* cov (k x k) = nb / (nb - 1) / count^2 sum_b S_b S_b^T, exactly symmetric */
void berg__couplings_sandwich(size_t k, size_t count, size_t nb, const double *Sb, double *cov);

/* first member of batch b of nb batches of count members */
static inline size_t berg__batch_start(size_t count, size_t nb, size_t b)
{
    return b * (count / nb) + (b < count % nb ? b : count % nb);
}

/* the beta functions without the argument checks: beta = -D lambda,
 * beta_cov = D cov D^T (when both non-NULL); scratch inside */
berg_status berg__couplings_beta(size_t S, size_t k, const double *x, const double *lambda,
                                 const double *cov, double *beta, double *beta_cov,
                                 const char *fn);

#endif
