"""Query frames after the handshake: events, invalid payloads, limits, EOF."""

from __future__ import annotations

import struct
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_helpers import drain, feed, make_conn

from reqlite.wire import (
    DEFAULT_MAX_QUERY_BYTES,
    NEED_DATA,
    BadQuery,
    ConnectionClosed,
    ConnectionState,
    ContinueQuery,
    HandshakeComplete,
    NoreplyWait,
    ProtocolError,
    ServerConnection,
    ServerInfoQuery,
    StartQuery,
    StopQuery,
    Version,
    client_error_body,
    encode_query,
    encode_response,
    optarg_as_bool,
    parse_query_payload,
)
from reqlite.wire.ql2 import Protocol

V04_EMPTY_KEY = struct.pack("<III", Version.V0_4, 0, Protocol.JSON)
PREFIX = "Server could not parse query: "


def ready_conn(**kw: Any) -> ServerConnection:
    """A connection past a (V0_4, empty admin key) handshake."""
    conn = make_conn(**kw)
    events, err, out = feed(conn, [V04_EMPTY_KEY])
    assert events == [HandshakeComplete("admin", "V0_4")] and out == b"SUCCESS\0"
    return conn


def frame(token: int, payload: Any) -> bytes:
    return encode_query(token, payload if isinstance(payload, bytes) else orjson.dumps(payload))


# -- well-formed queries --------------------------------------------------------


def test_each_query_type() -> None:
    conn = ready_conn()
    data = b"".join(
        [
            frame(1, [1, [24, [1, 2]], {"db": [14, ["blog"]], "noreply": True}]),
            frame(2, [1, "bare datum"]),
            frame(1, [2]),
            frame(1, [3]),
            frame(3, [4]),
            frame(4, [5]),
            frame(5, [2, None, {}]),
        ]
    )
    events, err, out = feed(conn, [data])
    assert err is None and out == b""
    assert events == [
        StartQuery(1, [24, [1, 2]], {"db": [14, ["blog"]], "noreply": True}),
        StartQuery(2, "bare datum", {}),
        ContinueQuery(1),
        StopQuery(1),
        NoreplyWait(3),
        ServerInfoQuery(4),
        ContinueQuery(5),
    ]


def test_tokens_are_signed_int64() -> None:
    conn = ready_conn()
    raw = (2**64 - 1).to_bytes(8, "little") + (3).to_bytes(4, "little") + b"[5]"
    events, err, _ = feed(conn, [raw])
    assert events == [ServerInfoQuery(-1)]
    # encode_response accepts either spelling and produces the same bytes.
    assert encode_response(-1, b"{}") == encode_response(2**64 - 1, b"{}")
    assert encode_response(2**63, b"x")[:8] == (2**63).to_bytes(8, "little")


def test_encode_response_layout() -> None:
    body = b'{"t":1,"r":[3]}'
    assert encode_response(5, body) == bytes.fromhex("0500000000000000") + b"\x0f\0\0\0" + body
    with pytest.raises(ValueError):
        encode_response(2**64, b"")
    with pytest.raises(ValueError):
        encode_response(-(2**63) - 1, b"")


def test_client_error_body() -> None:
    assert client_error_body("boom") == b'{"t":16,"r":["boom"],"b":[]}'


def test_truncated_frame_needs_data() -> None:
    conn = ready_conn()
    data = frame(9, [1, [24, [1, 2]], {}])
    for cut in range(1, len(data)):
        c = ready_conn()
        c.receive_data(data[:cut])
        assert c.next_event() is NEED_DATA
        assert c.next_event() is NEED_DATA
        c.receive_data(data[cut:])
        assert c.next_event() == StartQuery(9, [24, [1, 2]], {})
    assert conn.state is ConnectionState.READY


def test_empty_payload_is_bad_query() -> None:
    conn = ready_conn()
    conn.receive_data(encode_query(3, b""))
    ev = conn.next_event()
    assert ev == BadQuery(3, "Client is buggy (failed to deserialize query).")
    assert ev.response() == encode_response(3, client_error_body(ev.message))


