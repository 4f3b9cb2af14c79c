"""Landing, dashboard cards, error pages and security headers."""

from __future__ import annotations

import pytest
from flask import abort

from app.networks import CONNECTORS


def test_landing_page(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/signin"' in page and 'href="/register"' in page
    for network in CONNECTORS.values():
        assert network.label in page


def test_dashboard_has_a_connect_button_per_network(auth, client, user):
    auth.login()
    page = client.get("/dashboard/user").get_data(as_text=True)
    for network in CONNECTORS.values():
        if network.door:
            assert f"Connect {network.label}" in page
            assert f'href="/dashboard/user/{network.key}/connect"' in page
        else:  # Instagram: the archive is the only door
            assert f"Import your {network.label} archive" in page
            assert f'href="/dashboard/user/{network.key}/import"' in page


@pytest.mark.parametrize("key", sorted(CONNECTORS))
def test_connect_links_are_not_dead(auth, client, user, key):
    auth.login()
    response = client.get(f"/dashboard/user/{key}/connect")
    assert response.status_code == 200
    assert f"Connect {CONNECTORS[key].label}" in response.get_data(as_text=True)


def test_unknown_network_is_404(auth, client, user):
    auth.login()
    response = client.get("/dashboard/user/myspace/connect")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_scripts_in_pages(auth, client, user):
    auth.login()
    for url in ("/", "/dashboard/user", "/user/user0"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and "onclick=" not in page


def test_session_cookie_flags(auth, user):
    response = auth.login()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # only in ProdConfig


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (400, "Bad request"),
        (403, "Not allowed"),
        (404, "Page not found"),
        (413, "File too large"),
        (429, "Too many attempts"),
        (500, "Something went wrong"),
    ],
)
def test_error_pages_use_the_layout(app, code, text):
    @app.route(f"/boom/{code}")
    def boom():
        abort(code)

    response = app.test_client().get(f"/boom/{code}")
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert text in page and "MD Analytics" in page and "navbar" in page


def test_unhandled_exception_gives_500_page(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/crash")
    def crash():
        raise RuntimeError("boom")

    response = app.test_client().get("/crash")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_static_assets_are_local(client):
    page = client.get("/").get_data(as_text=True)
    assert "cdn." not in page and "https://" not in page.split("<footer")[0].split("</head>")[0]
    response = client.get("/static/vendor/bootstrap-5.3.9/bootstrap.min.css")
    assert response.status_code == 200 and response.data.startswith(b"@charset")
    response.close()
