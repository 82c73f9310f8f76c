"""Datums: ReQL values as plain Python data, their order, keys and printed form."""

from .keys import encode_key, rethinkdb_key_size
from .order import compare, datum_eq, hashable, sort_key
from .printing import print_datum, trunc_print
from .types import (
    MAXVAL_DATUM,
    MINVAL_DATUM,
    REQL_TYPE,
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
    "compare",
    "datum_eq",
    "encode_key",
    "hashable",
    "is_binary",
    "is_extreme",
    "is_number",
    "is_time",
    "num",
    "print_datum",
    "rethinkdb_key_size",
    "sort_key",
    "trunc_print",
    "type_name",
]
