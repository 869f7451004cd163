#!/usr/bin/python3
"""Draw the CSV curves written by berg_demo into one PNG.

    /usr/bin/python3 examples/plot_dictionary.py [outdir]     (default examples/out)

writes <outdir>/dictionary.png: (a) the discrepancy between the Bayesian
predictive and the ERG backward flow against tau, with tau and tau^2 guides;
(b) KL to the fixed point and the information retained along the flow;
(c) the two predictives of the u^3 + Laplace model at tau = 0.04;
(d) Petz recovery error and the data-processing loss.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("examples", "out")
    models = {m: read(os.path.join(outdir, f"dictionary_{m}.csv")) for m in ("normal", "cubic")}
    label = {"normal": "u + N(0,1)", "cubic": "u^3 + Laplace(1)"}
    fig, ax = plt.subplots(2, 2, figsize=(11, 8.5))

    a = ax[0, 0]
    for m, d in models.items():
        a.loglog(d["tau"], [max(v, 1e-17) for v in d["discrepancy_l1"]], "o-", label=label[m])
    t = models["cubic"]["tau"]
    c = models["cubic"]["discrepancy_l1"][0] / t[0]
    a.loglog(t, [c * x for x in t], "k:", label="~ tau")
    a.loglog(t, [c * x * x / t[0] for x in t], "k--", label="~ tau^2")
    a.set_xlabel("tau = 1/T")
    a.set_ylabel("L1(Bayes predictive, ERG flow)")
    a.set_title("(a) Bayes vs ERG direction")
    a.legend(fontsize=8)

    a = ax[0, 1]
    for m, d in models.items():
        a.plot(d["tau"], d["kl_fixed_point"], "o-", label=f"KL(p||q), {label[m]}")
        a.plot(d["tau"], d["info_retained"], "s--", label=f"I(Y0;Yt), {label[m]}")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("tau")
    a.set_title("(b) information along the flow")
    a.legend(fontsize=8)

    a = ax[1, 0]
    p = read(os.path.join(outdir, "predictive_cubic.csv"))
    a.plot(p["y"], p["p0"], color="0.6", label="p_0 (likelihood at the MAP)")
    a.plot(p["y"], p["p_direct"], label="Bayes predictive, tau = 0.04")
    a.plot(p["y"], p["p_flow"], "--", label="ERG backward flow, tau = 0.04")
    a.set_xlim(-4, 6)
    a.set_xlabel("y")
    a.set_title("(c) u^3 + Laplace: the two directions")
    a.legend(fontsize=8)

    a = ax[1, 1]
    for m, d in models.items():
        a.loglog(d["tau"], d["petz_kl"], "o-", label=f"KL(p0||R(E p0)), {label[m]}")
        a.loglog(d["tau"], d["dpi_loss"], "s--", label=f"D loss, {label[m]}")
    a.set_xlabel("tau")
    a.set_title("(d) Petz recovery of the heat channel")
    a.legend(fontsize=8)

    fig.tight_layout()
    out = os.path.join(outdir, "dictionary.png")
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
