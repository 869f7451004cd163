"""Wasserstein distances and entropic transport (include/berg/transport.h).

Exact 1-D distances and displacement interpolation (quantile functions of
densities read as piecewise constant on cells), the Bures distance between
Gaussians, and convolutional Sinkhorn (costs, debiased divergences,
barycenters) on a Space of any rank. Distances are returned, not squares.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import c_double_p, check, fn, ptr

__all__ = ["w2_distance_1d", "wp_distance_1d", "w2_interpolate_1d", "w2_gaussian", "Sinkhorn",
           "SINKHORN_LOG_DOMAIN"]

#: flag of berg_sinkhorn_create: log-domain iterations (stable at small eps)
SINKHORN_LOG_DOMAIN = _lib.constant("BERG_SINKHORN_LOG_DOMAIN")
_PLAN_ESTIMATE = _lib.constant("BERG_PLAN_ESTIMATE")

_vp = ctypes.c_void_p
_w2_1d = fn("berg_w2_distance_1d", [_vp, c_double_p, c_double_p, c_double_p])
_wp_1d = fn("berg_wp_distance_1d", [_vp, ctypes.c_double, c_double_p, c_double_p, c_double_p])
_interp = fn("berg_w2_interpolate_1d", [_vp, ctypes.c_double, c_double_p, c_double_p, c_double_p])
_gauss = fn("berg_w2_gaussian", [ctypes.c_size_t, c_double_p, c_double_p, c_double_p, c_double_p,
                                 c_double_p])
_sk_create = fn("berg_sinkhorn_create", [ctypes.POINTER(_vp), _vp, ctypes.c_double,
                                         ctypes.c_uint])
_sk_destroy = fn("berg_sinkhorn_destroy", [_vp], None)
_sk_maxit = fn("berg_sinkhorn_set_max_iterations", [_vp, ctypes.c_size_t])
_sk_threads = fn("berg_sinkhorn_set_threads", [_vp, ctypes.c_size_t])
_sk_tol = fn("berg_sinkhorn_set_tolerance", [_vp, ctypes.c_double])
_sk_eps = fn("berg_sinkhorn_epsilon", [_vp], ctypes.c_double)
_sk_cost = fn("berg_sinkhorn_cost", [_vp, c_double_p, c_double_p, c_double_p])
_sk_div = fn("berg_sinkhorn_divergence", [_vp, c_double_p, c_double_p, c_double_p])
_sk_solve = fn("berg_sinkhorn_solve", [_vp, c_double_p, c_double_p, c_double_p, c_double_p,
                                       c_double_p])
_sk_bary = fn("berg_sinkhorn_barycenter", [_vp, ctypes.c_size_t, c_double_p, c_double_p,
                                           c_double_p])
_sk_report = fn("berg_sinkhorn_report", [_vp, c_double_p, ctypes.POINTER(ctypes.c_size_t)])


def _pair(space, p, q):
    return _lib.as_array(p, space.shape, "p"), _lib.as_array(q, space.shape, "q")


def w2_distance_1d(space, p, q):
    """Exact W2 between measures p, q on a 1-D Space (piecewise constant on cells;
    normalized internally)."""
    p, q = _pair(space, p, q)
    out = ctypes.c_double()
    check(_w2_1d(space.handle, ptr(p), ptr(q), ctypes.byref(out)))
    return out.value


def wp_distance_1d(space, p, q, order):
    """Exact W_order (order >= 1) between measures on a 1-D Space."""
    p, q = _pair(space, p, q)
    out = ctypes.c_double()
    check(_wp_1d(space.handle, float(order), ptr(p), ptr(q), ctypes.byref(out)))
    return out.value


def w2_interpolate_1d(space, p, q, t, out=None):
    """McCann's displacement interpolant at t in [0, 1] (a normalized density)."""
    out = _lib.out_array(out, space.shape, like=p)
    p, q = _pair(space, p, q)
    check(_interp(space.handle, float(t), ptr(p), ptr(q), ptr(out)))
    return out


def w2_gaussian(m1, S1, m2, S2):
    """W2 between N(m1, S1) and N(m2, S2) (Bures formula; PSD covariances accepted)."""
    m1 = np.ascontiguousarray(np.atleast_1d(m1), dtype=np.float64)
    d = m1.shape[0]
    m2 = _lib.as_array(np.atleast_1d(m2), (d,), "m2")
    S1 = _lib.as_array(np.atleast_2d(S1), (d, d), "S1")
    S2 = _lib.as_array(np.atleast_2d(S2), (d, d), "S2")
    out = ctypes.c_double()
    check(_gauss(d, ptr(m1), ptr(S1), ptr(m2), ptr(S2), ctypes.byref(out)))
    return out.value