# -- invalid payloads -------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "Client is buggy (failed to deserialize query)."),
        (b"[1] trailing", "Client is buggy (failed to deserialize query)."),
        (b"[NaN]", "Client is buggy (failed to deserialize query)."),
        (b"\xff\xfe", "Client is buggy (failed to deserialize query)."),
        (b"null", PREFIX + "Expected a query to be an array, but found NULL."),
        (b"true", PREFIX + "Expected a query to be an array, but found BOOL."),
        (b"{}", PREFIX + "Expected a query to be an array, but found OBJECT."),
        (b'"s"', PREFIX + "Expected a query to be an array, but found STRING."),
        (b"1.5", PREFIX + "Expected a query to be an array, but found NUMBER."),
        (b"[]", PREFIX + "Expected 1 to 3 elements in the top-level query, but found 0."),
        (b"[1,2,{},4]", PREFIX + "Expected 1 to 3 elements in the top-level query, but found 4."),
        (b"[null]", PREFIX + "Expected a query type as a number, but found NULL."),
        (b"[true]", PREFIX + "Expected a query type as a number, but found BOOL."),
        (b"[[1]]", PREFIX + "Expected a query type as a number, but found ARRAY."),
        (b"[0]", PREFIX + "Unrecognized QueryType: 0."),
        (b"[6]", PREFIX + "Unrecognized QueryType: 6."),
        (b"[-1]", PREFIX + "Unrecognized QueryType: -1."),
        # rapidjson's GetInt() on a double reads the low 32 bits of its IEEE bits.
        (b"[1.0]", PREFIX + "Unrecognized QueryType: 0."),
        (b"[2,null,[]]", PREFIX + "Expected global optargs as an object, but found ARRAY."),
        (b"[1,1,null]", PREFIX + "Expected global optargs as an object, but found NULL."),
        (b"[1]", PREFIX + "Expected a term as the second element of a START query."),
    ],
)
def test_bad_queries_keep_the_connection_open(payload: bytes, message: str) -> None:
    conn = ready_conn()
    conn.receive_data(encode_query(42, payload) + frame(43, [5]))
    assert conn.next_event() == BadQuery(42, message)
    assert conn.next_event() == ServerInfoQuery(43)
    assert conn.next_event() is NEED_DATA
    assert conn.data_to_send() == b""
    assert conn.state is ConnectionState.READY


def test_query_type_low_32_bits() -> None:
    # RethinkDB reads the type with GetInt(): 2**32 + 5 is SERVER_INFO there too.
    assert parse_query_payload(1, b"[4294967301]") == ServerInfoQuery(1)


# -- size limit -------------------------------------------------------------------


def test_default_limit_is_rethinkdbs() -> None:
    assert DEFAULT_MAX_QUERY_BYTES == 134217727
    assert ServerConnection(lambda u: None).max_query_bytes == 134217727


@pytest.mark.parametrize("size", [134217728, 2**32 - 1])
def test_oversized_declared_length_is_refused_from_the_header(size: int) -> None:
    conn = ready_conn()
    conn.receive_data(struct.pack("<qI", 77, size))
    with pytest.raises(ProtocolError) as info:
        conn.next_event()
    message = f"Query size ({size}) greater than maximum (134217727)."
    assert info.value.message == message
    assert conn.data_to_send() == encode_response(77, client_error_body(message))
    assert conn.state is ConnectionState.ERROR
    # The payload is never buffered: later bytes are dropped.
    conn.receive_data(b"x" * 1_000_000)
    assert len(conn._buffer) == 0
    with pytest.raises(ProtocolError):
        conn.next_event()


def test_custom_limit_boundary() -> None:
    conn = ready_conn(max_query_bytes=10)
    conn.receive_data(frame(1, b"[1,123456]"))  # exactly 10 bytes
    assert conn.next_event() == StartQuery(1, 123456, {})
    conn.receive_data(frame(2, b"[1,1234567]"))  # 11 bytes
    with pytest.raises(ProtocolError, match=r"Query size \(11\) greater than maximum \(10\)\."):
        conn.next_event()


def test_limit_is_checked_before_the_payload_arrives() -> None:
    conn = ready_conn(max_query_bytes=100)
    conn.receive_data(struct.pack("<qI", 1, 101)[:11])
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"\0")
    with pytest.raises(ProtocolError):
        conn.next_event()


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        ServerConnection(lambda u: None, max_query_bytes=-1)
    with pytest.raises(ValueError):
        ServerConnection(lambda u: None, max_query_bytes=2**32)
    with pytest.raises(TypeError):
        ServerConnection("nope")  # type: ignore[arg-type]


# -- EOF --------------------------------------------------------------------------


def test_eof_at_frame_boundary_after_pending_frames() -> None:
    conn = ready_conn()
    conn.receive_data(frame(1, [5]))
    conn.receive_data(b"")
    assert conn.next_event() == ServerInfoQuery(1)
    assert conn.next_event() == ConnectionClosed()
    assert conn.state is ConnectionState.CLOSED
    assert conn.next_event() is NEED_DATA


