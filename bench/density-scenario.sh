#!/usr/bin/env bash
# Runs inside tests/sandbox.sh for bench/density (which documents the method). Appends to
# $BENCH_OUT lines "create <ms>" (one per jail) and "at <N> <metric> <value>" per checkpoint;
# with BENCH_PROFILE=php also "php <N> stopped|spawn|warm <total ms> <first byte ms> <connect ms>" per
# sampled site.
set -euo pipefail
ms() { echo $(( $(date +%s%N) / 1000000 )); }
out() { echo "$*" >> "$BENCH_OUT"; }
say() { echo "density: $(date +%T) $*" >&2; }
read -r -a CHECKPOINTS <<< "$BENCH_CHECKPOINTS"
PER_SHARD=${BENCH_PER_SHARD:-500}         # 252 addresses in 203.0.113.0/24 + 254 in 198.51.100.0/24 per shard
JOBS=${BENCH_JOBS:-4}  # parallel clients for the HTTP/FTP sweep and the teardown
PROFILE=${BENCH_PROFILE:-static}
PHP_SAMPLES=${BENCH_PHP_SAMPLES:-20}

# ---- shards: a = the sandbox itself; b = a second jailctl host in its own network namespace
ROOT_B=$JAILCTL_ROOT/b
shard_jc() {  # shard_jc a|b ARGS...
  if [ "$1" = a ]; then shift; "$JAILCTL" --root "$JAILCTL_ROOT" "$@"
  else shift; nsenter --net=/run/netns/hostb "$JAILCTL" --root "$ROOT_B" "$@"; fi
}
shard_client() { local ns=client; [ "$1" = b ] && ns=clientb; shift; ip netns exec "$ns" "$@"; }
shard_root() { [ "$1" = a ] && echo "$JAILCTL_ROOT" || echo "$ROOT_B"; }
B_READY=0
setup_shard_b() {
  ip netns add hostb && ip netns add clientb
  ip link add uplink0 netns hostb type veth peer name cl0 netns clientb
  ip -n hostb link set lo up && ip -n hostb addr add 203.0.113.1/24 dev uplink0 && ip -n hostb link set uplink0 up
  ip -n clientb link set lo up && ip -n clientb addr add 203.0.113.254/24 dev cl0 && ip -n clientb link set cl0 up
  ip -n clientb route add default via 203.0.113.1
  mkdir -p "$ROOT_B" && chmod 755 "$ROOT_B" && echo "uplink = uplink0" > "$ROOT_B/host.conf"
  shard_jc b status > /dev/null   # creates the registry
  # ids after shard a's: the two shards never share a host uid range or a veth name
  sqlite3 "$ROOT_B/jailctl.db" "INSERT OR REPLACE INTO sqlite_sequence(name, seq) VALUES('jails', 5000)"
  B_READY=1
}

domain_of() { echo "$1$2.example.net"; }  # shard index
ip_of() { if [ "$1" -le 252 ]; then echo "203.0.113.$(($1 + 1))"; else echo "198.51.100.$(($1 - 252))"; fi; }
declare -A COUNT=([a]=0 [b]=0)
shards_in_use() { [ "${COUNT[b]}" -gt 0 ] && echo "a b" || echo a; }

teardown() {
  local s
  for s in $(shards_in_use); do
    say "destroying the ${COUNT[$s]} jails of shard $s"
    shard_jc "$s" --json status 2>/dev/null | python3 -c 'import json,sys; [print(j["domain"]) for j in json.load(sys.stdin)]' |
      xargs -r -P "$JOBS" -I{} bash -c "$(declare -f shard_jc); JAILCTL_ROOT='$JAILCTL_ROOT' ROOT_B='$ROOT_B' JAILCTL='$JAILCTL' shard_jc $s destroy --force {} >/dev/null 2>&1 || echo 'destroy {} failed' >&2"
  done
  if [ "$B_READY" = 1 ]; then ip netns del clientb; ip netns del hostb; fi
}
trap teardown EXIT

create_up_to() {  # create_up_to SHARD COUNT
  local s=$1 target=$2 i t0 t1
  while [ "${COUNT[$s]}" -lt "$target" ]; do
    i=$((COUNT[$s] + 1))
    t0=$(ms)
    shard_jc "$s" create "$(domain_of "$s" "$i")" --ip "$(ip_of "$i")" --size 64M --sparse --profile "$PROFILE" > /dev/null ||
      { say "create $(domain_of "$s" "$i") failed"; exit 1; }
    t1=$(ms)
    out "create $((t1 - t0))"
    COUNT[$s]=$i
    if [ $((i % 50)) -eq 0 ]; then say "shard $s: $i jails"; fi
  done
}

