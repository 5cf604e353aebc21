#!/usr/bin/env bash
# Runs inside tests/sandbox.sh: bench/fleet's measurements (see there).
set -euo pipefail
source "$TESTS_DIR/cluster/cluster.bash"
ms() { date +%s%N; }
record() { awk -v w="$1" -v ns="$2" 'BEGIN { printf "%s %.1f\n", w, ns / 1e6 }' >> "$BENCH_OUT"; }
two_hosts
start_serves
up() { [ "$(jc --json cluster hosts | python3 -c 'import json,sys; print(sum(h["state"] == "up" for h in json.load(sys.stdin)["hosts"]))')" = 2 ]; }
retry 15 up || fail "hosts not up"

for i in $(seq 1 "$BENCH_N"); do
  t0=$(ms); jc --cluster create "fc$i.example.net" --ip 203.0.113.50 --size 64M --host a > /dev/null; t1=$(ms)
  record create_cluster_ms $((t1 - t0))
  jc --cluster destroy --force "fc$i.example.net" > /dev/null
  t0=$(ms); jc create "fl$i.example.net" --ip 203.0.113.51 --size 64M > /dev/null; t1=$(ms)
  record create_local_ms $((t1 - t0))
  jc destroy --force "fl$i.example.net" > /dev/null
  echo "create $i/$BENCH_N done" >&2
done

D=mv.example.net IP=203.0.113.60
jc --json --cluster create "$D" --ip "$IP" --size 256M --host a > "$SANDBOX_DIR/c.json"
user=$(json_eval "$SANDBOX_DIR/c.json" 'd["ftp"]["user"]') pass=$(json_eval "$SANDBOX_DIR/c.json" 'd["ftp"]["password"]')
head -c $((100 << 20)) /dev/urandom > "$SANDBOX_DIR/big.bin"
client_curl --ssl-reqd --insecure --user "$user:$pass" -T "$SANDBOX_DIR/big.bin" "ftp://$IP/www/big.bin"
to=b
for i in $(seq 1 "$BENCH_N"); do
  rm -f "$SANDBOX_DIR/poll.stop"
  $CLIENT python3 - "$SANDBOX_DIR" "$IP" "$D" > "$SANDBOX_DIR/poll.log" <<'PY' &
import os, sys, time, urllib.request
d, ip, host = sys.argv[1:]
while not os.path.exists(d + "/poll.stop"):
    t = time.monotonic()
    try:
        ok = urllib.request.urlopen(urllib.request.Request(f"http://{ip}/", headers={"Host": host}), timeout=0.1).status == 200
    except Exception:
        ok = False
    print(f"{t:.3f} {int(ok)}", flush=True)
    time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))
PY
  poll=$!
  sleep 0.5
  t0=$(ms); jc move "$D" --to "$to" > /dev/null; t1=$(ms)
  sleep 2
  touch "$SANDBOX_DIR/poll.stop"; wait "$poll"
  record move_wall_ms $((t1 - t0))
  python3 - "$SANDBOX_DIR/poll.log" >> "$BENCH_OUT" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
worst, since = 0.0, None
for t, ok in rows:
    if not ok and since is None: since = t
    if ok and since is not None: worst, since = max(worst, t - since), None
if since is not None: worst = max(worst, rows[-1][0] - since)
print(f"move_downtime_ms {worst * 1000:.1f}")
PY
  echo "move $i/$BENCH_N to $to done" >&2
  if [ "$to" = b ]; then to=a; else to=b; fi
done