@pytest.mark.parametrize("cut", [1, 11, 12, 14])
def test_eof_mid_frame(cut: int) -> None:
    conn = ready_conn()
    conn.receive_data(frame(1, [1, "abc"])[:cut])
    conn.receive_data(b"")
    with pytest.raises(ProtocolError, match="middle of a message"):
        conn.next_event()
    assert conn.data_to_send() == b""  # RethinkDB closes without a reply
    assert conn.state is ConnectionState.ERROR


# -- optargs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("optargs", "expected"),
    [
        ({}, False),
        ({"noreply": True}, True),
        ({"noreply": False}, False),
        ({"noreply": [1, True]}, True),
        ({"noreply": [1, False]}, False),
        ({"noreply": [1, "yes"]}, False),
        ({"noreply": [2, [True]]}, False),
        ({"noreply": 1}, False),
    ],
)
def test_optarg_as_bool(optargs: dict[str, Any], expected: bool) -> None:
    assert optarg_as_bool(optargs, "noreply") is expected


# -- events -----------------------------------------------------------------------


def test_events_are_frozen_validated_and_slotted() -> None:
    ev = StartQuery(1, [1, 2], {})
    with pytest.raises(AttributeError):
        ev.token = 2  # type: ignore[misc]
    assert not hasattr(ev, "__dict__")
    with pytest.raises(TypeError):
        StartQuery("1", None, {})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ContinueQuery(True)
    with pytest.raises(ValueError):
        StopQuery(2**63)
    with pytest.raises(TypeError):
        StartQuery(1, None, [])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BadQuery(1, b"msg")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        HandshakeComplete("admin", "V9")
    assert repr(NEED_DATA) == "NEED_DATA"


# -- property-based ---------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
tokens = st.integers(-(2**63), 2**63 - 1)
queries = st.one_of(
    st.tuples(
        tokens,
        st.just(1),
        json_values,
        st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    ),
    st.tuples(tokens, st.sampled_from([2, 3, 4, 5])),
)


def payload_of(q: tuple[Any, ...]) -> bytes:
    if q[1] == 1:
        token, _, term, optargs = q
        return orjson.dumps([1, term, optargs] if optargs else [1, term])
    return orjson.dumps([q[1]])


def expected_event(q: tuple[Any, ...]) -> Any:
    token = q[0]
    if q[1] == 1:
        return StartQuery(token, orjson.loads(orjson.dumps(q[2])), orjson.loads(orjson.dumps(q[3])))
    return {2: ContinueQuery, 3: StopQuery, 4: NoreplyWait, 5: ServerInfoQuery}[q[1]](token)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(queries, max_size=8), st.data())
def test_any_split_gives_the_same_events(qs: list[tuple[Any, ...]], data: st.DataObject) -> None:
    stream = b"".join(encode_query(q[0], payload_of(q)) for q in qs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    conn = ready_conn()
    events, err, out = feed(conn, [c for c in chunks if c])
    assert err is None and out == b""
    assert events == [expected_event(q) for q in qs]
    assert conn.next_event() is NEED_DATA


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=64), max_size=6))
def test_garbage_after_handshake_only_bad_queries_or_protocol_error(chunks: list[bytes]) -> None:
    conn = ready_conn(max_query_bytes=1000)
    for chunk in chunks:
        conn.receive_data(chunk)
        while True:
            try:
                ev = conn.next_event()
            except ProtocolError:
                assert conn.state is ConnectionState.ERROR
                return
            if ev is NEED_DATA:
                break
            assert isinstance(
                ev,
                StartQuery | ContinueQuery | StopQuery | NoreplyWait | ServerInfoQuery | BadQuery,
            )
    conn.receive_data(b"")
    events, err = drain(conn)
    assert err is not None or events == [ConnectionClosed()]


MAGICS = [struct.pack("<I", v) for v in Version] + [b""]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(MAGICS), st.binary(max_size=200))
def test_garbage_during_handshake_only_protocol_error(magic: bytes, data: bytes) -> None:
    conn = make_conn()
    conn.receive_data(magic + data)
    conn.receive_data(b"")
    try:
        events = []
        while True:
            ev = conn.next_event()
            if ev is NEED_DATA or isinstance(ev, ConnectionClosed):
                break
            events.append(ev)
    except ProtocolError:
        assert conn.state is ConnectionState.ERROR
    for ev in events:
        assert isinstance(
            ev,
            HandshakeComplete
            | StartQuery
            | ContinueQuery
            | StopQuery
            | NoreplyWait
            | ServerInfoQuery
            | BadQuery,
        )


@settings(max_examples=100, deadline=None)
@given(tokens, st.binary(max_size=300))
def test_arbitrary_payload_is_an_event_never_an_exception(token: int, payload: bytes) -> None:
    ev = parse_query_payload(token, payload)
    assert ev.token == token
