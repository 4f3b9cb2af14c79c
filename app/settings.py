"""Configuration classes, chosen by the ``APP_SETTINGS`` environment variable.

``APP_SETTINGS`` names one of :class:`DevConfig` (the default), :class:`ProdConfig` or
:class:`TestConfig`. Every setting reads the environment once, when the class is created;
limits and API base URLs live here so tests can point them at 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """A setting needed to start is missing or wrong."""


def database_url(default: str) -> str:
    """Return ``DATABASE_URL`` with Heroku's ``postgres://`` scheme made SQLAlchemy-ready.

    :param default: the URL to use when ``DATABASE_URL`` is unset or empty.
    """
    url = os.environ.get("DATABASE_URL") or default
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def instance_secret(name: str, make: Callable[[], object]) -> str:
    """Read a secret kept in ``instance/<name>``, creating it with ``make()`` the first time.

    Development servers keep their secret key and token key across restarts this way, so
    sessions and stored tokens survive a reload.
    """
    path = INSTANCE_DIR / name
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = str(make())
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def env_flag(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable (``1``, ``true``, ``yes``, ``on`` mean yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable, or ``default`` when unset."""
    value = os.environ.get(name)
    return int(value) if value else default


class Config:
    """Settings shared by every environment."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    TOKEN_ENCRYPTION_KEY: str | None = os.environ.get("TOKEN_ENCRYPTION_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(f"sqlite:///{INSTANCE_DIR / 'md_analytics.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    #: ``thread`` (in-process), ``rq`` (Redis workers) or ``inline``; unset picks rq with Redis.
    JOBS_MODE: str | None = os.environ.get("JOBS_MODE") or None

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock

    # Sign-in throttle (Flask-Limiter syntax).
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    SIGNIN_LIMIT_PER_IP = os.environ.get("SIGNIN_LIMIT_PER_IP", "20 per 10 minutes")
    SIGNIN_LIMIT_PER_ACCOUNT = os.environ.get("SIGNIN_LIMIT_PER_ACCOUNT", "5 per 10 minutes")
    REGISTER_LIMIT_PER_IP = os.environ.get("REGISTER_LIMIT_PER_IP", "10 per hour")

    # Uploads and analysis.
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 512) * 1024 * 1024
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or str(INSTANCE_DIR / "uploads")
    GRAPH_MAX_PEOPLE = env_int("GRAPH_MAX_PEOPLE", 2000)
    # trained (default: best on validation, app.analysis.sentiment.DEFAULT_ENGINE), vader
    # or textblob.
    SENTIMENT_ENGINE = os.environ.get("SENTIMENT_ENGINE", "trained")

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Networks: OAuth apps and API base URLs (tests point these at 127.0.0.1).
    HTTP_TIMEOUT = float(os.environ.get("HTTP_TIMEOUT", "30"))
    HTTP_MAX_RETRIES = env_int("HTTP_MAX_RETRIES", 3)
    HTTP_BACKOFF = float(os.environ.get("HTTP_BACKOFF", "0.5"))
    GITHUB_CLIENT_ID = os.environ.get("GITHUB_CLIENT_ID")
    GITHUB_CLIENT_SECRET = os.environ.get("GITHUB_CLIENT_SECRET")
    GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    GITHUB_AUTHORIZE_URL = os.environ.get(
        "GITHUB_AUTHORIZE_URL", "https://github.com/login/oauth/authorize"
    )
    GITHUB_TOKEN_URL = os.environ.get(
        "GITHUB_TOKEN_URL", "https://github.com/login/oauth/access_token"
    )
    BLUESKY_APPVIEW_URL = os.environ.get("BLUESKY_APPVIEW_URL", "https://public.api.bsky.app")
    #: Let people type http:// Mastodon servers (127.0.0.1 included): development only.
    ALLOW_INSECURE_INSTANCES = env_flag("ALLOW_INSECURE_INSTANCES")
    X_CLIENT_ID = os.environ.get("X_CLIENT_ID")
    X_CLIENT_SECRET = os.environ.get("X_CLIENT_SECRET")
    X_API_URL = os.environ.get("X_API_URL", "https://api.x.com")
    X_AUTHORIZE_URL = os.environ.get("X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize")
    X_TOKEN_URL = os.environ.get("X_TOKEN_URL", "https://api.x.com/2/oauth2/token")
    X_MAX_READS = env_int("X_MAX_READS", 2000)
    #: What X bills per post and per account read (US dollars; the pay-per-use price list).
    X_PRICE_POST_READ = float(os.environ.get("X_PRICE_POST_READ", "0.005"))
    X_PRICE_USER_READ = float(os.environ.get("X_PRICE_USER_READ", "0.010"))
    FACEBOOK_CLIENT_ID = os.environ.get("FACEBOOK_CLIENT_ID")
    FACEBOOK_CLIENT_SECRET = os.environ.get("FACEBOOK_CLIENT_SECRET")
    FACEBOOK_GRAPH_URL = os.environ.get("FACEBOOK_GRAPH_URL", "https://graph.facebook.com/v21.0")
    FACEBOOK_AUTHORIZE_URL = os.environ.get(
        "FACEBOOK_AUTHORIZE_URL", "https://www.facebook.com/v21.0/dialog/oauth"
    )
    FACEBOOK_TOKEN_URL = os.environ.get(
        "FACEBOOK_TOKEN_URL", "https://graph.facebook.com/v21.0/oauth/access_token"
    )
    LINKEDIN_CLIENT_ID = os.environ.get("LINKEDIN_CLIENT_ID")
    LINKEDIN_CLIENT_SECRET = os.environ.get("LINKEDIN_CLIENT_SECRET")
    LINKEDIN_AUTHORIZE_URL = os.environ.get(
        "LINKEDIN_AUTHORIZE_URL", "https://www.linkedin.com/oauth/v2/authorization"
    )
    LINKEDIN_TOKEN_URL = os.environ.get(
        "LINKEDIN_TOKEN_URL", "https://www.linkedin.com/oauth/v2/accessToken"
    )
    LINKEDIN_USERINFO_URL = os.environ.get(
        "LINKEDIN_USERINFO_URL", "https://api.linkedin.com/v2/userinfo"
    )

    @classmethod
    def finalize(cls, config: dict) -> None:
        """Complete ``config`` at app creation (not at import); the base class does nothing."""


class DevConfig(Config):
    """Local development: SQLite in ``instance/``, secrets generated and kept there."""

    @classmethod
    def finalize(cls, config: dict) -> None:
        """Fill in the secret key and token key from ``instance/``, creating them once."""
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = instance_secret("secret_key", lambda: secrets.token_hex(32))
        if not config.get("TOKEN_ENCRYPTION_KEY"):
            config["TOKEN_ENCRYPTION_KEY"] = instance_secret(
                "token_key", lambda: Fernet.generate_key().decode()
            )


class TestConfig(Config):
    """The test suite: an in-memory-like SQLite file per test unless ``DATABASE_URL`` is set."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - test-only value
    TOKEN_ENCRYPTION_KEY = "t7Nf0a1XcmRvQbNd1j6lSJlpaTc7T8PjyHmuEE0W3NQ="  # noqa: S105
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_MODE = "inline"
    SIGNIN_LIMIT_PER_IP = "1000 per minute"
    SIGNIN_LIMIT_PER_ACCOUNT = "1000 per minute"
    REGISTER_LIMIT_PER_IP = "1000 per minute"


class ProdConfig(Config):
    """Production (Heroku): every secret must come from the environment."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def finalize(cls, config: dict) -> None:
        """Refuse to start without the secrets production needs.

        :raises ConfigError: naming every missing variable.
        """
        required = ("SECRET_KEY", "DATABASE_URL", "TOKEN_ENCRYPTION_KEY")
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "ProdConfig needs these environment variables: "
                + ", ".join(missing)
                + ". Set them (Heroku: Settings > Config Vars) and start again."
            )
        config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        config["TOKEN_ENCRYPTION_KEY"] = os.environ["TOKEN_ENCRYPTION_KEY"]
        config["SQLALCHEMY_DATABASE_URI"] = database_url(os.environ["DATABASE_URL"])


CONFIGS = {"DevConfig": DevConfig, "ProdConfig": ProdConfig, "TestConfig": TestConfig}


def config_from_env() -> type[Config]:
    """Return the config class named by ``APP_SETTINGS`` (``DevConfig`` when unset).

    :raises ConfigError: for an unknown name.
    """
    name = os.environ.get("APP_SETTINGS", "DevConfig").rsplit(".", 1)[-1]
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"APP_SETTINGS={name!r} is not one of {', '.join(CONFIGS)}.") from None
