/*
 * Couplings of an ensemble by score matching (Hyvarinen 2005): for
 * P = e^{-lambda.L}/Z the objective E[|grad ln P|^2 / 2 + Laplacian ln P]
 * = lambda.A.lambda / 2 - lambda.b is minimal at lambda = A^{-1} b,
 * A_ij = E[grad L_i . grad L_j], b_i = E[Laplacian L_i]: no partition
 * function. The covariance is the sandwich estimate of this M-estimator
 * over members (or batch means), and the flow record keeps the influence
 * of every member at every scale for the joint covariance.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "couplings/internal.h"
#include "core/linalg.h"
#include "space/internal.h"

#include <lapacke.h>

/* ---- equilibrated Cholesky ----------------------------------------------- */

berg_status berg__couplings_factor(size_t k, const double *A, double *D, double *L,
                                   const char *fn, const char *name)
{
    for (size_t i = 0; i < k; i++) {
        double a = A[i * k + i];
        BERG_REQUIRE(a > 0.0, BERG_ERR_NOT_SPD,
                     "%s: %s is singular: its diagonal entry %zu is %g (operator %zu has zero "
                     "gradient wherever it is evaluated)", fn, name, i, a, i);
        D[i] = 1.0 / sqrt(a);
    }
    double *E = berg__alloc(k * k, sizeof(double), fn);
    if (!E)
        return berg_last_status();
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            E[i * k + j] = D[i] * A[i * k + j] * D[j];
    berg__linalg_symmetrize(k, E);
    berg_status st = berg__linalg_cholesky(k, E, L, BERG__COUPLINGS_RCOND, NULL, fn, name);
    berg__free(E);
    return st;
}

berg_status berg__couplings_solve(size_t k, const double *D, const double *L, size_t nrhs,
                                  double *X, const char *fn)
{
    for (size_t r = 0; r < nrhs; r++)
        for (size_t i = 0; i < k; i++)
            X[r * k + i] *= D[i];
    /* the row-major lower factor is the column-major upper one */
    lapack_int info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)k, (lapack_int)nrhs, L,
                                     (lapack_int)k, X, (lapack_int)k);
    BERG_TRY(berg__lapack_status((long)info, fn, "dpotrs"));
    for (size_t r = 0; r < nrhs; r++)
        for (size_t i = 0; i < k; i++)
            X[r * k + i] *= D[i];
    return BERG_OK;
}

/* ---- per-member statistics (threads) --------------------------------------- */

typedef struct ens_ctx {
    const berg_basis *b;
    const double *phi;
    double *G;       /* count x k x k */
    double *c;       /* count x k */
    double *scratch; /* nthreads x k x ncells */
    berg__eval_fail *fail; /* nthreads */
    size_t *fail_member;   /* nthreads; SIZE_MAX when fine */
} ens_ctx;

static void ens_body(void *vctx, size_t begin, size_t end, size_t range)
{
    ens_ctx *cx = vctx;
    const berg_basis *b = cx->b;
    const size_t k = b->k, N = b->ncells;
    double *g = cx->scratch + range * k * N;
    for (size_t m = begin; m < end; m++) {
        if (berg__basis_eval(b, cx->phi + m * N, NULL, g, cx->c + m * k, &cx->fail[range])) {
            cx->fail_member[range] = m;
            return;
        }
        double *G = cx->G + m * k * k;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j <= i; j++) {
                const double *gi = g + i * N, *gj = g + j * N;
                double s = 0.0;
                for (size_t x = 0; x < N; x++)
                    s += gi[x] * gj[x];
                G[i * k + j] = G[j * k + i] = s;
            }
    }
}

