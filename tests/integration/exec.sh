# exec: stdout, stdin and the exit status of the command pass through; --user runs as the
# jail's FTP account (uid from the jail's /etc/passwd); the environment is minimal; every run
# has its log <log dir>/<domain>/<stamp>-exec.log; jailctl's own failures end with a KO line;
# --timeout stops the command.
# console: refused without a terminal on stdin (exit 2).
set -euo pipefail
D=exec.example.com IP=203.0.113.62

assert_exit 0 jc create "$D" --ip "$IP" --size 64M
parse_create_output

info "stdout and exit status"
assert_exit 0 jc exec "$D" -- /bin/echo hello from the jail
assert_eq "hello from the jail" "$OUT" "stdout"
assert_exit 3 jc exec "$D" -- /bin/sh -c 'exit 3'
assert_eq "" "$(last_err_line)" "stderr of a command exiting 3"
assert_exit 0 jc exec "$D" -- /bin/sh -c 'echo to-stderr >&2'
assert_eq "to-stderr" "$ERR" "stderr"
assert_exit 143 jc exec "$D" -- /bin/sh -c 'kill -TERM $$'
info "a command that is not there, or cannot run: 127 / 126 as a shell says, with a line that says so"
assert_exit 127 jc exec "$D" -- no-such-command --flag
assert_eq "jailctl: exec: no-such-command: command not found in the jail" "$ERR" "stderr of a missing command"
assert_exit 127 jc exec "$D" -- /srv/site/www/nothing-here
assert_contains "$ERR" "/srv/site/www/nothing-here: command not found in the jail" "stderr of a missing path"
assert_exit 126 jc exec "$D" -- /etc/hostname
assert_contains "$ERR" "/etc/hostname: Permission denied in the jail" "stderr of a file that is not executable"
assert_exit 0 jc exec "$D" -- true  # found through the jail's PATH
info "--timeout: SIGTERM when it is reached (SIGKILL 5 s later for a command that ignores it), said on stderr"
t0=$SECONDS
assert_exit 143 jc exec "$D" --timeout 1 -- /bin/sleep 60
assert_contains "$ERR" "jailctl: exec: the command ran past --timeout 1 s and was stopped"
assert_exit 1 jc exec "$D" -- /usr/bin/pgrep -x sleep  # the command itself was stopped, not only jailctl's side
assert_exit 137 jc exec "$D" --timeout 1 -- /bin/sh -c 'trap "" TERM; while :; do sleep 0.2; done'
assert_exit 1 jc exec "$D" -- /usr/bin/pgrep -x sh
[ $((SECONDS - t0)) -lt 20 ] || fail "two 1 s time limits took $((SECONDS - t0)) s"
assert_exit 0 jc exec "$D" --timeout 5 -- /bin/true
assert_eq "" "$ERR" "stderr of a command within its time limit"
assert_exit 2 jc exec "$D" --timeout -1 -- /bin/true

info "stdin"
out=$(printf 'line1\nline2\n' | jc exec "$D" -- /usr/bin/wc -l)
assert_eq 2 "$out" "wc -l of stdin"
head -c 100000 /dev/urandom > "$SANDBOX_DIR/data.bin"
jc exec "$D" -- /bin/cat < "$SANDBOX_DIR/data.bin" > "$SANDBOX_DIR/data.back"
cmp "$SANDBOX_DIR/data.bin" "$SANDBOX_DIR/data.back" || fail "binary stdin -> stdout not byte-identical"

info "inside the jail: its hostname, its root, its user"
assert_exit 0 jc exec "$D" -- /bin/hostname
assert_eq "$D" "$OUT" "hostname"
assert_exit 0 jc exec "$D" -- /bin/cat /etc/hostname
assert_eq "$D" "$OUT" "/etc/hostname seen from exec"
assert_exit 0 jc exec "$D" -- /usr/bin/id -u
assert_eq 0 "$OUT" "uid of root"
assert_exit 0 jc exec "$D" --user "$FTP_USER" -- /usr/bin/id -u
assert_eq 2000 "$OUT" "uid of the FTP user"
assert_exit 0 jc exec "$D" --user "$FTP_USER" -- /bin/sh -c 'echo $HOME'
assert_eq /srv/site "$OUT" "HOME of the FTP user"
assert_exit 0 jc exec "$D" -- /usr/bin/env
assert_contains "$OUT" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "env"
assert_not_contains "$OUT" "JAILCTL_ROOT" "env"
assert_not_contains "$OUT" "SANDBOX_DIR" "env"
# the command is in the jail's namespaces: it sees the jail's address only
assert_exit 0 jc exec "$D" -- /usr/sbin/ip -4 -o addr show eth0
assert_contains "$OUT" "$IP/32" "address inside"
info "no host fd leaks into the jail"
assert_exit 0 jc exec "$D" -- /bin/ls /proc/self/fd
assert_eq "0 1 2 3" "$(echo $OUT)" "fds of ls in the jail (3 = its own dir fd)"

info "the audit log: one <stamp>-exec.log per run, like every verb's log (issue 14, defect 10)"
[ ! -e "$JAILCTL_ROOT/log/$D/exec.log" ] || fail "a shared exec.log was written"
logs=("$JAILCTL_ROOT/log/$D/"*-exec*.log)
[ -f "${logs[0]}" ] || fail "no <stamp>-exec.log in $JAILCTL_ROOT/log/$D: $(ls "$JAILCTL_ROOT/log/$D")"
for l in "${logs[@]}"; do assert_match "$(basename "$l")" '^[0-9]{8}T[0-9]{6}Z-exec(\.[0-9]+)?\.log$' "exec log name"; done
log=$(grep -l "'exit 3'" "${logs[@]}") || fail "argv 'exit 3' in no exec log"
grep -qE '^[0-9-]{10}T[0-9:.]{12}Z INFO  \[exec\] exec as root \(uid 0\) by host uid 0: /bin/sh -c '"'exit 3'"'$' "$log" ||
  fail "argv not in $log:"$'\n'"$(cat "$log")"
grep -q 'exec exit status 3 after' "$log" || fail "exit status not in $log"

info "console through a terminal (script(1) gives it a pty)"
if command -v script >/dev/null; then
  out=$({ sleep 1; printf 'echo "uid=$(id -u) host=$(hostname)"; exit 7\n'; sleep 3; } |
    timeout 20 script -qec "$JAILCTL --root $JAILCTL_ROOT console $D" /dev/null) || rc=$?
  assert_contains "$out" "uid=0 host=$D" "console output"
  assert_eq 7 "${rc:-0}" "console exit status"
else
  echo "SKIP console: script(1) not installed" >&2
fi

info "jailctl's own failures: usual status and a KO line"
assert_exit 2 jc exec "$D" --user nosuchuser -- /bin/true
assert_ko validate 'user'
assert_exit 2 jc exec nosuch.example.com -- /bin/true
assert_ko validate 'domain'
assert_exit 2 jc console "$D" </dev/null
assert_ko validate 'terminal'
assert_exit 0 jc stop "$D"
assert_exit 3 jc exec "$D" -- /bin/true
assert_ko validate 'not running'
echo "exec: OK"
