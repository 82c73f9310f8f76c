"""Running a query through the official driver in tests: results as plain values, errors as messages."""

from __future__ import annotations

from typing import Any

import pytest
from rethinkdb.errors import ReqlQueryLogicError


def run(conn: Any, q: Any, **opts: Any) -> Any:
    """``q.run(conn)`` with cursors read into lists."""
    res = q.run(conn, **opts)
    if isinstance(res, (list, dict, str, bytes, int, float, bool)) or res is None:
        return res
    return list(res)


def err(conn: Any, q: Any, cls: type = ReqlQueryLogicError, **opts: Any) -> str:
    """The message of the error ``q`` fails with (an instance of ``cls``)."""
    with pytest.raises(cls) as info:
        run(conn, q, **opts)
    return info.value.message
