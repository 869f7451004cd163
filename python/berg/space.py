"""Sample-space geometry: berg_space (include/berg/space.h)."""
import ctypes
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from . import _lib
from ._lib import c_double_p, c_size_t_p, check, fn, ptr

PERIODIC = _lib.constant("BERG_PERIODIC")
NEUMANN = _lib.constant("BERG_NEUMANN")
DIRICHLET = _lib.constant("BERG_DIRICHLET")
_BC_NAMES = {"periodic": PERIODIC, "neumann": NEUMANN, "dirichlet": DIRICHLET}

_create = fn("berg_space_create", [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, c_size_t_p,
                                   c_double_p, c_double_p, ctypes.POINTER(ctypes.c_int),
                                   c_double_p])
_space_destroy = fn("berg_space_destroy", [ctypes.c_void_p], None)
_size = fn("berg_space_size", [ctypes.c_void_p], ctypes.c_size_t)
_rank = fn("berg_space_rank", [ctypes.c_void_p], ctypes.c_size_t)
_shape = fn("berg_space_shape", [ctypes.c_void_p, c_size_t_p])
_bounds = fn("berg_space_bounds", [ctypes.c_void_p, c_double_p, c_double_p])
_bcs = fn("berg_space_boundaries", [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)])
_spacing = fn("berg_space_spacing", [ctypes.c_void_p, c_double_p])
_metric = fn("berg_space_metric", [ctypes.c_void_p, c_double_p])
_inv_metric = fn("berg_space_inverse_metric", [ctypes.c_void_p, c_double_p])
_volume_factor = fn("berg_space_volume_factor", [ctypes.c_void_p], ctypes.c_double)
_cell_weight = fn("berg_space_cell_weight", [ctypes.c_void_p], ctypes.c_double)
_volume = fn("berg_space_volume", [ctypes.c_void_p], ctypes.c_double)
_coords = fn("berg_space_coordinates", [ctypes.c_void_p, ctypes.c_size_t, c_double_p])
_integrate = fn("berg_space_integrate", [ctypes.c_void_p, c_double_p, c_double_p])
_normalize = fn("berg_space_normalize", [ctypes.c_void_p, c_double_p, c_double_p])
_inner = fn("berg_space_inner_l2", [ctypes.c_void_p, c_double_p, c_double_p, c_double_p])
_project = fn("berg_space_project_tangent", [ctypes.c_void_p, c_double_p, c_double_p])
_clip = fn("berg_space_clip_roundoff", [ctypes.c_void_p, ctypes.c_double, c_double_p,
                                           c_double_p])
_histogram = fn("berg_space_histogram", [ctypes.c_void_p, ctypes.c_size_t, c_double_p, c_double_p,
                                         c_size_t_p])
