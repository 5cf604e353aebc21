#!/usr/bin/env bash
# The cluster's store against a real three-member etcd (Debian etcd-server), on loopback
# inside the sandbox's network namespace: keys, leases, compare-and-swap, concurrent claims
# (exactly one winner, 10 rounds), and no failed call while a follower and then the leader
# are killed. The members are started and killed by PID by the test binary itself.
set -euo pipefail
command -v etcd >/dev/null || { echo "SKIP: etcd not installed (scripts/install-deps.sh)"; exit 77; }
unit=$(dirname "$(readlink -f "$JAILCTL")")/unit_cluster
[ -x "$unit" ] || { echo "FAIL: no $unit (build the unit_cluster target)"; exit 1; }
ip link set lo up
ETCD_LIVE=1 "$unit" --gtest_filter='EtcdLive.*' --gtest_brief=1
