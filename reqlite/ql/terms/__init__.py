"""Term families, one module each; importing this package registers them all."""

from . import (  # noqa: F401
    admin,
    aggregate,
    arith,
    changefeeds,
    control,
    datum_terms,
    db_table,
    geo,
    grant,
    http,
    joins,
    js,
    json_term,
    obj,
    pred,
    rand,
    seq,
    sindex,
    slices,
    sort,
    string,
    time,
    type_manip,
    uuid_term,
    writes,
)

# isort: split
# Arrays last: with_fields falls back to its obj.py form unless seq registered one.
from . import arr  # noqa: F401
