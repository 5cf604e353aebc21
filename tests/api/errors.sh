# The API's refusals: 401 (no or wrong token), 429 (repeated failures from one address), 403 for
# each role, 404 (path, jail, task, log), 413, 411 (a POST without a length, answered at once),
# and 400 naming the field for 50+ bad bodies — with no change at all; every error conforms to
# the OpenAPI document.
set -euo pipefail
require_python3
source "$TESTS_DIR/api/helpers.bash"
python3 -c 'import jsonschema' 2>/dev/null || { echo "skipped: python3-jsonschema not installed" >&2; exit 77; }

ADMIN=$(new_token adm admin)
OPER=$(new_token ops operator)
VIEW=$(new_token night viewer)
# A registered jail for the per-jail endpoints: a registry row is enough to reach the body checks
# (no action here gets as far as running a step).
add_row_jail
start_serve
fetch_openapi
# the state, but for the tokens' "last used" (serve records it as the tokens are used)
state_now() { _state_dump | grep -v '^api_tokens|'; }

info "401: no token, a wrong one, a malformed header; the answer conforms"
# Each refused request comes from its own address (extra addresses on the sandbox's uplink):
# 5 failures from one address within a minute get it 429, tested last.
src=210
next_src() { src=$((src + 1)); ip addr add "203.0.113.$src/32" dev uplink0 2>/dev/null || true; API_SRC=203.0.113.$src; }
api401() { next_src; api_expect 401 "$@"; API_SRC=; }
api401 "" GET /api/v1/jails; conforms GET /api/v1/jails
api401 "jct_$(printf '0%.0s' {1..64})" GET /api/v1/jails
api401 "${ADMIN}x" GET /api/v1/whoami; conforms GET /api/v1/whoami
next_src
API_STATUS=$(curl -s --interface "$API_SRC" --cacert "$CACERT" -H "Authorization: Basic $ADMIN" -o "$API_OUT" -w '%{http_code}' "$API_URL/api/v1/jails")
assert_eq 401 "$API_STATUS" "Basic auth"
api401 "" POST /api/v1/jails '{"domain":"x.example.com","ip":"203.0.113.60","size":"64M"}'
api401 "" GET /api/v1/tasks
api401 "" GET /api/v1/tasks/1
api401 "" GET /api/v1/tasks/1/events
api401 "" DELETE /api/v1/jails/row.example.com
api401 "" GET /api/v1/jails/row.example.com/logs
api_expect 200 "" GET /api/v1/openapi.json   # public: no secret in it
assert_contains "$(grep ' 401 ' "$SERVE_LOG" | head -n 1)" "token=-" "request log of a refused request"

info "403: what each role may not do"
for t in "$VIEW" "$OPER"; do
  api_expect 403 "$t" POST /api/v1/jails '{"domain":"x.example.com","ip":"203.0.113.60","size":"64M"}'
  conforms POST /api/v1/jails
  api_expect 403 "$t" DELETE /api/v1/jails/row.example.com
  api_expect 403 "$t" POST /api/v1/jails/row.example.com/clone '{"domain":"y.example.com","ip":"203.0.113.61"}'
done
for action in start stop restart test passwd fsck grow backup set; do
  api_expect 403 "$VIEW" POST "/api/v1/jails/row.example.com/$action" '{}'
  conforms POST "/api/v1/jails/{domain}/$action"
done
# the role is checked before the body: a viewer learns nothing about the fields
api_expect 403 "$VIEW" POST /api/v1/jails '{"nonsense":1}'

