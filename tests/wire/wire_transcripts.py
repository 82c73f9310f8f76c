"""Builds the golden wire transcripts in ``protocol/transcripts/``.

Client bytes come from the official Python driver wherever it can produce them:
its ``rethinkdb.handshake.HandshakeV1_0`` class for V1_0 handshakes (with its
random nonce patched to a fixed value) and ``rethinkdb.net.Query.serialize`` for
query frames. Server bytes come from ``reqlite.wire.ServerConnection`` with
injected nonce and salts (RFC 7677's example values where possible), except for
query responses, which the query layer builds; those are encoded here with
``encode_response`` so the transcripts show complete exchanges.

Regenerate with ``/work/venv/bin/python tests/wire/wire_transcripts.py``;
``test_wire_transcripts.py`` checks that the files equal what this produces and
replays them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import orjson  # noqa: E402
import rethinkdb.handshake as driver_handshake  # noqa: E402
from rethinkdb import r  # noqa: E402
from rethinkdb.ast import ReQLDecoder, ReQLEncoder  # noqa: E402
from rethinkdb.errors import ReqlAuthError, ReqlDriverError  # noqa: E402
from rethinkdb.net import Query  # noqa: E402

from reqlite.wire import (  # noqa: E402
    NEED_DATA,
    BadQuery,
    ProtocolError,
    QueryType,
    ScramCredentials,
    ServerConnection,
    Version,
    encode_response,
    make_scram_credentials,
)
from reqlite.wire.ql2 import Protocol  # noqa: E402

TRANSCRIPT_DIR = os.path.join(ROOT, "protocol", "transcripts")

# RFC 7677 section 3 example values.
RFC_USER = "user"
RFC_PASSWORD = "pencil"
RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SALT_B64 = "W22ZaJ0SNY7soEsUEjb6gQ=="
RFC_ITERATIONS = 4096
# A fixed decoy salt for unknown users (16 bytes, like RethinkDB's).
DECOY_SALT_B64 = base64.b64encode(bytes(range(16))).decode()
SERVER_VERSION = "2.4.4"


# -- helpers -----------------------------------------------------------------------


@contextlib.contextmanager
def driver_client_nonce(nonce: str) -> Iterator[None]:
    """Make the driver's HandshakeV1_0 use ``nonce`` as its client nonce.

    The driver base64-encodes 18 bytes from SystemRandom; we make those bytes
    zero and have the module's base64 return ``nonce`` for exactly that input.
    """
    real = base64

    class ZeroRandom:
        def getrandbits(self, k: int) -> int:
            return 0

    class Base64Shim:
        def standard_b64encode(self, data: bytes) -> bytes:
            if data == bytes(18):
                return nonce.encode("ascii")
            return real.standard_b64encode(data)

        def standard_b64decode(self, data: Any) -> bytes:
            return real.standard_b64decode(data)

    with (
        mock.patch.object(driver_handshake, "SystemRandom", ZeroRandom),
        mock.patch.object(driver_handshake, "base64", Base64Shim()),
    ):
        yield


def driver_handshake_for(username: str, password: str) -> driver_handshake.HandshakeV1_0:
    return driver_handshake.HandshakeV1_0(
        ReQLDecoder(), ReQLEncoder(), "localhost", 28015, username, password
    )


def users_table(users: dict[str, str]) -> dict[str, ScramCredentials]:
    salt = base64.b64decode(RFC_SALT_B64)
    return {
        name: make_scram_credentials(pw, salt=salt, iterations=RFC_ITERATIONS)
        for name, pw in users.items()
    }


def make_server(users: dict[str, str], **kw: Any) -> ServerConnection:
    table = users_table(users)
    return ServerConnection(
        table.get,
        server_version=SERVER_VERSION,
        nonce_factory=lambda: RFC_SERVER_NONCE,
        salt_factory=lambda: base64.b64decode(DECOY_SALT_B64),
        **kw,
    )


def readable(data: bytes) -> str:
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


def step(frm: str, data: bytes, comment: str, **extra: Any) -> dict[str, Any]:
    return {"from": frm, "comment": comment, "hex": data.hex(), "text": readable(data), **extra}


def split_nul_messages(data: bytes) -> list[bytes]:
    """Split concatenated null-terminated replies, keeping each NUL."""
    parts = data.split(b"\0")
    assert parts[-1] == b""
    return [p + b"\0" for p in parts[:-1]]


def event_to_json(event: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": type(event).__name__}
    for name in getattr(event, "__slots__", ()):
        d[name] = getattr(event, name)
    return d


class Recorder:
    """Feeds client bytes to a ServerConnection and records the conversation."""

    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn
        self.steps: list[dict[str, Any]] = []
        self.error: str | None = None

    def client(self, data: bytes, comment: str, server_comments: list[str] | None = None) -> bytes:
        self.conn.receive_data(data)
        events = []
        while True:
            try:
                ev = self.conn.next_event()
            except ProtocolError as exc:
                self.error = exc.message
                break
            if ev is NEED_DATA:
                break
            events.append(ev)
        self.steps.append(step("client", data, comment, events=[event_to_json(e) for e in events]))
        out = self.conn.data_to_send()
        self._last_events = events
        if out:
            messages = split_nul_messages(out) if out.endswith(b"\0") else [out]
            comments = server_comments or []
            for i, m in enumerate(messages):
                c = comments[i] if i < len(comments) else "server reply"
                self.steps.append(step("server", m, c, by="connection"))
            if self.error is not None:
                self.steps[-1]["comment"] = f"error reply ({self.error}); the server then closes"
        return out

    def response(self, token: int, body: dict[str, Any], comment: str) -> bytes:
        data = encode_response(token, orjson.dumps(body))
        self.steps.append(step("server", data, comment, by="server"))
        return data

    def bad_query_response(self, comment: str) -> None:
        (ev,) = self._last_events
        assert isinstance(ev, BadQuery)
        self.steps.append(step("server", ev.response(), comment, by="server"))


def transcript(
    name: str,
    comment: str,
    rec: Recorder,
    fixture: dict[str, Any],
    driver_outcome: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"state": rec.conn.state.value}
    if rec.error is not None:
        result["protocol_error"] = rec.error
    if rec.conn.username is not None:
        result["username"] = rec.conn.username
    if driver_outcome is not None:
        result["driver_outcome"] = driver_outcome
    return {
        "name": name,
        "comment": comment,
        "fixture": fixture,
        "steps": rec.steps,
        "result": result,
    }


def v1_fixture(users: dict[str, str], username: str, password: str, nonce: str) -> dict[str, Any]:
    return {
        "protocol": "V1_0",
        "server_version": SERVER_VERSION,
        "users": {
            name: {"password": pw, "salt": RFC_SALT_B64, "iterations": RFC_ITERATIONS}
            for name, pw in users.items()
        },
        "server_nonce": RFC_SERVER_NONCE,
        "unknown_user_salt": DECOY_SALT_B64,
        "client": {
            "generated_by": "rethinkdb 2.4.10.post1 rethinkdb.handshake.HandshakeV1_0",
            "username": username,
            "password": password,
            "client_nonce": nonce,
        },
    }


def run_driver_handshake(
    rec: Recorder,
    username: str,
    password: str,
    nonce: str = RFC_CLIENT_NONCE,
    tweak: Callable[[driver_handshake.HandshakeV1_0], None] | None = None,
) -> str:
    """Run the driver's handshake against the recorder; returns the driver's verdict."""
    with driver_client_nonce(nonce):
        client = driver_handshake_for(username, password)
        if tweak is not None:
            tweak(client)
        first = client.next_message(None)
        out = rec.client(
            first,
            "magic V1_0 (LE u32) + client JSON: protocol_version, authentication_method, "
            "client-first-message; NUL-terminated. The driver pipelines both.",
            ["server hello: protocol version range and server version", "server-first-message"],
        )
        pending = split_nul_messages(out)
        try:
            while pending:
                message = client.next_message(pending.pop(0)[:-1])
                if message is None:
                    break
                if message:
                    out = rec.client(
                        message,
                        "client JSON with the client-final-message (proof)",
                        ["server-final-message (server signature)"],
                    )
                    pending.extend(split_nul_messages(out))
        except (ReqlAuthError, ReqlDriverError) as exc:
            return f"{type(exc).__name__}: {exc}"
    return "connected"


# -- the transcripts -------------------------------------------------------------


def v1_0_success_empty_admin_password() -> dict[str, Any]:
    users = {"admin": ""}
    rec = Recorder(make_server(users))
    outcome = run_driver_handshake(rec, "admin", "")
    return transcript(
        "v1_0_success_empty_admin_password",
        "V1_0 handshake of the official Python driver as admin with the default empty "
        "password; RFC 7677's client nonce, server nonce and salt are injected.",
        rec,
        v1_fixture(users, "admin", "", RFC_CLIENT_NONCE),
        outcome,
    )


def v1_0_rfc7677_vector() -> dict[str, Any]:
    users = {RFC_USER: RFC_PASSWORD}
    rec = Recorder(make_server(users))
    outcome = run_driver_handshake(rec, RFC_USER, RFC_PASSWORD)
    return transcript(
        "v1_0_rfc7677_vector",
        "V1_0 handshake reproducing RFC 7677's SCRAM-SHA-256 example exactly: user "
        "'user', password 'pencil'; the client proof is "
        "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ= and the server signature "
        "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=.",
        rec,
        v1_fixture(users, RFC_USER, RFC_PASSWORD, RFC_CLIENT_NONCE),
        outcome,
    )


def v1_0_wrong_password() -> dict[str, Any]:
    users = {"admin": ""}
    rec = Recorder(make_server(users))
    outcome = run_driver_handshake(rec, "admin", "pencil")
    return transcript(
        "v1_0_wrong_password",
        "V1_0 handshake with a wrong password: the proof fails, RethinkDB answers "
        "error_code 12 'Wrong password' (the driver raises ReqlAuthError) and closes.",
        rec,
        v1_fixture(users, "admin", "pencil", RFC_CLIENT_NONCE),
        outcome,
    )


def v1_0_unknown_user() -> dict[str, Any]:
    users = {"admin": ""}
    rec = Recorder(make_server(users))
    outcome = run_driver_handshake(rec, "nobody", "x")
    return transcript(
        "v1_0_unknown_user",
        "V1_0 handshake for a user that does not exist: like RethinkDB, the server "
        "answers the first message with a decoy salt and reports error_code 17 "
        "'Unknown user' only after the client's proof.",
        rec,
        v1_fixture(users, "nobody", "x", RFC_CLIENT_NONCE),
        outcome,
    )


def v1_0_unsupported_protocol_version() -> dict[str, Any]:
    users = {"admin": ""}
    rec = Recorder(make_server(users))

    def tweak(client: driver_handshake.HandshakeV1_0) -> None:
        client._protocol_version = 1

    outcome = run_driver_handshake(rec, "admin", "", tweak=tweak)
    return transcript(
        "v1_0_unsupported_protocol_version",
        "The driver's handshake with protocol_version 1 (patched): error_code 2 "
        "'Unsupported `protocol_version`.', then close.",
        rec,
        v1_fixture(users, "admin", "", RFC_CLIENT_NONCE),
        outcome,
    )


def v1_0_bad_authentication_method() -> dict[str, Any]:
    users = {"admin": ""}
    rec = Recorder(make_server(users))
    body = {
        "protocol_version": 0,
        "authentication_method": "SCRAM-SHA-1",
        "authentication": "n,,n=admin,r=" + RFC_CLIENT_NONCE,
    }
    data = struct.pack("<I", Version.V1_0) + json.dumps(body).encode() + b"\0"
    rec.client(
        data,
        "hand-written: magic V1_0 + JSON asking for SCRAM-SHA-1",
        ["server hello", "error_code 4; the server then closes"],
    )
    return transcript(
        "v1_0_bad_authentication_method",
        "Unsupported authentication_method: error_code 4, then close.",
        rec,
        {
            "protocol": "V1_0",
            "server_version": SERVER_VERSION,
            "users": {"admin": {"password": ""}},
        },
    )


def bad_magic() -> dict[str, Any]:
    rec = Recorder(make_server({"admin": ""}))
    rec.client(
        b"GET / HTTP/1.1\r\nHost: localhost:28015\r\n\r\n",
        "an HTTP request on the driver port: 'GET ' is read as the magic",
        ["RethinkDB's unsupported-version text, NUL-terminated; then close"],
    )
    return transcript(
        "bad_magic",
        "Unknown magic number: RethinkDB writes 'ERROR: ...\\n\\0' and closes.",
        rec,
        {"server_version": SERVER_VERSION},
    )


def v0_1_protobuf_rejected() -> dict[str, Any]:
    rec = Recorder(make_server({"admin": ""}))
    rec.client(
        struct.pack("<I", Version.V0_1),
        "magic V0_1",
        ["V0_1 and V0_2 only spoke protobuf: refused, then close"],
    )
    return transcript(
        "v0_1_protobuf_rejected",
        "Magic V0_1 (or V0_2): 'ERROR: The PROTOBUF client protocol is no longer "
        "supported\\n\\0', then close.",
        rec,
        {"server_version": SERVER_VERSION},
    )


def v0_4_frame(key: bytes, protocol: int) -> bytes:
    return (
        struct.pack("<I", Version.V0_4)
        + struct.pack("<I", len(key))
        + key
        + struct.pack("<I", protocol)
    )


def v0_4_success() -> dict[str, Any]:
    rec = Recorder(make_server({"admin": ""}))
    rec.client(
        v0_4_frame(b"", Protocol.JSON),
        "magic V0_4, auth key length 0, empty key, JSON protocol magic "
        "(as rethinkdbdash sends them, in one write)",
        ["SUCCESS\\0"],
    )
    query = Query(QueryType.START, 0, r.expr(1) + 2, {}).serialize(ReQLEncoder())
    rec.client(query, "START frame from the Python driver: token 0, [1,[24,[1,2]],{}]")
    rec.response(0, {"t": 1, "r": [3]}, "SUCCESS_ATOM 3 (built by the query layer)")
    return transcript(
        "v0_4_success",
        "V0_4 handshake with the admin password (empty) as auth key, then one query. "
        "Client bytes are hand-written: the 2.4 Python driver no longer speaks V0_4.",
        rec,
        {
            "protocol": "V0_4",
            "server_version": SERVER_VERSION,
            "users": {
                "admin": {"password": "", "salt": RFC_SALT_B64, "iterations": RFC_ITERATIONS}
            },
        },
    )


def v0_4_wrong_key() -> dict[str, Any]:
    rec = Recorder(make_server({"admin": ""}))
    rec.client(
        v0_4_frame(b"hunter2", Protocol.JSON),
        "magic V0_4 + auth key 'hunter2' + JSON magic",
        ["'ERROR: Incorrect authorization key.\\n\\0', then close"],
    )
    return transcript(
        "v0_4_wrong_key",
        "V0_4 with an auth key that is not the admin password.",
        rec,
        {
            "protocol": "V0_4",
            "server_version": SERVER_VERSION,
            "users": {
                "admin": {"password": "", "salt": RFC_SALT_B64, "iterations": RFC_ITERATIONS}
            },
        },
    )


def v0_4_protobuf_rejected() -> dict[str, Any]:
    rec = Recorder(make_server({"admin": ""}))
    rec.client(
        v0_4_frame(b"", Protocol.PROTOBUF),
        "magic V0_4 + empty auth key + PROTOBUF protocol magic",
        ["PROTOBUF refused, then close"],
    )
    return transcript(
        "v0_4_protobuf_rejected",
        "V0_4 asking for the PROTOBUF wire protocol.",
        rec,
        {
            "protocol": "V0_4",
            "server_version": SERVER_VERSION,
            "users": {
                "admin": {"password": "", "salt": RFC_SALT_B64, "iterations": RFC_ITERATIONS}
            },
        },
    )


def _connected_v1(users: dict[str, str]) -> Recorder:
    rec = Recorder(make_server(users))
    outcome = run_driver_handshake(rec, "admin", "")
    assert outcome == "connected", outcome
    return rec


def v1_0_start_query() -> dict[str, Any]:
    users = {"admin": ""}
    rec = _connected_v1(users)
    q = Query(QueryType.START, 0, r.expr(1) + 2, {}).serialize(ReQLEncoder())
    rec.client(q, "START, token 0: r.expr(1) + 2 as the driver serializes it")
    rec.response(0, {"t": 1, "r": [3]}, "SUCCESS_ATOM [3] for token 0")
    q = Query(
        QueryType.START,
        1,
        r.db("test").table("tv").get("x"),
        {"db": r.db("blog"), "noreply": False},
    ).serialize(ReQLEncoder())
    rec.client(q, "START, token 1, with global optargs db and noreply")
    rec.response(
        1,
        {"t": 18, "e": 4100000, "r": ["Table `test.tv` does not exist."], "b": []},
        "RUNTIME_ERROR (OP_FAILED) for token 1",
    )
    return transcript(
        "v1_0_start_query",
        "After a V1_0 handshake: START frames as the Python driver writes them and "
        "responses framed with encode_response (bodies as RethinkDB writes them).",
        rec,
        v1_fixture(users, "admin", "", RFC_CLIENT_NONCE),
    )


def v1_0_continue_stop() -> dict[str, Any]:
    users = {"admin": ""}
    rec = _connected_v1(users)
    enc = ReQLEncoder()
    rec.client(Query(QueryType.START, 0, r.range(), {}).serialize(enc), "START, token 0: r.range()")
    rec.response(0, {"t": 3, "r": [0, 1, 2], "n": []}, "SUCCESS_PARTIAL: first batch")
    rec.client(Query(QueryType.CONTINUE, 0, None, None).serialize(enc), "CONTINUE token 0: [2]")
    rec.response(0, {"t": 3, "r": [3, 4, 5], "n": []}, "SUCCESS_PARTIAL: next batch")
    rec.client(Query(QueryType.STOP, 0, None, None).serialize(enc), "STOP token 0: [3]")
    rec.response(0, {"t": 2, "r": [], "n": []}, "SUCCESS_SEQUENCE: cursor closed")
    rec.client(
        Query(QueryType.NOREPLY_WAIT, 1, None, None).serialize(enc), "NOREPLY_WAIT token 1: [4]"
    )
    rec.response(1, {"t": 4, "r": []}, "WAIT_COMPLETE")
    rec.client(
        Query(QueryType.SERVER_INFO, 2, None, None).serialize(enc), "SERVER_INFO token 2: [5]"
    )
    rec.response(
        2,
        {"t": 5, "r": [{"id": "00000000-0000-0000-0000-000000000000", "name": "reqlite"}]},
        "SERVER_INFO",
    )
    return transcript(
        "v1_0_continue_stop",
        "START of an endless stream, CONTINUE, STOP, NOREPLY_WAIT and SERVER_INFO "
        "frames as the Python driver writes them.",
        rec,
        v1_fixture(users, "admin", "", RFC_CLIENT_NONCE),
    )


def v1_0_bad_queries() -> dict[str, Any]:
    users = {"admin": ""}
    rec = _connected_v1(users)
    cases = [
        (5, b"{not json", "payload is not JSON"),
        (6, b'{"a":1}', "payload is an object, not an array"),
        (7, b"[]", "empty array"),
        (8, b'["1"]', "query type is a string"),
        (9, b"[9]", "unknown query type"),
        (10, b"[1,[1,[1]],[]]", "global optargs not an object"),
        (11, b"[1]", "START without a term"),
    ]
    for token, payload, what in cases:
        rec.client(encode_response(token, payload), f"token {token}: {what}")
        rec.bad_query_response("CLIENT_ERROR for that token; the connection stays open")
    q = Query(QueryType.START, 12, r.expr("ok"), {}).serialize(ReQLEncoder())
    rec.client(q, "a valid START afterwards is processed normally")
    rec.response(12, {"t": 1, "r": ["ok"]}, "SUCCESS_ATOM")
    return transcript(
        "v1_0_bad_queries",
        "Correctly framed but invalid queries: each gets a CLIENT_ERROR response "
        "with RethinkDB's message and the connection stays open.",
        rec,
        v1_fixture(users, "admin", "", RFC_CLIENT_NONCE),
    )


def v1_0_query_too_large() -> dict[str, Any]:
    users = {"admin": ""}
    rec = _connected_v1(users)
    header = struct.pack("<qI", 3, 128 * 1024 * 1024)
    rec.client(
        header,
        "a frame header declaring a 134217728-byte payload (128 MiB)",
        ["CLIENT_ERROR for token 3 (payload never read); then the server closes"],
    )
    return transcript(
        "v1_0_query_too_large",
        "A declared query size of 128 MiB or more is refused from the header alone "
        "with 'Query size (N) greater than maximum (134217727).' and the connection "
        "is closed.",
        rec,
        v1_fixture(users, "admin", "", RFC_CLIENT_NONCE),
    )


ALL: list[Callable[[], dict[str, Any]]] = [
    v1_0_success_empty_admin_password,
    v1_0_rfc7677_vector,
    v1_0_wrong_password,
    v1_0_unknown_user,
    v1_0_unsupported_protocol_version,
    v1_0_bad_authentication_method,
    bad_magic,
    v0_1_protobuf_rejected,
    v0_4_success,
    v0_4_wrong_key,
    v0_4_protobuf_rejected,
    v1_0_start_query,
    v1_0_continue_stop,
    v1_0_bad_queries,
    v1_0_query_too_large,
]


def render(t: dict[str, Any]) -> str:
    return json.dumps(t, indent=2, ensure_ascii=False) + "\n"


def build_all() -> dict[str, str]:
    """File name -> file text for every transcript."""
    return {f"{t['name']}.json": render(t) for t in (make() for make in ALL)}


def main() -> None:
    os.makedirs(TRANSCRIPT_DIR, exist_ok=True)
    for name, text in build_all().items():
        with open(os.path.join(TRANSCRIPT_DIR, name), "w", encoding="utf-8") as f:
            f.write(text)
        print("wrote", os.path.join("protocol", "transcripts", name))


if __name__ == "__main__":
    main()
