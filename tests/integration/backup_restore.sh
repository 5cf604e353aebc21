# backup of a RUNNING jail while a customer keeps loading pages (0 failures allowed), destroy,
# restore: the files uploaded over FTPS are served byte-identical and `test` passes; restore onto
# an existing jail needs --replace (and keeps it serving until the swap); restore with a new
# domain and IP under a second --root.
set -euo pipefail
D=example.com IP=203.0.113.10 D2=restored.example.net IP2=203.0.113.20
second_root "$D2"

ftps_login() {  # pin nothing: the test checks content, not the certificate
  FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
}
fetch_same() {  # ip host path local-file
  client_curl -H "Host: $2" "http://$1/$3" -o "$SANDBOX_DIR/got" || fail "GET http://$1/$3 (Host: $2) failed"
  cmp "$4" "$SANDBOX_DIR/got" || fail "http://$1/$3 differs from the uploaded $4"
}

info "create $D, upload 3 files over FTPS"
assert_exit 0 jc create "$D" --ip "$IP" --size 128M
parse_create_output
ftps_login
head -c 300000 /dev/urandom > "$SANDBOX_DIR/blob.bin"
printf '<h1>page one</h1>\n' > "$SANDBOX_DIR/one.html"
printf 'nested %s\n' "$(date +%s%N)" > "$SANDBOX_DIR/deep.txt"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/blob.bin" "ftp://$IP/www/blob.bin"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/one.html" "ftp://$IP/www/one.html"
client_curl "${FTPS[@]}" --ftp-create-dirs -T "$SANDBOX_DIR/deep.txt" "ftp://$IP/www/sub/dir/deep.txt"
fetch_same "$IP" "$D" blob.bin "$SANDBOX_DIR/blob.bin"

info "backup while HTTP requests keep coming"
http_load_start "$IP" "$D" one.html
sleep 0.5
assert_exit 0 jc --json backup "$D"
backup_json="$SANDBOX_DIR/backup.json"; cp "$OUT_FILE" "$backup_json"
sleep 0.5
http_load_stop
ok=$LOAD_OK failed=$LOAD_FAILED
info "HTTP during backup: $ok ok, $failed failed; freeze $(json_eval "$backup_json" 'd["freeze_ms"]') ms"
assert_eq 0 "$failed" "failed HTTP requests during the backup"
[ "$ok" -ge 5 ] || fail "only $ok HTTP requests during the backup"
FILE=$(json_eval "$backup_json" 'd["file"]')
assert_match "$FILE" "^$JAILCTL_ROOT/backups/$D/[0-9]{8}T[0-9]{6}Z\.tar\.zst$" "backup file"
assert_eq True "$(json_eval "$backup_json" 'd["running"]')" "running"
[ ! -e "$FILE.partial" ] || fail "partial file left"
[[ "$(ls -a "$JAILCTL_ROOT/backups/$D")" != *snapshot* ]] || fail "snapshot left in $JAILCTL_ROOT/backups/$D"
assert_eq manifest.json "$(zstd -dc "$FILE" | tar -tf - | sed -n 1p)" "first archive entry"
zstd -dc "$FILE" | tar -xOf - manifest.json > "$SANDBOX_DIR/manifest.json"
assert_eq "$D" "$(json_eval "$SANDBOX_DIR/manifest.json" 'd["domain"]')" "manifest domain"
assert_match "$(json_eval "$SANDBOX_DIR/manifest.json" 'd["ftp_password_hash"]')" '^\$y\$' "manifest password hash"
assert_eq "$(json_eval "$backup_json" 'd["sha256"]')" "$(json_eval "$SANDBOX_DIR/manifest.json" 'd["content"]["sha256"]')" "sha256"
# ownership as seen inside the jail
[[ "$(zstd -dc "$FILE" | tar -tvf - rootfs/srv/site/www/blob.bin)" == *" 2000/2000 "* ]] || fail "blob.bin not owned by 2000/2000 in the archive"

assert_exit 0 jc backups "$D"
assert_contains "$OUT" "$FILE" "backups listing"

info "restore onto the existing jail needs --replace"
assert_exit 3 jc restore "$FILE"
assert_ko validate 'already registered'

info "destroy, restore: the same files, test OK"
assert_exit 0 jc destroy --force "$D"
assert_exit 0 jc restore "$FILE"
parse_create_output
fetch_same "$IP" "$D" blob.bin "$SANDBOX_DIR/blob.bin"
fetch_same "$IP" "$D" one.html "$SANDBOX_DIR/one.html"
fetch_same "$IP" "$D" sub/dir/deep.txt "$SANDBOX_DIR/deep.txt"
assert_exit 0 jc test "$D"

info "restore --replace: the jail goes back to the backup's content"
ftps_login
printf 'later\n' > "$SANDBOX_DIR/later.txt"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/later.txt" "ftp://$IP/www/later.txt"
assert_exit 0 jc restore "$FILE" --replace
parse_create_output
fetch_same "$IP" "$D" blob.bin "$SANDBOX_DIR/blob.bin"
code=$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $D" "http://$IP/later.txt" || true)
assert_eq 404 "$code" "later.txt after restore --replace"
assert_exit 0 jc test "$D"
[[ "$(ls "$JAILCTL_ROOT/jails/$D")" != *.old* && "$(ls "$JAILCTL_ROOT/jails/$D")" != *.restore* ]] ||
  fail "staging files left in the jail dir"

info "restore with a new identity under a second root"
assert_exit 0 jc2 restore "$FILE" --domain "$D2" --ip "$IP2"
parse_create_output
assert_eq "$D2" "$CREATED_DOMAIN" "domain"
fetch_same "$IP2" "$D2" blob.bin "$SANDBOX_DIR/blob.bin"
fetch_same "$IP2" "$D2" sub/dir/deep.txt "$SANDBOX_DIR/deep.txt"
page=$(client_curl -H "Host: $D2" "http://$IP2/")
assert_contains "$page" "$D2" "index page of the new identity"
grep -qF "$D2" "$JAILCTL_ROOT2/jails/$D2/rootfs/etc/nginx/nginx.conf" || fail "nginx.conf not rendered for $D2"
assert_exit 0 jc2 test "$D2"
assert_exit 0 jc test "$D"   # the original is unaffected
assert_exit 0 jc2 destroy --force "$D2"
echo "backup_restore: OK"
