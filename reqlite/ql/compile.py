"""From the driver's JSON term tree to compiled ``Term`` objects.

The JSON protocol encodes a term as ``[type, [args...], {optargs}]``, an object literal
as a JSON object (MAKE_OBJ with term values) and any other JSON value as a datum.
Compilation walks the tree once per query: it looks each type up in the registry,
checks arity and optional arguments (RethinkDB's compile errors), folds constant
arrays and objects into datums, and records each node's backtrace (the path of
argument positions and optarg names from the root) for error responses.
"""

from __future__ import annotations

from typing import Any

from ..datum.types import MAX_SAFE_INT
from ..errors import ReqlCompileError
from ..wire.ql2 import TermType as T
from . import terms as _terms  # noqa: F401  (registers every term family)
from .datum_input import datum_from_json
from .term import REGISTRY, DatumTerm, Term
from .terms.obj import LITERAL_OK_ARGS, allow_literals

TT_DATUM = 1
TT_MAKE_ARRAY = 2
TT_MAKE_OBJ = 3
TT_ARGS = 154
TT_VAR = 10
TT_IMPLICIT_VAR = 13
TT_FUNC = 69

TT_ASC = 73
TT_DESC = 74
TT_ORDER_BY = 41

# RethinkDB's term walker: writes and meta operations may not appear inside the
# functions of stream operations (use FOR_EACH); the 0th argument is exempt.
WRITE_OR_META = frozenset(
    {
        T.UPDATE, T.DELETE, T.INSERT, T.REPLACE, T.DB_CREATE, T.DB_DROP, T.TABLE_CREATE,
        T.TABLE_DROP, T.WAIT, T.RECONFIGURE, T.REBALANCE, T.SYNC, T.INDEX_CREATE,
        T.INDEX_DROP, T.INDEX_WAIT, T.INDEX_RENAME,
    }
)
FORBIDS_WRITES = frozenset(
    {
        T.REDUCE, T.MAP, T.FILTER, T.CONCAT_MAP, T.GROUP, T.INNER_JOIN, T.OUTER_JOIN,
        T.EQ_JOIN, T.UPDATE, T.DELETE, T.REPLACE, T.INSERT, T.COUNT, T.SUM, T.AVG, T.MIN,
        T.MAX,
    }
)

# What `r.row` (IMPLICIT_VAR) refers to while compiling: nothing yet, the parameter of
# the one enclosing one-argument function, or ambiguous (nested functions).
_NO_FUNC = None
_NESTED = -1

MAX_DEPTH = 1000  # deeper term trees are refused rather than overflowing the stack


class Compiled:
    """A compiled query and what the compiler learnt on the way.

    ``longest_literal`` is the length of the longest array literal folded into a datum
    (RethinkDB checks ``array_limit`` when it builds each MAKE_ARRAY; folding happens
    before the run options are known, so the query checks this once, before it runs),
    and ``longest_literal_bt`` where it is.
    """

    __slots__ = ("term", "longest_literal", "longest_literal_bt")

    def __init__(self) -> None:
        self.term: Term | None = None
        self.longest_literal = 0
        self.longest_literal_bt: tuple = ()


_current: Compiled | None = None  # the query being compiled (compilation never awaits)


def compile_query(raw: Any) -> Compiled:
    """Compile a query's term tree, noting its longest array literal."""
    global _current
    out = Compiled()
    prev = _current
    _current = out
    try:
        out.term = _compile(raw, (), 0, _NO_FUNC, True, 0)
    finally:
        _current = prev
    return out


def compile_term(raw: Any) -> Term:
    """Compile a JSON term tree; raises ReqlCompileError (or a runtime error for bad datums)."""
    return _compile(raw, (), 0, _NO_FUNC, True, 0)


def _note_array(n: int, bt: tuple) -> None:
    c = _current
    if c is not None and n > c.longest_literal:
        c.longest_literal = n
        c.longest_literal_bt = bt


def _compile(raw: Any, bt: tuple, depth: int, ivar: int | None, writes: bool, parent: int) -> Term:
    if depth > MAX_DEPTH:
        raise ReqlCompileError("Query too deeply nested.")
    cls = raw.__class__
    if cls is list:
        if raw and raw[0] == TT_MAKE_ARRAY and len(raw) == 2:
            try:
                return DatumTerm(_plain_datum(raw, depth, bt), bt)
            except _NotPlain:
                pass
        return _compile_term(raw, bt, depth, ivar, writes, parent)
    if cls is dict:
        try:
            return DatumTerm(_plain_datum(raw, depth, bt), bt)
        except _NotPlain:
            return _compile_object(raw, bt, depth, ivar, writes)
    return DatumTerm(datum_from_json(raw), bt)


class _NotPlain(Exception):
    """The subtree holds a real term: compile it the general way."""


def _plain_datum(raw: Any, depth: int, bt: tuple) -> Any:
    """Fast path for constant data (document literals): objects and MAKE_ARRAYs of datums.

    Produces exactly what the general path folds to; raises _NotPlain on any other term.
    """
    if depth > MAX_DEPTH:
        raise ReqlCompileError("Query too deeply nested.")
    cls = raw.__class__
    if cls is dict:
        out = {}
        for k, v in raw.items():
            c = v.__class__
            if c is str or c is bool or v is None:
                out[k] = v
            elif c is int and -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                out[k] = v
            elif c is dict or c is list:
                out[k] = _plain_datum(v, depth + 1, bt)
            else:
                out[k] = datum_from_json(v)
        if "$reql_type$" in out:
            return datum_from_json(out, checked=True)
        return out
    if cls is list:
        if len(raw) != 2 or raw[0] != TT_MAKE_ARRAY or raw[1].__class__ is not list:
            raise _NotPlain
        items = raw[1]
        _note_array(len(items), bt)
        out_list = []
        for v in items:
            c = v.__class__
            if c is str or c is bool or v is None or (c is int and -MAX_SAFE_INT <= v <= MAX_SAFE_INT):
                out_list.append(v)
            elif c is dict or c is list:
                out_list.append(_plain_datum(v, depth + 1, bt))
            else:
                out_list.append(datum_from_json(v))
        return out_list
    return datum_from_json(raw)


