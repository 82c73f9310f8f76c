"""Events produced by :class:`reqlite.wire.ServerConnection`, and its error type.

In the h11 style, the connection object turns received bytes into these plain
values; the server loop reacts to them. They are frozen, slotted dataclasses whose
fields are validated on construction, so a malformed event can never exist.

``NEED_DATA`` is the sentinel ``next_event()`` returns when the buffered bytes do
not yet hold a complete message. :class:`ProtocolError` is raised when the peer
broke the protocol badly enough that the connection must be closed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "NEED_DATA",
    "NeedData",
    "ProtocolError",
    "Event",
    "HandshakeComplete",
    "StartQuery",
    "ContinueQuery",
    "StopQuery",
    "NoreplyWait",
    "ServerInfoQuery",
    "BadQuery",
    "ConnectionClosed",
    "TOKEN_MIN",
    "TOKEN_MAX",
]

# Tokens are RethinkDB's ``int64_t``: the frame header's first 8 bytes read as a
# signed little-endian integer (src/client_protocol/json.cc).
TOKEN_MIN: Final = -(2**63)
TOKEN_MAX: Final = 2**63 - 1

# Protocol names a HandshakeComplete may carry. V0_3 is still accepted by
# RethinkDB 2.4 (same handshake as V0_4), so it is accepted here too.
_PROTOCOL_NAMES: Final = frozenset({"V1_0", "V0_4", "V0_3"})


class NeedData(enum.Enum):
    """Type of the :data:`NEED_DATA` sentinel (an enum so it pickles and types well)."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"

    __str__ = __repr__


NEED_DATA: Final = NeedData.NEED_DATA
"""Returned by ``next_event()`` when more bytes are needed to make progress."""


class ProtocolError(Exception):
    """The peer violated the protocol; the connection must be closed.

    Before this is raised, whatever RethinkDB would send before closing has been
    queued in ``data_to_send()``; flush it, then close the socket.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_token(token: object) -> None:
    if type(token) is not int:
        raise TypeError(f"token must be an int, not {type(token).__name__}")
    if not TOKEN_MIN <= token <= TOKEN_MAX:
        raise ValueError(f"token {token} does not fit in a signed 64-bit integer")


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")


class Event:
    """Base class of every event (useful for ``isinstance`` and type hints)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class HandshakeComplete(Event):
    """The handshake succeeded; queries may follow.

    ``username`` is the authenticated user ("admin" for V0_3/V0_4, whose auth key
    is the admin password); ``protocol`` is "V1_0", "V0_4" or "V0_3".
    """

    username: str
    protocol: str

    def __post_init__(self) -> None:
        _check_str("username", self.username)
        _check_str("protocol", self.protocol)
        if self.protocol not in _PROTOCOL_NAMES:
            raise ValueError(f"unknown protocol {self.protocol!r}")


@dataclass(frozen=True, slots=True)
class StartQuery(Event):
    """A START query: evaluate ``term`` (the JSON-decoded term tree, uninterpreted).

    ``global_optargs`` is the query's third element ({} when absent); its values
    are term trees too (e.g. ``{"db": [14, ["test"]]}``).
    """

    token: int
    term: Any
    global_optargs: dict[str, Any]

    def __post_init__(self) -> None:
        _check_token(self.token)
        if not isinstance(self.global_optargs, dict):
            raise TypeError("global_optargs must be a dict")


@dataclass(frozen=True, slots=True)
class ContinueQuery(Event):
    """CONTINUE: send the next batch of the cursor opened by START ``token``."""

    token: int

    def __post_init__(self) -> None:
        _check_token(self.token)


@dataclass(frozen=True, slots=True)
class StopQuery(Event):
    """STOP: close the cursor opened by START ``token``."""

    token: int

    def __post_init__(self) -> None:
        _check_token(self.token)


@dataclass(frozen=True, slots=True)
class NoreplyWait(Event):
    """NOREPLY_WAIT: answer WAIT_COMPLETE once earlier noreply queries finished."""

    token: int

    def __post_init__(self) -> None:
        _check_token(self.token)


@dataclass(frozen=True, slots=True)
class ServerInfoQuery(Event):
    """SERVER_INFO: answer with the server's ``{"id":..,"name":..}``."""

    token: int

    def __post_init__(self) -> None:
        _check_token(self.token)


@dataclass(frozen=True, slots=True)
class BadQuery(Event):
    """A correctly framed query whose payload RethinkDB rejects.

    RethinkDB answers it with a CLIENT_ERROR response carrying ``message`` for
    ``token`` and keeps the connection open; :meth:`response` builds those bytes.
    """

    token: int
    message: str

    def __post_init__(self) -> None:
        _check_token(self.token)
        _check_str("message", self.message)

    def response(self) -> bytes:
        """The complete response frame RethinkDB sends for this query."""
        from .framing import client_error_body, encode_response

        return encode_response(self.token, client_error_body(self.message))


@dataclass(frozen=True, slots=True)
class ConnectionClosed(Event):
    """The peer closed its side (``receive_data(b"")``) at a message boundary.

    Returned once; ``next_event()`` returns NEED_DATA afterwards.
    """


QueryEvent = StartQuery | ContinueQuery | StopQuery | NoreplyWait | ServerInfoQuery | BadQuery
AnyEvent = HandshakeComplete | QueryEvent | ConnectionClosed
NextEventResult = AnyEvent | Literal[NeedData.NEED_DATA]
