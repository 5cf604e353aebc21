# Resource limits: --memory/--pids at create show in status --json and in the jail's cgroup; a
# memory hog inside the jail fails while the jail's services keep passing `jailctl test`;
# `jailctl set` changes the pids limit live; bad values are refused (exit 2, field named, nothing changed).
set -euo pipefail
require_python3
D=limits.example.com IP=203.0.113.44

# the jail's cgroup file for a controller (v1/hybrid: /sys/fs/cgroup/<ctrl>/lxc.payload.D/<file>; v2: unified)
cg_file() {  # controller file
  local f
  for f in "/sys/fs/cgroup/$1/lxc.payload.$D/$2" "/sys/fs/cgroup/lxc.payload.$D/$2"; do
    [ -e "$f" ] && { echo "$f"; return 0; }
  done
  fail "no cgroup file $2 for $D (controller $1)"
}
mem_file() {  # v1: memory.limit_in_bytes; v2: memory.max
  if [ -e "/sys/fs/cgroup/memory/lxc.payload.$D" ]; then cg_file memory memory.limit_in_bytes
  else cg_file memory memory.max; fi
}
cpu_ratio() {  # the CPU limit in the cgroup, as a fraction of one CPU
  local f
  if [ -e "/sys/fs/cgroup/cpu/lxc.payload.$D/cpu.cfs_quota_us" ]; then
    f=/sys/fs/cgroup/cpu/lxc.payload.$D
    python3 -c 'import sys; print(round(int(sys.argv[1]) / int(sys.argv[2]), 3))' \
      "$(cat "$f/cpu.cfs_quota_us")" "$(cat "$f/cpu.cfs_period_us")"
  else
    read -r q p < "$(cg_file cpu cpu.max)"
    python3 -c 'import sys; print(round(int(sys.argv[1]) / int(sys.argv[2]), 3))' "$q" "$p"
  fi
}
limit() { jc --json status "$D" > "$SANDBOX_DIR/st.json" && json_eval "$SANDBOX_DIR/st.json" "d[0]['limits']['$1']"; }

info "create with --memory 64M --pids 64"
assert_exit 0 jc create "$D" --ip "$IP" --size 64M --memory 64M --pids 64
assert_eq 67108864 "$(limit memory_bytes)" "status limits.memory_bytes"
assert_eq 64 "$(limit pids)" "status limits.pids"
assert_eq 64 "$(cat "$(cg_file pids pids.max)")" "pids.max"
assert_eq 67108864 "$(cat "$(mem_file)")" "the jail's memory limit in its cgroup"
assert_exit 0 jc --json status "$D"
json_eval "$OUT_FILE" 'd[0]["usage"]["memory_bytes"] > 0 and d[0]["usage"]["pids"] > 0' | grep -qx True ||
  fail "no usage in status:"$'\n'"$OUT"

info "a 200 MB memory hog inside the jail fails"
rc=0
timeout 30 lxc-attach -P "$JAILCTL_ROOT/jails" -n "$D" -- /usr/bin/timeout 20 /usr/bin/python3 -c \
  'b = b"x" * (200 << 20); print("allocated", len(b))' > "$SANDBOX_DIR/hog.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "the memory hog succeeded: $(cat "$SANDBOX_DIR/hog.out")"
# killed by the OOM killer (137) or a MemoryError (1) — not "cannot run python3" (126/127)
[ "$rc" = 137 ] || grep -q MemoryError "$SANDBOX_DIR/hog.out" ||
  fail "the memory hog failed for another reason (exit $rc): $(cat "$SANDBOX_DIR/hog.out")"
info "hog exited $rc"
assert_exit 0 jc test "$D"

info "set --pids 128 live"
assert_exit 0 jc set "$D" --pids 128
assert_eq 128 "$(cat "$(cg_file pids pids.max)")" "pids.max after set"
assert_eq 128 "$(limit pids)" "status limits.pids after set"
info "set --memory 200M --cpus 0.5 live"
assert_exit 0 jc set "$D" --memory 200M --cpus 0.5
assert_eq $((200 << 20)) "$(cat "$(mem_file)")" "memory limit in the cgroup after set"
assert_eq $((200 << 20)) "$(limit memory_bytes)" "status limits.memory_bytes after set"
assert_eq 0.5 "$(cpu_ratio)" "CPU quota/period in the cgroup after set"
assert_eq 0.5 "$(limit cpus)" "status limits.cpus after set"

info "bad values: exit 2, the field named, nothing changed"
snapshot_state limits
bad() {  # field args...
  assert_exit 2 jc set "$D" "${@:2}"
  assert_contains "$ERR" "$1" "stderr of set ${*:2}"
  assert_state_unchanged limits "state after set ${*:2}"
  assert_eq 128 "$(cat "$(cg_file pids pids.max)")" "pids.max after set ${*:2}"
}
bad cpus --cpus abc
bad memory --memory 1K
bad pids --pids 5
assert_exit 0 jc test "$D"
assert_exit 0 jc destroy --force "$D"
echo "limits: OK"
