"""GeoJSON geometry as RethinkDB builds, validates and compares it.

A GEOMETRY datum is a GeoJSON object (``Point``, ``LineString`` or ``Polygon``) with
``$reql_type$: "GEOMETRY"``, stored as is. ``parse`` turns one into a ``Shape`` (the
S2 objects RethinkDB would build, with RethinkDB's validation and messages);
``intersects``/``includes`` are RethinkDB's predicates; ``covering`` gives the S2 cells
a geospatial index stores for a shape.

Semantics follow RethinkDB (``geo/geojson.cc``, ``geo/intersection.cc``,
``geo/inclusion.cc``): a point intersects a line or a polygon when projecting it onto
that geometry gives the point itself (so points on a polygon's outline intersect it);
lines and polygons intersect when they share more than isolated boundary points
(S2's polyline clipping and polygon intersection); ``includes`` is S2 containment.
Longitude 180 is folded onto -180 before building S2 points, as RethinkDB does.
"""

from __future__ import annotations

from typing import Any

import s2geometry as s2

from ...datum.printing import format_g20, print_datum
from ...datum.types import REQL_TYPE
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ..term import as_array, as_number, as_object, as_string
from . import projection
from .projection import Vec

GEOMETRY = "GEOMETRY"

# S2 cells per covering: stored index entries, and index queries (finer: no disk cost).
INDEX_GOAL_CELLS = 8
QUERY_GOAL_CELLS = 16

_UNSUPPORTED = frozenset(
    ("MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection", "Feature", "FeatureCollection")
)


def geo_error(message: str) -> ReqlQueryLogicError:
    """RethinkDB's geo exceptions all surface as logic errors."""
    return ReqlQueryLogicError(message)


class RangeError(ReqlQueryLogicError):
    """A radius or coordinate out of range (RethinkDB's ``geo_range_exception_t``)."""


def get_field(obj: Any, key: str) -> Any:
    obj = as_object(obj)
    try:
        return obj[key]
    except KeyError:
        raise ReqlNonExistenceError(f"No attribute `{key}` in object:\n{print_datum(obj)}") from None


def geo_type(geojson: Any) -> str:
    return as_string(get_field(geojson, "type"))


# -- shapes ---------------------------------------------------------------------------


class Shape:
    """A parsed, validated geometry: a point, a polyline or a polygon."""

    __slots__ = ("kind", "point", "line", "loops", "_s2")

    def __init__(self, kind: str, point: Vec | None = None, line: list[Vec] | None = None,
                 loops: list[list[Vec]] | None = None, region: Any = None) -> None:
        self.kind = kind
        self.point = point
        self.line = line
        self.loops = loops
        self._s2 = region

    def s2(self) -> Any:
        """The S2 object (S2Point, S2Polyline or S2Polygon)."""
        r = self._s2
        if r is None:
            if self.kind == "Point":
                r = _s2point(self.point)
            elif self.kind == "LineString":
                r = s2.S2Polyline()
                r.InitFromS2Points([_s2point(v) for v in self.line])
            self._s2 = r
        return r

    def polygon_is_empty(self) -> bool:
        return not self.loops


def _s2point(v: Vec) -> Any:
    return s2.S2Point_FromRaw(v[0], v[1], v[2])


def position(pos: Any) -> tuple[float, float]:
    """A GeoJSON position ``[longitude, latitude]`` (RethinkDB's checks, no range check)."""
    pos = as_array(pos)
    n = len(pos)
    if n < 2:
        raise geo_error("Too few coordinates.  Need at least longitude and latitude.")
    if n > 3:
        raise geo_error(
            "Too many coordinates.  GeoJSON position should have no more than three "
            f"coordinates, but got {n}."
        )
    if n == 3:
        raise geo_error("A third altitude coordinate in GeoJSON positions was found, but is not supported.")
    return as_number(pos[0]), as_number(pos[1])


def check_range(lng: float, lat: float) -> tuple[float, float]:
    """Range checks; longitude 180 becomes -180 (same point, S2's convention)."""
    if lng < -180.0 or lng > 180.0:
        raise RangeError(f"Longitude must be between -180 and 180.  Got {format_g20(lng)}.")
    if lng == 180.0:
        lng = -180.0
    if lat < -90.0 or lat > 90.0:
        raise RangeError(f"Latitude must be between -90 and 90.  Got {format_g20(lat)}.")
    return lng, lat


