"""berg-wisdom writes wisdom that libberg imports at its first planning, so
that MEASURE creation afterwards measures nothing (time-free: FFTW adds an
entry to its wisdom for every problem it measures; an unchanged wisdom after
the creations means every plan came from the imported wisdom).

    test_berg_wisdom.py BERG_WISDOM_EXE WISDOM_PROBE_EXE
"""
import os
import subprocess
import sys
import tempfile

tool, probe = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def entries(path):
    """the wisdom's entries (one per line after the header line)"""
    with open(path) as f:
        lines = [ln.strip() for ln in f.read().splitlines()]
    return [ln for ln in lines[1:] if ln.startswith("(")]


def run_probe(tmp, wisdom_env, tag):
    env = dict(os.environ)
    if wisdom_env is None:
        env.pop("BERG_WISDOM", None)
    else:
        env["BERG_WISDOM"] = wisdom_env
    before, after = os.path.join(tmp, tag + ".before"), os.path.join(tmp, tag + ".after")
    r = subprocess.run([probe, before, after], env=env, capture_output=True, text=True)
    check(r.returncode == 0, f"{tag}: probe ran (stderr: {r.stderr.strip()})")
    if r.returncode != 0:
        return [], []
    return entries(before), entries(after)


with tempfile.TemporaryDirectory() as tmp:
    wisdom = os.path.join(tmp, "wisdom")
    env = dict(os.environ, BERG_WISDOM="")  # start from no system wisdom
    r = subprocess.run([tool, "-o", wisdom, "48x40:np", "64"], env=env, capture_output=True,
                       text=True)
    check(r.returncode == 0, f"berg-wisdom -o FILE 48x40:np 64 exits 0 ({r.stderr.strip()})")
    written = entries(wisdom) if os.path.exists(wisdom) else []
    head = open(wisdom).readline() if os.path.exists(wisdom) else ""
    check(head.startswith("(fftw-3") and len(written) > 0,
          f"the file is FFTW wisdom with entries ({len(written)} entries)")

    # the same, to the location named by $BERG_WISDOM (no -o)
    envw = dict(os.environ, BERG_WISDOM=os.path.join(tmp, "by-env"))
    r = subprocess.run([tool, "-q", "64"], env=envw, capture_output=True, text=True)
    check(r.returncode == 0 and len(entries(envw["BERG_WISDOM"])) > 0,
          "without -o the wisdom goes to $BERG_WISDOM")

    # imported at the first wisdom call, and MEASURE creation measures nothing
    before, after = run_probe(tmp, wisdom, "imported")
    check(set(written) <= set(before),
          f"every written entry is in libberg's wisdom at its first call "
          f"({len(set(written) - set(before))} missing of {len(written)})")
    check(after == before, f"MEASURE heat + multiplier creation on those grids adds no wisdom "
          f"({len(before)} entries before, {len(after)} after)")

    # the control: with no wisdom the same creations measure (wisdom grows),
    # so 'unchanged' above is a real observation; a missing or corrupt file
    # is skipped, never an error
    bad = os.path.join(tmp, "not-wisdom")
    with open(bad, "w") as f:
        f.write("(this is not fftw wisdom\n")
    for tag, val in (("disabled", ""), ("missing", os.path.join(tmp, "absent")),
                     ("corrupt", bad)):
        before, after = run_probe(tmp, val, tag)
        check(len(before) == 0, f"{tag}: no wisdom at the first call ({len(before)} entries)")
        check(len(after) > len(before),
              f"{tag}: MEASURE creation measured ({len(after)} entries after)")

    # usage errors are refused with status 2, nothing written
    for args in (["0x4"], ["64:q"], ["64x64:p"], ["-t", "0", "64"], []):
        out = os.path.join(tmp, "usage")
        r = subprocess.run([tool, "-o", out] + args, env=env, capture_output=True, text=True)
        check(r.returncode == 2 and not os.path.exists(out),
              f"berg-wisdom {' '.join(args)}: usage error (exit {r.returncode})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
