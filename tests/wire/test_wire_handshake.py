"""V1_0 (SCRAM-SHA-256), V0_4/V0_3 and bad-magic handshakes of ServerConnection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rethinkdb.errors import ReqlAuthError
from wire_helpers import drain, driver_connect, feed, make_conn, split_nul
from wire_transcripts import RFC_CLIENT_NONCE, RFC_SERVER_NONCE, driver_handshake_for

from reqlite.wire import (
    NEED_DATA,
    ConnectionClosed,
    ConnectionState,
    HandshakeComplete,
    ProtocolError,
    ScramCredentials,
    ServerConnection,
    StartQuery,
    Version,
    encode_query,
    make_scram_credentials,
    verify_plaintext_password,
)
from reqlite.wire.ql2 import Protocol

MAGIC_V1 = struct.pack("<I", Version.V1_0)
HELLO = (
    b'{"max_protocol_version":0,"min_protocol_version":0,"server_version":"2.4.4","success":true}\0'
)


def client_first_json(auth: str, **overrides: object) -> bytes:
    body: dict[str, object] = {
        "protocol_version": 0,
        "authentication_method": "SCRAM-SHA-256",
        "authentication": auth,
    }
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not _DROP}
    return json.dumps(body).encode() + b"\0"


_DROP = object()


def error_reply(code: int, message: str) -> bytes:
    return orjson.dumps({"error": message, "error_code": code, "success": False}) + b"\0"


def scram_proof(password: str, salt: bytes, iterations: int, auth_message: str) -> bytes:
    """Client-side RFC 5802 proof, computed independently with hashlib."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    signature = hmac.new(stored, auth_message.encode(), hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(client_key, signature, strict=True))


def start_v1(conn: ServerConnection, user: str = "admin") -> tuple[str, str]:
    """Send magic + client-first; return (client-first-bare, server-first)."""
    bare = f"n={user},r={RFC_CLIENT_NONCE}"
    conn.receive_data(MAGIC_V1 + client_first_json("n,," + bare))
    assert drain(conn) == ([], None)
    hello, first = split_nul(conn.data_to_send())
    assert hello + b"\0" == HELLO
    return bare, orjson.loads(first)["authentication"]


def final_json(auth: str) -> bytes:
    return json.dumps({"authentication": auth}).encode() + b"\0"


def final_message(
    bare: str, server_first: str, password: str = "", nonce: str | None = None
) -> str:
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    without_proof = f"c=biws,r={nonce or attrs['r']}"
    proof = scram_proof(
        password,
        base64.b64decode(attrs["s"]),
        int(attrs["i"]),
        f"{bare},{server_first},{without_proof}",
    )
    return f"{without_proof},p={base64.b64encode(proof).decode()}"


# -- V1_0 with the official driver ---------------------------------------------


def test_driver_handshake_empty_admin_password() -> None:
    conn = make_conn()
    assert conn.state is ConnectionState.AWAIT_MAGIC
    events, err = driver_connect(conn)
    assert err is None
    assert events == [HandshakeComplete("admin", "V1_0")]
    assert conn.state is ConnectionState.READY
    assert conn.username == "admin"
    assert conn.protocol_version == "V1_0"
    assert conn.data_to_send() == b""


def test_driver_handshake_real_random_nonces() -> None:
    """No injection at all: the driver's random nonce, our random nonce and salt."""
    creds = {"bob": make_scram_credentials("s3cret, with = signs")}
    conn = ServerConnection(creds.get)
    client = driver_handshake_for("bob", "s3cret, with = signs")
    message = client.next_message(None)
    pending: list[bytes] = []
    events = []
    while message is not None:
        if message:
            conn.receive_data(message)
            evs, err = drain(conn)
            assert err is None
            events += evs
            pending += split_nul(conn.data_to_send())
        message = client.next_message(pending.pop(0))
    assert events == [HandshakeComplete("bob", "V1_0")]


def test_driver_wrong_password() -> None:
    conn = make_conn({"admin": "right"})
    with pytest.raises(ReqlAuthError, match="Wrong password"):
        driver_connect(conn, password="wrong")
    assert conn.state is ConnectionState.ERROR
    with pytest.raises(ProtocolError, match="Wrong password"):
        conn.next_event()


def test_wrong_password_reply_bytes() -> None:
    conn = make_conn({"admin": "right"})
    bare, server_first = start_v1(conn)
    conn.receive_data(final_json(final_message(bare, server_first, "wrong")))
    assert drain(conn) == ([], "Wrong password")
    assert conn.data_to_send() == error_reply(12, "Wrong password")
    assert conn.data_to_send() == b""


