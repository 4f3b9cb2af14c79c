"""Browser tests (Playwright + Debian's Chromium) against the app in real processes.

They run only when asked for with ``-m e2e`` (``make e2e``, ``make e2e-prod``); the normal
suite deselects them, so it needs neither Chromium nor free ports.

``E2E_MODE=prod`` serves the app with ``honcho start web worker`` (ProdConfig, PostgreSQL at
``E2E_DATABASE_ADMIN_URL``, Redis at ``E2E_REDIS_URL``); otherwise gunicorn with DevConfig
and SQLite. Either way a fake GitHub (:class:`tests.fakes.github.FakeGitHub`) runs in this
process on 127.0.0.1, and the app is pointed at it.

Screenshots go to ``docs/_static/screenshots/`` on the SQLite run (``E2E_SCREENSHOTS=0``
turns them off; the production-like run writes them only with ``E2E_SCREENSHOTS=1``).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import ROOT, GunicornStack, HonchoStack, Stack, e2e_world

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ROOT / "docs" / "_static" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
#: Default bound on every Playwright wait (ms); longer waits say so where they are.
TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: browser test against real processes (run with `make e2e`)"
    )
    if "e2e" in (config.option.markexpr or ""):
        # `timeout` (make e2e) sends SIGTERM: unwind like Ctrl-C, so every fixture's
        # teardown (and the atexit hooks) stop the servers.
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the browser tests unless the mark expression asks for them (``-m e2e``)."""
    if "e2e" in (config.option.markexpr or ""):
        return
    here = Path(__file__).parent
    chosen = [item for item in items if here not in Path(str(item.path)).parents]
    if len(chosen) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = chosen


def e2e_mode() -> str:
    return os.environ.get("E2E_MODE", "dev")


@pytest.fixture(scope="session")
def github() -> Iterator[Any]:
    from tests.fakes.github import FakeGitHub

    with FakeGitHub(e2e_world()) as server:
        # The app's keep-alive connections are reset when it stops: not an error here.
        server._httpd.handle_error = lambda request, address: None
        yield server


@pytest.fixture(scope="session")
def stack(github: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("e2e-stack")
    server: Stack
    if e2e_mode() == "prod":
        server = HonchoStack(
            workdir,
            github.url,
            database_admin_url=os.environ.get(
                "E2E_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            ),
            redis_url=os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/14"),
        )
    else:
        server = GunicornStack(workdir, github.url)
    try:
        server.start()
        yield server
    except BaseException:
        print(
            f"--- server log ({server.log_path}) ---\n{server.log_text()[-6000:]}", file=sys.stderr
        )
        raise
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make e2e does it as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
        )
        yield chromium
        chromium.close()


class Session:
    """One browser context (its own cookies) on the stack, with helpers."""

    def __init__(self, browser: Any, stack: Stack) -> None:
        self.stack = stack
        self.context = browser.new_context(
            viewport=VIEWPORT, accept_downloads=True, base_url=stack.url
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def goto(self, path: str) -> Any:
        return self.page.goto(self.stack.url + path)

    def path(self) -> str:
        url: str = self.page.url
        return url.removeprefix(self.stack.url).split("#", 1)[0]

    def register(self, username: str, password: str) -> None:
        page = self.page
        self.goto("/register")
        page.fill("#username", username)
        page.fill("#email", f"{username}@example.com")
        page.fill("#password", password)
        page.fill("#confirm", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url("**/dashboard/user")

    def signin(self, login: str, password: str) -> None:
        self.goto("/signin")
        self.page.fill("#login", login)
        self.page.fill("#password", password)
        self.page.locator("main input[type=submit], main button[type=submit]").click()

    def logout(self) -> None:
        self.page.get_by_role("button", name="Log out").click()
        self.page.wait_for_url(self.stack.url + "/")

    def shot(self, name: str) -> None:
        """Save a full-page 1280 px screenshot for the manual (SQLite run only)."""
        wanted = os.environ.get("E2E_SCREENSHOTS", "1" if e2e_mode() == "dev" else "0")
        if wanted != "1":
            return
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, animations="disabled")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser: Any, stack: Stack) -> Iterator[Session]:
    current = Session(browser, stack)
    yield current
    current.close()
