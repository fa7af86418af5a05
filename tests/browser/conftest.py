"""Fixtures for browser tests: an isolated JupyterLab server and headless Chromium.

``lab_server(release_dir)`` starts ``jupyter lab`` (from the interpreter that runs
pytest) on a copy of a release folder, with its own token, port, config, data,
runtime and IPython dirs, so nothing in ``~/.jupyter`` leaks in and nothing is
written there.  Kernel specs and lab extensions (ipywidgets) are still found in
``sys.prefix/share/jupyter``, which Jupyter always searches.

``browser`` is a Playwright Chromium (Debian's ``/usr/bin/chromium``; Playwright's
own browser download is never used), ``page`` a fresh context and page per test
that saves a screenshot to the test's tmp dir when the test fails.

Tests are skipped, with the reason, when Chromium or the ``playwright`` package
is missing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CNN_COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT_S = 60
POLL_S = 0.25

# JupyterLab user settings for a quiet, deterministic UI: no news/update toasts,
# and every notebook cell attached to the DOM (no windowing/virtualisation).
LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _require_browser_stack() -> None:
    """Skip the test when headless Chromium cannot be driven here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser test needs Chromium at {CHROMIUM} (set CNN_COURSE_CHROMIUM to override)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser test needs the 'playwright' Python package (pip install playwright)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lab_has_option(option: str) -> bool:
    """Whether ``jupyter lab`` accepts ``--<option>`` (checked via the class's traits)."""
    cls_name, _, trait = option.partition(".")
    if cls_name != "LabApp":
        return False
    try:
        from jupyterlab.labapp import LabApp
    except ImportError:
        return False
    return LabApp.class_traits().get(trait) is not None


@dataclass
class LabServer:
    """A running JupyterLab server (see :func:`start_lab_server`)."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    log_path: Path
    base_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.base_url = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Browser URL for ``path`` (e.g. ``lab/tree/nb.ipynb``), token included."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10):
        """Call the REST API (``path`` like ``api/sessions``); returns decoded JSON or None."""
        request = urllib.request.Request(
            f"{self.base_url}/{path.lstrip('/')}", method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, n_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return "<no server log>"

    def session_for(self, notebook_name: str) -> dict | None:
        """The ``/api/sessions`` entry whose path ends with ``notebook_name``, if any."""
        for session in self.api("api/sessions"):
            if str(session.get("path", "")).endswith(notebook_name):
                return session
        return None

    def wait_for_kernel_ready(self, notebook_name: str, timeout: float = 60) -> dict:
        """Wait until the notebook's kernel is idle with a browser connected; returns the session."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            last = self.session_for(notebook_name)
            kernel = (last or {}).get("kernel") or {}
            if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1:
                return last
            time.sleep(POLL_S)
        raise AssertionError(f"kernel for {notebook_name} not idle+connected within {timeout} s; "
                             f"last session: {last}\n--- server log ---\n{self.log_tail()}")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {self.process.returncode}\n"
                               f"--- server log ---\n{self.log_tail()}")

    def stop(self) -> None:
        """Shut down kernels and the server; kill what is left of its process group."""
        if self.process.poll() is None:
            try:
                for kernel in self.api("api/kernels", timeout=5) or []:
                    self.api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=10)
            except (OSError, urllib.error.URLError, ValueError):
                pass
            try:
                self.api("api/shutdown", method="POST", timeout=5)
            except (OSError, urllib.error.URLError, ValueError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        # The server was started in its own session: its pgid is its pid.  Anything
        # still in that group (a kernel that outlived the server) is ours to end.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_lab_server(source_dir: Path, workdir: Path) -> LabServer:
    """Copy ``source_dir`` into ``workdir/root`` and start JupyterLab there; waits for /api/status."""
    root = workdir / "root"
    shutil.copytree(source_dir, root)
    config_dir = workdir / "jupyter-config"
    for rel, settings in LAB_USER_SETTINGS.items():
        path = config_dir / "lab" / "user-settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2))

    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(workdir / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(config_dir / "lab" / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(config_dir / "lab" / "workspaces"),
        "IPYTHONDIR": str(workdir / "ipython"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("JUPYTER_TOKEN", None)

    port = _free_port()
    token = secrets.token_hex(24)
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser", "--allow-root",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
    ]
    if _lab_has_option("LabApp.check_for_updates_class"):
        cmd.append("--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")

    log_path = workdir / "jupyter-lab.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child keeps writing after we return
    try:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()
    server = LabServer(process=process, port=port, token=token, root_dir=root, log_path=log_path)

    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            server.check_alive()
            server.api("api/status", timeout=2)
            break
        except RuntimeError:
            raise
        except (OSError, urllib.error.URLError, ValueError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"jupyter lab did not answer /api/status within "
                                   f"{SERVER_START_TIMEOUT_S} s\n--- server log ---\n{server.log_tail()}")
            time.sleep(POLL_S)
    return server


NOTEBOOK_UI_TIMEOUT_MS = 60_000


def open_notebook(page, server: LabServer, notebook: str, timeout_ms: int = NOTEBOOK_UI_TIMEOUT_MS):
    """Open ``notebook`` in JupyterLab and wait until its kernel is idle and connected.

    Returns the locator of the notebook panel.  Running cells before the kernel is
    connected is the classic source of flakiness, so do not skip the kernel wait.
    """
    from playwright.sync_api import expect

    page.goto(server.url(f"lab/tree/{notebook}"), wait_until="domcontentloaded")
    panel = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Cell")).first
    expect(panel).to_be_visible(timeout=timeout_ms)
    expect(page.locator("#jp-menu-panel")).to_be_visible(timeout=timeout_ms)
    server.wait_for_kernel_ready(notebook, timeout=timeout_ms / 1000)
    return panel


def run_all_cells(page, notebook=None, timeout_ms: int = NOTEBOOK_UI_TIMEOUT_MS) -> None:
    """Run → Run All Cells through the menu bar (acts on the active notebook).

    ``notebook`` (a panel locator) is focused first when given.  In JupyterLab 4.6 the
    menu item's command is ``runmenu:run-all`` or ``notebook:run-all-cells`` depending on
    focus, so it is found by its label.
    """
    if notebook is not None:
        notebook.locator(".jp-Cell").first.click(timeout=timeout_ms)
    page.locator("#jp-menu-panel").get_by_role("menuitem", name="Run", exact=True).click(timeout=timeout_ms)
    page.locator("#jp-mainmenu-run").locator('li[role="menuitem"]').filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))).click(
        timeout=timeout_ms)


