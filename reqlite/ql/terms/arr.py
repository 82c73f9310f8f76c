"""Arrays: append/prepend, difference, the set operations and the positional edits
(insert_at, splice_at, delete_at, change_at), with RethinkDB's index rules.

Results are built within ``array_limit``. Negative indexes count from the end: for
``insert_at``/``splice_at`` they address the gaps between elements (``-1`` is after
the last one), for ``delete_at``/``change_at`` the elements themselves. An index
before the start fails with "Index out of bounds: -5", one past the end with
"Index `4` out of bounds for array of size: `3`." (both non-existence errors).
"""

from __future__ import annotations

from typing import Any

from ...datum.order import hashable
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import NativeStream, check_array_limit, to_list, to_stream
from ..term import REGISTRY, Term, as_datum, register, type_error
from ..values import GroupedData
from .obj import WithFields, per_group


def datum_array(value: Any) -> list:
    """The value as an array datum ("Expected type ARRAY but found X." otherwise)."""
    d = as_datum(value)
    if d.__class__ is not list:
        raise type_error("ARRAY", d)
    return d


class ArrayTerm(Term):
    """A term whose first argument is an array; on grouped data it applies per group."""

    __slots__ = ()

    async def eval(self, q: Any, env: dict) -> Any:
        v0 = await self.args[0].eval(q, env)
        if v0.__class__ is GroupedData:
            return await per_group(v0, lambda v: self.on_array(q, env, datum_array(v)))
        return await self.on_array(q, env, datum_array(v0))

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:  # pragma: no cover
        raise NotImplementedError


@register(T.APPEND)
class Append(ArrayTerm):
    __slots__ = ()
    name = "append"
    argspec = (2, 2)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        el = await self.datum_arg(1, q, env)
        check_array_limit(q, len(arr) + 1)
        return [*arr, el]


@register(T.PREPEND)
class Prepend(ArrayTerm):
    __slots__ = ()
    name = "prepend"
    argspec = (2, 2)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        el = await self.datum_arg(1, q, env)
        check_array_limit(q, len(arr) + 1)
        return [el, *arr]


def _distinct_into(out: list, seen: set, items: list) -> None:
    for x in items:
        h = hashable(x)
        if h not in seen:
            seen.add(h)
            out.append(x)


@register(T.SET_INSERT)
class SetInsert(ArrayTerm):
    __slots__ = ()
    name = "set_insert"
    argspec = (2, 2)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        el = await self.datum_arg(1, q, env)
        out: list = []
        seen: set = set()
        _distinct_into(out, seen, arr)
        _distinct_into(out, seen, [el])
        check_array_limit(q, len(out))
        return out


@register(T.SET_UNION)
class SetUnion(ArrayTerm):
    __slots__ = ()
    name = "set_union"
    argspec = (2, 2)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        other = datum_array(await self.args[1].eval(q, env))
        out: list = []
        seen: set = set()
        _distinct_into(out, seen, arr)
        _distinct_into(out, seen, other)
        check_array_limit(q, len(out))
        return out


@register(T.SET_INTERSECTION)
class SetIntersection(ArrayTerm):
    """Elements of the second array (in its order, once each) that the first one has."""

    __slots__ = ()
    name = "set_intersection"
    argspec = (2, 2)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        other = datum_array(await self.args[1].eval(q, env))
        have = {hashable(x) for x in arr}
        out = []
        for x in other:
            h = hashable(x)
            if h in have:
                have.discard(h)
                out.append(x)
        return out


@register(T.SET_DIFFERENCE)
class SetDifference(ArrayTerm):
    """Elements of the first array (once each) that the second one lacks."""

    __slots__ = ()
    name = "set_difference"
    argspec = (2, 2)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        other = datum_array(await self.args[1].eval(q, env))
        seen = {hashable(x) for x in other}
        out: list = []
        _distinct_into(out, seen, arr)
        return out


