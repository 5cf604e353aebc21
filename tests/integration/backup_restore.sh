# backup of a RUNNING jail while a customer keeps loading pages over HTTPS (0 failures allowed),
# destroy, restore: the files uploaded over FTPS are served byte-identical and `test` passes;
# restore onto an existing jail needs --replace (and keeps it serving until the swap); restore
# with a new domain and IP under a second --root. The jail is a full web site (issue 12): PHP
# profile, the customer's own certificate, two aliases, https-only; a restore brings all of it
# back (the same certificate for every name, 301 on HTTP, PHP runs), --replace too; a new
# identity keeps profile and https-only but not the aliases nor the certificate of the old name.
set -euo pipefail
D=example.com IP=203.0.113.10 D2=restored.example.net IP2=203.0.113.20
A1=blog.example.org A2=shop.example.org
second_root "$D2"
CUSTOM=$SANDBOX_DIR/custom.pem

ftps_login() {  # pin nothing: the test checks content, not the certificate
  FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
}
fetch_same() {  # ip host path local-file [cacert]: GET over HTTPS, verified against cacert (the custom one)
  client_curl --cacert "${5:-$CUSTOM}" --resolve "$2:443:$1" "https://$2/$3" -o "$SANDBOX_DIR/got" ||
    fail "GET https://$2/$3 ($1) failed"
  cmp "$4" "$SANDBOX_DIR/got" || fail "https://$2/$3 ($1) differs from the uploaded $4"
}
served_fpr() {  # ip name: sha256 of the certificate nginx presents for SNI name
  $CLIENT openssl s_client -connect "$1:443" -servername "$2" </dev/null 2>/dev/null | openssl x509 -outform PEM \
    > "$SANDBOX_DIR/served.pem"
  cert_fpr "$SANDBOX_DIR/served.pem"
}
# status_web ROOT-RUNNER DOMAIN: "profile tls https_only aliases" from status --json
status_web() {
  assert_exit 0 "$1" --json status "$2"
  json_eval "$OUT_FILE" 'd[0]["profile"] + " " + d[0]["web"]["tls"] + " " + str(d[0]["web"]["https_only"]) + " " + ",".join(d[0]["web"]["aliases"])'
}
# web_side_restored: $D serves what was archived: the custom certificate for each of its names,
# HTTP redirected, PHP executed (reached through an alias), the registry as before.
web_side_restored() {
  local name
  for name in "$D" "www.$D" "$A1" "$A2"; do
    assert_eq "$(cert_fpr "$CUSTOM")" "$(served_fpr "$IP" "$name")" "certificate served for $name after $1"
  done
  assert_eq 301 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $D" "http://$IP/")" "HTTP to $D after $1 (https-only)"
  assert_eq 42 "$(client_curl --cacert "$CUSTOM" --resolve "$A2:443:$IP" "https://$A2/calc.php")" "calc.php through $A2 after $1"
  assert_eq "php custom True $A1,$A2" "$(status_web jc "$D")" "profile, tls, https-only, aliases after $1"
  assert_exit 0 jc status "$D"
  assert_contains "$OUT" "  profile:   php"$'\n'"  aliases:   $A1 $A2"$'\n'"  https:     custom, https-only" "status text after $1"
}

info "create $D (php, own certificate, aliases $A1 $A2, https-only), upload 4 files over FTPS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 20 -subj "/CN=$D" \
  -addext "subjectAltName=DNS:$D,DNS:www.$D,DNS:$A1,DNS:$A2" -keyout "$SANDBOX_DIR/custom.key" -out "$CUSTOM" 2>/dev/null
assert_exit 0 jc create "$D" --ip "$IP" --size 128M --profile php --tls-cert "$CUSTOM" --tls-key "$SANDBOX_DIR/custom.key"
parse_create_output
assert_exit 0 jc alias add "$D" "$A1"
assert_exit 0 jc alias add "$D" "$A2"
assert_exit 0 jc set "$D" --https-only
ftps_login
head -c 300000 /dev/urandom > "$SANDBOX_DIR/blob.bin"
printf '<h1>page one</h1>\n' > "$SANDBOX_DIR/one.html"
printf 'nested %s\n' "$(date +%s%N)" > "$SANDBOX_DIR/deep.txt"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/blob.bin" "ftp://$IP/www/blob.bin"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/one.html" "ftp://$IP/www/one.html"
client_curl "${FTPS[@]}" --ftp-create-dirs -T "$SANDBOX_DIR/deep.txt" "ftp://$IP/www/sub/dir/deep.txt"
printf '<?php echo 6 * 7;\n' > "$SANDBOX_DIR/calc.php"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/calc.php" "ftp://$IP/www/calc.php"
fetch_same "$IP" "$D" blob.bin "$SANDBOX_DIR/blob.bin"
web_side_restored create

