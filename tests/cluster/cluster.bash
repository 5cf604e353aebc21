# tests/cluster/cluster.bash — helpers of the cluster tests (sourced): a real three-member etcd
# on loopback inside the sandbox's network namespace, its members started and stopped by PID.
ETCD_PIDS=()
ETCD_ENDPOINTS=
etcd_url() { echo "http://127.0.0.1:$((23379 + 10 * $1))"; }
etcd_peer() { echo "http://127.0.0.1:$((23380 + 10 * $1))"; }

# etcd_start: three members, healthy before it returns; ETCD_ENDPOINTS = their URLs, comma-separated
etcd_start() {
  command -v etcd >/dev/null || { echo "skipped: etcd is not installed (scripts/install-deps.sh)" >&2; exit 77; }
  ip link set lo up
  local i cluster="" urls=()
  for i in 0 1 2; do cluster+="${cluster:+,}m$i=$(etcd_peer $i)"; urls+=("$(etcd_url $i)"); done
  for i in 0 1 2; do
    etcd --name "m$i" --data-dir "$SANDBOX_DIR/etcd-m$i" \
      --listen-client-urls "$(etcd_url $i)" --advertise-client-urls "$(etcd_url $i)" \
      --listen-peer-urls "$(etcd_peer $i)" --initial-advertise-peer-urls "$(etcd_peer $i)" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token jailctl-test \
      --logger zap --log-outputs "$SANDBOX_DIR/etcd-m$i.log" >/dev/null 2>&1 &
    ETCD_PIDS+=($!)
  done
  for i in 0 1 2; do
    retry 50 bash -c "curl -s --max-time 1 $(etcd_url $i)/health | grep -q '\"true\"'" ||
      fail "etcd member m$i never became healthy: $(tail -3 "$SANDBOX_DIR/etcd-m$i.log")"
  done
  ETCD_ENDPOINTS=$(IFS=,; echo "${urls[*]}")
}
etcd_stop() {
  local pid
  for pid in "${ETCD_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  ETCD_PIDS=()
}
# etcd_get KEY: the value stored under KEY ("" when absent)
etcd_get() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" get --print-value-only "$1"; }
# etcd_keys PREFIX: the keys under PREFIX, one per line
etcd_keys() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" get --prefix --keys-only "$1" | sed '/^$/d'; }

# Two simulated hosts: a (the sandbox's root) and b (second_root), each with its own serve.
SERVE_A= SERVE_B=
stop_pid() { [ -z "$1" ] || { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; }
# the EXIT trap of every cluster test: serves, etcd and the second root (with its jails)
cluster_cleanup() { stop_pid "$SERVE_A"; stop_pid "$SERVE_B"; etcd_stop; remove_second_root; }
# two_hosts JAIL...: etcd, then host a inits the cluster and host b joins it (JAILs: b's, destroyed at exit)
two_hosts() {
  second_root "$@"
  trap cluster_cleanup EXIT
  etcd_start
  assert_exit 0 jc cluster init --etcd "$ETCD_ENDPOINTS" --api https://203.0.113.1:8443 --name a
  assert_exit 0 jc2 cluster join --etcd "$ETCD_ENDPOINTS" --api https://203.0.113.1:8444 --name b
  # Both simulated hosts share this network namespace, so their jails' interface names
  # (jc<registry id>) must differ: host b's registry ids start at 1001.
  jc2 status >/dev/null
  sqlite3 "$JAILCTL_ROOT2/jailctl.db" "INSERT INTO sqlite_sequence(name, seq) VALUES('jails', 1000)"
}
# start_serves: both hosts' serve (the binary itself in the background: $! must be serve's PID)
start_serves() {
  "$JAILCTL" --root "$JAILCTL_ROOT" serve --listen 203.0.113.1:8443 >"$SANDBOX_DIR/serve-a.log" 2>&1 & SERVE_A=$!
  "$JAILCTL" --root "$JAILCTL_ROOT2" serve --listen 203.0.113.1:8444 >"$SANDBOX_DIR/serve-b.log" 2>&1 & SERVE_B=$!
}
