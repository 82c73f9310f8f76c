"""The embedded engine: reqlite in-process, driven by the official Python driver, no socket.

::

    import reqlite.embedded
    from rethinkdb import r

    conn = reqlite.embedded.connect("./data")     # opens the directory in this process
    r.table_create("users").run(conn)
    r.table("users").insert({"id": 1}).run(conn)
    conn.close()                                   # last connection: the store is closed

``connect`` returns a subclass of the driver's own ``Connection``, so ``query.run(conn)``,
cursors, changefeeds, ``noreply_wait()``, ``server()``, ``use()`` and ``repl()`` work as
they do over TCP.  Underneath, the real server machinery runs on a background thread
with its own Trio loop: each connection is a ``reqlite.server.connection.Connection``
(the very class serving TCP clients) whose byte stream is an in-memory pipe instead of a
socket.  The bytes on that pipe are the real wire protocol — V1_0 handshake with
SCRAM-SHA-256, framing, batching, cursors, STOP — so the embedded engine behaves exactly
like the socket server.

One engine serves a data directory per process: a second ``connect`` to the same path
shares it, and it shuts down (closing the store cleanly) when its last connection
closes, or at once with ``engine.close()`` for an engine obtained from :func:`open`.
A directory held by another process (a running ``reqlite serve``) is refused with the
storage lock error.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any

import trio
from rethinkdb import net
from rethinkdb.errors import ReqlDriverError, ReqlTimeoutError

from .server.connection import Connection as ServerConnection
from .storage import StorageError, Store

__all__ = ["EmbeddedConnection", "EmbeddedEngine", "EmbeddedError", "connect", "open"]

RECEIVE_SIZE = 65536


class EmbeddedError(ReqlDriverError, StorageError):
    """The data directory cannot be opened (e.g. another reqlite process holds it)."""


# -- the in-memory byte stream --------------------------------------------------------------


class _Pipe:
    """Two byte queues between one client thread and the engine's Trio thread.

    Client to server: the client hands each write to the Trio loop (``run_sync_soon``),
    which appends it and wakes the reader.  Server to client: the Trio side appends
    under a condition variable the client thread waits on.
    """

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self.token = token
        # client -> server (touched only on the Trio thread)
        self.inbound = bytearray()
        self.inbound_eof = False
        self.readable: trio.Event | None = None
        # server -> client
        self.cond = threading.Condition()
        self.outbound = bytearray()
        self.server_closed = False

    # Trio side ------------------------------------------------------------------------

    def _push(self, data: bytes) -> None:
        if data:
            self.inbound += data
        else:
            self.inbound_eof = True
        if self.readable is not None:
            self.readable.set()

    # client side ------------------------------------------------------------------------

    def client_send(self, data: bytes) -> bool:
        try:
            self.token.run_sync_soon(self._push, bytes(data))
            return True
        except trio.RunFinishedError:
            return False


class _ServerStream:
    """The server's end of a pipe: the ``receive_some``/``send_all``/``aclose`` the
    server connection uses on a socket."""

    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe
        self._closed = False

    async def receive_some(self, max_bytes: int = RECEIVE_SIZE) -> bytes:
        pipe = self.pipe
        while not pipe.inbound and not pipe.inbound_eof:
            if self._closed:
                raise trio.ClosedResourceError("stream closed")
            pipe.readable = trio.Event()
            await pipe.readable.wait()
        if self._closed:
            raise trio.ClosedResourceError("stream closed")
        data = bytes(pipe.inbound[:max_bytes])
        del pipe.inbound[:max_bytes]
        return data

    async def send_all(self, data: bytes) -> None:
        pipe = self.pipe
        if self._closed:
            raise trio.ClosedResourceError("stream closed")
        with pipe.cond:
            pipe.outbound += data
            pipe.cond.notify_all()

    async def aclose(self) -> None:
        self._closed = True
        with self.pipe.cond:
            self.pipe.server_closed = True
            self.pipe.cond.notify_all()
        if self.pipe.readable is not None:
            self.pipe.readable.set()
        await trio.lowlevel.checkpoint()


class _ClientSocket:
    """The client's end of a pipe, with the interface the driver's ``ConnectionInstance``
    expects of its socket wrapper (``sendall``, ``recvall``, ``close``, ``is_open``).

    Opening it performs the driver's V1_0 handshake over the pipe."""

    def __init__(self, instance: _EmbeddedInstance, engine: EmbeddedEngine, timeout: float) -> None:
        self._pipe: _Pipe | None = None
        self._closed = False
        self._engine = engine
        parent = instance._parent
        deadline = time.time() + timeout
        self._pipe = engine._open_pipe()
        handshake = parent.handshake
        handshake.reset()
        try:
            response = None
            while True:
                request = handshake.next_message(response)
                if request is None:
                    break
                if request != "":
                    self.sendall(request)
                response = self._recv_message(deadline)
        except BaseException:
            self.close()
            raise

    def is_open(self) -> bool:
        return not self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pipe is not None:
            self._pipe.client_send(b"")  # end of stream: the server connection ends

    def sendall(self, data: bytes) -> None:
        if self._closed or self._pipe is None:
            raise ReqlDriverError("Connection is closed.")
        if not self._pipe.client_send(data):
            self.close()
            raise ReqlDriverError("Connection is closed.")

    def _wait(self, ready: Any, deadline: float | None) -> None:
        """Wait (holding the condition) until ``ready()``; raise on close or timeout."""
        pipe = self._pipe
        assert pipe is not None
        while not ready():
            if pipe.server_closed:
                self.close()
                raise ReqlDriverError("Connection is closed.")
            if deadline is None:
                pipe.cond.wait()
            else:
                left = deadline - time.time()
                if left <= 0:
                    raise ReqlTimeoutError()
                pipe.cond.wait(left)

    def recvall(self, length: int, deadline: float | None) -> bytes:
        if self._closed or self._pipe is None:
            raise ReqlDriverError("Connection is closed.")
        pipe = self._pipe
        with pipe.cond:
            self._wait(lambda: len(pipe.outbound) >= length, deadline)
            data = bytes(pipe.outbound[:length])
            del pipe.outbound[:length]
        return data

    def _recv_message(self, deadline: float) -> bytes:
        """One NUL-terminated handshake message (without the NUL)."""
        pipe = self._pipe
        assert pipe is not None
        with pipe.cond:
            self._wait(lambda: b"\0" in pipe.outbound, deadline)
            end = pipe.outbound.index(b"\0")
            data = bytes(pipe.outbound[:end])
            del pipe.outbound[: end + 1]
        return data


