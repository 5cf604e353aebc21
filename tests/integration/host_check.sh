# host check lists each prerequisite as OK or missing (with a fix); host prepare applies what
# jailctl may apply (subordinate ids, forwarding) — idempotently — after which check says OK.
set -euo pipefail
require_python3

# check_lines: every prerequisite line is "OK ..." or "missing ... fix ...", last line OK/KO
check_lines() {
  local body last
  body=$(grep -v '^[[:space:]]*$' "$OUT_FILE" | sed '$d')
  last=$(grep -v '^[[:space:]]*$' "$OUT_FILE" | tail -n 1)
  [ "$(wc -l <<<"$body")" -ge 8 ] || fail "host check lists fewer than 8 prerequisites:"$'\n'"$OUT"
  while IFS= read -r line; do
    case "$line" in
      OK\ *) ;;
      missing\ *) [[ "$line" == *fix* ]] || fail "a missing prerequisite without a fix: '$line'" ;;
      *) fail "host check line is neither OK nor missing: '$line'" ;;
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
grep -qE '^OK .*uplink0' "$OUT_FILE" || fail "the uplink from host.conf (uplink0) is not OK:"$'\n'"$OUT"

info "host check --json"
rc=0; jc host check --json >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
assert_json "$OUT_FILE"
assert_eq True "$(json_eval "$OUT_FILE" 'd["result"] in ("OK", "KO") and len(d["checks"]) >= 8')" "result and checks"
assert_eq True "$(json_eval "$OUT_FILE" 'all(set(c) >= {"name","ok","fix"} for c in d["checks"])')" \
  "every check has name, ok, fix"
assert_eq True "$(json_eval "$OUT_FILE" 'all(c["fix"] for c in d["checks"] if not c["ok"])')" \
  "every missing check has a fix"

info "host prepare, twice; then subuid/subgid/forwarding are OK"
jc host prepare >/dev/null 2>&1 || true
cp /etc/subuid "$SANDBOX_DIR/subuid.1"
rc=0; jc host prepare >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
cmp -s /etc/subuid "$SANDBOX_DIR/subuid.1" || fail "a second host prepare changed /etc/subuid"
grep -q '^root:' /etc/subuid || fail "host prepare did not declare root's range in /etc/subuid"
grep -q '^root:' /etc/subgid || fail "host prepare did not declare root's range in /etc/subgid"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "ip_forward in the sandbox netns after prepare"
jc host check >"$OUT_FILE" 2>&1 || true
OUT=$(cat "$OUT_FILE")
for thing in forwarding subuid subgid; do
  grep -qiE "^OK .*$thing" "$OUT_FILE" || fail "after host prepare, '$thing' is not OK:"$'\n'"$OUT"
done
echo "host_check: OK"
