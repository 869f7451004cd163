"""Fisher metrics: from scores, grids and models (include/berg/fisher.h).

Matrices are numpy arrays; every libberg failure raises the BergError
subclass of its status (NotSPDError for an indefinite metric, with the
offending eigenvalue in the message; CallbackError when a Python callback
raised, chained to the callback's exception).
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import c_double_p, c_size_t_p, check, fn, ptr

__all__ = ["fisher_from_scores", "FisherAccumulator", "fisher_location", "fisher_expfam",
           "fisher_model", "fisher_jacobian", "fisher_parameter_metric", "fisher_pullback", "fisher_inverse",
           "fisher_eigen", "fisher_condition", "fisher_wick", "fisher_rao_gaussian",
           "fisher_rao_distance"]

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t

# berg_grid_loglik_fn, berg_grid_score_fn, berg_forward_fn, berg_jacobian_fn,
# berg_scalar_metric_fn
_GRID_LOGLIK = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, _vp, c_double_p, _vp)
_GRID_SCORE = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, _vp, c_double_p, c_double_p, _vp)
_FORWARD = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, _sz, c_double_p, _vp)
_JACOBIAN = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, _sz, c_double_p, _vp)
_SCALAR_METRIC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, c_double_p, _vp)

_from_scores = fn("berg_fisher_from_scores", [_sz, _sz, c_double_p, c_double_p])
_acc_create = fn("berg_fisher_acc_create", [ctypes.POINTER(_vp), _sz, ctypes.c_uint])
_acc_add = fn("berg_fisher_acc_add", [_vp, _sz, c_double_p])
_acc_merge = fn("berg_fisher_acc_merge", [_vp, _vp])
_acc_reset = fn("berg_fisher_acc_reset", [_vp])
_acc_count = fn("berg_fisher_acc_count", [_vp], _sz)
_acc_dim = fn("berg_fisher_acc_dim", [_vp], _sz)
_acc_result = fn("berg_fisher_acc_result", [_vp, c_double_p, c_double_p])
_acc_destroy = fn("berg_fisher_acc_destroy", [_vp], None)
_location = fn("berg_fisher_location", [_vp, c_double_p, c_double_p])
_expfam = fn("berg_fisher_expfam", [_vp, _sz, c_double_p, c_double_p, c_double_p, c_double_p,
                                    c_double_p, c_double_p, c_double_p])
_model = fn("berg_fisher_model", [_vp, _sz, c_double_p, c_double_p, _GRID_LOGLIK, _GRID_SCORE,
                                  _vp])
_jacobian = fn("berg_fisher_jacobian", [_sz, _sz, c_double_p, c_double_p, _FORWARD, _JACOBIAN,
                                        _vp])
_param_metric = fn("berg_fisher_parameter_metric", [_sz, _sz, c_double_p, c_double_p, c_double_p])
_pullback = fn("berg_fisher_pullback", [_sz, _sz, c_double_p, c_double_p, c_double_p])
_inverse = fn("berg_fisher_inverse", [_sz, c_double_p, c_double_p])
_eigen = fn("berg_fisher_eigen", [_sz, c_double_p, c_double_p, c_double_p])
_condition = fn("berg_fisher_condition", [_sz, c_double_p, c_double_p])
_wick = fn("berg_fisher_wick", [_sz, ctypes.c_double, _sz, c_double_p, c_size_t_p, c_double_p])
_rao_gauss = fn("berg_fisher_rao_gaussian", [ctypes.c_double] * 4 + [c_double_p])
_rao_dist = fn("berg_fisher_rao_distance", [ctypes.c_double, ctypes.c_double, c_double_p,
                                            _SCALAR_METRIC, _vp])

#: flag of FisherAccumulator(..., stderr=False)
ACC_NO_STDERR = _lib.constant("BERG_FISHER_ACC_NO_STDERR")


def _square(a, name):
    a = _lib.as_array(a, name=name)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix, has shape {a.shape}")
    return a


def _matrix(a, name):
    a = _lib.as_array(a, name=name)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a matrix, has shape {a.shape}")
    return a


# ---- from samples ---------------------------------------------------------
def fisher_from_scores(scores):
    """I = (1/N) sum_t s_t s_t^T from an N x d array of scores (CBLAS dsyrk)."""
    s = _matrix(scores, "scores")
    n, d = s.shape
    out = np.empty((d, d))
    check(_from_scores(n, d, ptr(s), ptr(out)))
    return out


class FisherAccumulator(_lib.Handle):
    """Fisher estimate from batches of scores, with standard errors.

    acc = FisherAccumulator(d); acc.add(batch) ...; I, se = acc.result()
    Accumulators of several threads are combined with merge()."""

    _destroy = _acc_destroy

    def __init__(self, dim, stderr=True):
        h = _vp()
        check(_acc_create(ctypes.byref(h), _lib.size_t(dim, "dim"),
                          0 if stderr else ACC_NO_STDERR))
        self._h = h
        self.stderr = bool(stderr)

    @property
    def dim(self):
        return int(_acc_dim(self._h))

    @property
    def count(self):
        return int(_acc_count(self._h))

    def add(self, scores):
        s = _matrix(scores, "scores")
        if s.shape[1] != self.dim:
            raise ValueError(f"scores have {s.shape[1]} columns, the accumulator {self.dim}")
        check(_acc_add(self._h, s.shape[0], ptr(s)))
        return self

    def merge(self, other):
        if not isinstance(other, FisherAccumulator):
            raise TypeError("merge needs a FisherAccumulator")
        check(_acc_merge(self._h, other._h))
        return self

    def reset(self):
        check(_acc_reset(self._h))
        return self

    def result(self):
        """(I, se): the estimate and its standard errors (se is None
        without stderr tracking)."""
        d = self.dim
        I = np.empty((d, d))
        se = np.empty((d, d)) if self.stderr else None
        check(_acc_result(self._h, ptr(I), ptr(se)))
        return I, se


# ---- grids ------------------------------------------------------------------
def fisher_location(space, p0):
    """Fisher metric of the location family p0(y - theta) on space (d x d)."""
    p = _lib.as_array(p0, space.shape, "p0")
    d = space.ndim
    out = np.empty((d, d))
    check(_location(space.handle, ptr(p), ptr(out)))
    return out


def fisher_expfam(space, q, u, log_h=None):
    """Exponential family h(y) exp(u.q(y) - psi(u)) on space.

    q: k statistics, shape (k,) + space.shape; u: k natural parameters;
    log_h: log base measure on the grid (None: h = 1).
    Returns (psi, mean, I, p): log-partition, mean parameters E[q],
    Fisher metric Cov(q) (k x k) and the normalised density."""
    u = np.atleast_1d(_lib.as_array(u, name="u"))
    k = u.size
    q = _lib.as_array(q, name="q").reshape(k, space.size)
    lh = None if log_h is None else _lib.as_array(log_h, space.shape, "log_h")
    psi = ctypes.c_double()
    mean, I, p = np.empty(k), np.empty((k, k)), np.empty(space.shape)
    check(_expfam(space.handle, k, ptr(q), ptr(lh), ptr(u), ctypes.byref(psi), ptr(mean), ptr(I),
                  ptr(p)))
    return psi.value, mean, I, p


def fisher_model(space, u, loglik=None, score=None):
    """Fisher metric of a parametric model at u by quadrature over space.

    loglik(u, space) -> ln p(y | u) on the grid (shape space.shape), with
    scores by fourth-order central differences; or
    score(u, space) -> (logp, s) with s of shape (len(u),) + space.shape."""
    u = np.atleast_1d(_lib.as_array(u, name="u"))
    k, n = u.size, space.size
    cb = _lib.CallbackGuard()
    if (loglik is None) == (score is None):
        raise ValueError("give exactly one of loglik and score")

    def _ll(npar, up, sp, logp, ud):
        uu = np.ctypeslib.as_array(up, shape=(npar,)).copy()
        out = np.ctypeslib.as_array(logp, shape=(n,))
        out[:] = np.asarray(loglik(uu, space), dtype=float).reshape(n)
        return 0

    def _sc(npar, up, sp, logp, sc, ud):
        uu = np.ctypeslib.as_array(up, shape=(npar,)).copy()
        lp, s = score(uu, space)
        np.ctypeslib.as_array(logp, shape=(n,))[:] = np.asarray(lp, dtype=float).reshape(n)
        np.ctypeslib.as_array(sc, shape=(npar * n,))[:] = np.asarray(s, dtype=float).reshape(-1)
        return 0

    f_ll = _GRID_LOGLIK(cb.wrap(_ll)) if loglik is not None else _GRID_LOGLIK()
    f_sc = _GRID_SCORE(cb.wrap(_sc)) if score is not None else _GRID_SCORE()
    I = np.empty((k, k))
    cb.check(_model(space.handle, k, ptr(u), ptr(I), f_ll, f_sc, None))
    return I


# ---- location model Y = G(U) + N ----------------------------------------------
def fisher_jacobian(u, dy, G=None, jac=None):
    """Jacobian dG/du (dy x du) at u: jac(u) when given, else fourth-order
    central differences of G(u) -> y (dy values)."""
    u = np.atleast_1d(_lib.as_array(u, name="u"))
    du = u.size
    dy = _lib.size_t(dy, "dy")
    cb = _lib.CallbackGuard()
    if (G is None) == (jac is None):
        raise ValueError("give exactly one of G and jac")

    def _g(n_u, up, n_y, yp, ud):
        uu = np.ctypeslib.as_array(up, shape=(n_u,)).copy()
        np.ctypeslib.as_array(yp, shape=(n_y,))[:] = np.asarray(G(uu), dtype=float).reshape(n_y)
        return 0

    def _j(n_u, up, n_y, jp, ud):
        uu = np.ctypeslib.as_array(up, shape=(n_u,)).copy()
        np.ctypeslib.as_array(jp, shape=(n_y * n_u,))[:] = \
            np.asarray(jac(uu), dtype=float).reshape(-1)
        return 0

    fg = _FORWARD(cb.wrap(_g)) if G is not None else _FORWARD()
    fj = _JACOBIAN(cb.wrap(_j)) if jac is not None else _JACOBIAN()
    J = np.empty((dy, du))
    cb.check(_jacobian(du, dy, ptr(u), ptr(J), fg, fj, None))
    return J


def fisher_parameter_metric(J, Inoise):
    """J^T I_N J: the parameter-space metric of Y = G(U) + N (Inoise: the
    noise metric I_N, dy x dy)."""
    J = _matrix(J, "J")
    Inoise = _square(Inoise, "Inoise")
    dy, du = J.shape
    if Inoise.shape[0] != dy:
        raise ValueError(f"Inoise is {Inoise.shape[0]} x {Inoise.shape[0]}, J has {dy} rows")
    out = np.empty((du, du))
    check(_param_metric(dy, du, ptr(J), ptr(Inoise), ptr(out)))
    return out


def fisher_pullback(J, I):
    """K = J I^{-1} J^T (eq 56), by Cholesky; NotSPDError for indefinite I."""
    J = _matrix(J, "J")
    I = _square(I, "I")
    dy, du = J.shape
    if I.shape[0] != du:
        raise ValueError(f"I is {I.shape[0]} x {I.shape[0]}, J has {du} columns")
    out = np.empty((dy, dy))
    check(_pullback(dy, du, ptr(J), ptr(I), ptr(out)))
    return out


# ---- linear algebra --------------------------------------------------------------
def fisher_inverse(I):
    """I^{-1} by Cholesky."""
    I = _square(I, "I")
    out = np.empty_like(I)
    check(_inverse(I.shape[0], ptr(I), ptr(out)))
    return out


def fisher_eigen(I, vectors=True):
    """(evals, evecs): eigenvalues in decreasing order (the sloppy spectrum,
    stiffest first) and eigenvectors as columns."""
    I = _square(I, "I")
    d = I.shape[0]
    w = np.empty(d)
    v = np.empty((d, d)) if vectors else None
    check(_eigen(d, ptr(I), ptr(w), ptr(v)))
    return (w, v) if vectors else w


def fisher_condition(I):
    """lambda_max / lambda_min of an SPD metric."""
    I = _square(I, "I")
    c = ctypes.c_double()
    check(_condition(I.shape[0], ptr(I), ctypes.byref(c)))
    return c.value


def fisher_wick(Iinv, idx, T=1.0):
    """E[prod_j (U - u*)_{idx[j]}] = T^{-m/2} sum over pairings of prod Iinv,
    m = len(idx) (seed eq 43): the moments of N(u*, Iinv / T)."""
    C = _square(Iinv, "Iinv")
    idx = [_lib.size_t(i, "idx entries") for i in np.atleast_1d(idx)] if np.size(idx) else []
    arr = (ctypes.c_size_t * max(len(idx), 1))(*idx)
    out = ctypes.c_double()
    check(_wick(C.shape[0], float(T), len(idx), ptr(C), arr, ctypes.byref(out)))
    return out.value


# ---- Fisher-Rao distances -----------------------------------------------------------
def fisher_rao_gaussian(mu1, sigma1, mu2, sigma2):
    """Fisher-Rao distance between N(mu1, sigma1^2) and N(mu2, sigma2^2)."""
    out = ctypes.c_double()
    check(_rao_gauss(float(mu1), float(sigma1), float(mu2), float(sigma2), ctypes.byref(out)))
    return out.value


def fisher_rao_distance(metric, a, b):
    """|integral_a^b sqrt(I(theta)) dtheta| for a one-parameter family with
    Fisher metric metric(theta) -> float (tanh-sinh quadrature)."""
    def _m(theta, out, ud):
        out[0] = float(metric(theta))

    cb = _lib.Callback(_SCALAR_METRIC, _m)
    out = ctypes.c_double()
    cb.check(_rao_dist(float(a), float(b), ctypes.byref(out), cb.c_fn, None))
    return out.value
