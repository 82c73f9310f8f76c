"""The ReQL vocabulary of the Python driver, as data: which name builds which term.

Each entry says what ``x.name(...)`` (or ``r.name(...)``) builds in RethinkDB's official
Python driver 2.4: the term type, which arguments the driver turns into functions when
they mention ``r.row`` (its ``func_wrap``), whether keyword arguments are accepted, and
the driver class of the result (it decides which methods the result has: only a table
has ``insert``, only a database has ``table_create``).

Wrap rules (applied to the arguments as written, the receiver excluded):

- ``none``: no argument is wrapped;
- ``all``: every argument is;
- ``last``: only the last one (``map``, ``fold``);
- ``after_first``: all but the first, when there are several (``index_create``);
- ``ordering``: all, except those already ``r.asc``/``r.desc`` (``order_by``);
- ``first``: only the first (``r.http``'s url);
- ``funcall``: ``do``: the last argument (the function) is wrapped and moved first.

Keyword rules: ``False`` (none accepted), ``True``, or ``"wrap"`` (accepted and wrapped:
``fold``'s ``emit``/``final_emit``, ``union``'s ``interleave``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..wire.ql2 import TermType as T


@dataclass(frozen=True)
class Method:
    term: T
    cls: str
    wrap: str = "none"
    kwargs: bool | str = False


def _m(term: T, cls: str, wrap: str = "none", kwargs: bool | str = False) -> Method:
    return Method(term, cls, wrap, kwargs)


# Methods every ReQL term has (the driver's RqlQuery).
QUERY_METHODS: dict[str, Method] = {
    "eq": _m(T.EQ, "Eq"),
    "ne": _m(T.NE, "Ne"),
    "lt": _m(T.LT, "Lt"),
    "le": _m(T.LE, "Le"),
    "gt": _m(T.GT, "Gt"),
    "ge": _m(T.GE, "Ge"),
    "add": _m(T.ADD, "Add"),
    "sub": _m(T.SUB, "Sub"),
    "mul": _m(T.MUL, "Mul"),
    "div": _m(T.DIV, "Div"),
    "mod": _m(T.MOD, "Mod"),
    "bit_and": _m(T.BIT_AND, "BitAnd"),
    "bit_or": _m(T.BIT_OR, "BitOr"),
    "bit_xor": _m(T.BIT_XOR, "BitXor"),
    "bit_not": _m(T.BIT_NOT, "BitNot"),
    "bit_sal": _m(T.BIT_SAL, "BitSal"),
    "bit_sar": _m(T.BIT_SAR, "BitSar"),
    "floor": _m(T.FLOOR, "Floor"),
    "ceil": _m(T.CEIL, "Ceil"),
    "round": _m(T.ROUND, "Round"),
    "and_": _m(T.AND, "And"),
    "or_": _m(T.OR, "Or"),
    "not_": _m(T.NOT, "Not"),
    "contains": _m(T.CONTAINS, "Contains", "all"),
    "has_fields": _m(T.HAS_FIELDS, "HasFields"),
    "with_fields": _m(T.WITH_FIELDS, "WithFields"),
    "keys": _m(T.KEYS, "Keys"),
    "values": _m(T.VALUES, "Values"),
    "changes": _m(T.CHANGES, "Changes", kwargs=True),
    "pluck": _m(T.PLUCK, "Pluck"),
    "without": _m(T.WITHOUT, "Without"),
    "do": _m(T.FUNCALL, "FunCall", "funcall"),
    "default": _m(T.DEFAULT, "Default"),
    "update": _m(T.UPDATE, "Update", "all", True),
    "replace": _m(T.REPLACE, "Replace", "all", True),
    "delete": _m(T.DELETE, "Delete", kwargs=True),
    "coerce_to": _m(T.COERCE_TO, "CoerceTo"),
    "ungroup": _m(T.UNGROUP, "Ungroup"),
    "type_of": _m(T.TYPE_OF, "TypeOf"),
    "merge": _m(T.MERGE, "Merge", "all"),
    "append": _m(T.APPEND, "Append"),
    "prepend": _m(T.PREPEND, "Prepend"),
    "difference": _m(T.DIFFERENCE, "Difference"),
    "set_insert": _m(T.SET_INSERT, "SetInsert"),
    "set_union": _m(T.SET_UNION, "SetUnion"),
    "set_intersection": _m(T.SET_INTERSECTION, "SetIntersection"),
    "set_difference": _m(T.SET_DIFFERENCE, "SetDifference"),
    "get_field": _m(T.GET_FIELD, "GetField"),
    "nth": _m(T.NTH, "Nth"),
    "to_json": _m(T.TO_JSON_STRING, "ToJsonString"),
    "to_json_string": _m(T.TO_JSON_STRING, "ToJsonString"),
    "match": _m(T.MATCH, "Match"),
    "split": _m(T.SPLIT, "Split"),
    "upcase": _m(T.UPCASE, "Upcase"),
    "downcase": _m(T.DOWNCASE, "Downcase"),
    "is_empty": _m(T.IS_EMPTY, "IsEmpty"),
    "offsets_of": _m(T.OFFSETS_OF, "OffsetsOf", "all"),
    "slice": _m(T.SLICE, "Slice", kwargs=True),
    "skip": _m(T.SKIP, "Skip"),
    "limit": _m(T.LIMIT, "Limit"),
    "reduce": _m(T.REDUCE, "Reduce", "all"),
    "sum": _m(T.SUM, "Sum", "all"),
    "avg": _m(T.AVG, "Avg", "all"),
    "min": _m(T.MIN, "Min", "all", True),
    "max": _m(T.MAX, "Max", "all", True),
    "map": _m(T.MAP, "Map", "last"),
    "fold": _m(T.FOLD, "Fold", "last", "wrap"),
    "filter": _m(T.FILTER, "Filter", "all", True),
    "concat_map": _m(T.CONCAT_MAP, "ConcatMap", "all"),
    "order_by": _m(T.ORDER_BY, "OrderBy", "ordering", True),
    "between": _m(T.BETWEEN, "Between", kwargs=True),
    "distinct": _m(T.DISTINCT, "Distinct", kwargs=True),
    "count": _m(T.COUNT, "Count", "all"),
    "union": _m(T.UNION, "Union", kwargs="wrap"),
    "inner_join": _m(T.INNER_JOIN, "InnerJoin"),
    "outer_join": _m(T.OUTER_JOIN, "OuterJoin"),
    "eq_join": _m(T.EQ_JOIN, "EqJoin", "all", True),
    "zip": _m(T.ZIP, "Zip"),
    "group": _m(T.GROUP, "Group", "all", True),
    "branch": _m(T.BRANCH, "Branch"),
    "for_each": _m(T.FOR_EACH, "ForEach", "all"),
    "info": _m(T.INFO, "Info"),
    "insert_at": _m(T.INSERT_AT, "InsertAt"),
    "splice_at": _m(T.SPLICE_AT, "SpliceAt"),
    "delete_at": _m(T.DELETE_AT, "DeleteAt"),
    "change_at": _m(T.CHANGE_AT, "ChangeAt"),
    "sample": _m(T.SAMPLE, "Sample"),
    "to_iso8601": _m(T.TO_ISO8601, "ToISO8601"),
    "to_epoch_time": _m(T.TO_EPOCH_TIME, "ToEpochTime"),
    "during": _m(T.DURING, "During", kwargs=True),
    "date": _m(T.DATE, "Date"),
    "time_of_day": _m(T.TIME_OF_DAY, "TimeOfDay"),
    "timezone": _m(T.TIMEZONE, "Timezone"),
    "year": _m(T.YEAR, "Year"),
    "month": _m(T.MONTH, "Month"),
    "day": _m(T.DAY, "Day"),
    "day_of_week": _m(T.DAY_OF_WEEK, "DayOfWeek"),
    "day_of_year": _m(T.DAY_OF_YEAR, "DayOfYear"),
    "hours": _m(T.HOURS, "Hours"),
    "minutes": _m(T.MINUTES, "Minutes"),
    "seconds": _m(T.SECONDS, "Seconds"),
    "in_timezone": _m(T.IN_TIMEZONE, "InTimezone"),
    "to_geojson": _m(T.TO_GEOJSON, "ToGeoJson"),
    "distance": _m(T.DISTANCE, "Distance", kwargs=True),
    "intersects": _m(T.INTERSECTS, "Intersects"),
    "includes": _m(T.INCLUDES, "Includes"),
    "fill": _m(T.FILL, "Fill"),
    "polygon_sub": _m(T.POLYGON_SUB, "PolygonSub"),
}

# Methods only a table has (r.table(...) or r.db(...).table(...)).
TABLE_METHODS: dict[str, Method] = {
    "insert": _m(T.INSERT, "Insert", kwargs=True),
    "get": _m(T.GET, "Get"),
    "get_all": _m(T.GET_ALL, "GetAll", kwargs=True),
    "set_write_hook": _m(T.SET_WRITE_HOOK, "SetWriteHook", kwargs=True),
    "get_write_hook": _m(T.GET_WRITE_HOOK, "GetWriteHook", kwargs=True),
    "index_create": _m(T.INDEX_CREATE, "IndexCreate", "after_first", True),
    "index_drop": _m(T.INDEX_DROP, "IndexDrop"),
    "index_rename": _m(T.INDEX_RENAME, "IndexRename", kwargs=True),
    "index_list": _m(T.INDEX_LIST, "IndexList"),
    "index_status": _m(T.INDEX_STATUS, "IndexStatus"),
    "index_wait": _m(T.INDEX_WAIT, "IndexWait"),
    "status": _m(T.STATUS, "Status"),
    "config": _m(T.CONFIG, "Config"),
    "wait": _m(T.WAIT, "Wait", kwargs=True),
    "reconfigure": _m(T.RECONFIGURE, "Reconfigure", kwargs=True),
    "rebalance": _m(T.REBALANCE, "Rebalance", kwargs=True),
    "sync": _m(T.SYNC, "Sync"),
    "grant": _m(T.GRANT, "Grant", kwargs=True),
    "get_intersecting": _m(T.GET_INTERSECTING, "GetIntersecting", kwargs=True),
    "get_nearest": _m(T.GET_NEAREST, "GetNearest", kwargs=True),
    "uuid": _m(T.UUID, "UUID", kwargs=True),
}

# Methods only a database has (r.db(...)).
DB_METHODS: dict[str, Method] = {
    "table_list": _m(T.TABLE_LIST, "TableList"),
    "config": _m(T.CONFIG, "Config"),
    "wait": _m(T.WAIT, "Wait", kwargs=True),
    "reconfigure": _m(T.RECONFIGURE, "Reconfigure", kwargs=True),
    "rebalance": _m(T.REBALANCE, "Rebalance", kwargs=True),
    "grant": _m(T.GRANT, "Grant", kwargs=True),
    "table_create": _m(T.TABLE_CREATE, "TableCreate", kwargs=True),
    "table_drop": _m(T.TABLE_DROP, "TableDrop"),
    "table": _m(T.TABLE, "Table", kwargs=True),
}

# Functions of the `r` namespace.  `r.expr`, `r.binary`, `r.row` and the constants are
# handled by the transformer itself (see SPECIAL_R below).
R_FUNCTIONS: dict[str, Method] = {
    "json": _m(T.JSON, "Json"),
    "js": _m(T.JAVASCRIPT, "JavaScript", kwargs=True),
    "args": _m(T.ARGS, "Args"),
    "http": _m(T.HTTP, "Http", "first", True),
    "error": _m(T.ERROR, "UserError"),
    "random": _m(T.RANDOM, "Random", kwargs=True),
    "do": _m(T.FUNCALL, "FunCall", "funcall"),
    "table": _m(T.TABLE, "Table", kwargs=True),
    "db": _m(T.DB, "DB"),
    "db_create": _m(T.DB_CREATE, "DbCreate"),
    "db_drop": _m(T.DB_DROP, "DbDrop"),
    "db_list": _m(T.DB_LIST, "DbList"),
    "table_create": _m(T.TABLE_CREATE, "TableCreateTL", kwargs=True),
    "table_drop": _m(T.TABLE_DROP, "TableDropTL"),
    "table_list": _m(T.TABLE_LIST, "TableListTL"),
    "grant": _m(T.GRANT, "GrantTL", kwargs=True),
    "branch": _m(T.BRANCH, "Branch"),
    "union": _m(T.UNION, "Union"),
    "map": _m(T.MAP, "Map", "last"),
    "group": _m(T.GROUP, "Group", "all"),
    "reduce": _m(T.REDUCE, "Reduce", "all"),
    "count": _m(T.COUNT, "Count", "all"),
    "sum": _m(T.SUM, "Sum", "all"),
    "avg": _m(T.AVG, "Avg", "all"),
    "min": _m(T.MIN, "Min", "all"),
    "max": _m(T.MAX, "Max", "all"),
    "distinct": _m(T.DISTINCT, "Distinct", "all"),
    "contains": _m(T.CONTAINS, "Contains", "all"),
    "asc": _m(T.ASC, "Asc", "all"),
    "desc": _m(T.DESC, "Desc", "all"),
    "eq": _m(T.EQ, "Eq"),
    "ne": _m(T.NE, "Ne"),
    "lt": _m(T.LT, "Lt"),
    "le": _m(T.LE, "Le"),
    "gt": _m(T.GT, "Gt"),
    "ge": _m(T.GE, "Ge"),
    "add": _m(T.ADD, "Add"),
    "sub": _m(T.SUB, "Sub"),
    "mul": _m(T.MUL, "Mul"),
    "div": _m(T.DIV, "Div"),
    "mod": _m(T.MOD, "Mod"),
    "bit_and": _m(T.BIT_AND, "BitAnd"),
    "bit_or": _m(T.BIT_OR, "BitOr"),
    "bit_xor": _m(T.BIT_XOR, "BitXor"),
    "bit_not": _m(T.BIT_NOT, "BitNot"),
    "bit_sal": _m(T.BIT_SAL, "BitSal"),
    "bit_sar": _m(T.BIT_SAR, "BitSar"),
    "floor": _m(T.FLOOR, "Floor"),
    "ceil": _m(T.CEIL, "Ceil"),
    "round": _m(T.ROUND, "Round"),
    "not_": _m(T.NOT, "Not"),
    "and_": _m(T.AND, "And"),
    "or_": _m(T.OR, "Or"),
    "type_of": _m(T.TYPE_OF, "TypeOf"),
    "info": _m(T.INFO, "Info"),
    "range": _m(T.RANGE, "Range"),
    "time": _m(T.TIME, "Time"),
    "iso8601": _m(T.ISO8601, "ISO8601", kwargs=True),
    "epoch_time": _m(T.EPOCH_TIME, "EpochTime"),
    "now": _m(T.NOW, "Now"),
    "literal": _m(T.LITERAL, "Literal"),
    "object": _m(T.OBJECT, "Object"),
    "uuid": _m(T.UUID, "UUID"),
    "geojson": _m(T.GEOJSON, "GeoJson"),
    "point": _m(T.POINT, "Point"),
    "line": _m(T.LINE, "Line"),
    "polygon": _m(T.POLYGON, "Polygon"),
    "distance": _m(T.DISTANCE, "Distance", kwargs=True),
    "intersects": _m(T.INTERSECTS, "Intersects"),
    "circle": _m(T.CIRCLE, "Circle", kwargs=True),
}

# Attributes of `r` that are terms themselves (no call).
R_CONSTANTS: dict[str, T] = {
    name: T[name.upper()]
    for name in (
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "minval", "maxval",
    )
}

# Names of `r` the transformer implements itself.
SPECIAL_R = ("expr", "binary", "row")

# Comparison terms: the driver refuses to build one on the result of an infix & or |.
COMPARISONS = {"Eq": "==", "Ne": "!=", "Lt": "<", "Le": "<=", "Gt": ">", "Ge": ">="}


def methods_for(cls: str) -> dict[str, Method]:
    """The methods a term of driver class ``cls`` has."""
    if cls == "Table":
        return {**QUERY_METHODS, **TABLE_METHODS}
    if cls == "DB":
        return {**QUERY_METHODS, **DB_METHODS}
    return QUERY_METHODS


def r_names() -> list[str]:
    """Every name reachable as ``r.<name>`` (for completion and suggestions)."""
    return sorted({*R_FUNCTIONS, *R_CONSTANTS, *SPECIAL_R})


def method_names() -> list[str]:
    """Every method name of any term (for completion)."""
    return sorted({*QUERY_METHODS, *TABLE_METHODS, *DB_METHODS, "run"})
