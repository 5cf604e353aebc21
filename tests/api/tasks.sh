# The REST API end to end: tokens, create through the API with its steps live over SSE (in order,
# `done` last, late subscribers get the past), the jail in the listing, the day-to-day actions,
# logs, and what each role may do.
set -euo pipefail
require_python3
source "$TESTS_DIR/api/helpers.bash"

info "tokens: shown once, only a hash stored"
ADMIN=$(new_token adm admin)
OPER=$(new_token ops operator)
VIEW=$(new_token night viewer)
assert_match "$ADMIN" '^jct_[0-9a-f]{64}$' "admin token"
assert_exit 0 jc token list
assert_contains "$OUT" "ops"
assert_not_contains "$OUT" "$OPER" "token list"
if sqlite3 "$JAILCTL_ROOT/jailctl.db" .dump | grep -qF "$ADMIN"; then fail "the registry holds a token in clear"; fi
assert_exit 3 jc token add adm --role viewer
assert_exit 2 jc token add x --role root
assert_ko validate 'role'

start_serve
info "serve prints its certificate's fingerprint"
assert_eq "$(cert_fpr "$CACERT")" "$(normalize_fpr "$(sed -n 's/^sha256 fingerprint: //p' "$SERVE_LOG")")" "fingerprint"
api_expect 200 "" GET /healthz
fetch_openapi
conforms GET /healthz
info "the console is served at / without a token, with its CSP"
curl -s --cacert "$CACERT" -D "$SANDBOX_DIR/console.h" -o "$SANDBOX_DIR/console.html" "$API_URL/"
assert_contains "$(cat "$SANDBOX_DIR/console.h")" "Content-Security-Policy: default-src 'self'" "console headers"
assert_contains "$(cat "$SANDBOX_DIR/console.html")" "<html" "console page"
api_expect 404 "" GET /nope.js
api_expect 200 "$OPER" GET /api/v1/whoami
assert_eq '{"name": "ops", "role": "operator"}' "$(api_field 'd')" "whoami"
conforms GET /api/v1/whoami

info "create through the API; steps arrive live over SSE"
api_expect 202 "$ADMIN" POST /api/v1/jails '{"domain":"api.example.com","ip":"203.0.113.40","size":"64M"}'
conforms POST /api/v1/jails
TASK=$(api_field 'd["task"]')
curl -sN --max-time 240 --cacert "$CACERT" -H "Authorization: Bearer $VIEW" \
  "$API_URL/api/v1/tasks/$TASK/events" > "$SANDBOX_DIR/events.1"
wait_task "$ADMIN" "$TASK"
assert_eq ok "$TASK_STATE" "create task: $(cat "$API_OUT")"
conforms GET '/api/v1/tasks/{id}'
cp "$API_OUT" "$SANDBOX_DIR/task.json"
# the events: step events, each step running then ok, in the order of the task's steps; done last
check_events() {
  python3 - "$1" "$SANDBOX_DIR/task.json" <<'PY' || fail "SSE stream $1 is wrong: $(cat "$1")"
import json, sys
text = open(sys.argv[1]).read()
task = json.load(open(sys.argv[2]))
events = []
for block in text.split("\n\n"):
    lines = [l for l in block.split("\n") if l and not l.startswith(":")]
    if not lines: continue
    ev = dict(l.split(": ", 1) for l in lines)
    events.append((ev["event"], json.loads(ev["data"])))
assert events, "no events"
assert events[-1][0] == "done", "last event is not done"
assert [e for e, _ in events].count("done") == 1, "done more than once"
done = events[-1][1]
assert done["state"] == "ok" and done["id"] == task["id"], done
steps = [d for e, d in events if e == "step"]
order = []
for s in steps:
    if s["name"] not in order: order.append(s["name"])
assert order == [s["name"] for s in task["steps"]], (order, task["steps"])
for name in order:
    seq = [s["status"] for s in steps if s["name"] == name]
    assert seq == ["running", "ok"], (name, seq)
assert all(s["ms"] >= 0 for s in steps)
print("events ok:", len(steps), "step events")
PY
}
check_events "$SANDBOX_DIR/events.1"
assert_eq True "$(json_eval "$SANDBOX_DIR/task.json" 'd["result"]["ftp"]["user"] == "apiexamplecom" and len(d["result"]["ftp"]["password"]) >= 20')" "result has the FTP account"
# the viewer's stream ended with the same task, without the password the admin's create made
assert_eq "apiexamplecom None True" "$(python3 -c 'import json,sys
done = [b for b in open(sys.argv[1]).read().split("\n\n") if b.startswith("event: done")][0]
r = json.loads(done.split("data: ", 1)[1])["result"]
print(r["ftp"]["user"], r["ftp"]["password"], r["secrets_hidden"])' "$SANDBOX_DIR/events.1")" "the viewer's done event"
assert_eq True "$(json_eval "$SANDBOX_DIR/task.json" 'all(s["end"] and s["start"] <= s["end"] for s in d["steps"])')" "step times"
info "a late subscriber gets the whole story"
curl -sN --max-time 30 --cacert "$CACERT" "$API_URL/api/v1/tasks/$TASK/events?token=$VIEW" > "$SANDBOX_DIR/events.2"
check_events "$SANDBOX_DIR/events.2"
if grep -qF "$VIEW" "$SERVE_LOG"; then fail "the request log shows a token"; fi

