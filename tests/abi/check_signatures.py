#!/usr/bin/env python3
"""The signature rule of docs/conventions.md, checked on every public function.

For each BERG_API declaration and each callback typedef of include/berg/*.h:
  - parameters come in the order of their kinds, never going back:
      0 object (the handle, creators' `**out` and the handles they are built on)
      1 scalars by value        2 input pointers (const)
      3 output pointers         4 `unsigned flags`
      5 callbacks (berg_*_fn)   6 `void *user_data` (right after a callback)
  - no `int`, `long`, `short` or plain `unsigned` parameter: counts, ranks,
    axes, orders and thread counts are size_t (`unsigned flags` and
    `unsigned long long` seeds excepted);
  - callbacks return int and take `void *user_data` last;
  - a function whose verb applies or reads a plan (apply, evolve, solve, ...)
    takes a const handle, so that one handle can serve many threads;
  - void only for destroy / free / clear;
  - a function's name belongs to its header: an object's prefix
    (berg_heat_, berg_fisher_, ...) is used only in that object's header;
  - every declaration carries a /** Doxygen comment with a @return for a
    status, a @param for each parameter and @since.
Usage: check_signatures.py INCLUDE_DIR
"""
import pathlib
import re
import sys

# object prefixes and the header that owns each
OWNER = {
    "berg_space_": "space.h",
    "berg_heat_": "heat.h", "berg_multiplier_": "heat.h", "berg_regulator_": "heat.h",
    "berg_wisdom_": "heat.h",
    "berg_fp_": "fokker_planck.h",
    "berg_particles_": "stochastic.h", "berg_langevin_": "stochastic.h",
    "berg_w2_metric_": "w2_geometry.h",
    "berg_sinkhorn_": "transport.h",
    "berg_fisher_": "fisher.h",
    "berg_bayes_": "bayes.h",
    "berg_dictionary_": "dictionary.h",
    "berg_channel_": "channel.h",
    "berg_scheme_": "erg.h", "berg_erg_": "erg.h",
    "berg_couplings_": "couplings.h", "berg_basis_": "couplings.h",
    "berg_mpi_": "mpi.h",
}
CONST_VERBS = ("_apply", "_apply_batch", "_apply_times", "_exp_apply", "_evolve", "_stationary",
               "_random_field", "_cost", "_divergence", "_solve", "_barycenter", "_report",
               "_potential", "_inner", "_tangent", "_generator_apply", "_backward_apply",
               "_velocity", "_scheme", "_eigenvalues", "_mode", "_channel_information",
               "_petz_recover", "_adjoint")
VOID_OK = re.compile(r"_destroy$|^berg_free$|^berg_clear_error$")
KIND_NAMES = ["object", "scalar", "input", "output", "flags", "callback", "user_data"]


def strip_comments(text):
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", " ", text, flags=re.S))


def split_params(params):
    params = " ".join(params.split())
    if params in ("", "void"):
        return []
    return [p.strip() for p in params.split(",")]


def param_name(p):
    m = re.search(r"(\w+)\s*(\[[^\]]*\])?$", p)
    return m.group(1) if m else p


def classify(p, handles, leading, is_creator, pos):
    t = p[: p.rfind(param_name(p))].strip()
    name = param_name(p)
    if re.search(r"\bberg_\w+_fn\b", t):
        return 5
    if name == "user_data" and t.replace(" ", "") == "void*":
        return 6
    if name == "flags" and t == "unsigned":
        return 4
    if "*" in t:
        base = re.sub(r"\bconst\b|\*", " ", t).split()
        base = base[-1] if base else ""
        if t.count("*") == 2 and pos == 0:
            return 0
        if leading and base in handles:
            return 0
        return 2 if t.startswith("const") and t.count("*") == 1 else 3
    return 1


def check_scalar_type(fn, p, problems):
    t = p[: p.rfind(param_name(p))].strip()
    if "*" in t or t.endswith("_fn"):
        return
    name = param_name(p)
    words = t.replace("const", "").split()
    if words == ["unsigned"] and name == "flags":
        return
    if words == ["unsigned", "long", "long"]:
        return
    if any(w in ("int", "long", "short", "char", "signed") for w in words) or words == ["unsigned"]:
        problems.append(f"{fn}: parameter '{p}' is {t}: counts, ranks, axes and orders are size_t")


