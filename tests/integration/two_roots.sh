# Two state roots on one host (issue 14, defect 11): a jail of the second root whose veth name
# (jc<registry id>) is already taken by the first root's jail is refused before LXC starts,
# with a KO line naming the interface and the likely cause (exit 3) instead of LXC's bare
# "ABORTING"; the first root's jail keeps its interface and keeps serving.
set -euo pipefail
A=first.example.com A_IP=203.0.113.91 B=second.example.com B_IP=203.0.113.92
second_root "$B"

assert_exit 0 jc create "$A" --ip "$A_IP" --size 64M
ip link show jc1 >/dev/null || fail "the first root's first jail has no interface jc1"
snapshot_state two

info "the second root's first jail would also be jc1"
assert_exit 3 jc2 create "$B" --ip "$B_IP" --size 64M
assert_ko start 'interface jc1 .*already exists.*another jailctl state root \(a second --root\)'
assert_not_contains "$ERR" "ABORTING" "stderr"
assert_state_unchanged two "the first root after the refused create"
ip link show jc1 >/dev/null || fail "jc1 of the first root was removed"
assert_exit 0 jc test "$A"
[ -z "$(ls -A "$JAILCTL_ROOT2/jails" 2>/dev/null)" ] || fail "the refused create left files: $(ls "$JAILCTL_ROOT2/jails")"
echo "PASS two_roots"
