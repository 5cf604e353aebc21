# renew and backups over the API (issue 10: `jailctl --cluster renew|backups` run on the jail's
# host through them). renew:
# POST /api/v1/jails/{d}/renew and POST /api/v1/renew (the host's renew --all) for every role
# (401 without a token, 403 for a viewer, operator and admin allowed), 404 for an unknown jail
# and for renew-all named as a jail's action, 400 naming the field; every answer conforms to
# the OpenAPI document. The host has no ACME: renew of a jail is refused (503, the reason
# named), renew --all is a task that is OK with nothing to renew. backups: GET
# /api/v1/jails/{d}/backups and GET /api/v1/backups answer what `backups [DOMAIN] --json`
# lists, to every role (401 without a token, 404 for an unknown jail).
set -euo pipefail
require_python3
source "$TESTS_DIR/api/helpers.bash"
python3 -c 'import jsonschema' 2>/dev/null || { echo "skipped: python3-jsonschema not installed" >&2; exit 77; }

ADMIN=$(new_token adm admin)
OPER=$(new_token ops operator)
VIEW=$(new_token night viewer)
add_row_jail
start_serve
fetch_openapi

info "401 without a token, 403 for a viewer"
api_expect 401 "" POST /api/v1/renew '{}'; conforms POST /api/v1/renew
api_expect 401 "" POST /api/v1/jails/row.example.com/renew '{}'; conforms POST '/api/v1/jails/{domain}/renew'
api_expect 403 "$VIEW" POST /api/v1/renew '{}'; conforms POST /api/v1/renew
assert_contains "$(api_field 'd["error"]["message"]')" "needs role operator"
api_expect 403 "$VIEW" POST /api/v1/jails/row.example.com/renew '{}'; conforms POST '/api/v1/jails/{domain}/renew'

info "404: no such jail; renew-all is the host's, not a jail's"
api_expect 404 "$OPER" POST /api/v1/jails/none.example.com/renew '{}'; conforms POST '/api/v1/jails/{domain}/renew'
assert_eq domain "$(api_field 'd["error"]["field"]')" "404 field"
api_expect 404 "$ADMIN" POST /api/v1/jails/row.example.com/renew-all '{}'

info "400 naming the field"
api_expect 400 "$OPER" POST /api/v1/jails/row.example.com/renew '{"days":true}'; conforms POST '/api/v1/jails/{domain}/renew'
assert_eq days "$(api_field 'd["error"]["field"]')" "400 field"
api_expect 400 "$OPER" POST /api/v1/renew '{"all":false}'; conforms POST /api/v1/renew
assert_eq all "$(api_field 'd["error"]["field"]')" "400 field of renew --all"
api_expect 400 "$OPER" POST /api/v1/renew '{"days":"0"}'; conforms POST /api/v1/renew
assert_contains "$(api_field 'd["error"]["message"]')" "days: 0 is not from 1 to 3650"
api_expect 200 "$VIEW" GET /api/v1/tasks
assert_eq 0 "$(api_field 'len(d["tasks"])')" "no task started by a refused renew"

info "a host without ACME: renew of a jail says why (503), renew --all is OK with nothing to do"
for t in "$OPER" "$ADMIN"; do
  api_expect 503 "$t" POST /api/v1/jails/row.example.com/renew '{}'; conforms POST '/api/v1/jails/{domain}/renew'
  assert_contains "$(api_field 'd["error"]["message"]')" "ACME is off"
  run_action "$t" POST /api/v1/renew '{"days":10}' ok
  conforms GET '/api/v1/tasks/{id}'
  assert_eq renew "$(api_field 'd["verb"]')" "the task's verb"
  assert_eq False "$(api_field 'd["result"]["acme"]')" "renew --all on a host without ACME"
  assert_eq 0 "$(api_field 'len(d["result"]["jails"])')" "jails renewed without ACME"
done
info "backups: what backups --json lists, for every role"
# an archive whose manifest cannot be read is listed too, with the reason
mkdir -p "$JAILCTL_ROOT/backups/row.example.com"
echo "not an archive" > "$JAILCTL_ROOT/backups/row.example.com/20260101T000000Z.tar.zst"
jc --json backups row.example.com > "$SANDBOX_DIR/backups.cli"
[ "$(json_eval "$SANDBOX_DIR/backups.cli" 'len(d["backups"])')" = 1 ] || fail "the CLI lists no backup: $(cat "$SANDBOX_DIR/backups.cli")"
for t in "$VIEW" "$OPER" "$ADMIN"; do
  api_expect 200 "$t" GET /api/v1/jails/row.example.com/backups; conforms GET '/api/v1/jails/{domain}/backups'
  assert_eq "$(json_eval "$SANDBOX_DIR/backups.cli" 'd')" "$(api_field 'd')" "GET /jails/{d}/backups is backups DOMAIN --json"
  api_expect 200 "$t" GET /api/v1/backups; conforms GET /api/v1/backups
  assert_eq "$(json_eval "$SANDBOX_DIR/backups.cli" 'd')" "$(api_field 'd')" "GET /backups is backups --json"
done
[ -n "$(api_field 'd["backups"][0]["error"]')" ] || fail "no reason for the unreadable archive: $API_BODY"
api_expect 401 "" GET /api/v1/jails/row.example.com/backups; conforms GET '/api/v1/jails/{domain}/backups'
api_expect 401 "" GET /api/v1/backups; conforms GET /api/v1/backups
api_expect 404 "$VIEW" GET /api/v1/jails/none.example.com/backups; conforms GET '/api/v1/jails/{domain}/backups'
assert_eq domain "$(api_field 'd["error"]["field"]')" "404 field"
api_expect 400 "$VIEW" GET /api/v1/jails/bad_domain/backups; conforms GET '/api/v1/jails/{domain}/backups'
rm -r "$JAILCTL_ROOT/backups/row.example.com"
stop_serve
remove_row_jail
echo "api renew and backups: OK"