def labelled(scope, widget_class: str, label: str):
    """The ipywidget of ``widget_class`` whose description label reads exactly ``label``."""
    label_re = re.compile(rf"^\s*{re.escape(label)}\s*$")
    return scope.locator(f".{widget_class}").filter(
        has=scope.page.locator(".widget-label", has_text=label_re))


def set_slider(scope, label: str, value) -> None:
    """Type ``value`` into the editable readout of the slider labelled ``label``, then Enter."""
    from playwright.sync_api import expect

    slider = labelled(scope, "widget-slider", label)
    expect(slider).to_have_count(1)
    readout = slider.locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.press_sequentially(str(value))
    readout.press("Enter")


def lab_fixture(assignment: str, *, folder=None, serve: str = "release",
                env: dict[str, str] | None = None):
    """A module-scoped fixture: JupyterLab serving a copy of one chapter's notebook folder.

    ``folder(tmp_path_factory) -> Path`` makes the folder to serve; without it the
    committed ``SERVE/ASSIGNMENT`` is served, ``serve`` being ``"release"`` (the student
    notebook) or ``"source"`` (solutions in place, so Run All reaches every widget).
    ``env`` is set while the server starts, so its kernels inherit it and no other test
    sees it.  The fixture is named ``chNN_lab``.
    """
    if serve not in ("release", "source"):
        raise ValueError(f"serve must be 'release' or 'source', not {serve!r}")
    @pytest.fixture(scope="module", name=f"{assignment[:4]}_lab")
    def lab(tmp_path_factory) -> LabServer:
        _require_browser_stack()
        source = folder(tmp_path_factory) if folder else REPO_ROOT / serve / assignment
        with pytest.MonkeyPatch.context() as mp:
            for key, value in (env or {}).items():
                mp.setenv(key, value)
            server = start_lab_server(source, tmp_path_factory.mktemp(f"{assignment}-lab"))
        print(f"\njupyter lab on port {server.port}, log: {server.log_path}")
        try:
            yield server
        finally:
            server.stop()

    lab.__doc__ = f"JupyterLab serving a copy of the {assignment} notebook folder."
    return lab


ch02_lab = lab_fixture("ch02_params_and_memory")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (temporary profile) driven by Playwright."""
    _require_browser_stack()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request, tmp_path):
    """A fresh browser context and page; on failure, a screenshot and the console log."""
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            shot = tmp_path / "failure.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                print(f"\nscreenshot of the failing page: {shot}")
            except (PlaywrightError, OSError) as exc:  # the page may be gone; the report matters more
                print(f"\nno screenshot ({exc})")
            print("--- browser console (last 50) ---\n" + "\n".join(console[-50:]))
        context.close()
