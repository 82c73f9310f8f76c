"""The admin shell: ReQL text in the Python driver's syntax, a REPL and one-shot queries.

``parse(text)`` turns ``r.table('t').filter(r.row['age'] > 30).count()`` into the JSON
term tree the official driver would send (see ``parser.py`` and the grammar
``reql.lark``); ``repl.py`` runs the interactive shell and ``reqlite query``.
"""

from .nodes import ShellError
from .parser import ParsedQuery, parse, parse_term

__all__ = ["ParsedQuery", "ShellError", "parse", "parse_term"]
