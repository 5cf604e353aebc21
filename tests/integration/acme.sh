# Automatic certificates (issue 12): a real ACME CA (Debian's pebble, with pebble-challtestsrv
# as its DNS) on the customer network, trusted through host.conf's acme_ca_bundle. create
# answers over HTTPS with a Pebble-issued certificate for DOMAIN and www.DOMAIN before OK;
# renew replaces a certificate that is due while a client polls every 20 ms without one failed
# request; alias add orders a certificate that names the alias (alias remove one without it); a
# clone, a restore under a new domain and an import-site get one for their own names;
# with the CA down create is still OK (self-signed, a warning) and renew issues later; a
# customer's own certificate is never replaced by renew, and set --tls-auto goes back to ACME. Pebble rejects 5 % of good nonces throughout
# (its default): uacme must retry them.
set -euo pipefail
source "$TESTS_DIR/integration/acme.bash"
trap acme_cleanup EXIT

A=shop.example.com A_IP=203.0.113.71
B=late.example.com B_IP=203.0.113.72
C=own.example.com C_IP=203.0.113.73

info "ACME off: host check says so, renew --all has nothing to do"
# host check's acme line as "STATE OK": the sandbox's host is not prepared (exit 4), that is fine
acme_check() {
  jc host check --json > "$SANDBOX_DIR/check.json" || true
  json_eval "$SANDBOX_DIR/check.json" '" ".join(str(x) for c in d["checks"] if c["name"] == "acme" for x in (c["state"], c["ok"]))'
}
assert_eq "off True" "$(acme_check)" "acme before host.conf names a CA"
assert_exit 0 jc renew --all
assert_contains "$OUT" "ACME is off"

challtestsrv_start
pebble_start
for d in $A www.$A; do dns_a "$d" "$A_IP"; done
for d in $B www.$B; do dns_a "$d" "$B_IP"; done
acme_host_conf
assert_eq "OK True" "$(acme_check)" "acme once host.conf names Pebble"

info "create: a Pebble certificate for $A and www.$A before OK"
assert_exit 0 jc create "$A" --ip "$A_IP" --size 64M --sparse
assert_not_contains "$OUT" "warning"
for name in $A www.$A; do https_ok "$A_IP" "$name" || fail "https://$name/ does not verify against Pebble's root"; done
served_https_cert "$A_IP" "$A" "$SANDBOX_DIR/a1.pem"
assert_match "$(openssl x509 -in "$SANDBOX_DIR/a1.pem" -noout -issuer)" "Pebble" "issuer of $A's certificate"
[ "$(stat -c %a "$JAILCTL_ROOT/acme")" = 700 ] || fail "$JAILCTL_ROOT/acme is not mode 0700"
[ -z "$(ls -A "$JAILCTL_ROOT/jails/$A/rootfs/var/lib/acme-challenge")" ] || fail "a challenge token was left in the jail"
info "the customer cannot answer a challenge: www/.well-known/acme-challenge is not what nginx serves"
mkdir -p "$JAILCTL_ROOT/jails/$A/rootfs/srv/site/www/.well-known/acme-challenge"
echo forged > "$JAILCTL_ROOT/jails/$A/rootfs/srv/site/www/.well-known/acme-challenge/forged"
assert_eq 404 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $A" "http://$A_IP/.well-known/acme-challenge/forged")" "a customer's own token"
assert_exit 0 jc test "$A"

info "renew: not due, then due (--days beyond its expiry) while a client polls every 20 ms"
assert_exit 0 jc renew "$A"
assert_match "$OUT" "$A: not-due"
rm -f "$SANDBOX_DIR/poll.stop" "$SANDBOX_DIR/poll.ok" "$SANDBOX_DIR/poll.fail" "$SANDBOX_DIR/poll.err"
$CLIENT bash -c 'while [ ! -e "$1/poll.stop" ]; do
    if curl -sS -f --max-time 5 --cacert "$2" --resolve "$3:443:$4" -o /dev/null "https://$3/" 2>>"$1/poll.err"; then echo >> "$1/poll.ok"
    else echo "$(date +%T.%N) curl exit $?: $(tail -1 "$1/poll.err")" >> "$1/poll.fail"; fi
    sleep 0.02
  done' _ "$SANDBOX_DIR" "$PEBBLE_DIR/root.pem" "$A" "$A_IP" &
