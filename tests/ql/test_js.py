"""``r.js``: conversions both ways, JavaScript functions as ReQL functions, the timeout,
cancellation, the memory limit, and the event loop staying free during long evaluations."""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from typing import Any

import orjson
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlQueryLogicError

from reqlite.ql import jsengine
from reqlite.ql.terms.js import timeout_ms

# -- JavaScript values to datums ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 1", 2),
        ("1 + 1; 2 + 2", 4),
        ("0.5", 0.5),
        ("6 / 3", 2),
        ("'héllo \\ud83d\\ude00'", "héllo \U0001f600"),
        ("'a\\u0000b'", "a\u0000b"),
        ("'\\ud800x'", "\ufffdx"),  # a lone surrogate cannot be UTF-8
        ("true", True),
        ("null", None),
        ("[1, 'a', [null, false]]", [1, "a", [None, False]]),
        ("({a: {b: [1, {c: 'd'}]}})", {"a": {"b": [1, {"c": "d"}]}}),
        ("var o = Object.create({inherited: 1}); o.own = 2; o", {"own": 2, "inherited": 1}),
        ("new String('ab')", {"0": "a", "1": "b"}),
        ("new Number(5)", {}),
        ("var x = 3; x * x", 9),
    ],
)
def test_values(conn, source: str, expected: Any) -> None:
    assert r.js(source).run(conn) == expected


def test_numbers_keep_the_datum_invariant(conn) -> None:
    assert type(r.js("2.0").run(conn)) is int
    assert r.js("Math.pow(2, 53) + 2").run(conn) == 2.0**53 + 2
    assert type(r.js("Math.pow(2, 53) + 2").run(conn)) is float
    z = r.js("-0").run(conn)
    assert z == 0 and math.copysign(1.0, z) < 0
    assert r.js("[0.1 + 0.2, -0]").type_of().run(conn) == "ARRAY"


def test_dates_become_times(conn) -> None:
    assert r.js("new Date(1500)").to_epoch_time().run(conn) == 1.5
    assert r.js("new Date(1500)").timezone().run(conn) == "+00:00"
    assert r.js("[new Date(0)]").nth(0).type_of().run(conn) == "PTYPE<TIME>"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("undefined", "Cannot convert javascript `undefined` to ql::datum_t."),
        ("({a: undefined})", "Cannot convert javascript `undefined` to ql::datum_t."),
        ("[function() {}]", "Cannot convert function to ql::datum_t."),
        ("/a/", "Cannot convert RegExp to ql::datum_t."),
        ("1 / 0", "Number return value is not finite."),
        ("[NaN]", "Number return value is not finite."),
        ("Symbol()", "Unrecognized value type when converting to ql::datum_t."),
        (
            "var a = []; a[0] = a; a",
            "Recursion limit exceeded in js_to_json (circular reference?).",
        ),
        ("function() { return 1; }", "SyntaxError: function name expected"),
        ("throw new Error('boom')", "Error: boom"),
        ("throw 5", "5"),
        ("nosuchvariable", "ReferenceError: 'nosuchvariable' is not defined"),
        ("({$reql_type$: 'NOPE'})", "Unknown $reql_type$ `PTYPE<NOPE>`."),
    ],
)
def test_conversion_errors(conn, source: str, message: str) -> None:
    with pytest.raises(ReqlQueryLogicError) as info:
        r.js(source).run(conn)
    assert info.value.message == message


def test_source_must_be_a_string(conn) -> None:
    with pytest.raises(ReqlQueryLogicError, match="Expected type STRING but found NUMBER."):
        r.js(1).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Expected type NUMBER but found STRING."):
        r.js("1", timeout="x").run(conn)


def test_array_limit(conn) -> None:
    assert r.js("[1, 2, 3]").run(conn, array_limit=3) == [1, 2, 3]
    with pytest.raises(ReqlQueryLogicError, match="Array over size limit `3`."):
        r.js("[1, 2, 3, 4]").run(conn, array_limit=3)


