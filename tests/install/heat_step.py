"""An installed berg, used as a new user would (scripts/check-install runs
this from an empty directory with no build tree around it, BERG_LIBRARY and
PYTHONPATH unset unless the check sets PYTHONPATH to the install prefix).

    python heat_step.py EXPECTED_LIBRARY_DIR

One heat step of a unit Gaussian: the variance grows from 1 to 1 + 2 t, and
berg.library_path must be the library installed with the package (under
EXPECTED_LIBRARY_DIR), not some other libberg on the machine.
"""
import os
import sys

import numpy as np

import berg

want_dir = os.path.realpath(sys.argv[1])
S = berg.Space(512, -12.0, 12.0)
(x,) = S.grid()
p, _ = S.normalize(np.exp(-x ** 2 / 2))
t = 0.25
q, _ = S.clip_roundoff(berg.Heat(S).apply(p, t))  # FFT round-off below 0
var = float(np.ravel(S.covariance(q))[0])
err = abs(var - (1 + 2 * t))
print(f"berg {berg.__version__} from {os.path.dirname(berg.__file__)}")
print(f"library {berg.library_path}")
print(f"heat step: variance {var:.12f}, want {1 + 2 * t} (error {err:.1e})")
ok = err < 1e-9 and os.path.realpath(berg.library_path).startswith(want_dir + os.sep)
ok = ok and os.path.realpath(berg.__file__).startswith(want_dir + os.sep)
if not ok:
    print("FAIL: wrong variance, or the package/library is not the installed one")
sys.exit(0 if ok else 1)
