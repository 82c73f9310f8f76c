"""The server side of RethinkDB's connection handshakes, as a sans-IO state machine.

Supported, as RethinkDB 2.4 does (src/client_protocol/server.cc, ``handle_conn``):

* **V1_0** — magic ``0x34c2bdc3``; the server answers at once with a
  null-terminated JSON hello; the client sends null-terminated JSON messages
  carrying the SCRAM-SHA-256 client-first and client-final messages; each gets a
  null-terminated JSON reply. Errors are ``{"error":..,"error_code":N,"success":false}``.
* **V0_4** and **V0_3** — magic, u32 auth-key length, the key (the admin
  password), the u32 wire-protocol magic (JSON only); the reply is ``SUCCESS\\0``
  or ``ERROR: <message>\\n\\0``.
* **V0_1**, **V0_2** and unknown magics are refused with RethinkDB's text.

JSON replies are written like RethinkDB's datum serializer writes objects: keys
sorted, no spaces, integral numbers without a fraction. See protocol/handshake.md.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from typing import Any, Final

import orjson

from .events import NEED_DATA, HandshakeComplete, NeedData
from .framing import ReceiveBuffer
from .ql2 import Protocol, Version
from .scram import AuthenticationError, ScramCredentials, ScramExchange, verify_plaintext_password

__all__ = [
    "ConnectionState",
    "HandshakeFailed",
    "ServerHandshake",
    "MAX_HANDSHAKE_MESSAGE_BYTES",
    "MAX_AUTH_KEY_BYTES",
    "UNSUPPORTED_VERSION_MESSAGE",
    "PROTOBUF_MESSAGE",
    "json_error_reply",
    "text_error_reply",
]

# Null-terminated handshake JSON messages are read into a 2048-byte buffer by
# RethinkDB (read_datum in server.cc): if no NUL is found among the first 2047
# bytes once 2048 have been read, it fails with error 7 "Limited read buffer size."
# So a message may hold at most 2046 bytes of JSON plus its NUL. Same cap here.
MAX_HANDSHAKE_MESSAGE_BYTES: Final = 2048

# V0_3/V0_4 auth keys longer than 2048 bytes are refused before being read
# (server.cc: "Client provided an authorization key that is too long.").
MAX_AUTH_KEY_BYTES: Final = 2048

_U32: Final = struct.Struct("<I")
_I32: Final = struct.Struct("<i")

UNSUPPORTED_VERSION_MESSAGE: Final = (
    "Received an unsupported protocol version. This port is for RethinkDB queries. "
    "Does your client driver version not match the server?"
)
PROTOBUF_MESSAGE: Final = "The PROTOBUF client protocol is no longer supported"
_AUTH_KEY_TOO_LONG: Final = "Client provided an authorization key that is too long."
_INCORRECT_AUTH_KEY: Final = "Incorrect authorization key."

# client_server_error_t codes of the V1_0 handshake (server.cc).
_E_PROTOCOL_VERSION_TYPE = (1, "Expected a number for `protocol_version`.")
_E_PROTOCOL_VERSION = (2, "Unsupported `protocol_version`.")
_E_AUTH_METHOD_TYPE = (3, "Expected a string for `authentication_method`.")
_E_AUTH_METHOD = (4, "Unsupported `authentication_method`.")
_E_AUTHENTICATION_TYPE = (5, "Expected a string for `authentication`.")
_E_BUFFER = (7, "Limited read buffer size.")
_E_JSON = (8, "Invalid JSON object.")

# The only protocol_version RethinkDB 2.4 speaks in V1_0 (min = max = 0).
_PROTOCOL_VERSION: Final = 0
_AUTH_METHOD: Final = "SCRAM-SHA-256"
_ADMIN: Final = "admin"


class ConnectionState(enum.Enum):
    """Where a :class:`~reqlite.wire.ServerConnection` is in its life."""

    AWAIT_MAGIC = "AWAIT_MAGIC"
    # V1_0: waiting for the JSON with protocol_version + SCRAM client-first-message.
    AWAIT_CLIENT_FIRST = "AWAIT_CLIENT_FIRST"
    # V1_0: waiting for the JSON with the SCRAM client-final-message.
    AWAIT_CLIENT_FINAL = "AWAIT_CLIENT_FINAL"
    # V0_3/V0_4: waiting for the auth-key length and key.
    AWAIT_AUTH_KEY = "AWAIT_AUTH_KEY"
    # V0_3/V0_4: waiting for the wire-protocol magic.
    AWAIT_WIRE_PROTOCOL = "AWAIT_WIRE_PROTOCOL"
    READY = "READY"
    ERROR = "ERROR"
    CLOSED = "CLOSED"


def _dumps(obj: dict[str, Any]) -> bytes:
    # RethinkDB datum objects are ordered by key; integral numbers print as integers.
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) + b"\0"


def json_error_reply(code: int, message: str) -> bytes:
    """A V1_0 handshake failure reply, NUL included."""
    return _dumps({"error": message, "error_code": code, "success": False})


def text_error_reply(message: str) -> bytes:
    """A pre-V1_0 (or bad-magic) handshake failure reply: ``ERROR: msg\\n\\0``."""
    return b"ERROR: " + message.encode("utf-8") + b"\n\0"


class HandshakeFailed(Exception):
    """Raised by :meth:`ServerHandshake.step`; ``reply`` must be sent before closing."""

    def __init__(self, message: str, reply: bytes) -> None:
        super().__init__(message)
        self.message = message
        self.reply = reply


class ServerHandshake:
    """Consumes handshake bytes from a :class:`ReceiveBuffer`, queues the replies.

    :meth:`step` returns NEED_DATA, or :class:`HandshakeComplete` once the client
    is authenticated, or raises :class:`HandshakeFailed`. Replies accumulate in
    ``outgoing``. Bytes after the handshake are left in the buffer untouched.
    """

    def __init__(
        self,
        lookup_credentials: Callable[[str], ScramCredentials | None],
        server_version: str,
        nonce_factory: Callable[[], str],
        salt_factory: Callable[[], bytes],
    ) -> None:
        self.state = ConnectionState.AWAIT_MAGIC
        self.protocol_version: str | None = None
        self.username: str | None = None
        self.outgoing = bytearray()
        self._lookup = lookup_credentials
        self._server_version = server_version
        self._scram = ScramExchange(lookup_credentials, nonce_factory, salt_factory)

    # -- helpers ---------------------------------------------------------------

    def _fail_v1(self, code_and_message: tuple[int, str]) -> HandshakeFailed:
        code, message = code_and_message
        return HandshakeFailed(message, json_error_reply(code, message))

    def _fail_text(self, message: str) -> HandshakeFailed:
        return HandshakeFailed(message, text_error_reply(message))

    def _read_json_message(self, buf: ReceiveBuffer) -> dict[str, Any] | None:
        """One null-terminated JSON message, or None if it is not complete yet."""
        nul = buf.find(b"\0", MAX_HANDSHAKE_MESSAGE_BYTES - 1)
        if nul == -1:
            if len(buf) >= MAX_HANDSHAKE_MESSAGE_BYTES:
                raise self._fail_v1(_E_BUFFER)
            return None
        view = buf.view(0, nul)
        try:
            message = orjson.loads(view)
        except orjson.JSONDecodeError:
            message = _INVALID
        finally:
            view.release()
        buf.consume(nul + 1)
        if message is _INVALID:
            raise self._fail_v1(_E_JSON)
        # RethinkDB reads fields of the datum; a non-object has none, so the
        # first check below reports it.
        return message if isinstance(message, dict) else {}

    # -- the state machine -------------------------------------------------------

    def step(self, buf: ReceiveBuffer) -> HandshakeComplete | NeedData:
        while True:
            state = self.state
            if state is ConnectionState.AWAIT_MAGIC:
                if len(buf) < 4:
                    return NEED_DATA
                (magic,) = _U32.unpack(buf.peek(4))
                buf.consume(4)
                self._on_magic(magic)
            elif state is ConnectionState.AWAIT_CLIENT_FIRST:
                message = self._read_json_message(buf)
                if message is None:
                    return NEED_DATA
                self._on_client_first(message)
            elif state is ConnectionState.AWAIT_CLIENT_FINAL:
                message = self._read_json_message(buf)
                if message is None:
                    return NEED_DATA
                return self._on_client_final(message)
            elif state is ConnectionState.AWAIT_AUTH_KEY:
                if len(buf) < 4:
                    return NEED_DATA
                (key_size,) = _U32.unpack(buf.peek(4))
                if key_size > MAX_AUTH_KEY_BYTES:
                    raise self._fail_text(_AUTH_KEY_TOO_LONG)
                if len(buf) < 4 + key_size:
                    return NEED_DATA
                key = buf.peek(4 + key_size)[4:]
                buf.consume(4 + key_size)
                self._on_auth_key(key)
            elif state is ConnectionState.AWAIT_WIRE_PROTOCOL:
                if len(buf) < 4:
                    return NEED_DATA
                (wire_protocol,) = _I32.unpack(buf.peek(4))
                buf.consume(4)
                return self._on_wire_protocol(wire_protocol)
            else:  # pragma: no cover - the connection never steps in other states
                raise AssertionError(f"handshake stepped in state {state}")

    def _on_magic(self, magic: int) -> None:
        if magic == Version.V1_0:
            self.protocol_version = "V1_0"
            self.outgoing += _dumps(
                {
                    "max_protocol_version": _PROTOCOL_VERSION,
                    "min_protocol_version": _PROTOCOL_VERSION,
                    "server_version": self._server_version,
                    "success": True,
                }
            )
            self.state = ConnectionState.AWAIT_CLIENT_FIRST
        elif magic in (Version.V0_4, Version.V0_3):
            self.protocol_version = Version(magic).name
            self.state = ConnectionState.AWAIT_AUTH_KEY
        elif magic in (Version.V0_1, Version.V0_2):
            # V0_1 and V0_2 only had the PROTOBUF protocol.
            raise self._fail_text(PROTOBUF_MESSAGE)
        else:
            raise self._fail_text(UNSUPPORTED_VERSION_MESSAGE)

    def _on_client_first(self, message: dict[str, Any]) -> None:
        version = message.get("protocol_version")
        if isinstance(version, bool) or not isinstance(version, int | float):
            raise self._fail_v1(_E_PROTOCOL_VERSION_TYPE)
        if version != _PROTOCOL_VERSION:
            raise self._fail_v1(_E_PROTOCOL_VERSION)
        method = message.get("authentication_method")
        if not isinstance(method, str):
            raise self._fail_v1(_E_AUTH_METHOD_TYPE)
        if method != _AUTH_METHOD:
            raise self._fail_v1(_E_AUTH_METHOD)
        authentication = message.get("authentication")
        if not isinstance(authentication, str):
            raise self._fail_v1(_E_AUTHENTICATION_TYPE)
        try:
            server_first = self._scram.first(authentication)
        except AuthenticationError as exc:
            raise self._fail_v1((exc.code, exc.message)) from None
        self.outgoing += _dumps({"authentication": server_first, "success": True})
        self.state = ConnectionState.AWAIT_CLIENT_FINAL

    def _on_client_final(self, message: dict[str, Any]) -> HandshakeComplete:
        authentication = message.get("authentication")
        if not isinstance(authentication, str):
            raise self._fail_v1(_E_AUTHENTICATION_TYPE)
        try:
            server_final = self._scram.final(authentication)
        except AuthenticationError as exc:
            raise self._fail_v1((exc.code, exc.message)) from None
        self.outgoing += _dumps({"authentication": server_final, "success": True})
        assert self._scram.username is not None
        return self._complete(self._scram.username)

    def _on_auth_key(self, key: bytes) -> None:
        # V0_3/V0_4: the key is the admin user's password (RethinkDB 2.3+).
        credentials = self._lookup(_ADMIN)
        try:
            password = key.decode("utf-8")
        except UnicodeDecodeError:
            password = None
        if (
            credentials is None
            or password is None
            or not verify_plaintext_password(credentials, password)
        ):
            raise self._fail_text(_INCORRECT_AUTH_KEY)
        self.state = ConnectionState.AWAIT_WIRE_PROTOCOL

    def _on_wire_protocol(self, wire_protocol: int) -> HandshakeComplete:
        if wire_protocol == Protocol.PROTOBUF:
            raise self._fail_text(PROTOBUF_MESSAGE)
        if wire_protocol != Protocol.JSON:
            raise self._fail_text(f"Unrecognized protocol specified: '{wire_protocol}'")
        self.outgoing += b"SUCCESS\0"
        return self._complete(_ADMIN)

    def _complete(self, username: str) -> HandshakeComplete:
        assert self.protocol_version is not None
        self.username = username
        self.state = ConnectionState.READY
        return HandshakeComplete(username, self.protocol_version)


_INVALID: Final = object()
