# The php profile (issue 12): create --profile php proves PHP runs before OK; a PHP page uploaded
# over FTPS executes; backups of it (x.php~, x.php.bak) and other PHP suffixes stay refused; a PHP
# memory hog is stopped by the jail's memory limit while a neighbour answers and the site keeps
# serving; php-fpm is socket-activated (none runs until a PHP request, stopped when idle); set
# --profile static makes *.php 403 again (and php brings it back); the customer reads the logs
# over FTPS in logs/ and cannot change them.
set -euo pipefail
require_python3
D=php.example.com IP=203.0.113.60
N=neighbour.example.com NIP=203.0.113.61

info "create --profile php: the create test ran a PHP script"
assert_exit 0 jc create "$D" --ip "$IP" --size 128M --memory 96M --profile php
parse_create_output
assert_contains "$OUT" "profile:   php" "create's report"
assert_exit 0 jc --json status "$D"
assert_eq php "$(json_eval "$OUT_FILE" "d[0]['profile']")" "status --json profile"
assert_exit 0 jc create "$N" --ip "$NIP" --size 64M

FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
upload() {  # name content
  printf '%s' "$2" > "$SANDBOX_DIR/$1"
  client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/$1" "ftp://$IP/www/$1" || fail "FTPS upload of $1"
}
status_of() { client_curl -o /dev/null -w '%{http_code}' -H "Host: $D" "http://$IP/$1"; }

info "a PHP page uploaded over FTPS executes (as the FTP user, sessions inside the jail)"
upload hello.php '<?php session_start(); $_SESSION["n"] = 1; echo 6 * 7, " ", posix_getpwuid(posix_geteuid())["name"], " ", session_save_path(), "\n";'
body=$(client_curl -H "Host: $D" "http://$IP/hello.php")
assert_eq "42 $FTP_USER /var/lib/php/sessions" "$body" "hello.php's answer"
ls "$JAILCTL_ROOT/jails/$D/rootfs/var/lib/php/sessions/" | grep -q '^sess_' || fail "no session file inside the jail"
upload hello.php~ '<?php echo "source";'
upload hello.php.bak '<?php echo "source";'
upload hello.phtml '<?php echo "source";'
for f in hello.php~ hello.php.bak hello.phtml .env.php; do
  assert_eq 403 "$(status_of "$f")" "GET /$f with the php profile"
done
assert_eq 404 "$(status_of missing.php)" "GET /missing.php"

info "a PHP memory hog is stopped by the jail's memory limit; the neighbour answers meanwhile"
upload hog.php '<?php ini_set("memory_limit", "-1"); $s = str_repeat("x", 400 << 20); echo strlen($s), "\n";'
code=$(client_curl -o "$SANDBOX_DIR/hog.out" -w '%{http_code}' -H "Host: $D" "http://$IP/hog.php" || true)
[ "$code" != 200 ] || fail "the memory hog got 400 MiB in a 96 MiB jail: $(cat "$SANDBOX_DIR/hog.out")"
info "hog: HTTP $code"
assert_exit 0 jc test "$N"
assert_eq "42 $FTP_USER /var/lib/php/sessions" "$(client_curl -H "Host: $D" "http://$IP/hello.php")" "hello.php after the hog"
assert_exit 0 jc test "$D"

