"""Registration, sign-in, sign-out, sign-in limits, proxies, cookies and common passwords."""

from __future__ import annotations

import hashlib
import logging
import os
import time

import pytest
from flask import request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.middleware.proxy_fix import ProxyFix

from app.app import create_app
from app.auth import throttle
from app.auth.passwords import common_passwords, is_common
from app.auth.views import is_local_path
from app.extensions import client_address, db, limiter, limiter_storage_warning
from app.models import DUMMY_PASSWORD_HASH, User
from app.settings import Config, ConfigError, ProdConfig
from tests.conftest import AuthActions, FreshContextClient, csrf_token, make_config
from tests.factories import PASSWORD, UserFactory


def test_register_signs_in_and_lands_on_dashboard(client, auth):
    response = auth.register()
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/user"
    page = client.get("/dashboard/user").get_data(as_text=True)
    assert "Hello, alice" in page
    saved = db.session.scalar(select(User).where(User.username == "alice"))
    assert saved.email == "alice@example.com"
    assert saved.password_hash.startswith("scrypt:")
    assert PASSWORD not in saved.password_hash


@pytest.mark.parametrize(
    ("username", "email", "password", "confirm", "message"),
    [
        ("", "a@example.com", PASSWORD, PASSWORD, "Choose a username."),
        ("ab", "a@example.com", PASSWORD, PASSWORD, "Usernames are 3 to 40 characters"),
        ("bad name!", "a@example.com", PASSWORD, PASSWORD, "Usernames are 3 to 40 characters"),
        ("admin", "a@example.com", PASSWORD, PASSWORD, "That username is reserved"),
        ("bob", "", PASSWORD, PASSWORD, "Enter your email address."),
        ("bob", "not-an-email", PASSWORD, PASSWORD, "Enter a valid email address"),
        ("bob", "a@example.com", "short", "short", "Passwords need at least 8 characters."),
        ("bob", "a@example.com", "x" * 129, "x" * 129, "at most 128 characters"),
        ("bob", "a@example.com", PASSWORD, PASSWORD + "!", "The two passwords do not match."),
    ],
)
def test_register_validation(auth, username, email, password, confirm, message):
    response = auth.register(username, email, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [
        ("USER0", "other@example.com", "That username is taken."),
        ("newbie", "User0@Example.COM", "An account with that email already exists."),
    ],
)
def test_register_duplicates_are_case_insensitive(auth, user, username, email, message):
    response = auth.register(username, email)
    assert message in response.get_data(as_text=True)
    assert len(db.session.scalars(select(User)).all()) == 1


