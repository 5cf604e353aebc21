# clone: DST serves SRC's content on its own IP with its own credentials, certificate and id
# range; SRC answers every HTTP request made during the clone; a clone that fails at its last
# step leaves nothing behind and SRC untouched. A php, https-only SRC with its own certificate
# and an alias: the clone keeps profile and https-only, gets a self-signed certificate for its
# own names, and not the alias (it stays SRC's).
set -euo pipefail
SRC=src.example.com SRC_IP=203.0.113.63 DST=dst.example.com DST_IP=203.0.113.64

pin_of() {  # public-key pin of the certificate FTPS presents on $1
  echo "sha256//$($CLIENT openssl s_client -starttls ftp -connect "$1:21" </dev/null 2>/dev/null |
    openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)"
}
id_base() { sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT id_base FROM jails WHERE domain='$1'"; }

assert_exit 0 jc create "$SRC" --ip "$SRC_IP" --size 64M
parse_create_output
SRC_USER=$FTP_USER SRC_PASS=$FTP_PASS SRC_FPR=$FTP_FPR
SRC_PIN=$(pin_of "$SRC_IP")
head -c 200000 /dev/urandom > "$SANDBOX_DIR/blob.bin"
client_curl --ssl-reqd --insecure --pinnedpubkey "$SRC_PIN" --user "$SRC_USER:$SRC_PASS" \
  -T "$SANDBOX_DIR/blob.bin" "ftp://$SRC_IP/www/blob.bin" || fail "FTPS upload to SRC failed"

info "clone while the client keeps requesting SRC"
stop="$SANDBOX_DIR/stop-loop" fails="$SANDBOX_DIR/fails" oks="$SANDBOX_DIR/oks"
: > "$fails"; : > "$oks"
( while [ ! -e "$stop" ]; do
    if $CLIENT curl -s -o /dev/null --max-time 5 -f -H "Host: $SRC" "http://$SRC_IP/blob.bin"; then echo >> "$oks"; else echo >> "$fails"; fi
  done ) &
loop=$!
sleep 0.5
assert_exit 0 jc clone "$SRC" "$DST" --ip "$DST_IP"
sleep 0.5
touch "$stop"; wait "$loop"
assert_eq 0 "$(wc -l < "$fails")" "failed HTTP requests to SRC during the clone"
[ "$(wc -l < "$oks")" -ge 3 ] || fail "only $(wc -l < "$oks") requests to SRC during the clone"
info "$(wc -l < "$oks") requests to SRC succeeded during the clone"
parse_create_output
assert_eq "$DST" "$CREATED_DOMAIN" "domain:"
assert_eq "$DST_IP" "$CREATED_IP" "ip:"
assert_contains "$OUT" "cloned:    from $SRC" "clone output"
info "timings: $(grep -o '\[copy-disk\] [a-z-]*, .*' "$LOG_PATH" | tail -n 1)"

info "new identity"
[ "$FTP_USER" != "$SRC_USER" ] || fail "DST has SRC's FTP user"
[ "$FTP_PASS" != "$SRC_PASS" ] || fail "DST has SRC's FTP password"
[ "$(normalize_fpr "$FTP_FPR")" != "$(normalize_fpr "$SRC_FPR")" ] || fail "DST has SRC's certificate"
DST_PIN=$(pin_of "$DST_IP")
[ "$DST_PIN" != "$SRC_PIN" ] || fail "DST presents SRC's key"
assert_exit 0 jc exec "$DST" -- /bin/hostname
assert_eq "$DST" "$OUT" "hostname of DST"
grep -q "server_name.*$DST" "$JAILCTL_ROOT/jails/$DST/rootfs/etc/nginx/nginx.conf" || fail "nginx.conf of DST does not name $DST"
grep -q "$SRC" "$JAILCTL_ROOT/jails/$DST/rootfs/etc/nginx/nginx.conf" && fail "nginx.conf of DST still names $SRC"
grep -rqs "$SRC" "$JAILCTL_ROOT/jails/$DST/rootfs/etc/" && fail "DST's /etc still names $SRC: $(grep -rls "$SRC" "$JAILCTL_ROOT/jails/$DST/rootfs/etc/")"
dst_base=$(id_base "$DST") src_base=$(id_base "$SRC")
[ "$dst_base" != "$src_base" ] || fail "same id range"
assert_eq "$((dst_base + 2000))" "$(stat -c %u "$JAILCTL_ROOT/jails/$DST/rootfs/srv/site/www/blob.bin")" "owner of the copied upload"
assert_eq "$dst_base" "$(stat -c %u "$JAILCTL_ROOT/jails/$DST/rootfs/etc/passwd")" "owner of DST's /etc/passwd"
left=$(find "$JAILCTL_ROOT/jails/$DST/rootfs" -xdev \( -uid "$src_base" -o -uid "$((src_base + 2000))" \) | head -n 3)
[ -z "$left" ] || fail "files still owned by SRC's range: $left"

info "DST serves SRC's content on its own IP, with its own credentials"
client_curl -H "Host: $DST" "http://$DST_IP/blob.bin" -o "$SANDBOX_DIR/blob.dst" || fail "GET blob.bin from DST failed"
cmp "$SANDBOX_DIR/blob.bin" "$SANDBOX_DIR/blob.dst" || fail "DST serves a different blob.bin"
client_curl -H "Host: $DST" "http://$DST_IP/" | grep -qF "$DST" || fail "DST's index page does not name $DST"
rc=0; client_curl --ssl-reqd --insecure --user "$SRC_USER:$SRC_PASS" "ftp://$DST_IP/" >/dev/null 2>&1 || rc=$?
assert_eq 67 "$rc" "SRC's credentials on DST (curl status)"
echo "dst" > "$SANDBOX_DIR/dst.txt"
client_curl --ssl-reqd --insecure --pinnedpubkey "$DST_PIN" --user "$FTP_USER:$FTP_PASS" \
  -T "$SANDBOX_DIR/dst.txt" "ftp://$DST_IP/www/dst.txt" || fail "FTPS upload to DST failed"
assert_exit 0 jc test "$DST"

info "SRC unaffected"
assert_exit 0 jc test "$SRC"
client_curl -H "Host: $SRC" "http://$SRC_IP/blob.bin" -o "$SANDBOX_DIR/blob.src" || fail "GET blob.bin from SRC failed"
cmp "$SANDBOX_DIR/blob.bin" "$SANDBOX_DIR/blob.src" || fail "SRC serves a different blob.bin"
rc=0; client_curl -f -o /dev/null -H "Host: $SRC" "http://$SRC_IP/dst.txt" 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "a file uploaded to DST appeared in SRC"
client_curl -H "Host: $SRC" "http://$SRC_IP/" | grep -qF "$SRC" || fail "SRC's index page changed"

info "a failing clone leaves nothing and SRC untouched"
snapshot_state
assert_exit 5 env JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=test "$JAILCTL" --root "$JAILCTL_ROOT" clone "$SRC" bad.example.com --ip 203.0.113.65
assert_ko test
assert_state_unchanged default "state after a failed clone"
assert_exit 0 jc test "$SRC"

info "bad input"
assert_exit 3 jc clone "$SRC" "$DST" --ip 203.0.113.66
assert_ko validate 'domain'
assert_exit 3 jc clone "$SRC" other.example.com --ip "$DST_IP"
assert_ko validate '\bip'
assert_exit 2 jc clone nosuch.example.com other.example.com --ip 203.0.113.66
assert_exit 2 jc clone "$SRC" other.example.com --ip 203.0.113.66 --size 32M
assert_ko validate 'size'
info "SRC with php, its own certificate, an alias and https-only: what its clone keeps"
ALIAS=alias.example.org DST2=dst2.example.com DST2_IP=203.0.113.67
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 20 -subj "/CN=$SRC" \
  -addext "subjectAltName=DNS:$SRC,DNS:www.$SRC,DNS:$ALIAS" -keyout "$SANDBOX_DIR/own.key" -out "$SANDBOX_DIR/own.pem" 2>/dev/null
assert_exit 0 jc set "$SRC" --profile php
assert_exit 0 jc set "$SRC" --tls-cert "$SANDBOX_DIR/own.pem" --tls-key "$SANDBOX_DIR/own.key" --https-only
assert_exit 0 jc alias add "$SRC" "$ALIAS"
printf '<?php echo 6 * 7;\n' > "$SANDBOX_DIR/calc.php"
client_curl --ssl-reqd --insecure --user "$SRC_USER:$SRC_PASS" -T "$SANDBOX_DIR/calc.php" "ftp://$SRC_IP/www/calc.php" ||
  fail "FTPS upload of calc.php to SRC failed"
assert_exit 0 jc clone "$SRC" "$DST2" --ip "$DST2_IP"
assert_exit 0 jc --json status "$DST2"
assert_eq "php self-signed True " "$(json_eval "$OUT_FILE" \
  'd[0]["profile"] + " " + d[0]["web"]["tls"] + " " + str(d[0]["web"]["https_only"]) + " " + ",".join(d[0]["web"]["aliases"])')" \
  "profile, tls, https-only, aliases of the clone"
DST2_CRT=$JAILCTL_ROOT/jails/$DST2/rootfs/etc/ssl/jailctl/site.crt
$CLIENT openssl s_client -connect "$DST2_IP:443" -servername "$DST2" </dev/null 2>/dev/null | openssl x509 -outform PEM > "$SANDBOX_DIR/dst2.pem"
[ "$(cert_fpr "$SANDBOX_DIR/dst2.pem")" != "$(cert_fpr "$SANDBOX_DIR/own.pem")" ] || fail "the clone serves SRC's own certificate"
assert_eq 42 "$(client_curl --cacert "$DST2_CRT" --resolve "$DST2:443:$DST2_IP" "https://$DST2/calc.php")" "calc.php on the clone, verified for $DST2"
assert_eq 301 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $DST2" "http://$DST2_IP/")" "HTTP to the clone (https-only)"
assert_exit 3 jc alias add "$DST2" "$ALIAS"
assert_ko validate "served by jail $SRC"
assert_eq 42 "$(client_curl --cacert "$SANDBOX_DIR/own.pem" --resolve "$ALIAS:443:$SRC_IP" "https://$ALIAS/calc.php")" "calc.php through SRC's alias"
assert_exit 0 jc destroy --force "$DST2"
echo "clone: OK"