info "the listing"
api_expect 200 "$VIEW" GET /api/v1/jails
assert_eq "api.example.com running" "$(api_field '" ".join(j["domain"] + " " + j["state"] for j in d["jails"])')" "jails"
conforms GET /api/v1/jails
api_expect 200 "$VIEW" GET /api/v1/jails/api.example.com
assert_eq 203.0.113.40 "$(api_field 'd["ip"]')" "one jail"
conforms GET '/api/v1/jails/{domain}'
api_expect 200 "$VIEW" GET /api/v1/jails/API.example.com
assert_eq api.example.com "$(api_field 'd["domain"]')" "the domain in the URL is normalised like the CLI's"
api_expect 404 "$VIEW" GET /api/v1/jails/nope.example.com
api_expect 400 "$VIEW" GET /api/v1/jails/bad_domain
assert_eq domain "$(api_field 'd["error"]["field"]')"

info "the FTP account the API returned works from the customer's side"
FTP_USER=$(json_eval "$SANDBOX_DIR/task.json" 'd["result"]["ftp"]["user"]')
FTP_PASS=$(json_eval "$SANDBOX_DIR/task.json" 'd["result"]["ftp"]["password"]')
echo hello-api > "$SANDBOX_DIR/up.txt"
client_curl --ssl-reqd --insecure -T "$SANDBOX_DIR/up.txt" -u "$FTP_USER:$FTP_PASS" "ftp://203.0.113.40/www/up.txt" ||
  fail "FTPS upload with the API's credentials"

info "operator: day-to-day actions"
run_action "$OPER" POST /api/v1/jails/api.example.com/stop '{"timeout":5}' ok
api_expect 200 "$VIEW" GET /api/v1/jails/api.example.com
assert_eq stopped "$(api_field 'd["state"]')"
run_action "$OPER" POST /api/v1/jails/api.example.com/start '' ok
run_action "$OPER" POST /api/v1/jails/api.example.com/restart '{}' ok
run_action "$OPER" POST /api/v1/jails/api.example.com/test '' ok
run_action "$OPER" POST /api/v1/jails/api.example.com/passwd '' ok
NEWPASS=$(api_field 'd["result"]["ftp"]["password"]')
[ "$NEWPASS" != "$FTP_PASS" ] || fail "passwd gave the same password"
# a task's secrets are its starter's and the admins': another token reads it without them
api_expect 200 "$VIEW" GET "/api/v1/tasks/$TASK_ID"
assert_eq "None True ok" "$(api_field 'd["result"]["ftp"]["password"], d["result"]["secrets_hidden"], d["state"]' | tr -d "(),'")" "the viewer's view of the passwd task"
api_expect 200 "$ADMIN" GET "/api/v1/tasks/$TASK_ID"
assert_eq "$NEWPASS" "$(api_field 'd["result"]["ftp"]["password"]')" "the admin's view of the passwd task"
run_action "$OPER" POST /api/v1/jails/api.example.com/set '{"memory":"300M","pids":300}' ok
api_expect 200 "$VIEW" GET /api/v1/jails/api.example.com
assert_eq 300 "$(api_field 'd["limits"]["pids"]')" "pids after set"
run_action "$OPER" POST /api/v1/jails/api.example.com/grow '{"size":"80M"}' ok
run_action "$OPER" POST /api/v1/jails/api.example.com/backup '' ok
run_action "$OPER" POST /api/v1/jails/api.example.com/fsck '{"restart":true}' ok
info "the verb's own validation: 400 naming the field, no task"
api_expect 400 "$OPER" POST /api/v1/jails/api.example.com/grow '{"size":"70M"}'
assert_eq size "$(api_field 'd["error"]["field"]')"
api_expect 200 "$VIEW" GET /api/v1/tasks
assert_eq True "$(api_field 'len(d["tasks"]) == 10 and d["tasks"][0]["verb"] == "fsck"')" "task list, newest first"
conforms GET /api/v1/tasks

