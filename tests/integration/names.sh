# Names (issue 14): long domains work end to end or are refused plainly (defect 1); a host name
# served by one jail is never claimed by another (defect 7); FTP users are unique on the host
# (defect 8).
set -euo pipefail

l63=$(printf 'a%.0s' {1..63})
LONG63="$l63.example"                      # a 63-character label, 71 characters in all
LONG243=$(python3 -c 'n = "ab." * 80; print(n[:236] + "example")')   # 243 characters, short labels
LONG253=$(python3 -c 'n = "ab." * 84; print(n[:246] + "example")')   # 253: a DNS name, too long for LXC
[ ${#LONG243} = 243 ] && [ ${#LONG253} = 253 ] || fail "test names have the wrong length"

status_of() { client_curl -o "$SANDBOX_DIR/body" -w '%{http_code}' -H "Host: $2" "http://$1/"; }

info "defect 1: a 63-character label"
assert_exit 0 jc create "$LONG63" --ip 203.0.113.71 --size 64M
parse_create_output
assert_eq "$LONG63" "$CREATED_DOMAIN" "domain"
assert_eq 200 "$(status_of 203.0.113.71 "www.$LONG63")" "HTTP for www.$LONG63"
grep -q "$LONG63" "$SANDBOX_DIR/body" || fail "the page does not name $LONG63"
cert="$JAILCTL_ROOT/jails/$LONG63/rootfs/etc/ssl/jailctl/ftp.crt"
openssl x509 -in "$cert" -noout -ext subjectAltName | grep -q "DNS:www.$LONG63" || fail "www.$LONG63 not in the SAN"
assert_exit 0 jc exec "$LONG63" -- /bin/hostname
assert_eq "$l63" "$OUT" "hostname (at most 63 characters)"
assert_exit 0 jc test "$LONG63"
assert_exit 0 jc stop "$LONG63"
assert_exit 0 jc start "$LONG63"
assert_exit 0 jc destroy --force "$LONG63"

info "defect 1: 243 characters of short labels (the longest a jail may have)"
assert_exit 0 jc create "$LONG243" --ip 203.0.113.72 --size 64M
assert_eq 200 "$(status_of 203.0.113.72 "$LONG243")" "HTTP for the 243-character name"
assert_exit 0 jc --json status "$LONG243"
assert_eq running "$(json_eval "$OUT_FILE" 'd[0]["state"]')" "state"
ls "$JAILCTL_ROOT/log/$LONG243/" | grep -q -- '-create' || fail "no create log in the 243-character log dir"
assert_exit 0 jc test "$LONG243"
assert_exit 0 jc destroy --force "$LONG243"

info "defect 1: 253 and 244 characters are refused plainly (exit 2, never 5)"
snapshot_state long
assert_exit 2 jc create "$LONG253" --ip 203.0.113.73 --size 64M
assert_ko validate 'domain: name is 253 characters long \(at most 243 for a jail: LXC'
assert_exit 2 jc create "x$LONG243" --ip 203.0.113.73 --size 64M
assert_ko validate 'domain: name is 244 characters long'
assert_state_unchanged long "a refused long name"

info "defect 7: www.example.com while example.com exists, and the other way round"
assert_exit 0 jc create example.com --ip 203.0.113.74 --size 64M
snapshot_state claims
assert_exit 3 jc create www.example.com --ip 203.0.113.75 --size 64M
assert_ko validate 'domain: www.example.com is already served by jail example.com'
assert_exit 3 jc create www.www.example.com --ip 203.0.113.75 --size 64M
assert_ko validate 'would also serve www.example.com, which jail example.com already serves'
assert_exit 3 jc clone example.com www.example.com --ip 203.0.113.75
assert_ko 'validate|register' 'www.example.com is already served by jail example.com'
assert_state_unchanged claims "refused claims"
assert_exit 0 jc create www.shop.example --ip 203.0.113.76 --size 64M
conf="$JAILCTL_ROOT/jails/www.shop.example/rootfs/etc/nginx/nginx.conf"
grep -q 'server_name www.shop.example shop.example;' "$conf" || fail "server_name of www.shop.example: $(grep server_name "$conf")"
! grep -q 'www\.www\.' "$conf" || fail "nginx got www.www."
assert_eq 200 "$(status_of 203.0.113.76 shop.example)" "HTTP for the bare name of www.shop.example"
assert_exit 3 jc create shop.example --ip 203.0.113.77 --size 64M
assert_ko validate 'domain: shop.example is already served by jail www.shop.example'
info "races: 4 parallel creates of names that overlap, exactly one wins"
pids=()
for i in 1 2 3 4; do
  if [ $((i % 2)) = 1 ]; then d=race.example; else d=www.race.example; fi
  ( rc=0; jc create "$d" --ip "203.0.113.$((77 + i))" --size 64M >"$SANDBOX_DIR/raceout.$i" 2>&1 || rc=$?
    echo "$rc" > "$SANDBOX_DIR/racerc.$i" ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
codes=$(cat "$SANDBOX_DIR"/racerc.* | sort | tr '\n' ' ')
assert_eq "0 3 3 3 " "$codes" "exit statuses of the racing creates"
assert_exit 0 jc --json status
assert_eq 1 "$(json_eval "$OUT_FILE" 'len([j for j in d if j["domain"] in ("race.example", "www.race.example")])')" "race winners"
for d in race.example www.race.example www.shop.example; do jc destroy --force "$d" >/dev/null 2>&1 || true; done

info "defect 8: FTP users unique on the host, in both orders"
assert_exit 0 jc create examplec.om --ip 203.0.113.82 --size 64M
parse_create_output
assert_eq examplecom-2 "$FTP_USER" "FTP user of examplec.om after example.com"
assert_exit 0 jc test examplec.om
assert_exit 0 jc --json status
assert_eq '["examplecom", "examplecom-2"]' "$(json_eval "$OUT_FILE" 'sorted(j["ftp_user"] for j in d if j["domain"] in ("example.com", "examplec.om"))')" "FTP users"
assert_eq examplec.om "$(json_eval "$OUT_FILE" '[j["domain"] for j in d if j["ftp_user"] == "examplecom-2"][0]')" "jail of examplecom-2"
assert_exit 0 jc destroy --force example.com
assert_exit 0 jc destroy --force examplec.om
assert_exit 0 jc create examplec.om --ip 203.0.113.82 --size 64M
parse_create_output
assert_eq examplecom "$FTP_USER" "FTP user of examplec.om alone"
assert_exit 0 jc create example.com --ip 203.0.113.74 --size 64M
parse_create_output
assert_eq examplecom-2 "$FTP_USER" "FTP user of example.com after examplec.om"
assert_exit 0 jc test example.com
echo "PASS names"
