# shellcheck shell=bash disable=SC2015  # "check && blocked || weak": blocked only echoes
# Security: from inside jail A, as its root, reach jail B or the network as someone else: read
# B's files, signal B's processes, bind to B's IP, send with a forged source address (B's IP,
# or an address of nobody), make the host answer ARP for an address that is not A's.
# Every attempt is first shown to work on something A may do, then on the forbidden target.
# Prints "blocked: <what> (<evidence>)" per attempt; a weakness fails the test.
set -euo pipefail
A=a.example.net IPA=203.0.113.30
B=b.example.net IPB=203.0.113.31
FORGED=203.0.113.99      # nobody's address, in the uplink's subnet
CLIENT_IP=203.0.113.254
source "$TESTS_DIR/security/attempts.bash"
require_python3

info "jails $A and $B"
assert_exit 0 jc create "$A" --ip "$IPA" --size 64M
assert_exit 0 jc create "$B" --ip "$IPB" --size 64M
RB=$JAILS/$B/rootfs

info "read B's files from A"
jin "$B" sh -c 'echo b-secret > /root/secret; echo b-secret > /srv/site/www/secret.txt; chmod 644 /root/secret'
try jin "$A" cat /etc/passwd /etc/hostname
[ "$TRY_RC" = 0 ] || fail "control: A cannot read its own files: $TRY_OUT"
for path in "$RB/root/secret" "$RB/srv/site/www/secret.txt" "$JAILS/$B/disk.img" "$JAILS/$B/credentials"; do
  try jin "$A" cat "$path"
  if [[ "$TRY_OUT" == *b-secret* ]] || [ "$TRY_RC" = 0 ]; then weak "A read $path"
  else blocked "A reads B's $path ($(msg))"; fi
done
try jin "$A" sh -c "for p in /proc/[0-9]*; do cat \$p/root/root/secret \$p/root$RB/root/secret 2>/dev/null; done; true"
[[ "$TRY_OUT" != *b-secret* ]] || weak "A read B's /root/secret through /proc/<pid>/root"
blocked "A reads B's files through /proc/<every visible pid>/root (not there)"

info "signal B's processes from A"
B_INIT=$(lxc-info -P "$JAILS" -n "$B" -p -H)
B_NGINX=$(pgrep -P "$B_INIT" -x nginx | head -n 1)
[ -n "$B_NGINX" ] || fail "control: cannot find B's nginx (children of B's init $B_INIT)"
try jin "$A" kill -0 1
[ "$TRY_RC" = 0 ] || fail "control: A cannot signal its own init: $TRY_OUT"
for pid in "$B_INIT" "$B_NGINX"; do
  try jin "$A" kill -TERM "$pid"
  [ "$TRY_RC" != 0 ] && blocked "A kills B's host pid $pid ($(msg))" || weak "A signalled B's host pid $pid"
done
kill -0 "$B_NGINX" || weak "B's nginx $B_NGINX died"
try jin "$A" ps -e -o comm=
n_a=$(wc -l <<<"$TRY_OUT")
[ "$n_a" -le 6 ] || weak "A sees $n_a processes (its own are ~4): $TRY_OUT"
client_curl -H "Host: $B" "http://$IPB/" | grep -qF "$B" || weak "B no longer answers HTTP after A's attempts"

info "bind to B's IP from A"
bind_py='import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind((sys.argv[1], 18080)); print("ok bind", sys.argv[1])
except OSError as e:
    import errno; print("err", errno.errorcode[e.errno], sys.argv[1]); sys.exit(1)'
try jin "$A" /usr/bin/python3 -c "$bind_py" "$IPA"
[ "$TRY_RC" = 0 ] || fail "control: A cannot bind its own IP: $TRY_OUT"
try jin "$A" /usr/bin/python3 -c "$bind_py" "$IPB"
[ "$TRY_RC" != 0 ] && blocked "A binds B's IP $IPB (${TRY_OUT%% *} $(cut -d' ' -f2 <<<"$TRY_OUT"))" ||
  weak "A bound B's IP $IPB"

info "forged source addresses (UDP to a listener on the client)"
# the listener prints the source address of every datagram it receives
LOG=$SANDBOX_DIR/udp.log
$CLIENT /usr/bin/python3 -u -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9999))
while True:
    data, src = s.recvfrom(2048)
    print(src[0], data.decode(errors="replace"), flush=True)' "$CLIENT_IP" > "$LOG" 2>&1 &
