"""Information functionals, moments and the l2 / W2 geometry of densities
(berg/functional.h, berg/moments.h, berg/w2_geometry.h; docs/metric.md).

Densities are arrays of the space's shape, with respect to Vol_S and normalized
(``Space.normalize`` first): an unnormalized density raises ``MassError``.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import c_double_p, check, fn, ptr

__all__ = [
    "density_mass_tolerance", "entropy", "kl_divergence", "cross_entropy", "potential_energy",
    "free_energy", "dirichlet_energy", "fisher_information", "relative_fisher_information",
    "entropy_derivative", "kl_derivative", "cross_entropy_derivative",
    "potential_energy_derivative", "free_energy_derivative", "dirichlet_energy_derivative",
    "fisher_information_derivative", "relative_fisher_information_derivative",
    "density_fisher_information", "density_fisher_information_derivative",
    "discrete_laplacian", "l2_gradient", "w2_gradient", "W2Metric", "moments",
    "central_moments", "cumulants",
]

_vp = ctypes.c_void_p
_dref = ctypes.POINTER(ctypes.c_double)
_mass_tol = fn("berg_density_mass_tolerance", [], ctypes.c_double)


def density_mass_tolerance():
    """Relative tolerance on the mass of a density (1e-9)."""
    return _mass_tol()


def _arr(space, a, name):
    return _lib.as_array(a, space.shape, name)


def _scalar1(cname):
    f = fn(cname, [_vp, c_double_p, _dref])

    def call(space, p):
        out = ctypes.c_double()
        check(f(space.handle, ptr(_arr(space, p, "p")), ctypes.byref(out)))
        return out.value
    return call


def _scalar2(cname, second):
    f = fn(cname, [_vp, c_double_p, c_double_p, _dref])

    def call(space, p, other):
        out = ctypes.c_double()
        check(f(space.handle, ptr(_arr(space, p, "p")), ptr(_arr(space, other, second)),
                ctypes.byref(out)))
        return out.value
    return call


def _array1(cname):
    f = fn(cname, [_vp, c_double_p, c_double_p])

    def call(space, p, out=None):
        o = _lib.out_array(out, space.shape, like=p)
        check(f(space.handle, ptr(_arr(space, p, "p")), ptr(o)))
        return o
    return call


def _array2(cname, second):
    f = fn(cname, [_vp, c_double_p, c_double_p, c_double_p])

    def call(space, p, other, out=None):
        o = _lib.out_array(out, space.shape, like=p)
        check(f(space.handle, ptr(_arr(space, p, "p")), ptr(_arr(space, other, second)),
                ptr(o)))
        return o
    return call


entropy = _scalar1("berg_entropy")
entropy.__doc__ = "S[p] = -integral p ln p Vol_S (0 ln 0 = 0)."
kl_divergence = _scalar2("berg_kl_divergence", "q")
kl_divergence.__doc__ = "KL(p||q); +inf where q vanishes on the support of p."
cross_entropy = _scalar2("berg_cross_entropy", "q")
cross_entropy.__doc__ = "-integral p ln q Vol_S = S[p] + KL(p||q)."
potential_energy = _scalar2("berg_potential_energy", "V")
potential_energy.__doc__ = "integral p V Vol_S."
free_energy = _scalar2("berg_free_energy", "V")
free_energy.__doc__ = "integral p V Vol_S - S[p]; F + ln Z = KL(p || e^-V / Z)."
dirichlet_energy = _scalar1("berg_dirichlet_energy")
dirichlet_energy.__doc__ = "1/2 integral |grad p|_g^2 Vol_S on cell faces."
density_fisher_information = _scalar1("berg_density_fisher_information")
density_fisher_information.__doc__ = "integral p |grad ln p|_g^2 Vol_S on cell faces."
#: the same function under its name of libberg 0.x
fisher_information = density_fisher_information
relative_fisher_information = _scalar2("berg_relative_fisher_information", "q")
relative_fisher_information.__doc__ = "integral p |grad ln(p/q)|_g^2 Vol_S (log-mean faces)."

entropy_derivative = _array1("berg_entropy_derivative")
kl_derivative = _array2("berg_kl_derivative", "q")
cross_entropy_derivative = _array2("berg_cross_entropy_derivative", "q")
potential_energy_derivative = _array2("berg_potential_energy_derivative", "V")
free_energy_derivative = _array2("berg_free_energy_derivative", "V")
dirichlet_energy_derivative = _array1("berg_dirichlet_energy_derivative")
density_fisher_information_derivative = _array1("berg_density_fisher_information_derivative")
fisher_information_derivative = density_fisher_information_derivative
relative_fisher_information_derivative = _array2(
    "berg_relative_fisher_information_derivative", "q")
for _f in (entropy_derivative, kl_derivative, cross_entropy_derivative,
           potential_energy_derivative, free_energy_derivative, dirichlet_energy_derivative,
           fisher_information_derivative, relative_fisher_information_derivative):
    _f.__doc__ = "First variation delta F / delta p on the grid (see berg/functional.h)."

_laplacian = fn("berg_discrete_laplacian", [_vp, c_double_p, c_double_p])
_l2_grad = fn("berg_l2_gradient", [_vp, c_double_p, c_double_p])
_w2_grad = fn("berg_w2_gradient", [_vp, c_double_p, c_double_p, c_double_p])


def discrete_laplacian(space, f, out=None):
    """Delta_h f: the flux-form second-order Laplacian with the space's boundaries."""
    o = _lib.out_array(out, space.shape, like=f)
    check(_laplacian(space.handle, ptr(_arr(space, f, "f")), ptr(o)))
    return o


