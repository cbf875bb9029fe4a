"""Open every page of the built book in headless Chromium: no console errors, every image decoded.

The browser is Debian's ``chromium`` driven over the DevTools protocol (``websocket-client``), so no
driver binary or browser download is needed. When Chromium is missing the test installs it with
``apt-get`` (as root, where apt-get exists); where that is impossible it is skipped with the reason
printed. One screenshot per page is kept under ``$XAIKIT_ARTIFACTS`` (default: ``test-artifacts/``
in the checkout), in ``book-screenshots/``.
"""
from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from xaikit.studies._runner import ROOT

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAGE_TIMEOUT_S = 30
VIEWPORT = (1280, 900)

# Every image on a page, after waiting (bounded) for those still loading; lazy images are made eager.
IMAGES_JS = """(async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); setTimeout(r, 10000); })));
  return imgs.map(i => ({src: (i.currentSrc || i.src).slice(0, 120), width: i.naturalWidth}));
})()"""


def _find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _install_chromium() -> str:
    """Try ``apt-get install chromium``; return why it was impossible ("" when it worked)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "chromium is not installed and installing it needs root"
    if not shutil.which("apt-get"):
        return "chromium is not installed and there is no apt-get to install it with"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"`{' '.join(cmd)}` failed: {err}"
        if proc.returncode != 0:
            tail = " ".join((proc.stderr or proc.stdout).split()[-30:])
            return f"`{' '.join(cmd)}` failed with exit code {proc.returncode}: {tail}"
    return ""


@functools.cache
def _browser_or_reason() -> tuple[str | None, str]:
    path = _find_browser()
    if path:
        return path, ""
    print("[browser test] chromium not found; trying apt-get install -y chromium", flush=True)
    reason = _install_chromium()
    path = _find_browser()
    return path, (reason or "apt-get reported success but no chromium binary was found") if not path else ""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class DevTools:
    """A minimal synchronous Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=PAGE_TIMEOUT_S, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        call_id = self.next_id
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == call_id:
                if "error" in msg:
                    raise RuntimeError(f"{method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float = PAGE_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev["method"] == method:
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.ws.settimeout(left)
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds`` (late console errors)."""
        import websocket

        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.events.append(msg)
        self.ws.settimeout(PAGE_TIMEOUT_S)

    def evaluate(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def console_errors(self) -> list[str]:
        errors = []
        for ev in self.events:
            p = ev.get("params", {})
            if ev["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                errors.append(f"uncaught exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif ev["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append("console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                           for a in p.get("args", [])))
            elif ev["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                errors.append(f"{e.get('source')}: {e.get('text')} {e.get('url', '')}".strip())
        return errors

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    path, reason = _browser_or_reason()
    if path is None:
        print(f"\n[browser test] SKIPPED: {reason}", flush=True)
        pytest.skip(f"no headless Chromium: {reason}")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [path, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-extensions",
         "--disable-sync", "--no-first-run", "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
         f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", f"--user-data-dir={profile}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.poll() is not None else ""
                pytest.fail(f"chromium did not start its DevTools endpoint: {err}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.loads(resp.read())
        page = next(t for t in targets if t.get("type") == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            tools.send(domain)
        tools.send("Emulation.setDeviceMetricsOverride", width=VIEWPORT[0], height=VIEWPORT[1],
                   deviceScaleFactor=1, mobile=False)
        yield tools
        tools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def served_book(built_book):
    """``(base URL, html folder)``: the built book served on 127.0.0.1 at a free port, in a thread."""
    handler = functools.partial(_Quiet, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", built_book
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def artifacts():
    out = Path(os.environ.get("XAIKIT_ARTIFACTS", ROOT / "test-artifacts")) / "book-screenshots"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


def _pages(html: Path) -> list[str]:
    """Every HTML page of the book, relative to ``html``: not the theme's template fragments in ``_static``."""
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not p.relative_to(html).parts[0].startswith("_"))
    # index.html at the root is only a redirect to book/index.html, which is opened as a page of its own.
    return [p for p in pages if p != "index.html"]


def _open(tools: DevTools, url: str) -> None:
    tools.events.clear()
    tools.send("Page.navigate", url=url)
    tools.wait_for("Page.loadEventFired")


def test_every_page_loads_without_console_errors_and_all_images_decode(browser, served_book, artifacts):
    base, html = served_book
    pages = _pages(html)
    assert {"book/index.html", "book/methods.html", "book/reproducibility.html", "book/api.html",
            "book/bibliography.html", "book/_generated/01_model_complexity.html"} <= set(pages)
    failures, n_images = [], {}
    for page in pages:
        _open(browser, f"{base}/{page}")
        images = browser.evaluate(IMAGES_JS)
        browser.drain(0.3)
        shot = browser.send("Page.captureScreenshot", format="png")["data"]
        (artifacts / (page.replace("/", "__").removesuffix(".html") + ".png")).write_bytes(base64.b64decode(shot))
        n_images[page] = len(images)
        failures += [f"{page}: {e}" for e in browser.console_errors()]
        failures += [f"{page}: image not decoded (naturalWidth 0): {im['src']}" for im in images if im["width"] <= 0]
    assert not failures, "\n".join(failures)
    assert n_images["book/_generated/01_model_complexity.html"] >= 5  # gallery, curves, maps, figures 6-9, ...
    assert n_images["book/methods.html"] >= 20  # formulas are drawn at build time as images, not by MathJax
    assert len(list(artifacts.glob("*.png"))) == len(pages)


def test_landing_page_and_a_study_page_render_what_they_promise(browser, served_book):
    base, _ = served_book
    _open(browser, f"{base}/index.html")  # the root redirect lands on the landing page
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if browser.evaluate("location.pathname + ' ' + document.readyState") == "/book/index.html complete":
                break
        except RuntimeError:  # the page navigated while the expression ran
            pass
        time.sleep(0.2)
    text = browser.evaluate("document.body.innerText")
    assert "phantoms, not patients" in text
    assert browser.evaluate("location.pathname") == "/book/index.html"
    nav = browser.evaluate("Array.from(document.querySelectorAll('nav.bd-links a')).map(a => a.textContent.trim())")
    for title in ("Phantoms and real datasets", "Methods reference", "Reproducibility", "API reference",
                  "Bibliography"):
        assert title in nav, (title, nav)

    _open(browser, f"{base}/book/_generated/01_model_complexity.html")
    # The provenance manifest is a collapsed block that opens on a click.
    state = browser.evaluate("""(() => {
      const d = document.querySelector('#provenance details');
      if (!d) return null;
      const before = d.open;
      d.querySelector('summary').click();
      return {before: before, after: d.open, text: d.innerText};
    })()""")
    assert state is not None, "no collapsible block in the Provenance section"
    assert state["before"] is False and state["after"] is True
    assert '"git_commit"' in state["text"] and '"data_fingerprint"' in state["text"]