info "exec (admin): the command's output and exit status are the task's result; stdin, user, limits"
decoded() { api_field "__import__('base64').b64decode(d['result']['$1']).decode()"; }
api_expect 403 "$OPER" POST /api/v1/jails/api.example.com/exec '{"command":["/usr/bin/id"]}'
run_action "$ADMIN" POST /api/v1/jails/api.example.com/exec \
  '{"command":["/bin/sh","-c","cat; echo to-err >&2; exit 3"],"stdin":"from the API\n"}' ok
conforms GET '/api/v1/tasks/{id}'
assert_eq 3 "$(api_field 'd["result"]["exit_status"]')" "the command's exit status"
assert_eq "from the API" "$(decoded stdout_base64)" "stdout (the stdin given)"
assert_eq "to-err" "$(decoded stderr_base64)" "stderr"
assert_eq False "$(api_field 'd["result"]["truncated"]')" "truncated"
api_expect 200 "$OPER" GET "/api/v1/tasks/$TASK_ID"
assert_eq "3 None None True" "$(api_field 'd["result"]["exit_status"], d["result"]["stdout_base64"], d["result"]["stderr_base64"], d["result"]["secrets_hidden"]' | tr -d "(),'")" "an operator's view of the admin's exec"
api_expect 200 "$VIEW" GET /api/v1/jails/api.example.com/logs
EXECLOG=$(api_field '[l["name"] for l in d["logs"] if l["name"].endswith("-exec.log")][-1]')
api_expect 200 "$VIEW" GET "/api/v1/jails/api.example.com/logs/$EXECLOG"
assert_contains "$API_BODY" "by host uid 0 for API token adm: /bin/sh -c" "the exec's audit log names the token"
run_action "$ADMIN" POST /api/v1/jails/api.example.com/exec "{\"command\":[\"/usr/bin/id\",\"-u\"],\"user\":\"$FTP_USER\"}" ok
assert_eq 2000 "$(decoded stdout_base64)" "uid of the FTP user"
run_action "$ADMIN" POST /api/v1/jails/api.example.com/exec '{"command":["/bin/sh","-c","head -c 3000000 /dev/zero | tr \"\\0\" x"]}' ok
assert_eq "True 1048576" "$(api_field 'd["result"]["truncated"], len(__import__("base64").b64decode(d["result"]["stdout_base64"]))' | tr -d '(),')" "output kept: its last 1 MiB"
t0=$SECONDS
run_action "$ADMIN" POST /api/v1/jails/api.example.com/exec '{"command":["/bin/sleep","120"],"timeout":1}' ok
assert_eq 143 "$(api_field 'd["result"]["exit_status"]')" "stopped at its time limit"
assert_contains "$(decoded stderr_base64)" "ran past --timeout 1 s and was stopped" "the time limit's note"
[ $((SECONDS - t0)) -lt 30 ] || fail "the 1 s time limit took $((SECONDS - t0)) s"
api_expect 400 "$ADMIN" POST /api/v1/jails/api.example.com/exec '{"command":["/usr/bin/id"],"user":"nobody-here"}'
assert_contains "$(api_field 'd["error"]["message"]')" "nobody-here"
api_expect 400 "$ADMIN" POST /api/v1/jails/api.example.com/exec '{"command":["/usr/bin/id"],"timeout":0}'
assert_eq timeout "$(api_field 'd["error"]["field"]')" "timeout 0"
api_expect 400 "$ADMIN" POST /api/v1/jails/api.example.com/exec '{"command":[]}'
assert_eq command "$(api_field 'd["error"]["field"]')" "empty command"