berg_status berg__couplings_ensemble(const berg_basis *b, size_t count, size_t nb,
                                     const double *phi, double *lambda, double *Sb,
                                     const char *fn)
{
    const size_t k = b->k, N = b->ncells;
    size_t total;
    BERG_TRY(berg__mul_size(count, N, &total, fn, "count x ncells (phi)"));
    BERG_TRY(berg__check_addressable(total, sizeof(double), fn, "phi (count x ncells)"));
    BERG_TRY(berg__check_finite(phi, total, fn, "phi"));
    size_t nthreads = berg__threads(0);
    if (nthreads > count)
        nthreads = count;
    size_t nG, nscr, kN, nbk;
    BERG_TRY(berg__mul_size(count, k * k + k, &nG, fn, "per-member statistics"));
    BERG_TRY(berg__mul_size(k, N, &kN, fn, "k x ncells"));
    BERG_TRY(berg__mul_size(nthreads, kN, &nscr, fn, "scratch"));
    BERG_TRY(berg__mul_size(nb, k, &nbk, fn, "nbatch x k"));
    BERG_TRY(berg__check_addressable(nbk + 2 * k * k + 3 * k, sizeof(double), fn, "scratch"));
    berg_status st = BERG_OK;
    double *G = berg__alloc(nG, sizeof(double), fn);
    double *scr = berg__alloc(nscr, sizeof(double), fn);
    double *work = berg__alloc(2 * k * k + 3 * k + nbk, sizeof(double), fn);
    berg__eval_fail *fail = berg__alloc(nthreads, sizeof *fail, fn);
    size_t *fail_member = berg__alloc(nthreads, sizeof(size_t), fn);
    if (!G || !scr || !work || !fail || !fail_member) {
        st = BERG_ERR_NOMEM;
        goto done;
    }
    for (size_t r = 0; r < nthreads; r++)
        fail_member[r] = SIZE_MAX;
    ens_ctx cx = {b, phi, G, G + count * k * k, scr, fail, fail_member};
    size_t grain = 1 + 16384 / (k * N + 1);
    berg__parallel_for(count, nthreads, grain, ens_body, &cx);
    size_t first = SIZE_MAX, fr = 0;
    for (size_t r = 0; r < nthreads; r++)
        if (fail_member[r] < first) {
            first = fail_member[r];
            fr = r;
        }
    if (first != SIZE_MAX) {
        char where[64];
        snprintf(where, sizeof where, "member %zu of phi", first);
        st = berg__basis_fail(&fail[fr], fn, where);
        goto done;
    }
    const double *c = G + count * k * k;
    double *A = work, *L = work + k * k, *D = work + 2 * k * k, *bv = D + k, *lam = bv + k,
           *R = lam + k;
    /* means over members, compensated */
    for (size_t e = 0; e < k * k + k; e++) {
        double s = 0.0, comp = 0.0;
        if (e < k * k)
            for (size_t m = 0; m < count; m++)
                berg__neumaier_add(&s, &comp, G[m * k * k + e]);
        else
            for (size_t m = 0; m < count; m++)
                berg__neumaier_add(&s, &comp, c[m * k + (e - k * k)]);
        double v = (s + comp) / (double)count;
        if (e < k * k)
            A[e] = v;
        else
            bv[e - k * k] = v;
        if (!isfinite(v)) {
            st = berg__error(BERG_ERR_NONFINITE,
                             "%s: the score-matching sums overflow (field values of phi too "
                             "large for the operators)", fn);
            goto done;
        }
    }
    berg__linalg_symmetrize(k, A);
    BERG_TRY_GOTO(st, berg__couplings_factor(k, A, D, L, fn,
                                             "the score-matching matrix A = E[grad L_i . grad L_j] over "
                                             "phi"),
                  done);
    memcpy(lam, bv, k * sizeof(double));
    BERG_TRY_GOTO(st, berg__couplings_solve(k, D, L, 1, lam, fn), done);
    for (size_t i = 0; i < k; i++)
        if (!isfinite(lam[i])) {
            st = berg__error(BERG_ERR_NONFINITE, "%s: coupling %zu overflows", fn, i);
            goto done;
        }
    if (Sb) {
        /* R_b = sum_{m in b} (c_m - G_m lambda), then S_b = A^{-1} R_b */
        for (size_t bb = 0; bb < nb; bb++) {
            size_t m0 = berg__batch_start(count, nb, bb), m1 = berg__batch_start(count, nb, bb + 1);
            for (size_t i = 0; i < k; i++) {
                double s = 0.0, comp = 0.0;
                for (size_t m = m0; m < m1; m++) {
                    const double *Gm = G + m * k * k + i * k;
                    double r = c[m * k + i];
                    for (size_t j = 0; j < k; j++)
                        r -= Gm[j] * lam[j];
                    berg__neumaier_add(&s, &comp, r);
                }
                R[bb * k + i] = s + comp;
            }
        }
        BERG_TRY_GOTO(st, berg__couplings_solve(k, D, L, nb, R, fn), done);
        for (size_t e = 0; e < nb * k; e++)
            if (!isfinite(R[e])) {
                st = berg__error(BERG_ERR_NONFINITE, "%s: the influence sums overflow", fn);
                goto done;
            }
        memcpy(Sb, R, nb * k * sizeof(double));
    }
    memcpy(lambda, lam, k * sizeof(double));
done:
    if (st == BERG_ERR_NOMEM && berg_last_status() != BERG_ERR_NOMEM)
        st = berg_last_status();
    berg__free(G);
    berg__free(scr);
    berg__free(work);
    berg__free(fail);
    berg__free(fail_member);
    return st;
}

