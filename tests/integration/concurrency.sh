# Concurrency: N parallel creates of different jails all succeed; 10 parallel creates with the
# same domain, or the same IP, give exactly one OK and exit 3 for the rest; concurrent
# start/stop/destroy of one jail are serialised and leave a consistent state.
set -euo pipefail
require_python3
# 20 parallel creates, the issue's number (~3 s here). The registry retries its setup while a
# fresh database is locked by the other creates (it failed one run in six before that).
N=${CONCURRENCY_CREATES:-20}
snapshot_state empty

# par <name> <count> <function>: run "<function> i" for i in 0..count-1 in parallel;
# exit codes into $SANDBOX_DIR/<name>.<i>.rc, stdout+stderr into .out
par() {
  local name=$1 count=$2 fn=$3 i pids=()
  for ((i = 0; i < count; i++)); do
    ( rc=0; "$fn" "$i" > "$SANDBOX_DIR/$name.$i.out" 2>&1 || rc=$?; echo "$rc" > "$SANDBOX_DIR/$name.$i.rc" ) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
}
rcs() { cat "$SANDBOX_DIR/$1".*.rc | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}'; }
count_rc() { cat "$SANDBOX_DIR/$1".*.rc | grep -cx "$2" || true; }
show_kos() {  # the last stderr line of each command that failed
  local f
  for f in "$SANDBOX_DIR/$1".*.rc; do
    [ "$(cat "$f")" = 0 ] || grep -v '^[[:space:]]*$' "${f%.rc}.out" | tail -n 1
  done | sort | uniq -c
}
# only_expected <name> [skip-index]: every failure is an expected "not running"/"not a jail" outcome
only_expected() {
  local f i
  for f in "$SANDBOX_DIR/$1".*.rc; do
    i=${f%.rc}; i=${i##*.}
    [ "$i" = "${2:-}" ] || [ "$(cat "$f")" = 0 ] && continue
    grep -qiE '^KO: [a-z-]+: .*(not running|not a jail|already running)' "${f%.rc}.out" ||
      fail "${OPS[$i]} in $1: unexpected outcome (exit $(cat "$f")): $(tail -n 1 "${f%.rc}.out")"
  done
}

info "$N parallel creates of different jails"
t0=$SECONDS
create_diff() { jc create "c$1.example.com" --ip "203.0.113.$((10 + $1))" --size 64M; }
par diff "$N" create_diff
info "done in $((SECONDS - t0)) s: exit codes $(rcs diff)"
[ "$(count_rc diff 0)" = "$N" ] || fail "not all $N creates succeeded: $(rcs diff)"$'\n'"$(show_kos diff)"
assert_exit 0 jc --json status
[ "$(json_eval "$OUT_FILE" 'sum(1 for j in d if j["state"] == "running")')" = "$N" ] || fail "not $N jails running:"$'\n'"$OUT"
destroy_diff() { jc destroy --force "c$1.example.com"; }
par diffdel "$N" destroy_diff
[ "$(count_rc diffdel 0)" = "$N" ] || fail "parallel destroys: $(rcs diffdel)"$'\n'"$(show_kos diffdel)"
assert_state_unchanged empty "state after $N creates + destroys"

info "10 parallel creates with the same IP (different domains)"
create_sameip() { jc create "ip$1.example.com" --ip 203.0.113.45 --size 64M; }
par sameip 10 create_sameip
info "exit codes $(rcs sameip)"
[ "$(count_rc sameip 0)" = 1 ] && [ "$(count_rc sameip 3)" = 9 ] ||
  fail "same IP: want one 0 and nine 3, got $(rcs sameip)"$'\n'"$(show_kos sameip)"
winner=$(grep -lx 0 "$SANDBOX_DIR"/sameip.*.rc | head -n 1 | sed 's/.*sameip\.\([0-9]*\)\.rc/\1/')
assert_exit 0 jc test "ip$winner.example.com"
assert_exit 0 jc destroy --force "ip$winner.example.com"
assert_state_unchanged empty "state after the same-IP race"

# The same-domain race: losers' undos must not touch the winner (a failed 'register' once
# deleted the winner's row, a failed 'disk' its image). CONCURRENCY_SAME_DOMAIN=0 skips it.
if [ "${CONCURRENCY_SAME_DOMAIN:-1}" = 1 ]; then
  info "10 parallel creates of the same domain (different IPs)"
  create_samedom() { jc create same.example.com --ip "203.0.113.$((31 + $1))" --size 64M; }
  par samedom 10 create_samedom
  info "exit codes $(rcs samedom)"
  [ "$(count_rc samedom 0)" = 1 ] && [ "$(count_rc samedom 3)" = 9 ] ||
    fail "same domain: want one 0 and nine 3, got $(rcs samedom)"$'\n'"$(show_kos samedom)"
  assert_exit 0 jc test same.example.com
  assert_exit 0 jc destroy --force same.example.com
  assert_state_unchanged empty "state after the same-domain race"
fi

# status agrees with the kernel: running <=> lxc-info says RUNNING
consistent() {  # domain
  local st lx
  jc --json status "$1" > "$SANDBOX_DIR/st.json"
  st=$(json_eval "$SANDBOX_DIR/st.json" 'd[0]["state"]')
  lx=$(lxc-info -P "$JAILCTL_ROOT/jails" -n "$1" -sH 2>/dev/null || echo none)
  if [ "$st" = running ]; then [ "$lx" = RUNNING ] || fail "status says running, lxc-info says $lx"
  else [ "$lx" != RUNNING ] || fail "status says $st, lxc-info says RUNNING"; fi
  info "$1: status $st, lxc $lx"
}

D=race.example.com IP=203.0.113.46
OPS=(stop start stop restart start stop)
race_op() { jc "${OPS[$1]}" "$D"; }
race_op_destroy() { if [ "$1" = 3 ]; then jc destroy --force "$D"; else race_op "$1"; fi; }
assert_exit 0 jc create "$D" --ip "$IP" --size 64M
for round in 1 2 3; do
  info "round $round: ${OPS[*]} of one jail at once"
  par ops$round ${#OPS[@]} race_op
  info "exit codes $(rcs ops$round)"; show_kos ops$round >&2
  only_expected ops$round
  consistent "$D"
  assert_exit 0 jc start "$D"   # whatever the race left, the jail starts again
  consistent "$D"
done
info "a backup queued behind a grow archives the grown jail (its record read again under the lock)"
jc grow "$D" --size 96M > "$SANDBOX_DIR/grow.out" 2>&1 & grow_pid=$!
lock_held() { ! flock -n "$JAILCTL_ROOT/locks/$D.lock" true; }
while kill -0 "$grow_pid" 2>/dev/null && ! lock_held; do sleep 0.01; done   # the backup then queues behind it
assert_exit 0 jc --json backup "$D"
archive=$(json_eval "$OUT_FILE" 'd["file"]')
wait "$grow_pid" || fail "the grow failed: $(cat "$SANDBOX_DIR/grow.out")"
assert_exit 0 jc restore "$archive" --domain grown.example.com --ip 203.0.113.47
assert_exit 0 jc --json status grown.example.com
assert_eq $((96 << 20)) "$(json_eval "$OUT_FILE" 'd[0]["size_bytes"]')" "the size the backup recorded"
assert_exit 0 jc destroy --force grown.example.com
rm -f "$archive"

info "the same with a destroy among them"
par opsd ${#OPS[@]} race_op_destroy
info "exit codes $(rcs opsd)"; show_kos opsd >&2
assert_eq 0 "$(cat "$SANDBOX_DIR/opsd.3.rc")" "exit status of the racing destroy"
# A command queued behind the destroy re-reads the jail under its lock and says "not a jail"
# (it once failed at 'fsck' instead). CONCURRENCY_STRICT=0 relaxes this.
[ "${CONCURRENCY_STRICT:-1}" != 1 ] || only_expected opsd 3
assert_state_unchanged empty "state after the destroy race"
echo "concurrency: OK"