info "the customer reads the logs over FTPS in logs/, cannot delete them, and they are capped"
client_curl "${FTPS[@]}" "ftp://$IP/logs/access.log" > "$SANDBOX_DIR/access.log" || fail "FTPS download of logs/access.log"
assert_contains "$(cat "$SANDBOX_DIR/access.log")" "GET /hello.php" "logs/access.log"
client_curl "${FTPS[@]}" "ftp://$IP/logs/php-fpm.log" > "$SANDBOX_DIR/php-fpm.log" || fail "FTPS download of logs/php-fpm.log"
assert_contains "$(cat "$SANDBOX_DIR/php-fpm.log")" "ready to handle connections" "logs/php-fpm.log"
rc=0; client_curl "${FTPS[@]}" -Q "DELE logs/access.log" "ftp://$IP/" > /dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the customer deleted logs/access.log"
rc=0; client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/access.log" "ftp://$IP/logs/access.log" > /dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the customer overwrote logs/access.log"
logs="$JAILCTL_ROOT/jails/$D/rootfs/srv/site/logs"
cap=$(awk '$1 == "/srv/site/logs/access.log" {print $2}' "$JAILCTL_ROOT/jails/$D/rootfs/etc/jailctl/logs")
assert_eq $((128 * 1024 * 1024 / 128)) "$cap" "access.log's cap for a 128 MiB disk"
long=$(head -c 3000 /dev/zero | tr '\0' 'q')
client_curl -H "Host: $D" "http://$IP/index.html?[1-500]$long" > /dev/null || fail "the request flood"
size=$(stat -c %s "$logs/access.log")
[ "$size" -gt "$cap" ] || fail "the flood wrote only $size bytes to access.log"
retry 15 test -e "$logs/access.log.1" || fail "access.log ($size bytes) was not rotated within 15 s"
[ "$(stat -c %s "$logs/access.log")" -le "$cap" ] || fail "access.log is still past its cap after the rotation"
total=$(du -cb "$logs"/access.log* | tail -n 1 | cut -f1)
[ "$total" -le $((2 * cap + 2 * 1024 * 1024)) ] || fail "access.log and its old copy take $total bytes"
client_curl -o /dev/null -H "Host: $D" "http://$IP/index.html?after-rotation"
retry 5 grep -q after-rotation "$logs/access.log" || fail "nginx did not reopen access.log after the rotation"
client_curl "${FTPS[@]}" "ftp://$IP/logs/access.log" | grep -q after-rotation || fail "the new access.log is unreadable over FTPS"

info "php-fpm is socket-activated: none runs until a PHP request; stopped when idle, started again"
# jailctl-init holds /run/php-fpm.sock (services: --socket ... --idle-stop=60); here the jail's
# own files get short idle times (workers 1 s, master 1 s) so that the test need not wait 70 s.
rootfs="$JAILCTL_ROOT/jails/$D/rootfs"
cp "$rootfs/etc/jailctl/services" "$SANDBOX_DIR/services.saved"
cp "$rootfs/etc/jailctl/php-fpm.conf" "$SANDBOX_DIR/php-fpm.conf.saved"
grep -q -- "--socket=/run/php-fpm.sock .*--idle-stop=60 " "$rootfs/etc/jailctl/services" || fail "php-fpm is not socket-activated: $(cat "$rootfs/etc/jailctl/services")"
sed -i 's/--idle-stop=60 /--idle-stop=1 /' "$rootfs/etc/jailctl/services"
sed -i 's/^pm.process_idle_timeout = .*/pm.process_idle_timeout = 1s/' "$rootfs/etc/jailctl/php-fpm.conf"
assert_exit 0 jc restart "$D"
php_fpm() {  # state pid restarts of php-fpm, from jailctl-init's state file
  python3 -c 'import json,sys
s=[s for s in json.load(sys.stdin)["services"] if s["name"] == "php-fpm"][0]
print(s["state"], s["pid"], s["restarts"])' < "$rootfs/run/jailctl/init.json"
}
php_waiting() { [ "$(php_fpm | cut -d" " -f1)" = waiting ]; }
assert_eq "waiting 0 0" "$(php_fpm)" "php-fpm after a restart, before any PHP request"
[ -S "$rootfs/run/php-fpm.sock" ] || fail "no socket held at /run/php-fpm.sock"
assert_exit 0 jc --json status "$D"
assert_eq waiting "$(json_eval "$OUT_FILE" "[s['state'] for s in d[0]['services'] if s['name'] == 'php-fpm'][0]")" "status --json: php-fpm's state"
assert_eq "42 $FTP_USER /var/lib/php/sessions" "$(client_curl -H "Host: $D" "http://$IP/hello.php")" "the first PHP request (php-fpm started by it)"
assert_eq running "$(php_fpm | cut -d" " -f1)" "php-fpm after the first request"
retry 15 php_waiting || fail "php-fpm still runs 15 s after its last request: $(php_fpm)"
[ -S "$rootfs/run/php-fpm.sock" ] || fail "the held socket is gone after php-fpm's idle stop: $(ls -l "$rootfs/run"; tail -n 8 "$rootfs/srv/site/logs/php-fpm.log")"
assert_eq "42 $FTP_USER /var/lib/php/sessions" "$(client_curl -H "Host: $D" "http://$IP/hello.php")" "a PHP request after the idle stop"
assert_eq "running 0" "$(php_fpm | cut -d" " -f1,3)" "php-fpm started again (an idle stop is no failure: no restart counted)"
assert_exit 0 jc test "$D"
cp "$SANDBOX_DIR/services.saved" "$rootfs/etc/jailctl/services"
cp "$SANDBOX_DIR/php-fpm.conf.saved" "$rootfs/etc/jailctl/php-fpm.conf"
assert_exit 0 jc restart "$D"

