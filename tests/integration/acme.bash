# tests/integration/acme.bash — a real ACME CA for the sandbox: Debian's pebble and
# pebble-challtestsrv (its DNS) on the client network, sourced by tests/integration/acme.sh.
#
#   client netns 203.0.113.254: pebble ACME :14000, management :15000; challtestsrv DNS :8053,
#   management :8055. Pebble validates HTTP-01 on port 80 of the address challtestsrv gives
#   for the name: the jail's, reached over the customer network like any visitor.
#
# pebble_start writes PEBBLE_DIR/ca.pem (the CA of Pebble's own HTTPS endpoint, made here with
# openssl: the package ships none) and, once up, PEBBLE_DIR/root.pem (the root Pebble issues
# under: a new one at every start, from the management port). Every process is stopped by PID
# (pebble_stop, challtestsrv_stop), also at exit (acme_cleanup in the test's EXIT trap).

readonly PEBBLE_IP=203.0.113.254
readonly PEBBLE_DIRECTORY="https://$PEBBLE_IP:14000/dir"
PEBBLE_DIR="$SANDBOX_DIR/pebble"
PEBBLE_PID='' CHALLTESTSRV_PID=''

# The CA that signs Pebble's endpoint certificate (host.conf's acme_ca_bundle trusts it).
_pebble_endpoint_cert() {
  mkdir -p "$PEBBLE_DIR"
  [ -s "$PEBBLE_DIR/ca.pem" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=sandbox ACME endpoint CA" \
    -keyout "$PEBBLE_DIR/ca.key" -out "$PEBBLE_DIR/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$PEBBLE_IP" \
    -keyout "$PEBBLE_DIR/endpoint.key" -out "$PEBBLE_DIR/endpoint.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$PEBBLE_IP" \
    > "$PEBBLE_DIR/endpoint.ext"
  openssl x509 -req -in "$PEBBLE_DIR/endpoint.csr" -CA "$PEBBLE_DIR/ca.pem" -CAkey "$PEBBLE_DIR/ca.key" \
    -CAcreateserial -days 2 -extfile "$PEBBLE_DIR/endpoint.ext" -out "$PEBBLE_DIR/endpoint.pem" 2>/dev/null
  cat > "$PEBBLE_DIR/config.json" <<EOF
{
  "pebble": {
    "listenAddress": "$PEBBLE_IP:14000",
    "managementListenAddress": "$PEBBLE_IP:15000",
    "certificate": "$PEBBLE_DIR/endpoint.pem",
    "privateKey": "$PEBBLE_DIR/endpoint.key",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
}

challtestsrv_start() {
  $CLIENT pebble-challtestsrv -dns01 "$PEBBLE_IP:8053" -management "$PEBBLE_IP:8055" -http01 '' -https01 '' \
    -tlsalpn01 '' -defaultIPv4 '' -defaultIPv6 '' > "$SANDBOX_DIR/challtestsrv.log" 2>&1 &
  CHALLTESTSRV_PID=$!
  retry 10 $CLIENT curl -s -o /dev/null "http://$PEBBLE_IP:8055/" || fail "pebble-challtestsrv did not start: $(cat "$SANDBOX_DIR/challtestsrv.log")"
}
challtestsrv_stop() { [ -z "$CHALLTESTSRV_PID" ] || { kill "$CHALLTESTSRV_PID" 2>/dev/null; wait "$CHALLTESTSRV_PID" 2>/dev/null || true; }; CHALLTESTSRV_PID=''; }

# dns_a NAME IP: challtestsrv answers A queries for NAME with IP (what Pebble validates against).
dns_a() {
  $CLIENT curl -s -f -X POST -d "{\"host\":\"$1.\",\"addresses\":[\"$2\"]}" "http://$PEBBLE_IP:8055/add-a" >/dev/null ||
    fail "challtestsrv refused the A record $1 -> $2"
}

# pebble_start [nonce-reject-percent]: Pebble with validation at once (no random sleep); the
# default rejects 5 % of good nonces (PEBBLE_WFE_NONCEREJECT), which a real client must retry.
pebble_start() {
  _pebble_endpoint_cert
  local env=(PEBBLE_VA_NOSLEEP=1)
  [ -z "${1:-}" ] || env+=("PEBBLE_WFE_NONCEREJECT=$1")
  $CLIENT env "${env[@]}" pebble -config "$PEBBLE_DIR/config.json" -dnsserver "$PEBBLE_IP:8053" \
    >> "$SANDBOX_DIR/pebble.log" 2>&1 &
  PEBBLE_PID=$!
  retry 15 $CLIENT curl -s -f --cacert "$PEBBLE_DIR/ca.pem" -o /dev/null "$PEBBLE_DIRECTORY" ||
    fail "pebble did not start: $(tail -5 "$SANDBOX_DIR/pebble.log")"
  $CLIENT curl -s -f --cacert "$PEBBLE_DIR/ca.pem" -o "$PEBBLE_DIR/root.pem" "https://$PEBBLE_IP:15000/roots/0" ||
    fail "pebble's management port gave no root"
  grep -q 'BEGIN CERTIFICATE' "$PEBBLE_DIR/root.pem" || fail "pebble's root is not PEM: $(cat "$PEBBLE_DIR/root.pem")"
}
pebble_stop() { [ -z "$PEBBLE_PID" ] || { kill "$PEBBLE_PID" 2>/dev/null; wait "$PEBBLE_PID" 2>/dev/null || true; }; PEBBLE_PID=""; }

acme_cleanup() { pebble_stop; challtestsrv_stop; }

# acme_host_conf: host.conf of the sandbox with the ACME keys pointing at this Pebble.
acme_host_conf() {
  cat >> "$JAILCTL_ROOT/host.conf" <<EOF
acme_directory = $PEBBLE_DIRECTORY
acme_email = hostmaster@example.net
acme_ca_bundle = $PEBBLE_DIR/ca.pem
EOF
}

# served_https_cert IP NAME FILE: the certificate the jail's nginx presents for NAME (SNI).
served_https_cert() {
  $CLIENT openssl s_client -connect "$1:443" -servername "$2" </dev/null 2>/dev/null | openssl x509 -outform PEM > "$3"
}

# https_ok IP NAME: GET https://NAME/ verified against Pebble's current root, for NAME only.
https_ok() {
  client_curl -f -o /dev/null --cacert "$PEBBLE_DIR/root.pem" --resolve "$2:443:$1" "https://$2/"
}
