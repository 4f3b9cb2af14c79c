"""PDF reports of the demo account, parsed back with pypdf: text, page count, fonts for
every script, and the access rules of the pages."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from app.demo.user import create_demo_user
from app.extensions import db
from app.models import Connection
from app.networks import CONNECTORS
from tests.conftest import csrf_token
from tests.factories import UserFactory

try:  # WeasyPrint loads Pango when imported: without it (no `make pdf-deps`), skip rendering
    import weasyprint  # noqa: F401

    PDF_READY = True
except (ImportError, OSError):
    PDF_READY = False
needs_pdf = pytest.mark.skipif(
    not PDF_READY, reason="PDF reports need Pango and the Noto fonts: run `make pdf-deps`"
)

DEMO_PASSWORD = "demo password 1"
SCRIPTS = {
    "vietnamese": "Tiếng Việt có dấu",
    "thai": "ภาษาไทย",
    "arabic": "اللغة العربية",
    "cjk": "中文日本語한국어",
}


@pytest.fixture
def demo(app, client):
    user, _ = create_demo_user("demo", DEMO_PASSWORD, followers=40)
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token})
    return user


def connection_of(user, network):
    return db.session.scalar(
        select(Connection).where(Connection.user_id == user.id, Connection.network == network)
    )


def read_pdf(response) -> tuple[PdfReader, str]:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@needs_pdf
def test_network_report(client, demo):
    response = client.get("/dashboard/user/mastodon/report.pdf")
    assert "mastodon-report-" in response.headers["Content-Disposition"]
    reader, text = read_pdf(response)
    snapshot = connection_of(demo, "mastodon").current_snapshot
    assert 2 <= len(reader.pages) <= 8
    assert "Mastodon report" in text
    for heading in (
        "Overview",
        "Posts per month",
        "Top posts",
        "Sentiment",
        "Growth",
        "Communities",
        "Where these numbers come from",
    ):
        assert heading in text, heading
    assert f"{snapshot.posts_count:,}" in text
    top = snapshot.results["timeline"]["top_posts"]["posts"][0]
    assert f"{top['likes']}" in text
    growth = snapshot.results["growth"]["followers"]
    assert f"{growth['gained_count']} arrived, {growth['lost_count']} left" in text
    assert "demo data" in text  # each part's source


@needs_pdf
def test_account_report_has_every_network_and_the_overlap(client, demo):
    response = client.get("/dashboard/user/report.pdf")
    reader, text = read_pdf(response)
    assert len(reader.pages) >= len(CONNECTORS) + 1  # each network starts a page
    for network in CONNECTORS.values():
        assert network.label in text
    assert "Across networks" in text and "People per combination of networks" in text


@needs_pdf
def test_the_report_renders_every_script(client, demo):
    connection = connection_of(demo, "bluesky")
    results = dict(connection.current_snapshot.results)
    posts = results["timeline"]["top_posts"]["posts"]
    for post, sample in zip(posts, SCRIPTS.values(), strict=False):
        post["text"] = sample
    connection.current_snapshot.results = results
    flag_modified(connection.current_snapshot, "results")
    db.session.commit()
    reader, text = read_pdf(client.get("/dashboard/user/bluesky/report.pdf"))
    assert SCRIPTS["vietnamese"] in text
    assert "中文日本語" in text.replace("\n", "")
    used = " ".join(fonts(reader)).replace("-", "")
    for family in ("NotoSansThai", "NotoSansArabic", "NotoSansCJK"):
        assert family in used, (family, used)


@needs_pdf
def test_reports_follow_the_pages_access_rules(client, demo, app):
    other = UserFactory(username="someone")
    db.session.add(Connection(user_id=other.id, network="linkedin", source="import"))
    db.session.commit()
    db.session.delete(connection_of(demo, "linkedin"))
    db.session.commit()
    assert client.get("/dashboard/user/linkedin/report.pdf").status_code == 404
    assert client.get("/dashboard/user/nowhere/report.pdf").status_code == 404
    fresh = app.test_client()
    response = fresh.get("/dashboard/user/github/report.pdf")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_the_export_tab_and_dashboard_link_to_the_reports(client, demo):
    page = client.get("/dashboard/user/github").get_data(as_text=True)
    assert 'href="/dashboard/user/github/report.pdf"' in page
    assert 'href="/dashboard/user/report.pdf"' in client.get("/dashboard/user").get_data(
        as_text=True
    )


def test_a_missing_weasyprint_is_a_503(client, demo, monkeypatch):
    from app.reports import build

    def unavailable(context):
        raise build.ReportUnavailable("no pango")

    monkeypatch.setattr(build, "render_pdf", unavailable)
    assert client.get("/dashboard/user/github/report.pdf").status_code == 503
