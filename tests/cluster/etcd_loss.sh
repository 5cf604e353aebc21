# The cluster survives losing an etcd member, then the leader, without a failed verb: three
# hosts (each in its own network namespace with its own state root, serve and etcd member,
# tests/cluster/cluster.bash) hold a jail each. A follower is killed (-9, by PID): status,
# create, a routed restart and destroy through `--cluster`, and every host's agent, still
# work. It comes back; then the leader is killed, and the same verbs run at once, during the
# election (the store client retries the other members within its deadline): none fails, and
# the agents' leases outlive the election (every host stays up).
set -euo pipefail
source "$TESTS_DIR/cluster/cluster.bash"
cluster_hosts 3
start_serves
hosts_states() { jc --json cluster hosts | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(h["name"] + ":" + h["state"] for h in d["hosts"]))'; }
hosts_are() { [ "$(hosts_states)" = "$1" ]; }
retry 10 hosts_are 'a:up b:up c:up' || fail "hosts never all up: $(hosts_states)"
for h in a b c; do
  assert_exit 0 jc --cluster create "$h-site.example.com" --ip "203.0.113.7$(host_index "$h")" --size 64M --host "$h"
done

# verbs TAG IP: every kind of verb through the cluster, from the three hosts; each must exit 0
verbs() {
  local tag=$1 ip=$2 t0=$SECONDS
  assert_exit 0 jc --json --cluster create "$tag.example.com" --ip "$ip" --size 64M
  info "create $tag.example.com: OK on host $(json_eval "$OUT_FILE" 'd["host"]') after $((SECONDS - t0)) s"
  assert_exit 0 jc2 --json cluster status
  assert_eq "a-site.example.com:running b-site.example.com:running c-site.example.com:running $tag.example.com:running" \
    "$(json_eval "$OUT_FILE" '" ".join(j["domain"] + ":" + j["state"] for j in d["jails"])')" "cluster status from b"
  assert_exit 0 jc3 --cluster restart a-site.example.com
  assert_exit 0 jc --cluster restart c-site.example.com
  assert_exit 0 jc2 --cluster destroy --force "$tag.example.com"
  assert_eq "" "$(etcd_get "/jailctl/jails/$tag.example.com")" "$tag's claim after destroy"
  assert_exit 0 jc3 cluster hosts
  info "all verbs OK in $((SECONDS - t0)) s"
}

leader=$(etcd_leader)
[ -n "$leader" ] || fail "no etcd leader: $(ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" endpoint status 2>&1)"
# the follower killed is m0 unless m0 leads: every jailctl asks m0 (its first endpoint) first
follower=0; [ "$leader" != 0 ] || follower=1
info "etcd member m$follower (a follower; m$leader leads) killed"
etcd_kill "$follower"
etcd_healthy "$follower" && fail "m$follower still answers after its kill"
verbs follower-down 203.0.113.81
assert_eq "a:up b:up c:up" "$(hosts_states)" "hosts with m$follower down"

info "m$follower back; then the leader killed, and the verbs run during the election"
etcd_member_start "$follower"
retry 20 etcd_healthy "$follower" || fail "m$follower never came back: $(tail -3 "$SANDBOX_DIR/etcd-m$follower.log")"
leader=$(etcd_leader)
[ -n "$leader" ] || fail "no etcd leader with the three members up"
etcd_kill "$leader"
info "leader m$leader killed"
verbs leader-down 203.0.113.82
new_leader=$(etcd_leader)
{ [ -n "$new_leader" ] && [ "$new_leader" != "$leader" ]; } || fail "no new leader after m$leader's kill: '$new_leader'"
info "m$new_leader leads now"
assert_eq "a:up b:up c:up" "$(hosts_states)" "hosts after the election (their leases kept alive through it)"