void berg__couplings_sandwich(size_t k, size_t count, size_t nb, const double *Sb, double *cov)
{
    const double f = (double)nb / ((double)(nb - 1) * (double)count * (double)count);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0, comp = 0.0;
            for (size_t bb = 0; bb < nb; bb++)
                berg__neumaier_add(&s, &comp, Sb[bb * k + i] * Sb[bb * k + j]);
            cov[i * k + j] = cov[j * k + i] = f * (s + comp);
        }
}

static berg_status check_counts(const berg_basis *basis, size_t count, size_t nbatch,
                                const char *fn)
{
    BERG_TRY(berg__check_ptr(basis, fn, "basis"));
    BERG_REQUIRE(basis->k > 0, BERG_ERR_SIZE, "%s: basis has no operator", fn);
    BERG_REQUIRE(count >= 2, BERG_ERR_SIZE, "%s: count = %zu (at least 2 members)", fn, count);
    BERG_REQUIRE(nbatch != 1 && nbatch <= count, BERG_ERR_SIZE,
                 "%s: nbatch = %zu (0 for independent members, or 2 .. count = %zu batches)", fn,
                 nbatch, count);
    /* count x ncells (phi) must be addressable: then count, and nbatch <= count,
     * times k <= 64 fit in size_t */
    size_t total;
    BERG_TRY(berg__mul_size(count, basis->ncells, &total, fn, "count x ncells (phi)"));
    BERG_TRY(berg__check_addressable(total, 64 * sizeof(double), fn, "phi (count x ncells)"));
    return BERG_OK;
}

berg_status berg_couplings_score_matching(const berg_basis *basis, size_t count, size_t nbatch,
                                          const double *phi, double *lambda, double *cov)
{
    static const char fn[] = "berg_couplings_score_matching";
    BERG_TRY(check_counts(basis, count, nbatch, fn));
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    BERG_TRY(berg__check_ptr(lambda, fn, "lambda"));
    const size_t k = basis->k, nb = nbatch ? nbatch : count;
    double *tmp = berg__alloc(k + k * k + (cov ? nb * k : 0), sizeof(double), fn);
    if (!tmp)
        return berg_last_status();
    double *lam = tmp, *C = tmp + k, *Sb = cov ? C + k * k : NULL;
    berg_status st = berg__couplings_ensemble(basis, count, nb, phi, lam, Sb, fn);
    if (st == BERG_OK && cov) {
        berg__couplings_sandwich(k, count, nb, Sb, C);
        for (size_t e = 0; e < k * k && st == BERG_OK; e++)
            if (!isfinite(C[e]))
                st = berg__error(BERG_ERR_NONFINITE, "%s: the covariance overflows", fn);
    }
    if (st == BERG_OK) {
        memcpy(lambda, lam, k * sizeof(double));
        if (cov)
            memcpy(cov, C, k * k * sizeof(double));
    }
    berg__free(tmp);
    return st;
}

