#!/usr/bin/env python3
"""bench/density's report: reads the raw lines of density-scenario.sh, prints a table per N,
writes <stem>.json and PNG plots (create latency distribution; memory and status time
against N) into the results directory, <stem> being the raw file's name without .raw (density,
density-php). With PHP jails, also the first request to an idle PHP site per N."""
import json
import os
import statistics
import sys

raw, outdir = sys.argv[1], sys.argv[2]
stem = os.path.basename(raw).removesuffix(".raw")
creates, at, machine, php = [], {}, "", {}
for line in open(raw):
    f = line.split()
    if not f:
        continue
    if f[0] == "create":
        creates.append(float(f[1]))
    elif f[0] == "php":  # php N stopped|spawn|warm total_ms first_byte_ms connect_ms
        php.setdefault(int(f[1]), {}).setdefault(f[2], []).append(tuple(map(float, f[3:6])))
    elif f[0] == "at" and f[2] == "pss_by_process":  # comm:kB:count ...
        at.setdefault(int(f[1]), {})[f[2]] = {c: (int(kb), int(k)) for c, kb, k in (w.split(":") for w in f[3:])}
    elif f[0] == "at":
        at.setdefault(int(f[1]), {})[f[2]] = float(f[3])
    elif f[0] == "machine":
        machine = " ".join(f[1:])

rows = []
for n in sorted(at):
    m = at[n]
    status = sum(v for k, v in m.items() if k.startswith("status_ms_"))
    status_json = sum(v for k, v in m.items() if k.startswith("status_json_ms_"))
    rows.append(dict(
        n=n, shards=sum(1 for k in m if k.startswith("status_ms_")),
        create_all_s=m.get("create_all_s"),
        pss_per_jail_mib=(m["pss_payload_kb"] + m["pss_monitor_kb"]) / n / 1024,
        pss_payload_per_jail_mib=m["pss_payload_kb"] / n / 1024,
        pss_monitor_per_jail_mib=m["pss_monitor_kb"] / n / 1024,
        processes=int(m["processes"]), monitors=int(m["monitors"]),
        memavailable_drop_per_jail_mib=m["memavailable_drop_kb"] / n / 1024,
        status_ms=status, status_json_ms=status_json,
        status_ms_by_shard={k[-1]: v for k, v in m.items() if k.startswith("status_ms_")},
        stop_all_s=m.get("stop_all_s"), start_all_s=m.get("start_all_s"),
        stop_all_ko=int(m.get("stop_all_ko", 0)), start_all_ko=int(m.get("start_all_ko", 0)),
        pss_by_process_kb={c: dict(kb=kb, count=k, kb_each=kb / k) for c, (kb, k) in
                           m.get("pss_by_process", {}).items()},
        http_ok=int(m["http_ok"]), ftp_ok=int(m["ftp_ok"]), load1=m.get("load1")))



def spread(xs):
    xs = sorted(xs)
    return dict(n=len(xs), median=statistics.median(xs), p90=xs[int(0.9 * (len(xs) - 1))],
                min=xs[0], max=xs[-1]) if xs else {}


PHASES = ("stopped", "spawn", "warm", "cold", "idle")


def php_rows(n):
    """First request to an idle PHP site at checkpoint n: stopped (php-fpm not running: the
    request starts it, the script is compiled), spawn (only the master runs: the ondemand fork),
    warm (the worker already there); ms. Older raw files say cold|idle|warm."""
    return {phase: dict(total_ms=spread([t for t, _, _ in v]), first_byte_ms=spread([b for _, b, _ in v]),
                        connect_ms=spread([c for _, _, c in v]))
            for phase, v in php.get(n, {}).items()}


for r in rows:
    m = at[r["n"]]
    if "php_ok" in m:
        r["php"] = dict(ok=int(m["php_ok"]), requests=int(m["php_requests"]),
                        workers_when_idle=int(m.get("php_workers_idle", -1)),
                        masters_when_idle=int(m.get("php_masters_idle", -1)), **php_rows(r["n"]))

cs = sorted(creates)
create = dict(n=len(cs), median=statistics.median(cs), p95=cs[int(0.95 * (len(cs) - 1))],
              min=cs[0], max=cs[-1]) if cs else {}
print(f"machine: {machine}")
if create:
    print(f"create: n={create['n']} median {create['median']:.0f} ms, p95 {create['p95']:.0f} ms, "
          f"min {create['min']:.0f}, max {create['max']:.0f}")
hdr = f"{'N':>5} {'shards':>6} {'PSS/jail':>9} {'(monitor)':>9} {'MemAvail/jail':>13} {'status':>8} {'--json':>8} " \
      f"{'stop --all':>10} {'start --all':>11} {'KO':>3} {'HTTP':>9} {'FTPS':>9} {'load':>5}"
