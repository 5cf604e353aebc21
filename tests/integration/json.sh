# --json: create prints exactly one JSON object with the documented fields; global options are
# accepted before and after the verb; a KO is a JSON object too.
set -euo pipefail
require_python3

# check_create_json <file> <domain> <ip> <size_bytes>
check_create_json() {
  local f=$1
  assert_json "$f"
  assert_eq dict "$(json_eval "$f" 'type(d).__name__')" "top-level JSON type"
  assert_eq OK "$(json_eval "$f" 'd["result"]')" "result"
  assert_eq "$2" "$(json_eval "$f" 'd["domain"]')" "domain"
  assert_eq "$3" "$(json_eval "$f" 'd["ip"]')" "ip"
  assert_eq "$4" "$(json_eval "$f" 'd["size_bytes"]')" "size_bytes"
  assert_eq "$(tr -d . <<<"$2")" "$(json_eval "$f" 'd["ftp"]["user"]')" "ftp.user"
  assert_match "$(json_eval "$f" 'd["ftp"]["password"]')" '^[A-HJ-NP-Za-km-np-z2-9]{20,}$' "ftp.password"
  assert_eq required "$(json_eval "$f" 'd["ftp"]["tls"]')" "ftp.tls"
  assert_match "$(normalize_fpr "$(json_eval "$f" 'd["ftp"]["fingerprint"]')")" '^[0-9a-f]{64}$' "ftp.fingerprint"
  local log; log=$(json_eval "$f" 'd["log"]')
  [ -s "$log" ] || fail "log file '$log' named in the JSON does not exist"
  assert_eq True "$(json_eval "$f" 'isinstance(d["steps"], list) and len(d["steps"]) > 3')" "steps is a list of steps"
  assert_eq True "$(json_eval "$f" 'all(set(s) >= {"name","status","ms"} for s in d["steps"])')" \
    "every step has name, status, ms"
  assert_eq True "$(json_eval "$f" 'all(isinstance(s["ms"], (int, float)) and s["ms"] >= 0 for s in d["steps"])')" \
    "every step's ms is a non-negative number"
  assert_eq True "$(json_eval "$f" 'len({s["status"] for s in d["steps"]}) == 1')" \
    "all steps of an OK create share one status: $(json_eval "$f" '[s["status"] for s in d["steps"]]')"
  assert_eq False "$(json_eval "$f" '"error" in d')" "no error object on OK"
}

info "--json before the verb"
assert_exit 0 jc --json create a.example.com --ip 203.0.113.30 --size 64M
check_create_json "$OUT_FILE" a.example.com 203.0.113.30 $((64 << 20))
info "steps: $(json_eval "$OUT_FILE" '" ".join(s["name"] for s in d["steps"])')"

info "--json after the verb, size with a binary-unit suffix"
assert_exit 0 jc create b.example.com --ip 203.0.113.31 --size 96MiB --json
check_create_json "$OUT_FILE" b.example.com 203.0.113.31 $((96 << 20))

info "--root after the verb"
assert_exit 0 "$JAILCTL" status --root "$JAILCTL_ROOT" --json
assert_json "$OUT_FILE"
assert_eq "a.example.com b.example.com" "$(json_eval "$OUT_FILE" '" ".join(j["domain"] for j in d)')" \
  "status --json domains (sorted)"
assert_eq "running running" "$(json_eval "$OUT_FILE" '" ".join(j["state"] for j in d)')" "status --json states"

info "a KO is one JSON object with error {step, message}, exit 2"
assert_exit 2 jc --json create bad_domain.example.com --ip 203.0.113.32 --size 64M
assert_json "$OUT_FILE"
assert_eq KO "$(json_eval "$OUT_FILE" 'd["result"]')" "result of a bad create"
assert_eq True "$(json_eval "$OUT_FILE" 'set(d["error"]) >= {"step","message"}')" "error has step and message"
assert_contains "$(json_eval "$OUT_FILE" 'd["error"]["message"]')" domain "error.message"
assert_ko '[a-z_-]+' 'domain'

info "a conflict as JSON, exit 3"
assert_exit 3 jc create c.example.com --ip 203.0.113.30 --size 64M --json
assert_json "$OUT_FILE"
assert_eq KO "$(json_eval "$OUT_FILE" 'd["result"]')" "result of a conflicting create"

info "other verbs speak JSON too"
for verb in "stop a.example.com" "start a.example.com" "test a.example.com" "destroy --force b.example.com"; do
  # shellcheck disable=SC2086
  assert_exit 0 jc --json $verb
  assert_json "$OUT_FILE"
  assert_eq OK "$(json_eval "$OUT_FILE" 'd["result"] if isinstance(d, dict) else d')" "result of '$verb'"
done
jc host check --json >"$OUT_FILE" 2>"$ERR_FILE" || true   # 4 when something is missing
assert_json "$OUT_FILE"
echo "json: OK"
