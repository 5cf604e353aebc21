#!/usr/bin/env bash
# scripts/demo.sh [path-to-jailctl] — creates a real jail inside a throw-away sandbox (own
# network and mount namespaces; nothing on the host's network or /etc changes), proves its FTP
# credentials with curl from a "customer" network, and removes it. Run as root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

jailctl=${1:-}
if [ -z "$jailctl" ]; then
  if [ -x "$here/build/jailctl" ]; then jailctl=$here/build/jailctl
  elif command -v jailctl >/dev/null; then jailctl=$(command -v jailctl)
  else echo "demo: no jailctl found (build it: cmake -S . -B build && cmake --build build)" >&2; exit 1
  fi
fi
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo $0)" >&2; exit 1; }

rc=0
"$here/tests/sandbox.sh" "$here/scripts/demo-scenario.sh" "$jailctl" || rc=$?
case $rc in
  0) echo; echo "demo: OK — the sandbox is gone and left nothing behind." ;;
  77) echo "demo: skipped — this machine cannot run the sandbox (see the reason above)." >&2 ;;
  *) echo "demo: FAILED (status $rc) — see the messages above." >&2 ;;
esac
exit $rc