print(hdr)
for r in rows:
    print(f"{r['n']:5d} {r['shards']:6d} {r['pss_per_jail_mib']:7.2f}Mi {r['pss_monitor_per_jail_mib']:7.2f}Mi "
          f"{r['memavailable_drop_per_jail_mib']:11.2f}Mi {r['status_ms']:6.0f}ms {r['status_json_ms']:6.0f}ms "
          f"{r['stop_all_s']:9.1f}s {r['start_all_s']:10.1f}s {r['start_all_ko']:3d} {r['http_ok']:4d}/{r['n']:<4d} {r['ftp_ok']:4d}/{r['n']:<4d} "
          f"{r['load1']:5.2f}")
if rows and rows[-1]["pss_by_process_kb"]:
    print(f"PSS by process at N={rows[-1]['n']} (kB each, count):", ", ".join(
        f"{c} {v['kb_each']:.0f} x{v['count']}" for c, v in sorted(rows[-1]["pss_by_process_kb"].items())))
for r in rows:
    if "php" not in r:
        continue
    p = r["php"]
    print(f"PHP at N={r['n']}: {p['ok']}/{p['requests']} answers right, {p['workers_when_idle']} workers and "
          f"{p['masters_when_idle']} masters while idle; "
          "GET of a PHP page, total ms (median, p90, min-max; time to first byte median):")
    for phase in PHASES:
        if phase in p:
            t, b = p[phase]["total_ms"], p[phase]["first_byte_ms"]
            print(f"  {phase:7s} n={t['n']:3d} median {t['median']:6.1f}  p90 {t['p90']:6.1f}  "
                  f"{t['min']:6.1f}-{t['max']:6.1f}  (first byte {b['median']:.1f})")
json.dump(dict(machine=machine, create_ms=create, checkpoints=rows), open(f"{outdir}/{stem}.json", "w"), indent=1)

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib missing (apt-get install python3-matplotlib): no plots", file=sys.stderr)
    sys.exit(0)

if cs:
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(cs, bins=50, color="#4477aa")
    ax.axvline(create["median"], color="black", linestyle="--", label=f"median {create['median']:.0f} ms")
    ax.set_xlabel("jailctl create, wall time per jail (ms), tests from outside included")
    ax.set_ylabel("jails")
    ax.set_title(f"Create latency, {len(cs)} jails created one after another")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{outdir}/{stem}-create.png", dpi=100)

ns = [r["n"] for r in rows]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(ns, [r["pss_per_jail_mib"] for r in rows], "o-", label="PSS: jail processes + LXC monitor")
ax1.plot(ns, [r["pss_monitor_per_jail_mib"] for r in rows], "s--", label="of which LXC monitor")
ax1.plot(ns, [r["memavailable_drop_per_jail_mib"] for r in rows], "^:", label="host MemAvailable drop (kernel incl.)")
target_mib = 6 if any("php" in r for r in rows) else 5  # issue 12: 6 MiB per idle PHP jail
ax1.axhline(target_mib, color="red", linewidth=0.8, label=f"target {target_mib} MiB (PSS)")
ax1.set_xlabel("jails (N)"); ax1.set_ylabel("MiB per jail"); ax1.set_ylim(bottom=0)
ax1.set_title("Memory per idle jail"); ax1.legend(fontsize=7)
ax2.plot(ns, [r["status_ms"] for r in rows], "o-", label="status")
ax2.plot(ns, [r["status_json_ms"] for r in rows], "s--", label="status --json")
ax2.axhline(100, color="red", linewidth=0.8, label="target 100 ms at N=1000")
for r in rows:  # beyond 500 jails: two jailctl hosts (registries), their times summed
    if r["shards"] > 1:
        ax2.annotate(f"{r['shards']} registries,\nsummed", (r["n"], r["status_ms"]), textcoords="offset points",
                     xytext=(-60, 10), fontsize=7)
ax2.set_xlabel("jails (N)"); ax2.set_ylabel("ms (median of 5)"); ax2.set_ylim(bottom=0)
ax2.set_title("status time"); ax2.legend(fontsize=7)
fig.tight_layout()
fig.savefig(f"{outdir}/{stem}-memory-status.png", dpi=100)
print(f"plots: {outdir}/{stem}-create.png {outdir}/{stem}-memory-status.png")

if php:  # the first request to an idle PHP site, per checkpoint and phase
    fig, ax = plt.subplots(figsize=(7, 4))
    labels, data = [], []
    for n in sorted(php):
        for phase in PHASES:
            if phase in php[n]:
                labels.append(f"N={n}\n{phase}")
                data.append([t for t, _, _ in php[n][phase]])
    ax.boxplot(data, labels=labels, whis=(0, 100))
    ax.axhline(50, color="red", linewidth=0.8, label="target 50 ms (first request to an idle site)")
    ax.set_ylabel("GET of a PHP page from the client namespace (ms)")
    ax.set_title("PHP: stopped (php-fpm started by the request), spawn (worker forked), warm")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{outdir}/{stem}-first-request.png", dpi=100)
    print(f"plot: {outdir}/{stem}-first-request.png")
