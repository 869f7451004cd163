# Shared by scripts/demo and scripts/test: install what is missing, set up
# or reconfigure a build directory. Sourced, not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's system interpreter, named explicitly: another python3 may come
# first on PATH without numpy/scipy/pytest.
PYTHON=/usr/bin/python3
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# Debian packages libberg builds, tests and demonstrates with.
BERG_PACKAGES=(
  gcc g++ pkg-config meson ninja-build
  libfftw3-dev libopenblas-dev liblapacke-dev
  python3 python3-numpy python3-scipy python3-pytest python3-pot python3-matplotlib
  python3-tqdm
  abigail-tools binutils doxygen graphviz
  python3-mesonpy python3-venv cmake   # scripts/check-install: pip wheel, venv, CMake consumer
  clang libclang-rt-14-dev
  openmpi-bin libopenmpi-dev libfftw3-mpi-dev python3-mpi4py   # libberg_mpi (issue 16)
)

log() { printf '==> %s\n' "$*"; }

ensure_packages() {
  local missing=()
  for p in "${BERG_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: missing packages (${missing[*]}) and not root; install them or run with sudo" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# setup_build DIR [meson options...]: configure DIR once, reconfigure when
# the options changed, otherwise leave it (ninja rebuilds what changed).
setup_build() {
  local dir=$1; shift
  local stamp="$dir/.berg-setup-options"
  local want="$*"
  if [ -f "$dir/build.ninja" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$ROOT" "$@" >/dev/null
  else
    rm -rf "$dir"
    meson setup "$dir" "$ROOT" "$@" >/dev/null
  fi
  printf '%s' "$want" > "$stamp"
}
