#!/usr/bin/env python3
"""Generate the bad-input table from the public headers.

Usage: gen_badinput.py INCLUDE_DIR OUT.c

For every BERG_API function of include/berg/*.h (parsed with the signature
checker's parser, tests/abi/check_signatures.py) it writes one runner per
case: the call with valid arguments from the per-type factories of
badinput_support.h (case 0, the baseline), then one case per mutation of a
single argument:
  pointers        NULL
  size_t          0, SIZE_MAX, SIZE_MAX / 8 + 1 (the byte size overflows)
  double          NaN, +inf, -inf, -1, 0, 1e308, the smallest subnormal
  unsigned flags  an unknown bit (0x80000000), an unused low bit (0x2)
  enums           99 and -1
  seeds           ULLONG_MAX
  input arrays    element 0 NaN / +inf / -1 / 1e308; every element 1e300
                  (finite, but sums overflow); every element subnormal
The C driver (test_badinput.c) runs each case in its own process and
checks the library's promises.
"""
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "abi"))
from check_signatures import strip_comments, split_params, param_name  # noqa: E402

# valid size_t values by parameter name (dimension-like counts are 1: every
# matrix is 1 x 1 and the standard space has rank 1)
SIZE_VALID = {"ndim": "1", "d": "1", "dim": "1", "du": "1", "dy": "1", "npar": "1",
              "count": "2", "nsamples": "4", "nt": "2", "nT": "2", "np": "3", "batch": "1",
              "nthreads": "1", "order": "2", "axis": "0", "nsteps": "2",
              "max_iterations": "100", "size": "16", "k": "1", "iteration": "1",
              "ntimes": "2"}  # ntimes: fp time-dependent (issue 17)
SIZE_BY_FN = {("berg_sinkhorn_barycenter", "k"): "2", ("berg_fp_spectral_mode", "k"): "1",
              ("berg_alloc", "count"): "4", ("berg_alloc", "size"): "8",
              ("berg_fisher_expfam", "k"): "1", ("berg_heat_apply_batch", "count"): "1"}
DOUBLE_BY_FN = {("berg_bayes_flow_discrepancy", "tau"): "1.0",
                ("berg_heat_channel_information", "t"): "1.0"}
# pointers passed as NULL in the valid call (one of two alternatives)
POINTER_NULL = {("berg_bayes_set_location", "noise_space"), ("berg_bayes_set_location", "noise")}
# handles whose state the driver fingerprints (badinput_driver.h)
STATE_KIND = {"berg_bayes": 1, "berg_fisher_acc": 2, "berg_w2_metric": 3}
# callbacks passed as NULL in the valid call (the function takes one of two)
CALLBACK_NULL = {("berg_fisher_model", "score_fn"), ("berg_fisher_jacobian", "jac")}
DOUBLE_VALID = {"t": "0.1", "dt": "0.01", "tau": "0.05", "T": "1.0", "tau1": "0.1",
                "tau2": "0.2", "eps": "4.0", "lambda": "2.0", "regularization": "1e-3",
                "rtol": "1e-6", "tol": "1e-6", "tolerance": "1e-6", "order": "2.0",
                "mu1": "0.0", "mu2": "0.5", "sigma1": "1.0", "sigma2": "2.0", "a": "0.0",
                "b": "1.0", "theta": "0.5",
                "t0": "0.0", "t1": "0.1", "step": "0.0"}  # t0, t1, step: fp time-dependent (issue 17)
ENUM_VALID = {"berg_regulator": "BERG_REGULATOR_EXPONENTIAL", "berg_channel_kind": "BERG_CHANNEL_HEAT",
              "berg_status": "BERG_OK", "berg_boundary": "BERG_NEUMANN"}
ARRAY_FILL = {"V": "0.5 * pow(-3.75 + 0.5 * (double)(i % 16), 2)", "eta": "(i % 2 ? 0.01 : -0.01)", "eta1": "(i % 2 ? 0.01 : -0.01)",
              "eta2": "(i % 2 ? -0.02 : 0.02)", "lower": "-4.0", "upper": "4.0", "weights": "0.5", "metric": "1.0", "g": "1.0",
              "kp": "(double)i", "cp": "1.0 / (1.0 + (double)i)",
              "times": "(double)i"}  # times: fp time-dependent (issue 17)
