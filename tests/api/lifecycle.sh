# serve's life with running tasks: an API create and a CLI destroy of the same jail are serialised
# like two CLIs; a task that fails is KO with its step (SSE done last); SIGTERM lets a running
# create finish and exits 0; kill -9 of serve mid-create leaves what a killed CLI leaves, and
# `jailctl repair` cleans it up.
set -euo pipefail
require_python3
source "$TESTS_DIR/api/helpers.bash"
ADMIN=$(new_token adm admin)
# passwd's "password" step fails in this serve's tasks (fault injection of the task engine)
JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=password start_serve

info "API create while a CLI destroys the same jail: serialised by the jail's lock"
api_expect 202 "$ADMIN" POST /api/v1/jails '{"domain":"conc.example.com","ip":"203.0.113.70","size":"64M"}'
TASK=$(api_field 'd["task"]')
rc=0; jc destroy --force conc.example.com >"$SANDBOX_DIR/destroy.out" 2>&1 || rc=$?
wait_task "$ADMIN" "$TASK"
assert_eq ok "$TASK_STATE" "the API create (a CLI destroy never breaks it)"
case $rc in
  0) info "the CLI destroy waited for the create, then destroyed"
     assert_exit 2 jc status conc.example.com ;;
  2) assert_contains "$(cat "$SANDBOX_DIR/destroy.out")" "not a jail" "destroy before the create registered"
     info "the CLI destroy came before the create registered: refused as with two CLIs"
     assert_exit 0 jc destroy --force conc.example.com ;;
  *) fail "CLI destroy during an API create: exit $rc: $(cat "$SANDBOX_DIR/destroy.out")" ;;
esac

info "CLI create while the API destroys the same jail"
jc create conc2.example.com --ip 203.0.113.71 --size 64M >"$SANDBOX_DIR/create.out" 2>&1 &
CREATE_PID=$!
retry 20 jc status conc2.example.com >/dev/null 2>&1 || fail "the CLI create did not register"
api_expect 202 "$ADMIN" DELETE "/api/v1/jails/conc2.example.com?force=true"
DTASK=$(api_field 'd["task"]')
wait "$CREATE_PID" || fail "the CLI create failed: $(cat "$SANDBOX_DIR/create.out")"
wait_task "$ADMIN" "$DTASK"
assert_eq ok "$TASK_STATE" "the API destroy ran after the CLI create"
assert_exit 2 jc status conc2.example.com

info "a task that fails: KO, its step and cause, SSE done last"
run_action "$ADMIN" POST /api/v1/jails '{"domain":"ko.example.com","ip":"203.0.113.72","size":"64M"}' ok
api_expect 202 "$ADMIN" POST /api/v1/jails/ko.example.com/passwd ''
KTASK=$(api_field 'd["task"]')
wait_task "$ADMIN" "$KTASK"
assert_eq ko "$TASK_STATE" "passwd with an injected failure"
assert_eq password "$(api_field 'd["error"]["step"]')" "failed step"
assert_contains "$(api_field 'd["error"]["message"]')" "injected failure"
assert_eq undone "$(api_field '[s["status"] for s in d["steps"] if s["name"] == "password"][0]')" \
  "the failed step's status (it undoes its own partial work)"
curl -sN --max-time 30 --cacert "$CACERT" -H "Authorization: Bearer $ADMIN" \
  "$API_URL/api/v1/tasks/$KTASK/events" > "$SANDBOX_DIR/events.ko"
python3 - "$SANDBOX_DIR/events.ko" <<'PY' || fail "SSE of the KO task: $(cat "$SANDBOX_DIR/events.ko")"
import json, sys
blocks = [b for b in open(sys.argv[1]).read().split("\n\n") if b.strip()]
names = [b.split("\n")[0] for b in blocks]
assert names[-1] == "event: done" and names.count("event: done") == 1, names
done = json.loads(blocks[-1].split("\n")[1][len("data: "):])
assert done["state"] == "ko" and done["error"]["step"] == "password", done
steps = [json.loads(b.split("\n")[1][len("data: "):]) for b in blocks[:-1]]
seq = [s["status"] for s in steps if s["name"] == "password"]
assert seq == ["running", "failed", "undone"], seq
PY

