"""`make up PROMETHEUS=1`: a local Prometheus scrapes every service's /metrics, has the project's
alert rules loaded, and the operator dashboard links to it."""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

JOBS = {"intake", "referral", "directory", "notify", "web"}


@pytest.fixture
def prometheus(screens: Any) -> Iterator[str]:
    stack = screens.stack
    # What `up --prometheus` does: mark it (web then links to it), start it, start web again.
    stack.start_prometheus()
    stack.stop_service("web")
    stack.start_service("web")
    try:
        yield stack.prometheus.url()
    finally:
        stack.stop_service("prometheus")
        stack.prometheus.disable()
        stack.stop_service("web")
        stack.start_service("web")


def healthy_jobs(url: str) -> set[str]:
    targets = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    return {t["labels"]["job"] for t in targets if t["health"] == "up"}


def test_the_local_prometheus_scrapes_every_service_and_the_dashboard_links_to_it(
    ui: Any, prometheus: str
) -> None:
    deadline = time.monotonic() + 60
    while healthy_jobs(prometheus) != JOBS and time.monotonic() < deadline:
        time.sleep(1)
    assert healthy_jobs(prometheus) == JOBS

    # The services' own figures arrive, and the project's alert rules are loaded.
    found = httpx.get(f"{prometheus}/api/v1/query", params={"query": "tsunagu_outbox_backlog"}, timeout=5)
    assert {r["metric"]["job"] for r in found.json()["data"]["result"]} >= {"intake", "referral"}
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert any(rule["name"].startswith("Tsunagu") for group in groups for rule in group["rules"])

    context = ui.context()
    page = context.new_page()
    ui.sign_in(page, "operator")
    page.goto(f"{ui.url}/ops")
    link = page.get_by_role("link", name=re.compile("Prometheus"))
    expect(link).to_have_attribute("href", prometheus)
    context.close()