def l2_gradient(space, dF, out=None):
    """grad_l2 F: dF projected to zero integral."""
    o = _lib.out_array(out, space.shape, like=dF)
    check(_l2_grad(space.handle, ptr(_arr(space, dF, "dF")), ptr(o)))
    return o


def w2_gradient(space, p, dF, out=None):
    """grad_W2 F = -div(p g^-1 grad dF) with log-mean face weights (eq 20)."""
    o = _lib.out_array(out, space.shape, like=p)
    check(_w2_grad(space.handle, ptr(_arr(space, p, "p")), ptr(_arr(space, dF, "dF")), ptr(o)))
    return o


_m_create = fn("berg_w2_metric_create", [ctypes.POINTER(_vp), _vp, ctypes.c_double, c_double_p,
                                         ctypes.c_uint])
_m_destroy = fn("berg_w2_metric_destroy", [_vp], None)
_m_set_density = fn("berg_w2_metric_set_density", [_vp, c_double_p])
_m_set_tol = fn("berg_w2_metric_set_tolerance", [_vp, ctypes.c_double])
_m_set_iter = fn("berg_w2_metric_set_max_iterations", [_vp, ctypes.c_size_t])
_m_potential = fn("berg_w2_metric_potential", [_vp, c_double_p, c_double_p,
                                               ctypes.POINTER(ctypes.c_size_t), _dref])
_m_inner = fn("berg_w2_metric_inner", [_vp, c_double_p, c_double_p, _dref,
                                       ctypes.POINTER(ctypes.c_size_t), _dref])
_m_tangent = fn("berg_w2_metric_tangent", [_vp, c_double_p, c_double_p])


class W2Metric(_lib.Handle):
    """The Wasserstein-2 metric tensor at a density p (eq 17-18).

    W2Metric(space, p, regularization=0.0, rtol=1e-10, max_iterations=1000, flags=0)

    ``potential(eta)`` solves div(p g^-1 grad eta_hat) = eta by preconditioned CG;
    ``inner(eta1, eta2)`` is G_W2 = -integral eta1 eta_hat2. After each solve,
    ``iterations`` and ``residual`` hold the CG iterations and achieved relative
    residual. flags: 0 or ``berg._lib.constant("BERG_PLAN_ESTIMATE")``.

    ``potential``, ``inner`` and ``tangent`` may run in several threads at once
    (the C handle is const for them; ``iterations`` and ``residual`` then hold
    those of whichever solve finished last); ``set_density``, ``set_tolerance``
    and ``set_max_iterations`` must not run concurrently with other calls.
    """

    _destroy = _m_destroy

    def __init__(self, space, p, regularization=0.0, rtol=1e-10, max_iterations=1000, flags=0):
        self.space = space
        h = _vp()
        check(_m_create(ctypes.byref(h), space.handle, float(regularization),
                        ptr(_arr(space, p, "p")), int(flags)))
        self._h = h
        self.iterations = 0
        self.residual = 0.0
        self.set_tolerance(rtol)
        self.set_max_iterations(max_iterations)

    def set_density(self, p):
        check(_m_set_density(self._h, ptr(_arr(self.space, p, "p"))))

    def set_tolerance(self, rtol):
        check(_m_set_tol(self._h, float(rtol)))

    def set_max_iterations(self, n):
        check(_m_set_iter(self._h, _lib.size_t(n, "max_iterations")))

    def potential(self, eta, out=None):
        """eta_hat with L_p eta_hat = eta, zero mean."""
        o = _lib.out_array(out, self.space.shape, like=eta)
        it, res = ctypes.c_size_t(), ctypes.c_double()
        st = _m_potential(self._h, ptr(_arr(self.space, eta, "eta")), ptr(o), ctypes.byref(it),
                          ctypes.byref(res))
        self.iterations, self.residual = it.value, res.value
        check(st)
        return o

    def inner(self, eta1, eta2):
        """G_W2(eta1, eta2)."""
        g, it, res = ctypes.c_double(), ctypes.c_size_t(), ctypes.c_double()
        st = _m_inner(self._h, ptr(_arr(self.space, eta1, "eta1")),
                      ptr(_arr(self.space, eta2, "eta2")), ctypes.byref(g), ctypes.byref(it),
                      ctypes.byref(res))
        self.iterations, self.residual = it.value, res.value
        check(st)
        return g.value

    def tangent(self, eta_hat, out=None):
        """eta = div(p g^-1 grad eta_hat)."""
        o = _lib.out_array(out, self.space.shape, like=eta_hat)
        check(_m_tangent(self._h, ptr(_arr(self.space, eta_hat, "eta_hat")), ptr(o)))
        return o


_moments = fn("berg_moments", [_vp, ctypes.c_size_t, c_double_p, c_double_p])
_central = fn("berg_central_moments", [_vp, ctypes.c_size_t, c_double_p, c_double_p])
_cumulants = fn("berg_cumulants", [_vp, ctypes.c_size_t, c_double_p, c_double_p])


def _tensor(f, space, p, order):
    order = int(order)
    if not 1 <= order <= 16:
        raise _lib.DomainError(f"order = {order} must be between 1 and 16")
    out = np.empty((order + 1,) * space.ndim)
    check(f(space.handle, order, ptr(_arr(space, p, "p")), ptr(out)))
    return out


def moments(space, p, order):
    """Raw moments E[x^alpha], tensor of shape (order+1,)*d (|alpha| > order: 0)."""
    return _tensor(_moments, space, p, order)


def central_moments(space, p, order):
    """Central moments E[(x - mean)^alpha], same layout as moments()."""
    return _tensor(_central, space, p, order)


def cumulants(space, p, order):
    """Cumulants (connected moments) kappa_alpha, same layout as moments()."""
    return _tensor(_cumulants, space, p, order)
