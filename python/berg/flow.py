"""Fokker-Planck / Wegner-Morris flows, the exact spectral propagator,
particle ensembles and the lattice-field Langevin flow: the bindings of
berg/fokker_planck.h and berg/stochastic.h (docs/fokker_planck.md).

    fp = FokkerPlanck(space, V)        # d/dt p = div(g^{-1}(grad p + p grad V))
    fp = FokkerPlanck(space, V, discretization="fourier")  # spectral, periodic boxes
    pt = fp.evolve(p, t)               # adaptive, tolerance fp.tolerance
    pt = fp.evolve_field(p, t0, t1, field)        # V(t) (and g(t)) from field(t)
    pt = fp.evolve_table(p, t0, t1, times, V, g)  # knots, linear in t
    q = fp.stationary()                # e^{-V}/Z exactly
    sp = fp.spectral()                 # exact e^{tL} by eigen-decomposition
    sp.evolve(p, t); sp.eigenvalues(); sp.mode(k)
    fp.velocity(p)                     # Wegner-Morris Psi = -g^{-1} grad Sigma
    ps = Particles(ndim, metric=None, seed=0)
    ps.euler(x, dt, nsteps, grad)      # dX = -g^{-1} grad V dt + sqrt(2) g^{-1/2} dW
    ps.ou(x, t, A, m)                  # exact OU step for V = (x-m)^T A (x-m) / 2
    lf = Langevin(space, regulator, seed=0)
    lf.step(phi, dt, nsteps, grad)     # d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW

FokkerPlanck and FPSpectral handles may be used from many threads at once
(setting fp.tolerance excepted: configure before sharing); a Particles or
Langevin handle is used by one thread at a time.
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _lib, _progress
from ._lib import c_double_p, check, fn, ptr
from .propagator import _SYMBOL, _Symbol, _reg_kind
from .space import Space

__all__ = ["FokkerPlanck", "FPSpectral", "Particles", "Langevin", "particle_histogram",
           "FP_FOURIER"]

FP_FOURIER = _lib.constant("BERG_FP_FOURIER")

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_GRAD = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)
_AGRAD = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)
_FIELD = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, _sz, _sz, c_double_p, c_double_p, _vp)

_fp_create = fn("berg_fp_create", [ctypes.POINTER(_vp), _vp, c_double_p, ctypes.c_uint])
_fp_evolve = fn("berg_fp_evolve", [_vp, ctypes.c_double, c_double_p, c_double_p])
_fp_stationary = fn("berg_fp_stationary", [_vp, c_double_p])
_fp_destroy = fn("berg_fp_destroy", [_vp], None)
_fp_set_tol = fn("berg_fp_set_tolerance", [_vp, ctypes.c_double])
_fp_threads = fn("berg_fp_set_threads", [_vp, ctypes.c_size_t])
_fp_steps = fn("berg_fp_last_steps", [_vp, ctypes.POINTER(_sz), ctypes.POINTER(_sz)])
_fp_gen = fn("berg_fp_generator_apply", [_vp, c_double_p, c_double_p])
_fp_back = fn("berg_fp_backward_apply", [_vp, c_double_p, c_double_p])
_fp_velocity = fn("berg_fp_velocity", [_vp, c_double_p, c_double_p])
_fp_scheme = fn("berg_fp_scheme", [_vp, c_double_p, c_double_p])
_fp_progress = fn("berg_fp_set_progress", [_vp, _progress.PROGRESS_FN, _vp])
_fp_evolve_field = fn("berg_fp_evolve_field", [_vp, ctypes.c_double, ctypes.c_double,
                                               ctypes.c_double, c_double_p, c_double_p, _FIELD,
                                               _vp])
_fp_evolve_table = fn("berg_fp_evolve_table", [_vp, ctypes.c_double, ctypes.c_double,
                                               ctypes.c_double, _sz, c_double_p, c_double_p,
                                               c_double_p, c_double_p, c_double_p])
_sp_create = fn("berg_fp_spectral_create_progress", [ctypes.POINTER(_vp), _vp,
                                                       _progress.PROGRESS_FN, _vp])
_sp_evolve = fn("berg_fp_spectral_evolve", [_vp, ctypes.c_double, c_double_p, c_double_p])
_sp_eig = fn("berg_fp_spectral_eigenvalues", [_vp, c_double_p])
_sp_mode = fn("berg_fp_spectral_mode", [_vp, _sz, c_double_p])
_sp_destroy = fn("berg_fp_spectral_destroy", [_vp], None)
_ps_create = fn("berg_particles_create", [ctypes.POINTER(_vp), _sz, ctypes.c_ulonglong,
                                          c_double_p])
_ps_euler = fn("berg_particles_euler", [_vp, ctypes.c_double, _sz, _sz, c_double_p, _GRAD, _vp])
_ps_ou = fn("berg_particles_ou", [_vp, ctypes.c_double, _sz, c_double_p, c_double_p,
                                  c_double_p])
_ps_hist = fn("berg_space_histogram", [_vp, _sz, c_double_p, c_double_p, ctypes.POINTER(_sz)])
_ps_destroy = fn("berg_particles_destroy", [_vp], None)
_lf_create = fn("berg_langevin_create", [ctypes.POINTER(_vp), _vp, ctypes.c_ulonglong, _SYMBOL,
                                         _vp])
_lf_create_reg = fn("berg_langevin_create_regulator", [ctypes.POINTER(_vp), _vp, ctypes.c_int,
                                                      ctypes.c_double, ctypes.c_ulonglong])
_lf_step = fn("berg_langevin_step", [_vp, ctypes.c_double, _sz, c_double_p, _AGRAD, _vp])
_lf_destroy = fn("berg_langevin_destroy", [_vp], None)


def _grad_callback(grad):
    if not callable(grad):
        raise TypeError("grad must be callable: grad(x) -> gradient of V at x")

    def body(ndim, x, g, _ud):
        xx = np.ctypeslib.as_array(x, shape=(ndim,)).copy()
        gg = _lib.as_array(grad(xx), name="grad(x)").reshape(ndim)
        np.ctypeslib.as_array(g, shape=(ndim,))[:] = gg

    return _lib.Callback(_GRAD, body)


class FokkerPlanck(_lib.Handle):
    """The Fokker-Planck / ERG flow towards ``q = e^{-V}/Z`` on a Space.

    ``d/dt p = div(g^-1 (grad p + p grad V))`` (eq 22, 24, 26), with the
    space's metric ``g`` as inverse diffusion tensor. Discretizations:

    ``"finite_volume"`` (default)
        Scharfetter-Gummel finite volumes: exact stationary state, mass and
        positivity; second order in space; any boundary kind; diagonal
        metrics; adaptive extrapolated implicit-Euler time stepping.
    ``"fourier"``
        Pseudo-spectral (``BERG_FP_FOURIER``): periodic boxes, any metric,
        spectral accuracy for smooth data, Strang steps around the FFT heat
        step extrapolated to order 8; refuses potentials and inputs it
        cannot resolve.

    The handle is immutable after creation except for :attr:`tolerance`
    (set it before sharing the handle between threads).

    Parameters
    ----------
    space : Space
        The grid.
    V : array_like
        The potential on the grid, finite, shape ``space.shape``.
    discretization : {"finite_volume", "fourier"}, optional
        See above.
    estimate : bool, optional
        Plan the Fourier transforms with FFTW_ESTIMATE (no effect on the
        finite-volume discretization).
    progress : bool or callable, optional
        The default ``progress=`` of :meth:`evolve`: ``True`` for a progress
        bar (tqdm when installed, else a line on stderr), or a callable
        ``progress(fraction, iteration, error)`` (``fraction`` the time
        reached over ``t``, ``iteration`` the time steps, ``error`` the last
        step's error estimate) returning a true value to stop the evolve
        (:class:`CancelledError`, ``out`` unchanged). Ctrl-C stops an evolve
        after its current time step with KeyboardInterrupt, with or without
        ``progress``.

    Raises
    ------
    ValueError
        Unknown ``discretization`` or ``V`` of the wrong shape.
    NonFiniteError
        ``V`` has a NaN or infinite value.
    UnsupportedError
        ``"fourier"`` on a non-periodic space, or ``"finite_volume"`` with a
        non-diagonal metric.

    Examples
    --------
    >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
    >>> x = sp.coordinates(0)
    >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
    >>> q = fp.stationary()
    >>> round(sp.integrate(q), 12), round(float(sp.covariance(q)[0, 0]), 4)
    (1.0, 1.0)
    """

    _DISCRETIZATIONS = {"finite_volume": 0, "fourier": FP_FOURIER}
    _destroy = _fp_destroy

    def __init__(self, space: Space, V: ArrayLike, discretization: str = "finite_volume",
                 estimate: bool = False, progress: _progress.ProgressArg = None) -> None:
        self.space = space
        self.shape = tuple(space.shape)
        if discretization not in self._DISCRETIZATIONS:
            raise ValueError("discretization must be 'finite_volume' or 'fourier', not %r"
                             % (discretization,))
        flags = self._DISCRETIZATIONS[discretization]
        if estimate:
            flags |= _lib.constant("BERG_PLAN_ESTIMATE")
        self.discretization = discretization
        V = _lib.as_array(V, self.shape, "V")
        h = _vp()
        check(_fp_create(ctypes.byref(h), space.handle, ptr(V), flags))
        self._h = h
        self._tol = 1e-8
        _progress.attach(_fp_progress, h)
        self.progress = progress

    @property
    def tolerance(self) -> float:
        """Relative tolerance of the adaptive time stepping (default 1e-8).

        Setting it raises DomainError for a value outside [1e-14, 0.1]; it is
        configuration: do not set it while another thread uses the handle.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> fp.tolerance = 1e-6
        >>> fp.tolerance
        1e-06
        """
        return self._tol

    @tolerance.setter
    def tolerance(self, tol: float) -> None:
        check(_fp_set_tol(self._h, float(tol)))
        self._tol = float(tol)

    def set_threads(self, nthreads: int) -> None:
        """Set the threads of the finite-volume line solves (configuration).

        0 (the default) follows :func:`berg.set_threads`; 1 to 1024
        overrides it for this instance. The grid lines of each implicit
        sweep are shared among the threads; every line is solved as on one
        thread, so the results are the same, bitwise (docs/performance.md,
        "Threads"). The Fourier discretization's FFTs use the threads set
        when the flow was created.

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
        >>> sp = berg.Space((64, 64), -3.0, 3.0, "neumann")
        >>> x = sp.coordinates(0)[:, None] + 0 * sp.coordinates(1)[None, :]
        >>> fp = berg.FokkerPlanck(sp, 0.5 * x ** 2)
        >>> fp.set_threads(2)
        """
        if isinstance(nthreads, bool) or not isinstance(nthreads, int) or nthreads < 0:
            raise _lib.DomainError(
                f"set_threads: nthreads must be a non-negative int, not {nthreads!r}")
        check(_fp_threads(self._h, nthreads))

    @property
    def last_steps(self) -> tuple[int, int]:
        """``(accepted, rejected)`` time steps of this thread's last evolve on this handle.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> _ = fp.evolve(fp.stationary(), 1.0)
        >>> accepted, rejected = fp.last_steps
        >>> accepted > 0
        True
        """
        a, r = _sz(), _sz()
        check(_fp_steps(self._h, ctypes.byref(a), ctypes.byref(r)))
        return a.value, r.value

    def evolve(self, p: ArrayLike, t: float, out: np.ndarray | None = None,
               progress: _progress.ProgressArg = None) -> np.ndarray:
        """``p_t`` from ``p_0 = p``: the flow over a time ``t``.

        Parameters
        ----------
        p : array_like
            A "state": finite, >= 0 (not normalized: the flow is linear), shape
            ``space.shape`` or flat.
        t : float
            The time, finite and >= 0.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result (may be ``p``).
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`FokkerPlanck`.

        Returns
        -------
        numpy.ndarray
            ``p_t``, in the shape of ``p``; its mass is that of ``p`` (Neumann
            and periodic axes).

        Raises
        ------
        TimeError
            ``t`` is negative or not finite.
        NegativeDensityError
            ``p`` has a negative value.
        NonFiniteError
            ``p`` has a NaN or infinite value.
        ConvergenceError
            The adaptive stepping could not reach the tolerance.
        CancelledError
            ``progress`` returned a true value (``out`` unchanged).
        KeyboardInterrupt
            Ctrl-C during the evolve.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> p = np.exp(-(x - 2) ** 2 / 2); p /= sp.integrate(p)
        >>> pt = fp.evolve(p, 1.0)       # the mean relaxes as 2 e^{-t}
        >>> abs(float(sp.mean(pt)[0]) - 2 * np.exp(-1.0)) < 0.01
        True
        """
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        with _progress.Call(self.progress if progress is None else progress,
                            "Fokker-Planck evolve") as call:
            call.check(_fp_evolve(self._h, float(t), ptr(p), ptr(out)))
        return out

    __call__ = evolve

    def _metric(self, g, what):
        """g as an ndim x ndim matrix (a scalar is that multiple of the identity)"""
        d = len(self.shape)
        g = np.asarray(g, dtype=np.float64)
        if g.ndim == 0:
            return float(g) * np.eye(d)
        return _lib.as_array(g, (d, d), what)

    def evolve_field(self, p: ArrayLike, t0: float, t1: float,
                     field: Callable[[float], ArrayLike | tuple[ArrayLike, ArrayLike]],
                     step: float = 0.0, out: np.ndarray | None = None,
                     progress: _progress.ProgressArg = None) -> np.ndarray:
        """``p(t1)`` for a time-dependent potential (and metric) ``field(t)``.

        The flow ``d/dt p = div(g(t)^-1 (grad p + p grad V(t)))`` from
        ``p(t0) = p`` (``berg_fp_evolve_field``). Every substep uses the
        generator frozen at its midpoint (the exponential midpoint rule:
        symmetric, second order), so the adaptive mode extrapolates as
        :meth:`evolve` does (Fourier to order 8, finite volume to order 6)
        under :attr:`tolerance`; ``step > 0`` takes equal second-order steps
        of at most ``step``, each still error-estimated against the
        tolerance. The handle's own ``V`` is not used.

        Parameters
        ----------
        p : array_like
            The state at ``t0``: finite, >= 0, shape ``space.shape`` or flat.
        t0, t1 : float
            The start and end times, finite, ``t1 >= t0``.
        field : callable
            ``field(t) -> V`` or ``field(t) -> (V, g)``: ``V(t)`` on the grid
            (shape ``space.shape``) and optionally the metric ``g(t)`` (the
            inverse diffusion tensor: an ``ndim x ndim`` symmetric positive
            definite matrix, or a scalar for that multiple of the identity;
            a scalar diffusion coefficient ``D(t)`` is ``g = 1 / D(t)``).
            Without ``g`` the space's metric is used. The finite-volume
            discretization needs a diagonal ``g``.
        step : float, optional
            0 (adaptive, the default) or the longest fixed step.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result (may be ``p``).
        progress : bool or callable, optional
            As in :meth:`evolve` (``fraction`` is ``(t - t0) / (t1 - t0)``).

        Returns
        -------
        numpy.ndarray
            ``p(t1)`` in the shape of ``p``; its mass is that of ``p``
            (periodic and Neumann axes).

        Raises
        ------
        TimeError
            ``t0`` or ``t1`` not finite, or ``t1 < t0``.
        CallbackError
            ``field`` raised (chained) or gave a non-finite value.
        NotSPDError
            ``g(t)`` is not symmetric positive definite.
        UnsupportedError
            A coupled ``g(t)`` with the finite-volume discretization.
        DomainError
            A bad ``step``; Fourier: ``e^{-V(t)/2}`` or ``p e^{V(t)/2}`` not
            resolved at some ``t`` (the message gives the time).
        ConvergenceError
            The stepping could not reach the tolerance (or a fixed step's
            error estimate is above it).
        CancelledError
            ``progress`` returned a true value (``out`` unchanged).

        Examples
        --------
        >>> sp = berg.Space((64,), -8.0, 8.0)
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2, discretization="fourier", estimate=True)
        >>> p = np.exp(-x ** 2 / (2 * 0.5)); p /= p.sum()
        >>> # stiffness a(t) = 1 + t/2: the variance obeys v' = -2 a v + 2,
        >>> # from v(0) = 0.5 it stays between 0.5 and 1
        >>> pt = fp.evolve_field(p, 0.0, 1.0, lambda t: (1 + t / 2) * x ** 2 / 2)
        >>> v = float((pt * x ** 2).sum() / pt.sum())
        >>> 0.5 < v < 1.0
        True
        """
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        if not callable(field):
            raise TypeError("field must be callable: field(t) -> V or (V, g)")

        def body(t, n, ndim, V, g, _ud):
            r = field(float(t))
            Vt, gt = r if isinstance(r, tuple) else (r, None)
            np.ctypeslib.as_array(V, shape=(n,))[:] = _lib.as_array(
                Vt, name="V(t)").reshape(n)
            if gt is not None:
                np.ctypeslib.as_array(g, shape=(ndim * ndim,))[:] = self._metric(
                    gt, "g(t)").reshape(ndim * ndim)

        cb = _lib.Callback(_FIELD, body)
        with _progress.Call(self.progress if progress is None else progress,
                            "Fokker-Planck evolve") as call:
            st = _fp_evolve_field(self._h, float(t0), float(t1), float(step), ptr(p), ptr(out),
                                  cb.c_fn, None)
            if cb.error is not None:
                cb.check(st)
            call.check(st)
        return out

    def evolve_table(self, p: ArrayLike, t0: float, t1: float, times: ArrayLike,
                     V: ArrayLike, g: ArrayLike | None = None, step: float = 0.0,
                     out: np.ndarray | None = None,
                     progress: _progress.ProgressArg = None) -> np.ndarray:
        """``p(t1)`` for a potential (and metric) tabulated at knots ``times``.

        As :meth:`evolve_field` with ``V(t)`` and ``g(t)`` interpolated
        linearly in ``t`` between the knots (``berg_fp_evolve_table``). The
        steps land on every knot, so the result is the flow of the
        interpolated coefficients to the tolerance; as an approximation of
        smooth coefficients the interpolation is second order in the knot
        spacing.

        Parameters
        ----------
        p : array_like
            The state at ``t0``: finite, >= 0, shape ``space.shape`` or flat.
        t0, t1 : float
            The start and end times, ``times[0] <= t0 <= t1 <= times[-1]``.
        times : array_like
            The knots, at least 2, finite and strictly increasing.
        V : array_like
            ``V`` at each knot, shape ``(len(times),) + space.shape``.
        g : array_like, optional
            The metric at each knot, shape ``(len(times), ndim, ndim)``, or
            ``(len(times),)`` for multiples of the identity; default: the
            space's metric at all times.
        step : float, optional
            0 (adaptive, the default) or the longest fixed step.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result (may be ``p``).
        progress : bool or callable, optional
            As in :meth:`evolve_field`.

        Returns
        -------
        numpy.ndarray
            ``p(t1)`` in the shape of ``p``.

        Raises
        ------
        DomainError
            ``times`` not strictly increasing, ``[t0, t1]`` outside the table,
            or as in :meth:`evolve_field`.
        SizeError
            Fewer than 2 knots.
        NonFiniteError
            ``times``, ``V`` or ``g`` has a NaN or infinite value.
        NotSPDError
            A knot's ``g`` is not symmetric positive definite.
        TimeError
            ``t0`` or ``t1`` not finite, or ``t1 < t0``.
        ConvergenceError
            The stepping could not reach the tolerance.

        Examples
        --------
        >>> sp = berg.Space((64,), -8.0, 8.0)
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2, discretization="fourier", estimate=True)
        >>> p = np.exp(-x ** 2 / (2 * 0.5)); p /= p.sum()
        >>> times = np.array([0.0, 1.0])
        >>> V = np.array([x ** 2 / 2, 1.5 * x ** 2 / 2])   # a(t) = 1 + t/2: linear
        >>> a = fp.evolve_table(p, 0.0, 1.0, times, V)
        >>> b = fp.evolve_field(p, 0.0, 1.0, lambda t: (1 + t / 2) * x ** 2 / 2)
        >>> bool(np.abs(a - b).sum() < 1e-8)
        True
        """
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        times = _lib.as_array(times, name="times").reshape(-1)
        nt = times.size
        V = _lib.as_array(V, (nt,) + self.shape, "V")
        if g is not None:
            d = len(self.shape)
            g = np.asarray(g, dtype=np.float64)
            if g.ndim == 1:
                g = g[:, None, None] * np.eye(d)[None, :, :]
            g = _lib.as_array(g, (nt, d, d), "g")
        with _progress.Call(self.progress if progress is None else progress,
                            "Fokker-Planck evolve") as call:
            call.check(_fp_evolve_table(self._h, float(t0), float(t1), float(step),
                                        _lib.size_t(nt, "ntimes"), ptr(times), ptr(V), ptr(g),
                                        ptr(p), ptr(out)))
        return out

    def stationary(self) -> np.ndarray:
        """The stationary state ``q = e^{-V}/Z`` on the grid (normalized).

        Returns
        -------
        numpy.ndarray
            ``q``, shape ``space.shape``, a density.

        Raises
        ------
        BergError
            Not raised for a valid handle.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> q = fp.stationary()
        >>> float(np.abs(fp.generator(q)).max()) < 1e-12
        True
        """
        q = np.empty(self.shape)
        check(_fp_stationary(self._h, ptr(q)))
        return q

    def generator(self, p: ArrayLike) -> np.ndarray:
        """``L p = dp/dt``: the discrete Fokker-Planck operator applied to ``p``.

        Parameters
        ----------
        p : array_like
            A "state" (any finite values), shape ``space.shape``.

        Returns
        -------
        numpy.ndarray
            ``L p``, shape ``space.shape``.

        Raises
        ------
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> float(abs(sp.integrate(fp.generator(np.exp(-x ** 2))))) < 1e-12   # mass conserved
        True
        """
        p = _lib.as_array(p, self.shape, "p")
        out = np.empty(self.shape)
        check(_fp_gen(self._h, ptr(p), ptr(out)))
        return out

    def backward(self, f: ArrayLike) -> np.ndarray:
        """``A f = L^T f``: the generator of the process on observables (eq 36).

        Parameters
        ----------
        f : array_like
            An observable (any finite values), shape ``space.shape``.

        Returns
        -------
        numpy.ndarray
            ``L^T f``, shape ``space.shape``.

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> float(np.abs(fp.backward(np.ones(64))).max()) < 1e-12   # constants are invariant
        True
        """
        f = _lib.as_array(f, self.shape, "f")
        out = np.empty(self.shape)
        check(_fp_back(self._h, ptr(f), ptr(out)))
        return out

    def velocity(self, p: ArrayLike) -> np.ndarray:
        """The Wegner-Morris velocity ``Psi = -g^-1 grad(V + ln p)`` (eq 25-26).

        Parameters
        ----------
        p : array_like
            A "state": finite and > 0 everywhere (``ln p`` is taken), shape
            ``space.shape``.

        Returns
        -------
        numpy.ndarray
            Shape ``(ndim,) + space.shape``: component ``a`` of ``Psi``.

        Raises
        ------
        DomainError
            ``p`` is not > 0 everywhere.
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> float(np.abs(fp.velocity(fp.stationary())).max()) < 1e-12   # at rest at q
        True
        """
        p = _lib.as_array(p, self.shape, "p")
        out = np.empty((len(self.shape),) + self.shape)
        check(_fp_velocity(self._h, ptr(p), ptr(out)))
        return out

    def scheme(self, p: ArrayLike) -> np.ndarray:
        """The scheme function ``Sigma = S_q - S_p = V + ln p`` (zero mean on the grid).

        Parameters
        ----------
        p : array_like
            A "state": finite, > 0, shape ``space.shape``.

        Returns
        -------
        numpy.ndarray
            ``Sigma`` with its grid mean removed, shape ``space.shape``.

        Raises
        ------
        DomainError
            ``p`` is not > 0 everywhere.
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> float(np.abs(fp.scheme(fp.stationary())).max()) < 1e-12
        True
        """
        p = _lib.as_array(p, self.shape, "p")
        out = np.empty(self.shape)
        check(_fp_scheme(self._h, ptr(p), ptr(out)))
        return out

    def spectral(self) -> FPSpectral:
        """The exact spectral propagator of this flow (``N^2`` memory).

        Returns
        -------
        FPSpectral
            The eigen-decomposition of the generator.

        Raises
        ------
        OutOfMemoryError
            The ``N x N`` matrix cannot be allocated.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> round(fp.spectral().gap, 2)      # the OU gap is 1
        0.99
        """
        return FPSpectral(self)


class FPSpectral(_lib.Handle):
    """Eigen-decomposition of the symmetrized generator: the exact ``e^{tL}``.

    Parameters
    ----------
    fp : FokkerPlanck
        The flow (finite-volume discretization).
    progress : bool or callable, optional
        Progress of the decomposition, one LAPACK call that cannot be
        interrupted: reported before it (fraction 0) and after it (fraction
        1). ``True`` for a progress bar, or a callable ``progress(fraction,
        iteration, error)`` returning a true value to stop
        (:class:`CancelledError`). Ctrl-C during the decomposition raises
        KeyboardInterrupt when it ends.

    Raises
    ------
    CancelledError
        ``progress`` returned a true value.
    OutOfMemoryError
        The ``N x N`` matrix cannot be allocated.
    InternalError
        LAPACK failed.

    Examples
    --------
    >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
    >>> x = sp.coordinates(0)
    >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
    >>> spec = berg.FPSpectral(fp)
    >>> p = np.exp(-(x - 2) ** 2 / 2); p /= sp.integrate(p)
    >>> float(np.abs(spec.evolve(p, 1.0) - fp.evolve(p, 1.0)).max()) < 1e-6
    True
    """

    _destroy = _sp_destroy

    def __init__(self, fp: FokkerPlanck, progress: _progress.ProgressArg = None) -> None:
        self.fp = fp
        self.shape = fp.shape
        self.size = int(np.prod(self.shape))
        h = _vp()
        with _progress.Call(progress, "Fokker-Planck spectral decomposition") as call:
            call.check(_sp_create(ctypes.byref(h), fp.handle, _progress.trampoline(), None))
        self._h = h

    def evolve(self, p: ArrayLike, t: float, out: np.ndarray | None = None) -> np.ndarray:
        """``e^{tL} p`` exactly (to round-off) from the eigen-decomposition.

        Parameters
        ----------
        p : array_like
            A "state": finite values, shape ``fp.shape`` or flat.
        t : float
            The time, finite and >= 0.
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result.

        Returns
        -------
        numpy.ndarray
            ``p_t``, in the shape of ``p``.

        Raises
        ------
        TimeError
            ``t`` is negative or not finite.
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> spec = fp.spectral()
        >>> q = fp.stationary()
        >>> float(np.abs(spec.evolve(q, 5.0) - q).max()) < 1e-12
        True
        """
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        check(_sp_evolve(self._h, float(t), ptr(p), ptr(out)))
        return out

    __call__ = evolve

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``L``, decreasing: ``0 = lambda_0 >= lambda_1 >= ...``.

        Returns
        -------
        numpy.ndarray
            All ``N`` eigenvalues.

        Raises
        ------
        BergError
            Not raised for a valid handle.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> np.round(fp.spectral().eigenvalues()[:3], 2)
        array([ 0.  , -0.99, -1.98])
        """
        lam = np.empty(self.size)
        check(_sp_eig(self._h, ptr(lam)))
        return lam

    @property
    def gap(self) -> float:
        """The spectral gap ``-lambda_1``: the slowest relaxation rate.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> round(fp.spectral().gap, 2)
        0.99
        """
        return -self.eigenvalues()[1]

    def mode(self, k: int) -> np.ndarray:
        """The eigenmode of ``lambda_k`` (``L mode = lambda_k mode``).

        Parameters
        ----------
        k : int
            The index, ``0 <= k < N``; mode 0 is proportional to ``q``.

        Returns
        -------
        numpy.ndarray
            The mode, shape ``fp.shape``.

        Raises
        ------
        DomainError
            ``k >= N``.
        ValueError
            ``k`` is negative.

        Examples
        --------
        >>> sp = berg.Space((64,), -6.0, 6.0, bc="neumann")
        >>> x = sp.coordinates(0)
        >>> fp = berg.FokkerPlanck(sp, x ** 2 / 2)
        >>> m0, q = fp.spectral().mode(0), fp.stationary()
        >>> np.allclose(m0 / m0.sum(), q / q.sum())
        True
        """
        out = np.empty(self.shape)
        check(_sp_mode(self._h, _lib.size_t(k, "k"), ptr(out)))
        return out


