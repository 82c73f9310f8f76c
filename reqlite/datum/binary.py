"""Binary data: the ``BINARY`` pseudo-type and RethinkDB's own base64 dialect.

A binary datum is ``{"$reql_type$": "BINARY", "data": <base64>}``, the form RethinkDB
sends to clients (and the one drivers send to it). The ``data`` field always holds the
canonical encoding produced by ``encode_base64``, so two equal byte strings are equal
datums and a stored document goes to the wire untouched.

RethinkDB's encoder is plain base64 with a CRLF after every 76 characters of output
(MIME line length), never at the very end. Its decoder skips spaces, tabs, CR and LF,
stops at the first ``=`` and reports malformed input with its own messages, which
``decode_base64`` reproduces.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ..errors import ReqlQueryLogicError
from .types import BINARY, REQL_TYPE

LINE_LENGTH = 76

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUES = {c: i for i, c in enumerate(_ALPHABET)}
_SKIPPED = frozenset(" \t\r\n")
_PLAIN = re.compile(r"[A-Za-z0-9+/]*=*")


def encode_base64(raw: bytes) -> str:
    """Base64 as RethinkDB writes it: CRLF between 76-character lines."""
    s = base64.b64encode(raw).decode("ascii")
    if len(s) <= LINE_LENGTH:
        return s
    return "\r\n".join(s[i : i + LINE_LENGTH] for i in range(0, len(s), LINE_LENGTH))


def _length_error() -> ReqlQueryLogicError:
    return ReqlQueryLogicError(
        "Invalid base64 length: 1 character remaining, cannot decode a full byte."
    )


def _padding_error() -> ReqlQueryLogicError:
    return ReqlQueryLogicError("Invalid base64 format, data found after padding character '='.")


def decode_base64(data: str) -> bytes:
    """Decode base64 the way RethinkDB does, with its error messages."""
    if _PLAIN.fullmatch(data):
        core = data.rstrip("=")
        n = len(core)
        if n % 4 == 1:
            raise _length_error()
        if n % 4:
            core += "=" * (4 - n % 4)
        return binascii.a2b_base64(core)
    return _decode_slow(data)


def _decode_slow(data: str) -> bytes:
    out = bytearray()
    values: list[int] = []
    pos = 0
    end = len(data)
    while pos < end:
        c = data[pos]
        if c == "=":
            break
        pos += 1
        if c in _SKIPPED:
            continue
        v = _VALUES.get(c)
        if v is None:
            raise ReqlQueryLogicError(f"Invalid base64 character found: '{c}'.")
        values.append(v)
        if len(values) == 4:
            out += _chunk(values, 4)
            values = []
    if len(values) == 1:
        raise _length_error()
    if values:
        out += _chunk(values, len(values))
    for c in data[pos:]:
        if c != "=" and c not in _SKIPPED:
            raise _padding_error()
    return bytes(out)


def _chunk(values: list[int], filled: int) -> bytes:
    v = values + [0] * (4 - len(values))
    n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3]
    return n.to_bytes(3, "big")[: filled - 1]


def make_binary(raw: bytes) -> dict:
    """The binary datum holding ``raw``."""
    return {REQL_TYPE: BINARY, "data": encode_base64(raw)}


def binary_bytes(value: dict) -> bytes:
    """The bytes of a binary datum (whose ``data`` is already validated)."""
    data = value.get("data", "")
    try:
        return binascii.a2b_base64(data)  # skips the CRLFs of long values
    except (binascii.Error, ValueError):
        return decode_base64(data)


def sanitize_binary(obj: dict) -> dict:
    """Validate a ``{"$reql_type$": "BINARY", ...}`` object from a client; canonicalise ``data``.

    Fields are checked in key order, as RethinkDB does (it keeps object keys sorted).
    """
    from .types import type_name

    raw: bytes | None = None
    for key in sorted(obj):
        if key == REQL_TYPE:
            continue
        if key == "data":
            data = obj["data"]
            if data.__class__ is not str:
                raise ReqlQueryLogicError(f"Expected type STRING but found {type_name(data)}.")
            raw = decode_base64(data)
        else:
            raise ReqlQueryLogicError(f"Invalid binary pseudotype: illegal `{key}` key.")
    if raw is None:
        raise ReqlQueryLogicError("Invalid binary pseudotype: lacking `data` key.")
    canonical = encode_base64(raw)
    if canonical == obj["data"]:
        return obj
    return {REQL_TYPE: BINARY, "data": canonical}


def is_binary(value: Any) -> bool:
    return value.__class__ is dict and value.get(REQL_TYPE) == BINARY
