"""Browser fixtures: Debian's Chromium driven by Playwright against the running stack.

Playwright never downloads a browser here: Chromium comes from Debian's package
(deploy/local/bootstrap.sh installs it) and is launched through `executable_path`. The screens
(web, port 8100) are started through the local stack like the services, with its demo sign-ins.
Screenshots of every screen go to artifacts/screenshots/ (ignored by git).
"""

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import System
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from eventkit.testing import repo_root

CHROMIUM = "/usr/bin/chromium"
# Root on CI machines needs --no-sandbox; the rest keep Chromium from calling out to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = repo_root() / "artifacts" / "screenshots"
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@dataclass
class Screens:
    """The web process and the accounts the tests sign in with."""

    url: str
    stack: Any
    passwords: dict[str, str]

    def add_user(self, username: str, role: str, organisation_id: str | None = None) -> str:
        """An extra account in web's database (for a partner the test registered itself)."""
        password = uuid.uuid4().hex
        account = {"username": username, "display_name": username, "role": role, "password": password}
        if organisation_id:
            account["organisation_id"] = organisation_id
        result = subprocess.run(
            [self.stack.python, "-m", "web", "seed-users"],
            env=self.stack.service_env("web"),
            cwd=self.stack.root,
            input=json.dumps([account]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert '"seeded": 1' in result.stdout, result.stdout + result.stderr
        self.passwords[username] = password
        return username


@pytest.fixture(scope="session")
def screens(system: System) -> Screens:
    stack = system.stack
    stack.start_service("web")
    stack.seed_web_users()
    passwords = {user["username"]: user["password"] for user in stack.web_users()}
    return Screens(url=stack.service_url("web"), stack=stack, passwords=passwords)


# Module scope, not session: Playwright's sync API keeps an event loop running on this thread
# while it is open, and the end-to-end tests that run after these call asyncio.run().
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run deploy/local/bootstrap.sh (it installs Debian's chromium)")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


class Errors(list[str]):
    """Script errors and failed requests a page reported; a screen must show none."""


@dataclass
class Ui:
    """What a browser test does with the screens: contexts, sign-in, error watching, screenshots."""

    browser: Browser
    screens: Screens

    @property
    def url(self) -> str:
        return self.screens.url

    def context(self, *, phone: bool = False, lang: str = "ja") -> BrowserContext:
        context = self.browser.new_context(viewport=PHONE if phone else DESKTOP, locale="ja-JP")
        context.set_default_timeout(15_000)
        if lang != "ja":
            context.add_cookies([{"name": "tsunagu_lang", "value": lang, "url": self.url}])
        return context

    def open(
        self, username: str | None = None, *, phone: bool = False, lang: str = "ja"
    ) -> tuple[BrowserContext, Page, Errors]:
        """A page in a new context, watched for errors, signed in as `username` when one is given."""
        context = self.context(phone=phone, lang=lang)
        page = context.new_page()
        errors = self.watch(page)
        if username is not None:
            self.sign_in(page, username)
        return context, page, errors

    @staticmethod
    def overflow(page: Page) -> int:
        """How many pixels the page is wider than its viewport (at most 1 on a screen that fits)."""
        return int(page.evaluate(OVERFLOW))

    @staticmethod
    def watch(page: Page) -> Errors:
        errors = Errors()
        page.on("pageerror", lambda error: errors.append(f"script: {error}"))
        page.on(
            "console",
            lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None,
        )
        return errors

    def sign_in(self, page: Page, username: str) -> None:
        page.goto(f"{self.url}/login")
        page.get_by_label(re.compile("ユーザー名|Username")).fill(username)
        page.get_by_label(re.compile("パスワード|Password")).fill(self.screens.passwords[username])
        page.get_by_role("button", name=re.compile("^(サインイン|Sign in)$")).click()
        page.wait_for_load_state("domcontentloaded")
        assert "/login" not in page.url, f"{username} could not sign in"

    @staticmethod
    def shoot(page: Page, name: str) -> Path:
        """A full-page screenshot at the page's current width, kept as a test artefact."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = SCREENSHOTS / f"{name}-{'phone' if width < 600 else 'desktop'}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def ui(browser: Browser, screens: Screens) -> Ui:
    return Ui(browser, screens)
