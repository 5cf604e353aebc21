#!/usr/bin/env bash
# tests/sandbox.sh <test-script> <path-to-jailctl>
#
# Runs one root test inside its own network + mount + UTS namespaces holding a small ISP:
#
#   client netns                    sandbox netns (jailctl runs here)
#   cl0 203.0.113.254/24 ── veth ── uplink0 203.0.113.1/24 ── routed veth ── jail 203.0.113.x/32
#
# Stage 1 (the host side) checks the prerequisites, takes a global lock (so sandboxed tests,
# whose loop devices, cgroups and processes are global, never overlap) and re-executes this
# script under unshare. Stage 2 (inside) builds the ISP, runs the test, then tears down:
# destroy --force every jail, LEAK CHECK (fails the test), force-clean whatever leaked.
#
# Exit status: the test's (0 pass, 77 skip), or 1 when anything of ours leaked.
# Environment knobs: SANDBOX_TIMEOUT (seconds for the test script, default 480;
# CTest kills at 600 s, and the teardown needs time too),
# SANDBOX_LOCK_WAIT (seconds to wait for another sandboxed test, default 300),
# SANDBOX_KEEP=1 (keep the temp dirs for debugging; still cleans kernel objects).
set -uo pipefail

readonly STAGE_MARKER=JAILCTL_SANDBOX_STAGE
readonly LOCK_FILE=/tmp/jailctl-sandbox.lock
readonly LOCK_WAIT=${SANDBOX_LOCK_WAIT:-300}
readonly SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly TESTS_DIR=$(dirname "$SELF")

usage() { echo "usage: $0 <test-script> <path-to-jailctl>" >&2; exit 2; }
[ $# -eq 2 ] || usage
SCRIPT=$(readlink -f "$1")
JAILCTL_BIN=$(readlink -f "$2")
# suite.name, as CTest names it (integration.lifecycle)
TEST_NAME="$(basename "$(dirname "$SCRIPT")").$(basename "$SCRIPT" .sh)"

skip() { echo "sandbox: skipped: $*" >&2; echo "SKIP $TEST_NAME ($*)"; exit 77; }
say() { echo "sandbox: $*" >&2; }

# Host-side facts that must be identical after the test: interfaces, our address ranges in
# routes and proxy neighbours, the real subordinate id files. Proves the sandbox held.
host_fingerprint() {
  ip -o link show | awk -F': ' '{print "link " $2}' | sed 's/@.*//'
  ip -4 route show table all 2>/dev/null | grep -E '(203\.0\.113|198\.51\.100)\.' | sed 's/^/route /'
  ip neigh show proxy 2>/dev/null | sed 's/^/proxy /'
  for f in /etc/subuid /etc/subgid; do
    if [ -e "$f" ]; then echo "file $f $(sha256sum < "$f")"; else echo "file $f absent"; fi
  done
}

# ---------------------------------------------------------------- stage 1: outside
if [ "${!STAGE_MARKER:-}" != inner ]; then
  [ "$(id -u)" -eq 0 ] || skip "not root"
  [ -e /dev/loop-control ] || skip "no /dev/loop-control"
  unshare --net true 2>/dev/null || skip "unshare --net fails (no network namespaces)"
  [ -f "$SCRIPT" ] || { say "no test script $1"; echo "FAIL $TEST_NAME"; exit 1; }
  [ -x "$JAILCTL_BIN" ] || { say "no jailctl binary at $2"; echo "FAIL $TEST_NAME"; exit 1; }

  exec 9>>"$LOCK_FILE"
  if ! flock -w "$LOCK_WAIT" 9; then
    say "another sandboxed test held $LOCK_FILE for $LOCK_WAIT s"; echo "FAIL $TEST_NAME"; exit 1
  fi
  host_before=$(host_fingerprint)

  export "$STAGE_MARKER"=inner
  unshare --net --mount --uts --propagation private --fork --kill-child=SIGTERM -- \
    "$SELF" "$SCRIPT" "$JAILCTL_BIN" &
  unshare_pid=$!
  # unshare ignores SIGTERM/SIGINT while its child runs: forward them to stage 2 by PID.
  forward() {
    local inner
    inner=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null)
    for p in $inner; do kill -TERM "$p" 2>/dev/null; done
  }
  trap forward TERM INT HUP
  rc=0
  while :; do
    wait "$unshare_pid"; rc=$?
    kill -0 "$unshare_pid" 2>/dev/null || break   # wait was interrupted by a trap
  done

  host_after=$(host_fingerprint)
  if [ "$host_before" != "$host_after" ]; then
    say "HOST CHANGED (outside the sandbox!):"
    diff <(echo "$host_before") <(echo "$host_after") >&2
    echo "FAIL $TEST_NAME (host state changed)"
    exit 1
  fi
  exit "$rc"
