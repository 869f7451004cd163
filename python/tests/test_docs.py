"""Documentation checks: every public Python name has a numpydoc docstring
with the sections its signature calls for and inline type hints; the
Examples of the package run as doctests; every "eq N" cited in the headers
and docs is a numbered equation of docs/references.md; LICENSE and
CITATION.cff exist and say what meson.build says."""
import doctest
import inspect
import pathlib
import re

import numpy as np
import pytest

import berg

ROOT = pathlib.Path(__file__).resolve().parents[2]

# ---- public names ----------------------------------------------------------


def _public_objects():
    """(qualified name, object) of every public class and function of berg:
    the names `import berg` exports, and the public methods and properties of
    its classes."""
    out = []
    for name in sorted(dir(berg)):
        obj = getattr(berg, name)
        if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not getattr(obj, "__module__", "").startswith("berg"):
            continue
        out.append((name, obj))
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for mname, member in vars(obj).items():
                if mname.startswith("_"):
                    continue
                out.append((f"{name}.{mname}", member))
    return out


PUBLIC = _public_objects()


def _sections(doc):
    """The numpydoc section titles of doc (a title line underlined by dashes)."""
    lines = inspect.cleandoc(doc).splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1)
            if lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip())}


def _documented_params(doc):
    """Parameter names listed in the Parameters section ("name : type")."""
    text = inspect.cleandoc(doc)
    m = re.search(r"^Parameters\n-+\n(.*?)(?:^\w[\w ]*\n-+\n|\Z)", text, re.S | re.M)
    if not m:
        return set()
    names = set()
    for line in m.group(1).splitlines():
        hit = re.match(r"^(\*{0,2}[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:", line)
        if hit:
            names.update(n.strip().lstrip("*") for n in hit.group(1).split(","))
    return names


def _function_problems(name, f, doc, skip_first):
    problems = []
    sig = inspect.signature(f, eval_str=True)
    params = [p for p in sig.parameters.values()
              if not p.name.startswith("_")][1 if skip_first else 0:]
    sections = _sections(doc)
    if params and "Parameters" not in sections:
        problems.append(f"{name}: no Parameters section")
    missing = {p.name for p in params} - _documented_params(doc)
    if params and missing:
        problems.append(f"{name}: parameters not documented: {sorted(missing)}")
    if sig.return_annotation is inspect.Signature.empty:
        problems.append(f"{name}: no return type hint")
    elif sig.return_annotation is not None and "Returns" not in sections \
            and "Yields" not in sections:
        problems.append(f"{name}: no Returns section")
    for section in ("Raises", "Examples"):
        if section not in sections:
            problems.append(f"{name}: no {section} section")
    unhinted = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    if unhinted:
        problems.append(f"{name}: parameters without type hints: {unhinted}")
    return problems


def _problems(name, obj):
    doc = inspect.getdoc(obj) if not isinstance(obj, property) else obj.__doc__
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
        doc = obj.__doc__
    if not doc or not doc.strip():
        return [f"{name}: no docstring"]
    if isinstance(obj, property):
        hint = inspect.signature(obj.fget, eval_str=True).return_annotation
        return [] if hint is not inspect.Signature.empty else [f"{name}: no return type hint"]
    if inspect.isclass(obj):
        sections = _sections(obj.__doc__ or "")
        problems = [f"{name}: no Examples section"] if "Examples" not in sections else []
        if issubclass(obj, BaseException):
            return problems
        init = vars(obj).get("__init__")
        if init is not None:
            problems += [p.replace(f"{name}.__init__", name) for p in
                         _function_problems(f"{name}.__init__", init, obj.__doc__, True)
                         if "Returns" not in p and "return type" not in p]
        return problems
    if inspect.isfunction(obj):
        is_method = "." in name
        return _function_problems(name, obj, doc, is_method)
    return []


