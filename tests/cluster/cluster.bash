# tests/cluster/cluster.bash — helpers of the cluster tests (sourced): up to three simulated
# hosts a, b, c, each in its own network namespace with its own state root, uplink and serve,
# and a real three-member etcd, one member per host. Built by the test inside the sandbox:
#
#   client netns: cl0 203.0.113.254 ── uplink0 (sandbox netns; its address removed) ─┐
#   sandbox netns: bridge jcust (no address) ───────────────────────────────────────┤ customers
#     ├─ cust-a ── netns jh-a: uplink0 203.0.113.1/24   (jails proxy-ARPed by their host)
#     ├─ cust-b ── netns jh-b: uplink0 203.0.113.2/24
#     └─ cust-c ── netns jh-c: uplink0 203.0.113.3/24
#   sandbox netns: bridge jmgmt 198.51.100.254/24 (the test's etcdctl) ────────────── management
#     ├─ mgmt-a ── netns jh-a: mgmt0 198.51.100.1/24  serve :8443, etcd member m0 :2379/:2380
#     ├─ mgmt-b ── netns jh-b: mgmt0 198.51.100.2/24  serve :8443, etcd member m1
#     └─ mgmt-c ── netns jh-c: mgmt0 198.51.100.3/24  serve :8443, etcd member m2
#
# Every host's jailctl, serve and etcd run under `nsenter --net` (not `ip netns exec`, which
# remounts /sys and hides the cgroup mounts LXC needs). Each host's uplink is called uplink0 in
# its namespace, so every root's host.conf says `uplink = uplink0`. Host a's root is the
# sandbox's ($JAILCTL_ROOT), b's and c's are $JAILCTL_ROOT2 and $JAILCTL_ROOT3.
# cluster_cleanup (the EXIT trap) destroys every jail of every host, stops serves and etcd
# (by PID), deletes the namespaces and bridges and gives uplink0 its address back.
HOSTS=()          # the simulated hosts of this test (hosts_up)
ETCD_PIDS=()      # by member index; "" once killed
ETCD_ENDPOINTS=
SERVE_A='' SERVE_B='' SERVE_C=''
JAILCTL_ROOT2='' JAILCTL_ROOT3='' NAMESPACES_UP=''

host_index() { case $1 in a) echo 0 ;; b) echo 1 ;; c) echo 2 ;; *) fail "no simulated host '$1'" ;; esac; }
member_host() { local names=abc; echo "${names:$1:1}"; }  # etcd member 0 runs on host a
host_ns() { echo "jh-$1"; }
host_mgmt_ip() { echo "198.51.100.$(($(host_index "$1") + 1))"; }
host_uplink_ip() { echo "203.0.113.$(($(host_index "$1") + 1))"; }
host_api() { echo "https://$(host_mgmt_ip "$1"):8443"; }
host_root() { case $1 in a) echo "$JAILCTL_ROOT" ;; b) echo "$JAILCTL_ROOT2" ;; c) echo "$JAILCTL_ROOT3" ;; esac; }
host_netns() { echo "/run/netns/$(host_ns "$1")"; }
# on_host H CMD...: CMD in host H's network namespace. In the background, a function is a
# subshell whose PID is not CMD's: start what must be killed by PID with nsenter itself (it
# execs CMD), as etcd_member_start and start_serve do.
on_host() { local h=$1; shift; nsenter --net="$(host_netns "$h")" "$@"; }
# jch H ARGS...: jailctl on host H; jc, jc2, jc3: on hosts a, b, c
jch() { local h=$1; shift; on_host "$h" "$JAILCTL" --root "$(host_root "$h")" "$@"; }
jc() { jch a "$@"; }
jc2() { jch b "$@"; }
jc3() { jch c "$@"; }