info "SIGTERM: serve stops accepting, lets the running create finish, exits 0"
api_expect 202 "$ADMIN" POST /api/v1/jails '{"domain":"drain.example.com","ip":"203.0.113.73","size":"64M"}'
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
SERVE_PID=
assert_eq 0 "$rc" "serve's exit status after SIGTERM"
assert_contains "$(cat "$SERVE_LOG")" "SIGTERM"
assert_exit 0 jc --json status drain.example.com
assert_eq running "$(json_eval "$OUT_FILE" 'd[0]["state"]')" "the create SIGTERM did not cut short"
if curl -s --max-time 5 --cacert "$CACERT" -o /dev/null "$API_URL/healthz"; then fail "serve still answers after SIGTERM"; fi

info "SIGTERM with a console open: the console is hung up, not waited for; serve exits"
start_serve
api_expect 202 "$ADMIN" POST /api/v1/jails/drain.example.com/console '{}'
CON=$(api_field 'd["task"]')
curl -s --max-time 30 --cacert "$CACERT" -H "Authorization: Bearer $ADMIN" -o /dev/null "$API_URL/api/v1/consoles/$CON/output" &
poll=$!
sleep 0.5
pgrep -f -- "--json console .*drain\.example\.com" >/dev/null || fail "no console process for drain.example.com"
t0=$SECONDS
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
SERVE_PID=
assert_eq 0 "$rc" "serve's exit status after SIGTERM with a console open"
[ $((SECONDS - t0)) -le 15 ] || fail "serve took $((SECONDS - t0)) s to stop with a console open"
wait "$poll" || true
if pgrep -f -- "--json console .*drain\.example\.com"; then fail "the console outlived serve"; fi

info "kill -9 of serve mid-create: what a killed CLI leaves; repair cleans it up"
start_serve
killed=0
for attempt in 1 2 3; do
  d="kill$attempt.example.com"
  # kill serve once the task is past its disk step (its image made) but not finished; the client
  # posts and polls on one kept-alive connection, to be quick enough for a ~0.5 s create
  verdict=$(python3 - "$CACERT" "$API_HOST" "$API_PORT" "$ADMIN" "$SERVE_PID" "$d" "203.0.113.8$attempt" <<'PY'
import http.client, json, os, signal, ssl, sys, time
cafile, host, port, token, pid, domain, ip = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
c.request("POST", "/api/v1/jails", body=json.dumps({"domain": domain, "ip": ip, "size": "64M"}), headers=auth)
r = c.getresponse(); task = json.loads(r.read())["task"]
deadline = time.time() + 60
while time.time() < deadline:
    c.request("GET", f"/api/v1/tasks/{task}", headers=auth)
    t = json.loads(c.getresponse().read())
    if t["state"] != "running":
        print("finished (" + " ".join(s["name"] for s in t["steps"]) + ")"); sys.exit(0)
    if any(s["name"] == "disk" and s["status"] == "ok" for s in t["steps"]):
        os.kill(int(pid), signal.SIGKILL)
        print("killed after " + " ".join(s["name"] + ":" + s["status"] for s in t["steps"])); sys.exit(0)
print("timeout")
PY
)
  info "attempt $attempt: $verdict"
  if [[ "$verdict" == killed* ]]; then
    wait "$SERVE_PID" 2>/dev/null || true
    SERVE_PID=
    killed=1
    break
  fi
  stop_serve
  start_serve
done
[ "$killed" = 1 ] || fail "could not kill serve mid-create in 3 attempts"
# PR_SET_PDEATHSIG: the task died with serve (as a killed CLI), nothing of it keeps running
sleep 0.5
if grep -laF "create" /proc/[0-9]*/cmdline 2>/dev/null | xargs -r grep -laF "$d" 2>/dev/null | grep -q .; then
  fail "the create task of $d outlived serve's kill -9"
fi
assert_exit 0 jc --json status "$d"
assert_eq not-configured "$(json_eval "$OUT_FILE" 'd[0]["state"]')" "the interrupted jail is marked for repair"
assert_exit 0 jc repair "$d"
rc=0; jc --json status "$d" >"$OUT_FILE" 2>/dev/null || rc=$?
if [ "$rc" = 0 ]; then
  assert_eq None "$(json_eval "$OUT_FILE" 'd[0]["reason"]')" "no reason left after repair"
fi
# and the API works again on the same state
start_serve
api_expect 200 "$ADMIN" GET /api/v1/jails
stop_serve
echo "api lifecycle: OK"
