"""Shared benchmark plumbing: start a server, time operations, print percentiles.

Every benchmark drives reqlite through the official ``rethinkdb`` driver over loopback,
exactly as an application would, and reports operations per second and latency
percentiles. By default a throw-away server is started on a free port with a temporary
data directory; ``--port`` benchmarks an already running server instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Result:
    name: str
    ops: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    unit: str = "ops"

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def measure(name: str, op: Callable[[int], object], duration: float, unit_per_op: int = 1, unit: str = "ops") -> Result:
    """Call ``op(i)`` repeatedly for ``duration`` seconds; latency per call."""
    lat: list[float] = []
    i = 0
    start = time.perf_counter()
    end = start + duration
    while True:
        t0 = time.perf_counter()
        op(i)
        t1 = time.perf_counter()
        lat.append(t1 - t0)
        i += 1
        if t1 >= end:
            break
    total = time.perf_counter() - start
    lat.sort()
    return Result(
        name,
        i * unit_per_op,
        total,
        percentile(lat, 50) * 1000,
        percentile(lat, 95) * 1000,
        percentile(lat, 99) * 1000,
        unit,
    )


def print_table(results: list[Result]) -> None:
    print(f"{'workload':<34} {'rate':>14} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    for res in results:
        rate = f"{res.rate:,.0f} {res.unit}/s"
        print(f"{res.name:<34} {rate:>14} {res.p50_ms:>9.3f} {res.p95_ms:>9.3f} {res.p99_ms:>9.3f}")


def write_json(path: str | None, results: list[Result], extra: dict | None = None) -> None:
    if not path:
        return
    data = {"results": [dict(asdict(r), rate=r.rate) for r in results], **(extra or {})}
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, default=None, help="use a running server on this port")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per workload (default 5)")
    p.add_argument("--json", default=None, help="also write results to this JSON file")
    return p


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process in MiB (Linux), or None when unknown."""
    parts = rss_parts_mb(pid)
    return None if parts is None else parts[0] + parts[1]


def rss_parts_mb(pid: int | None) -> tuple[float, float] | None:
    """(anonymous, file-backed) resident MiB: the heap, and the LMDB map's cached pages."""
    if pid is None:
        return None
    anon = file_ = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) / 1024.0
                elif line.startswith("RssFile:") or line.startswith("RssShmem:"):
                    file_ += int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return anon, file_


SERVER_PIDS: dict[int, int] = {}
"""port -> pid of servers started by ``server()`` (for memory readings)."""


@contextmanager
def server(port: int | None) -> Iterator[int]:
    """Yield the port of a server: the given one, or a fresh throw-away server."""
    if port is not None:
        yield port
        return
    with tempfile.TemporaryDirectory(prefix="reqlite-bench-") as d:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reqlite", "serve", "--driver-port", "0", "-d", os.path.join(d, "data")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        found = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Listening for client driver connections" in line and found is None:
                found = int(line.rsplit(" ", 1)[1])
            if "Server ready" in line:
                break
        try:
            if found is None:
                raise SystemExit("server did not start")
            SERVER_PIDS[found] = proc.pid
            yield found
        finally:
            SERVER_PIDS.pop(found, None)
            proc.terminate()
            proc.wait(20)
