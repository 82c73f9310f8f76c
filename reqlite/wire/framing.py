"""Query and response frames of the JSON wire protocol (after the handshake).

A frame is an 8-byte little-endian token, a 4-byte little-endian payload length
and the payload. Client payloads are JSON ``[type, term?, global_optargs?]``;
server payloads are JSON objects ``{"t":..,"r":[..],"b":..,"e":..,"p":..,"n":..}``.

This module decodes a query payload into an event (decoding the JSON exactly once
with orjson), applying RethinkDB 2.4's checks and messages
(src/client_protocol/json.cc, src/client_protocol/protocols.cc and
``json_term_storage_t`` in src/rdb_protocol/term_storage.cc), and encodes
response frames. Building response bodies from datums is the server's job; only
the CLIENT_ERROR body the wire layer itself needs is built here.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final

import orjson

from .events import (
    TOKEN_MIN,
    BadQuery,
    ContinueQuery,
    NoreplyWait,
    QueryEvent,
    ServerInfoQuery,
    StartQuery,
    StopQuery,
)
from .ql2 import QueryType, ResponseType, TermType

__all__ = [
    "HEADER",
    "HEADER_SIZE",
    "DEFAULT_MAX_QUERY_BYTES",
    "MAX_RESPONSE_BYTES",
    "UNPARSEABLE_QUERY_MESSAGE",
    "encode_response",
    "encode_query",
    "client_error_body",
    "too_large_query_message",
    "parse_query_payload",
    "optarg_as_bool",
]

# int64 token (signed, as RethinkDB reads it) + uint32 payload length.
HEADER: Final = struct.Struct("<qI")
HEADER_SIZE: Final = HEADER.size  # 12

# Largest query payload accepted. RethinkDB: wire_protocol_t::TOO_LARGE_QUERY_SIZE is
# 128 MiB and a frame whose size is >= it is refused (protocols.cc / json.cc), so
# the largest accepted payload is 128 MiB - 1 = 134217727 bytes. The refusal is a
# CLIENT_ERROR response for the frame's token, then the connection is closed.
DEFAULT_MAX_QUERY_BYTES: Final = 128 * 1024 * 1024 - 1

# RethinkDB's TOO_LARGE_RESPONSE_SIZE is UINT32_MAX: a payload must fit the u32 length.
MAX_RESPONSE_BYTES: Final = 2**32 - 2

_TOKEN_MASK: Final = 2**64 - 1

# wire_protocol_t::unparseable_query_message: sent when the payload is not JSON.
UNPARSEABLE_QUERY_MESSAGE: Final = "Client is buggy (failed to deserialize query)."
# json_protocol_t::parse_query_from_buffer prefixes the term-storage errors.
_PARSE_PREFIX: Final = "Server could not parse query: "


def too_large_query_message(size: int, max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES) -> str:
    """RethinkDB's text for an oversized query frame."""
    return f"Query size ({size}) greater than maximum ({max_query_bytes})."


def encode_response(token: int, body: bytes) -> bytes:
    """A response frame: 8-byte LE token, 4-byte LE length, then ``body``.

    ``token`` may be given signed (as decoded by this layer) or unsigned (as the
    official driver counts); both give the same 8 bytes.
    """
    if type(token) is not int or not TOKEN_MIN <= token <= _TOKEN_MASK:
        raise ValueError(f"token {token!r} does not fit in 64 bits")
    size = len(body)
    if size > MAX_RESPONSE_BYTES:
        raise ValueError(f"response body of {size} bytes does not fit a frame")
    return (token & _TOKEN_MASK).to_bytes(8, "little") + size.to_bytes(4, "little") + bytes(body)


def encode_query(token: int, payload: bytes) -> bytes:
    """A query frame (client side; used by tests and tools). Same layout as responses."""
    return encode_response(token, payload)


def client_error_body(message: str) -> bytes:
    """The body RethinkDB sends for a CLIENT_ERROR: ``{"t":16,"r":[msg],"b":[]}``.

    (RethinkDB writes ``e`` only for RUNTIME_ERROR, and an empty backtrace.)
    """
    return orjson.dumps({"t": int(ResponseType.CLIENT_ERROR), "r": [message], "b": []})


def _json_type_name(value: object) -> str:
    # rapidjson_typestr in term_storage.cc
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, dict):
        return "OBJECT"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, str):
        return "STRING"
    return "NUMBER"