# PSS of every process of our jails (payload) and of their LXC monitors, from smaps_rollup.
# php-fpm's master and its pool workers have the same comm: told apart by their titles.
pss() {
  python3 - "$@" <<'PY'
import os, re, sys
pat = re.compile(r"lxc\.(payload|monitor)\.[ab]\d+\.example\.net")
tot = {"payload": 0, "monitor": 0}; n = {"payload": 0, "monitor": 0}; by = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        m = pat.search(open(f"/proc/{pid}/cgroup").read())
        if not m:
            continue
        kb = sum(int(l.split()[1]) for l in open(f"/proc/{pid}/smaps_rollup") if l.startswith("Pss:"))
    except OSError:
        continue
    tot[m.group(1)] += kb; n[m.group(1)] += 1
    comm = open(f"/proc/{pid}/comm").read().strip()
    if comm.startswith("php-fpm"):
        title = open(f"/proc/{pid}/cmdline").read()
        comm = "php-fpm-master" if title.startswith("php-fpm: master") else "php-fpm-worker"
    by.setdefault(comm, [0, 0]); by[comm][0] += kb; by[comm][1] += 1
with open(sys.argv[1], "w") as f:  # (written before the summary line is read)
    print(" ".join(f"{c}:{kb}:{k}" for c, (kb, k) in sorted(by.items())), file=f)
print(tot["payload"], tot["monitor"], n["payload"], n["monitor"])
PY
}
meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
median_ms() {  # median_ms CMD...: median wall time of 5 runs
  local r=() i t0
  for i in 1 2 3 4 5; do t0=$(ms); "$@" > /dev/null; r+=($(( $(ms) - t0 ))); done
  printf '%s\n' "${r[@]}" | sort -n | sed -n 3p
}

# HTTP and FTPS login from the customer's side: prints "http_ok ftp_ok"
sweep() {
  local s=$1 root i d
  root=$(shard_root "$s")
  for i in $(seq 1 "${COUNT[$s]}"); do
    d=$(domain_of "$s" "$i")
    printf '%s %s %s\n' "$d" "$(ip_of "$i")" "$(awk '$1 == "user:" {u=$2} $1 == "password:" {p=$2} END {print u ":" p}' "$root/jails/$d/credentials")"
  done > "$SANDBOX_DIR/targets.$s"
  shard_client "$s" bash -c '
    xargs -P "$1" -L 1 bash -c '\''
      h=$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 -H "Host: $0" "http://$1/")
      curl -s -o /dev/null --max-time 20 --ssl-reqd -k --user "$2" "ftp://$1/" && f=1 || f=0
      echo "$h $f"'\'' < "$2"' _ "$JOBS" "$SANDBOX_DIR/targets.$s" |
    awk '{h += ($1 == 200); f += $2} END {print h + 0, f + 0}'
}

# PHP processes running in our jails: php_procs pool|master (an idle site has neither: its
# php-fpm is stopped by jailctl-init 60 s after its last worker left)
php_procs() {
  local n=0 pid
  for pid in $(pgrep -f "^php-fpm: $1" || true); do
    grep -qE 'lxc\.payload\.[ab][0-9]+\.example\.net' "/proc/$pid/cgroup" 2>/dev/null && n=$((n + 1))
  done
  echo "$n"
}
# Waits until no PHP process of kind $1 (pool: workers, 10 s after their last request; master:
# php-fpm itself, 60 s after its last worker) runs: the seconds waited.
wait_php_idle() {
  local t0; t0=$(ms)
  while [ "$(php_procs "$1")" -gt 0 ]; do
    [ $(( $(ms) - t0 )) -lt 120000 ] || { say "PHP $1 processes still running after 120 s"; break; }
    sleep 0.5
  done
  awk -v ms=$(( $(ms) - t0 )) 'BEGIN {print ms / 1000}'
}

# The first request to an idle PHP site, for the newest PHP_SAMPLES sites of shard a (so each
# checkpoint samples sites whose opcache never saw the script): a script is uploaded over FTPS
# to each, then each site gets one GET while its php-fpm is stopped (stopped: the request
# starts php-fpm, which compiles the script), then, once every worker has left again (10 s),
# one GET while only the master runs (spawn: the ondemand fork) and one right after (warm).
# curl -w from the client namespace.
php_first_request() {
  local k=$(( COUNT[a] < PHP_SAMPLES ? COUNT[a] : PHP_SAMPLES )) i d ip cred ok=0 first
  printf '<?php echo 6 * 7, "\\n";\n' > "$SANDBOX_DIR/bench.php"
  first=$(( COUNT[a] - k + 1 ))
  for i in $(seq "$first" "${COUNT[a]}"); do
    d=$(domain_of a "$i"); ip=$(ip_of "$i")
    cred=$(awk '$1 == "user:" {u=$2} $1 == "password:" {p=$2} END {print u ":" p}' "$JAILCTL_ROOT/jails/$d/credentials")
    shard_client a curl -s --max-time 20 --ssl-reqd -k --user "$cred" -T "$SANDBOX_DIR/bench.php" "ftp://$ip/www/bench.php" ||
      { say "FTPS upload of bench.php to $d failed"; exit 1; }
  done
  php_get() {  # php_get PHASE INDEX: one timed GET of bench.php; its answer must be 42
    local d ip r
    d=$(domain_of a "$2"); ip=$(ip_of "$2")
    r=$(shard_client a curl -s -o "$SANDBOX_DIR/php.body" --max-time 10 -H "Host: $d" \
        -w '%{http_code} %{time_total} %{time_starttransfer} %{time_connect}' "http://$ip/bench.php") || true
    [ "${r%% *}" = 200 ] && [ "$(cat "$SANDBOX_DIR/php.body")" = 42 ] && ok=$((ok + 1)) ||
      say "GET http://$d/bench.php ($1): ${r%% *} $(head -c 200 "$SANDBOX_DIR/php.body")"
    echo "$r" | awk -v n="$N" -v p="$1" '{printf "php %d %s %.2f %.2f %.2f\n", n, p, $2 * 1000, $3 * 1000, $4 * 1000}' >> "$BENCH_OUT"
  }
  out "at $N php_masters_before_first $(php_procs master)"
  for i in $(seq "$first" "${COUNT[a]}"); do php_get stopped "$i"; done
  out "at $N php_idle_wait_s $(wait_php_idle pool)"
  for i in $(seq "$first" "${COUNT[a]}"); do php_get spawn "$i"; php_get warm "$i"; done
  out "at $N php_ok $ok"; out "at $N php_requests $((3 * k))"
}

