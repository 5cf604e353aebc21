#!/usr/bin/env bash
# Runs inside tests/sandbox.sh for bench/compare-lxc (which provides jc, JAILCTL, JAILCTL_ROOT,
# SANDBOX_DIR and $CLIENT). One jail, started two ways, alternating, never at the same time:
#
#   jailctl  `jailctl start example.com` / `jailctl stop example.com` (203.0.113.10)
#   lxc      what an admin would do by hand with LXC alone, on a sparse copy of the same disk
#            image (203.0.113.11): mount -o loop, lxc-start with the hand-written config below,
#            the gateway address and anti-spoofing sysctls on the host veth; lxc-stop, umount.
#
# Both run the same init (jailctl-init bind-mounted on /init, starting nginx and vsftpd from
# the image's /etc/jailctl/services): the comparison is about what happens on the host.
# Each round starts and stops each side once in two client modes (hot, quiet: see the prober
# below); the order of the sides alternates from round to round; round 0 is a warm-up and is
# not recorded. Times come from this shell ($EPOCHREALTIME) and from the prober:
#   <side>.<mode>.start200  launch of the start command -> first "HTTP/1.x 200" at the client
#   <side>.quiet.ready      launch -> the jail could answer (route, gateway, nginx listening)
#   <side>.<mode>.startret  launch -> the start command returned
#   <side>.<mode>.stop      the stop command(s) returned
#   lxc.<mode>.stopcg       lxc-stop + umount + until the container's cgroups are gone
#                           (jailctl's stop waits for that itself; lxc-stop does not)
#   <side>.<mode>.step.<verb>.<part>  jailctl: each step from its task log, plus launch-to-log
#                           and log-to-return; raw: mount, lxc-start, gateway / lxc-stop, umount
# Writes "<metric> <ms>" lines to $BENCH_OUT, the two LXC configs to $BENCH_OUT.*-config.
set -euo pipefail
N=${BENCH_N:-20}
OUT=${BENCH_OUT:?}
DOM=example.com
IP_JC=203.0.113.10
IP_RAW=203.0.113.11
RAW_NAME=raw-example
RAW_PATH=$JAILCTL_ROOT/raw-lxc          # under the sandbox root: its leak checks cover it
RAW_DIR=$RAW_PATH/$RAW_NAME
RAW_VETH=vraw0
INIT_BIN=$(dirname "$JAILCTL")/jailctl-init
SETTLE=${BENCH_SETTLE:-0.3}             # seconds of rest before each timed command

log() { echo "compare-lxc: $*" >&2; }

