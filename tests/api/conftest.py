"""Fixtures for the API: the demo account, a second user with data of their own, tokens.

Making the two demo accounts takes seconds, so on SQLite they are made once per session in a
template database that each test copies; on PostgreSQL (``DATABASE_URL``) each test makes
them.
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
from werkzeug.test import TestResponse

from app.api.tokens import create_token
from app.app import create_app
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import User
from tests.conftest import FreshContextClient, make_config

DEMO_PASSWORD = "demo password 1"
OTHER_PASSWORD = "other password 1"


def make_accounts() -> None:
    create_demo_user("demo", DEMO_PASSWORD, followers=40)
    create_demo_user("other", OTHER_PASSWORD, followers=25)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    if os.environ.get("DATABASE_URL"):
        return None
    folder = tmp_path_factory.mktemp("api-template")
    template = create_app(make_config(folder))
    with template.app_context():
        db.create_all()
        make_accounts()
        db.session.remove()
        db.engine.dispose()
    return folder / "test.db"


@pytest.fixture
def app(
    tmp_path: Any, config_overrides: dict[str, Any], template_db: Path | None
) -> Iterator[Flask]:
    if template_db is not None:
        shutil.copy(template_db, tmp_path / "test.db")
    app = create_app(make_config(tmp_path, **config_overrides))
    app.test_client_class = FreshContextClient
    with app.app_context():
        if template_db is None:
            db.drop_all()
            db.create_all()
            make_accounts()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


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
