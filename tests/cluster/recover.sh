# jailctl recover (issue 10): the hosts keep their backups in one directory they all share
# (host.conf backup_dir); host b dies (its serve killed -9, its jails gone with it), the
# cluster shows its jails `?` within the lease TTL, and `recover b` restores each of them on
# the other host from its latest backup: tested there before OK, the site's content back, the
# cluster's keys naming the new host. Refused while the host is up (evacuate is for that), for
# an unknown host, and per jail with no backup (the others are still recovered, exit 5).
set -euo pipefail
require_python3
source "$TESTS_DIR/cluster/cluster.bash"
R1=r1.example.com IP1=203.0.113.81 R2=r2.example.com IP2=203.0.113.82
two_hosts
SHARED=$SANDBOX_DIR/shared-backups
mkdir -p "$SHARED"
for h in a b; do echo "backup_dir = $SHARED" >> "$(host_root "$h")/host.conf"; done
start_serves
up_count() { jc --json cluster hosts | python3 -c 'import json,sys; print(sum(h["state"] == "up" for h in json.load(sys.stdin)["hosts"]))'; }
both_up() { [ "$(up_count)" = 2 ]; }
retry 10 both_up || fail "hosts not up: $(jc cluster hosts)"
host_of() { etcd_get "/jailctl/jails/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"])'; }

info "two jails on host b; r1 backed up (into the shared directory) after its site changed, r2 never"
assert_exit 0 jc --json --cluster create "$R1" --ip "$IP1" --size 64M --host b
FTPS=(--ssl-reqd --insecure --user "$(json_eval "$OUT_FILE" 'd["ftp"]["user"]'):$(json_eval "$OUT_FILE" 'd["ftp"]["password"]')")
echo "the customer's page $RANDOM" > "$SANDBOX_DIR/page.html"
client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/page.html" "ftp://$IP1/www/page.html" || fail "FTPS upload"
assert_exit 0 jc --cluster create "$R2" --ip "$IP2" --size 64M --host b
assert_exit 0 jc --cluster backup "$R1"
ls "$SHARED/$R1/"*.tar.zst >/dev/null || fail "no backup of $R1 in the shared directory: $(ls -R "$SHARED")"
info "--cluster backups: the shared directory's archive listed once, under the first host"
assert_exit 0 jc --json --cluster backups
assert_eq "a:1 b:0" "$(json_eval "$OUT_FILE" '" ".join(h["host"] + ":" + str(len(h["backups"])) for h in d["hosts"])')" "archives per host"
assert_eq '{"a": 1}' "$(json_eval "$OUT_FILE" 'd["hosts"][1].get("shared_with")')" "b's shared archives"
assert_exit 0 jc --cluster backups
assert_eq 1 "$(grep -c "$SHARED/$R1/" <<<"$OUT")" "lines naming the archive"
assert_contains "$OUT" "1 archive listed under host a"

info "refused while b is up, and for an unknown host"
assert_exit 3 jc recover b
assert_ko validate "b is up"
assert_exit 2 jc recover nosuch
assert_ko validate "host: no host 'nosuch'"

info "host b dies: serve killed -9, its jails gone with it"
kill -KILL "$SERVE_B"; wait "$SERVE_B" 2>/dev/null || true; SERVE_B=''
assert_exit 0 jc2 stop "$R1"
assert_exit 0 jc2 stop "$R2"
unknown() { jc --json cluster status | python3 -c 'import json,sys; print(sorted(j["domain"] for j in json.load(sys.stdin)["jails"] if j["state"] == "unknown"))'; }
r1_unknown() { [ "$(unknown)" = "['$R1', '$R2']" ]; }
retry 15 r1_unknown || fail "b's jails not shown unknown: $(jc cluster status)"
lease_gone() { [ -z "$(etcd_keys /jailctl/alive/b)" ]; }
retry 15 lease_gone || fail "b's lease never expired"

info "recover b: r1 back on a from its backup; r2 has none (KO naming it, r1 still recovered)"
assert_exit 5 jc --json recover b
assert_eq "$R1" "$(json_eval "$OUT_FILE" 'd["recovered"][0]["domain"]')" "recovered"
assert_eq a "$(json_eval "$OUT_FILE" 'd["recovered"][0]["host"]')" "r1's new host"
assert_contains "$(json_eval "$OUT_FILE" 'd["failed"][0]["error"]')" "no backup of $R2"
assert_eq a "$(host_of "$R1")" "etcd: r1's host"
assert_eq b "$(host_of "$R2")" "etcd: r2's host (not recovered)"
assert_contains "$(jc --json status)" "\"$R1\""
assert_eq "$(cat "$SANDBOX_DIR/page.html")" "$(client_curl -H "Host: $R1" "http://$IP1/page.html")" "r1's page, served by host a"
assert_exit 0 jc --cluster test "$R1"