fi

# ---------------------------------------------------------------- stage 2: inside
unset "$STAGE_MARKER"
START_SECONDS=$SECONDS
TEST_PID=
RESULT=1
SANDBOX_DIR=$(mktemp -d /tmp/jailctl-sandbox.XXXXXX)
JAILCTL_ROOT=$(mktemp -d /tmp/jailctl-test.XXXXXX)
# unprivileged containers need to traverse the path to their rootfs
chmod 755 "$JAILCTL_ROOT"
MY_NETNS=$(readlink /proc/$$/ns/net)
MY_MNTNS=$(readlink /proc/$$/ns/mnt)
CLIENT_NETNS=

# cgroup directories that look like ours (LXC payload/monitor or jailctl-named)
list_cgroups() {
  find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d \
    \( -name 'lxc.payload.*' -o -name 'lxc.monitor.*' -o -name 'jailctl*' \) 2>/dev/null | sort
}
CGROUPS_BEFORE=$(list_cgroups)
# Left by an earlier run that was killed (a CI job cut short): not this test's. The state
# snapshots of the test leave them out (a jail of the same name that jailctl starts and stops
# reaps its name's empty leftovers, which is right, not a change made by the test).
printf '%s\n' "$CGROUPS_BEFORE" | sed '/^$/d' > "$SANDBOX_DIR/cgroups.before"
[ ! -s "$SANDBOX_DIR/cgroups.before" ] ||
  say "cgroups from before this test (an earlier run killed?): $(tr '\n' ' ' < "$SANDBOX_DIR/cgroups.before")"
# On cgroup v1 (and hybrid) layouts LXC's monitor moves itself into an `lxc.pivot` cgroup per
# hierarchy and never removes it. Not a jail's, so not a leak of jailctl: the ones that
# appeared during this test are removed at teardown, once empty.
list_pivots() {
  find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name lxc.pivot 2>/dev/null | sort
}
PIVOTS_BEFORE=$(list_pivots)
remove_new_pivots() {
  local d left=
  while read -r d; do
    [ -n "$d" ] && ! rmdir "$d" 2>/dev/null && left="$left $d"
  done < <(comm -13 <(echo "$PIVOTS_BEFORE") <(list_pivots))
  [ -z "$left" ] || { say "LEAK: LXC pivot cgroups still in use:$left"; return 1; }
}

# Domains this test touched: jail dirs and per-domain log dirs.
our_domains() {
  local d
  for d in "$JAILCTL_ROOT"/jails/*/ "$JAILCTL_ROOT"/log/*/; do
    [ -d "$d" ] && basename "$d"
  done | sort -u
}

