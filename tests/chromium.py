"""Headless Chromium driven through its DevTools protocol on a pipe (no extra package):
a page at an exact viewport width (a phone's 390 px, below the window's own minimum),
measured by an expression evaluated in it, and a screenshot of the whole page."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "apt-get install -y chromium fonts-noto-cjk (make test does it where it can)"


def binary() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


class Browser:
    """One headless browser; `open(url, width)` gives a page to evaluate and shoot."""

    def __init__(self, path: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="casectl-chromium-")
        to_browser, self._write = _high(os.pipe())
        self._read, from_browser = _high(os.pipe())

        def pipes() -> None:  # the protocol's pipe: the browser reads fd 3, writes fd 4
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [path, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--no-first-run",
             "about:blank"],
            preexec_fn=pipes, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._id = b"", 0

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait(self, event: str) -> None:
        while self._next().get("method") != event:
            pass

    def _next(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def open(self, url: str, width: int, height: int = 900) -> Page:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)  # fmt: skip
        self.call("Page.enable", session)
        self.call("Page.navigate", session, url=url)
        self.wait("Page.loadEventFired")
        return Page(self, session)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)
        shutil.rmtree(self.profile, ignore_errors=True)


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """The pair moved above 9, so the child's dup2 onto 3 and 4 clobbers neither."""
    import fcntl

    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved  # type: ignore[return-value]


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def evaluate(self, expression: str) -> Any:
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression,
                                   returnByValue=True)  # fmt: skip
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        shot = self.browser.call("Page.captureScreenshot", self.session, format="png",
                                 captureBeyondViewport=True)  # fmt: skip
        return base64.b64decode(shot["data"])


# Every element's box against the viewport: what sticks out sideways at this width.
WIDER_THAN_VIEWPORT = """(() => {
  const width = document.documentElement.clientWidth, wide = [];
  for (const e of document.querySelectorAll('body *')) {
    const box = e.getBoundingClientRect();
    if (box.width && (box.right > width + 0.5 || box.left < -0.5))
      wide.push(e.tagName + ' ' + (e.textContent || '').trim().slice(0, 40) + ' ' +
                Math.round(box.left) + '..' + Math.round(box.right));
  }
  return {width, scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 20),
          lang: document.documentElement.lang, text: document.body.innerText.length};
})()"""
