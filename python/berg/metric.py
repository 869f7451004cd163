"""Information functionals, moments and the l2 / W2 geometry of densities
(berg/functional.h, berg/moments.h, berg/w2_geometry.h; docs/metric.md).

Densities are arrays of the space's shape, with respect to Vol_S and normalized
(``Space.normalize`` first): an unnormalized density raises ``MassError``.
"""
from __future__ import annotations

import ctypes
import inspect

import numpy as np
from numpy.typing import ArrayLike

from . import _lib, _progress
from ._lib import c_double_p, check, fn, ptr
from .space import Space

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


def density_mass_tolerance() -> float:
    """The relative tolerance on the mass of a "density" (1e-9).

    A density's mass must be 1 within this relative tolerance, otherwise the
    functions that take densities raise MassError (``Space.normalize`` first).

    Returns
    -------
    float
        The tolerance.

    Raises
    ------
    BergError
        Never (a constant of the library).

    Examples
    --------
    >>> berg.density_mass_tolerance()
    1e-09
    """
    return _mass_tol()


def _arr(space, a, name):
    return _lib.as_array(a, space.shape, name)


def _document(call, name, summary, math, params, returns, raises, example):
    """Give a functional made by the factories below its name, numpydoc
    docstring and type hints (the factories share one body per signature)."""
    call.__name__ = call.__qualname__ = name
    lines = [summary, "", math, "", "Parameters", "----------",
             "space : Space", "    The grid."]
    hints = {"space": "Space"}
    for pname, text in params:
        hints[pname] = "ArrayLike"
        lines += [f"{pname} : array_like", f"    {text}"]
    if "out" in inspect.signature(call).parameters:
        hints["out"] = "np.ndarray | None"
        lines += ["out : numpy.ndarray, optional",
                  "    Writeable C-contiguous float64 array for the result."]
    scalar = returns.startswith("float")
    hints["return"] = "float" if scalar else "np.ndarray"
    lines += ["", "Returns", "-------", returns.split(":")[0].strip(),
              "    " + returns.split(":", 1)[1].strip(), "", "Raises", "------"]
    for exc, when in raises:
        lines += [exc, f"    {when}"]
    lines += ["", "Examples", "--------"] + _EXAMPLE_SETUP + example.strip("\n").splitlines()
    call.__doc__ = "\n".join(lines)
    types = {"Space": Space, "ArrayLike": ArrayLike, "np.ndarray | None": np.ndarray | None,
             "float": float, "np.ndarray": np.ndarray}
    sig = inspect.signature(call)
    call.__signature__ = sig.replace(
        parameters=[prm.replace(annotation=types[hints[prm.name]])
                    for prm in sig.parameters.values()],
        return_annotation=types[hints["return"]])
    return call


_EXAMPLE_SETUP = [
    ">>> sp = berg.Space((256,), -10.0, 10.0)",
    ">>> x = sp.coordinates(0)",
    ">>> p = np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)          # N(0, 1)",
    ">>> q = np.exp(-(x - 1) ** 2 / 2) / np.sqrt(2 * np.pi)    # N(1, 1)",
]
_DENSITY = ('"density": finite, >= 0, normalized to 1 within '
            '``density_mass_tolerance()``; shape ``space.shape`` or flat.')
_DENS_RAISES = [("MassError", "``p`` (or ``q``) is not normalized."),
                ("NegativeDensityError", "a density has a negative value."),
                ("NonFiniteError", "an input has a NaN or infinite value."),
                ("TypeError", "an input is complex."),
                ("ValueError", "an input has the wrong shape.")]
_P = ("p", "A " + _DENSITY)
_Q = ("q", "The reference, a " + _DENSITY)
_V = ("V", "The potential: any finite values on the grid.")


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


