# credentials DOMAIN: what support staff hand the customer (issue #14) — the FTP account,
# the certificate fingerprint and the FTPS server; the password shown logs in over FTPS from
# the customer network; after passwd it shows the new one; text and --json agree.
set -euo pipefail
require_python3
D=creds.example IP=203.0.113.21

info "create $D"
assert_exit 0 jc create "$D" --ip "$IP" --size 64M
parse_create_output
create_pass=$FTP_PASS create_fpr=$FTP_FPR create_user=$FTP_USER

info "credentials (text)"
assert_exit 0 jc credentials "$D"
assert_eq OK "$(head -n 1 <<<"$OUT")" "first stdout line"
parse_create_output
assert_eq "$D" "$CREATED_DOMAIN" "domain:"
assert_eq "$create_user" "$FTP_USER" "ftp user: is the one create printed"
assert_eq "$create_pass" "$FTP_PASS" "ftp pass: is the one create printed"
assert_eq required "$FTP_TLS" "ftp tls:"
assert_eq "$(normalize_fpr "$create_fpr")" "$(normalize_fpr "$FTP_FPR")" "ftp tls: fingerprint"
grep -qFx "ftp host:  $D ($IP), port 21, explicit TLS (AUTH TLS), required" "$OUT_FILE" ||
  fail "no 'ftp host:' line naming $D, $IP, port 21 and explicit TLS:"$'\n'"$OUT"
grep -qFx "ftp url:   ftpes://$D/" "$OUT_FILE" || fail "no 'ftp url:' line"
user=$FTP_USER

info "credentials --json"
assert_exit 0 jc credentials "$D" --json
assert_json "$OUT_FILE"
assert_eq OK "$(json_eval "$OUT_FILE" 'd["result"]')" "result"
assert_eq "$D" "$(json_eval "$OUT_FILE" 'd["ftp"]["host"]')" "ftp.host"
assert_eq "$IP" "$(json_eval "$OUT_FILE" 'd["ftp"]["ip"]')" "ftp.ip"
assert_eq 21 "$(json_eval "$OUT_FILE" 'd["ftp"]["port"]')" "ftp.port"
assert_eq explicit "$(json_eval "$OUT_FILE" 'd["ftp"]["encryption"]')" "ftp.encryption"
assert_eq "$user" "$(json_eval "$OUT_FILE" 'd["ftp"]["user"]')" "ftp.user"
assert_eq "$create_pass" "$(json_eval "$OUT_FILE" 'd["ftp"]["password"]')" "ftp.password"
assert_eq "$create_fpr" "$(json_eval "$OUT_FILE" 'd["ftp"]["fingerprint"]')" "ftp.fingerprint"

info "the shown password logs in over FTPS, and the server presents the shown certificate"
served_cert="$SANDBOX_DIR/served.crt"
$CLIENT openssl s_client -starttls ftp -connect "$IP:21" </dev/null 2>/dev/null |
  openssl x509 -outform PEM > "$served_cert" || fail "no certificate from FTPS on $IP:21"
assert_eq "$(normalize_fpr "$create_fpr")" "$(cert_fpr "$served_cert")" "fingerprint of the served certificate"
client_curl --ssl-reqd --cacert "$served_cert" --resolve "$D:21:$IP" --user "$user:$create_pass" \
  --list-only "ftp://$D/" >/dev/null || fail "FTPS login as $user with the shown password failed"

info "passwd: credentials shows the new password, which logs in; the old one no longer does"
assert_exit 0 jc passwd "$D"
parse_create_output
new_pass=$FTP_PASS
[ "$new_pass" != "$create_pass" ] || fail "passwd printed the old password"
assert_exit 0 jc credentials "$D" --json
assert_eq "$new_pass" "$(json_eval "$OUT_FILE" 'd["ftp"]["password"]')" "ftp.password after passwd"
assert_eq "$create_fpr" "$(json_eval "$OUT_FILE" 'd["ftp"]["fingerprint"]')" "ftp.fingerprint after passwd"
client_curl --ssl-reqd --cacert "$served_cert" --resolve "$D:21:$IP" --user "$user:$new_pass" \
  --list-only "ftp://$D/" >/dev/null || fail "FTPS login with the password after passwd failed"
rc=0; client_curl --ssl-reqd --cacert "$served_cert" --resolve "$D:21:$IP" --user "$user:$create_pass" \
  "ftp://$D/" >/dev/null 2>&1 || rc=$?
assert_eq 67 "$rc" "curl status with the old password"

info "a stopped jail: the fingerprint comes from the credentials file"
assert_exit 0 jc stop "$D"
assert_exit 0 jc credentials "$D" --json
assert_eq "$new_pass" "$(json_eval "$OUT_FILE" 'd["ftp"]["password"]')" "ftp.password (stopped)"
assert_eq "$create_fpr" "$(json_eval "$OUT_FILE" 'd["ftp"]["fingerprint"]')" "ftp.fingerprint (stopped)"

info "an unknown jail: exit 2; not root: exit 4; neither shows a password"
assert_exit 2 jc credentials nosuch.example
assert_ko validate 'nosuch\.example is not a jail'
assert_exit 2 jc credentials "bad..name"
assert_ko validate 'domain'
assert_exit 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$JAILCTL" --root "$JAILCTL_ROOT" credentials "$D"
assert_ko validate 'root'
assert_not_contains "$OUT$ERR" "$new_pass" "output of a refused credentials"
# the same from a jailctl in a directory the caller cannot read (a clone under mktemp -d):
# still the plain refusal, not a crash while looking for jailctl-init beside it
private=$(mktemp -d "$SANDBOX_DIR/private.XXXXXX")
cp "$JAILCTL" "$(dirname "$JAILCTL")/jailctl-init" "$private/"
assert_exit 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$private/jailctl" --root "$JAILCTL_ROOT" credentials "$D"
assert_ko validate 'root'

assert_exit 0 jc destroy "$D" --force
