"""Links from outside data: only absolute http(s) URLs become an ``href``.

:func:`app.networks.text.safe_url` is the one rule; the fetchers and importers apply it to
every URL they map, and the ``safe_href`` template filter applies it again when a page
renders a stored URL (rows stored before the rule existed, or written by other code).
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from app.demo.user import create_demo_user
from app.extensions import db
from app.filters import safe_href
from app.models import Connection, CrossCheck, Snapshot, SyncRun
from app.models import Person as PersonRow
from app.models import Post as PostRow
from app.networks.text import safe_links, safe_url
from app.sync.runner import start_sync
from tests.conftest import csrf_token
from tests.fakes.github import FakeGitHub
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.world import Account, WorldPost, small_world
from tests.networks.archive_builders import (
    MASTODON_ACTOR,
    PROFILE_CSV,
    connections_csv,
    facebook_files,
    following_csv,
    ig_post,
    instagram_files,
    mastodon_boost,
    mastodon_files,
    mastodon_note,
    shares_csv,
)

DEMO_PASSWORD = "demo password 1"

#: Links a hostile archive or server may hand us; none may become an ``href``.
HOSTILE = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/bob",
        "http://127.0.0.1:5000/@bob",
        "HTTPS://Example.ORG/Path?q=1#frag",
        "https://bücher.example/",
        "http://[::1]:8080/x",
        "https://x.com/i/web/status/1",
    ],
)
def test_web_urls_are_kept(url):
    assert safe_url(url) == url


def test_surrounding_whitespace_is_stripped():
    assert safe_url("  https://a.example/x \n") == "https://a.example/x"


@pytest.mark.parametrize(
    "url",
    [
        *HOSTILE,
        "javascript://%0aalert(1)",
        "\x01javascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "file:///etc/passwd",
        "ftp://a.example/",
        "mailto:a@a.example",
        "//evil.example/x",
        "///evil.example",
        "https:evil.example",
        "https:/evil.example",
        "https:\\\\evil.example",
        "https://a.example\\@evil.example",
        "http://a.example/\\evil",
        "https://user:secret@a.example/",
        "https://user@a.example/",
        "https://a.example:99999/",
        "https://a.example:port/",
        "https://",
        "http:///path",
        "http://./",
        "https://%65vil.example/",
        "https://ex ample.org/",
        "https://a.example/x\ny",
        "https://a.example/\u202etxt.exe",
        "https://a.example/\u200bx",
        "https://a.example/\u00a0x",
        "http://[evil]/",
        "http\u017f://a.example/",  # a long s folds to "s" ignoring case
        "\uff48\uff54\uff54\uff50\uff53://a.example/",  # full-width "https"
        "",
        "   ",
    ],
)
def test_everything_else_is_refused(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("value", [None, 0, 1.5, b"https://a.example", ["https://a.example"], {}])
def test_non_strings_are_refused(value):
    assert safe_url(value) is None


def test_profile_links_keep_bare_addresses_but_no_other_scheme():
    links = safe_links(
        [
            "https://a.example",
            "bob.example",
            *HOSTILE,
            "javascript:80",
            "//evil.example",
            "https://a.example",
            None,
            " x.com/ada ",
        ]
    )
    assert links == ("https://a.example", "bob.example", "x.com/ada")


def test_template_filter_is_the_same_rule(app):
    assert app.jinja_env.filters["safe_href"] is safe_href
    assert safe_href("https://a.example/") == "https://a.example/"
    assert all(safe_href(url) is None for url in HOSTILE)
    template = app.jinja_env.from_string(
        "{% set href = url|safe_href %}"
        '{% if href %}<a href="{{ href }}">x</a>{% else %}x{% endif %}'
    )
    assert template.render(url="javascript:alert(1)") == "x"
    assert template.render(url='https://a.example/"><b>') == (
        '<a href="https://a.example/&#34;&gt;&lt;b&gt;">x</a>'
    )


# -- pages: nothing a network gave us becomes a script link ----------------------------------

#: Attributes a browser follows or loads.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "cite", "data"}
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.IGNORECASE)


class _Refs(HTMLParser):
    """Every attribute of a page, entities decoded (as the browser reads them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def _relative(value: str) -> bool:
    return value.startswith(("/", "#", "?")) and not value.startswith("//") and "\\" not in value


def assert_only_web_links(page: str) -> list[str]:
    """Every href/src (and the like) is relative or an http(s) URL that passes safe_url, and no
    attribute at all holds a non-web scheme; returns the outside links for further checks."""
    parser = _Refs()
    parser.feed(page)
    parser.close()
    outside = []
    for tag, name, value in parser.attributes:
        folded = re.sub(r"[\x00-\x20]", "", value)
        scheme = _SCHEME.match(folded)
        assert scheme is None or scheme.group(1).lower() in ("http", "https"), (tag, name, value)
        if name in URL_ATTRIBUTES:
            assert _relative(value) or safe_url(value) == value, (tag, name, value)
            if not _relative(value):
                outside.append(value)
    return outside


def _pages(client, networks) -> Iterator[str]:
    """The dashboard and every network page with both people lists."""
    response = client.get("/dashboard/user")
    assert response.status_code == 200
    yield response.get_data(as_text=True)
    for network in networks:
        for query in ("", "?list=friends"):
            response = client.get(f"/dashboard/user/{network}{query}")
            assert response.status_code == 200, (network, query)
            yield response.get_data(as_text=True)


def _poison(value: Any, keys: set[str], pick: Callable[[], str]) -> Any:
    """``value`` with every string under one of ``keys`` (at any depth) replaced by ``pick()``."""
    if isinstance(value, dict):
        return {
            key: pick() if key in keys and isinstance(item, str) else _poison(item, keys, pick)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_poison(item, keys, pick) for item in value]
    return value


def test_hostile_urls_already_stored_render_as_text(app, client):
    """Rows written before the importers checked links (or by any other code): the pages
    check again and show the text without a link."""
    user, _ = create_demo_user("demo", DEMO_PASSWORD, followers=30)
    hostile = itertools.cycle(HOSTILE)
    for row in db.session.scalars(select(PersonRow)):
        row.url = next(hostile)
    for row in db.session.scalars(select(PostRow)):
        row.url = next(hostile)
    connections = list(db.session.scalars(select(Connection).where(Connection.user_id == user.id)))
    for connection in connections:
        connection.profile_url = next(hostile)
    for snapshot in db.session.scalars(select(Snapshot)):
        snapshot.results = _poison(snapshot.results, {"url"}, lambda: next(hostile))
    cross = db.session.get(CrossCheck, user.id)
    assert cross is not None and cross.results["matches"]
    cross.results = _poison(cross.results, {"url"}, lambda: next(hostile))
    db.session.commit()

    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token})
    pages = list(_pages(client, [c.network for c in connections]))
    for page in pages:
        assert assert_only_web_links(page) == []
    assert "@" + connections[0].handle in pages[1]  # shown, as text


