# Crash safety: jailctl SIGKILLed (JAILCTL_TEST_MODE=1 JAILCTL_KILL_AT=<step>) right before each
# step of create, start, stop and destroy; then `jailctl repair` (or the next command, which
# repairs automatically) finishes or undoes the interrupted task and nothing is left behind.
set -euo pipefail
require_python3
D=crash.example.com IP=203.0.113.42

killed() { JAILCTL_TEST_MODE=1 JAILCTL_KILL_AT=$1 jc "${@:2}"; }
steps_of() { json_eval "$OUT_FILE" '"\n".join(s["name"] for s in d["steps"])'; }
is_running() { jc --json status "$D" > "$SANDBOX_DIR/st.json" && [ "$(json_eval "$SANDBOX_DIR/st.json" 'd[0]["state"]')" = running ]; }

snapshot_state empty
info "step names from a successful create, stop, start and destroy"
assert_exit 0 jc --json create "$D" --ip "$IP" --size 64M
mapfile -t CREATE < <(steps_of)
assert_exit 0 jc --json stop "$D"
mapfile -t STOP < <(steps_of)
snapshot_state stopped
assert_exit 0 jc --json start "$D"
mapfile -t START < <(steps_of)
assert_exit 0 jc --json destroy --force "$D"
mapfile -t DESTROY < <(steps_of)
info "create: ${CREATE[*]} | start: ${START[*]} | stop: ${STOP[*]} | destroy: ${DESTROY[*]}"
[ "${#CREATE[@]}" -ge 5 ] && [ "${#START[@]}" -ge 2 ] && [ "${#STOP[@]}" -ge 2 ] && [ "${#DESTROY[@]}" -ge 2 ] ||
  fail "too few step names"
assert_state_unchanged empty "state after create + destroy"

for step in "${CREATE[@]}"; do
  info "create killed before '$step', then repair --all"
  assert_exit 137 killed "$step" create "$D" --ip "$IP" --size 64M
  assert_exit 0 jc repair --all
  assert_state_unchanged empty "state after create killed at '$step' + repair"
done

# issue 14, defect 11: the operator asks a `!` jail gone; the repair inside destroy removes it:
# that is OK (exit 0), not "KO: ... is not a jail any more".
for step in disk mount configure-www start test ready; do
  info "create killed before '$step', then destroy --force (and plain destroy)"
  assert_exit 137 killed "$step" create "$D" --ip "$IP" --size 64M
  assert_exit 0 jc status
  assert_contains "$OUT" "!$D" "status of the interrupted create"
  if [ "$step" = start ]; then force=(); else force=(--force); fi
  assert_exit 0 jc destroy "${force[@]}" "$D"
  assert_eq OK "$(head -n 1 <<<"$OUT")" "destroy of the interrupted create (killed before '$step')"
  assert_not_contains "$ERR" "KO:" "stderr of destroy"
  assert_state_unchanged empty "state after create killed at '$step' + destroy"
done
assert_exit 137 killed mount create "$D" --ip "$IP" --size 64M
assert_exit 0 jc --json destroy --force "$D"
assert_eq OK "$(json_eval "$OUT_FILE" 'd["result"]')" "JSON result of destroy of an interrupted create"
assert_eq True "$(json_eval "$OUT_FILE" 'd["repaired"]')" "JSON repaired"
assert_state_unchanged empty "state after create killed at 'mount' + destroy --json"

info "auto-repair: create killed before 'test', then the same create again"
assert_exit 137 killed test create "$D" --ip "$IP" --size 64M
assert_exit 0 jc create "$D" --ip "$IP" --size 64M
assert_exit 0 jc test "$D"

info "start killed at each step of a stopped jail, then repair"
assert_exit 0 jc stop "$D"
snapshot_state stopped   # (a new jail: new id and creation time)
for step in "${START[@]}"; do
  info "start killed before '$step'"
  assert_exit 137 killed "$step" start "$D"
  assert_exit 0 jc repair "$D"
  assert_state_unchanged stopped "state after start killed at '$step' + repair"
  ! is_running || fail "jail running after start killed at '$step' + repair"
