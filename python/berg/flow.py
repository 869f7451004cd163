"""Fokker-Planck / Wegner-Morris flows, the exact spectral propagator,
particle ensembles and the lattice-field Langevin flow: the bindings of
berg/fokker_planck.h and berg/stochastic.h (docs/fokker_planck.md).

    fp = FokkerPlanck(space, V)        # d/dt p = div(g^{-1}(grad p + p grad V))
    fp = FokkerPlanck(space, V, discretization="fourier")  # spectral, periodic boxes
    pt = fp.evolve(p, t)               # adaptive, tolerance fp.tolerance
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
import ctypes

import numpy as np

from . import _lib
from ._lib import c_double_p, check, fn, ptr
from .propagator import _SYMBOL, _Symbol, _reg_kind

__all__ = ["FokkerPlanck", "FPSpectral", "Particles", "Langevin", "particle_histogram",
           "FP_FOURIER"]

FP_FOURIER = _lib.constant("BERG_FP_FOURIER")

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_GRAD = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)
_AGRAD = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)

_fp_create = fn("berg_fp_create", [ctypes.POINTER(_vp), _vp, c_double_p, ctypes.c_uint])
_fp_evolve = fn("berg_fp_evolve", [_vp, ctypes.c_double, c_double_p, c_double_p])
_fp_stationary = fn("berg_fp_stationary", [_vp, c_double_p])
_fp_destroy = fn("berg_fp_destroy", [_vp], None)
_fp_set_tol = fn("berg_fp_set_tolerance", [_vp, ctypes.c_double])
_fp_steps = fn("berg_fp_last_steps", [_vp, ctypes.POINTER(_sz), ctypes.POINTER(_sz)])
_fp_gen = fn("berg_fp_generator_apply", [_vp, c_double_p, c_double_p])
_fp_back = fn("berg_fp_backward_apply", [_vp, c_double_p, c_double_p])
_fp_velocity = fn("berg_fp_velocity", [_vp, c_double_p, c_double_p])
_fp_scheme = fn("berg_fp_scheme", [_vp, c_double_p, c_double_p])
_sp_create = fn("berg_fp_spectral_create", [ctypes.POINTER(_vp), _vp])
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
        gg = np.asarray(grad(xx), dtype=np.float64).reshape(ndim)
        np.ctypeslib.as_array(g, shape=(ndim,))[:] = gg

    return _lib.Callback(_GRAD, body)


class FokkerPlanck(_lib.Handle):
    """The Fokker-Planck / ERG flow towards q = e^{-V}/Z on a Space.

    FokkerPlanck(space, V, discretization="finite_volume"): V on the grid
    (shape space.shape), finite. The space's metric is the inverse diffusion
    tensor.
      "finite_volume" (default): Scharfetter-Gummel finite volumes (exact
        stationary state, mass, positivity; second order in space; any
        boundary kind; diagonal metrics), adaptive extrapolated
        implicit-Euler time stepping.
      "fourier": the pseudo-spectral discretization (BERG_FP_FOURIER):
        periodic boxes, any metric, spectral accuracy for smooth data,
        Strang steps around the FFT heat step extrapolated to order 8.
        Refuses (berg.BergError) potentials and inputs it cannot resolve.
    estimate=True plans the Fourier transforms with FFTW_ESTIMATE
    (BERG_PLAN_ESTIMATE; no effect on the finite-volume discretization).
    Tolerance of the time stepping: fp.tolerance, default 1e-8.
    """

    _DISCRETIZATIONS = {"finite_volume": 0, "fourier": FP_FOURIER}
    _destroy = _fp_destroy

    def __init__(self, space, V, discretization="finite_volume", estimate=False):
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

    @property
    def tolerance(self):
        return self._tol

    @tolerance.setter
    def tolerance(self, tol):
        check(_fp_set_tol(self._h, float(tol)))
        self._tol = float(tol)

    @property
    def last_steps(self):
        """(accepted, rejected) steps of this thread's last evolve on this handle."""
        a, r = _sz(), _sz()
        check(_fp_steps(self._h, ctypes.byref(a), ctypes.byref(r)))
        return a.value, r.value

    def evolve(self, p, t, out=None):
        """p_t from p_0 = p (>= 0, finite) at time t >= 0."""
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        check(_fp_evolve(self._h, float(t), ptr(p), ptr(out)))
        return out

    __call__ = evolve

    def stationary(self):
        """q = e^{-V}/Z on the grid (normalized)."""
        q = np.empty(self.shape)
        check(_fp_stationary(self._h, ptr(q)))
        return q

    def generator(self, p):
        """L p (= d p/dt), the discrete Fokker-Planck operator."""
        p = _lib.as_array(p, self.shape, "p")
        out = np.empty(self.shape)
        check(_fp_gen(self._h, ptr(p), ptr(out)))
        return out

    def backward(self, f):
        """A f = L^T f: the generator of the process on observables (eq 36)."""
        f = _lib.as_array(f, self.shape, "f")
        out = np.empty(self.shape)
        check(_fp_back(self._h, ptr(f), ptr(out)))
        return out

    def velocity(self, p):
        """Wegner-Morris velocity Psi = -g^{-1} grad(V + ln p), shape (d,) + shape."""
        p = _lib.as_array(p, self.shape, "p")
        out = np.empty((len(self.shape),) + self.shape)
        check(_fp_velocity(self._h, ptr(p), ptr(out)))
        return out

    def scheme(self, p):
        """Sigma = S_q - S_p = V + ln p (zero mean on the grid)."""
        p = _lib.as_array(p, self.shape, "p")
        out = np.empty(self.shape)
        check(_fp_scheme(self._h, ptr(p), ptr(out)))
        return out

    def spectral(self):
        """The exact spectral propagator of this flow (N^2 memory)."""
        return FPSpectral(self)


