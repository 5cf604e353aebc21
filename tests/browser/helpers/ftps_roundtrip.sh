#!/usr/bin/env bash
# ftps_roundtrip.sh IP DOMAIN USER PASSWORD FINGERPRINT — the customer's side of
# tests/browser/console.sh, with the credentials the browser read from the page: the FTPS
# certificate served is the one whose fingerprint the page showed; an upload over FTPS (from
# the client netns) is served back over HTTP.
set -euo pipefail
source "$TESTS_DIR/lib.sh"
ip=$1 domain=$2 user=$3 password=$4 fpr=$5

cert="$SANDBOX_DIR/console-ftps.crt"
served_ftps_cert "$ip" "$cert" || fail "no certificate from FTPS on $ip:21"
assert_eq "$(normalize_fpr "$fpr")" "$(cert_fpr "$cert")" "fingerprint shown in the console vs the served certificate"
ftps=(--ssl-reqd --insecure --pinnedpubkey "$(pubkey_pin "$cert")" --user "$user:$password")

page="$SANDBOX_DIR/console-upload.html"
printf '<h1>uploaded with the console credentials of %s</h1>\n' "$domain" > "$page"
client_curl "${ftps[@]}" -T "$page" "ftp://$ip/www/console.html" ||
  fail "FTPS upload to ftp://$ip/www/console.html as $user (password from the page) failed"
client_curl -H "Host: $domain" "http://$ip/console.html" -o "$page.got" || fail "GET http://$ip/console.html failed"
cmp "$page" "$page.got" || fail "the page served differs from the FTPS upload"
echo "--- FTPS upload as $user and HTTP read-back: OK" >&2
