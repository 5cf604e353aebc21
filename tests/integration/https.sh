# HTTPS for every site (issue 12): nginx answers on 443 for DOMAIN, www.DOMAIN and the aliases
# with the certificate installed in the jail (self-signed until the customer brings one),
# TLS 1.2+ and HTTP/2; --tls-cert installs the customer's own; --https-only redirects HTTP;
# alias add/remove change the names and the self-signed certificate; set --tls-auto goes back
# from the customer's certificate to a self-signed one; `status DOMAIN` shows all of it in text;
# every bad input is refused (exit 2 or 3) with nothing changed. Real curl from the client
# namespace.
set -euo pipefail
D=secure.example.com IP=203.0.113.70
D2=other.example.com IP2=203.0.113.71
CA=$SANDBOX_DIR/ca
SITE_CRT=$JAILCTL_ROOT/jails/$D/rootfs/etc/ssl/jailctl/site.crt

# https_get NAME [curl args...]: GET https://NAME/ resolved to the jail, trusting exactly the
# installed site certificate (or --cacert given after); prints the HTTP status.
installed_crt() { cp "$SITE_CRT" "$SANDBOX_DIR/installed.crt"; echo "$SANDBOX_DIR/installed.crt"; }
https_status() {
  local name=$1; shift
  client_curl -o "$SANDBOX_DIR/body" -w '%{http_code}' --resolve "$name:443:$IP" "$@" "https://$name/"
}
served_cert() {  # the certificate nginx serves for SNI name $1
  $CLIENT openssl s_client -connect "$IP:443" -servername "$1" </dev/null 2>/dev/null | openssl x509 -outform PEM
}

# A test CA and certificates it signs: leaf NAME DAYS|start-end SAN...
mkdir -p "$CA"; : > "$CA/index.txt"; echo 1000 > "$CA/serial"
cat > "$CA/ca.cnf" <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = $CA
database = $CA/index.txt
serial = $CA/serial
new_certs_dir = $CA
certificate = $CA/ca.pem
private_key = $CA/ca.key
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
[policy_any]
commonName = supplied
CNF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CA/ca.key" -out "$CA/ca.pem" \
  -subj "/CN=jailctl test CA" -days 30 2>/dev/null
leaf() {  # leaf NAME "-days N" | "-startdate X -enddate Y"  SAN-list
  local name=$1 validity=$2 san=$3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CA/$name.key" -out "$CA/$name.csr" \
    -subj "/CN=$name" -addext "subjectAltName=$san" 2>/dev/null
  # shellcheck disable=SC2086
  openssl ca -batch -notext -config "$CA/ca.cnf" -in "$CA/$name.csr" -out "$CA/$name.crt" $validity 2>/dev/null
  cat "$CA/$name.crt" "$CA/ca.pem" > "$CA/$name.chain"
}

info "create: HTTPS with the self-signed site certificate for DOMAIN and www.DOMAIN"
assert_exit 0 jc create "$D" --ip "$IP" --size 64M
parse_create_output
crt=$(installed_crt)
for name in "$D" "www.$D"; do
  assert_eq 200 "$(https_status "$name" --cacert "$crt")" "HTTPS status for $name"
  assert_contains "$(cat "$SANDBOX_DIR/body")" "$D" "HTTPS page for $name"
done
served_cert "$D" > "$SANDBOX_DIR/served.crt"
assert_eq "$(cert_fpr "$crt")" "$(cert_fpr "$SANDBOX_DIR/served.crt")" "served certificate = installed site.crt"
[ "$(cert_fpr "$crt")" != "$(normalize_fpr "$FTP_FPR")" ] || fail "the site certificate is FTPS's"
assert_eq 200 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $D" "http://$IP/")" "plain HTTP still served"
info "TLS 1.2+ only, HTTP/2"
! client_curl -o /dev/null --tls-max 1.1 --resolve "$D:443:$IP" --cacert "$crt" "https://$D/" 2>/dev/null ||
  fail "TLS 1.1 accepted"
assert_eq 2 "$(client_curl -o /dev/null -w '%{http_version}' --http2 --resolve "$D:443:$IP" --cacert "$crt" "https://$D/")" "HTTP version"
info "a name the certificate lacks fails verification"
! client_curl -o /dev/null --resolve "nope.example.net:443:$IP" --cacert "$crt" "https://nope.example.net/" 2>/dev/null ||
  fail "a certificate for another name verified"
