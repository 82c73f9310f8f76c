"""Ordering: ``order_by`` (fields, functions, ``r.asc``/``r.desc``, the primary index) and
``distinct``.

``order_by`` with ``index`` (the primary key: secondary indexes do not exist yet) is a
lazy key-ordered read of the table or table slice. Without an index the sequence is read
whole (within ``array_limit``) and sorted stably; elements where a key is missing sort
first (last when descending), as in RethinkDB. A table or selection sorted this way stays
a selection (``SELECTION<ARRAY>``), so ``order_by(...).nth(0).update(...)`` works.

``distinct`` of a table is a stream in primary-key order; of anything else, the sorted
array of distinct values.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from ...datum.order import compare, hashable
from ...datum.types import REQL_TYPE
from ...errors import ReqlNonExistenceError, ReqlOpFailedError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import (
    INFINITE_MESSAGE,
    ArrayStream,
    MapStream,
    NativeStream,
    Stream,
    TableScan,
    array_items,
    check_array_limit,
    to_list,
    to_stream,
)
from ..term import Term, as_datum, as_string, register
from ..values import Function, NativeFunction, Table
from .seq import field_function, per_group

INDEXED_ORDER_BY = (
    "Indexed order_by can only be performed on a TABLE or TABLE_SLICE. Make sure order_by "
    "comes before any transformations (such as map) or filters."
)


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


_MISSING = object()

KeyFn = Callable[[Any, Any], Awaitable[Any]]


def _key_function(spec: Any, bt: tuple) -> KeyFn:
    """The sort key of one ordering: a field (missing -> _MISSING) or a function."""
    if isinstance(spec, Function):
        call = spec.call1

        async def by_function(q: Any, x: Any) -> Any:
            try:
                return as_datum(await call(q, x))
            except ReqlNonExistenceError:
                return _MISSING

        return by_function
    field = as_string(spec)
    slow = field_function(field, bt, T.GET_FIELD)

    async def by_field(q: Any, x: Any) -> Any:
        if x.__class__ is dict and REQL_TYPE not in x:
            return x.get(field, _MISSING)
        try:
            return as_datum(await slow.call1(q, x))
        except ReqlNonExistenceError:
            return _MISSING

    return by_field


def parse_orderings(specs: list, bt: tuple) -> list[tuple[KeyFn, bool]]:
    """``(key function, descending)`` for each ordering argument."""
    out = []
    for v in specs:
        if isinstance(v, Ordering):
            out.append((_key_function(v.key, bt), v.desc))
        else:
            out.append((_key_function(v, bt), False))
    return out


class SortKey:
    """A comparable multi-key (for merging ordered streams)."""

    __slots__ = ("vals", "descs")

    def __init__(self, vals: list, descs: tuple) -> None:
        self.vals = vals
        self.descs = descs

    def __lt__(self, other: SortKey) -> bool:
        for a, b, d in zip(self.vals, other.vals, self.descs, strict=True):
            if a is _MISSING or b is _MISSING:
                if a is b:
                    continue
                c = -1 if a is _MISSING else 1
            else:
                c = compare(a, b)
            if c:
                return (c < 0) != d
        return False


async def orderings_key(q: Any, term: Term, specs: list) -> KeyFn:
    """A function giving each element's SortKey under ``specs`` (fields, functions,
    ``r.asc``/``r.desc``)."""
    ords = parse_orderings(specs, term.bt)
    descs = tuple(d for _, d in ords)

    async def key(q_: Any, x: Any) -> SortKey:
        return SortKey([await k(q_, x) for k, _ in ords], descs)

    return key


_NATIVE = {int: 0, float: 0, str: 1, bool: 2}


def _native_key(values: list) -> Callable[[Any], Any] | None:
    """A fast key function when one ordering's values are all numbers, all strings or all
    booleans (where Python's order is ReQL's), missing values first; else None."""
    kinds = set()
    for v in values:
        if v is _MISSING:
            kinds.add(-1)
            continue
        k = _NATIVE.get(v.__class__)
        if k is None:
            return None
        kinds.add(k)
        if len(kinds - {-1}) > 1:
            return None
    if -1 in kinds:
        return lambda v: (0, 0) if v is _MISSING else (1, v)
    return lambda v: v


def _cmp_missing_first(a: Any, b: Any) -> int:
    if a is _MISSING or b is _MISSING:
        if a is b:
            return 0
        return -1 if a is _MISSING else 1
    return compare(a, b)


_generic_key = functools.cmp_to_key(_cmp_missing_first)


def sort_by_keys(items: list, columns: list[list], descs: list[bool]) -> list:
    """``items`` stably sorted by the key columns (lexicographically, each ascending or
    descending), one stable pass per column from the last."""
    order = list(range(len(items)))
    for col, desc in zip(reversed(columns), reversed(descs), strict=True):
        fast = _native_key(col)
        kf = fast if fast is not None else _generic_key
        order.sort(key=lambda i, col=col, kf=kf: kf(col[i]), reverse=desc)
    return [items[i] for i in order]


def sorted_datums(values: list) -> list:
    """Datums in ReQL order."""
    return sort_by_keys(values, [values], [False])


async def _sort(q: Any, items: list, ords: list[tuple[KeyFn, bool]]) -> list:
    columns = []
    for k, _ in ords:
        col = []
        for i, x in enumerate(items):
            col.append(await k(q, x))
            if i % 256 == 255:
                await q.checkpoint()
        columns.append(col)
    return sort_by_keys(items, columns, [d for _, d in ords])


def _index_name(v: Any) -> tuple[str, bool]:
    if isinstance(v, Ordering):
        return as_string(v.key), v.desc
    return as_string(v), False


def check_primary_index(table: Table, index: str) -> None:
    """Secondary indexes do not exist yet: refuse any other index as RethinkDB would
    refuse a missing one."""
    if index != table.primary_key:
        if index in table.config.indexes:
            raise ReqlQueryLogicError("Secondary indexes are not supported yet.")
        raise ReqlOpFailedError(f"Index `{index}` was not found on table `{table.display_name()}`.")


@register(T.ORDER_BY)
class OrderBy(Term):
    __slots__ = ()
    name = "order_by"
    argspec = (1, None)
    optargspec = ("index",)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        specs = []
        for a in self.args[1:]:
            v = await a.eval(q, env)
            if isinstance(v, Ordering):
                if not isinstance(v.key, Function):
                    as_string(v.key)
            elif not isinstance(v, Function):
                as_string(v)
            specs.append(v)
        ords = parse_orderings(specs, self.bt)
        if "index" in self.optargs:
            return self._indexed(q, src, await self.optargs["index"].eval(q, env), bool(ords))
        if not ords:
            raise ReqlQueryLogicError("Must specify something to order by.")
        g = await per_group(q, src, lambda v: self._sorted(q, v, ords))
        if g is not None:
            return g
        return await self._sorted(q, src, ords)

    def _indexed(self, q: Any, src: Any, index_value: Any, has_orderings: bool) -> Any:
        if isinstance(src, Table):
            scan = TableScan(q.store, src)
        elif isinstance(src, TableScan) and src.slice_kind:
            if src.sorted_by is not None:
                raise ReqlQueryLogicError("Cannot perform multiple indexed ORDER_BYs on the same table.")
            scan = src.copy()
        else:
            raise ReqlQueryLogicError(INDEXED_ORDER_BY)
        index, desc = _index_name(index_value)
        check_primary_index(scan.table, index)
        scan.reverse = desc
        scan.sorted_by = index
        # Orderings only break ties between equal index values: none on the primary key.
        scan.slice_kind = not has_orderings
        return scan

    async def _sorted(self, q: Any, src: Any, ords: list) -> Any:
        table = None
        if isinstance(src, Stream):
            table = src.table
        elif isinstance(src, Table):
            table = src
        items = array_items(src)
        if items is None:
            items = await to_list(q, to_stream(q, src))
        out = await _sort(q, items, ords)
        if table is not None:
            return ArrayStream(out, table, True)
        return out


@register(T.DISTINCT)
class Distinct(Term):
    __slots__ = ()
    name = "distinct"
    argspec = (1, 1)
    optargspec = ("index",)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        index = None
        if "index" in self.optargs:
            index = as_string(await self.optargs["index"].eval(q, env))
        scan = None
        if isinstance(v, Table):
            scan = TableScan(q.store, v)
        elif isinstance(v, TableScan) and v.slice_kind:
            scan = v.copy()
        if scan is not None:
            pk = scan.table.primary_key
            if index is not None:
                check_primary_index(scan.table, index)

                async def key(q_: Any, doc: Any) -> Any:
                    return doc[pk]

                return MapStream(scan, NativeFunction(key, 1))

            async def same(q_: Any, doc: Any) -> list:
                return [doc]

            return NativeStream(scan, same)  # documents are distinct by their keys
        if index is not None:
            raise ReqlQueryLogicError("Can only perform an indexed distinct on a TABLE.")
        g = await per_group(q, v, lambda x: self._distinct(q, x))
        if g is not None:
            return g
        return await self._distinct(q, v)

    async def _distinct(self, q: Any, v: Any) -> list:
        seen: dict = {}
        items = array_items(v)
        if items is not None:
            batches: Any = [items]
        else:
            batches = None
            stream = to_stream(q, v)
            if stream.infinite:
                raise ReqlQueryLogicError(INFINITE_MESSAGE)
        i = 0
        while True:
            if batches is not None:
                if i >= len(batches):
                    break
                batch = batches[i]
                i += 1
            else:
                batch = await stream.next_batch(q, 1000)
                if batch is None:
                    break
            for x in batch:
                x = as_datum(x)
                h = hashable(x)
                if h not in seen:
                    seen[h] = x
            check_array_limit(q, len(seen))
        return sorted_datums(list(seen.values()))


__all__ = ["Ordering", "SortKey", "orderings_key", "parse_orderings", "sort_by_keys", "sorted_datums"]
