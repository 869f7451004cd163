"""libberg from Python: ERG flows and dynamical Bayesian inference on grids.

A ctypes binding (standard library + numpy). Every libberg status maps to an
exception class (all subclasses of BergError) carrying berg_last_error().
Each module of the C library adds its classes here.
"""
from ._lib import (  # noqa: F401
    BergError, BergIOError, CallbackError, CancelledError, ConvergenceError, DomainError,
    InternalError,
    MassError, MismatchError, NegativeDensityError, NonFiniteError, NotSPDError,
    NotTangentError, NullError, OutOfMemoryError, OutOfRangeError, ParseError, SizeError,
    TimeError, UnsupportedError, library_path, set_threads, threads, version, version_number)
from .space import DIRICHLET, NEUMANN, PERIODIC, Space  # noqa: F401

__version__ = version
from .propagator import *  # noqa: F401,F403,E402
from .flow import *  # noqa: F401,F403,E402
from .metric import *  # noqa: F401,F403,E402
from .transport import *  # noqa: F401,F403,E402
from .fisher import *  # noqa: F401,F403,E402
from .dictionary import *  # noqa: F401,F403,E402
from .erg import *  # noqa: F401,F403,E402
from .couplings import *  # noqa: F401,F403,E402
