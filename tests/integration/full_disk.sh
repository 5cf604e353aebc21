# A full disk is visible (issue 14, defect 5): a 128 MiB jail gives its customer close to
# 128 MiB (no root reserve, a journal sized for the disk); a customer fills it over FTPS until
# curl fails; `status` marks the jail, `status --json` has free_bytes and used_percent, `test`
# warns in its text and its JSON.
set -euo pipefail
require_python3
D=quota.example.com IP=203.0.113.66
MiB=1048576

assert_exit 0 jc create "$D" --ip "$IP" --size 128M
parse_create_output
FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")

info "a fresh 128 MiB disk: close to 128 MiB free, nothing marked"
assert_exit 0 jc --json status "$D"
for k in used_bytes free_bytes used_percent; do
  [ "$(json_eval "$OUT_FILE" "d[0].get('$k') is not None")" = True ] || fail "status --json has no $k"
done
free=$(json_eval "$OUT_FILE" 'd[0]["free_bytes"]')
info "free on a fresh 128 MiB jail: $((free / MiB)) MiB"
[ "$free" -ge $((118 * MiB)) ] || fail "only $((free / MiB)) MiB of 128 MiB free for the customer"
[ "$(json_eval "$OUT_FILE" 'd[0]["used_percent"]')" -lt 10 ] || fail "a fresh jail is not below 10 % used"
assert_exit 0 jc status
assert_not_contains "$OUT" "% full" "status of a fresh jail"
assert_exit 0 jc --json test "$D"
assert_eq '[]' "$(json_eval "$OUT_FILE" 'd["warnings"]')" "warnings of a fresh jail"

info "the customer uploads until the disk is 95 % full: test is OK and warns"
head -c $((free - free / 20)) /dev/zero > "$SANDBOX_DIR/part1"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/part1" "ftp://$IP/www/part1.bin"
rm -f "$SANDBOX_DIR/part1"
assert_exit 0 jc test "$D"
assert_match "$OUT" 'disk: +WARNING disk (9[0-9]|100)% full \([0-9.]+ (KiB|MiB) free\)' "test text"
assert_exit 0 jc --json test "$D"
assert_eq OK "$(json_eval "$OUT_FILE" 'd["result"]')" "result"
assert_match "$(json_eval "$OUT_FILE" 'd["warnings"][0]')" '^disk (9[0-9]|100)% full' "JSON warning"
[ "$(json_eval "$OUT_FILE" 'd["disk"]["used_percent"]')" -ge 90 ] || fail "test --json disk.used_percent below 90"
grep -q 'WARN  \[test\] disk' "$(json_eval "$OUT_FILE" 'd["log"]')" || fail "the warning is not in the test's log"

info "and more until curl fails (disk full)"
head -c $((40 * MiB)) /dev/zero > "$SANDBOX_DIR/part2"
rc=0; client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/part2" "ftp://$IP/www/part2.bin" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "a 40 MiB upload onto a 95 % full disk succeeded"
info "curl exit status on the full disk: $rc"
assert_exit 0 jc status
assert_match "$OUT" "\\*$D \\($IP\\)  disk (9[0-9]|100)% full \\([0-9.]+ (B|KiB|MiB) free\\)" "status text"
assert_exit 0 jc --json status "$D"
[ "$(json_eval "$OUT_FILE" 'd[0]["used_percent"]')" -ge 99 ] || fail "used_percent of a full disk below 99"
[ "$(json_eval "$OUT_FILE" 'd[0]["free_bytes"]')" -lt $MiB ] || fail "free_bytes of a full disk is 1 MiB or more"
rc=0; jc test "$D" >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
if [ "$rc" = 0 ]; then
  assert_contains "$(cat "$OUT_FILE")" "WARNING disk" "test of a full disk"
else
  assert_match "$(last_err_line)" '^KO: test: .*disk (9[0-9]|100)% full' "KO of test on a full disk"
fi
# The operator's own writes share the customer's quota (no root reserve): a passwd that meets the
# full disk is a clean KO saying what frees it (the old password stays).
rc=0; jc passwd "$D" >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
info "passwd on the full disk: exit $rc"
[ "$rc" = 0 ] || assert_match "$(last_err_line)" "^KO: .*disk is full: jailctl grow it" "KO of passwd on a full disk"
[ "$rc" != 0 ] || parse_create_output "$OUT_FILE"   # it fit: the new password is the one to use
FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
info "the customer deletes a file: no mark any more"
client_curl "${FTPS[@]}" -Q "DELE www/part2.bin" -Q "DELE www/part1.bin" "ftp://$IP/" -o /dev/null
assert_exit 0 jc status
assert_not_contains "$OUT" "% full" "status after the cleanup"
assert_exit 0 jc test "$D"
echo "PASS full_disk"
