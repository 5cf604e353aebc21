# The cluster-aware CLI (jailctl --cluster VERB) on three hosts (each in its own network
# namespace with its own state root and serve, tests/cluster/cluster.bash) and a real
# three-member etcd: placement (room for the disk and the memory limit; fewest jails, then free
# disk, then name: three jails land on three hosts) and --host; every routed verb runs on the
# jail's host whichever host the operator is on; the domain/IP race (10 rounds of both hosts
# creating at once: exactly one winner, the other exit 3); bad input is refused with the field
# named and leaves no claim in etcd. The reads and verbs that are not tasks of one jail:
# status [DOMAIN], alias list, backups [DOMAIN], export DOMAIN FILE (written here), exec (stdin
# there, output and exit status back), import-site (the site of this machine uploaded to the
# placed host), renew --all (every host's, KO for the one whose CA fails), and the host-local
# verbs' refusals naming where to run them. Address pools (cluster pool add|list|remove; a create
# without --ip takes the lowest free address) and aliases unique across the cluster (names/).
set -euo pipefail
source "$TESTS_DIR/cluster/cluster.bash"
cluster_hosts 3
start_serves
jails_on() {  # jails_on a|b|c: the up host's published jail count
  jc --json cluster hosts | python3 -c 'import json,sys
print([h.get("jails", "-") for h in json.load(sys.stdin)["hosts"] if h["name"] == sys.argv[1] and h["state"] == "up"][0])' "$1" 2>/dev/null
}
counts() { echo "$(jails_on a) $(jails_on b) $(jails_on c)"; }
counts_are() { [ "$(counts)" = "$1" ]; }
retry 10 counts_are "0 0 0" || fail "hosts not up: $(jc cluster hosts)"
# local_domains a|b|c: that host's own jails and their state, as its jailctl sees them
local_domains() { jch "$1" --json status | python3 -c 'import json,sys; print(" ".join(j["domain"] + ":" + j["state"] for j in (lambda d: d["jails"] if isinstance(d, dict) else d)(json.load(sys.stdin))))'; }

info "bad input: exit 2 naming the field; nothing claimed"
assert_exit 2 jc --cluster create bad..example --ip 203.0.113.70 --size 64M
assert_ko validate "domain"
assert_exit 2 jc --cluster create ok.example.com --ip 203.0.113.300 --size 64M
assert_ko validate "ip"
assert_exit 2 jc --cluster create ok.example.com --ip 203.0.113.70 --size 1K
assert_ko validate "size"
assert_exit 2 jc --cluster create ok.example.com --ip 203.0.113.70 --size 64M --host nosuch
assert_ko validate "host: no host 'nosuch'"
assert_exit 2 jc --cluster create ok.example.com --ip 203.0.113.70 --size 64M --bogus
assert_ko validate "bogus"
assert_exit 4 jc --cluster create ok.example.com --ip 203.0.113.70 --size 64M --memory 64T
assert_ko placement "no up host has room for this disk and memory limit"
assert_exit 2 jc --cluster backups ok.example.com
assert_ko validate "domain: no jail 'ok.example.com' in the cluster"
assert_exit 2 jc --cluster credentials ok.example.com
assert_ko validate "no jail 'ok.example.com' in the cluster"
assert_exit 2 jc --cluster stop nosuch.example.com
assert_ko validate "no jail 'nosuch.example.com' in the cluster"
assert_eq "" "$(etcd_keys /jailctl/jails/)$(etcd_keys /jailctl/ips/)" "claims left by refused creates"

info "placement: each jail goes to a host with the fewest jails (0 each: the most free disk), so three land on three hosts"
placed=()
for n in 1 2 3; do
  assert_exit 0 jc --json --cluster create p$n.example.com --ip 203.0.113.6$n --size 64M
  assert_eq OK "$(json_eval "$OUT_FILE" 'd["result"]')" "result of p$n"
  [ -n "$(json_eval "$OUT_FILE" 'd["ftp"]["password"]')" ] || fail "no FTP password in the routed create's result"
  h=$(json_eval "$OUT_FILE" 'd["host"]')
  case " ${placed[*]} " in *" $h "*) fail "p$n placed on $h, which already has ${placed[*]}'s jail" ;; esac
  case $h in a|b|c) ;; *) fail "p$n placed on '$h'" ;; esac
  placed+=("$h")
  assert_contains "$(local_domains "$h")" "p$n.example.com:running"
  want=$(for x in a b c; do case " ${placed[*]} " in *" $x "*) printf '1 ' ;; *) printf '0 ' ;; esac; done)
  retry 8 counts_are "${want% }" || fail "jail counts never reached '${want% }': $(counts)"
