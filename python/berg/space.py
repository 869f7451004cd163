"""Sample-space geometry: berg_space (include/berg/space.h)."""
import ctypes

import numpy as np

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

    Space(shape, lower, upper, bc=None, metric=None)
      shape   cells per axis, e.g. (256,) or (64, 64)
      lower, upper  bounds per axis (scalars are broadcast)
      bc      'periodic' | 'neumann' | 'dirichlet' per axis (or one for all);
              default periodic
      metric  d x d SPD matrix (default identity)
    Grid arrays have shape `shape`, C order; grid points are cell centres.
    """

    _destroy = _space_destroy

    def __init__(self, shape, lower, upper, bc=None, metric=None):
        shape = tuple(_lib.size_t(n, "shape entries") for n in np.atleast_1d(shape))
        d = len(shape)
        lo = np.ascontiguousarray(np.broadcast_to(np.asarray(lower, dtype=float), (d,)))
        hi = np.ascontiguousarray(np.broadcast_to(np.asarray(upper, dtype=float), (d,)))
        if bc is None:
            bcs = None
        else:
            if isinstance(bc, (str, int)):
                bc = [bc] * d
            if len(bc) != d:
                raise ValueError(f"bc has {len(bc)} entries for {d} axes")
            bcs = (ctypes.c_int * d)(*[_bc_code(b) for b in bc])
        g = None if metric is None else np.ascontiguousarray(metric, dtype=float)
        if g is not None and g.shape != (d, d):
            raise ValueError(f"metric has shape {g.shape}, expected {(d, d)}")
        n = (ctypes.c_size_t * d)(*shape)
        handle = ctypes.c_void_p()
        check(_create(ctypes.byref(handle), d, n, ptr(lo), ptr(hi), bcs, ptr(g)))
        self._h = handle

    @property
    def ndim(self):
        return _rank(self._h)

    @property
    def size(self):
        return _size(self._h)

    @property
    def shape(self):
        n = (ctypes.c_size_t * self.ndim)()
        check(_shape(self._h, n))
        return tuple(int(v) for v in n)

    @property
    def lower(self):
        lo, hi = np.empty(self.ndim), np.empty(self.ndim)
        check(_bounds(self._h, ptr(lo), ptr(hi)))
        return lo

    @property
    def upper(self):
        lo, hi = np.empty(self.ndim), np.empty(self.ndim)
        check(_bounds(self._h, ptr(lo), ptr(hi)))
        return hi

    @property
    def boundaries(self):
        b = (ctypes.c_int * self.ndim)()
        check(_bcs(self._h, b))
        names = {v: k for k, v in _BC_NAMES.items()}
        return tuple(names[int(v)] for v in b)

    @property
    def spacing(self):
        h = np.empty(self.ndim)
        check(_spacing(self._h, ptr(h)))
        return h

    @property
    def metric(self):
        g = np.empty((self.ndim, self.ndim))
        check(_metric(self._h, ptr(g)))
        return g

    @property
    def inverse_metric(self):
        g = np.empty((self.ndim, self.ndim))
        check(_inv_metric(self._h, ptr(g)))
        return g

    @property
    def volume_factor(self):
        """sqrt(det g)."""
        return _volume_factor(self._h)

    @property
    def cell_weight(self):
        """w = sqrt(det g) prod h."""
        return _cell_weight(self._h)

    @property
    def volume(self):
        """sqrt(det g) prod (upper - lower)."""
        return _volume(self._h)

    def coordinates(self, axis):
        """Cell-centre coordinates of one axis."""
        if not 0 <= axis < self.ndim:
            raise IndexError(f"axis {axis} out of range for a rank-{self.ndim} space")
        x = np.empty(self.shape[axis])
        check(_coords(self._h, axis, ptr(x)))
        return x

    def grid(self):
        """Coordinate arrays of every axis, broadcast to the grid (like np.meshgrid, ij)."""
        return np.meshgrid(*[self.coordinates(a) for a in range(self.ndim)], indexing="ij")

    def __eq__(self, other):
        return isinstance(other, Space) and bool(_equal(self._h, other._h))

    __hash__ = None

    def _arr(self, f, name):
        return _lib.as_array(f, self.shape, name)

    def integrate(self, f):
        """Integral of f over S (w * sum f)."""
        f = self._arr(f, "f")
        out = ctypes.c_double()
        check(_integrate(self._h, ptr(f), ctypes.byref(out)))
        return out.value

    def normalize(self, p):
        """Return (p / mass, mass); p itself is not modified."""
        q = np.array(self._arr(p, "p"), dtype=np.float64, copy=True).reshape(np.shape(p))
        mass = ctypes.c_double()
        check(_normalize(self._h, ptr(q), ctypes.byref(mass)))
        return q, mass.value

    def inner_l2(self, f, g):
        """G_l2(f, g) = integral f g Vol_S."""
        f, g = self._arr(f, "f"), self._arr(g, "g")
        out = ctypes.c_double()
        check(_inner(self._h, ptr(f), ptr(g), ctypes.byref(out)))
        return out.value

    def project_tangent(self, f):
        """f minus its mean: a tangent vector (integral zero)."""
        out = _lib.out_array(None, self.shape, like=f)
        f = self._arr(f, "f")
        check(_project(self._h, ptr(f), ptr(out)))
        return out

    def clip_roundoff(self, p, rtol=1e-12):
        """Return (p with round-off negatives >= -rtol*max|p| set to 0, mass removed).

        Spectral propagators leave values of order 1e-16 of the peak, of
        either sign, in the tails; density functions refuse negative values.
        Larger negative values raise NegativeDensityError."""
        q = np.array(self._arr(p, "p"), dtype=np.float64, copy=True).reshape(np.shape(p))
        removed = ctypes.c_double()
        check(_clip(self._h, float(rtol), ptr(q), ctypes.byref(removed)))
        return q, removed.value

    def histogram(self, x):
        """(density histogram of points x, shape (count, ndim), on the cells,
        number of points outside the box); periodic axes wrap."""
        d = self.ndim
        x = _lib.as_array(x, name="x")
        if x.size % d != 0:
            raise ValueError(f"x has {x.size} values, not a multiple of ndim = {d}")
        out = np.empty(self.shape)
        outside = ctypes.c_size_t()
        check(_histogram(self._h, x.size // d, ptr(x), ptr(out), ctypes.byref(outside)))
        return out, outside.value

    def moments(self, p):
        """(mean, covariance) of a density (need not be normalized)."""
        p = self._arr(p, "p")
        d = self.ndim
        m, c = np.empty(d), np.empty((d, d))
        check(_moments(self._h, ptr(p), ptr(m), ptr(c)))
        return m, c

    def mean(self, p):
        return self.moments(p)[0]

    def covariance(self, p):
        return self.moments(p)[1]

    def __repr__(self):
        return (f"Space(shape={self.shape}, lower={list(self.lower)}, upper={list(self.upper)}, "
                f"bc={list(self.boundaries)})")