# couplings (issue 17): ensembles of independent members, three scales
# increasing in ln Lambda, a basis of phi^2 on a periodic lattice
SIZE_VALID.update({"nbatch": "0", "nscales": "3"})
ENUM_VALID["berg_operator"] = "BERG_OPERATOR_PHI2"
ARRAY_FILL["log_scale"] = "(double)i"
PERIODIC_SPACE_FNS = ("berg_basis_create",)
# end couplings
# erg flow (issue 17): schemes on the standard periodic space, scales
# lambda0 > lambda1, strictly increasing table knots
DOUBLE_VALID.update({"lambda0": "2.0", "lambda1": "1.0", "mass2": "0.5", "g0": "0.5"})
ARRAY_FILL.update({"xp": "(double)i", "fp": "1.0 / (1.0 + (double)i)"})
PERIODIC_SPACE_FNS += ("berg_scheme_create", "berg_scheme_create_radial",
                       "berg_scheme_create_regulator")
# end erg flow
STRINGS = {"name": '"BERG_PLAN_ESTIMATE"', "path": '"/tmp/berg_badinput_wisdom.tmp"',
           "wisdom": '"(fftw-3.3.10 fftw_wisdom)"'}
DOUBLE_MUTS = [("NaN", "NAN"), ("+inf", "INFINITY"), ("-inf", "-INFINITY"), ("-1", "-1.0"),
               ("0", "0.0"), ("1e308", "1e308"), ("subnormal", "4.9406564584124654e-324")]
SIZE_MUTS = [("0", "0"), ("SIZE_MAX", "SIZE_MAX"), ("SIZE_MAX/8+1", "(SIZE_MAX / 8 + 1)")]
ARRAY_MUTS = [("[0]=NaN", "0", "NAN"), ("[0]=+inf", "0", "INFINITY"), ("[0]=-1", "0", "-1.0"),
              ("[0]=1e308", "0", "1e308"), ("all=1e300", "1", "1e300"),
              ("all=subnormal", "1", "4.9406564584124654e-324")]


def docs_of(raw, fn):
    """{param: (direction, text)} from the Doxygen block above fn"""
    pos = raw.find(fn + "(")
    while pos >= 0 and "BERG_API" not in raw[max(0, raw.rfind("\n", 0, pos) - 200):pos]:
        pos = raw.find(fn + "(", pos + 1)
    api = raw.rfind("BERG_API", 0, pos)
    before = raw[:api].rstrip()
    doc = before[before.rfind("/**"):] if before.endswith("*/") else ""
    out = {}
    for m in re.finditer(r"@param(\[([a-z,]+)\])?\s+(\w+)([^@]*)", doc):
        out[m.group(3)] = (m.group(2) or "", " ".join(m.group(4).split()))
    return out


