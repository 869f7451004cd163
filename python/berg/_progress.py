"""Progress reports and Ctrl-C for the long libberg calls.

Every handle whose calls can run long (Sinkhorn, FokkerPlanck, W2Metric,
Bayes; FPSpectral's creation) gets one C progress callback when it is
created: the trampoline below. libberg calls it on the calling thread at the
start of a call, about every 10 ms of work and once at the end, before any
output is written. The trampoline

- lets Python run its signal handlers (``PyErr_CheckSignals``). During a
  call on the main thread SIGINT's handler is one that only records the
  signal (a KeyboardInterrupt raised inside a ctypes callback would be
  lost: Python can raise it on entering any function); the trampoline then
  returns non-zero, libberg stops the call with BERG_ERR_CANCELLED (outputs
  and handle unchanged) and, with the caller's handler back in place, the
  binding calls it: the default one raises KeyboardInterrupt;
- forwards ``(fraction, iteration, error)`` to the ``progress=`` of the
  running call: a callable (a true return value stops the call:
  :class:`CancelledError`), or ``True`` for a bar (tqdm when installed,
  else one line on stderr).

The call that is running on a thread is kept in a thread-local, so one
handle may be used from several threads at once.
"""
from __future__ import annotations

import ctypes
import math
import signal
import sys
import threading
from typing import Callable, Union

from . import _lib

#: ``int (*)(double fraction, size_t iteration, double error, void *user_data)``
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.c_size_t, ctypes.c_double,
                               ctypes.c_void_p)

#: what ``progress=`` accepts
ProgressArg = Union[None, bool, Callable[[float, int, float], object]]

_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.argtypes = []
_check_signals.restype = ctypes.c_int

_tls = threading.local()
_CANCELLED = CANCELLED = _lib.constant("BERG_ERR_CANCELLED")


def _trampoline(fraction, iteration, error, _user_data):
    call = getattr(_tls, "call", None)
    if call is None:  # a call not made through the binding's wrappers
        return 0
    try:
        _check_signals()  # runs Call._on_sigint when SIGINT is pending (main thread)
        if call.interrupted:
            return 1
        if call.report is not None and call.report(fraction, int(iteration), error):
            call.stopped = True
            return 1
        return 0
    except BaseException as exc:  # noqa: B902 - re-raised by Call.check after the C call
        call.error = exc
        return 1


_C_TRAMPOLINE = PROGRESS_FN(_trampoline)


def trampoline():
    """The C progress callback, for calls that take it as an argument."""
    return _C_TRAMPOLINE


def attach(setter, handle) -> None:
    """Install the trampoline on a new handle with its berg_*_set_progress."""
    _lib.check(setter(handle, _C_TRAMPOLINE, None))


class _Bar:
    """``progress=True``: a tqdm bar when tqdm is installed, else one line on
    stderr; made at the first report, closed at the end of the call."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar = None
        self.started = False

    def __call__(self, fraction: float, iteration: int, error: float) -> bool:
        if not self.started:
            self.started = True
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=100, desc=self.desc, unit="%", leave=False)
            except ImportError:
                self.bar = None
        err = "" if math.isnan(error) else f"{error:.3g}"
        if self.bar is not None:
            if not math.isnan(fraction):
                self.bar.n = round(100.0 * fraction, 1)
            self.bar.set_postfix(iteration=iteration, error=err, refresh=False)
            self.bar.refresh()
        else:
            pct = "   ?  " if math.isnan(fraction) else f"{100.0 * fraction:5.1f}%"
            sys.stderr.write(f"\r{self.desc}: {pct}  iteration {iteration}"
                             + (f"  error {err}" if err else ""))
            sys.stderr.flush()
        return False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.started:
            sys.stderr.write("\n")
            sys.stderr.flush()


class Call:
    """One long call: ``with Call(progress, "desc") as c: c.check(cfunc(...))``.

    ``progress``: None/False (only Ctrl-C), True (a bar), or a callable
    ``progress(fraction, iteration, error)`` returning a true value to stop.
    """

    def __init__(self, progress: ProgressArg, desc: str) -> None:
        if progress is None or progress is False:
            self.report = None
        elif progress is True:
            self.report = _Bar(desc)
        elif callable(progress):
            self.report = progress
        else:
            raise TypeError(f"progress must be None, a bool or a callable "
                            f"(fraction, iteration, error), not {type(progress).__name__}")
        self.error = None
        self.stopped = False
        self.interrupted = False
        self._old_handler = None

    def _on_sigint(self, signum, frame) -> None:
        self.interrupted = True

    def _restore(self) -> None:
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)

    def _deliver(self) -> None:
        """Give a recorded SIGINT to the caller's handler (default: KeyboardInterrupt)."""
        self._restore()
        if self.interrupted:
            self.interrupted = False
            self._old_handler(signal.SIGINT, None)

    def __enter__(self) -> "Call":
        self._outer = getattr(_tls, "call", None)
        _tls.call = self
        if self._outer is None and threading.current_thread() is threading.main_thread():
            handler = signal.getsignal(signal.SIGINT)
            if callable(handler):
                self._old_handler = handler
                signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        _tls.call = self._outer
        if isinstance(self.report, _Bar):
            self.report.close()
        if exc_type is None:
            self._deliver()
        else:
            self._restore()

    def check(self, status: int) -> int:
        """Raise what stopped the call (KeyboardInterrupt, an exception of the
        progress callable, or CancelledError when it returned true), else as
        _lib.check."""
        self._deliver()
        err, self.error = self.error, None
        if err is not None and status == _CANCELLED:
            raise err
        return _lib.check(status)
