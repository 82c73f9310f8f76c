"""Geospatial terms: constructors (point, line, polygon, circle, geojson), to_geojson,
distance, intersects, includes, fill, polygon_sub, get_intersecting and get_nearest;
and the sanitizer of GEOMETRY objects arriving as data.

As in RethinkDB (``terms/geo.cc``) every geo term but ``point`` and ``to_geojson`` is
non-deterministic (floating-point geometry may differ between machines), so only
``r.point`` may appear in an index function. The geometry itself lives in
``reqlite/ql/geo/``.
"""

from __future__ import annotations

from typing import Any

from ...datum.printing import trunc_print
from ...datum.types import REQL_TYPE, num
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from .. import indexing
from ..datum_input import pseudo_sanitizer
from ..geo import geodesy, geometry
from ..geo.geometry import GEOMETRY, geo_error
from ..geo.index import GeoIntersecting, get_nearest
from ..term import Term, as_datum, as_int, as_number, as_object, as_string, register, type_error
from ..values import Table
from .obj import FILTER, ObjOrSeqTerm


@pseudo_sanitizer(GEOMETRY)
def _sanitize_geometry(obj: dict) -> dict:
    return geometry.sanitize(obj)


def as_geometry(value: Any) -> dict:
    """RethinkDB's ``as_ptype("GEOMETRY")`` (any pseudo-type passes; its fields are
    looked at later)."""
    d = as_datum(value)
    if d.__class__ is not dict or d.get(REQL_TYPE).__class__ is not str:
        raise ReqlQueryLogicError(f"Not a {GEOMETRY} pseudotype: `{trunc_print(d)}`.")
    return d


def _checked(obj: dict) -> dict:
    """A freshly built geometry: validated (RethinkDB's ``validate_geojson``)."""
    geometry.validate(obj)
    return obj


class GeoTerm(Term):
    __slots__ = ()
    deterministic = False


@register(T.GEOJSON)
class GeoJson(GeoTerm):
    __slots__ = ()
    name = "geojson"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> dict:
        obj = as_object(await self.datum_arg(0, q, env))
        geometry.validate(obj)
        if REQL_TYPE in obj:
            raise ReqlQueryLogicError("GeoJSON object already had a $reql_type$ field.")
        out = dict(obj)
        out[REQL_TYPE] = GEOMETRY
        out.pop("bbox", None)
        return geometry.sanitize(out)


@register(T.TO_GEOJSON)
class ToGeoJson(Term):
    __slots__ = ()
    name = "to_geojson"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> dict:
        g = as_geometry(await self.arg(0, q, env))
        return {k: v for k, v in g.items() if k != REQL_TYPE}


@register(T.POINT)
class Point(Term):
    # Deterministic: it only range-checks its numbers.
    __slots__ = ()
    name = "point"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> dict:
        lng = await self.num_arg(0, q, env)
        lat = await self.num_arg(1, q, env)
        return _checked(geometry.make_point(lng, lat))


async def _points(term: Term, q: Any, env: dict) -> list[tuple[float, float]]:
    return [geometry.point_argument(await term.datum_arg(i, q, env)) for i in range(len(term.args))]


@register(T.LINE)
class Line(GeoTerm):
    __slots__ = ()
    name = "line"
    argspec = (2, None)

    async def eval(self, q: Any, env: dict) -> dict:
        return _checked(geometry.make_line(await _points(self, q, env)))


@register(T.POLYGON)
class Polygon(GeoTerm):
    __slots__ = ()
    name = "polygon"
    argspec = (3, None)

    async def eval(self, q: Any, env: dict) -> dict:
        return _checked(geometry.make_polygon(await _points(self, q, env)))


class _GeoPredicate(ObjOrSeqTerm):
    """``intersects``/``includes``: on a geometry, the predicate; on a sequence, a filter."""

    __slots__ = ()
    poly = FILTER
    deterministic = False

    async def _apply(self, q: Any, env: dict, v0: Any, memo: dict, nested: bool) -> Any:
        if v0.__class__ is dict and v0.get(REQL_TYPE) == GEOMETRY:
            return await self.obj_eval(q, env, v0, memo)
        return await super()._apply(q, env, v0, memo, nested)

    async def _other(self, q: Any, env: dict, memo: dict) -> geometry.Shape:
        shape = memo.get("other")
        if shape is None:
            shape = memo["other"] = geometry.parse(as_geometry(await self.args[1].eval(q, env)))
        return shape


