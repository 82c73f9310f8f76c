"""Times (RethinkDB's terms/time.cc): the TIME pseudo-type's sanitizer, the constructors
(``r.now``, ``r.time``, ``r.epoch_time``, ``r.iso8601``), conversions, time zones,
``during``, the calendar portions and the day and month constants.

The arithmetic and text formats are in ``time_logic.py``; ``time + n``, ``time - n`` and
``time - time`` are done by ``arith.py`` through ``time_add``/``time_sub`` there.
"""

from __future__ import annotations

from typing import Any

from ...datum.printing import trunc_print
from ...datum.types import REQL_TYPE
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..datum_input import pseudo_sanitizer, sanitize_pseudo
from ..term import Term, as_datum, as_int, as_number, as_string, register
from . import time_logic as tl


@pseudo_sanitizer("TIME")
def sanitize_time(obj: dict) -> dict:
    """RethinkDB's ``sanitize_time``: check the fields, round ``epoch_time`` to the
    millisecond, normalise the time zone."""
    return tl.sanitize_time_object(obj)


def as_time(value: Any) -> dict:
    """``val_t::as_ptype("TIME")``: RethinkDB only checks that the value is *a*
    pseudo-type; reading its fields then fails for the other ones."""
    d = as_datum(value)
    if d.__class__ is dict and d.get(REQL_TYPE).__class__ is str:
        return d
    raise ReqlQueryLogicError(f"Not a TIME pseudotype: `{trunc_print(d)}`.")


def _as_c_int(value: Any) -> int:
    """``as_int<int>``: an integer datum that fits a 32-bit int."""
    i = as_int(value)
    if not -(2**31) <= i < 2**31:
        raise ReqlQueryLogicError(f"Integer too large: {i}")
    return i


class _TimeOp(Term):
    """A term of one time argument."""

    __slots__ = ()
    argspec = (1, 1)

    async def time_arg(self, q: Any, env: dict) -> dict:
        return as_time(await self.args[0].eval(q, env))


# -- constructors --------------------------------------------------------------------------


@register(T.NOW)
class Now(Term):
    """The query's start time, the same for every ``r.now()`` of one query.

    RethinkDB turns ``r.now()`` into a literal when it parses a query (2.4 restored this,
    so ``update(lambda d: {"t": r.now()})`` needs no ``non_atomic``): it counts as
    deterministic here too.
    """

    __slots__ = ()
    name = "now"
    argspec = (0, 0)
    deterministic = True

    async def eval(self, q: Any, env: dict) -> dict:
        return tl.make_time(q.now, "+00:00")


@register(T.EPOCH_TIME)
class EpochTime(Term):
    __slots__ = ()
    name = "epoch_time"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> dict:
        return tl.make_time(await self.num_arg(0, q, env), "+00:00")


@register(T.TIME)
class Time(Term):
    __slots__ = ()
    name = "time"
    argspec = (4, 7)

    async def eval(self, q: Any, env: dict) -> dict:
        n = len(self.args)
        if n not in (4, 7):
            raise ReqlQueryLogicError(f"Got {n} arguments to TIME (expected 4 or 7).")
        vals = [await a.eval(q, env) for a in self.args[:3]]
        year, month, day = (_as_c_int(v) for v in vals)
        hours = minutes = 0
        seconds: int | float = 0
        if n == 4:
            tz = as_string(await self.args[3].eval(q, env))
        else:
            hours = _as_c_int(await self.args[3].eval(q, env))
            minutes = _as_c_int(await self.args[4].eval(q, env))
            seconds = as_number(await self.args[5].eval(q, env))
            tz = as_string(await self.args[6].eval(q, env))
        return tl.construct(year, month, day, hours, minutes, seconds, tz)


@register(T.ISO8601)
class Iso8601(Term):
    __slots__ = ()
    name = "iso8601"
    argspec = (1, 1)
    optargspec = ("default_timezone",)

    async def eval(self, q: Any, env: dict) -> dict:
        v = await self.args[0].eval(q, env)
        default_tz = ""
        if self.has_opt("default_timezone"):
            default_tz = as_string(await self.opt("default_timezone", q, env))
        return tl.parse_iso8601(as_string(v), default_tz)


# -- conversions and zones -------------------------------------------------------------------


