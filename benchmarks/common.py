"""What the sync benchmarks share: an app on a fresh database with one demo connection."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def bench_connection(network: str = "github") -> Iterator[Any]:
    """Inside an app context on a fresh SQLite file (or ``DATABASE_URL``), yield a demo
    connection of ``network``; the tables are dropped afterwards."""
    from app.app import create_app
    from app.extensions import db
    from app.models import Connection, User
    from app.settings import DevConfig, database_url

    folder = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/bench.db")
    config = type(
        "BenchConfig",
        (DevConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url(os.environ["DATABASE_URL"]),
            "SECRET_KEY": "bench",
            "TOKEN_ENCRYPTION_KEY": "bench key",
            "JOBS_MODE": "inline",
            "SCHEDULER": False,
        },
    )
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        user = User(username="bench", email="bench@example.com", password_hash="x")
        db.session.add(user)
        db.session.commit()
        connection = Connection(user_id=user.id, network=network, source="demo")
        db.session.add(connection)
        db.session.commit()
        try:
            yield connection
        finally:
            db.session.remove()  # end the read transaction, or PostgreSQL's DROP waits for it
            db.drop_all()
