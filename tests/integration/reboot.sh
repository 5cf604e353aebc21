# Host reboot: every jail process SIGKILLed (by PID), every rootfs mount dropped, the jails'
# veths, routes and proxy ARP entries gone (as with a real reboot); `jailctl start --all`
# brings every jail back, each passing `jailctl test` — but one set --no-autostart (a suspended
# site), which stays stopped until started by name.
set -euo pipefail
require_python3
DOMS=(r1.example.com r2.example.com r3.example.com)
IPS=(203.0.113.50 203.0.113.51 203.0.113.52)
LXCPATH=$JAILCTL_ROOT/jails

running() { jc --json status "$1" > "$SANDBOX_DIR/st.json" && [ "$(json_eval "$SANDBOX_DIR/st.json" 'd[0]["state"]')" = running ]; }

for i in 0 1 2; do
  assert_exit 0 jc create "${DOMS[$i]}" --ip "${IPS[$i]}" --size 64M
done

info "r3 is suspended for the next boot (set --no-autostart): start --all leaves it stopped"
assert_exit 0 jc --json set "${DOMS[2]}" --no-autostart
assert_eq False "$(json_eval "$OUT_FILE" 'd["autostart"]')" "set's report"
assert_exit 0 jc --json status "${DOMS[2]}"
assert_eq "False True" "$(json_eval "$OUT_FILE" 'd[0]["autostart"], d[0]["state"] == "running"' | tr -d "(),")" "status: autostart off, still running"

info "simulated reboot: kill every jail process by PID"
for d in "${DOMS[@]}"; do
  pids=$(lxc-info -P "$LXCPATH" -n "$d" -pH)
  [ -n "$pids" ] || fail "no init pid for $d"
  # the LXC monitor of this jail (its cmdline names the lxcpath and the jail)
  mon=$(ps -eo pid=,args= | awk -v p="$LXCPATH" -v n="$d" 'index($0, "[lxc monitor] " p " " n) {print $1}')
  [ -n "$mon" ] || fail "no LXC monitor process found for $d"
  pids+=" $mon"
  # everything in the jail's cgroups
  pids+=" $( { find /sys/fs/cgroup -maxdepth 6 \( -path "*/lxc.payload.$d*" -o -path "*/lxc.monitor.$d*" \) \
               -name cgroup.procs -exec cat {} + 2>/dev/null || true; } | sort -u | tr '\n' ' ')"
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
done
sleep 0.5
for d in "${DOMS[@]}"; do
  retry 10 bash -c '! lxc-info -P "$1" -n "$2" -sH | grep -q RUNNING' _ "$LXCPATH" "$d" || fail "$d still running"
done
info "the kernel forgets: cgroups, mounts, loop devices, veths, routes, proxy entries"
for cg in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d \( -name 'lxc.payload.r?.example.com*' -o -name 'lxc.monitor.r?.example.com*' \) 2>/dev/null); do
  find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done
awk -v r="$JAILCTL_ROOT" 'index($5, r "/") == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
  umount -l "$m"
done
for f in /sys/block/loop*/loop/backing_file; do
  [ -r "$f" ] || continue
  case "$(cat "$f" 2>/dev/null)" in
    "$JAILCTL_ROOT"/*) losetup -d "/dev/$(basename "$(dirname "$(dirname "$f")")")" 2>/dev/null || true ;;
  esac
done
for ip in "${IPS[@]}"; do
  ip neigh del proxy "$ip" dev uplink0 2>/dev/null || true
  while ip -4 route show table all | grep -q "^$ip "; do
    line=$(ip -4 route show table all | grep "^$ip " | head -n 1)
    targs=(); [[ $line =~ table\ ([^ ]+) ]] && targs=(table "${BASH_REMATCH[1]}")
    ip route del "$ip/32" "${targs[@]}"
  done
done
# in this sandbox netns every link but lo and uplink0 belongs to our jails
for l in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vx -e lo -e uplink0); do
  ip link del "$l" 2>/dev/null || true
done
[ -z "$(losetup -a | grep -F "$JAILCTL_ROOT" || true)" ] || fail "loop devices left: $(losetup -a)"
[ -z "$(ip neigh show proxy)" ] || fail "proxy entries left"

info "start --all"
assert_exit 0 jc start --all
! running "${DOMS[2]}" || fail "${DOMS[2]} (--no-autostart) was started by start --all"
assert_exit 0 jc start "${DOMS[2]}"   # by name it starts
assert_exit 0 jc set "${DOMS[2]}" --autostart
for i in 0 1 2; do
  running "${DOMS[$i]}" || fail "${DOMS[$i]} not running after start --all"
  assert_exit 0 jc test "${DOMS[$i]}"
  client_curl -o /dev/null "http://${IPS[$i]}/" || fail "${IPS[$i]} does not answer HTTP"
done
for d in "${DOMS[@]}"; do assert_exit 0 jc destroy --force "$d"; done
echo "reboot: OK"