LISTENER=$!
send_py='import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(3): s.sendto(("from-" + sys.argv[1]).encode(), (sys.argv[2], 9999))
print("sent")'
sleep 0.5
jin "$A" /usr/bin/python3 -c "$send_py" "$IPA" "$CLIENT_IP" >/dev/null
retry 5 grep -q "^$IPA from-$IPA" "$LOG" || fail "control: the client did not receive A's own datagram: $(cat "$LOG")"
VETH_A=$(sed -n 's/^lxc.net.0.veth.pair = //p' "$JAILS/$A/config")
rx_of() { awk -v d="$1:" '$1 == d {print $3}' /proc/net/dev; }   # packets received by the host
rx_before=$(rx_of "$VETH_A")
# A's root has CAP_NET_ADMIN in its own netns: it can put any address on its eth0
for ip in "$IPB" "$FORGED"; do
  try jin "$A" ip addr add "$ip/32" dev eth0
  [ "$TRY_RC" = 0 ] || fail "control: A cannot add $ip to its eth0: $TRY_OUT"
  try jin "$A" /usr/bin/python3 -c "$send_py" "$ip" "$CLIENT_IP"
  [ "$TRY_RC" = 0 ] || fail "control: A cannot send from $ip: $TRY_OUT"
done
sleep 1
rx_after=$(rx_of "$VETH_A")
[ $((rx_after - rx_before)) -ge 6 ] ||
  fail "control: the forged datagrams did not even reach the host's $VETH_A (rx $rx_before -> $rx_after)"
rpf="rp_filter: $VETH_A=$(sysctl -n "net.ipv4.conf.$VETH_A.rp_filter") all=$(sysctl -n net.ipv4.conf.all.rp_filter)"
for ip in "$IPB" "$FORGED"; do
  if grep -q "from-$ip" "$LOG"; then
    weak "forged source $ip from A reached the client (anti-spoofing: strict rp_filter on the host veth missing): $(grep "from-$ip" "$LOG" | head -n 1)"
  else blocked "A sends with forged source $ip (reached the host's $VETH_A, dropped there, $rpf; the client got only: $(cut -d' ' -f1 "$LOG" | sort -u | tr '\n' ' '))"; fi
done
kill "$LISTENER"; wait "$LISTENER" 2>/dev/null || true

info "ARP: the host answers only for the jails' own addresses"
uplink_mac=$(ip -o link show uplink0 | grep -o "link/ether [0-9a-f:]*" | cut -d" " -f2)
# A announces B's address and a foreign one (gratuitous ARP) and asks its netns to proxy them
arp_py='import socket,struct,sys
ifname, mac = "eth0", bytes.fromhex(open("/sys/class/net/eth0/address").read().strip().replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((ifname, 0))
for ip in sys.argv[1:]:
    a = socket.inet_aton(ip)
    for op in (1, 2):   # gratuitous request and reply
        pkt = b"\xff"*6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac + a + b"\xff"*6 + a
        s.send(pkt)
print("sent")'
try jin "$A" /usr/bin/python3 -c "$arp_py" "$IPB" "$FORGED"
[ "$TRY_RC" = 0 ] || fail "control: A cannot send raw ARP on its eth0: $TRY_OUT"
for ip in "$IPB" "$FORGED"; do
  try jin "$A" ip neigh add proxy "$ip" dev eth0
done
sleep 0.5
proxies=$(ip neigh show proxy dev uplink0 | awk '{print $1}' | sort | tr '\n' ' ')
assert_eq "$IPA $IPB " "$proxies" "proxy ARP entries on the uplink after A's attempts"
# the client resolves A's and B's addresses to the host, but gets no answer for the foreign one
$CLIENT ip neigh flush dev cl0 >/dev/null 2>&1 || true
client_curl --max-time 3 -o /dev/null -H "Host: $A" "http://$IPA/" || fail "control: the client cannot reach $IPA"
client_curl --max-time 2 -o /dev/null "http://$FORGED/" >/dev/null 2>&1 || true   # ARP who-has $FORGED
a_mac=$($CLIENT ip neigh show "$IPA" dev cl0 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
assert_eq "$uplink_mac" "$a_mac" "control: the client's ARP entry for $IPA"
f_entry=$($CLIENT ip neigh show "$FORGED" dev cl0)
if [[ "$f_entry" == *lladdr* ]]; then weak "the client resolved $FORGED (nobody's address) to a MAC: $f_entry"
else blocked "A makes the host answer ARP for $FORGED (proxy entries: $proxies; client: ${f_entry:-no entry})"; fi
page=$(client_curl -H "Host: $B" "http://$IPB/") || true
[[ "$page" == *"$B"* ]] && blocked "A hijacks B's address by ARP (B still answers HTTP at $IPB)" ||
  weak "B's HTTP at $IPB broken after A's ARP announcements"

assert_exit 0 jc destroy --force "$A"
assert_exit 0 jc destroy --force "$B"
verdict "neighbours: all attempts blocked"
