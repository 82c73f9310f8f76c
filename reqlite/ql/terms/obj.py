"""Objects: field access, has_fields/with_fields, pluck/without with nested selectors,
merge and ``r.literal``, keys/values and ``r.object``.

Most of these are RethinkDB's "obj_or_seq" operations: on an object they do their job;
on a sequence they run on every element (lazily for streams), where ``pluck``,
``without`` and ``merge`` map, ``has_fields`` filters (keeping a selection a
selection) and ``get_field``/``bracket`` map while skipping elements that lack the
field. Anything else fails with "Cannot perform X on a non-object non-sequence `v`."
(a non-existence error when the value is null, so ``default`` can catch it).

``r.literal`` is only legal where RethinkDB evaluates with its LITERAL_OK flag: in the
arguments of ``merge``, ``update`` and ``filter``, through object and array literals,
``r.args`` and (merge, update) the bodies of functions there. The compiler marks those
literal terms (``allow_literals``, driven by ``LITERAL_OK_ARGS``); any other literal
fails with the "Stray literal keyword" error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from ...datum.printing import print_datum, trunc_print
from ...datum.types import REQL_TYPE, type_name
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..datum_input import sanitize_pseudo
from ..streams import NativeStream, Stream, to_stream
from ..term import Term, as_datum, as_function, as_string, print_value, register
from ..values import GroupedData, kind_of

LITERAL = "LITERAL"
STRAY_LITERAL = (
    "Stray literal keyword found: literal is only legal inside of the object passed to "
    "merge or update and cannot nest inside other literals."
)

_MISSING = object()


def get_field(obj: Any, field: str) -> Any:
    """``obj[field]`` with RethinkDB's non-existence error."""
    try:
        return obj[field]
    except KeyError:
        raise ReqlNonExistenceError(f"No attribute `{field}` in object:\n{print_datum(obj)}") from None


def is_sequence_value(v: Any) -> bool:
    return v.__class__ is list or isinstance(v, Stream) or getattr(v.__class__, "kind", None) == "TABLE"


def _is_datum_like(v: Any) -> bool:
    kind = kind_of(v)
    return kind == "DATUM" or kind == "SINGLE_SELECTION"


def _typed_error(message: str, value: Any) -> ReqlQueryLogicError:
    """RethinkDB's ``rfail_typed_target``: a non-existence error when the value is null."""
    if value is None:
        return ReqlNonExistenceError(message)
    return ReqlQueryLogicError(message)


def _trunc_print_value(v: Any) -> str:
    if _is_datum_like(v):
        return trunc_print(as_datum(v))
    s = print_value(v)
    return s if len(s) <= 300 else s[:297] + "..."


async def per_group(g: GroupedData, fn: Callable[[Any], Awaitable[Any]]) -> GroupedData:
    """Apply an operation to the value of every group (RethinkDB's grouped-data rule)."""
    out = {}
    for h, (key, value) in g.groups.items():
        out[h] = (key, as_datum(await fn(value)))
    return GroupedData(out)


# -- the obj_or_seq machinery ---------------------------------------------------------

MAP, FILTER, SKIP_MAP = 0, 1, 2


class ObjOrSeqTerm(Term):
    """An operation on an object that also applies to every element of a sequence.

    Subclasses implement ``obj_eval(q, env, obj, memo)``; ``memo`` is a per-evaluation
    dict where they keep their evaluated arguments, which are evaluated at most once
    (and not at all on an empty sequence, as in RethinkDB).
    """

    __slots__ = ()
    poly: ClassVar[int] = MAP

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:  # pragma: no cover
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> Any:
        v0 = await self.args[0].eval(q, env)
        return await self.apply(q, env, v0, {})

    async def apply(self, q: Any, env: dict, v0: Any, memo: dict) -> Any:
        """The operation on an evaluated first argument (object, sequence or grouped data)."""
        if v0.__class__ is GroupedData:
            return await per_group(v0, lambda v: self._apply(q, env, v, memo, False))
        return await self._apply(q, env, v0, memo, False)

    async def _apply(self, q: Any, env: dict, v0: Any, memo: dict, nested: bool) -> Any:
        d: Any = _MISSING
        if _is_datum_like(v0):
            d = as_datum(v0)
        if d.__class__ is dict:
            if REQL_TYPE in d:
                raise ReqlQueryLogicError(f"Cannot call `{self.name}` on objects of type `{type_name(d)}`.")
            return await self.obj_eval(q, env, d, memo)
        if d.__class__ is list or (d is _MISSING and is_sequence_value(v0)):
            if nested:
                raise ReqlQueryLogicError(f"Cannot perform {self.name} on a sequence of sequences.")
            return await self._over_sequence(q, env, v0, memo)
        raise _typed_error(
            f"Cannot perform {self.name} on a non-object non-sequence `{_trunc_print_value(v0)}`.",
            None if d is _MISSING else d,
        )

    async def _over_sequence(self, q: Any, env: dict, seq: Any, memo: dict) -> Any:
        poly = self.poly

        async def each(q_: Any, x: Any) -> list:
            if poly == MAP:
                return [await self._apply(q, env, x, memo, True)]
            try:
                r = await self._apply(q, env, x, memo, True)
            except ReqlNonExistenceError:
                return []
            if poly == FILTER:
                return [x] if not (r is None or r is False) else []
            return [r]

        if seq.__class__ is list:
            out: list = []
            for x in seq:
                out.extend(await each(q, x))
            return out
        if getattr(seq, "is_grouped", False):
            return seq.transform(each, poly == FILTER)  # per element, within each group
        src = to_stream(q, seq)
        return NativeStream(src, each, src.table if poly == FILTER else None)

    async def _datum_args(self, q: Any, env: dict, memo: dict) -> list:
        args = memo.get("args")
        if args is None:
            args = memo["args"] = [as_datum(await a.eval(q, env)) for a in self.args[1:]]
        return args

    async def _pathspec(self, q: Any, env: dict, memo: dict) -> Any:
        ps = memo.get("paths", _MISSING)
        if ps is _MISSING:
            ps = memo["paths"] = pathspec(await self._datum_args(q, env, memo))
        return ps