assert_exit 0 jc --json status "$D"
assert_eq "self-signed false []" "$(json_eval "$OUT_FILE" 'd[0]["web"]["tls"] + " " + str(d[0]["web"]["https_only"]).lower() + " " + str(d[0]["web"]["aliases"])' 2>/dev/null ||
  json_eval "$OUT_FILE" 'd["web"]["tls"] + " " + str(d["web"]["https_only"]).lower() + " " + str(d["web"]["aliases"])')" "status web"

info "bad inputs: exit 2 naming the field, nothing changed (registry, files, served certificate)"
leaf good "-days 20" "DNS:$D,DNS:www.$D"
leaf wrongname "-days 20" "DNS:elsewhere.example.com"
leaf expired "-startdate 20200101000000Z -enddate 20200201000000Z" "DNS:$D,DNS:www.$D"
leaf future "-startdate 20400101000000Z -enddate 20410101000000Z" "DNS:$D,DNS:www.$D"
leaf other "-days 20" "DNS:$D,DNS:www.$D"
printf 'not a certificate\n' > "$CA/junk.pem"
openssl pkey -in "$CA/good.key" -aes128 -passout pass:secret -out "$CA/encrypted.key" 2>/dev/null
snapshot_state bad
conf_before=$(sha256sum "$JAILCTL_ROOT/jails/$D/rootfs/etc/nginx/nginx.conf" "$SITE_CRT")
bad() {  # bad FIELD-REGEX CAUSE-REGEX ARGS...
  local field=$1 cause=$2; shift 2
  assert_exit 2 jc set "$D" "$@"
  assert_ko validate "$field: .*$cause"
}
bad tls-key "does not match" --tls-cert "$CA/good.chain" --tls-key "$CA/other.key"
bad tls-cert "expired on" --tls-cert "$CA/expired.chain" --tls-key "$CA/expired.key"
bad tls-cert "not valid yet" --tls-cert "$CA/future.chain" --tls-key "$CA/future.key"
bad tls-cert "does not cover $D" --tls-cert "$CA/wrongname.chain" --tls-key "$CA/wrongname.key"
bad tls-cert "cannot read" --tls-cert "$CA/missing.pem" --tls-key "$CA/good.key"
bad tls-cert "no PEM certificate" --tls-cert "$CA/junk.pem" --tls-key "$CA/good.key"
bad tls-key "no PEM private key" --tls-cert "$CA/good.chain" --tls-key "$CA/junk.pem"
bad tls-key "encrypted" --tls-cert "$CA/good.chain" --tls-key "$CA/encrypted.key"
bad tls-key "missing" --tls-cert "$CA/good.chain"
bad https-only "not both" --https-only --no-https-only
bad tls-auto "not both" --tls-auto --tls-cert "$CA/good.chain" --tls-key "$CA/good.key"
assert_exit 2 jc create "$D2" --ip "$IP2" --size 64M --tls-cert "$CA/good.chain" --tls-key "$CA/good.key"
assert_ko validate "tls-cert: does not cover $D2"
for name in bad-.example.com "a..b.example.com" "$(printf 'x%.0s' {1..64}).example.com" 203.0.113.5 ""; do
  assert_exit 2 jc alias add "$D" "$name"
  assert_ko validate "alias: "
done
assert_exit 2 jc alias add "$D" "www.$D"
assert_ko validate "alias: www.$D is one of $D's own names"
assert_exit 2 jc alias remove "$D" not-an-alias.example.com
assert_ko validate "alias: not-an-alias.example.com is not an alias"
assert_state_unchanged bad "bad input"
assert_eq "$conf_before" "$(sha256sum "$JAILCTL_ROOT/jails/$D/rootfs/etc/nginx/nginx.conf" "$SITE_CRT")" "files after bad input"

info "--tls-cert installs the customer's own certificate, live, pinned to their CA"
http_load_start "$IP" "$D" ""
assert_exit 0 jc set "$D" --tls-cert "$CA/good.chain" --tls-key "$CA/good.key"
http_load_stop
assert_eq 0 "$LOAD_FAILED" "failed requests during the reload ($LOAD_OK passed)"
for name in "$D" "www.$D"; do
  assert_eq 200 "$(https_status "$name" --cacert "$CA/ca.pem")" "HTTPS with the customer's CA for $name"
