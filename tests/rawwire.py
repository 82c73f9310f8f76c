"""Raw-socket helpers for protocol tests: a real handshake, then hand-made frames."""

from __future__ import annotations

import json
import socket
import struct


def raw_connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def read_until_nul(s: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def handshake(port: int) -> socket.socket:
    """A raw socket that completed the V1_0 SCRAM handshake as admin with the empty password."""
    from rethinkdb.handshake import HandshakeV1_0

    s = raw_connect(port)
    hs = HandshakeV1_0(json.JSONDecoder(), json.JSONEncoder(), "127.0.0.1", port, "admin", "")
    msg = hs.next_message(None)
    s.sendall(msg)
    pending = b""
    while True:
        while b"\0" not in pending:
            pending += s.recv(4096)
        reply, _, pending = pending.partition(b"\0")
        msg = hs.next_message(reply)
        if msg is None:
            break
        if msg != "":
            s.sendall(msg)
    return s


def send_query(s: socket.socket, token: int, payload: bytes) -> None:
    s.sendall(struct.pack("<QL", token, len(payload)) + payload)


def read_response(s: socket.socket) -> tuple[int, dict]:
    head = b""
    while len(head) < 12:
        chunk = s.recv(12 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    token, length = struct.unpack("<qL", head)
    body = b""
    while len(body) < length:
        chunk = s.recv(length - len(body))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return token, json.loads(body)
