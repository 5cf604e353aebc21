# host check lists each prerequisite as OK or missing (with a fix); host prepare applies what
# jailctl may apply (subordinate ids, forwarding, kernel tunables) — idempotently — after which
# check says OK.
#
# Kernel tunables: prepare writes /proc/sys. The host's real values must never change, so
# BEFORE any prepare every tunable file visible here gets a bind-mounted copy over it (this
# mount namespace is private), and /etc/sysctl.d a private copy. The ARP thresholds do not
# exist in the sandbox's network namespace: check must call them "unseen", not fail.
set -euo pipefail
require_python3

sysctl_file() { echo "/proc/sys/${1//.//}"; }
is_mountpoint() { awk -v m="$1" '$5 == m {found=1} END {exit !found}' /proc/self/mountinfo; }
# tun <json-file> <sysctl name> <python expression over c, that check>
tun() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = [c for c in d["checks"] if c["name"] == sys.argv[2]]
if not m:
    print("NO CHECK NAMED " + sys.argv[2])
else:
    c = m[0]
    print(eval(sys.argv[3]))
PY
}

info "protect the host: copies of the tunables and of /etc/sysctl.d, bind-mounted"
jc host check --json >"$SANDBOX_DIR/tun.json" 2>/dev/null || true
assert_json "$SANDBOX_DIR/tun.json"
# every check that carries a minimum is a tunable
TUNABLES=$(json_eval "$SANDBOX_DIR/tun.json" '" ".join(c["name"] for c in d["checks"] if "minimum" in c)')
[ -n "$TUNABLES" ] || fail "host check --json lists no tunable (no check with a minimum)"
for t in kernel.pid_max user.max_user_namespaces net.ipv4.neigh.default.gc_thresh1 \
         net.ipv4.neigh.default.gc_thresh2 net.ipv4.neigh.default.gc_thresh3; do
  [[ " $TUNABLES " == *" $t "* ]] || fail "host check does not list the tunable $t (lists: $TUNABLES)"
done
HIGH=user.max_user_namespaces   # set above its minimum: prepare must leave it alone
declare -A MIN SET
mkdir -p "$SANDBOX_DIR/proc-sys"
for t in $TUNABLES; do
  MIN[$t]=$(tun "$SANDBOX_DIR/tun.json" "$t" 'c["minimum"]')
  f=$(sysctl_file "$t")
  [ -e "$f" ] || continue   # not in this namespace (the ARP thresholds): nothing to protect
  if [ "$t" = "$HIGH" ]; then SET[$t]=$((MIN[$t] + 12345)); else SET[$t]=$((MIN[$t] / 2)); fi
  echo "${SET[$t]}" >"$SANDBOX_DIR/proc-sys/$t"
  mount --bind "$SANDBOX_DIR/proc-sys/$t" "$f" || fail "cannot bind-mount a copy over $f"
  is_mountpoint "$f" || fail "$f is not covered by a copy; refusing to run host prepare"
  assert_eq "${SET[$t]}" "$(cat "$f")" "$f reads the copy"
done
[ -n "${SET[kernel.pid_max]:-}" ] || fail "kernel.pid_max is not visible in the sandbox"
[ -n "${SET[$HIGH]:-}" ] || fail "$HIGH is not visible in the sandbox"
if [ -d /etc/sysctl.d ]; then
  mkdir -p "$SANDBOX_DIR/sysctl.d"
  cp -a /etc/sysctl.d/. "$SANDBOX_DIR/sysctl.d/"
  rm -f "$SANDBOX_DIR/sysctl.d/90-jailctl.conf"
  mount --bind "$SANDBOX_DIR/sysctl.d" /etc/sysctl.d || fail "cannot bind-mount a copy over /etc/sysctl.d"
elif ! awk '$5 == "/etc" && / - overlay /' /proc/self/mountinfo | grep -q .; then
  fail "no /etc/sysctl.d to cover and /etc is not a private overlay: refusing to run host prepare"