# -- the driver-facing connection -------------------------------------------------------------


class _EmbeddedInstance(net.ConnectionInstance):
    """The driver's connection instance, over an in-memory pipe instead of a socket."""

    def __init__(self, parent: EmbeddedConnection, engine: EmbeddedEngine) -> None:
        super().__init__(parent)
        self._engine = engine

    def connect(self, timeout: float) -> EmbeddedConnection:
        self._socket = _ClientSocket(self, self._engine, timeout)
        return self._parent

    def client_port(self) -> None:
        return None

    def client_address(self) -> None:
        return None


class EmbeddedConnection(net.Connection):
    """A connection of the official driver to an in-process engine.

    Everything the driver offers on a connection works (``run``, cursors, ``use``,
    ``noreply_wait``, ``server``, ``repl``, ``reconnect``); ``close()`` also lets the
    engine go (it shuts down with its last connection)."""

    def __init__(
        self, engine: EmbeddedEngine, db: str | None = None, user: str = "admin",
        password: str = "", timeout: float = 20,
    ) -> None:
        super().__init__(
            _EmbeddedInstance, "embedded", 0, db, None, user, password or None, timeout, {}, 10,
            engine=engine,
        )
        self.engine = engine
        self._holds_engine = False
        # Made by connect(path): a reconnect after the engine shut down reopens it.
        self._reopen = False

    def reconnect(self, noreply_wait: bool = True, timeout: float | None = None) -> EmbeddedConnection:
        if timeout is None:
            timeout = self.connect_timeout
        net.Connection.close(self, noreply_wait)  # the old instance only: keep the engine
        if not self._holds_engine:
            with _REGISTRY_LOCK:
                if self.engine.closed and self._reopen:
                    self.engine = _get_engine(self.engine.path, None)
                    self._child_kwargs["engine"] = self.engine
                self.engine._acquire()
            self._holds_engine = True
        self._instance = self._conn_type(self, **self._child_kwargs)
        try:
            return self._instance.connect(timeout)
        except BaseException:
            self._instance = None  # the handshake failed: nothing to close
            raise

    def close(self, noreply_wait: bool = True) -> None:
        try:
            net.Connection.close(self, noreply_wait)
        finally:
            if self._holds_engine:
                self._holds_engine = False
                self.engine._release()


# -- the engine ---------------------------------------------------------------------------------

_ENGINES: dict[str, EmbeddedEngine] = {}
_REGISTRY_LOCK = threading.RLock()


