"""Where an analytics refresh's memory goes, over time (the sixth session of 2026-12-04).

Usage, from a checkout with the benchmark's database::

    PYTHONPATH=. DJANGO_SETTINGS_MODULE=config.settings.base \\
        .venv/bin/python bench/results/analytics-20261204f-memtrace.py <database url> <day> build|nightly

Marks every customer stale (build) or adds a day's changes (nightly), runs ``kehu analytics refresh --part
scores --as-of <day>``, samples every 50 ms the refresh's resident set ("own"), its children's anonymous
and shared memory ("kids") and its scratch files in /dev/shm ("shm"), and prints the peak, then a
timeline beside the refresh's log lines, then the run's laps. MiB throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

from bench.analytics import tree_memory_parts
from bench.dataset import ROOT, database_env

MIB = 1 << 20


def main() -> None:
    url, day, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    env = database_env(url)
    env["KEHU_LOG_LEVEL"] = "INFO"
    before = "everyone-stale" if mode == "build" else "day-changes"
    subprocess.run(
        [sys.executable, "-m", "bench.analytics", before],
        env={**env, "KEHU_BENCH_DAY": day},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    kehu = str(Path(sys.executable).with_name("kehu"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [kehu, "analytics", "refresh", "--part", "scores", "--as-of", day],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    samples: list[tuple[float, int, int, int]] = []
    logs: list[tuple[float, str]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, *tree_memory_parts(proc.pid)))
            time.sleep(0.05)

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            logs.append((time.perf_counter() - t0, line.rstrip()[:160]))

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=read_log, daemon=True)]
    for thread in threads:
        thread.start()
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    stop.set()
    for thread in threads:
        thread.join()
    at, own, kids, shm = max(samples, key=lambda s: s[1] + s[2] + s[3])
    print(
        f"wall {time.perf_counter() - t0:.2f} peak total {(own + kids + shm) / MIB:.0f} MiB at {at:.2f} s:"
        f" own {own / MIB:.0f} kids {kids / MIB:.0f} shm {shm / MIB:.0f}"
    )
    print(f"max own {max(s[1] for s in samples) / MIB:.0f}")
    events = [(t, "LOG " + line) for t, line in logs] + [
        (t, f"mem own {o / MIB:5.0f} kids {k / MIB:5.0f} shm {s / MIB:5.0f} total {(o + k + s) / MIB:5.0f}")
        for t, o, k, s in samples[::4]
    ]
    for t, line in sorted(events):
        print(f"{t:6.2f} {line}")
    print(json.loads(out.strip().splitlines()[-1])["timings"])


if __name__ == "__main__":
    main()
