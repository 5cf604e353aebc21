#!/usr/bin/env bash
# scripts/test.sh [ctest args...] — builds if needed, then runs the whole test suite:
# unit tests (in parallel), then the root integration and security tests (one at a time, each in
# its own sandbox; they skip, status 77, when not run as root). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j"$(nproc)"

[ "$(id -u)" -eq 0 ] || echo "test.sh: not root — the integration and security tests will be skipped" >&2

rc=0
echo "== unit tests"
ctest --test-dir "$build" --output-on-failure -LE 'integration|security|api|browser|package|cluster' -j"$(nproc)" "$@" || rc=1
echo "== integration, security, API, browser and cluster tests (root, sandboxed); the .deb in a fresh root"
ctest --test-dir "$build" --output-on-failure -L 'integration|security|api|browser|package|cluster' "$@" || rc=1

[ $rc -eq 0 ] && echo "test.sh: all tests passed" || echo "test.sh: FAILURES (see above)" >&2
exit $rc
