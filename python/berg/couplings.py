"""Couplings and beta functions (berg/couplings.h).

A :class:`Basis` holds operators ``L_i`` of lattice fields (the built-in
lattice integrals of ``phi``, ``phi^2``, ``phi^4``, ``phi^6`` and
``(grad phi)^2``, or Python callables). The couplings ``lambda`` of
``P = exp(-sum_i lambda^i L_i) / Z`` are estimated without ``Z``: from an
ensemble by score matching (:func:`couplings_score_matching`, with the
sandwich or batch-means covariance), from a density on a grid of field
values by score matching (:func:`couplings_grid_score_matching`) or by KL
projection (:func:`couplings_kl_projection`); along a flow the beta
functions ``beta^i = -d lambda^i / d ln Lambda`` come with their
propagated covariance (:func:`couplings_beta`, :class:`CouplingsFlow`).
Failures raise the BergError subclass of their status.
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from . import _lib
from ._lib import c_double_p, check, fn, ptr
from .space import Space

__all__ = ["OPERATOR_PHI", "OPERATOR_PHI2", "OPERATOR_PHI4", "OPERATOR_PHI6", "OPERATOR_GRAD2",
           "Basis", "couplings_score_matching", "couplings_grid_score_matching",
           "couplings_kl_projection", "couplings_beta", "CouplingsFlow"]

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t

#: built-in operator sum_x w phi_x
OPERATOR_PHI = _lib.constant("BERG_OPERATOR_PHI")
#: built-in operator sum_x w phi_x^2
OPERATOR_PHI2 = _lib.constant("BERG_OPERATOR_PHI2")
#: built-in operator sum_x w phi_x^4
OPERATOR_PHI4 = _lib.constant("BERG_OPERATOR_PHI4")
#: built-in operator sum_x w phi_x^6
OPERATOR_PHI6 = _lib.constant("BERG_OPERATOR_PHI6")
#: built-in operator sum_x w sum_a g^aa ((phi_{x+a} - phi_x) / h_a)^2
OPERATOR_GRAD2 = _lib.constant("BERG_OPERATOR_GRAD2")
_OP_NAMES = {"phi": OPERATOR_PHI, "phi2": OPERATOR_PHI2, "phi4": OPERATOR_PHI4,
             "phi6": OPERATOR_PHI6, "grad2": OPERATOR_GRAD2}

# berg_operator_fn
_OPERATOR = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, c_double_p, c_double_p,
                             _vp)

_create = fn("berg_basis_create", [ctypes.POINTER(_vp), _vp, _sz, ctypes.POINTER(ctypes.c_int)])
_add = fn("berg_basis_add", [_vp, _OPERATOR, _vp])
_size = fn("berg_basis_size", [_vp], _sz)
_cells = fn("berg_basis_cells", [_vp], _sz)
_evaluate = fn("berg_basis_evaluate", [_vp, _sz, c_double_p, c_double_p])
_gradient = fn("berg_basis_gradient", [_vp, c_double_p, c_double_p, c_double_p])
_destroy = fn("berg_basis_destroy", [_vp], None)
_sm = fn("berg_couplings_score_matching", [_vp, _sz, _sz, c_double_p, c_double_p, c_double_p])
_grid_sm = fn("berg_couplings_grid_score_matching", [_vp, _vp, c_double_p, c_double_p])
_kl = fn("berg_couplings_kl_projection", [_vp, _vp, ctypes.c_double, _sz, c_double_p,
                                          c_double_p])
_beta = fn("berg_couplings_beta", [_sz, _sz, c_double_p, c_double_p, c_double_p, c_double_p,
                                   c_double_p])
_flow_create = fn("berg_couplings_flow_create", [ctypes.POINTER(_vp), _vp, _sz, _sz])
_flow_add = fn("berg_couplings_flow_add", [_vp, ctypes.c_double, c_double_p])
_flow_size = fn("berg_couplings_flow_size", [_vp], _sz)
_flow_result = fn("berg_couplings_flow_result", [_vp, c_double_p, c_double_p, c_double_p,
                                                 c_double_p, c_double_p])
_flow_destroy = fn("berg_couplings_flow_destroy", [_vp], None)


def _op_code(o):
    if isinstance(o, str):
        try:
            return _OP_NAMES[o.lower()]
        except KeyError:
            raise ValueError(f"unknown operator {o!r}; use one of {sorted(_OP_NAMES)}") from None
    return int(o)


class Basis(_lib.Handle):
    """Basis operators ``L_i`` of the fields of a periodic lattice.

    Parameters
    ----------
    lattice : Space
        The lattice (every axis periodic; a diagonal metric for
        ``'grad2'``). A field is an array of ``lattice.size`` values
        (``lattice.shape`` or flat).
    operators : sequence of str or int, optional
        Built-in operators, by name (``'phi'``, ``'phi2'``, ``'phi4'``,
        ``'phi6'``, ``'grad2'``) or constant (``OPERATOR_PHI2``, ...), in
        the order of their couplings.

    Raises
    ------
    UnsupportedError
        A lattice axis is not periodic, or ``'grad2'`` on a coupled metric.
    DomainError
        An unknown operator code.
    ValueError
        An unknown operator name.

    Examples
    --------
    >>> lat = berg.Space((8,), 0.0, 8.0)
    >>> b = berg.Basis(lat, ["grad2", "phi2"])
    >>> b.size, b.cells
    (2, 8)
    >>> b.evaluate(np.ones(8))
    array([[0., 8.]])
    """

    _destroy = _destroy

    def __init__(self, lattice: Space, operators: Sequence[str | int] = ()) -> None:
        codes = [_op_code(o) for o in operators]
        arr = (ctypes.c_int * max(len(codes), 1))(*codes)
        h = _vp()
        check(_create(ctypes.byref(h), lattice.handle, len(codes), arr))
        self._h = h
        self._lattice = lattice
        self._callbacks = []
        self._guard = _lib.CallbackGuard()

    def add(self, operator: Callable[[np.ndarray], tuple]) -> Basis:
        """Append a user operator.

        Parameters
        ----------
        operator : callable
            ``operator(phi) -> (value, grad, laplacian)`` for one field
            ``phi`` (flat, ``cells`` values): ``L(phi)``, the ``cells``
            partial derivatives ``dL/dphi_x`` (not divided by the cell
            weight) and ``sum_x d^2 L / dphi_x^2``. An exception inside it
            makes the estimator raise CallbackError, chained to it.

        Returns
        -------
        Basis
            self.

        Raises
        ------
        SizeError
            The basis already has 64 operators.

        Examples
        --------
        >>> lat = berg.Space((4,), 0.0, 4.0)
        >>> b = berg.Basis(lat).add(lambda f: (f.sum(), np.ones(4), 0.0))
        >>> b.evaluate(np.arange(4.0))
        array([[6.]])
        """
        guard = self._guard

        def body(size, phi, value, grad, lap, _ud):
            f = np.ctypeslib.as_array(phi, (size,)).copy()
            v, g, lp = operator(f)
            value[0] = float(v)
            if grad:
                np.ctypeslib.as_array(grad, (size,))[:] = np.asarray(g, dtype=float).reshape(size)
            if lap:
                lap[0] = float(lp)
            return 0

        cb = _OPERATOR(guard.wrap(body))
        check(_add(self._h, cb, None))
        self._callbacks.append(cb)
        return self

    @property
    def size(self) -> int:
        """The number of operators ``k``.

        Examples
        --------
        >>> berg.Basis(berg.Space((4,), 0.0, 4.0), ["phi2"]).size
        1
        """
        return int(_size(self._h))

    @property
    def cells(self) -> int:
        """The number of lattice sites of one field.

        Examples
        --------
        >>> berg.Basis(berg.Space((4, 2), 0.0, 4.0), ["phi2"]).cells
        8
        """
        return int(_cells(self._h))

    def _fields(self, phi, name="phi"):
        arr = _lib.as_array(phi, name=name)
        n = self.cells
        if arr.size % n or arr.size == 0:
            raise ValueError(f"{name} has {arr.size} values, not a positive multiple of the "
                             f"{n} lattice sites")
        return np.ascontiguousarray(arr.reshape(-1, n))

    def evaluate(self, phi: ArrayLike) -> np.ndarray:
        """The operator values of an ensemble.

        Parameters
        ----------
        phi : array_like
            One field or ``count`` fields (shape ``(count, cells)``, or
            ``(count, *lattice.shape)``).

        Returns
        -------
        numpy.ndarray
            ``(count, k)`` values ``L_i`` of each member.

        Raises
        ------
        NonFiniteError
            A non-finite field value, or an operator that overflows.
        CallbackError
            A user operator raised or returned a non-finite value.

        Examples
        --------
        >>> b = berg.Basis(berg.Space((2,), 0.0, 2.0), ["phi", "phi4"])
        >>> b.evaluate([[1.0, 2.0], [0.0, 1.0]])
        array([[ 3., 17.],
               [ 1.,  1.]])
        """
        f = self._fields(phi)
        out = np.empty((f.shape[0], self.size))
        self._guard.check(_evaluate(self._h, f.shape[0], ptr(f), ptr(out)))
        return out

    def gradient(self, phi: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and field Laplacians of every operator at one field.

        Parameters
        ----------
        phi : array_like
            One field (``cells`` values).

        Returns
        -------
        grad : numpy.ndarray
            ``(k, cells)`` partial derivatives ``dL_i / dphi_x``.
        laplacian : numpy.ndarray
            ``k`` values ``sum_x d^2 L_i / dphi_x^2``.

        Raises
        ------
        NonFiniteError
            A non-finite field value.
        CallbackError
            A user operator raised or returned a non-finite value.

        Examples
        --------
        >>> b = berg.Basis(berg.Space((2,), 0.0, 2.0), ["phi2"])
        >>> g, lap = b.gradient([1.0, -3.0])
        >>> g, lap
        (array([[ 2., -6.]]), array([4.]))
        """
        f = self._fields(phi)
        if f.shape[0] != 1:
            raise ValueError("gradient takes one field")
        g = np.empty((self.size, self.cells))
        lap = np.empty(self.size)
        self._guard.check(_gradient(self._h, ptr(f), ptr(g), ptr(lap)))
        return g, lap


