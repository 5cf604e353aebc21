# Progress on a terminal (issue #14): on a pseudo-terminal (script(1)) backup, restore,
# grow and stop --all/start --all draw a bar with rate and ETA on stderr; without a TTY,
# with --json, or with CI set, stderr carries no progress at all.
set -euo pipefail
command -v script >/dev/null || { echo "skipped: script (util-linux) not installed" >&2; exit 77; }
A=progress-a.example B=progress-b.example

assert_exit 0 jc create "$A" --ip 203.0.113.41 --size 96M
assert_exit 0 jc create "$B" --ip 203.0.113.42 --size 64M
jc exec "$A" -- dd if=/dev/urandom of=/srv/site/www/blob bs=1M count=24 status=none ||
  fail "writing 24 MiB into $A"

# on_tty <typescript> <command...>: runs the command on a fresh pseudo-terminal, its stdout
# and stderr both recorded in the typescript; returns its exit status.
on_tty() {
  local ts=$1; shift
  env -u CI TERM=xterm script -qefc "$(printf '%q ' "$@")" "$ts" >/dev/null
}
assert_bar() {  # typescript what unit
  local text; text=$(tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g')
  grep -qE "^$2 \[[#-]+\] +[0-9]+%  .*$3.*/s  ETA [0-9:-]+" <<<"$text" ||
    fail "no progress bar '$2 [...] N% ... $3 ... /s ETA' on the terminal:"$'\n'"$(cat -v "$1" | head -c 2000)"
}

info "backup on a terminal: a bar with bytes, rate and ETA, erased at the end"
on_tty "$SANDBOX_DIR/backup.ts" "$JAILCTL" --root "$JAILCTL_ROOT" backup "$A" --output "$SANDBOX_DIR/a1.tar.zst" ||
  fail "backup on a terminal failed: $(cat -v "$SANDBOX_DIR/backup.ts")"
assert_bar "$SANDBOX_DIR/backup.ts" backup MiB
grep -q $'\r\033\\[K' "$SANDBOX_DIR/backup.ts" || fail "the progress line is not erased"
grep -q '^OK' <(tr '\r' '\n' < "$SANDBOX_DIR/backup.ts" | sed 's/\x1b\[K//g') || fail "no OK line after the bar"

info "backup without a terminal: stderr has no progress"
assert_exit 0 jc backup "$A" --output "$SANDBOX_DIR/a2.tar.zst"
assert_eq "" "$ERR" "stderr of a backup without a TTY"

info "backup --json or with CI set on a terminal: no bar"
on_tty "$SANDBOX_DIR/json.ts" "$JAILCTL" --root "$JAILCTL_ROOT" --json backup "$A" --output "$SANDBOX_DIR/a3.tar.zst"
grep -q 'ETA' "$SANDBOX_DIR/json.ts" && fail "a bar with --json: $(cat -v "$SANDBOX_DIR/json.ts" | head -c 500)"
env CI=true TERM=xterm script -qefc "$(printf '%q ' "$JAILCTL" --root "$JAILCTL_ROOT" backup "$A" --output "$SANDBOX_DIR/a4.tar.zst")" \
  "$SANDBOX_DIR/ci.ts" >/dev/null
grep -q 'ETA' "$SANDBOX_DIR/ci.ts" && fail "a bar with CI set"
grep -q '^OK' "$SANDBOX_DIR/ci.ts" || fail "the CI backup did not succeed: $(cat -v "$SANDBOX_DIR/ci.ts")"

info "export on a terminal: the bar says export"
on_tty "$SANDBOX_DIR/export.ts" "$JAILCTL" --root "$JAILCTL_ROOT" export "$A" "$SANDBOX_DIR/a.export.tar.zst" ||
  fail "export on a terminal failed: $(cat -v "$SANDBOX_DIR/export.ts" | tail -c 1500)"
assert_bar "$SANDBOX_DIR/export.ts" export MiB

info "restore on a terminal"
on_tty "$SANDBOX_DIR/restore.ts" "$JAILCTL" --root "$JAILCTL_ROOT" restore "$SANDBOX_DIR/a1.tar.zst" \
  --domain progress-c.example --ip 203.0.113.43 || fail "restore failed: $(cat -v "$SANDBOX_DIR/restore.ts" | tail -c 1500)"
assert_bar "$SANDBOX_DIR/restore.ts" restore MiB

info "grow on a terminal: a bar of steps"
on_tty "$SANDBOX_DIR/grow.ts" "$JAILCTL" --root "$JAILCTL_ROOT" grow "$B" --size 80M --offline ||
  fail "grow failed: $(cat -v "$SANDBOX_DIR/grow.ts" | tail -c 1500)"
assert_bar "$SANDBOX_DIR/grow.ts" 'grow(-fallback)? \([a-z-]+\)' steps

info "stop --all and start --all on a terminal: a bar of jails; without one, none"
on_tty "$SANDBOX_DIR/stop.ts" "$JAILCTL" --root "$JAILCTL_ROOT" stop --all ||
  fail "stop --all failed: $(cat -v "$SANDBOX_DIR/stop.ts" | tail -c 1500)"
assert_bar "$SANDBOX_DIR/stop.ts" 'stop --all' jails
assert_exit 0 jc start --all
assert_not_contains "$ERR" "ETA" "stderr of start --all without a TTY"
assert_exit 0 jc stop --all
assert_not_contains "$ERR" "ETA" "stderr of stop --all without a TTY"
# (not restart --all: restarting right after the unmount can find the loop device not yet
# detached — a race of restart itself, reported separately)
on_tty "$SANDBOX_DIR/start.ts" "$JAILCTL" --root "$JAILCTL_ROOT" start --all ||
  fail "start --all failed: $(cat -v "$SANDBOX_DIR/start.ts" | tail -c 1500)"
assert_bar "$SANDBOX_DIR/start.ts" 'start --all' jails

for d in "$A" "$B" progress-c.example; do assert_exit 0 jc destroy "$d" --force; done