info "set --profile static: *.php is 403 again and php-fpm is gone; php brings it back"
assert_exit 0 jc set "$D" --profile static
assert_contains "$OUT" "profile:   static" "set's report"
assert_eq 403 "$(status_of hello.php)" "GET /hello.php with the static profile"
assert_not_contains "$(cat "$JAILCTL_ROOT/jails/$D/rootfs/run/jailctl/init.json")" php-fpm "services after set --profile static"
assert_exit 0 jc --json status "$D"
assert_eq static "$(json_eval "$OUT_FILE" "d[0]['profile']")" "status --json profile after set"
assert_exit 0 jc set "$D" --profile php
assert_eq "42 $FTP_USER /var/lib/php/sessions" "$(client_curl -H "Host: $D" "http://$IP/hello.php")" "hello.php after set --profile php"
snapshot_state php
assert_exit 2 jc set "$D" --profile perl
assert_contains "$ERR" "profile" "stderr of set --profile perl"
assert_state_unchanged php "state after set --profile perl"
assert_exit 2 jc create bad.example.com --ip 203.0.113.62 --size 64M --profile PHP
assert_contains "$ERR" "profile" "stderr of create --profile PHP"
assert_state_unchanged php "state after create --profile PHP"

info "jailctl test fails when nginx hands out *.php instead of running it"
conf="$JAILCTL_ROOT/jails/$D/rootfs/etc/nginx/nginx.conf"
cp "$conf" "$SANDBOX_DIR/nginx.conf.saved"
sed -i 's|fastcgi_pass unix:/run/php-fpm.sock;|default_type text/plain;|' "$conf"
assert_exit 0 jc restart "$D"
assert_exit 5 jc test "$D"
assert_contains "$ERR" "PHP did not run the script" "test's error with PHP not running"
cp "$SANDBOX_DIR/nginx.conf.saved" "$conf"
assert_exit 0 jc restart "$D"
assert_exit 0 jc test "$D"

assert_exit 0 jc destroy --force "$D"
assert_exit 0 jc destroy --force "$N"

info "a host without php-fpm: --profile php is refused (exit 4, naming the package), nothing changed"
# Inside the sandbox's private mount namespace only: php-fpm is no longer an executable.
fpm=$(ls /usr/sbin/php-fpm[0-9]* | head -n 1)
mount --bind /dev/null "$fpm"
snapshot_state nophp
assert_exit 4 jc create nophp.example.com --ip 203.0.113.63 --size 64M --profile php
assert_contains "$ERR" "php8.2-fpm" "create's error without php-fpm"
assert_state_unchanged nophp "state after create --profile php without php-fpm"
jc host check > "$SANDBOX_DIR/check.txt" 2>&1 || true
grep -qE "^absent +php +no php-fpm" "$SANDBOX_DIR/check.txt" || fail "host check does not say PHP is absent: $(cat "$SANDBOX_DIR/check.txt")"
umount "$fpm"
echo "php: OK"
