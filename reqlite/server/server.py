"""The Trio TCP server: listeners, one task per connection, users, graceful shutdown."""

from __future__ import annotations

import logging
import signal
import socket
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import trio

from .. import __version__
from ..ql.indexing import resume_builds
from ..storage import Store, layout, users
from ..wire import ScramCredentials, make_scram_credentials, verify_plaintext_password
from .connection import Connection
from .transport import FastSocketStream

log = logging.getLogger("reqlite.server")

# What we announce in the handshake: the RethinkDB release whose behaviour we follow.
SERVER_VERSION = f"2.4.4-reqlite-{__version__}"
SERVER_ID_KEY = b"__meta__:server_id"
SHUTDOWN_GRACE_SECONDS = 5.0


def _credentials_to_json(c: ScramCredentials) -> dict:
    return users.credentials_to_json(c)


def _credentials_from_json(d: dict) -> ScramCredentials:
    return ScramCredentials(**users.credentials_fields(d))


class Server:
    """Everything the connections share: the store, users, identity."""

    def __init__(self, store: Store, initial_password: str | None = None) -> None:
        self.store = store
        self.server_version = SERVER_VERSION
        self.name = socket.gethostname().replace("-", "_").replace(".", "_") or "reqlite"
        self.id = self._ensure_identity(initial_password)
        self._cred_cache: dict[str, tuple[bytes, ScramCredentials]] = {}
        self.connections: set[Connection] = set()

    def _ensure_identity(self, initial_password: str | None) -> str:
        engine = self.store.engine
        with engine.read() as txn:
            sid = txn.get(SERVER_ID_KEY)
            admin = txn.get(layout.user_key("admin"))
        if sid is None or admin is None:
            new_id = str(uuid.uuid4()).encode()
            creds = make_scram_credentials(initial_password or "")
            admin_doc = orjson.dumps(users.user_doc("admin", creds, bool(initial_password)))

            def job(txn: Any) -> None:
                if txn.get(SERVER_ID_KEY) is None:
                    txn.put(SERVER_ID_KEY, new_id)
                if txn.get(layout.user_key("admin")) is None:
                    txn.put(layout.user_key("admin"), admin_doc)

            engine.write_blocking(job)
            with engine.read() as txn:
                sid = txn.get(SERVER_ID_KEY)
                admin = txn.get(layout.user_key("admin"))
        doc = orjson.loads(admin)
        if "has_password" not in doc:
            # A directory from before users were writable: find out whether the admin
            # password is the empty one, once, and remember it.
            creds = _credentials_from_json(doc["password"])
            doc["has_password"] = not verify_plaintext_password(creds, "")
            data = orjson.dumps(doc)
            engine.write_blocking(lambda txn: txn.put(layout.user_key("admin"), data))
        return sid.decode()

    def lookup_credentials(self, username: str) -> ScramCredentials | None:
        with self.store.read() as txn:
            raw = txn.get(layout.user_key(username))
        if raw is None:
            return None
        cached = self._cred_cache.get(username)
        if cached is not None and cached[0] == raw:
            return cached[1]
        doc = orjson.loads(raw)
        creds = _credentials_from_json(doc["password"])
        self._cred_cache[username] = (raw, creds)
        return creds

    def server_info(self) -> dict:
        return {"id": self.id, "name": self.name, "proxy": False}

    async def handle(self, stream: trio.SocketStream) -> None:
        try:
            peer = stream.socket.getpeername()
            peer_s = f"{peer[0]}:{peer[1]}"
        except OSError:
            peer_s = "?"
        try:
            stream.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        conn = Connection(self, FastSocketStream.from_trio(stream), peer_s)
        self.connections.add(conn)
        try:
            await conn.serve()
        finally:
            self.connections.discard(conn)


def resolve_binds(binds: list[str]) -> list[str | None]:
    """``--bind`` values to listen addresses (``all`` = every interface)."""
    if not binds:
        return ["127.0.0.1"]
    out: list[str | None] = []
    for b in binds:
        if b == "all":
            return [None]
        out.append(b)
    return out


async def serve(
    store: Store,
    binds: list[str],
    port: int,
    initial_password: str | None = None,
    ready: Callable[[list[tuple[str, int]]], None] | None = None,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the server until cancelled or SIGINT/SIGTERM; then shut down cleanly."""
    server = Server(store, initial_password)
    store.attach_trio()
    listeners: list[trio.SocketListener] = []
    for host in resolve_binds(binds):
        listeners.extend(await trio.open_tcp_listeners(port, host=host))
        if port == 0 and listeners:
            port = listeners[0].socket.getsockname()[1]
    addrs = [tuple(lst.socket.getsockname()[:2]) for lst in listeners]
    if ready is not None:
        ready(addrs)
    task_status.started(addrs)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_signals, nursery.cancel_scope)
            # Background work that outlives a query (index builds) runs here.
            store.nursery = nursery
            resume_builds(store)
            await trio.serve_listeners(server.handle, listeners, handler_nursery=nursery)
    finally:
        for lst in listeners:
            with trio.CancelScope(shield=True):
                await lst.aclose()
        store.nursery = None
        store.detach_trio()


async def _watch_signals(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for sig in signals:
            log.info("received %s: shutting down", signal.Signals(sig).name)
            scope.cancel()
            return