def test_driver_unknown_user() -> None:
    conn = make_conn({"admin": ""})
    with pytest.raises(ReqlAuthError, match="Unknown user"):
        driver_connect(conn, username="mallory", password="x")
    assert conn.state is ConnectionState.ERROR


def test_unknown_user_gets_a_decoy_then_error_17() -> None:
    conn = make_conn({"admin": ""})
    bare, server_first = start_v1(conn, "ghost")
    r, s, i = server_first.split(",")
    assert r == f"r={RFC_CLIENT_NONCE}{RFC_SERVER_NONCE}"
    assert len(base64.b64decode(s[2:])) == 16 and i == "i=4096"
    conn.receive_data(final_json(final_message(bare, server_first, "x")))
    assert drain(conn) == ([], "Unknown user")
    assert conn.data_to_send() == error_reply(17, "Unknown user")


def test_default_nonce_is_18_random_bytes() -> None:
    conn = ServerConnection({"admin": make_scram_credentials("")}.get)
    conn.receive_data(MAGIC_V1 + client_first_json("n,,n=admin,r=abc"))
    drain(conn)
    first = orjson.loads(split_nul(conn.data_to_send())[1])["authentication"]
    nonce = first.split(",")[0][2:]
    assert nonce.startswith("abc") and len(base64.b64decode(nonce[3:])) == 18


def test_pipelined_query_after_client_final() -> None:
    conn = make_conn()
    query = encode_query(0, b"[1,[24,[1,2]],{}]") + encode_query(1, b"[4]")
    events, err = driver_connect(conn, trailing=query)
    assert err is None
    assert events[0] == HandshakeComplete("admin", "V1_0")
    assert events[1] == StartQuery(0, [24, [1, 2]], {})
    assert len(events) == 3


def _v1_client_bytes() -> bytes:
    conn = make_conn()
    bare, server_first = start_v1(conn)
    return (
        MAGIC_V1 + client_first_json("n,," + bare) + final_json(final_message(bare, server_first))
    )


V1_CLIENT_BYTES = _v1_client_bytes()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(V1_CLIENT_BYTES)), max_size=8))
def test_v1_handshake_any_split(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [
        V1_CLIENT_BYTES[a:b]
        for a, b in zip([0, *points], [*points, len(V1_CLIENT_BYTES)], strict=True)
    ]
    events, err, out = feed(make_conn(), [c for c in chunks if c])
    assert err is None
    assert events == [HandshakeComplete("admin", "V1_0")]
    whole = make_conn()
    assert feed(whole, [V1_CLIENT_BYTES])[2] == out


# -- V1_0 error replies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        (b"{not json}\0", 8, "Invalid JSON object."),
        (b"[1,2]\0", 1, "Expected a number for `protocol_version`."),
        (
            client_first_json("n,,n=a,r=b", protocol_version="0"),
            1,
            "Expected a number for `protocol_version`.",
        ),
        (
            client_first_json("n,,n=a,r=b", protocol_version=True),
            1,
            "Expected a number for `protocol_version`.",
        ),
        (
            client_first_json("n,,n=a,r=b", protocol_version=_DROP),
            1,
            "Expected a number for `protocol_version`.",
        ),
        (client_first_json("n,,n=a,r=b", protocol_version=1), 2, "Unsupported `protocol_version`."),
        (
            client_first_json("n,,n=a,r=b", authentication_method=_DROP),
            3,
            "Expected a string for `authentication_method`.",
        ),
        (
            client_first_json("n,,n=a,r=b", authentication_method="PLAIN"),
            4,
            "Unsupported `authentication_method`.",
        ),
        (
            client_first_json("n,,n=a,r=b", authentication=5),
            5,
            "Expected a string for `authentication`.",
        ),
        (client_first_json("y,,n=admin,r=abc"), 15, "Channel binding is not supported"),
        (client_first_json("p=tls-unique,,n=admin,r=abc"), 15, "Channel binding is not supported"),
        (client_first_json("n,n=admin"), 10, "Invalid encoding"),
        (client_first_json("n,,n=admin"), 10, "Invalid encoding"),
        (client_first_json("n,,r=abc"), 10, "Invalid encoding"),
        (client_first_json("n,,n=admin,r=abc,x=1"), 10, "Invalid encoding"),
        (client_first_json("n,,n=admin,n=b,r=c"), 10, "Invalid encoding"),
        (client_first_json("n,,nn=admin,r=c"), 10, "Invalid encoding"),
        (client_first_json("n,,n=admin,r"), 10, "Invalid encoding"),
        (client_first_json("n,,m=ext,n=admin,r=abc"), 11, "Extensions not supported"),
        (client_first_json("n,,n=a=zz,r=abc"), 18, "Invalid username encoding"),
        (client_first_json("n,,n=a=2,r=abc"), 18, "Invalid username encoding"),
    ],
)
def test_client_first_errors(message: bytes, code: int, text: str) -> None:
    conn = make_conn()
    events, err, out = feed(conn, [MAGIC_V1 + message])
    assert (events, err) == ([], text)
    assert out == HELLO + error_reply(code, text)
    assert conn.state is ConnectionState.ERROR


