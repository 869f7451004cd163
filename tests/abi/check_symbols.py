#!/usr/bin/env python3
"""Exported symbols == header declarations, all inside the version script.

As libdrm's symbols-check: every dynamic symbol that libberg defines must be
a berg_* function declared with BERG_API in include/berg/*.h, and every such
declaration must be exported under the version node of lib/berg.map.
Usage: check_symbols.py LIBBERG.so INCLUDE_DIR BERG_MAP
"""
import pathlib
import re
import subprocess
import sys


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            name, _, version = parts[2].partition("@")
            syms[name] = (parts[1], version.lstrip("@"))
    return syms


def declared(include_dir):
    names = set()
    decl = re.compile(r"BERG_API\b[^;{]*?\b(berg_\w+)\s*\(", re.S)
    for h in sorted(pathlib.Path(include_dir).rglob("*.h")):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        names.update(decl.findall(text))
    return names


def map_nodes(path):
    text = re.sub(r"/\*.*?\*/", "", pathlib.Path(path).read_text(), flags=re.S)
    return re.findall(r"(BERG_[0-9.]+)\s*\{", text)


def main():
    lib, include_dir, mapfile = sys.argv[1:4]
    syms = exported(lib)
    decls = declared(include_dir)
    nodes = map_nodes(mapfile)
    problems = []
    ignore = {"_init", "_fini"}
    for name, (kind, version) in sorted(syms.items()):
        if name in ignore or kind == "A":
            continue
        if not name.startswith("berg_") or name.startswith("berg__"):
            problems.append(f"exported symbol {name} is not a public berg_ name")
        elif name not in decls:
            problems.append(f"exported symbol {name} is not declared with BERG_API in {include_dir}")
        if kind not in ("T", "W", "i") and name.startswith("berg_"):
            problems.append(f"exported symbol {name} is of kind {kind}: export functions only")
        if version not in nodes:
            problems.append(f"exported symbol {name} has version '{version}', not a node of {mapfile}")
    for name in sorted(decls - set(syms)):
        problems.append(f"declared function {name} is not exported by {lib}")
    checks = len(syms) + len(decls)
    for p in problems:
        print("FAIL", p)
    print(f"exported-symbols: {len(decls)} declared, {len(syms)} exported; "
          f"{checks - len(problems)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