_moments = fn("berg_space_moments", [ctypes.c_void_p, c_double_p, c_double_p, c_double_p])
_equal = fn("berg_space_equal", [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int)


def _bc_code(b):
    if isinstance(b, str):
        try:
            return _BC_NAMES[b.lower()]
        except KeyError:
            raise ValueError(f"unknown boundary kind {b!r}; use periodic, neumann or dirichlet")
    return int(b)


class Space(_lib.Handle):
    """A gridded box S with per-axis boundary kinds and a constant metric g.

    Grid points are cell centres ``x_i = lower + (i + 1/2) h``; grid arrays
    have shape ``shape`` in C order (numpy's default). Densities are taken
    with respect to ``Vol_S = sqrt(det g) dx`` (docs/conventions.md).

    Parameters
    ----------
    shape : int or sequence of int
        Cells per axis, e.g. ``(256,)`` or ``(64, 64)``; rank 1 to 8.
    lower, upper : float or array_like of float
        Bounds of each axis (a scalar is used for every axis);
        ``upper > lower``.
    bc : str or int or sequence of them, optional
        ``'periodic'``, ``'neumann'`` or ``'dirichlet'`` (or ``PERIODIC``,
        ``NEUMANN``, ``DIRICHLET``) per axis, or one for all; default periodic.
    metric : array_like, optional
        ``d x d`` symmetric positive definite matrix ``g`` (default identity);
        only periodic axes may be coupled.

    Raises
    ------
    ValueError
        An unknown boundary name, or ``bc`` / ``metric`` of the wrong length
        or shape, or a negative cell count.
    SizeError
        A zero cell count.
    DomainError
        ``upper <= lower``, or a rank outside 1..8.
    NonFiniteError
        A bound is NaN or infinite.
    NotSPDError
        ``metric`` is not symmetric positive definite.
    UnsupportedError
        ``metric`` couples a non-periodic axis.

    Examples
    --------
    >>> sp = berg.Space((64,), -5.0, 5.0)
    >>> sp.shape, sp.boundaries
    ((64,), ('periodic',))
    >>> berg.Space((32, 16), (0, 0), (1, 2), bc=("neumann", "periodic")).spacing
    array([0.03125, 0.125  ])
    """

    _destroy = _space_destroy

    def __init__(self, shape: int | Sequence[int], lower: float | ArrayLike,
                 upper: float | ArrayLike, bc: str | int | Sequence[str | int] | None = None,
                 metric: ArrayLike | None = None) -> None:
        shape = tuple(_lib.size_t(n, "shape entries") for n in np.atleast_1d(shape))
        d = len(shape)
        lo = np.ascontiguousarray(np.broadcast_to(_lib.as_array(lower, name="lower"), (d,)))
        hi = np.ascontiguousarray(np.broadcast_to(_lib.as_array(upper, name="upper"), (d,)))
        if bc is None:
            bcs = None
        else:
            if isinstance(bc, (str, int)):
                bc = [bc] * d
            if len(bc) != d:
                raise ValueError(f"bc has {len(bc)} entries for {d} axes")
            bcs = (ctypes.c_int * d)(*[_bc_code(b) for b in bc])
        g = None if metric is None else _lib.as_array(metric, name="metric")
        if g is not None and g.shape != (d, d):
            raise ValueError(f"metric has shape {g.shape}, expected {(d, d)}")
        n = (ctypes.c_size_t * d)(*shape)
        handle = ctypes.c_void_p()
        check(_create(ctypes.byref(handle), d, n, ptr(lo), ptr(hi), bcs, ptr(g)))
        self._h = handle

    @property
    def ndim(self) -> int:
        """The rank d of the space (number of axes).

        Examples
        --------
        >>> berg.Space((8, 4), 0, 1).ndim
        2
        """
        return _rank(self._h)

    @property
    def size(self) -> int:
        """The number of grid cells, the product of ``shape``.

        Examples
        --------
        >>> berg.Space((8, 4), 0, 1).size
        32
        """
        return _size(self._h)

    @property
    def shape(self) -> tuple[int, ...]:
        """Cells per axis: the shape of every grid array.

        Examples
        --------
        >>> berg.Space((8, 4), 0, 1).shape
        (8, 4)
        """
        n = (ctypes.c_size_t * self.ndim)()
        check(_shape(self._h, n))
        return tuple(int(v) for v in n)

    @property
    def lower(self) -> np.ndarray:
        """Lower bound of each axis (float64 array of length ndim).

        Examples
        --------
        >>> berg.Space((8,), -1, 1).lower
        array([-1.])
        """
        lo, hi = np.empty(self.ndim), np.empty(self.ndim)
        check(_bounds(self._h, ptr(lo), ptr(hi)))
        return lo

    @property
    def upper(self) -> np.ndarray:
        """Upper bound of each axis (float64 array of length ndim).

        Examples
        --------
        >>> berg.Space((8,), -1, 1).upper
        array([1.])
        """
        lo, hi = np.empty(self.ndim), np.empty(self.ndim)
        check(_bounds(self._h, ptr(lo), ptr(hi)))
        return hi

    @property
    def boundaries(self) -> tuple[str, ...]:
        """Boundary kind of each axis: ``'periodic'``, ``'neumann'`` or ``'dirichlet'``.

        Examples
        --------
        >>> berg.Space((8,), 0, 1, bc='dirichlet').boundaries
        ('dirichlet',)
        """
        b = (ctypes.c_int * self.ndim)()
        check(_bcs(self._h, b))
        names = {v: k for k, v in _BC_NAMES.items()}
        return tuple(names[int(v)] for v in b)

    @property
    def spacing(self) -> np.ndarray:
        """Cell width ``h = (upper - lower) / shape`` of each axis.

        Examples
        --------
        >>> berg.Space((4,), 0, 1).spacing
        array([0.25])
        """
        h = np.empty(self.ndim)
        check(_spacing(self._h, ptr(h)))
        return h

    @property
    def metric(self) -> np.ndarray:
        """The metric ``g`` (``ndim x ndim`` float64 array).

        Examples
        --------
        >>> berg.Space((4, 4), 0, 1).metric
        array([[1., 0.],
               [0., 1.]])
        """
        g = np.empty((self.ndim, self.ndim))
        check(_metric(self._h, ptr(g)))
        return g

    @property
    def inverse_metric(self) -> np.ndarray:
        """The inverse metric ``g^-1`` (``ndim x ndim`` float64 array).

        Examples
        --------
        >>> berg.Space((4,), 0, 1, metric=[[4.0]]).inverse_metric
        array([[0.25]])
        """
        g = np.empty((self.ndim, self.ndim))
        check(_inv_metric(self._h, ptr(g)))
        return g

    @property
    def volume_factor(self) -> float:
        """``sqrt(det g)``, the density of ``Vol_S`` with respect to ``dx``.

        Examples
        --------
        >>> berg.Space((4,), 0, 1, metric=[[4.0]]).volume_factor
        2.0
        """
        return _volume_factor(self._h)

    @property
    def cell_weight(self) -> float:
        """The cell weight ``w = sqrt(det g) prod h``: ``integrate(f) = w * sum(f)``.

        Examples
        --------
        >>> berg.Space((4,), 0, 1).cell_weight
        0.25
        """
        return _cell_weight(self._h)

    @property
    def volume(self) -> float:
        """The volume ``sqrt(det g) prod (upper - lower)`` of the box.

        Examples
        --------
        >>> berg.Space((4, 4), 0, 2).volume
        4.0
        """
        return _volume(self._h)

    def coordinates(self, axis: int) -> np.ndarray:
        """Cell-centre coordinates of one axis.

        Parameters
        ----------
        axis : int
            The axis, ``0 <= axis < ndim``.

        Returns
        -------
        numpy.ndarray
            ``lower[axis] + (i + 1/2) spacing[axis]`` for ``i < shape[axis]``.

        Raises
        ------
        IndexError
            ``axis`` is out of range.

        Examples
        --------
        >>> berg.Space((4,), 0, 1).coordinates(0)
        array([0.125, 0.375, 0.625, 0.875])
        """
        if not 0 <= axis < self.ndim:
            raise IndexError(f"axis {axis} out of range for a rank-{self.ndim} space")
        x = np.empty(self.shape[axis])
        check(_coords(self._h, axis, ptr(x)))
        return x

    def grid(self) -> list[np.ndarray]:
        """Coordinate arrays of every axis broadcast to the grid (``np.meshgrid``, ij).

        Returns
        -------
        list of numpy.ndarray
            ``ndim`` arrays of shape ``shape``; the ``a``-th holds the coordinate of
            axis ``a`` at each cell centre.

        Raises
        ------
        BergError
            Not raised for a valid Space (the coordinates are queries).

        Examples
        --------
        >>> x, y = berg.Space((2, 3), 0, 1).grid()
        >>> x.shape, float(y[0, 2])
        ((2, 3), 0.8333333333333333)
        """
        return np.meshgrid(*[self.coordinates(a) for a in range(self.ndim)], indexing="ij")

    def __eq__(self, other):
        return isinstance(other, Space) and bool(_equal(self._h, other._h))

    __hash__ = None

    def _arr(self, f, name):
        return _lib.as_array(f, self.shape, name)

    def integrate(self, f: ArrayLike) -> float:
        """The integral ``sum_i f_i w`` of a grid function over S (eq 12).

        Parameters
        ----------
        f : array_like
            A "state": any finite values on the grid, shape ``shape`` (or flat).

        Returns
        -------
        float
            The integral with the cell weight ``w`` (midpoint rule).

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinite value.
        TypeError
            ``f`` is complex.
        ValueError
            ``f`` has the wrong shape.

        Examples
        --------
        >>> sp = berg.Space((100,), 0.0, 2.0)
        >>> round(sp.integrate(np.ones(100)), 12)
        2.0
        """
        f = self._arr(f, "f")
        out = ctypes.c_double()
        check(_integrate(self._h, ptr(f), ctypes.byref(out)))
        return out.value

    def normalize(self, p: ArrayLike) -> tuple[np.ndarray, float]:
        """A "measure" divided by its mass: ``(p / mass, mass)``.

        Parameters
        ----------
        p : array_like
            A "measure": finite, >= 0, positive finite mass; not modified.

        Returns
        -------
        q : numpy.ndarray
            ``p / mass``, a density (mass 1), in the shape of ``p``.
        mass : float
            ``integrate(p)``.

        Raises
        ------
        NegativeDensityError
            ``p`` has a negative value.
        NonFiniteError
            ``p`` has a NaN or infinite value.
        MassError
            The mass of ``p`` is zero or not finite.
        TypeError
            ``p`` is complex.

        Examples
        --------
        >>> sp = berg.Space((10,), 0.0, 1.0)
        >>> q, mass = sp.normalize(np.full(10, 3.0))
        >>> mass, round(sp.integrate(q), 12)
        (3.0, 1.0)
        """
        q = np.array(self._arr(p, "p"), dtype=np.float64, copy=True).reshape(np.shape(p))
        mass = ctypes.c_double()
        check(_normalize(self._h, ptr(q), ctypes.byref(mass)))
        return q, mass.value

    def inner_l2(self, f: ArrayLike, g: ArrayLike) -> float:
        """The l2 metric ``G_l2(f, g) = integral f g Vol_S`` (eq 15).

        Parameters
        ----------
        f, g : array_like
            "States" on the grid (any finite values), shape ``shape``.

        Returns
        -------
        float
            ``w * sum(f * g)``.

        Raises
        ------
        NonFiniteError
            ``f`` or ``g`` has a NaN or infinite value.
        TypeError
            ``f`` or ``g`` is complex.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 1.0)
        >>> sp.inner_l2([1, 2, 3, 4], [1, 1, 1, 1])
        2.5
        """
        f, g = self._arr(f, "f"), self._arr(g, "g")
        out = ctypes.c_double()
        check(_inner(self._h, ptr(f), ptr(g), ctypes.byref(out)))
        return out.value

    def project_tangent(self, f: ArrayLike) -> np.ndarray:
        """``f`` minus its mean: a tangent vector of the densities (eq 13).

        Parameters
        ----------
        f : array_like
            A "state" (any finite values), shape ``shape`` or flat.

        Returns
        -------
        numpy.ndarray
            ``f - integrate(f) / volume``, of integral zero, in the shape of ``f``.

        Raises
        ------
        NonFiniteError
            ``f`` has a NaN or infinite value.
        TypeError
            ``f`` is complex.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 1.0)
        >>> sp.project_tangent([1.0, 2.0, 3.0, 6.0])
        array([-2., -1.,  0.,  3.])
        """
        out = _lib.out_array(None, self.shape, like=f)
        f = self._arr(f, "f")
        check(_project(self._h, ptr(f), ptr(out)))
        return out

    def clip_roundoff(self, p: ArrayLike, rtol: float = 1e-12) -> tuple[np.ndarray, float]:
        """Set round-off negatives of a near-density to zero.

        Spectral propagators leave values of order 1e-16 of the peak, of either
        sign, in the tails; the density functions refuse negative values. Values
        ``>= -rtol * max|p|`` below zero become 0; ``p`` is not modified.

        Parameters
        ----------
        p : array_like
            A "state" that should be a density up to round-off.
        rtol : float, optional
            Relative size of the negatives treated as round-off (default 1e-12).

        Returns
        -------
        q : numpy.ndarray
            ``p`` with the clipped values, in the shape of ``p``.
        removed : float
            The mass the clipping added (``integrate(q - p)``).

        Raises
        ------
        NegativeDensityError
            A value is below ``-rtol * max|p|``.
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 1.0)
        >>> q, removed = sp.clip_roundoff([1.0, -1e-17, 2.0, 1.0])
        >>> q
        array([1., 0., 2., 1.])
        """
        q = np.array(self._arr(p, "p"), dtype=np.float64, copy=True).reshape(np.shape(p))
        removed = ctypes.c_double()
        check(_clip(self._h, float(rtol), ptr(q), ctypes.byref(removed)))
        return q, removed.value

    def histogram(self, x: ArrayLike) -> tuple[np.ndarray, int]:
        """The density histogram of points on the cells; periodic axes wrap.

        Parameters
        ----------
        x : array_like
            Points, shape ``(count, ndim)`` (or flat of ``count * ndim`` values).

        Returns
        -------
        density : numpy.ndarray
            ``(points in the cell) / (count * cell_weight)``, shape ``shape``:
            it integrates to the fraction of the points inside the box.
        outside : int
            Points outside the box along a non-periodic axis (not counted).

        Raises
        ------
        ValueError
            The number of values in ``x`` is not a multiple of ``ndim``.
        NonFiniteError
            ``x`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 1.0, bc="neumann")
        >>> density, outside = sp.histogram([[0.1], [0.3], [0.35], [1.5]])
        >>> density, outside
        (array([1., 2., 0., 0.]), 1)
        """
        d = self.ndim
        x = _lib.as_array(x, name="x")
        if x.size % d != 0:
            raise ValueError(f"x has {x.size} values, not a multiple of ndim = {d}")
        out = np.empty(self.shape)
        outside = ctypes.c_size_t()
        check(_histogram(self._h, x.size // d, ptr(x), ptr(out), ctypes.byref(outside)))
        return out, outside.value

    def moments(self, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of a "measure" in box coordinates of the cell centres.

        Parameters
        ----------
        p : array_like
            A "measure": finite, >= 0, positive finite mass; normalized internally.

        Returns
        -------
        mean : numpy.ndarray
            Length ``ndim``.
        covariance : numpy.ndarray
            ``ndim x ndim``.

        Raises
        ------
        NegativeDensityError
            ``p`` has a negative value.
        MassError
            The mass of ``p`` is zero or not finite.
        NonFiniteError
            ``p`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((4,), 0.0, 4.0)
        >>> m, c = sp.moments([0.0, 1.0, 1.0, 0.0])
        >>> m, c
        (array([2.]), array([[0.25]]))
        """
        p = self._arr(p, "p")
        d = self.ndim
        m, c = np.empty(d), np.empty((d, d))
        check(_moments(self._h, ptr(p), ptr(m), ptr(c)))
        return m, c

    def mean(self, p: ArrayLike) -> np.ndarray:
        """The mean of a "measure" (the first result of :meth:`moments`).

        Parameters
        ----------
        p : array_like
            A "measure": finite, >= 0, positive finite mass.

        Returns
        -------
        numpy.ndarray
            The mean, length ``ndim``.

        Raises
        ------
        MassError
            The mass of ``p`` is zero or not finite.
        NegativeDensityError
            ``p`` has a negative value.

        Examples
        --------
        >>> berg.Space((4,), 0.0, 4.0).mean([0, 0, 1, 0])
        array([2.5])
        """
        return self.moments(p)[0]

    def covariance(self, p: ArrayLike) -> np.ndarray:
        """The covariance of a "measure" (the second result of :meth:`moments`).

        Parameters
        ----------
        p : array_like
            A "measure": finite, >= 0, positive finite mass.

        Returns
        -------
        numpy.ndarray
            The covariance, ``ndim x ndim``.

        Raises
        ------
        MassError
            The mass of ``p`` is zero or not finite.
        NegativeDensityError
            ``p`` has a negative value.

        Examples
        --------
        >>> berg.Space((2,), 0.0, 2.0).covariance([1, 1])
        array([[0.25]])
        """
        return self.moments(p)[1]

    def __repr__(self):
        return (f"Space(shape={self.shape}, lower={list(self.lower)}, upper={list(self.upper)}, "
                f"bc={list(self.boundaries)})")