def test_protocol_version_zero_as_float_is_accepted() -> None:
    conn = make_conn()
    conn.receive_data(MAGIC_V1 + client_first_json("n,,n=admin,r=abc", protocol_version=0.0))
    assert drain(conn) == ([], None)
    assert conn.state is ConnectionState.AWAIT_CLIENT_FINAL


def test_saslname_escapes_are_decoded() -> None:
    seen = []

    def lookup(name: str) -> ScramCredentials | None:
        seen.append(name)
        return None

    conn = ServerConnection(lookup, nonce_factory=lambda: "N")
    conn.receive_data(MAGIC_V1 + client_first_json("n,,n=a=2Cb=3Dc,r=abc"))
    assert drain(conn) == ([], None)
    assert seen == ["a,b=c"]


@pytest.mark.parametrize(
    ("make_final", "code", "text"),
    [
        (lambda bare, sf: 5, 5, "Expected a string for `authentication`."),
        (
            lambda bare, sf: final_message(bare, sf).replace("c=biws", "c=eSws"),
            10,
            "Invalid encoding",
        ),
        (lambda bare, sf: final_message(bare, sf) + ",m=x", 11, "Extensions not supported"),
        (lambda bare, sf: final_message(bare, sf, "nope"), 12, "Wrong password"),
        (lambda bare, sf: final_message(bare, sf)[:-1], 12, "Wrong password"),
        (lambda bare, sf: final_message(bare, sf).split(",p=")[0] + ",p=!!!", 12, "Wrong password"),
        (lambda bare, sf: final_message(bare, sf, nonce="other"), 20, "Other error"),
        (lambda bare, sf: final_message(bare, sf).split(",p=")[0], 10, "Invalid encoding"),
        (lambda bare, sf: "c=biws", 10, "Invalid encoding"),
        (lambda bare, sf: final_message(bare, sf) + ",z=1", 10, "Invalid encoding"),
        (lambda bare, sf: "garbage", 10, "Invalid encoding"),
    ],
)
def test_client_final_errors(make_final, code: int, text: str) -> None:  # type: ignore[no-untyped-def]
    conn = make_conn()
    bare, server_first = start_v1(conn)
    auth = make_final(bare, server_first)
    conn.receive_data(json.dumps({"authentication": auth}).encode() + b"\0")
    assert drain(conn) == ([], text)
    assert conn.data_to_send() == error_reply(code, text)