@register(T.GET_FIELD)
class GetField(ObjOrSeqTerm):
    __slots__ = ()
    name = "get_field"
    argspec = (2, 2)
    poly = SKIP_MAP

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:
        field = memo.get("field")
        if field is None:
            field = memo["field"] = as_string(await self.args[1].eval(q, env))
        return get_field(obj, field)


@register(T.BRACKET)
class Bracket(ObjOrSeqTerm):
    """``x[key]``: a field of an object (or of each element) for a string, ``nth`` for a number."""

    __slots__ = ()
    name = "bracket"
    argspec = (2, 2)
    poly = SKIP_MAP

    async def eval(self, q: Any, env: dict) -> Any:
        v0 = await self.args[0].eval(q, env)
        key = as_datum(await self.args[1].eval(q, env))
        cls = key.__class__
        if cls is str:
            return await self.apply(q, env, v0, {"field": key})
        if cls is int or cls is float:
            from .seq import nth_of

            if v0.__class__ is GroupedData:
                return await per_group(v0, lambda v: nth_of(q, v, key, self))
            return await nth_of(q, v0, key, self)
        raise _typed_error(
            f"Expected NUMBER or STRING as second argument to `bracket` but found {type_name(key)}.", key
        )

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:
        return get_field(obj, memo["field"])


# -- path specifications (pluck, without, has_fields, with_fields) --------------------
#
# A path spec is a string (one field), a list of path specs, or a dict mapping a field to
# the path spec to apply inside it; ``{'a': True}`` means the field itself.


class _NotAnObject(Exception):
    """A path step met a non-object (RethinkDB's datum_exc_t, caught by the caller)."""


def pathspec(d: Any) -> Any:
    """Build a path spec from a selector datum, with RethinkDB's "Invalid path argument"."""
    cls = d.__class__
    if cls is str:
        return d
    if cls is list:
        vec = [pathspec(x) for x in d]
        return vec[0] if len(vec) == 1 else vec
    if cls is dict:
        fields: list = []
        sub: dict = {}
        for k, v in d.items():
            if v is True:
                fields.append(k)
            else:
                sub[k] = pathspec(v)
        if not fields:
            return sub
        if sub:
            fields.append(sub)
        return fields[0] if len(fields) == 1 else fields
    raise ReqlQueryLogicError(f"Invalid path argument `{print_datum(d)}`.")


def project(d: Any, ps: Any, recurse: bool = False) -> Any:
    """``pluck``: the parts of ``d`` that ``ps`` selects (arrays inside are plucked per element)."""
    if recurse and d.__class__ is list:
        return [project(x, ps) for x in d]
    if d.__class__ is not dict:
        raise _NotAnObject
    cls = ps.__class__
    if cls is str:
        return {ps: d[ps]} if ps in d else {}
    res: dict = {}
    if cls is list:
        for sub in ps:
            for k, v in project(d, sub).items():
                res[k] = merge_datums(res[k], v) if k in res else v
        return res
    for k, sub in ps.items():
        if k in d:
            try:
                res[k] = project(d[k], sub, True)
            except _NotAnObject:
                pass
    return res


