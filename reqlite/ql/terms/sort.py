"""Ordering: ``order_by`` with fields, functions, ``r.asc``/``r.desc`` and the primary index."""

from __future__ import annotations

import functools
from typing import Any

from ...datum.order import compare
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import TableScan, to_list, to_stream
from ..term import Term, as_datum, as_string, register
from ..values import Function, Table


class Ordering:
    """What ``r.asc(x)`` / ``r.desc(x)`` evaluate to."""

    __slots__ = ("key", "desc")
    kind = "DATUM"

    def __init__(self, key: Any, desc: bool) -> None:
        self.key = key
        self.desc = desc


@register(T.ASC)
class Asc(Term):
    __slots__ = ()
    name = "asc"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        return Ordering(await self.args[0].eval(q, env), False)


@register(T.DESC)
class Desc(Term):
    __slots__ = ()
    name = "desc"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        return Ordering(await self.args[0].eval(q, env), True)


async def _sort_key(q: Any, key: Any, doc: Any) -> Any:
    if isinstance(key, Function):
        return as_datum(await key.call1(q, doc))
    if doc.__class__ is not dict:
        raise ReqlQueryLogicError(f"Cannot perform get_field on a non-object non-sequence `{doc}`.")
    return doc.get(key, _MISSING)


_MISSING = object()


def _cmp_keys(a: tuple, b: tuple, desc: tuple) -> int:
    for x, y, d in zip(a, b, desc):
        if x is _MISSING or y is _MISSING:
            if x is y:
                continue
            c = -1 if x is _MISSING else 1
        else:
            c = compare(x, y)
        if c:
            return -c if d else c
    return 0


@register(T.ORDER_BY)
class OrderBy(Term):
    __slots__ = ()
    name = "order_by"
    argspec = (1, None)
    optargspec = ("index",)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        orderings: list[tuple[Any, bool]] = []
        for a in self.args[1:]:
            v = await a.eval(q, env)
            if isinstance(v, Ordering):
                k, d = v.key, v.desc
            else:
                k, d = v, False
            if not isinstance(k, Function):
                k = as_string(k)
            orderings.append((k, d))
        index = None
        desc_index = False
        if "index" in self.optargs:
            v = await self.optargs["index"].eval(q, env)
            if isinstance(v, Ordering):
                index, desc_index = as_string(v.key), v.desc
            else:
                index = as_string(v)
            if not isinstance(src, Table):
                raise ReqlQueryLogicError("Indexed order_by can only be performed on a TABLE or TABLE_SLICE.")
        if not orderings and index is None:
            raise ReqlQueryLogicError("Must specify something to order by.")
        if index is not None and index == src.primary_key:
            scan = TableScan(q.store, src, reverse=desc_index)
            scan.slice_kind = True
            if not orderings:
                return scan
            src = scan
        elif index is not None:
            from ...errors import ReqlOpFailedError

            raise ReqlOpFailedError(
                f"Index `{index}` was not found on table `{src.display_name()}`."
            )
        items = await to_list(q, to_stream(q, src)) if src.__class__ is not list else src
        keyed = []
        for doc in items:
            keyed.append((tuple([await _sort_key(q, k, doc) for k, _ in orderings]), doc))
        desc = tuple(d for _, d in orderings)
        keyed.sort(key=functools.cmp_to_key(lambda x, y: _cmp_keys(x[0], y[0], desc)))
        return [doc for _, doc in keyed]
