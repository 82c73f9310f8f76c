"""Datums: ReQL values as plain Python data, their order, keys and printed form."""

from .binary import binary_bytes, decode_base64, encode_base64, make_binary
from .keys import encode_key, rethinkdb_key_size
from .order import compare, datum_eq, hashable, sort_key
from .printing import format_g20, format_number, print_datum, to_json_string, trunc_print
from .types import (
    MAXVAL_DATUM,
    MINVAL_DATUM,
    REQL_TYPE,
    checked_int,
    is_binary,
    is_extreme,
    is_number,
    is_time,
    num,
    type_name,
)

__all__ = [
    "MAXVAL_DATUM",
    "MINVAL_DATUM",
    "REQL_TYPE",
    "binary_bytes",
    "checked_int",
    "compare",
    "datum_eq",
    "decode_base64",
    "encode_base64",
    "encode_key",
    "format_g20",
    "format_number",
    "hashable",
    "is_binary",
    "is_extreme",
    "is_number",
    "is_time",
    "make_binary",
    "num",
    "print_datum",
    "rethinkdb_key_size",
    "sort_key",
    "to_json_string",
    "trunc_print",
    "type_name",
]
