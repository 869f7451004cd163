"""Fisher metrics: from scores, grids and models (include/berg/fisher.h).

Matrices are numpy arrays; every libberg failure raises the BergError
subclass of its status (NotSPDError for an indefinite metric, with the
offending eigenvalue in the message; CallbackError when a Python callback
raised, chained to the callback's exception).
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from . import _lib
from ._lib import c_double_p, c_size_t_p, check, fn, ptr
from .space import Space

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
_acc_threads = fn("berg_fisher_acc_set_threads", [_vp, _sz])
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
def fisher_from_scores(scores: ArrayLike) -> np.ndarray:
    """The Fisher metric estimated from score samples: ``I = (1/N) sum_t s_t s_t^T``.

    Parameters
    ----------
    scores : array_like
        ``N x d`` array of scores ``s_t = grad_u ln p(y_t | u)`` (one row per
        sample; a 1-D array is one row).

    Returns
    -------
    numpy.ndarray
        ``d x d`` symmetric estimate (CBLAS ``dsyrk``).

    Raises
    ------
    NonFiniteError
        A score is NaN or infinite.
    SizeError
        No sample or no column.
    TypeError
        ``scores`` is complex.

    Examples
    --------
    >>> s = np.random.default_rng(0).normal(size=(100000, 2)) * [1, 2]
    >>> np.round(np.diag(berg.fisher_from_scores(s)), 1)
    array([1., 4.])
    """
    s = _matrix(scores, "scores")
    n, d = s.shape
    out = np.empty((d, d))
    check(_from_scores(n, d, ptr(s), ptr(out)))
    return out


class FisherAccumulator(_lib.Handle):
    """A Fisher estimate from batches of scores, with standard errors.

    Add batches with :meth:`add`; accumulators of several threads are
    combined with :meth:`merge`; :meth:`result` gives the estimate and the
    standard error of each entry. One thread at a time per accumulator.

    Parameters
    ----------
    dim : int
        The number of parameters ``d``.
    stderr : bool, optional
        Track the standard errors (default True; False sets
        ``ACC_NO_STDERR`` and saves the fourth-moment sums).

    Raises
    ------
    SizeError
        ``dim`` is zero.
    ValueError
        ``dim`` is negative.

    Examples
    --------
    >>> s = np.random.default_rng(0).normal(size=(100000, 2)) * [1, 2]
    >>> acc = berg.FisherAccumulator(2).add(s[:50000])
    >>> _ = acc.merge(berg.FisherAccumulator(2).add(s[50000:]))
    >>> I, se = acc.result()
    >>> acc.count, np.round(np.diag(I), 1), bool(se.max() < 0.05)
    (100000, array([1., 4.]), True)
    """

    _destroy = _acc_destroy

    def __init__(self, dim: int, stderr: bool = True) -> None:
        h = _vp()
        check(_acc_create(ctypes.byref(h), _lib.size_t(dim, "dim"),
                          0 if stderr else ACC_NO_STDERR))
        self._h = h
        self.stderr = bool(stderr)

    @property
    def dim(self) -> int:
        """The number of parameters ``d``.

        Examples
        --------
        >>> berg.FisherAccumulator(3).dim
        3
        """
        return int(_acc_dim(self._h))

    @property
    def count(self) -> int:
        """The number of scores added so far.

        Examples
        --------
        >>> berg.FisherAccumulator(2).add(np.ones((5, 2))).count
        5
        """
        return int(_acc_count(self._h))

    def set_threads(self, nthreads: int) -> None:
        """Set the threads of add (the batch's rows are split into fixed ranges, one dsyrk each; OpenBLAS is held at one thread while more than one runs) (configuration).

        0 (the default) follows :func:`berg.set_threads`; 1 to 1024
        overrides it for this instance. Results match one thread's
        (bitwise, or to 1e-14 relative: docs/performance.md, "Threads").

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
        >>> s = np.random.default_rng(0).normal(size=(1000, 2))
        >>> acc = berg.FisherAccumulator(2)
        >>> acc.set_threads(2)
        >>> bool(np.allclose(acc.add(s).result()[0], s.T @ s / 1000, rtol=1e-12))
        True
        """
        if isinstance(nthreads, bool) or not isinstance(nthreads, int) or nthreads < 0:
            raise _lib.DomainError(
                f"set_threads: nthreads must be a non-negative int, not {nthreads!r}")
        check(_acc_threads(self._h, nthreads))

    def add(self, scores: ArrayLike) -> FisherAccumulator:
        """Add a batch of scores.

        Parameters
        ----------
        scores : array_like
            ``n x d`` array of scores (a 1-D array is one score).

        Returns
        -------
        FisherAccumulator
            ``self`` (calls chain).

        Raises
        ------
        ValueError
            ``scores`` does not have ``dim`` columns.
        NonFiniteError
            A score is NaN or infinite; nothing is added.

        Examples
        --------
        >>> berg.FisherAccumulator(2).add([[1.0, 0.0], [0.0, 1.0]]).count
        2
        """
        s = _matrix(scores, "scores")
        if s.shape[1] != self.dim:
            raise ValueError(f"scores have {s.shape[1]} columns, the accumulator {self.dim}")
        check(_acc_add(self._h, s.shape[0], ptr(s)))
        return self

    def merge(self, other: FisherAccumulator) -> FisherAccumulator:
        """Add the sums of another accumulator (e.g. of another thread).

        Parameters
        ----------
        other : FisherAccumulator
            An accumulator of the same ``dim`` and ``stderr`` setting; unchanged.

        Returns
        -------
        FisherAccumulator
            ``self``.

        Raises
        ------
        TypeError
            ``other`` is not a FisherAccumulator.
        MismatchError
            ``other`` has another ``dim`` or ``stderr`` setting.

        Examples
        --------
        >>> a = berg.FisherAccumulator(1).add([[1.0]])
        >>> a.merge(berg.FisherAccumulator(1).add([[3.0]])).count
        2
        """
        if not isinstance(other, FisherAccumulator):
            raise TypeError("merge needs a FisherAccumulator")
        check(_acc_merge(self._h, other._h))
        return self

    def reset(self) -> FisherAccumulator:
        """Forget every score added.

        Returns
        -------
        FisherAccumulator
            ``self``, with ``count == 0``.

        Raises
        ------
        BergError
            Not raised for a valid accumulator.

        Examples
        --------
        >>> berg.FisherAccumulator(1).add([[1.0]]).reset().count
        0
        """
        check(_acc_reset(self._h))
        return self

    def result(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The estimate and its standard errors.

        Returns
        -------
        I : numpy.ndarray
            ``d x d`` mean of ``s s^T``.
        se : numpy.ndarray or None
            ``d x d`` standard error of each entry (None without stderr tracking).

        Raises
        ------
        SizeError
            No score has been added (or one, for the standard errors).

        Examples
        --------
        >>> I, se = berg.FisherAccumulator(1).add([[1.0], [-1.0], [3.0]]).result()
        >>> float(I[0, 0])
        3.6666666666666665
        """
        d = self.dim
        I = np.empty((d, d))
        se = np.empty((d, d)) if self.stderr else None
        check(_acc_result(self._h, ptr(I), ptr(se)))
        return I, se


# ---- grids ------------------------------------------------------------------
def fisher_location(space: Space, p0: ArrayLike) -> np.ndarray:
    """The Fisher metric of the location family ``p0(y - theta)`` (eq 41, 56).

    ``I_ab = integral (d_a p0)(d_b p0) / p0 Vol_S``, by fourth-order
    differences on the grid.

    Parameters
    ----------
    space : Space
        The grid.
    p0 : array_like
        The noise density, a "measure": finite, >= 0, positive finite mass;
        normalized internally.

    Returns
    -------
    numpy.ndarray
        ``d x d`` Fisher metric.

    Raises
    ------
    MassError
        ``p0`` has zero or non-finite mass.
    NegativeDensityError
        ``p0`` has a negative value.

    Examples
    --------
    >>> sp = berg.Space((256,), -10.0, 10.0)
    >>> y = sp.coordinates(0)
    >>> np.round(berg.fisher_location(sp, np.exp(-y ** 2 / 2)), 4)   # 1 / sigma^2
    array([[1.]])
    """
    p = _lib.as_array(p0, space.shape, "p0")
    d = space.ndim
    out = np.empty((d, d))
    check(_location(space.handle, ptr(p), ptr(out)))
    return out


def fisher_expfam(space: Space, q: ArrayLike, u: ArrayLike, log_h: ArrayLike | None = None
                  ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """An exponential family ``h(y) exp(u.q(y) - psi(u))`` on a grid (eq 5).

    Parameters
    ----------
    space : Space
        The grid.
    q : array_like
        The ``k`` statistics, shape ``(k,) + space.shape``.
    u : array_like
        The ``k`` natural parameters.
    log_h : array_like, optional
        Log base measure on the grid (default ``h = 1``).

    Returns
    -------
    psi : float
        The log-partition function ``psi(u)``.
    mean : numpy.ndarray
        The mean parameters ``E[q]`` (length ``k``).
    I : numpy.ndarray
        The Fisher metric ``Cov(q)`` (``k x k``).
    p : numpy.ndarray
        The normalized density on the grid.

    Raises
    ------
    NonFiniteError
        An input is NaN or infinite, or ``psi`` overflows.
    ValueError
        ``q`` does not hold ``k`` grid arrays.

    Examples
    --------
    >>> sp = berg.Space((256,), -10.0, 10.0)
    >>> y = sp.coordinates(0)
    >>> psi, mean, I, p = berg.fisher_expfam(sp, [y, y ** 2], [0.0, -0.5])   # N(0, 1)
    >>> round(psi, 6), np.round(mean, 6) + 0.0, np.round(I, 4) + 0.0
    (0.918939, array([0., 1.]), array([[1., 0.],
           [0., 2.]]))
    """
    u = np.atleast_1d(_lib.as_array(u, name="u"))
    k = u.size
    q = _lib.as_array(q, name="q").reshape(k, space.size)
    lh = None if log_h is None else _lib.as_array(log_h, space.shape, "log_h")
    psi = ctypes.c_double()
    mean, I, p = np.empty(k), np.empty((k, k)), np.empty(space.shape)
    check(_expfam(space.handle, k, ptr(q), ptr(lh), ptr(u), ctypes.byref(psi), ptr(mean), ptr(I),
                  ptr(p)))
    return psi.value, mean, I, p


def fisher_model(space: Space, u: ArrayLike,
                 loglik: Callable[[np.ndarray, Space], ArrayLike] | None = None,
                 score: Callable[[np.ndarray, Space], tuple[ArrayLike, ArrayLike]] | None = None
                 ) -> np.ndarray:
    """The Fisher metric of a parametric model at ``u`` by quadrature over a grid.

    Give exactly one of ``loglik`` (scores by fourth-order central
    differences in ``u``) and ``score``.

    Parameters
    ----------
    space : Space
        The grid of ``y``.
    u : array_like
        The parameters (length ``k``).
    loglik : callable, optional
        ``loglik(u, space) -> ln p(y | u)`` on the grid.
    score : callable, optional
        ``score(u, space) -> (ln p, s)`` with ``s`` of shape
        ``(k,) + space.shape``.

    Returns
    -------
    numpy.ndarray
        ``k x k`` Fisher metric ``E[s s^T]``.

    Raises
    ------
    ValueError
        Neither or both of ``loglik`` and ``score`` are given.
    CallbackError
        A callback raised (chained).
    NonFiniteError
        A callback returned a NaN or infinite value.

    Examples
    --------
    >>> sp = berg.Space((256,), -10.0, 10.0)
    >>> def loglik(u, space):
    ...     y = space.coordinates(0)
    ...     return -(y - u[0]) ** 2 / 2 - 0.5 * np.log(2 * np.pi)
    >>> np.round(berg.fisher_model(sp, [0.0], loglik=loglik), 6)
    array([[1.]])
    """
    u = np.atleast_1d(_lib.as_array(u, name="u"))
    k, n = u.size, space.size
    cb = _lib.CallbackGuard()
    if (loglik is None) == (score is None):
        raise ValueError("give exactly one of loglik and score")

    def _ll(npar, up, sp, logp, ud):
        uu = np.ctypeslib.as_array(up, shape=(npar,)).copy()
        out = np.ctypeslib.as_array(logp, shape=(n,))
        out[:] = _lib.as_array(loglik(uu, space), name="loglik(u, space)").reshape(n)
        return 0

    def _sc(npar, up, sp, logp, sc, ud):
        uu = np.ctypeslib.as_array(up, shape=(npar,)).copy()
        lp, s = score(uu, space)
        np.ctypeslib.as_array(logp, shape=(n,))[:] = \
            _lib.as_array(lp, name="score(u, space)[0]").reshape(n)
        np.ctypeslib.as_array(sc, shape=(npar * n,))[:] = \
            _lib.as_array(s, name="score(u, space)[1]").reshape(-1)
        return 0

    f_ll = _GRID_LOGLIK(cb.wrap(_ll)) if loglik is not None else _GRID_LOGLIK()
    f_sc = _GRID_SCORE(cb.wrap(_sc)) if score is not None else _GRID_SCORE()
    I = np.empty((k, k))
    cb.check(_model(space.handle, k, ptr(u), ptr(I), f_ll, f_sc, None))
    return I


# ---- location model Y = G(U) + N ----------------------------------------------
def fisher_jacobian(u: ArrayLike, dy: int, G: Callable[[np.ndarray], ArrayLike] | None = None,
                    jac: Callable[[np.ndarray], ArrayLike] | None = None) -> np.ndarray:
    """The Jacobian ``J = dG/du`` of the forward map of ``Y = G(U) + N`` (eq 38, 56).

    ``jac(u)`` when given, else fourth-order central differences of ``G``.

    Parameters
    ----------
    u : array_like
        The point (length ``du``).
    dy : int
        The dimension of ``y``.
    G : callable, optional
        ``G(u) -> y`` (``dy`` values).
    jac : callable, optional
        ``jac(u) -> J`` (``dy x du``).

    Returns
    -------
    numpy.ndarray
        ``J``, shape ``(dy, du)``.

    Raises
    ------
    ValueError
        Neither or both of ``G`` and ``jac`` are given.
    CallbackError
        A callback raised (chained).
    NonFiniteError
        A callback returned a NaN or infinite value.

    Examples
    --------
    >>> berg.fisher_jacobian([1.0, 2.0], 1, G=lambda u: [u[0] * u[1]])
    array([[2., 1.]])
    """
    u = np.atleast_1d(_lib.as_array(u, name="u"))
    du = u.size
    dy = _lib.size_t(dy, "dy")
    cb = _lib.CallbackGuard()
    if (G is None) == (jac is None):
        raise ValueError("give exactly one of G and jac")

    def _g(n_u, up, n_y, yp, ud):
        uu = np.ctypeslib.as_array(up, shape=(n_u,)).copy()
        np.ctypeslib.as_array(yp, shape=(n_y,))[:] = _lib.as_array(G(uu), name="G(u)").reshape(n_y)
        return 0

    def _j(n_u, up, n_y, jp, ud):
        uu = np.ctypeslib.as_array(up, shape=(n_u,)).copy()
        np.ctypeslib.as_array(jp, shape=(n_y * n_u,))[:] = \
            _lib.as_array(jac(uu), name="jac(u)").reshape(-1)
        return 0

    fg = _FORWARD(cb.wrap(_g)) if G is not None else _FORWARD()
    fj = _JACOBIAN(cb.wrap(_j)) if jac is not None else _JACOBIAN()
    J = np.empty((dy, du))
    cb.check(_jacobian(du, dy, ptr(u), ptr(J), fg, fj, None))
    return J


def fisher_parameter_metric(J: ArrayLike, Inoise: ArrayLike) -> np.ndarray:
    """The parameter-space metric ``J^T I_N J`` of ``Y = G(U) + N``.

    Parameters
    ----------
    J : array_like
        The Jacobian ``dG/du``, ``dy x du``.
    Inoise : array_like
        The noise's Fisher metric ``I_N``, ``dy x dy`` symmetric.

    Returns
    -------
    numpy.ndarray
        ``du x du`` metric.

    Raises
    ------
    ValueError
        The shapes disagree.
    NonFiniteError
        An entry is NaN or infinite.

    Examples
    --------
    >>> berg.fisher_parameter_metric([[2.0, 1.0]], [[1.0]])
    array([[4., 2.],
           [2., 1.]])
    """
    J = _matrix(J, "J")
    Inoise = _square(Inoise, "Inoise")
    dy, du = J.shape
    if Inoise.shape[0] != dy:
        raise ValueError(f"Inoise is {Inoise.shape[0]} x {Inoise.shape[0]}, J has {dy} rows")
    out = np.empty((du, du))
    check(_param_metric(dy, du, ptr(J), ptr(Inoise), ptr(out)))
    return out


def fisher_pullback(J: ArrayLike, I: ArrayLike) -> np.ndarray:
    """``K = J I^-1 J^T``: the inverse Fisher metric pushed to data space (eq 56).

    Parameters
    ----------
    J : array_like
        The Jacobian ``dG/du``, ``dy x du``.
    I : array_like
        The parameter Fisher metric, ``du x du`` symmetric positive definite.

    Returns
    -------
    numpy.ndarray
        ``K``, ``dy x dy``.

    Raises
    ------
    NotSPDError
        The matrix is not symmetric positive definite (the message names the eigenvalue).
    ValueError
        The shapes disagree.

    Examples
    --------
    >>> berg.fisher_pullback([[1.0, 0.0]], np.diag([2.0, 4.0]))
    array([[0.5]])
    """
    J = _matrix(J, "J")
    I = _square(I, "I")
    dy, du = J.shape
    if I.shape[0] != du:
        raise ValueError(f"I is {I.shape[0]} x {I.shape[0]}, J has {du} columns")
    out = np.empty((dy, dy))
    check(_pullback(dy, du, ptr(J), ptr(I), ptr(out)))
    return out


# ---- linear algebra --------------------------------------------------------------
def fisher_inverse(I: ArrayLike) -> np.ndarray:
    """The inverse of a Fisher metric, by Cholesky with a condition check.

    Parameters
    ----------
    I : array_like
        ``d x d`` symmetric positive definite.

    Returns
    -------
    numpy.ndarray
        ``I^-1``.

    Raises
    ------
    NotSPDError
        The matrix is not symmetric positive definite (the message names the eigenvalue).
    ValueError
        The matrix is not square.

    Examples
    --------
    >>> np.allclose(berg.fisher_inverse(np.diag([2.0, 4.0])), np.diag([0.5, 0.25]))
    True
    """
    I = _square(I, "I")
    out = np.empty_like(I)
    check(_inverse(I.shape[0], ptr(I), ptr(out)))
    return out


def fisher_eigen(I: ArrayLike, vectors: bool = True) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
    """The eigen-decomposition of a Fisher metric: the sloppy spectrum, stiffest first.

    Parameters
    ----------
    I : array_like
        ``d x d`` symmetric.
    vectors : bool, optional
        Also return the eigenvectors (default True).

    Returns
    -------
    evals : numpy.ndarray
        Eigenvalues in decreasing order.
    evecs : numpy.ndarray
        Eigenvectors as columns (only when ``vectors``).

    Raises
    ------
    ValueError
        The matrix is not square.
    NotSPDError
        ``I`` is not symmetric (the message names the entries).
    InternalError
        LAPACK failed.

    Examples
    --------
    >>> berg.fisher_eigen(np.diag([2.0, 4.0]), vectors=False)
    array([4., 2.])
    """
    I = _square(I, "I")
    d = I.shape[0]
    w = np.empty(d)
    v = np.empty((d, d)) if vectors else None
    check(_eigen(d, ptr(I), ptr(w), ptr(v)))
    return (w, v) if vectors else w


def fisher_condition(I: ArrayLike) -> float:
    """The condition number ``lambda_max / lambda_min`` of a positive definite metric.

    Parameters
    ----------
    I : array_like
        ``d x d`` symmetric positive definite.

    Returns
    -------
    float
        The condition number (>= 1).

    Raises
    ------
    NotSPDError
        The matrix is not symmetric positive definite (the message names the eigenvalue).
    ValueError
        The matrix is not square.

    Examples
    --------
    >>> berg.fisher_condition(np.diag([2.0, 4.0]))
    2.0
    """
    I = _square(I, "I")
    c = ctypes.c_double()
    check(_condition(I.shape[0], ptr(I), ctypes.byref(c)))
    return c.value


def fisher_wick(Iinv: ArrayLike, idx: Sequence[int], T: float = 1.0) -> float:
    """A moment of the large-``T`` posterior by Wick's theorem (eq 43).

    ``E[prod_j (U - u*)_{idx[j]}] = T^{-m/2} sum over pairings of prod Iinv``
    with ``m = len(idx)``: the moments of ``N(u*, Iinv / T)``.

    Parameters
    ----------
    Iinv : array_like
        The inverse Fisher metric, ``d x d`` symmetric.
    idx : sequence of int
        The component of each factor, each ``< d``.
    T : float, optional
        The number of observations (default 1), finite and > 0.

    Returns
    -------
    float
        The moment (0 for an odd number of factors).

    Raises
    ------
    OutOfRangeError
        An index is not below ``d``.
    DomainError
        ``T`` is not finite and > 0.
    ValueError
        The matrix is not square.

    Examples
    --------
    >>> berg.fisher_wick(np.diag([2.0, 4.0]), [0, 0, 1, 1])    # E[U0^2] E[U1^2]
    8.0
    >>> berg.fisher_wick(np.eye(1), [0, 0], T=4.0)
    0.25
    """
    C = _square(Iinv, "Iinv")
    idx = [_lib.size_t(i, "idx entries") for i in np.atleast_1d(idx)] if np.size(idx) else []
    arr = (ctypes.c_size_t * max(len(idx), 1))(*idx)
    out = ctypes.c_double()
    check(_wick(C.shape[0], float(T), len(idx), ptr(C), arr, ctypes.byref(out)))
    return out.value


# ---- Fisher-Rao distances -----------------------------------------------------------
def fisher_rao_gaussian(mu1: float, sigma1: float, mu2: float, sigma2: float) -> float:
    """The Fisher-Rao distance between ``N(mu1, sigma1^2)`` and ``N(mu2, sigma2^2)``.

    Closed form of the hyperbolic geometry of the normal family.

    Parameters
    ----------
    mu1, sigma1 : float
        Mean and standard deviation (> 0) of the first normal.
    mu2, sigma2 : float
        Mean and standard deviation (> 0) of the second normal.

    Returns
    -------
    float
        The distance.

    Raises
    ------
    DomainError
        A standard deviation is not finite and > 0.

    Examples
    --------
    >>> round(berg.fisher_rao_gaussian(0.0, 1.0, 0.0, np.e), 12)   # sqrt(2) ln(sigma2/sigma1)
    1.414213562373
    """
    out = ctypes.c_double()
    check(_rao_gauss(float(mu1), float(sigma1), float(mu2), float(sigma2), ctypes.byref(out)))
    return out.value


def fisher_rao_distance(metric: Callable[[float], float], a: float, b: float) -> float:
    """The Fisher-Rao distance in a one-parameter family.

    ``|integral_a^b sqrt(I(theta)) dtheta|`` by tanh-sinh quadrature.

    Parameters
    ----------
    metric : callable
        ``metric(theta) -> I(theta) >= 0``.
    a, b : float
        The end points.

    Returns
    -------
    float
        The distance.

    Raises
    ------
    CallbackError
        ``metric`` raised (chained).
    DomainError
        ``metric`` returned a negative value.
    NonFiniteError
        ``metric`` returned a NaN or infinite value.
    ConvergenceError
        The quadrature did not converge.

    Examples
    --------
    >>> round(berg.fisher_rao_distance(lambda th: 1 / th ** 2, 1.0, np.e), 12)   # ln e
    1.0
    """
    def _m(theta, out, ud):
        out[0] = float(metric(theta))

    cb = _lib.Callback(_SCALAR_METRIC, _m)
    out = ctypes.c_double()
    cb.check(_rao_dist(float(a), float(b), ctypes.byref(out), cb.c_fn, None))
    return out.value