def _rename(call, second):
    """The factories' second argument under its documented name (q or V)."""
    params = [inspect.Parameter("space", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("p", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter(second, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if "out" in inspect.signature(call).parameters:
        params.append(inspect.Parameter("out", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        default=None))
    call.__signature__ = inspect.Signature(params)
    return call


entropy = _document(
    _scalar1("berg_entropy"), "entropy", "The differential entropy of a density.",
    "``S[p] = -integral p ln p Vol_S`` with ``0 ln 0 = 0`` (eq 19).", [_P],
    "float : S[p] in nats.", _DENS_RAISES, """
>>> round(berg.entropy(sp, p), 4)           # (1 + ln 2 pi) / 2
1.4189""")
kl_divergence = _document(
    _rename(_scalar2("berg_kl_divergence", "q"), "q"), "kl_divergence",
    "The relative entropy (Kullback-Leibler divergence) of two densities.",
    "``KL(p||q) = integral p ln(p/q) Vol_S``; ``+inf`` where ``q`` vanishes on "
    "the support of ``p`` (eq 23).", [_P, _Q], "float : KL(p||q) >= 0 in nats, or inf.",
    _DENS_RAISES, """
>>> round(berg.kl_divergence(sp, p, q), 4)   # |mean difference|^2 / 2
0.5""")
cross_entropy = _document(
    _rename(_scalar2("berg_cross_entropy", "q"), "q"), "cross_entropy",
    "The cross entropy of two densities.",
    "``-integral p ln q Vol_S = S[p] + KL(p||q)``.", [_P, _Q],
    "float : the cross entropy in nats, or inf.", _DENS_RAISES, """
>>> round(berg.cross_entropy(sp, p, q), 4)
1.9189""")
potential_energy = _document(
    _rename(_scalar2("berg_potential_energy", "V"), "V"), "potential_energy",
    "The potential energy of a density in a potential.",
    "``V[p] = integral p V Vol_S`` (eq 21).", [_P, _V], "float : the energy.", _DENS_RAISES, """
>>> round(berg.potential_energy(sp, p, x ** 2 / 2), 4)
0.5""")
free_energy = _document(
    _rename(_scalar2("berg_free_energy", "V"), "V"), "free_energy",
    "The free energy whose W2 gradient flow is Fokker-Planck.",
    "``F[p] = integral p V Vol_S - S[p]``, so ``F + ln Z = KL(p || e^-V / Z)`` "
    "(eq 21, 23 with the sign of docs/references.md).", [_P, _V], "float : F[p].",
    _DENS_RAISES, """
>>> round(berg.free_energy(sp, p, x ** 2 / 2), 4)   # -ln sqrt(2 pi): p is e^-V / Z
-0.9189""")
dirichlet_energy = _document(
    _scalar1("berg_dirichlet_energy"), "dirichlet_energy", "The Dirichlet energy of a density.",
    "``E[p] = 1/2 integral |grad p|_g^2 Vol_S``, differences on cell faces (eq 15).", [_P],
    "float : E[p] >= 0.", _DENS_RAISES, """
>>> round(berg.dirichlet_energy(sp, p), 4)    # 1 / (8 sqrt(pi))
0.0705""")
density_fisher_information = _document(
    _scalar1("berg_density_fisher_information"), "density_fisher_information",
    "The Fisher information of a density (of its location family).",
    "``I[p] = integral p |grad ln p|_g^2 Vol_S``, on cell faces.", [_P],
    "float : I[p] >= 0.", _DENS_RAISES, """
>>> round(berg.density_fisher_information(sp, p), 4)   # 1 / variance
1.0""")
#: the same function under its name of libberg 0.x
fisher_information = density_fisher_information
relative_fisher_information = _document(
    _rename(_scalar2("berg_relative_fisher_information", "q"), "q"),
    "relative_fisher_information", "The relative Fisher information of two densities.",
    "``I(p||q) = integral p |grad ln(p/q)|_g^2 Vol_S`` (log-mean face weights): the "
    "entropy dissipation rate of Fokker-Planck towards ``q``.", [_P, _Q],
    "float : I(p||q) >= 0.", _DENS_RAISES, """
>>> round(berg.relative_fisher_information(sp, p, q), 2)   # |grad ln(p/q)|^2 = 1
1.0""")

_DERIV = "The first variation ``delta F / delta p`` of {} on the grid."
entropy_derivative = _document(
    _array1("berg_entropy_derivative"), "entropy_derivative", _DERIV.format("the entropy"),
    "``-ln p - 1``.", [_P], "numpy.ndarray : the variation, in the shape of ``p``.",
    _DENS_RAISES, """
>>> np.allclose(berg.entropy_derivative(sp, p), -np.log(p) - 1)
True""")
kl_derivative = _document(
    _rename(_array2("berg_kl_derivative", "q"), "q"), "kl_derivative",
    _DERIV.format("``KL(p||q)``"), "``ln(p/q) + 1``.", [_P, _Q],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> np.allclose(berg.kl_derivative(sp, p, q), np.log(p / q) + 1)
True""")
cross_entropy_derivative = _document(
    _rename(_array2("berg_cross_entropy_derivative", "q"), "q"), "cross_entropy_derivative",
    _DERIV.format("the cross entropy"), "``-ln q``.", [_P, _Q],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> np.allclose(berg.cross_entropy_derivative(sp, p, q), -np.log(q))
True""")
potential_energy_derivative = _document(
    _rename(_array2("berg_potential_energy_derivative", "V"), "V"),
    "potential_energy_derivative", _DERIV.format("the potential energy"), "``V``.", [_P, _V],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> np.allclose(berg.potential_energy_derivative(sp, p, x ** 2 / 2), x ** 2 / 2)
True""")
free_energy_derivative = _document(
    _rename(_array2("berg_free_energy_derivative", "V"), "V"), "free_energy_derivative",
    _DERIV.format("the free energy"), "``V + ln p + 1``.", [_P, _V],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> np.allclose(berg.free_energy_derivative(sp, p, x ** 2 / 2), x ** 2 / 2 + np.log(p) + 1)
True""")
dirichlet_energy_derivative = _document(
    _array1("berg_dirichlet_energy_derivative"), "dirichlet_energy_derivative",
    _DERIV.format("the Dirichlet energy"),
    "``-Delta_h p``, the flux-form discrete Laplacian (eq 15).", [_P],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> np.allclose(berg.dirichlet_energy_derivative(sp, p), -berg.discrete_laplacian(sp, p))
True""")
density_fisher_information_derivative = _document(
    _array1("berg_density_fisher_information_derivative"),
    "density_fisher_information_derivative", _DERIV.format("the Fisher information"),
    "``-|grad ln p|^2 - 2 Delta ln p`` (discrete, on cell faces).", [_P],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> round(float(berg.density_fisher_information_derivative(sp, p)[128]), 1)   # 2 - x^2 at x ~ 0
2.0""")
fisher_information_derivative = density_fisher_information_derivative
relative_fisher_information_derivative = _document(
    _rename(_array2("berg_relative_fisher_information_derivative", "q"), "q"),
    "relative_fisher_information_derivative", _DERIV.format("``I(p||q)``"),
    "The exact variation of the discrete ``I(p||q)`` (log-mean face weights).", [_P, _Q],
    "numpy.ndarray : the variation, in the shape of ``p``.", _DENS_RAISES, """
>>> berg.relative_fisher_information_derivative(sp, p, q).shape
(256,)""")

_laplacian = fn("berg_discrete_laplacian", [_vp, c_double_p, c_double_p])
_l2_grad = fn("berg_l2_gradient", [_vp, c_double_p, c_double_p])
_w2_grad = fn("berg_w2_gradient", [_vp, c_double_p, c_double_p, c_double_p])


def discrete_laplacian(space: Space, f: ArrayLike, out: np.ndarray | None = None) -> np.ndarray:
    """``Delta_h f``: the flux-form second-order Laplacian with the space's boundaries.

    Parameters
    ----------
    space : Space
        The grid (its metric and boundary kinds apply).
    f : array_like
        A "state" (any finite values), shape ``space.shape`` or flat.
    out : numpy.ndarray, optional
        Writeable C-contiguous float64 array for the result.

    Returns
    -------
    numpy.ndarray
        ``Delta_h f``, in the shape of ``f``.

    Raises
    ------
    NonFiniteError
        ``f`` has a NaN or infinite value.
    TypeError
        ``f`` is complex.

    Examples
    --------
    >>> sp = berg.Space((256,), 0.0, 1.0)
    >>> f = np.cos(2 * np.pi * sp.coordinates(0))
    >>> np.allclose(berg.discrete_laplacian(sp, f), -(2 * np.pi) ** 2 * f, rtol=1e-3)
    True
    """
    o = _lib.out_array(out, space.shape, like=f)
    check(_laplacian(space.handle, ptr(_arr(space, f, "f")), ptr(o)))
    return o


def l2_gradient(space: Space, dF: ArrayLike, out: np.ndarray | None = None) -> np.ndarray:
    """``grad_l2 F``: the first variation projected to zero integral (eq 14).

    Parameters
    ----------
    space : Space
        The grid.
    dF : array_like
        The first variation ``delta F / delta p`` (any finite values).
    out : numpy.ndarray, optional
        Writeable C-contiguous float64 array for the result.

    Returns
    -------
    numpy.ndarray
        A tangent vector (integral zero), in the shape of ``dF``.

    Raises
    ------
    NonFiniteError
        ``dF`` has a NaN or infinite value.

    Examples
    --------
    >>> sp = berg.Space((8,), 0.0, 1.0)
    >>> g = berg.l2_gradient(sp, np.arange(8.0))
    >>> abs(sp.integrate(g)) < 1e-15
    True
    """
    o = _lib.out_array(out, space.shape, like=dF)
    check(_l2_grad(space.handle, ptr(_arr(space, dF, "dF")), ptr(o)))
    return o


def w2_gradient(space: Space, p: ArrayLike, dF: ArrayLike, out: np.ndarray | None = None
                ) -> np.ndarray:
    """``grad_W2 F = -div(p g^-1 grad dF)`` with log-mean face weights (eq 20).

    Parameters
    ----------
    space : Space
        The grid.
    p : array_like
        The base point, a "density": finite, >= 0, normalized to 1 within
        ``density_mass_tolerance()``.
    dF : array_like
        The first variation ``delta F / delta p`` at ``p`` (finite values).
    out : numpy.ndarray, optional
        Writeable C-contiguous float64 array for the result.

    Returns
    -------
    numpy.ndarray
        The W2 gradient, a tangent vector, in the shape of ``p``.

    Raises
    ------
    MassError
        ``p`` is not normalized.
    NegativeDensityError
        ``p`` has a negative value.
    NonFiniteError
        An input has a NaN or infinite value.

    Examples
    --------
    >>> sp = berg.Space((64,), -4.0, 4.0)
    >>> x = sp.coordinates(0)
    >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
    >>> g = berg.w2_gradient(sp, p, berg.entropy_derivative(sp, p))   # grad_W2 S = Delta p
    >>> np.allclose(g, berg.discrete_laplacian(sp, p), atol=1e-12)
    True
    """
    o = _lib.out_array(out, space.shape, like=p)
    check(_w2_grad(space.handle, ptr(_arr(space, p, "p")), ptr(_arr(space, dF, "dF")), ptr(o)))
    return o


_m_create = fn("berg_w2_metric_create", [ctypes.POINTER(_vp), _vp, ctypes.c_double, c_double_p,
                                         ctypes.c_uint])
_m_destroy = fn("berg_w2_metric_destroy", [_vp], None)
_m_set_density = fn("berg_w2_metric_set_density", [_vp, c_double_p])
_m_set_tol = fn("berg_w2_metric_set_tolerance", [_vp, ctypes.c_double])
_m_set_iter = fn("berg_w2_metric_set_max_iterations", [_vp, ctypes.c_size_t])
_m_threads = fn("berg_w2_metric_set_threads", [_vp, ctypes.c_size_t])
_m_potential = fn("berg_w2_metric_potential", [_vp, c_double_p, c_double_p,
                                               ctypes.POINTER(ctypes.c_size_t), _dref])
_m_inner = fn("berg_w2_metric_inner", [_vp, c_double_p, c_double_p, _dref,
                                       ctypes.POINTER(ctypes.c_size_t), _dref])
_m_tangent = fn("berg_w2_metric_tangent", [_vp, c_double_p, c_double_p])
_m_progress = fn("berg_w2_metric_set_progress", [_vp, _progress.PROGRESS_FN, _vp])


class W2Metric(_lib.Handle):
    """The Wasserstein-2 metric tensor at a density ``p`` (eq 17-18).

    :meth:`potential` solves ``div(p g^-1 grad eta_hat) = eta`` by
    preconditioned conjugate gradients; :meth:`inner` is
    ``G_W2(eta1, eta2) = -integral eta1 eta_hat2 Vol_S``. After each solve
    ``iterations`` and ``residual`` hold the CG iterations and the relative
    residual reached. ``potential``, ``inner`` and ``tangent`` may run in
    several threads at once (``iterations`` and ``residual`` then hold those
    of the solve that finished last); the ``set_*`` methods must not run
    concurrently with other calls.

    Parameters
    ----------
    space : Space
        The grid.
    p : array_like
        The base point, a "density": finite, >= 0, normalized to 1 within
        ``density_mass_tolerance()``.
    regularization : float, optional
        ``epsilon >= 0`` added to ``p`` on the faces (makes the operator
        invertible where ``p`` vanishes). Default 0.
    rtol : float, optional
        Relative residual at which CG stops (default 1e-10).
    max_iterations : int, optional
        CG iteration cap (default 1000).
    flags : int, optional
        0 or ``berg._lib.constant("BERG_PLAN_ESTIMATE")``.
    progress : bool or callable, optional
        The default ``progress=`` of :meth:`potential` and :meth:`inner`:
        ``True`` for a progress bar (tqdm when installed, else a line on
        stderr), or a callable ``progress(fraction, iteration, error)``
        (``error`` the relative CG residual) returning a true value to stop
        the solve (:class:`CancelledError`; nothing is written, ``iterations``
        and ``residual`` included). Ctrl-C stops a solve with
        KeyboardInterrupt, with or without ``progress``.

    Raises
    ------
    MassError
        ``p`` is not normalized.
    NegativeDensityError
        ``p`` has a negative value.
    DomainError
        ``regularization``, ``rtol`` or a flag is out of its domain.

    Examples
    --------
    >>> sp = berg.Space((64,), -4.0, 4.0)
    >>> x = sp.coordinates(0)
    >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
    >>> m = berg.W2Metric(sp, p)
    >>> eta = berg.discrete_laplacian(sp, p)      # the heat flow's velocity
    >>> round(m.inner(eta, eta), 6) == round(berg.density_fisher_information(sp, p), 6)
    True
    """

    _destroy = _m_destroy

    def __init__(self, space: Space, p: ArrayLike, regularization: float = 0.0, rtol: float = 1e-10,
                 max_iterations: int = 1000, flags: int = 0,
                 progress: _progress.ProgressArg = None) -> None:
        self.space = space
        h = _vp()
        check(_m_create(ctypes.byref(h), space.handle, float(regularization),
                        ptr(_arr(space, p, "p")), int(flags)))
        self._h = h
        _progress.attach(_m_progress, h)
        self.progress = progress
        self.iterations = 0
        self.residual = 0.0
        self.set_tolerance(rtol)
        self.set_max_iterations(max_iterations)

    def set_density(self, p: ArrayLike) -> None:
        """Move the metric to a new base point (configuration: not concurrently with other calls).

        Parameters
        ----------
        p : array_like
            The new base point, a "density" of the same space.

        Raises
        ------
        MassError
            ``p`` is not normalized.
        NegativeDensityError
            ``p`` has a negative value.

        Examples
        --------
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> m = berg.W2Metric(sp, p)
        >>> m.set_density(np.full(64, 1 / 8))
        """
        check(_m_set_density(self._h, ptr(_arr(self.space, p, "p"))))

    def set_tolerance(self, rtol: float) -> None:
        """Set the relative residual at which CG stops (configuration).

        Parameters
        ----------
        rtol : float
            In [1e-15, 1).

        Raises
        ------
        DomainError
            ``rtol`` is outside [1e-15, 1).

        Examples
        --------
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> berg.W2Metric(sp, p).set_tolerance(1e-6)
        """
        check(_m_set_tol(self._h, float(rtol)))

    def set_threads(self, nthreads: int) -> None:
        """Set the threads of the operator div(p g^-1 grad) in every CG iteration (ranges of cells; grids under 32768 cells stay on one thread; the preconditioner's FFTs use the threads set when the metric was created) (configuration).

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
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> berg.W2Metric(sp, p).set_threads(2)
        """
        if isinstance(nthreads, bool) or not isinstance(nthreads, int) or nthreads < 0:
            raise _lib.DomainError(
                f"set_threads: nthreads must be a non-negative int, not {nthreads!r}")
        check(_m_threads(self._h, nthreads))

    def set_max_iterations(self, n: int) -> None:
        """Set the CG iteration cap (configuration).

        Parameters
        ----------
        n : int
            At least 1.

        Raises
        ------
        DomainError
            ``n`` is zero.
        ValueError
            ``n`` is negative.

        Examples
        --------
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> berg.W2Metric(sp, p).set_max_iterations(50)
        """
        check(_m_set_iter(self._h, _lib.size_t(n, "max_iterations")))

    def potential(self, eta: ArrayLike, out: np.ndarray | None = None,
                  progress: _progress.ProgressArg = None) -> np.ndarray:
        """The potential ``eta_hat`` of a tangent vector: ``div(p g^-1 grad eta_hat) = eta``.

        Parameters
        ----------
        eta : array_like
            A tangent vector (finite, integral zero within round-off).
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result.
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`W2Metric`.

        Returns
        -------
        numpy.ndarray
            ``eta_hat`` with zero mean, in the shape of ``eta``.

        Raises
        ------
        NotTangentError
            ``eta`` does not integrate to zero.
        ConvergenceError
            CG did not reach ``rtol`` within ``max_iterations``.
        NonFiniteError
            ``eta`` has a NaN or infinite value.
        CancelledError
            ``progress`` returned a true value.

        Examples
        --------
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> m = berg.W2Metric(sp, p)
        >>> eta_hat = m.potential(berg.discrete_laplacian(sp, p))   # Delta p = div(p grad ln p)
        >>> np.allclose(eta_hat, sp.project_tangent(np.log(p)), atol=1e-8)
        True
        """
        o = _lib.out_array(out, self.space.shape, like=eta)
        it, res = ctypes.c_size_t(), ctypes.c_double()
        eta = _arr(self.space, eta, "eta")
        with _progress.Call(self.progress if progress is None else progress,
                            "W2 metric potential") as call:
            st = _m_potential(self._h, ptr(eta), ptr(o), ctypes.byref(it), ctypes.byref(res))
            if st != _progress.CANCELLED:
                self.iterations, self.residual = it.value, res.value
            call.check(st)
        return o

    def inner(self, eta1: ArrayLike, eta2: ArrayLike,
              progress: _progress.ProgressArg = None) -> float:
        """The Wasserstein inner product ``G_W2(eta1, eta2) = -integral eta1 eta_hat2 Vol_S``.

        Parameters
        ----------
        eta1, eta2 : array_like
            Tangent vectors (finite, integral zero).
        progress : bool or callable, optional
            This call's progress (overrides the instance's ``progress``): see
            :class:`W2Metric`.

        Returns
        -------
        float
            ``G_W2(eta1, eta2)``.

        Raises
        ------
        NotTangentError
            An argument does not integrate to zero.
        ConvergenceError
            CG did not converge.

        Examples
        --------
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> m = berg.W2Metric(sp, p)
        >>> eta = berg.discrete_laplacian(sp, p)
        >>> m.inner(eta, eta) > 0
        True
        """
        g, it, res = ctypes.c_double(), ctypes.c_size_t(), ctypes.c_double()
        eta1, eta2 = _arr(self.space, eta1, "eta1"), _arr(self.space, eta2, "eta2")
        with _progress.Call(self.progress if progress is None else progress,
                            "W2 metric inner product") as call:
            st = _m_inner(self._h, ptr(eta1), ptr(eta2), ctypes.byref(g), ctypes.byref(it),
                          ctypes.byref(res))
            if st != _progress.CANCELLED:
                self.iterations, self.residual = it.value, res.value
            call.check(st)
        return g.value

    def tangent(self, eta_hat: ArrayLike, out: np.ndarray | None = None) -> np.ndarray:
        """The tangent vector of a potential: ``eta = div(p g^-1 grad eta_hat)`` (eq 18).

        Parameters
        ----------
        eta_hat : array_like
            A potential (any finite values).
        out : numpy.ndarray, optional
            Writeable C-contiguous float64 array for the result.

        Returns
        -------
        numpy.ndarray
            ``eta``, in the shape of ``eta_hat``.

        Raises
        ------
        NonFiniteError
            ``eta_hat`` has a NaN or infinite value.

        Examples
        --------
        >>> sp = berg.Space((64,), -4.0, 4.0)
        >>> x = sp.coordinates(0)
        >>> p, _ = sp.normalize(np.exp(-x ** 2 / 2))
        >>> m = berg.W2Metric(sp, p)
        >>> eta = berg.discrete_laplacian(sp, p)
        >>> np.allclose(m.tangent(m.potential(eta)), eta, atol=1e-9)
        True
        """
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


def moments(space: Space, p: ArrayLike, order: int) -> np.ndarray:
    """Raw moments ``E[x^alpha]`` of a density up to a total order.

    Parameters
    ----------
    space : Space
        The grid.
    p : array_like
        A "density": finite, >= 0, normalized to 1 within
        ``density_mass_tolerance()``.
    order : int
        The highest total order, 1 to 16.

    Returns
    -------
    numpy.ndarray
        Shape ``(order + 1,) * ndim``: entry ``alpha`` (a multi-index) holds
        the raw moment of ``x^alpha``; entries with ``|alpha| > order`` are 0.

    Raises
    ------
    DomainError
        ``order`` is outside 1..16.
    MassError
        ``p`` is not normalized.
    NegativeDensityError
        ``p`` has a negative value.

    Examples
    --------
    >>> sp = berg.Space((256,), -10.0, 10.0)
    >>> x = sp.coordinates(0)
    >>> q = np.exp(-(x - 1) ** 2 / 2) / np.sqrt(2 * np.pi)    # N(1, 1)
    >>> np.round(berg.moments(sp, q, 2), 6) + 0.0     # 1, mean, mean^2 + var
    array([1., 1., 2.])
    """
    return _tensor(_moments, space, p, order)


def central_moments(space: Space, p: ArrayLike, order: int) -> np.ndarray:
    """Central moments ``E[(x - mean)^alpha]`` of a density (layout of :func:`moments`).

    Parameters
    ----------
    space : Space
        The grid.
    p : array_like
        A "density": finite, >= 0, normalized to 1 within
        ``density_mass_tolerance()``.
    order : int
        The highest total order, 1 to 16.

    Returns
    -------
    numpy.ndarray
        Shape ``(order + 1,) * ndim``: entry ``alpha`` (a multi-index) holds
        the central moment of ``x^alpha``; entries with ``|alpha| > order`` are 0.

    Raises
    ------
    DomainError
        ``order`` is outside 1..16.
    MassError
        ``p`` is not normalized.
    NegativeDensityError
        ``p`` has a negative value.

    Examples
    --------
    >>> sp = berg.Space((256,), -10.0, 10.0)
    >>> x = sp.coordinates(0)
    >>> q = np.exp(-(x - 1) ** 2 / 2) / np.sqrt(2 * np.pi)    # N(1, 1)
    >>> np.round(berg.central_moments(sp, q, 2), 6) + 0.0
    array([1., 0., 1.])
    """
    return _tensor(_central, space, p, order)


def cumulants(space: Space, p: ArrayLike, order: int) -> np.ndarray:
    """Cumulants (connected moments) ``kappa_alpha`` of a density (layout of :func:`moments`).

    A Gaussian has no cumulant beyond order 2.

    Parameters
    ----------
    space : Space
        The grid.
    p : array_like
        A "density": finite, >= 0, normalized to 1 within
        ``density_mass_tolerance()``.
    order : int
        The highest total order, 1 to 16.

    Returns
    -------
    numpy.ndarray
        Shape ``(order + 1,) * ndim``: entry ``alpha`` (a multi-index) holds
        the cumulant of ``x^alpha``; entries with ``|alpha| > order`` are 0.

    Raises
    ------
    DomainError
        ``order`` is outside 1..16.
    MassError
        ``p`` is not normalized.
    NegativeDensityError
        ``p`` has a negative value.

    Examples
    --------
    >>> sp = berg.Space((256,), -10.0, 10.0)
    >>> x = sp.coordinates(0)
    >>> q = np.exp(-(x - 1) ** 2 / 2) / np.sqrt(2 * np.pi)    # N(1, 1)
    >>> np.round(berg.cumulants(sp, q, 3), 6) + 0.0
    array([0., 1., 1., 0.])
    """
    return _tensor(_cumulants, space, p, order)
