#!/usr/bin/env python3
"""Draw the couplings and beta functions written by examples/erg_phi4.c.

Usage: plot_erg.py [erg_phi4.csv [docs/img/erg_phi4.png]]

Left: the couplings lambda^i(Lambda) of phi^2, phi^4, (grad phi)^2 and of
the seed action S^_Lambda (whose coupling is 1 on the Polchinski flow, so
that the others are the couplings of the interaction V_Lambda), with
their standard errors. Right: the beta functions beta^i = -d lambda^i /
d ln Lambda against lambda^i along the flow (eq 2). Points whose standard
error exceeds 0.5 (the infrared end, where few lattice modes are left
and the fit loses them) are not drawn.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

NAMES = [("phi2", r"$\phi^2$"), ("phi4", r"$\phi^4$"), ("grad2", r"$(\nabla\phi)^2$"),
         ("seed", r"$\hat S_\Lambda$")]
MAX_SE = 0.5


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "erg_phi4.csv"
    dst = sys.argv[2] if len(sys.argv) > 2 else "docs/img/erg_phi4.png"
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    col = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    lam = col["lambda"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in NAMES:
        ok = col[key + "_se"] < MAX_SE
        a.errorbar(lam[ok], col[key][ok], yerr=col[key + "_se"][ok], marker="o", ms=3,
                   capsize=2, label=label)
        if key in ("phi2", "phi4"):
            okb = ok & (col["beta_" + key + "_se"] < MAX_SE)
            b.errorbar(col[key][okb], col["beta_" + key][okb], xerr=col[key + "_se"][okb],
                       yerr=col["beta_" + key + "_se"][okb], marker="o", ms=3, capsize=2,
                       label=label)
    a.set_xscale("log")
    a.invert_xaxis()
    a.set_xlabel(r"$\Lambda$ (flow runs to the right)")
    a.set_ylabel(r"$\lambda^i(\Lambda)$")
    a.set_title(r"2-D $\phi^4$, Wegner-Morris flow: couplings by score matching")
    a.axhline(0.0, color="0.7", lw=0.8)
    a.legend(fontsize=8)
    b.axhline(0.0, color="0.7", lw=0.8)
    b.set_xlabel(r"$\lambda^i$")
    b.set_ylabel(r"$\beta^i = -d\lambda^i / d\ln\Lambda$")
    b.set_title("beta functions along the flow")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print(f"plot_erg: {dst}")


if __name__ == "__main__":
    main()
