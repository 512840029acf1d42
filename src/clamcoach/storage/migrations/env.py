"""Alembic environment for clamcoach's history database.

clamcoach runs migrations itself when it opens a store (``storage.db.migrate``), passing its
open connection in ``config.attributes["connection"]``. Run by hand (``alembic -c ...``), the
database comes from ``sqlalchemy.url`` or the usual URL resolution.
"""

from __future__ import annotations

from alembic import context

from clamcoach.storage.db import create, resolve_url
from clamcoach.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _, write_engine = create(resolve_url(config.get_main_option("sqlalchemy.url")))
    with write_engine.begin() as conn:
        _run(conn)
    write_engine.dispose()
