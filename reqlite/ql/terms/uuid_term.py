"""``r.uuid()`` (RethinkDB's uuid.cc): a random version-4 UUID, or with a string argument a
version-5 UUID named by that string in RethinkDB's own namespace, so ``r.uuid('magic')``
is the same on every server."""

from __future__ import annotations

import uuid
from typing import Any

from ...wire.ql2 import TermType as T
from ..term import Term, as_string, register

# RethinkDB's namespace for name-based UUIDs (``base_key_id`` in its uuid.cc).
NAMESPACE = uuid.UUID("91461c99-f89d-49d2-af96-d8e2e14e9b58")


@register(T.UUID)
class Uuid(Term):
    __slots__ = ()
    name = "uuid"
    argspec = (0, 1)
    deterministic = False

    def is_deterministic(self) -> bool:
        """A hash of its argument is deterministic; a random UUID is not."""
        return len(self.args) == 1 and self.args[0].is_deterministic()

    async def eval(self, q: Any, env: dict) -> str:
        if self.args:
            return str(uuid.uuid5(NAMESPACE, as_string(await self.args[0].eval(q, env))))
        return str(uuid.uuid4())