def test_client_final_success_reply_is_server_signature() -> None:
    conn = make_conn()
    bare, server_first = start_v1(conn)
    final = final_message(bare, server_first)
    conn.receive_data(final_json(final))
    assert drain(conn) == ([HandshakeComplete("admin", "V1_0")], None)
    reply = orjson.loads(split_nul(conn.data_to_send())[0])
    salted = hashlib.pbkdf2_hmac("sha256", b"", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expected = hmac.new(
        server_key, f"{bare},{server_first},{final.split(',p=')[0]}".encode(), hashlib.sha256
    ).digest()
    assert reply == {"authentication": "v=" + base64.b64encode(expected).decode(), "success": True}


def test_handshake_message_size_limit() -> None:
    # 2046 bytes of JSON + NUL fit RethinkDB's 2048-byte read buffer ...
    base = client_first_json("n,,n=admin,r=abc")[:-1]
    padded = base[:-1] + b" " * (2046 - len(base)) + b"}"
    assert len(padded) == 2046
    conn = make_conn()
    assert feed(conn, [MAGIC_V1, padded + b"\0"])[1] is None
    assert conn.state is ConnectionState.AWAIT_CLIENT_FINAL
    # ... 2047 do not (the NUL would be the 2048th byte) ...
    conn = make_conn()
    events, err, out = feed(conn, [MAGIC_V1, padded + b" \0"])
    assert err == "Limited read buffer size."
    assert out == HELLO + error_reply(7, "Limited read buffer size.")
    # ... and without a NUL we wait until 2048 bytes are in, then refuse.
    conn = make_conn()
    conn.receive_data(MAGIC_V1 + b"x" * 2047)
    assert drain(conn) == ([], None)
    conn.receive_data(b"x")
    assert drain(conn) == ([], "Limited read buffer size.")


def test_error_state_is_sticky() -> None:
    conn = make_conn()
    conn.receive_data(b"HTTP")
    with pytest.raises(ProtocolError):
        conn.next_event()
    assert conn.data_to_send().startswith(b"ERROR: Received an unsupported protocol version.")
    conn.receive_data(b"more data is ignored")
    for _ in range(3):
        with pytest.raises(ProtocolError, match="unsupported protocol version"):
            conn.next_event()
    assert conn.data_to_send() == b""
    assert conn.state is ConnectionState.ERROR


# -- magic ------------------------------------------------------------------------

UNSUPPORTED = (
    b"ERROR: Received an unsupported protocol version. This port is for RethinkDB "
    b"queries. Does your client driver version not match the server?\n\0"
)
PROTOBUF = b"ERROR: The PROTOBUF client protocol is no longer supported\n\0"


@pytest.mark.parametrize(
    ("magic", "reply"),
    [
        (b"GET ", UNSUPPORTED),
        (b"\0\0\0\0", UNSUPPORTED),
        (struct.pack("<I", Version.V0_1), PROTOBUF),
        (struct.pack("<I", Version.V0_2), PROTOBUF),
    ],
)
def test_refused_magics(magic: bytes, reply: bytes) -> None:
    conn = make_conn()
    events, err, out = feed(conn, [magic[:1], magic[1:3], magic[3:]])
    assert events == [] and err is not None
    assert out == reply


def test_v1_hello_is_sent_on_magic_alone() -> None:
    conn = make_conn(server_version="2.4.1")
    conn.receive_data(MAGIC_V1[:3])
    assert drain(conn) == ([], None)
    assert conn.data_to_send() == b""
    conn.receive_data(MAGIC_V1[3:])
    assert drain(conn) == ([], None)
    assert conn.data_to_send() == HELLO.replace(b"2.4.4", b"2.4.1")
    assert conn.state is ConnectionState.AWAIT_CLIENT_FIRST


# -- V0_4 / V0_3 ------------------------------------------------------------------


def v04(key: bytes, protocol: int = Protocol.JSON, magic: int = Version.V0_4) -> bytes:
    return struct.pack("<II", magic, len(key)) + key + struct.pack("<I", protocol & 0xFFFFFFFF)


@pytest.mark.parametrize("magic", [Version.V0_4, Version.V0_3])
def test_v04_success(magic: Version) -> None:
    conn = make_conn({"admin": "sekrit"})
    data = v04(b"sekrit", magic=magic) + encode_query(7, b"[5]")
    events, err, out = feed(conn, [data])
    assert err is None
    assert out == b"SUCCESS\0"
    assert events[0] == HandshakeComplete("admin", magic.name)
    assert conn.protocol_version == magic.name and conn.username == "admin"
    assert len(events) == 2 and events[1].token == 7


def test_v04_byte_at_a_time() -> None:
    data = v04(b"")
    events, err, out = feed(make_conn(), [data[i : i + 1] for i in range(len(data))])
    assert (events, err, out) == ([HandshakeComplete("admin", "V0_4")], None, b"SUCCESS\0")


def test_v04_states() -> None:
    conn = make_conn()
    conn.receive_data(struct.pack("<I", Version.V0_4))
    drain(conn)
    assert conn.state is ConnectionState.AWAIT_AUTH_KEY
    conn.receive_data(struct.pack("<I", 0))
    drain(conn)
    assert conn.state is ConnectionState.AWAIT_WIRE_PROTOCOL


def test_v04_wrong_key_is_refused_before_protocol_magic() -> None:
    conn = make_conn()
    events, err, out = feed(conn, [v04(b"guess")[:-4]])
    assert err == "Incorrect authorization key."
    assert out == b"ERROR: Incorrect authorization key.\n\0"


def test_v04_without_admin_user() -> None:
    events, err, out = feed(make_conn({}), [v04(b"")])
    assert err == "Incorrect authorization key."


def test_v04_key_too_long_is_not_buffered() -> None:
    conn = make_conn()
    events, err, out = feed(conn, [struct.pack("<II", Version.V0_4, 2049)])
    assert err == "Client provided an authorization key that is too long."
    assert out == b"ERROR: Client provided an authorization key that is too long.\n\0"
    # 2048 is still allowed (and then simply wrong).
    events, err, out = feed(make_conn(), [v04(b"k" * 2048)])
    assert err == "Incorrect authorization key."


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        (Protocol.PROTOBUF, "The PROTOBUF client protocol is no longer supported"),
        (12345, "Unrecognized protocol specified: '12345'"),
        (-1, "Unrecognized protocol specified: '-1'"),
    ],
)
def test_v04_wire_protocol_errors(protocol: int, message: str) -> None:
    events, err, out = feed(make_conn(), [v04(b"", protocol)])
    assert err == message
    assert out == b"ERROR: " + message.encode() + b"\n\0"


