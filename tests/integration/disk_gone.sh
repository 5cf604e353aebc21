# What status, the verbs and repair say when the jail's disk is not what the registry says:
# - a task killed (-9) mid-way (a grow after its stop step): status marks the jail `!` naming the
#   interrupted verb, until repair (the jail looked merely stopped);
# - a disk image moved away outside jailctl (stopped jail): status `!`; start, stop, restart,
#   fsck, grow, backup, passwd, alias, set, clone are refused before anything runs (exit 3,
#   naming the image and what to do), nothing changes; repair is a KO that says the same and
#   marks the jail broken; once the image is back, repair makes it ready again and it starts;
# - the image deleted under a running jail: stop is refused (the loop device holds the only copy
#   of the customer's data), destroy --force still removes everything.
set -euo pipefail
require_python3
D=gone.example.com IP=203.0.113.45 D2=gone-clone.example.com IP2=203.0.113.46
killed() { JAILCTL_TEST_MODE=1 JAILCTL_KILL_AT=$1 jc "${@:2}"; }
status_of() {  # domain -> "state|reason" from status --json
  jc --json status "$1" > "$SANDBOX_DIR/st.json"
  json_eval "$SANDBOX_DIR/st.json" 'd[0]["state"] + "|" + (d[0].get("reason") or "")'
}

assert_exit 0 jc create "$D" --ip "$IP" --size 64M --sparse
IMG="$JAILCTL_ROOT/jails/$D/disk.img"

info "a grow killed after its stop step: status says '!' and names it, until repair"
assert_exit 137 killed resize-offline grow "$D" --size 96M --offline
assert_exit 0 jc status
assert_contains "$OUT" "!$D" "status text after the killed grow"
assert_match "$(status_of "$D")" "interrupted grow .*jailctl repair $D" "status --json reason after the killed grow"
assert_exit 0 jc repair "$D"
assert_exit 0 jc status
assert_not_contains "$OUT" "!$D" "status text after repair"
jc start "$D" >/dev/null 2>&1 || true
assert_match "$(status_of "$D")" "^running\|" "state after repair + start"

info "the image moved away while the jail is stopped"
assert_exit 0 jc stop "$D"
mv "$IMG" "$SANDBOX_DIR/moved.img"
assert_exit 0 jc status
assert_contains "$OUT" "!$D" "status text with the image gone"
assert_match "$(status_of "$D")" "disk image .*disk.img is missing" "status reason with the image gone"
snapshot_state gone
for cmd in "start $D" "stop $D" "restart $D" "fsck $D" "grow $D --size 128M" "backup $D" "passwd $D" \
           "alias add $D www2.$D" "set $D --memory 96M" "clone $D $D2 --ip $IP2"; do
  # shellcheck disable=SC2086  # the words of the command
  assert_exit 3 jc $cmd
  assert_ko validate "disk image .*disk.img is missing .*put it back.*jailctl destroy $D.*jailctl restore"
done
assert_state_unchanged gone "state after the refused verbs"
assert_exit 3 jc repair "$D"
assert_ko disk "is missing"
assert_match "$(status_of "$D")" "repair failed at disk: .*is missing.*jailctl repair $D' again" "status after the failed repair"

info "the image back: repair makes the jail ready again, it starts and passes its test"
mv "$SANDBOX_DIR/moved.img" "$IMG"
assert_exit 0 jc repair "$D"
assert_match "$(status_of "$D")" "^stopped\|$" "status after the image came back + repair"
assert_exit 0 jc start "$D"
assert_exit 0 jc test "$D"

info "the image deleted under the running jail: stop is refused, destroy removes everything"
rm "$IMG"
assert_exit 3 jc stop "$D"
assert_ko validate "running jail still holds the deleted file through its loop device.*before anything stops the jail"
assert_match "$(status_of "$D")" "still holds the deleted file" "status of a running jail without its image"
assert_exit 0 jc destroy --force "$D"
losetup -a | grep -q "$D" && fail "a loop device still holds the deleted image: $(losetup -a)"
assert_exit 0 jc status
assert_not_contains "$OUT" "$D" "status after destroy"
echo "disk_gone: OK"
