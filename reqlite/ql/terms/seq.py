"""Sequence transformations: map, filter, concat_map, skip, limit, slice, nth, is_empty,
union, offsets_of, contains, sample and ``r.range``.

Each term works on arrays, tables, selections and streams alike. On an array the result
is an array (computed at once, within ``array_limit``: RethinkDB's "arrays in disguise");
on anything else it is a lazy stream, so nothing is read until the consumer pulls.
Selections stay selections through ``filter``, ``skip``, ``limit`` and ``slice`` (so
writes can follow them), and ``nth`` of a selection is a single, writable document.

On grouped data the operation applies to every group; ``map``, ``filter`` and
``concat_map`` on a grouped stream apply lazily to every element of every group.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ...datum.binary import binary_bytes, make_binary
from ...datum.order import datum_eq
from ...datum.types import REQL_TYPE, type_name
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import (
    INFINITE_MESSAGE,
    ArrayStream,
    ConcatMapStream,
    ConcatStream,
    FilterStream,
    GroupedStream,
    MapStream,
    NativeStream,
    RangeStream,
    SliceStream,
    Stream,
    array_items,
    check_array_limit,
    fast_call1,
    sequence_error,
    to_list,
    to_stream,
)
from ..term import (
    REGISTRY,
    DatumTerm,
    Term,
    as_datum,
    as_function,
    as_int,
    as_string,
    register,
    truthy,
    type_error,
)
from ..values import ConstFunction, Function, GroupedData, NativeFunction, SingleSelection

Pred = Callable[[Any, Any], Awaitable[bool]]


# -- shared helpers -------------------------------------------------------------------


def seq_source(q: Any, value: Any) -> Stream:
    """A stream over a sequence value without consuming it when it is an array in disguise."""
    if value.__class__ is ArrayStream and value.is_array:
        return ArrayStream(value.remaining(), value.table, True)
    return to_stream(q, value)


def is_arrayish(value: Any) -> bool:
    """An array datum or an array in disguise: operations on it compute arrays at once."""
    return value.__class__ is list or (value.__class__ is ArrayStream and value.is_array)


async def finish(q: Any, source: Any, result: Stream) -> Any:
    """Arrays in, arrays out: materialise ``result`` when the source was an array.

    A selection of an array (``order_by`` on a table) stays a selection of an array.
    """
    if is_arrayish(source):
        items = await to_list(q, result)
        if result.table is not None:
            return ArrayStream(items, result.table, True)
        return items
    return result


def group_value(v: Any) -> Any:
    """A per-group result as the datum stored in GroupedData."""
    items = array_items(v)
    if items is not None:
        return items
    return as_datum(v)


async def per_group(q: Any, v0: Any, fn: Callable[[Any], Awaitable[Any]]) -> GroupedData | None:
    """``fn`` applied to every group when ``v0`` is grouped (grouped streams are
    materialised first, as RethinkDB does for operations that are not grouped-aware);
    None when ``v0`` is not grouped."""
    if isinstance(v0, GroupedStream):
        v0 = await v0.materialize(q)
    if v0.__class__ is not GroupedData:
        return None
    out = {}
    for h, (key, value) in v0.groups.items():
        out[h] = (key, group_value(await fn(value)))
    return GroupedData(out)


def field_function(value: Any, bt: tuple, tt: int = T.BRACKET) -> Function:
    """RethinkDB's GET_FIELD_SHORTCUT: ``r.row[value]`` as a one-argument function."""
    var = -1
    var_term = REGISTRY[T.VAR]([DatumTerm(var, bt)], {}, bt)
    body = REGISTRY[tt]([var_term, DatumTerm(value, bt)], {}, bt)
    return Function([var], body, {})


def field_or_function(value: Any, bt: tuple) -> Function:
    """A function argument, or a datum standing for ``r.row[datum]``."""
    if isinstance(value, Function):
        return value
    return field_function(as_datum(value), bt)


def field_getter(spec: Any, bt: tuple) -> Callable[[Any, Any], Awaitable[Any]]:
    """``fn(q, x)`` for a GET_FIELD_SHORTCUT argument: the function called, or the field
    of a plain object read directly (anything else goes through ``r.row[field]``, which
    raises RethinkDB's errors; a missing field is a non-existence error)."""
    if isinstance(spec, Function):
        return fast_call1(spec)
    field = as_datum(spec)
    slow = field_function(field, bt).call1
    if field.__class__ is not str:
        return slow

    from .obj import get_field

    async def get(q: Any, x: Any) -> Any:
        if x.__class__ is dict and REQL_TYPE not in x:
            return get_field(x, field)
        return await slow(q, x)

    return get