def test_a_function_is_not_a_query_result(conn) -> None:
    with pytest.raises(ReqlQueryLogicError, match=r"\(got FUNCTION\)"):
        r.js("(function() { return 1; })").run(conn)
    assert r.js("(function() { return 1; })").type_of().run(conn) == "FUNCTION"


# -- JavaScript functions as ReQL functions ----------------------------------------------


def test_functions(conn) -> None:
    double = r.js("(function(x) { return x * 2; })")
    assert r.expr([1, 2]).map(double).run(conn) == [2, 4]
    assert r.expr([1, 2, 3]).filter(r.js("(function(x) { return x >= 2; })")).run(conn) == [2, 3]
    assert r.expr([1, 2, 3]).reduce(r.js("(function(a, b) { return a + b; })")).run(conn) == 6
    assert r.do(1, 2, r.js("(function(a, b) { return [a, b, arguments.length]; })")).run(conn) == [
        1,
        2,
        2,
    ]
    # Any arity (RethinkDB's js functions have none): missing arguments are undefined.
    assert r.do(1, 2, r.js("(function(a) { return a; })")).run(conn) == 1
    assert r.do(1, r.js("(function() { return 7; })")).run(conn) == 7
    with pytest.raises(ReqlQueryLogicError, match="Cannot convert javascript `undefined`"):
        r.do(1, 2, r.js("(function(a, b, c) { return c; })")).run(conn)


def test_filter_uses_truthiness_not_patterns(conn) -> None:
    # A ReQL object literal would be a pattern; a JS function's object is just truthy.
    assert r.expr([{"a": 1}, {"a": 2}]).filter(r.js("(function(x) { return {a: 1}; })")).run(
        conn
    ) == [
        {"a": 1},
        {"a": 2},
    ]
    assert r.expr([1, 2]).filter(r.js("(function(x) { return null; })")).run(conn) == []


def test_arguments_to_javascript(conn) -> None:
    describe = r.js(
        "(function(x) { return [typeof x, Array.isArray(x), x instanceof Date,"
        " x instanceof Date ? x.getTime() : x]; })"
    )
    assert r.do({"a": [1, None]}, describe).run(conn) == ["object", False, False, {"a": [1, None]}]
    assert r.do([1, "s"], describe).run(conn) == ["object", True, False, [1, "s"]]
    assert r.do(r.epoch_time(1.5), describe).run(conn) == ["object", False, True, 1500]
    assert r.do("s", describe).run(conn) == ["string", False, False, "s"]
    assert r.do(None, describe).run(conn) == ["object", False, False, None]
    # Times anywhere in an argument become Dates; the receiver is a fresh empty object.
    assert (
        r.do({"t": [r.epoch_time(2)]}, r.js("(function(x) { return x.t[0].getTime(); })")).run(conn)
        == 2000
    )
    assert r.do(1, r.js("(function(x) { return [this, typeof this]; })")).run(conn) == [
        {},
        "object",
    ]
    # The time comes back in UTC (a Date has no time zone).
    t = r.do(r.epoch_time(3).in_timezone("+02:00"), r.js("(function(x) { return x; })"))
    assert t.timezone().run(conn) == "+00:00"
    assert t.to_epoch_time().run(conn) == 3


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (r.minval, "`r.minval` cannot be passed to `r.js`."),
        (r.maxval, "`r.maxval` cannot be passed to `r.js`."),
        (r.binary(b"ab"), "`r.binary` data cannot be used in `r.js`."),
        ({"x": [r.binary(b"ab")]}, "`r.binary` data cannot be used in `r.js`."),
    ],
)
def test_refused_arguments(conn, arg: Any, message: str) -> None:
    with pytest.raises(ReqlQueryLogicError) as info:
        r.do(arg, r.js("(function(x) { return 1; })")).run(conn)
    assert info.value.message == message