def parse(include):
    funcs, handles, enums = [], set(), set()
    # berg/mpi.h is libberg_mpi's (collective calls under mpirun: tests/mpi)
    headers = [h for h in sorted((include / "berg").glob("*.h")) if h.name != "mpi.h"]
    for h in headers:
        text = h.read_text()
        handles.update(re.findall(r"typedef\s+struct\s+(berg_\w+)\s+\1\s*;", text))
        enums.update(re.findall(r"}\s*(berg_\w+)\s*;", strip_comments(text)))
    for h in headers:
        raw = h.read_text()
        for m in re.finditer(r"BERG_API\s+([^;{(]*?)\b(berg_\w+)\s*\(([^)]*)\)\s*;",
                             strip_comments(raw)):
            ret, fn = " ".join(m.group(1).split()), m.group(2)
            params = []
            for p in split_params(m.group(3)):
                name = param_name(p)
                ctype = " ".join(p[: p.rfind(name)].split())
                params.append((ctype, name))
            funcs.append((h.name, ret, fn, params, docs_of(raw, fn)))
    return funcs, handles, enums


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gen_function(fn, ret, params, docs, handles, enums):
    """the C runner of fn and its list of (param, mutation label)"""
    decls, args, muts, checks = [], [], [], []
    nbuf = nsz = 0
    is_destroy = fn.endswith("_destroy")
    for i, (t, name) in enumerate(params):
        v = f"a{i}"
        base = re.sub(r"\bconst\b|\*", " ", t).split()
        base = " ".join(base)
        stars = t.count("*")
        direction = docs.get(name, ("", ""))[0]
        doc_text = docs.get(name, ("", ""))[1]
        if (fn, name) in POINTER_NULL:
            decls.append(f"{t} {v} = NULL;")
        elif re.fullmatch(r"berg_\w+_fn", t):
            decls.append(f"{t} {v} = {'NULL' if (fn, name) in CALLBACK_NULL else 'cb_' + t};")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif name == "user_data" and stars == 1:
            decls.append(f"void *{v} = NULL;")
        elif t == "unsigned" and name == "flags":
            decls.append(f"unsigned {v} = 0;")
            muts.append((name, "unknown flag 0x80000000", f"{v} = 0x80000000u;"))
            muts.append((name, "unused flag 0x2", f"{v} = 0x2u;"))
        elif t == "unsigned long long":
            decls.append(f"unsigned long long {v} = 1;")
            muts.append((name, "ULLONG_MAX", f"{v} = ULLONG_MAX;"))
        elif t == "size_t":
            val = SIZE_BY_FN.get((fn, name), SIZE_VALID.get(name, "1"))
            decls.append(f"size_t {v} = {val};")
            for lab, mv in SIZE_MUTS:
                muts.append((name, lab, f"{v} = {mv};"))
        elif t == "double":
            decls.append(f"double {v} = {DOUBLE_BY_FN.get((fn, name), DOUBLE_VALID.get(name, '0.5'))};")
            for lab, mv in DOUBLE_MUTS:
                muts.append((name, lab, f"{v} = {mv};"))
        elif stars == 0 and base in enums:
            decls.append(f"{t} {v} = {ENUM_VALID.get(base, '0')};")
            muts.append((name, "99", f"{v} = ({t})99;"))
            muts.append((name, "-1", f"{v} = ({t})-1;"))
        elif stars == 2 and base in handles:   # creator's out
            decls.append(f"{base} *{v}o = ({base} *)(void *)&bi_sentinel_object;")
            decls.append(f"{base} **{v} = &{v}o;")
            checks.append(f"bi_out_handle((void **){v}, (bi_destroy_fn){base}_destroy, 0);")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif stars == 1 and base in handles:
            fx = "fx_" + base[len("berg_"):]
            if base == "berg_space" and (fn.startswith("berg_langevin_create")
                                         or fn in PERIODIC_SPACE_FNS):
                fx = "fx_periodic_space"   # the lattice field flow needs periodic axes
            decls.append(f"{base} *{v} = {fx}();")
            if i == 0 and not t.startswith("const") and not is_destroy and base in STATE_KIND:
                checks.append(f"bi_state_of({v}, {STATE_KIND[base]});")
            if is_destroy and i == 0:
                decls.append("bi_nowned--; /* the call destroys it */")
                muts.append((name, "NULL", f"bi_owned[bi_nowned++].h = {v}, bi_owned[bi_nowned - 1].d = (bi_destroy_fn){fn}; {v} = NULL;"))
            else:
                muts.append((name, "NULL", f"{v} = NULL;"))
        elif stars == 2 and base in ("char", "void"):   # char **out, void **out
            decls.append(f"{base} *{v}o = ({base} *)(void *)&bi_sentinel_object;")
            decls.append(f"{base} **{v} = &{v}o;")
            # berg_alloc documents *out = NULL on failure
            nulled = 1 if "NULL on failure" in doc_text else 0
            checks.append(f"bi_out_handle((void **){v}, (bi_destroy_fn)berg_free, {nulled});")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif t == "const char *":
            decls.append(f"const char *{v} = {STRINGS.get(name, cstr(''))};")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif t == "void *" and fn == "berg_free":
            decls.append(f"void *{v} = NULL; berg_alloc(&{v}, 4, 8);")
            muts.append((name, "NULL", f"berg_free({v}); {v} = NULL;"))
        elif base == "double" and stars == 1:
            b = f"bi_dbuf[{nbuf}]"
            nbuf += 1
            const = t.startswith("const")
            fill = ARRAY_FILL.get(name, "bi_uniform_density()")
            decls.append(f"double *{v} = {b};")
            if const or direction == "in,out" or "in" == direction:
                decls.append(f"for (size_t i = 0; i < BI_BUF; i++) {v}[i] = {fill};")
                if not const:
                    checks.append(f"bi_out_double({v}, 1);")
                for lab, every, mv in ARRAY_MUTS:
                    code = (f"for (size_t i = 0; i < BI_BUF; i++) {v}[i] = {mv};" if every == "1"
                            else f"{v}[0] = {mv};")
                    muts.append((name, lab, code))
            else:
                checks.append(f"bi_out_double({v}, 0);")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif base == "size_t" and stars == 1:
            b = f"bi_zbuf[{nsz}]"
            nsz += 1
            decls.append(f"size_t *{v} = {b};")
            if t.startswith("const"):
                fill = "BI_N" if name == "n" else "0"
                decls.append(f"for (size_t i = 0; i < BI_BUF; i++) {v}[i] = {fill};")
                muts.append((name, "[0]=SIZE_MAX", f"{v}[0] = SIZE_MAX;"))
            else:
                checks.append(f"bi_out_bytes({v}, BI_BUF * sizeof(size_t));")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif stars == 1 and base in enums:
            decls.append(f"{base} *{v} = ({base} *)(void *)bi_ebuf[{i}];")
            if t.startswith("const"):
                decls.append(f"for (size_t i = 0; i < 8; i++) {v}[i] = {ENUM_VALID.get(base, '0')};")
                muts.append((name, "[0]=99", f"{v}[0] = ({base})99;"))
            else:
                checks.append(f"bi_out_bytes({v}, 8 * sizeof({base}));")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif t == "long long *":
            decls.append(f"long long *{v} = (long long *)(void *)bi_ebuf[{i}];")
            checks.append(f"bi_out_bytes({v}, sizeof(long long));")
            muts.append((name, "NULL", f"{v} = NULL;"))
        elif t == "unsigned *":   # issue 14: berg_sinkhorn_report_mode's mode
            decls.append(f"unsigned *{v} = (unsigned *)(void *)bi_ebuf[{i}];")
            checks.append(f"bi_out_bytes({v}, sizeof(unsigned));")
            muts.append((name, "NULL", f"{v} = NULL;"))
        else:
            raise SystemExit(f"gen_badinput: no factory for '{t} {name}' of {fn}")
    call_args = ", ".join(f"a{i}" for i in range(len(params)))
    lines = [f"static void run_{fn}(int mut, bi_result *r)", "{"]
    lines += ["    " + d for d in decls]
    lines.append("    switch (mut) {")
    for k, (_, _, code) in enumerate(muts, start=1):
        lines.append(f"    case {k}: {code} break;")
    lines.append("    default: break;")
    lines.append("    }")
    lines += ["    " + c for c in checks]
    lines.append("    bi_before();")
    if ret == "berg_status":
        lines.append(f"    berg_status st = {fn}({call_args});")
        lines.append("    bi_after(r, 1, st);")
    elif ret == "void":
        lines.append(f"    {fn}({call_args});")
        lines.append("    bi_after(r, 0, BERG_OK);")
    else:
        lines.append(f"    {ret} v = {fn}({call_args});")
        lines.append("    (void)v;")
        if ret == "double":
            lines.append("    r->value_nan = v != v;")
        lines.append("    bi_after(r, 0, BERG_OK);")
    lines.append("}")
    return "\n".join(lines), muts


def main():
    include, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    funcs, handles, enums = parse(include)
    body, table = [], []
    for header, ret, fn, params, docs in funcs:
        code, muts = gen_function(fn, ret, params, docs, handles, enums)
        body.append(code)
        table.append(f'    {{{cstr(fn)}, {cstr(header)}, {cstr("")}, {cstr("baseline")}, 0, run_{fn}, 0}},')
        for k, (pname, lab, _) in enumerate(muts, start=1):
            optional = "NULL" in docs.get(pname, ("", ""))[1]
            table.append(f"    {{{cstr(fn)}, {cstr(header)}, {cstr(pname)}, {cstr(lab)}, {k}, run_{fn}, "
                         f"{1 if optional else 0}}},")
    text = ["/* generated by tests/reliability/gen_badinput.py from the public headers; do not edit */",
            "#define BI_RUNNERS", "#include \"badinput_driver.h\"", ""]
    text += body
    text += ["", "const bi_case bi_cases[] = {"] + table + ["};",
             "const size_t bi_ncases = sizeof bi_cases / sizeof bi_cases[0];",
             f"const size_t bi_nfunctions = {len(funcs)};", ""]
    out.write_text("\n".join(text))


if __name__ == "__main__":
    main()