fi
DROPIN=/etc/sysctl.d/90-jailctl.conf

# check_lines: every prerequisite line is "OK ..." or "missing ... fix ...", last line OK/KO
check_lines() {
  local body last
  body=$(grep -v '^[[:space:]]*$' "$OUT_FILE" | sed '$d')
  last=$(grep -v '^[[:space:]]*$' "$OUT_FILE" | tail -n 1)
  [ "$(wc -l <<<"$body")" -ge 8 ] || fail "host check lists fewer than 8 prerequisites:"$'\n'"$OUT"
  while IFS= read -r line; do
    case "$line" in
      OK\ *|unseen\ *) ;;
      reflink\ *snapshots\ *|copy\ *snapshots\ *) ;;  # information: how backups copy a running jail
      off\ *acme\ *) ;;  # information: no ACME CA in host.conf, sites keep self-signed certificates
      absent\ *php\ *) ;;  # information: --profile php needs php-fpm (optional)
      missing\ *|low\ *|unreadable\ *|invalid\ *) [[ "$line" == *fix* ]] || fail "a failing prerequisite without a fix: '$line'" ;;
      *) fail "host check line is neither OK, unseen, off, absent, missing, low, unreadable nor invalid: '$line'" ;;
    esac
  done <<<"$body"
  assert_match "$last" '^(OK|KO: )' "host check's last line"
}

