"""The application factory: wiring only, in small named steps."""

from __future__ import annotations

import logging
import sys

from flask import Flask, Response, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import commands
from app.extensions import csrf, db, limiter, login_manager, migrate, oauth
from app.filters import register_filters
from app.logs import FORMAT, ContextFilter
from app.models import load_user
from app.settings import INSTANCE_DIR, Config, config_from_env

ERROR_CODES = (400, 403, 404, 405, 413, 429, 500)

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
    app = Flask(__name__.split(".")[0], instance_path=str(INSTANCE_DIR))
    app.config.from_object(config_object)
    config_object.finalize(app.config)
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_filters(app)
    register_security_headers(app)
    register_commands(app)
    configure_logging(app)
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
    """Register the ``landing``, ``auth``, ``dashboard``, ``connect`` and ``user`` blueprints."""
    from app.api import blueprints as api_blueprints
    from app.auth.views import bp as auth_bp
    from app.connect.views import bp as connect_bp
    from app.dashboard.views import bp as dashboard_bp
    from app.landing.views import bp as landing_bp
    from app.reports.views import bp as reports_bp
    from app.user.views import bp as user_bp

    for blueprint in (landing_bp, auth_bp, dashboard_bp, connect_bp, user_bp, *api_blueprints()):
        app.register_blueprint(blueprint)
    app.register_blueprint(reports_bp)


def register_errorhandlers(app: Flask) -> None:
    """Render every HTTP error in the site's layout; a 500 rolls the session back."""

    def render_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        if code == 500:
            db.session.rollback()
        return render_template(f"errors/{code}.html", error=error), code

    for code in ERROR_CODES:
        app.register_error_handler(code, render_error)


def register_security_headers(app: Flask) -> None:
    """Send the security headers on every response."""

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def register_commands(app: Flask) -> None:
    """Add the project's CLI commands (``create-user``, ``test``...)."""
    for command in commands.COMMANDS:
        app.cli.add_command(command)


def configure_logging(app: Flask) -> None:
    """Log to stderr at ``LOG_LEVEL`` (Heroku collects stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    app.logger.handlers = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