def _compile_object(raw: dict, bt: tuple, depth: int, ivar: int | None, writes: bool) -> Term:
    values = {}
    constant = True
    for k, v in raw.items():
        t = _compile(v, bt + (k,), depth + 1, ivar, writes, TT_MAKE_OBJ)
        values[k] = t
        if t.__class__ is not DatumTerm:
            constant = False
    if constant:
        return DatumTerm(datum_from_json({k: t.value for k, t in values.items()}, checked=True), bt)
    impl = REGISTRY[TT_MAKE_OBJ]
    return impl([], values, bt)


def _compile_term(raw: list, bt: tuple, depth: int, ivar: int | None, writes: bool, parent: int) -> Term:
    if not raw:
        raise ReqlCompileError("Expected a term, got an empty array.")
    tt = raw[0]
    if tt.__class__ is not int:
        raise ReqlCompileError(f"Expected a term type number, got {tt!r}.")
    nraw = len(raw)
    raw_args = raw[1] if nraw > 1 else []
    raw_optargs = raw[2] if nraw > 2 else {}
    if nraw > 3 or raw_args.__class__ is not list or raw_optargs.__class__ is not dict:
        raise ReqlCompileError("Malformed term: expected [type, [args...], {optargs}].")
    if tt == TT_DATUM:
        if len(raw_args) != 1:
            raise ReqlCompileError(f"Expected 1 argument but found {len(raw_args)}.")
        return DatumTerm(datum_from_json(raw_args[0]), bt)
    if tt == TT_IMPLICIT_VAR:
        # The driver wraps r.row in a one-argument FUNC; r.row is that function's parameter.
        if ivar is _NO_FUNC or ivar == _NESTED:
            if ivar == _NESTED:
                raise ReqlCompileError("Cannot use r.row in nested queries.  Use functions instead.")
            raise ReqlCompileError("r.row is not defined in this context.")
        tt, raw_args, raw_optargs = TT_VAR, [ivar], {}
    impl = REGISTRY.get(tt)
    if impl is None:
        raise ReqlCompileError(_unknown_term_message(tt))
    if tt in WRITE_OR_META and not writes:
        raise ReqlCompileError("Cannot nest writes or meta ops in stream operations.  Use FOR_EACH instead.")
    if (tt == TT_ASC or tt == TT_DESC) and parent != TT_ORDER_BY:
        name = "ASC" if tt == TT_ASC else "DESC"
        raise ReqlCompileError(f"{name} may only be used as an argument to ORDER_BY.")
    # Writes stay legal in argument 0 of a stream operation, not in its functions.
    child_writes = writes and tt not in FORBIDS_WRITES
    inner = ivar
    if tt == TT_FUNC:
        inner = _implicit_for_func(raw_args, ivar)
    args = []
    constant = True
    splice = False
    depth += 1
    for i, a in enumerate(raw_args):
        c = a.__class__
        if c is str or c is bool or c is int:
            t = DatumTerm(a if c is not int else datum_from_json(a), bt + (i,))
        else:
            t = _compile(a, bt + (i,), depth, inner, writes if i == 0 else child_writes, tt)
            if t.__class__ is not DatumTerm:
                constant = False
                if t.tt == TT_ARGS:
                    splice = True
        args.append(t)
    if raw_optargs:
        optargs = {k: _compile(v, bt + (k,), depth, ivar, child_writes, tt) for k, v in raw_optargs.items()}
        impl.check_optargs(optargs)
    else:
        optargs = {}
        if tt == TT_MAKE_ARRAY and constant:
            _note_array(len(args), bt)
            return DatumTerm([a.value for a in args], bt)
    lit = LITERAL_OK_ARGS.get(tt)
    if lit is not None:
        allow_literals(args, *lit)  # where r.literal is legal (RethinkDB's LITERAL_OK)
    if splice:
        from .terms.control import ArgsSplice

        return ArgsSplice(impl, args, optargs, bt)
    impl.check_arity(len(args))
    term = impl(args, optargs, bt)
    if impl.keeps_raw_args:
        term.raw_args = raw_args  # e.g. index_create stores its function's term
    return term


def _implicit_for_func(raw_args: list, ivar: int | None) -> int | None:
    """What r.row means inside a FUNC with these raw arguments."""
    if ivar is not _NO_FUNC:
        return _NESTED
    params = raw_args[0] if raw_args else None
    if params.__class__ is list and params and params[0] == 2:  # [MAKE_ARRAY, [ids]]
        params = params[1] if len(params) > 1 else []
    if params.__class__ is list and len(params) == 1 and params[0].__class__ is int:
        return params[0]
    return _NESTED


def _unknown_term_message(tt: int) -> str:
    from ..wire.ql2 import TermType

    try:
        name = TermType(tt).name
    except ValueError:
        return f"Unrecognized TermType: {tt}."
    return f"Term {name} is not implemented by this server yet."
