"""reqlite: a RethinkDB-compatible document database server."""

__version__ = "0.1.0"

