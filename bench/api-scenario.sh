#!/usr/bin/env bash
# Runs inside tests/sandbox.sh (bench/api): serve with 500 registered jails (registry rows only,
# no real jails: the listing's cost is the registry and one status look per jail), GET /api/v1/jails
# at 1, 16 and 256 concurrent clients; then API creates: one alone, then BENCH_CREATES at once.
set -euo pipefail
source "$TESTS_DIR/api/helpers.bash"
here=$(dirname "$BENCH_SELF")
TOKEN=$(new_token bench viewer)
ADMIN=$(new_token bench-admin admin)
jc status >/dev/null
python3 - "$JAILCTL_ROOT/jailctl.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ips = [f"203.0.113.{i}" for i in range(100, 254)] + [f"198.51.100.{i}" for i in range(1, 255)] + \
      [f"203.0.113.{i}" for i in range(2, 100)]
rows = [(f"site{i:03d}.example.net", ips[i], 1 << 30, 0, f"site{i:03d}examplenet", "required",
         (1 << 30) + (i + 1000) * 65536, "ready", "2026-12-03T00:00:00Z") for i in range(500)]
db.executemany("INSERT INTO jails(domain, ip, size_bytes, sparse, ftp_user, ftp_tls, id_base, state, created) "
               "VALUES(?,?,?,?,?,?,?,?,?)", rows)
db.commit()
PY
start_serve
api_expect 200 "$TOKEN" GET /api/v1/jails
assert_eq 500 "$(api_field 'len(d["jails"])')" "jails listed"
echo "one GET /api/v1/jails: $(wc -c < "$API_OUT") bytes" >&2
# wrk (C, epoll; Debian's wrk): the load generator must cost less than what it measures — a
# Python client parsing 200 KB per request in 16 threads measured its own GIL (p99 +20 ms).
wrk_run() {  # clients -> one JSON line
  local c=$1 out
  out=$(wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d "${BENCH_SECONDS:-10}s" --timeout 30s --latency \
            -H "Authorization: Bearer $TOKEN" "https://$API_HOST:$API_PORT/api/v1/jails")
  python3 - "$c" "$out" <<'PY2'
import json, re, sys
c, out = int(sys.argv[1]), sys.argv[2]
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
mx = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out)
req = int(re.search(r"(\d+) requests in", out).group(1))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
errors = (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx.group(1)) if non2xx else 0)
print(json.dumps({"clients": c, "requests": req, "errors": errors,
                  "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                  "p50_ms": round(pct["50"], 2), "p99_ms": round(pct["99"], 2), "max_ms": round(ms(*mx.groups()), 2)}))
PY2
}
for c in 1 16 256; do
  for run in 1 2 3; do
    wrk_run "$c" | sed "s/^/list run=$run /" | tee -a "$BENCH_OUT" >&2
  done
done
n=${BENCH_CREATES:-20}
if [ "$n" -gt 0 ]; then
  # creates through the API: wall clock from POST to the task's end
  python3 - "$API_HOST" "$API_PORT" "$CACERT" "$ADMIN" "$n" <<'PY' | tee -a "$BENCH_OUT" >&2
import http.client, json, ssl, sys, threading, time
host, port, cafile, token, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
ctx = ssl.create_default_context(cafile=cafile)
def call(method, path, body=None):
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=600)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse(); return r.status, json.loads(r.read())
def create(i, out):
    t0 = time.monotonic()
    st, b = call("POST", "/api/v1/jails", {"domain": f"c{i}.example.org", "ip": f"203.0.113.{100 + i}", "size": "64M"})
    if st != 202: out[i] = ("http %d %s" % (st, b), 0); return
    while True:
        st, t = call("GET", f"/api/v1/tasks/{b['task']}")
        if t["state"] != "running": break
        time.sleep(0.05)
    out[i] = (t["state"], (time.monotonic() - t0) * 1000)
# the listing's rows hold every test address: free 203.0.113.100-(100+n) for the creates
import sqlite3, os
db = sqlite3.connect(os.environ["JAILCTL_ROOT"] + "/jailctl.db")
db.execute("DELETE FROM jails WHERE ip IN (%s)" % ",".join("'203.0.113.%d'" % (100 + i) for i in range(n + 1)))
db.commit()
lone = {}
create(n, lone)
res = {}
ts = [threading.Thread(target=create, args=(i, res)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
ms = sorted(v[1] for v in res.values())
print("creates " + json.dumps({"lone_ms": round(lone[n][1]), "lone_state": lone[n][0], "n": n,
      "ok": sum(v[0] == "ok" for v in res.values()), "states": sorted({v[0] for v in res.values()}),
      "median_ms": round(ms[len(ms) // 2]), "max_ms": round(ms[-1]), "max_over_lone": round(ms[-1] / lone[n][1], 2)}))
PY
fi
stop_serve
sqlite3 "$JAILCTL_ROOT/jailctl.db" "DELETE FROM jails WHERE domain LIKE 'site%.example.net'"  # the rows only