info "host check in a fresh sandbox (forwarding off, no subordinate ids for root)"
rc=0; jc host check >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
OUT=$(cat "$OUT_FILE")
[ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "host check exited $rc (expected 0 or 4):"$'\n'"$OUT"$'\n'"$(cat "$ERR_FILE")"
check_lines
for thing in loop nginx vsftpd lxc forwarding uplink subuid subgid; do
  grep -qi -- "$thing" "$OUT_FILE" || fail "host check does not mention '$thing':"$'\n'"$OUT"
done
grep -qiE '^missing .*forwarding' "$OUT_FILE" || fail "forwarding is off in a new netns but check says:"$'\n'"$OUT"
grep -qiE '^missing .*subuid' "$OUT_FILE" || fail "root has no ids in the empty /etc/subuid but check says:"$'\n'"$OUT"
# the root is on the sandbox's own filesystem (ext4 or tmpfs here: no reflinks; xfs_root.sh has one)
grep -qE "^(OK +php +/usr/sbin/php-fpm[0-9.]+ with [0-9]+ extensions: --profile php available|absent +php +no php-fpm in /usr/sbin: --profile php is refused; apt-get install php8.2-fpm)" "$OUT_FILE" ||
  fail "host check does not say whether PHP is available:"$'\n'"$OUT"
grep -qE "^copy +snapshots +$JAILCTL_ROOT is (ext4|tmpfs) without reflinks" "$OUT_FILE" ||
  fail "host check does not say how snapshots are taken on $JAILCTL_ROOT:"$'\n'"$OUT"
grep -qE '^OK .*uplink0' "$OUT_FILE" || fail "the uplink from host.conf (uplink0) is not OK:"$'\n'"$OUT"
grep -qE '^low +kernel\.pid_max .*fix: jailctl host prepare' "$OUT_FILE" ||
  fail "kernel.pid_max at ${SET[kernel.pid_max]} is not 'low' with the fix:"$'\n'"$OUT"
grep -qE "^OK +$HIGH " "$OUT_FILE" || fail "$HIGH above its minimum is not OK:"$'\n'"$OUT"
grep -qE '^missing +sysctls after reboot .*fix: jailctl host prepare' "$OUT_FILE" ||
  fail "no drop-in yet, but 'sysctls after reboot' is not missing:"$'\n'"$OUT"

info "host check --json"
rc=0; jc host check --json >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
assert_json "$OUT_FILE"
assert_eq True "$(json_eval "$OUT_FILE" 'd["result"] in ("OK", "KO") and len(d["checks"]) >= 8')" "result and checks"
assert_eq True "$(json_eval "$OUT_FILE" 'all(set(c) >= {"name","ok","fix"} for c in d["checks"])')" \
  "every check has name, ok, fix"
assert_eq True "$(json_eval "$OUT_FILE" 'all(c["fix"] for c in d["checks"] if not c["ok"])')" \
  "every missing check has a fix"
for t in $TUNABLES; do
  if [ -n "${SET[$t]:-}" ]; then
    assert_eq "${SET[$t]}" "$(tun "$OUT_FILE" "$t" 'c["value"]')" "$t value before prepare"
    if [ "$t" = "$HIGH" ]; then
      assert_eq "OK True" "$(tun "$OUT_FILE" "$t" 'c["state"], c["ok"]' | tr -d "(),'")" "$t before prepare"
    else
      assert_eq "low False jailctl host prepare" \
        "$(tun "$OUT_FILE" "$t" 'c["state"], c["ok"], c["fix"]' | tr -d "(),'")" "$t before prepare"
    fi
  else  # absent here: reported as unseen, with the reason, and not a failure
    assert_eq "unseen True" "$(tun "$OUT_FILE" "$t" 'c["state"], c["ok"]' | tr -d "(),'")" "$t (absent) before prepare"
    assert_contains "$(tun "$OUT_FILE" "$t" 'c["detail"]')" "initial network namespace" "$t detail"
  fi
done

info "host prepare, twice; then subuid/subgid/forwarding/tunables are OK"
jc host prepare >/dev/null 2>&1 || true
cp /etc/subuid "$SANDBOX_DIR/subuid.1"
[ -f "$DROPIN" ] || fail "host prepare wrote no $DROPIN"
cp -p "$DROPIN" "$SANDBOX_DIR/dropin.1"
rc=0; jc host prepare >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
cmp -s /etc/subuid "$SANDBOX_DIR/subuid.1" || fail "a second host prepare changed /etc/subuid"
cmp -s "$DROPIN" "$SANDBOX_DIR/dropin.1" || fail "a second host prepare changed $DROPIN"
for t in $TUNABLES; do
  f=$(sysctl_file "$t")
  if [ -n "${SET[$t]:-}" ]; then
    if [ "$t" = "$HIGH" ]; then want=${SET[$t]}; else want=${MIN[$t]}; fi
    assert_eq "$want" "$(cat "$f")" "$t (copy) after prepare (was ${SET[$t]}, minimum ${MIN[$t]})"
  else
    want=${MIN[$t]}   # not visible: the drop-in carries the minimum for the host's boot
  fi
  grep -qxF "$t = $want" "$DROPIN" || fail "$DROPIN lacks '$t = $want':"$'\n'"$(cat "$DROPIN")"
done
[ "$(stat -c %a "$DROPIN")" = 644 ] || fail "$DROPIN mode $(stat -c %a "$DROPIN"), expected 644"
rc=0; jc host check --json >"$SANDBOX_DIR/tun.after.json" 2>/dev/null || rc=$?
for t in $TUNABLES; do
  if [ -n "${SET[$t]:-}" ]; then state=OK; else state=unseen; fi
  assert_eq "$state True" "$(tun "$SANDBOX_DIR/tun.after.json" "$t" 'c["state"], c["ok"]' | tr -d "(),'")" \
    "$t after prepare"
done
assert_eq True "$(tun "$SANDBOX_DIR/tun.after.json" "sysctls after reboot" 'c["ok"]')" "sysctls after reboot, after prepare"
grep -q '^root:' /etc/subuid || fail "host prepare did not declare root's range in /etc/subuid"
grep -q '^root:' /etc/subgid || fail "host prepare did not declare root's range in /etc/subgid"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "ip_forward in the sandbox netns after prepare"
jc host check >"$OUT_FILE" 2>&1 || true
OUT=$(cat "$OUT_FILE")
for thing in forwarding subuid subgid; do
  grep -qiE "^OK .*$thing" "$OUT_FILE" || fail "after host prepare, '$thing' is not OK:"$'\n'"$OUT"
done
echo "host_check: OK"