class Sinkhorn(_lib.Handle):
    """Convolutional entropic OT on a Space: Sinkhorn(space, eps, log_domain=False,
    max_iterations=10000, tolerance=1e-9, threads=1, plan_estimate=False).

    Cost |x - y|_g^2, Gibbs kernel = heat kernel at t = eps/4 (wrapped on
    periodic axes, reflected on Neumann axes). log_domain=True iterates on the
    potentials with an exact separable log-sum-exp kernel: no underflow at
    small eps (diagonal metric, <= 4096 cells per axis; large eps is refused
    where the image sum would be cut: eps <= 99 g L^2 on periodic axes,
    396 g L^2 on Neumann ones; the scaling mode has no such limit). A solve that does not reach the
    tolerance raises ConvergenceError; `report` then gives the error reached.
    plan_estimate=True plans the scaling mode's FFTs with FFTW_ESTIMATE.

    cost, divergence, solve and barycenter may run from many threads at once
    on one instance (the C calls release the GIL); `report` is that of the
    calling thread's last solve. Setting max_iterations or tolerance is
    configuration: not concurrently with solves.
    """

    _destroy = _sk_destroy

    def __init__(self, space, eps, log_domain=False, max_iterations=None, tolerance=None,
                 threads=1, plan_estimate=False):
        h = _vp()
        flags = (SINKHORN_LOG_DOMAIN if log_domain else 0) | \
            (_PLAN_ESTIMATE if plan_estimate else 0)
        check(_sk_create(ctypes.byref(h), space.handle, float(eps), flags))
        self._h = h
        self._shape = space.shape
        self.log_domain = bool(log_domain)
        if max_iterations is not None:
            self.max_iterations = max_iterations
        if tolerance is not None:
            self.tolerance = tolerance
        if threads != 1:
            check(_sk_threads(self._h, _lib.size_t(threads, "threads")))

    @property
    def eps(self):
        return _sk_eps(self._h)

    @property
    def max_iterations(self):
        return self._maxit

    @max_iterations.setter
    def max_iterations(self, n):
        n = _lib.size_t(n, "max_iterations")
        check(_sk_maxit(self._h, n))
        self._maxit = n

    @property
    def tolerance(self):
        return self._tol

    @tolerance.setter
    def tolerance(self, tol):
        check(_sk_tol(self._h, float(tol)))
        self._tol = float(tol)

    _maxit = 10000
    _tol = 1e-9

    @property
    def report(self):
        """(marginal error, iterations) of this thread's last solve on this instance,
        successful or not ((nan, 0) before any)."""
        e, n = ctypes.c_double(), ctypes.c_size_t()
        check(_sk_report(self._h, ctypes.byref(e), ctypes.byref(n)))
        return e.value, int(n.value)

    def _pq(self, p, q):
        return _lib.as_array(p, self._shape, "p"), _lib.as_array(q, self._shape, "q")

    def cost(self, p, q):
        """Entropic cost OT_eps(p, q) (-> W2^2 as eps -> 0)."""
        p, q = self._pq(p, q)
        out = ctypes.c_double()
        check(_sk_cost(self._h, ptr(p), ptr(q), ctypes.byref(out)))
        return out.value

    def divergence(self, p, q):
        """Debiased Sinkhorn divergence OT(p,q) - (OT(p,p) + OT(q,q))/2 >= 0."""
        p, q = self._pq(p, q)
        out = ctypes.c_double()
        check(_sk_div(self._h, ptr(p), ptr(q), ctypes.byref(out)))
        return out.value

    def solve(self, p, q):
        """(cost, f, g): the plan is p(x) q(y) exp((f(x) + g(y) - c(x, y)) / eps)."""
        p, q = self._pq(p, q)
        f, g = np.empty(self._shape), np.empty(self._shape)
        out = ctypes.c_double()
        check(_sk_solve(self._h, ptr(p), ptr(q), ctypes.byref(out), ptr(f), ptr(g)))
        return out.value, f, g

    def barycenter(self, densities, weights=None, out=None):
        """Entropic W2 barycenter of k measures (array of shape (k,) + space shape)."""
        dens = np.ascontiguousarray(densities, dtype=np.float64)
        if dens.shape[1:] != tuple(self._shape):
            raise ValueError(f"densities have shape {dens.shape}, expected (k,) + {self._shape}")
        k = dens.shape[0]
        w = np.full(k, 1.0 / max(k, 1)) if weights is None else \
            _lib.as_array(weights, (k,), "weights")
        out = _lib.out_array(out, self._shape)
        check(_sk_bary(self._h, k, ptr(dens), ptr(w), ptr(out)))
        return out