info "404: unknown path, jail, task, log, action"
api_expect 404 "$VIEW" GET /api/v1/nothing
api_expect 404 "$VIEW" GET /api/v1/jails/none.example.com; conforms GET '/api/v1/jails/{domain}'
api_expect 404 "$OPER" POST /api/v1/jails/none.example.com/start '{}'
api_expect 404 "$ADMIN" DELETE /api/v1/jails/none.example.com
api_expect 404 "$VIEW" GET /api/v1/tasks/999; conforms GET '/api/v1/tasks/{id}'
api_expect 404 "$VIEW" GET /api/v1/tasks/999/events
api_expect 404 "$VIEW" GET /api/v1/jails/none.example.com/logs
api_expect 400 "$ADMIN" POST /api/v1/jails/row.example.com/exec '{}'  # exec exists: its command is required
assert_eq command "$(api_field 'd["error"]["field"]')" "exec without a command"
api_expect 404 "$ADMIN" POST /api/v1/jails/row.example.com/restore '{}'
api_expect 409 "$ADMIN" POST /api/v1/jails/row.example.com/console '{}'  # console exists: the jail must run
assert_contains "$(api_field 'd["error"]["message"]')" "is not running" "console of a stopped jail"
api_expect 404 "$ADMIN" GET /api/v1/consoles/999/output
api_expect 404 "$ADMIN" POST /api/v1/consoles/999/input 'x'
api_expect 404 "$ADMIN" DELETE /api/v1/consoles/999
api_expect 404 "$VIEW" GET /api/v1/jails/row.example.com/logs/..%2F..%2Fjailctl.db

info "413: a body over 64 KiB"
big=$(python3 -c 'import json; print(json.dumps({"domain": "a" * 70000}))')
api_expect 413 "$ADMIN" POST /api/v1/jails "$big"
assert_eq body "$(api_field 'd["error"]["field"]')" "413 field"
conforms POST /api/v1/jails

info "411: a POST with no body and no Content-Length (curl -X POST) is answered at once, not after the read timeout"
t0=$SECONDS
api_expect 411 "$ADMIN" POST /api/v1/jails/row.example.com/start
assert_eq body "$(api_field 'd["error"]["field"]')" "411 field"
[ $((SECONDS - t0)) -lt 10 ] || fail "the 411 took $((SECONDS - t0)) s (the server read until its timeout)"
api_expect 404 "$ADMIN" GET /api/v1/nothing  # the server still answers after closing that connection

info "uploads (the site of a --cluster import-site): admin only, pieces, an id used once"
api_expect 403 "$OPER" POST /api/v1/uploads '{}'
api_expect 201 "$ADMIN" POST /api/v1/uploads '{}'
conforms POST /api/v1/uploads
UP=$(api_field 'd["upload"]')
assert_match "$UP" '^[0-9a-f]{32}$' "upload id"
api_expect 404 "$ADMIN" POST /api/v1/uploads/0123456789abcdef0123456789abcdef 'x'
api_expect 200 "$ADMIN" POST "/api/v1/uploads/$UP" 'not a tarball, '
api_expect 200 "$ADMIN" POST "/api/v1/uploads/$UP" 'in two pieces'
assert_eq 28 "$(api_field 'd["size"]')" "upload size"
api_expect 403 "$OPER" POST /api/v1/import-site "{\"domain\":\"up.example.com\",\"ip\":\"203.0.113.90\",\"size\":\"64M\",\"upload\":\"$UP\"}"
api_expect 400 "$ADMIN" POST /api/v1/import-site '{"domain":"up.example.com","ip":"203.0.113.90","size":"64M","upload":"nope"}'
assert_eq upload "$(api_field 'd["error"]["field"]')" "a bad upload id"
api_expect 400 "$ADMIN" POST /api/v1/import-site "{\"domain\":\"up.example.com\",\"ip\":\"203.0.113.90\",\"size\":\"64M\",\"upload\":\"$UP\"}"
assert_contains "$(api_field 'd["error"]["message"]')" "from" "a site that is no tarball"
api_expect 400 "$ADMIN" POST /api/v1/import-site "{\"domain\":\"up.example.com\",\"ip\":\"203.0.113.90\",\"size\":\"64M\",\"upload\":\"$UP\"}"
assert_contains "$(api_field 'd["error"]["message"]')" "no such upload" "an upload is used once"
api_expect 404 "$VIEW" GET /api/v1/jails/up.example.com
info "uploads as the archive of import and restore (--cluster import|restore FILE): admin, checked as a local one"
api_expect 201 "$ADMIN" POST /api/v1/uploads '{}'
UP=$(api_field 'd["upload"]')
api_expect 200 "$ADMIN" POST "/api/v1/uploads/$UP" 'not an archive'
api_expect 403 "$OPER" POST /api/v1/restore "{\"upload\":\"$UP\"}"
api_expect 400 "$ADMIN" POST /api/v1/import '{"domain":"up.example.com"}'
assert_eq upload "$(api_field 'd["error"]["field"]')" "import without an upload"
api_expect 400 "$ADMIN" POST /api/v1/restore "{\"upload\":\"$UP\",\"replace\":\"yes\"}"
assert_eq replace "$(api_field 'd["error"]["field"]')" "a replace that is no boolean"
api_expect 400 "$ADMIN" POST /api/v1/import "{\"upload\":\"$UP\",\"domain\":\"up.example.com\"}"
assert_contains "$(api_field 'd["error"]["message"]')" "archive" "an upload that is no archive"
api_expect 404 "$VIEW" GET /api/v1/jails/up.example.com