def test_function_errors(conn) -> None:
    with pytest.raises(ReqlQueryLogicError) as info:
        r.do(1, r.js("(function(x) { return function() {}; })")).run(conn)
    assert info.value.message == "Returning functions from within `r.js` is unsupported."
    with pytest.raises(ReqlQueryLogicError) as info:
        r.do(1, r.js("(function(x) { return x.y.z; })")).run(conn)
    assert info.value.message.startswith("TypeError: ")
    with pytest.raises(ReqlQueryLogicError, match="^Expected type FUNCTION but found DATUM:"):
        r.expr([1]).map(r.js("1")).run(conn)


def test_not_deterministic(conn, db) -> None:
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert({"id": 1}).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Could not prove argument deterministic."):
        t.get(1).update({"d": r.js("5")}).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Could not prove argument deterministic."):
        t.get(1).update(r.js("(function(row) { return {e: 1}; })")).run(conn)
    assert t.get(1).update({"d": r.js("5")}, non_atomic=True).run(conn)["replaced"] == 1
    assert (
        t.get(1)
        .update(r.js("(function(row) { return {e: row.d + 1}; })"), non_atomic=True)
        .run(conn)["replaced"]
        == 1
    )
    assert t.get(1).run(conn) == {"id": 1, "d": 5, "e": 6}
    with pytest.raises(ReqlQueryLogicError, match="must be deterministic"):
        t.index_create("i", r.js("(function(row) { return row.id; })")).run(conn)


# Datums that survive a JSON trip unchanged (no pseudo-types: times and binary convert).
_keys = st.text(max_size=6).filter(lambda k: not k.startswith("$reql"))
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
_datums = st.recursive(
    _scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(_keys, c, max_size=4),
    max_leaves=12,
)


