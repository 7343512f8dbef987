"""Where a submission's code runs when grading: a bubblewrap sandbox with resource limits.

The sandbox sees the Python installation and the nanonas packages (read-only), an empty private working folder
holding only its own copy of the notebook, and nothing else: no other submission, no gradebook, no solutions/,
no network, no other process. It runs as a dedicated unprivileged user when the grader runs as root. Limits:
memory (data segment), processes, file size, CPU time. Every process it starts dies with it (its own PID
namespace). The command line shows no path: bubblewrap reads its arguments from a pipe.

When bubblewrap is missing or does not work here, `Sandbox.find()` says so and the grader grades anyway with
the limits alone, warning loudly in its output and in the gradebook.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

WORK = "/home/learner"  # the working folder inside the sandbox
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf")
_uids = iter(range(1_000_000))
_uid_lock = threading.Lock()


@dataclass
class Limits:
    memory_mb: int = 2048  # the data segment: a bigger allocation fails with MemoryError
    processes: int = 256  # processes and threads of the sandbox's user
    file_mb: int = 64  # the largest file it may write
    cpu_s: int = 600  # CPU seconds in all
    disk_mb: int = 256  # its working folder and /tmp (in memory)

    def prlimit(self, root: bool) -> list[str]:
        args = [
            f"--data={self.memory_mb * 2**20}",
            f"--fsize={self.file_mb * 2**20}",
            f"--cpu={self.cpu_s}",
            "--core=0",
        ]
        if root:  # only enforced for a non-root user: the sandbox switches to one
            args.append(f"--nproc={self.processes}")
        return ["prlimit", *args, "--"] if shutil.which("prlimit") else []


def _python_paths() -> list[str]:
    """What the sandbox must see to run this Python with nanonas: the installation and the packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for package in ("nanonas", "nas_insights", "course"):
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            paths.add(str(Path(list(spec.submodule_search_locations)[0]).resolve()))
    paths = sorted(str(Path(p).resolve()) for p in paths if Path(p).exists())
    return [p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)]


def _environment() -> dict:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": WORK,
        "TMPDIR": "/tmp",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
        "NANONAS_GRADING": "1",  # q1.check() in a submission stays quiet: the grader checks from outside
    }


@dataclass
class Sandbox:
    kind: str  # "bubblewrap" or "none"
    reason: str = ""  # why there is none
    limits: Limits = None

    @classmethod
    def find(cls, limits: Limits | None = None) -> "Sandbox":
        """bubblewrap when it is installed and works here; otherwise none, with the reason."""
        limits = limits or Limits()
        if not shutil.which("bwrap"):
            return cls("none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap", limits)
        if not shutil.which("prlimit"):
            return cls("none", "prlimit (util-linux) is not installed", limits)
        sandbox = cls("bubblewrap", "", limits)
        try:
            argv, fds, reader = sandbox.command(["/bin/true"])
            done = subprocess.run(argv, pass_fds=fds, capture_output=True, timeout=30)
            os.close(reader)
        except (OSError, subprocess.SubprocessError) as e:
            return cls("none", f"bubblewrap does not start here ({e})", limits)
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip()[:200]
            return cls("none", f"bubblewrap does not work here ({error or done.returncode})", limits)
        return sandbox

    @property
    def isolated(self) -> bool:
        return self.kind == "bubblewrap"

    def command(self, inner: list[str], notebook_fd: int | None = None):
        """(argv, fds to pass, the pipe end to close afterwards) running `inner` in the sandbox."""
        root = os.geteuid() == 0
        limits = self.limits.prlimit(root)
        if not self.isolated:
            return [*limits, *inner], [], None
        args = ["--die-with-parent", "--new-session", "--clearenv"]
        if root:  # no user namespace: the sandbox switches to a user of its own, so that process limits apply
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        else:
            args += ["--unshare-all"]
        for name, value in _environment().items():
            args += ["--setenv", name, value]
        size = str(self.limits.disk_mb * 2**20)
        # the in-memory folders first: a checkout or virtual environment under /tmp is bound over them below
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "01777", "--size", size, "--tmpfs", "/tmp"]
        args += ["--perms", "01777", "--size", size, "--tmpfs", "/dev/shm"]
        for path in SYSTEM:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        for path in ETC:
            args += ["--ro-bind-try", path, path]
        binds = _python_paths()
        parents = sorted({str(p) for b in binds for p in Path(b).parents if str(p) != "/"}, key=len)
        for parent in parents:
            inside = [*binds, *SYSTEM, "/proc", "/dev"]
            if parent != "/tmp" and not any(parent == b or parent.startswith(b + "/") for b in inside):
                args += ["--perms", "0755", "--dir", parent]
        for path in binds:
            args += ["--ro-bind", path, path]
        args += ["--perms", "0777", "--size", size, "--tmpfs", WORK]
        fds = []
        if notebook_fd is not None:
            args += ["--perms", "0644", "--file", str(notebook_fd), f"{WORK}/submission.ipynb"]
            fds.append(notebook_fd)
        args += ["--chdir", WORK]
        command = ["--"]
        if root:
            with _uid_lock:
                uid = 200_000 + (os.getpid() * 64 + next(_uids)) % 1_000_000
            command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            command += ["--inh-caps=-all", "--bounding-set=-all", "--"]
        reader, writer = os.pipe()  # the options (with every path) travel through a pipe, not the command line
        os.write(writer, b"".join(a.encode() + b"\0" for a in args))
        os.close(writer)
        return [*limits, "bwrap", "--args", str(reader), *command, *inner], [reader, *fds], reader