# ---- leak detection: each prints one line per leaked object
leaked_loops() {
  local f bf
  for f in /sys/block/loop*/loop/backing_file; do
    [ -r "$f" ] || continue
    bf=$(cat "$f" 2>/dev/null) || continue
    case "$bf" in "$JAILCTL_ROOT"/*) echo "$(basename "$(dirname "$(dirname "$f")")") $bf" ;; esac
  done
}
leaked_mounts() {  # mount points, deepest first
  awk -v r="$JAILCTL_ROOT" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}
leaked_cgroups() {  # new since start, or named after one of our jails; deepest first
  local now domains d
  now=$(list_cgroups)
  domains=$(our_domains)
  {
    comm -13 <(echo "$CGROUPS_BEFORE") <(echo "$now")
    for d in $domains; do
      grep -F -e "/lxc.payload.$d" -e "/lxc.monitor.$d" <<<"$now"
    done
  } | grep -v '^$' | sort -u | awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2-
}
leaked_processes() {  # "pid why: cmdline"
  local me=$BASHPID pats pid why ppid k v
  pats="$SANDBOX_DIR/patterns"
  { printf '%s\n' "$JAILCTL_ROOT"
    for d in $(our_domains); do printf 'lxc.payload.%s\nlxc.monitor.%s\n' "$d" "$d"; done
  } > "$pats"
  # A destroyed jail's processes were killed, but the last of them may still be exiting (an
  # empty cmdline, not yet reaped) for a moment: a leak is what is still there after 3 s.
  local i
  for i in $(seq 30); do
    grep -qF -f "$pats" /proc/[0-9]*/cgroup 2>/dev/null || break
    sleep 0.1
  done
  {
    # one pass over the namespace, cwd and root links of every process
    find /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt /proc/[0-9]*/cwd /proc/[0-9]*/root \
        -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
      awk -v net="$MY_NETNS" -v cnet="${CLIENT_NETNS:-none}" -v mnt="$MY_MNTNS" -v root="$JAILCTL_ROOT" '
        { split($1, a, "/"); pid = a[3]; kind = a[4] (a[5] != "" ? "/" a[5] : "") }
        kind == "ns/net" && $2 == net  { print pid, "in the sandbox netns" }
        kind == "ns/net" && $2 == cnet { print pid, "in the client netns" }
        kind == "ns/mnt" && $2 == mnt  { print pid, "in the sandbox mount ns" }
        (kind == "cwd" || kind == "root") && ($2 == root || index($2, root "/") == 1) { print pid, kind, "under our root" }'
    grep -lF -f "$pats" /proc/[0-9]*/cgroup 2>/dev/null | awk -F/ '{print $3, "in a cgroup of our jails"}'
    grep -laF -f "$pats" /proc/[0-9]*/cmdline 2>/dev/null | awk -F/ '{print $3, "cmdline names our root"}'
  } | sort -n -k1,1 -u | while read -r pid why; do
    # this shell, this helper, and unshare (our parent, which lives in the namespaces too)
    [ "$pid" = "$$" ] || [ "$pid" = "$me" ] || [ "$pid" = "$PPID" ] && continue
    ppid=
    while read -r k v; do [ "$k" = PPid: ] && { ppid=$v; break; }; done 2>/dev/null < "/proc/$pid/status"
    [ -z "$ppid" ] && continue                          # gone meanwhile
    [ "$ppid" = "$$" ] || [ "$ppid" = "$me" ] && continue   # our own helpers
    echo "$pid $why: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
  done
}
leaked_links() {
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vx -e lo -e uplink0
}
leaked_proxies() { ip neigh show proxy; }
leaked_routes() {  # host routes (/32) into our ranges, any table
  ip -4 route show table all | grep -E '^(203\.0\.113|198\.51\.100)\.[0-9]+ '
}

