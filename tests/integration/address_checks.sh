# Issue 14, defects 2 and 3: the address a jail is given is checked on the customer network.
#   3. outside every uplink subnet (198.51.100.0/24 here): exit 2 naming the address and the
#      subnet, unless --routed (then OK with a warning in the text and a "warnings" array in JSON);
#   2. already answered for on the uplink (the client's own 203.0.113.254): ARP probes find it,
#      exit 3 naming the address and the MAC that answered (the probe runs while the jail is
#      made, and its verdict is taken before the address is announced), no change at all; --force-ip takes
#      it anyway and the task log says so; a free address is still OK, and starting a stopped
#      jail whose address is free does not conflict with itself; a stopped jail whose address
#      was taken meanwhile is not started.
set -euo pipefail
require_python3
NEIGHBOUR=203.0.113.254
NEIGHBOUR_MAC=$($CLIENT ip -o link show cl0 | grep -oE "link/ether [0-9a-f:]+" | cut -d" " -f2)  # ip, not /sys: $CLIENT enters only the netns
snapshot_state

info "3: an address outside the uplink's subnet is refused without --routed"
assert_exit 2 jc create routed.example.com --ip 198.51.100.20 --size 64M --sparse
assert_ko validate 'ip: 198\.51\.100\.20 is outside the uplink.s subnet 203\.0\.113\.0/24.*--routed'
assert_state_unchanged default "state after a refused off-subnet address"

info "2: the neighbour's address is refused (ARP probe answered)"
assert_exit 3 jc create taken.example.com --ip "$NEIGHBOUR" --size 64M --sparse
# (probed while the jail is made: the start step, before the address is announced, fails and is undone)
assert_ko start "ip: 203\.0\.113\.254 is already in use on uplink0: $NEIGHBOUR_MAC answered an ARP probe.*--force-ip"
assert_state_unchanged default "state after a refused address in use"
assert_exit 3 jc --json create taken.example.com --ip "$NEIGHBOUR" --size 64M --sparse
assert_json "$OUT_FILE"
assert_eq "KO" "$(json_eval "$OUT_FILE" 'd["result"]')" "--json result"
assert_contains "$(json_eval "$OUT_FILE" 'd["error"]["message"]')" "$NEIGHBOUR_MAC" "--json error message"
assert_state_unchanged default "state after a refused address in use (--json)"

info "2: with --keep-on-failure the refused jail is kept, stopped, never answering for the neighbour's address"
assert_exit 3 jc create kept.example.com --ip "$NEIGHBOUR" --size 64M --sparse --keep-on-failure
assert_ko start "ip: 203\.0\.113\.254 is already in use"
[ -z "$(ip route show 203.0.113.254/32)" ] || fail "a route to the neighbour's address was left: $(ip route show 203.0.113.254/32)"
[ -z "$(ip neigh show proxy 203.0.113.254)" ] || fail "a proxy ARP entry for the neighbour's address was left"
assert_exit 0 jc --json status kept.example.com
assert_not_contains "$(json_eval "$OUT_FILE" 'd[0]["state"]')" "running" "the kept jail's state"
if lxc-info -P "$JAILCTL_ROOT/jails" -n kept.example.com -s 2>/dev/null | grep -q RUNNING; then fail "the kept jail runs"; fi
assert_exit 0 jc destroy --force kept.example.com
assert_state_unchanged default "state after the kept jail's destroy"

info "2: a free address is OK, without warnings"
assert_exit 0 jc --json create free.example.com --ip 203.0.113.30 --size 64M --sparse
assert_eq "[]" "$(json_eval "$OUT_FILE" 'd["warnings"]')" "warnings of a free address"

info "3: --routed accepts the off-subnet address, with a warning"
assert_exit 0 jc --json create routed.example.com --ip 198.51.100.20 --size 64M --sparse --routed
assert_match "$(json_eval "$OUT_FILE" 'd["warnings"][0]')" '^ip: 198\.51\.100\.20 is outside the uplink.s subnet 203\.0\.113\.0/24' "JSON warning"
assert_exit 0 jc clone routed.example.com routed2.example.com --ip 198.51.100.21 --routed
assert_contains "$OUT" "warning:   ip: 198.51.100.21 is outside the uplink's subnet" "text output of clone --routed"
assert_exit 2 jc clone routed.example.com routed3.example.com --ip 198.51.100.22
assert_ko validate 'outside the uplink.s subnet'

info "2: clone onto the neighbour's address is refused too"
snapshot_state after_free
assert_exit 3 jc clone free.example.com clone.example.com --ip "$NEIGHBOUR"
assert_ko start "already in use on uplink0: $NEIGHBOUR_MAC"
assert_state_unchanged after_free "state after a refused clone"

info "2: a stopped jail starts again (its own address does not conflict with itself)"
assert_exit 0 jc stop free.example.com
assert_exit 0 jc start free.example.com
assert_exit 0 jc test free.example.com

info "2: a stopped jail whose address was taken meanwhile is not started"
assert_exit 0 jc stop free.example.com
snapshot_state stopped
$CLIENT ip addr add 203.0.113.30/24 dev cl0
CL_MAC=$NEIGHBOUR_MAC
assert_exit 3 jc start free.example.com
assert_ko start "203\.0\.113\.30 is already in use on uplink0: $CL_MAC"
assert_state_unchanged stopped "state after a refused start"
$CLIENT ip addr del 203.0.113.30/24 dev cl0
assert_exit 0 jc start free.example.com

info "2: --force-ip takes the address anyway, and the task log says so"
assert_exit 0 jc create forced.example.com --ip "$NEIGHBOUR" --size 64M --sparse --force-ip
assert_contains "$OUT" "warning:   ip: 203.0.113.254 is already in use on uplink0: $NEIGHBOUR_MAC" "text output of --force-ip"
parse_create_output
grep -E "WARN +\[validate\] ip: 203\.0\.113\.254 is already in use .*--force-ip" "$LOG_PATH" ||
  fail "the task log does not record --force-ip:"$'\n'"$(cat "$LOG_PATH")"
assert_exit 0 jc destroy --force forced.example.com
echo "address_checks: OK"
