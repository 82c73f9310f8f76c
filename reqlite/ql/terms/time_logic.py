"""The arithmetic and text behind ReQL's time terms, as RethinkDB 2.4 computes them.

RethinkDB keeps a time as ``{"$reql_type$": "TIME", "epoch_time": seconds, "timezone":
"+HH:MM"}`` and works on it through boost::date_time. This module reproduces that
without boost:

* every time datum is *sanitized* when it is built: ``epoch_time`` is rounded to the
  millisecond (``round(t * 1000) / 1000``, C's round: halves away from zero) and the
  time zone is normalised (``Z`` and ``+07`` become ``+00:00`` and ``+07:00``);
* an instant is turned into a count of microseconds since 1970 the way RethinkDB feeds
  it to boost (whole seconds truncated toward zero, then the rest in microseconds), and
  the local time is that plus the zone's fixed offset;
* calendar fields use the proleptic Gregorian calendar; boost only knows the years
  1400..10000, so anything that needs a date outside them fails with "Error in time
  logic: Year is out of valid range: 1400..10000." (hours, minutes and seconds do not
  need a date and keep working);
* ISO 8601 text is checked by RethinkDB's own sanitizer first (its messages:
  "Truncated date string ...", "Garbage characters ...", ...), then the calendar
  checks boost makes ("Month number is out of range 1..12", ...).

Pure functions only: the terms live in ``time.py``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...datum.printing import format_g20, print_datum, trunc_print
from ...datum.types import REQL_TYPE, num
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError

US = 1_000_000
DAY_US = 86_400 * US
MIN_YEAR = 1400
MAX_YEAR = 10000

ISO_WEEK_DATES = (
    "Due to limitations in the boost time library we use for parsing, we cannot support "
    "ISO week dates right now.  Sorry about that!  Please use years, calendar dates, or "
    "ordinal dates instead."
)
NO_TIME_ZONE = "ISO 8601 string has no time zone, and no default time zone was provided."


def _err(msg: str) -> ReqlQueryLogicError:
    return ReqlQueryLogicError(msg)


def _time_logic(msg: str) -> ReqlQueryLogicError:
    """An error boost would throw, as RethinkDB reports it."""
    return ReqlQueryLogicError(f"Error in time logic: {msg}.")


# -- numbers -----------------------------------------------------------------------------


def c_round(x: float) -> float:
    """C's ``round``: halfway cases away from zero (Python's ``round`` goes to even)."""
    if not math.isfinite(x):
        return x
    t = float(math.trunc(x))
    if abs(x - t) >= 0.5:  # exact: x - trunc(x) loses no bits
        t += math.copysign(1.0, x)
    return t


def sanitize_epoch(d: float) -> int | float:
    """``epoch_time`` rounded to the millisecond, as every time datum stores it."""
    r = c_round(d * 1000.0) / 1000.0
    if not math.isfinite(r):
        raise _err(f"Non-finite number: {format_g20(r)}")
    if r == d:
        r = d  # keep the value (and the sign of a zero) when rounding changed nothing
    return num(r)


def make_time(epoch: float, tz: str) -> dict:
    """A sanitized TIME datum (``tz`` must already be a normalised ``+HH:MM``)."""
    return {REQL_TYPE: "TIME", "epoch_time": sanitize_epoch(epoch), "timezone": tz}


def time_from_us(us: int, tz: str) -> dict:
    """The TIME datum for ``us`` microseconds since 1970 (like boost's total_microseconds
    divided by 1e6 in double precision)."""
    try:
        seconds = float(us) / 1e6
    except OverflowError:
        seconds = math.inf if us > 0 else -math.inf
    return make_time(seconds, tz)


def seconds_to_us(raw: float) -> int:
    """How RethinkDB adds a number of seconds to a boost time: whole seconds truncated
    toward zero, then the remainder in (rounded) microseconds."""
    if not math.isfinite(raw):
        raise _err(f"Non-finite number: {format_g20(raw)}")
    sec = int(raw)
    if abs(raw) >= 9.2e12:  # past boost's 64-bit microsecond count: whole seconds only
        return sec * US
    return sec * US + int(c_round(raw * 1e6 - float(sec * US)))


# -- time zones --------------------------------------------------------------------------


class _Cursor:
    """RethinkDB's sanitizer primitives over one string (``mandatory_digits``,
    ``optional_char``), with its error messages."""

    __slots__ = ("s", "at")

    def __init__(self, s: str) -> None:
        self.s = s
        self.at = 0

    def digits(self, n: int) -> int:
        s = self.s
        v = 0
        for _ in range(n):
            at = self.at
            self.at += 1
            if at >= len(s):
                raise _err(f"Truncated date string `{s}`.")
            c = s[at]
            if not "0" <= c <= "9":
                raise _err(f"Invalid date string `{s}` (got `{c}` but expected a digit).")
            v = v * 10 + (ord(c) - 48)
        return v

    def opt(self, c: str) -> bool:
        if self.at < len(self.s) and self.s[self.at] == c:
            self.at += 1
            return True
        return False

    def done(self) -> bool:
        return self.at == len(self.s)

    def rest(self) -> str:
        return self.s[self.at :]


def sanitize_tz(s: str) -> str:
    """A time zone string normalised to ``+HH:MM`` or RethinkDB's error for it."""
    if s == "-00" or s == "-00:00":
        raise _err(f"`{s}` is not a valid time offset.")
    if s == "Z":
        return "+00:00"
    if not s or s[0] not in "+-":
        raise _err(f"Timezone `{s}` does not start with `-` or `+`.")
    cur = _Cursor(s)
    cur.at = 1
    hours = cur.digits(2)
    if cur.done():
        return f"{s[0]}{hours:02d}:00"
    cur.opt(":")
    minutes = cur.digits(2)
    if not cur.done():
        raise _err(f"Garbage characters `{cur.rest()}` at end of timezone string `{s}`.")
    if hours > 24:
        raise _err(f"Hours out of range in `{s}`.")
    if minutes > 59:
        raise _err(f"Minutes out of range in `{s}`.")
    return f"{s[0]}{hours:02d}:{minutes:02d}"