info "backup while HTTPS requests keep coming"
http_load_start "$IP" "$D" one.html "$CUSTOM"
sleep 0.5
assert_exit 0 jc --json backup "$D"
backup_json="$SANDBOX_DIR/backup.json"; cp "$OUT_FILE" "$backup_json"
sleep 0.5
http_load_stop
ok=$LOAD_OK failed=$LOAD_FAILED
info "HTTPS during backup: $ok ok, $failed failed; freeze $(json_eval "$backup_json" 'd["freeze_ms"]') ms"
assert_eq 0 "$failed" "failed HTTPS requests during the backup"
[ "$ok" -ge 5 ] || fail "only $ok HTTPS requests during the backup"
FILE=$(json_eval "$backup_json" 'd["file"]')
assert_match "$FILE" "^$JAILCTL_ROOT/backups/$D/[0-9]{8}T[0-9]{6}Z\.tar\.zst$" "backup file"
assert_eq True "$(json_eval "$backup_json" 'd["running"]')" "running"
[ ! -e "$FILE.partial" ] || fail "partial file left"
[[ "$(ls -a "$JAILCTL_ROOT/backups/$D")" != *snapshot* ]] || fail "snapshot left in $JAILCTL_ROOT/backups/$D"
assert_eq manifest.json "$(zstd -dc "$FILE" | tar -tf - | sed -n 1p)" "first archive entry"
zstd -dc "$FILE" | tar -xOf - manifest.json > "$SANDBOX_DIR/manifest.json"
assert_eq "$D" "$(json_eval "$SANDBOX_DIR/manifest.json" 'd["domain"]')" "manifest domain"
assert_match "$(json_eval "$SANDBOX_DIR/manifest.json" 'd["ftp_password_hash"]')" '^\$y\$' "manifest password hash"
assert_eq "php custom True $A1,$A2" "$(json_eval "$SANDBOX_DIR/manifest.json" \
  'd["profile"] + " " + d["tls"] + " " + str(d["https_only"]) + " " + ",".join(d["aliases"])')" "manifest web side"
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
web_side_restored restore
assert_exit 0 jc test "$D"

info "restore --replace: the jail goes back to the backup's content and web side"
ftps_login
printf 'later\n' > "$SANDBOX_DIR/later.txt"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/later.txt" "ftp://$IP/www/later.txt"
assert_exit 0 jc alias remove "$D" "$A2"
assert_exit 0 jc set "$D" --no-https-only
assert_exit 0 jc set "$D" --profile static
assert_eq "static custom False $A1" "$(status_web jc "$D")" "web side changed before restore --replace"
assert_exit 0 jc restore "$FILE" --replace
parse_create_output
fetch_same "$IP" "$D" blob.bin "$SANDBOX_DIR/blob.bin"
code=$(client_curl -o /dev/null -w '%{http_code}' --cacert "$CUSTOM" --resolve "$D:443:$IP" "https://$D/later.txt" || true)
assert_eq 404 "$code" "later.txt after restore --replace"
web_side_restored "restore --replace"
assert_exit 0 jc test "$D"
[[ "$(ls "$JAILCTL_ROOT/jails/$D")" != *.old* && "$(ls "$JAILCTL_ROOT/jails/$D")" != *.restore* ]] ||
  fail "staging files left in the jail dir"

info "restore with a new identity under a second root"
assert_exit 0 jc2 restore "$FILE" --domain "$D2" --ip "$IP2"
parse_create_output
assert_eq "$D2" "$CREATED_DOMAIN" "domain"
SITE2=$JAILCTL_ROOT2/jails/$D2/rootfs/etc/ssl/jailctl/site.crt
fetch_same "$IP2" "$D2" blob.bin "$SANDBOX_DIR/blob.bin" "$SITE2"
fetch_same "$IP2" "$D2" sub/dir/deep.txt "$SANDBOX_DIR/deep.txt" "$SITE2"
page=$(client_curl --cacert "$SITE2" --resolve "$D2:443:$IP2" "https://$D2/")
assert_contains "$page" "$D2" "index page of the new identity"
info "the new identity: php and https-only kept; no aliases; a self-signed certificate for $D2"
assert_eq "php self-signed True " "$(status_web jc2 "$D2")" "profile, tls, https-only, aliases of $D2"
[ "$(served_fpr "$IP2" "$D2")" != "$(cert_fpr "$CUSTOM")" ] || fail "$D2 serves the certificate of $D"
assert_eq 301 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $D2" "http://$IP2/")" "HTTP to $D2 (https-only)"
assert_eq 42 "$(client_curl --cacert "$SITE2" --resolve "$D2:443:$IP2" "https://$D2/calc.php")" "calc.php on $D2"
grep -qF "$D2" "$JAILCTL_ROOT2/jails/$D2/rootfs/etc/nginx/nginx.conf" || fail "nginx.conf not rendered for $D2"
assert_exit 0 jc2 test "$D2"
assert_exit 0 jc test "$D"   # the original is unaffected
assert_exit 0 jc2 destroy --force "$D2"
echo "backup_restore: OK"