def val_type_error(expected: str, value: Any) -> ReqlQueryLogicError:
    """RethinkDB's error when a value is not of a non-datum type it must be (TABLE,
    TABLE_SLICE, GROUPED_DATA...): a datum shows as "DATUM:" and its printed value."""
    from ...datum.printing import print_datum

    kind = getattr(value.__class__, "kind", None)
    if kind is None:
        return ReqlQueryLogicError(f"Expected type {expected} but found DATUM:\n{print_datum(value)}")
    return type_error(expected, value)


def filter_match(pattern: dict, value: Any) -> bool:
    """RethinkDB's ``filter_match``: does ``value`` match the object ``pattern``?

    Every field of the pattern must be present (else a non-existence error, which
    ``filter`` turns into its default) and equal; nested objects match recursively;
    ``r.literal(x)`` requires exactly x.
    """
    if pattern.get(REQL_TYPE) == "LITERAL":
        return "value" in pattern and datum_eq(pattern["value"], value)
    if value.__class__ is not dict:
        raise type_error("OBJECT", value)
    for k, v in pattern.items():
        if k not in value:
            raise ReqlNonExistenceError(f"No attribute `{k}` in object.")
        elt = value[k]
        if v.__class__ is dict and elt.__class__ is dict:
            if not filter_match(v, elt):
                return False
        elif not datum_eq(elt, v):
            return False
    return True


def _is_pattern_function(f: Function) -> bool:
    """Whether an object returned by ``f`` is a pattern (RethinkDB: the function's body
    is an object literal, or ``f`` is a datum used as a constant function)."""
    if f.__class__ is ConstFunction:
        return True
    body = f.body
    return body is not None and (body.__class__ is DatumTerm or getattr(body, "tt", None) == T.MAKE_OBJ)


def filter_predicate(f: Function, default: Term | None = None, env: dict | None = None) -> Pred:
    """RethinkDB's ``filter_call``: ``f``'s result by truthiness, objects from object
    literals as patterns; a non-existence error counts as false, or as the ``default``
    optarg's value (evaluated lazily; ``r.error()`` there re-raises the error)."""
    call = fast_call1(f)
    pattern = _is_pattern_function(f)

    async def pred(q: Any, x: Any) -> bool:
        try:
            d = await call(q, x)
            if pattern and d.__class__ is dict:
                return filter_match(d, x)
            d = as_datum(d)
            return not (d is None or d is False)
        except ReqlNonExistenceError as exc:
            if default is None:
                return False
            from .control import filter_default

            return await filter_default(q, env or {}, default, exc)

    return pred


def eq_predicate(target: Any) -> Pred:
    async def pred(q: Any, x: Any) -> bool:
        return datum_eq(x, target)

    return pred


def _each(fn: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[list]]:
    async def each(q: Any, x: Any) -> list:
        return [as_datum(await fn(q, x))]

    return each


def _keep(pred: Pred) -> Callable[[Any, Any], Awaitable[list]]:
    async def each(q: Any, x: Any) -> list:
        return [x] if await pred(q, x) else []

    return each


def _spread(f: Function) -> Callable[[Any, Any], Awaitable[list]]:
    async def each(q: Any, x: Any) -> list:
        v = await f.call1(q, x)
        items = array_items(v)
        if items is not None:
            return list(items)
        if isinstance(v, Stream) or getattr(v.__class__, "kind", None) == "TABLE":
            return await to_list(q, to_stream(q, v))
        raise sequence_error(v)

    return each


# -- map, filter, concat_map -----------------------------------------------------------