def tz_valid(s: str) -> bool:
    try:
        sanitize_tz(s)
    except ReqlQueryLogicError:
        return False
    return True


def tz_offset_us(tz: str) -> int:
    """The offset of a normalised ``+HH:MM`` zone in microseconds."""
    minutes = int(tz[1:3]) * 60 + int(tz[4:6])
    return (-minutes if tz[0] == "-" else minutes) * 60 * US


def _check_offset(off_us: int) -> int:
    """boost's posix_time_zone only takes offsets from -12:00 to +14:00 ("Offset out of
    range: 15:00:00"); RethinkDB meets it whenever a zone goes through boost (calendar
    fields, ``to_iso8601``, ``r.time``, ``r.iso8601``), not in ``in_timezone``."""
    if off_us < -12 * 3600 * US or off_us > 14 * 3600 * US:
        secs = abs(off_us) // US
        sign = "-" if off_us < 0 else ""
        raise _time_logic(f"Offset out of range: {sign}{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}")
    return off_us


def boost_offset_us(tz: str) -> int:
    """The offset of a normalised zone as boost takes it (range-checked)."""
    return _check_offset(tz_offset_us(tz))


def _default_tz(raw: str) -> str:
    """``default_timezone`` of ``r.iso8601``: RethinkDB hands it to boost as a POSIX zone
    (letters, then an offset) and reads back boost's rendering of it, so e.g. ``-07``,
    ``+5``, ``Z`` and ``-00:00`` are accepted, ``UTC`` counts as no zone at all and
    ``PST`` gives "Invalid ISO 8601 timezone: `PST+00`."."""
    if not raw:
        raise _err(NO_TIME_ZONE)
    i = 0
    while i < len(raw) and raw[i].isascii() and raw[i].isalpha():
        i += 1
    abbrev = raw[:i]
    j = i
    while j < len(raw) and not (raw[j].isascii() and raw[j].isalpha()):
        j += 1
    off_text, dst = raw[i:j], raw[j:]
    off_us = 0
    if off_text:
        # boost's str_from_delimited_time_duration: fields split at - : , . (so
        # "+0530" is 530 hours), negative when the text starts with "-"
        neg = off_text.startswith("-")
        fields = [f for f in re.split(r"[-:,.]", off_text) if f][:3]
        if not fields or not re.fullmatch(r"\+?\d+", fields[0]) or not all(
            f.isascii() and f.isdigit() for f in fields[1:]
        ):
            raise _err(f"Invalid ISO 8601 timezone: `{raw}`.")
        h, m, sec = ([int(f) for f in fields] + [0, 0])[:3]
        off_us = (h * 3600 + m * 60 + sec) * US * (-1 if neg else 1)
        _check_offset(off_us)
    if dst:
        raise _err(f"Invalid ISO 8601 timezone: `{raw}`.")
    secs = abs(off_us) // US
    rendered = f"{abbrev}{'-' if off_us < 0 else '+'}{secs // 3600:02d}"
    if secs % 3600:
        rendered += f":{secs // 60 % 60:02d}"
    if rendered in ("UTC+00", ""):
        raise _err(NO_TIME_ZONE)
    if rendered == "Z+00":
        return "+00:00"
    try:
        return sanitize_tz(rendered)
    except ReqlQueryLogicError:
        raise _err(f"Invalid ISO 8601 timezone: `{rendered}`.") from None


