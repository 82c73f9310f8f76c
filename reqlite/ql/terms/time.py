"""Times: the TIME pseudo-type (validation here; time terms are added per family)."""

from __future__ import annotations

import re

from ...datum.printing import print_datum
from ...datum.types import REQL_TYPE, num
from ...errors import ReqlQueryLogicError
from ..datum_input import pseudo_sanitizer

TZ_RE = re.compile(r"^[+-](\d\d):?(\d\d)$|^Z$")


@pseudo_sanitizer("TIME")
def sanitize_time(obj: dict) -> dict:
    if "epoch_time" not in obj:
        raise ReqlQueryLogicError(
            f"Invalid time object constructed (no field `epoch_time`):\n{print_datum(obj)}"
        )
    if "timezone" not in obj:
        raise ReqlQueryLogicError(
            f"Invalid time object constructed (no field `timezone`):\n{print_datum(obj)}"
        )
    for k in obj:
        if k not in (REQL_TYPE, "epoch_time", "timezone"):
            raise ReqlQueryLogicError(
                f"Invalid time object constructed (unrecognized field `{k}`):\n{print_datum(obj)}"
            )
    et = obj["epoch_time"]
    if et.__class__ not in (int, float):
        raise ReqlQueryLogicError(f"Expected type NUMBER but found {type(et).__name__.upper()}.")
    tz = obj["timezone"]
    if tz.__class__ is not str or not TZ_RE.match(tz):
        raise ReqlQueryLogicError(f"Invalid timezone string `{tz}`.")
    if tz == "Z":
        tz = "+00:00"
    elif ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    return {REQL_TYPE: "TIME", "epoch_time": num(et), "timezone": tz}
