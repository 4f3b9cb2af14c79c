"""Flask extensions, created unbound here and bound to the app in :func:`app.app.create_app`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def client_address() -> str:
    """The client's IP address for rate limiting.

    The socket's peer address, unless ``TRUSTED_PROXIES`` is above 0: then ``ProxyFix`` has
    replaced it with the address that many proxies back in ``X-Forwarded-For``.
    """
    return get_remote_address() or "unknown"


def limiter_storage_warning(config: Mapping[str, Any]) -> str | None:
    """Why the rate-limit counters will not hold across processes, or ``None`` when they do.

    Counters in memory are per process: with several web workers (``WEB_CONCURRENCY``;
    ProdConfig assumes the Procfile's 2) each one keeps its own, and the limits multiply.
    """
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    workers = int(config.get("WEB_CONCURRENCY") or 1)
    if not storage.startswith("memory://") or workers <= 1:
        return None
    return (
        f"Rate limits are kept in memory but up to {workers} web processes may run "
        "(WEB_CONCURRENCY): each counts sign-in attempts on its own. Set REDIS_URL to share "
        "them, or WEB_CONCURRENCY=1."
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
oauth = OAuth()
limiter = Limiter(key_func=client_address, default_limits=[])


@event.listens_for(Engine, "connect")
def enable_sqlite_foreign_keys(dbapi_connection: object, connection_record: object) -> None:
    """Make SQLite enforce foreign keys, so ``ON DELETE CASCADE`` removes a user's data."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
