"""JupyterLab in headless Chromium, for the browser tests and the README screenshots.

`jupyter_lab(folder)` serves `folder` on loopback with a token and always shuts the server (and its kernels) down;
`chromium(profile)` opens Debian's Chromium through Playwright; `open_and_run(page, lab, name)` opens a notebook
and runs all its cells. Nothing is downloaded: Playwright drives /usr/bin/chromium, never its own browsers.
"""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"  # ignored by git: screenshots and server logs of the last run
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
KERNEL = "nanonas-test"  # a kernelspec of this very Python, so the notebook imports the nanonas under test
RUNNING = (  # some cell shows [*] or [1]: the notebook runs
    "() => [...document.querySelectorAll('.jp-InputArea-prompt')].some(p => /\\[(\\*|\\d+)\\]/.test(p.innerText))"
)


def missing() -> str | None:
    """Why the browser tests cannot run on this machine, or None if they can."""
    if not CHROMIUM.exists():
        return f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "needs the playwright Python package (pip install playwright; no browser download needed)"
    return None


def write_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "nanoNAS test", "language": "python"}
    nbformat.write(nb, path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
            return json.loads(body) if body else None


@contextmanager
def jupyter_lab(folder: Path, log: Path, timeout: float = 120):
    """Serve `folder` with JupyterLab on 127.0.0.1 (a free port, a random token); shut it down whatever happens."""
    home = folder.parent / f"{folder.name}-jupyter"  # settings, workspaces, runtime files and our kernelspec
    kernel = home / "data" / "kernels" / KERNEL
    kernel.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernel / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "nanoNAS test", "language": "python"})
    )
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)  # no "Would you like to get notified about Jupyter news?" popup
    disabled = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (labconfig / "page_config.json").write_text(json.dumps(disabled))
    port, token = free_port(), os.urandom(16).hex()
    env = {
        **os.environ,
        "JUPYTER_PATH": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # containers and CI often run as root; the server refuses without this
        command.append("--allow-root")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        lab = Lab(f"http://127.0.0.1:{port}", token)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    lab.api("status")
                    break
                except OSError as e:
                    if time.monotonic() > deadline:
                        tail = log.read_text()[-3000:]
                        raise TimeoutError(f"jupyter lab did not answer in {timeout} s:\n{tail}") from e
                    time.sleep(0.5)
            yield lab
        finally:
            shut_down(server, lab)


def shut_down(server: subprocess.Popen, lab: Lab | None):
    """Ask the server to stop its kernels and itself; if it will not (or cannot be asked), end its process group."""
    if server.poll() is None and lab is not None:
        try:
            lab.api("shutdown", method="POST")  # stops every kernel, then the server
            server.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if server.poll() is not None:
            break
        try:
            os.killpg(server.pid, sig)
            server.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


@contextmanager
def chromium(profile: Path, width: int = 1500, height: int = 1100):
    """A page in headless Chromium (Debian's, driven by Playwright) with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def open_and_run(page, lab: Lab, notebook: str, timeout_ms: int = 120_000):
    """Open a notebook in JupyterLab and run all its cells from the Run menu."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(lab.page_url(notebook), timeout=timeout_ms)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_ms)
    page.wait_for_function(  # the kernel is up: the status bar says so
        "() => /nanoNAS test \\| Idle/.test(document.body.innerText)", timeout=timeout_ms
    )
    for _ in range(3):  # a click that lands while the session is still connecting runs nothing: try again
        page.click("#jp-MainMenu .lm-MenuBar-item:has-text('Run')")
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(RUNNING, timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise TimeoutError("JupyterLab did not run the notebook's cells")


def page_errors(page) -> list[str]:
    """What on the page says something went wrong: widget errors and Python tracebacks."""
    text = page.inner_text("body")
    found = [s for s in ("Error displaying widget", "Traceback (most recent call last)") if s in text]
    stderr = [e.inner_text() for e in page.query_selector_all(STDERR)]  # warnings are fine, errors are not
    found += [f"stderr output: {t[:500]}" for t in stderr if "Error" in t or "Traceback" in t]
    found += [f"widget error: {e.inner_text()[:500]}" for e in page.query_selector_all(".nanonas-error details")]
    return found
