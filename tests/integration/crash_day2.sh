# Crash safety of grow, backup/export and restore/import (issue #4): jailctl SIGKILLed
# (JAILCTL_TEST_MODE=1 JAILCTL_KILL_AT=<step>) right before each step, then `jailctl repair`
# (or the next command on the jail, which repairs first): the task is complete or the state is
# exactly as before — registry, kernel objects, the site's files, and a jail that ran before runs
# and passes `jailctl test`. Then an injected error at each step (JAILCTL_FAIL_AT, undo path).
# Also: a backup killed while the jail's filesystem is frozen (kill point "frozen", inside the
# snapshot), and the leftovers of a backup killed while writing its archive.
# Runtime: every step of every verb; CRASH_DAY2_QUICK=1 keeps only the steps where the state
# changes hands (stop/start, swap, extract), for a quick local run.
set -euo pipefail
require_python3
D=crash2.example.com IP=203.0.113.43 R=restored2.example.com RIP=203.0.113.44

killed() { JAILCTL_TEST_MODE=1 JAILCTL_KILL_AT=$1 jc "${@:2}"; }
failed() { JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=$1 jc "${@:2}"; }
steps_of() { json_eval "$OUT_FILE" '"\n".join(s["name"] for s in d["steps"])'; }
quick_skip() {  # step: true when CRASH_DAY2_QUICK=1 leaves this step out
  [ "${CRASH_DAY2_QUICK:-0}" = 1 ] || return 1
  [[ ! "$1" =~ ^(grow-online|stop|resize-offline|start|record-size|snapshot|frozen|archive|extract|swap|test|finish|ready)$ ]]
}
is_running() { lxc-info -P "$JAILCTL_ROOT/jails" -n "$1" -s 2>/dev/null | grep -q RUNNING; }
size_of() { sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT size_bytes FROM jails WHERE domain='$1'"; }

# State snapshots as in lib.sh, with loop device numbers masked: a jail stopped and started again
# may get another /dev/loopN for the same image.
masked_dump() { _state_dump | sed -E 's#/dev/loop[0-9]+#/dev/loopN#g'; }
save_state() { masked_dump > "$SANDBOX_DIR/masked.$1"; }
same_state() {  # name what
  masked_dump > "$SANDBOX_DIR/masked.now"
  diff -u "$SANDBOX_DIR/masked.$1" "$SANDBOX_DIR/masked.now" > "$SANDBOX_DIR/masked.diff" ||
    fail "$2: state changed (- before, + now):"$'\n'"$(tail -n +3 "$SANDBOX_DIR/masked.diff")"
}

# The customer's files: one marker uploaded over FTPS, read back over HTTP.
put_marker() {  # name content
  printf '%s\n' "$2" > "$SANDBOX_DIR/$1"
  client_curl --ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS" -T "$SANDBOX_DIR/$1" "ftp://$IP/www/$1" ||
    fail "FTPS upload of $1"
}
marker_served() {  # name
  client_curl -H "Host: $D" "http://$IP/$1" -o "$SANDBOX_DIR/got" || fail "GET $1 failed"
  cmp -s "$SANDBOX_DIR/$1" "$SANDBOX_DIR/got" || fail "$1 differs from what was uploaded"
}
intact_and_running() {  # what
  is_running "$D" || fail "$1: $D is not running"
  marker_served before.txt
  assert_exit 0 jc test "$D"
}
no_archive_leftovers() {  # what
  local left
  left=$(find "$JAILCTL_ROOT/backups" "$SANDBOX_DIR/out" -mindepth 1 \
    \( -name '.*.snapshot.img' -o -name '*.pending' -o -name '*.partial' -o -name '*.mnt' \) 2>/dev/null || true)
  [ -z "$left" ] || fail "$1: leftovers of a killed backup: $left"
  assert_exit 0 jc --json backups "$D"
  json_eval "$OUT_FILE" '[b["file"] for b in d["backups"] if "error" in b or not b["file"].endswith(".tar.zst")]' |
    grep -qx '\[\]' || fail "$1: backups lists an incomplete archive: $OUT"
}

mkdir -p "$SANDBOX_DIR/out"
snapshot_state empty
info "create $D, upload a marker"
assert_exit 0 jc create "$D" --ip "$IP" --size 64M
parse_create_output
put_marker before.txt "written before any crash $(date +%s%N)"

# ---------------------------------------------------------------- grow
info "grow step names (online attempt refused with EPERM here, then the fallback)"
assert_exit 0 jc --json grow "$D" --size 72M
mapfile -t GROW < <(steps_of)
assert_eq fallback "$(json_eval "$OUT_FILE" 'd["path"]')" "grow path"
info "grow: ${GROW[*]}"
[ "${#GROW[@]}" -ge 8 ] || fail "too few grow steps"
intact_and_running "after a plain grow"

size=$((72 << 20))
for step in "${GROW[@]}"; do
  quick_skip "$step" && continue
  save_state before
  old=$(size_of "$D") new=$((size + (8 << 20)))
  info "grow killed before '$step', then repair --all"
  assert_exit 137 killed "$step" grow "$D" --size "$new"
  assert_exit 0 jc repair --all
  now=$(size_of "$D")
  if [ "$now" = "$new" ]; then
    info "repair finished the grow"
    sed -E "s/\|$old\|/|$new|/" "$SANDBOX_DIR/masked.before" > "$SANDBOX_DIR/masked.grown"
    same_state grown "grow killed at '$step' + repair (finished)"
    size=$new
  else
    assert_eq "$old" "$now" "registry size after grow killed at '$step' + repair"
    same_state before "grow killed at '$step' + repair (undone)"
  fi
  intact_and_running "grow killed at '$step' + repair"
done

for step in "${GROW[@]}"; do
  quick_skip "$step" && continue
  save_state before
  new=$((size + (8 << 20)))
  info "grow fails at '$step': the jail runs again with its old size"
  assert_exit 5 failed "$step" grow "$D" --size "$new"
  assert_ko "$step" "injected"
  same_state before "grow failed at '$step'"
  intact_and_running "grow failed at '$step'"
  size=$((size + (8 << 20)))  # the image may have grown (harmless, see grow.cc): ask for more next time
  size=$(( $(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img") > size ? $(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img") : size ))
done

info "offline grow of the stopped jail: kill at each step, repair leaves it stopped (and finished or untouched)"
assert_exit 0 jc stop "$D"
size=$(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img")
new=$((size + (8 << 20)))
assert_exit 0 jc --json grow "$D" --size "$new"
mapfile -t OFFLINE < <(steps_of)
assert_eq offline "$(json_eval "$OUT_FILE" 'd["path"]')" "grow path of a stopped jail"
info "offline grow: ${OFFLINE[*]}"
size=$new
for step in "${OFFLINE[@]}"; do
  save_state before
  old=$(size_of "$D") new=$((size + (8 << 20)))
  info "offline grow killed before '$step'"
  assert_exit 137 killed "$step" grow "$D" --size "$new"
  assert_exit 0 jc repair "$D"
  now=$(size_of "$D")
  if [ "$now" = "$new" ]; then
    sed -E "s/\|$old\|/|$new|/" "$SANDBOX_DIR/masked.before" > "$SANDBOX_DIR/masked.grown"
    same_state grown "offline grow killed at '$step' + repair (finished)"
    size=$new
  else
    same_state before "offline grow killed at '$step' + repair (undone)"
  fi
  ! is_running "$D" || fail "the stopped jail runs after offline grow killed at '$step' + repair"
  size=$(( $(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img") > size ? $(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img") : size ))
  info "offline grow fails at '$step'"
  save_state before
  new=$((size + (8 << 20)))
  assert_exit 5 failed "$step" grow "$D" --size "$new"
  assert_ko "$step" "injected"
  same_state before "offline grow failed at '$step'"
  size=$(( $(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img") > size ? $(stat -c %s "$JAILCTL_ROOT/jails/$D/disk.img") : size ))
done
assert_exit 0 jc start "$D"
intact_and_running "after the offline grows"

# ---------------------------------------------------------------- backup / export
info "backup step names"
assert_exit 0 jc --json backup "$D"
mapfile -t BACKUP < <(steps_of)
ARCHIVE=$(json_eval "$OUT_FILE" 'd["file"]')
info "backup: ${BACKUP[*]} (+ 'frozen' inside the snapshot)"
for step in "${BACKUP[@]}" frozen; do
  quick_skip "$step" && continue
  for verb in backup export; do
    args=("$D") && [ "$verb" = export ] && args=("$D" "$SANDBOX_DIR/out/exported.tar.zst")
    rm -f "$SANDBOX_DIR/out/exported.tar.zst"
    save_state before
    info "$verb killed at '$step', then the next command on the jail (test) repairs it"
    assert_exit 137 killed "$step" "$verb" "${args[@]}"
    if [ "$step" = frozen ] && [ "$verb" = backup ]; then
      # the window is real: a writer in the jail blocks until someone thaws it
      timeout -s KILL 3 lxc-attach -P "$JAILCTL_ROOT/jails" -n "$D" -- /usr/bin/touch /srv/site/www/frozen.txt &&
        fail "a write in the jail went through although its filesystem should be frozen"
    fi
    assert_exit 0 jc test "$D"
    timeout 10 lxc-attach -P "$JAILCTL_ROOT/jails" -n "$D" -- /usr/bin/touch /srv/site/www/thawed.txt ||
      fail "$verb killed at '$step' + repair: writing in the jail fails or blocks"
    put_marker after.txt "written after $verb was killed at $step"
    marker_served after.txt
    no_archive_leftovers "$verb killed at '$step' + repair"
    same_state before "$verb killed at '$step' + repair"
    intact_and_running "$verb killed at '$step' + repair"
  done
  info "backup fails at '$step'"
  assert_exit 5 failed "$step" backup "$D"
  if [ "$step" = frozen ]; then assert_ko snapshot "injected"; else assert_ko "$step" "injected"; fi
  no_archive_leftovers "backup failed at '$step'"
  timeout 10 lxc-attach -P "$JAILCTL_ROOT/jails" -n "$D" -- /usr/bin/touch /srv/site/www/thawed.txt ||
    fail "backup failed at '$step': writing in the jail fails or blocks"
  same_state before "backup failed at '$step'"
done

info "repair removes what a backup killed while writing leaves, and only that"
n_before=$(find "$JAILCTL_ROOT/backups/$D" -name '*.tar.zst' | wc -l)
cp "$ARCHIVE" "$JAILCTL_ROOT/backups/$D/20990101T000000Z.tar.zst.partial"
mkdir "$JAILCTL_ROOT/backups/$D/20990101T000000Z.tar.zst.mnt"
cp "$ARCHIVE" "$SANDBOX_DIR/out/elsewhere.tar.zst.partial"
mkdir "$SANDBOX_DIR/out/elsewhere.tar.zst.mnt"
printf '%s\n' "$SANDBOX_DIR/out/elsewhere.tar.zst" > "$JAILCTL_ROOT/backups/$D/.20990101T000000Z-export.pending"
: > "$JAILCTL_ROOT/backups/$D/.20990101T000000Z-backup.snapshot.img"
assert_exit 0 jc --json backups "$D"
assert_eq "$n_before" "$(json_eval "$OUT_FILE" 'len(d["backups"])')" "backups listed beside a .partial"
assert_exit 0 jc repair "$D"
no_archive_leftovers "repair of leftovers"
assert_eq "$n_before" "$(find "$JAILCTL_ROOT/backups/$D" -name '*.tar.zst' | wc -l)" "complete backups kept by repair"

info "a backup killed (for real) while its archive is written"
jc backup "$D" > /dev/null 2>&1 & bpid=$!
caught=0
for _ in $(seq 1 3000); do
  if compgen -G "$JAILCTL_ROOT/backups/$D/*.partial" > /dev/null; then kill -9 "$bpid" && caught=1; break; fi
  kill -0 "$bpid" 2>/dev/null || break
done
wait "$bpid" 2>/dev/null || true
if [ "$caught" = 1 ]; then
  info "killed with $(ls "$JAILCTL_ROOT/backups/$D/" | grep -c partial) partial archive(s) on disk"
  # the archiver child outlives its parent for a moment: let it finish writing into the unlinked file
  retry 20 bash -c "! pgrep -f 'jailctl --root $JAILCTL_ROOT backup' >/dev/null" || true
  assert_exit 0 jc test "$D"
  no_archive_leftovers "backup killed while writing + repair"
else
  info "the archive was written before the kill: nothing to check (timing)"
fi

# ---------------------------------------------------------------- restore / import to a new name
info "restore step names (a new jail from the backup)"
assert_exit 0 jc --json restore "$ARCHIVE" --domain "$R" --ip "$RIP"
mapfile -t RESTORE < <(steps_of)
info "restore: ${RESTORE[*]}"
assert_exit 0 jc destroy --force "$R"
save_state base
for step in "${RESTORE[@]}"; do
  quick_skip "$step" && continue
  for verb in restore import; do
    [ "$verb" = import ] && [[ ! "$step" =~ ^(register|extract|start|ready)$ ]] && continue
    info "$verb killed before '$step', then repair --all: the half-made jail is gone"
    assert_exit 137 killed "$step" "$verb" "$ARCHIVE" --domain "$R" --ip "$RIP"
    assert_exit 0 jc repair --all
    same_state base "$verb killed at '$step' + repair"
  done
  info "restore fails at '$step'"
  assert_exit 5 failed "$step" restore "$ARCHIVE" --domain "$R" --ip "$RIP"
  assert_ko "$step" "injected"
  same_state base "restore failed at '$step'"
done
intact_and_running "after the restores of $R"

# ---------------------------------------------------------------- restore --replace
put_marker later.txt "written after the backup: only the current disk has it"
info "restore --replace step names (running jail)"
assert_exit 0 jc --json restore "$ARCHIVE" --replace
mapfile -t REPLACE < <(steps_of)
info "restore --replace: ${REPLACE[*]}"
put_marker later.txt "written after the backup: only the current disk has it"
# The jail's site differs from the archived one too: a replace that is undone leaves its alias
# in the registry (the record of the archived site comes only with the last step).
assert_exit 0 jc alias add "$D" "alias.$D"
for step in "${REPLACE[@]}"; do
  quick_skip "$step" && continue
  save_state before
  info "restore --replace killed before '$step', then repair: the old disk serves again"
  assert_exit 137 killed "$step" restore "$ARCHIVE" --replace
  assert_exit 0 jc repair "$D"
  same_state before "restore --replace killed at '$step' + repair"
  intact_and_running "restore --replace killed at '$step' + repair"
  marker_served later.txt
  info "restore --replace fails at '$step'"
  assert_exit 5 failed "$step" restore "$ARCHIVE" --replace
  assert_ko "$step" "injected"
  same_state before "restore --replace failed at '$step'"
  intact_and_running "restore --replace failed at '$step'"
  marker_served later.txt
done
info "the next restore --replace after a kill repairs first, then replaces"
assert_exit 137 killed start restore "$ARCHIVE" --replace
assert_exit 0 jc restore "$ARCHIVE" --replace
intact_and_running "restore --replace after a killed one"

assert_exit 0 jc destroy --force "$D"
assert_state_unchanged empty "state after destroy"
echo "crash_day2: OK"
