# tests/cluster/cluster.bash — helpers of the cluster tests (sourced): a real three-member etcd
# on loopback inside the sandbox's network namespace, its members started and stopped by PID.
# The test calls etcd_stop in its own EXIT trap.
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
