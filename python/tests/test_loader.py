"""The loader (berg/_lib.py) cannot pick the wrong library: BERG_LIBRARY,
then the library installed with the package (berg/_install.py), then the
system's libberg.so.1; build folders are never searched, and a sanitizer
build is refused unless BERG_LIBRARY names it (with its runtime preloaded).

Each case imports a copy of the package in a fresh interpreter started in an
empty directory, so the case controls every place the loader may look."""
import os
import shutil
import subprocess
import sys

import pytest

import berg

PACKAGE = os.path.dirname(os.path.abspath(berg.__file__))
THE_LIBRARY = os.path.realpath(berg.library_path)
# under scripts/test's ASan step the library is a sanitizer build (loaded
# through BERG_LIBRARY with the runtime preloaded): it cannot play the
# installed library, which the loader refuses by design
SANITIZED = bool(berg._lib._sanitizers(THE_LIBRARY))
PRELOADED = bool(os.environ.get("LD_PRELOAD"))


def test_library_path_is_the_loaded_file():
    # the meson test sets BERG_LIBRARY to the build's library
    assert os.path.isabs(berg.library_path)
    env = os.environ.get("BERG_LIBRARY")
    if env:
        assert berg.library_path == os.path.realpath(env)
    with open(f"/proc/{os.getpid()}/maps") as maps:
        assert THE_LIBRARY in maps.read()


def _copy_package(site, install_py=None):
    """a copy of the package as site/berg; install_py: the text of
    berg/_install.py, or None for a package without one (the source tree)"""
    shutil.copytree(PACKAGE, site / "berg",
                    ignore=shutil.ignore_patterns("__pycache__", "_install.py"))
    if install_py is not None:
        (site / "berg" / "_install.py").write_text(install_py)
    return site


def _import(tmp_path, site, env_library=None):
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("BERG_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if env_library is not None:
        env["BERG_LIBRARY"] = env_library
    code = "import berg; print(berg.library_path); print(berg.__file__)"
    return subprocess.run([sys.executable, "-c", code], cwd=empty, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(SANITIZED, reason="a sanitizer build cannot be the installed library")
def test_installed_library_is_taken_when_berg_library_is_unset(tmp_path):
    lib_dir = tmp_path / "prefix" / "lib"
    lib_dir.mkdir(parents=True)
    shutil.copy(THE_LIBRARY, lib_dir / "libberg.so.1")
    site = _copy_package(tmp_path / "site", 'LIBRARY = "../../prefix/lib/libberg.so.1"\n')
    r = _import(tmp_path, site)
    assert r.returncode == 0, r.stderr
    path, init = r.stdout.split()
    assert path == os.path.realpath(lib_dir / "libberg.so.1")
    assert init.startswith(str(site))


def test_berg_library_comes_first(tmp_path):
    site = _copy_package(tmp_path / "site", 'LIBRARY = "no-such-libberg.so.1"\n')
    r = _import(tmp_path, site, env_library=THE_LIBRARY)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == THE_LIBRARY


def test_berg_library_naming_nothing_is_an_error(tmp_path):
    site = _copy_package(tmp_path / "site")
    r = _import(tmp_path, site, env_library=str(tmp_path / "missing" / "libberg.so.1"))
    assert r.returncode != 0
    assert "ImportError: BERG_LIBRARY=" in r.stderr and "no such file" in r.stderr


def test_build_folders_are_never_searched(tmp_path):
    # a source-tree layout (python/berg without _install.py) with build
    # folders beside it: the loader must not look into them
    root = tmp_path / "checkout"
    site = _copy_package(root / "python")
    for b in ("build", "build-asan"):
        (root / b / "lib").mkdir(parents=True)
        shutil.copy(THE_LIBRARY, root / b / "lib" / "libberg.so.1")
    r = _import(tmp_path, site)
    if r.returncode == 0:  # a libberg.so.1 is installed on this machine
        assert not r.stdout.split()[0].startswith(str(root))
    else:
        assert "libberg could not be loaded" in r.stderr
        assert "the system's dynamic loader" in r.stderr
        assert str(root / "build") not in r.stderr


def test_sanitizer_build_only_through_berg_library(tmp_path):
    # an ELF that needs libasan.so: refused before loading when it is the
    # installed library, and named by BERG_LIBRARY without the runtime
    # preloaded it is a clear ImportError rather than ASan killing Python
    fake = tmp_path / "asan" / "libberg.so.1"
    fake.parent.mkdir()
    fake.write_bytes(b"\x7fELF" + b"\0" * 60 + b"libasan.so.8\0libberg.so.1\0")
    site = _copy_package(tmp_path / "site", f'LIBRARY = "{fake}"\n')
    r = _import(tmp_path, site)
    assert r.returncode != 0
    assert "is a sanitizer build" in r.stderr and "BERG_LIBRARY" in r.stderr
    if PRELOADED:
        return  # the runtime is there: the loader goes on to dlopen the fake
    r = _import(tmp_path, site, env_library=str(fake))
    assert r.returncode != 0
    assert "preload its runtime" in r.stderr and "libasan.so" in r.stderr


def test_a_library_that_fails_to_load_is_not_skipped(tmp_path):
    # an installed file that is not a library: an error naming it, not a
    # silent fall-through to some other libberg on the machine
    bad = tmp_path / "bad" / "libberg.so.1"
    bad.parent.mkdir()
    bad.write_text("not an ELF file")
    site = _copy_package(tmp_path / "site", f'LIBRARY = "{bad}"\n')
    r = _import(tmp_path, site)
    assert r.returncode != 0
    assert str(bad) in r.stderr and "could not be loaded" in r.stderr

