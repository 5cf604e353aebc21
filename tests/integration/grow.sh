# grow: shrinking or the same size is refused (exit 2); the stop-grow-start fallback always
# runs here (forced with --offline when the process could grow online), reports its path and
# downtime, df inside the jail shows the new size, an uploaded file survives, the registry has
# the new size. The online path runs only with CAP_SYS_RESOURCE; otherwise this test prints why
# it was skipped (77 would skip the whole file, fallback included).
set -euo pipefail
D=grow.example.com IP=203.0.113.61

df_inside() { lxc-attach -P "$JAILCTL_ROOT/jails" -n "$D" -- /usr/bin/df -B1 --output=size / | tail -n 1 | tr -d ' '; }
registry_size() { sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT size_bytes FROM jails WHERE domain='$D'"; }

assert_exit 0 jc create "$D" --ip "$IP" --size 128M
parse_create_output
pin="sha256//$($CLIENT openssl s_client -starttls ftp -connect "$IP:21" </dev/null 2>/dev/null |
  openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)"
head -c 300000 /dev/urandom > "$SANDBOX_DIR/blob.bin"
client_curl --ssl-reqd --insecure --pinnedpubkey "$pin" --user "$FTP_USER:$FTP_PASS" \
  -T "$SANDBOX_DIR/blob.bin" "ftp://$IP/www/blob.bin" || fail "FTPS upload failed"
size0=$(df_inside)

info "shrink and same size: refused, nothing changes"
assert_exit 2 jc grow "$D" --size 64M
assert_ko validate 'size:.*smaller.*shrink'
assert_exit 2 jc grow "$D" --size 128M
assert_ko validate 'size:.*current size'
assert_eq 134217728 "$(registry_size)" "registry size after refusals"

info "grow to 256M"
assert_exit 0 jc --json grow "$D" --size 256M
assert_json "$OUT_FILE"
path=$(json_eval "$OUT_FILE" 'd["path"]')
if [ "$path" = online ]; then
  info "online path ran (CAP_SYS_RESOURCE held)"
else
  assert_eq fallback "$path" "grow path"
  echo "SKIP online grow path: $(json_eval "$OUT_FILE" 'd["online_skipped"]'); the fallback ran instead" >&2
  assert_match "$(json_eval "$OUT_FILE" 'd["downtime_ms"]')" '^[0-9]+$' "downtime_ms"
  grep -q '\[downtime\] the site was down for' "$(json_eval "$OUT_FILE" 'd["log"]')" || fail "downtime not logged"
fi
size1=$(df_inside)
[ "$size1" -gt $((size0 + 100 * 1024 * 1024)) ] || fail "df inside: $size0 -> $size1 bytes, expected about 128 MiB more"
assert_eq 268435456 "$(registry_size)" "registry size"

info "fallback forced (--offline), text output"
assert_exit 0 jc grow "$D" --size 320M --offline
assert_contains "$OUT" "path:      fallback (online not used: --offline was given)" "grow output"
assert_match "$OUT" 'downtime:  [0-9]+\.[0-9]{3} s' "grow output"
size2=$(df_inside)
[ "$size2" -gt $((size1 + 50 * 1024 * 1024)) ] || fail "df inside: $size1 -> $size2 bytes after --offline"

info "the uploaded file survived, the jail passes its test"
client_curl -H "Host: $D" "http://$IP/blob.bin" -o "$SANDBOX_DIR/blob.got" || fail "GET /blob.bin failed"
cmp "$SANDBOX_DIR/blob.bin" "$SANDBOX_DIR/blob.got" || fail "blob.bin changed across grow"
assert_exit 0 jc test "$D"

info "a stopped jail grows offline and stays stopped"
assert_exit 0 jc stop "$D"
assert_exit 0 jc grow "$D" --size 384M
assert_contains "$OUT" "path:      offline" "grow output (stopped)"
assert_exit 0 jc start "$D"
size3=$(df_inside)
[ "$size3" -gt $((size2 + 50 * 1024 * 1024)) ] || fail "df inside: $size2 -> $size3 bytes after offline grow"
echo "grow: OK"