def main():
    include = pathlib.Path(sys.argv[1])
    problems, nfun, ntype = [], 0, 0
    headers = sorted((include / "berg").glob("*.h"))
    handles = set()
    for h in headers:
        handles.update(re.findall(r"typedef\s+struct\s+(berg_\w+)\s+\1\s*;", h.read_text()))
    for h in headers:
        raw = h.read_text()
        text = strip_comments(raw)
        # callback typedefs
        for m in re.finditer(r"typedef\s+(\w[\w\s\*]*?)\s*\(\s*\*\s*(berg_\w+)\s*\)\s*\(([^)]*)\)\s*;",
                             text):
            ntype += 1
            ret, name, params = m.group(1).strip(), m.group(2), split_params(m.group(3))
            if not name.endswith("_fn"):
                problems.append(f"{h.name}: callback type {name} does not end in _fn")
            if ret != "int":
                problems.append(f"{name}: callbacks return int (0 success), not {ret}")
            if not params or params[-1].replace(" ", "") != "void*user_data":
                problems.append(f"{name}: the last parameter must be void *user_data")
            for p in params:
                check_scalar_type(name, p, problems)
        # functions
        for m in re.finditer(r"BERG_API\s+([^;{(]*?)\b(berg_\w+)\s*\(([^)]*)\)\s*;", text):
            nfun += 1
            ret, fn, params = " ".join(m.group(1).split()), m.group(2), split_params(m.group(3))
            # documentation right above the declaration
            pos = raw.find(fn + "(")
            while pos >= 0 and "BERG_API" not in raw[raw.rfind("\n", 0, pos) - 200 if pos > 200 else 0:pos]:
                pos = raw.find(fn + "(", pos + 1)
            api = raw.rfind("BERG_API", 0, pos)
            before = raw[:api].rstrip()
            doc = before[before.rfind("/**"):] if before.endswith("*/") else ""
            if not doc.startswith("/**"):
                problems.append(f"{fn}: no /** Doxygen comment right above the declaration")
            else:
                for p in params:
                    pn = param_name(p)
                    if not re.search(r"@param(\[[a-z,]+\])?\s+" + re.escape(pn) + r"\b", doc):
                        problems.append(f"{fn}: no @param for '{pn}'")
                if ret == "berg_status" and "@return" not in doc:
                    problems.append(f"{fn}: no @return naming the statuses")
                if "@since" not in doc:
                    problems.append(f"{fn}: no @since")
            # ownership of the name
            for prefix, owner in OWNER.items():
                if fn.startswith(prefix) and owner != h.name and not (
                        prefix == "berg_fp_" and h.name == "fokker_planck.h"):
                    problems.append(f"{fn} (in {h.name}) carries the prefix {prefix} of {owner}")
            if ret == "void" and not VOID_OK.search(fn):
                problems.append(f"{fn}: returns void; only destroy/free/clear may")
            is_creator = "_create" in fn
            last, leading, seen_cb = -1, True, False
            for i, p in enumerate(params):
                k = classify(p, handles, leading, is_creator, i)
                if k != 0:
                    leading = False
                if i == 0 and k != 0 and is_creator:
                    problems.append(f"{fn}: a creator's first parameter is the berg_x **out")
                if k == 6 and not seen_cb:
                    problems.append(f"{fn}: user_data without a callback before it")
                if k == 5:
                    seen_cb = True
                if k < last:
                    problems.append(f"{fn}: parameter '{p}' ({KIND_NAMES[k]}) comes after a "
                                    f"parameter of kind {KIND_NAMES[last]}")
                last = max(last, k)
                check_scalar_type(fn, p, problems)
            if seen_cb and (not params or param_name(params[-1]) != "user_data"):
                problems.append(f"{fn}: takes a callback but user_data is not its last parameter")
            if fn.endswith(CONST_VERBS) and params and fn.split("_")[1] + "_" != "space_":
                first = params[0]
                base = re.sub(r"\bconst\b|\*", " ", first).split()[0]
                if base in handles and not first.startswith("const"):
                    problems.append(f"{fn}: applies a plan through a non-const handle ({first})")
    for p in problems:
        print("FAIL", p)
    print(f"signature-rule: {nfun} functions, {ntype} callback types; "
          f"{nfun + ntype - len(set(p.split(':')[0] for p in problems))} passed, "
          f"{len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
