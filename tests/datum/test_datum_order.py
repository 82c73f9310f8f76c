"""ReQL's order: ``compare`` is a total order, ``datum_eq``/``hashable`` agree with it, and
``encode_key`` bytes sort exactly like ``compare`` for every datum that can be a key."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from reqlite.datum.binary import make_binary
from reqlite.datum.keys import encode_key
from reqlite.datum.order import compare, datum_eq, hashable
from reqlite.datum.types import MAXVAL_DATUM, MINVAL_DATUM, num

numbers = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False).map(num),
    st.sampled_from([0, -0.0, 0.5, -0.5, 2**53, -(2**53), 1e300, -1e300, 5e-324]),
)
strings = st.one_of(st.text(max_size=6), st.sampled_from(["", "a", "a\x00", "a\x01", "\x00", "é"]))
binaries = st.binary(max_size=5).map(make_binary)
times = st.tuples(
    st.floats(min_value=-1e11, max_value=1e11, allow_nan=False).map(num),
    st.sampled_from(["+00:00", "-07:00", "+13:00"]),
).map(lambda t: {"$reql_type$": "TIME", "epoch_time": t[0], "timezone": t[1]})
scalars = st.one_of(numbers, strings, st.booleans(), binaries, times)


def _arrays(inner: st.SearchStrategy) -> st.SearchStrategy:
    # RethinkDB refuses null in keys, inside arrays too
    return st.lists(inner, max_size=4)


keys = st.recursive(scalars, _arrays, max_leaves=8)
objects = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(numbers, strings), max_size=3)
geometry = st.sampled_from(
    [
        {"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [0, 0]},
        {"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [1, 0]},
    ]
)

def _datums(leaves: st.SearchStrategy) -> st.SearchStrategy:
    return st.recursive(
        st.one_of(leaves, st.none(), objects, st.just(MINVAL_DATUM), st.just(MAXVAL_DATUM)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3)
        ),
        max_leaves=8,
    )


datums = _datums(st.one_of(scalars, geometry))
# Without geometry: RethinkDB compares geometry as a plain object but sorts it by type
# name against other pseudo-types, which is not transitive (see test_geometry_cycle).
ordered_datums = _datums(scalars)


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


@settings(max_examples=400, deadline=None)
@given(keys, keys)
def test_key_bytes_sort_like_compare(a, b):
    assert sign(compare(a, b)) == sign((encode_key(a) > encode_key(b)) - (encode_key(a) < encode_key(b)))


@settings(max_examples=300, deadline=None)
@given(keys, keys)
def test_index_entries_sort_by_secondary_then_primary(a, b):
    # an index entry is encode_key(secondary) + encode_key(primary): self-delimiting keys
    pa, pb = encode_key("p1"), encode_key("p0")
    ea, eb = encode_key(a) + pa, encode_key(b) + pb
    c = compare(a, b)
    if c:
        assert (ea < eb) == (c < 0)
    else:
        assert ea > eb


@settings(max_examples=400, deadline=None)
@given(datums, datums)
def test_antisymmetric_and_consistent_with_equality(a, b):
    c = compare(a, b)
    assert sign(compare(b, a)) == -sign(c)
    assert datum_eq(a, b) == (c == 0)
    if c == 0:
        assert hashable(a) == hashable(b)


@settings(max_examples=300, deadline=None)
@given(st.lists(ordered_datums, min_size=3, max_size=6))
def test_sorting_is_a_total_order(xs):
    ordered = sorted(xs, key=functools.cmp_to_key(compare))
    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            assert compare(ordered[i], ordered[j]) <= 0


def test_type_order():
    ordered = [
        MINVAL_DATUM,
        [],
        False,
        True,
        None,
        -5,
        {},
        make_binary(b"\x00"),
        {"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [0, 0]},
        {"$reql_type$": "TIME", "epoch_time": 0, "timezone": "+00:00"},
        "a",
        MAXVAL_DATUM,
    ]
    for i, x in enumerate(ordered):
        for j, y in enumerate(ordered):
            assert sign(compare(x, y)) == sign(i - j), (x, y)


def test_geometry_compares_as_an_object():
    g = {"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [0, 0]}
    # "$reql_type$" < "z": the geometry sorts first among objects by its keys
    assert compare(g, {"z": 1}) < 0
    assert compare({"$": 1}, g) < 0
    assert compare(g, make_binary(b"")) > 0


def test_geometry_cycle():
    """RethinkDB's own order is cyclic here; we keep its answers rather than invent others."""
    obj = {"a": 0}
    geo = {"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [0, 0]}
    binary = make_binary(b"")
    assert compare(obj, binary) < 0  # OBJECT < PTYPE<BINARY>
    assert compare(binary, geo) < 0  # PTYPE<BINARY> < PTYPE<GEOMETRY>
    assert compare(geo, obj) < 0  # as objects: "$reql_type$" < "a"


def test_numbers_and_zero():
    assert compare(1, 1.0) == 0 and datum_eq(1, 1.0)
    assert compare(-0.0, 0) == 0 and encode_key(-0.0) == encode_key(0)
    assert not datum_eq(True, 1) and compare(True, 1) < 0


def test_primary_key_size_is_rethinkdbs():
    from reqlite.datum.keys import rethinkdb_key_size

    assert rethinkdb_key_size("a" * 127) == 128  # "S" + bytes
    assert rethinkdb_key_size("é") == 3
    assert rethinkdb_key_size(1) == 19  # "N" + 16 hex + "#" + "1"
    assert rethinkdb_key_size(0.1) == 18 + len("0.10000000000000000555")
    assert rethinkdb_key_size(-0.0) == rethinkdb_key_size(0)
    assert rethinkdb_key_size([1, "a"]) == 1 + (19 + 1) + (2 + 1)
    assert rethinkdb_key_size(make_binary(b"\x00\x01\x02")) == 8 + 5
    assert rethinkdb_key_size({"$reql_type$": "TIME", "epoch_time": 1, "timezone": "+00:00"}) == 25


def test_binary_equality_is_by_bytes():
    # the same bytes, one without RethinkDB's line breaks (e.g. written by an older version)
    a = make_binary(b"\x00" * 60)
    b = {"$reql_type$": "BINARY", "data": a["data"].replace("\r\n", "")}
    assert a != b and datum_eq(a, b) and compare(a, b) == 0 and hashable(a) == hashable(b)