/* ---- along a flow -------------------------------------------------------- */

struct berg_couplings_flow {
    berg_basis basis;
    size_t count, nb, S, cap;
    double *x;      /* cap */
    double *lambda; /* cap x k */
    double *Sb;     /* cap x nb x k */
};

berg_status berg_couplings_flow_create(berg_couplings_flow **out, const berg_basis *basis,
                                       size_t count, size_t nbatch)
{
    static const char fn[] = "berg_couplings_flow_create";
    BERG_TRY(berg__check_ptr(out, fn, "out"));
    BERG_TRY(check_counts(basis, count, nbatch, fn));
    const size_t nb = nbatch ? nbatch : count;
    size_t per;
    BERG_TRY(berg__mul_size(nb, basis->k, &per, fn, "nbatch x k"));
    BERG_TRY(berg__check_addressable(per, 16 * sizeof(double), fn,
                                     "the influence record (count or nbatch x k)"));
    berg_couplings_flow *f = berg__alloc(1, sizeof *f, fn);
    if (!f)
        return berg_last_status();
    memset(f, 0, sizeof *f);
    f->basis = *basis;
    f->count = count;
    f->nb = nb;
    *out = f;
    return BERG_OK;
}

berg_status berg_couplings_flow_add(berg_couplings_flow *flow, double log_scale,
                                    const double *phi)
{
    static const char fn[] = "berg_couplings_flow_add";
    BERG_TRY(berg__check_ptr(flow, fn, "flow"));
    BERG_REQUIRE(isfinite(log_scale), BERG_ERR_NONFINITE, "%s: log_scale = %g is not finite", fn,
                 log_scale);
    BERG_TRY(berg__check_ptr(phi, fn, "phi"));
    const size_t S = flow->S, k = flow->basis.k, nb = flow->nb;
    if (S >= 1) {
        double last = flow->x[S - 1];
        BERG_REQUIRE(log_scale != last, BERG_ERR_DOMAIN,
                     "%s: log_scale = %.17g repeats the last scale", fn, log_scale);
        if (S >= 2) {
            int up = flow->x[S - 1] > flow->x[S - 2];
            BERG_REQUIRE((log_scale > last) == up, BERG_ERR_DOMAIN,
                         "%s: log_scale = %.17g breaks the %s order of the scales added (last "
                         "%.17g)", fn, log_scale, up ? "increasing" : "decreasing", last);
        }
    }
    double *lam = berg__alloc(k + nb * k, sizeof(double), fn);
    if (!lam)
        return berg_last_status();
    berg_status st = berg__couplings_ensemble(&flow->basis, flow->count, nb, phi, lam, lam + k, fn);
    if (st != BERG_OK) {
        berg__free(lam);
        return st;
    }
    if (S == flow->cap) {
        size_t cap = flow->cap ? 2 * flow->cap : 8;
        double *x = berg__alloc(cap, sizeof(double), fn);
        double *l = berg__alloc(cap * k, sizeof(double), fn);
        double *sb = berg__alloc(cap, nb * k * sizeof(double), fn);
        if (!x || !l || !sb) {
            berg__free(x);
            berg__free(l);
            berg__free(sb);
            berg__free(lam);
            return berg_last_status();
        }
        if (S) {
            memcpy(x, flow->x, S * sizeof(double));
            memcpy(l, flow->lambda, S * k * sizeof(double));
            memcpy(sb, flow->Sb, S * nb * k * sizeof(double));
        }
        berg__free(flow->x);
        berg__free(flow->lambda);
        berg__free(flow->Sb);
        flow->x = x;
        flow->lambda = l;
        flow->Sb = sb;
        flow->cap = cap;
    }
    flow->x[S] = log_scale;
    memcpy(flow->lambda + S * k, lam, k * sizeof(double));
    memcpy(flow->Sb + S * nb * k, lam + k, nb * k * sizeof(double));
    flow->S = S + 1;
    berg__free(lam);
    return BERG_OK;
}

