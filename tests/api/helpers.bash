# tests/api/helpers.bash — helpers of the API tests (sourced): serve in the sandbox, tokens, requests.
API_HOST=203.0.113.1
API_PORT=8443
API_URL="https://$API_HOST:$API_PORT"
API_OUT="$SANDBOX_DIR/api.out"
SERVE_LOG="$SANDBOX_DIR/serve.log"
SERVE_PID=

# start_serve: jailctl serve on the uplink's address (reachable from the sandbox and the client)
start_serve() {
  "$JAILCTL" --root "$JAILCTL_ROOT" serve --listen "$API_HOST:$API_PORT" >>"$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  CACERT="$JAILCTL_ROOT/api/cert.pem"
  retry 20 api_up || fail "serve did not come up:"$'\n'"$(cat "$SERVE_LOG")"
}
api_up() { [ -s "$CACERT" ] && curl -s --cacert "$CACERT" -o /dev/null "$API_URL/healthz"; }
stop_serve() {
  [ -n "$SERVE_PID" ] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=
}
trap stop_serve EXIT

# new_token NAME ROLE: prints the bare token (the last line of token add)
new_token() { jc token add "$1" --role "$2" | tail -n 1; }
# add_row_jail / remove_row_jail: row.example.com as a registry row only (no disk, no jail):
# enough for the per-jail endpoints to find it and reach their body checks
add_row_jail() {
  jc status >/dev/null
  sqlite3 "$JAILCTL_ROOT/jailctl.db" "INSERT INTO jails(domain, ip, size_bytes, sparse, ftp_user, ftp_tls, id_base,
    state, created) VALUES('row.example.com', '203.0.113.50', 67108864, 0, 'rowexamplecom', 'required', 1073741824,
    'ready', '2026-01-01T00:00:00Z')"
}
remove_row_jail() { sqlite3 "$JAILCTL_ROOT/jailctl.db" "DELETE FROM jails WHERE domain = 'row.example.com'"; }

# api TOKEN METHOD PATH [BODY]: API_STATUS = HTTP status, the body in $API_OUT (and API_BODY)
api() {
  local token=$1 method=$2 path=$3 args=()
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "${API_SRC:-}" ] && args+=(--interface "$API_SRC")  # another client address (errors.sh)
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  API_STATUS=$(curl -s --max-time 60 --cacert "$CACERT" -X "$method" "${args[@]}" -o "$API_OUT" -w '%{http_code}' "$API_URL$path")
  API_BODY=$(cat "$API_OUT")
}
# api_expect STATUS TOKEN METHOD PATH [BODY]
api_expect() {
  local want=$1; shift
  api "$@"
  [ "$API_STATUS" = "$want" ] || fail "$2 $3: HTTP $API_STATUS, expected $want: $API_BODY"
}
# api_field <python expr on d>: from the last response
api_field() { json_eval "$API_OUT" "$1"; }

# wait_task TOKEN ID [seconds]: until the task is no longer running; TASK_STATE = ok|ko, task JSON in $API_OUT
wait_task() {
  local deadline=$((SECONDS + ${3:-240}))
  while :; do
    api_expect 200 "$1" GET "/api/v1/tasks/$2"
    [ ! -f "$SANDBOX_DIR/openapi.served.json" ] || conforms GET '/api/v1/tasks/{id}'
    TASK_STATE=$(api_field 'd["state"]')
    [ "$TASK_STATE" != running ] && return 0
    [ $SECONDS -lt $deadline ] || fail "task $2 still running after ${3:-240} s"
    sleep 0.5
  done
}
# run_action TOKEN METHOD PATH BODY WANT(ok|ko): 202, then the task ends in WANT
run_action() {
  api_expect 202 "$1" "$2" "$3" "$4"
  local id; id=$(api_field 'd["task"]')
  wait_task "$1" "$id"
  [ "$TASK_STATE" = "$5" ] || fail "$2 $3 $4: task $id ended $TASK_STATE, expected $5: $(cat "$API_OUT")"
  TASK_ID=$id
}

# conforms METHOD PATH_TEMPLATE: the last response matches the OpenAPI document's schema for it
OPENAPI_DOC="$TESTS_DIR/../src/api/openapi.json"
conforms() {
  python3 "$TESTS_DIR/api/openapi_check.py" "$SANDBOX_DIR/openapi.served.json" "$API_OUT" "$1" "$2" "$API_STATUS" ||
    fail "response does not conform to the OpenAPI document: $(head -c 400 "$API_OUT")"
}
# fetch_openapi: the document serve publishes (the same as the repository's, compiled in)
fetch_openapi() {
  curl -sf --cacert "$CACERT" -o "$SANDBOX_DIR/openapi.served.json" "$API_URL/api/v1/openapi.json" ||
    fail "GET /api/v1/openapi.json"
  cmp -s "$SANDBOX_DIR/openapi.served.json" "$OPENAPI_DOC" || fail "the served OpenAPI document is not src/api/openapi.json"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["openapi"].startswith("3.")' \
    "$SANDBOX_DIR/openapi.served.json" || fail "not an OpenAPI 3 document"
}