def test_register_without_csrf_token_is_refused(client):
    response = client.post(
        "/register",
        data={
            "username": "eve",
            "email": "eve@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "CSRF token is missing" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize("login", ["user0", "USER0", "user0@example.com", "User0@Example.com"])
def test_signin_with_username_or_email(auth, user, login):
    response = auth.login(login)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/user"


@pytest.mark.parametrize(("login", "password"), [("user0", "wrong password"), ("nobody", PASSWORD)])
def test_signin_wrong_credentials(auth, client, user, login, password):
    response = auth.login(login, password)
    assert response.status_code == 200
    assert "Wrong username, email or password." in response.get_data(as_text=True)
    assert client.get("/dashboard/user").status_code == 302


def test_signin_remember_me_sets_cookie(auth, client, user):
    response = auth.login(remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0]


def test_signin_follows_local_next(client, user):
    token = csrf_token(client, "/signin?next=/user/user0")
    response = client.post(
        "/signin?next=/user/user0",
        data={"login": "user0", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/user/user0"


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_signin_ignores_foreign_next(client, user, target):
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin",
        query_string={"next": target},
        data={"login": "user0", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/dashboard/user"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dashboard/user", True),
        ("/a?b=c", True),
        ("", False),
        (None, False),
        ("http://x/", False),
        ("//x", False),
        ("dashboard", False),
    ],
)
def test_is_local_path(target, expected):
    assert is_local_path(target) is expected


def test_login_required_redirects_with_next(client):
    response = client.get("/dashboard/user")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=")


def test_signed_in_user_skips_forms(auth, client, user):
    auth.login()
    assert client.get("/signin").headers["Location"] == "/dashboard/user"
    assert client.get("/register").headers["Location"] == "/dashboard/user"


def test_logout_by_post_returns_to_landing(auth, client, user):
    auth.login()
    response = auth.logout()
    assert response.headers["Location"] == "/"
    assert client.get("/dashboard/user").status_code == 302


def test_logout_by_get_is_refused(auth, client, user):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard/user").status_code == 200


def test_logout_without_csrf_is_refused(auth, client, user):
    auth.login()
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard/user").status_code == 200


def test_password_change_signs_out_other_sessions(app, auth, client, user):
    auth.login()
    other = app.test_client()
    token = csrf_token(other, "/signin")
    other.post("/signin", data={"login": "user0", "password": PASSWORD, "csrf_token": token})
    assert other.get("/dashboard/user").status_code == 200
    token = csrf_token(client, "/user/user0")
    response = client.post(
        "/user/user0/password",
        data={
            "current": PASSWORD,
            "new": "a brand new secret",
            "confirm": "a brand new secret",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/dashboard/user").status_code == 200
    assert other.get("/dashboard/user").status_code == 302


def test_unique_indexes_hold_in_the_database(app, user):
    db.session.add(User(username="User0", email="x@example.com", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert UserFactory(username="user1").id != user.id


# --- Sign-in limits: constant work, per-account backoff, keys, bounds ---------------------


def signin_post(client, login, password, **headers):
    """POST the sign-in form (the CSRF token fetched first, with the same headers)."""
    token = csrf_token(client, "/signin")
    data = {"login": login, "password": password, "csrf_token": token}
    return client.post("/signin", data=data, headers=headers)


class TestTimingEqualisation:
    @pytest.fixture
    def scrypt_calls(self, monkeypatch):
        """Record the parameters of every scrypt run (the real one still runs)."""
        calls = []
        real = hashlib.scrypt

        def spy(password, **kwargs):
            calls.append((kwargs["n"], kwargs["r"], kwargs["p"]))
            return real(password, **kwargs)

        monkeypatch.setattr(hashlib, "scrypt", spy)
        return calls

    @pytest.mark.parametrize("login", ["nobody", "nobody@example.com"])
    def test_unknown_user_runs_the_same_hash_as_a_wrong_password(
        self, auth, user, scrypt_calls, login
    ):
        assert auth.login("user0", "wrong password").status_code == 200
        known = list(scrypt_calls)
        scrypt_calls.clear()
        assert auth.login(login, "wrong password").status_code == 200
        assert len(known) == 1
        assert scrypt_calls == known  # one scrypt run, same n, r, p

    def test_dummy_hash_has_the_parameters_of_real_hashes(self, user):
        assert DUMMY_PASSWORD_HASH.split("$", 1)[0] == user.password_hash.split("$", 1)[0]

    def test_unknown_and_wrong_password_take_comparable_time(self, client, user):
        """A generous check (medians of interleaved runs within a factor of 4): the exact
        guarantee is the one above, the same hash work on both paths."""
        token = csrf_token(client, "/signin")
        times: dict[str, list[float]] = {"user0": [], "nobody": []}
        for _ in range(5):
            for login, runs in times.items():
                data = {"login": login, "password": "wrong password", "csrf_token": token}
                started = time.perf_counter()
                assert client.post("/signin", data=data).status_code == 200
                runs.append(time.perf_counter() - started)
        known, unknown = (sorted(runs)[2] for runs in times.values())
        assert unknown > known / 4 and known > unknown / 4, (known, unknown)


class TestAccountBackoff:
    @pytest.fixture
    def config_overrides(self):
        return {
            "SIGNIN_LIMIT_PER_ACCOUNT": "3 per hour",
            "SIGNIN_BACKOFF_FIRST": 1,
            "SIGNIN_BACKOFF_MAX": 4,
        }

    @staticmethod
    def end_wait(user):
        """Let the current wait pass without sleeping (its key expires)."""
        limiter.storage.clear(throttle.wait_key(throttle.account_key(user)))

    def test_right_password_waits_then_works(self, auth, user):
        for _ in range(3):
            assert auth.login(password="nope nope").status_code == 200
        response = auth.login()
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert "Too many failed sign-ins for this account. Wait 1 second" in response.get_data(
            as_text=True
        )
        time.sleep(1.1)
        assert auth.login().status_code == 302

    def test_attempts_during_a_wait_do_not_lengthen_it(self, auth, user):
        for _ in range(3):
            auth.login(password="nope nope")
        for _ in range(5):
            response = auth.login(password="nope nope")
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "1"
        assert throttle.failures(throttle.account_key(user)) == 3  # refused tries not counted
        time.sleep(1.1)
        assert auth.login().status_code == 302

    def test_wait_doubles_up_to_the_cap(self, auth, user):
        for _ in range(3):
            assert auth.login(password="nope nope").status_code == 200
        waits = []
        for _ in range(4):
            waits.append(int(auth.login(password="nope nope").headers["Retry-After"]))
            self.end_wait(user)
            assert auth.login(password="nope nope").status_code == 200
        assert waits == [1, 2, 4, 4]

    def test_success_resets_the_count(self, auth, user):
        for _ in range(2):
            assert auth.login(password="nope nope").status_code == 200
        assert auth.login().status_code == 302
        assert throttle.failures(throttle.account_key(user)) == 0
        auth.logout()
        for _ in range(2):  # two more free failures: the earlier ones were forgotten
            assert auth.login(password="nope nope").status_code == 200
        assert auth.login().status_code == 302

    def test_successful_signins_do_not_count(self, auth, user):
        for _ in range(5):
            assert auth.login().status_code == 302
            auth.logout()

    @pytest.mark.parametrize("spellings", [("user0", "USER0@example.com", " User0 ")])
    def test_key_is_the_account_whatever_the_login(self, auth, user, spellings):
        for login in spellings:
            assert auth.login(login, "nope nope").status_code == 200
        assert auth.login("user0@example.com").status_code == 429
        assert throttle.failures(throttle.account_key(user)) == 3

    def test_unknown_logins_are_keyed_by_normalised_text(self, auth, user):
        for login in ("frank", "FRANK", " frank "):
            assert auth.login(login, "nope nope").status_code == 200
        response = auth.login("Frank", "nope nope")
        assert response.status_code == 429  # an unknown name waits like a real one
        assert "for this account" in response.get_data(as_text=True)
        assert auth.login("someone-else", "nope nope").status_code == 200
        assert auth.login().status_code == 302  # other accounts are not affected

    def test_attempts_are_counted_before_the_check(self, app):
        """Many attempts in flight at once: only the free ones and one more go ahead."""
        key = throttle.account_key(None, "target")
        allowed = refused = 0
        for _ in range(20):  # none finishes (no success clears the count)
            try:
                throttle.begin(key)
                allowed += 1
            except throttle.Throttled:
                refused += 1
        assert (allowed, refused) == (3, 17)


def test_backoff_policy_numbers(app):
    policy = throttle.Policy(free=5, memory=86400, first=5, cap=300)
    assert [policy.wait_after(n) for n in range(1, 13)] == [
        0,
        0,
        0,
        0,
        5,
        10,
        20,
        40,
        80,
        160,
        300,
        300,
    ]


def test_default_limits_never_lock_out_for_long(app):
    policy = throttle.Policy.from_config()
    assert policy.cap <= 300


class TestFieldBounds:
    def test_huge_login_is_refused_before_any_work(self, app, client, user):
        response = signin_post(client, "x" * 400_000, PASSWORD)
        assert response.status_code == 400
        assert "at most 254 characters" in response.get_data(as_text=True)
        keys = list(limiter.storage.storage)
        assert keys and max(len(key) for key in keys) < 200, keys

    def test_huge_password_is_refused(self, client, user):
        response = signin_post(client, "user0", "p" * 400_000)
        assert response.status_code == 400
        assert "at most 1024 characters" in response.get_data(as_text=True)

    def test_long_unknown_login_makes_a_short_key(self, app):
        assert len(throttle.account_key(None, "y" * 254)) < 50

    @pytest.mark.parametrize(
        ("field", "message"),
        [
            ("username", "Usernames are 3 to 40 characters"),
            ("email", "at most 254 characters"),
            ("confirm", "at most 1024 characters"),
        ],
    )
    def test_register_fields_are_bounded(self, client, field, message):
        token = csrf_token(client, "/register")
        data = {
            "username": "bob",
            "email": "bob@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
            field: "z" * 100_000,
        }
        response = client.post("/register", data=data)
        assert message in response.get_data(as_text=True)
        assert db.session.scalar(select(User.id)) is None


class TestAddressLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"SIGNIN_LIMIT_PER_IP": "2 per 10 minutes"}

    def test_forwarded_for_is_ignored_without_trusted_proxies(self, app, client, user):
        assert not isinstance(app.wsgi_app, ProxyFix)
        for n in (1, 2):
            response = signin_post(
                client, f"nobody{n}", "nope nope", **{"X-Forwarded-For": f"203.0.113.{n}"}
            )
            assert response.status_code == 200
        response = signin_post(client, "nobody3", "nope nope", **{"X-Forwarded-For": "203.0.113.3"})
        assert response.status_code == 429
        assert "Too many failed sign-ins from your address" in response.get_data(as_text=True)


class TestTrustedProxy:
    @pytest.fixture
    def config_overrides(self):
        return {"SIGNIN_LIMIT_PER_IP": "2 per 10 minutes", "TRUSTED_PROXIES": 1}

    def test_one_hop_uses_the_address_the_proxy_added(self, app, client, user):
        assert isinstance(app.wsgi_app, ProxyFix)
        for n in (1, 2, 3):  # three clients behind the proxy: each has its own count
            response = signin_post(
                client, f"nobody{n}", "nope nope", **{"X-Forwarded-For": f"203.0.113.{n}"}
            )
            assert response.status_code == 200
        # A client that sends its own X-Forwarded-For is still the address the proxy appended.
        for n in (1, 2):
            forwarded = f"198.51.100.{n}, 203.0.113.9"
            assert (
                signin_post(client, "x", "nope nope", **{"X-Forwarded-For": forwarded}).status_code
                == 200
            )
        forwarded = "198.51.100.3, 203.0.113.9"
        assert (
            signin_post(client, "x", "nope nope", **{"X-Forwarded-For": forwarded}).status_code
            == 429
        )


@pytest.mark.parametrize(
    ("hops", "headers", "expected"),
    [
        (0, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, "127.0.0.1 http"),
        (1, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, "203.0.113.7 https"),
        (1, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, "203.0.113.7 http"),
        (2, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, "198.51.100.1 http"),
        (1, {}, "127.0.0.1 http"),
    ],
)
def test_client_address_seen_by_the_app(tmp_path, hops, headers, expected):
    app = create_app(make_config(tmp_path, TRUSTED_PROXIES=hops))

    @app.route("/_whoami")
    def whoami():
        return f"{client_address()} {request.scheme}"

    assert app.test_client().get("/_whoami", headers=headers).get_data(as_text=True) == expected


class TestLimiterStorage:
    def test_counters_follow_ratelimit_storage_uri(self):
        expected = Config.REDIS_URL or "memory://"
        assert expected == Config.RATELIMIT_STORAGE_URI

    @pytest.mark.parametrize(
        ("config", "warns"),
        [
            ({"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 1}, False),
            ({"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 3}, True),
            ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "WEB_CONCURRENCY": 3}, False),
        ],
    )
    def test_warning_rule(self, config, warns):
        assert (limiter_storage_warning(config) is not None) is warns

    def test_production_assumes_several_workers(self, monkeypatch):
        if "WEB_CONCURRENCY" not in os.environ:
            assert ProdConfig.WEB_CONCURRENCY == 2
        config = {"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 2}
        assert "Set REDIS_URL" in limiter_storage_warning(config)

    def test_warns_at_startup_on_memory_with_several_workers(self, tmp_path, caplog, monkeypatch):
        # A migration test's logging.config.fileConfig may have disabled existing loggers.
        monkeypatch.setattr(logging.getLogger("app"), "disabled", False)
        with caplog.at_level(logging.WARNING, logger="app"):
            create_app(make_config(tmp_path, WEB_CONCURRENCY=2))
        assert any("Rate limits are kept in memory" in r.getMessage() for r in caplog.records)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="app"):
            create_app(make_config(tmp_path, WEB_CONCURRENCY=1))
        assert not any("Rate limits" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a Redis server)")
class TestSharedCounters:
    """With Redis, two app instances (two worker processes) see the same account counts."""

    @pytest.fixture
    def config_overrides(self):
        return {
            "RATELIMIT_STORAGE_URI": os.environ["REDIS_URL"],
            "SIGNIN_LIMIT_PER_ACCOUNT": "2 per hour",
            "SIGNIN_LIMIT_PER_IP": "1000 per minute",
        }

    def test_second_worker_sees_the_first_ones_failures(
        self, app, auth, user, tmp_path, config_overrides
    ):
        from limits.storage import RedisStorage

        key = throttle.account_key(user)
        throttle.succeeded(key)  # a clean start in a shared database
        first_storage = limiter.storage
        assert isinstance(first_storage, RedisStorage)
        for _ in range(2):
            assert auth.login(password="nope nope").status_code == 200
        second = create_app(make_config(tmp_path, **config_overrides))
        second.test_client_class = FreshContextClient
        assert limiter.storage is not first_storage
        try:
            assert AuthActions(second.test_client()).login().status_code == 429
        finally:
            throttle.succeeded(key)
            with second.app_context():
                db.engine.dispose()  # its own pool: close its connections now


# --- Settings checked at start ----------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{"REGISTRATION": "maybe"}, {"TRUSTED_PROXIES": -1}])
def test_bad_settings_refuse_to_start(tmp_path, overrides):
    with pytest.raises(ConfigError):
        create_app(make_config(tmp_path, **overrides))


# --- Logging out ends the session and remember-me cookies -----------------------------------


def fresh_client_with(app, name, value):
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def test_logout_ends_the_remember_me_cookie(app, auth, client, user):
    auth.login(remember="y")
    remember = client.get_cookie("remember_token").value
    assert (
        fresh_client_with(app, "remember_token", remember).get("/dashboard/user").status_code == 200
    )
    auth.logout()
    replay = fresh_client_with(app, "remember_token", remember)
    assert replay.get("/dashboard/user").status_code == 302


def test_logout_ends_the_session_cookie(app, auth, client, user):
    auth.login()
    session_cookie = client.get_cookie("session").value
    assert (
        fresh_client_with(app, "session", session_cookie).get("/dashboard/user").status_code == 200
    )
    auth.logout()
    replay = fresh_client_with(app, "session", session_cookie)
    assert replay.get("/dashboard/user").status_code == 302
    assert auth.login().status_code == 302  # signing in again works


# --- Common passwords -----------------------------------------------------------------------


@pytest.mark.parametrize("password", ["password", "12345678", "Password", "iloveyou", "qwertyuiop"])
def test_register_refuses_common_passwords(auth, password):
    response = auth.register(password=password)
    assert response.status_code == 200
    assert "one of the most common" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id)) is None


def test_register_refuses_the_username_as_password(auth):
    response = auth.register(
        username="longusername", email="x@example.com", password="LongUsername"
    )
    assert "not your username or email address" in response.get_data(as_text=True)


def test_common_password_list_is_shipped():
    assert len(common_passwords()) >= 10_000
    assert is_common("password") and is_common(" 12345678 ")
    assert not is_common(PASSWORD)


def test_create_user_refuses_common_password(runner):
    result = runner.invoke(
        args=["create-user", "carol", "--email", "c@example.com", "--password", "password1"]
    )
    assert result.exit_code == 1
    assert "one of the most common" in result.output
    assert db.session.scalar(select(User.id)) is None
