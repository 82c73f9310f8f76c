"""Shared helpers for the wire-layer tests: feeding bytes and collecting events."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from wire_transcripts import (
    DECOY_SALT_B64,
    RFC_CLIENT_NONCE,
    RFC_SERVER_NONCE,
    driver_client_nonce,
    driver_handshake_for,
    users_table,
)

from reqlite.wire import NEED_DATA, ConnectionClosed, ProtocolError, ServerConnection

__all__ = [
    "drain",
    "feed",
    "make_conn",
    "driver_connect",
    "split_nul",
]


def make_conn(users: dict[str, str] | None = None, **kw: Any) -> ServerConnection:
    table = users_table({"admin": ""} if users is None else users)
    kw.setdefault("nonce_factory", lambda: RFC_SERVER_NONCE)
    kw.setdefault("salt_factory", lambda: base64.b64decode(DECOY_SALT_B64))
    return ServerConnection(table.get, **kw)


def drain(conn: ServerConnection) -> tuple[list[Any], str | None]:
    """Pull events until NEED_DATA, ConnectionClosed or a ProtocolError (its message)."""
    events: list[Any] = []
    while True:
        try:
            ev = conn.next_event()
        except ProtocolError as exc:
            return events, exc.message
        if ev is NEED_DATA:
            return events, None
        events.append(ev)
        if isinstance(ev, ConnectionClosed):
            return events, None


def feed(conn: ServerConnection, chunks: Iterable[bytes]) -> tuple[list[Any], str | None, bytes]:
    """Feed chunks one by one, draining after each; returns events, error, output."""
    events: list[Any] = []
    out = bytearray()
    for chunk in chunks:
        conn.receive_data(chunk)
        evs, err = drain(conn)
        events.extend(evs)
        out += conn.data_to_send()
        if err is not None:
            return events, err, bytes(out)
    return events, None, bytes(out)


def split_nul(data: bytes) -> list[bytes]:
    """Split NUL-terminated messages (dropping the NULs)."""
    parts = data.split(b"\0")
    assert parts[-1] == b"", data
    return parts[:-1]


def driver_connect(
    conn: ServerConnection,
    username: str = "admin",
    password: str = "",
    nonce: str = RFC_CLIENT_NONCE,
    trailing: bytes = b"",
) -> tuple[list[Any], str | None]:
    """Run the official driver's HandshakeV1_0 against ``conn`` in-process.

    Returns the events and the ProtocolError message (if any); the driver's own
    exceptions (ReqlAuthError, ...) propagate. ``trailing`` is sent right after
    the client-final message, in the same chunk (pipelined queries).
    """
    events: list[Any] = []
    with driver_client_nonce(nonce):
        client = driver_handshake_for(username, password)
        pending: list[bytes] = []
        message = client.next_message(None)
        while True:
            if message:
                extra = trailing if message.startswith(b"{") else b""
                conn.receive_data(message + extra)
                evs, err = drain(conn)
                events.extend(evs)
                pending.extend(split_nul(conn.data_to_send()))
                if err is not None:
                    # Let the driver interpret the error reply (it raises).
                    for reply in pending:
                        client.next_message(reply)
                    return events, err
            if not pending:
                raise AssertionError("handshake stalled")
            message = client.next_message(pending.pop(0))
            if message is None:
                assert not pending
                return events, None
