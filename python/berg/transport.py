"""Wasserstein distances and entropic transport (include/berg/transport.h).

Exact 1-D distances and displacement interpolation (quantile functions of
densities read as piecewise constant on cells), the Bures distance between
Gaussians, and convolutional Sinkhorn (costs, debiased divergences,
barycenters) on a Space of any rank. Distances are returned, not squares.
"""
from __future__ import annotations

import ctypes

import numpy as np
from numpy.typing import ArrayLike

from . import _lib, _progress
from ._lib import c_double_p, check, fn, ptr
from .space import Space

__all__ = ["w2_distance_1d", "wp_distance_1d", "w2_interpolate_1d", "w2_gaussian", "Sinkhorn",
           "SINKHORN_LOG_DOMAIN", "SINKHORN_FFT", "SINKHORN_STABILIZED"]

#: flag of berg_sinkhorn_create: log-domain iterations (stable at small eps)
SINKHORN_LOG_DOMAIN = _lib.constant("BERG_SINKHORN_LOG_DOMAIN")
#: flag of berg_sinkhorn_create: the FFT scaling iteration only (1.1)
SINKHORN_FFT = _lib.constant("BERG_SINKHORN_FFT")
#: flag of berg_sinkhorn_create: the stabilized scaling iteration only (1.1)
SINKHORN_STABILIZED = _lib.constant("BERG_SINKHORN_STABILIZED")
_MODES = {"auto": 0, "fft": SINKHORN_FFT, "stabilized": SINKHORN_STABILIZED,
          "log": SINKHORN_LOG_DOMAIN}
_MODE_NAMES = {v: k for k, v in _MODES.items() if v}
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
_sk_report_mode = fn("berg_sinkhorn_report_mode", [_vp, ctypes.POINTER(ctypes.c_uint)])
_sk_progress = fn("berg_sinkhorn_set_progress", [_vp, _progress.PROGRESS_FN, _vp])


def _pair(space, p, q):
    return _lib.as_array(p, space.shape, "p"), _lib.as_array(q, space.shape, "q")


def w2_distance_1d(space: Space, p: ArrayLike, q: ArrayLike) -> float:
    """The exact Wasserstein-2 distance between two measures on a 1-D Space.

    ``W2(p, q)^2 = integral_0^1 |F_p^-1(s) - F_q^-1(s)|^2 ds`` with the
    quantile functions of ``p`` and ``q`` read as piecewise constant on cells.

    Parameters
    ----------
    space : Space
        A rank-1 grid.
    p, q : array_like
        A "measure": finite, >= 0, positive finite mass; normalized internally,
        shape ``space.shape``.

    Returns
    -------
    float
        ``W2(p, q)`` (the distance, not its square).

    Raises
    ------
    UnsupportedError
        ``space`` is not rank 1.
    MassError
        A measure has zero or non-finite mass.
    NegativeDensityError
        A measure has a negative value.

    Examples
    --------
    >>> sp = berg.Space((256,), -8.0, 8.0, bc="neumann")
    >>> x = sp.coordinates(0)
    >>> p, q = np.exp(-x ** 2 / 2), np.exp(-(x - 2) ** 2 / 2)    # N(0, 1), N(2, 1)
    >>> round(berg.w2_distance_1d(sp, p, q), 6)                     # |mean difference|
    2.0
    """
    p, q = _pair(space, p, q)
    out = ctypes.c_double()
    check(_w2_1d(space.handle, ptr(p), ptr(q), ctypes.byref(out)))
    return out.value


def wp_distance_1d(space: Space, p: ArrayLike, q: ArrayLike, order: float) -> float:
    """The exact Wasserstein-``order`` distance between two measures on a 1-D Space.

    Parameters
    ----------
    space : Space
        A rank-1 grid.
    p, q : array_like
        A "measure": finite, >= 0, positive finite mass; normalized internally,
        shape ``space.shape``.
    order : float
        The order, finite and >= 1.

    Returns
    -------
    float
        ``W_order(p, q)``.

    Raises
    ------
    DomainError
        ``order < 1`` or not finite.
    UnsupportedError
        ``space`` is not rank 1.
    MassError
        A measure has zero or non-finite mass.

    Examples
    --------
    >>> sp = berg.Space((256,), -8.0, 8.0, bc="neumann")
    >>> x = sp.coordinates(0)
    >>> p, q = np.exp(-x ** 2 / 2), np.exp(-(x - 2) ** 2 / 2)    # N(0, 1), N(2, 1)
    >>> round(berg.wp_distance_1d(sp, p, q, 1.0), 6)                # a translation
    2.0
    """
    p, q = _pair(space, p, q)
    out = ctypes.c_double()
    check(_wp_1d(space.handle, float(order), ptr(p), ptr(q), ctypes.byref(out)))
    return out.value