info "console (admin): a shell on a pty of serve's; its output long-polled, keys and window size posted; its token's only"
# console_read TOKEN ID: the console's output until it ended (410), in CONSOLE_OUT
console_read() {
  local code i all="$SANDBOX_DIR/console.all"
  : >"$all"
  for i in $(seq 1 20); do
    code=$(curl -s --max-time 30 --cacert "$CACERT" -H "Authorization: Bearer $1" -o "$SANDBOX_DIR/console.out" \
      -w '%{http_code}' "$API_URL/api/v1/consoles/$2/output")
    case $code in
      200) cat "$SANDBOX_DIR/console.out" >>"$all" ;;
      204) ;;
      410) CONSOLE_OUT=$(tr -d '\r' <"$all"); return 0 ;;
      *) fail "console $2 output: HTTP $code $(cat "$SANDBOX_DIR/console.out")" ;;
    esac
  done
  fail "console $2 did not end: $(cat "$all")"
}
api_expect 403 "$OPER" POST /api/v1/jails/api.example.com/console '{}'
api_expect 400 "$ADMIN" POST /api/v1/jails/api.example.com/console '{"rows":0}'
assert_eq rows "$(api_field 'd["error"]["field"]')" "rows 0"
api_expect 400 "$ADMIN" POST /api/v1/jails/api.example.com/console '{"term":"x;reboot"}'
assert_eq term "$(api_field 'd["error"]["field"]')" "a TERM that is no terminal type"
api_expect 400 "$ADMIN" POST /api/v1/jails/api.example.com/console '{"user":"nobody-here"}'
assert_contains "$(api_field 'd["error"]["message"]')" "nobody-here"
api_expect 202 "$ADMIN" POST /api/v1/jails/api.example.com/console '{"rows":33,"cols":101,"term":"xterm-256color"}'
conforms POST '/api/v1/jails/{domain}/console'
CON=$(api_field 'd["task"]')
assert_eq "/api/v1/consoles/$CON" "$(api_field 'd["console"]')" "the console's path"
OTHER_ADMIN=$(new_token adm2 admin)
api_expect 404 "$OTHER_ADMIN" POST "/api/v1/consoles/$CON/input" $'exit 9\n'  # another token's console
api_expect 403 "$OPER" GET "/api/v1/consoles/$CON/output"
api_expect 204 "$ADMIN" POST "/api/v1/consoles/$CON/input" $'stty size\n'
sleep 1
api_expect 400 "$ADMIN" POST "/api/v1/consoles/$CON/resize" '{"rows":40}'
assert_eq cols "$(api_field 'd["error"]["field"]')" "resize without cols"
api_expect 204 "$ADMIN" POST "/api/v1/consoles/$CON/resize" '{"rows":40,"cols":120}'
sleep 1
api_expect 204 "$ADMIN" POST "/api/v1/consoles/$CON/input" $'stty size; echo "t=$TERM u=$(id -u) $((6*7))"; exit 4\n'
console_read "$ADMIN" "$CON"
assert_contains "$CONSOLE_OUT" $'\n33 101\n' "the window size given at the start"
assert_contains "$CONSOLE_OUT" $'\n40 120\n' "the window size after a resize"
assert_contains "$CONSOLE_OUT" "t=xterm-256color u=0 42" "TERM, the user and the shell's own arithmetic"
wait_task "$ADMIN" "$CON" 60
assert_eq "ok 4" "$TASK_STATE $(api_field 'd["result"]["exit_status"]')" "the console's task: the shell's exit status"
api_expect 404 "$ADMIN" POST "/api/v1/consoles/$CON/input" ''
grep -q "POST /api/v1/jails/api.example.com/console 202 .* token=adm$" "$SERVE_LOG" || fail "the console's start is not in serve's log"
grep -q "GET /api/v1/consoles/$CON/output 410 " "$SERVE_LOG" || fail "the console's end is not in serve's log"
if grep -E "/api/v1/consoles/$CON/(input|output) 20[04] " "$SERVE_LOG"; then fail "serve logged a console's keys or polls one by one"; fi
api_expect 200 "$VIEW" GET /api/v1/jails/api.example.com/logs
CONLOG=$(api_field '[l["name"] for l in d["logs"] if l["name"].endswith("-console.log")][-1]')
api_expect 200 "$VIEW" GET "/api/v1/jails/api.example.com/logs/$CONLOG"
assert_contains "$API_BODY" "for API token adm: /bin/sh -l" "the console's audit log names the token"
info "console hung up (DELETE): its task is ended"
api_expect 202 "$ADMIN" POST /api/v1/jails/api.example.com/console '{}'
CON=$(api_field 'd["task"]')
api_expect 204 "$ADMIN" DELETE "/api/v1/consoles/$CON"
wait_task "$ADMIN" "$CON" 30
assert_eq 137 "$(api_field 'd["result"]["exit_status"]')" "a hung-up console's task: killed"
api_expect 404 "$ADMIN" GET "/api/v1/consoles/$CON/output"

