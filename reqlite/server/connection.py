"""One client connection: a Trio task around the sans-IO wire protocol.

The connection is a nursery; each query runs in a child task with its own cancel
scope, so queries on one connection run concurrently (V0_4+ semantics), a STOP cancels
its query at once, and closing the connection cancels everything it started — a
runaway ``r.range()`` never outlives its client. Responses from concurrent queries
are serialised by a send lock; a slow reader only slows its own connection.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
import outcome
import trio

from ..errors import ReqlError, ReqlInternalError, ReqlOpFailedError
from ..ql.context import QueryContext
from ..ql.query import Atom, blame, start
from ..ql.streams import Stream, TableScan, changefeed_of
from ..wire import (
    NEED_DATA,
    BadQuery,
    ContinueQuery,
    HandshakeComplete,
    NoreplyWait,
    ProtocolError,
    ResponseType,
    ServerConnection,
    ServerInfoQuery,
    StartQuery,
    StopQuery,
    encode_response,
)

log = logging.getLogger("reqlite.server")

KILLED_MESSAGE = "Query interrupted (killed through `rethinkdb.jobs`)."

SUCCESS_ATOM = int(ResponseType.SUCCESS_ATOM)
SUCCESS_SEQUENCE = int(ResponseType.SUCCESS_SEQUENCE)
SUCCESS_PARTIAL = int(ResponseType.SUCCESS_PARTIAL)
WAIT_COMPLETE = int(ResponseType.WAIT_COMPLETE)
SERVER_INFO = int(ResponseType.SERVER_INFO)
CLIENT_ERROR = int(ResponseType.CLIENT_ERROR)

RECEIVE_SIZE = 65536
FRAMES_PER_CHECKPOINT = 32
# Queries one connection may have running at once. Past this the connection stops
# reading its socket until some finish, so a client flooding pipelined queries (noreply
# writes, say) is held back by TCP instead of growing the server without bound. RethinkDB
# sets no such limit; HTTP/2 servers cap concurrent streams similarly (nginx: 128).
MAX_RUNNING_QUERIES = 1024
# RethinkDB's batch defaults: up to 1 MiB or 0.5 s per batch; the first batch is a
# quarter of that so the first rows reach the client quickly.
DEFAULT_MAX_BATCH_BYTES = 1 << 20
DEFAULT_MAX_BATCH_SECONDS = 0.5
DEFAULT_FIRST_SCALEDOWN = 4
DEFAULT_MAX_BATCH_ROWS = 1 << 31


class Cursor:
    """A stream being sent to the client batch by batch."""

    __slots__ = (
        "q", "stream", "buffer", "scope", "busy", "profile", "feed_note", "feed", "feed_stream",
        "pump_scope", "pump_error", "pump_done", "wakeup", "running",
    )

    def __init__(self, q: QueryContext, stream: Stream) -> None:
        self.q = q
        self.stream = stream
        self.buffer: list = []
        self.scope: trio.CancelScope | None = None
        self.busy = False
        self.profile = False
        feed = changefeed_of(stream)
        self.feed = feed is not None
        self.feed_stream = feed
        self.feed_note: int | None = feed.note if feed is not None else None
        # Changefeeds are read by a pump task (see Connection._pump_feed).
        self.pump_scope: trio.CancelScope | None = None
        self.pump_error: BaseException | None = None
        self.pump_done = False
        self.wakeup = trio.Event()
        self.running: Running | None = None  # the START computing the first batch

    def close(self) -> None:
        if self.running is not None:
            self.running.cancel()
        if self.pump_scope is not None:
            self.pump_scope.cancel()
        self.stream.close()


class Running:
    """A START being evaluated: STOP cancels it through the scope of the task running it.

    It is also a job of ``rethinkdb.jobs`` (``job_id``, ``started``, ``term``) until its
    answer is out; deleting the job kills the query (``killed``: the client then gets an
    error instead of silence).
    """

    __slots__ = ("scope", "cancelled", "killed", "job_id", "started", "term")

    def __init__(self, job_id: int = 0, term: Any = None) -> None:
        self.scope: trio.CancelScope | None = None
        self.cancelled = False
        self.killed = False
        self.job_id = job_id  # per-connection sequence number (see Connection.job_uuid)
        self.started = time.time()
        self.term = term

    def cancel(self) -> None:
        self.cancelled = True
        if self.scope is not None:
            self.scope.cancel()


class Connection:
    def __init__(self, server: Any, stream: trio.abc.Stream, peer: str) -> None:
        self.server = server
        self.stream = stream
        self.peer = peer
        self.wire = ServerConnection(
            server.lookup_credentials, server_version=server.server_version
        )
        self.queries: dict[int, Cursor | Running] = {}
        self.noreply_outstanding = 0
        self.noreply_idle = trio.Event()
        self.noreply_idle.set()
        self.closed = False
        self.username: str | None = None
        # A task parked waiting for the next START: handing a query to it is much cheaper
        # than spawning a task per query (see _query_task).
        self.idle_worker: trio.lowlevel.Task | None = None
        self.running_queries = 0
        self.jobs: dict[int, Running] = {}  # queries running now, by job number (rethinkdb.jobs)
        # Job ids are UUIDs made of a per-connection random part and the job number, so
        # that starting a query costs no random UUID.
        self.job_prefix = str(uuid.uuid4())[:24]
        self.job_seq = 0
        self.below_limit = trio.Event()
        self.below_limit.set()

    # -- main loop -----------------------------------------------------------------

    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                await self._read_loop(nursery)
                nursery.cancel_scope.cancel()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.closed = True
            for entry in list(self.queries.values()):
                if isinstance(entry, Cursor):
                    entry.close()  # ends changefeed subscriptions, frees scans
            self.queries.clear()
            with trio.CancelScope(shield=True):
                try:
                    await self.stream.aclose()
                except Exception:  # noqa: BLE001 - closing a broken socket
                    pass

    async def _read_loop(self, nursery: trio.Nursery) -> None:
        wire = self.wire
        frames = 0
        while True:
            if frames >= FRAMES_PER_CHECKPOINT:
                # A client pipelining many queries never makes receive block; yield now
                # and then so that other connections and our own query tasks run.
                frames = 0
                await trio.lowlevel.checkpoint()
            if self.running_queries >= MAX_RUNNING_QUERIES:
                await self.below_limit.wait()
            try:
                data = await self.stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                return
            wire.receive_data(data)
            while True:
                try:
                    event = wire.next_event()
                except ProtocolError as exc:
                    out = wire.data_to_send()
                    if out:
                        with trio.move_on_after(1):
                            await self._send(out)
                    log.info("closing %s: %s", self.peer, exc)
                    return
                out = wire.data_to_send()
                if out:
                    await self._send(out)
                if event is NEED_DATA:
                    break
                frames += 1
                self._dispatch(event, nursery)
            if not data:
                return

    async def _send(self, data: bytes) -> None:
        # The transport keeps concurrent responses from interleaving.
        await self.stream.send_all(data)

    async def _respond(self, token: int, body: dict | bytes) -> None:
        if not isinstance(body, bytes):
            body = orjson.dumps(body)
        await self._send(encode_response(token, body))

    # -- events --------------------------------------------------------------------

    def _dispatch(self, event: Any, nursery: trio.Nursery) -> None:
        if isinstance(event, StartQuery):
            if event.token in self.queries:
                nursery.start_soon(
                    self._respond,
                    event.token,
                    _client_error(f"ERROR: duplicate token {event.token}"),
                )
                return
            noreply = _truthy_optarg(event.global_optargs.get("noreply"))
            self.job_seq += 1
            running = Running(self.job_seq, event.term)
            self.jobs[running.job_id] = running
            if noreply:
                self.noreply_outstanding += 1
                self.noreply_idle = trio.Event() if self.noreply_idle.is_set() else self.noreply_idle
            else:
                self.queries[event.token] = running
            self.running_queries += 1
            if self.running_queries >= MAX_RUNNING_QUERIES and self.below_limit.is_set():
                self.below_limit = trio.Event()
            worker = self.idle_worker
            if worker is not None:
                self.idle_worker = None
                trio.lowlevel.reschedule(worker, outcome.Value((event, running, noreply)))
            else:
                nursery.start_soon(self._query_task, event, running, noreply)
        elif isinstance(event, ContinueQuery):
            cur = self.queries.get(event.token)
            if not isinstance(cur, Cursor) or cur.busy:
                nursery.start_soon(
                    self._respond,
                    event.token,
                    _client_error(f"Token {event.token} not in stream cache."),
                )
                return
            nursery.start_soon(self._run_continue, event.token, cur)
        elif isinstance(event, StopQuery):
            entry = self.queries.pop(event.token, None)
            if entry is None:
                # RethinkDB answers a STOP for an unknown token with an empty sequence.
                nursery.start_soon(self._respond, event.token, {"t": SUCCESS_SEQUENCE, "r": []})
                return
            if isinstance(entry, Cursor):
                if entry.scope is not None:
                    entry.scope.cancel()
                entry.close()
            else:
                entry.cancel()  # a START still running
            nursery.start_soon(self._respond, event.token, {"t": SUCCESS_SEQUENCE, "r": []})
        elif isinstance(event, NoreplyWait):
            nursery.start_soon(self._run_noreply_wait, event.token)
        elif isinstance(event, ServerInfoQuery):
            nursery.start_soon(
                self._respond, event.token, {"t": SERVER_INFO, "r": [self.server.server_info()]}
            )
        elif isinstance(event, BadQuery):
            nursery.start_soon(self._respond, event.token, _client_error(event.message))
        elif isinstance(event, HandshakeComplete):
            self.username = event.username

    async def _query_task(self, event: StartQuery, running: Running, noreply: bool) -> None:
        """Run a START; then, if no other task is parked for the next one, park and wait.

        Queries still run concurrently (a START arriving while every task is busy spawns a
        new one), but a client sending one query at a time reuses a single task. The task
        runs its queries inside one cancel scope (entering a scope per query costs more
        than the rest of a point read): a STOP cancels the scope of the task running that
        query, and the task then carries on with a fresh scope.
        """
        item: Any = (event, running, noreply)
        while True:
            with trio.CancelScope() as scope:
                while True:
                    event, running, noreply = item
                    running.scope = scope
                    try:
                        if not running.cancelled:
                            await self._run_start(event, running, noreply)
                    finally:
                        running.scope = None
                        self.jobs.pop(running.job_id, None)
                        self._query_done()
                    if self.idle_worker is not None or self.closed:
                        return
                    self.idle_worker = trio.lowlevel.current_task()
                    item = await trio.lowlevel.wait_task_rescheduled(self._abort_idle)
            # A STOP (or a kill through rethinkdb.jobs) cancelled the query this task was
            # running: go on with a new scope.
            if running.killed and not noreply and not self.closed:
                self.queries.pop(event.token, None)
                await self._respond(event.token, _error_body(ReqlOpFailedError(KILLED_MESSAGE)))
            if self.idle_worker is not None or self.closed:
                return
            self.idle_worker = trio.lowlevel.current_task()
            item = await trio.lowlevel.wait_task_rescheduled(self._abort_idle)

    def job_uuid(self, seq: int) -> str:
        return f"{self.job_prefix}{seq:012x}"

    def kill_job(self, job_id: str) -> bool:
        """Kill a running query (a ``delete`` on its row of ``rethinkdb.jobs``)."""
        if not job_id.startswith(self.job_prefix):
            return False
        try:
            running = self.jobs.get(int(job_id[len(self.job_prefix):], 16))
        except ValueError:
            return False
        if running is None:
            return False
        running.killed = True
        running.cancel()
        return True

    def job_rows(self, server_name: str) -> list[dict]:
        """This connection's running queries as ``rethinkdb.jobs`` rows."""
        host, _, port = self.peer.rpartition(":")
        now = time.time()
        rows = []
        for running in list(self.jobs.values()):
            rows.append(
                {
                    "duration_sec": round(now - running.started, 6),
                    "id": ["query", self.job_uuid(running.job_id)],
                    "info": {
                        "client_address": host,
                        "client_port": int(port) if port.isdigit() else 0,
                        "query": orjson.dumps(running.term).decode() if running.term is not None else "",
                        "user": self.username or "admin",
                    },
                    "servers": [server_name],
                    "type": "query",
                }
            )
        return rows

    def _query_done(self) -> None:
        self.running_queries -= 1
        if self.running_queries < MAX_RUNNING_QUERIES and not self.below_limit.is_set():
            self.below_limit.set()

    def _abort_idle(self, raise_cancel: Any) -> trio.lowlevel.Abort:
        self.idle_worker = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def _run_noreply_wait(self, token: int) -> None:
        await self.noreply_idle.wait()
        await self._respond(token, {"t": WAIT_COMPLETE, "r": []})

    async def _run_start(self, event: StartQuery, running: Running, noreply: bool) -> None:
        token = event.token
        started = time.perf_counter()
        q = QueryContext(self.server.store, server=self.server, conn=self)
        profile = _truthy_optarg(event.global_optargs.get("profile"))
        body: dict | bytes | None = None
        try:
            try:
                result = await start(q, event.term, event.global_optargs)
                if isinstance(result, Atom):
                    body = _atom_body(result, profile, started)
                else:
                    cur = Cursor(q, result)
                    cur.profile = profile
                    cur.running = running
                    if not noreply:
                        self.queries[token] = cur
                    body = await self._next_batch_body(cur, token, first=True, started=started)
                    cur.running = None
            except ReqlError as exc:
                body = _error_body(exc)
            except Exception as exc:  # noqa: BLE001 - a bug must not kill the connection
                log.exception("internal error in query %s from %s", token, self.peer)
                body = _error_body(ReqlInternalError(f"Internal error: {exc!r}"))
            if body is None or noreply or running.cancelled:
                return
            # From here on a STOP can no longer cancel this query (its answer is going out).
            running.scope = None
            if body.get("t") != SUCCESS_PARTIAL if isinstance(body, dict) else not _is_partial(body):
                self.queries.pop(token, None)
            await self._respond(token, body)
        finally:
            if noreply:
                self.noreply_outstanding -= 1
                if self.noreply_outstanding == 0:
                    self.noreply_idle.set()
            elif self.queries.get(token) is running:
                self.queries.pop(token, None)
            elif running.cancelled:
                entry = self.queries.get(token)
                if isinstance(entry, Cursor) and entry.running is running:
                    self.queries.pop(token, None)

    async def _run_continue(self, token: int, cur: Cursor) -> None:
        if self.queries.get(token) is not cur:
            return  # stopped between the CONTINUE's arrival and now
        cur.busy = True
        scope = trio.CancelScope()
        cur.scope = scope
        body: dict | bytes | None = None
        with scope:
            try:
                body = await self._next_batch_body(cur, token, first=False, started=time.perf_counter())
            except ReqlError as exc:
                body = _error_body(exc)
            except Exception as exc:  # noqa: BLE001
                log.exception("internal error continuing query %s from %s", token, self.peer)
                body = _error_body(ReqlInternalError(f"Internal error: {exc!r}"))
        cur.scope = None
        cur.busy = False
        if scope.cancelled_caught or body is None:
            return
        final = body.get("t") != SUCCESS_PARTIAL if isinstance(body, dict) else not _is_partial(body)
        if final:
            self.queries.pop(token, None)
        await self._respond(token, body)

    async def _pump_feed(self, cur: Cursor) -> None:
        """Read a changefeed continuously into its cursor's buffer.

        Reading in its own task means a START or CONTINUE never has to be cancelled in
        the middle of a batch (which could lose changes): they just wait for the buffer.
        """
        scope = cur.pump_scope
        assert scope is not None
        with scope:
            try:
                while True:
                    batch = await cur.stream.next_batch(cur.q, 1000)
                    if batch is None:
                        break
                    cur.buffer.extend(batch)
                    cur.wakeup.set()
            except ReqlError as exc:
                cur.pump_error = exc
            except Exception as exc:  # noqa: BLE001 - reported to the client
                log.exception("internal error in a changefeed of %s", self.peer)
                cur.pump_error = ReqlInternalError(f"Internal error: {exc!r}")
            cur.pump_done = True
            cur.wakeup.set()

    async def _feed_body(self, cur: Cursor, first: bool, started: float) -> bytes:
        if cur.pump_scope is None:
            # The scope exists before the task starts, so closing the cursor right away
            # (a STOP racing the first batch) cancels the pump too.
            cur.pump_scope = trio.CancelScope()
            self.nursery.start_soon(self._pump_feed, cur)
        if first:
            # Answer the START once the initial part is out, changes or not.
            feed = cur.feed_stream
            while not cur.buffer and not cur.pump_done and not feed.ready.is_set():
                cur.wakeup = trio.Event()
                with trio.move_on_after(0.05):
                    await cur.wakeup.wait()
            await trio.lowlevel.checkpoint()
        else:
            while not cur.buffer and not cur.pump_done:
                cur.wakeup = trio.Event()
                await cur.wakeup.wait()
        if not cur.buffer and cur.pump_error is not None:
            raise cur.pump_error
        max_rows = max(1, _int_opt(cur.q.optargs, "max_batch_rows", DEFAULT_MAX_BATCH_ROWS))
        items = cur.buffer[:max_rows]
        del cur.buffer[:max_rows]
        from ..ql.query import check_result_datum

        for item in items:
            check_result_datum(item)
        done = cur.pump_done and not cur.buffer and cur.pump_error is None
        t = SUCCESS_SEQUENCE if done else SUCCESS_PARTIAL
        body = b'{"t":%d,"r":[' % t + b",".join(orjson.dumps(i) for i in items) + b"]"
        if cur.profile:
            body += b',"p":' + orjson.dumps(_profile(started))
        if cur.feed_note is not None:
            body += b',"n":[%d]' % cur.feed_note
        return body + b"}"

    async def _next_batch_body(self, cur: Cursor, token: int, first: bool, started: float) -> bytes:
        """Collect the next batch under RethinkDB's batching rules and encode the response."""
        if cur.feed:
            return await self._feed_body(cur, first, started)
        opts = cur.q.optargs
        max_rows = _int_opt(opts, "max_batch_rows", DEFAULT_MAX_BATCH_ROWS)
        max_bytes = _int_opt(opts, "max_batch_bytes", DEFAULT_MAX_BATCH_BYTES)
        max_secs = _num_opt(opts, "max_batch_seconds", DEFAULT_MAX_BATCH_SECONDS)
        if first:
            scale = max(1, _int_opt(opts, "first_batch_scaledown_factor", DEFAULT_FIRST_SCALEDOWN))
            max_bytes = max(1, max_bytes // scale)
        max_rows = max(1, max_rows)
        deadline = time.monotonic() + max_secs
        encoded: list[bytes] = []
        size = 0
        done = False
        dumps = orjson.dumps
        buffer = cur.buffer
        if cur.stream.__class__ is TableScan:
            # A plain table scan: stored documents go out as stored.
            while len(encoded) < max_rows:
                if not buffer:
                    raw = await cur.stream.next_raw_batch(cur.q, min(max_rows - len(encoded), 1000))
                    if raw is None:
                        done = True
                        break
                    buffer.extend(raw)
                take = min(len(buffer), max_rows - len(encoded))
                chunk = buffer[:take]
                del buffer[:take]
                encoded.extend(chunk)
                size += sum(len(b) for b in chunk)
                if size >= max_bytes or time.monotonic() >= deadline:
                    break
            if not done and not buffer and cur.stream.done:  # type: ignore[attr-defined]
                done = True  # exhausted: say so now rather than after an empty CONTINUE
        while not done and len(encoded) < max_rows and cur.stream.__class__ is not TableScan:
            if not buffer:
                batch = await cur.stream.next_batch(cur.q, min(max_rows - len(encoded), 1000))
                if batch is None:
                    done = True
                    break
                buffer.extend(batch)
            take = min(len(buffer), max_rows - len(encoded))
            from ..ql.query import check_result_datum

            for item in buffer[:take]:
                check_result_datum(item)
                b = dumps(item)
                encoded.append(b)
                size += len(b)
            del buffer[:take]
            if size >= max_bytes or time.monotonic() >= deadline:
                break
        if not done and not buffer and cur.stream.__class__.__name__ == "ArrayStream":
            # An exhausted in-memory stream: say so now rather than after an empty CONTINUE.
            if cur.stream.pos >= len(cur.stream.items):  # type: ignore[attr-defined]
                done = True
        t = SUCCESS_SEQUENCE if done else SUCCESS_PARTIAL
        body = b'{"t":%d,"r":[' % t + b",".join(encoded) + b"]"
        if cur.profile:
            body += b',"p":' + dumps(_profile(started))
        if cur.feed_note is not None:
            body += b',"n":[%d]' % cur.feed_note
        return body + b"}"


def _is_partial(body: bytes) -> bool:
    return body.startswith(b'{"t":3,')


def _truthy_optarg(v: Any) -> bool:
    return v is True


def _int_opt(opts: dict, name: str, default: int) -> int:
    v = opts.get(name)
    if v.__class__ in (int, float):
        return int(v)
    return default


def _num_opt(opts: dict, name: str, default: float) -> float:
    v = opts.get(name)
    if v.__class__ in (int, float):
        return float(v)
    return default


def _profile(started: float) -> list:
    ms = (time.perf_counter() - started) * 1000.0
    return [{"description": "Evaluating query.", "duration(ms)": ms, "sub_tasks": []}]


def _atom_body(atom: Atom, profile: bool, started: float) -> bytes:
    encoded = atom.raw if atom.raw is not None else orjson.dumps(atom.value)
    body = b'{"t":1,"r":[' + encoded + b"]"
    if profile:
        body += b',"p":' + orjson.dumps(_profile(started))
    return body + b"}"


def _error_body(exc: ReqlError) -> dict:
    body: dict[str, Any] = {"t": exc.response_type, "r": [exc.message], "b": blame(exc)}
    if exc.error_type is not None:
        body["e"] = exc.error_type
    return body


def _client_error(message: str) -> dict:
    return {"t": CLIENT_ERROR, "r": [message], "b": []}
