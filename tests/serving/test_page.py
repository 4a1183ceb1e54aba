"""The web page in headless Chromium (Debian's ``chromium`` driven by Playwright) against the real
app on a loopback port: pick a known user, see their history, search, and get generative and
cascade columns with titles, codes, scores and latency; during a live build, see each step's
progress and a column appear when its searcher is swapped in (its screenshots, with
``ONESEARCH_SHOTS=DIR``, are the README's); a search lives in the URL and comes back on reload;
filters the catalog has no column for are hidden. Skipped where no Chromium is installed,
unless ``ONESEARCH_REQUIRE_BROWSER=1`` (CI sets it) makes a missing browser a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from onesearch.serving.app import create_app
from onesearch.serving.engine import Engine, ItemRecord

from .conftest import WordSearcher, serve_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None and os.environ.get("ONESEARCH_REQUIRE_BROWSER") != "1":
    pytest.skip("no chromium installed (apt-get install chromium)", allow_module_level=True)


class CascadeStandIn(WordSearcher):
    name = "cascade"


class Board:
    """A live build's board: BM25 done, the generative model training, until ``finish()``."""

    def __init__(self) -> None:
        self.finished = False

    def snapshot(self):
        generative = {"status": "done", "done": 10, "eta_s": None, "note": ""} if self.finished else {"status": "running", "done": 4, "eta_s": 90.0, "note": "epoch 1: valid NDCG@10 0.41"}
        return [{"name": "BM25", "status": "done", "done": 0, "total": None, "note": "", "elapsed_s": 1.0, "eta_s": None},
                {"name": "generative model", "total": 10, "elapsed_s": 60.0, **generative}]


@pytest.fixture
def served(engine, catalog):
    """The app on a free loopback port with generative, bm25 and a cascade stand-in."""
    searchers = {**engine.searchers, "cascade": CascadeStandIn(list(reversed(catalog)))}
    yield from _serve(create_app(Engine(searchers, catalog, engine._users, ["u1"])))


@pytest.fixture
def bare(engine, catalog):
    """The app over the same items without brand, category or price (Home Depot's shape)."""
    items = [ItemRecord(i.item_id, i.title, code=i.code) for i in catalog]
    yield from _serve(create_app(Engine(engine.searchers, items, engine._users, ["u1"])))


@pytest.fixture
def building(engine, catalog):
    """(url, app, board, the full engine): the app of a live build that serves bm25 alone so far."""
    board = Board()
    app = create_app(Engine({"bm25": engine.searchers["bm25"]}, catalog, engine._users, ["u1"]), build=board)
    for url in _serve(app):
        yield url, app, board, Engine(engine.searchers, catalog, engine._users, ["u1"])


def _serve(app):
    assert CHROMIUM is not None, "ONESEARCH_REQUIRE_BROWSER=1 but no chromium is installed"
    for port in serve_in_thread(app):
        yield f"http://127.0.0.1:{port}"


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
        expect(page.locator("#build")).to_be_hidden()  # a prebuilt bundle: no build to show
        page.fill("#brand", "acme")
        page.fill("#price-max", "25")
        page.click("button[type=submit]")
        for searcher in ("generative", "cascade"):  # the generative trie holds only the allowed items
            metas = page.locator(f"section[data-searcher={searcher}] li .meta")
            expect(metas.first).to_contain_text("acme")
            assert all("acme" in meta and float(meta.split("price ")[1].split(" ")[0]) <= 25 for meta in metas.all_inner_texts())
        page.screenshot(path=os.environ.get("ONESEARCH_PAGE_SHOT", str(tmp_path / "page.png")))
        browser.close()


