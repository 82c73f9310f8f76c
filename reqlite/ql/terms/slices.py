"""Table slices: ``between`` over the primary index (a key range read as a cursor walk).

Because primary keys are stored in an order-preserving encoding, a range of keys is a
range of LMDB keys: ``between`` reads only the documents in range, lazily, in key order.
"""

from __future__ import annotations

from typing import Any

from ...datum.keys import encode_key
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from .. import indexing
from ..streams import TableScan
from ..term import Term, as_datum, as_string, register
from ..values import Table

BOUNDS = ("open", "closed")


def _bound(value: str, which: str) -> bool:
    if value not in BOUNDS:
        raise ReqlQueryLogicError(
            f"Expected `open` or `closed` for optarg `{which}` (got `\"{value}\"`)."
        )
    return value == "closed"


def _empty_range(lower: Any, upper: Any, left_closed: bool, right_closed: bool) -> bool:
    from ...datum.order import compare

    c = compare(lower, upper)
    return c > 0 or (c == 0 and not (left_closed and right_closed))


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
        ordered: Any = None  # an order_by(index=...) slice this between narrows
        if isinstance(target, (TableScan, indexing.IndexScan)) and target.type_of_name() == "TABLE_SLICE":
            if getattr(target, "bounded", False):
                raise ReqlQueryLogicError("Cannot perform multiple BETWEENs on the same table.")
            ordered = target
            target = target.table
        if not isinstance(target, Table):
            from .seq import val_type_error  # a datum shows as "DATUM:" and its value

            raise val_type_error("TABLE_SLICE", target)
        lower = as_datum(await self.args[1].eval(q, env))
        upper = as_datum(await self.args[2].eval(q, env))
        left_closed = _bound(as_string(await self.opt("left_bound", q, env, "closed")), "left_bound")
        right_closed = _bound(as_string(await self.opt("right_bound", q, env, "open")), "right_bound")
        index = as_string(await self.opt("index", q, env, target.primary_key))
        for v in (lower, upper):
            if v is None:
                raise ReqlQueryLogicError(
                    "Cannot use `null` in BETWEEN, use `r.minval` or `r.maxval` to denote unboundedness."
                )
        reverse = False
        if ordered is not None:
            ordered_index = getattr(ordered, "index", None) or target.primary_key
            if ordered_index != index:
                raise ReqlQueryLogicError(
                    f"Cannot call BETWEEN on index `{index}` after ordering on index `{ordered_index}`."
                )
            reverse = ordered.reverse
        if index != target.primary_key:
            spec = indexing.ready_spec(target, index)
            scan_ = indexing.range_scan(q, target, index, spec, lower, upper, left_closed, right_closed, reverse)
            if _empty_range(lower, upper, left_closed, right_closed):
                scan_.done = True
            scan_.bounded = True
            return scan_
        start, end = key_range(target, lower, upper, left_closed, right_closed)
        scan = TableScan(q.store, target, start, end, reverse)
        if start >= end:
            scan.done = True
        scan.slice_kind = True
        return scan