POLL_PID=$!
sleep 1
assert_exit 0 jc renew "$A" --days 3650 --json
touch "$SANDBOX_DIR/poll.stop"; wait "$POLL_PID"; touch "$SANDBOX_DIR/poll.ok" "$SANDBOX_DIR/poll.fail"
assert_eq renewed "$(json_eval "$OUT_FILE" 'd["jails"][0]["result"]')" "renew's result for $A"
served_https_cert "$A_IP" "$A" "$SANDBOX_DIR/a2.pem"
[ "$(cert_fpr "$SANDBOX_DIR/a1.pem")" != "$(cert_fpr "$SANDBOX_DIR/a2.pem")" ] || fail "renew did not replace the served certificate"
assert_eq 0 "$(wc -l < "$SANDBOX_DIR/poll.fail")" "failed HTTPS requests during renew ($(cat "$SANDBOX_DIR/poll.fail"))"
[ "$(wc -l < "$SANDBOX_DIR/poll.ok")" -ge 10 ] || fail "the poller made too few requests to prove anything"

info "alias add: the alias answers over HTTPS with a new Pebble certificate that names it, before OK"
AL=blog.example.org
dns_a "$AL" "$A_IP"
assert_exit 0 jc alias add "$A" "$AL"
assert_not_contains "$OUT" "warning"
for name in $A www.$A $AL; do https_ok "$A_IP" "$name" || fail "https://$name/ does not verify after alias add"; done
served_https_cert "$A_IP" "$AL" "$SANDBOX_DIR/al.pem"
assert_match "$(openssl x509 -in "$SANDBOX_DIR/al.pem" -noout -issuer)" "Pebble" "issuer after alias add"
assert_contains "$(openssl x509 -in "$SANDBOX_DIR/al.pem" -noout -ext subjectAltName)" "DNS:$AL" "SAN after alias add"
info "alias remove: a new Pebble certificate without it"
assert_exit 0 jc alias remove "$A" "$AL"
served_https_cert "$A_IP" "$A" "$SANDBOX_DIR/a3.pem"
assert_match "$(openssl x509 -in "$SANDBOX_DIR/a3.pem" -noout -issuer)" "Pebble" "issuer after alias remove"
assert_not_contains "$(openssl x509 -in "$SANDBOX_DIR/a3.pem" -noout -ext subjectAltName)" "$AL" "SAN after alias remove"
for name in $A www.$A; do https_ok "$A_IP" "$name" || fail "https://$name/ does not verify after alias remove"; done
assert_exit 0 jc --json status "$A"
assert_eq "acme" "$(json_eval "$OUT_FILE" 'd[0]["web"]["tls"]')" "tls source after the aliases"

info "clone of an ACME site: the clone gets a Pebble certificate for its own names, before OK"
A2=copy.example.com A2_IP=203.0.113.74
for d in $A2 www.$A2; do dns_a "$d" "$A2_IP"; done
assert_exit 0 jc clone "$A" "$A2" --ip "$A2_IP"
assert_not_contains "$OUT" "warning"
for name in $A2 www.$A2; do https_ok "$A2_IP" "$name" || fail "https://$name/ (the clone) does not verify against Pebble's root"; done
assert_exit 0 jc --json status "$A2"
assert_eq "acme" "$(json_eval "$OUT_FILE" 'd[0]["web"]["tls"]')" "tls source of the clone"
assert_exit 0 jc destroy --force "$A2"
info "restore of its backup under a new domain: a Pebble certificate for the new names, before OK"
R=moved.example.com R_IP=203.0.113.75
for d in $R www.$R; do dns_a "$d" "$R_IP"; done
assert_exit 0 jc --json backup "$A"
assert_exit 0 jc restore "$(json_eval "$OUT_FILE" 'd["file"]')" --domain "$R" --ip "$R_IP"
assert_not_contains "$OUT" "warning"
for name in $R www.$R; do https_ok "$R_IP" "$name" || fail "https://$name/ (the restore) does not verify against Pebble's root"; done
assert_exit 0 jc --json status "$R"
assert_eq "acme" "$(json_eval "$OUT_FILE" 'd[0]["web"]["tls"]')" "tls source of the restore under a new domain"
assert_exit 0 jc destroy --force "$R"

