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

import copy
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from ...datum.order import compare, datum_eq, hashable
from ...datum.types import MAXVAL_DATUM, MINVAL_DATUM, REQL_TYPE
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from .. import indexing
from ..streams import (
    ArrayStream,
    MapStream,
    NativeStream,
    Stream,
    TableScan,
    array_items,
    check_array_limit,
    fast_call1,
    infinite_error,
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
        call = fast_call1(spec)

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
    """Where only the primary index will do: any other index is refused (RethinkDB's
    error for an index that does not exist, else for one that is not built yet)."""
    if index != table.primary_key:
        indexing.ready_spec(table, index)
        raise ReqlQueryLogicError(f"Index `{index}` is not the primary index of `{table.display_name()}`.")


# -- reading in index order ------------------------------------------------------------


def is_table_slice(v: Any) -> bool:
    """A TABLE_SLICE: ``between`` or ``order_by(index=...)`` of a table."""
    return isinstance(v, (TableScan, indexing.IndexScan)) and v.type_of_name() == "TABLE_SLICE"


def slice_index(v: Any) -> str:
    """The index a table slice is bounded or ordered by."""
    if isinstance(v, indexing.IndexScan):
        return v.index
    return v.table.primary_key


def _is_sorted(v: Any) -> bool:
    if isinstance(v, TableScan):
        return v.sorted_by is not None
    return not v.bounded  # an IndexScan slice not made by between() comes from order_by()


def index_scan(q: Any, table: Table, index: str, desc: bool = False) -> Stream:
    """All documents of ``table`` in the order of ``index`` (the primary key or a built
    secondary index, whose multi values give a document once per value)."""
    if index == table.primary_key:
        scan = TableScan(q.store, table, reverse=desc)
        scan.slice_kind = True
        return scan
    spec = indexing.ready_spec(table, index)
    return indexing.range_scan(q, table, index, spec, MINVAL_DATUM, MAXVAL_DATUM, True, True, desc, "TABLE_SLICE")


def ordered_slice(q: Any, src: Any, index: str, desc: bool) -> Stream:
    """``order_by(index=...)`` of a table or table slice: a lazy index-ordered read."""
    if isinstance(src, Table):
        scan = index_scan(q, src, index, desc)
    elif is_table_slice(src):
        if _is_sorted(src):
            raise ReqlQueryLogicError("Cannot perform multiple indexed ORDER_BYs on the same table.")
        bounded_by = slice_index(src)
        if bounded_by != index:
            raise ReqlQueryLogicError(
                f"Cannot order by index `{index}` after calling BETWEEN on index `{bounded_by}`."
            )
        if isinstance(src, TableScan):
            scan = src.copy()
            scan.reverse = desc
        else:
            scan = copy.copy(src)
            scan.reverse = desc
            scan.sorting = "DESCENDING" if desc else "ASCENDING"
            scan.last_key = None
    else:
        raise ReqlQueryLogicError(INDEXED_ORDER_BY)
    if isinstance(scan, TableScan):
        scan.sorted_by = index
    return scan


class IndexValues:
    """The index value behind each document an index scan yields.

    The index function is evaluated again on the document; a document with several
    values (multi indexes) comes once per value, in index order, so its k-th appearance
    carries its k-th value in that order.
    """

    __slots__ = ("spec", "desc", "seen", "pk")

    def __init__(self, scan: Any) -> None:
        self.spec = scan.spec
        self.desc = scan.reverse
        self.seen: dict = {}
        self.pk = scan.table.primary_key

    async def value(self, q: Any, doc: Any) -> Any:
        vals = [v for v in await indexing.index_values(q, self.spec, doc) if indexing.encode_value(v) is not None]
        if len(vals) <= 1:
            return vals[0] if vals else None
        uniq: dict = {}
        for v in vals:
            uniq.setdefault(hashable(v), v)
        ordered = sorted_datums(list(uniq.values()))
        if self.desc:
            ordered.reverse()
        h = hashable(doc.get(self.pk))
        k = self.seen.get(h, 0)
        self.seen[h] = k + 1
        return ordered[min(k, len(ordered) - 1)]


class IndexedStream(Stream):
    """Elements derived from an index-ordered scan with each document's index value.

    ``emit(q, pairs, final)`` turns ``(value, doc)`` pairs into output elements; it may
    keep some pairs back (returning them as the second item) until more arrive.
    """

    __slots__ = ("scan", "values", "emit", "held", "done")

    def __init__(self, scan: Stream, emit: Callable, table: Any = None) -> None:
        super().__init__(table)
        self.scan = scan
        self.values = IndexValues(scan) if isinstance(scan, indexing.IndexScan) else None
        self.emit = emit
        self.held: list = []
        self.done = False

    async def pairs(self, q: Any, batch: list) -> list:
        if self.values is None:
            pk = self.scan.table.primary_key
            return [(d.get(pk), d) for d in batch]
        out = []
        for d in batch:
            out.append((await self.values.value(q, d), d))
        return out

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while not self.done:
            batch = await self.scan.next_batch(q, hint)
            final = batch is None
            pairs = self.held + ([] if final else await self.pairs(q, batch))
            if final:
                self.done = True
            out, self.held = await self.emit(q, pairs, final)
            if out:
                return out
        return None

    def close(self) -> None:
        self.scan.close()


def _runs(pairs: list, final: bool) -> tuple[list[list], list]:
    """Split pairs into runs of equal index values; the last run is held back unless final."""
    runs: list[list] = []
    cur: list = []
    for p in pairs:
        if cur and not datum_eq(cur[0][0], p[0]):
            runs.append(cur)
            cur = []
        cur.append(p)
    if final:
        if cur:
            runs.append(cur)
        return runs, []
    return runs, cur


def sorted_runs(ords: list[tuple[KeyFn, bool]]) -> Callable:
    """``emit`` for IndexedStream: each run of equal index values sorted by ``ords``
    (RethinkDB's ``order_by(fields..., index=...)``)."""

    async def emit(q: Any, pairs: list, final: bool) -> tuple[list, list]:
        runs, held = _runs(pairs, final)
        out: list = []
        for run in runs:
            docs = [d for _, d in run]
            out.extend(await _sort(q, docs, ords) if len(docs) > 1 else docs)
        return out, held

    return emit


async def _distinct_values(q: Any, pairs: list, final: bool) -> tuple[list, list]:
    runs, held = _runs(pairs, final)
    return [run[0][0] for run in runs], held


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
            return self._indexed(q, src, await self.optargs["index"].eval(q, env), ords)
        if not ords:
            raise ReqlQueryLogicError("Must specify something to order by.")
        g = await per_group(q, src, lambda v: self._sorted(q, v, ords))
        if g is not None:
            return g
        return await self._sorted(q, src, ords)

    def _indexed(self, q: Any, src: Any, index_value: Any, ords: list) -> Any:
        if not (isinstance(src, Table) or is_table_slice(src)):
            raise ReqlQueryLogicError(INDEXED_ORDER_BY)
        index, desc = _index_name(index_value)
        scan = ordered_slice(q, src, index, desc)
        if not ords:
            return scan
        if isinstance(scan, TableScan):
            # Orderings only break ties between equal index values: none on the primary key.
            scan.slice_kind = False
            return scan
        return IndexedStream(scan, sorted_runs(ords), scan.table)

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
        if isinstance(v, Table) or is_table_slice(v):
            r = self._on_slice(q, v, index)
            if r is not None:
                return r
        if index is not None:
            raise ReqlQueryLogicError("Can only perform an indexed distinct on a TABLE.")
        g = await per_group(q, v, lambda x: self._distinct(q, x))
        if g is not None:
            return g
        return await self._distinct(q, v)

    def _on_slice(self, q: Any, v: Any, index: str | None) -> Any:
        """RethinkDB's distinct of a table slice: a stream in index order."""
        table = v if isinstance(v, Table) else v.table
        pk = table.primary_key
        if isinstance(v, Table):
            bounded_by = None
        else:
            bounded_by = slice_index(v)
        wanted = index if index is not None else pk
        if index is not None and index == pk:
            scan = v if isinstance(v, Table) else _fresh(v)

            async def key(q_: Any, doc: Any) -> Any:
                return doc[pk]

            return MapStream(to_stream(q, scan), NativeFunction(key, 1))
        if bounded_by is not None and bounded_by != wanted:
            return None
        if isinstance(v, Table):
            scan = index_scan(q, table, wanted)
        else:
            scan = _fresh(v)
        if wanted == pk:

            async def same(q_: Any, doc: Any) -> list:
                return [doc]

            return NativeStream(scan, same)  # documents are distinct by their keys
        if index is None:
            return None
        return IndexedStream(scan, _distinct_values)

    async def _distinct(self, q: Any, v: Any) -> list:
        seen: dict = {}
        items = array_items(v)
        if items is not None:
            batches: Any = [items]
        else:
            batches = None
            stream = to_stream(q, v)
            if stream.infinite:
                raise infinite_error(stream)
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


def _fresh(v: Any) -> Stream:
    """A not-yet-read copy of a table slice."""
    if isinstance(v, TableScan):
        return v.copy()
    c = copy.copy(v)
    c.last_key = None
    return c


__all__ = ["IndexedStream", "index_scan", "ordered_slice", "Ordering", "SortKey", "orderings_key", "parse_orderings", "sort_by_keys", "sorted_datums"]