class FPSpectral(_lib.Handle):
    """Eigen-decomposition of the symmetrized generator: exact e^{tL}."""

    _destroy = _sp_destroy

    def __init__(self, fp):
        self.fp = fp
        self.shape = fp.shape
        self.size = int(np.prod(self.shape))
        h = _vp()
        check(_sp_create(ctypes.byref(h), fp.handle))
        self._h = h

    def evolve(self, p, t, out=None):
        out = _lib.out_array(out, self.shape, like=p)
        p = _lib.as_array(p, self.shape, "p")
        check(_sp_evolve(self._h, float(t), ptr(p), ptr(out)))
        return out

    __call__ = evolve

    def eigenvalues(self):
        """Eigenvalues of L, decreasing: 0 = lambda_0 >= lambda_1 >= ..."""
        lam = np.empty(self.size)
        check(_sp_eig(self._h, ptr(lam)))
        return lam

    @property
    def gap(self):
        return -self.eigenvalues()[1]

    def mode(self, k):
        out = np.empty(self.shape)
        check(_sp_mode(self._h, _lib.size_t(k, "k"), ptr(out)))
        return out


def _particle_array(x, ndim):
    x = _lib.inout_array(x, name="x (updated in place)")
    if x.size % ndim != 0:
        raise ValueError(f"x has {x.size} values, not a multiple of ndim = {ndim}")
    return x, x.size // ndim


class Particles(_lib.Handle):
    """An ensemble driver for dX = -g^{-1} grad V dt + sqrt(2) g^{-1/2} dW.

    Particles(ndim, metric=None, seed=0). Positions are a float64 array of
    shape (count, ndim) (or (count,) for ndim 1), updated in place.
    """

    _destroy = _ps_destroy

    def __init__(self, ndim, metric=None, seed=0):
        self.ndim = int(ndim)
        g = None if metric is None else _lib.as_array(metric, (ndim, ndim), "metric")
        h = _vp()
        check(_ps_create(ctypes.byref(h), _lib.size_t(self.ndim, "ndim"), int(seed), ptr(g)))
        self._h = h

    def euler(self, x, dt, nsteps, grad):
        """nsteps Euler-Maruyama steps; grad(x) -> grad V(x) for one point."""
        x, count = _particle_array(x, self.ndim)
        nsteps = _lib.size_t(nsteps, "nsteps")
        cb = _grad_callback(grad)
        cb.check(_ps_euler(self._h, float(dt), nsteps, count, ptr(x), cb.c_fn, None))
        return x

    def ou(self, x, t, A, m=None):
        """Exact OU transition over t for V = (x - m)^T A (x - m) / 2."""
        x, count = _particle_array(x, self.ndim)
        A = _lib.as_array(A, (self.ndim, self.ndim), "A")
        m = None if m is None else _lib.as_array(m, (self.ndim,), "m")
        check(_ps_ou(self._h, float(t), count, ptr(A), ptr(m), ptr(x)))
        return x


def particle_histogram(space, x):
    """(density histogram on space's cells, number of particles outside)."""
    d = space.ndim
    x = _lib.as_array(x, name="x")
    if x.size % d != 0:
        raise ValueError(f"x has {x.size} values, not a multiple of ndim = {d}")
    out = np.empty(space.shape)
    outside = _sz()
    check(_ps_hist(space.handle, x.size // d, ptr(x), ptr(out), ctypes.byref(outside)))
    return out, outside.value


class Langevin(_lib.Handle):
    """Lattice-field Langevin flow d phi = -Cdot dS/dphi dt + sqrt(2 Cdot) dW
    on a periodic Space, Cdot the multiplier of regulator(k) >= 0."""

    _destroy = _lf_destroy

    def __init__(self, space, regulator, seed=0, _handle=None):
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
    def regulator(cls, space, kind, lam, seed=0):
        """Cdot a built-in regulator of |k|_g at scale lam: kind is 'sharp',
        'exponential', 'litim', 'exponential_dot', 'litim_dot' (or its value)."""
        h = _vp()
        check(_lf_create_reg(ctypes.byref(h), space.handle, _reg_kind(kind), float(lam),
                             int(seed)))
        return cls(space, None, _handle=h)

    def step(self, phi, dt, nsteps, grad):
        """nsteps Euler-Maruyama steps on phi in place; grad(phi) -> dS/dphi."""
        phi = _lib.inout_array(phi, self.shape, "phi (updated in place)")
        nsteps = _lib.size_t(nsteps, "nsteps")
        shape = self.shape
        if not callable(grad):
            raise TypeError("grad must be callable: grad(phi) -> dS/dphi")

        def body(size, f, g, _ud):
            ff = np.ctypeslib.as_array(f, shape=(size,)).reshape(shape).copy()
            np.ctypeslib.as_array(g, shape=(size,))[:] = np.asarray(
                grad(ff), dtype=np.float64).reshape(size)

        cb = _lib.Callback(_AGRAD, body)
        cb.check(_lf_step(self._h, float(dt), nsteps, ptr(phi), cb.c_fn, None))
        return phi
