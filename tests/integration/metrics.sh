# metrics: the Prometheus text exposition of a running and a stopped jail, read back by
# Debian's prometheus_client parser; --output replaces the file atomically; --json twin.
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import prometheus_client' 2>/dev/null ||
  { echo "skipped: python3-prometheus-client not installed (scripts/install-deps.sh)" >&2; exit 77; }
A=metrics-a.example B=metrics-b.example

info "two jails: $A runs, $B is stopped; one backup fails (the journal's last backup is KO)"
assert_exit 0 jc create "$A" --ip 203.0.113.31 --size 64M --memory 96M
assert_exit 0 jc create "$B" --ip 203.0.113.32 --size 80M
assert_exit 0 jc stop "$B"
# CPU time the test can see grow: a busy loop inside the running jail for a moment
jc exec "$A" -- sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' >/dev/null 2>&1 || true

assert_exit 0 jc metrics
info "$(grep -v '^#' "$OUT_FILE" | head -n 40)"
[ -n "$ERR" ] && fail "metrics wrote to stderr: $ERR"
cp "$OUT_FILE" "$SANDBOX_DIR/metrics.prom"

# Parse with the real parser; print "name{sorted labels} value" per sample plus checks.
parse() {
  $PY - "$1" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
for f in fams.values():
    assert f.documentation, f"{f.name}: no HELP"
    for s in f.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}} {s.value!r} {f.type}")
EOF
}
parse "$SANDBOX_DIR/metrics.prom" > "$SANDBOX_DIR/samples" || fail "prometheus_client cannot parse the output:"$'\n'"$OUT"
value() { awk -v k="$1" '$1 == k {print $2}' "$SANDBOX_DIR/samples"; }
type_of() { awk -v k="$1" '$1 == k {print $3}' "$SANDBOX_DIR/samples"; }

assert_eq 1.0 "$(value "jailctl_jail_up{domain=$A}")" "up of the running jail"
assert_eq 0.0 "$(value "jailctl_jail_up{domain=$B}")" "up of the stopped jail"
assert_eq gauge "$(type_of "jailctl_jail_up{domain=$A}")" "type of jailctl_jail_up"
assert_eq 67108864.0 "$(value "jailctl_jail_disk_size_bytes{domain=$A}")" "disk size of $A"
assert_eq 83886080.0 "$(value "jailctl_jail_disk_size_bytes{domain=$B}")" "disk size of $B"
used=$(value "jailctl_jail_disk_used_bytes{domain=$A}")
df_used=$(df -B1 --output=used "$JAILCTL_ROOT/jails/$A/rootfs" | tail -n 1 | tr -d ' ')
$PY -c "import sys; u, d = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if u > 0 and abs(u - d) <= 1 << 20 else 1)" "$used" "$df_used" ||
  fail "disk used of $A: metrics $used, df $df_used"
assert_eq "" "$(value "jailctl_jail_disk_used_bytes{domain=$B}")" "disk used of the stopped jail (unknown: not mounted)"
assert_eq 100663296.0 "$(value "jailctl_jail_memory_limit_bytes{domain=$A}")" "memory limit of $A"
mem=$(value "jailctl_jail_memory_bytes{domain=$A}")
$PY -c "import sys; sys.exit(0 if 1 << 20 < float(sys.argv[1]) < 96 << 20 else 1)" "$mem" || fail "memory of $A: $mem"
assert_eq 0.0 "$(value "jailctl_jail_memory_bytes{domain=$B}")" "memory of the stopped jail"
procs=$(value "jailctl_jail_processes{domain=$A}")
$PY -c "import sys; sys.exit(0 if 3 <= float(sys.argv[1]) < 100 else 1)" "$procs" || fail "processes of $A: $procs"
assert_eq 0.0 "$(value "jailctl_jail_processes{domain=$B}")" "processes of the stopped jail"
cpu=$(value "jailctl_jail_cpu_seconds_total{domain=$A}")
$PY -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 3600 else 1)" "$cpu" || fail "cpu seconds of $A: '$cpu'"
assert_eq counter "$(type_of "jailctl_jail_cpu_seconds_total{domain=$A}")" "type of the CPU seconds"
assert_eq "" "$(value "jailctl_jail_cpu_seconds_total{domain=$B}")" "CPU seconds of the stopped jail"
for svc in nginx vsftpd; do
  assert_eq 0.0 "$(value "jailctl_jail_service_restarts_total{domain=$A,service=$svc}")" "restarts of $svc"
