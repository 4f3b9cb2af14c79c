"""Files the app creates are owner-only, whatever the umask: the SQLite database, the
instance secrets, the upload folders (0700) and uploaded archives (0600)."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import settings
from app.app import create_app
from app.extensions import db
from app.settings import DevConfig, ProdConfig, create_sqlite_file
from app.sync import uploads

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that lets everyone read and write: the modes must not come from it."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_db_upgrade_creates_an_owner_only_database(tmp_path, monkeypatch, loose_umask):
    """``flask db upgrade`` on a development server: the database SQLite writes is 0600."""
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path / "instance")
    path = tmp_path / "fresh.db"
    config = type("FreshDev", (DevConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()
    assert path.stat().st_size > 0
    assert mode(path) == 0o600


def test_a_production_sqlite_database_is_owner_only(tmp_path, monkeypatch, loose_umask):
    path = tmp_path / "prod.db"
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", "k" * 44)
    ProdConfig.finalize({})
    assert mode(path) == 0o600


def test_a_relative_sqlite_path_is_made_under_instance(tmp_path, monkeypatch, loose_umask):
    instance = tmp_path / "instance"
    monkeypatch.setattr(settings, "INSTANCE_DIR", instance)
    create_sqlite_file("sqlite:///md_analytics.db")
    assert mode(instance) == 0o700
    assert mode(instance / "md_analytics.db") == 0o600


def test_other_databases_and_existing_files_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path / "instance")
    existing = tmp_path / "mine.db"
    existing.write_bytes(b"")
    existing.chmod(0o640)
    for uri in (
        f"sqlite:///{existing}",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:shared?mode=memory&cache=shared&uri=true",
        "postgresql+psycopg://u@127.0.0.1/d",
    ):
        create_sqlite_file(uri)
    assert mode(existing) == 0o640
    assert not (tmp_path / "instance").exists()


def test_devconfig_secrets_are_owner_only(tmp_path, monkeypatch, loose_umask):
    instance = tmp_path / "instance"
    monkeypatch.setattr(settings, "INSTANCE_DIR", instance)
    config: dict = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    DevConfig.finalize(config)
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "token_key") == 0o600
    assert (instance / "secret_key").read_text().strip() == config["SECRET_KEY"]


def test_a_secret_readable_by_others_is_tightened_and_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path)
    (tmp_path / "secret_key").write_text("kept\n")
    (tmp_path / "secret_key").chmod(0o644)
    assert settings.instance_secret("secret_key", lambda: "new") == "kept"
    assert mode(tmp_path / "secret_key") == 0o600


def test_uploads_are_owner_only(app, user, tmp_path, loose_umask):
    root = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(root)
    stored = [
        uploads.put(
            io.BytesIO(b"First Name,Last Name\n"),
            "Connections.csv",
            owner_id=user.id,
            store="local",
        ),
        uploads.put(io.BytesIO(b"x"), "../../etc/passwd", owner_id=user.id, store="local"),
        uploads.put(io.BytesIO(b"y"), "tweets.js", owner_id=user.id, store="database"),
    ]
    first, second, fetched = (uploads.fetch(upload.id) for upload in stored)
    assert mode(root) == 0o700
    for path in (first, second, fetched):
        assert Path(path).parent.parent == root
        assert mode(Path(path).parent) == 0o700
        assert mode(path) == 0o600
    assert Path(first).read_bytes() == b"First Name,Last Name\n"
    assert Path(second).name == "etc_passwd"
    assert Path(fetched).read_bytes() == b"y"
