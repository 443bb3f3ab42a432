"""The README's screenshots: the playground on a scratch app, as a person sees it after
generating a couple of images with the built-in sandbox.

scratch_app() starts `manage.py up` on a scratch data folder (its own database, media and
sandbox) and yields the address and the demo login it prints; take() signs in with Chromium,
generates through the page and saves a desktop and a phone screenshot; optimised() makes a
PNG small enough to keep in the repository.
"""

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image

from playground.sandbox.process import free_port, port_answers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass(frozen=True)
class Shot:
    """One screenshot of the README: the browser it is taken in and the generation made first."""

    name: str
    browser: dict
    prompt: str
    size: str  # matched against the size choices' names
    count: str
    from_top: bool  # the page from its top, or where the page left it after Generate


SHOTS = [
    Shot("playground-desktop.png", {"viewport": {"width": 1440, "height": 900}, "color_scheme": "light"},
         "a lighthouse on a cliff at dawn, watercolour, soft light", "landscape", "2", from_top=True),
    Shot("playground-phone.png",
         {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark", "is_mobile": True, "has_touch": True},
         "a red fox asleep in fresh snow, morning light", "portrait", "1", from_top=False),
]
BANNER = re.compile(r"running at (?P<url>http://\S+?)/?\n\s+Sign in as\s+(?P<username>\S+) / (?P<password>\S+)")
STARTUP_SECONDS = 120
TASK_SECONDS = "4"  # the sandbox's time to "generate": long enough to look real, short enough to wait for


@dataclass(frozen=True)
class App:
    url: str
    username: str
    password: str


def banner_login(text):
    """The address and demo login `manage.py up` prints, or None before it has printed them."""
    found = BANNER.search(text)
    return App(found["url"], found["username"], found["password"]) if found else None


@contextmanager
def scratch_app():
    """`manage.py up` on a scratch data folder, free ports and the built-in sandbox; stopped
    (with the sandbox, workers and web server it started) and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        log_path = Path(folder) / "up.log"
        env = {
            **os.environ,
            "PLAYGROUND_DATA_DIR": folder,
            "PORT": str(free_port()),
            "SANDBOX_PORT": str(free_port()),
            "EVOLINK_API_KEY": "",
            "USE_SANDBOX": "1",
            "SANDBOX_TASK_SECONDS": TASK_SECONDS,
        }
        # The app's own settings of where things are must not lead it out of the scratch folder.
        for name in ("SQLITE_PATH", "MEDIA_ROOT", "DATABASE_URL", "S3_BUCKET", "SANDBOX_URL", "REDIS_URL"):
            env.pop(name, None)
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "up"], cwd=settings.BASE_DIR, env=env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            yield wait_for_banner(process, log_path)
        finally:
            process.send_signal(signal.SIGINT)  # `up` stops what it started
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_banner(process, log_path):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        app = banner_login(log_path.read_text())
        if app and port_answers("127.0.0.1", int(app.url.rsplit(":", 1)[1])):
            return app
        if process.poll() is not None:
            raise RuntimeError(f"`manage.py up` stopped:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.5)
    raise RuntimeError(f"`manage.py up` did not start within {STARTUP_SECONDS} s:\n{log_path.read_text()[-2000:]}")


def take(app, out_dir):
    """Sign in, generate and save each of SHOTS into out_dir; the paths saved."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for done, shot in enumerate(SHOTS, start=1):
                context = browser.new_context(**shot.browser)
                page = signed_in(context.new_page(), app)
                generate(page, shot, finished=done)
                if shot.from_top:
                    page.evaluate("window.scrollTo(0, 0)")
                path = out_dir / shot.name
                path.write_bytes(optimised(page.screenshot()))
                saved.append(path)
                context.close()
        finally:
            browser.close()
    return saved


def signed_in(page, app):
    page.goto(f"{app.url}/")
    page.get_by_label("Username").fill(app.username)
    page.get_by_label("Password").fill(app.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Generate").wait_for()
    return page


def generate(page, shot, finished):
    """Generate through the page, as a person would, and wait until `finished` generations are done
    and their images shown. A size or count the page does not offer by that name is left as it is."""
    from playwright.sync_api import expect

    page.get_by_label("Prompt").fill(shot.prompt)
    for choice in (page.get_by_role("radio", name=re.compile(shot.size, re.I)),
                   page.get_by_role("radio", name=shot.count, exact=True)):
        if choice.count():
            choice.first.check()
    page.get_by_role("button", name="Generate").click()
    summary = re.compile(rf"^0 running · {finished} completed")
    expect(page.locator("#history-summary")).to_have_text(summary, timeout=90_000)
    page.wait_for_load_state("networkidle")
    deadline = time.monotonic() + 30
    while not page.evaluate("[...document.images].every((image) => image.complete)"):
        if time.monotonic() > deadline:
            raise RuntimeError("The page's images did not load.")
        time.sleep(0.2)


def optimised(png, colours=256):
    """The screenshot as a palette PNG: a fraction of the size, with no visible loss for a page."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return out.getvalue()
