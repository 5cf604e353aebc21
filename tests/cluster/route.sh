# The cluster-aware CLI (jailctl --cluster VERB) on three hosts (each in its own network
# namespace with its own state root and serve, tests/cluster/cluster.bash) and a real
# three-member etcd: placement (fewest jails, then free disk, then name: three jails land on
# three hosts) and --host; every routed verb runs on the jail's host whichever host the operator is on; the
# domain/IP race (10 rounds of both hosts creating at once: exactly one winner, the other
# exit 3); bad input is refused with the field named and leaves no claim in etcd.
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
assert_exit 2 jc --cluster backups ok.example.com
assert_ko validate "does not run through the cluster"
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
assert_exit 0 jc2 --cluster alias remove p2.example.com shop.p2.example.com
assert_not_contains "$(jch "$second" alias list p2.example.com)" "shop.p2.example.com" "p2's aliases after the routed remove"
assert_exit 3 jc --cluster create p2.example.com --ip 203.0.113.64 --size 64M
assert_ko validate "p2.example.com is already a jail on host $second"
assert_exit 3 jc2 --cluster create other.example.com --ip 203.0.113.61 --size 64M
assert_ko validate "203.0.113.61 is already used by p1.example.com on host $first"
assert_exit 0 jc3 --cluster restart p1.example.com
assert_contains "$(local_domains "$first")" "p1.example.com:running"
assert_exit 0 jc2 --cluster destroy --force p1.example.com
assert_not_contains "$(local_domains "$first")" "p1.example.com" "$first's jails after the routed destroy"
assert_eq "" "$(etcd_get /jailctl/jails/p1.example.com)" "p1's key after destroy"

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