def w2_interpolate_1d(space: Space, p: ArrayLike, q: ArrayLike, t: float,
                      out: np.ndarray | None = None) -> np.ndarray:
    """McCann's displacement interpolant between two measures on a 1-D Space.

    The density of ``((1 - t) F_p^-1 + t F_q^-1)_# ds``: the W2 geodesic.

    Parameters
    ----------
    space : Space
        A rank-1 grid.
    p, q : array_like
        A "measure": finite, >= 0, positive finite mass; normalized internally.
    t : float
        The position on the geodesic, in [0, 1].
    out : numpy.ndarray, optional
        Writeable C-contiguous float64 array for the result.

    Returns
    -------
    numpy.ndarray
        A density (normalized), in the shape of ``p``.

    Raises
    ------
    DomainError
        ``t`` is outside [0, 1].
    UnsupportedError
        ``space`` is not rank 1.
    MassError
        A measure has zero or non-finite mass.

    Examples
    --------
    >>> sp = berg.Space((256,), -8.0, 8.0, bc="neumann")
    >>> x = sp.coordinates(0)
    >>> p, q = np.exp(-x ** 2 / 2), np.exp(-(x - 2) ** 2 / 2)    # N(0, 1), N(2, 1)
    >>> m = berg.w2_interpolate_1d(sp, p, q, 0.5)
    >>> round(float(sp.mean(m)[0]), 6), round(sp.integrate(m), 12)
    (1.0, 1.0)
    """
    out = _lib.out_array(out, space.shape, like=p)
    p, q = _pair(space, p, q)
    check(_interp(space.handle, float(t), ptr(p), ptr(q), ptr(out)))
    return out


def w2_gaussian(m1: ArrayLike, S1: ArrayLike, m2: ArrayLike, S2: ArrayLike) -> float:
    """The Wasserstein-2 distance between two Gaussians (Bures formula).

    ``W2^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2``.

    Parameters
    ----------
    m1 : array_like
        Mean of the first Gaussian (length d, or a scalar for d = 1).
    S1 : array_like
        Its covariance, ``d x d`` symmetric positive semi-definite.
    m2 : array_like
        Mean of the second Gaussian (length d).
    S2 : array_like
        Its covariance, ``d x d`` symmetric positive semi-definite.

    Returns
    -------
    float
        ``W2`` (the distance, not its square).

    Raises
    ------
    NotSPDError
        A covariance is not symmetric positive semi-definite.
    NonFiniteError
        An input has a NaN or infinite value.
    TypeError
        An input is complex.
    ValueError
        Shapes disagree.

    Examples
    --------
    >>> berg.w2_gaussian([0, 0], np.eye(2), [3, 4], np.eye(2))
    5.0
    >>> berg.w2_gaussian(0.0, 1.0, 0.0, 4.0)       # |sigma1 - sigma2|
    1.0
    """
    m1 = _lib.as_array(np.atleast_1d(m1), name="m1")
    d = m1.shape[0]
    m2 = _lib.as_array(np.atleast_1d(m2), (d,), "m2")
    S1 = _lib.as_array(np.atleast_2d(S1), (d, d), "S1")
    S2 = _lib.as_array(np.atleast_2d(S2), (d, d), "S2")
    out = ctypes.c_double()
    check(_gauss(d, ptr(m1), ptr(S1), ptr(m2), ptr(S2), ctypes.byref(out)))
    return out.value


