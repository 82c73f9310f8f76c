"""Geospatial support: GeoJSON geometry, predicates, geodesy and the geospatial index.

RethinkDB builds its geometry on S2 (a 2011 edition it vendors) and its distances and
circles on Karney's geodesic algorithms (GeographicLib). We do the same with the
``s2geometry`` and ``geographiclib`` packages:

- ``geometry``: GeoJSON objects as RethinkDB validates and builds them, parsed into
  S2 shapes; ``intersects``/``includes``; S2 cell coverings (index terms).
- ``projection``: the few S2 formulas whose exact floating-point results RethinkDB's
  answers depend on (closest point on an edge, projection onto a line or a polygon's
  boundary), computed as the S2 edition RethinkDB embeds computes them.
- ``geodesy``: reference ellipsoids, distance units, geodesic distances and circles.
- ``index``: geospatial index entries (S2 cells) and the ``get_intersecting`` /
  ``get_nearest`` traversals.
"""