def _particle_array(x, ndim):
    x = _lib.inout_array(x, name="x (updated in place)")
    if x.size % ndim != 0:
        raise ValueError(f"x has {x.size} values, not a multiple of ndim = {ndim}")
    return x, x.size // ndim


class Particles(_lib.Handle):
    """An ensemble driver for ``dX = -g^-1 grad V dt + sqrt(2) g^-1/2 dW`` (eq 31).

    Positions are a float64 array of shape ``(count, ndim)`` (or ``(count,)``
    for ``ndim`` 1), updated in place. The noise depends only on the seed and
    the number of earlier calls. One thread at a time per handle.

    Parameters
    ----------
    ndim : int
        Dimension of a point, 1 to 8.
    metric : array_like, optional
        ``ndim x ndim`` symmetric positive definite ``g`` (default identity).
    seed : int, optional
        Seed of the noise streams (default 0).

    Raises
    ------
    DomainError
        ``ndim`` is outside 1..8.
    NotSPDError
        ``metric`` is not symmetric positive definite.

    Examples
    --------
    >>> ps = berg.Particles(1, seed=3)
    >>> X = np.full((20000, 1), 2.0)
    >>> _ = ps.ou(X, 1.0, [[1.0]])     # exact: mean 2/e, variance 1 - e^-2
    >>> abs(X.mean() - 2 / np.e) < 0.03, abs(X.var() - (1 - np.exp(-2))) < 0.03
    (True, True)
    """

    _destroy = _ps_destroy

    def __init__(self, ndim: int, metric: ArrayLike | None = None, seed: int = 0) -> None:
        self.ndim = int(ndim)
        g = None if metric is None else _lib.as_array(metric, (ndim, ndim), "metric")
        h = _vp()
        check(_ps_create(ctypes.byref(h), _lib.size_t(self.ndim, "ndim"), int(seed), ptr(g)))
        self._h = h

    def euler(self, x: np.ndarray, dt: float, nsteps: int,
              grad: Callable[[np.ndarray], ArrayLike]) -> np.ndarray:
        """``nsteps`` Euler-Maruyama steps of every particle, in place.

        Parameters
        ----------
        x : numpy.ndarray
            Positions, writeable C-contiguous float64, shape ``(count, ndim)``;
            updated in place (never copied).
        dt : float
            The step, finite and > 0.
        nsteps : int
            Number of steps.
        grad : callable
            ``grad(point) -> grad V(point)`` (array of length ``ndim``).

        Returns
        -------
        numpy.ndarray
            ``x``.

        Raises
        ------
        ValueError
            ``x`` is not a writeable C-contiguous float64 array.
        TypeError
            ``grad`` is not callable.
        CallbackError
            ``grad`` raised (chained).
        NonFiniteError
            ``grad`` returned a NaN or infinite value.

        Examples
        --------
        >>> X = np.zeros((100, 1))
        >>> _ = berg.Particles(1, seed=1).euler(X, 0.01, 10, lambda p: p)
        >>> X.shape, bool(X.std() > 0)
        ((100, 1), True)
        """
        x, count = _particle_array(x, self.ndim)
        nsteps = _lib.size_t(nsteps, "nsteps")
        cb = _grad_callback(grad)
        cb.check(_ps_euler(self._h, float(dt), nsteps, count, ptr(x), cb.c_fn, None))
        return x

    def ou(self, x: np.ndarray, t: float, A: ArrayLike, m: ArrayLike | None = None) -> np.ndarray:
        """The exact Ornstein-Uhlenbeck transition over ``t``, in place.

        For ``V = (x - m)^T A (x - m) / 2`` each particle is moved by the exact
        Gaussian transition kernel of the SDE.

        Parameters
        ----------
        x : numpy.ndarray
            Positions, writeable C-contiguous float64, shape ``(count, ndim)``.
        t : float
            The time, finite and >= 0.
        A : array_like
            ``ndim x ndim`` symmetric matrix (the transition is
            ``P = exp(-g^-1 A t)``).
        m : array_like, optional
            The centre (default 0).

        Returns
        -------
        numpy.ndarray
            ``x``.

        Raises
        ------
        NotSPDError
            ``A`` is not symmetric.
        TimeError
            ``t`` is negative or not finite.
        ValueError
            ``x`` is not a writeable C-contiguous float64 array.

        Examples
        --------
        >>> X = np.full((1000, 1), 3.0)
        >>> _ = berg.Particles(1).ou(X, 50.0, [[1.0]], [1.0])   # relaxed to N(1, 1)
        >>> abs(X.mean() - 1) < 0.15
        True
        """
        x, count = _particle_array(x, self.ndim)
        A = _lib.as_array(A, (self.ndim, self.ndim), "A")
        m = None if m is None else _lib.as_array(m, (self.ndim,), "m")
        check(_ps_ou(self._h, float(t), count, ptr(A), ptr(m), ptr(x)))
        return x


