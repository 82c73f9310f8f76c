"""Geospatial terms and the geospatial index, beyond the polyglot files.

Distances are checked against geographiclib directly; the index is checked against the
predicate: for random points, lines and polygons, ``get_intersecting`` through the index
equals a full scan filtered with ``intersects``, and ``get_nearest`` equals the sorted
distances of a full scan.
"""

from __future__ import annotations

import math
import random

import pytest
from geographiclib.geodesic import Geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlNonExistenceError, ReqlOpFailedError, ReqlQueryLogicError

from reqlite.errors import ReqlQueryLogicError as LocalLogicError
from reqlite.ql.geo import geometry, projection
from reqlite.ql.geo.index import _key_ranges, cell_key

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

lons = st.floats(min_value=-179.0, max_value=179.0, allow_nan=False)
lats = st.floats(min_value=-80.0, max_value=80.0, allow_nan=False)


def _ring(cx: float, cy: float, radius: float, n: int, rng: random.Random) -> list[list[float]]:
    """A simple (star-shaped) ring around (cx, cy)."""
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    pts = []
    for a in angles:
        rr = radius * rng.uniform(0.4, 1.0)
        pts.append([cx + rr * math.cos(a), cy + rr * math.sin(a)])
    return pts


def _valid(term, conn) -> bool:
    try:
        term.run(conn)
        return True
    except ReqlQueryLogicError:
        return False


# -- constructors, validation, sanitizer ------------------------------------------------


def test_constructors_and_round_trip(conn):
    p = r.point(-122.5, 37.25).run(conn)
    assert p == {"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [-122.5, 37.25]}
    assert r.point(1, 2).to_geojson().run(conn) == {"type": "Point", "coordinates": [1, 2]}
    assert r.geojson(r.point(1, 2).to_geojson()).run(conn) == r.point(1, 2).run(conn)
    assert r.point(1, 2).type_of().run(conn) == "PTYPE<GEOMETRY>"
    poly = r.polygon([0, 0], [1, 0], [1, 1]).run(conn)
    assert poly["coordinates"] == [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    # A geometry sent as data is accepted and usable.
    assert r.expr(p).intersects(r.point(-122.5, 37.25)).run(conn) is True
    # bbox is dropped by r.geojson.
    g = r.geojson({"type": "Point", "coordinates": [0, 0], "bbox": [0, 0, 0, 0]}).run(conn)
    assert "bbox" not in g
    circle = r.circle([10, 10], 1000).run(conn)
    assert len(circle["coordinates"][0]) == 33  # 32 vertices, closed


@pytest.mark.parametrize(
    ("term", "error", "message"),
    [
        (lambda: r.expr({"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [0, 0], "x": 1}),
         ReqlQueryLogicError, "Unrecognized field `x` found in geometry object."),
        (lambda: r.expr({"$reql_type$": "GEOMETRY", "coordinates": [0, 0]}),
         ReqlNonExistenceError, "Field `type` not found in geometry object."),
        (lambda: r.expr({"$reql_type$": "GEOMETRY", "type": "Point"}),
         ReqlNonExistenceError, "Field `coordinates` not found in geometry object."),
        (lambda: r.expr({"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": 1}),
         ReqlQueryLogicError, "Expected type ARRAY but found NUMBER."),
        (lambda: r.geojson({"type": "Point", "coordinates": [0, 0, 1]}),
         ReqlQueryLogicError, "A third altitude coordinate in GeoJSON positions was found, but is not supported."),
        (lambda: r.geojson({"type": "Point", "coordinates": [0]}),
         ReqlQueryLogicError, "Too few coordinates.  Need at least longitude and latitude."),
        (lambda: r.geojson({"type": "LineString", "coordinates": [[0, 0]]}),
         ReqlQueryLogicError, "GeoJSON LineString must have at least two positions."),
        (lambda: r.geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0.5]]]}),
         ReqlQueryLogicError, "First and last vertex of GeoJSON LinearRing must be identical."),
        (lambda: r.geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
         ReqlQueryLogicError, "GeoJSON LinearRing must have at least four positions."),
        (lambda: r.point(0, 0).intersects({"a": 1}),
         ReqlQueryLogicError, "Not a GEOMETRY pseudotype: `{\n\t\"a\":\t1\n}`."),
        (lambda: r.line([0, 0], [1, 0], [1, 1]).fill().fill(),
         ReqlQueryLogicError, "Expected geometry of type `LineString` but found `Polygon`."),
        (lambda: r.distance(r.point(0, 0), r.point(1, 1), unit="parsec"),
         ReqlQueryLogicError, "Unrecognized distance unit `parsec`."),
        (lambda: r.distance(r.point(0, 0), r.point(1, 1), geo_system="mars"),
         ReqlQueryLogicError, 'Unrecognized geo system "mars" (valid options: "WGS84", "unit_sphere").'),
        (lambda: r.distance(r.point(0, 0), r.point(1, 1), geo_system={"a": -1, "f": 0}),
         ReqlQueryLogicError, "The equator radius `a` must be positive."),
        (lambda: r.distance(r.point(0, 0), r.point(1, 1), geo_system={"a": 1, "f": 1}),
         ReqlQueryLogicError, "The flattening `f` must be in the range [0, 1)."),
        (lambda: r.circle([0, 0], 0),
         ReqlQueryLogicError, "Radius must be positive"),
        (lambda: r.circle([0, 0], 10, num_vertices=0),
         ReqlQueryLogicError, "num_vertices must be positive."),
        (lambda: r.point(0, 0).polygon_sub(r.polygon([0, 0], [1, 0], [1, 1])),
         ReqlQueryLogicError, "Expected a Polygon but found a Point."),
    ],
)
def test_errors(conn, term, error, message):
    with pytest.raises(error) as exc:
        term().run(conn)
    assert exc.value.message == message


