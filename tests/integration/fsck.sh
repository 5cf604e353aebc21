# fsck: a running jail is refused (exit 3, names --restart); --restart checks with a measured
# downtime; an inode cleared with debugfs on a stopped jail is reported (KO, exit 5), repaired
# with --repair, then the check is clean and the jail starts and serves again.
set -euo pipefail
D=fsck.example.com IP=203.0.113.60
IMG="$JAILCTL_ROOT/jails/$D/disk.img"

assert_exit 0 jc create "$D" --ip "$IP" --size 64M

info "running jail: refused without --restart"
assert_exit 3 jc fsck "$D"
assert_ko validate 'running.*--restart'

info "running jail with --restart: stop, check, start"
assert_exit 0 jc --json fsck "$D" --restart
assert_json "$OUT_FILE"
assert_eq clean "$(json_eval "$OUT_FILE" 'd["fsck"]')" "fsck result"
assert_eq True "$(json_eval "$OUT_FILE" 'd["restarted"]')" "restarted"
assert_match "$(json_eval "$OUT_FILE" 'd["downtime_ms"]')" '^[0-9]+$' "downtime_ms"
grep -q 'INFO  \[downtime\] the site was down for' "$(json_eval "$OUT_FILE" 'd["log"]')" || fail "downtime not logged"
client_curl -H "Host: $D" "http://$IP/" | grep -qF "$D" || fail "the jail does not serve after fsck --restart"

info "damage a stopped jail's image: a file's inode cleared"
assert_exit 0 jc stop "$D"
echo "victim" > "$SANDBOX_DIR/victim.txt"
debugfs -w -R "write $SANDBOX_DIR/victim.txt /srv/site/www/victim.txt" "$IMG" >/dev/null 2>&1 || fail "debugfs write failed"
ino=$(debugfs -R "stat /srv/site/www/victim.txt" "$IMG" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
assert_match "$ino" '^[0-9]+$' "inode of victim.txt"
debugfs -w -R "clri <$ino>" "$IMG" >/dev/null 2>&1 || fail "debugfs clri failed"

info "check only: errors reported, nothing changed"
sum_before=$(sha256sum < "$IMG")
assert_exit 5 jc fsck "$D"
assert_ko fsck 'has errors.*--repair'
assert_eq "$sum_before" "$(sha256sum < "$IMG")" "image after a check-only fsck"
assert_exit 5 jc --json fsck "$D"
assert_eq "errors remain" "$(json_eval "$OUT_FILE" 'd["fsck"]')" "fsck result (json)"
assert_eq KO "$(json_eval "$OUT_FILE" 'd["result"]')" "result (json)"

info "repair"
assert_exit 0 jc fsck "$D" --repair
assert_contains "$OUT" "fsck:      fixed" "fsck --repair output"
assert_exit 0 jc fsck "$D"
assert_contains "$OUT" "fsck:      clean" "fsck after the repair"

info "the jail starts again"
assert_exit 0 jc start "$D"
client_curl -H "Host: $D" "http://$IP/" | grep -qF "$D" || fail "the repaired jail does not serve its page"
assert_exit 0 jc status "$D"
grep -qFx "*$D ($IP)" "$OUT_FILE" || fail "status does not show '*$D ($IP)'"

info "unknown jail: exit 2"
assert_exit 2 jc fsck nosuch.example.com
echo "fsck: OK"