def _canon(v: Any) -> Any:
    """A form where ReQL-equal datums are equal and -0.0/0 or 1/1.0 differ by type and sign."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return (type(v).__name__, v)
    if isinstance(v, int | float):
        if isinstance(v, int) or (v.is_integer() and abs(v) <= 2**53 and math.copysign(1, v) > 0):
            if abs(v) <= 2**53:
                return ("n", int(v))
        return ("n", repr(float(v)))
    if isinstance(v, list):
        return ("a", [_canon(x) for x in v])
    return ("o", sorted((k, _canon(x)) for k, x in v.items()))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_datums, max_size=8))
def test_round_trip_through_a_javascript_identity(conn, values: list) -> None:
    out = r.expr(values).map(r.js("(function(x) { return x; })")).run(conn)
    assert _canon(out) == _canon(r.expr(values).run(conn))


# -- timeout, cancellation, memory, the event loop ---------------------------------------


def test_timeout_milliseconds() -> None:
    assert timeout_ms(5) == 5000
    assert timeout_ms(1.3) == 1300
    assert timeout_ms(1.005) == 1004  # truncated, as RethinkDB's uint64 conversion does
    assert timeout_ms(0) == 0
    assert timeout_ms(1e30) == 2**64 - 1


def test_timeout(conn) -> None:
    start = time.monotonic()
    with pytest.raises(ReqlQueryLogicError) as info:
        r.js("while(true) {}", timeout=0.3).run(conn)
    assert info.value.message == "JavaScript query `while(true) {}` timed out after 0.300 seconds."
    assert time.monotonic() - start < 2
    # The same for a call of the function, with the source in the message.
    src = "(function(x) { while(true) {} })"
    with pytest.raises(ReqlQueryLogicError) as info:
        r.expr("foo").do(r.js(src, timeout=0.25)).run(conn)
    assert info.value.message == f"JavaScript query `{src}` timed out after 0.250 seconds."
    # The slow call's worker was killed; the next evaluation gets a healthy one.
    assert r.js("1 + 1").run(conn) == 2


def test_other_connections_keep_being_served(server, conn) -> None:
    """An infinite loop runs in a worker: the server answers everyone else meanwhile."""
    errors: list[str] = []

    def spin() -> None:
        c = r.connect("127.0.0.1", server.port)
        try:
            r.js("while(true) {}", timeout=2).run(c)
        except ReqlQueryLogicError as exc:
            errors.append(exc.message)
        finally:
            c.close()

    th = threading.Thread(target=spin)
    th.start()
    try:
        time.sleep(0.2)  # the loop is running now
        worst = 0.0
        for i in range(20):
            t0 = time.monotonic()
            assert r.expr([i, 1]).sum().run(conn) == i + 1
            assert r.js(f"{i} * 2").run(conn) == 2 * i
            worst = max(worst, time.monotonic() - t0)
        assert worst < 0.5
        assert th.is_alive()  # still spinning while we were served
    finally:
        th.join(10)
    assert errors == ["JavaScript query `while(true) {}` timed out after 2.000 seconds."]


def test_memory_limit(conn) -> None:
    with pytest.raises(ReqlQueryLogicError, match="out of memory|crash"):
        r.js("var a = []; while (true) { a.push(new Array(1000000).fill(a.length)); }").run(conn)
    with pytest.raises(ReqlQueryLogicError, match="out of memory|crash"):
        r.js("'x'.repeat(300 * 1024 * 1024)").run(conn)
    assert r.js("[1, 2].length").run(conn) == 2


# In-process, on the engine itself.


class _Q:
    array_limit = 100_000


async def test_engine_cancellation_kills_the_worker() -> None:
    try:
        with trio.move_on_after(0.3) as scope:
            await jsengine.js_eval("while(true) {}", 1000.0, 100_000)
        assert scope.cancelled_caught
        pool = jsengine._pool()
        assert pool.idle == []  # the spinning worker was killed, not kept
        assert await jsengine.js_eval("[1, 'a']", 5.0, 100_000) == ("d", [1, "a"])
        assert len(pool.idle) == 1
        worker = pool.idle[0]
        with pytest.raises(jsengine.JsTimeout):
            await jsengine.js_eval("for (;;) {}", 0.2, 100_000)
        assert worker.proc.returncode is not None  # killed and reaped
    finally:
        await jsengine.close_pool()


async def test_engine_concurrent_evaluations_use_several_workers() -> None:
    try:
        results: list[Any] = []

        async def one(i: int) -> None:
            results.append(
                await jsengine.js_eval(
                    f"var t = Date.now(); while (Date.now() - t < 150) {{}} {i}", 5.0, 100_000
                )
            )

        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            for i in range(3):
                nursery.start_soon(one, i)
        assert sorted(v for _, v in results) == [0, 1, 2]
        # Three 150 ms loops side by side (plus worker start-up), not one after another.
        assert trio.current_time() - start < 0.45 + 0.5
        assert (
            await jsengine.js_call(
                "(function(a, b) { return a + b; })", orjson.dumps([1, 2]).decode(), 5.0, 100_000
            )
            == 3
        )
    finally:
        await jsengine.close_pool()


async def test_engine_worker_death() -> None:
    try:
        assert await jsengine.js_eval("1", 5.0, 100_000) == ("d", 1)
        pool = jsengine._pool()
        # An idle worker that died is replaced without the query noticing.
        pool.idle[0].proc.kill()
        await pool.idle[0].proc.wait()
        assert await jsengine.js_eval("2", 5.0, 100_000) == ("d", 2)
        # A worker dying in the middle of an evaluation is a crash for that query only.
        idle_pids = {w.proc.pid for w in pool.idle}
        crashed: list[BaseException] = []

        async def spin() -> None:
            try:
                await jsengine.js_eval("while(true) {}", 100.0, 100_000)
            except jsengine.JsCrash as exc:
                crashed.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(spin)
            await trio.sleep(0.3)
            busy = [w for w in idle_pids if w not in {x.proc.pid for x in pool.idle}]
            assert len(busy) == 1
            os.kill(busy[0], signal.SIGKILL)
        assert len(crashed) == 1
        assert await jsengine.js_eval("3", 5.0, 100_000) == ("d", 3)
    finally:
        await jsengine.close_pool()
