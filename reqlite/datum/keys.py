"""Order-preserving byte encoding of key datums (primary and secondary index keys).

``encode_key(a) < encode_key(b)`` (as bytes) exactly when ``a < b`` in ReQL order, and
equal datums (``1`` and ``1.0``, ``-0.0`` and ``0``, two times at the same instant in
different timezones) encode identically. The encoding is self-delimiting, so an index
entry can be ``encode_key(secondary) + encode_key(primary)`` and still sort by
(secondary, primary).

Layout: one tag byte per value, tags ascending in ReQL's type order.

=========  ====  =====================================================
type       tag   body
=========  ====  =====================================================
minval     0x10  (range bounds only)
array      0x20  elements, then 0x00
bool       0x30  0x01 false / 0x02 true
null       0x40  (reserved: RethinkDB refuses null in keys)
number     0x50  8 bytes: IEEE-754 big-endian, sign-flipped
binary     0x70  bytes with 0x00 → 0x00 0xFF, then 0x00
time       0x90  epoch time as a number body
string     0xA0  UTF-8 with 0x00 → 0x00 0xFF, then 0x00
maxval     0xF0  (range bounds only)
=========  ====  =====================================================

Keys are never decoded back into datums: the document carries its own key.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from ..errors import ReqlQueryLogicError
from .types import REQL_TYPE, _Extreme, type_name

TAG_MINVAL = 0x10
TAG_ARRAY = 0x20
TAG_BOOL = 0x30
TAG_NULL = 0x40
TAG_NUMBER = 0x50
TAG_BINARY = 0x70
TAG_TIME = 0x90
TAG_STRING = 0xA0
TAG_MAXVAL = 0xF0

_pack_double = struct.Struct(">d").pack
_unpack_u64 = struct.Struct(">Q").unpack
_pack_u64 = struct.Struct(">Q").pack

# RethinkDB's limit on a printed primary key (rdb_protocol::MAX_PRIMARY_KEY_SIZE).
MAX_PRIMARY_KEY_SIZE = 128


class KeyTypeError(ReqlQueryLogicError):
    """A datum that cannot be a key (RethinkDB's wording)."""


def _number_body(value: float | int) -> bytes:
    f = float(value)
    if f == 0.0:
        f = 0.0  # -0.0 sorts and compares as 0
    (u,) = _unpack_u64(_pack_double(f))
    if u & 0x8000000000000000:
        u ^= 0xFFFFFFFFFFFFFFFF
    else:
        u |= 0x8000000000000000
    return _pack_u64(u)


def _escape(raw: bytes) -> bytes:
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"\x00\xff")
    return raw + b"\x00"


def _encode_into(value: Any, out: bytearray, top: bool) -> None:
    cls = value.__class__
    if cls is str:
        out.append(TAG_STRING)
        out += _escape(value.encode("utf-8"))
    elif cls is int or cls is float:
        out.append(TAG_NUMBER)
        out += _number_body(value)
    elif cls is bool:
        out.append(TAG_BOOL)
        out.append(0x02 if value else 0x01)
    elif cls is list:
        out.append(TAG_ARRAY)
        for item in value:
            _encode_into(item, out, False)
        out.append(0x00)
    elif cls is dict:
        pt = value.get(REQL_TYPE)
        if pt == "TIME":
            out.append(TAG_TIME)
            out += _number_body(value.get("epoch_time", 0))
        elif pt == "BINARY":
            out.append(TAG_BINARY)
            out += _escape(base64.b64decode(value.get("data", "")))
        elif pt == "GEOMETRY":
            raise KeyTypeError(
                "Cannot use a geometry value as a key value in a primary or "
                "non-geospatial secondary index."
            )
        elif pt.__class__ is str:
            raise KeyTypeError(
                f"Cannot use pseudotype {type_name(value)} as a primary or secondary key value ."
            )
        else:
            raise _bad_key(value, top)
    elif value is None:
        # RethinkDB refuses null anywhere in a key (top level or inside an array).
        raise _bad_key(value, top)
    elif cls is _Extreme:
        out.append(TAG_MINVAL if value.sign < 0 else TAG_MAXVAL)
    else:  # pragma: no cover - not a datum
        raise KeyTypeError(f"Cannot use {value!r} as a key.")