@pytest.mark.parametrize("name,obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_name_has_numpydoc_docstring(name, obj):
    problems = _problems(name, obj)
    assert not problems, "\n".join(problems)


def test_the_walk_sees_the_whole_api():
    names = {n for n, _ in PUBLIC}
    for expected in ("Space", "Space.integrate", "Heat.apply", "Sinkhorn.solve", "entropy",
                     "FokkerPlanck.evolve", "Bayes.observe", "fisher_location", "MassError",
                     "BergError", "w2_gaussian", "Channel.recover"):
        assert expected in names
    assert len(names) > 150


# ---- doctests --------------------------------------------------------------
def _modules():
    import berg._lib
    mods = [berg, berg._lib]
    for name in ("space", "propagator", "flow", "metric", "transport", "fisher", "dictionary"):
        mods.append(getattr(berg, name))
    return mods


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_examples_run_as_doctests(module):
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, module.__name__, globs={"np": np, "berg": berg})
    ran = 0
    for t in tests:
        if t.name.startswith(module.__name__) and t.examples:
            runner.run(t)
            ran += len(t.examples)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {ran} examples of {module.__name__} failed"


# ---- equations, license, citation ------------------------------------------
_CITE = re.compile(r"(?<![\w-])eqs?\.?\s*\(?(\d+)((?:\s*(?:[-–,]|and)\s*\d+)*)", re.I)


def _cited(text):
    """Equation numbers cited as "eq 12", "eq 9–11, 16", "eq 55-57"."""
    out = set()
    for m in _CITE.finditer(text):
        prev, in_range = None, False
        for tok in re.findall(r"[-–]|\d+", m.group(1) + m.group(2)):
            if tok in "-–":
                in_range = True
                continue
            n = int(tok)
            out.update(range(prev, n + 1) if in_range and prev is not None else (n,))
            prev, in_range = n, False
    return out


def test_cite_parser():
    assert _cited("eq 9–11, 16, 22 and eq 55-57; Eq. (4)") == {9, 10, 11, 16, 22, 55, 56, 57, 4}
    assert _cited("[ $rc -eq 0 ]; sequence 3") == set()


def test_every_cited_equation_is_listed_in_references():
    listed = {int(n) for n in re.findall(r"^- \*\*eq (\d+)\*\*",
                                         (ROOT / "docs" / "references.md").read_text(), re.M)}
    assert listed == set(range(1, 60))
    files = sorted((ROOT / "include").rglob("*.h")) + sorted((ROOT / "docs").rglob("*.md")) \
        + [ROOT / "README.md"]
    unresolved = []
    for path in files:
        for n in sorted(_cited(path.read_text(errors="replace")) - listed):
            unresolved.append(f"{path.relative_to(ROOT)}: eq {n}")
    assert not unresolved, "\n".join(unresolved)
    assert len(files) > 15


def test_every_cited_page_is_listed_in_references():
    text = (ROOT / "docs" / "references.md").read_text()
    listed = set()
    for a, b in re.findall(r"^- \*\*p\.(\d+)(?:[-–](\d+))?\*\*", text, re.M):
        listed.update(range(int(a), int(b or a) + 1))
    files = sorted((ROOT / "include").rglob("*.h")) + sorted((ROOT / "docs").rglob("*.md")) \
        + [ROOT / "README.md"]
    unresolved = []
    for path in files:
        text = path.read_text(errors="replace")
        for a, b in re.findall(r"(?<![\w.])p\.(\d+)(?:[-–](\d+))?", text):
            for n in range(int(a), int(b or a) + 1):
                if n not in listed:
                    unresolved.append(f"{path.relative_to(ROOT)}: p.{n}")
    assert {33, 35, 36, 37, 38, 39} <= listed
    assert not unresolved, "\n".join(unresolved)


def test_references_name_the_literature():
    text = (ROOT / "docs" / "references.md").read_text()
    for needle in ("2212.11379", "2204.12939", "Wegner", "Morris", "2202.11737",
                   "Kinderlehrer", "Petz", "Junge", "Cuturi", "Solomon", "Schmitzer"):
        assert needle in text, needle


def test_license_and_citation():
    meson = (ROOT / "meson.build").read_text()
    assert re.search(r"license\s*:\s*'MIT'", meson)
    lic = (ROOT / "LICENSE").read_text()
    assert lic.startswith("MIT License")
    assert re.search(r"^Copyright \(c\) 20\d\d the libberg authors$", lic, re.M)
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors", "version", "license"):
        assert key in cff, key
    assert cff["cff-version"] == "1.2.0"
    assert cff["license"] == "MIT"
    version = re.search(r"version\s*:\s*'([^']+)'", meson).group(1)
    assert str(cff["version"]) == version
    assert "2212.11379" in cff["preferred-citation"]["url"]
