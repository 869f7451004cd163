"""Heat semigroup, Fourier multipliers, regulators, Gaussian random fields,
the information of a heat channel and FFTW wisdom: the bindings of
include/berg/heat.h.

    heat = Heat(space)                 # e^{t Delta_g}, spectral (FFTW)
    q = heat(p, t)                     # or heat.apply(p, t, out=...)
    qs = heat.apply_times(p, [0.1, 0.2, 0.4])   # one forward transform
    m = Multiplier(space, lambda k: k @ k)      # symbol c(k), evaluated once
    m.apply(f); m.exp_apply(f, t); m.random_field(seed=1)
    heat.channel_information(p, t)     # I(X_0; X_t) of the heat channel

Handles are immutable after creation: one Heat or Multiplier may be applied
from several threads at once (see docs/propagator.md).
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import c_double_p, check, fn, ptr

__all__ = ["Heat", "Multiplier", "regulator_value", "wisdom_export", "wisdom_import",
           "wisdom_export_file", "wisdom_import_file", "PLAN_ESTIMATE", "SYMBOL_FD",
           "REGULATOR_SHARP", "REGULATOR_EXPONENTIAL", "REGULATOR_LITIM",
           "REGULATOR_EXPONENTIAL_DOT", "REGULATOR_LITIM_DOT"]

PLAN_ESTIMATE = _lib.constant("BERG_PLAN_ESTIMATE")
SYMBOL_FD = _lib.constant("BERG_SYMBOL_FD")
REGULATOR_SHARP = _lib.constant("BERG_REGULATOR_SHARP")
REGULATOR_EXPONENTIAL = _lib.constant("BERG_REGULATOR_EXPONENTIAL")
REGULATOR_LITIM = _lib.constant("BERG_REGULATOR_LITIM")
REGULATOR_EXPONENTIAL_DOT = _lib.constant("BERG_REGULATOR_EXPONENTIAL_DOT")
REGULATOR_LITIM_DOT = _lib.constant("BERG_REGULATOR_LITIM_DOT")
_REG_NAMES = {"sharp": REGULATOR_SHARP, "exponential": REGULATOR_EXPONENTIAL,
              "litim": REGULATOR_LITIM, "exponential_dot": REGULATOR_EXPONENTIAL_DOT,
              "litim_dot": REGULATOR_LITIM_DOT}

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_SYMBOL = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)

_heat_create = fn("berg_heat_create_ex", [ctypes.POINTER(_vp), _vp, _sz, _sz, ctypes.c_uint])
_heat_apply = fn("berg_heat_apply", [_vp, ctypes.c_double, c_double_p, c_double_p])
_heat_apply_batch = fn("berg_heat_apply_batch", [_vp, ctypes.c_double, _sz, c_double_p,
                                                 c_double_p])
_heat_apply_times = fn("berg_heat_apply_times", [_vp, _sz, c_double_p, c_double_p, c_double_p])
_heat_destroy = fn("berg_heat_destroy", [_vp], None)
_heat_info = fn("berg_heat_channel_information", [_vp, ctypes.c_double, c_double_p,
                                                  ctypes.POINTER(ctypes.c_double)])

_mult_create = fn("berg_multiplier_create_ex", [ctypes.POINTER(_vp), _vp, _sz, ctypes.c_uint,
                                                _SYMBOL, _vp])
_mult_radial = fn("berg_multiplier_create_radial", [ctypes.POINTER(_vp), _vp, _sz, c_double_p,
                                                    c_double_p, ctypes.c_uint])
_mult_regulator = fn("berg_multiplier_create_regulator", [ctypes.POINTER(_vp), _vp, ctypes.c_int,
                                                          ctypes.c_double, ctypes.c_uint])
_mult_apply = fn("berg_multiplier_apply", [_vp, c_double_p, c_double_p])
_mult_exp_apply = fn("berg_multiplier_exp_apply", [_vp, ctypes.c_double, c_double_p, c_double_p])
_mult_field = fn("berg_multiplier_random_field", [_vp, ctypes.c_ulonglong, ctypes.c_ulonglong,
                                                  c_double_p])
_mult_destroy = fn("berg_multiplier_destroy", [_vp], None)
_reg_value = fn("berg_regulator_value", [ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                         c_double_p])

_w_export = fn("berg_wisdom_export_string", [ctypes.POINTER(_vp)])
_w_import = fn("berg_wisdom_import_string", [ctypes.c_char_p])
_w_export_file = fn("berg_wisdom_export_file", [ctypes.c_char_p])
_w_import_file = fn("berg_wisdom_import_file", [ctypes.c_char_p])
_free = fn("berg_free", [_vp], None)


def _flags(estimate, fd):
    return (PLAN_ESTIMATE if estimate else 0) | (SYMBOL_FD if fd else 0)


def _space_arg(space):
    if not hasattr(space, "handle"):
        raise TypeError("space must be a berg.Space")
    return space.handle


class Heat(_lib.Handle):
    """The heat semigroup e^{t Delta_g} on a Space (d/dt p = g^{ab} d_a d_b p).

    Heat(space, batch=1, threads=1, estimate=False, fd=False)
      batch     arrays per call (one FFTW plan transforms them together);
                arrays then have shape (batch,) + space.shape
      threads   FFTW threads of this handle
      estimate  FFTW_ESTIMATE planning (fast creation) instead of MEASURE
      fd        exact semigroup of the second-order finite-difference
                Laplacian (positivity preserving) instead of the continuum
                symbol
    """

    _destroy = _heat_destroy

    def __init__(self, space, batch=1, threads=1, estimate=False, fd=False):
        self.space = space  # keeps the Space alive for .shape queries
        batch = _lib.size_t(batch, "batch")
        h = _vp()
        check(_heat_create(ctypes.byref(h), _space_arg(space), batch,
                           _lib.size_t(threads, "threads"), _flags(estimate, fd)))
        self._h = h
        self.batch = batch
        self.shape = tuple(space.shape) if self.batch == 1 else (self.batch,) + tuple(space.shape)

    def apply(self, p, t, out=None):
        """e^{t Delta_g} p. out (optional) may be p itself (in place)."""
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        if self.batch == 1:
            check(_heat_apply(self._h, float(t), ptr(p), ptr(out)))
        else:
            check(_heat_apply_batch(self._h, float(t), self.batch, ptr(p), ptr(out)))
        return out

    __call__ = apply

    def apply_times(self, p, times, out=None):
        """e^{t_j Delta_g} p for every t_j, from one forward transform:
        an array of shape (len(times),) + p.shape."""
        p = _lib.as_array(p, self.shape, "p")
        ts = np.ascontiguousarray(np.atleast_1d(np.asarray(times, dtype=np.float64)))
        if ts.ndim != 1:
            raise ValueError("times must be a 1-D sequence")
        out = _lib.out_array(out, (ts.size,) + self.shape)
        check(_heat_apply_times(self._h, ts.size, ptr(ts), ptr(p), ptr(out)))
        return out

    def channel_information(self, p, t):
        """I(X_0; X_t) in nats for X_0 ~ p (a density) and X_t = X_0
        diffused by this handle's e^{t Delta_g} (its fd flag applies); the
        handle must have batch 1 and no Dirichlet axis."""
        p = _lib.as_array(p, self.shape, "p")
        v = ctypes.c_double()
        check(_heat_info(self._h, float(t), ptr(p), ctypes.byref(v)))
        return v.value


class _Symbol(_lib.Callback):
    """A Python symbol f(k) -> float as a C berg_symbol_fn (see _lib.Callback)."""

    def __init__(self, f):
        def body(ndim, k, c, _ud):
            c[0] = float(f(np.ctypeslib.as_array(k, shape=(ndim,)).copy()))

        super().__init__(_SYMBOL, body)


class Multiplier(_lib.Handle):
    """A Fourier multiplier with symbol c(k) on a Space.

    Multiplier(space, symbol, threads=1, estimate=False, fd=False)
      symbol(k) -> float, k the wave vector (numpy array of length d) of one
      grid mode; evaluated once per mode at creation. It must be even
      (c(-k) = c(k)), e.g. any function of |k|_g.
    Multiplier.radial(space, kp, cp) and Multiplier.regulator(space, kind,
    lam) build the common ones. Methods: apply (f -> c f), exp_apply
    (f -> e^{-t c} f, c >= 0), random_field (Gaussian field with spectrum c).
    """

    _destroy = _mult_destroy

    def __init__(self, space, symbol, threads=1, estimate=False, fd=False, _handle=None):
        self.space = space
        self.shape = tuple(space.shape)
        if _handle is not None:
            self._h = _handle
            return
        if not callable(symbol):
            raise TypeError("symbol must be callable: symbol(k) -> float")
        cb = _Symbol(symbol)
        h = _vp()
        cb.check(_mult_create(ctypes.byref(h), _space_arg(space), _lib.size_t(threads, "threads"),
                              _flags(estimate, fd), cb.c_fn, None))
        self._h = h

    @classmethod
    def radial(cls, space, kp, cp, estimate=False, fd=False):
        """Symbol c(|k|_g) interpolated linearly in the table (kp, cp),
        constant beyond its ends."""
        kp = _lib.as_array(kp, name="kp").ravel()
        cp = _lib.as_array(cp, name="cp").ravel()
        if kp.size != cp.size:
            raise ValueError(f"kp has {kp.size} entries, cp has {cp.size}")
        h = _vp()
        check(_mult_radial(ctypes.byref(h), _space_arg(space), kp.size, ptr(kp), ptr(cp),
                           _flags(estimate, fd)))
        return cls(space, None, _handle=h)

    @classmethod
    def regulator(cls, space, kind, lam, estimate=False, fd=False):
        """A built-in Wegner-Morris regulator of |k|_g at scale lam: kind is
        'sharp', 'exponential', 'litim', 'exponential_dot', 'litim_dot' (or
        the REGULATOR_* value)."""
        h = _vp()
        check(_mult_regulator(ctypes.byref(h), _space_arg(space), _reg_kind(kind), float(lam),
                              _flags(estimate, fd)))
        return cls(space, None, _handle=h)

    def apply(self, f, out=None):
        """c(k) applied mode by mode to f."""
        out = _lib.out_array(out, self.shape, like=f)
        f = _lib.as_array(f, self.shape, "f")
        check(_mult_apply(self._h, ptr(f), ptr(out)))
        return out

    __call__ = apply

    def exp_apply(self, f, t, out=None):
        """e^{-t c(k)} applied to f (c must be >= 0 on every mode)."""
        out = _lib.out_array(out, self.shape, like=f)
        f = _lib.as_array(f, self.shape, "f")
        check(_mult_exp_apply(self._h, float(t), ptr(f), ptr(out)))
        return out

    def random_field(self, seed, stream=0, out=None):
        """A Gaussian random field with spectrum c(k) (>= 0), reproducible
        from (seed, stream); see berg_multiplier_random_field."""
        out = _lib.out_array(out, self.shape)
        check(_mult_field(self._h, int(seed), int(stream), ptr(out)))
        return out


def _reg_kind(kind):
    if isinstance(kind, str):
        try:
            return _REG_NAMES[kind.lower()]
        except KeyError:
            raise ValueError(f"unknown regulator {kind!r}; use one of {sorted(_REG_NAMES)}")
    return int(kind)


def regulator_value(kind, lam, k):
    """The regulator's value at |k| = k (scalar)."""
    v = ctypes.c_double()
    check(_reg_value(_reg_kind(kind), float(lam), float(k), ctypes.byref(v)))
    return v.value


def wisdom_export():
    """FFTW's accumulated wisdom as a string."""
    p = _vp()
    check(_w_export(ctypes.byref(p)))
    try:
        return ctypes.string_at(p.value).decode()
    finally:
        _free(p)


def wisdom_import(wisdom):
    """Add FFTW wisdom from a string (ParseError if it is not wisdom)."""
    check(_w_import(wisdom.encode() if isinstance(wisdom, str) else bytes(wisdom)))


def wisdom_export_file(path):
    check(_w_export_file(str(path).encode()))


def wisdom_import_file(path):
    check(_w_import_file(str(path).encode()))