@register(T.MAP)
class Map(Term):
    __slots__ = ()
    name = "map"
    argspec = (2, None)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        if len(self.args) > 2:
            return await self._multi_map(q, env, src)
        fv = await self.args[1].eval(q, env)
        g = await self._grouped(q, src, fv)
        if g is not None:
            return g
        f = as_function(fv, shortcut=False)
        self._check_arity(f, 1)
        stream = seq_source(q, src)
        if isinstance(stream, GroupedStream):
            return stream.transform(_each(f.call1))
        return await finish(q, src, MapStream(stream, f))

    async def _grouped(self, q: Any, src: Any, fv: Any) -> Any:
        if src.__class__ is not GroupedData:
            return None
        f = as_function(fv, shortcut=False)
        self._check_arity(f, 1)
        return await per_group(q, src, lambda v: finish(q, v, MapStream(seq_source(q, v), f)))

    def _check_arity(self, f: Function, n: int) -> None:
        arity = f.arity
        if arity in (-1, 0, n):
            return
        s = "" if arity == 1 else "s"
        found = "1 sequence was found" if n == 1 else f"{n} sequences were found"
        raise ReqlQueryLogicError(f"The function passed to `map` expects {arity} argument{s}, but {found}.")

    async def _multi_map(self, q: Any, env: dict, first: Any) -> Any:
        srcs = [first] + [await a.eval(q, env) for a in self.args[1:-1]]
        streams = [seq_source(q, s) for s in srcs]
        f = as_function(await self.args[-1].eval(q, env), shortcut=False)
        self._check_arity(f, len(srcs))
        result = ZipMapStream(streams, f)
        if all(is_arrayish(s) for s in srcs):
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
                    for other in self.srcs:
                        other.close()
                    return None
                self.bufs[i] = b
        n = min(len(b) for b in self.bufs)
        rows = [b[:n] for b in self.bufs]
        self.bufs = [b[n:] for b in self.bufs]
        out = []
        for i, args in enumerate(zip(*rows, strict=True)):
            out.append(as_datum(await self.func.call(q, list(args))))
            if i % 64 == 63:
                await q.checkpoint()
        return out

    def close(self) -> None:
        self.done = True
        for s in self.srcs:
            s.close()


@register(T.FILTER)
class Filter(Term):
    __slots__ = ()
    name = "filter"
    argspec = (2, 2)
    optargspec = ("default",)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        p = await self.args[1].eval(q, env)
        pred = filter_predicate(as_function(p), self.optargs.get("default"), env)
        if src.__class__ is GroupedData:
            return await per_group(q, src, lambda v: finish(q, v, FilterStream(seq_source(q, v), pred)))
        stream = seq_source(q, src)
        if isinstance(stream, GroupedStream):
            return stream.transform(_keep(pred))
        return await finish(q, src, FilterStream(stream, pred))


@register(T.CONCAT_MAP)
class ConcatMap(Term):
    __slots__ = ()
    name = "concat_map"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        src = await self.args[0].eval(q, env)
        f = as_function(await self.args[1].eval(q, env), shortcut=False)
        if src.__class__ is GroupedData:
            return await per_group(q, src, lambda v: finish(q, v, ConcatMapStream(seq_source(q, v), f)))
        stream = seq_source(q, src)
        if isinstance(stream, GroupedStream):
            return stream.transform(_spread(f))
        return await finish(q, src, ConcatMapStream(stream, f))


# -- skip, limit, slice ------------------------------------------------------------------


def _canonical(index: int, size: int) -> tuple[int, bool]:
    """RethinkDB's ``canonicalize``: a negative index from the end; (index, out of bounds)."""
    if index >= 0:
        return index, False
    if -index > size:
        return 0, True
    return size + index, False


def _slice_bounds(size: int, left_open: bool, lo: int, right_open: bool, hi: int) -> tuple[int, int]:
    real_l, oob = _canonical(lo, size)
    if left_open and not oob:
        real_l += 1
    real_r, oob = _canonical(hi, size)
    if not right_open and not oob:
        real_r += 1
    return real_l, min(real_r, size)