# ---------------------------------------------------------------- raw LXC, by hand
raw_cgroups() {  # the raw container's cgroup directories, in every hierarchy
  find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d \
    \( -name "lxc.payload.$RAW_NAME*" -o -name "lxc.monitor.$RAW_NAME*" \) 2>/dev/null
}
raw_start() {   # (RAW_PHASES: µs stamps after each part, for the breakdown)
  mount -o loop,nosuid,nodev,noatime "$RAW_DIR/disk.img" "$RAW_DIR/rootfs"
  RAW_PHASES=${EPOCHREALTIME/./}
  lxc-start -P "$RAW_PATH" -n "$RAW_NAME"
  RAW_PHASES+=" ${EPOCHREALTIME/./}"
  # the container's default gateway, and what jailctl does against spoofing
  ip addr add 169.254.0.1/32 dev "$RAW_VETH"
  echo 1 > "/proc/sys/net/ipv4/conf/$RAW_VETH/rp_filter"
  echo 0 > "/proc/sys/net/ipv4/conf/$RAW_VETH/proxy_arp"
}
raw_stop() {
  lxc-stop -P "$RAW_PATH" -n "$RAW_NAME" -t 10
  RAW_PHASES=${EPOCHREALTIME/./}
  umount "$RAW_DIR/rootfs"            # mount -o loop set autoclear: the loop device goes too
  # LXC's router mode removes the route with the veth but leaves the proxy ARP entry
  if [ -n "$(ip neigh show proxy "$IP_RAW" dev uplink0)" ]; then
    ip neigh del proxy "$IP_RAW" dev uplink0
  fi
}
raw_wait_cgroups() {  # until LXC's monitor has removed the cgroups (at most 5 s)
  local deadline=$((SECONDS + 5))
  while [ -n "$(raw_cgroups)" ]; do
    [ $SECONDS -ge $deadline ] && { log "raw cgroups still there 5 s after lxc-stop: $(raw_cgroups)"; return 1; }
    sleep 0.002
  done
}
raw_cleanup() {  # whatever state a failure left: stop, unmount, detach, unroute, remove cgroups
  if [ -d "$RAW_DIR" ] && lxc-info -P "$RAW_PATH" -n "$RAW_NAME" -s 2>/dev/null | grep -q RUNNING; then
    lxc-stop -P "$RAW_PATH" -n "$RAW_NAME" -k 2>/dev/null || true
  fi
  if [ -d "$RAW_DIR/rootfs" ] && mountpoint -q "$RAW_DIR/rootfs"; then umount "$RAW_DIR/rootfs" || umount -l "$RAW_DIR/rootfs" || true; fi
  if [ -d "$RAW_DIR/mnt" ] && mountpoint -q "$RAW_DIR/mnt"; then umount "$RAW_DIR/mnt" || true; fi
  local dev
  for dev in $(losetup -j "$RAW_DIR/disk.img" -O NAME -n 2>/dev/null); do losetup -d "$dev" 2>/dev/null || true; done
  ip link del "$RAW_VETH" 2>/dev/null || true
  ip neigh del proxy "$IP_RAW" dev uplink0 2>/dev/null || true
  ip route del "$IP_RAW/32" 2>/dev/null || true
  local cg pid
  for cg in $(raw_cgroups | awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2-); do
    find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

POLL_PID=
cleanup() {
  local rc=$?
  trap - EXIT
  [ -n "$POLL_PID" ] && kill "$POLL_PID" 2>/dev/null
  raw_cleanup
  jc stop "$DOM" >/dev/null 2>&1 || true   # the sandbox destroys the jail itself
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' TERM INT HUP

# ---------------------------------------------------------------- the jail, made by jailctl
log "creating $DOM with jailctl"
jc create "$DOM" --ip "$IP_JC" --size 64M > /dev/null
jc stop "$DOM" > /dev/null
JC_CONFIG=$JAILCTL_ROOT/jails/$DOM/config
cp "$JC_CONFIG" "$OUT.jailctl-config"

# ---------------------------------------------------------------- the raw copy
mkdir -p "$RAW_DIR/rootfs" "$RAW_DIR/mnt"
chmod 755 "$RAW_PATH"; chmod 711 "$RAW_DIR"     # the jail's root (id-mapped) traverses to rootfs
cp --sparse=always "$JAILCTL_ROOT/jails/$DOM/disk.img" "$RAW_DIR/disk.img"
# its own address: nginx and vsftpd listen on the jail's IP, written in its /etc
mount -o loop "$RAW_DIR/disk.img" "$RAW_DIR/mnt"
mapfile -t ip_files < <(grep -rlF "$IP_JC" "$RAW_DIR/mnt/etc")
for f in "${ip_files[@]}"; do sed -i "s/${IP_JC//./\\.}/$IP_RAW/g" "$f"; done   # GNU sed -i keeps the owner
log "raw copy: $IP_JC -> $IP_RAW in ${ip_files[*]#$RAW_DIR/mnt/}"
umount "$RAW_DIR/mnt"; rmdir "$RAW_DIR/mnt"

# Written by hand, as an admin would: the same things jailctl's render_lxc_config() sets.
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  limits="lxc.cgroup2.memory.max = 268435456
lxc.cgroup2.cpu.max = 100000 100000
lxc.cgroup2.pids.max = 512"
else
  limits="lxc.cgroup.memory.limit_in_bytes = 268435456
lxc.cgroup.cpu.cfs_period_us = 100000
lxc.cgroup.cpu.cfs_quota_us = 100000
lxc.cgroup.pids.max = 512"
fi
ID_BASE=$(awk '$1 == "lxc.idmap" && $3 == "u" {print $5}' "$JC_CONFIG")   # same owner ids as in the image
cat > "$RAW_DIR/config" <<EOF
# raw LXC baseline for bench/compare-lxc (hand-written)
lxc.uts.name = $DOM
lxc.rootfs.path = dir:$RAW_DIR/rootfs
lxc.idmap = u 0 $ID_BASE 65536
lxc.idmap = g 0 $ID_BASE 65536
lxc.init.cmd = /init
lxc.signal.halt = SIGTERM
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 16
lxc.console.path = none
lxc.mount.auto = proc:mixed sys:ro
lxc.mount.entry = /usr usr none bind,ro,nosuid,nodev 0 0
lxc.mount.entry = $INIT_BIN init none bind,ro,nosuid,nodev 0 0
lxc.cap.drop = sys_module sys_rawio sys_time sys_boot mac_admin mac_override
lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp
lxc.net.0.type = veth
lxc.net.0.veth.mode = router
lxc.net.0.veth.pair = $RAW_VETH
lxc.net.0.link = uplink0
lxc.net.0.l2proxy = 1
lxc.net.0.name = eth0
lxc.net.0.flags = up
lxc.net.0.ipv4.address = $IP_RAW/32
lxc.net.0.ipv4.gateway = 169.254.0.1
lxc.sysctl.net.ipv6.conf.all.disable_ipv6 = 1
lxc.sysctl.net.ipv6.conf.default.disable_ipv6 = 1
$limits
lxc.log.file = $RAW_DIR/lxc.log
lxc.log.level = WARN
EOF
cp "$RAW_DIR/config" "$OUT.raw-config"

# ---------------------------------------------------------------- the client's poller
# Proxy ARP answers for both jails with uplink0's MAC; a permanent entry in the client takes
# the client's ARP retry timer (1 s) out of the measurement, for both sides alike.
UPLINK_MAC=$(ip -br link show uplink0 | awk '{print $3}')   # (/sys is the host's)
for ip in "$IP_JC" "$IP_RAW"; do
  $CLIENT ip neigh replace "$ip" lladdr "$UPLINK_MAC" dev cl0 nud permanent
done
# One long-lived prober (no exec of curl per attempt, which costs more than the 5 ms period).
# It runs here, in the sandbox's network namespace, and opens its HTTP connections in the
# client's (setns around socket()). Commands, one per line: "<mode> <ip> <container>".
#   hot    from now on, a new HTTP/1.0 connection every 5 ms from the client (earlier attempts
#          stay open up to 1 s: a SYN sent before the route existed is never answered)
#   quiet  first wait, sending nothing, until the jail is ready to answer: the /32 route and
#          the gateway address 169.254.0.1 exist here, and a process of the container's cgroup
#          sees a socket LISTENing on <ip>:80 in the jail's namespace (read from /proc); then
#          the same HTTP polling. Traffic that reaches a jail while LXC is still plumbing its
#          veth makes the kernel retry ARP after 1 s (see docs/PERFORMANCE-compare.md).
# Answers "ok <epoch µs of the first HTTP/1.x 200> <attempts> <epoch µs ready, or 0>" or "timeout".
cat > "$SANDBOX_DIR/prober.py" <<'PY'
import ctypes, os, selectors, socket, struct, sys, time
libc = ctypes.CDLL("libc.so.6", use_errno=True)
OWN = os.open("/proc/self/ns/net", os.O_RDONLY)
CLIENT = os.open("/run/netns/client", os.O_RDONLY)
CLONE_NEWNET = 0x40000000
REQ = b"GET / HTTP/1.0\r\nHost: example.com\r\nUser-Agent: compare-lxc\r\n\r\n"

def client_socket():
    if libc.setns(CLIENT, CLONE_NEWNET) != 0:
        raise SystemExit("setns client: errno %d" % ctypes.get_errno())
    try:
        return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    finally:
        libc.setns(OWN, CLONE_NEWNET)

def hexip(ip):
    return "%08X" % struct.unpack("<I", socket.inet_aton(ip))[0]

def ready(ip, name):
    h = hexip(ip)
    with open("/proc/net/route") as f:
        if not any(l.split()[1] == h and l.split()[7] == "FFFFFFFF" for l in f.readlines()[1:]):
            return False
    s = socket.socket()
    try:
        s.bind(("169.254.0.1", 0))
    except OSError:
        return False
    finally:
        s.close()
    for procs in ("/sys/fs/cgroup/pids/lxc.payload.%s/cgroup.procs" % name,
                  "/sys/fs/cgroup/lxc.payload.%s/cgroup.procs" % name):
        try:
            pids = open(procs).read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                tcp = open("/proc/%s/net/tcp" % pid).read()
            except OSError:
                continue
            return (" %s:0050 00000000:0000 0A " % h) in tcp
    return False

def poll(ip, deadline):
    sel = selectors.DefaultSelector()
    attempts, nxt = 0, 0.0
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= nxt:
                s = client_socket()
                s.setblocking(False)
                s.connect_ex((ip, 80))
                attempts += 1
                sel.register(s, selectors.EVENT_WRITE, [now, False, b""])
                nxt = now + 0.005
            for key, _ in sel.select(max(0.0, nxt - time.monotonic())):
                s, st = key.fileobj, key.data
                try:
                    if not st[1]:
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            raise OSError
                        s.send(REQ); st[1] = True
                        sel.modify(s, selectors.EVENT_READ, st); continue
                    chunk = s.recv(64)
                    if not chunk:
                        raise OSError
                    st[2] += chunk
                    if len(st[2]) >= 12:
                        if st[2].startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                            return time.time_ns() // 1000, attempts
                        raise OSError
                except OSError:
                    sel.unregister(s); s.close()
            for key in list(sel.get_map().values()):
                if time.monotonic() - key.data[0] > 1.0:
                    sel.unregister(key.fileobj); key.fileobj.close()
        return None, attempts
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()

for line in sys.stdin:
    mode, ip, name = line.split()
    deadline = time.monotonic() + 30
    t_ready = 0
    if mode == "quiet":
        while not ready(ip, name) and time.monotonic() < deadline:
            time.sleep(0.002)
        t_ready = time.time_ns() // 1000
    when, attempts = poll(ip, deadline)
    print("timeout" if when is None else "ok %d %d %d" % (when, attempts, t_ready), flush=True)
PY
coproc POLL { exec /usr/bin/python3 -u "$SANDBOX_DIR/prober.py"; }
POLL_PID=$POLL_PID

# ---------------------------------------------------------------- timing
record() { awk -v m="$1" -v us="$2" 'BEGIN { printf "%s %.1f\n", m, us / 1000 }' >> "$OUT"; }

# record_steps VERB T0 T1: the steps of the jailctl task just run, from its log ("log: <path>"
# on stdout; lines "<ISO time> INFO  [step] done in X ms"), plus the time from the launch to the
# log's first line (process start, registry, lock) and from its last line to the return.
record_steps() {
  local verb=$1 t0=$2 t1=$3 logf
  logf=$(sed -n 's/^log: *//p' "$SANDBOX_DIR/jailctl.stdout")
  [ -f "$logf" ] || { log "no task log in the output of jailctl $verb"; return 1; }
  awk -v pre="jailctl.$MODE.step.$verb." -v t0="$t0" -v t1="$t1" '
    function us(iso,  h, m, sec, t) {   # 2026-11-26T11:23:00.059Z -> µs since the epoch (same day)
      h = substr(iso, 12, 2); m = substr(iso, 15, 2); sec = substr(iso, 18, 6)
      return ((h * 60 + m) * 60 + sec) * 1e6
    }
    NR == 1 { first = us($1) }
    { last = us($1) }
    match($0, /\[[a-z-]+\] done in [0-9.]+ ms/) {
      split(substr($0, RSTART, RLENGTH), w, /[][ ]+/); printf "%s%s %s\n", pre, w[2], w[5]
    }
    END {
      day = t0 - (t0 % 86400000000)
      printf "%s(launch-to-log) %.1f\n", pre, (day + first - t0) / 1000
      printf "%s(log-to-return) %.1f\n", pre, (t1 - day - last) / 1000
    }' "$logf" >> "$OUT"
}
# timed_start SIDE IP CMD... — start, and the client's first HTTP 200 (in $MODE: hot|quiet)
timed_start() {
  local side=$1 ip=$2; shift 2
  local t0 t1 reply word when attempts ready name=$DOM p1 p2
  [ "$side" = lxc ] && name=$RAW_NAME
  sleep "$SETTLE"
  echo "$MODE $ip $name" >&"${POLL[1]}"
  t0=${EPOCHREALTIME/./}
  "$@" > "$SANDBOX_DIR/$side.stdout" 2>> "$SANDBOX_DIR/$side.stderr" || { log "$side start failed: $(tail -n 3 "$SANDBOX_DIR/$side.stderr")"; return 1; }
  t1=${EPOCHREALTIME/./}
  read -r -t 40 reply <&"${POLL[0]}" || { log "no answer from the prober"; return 1; }
  read -r word when attempts ready <<<"$reply"
  [ "$word" = ok ] || { log "$side: no HTTP 200 from $ip within 30 s"; return 1; }
  if [ "$ROUND" -gt 0 ]; then
    record "$side.$MODE.start200" $((when - t0))
    record "$side.$MODE.startret" $((t1 - t0))
    [ "$MODE" = quiet ] && record "$side.quiet.ready" $((ready - t0))
    if [ "$side" = jailctl ]; then
      record_steps start "$t0" "$t1"
    else
      read -r p1 p2 <<<"$RAW_PHASES"
      record "lxc.$MODE.step.start.mount" $((p1 - t0))
      record "lxc.$MODE.step.start.lxc-start" $((p2 - p1))
      record "lxc.$MODE.step.start.gateway" $((t1 - p2))
    fi
  fi
  LAST="$MODE: start200 $(( (when - t0) / 1000 )) ms, returned $(( (t1 - t0) / 1000 )) ms, $attempts polls"
}
# timed_stop SIDE CMD...
timed_stop() {
  local side=$1; shift
  local t0 t1
  sleep "$SETTLE"
  t0=${EPOCHREALTIME/./}
  "$@" > "$SANDBOX_DIR/$side.stdout" 2>> "$SANDBOX_DIR/$side.stderr" || { log "$side stop failed: $(tail -n 3 "$SANDBOX_DIR/$side.stderr")"; return 1; }
  t1=${EPOCHREALTIME/./}
  if [ "$ROUND" -gt 0 ]; then
    record "$side.$MODE.stop" $((t1 - t0))
    if [ "$side" = jailctl ]; then
      record_steps stop "$t0" "$t1"
    else
      record "lxc.$MODE.step.stop.lxc-stop" $((RAW_PHASES - t0))
      record "lxc.$MODE.step.stop.umount+proxy" $((t1 - RAW_PHASES))
    fi
  fi
  if [ "$side" = lxc ]; then
    raw_wait_cgroups
    [ "$ROUND" -gt 0 ] && record "lxc.$MODE.stopcg" $(( ${EPOCHREALTIME/./} - t0 ))
  fi
  LAST="$LAST; stop $(( (t1 - t0) / 1000 )) ms"
}

jc_start() { jc start "$DOM"; }
jc_stop() { jc stop "$DOM"; }
round_jailctl() { timed_start jailctl "$IP_JC" jc_start; timed_stop jailctl jc_stop; log "round $ROUND jailctl $LAST"; }
# (raw_start/raw_stop run in this shell, not a subshell: RAW_PHASES stays visible)
round_lxc() { timed_start lxc "$IP_RAW" raw_start; timed_stop lxc raw_stop; log "round $ROUND lxc     $LAST"; }

for ROUND in $(seq 0 "$N"); do
  for MODE in ${BENCH_MODES:-hot quiet}; do
    if [ $((ROUND % 2)) -eq 0 ]; then round_jailctl; round_lxc; else round_lxc; round_jailctl; fi
  done
  # the raw container must really be gone between rounds, as jailctl's is
  [ -z "$(raw_cgroups)" ] && ! ip link show "$RAW_VETH" >/dev/null 2>&1 ||
    { log "raw container left state behind after its stop"; exit 1; }
done

# one traced start of each side, outside the measured rounds (BENCH_STRACE=1)
if [ "${BENCH_STRACE:-0}" = 1 ]; then
  trace=(strace -f -tt -e trace=process,network,file)
  sleep "$SETTLE"
  "${trace[@]}" -o "$OUT.strace-jailctl" "$JAILCTL" --root "$JAILCTL_ROOT" start "$DOM" > /dev/null
  jc stop "$DOM" > /dev/null
  sleep "$SETTLE"
  export -f raw_start; export RAW_DIR RAW_PATH RAW_NAME RAW_VETH
  "${trace[@]}" -o "$OUT.strace-lxc" bash -c raw_start
  raw_stop; raw_wait_cgroups
fi
log "done: $N measured rounds"
