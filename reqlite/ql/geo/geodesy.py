"""Reference ellipsoids, distance units, geodesic distances and circles.

RethinkDB measures on an ellipsoid (WGS84 by default, the unit sphere, or any
``{a, f}``) with Karney's geodesic algorithms, in the C edition distributed with
GeographicLib 1.32, compiled as C++ so that its ``hypot`` is the C89 fallback
``sqrt(x*x + y*y)``. We use GeographicLib's own Python edition of the same algorithms
(``geographiclib`` 1.40, the last one before its arithmetic changed) and give it that
``hypot``, which makes distances and circle vertices bit-identical to RethinkDB's.

Distances to lines and polygons are measured to the point of the shape nearest on the
sphere (``geometry.nearest_point``), as RethinkDB does.
"""

from __future__ import annotations

import math
import types
from typing import Any

import geographiclib.geodesic as _geodesic
import geographiclib.geodesicline as _geodesicline
from geographiclib.geodesic import Geodesic

from ...datum.printing import format_g20
from . import projection
from .geometry import RangeError, Shape, geo_error, nearest_point
from .projection import Vec


def _c89_hypot(x: float, y: float) -> float:
    s = x * x + y * y
    if s >= 2.2250738585072014e-308:  # no underflow: what RethinkDB computes
        return math.sqrt(s)
    return math.hypot(x, y)  # where RethinkDB's would divide by zero


def _c89_math() -> Any:
    ns = types.SimpleNamespace(**{k: getattr(math, k) for k in dir(math) if not k.startswith("_")})
    ns.hypot = _c89_hypot
    return ns


_geodesic.math = _c89_math()
_geodesicline.math = _geodesic.math

Ellipsoid = tuple[float, float]  # (equator radius, flattening)

WGS84: Ellipsoid = (6378137.0, 1.0 / 298.257223563)
UNIT_SPHERE: Ellipsoid = (1.0, 0.0)

_UNITS = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "nm": 1852.0, "ft": 0.3048}

_GEODESICS: dict[Ellipsoid, Geodesic] = {}


def _geod(e: Ellipsoid) -> Geodesic:
    g = _GEODESICS.get(e)
    if g is None:
        if len(_GEODESICS) > 64:
            _GEODESICS.clear()
        g = _GEODESICS[e] = Geodesic(e[0], e[1])
    return g


def poles_radius(e: Ellipsoid) -> float:
    return (1.0 - e[1]) * e[0]


def unit_factor(unit: str) -> float:
    """Meters per ``unit`` (RethinkDB's m, km, mi, nm, ft)."""
    f = _UNITS.get(unit)
    if f is None:
        raise geo_error(f"Unrecognized distance unit `{unit}`.")
    return f


def convert(d: float, from_unit: str, to_unit: str) -> float:
    factor = unit_factor(from_unit)
    factor /= unit_factor(to_unit)
    return d * factor


def inverse(lat1: float, lng1: float, lat2: float, lng2: float, e: Ellipsoid) -> float:
    """The geodesic distance between two latitude/longitude pairs, in meters."""
    return _geod(e).Inverse(lat1, lng1, lat2, lng2, Geodesic.DISTANCE)["s12"]


def direct(lat: float, lng: float, azimuth: float, dist: float, e: Ellipsoid) -> tuple[float, float]:
    """The (longitude, latitude) reached from a point going ``dist`` along ``azimuth``."""
    r = _geod(e).Direct(lat, lng, azimuth, dist, Geodesic.LATITUDE | Geodesic.LONGITUDE)
    return r["lon2"], r["lat2"]


def _latlng(p: Vec) -> tuple[float, float]:
    return projection.latitude_degrees(p), projection.longitude_degrees(p)


def distance(p: Vec, g: Shape, e: Ellipsoid) -> float:
    """Meters from the point ``p`` to the nearest point of ``g``."""
    q = nearest_point(p, g)
    if g.kind != "Point" and q == p:
        return 0.0
    lat1, lng1 = _latlng(p)
    lat2, lng2 = _latlng(q)
    return inverse(lat1, lng1, lat2, lng2, e)


def build_circle(center: tuple[float, float], radius: float, num_vertices: int,
                 e: Ellipsoid) -> list[tuple[float, float]]:
    """The closed ring of ``num_vertices`` points at ``radius`` meters around ``center``."""
    if radius <= 0.0:
        raise RangeError("Radius must be positive")
    max_radius = 0.5 * math.pi * min(e[0], poles_radius(e))
    if radius >= max_radius:
        raise RangeError(
            "Radius must be smaller than a quarter of the circumference along the minor axis "
            f"of the reference ellipsoid.  Got {format_g20(radius)}m, but must be smaller than "
            f"{format_g20(max_radius)}m."
        )
    lng, lat = center
    out = []
    for i in range(num_vertices):
        azimuth = -180.0 + (360.0 / num_vertices * i)
        out.append(direct(lat, lng, azimuth, radius, e))
    if num_vertices > 0:
        out.append(out[0])
    return out


def polygon_with_inradius_at_least(center: tuple[float, float], min_inradius: float,
                                   num_vertices: int, e: Ellipsoid) -> list[tuple[float, float]]:
    """A regular ring whose inscribed circle has at least ``min_inradius`` meters."""
    r = min_inradius * 1.01
    b = poles_radius(e)
    max_distortion = max(e[0], b) / min(e[0], b)
    ex_r = r / math.cos(math.pi / num_vertices) * max_distortion
    return build_circle(center, ex_r, num_vertices, e)


def polygon_with_exradius_at_most(center: tuple[float, float], max_exradius: float,
                                  num_vertices: int, e: Ellipsoid) -> list[tuple[float, float]]:
    """A regular ring entirely within ``max_exradius`` meters of ``center``."""
    return build_circle(center, max_exradius * 0.99, num_vertices, e)