# hosts_up N: the namespaces, links and roots of the three hosts (each holds an etcd member);
# the first N of them (a, b, c) are this test's jailctl hosts: HOSTS
hosts_up() {
  local n=$1 h i
  HOSTS=(a b c); HOSTS=("${HOSTS[@]:0:$n}")
  NAMESPACES_UP=1
  trap cluster_cleanup EXIT
  command -v nsenter >/dev/null || { echo "skipped: no nsenter (util-linux)" >&2; exit 77; }
  JAILCTL_ROOT2=$(mktemp -d /tmp/jailctl-test2.XXXXXX)
  JAILCTL_ROOT3=$(mktemp -d /tmp/jailctl-test3.XXXXXX)
  for i in "$JAILCTL_ROOT2" "$JAILCTL_ROOT3"; do chmod 755 "$i"; echo "uplink = uplink0" > "$i/host.conf"; done
  ip link add jcust type bridge forward_delay 0 && ip link set jcust up
  ip link add jmgmt type bridge forward_delay 0 && ip link set jmgmt up
  ip addr add 198.51.100.254/24 dev jmgmt
  # the client's side of the customer network becomes a port of the bridge
  ip addr flush dev uplink0 && ip link set uplink0 master jcust
  for h in a b c; do
    ip netns add "$(host_ns "$h")"
    ip link add "cust-$h" type veth peer name uplink0 netns "$(host_ns "$h")"
    ip link add "mgmt-$h" type veth peer name mgmt0 netns "$(host_ns "$h")"
    ip link set "cust-$h" master jcust up && ip link set "mgmt-$h" master jmgmt up
    ip -n "$(host_ns "$h")" link set lo up
    ip -n "$(host_ns "$h")" addr add "$(host_uplink_ip "$h")/24" dev uplink0
    ip -n "$(host_ns "$h")" addr add "$(host_mgmt_ip "$h")/24" dev mgmt0
    ip -n "$(host_ns "$h")" link set uplink0 up && ip -n "$(host_ns "$h")" link set mgmt0 up
  done
}

# the EXIT trap of every cluster test
cluster_cleanup() {
  local h dom
  stop_pid "$SERVE_A"; stop_pid "$SERVE_B"; stop_pid "$SERVE_C"; SERVE_A='' SERVE_B='' SERVE_C=''
  [ -n "$NAMESPACES_UP" ] || return 0
  for h in a b c; do   # every jail of every host, in its own namespace
    [ -f "$(host_root "$h")/jailctl.db" ] || continue
    for dom in $(sqlite3 "$(host_root "$h")/jailctl.db" "SELECT domain FROM jails" 2>/dev/null); do
      jch "$h" destroy --force "$dom" >/dev/null 2>&1 || echo "cleanup: destroy --force $dom on $h failed" >&2
    done
  done
  etcd_stop
  for h in a b c; do ip netns del "$(host_ns "$h")" 2>/dev/null || true; done
  ip link del jcust 2>/dev/null || true; ip link del jmgmt 2>/dev/null || true
  for h in a b c; do ip link del "cust-$h" 2>/dev/null || true; ip link del "mgmt-$h" 2>/dev/null || true; done
  if ! ip -4 addr show dev uplink0 | grep -q 203.0.113.1/; then ip addr add 203.0.113.1/24 dev uplink0 2>/dev/null || true; fi
  [ -z "$JAILCTL_ROOT2" ] || rm -rf "$JAILCTL_ROOT2"
  [ -z "$JAILCTL_ROOT3" ] || rm -rf "$JAILCTL_ROOT3"
  return 0
}

