"""Points on the unit sphere and RethinkDB's projection arithmetic, in plain floats.

RethinkDB decides ``intersects`` between a point and a line or a polygon by projecting
the point onto the other geometry and comparing the projection with the point itself
(bit for bit), and measures distances to lines and polygons from that projection. Those
answers depend on the exact floating-point steps of the S2 edition RethinkDB embeds, so
this module performs the same steps on ``(x, y, z)`` tuples:

- a latitude/longitude in degrees becomes ``(cos lng cos lat, sin lng cos lat, sin lat)``;
- the closest point to X on the edge AB lies on the great circle through A and B (found
  with the "robust" cross product ``(B + A) x (B - A)``) when it falls inside the wedge
  spanned by A, B and that normal, otherwise it is the nearer endpoint;
- the edge nearest to X is the first one with the smallest angular distance
  (``asin`` of the distance to the great circle inside the wedge, else the chord to the
  nearer endpoint turned into an angle).

Everything else (containment, crossings, coverings) is left to ``s2geometry``.
"""

from __future__ import annotations

import math

Vec = tuple[float, float, float]

_DEG = math.pi / 180.0
_RAD = 180.0 / math.pi


def point_from_degrees(lng: float, lat: float) -> Vec:
    """The unit vector of a longitude/latitude in degrees."""
    phi = lat * _DEG
    theta = lng * _DEG
    cosphi = math.cos(phi)
    return (math.cos(theta) * cosphi, math.sin(theta) * cosphi, math.sin(phi))


def latitude_degrees(p: Vec) -> float:
    x, y, z = p
    return _RAD * math.atan2(z, math.sqrt(x * x + y * y))


def longitude_degrees(p: Vec) -> float:
    return _RAD * math.atan2(p[1], p[0])


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _norm2(a: Vec) -> float:
    return a[0] * a[0] + a[1] * a[1] + a[2] * a[2]


def _normalize(a: Vec) -> Vec:
    n = math.sqrt(_norm2(a))
    if n != 0:
        n = 1.0 / n
    return (a[0] * n, a[1] * n, a[2] * n)


def _ortho(a: Vec) -> Vec:
    # Some unit vector orthogonal to `a` (only needed for degenerate edges).
    ax, ay, az = abs(a[0]), abs(a[1]), abs(a[2])
    largest = (0 if ax > az else 2) if ax > ay else (1 if ay > az else 2)
    k = largest - 1
    if k < 0:
        k = 2
    temp = [0.012, 0.0053, 0.00457]
    temp[k] = 1.0
    return _normalize(_cross(a, (temp[0], temp[1], temp[2])))


def robust_cross(a: Vec, b: Vec) -> Vec:
    """A normal of the great circle through ``a`` and ``b`` (twice ``a x b``)."""
    s = (b[0] + a[0], b[1] + a[1], b[2] + a[2])
    d = (b[0] - a[0], b[1] - a[1], b[2] - a[2])
    x = _cross(s, d)
    if x != (0.0, 0.0, 0.0):
        return x
    return _ortho(a)


def _simple_ccw(a: Vec, b: Vec, c: Vec) -> bool:
    return _dot(_cross(c, a), b) > 0


def edge_distance(x: Vec, a: Vec, b: Vec) -> float:
    """The angle (radians) between ``x`` and the edge ``ab``."""
    n = robust_cross(a, b)
    if _simple_ccw(n, a, x) and _simple_ccw(x, b, n):
        sin_dist = abs(_dot(x, n)) / math.sqrt(_norm2(n))
        return math.asin(min(1.0, sin_dist))
    linear2 = min(_norm2(_sub(x, a)), _norm2(_sub(x, b)))
    return 2 * math.asin(min(1.0, 0.5 * math.sqrt(linear2)))


def closest_point(x: Vec, a: Vec, b: Vec) -> Vec:
    """The point of the edge ``ab`` closest to ``x``."""
    n = robust_cross(a, b)
    s = _dot(x, n) / _norm2(n)
    p = (x[0] - s * n[0], x[1] - s * n[1], x[2] - s * n[2])
    if _simple_ccw(n, a, p) and _simple_ccw(p, b, n):
        return _normalize(p)
    return a if _norm2(_sub(x, a)) <= _norm2(_sub(x, b)) else b


def project_on_line(x: Vec, vertices: list[Vec]) -> Vec:
    """The point of the polyline closest to ``x``."""
    if len(vertices) == 1:
        return vertices[0]
    best = 10.0
    best_i = 1
    for i in range(1, len(vertices)):
        d = edge_distance(x, vertices[i - 1], vertices[i])
        if d < best:
            best = d
            best_i = i
    return closest_point(x, vertices[best_i - 1], vertices[best_i])


def project_on_loops(x: Vec, loops: list[list[Vec]]) -> Vec:
    """The point of the loops' boundaries closest to ``x`` (each loop closes itself)."""
    best = 10.0
    edge: tuple[Vec, Vec] | None = None
    for loop in loops:
        n = len(loop)
        for i in range(n):
            a, b = loop[i], loop[(i + 1) % n]
            d = edge_distance(x, a, b)
            if d < best:
                best = d
                edge = (a, b)
    if edge is None:
        return x
    return closest_point(x, edge[0], edge[1])
