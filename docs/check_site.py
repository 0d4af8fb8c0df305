"""Check the built documentation site: internal links, then pages in headless Chromium.

    python docs/check_site.py site [--screenshot home.png] [--chromium PATH]

1. **Links.** Every ``href``/``src`` of every HTML page under ``site/`` that stays inside the
   site must name an existing file, and a ``#fragment`` must be an ``id`` (or ``name``) on the
   target page.
2. **Browser.** ``site/`` is served on 127.0.0.1 (a free port) and headless Chromium loads the
   home page, the API overview, an API reference page and a tutorial through the DevTools
   protocol over a pipe (``--remote-debugging-pipe``: no extra Python package, no open debug
   port). A page fails on any uncaught exception, ``console.error``, browser log entry of level
   error (a failed resource load is one), failed request or HTTP status >= 400, or when the
   rendered page lacks its content (the article heading; API pages: a documented object;
   tutorials: a code block).

Exits 0 when everything passes, 1 with one line per problem otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import functools
import html.parser
import http.server
import json
import os
import pathlib
import posixpath
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PAGES = {  # path under the site -> JavaScript that is true when the page's content rendered
    "": "!!document.querySelector('article h1')",
    "api/": "!!document.querySelector('article h1') && !!document.querySelector('.doc-object')",
    "api/neurons/": "document.querySelectorAll('article .doc-object').length > 10",
    "tutorials/custom-neuron/": "!!document.querySelector('article h1') && "
    "document.querySelectorAll('article pre code').length >= 3",
}
SKIP_SCHEMES = ("http:", "https:", "mailto:", "javascript:", "data:", "tel:")


# -- 1. links ------------------------------------------------------------------------------------
class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag != "meta" else ():
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (
                tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")
            ):
                self.links.append(a[key])


def _target_file(site: pathlib.Path, path: str) -> pathlib.Path | None:
    p = site / path.lstrip("/")
    if path.endswith("/") or p.is_dir():
        p = p / "index.html"
    return p if p.is_file() else None


def check_links(site: pathlib.Path) -> list[str]:
    """Broken internal links of every page, as ``page: link (why)`` lines."""
    pages = {}
    for f in sorted(site.rglob("*.html")):
        c = _Collector()
        c.feed(f.read_text(encoding="utf-8", errors="replace"))
        pages[f.relative_to(site).as_posix()] = c
    problems = []
    for rel, c in pages.items():
        base = posixpath.dirname(rel)
        for link in c.links:
            if link.startswith(SKIP_SCHEMES) or link.startswith("//"):
                continue
            url = urllib.parse.urlsplit(link)
            path = urllib.parse.unquote(url.path)
            if path:
                joined = posixpath.normpath(posixpath.join(base, path))
                target_path = joined + ("/" if path.endswith("/") else "")
                if joined.startswith(".."):
                    problems.append(f"{rel}: {link} (leaves the site)")
                    continue
            else:
                target_path = rel
            target = _target_file(site, target_path)
            if target is None:
                problems.append(f"{rel}: {link} (no such file)")
                continue
            frag = urllib.parse.unquote(url.fragment)
            if frag and target.suffix == ".html":
                tgt = pages.get(target.relative_to(site).as_posix())
                if tgt is not None and frag not in tgt.ids:
                    problems.append(f"{rel}: {link} (no id {frag!r} on the target page)")
    return problems


# -- 2. browser ----------------------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    failures: list[str] = []

    def log_message(self, fmt, *args):  # quiet, but remember errors
        if len(args) >= 2 and str(args[1]).isdigit() and int(args[1]) >= 400:
            self.failures.append(f"server: {args[0]} -> {args[1]}")


@contextlib.contextmanager
def serve(site: pathlib.Path):
    handler = functools.partial(_Handler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Chromium:
    """Headless Chromium driven by the DevTools protocol over ``--remote-debugging-pipe``."""

    def __init__(self, binary: str, timeout: float = 30.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="neurosim-docs-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Move the child's ends out of the way of fds 3 and 4, which Chromium expects them on.
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 100)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 100)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-gpu",
            "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={self._profile}",
            "--window-size=1280,900",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=child_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(hi_r)
        os.close(hi_w)
        self._w = os.fdopen(to_child_w, "wb", buffering=0)
        self._r = os.fdopen(from_child_r, "rb", buffering=0)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = self._r.read(65536)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium closed the DevTools pipe:\n{err}")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        while True:
            for ev in self.events[seen:]:
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return True
            seen = len(self.events)
            # A short no-op round trip reads whatever events arrived meanwhile.
            try:
                self.send("Runtime.evaluate", {"expression": "0"}, session)
            except TimeoutError:
                return False
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def close(self):
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)


def _problems(events: list[dict], session: str, page: str) -> list[str]:
    out = []
    for ev in events:
        if ev.get("sessionId") != session:
            continue
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            out.append(f"{page}: uncaught exception: {desc}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            out.append(f"{page}: console.{p['type']}: {text}")
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            out.append(f"{page}: browser log: {e.get('text')} {e.get('url', '')}".rstrip())
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            out.append(f"{page}: request failed: {p.get('errorText')} ({p.get('type')})")
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            out.append(f"{page}: HTTP {p['response']['status']}: {p['response']['url']}")
    return out


def check_pages(site: pathlib.Path, binary: str, screenshot: pathlib.Path | None) -> list[str]:
    problems = []
    with serve(site) as root:
        browser = Chromium(binary)
        try:
            for path, rendered in PAGES.items():
                url = root + path
                target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
                session = browser.send(
                    "Target.attachToTarget", {"targetId": target, "flatten": True}
                )["sessionId"]
                for domain in ("Runtime", "Log", "Network", "Page"):
                    browser.send(f"{domain}.enable", {}, session)
                browser.send("Page.navigate", {"url": url}, session)
                if not browser.wait_for("Page.loadEventFired", session, 30.0):
                    problems.append(f"/{path}: the page did not finish loading in 30 s")
                time.sleep(1.0)  # late scripts (search index, web worker) report their errors
                ok = browser.send(
                    "Runtime.evaluate", {"expression": rendered, "returnByValue": True}, session
                )
                if ok.get("result", {}).get("value") is not True:
                    problems.append(f"/{path}: content missing after load ({rendered})")
                if screenshot is not None and path == "":
                    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
                    screenshot.write_bytes(base64.b64decode(shot["data"]))
                problems += _problems(browser.events, session, "/" + path)
                browser.send("Target.closeTarget", {"targetId": target})
        finally:
            browser.close()
        problems += _Handler.failures
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=pathlib.Path, help="the built site (mkdocs build --site-dir)")
    ap.add_argument("--screenshot", type=pathlib.Path, help="save the home page as PNG here")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    ap.add_argument("--links-only", action="store_true", help="skip the browser")
    args = ap.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"check_site: {args.site}/index.html not found; run `make docs` first")
        return 1
    t0 = time.perf_counter()
    problems = check_links(args.site)
    n_pages = len(list(args.site.rglob("*.html")))
    print(f"links: {n_pages} pages, {len(problems)} broken ({time.perf_counter() - t0:.1f} s)")
    if not args.links_only:
        binary = shutil.which(args.chromium)
        if binary is None:
            print(f"check_site: {args.chromium!r} not found (apt-get install chromium)")
            return 1
        t1 = time.perf_counter()
        found = check_pages(args.site, binary, args.screenshot)
        print(
            f"browser: {len(PAGES)} pages, {len(found)} problems ({time.perf_counter() - t1:.1f} s)"
        )
        problems += found
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