def _bad_key(value: Any, top: bool) -> KeyTypeError:
    from .printing import trunc_print

    if top:
        return KeyTypeError(
            "Primary keys must be either a number, string, bool, pseudotype or array "
            f"(got type {type_name(value)}):\n{trunc_print(value)}"
        )
    from .printing import print_datum

    return KeyTypeError(
        "Array keys can only contain numbers, strings, bools,  pseudotypes, or arrays "
        f"(got {print_datum(value)} of type {type_name(value)})."
    )


def encode_key(value: Any) -> bytes:
    """Encode a primary-key (or secondary-key) datum; raises KeyTypeError for objects/null."""
    cls = value.__class__
    if cls is str:
        raw = value.encode("utf-8")
        if b"\x00" in raw:
            raw = raw.replace(b"\x00", b"\x00\xff")
        return b"\xa0" + raw + b"\x00"
    if cls is int or cls is float:
        return b"\x50" + _number_body(value)
    out = bytearray()
    _encode_into(value, out, True)
    return bytes(out)


def encode_index_value(value: Any) -> bytes:
    """Encode a secondary-index value; like ``encode_key`` but null is allowed in arrays only."""
    return encode_key(value)


def primary_key_too_long(value: Any) -> bool:
    """Whether RethinkDB would refuse ``value`` as a primary key for its length (> 127).

    Quick for the common cases: a number's or a boolean's key string is never that long.
    """
    cls = value.__class__
    if cls is str:
        return len(value) > 127 and len(value.encode("utf-8")) > 127
    if cls is int or cls is float or cls is bool:
        return False
    return rethinkdb_key_size(value) > 128


def rethinkdb_key_size(value: Any) -> int:
    """Length of RethinkDB's own key string for a primary key (for its length limit).

    RethinkDB refuses a primary key whose key string (``datum_t::print_primary``) is longer
    than 128 bytes. That string is a type letter followed by the value: ``S`` + the UTF-8
    bytes of a string, ``N`` + 16 hex digits + ``#`` + ``%.20g`` of a number, ``B`` + ``t``/``f``,
    ``A`` + each element's key and a NUL byte, ``PBINARY:`` + the bytes (0x00 and 0x01 take
    two), ``PTIME:`` + the epoch time's number key.
    """
    cls = value.__class__
    if cls is str:
        return 1 + len(value.encode("utf-8"))
    if cls is int or cls is float:
        return _number_key_size(value)
    if cls is bool:
        return 2
    if cls is list:
        return 1 + sum(rethinkdb_key_size(v) + 1 for v in value)
    if cls is dict:
        pt = value.get(REQL_TYPE)
        if pt == "BINARY":
            from .binary import binary_bytes

            raw = binary_bytes(value)
            return 8 + len(raw) + raw.count(0) + raw.count(1)
        if pt == "TIME":
            return 6 + _number_key_size(value.get("epoch_time", 0))
    return 1


def _number_key_size(value: float | int) -> int:
    from .printing import format_g20

    f = float(value)
    return 18 + len(format_g20(f if f != 0 else 0.0))


def check_primary_key_strings(value: Any) -> None:
    """RethinkDB stores primary keys unescaped, so it refuses strings holding a NUL byte
    anywhere in a primary key (also inside arrays)."""
    cls = value.__class__
    if cls is str:
        pos = value.find("\x00")
        if pos >= 0:
            shown = value[:20].encode("unicode_escape").decode("ascii").replace('"', '\\"')
            raise KeyTypeError(
                f'String "{shown}" (truncated) contains NULL byte at offset '
                f"{len(value[:pos].encode('utf-8'))} in index key."
            )
    elif cls is list:
        for v in value:
            check_primary_key_strings(v)