async def slice_value(
    q: Any, v: Any, left_open: bool, lo: int, right_open: bool, hi: int
) -> Any:
    """``slice`` of an evaluated value (array, string, binary, stream or selection)."""
    items = array_items(v)
    if items is not None:
        a, b = _slice_bounds(len(items), left_open, lo, right_open, hi)
        out = items[a:b] if a < b else []
        check_array_limit(q, len(out))
        if v.__class__ is ArrayStream and v.table is not None:
            return ArrayStream(out, v.table, True)
        return out
    kind = getattr(v.__class__, "kind", None)
    if kind is None or kind == "SINGLE_SELECTION":
        d = as_datum(v)
        if d.__class__ is str:
            a, b = _slice_bounds(len(d), left_open, lo, right_open, hi)
            return d[a:b] if a < b else ""
        if d.__class__ is dict and d.get(REQL_TYPE) == "BINARY":
            data = binary_bytes(d)
            a, b = _slice_bounds(len(data), left_open, lo, right_open, hi)
            return make_binary(data[a:b] if a < b else b"")
        msg = f"Expected ARRAY, BINARY, or STRING, but found {type_name(d)}."
        raise ReqlNonExistenceError(msg) if d is None else ReqlQueryLogicError(msg)
    if kind != "SEQUENCE" and kind != "TABLE":
        raise ReqlQueryLogicError("Cannot slice non-sequences.")
    stream = to_stream(q, v)
    if lo < 0:
        raise ReqlQueryLogicError("Cannot use a negative left index on a stream.")
    start = lo + 1 if left_open else lo
    if hi < -1:
        raise ReqlQueryLogicError("Cannot use a right index < -1 on a stream.")
    if hi == -1:
        if right_open:
            raise ReqlQueryLogicError("Cannot slice to an open right index of -1 on a stream.")
        stop = None
    else:
        stop = hi if right_open else hi + 1
    return SliceStream(stream, start, stop)


async def _bound_opt(term: Term, q: Any, env: dict, which: str, default: str) -> bool:
    """Whether the ``left_bound``/``right_bound`` optarg says "open"."""
    from .slices import _bound

    return not _bound(as_string(await term.opt(which, q, env, default)), which)


@register(T.SLICE)
class Slice(Term):
    __slots__ = ()
    name = "slice"
    argspec = (2, 3)
    optargspec = ("left_bound", "right_bound")

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        left_open = await _bound_opt(self, q, env, "left_bound", "closed")
        lo = as_int(await self.args[1].eval(q, env))
        if len(self.args) == 3:
            right_open = await _bound_opt(self, q, env, "right_bound", "open")
            hi = as_int(await self.args[2].eval(q, env))
        else:
            right_open, hi = False, -1
        g = await per_group(q, v, lambda x: slice_value(q, x, left_open, lo, right_open, hi))
        if g is not None:
            return g
        return await slice_value(q, v, left_open, lo, right_open, hi)


@register(T.SKIP)
class Skip(Term):
    """``skip(n)``: RethinkDB's rewrite ``slice(n, -1, right_bound='closed')``."""

    __slots__ = ()
    name = "skip"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        n = as_int(await self.args[1].eval(q, env))
        g = await per_group(q, v, lambda x: slice_value(q, x, False, n, False, -1))
        if g is not None:
            return g
        return await slice_value(q, v, False, n, False, -1)


async def limit_value(q: Any, v: Any, n: int) -> Any:
    items = array_items(v)
    if items is not None:
        if v.__class__ is ArrayStream and v.table is not None:
            return ArrayStream(items[:n], v.table, True)
        return items[:n]
    return SliceStream(to_stream(q, v), 0, n)


@register(T.LIMIT)
class Limit(Term):
    __slots__ = ()
    name = "limit"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        if not (v.__class__ is GroupedData or isinstance(v, Stream) or array_items(v) is not None):
            to_stream(q, v)  # RethinkDB's sequence error comes first
        n = as_int(await self.args[1].eval(q, env))
        if n < 0:
            raise ReqlQueryLogicError(f"LIMIT takes a non-negative argument (got {n})")
        g = await per_group(q, v, lambda x: limit_value(q, x, n))
        if g is not None:
            return g
        return await limit_value(q, v, n)


# -- nth, is_empty ---------------------------------------------------------------------


_MISSING = object()


def _selected(table: Any, doc: Any) -> Any:
    if table is not None and doc.__class__ is dict:
        return SingleSelection(table, doc.get(table.primary_key), doc)
    return doc


