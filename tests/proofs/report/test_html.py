"""The HTML report of a real violation, opened in a real browser (headless Chromium).

The page is meant to be read by people, so it is checked where people read it: it must load
without script or console errors, and its stack drawing must show user code on top of the
host's free path. CI sets SPECMC_REQUIRE_BROWSER so that a missing browser fails there
instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from specmc.proofs import exitcodes
from specmc.proofs.cli import main

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_or_skip() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    if os.environ.get("SPECMC_REQUIRE_BROWSER"):
        pytest.fail(f"SPECMC_REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; "
                "SPECMC_REQUIRE_BROWSER=1 makes this a failure)")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("html")
    code = main(["check", "--host", "quickjs-ng-0.5", "--property", "cleanup-not-on-free-stack",
                 "--engine", "explicit", "--certificates", str(d / "certs"), "--format", "html",
                 "--out", str(d / "report")])
    assert code in (exitcodes.OK, exitcodes.FINDING)
    return d / "report"


def test_html_needs_a_folder(capsys):
    assert main(["check", "--format", "html"]) == exitcodes.INPUT_ERROR
    assert "--out DIR" in capsys.readouterr().err


def test_page_is_self_contained_and_links_its_traces(report_dir):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<table class=verdicts>" in page
    assert "src=" not in page and "<link" not in page and "@import" not in page  # fetches nothing
    doc = json.loads((report_dir / "trace-0.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "specmc-trace/1" and doc["steps"][-1]["stack"][-1] == "user code"


@pytest.mark.slow
def test_page_in_chromium(report_dir, tmp_path):
    _browser_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "about:"))
                    else errors.append(f"fetched {r.url}"))
            page.goto((report_dir / "index.html").as_uri())
            headers = page.locator("table.verdicts th").all_inner_texts()
            assert headers[1:] == ["run", "host", "property", "verdict", "expected", "engine", "seconds",
                                   "certificate"]
            assert "VIOLATED" in page.locator("table.verdicts").inner_text()
            svg = page.locator("svg.stack").first
            assert svg.is_visible()
            last = int(page.locator("#svg0 g.frame[data-role=user]").evaluate_all(
                "gs => Math.max(...gs.map(g => +g.dataset.to))"))
            free = page.locator(f"#svg0 g.frame[data-role=free-path][data-to='{last}']")
            user = page.locator(f"#svg0 g.frame[data-role=user][data-to='{last}']")
            assert free.count() == 1 and free.get_attribute("data-alg") == "FreeObject"
            free_depth, free_box = int(free.get_attribute("data-depth")), free.locator("rect").bounding_box()
            above = [g for g in user.all() if int(g.get_attribute("data-depth")) > free_depth]
            assert above, "no user-code frame above FreeObject at the last step"
            user_box = above[0].locator("rect").bounding_box()
            assert user_box["y"] + user_box["height"] <= free_box["y"]  # drawn above it, too
            assert page.locator("#v0 table.trace tr.final").count() == 1  # the violating step, marked
            assert page.locator("#v0 .spec li.final").count() == 1
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
