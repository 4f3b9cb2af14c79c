"""Fixtures for the API: the demo account, a second user with data of their own, tokens.

Making the two demo accounts takes seconds, so they are made once per session in a template
database that each test copies: a file on SQLite, on PostgreSQL (``DATABASE_URL``) a
database each test's own is created from (``CREATE DATABASE ... TEMPLATE``) and dropped
after it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import URL, create_engine, make_url, text
from werkzeug.test import TestResponse

from app.api.tokens import create_token
from app.app import create_app
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import User
from app.settings import database_url
from tests.conftest import FreshContextClient, make_config

DEMO_PASSWORD = "demo password 1"
OTHER_PASSWORD = "other password 1"


def make_accounts() -> None:
    create_demo_user("demo", DEMO_PASSWORD, followers=40)
    create_demo_user("other", OTHER_PASSWORD, followers=25)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    """The template: a SQLite file, or the URL of a PostgreSQL database (dropped at the end)."""
    folder = tmp_path_factory.mktemp("api-template")
    server = _server()
    if server is None:
        template = create_app(make_config(folder))
        path = folder / "test.db"
    else:
        name = f"md_api_template_{os.getpid()}"
        _admin(server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        template = create_app(make_config(folder, SQLALCHEMY_DATABASE_URI=_on(server, name)))
    with template.app_context():
        db.create_all()
        make_accounts()
        db.session.remove()
        db.engine.dispose()
    if server is None:
        yield path
        return
    yield name
    _admin(server, f'DROP DATABASE IF EXISTS "{name}"')


def _server() -> URL | None:
    url = os.environ.get("DATABASE_URL")
    return make_url(database_url(url)) if url else None


def _on(server: URL, name: str) -> str:
    return server.set(database=name).render_as_string(hide_password=False)


def _admin(server: URL, *statements: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def app(
    tmp_path: Any, config_overrides: dict[str, Any], template_db: Path | str
) -> Iterator[Flask]:
    server = _server()
    if isinstance(template_db, Path):
        shutil.copy(template_db, tmp_path / "test.db")
        settings = dict(config_overrides)
    else:
        assert server is not None
        name = f"md_api_test_{os.getpid()}"
        _admin(
            server,
            f'DROP DATABASE IF EXISTS "{name}"',
            f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"',
        )
        settings = {**config_overrides, "SQLALCHEMY_DATABASE_URI": _on(server, name)}
    app = create_app(make_config(tmp_path, **settings))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if server is not None:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}"')


class ApiClient:
    """Calls the API with one token (or none)."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        headers = kwargs.pop("headers", {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.get(url, headers=headers, **kwargs)


@pytest.fixture
def demo(app: Flask) -> User:
    user = User.find_by_login("demo")
    assert user is not None
    return user


@pytest.fixture
def other(app: Flask) -> User:
    """A second user with demo data of their own on every network."""
    user = User.find_by_login("other")
    assert user is not None
    return user


@pytest.fixture
def api(client: FlaskClient, demo: User) -> ApiClient:
    _, token = create_token(demo, "tests")
    return ApiClient(client, token)


@pytest.fixture
def other_api(client: FlaskClient, other: User) -> ApiClient:
    _, token = create_token(other, "other's")
    return ApiClient(client, token)
