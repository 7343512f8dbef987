"""The README's first command, `make lab`, run as a user runs it: it serves the course and opens the first lesson.

Each test runs the Makefile's target itself where no browser can be opened, reads the address it prints, opens
that address in headless Chromium (the lesson loads, its kernel starts, the file browser lists it), then stops the
server and checks that nothing it started is left. Whoever runs the tests runs the first one (root in CI); the
second runs `make lab` as a throwaway ordinary user, which only root can create. Starting JupyterLab, loading its
page and starting a kernel are most of each test's time (`make test` installs first; run alone after pyproject.toml
changed, the first test's `make lab` installs into .venv, as it would for a user).
"""

import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from tests.browser.lab import ARTIFACTS, ROOT, Lab, chromium, free_port, missing, shut_down

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing() is not None, reason=str(missing())),
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make, the README's command"),
]

LESSON = "notebooks/00_welcome.ipynb"
# what JupyterLab prints for a user to copy when it cannot open a browser: the lesson's address with the token
ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d+)/lab/tree/" + re.escape(LESSON) + r"\?token=([0-9a-f]+)")
KERNEL_IDLE = "() => /Python 3 \\(ipykernel\\) \\| Idle/.test(document.body.innerText)"
# what would make the command differ from a user's at a terminal: make's own settings inherited from `make test`,
# the variables the Makefile reads, and Jupyter's and the desktop's settings (each test gives a fresh home instead)
NOT_A_USERS = ("MAKE", "MFLAGS", "VENV", "PYTHON", "LAB_ARGS", "JUPYTER", "IPYTHON", "XDG_", "DISPLAY", "WAYLAND")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as page:
        yield page


def environment(home: Path) -> dict[str, str]:
    """A terminal's environment on a machine without a display: a fresh home, and a browser that cannot start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_A_USERS)}
    return {**env, "HOME": str(home), "BROWSER": str(home / "no-browser-here")}


def started_by(home: Path) -> list[str]:
    """Processes whose command line names `home`: the kernels JupyterLab started (their connection files are in it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # not a process, or it ended while we looked
            continue
        if proc.name.isdigit() and str(home) in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has this number
        return True


def serve_and_open(page, command: list[str], home: Path, log: Path) -> tuple[str, str]:
    """Run `command` (`make lab ...`) in the repository and open the address it prints; return the command line that
    make echoed for JupyterLab, and the server's address."""
    log.parent.mkdir(parents=True, exist_ok=True)
    server, lab = None, None
    try:
        with log.open("w") as out:
            server = subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment(home),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the test stops make, JupyterLab and all they start
            )
        deadline = time.monotonic() + 120
        while not (found := ADDRESS.search(log.read_text())):
            if server.poll() is not None:
                pytest.fail(f"`{' '.join(command)}` exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"`{' '.join(command)}` printed no address to open in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        lab = Lab(f"http://127.0.0.1:{found.group(1)}", found.group(2))
        assert {"notebooks", "exercises", "solutions"} <= {item["name"] for item in lab.api("contents")["content"]}

        page.goto(found.group(0), timeout=120_000)  # the address exactly as printed, as a user pastes it
        title = nbformat.read(ROOT / LESSON, as_version=4).cells[0].source.splitlines()[0].lstrip("# ")
        page.wait_for_function(  # the lesson itself, rendered
            "title => [...document.querySelectorAll('.jp-Notebook h1')].some(h => h.innerText.includes(title))",
            arg=title,
            timeout=120_000,
        )
        assert page.inner_text("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current").strip() == Path(LESSON).name
        listed = [e.inner_text() for e in page.query_selector_all(".jp-FileBrowser .jp-DirListing-itemText")]
        assert Path(LESSON).name in listed
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)  # the lesson can run: its kernel started

        lab.api("shutdown", method="POST")  # what File > Shut Down does: kernels first, then the server
        assert server.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert not group_alive(server.pid), "something make lab started outlived it"
        assert started_by(home) == [], "a kernel outlived its server"
    except Exception:
        page.screenshot(path=str(log.with_suffix(".png")), full_page=True)
        raise
    finally:  # whatever happened above, nothing of it keeps running
        if server is not None:
            shut_down(server, lab)
        for leftover in started_by(home):
            os.kill(int(leftover.split(":")[0]), signal.SIGKILL)
    return next(line for line in log.read_text().splitlines() if "/bin/jupyter lab" in line), lab.url


def test_make_lab_serves_the_course(page, tmp_path):
    jupyter_lab, _ = serve_and_open(page, ["make", "lab"], tmp_path / "home", ARTIFACTS / "make-lab.log")
    assert ("--allow-root" in jupyter_lab.split()) == (os.geteuid() == 0)


def readable_by_others(path: Path) -> bool:
    """Whether any user may read `path`: every folder above it is open to all, and so is the file."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in path.parents) and bool(path.stat().st_mode & stat.S_IROTH)


def as_user(user: pwd.struct_passwd, command: list[str]) -> list[str]:
    """`command` run as `user`, without root's groups. If the virtual environment's Python lies in a folder other
    users cannot enter (pyenv's under /root, as on CI's image), bubblewrap opens that one folder for this command
    alone: an empty folder covers it and the subfolder on the way to Python is mounted back (a private mount
    namespace; nothing changes outside it)."""
    python = Path(os.path.realpath(ROOT / ".venv" / "bin" / "python"))
    closed = [p for p in reversed(python.parents) if not p.stat().st_mode & stat.S_IXOTH]
    command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *command]
    if not closed:
        return command
    if len(closed) > 1 or shutil.which("bwrap") is None:
        pytest.skip(f"{python} lies in {len(closed)} folder(s) other users cannot enter; needs bubblewrap for one")
    kept = closed[0] / python.relative_to(closed[0]).parts[0]
    return ["bwrap", "--dev-bind", "/", "/", "--tmpfs", str(closed[0]), "--ro-bind", str(kept), str(kept), *command]


@pytest.mark.skipif(os.geteuid() != 0, reason="creating an ordinary user needs root (the test above ran as one)")
@pytest.mark.skipif(shutil.which("useradd") is None, reason="needs useradd to create an ordinary user")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux) to run a command as that user")
def test_make_lab_as_an_ordinary_user(page):
    for needed in (ROOT / "Makefile", ROOT / LESSON, ROOT / ".venv" / "bin" / "jupyter"):
        if not readable_by_others(needed):
            pytest.skip(f"{needed} is not readable by other users, so an ordinary user cannot run this checkout")
    if subprocess.run(["make", "--question", ".venv/.nanonas-installed"], cwd=ROOT).returncode != 0:
        pytest.skip("the virtual environment is out of date: run `make` first (an ordinary user cannot update root's)")
    name = f"nanonas-lab-{os.getpid()}"
    home = Path(tempfile.mkdtemp(prefix=f"{name}-home-"))
    subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--user-group", name], check=True)
    try:
        user = pwd.getpwnam(name)
        assert user.pw_uid != 0
        os.chown(home, user.pw_uid, user.pw_gid)
        port = free_port()
        command = as_user(user, ["make", "lab", f"LAB_ARGS=--port={port} --ServerApp.port_retries=0"])
        jupyter_lab, url = serve_and_open(page, command, home, ARTIFACTS / "make-lab-user.log")
        assert "--allow-root" not in jupyter_lab.split()
        assert url == f"http://127.0.0.1:{port}"  # LAB_ARGS reached JupyterLab
    finally:
        subprocess.run(["userdel", name], check=True)  # fails loudly if a process of the user is left
        shutil.rmtree(home, ignore_errors=True)
