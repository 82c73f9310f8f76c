"""``r.js(source, timeout=5)`` (RethinkDB's terms/js.cc, func.cc's ``js_func_t`` and
extproc/js_job.cc): evaluate JavaScript in an embedded QuickJS.

The source runs as a global script in a fresh context; its value becomes a datum with
RethinkDB's conversion rules (strings, finite numbers, booleans, null, arrays, objects
with their enumerable properties, Dates as times; ``undefined``, functions, RegExps and
non-finite numbers are errors). A source that evaluates to a function gives a ReQL
function (:class:`JsFunction`) of unknown arity: it accepts any number of arguments,
which are converted to JavaScript (times become Dates; ``r.minval``, ``r.maxval`` and
binary data are refused), and it is called with a fresh empty object as ``this``.

The evaluation runs in a worker process (``ql/jsengine.py``), never on the event loop;
``timeout`` (seconds, default 5) is a wall-clock limit for the evaluation and for each
call of the resulting function. ``r.js`` is never deterministic, so writes need
``non_atomic`` for it and index functions and write hooks refuse it.
"""

from __future__ import annotations

from typing import Any

import orjson

from ...datum.types import BINARY, MAXVAL, REQL_TYPE, _Extreme
from ...errors import ReqlInternalError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..datum_input import datum_from_json
from ..jsengine import JsCrash, JsError, JsTimeout, js_call, js_eval
from ..term import Term, as_datum, as_number, as_string, register
from ..values import Function

DEFAULT_TIMEOUT_MS = 5000
_UINT64_MAX = 2**64 - 1


def timeout_ms(seconds: float) -> int:
    """The optarg in whole milliseconds, as RethinkDB truncates it to a uint64."""
    if seconds > _UINT64_MAX / 1000:
        return _UINT64_MAX
    if seconds <= 0:
        return 0
    return int(seconds * 1000)


def timeout_error(source: str, ms: int, term: Any = None) -> ReqlQueryLogicError:
    return ReqlQueryLogicError(
        f"JavaScript query `{source}` timed out after {ms // 1000}.{ms % 1000:03d} seconds.", term
    )


def _check_arg(value: Any) -> None:
    """RethinkDB's ``js_from_datum`` refusals, anywhere inside an argument."""
    cls = value.__class__
    if cls is _Extreme:
        which = "maxval" if value.name == MAXVAL else "minval"
        raise ReqlQueryLogicError(f"`r.{which}` cannot be passed to `r.js`.")
    if cls is list:
        for v in value:
            _check_arg(v)
    elif cls is dict:
        if value.get(REQL_TYPE) == BINARY:
            raise ReqlQueryLogicError("`r.binary` data cannot be used in `r.js`.")
        for v in value.values():
            _check_arg(v)


def _to_datum(value: Any) -> Any:
    return datum_from_json(value)


class JsFunction(Function):
    """The ReQL function a ``r.js`` source evaluating to a JavaScript function stands for."""

    __slots__ = ("source", "timeout_ms")

    def __init__(self, source: str, ms: int, term: Any) -> None:
        super().__init__([], None, {}, term)
        self.source = source
        self.timeout_ms = ms

    @property
    def arity(self) -> int:
        return -1  # RethinkDB: js_func_t::arity() is none; any number of arguments

    async def call(self, q: Any, args: list[Any]) -> Any:
        datums = [as_datum(a) for a in args]
        for d in datums:
            _check_arg(d)
        source = self.source
        try:
            value = await js_call(
                source, orjson.dumps(datums).decode(), self.timeout_ms / 1000, q.array_limit
            )
        except JsError as exc:
            raise ReqlQueryLogicError(str(exc), self.term) from None
        except JsTimeout:
            raise timeout_error(source, self.timeout_ms, self.term) from None
        except JsCrash:
            raise ReqlInternalError(
                f"Javascript query `{source}` caused a crash in a worker process.", self.term
            ) from None
        return _to_datum(value)

    async def call1(self, q: Any, arg: Any) -> Any:
        return await self.call(q, [arg])


@register(T.JAVASCRIPT)
class Javascript(Term):
    __slots__ = ()
    name = "javascript"
    argspec = (1, 1)
    optargspec = ("timeout",)
    deterministic = False  # "No JS term is considered deterministic"

    async def eval(self, q: Any, env: dict) -> Any:
        ms = DEFAULT_TIMEOUT_MS
        t = self.optargs.get("timeout")
        if t is not None:
            ms = timeout_ms(as_number(await t.eval(q, env)))
        source = as_string(await self.args[0].eval(q, env))
        try:
            kind, value = await js_eval(source, ms / 1000, q.array_limit)
        except JsError as exc:
            raise ReqlQueryLogicError(str(exc), self) from None
        except JsTimeout:
            raise timeout_error(source, ms, self) from None
        except JsCrash:
            raise ReqlQueryLogicError(
                f"Javascript query `{source}` caused a crash in a worker process.", self
            ) from None
        if kind == "f":
            return JsFunction(source, ms, self)
        return _to_datum(value)
