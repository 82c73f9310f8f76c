"""Sequence transformations: map, filter, concat_map, skip, limit, nth, count.

Each term works on arrays, tables, selections and streams alike. On an array the
result is an array (computed at once, within ``array_limit``); on anything else it is
a lazy stream, so nothing is read until the consumer pulls.
"""

from __future__ import annotations

from typing import Any

from ...datum.printing import format_number
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import (
    ConcatMapStream,
    FilterStream,
    LimitStream,
    MapStream,
    SkipStream,
    Stream,
    to_list,
    to_stream,
)
from ..term import Term, as_datum, as_function, as_int, register
from ..values import Function, SingleSelection


def _pattern_predicate(pattern: dict) -> Function:
    """``filter({'a': 1})``: keep objects whose fields match the pattern (recursively)."""
    from ...datum.order import datum_eq
    from ..values import NativeFunction

    def matches(x: Any, pat: Any) -> bool:
        if pat.__class__ is dict and "$reql_type$" not in pat:
            if x.__class__ is not dict:
                return False
            for k, v in pat.items():
                if k not in x or not matches(x[k], v):
                    return False
            return True
        return datum_eq(x, pat)

    async def pred(q: Any, x: Any) -> bool:
        if x.__class__ is not dict:
            return False
        return matches(x, pattern)

    return NativeFunction(pred, 1)


async def finish(q: Any, source: Any, result: Stream) -> Any:
    """Arrays in, arrays out: materialise ``result`` when the source was an array datum."""
    if source.__class__ is list:
        return await to_list(q, result)
    return result


@register(T.MAP)
class Map(Term):
    __slots__ = ()
    name = "map"
    argspec = (2, None)

    async def eval(self, q: Any, env: dict) -> Any:
        if len(self.args) > 2:
            return await self._multi_map(q, env)
        src = await self.args[0].eval(q, env)
        f = as_function(await self.args[1].eval(q, env))
        if f.arity not in (-1, 1):
            raise ReqlQueryLogicError(
                f"The function passed to `map` expects {f.arity} arguments, but 1 sequence was found."
            )
        return await finish(q, src, MapStream(to_stream(q, src), f))

    async def _multi_map(self, q: Any, env: dict) -> Any:
        srcs = [await a.eval(q, env) for a in self.args[:-1]]
        f = as_function(await self.args[-1].eval(q, env))
        n = len(srcs)
        if f.arity not in (-1, n):
            s = "s" if f.arity != 1 else ""
            raise ReqlQueryLogicError(
                f"The function passed to `map` expects {f.arity} argument{s}, but {n} sequences were found."
            )
        result = ZipMapStream([to_stream(q, s) for s in srcs], f)
        if all(s.__class__ is list for s in srcs):
            return await to_list(q, result)
        return result


class ZipMapStream(Stream):
    """``r.map(s1, s2, ..., f)``: f applied to the i-th elements; stops at the shortest."""

    __slots__ = ("srcs", "func", "bufs", "done")

    def __init__(self, srcs: list[Stream], func: Function) -> None:
        super().__init__(None)
        self.srcs = srcs
        self.func = func
        self.bufs: list[list] = [[] for _ in srcs]
        self.done = False

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return all(s.infinite for s in self.srcs)

    async def next_batch(self, q: Any, hint: int) -> list | None:
        if self.done:
            return None
        for i, s in enumerate(self.srcs):
            if not self.bufs[i]:
                b = await s.next_batch(q, hint)
                if b is None:
                    self.done = True
                    return None
                self.bufs[i] = b
        n = min(len(b) for b in self.bufs)
        rows = [b[:n] for b in self.bufs]
        self.bufs = [b[n:] for b in self.bufs]
        return [await self.func.call(q, list(args)) for args in zip(*rows)]


@register(T.FILTER)
class Filter(Term):
    __slots__ = ()
    name = "filter"
    argspec = (2, 2)
    optargspec = ("default",)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        p = await self.args[1].eval(q, env)
        if isinstance(p, Function):
            pred = p
        else:
            p = as_datum(p)
            pred = _pattern_predicate(p) if p.__class__ is dict else as_function(p)
        if "default" in self.optargs:
            default = await self.optargs["default"].eval(q, env)
            stream = FilterStream(to_stream(q, src), pred, default)
        else:
            stream = FilterStream(to_stream(q, src), pred)
        return await finish(q, src, stream)


