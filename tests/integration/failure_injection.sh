# A failure injected at each step of create (JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=<step>):
# exit 5, last stderr line "KO: <step>: ...", and everything done before is undone.
# --keep-on-failure keeps what was built; destroy --force then removes it.
set -euo pipefail
require_python3
D=inject.example.com IP=203.0.113.40

info "the step names, from a successful create"
assert_exit 0 jc --json create probe.example.com --ip 203.0.113.41 --size 64M
mapfile -t STEPS < <(json_eval "$OUT_FILE" '"\n".join(s["name"] for s in d["steps"])')
[ "${#STEPS[@]}" -ge 5 ] || fail "only ${#STEPS[@]} steps in create's JSON: ${STEPS[*]}"
info "steps: ${STEPS[*]}"
assert_exit 0 jc destroy --force probe.example.com
snapshot_state

inject() { JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=$1 jc "${@:2}"; }

for step in "${STEPS[@]}"; do
  info "failure injected at '$step'"
  assert_exit 5 inject "$step" create "$D" --ip "$IP" --size 64M
  assert_ko "$step"
  assert_state_unchanged default "state after a failure at '$step'"
  rc=0; client_curl --max-time 2 "http://$IP/" >/dev/null 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "$IP answers HTTP after a failure at '$step'"
done

info "the switch is ignored without JAILCTL_TEST_MODE=1"
JAILCTL_FAIL_AT=${STEPS[1]} assert_exit 0 jc create "$D" --ip "$IP" --size 64M
assert_exit 0 jc destroy --force "$D"
assert_state_unchanged default "state after create + destroy"

last=${STEPS[${#STEPS[@]} - 1]}
info "--keep-on-failure, failure at the last step '$last'"
assert_exit 5 inject "$last" create "$D" --ip "$IP" --size 64M --keep-on-failure
assert_ko "$last"
[ -d "$JAILCTL_ROOT/jails/$D" ] || fail "--keep-on-failure did not keep $JAILCTL_ROOT/jails/$D"
assert_exit 0 jc status
grep -qE "^[*! ]$D \($IP\)$" "$OUT_FILE" || fail "the kept jail is not in status:"$'\n'"$OUT"
assert_exit 0 jc destroy --force "$D"
assert_state_unchanged default "state after destroying the kept jail"

info "the failed tasks are in the journal"
n=$(sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT count(*) FROM tasks WHERE domain='$D' AND verb='create'")
[ "$n" -ge "${#STEPS[@]}" ] || fail "only $n create tasks for $D in the journal"
echo "failure_injection: OK"