info "import-site: the imported site gets a Pebble certificate for its names, before OK"
S=imported.example.com S_IP=203.0.113.76
for d in $S www.$S; do dns_a "$d" "$S_IP"; done
mkdir -p "$SANDBOX_DIR/site" && echo "imported page" > "$SANDBOX_DIR/site/index.html"
assert_exit 0 jc import-site "$S" --ip "$S_IP" --size 64M --from "$SANDBOX_DIR/site"
assert_not_contains "$OUT" "warning"
for name in $S www.$S; do https_ok "$S_IP" "$name" || fail "https://$name/ (import-site) does not verify against Pebble's root"; done
assert_exit 0 jc --json status "$S"
assert_eq "acme" "$(json_eval "$OUT_FILE" 'd[0]["web"]["tls"]')" "tls source of the imported site"
assert_exit 0 jc destroy --force "$S"

info "ACME down: create is OK with the self-signed certificate and a warning"
pebble_stop
assert_exit 0 jc create "$B" --ip "$B_IP" --size 64M --sparse --json
assert_contains "$(json_eval "$OUT_FILE" 'd["warnings"]')" "renew $B"
served_https_cert "$B_IP" "$B" "$SANDBOX_DIR/b1.pem"
assert_eq "$(openssl x509 -in "$SANDBOX_DIR/b1.pem" -noout -subject | sed 's/^subject=//')" \
  "$(openssl x509 -in "$SANDBOX_DIR/b1.pem" -noout -issuer | sed 's/^issuer=//')" "self-signed certificate of $B"
assert_exit 5 jc renew --all
assert_contains "$ERR" "KO  $B"
info "the CA back (a new Pebble: new root, no account): renew issues it"
pebble_start
assert_exit 0 jc renew "$B"
assert_match "$OUT" "$B: renewed"
for name in $B www.$B; do https_ok "$B_IP" "$name" || fail "https://$name/ does not verify after renew"; done

info "a customer's own certificate is never replaced"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 20 -subj "/CN=$C" \
  -addext "subjectAltName=DNS:$C,DNS:www.$C" -keyout "$SANDBOX_DIR/c.key" -out "$SANDBOX_DIR/c.pem" 2>/dev/null
assert_exit 0 jc create "$C" --ip "$C_IP" --size 64M --sparse --tls-cert "$SANDBOX_DIR/c.pem" --tls-key "$SANDBOX_DIR/c.key"
assert_exit 0 jc renew "$C" --days 3650
assert_match "$OUT" "$C: skipped"
served_https_cert "$C_IP" "$C" "$SANDBOX_DIR/c1.pem"
assert_eq "$(cert_fpr "$SANDBOX_DIR/c.pem")" "$(cert_fpr "$SANDBOX_DIR/c1.pem")" "$C's certificate after renew"
info "set --tls-auto: from the customer's certificate to a Pebble one"
for d in $C www.$C; do dns_a "$d" "$C_IP"; done
assert_exit 0 jc set "$C" --tls-auto
assert_not_contains "$OUT" "warning"
for name in $C www.$C; do https_ok "$C_IP" "$name" || fail "https://$name/ does not verify after set --tls-auto"; done
assert_exit 0 jc --json status "$C"
assert_eq "acme" "$(json_eval "$OUT_FILE" 'd[0]["web"]["tls"]')" "tls source after set --tls-auto"

info "bad input: renew without a jail, with both, with --days 0"
assert_exit 2 jc renew
assert_exit 2 jc renew "$A" --all
assert_exit 2 jc renew "$A" --days 0
assert_exit 0 jc renew --all
echo "PASS acme"