def unproject(d: Any, ps: Any, recurse: bool = False) -> Any:
    """``without``: ``d`` less the parts that ``ps`` selects."""
    if recurse and d.__class__ is list:
        return [unproject(x, ps) for x in d]
    if d.__class__ is not dict:
        raise _NotAnObject
    res = dict(d)
    _unproject_into(res, ps)
    return res


def _unproject_into(res: dict, ps: Any) -> None:
    cls = ps.__class__
    if cls is str:
        res.pop(ps, None)
    elif cls is list:
        for sub in ps:
            _unproject_into(res, sub)
    else:
        for k, sub in ps.items():
            if k in res:
                try:
                    res[k] = unproject(res[k], sub, True)
                except _NotAnObject:
                    pass


def has_paths(d: Any, ps: Any) -> bool:
    """``has_fields``: every selected field is present and not null."""
    cls = ps.__class__
    if cls is str:
        return d.__class__ is dict and d.get(ps) is not None
    if cls is list:
        ok = True
        for sub in ps:
            ok = has_paths(d, sub) and ok
        return ok
    if d.__class__ is not dict:
        return False
    ok = True
    for k, sub in ps.items():
        if k not in d:
            return False
        ok = has_paths(d[k], sub) and ok
    return ok


@register(T.PLUCK)
class Pluck(ObjOrSeqTerm):
    __slots__ = ()
    name = "pluck"
    argspec = (1, None)

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:
        return project(obj, await self._pathspec(q, env, memo))


@register(T.WITHOUT)
class Without(ObjOrSeqTerm):
    __slots__ = ()
    name = "without"
    argspec = (1, None)

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:
        return unproject(obj, await self._pathspec(q, env, memo))


@register(T.HAS_FIELDS)
class HasFields(ObjOrSeqTerm):
    __slots__ = ()
    name = "has_fields"
    argspec = (1, None)
    poly = FILTER

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:
        return has_paths(obj, await self._pathspec(q, env, memo))


async def with_fields(q: Any, env: dict, term: Term, value: Any) -> Any:
    """``with_fields``: RethinkDB's rewrite ``value.has_fields(paths).pluck(paths)``.

    ``term`` supplies the selector arguments (``term.args[1:]``) and the backtrace.
    Works on objects, arrays, streams, selections and grouped data.
    """
    has = HasFields(term.args, {}, term.bt)
    memo: dict = {}
    kept = await has.apply(q, env, value, memo)
    pluck = Pluck(term.args, {}, term.bt)
    return await pluck.apply(q, env, kept, memo)


class WithFields(Term):
    """``seq.with_fields(paths...)`` (registered by ``arr.py`` unless seq.py registers it)."""

    __slots__ = ()
    name = "with_fields"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> Any:
        return await with_fields(q, env, self, await self.args[0].eval(q, env))


# -- merge and literal -----------------------------------------------------------------


def is_literal(v: Any) -> bool:
    return v.__class__ is dict and v.get(REQL_TYPE) == LITERAL


def drop_literals(v: Any) -> Any:
    """Replace ``r.literal(x)`` by x everywhere; a literal without value is _MISSING."""
    cls = v.__class__
    if cls is dict:
        if v.get(REQL_TYPE) == LITERAL:
            return drop_literals(v["value"]) if "value" in v else _MISSING
        out = {}
        for k, x in v.items():
            x = drop_literals(x)
            if x is not _MISSING:
                out[k] = x
        return out
    if cls is list:
        return [y for y in (drop_literals(x) for x in v) if y is not _MISSING]
    return v


def strip_literals(v: Any) -> Any:
    """``drop_literals`` for a whole value (a bare valueless literal becomes null)."""
    r = drop_literals(v)
    return None if r is _MISSING else r


def merge_datums(a: Any, b: Any) -> Any:
    """RethinkDB's ``datum_t::merge``: objects merge recursively; ``r.literal`` replaces
    (or, without a value, removes) a field; anything else replaces ``a``."""
    if a.__class__ is not dict or b.__class__ is not dict:
        return b
    out = dict(a)
    for k, v in b.items():
        lit = is_literal(v)
        if not lit and v.__class__ is dict and k in out:
            out[k] = merge_datums(out[k], v)
            continue
        val = (v["value"] if "value" in v else _MISSING) if lit else v
        if val is not _MISSING:
            val = drop_literals(val)
        if val is _MISSING:
            out.pop(k, None)
        else:
            out[k] = val
    return checked_object(out)


def checked_object(obj: dict) -> dict:
    """A built object's pseudo-type check (``to_datum``): a literal here is stray."""
    if REQL_TYPE in obj:
        if obj[REQL_TYPE] == LITERAL:
            raise ReqlQueryLogicError(STRAY_LITERAL)
        return sanitize_pseudo(obj)
    return obj