# ---- etcd: member m<i> in host i's namespace (host a, b, c), on its management address
etcd_url() { echo "http://198.51.100.$(($1 + 1)):2379"; }
etcd_peer() { echo "http://198.51.100.$(($1 + 1)):2380"; }
etcd_member_start() {  # etcd_member_start I: (re)starts member I on its data dir
  local i=$1 j cluster=""
  for j in 0 1 2; do cluster+="${cluster:+,}m$j=$(etcd_peer $j)"; done
  nsenter --net="$(host_netns "$(member_host "$i")")" etcd --name "m$i" --data-dir "$SANDBOX_DIR/etcd-m$i" \
      --listen-client-urls "$(etcd_url "$i")" --advertise-client-urls "$(etcd_url "$i")" \
      --listen-peer-urls "$(etcd_peer "$i")" --initial-advertise-peer-urls "$(etcd_peer "$i")" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token jailctl-test \
      --logger zap --log-outputs "$SANDBOX_DIR/etcd-m$i.log" >/dev/null 2>&1 &
  ETCD_PIDS[i]=$!
}
etcd_healthy() { curl -s --max-time 1 "$(etcd_url "$1")/health" | grep -q '"true"'; }
# etcd_start: three members, one per host namespace (every one of them: a test with two hosts
# still has three members), healthy before it returns; ETCD_ENDPOINTS = their URLs, comma-separated
etcd_start() {
  command -v etcd >/dev/null || { echo "skipped: etcd is not installed (scripts/install-deps.sh)" >&2; exit 77; }
  local i urls=()
  [ -n "$NAMESPACES_UP" ] || fail "etcd_start: hosts_up first (the members live in the hosts' namespaces)"
  for i in 0 1 2; do etcd_member_start "$i"; urls+=("$(etcd_url "$i")"); done
  for i in 0 1 2; do
    retry 50 etcd_healthy "$i" || fail "etcd member m$i never became healthy: $(tail -3 "$SANDBOX_DIR/etcd-m$i.log")"
  done
  ETCD_ENDPOINTS=$(IFS=,; echo "${urls[*]}")
}
etcd_kill() {  # etcd_kill I: member I killed (-9, by PID)
  kill -KILL "${ETCD_PIDS[$1]}" 2>/dev/null || true; wait "${ETCD_PIDS[$1]}" 2>/dev/null || true
  ETCD_PIDS[$1]=
}
etcd_stop() {
  local i
  for i in "${!ETCD_PIDS[@]}"; do [ -z "${ETCD_PIDS[$i]}" ] || etcd_kill "$i"; done
  ETCD_PIDS=()
}
# etcd_leader: the index of the member that is the raft leader now, as the live members say
# ("" when none does; etcdctl fails when a member is down, but still lists the live ones)
etcd_leader() {
  { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" --dial-timeout 1s --command-timeout 2s endpoint status -w json 2>/dev/null || true; } |
    python3 -c 'import json,sys
text = sys.stdin.read().strip()
for s in json.loads(text) if text else []:
    if s["Status"]["header"]["member_id"] == s["Status"]["leader"]:
        print(int(s["Endpoint"].split(":")[1].split(".")[-1]) - 1)'
}
# etcd_get KEY: the value stored under KEY ("" when absent)
etcd_get() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" get --print-value-only "$1"; }
# etcd_keys PREFIX: the keys under PREFIX, one per line
etcd_keys() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" get --prefix --keys-only "$1" | sed '/^$/d'; }

stop_pid() { [ -z "$1" ] || { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; }

# cluster_hosts N: N hosts (2 or 3), etcd, host a inits the cluster, the others join
cluster_hosts() {
  local h
  hosts_up "$1"
  etcd_start
  assert_exit 0 jc cluster init --etcd "$ETCD_ENDPOINTS" --api "$(host_api a)" --name a
  for h in "${HOSTS[@]:1}"; do
    assert_exit 0 jch "$h" cluster join --etcd "$ETCD_ENDPOINTS" --api "$(host_api "$h")" --name "$h"
  done
}
# two_hosts [JAIL...]: cluster_hosts 2 (the JAILs, once b's to destroy at exit, need not be
# named any more: the cleanup destroys every jail of every host)
two_hosts() { cluster_hosts 2; }
# start_serves: every host's serve on its management address (SERVE_A, SERVE_B, SERVE_C: their PIDs)
start_serve() {  # start_serve H
  nsenter --net="$(host_netns "$1")" "$JAILCTL" --root "$(host_root "$1")" serve --listen "$(host_mgmt_ip "$1"):8443" \
    >"$SANDBOX_DIR/serve-$1.log" 2>&1 &
  case $1 in a) SERVE_A=$! ;; b) SERVE_B=$! ;; c) SERVE_C=$! ;; esac
}
start_serves() { local h; for h in "${HOSTS[@]}"; do start_serve "$h"; done; }