size_t berg_couplings_flow_size(const berg_couplings_flow *flow) { return flow ? flow->S : 0; }

berg_status berg_couplings_flow_result(const berg_couplings_flow *flow, double *log_scale,
                                       double *lambda, double *cov, double *beta,
                                       double *beta_cov)
{
    static const char fn[] = "berg_couplings_flow_result";
    BERG_TRY(berg__check_ptr(flow, fn, "flow"));
    BERG_REQUIRE(log_scale || lambda || cov || beta || beta_cov, BERG_ERR_NULL,
                 "%s: log_scale, lambda, cov, beta and beta_cov are all NULL", fn);
    const size_t S = flow->S, k = flow->basis.k, nb = flow->nb, n = S * k;
    BERG_REQUIRE(S >= 1, BERG_ERR_SIZE, "%s: no scale was added to flow", fn);
    BERG_REQUIRE(S >= 2 || (!beta && !beta_cov), BERG_ERR_SIZE,
                 "%s: beta needs two scales (flow has one)", fn);
    size_t nn;
    BERG_TRY(berg__mul_size(n, n, &nn, fn, "(S k)^2"));
    const int need_cov = cov || beta_cov;
    double *C = NULL, *B = NULL, *BC = NULL;
    berg_status st = BERG_OK;
    if (need_cov && !(C = berg__alloc(nn, sizeof(double), fn)))
        return berg_last_status();
    if (need_cov) {
        /* joint sandwich over the batches: row b of X is (S_b^{(0)}, ..., S_b^{(S-1)}) */
        const double f = (double)nb / ((double)(nb - 1) * (double)flow->count *
                                       (double)flow->count);
        for (size_t p = 0; p < n; p++)
            for (size_t q = 0; q <= p; q++) {
                const size_t sp = p / k, ip = p % k, sq = q / k, iq = q % k;
                const double *Xp = flow->Sb + sp * nb * k + ip, *Xq = flow->Sb + sq * nb * k + iq;
                double s = 0.0, comp = 0.0;
                for (size_t bb = 0; bb < nb; bb++)
                    berg__neumaier_add(&s, &comp, Xp[bb * k] * Xq[bb * k]);
                C[p * n + q] = C[q * n + p] = f * (s + comp);
            }
        for (size_t e = 0; e < nn && st == BERG_OK; e++)
            if (!isfinite(C[e]))
                st = berg__error(BERG_ERR_NONFINITE, "%s: the covariance overflows", fn);
    }
    if (st == BERG_OK && (beta || beta_cov)) {
        B = berg__alloc(n, sizeof(double), fn);
        BC = beta_cov ? berg__alloc(nn, sizeof(double), fn) : NULL;
        if (!B || (beta_cov && !BC))
            st = berg_last_status();
        else
            st = berg__couplings_beta(S, k, flow->x, flow->lambda, beta_cov ? C : NULL, B, BC, fn);
    }
    if (st == BERG_OK) {
        if (log_scale)
            memcpy(log_scale, flow->x, S * sizeof(double));
        if (lambda)
            memcpy(lambda, flow->lambda, n * sizeof(double));
        if (cov)
            memcpy(cov, C, nn * sizeof(double));
        if (beta)
            memcpy(beta, B, n * sizeof(double));
        if (beta_cov)
            memcpy(beta_cov, BC, nn * sizeof(double));
    }
    berg__free(C);
    berg__free(B);
    berg__free(BC);
    return st;
}

void berg_couplings_flow_destroy(berg_couplings_flow *flow)
{
    if (!flow)
        return;
    berg__free(flow->x);
    berg__free(flow->lambda);
    berg__free(flow->Sb);
    berg__free(flow);
}