def _upload(client, network: str, filename: str, content: bytes) -> None:
    token = csrf_token(client, f"/dashboard/user/{network}/import")
    response = client.post(
        f"/dashboard/user/{network}/import",
        data={"csrf_token": token, "archive": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def _zip(files: Mapping[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_hostile_urls_in_archives_are_not_kept_nor_linked(app, auth, client, user, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    auth.login()
    # LinkedIn: connections' profile URLs, share links and the owner's websites
    rows = [
        (f"Eve{n}", "Mallory", url, "", "Evil", "CTO", "12 Mar 2021")
        for n, url in enumerate(HOSTILE)
    ]
    rows.append(("Ada", "Lovelace", "https://www.linkedin.com/in/ada", "", "A", "B", "1 Jan 2020"))
    shares = [(f"2024-01-0{n + 1} 10:00:00", url, f"Share {n}") for n, url in enumerate(HOSTILE)]
    profile = PROFILE_CSV.replace("https://ana.example.org", HOSTILE[0])
    linkedin = {
        "Connections.csv": connections_csv(rows),
        "Shares.csv": shares_csv(shares),
        "Profile.csv": profile,
    }
    _upload(client, "linkedin", "Basic_LinkedInDataExport_03-12-2024.zip", _zip(linkedin))
    # Mastodon: the actor's url and links, posts' url (and id), a boost of a script
    actor = {
        **MASTODON_ACTOR,
        "url": HOSTILE[1],
        "attachment": [
            {"type": "PropertyValue", "name": "Web", "value": f'<a href="{url}">x</a>'}
            for url in HOSTILE
        ],
    }
    notes = []
    for n, url in enumerate(HOSTILE):
        note = mastodon_note(str(n + 1), f"<p>Toot {n}</p>", f"2024-01-0{n + 1}T10:00:00Z")
        note["object"]["url"] = url
        if n % 2:
            note["object"]["id"] = HOSTILE[-1 - n]
        notes.append(note)
    notes.append(mastodon_boost("99", HOSTILE[4], "2024-01-09T10:00:00Z"))
    mastodon = mastodon_files(notes, follows=following_csv(["bob@social.example"]))
    mastodon["actor.json"] = json.dumps(actor)
    _upload(client, "mastodon", "archive-20240102030405-abc.zip", _zip(mastodon))
    # Facebook: the owner's profile link
    facebook = facebook_files("2024", friends=["Bob Example"], posts=[(1_700_000_000, "Hi")])
    name = "personal_information/profile_information/profile_information.json"
    facebook[name] = facebook[name].replace("https://www.facebook.com/ana.example", HOSTILE[2])
    _upload(client, "facebook", "facebook-ana.zip", _zip(facebook))
    # Instagram: the owner's website
    instagram = instagram_files(followers=["bob"], following=["bob"], posts=[ig_post("Hi", 1)])
    instagram = {
        key: value.replace("https://example.org", HOSTILE[3]) for key, value in instagram.items()
    }
    _upload(client, "instagram", "instagram-ana.zip", _zip(instagram))

    networks = ["linkedin", "mastodon", "facebook", "instagram"]
    runs = db.session.scalars(select(SyncRun)).all()
    assert sorted((r.status, r.error) for r in runs) == [("done", None)] * len(networks)
    stored = [*db.session.scalars(select(PersonRow.url)), *db.session.scalars(select(PostRow.url))]
    stored += [c.profile_url for c in db.session.scalars(select(Connection))]
    assert "https://www.linkedin.com/in/ada" in stored
    assert all(url is None or safe_url(url) == url for url in stored)
    links = [link for row in db.session.scalars(select(PersonRow.links)) for link in row or ()]
    assert all(safe_links([link]) == (link,) for link in links)

    pages = list(_pages(client, networks))
    outside = [link for page in pages for link in assert_only_web_links(page)]
    assert "https://www.linkedin.com/in/ada" in outside
    assert "Eve1 Mallory" in pages[1] or "@eve1-mallory" in pages[1]


class HostileMastodon(FakeMastodon):
    """Every account's profile URL, avatar and verified link, and every status URL, is a
    script or data link."""

    def account_entity(self, account: Account) -> dict[str, Any]:
        entity = super().account_entity(account)
        bad = HOSTILE[account.id % len(HOSTILE)]
        entity.update(url=bad, avatar=bad, avatar_static=bad)
        entity["fields"] = [
            {"name": "Web", "value": f'<a href="{html.escape(bad)}">me</a>', "verified_at": "x"}
        ]
        return entity

    def status_entity(self, post: WorldPost) -> dict[str, Any]:
        entity = super().status_entity(post)
        entity["url"] = HOSTILE[post.id % len(HOSTILE)]
        if entity["reblog"]:
            entity["reblog"]["url"] = HOSTILE[(post.id + 1) % len(HOSTILE)]
        return entity


class HostileGitHub(FakeGitHub):
    """Profile, avatar and blog links, and every event's ``html_url``, are script links."""

    def simple_user(self, account: Account) -> dict[str, Any]:
        bad = HOSTILE[account.id % len(HOSTILE)]
        return {**super().simple_user(account), "html_url": bad, "avatar_url": bad}

    def full_user(self, account: Account) -> dict[str, Any]:
        return {**super().full_user(account), "blog": HOSTILE[(account.id + 1) % len(HOSTILE)]}

    def events(self, account: Account) -> list[dict[str, Any]]:
        hostile = itertools.cycle(HOSTILE)
        return _poison(super().events(account), {"html_url"}, lambda: next(hostile))


@pytest.fixture
def hostile_servers() -> Iterator[tuple[HostileMastodon, HostileGitHub]]:
    with HostileMastodon(small_world()) as masto, HostileGitHub(small_world()) as gh:
        yield masto, gh


def test_hostile_urls_from_live_servers_are_not_kept_nor_linked(
    app, auth, client, user, hostile_servers
):
    masto, gh = hostile_servers
    app.config.update(
        GITHUB_API_URL=gh.url,
        HTTP_BACKOFF=0.01,
        HTTP_TIMEOUT=2.0,
        ALLOW_INSECURE_INSTANCES=True,
        OUTBOUND_ALLOWED_HOSTS=f"127.0.0.1:{masto.port}",  # the fake, by host and port
    )
    for network, extra in (("mastodon", {"instance_url": masto.url}), ("github", {})):
        connection = Connection(
            user_id=user.id, network=network, source="live", access_token="test-token", **extra
        )
        db.session.add(connection)
        db.session.commit()
        run = start_sync(connection, "live")
        db.session.refresh(run)
        assert (run.status, run.error) == ("done", None), network
        db.session.refresh(connection)
        assert connection.profile_url is None
    assert set(db.session.scalars(select(PersonRow.url))) == {None}
    assert set(db.session.scalars(select(PostRow.url))) == {None}
    links = [link for row in db.session.scalars(select(PersonRow.links)) for link in row or ()]
    assert links == ["https://x.com/bobtweets"]  # GitHub's twitter_username, not the blog

    auth.login()
    pages = list(_pages(client, ["mastodon", "github"]))
    for page in pages:
        assert assert_only_web_links(page) == []
    assert "@bob@" in pages[1] and "@andrew" in pages[3]  # people shown, as text


def test_the_fast_character_check_refuses_what_the_per_character_rule_does():
    """``safe_url`` looks at ASCII with one regex and at other characters one by one: over
    every character of the Basic Multilingual Plane it refuses exactly what the rule says."""
    from app.networks.text import _has_unsafe_char, _unsafe_char

    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        assert _has_unsafe_char(f"https://a.example/{char}x") == _unsafe_char(char), hex(code)


def test_the_plain_url_shortcut_agrees_with_every_check():
    """Most URLs skip the checks through one regex: over thousands of generated URLs, plain
    and hostile, the shortcut never keeps one the checks refuse, nor the reverse."""
    import random

    from app.networks.text import _checked_url

    rng = random.Random(7)
    starts = ["https://", "http://", "HTTPS://", "https:", "//", "javascript:", "https:///", ""]
    hosts = ["a.example", "x.com", "...", ".", "a..b", "ex_ample.org", "b-c.d", "", "[::1]"]
    hosts += ["u:p@h.example", "h.example:80", "h.example:99999", "h.example:x", "xn--bcher-kva.ch"]
    alphabet = "aZ09/?#&=%._-~:@![]\\ \t\u200b\u00e9\u0085\x7f'\"<>"
    seen = 0
    for _ in range(20000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        url = rng.choice(starts) + rng.choice(hosts) + rng.choice(["", "/", "?", "#"]) + tail
        assert safe_url(url) == _checked_url(url.strip()), repr(url)
        seen += safe_url(url) is not None
    assert 1000 < seen < 19000  # both kinds were tried