def particle_histogram(space: Space, x: ArrayLike) -> tuple[np.ndarray, int]:
    """The density histogram of particles on a space's cells.

    Parameters
    ----------
    space : Space
        The grid (periodic axes wrap).
    x : array_like
        Points, shape ``(count, space.ndim)``.

    Returns
    -------
    density : numpy.ndarray
        ``(points in the cell) / (count * cell_weight)``, shape ``space.shape``.
    outside : int
        Points outside the box along a non-periodic axis.

    Raises
    ------
    ValueError
        The number of values is not a multiple of ``space.ndim``.
    NonFiniteError
        A point is NaN or infinite.

    Examples
    --------
    >>> sp = berg.Space((4,), 0.0, 1.0, bc="neumann")
    >>> berg.particle_histogram(sp, [[0.1], [0.6], [2.0]])
    (array([1.33333333, 0.        , 1.33333333, 0.        ]), 1)
    """
    d = space.ndim
    x = _lib.as_array(x, name="x")
    if x.size % d != 0:
        raise ValueError(f"x has {x.size} values, not a multiple of ndim = {d}")
    out = np.empty(space.shape)
    outside = _sz()
    check(_ps_hist(space.handle, x.size // d, ptr(x), ptr(out), ctypes.byref(outside)))
    return out, outside.value


class Langevin(_lib.Handle):
    """Lattice-field Langevin flow ``d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW``.

    On a periodic Space, ``Cdot`` the Fourier multiplier of
    ``regulator(k) >= 0`` (the regulated two-point function of eq 11).
    One thread at a time per handle.

    Parameters
    ----------
    space : Space
        A periodic grid.
    regulator : callable
        ``regulator(k) -> float >= 0`` of the wave vector ``k``.
    seed : int, optional
        Seed of the noise streams (default 0).

    Raises
    ------
    TypeError
        ``regulator`` is not callable.
    UnsupportedError
        ``space`` has a non-periodic axis.
    CallbackError
        ``regulator`` raised (chained).

    Examples
    --------
    >>> sp = berg.Space((16,), 0.0, 2 * np.pi)
    >>> lf = berg.Langevin(sp, lambda k: 1.0, seed=1)
    >>> phi = np.zeros(16)
    >>> _ = lf.step(phi, 0.01, 10, lambda f: f)
    >>> bool(phi.std() > 0)
    True
    """

    _destroy = _lf_destroy

    def __init__(self, space: Space, regulator: Callable[[np.ndarray], float] | None,
                 seed: int = 0, _handle: ctypes.c_void_p | None = None) -> None:
        if _handle is not None:
            self.space = space
            self.shape = tuple(space.shape)
            self._h = _handle
            return
        if not callable(regulator):
            raise TypeError("regulator must be callable: regulator(k) -> float >= 0")
        self.space = space
        self.shape = tuple(space.shape)
        cb = _Symbol(regulator)
        h = _vp()
        cb.check(_lf_create(ctypes.byref(h), space.handle, int(seed), cb.c_fn, None))
        self._h = h

    @classmethod
    def regulator(cls, space: Space, kind: str | int, lam: float, seed: int = 0) -> Langevin:
        """A Langevin flow whose ``Cdot`` is a built-in regulator of ``|k|_g`` at scale ``lam``.

        Parameters
        ----------
        space : Space
            A periodic grid.
        kind : str or int
            ``'sharp'``, ``'exponential'``, ``'litim'``, ``'exponential_dot'``,
            ``'litim_dot'`` (or its value).
        lam : float
            The scale, finite and > 0.
        seed : int, optional
            Seed of the noise streams (default 0).

        Returns
        -------
        Langevin
            The new handle.

        Raises
        ------
        ValueError
            Unknown ``kind`` name.
        DomainError
            ``lam`` is not finite and > 0.

        Examples
        --------
        >>> sp = berg.Space((16,), 0.0, 2 * np.pi)
        >>> lf = berg.Langevin.regulator(sp, "exponential", 2.0, seed=1)
        >>> lf.shape
        (16,)
        """
        h = _vp()
        check(_lf_create_reg(ctypes.byref(h), space.handle, _reg_kind(kind), float(lam),
                             int(seed)))
        return cls(space, None, _handle=h)

    def step(self, phi: np.ndarray, dt: float, nsteps: int,
             grad: Callable[[np.ndarray], ArrayLike]) -> np.ndarray:
        """``nsteps`` Euler-Maruyama steps on the field ``phi``, in place.

        Parameters
        ----------
        phi : numpy.ndarray
            The field, writeable C-contiguous float64 of shape ``space.shape``;
            updated in place (never copied).
        dt : float
            The step, finite and > 0.
        nsteps : int
            Number of steps.
        grad : callable
            ``grad(phi) -> dS/dphi`` (array of shape ``space.shape``).

        Returns
        -------
        numpy.ndarray
            ``phi``.

        Raises
        ------
        ValueError
            ``phi`` is not a writeable C-contiguous float64 array of the shape.
        TypeError
            ``grad`` is not callable.
        CallbackError
            ``grad`` raised (chained).

        Examples
        --------
        >>> sp = berg.Space((16,), 0.0, 2 * np.pi)
        >>> phi = np.zeros(16)
        >>> berg.Langevin(sp, lambda k: 1.0, seed=2).step(phi, 0.01, 5, lambda f: f) is phi
        True
        """
        phi = _lib.inout_array(phi, self.shape, "phi (updated in place)")
        nsteps = _lib.size_t(nsteps, "nsteps")
        shape = self.shape
        if not callable(grad):
            raise TypeError("grad must be callable: grad(phi) -> dS/dphi")

        def body(size, f, g, _ud):
            ff = np.ctypeslib.as_array(f, shape=(size,)).reshape(shape).copy()
            np.ctypeslib.as_array(g, shape=(size,))[:] = _lib.as_array(
                grad(ff), name="grad(phi)").reshape(size)

        cb = _lib.Callback(_AGRAD, body)
        cb.check(_lf_step(self._h, float(dt), nsteps, ptr(phi), cb.c_fn, None))
        return phi
