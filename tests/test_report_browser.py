"""The tiny demo's HTML report in headless Chromium: every image decodes, every audio player loads its
clip, and the page makes no request outside itself (only `file:` for the page and `data:` URIs)."""

from __future__ import annotations

import json
import shutil
import time
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.xdist_group("demo"), pytest.mark.slow]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1300,1000")
LOCAL_SCHEMES = {"file", "data"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test extra: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found: apt-get install chromium chromium-driver (make test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium_profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def requests_sent(driver) -> list[dict]:
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    return [e["params"] for e in events if e["method"] == "Network.requestWillBeSent"]


def test_report_opens_offline_with_every_image_and_clip(tiny_demo, browser):
    page = (tiny_demo / "report.html").resolve().as_uri()
    report = json.loads((tiny_demo / "report.json").read_text())
    figures = [b for s in report["sections"] for b in s["blocks"] if "figure" in b]
    clips = sum(len(r["real"]) + len(r["generated"]) for s in report["sections"] for b in s["blocks"]
                for r in b.get("audio", []))

    requests_sent(browser)  # drop whatever the browser fetched before the page
    browser.get(page)
    deadline = time.monotonic() + 30
    while True:
        audio = browser.execute_script("return Array.from(document.querySelectorAll('audio'))"
                                       ".map(a => [a.readyState, a.duration, a.error && a.error.code])")
        if all(state >= 1 for state, _, _ in audio) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")

    assert len(images) == len(figures)
    assert all(complete and width > 0 and height > 0 for complete, width, height in images), images
    assert len(audio) == clips
    assert all(state >= 1 and duration > 0 and error is None for state, duration, error in audio), audio

    sent = requests_sent(browser)
    from_page = [r["request"]["url"] for r in sent if r.get("documentURL") == page or r["request"]["url"] == page]
    assert page in from_page
    assert {urlparse(url).scheme for url in from_page} <= LOCAL_SCHEMES, from_page
    remote = [r["request"]["url"] for r in sent
              if urlparse(r["request"]["url"]).scheme in ("http", "https", "ws", "wss")]
    assert not remote, remote
    assert browser.execute_script("return document.querySelectorAll('script, link, iframe').length") == 0