class Sinkhorn(_lib.Handle):
    """Convolutional entropic optimal transport on a Space [C, S, Sch].

    Cost ``|x - y|_g^2``; the Gibbs kernel is the heat kernel at ``t = eps/4``
    (wrapped on periodic axes, reflected on Neumann axes). Three iterations:
    ``"fft"``, scaling with the FFT heat kernel (any metric; accurate while the
    kernel's tails across the supports stay above the FFT's round-off);
    ``"stabilized"``, scaling with the exact separable kernel applied as dense
    per-axis products, large scalings absorbed into potentials; ``"log"``,
    the log domain with an exact separable log-sum-exp kernel. The last two
    need a diagonal metric and <= 4096 cells per axis, and refuse large
    ``eps`` where the image sum would be cut (``eps <= 99 g L^2`` on periodic
    axes, ``396 g L^2`` on Neumann ones). The default ``"auto"`` picks one per
    call from ``eps``, the grid and the supports (:attr:`report_mode` says
    which). A solve whose marginals (every input measure's, in L1) do not
    reach the tolerance raises ConvergenceError; :attr:`report` then gives the
    error reached.

    ``cost``, ``divergence``, ``solve`` and ``barycenter`` may run from many
    threads at once on one instance (the C calls release the GIL);
    :attr:`report` is that of the calling thread's last solve. Setting
    ``max_iterations`` or ``tolerance`` is configuration: not concurrently
    with solves.

    Parameters
    ----------
    space : Space
        The grid (periodic or Neumann axes).
    eps : float
        The entropic regularization, finite and > 0.
    log_domain : bool, optional
        Iterate in the log domain (``BERG_SINKHORN_LOG_DOMAIN``; the same as
        ``mode="log"``).
    max_iterations : int, optional
        Iteration cap (default 10000).
    tolerance : float, optional
        Marginal error at which iterations stop (default 1e-9).
    threads : int, optional
        Threads of the solves (transforms, dense products and pointwise
        loops); by default the library-wide :func:`berg.set_threads` setting
        (itself 1 by default). Refused with ``log_domain`` (1.0 behaviour: such
        a handle follows :func:`berg.set_threads`).
    plan_estimate : bool, optional
        Plan the scaling mode's FFTs with FFTW_ESTIMATE.
    mode : str, optional
        ``"auto"`` (default), ``"fft"``, ``"stabilized"`` or ``"log"``.
    progress : bool or callable, optional
        The default ``progress=`` of the solves: ``True`` for a progress bar
        (tqdm when installed, else a line on stderr), or a callable
        ``progress(fraction, iteration, error)`` (``error`` the marginal
        error, NaN before the first iteration) returning a true value to stop
        the solve (:class:`CancelledError`). Ctrl-C stops a solve within about
        10 ms of work with KeyboardInterrupt, with or without ``progress``.

    Raises
    ------
    DomainError
        ``eps`` is not finite and > 0, or too large for the log domain.
    UnsupportedError
        ``space`` has a Dirichlet axis, or ``log_domain`` with a coupled metric.

    Examples
    --------
    >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
    >>> x = sp.coordinates(0)
    >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
    >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
    >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
    >>> W2 = berg.w2_distance_1d(sp, p, q)
    >>> round(sk.divergence(p, q), 4) == round(W2 ** 2, 4)     # eps -> 0 limit
    True
    """

    _destroy = _sk_destroy

    def __init__(self, space: Space, eps: float, log_domain: bool = False,
                 max_iterations: int | None = None, tolerance: float | None = None,
                 threads: int | None = None, plan_estimate: bool = False,
                 progress: _progress.ProgressArg = None, mode: str = "auto") -> None:
        h = _vp()
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {sorted(_MODES)}, not {mode!r}")
        if log_domain and mode not in ("auto", "log"):
            raise ValueError(f"log_domain=True contradicts mode={mode!r}")
        flags = (SINKHORN_LOG_DOMAIN if log_domain else _MODES[mode]) | \
            (_PLAN_ESTIMATE if plan_estimate else 0)
        check(_sk_create(ctypes.byref(h), space.handle, float(eps), flags))
        self._h = h
        _progress.attach(_sk_progress, h)
        self.progress = progress
        self._shape = space.shape
        self.log_domain = bool(log_domain) or mode == "log"
        self.mode = "log" if self.log_domain else mode
        if max_iterations is not None:
            self.max_iterations = max_iterations
        if tolerance is not None:
            self.tolerance = tolerance
        if threads is not None:
            check(_sk_threads(self._h, _lib.size_t(threads, "threads")))

    @property
    def eps(self) -> float:
        """The entropic regularization ``eps`` of this instance.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> sk.eps
        0.001
        """
        return _sk_eps(self._h)

    @property
    def max_iterations(self) -> int:
        """The iteration cap (default 10000); setting it is configuration.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> sk.max_iterations = 500
        >>> sk.max_iterations
        500
        """
        return self._maxit

    @max_iterations.setter
    def max_iterations(self, n: int) -> None:
        n = _lib.size_t(n, "max_iterations")
        check(_sk_maxit(self._h, n))
        self._maxit = n

    @property
    def tolerance(self) -> float:
        """The marginal error at which iterations stop (default 1e-9); setting it is configuration.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> sk.tolerance = 1e-6
        >>> sk.tolerance
        1e-06
        """
        return self._tol

    @tolerance.setter
    def tolerance(self, tol: float) -> None:
        check(_sk_tol(self._h, float(tol)))
        self._tol = float(tol)

    _maxit = 10000
    _tol = 1e-9

    @property
    def report(self) -> tuple[float, int]:
        """``(marginal error, iterations)`` of this thread's last solve on this instance.

        Successful or not; raises :class:`berg.DomainError` before any
        (no solve of this thread on this instance).

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> _ = sk.cost(p, q)
        >>> err, iterations = sk.report
        >>> err <= sk.tolerance and iterations > 0
        True
        """
        e, n = ctypes.c_double(), ctypes.c_size_t()
        check(_sk_report(self._h, ctypes.byref(e), ctypes.byref(n)))
        return e.value, int(n.value)

    @property
    def report_mode(self) -> str:
        """The iteration of this thread's last solve on this instance.

        ``"fft"``, ``"stabilized"`` or ``"log"``: in the default mode, the one
        chosen for that call (a solve that fell back on the log domain says
        ``"log"``). Raises :class:`berg.DomainError` before any solve.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.5)
        >>> _ = sk.cost(p, q)
        >>> sk.report_mode                          # large eps: the FFT kernel
        'fft'
        >>> sk = berg.Sinkhorn(sp, 0.002)
        >>> _ = sk.cost(p, q)
        >>> sk.report_mode                          # its tails lost: exact kernel
        'stabilized'
        """
        m = ctypes.c_uint()
        check(_sk_report_mode(self._h, ctypes.byref(m)))
        return _MODE_NAMES[m.value]

    def _pq(self, p, q):
        return _lib.as_array(p, self._shape, "p"), _lib.as_array(q, self._shape, "q")

    def _run(self, progress, what, cfunc, *args):
        """cfunc(handle, *args) under the progress of this call (or the default)."""
        with _progress.Call(self.progress if progress is None else progress,
                            f"Sinkhorn {what}") as call:
            return call.check(cfunc(self._h, *args))

    def cost(self, p: ArrayLike, q: ArrayLike, progress: _progress.ProgressArg = None) -> float:
        """The entropic transport cost ``OT_eps(p, q)`` (tends to ``W2^2`` as ``eps -> 0``).

        Parameters
        ----------
        p, q : array_like
            A "measure": finite, >= 0, positive finite mass; normalized internally,
            shape ``space.shape``.
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`Sinkhorn`.

        Returns
        -------
        float
            ``OT_eps(p, q) = <plan, c> + eps KL(plan || p x q)``.

        Raises
        ------
        ConvergenceError
            The tolerance was not reached within ``max_iterations`` (see
            :attr:`report`).
        CancelledError
            ``progress`` returned a true value (nothing is written).
        KeyboardInterrupt
            Ctrl-C during the solve (it stops within about 10 ms of work).
        MassError
            A measure has zero or non-finite mass.
        NegativeDensityError
            A measure has a negative value.
        TypeError
            A measure is complex.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> round(sk.cost(p, q), 4)
        0.0917
        """
        p, q = self._pq(p, q)
        out = ctypes.c_double()
        self._run(progress, "cost", _sk_cost, ptr(p), ptr(q), ctypes.byref(out))
        return out.value

    def divergence(self, p: ArrayLike, q: ArrayLike,
                   progress: _progress.ProgressArg = None) -> float:
        """The debiased Sinkhorn divergence ``OT(p, q) - (OT(p, p) + OT(q, q)) / 2 >= 0``.

        Parameters
        ----------
        p, q : array_like
            A "measure": finite, >= 0, positive finite mass; normalized internally,
            shape ``space.shape``.
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`Sinkhorn`.

        Returns
        -------
        float
            The divergence; 0 exactly for ``p == q``.

        Raises
        ------
        ConvergenceError
            The tolerance was not reached within ``max_iterations`` (see
            :attr:`report`).
        CancelledError
            ``progress`` returned a true value (nothing is written).
        KeyboardInterrupt
            Ctrl-C during the solve (it stops within about 10 ms of work).
        MassError
            A measure has zero or non-finite mass.
        NegativeDensityError
            A measure has a negative value.
        TypeError
            A measure is complex.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> sk.divergence(p, p)
        0.0
        """
        p, q = self._pq(p, q)
        out = ctypes.c_double()
        self._run(progress, "divergence", _sk_div, ptr(p), ptr(q), ctypes.byref(out))
        return out.value

    def solve(self, p: ArrayLike, q: ArrayLike,
              progress: _progress.ProgressArg = None) -> tuple[float, np.ndarray, np.ndarray]:
        """The cost and the dual potentials of the entropic plan.

        The plan is ``p(x) q(y) exp((f(x) + g(y) - c(x, y)) / eps)``.

        Parameters
        ----------
        p, q : array_like
            A "measure": finite, >= 0, positive finite mass; normalized internally,
            shape ``space.shape``.
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`Sinkhorn`.

        Returns
        -------
        cost : float
            ``OT_eps(p, q)``.
        f, g : numpy.ndarray
            The potentials, shape ``space.shape``.

        Raises
        ------
        ConvergenceError
            The tolerance was not reached within ``max_iterations`` (see
            :attr:`report`).
        CancelledError
            ``progress`` returned a true value (nothing is written).
        KeyboardInterrupt
            Ctrl-C during the solve (it stops within about 10 ms of work).
        MassError
            A measure has zero or non-finite mass.
        NegativeDensityError
            A measure has a negative value.
        TypeError
            A measure is complex.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> cost, f, g = sk.solve(p, q)
        >>> cost == sk.cost(p, q), f.shape
        (True, (64,))
        """
        p, q = self._pq(p, q)
        f, g = np.empty(self._shape), np.empty(self._shape)
        out = ctypes.c_double()
        self._run(progress, "solve", _sk_solve, ptr(p), ptr(q), ctypes.byref(out), ptr(f), ptr(g))
        return out.value, f, g

    def barycenter(self, densities: ArrayLike, weights: ArrayLike | None = None,
                   out: np.ndarray | None = None,
                   progress: _progress.ProgressArg = None) -> np.ndarray:
        """The entropic Wasserstein-2 barycenter of ``k`` measures [S].

        Parameters
        ----------
        densities : array_like
            Shape ``(k,) + space.shape``: ``k`` measures (finite, >= 0, positive
            finite mass; normalized internally).
        weights : array_like, optional
            ``k`` finite weights >= 0 with a positive sum (normalized
            internally; default uniform).
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array of shape ``space.shape``.
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`Sinkhorn`.

        Returns
        -------
        numpy.ndarray
            The barycenter, a density of shape ``space.shape``.

        Raises
        ------
        ValueError
            ``densities`` does not have shape ``(k,) + space.shape``.
        NegativeDensityError
            A weight is negative.
        DomainError
            The weights sum to 0.
        ConvergenceError
            The tolerance was not reached within ``max_iterations``.
        CancelledError
            ``progress`` returned a true value (nothing is written).
        KeyboardInterrupt
            Ctrl-C during the solve (it stops within about 10 ms of work).
        TypeError
            An input is complex.

        Examples
        --------
        >>> sp = berg.Space((64,), 0.0, 1.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-(x - 0.3) ** 2 / 0.02))
        >>> q, _ = sp.normalize(np.exp(-(x - 0.6) ** 2 / 0.02))
        >>> sk = berg.Sinkhorn(sp, 0.001, log_domain=True)
        >>> b = sk.barycenter([p, q])
        >>> round(float(sp.mean(b)[0]), 2), round(sp.integrate(b), 12)
        (0.45, 1.0)
        """
        dens = _lib.as_array(densities, name="densities")
        if dens.shape[1:] != tuple(self._shape):
            raise ValueError(f"densities have shape {dens.shape}, expected (k,) + {self._shape}")
        k = dens.shape[0]
        w = np.full(k, 1.0 / max(k, 1)) if weights is None else \
            _lib.as_array(weights, (k,), "weights")
        out = _lib.out_array(out, self._shape)
        self._run(progress, "barycenter", _sk_bary, k, ptr(dens), ptr(w), ptr(out))
        return out
