"""Configuration classes, chosen by the ``APP_SETTINGS`` environment variable.

``APP_SETTINGS`` names one of :class:`DevConfig` (the default), :class:`ProdConfig` or
:class:`TestConfig`. Every setting reads the environment once, when the class is created;
limits and API base URLs live here so tests can point them at 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


#: The values of ``REGISTRATION``.
REGISTRATION_MODES = ("open", "invite", "closed")
#: The values of ``UPLOAD_STORE`` (``None``: chosen by the job runner).
UPLOAD_STORES = (None, "local", "database")


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


#: Modes of what the app creates: readable by the account the app runs as, nobody else.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: str | os.PathLike[str]) -> None:
    """Create the folder ``path`` (and missing parents) owner-only, if it does not exist.

    Only the last folder gets :data:`PRIVATE_DIR_MODE`; an existing folder is left as it is.
    """
    os.makedirs(path, mode=PRIVATE_DIR_MODE, exist_ok=True)


def create_private_file(path: str | os.PathLike[str]) -> int:
    """Create the file ``path`` owner-only (:data:`PRIVATE_FILE_MODE`) and return its open
    descriptor for writing; the mode is set at creation, so no one can open it in between.

    :raises FileExistsError: the file is already there.
    """
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)


def instance_secret(name: str, make: Callable[[], object]) -> str:
    """Read a secret kept in ``instance/<name>``, creating it with ``make()`` the first time.

    Development servers keep their secret key and token key across restarts this way, so
    sessions and stored tokens survive a reload. The file is created ``0600`` (and
    ``instance/`` ``0700`` when this makes it); an existing one readable by others is
    tightened to ``0600``.
    """
    path = INSTANCE_DIR / name
    if not path.exists():
        make_private_dir(INSTANCE_DIR)
        value = str(make())
        try:
            descriptor = create_private_file(path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(value + "\n")
            return value
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_FILE_MODE)
    return path.read_text().strip()


def create_sqlite_file(uri: str) -> None:
    """Create the SQLite database file of ``uri`` empty and ``0600`` if it does not exist yet,
    so the database SQLite then fills (and its journal, which SQLite gives the database's
    mode) is owner-only. Other databases, in-memory ones and existing files are left alone.

    A relative path is under ``instance/``, as Flask-SQLAlchemy reads it.
    """
    if not uri.startswith("sqlite"):
        return
    url = make_url(uri)
    database = url.database or ""
    if database in ("", ":memory:"):
        return
    if database.startswith("file:") or url.query.get("uri"):
        return  # SQLite URI filenames (shared memory, read-only modes): not a plain path
    path = Path(database) if os.path.isabs(database) else INSTANCE_DIR / database
    if path.exists():
        return
    if path.parent == INSTANCE_DIR:
        make_private_dir(INSTANCE_DIR)
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(create_private_file(path))


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

    # Rate limits. The counters live in Redis when REDIS_URL is set (shared by every worker
    # process and dyno), else in each process's memory.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    #: Off: Flask-Limiter would put its per-address window's reset as Retry-After on every
    #: sign-in response, over the account's own (much shorter) wait.
    RATELIMIT_HEADERS_ENABLED = False
    #: Failed sign-ins from one address (Flask-Limiter syntax); past it the address waits.
    SIGNIN_LIMIT_PER_IP = os.environ.get("SIGNIN_LIMIT_PER_IP", "20 per 10 minutes")
    #: "N per PERIOD": N password attempts in a row may fail for one account before each
    #: further attempt waits; a run of failures is forgotten PERIOD after it began.
    SIGNIN_LIMIT_PER_ACCOUNT = os.environ.get("SIGNIN_LIMIT_PER_ACCOUNT", "5 per day")
    #: The first wait past the free failures, in seconds; it doubles with each failure...
    SIGNIN_BACKOFF_FIRST = env_int("SIGNIN_BACKOFF_FIRST", 5)
    #: ...up to this many seconds.
    SIGNIN_BACKOFF_MAX = env_int("SIGNIN_BACKOFF_MAX", 300)
    REGISTER_LIMIT_PER_IP = os.environ.get("REGISTER_LIMIT_PER_IP", "10 per hour")
    #: Proxies in front of the app that set X-Forwarded-For/-Proto (1 on Heroku); 0 trusts
    #: no such header, so a client cannot pick its own address.
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
    #: Web worker processes (gunicorn --workers); with more than one, memory rate limits are
    #: per process, and the app warns at start when Redis is not set.
    WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1)

    # Registration: "open" (anyone), "invite" (an admin's invite link; the very first
    # account needs none) or "closed" (accounts are made with `manage.py create-user`).
    REGISTRATION = (os.environ.get("REGISTRATION") or "open").strip().lower()
    #: Days an invite link stays valid.
    INVITE_DAYS = float(os.environ.get("INVITE_DAYS") or 7)

    # Uploads and analysis.
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 512) * 1024 * 1024
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or str(INSTANCE_DIR / "uploads")
    #: Where an upload waits for its import (:mod:`app.sync.uploads`): ``local`` (a file in
    #: UPLOAD_FOLDER, imported by the web process's own runner), ``database`` (chunks in the
    #: database, which RQ workers on any machine read), or unset: ``database`` when jobs go
    #: to RQ workers, ``local`` otherwise.
    UPLOAD_STORE: str | None = os.environ.get("UPLOAD_STORE") or None
    #: Size of one stored piece of an upload in the database (KiB); memory holds about one.
    UPLOAD_CHUNK_KB = env_int("UPLOAD_CHUNK_KB", 1024)
    #: An upload no import is waiting for is deleted by the scheduler this many hours old.
    UPLOAD_MAX_AGE_HOURS = float(os.environ.get("UPLOAD_MAX_AGE_HOURS") or 24)
    # What an archive may expand to (app.networks.archive.ArchiveLimits): the sum of every
    # member, one member, the compression ratio of big members and of the sum, members.
    ARCHIVE_MAX_TOTAL_MB = float(os.environ.get("ARCHIVE_MAX_TOTAL_MB") or 2048)
    ARCHIVE_MAX_MEMBER_MB = float(os.environ.get("ARCHIVE_MAX_MEMBER_MB") or 1024)
    ARCHIVE_MAX_RATIO = float(os.environ.get("ARCHIVE_MAX_RATIO") or 100)
    ARCHIVE_MAX_MEMBERS = env_int("ARCHIVE_MAX_MEMBERS", 100_000)
    GRAPH_MAX_PEOPLE = env_int("GRAPH_MAX_PEOPLE", 2000)
    #: People per graph drawn, with communities, PageRank and positions (GRAPH_MAX_PEOPLE is
    #: how many people's follow lists are read, which costs API requests).
    GRAPH_DRAW_MAX = env_int("GRAPH_DRAW_MAX", 20_000)
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
    #: Let people type http:// Mastodon servers (port 80): development only.
    ALLOW_INSECURE_INSTANCES = env_flag("ALLOW_INSECURE_INSTANCES")
    #: Hosts (``mastodon.lan``) or ``host:port`` pairs a person may name although they are
    #: private, comma-separated; empty: only public servers on port 443.
    OUTBOUND_ALLOWED_HOSTS = os.environ.get("OUTBOUND_ALLOWED_HOSTS", "")
    #: Seconds (connect, then read) a page waits for a server a person named.
    OUTBOUND_TIMEOUT = float(os.environ.get("OUTBOUND_TIMEOUT", "5"))
    X_CLIENT_ID = os.environ.get("X_CLIENT_ID")
    X_CLIENT_SECRET = os.environ.get("X_CLIENT_SECRET")
    X_API_URL = os.environ.get("X_API_URL", "https://api.x.com")
    X_AUTHORIZE_URL = os.environ.get("X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize")
    X_TOKEN_URL = os.environ.get("X_TOKEN_URL", "https://api.x.com/2/oauth2/token")
    X_MAX_READS = env_int("X_MAX_READS", 2000)
    # Mail: SMTP when a server is set (MAIL_SERVER, or a Heroku add-on's variables: Mailgun's
    # MAILGUN_SMTP_*, SendGrid's SENDGRID_API_KEY); otherwise .eml files in MAIL_FOLDER.
    MAIL_SERVER = (
        os.environ.get("MAIL_SERVER")
        or os.environ.get("MAILGUN_SMTP_SERVER")
        or ("smtp.sendgrid.net" if os.environ.get("SENDGRID_API_KEY") else None)
    )
    MAIL_PORT = env_int("MAIL_PORT", env_int("MAILGUN_SMTP_PORT", 587))
    MAIL_USERNAME = (
        os.environ.get("MAIL_USERNAME")
        or os.environ.get("MAILGUN_SMTP_LOGIN")
        or ("apikey" if os.environ.get("SENDGRID_API_KEY") else None)
    )
    MAIL_PASSWORD = (
        os.environ.get("MAIL_PASSWORD")
        or os.environ.get("MAILGUN_SMTP_PASSWORD")
        or os.environ.get("SENDGRID_API_KEY")
    )
    MAIL_USE_TLS = env_flag("MAIL_USE_TLS", True)  #: STARTTLS on a plain connection
    MAIL_USE_SSL = env_flag("MAIL_USE_SSL", False)  #: TLS from the start (port 465)
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "md-analytics@localhost")
    MAIL_FROM_NAME = os.environ.get("MAIL_FROM_NAME", "MD Analytics")
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", str(INSTANCE_DIR / "mail"))
    #: How long a password-reset link and an email-confirmation link work (seconds).
    RESET_MAX_AGE = env_int("RESET_MAX_AGE", 3600)
    CONFIRM_MAX_AGE = env_int("CONFIRM_MAX_AGE", 2 * 24 * 3600)
    RESET_LIMIT_PER_IP = os.environ.get("RESET_LIMIT_PER_IP", "5 per hour")
    #: The site's address, for links in mail sent outside a request (by the scheduler).
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000")
    #: Followers lost in one sync, as a share, that an alert calls unusual.
    ALERT_LOSS_SHARE = float(os.environ.get("ALERT_LOSS_SHARE", "0.05"))

    #: Requests per token to the JSON API (a Flask-Limiter limit string).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute")
    #: Scheduled syncs: a scheduler thread in every web and worker process (one of them,
    #: holding a lock in the database, does the work), a round every SCHEDULER_INTERVAL s.
    SCHEDULER = env_flag("SCHEDULER", True)
    SCHEDULER_INTERVAL = env_int("SCHEDULER_INTERVAL", 60)
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
        """Complete ``config`` at app creation (not at import): check the shared settings.

        :raises ConfigError: for a ``REGISTRATION``, ``TRUSTED_PROXIES`` or ``UPLOAD_STORE`` it
            cannot use.
        """
        registration = config.get("REGISTRATION", cls.REGISTRATION)
        if registration not in REGISTRATION_MODES:
            raise ConfigError(
                f"REGISTRATION={registration!r} is not one of "
                + ", ".join(REGISTRATION_MODES)
                + "."
            )
        proxies = config.get("TRUSTED_PROXIES", cls.TRUSTED_PROXIES)
        if not isinstance(proxies, int) or proxies < 0:
            raise ConfigError("TRUSTED_PROXIES must be a whole number of proxies, 0 or more.")
        store = config.get("UPLOAD_STORE", cls.UPLOAD_STORE)
        if store not in UPLOAD_STORES:
            raise ConfigError(
                f"UPLOAD_STORE={store!r} is not one of local, database (or unset: automatic)."
            )


class DevConfig(Config):
    """Local development: SQLite in ``instance/``, secrets generated and kept there."""

    @classmethod
    def finalize(cls, config: dict) -> None:
        """Fill in the secret key and token key from ``instance/``, creating them once, and
        create the SQLite database file owner-only (:func:`create_sqlite_file`)."""
        super().finalize(config)
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = instance_secret("secret_key", lambda: secrets.token_hex(32))
        if not config.get("TOKEN_ENCRYPTION_KEY"):
            config["TOKEN_ENCRYPTION_KEY"] = instance_secret(
                "token_key", lambda: Fernet.generate_key().decode()
            )
        create_sqlite_file(config.get("SQLALCHEMY_DATABASE_URI") or "")


class TestConfig(Config):
    """The test suite: an in-memory-like SQLite file per test unless ``DATABASE_URL`` is set."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - test-only value
    TOKEN_ENCRYPTION_KEY = "t7Nf0a1XcmRvQbNd1j6lSJlpaTc7T8PjyHmuEE0W3NQ="  # noqa: S105
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_MODE = "inline"
    SCHEDULER = False  # tests run the scheduler's rounds themselves, with their own clock
    SIGNIN_LIMIT_PER_IP = "1000 per minute"
    SIGNIN_LIMIT_PER_ACCOUNT = "1000 per minute"
    REGISTER_LIMIT_PER_IP = "1000 per minute"
    RESET_LIMIT_PER_IP = "1000 per minute"


class ProdConfig(Config):
    """Production (Heroku): every secret must come from the environment."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    #: The Procfile starts gunicorn with ${WEB_CONCURRENCY:-2} workers.
    WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 2)

    @classmethod
    def finalize(cls, config: dict) -> None:
        """Refuse to start without the secrets production needs; a SQLite database file is
        created owner-only (:func:`create_sqlite_file`).

        :raises ConfigError: naming every missing variable.
        """
        super().finalize(config)
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
        create_sqlite_file(config["SQLALCHEMY_DATABASE_URI"])


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