async def nth_of(q: Any, value: Any, index: Any, term: Term | None = None) -> Any:
    """``nth`` (and ``bracket`` with a number): an element of an array, stream or
    selection (then a single, writable selection); per group on grouped data."""
    n = as_int(index)
    g = await per_group(q, value, lambda v: nth_of(q, v, n, term))
    if g is not None:
        return g
    table = getattr(value, "table", None) if isinstance(value, Stream) else None
    items = array_items(value)
    if items is not None and table is None:
        i, oob = _canonical(n, len(items))
        if oob or i >= len(items):
            raise ReqlNonExistenceError(f"Index out of bounds: {n}")
        return items[i]
    kind = getattr(value.__class__, "kind", None)
    if kind is None or kind == "SINGLE_SELECTION":
        d = as_datum(value)
        raise type_error("ARRAY", d)
    if n < -1:
        raise ReqlQueryLogicError(f"Cannot use an index < -1 ({n}) on a stream.")
    if items is not None:
        if not items or n >= len(items):
            raise ReqlNonExistenceError(f"Index out of bounds: {n}")
        return _selected(table, items[n])
    stream = to_stream(q, value)
    table = stream.table
    seen = 0
    last: Any = _MISSING
    while True:
        batch = await stream.next_batch(q, n - seen + 1 if n >= 0 else 1000)
        if batch is None:
            break
        if n >= 0 and seen + len(batch) > n:
            stream.close()
            return _selected(table, batch[n - seen])
        seen += len(batch)
        last = batch[-1]
    if n == -1 and last is not _MISSING:
        return _selected(table, last)
    raise ReqlNonExistenceError(f"Index out of bounds: {n}")


@register(T.NTH)
class Nth(Term):
    __slots__ = ()
    name = "nth"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        index = await self.args[1].eval(q, env)
        return await nth_of(q, value, index, self)


async def is_empty(q: Any, v: Any) -> bool:
    items = array_items(v)
    if items is not None:
        return not items
    stream = to_stream(q, v)
    batch = await stream.next_batch(q, 1)
    stream.close()
    return batch is None


@register(T.IS_EMPTY)
class IsEmpty(Term):
    __slots__ = ()
    name = "is_empty"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        g = await per_group(q, v, lambda x: is_empty(q, x))
        if g is not None:
            return g
        return await is_empty(q, v)


# -- union ---------------------------------------------------------------------------------


class MergeStream(Stream):
    """``union(..., interleave=<ordering>)``: merge already-ordered streams into one."""

    __slots__ = ("srcs", "key", "bufs")

    def __init__(self, srcs: list[Stream], key: Callable[[Any, Any], Awaitable[Any]]) -> None:
        super().__init__(None)
        self.srcs = srcs
        self.key = key
        # per source: keyed elements not merged yet (a deque), or None once exhausted
        self.bufs: list[deque | None] = [deque() for _ in srcs]

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return any(s.infinite for s in self.srcs)

    async def next_batch(self, q: Any, hint: int) -> list | None:
        out: list = []
        want = max(1, min(hint, 1000))
        while len(out) < want:
            best = None
            best_key = None
            for i, s in enumerate(self.srcs):
                buf = self.bufs[i]
                if buf is None:
                    continue
                if not buf:
                    b = await s.next_batch(q, hint)
                    if b is None:
                        self.bufs[i] = None
                        continue
                    buf = self.bufs[i] = deque([(await self.key(q, x), x) for x in b])
                k = buf[0][0]
                if best is None or k < best_key:
                    best, best_key = i, k
            if best is None:
                break
            out.append(self.bufs[best].popleft()[1])  # type: ignore[union-attr]
        return out or None

    def close(self) -> None:
        for s in self.srcs:
            s.close()


@register(T.UNION)
class Union(Term):
    __slots__ = ()
    name = "union"
    argspec = (0, None)
    optargspec = ("interleave",)

    async def eval(self, q: Any, env: dict) -> Any:
        values = [await a.eval(q, env) for a in self.args]
        interleave: Any = True
        if "interleave" in self.optargs:
            interleave = await self.optargs["interleave"].eval(q, env)
        streams = [seq_source(q, v) for v in values]
        if interleave is True or interleave is False:
            if values and all(is_arrayish(v) for v in values):
                out: list = []
                for v in values:
                    out.extend(array_items(v))  # type: ignore[arg-type]
                    check_array_limit(q, len(out))
                return out
            return ConcatStream(streams, interleave)
        from .sort import orderings_key

        key = await orderings_key(q, self, [interleave] if interleave.__class__ is not list else interleave)
        return MergeStream(streams, key)


# -- offsets_of, contains, sample ----------------------------------------------------------