def position_point(pos: Any) -> Vec:
    lng, lat = check_range(*position(pos))
    return projection.point_from_degrees(lng, lat)


def _line_points(coords: Any) -> list[Vec]:
    coords = as_array(coords)
    if len(coords) < 2:
        raise geo_error("GeoJSON LineString must have at least two positions.")
    pts = [position_point(c) for c in coords]
    for i in range(1, len(pts)):
        a, b = pts[i - 1], pts[i]
        if a == b or a == (-b[0], -b[1], -b[2]):
            raise geo_error("Invalid LineString.  Are there antipodal or duplicate vertices?")
    return pts


_BAD_RING = "Invalid LinearRing.  Are there antipodal or duplicate vertices? Is it self-intersecting?"


def _loop(coords: Any) -> tuple[list[Vec], Any]:
    coords = as_array(coords)
    if len(coords) < 4:
        raise geo_error("GeoJSON LinearRing must have at least four positions.")
    pts = [position_point(c) for c in coords]
    if pts[0] != pts[-1]:
        raise geo_error("First and last vertex of GeoJSON LinearRing must be identical.")
    pts.pop()
    if len(set(pts)) != len(pts):
        raise geo_error(_BAD_RING)
    loop = s2.S2Loop([_s2point(v) for v in pts])
    if not loop.IsValid():
        raise geo_error(_BAD_RING)
    loop.Normalize()
    return pts, loop


def _polygon(coords: Any) -> Shape:
    coords = as_array(coords)
    rings: list[list[Vec]] = []
    loops = []
    for ring in coords:
        pts, loop = _loop(ring)
        rings.append(pts)
        loops.append(loop)
    poly = s2.S2Polygon()
    if loops:
        poly.InitNested(loops)
        if not poly.IsValid():
            raise geo_error("Some edges in GeoJSON polygon could not be used.  Are they intersecting?")
    return Shape("Polygon", loops=rings, region=poly)


def parse(geojson: Any) -> Shape:
    """The shape of a GeoJSON object (RethinkDB's ``visit_geojson``: validates as it goes)."""
    kind = geo_type(geojson)
    coords = get_field(geojson, "coordinates")
    if kind == "Point":
        return Shape("Point", point=position_point(coords))
    if kind == "LineString":
        return Shape("LineString", line=_line_points(coords))
    if kind == "Polygon":
        return _polygon(coords)
    if kind in _UNSUPPORTED:
        raise geo_error(f"GeoJSON type `{kind}` is not supported.")
    raise geo_error(f"Unrecognized GeoJSON type `{kind}`.")


def validate(geojson: Any) -> Shape:
    """RethinkDB's ``validate_geojson``: no coordinate reference system, a valid shape."""
    crs = as_object(geojson).get("crs")
    if crs is not None:
        raise geo_error(
            "Non-default coordinate reference systems are not supported in GeoJSON objects.  "
            "Make sure the `crs` field of the geometry is null or non-existent."
        )
    return parse(geojson)


def sanitize(obj: dict) -> dict:
    """The syntactic check of a GEOMETRY object arriving as data (RethinkDB's
    ``sanitize_geometry``); the geometry itself is validated where it is used."""
    has_type = has_coordinates = False
    for key, value in obj.items():
        if key == "coordinates":
            as_array(value)
            has_coordinates = True
        elif key == "type":
            as_string(value)
            has_type = True
        elif key == "crs" or key == REQL_TYPE:
            pass
        else:
            raise ReqlQueryLogicError(f"Unrecognized field `{key}` found in geometry object.")
    if not has_type:
        raise ReqlNonExistenceError("Field `type` not found in geometry object.")
    if not has_coordinates:
        raise ReqlNonExistenceError("Field `coordinates` not found in geometry object.")
    return obj


# -- constructing GeoJSON -------------------------------------------------------------


def _num(x: float) -> int | float:
    from ...datum.types import num

    return num(x)


def _pos(p: tuple[float, float]) -> list:
    return [_num(p[0]), _num(p[1])]


def make_point(lng: float, lat: float) -> dict:
    return {REQL_TYPE: GEOMETRY, "coordinates": [_num(lng), _num(lat)], "type": "Point"}


def make_line(points: list[tuple[float, float]]) -> dict:
    return {REQL_TYPE: GEOMETRY, "coordinates": [_pos(p) for p in points], "type": "LineString"}


