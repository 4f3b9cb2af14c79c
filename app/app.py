"""The application factory: wiring only, in small named steps."""

from __future__ import annotations

import logging
import sys

from flask import Flask, Response, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import commands
from app.extensions import csrf, db, limiter, limiter_storage_warning, login_manager, migrate, oauth
from app.filters import Environment, register_filters
from app.logs import FORMAT, ContextFilter
from app.memory import bound_heap
from app.models import load_user
from app.networks.outbound import policy_from_config
from app.settings import INSTANCE_DIR, Config, ConfigError, config_from_env
from app.sync.schedule import start_scheduler

ERROR_CODES = (400, 403, 404, 405, 413, 429, 500, 503)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    )
)


def create_app(config_object: type[Config] | None = None) -> Flask:
    """Create the Flask app.

    :param config_object: a class from :mod:`app.settings`; by default the one named by
        ``APP_SETTINGS``.
    :raises app.settings.ConfigError: when a required production setting is missing.
    """
    config_object = config_object or config_from_env()
    bound_heap()  # big temporary arrays mapped apart, not left as holes in the heap
    app = Flask(__name__.split(".")[0], instance_path=str(INSTANCE_DIR))
    app.jinja_environment = Environment  # before anything creates app.jinja_env
    app.config.from_object(config_object)
    config_object.finalize(app.config)
    if (hops := app.config["TRUSTED_PROXIES"]) > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_filters(app)
    register_security_headers(app)
    register_commands(app)
    configure_logging(app)
    register_scheduler(app)
    if warning := limiter_storage_warning(app.config):
        app.logger.warning(warning)
    check_outbound_settings(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of :mod:`app.extensions`."""
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    oauth.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.signin"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    """Register the ``landing``, ``auth``, ``dashboard``, ``connect``, ``user``, ``admin``,
    ``mail``, ``reports`` and API blueprints."""
    from app.admin.views import bp as admin_bp
    from app.api import blueprints as api_blueprints
    from app.auth.views import bp as auth_bp
    from app.connect.views import bp as connect_bp
    from app.dashboard.views import bp as dashboard_bp
    from app.landing.views import bp as landing_bp
    from app.mail.views import bp as mail_bp
    from app.reports.views import bp as reports_bp
    from app.user.views import bp as user_bp

    for blueprint in (
        landing_bp,
        auth_bp,
        dashboard_bp,
        connect_bp,
        user_bp,
        admin_bp,
        mail_bp,
        reports_bp,
        *api_blueprints(),
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    """Render every HTTP error in the site's layout; a 500 rolls the session back."""

    def render_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        if code == 500:
            db.session.rollback()
        return render_template(f"errors/{code}.html", error=error), code

    for code in ERROR_CODES:
        app.register_error_handler(code, render_error)


def private_response(response: Response) -> bool:
    """Whether ``response`` must not be kept by browsers or proxies: anything shown to a
    signed-in user, every JSON answer and every download. Static files keep their caching."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    if response.is_json or "attachment" in response.headers.get("Content-Disposition", ""):
        return True
    return bool(current_user.is_authenticated)


def register_security_headers(app: Flask) -> None:
    """Send the security headers on every response, and ``Cache-Control: no-store`` on the
    private ones (:func:`private_response`) unless the view set its own."""

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if private_response(response):
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Pragma", "no-cache")
        return response


def register_commands(app: Flask) -> None:
    """Add the project's CLI commands (``create-user``, ``test``...)."""
    for command in commands.COMMANDS:
        app.cli.add_command(command)


def register_scheduler(app: Flask) -> None:
    """Start the scheduled-sync thread with the first request a process serves (never for a
    CLI command such as ``db upgrade``); ``manage.py worker`` starts it itself."""

    @app.before_request
    def start_scheduler_once() -> None:
        if "md_scheduler" not in app.extensions:
            start_scheduler(app)


def check_outbound_settings(app: Flask) -> None:
    """Refuse a malformed ``OUTBOUND_ALLOWED_HOSTS``; warn that ``ALLOW_INSECURE_INSTANCES``
    is for development."""
    try:
        policy = policy_from_config(app.config)
    except ValueError as error:
        raise ConfigError(f"OUTBOUND_ALLOWED_HOSTS: {error}.") from None
    if policy.allow_insecure:
        app.logger.warning(
            "ALLOW_INSECURE_INSTANCES is on: people may name plain-http Mastodon servers. "
            "It is meant for development; turn it off on a public server."
        )


def configure_logging(app: Flask) -> None:
    """Log to stderr at ``LOG_LEVEL`` (Heroku collects stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    app.logger.handlers = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
