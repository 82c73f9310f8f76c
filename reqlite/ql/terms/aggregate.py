"""Aggregation: count, sum, avg, min, max, reduce, fold, group and ungroup.

The terminals (count, sum, avg, min, max, reduce) consume their sequence batch by batch
and hold only their accumulator, never the sequence. On a grouped stream they run once
per group and give GROUPED_DATA (in ReQL order of the group keys); a group appears only
if at least one of its elements was accumulated (``sum('x')`` skips elements without
``x``, so a group where none has it is dropped, as in RethinkDB). On grouped data (an
array per group) they run on each group's value.

``sum``/``avg``/``min``/``max`` take a field name or a function; elements where it fails
with a non-existence error are skipped. On an empty sequence ``avg``, ``min``, ``max``
and ``reduce`` fail with RethinkDB's non-existence errors (so ``default`` catches them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import product
from typing import Any

from ...datum.order import compare, hashable
from ...datum.types import num
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError, ReqlResourceLimitError
from ...wire.ql2 import TermType as T
from ..streams import (
    DEFAULT_HINT,
    FilterStream,
    GroupedStream,
    Stream,
    TableScan,
    array_items,
    infinite_error,
    sequence_error,
    sorted_grouped,
    to_stream,
)
from ..term import Term, as_datum, as_function, as_number, as_string, register, type_error
from ..values import Function, GroupedData, SingleSelection, Table
from .seq import (
    eq_predicate,
    field_getter,
    filter_predicate,
    finish,
    group_value,
    per_group,
    seq_source,
    val_type_error,
)
from .sort import IndexedStream, index_scan

Getter = Callable[[Any, Any], Awaitable[Any]]


# -- accumulators ------------------------------------------------------------------------


class Acc:
    """One group's accumulator: ``add`` returns whether the element was accumulated."""

    __slots__ = ()

    async def add(self, q: Any, x: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class CountAcc(Acc):
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    async def add(self, q: Any, x: Any) -> bool:
        self.n += 1
        return True

    def result(self) -> Any:
        return self.n


class _SkipAcc(Acc):
    """Accumulates ``f(x)``, skipping elements where it raises a non-existence error."""

    __slots__ = ("f",)

    def __init__(self, f: Getter | None) -> None:
        self.f = f

    async def value(self, q: Any, x: Any) -> Any:
        return x if self.f is None else as_datum(await self.f(q, x))


class SumAcc(_SkipAcc):
    __slots__ = ("total",)

    def __init__(self, f: Getter | None) -> None:
        super().__init__(f)
        self.total = 0.0

    async def add(self, q: Any, x: Any) -> bool:
        try:
            self.total += as_number(await self.value(q, x))
        except ReqlNonExistenceError:
            return False
        return True

    def result(self) -> Any:
        return num(self.total)


class AvgAcc(_SkipAcc):
    __slots__ = ("total", "n")

    def __init__(self, f: Getter | None) -> None:
        super().__init__(f)
        self.total = 0.0
        self.n = 0

    async def add(self, q: Any, x: Any) -> bool:
        try:
            self.total += as_number(await self.value(q, x))
        except ReqlNonExistenceError:
            return False
        self.n += 1
        return True

    def result(self) -> Any:
        if not self.n:
            raise ReqlNonExistenceError(
                "Cannot take the average of an empty stream.  (If you passed `avg` a field "
                "name, it may be that no elements of the stream had that field.)"
            )
        return num(self.total / self.n)


class OptAcc(_SkipAcc):
    """``min``/``max``: the element whose value is best (the first of equals)."""

    __slots__ = ("which", "sign", "row", "best")

    def __init__(self, f: Getter | None, which: str) -> None:
        super().__init__(f)
        self.which = which
        self.sign = -1 if which == "min" else 1
        self.row: Any = _NONE
        self.best: Any = None

    async def add(self, q: Any, x: Any) -> bool:
        try:
            v = await self.value(q, x)
        except ReqlNonExistenceError:
            return False
        if self.row is _NONE or compare(v, self.best) * self.sign > 0:
            self.row = x
            self.best = v
        return True

    def result(self) -> Any:
        if self.row is _NONE:
            w = self.which
            raise ReqlNonExistenceError(
                f"Cannot take the {w} of an empty stream.  (If you passed `{w}` a field name, "
                "it may be that no elements of the stream had that field.)"
            )
        return self.row


class ReduceAcc(Acc):
    __slots__ = ("f", "acc")

    def __init__(self, f: Function) -> None:
        self.f = f
        self.acc: Any = _NONE

    async def add(self, q: Any, x: Any) -> bool:
        if self.acc is _NONE:
            self.acc = x
        else:
            self.acc = as_datum(await self.f.call(q, [self.acc, x]))
        return True

    def result(self) -> Any:
        if self.acc is _NONE:
            raise ReqlNonExistenceError("Cannot reduce over an empty stream.")
        return self.acc


_NONE = object()


# -- running a terminal ----------------------------------------------------------------------


async def _drain(q: Any, stream: Stream, acc: Acc) -> Any:
    if stream.infinite:
        raise infinite_error(stream)
    add = acc.add
    while True:
        batch = await stream.next_batch(q, DEFAULT_HINT)
        if batch is None:
            return acc.result()
        for i, x in enumerate(batch):
            await add(q, x)
            if i % 256 == 255:
                await q.checkpoint()


async def grouped_terminal(q: Any, gs: GroupedStream, make: Callable[[], Acc]) -> GroupedData:
    """Run an accumulator per group of a grouped stream."""
    if gs.infinite:
        raise infinite_error(gs)
    groups: dict = {}
    limit = q.array_limit
    if make is CountAcc:  # counting needs no accumulator objects
        counts: dict = {}
        while True:
            pairs = await gs.next_pairs(q, DEFAULT_HINT)
            if pairs is None:
                break
            for k, _ in pairs:
                h = hashable(k)
                c = counts.get(h)
                if c is None:
                    counts[h] = [k, 1]
                    if len(counts) > limit:
                        raise ReqlResourceLimitError(f"Too many groups (> {limit}).")
                else:
                    c[1] += 1
        return sorted_grouped({h: (k, n) for h, (k, n) in counts.items()})
    while True:
        pairs = await gs.next_pairs(q, DEFAULT_HINT)
        if pairs is None:
            break
        for k, x in pairs:
            h = hashable(k)
            g = groups.get(h)
            if g is not None:
                await g[1].add(q, x)
                continue
            acc = make()
            if await acc.add(q, x):
                groups[h] = (k, acc)
                if len(groups) > limit:
                    raise ReqlResourceLimitError(f"Too many groups (> {limit}).")
    return sorted_grouped({h: (k, acc.result()) for h, (k, acc) in groups.items()})


async def run_terminal(q: Any, v: Any, make: Callable[[], Acc]) -> Any:
    """The accumulator's result over ``v``: per group on grouped streams and data."""
    if isinstance(v, GroupedStream):
        return await grouped_terminal(q, v, make)
    if v.__class__ is GroupedData:
        out = {}
        for h, (k, value) in v.groups.items():
            out[h] = (k, await run_terminal(q, value, make))
        return GroupedData(out)
    items = array_items(v)
    if items is not None:
        acc = make()
        for i, x in enumerate(items):
            await acc.add(q, x)
            if i % 256 == 255:
                await q.checkpoint()
        return acc.result()
    return await _drain(q, to_stream(q, v), make())


# -- count -----------------------------------------------------------------------------------


def _count_datum(v: Any) -> int | None:
    """``count`` of a string, binary value or object (None for anything else)."""
    d = v.doc if v.__class__ is SingleSelection else v
    cls = d.__class__
    if cls is str:
        return len(d)
    if cls is dict:
        if d.get("$reql_type$") == "BINARY":
            from ...datum.binary import binary_bytes

            return len(binary_bytes(d))
        return len(d)
    return None


@register(T.COUNT)
class Count(Term):
    __slots__ = ()
    name = "count"
    argspec = (1, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        if len(self.args) == 1:
            if v.__class__ is Table:
                return q.catalog.doc_count(v.config)
            if getattr(v.__class__, "kind", None) in (None, "SINGLE_SELECTION"):
                n = _count_datum(v)
                if n is not None:
                    return n
            items = array_items(v)
            if items is not None:
                return len(items)
            return await run_terminal(q, v, CountAcc)
        p = await self.args[1].eval(q, env)
        pred = filter_predicate(p) if isinstance(p, Function) else eq_predicate(as_datum(p))

        async def keep(q_: Any, x: Any) -> list:
            return [x] if await pred(q_, x) else []

        if isinstance(v, GroupedStream):
            return await grouped_terminal(q, v.transform(keep), CountAcc)
        g = await per_group(q, v, lambda x: count_where(q, x, pred))
        if g is not None:
            return g
        return await count_where(q, v, pred)


async def count_where(q: Any, v: Any, pred: Callable[[Any, Any], Awaitable[bool]]) -> int:
    items = array_items(v)
    if items is not None:
        n = 0
        for i, x in enumerate(items):
            if await pred(q, x):
                n += 1
            if i % 256 == 255:
                await q.checkpoint()
        return n
    return await _drain(q, FilterStream(to_stream(q, v), pred), CountAcc())


# -- sum, avg, min, max --------------------------------------------------------------------


class _MapAcc(Term):
    """Shared shape of sum/avg/min/max: an optional field or function, and ``index``."""

    __slots__ = ()
    argspec = (1, 2)
    optargspec = ("index",)
    indexable = False

    def make(self, f: Getter | None) -> Callable[[], Acc]:  # pragma: no cover - abstract
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        f = None
        if len(self.args) == 2:
            f = field_getter(await self.args[1].eval(q, env), self.args[1].bt)
        index = None
        if "index" in self.optargs:
            index = await self.optargs["index"].eval(q, env)
        if f is None and index is None:
            if self.indexable and v.__class__ is Table:
                return await self.on_index(q, v, None)
            return await run_terminal(q, v, self.make(None))
        if index is None:
            return await run_terminal(q, v, self.make(f))
        if f is None:
            if not isinstance(v, Table):
                raise val_type_error("TABLE", v)
            return await self.on_index(q, v, as_string(index))
        raise ReqlQueryLogicError(f"Cannot provide both a function and an index to {self.name}.")

    async def on_index(self, q: Any, table: Table, index: str | None) -> Any:
        raise ReqlQueryLogicError(f"Cannot call {self.name} on an index.")


@register(T.SUM)
class Sum(_MapAcc):
    __slots__ = ()
    name = "sum"

    def make(self, f: Getter | None) -> Callable[[], Acc]:
        return lambda: SumAcc(f)


@register(T.AVG)
class Avg(_MapAcc):
    __slots__ = ()
    name = "avg"

    def make(self, f: Getter | None) -> Callable[[], Acc]:
        return lambda: AvgAcc(f)


class _Extremum(_MapAcc):
    __slots__ = ()
    indexable = True

    def make(self, f: Getter | None) -> Callable[[], Acc]:
        return lambda: OptAcc(f, self.name)

    async def on_index(self, q: Any, table: Table, index: str | None) -> Any:
        """The first (min) or last (max) document in index order: a single selection."""
        scan = index_scan(q, table, index if index is not None else table.primary_key, self.name == "max")
        batch = await scan.next_batch(q, 1)
        scan.close()
        if not batch:
            raise ReqlNonExistenceError(f"`{self.name}` found no entries in the specified index.")
        doc = batch[0]
        return SingleSelection(table, doc.get(table.primary_key), doc)


@register(T.MIN)
class Min(_Extremum):
    __slots__ = ()
    name = "min"


@register(T.MAX)
class Max(_Extremum):
    __slots__ = ()
    name = "max"


# -- reduce, fold ------------------------------------------------------------------------------


@register(T.REDUCE)
class Reduce(Term):
    __slots__ = ()
    name = "reduce"
    argspec = (2, 2)
    optargspec = ("base",)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        f = as_function(await self.args[1].eval(q, env), shortcut=False)
        return await run_terminal(q, v, lambda: ReduceAcc(f))


def _emitted(v: Any) -> list:
    d = as_datum(v)
    if d.__class__ is not list:
        raise type_error("ARRAY", d)
    return d


class FoldStream(Stream):
    """``fold`` with ``emit``: what ``emit(old, row, new)`` returns for each row, then
    ``final_emit(acc)`` at the end."""

    __slots__ = ("src", "acc", "func", "emit", "final", "done")

    def __init__(self, src: Stream, base: Any, func: Function, emit: Function, final: Function | None) -> None:
        super().__init__(None)
        self.src = src
        self.acc = base
        self.func = func
        self.emit = emit
        self.final = final
        self.done = False

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while not self.done:
            batch = await self.src.next_batch(q, hint)
            out: list = []
            if batch is None:
                self.done = True
                if self.final is not None:
                    out.extend(_emitted(await self.final.call(q, [self.acc])))
            else:
                for i, row in enumerate(batch):
                    old = self.acc
                    self.acc = as_datum(await self.func.call(q, [old, row]))
                    out.extend(_emitted(await self.emit.call(q, [old, row, self.acc])))
                    if i % 64 == 63:
                        await q.checkpoint()
            if out:
                return out
        return None

    def close(self) -> None:
        self.src.close()


async def fold(q: Any, v: Any, base: Any, f: Function, emit: Function | None, final: Function | None) -> Any:
    if emit is not None:
        return await finish(q, v, FoldStream(seq_source(q, v), base, f, emit, final))
    items = array_items(v)
    stream = None if items is not None else to_stream(q, v)
    if stream is not None and stream.infinite:
        raise infinite_error(stream)
    acc = base
    while True:
        if items is not None:
            batch, items = items, None
        elif stream is not None:
            batch = await stream.next_batch(q, DEFAULT_HINT)
        else:
            batch = None
        if batch is None:
            break
        for i, row in enumerate(batch):
            acc = as_datum(await f.call(q, [acc, row]))
            if i % 256 == 255:
                await q.checkpoint()
        if stream is None:
            break
    if final is not None:
        return as_datum(await final.call(q, [acc]))
    return acc


@register(T.FOLD)
class Fold(Term):
    __slots__ = ()
    name = "fold"
    argspec = (3, 3)
    optargspec = ("emit", "final_emit")

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        base = as_datum(await self.args[1].eval(q, env))
        f = as_function(await self.args[2].eval(q, env), shortcut=False)
        emit = final = None
        if "emit" in self.optargs:
            emit = as_function(await self.optargs["emit"].eval(q, env), shortcut=False)
        if "final_emit" in self.optargs:
            final = as_function(await self.optargs["final_emit"].eval(q, env), shortcut=False)
        if v.__class__ is GroupedData or isinstance(v, GroupedStream):
            return await per_group(q, v, lambda x: fold(q, x, base, f, emit, final))
        return await fold(q, v, base, f, emit, final)


# -- group, ungroup ------------------------------------------------------------------------------


def _group_keys(getters: list[Getter], multi: bool, indexed: bool = False) -> Callable[[Any, Any], Awaitable[list]]:
    single = len(getters) + indexed == 1

    async def keys(q: Any, x: Any) -> list:
        vals = []
        if indexed:
            iv, x = x
        for g in getters:
            try:
                vals.append(as_datum(await g(q, x)))
            except ReqlNonExistenceError:
                vals.append(None)
        if indexed:
            vals.append(iv)
        if not multi:
            return [vals[0] if single else vals]
        choices = [(v if v else [None]) if v.__class__ is list else [v] for v in vals]
        if single:
            return choices[0]
        return [list(c) for c in product(*choices)]

    return keys


@register(T.GROUP)
class Group(Term):
    __slots__ = ()
    name = "group"
    argspec = (1, None)
    optargspec = ("index", "multi")

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        specs = [await a.eval(q, env) for a in self.args[1:]]
        getters = [field_getter(spec, a.bt) for spec, a in zip(specs, self.args[1:], strict=True)]
        indexed = False
        if "index" in self.optargs:
            index = as_string(await self.optargs["index"].eval(q, env))
            if not isinstance(v, Table):
                raise val_type_error("TABLE", v)
            if index == v.primary_key:
                getters.append(field_getter(v.primary_key, self.bt))
                stream: Stream = TableScan(q.store, v)
            else:
                # grouped by the index value itself (each value of a multi index)
                stream = IndexedStream(index_scan(q, v, index), _as_pairs)
                indexed = True
        else:
            if v.__class__ is GroupedData or isinstance(v, GroupedStream):
                raise sequence_error(v)
            stream = seq_source(q, v)
        if not getters and not indexed:
            raise ReqlQueryLogicError("Cannot group by nothing.")
        multi = False
        if "multi" in self.optargs:
            from ..term import as_bool

            multi = as_bool(await self.optargs["multi"].eval(q, env))
        keys = _group_keys(getters, multi, indexed)
        if len(getters) == 1 and len(specs) == 1 and specs[0].__class__ is str and not multi and not indexed:
            keys = _field_keys(specs[0], keys)
        return GroupedStream(stream, keys, indexed=indexed)


def _field_keys(field: str, general: Callable[[Any, Any], Awaitable[list]]) -> Callable[[Any, Any], Awaitable[list]]:
    """``group('field')`` on plain objects: the field's value, null when missing."""

    async def keys(q: Any, x: Any) -> list:
        if x.__class__ is dict and "$reql_type$" not in x:
            return [x.get(field)]
        return await general(q, x)

    return keys


async def _as_pairs(q: Any, pairs: list, final: bool) -> tuple[list, list]:
    return pairs, []


@register(T.UNGROUP)
class Ungroup(Term):
    __slots__ = ()
    name = "ungroup"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        if isinstance(v, GroupedStream):
            v = await v.materialize(q)
        if v.__class__ is not GroupedData:
            raise val_type_error("GROUPED_DATA", v)
        return [{"group": k, "reduction": group_value(val)} for k, val in v.groups.values()]


__all__ = ["Acc", "CountAcc", "count_where", "fold", "grouped_terminal", "run_terminal"]
