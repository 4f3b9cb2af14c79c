"""Settings selection, production guards, CLI commands and migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, select, text

from app import settings
from app.app import create_app
from app.extensions import db
from app.models import User
from app.settings import ConfigError, DevConfig, ProdConfig, config_from_env, database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_rewrites_heroku_scheme(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url("sqlite://") == expected


def test_database_url_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url("sqlite:///default.db") == "sqlite:///default.db"


@pytest.mark.parametrize(
    ("name", "expected"),
    [(None, DevConfig), ("ProdConfig", ProdConfig), ("app.settings.DevConfig", DevConfig)],
)
def test_config_from_env(monkeypatch, name, expected):
    if name is None:
        monkeypatch.delenv("APP_SETTINGS", raising=False)
    else:
        monkeypatch.setenv("APP_SETTINGS", name)
    assert config_from_env() is expected


def test_unknown_app_settings_is_refused(monkeypatch):
    monkeypatch.setenv("APP_SETTINGS", "FancyConfig")
    with pytest.raises(ConfigError, match="FancyConfig"):
        config_from_env()


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "TOKEN_ENCRYPTION_KEY"])
def test_prodconfig_refuses_to_start_without_secrets(monkeypatch, missing):
    env = {
        "SECRET_KEY": "s" * 32,
        "DATABASE_URL": "postgres://u@h/d",
        "TOKEN_ENCRYPTION_KEY": "k" * 44,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        create_app(ProdConfig)


def test_prodconfig_with_secrets_is_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/d")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", "k" * 44)
    app = create_app(ProdConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/d"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/static/img/favicon.svg")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    response.close()


def test_devconfig_keeps_generated_secrets(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path)
    first, second = {}, {}
    DevConfig.finalize(first)
    DevConfig.finalize(second)
    assert len(first["SECRET_KEY"]) == 64
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_create_user_command(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "carol",
            "--email",
            "Carol@Example.com",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created user carol." in result.output
    saved = db.session.scalar(select(User).where(User.username == "carol"))
    assert saved.email == "carol@example.com" and saved.check_password("long enough pw")


def test_create_user_command_reports_problems(app, runner, user):
    result = runner.invoke(args=["create-user", "USER0", "--email", "x", "--password", "short"])
    assert result.exit_code == 1
    assert "That username is taken" in result.output
    assert "valid email" in result.output
    assert "at least 8" in result.output


def test_migrations_build_the_models_schema(tmp_path, monkeypatch):
    """Running every migration gives exactly the tables and columns the models declare."""
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        migrated = inspect(create_engine(url))
        for table in db.metadata.sorted_tables:
            columns = {c["name"] for c in migrated.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
        with create_engine(url).connect() as connection:
            indexes = set(
                connection.scalars(text("SELECT name FROM sqlite_master WHERE type='index'"))
            )
        assert {"uq_users_username_lower", "uq_users_email_lower"} <= indexes


def test_manage_py_help_lists_commands():
    result = subprocess.run(
        [sys.executable, "manage.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "APP_SETTINGS": "TestConfig"},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for command in ("create-user", "db", "run", "test"):
        assert command in result.stdout


def test_manage_py_test_returns_pytest_exit_code(tmp_path):
    failing = tmp_path / "test_fails.py"
    failing.write_text("def test_no():\n    assert 1 == 2\n")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "test",
            "--no-coverage",
            str(failing),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "APP_SETTINGS": "TestConfig"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout


def test_import_command(app, runner, user, tmp_path):
    from tests.networks.archive_builders import connections_csv

    path = tmp_path / "Connections.csv"
    path.write_text(
        connections_csv(
            [
                ("Ada", "Lovelace", "https://www.linkedin.com/in/ada", "", "", "", "12 Mar 2021"),
            ]
        )
    )
    result = runner.invoke(args=["import", "linkedin", str(path), "--user", "user0"])
    assert result.exit_code == 0, result.output
    assert "Imported: 1 followers, 1 friends, no posts." in result.output  # no Shares.csv
    assert path.exists()  # a file named on the command line is never deleted


def test_import_command_errors(app, runner, user, tmp_path):
    empty = tmp_path / "Connections.csv"
    empty.write_text("")
    result = runner.invoke(args=["import", "linkedin", str(empty), "--user", "user0"])
    assert result.exit_code == 1 and "Error:" in result.output
    result = runner.invoke(args=["import", "linkedin", str(empty), "--user", "ghost"])
    assert result.exit_code == 1 and "no user called ghost" in result.output
