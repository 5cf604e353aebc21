# create -> the customer uses the site (HTTP + FTPS, real curl from the client netns)
# -> stop -> status -> start -> test -> destroy (refused while running, then --force) -> nothing left.
set -euo pipefail
D=example.com IP=203.0.113.10

info "create $D"
assert_exit 0 jc create "$D" --ip "$IP" --size 128M
assert_eq OK "$(head -n 1 <<<"$OUT")" "first stdout line"
parse_create_output
assert_eq "$D" "$CREATED_DOMAIN" "domain:"
assert_eq "$IP" "$CREATED_IP" "ip:"
assert_eq "128 MiB" "$CREATED_DISK" "disk:"
assert_eq examplecom "$FTP_USER" "ftp user:"
assert_eq required "$FTP_TLS" "ftp tls:"
assert_match "$FTP_PASS" '^[A-Za-z2-9]{20,}$' "ftp pass:"
assert_match "$FTP_PASS" '^[^0Oo1lI]+$' "ftp pass (no look-alikes)"
assert_match "$(normalize_fpr "$FTP_FPR")" '^[0-9a-f]{64}$' "ftp tls: sha256 fingerprint"

info "the log file"
assert_match "$LOG_PATH" "^$JAILCTL_ROOT/log/$D/[0-9]{8}T[0-9]{6}Z-create\.log$" "log:"
[ -s "$LOG_PATH" ] || fail "log file $LOG_PATH missing or empty"
bad=$(grep -vnE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ' "$LOG_PATH" | head -n 3 || true)
[ -z "$bad" ] || fail "log lines without an RFC 3339 UTC ms timestamp:"$'\n'"$bad"
grep -qF -- "$FTP_PASS" "$LOG_PATH" && fail "the FTP password is in the log $LOG_PATH"
grep -rqF -- "$FTP_PASS" "$JAILCTL_ROOT/log" && fail "the FTP password is in a log under $JAILCTL_ROOT/log"
creds="$JAILCTL_ROOT/jails/$D/credentials"
[ -f "$creds" ] || fail "no credentials file $creds"
assert_eq 600 "$(stat -c %a "$creds")" "credentials file mode"
grep -qF -- "$FTP_PASS" "$creds" || fail "credentials file does not hold the printed password"

info "HTTP from the client netns"
page=$(client_curl -H "Host: $D" "http://$IP/") || fail "curl http://$IP/ (Host: $D) failed"
assert_contains "$page" "$D" "index page"
page=$(client_curl -H "Host: www.$D" "http://$IP/") || fail "curl http://$IP/ (Host: www.$D) failed"
assert_contains "$page" "$D" "index page for www.$D"

info "the FTPS certificate the customer sees is the one create printed"
served_cert="$SANDBOX_DIR/served.crt"
served_ftps_cert "$IP" "$served_cert" || fail "no certificate from FTPS on $IP:21"
assert_eq "$(normalize_fpr "$FTP_FPR")" "$(cert_fpr "$served_cert")" "fingerprint of the served certificate"
jail_cert="$JAILCTL_ROOT/jails/$D/rootfs/etc/ssl/jailctl/ftp.crt"
[ -f "$jail_cert" ] && assert_eq "$(normalize_fpr "$FTP_FPR")" "$(cert_fpr "$jail_cert")" "fingerprint of $jail_cert"
ftps=(--ssl-reqd --insecure --pinnedpubkey "$(pubkey_pin "$served_cert")" --user "$FTP_USER:$FTP_PASS")

info "FTPS upload, then the page over HTTP"
printf '<h1>hello from %s at %s</h1>\n' "$D" "$(date -u +%FT%TZ)" > "$SANDBOX_DIR/hello.html"
client_curl "${ftps[@]}" -T "$SANDBOX_DIR/hello.html" "ftp://$IP/www/hello.html" ||
  fail "FTPS upload to ftp://$IP/www/hello.html as $FTP_USER failed"
client_curl -H "Host: $D" "http://$IP/hello.html" -o "$SANDBOX_DIR/hello.got" || fail "GET /hello.html failed"
cmp "$SANDBOX_DIR/hello.html" "$SANDBOX_DIR/hello.got" || fail "the page served differs from the upload"
listing=$(client_curl "${ftps[@]}" --list-only "ftp://$IP/www/") || fail "FTPS listing of /www/ failed"
assert_contains "$listing" hello.html "FTPS listing"

info "plain FTP without TLS is refused"
rc=0; client_curl --user "$FTP_USER:$FTP_PASS" "ftp://$IP/" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "plain FTP login succeeded although TLS is required"
info "a wrong password is refused (curl 67)"
rc=0; client_curl --ssl-reqd --insecure --user "$FTP_USER:wrong${FTP_PASS}" "ftp://$IP/" >/dev/null 2>&1 || rc=$?
assert_eq 67 "$rc" "curl exit status with a wrong password"

info "stop, status"
assert_exit 0 jc stop "$D"
assert_exit 0 jc status
assert_eq "Jail status (*=running, !=not configured):" "$(head -n 1 <<<"$OUT")" "status header"
grep -qFx " $D ($IP)" "$OUT_FILE" || fail "status does not show ' $D ($IP)' (stopped):"$'\n'"$OUT"
rc=0; client_curl --max-time 3 -H "Host: $D" "http://$IP/" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a stopped jail still answers HTTP"
[ -z "$(ip neigh show proxy | grep -F "$IP ")" ] || fail "proxy ARP entry for $IP still there after stop"
[ -z "$(losetup -a | grep -F "$JAILCTL_ROOT")" ] || fail "loop device still attached after stop: $(losetup -a)"

info "start, status, test"
assert_exit 0 jc start "$D"
assert_exit 0 jc status "$D"
grep -qFx "*$D ($IP)" "$OUT_FILE" || fail "status does not show '*$D ($IP)' (running):"$'\n'"$OUT"
client_curl -H "Host: $D" "http://$IP/hello.html" -o "$SANDBOX_DIR/hello.again" || fail "GET after start failed"
cmp "$SANDBOX_DIR/hello.html" "$SANDBOX_DIR/hello.again" || fail "uploaded page lost across stop/start"
assert_exit 0 jc test "$D"
assert_contains "$OUT" OK "test output"

info "status --json"
assert_exit 0 jc status --json
assert_json "$OUT_FILE"
assert_eq 1 "$(json_eval "$OUT_FILE" 'len(d)')" "number of jails in status --json"
for field in domain ip state size_bytes used_bytes ftp_user created reason; do
  assert_eq True "$(json_eval "$OUT_FILE" "'$field' in d[0]")" "status --json has '$field'"
done
assert_eq "$D" "$(json_eval "$OUT_FILE" 'd[0]["domain"]')" "status --json domain"
assert_eq "$IP" "$(json_eval "$OUT_FILE" 'd[0]["ip"]')" "status --json ip"
assert_eq running "$(json_eval "$OUT_FILE" 'd[0]["state"]')" "status --json state"
assert_eq $((128 << 20)) "$(json_eval "$OUT_FILE" 'd[0]["size_bytes"]')" "status --json size_bytes"
assert_eq "$FTP_USER" "$(json_eval "$OUT_FILE" 'd[0]["ftp_user"]')" "status --json ftp_user"

info "destroy without --force while running is refused"
rc=0; jc destroy "$D" >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
[ "$rc" -ne 0 ] || fail "destroy of a running jail without --force succeeded"
assert_match "$(last_err_line)" '^KO: ' "destroy without --force"
client_curl -H "Host: $D" "http://$IP/" >/dev/null || fail "jail no longer answers after a refused destroy"
assert_exit 0 jc destroy --force "$D"

info "nothing left"
assert_exit 0 jc status
assert_eq "Jail status (*=running, !=not configured):" "$OUT" "status after destroy"
rows=$(sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT count(*) FROM jails" 2>&1)
assert_eq 0 "$rows" "registry rows in table jails"
[ ! -e "$JAILCTL_ROOT/jails/$D" ] || fail "$JAILCTL_ROOT/jails/$D still exists: $(ls -la "$JAILCTL_ROOT/jails/$D")"
[ -z "$(ip neigh show proxy)" ] || fail "proxy ARP left: $(ip neigh show proxy)"
[ -z "$(ip -4 route show | grep -F "$IP ")" ] || fail "route left: $(ip -4 route show)"
[ -z "$(losetup -a | grep -F "$JAILCTL_ROOT")" ] || fail "loop device left: $(losetup -a)"
[ -z "$(awk -v r="$JAILCTL_ROOT" 'index($5, r "/") == 1' /proc/self/mountinfo)" ] || fail "mount left under $JAILCTL_ROOT"
rc=0; client_curl --max-time 3 "http://$IP/" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "$IP still answers HTTP after destroy"
# (the sandbox's leak check then looks at processes, cgroups, interfaces as well)
echo "lifecycle: OK"