def _rapidjson_get_int(value: int | float) -> int:
    """What RethinkDB's ``query_json[0].GetInt()`` yields for a JSON number.

    rapidjson keeps numbers in a union; in release builds ``GetInt`` on a number
    that is not an int32 reads the low 32 bits of that union (the int64 value, or
    the IEEE-754 bits of a double). Reproduced so the query type and the
    "Unrecognized QueryType" text match RethinkDB for any number.
    """
    if isinstance(value, float):
        low = struct.unpack("<i", struct.pack("<d", value)[:4])[0]
        return int(low)
    low32 = value & 0xFFFFFFFF
    return low32 - 2**32 if low32 >= 2**31 else low32


def _bad(token: int, detail: str) -> BadQuery:
    return BadQuery(token, _PARSE_PREFIX + detail)


def parse_query_payload(token: int, payload: bytes | bytearray | memoryview) -> QueryEvent:
    """Decode one query payload (JSON decoded exactly once) into an event.

    Invalid JSON, a non-array, a wrong element count, a non-numeric or unknown
    query type or non-object global optargs give :class:`BadQuery` with
    RethinkDB's message; RethinkDB answers those with CLIENT_ERROR and keeps the
    connection open.
    """
    try:
        query = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return BadQuery(token, UNPARSEABLE_QUERY_MESSAGE)

    if not isinstance(query, list):
        return _bad(token, f"Expected a query to be an array, but found {_json_type_name(query)}.")
    size = len(query)
    if size == 0 or size > 3:
        return _bad(token, f"Expected 1 to 3 elements in the top-level query, but found {size}.")
    raw_type = query[0]
    if isinstance(raw_type, bool) or not isinstance(raw_type, int | float):
        return _bad(
            token, f"Expected a query type as a number, but found {_json_type_name(raw_type)}."
        )
    type_number = _rapidjson_get_int(raw_type)
    try:
        query_type = QueryType(type_number)
    except ValueError:
        return _bad(token, f"Unrecognized QueryType: {type_number}.")
    if size >= 3 and not isinstance(query[2], dict):
        return _bad(
            token,
            f"Expected global optargs as an object, but found {_json_type_name(query[2])}.",
        )

    if query_type is QueryType.START:
        if size < 2:
            # RethinkDB only trips an internal sanity check here; we say what is wrong.
            return _bad(token, "Expected a term as the second element of a START query.")
        return StartQuery(token, query[1], query[2] if size == 3 else {})
    if query_type is QueryType.CONTINUE:
        return ContinueQuery(token)
    if query_type is QueryType.STOP:
        return StopQuery(token)
    if query_type is QueryType.NOREPLY_WAIT:
        return NoreplyWait(token)
    return ServerInfoQuery(token)


def optarg_as_bool(global_optargs: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """Read a boolean global optarg the way RethinkDB reads ``noreply``/``profile``
    before running a query (``static_optarg_as_bool``): ``true``/``false`` or a
    DATUM term ``[1, true]``; anything else gives ``default``."""
    value = global_optargs.get(key)
    if isinstance(value, bool):
        return value
    if (
        isinstance(value, list)
        and len(value) == 2
        and not isinstance(value[0], bool)
        and isinstance(value[0], int | float)
        and _rapidjson_get_int(value[0]) == TermType.DATUM
        and isinstance(value[1], bool)
    ):
        return value[1]
    return default


class ReceiveBuffer:
    """Bytes received but not yet consumed, with O(1) consumption from the front.

    Consumed bytes are only skipped (an offset moves); the storage is compacted
    when new data arrives and the dead prefix is at least half of it, so parsing
    many small pipelined frames out of one large chunk stays linear.
    """

    __slots__ = ("_data", "_start")

    def __init__(self) -> None:
        self._data = bytearray()
        self._start = 0

    def __len__(self) -> int:
        return len(self._data) - self._start

    def __bytes__(self) -> bytes:
        return bytes(self._data[self._start :])

    def extend(self, data: bytes | bytearray | memoryview) -> None:
        if self._start and self._start * 2 >= len(self._data):
            del self._data[: self._start]
            self._start = 0
        self._data += data

    def peek(self, n: int) -> bytes:
        """The first ``n`` buffered bytes (the caller checked ``len(self) >= n``)."""
        return bytes(self._data[self._start : self._start + n])

    def find(self, byte: bytes, limit: int) -> int:
        """Index of ``byte`` among the first ``limit`` buffered bytes, or -1."""
        end = min(len(self._data), self._start + limit)
        at = self._data.find(byte, self._start, end)
        return -1 if at == -1 else at - self._start

    def view(self, begin: int, end: int) -> memoryview:
        """A view of buffered bytes [begin, end); release it before the next ``extend``."""
        return memoryview(self._data)[self._start + begin : self._start + end]

    def consume(self, n: int) -> None:
        self._start += n
        if self._start >= len(self._data):
            self._data.clear()
            self._start = 0

    def clear(self) -> None:
        self._data = bytearray()
        self._start = 0