done
first=${placed[0]} second=${placed[1]}
assert_exit 0 jc2 --cluster create x.example.com --ip 203.0.113.65 --size 64M --host b
assert_contains "$OUT" "host:      b"
assert_contains "$(local_domains b)" "x.example.com:running"

info "routed verbs: run from host a on b's jail x, and from every host on the others' jails"
assert_exit 0 jc --cluster stop x.example.com
assert_contains "$(local_domains b)" "x.example.com:stopped"
assert_exit 0 jc --cluster start x.example.com
assert_exit 0 jc --cluster stop p2.example.com
assert_contains "$(local_domains "$second")" "p2.example.com:stopped"
assert_exit 0 jc --cluster start p2.example.com
assert_exit 0 jc --cluster test p2.example.com
assert_exit 0 jc --cluster set p2.example.com --memory 128M
assert_exit 0 jc --cluster alias add p2.example.com shop.p2.example.com
assert_contains "$(jch "$second" alias list p2.example.com)" "shop.p2.example.com" "p2's aliases on its host"
assert_exit 0 jc3 --cluster credentials p2.example.com
assert_contains "$OUT" "host:      $second"
assert_contains "$OUT" "ftp pass:  $(jch "$second" --json credentials p2.example.com | python3 -c 'import json,sys; print(json.load(sys.stdin)["ftp"]["password"])')"
assert_exit 0 jc3 --cluster alias list p2.example.com
assert_eq "$(jch "$second" alias list p2.example.com)" "$OUT" "alias list through the cluster, as on p2's host"
assert_contains "$OUT" "shop.p2.example.com"
assert_exit 0 jc --json --cluster alias list p2.example.com
assert_eq '["shop.p2.example.com"]' "$(json_eval "$OUT_FILE" 'd["aliases"]')" "p2's aliases (JSON)"
assert_eq "$second" "$(json_eval "$OUT_FILE" 'd["host"]')" "the host that answered"
assert_exit 2 jc --cluster alias list nosuch.example.com
assert_ko validate "domain: no jail 'nosuch.example.com' in the cluster"
assert_exit 0 jc2 --cluster alias remove p2.example.com shop.p2.example.com
assert_not_contains "$(jch "$second" alias list p2.example.com)" "shop.p2.example.com" "p2's aliases after the routed remove"
assert_exit 0 jc3 --cluster alias list p2.example.com
assert_eq "OK" "$OUT" "p2's aliases through the cluster after the remove"
assert_exit 3 jc --cluster create p2.example.com --ip 203.0.113.64 --size 64M
assert_ko validate "p2.example.com is already a jail on host $second"
assert_exit 3 jc2 --cluster create other.example.com --ip 203.0.113.61 --size 64M
assert_ko validate "203.0.113.61 is already used by p1.example.com on host $first"
assert_exit 0 jc3 --cluster restart p1.example.com
assert_contains "$(local_domains "$first")" "p1.example.com:running"
assert_exit 0 jc2 --cluster destroy --force p1.example.com
assert_not_contains "$(local_domains "$first")" "p1.example.com" "$first's jails after the routed destroy"
assert_eq "" "$(etcd_get /jailctl/jails/p1.example.com)" "p1's key after destroy"

info "--cluster status [DOMAIN]: the cluster's listing, or one jail's row from its host"
assert_exit 0 jc3 --cluster status
assert_eq "$(jc cluster status)" "$OUT" "--cluster status is cluster status"
assert_contains "$OUT" "*p2.example.com (203.0.113.62) on $second"
assert_contains "$OUT" "*x.example.com (203.0.113.65) on b"
assert_exit 0 jc2 --cluster status P2.Example.com
assert_eq 2 "$(wc -l <"$OUT_FILE")" "lines of one jail's status"
assert_contains "$OUT" "*p2.example.com (203.0.113.62) on $second"
assert_exit 0 jc --json --cluster status p2.example.com
assert_eq "p2.example.com $second running" \
  "$(json_eval "$OUT_FILE" '" ".join(j["domain"] + " " + j["host"] + " " + j["state"] for j in d["jails"])')"
