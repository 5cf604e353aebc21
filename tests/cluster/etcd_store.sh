#!/usr/bin/env bash
# The cluster's store against a real three-member etcd (Debian etcd-server), on loopback
# inside the sandbox's network namespace: keys, leases, compare-and-swap, concurrent claims
# (exactly one winner, 10 rounds), and no failed call while a follower and then the leader
# are killed; and the agent publishing a host's jails (unit_api). The members are started and killed by PID by the test binary itself.
set -euo pipefail
command -v etcd >/dev/null || { echo "SKIP: etcd not installed (scripts/install-deps.sh)"; exit 77; }
unit=$(dirname "$(readlink -f "$JAILCTL")")/unit_cluster
for t in "$unit" "$(dirname "$unit")/unit_api"; do
  [ -x "$t" ] || { echo "FAIL: no $t (build the unit_cluster and unit_api targets)"; exit 1; }
done
ip link set lo up
ETCD_LIVE=1 "$unit" --gtest_filter='EtcdLive.*' --gtest_brief=1
# The agent's publication of a host's jails against a real member (unit_api, same binary dir).
ETCD_LIVE=1 "$(dirname "$unit")/unit_api" --gtest_filter='AgentLive.*' --gtest_brief=1