# Where RethinkDB evaluates with its LITERAL_OK flag: term type -> (first argument
# position, whether the bodies of functions there count too: merge and update call
# their functions with the flag, filter does not).
LITERAL_OK_ARGS: dict[int, tuple[int, bool]] = {
    T.MERGE: (1, True),
    T.UPDATE: (1, True),
    T.FILTER: (1, False),
}


def allow_literals(args: list[Term], first: int, into_funcs: bool) -> None:
    """Mark the ``r.literal`` terms that the flag reaches from ``args[first:]``.

    The flag flows through object and array literals, ``r.args`` and (``into_funcs``)
    function bodies, and stops at any other term and inside a literal itself.
    """
    todo = list(args[first:])
    while todo:
        t = todo.pop()
        tt = t.tt
        if tt == T.LITERAL:
            t.allowed = True  # type: ignore[attr-defined]
        elif tt == T.MAKE_OBJ:
            todo.extend(t.optargs.values())
        elif tt == T.MAKE_ARRAY or tt == T.ARGS:
            todo.extend(t.args)
        elif tt == T.FUNC and into_funcs and len(t.args) == 2:
            todo.append(t.args[1])


@register(T.MERGE)
class Merge(ObjOrSeqTerm):
    __slots__ = ()
    name = "merge"
    argspec = (1, None)

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> Any:
        others = memo.get("others")
        if others is None:
            others = memo["others"] = [await a.eval(q, env) for a in self.args[1:]]
        d: Any = obj
        for v in others:
            if _is_datum_like(v):
                d0 = as_datum(v)
            else:
                d0 = as_datum(await as_function(v).call(q, [d]))
            if d0.__class__ is dict and REQL_TYPE in d0 and d0[REQL_TYPE] != LITERAL:
                raise ReqlQueryLogicError(f"Cannot merge objects of type `{type_name(d0)}`.")
            d = merge_datums(d, d0)
        return d


@register(T.LITERAL)
class Literal(Term):
    """``r.literal(x)``: only legal where ``allow_literals`` marked it (else "Stray literal")."""

    __slots__ = ("allowed",)
    name = "literal"
    argspec = (0, 1)

    def __init__(self, args: list[Term], optargs: dict, bt: tuple) -> None:
        super().__init__(args, optargs, bt)
        self.allowed = False

    async def eval(self, q: Any, env: dict) -> Any:
        if not self.allowed:
            raise ReqlQueryLogicError(STRAY_LITERAL)
        if not self.args:
            return {REQL_TYPE: LITERAL}
        return {REQL_TYPE: LITERAL, "value": as_datum(await self.args[0].eval(q, env))}


# -- keys, values, r.object ---------------------------------------------------------


def _plain_object(term: Term, v: Any) -> dict:
    d = as_datum(v)
    if d.__class__ is not dict or REQL_TYPE in d:
        raise ReqlQueryLogicError(f"Cannot call `{term.name}` on objects of type `{type_name(d)}`.")
    return d


@register(T.KEYS)
class Keys(Term):
    __slots__ = ()
    name = "keys"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        return sorted(_plain_object(self, await self.args[0].eval(q, env)))


@register(T.VALUES)
class Values(Term):
    __slots__ = ()
    name = "values"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        d = _plain_object(self, await self.args[0].eval(q, env))
        return [d[k] for k in sorted(d)]


@register(T.OBJECT)
class Object(Term):
    """``r.object(k1, v1, k2, v2, ...)``."""

    __slots__ = ()
    name = "object"
    argspec = (0, None)

    async def eval(self, q: Any, env: dict) -> Any:
        n = len(self.args)
        if n % 2:
            raise ReqlQueryLogicError(f"OBJECT expects an even number of arguments (but found {n}).")
        obj: dict = {}
        for i in range(0, n, 2):
            key = as_string(await self.args[i].eval(q, env))
            val = as_datum(await self.args[i + 1].eval(q, env))
            if key in obj:
                raise ReqlQueryLogicError(
                    f"Duplicate key `{key}` in object.  (got `{trunc_print(obj[key])}` and "
                    f"`{trunc_print(val)}` as values)"
                )
            obj[key] = val
        return checked_object(obj)


__all__ = [
    "Bracket",
    "GetField",
    "HasFields",
    "Keys",
    "Literal",
    "Merge",
    "ObjOrSeqTerm",
    "Object",
    "Pluck",
    "Values",
    "WithFields",
    "Without",
    "drop_literals",
    "allow_literals",
    "LITERAL_OK_ARGS",
    "get_field",
    "has_paths",
    "is_literal",
    "merge_datums",
    "pathspec",
    "per_group",
    "project",
    "strip_literals",
    "unproject",
    "with_fields",
]