def test_the_page_shows_the_live_build_and_a_column_appears_when_its_searcher_is_swapped_in(building, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, app, board, full = building
    shots = Path(os.environ.get("ONESEARCH_SHOTS", tmp_path))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(url + "/")
        training = page.locator('#build tr[data-step="generative model"]')
        expect(training).to_contain_text("running")
        expect(training).to_contain_text("1m00s")  # elapsed
        expect(training).to_contain_text("1m30s")  # ETA
        expect(training).to_contain_text("epoch 1: valid NDCG@10 0.41")
        page.fill("#query", "red shoe")
        page.fill("#k", "5")
        page.click("button[type=submit]")
        expect(page.locator("section[data-searcher=bm25] li")).to_have_count(5)
        expect(page.locator("section[data-searcher=generative]")).to_have_count(0)
        page.screenshot(path=str(shots / "page-building.png"))
        app.state.live.publish(full)
        board.finished = True
        generative = page.locator("section[data-searcher=generative]")
        expect(generative.locator("li")).to_have_count(5)  # appeared, and answered the standing query
        expect(page.locator("#build-summary")).to_contain_text("finished")
        expect(training).to_contain_text("done")
        page.screenshot(path=str(shots / "page-built.png"))
        browser.close()


def test_a_search_lives_in_the_url_and_a_reload_or_a_shared_link_restores_it(served):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(served + "/")
        page.fill("#user", "u1")
        page.fill("#query", "red shoe")
        page.fill("#k", "4")
        page.fill("#brand", "acme")
        page.click("button[type=submit]")
        expect(page.locator("section[data-searcher=cascade] li")).to_have_count(4)
        assert "q=red+shoe" in page.url and "user=u1" in page.url and "k=4" in page.url and "brand=acme" in page.url
        page.reload()
        expect(page.locator("#query")).to_have_value("red shoe")
        expect(page.locator("#brand")).to_have_value("acme")
        for searcher in ("generative", "cascade"):
            metas = page.locator(f"section[data-searcher={searcher}] li .meta")
            expect(metas).to_have_count(4)
            assert all("acme" in meta for meta in metas.all_inner_texts())
        expect(page.locator("#history")).to_contain_text("user u1: 2 events")
        shared = browser.new_page()
        shared.goto(served + "/?q=green+shoe&searcher=cascade")
        expect(shared.locator("section[data-searcher=cascade] li").first).to_contain_text("green shoe")
        expect(shared.locator("section[data-searcher=generative]")).to_have_count(0)
        browser.close()


def test_filters_the_catalog_has_no_column_for_are_hidden_and_the_page_says_so_once(served, bare):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(bare + "/?q=red+shoe&brand=acme")
        expect(page.locator("#no-filters")).to_be_visible()
        expect(page.locator("#no-filters")).to_contain_text("no brand, category or price")
        for selector in ("#filters", "#brand", "#category", "#price-min", "#price-max"):
            expect(page.locator(selector)).to_be_hidden()
        expect(page.locator("section[data-searcher=generative] li")).to_have_count(10)  # the link's brand was dropped, not matched against nothing
        full = browser.new_page()
        full.goto(served + "/")
        expect(full.locator("#brand")).to_be_visible()
        expect(full.locator("#no-filters")).to_be_hidden()
        browser.close()


@pytest.fixture
def merchant(engine, catalog):
    """The app with an order-diagnosis model (fitted on the synthetic shop) behind an admin key."""
    from onesearch.orders.model import DiagnosisConfig, Diagnoser
    from onesearch.orders.schema import lines_to_orders
    from tests.orders.synthetic import synthetic_lines

    diagnoser = Diagnoser.fit(lines_to_orders(synthetic_lines(1500)), DiagnosisConfig(trees=60))
    yield from _serve(create_app(Engine(engine.searchers, catalog, engine._users, ["u1"]), admin_key=ORDERS_KEY, orders=diagnoser))


ORDERS_KEY = "a-long-enough-admin-key"


def test_the_orders_tab_flags_an_uploaded_file_with_reasons_and_a_ship_first_list(merchant, served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from onesearch.orders.schema import write_lines
    from tests.orders.synthetic import synthetic_lines

    orders = tmp_path / "pending.csv"
    write_lines(synthetic_lines(200, seed=3), orders)  # its `problem` column is not sent
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(merchant + "/")
        page.click("nav button[data-tab=orders]")
        expect(page.locator("#tab-search")).to_be_hidden()
        page.set_input_files("#orders-file", str(orders))
        page.fill("#orders-key", "not-the-key-at-all")
        page.click("#orders-form button[type=submit]")
        expect(page.locator("#orders-summary")).to_contain_text("Bearer")  # refused: the key is wrong
        page.fill("#orders-key", ORDERS_KEY)
        page.click("#orders-form button[type=submit]")
        expect(page.locator("#orders-summary")).to_contain_text("to ship first")
        expect(page.locator("#orders-ship tbody tr")).to_have_count(20)
        expect(page.locator("#orders-ship tbody tr").first.locator("td").first).to_have_text("1")
        expect(page.locator("#orders-check tbody tr").first.locator(".reasons")).not_to_be_empty()
        page.screenshot(path=str(Path(os.environ.get("ONESEARCH_SHOTS", tmp_path)) / "page-orders.png"))
        off = browser.new_page()
        off.goto(served + "/")
        off.click("nav button[data-tab=orders]")
        expect(off.locator("#orders-off")).to_be_visible()
        browser.close()