info "/metrics: Prometheus text for viewers"
api_expect 200 "$VIEW" GET /metrics
assert_contains "$API_BODY" 'domain="api.example.com"' "metrics"
api_expect 401 "" GET /metrics

info "logs"
api_expect 200 "$VIEW" GET /api/v1/jails/api.example.com/logs
conforms GET '/api/v1/jails/{domain}/logs'
LOGNAME=$(api_field '[l["name"] for l in d["logs"] if "create" in l["name"]][0]')
api_expect 200 "$VIEW" GET "/api/v1/jails/api.example.com/logs/$LOGNAME"
assert_contains "$API_BODY" "[register] start" "create log"
for bad in "..%2F..%2Fjailctl.db" "%2E%2E" ".hidden" "nope.log" "..%2Fother.example.com%2Fcreate.log"; do
  api_expect 404 "$VIEW" GET "/api/v1/jails/api.example.com/logs/$bad"
done
api_expect 404 "$VIEW" GET /api/v1/jails/nope.example.com/logs

info "roles: viewer reads only, operator may not create or destroy"
api_expect 403 "$VIEW" POST /api/v1/jails/api.example.com/stop ''
api_expect 403 "$VIEW" POST /api/v1/jails '{"domain":"v.example.com","ip":"203.0.113.41","size":"64M"}'
api_expect 403 "$VIEW" DELETE /api/v1/jails/api.example.com
api_expect 403 "$OPER" POST /api/v1/jails '{"domain":"v.example.com","ip":"203.0.113.41","size":"64M"}'
api_expect 403 "$OPER" DELETE /api/v1/jails/api.example.com
api_expect 403 "$OPER" POST /api/v1/jails/api.example.com/clone '{"domain":"c.example.com","ip":"203.0.113.42"}'

info "conflicts: 409 naming the field"
api_expect 409 "$ADMIN" POST /api/v1/jails '{"domain":"api.example.com","ip":"203.0.113.43","size":"64M"}'
assert_eq domain "$(api_field 'd["error"]["field"]')"
api_expect 409 "$ADMIN" POST /api/v1/jails '{"domain":"other.example.com","ip":"203.0.113.40","size":"64M"}'
assert_eq ip "$(api_field 'd["error"]["field"]')"

info "admin: clone, destroy"
run_action "$ADMIN" POST /api/v1/jails/api.example.com/clone '{"domain":"clone.example.com","ip":"203.0.113.44"}' ok
run_action "$ADMIN" DELETE "/api/v1/jails/clone.example.com?force=true" "" ok
api_expect 404 "$VIEW" GET /api/v1/jails/clone.example.com
run_action "$ADMIN" DELETE "/api/v1/jails/api.example.com?force=true" "" ok
api_expect 200 "$VIEW" GET /api/v1/jails
assert_eq 0 "$(api_field 'len(d["jails"])')" "no jails left"

info "token remove: refused from then on"
assert_exit 0 jc token remove ops
api_expect 401 "$OPER" GET /api/v1/whoami
assert_exit 2 jc token remove ops
stop_serve
echo "api tasks: OK"