done
served_cert "$D" > "$SANDBOX_DIR/served.crt"
assert_eq "$(cert_fpr "$CA/good.crt")" "$(cert_fpr "$SANDBOX_DIR/served.crt")" "served = the customer's certificate"
assert_exit 0 jc --json status "$D"
assert_contains "$OUT" '"tls": "custom"' "status tls"
assert_exit 0 jc status "$D"
assert_contains "$OUT" "https:     custom, http too" "status text: certificate source"
assert_contains "$OUT" "site cert: until $(openssl x509 -in "$CA/good.crt" -noout -enddate | sed 's/notAfter=//' |
  xargs -I{} date -u -d {} +%Y-%m-%dT%H:%M:%SZ), sha256 $(openssl x509 -noout -fingerprint -sha256 -in "$CA/good.crt" | sed 's/.*=//')" \
  "status text: expiry and fingerprint"
assert_exit 0 jc test "$D"

info "--https-only: HTTP answers 301 to HTTPS, except ACME's challenge"
assert_exit 0 jc set "$D" --https-only
assert_eq "301 https://$D/x?y=1" "$(client_curl -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $D" "http://$IP/x?y=1")" "redirect"
assert_eq 404 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $D" "http://$IP/.well-known/acme-challenge/none")" "ACME challenge path over HTTP"
assert_eq 200 "$(https_status "$D" --cacert "$CA/ca.pem")" "HTTPS while https-only"
assert_exit 0 jc test "$D"
assert_exit 0 jc set "$D" --no-https-only
assert_eq 200 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $D" "http://$IP/")" "HTTP again"

info "alias add: the alias answers over HTTPS with a self-signed certificate that names it"
assert_exit 0 jc create "$D2" --ip "$IP2" --size 64M
assert_exit 0 jc alias add "$D2" shop.example.org
IP_SAVE=$IP; IP=$IP2
crt2=$JAILCTL_ROOT/jails/$D2/rootfs/etc/ssl/jailctl/site.crt
cp "$crt2" "$SANDBOX_DIR/d2.crt"
for name in "$D2" "www.$D2" shop.example.org; do
  assert_eq 200 "$(https_status "$name" --cacert "$SANDBOX_DIR/d2.crt")" "HTTPS for $name"
done
IP=$IP_SAVE
assert_exit 0 jc alias list "$D2"
assert_eq $'OK\nshop.example.org' "$OUT" "alias list"
assert_exit 0 jc --json alias list "$D2"
assert_eq '["shop.example.org"]' "$(json_eval "$OUT_FILE" 'd["aliases"]')" "alias list --json"
info "an alias another jail serves is refused (exit 3, naming it), nothing changed"
snapshot_state alias
assert_exit 3 jc alias add "$D" shop.example.org
assert_ko validate "alias: shop.example.org is already served by jail $D2"
assert_exit 3 jc alias add "$D" "www.$D2"
assert_ko validate "already served by jail $D2"
assert_state_unchanged alias "refused alias"
info "alias on a stopped jail, and on a custom certificate (kept, with a warning)"
assert_exit 0 jc alias add "$D" "shop.$D"
assert_contains "$OUT" "warning:" "custom certificate kept with a warning"
info "set --tls-auto: back from the customer's certificate to a self-signed one naming every name (ACME off)"
assert_exit 0 jc set "$D" --tls-auto
assert_not_contains "$OUT" "warning:" "set --tls-auto without ACME"
crt=$(installed_crt)
assert_eq "$(openssl x509 -in "$crt" -noout -subject | sed 's/^subject=//')" \
  "$(openssl x509 -in "$crt" -noout -issuer | sed 's/^issuer=//')" "the new certificate is self-signed"
for name in "$D" "www.$D" "shop.$D"; do
  assert_eq 200 "$(https_status "$name" --cacert "$crt")" "HTTPS for $name after --tls-auto"
done
[ "$(cert_fpr "$crt")" != "$(cert_fpr "$CA/good.crt")" ] || fail "--tls-auto kept the customer's certificate"
assert_exit 0 jc status "$D"
assert_contains "$OUT" "https:     self-signed, http too" "status text after --tls-auto"
assert_contains "$OUT" "aliases:   shop.$D" "status text: aliases"
assert_contains "$OUT" ", self-signed" "status text: the certificate is self-signed"
assert_exit 0 jc stop "$D2"
assert_exit 0 jc alias remove "$D2" shop.example.org
assert_exit 0 jc start "$D2"
cp "$crt2" "$SANDBOX_DIR/d2.crt"
! openssl x509 -in "$SANDBOX_DIR/d2.crt" -noout -ext subjectAltName | grep -q shop.example.org ||
  fail "the self-signed certificate still names the removed alias"
assert_exit 0 jc test "$D2"
assert_exit 0 jc --json status "$D2"
assert_contains "$OUT" '"aliases": []' "status after remove"

assert_exit 0 jc destroy --force "$D2"
assert_exit 0 jc destroy --force "$D"
echo "PASS https"