def couplings_score_matching(basis: Basis, phi: ArrayLike,
                             nbatch: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Couplings of an ensemble by score matching, with their covariance.

    ``lambda = A^{-1} b``, ``A_ij = E[grad L_i . grad L_j]``,
    ``b_i = E[Laplacian L_i]`` (means over members); the covariance is the
    sandwich estimate over independent members (``nbatch = 0``) or over
    ``nbatch`` contiguous batch means (one correlated chain).

    Parameters
    ----------
    basis : Basis
        The operators.
    phi : array_like
        ``count >= 2`` fields, shape ``(count, cells)`` or
        ``(count, *lattice.shape)``.
    nbatch : int, optional
        0 (independent members) or the number of batches, 2 .. count.

    Returns
    -------
    lam : numpy.ndarray
        ``k`` couplings.
    cov : numpy.ndarray
        ``(k, k)`` covariance; standard errors are ``sqrt(diag(cov))``.

    Raises
    ------
    NotSPDError
        ``A`` is singular or ill-conditioned (equilibrated reciprocal
        condition below 1e-12): operators linearly dependent on the
        ensemble.
    SizeError
        Fewer than 2 members, or ``nbatch`` of 1 or above ``count``.
    NonFiniteError
        A non-finite field value.
    CallbackError
        A user operator raised or returned a non-finite value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> phi = rng.normal(scale=np.sqrt(0.5), size=(4000, 1))  # exp(-phi^2)
    >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2"])
    >>> lam, cov = berg.couplings_score_matching(b, phi)
    >>> bool(abs(lam[0] - 1.0) < 3 * np.sqrt(cov[0, 0]))
    True
    """
    f = basis._fields(phi)
    k = basis.size
    lam = np.empty(k)
    cov = np.empty((k, k))
    basis._guard.check(_sm(basis.handle, f.shape[0], _lib.size_t(nbatch, "nbatch"), ptr(f),
                           ptr(lam), ptr(cov)))
    return lam, cov


def couplings_grid_score_matching(basis: Basis, space: Space, p: ArrayLike) -> np.ndarray:
    """Couplings of a density on a grid of field values by score matching.

    The axes of ``space`` are the values of the lattice sites (rank =
    ``basis.cells``); expectations are grid sums, with the flux of
    ``p grad L`` through the walls of the box subtracted.

    Parameters
    ----------
    basis : Basis
        The operators.
    space : Space
        The sample space, of rank ``basis.cells``.
    p : array_like
        A measure on the grid (finite, >= 0, positive mass; normalized
        internally).

    Returns
    -------
    numpy.ndarray
        ``k`` couplings.

    Raises
    ------
    MismatchError
        The rank of ``space`` is not ``basis.cells``.
    NotSPDError
        ``A`` is singular or ill-conditioned.
    MassError
        ``p`` has zero mass.

    Examples
    --------
    >>> s = berg.Space((400,), -6.0, 6.0, bc="neumann")
    >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2", "phi4"])
    >>> x = s.coordinates(0)
    >>> np.round(berg.couplings_grid_score_matching(b, s, np.exp(-0.5 * x**2 - 0.1 * x**4)), 8)
    array([0.5, 0.1])
    """
    q = _lib.as_array(p, name="p")
    lam = np.empty(basis.size)
    basis._guard.check(_grid_sm(basis.handle, space.handle, ptr(q), ptr(lam)))
    return lam


def couplings_kl_projection(basis: Basis, space: Space, p: ArrayLike, tolerance: float = 1e-12,
                            max_iterations: int = 100) -> np.ndarray:
    """Couplings of a grid density by KL projection onto the family.

    Newton iterations from ``lambda = 0`` with the Fisher metric
    ``Cov(L_i, L_j)`` of the model, until the moment mismatch (the Newton
    decrement, in model standard deviations) is at most ``tolerance``.

    Parameters
    ----------
    basis : Basis
        The operators.
    space : Space
        The sample space, of rank ``basis.cells``.
    p : array_like
        A measure on the grid.
    tolerance : float, optional
        The Newton decrement to reach, in [1e-15, 0.1].
    max_iterations : int, optional
        The cap on Newton iterations.

    Returns
    -------
    numpy.ndarray
        ``k`` couplings of the projection ``argmin D_KL(p || q_lambda)``.

    Raises
    ------
    ConvergenceError
        The tolerance was not reached (the message gives the mismatch).
    NotSPDError
        The Fisher metric is singular (moments the family cannot reach).
    MismatchError
        The rank of ``space`` is not ``basis.cells``.

    Examples
    --------
    >>> s = berg.Space((400,), -6.0, 6.0, bc="neumann")
    >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2", "phi4"])
    >>> x = s.coordinates(0)
    >>> np.round(berg.couplings_kl_projection(b, s, np.exp(-0.5 * x**2 - 0.1 * x**4)), 10)
    array([0.5, 0.1])
    """
    q = _lib.as_array(p, name="p")
    lam = np.empty(basis.size)
    basis._guard.check(_kl(basis.handle, space.handle, float(tolerance),
                           _lib.size_t(max_iterations, "max_iterations"), ptr(q), ptr(lam)))
    return lam


def couplings_beta(log_scale: ArrayLike, lam: ArrayLike,
                   cov: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Beta functions ``beta^i = -d lambda^i / d ln Lambda`` (eq 2).

    Second-order finite differences of adjacent scales (centred inside,
    one-sided at the ends; the difference quotient with two scales), the
    same formulas as ``numpy.gradient(..., edge_order=2)``; the covariance
    ``D cov D^T`` includes the correlations between scales.

    Parameters
    ----------
    log_scale : array_like
        ``S >= 2`` values of ``ln Lambda``, strictly monotone.
    lam : array_like
        ``(S, k)`` couplings.
    cov : array_like, optional
        ``(S k, S k)`` joint covariance of ``lam`` (row-major in ``(s, i)``).

    Returns
    -------
    beta : numpy.ndarray
        ``(S, k)`` beta functions.
    beta_cov : numpy.ndarray or None
        ``(S k, S k)`` covariance of beta (None without ``cov``).

    Raises
    ------
    DomainError
        ``log_scale`` is not strictly monotone.
    SizeError
        Fewer than 2 scales.

    Examples
    --------
    >>> s = np.linspace(0.0, 1.0, 5)
    >>> beta, _ = berg.couplings_beta(s, (1.0 + s**2)[:, None])
    >>> np.round(beta[:, 0], 12) + 0.0
    array([ 0. , -0.5, -1. , -1.5, -2. ])
    """
    x = _lib.as_array(log_scale, name="log_scale").reshape(-1)
    S = x.size
    lv = _lib.as_array(lam, name="lam")
    lv = np.ascontiguousarray(lv.reshape(S, -1)) if S and lv.size % max(S, 1) == 0 else lv
    if lv.ndim != 2 or lv.shape[0] != S:
        raise ValueError(f"lam must have shape ({S}, k), has {np.shape(lam)}")
    k = lv.shape[1]
    c = None if cov is None else _lib.as_array(cov, (S * k, S * k), name="cov")
    beta = np.empty((S, k))
    bc = None if c is None else np.empty((S * k, S * k))
    check(_beta(S, k, ptr(x), ptr(lv), ptr(c), ptr(beta), ptr(bc)))
    return beta, bc


class CouplingsFlow(_lib.Handle):
    """Couplings of one flowed ensemble at a sequence of scales, with the
    joint covariance of all scales and the beta functions.

    Parameters
    ----------
    basis : Basis
        The operators (copied; keep Python operators alive: this object
        holds a reference to the basis).
    count : int
        Members of the ensemble (the same members at every scale).
    nbatch : int, optional
        0 (independent members) or the number of batch means.

    Raises
    ------
    SizeError
        ``count < 2``, ``nbatch`` of 1 or above ``count``, or an empty basis.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2"])
    >>> flow = berg.CouplingsFlow(b, 2000)
    >>> z = rng.normal(size=(2000, 1))
    >>> for s in np.linspace(0.0, 1.0, 6):  # lambda = e^{2s} / 2
    ...     _ = flow.add(s, z * np.exp(-s))
    >>> s, lam, cov, beta, beta_cov = flow.result()
    >>> flow.size, bool(np.all(np.abs(beta[:, 0] + np.exp(2 * s)) < 4 * np.sqrt(np.diag(beta_cov)) + 0.05))
    (6, True)
    """

    _destroy = _flow_destroy

    def __init__(self, basis: Basis, count: int, nbatch: int = 0) -> None:
        h = _vp()
        check(_flow_create(ctypes.byref(h), basis.handle, _lib.size_t(count, "count"),
                           _lib.size_t(nbatch, "nbatch")))
        self._h = h
        self._basis = basis
        self._count = int(count)

    def add(self, log_scale: float, phi: ArrayLike) -> CouplingsFlow:
        """Score-match the ensemble at one more scale.

        Parameters
        ----------
        log_scale : float
            ``ln Lambda`` (the scales added must be strictly monotone).
        phi : array_like
            ``(count, cells)`` fields (member m is the flowed member m).

        Returns
        -------
        CouplingsFlow
            self.

        Raises
        ------
        DomainError
            ``log_scale`` breaks the monotone order.
        NotSPDError
            ``A`` is singular at this scale.

        Examples
        --------
        >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2"])
        >>> f = berg.CouplingsFlow(b, 3).add(0.0, [[1.0], [-0.5], [2.0]])
        >>> f.size
        1
        """
        f = self._basis._fields(phi)
        if f.shape[0] != self._count:
            raise ValueError(f"phi has {f.shape[0]} members, the flow {self._count}")
        self._basis._guard.check(_flow_add(self._h, float(log_scale), ptr(f)))
        return self

    @property
    def size(self) -> int:
        """The number of scales added.

        Examples
        --------
        >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2"])
        >>> berg.CouplingsFlow(b, 2).size
        0
        """
        return int(_flow_size(self._h))

    def result(self) -> tuple:
        """Couplings, joint covariance, beta functions and their covariance.

        Returns
        -------
        log_scale : numpy.ndarray
            ``S`` scales.
        lam : numpy.ndarray
            ``(S, k)`` couplings.
        cov : numpy.ndarray
            ``(S k, S k)`` joint covariance of ``lam``.
        beta : numpy.ndarray or None
            ``(S, k)`` beta functions (None with one scale).
        beta_cov : numpy.ndarray or None
            ``(S k, S k)`` covariance of ``beta`` (None with one scale).

        Raises
        ------
        SizeError
            No scale was added.

        Examples
        --------
        >>> b = berg.Basis(berg.Space((1,), 0.0, 1.0), ["phi2"])
        >>> f = berg.CouplingsFlow(b, 3).add(0.0, [[1.0], [-0.5], [2.0]])
        >>> s, lam, cov, beta, beta_cov = f.result()
        >>> lam.shape, beta is None
        ((1, 1), True)
        """
        S, k = self.size, self._basis.size
        x = np.empty(S)
        lam = np.empty((S, k))
        cov = np.empty((S * k, S * k))
        beta = np.empty((S, k)) if S >= 2 else None
        bc = np.empty((S * k, S * k)) if S >= 2 else None
        check(_flow_result(self._h, ptr(x), ptr(lam), ptr(cov), ptr(beta), ptr(bc)))
        return x, lam, cov, beta, bc
