"""Table slices: ``between`` over the primary index (a key range read as a cursor walk).

Because primary keys are stored in an order-preserving encoding, a range of keys is a
range of LMDB keys: ``between`` reads only the documents in range, lazily, in key order.
"""

from __future__ import annotations

from typing import Any

from ...datum.keys import encode_key
from ...errors import ReqlOpFailedError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import TableScan
from ..term import Term, as_datum, as_string, register, type_error
from ..values import Table

BOUNDS = ("open", "closed")


def _bound(value: str, which: str) -> bool:
    if value not in BOUNDS:
        raise ReqlQueryLogicError(
            f"Expected `open` or `closed` for optarg `{which}` (got `\"{value}\"`)."
        )
    return value == "closed"


def key_range(table: Table, lower: Any, upper: Any, left_closed: bool, right_closed: bool) -> tuple[bytes, bytes]:
    """LMDB key bounds [start, end) for primary keys between ``lower`` and ``upper``.

    Encodings are self-delimiting (no key is a prefix of another), so ``enc + b"\\x00"``
    is the smallest key greater than ``enc``.
    """
    prefix = table.config.docs_prefix
    lo = prefix + encode_key(lower)
    hi = prefix + encode_key(upper)
    start = lo if left_closed else lo + b"\x00"
    end = hi + b"\x00" if right_closed else hi
    return start, end


@register(T.BETWEEN)
class Between(Term):
    __slots__ = ()
    name = "between"
    argspec = (3, 3)
    optargspec = ("index", "left_bound", "right_bound")

    async def eval(self, q: Any, env: dict) -> TableScan:
        target = await self.args[0].eval(q, env)
        if isinstance(target, TableScan) and target.slice_kind:
            raise ReqlQueryLogicError("Cannot perform multiple BETWEENs on the same table.")
        if not isinstance(target, Table):
            raise type_error("TABLE_SLICE", as_datum(target) if getattr(target.__class__, "kind", None) is None else target)
        lower = as_datum(await self.args[1].eval(q, env))
        upper = as_datum(await self.args[2].eval(q, env))
        left_closed = _bound(as_string(await self.opt("left_bound", q, env, "closed")), "left_bound")
        right_closed = _bound(as_string(await self.opt("right_bound", q, env, "open")), "right_bound")
        index = as_string(await self.opt("index", q, env, target.primary_key))
        if index != target.primary_key:
            if index not in target.config.indexes:
                raise ReqlOpFailedError(
                    f"Index `{index}` was not found on table `{target.display_name()}`."
                )
            raise ReqlQueryLogicError("Secondary indexes are not supported yet.")
        for v in (lower, upper):
            if v is None:
                raise ReqlQueryLogicError(
                    "Cannot use `null` in BETWEEN, use `r.minval` or `r.maxval` to denote unboundedness."
                )
        start, end = key_range(target, lower, upper, left_closed, right_closed)
        scan = TableScan(q.store, target, start, end)
        if start >= end:
            scan.done = True
        scan.slice_kind = True
        return scan
