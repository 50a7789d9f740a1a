"""Where a refresh leaves the cores idle: ``python -m bench.cpu_map DAY`` runs ``kehu analytics refresh
--part scores --as-of DAY`` on the database in ``KEHU_DATABASE_URL``, samples the machine's CPU
(``/proc/stat``) every 0.1 s meanwhile, and prints how many cores were busy between one progress line
and the next, then the run's own laps (ADR 0014, addendum of 2026-12-04). Linux only; the whole machine is
sampled, so run it on a quiet one."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

SAMPLE_SECONDS = 0.1


def _cpu_times() -> tuple[int, int]:
    """(busy, idle) jiffies of all cores since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal, idle + iowait


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.cpu_map YYYY-MM-DD")
    cores = len(
        [
            line
            for line in Path("/proc/stat").read_text().splitlines()
            if line[:3] == "cpu" and line[3:4].isdigit()
        ]
    )
    samples: list[tuple[float, float]] = []  # (when, cores busy over the sample before it)
    done = threading.Event()

    def sample() -> None:
        before = _cpu_times()
        while not done.wait(SAMPLE_SECONDS):
            now, when = _cpu_times(), time.perf_counter()
            busy, idle = now[0] - before[0], now[1] - before[1]
            samples.append((when, cores * busy / max(busy + idle, 1)))
            before = now

    sampler = threading.Thread(target=sample)
    sampler.start()
    kehu = str(Path(sys.executable).with_name("kehu"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [kehu, "analytics", "refresh", "--part", "scores", "--as-of", args[0]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    marks: list[tuple[float, str]] = []
    lines: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            marks.append((time.perf_counter(), "(result printed)"))

    reader = threading.Thread(target=read_stdout)
    reader.start()
    assert proc.stderr is not None
    for line in proc.stderr:
        marks.append((time.perf_counter(), line.strip()))
    reader.join()
    proc.wait()
    ended = time.perf_counter()
    done.set()
    sampler.join()
    bounds = [(started, "(process started)"), *sorted(marks), (ended, "(process ended)")]
    for (a, name), (b, _) in itertools.pairwise(bounds):
        busy = [c for t, c in samples if a < t <= b]
        mean = sum(busy) / len(busy) if busy else 0.0
        print(f"{a - started:6.2f}–{b - started:6.2f} s ({b - a:5.2f} s)  cores busy {mean:.2f}  {name[:60]}")
    results = [line for line in lines if line.startswith("{")]
    if proc.returncode != 0 or not results:
        raise SystemExit(f"the refresh failed (exit {proc.returncode})")
    run = json.loads(results[-1])
    print(f"wall {ended - started:.2f} s; the run's laps ({run['seconds']} s): {run['timings']}")


if __name__ == "__main__":
    main()
