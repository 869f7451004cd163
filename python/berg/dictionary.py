"""Dynamical Bayesian inference and the ERG <-> Bayes dictionary
(include/berg/bayes.h, dictionary.h, channel.h; docs/dictionary.md).

    U = Space(401, -1, 3, 'neumann'); Y = Space(512, -10, 10, 'neumann')
    b = Bayes(U, np.ones(401), Y)
    b.set_location(lambda u: u, logp0=lambda n: -0.5 * n @ n - 0.5 * np.log(2 * np.pi))
    b.observe(data)                 # one point or an array of points
    b.posterior(), b.map(), b.mean(), b.predictive()
    b.set_truth(pstar); b.expected(T)          # expected-data flow pi_0 e^{-T D}
    d = Dictionary(b, tau)          # K, I^{-1}, V, Sigma, m, t at gamma_tau
    dictionary_flow(b, tau1, tau2, p1)  # the backward drift-diffusion (b.backward_flow)
    dictionary_discrepancy(b, tau)  # the backward flow vs the direct predictive

Callbacks are Python functions called once per grid point (keep grids
modest from Python); an exception inside one is re-raised, chained to the
CallbackError of the call, and the state is unchanged.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import c_double_p, check, fn, ptr
from .fisher import _FORWARD

__all__ = ["Bayes", "Dictionary", "Channel", "CHANNEL_HEAT", "CHANNEL_FP", "dictionary_flow",
           "dictionary_discrepancy", "dictionary_from_erg"]

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_d = ctypes.c_double

_NOISE = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, c_double_p, _vp)
_LOGLIK = ctypes.CFUNCTYPE(ctypes.c_int, _sz, c_double_p, _sz, c_double_p, c_double_p, _vp)

_create = fn("berg_bayes_create", [ctypes.POINTER(_vp), _vp, _vp, c_double_p, ctypes.c_uint])
_b_destroy = fn("berg_bayes_destroy", [_vp], None)
_set_location = fn("berg_bayes_set_location", [_vp, _vp, c_double_p, _FORWARD, _NOISE, _vp])
_set_loglik = fn("berg_bayes_set_loglik", [_vp, _LOGLIK, _vp])
_reset = fn("berg_bayes_reset", [_vp])
_observe = fn("berg_bayes_observe", [_vp, _sz, c_double_p])
_set_truth = fn("berg_bayes_set_truth", [_vp, c_double_p])
_divergence = fn("berg_bayes_divergence", [_vp, c_double_p])
_expected = fn("berg_bayes_expected", [_vp, _d])
_time = fn("berg_bayes_time", [_vp], _d)
_posterior = fn("berg_bayes_posterior", [_vp, c_double_p])
_log_posterior = fn("berg_bayes_log_posterior", [_vp, c_double_p])
_map = fn("berg_bayes_map", [_vp, c_double_p])
_mean = fn("berg_bayes_mean", [_vp, c_double_p, c_double_p])
_trajectory = fn("berg_bayes_trajectory", [_vp, _sz, c_double_p, c_double_p, c_double_p])
_predictive = fn("berg_bayes_predictive", [_vp, c_double_p])
_predictive_fft = fn("berg_bayes_predictive_fft", [_vp, c_double_p])

_d_create = fn("berg_dictionary_create", [ctypes.POINTER(_vp), _vp, _d])
_d_destroy = fn("berg_dictionary_destroy", [_vp], None)
_d_tau = fn("berg_dictionary_tau", [_vp], _d)
_d_getters = {name: fn("berg_dictionary_" + name, [_vp, c_double_p])
              for name in ("map", "inverse_metric", "parameter_inverse_metric", "fisher",
                           "jacobian", "drift", "potential", "heat_time")}
_d_scheme = fn("berg_dictionary_scheme", [_vp, c_double_p, c_double_p])
_flow = fn("berg_bayes_backward_flow", [_vp, _d, _d, _sz, c_double_p, c_double_p])
_discrepancy = fn("berg_bayes_flow_discrepancy", [_vp, _d, _sz, c_double_p, c_double_p])
_d_from_erg = fn("berg_dictionary_from_erg", [_vp, c_double_p, c_double_p, c_double_p])

_ch_create = fn("berg_channel_create", [ctypes.POINTER(_vp), _vp, ctypes.c_int, _d, c_double_p])
_ch_destroy = fn("berg_channel_destroy", [_vp], None)
_ch_apply = fn("berg_channel_apply", [_vp, c_double_p, c_double_p])
_ch_adjoint = fn("berg_channel_adjoint", [_vp, c_double_p, c_double_p])
_petz = fn("berg_channel_petz_recover", [_vp, c_double_p, c_double_p, c_double_p])

CHANNEL_HEAT = _lib.constant("BERG_CHANNEL_HEAT")
CHANNEL_FP = _lib.constant("BERG_CHANNEL_FP")


def _grid(space, a, name):
    return _lib.as_array(a, space.shape, name)


class Bayes(_lib.Handle):
    """A prior on a parameter Space, a model and the posterior after the data
    (berg_bayes). Grid arrays have the shape of their Space."""

    _destroy = _b_destroy

    def __init__(self, param, prior, data):
        self.param, self.data = param, data
        self.du, self.dy = param.ndim, data.ndim
        pr = _grid(param, prior, "prior")
        h = _vp()
        check(_create(ctypes.byref(h), param.handle, data.handle, ptr(pr), 0))
        self._h = h
        self._guard = _lib.CallbackGuard()
        self._keep = ()

    def _call(self, status):
        return self._guard.check(status)

    def set_location(self, G, logp0=None, noise_space=None, noise=None):
        """Location model Y = G(U) + N. G(u) -> dy values (u: du values);
        the noise either as logp0(n) -> float or as a density `noise` on
        `noise_space`."""
        du, dy = self.du, self.dy
        g = self._guard

        def fwd(_du, u, _dy, y, _ud):
            val = np.atleast_1d(np.asarray(G(np.ctypeslib.as_array(u, (du,)).copy()), float))
            if val.shape != (dy,):
                raise ValueError(f"G returned shape {val.shape}, expected {(dy,)}")
            for i in range(dy):
                y[i] = val[i]
            return 0

        cf = _FORWARD(g.wrap(fwd))
        if logp0 is not None:
            def noisef(_dy, n, lp, _ud):
                lp[0] = float(logp0(np.ctypeslib.as_array(n, (dy,)).copy()))
                return 0
            cn = _NOISE(g.wrap(noisef))
            self._call(_set_location(self._h, None, None, cf, cn, None))
            self._keep = (cf, cn)
        else:
            if noise_space is None or noise is None:
                raise ValueError("give logp0, or noise_space and noise")
            arr = _grid(noise_space, noise, "noise")
            self._call(_set_location(self._h, noise_space.handle, ptr(arr), cf,
                                     _NOISE(), None))
            self._keep = (cf,)
        return self

    def set_loglik(self, loglik):
        """General model: loglik(u, y) -> ln p(y | u)."""
        du, dy = self.du, self.dy

        def f(_du, u, _dy, y, lp, _ud):
            lp[0] = float(loglik(np.ctypeslib.as_array(u, (du,)).copy(),
                                 np.ctypeslib.as_array(y, (dy,)).copy()))
            return 0
        cf = _LOGLIK(self._guard.wrap(f))
        self._call(_set_loglik(self._h, cf, None))
        self._keep = (cf,)
        return self

    def reset(self):
        check(_reset(self._h))

    def observe(self, y):
        """Observe data: a scalar or array of scalars (dy = 1), or an array of
        shape (count, dy). All or nothing."""
        y = np.ascontiguousarray(y, dtype=float)
        y = y.reshape(-1, self.dy) if y.ndim <= 1 else y
        if y.shape[1] != self.dy:
            raise ValueError(f"data have {y.shape[1]} components, the data space {self.dy}")
        self._call(_observe(self._h, y.shape[0], ptr(y)))

    def set_truth(self, pstar):
        """The truth p* (density on the data space) of the expected-data flow."""
        self._call(_set_truth(self._h, ptr(_grid(self.data, pstar, "pstar"))))

    def divergence(self):
        """D(u) = KL(p* || p(.|u)) on the parameter grid."""
        out = np.empty(self.param.shape)
        check(_divergence(self._h, ptr(out)))
        return out

    def expected(self, T):
        """State <- pi_0 e^{-T D} / Z."""
        check(_expected(self._h, float(T)))

    @property
    def count(self):
        """The amount of data T (observations, or the T of expected())."""
        return _time(self._h)

    def posterior(self):
        out = np.empty(self.param.shape)
        check(_posterior(self._h, ptr(out)))
        return out

    def log_posterior(self):
        out = np.empty(self.param.shape)
        check(_log_posterior(self._h, ptr(out)))
        return out

    def map(self):
        out = np.empty(self.du)
        check(_map(self._h, ptr(out)))
        return out

    def mean(self):
        """(mean, covariance) of the posterior."""
        m, c = np.empty(self.du), np.empty((self.du, self.du))
        check(_mean(self._h, ptr(m), ptr(c)))
        return m, c

    def trajectory(self, T):
        """(map, mean), each len(T) x du, of the expected-data flow."""
        T = np.ascontiguousarray(np.atleast_1d(T), dtype=float)
        mp, mn = np.empty((T.size, self.du)), np.empty((T.size, self.du))
        check(_trajectory(self._h, T.size, ptr(T), ptr(mp), ptr(mn)))
        return mp, mn

    def predictive(self):
        """Posterior predictive p_T(y) on the data grid."""
        out = np.empty(self.data.shape)
        self._call(_predictive(self._h, ptr(out)))
        return out

    def predictive_fft(self):
        """The predictive by FFT convolution (affine G, du = dy = 1)."""
        out = np.empty(self.data.shape)
        self._call(_predictive_fft(self._h, ptr(out)))
        return out

    def backward_flow(self, tau1, tau2, p1, nsteps=1):
        """The backward drift-diffusion (eq 57) of p1 from tau1 to tau2."""
        p1 = _grid(self.data, p1, "p1")
        out = np.empty(self.data.shape)
        self._call(_flow(self._h, float(tau1), float(tau2), _lib.size_t(nsteps, "nsteps"),
                         ptr(p1), ptr(out)))
        return out

    def flow_discrepancy(self, tau, nsteps=1):
        """(L1, KL) between the direct predictive at tau and the backward flow from 0."""
        l1, kl = _d(), _d()
        self._call(_discrepancy(self._h, float(tau), _lib.size_t(nsteps, "nsteps"),
                                ctypes.byref(l1), ctypes.byref(kl)))
        return l1.value, kl.value


class Dictionary(_lib.Handle):
    """The ERG data of table p.33 at tau from a location-model Bayes with a
    truth (berg_dictionary). Keep the Bayes object alive while using it."""

    _destroy = _d_destroy

    def __init__(self, bayes, tau):
        h = _vp()
        bayes._call(_d_create(ctypes.byref(h), bayes.handle, float(tau)))
        self._h, self._bayes = h, bayes
        self.du, self.dy = bayes.du, bayes.dy

    def _get(self, name, shape):
        out = np.empty(shape)
        check(_d_getters[name](self._h, ptr(out)))
        return out

    @property
    def tau(self):
        return _d_tau(self._h)

    @property
    def map(self):
        return self._get("map", (self.du,))

    @property
    def inverse_metric(self):
        """K = J I^{-1} J^T (dy x dy)."""
        return self._get("inverse_metric", (self.dy, self.dy))

    @property
    def parameter_inverse_metric(self):
        return self._get("parameter_inverse_metric", (self.du, self.du))

    @property
    def fisher(self):
        return self._get("fisher", (self.du, self.du))

    @property
    def jacobian(self):
        return self._get("jacobian", (self.dy, self.du))

    @property
    def drift(self):
        return self._get("drift", (self.dy,))

    @property
    def potential(self):
        """V(y) = -ln p0(y - G(gamma_tau)) on the data grid."""
        return self._get("potential", self._bayes.data.shape)

    @property
    def heat_time(self):
        return float(self._get("heat_time", (1,))[0])

    def scheme(self, u):
        """Sigma(y) = Phi(u; y) - Phi(gamma_tau; y) on the data grid."""
        u = np.ascontiguousarray(np.atleast_1d(u), dtype=float)
        out = np.empty(self._bayes.data.shape)
        self._bayes._call(_d_scheme(self._h, ptr(u), ptr(out)))
        return out


def dictionary_flow(bayes, tau1, tau2, p1, nsteps=1):
    """The backward drift-diffusion (eq 57) of p1 from tau1 to tau2
    (Bayes.backward_flow)."""
    return bayes.backward_flow(tau1, tau2, p1, nsteps)


def dictionary_discrepancy(bayes, tau, nsteps=1):
    """(L1, KL) between the direct predictive at tau and the backward flow
    from 0 (Bayes.flow_discrepancy)."""
    return bayes.flow_discrepancy(tau, nsteps)


def dictionary_from_erg(data, V):
    """ERG -> Bayes: (noise density p0 = e^{-V}/Z, K_model = I_N^{-1})."""
    V = _grid(data, V, "V")
    p0, K = np.empty(data.shape), np.empty((data.ndim, data.ndim))
    check(_d_from_erg(data.handle, ptr(V), ptr(p0), ptr(K)))
    return p0, K


class Channel(_lib.Handle):
    """Heat (kind=CHANNEL_HEAT or "heat") or Fokker-Planck (CHANNEL_FP or
    "fp", potential V) channel at time t, its adjoint and the Petz recovery
    map."""

    _KINDS = {"heat": CHANNEL_HEAT, "fp": CHANNEL_FP}
    _destroy = _ch_destroy

    def __init__(self, space, t, kind=CHANNEL_HEAT, V=None):
        if isinstance(kind, str):
            try:
                kind = self._KINDS[kind.lower()]
            except KeyError:
                raise ValueError(f"unknown channel kind {kind!r}; use one of "
                                 f"{sorted(self._KINDS)}") from None
        self.space = space
        Va = None if V is None else _grid(space, V, "V")
        h = _vp()
        check(_ch_create(ctypes.byref(h), space.handle, int(kind), float(t), ptr(Va)))
        self._h = h

    def _run(self, f, a, name):
        out = _lib.out_array(None, self.space.shape, like=a)
        a = _grid(self.space, a, name)
        check(f(self._h, ptr(a), ptr(out)))
        return out

    def __call__(self, p):
        return self._run(_ch_apply, p, "p")

    def adjoint(self, f):
        return self._run(_ch_adjoint, f, "f")

    def recover(self, sigma, rho1):
        """Petz map R(rho1) = sigma . E^dagger(rho1 / E(sigma))."""
        s = _grid(self.space, sigma, "sigma")
        r = _grid(self.space, rho1, "rho1")
        out = _lib.out_array(None, self.space.shape, like=rho1)
        check(_petz(self._h, ptr(s), ptr(r), ptr(out)))
        return out