@register(T.INTERSECTS)
class Intersects(_GeoPredicate):
    __slots__ = ()
    name = "intersects"
    argspec = (2, 2)

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> bool:
        a = geometry.parse(as_geometry(obj))
        return geometry.intersects(a, await self._other(q, env, memo))


@register(T.INCLUDES)
class Includes(_GeoPredicate):
    __slots__ = ()
    name = "includes"
    argspec = (2, 2)

    async def obj_eval(self, q: Any, env: dict, obj: dict, memo: dict) -> bool:
        g = as_geometry(obj)
        found = geometry.geo_type(g)
        if found != "Polygon":
            raise geo_error(f"Expected geometry of type `Polygon` but found `{found}`.")
        polygon = geometry.parse(g)
        return geometry.includes(polygon, await self._other(q, env, memo))


async def _ellipsoid(term: Term, q: Any, env: dict) -> geodesy.Ellipsoid:
    t = term.optargs.get("geo_system")
    if t is None:
        return geodesy.WGS84
    v = as_datum(await t.eval(q, env))
    if v.__class__ is dict:
        a = as_number(geometry.get_field(v, "a"))
        f = as_number(geometry.get_field(v, "f"))
        if not a > 0.0:
            raise ReqlQueryLogicError("The equator radius `a` must be positive.")
        if not (f >= 0.0 and f < 1.0):
            raise ReqlQueryLogicError("The flattening `f` must be in the range [0, 1).")
        return (float(a), float(f))
    name = as_string(v)
    if name == "WGS84":
        return geodesy.WGS84
    if name == "unit_sphere":
        return geodesy.UNIT_SPHERE
    raise ReqlQueryLogicError(f'Unrecognized geo system "{name}" (valid options: "WGS84", "unit_sphere").')


async def _unit(term: Term, q: Any, env: dict) -> str:
    t = term.optargs.get("unit")
    if t is None:
        return "m"
    unit = as_string(await t.eval(q, env))
    geodesy.unit_factor(unit)
    return unit


@register(T.DISTANCE)
class Distance(GeoTerm):
    __slots__ = ()
    name = "distance"
    argspec = (2, 2)
    optargspec = ("geo_system", "unit")

    async def eval(self, q: Any, env: dict) -> float:
        g1 = await self.arg(0, q, env)
        g2 = await self.arg(1, q, env)
        e = await _ellipsoid(self, q, env)
        unit = await _unit(self, q, env)
        a = as_geometry(g1)
        if geometry.geo_type(a) == "Point":
            p, g = a, as_geometry(g2)
        else:
            p, g = as_geometry(g2), a
            found = geometry.geo_type(p)
            if found != "Point":
                raise geo_error(f"Expected geometry of type `Point` but found `{found}`.")
        d = geodesy.distance(geometry.parse(p).point, geometry.parse(g), e)
        return num(geodesy.convert(d, "m", unit))


@register(T.CIRCLE)
class Circle(GeoTerm):
    __slots__ = ()
    name = "circle"
    argspec = (2, 2)
    optargspec = ("geo_system", "unit", "fill", "num_vertices")

    async def eval(self, q: Any, env: dict) -> dict:
        center_v = await self.arg(0, q, env)
        radius_v = await self.arg(1, q, env)
        fill = await self.bool_opt("fill", q, env, True)
        num_vertices = 32
        t = self.optargs.get("num_vertices")
        if t is not None:
            num_vertices = as_int(await t.eval(q, env))
            if num_vertices < 0 or num_vertices >= 2**32:
                raise ReqlQueryLogicError(
                    f"Integer too large: {num_vertices}" if num_vertices > 0 else
                    f"Integer too small: {num_vertices}"
                )
            if num_vertices <= 0:
                raise ReqlQueryLogicError("num_vertices must be positive.")
        e = await _ellipsoid(self, q, env)
        unit = await _unit(self, q, env)
        center = geometry.point_argument(as_datum(center_v))
        radius = geodesy.convert(as_number(radius_v), unit, "m")
        ring = geodesy.build_circle(center, radius, num_vertices, e)
        return _checked(geometry.make_polygon(ring) if fill else geometry.make_line(ring))


