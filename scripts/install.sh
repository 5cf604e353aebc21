#!/usr/bin/env bash
# The README's first command: installs every package jailctl needs (Debian 12),
# builds it, installs /usr/local/sbin/jailctl and /usr/local/lib/jailctl/jailctl-init,
# then runs the demo: a real jail created, proven with curl and removed, inside a
# private sandbox network (203.0.113.0/24) that never touches this host's network.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install: run as root (sudo ./scripts/install.sh)" >&2; exit 1; }
bash scripts/install-deps.sh
echo "install: building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" 2>&1 | grep -E 'error|warning|Built target jailctl$' || true
test -x build/jailctl || { echo "install: build failed" >&2; exit 1; }
cmake --install build --prefix /usr/local > /dev/null
echo "install: installed $(/usr/local/sbin/jailctl --version 2>/dev/null || echo jailctl) to /usr/local/sbin/jailctl"
[ "${JAILCTL_NO_DEMO:-0}" = 1 ] && exit 0
exec bash scripts/demo.sh /usr/local/sbin/jailctl
