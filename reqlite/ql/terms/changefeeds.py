"""``changes``: turn a selection into a changefeed (the machinery is in ql/feeds.py)."""

from __future__ import annotations

from typing import Any

from ...datum.printing import print_datum
from ...datum.types import type_name
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from .. import feeds
from ..term import Term, as_datum, register


@register(T.CHANGES)
class Changes(Term):
    __slots__ = ()
    name = "changes"
    argspec = (1, 1)
    optargspec = (
        "squash",
        "changefeed_queue_size",
        "include_initial",
        "include_states",
        "include_offsets",
        "include_types",
    )
    deterministic = False

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        squash = as_datum(await self.opt("squash", q, env, False))
        if squash.__class__ not in (bool, int, float) or (squash.__class__ is not bool and squash < 0):
            raise ReqlQueryLogicError(
                f"Expected BOOL or a positive NUMBER but found {type_name(squash)}."
                if squash.__class__ not in (int, float)
                else f"Expected BOOL or a positive NUMBER but found a negative NUMBER ({print_datum(squash)})."
            )
        queue_size = None
        if "changefeed_queue_size" in self.optargs:
            v = as_datum(await self.optargs["changefeed_queue_size"].eval(q, env))
            if v.__class__ not in (int, float) or v < 1:
                raise ReqlQueryLogicError(
                    f"Changefeed queue size must be at least 1 (got {print_datum(v)})."
                )
            queue_size = int(v)
        include_initial = await self.bool_opt("include_initial", q, env, False)
        include_states = await self.bool_opt("include_states", q, env, False)
        include_offsets = await self.bool_opt("include_offsets", q, env, False)
        include_types = await self.bool_opt("include_types", q, env, False)
        src = await feeds.analyze(q, value)
        if include_offsets and src.kind != "top":
            raise ReqlQueryLogicError("Cannot include offsets for range subs.")
        return feeds.make_feed(
            q, src, squash, queue_size, include_initial, include_states, include_types, include_offsets
        )
