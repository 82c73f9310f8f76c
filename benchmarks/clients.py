"""Client loops run in separate processes (importable, so multiprocessing can spawn them)."""

from __future__ import annotations

import random
import time

from rethinkdb import r

DB = "bench"


def point_get_client(args: tuple) -> list[float]:
    """Point gets on bench.usertable for `duration` seconds; returns latencies."""
    port, n, duration, seed = args
    conn = r.connect("127.0.0.1", port)
    t = r.db(DB).table("usertable")
    rnd = random.Random(seed)
    lat = []
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        s = time.perf_counter()
        t.get(rnd.randrange(n)).run(conn)
        lat.append(time.perf_counter() - s)
    conn.close()
    return lat
