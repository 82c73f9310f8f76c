"""Times: the TIME pseudo-type, constructors, ISO 8601, zones, portions and arithmetic,
beyond the polyglot files (RethinkDB 2.4's exact rounding, ranges and messages).

The calendar is checked against Python's ``datetime`` over its whole range with
hypothesis, in-process (``time_logic`` is pure); the terms are checked through a server.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlCompileError, ReqlNonExistenceError, ReqlQueryLogicError

from reqlite.errors import ReqlQueryLogicError as LogicError
from reqlite.ql.terms import time_logic as tl

# Times from 1400-01-01 to 9999-12-31 (boost's and Python's common range), in ms.
MIN_MS = tl.days_from_civil(1400, 1, 1) * 86_400_000
MAX_MS = tl.days_from_civil(10000, 1, 1) * 86_400_000 - 1
OFFSETS = st.integers(min_value=-12 * 60, max_value=14 * 60)  # what boost accepts


def tz_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    m = abs(minutes)
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def error_of(conn, q, cls=ReqlQueryLogicError) -> str:
    with pytest.raises(cls) as info:
        q.run(conn)
    return info.value.message


def raw(conn, q):
    return q.run(conn, time_format="raw")


# -- the calendar against Python's datetime ---------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=MIN_MS, max_value=MAX_MS), OFFSETS)
def test_portions_match_python(ms, offset):
    tz = tz_text(offset)
    if tz in ("-00:00",):
        tz = "+00:00"
    t = tl.make_time(ms / 1000, tz)
    local_ms = ms + offset * 60_000
    if not MIN_MS <= local_ms < tl.days_from_civil(10001, 1, 1) * 86_400_000:
        with pytest.raises(LogicError, match="Year is out of valid range: 1400..10000"):
            tl.portion(t, "year")
        return
    if local_ms > MAX_MS:  # year 10000: boost's last year, beyond datetime's
        assert tl.portion(t, "year") == 10000
        return
    # datetime cannot hold every year we need for the zone, so compare local fields
    local = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=local_ms)
    assert tl.portion(t, "year") == local.year
    assert tl.portion(t, "month") == local.month
    assert tl.portion(t, "day") == local.day
    assert tl.portion(t, "day_of_week") == local.isoweekday()
    assert tl.portion(t, "day_of_year") == local.timetuple().tm_yday
    assert tl.portion(t, "hours") == local.hour
    assert tl.portion(t, "minutes") == local.minute
    if ms >= 0:
        assert tl.portion(t, "seconds") == pytest.approx(local.second + local.microsecond / 1e6, abs=1e-9)
    assert tl.time_of_day(t) == pytest.approx(
        local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6, abs=1e-6
    )


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1400, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_civil_days_round_trip(d):
    days = d.toordinal() - dt.date(1970, 1, 1).toordinal()
    assert tl.days_from_civil(d.year, d.month, d.day) == days
    assert tl.civil_from_days(days) == (d.year, d.month, d.day)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=MIN_MS + 2 * 86_400_000, max_value=MAX_MS - 2 * 86_400_000), OFFSETS)
def test_iso8601_round_trip(ms, offset):
    tz = tz_text(offset)
    if tz == "-00:00":
        tz = "+00:00"
    t = tl.make_time(ms / 1000, tz)
    text = tl.to_iso8601(t)
    back = tl.parse_iso8601(text, "")
    assert back == t
    # the same instant written in other zones and formats parses back to it
    assert tl.parse_iso8601(text.replace("-", "", 2).replace(":", "", 2), "")["epoch_time"] == t["epoch_time"]
    assert tl.epoch_of(tl.in_timezone(back, "Z")) == t["epoch_time"]
    local = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms + offset * 60_000)
    if 1400 <= local.year <= 9999:
        expected = local.strftime("%Y-%m-%dT%H:%M:%S")
        if local.microsecond:
            expected += f".{local.microsecond // 1000:03d}"
        assert text == f"{local.year:04d}" + expected[4:] + tz


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1401, max_value=9998),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=28),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59_999),
    OFFSETS,
)
def test_time_constructor_matches_python(y, mo, d, h, mi, sec_ms, offset):
    tz = tz_text(offset)
    if tz == "-00:00":
        tz = "+00:00"
    t = tl.construct(y, mo, d, h, mi, sec_ms / 1000, tz)
    local = dt.datetime(y, mo, d, h, mi) + dt.timedelta(milliseconds=sec_ms)
    utc = local - dt.timedelta(minutes=offset)
    expected_ms = (utc - dt.datetime(1970, 1, 1)) // dt.timedelta(milliseconds=1)
    assert round(t["epoch_time"] * 1000) == expected_ms
    assert t["timezone"] == tz
    assert tl.portion(t, "day") == d and tl.portion(t, "hours") == h


# -- rounding and precision ---------------------------------------------------------------------


def test_epoch_rounding_is_c_round():
    assert tl.sanitize_epoch(1.4444445) == 1.444
    assert tl.sanitize_epoch(0.0005) == 0.001  # halves away from zero, not to even
    assert tl.sanitize_epoch(-0.0005) == -0.001
    assert tl.sanitize_epoch(2.0) == 2 and tl.sanitize_epoch(2.0).__class__ is int
    with pytest.raises(LogicError, match="Non-finite number: inf"):
        tl.sanitize_epoch(1e306)


def test_iso_output_keeps_milliseconds_exactly(conn):
    for e, text in ((1.444, "01.444"), (1.001, "01.001"), (2.058, "02.058"), (2.5, "02.500"), (2, "02")):
        assert r.epoch_time(e).to_iso8601().run(conn) == f"1970-01-01T00:00:{text}+00:00"
    assert r.epoch_time(-0.001).to_iso8601().run(conn) == "1969-12-31T23:59:59.999+00:00"


def test_seconds_portion_uses_the_sign_of_epoch_time(conn):
    # RethinkDB adds modf(epoch_time) to the whole local seconds: before 1970 a fraction
    # is subtracted (-1.5 is 23:59:58.5, and seconds() answers 57.5).
    assert r.epoch_time(-1.5).seconds().run(conn) == 57.5
    assert r.epoch_time(-2).seconds().run(conn) == 58
    assert r.epoch_time(61.25).seconds().run(conn) == 1.25


def test_time_difference_rounds_to_ms(conn):
    assert r.epoch_time(1.0015).sub(r.epoch_time(0.0004)).run(conn) == 1.002
    assert r.epoch_time(5).sub(r.epoch_time(7)).run(conn) == -2
    t = r.epoch_time(1375147296.681)
    assert (t + 0.0004).to_epoch_time().run(conn) == 1375147296.681
    assert (t - 0.0006).to_epoch_time().run(conn) == 1375147296.68
    assert r.expr(1).add(r.epoch_time(1)).to_epoch_time().run(conn) == 2
    assert error_of(conn, r.expr(1) - r.epoch_time(1)) == "Expected type NUMBER but found PTYPE<TIME>."
    assert error_of(conn, r.epoch_time(1) - "a") == "Expected type NUMBER but found STRING."
    assert raw(conn, r.epoch_time(1).in_timezone("+02:00") + 60)["timezone"] == "+02:00"


# -- constructors ----------------------------------------------------------------------------------


def test_now_is_fixed_per_query_and_deterministic(conn, db):
    a, b = r.expr([r.now(), r.now()]).run(conn, time_format="raw")
    assert a == b and a["timezone"] == "+00:00"
    assert round(a["epoch_time"], 3) == a["epoch_time"]
    r.db(db).table_create("t").run(conn)
    r.db(db).table("t").insert({"id": 1}).run(conn)
    res = r.db(db).table("t").get(1).update(lambda d: {"at": r.now()}).run(conn)
    assert res["replaced"] == 1
    with pytest.raises(ReqlCompileError, match="Expected 0 arguments but found 1."):
        r.now(1).run(conn)


def test_time_arguments(conn):
    assert error_of(conn, r.time(2013, 13, 1, "Z")) == "Error in time logic: Month number is out of range 1..12."
    assert error_of(conn, r.time(2013, 1, 32, "Z")) == "Error in time logic: Day of month value is out of range 1..31."
    assert error_of(conn, r.time(2013, 2, 29, "Z")) == "Error in time logic: Day of month is not valid for year."
    assert r.time(2012, 2, 29, "Z").day().run(conn) == 29
    assert error_of(conn, r.time(1399, 12, 31, "Z")) == "Error in time logic: Year is out of valid range: 1400..10000."
    assert r.time(10000, 1, 1, "Z").year().run(conn) == 10000
    assert error_of(conn, r.time(2**31, 1, 1, "Z")) == "Integer too large: 2147483648"
    assert error_of(conn, r.time(2013, 1.5, 1, "Z")) == "Number not an integer: 1.5"
    assert error_of(conn, r.time(2013, 1, 1, 1, 2, 3, 4)) == "Expected type STRING but found NUMBER."
    assert error_of(conn, r.time(2013, 1, 1, 1, 2, "Z")) == "Got 6 arguments to TIME (expected 4 or 7)."
    # the date is checked before the time zone
    assert error_of(conn, r.time(2013, 0, 1, "bad")) == "Error in time logic: Month number is out of range 1..12."
    assert error_of(conn, r.time(2013, 1, 1, "+1")) == "Truncated date string `+1`."
    # hours and minutes overflow into the next units; a negative one makes both negative
    assert r.time(2013, 1, 1, 25, 61, 61.5, "Z").to_iso8601().run(conn) == "2013-01-02T02:02:01.500+00:00"
    assert r.time(2013, 1, 1, -1, 30, 0, "Z").to_iso8601().run(conn) == "2012-12-31T22:30:00+00:00"
    assert r.time(2013, 7, 29, 23, 30, 0.1, "-07:00").to_iso8601().run(conn) == "2013-07-29T23:30:00.100-07:00"


def test_epoch_time_values(conn):
    assert raw(conn, r.epoch_time(1.23456)) == {"$reql_type$": "TIME", "epoch_time": 1.235, "timezone": "+00:00"}
    assert error_of(conn, r.epoch_time("1")) == "Expected type NUMBER but found STRING."
    assert r.epoch_time(253402300799.999).to_iso8601().run(conn) == "9999-12-31T23:59:59.999+00:00"
    assert r.epoch_time(253402300799.999).in_timezone("-01:00").to_iso8601().run(conn) == (
        "9999-12-31T22:59:59.999-01:00"
    )
    # the ISO 8601 range is checked on the UTC year; the local one may reach 10000
    assert r.epoch_time(253402300799).in_timezone("+01:00").to_iso8601().run(conn) == "10000-01-01T00:59:59+01:00"
    assert error_of(conn, r.epoch_time(253402300800).to_iso8601()) == (
        "Year `10000` out of valid ISO 8601 range [0, 9999]."
    )
    assert r.epoch_time(1e12).hours().run(conn) == 1  # no date needed: no year range
    assert error_of(conn, r.time(2013, 1, 1, 0, 0, 1e305, "Z")) == "Non-finite number: inf"
    assert error_of(conn, r.epoch_time(1e308) + 1e308) == "Non-finite number: inf"
    assert error_of(conn, r.epoch_time(1e12).date()) == "Error in time logic: Year is out of valid range: 1400..10000."


ISO_ERRORS = [
    ("", "Truncated date string ``."),
    ("201", "Truncated date string `201`."),
    ("2a13", "Invalid date string `2a13` (got `a` but expected a digit)."),
    ("201301", "Truncated date string `201301`."),
    ("2013-0101", "Date string `2013-0101` must have 0 or 2 hyphens."),
    ("2013-01-01.1", "Garbage characters `.1` at end of date string `2013-01-01.1`."),
    ("2013-01-01T13:0000Z", "Time string `13:0000` must have 0 or 2 colons."),
    ("2013-01-01T13:00:00a", "Garbage characters `a` at end of time string `13:00:00a`."),
    ("2013-01-01T13:00:00.0a", "Invalid date string `13:00:00.0a` (got `a` but expected a digit)."),
    ("2013-01-01T13+0", "Truncated date string `+0`."),
    ("2013-01-01T13-07:-1", "Invalid date string `-07:-1` (got `-` but expected a digit)."),
    ("2013-01-01T13+07:001", "Garbage characters `1` at end of timezone string `+07:001`."),
    ("2013-01-01T13-00", "`-00` is not a valid time offset."),
    ("2013-01-01T13+25:00", "Hours out of range in `+25:00`."),
    ("2013-01-01T13+25", "Error in time logic: Offset out of range: 25:00:00."),
    ("2013-01-01T13-12:30", "Error in time logic: Offset out of range: -12:30:00."),
    ("2013-13-01T13+15", "Error in time logic: Month number is out of range 1..12."),
    ("2013-01-01T13+01:60", "Minutes out of range in `+01:60`."),
    ("2013-01-01T13", "ISO 8601 string has no time zone, and no default time zone was provided."),
    ("2013-13-01T13Z", "Error in time logic: Month number is out of range 1..12."),
    ("2013-02-29Z", "Garbage characters `Z` at end of date string `2013-02-29Z`."),
    ("2013-02-29T00Z", "Error in time logic: Day of month is not valid for year."),
    ("1399-12-31T00Z", "Error in time logic: Year is out of valid range: 1400..10000."),
    ("2013-W01-1T00Z", tl.ISO_WEEK_DATES),
]


def test_iso8601_errors(conn):
    for text, message in ISO_ERRORS:
        assert error_of(conn, r.iso8601(text)) == message, text
    assert error_of(conn, r.iso8601(1)) == "Expected type STRING but found NUMBER."
    assert error_of(conn, r.iso8601("2013", default_timezone=1)) == "Expected type STRING but found NUMBER."


def test_iso8601_forms(conn):
    def iso(text, **kw):
        return r.iso8601(text, **kw).to_iso8601().run(conn)

    assert iso("2013", default_timezone="Z") == "2013-01-01T00:00:00+00:00"
    assert iso("2013-07", default_timezone="+05:30") == "2013-07-01T00:00:00+05:30"
    assert error_of(conn, r.iso8601("2013", default_timezone="+0530")) == (
        "Error in time logic: Offset out of range: 530:00:00."  # boost reads 530 hours
    )
    assert iso("2013-032T12Z") == "2013-02-01T12:00:00+00:00"
    assert iso("2012366T00Z") == "2012-12-31T00:00:00+00:00"
    assert iso("2013-07-30T20:56:05.123999-07") == "2013-07-30T20:56:05.123-07:00"  # truncated
    assert iso("2013-07-30T205605.5+0100") == "2013-07-30T20:56:05.500+01:00"
    assert iso("2013-07-30T24:00Z") == "2013-07-31T00:00:00+00:00"
    assert iso("2013-07-30T20:56:05+02:00", default_timezone="-07") == "2013-07-30T20:56:05+02:00"
    assert r.iso8601("2013-07-30T20:56:05Z").timezone().run(conn) == "+00:00"
    # default_timezone goes through boost's POSIX zone reader, not RethinkDB's checks
    assert iso("2013", default_timezone="+5") == "2013-01-01T00:00:00+05:00"
    assert iso("2013", default_timezone="-00:00") == "2013-01-01T00:00:00+00:00"
    assert iso("2013", default_timezone="-07:30") == "2013-01-01T00:00:00-07:30"
    assert error_of(conn, r.iso8601("2013", default_timezone="UTC")) == tl.NO_TIME_ZONE
    assert error_of(conn, r.iso8601("2013", default_timezone="")) == tl.NO_TIME_ZONE
    assert error_of(conn, r.iso8601("2013", default_timezone="PST")) == "Invalid ISO 8601 timezone: `PST+00`."
    assert iso("2013", default_timezone="+13") == "2013-01-01T00:00:00+13:00"
    assert error_of(conn, r.iso8601("2013", default_timezone="+15")) == (
        "Error in time logic: Offset out of range: 15:00:00."
    )


# -- zones, during, portions -----------------------------------------------------------------------


def test_zones(conn):
    t = r.epoch_time(0)
    assert t.in_timezone("+0130").timezone().run(conn) == "+01:30"
    assert t.in_timezone("-05").hours().run(conn) == 19
    # in_timezone takes any zone up to 24:59; boost (calendar fields, to_iso8601) only
    # -12:00..+14:00
    assert t.in_timezone("+24:59").timezone().run(conn) == "+24:59"
    assert t.in_timezone("+14:00").to_iso8601().run(conn) == "1970-01-01T14:00:00+14:00"
    assert error_of(conn, t.in_timezone("+14:01").hours()) == "Error in time logic: Offset out of range: 14:01:00."
    assert error_of(conn, t.in_timezone("-12:01").to_iso8601()) == (
        "Error in time logic: Offset out of range: -12:01:00."
    )
    assert error_of(conn, r.time(2013, 1, 1, "+15")) == "Error in time logic: Offset out of range: 15:00:00."
    assert error_of(conn, t.in_timezone(5)) == "Expected type STRING but found NUMBER."
    assert error_of(conn, t.in_timezone("+1:00")) == "Invalid date string `+1:00` (got `:` but expected a digit)."
    assert t.in_timezone("+01:00").eq(t).run(conn) is True
    assert t.in_timezone("+01:00").lt(t).run(conn) is False


def test_not_a_time(conn):
    assert error_of(conn, r.expr(1).to_epoch_time()) == "Not a TIME pseudotype: `1`."
    assert error_of(conn, r.expr(None).year()) == "Not a TIME pseudotype: `null`."
    assert error_of(conn, r.expr({"a": 1}).timezone()) == 'Not a TIME pseudotype: `{\n\t"a":\t1\n}`.'
    assert error_of(conn, r.binary(b"").to_epoch_time()) == "Expected type OBJECT but found PTYPE<BINARY>."
    assert error_of(conn, r.expr("2013").during(r.now(), r.now())) == 'Not a TIME pseudotype: `"2013"`.'
    with pytest.raises(ReqlQueryLogicError) as info:
        r.expr(None).to_epoch_time().run(conn)
    assert not isinstance(info.value, ReqlNonExistenceError)  # not "null found"


def test_during_bounds(conn):
    a, b, c = r.epoch_time(1), r.epoch_time(2), r.epoch_time(3)
    assert b.during(a, c).run(conn) is True
    assert a.during(a, c, left_bound="open").run(conn) is False
    assert c.during(a, c, right_bound="closed").run(conn) is True
    # a bound is read only when the time sits on it
    assert b.during(a, c, left_bound="x").run(conn) is True
    assert (
        error_of(conn, a.during(a, c, left_bound="x"))
        == 'Expected `open` or `closed` for optarg `left_bound` (got `"x"`).'
    )
    assert error_of(conn, c.during(a, c, right_bound=1)) == "Expected type STRING but found NUMBER."


def test_date_and_time_of_day(conn):
    t = r.epoch_time(1436428422.339)
    assert t.in_timezone("-08:00").date().to_iso8601().run(conn) == "2015-07-08T00:00:00-08:00"
    assert t.in_timezone("+09:00").time_of_day().run(conn) == 60822.339
    assert r.epoch_time(-0.25).time_of_day().run(conn) == 86399.75
    assert r.epoch_time(-0.25).date().to_epoch_time().run(conn) == -86400
    assert r.epoch_time(-17987443200).date().year().run(conn) == 1400
    assert error_of(conn, r.epoch_time(-17987443200).in_timezone("-00:01").year()) == (
        "Error in time logic: Year is out of valid range: 1400..10000."
    )
    assert r.epoch_time(-17987443200).in_timezone("-00:01").hours().run(conn) == 23


def test_sanitizer_messages(conn):
    def obj(**fields):
        return r.expr({"$reql_type$": "TIME", **fields})

    assert raw(conn, obj(epoch_time=1.0005, timezone="Z")) == {
        "$reql_type$": "TIME",
        "epoch_time": 1.001,
        "timezone": "+00:00",
    }
    assert error_of(conn, obj(epoch_time="1", timezone="Z")).startswith(
        'Invalid time object constructed (field `epoch_time` must be a number (got `"1"` of type STRING)):\n'
    )
    assert error_of(conn, obj(epoch_time=1, timezone=0)).startswith(
        "Invalid time object constructed (field `timezone` must be a string (got `0` of type NUMBER)):\n"
    )
    assert error_of(conn, obj(epoch_time=1, timezone="PST")).startswith(
        'Invalid time object constructed (invalid timezone string `"PST"`):\n'
    )
    assert error_of(conn, obj(timezone="Z")).startswith("Invalid time object constructed (no field `epoch_time`):\n")
    assert error_of(conn, obj(epoch_time=1)).startswith("Invalid time object constructed (no field `timezone`):\n")
    # fields are visited in key order: `a` is reported before the bad epoch_time
    assert error_of(conn, obj(a=1, epoch_time="x", timezone="Z")).startswith(
        "Invalid time object constructed (unrecognized field `a`):\n"
    )
    # the printed object shows the fields fixed before the problem was found
    assert error_of(conn, obj(epoch_time=1.0004, timezone="Z", zz=1)) == (
        "Invalid time object constructed (unrecognized field `zz`):\n"
        '{\n\t"$reql_type$":\t"TIME",\n\t"epoch_time":\t1,\n\t"timezone":\t"+00:00",\n\t"zz":\t1\n}'
    )


def test_constants(conn):
    assert r.expr([r.monday, r.sunday, r.january, r.december]).run(conn) == [1, 7, 1, 12]
    assert r.time(2013, r.july, 29, "Z").day_of_week().eq(r.monday).run(conn) is True


def test_driver_datetimes(conn):
    tz = r.make_timezone("-07:00")
    d = dt.datetime(2013, 7, 29, 18, 21, 36, 680999, tz)
    assert r.expr(d).to_iso8601().run(conn) == "2013-07-29T18:21:36.680-07:00"
    back = r.expr(d).run(conn)
    assert back == d.replace(microsecond=680000)
