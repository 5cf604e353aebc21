# A second create of a registered domain or of an IP in use: exit 3, nothing changes, and
# the existing jail keeps serving.
set -euo pipefail
D=shop.example.com IP=203.0.113.50

assert_exit 0 jc create "$D" --ip "$IP" --size 64M
client_curl -H "Host: $D" "http://$IP/" | grep -qF "$D" || fail "the first jail does not serve its page"
snapshot_state

info "duplicate domain (also written differently)"
for dup in "$D" "SHOP.Example.com" "$D."; do
  assert_exit 3 jc create "$dup" --ip 203.0.113.51 --size 64M
  assert_ko '[a-z_-]+' 'domain'
  assert_state_unchanged default "state after a duplicate domain '$dup'"
done

info "duplicate IP"
assert_exit 3 jc create other.example.com --ip "$IP" --size 64M
assert_ko '[a-z_-]+' '\bip'
assert_state_unchanged default "state after a duplicate IP"

info "the existing jail is unaffected"
page=$(client_curl -H "Host: $D" "http://$IP/") || fail "the first jail stopped answering HTTP"
assert_contains "$page" "$D" "page of the first jail"
assert_exit 0 jc status
grep -qFx "*$D ($IP)" "$OUT_FILE" || fail "status does not show '*$D ($IP)':"$'\n'"$OUT"
assert_exit 0 jc test "$D"
echo "conflicts: OK"