@register(T.DIFFERENCE)
class Difference(Term):
    """``seq.difference(other)``: RethinkDB's rewrite ``seq.filter(x => !other.contains(x))``.

    Keeps duplicates and order; works on any sequence (a selection stays a selection).
    ``other`` is read once, and only if there is an element to test.
    """

    __slots__ = ()
    name = "difference"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v0 = await self.args[0].eval(q, env)
        if v0.__class__ is GroupedData:
            return await per_group(v0, lambda v: self._difference(q, env, v))
        return await self._difference(q, env, v0)

    async def _difference(self, q: Any, env: dict, v0: Any) -> Any:
        src = as_datum(v0) if v0.__class__ is not list and _is_datumish(v0) else v0
        memo: dict = {}

        async def keep(q_: Any, x: Any) -> list:
            excluded = memo.get("excluded")
            if excluded is None:
                other = await self.args[1].eval(q, env)
                items = other if other.__class__ is list else await to_list(q, to_stream(q, other))
                excluded = memo["excluded"] = {hashable(y) for y in items}
            return [] if hashable(x) in excluded else [x]

        if src.__class__ is list:
            out: list = []
            for x in src:
                out.extend(await keep(q, x))
            return out
        stream = to_stream(q, src)
        return NativeStream(stream, keep, stream.table)


def _is_datumish(v: Any) -> bool:
    return getattr(v.__class__, "kind", None) in (None, "SINGLE_SELECTION")


# -- positional edits ------------------------------------------------------------------


def canonical_index(index: int, size: int) -> int:
    """A negative index counted from ``size``; "Index out of bounds" before the start."""
    if index >= 0:
        return index
    if -index > size:
        raise ReqlNonExistenceError(f"Index out of bounds: {index}")
    return size + index


def _out_of_bounds(index: int, size: int) -> ReqlNonExistenceError:
    return ReqlNonExistenceError(f"Index `{index}` out of bounds for array of size: `{size}`.")


@register(T.INSERT_AT)
class InsertAt(ArrayTerm):
    __slots__ = ()
    name = "insert_at"
    argspec = (3, 3)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        i = canonical_index(await self.int_arg(1, q, env), len(arr) + 1)
        el = await self.datum_arg(2, q, env)
        if i > len(arr):
            raise _out_of_bounds(i, len(arr))
        check_array_limit(q, len(arr) + 1)
        return [*arr[:i], el, *arr[i:]]


@register(T.SPLICE_AT)
class SpliceAt(ArrayTerm):
    __slots__ = ()
    name = "splice_at"
    argspec = (3, 3)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        i = canonical_index(await self.int_arg(1, q, env), len(arr) + 1)
        els = datum_array(await self.args[2].eval(q, env))
        if i > len(arr):
            raise _out_of_bounds(i, len(arr))
        check_array_limit(q, len(arr) + len(els))
        return [*arr[:i], *els, *arr[i:]]


@register(T.DELETE_AT)
class DeleteAt(ArrayTerm):
    """``delete_at(i)`` removes one element; ``delete_at(i, j)`` the elements i..j-1."""

    __slots__ = ()
    name = "delete_at"
    argspec = (2, 3)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        n = len(arr)
        i = canonical_index(await self.int_arg(1, q, env), n)
        if len(self.args) == 2:
            if i >= n:
                raise _out_of_bounds(i, n)
            return [*arr[:i], *arr[i + 1 :]]
        j = canonical_index(await self.int_arg(2, q, env), n)
        if i > n:
            raise _out_of_bounds(i, n)
        if j > n:
            raise _out_of_bounds(j, n)
        if i > j:
            raise ReqlQueryLogicError(f"Start index `{i}` is greater than end index `{j}`.")
        return [*arr[:i], *arr[j:]]


@register(T.CHANGE_AT)
class ChangeAt(ArrayTerm):
    __slots__ = ()
    name = "change_at"
    argspec = (3, 3)

    async def on_array(self, q: Any, env: dict, arr: list) -> Any:
        i = canonical_index(await self.int_arg(1, q, env), len(arr))
        el = await self.datum_arg(2, q, env)
        if i >= len(arr):
            raise _out_of_bounds(i, len(arr))
        out = list(arr)
        out[i] = el
        return out


# with_fields is RethinkDB's rewrite has_fields + pluck (obj.py); this module is imported
# after seq.py, so it steps aside if the sequence family registered its own.
if T.WITH_FIELDS not in REGISTRY:
    register(T.WITH_FIELDS)(WithFields)