leak_check() {
  local leaks=0 out kind
  for kind in processes mounts loops cgroups links proxies routes; do
    out=$("leaked_$kind")
    if [ -n "$out" ]; then
      leaks=1
      say "LEAK: $kind:"
      sed 's/^/sandbox:     /' <<<"$out" >&2
    fi
  done
  local jd
  for jd in "$JAILCTL_ROOT"/jails/*/; do
    [ -d "$jd" ] && { leaks=1; say "LEAK: jail dir still there after destroy --force: $jd"; }
  done
  return $leaks
}

force_clean() {
  local pid rest m line dev bf cg dest table_arg
  while read -r pid rest; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done < <(leaked_processes)
  sleep 0.2
  while read -r m; do [ -n "$m" ] && umount -l "$m" 2>/dev/null; done < <(leaked_mounts)
  while read -r dev bf; do
    [ -n "$dev" ] && losetup -d "/dev/$dev" 2>/dev/null
  done < <(leaked_loops)
  while read -r cg; do
    [ -n "$cg" ] || continue
    # kill what is still inside, then remove the subtree leaf first
    find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
      kill -KILL "$pid" 2>/dev/null; done
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done < <(leaked_cgroups)
  while read -r line; do [ -n "$line" ] && ip link del "$line" 2>/dev/null; done < <(leaked_links)
  while read -r line; do
    set -- $line   # "203.0.113.10 dev uplink0 proxy"
    [ $# -ge 3 ] && ip neigh del proxy "$1" dev "$3" 2>/dev/null
  done < <(leaked_proxies)
  while read -r line; do
    dest=${line%% *}
    table_arg=()
    [[ $line =~ table\ ([^ ]+) ]] && table_arg=(table "${BASH_REMATCH[1]}")
    ip route del "$dest/32" "${table_arg[@]}" 2>/dev/null
  done < <(leaked_routes)
}

teardown() {
  # the cleanup itself must not be interrupted
  trap - EXIT
  trap '' TERM INT HUP PIPE   # (a reader that went away must not stop the cleanup)
  # the test script and everything it started (its own process group)
  if [ -n "$TEST_PID" ] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM -- "-$TEST_PID" 2>/dev/null; sleep 1; kill -KILL -- "-$TEST_PID" 2>/dev/null
    wait "$TEST_PID" 2>/dev/null
  fi
  local dom
  # every jail dir, and every registry row (a half-created jail may have no dir)
  for dom in $( { for jd in "$JAILCTL_ROOT"/jails/*/; do [ -d "$jd" ] && basename "$jd"; done
                  [ -f "$JAILCTL_ROOT/jailctl.db" ] &&
                    sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT domain FROM jails" 2>/dev/null; } | sort -u); do
    timeout 60 "$JAILCTL_BIN" --root "$JAILCTL_ROOT" destroy --force "$dom" >"$SANDBOX_DIR/destroy.out" 2>&1 9>&- \
      || { say "teardown: destroy --force $dom failed:"; tail -n 5 "$SANDBOX_DIR/destroy.out" >&2; }
  done
  if ! leak_check; then
    say "leaks found; force-cleaning them"
    force_clean
    leak_check >/dev/null 2>&1 || { say "STILL LEAKING after force-clean:"; leak_check; }
    RESULT=1
  fi
  remove_new_pivots || RESULT=1
  # what jailctl wrote into the (private overlay of) /etc, for the record
  if [ -d "$SANDBOX_DIR/etc-upper" ]; then
    local changed
    changed=$(cd "$SANDBOX_DIR/etc-upper" && find . -type f -newer "$SANDBOX_DIR/etc-stamp" | sed 's|^\.|/etc|')
    [ -n "$changed" ] && say "files written to the private /etc: $(echo $changed)"
  fi
  ip netns del client 2>/dev/null
  if [ "${SANDBOX_KEEP:-0}" = 1 ]; then
    say "kept $JAILCTL_ROOT and $SANDBOX_DIR"
  else
    rm -rf --one-file-system "$JAILCTL_ROOT" "$SANDBOX_DIR"
  fi
  local secs=$((SECONDS - START_SECONDS))
  case "$RESULT" in
    0) echo "PASS $TEST_NAME (${secs}s)" ;;
    77) echo "SKIP $TEST_NAME (${secs}s)" ;;
    *) echo "FAIL $TEST_NAME (${secs}s, status $RESULT)" ;;
  esac
  exit "$RESULT"
}
trap teardown EXIT
trap 'say "interrupted"; RESULT=1; exit 1' TERM INT HUP
trap 'RESULT=1; exit 1' PIPE   # output closed (| head): still tear down