class OffsetsStream(Stream):
    __slots__ = ("src", "pred", "pos")

    def __init__(self, src: Stream, pred: Pred) -> None:
        super().__init__(None)
        self.src = src
        self.pred = pred
        self.pos = 0

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out = []
            for x in batch:
                if await self.pred(q, x):
                    out.append(self.pos)
                self.pos += 1
            if out:
                return out

    def close(self) -> None:
        self.src.close()


def _predicate_or_value(v: Any) -> Pred:
    if isinstance(v, Function):
        call = v.call1

        async def pred(q: Any, x: Any) -> bool:
            return truthy(as_datum(await call(q, x)))

        return pred
    return eq_predicate(as_datum(v))


@register(T.OFFSETS_OF)
class OffsetsOf(Term):
    __slots__ = ()
    name = "offsets_of"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        pred = _predicate_or_value(await self.args[1].eval(q, env))
        g = await per_group(q, v, lambda x: finish(q, x, OffsetsStream(seq_source(q, x), pred)))
        if g is not None:
            return g
        return await finish(q, v, OffsetsStream(seq_source(q, v), pred))


async def contains(q: Any, v: Any, wanted: list) -> bool:
    """Bag semantics: each wanted value or predicate needs its own matching element."""
    values = [w for w in wanted if not isinstance(w, Function)]
    preds = [w for w in wanted if isinstance(w, Function)]
    if not values and not preds:
        return True
    stream = seq_source(q, v)
    while True:
        batch = await stream.next_batch(q, 1000)
        if batch is None:
            return False
        for x in batch:
            for i, w in enumerate(values):
                if datum_eq(w, x):
                    del values[i]
                    break
            for i, f in enumerate(preds):
                if truthy(as_datum(await f.call1(q, x))):
                    del preds[i]
                    break
            if not values and not preds:
                stream.close()
                return True


@register(T.CONTAINS)
class Contains(Term):
    __slots__ = ()
    name = "contains"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        wanted = []
        for a in self.args[1:]:
            w = await a.eval(q, env)
            wanted.append(w if isinstance(w, Function) else as_datum(w))
        g = await per_group(q, v, lambda x: contains(q, x, list(wanted)))
        if g is not None:
            return g
        if not isinstance(v, Stream) and array_items(v) is None:
            to_stream(q, v)  # the sequence error
        return await contains(q, v, wanted)


async def sample(q: Any, v: Any, n: int) -> Any:
    table = v.table if isinstance(v, Stream) else (v if getattr(v.__class__, "kind", None) == "TABLE" else None)
    stream = seq_source(q, v)
    if stream.infinite:
        raise ReqlQueryLogicError(INFINITE_MESSAGE)
    out: list = []
    seen = 0
    rnd = random.random
    while True:
        batch = await stream.next_batch(q, 1000)
        if batch is None:
            break
        for x in batch:
            seen += 1
            if len(out) < n:
                out.append(x)
            else:
                j = int(rnd() * seen)
                if j < n:
                    out[j] = x
    if table is not None:
        return ArrayStream(out, table, True)
    return out


@register(T.SAMPLE)
class Sample(Term):
    __slots__ = ()
    name = "sample"
    argspec = (2, 2)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> Any:
        n = as_int(await self.args[1].eval(q, env))
        if n < 0:
            raise ReqlQueryLogicError(f"Number of items to sample must be non-negative, got `{n}`.")
        v = await self.args[0].eval(q, env)
        g = await per_group(q, v, lambda x: sample(q, x, n))
        if g is not None:
            return g
        return await sample(q, v, n)


# -- r.range ---------------------------------------------------------------------------------


@register(T.RANGE)
class Range(Term):
    __slots__ = ()
    name = "range"
    argspec = (0, 2)

    async def eval(self, q: Any, env: dict) -> Stream:
        if not self.args:
            return RangeStream(0, None)
        if len(self.args) == 1:
            return RangeStream(0, as_int(await self.args[0].eval(q, env)))
        start = as_int(await self.args[0].eval(q, env))
        return RangeStream(start, as_int(await self.args[1].eval(q, env)))


__all__ = [
    "NativeFunction",
    "field_getter",
    "val_type_error",
    "NativeStream",
    "field_function",
    "field_or_function",
    "filter_match",
    "filter_predicate",
    "finish",
    "is_arrayish",
    "nth_of",
    "per_group",
    "seq_source",
]
