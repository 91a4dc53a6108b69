"""PostgreSQL access: migrations and queries. Nothing outside this package writes SQL."""

from app.store.db import Database

__all__ = ["Database"]
