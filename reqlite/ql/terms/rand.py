"""``r.random`` (RethinkDB's random.cc).

``r.random()`` is a float in [0, 1); ``r.random(x)`` / ``r.random(x, y)`` an integer in
[0, x) / [x, y), or with ``float=True`` a float in that range (bounds in either order).
Integer bounds must be integers within +-2**53 and ordered; float ranges too wide for a
double are drawn at a quarter of their size and scaled back, as RethinkDB does.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from ...datum.printing import format_g20
from ...datum.types import number_as_integer
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..term import Term, as_datum, register, truthy
from .arith import _finite

_rng = random.Random()
_HALF_MAX = sys.float_info.max / 2


def random_float(lower: float, upper: float) -> float:
    """A float between ``lower`` (inclusive) and ``upper`` (exclusive), either order."""
    scaled = False
    if (lower > 0.0) != (upper > 0.0) and abs(lower) > _HALF_MAX - abs(upper):
        scaled = True
        lower /= 4.0
        upper /= 4.0
    result = lower + _rng.random() * (upper - lower)
    if (result >= upper) if upper > lower else (result <= upper):
        result = lower  # the roll reached the (excluded) upper bound
    if scaled:
        result *= 4.0
    return result


def _bound(value: int | float, which: str) -> int:
    i = number_as_integer(value)
    if i is None:
        raise ReqlQueryLogicError(
            f"{which} bound ({format_g20(value)}) could not be safely converted to an integer."
        )
    return i


@register(T.RANDOM)
class Random(Term):
    __slots__ = ()
    name = "random"
    argspec = (0, 2)
    optargspec = ("float",)
    deterministic = False

    def is_deterministic(self) -> bool:
        return False

    async def eval(self, q: Any, env: dict) -> int | float:
        from ..term import as_number

        use_float = len(self.args) == 0
        if "float" in self.optargs:
            use_float = truthy(as_datum(await self.optargs["float"].eval(q, env)))
        args = [as_number(await a.eval(q, env)) for a in self.args]
        if use_float:
            lower, upper = 0.0, 1.0
            if len(args) == 1:
                upper = float(args[0])
            elif len(args) == 2:
                lower, upper = float(args[0]), float(args[1])
            return _finite(random_float(lower, upper))
        if not args:
            raise ReqlQueryLogicError("Generating a random integer requires one or two bounds.")
        if len(args) == 1:
            lo, hi = 0, _bound(args[0], "Upper")
        else:
            lo, hi = _bound(args[0], "Lower"), _bound(args[1], "Upper")
        if lo >= hi:
            raise ReqlQueryLogicError(f"Lower bound ({lo}) is not less than upper bound ({hi}).")
        return _rng.randrange(lo, hi)
