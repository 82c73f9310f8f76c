"""Datums arriving from clients: normalise numbers and validate pseudo-types.

Every JSON value in a query passes through ``datum_from_json`` once, at compile time.
Numbers are brought to the datum invariant (integral → int) and objects carrying
``$reql_type$`` are checked by the sanitizer registered for their type (times, binary,
geometry register theirs), exactly where RethinkDB sanitizes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..datum.binary import sanitize_binary
from ..datum.types import MAX_SAFE_INT, REQL_TYPE
from ..errors import ReqlQueryLogicError

PSEUDO_SANITIZERS: dict[str, Callable[[dict], dict]] = {}


def pseudo_sanitizer(reql_type: str):
    """Decorator: register the validator/normaliser of one pseudo-type."""

    def deco(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        PSEUDO_SANITIZERS[reql_type] = fn
        return fn

    return deco


def datum_from_json(value: Any, checked: bool = False) -> Any:
    """Normalise a decoded JSON value into a datum.

    ``checked``: the values inside are already datums; only the top object's
    pseudo-type (if any) still needs validating.
    """
    cls = value.__class__
    if cls is str or cls is bool or value is None:
        return value
    if cls is int:
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return value
        return float(value)
    if cls is float:
        if value.is_integer() and -MAX_SAFE_INT <= value <= MAX_SAFE_INT and value != 0:
            return int(value)
        if value == 0 and str(value)[0] != "-":
            return 0
        return value
    if cls is list:
        if checked:
            return value
        return [datum_from_json(v) for v in value]
    if cls is dict:
        if not checked:
            value = {k: datum_from_json(v) for k, v in value.items()}
        if REQL_TYPE in value:
            return sanitize_pseudo(value)
        return value
    raise ReqlQueryLogicError(f"Cannot convert {value!r} to a datum.")


def sanitize_pseudo(obj: dict) -> dict:
    """Validate (and normalise) an object with a ``$reql_type$`` field."""
    rt = obj.get(REQL_TYPE)
    if rt.__class__ is not str:
        from ..datum.printing import trunc_print

        raise ReqlQueryLogicError(
            f"Error: Field `{REQL_TYPE}` must be a string (got `{trunc_print(rt)}` of type "
            f"{_tn(rt)}):\n{trunc_print(obj)}"
        )
    fn = PSEUDO_SANITIZERS.get(rt)
    if fn is None:
        raise ReqlQueryLogicError(f"Unknown $reql_type$ `PTYPE<{rt}>`.")
    return fn(obj)


@pseudo_sanitizer("BINARY")
def _sanitize_binary(obj: dict) -> dict:
    return sanitize_binary(obj)


def _tn(v: Any) -> str:
    from ..datum.types import type_name

    return type_name(v)
