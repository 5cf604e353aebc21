# Cluster membership on a real three-member etcd: three hosts (each in its own network
# namespace with its own state root and serve, tests/cluster/cluster.bash) init and join a
# cluster; `cluster hosts` shows them up with their capacity; a serve killed with -9 shows its host down within the lease TTL, a cleanly stopped one at
# once; bad input and conflicts change nothing; leave removes the host. Without member.json
# nothing touches etcd (the single-host mode).
set -euo pipefail
source "$TESTS_DIR/cluster/cluster.bash"
hosts_up 3
etcd_start
A_API=$(host_api a) B_API=$(host_api b) C_API=$(host_api c)

info "not in a cluster: hosts and leave say so (exit 4), nothing is written"
assert_exit 4 jc cluster hosts
assert_ko validate "in no cluster.*cluster init"
assert_exit 4 jc cluster leave
assert_eq "" "$(etcd_keys /jailctl/)" "etcd keys before init"

info "bad input: exit 2 naming the field, nothing written"
for bad in "--etcd 127.0.0.1:23379 --api $A_API --name a|etcd endpoint" \
           "--etcd $ETCD_ENDPOINTS --api http://203.0.113.1:8443 --name a|api" \
           "--etcd $ETCD_ENDPOINTS --api https://203.0.113.1 --name a|api" \
           "--etcd $ETCD_ENDPOINTS --api $A_API --name A_host|name" \
           "--etcd $ETCD_ENDPOINTS --api $A_API --name -a|name"; do
  # shellcheck disable=SC2086
  assert_exit 2 jc cluster init ${bad%|*}
  assert_ko validate "${bad#*|}"
done
assert_eq "" "$(etcd_keys /jailctl/)" "etcd keys after refused inits"
[ ! -e "$JAILCTL_ROOT/cluster/member.json" ] || fail "a refused init wrote member.json"

info "init on host a, join as hosts b and c; a second init and a taken name are conflicts (exit 3)"
assert_exit 0 jc --json cluster init --etcd "$ETCD_ENDPOINTS" --api "$A_API" --name a
cluster_id=$(json_eval "$OUT_FILE" 'd["cluster"]')
assert_match "$cluster_id" '^[0-9a-f]{16}$' "cluster id"
assert_eq "$(json_eval "$OUT_FILE" 'd["fingerprint"]')" \
  "$(openssl x509 -noout -fingerprint -sha256 -in "$JAILCTL_ROOT/api/cert.pem" | sed 's/.*=//')" "published fingerprint"
assert_exit 3 jc2 cluster init --etcd "$ETCD_ENDPOINTS" --api "$B_API" --name b
assert_ko validate "already holds a cluster"
assert_exit 3 jc2 cluster join --etcd "$ETCD_ENDPOINTS" --api "$B_API" --name a
assert_ko validate "taken by the host at $A_API"
assert_exit 0 jc2 cluster join --etcd "$ETCD_ENDPOINTS" --api "$B_API" --name b
assert_exit 3 jc2 cluster join --etcd "$ETCD_ENDPOINTS" --api "$B_API" --name b
assert_ko validate "already b in cluster $cluster_id"
assert_exit 0 jc3 cluster join --etcd "$ETCD_ENDPOINTS" --api "$C_API" --name c
assert_eq "$(printf '/jailctl/cluster\n/jailctl/hosts/a\n/jailctl/hosts/b\n/jailctl/hosts/c')" "$(etcd_keys /jailctl/)" "etcd keys after joins"
jc token list | grep -q '^cluster  *admin' || fail "no local 'cluster' token on a: $(jc token list)"

info "hosts without serve: all down"
assert_exit 0 jc --json cluster hosts
assert_eq "a:down b:down c:down" "$(json_eval "$OUT_FILE" '" ".join(h["name"] + ":" + h["state"] for h in d["hosts"])')"

info "serve on every host: all up, with their capacity"
start_serves
hosts_states() { jc --json cluster hosts | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(h["name"] + ":" + h["state"] for h in d["hosts"]))'; }
hosts_are() { [ "$(hosts_states)" = "$1" ]; }
retry 10 hosts_are 'a:up b:up c:up' ||
  fail "hosts never all up: $(hosts_states); serve a: $(cat "$SANDBOX_DIR/serve-a.log")"
assert_exit 0 jc --json cluster hosts
json_eval "$OUT_FILE" 'all(h["jails"] == 0 and h["disk_free"] > 0 and h["memory_free"] > 0 for h in d["hosts"])' | grep -qx True ||
  fail "capacity missing: $OUT"
assert_exit 0 jc cluster hosts
assert_match "$(grep '^a \*' <<<"$OUT")" '^a \* +up +0 ' "text line of this host"

info "serve b killed with -9: b down within the lease TTL (10 s), a and c stay up"
kill -KILL "$SERVE_B"; wait "$SERVE_B" 2>/dev/null || true; SERVE_B=
killed=$SECONDS
retry 15 hosts_are 'a:up b:down c:up' || fail "b still shown: $(hosts_states)"
[ $((SECONDS - killed)) -le 13 ] || fail "b shown down only after $((SECONDS - killed)) s"
info "b down after $((SECONDS - killed)) s"

info "serves a and c stopped cleanly: down at once (their leases revoked)"
stop_pid "$SERVE_A"; SERVE_A=
stop_pid "$SERVE_C"; SERVE_C=
assert_eq "a:down b:down c:down" "$(hosts_states)" "states right after a clean stop"

info "leave: b is gone from etcd and from the local tokens; b can join again"
assert_exit 0 jc2 cluster leave
assert_eq "$(printf '/jailctl/cluster\n/jailctl/hosts/a\n/jailctl/hosts/c')" "$(etcd_keys /jailctl/)" "etcd keys after leave"
jc2 token list | grep -q '^cluster ' && fail "the cluster token stayed on b"
[ ! -e "$JAILCTL_ROOT2/cluster/member.json" ] || fail "member.json stayed on b"
assert_exit 0 jc2 cluster join --etcd "$ETCD_ENDPOINTS" --api "$B_API" --name b

info "a host holding cluster jails may not leave"
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" put /jailctl/by-host/b/x.example "" >/dev/null
assert_exit 3 jc2 cluster leave
assert_ko validate "still holds 1 of the cluster's jails"
[ -e "$JAILCTL_ROOT2/cluster/member.json" ] || fail "a refused leave removed member.json"