def test_only_point_may_be_used_in_index_functions(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    assert t.index_create("p", lambda x: r.point(x["a"], x["b"]), geo=True).run(conn) == {"created": 1}
    with pytest.raises(ReqlQueryLogicError, match="Could not prove function deterministic"):
        t.index_create("c", lambda x: r.circle([0, 0], x["r"]), geo=True).run(conn)
    status = t.index_status("p").run(conn)[0]
    assert status["geo"] is True


# -- distances ------------------------------------------------------------------------


def _s2_round_trip(lon: float, lat: float) -> tuple[float, float]:
    p = projection.point_from_degrees(lon, lat)
    return projection.latitude_degrees(p), projection.longitude_degrees(p)


@SETTINGS
@given(lons, lats, lons, lats, st.sampled_from(["m", "km", "mi", "nm", "ft"]))
def test_point_distances_are_geographiclibs(conn, lon1, lat1, lon2, lat2, unit):
    factor = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "nm": 1852.0, "ft": 0.3048}[unit]
    got = r.distance(r.point(lon1, lat1), r.point(lon2, lat2), unit=unit).run(conn)
    a, b = _s2_round_trip(lon1, lat1), _s2_round_trip(lon2, lat2)
    expected = Geodesic.WGS84.Inverse(a[0], a[1], b[0], b[1])["s12"] / factor
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-9)
    sphere = r.distance(r.point(lon1, lat1), r.point(lon2, lat2), geo_system="unit_sphere").run(conn)
    assert sphere == pytest.approx(Geodesic(1.0, 0.0).Inverse(a[0], a[1], b[0], b[1])["s12"], rel=1e-12, abs=1e-15)


def test_distance_to_lines_and_polygons(conn):
    # The nearest point of a line is its projection; inside a polygon the distance is 0.
    d = r.distance(r.point(0, 1), r.line([-1, 0], [1, 0])).run(conn)
    assert d == pytest.approx(Geodesic.WGS84.Inverse(0, 0, 1, 0)["s12"], rel=1e-9)
    assert r.distance(r.polygon([-1, -1], [1, -1], [1, 1], [-1, 1]), r.point(0, 0)).run(conn) == 0
    d = r.distance(r.point(3, 0), r.polygon([-1, -1], [1, -1], [1, 1], [-1, 1])).run(conn)
    assert d == pytest.approx(Geodesic.WGS84.Inverse(0, 3, 0, 1)["s12"], rel=1e-9)


def test_circle_vertices_are_at_the_radius(conn):
    c = r.circle([10, 45], 5000, num_vertices=12).run(conn)
    for lon, lat in c["coordinates"][0]:
        assert Geodesic.WGS84.Inverse(45, 10, lat, lon)["s12"] == pytest.approx(5000, rel=1e-9)
    assert r.circle([10, 45], 5000).includes(r.point(10, 45)).run(conn) is True
    assert r.circle([10, 45], 5000, fill=False).run(conn)["type"] == "LineString"


# -- the index --------------------------------------------------------------------------


def test_cell_key_ranges_cover_descendants_and_ancestors():
    shape = geometry.validate(geometry.make_polygon([(0, 0), (1, 0), (1, 1)]))
    cells = geometry.covering(shape, 8)
    ranges = _key_ranges(cells)
    for c in cells:
        lo, hi = geometry.cell_range(c)
        for probe in [c, lo, hi, *geometry.cell_ancestors(c)]:
            k = cell_key(probe)
            assert any(s <= k < e for s, e in ranges)
    assert all(s < e for s, e in ranges)
    assert all(ranges[i][1] <= ranges[i + 1][0] for i in range(len(ranges) - 1))