info "400: bad bodies, each naming its field, none changing anything"
state_now > "$SANDBOX_DIR/state.before"
# action|body|field  (field: the one the error must name)
n=0
while IFS='|' read -r path body field; do
  [ -z "$path" ] && continue
  n=$((n + 1))
  method=POST
  api "$ADMIN" "$method" "$path" "$body"
  [ "$API_STATUS" = 400 ] || fail "bad body #$n $path $body: HTTP $API_STATUS, expected 400: $API_BODY"
  got=$(api_field 'd["error"]["field"]')
  [ "$got" = "$field" ] || fail "bad body #$n $path $body: field '$got', expected '$field': $API_BODY"
  template=$path
  [ "$path" = /api/v1/jails ] || template="/api/v1/jails/{domain}/${path##*/}"
  conforms POST "$template"
done <<'TABLE'
/api/v1/jails|{|body
/api/v1/jails|{"domain":|body
/api/v1/jails|not json|body
/api/v1/jails|[]|body
/api/v1/jails|"create"|body
/api/v1/jails|null|body
/api/v1/jails|42|body
/api/v1/jails|true|body
/api/v1/jails|{"ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"x.example.com","size":"64M"}|ip
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60"}|size
/api/v1/jails|{"domain":7,"ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":null,"ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":["x.example.com"],"ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"x.example.com","ip":203,"size":"64M"}|ip
/api/v1/jails|{"domain":"x.example.com","ip":{"a":1},"size":"64M"}|ip
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":false}|size
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":-64}|size
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":1.5}|size
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","sparse":"yes"}|sparse
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","sparse":1}|sparse
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","pids":-1}|pids
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","pids":[1]}|pids
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","cpus":0}|cpus
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","memory":true}|memory
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","ftp_tls":false}|ftp_tls
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","keep_on_failure":true}|keep_on_failure
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","root":"/etc"}|root
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","DOMAIN":"y"}|DOMAIN
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","ftp-tls":"optional"}|ftp-tls
/api/v1/jails|{"domain":"x\u0000.example.com","ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"bad_domain","ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"--help","ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"x.example.com; rm -rf /","ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"$(id).example.com","ip":"203.0.113.60","size":"64M"}|domain
/api/v1/jails|{"domain":"x.example.com","ip":"300.1.1.1","size":"64M"}|ip
/api/v1/jails|{"domain":"x.example.com","ip":"--root=/","size":"64M"}|ip
/api/v1/jails|{"domain":"x.example.com","ip":"127.0.0.1","size":"64M"}|ip
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"1X"}|size
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"1M"}|size
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"-64M"}|size
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","memory":"1K"}|memory
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","cpus":"lots"}|cpus
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","pids":"2"}|pids
/api/v1/jails|{"domain":"x.example.com","ip":"203.0.113.60","size":"64M","ftp_tls":"never"}|ftp_tls
/api/v1/jails/row.example.com/start|{"all":true}|all
/api/v1/jails/row.example.com/start|{"domains":["a"]}|domains
/api/v1/jails/row.example.com/start|[1]|body
/api/v1/jails/row.example.com/stop|{"timeout":"soon","x":1}|x
/api/v1/jails/row.example.com/stop|{"timeout":true}|timeout
/api/v1/jails/row.example.com/restart|{"jobs":4}|jobs
/api/v1/jails/row.example.com/test|{"verbose":true}|verbose
/api/v1/jails/row.example.com/passwd|{"password":"chosen"}|password
/api/v1/jails/row.example.com/fsck|{"repair":"yes"}|repair
/api/v1/jails/row.example.com/grow|{}|size
/api/v1/jails/row.example.com/grow|{"size":null}|size
/api/v1/jails/row.example.com/grow|{"size":"64M","offline":"no"}|offline
/api/v1/jails/row.example.com/backup|{"output":"/etc/shadow"}|output
/api/v1/jails/row.example.com/clone|{"ip":"203.0.113.61"}|domain
/api/v1/jails/row.example.com/clone|{"domain":"y.example.com"}|ip
/api/v1/jails/row.example.com/clone|{"domain":"y.example.com","ip":"203.0.113.61","sparse":true}|sparse
/api/v1/jails/row.example.com/set|{"user":"root"}|user
/api/v1/jails/row.example.com/set|{"memory":[]}|memory
TABLE
[ "$n" -ge 50 ] || fail "only $n bad bodies"
info "$n bad bodies refused"
api_expect 400 "$ADMIN" DELETE "/api/v1/jails/row.example.com?force=yes"
assert_eq force "$(api_field 'd["error"]["field"]')"
api_expect 400 "$ADMIN" DELETE "/api/v1/jails/row.example.com?recursive=true"
api_expect 400 "$VIEW" GET /api/v1/jails/bad_domain
state_now > "$SANDBOX_DIR/state.after"
diff -u "$SANDBOX_DIR/state.before" "$SANDBOX_DIR/state.after" || fail "the bad requests changed the state"
api_expect 200 "$VIEW" GET /api/v1/tasks
assert_eq 0 "$(api_field 'len(d["tasks"])')" "no task was started"
if grep -aq -- '--root=/\|rm -rf' "$SERVE_LOG"; then fail "a request's body reached the request log"; fi

info "the jail listing conforms (a registered but not configured jail)"
api_expect 200 "$VIEW" GET /api/v1/jails
conforms GET /api/v1/jails
assert_eq not-configured "$(api_field 'd["jails"][0]["state"]')" "state of a row without a disk"

info "429: repeated failures from one address slow it down, not the others"
client() { $CLIENT curl -s --max-time 10 --cacert "$CACERT" -o "$API_OUT" -w '%{http_code}' "$@"; }
for i in 1 2 3 4 5; do
  assert_eq 401 "$(client -H 'Authorization: Bearer wrong' "$API_URL/api/v1/whoami")" "failure $i"
done
assert_eq 429 "$(client -H "Authorization: Bearer $VIEW" "$API_URL/api/v1/whoami")" "the 6th attempt, even with a valid token"
API_STATUS=429; conforms GET /api/v1/whoami
assert_eq 200 "$(curl -s --cacert "$CACERT" -H "Authorization: Bearer $VIEW" -o /dev/null -w '%{http_code}' "$API_URL/api/v1/whoami")" \
  "another address is not slowed down"
stop_serve
remove_row_jail
echo "api errors: OK"
