# One status across hosts: three hosts (each in its own network namespace with its own state
# root and its own serve as agent, tests/cluster/cluster.bash) on a real three-member etcd each
# run a jail; `cluster status` lists them all with their host and live
# state; a stopped jail shows stopped; a host whose serve is killed -9 has its jails shown "?"
# (state unknown) within the lease TTL while the other host's stay live; a destroyed jail
# leaves the cluster's listing.
set -euo pipefail
source "$TESTS_DIR/cluster/cluster.bash"
A1=a1.example.com A1_IP=203.0.113.50 B1=b1.example.com B1_IP=203.0.113.51 C1=c1.example.com C1_IP=203.0.113.52
cluster_hosts 3
assert_exit 0 jc create "$A1" --ip "$A1_IP" --size 64M
assert_exit 0 jc2 create "$B1" --ip "$B1_IP" --size 64M
assert_exit 0 jc3 create "$C1" --ip "$C1_IP" --size 64M

start_serves

# states: "domain@host:state ..." from cluster status --json
states() {
  jc --json cluster status | python3 -c 'import json,sys
print(" ".join(j["domain"] + "@" + j["host"] + ":" + j["state"] for j in json.load(sys.stdin)["jails"]))'
}
states_are() { [ "$(states)" = "$1" ]; }

info "the three hosts' jails in one listing, running"
retry 15 states_are "$A1@a:running $B1@b:running $C1@c:running" ||
  fail "status: '$(states)'; serve a: $(cat "$SANDBOX_DIR/serve-a.log"); serve b: $(cat "$SANDBOX_DIR/serve-b.log")"
info "... each served from its own host's namespace to the client"
for j in "$A1 $A1_IP" "$B1 $B1_IP" "$C1 $C1_IP"; do
  read -r dom addr <<<"$j"
  code=$(client_curl -o /dev/null -w '%{http_code}' -H "Host: $dom" "http://$addr/") || fail "no answer from $dom at $addr"
  assert_eq 200 "$code" "HTTP status of $dom from the client"
done
for h in a b c; do  # the jails' addresses are proxy-ARPed by their own host only
  got=$(ip -n "$(host_ns "$h")" neigh show proxy dev uplink0 | awk '{print $1}' | sort | tr '\n' ' ')
  want=$(case $h in a) echo "$A1_IP " ;; b) echo "$B1_IP " ;; c) echo "$C1_IP " ;; esac)
  assert_eq "$want" "$got" "proxy ARP entries of host $h"
done
assert_exit 0 jc --json cluster status
assert_eq "$B1_IP" "$(json_eval "$OUT_FILE" '[j for j in d["jails"] if j["host"] == "b"][0]["ip"]')" "b1's address"
assert_exit 0 jc cluster status
assert_contains "$OUT" "*$A1 ($A1_IP) on a"
assert_contains "$OUT" "*$B1 ($B1_IP) on b"
assert_contains "$OUT" "*$C1 ($C1_IP) on c"

info "a jail stopped on b shows stopped"
assert_exit 0 jc2 stop "$B1"
retry 5 states_are "$A1@a:running $B1@b:stopped $C1@c:running" || fail "after stop: '$(states)'"

info "serve b killed -9: b's jail is ? at once (serve does not answer), a's and c's stay live"
kill -KILL "$SERVE_B"; wait "$SERVE_B" 2>/dev/null || true; SERVE_B=
assert_eq "$A1@a:running $B1@b:unknown $C1@c:running" "$(states)" "states right after the kill"
assert_exit 0 jc cluster status
assert_contains "$OUT" "?$B1 ($B1_IP) on b"
b_reason() { jc --json cluster status | python3 -c 'import json,sys
print([j for j in json.load(sys.stdin)["jails"] if j["host"] == "b"][0]["reason"])'; }
assert_contains "$(b_reason)" "cannot connect (is serve running there?)" "reason before the lease expired"
info "... and once b's lease expired (10 s), the reason is that b is down"
reason_is_down() { [[ "$(b_reason)" == "host b is down (no lease)" ]]; }
retry 15 reason_is_down || fail "reason after the lease TTL: $(b_reason)"

info "a peer whose certificate is not the pinned one is not trusted"
pinned=$(etcd_get /jailctl/hosts/a)
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" put /jailctl/hosts/a \
  "$(python3 -c 'import json,sys; h=json.loads(sys.argv[1]); h["fingerprint"]=":".join(["AB"]*32); print(json.dumps(h))' "$pinned")" >/dev/null
assert_eq "$A1@a:unknown $B1@b:unknown $C1@c:running" "$(states)" "states with a wrong pin for a"
assert_exit 0 jc --json cluster status
assert_contains "$(json_eval "$OUT_FILE" '[j for j in d["jails"] if j["host"] == "a"][0]["reason"]')" "pinned at join"
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" put /jailctl/hosts/a "$pinned" >/dev/null
assert_eq "$A1@a:running $B1@b:unknown $C1@c:running" "$(states)" "states with the right pin again"

info "a destroyed jail leaves the cluster's listing"
assert_exit 0 jc destroy --force "$A1"
retry 8 states_are "$B1@b:unknown $C1@c:running" || fail "after destroy: '$(states)'"
assert_eq "$(printf '/jailctl/jails/%s\n' "$B1" "$C1")" "$(etcd_keys /jailctl/jails/)" "jail keys in etcd"