assert_exit 2 jc --cluster status nosuch.example.com
assert_ko validate "domain: no jail 'nosuch.example.com' in the cluster"
assert_exit 2 jc --cluster status --names
assert_ko validate "names: is not available for status through the cluster"

info "address pools: bad input names the field and changes nothing; no pool, no address"
assert_exit 2 jc --cluster create nopool.example.com --size 64M
assert_ko validate "ip: is required \(--ip\): the cluster has no address pool"
for bad in "203.0.113.90-203.0.113.70|the first address is above the last" "203.0.113.65/26|host bits set" \
           "10.0.0.0/15|more than 65536" "203.0.113.64/33|prefix length" "203.0.113.64|neither FIRST-LAST nor a CIDR" \
           "127.0.0.1-127.0.0.9|loopback"; do
  assert_exit 2 jc cluster pool add "${bad%|*}"
  assert_ko validate "range: .*${bad#*|}"
done
assert_exit 2 jc cluster pool remove 203.0.113.200-203.0.113.201
assert_ko validate "range: no pool 203.0.113.200-203.0.113.201"
assert_eq "" "$(etcd_keys /jailctl/pools/)" "pools after refused adds"
info "a pool of two; an overlapping one is a conflict"
assert_exit 0 jc cluster pool add 203.0.113.200-203.0.113.201
assert_exit 3 jc2 cluster pool add 203.0.113.192/28
assert_ko validate "range: 203.0.113.193-203.0.113.206 overlaps the pool 203.0.113.200-203.0.113.201"
assert_eq "/jailctl/pools/203.0.113.200-203.0.113.201" "$(etcd_keys /jailctl/pools/)" "pools after the conflict"
pool_row() { jc --json cluster pool list | python3 -c 'import json,sys
print(" ".join("%s %d %d %d" % (p["range"], p["size"], p["used"], p["free"]) for p in json.load(sys.stdin)["pools"]))'; }
assert_eq "203.0.113.200-203.0.113.201 2 0 2" "$(pool_row)" "the pool, unused"
info "create without --ip: the pools' lowest free address, served there; the next create the next; then none"
assert_exit 0 jc --json --cluster create pool1.example.com --size 64M --host c
assert_eq "OK 203.0.113.200" "$(json_eval "$OUT_FILE" 'd["result"] + " " + d["ip"]')" "pool1's result"
assert_contains "$ERR" "cluster: pool1.example.com placed on host c with address 203.0.113.200"
assert_contains "$(client_curl -H "Host: pool1.example.com" http://203.0.113.200/)" "<h1>pool1.example.com</h1>" "pool1's page"
assert_exit 0 jc2 --cluster create pool2.example.com --size 64M
assert_contains "$ERR" "with address 203.0.113.201"
assert_contains "$(etcd_get /jailctl/ips/203.0.113.201)" '"domain":"pool2.example.com"'
assert_exit 4 jc --cluster create pool3.example.com --size 64M
assert_ko validate "ip: every address of the cluster's pools is in use \(2 in 1 pool\)"
assert_eq "" "$(etcd_keys /jailctl/jails/pool3.example.com)" "a claim of the refused create"
assert_exit 0 jc cluster pool list
assert_match "$OUT" $'POOL +SIZE +USED +FREE\n203\.0\.113\.200-203\.0\.113\.201 +2 +2 +0$' "pool list"
assert_exit 3 jc cluster pool remove 203.0.113.200-203.0.113.201
assert_ko validate "range: 2 addresses of 203.0.113.200-203.0.113.201 are in use \(203.0.113.200 by pool1.example.com\)"
assert_eq "/jailctl/pools/203.0.113.200-203.0.113.201" "$(etcd_keys /jailctl/pools/)" "pools after the refused remove"

info "aliases are the cluster's (names/): one jail's alias is refused to a jail of another host, and as a new jail's domain"
assert_exit 0 jc --cluster alias add pool1.example.com Shop.Pool.example.com
assert_contains "$(etcd_get /jailctl/names/shop.pool.example.com)" '"domain":"pool1.example.com"'
assert_exit 3 jc2 --cluster alias add x.example.com shop.pool.example.com
assert_ko validate "alias: shop.pool.example.com is already served by jail pool1.example.com"
assert_not_contains "$(jch b alias list x.example.com)" "shop.pool.example.com" "x's aliases after the refusal"
assert_exit 3 jc --cluster create shop.pool.example.com --ip 203.0.113.90 --size 64M
assert_ko validate "domain: shop.pool.example.com is an alias of jail pool1.example.com"
assert_exit 3 jc3 --cluster alias add x.example.com www.p2.example.com
assert_ko validate "alias: www.p2.example.com is already served by jail p2.example.com on host $second"
# another jail's own names (D serves www.D; www.www.D serves www.D) on another host: refused as a
# new jail's domain, in the claim's transaction, whichever form comes second
other=$first  # p1's host, not p2's
assert_exit 3 jc --cluster create www.p2.example.com --ip 203.0.113.90 --size 64M --host "$other"
assert_ko validate "domain: www.p2.example.com is served by jail p2.example.com on host $second"
assert_exit 3 jc --cluster create www.www.p2.example.com --ip 203.0.113.90 --size 64M --host "$other"
assert_ko validate "domain: www.www.p2.example.com would also serve www.p2.example.com, which is served by jail p2.example.com on host $second"
assert_eq "/jailctl/names/shop.pool.example.com" "$(etcd_keys /jailctl/names/)" "names after the refusals"
assert_eq "" "$(etcd_keys /jailctl/jails/shop.pool.example.com)$(etcd_keys /jailctl/jails/www.)$(etcd_keys /jailctl/ips/203.0.113.90)" "claims after the refusals"
# an alias added on a host without --cluster: its agent publishes it in names/ (within a refresh)
assert_exit 0 jch b alias add x.example.com local.x.example.com
names_of_local_x() { [ "$(etcd_get /jailctl/names/local.x.example.com)" = "$1" ]; }
retry 10 names_of_local_x '{"domain":"x.example.com"}' || fail "host b's agent did not publish x's alias: $(etcd_keys /jailctl/names/)"
assert_exit 3 jc --cluster alias add x.example.com local.x.example.com
assert_ko validate "local.x.example.com is already served by jail x.example.com \(this one\) \(on host b\)"
assert_exit 3 jc3 --cluster alias add pool1.example.com local.x.example.com
assert_ko validate "alias: local.x.example.com is already served by jail x.example.com \(its alias\)"
assert_exit 0 jch b alias remove x.example.com local.x.example.com
retry 10 names_of_local_x "" || fail "host b's agent left the removed alias in names/"
info "alias remove frees the name for another jail; destroy frees its jail's names"
assert_exit 0 jc3 --cluster alias remove pool1.example.com shop.pool.example.com
assert_eq "" "$(etcd_keys /jailctl/names/)" "names after the remove"
assert_exit 0 jc --cluster alias add pool2.example.com shop.pool.example.com
assert_contains "$(etcd_get /jailctl/names/shop.pool.example.com)" '"domain":"pool2.example.com"'
assert_exit 0 jc --cluster destroy --force pool2.example.com
assert_eq "" "$(etcd_keys /jailctl/names/)" "names after destroy"
assert_eq "203.0.113.200-203.0.113.201 2 1 1" "$(pool_row)" "the pool after destroy"
assert_exit 0 jc --cluster destroy --force pool1.example.com
assert_exit 0 jc2 --json cluster pool remove 203.0.113.200/31
assert_eq "203.0.113.200-203.0.113.201" "$(json_eval "$OUT_FILE" 'd["range"]')" "the removed pool (as a CIDR)"
assert_eq "" "$(etcd_keys /jailctl/pools/)" "pools after the remove"

info "--cluster backups [DOMAIN]: the jail's host's archives, printed as backups prints them"
assert_exit 0 jc --cluster backup p2.example.com
assert_exit 0 jc3 --cluster backups p2.example.com
assert_eq "$(jch "$second" backups p2.example.com)" "$OUT" "backups through the cluster, as on p2's host"
assert_contains "$OUT" "$(host_root "$second")/backups/p2.example.com/"
assert_exit 0 jc --json --cluster backups p2.example.com
assert_eq "p2.example.com backup $second" \
  "$(json_eval "$OUT_FILE" '" ".join(b["domain"] + " " + b["kind"] for b in d["backups"]) + " " + d["host"]')"
assert_exit 0 jc2 --cluster backups
for h in a b c; do assert_contains "$OUT" "host $h:"$'\n'"TIME"; done
assert_exit 0 jc2 --json --cluster backups
assert_eq "$second" "$(json_eval "$OUT_FILE" '" ".join(h["host"] for h in d["hosts"] if any(b["domain"] == "p2.example.com" for b in h["backups"]))')"

info "--cluster export DOMAIN FILE: the host's export stream, written here; FILE refused as local export refuses it"
assert_exit 0 jc3 --cluster export p2.example.com "$SANDBOX_DIR/p2.tar.zst"
assert_contains "$OUT" "host:      $second"
zstd -q -t "$SANDBOX_DIR/p2.tar.zst" || fail "the exported archive is not a whole zstd stream"
assert_exit 0 jc --json --cluster export p2.example.com "$SANDBOX_DIR/p2b.tar.zst"
assert_eq "$(stat -c %s "$SANDBOX_DIR/p2b.tar.zst")" "$(json_eval "$OUT_FILE" 'd["size_bytes"]')" "the size --json reports"
assert_eq "$SANDBOX_DIR/p2b.tar.zst $second" "$(json_eval "$OUT_FILE" 'd["file"] + " " + d["host"]')"
[ ! -e "$SANDBOX_DIR/p2.tar.zst.part" ] && [ ! -e "$SANDBOX_DIR/p2b.tar.zst.part" ] || fail "a .part file left after the export"
assert_exit 3 jc3 --cluster export p2.example.com "$SANDBOX_DIR/p2.tar.zst"
cluster_refusal=$(last_err_line)
assert_exit 3 jch "$second" export p2.example.com "$SANDBOX_DIR/p2.tar.zst"
assert_eq "$(last_err_line)" "$cluster_refusal" "an existing FILE is refused as local export refuses it"
assert_exit 2 jc --cluster export p2.example.com "$SANDBOX_DIR/nodir/p2.tar.zst"
assert_ko validate "file: directory $SANDBOX_DIR/nodir does not exist"
# etcd names a host that does not hold the jail: its export is refused (404) and nothing is left here
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" put /jailctl/jails/ghost.example.com "{\"host\":\"$second\",\"ip\":\"203.0.113.99\"}" >/dev/null
assert_exit 5 jc --cluster export ghost.example.com "$SANDBOX_DIR/ghost.tar.zst"
assert_ko export "HTTP 404"
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" del /jailctl/jails/ghost.example.com >/dev/null
[ ! -e "$SANDBOX_DIR/ghost.tar.zst" ] && [ ! -e "$SANDBOX_DIR/ghost.tar.zst.part" ] || fail "a failed export left $(ls "$SANDBOX_DIR"/ghost*)"
# a stream that breaks midway (here: this machine may write 1 KiB of a file, then EFBIG): no FILE, no .part
export_capped() { ( trap '' XFSZ; ulimit -f 1; jc --cluster export p2.example.com "$1" ); }
assert_exit 5 export_capped "$SANDBOX_DIR/cut.tar.zst"
assert_ko export "File too large"
[ ! -e "$SANDBOX_DIR/cut.tar.zst" ] && [ ! -e "$SANDBOX_DIR/cut.tar.zst.part" ] || fail "a broken export left $(ls "$SANDBOX_DIR"/cut*)"

info "--cluster exec: the command runs on the jail's host; its stdin goes there, its output and exit status come back"
assert_exit 3 jc --cluster exec p2.example.com -- /bin/sh -c 'cat; hostname; echo to-err >&2; exit 3' <<<"given on host a"
assert_eq "given on host a"$'\n'"p2.example.com" "$OUT" "stdout through the cluster"
assert_eq "to-err" "$ERR" "stderr through the cluster"
assert_exit 0 jc2 --json --cluster exec --user=root p2.example.com -- /usr/bin/id -u </dev/null
assert_eq "$second 0 0" "$(json_eval "$OUT_FILE" 'd["host"] + " " + str(d["exit_status"]) + " " + __import__("base64").b64decode(d["stdout_base64"]).decode().strip()')" "exec --json"
assert_exit 143 jc --cluster exec p2.example.com --timeout 1 -- /bin/sleep 60 </dev/null
assert_contains "$ERR" "ran past --timeout 1 s and was stopped" "the time limit's note, from the host"
assert_exit 0 jc --cluster exec p2.example.com -- /bin/true <&-  # no stdin at all (cron): no input
assert_exit 2 jc --cluster exec p2.example.com </dev/null
assert_ko validate "command is required"
assert_exit 2 jc --cluster exec p2.example.com --bogus -- true </dev/null
assert_ko validate "bogus"
assert_exit 2 jc --cluster exec p2.example.com --user nobody-here -- true </dev/null
assert_ko validate "nobody-here.*(on host $second)"
head -c 60000 /dev/zero | tr '\0' x > "$SANDBOX_DIR/big.in"
assert_exit 2 jc --cluster exec p2.example.com -- /bin/true <"$SANDBOX_DIR/big.in"
assert_ko validate "stdin: more than 48 KiB"

info "--cluster import-site: the site (a directory, or a tarball) of this machine sent to the placed host, served there"
mkdir -p "$SANDBOX_DIR/site/img"
printf '<html><head><title>Imported through the cluster</title></head></html>\n' > "$SANDBOX_DIR/site/index.html"
echo "a picture" > "$SANDBOX_DIR/site/img/p.txt"
ln -s img/p.txt "$SANDBOX_DIR/site/link.txt"
assert_exit 0 jc --json --cluster import-site s1.example.com --ip 203.0.113.77 --size 64M --from "$SANDBOX_DIR/site" --host c
assert_eq "OK c" "$(json_eval "$OUT_FILE" 'd["result"] + " " + d["host"]')" "import-site through the cluster"
assert_contains "$(client_curl -H "Host: s1.example.com" http://203.0.113.77/)" "Imported through the cluster" "the imported page"
assert_eq "a picture" "$(client_curl -H "Host: s1.example.com" http://203.0.113.77/link.txt)" "a link of the site"
assert_contains "$(etcd_get /jailctl/jails/s1.example.com)" '"host":"c"' "etcd: the imported jail's host"
tar -C "$SANDBOX_DIR/site" -czf "$SANDBOX_DIR/site.tar.gz" .
assert_exit 0 jc2 --cluster import-site s2.example.com --ip 203.0.113.78 --size 64M --from "$SANDBOX_DIR/site.tar.gz"
assert_contains "$(client_curl -H "Host: s2.example.com" http://203.0.113.78/)" "Imported through the cluster" "the page of the tarball"
[ -z "$(ls -A "$(host_root c)/uploads" 2>/dev/null)" ] || fail "host c kept an upload: $(ls "$(host_root c)/uploads")"
info "--cluster import-site refusals: nothing claimed, no upload left"
ln -s /etc/passwd "$SANDBOX_DIR/site/escape"
assert_exit 2 jc --cluster import-site s3.example.com --ip 203.0.113.79 --size 64M --from "$SANDBOX_DIR/site" --host c
assert_ko validate "escape"
rm "$SANDBOX_DIR/site/escape"
assert_exit 2 jc --cluster import-site s3.example.com --ip 203.0.113.79 --size 64M --from "$SANDBOX_DIR/nosuch"
assert_ko validate "from: .*nosuch: No such file"
assert_exit 3 jc --cluster import-site s1.example.com --ip 203.0.113.79 --size 64M --from "$SANDBOX_DIR/site"
assert_ko validate "domain: s1.example.com is already a jail on host c"
assert_eq "" "$(etcd_keys /jailctl/jails/s3.example.com)$(etcd_keys /jailctl/ips/203.0.113.79)" "claims left by refused import-sites"
[ -z "$(ls -A "$(host_root c)/uploads" 2>/dev/null)" ] || fail "host c kept an upload: $(ls "$(host_root c)/uploads")"

info "--cluster console: a shell in the jail on its host, this terminal relayed (script(1) gives this side a pty)"
rc=0
out=$({ sleep 2; printf 'stty size; echo "u=$(id -u) h=$(hostname) t=$TERM"; exit 7\n'; sleep 5; } |
  TERM=xterm-256color on_host a timeout 60 script -qec \
    "stty rows 33 cols 101; $JAILCTL --root $(host_root a) --cluster console p2.example.com" /dev/null) || rc=$?
assert_eq 7 "$rc" "the remote shell's exit status: $out"
assert_contains "$out" "u=0 h=p2.example.com t=xterm-256color" "the shell runs in the jail"
assert_contains "$out" "33 101" "this terminal's size, there"
assert_contains "$out" "console of p2.example.com on host $second" "the host named"
assert_exit 2 jc --cluster console p2.example.com </dev/null
assert_ko validate "console needs a terminal on stdin"
assert_exit 2 jc --cluster console p2.example.com --timeout 3 </dev/null
assert_ko validate "timeout"
info "--cluster console: SIGTERM to the client hangs the console up on the host"
{ sleep 30 | on_host a script -qec "$JAILCTL --root $(host_root a) --cluster console p2.example.com" /dev/null >/dev/null 2>&1; } &
relay_job=$!
remote() { pgrep -f -- "--json console .*p2\.example\.com" || true; }
for _ in $(seq 1 50); do [ -n "$(remote)" ] && break; sleep 0.2; done
[ -n "$(remote)" ] || fail "no console process on host $second"
client=$(pgrep -f -- "--cluster console p2.example.com" | while read -r p; do [ "$(cat /proc/$p/comm)" = jailctl ] && echo "$p"; done)
[ -n "$client" ] || fail "no console client"
kill -TERM $client
for _ in $(seq 1 50); do [ -z "$(remote)" ] && break; sleep 0.2; done
[ -z "$(remote)" ] || fail "the console on host $second outlived its client: $(remote)"
wait "$relay_job" 2>/dev/null || true

info "host-local verbs: refused, saying why and where to run them"
assert_exit 2 jc2 --json --cluster metrics
assert_contains "$(json_eval "$OUT_FILE" 'd["error"]["message"]')" "on the host it is for (hosts: a, b, c)"
assert_exit 2 jc --cluster repair
assert_ko validate "verb: 'repair' does not run through the cluster: it finishes or undoes the interrupted tasks"

info "--cluster import and restore: an archive of this machine sent to the placed host (the one --cluster export wrote)"
assert_exit 0 jc --json --cluster import "$SANDBOX_DIR/p2.tar.zst" --domain i1.example.com --ip 203.0.113.81 --host c
assert_eq "OK c" "$(json_eval "$OUT_FILE" 'd["result"] + " " + d["host"]')" "import through the cluster"
assert_eq 200 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: i1.example.com" http://203.0.113.81/)" "the imported site answers"
assert_contains "$(etcd_get /jailctl/jails/i1.example.com)" '"host":"c"' "etcd: the imported jail's host"
assert_exit 0 jc2 --cluster restore --ip=203.0.113.82 --domain r1.example.com -- "$SANDBOX_DIR/p2b.tar.zst"
assert_contains "$(etcd_get /jailctl/ips/203.0.113.82)" '"domain":"r1.example.com"' "etcd: the restored jail's address"
assert_eq 200 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: r1.example.com" http://203.0.113.82/)" "the restored site answers"
[ -z "$(ls -A "$(host_root c)/uploads" "$(host_root a)/uploads" "$(host_root b)/uploads" 2>/dev/null | grep -v : || true)" ] ||
  fail "an upload was left: $(ls -R "$(host_root a)/uploads" "$(host_root b)/uploads" "$(host_root c)/uploads" 2>/dev/null)"
info "--cluster import and restore refusals: nothing claimed"
assert_exit 3 jc --cluster restore "$SANDBOX_DIR/p2.tar.zst"
assert_ko validate "domain: p2.example.com is already a jail on host $second"
assert_exit 2 jc --cluster restore "$SANDBOX_DIR/p2.tar.zst" --replace
assert_ko validate "written as a stream.*\(on host $second\)"
assert_exit 2 jc --cluster import "$SANDBOX_DIR/nosuch.tar.zst" --domain i2.example.com
assert_ko validate "file: .*nosuch.tar.zst"
assert_exit 2 jc --cluster import --domain i2.example.com
assert_ko validate "file is required"
assert_exit 2 jc --cluster import "$SANDBOX_DIR/p2.tar.zst" --domain i2.example.com --ip 203.0.113.83 --bogus
assert_ko validate "bogus"
assert_eq "" "$(etcd_keys /jailctl/jails/i2.example.com)$(etcd_keys /jailctl/ips/203.0.113.83)" "claims left by refused imports"
assert_exit 0 jc --cluster destroy --force i1.example.com
assert_exit 0 jc --cluster destroy --force r1.example.com

info "renew through the cluster: on the jail's host (no ACME there: refused, saying so); --all on every up host"
assert_exit 4 jc --cluster renew p2.example.com
assert_ko validate "ACME is off.*\(on host $second\)"
assert_exit 0 jc --json --cluster renew --all
assert_eq "a:OK:False b:OK:False c:OK:False" \
  "$(json_eval "$OUT_FILE" '" ".join(h["host"] + ":" + h["result"] + ":" + str(h["acme"]) for h in d["hosts"])')"
assert_exit 0 jc3 --cluster renew --all --days 10
for h in a b c; do assert_contains "$OUT" "host $h: OK"$'\n'"  ACME is off on $h: nothing to renew"; done
assert_exit 2 jc --cluster renew --all p2.example.com
assert_ko validate "domain: name one jail, or --all for every jail"

info "the race: 10 rounds of both hosts creating at once (same domain, or same address)"
for round in 0 1 2 3 4 5 6 7 8 9; do
  if [ $((round % 2)) -eq 0 ]; then da=race$round.example.com db=$da ipa=203.0.113.$((100 + round)) ipb=203.0.113.$((120 + round))
  else da=race$round.example.com db=racer$round.example.com ipa=203.0.113.$((100 + round)) ipb=$ipa; fi
  jc --cluster create "$da" --ip "$ipa" --size 64M >"$SANDBOX_DIR/ra.out" 2>&1 & pa=$!
  jc2 --cluster create "$db" --ip "$ipb" --size 64M >"$SANDBOX_DIR/rb.out" 2>&1 & pb=$!
  ra=0; wait $pa || ra=$?
  rb=0; wait $pb || rb=$?
  [ "$(printf '%s\n' $ra $rb | sort | tr '\n' ' ')" = "0 3 " ] ||
    fail "round $round: exit statuses $ra and $rb (want one 0, one 3): $(cat "$SANDBOX_DIR/ra.out" "$SANDBOX_DIR/rb.out")"
  if [ $ra -eq 0 ]; then winner=$da; else winner=$db; fi
  grep -q "^KO: validate: .*already" "$SANDBOX_DIR/r$([ $ra -eq 0 ] && echo b || echo a).out" || fail "round $round: the loser's message"
  assert_exit 0 jc --cluster destroy --force "$winner"
done
info "10 rounds, one winner each"

info "renew with ACME on $second and its CA unreachable: p2's renew is a task there, KO; --all is KO for $second only"
conf="$(host_root "$second")/host.conf"
cp "$conf" "$SANDBOX_DIR/host.conf.saved"
echo "acme_directory = https://198.51.100.254:1/dir" >> "$conf"
assert_exit 5 jc --cluster renew p2.example.com
assert_contains "$ERR" "(on host $second)"
assert_exit 5 jc2 --json --cluster renew --all
assert_eq "KO 1 of 3 hosts failed" "$(json_eval "$OUT_FILE" 'd["result"] + " " + d["error"]["message"]')" "renew --all with one host failing"
for h in a b c; do
  want=OK; [ "$h" = "$second" ] && want=KO
  assert_eq "$want" "$(json_eval "$OUT_FILE" '[h["result"] for h in d["hosts"] if h["host"] == "'"$h"'"][0]')" "host $h's renew --all"
done
assert_eq failed "$(json_eval "$OUT_FILE" '[j["result"] for h in d["hosts"] for j in h["jails"] if j["domain"] == "p2.example.com"][0]')"
assert_exit 5 jc --cluster renew --all
assert_contains "$OUT" "host $second: KO"
assert_contains "$OUT" "  KO  p2.example.com: failed"
assert_ko renew "1 of 3 hosts failed"
cp "$SANDBOX_DIR/host.conf.saved" "$conf"
