#!/bin/sh
# Run Doxygen over the public headers with warnings as errors and print
# every warning (undocumented symbol, missing @param, doc error).
# Usage: check_doxygen.sh DOXYGEN DOXYFILE OUTDIR
set -u
mkdir -p "$3"
"$1" "$2"
rc=$?
n=0
if [ -s "$3/doxygen-warnings.log" ]; then
  cat "$3/doxygen-warnings.log"
  n=$(grep -c 'warning:' "$3/doxygen-warnings.log")
fi
if [ $rc -eq 0 ] && [ "$n" -eq 0 ]; then
  echo "doxygen: no warnings over the public headers: 1 passed, 0 failed"
  exit 0
fi
echo "doxygen: exit $rc, $n warnings: 0 passed, 1 failed"
exit 1
