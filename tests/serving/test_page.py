"""The web page in headless Chromium (Debian's ``chromium`` driven by Playwright) against the real
app on a loopback port: pick a known user, see their history, search, and get generative and
cascade columns with titles, codes, scores and latency. Skipped where no Chromium is installed,
unless ``ONESEARCH_REQUIRE_BROWSER=1`` (CI sets it) makes a missing browser a failure."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
import uvicorn

from onesearch.serving.app import create_app
from onesearch.serving.engine import Engine

from .conftest import WordSearcher

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None and os.environ.get("ONESEARCH_REQUIRE_BROWSER") != "1":
    pytest.skip("no chromium installed (apt-get install chromium)", allow_module_level=True)


class CascadeStandIn(WordSearcher):
    name = "cascade"


@pytest.fixture
def served(engine, catalog):
    """The app on a free loopback port with generative, bm25 and a cascade stand-in."""
    assert CHROMIUM is not None, "ONESEARCH_REQUIRE_BROWSER=1 but no chromium is installed"
    searchers = {**engine.searchers, "cascade": CascadeStandIn(list(reversed(catalog)))}
    app = create_app(Engine(searchers, catalog, engine._users, ["u1"]))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_the_page_shows_a_users_history_and_both_columns(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(served + "/")
        expect(page.locator("#known-users option")).to_have_count(1)
        page.fill("#user", "u1")
        page.fill("#query", "red shoe")
        page.fill("#k", "5")
        page.click("button[type=submit]")
        expect(page.locator("#history")).to_contain_text("user u1: 2 events")
        for searcher, first in (("generative", None), ("cascade", "green shoe 29")):
            column = page.locator(f"section[data-searcher={searcher}]")
            expect(column.locator("li")).to_have_count(5)
            expect(column.locator(".took")).to_contain_text("ms · known user")
            expect(column.locator("li .meta").first).to_contain_text("code ")
            if first:
                expect(column.locator("li > div:first-child").first).to_have_text(first)
        page.screenshot(path=os.environ.get("ONESEARCH_PAGE_SHOT", str(tmp_path / "page.png")))
        browser.close()
