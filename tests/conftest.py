"""Fixtures: ``app`` with a fresh database per test, ``client``, ``runner`` and ``auth``.

SQLite in a temporary file by default; set ``DATABASE_URL`` to run the same suite against
PostgreSQL (tables are created and dropped around each test).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.test import TestResponse

from app.app import create_app
from app.extensions import db
from app.settings import TestConfig, database_url
from tests.factories import PASSWORD, UserFactory

CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context (own ``g`` and session),
    as in production, even though the fixture keeps an app context open for the test body."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_config(tmp_path: Any, **overrides: Any) -> type[TestConfig]:
    """A TestConfig subclass with its own database and the given overrides."""
    url = os.environ.get("DATABASE_URL")
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url(url) if url else f"sqlite:///{tmp_path}/test.db",
        "MAIL_FOLDER": str(tmp_path / "mail"),
        **overrides,
    }
    return type("PerTestConfig", (TestConfig,), settings)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its ``app``."""
    return {}


@pytest.fixture
def app(tmp_path: Any, config_overrides: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(make_config(tmp_path, **config_overrides))
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, url: str) -> str:
    """GET ``url`` and return the CSRF token of its first form."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


class AuthActions:
    """Register, sign in and log out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, login: str = "user0", password: str = PASSWORD, **extra: Any) -> TestResponse:
        token = csrf_token(self.client, "/signin")
        data = {"login": login, "password": password, "csrf_token": token, **extra}
        return self.client.post("/signin", data=data)

    def register(
        self,
        username: str = "alice",
        email: str = "alice@example.com",
        password: str = PASSWORD,
        confirm: str | None = None,
    ) -> TestResponse:
        token = csrf_token(self.client, "/register")
        data = {
            "username": username,
            "email": email,
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": token,
        }
        return self.client.post("/register", data=data)

    def logout(self) -> TestResponse:
        token = csrf_token(self.client, "/dashboard/user")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def user(app: Flask) -> Any:
    """A saved user ``user0`` with password :data:`tests.factories.PASSWORD`."""
    return UserFactory(username="user0")
