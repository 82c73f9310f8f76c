"""The benchmark suite: every workload through the official driver, with floor ratios.

    python -m benchmarks --quick            # about a minute, smaller data
    python -m benchmarks                    # full run (100k x ~1 KB documents)
    python -m benchmarks --json out.json    # also write machine-readable results

Workloads: the floor (a server that answers every query with a fixed atom), CRUD by key
(point get, single insert at hard and soft durability, batch insert of 1,000, update,
delete), YCSB-style mixes A (50/50 read/update), B (95/5), C (read only) and E (short
ranges with ``between`` on the primary key), scans (filter+count, map+sum, group+count),
and concurrency (1, 8 and 64 client processes doing point gets). Each workload reports
ops/s and p50/p95/p99 latency, its ratio to the floor, and the server's RSS after it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import random
import sys
import time
from typing import Any

from rethinkdb import r

from .clients import point_get_client
from .floor import interleaved_ratio
from .harness import SERVER_PIDS, Result, base_parser, measure, percentile, rss_parts_mb, server

DB = "bench"


def _doc(i: int, size: int) -> dict:
    # ~size bytes of JSON: YCSB-style ten fields
    field = "x" * max(1, (size - 60) // 10)
    return {"id": i, **{f"field{k}": field for k in range(10)}}


def load(conn: Any, table: str, n: int, size: int) -> None:
    r.db(DB).table_create(table).run(conn)
    t = r.db(DB).table(table)
    for start in range(0, n, 1000):
        t.insert([_doc(i, size) for i in range(start, min(n, start + 1000))], durability="soft").run(conn)


def crud(conn: Any, duration: float) -> list[Result]:
    r.db(DB).table_create("crud").run(conn)
    t = r.db(DB).table("crud")
    doc = {"name": "benchmark document", "tags": ["a", "b", "c"], "n": 0}
    out = [
        measure("insert single (hard)", lambda i: t.insert({**doc, "id": i}).run(conn), duration),
        measure(
            "insert single (soft)",
            lambda i: t.insert({**doc, "id": 1_000_000 + i}, durability="soft").run(conn),
            duration,
        ),
    ]
    keys = [d["id"] for d in t.pluck("id").run(conn)]
    out.append(measure("point get", lambda i: t.get(keys[i % len(keys)]).run(conn), duration))
    out.append(
        measure("update by key", lambda i: t.get(keys[i % len(keys)]).update({"n": i}).run(conn), duration)
    )
    out.append(measure("delete by key", lambda i: t.get(keys[i % len(keys)]).delete().run(conn), duration))

    def batch(i: int) -> None:
        t.insert([{**doc, "id": 10_000_000 + i * 1000 + k} for k in range(1000)]).run(conn)

    out.append(measure("insert batch of 1000", batch, duration, unit_per_op=1000, unit="docs"))
    r.db(DB).table_drop("crud").run(conn)
    return out


def ycsb(conn: Any, n: int, duration: float) -> list[Result]:
    t = r.db(DB).table("usertable")
    rnd = random.Random(7)
    out = []

    def mix(read_fraction: float):
        def op(i: int) -> None:
            k = rnd.randrange(n)
            if rnd.random() < read_fraction:
                t.get(k).run(conn)
            else:
                t.get(k).update({"field0": "y" * 90}).run(conn)

        return op

    out.append(measure("YCSB A (50% read, 50% update)", mix(0.5), duration))
    out.append(measure("YCSB B (95% read, 5% update)", mix(0.95), duration))
    out.append(measure("YCSB C (read only)", mix(1.0), duration))

    def short_range(i: int) -> None:
        k = rnd.randrange(n - 100)
        list(t.between(k, k + rnd.randint(1, 100)).run(conn))

    out.append(measure("YCSB E (short ranges, between)", short_range, duration))
    return out


def scans(conn: Any, n: int, repeats: int) -> list[Result]:
    t = r.db(DB).table("usertable")
    queries = {
        "scan filter+count": t.filter(lambda d: d["id"] % 3 == 0).count(),
        "scan map+sum": t.map(lambda d: d["id"]).sum(),
        "scan group+count": t.group(lambda d: d["id"] % 10).count(),
    }
    out = []
    for name, query in queries.items():
        lat = []
        t0 = time.perf_counter()
        try:
            for _ in range(repeats):
                s = time.perf_counter()
                query.run(conn)
                lat.append(time.perf_counter() - s)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"  {name}: failed: {exc}", file=sys.stderr)
            continue
        total = time.perf_counter() - t0
        lat.sort()
        out.append(
            Result(name, n * repeats, total, percentile(lat, 50) * 1000, percentile(lat, 95) * 1000,
                   percentile(lat, 99) * 1000, "docs")
        )
    return out


def concurrency(port: int, n: int, duration: float, levels: list[int]) -> list[Result]:
    out = []
    ctx = multiprocessing.get_context("spawn")
    for clients in levels:
        with ctx.Pool(clients) as pool:
            t0 = time.perf_counter()
            lats = pool.map(point_get_client, [(port, n, duration, s) for s in range(clients)])
            total = time.perf_counter() - t0
        lat = sorted(x for sub in lats for x in sub)
        out.append(
            Result(f"point get, {clients} client processes", len(lat), duration, percentile(lat, 50) * 1000,
                   percentile(lat, 95) * 1000, percentile(lat, 99) * 1000)
        )
        del total
    return out


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--quick", action="store_true", help="about one minute: smaller data, shorter runs")
    args = parser.parse_args(argv)
    quick = args.quick
    duration = 2.0 if quick else args.duration
    n = 10_000 if quick else 100_000
    levels = [1, 8] if quick else [1, 8, 64]

    rows: list[tuple[Result, Any]] = []
    with server(args.port) as port:
        pid = SERVER_PIDS.get(port)
        idle = rss_parts_mb(pid)
        conn = r.connect("127.0.0.1", port)
        if DB in r.db_list().run(conn):
            r.db_drop(DB).run(conn)
        r.db_create(DB).run(conn)
        # The floor ratio first, on a small table, floor and reqlite measured turn about.
        r.db(DB).table_create("crud").run(conn)
        r.db(DB).table("crud").insert([{"id": i, "name": "benchmark document", "n": i} for i in range(1000)]).run(conn)
        floor, interleaved = interleaved_ratio(port, r.db(DB).table("crud"), list(range(1000)), 3 if quick else 6)
        r.db(DB).table_drop("crud").run(conn)
        print(f"floor: {floor.rate:,.0f} ops/s; point get {interleaved.rate:,.0f} ops/s "
              f"({interleaved.rate / floor.rate:.2f} of the floor)", flush=True)
        rows.append((interleaved, rss_parts_mb(pid)))
        for res in crud(conn, duration):
            rows.append((res, rss_parts_mb(pid)))
            print(f"{res.name}: {res.rate:,.0f} {res.unit}/s", flush=True)
        t0 = time.perf_counter()
        load(conn, "usertable", n, 1000)
        load_s = time.perf_counter() - t0
        rows.append((Result(f"load {n:,} x 1 KB docs (batches of 1000, soft)", n, load_s, 0, 0, 0, "docs"), rss_parts_mb(pid)))
        print(f"loaded {n} docs in {load_s:.1f}s", flush=True)
        for res in ycsb(conn, n, duration):
            rows.append((res, rss_parts_mb(pid)))
            print(f"{res.name}: {res.rate:,.0f} ops/s", flush=True)
        for res in scans(conn, n, 2 if quick else 5):
            rows.append((res, rss_parts_mb(pid)))
            print(f"{res.name}: {res.rate:,.0f} docs/s", flush=True)
        for res in concurrency(port, n, duration, levels):
            rows.append((res, rss_parts_mb(pid)))
            print(f"{res.name}: {res.rate:,.0f} ops/s", flush=True)
        r.db_drop(DB).run(conn)
        conn.close()

    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"floor (driver + loopback + framing): {floor.rate:,.0f} ops/s, p50 {floor.p50_ms:.3f} ms")
    if idle is not None:
        print(f"server RSS idle: {idle[0]:.1f} MiB heap + {idle[1]:.1f} MiB mapped files")
    print()
    header = (
        f"{'workload':<46} {'rate':>16} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'÷floor':>7}"
        f" {'heap MiB':>9} {'map MiB':>8}"
    )
    print(header)
    for res, mem in rows:
        ratio = f"{res.rate / floor.rate:.2f}" if res.unit == "ops" else ""
        rate = f"{res.rate:,.0f} {res.unit}/s"
        heap_s = f"{mem[0]:.0f}" if mem is not None else ""
        map_s = f"{mem[1]:.0f}" if mem is not None else ""
        print(
            f"{res.name:<46} {rate:>16} {res.p50_ms:>8.3f} {res.p95_ms:>8.3f} {res.p99_ms:>8.3f} {ratio:>7}"
            f" {heap_s:>9} {map_s:>8}"
        )
    data = {
        "date": time.strftime("%Y-%m-%d"),
        "quick": quick,
        "floor_ops": floor.rate,
        "idle_rss_mb": {"heap": idle[0], "mapped": idle[1]} if idle else None,
        "results": [
            {**res.__dict__, "rate": res.rate, "floor_ratio": res.rate / floor.rate if res.unit == "ops" else None,
             "rss_mb": {"heap": mem[0], "mapped": mem[1]} if mem else None}
            for res, mem in rows
        ],
    }
    path = args.json or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
