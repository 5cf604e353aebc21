#!/usr/bin/env python3
"""api-load.py HOST PORT CAFILE TOKEN PATH CLIENTS SECONDS: CLIENTS threads, each with its own
keep-alive HTTPS connection, GET PATH in a loop for SECONDS; prints one JSON line:
{clients, requests, errors, rps, p50_ms, p99_ms, max_ms}. Reconnects when serve closes a
connection (keep-alive limits); a failed request counts as an error."""
import http.client, json, ssl, statistics, sys, threading, time

host, port, cafile, token, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
clients, seconds = int(sys.argv[6]), float(sys.argv[7])
ctx = ssl.create_default_context(cafile=cafile)
lat, errors, lock = [], [0], threading.Lock()
start_gate = threading.Barrier(clients + 1)
stop_at = [0.0]

def worker():
    conn, mine, errs = None, [], 0
    start_gate.wait()
    while time.monotonic() < stop_at[0]:
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=30)
            conn.request("GET", path, headers={"Authorization": "Bearer " + token})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200 or not body:
                errs += 1
            else:
                mine.append((time.monotonic() - t0) * 1000)
            if r.getheader("Connection", "").lower() == "close":
                conn.close(); conn = None
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn = None  # keep-alive closed by the server between requests: not an error, retry
        except Exception as e:  # noqa: BLE001
            errs += 1; conn = None
            print(f"error: {e!r}", file=sys.stderr)
    with lock:
        lat.extend(mine); errors[0] += errs

threads = [threading.Thread(target=worker) for _ in range(clients)]
for t in threads: t.start()
stop_at[0] = time.monotonic() + seconds
t_start = time.monotonic()
start_gate.wait()
for t in threads: t.join()
elapsed = time.monotonic() - t_start
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * (len(lat) - 1)))] if lat else None
print(json.dumps({"clients": clients, "requests": len(lat), "errors": errors[0], "rps": round(len(lat) / elapsed, 1),
                  "p50_ms": round(q(0.5), 2) if lat else None, "p99_ms": round(q(0.99), 2) if lat else None,
                  "max_ms": round(lat[-1], 2) if lat else None}))
