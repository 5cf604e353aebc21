# The demo, run inside the test sandbox by scripts/demo.sh: one real jail, used the way a
# customer would use it, then removed. Plain words for a first-time reader.
set -euo pipefail
D=demo.example.com IP=203.0.113.20

if [ -t 1 ]; then bold=$'\033[1m' off=$'\033[0m'; else bold='' off=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }

cat <<EOF
This demo runs in a private test network: this namespace plays the ISP's server (uplink0,
203.0.113.1), a second one plays a customer on the internet (203.0.113.254). Your real network,
/etc and mounts are not touched.
EOF

say "1. Create the jail: domain $D, address $IP, a 128 MiB disk"
start=$(date +%s%N)
show "$JAILCTL" --root "$JAILCTL_ROOT" create "$D" --ip "$IP" --size 128M | tee "$SANDBOX_DIR/create.out"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "(created, started and tested from outside in $ms ms)"
parse_create_output "$SANDBOX_DIR/create.out"

say "2. The customer's browser asks for http://$D/ (from the customer network, with curl)"
show $CLIENT curl -sS --max-time 10 -H "Host: $D" "http://$IP/"

say "3. The customer uploads a page with FTP over TLS, using the printed user and password"
cat > "$SANDBOX_DIR/index-demo.html" <<EOF
<!doctype html><title>$D</title><h1>Uploaded by the customer over FTPS</h1>
EOF
cert="$SANDBOX_DIR/served.crt"
$CLIENT openssl s_client -starttls ftp -connect "$IP:21" </dev/null 2>/dev/null | openssl x509 -outform PEM > "$cert"
echo "the server's certificate:   sha256 $(cert_fpr "$cert")"
echo "the fingerprint create printed: sha256 $(normalize_fpr "$FTP_FPR")"
[ "$(cert_fpr "$cert")" = "$(normalize_fpr "$FTP_FPR")" ] && echo "-> they match: the customer talks to the right server"
pin="sha256//$(openssl x509 -in "$cert" -noout -pubkey | openssl pkey -pubin -outform DER |
  openssl dgst -sha256 -binary | base64)"
show $CLIENT curl -sS --max-time 20 --ssl-reqd --insecure --pinnedpubkey "$pin" \
  --user "$FTP_USER:$FTP_PASS" -T "$SANDBOX_DIR/index-demo.html" "ftp://$IP/www/demo.html"
echo "-> upload done (curl exit 0)"

say "4. The uploaded page, served over HTTP, and over HTTPS with the site's certificate"
show $CLIENT curl -sS --max-time 10 -H "Host: $D" "http://$IP/demo.html"
site="$JAILCTL_ROOT/jails/$D/rootfs/etc/ssl/jailctl/site.crt"   # self-signed until the customer brings one
show $CLIENT curl -sS --max-time 10 --cacert "$site" --resolve "$D:443:$IP" "https://$D/demo.html"

say "5. The operator's view"
show "$JAILCTL" --root "$JAILCTL_ROOT" status
echo "the task's log: $LOG_PATH (first lines):"
head -n 5 "$LOG_PATH"

say "6. Remove the jail"
show "$JAILCTL" --root "$JAILCTL_ROOT" destroy --force "$D"
show "$JAILCTL" --root "$JAILCTL_ROOT" status

say "What happened"
cat <<EOF
jailctl turned three inputs (domain, IPv4 address, disk size) into a running web + FTP jail:
an unprivileged LXC container on its own 128 MiB ext4 disk image, reachable at $IP through
proxy ARP and a host route, serving $D with nginx and accepting FTP logins only over TLS.
It tested the site itself before saying OK; the customer's own curl then proved the printed
credentials work, uploaded a page and fetched it over HTTP and HTTPS. destroy removed the container,
disk, route and ARP entry; the sandbox has just checked that nothing was left behind.
EOF