# -- the calendar ------------------------------------------------------------------------


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """The proleptic Gregorian (year, month, day) of a day number since 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if is_leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def check_year(y: int) -> None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise _time_logic(f"Year is out of valid range: {MIN_YEAR}..{MAX_YEAR}")


def check_month(m: int) -> None:
    if not 1 <= m <= 12:
        raise _time_logic("Month number is out of range 1..12")


def check_day(d: int) -> None:
    if not 1 <= d <= 31:
        raise _time_logic("Day of month value is out of range 1..31")


def checked_date_days(y: int, m: int, d: int) -> int:
    """Days since 1970 of a date boost accepts (its range checks and messages)."""
    if d > days_in_month(y, m):
        raise _time_logic("Day of month is not valid for year")
    return days_from_civil(y, m, d)


def checked_civil(days: int) -> tuple[int, int, int]:
    y, m, d = civil_from_days(days)
    check_year(y)
    return y, m, d


# -- reading a time datum ------------------------------------------------------------------


def epoch_of(t: dict) -> int | float:
    """``epoch_time`` of a pseudo-type (RethinkDB reads the field of whatever pseudo-type
    it was given)."""
    if t.get(REQL_TYPE) == "TIME":
        return t["epoch_time"]
    if t.get(REQL_TYPE) == "BINARY":
        raise _err("Expected type OBJECT but found PTYPE<BINARY>.")
    v = t.get("epoch_time")
    if v is None:
        raise ReqlNonExistenceError(f"No attribute `epoch_time` in object:\n{print_datum(t)}")
    if v.__class__ not in (int, float):
        raise _err(f"Expected type NUMBER but found {_type_name(v)}.")
    return v


def tz_of(t: dict) -> str:
    tz = t.get("timezone", "+00:00")
    return sanitize_tz(tz) if tz.__class__ is str else "+00:00"


def _type_name(v: Any) -> str:
    from ...datum.types import type_name

    return type_name(v)


class Broken:
    """A time split into its UTC microseconds and its zone (boost's local_date_time)."""

    __slots__ = ("epoch", "utc_us", "tz", "off_us")

    def __init__(self, t: dict) -> None:
        self.epoch = epoch_of(t)
        # epoch_time is kept to the millisecond: count exact milliseconds (boost's own
        # double arithmetic loses them for times far from 1970)
        self.utc_us = int(c_round(self.epoch * 1000.0)) * 1000
        self.tz = tz_of(t)
        self.off_us = boost_offset_us(self.tz)

    @property
    def local_us(self) -> int:
        return self.utc_us + self.off_us

    def local_days_tod(self) -> tuple[int, int]:
        """(day number, microseconds into the day) of the local time."""
        return divmod(self.local_us, DAY_US)

    def local_date(self) -> tuple[int, int, int]:
        return checked_civil(self.local_days_tod()[0])


def to_iso8601(t: dict) -> str:
    b = Broken(t)
    y_utc = checked_civil(b.utc_us // DAY_US)[0]
    if not 0 <= y_utc <= 9999:
        raise _err(f"Year `{y_utc}` out of valid ISO 8601 range [0, 9999].")
    days, tod = b.local_days_tod()
    y, m, d = checked_civil(days)
    secs, frac = divmod(tod, US)
    out = f"{y:04d}-{m:02d}-{d:02d}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    if frac:
        out += "." + f"{frac:06d}"[:3]
    return out + b.tz


def portion(t: dict, which: str) -> int | float:
    """year, month, day, day_of_week, day_of_year, hours, minutes or seconds."""
    b = Broken(t)
    days, tod = b.local_days_tod()
    if which == "hours":
        return tod // (3600 * US)
    if which == "minutes":
        return tod // (60 * US) % 60
    if which == "seconds":
        # whole seconds of the local time plus the fraction of epoch_time (RethinkDB's
        # formula, which takes the fraction with the sign of epoch_time)
        frac = math.modf(b.epoch)[0] if b.epoch.__class__ is float else 0.0
        return num(float(tod // US % 60) + c_round(frac * 1000.0) / 1000.0)
    y, m, d = checked_civil(days)
    if which == "year":
        return y
    if which == "month":
        return m
    if which == "day":
        return d
    if which == "day_of_week":
        return (days + 3) % 7 + 1  # ISO 8601: Monday is 1, Sunday 7 (1970-01-01: Thursday)
    if which == "day_of_year":
        return days - days_from_civil(y, 1, 1) + 1
    raise AssertionError(which)  # pragma: no cover


def date_of(t: dict) -> dict:
    """Midnight of the local day, in the same zone."""
    b = Broken(t)
    days, _tod = b.local_days_tod()
    checked_civil(days)
    return time_from_us(days * DAY_US - b.off_us, b.tz)


def time_of_day(t: dict) -> int | float:
    b = Broken(t)
    days, tod = b.local_days_tod()
    checked_civil(days)
    return num(c_round(tod / 1e6 * 1000.0) / 1000.0)


def in_timezone(t: dict, tz: str) -> dict:
    new = sanitize_tz(tz)
    out = {k: v for k, v in t.items() if k != "timezone"}
    out["timezone"] = new
    if out.get(REQL_TYPE) == "TIME":
        out["epoch_time"] = sanitize_epoch(out["epoch_time"])
    return out


def time_add(t: dict, seconds: int | float) -> dict:
    """``time + seconds`` (also ``seconds + time``): same zone, sanitized."""
    return {REQL_TYPE: "TIME", "epoch_time": sanitize_epoch(t["epoch_time"] + seconds), "timezone": t["timezone"]}


def time_sub(t: dict, other: Any) -> Any:
    """``time - time`` (seconds, to the millisecond) or ``time - seconds`` (a time)."""
    if other.__class__ is dict and other.get(REQL_TYPE) == "TIME":
        return sanitize_epoch(t["epoch_time"] - other["epoch_time"])
    return time_add(t, -other)


# -- r.time ------------------------------------------------------------------------------------


def construct(year: int, month: int, day: int, hours: int, minutes: int, seconds: float, tz: str) -> dict:
    """``r.time``: boost's date (arguments cast to unsigned short, checked day, month then
    year), plus hours and minutes (negative if either is), plus the seconds; the result
    is the local time in ``tz``."""
    year &= 0xFFFF
    month &= 0xFFFF
    day &= 0xFFFF
    check_day(day)
    check_month(month)
    check_year(year)
    days = checked_date_days(year, month, day)
    if hours < 0 or minutes < 0:
        dur = -(abs(hours) * 3600 + abs(minutes) * 60) * US
    else:
        dur = (hours * 3600 + minutes * 60) * US
    local_us = days * DAY_US + dur + seconds_to_us(seconds)
    tz = sanitize_tz(tz)
    return time_from_us(local_us - boost_offset_us(tz), tz)


# -- ISO 8601 ---------------------------------------------------------------------------------


def _sanitize_date(s: str) -> tuple:
    """RethinkDB's date sanitizer: ("md", y, m, d), ("doy", y, n) or ("week",)."""
    cur = _Cursor(s)
    year = cur.digits(4)
    if cur.done():
        return ("md", year, 1, 1)
    first_hyphen = cur.opt("-")
    if cur.opt("W"):
        cur.digits(2)
        if cur.done():
            return ("week",)
        cur.opt("-")
        cur.digits(1)
        out: tuple = ("week",)
    elif len(s) - cur.at == 3:
        out = ("doy", year, cur.digits(3))
    else:
        month = cur.digits(2)
        if first_hyphen and cur.done():
            return ("md", year, month, 1)
        second_hyphen = cur.opt("-")
        if first_hyphen != second_hyphen:
            raise _err(f"Date string `{s}` must have 0 or 2 hyphens.")
        out = ("md", year, month, cur.digits(2))
    if not cur.done():
        raise _err(f"Garbage characters `{cur.rest()}` at end of date string `{s}`.")
    return out


def _sanitize_time(s: str) -> tuple[int, int, int, int]:
    """RethinkDB's time sanitizer: (hours, minutes, seconds, milliseconds); digits past
    the third of a fraction are dropped (truncated, not rounded)."""
    cur = _Cursor(s)
    hours = cur.digits(2)
    if cur.done():
        return hours, 0, 0, 0
    first_colon = cur.opt(":")
    minutes = cur.digits(2)
    if cur.done():
        return hours, minutes, 0, 0
    second_colon = cur.opt(":")
    if first_colon != second_colon:
        raise _err(f"Time string `{s}` must have 0 or 2 colons.")
    seconds = cur.digits(2)
    millis = 0
    if cur.opt("."):
        read = 0
        while not cur.done() and read < 3:
            millis = millis * 10 + cur.digits(1)
            read += 1
        while not cur.done():
            cur.digits(1)
        millis *= 10 ** (3 - read)
    if not cur.done():
        raise _err(f"Garbage characters `{cur.rest()}` at end of time string `{s}`.")
    return hours, minutes, seconds, millis


def parse_iso8601(s: str, default_tz: str) -> dict:
    """``r.iso8601``: the TIME for an ISO 8601 string, or RethinkDB's error."""
    tloc = s.find("T")
    date = _sanitize_date(s if tloc < 0 else s[:tloc])
    if tloc < 0:
        clock = (0, 0, 0, 0)
        tz = None
    else:
        start = tloc + 1
        sign = s.find("-", start)
        if sign < 0:
            sign = s.find("+", start)
        if sign < 0:
            sign = s.find("Z", start)
        clock = _sanitize_time(s[start:] if sign < 0 else s[start:sign])
        tz = None if sign < 0 else sanitize_tz(s[sign:])
    if date[0] == "week":
        raise _err(ISO_WEEK_DATES)
    year = date[1]
    check_year(year)
    if date[0] == "md":
        _, _, month, day = date
        check_month(month)
        check_day(day)
        days = checked_date_days(year, month, day)
    else:
        n = date[2]
        if not 1 <= n <= 366:
            raise _time_logic("Day of year value is out of range 1..366")
        days = days_from_civil(year, 1, 1) + n - 1
    if tz is None:
        tz = _default_tz(default_tz)
    else:
        boost_offset_us(tz)  # boost reads the zone after the date
    hours, minutes, seconds, millis = clock
    local_us = (days * 86_400 + hours * 3600 + minutes * 60 + seconds) * US + millis * 1000
    return time_from_us(local_us - tz_offset_us(tz), tz)


# -- the pseudo-type sanitizer -----------------------------------------------------------------


def sanitize_time_object(obj: dict) -> dict:
    """Validate and normalise a ``{"$reql_type$": "TIME", ...}`` object (fields visited in
    key order, like RethinkDB; the first problem is reported)."""
    out = dict(obj)
    msg = ""
    has_epoch = has_tz = False
    for key in sorted(obj):
        v = obj[key]
        if key == "epoch_time":
            if v.__class__ in (int, float):
                has_epoch = True
                out[key] = sanitize_epoch(v)
            else:
                msg = f"field `epoch_time` must be a number (got `{trunc_print(v)}` of type {_type_name(v)})"
                break
        elif key == "timezone":
            if v.__class__ is str:
                try:
                    out[key] = sanitize_tz(v)
                except ReqlQueryLogicError:
                    msg = f"invalid timezone string `{trunc_print(v)}`"
                    break
                has_tz = True
            else:
                msg = f"field `timezone` must be a string (got `{trunc_print(v)}` of type {_type_name(v)})"
                break
        elif key != REQL_TYPE:
            msg = f"unrecognized field `{key}`"
            break
    if not msg and not has_epoch:
        msg = "no field `epoch_time`"
    elif not msg and not has_tz:
        msg = "no field `timezone`"
    if msg:
        raise _err(f"Invalid time object constructed ({msg}):\n{trunc_print(out)}")
    return {REQL_TYPE: "TIME", "epoch_time": out["epoch_time"], "timezone": out["timezone"]}