@register(T.FILL)
class Fill(GeoTerm):
    __slots__ = ()
    name = "fill"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> dict:
        shell = geometry.extract_line(as_geometry(await self.arg(0, q, env)))
        return _checked(geometry.make_polygon(shell))


@register(T.POLYGON_SUB)
class PolygonSub(GeoTerm):
    __slots__ = ()
    name = "polygon_sub"
    argspec = (2, 2)

    @staticmethod
    def _shell_only(value: Any) -> dict:
        g = as_geometry(value)
        found = geometry.geo_type(g)
        if found != "Polygon":
            raise ReqlQueryLogicError(f"Expected a Polygon but found a {found}.")
        from ..term import as_array

        if len(as_array(geometry.get_field(g, "coordinates"))) > 1:
            raise ReqlQueryLogicError("Expected a Polygon with only an outer shell.  This one has holes.")
        return g

    async def eval(self, q: Any, env: dict) -> dict:
        lhs = self._shell_only(await self.arg(0, q, env))
        rhs = self._shell_only(await self.arg(1, q, env))
        if not geometry.includes(geometry.parse(lhs), geometry.parse(rhs)):
            raise geo_error("The second argument to `polygon_sub` is not contained in the first one.")
        coords = list(lhs["coordinates"]) + [rhs["coordinates"][0]]
        check_size = getattr(q, "array_limit", None)
        if check_size is not None and len(coords) > check_size:
            from ..streams import array_limit_error

            raise array_limit_error(check_size)
        return _checked({REQL_TYPE: GEOMETRY, "coordinates": coords, "type": "Polygon"})


async def _geo_table_index(term: Term, q: Any, env: dict) -> tuple[Table, Any, str]:
    table = await term.args[0].eval(q, env)
    if not isinstance(table, Table):
        raise type_error("TABLE", table)
    value = await term.args[1].eval(q, env)
    t = term.optargs.get("index")
    if t is None:
        raise ReqlQueryLogicError(f"{term.name} requires an index argument.")
    index = as_string(await t.eval(q, env))
    if index == table.primary_key:
        raise ReqlQueryLogicError(f"{term.name} cannot use the primary index.")
    return table, value, index


def _geo_spec(table: Table, index: str, term_name: str) -> dict:
    spec = indexing.ready_spec(table, index, geo=True)
    if not spec.get("geo"):
        raise ReqlQueryLogicError(
            f"Index `{index}` is not a geospatial index.  {term_name} can only be used with a "
            "geospatial index."
        )
    return spec


@register(T.GET_INTERSECTING)
class GetIntersecting(GeoTerm):
    __slots__ = ()
    name = "get_intersecting"
    argspec = (2, 2)
    optargspec = ("index",)

    async def eval(self, q: Any, env: dict) -> GeoIntersecting:
        table, value, index = await _geo_table_index(self, q, env)
        query = as_geometry(value)
        spec = _geo_spec(table, index, self.name)
        return GeoIntersecting(q, table, spec, geometry.parse(query))


@register(T.GET_NEAREST)
class GetNearest(GeoTerm):
    __slots__ = ()
    name = "get_nearest"
    argspec = (2, 2)
    optargspec = ("index", "max_results", "max_dist", "geo_system", "unit")

    async def eval(self, q: Any, env: dict) -> list:
        table, value, index = await _geo_table_index(self, q, env)
        center = geometry.point_argument(as_datum(value))
        e = await _ellipsoid(self, q, env)
        unit = await _unit(self, q, env)
        max_dist = 100000.0
        t = self.optargs.get("max_dist")
        if t is not None:
            max_dist = geodesy.convert(as_number(await t.eval(q, env)), unit, "m")
            if not max_dist > 0.0:
                raise ReqlQueryLogicError("max_dist must be positive.")
        max_results = 100
        t = self.optargs.get("max_results")
        if t is not None:
            max_results = as_int(await t.eval(q, env))
            if max_results <= 0:
                raise ReqlQueryLogicError("max_results must be positive.")
        spec = _geo_spec(table, index, self.name)
        return await get_nearest(q, table, spec, center, max_dist, max_results, e, unit)

