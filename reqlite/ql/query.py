"""Running a query: compile the term tree, apply the run options, evaluate, classify the result.

This is the one entry point the server (and the embedded engine) call. It knows
nothing about sockets or tokens: it takes a decoded term tree and run options and
returns either an atom (a datum to send in one response) or a stream (to send batch
by batch), or raises a ``ReqlError`` carrying the term to blame.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ..datum.types import REQL_TYPE, _Extreme
from ..errors import ReqlCompileError, ReqlError, ReqlQueryLogicError
from .compile import compile_query, compile_term
from .context import QueryContext
from .streams import ArrayStream, Stream, array_limit_error, to_stream
from .term import Term, as_datum
from .values import Database, GroupedData, SingleSelection, kind_of

# Run options RethinkDB accepts (ql2.proto and the drivers); anything else is refused.
GLOBAL_OPTARGS = frozenset(
    {
        "db",
        "noreply",
        "durability",
        "profile",
        "array_limit",
        "time_format",
        "group_format",
        "binary_format",
        "read_mode",
        "use_outdated",
        "first_batch_scaledown_factor",
        "max_batch_rows",
        "max_batch_bytes",
        "max_batch_seconds",
        "min_batch_rows",
        "right_bound",
        "changefeed_queue_size",
        "identifier_format",
    }
)


class Atom:
    """A query result to send whole, as SUCCESS_ATOM.

    ``raw``, when set, is the value already encoded as JSON (a stored document passed
    through untouched: no decode, no re-encode).
    """

    __slots__ = ("value", "raw")

    def __init__(self, value: Any, raw: bytes | None = None) -> None:
        self.value = value
        self.raw = raw


async def start(q: QueryContext, raw_term: Any, raw_optargs: dict) -> Atom | Stream:
    """Compile and evaluate a START query; returns an Atom or a Stream."""
    compiled = compile_query(raw_term)
    await apply_run_options(q, raw_optargs)
    if compiled.longest_literal > q.array_limit:
        err = array_limit_error(q.array_limit)
        err.term = _BacktraceOnly(compiled.longest_literal_bt)
        raise err
    value = await compiled.term.eval(q, {})
    return await classify_result(q, value)


async def apply_run_options(q: QueryContext, raw: dict) -> None:
    for name in raw:
        if name not in GLOBAL_OPTARGS:
            raise ReqlCompileError(f"Unrecognized global optional argument `{name}`.")
    opts: dict[str, Any] = {}
    for name, value in raw.items():
        t = compile_term(value)
        opts[name] = await t.eval(q, {})
    q.optargs = opts
    db = opts.get("db")
    if db is not None:
        if isinstance(db, Database):
            q.default_db = db.name
        else:
            q.default_db = as_datum(db)
            q.database(q.default_db)
    if "array_limit" in opts:
        limit = as_datum(opts["array_limit"])
        if limit.__class__ not in (int, float):
            raise ReqlQueryLogicError(f"Expected type NUMBER but found {kind_of(limit)}.")
        if limit < 1:
            from ..datum.printing import format_number

            raise ReqlQueryLogicError(f"Illegal array size limit `{format_number(limit)}`.  (Must be >= 1.)")
        q.array_limit = int(limit)
    if "durability" in opts:
        d = as_datum(opts["durability"])
        if d not in ("hard", "soft"):
            raise ReqlQueryLogicError(f'Durability option `{d}` unrecognized (options are "hard" and "soft").')
        q.durability = d
    if "read_mode" in opts:
        q.read_mode = as_datum(opts["read_mode"])


async def classify_result(q: QueryContext, value: Any) -> Atom | Stream:
    if isinstance(value, Stream):
        if value.is_grouped:  # a grouped stream is sent as its groups
            return Atom(grouped_to_datum(await value.materialize(q)))  # type: ignore[attr-defined]
        if value.is_array and isinstance(value, ArrayStream):  # SELECTION<ARRAY>: an array
            return Atom(check_result_datum(value.remaining()))
        return value
    kind = getattr(value.__class__, "kind", None)
    if kind == "TABLE":
        return to_stream(q, value)
    if isinstance(value, SingleSelection):
        if value.raw is not None:
            return Atom(None, value.raw)  # stored documents never hold minval/literals
        return Atom(check_result_datum(value.doc))
    if isinstance(value, GroupedData):
        return Atom(grouped_to_datum(value))
    if kind is not None and kind != "DATUM":
        raise ReqlQueryLogicError(
            f"Query result must be of type DATUM, GROUPED_DATA, or STREAM (got {kind})."
        )
    return Atom(check_result_datum(value))


def grouped_to_datum(g: GroupedData) -> dict:
    return {REQL_TYPE: "GROUPED_DATA", "data": [[k, v] for k, v in g.groups.values()]}


def check_result_datum(value: Any) -> Any:
    """Refuse values that cannot leave the server (r.minval/r.maxval, stray literals)."""
    cls = value.__class__
    if cls is _Extreme:
        raise ReqlQueryLogicError(f"Cannot convert `{value!r}` to JSON.")
    if cls is dict:
        if value.get(REQL_TYPE) == "LITERAL":
            raise ReqlQueryLogicError(
                "Stray literal keyword found: literal is only legal inside of the object passed "
                "to merge or update and cannot nest inside other literals."
            )
        for v in value.values():
            c = v.__class__
            if c is dict or c is list or c is _Extreme:
                check_result_datum(v)
    elif cls is list:
        for v in value:
            c = v.__class__
            if c is dict or c is list or c is _Extreme:
                check_result_datum(v)
    return value


class _BacktraceOnly:
    """Stands for a term that was folded away, to blame an error on its position."""

    __slots__ = ("bt",)

    def __init__(self, bt: tuple) -> None:
        self.bt = bt


def blame(exc: ReqlError) -> list:
    """The backtrace of the term an error is attributed to (innermost evaluating term)."""
    term = exc.term
    if term is None:
        term = _innermost_term(exc.__traceback__)
    if term is None:
        return []
    return list(term.bt)


def _innermost_term(tb: TracebackType | None) -> Term | None:
    found = None
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if isinstance(obj, Term):
            found = obj
        tb = tb.tb_next
    return found
