"""Runaway queries: cancelled by STOP or by the client going away, never starving others."""

from __future__ import annotations

import os
import time

from rethinkdb import r

from rawwire import handshake, read_response, send_query

RUNAWAY = b"[1, [43, [[173, [1000000000000]]]], {}]"  # r.range(10**12).count()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def busy_fraction(pid: int, seconds: float = 1.0) -> float:
    c0 = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / seconds


def test_runaway_query_does_not_starve_other_connections(server, conn):
    s = handshake(server.port)
    send_query(s, 1, RUNAWAY)
    time.sleep(0.2)
    worst = 0.0
    for _ in range(20):
        t0 = time.perf_counter()
        assert r.expr(1).add(1).run(conn) == 2
        worst = max(worst, time.perf_counter() - t0)
    assert worst < 0.25, f"point query took {worst:.3f}s while a scan ran"
    s.close()


def test_disconnect_cancels_runaway_query(server, conn):
    s = handshake(server.port)
    send_query(s, 1, RUNAWAY)
    time.sleep(0.3)
    assert busy_fraction(server.proc.pid, 0.5) > 0.5  # it is really running
    s.close()
    time.sleep(0.2)
    assert busy_fraction(server.proc.pid, 1.0) < 0.2
    assert r.expr(1).run(conn) == 1


def test_stop_cancels_runaway_query_at_once(server, conn):
    s = handshake(server.port)
    send_query(s, 1, RUNAWAY)
    time.sleep(0.3)
    t0 = time.perf_counter()
    send_query(s, 1, b"[3]")
    token, resp = read_response(s)
    assert token == 1 and resp["t"] == 2 and resp["r"] == []
    assert time.perf_counter() - t0 < 0.5
    time.sleep(0.2)
    assert busy_fraction(server.proc.pid, 1.0) < 0.2
    # the connection is still usable
    send_query(s, 2, b"[1, [24, [1, 2]], {}]")
    assert read_response(s) == (2, {"t": 1, "r": [3]})
    s.close()


def test_closing_a_cursor_on_an_infinite_stream_stops_it(server, conn):
    cursor = r.range().run(conn, max_batch_rows=100)
    first = [next(cursor) for _ in range(250)]
    assert first == list(range(250))
    cursor.close()
    time.sleep(0.2)
    assert busy_fraction(server.proc.pid, 0.5) < 0.2
