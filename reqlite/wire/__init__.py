"""reqlite's sans-IO implementation of RethinkDB's client wire protocol.

Bytes in, events out; responses in, bytes out — no sockets, no async framework
(in the style of h11). :class:`ServerConnection` runs the V1_0 (SCRAM-SHA-256)
and V0_3/V0_4 handshakes and splits the query stream into events;
:func:`encode_response` frames the server's answers. ``ql2`` holds the
protocol's numeric constants. The language-neutral description of all of this
is in the repository's ``protocol/`` folder.
"""

from .connection import ServerConnection
from .events import (
    NEED_DATA,
    BadQuery,
    ConnectionClosed,
    ContinueQuery,
    Event,
    HandshakeComplete,
    NeedData,
    NoreplyWait,
    ProtocolError,
    ServerInfoQuery,
    StartQuery,
    StopQuery,
)
from .framing import (
    DEFAULT_MAX_QUERY_BYTES,
    UNPARSEABLE_QUERY_MESSAGE,
    client_error_body,
    encode_query,
    encode_response,
    optarg_as_bool,
    parse_query_payload,
    too_large_query_message,
)
from .handshake import MAX_AUTH_KEY_BYTES, MAX_HANDSHAKE_MESSAGE_BYTES, ConnectionState
from .ql2 import (
    DatumType,
    ErrorType,
    FrameType,
    Protocol,
    QueryType,
    ResponseNote,
    ResponseType,
    TermType,
    Version,
)
from .scram import ScramCredentials, make_scram_credentials, verify_plaintext_password

__all__ = [
    "ServerConnection",
    "ConnectionState",
    "ProtocolError",
    "NEED_DATA",
    "NeedData",
    "Event",
    "HandshakeComplete",
    "StartQuery",
    "ContinueQuery",
    "StopQuery",
    "NoreplyWait",
    "ServerInfoQuery",
    "BadQuery",
    "ConnectionClosed",
    "ScramCredentials",
    "make_scram_credentials",
    "verify_plaintext_password",
    "encode_response",
    "encode_query",
    "client_error_body",
    "too_large_query_message",
    "parse_query_payload",
    "optarg_as_bool",
    "DEFAULT_MAX_QUERY_BYTES",
    "UNPARSEABLE_QUERY_MESSAGE",
    "MAX_HANDSHAKE_MESSAGE_BYTES",
    "MAX_AUTH_KEY_BYTES",
    "Version",
    "Protocol",
    "QueryType",
    "ResponseType",
    "ErrorType",
    "ResponseNote",
    "FrameType",
    "DatumType",
    "TermType",
]