@register(T.CONCAT_MAP)
class ConcatMap(Term):
    __slots__ = ()
    name = "concat_map"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        f = as_function(await self.args[1].eval(q, env))
        return await finish(q, src, ConcatMapStream(to_stream(q, src), f))


@register(T.SKIP)
class Skip(Term):
    __slots__ = ()
    name = "skip"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        n = as_int(await self.args[1].eval(q, env))
        if n < 0:
            raise ReqlQueryLogicError(f"Cannot use a negative left index on a stream.")
        if src.__class__ is list:
            return src[n:]
        return SkipStream(to_stream(q, src), n)


@register(T.LIMIT)
class Limit(Term):
    __slots__ = ()
    name = "limit"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        n = as_int(await self.args[1].eval(q, env))
        if n < 0:
            raise ReqlQueryLogicError(f"LIMIT takes a non-negative argument (got {n})")
        if src.__class__ is list:
            return src[:n]
        return LimitStream(to_stream(q, src), n)


async def nth_of(q: Any, value: Any, index: Any, term: Term) -> Any:
    if index.__class__ is float and not index.is_integer():
        raise ReqlQueryLogicError(f"Number not an integer: {format_number(index)}")
    i = int(index)
    if value.__class__ is list:
        try:
            if i < -len(value):
                raise IndexError
            return value[i]
        except IndexError:
            raise ReqlNonExistenceError(f"Index out of bounds: {i}") from None
    stream = to_stream(q, value)
    table = stream.table
    if i < 0:
        items = await to_list(q, stream)
        if i < -len(items):
            raise ReqlNonExistenceError(f"Index out of bounds: {i}")
        doc = items[i]
    else:
        seen = 0
        doc = _MISSING
        while True:
            batch = await stream.next_batch(q, i - seen + 1)
            if batch is None:
                break
            if seen + len(batch) > i:
                doc = batch[i - seen]
                break
            seen += len(batch)
        stream.close()
        if doc is _MISSING:
            raise ReqlNonExistenceError(f"Index out of bounds: {i}")
    if table is not None and doc.__class__ is dict:
        return SingleSelection(table, doc.get(table.primary_key), doc)
    return doc


_MISSING = object()


@register(T.NTH)
class Nth(Term):
    __slots__ = ()
    name = "nth"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        index = as_datum(await self.args[1].eval(q, env))
        if index.__class__ not in (int, float):
            from ..term import type_error

            raise type_error("NUMBER", index)
        return await nth_of(q, value, index, self)


@register(T.COUNT)
class Count(Term):
    __slots__ = ()
    name = "count"
    argspec = (1, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        if len(self.args) == 2:
            p = await self.args[1].eval(q, env)
            if isinstance(p, Function):
                pred = p
            else:
                from ...datum.order import datum_eq
                from ..values import NativeFunction

                target = as_datum(p)

                async def eq(q_: Any, x: Any) -> bool:
                    return datum_eq(x, target)

                pred = NativeFunction(eq, 1)
            src = FilterStream(to_stream(q, src), pred)
        else:
            v = src
            if v.__class__ is str:
                return len(v)
            if v.__class__ is dict and v.get("$reql_type$") == "BINARY":
                import base64

                return len(base64.b64decode(v["data"]))
            if v.__class__ is dict:
                return len(v)
            if isinstance(v, SingleSelection):
                return len(v.doc) if isinstance(v.doc, dict) else 0
            if v.__class__ is list:
                return len(v)
            kind = getattr(v.__class__, "kind", None)
            if kind == "TABLE":
                return q.catalog.doc_count(v.config)
        stream = to_stream(q, src)
        if stream.infinite:
            raise ReqlQueryLogicError(
                "Cannot use an infinite stream with an aggregation function (`reduce`, `count`, etc.) "
                "or coerce it to an array."
            )
        n = 0
        while True:
            batch = await stream.next_batch(q, 1000)
            if batch is None:
                return n
            n += len(batch)
