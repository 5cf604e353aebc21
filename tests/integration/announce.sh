# A restarted jail is announced: a customer whose lookup of the jail's address failed while it was
# stopped must not wait for its own ARP retry (1 s) once it is back. Right after `start` returns,
# the client's neighbour entry for the address holds the uplink's MAC again (the gratuitous ARP
# updated it) although the client sent nothing since. Without the announcement it stays FAILED.
# (The veth side, the gateway's ARP request into the jail, is measured by bench/compare-lxc's
# hot mode: start's own HTTP check resolves the host's entry anyway, so no test can see it.)
set -euo pipefail
D=announce.example.com IP=203.0.113.40
uplink_mac=$(ip -o link show uplink0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$uplink_mac" ] || fail "no MAC address on uplink0"
client_neigh() { $CLIENT ip neigh show "$IP" dev cl0; }

assert_exit 0 jc create "$D" --ip "$IP" --size 64M
assert_exit 0 jc stop "$D"
info "the client tries the stopped jail until its lookup fails"
$CLIENT ip neigh flush dev cl0
$CLIENT curl -s --max-time 4 -o /dev/null "http://$IP/" && fail "a stopped jail answered"
retry 10 bash -c "[[ \"\$($CLIENT ip neigh show $IP dev cl0)\" == *FAILED* ]]" ||
  fail "the client's entry for $IP never became FAILED: $(client_neigh)"
info "client entry while stopped: $(client_neigh)"

assert_exit 0 jc start "$D"
entry=$(client_neigh)
info "client entry right after start: $entry"
assert_contains "$entry" "lladdr $uplink_mac" "the client's neighbour entry after start"
assert_not_contains "$entry" "FAILED" "the client's neighbour entry after start"

client_curl -o /dev/null "http://$IP/" || fail "the jail does not answer after start"
