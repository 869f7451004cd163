"""Dynamical Bayesian inference and the ERG <-> Bayes dictionary
(include/berg/bayes.h, dictionary.h, channel.h; docs/dictionary.md).

    U = Space(401, -1, 3, 'neumann'); Y = Space(512, -10, 10, 'neumann')
    b = Bayes(U, np.ones(401), Y)
    b.set_location(lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
    b.observe(data)                 # one point or an array of points
    b.posterior(), b.map(), b.mean(), b.predictive()
    b.set_truth(pstar); b.expected(T)          # expected-data flow pi_0 e^{-T D}
    d = Dictionary(b, tau)          # K, I^{-1}, V, Sigma, m, t at gamma_tau
    dictionary_flow(b, tau1, tau2, p1)  # the backward drift-diffusion (b.backward_flow)
    dictionary_discrepancy(b, tau)  # the backward flow vs the direct predictive

Callbacks are Python functions called once per grid point (keep grids
modest from Python); an exception inside one is re-raised, chained to the
CallbackError of the call, and the state is unchanged.
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _lib, _progress
from ._lib import c_double_p, check, fn, ptr
from .fisher import _FORWARD
from .space import Space

__all__ = ["Bayes", "Dictionary", "Channel", "CHANNEL_HEAT", "CHANNEL_FP", "dictionary_flow",
           "dictionary_discrepancy", "dictionary_from_erg"]

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_d = ctypes.c_double

_NOISE = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)
_LOGLIK = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, _sz, c_double_p, c_double_p, _vp)

_create = fn("berg_bayes_create", [ctypes.POINTER(_vp), _vp, _vp, c_double_p, ctypes.c_uint])
_b_destroy = fn("berg_bayes_destroy", [_vp], None)
_set_location = fn("berg_bayes_set_location", [_vp, _vp, c_double_p, _FORWARD, _NOISE, _vp])
_set_loglik = fn("berg_bayes_set_loglik", [_vp, _LOGLIK, _vp])
_reset = fn("berg_bayes_reset", [_vp])
_observe = fn("berg_bayes_observe", [_vp, _sz, c_double_p])
_b_progress = fn("berg_bayes_set_progress", [_vp, _progress.PROGRESS_FN, _vp])
_b_threads = fn("berg_bayes_set_threads", [_vp, _sz])
_set_truth = fn("berg_bayes_set_truth", [_vp, c_double_p])
_divergence = fn("berg_bayes_divergence", [_vp, c_double_p])
_expected = fn("berg_bayes_expected", [_vp, _d])
_time = fn("berg_bayes_time", [_vp], _d)
_posterior = fn("berg_bayes_posterior", [_vp, c_double_p])
_log_posterior = fn("berg_bayes_log_posterior", [_vp, c_double_p])
_map = fn("berg_bayes_map", [_vp, c_double_p])
_mean = fn("berg_bayes_mean", [_vp, c_double_p, c_double_p])
_trajectory = fn("berg_bayes_trajectory", [_vp, _sz, c_double_p, c_double_p, c_double_p])
_predictive = fn("berg_bayes_predictive", [_vp, c_double_p])
_predictive_fft = fn("berg_bayes_predictive_fft", [_vp, c_double_p])

_d_create = fn("berg_dictionary_create", [ctypes.POINTER(_vp), _vp, _d])
_d_destroy = fn("berg_dictionary_destroy", [_vp], None)
_d_tau = fn("berg_dictionary_tau", [_vp], _d)
_d_getters = {name: fn("berg_dictionary_" + name, [_vp, c_double_p])
              for name in ("map", "inverse_metric", "parameter_inverse_metric", "fisher",
                           "jacobian", "drift", "potential", "heat_time")}
_d_scheme = fn("berg_dictionary_scheme", [_vp, c_double_p, c_double_p])
_flow = fn("berg_bayes_backward_flow", [_vp, _d, _d, _sz, c_double_p, c_double_p])
_discrepancy = fn("berg_bayes_flow_discrepancy", [_vp, _d, _sz, c_double_p, c_double_p])
_d_from_erg = fn("berg_dictionary_from_erg", [_vp, c_double_p, c_double_p, c_double_p])

_ch_create = fn("berg_channel_create", [ctypes.POINTER(_vp), _vp, ctypes.c_int, _d, c_double_p])
_ch_destroy = fn("berg_channel_destroy", [_vp], None)
_ch_apply = fn("berg_channel_apply", [_vp, c_double_p, c_double_p])
_ch_adjoint = fn("berg_channel_adjoint", [_vp, c_double_p, c_double_p])
_petz = fn("berg_channel_petz_recover", [_vp, c_double_p, c_double_p, c_double_p])

CHANNEL_HEAT = _lib.constant("BERG_CHANNEL_HEAT")
CHANNEL_FP = _lib.constant("BERG_CHANNEL_FP")


def _grid(space, a, name):
    return _lib.as_array(a, space.shape, name)


class Bayes(_lib.Handle):
    """Dynamical Bayesian inference on grids: a prior, a model, the posterior.

    ``pi_T(u) ∝ pi_0(u) prod_t p(y_t | u)`` (eq 6) on a parameter Space, with
    the data on a data Space; the posterior predictive (eq 8, 51), the
    expected-data flow ``pi_0 e^{-T D}`` (eq 7, 42) and the backward
    drift-diffusion of the predictive (eq 55-57). A model is set with
    :meth:`set_location` (``Y = G(U) + N``, eq 38-41) or :meth:`set_loglik`.
    Grid arrays have the shape of their Space. One thread at a time per
    instance.

    Parameters
    ----------
    param : Space
        The parameter grid ``S_U``.
    prior : array_like
        The prior ``pi_0``, a "measure" on ``param`` (finite, >= 0, positive
        finite mass; normalized internally).
    data : Space
        The data grid ``S_Y``.
    progress : bool or callable, optional
        The default ``progress=`` of :meth:`observe`: ``True`` for a progress
        bar (tqdm when installed, else a line on stderr), or a callable
        ``progress(fraction, iteration, error)`` (``iteration`` the
        observations processed, ``error`` NaN) returning a true value to stop
        (:class:`CancelledError`; the posterior is unchanged). Ctrl-C stops
        an observe with KeyboardInterrupt, with or without ``progress``.

    Raises
    ------
    MassError
        ``prior`` has zero or non-finite mass.
    NegativeDensityError
        ``prior`` has a negative value.
    ValueError
        ``prior`` does not have the shape of ``param``.

    Examples
    --------
    >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
    >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
    >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
    ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
    >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
    >>> np.round(b.map(), 6)                     # flat prior: the sample mean
    array([0.4])
    """

    _destroy = _b_destroy

    def __init__(self, param: Space, prior: ArrayLike, data: Space,
                 progress: _progress.ProgressArg = None) -> None:
        self.param, self.data = param, data
        self.du, self.dy = param.ndim, data.ndim
        pr = _grid(param, prior, "prior")
        h = _vp()
        check(_create(ctypes.byref(h), param.handle, data.handle, ptr(pr), 0))
        self._h = h
        _progress.attach(_b_progress, h)
        self.progress = progress
        self._guard = _lib.CallbackGuard()
        self._keep = ()

    def _call(self, status):
        return self._guard.check(status)

    def set_location(self, G: Callable[[np.ndarray], ArrayLike],
                     logp0: Callable[[np.ndarray], float] | None = None,
                     noise_space: Space | None = None, noise: ArrayLike | None = None) -> Bayes:
        """Set the location model ``Y = G(U) + N``: ``p(y | u) = p0(y - G(u))`` (eq 38-41).

        Give the noise either as ``logp0`` or as a density ``noise`` on
        ``noise_space``. Resets the posterior to the prior.

        Parameters
        ----------
        G : callable
            ``G(u) -> y`` (``data.ndim`` values) for ``u`` of ``param.ndim`` values.
        logp0 : callable, optional
            ``logp0(n) -> ln p0(n)`` of the noise.
        noise_space : Space, optional
            The grid of ``noise``.
        noise : array_like, optional
            The noise density ``p0``, a "measure" on ``noise_space``.

        Returns
        -------
        Bayes
            ``self`` (calls chain).

        Raises
        ------
        ValueError
            No noise given, or ``G`` returned the wrong number of values.
        CallbackError
            A model callback raised (chained); the state is unchanged.
        MassError
            ``noise`` has zero or non-finite mass.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.count
        0.0
        """
        du, dy = self.du, self.dy
        g = self._guard

        def fwd(_du, u, _dy, y, _ud):
            val = np.atleast_1d(_lib.as_array(G(np.ctypeslib.as_array(u, (du,)).copy()),
                                              name="G(u)"))
            if val.shape != (dy,):
                raise ValueError(f"G returned shape {val.shape}, expected {(dy,)}")
            for i in range(dy):
                y[i] = val[i]
            return 0

        cf = _FORWARD(g.wrap(fwd))
        if logp0 is not None:
            def noisef(_dy, n, lp, _ud):
                lp[0] = float(logp0(np.ctypeslib.as_array(n, (dy,)).copy()))
                return 0
            cn = _NOISE(g.wrap(noisef))
            self._call(_set_location(self._h, None, None, cf, cn, None))
            self._keep = (cf, cn)
        else:
            if noise_space is None or noise is None:
                raise ValueError("give logp0, or noise_space and noise")
            arr = _grid(noise_space, noise, "noise")
            self._call(_set_location(self._h, noise_space.handle, ptr(arr), cf,
                                     _NOISE(), None))
            self._keep = (cf,)
        return self

    def set_loglik(self, loglik: Callable[[np.ndarray, np.ndarray], float]) -> Bayes:
        """Set a general model by its log-likelihood ``ln p(y | u)``.

        Parameters
        ----------
        loglik : callable
            ``loglik(u, y) -> ln p(y | u)``.

        Returns
        -------
        Bayes
            ``self`` (calls chain).

        Raises
        ------
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_loglik(lambda u, y: -0.5 * (y[0] - u[0]) ** 2)
        >>> b.observe(0.4)
        >>> b.map()
        array([0.4])
        """
        du, dy = self.du, self.dy

        def f(_du, u, _dy, y, lp, _ud):
            lp[0] = float(loglik(np.ctypeslib.as_array(u, (du,)).copy(),
                                 np.ctypeslib.as_array(y, (dy,)).copy()))
            return 0
        cf = _LOGLIK(self._guard.wrap(f))
        self._call(_set_loglik(self._h, cf, None))
        self._keep = (cf,)
        return self

    def reset(self) -> None:
        """Forget the data: the posterior becomes the prior (``count == 0``).

        Raises
        ------
        BergError
            Not raised for a valid instance.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> b.reset()
        >>> b.count
        0.0
        """
        check(_reset(self._h))

    def set_threads(self, nthreads: int) -> None:
        """Set the threads of observe and predictive (configuration).

        0 (the default) follows :func:`berg.set_threads`; 1 to 1024
        overrides it for this instance. Results match one thread's
        (bitwise, or to 1e-14 relative: docs/performance.md, "Threads").

        With more than one thread, :meth:`observe` shares the parameter
        cells among the threads and :meth:`predictive` the data cells;
        Python callbacks then run one at a time (they hold the GIL), so
        only a grid noise (``set_location`` with ``noise``) gains from it.
        Loops under a few thousand cells stay on one thread.

        Parameters
        ----------
        nthreads : int
            0 to 1024.

        Raises
        ------
        DomainError
            ``nthreads`` is negative or above 1024 (the setting is unchanged).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y)
        >>> b.set_threads(2)
        """
        if isinstance(nthreads, bool) or not isinstance(nthreads, int) or nthreads < 0:
            raise _lib.DomainError(
                f"set_threads: nthreads must be a non-negative int, not {nthreads!r}")
        check(_b_threads(self._h, nthreads))

    def observe(self, y: ArrayLike, progress: _progress.ProgressArg = None) -> None:
        """Update the posterior with observed data (eq 6); all or nothing.

        Parameters
        ----------
        y : array_like
            A scalar or 1-D array of scalars (``data.ndim == 1``), or an array
            of shape ``(count, data.ndim)``.
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`Bayes`.

        Raises
        ------
        ValueError
            ``y`` has the wrong number of components.
        TypeError
            ``y`` is complex.
        NonFiniteError
            A data point is NaN or infinite.
        CallbackError
            A model callback raised (chained); the state is unchanged.
        DomainError
            No model has been set.
        OutOfRangeError
            A data point is outside the data box.
        MassError
            The data are impossible under every parameter of positive posterior mass.
        CancelledError
            ``progress`` returned a true value; the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> b.count
        4.0
        """
        y = _lib.as_array(y, name="y")
        y = y.reshape(-1, self.dy) if y.ndim <= 1 else y
        if y.shape[1] != self.dy:
            raise ValueError(f"data have {y.shape[1]} components, the data space {self.dy}")
        with _progress.Call(self.progress if progress is None else progress,
                            "Bayes observe") as call:
            st = _observe(self._h, y.shape[0], ptr(y))
            if st == _progress.CANCELLED:
                call.check(st)
        self._call(st)

    def set_truth(self, pstar: ArrayLike) -> None:
        """Set the truth ``p*`` of the expected-data flow and of :meth:`divergence`.

        Parameters
        ----------
        pstar : array_like
            The truth, a "measure" on the data space (finite, >= 0, positive finite
            mass; normalized internally).

        Raises
        ------
        MassError
            ``pstar`` has zero or non-finite mass, or ``p(. | u)`` has no mass where
            ``pstar`` lives.
        NegativeDensityError
            ``pstar`` has a negative value.
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> round(float(U.coordinates(0)[b.divergence().argmin()]), 2)
        0.49
        """
        self._call(_set_truth(self._h, ptr(_grid(self.data, pstar, "pstar"))))

    def divergence(self) -> np.ndarray:
        """``D(u) = KL(p* || p(. | u))`` on the parameter grid (eq 7).

        Returns
        -------
        numpy.ndarray
            ``D``, shape ``param.shape``.

        Raises
        ------
        DomainError
            No truth has been set (:meth:`set_truth`).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> D = b.divergence()
        >>> bool(D.min() >= 0)
        True
        """
        out = np.empty(self.param.shape)
        check(_divergence(self._h, ptr(out)))
        return out

    def expected(self, T: float) -> None:
        """Set the state to the expected-data posterior ``pi_0 e^{-T D} / Z`` (eq 42).

        Parameters
        ----------
        T : float
            The amount of data, finite and >= 0.

        Raises
        ------
        DomainError
            No truth has been set.
        TimeError
            ``T`` is negative or not finite.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> b.expected(10.0)
        >>> b.count, np.round(b.mean()[1], 4)        # variance 1/T
        (10.0, array([[0.1]]))
        """
        check(_expected(self._h, float(T)))

    @property
    def count(self) -> float:
        """The amount of data ``T``: observations so far, or the ``T`` of :meth:`expected`.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> b.count
        4.0
        """
        return _time(self._h)

    def posterior(self) -> np.ndarray:
        """The posterior density ``pi_T`` on the parameter grid (normalized).

        Returns
        -------
        numpy.ndarray
            Shape ``param.shape``.

        Raises
        ------
        BergError
            Not raised for a valid instance.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> round(U.integrate(b.posterior()), 12)
        1.0
        """
        out = np.empty(self.param.shape)
        check(_posterior(self._h, ptr(out)))
        return out

    def log_posterior(self) -> np.ndarray:
        """``ln pi_T`` on the parameter grid (finite where the posterior underflows).

        Returns
        -------
        numpy.ndarray
            Shape ``param.shape``.

        Raises
        ------
        BergError
            Not raised for a valid instance.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> np.allclose(np.exp(b.log_posterior()), b.posterior())
        True
        """
        out = np.empty(self.param.shape)
        check(_log_posterior(self._h, ptr(out)))
        return out

    def map(self) -> np.ndarray:
        """The maximum a posteriori point, refined between grid points.

        Returns
        -------
        numpy.ndarray
            Length ``param.ndim``.

        Raises
        ------
        BergError
            Not raised for a valid instance.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> np.round(b.map(), 6)
        array([0.4])
        """
        out = np.empty(self.du)
        check(_map(self._h, ptr(out)))
        return out

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean and covariance.

        Returns
        -------
        mean : numpy.ndarray
            Length ``param.ndim``.
        covariance : numpy.ndarray
            ``param.ndim x param.ndim``.

        Raises
        ------
        BergError
            Not raised for a valid instance.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> m, c = b.mean()
        >>> round(float(c[0, 0]), 2)                   # sigma^2 / T = 1/4
        0.25
        """
        m, c = np.empty(self.du), np.empty((self.du, self.du))
        check(_mean(self._h, ptr(m), ptr(c)))
        return m, c

    def trajectory(self, T: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """The MAP and mean of the expected-data flow at several ``T``.

        Parameters
        ----------
        T : array_like
            Amounts of data, each finite and >= 0.

        Returns
        -------
        map : numpy.ndarray
            Shape ``(len(T), param.ndim)``.
        mean : numpy.ndarray
            Shape ``(len(T), param.ndim)``.

        Raises
        ------
        DomainError
            No truth has been set.
        TimeError
            A ``T`` is negative or not finite.
        TypeError
            ``T`` is complex.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> maps, means = b.trajectory([1.0, 10.0])
        >>> maps.shape, np.round(maps[:, 0], 6)
        ((2, 1), array([0.5, 0.5]))
        """
        T = _lib.as_array(np.atleast_1d(T), name="T")
        mp, mn = np.empty((T.size, self.du)), np.empty((T.size, self.du))
        check(_trajectory(self._h, T.size, ptr(T), ptr(mp), ptr(mn)))
        return mp, mn

    def predictive(self) -> np.ndarray:
        """The posterior predictive ``p_T(y) = integral pi_T(u) p(y | u) du`` (eq 8, 51).

        Returns
        -------
        numpy.ndarray
            A density on the data grid, shape ``data.shape``.

        Raises
        ------
        DomainError
            No model has been set.
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> p = b.predictive()
        >>> round(float(Y.covariance(p)[0, 0]), 2)      # noise 1 + posterior 1/4
        1.25
        """
        out = np.empty(self.data.shape)
        self._call(_predictive(self._h, ptr(out)))
        return out

    def predictive_fft(self) -> np.ndarray:
        """The predictive by FFT convolution (affine ``G``, ``param.ndim == data.ndim == 1``).

        Returns
        -------
        numpy.ndarray
            A density on the data grid, shape ``data.shape``.

        Raises
        ------
        DomainError
            No location model, ``G`` not affine, the spaces not 1-D; or the data
            grid does not resolve ``G``'s image of the posterior (narrower than a
            data cell, or lying outside the data box): its mass on the data grid
            is off 1 by more than 0.05. :meth:`predictive` has no such limit.
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> b.observe([0.3, 0.5, 0.1, 0.7])          # 4 points, mean 0.4
        >>> float(np.abs(b.predictive_fft() - b.predictive()).max()) < 1e-3
        True
        """
        out = np.empty(self.data.shape)
        self._call(_predictive_fft(self._h, ptr(out)))
        return out

    def backward_flow(self, tau1: float, tau2: float, p1: ArrayLike, nsteps: int = 1) -> np.ndarray:
        """The backward drift-diffusion of the predictive (eq 57) from ``tau1`` to ``tau2``.

        ``d p / d tau = -m . grad p + 1/2 K^ij d_i d_j p`` with ``K`` and ``m`` of
        the dictionary at the MAP trajectory (docs/references.md, eq 55-57).

        Parameters
        ----------
        tau1, tau2 : float
            Inverse data times ``1/T``, ``0 <= tau1 <= tau2``.
        p1 : array_like
            The predictive at ``tau1``, a "density" on the data grid.
        nsteps : int, optional
            Steps of the flow between ``tau1`` and ``tau2`` (default 1).

        Returns
        -------
        numpy.ndarray
            The predictive at ``tau2``, shape ``data.shape``.

        Raises
        ------
        DomainError
            No truth or no location model has been set.
        TimeError
            ``tau2 < tau1`` or a time is not finite.
        MassError
            ``p1`` is not normalized.
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> b.expected(10.0)
        >>> p2 = b.backward_flow(0.1, 0.2, b.predictive())
        >>> round(Y.integrate(p2), 9)
        1.0
        """
        p1 = _grid(self.data, p1, "p1")
        out = np.empty(self.data.shape)
        self._call(_flow(self._h, float(tau1), float(tau2), _lib.size_t(nsteps, "nsteps"),
                         ptr(p1), ptr(out)))
        return out

    def flow_discrepancy(self, tau: float, nsteps: int = 1) -> tuple[float, float]:
        """How far the backward flow from 0 is from the direct predictive at ``tau``.

        Parameters
        ----------
        tau : float
            The inverse data time, finite and > 0.
        nsteps : int, optional
            Steps of the backward flow (default 1).

        Returns
        -------
        l1 : float
            The L1 distance of the two densities.
        kl : float
            Their KL divergence.

        Raises
        ------
        DomainError
            No truth or no location model has been set.
        TimeError
            ``tau`` is not finite and > 0.
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> l1, kl = b.flow_discrepancy(0.1)
        >>> l1 < 1e-4 and kl < 1e-8                  # exact for the linear-Gaussian model
        True
        """
        l1, kl = _d(), _d()
        self._call(_discrepancy(self._h, float(tau), _lib.size_t(nsteps, "nsteps"),
                                ctypes.byref(l1), ctypes.byref(kl)))
        return l1.value, kl.value


class Dictionary(_lib.Handle):
    """The ERG data of the ERG <-> Bayes dictionary at ``tau`` (eq 51-58).

    From a location-model :class:`Bayes` with a truth: the MAP ``gamma_tau``,
    the inverse metric ``K = J I^-1 J^T``, the Fisher metric, the drift ``m``,
    the potential ``V`` and the scheme ``Sigma`` (docs/dictionary.md). Keep
    the Bayes object alive while using it.

    Parameters
    ----------
    bayes : Bayes
        With a location model and a truth.
    tau : float
        The inverse data time ``1/T``, finite and > 0.

    Raises
    ------
    DomainError
        ``bayes`` has no truth or no location model.
    TimeError
        ``tau`` is not finite and > 0.
    CallbackError
        A model callback raised (chained); the state is unchanged.

    Examples
    --------
    >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
    >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
    >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
    ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
    >>> y = Y.coordinates(0)
    >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
    >>> b.set_truth(pstar)
    >>> d = berg.Dictionary(b, 0.1)
    >>> d.map, np.round(d.inverse_metric, 3)     # G = identity, unit noise: K = 1
    (array([0.5]), array([[1.]]))
    """

    _destroy = _d_destroy

    def __init__(self, bayes: Bayes, tau: float) -> None:
        h = _vp()
        bayes._call(_d_create(ctypes.byref(h), bayes.handle, float(tau)))
        self._h, self._bayes = h, bayes
        self.du, self.dy = bayes.du, bayes.dy

    def _get(self, name, shape):
        out = np.empty(shape)
        check(_d_getters[name](self._h, ptr(out)))
        return out

    @property
    def tau(self) -> float:
        """The inverse data time ``tau = 1/T`` of this dictionary.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> d.tau
        0.1
        """
        return _d_tau(self._h)

    @property
    def map(self) -> np.ndarray:
        """The MAP ``gamma_tau`` (length ``param.ndim``).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> d.map
        array([0.5])
        """
        return self._get("map", (self.du,))

    @property
    def inverse_metric(self) -> np.ndarray:
        """``K = J I^-1 J^T`` (``data.ndim x data.ndim``): the inverse metric of the flow (eq 56).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> np.round(d.inverse_metric, 3)
        array([[1.]])
        """
        return self._get("inverse_metric", (self.dy, self.dy))

    @property
    def parameter_inverse_metric(self) -> np.ndarray:
        """``I^-1`` at ``gamma_tau`` (``param.ndim x param.ndim``).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> np.round(d.parameter_inverse_metric, 3)
        array([[1.]])
        """
        return self._get("parameter_inverse_metric", (self.du, self.du))

    @property
    def fisher(self) -> np.ndarray:
        """The Fisher metric ``I`` at ``gamma_tau`` (``param.ndim x param.ndim``).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> np.round(d.fisher, 3)
        array([[1.]])
        """
        return self._get("fisher", (self.du, self.du))

    @property
    def jacobian(self) -> np.ndarray:
        """``J = dG/du`` at ``gamma_tau`` (``data.ndim x param.ndim``).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> np.round(d.jacobian, 6)
        array([[1.]])
        """
        return self._get("jacobian", (self.dy, self.du))

    @property
    def drift(self) -> np.ndarray:
        """The drift ``m = J d gamma / d tau`` (length ``data.ndim``).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> np.round(d.drift, 6) + 0.0
        array([0.])
        """
        return self._get("drift", (self.dy,))

    @property
    def potential(self) -> np.ndarray:
        """``V(y) = -ln p0(y - G(gamma_tau))`` on the data grid.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> d.potential.shape
        (64,)
        """
        return self._get("potential", self._bayes.data.shape)

    @property
    def heat_time(self) -> float:
        """The heat time ``t = K tau / 2`` equivalent to ``tau`` (docs/conventions.md).

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> round(d.heat_time, 6)
        0.05
        """
        return float(self._get("heat_time", (1,))[0])

    def scheme(self, u: ArrayLike) -> np.ndarray:
        """The scheme function ``Sigma(y) = Phi(u; y) - Phi(gamma_tau; y)`` on the data grid.

        Parameters
        ----------
        u : array_like
            A parameter point (``param.ndim`` values).

        Returns
        -------
        numpy.ndarray
            ``Sigma``, shape ``data.shape``.

        Raises
        ------
        TypeError
            ``u`` is complex.
        CallbackError
            A model callback raised (chained); the state is unchanged.

        Examples
        --------
        >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
        ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
        >>> y = Y.coordinates(0)
        >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
        >>> b.set_truth(pstar)
        >>> d = berg.Dictionary(b, 0.1)
        >>> float(np.abs(d.scheme(d.map)).max())
        0.0
        """
        u = _lib.as_array(np.atleast_1d(u), name="u")
        out = np.empty(self._bayes.data.shape)
        self._bayes._call(_d_scheme(self._h, ptr(u), ptr(out)))
        return out


def dictionary_flow(bayes: Bayes, tau1: float, tau2: float, p1: ArrayLike, nsteps: int = 1
                    ) -> np.ndarray:
    """The backward drift-diffusion (eq 57) of ``p1`` from ``tau1`` to ``tau2``.

    The same as ``bayes.backward_flow(tau1, tau2, p1, nsteps)``.

    Parameters
    ----------
    bayes : Bayes
        With a location model and a truth.
    tau1, tau2 : float
        Inverse data times, ``0 <= tau1 <= tau2``.
    p1 : array_like
        The predictive at ``tau1``, a "density" on the data grid.
    nsteps : int, optional
        Steps of the flow (default 1).

    Returns
    -------
    numpy.ndarray
        The predictive at ``tau2``.

    Raises
    ------
    DomainError
        No truth or no location model has been set.
    TimeError
        ``tau2 < tau1`` or a time is not finite.

    Examples
    --------
    >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
    >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
    >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
    ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
    >>> y = Y.coordinates(0)
    >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
    >>> b.set_truth(pstar)
    >>> b.expected(10.0)
    >>> p1 = b.predictive()
    >>> np.array_equal(berg.dictionary_flow(b, 0.1, 0.2, p1), b.backward_flow(0.1, 0.2, p1))
    True
    """
    return bayes.backward_flow(tau1, tau2, p1, nsteps)


def dictionary_discrepancy(bayes: Bayes, tau: float, nsteps: int = 1) -> tuple[float, float]:
    """``(L1, KL)`` between the direct predictive at ``tau`` and the backward flow from 0.

    The same as ``bayes.flow_discrepancy(tau, nsteps)``.

    Parameters
    ----------
    bayes : Bayes
        With a location model and a truth.
    tau : float
        The inverse data time, finite and > 0.
    nsteps : int, optional
        Steps of the backward flow (default 1).

    Returns
    -------
    l1 : float
        The L1 distance.
    kl : float
        The KL divergence.

    Raises
    ------
    DomainError
        No truth or no location model has been set.

    Examples
    --------
    >>> U = berg.Space((41,), -2.0, 2.0, "neumann")
    >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
    >>> b = berg.Bayes(U, np.ones(41), Y).set_location(
    ...     lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
    >>> y = Y.coordinates(0)
    >>> pstar, _ = Y.normalize(np.exp(-(y - 0.5) ** 2 / 2))    # data from u* = 0.5
    >>> b.set_truth(pstar)
    >>> berg.dictionary_discrepancy(b, 0.1) == b.flow_discrepancy(0.1)
    True
    """
    return bayes.flow_discrepancy(tau, nsteps)


def dictionary_from_erg(data: Space, V: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """ERG -> Bayes: the noise density and model metric of an ERG potential.

    Parameters
    ----------
    data : Space
        The data grid.
    V : array_like
        The ERG potential on the grid (finite values).

    Returns
    -------
    p0 : numpy.ndarray
        The noise density ``e^{-V}/Z``, shape ``data.shape``.
    K : numpy.ndarray
        ``K_model = I_N^-1``, ``data.ndim x data.ndim``.

    Raises
    ------
    NonFiniteError
        ``V`` has a NaN or infinite value.

    Examples
    --------
    >>> Y = berg.Space((256,), -10.0, 10.0, "neumann")
    >>> p0, K = berg.dictionary_from_erg(Y, Y.coordinates(0) ** 2 / 2)   # unit Gaussian noise
    >>> round(Y.integrate(p0), 12), np.round(K, 3)
    (1.0, array([[1.]]))
    """
    V = _grid(data, V, "V")
    p0, K = np.empty(data.shape), np.empty((data.ndim, data.ndim))
    check(_d_from_erg(data.handle, ptr(V), ptr(p0), ptr(K)))
    return p0, K


class Channel(_lib.Handle):
    """A heat or Fokker-Planck channel at time ``t``, its adjoint and Petz recovery (eq 59).

    The Petz recovery map ``R(rho') = sigma . E^dagger(rho' / E(sigma))``
    [P, JRSWW]; a channel never increases relative entropy
    (``KL(E rho || E sigma) <= KL(rho || sigma)``, the corrected direction of
    eq 59). The handle is immutable: apply, adjoint and recover may run from
    several threads at once.

    Parameters
    ----------
    space : Space
        The grid.
    t : float
        The time of the channel, finite and >= 0.
    kind : str or int, optional
        ``"heat"`` / ``CHANNEL_HEAT`` (default) or ``"fp"`` / ``CHANNEL_FP``.
    V : array_like, optional
        The potential of a Fokker-Planck channel (finite values).

    Raises
    ------
    ValueError
        Unknown ``kind`` name.
    TimeError
        ``t`` is negative or not finite.
    NullError
        ``V`` is missing for a Fokker-Planck channel (it is ignored for a heat one).

    Examples
    --------
    >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
    >>> q, _ = Y.normalize(np.exp(-Y.coordinates(0) ** 2))     # variance 1/2
    >>> ch = berg.Channel(Y, 0.5)
    >>> round(float(Y.covariance(ch(q))[0, 0]), 3)   # + 2 t
    1.5
    """

    _KINDS = {"heat": CHANNEL_HEAT, "fp": CHANNEL_FP}
    _destroy = _ch_destroy

    def __init__(self, space: Space, t: float, kind: str | int = CHANNEL_HEAT,
                 V: ArrayLike | None = None) -> None:
        if isinstance(kind, str):
            try:
                kind = self._KINDS[kind.lower()]
            except KeyError:
                raise ValueError(f"unknown channel kind {kind!r}; use one of "
                                 f"{sorted(self._KINDS)}") from None
        self.space = space
        Va = None if V is None else _grid(space, V, "V")
        h = _vp()
        check(_ch_create(ctypes.byref(h), space.handle, int(kind), float(t), ptr(Va)))
        self._h = h

    def _run(self, f, a, name):
        out = _lib.out_array(None, self.space.shape, like=a)
        a = _grid(self.space, a, name)
        check(f(self._h, ptr(a), ptr(out)))
        return out

    def __call__(self, p):
        return self._run(_ch_apply, p, "p")

    def adjoint(self, f: ArrayLike) -> np.ndarray:
        """The adjoint ``E^dagger f`` of the channel (on observables).

        Parameters
        ----------
        f : array_like
            An observable (any finite values), shape ``space.shape`` or flat.

        Returns
        -------
        numpy.ndarray
            ``E^dagger f``, in the shape of ``f``.

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinite value.
        TypeError
            ``f`` is complex.

        Examples
        --------
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> q, _ = Y.normalize(np.exp(-Y.coordinates(0) ** 2))     # variance 1/2
        >>> ch = berg.Channel(Y, 0.5)
        >>> np.allclose(ch.adjoint(np.ones(64)), 1.0)    # constants are invariant
        True
        """
        return self._run(_ch_adjoint, f, "f")

    def recover(self, sigma: ArrayLike, rho1: ArrayLike) -> np.ndarray:
        """The Petz recovery map ``R(rho1) = sigma . E^dagger(rho1 / E(sigma))``.

        Parameters
        ----------
        sigma : array_like
            The reference state, a "density" (finite, >= 0, normalized).
        rho1 : array_like
            A channel output, a "density".

        Returns
        -------
        numpy.ndarray
            The recovered density, in the shape of ``rho1``.

        Raises
        ------
        MassError
            A density is not normalized.
        NegativeDensityError
            A density has a negative value.

        Examples
        --------
        >>> Y = berg.Space((64,), -8.0, 8.0, "neumann")
        >>> q, _ = Y.normalize(np.exp(-Y.coordinates(0) ** 2))     # variance 1/2
        >>> ch = berg.Channel(Y, 0.5)
        >>> np.allclose(ch.recover(q, ch(q)), q)         # R(E sigma) = sigma
        True
        """
        s = _grid(self.space, sigma, "sigma")
        r = _grid(self.space, rho1, "rho1")
        out = _lib.out_array(None, self.space.shape, like=rho1)
        check(_petz(self._h, ptr(s), ptr(r), ptr(out)))
        return out