done
assert_eq 1.0 "$(value "jailctl_jails{state=running}")" "running jails"
assert_eq 1.0 "$(value "jailctl_jails{state=stopped}")" "stopped jails"
assert_eq 0.0 "$(value "jailctl_jails{state=not_configured}")" "not configured jails"
assert_eq 1.0 "$(value "jailctl_last_task_success{verb=create}")" "last create"
assert_eq 1.0 "$(value "jailctl_last_task_success{verb=stop}")" "last stop"
ts=$(value "jailctl_last_task_timestamp_seconds{verb=stop}")
$PY -c "import sys, time; sys.exit(0 if abs(time.time() - float(sys.argv[1])) < 600 else 1)" "$ts" ||
  fail "last stop's timestamp $ts is not now"

info "a service restart inside the jail shows"
pid=$(jc exec "$A" -- cat /run/nginx.pid) || fail "no nginx pid file in $A"
jc exec "$A" -- kill -9 "$pid" || fail "kill nginx ($pid) in $A"
restarted() { jc metrics > "$SANDBOX_DIR/m2.prom" && parse "$SANDBOX_DIR/m2.prom" |
  grep -F "jailctl_jail_service_restarts_total{domain=$A,service=nginx} 1.0" >/dev/null; }
retry 20 restarted || fail "nginx restart not counted: $(grep restarts "$SANDBOX_DIR/m2.prom")"

info "a failed task shows as the last result of its verb"
assert_exit 5 env JAILCTL_TEST_MODE=1 JAILCTL_FAIL_AT=archive "$JAILCTL" --root "$JAILCTL_ROOT" backup "$B"
assert_exit 0 jc metrics
parse "$OUT_FILE" > "$SANDBOX_DIR/samples"
assert_eq 0.0 "$(value "jailctl_last_task_success{verb=backup}")" "last backup (failed)"

info "--output FILE: replaced atomically, same content; a bad path is exit 5 naming it"
dir="$SANDBOX_DIR/textfile"; mkdir -p "$dir"
echo old > "$dir/jailctl.prom"
assert_exit 0 jc metrics --output "$dir/jailctl.prom"
assert_eq "OK" "$(head -n 1 <<<"$OUT")" "first line"
parse "$dir/jailctl.prom" >/dev/null || fail "the --output file does not parse"
grep -q "^jailctl_jail_up{domain=\"$A\"} 1$" "$dir/jailctl.prom" || fail "--output file lacks $A's up"
assert_eq 644 "$(stat -c %a "$dir/jailctl.prom")" "mode of the --output file"
assert_eq "jailctl.prom" "$(ls "$dir")" "files in the textfile directory (no temp file left)"
assert_exit 2 jc metrics --output "$SANDBOX_DIR/nosuchdir/x.prom"
assert_ko validate "output: directory .*/nosuchdir does not exist"

info "--json twin"
assert_exit 0 jc metrics --json
assert_json "$OUT_FILE"
assert_eq 1.0 "$(json_eval "$OUT_FILE" '[s["value"] for f in d["metrics"] if f["name"] == "jailctl_jail_up" for s in f["samples"] if s["labels"]["domain"] == "'"$A"'"][0] * 1.0')" "up of $A in JSON"

assert_exit 0 jc destroy "$A" --force
assert_exit 0 jc destroy "$B" --force
