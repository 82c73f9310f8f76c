"""``ServerConnection``: one client connection's wire protocol, without I/O.

Modelled on h11: feed received bytes with :meth:`ServerConnection.receive_data`,
pull events with :meth:`ServerConnection.next_event` until it returns
:data:`NEED_DATA`, and write whatever :meth:`ServerConnection.data_to_send`
returns. The handshake replies are produced here; query responses are built by
the server and framed with :func:`reqlite.wire.encode_response`.

A server loop looks like::

    conn = ServerConnection(lookup_credentials)
    while True:
        data = await stream.receive_some(65536)
        conn.receive_data(data)              # b"" when the peer closed
        while True:
            try:
                event = conn.next_event()
            except ProtocolError:
                await stream.send_all(conn.data_to_send())
                return                        # close the connection
            if out := conn.data_to_send():
                await stream.send_all(out)   # handshake replies
            if event is NEED_DATA:
                break
            if isinstance(event, ConnectionClosed):
                return
            ...                               # HandshakeComplete, StartQuery, ...
        if not data:
            return

Buffer limits (each enforced before the bytes it concerns are waited for, so a
peer cannot make us hold more than this in an incomplete message):

* magic / lengths / wire-protocol magic: 4 bytes each;
* handshake JSON messages: 2048 bytes including the NUL (RethinkDB's read buffer);
* V0_3/V0_4 auth key: 2048 bytes (RethinkDB's limit);
* query frames: 12-byte header + ``max_query_bytes`` (default 134217727, i.e.
  RethinkDB's TOO_LARGE_QUERY_SIZE of 128 MiB minus one). The declared length is
  checked as soon as the header is in; an oversized frame is answered and the
  connection dropped without waiting for (or allocating) its payload.
* the send buffer only ever holds handshake replies and one final error reply.

As with h11, drain ``next_event()`` to NEED_DATA before feeding more data: the
limits apply to incomplete messages, not to complete ones the caller has not
pulled yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from .events import (
    NEED_DATA,
    ConnectionClosed,
    HandshakeComplete,
    NeedData,
    ProtocolError,
    QueryEvent,
)
from .framing import (
    DEFAULT_MAX_QUERY_BYTES,
    HEADER,
    HEADER_SIZE,
    ReceiveBuffer,
    client_error_body,
    encode_response,
    parse_query_payload,
    too_large_query_message,
)
from .handshake import ConnectionState, HandshakeFailed, ServerHandshake
from .scram import ScramCredentials, default_nonce_factory, default_salt_factory

__all__ = ["ServerConnection"]

_MAX_DECLARABLE: int = 2**32 - 1


class ServerConnection:
    """The server side of one RethinkDB client connection (sans-IO).

    ``lookup_credentials(username)`` returns the user's stored SCRAM credentials or
    None for an unknown user (V0_3/V0_4 clients authenticate as "admin").
    ``nonce_factory`` returns the server's part of the SCRAM nonce and
    ``salt_factory`` the decoy salt shown to unknown users; both exist so tests
    and golden transcripts can be deterministic.
    """

    def __init__(
        self,
        lookup_credentials: Callable[[str], ScramCredentials | None],
        server_version: str = "2.4.4",
        max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
        nonce_factory: Callable[[], str] | None = None,
        *,
        salt_factory: Callable[[], bytes] | None = None,
    ) -> None:
        if not callable(lookup_credentials):
            raise TypeError("lookup_credentials must be callable")
        if not isinstance(server_version, str):
            raise TypeError("server_version must be a str")
        if type(max_query_bytes) is not int or not 0 <= max_query_bytes <= _MAX_DECLARABLE:
            raise ValueError("max_query_bytes must be an int between 0 and 2**32 - 1")
        self.max_query_bytes = max_query_bytes
        self._handshake = ServerHandshake(
            lookup_credentials,
            server_version,
            nonce_factory or default_nonce_factory,
            salt_factory or default_salt_factory,
        )
        self._buffer = ReceiveBuffer()
        self._outgoing = bytearray()
        self._eof = False
        self._terminal: ConnectionState | None = None  # ERROR or CLOSED once reached
        self._error_message = ""

    # -- introspection -----------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """AWAIT_MAGIC → (V1_0) AWAIT_CLIENT_FIRST → AWAIT_CLIENT_FINAL, or
        (V0_3/V0_4) AWAIT_AUTH_KEY → AWAIT_WIRE_PROTOCOL; then READY; ERROR after
        a ProtocolError; CLOSED after the peer's clean close."""
        return self._terminal or self._handshake.state

    @property
    def username(self) -> str | None:
        """The authenticated user, once the handshake is complete."""
        return self._handshake.username

    @property
    def protocol_version(self) -> str | None:
        """The protocol name ("V1_0", "V0_4" or "V0_3") once the magic is read."""
        return self._handshake.protocol_version

    # -- bytes in / bytes out ----------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Buffer bytes from the peer; ``b""`` means the peer closed its side."""
        if self._terminal is ConnectionState.ERROR:
            return  # nothing more will be read from this connection
        if not data:
            self._eof = True
            return
        if self._eof:
            raise RuntimeError("received data after the peer closed the connection")
        self._buffer.extend(data)

    def data_to_send(self) -> bytes:
        """Bytes to write to the peer (handshake and error replies); empties the buffer."""
        out = self._handshake.outgoing + self._outgoing
        self._handshake.outgoing.clear()
        self._outgoing.clear()
        return bytes(out)

    def next_event(self) -> HandshakeComplete | QueryEvent | ConnectionClosed | NeedData:
        """The next event, or NEED_DATA; raises ProtocolError if the peer must be dropped.

        After ``receive_data(b"")``, buffered complete messages are still returned;
        then a clean close gives :class:`ConnectionClosed` once (NEED_DATA after
        that), and a close in the middle of a message raises ProtocolError (with
        nothing to send: RethinkDB just closes).
        """
        if self._terminal is ConnectionState.ERROR:
            raise ProtocolError(self._error_message)
        if self._terminal is ConnectionState.CLOSED:
            # ConnectionClosed was reported once; a loop that drains to NEED_DATA
            # and then checks its own b"" must not spin.
            return NEED_DATA
        try:
            if self._handshake.state is ConnectionState.READY:
                event = self._next_query()
            else:
                event = self._handshake.step(self._buffer)
        except HandshakeFailed as exc:
            self._fail(exc.message, exc.reply)
        if event is NEED_DATA and self._eof:
            if len(self._buffer):
                self._fail("the peer closed the connection in the middle of a message", b"")
            self._terminal = ConnectionState.CLOSED
            return ConnectionClosed()
        return event

    # -- internals ---------------------------------------------------------------

    def _fail(self, message: str, reply: bytes) -> NoReturn:
        self._outgoing += reply
        self._buffer.clear()
        self._terminal = ConnectionState.ERROR
        self._error_message = message
        raise ProtocolError(message)

    def _next_query(self) -> QueryEvent | NeedData:
        buf = self._buffer
        if len(buf) < HEADER_SIZE:
            return NEED_DATA
        token, size = HEADER.unpack(buf.peek(HEADER_SIZE))
        if size > self.max_query_bytes:
            # RethinkDB answers CLIENT_ERROR for the token, then closes the connection.
            message = too_large_query_message(size, self.max_query_bytes)
            self._fail(message, encode_response(token, client_error_body(message)))
        end = HEADER_SIZE + size
        if len(buf) < end:
            return NEED_DATA
        payload = buf.view(HEADER_SIZE, end)
        try:
            event = parse_query_payload(token, payload)
        finally:
            payload.release()
        buf.consume(end)
        return event
