#!/usr/bin/env bash
# Runs inside tests/sandbox.sh (which provides jc, JAILCTL_ROOT and the client namespace).
set -euo pipefail
ms() { date +%s%N; }
timed() {  # timed VERB CMD...: appends "VERB ms" to $BENCH_OUT
  local verb=$1; shift
  local t0 t1
  t0=$(ms); "$@" > /dev/null; t1=$(ms)
  awk -v v="$verb" -v us=$(( (t1 - t0) / 1000 )) 'BEGIN { printf "%s %.1f\n", v, us / 1000 }' >> "$BENCH_OUT"
}
for i in $(seq 1 "$BENCH_N"); do
  timed create jc create "bench$i.example.net" --ip 203.0.113.50 --size 64M
  timed stop jc stop "bench$i.example.net"
  timed start jc start "bench$i.example.net"
  timed destroy jc destroy --force "bench$i.example.net"
  echo "cycle $i/$BENCH_N done" >&2
done
