# shellcheck shell=bash disable=SC2015  # "check && blocked || weak": blocked only echoes
# Security: from inside jail A, as its root, exhaust shared resources: fill its disk, fork bomb,
# memory hog. Neighbour B keeps answering HTTP within 1 s, the host stays responsive, A's
# services come back. Every attack is bounded by the test itself (timeout, ulimit) so that it can
# never take the machine down, even without jailctl's limits; the limits are asserted separately.
# Prints "contained: <what> (<evidence>)" per attempt; a weakness fails the test.
set -euo pipefail
A=a.example.net IPA=203.0.113.30
B=b.example.net IPB=203.0.113.31
source "$TESTS_DIR/security/attempts.bash"

# cgroup file of a jail's payload, v1 (controller hierarchy) or v2 (unified)
cg_file() {  # domain controller file-v1 file-v2
  local f
  for f in "/sys/fs/cgroup/$2/lxc.payload.$1/$3" "/sys/fs/cgroup/lxc.payload.$1/$4"; do
    [ -e "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}
cg_read() { local f; f=$(cg_file "$@") && cat "$f" || echo "?"; }
# B answers HTTP within 1 s (prints the time)
b_answers() {
  local t
  t=$(client_curl --max-time 1 -o "$SANDBOX_DIR/b.page" -w '%{time_total}' -H "Host: $B" "http://$IPB/") &&
    grep -qF "$B" "$SANDBOX_DIR/b.page" && echo "$t"
}
# the host runs a process and lists /proc within 1 s (prints the time)
host_responsive() {
  local t0=$EPOCHREALTIME t1
  /bin/true && ls /proc >/dev/null && sqlite3 "$JAILCTL_ROOT/jailctl.db" 'SELECT count(*) FROM jails' >/dev/null
  t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; printf "%.3f\n", d; exit (d < 1.0 ? 0 : 1) }'
}
# kill, by PID from the host, every process of A's payload cgroup that is not A's init or its services
kill_strays() {
  local procs init pid comm
  init=$(lxc-info -P "$JAILS" -n "$A" -p -H)
  procs=$(cg_file "$A" pids cgroup.procs cgroup.procs) || return 0
  for _ in $(seq 50); do
    local left=0
    # shellcheck disable=SC2044  # pids, no file names
    for pid in $(find "$(dirname "$procs")" -name cgroup.procs -exec cat {} + 2>/dev/null); do
      [ "$pid" = "$init" ] && continue
      comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
      case "$comm" in nginx|vsftpd) continue ;; esac
      kill -KILL "$pid" 2>/dev/null && left=$((left + 1))
    done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

info "jails $A and $B"
assert_exit 0 jc create "$A" --ip "$IPA" --size 64M
assert_exit 0 jc create "$B" --ip "$IPB" --size 64M
b_answers >/dev/null || fail "control: B does not answer HTTP within 1 s"

info "fill A's disk"
IMG=$JAILS/$A/disk.img
img_size=$(stat -c %s "$IMG") img_alloc=$(($(stat -c %b "$IMG") * $(stat -c %B "$IMG")))
host_avail=$(df -B1 --output=avail "$JAILCTL_ROOT" | tail -n 1)
try jin "$A" dd if=/dev/zero of=/srv/site/www/fill bs=1M count=1024 conv=fsync
filled=$(stat -c %s "$JAILS/$A/rootfs/srv/site/www/fill")
[ "$TRY_RC" != 0 ] && [[ "$TRY_OUT" == *"No space left on device"* ]] && [ "$filled" -gt $((32 << 20)) ] ||
  fail "control: dd did not fill A's 64 MiB disk (rc $TRY_RC, wrote $filled bytes): $TRY_OUT"
[ "$(stat -c %s "$IMG")" = "$img_size" ] || weak "A's image grew from $img_size to $(stat -c %s "$IMG") bytes"
img_alloc_now=$(($(stat -c %b "$IMG") * $(stat -c %B "$IMG")))
[ "$img_alloc_now" -le $((img_size + (1 << 20))) ] || weak "A's image occupies $img_alloc_now bytes on the host (size $img_size)"
host_avail_now=$(df -B1 --output=avail "$JAILCTL_ROOT" | tail -n 1)
t=$(b_answers) || weak "B does not answer HTTP within 1 s while A's disk is full"
contained "fill A's disk (ENOSPC after $((filled >> 20)) MiB; image $((img_alloc >> 20)) -> $((img_alloc_now >> 20)) MiB on the host; host free space change $(((host_avail_now - host_avail) / 1048576)) MiB, other writers included; B answered in ${t:-?} s)"
jin "$A" rm /srv/site/www/fill
assert_exit 0 jc test "$A"

info "resource limits on A's cgroup"
mem_limit=$(cg_read "$A" memory memory.limit_in_bytes memory.max)
pids_limit=$(cg_read "$A" pids pids.max pids.max)
info "A: memory limit $mem_limit, pids limit $pids_limit"
[[ "$pids_limit" =~ ^[0-9]+$ ]] || weak "A's cgroup has no pids limit (pids.max = $pids_limit): a fork bomb is bounded only by this test's ulimit"
[[ "$mem_limit" =~ ^[0-9]+$ ]] && [ "$mem_limit" -lt $((16 << 30)) ] ||
  weak "A's cgroup has no memory limit ($mem_limit): a memory hog is bounded only by this test's ulimit"

info "fork bomb in A (bounded: timeout 10, ulimit -u 2048)"
jin "$A" timeout -s KILL 10 bash -c 'ulimit -u 2048; f() { f | f & }; f; sleep 20' >/dev/null 2>&1 &
BOMB=$!
peak=0 slow=()
for i in 1 2 3 4 5; do
  sleep 1
  n=$(cg_read "$A" pids pids.current pids.current); [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt "$peak" ] && peak=$n
  t=$(b_answers) || slow+=("B did not answer HTTP within 1 s at second $i of the bomb")
  h=$(host_responsive) || slow+=("the host took ${h}s to run a process at second $i of the bomb")
done
want=100; [[ "$pids_limit" =~ ^[0-9]+$ ]] && [ $((pids_limit / 2)) -lt "$want" ] && want=$((pids_limit / 2))
[ "$peak" -gt "$want" ] || fail "control: the fork bomb did not run (A's peak pids.current $peak)"
wait "$BOMB" 2>/dev/null || true
kill_strays || weak "bomb processes in A survived 50 rounds of kill -KILL"
[ ${#slow[@]} = 0 ] || weak "fork bomb in A: ${slow[*]}"
retry 20 jc test "$A" >/dev/null 2>&1 || weak "A's services did not come back within 20 s after the fork bomb"
[ ${#slow[@]} = 0 ] && contained "fork bomb in A (peak $peak pids, limit $pids_limit; B answered HTTP < 1 s, host responsive each second; A passes jc test after)"

info "memory hog in A (bounded: timeout 20, ulimit -v)"
target=$((1 << 30))
[[ "$mem_limit" =~ ^[0-9]+$ ]] && [ "$mem_limit" -lt $((1 << 30)) ] && target=$((mem_limit + (128 << 20)))
hog='import sys, time
chunks, target = [], int(sys.argv[1])
while sum(map(len, chunks)) < target:
    chunks.append(bytearray(b"x" * (32 << 20)))
print("held", sum(map(len, chunks)) >> 20, "MiB", flush=True)
time.sleep(3)'
jin "$A" timeout -s KILL 20 bash -c "ulimit -v $(((target >> 10) + (512 << 10))); exec /usr/bin/python3 -c '$hog' $target" \
  > "$SANDBOX_DIR/hog.out" 2>&1 &
HOG=$!
slow=()
for i in 1 2 3; do
  sleep 1
  t=$(b_answers) || slow+=("B did not answer HTTP within 1 s at second $i of the hog")
  h=$(host_responsive) || slow+=("the host took ${h}s to run a process at second $i of the hog")
done
hog_rc=0; wait "$HOG" || hog_rc=$?
kill_strays || true
peak_mem=$(cg_read "$A" memory memory.max_usage_in_bytes memory.peak)
ooms=$(awk '$1 == "oom_kill" {print $2}' "$(cg_file "$A" memory memory.oom_control memory.events)" 2>/dev/null || true)
if grep -q '^held' "$SANDBOX_DIR/hog.out"; then
  [[ "$mem_limit" =~ ^[0-9]+$ ]] && [ "$mem_limit" -lt $((16 << 30)) ] &&
    weak "A held $(cat "$SANDBOX_DIR/hog.out") although its memory limit is $mem_limit"
  hog_result="held $((target >> 20)) MiB (no limit stopped it)"
else
  hog_result="stopped (exit $hog_rc: $(tail -n 1 "$SANDBOX_DIR/hog.out" | cut -c1-80)); peak usage $peak_mem, limit $mem_limit, OOM kills in A's cgroup: ${ooms:-?}"
fi
[ ${#slow[@]} = 0 ] || weak "memory hog in A: ${slow[*]}"
retry 20 jc test "$A" >/dev/null 2>&1 || weak "A's services did not come back within 20 s after the memory hog"
[ ${#slow[@]} = 0 ] && contained "memory hog in A ($hog_result; B answered HTTP < 1 s, host responsive; A passes jc test after)"
b_answers >/dev/null || weak "B does not answer HTTP at the end"

assert_exit 0 jc destroy --force "$A"
assert_exit 0 jc destroy --force "$B"
verdict "resources: all attempts contained"