setup_fail() { say "setup: $*"; RESULT=1; exit 1; }
setup_skip() { say "skipped: $*"; RESULT=77; exit 77; }

# ---- private view of the host: hostname, /run/netns, /run/lxc, /etc
hostname jailctl-sandbox
ip link set lo up || setup_fail "lo up"
for d in /run/netns /run/lxc; do
  mkdir -p "$d" && mount -t tmpfs -o mode=755,size=16m sandbox "$d" || setup_fail "tmpfs on $d"
done
# /etc: an overlay whose upper layer is ours, so whatever jailctl writes there (subuid,
# subgid, a temp file renamed into place) stays private; the subordinate id files in it are
# private copies (empty when the host has none). Fallback: bind-mount copies of the two files.
mkdir -p "$SANDBOX_DIR/etc-upper" "$SANDBOX_DIR/etc-work"
for f in subuid subgid; do
  if [ -e "/etc/$f" ]; then cp -p "/etc/$f" "$SANDBOX_DIR/etc-upper/$f"
  else install -m 644 /dev/null "$SANDBOX_DIR/etc-upper/$f"; fi
done
touch -d '-1 sec' "$SANDBOX_DIR/etc-stamp"
if ! mount -t overlay sandbox-etc \
     -o "lowerdir=/etc,upperdir=$SANDBOX_DIR/etc-upper,workdir=$SANDBOX_DIR/etc-work" /etc 2>/dev/null; then
  say "overlay on /etc not available; bind-mounting copies of subuid/subgid"
  for f in subuid subgid; do
    [ -e "/etc/$f" ] || setup_skip "/etc/$f missing and no overlayfs to provide a private one"
    mount --bind "$SANDBOX_DIR/etc-upper/$f" "/etc/$f" || setup_fail "bind /etc/$f"
  done
  rm -rf "$SANDBOX_DIR/etc-upper" "$SANDBOX_DIR/etc-work"
fi

# ---- the ISP: client netns <-> uplink0
ip netns add client || setup_fail "ip netns add client"
CLIENT_NETNS=$(ip netns exec client readlink /proc/self/ns/net)
ip link add uplink0 type veth peer name cl0 netns client 2>/dev/null || setup_skip "cannot create veth pairs"
ip addr add 203.0.113.1/24 dev uplink0 && ip link set uplink0 up || setup_fail "uplink0"
ip -n client link set lo up && ip -n client addr add 203.0.113.254/24 dev cl0 &&
  ip -n client link set cl0 up && ip -n client route add default via 203.0.113.1 || setup_fail "client side"

echo "uplink = uplink0" > "$JAILCTL_ROOT/host.conf"

# ---- run the test in its own process group, with our own deadline (CTest's is 600 s)
# The client enters only the client's network namespace: `ip netns exec` would also give it a
# mount namespace of its own, a copy of this one holding every jail's mounted disk, so a client
# still running (a polling loop) would keep a stopped jail's filesystem and loop device alive.
export JAILCTL="$JAILCTL_BIN" JAILCTL_ROOT SANDBOX_DIR CLIENT="nsenter --net=/run/netns/client"
export BASH_ENV="$TESTS_DIR/lib.sh" TESTS_DIR
say "running $TEST_NAME in $JAILCTL_ROOT"
cd "$SANDBOX_DIR" || setup_fail "cd"
setsid timeout -k 10 "${SANDBOX_TIMEOUT:-480}" bash "$SCRIPT" 9>&- &
TEST_PID=$!
wait "$TEST_PID"
RESULT=$?
TEST_PID=
[ "$RESULT" = 124 ] && say "test timed out after ${SANDBOX_TIMEOUT:-480} s"
unset BASH_ENV
exit "$RESULT"