def _closed(points: list[tuple[float, float]]) -> list:
    out = [_pos(p) for p in points]
    if points and tuple(points[0]) != tuple(points[-1]):
        out.append(out[0])
    return out


def make_polygon(shell: list[tuple[float, float]], holes: list[list[tuple[float, float]]] = ()) -> dict:
    coords = [_closed(shell)] + [_closed(h) for h in holes]
    return {REQL_TYPE: GEOMETRY, "coordinates": coords, "type": "Polygon"}


def _expect_type(geojson: Any, kind: str) -> None:
    found = geo_type(geojson)
    if found != kind:
        raise geo_error(f"Expected geometry of type `{kind}` but found `{found}`.")


def extract_point(geojson: Any) -> tuple[float, float]:
    _expect_type(geojson, "Point")
    return position(get_field(geojson, "coordinates"))


def extract_line(geojson: Any) -> list[tuple[float, float]]:
    _expect_type(geojson, "LineString")
    return [position(p) for p in as_array(get_field(geojson, "coordinates"))]


def point_argument(value: Any) -> tuple[float, float]:
    """A point given as a Point geometry or as a ``[longitude, latitude]`` pair."""
    if value.__class__ is dict and value.get(REQL_TYPE) == GEOMETRY:
        return extract_point(value)
    arr = as_array(value)
    if len(arr) != 2:
        raise geo_error(
            f"Expected point coordinate pair.  Got {len(arr)} element array instead of a 2 element one."
        )
    return as_number(arr[0]), as_number(arr[1])


# -- predicates -----------------------------------------------------------------------


def _point_on_line(p: Vec, line: list[Vec]) -> bool:
    return projection.project_on_line(p, line) == p


def _point_in_polygon(p: Vec, poly: Shape) -> bool:
    if not poly.loops:
        return False
    if poly.s2().Contains(_s2point(p)):
        return True
    return projection.project_on_loops(p, poly.loops) == p


def intersects(a: Shape, b: Shape) -> bool:
    """RethinkDB's ``geo_does_intersect`` (symmetric)."""
    ka, kb = a.kind, b.kind
    if ka == "Point":
        if kb == "Point":
            return a.point == b.point
        if kb == "LineString":
            return _point_on_line(a.point, b.line)
        return _point_in_polygon(a.point, b)
    if kb == "Point":
        return intersects(b, a)
    if ka == "LineString":
        if kb == "LineString":
            return b.s2().Intersects(a.s2())
        if not b.loops:
            return False
        return len(b.s2().IntersectWithPolyline(a.s2())) > 0
    if kb == "LineString":
        return intersects(b, a)
    if not a.loops or not b.loops:
        return False
    return b.s2().Intersects(a.s2())


def includes(polygon: Shape, g: Shape) -> bool:
    """RethinkDB's ``geo_does_include``: does ``polygon`` contain ``g`` (boundary included)?"""
    if g.kind == "Point":
        return _point_in_polygon(g.point, polygon)
    if g.kind == "LineString":
        return polygon.s2().Contains(g.s2())
    return polygon.s2().Contains(g.s2())


def nearest_point(p: Vec, g: Shape) -> Vec:
    """The point of ``g`` closest to ``p`` (``p`` itself when inside a polygon)."""
    if g.kind == "Point":
        return g.point
    if g.kind == "LineString":
        return projection.project_on_line(p, g.line)
    if g.loops and g.s2().Contains(_s2point(p)):
        return p
    return projection.project_on_loops(p, g.loops)


# -- S2 cells -------------------------------------------------------------------------


def covering(shape: Shape, max_cells: int) -> list[int]:
    """The S2 cell ids covering a shape (a point: its leaf cell)."""
    if shape.kind == "Point":
        return [s2.S2CellId(_s2point(shape.point)).id()]
    if shape.kind == "Polygon" and not shape.loops:
        return []
    coverer = s2.S2RegionCoverer()
    coverer.set_max_cells(max_cells)
    return [c.id() for c in coverer.GetCovering(shape.s2())]


def cell_range(cell: int) -> tuple[int, int]:
    """The smallest and largest leaf cell ids inside a cell."""
    lsb = cell & -cell
    return cell - (lsb - 1), cell + (lsb - 1)


def cell_ancestors(cell: int) -> list[int]:
    """Every cell that strictly contains ``cell`` (its parents up to the cube face)."""
    lsb = cell & -cell
    out = []
    while lsb < (1 << 60):
        lsb <<= 2
        out.append((cell & -lsb) | lsb)
    return out
