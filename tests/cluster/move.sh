# jailctl move and evacuate (issue 10) on two hosts (each in its own network namespace with its
# own uplink on the customer bridge, root and serve: cluster.bash) and a real etcd:
# a jail with a 100 MiB site moves while the customer's client polls it over HTTP every 50 ms:
# the site is down at most 2 s, its data is identical, the FTP password still logs in, the
# cluster's keys name the new host and the old host has no copy left. Then `evacuate` empties a
# host onto the other; bad input is refused with the field named and moves nothing.
set -euo pipefail
require_python3
source "$TESTS_DIR/cluster/cluster.bash"
D=m1.example.com IP=203.0.113.71 D2=m2.example.com IP2=203.0.113.72
two_hosts
start_serves
up_count() { jc --json cluster hosts | python3 -c 'import json,sys; print(sum(h["state"] == "up" for h in json.load(sys.stdin)["hosts"]))'; }
both_up() { [ "$(up_count)" = 2 ]; }
retry 10 both_up || fail "hosts not up: $(jc cluster hosts)"
domains_of() { jch "$1" --json status | python3 -c 'import json,sys; print(" ".join(j["domain"] + ":" + j["state"] for j in json.load(sys.stdin)))'; }
host_of() { etcd_get "/jailctl/jails/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"])'; }

info "a jail on host a with a 100 MiB site, uploaded over FTPS"
assert_exit 0 jc --json --cluster create "$D" --ip "$IP" --size 256M --host a
FTP_USER=$(json_eval "$OUT_FILE" 'd["ftp"]["user"]') FTP_PASS=$(json_eval "$OUT_FILE" 'd["ftp"]["password"]')
FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
head -c $((100 << 20)) /dev/urandom > "$SANDBOX_DIR/big.bin"
want=$(sha256sum < "$SANDBOX_DIR/big.bin")
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/big.bin" "ftp://$IP/www/big.bin" || fail "FTPS upload of big.bin"
assert_eq "$want" "$(client_curl -H "Host: $D" "http://$IP/big.bin" | sha256sum)" "big.bin over HTTP before the move"

info "bad input: exit 2 naming the field, nothing moves"
assert_exit 2 jc move "$D" --to a
assert_ko move "already on host a"
assert_exit 2 jc move "$D" --to nosuch
assert_ko move "to: no host 'nosuch'"
assert_exit 2 jc move nosuch.example.com --to b
assert_ko move "no jail 'nosuch.example.com'"
assert_exit 2 jc move bad..example --to b
assert_ko validate "domain"
assert_contains "$(domains_of a)" "$D:running"

info "move to host b while the client polls http://$IP/ every 50 ms"
rm -f "$SANDBOX_DIR/poll.stop"
$CLIENT python3 - "$SANDBOX_DIR" "$IP" "$D" > "$SANDBOX_DIR/poll.log" <<'PY' &
import os, sys, time, urllib.request
d, ip, host = sys.argv[1:]
while not os.path.exists(d + "/poll.stop"):
    t = time.monotonic()
    try:
        ok = urllib.request.urlopen(urllib.request.Request(f"http://{ip}/", headers={"Host": host}), timeout=0.1).status == 200
    except Exception:
        ok = False
    print(f"{t:.3f} {int(ok)}", flush=True)
    time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))
PY
POLL_PID=$!
trap 'stop_pid "$POLL_PID"; cluster_cleanup' EXIT
sleep 1
assert_exit 0 jc --json move "$D" --to b
sleep 3  # the client keeps polling: the downtime is what it sees, after the move's OK too
touch "$SANDBOX_DIR/poll.stop"; wait "$POLL_PID"
assert_eq b "$(json_eval "$OUT_FILE" 'd["to"]')" "move's to"
assert_eq True "$(json_eval "$OUT_FILE" 'd["password_kept"]')" "move kept the FTP password"
assert_eq "[]" "$(json_eval "$OUT_FILE" 'd["warnings"]')" "move's warnings"
# Downtime: from the first failed poll to the next answered one, the longest such gap.
downtime=$(python3 - "$SANDBOX_DIR/poll.log" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
assert rows and rows[0][1] == 1 and rows[-1][1] == 1, "the site must answer before and after the move"
worst, down_since = 0.0, None
for t, ok in rows:
    if not ok and down_since is None: down_since = t
    if ok and down_since is not None: worst, down_since = max(worst, t - down_since), None
print(f"{worst:.3f}")
PY
) || fail "poll log: $(head -3 "$SANDBOX_DIR/poll.log") ... $(tail -3 "$SANDBOX_DIR/poll.log")"
info "downtime seen by the client: ${downtime} s ($(wc -l < "$SANDBOX_DIR/poll.log") polls)"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)" "$downtime" || fail "downtime ${downtime} s > 2 s"
assert_eq b "$(host_of "$D")" "etcd: the jail's host"
assert_contains "$(etcd_get "/jailctl/ips/$IP")" '"host":"b"' "etcd: the address's host"
assert_contains "$(domains_of b)" "$D:running"
assert_not_contains "$(domains_of a)" "$D" "host a's jails after the move"
[ ! -e "$JAILCTL_ROOT/jails/$D" ] || fail "host a kept files of $D: $(ls "$JAILCTL_ROOT/jails/$D")"
assert_eq "$want" "$(client_curl -H "Host: $D" "http://$IP/big.bin" | sha256sum)" "big.bin over HTTP after the move"
client_curl "${FTPS[@]}" "ftp://$IP/www/" > "$SANDBOX_DIR/list" || fail "FTPS login with the old password after the move"
assert_contains "$(cat "$SANDBOX_DIR/list")" "big.bin" "FTPS listing after the move"
assert_exit 0 jc2 credentials "$D"
assert_contains "$OUT" "$FTP_PASS" "host b's credentials"

info "evacuate b: its jails (the moved one and a stopped one) go to a, each tested there"
assert_exit 0 jc --cluster create "$D2" --ip "$IP2" --size 64M --host b
assert_exit 0 jc --cluster stop "$D2"
assert_exit 2 jc evacuate nosuch
assert_ko validate "host: no host 'nosuch'"
assert_exit 0 jc --json evacuate b
assert_eq 2 "$(json_eval "$OUT_FILE" 'len(d["moved"])')" "jails evacuated"
assert_contains "$(domains_of a)" "$D:running"
assert_contains "$(domains_of a)" "$D2:stopped"
assert_eq "" "$(domains_of b)" "host b's jails after evacuate"
assert_eq "a a" "$(host_of "$D") $(host_of "$D2")" "etcd: the jails' host after evacuate"
assert_eq "$want" "$(client_curl -H "Host: $D" "http://$IP/big.bin" | sha256sum)" "big.bin after evacuate"
