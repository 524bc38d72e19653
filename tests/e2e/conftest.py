"""Browser-test harness: the real app in a subprocess, driven by headless Chromium.

Fixtures
--------
``live_server`` (module scope)
    Starts gunicorn serving ``wsgi:app`` on a free port, on a database of its
    own (a fresh SQLite file, or a fresh PostgreSQL database created next to
    ``AGNOZYS_TEST_DATABASE_URL`` when that is set), after ``flask db
    upgrade`` and seeding. ``REDIS_URL`` is unset, so jobs run in-process.
    Seeding is ``flask demo`` unless the module defines a ``live_server_setup``
    fixture returning a callable ``setup(app)``: it then runs in this process,
    inside an app context on the server's database, before the server starts
    (call :func:`agnozys.demo.load_demo` from it to get the demo too). Its
    return value is kept as ``live_server.data``. ``live_server.url`` is the
    base URL; ``with live_server.app_context(): ...`` reads or changes the
    server's data from the test.
``browser`` (session scope)
    Chromium from ``/usr/bin/chromium`` through Playwright's sync API.
``page``
    A fresh browser context (desktop viewport, pt-BR) whose ``base_url`` is the
    live server, so ``page.goto("/login")`` works. ``new_page(**context_args)``
    makes more, e.g. ``new_page(viewport={"width": 390, "height": 844})``.

Helpers, as fixtures so test modules need no imports: ``login(page, email,
password)`` (demo owner by default) and ``screenshot(page, name)`` (PNG under
``test-output/screenshots/``, returns its path); ``publish_screenshot(path)``
copies one into ``docs/screenshots/`` for the README when
``AGNOZYS_PUBLISH_SCREENSHOTS=1`` is set. Every test in
``tests/e2e`` is marked ``browser``. Without Chromium or Playwright the tests
are skipped, except in CI (``CI=true``), where that is an error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import fresh_database

from agnozys.demo import DEMO_EMAIL, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("AGNOZYS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Browser-drawn labels (file inputs, validation bubbles) in Portuguese too.
    "--lang=pt-BR",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
SERVER_LOGS = ROOT / "test-output" / "live-server"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright (pip package 'playwright') is not installed"
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the server ----------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    database_url: str
    log_path: Path
    data: Any = None
    _app: Any = field(default=None, repr=False)

    @property
    def app(self) -> Any:
        """A Flask app in the test process bound to the server's database."""
        if self._app is None:
            self._app = _local_app(self.database_url)
        return self._app

    @contextlib.contextmanager
    def app_context(self) -> Iterator[Any]:
        """Read or change the server's data from the test."""
        from agnozys.extensions import db

        with self.app.app_context():
            try:
                yield self.app
            finally:
                db.session.remove()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def _local_app(database_url: str) -> Any:
    from agnozys import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "e2e-secret-key",
            "AGNOZYS_SANDBOX_SECRET": "e2e-sandbox-secret",
            "REDIS_URL": None,
            # The live server runs its own timer; one here would outlive
            # the database this harness drops at the end.
            "AGNOZYS_JOB_TIMER": False,
        }
    )


def _server_env(database_url: str, base_url: str, tmp_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("REDIS_URL", "AGNOZYS_TEST_DATABASE_URL", "REDIS_TEST_URL"):
        env.pop(name, None)
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=database_url,
        AGNOZYS_BASE_URL=base_url,
        SECRET_KEY="e2e-secret-key",
        AGNOZYS_SANDBOX_SECRET="e2e-sandbox-secret",
        AGNOZYS_UPLOAD_DIR=str(tmp_dir / "uploads"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"live server exited with {process.returncode}:\n"
                + log.read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(url + "/login", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; the status is the test's business
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError("live server did not answer in 30 s:\n" + log.read_text())


@pytest.fixture(scope="module")
def live_server_setup() -> Callable[[Any], Any] | None:
    """Override in a test module to seed the server yourself (see module doc)."""
    return None


@pytest.fixture(scope="module")
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    live_server_setup: Callable[[Any], Any] | None,
) -> Iterator[LiveServer]:
    missing = _missing_browser()
    if missing:
        if IN_CI:
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    tmp_dir = tmp_path_factory.mktemp("live")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    SERVER_LOGS.mkdir(parents=True, exist_ok=True)
    log_path = SERVER_LOGS / f"{request.module.__name__.rsplit('.', 1)[-1]}.log"
    with fresh_database(tmp_dir, "agnozys_e2e") as database_url:
        env = _server_env(database_url, url, tmp_dir)
        _flask(env, "db", "upgrade")
        server = LiveServer(url=url, database_url=database_url, log_path=log_path)
        if live_server_setup is None:
            _flask(env, "demo")
        else:
            with server.app_context() as app:
                server.data = live_server_setup(app)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                    "--access-logfile",
                    "-",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            _wait_until_up(url, process, log_path)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if server._app is not None:
                from agnozys.extensions import db

                with server.app.app_context():
                    db.engine.dispose()


# --- the browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _missing_browser()
    if missing:
        if IN_CI:
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Return a factory of pages, each in its own context (own cookies)."""
    contexts: list[Any] = []

    def make(**context_args: Any) -> Any:
        context_args.setdefault("viewport", {"width": 1280, "height": 900})
        context_args.setdefault("locale", "pt-BR")
        context_args.setdefault("timezone_id", "America/Sao_Paulo")
        context = browser.new_context(base_url=live_server.url, **context_args)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


# --- helpers -------------------------------------------------------------------


def login(page: Any, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Log in through the real form and wait for the page after it."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a PNG of the page as ``test-output/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def publish_screenshot(path: Path, name: str | None = None) -> Path:
    """Copy a screenshot into ``docs/screenshots/`` (for the README).

    Only when ``AGNOZYS_PUBLISH_SCREENSHOTS=1``: otherwise every test run
    would rewrite tracked images. Returns the original path in that case.
    """
    if os.environ.get("AGNOZYS_PUBLISH_SCREENSHOTS") != "1":
        return path
    target_dir = ROOT / "docs" / "screenshots"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / (name or path.name)
    shutil.copyfile(path, target)
    return target


@pytest.fixture(name="login")
def login_fixture() -> Callable[..., None]:
    return login


@pytest.fixture(name="screenshot")
def screenshot_fixture() -> Callable[..., Path]:
    return screenshot


@pytest.fixture(name="publish_screenshot")
def publish_screenshot_fixture() -> Callable[..., Path]:
    return publish_screenshot