# both WHAT VERB: `jailctl VERB --all` on every shard at once; a KO is recorded, not fatal
both() {
  local s p pids=() failed=0
  for s in $(shards_in_use); do shard_jc "$s" "$2" --all > "$SANDBOX_DIR/$2.$s" 2>&1 & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  if [ "$failed" = 1 ]; then
    say "$1: some jails failed:"; grep -h '^KO' "$SANDBOX_DIR/$2".* | head -5 >&2
  fi
  out "at $N ${2}_all_ko $(cat "$SANDBOX_DIR/$2".* | grep -c '^KO' || true)"
}

# ---------------------------------------------------------------- the run
MEM0=$(meminfo MemAvailable)
out "machine cpus $(nproc) mem_kb $(meminfo MemTotal) kernel $(uname -r)"
for N in "${CHECKPOINTS[@]}"; do
  say "== N = $N"
  a=$(( N < PER_SHARD ? N : PER_SHARD )); b=$(( N - a ))
  [ "$b" -le "$PER_SHARD" ] || { say "N = $N exceeds two shards of $PER_SHARD"; exit 1; }
  t0=$(ms)
  create_up_to a "$a"
  if [ "$b" -gt 0 ]; then [ "$B_READY" = 1 ] || setup_shard_b; create_up_to b "$b"; fi
  out "at $N create_all_s $(awk -v ms=$(( $(ms) - t0 )) 'BEGIN {print ms / 1000}')"
  sleep 5   # let the new jails' services settle (idle)
  if [ "$PROFILE" = php ]; then   # the worker of create's test leaves, then php-fpm itself
    out "at $N php_settle_s $(wait_php_idle master)"
    out "at $N php_workers_idle $(php_procs pool)"; out "at $N php_masters_idle $(php_procs master)"
  fi
  read -r p_payload p_monitor n_payload n_monitor < <(pss "$SANDBOX_DIR/by-comm")
  out "at $N pss_by_process $(cat "$SANDBOX_DIR/by-comm")"
  out "at $N pss_payload_kb $p_payload"; out "at $N pss_monitor_kb $p_monitor"
  out "at $N processes $n_payload"; out "at $N monitors $n_monitor"
  out "at $N memavailable_drop_kb $(( MEM0 - $(meminfo MemAvailable) ))"
  out "at $N slab_kb $(meminfo Slab)"
  for s in $(shards_in_use); do
    out "at $N status_ms_$s $(median_ms shard_jc "$s" status)"
    out "at $N status_json_ms_$s $(median_ms shard_jc "$s" --json status)"
  done
  out "at $N load1 $(cut -d' ' -f1 /proc/loadavg)"
  if [ "$PROFILE" = php ]; then say "first requests to idle PHP sites"; php_first_request; fi
  say "stop --all, then start --all"
  t0=$(ms)
  both "stop --all" stop
  out "at $N stop_all_s $(awk -v ms=$(( $(ms) - t0 )) 'BEGIN {print ms / 1000}')"
  t0=$(ms)
  both "start --all" start
  out "at $N start_all_s $(awk -v ms=$(( $(ms) - t0 )) 'BEGIN {print ms / 1000}')"
  sleep 2
  http=0 ftp=0
  for s in $(shards_in_use); do read -r h f < <(sweep "$s"); http=$((http + h)); ftp=$((ftp + f)); done
  out "at $N http_ok $http"; out "at $N ftp_ok $ftp"
  say "N = $N: http $http/$N, ftp $ftp/$N, payload PSS $((p_payload / 1024)) MiB, monitors $((p_monitor / 1024)) MiB"
done
