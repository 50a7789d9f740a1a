"""A small bounded load generator, used when wrk is not installed (run as its own process).

Threads, one keep-alive ``http.client`` connection each, a fixed duration and a request cap; prints
one JSON object with the same fields bench.load reads from wrk. It competes with the server for the
CPU like wrk does, but costs more per request (the GIL), so its numbers are a lower bound.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--max-requests", type=int, default=100_000)
    ap.add_argument("--header", action="append", default=[])
    args = ap.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)

    lock = threading.Lock()
    latencies: list[float] = []
    state = {"issued": 0, "non_200": 0, "errors": 0}
    started = time.perf_counter()
    deadline = started + args.duration

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                if state["issued"] >= args.max_requests:
                    break
                state["issued"] += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", args.path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                mine.append(time.perf_counter() - t0)
                if resp.status != 200:
                    with lock:
                        state["non_200"] += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    state["errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    lat = sorted(x * 1000 for x in latencies)
    print(
        json.dumps(
            {
                "requests": len(lat),
                "seconds": seconds,
                "p50": percentile(lat, 50),
                "p90": percentile(lat, 90),
                "p95": percentile(lat, 95),
                "p99": percentile(lat, 99),
                "max": lat[-1] if lat else 0.0,
                "mean": sum(lat) / len(lat) if lat else 0.0,
                "errors": {
                    "connect": 0,
                    "read": state["errors"],
                    "write": 0,
                    "status": state["non_200"],
                    "timeout": 0,
                },
                "non_200": state["non_200"],
            }
        )
    )


if __name__ == "__main__":
    main()