@pytest.fixture(scope="module")
def geo_table(server):
    """A table of random points, lines and polygons with a geo index and a multi geo index."""
    c = r.connect("127.0.0.1", server.port)
    db = "geo_idx"
    if db in r.db_list().run(c):
        r.db_drop(db).run(c)
    r.db_create(db).run(c)
    r.db(db).table_create("t").run(c)
    t = r.db(db).table("t")
    rng = random.Random(2024)
    docs = []
    for i in range(200):
        kind = i % 4
        cx, cy = rng.uniform(-40, 40), rng.uniform(-40, 40)
        if kind == 0:
            g = r.point(cx, cy)
        elif kind == 1:
            g = r.line([cx, cy], [cx + rng.uniform(-5, 5), cy + rng.uniform(-5, 5)])
        else:
            ring = _ring(cx, cy, rng.uniform(0.5, 8), rng.randint(3, 7), rng)
            g = r.polygon(*ring)
            if not _valid(g, c):
                g = r.point(cx, cy)
        docs.append({"id": i, "g": g, "m": [r.point(cx, cy), r.point(cx + 1, cy)]})
    # Points exactly on cell and face boundaries, and shared vertices.
    docs.append({"id": 1000, "g": r.point(0, 0), "m": []})
    docs.append({"id": 1001, "g": r.point(45, 0), "m": []})
    docs.append({"id": 1002, "g": r.polygon([0, 0], [10, 0], [10, 10], [0, 10]), "m": []})
    t.insert(docs[:100]).run(c)
    t.index_create("g", geo=True).run(c)  # built over existing documents
    t.index_create("m", geo=True, multi=True).run(c)
    t.index_wait().run(c)
    t.insert(docs[100:]).run(c)  # maintained by the writes
    yield t, c
    r.db_drop(db).run(c)
    c.close()


def _query_geometries():
    point = st.builds(lambda x, y: r.point(x, y), st.floats(-45, 45), st.floats(-45, 45))
    line = st.builds(lambda x, y, dx, dy: r.line([x, y], [x + dx, y + dy]),
                     st.floats(-45, 45), st.floats(-45, 45), st.floats(0.1, 20), st.floats(-20, 20))
    poly = st.builds(lambda x, y, s, seed: ("poly", x, y, s, seed),
                     st.floats(-45, 45), st.floats(-45, 45), st.floats(0.1, 25), st.integers(0, 10**6))
    corner = st.sampled_from([r.point(0, 0), r.point(10, 10), r.point(5, 0), r.point(45, 0),
                              r.line([-5, 0], [5, 0]), r.polygon([-1, -1], [1, -1], [1, 1], [-1, 1])])
    return st.one_of(point, line, poly, corner)


def _materialize(q):
    if isinstance(q, tuple):
        _, x, y, s, seed = q
        rng = random.Random(seed)
        return r.polygon(*_ring(x, y, s, rng.randint(3, 8), rng))
    return q


@SETTINGS
@given(_query_geometries())
def test_get_intersecting_equals_filter(geo_table, query):
    t, c = geo_table
    query = _materialize(query)
    if not _valid(query, c):
        return
    via_index = sorted(d["id"] for d in t.get_intersecting(query, index="g").run(c))
    via_scan = sorted(d["id"] for d in t.filter(lambda d: d["g"].intersects(query)).run(c))
    assert via_index == via_scan
    # Multi index: one result per matching element.
    via_multi = sorted(d["id"] for d in t.get_intersecting(query, index="m").run(c))
    expected = sorted(
        d["id"] for d in t.concat_map(lambda d: d["m"].filter(lambda g: g.intersects(query)).map(lambda _: d)).run(c)
    )
    assert via_multi == expected


@SETTINGS
@given(st.floats(-45, 45), st.floats(-45, 45), st.integers(1, 30), st.floats(100, 3_000_000))
def test_get_nearest_equals_sorted_scan(geo_table, x, y, max_results, max_dist):
    t, c = geo_table
    got = t.get_nearest(r.point(x, y), index="g", max_results=max_results, max_dist=max_dist).run(c)
    scan = t.map(lambda d: {"dist": r.distance(r.point(x, y), d["g"]), "id": d["id"]}).run(c)
    scan = sorted((s for s in scan if s["dist"] <= max_dist), key=lambda s: s["dist"])[:max_results]
    assert [g["dist"] for g in got] == [s["dist"] for s in scan]
    if scan and (len(scan) < max_results or scan[-1]["dist"] != scan[-2 if len(scan) > 1 else -1]["dist"]):
        assert sorted(g["doc"]["id"] for g in got) == sorted(s["id"] for s in scan)


