"""The floor: the cheapest server the driver can talk to, to measure what reqlite adds.

A minimal Trio server that completes the real V1_0 handshake (reqlite's sans-IO wire
layer) and answers every START with one fixed SUCCESS_ATOM, without parsing the query.
Driven by the same client loop as the real benchmarks, it measures the cost of the
driver, loopback TCP and framing alone; ``reqlite ops/s ÷ floor ops/s`` says how close
reqlite's request path is to that limit.

    python -m benchmarks.floor [--duration S]
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trio
from rethinkdb import r

from reqlite.wire import (
    NEED_DATA,
    ProtocolError,
    ServerConnection,
    StartQuery,
    encode_response,
    make_scram_credentials,
)

from .harness import ROOT, Result, base_parser, measure, print_table

ANSWER = b'{"t":1,"r":[{"id":1,"name":"benchmark document","n":0}]}'
CREDS = make_scram_credentials("")


async def _handle(stream: trio.SocketStream) -> None:
    wire = ServerConnection(lambda user: CREDS if user == "admin" else None)
    try:
        while True:
            data = await stream.receive_some(65536)
            wire.receive_data(data)
            out = bytearray()
            while True:
                try:
                    ev = wire.next_event()
                except ProtocolError:
                    return
                out += wire.data_to_send()
                if ev is NEED_DATA:
                    break
                if isinstance(ev, StartQuery):
                    out += encode_response(ev.token, ANSWER)
            if out:
                await stream.send_all(bytes(out))
            if not data:
                return
    except trio.BrokenResourceError:
        return


async def _serve() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    print(f"Listening for client driver connections on 127.0.0.1 port {port}", flush=True)
    print("Server ready", flush=True)
    await trio.serve_listeners(_handle, listeners)


@contextmanager
def floor_server() -> Iterator[int]:
    """Run the floor server in its own process (no GIL shared with the client)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.floor", "--serve"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    port = None
    for line in proc.stdout:
        if "port" in line and port is None:
            port = int(line.rsplit(" ", 1)[1])
        if "Server ready" in line:
            break
    try:
        assert port is not None
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def floor_point_get(duration: float, port: int | None = None):
    """ops/s of a point get against the floor server (same client loop as the real one)."""

    def run(p: int):
        conn = r.connect("127.0.0.1", p)
        t = r.db("bench").table("crud")
        res = measure("floor (fixed SUCCESS_ATOM)", lambda i: t.get(i).run(conn), duration)
        conn.close(noreply_wait=False)  # the floor answers only START
        return res

    if port is not None:
        return run(port)
    with floor_server() as p:
        return run(p)


def interleaved_ratio(port: int, table: Any, keys: list, rounds: int = 6, seconds: float = 1.0) -> tuple[Result, Result]:
    """Point gets against reqlite and against the floor, alternating short runs.

    The machine's speed drifts (other load, CPU frequency, a VM's neighbours) by more
    than the effects being measured, so the two are measured turn about, close in time,
    and the ratio is taken over the sums.
    """
    with floor_server() as fport:
        fconn = r.connect("127.0.0.1", fport)
        rconn = r.connect("127.0.0.1", port)
        ft = r.db("bench").table("crud")
        f_lat: list[float] = []
        r_lat: list[float] = []
        f_time = r_time = 0.0
        for _ in range(rounds):
            res = measure("floor", lambda i: ft.get(i).run(fconn), seconds)
            f_lat.append(res)
            f_time += res.seconds
            res = measure("point get", lambda i: table.get(keys[i % len(keys)]).run(rconn), seconds)
            r_lat.append(res)
            r_time += res.seconds
        fconn.close(noreply_wait=False)
        rconn.close()

    def merge(name: str, parts: list[Result], total: float) -> Result:
        ops = sum(p.ops for p in parts)
        return Result(
            name,
            ops,
            total,
            sorted(p.p50_ms for p in parts)[len(parts) // 2],
            sorted(p.p95_ms for p in parts)[len(parts) // 2],
            sorted(p.p99_ms for p in parts)[len(parts) // 2],
        )

    return merge("floor (fixed SUCCESS_ATOM)", f_lat, f_time), merge("point get (interleaved)", r_lat, r_time)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--serve", action="store_true", help="only run the floor server")
    args = parser.parse_args(argv)
    if args.serve:
        trio.run(_serve)
        return 0
    print_table([floor_point_get(args.duration)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