done
assert_exit 0 jc start "$D"
assert_exit 0 jc test "$D"

info "stop killed at each step, then start repairs and starts"
for step in "${STOP[@]}"; do
  info "stop killed before '$step'"
  assert_exit 137 killed "$step" stop "$D"
  assert_exit 0 jc start "$D"
  is_running || fail "jail not running after stop killed at '$step' + start"
  assert_exit 0 jc test "$D"
done

info "destroy killed at each step, then repair finishes the destroy"
for step in "${DESTROY[@]}"; do
  [ -d "$JAILCTL_ROOT/jails/$D" ] || assert_exit 0 jc create "$D" --ip "$IP" --size 64M
  info "destroy killed before '$step'"
  assert_exit 137 killed "$step" destroy --force "$D"
  # (repair --all: `repair DOMAIN` here exits 2 "was removed by repair (an interrupted create
  # was undone)" although it finished the destroy; reported)
  assert_exit 0 jc repair --all
  assert_state_unchanged empty "state after destroy killed at '$step' + repair"
done
info "injected errors (undo path) at each step of start, stop and destroy"
failed() { JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=$1 jc "${@:2}"; }
assert_exit 0 jc create "$D" --ip "$IP" --size 64M
assert_exit 0 jc stop "$D"
snapshot_state stopped
for step in "${START[@]}"; do
  info "start fails at '$step': the jail stays cleanly stopped"
  cp -p "$JAILCTL_ROOT/jails/$D/config" "$SANDBOX_DIR/config.saved"
  assert_exit 5 failed "$step" start "$D"
  assert_ko "$step" "injected"
  if [ ! -e "$JAILCTL_ROOT/jails/$D/config" ] && [ "${CRASH_STRICT:-1}" != 1 ]; then
    # CRASH_STRICT=0 tolerates a start whose undo removed the jail's LXC config (fixed:
    # the undo keeps a config that existed before the task).
    info "known deviation: the jail's LXC config was removed by the undo of 'lxc-config' (failure at '$step')"
    cp -p "$SANDBOX_DIR/config.saved" "$JAILCTL_ROOT/jails/$D/config"
  fi
  assert_state_unchanged stopped "state after start failed at '$step'"
done
assert_exit 0 jc start "$D"
for step in "${STOP[@]}"; do
  info "stop fails at '$step': the jail runs again or is cleanly stopped"
  assert_exit 5 failed "$step" stop "$D"
  assert_ko "$step" "injected"
  if is_running; then
    assert_exit 0 jc test "$D"
  else
    # at 8ef00bb a stop failing at 'network-cleanup' or 'unmount' leaves the stopped jail's
    # mount, loop device and proxy entry behind (reported); repair removes them
    assert_exit 0 jc repair --all
    assert_state_unchanged stopped "state after stop failed at '$step' + repair (stopped)"
    assert_exit 0 jc start "$D"
  fi
  assert_exit 0 jc test "$D"
done
for step in "${DESTROY[@]}"; do
  [ -d "$JAILCTL_ROOT/jails/$D" ] || assert_exit 0 jc create "$D" --ip "$IP" --size 64M
  info "destroy fails at '$step', then repair: the jail is intact or completely gone"
  assert_exit 5 failed "$step" destroy --force "$D"
  assert_ko "$step" "injected"
  assert_exit 0 jc repair --all
  if [ -d "$JAILCTL_ROOT/jails/$D" ]; then
    info "the jail is intact"
    is_running || assert_exit 0 jc start "$D"
    assert_exit 0 jc test "$D"
  else
    info "repair finished the destroy"
    assert_state_unchanged empty "state after destroy failed at '$step' + repair"
  fi
done
echo "crash_repair: OK"