def test_index_follows_updates_and_deletes(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("g", geo=True).run(conn)
    t.index_wait().run(conn)
    t.insert([{"id": 1, "g": r.point(1, 1)}, {"id": 2, "g": r.point(50, 50)}, {"id": 3, "g": "not geometry"}]).run(conn)
    box = r.polygon([0, 0], [2, 0], [2, 2], [0, 2])
    assert [d["id"] for d in t.get_intersecting(box, index="g").run(conn)] == [1]
    t.get(2).update({"g": r.point(1.5, 1.5)}).run(conn)
    t.get(1).update({"g": r.point(40, 40)}).run(conn)
    assert [d["id"] for d in t.get_intersecting(box, index="g").run(conn)] == [2]
    t.get(2).delete().run(conn)
    assert list(t.get_intersecting(box, index="g").run(conn)) == []
    assert t.get_intersecting(box, index="g").type_of().run(conn) == "SELECTION<STREAM>"
    # A selection: writes through it.
    t.insert({"id": 4, "g": r.point(1, 1)}).run(conn)
    assert t.get_intersecting(box, index="g").update({"hit": True}).run(conn)["replaced"] == 1
    assert t.get(4)["hit"].run(conn) is True


def test_geo_index_errors(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("g", geo=True).run(conn)
    t.index_create("other").run(conn)
    t.index_wait().run(conn)
    msg = "Index `g` is a geospatial index.  Only get_nearest and get_intersecting can use a geospatial index."
    for term in (t.get_all(1, index="g"), t.between(0, 1, index="g"), t.order_by(index="g"),
                 t.eq_join("x", t, index="g")):
        with pytest.raises(ReqlQueryLogicError) as exc:
            term.run(conn)
        assert exc.value.message == msg
    with pytest.raises(ReqlQueryLogicError, match="Cannot use a geospatial index with `get_all`"):
        t.get_all(r.point(0, 0), index="other").run(conn)
    with pytest.raises(ReqlOpFailedError, match="Index `nope` was not found"):
        t.get_nearest(r.point(0, 0), index="nope").run(conn)
    with pytest.raises(ReqlQueryLogicError, match="max_results must be positive"):
        t.get_nearest(r.point(0, 0), index="g", max_results=0).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="max_dist must be positive"):
        t.get_nearest(r.point(0, 0), index="g", max_dist=-1).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Expected geometry of type `Point` but found `LineString`"):
        t.get_nearest(r.line([0, 0], [1, 1]), index="g").run(conn)


def test_nearest_on_an_empty_table_and_units(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("g", geo=True).run(conn)
    t.index_wait().run(conn)
    assert t.get_nearest(r.point(0, 0), index="g").run(conn) == []
    t.insert([{"id": 1, "g": r.point(0, 0.001)}, {"id": 2, "g": r.point(0, 0.002)}]).run(conn)
    km = t.get_nearest([0, 0], index="g", unit="km").run(conn)
    m = t.get_nearest([0, 0], index="g").run(conn)
    assert [x["doc"]["id"] for x in m] == [1, 2]
    assert [x["dist"] * 1000 for x in km] == pytest.approx([x["dist"] for x in m])


def test_predicates_on_sequences(conn):
    pts = [r.point(0, 0), r.point(5, 5), r.point(1, 1)]
    box = r.polygon([-2, -2], [2, -2], [2, 2], [-2, 2])
    assert r.expr(pts).intersects(box).count().run(conn) == 2
    assert r.expr([box, r.polygon([10, 10], [11, 10], [11, 11])]).includes(r.point(0, 0)).count().run(conn) == 1
    with pytest.raises(ReqlQueryLogicError, match="Expected geometry of type `Polygon` but found `Point`"):
        r.point(0, 0).includes(r.point(0, 0)).run(conn)


# -- pure functions -----------------------------------------------------------------------


@SETTINGS
@given(lons, lats)
def test_point_leaf_cell_is_inside_its_ancestors(lon, lat):
    shape = geometry.parse({"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": [lon, lat]})
    (leaf,) = geometry.covering(shape, 8)
    for a in geometry.cell_ancestors(leaf):
        lo, hi = geometry.cell_range(a)
        assert lo <= leaf <= hi
    assert len(geometry.cell_ancestors(leaf)) == 30


@SETTINGS
@given(lons, lats, st.floats(0.01, 10), st.integers(0, 10**6))
def test_covering_contains_points_of_the_polygon(lon, lat, size, seed):
    rng = random.Random(seed)
    ring = _ring(lon, lat, size, rng.randint(3, 7), rng)
    ring = [[max(-180, min(180, x)), max(-90, min(90, y))] for x, y in ring]
    obj = geometry.make_polygon([tuple(p) for p in ring])
    try:
        shape = geometry.validate(obj)
    except LocalLogicError:
        return
    cells = geometry.covering(shape, 8)
    for x, y in ring + [[lon, lat]]:
        pt = geometry.parse(geometry.make_point(x, y))
        if geometry.intersects(shape, pt):
            (leaf,) = geometry.covering(pt, 8)
            assert any(geometry.cell_range(c)[0] <= leaf <= geometry.cell_range(c)[1] for c in cells)
