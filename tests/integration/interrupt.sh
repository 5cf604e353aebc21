# Issue 14, defect 4: SIGINT, SIGTERM and SIGHUP during create (at several steps) and grow are
# handled like a failed step: the task is undone, the log says so, the last stderr line is
# "KO: <step>: interrupted", --json carries the error and the signal, the exit status is 128 +
# the signal's number, and nothing is left (no registry row, loop device, mount, interface,
# route, proxy entry, cgroup, process). A second signal during the undo is ignored and said so.
# An interrupted grow leaves the jail running with its old size; a stop always completes; an
# interrupted start --all passes the signal to the running start and starts no other jail.
# The steps are reached with the test hook JAILCTL_PAUSE_AT (honoured only with JAILCTL_TEST_MODE=1).
set -euo pipefail
require_python3
D=int.example.com IP=203.0.113.40
W=$SANDBOX_DIR/interrupt
mkdir -p "$W"
snapshot_state

# interrupted_run <signal> <step> <jailctl args...>: runs jailctl paused before <step>, sends the
# signal once it is paused (and again once the undo pauses before JAILCTL_PAUSE_UNDO's undo, when
# set), leaves RC, OUT_FILE and ERR_FILE.
interrupted_run() {
  local sig=$1 step=$2; shift 2
  : > "$ERR_FILE"
  JAILCTL_TEST_MODE=1 JAILCTL_PAUSE_AT=$step JAILCTL_PAUSE_UNDO=${JAILCTL_PAUSE_UNDO:-} "$JAILCTL" --root "$JAILCTL_ROOT" "$@" >"$OUT_FILE" 2>"$ERR_FILE" &
  local pid=$!
  retry 60 grep -q "paused before $step" "$ERR_FILE" || { kill -KILL "$pid"; fail "never paused before $step: $(cat "$ERR_FILE")"; }
  kill -"$sig" "$pid"
  if [ -n "${JAILCTL_PAUSE_UNDO:-}" ]; then  # a second signal while the undo is under way
    retry 60 grep -q "paused before undoing $JAILCTL_PAUSE_UNDO" "$ERR_FILE" || { kill -KILL "$pid"; fail "the undo never paused"; }
    kill -"$sig" "$pid"
  fi
  RC=0
  wait "$pid" || RC=$?
  OUT=$(cat "$OUT_FILE") ERR=$(cat "$ERR_FILE")
}
signum() { kill -l "$1"; }

for case in INT:disk TERM:mount HUP:populate INT:lxc-config TERM:start INT:test; do
  sig=${case%%:*} step=${case#*:}
  info "create interrupted by SIG$sig before $step"
  interrupted_run "$sig" "$step" create "$D" --ip "$IP" --size 64M --sparse
  assert_eq $((128 + $(signum "$sig"))) "$RC" "exit status after SIG$sig (stderr: $ERR)"
  assert_ko "$step" '^interrupted$'
  assert_contains "$ERR" "undoing what this task did" "stderr"
  log=$(sed -n 's/^log: //p' "$ERR_FILE" | tail -n 1)
  grep -qE "WARN +\[$step\] interrupted by SIG$sig: undoing the task" "$log" || fail "log does not say so: $(cat "$log")"
  grep -qE "\[register\] undone" "$log" || fail "log shows no undo: $(cat "$log")"
  assert_state_unchanged default "state after SIG$sig before $step"
  assert_exit 0 jc status
  assert_not_contains "$OUT" "$D" "status after the interrupted create"
done

info "create, --json twin, interrupted twice (the second signal during the undo is ignored)"
JAILCTL_PAUSE_UNDO=register interrupted_run TERM mount --json create "$D" --ip "$IP" --size 64M --sparse
assert_eq 143 "$RC" "exit status (stderr: $ERR)"
assert_contains "$ERR" "undo in progress, please wait" "stderr after a second signal"
assert_json "$OUT_FILE"
assert_eq "KO interrupted mount SIGTERM" \
  "$(json_eval "$OUT_FILE" '" ".join([d["result"], d["error"]["message"], d["error"]["step"], d["error"]["signal"]])')" "--json"
assert_state_unchanged default "state after two signals"

info "grow interrupted: the jail runs again with its old size"
assert_exit 0 jc create "$D" --ip "$IP" --size 64M --sparse
interrupted_run INT resize-offline grow "$D" --size 128M --offline
assert_eq 130 "$RC" "grow's exit status (stderr: $ERR)"
assert_ko resize-offline '^interrupted$'
assert_exit 0 jc --json status "$D"
assert_eq "67108864 running" "$(json_eval "$OUT_FILE" '" ".join(str(j[k]) for j in d for k in ("size_bytes", "state"))')" "size and state after the interrupted grow"
assert_exit 0 jc test "$D"

info "stop interrupted: it completes"
interrupted_run TERM unmount stop "$D"
assert_eq 0 "$RC" "stop's exit status (stderr: $ERR)"
assert_contains "$ERR" "this task is finished before jailctl exits" "stderr of an interrupted stop"
assert_exit 0 jc --json status "$D"
assert_eq "stopped" "$(json_eval "$OUT_FILE" '[j["state"] for j in d][0]')" "state after an interrupted stop"

info "start interrupted: undone, the jail stays stopped"
interrupted_run HUP start start "$D"
assert_eq 129 "$RC" "start's exit status (stderr: $ERR)"
assert_ko start '^interrupted$'
assert_exit 0 jc --json status "$D"
assert_eq "stopped" "$(json_eval "$OUT_FILE" '[j["state"] for j in d][0]')" "state after an interrupted start"
assert_exit 0 jc start "$D"
assert_exit 0 jc test "$D"

info "start --all interrupted (SIGTERM to jailctl only): the running start is passed the signal and undone, no other jail starts"
D2=int2.example.com
assert_exit 0 jc create "$D2" --ip 203.0.113.41 --size 64M --sparse
assert_exit 0 jc stop "$D"
assert_exit 0 jc stop "$D2"
first_paused() { grep -qs "\[lxc-config\] done" "$JAILCTL_ROOT"/log/*/*-start.log; }
rm -f "$JAILCTL_ROOT"/log/*/*-start.log
JAILCTL_TEST_MODE=1 JAILCTL_PAUSE_AT=start "$JAILCTL" --root "$JAILCTL_ROOT" start --all --jobs 1 >"$OUT_FILE" 2>"$ERR_FILE" &
pid=$!
retry 60 first_paused || { kill -KILL "$pid"; fail "start --all never reached the first jail's start: $(cat "$ERR_FILE")"; }
kill -TERM "$pid"
RC=0
wait "$pid" || RC=$?
ERR=$(cat "$ERR_FILE")
assert_eq 143 "$RC" "start --all's exit status (stderr: $ERR)"
assert_contains "$ERR" "KO: start: interrupted" "the interrupted worker's own output"
assert_contains "$ERR" "start --all interrupted by SIGTERM: 1 of 2 jails not started" "the summary"
assert_exit 0 jc --json status
assert_eq "stopped stopped" "$(json_eval "$OUT_FILE" '" ".join(j["state"] for j in d)')" "states after the interrupted start --all"
assert_eq 1 "$(ls "$JAILCTL_ROOT"/log/*/*-start.log | wc -l)" "start logs (the second jail was never started)"
assert_exit 0 jc start --all
assert_exit 0 jc test "$D2"
echo "interrupt: OK"