# -- closing ----------------------------------------------------------------------


def test_eof_before_anything_is_a_clean_close() -> None:
    conn = make_conn()
    conn.receive_data(b"")
    assert conn.next_event() == ConnectionClosed()
    assert conn.state is ConnectionState.CLOSED
    # Reported once, then NEED_DATA, so a loop draining to NEED_DATA cannot spin.
    assert conn.next_event() is NEED_DATA
    assert conn.next_event() is NEED_DATA
    with pytest.raises(RuntimeError):
        conn.receive_data(b"late")


def test_eof_mid_handshake_message() -> None:
    conn = make_conn()
    conn.receive_data(MAGIC_V1 + b'{"protocol_version"')
    conn.receive_data(b"")
    assert drain(conn) == ([], "the peer closed the connection in the middle of a message")
    assert conn.data_to_send() == HELLO  # nothing more: RethinkDB just closes
    assert conn.state is ConnectionState.ERROR


def test_eof_between_handshake_messages_is_clean() -> None:
    conn = make_conn()
    conn.receive_data(MAGIC_V1)
    conn.receive_data(b"")
    assert drain(conn) == ([ConnectionClosed()], None)


# -- SCRAM credentials ------------------------------------------------------------


def test_make_scram_credentials() -> None:
    c = make_scram_credentials("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    salted = hashlib.pbkdf2_hmac(
        "sha256", b"pencil", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    assert c.stored_key == hashlib.sha256(client_key).digest()
    assert c.server_key == hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert c.iterations == 4096
    fresh = make_scram_credentials("")
    assert len(fresh.salt) == 16 and fresh.salt != make_scram_credentials("").salt
    assert verify_plaintext_password(c, "pencil")
    assert not verify_plaintext_password(c, "pencil ")
    with pytest.raises(ValueError):
        ScramCredentials(b"s", 0, b"x" * 32, b"x" * 32)
    with pytest.raises(ValueError):
        ScramCredentials(b"s", 1, b"x", b"x" * 32)
    with pytest.raises(TypeError):
        make_scram_credentials(b"pw")  # type: ignore[arg-type]


def test_low_iteration_counts_work() -> None:
    # RethinkDB users keep whatever iteration count they were created with.
    conn = ServerConnection({"admin": make_scram_credentials("pw", iterations=1)}.get)
    events, err = driver_connect(conn, password="pw")
    assert events == [HandshakeComplete("admin", "V1_0")]


def test_scramp_client_against_our_server() -> None:
    """An independent SCRAM client (scramp) with RFC 7677's values."""
    from scramp import ScramClient

    conn = make_conn({"user": "pencil"})
    client = ScramClient(["SCRAM-SHA-256"], "user", "pencil", c_nonce=RFC_CLIENT_NONCE)
    conn.receive_data(MAGIC_V1 + client_first_json(client.get_client_first()))
    drain(conn)
    server_first = orjson.loads(split_nul(conn.data_to_send())[1])["authentication"]
    client.set_server_first(server_first)
    final = client.get_client_final()
    assert final.endswith("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    conn.receive_data(final_json(final))
    assert drain(conn) == ([HandshakeComplete("user", "V1_0")], None)
    server_final = orjson.loads(split_nul(conn.data_to_send())[0])["authentication"]
    assert server_final == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    client.set_server_final(server_final)  # raises if the signature were wrong
