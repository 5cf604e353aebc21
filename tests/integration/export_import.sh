# export (running and stopped) -> import under another --root with a new domain and IP:
# the site's files are equal, the manifest describes the source, ids land in the new range; the
# php profile travels (a PHP page still runs under the new identity).
set -euo pipefail
D=shop.example.com IP=203.0.113.30 D2=moved.example.org IP2=203.0.113.31
second_root "$D2"

assert_exit 0 jc create "$D" --ip "$IP" --size 128M --profile php
parse_create_output
head -c 200000 /dev/urandom > "$SANDBOX_DIR/data.bin"
client_curl --ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS" --ftp-create-dirs -T "$SANDBOX_DIR/data.bin" \
  "ftp://$IP/www/files/data.bin"
printf '<?php echo 6 * 7;\n' > "$SANDBOX_DIR/calc.php"
client_curl --ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS" -T "$SANDBOX_DIR/calc.php" "ftp://$IP/www/calc.php"

info "export while running, then while stopped"
assert_exit 0 jc export "$D" "$SANDBOX_DIR/live.tar.zst"
assert_contains "$OUT" "freeze_ms:" "export output"
assert_exit 3 jc export "$D" "$SANDBOX_DIR/live.tar.zst"   # never overwrites
assert_exit 0 jc stop "$D"
assert_exit 0 jc --json export "$D" "$SANDBOX_DIR/moved.tar.zst"
assert_eq False "$(json_eval "$OUT_FILE" 'd["running"]')" "running"
sha=$(json_eval "$OUT_FILE" 'd["sha256"]')

info "manifest"
zstd -dc "$SANDBOX_DIR/moved.tar.zst" | tar -xOf - manifest.json > "$SANDBOX_DIR/m.json"
assert_eq export "$(json_eval "$SANDBOX_DIR/m.json" 'd["kind"]')" "kind"
assert_eq "$D" "$(json_eval "$SANDBOX_DIR/m.json" 'd["domain"]')" "domain"
assert_eq "$IP" "$(json_eval "$SANDBOX_DIR/m.json" 'd["ip"]')" "ip"
assert_eq 134217728 "$(json_eval "$SANDBOX_DIR/m.json" 'd["size_bytes"]')" "size_bytes"
assert_eq php "$(json_eval "$SANDBOX_DIR/m.json" 'd["profile"]')" "profile"
assert_eq "$sha" "$(json_eval "$SANDBOX_DIR/m.json" 'd["content"]["sha256"]')" "content sha256"
assert_match "$(json_eval "$SANDBOX_DIR/m.json" 'd["certificate_pem"]')" 'BEGIN CERTIFICATE' "certificate"
[[ "$(zstd -dc "$SANDBOX_DIR/moved.tar.zst" | tar -tvf - rootfs/etc/ssl/jailctl/ftp.key)" == *"0/0"* ]] ||
  fail "the key is not in the archived tree"

info "import under a second root with a new identity and id range"
# The second root stands for another host whose registry has handed out 41 jails already.
jc2 status >/dev/null 2>&1 || true
sqlite3 "$JAILCTL_ROOT2/jailctl.db" "INSERT OR REPLACE INTO sqlite_sequence(name, seq) VALUES('jails', 41)"
src_base=$(sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT id_base FROM jails WHERE domain='$D'")
assert_exit 0 jc2 import "$SANDBOX_DIR/moved.tar.zst" --domain "$D2" --ip "$IP2" --size 192M
parse_create_output
assert_eq "192 MiB" "$CREATED_DISK" "disk"
client_curl -H "Host: $D2" "http://$IP2/files/data.bin" -o "$SANDBOX_DIR/got.bin"
cmp "$SANDBOX_DIR/data.bin" "$SANDBOX_DIR/got.bin" || fail "imported file differs"
client_curl --ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS" "ftp://$IP2/www/files/data.bin" -o "$SANDBOX_DIR/ftp.bin"
cmp "$SANDBOX_DIR/data.bin" "$SANDBOX_DIR/ftp.bin" || fail "file over FTPS differs"
assert_exit 0 jc2 test "$D2"
assert_eq 42 "$(client_curl -H "Host: $D2" "http://$IP2/calc.php")" "calc.php on the import"
assert_exit 0 jc2 --json status "$D2"
assert_eq php "$(json_eval "$OUT_FILE" 'd[0]["profile"]')" "profile of the import"
base=$(sqlite3 "$JAILCTL_ROOT2/jailctl.db" "SELECT id_base FROM jails WHERE domain='$D2'")
[ "$base" != "$src_base" ] || fail "the import got the source's id range $base"
assert_eq "$((base + 2000))" "$(stat -c %u "$JAILCTL_ROOT2/jails/$D2/rootfs/srv/site/www/files/data.bin")" "host uid of an uploaded file"
assert_eq "$base" "$(stat -c %u "$JAILCTL_ROOT2/jails/$D2/rootfs/etc/passwd")" "host uid of etc/passwd"
assert_exit 0 jc2 destroy --force "$D2"

info "export to a pipe, import from a pipe (a stream read once); a streamed archive saved to a file is read as one"
jc export "$D" /dev/stdout 2>"$SANDBOX_DIR/stream.err" | jc2 import /dev/stdin --domain "$D2" --ip "$IP2" >"$SANDBOX_DIR/stream.out" 2>&1 ||
  fail "export | import: $(cat "$SANDBOX_DIR/stream.err" "$SANDBOX_DIR/stream.out")"
assert_contains "$(cat "$SANDBOX_DIR/stream.err")" "OK" "export's report (on stderr when the archive is on stdout)"
cmp "$SANDBOX_DIR/data.bin" <(client_curl -H "Host: $D2" "http://$IP2/files/data.bin") || fail "file imported from the stream differs"
assert_exit 0 jc2 destroy --force "$D2"
jc export "$D" /dev/stdout 2>/dev/null | cat > "$SANDBOX_DIR/streamed.tar.zst"  # as `jailctl --cluster export` saves one
assert_exit 0 jc2 import "$SANDBOX_DIR/streamed.tar.zst" --domain "$D2" --ip "$IP2"
cmp "$SANDBOX_DIR/data.bin" <(client_curl -H "Host: $D2" "http://$IP2/files/data.bin") || fail "file imported from a saved stream differs"
assert_exit 2 jc2 restore "$SANDBOX_DIR/streamed.tar.zst" --domain "$D2" --replace
assert_ko validate "written as a stream"
assert_exit 0 jc2 destroy --force "$D2"
head -c $(($(stat -c %s "$SANDBOX_DIR/streamed.tar.zst") / 2)) "$SANDBOX_DIR/streamed.tar.zst" > "$SANDBOX_DIR/cut.tar.zst"
rc=0
jc2 import "$SANDBOX_DIR/cut.tar.zst" --domain "$D2" --ip "$IP2" >"$SANDBOX_DIR/cut.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a saved stream cut in half was imported: $(cat "$SANDBOX_DIR/cut.out")"
assert_exit 2 jc2 status "$D2"
assert_eq "" "$(ls "$JAILCTL_ROOT2/jails" 2>/dev/null | grep -F "$D2" || true)" "what the cut stream's import left"
echo "export_import: OK"