@register(T.TO_ISO8601)
class ToIso8601(_TimeOp):
    __slots__ = ()
    name = "to_iso8601"

    async def eval(self, q: Any, env: dict) -> str:
        return tl.to_iso8601(await self.time_arg(q, env))


@register(T.TO_EPOCH_TIME)
class ToEpochTime(_TimeOp):
    __slots__ = ()
    name = "to_epoch_time"

    async def eval(self, q: Any, env: dict) -> int | float:
        return tl.epoch_of(await self.time_arg(q, env))


@register(T.TIMEZONE)
class Timezone(_TimeOp):
    __slots__ = ()
    name = "timezone"

    async def eval(self, q: Any, env: dict) -> Any:
        t = await self.time_arg(q, env)
        if t.get(REQL_TYPE) == "BINARY":
            raise ReqlQueryLogicError("Expected type OBJECT but found PTYPE<BINARY>.")
        return t.get("timezone")


@register(T.IN_TIMEZONE)
class InTimezone(Term):
    __slots__ = ()
    name = "in_timezone"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> dict:
        t = as_time(await self.args[0].eval(q, env))
        tz = as_string(await self.args[1].eval(q, env))
        out = tl.in_timezone(t, tz)
        if out.get(REQL_TYPE) != "TIME":
            return sanitize_pseudo(out)
        return out


@register(T.DURING)
class During(Term):
    __slots__ = ()
    name = "during"
    argspec = (3, 3)
    optargspec = ("left_bound", "right_bound")

    async def _open(self, key: str, default: bool, q: Any, env: dict) -> bool:
        if not self.has_opt(key):
            return default
        v = await self.opt(key, q, env)
        s = as_string(v)
        if s == "open":
            return True
        if s == "closed":
            return False
        raise ReqlQueryLogicError(
            f"Expected `open` or `closed` for optarg `{key}` (got `{trunc_print(as_datum(v))}`)."
        )

    async def eval(self, q: Any, env: dict) -> bool:
        t = tl.epoch_of(as_time(await self.args[0].eval(q, env)))
        lo = tl.epoch_of(as_time(await self.args[1].eval(q, env)))
        hi = tl.epoch_of(as_time(await self.args[2].eval(q, env)))
        # bounds are read only when they matter, like RethinkDB's short-circuit
        if lo > t or (lo == t and await self._open("left_bound", False, q, env)):
            return False
        if t > hi or (t == hi and await self._open("right_bound", True, q, env)):
            return False
        return True


# -- portions ----------------------------------------------------------------------------------


@register(T.DATE)
class Date(_TimeOp):
    __slots__ = ()
    name = "date"

    async def eval(self, q: Any, env: dict) -> dict:
        return tl.date_of(await self.time_arg(q, env))


@register(T.TIME_OF_DAY)
class TimeOfDay(_TimeOp):
    __slots__ = ()
    name = "time_of_day"

    async def eval(self, q: Any, env: dict) -> int | float:
        return tl.time_of_day(await self.time_arg(q, env))


class _Portion(_TimeOp):
    __slots__ = ()

    async def eval(self, q: Any, env: dict) -> int | float:
        return tl.portion(await self.time_arg(q, env), self.name)


def _portion(tt: int, portion_name: str) -> None:
    cls = type(f"Portion_{portion_name}", (_Portion,), {"__slots__": (), "name": portion_name})
    register(tt)(cls)


for _tt, _name in (
    (T.YEAR, "year"),
    (T.MONTH, "month"),
    (T.DAY, "day"),
    (T.DAY_OF_WEEK, "day_of_week"),
    (T.DAY_OF_YEAR, "day_of_year"),
    (T.HOURS, "hours"),
    (T.MINUTES, "minutes"),
    (T.SECONDS, "seconds"),
):
    _portion(_tt, _name)


# -- r.monday ... r.sunday, r.january ... r.december -------------------------------------------


class _Constant(Term):
    __slots__ = ()
    argspec = (0, 0)
    value: int = 0

    async def eval(self, q: Any, env: dict) -> int:
        return self.value


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip

for _i, _name in enumerate(_DAYS + _MONTHS):
    _value = _i + 1 if _i < 7 else _i - 6
    register(getattr(T, _name.upper()))(
        type(f"Const_{_name}", (_Constant,), {"__slots__": (), "name": _name, "value": _value})
    )