class EmbeddedEngine:
    """A data directory opened in this process, served by a Trio loop on its own thread."""

    def __init__(self, path: str, initial_password: str | None = None) -> None:
        self.path = os.path.abspath(path)
        self._initial_password = initial_password
        try:
            self.store = Store(self.path)
        except StorageError as exc:
            raise EmbeddedError(str(exc)) from None
        self._refs = 0
        self._pinned = False
        self._closed = False
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self.server: Any = None
        self._thread = threading.Thread(target=self._thread_main, name="reqlite-embedded", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self.store.close()
            raise self._error

    # -- the Trio thread ------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # noqa: BLE001 - reported to the opener
            if not self._ready.is_set():
                self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        from .ql.indexing import resume_builds
        from .ql.jsengine import close_pool
        from .server.server import Server

        self.server = Server(self.store, self._initial_password)
        self.store.attach_trio()
        self._token = trio.lowlevel.current_trio_token()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                # Background work that outlives a query (index builds) runs here, as in serve().
                self.store.nursery = nursery
                resume_builds(self.store)
                self._ready.set()
                await trio.sleep_forever()
        finally:
            self.store.nursery = None
            with trio.CancelScope(shield=True):
                await close_pool()
            self.store.detach_trio()

    def _start_connection(self, pipe: _Pipe) -> None:
        """On the Trio thread: serve one more connection over ``pipe``."""
        assert self._nursery is not None
        conn = ServerConnection(self.server, _ServerStream(pipe), "embedded")
        self._nursery.start_soon(self._serve_connection, conn)

    async def _serve_connection(self, conn: ServerConnection) -> None:
        self.server.connections.add(conn)
        try:
            await conn.serve()
        finally:
            self.server.connections.discard(conn)

    def _open_pipe(self) -> _Pipe:
        if self._closed or self._token is None:
            raise ReqlDriverError("The embedded engine is closed.")
        pipe = _Pipe(self._token)
        try:
            trio.from_thread.run_sync(self._start_connection, pipe, trio_token=self._token)
        except trio.RunFinishedError:
            raise ReqlDriverError("The embedded engine is closed.") from None
        return pipe

    # -- public ---------------------------------------------------------------------------------

    def connect(
        self, db: str | None = None, user: str = "admin", password: str = "", timeout: float = 20,
    ) -> EmbeddedConnection:
        """A new driver connection to this engine."""
        conn = EmbeddedConnection(self, db, user, password, timeout)
        try:
            conn.reconnect(timeout=timeout)
        except BaseException:
            conn.close(noreply_wait=False)
            raise
        return conn

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Shut down now: open connections end, queued writes commit, the store closes."""
        with _REGISTRY_LOCK:
            if self._closed:
                return
            self._closed = True
            if _ENGINES.get(self.path) is self:
                del _ENGINES[self.path]
        if self._token is not None and self._nursery is not None:
            try:
                trio.from_thread.run_sync(self._nursery.cancel_scope.cancel, trio_token=self._token)
            except trio.RunFinishedError:
                pass
        self._thread.join()
        self.store.close()

    def __enter__(self) -> EmbeddedEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _acquire(self) -> None:
        with _REGISTRY_LOCK:
            if self._closed:
                raise ReqlDriverError("The embedded engine is closed.")
            self._refs += 1

    def _release(self) -> None:
        with _REGISTRY_LOCK:
            self._refs -= 1
            last = self._refs <= 0 and not self._pinned
        if last:
            self.close()


def open(path: str, initial_password: str | None = None) -> EmbeddedEngine:  # noqa: A001
    """Open (or share) the engine of a data directory; it stays up until ``close()``."""
    with _REGISTRY_LOCK:
        engine = _get_engine(path, initial_password)
        engine._pinned = True
    return engine


def connect(
    path: str, db: str | None = None, user: str = "admin", password: str = "",
    timeout: float = 20, initial_password: str | None = None,
) -> EmbeddedConnection:
    """A driver connection to the data directory at ``path``, opened in this process.

    The engine is shared by every connection to the same directory and shuts down when
    the last one closes.  ``initial_password`` sets the admin password of a new directory
    (as ``reqlite serve --initial-password``); ``password`` is the one to log in with.
    """
    with _REGISTRY_LOCK:
        engine = _get_engine(path, initial_password)
        engine._acquire()  # keep it alive while the connection opens
    try:
        conn = engine.connect(db, user, password, timeout)
    finally:
        engine._release()
    conn._reopen = True
    return conn


def _get_engine(path: str, initial_password: str | None) -> EmbeddedEngine:
    key = os.path.abspath(path)
    engine = _ENGINES.get(key)
    if engine is None or engine.closed:
        engine = EmbeddedEngine(key, initial_password)
        _ENGINES[key] = engine
    return engine


@atexit.register
def _close_all() -> None:
    for engine in list(_ENGINES.values()):
        try:
            engine.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
