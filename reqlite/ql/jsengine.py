"""Running JavaScript for ``r.js``: a small pool of QuickJS worker processes
(``jsworker.py``) driven from Trio.

Why processes rather than threads: QuickJS can only be interrupted from inside (the
``quickjs`` package's time limit counts the CPU time of the whole process, and nothing
can stop an evaluation from another thread), an engine that ran out of memory is not
reliably usable afterwards, and a crash of the engine must not take the server down.
A worker process gives all three for free: the event loop only waits on a pipe, the
wall-clock ``timeout`` and query cancellation (STOP, a closed connection) kill the
worker, and QuickJS's memory limit (plus an address-space limit) applies per worker.

Workers are started on demand (about 50 ms), kept while healthy, and reused most
recently used first so that a ``map`` calling the same JavaScript function finds it
already evaluated in the worker. At most ``MAX_WORKERS`` run at once; further
evaluations wait for one to become free. The pool belongs to the running Trio loop.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
import trio

MAX_WORKERS = 4
WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jsworker.py")


class JsError(Exception):
    """The evaluation failed with RethinkDB's message (a JavaScript exception or a
    conversion error)."""


class JsTimeout(Exception):
    """The evaluation ran past its timeout (the worker has been killed)."""


class JsCrash(Exception):
    """The worker died or misbehaved."""


class _Worker:
    __slots__ = ("proc", "buf", "alive")

    def __init__(self, proc: trio.Process) -> None:
        self.proc = proc
        self.buf = bytearray()
        self.alive = True

    @classmethod
    async def start(cls) -> _Worker:
        try:
            proc = await trio.lowlevel.open_process(
                [sys.executable, WORKER_SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as exc:
            raise JsCrash(f"cannot start a worker: {exc}") from None
        return cls(proc)

    async def send(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            await self.proc.stdin.send_all(len(body).to_bytes(4, "big") + body)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.alive = False
            raise JsCrash("the worker exited") from None

    async def receive(self) -> tuple[bytes, str]:
        header = await self._read(4)
        data = await self._read(int.from_bytes(header, "big"))
        return data[:1], data[1:].decode("utf-8", "replace")

    async def _read(self, n: int) -> bytes:
        assert self.proc.stdout is not None
        buf = self.buf
        while len(buf) < n:
            chunk = await self.proc.stdout.receive_some(max(65536, n - len(buf)))
            if not chunk:
                self.alive = False
                raise JsCrash("the worker exited")
            buf += chunk
        out = bytes(buf[:n])
        del buf[:n]
        return out

    async def kill(self) -> None:
        self.alive = False
        try:
            self.proc.kill()
        except OSError:  # pragma: no cover - already gone
            pass
        with trio.CancelScope(shield=True):
            await self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    await stream.aclose()


class _Pool:
    def __init__(self, size: int) -> None:
        self.limiter = trio.CapacityLimiter(size)
        self.idle: list[_Worker] = []

    async def run(self, body: bytes, timeout: float) -> tuple[bytes, str]:
        async with self.limiter:
            with trio.move_on_after(max(timeout, 0.0)) as scope:
                return await self._exchange(body)
            assert scope.cancelled_caught
            raise JsTimeout

    async def _exchange(self, body: bytes) -> tuple[bytes, str]:
        worker = None
        while self.idle:
            worker = self.idle.pop()
            if worker.proc.poll() is None:
                break
            await worker.kill()  # died while idle
            worker = None
        healthy = False
        try:
            if worker is None:
                worker = await _Worker.start()
                await worker.send(body)
            else:
                try:
                    await worker.send(body)
                except JsCrash:
                    # It died since we last used it, before seeing this request: a fresh one.
                    await worker.kill()
                    worker = await _Worker.start()
                    await worker.send(body)
            reply = await worker.receive()
            healthy = reply[0] != b"x"
            return reply
        finally:
            # A worker interrupted mid-request (timeout, cancellation, crash) is killed.
            if worker is not None:
                if healthy and worker.alive:
                    self.idle.append(worker)
                else:
                    await worker.kill()

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        for w in idle:
            await w.kill()


_POOL: trio.lowlevel.RunVar = trio.lowlevel.RunVar("reqlite_js_pool")


def _pool() -> _Pool:
    try:
        return _POOL.get()
    except LookupError:
        pool = _Pool(MAX_WORKERS)
        _POOL.set(pool)
        return pool


async def close_pool() -> None:
    """Stop the idle workers of this Trio loop's pool (tests; workers also exit by
    themselves when the server goes away)."""
    try:
        pool = _POOL.get()
    except LookupError:
        return
    await pool.close()


NEGATIVE_ZERO = "\ue000reqlite:-0\ue000"  # jsworker.py's marker for -0, which JSON lacks


def _negative_zeros(value: Any) -> Any:
    cls = value.__class__
    if cls is str:
        return -0.0 if value == NEGATIVE_ZERO else value
    if cls is list:
        return [_negative_zeros(v) for v in value]
    if cls is dict:
        return {k: _negative_zeros(v) for k, v in value.items()}
    return value


async def _run(
    op: str, source: str, args_json: str | None, timeout: float, array_limit: int
) -> Any:
    body = orjson.dumps([op, source, args_json, timeout, array_limit])
    tag, payload = await _pool().run(body, timeout)
    if tag == b"d" or tag == b"D":
        try:
            value = orjson.loads(payload)
        except orjson.JSONDecodeError:
            # Only code that replaced the JSON built-ins of its own context gets here.
            raise JsError("Unknown error when converting to ql::datum_t.") from None
        return ("d", _negative_zeros(value) if tag == b"D" else value)
    if tag == b"f":
        return ("f", int(payload))
    if tag == b"e":
        raise JsError(payload)
    if tag == b"t":
        raise JsTimeout
    raise JsCrash(payload)


async def js_eval(source: str, timeout: float, array_limit: int) -> tuple[str, Any]:
    """Evaluate ``source``: ``("d", json_value)`` for a value (still to be normalised
    into a datum), ``("f", length)`` when it evaluates to a function."""
    return await _run("eval", source, None, timeout, array_limit)


async def js_call(source: str, args_json: str, timeout: float, array_limit: int) -> Any:
    """Call the function ``source`` evaluates to with the JSON array ``args_json``;
    returns the JSON value of the result."""
    return (await _run("call", source, args_json, timeout, array_limit))[1]
