#!/usr/bin/env python3
"""Exported symbols == header declarations == the version script's lists.

As libdrm's symbols-check: every dynamic symbol that libberg defines must be
a berg_* function declared with BERG_API in include/berg/*.h, and every such
declaration must be exported. As libxkbcommon's map: lib/berg.map lists every
exported symbol by name in the node of the release that added it (no glob in
a global section), and each symbol carries that node's version.
Usage: check_symbols.py LIBBERG.so INCLUDE_DIR BERG_MAP [mpi.h]
(with mpi.h: libberg_mpi.so against berg/mpi.h and lib/mpi/berg_mpi.map)
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


def declared(include_dir, only=None):
    """BERG_API names of the headers; berg/mpi.h belongs to libberg_mpi
    (only="mpi.h" checks that library, whose map is lib/mpi/berg_mpi.map)"""
    names = set()
    decl = re.compile(r"BERG_API\b[^;{]*?\b(berg_\w+)\s*\(", re.S)
    for h in sorted(pathlib.Path(include_dir).rglob("*.h")):
        if (h.name == "mpi.h") != (only == "mpi.h"):
            continue
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        names.update(decl.findall(text))
    return names


def map_nodes(path):
    """{node: [global names]} of the version script"""
    text = re.sub(r"/\*.*?\*/", "", pathlib.Path(path).read_text(), flags=re.S)
    text = re.sub(r"#[^\n]*", "", text)
    nodes = {}
    for m in re.finditer(r"(BERG_(?:MPI_)?[0-9.]+)\s*\{(.*?)\}", text, flags=re.S):
        body = m.group(2)
        glob = re.search(r"global:(.*?)(local:|$)", body, flags=re.S)
        names = re.findall(r"([\w*]+)\s*;", glob.group(1)) if glob else []
        nodes[m.group(1)] = names
    return nodes


def main():
    lib, include_dir, mapfile = sys.argv[1:4]
    syms = exported(lib)
    decls = declared(include_dir, sys.argv[4] if len(sys.argv) > 4 else None)
    nodes = map_nodes(mapfile)
    problems = []
    ignore = {"_init", "_fini"}
    listed = {}
    for node, names in nodes.items():
        for name in names:
            if "*" in name or "?" in name:
                problems.append(f"{mapfile}: node {node} exports by the pattern '{name}': "
                                f"list every symbol by name")
            listed[name] = node
    for name in sorted(decls - set(listed)):
        problems.append(f"declared function {name} is not listed in {mapfile}")
    for name in sorted(set(listed) - decls):
        problems.append(f"{mapfile} lists {name}, which no header declares")
    for name, (kind, version) in sorted(syms.items()):
        if name in ignore or kind == "A":
            continue
        if not name.startswith("berg_") or name.startswith("berg__"):
            problems.append(f"exported symbol {name} is not a public berg_ name")
        elif name not in decls:
            problems.append(f"exported symbol {name} is not declared with BERG_API in {include_dir}")
        if kind not in ("T", "W", "i") and name.startswith("berg_"):
            problems.append(f"exported symbol {name} is of kind {kind}: export functions only")
        if name in listed and version != listed[name]:
            problems.append(f"exported symbol {name} has version '{version}', "
                            f"but {mapfile} lists it in {listed[name]}")
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
