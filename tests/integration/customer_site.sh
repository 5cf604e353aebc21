# Day-2 verbs on a site the customer made their own: jailctl's tests prove the service (the FTPS
# upload read back over HTTP), and look for the domain at / only while / is jailctl's placeholder.
# A customer's page, a / that redirects (most PHP applications) or has no index: test, passwd,
# alias add, set --https-only, clone, backup/restore (in place and under a new domain) and
# export/import all stay OK; a / that answers a server error is a KO naming it. import-site
# serves the site's own index (index.htm, index.php under --profile php), never the placeholder
# in front of it. set --profile with a web option changes both in one task.
set -euo pipefail
require_python3
D=own.example.com IP=203.0.113.80

assert_exit 0 jc create "$D" --ip "$IP" --size 64M --profile php
parse_create_output
FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
upload() {  # name content
  printf '%s' "$2" > "$SANDBOX_DIR/$1"
  client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/$1" "ftp://$IP/www/$1" || fail "FTPS upload of $1"
}
remove() { client_curl "${FTPS[@]}" -Q "DELE www/$1" "ftp://$IP/" > /dev/null || fail "FTPS delete of www/$1"; }
status_of() {  # ip host
  client_curl -o /dev/null -w '%{http_code}' -H "Host: $2" "http://$1/"
}

info "the customer's own page: test, clone, backup, restore in place and under a new name, export/import"
upload index.html '<html><head><title>Buy our stuff</title></head><body>shop</body></html>'
assert_exit 0 jc test "$D"
assert_exit 0 jc clone "$D" clone.example.com --ip 203.0.113.81
assert_contains "$(client_curl -H 'Host: clone.example.com' http://203.0.113.81/)" "Buy our stuff" "the clone's page"
assert_exit 0 jc destroy --force clone.example.com
assert_exit 0 jc --json backup "$D"
archive=$(json_eval "$OUT_FILE" 'd["file"]')
assert_exit 0 jc restore "$archive" --replace
assert_contains "$(client_curl -H "Host: $D" "http://$IP/")" "Buy our stuff" "the page after restore --replace"
assert_exit 0 jc restore "$archive" --domain restored.example.com --ip 203.0.113.82
assert_contains "$(client_curl -H 'Host: restored.example.com' http://203.0.113.82/)" "Buy our stuff" "the restored copy's page"
assert_exit 0 jc destroy --force restored.example.com
assert_exit 0 jc export "$D" "$SANDBOX_DIR/own.tar.zst"
assert_exit 0 jc import "$SANDBOX_DIR/own.tar.zst" --domain imported.example.com --ip 203.0.113.83
assert_contains "$(client_curl -H 'Host: imported.example.com' http://203.0.113.83/)" "Buy our stuff" "the imported copy's page"
assert_exit 0 jc destroy --force imported.example.com

info "a / that redirects (index.php), then one with no index at all: the day-2 verbs stay OK"
remove index.html
upload index.php '<?php header("Location: /en/"); exit;'
assert_eq 302 "$(status_of "$IP" "$D")" "GET / of the redirecting site"
assert_exit 0 jc test "$D"
assert_exit 0 jc passwd "$D"
parse_create_output   # the new password
FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS")
assert_exit 0 jc alias add "$D" shop.own.example.com
assert_exit 0 jc set "$D" --https-only
assert_eq 301 "$(status_of "$IP" "$D")" "GET http:// of the https-only site"
assert_exit 0 jc set "$D" --no-https-only
remove index.php
status=$(status_of "$IP" "$D")
case $status in 403|404) ;; *) fail "GET / of a site without an index: HTTP $status" ;; esac
assert_exit 0 jc test "$D"

info "a / that answers a server error is a KO naming it"
upload index.php '<?php http_response_code(500); echo "broken";'
assert_exit 5 jc test "$D"
assert_ko test "HTTP 500 \\(a server error"
remove index.php

info "import-site: the site's own index is served, whichever nginx lists first"
mkdir -p "$SANDBOX_DIR/htm" "$SANDBOX_DIR/php" "$SANDBOX_DIR/both"
echo '<html><head><title>Old static site</title></head></html>' > "$SANDBOX_DIR/htm/index.htm"
echo '<?php echo 6 * 7, " from index.php\n";' > "$SANDBOX_DIR/php/index.php"
cp "$SANDBOX_DIR/php/index.php" "$SANDBOX_DIR/both/" && echo '<title>static copy</title>' > "$SANDBOX_DIR/both/index.html"
assert_exit 0 jc --json import-site htm.example.com --ip 203.0.113.84 --size 64M --from "$SANDBOX_DIR/htm"
assert_eq index.htm "$(json_eval "$OUT_FILE" 'd["site"]["index"]')" "the index import-site says is served"
assert_contains "$(client_curl -H 'Host: htm.example.com' http://203.0.113.84/)" "Old static site" "GET / of the index.htm site"
assert_exit 0 jc import-site php.example.com --ip 203.0.113.85 --size 64M --from "$SANDBOX_DIR/php" --profile php
assert_eq "42 from index.php" "$(client_curl -H 'Host: php.example.com' http://203.0.113.85/)" "GET / of the index.php site"
assert_exit 0 jc import-site both.example.com --ip 203.0.113.86 --size 64M --from "$SANDBOX_DIR/both" --profile php
assert_eq "42 from index.php" "$(client_curl -H 'Host: both.example.com' http://203.0.113.86/)" "GET / with index.php and index.html"
for d in htm php both; do assert_exit 0 jc destroy --force "$d.example.com"; done

info "set --profile with a web option: both in one task"
assert_exit 0 jc create web.example.com --ip 203.0.113.87 --size 64M
assert_exit 0 jc --json set web.example.com --profile php --https-only
assert_eq "php True" "$(json_eval "$OUT_FILE" 'd["profile"], d["web"]["https_only"]' | tr -d "(),'")" "set's result"
assert_eq 301 "$(status_of 203.0.113.87 web.example.com)" "GET http:// after set --profile php --https-only"
assert_exit 0 jc --json set web.example.com --profile static --no-https-only --cpus 0.5
assert_eq "static False 0.5" "$(json_eval "$OUT_FILE" 'd["profile"], d["web"]["https_only"], d["limits"]["cpus"]' | tr -d "(),'")" "set's result (cpus a number)"
assert_eq 200 "$(status_of 203.0.113.87 web.example.com)" "GET / after going back"
