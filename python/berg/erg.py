"""The ERG as a flow in the scale (berg/erg.h): Wegner-Morris schemes and
ensemble flows in ln Lambda (seed eq 1-4, 9-11; docs/erg.md).

    s = Scheme.builtin(space, "exponential", mass2)   # C = R(|k|, L) / (|k|^2 + m^2)
    s = Scheme.radial(space, xp, fp)                  # C = f(|k| / L), PCHIP
    s = Scheme(space, lambda k, lam: ...)             # C(k, L) by a callback
    c, cdot = s.value(lam, k)                         # Cdot = -dC/d ln L
    s.flow(phi, lam0, lam1, nsteps, seed=0)           # stochastic, in place
    s.transport(phi, lam0, lam1, nsteps, score)       # eq 10 with a score
    s.transport_gaussian(phi, lam0, lam1, cov0)       # eq 10, exact, Gaussian

Ensembles are float64 arrays of shape ``(count,) + space.shape`` (or
``(count, size)``); member m is ``phi[m]``. A Scheme may be used from many
threads at once.
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _lib
from ._lib import c_double_p, check, fn, ptr
from .propagator import _SYMBOL, _Symbol, _reg_kind
from .space import Space

__all__ = ["Scheme"]

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_REG = ctypes.CFUNCTYPE(ctypes.c_int, _sz, ctypes.c_double, c_double_p, c_double_p, _vp)
_GRADFN = ctypes.CFUNCTYPE(ctypes.c_int, _sz, ctypes.c_double, c_double_p, c_double_p, _vp)

_create = fn("berg_scheme_create", [ctypes.POINTER(_vp), _vp, ctypes.c_uint, _REG, _vp])
_create_radial = fn("berg_scheme_create_radial", [ctypes.POINTER(_vp), _vp, _sz, c_double_p,
                                                  c_double_p, ctypes.c_uint])
_create_reg = fn("berg_scheme_create_regulator", [ctypes.POINTER(_vp), _vp, ctypes.c_int,
                                                  ctypes.c_double, ctypes.c_uint])
_value = fn("berg_scheme_value", [_vp, ctypes.c_double, c_double_p, c_double_p, c_double_p])
_mode_var = fn("berg_scheme_mode_variance", [_vp, ctypes.c_double, ctypes.c_double,
                                             ctypes.c_double, c_double_p, c_double_p])
_seed_action = fn("berg_scheme_seed_action", [_vp, ctypes.c_double, _sz, c_double_p, c_double_p,
                                              c_double_p])
_flow = fn("berg_scheme_flow", [_vp, ctypes.c_double, ctypes.c_double, _sz, _sz,
                                ctypes.c_ulonglong, ctypes.c_ulonglong, c_double_p, c_double_p,
                                _GRADFN, _vp])
_transport_g = fn("berg_scheme_transport_gaussian", [_vp, ctypes.c_double, ctypes.c_double, _sz,
                                                     c_double_p, _SYMBOL, _vp])
_transport = fn("berg_scheme_transport", [_vp, ctypes.c_double, ctypes.c_double, _sz, _sz,
                                          c_double_p, _GRADFN, _GRADFN, _vp])
_destroy = fn("berg_scheme_destroy", [_vp], None)

_PLAN_ESTIMATE = _lib.constant("BERG_PLAN_ESTIMATE")
_SYMBOL_FD = _lib.constant("BERG_SYMBOL_FD")


def _flags(estimate, fd):
    return (_PLAN_ESTIMATE if estimate else 0) | (_SYMBOL_FD if fd else 0)


class _Gradient(_lib.CallbackGuard):
    """Python gradients f(phi, lam) -> array as C berg_erg_gradient_fn."""

    def __init__(self, shape, *fs):
        super().__init__()
        self.c_fns = []
        for f in fs:
            if f is None:
                self.c_fns.append(ctypes.cast(None, _GRADFN))
                continue
            if not callable(f):
                raise TypeError("gradients must be callable: f(phi, lam) -> array")

            def body(size, lam, phi, grad, _ud, f=f):
                x = np.ctypeslib.as_array(phi, shape=(size,)).copy().reshape(shape)
                g = _lib.as_array(f(x, lam), name="gradient").reshape(size)
                np.ctypeslib.as_array(grad, shape=(size,))[:] = g

            self.c_fns.append(_GRADFN(self.wrap(body)))


class Scheme(_lib.Handle):
    """A Wegner-Morris scheme: a regulator family ``C_Lambda(k)`` on a periodic lattice.

    ``Cdot = -dC/d ln Lambda``; seed action ``S^ = 1/2 phi.C^{-1}.phi``
    (plus an optional user term given by its gradient to the flows). The
    constructor takes a callback family; see :meth:`builtin` and
    :meth:`radial` for the others.

    Parameters
    ----------
    space : Space
        The lattice; every axis periodic (any rank, any constant metric).
    regulator : callable
        ``regulator(k, lam) -> float >= 0``, even in ``k``, non-increasing as
        ``lam`` decreases; kept and called during the flows.
    estimate : bool, optional
        Plan the FFTs with FFTW_ESTIMATE (fast creation).
    fd : bool, optional
        Use the finite-difference wave numbers ``2 sin(k h / 2) / h``.

    Raises
    ------
    TypeError
        ``regulator`` is not callable.
    UnsupportedError
        ``space`` has a non-periodic axis.
    CallbackError
        ``regulator`` raised or gave a non-finite value (chained).

    Examples
    --------
    >>> sp = berg.Space((16,), 0.0, 16.0, bc="periodic")
    >>> s = berg.Scheme(sp, lambda k, lam: np.exp(-(k @ k + 1.0) / lam**2))
    >>> c, cdot = s.value(2.0, [0.0])
    >>> round(c, 6), round(cdot, 6)
    (0.778801, -0.3894)
    """

    _destroy = _destroy

    def __init__(self, space: Space, regulator: Callable[[np.ndarray, float], float] | None,
                 estimate: bool = False, fd: bool = False,
                 _handle: ctypes.c_void_p | None = None) -> None:
        self.space = space
        self.shape = tuple(space.shape)
        self.size = int(np.prod(self.shape))
        self._cb = None
        if _handle is not None:
            self._h = _handle
            return
        if not callable(regulator):
            raise TypeError("regulator must be callable: regulator(k, lam) -> float >= 0")

        def body(ndim, lam, k, c, _ud):
            c[0] = float(regulator(np.ctypeslib.as_array(k, shape=(ndim,)).copy(), lam))

        cb = _lib.Callback(_REG, body)
        h = _vp()
        cb.check(_create(ctypes.byref(h), space.handle, _flags(estimate, fd), cb.c_fn, None))
        self._cb = cb  # the scheme calls it during flows
        self._h = h

    @classmethod
    def builtin(cls, space: Space, kind: str | int, mass2: float, estimate: bool = False,
                fd: bool = False) -> Scheme:
        """A built-in family ``C = R(|k|_g, Lambda) / (|k|_g^2 + mass2)``.

        Parameters
        ----------
        space : Space
            A periodic lattice.
        kind : str or int
            ``'sharp'``, ``'exponential'`` or ``'litim'`` (or the value).
        mass2 : float
            The mass term, finite and > 0.
        estimate : bool, optional
            Plan with FFTW_ESTIMATE.
        fd : bool, optional
            Finite-difference wave numbers.

        Returns
        -------
        Scheme
            The new scheme.

        Raises
        ------
        ValueError
            Unknown ``kind`` name.
        DomainError
            A ``_dot`` kind, or ``mass2`` not positive and finite.
        UnsupportedError
            ``space`` has a non-periodic axis.

        Examples
        --------
        >>> sp = berg.Space((8, 8), 0.0, 8.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "exponential", 0.5)
        >>> round(s.value(1.0, [0.0, 0.0])[0], 12)
        2.0
        """
        h = _vp()
        check(_create_reg(ctypes.byref(h), space.handle, _reg_kind(kind), float(mass2),
                          _flags(estimate, fd)))
        return cls(space, None, _handle=h)

    @classmethod
    def radial(cls, space: Space, xp: ArrayLike, fp: ArrayLike, estimate: bool = False,
               fd: bool = False) -> Scheme:
        """A tabulated family ``C = f(|k|_g / Lambda)``, ``f`` the PCHIP interpolant.

        The monotone cubic (Fritsch-Carlson, as scipy's PchipInterpolator)
        through the knots, constant beyond the ends; ``Cdot = x f'(x)``.

        Parameters
        ----------
        space : Space
            A periodic lattice.
        xp : array_like
            Knots, ``xp[0] >= 0``, strictly increasing (at least 2).
        fp : array_like
            Values ``>= 0`` at the knots.
        estimate : bool, optional
            Plan with FFTW_ESTIMATE.
        fd : bool, optional
            Finite-difference wave numbers.

        Returns
        -------
        Scheme
            The new scheme.

        Raises
        ------
        ValueError
            ``xp`` and ``fp`` differ in length.
        SizeError
            Fewer than 2 knots.
        DomainError
            Knots not increasing or negative, a negative value.

        Examples
        --------
        >>> sp = berg.Space((8,), 0.0, 8.0, bc="periodic")
        >>> s = berg.Scheme.radial(sp, [0.0, 1.0, 2.0], [1.0, 0.5, 0.0])
        >>> s.value(2.0, [2.0])[0]
        0.5
        """
        x = _lib.as_array(xp, name="xp").ravel()
        f = _lib.as_array(fp, name="fp").ravel()
        if x.size != f.size:
            raise ValueError(f"xp and fp differ in length ({x.size} and {f.size})")
        h = _vp()
        check(_create_radial(ctypes.byref(h), space.handle, x.size, ptr(x), ptr(f),
                             _flags(estimate, fd)))
        return cls(space, None, _handle=h)

    def value(self, lam: float, k: ArrayLike, derivative: bool = True) -> tuple[float, float | None]:
        """``C_Lambda(k)`` and ``Cdot_Lambda(k) = -dC/d ln Lambda`` at one wave vector.

        Parameters
        ----------
        lam : float
            The scale, finite and > 0.
        k : array_like
            The wave vector (``space.ndim`` values).
        derivative : bool, optional
            Compute ``Cdot`` too (default; refused for the sharp family).

        Returns
        -------
        tuple of float
            ``(C, Cdot)``; ``Cdot`` is None when ``derivative`` is False.

        Raises
        ------
        DomainError
            ``lam`` is not positive and finite.
        UnsupportedError
            ``Cdot`` of the sharp family (a delta shell).

        Examples
        --------
        >>> sp = berg.Space((8,), 0.0, 8.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "litim", 1.0)
        >>> s.value(2.0, [1.0])
        (1.5, -4.0)
        """
        kk = _lib.as_array(k, (len(self.shape),), "k")
        c, cd = ctypes.c_double(), ctypes.c_double()
        check(_value(self._h, float(lam), ptr(kk), ctypes.byref(c),
                     ctypes.byref(cd) if derivative else None))
        return c.value, (cd.value if derivative else None)

    def mode_variance(self, lam0: float, lam1: float, g0: float, k: ArrayLike) -> float:
        """The closed-form flow of a Gaussian mode: ``G1 = C1 + (G0 - C0) (C1/C0)^2``.

        Parameters
        ----------
        lam0 : float
            The starting scale.
        lam1 : float
            The final scale, ``<= lam0``.
        g0 : float
            The mode variance (spectrum) at ``lam0``, ``>= 0``.
        k : array_like
            The wave vector.

        Returns
        -------
        float
            The spectrum at ``lam1``.

        Raises
        ------
        DomainError
            Bad scales or ``g0``, or ``C`` grows from ``lam0`` to ``lam1``.

        Examples
        --------
        >>> sp = berg.Space((8,), 0.0, 8.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "exponential", 1.0)
        >>> c0, _ = s.value(2.0, [1.0]); c1, _ = s.value(1.0, [1.0])
        >>> bool(abs(s.mode_variance(2.0, 1.0, c0, [1.0]) - c1) < 1e-15)
        True
        """
        kk = _lib.as_array(k, (len(self.shape),), "k")
        out = ctypes.c_double()
        check(_mode_var(self._h, float(lam0), float(lam1), float(g0), ptr(kk), ctypes.byref(out)))
        return out.value

    def _ensemble(self, phi):
        a = phi
        if not (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous
                and a.flags.writeable and a.size > 0 and a.size % self.size == 0):
            raise ValueError(f"phi must be a writeable C-contiguous float64 array of shape "
                             f"(count,) + {self.shape}")
        return a, a.size // self.size

    def seed_action(self, lam: float, phi: ArrayLike,
                    gradient: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The Gaussian seed action ``1/2 phi.C^{-1}.phi`` of each member (and ``C^{-1} phi``).

        Parameters
        ----------
        lam : float
            The scale.
        phi : array_like
            An ensemble, shape ``(count,) + space.shape``.
        gradient : bool, optional
            Also return ``C^{-1} phi`` (per cell).

        Returns
        -------
        numpy.ndarray or tuple of numpy.ndarray
            The ``count`` values (and the gradients, shaped like ``phi``).

        Raises
        ------
        DomainError
            A member has a component where ``C = 0``.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 4.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "exponential", 1.0)
        >>> float(s.seed_action(5.0, np.ones((1, 4)))[0])
        2.0
        """
        x = _lib.as_array(phi, name="phi")
        if x.size == 0 or x.size % self.size:
            raise ValueError(f"phi must hold whole fields of {self.size} values")
        count = x.size // self.size
        vals = np.empty(count)
        grad = np.empty_like(x) if gradient else None
        check(_seed_action(self._h, float(lam), count, ptr(x), ptr(vals), ptr(grad)))
        return (vals, grad) if gradient else vals

    def flow(self, phi: np.ndarray, lam0: float, lam1: float, nsteps: int, seed: int = 0,
             counter: int = 0, noise: ArrayLike | None = None,
             seed_grad: Callable[[np.ndarray, float], ArrayLike] | None = None) -> np.ndarray:
        """Flow an ensemble from ``lam0`` down to ``lam1`` (stochastic Wegner-Morris), in place.

        Per step and mode ``phi^ <- r phi^ + C1 ln(r) g^ + sqrt(C1 (1 - r)) xi^``
        with ``r = C1/C0``: exact without a user term, exponential Euler
        (strong order 1) with one.

        Parameters
        ----------
        phi : numpy.ndarray
            The ensemble, writeable C-contiguous float64 of shape
            ``(count,) + space.shape``; updated in place.
        lam0 : float
            The starting scale.
        lam1 : float
            The final scale, ``<= lam0``.
        nsteps : int
            Equal steps in ``ln Lambda``.
        seed : int, optional
            Seed of the noise streams.
        counter : int, optional
            The first step's number in the streams (continue a flow with
            ``counter + nsteps``).
        noise : array_like, optional
            ``nsteps * count * size`` standard normals driving the steps
            instead of the streams.
        seed_grad : callable, optional
            ``seed_grad(phi, lam) -> dS^u/dphi`` of a user seed term.

        Returns
        -------
        numpy.ndarray
            ``phi``.

        Raises
        ------
        ValueError
            ``phi`` is not a writeable C-contiguous float64 ensemble.
        DomainError
            ``lam1 > lam0``, or ``C`` grows along a step.
        CallbackError
            ``seed_grad`` raised (chained); ``phi`` is then unchanged.

        Examples
        --------
        >>> sp = berg.Space((8, 8), 0.0, 8.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "exponential", 0.5)
        >>> phi = np.zeros((4, 8, 8))
        >>> _ = s.flow(phi, 2.0, 1.0, 3, seed=1)
        >>> bool(phi.std() > 0)
        True
        """
        a, count = self._ensemble(phi)
        z = None
        if noise is not None:
            z = _lib.as_array(noise, name="noise").ravel()
            if z.size != int(nsteps) * a.size:
                raise ValueError(f"noise must hold nsteps * count * size = {int(nsteps) * a.size} "
                                 f"values, not {z.size}")
        guard = _Gradient(self.shape, seed_grad)
        guard.check(_flow(self._h, float(lam0), float(lam1), _lib.size_t(nsteps, "nsteps"), count,
                          int(seed), int(counter), ptr(z), ptr(a), guard.c_fns[0], None))
        return phi

    def transport_gaussian(self, phi: np.ndarray, lam0: float, lam1: float,
                           cov0: Callable[[np.ndarray], float]) -> np.ndarray:
        """The exact eq-10 map of a Gaussian ensemble: ``phi^ <- sqrt(G1/G0) phi^``, in place.

        Parameters
        ----------
        phi : numpy.ndarray
            The ensemble (as in :meth:`flow`); updated in place.
        lam0 : float
            The starting scale.
        lam1 : float
            The final scale (either direction).
        cov0 : callable
            ``cov0(k) -> G0(k) >= 0``, the ensemble's spectrum at ``lam0``.

        Returns
        -------
        numpy.ndarray
            ``phi``.

        Raises
        ------
        ValueError
            ``phi`` is not a writeable C-contiguous float64 ensemble.
        DomainError
            ``G0 < 0``, or the flowed variance is not positive.
        CallbackError
            ``cov0`` raised (chained).

        Examples
        --------
        >>> sp = berg.Space((8,), 0.0, 8.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "exponential", 1.0)
        >>> phi = np.ones((1, 8))
        >>> _ = s.transport_gaussian(phi, 2.0, 1.0, lambda k: s.value(2.0, k, False)[0])
        >>> bool(np.allclose(phi, 1.0))
        True
        """
        a, count = self._ensemble(phi)
        cb = _Symbol(cov0)
        cb.check(_transport_g(self._h, float(lam0), float(lam1), count, ptr(a), cb.c_fn, None))
        return phi

    def transport(self, phi: np.ndarray, lam0: float, lam1: float, nsteps: int,
                  score: Callable[[np.ndarray, float], ArrayLike],
                  seed_grad: Callable[[np.ndarray, float], ArrayLike] | None = None) -> np.ndarray:
        """The eq-10 reparameterization with a known score ``dS_Lambda/dphi``, in place.

        ``d phi/ds = Cdot (C^{-1} phi + dS^u/dphi - 1/2 score)``,
        ``s = -ln Lambda``: exponential Heun (second order) around the
        scheme's Gaussian point.

        Parameters
        ----------
        phi : numpy.ndarray
            The ensemble (as in :meth:`flow`); updated in place.
        lam0 : float
            The starting scale.
        lam1 : float
            The final scale (either direction).
        nsteps : int
            Equal steps in ``ln Lambda``.
        score : callable
            ``score(phi, lam) -> dS_Lambda/dphi`` of the ensemble's law.
        seed_grad : callable, optional
            ``seed_grad(phi, lam) -> dS^u/dphi`` of a user seed term.

        Returns
        -------
        numpy.ndarray
            ``phi``.

        Raises
        ------
        ValueError
            ``phi`` is not a writeable C-contiguous float64 ensemble.
        CallbackError
            A callback raised (chained); ``phi`` is then unchanged.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 4.0, bc="periodic")
        >>> s = berg.Scheme.builtin(sp, "exponential", 1.0)
        >>> phi = np.ones((1, 4))
        >>> _ = s.transport(phi, 2.0, 1.0, 4, lambda f, lam: f)
        >>> bool(np.allclose(phi, 1.0))
        True
        """
        a, count = self._ensemble(phi)
        guard = _Gradient(self.shape, seed_grad, score)
        guard.check(_transport(self._h, float(lam0), float(lam1), _lib.size_t(nsteps, "nsteps"),
                               count, ptr(a), guard.c_fns[0], guard.c_fns[1], None))
        return phi
