"""Where a submission's code runs when grading: a bubblewrap sandbox with resource limits.

The sandbox sees the Python installation and the nanonas packages (read-only; the data an assignment's checks grade
on, such as project 08b's NanoBench tables, as an empty folder), an empty private working folder holding only its
own copy of the notebook, and nothing else: no other submission, no gradebook, no solutions/,
no network, no other process, not the grader's environment variables (bubblewrap itself starts with a minimal
environment). It runs as a dedicated unprivileged user when the grader runs as root, in a user namespace of its own
otherwise, under a seccomp filter that refuses the system calls a submission never needs (namespaces, mounts,
io_uring, bpf, perf, keyrings, ptrace, kernel modules): `seccomp_filter()`. Every process it starts dies with it
(its own PID namespace). The command line shows no path: bubblewrap reads its arguments from a pipe.

Limits (`Limits`) hold for the submission as a whole where the machine has cgroups the grader may use
(`Controls.find()`: a cgroup v2 or v1 hierarchy it may write, or a systemd scope: `systemd-run --scope` as root,
`systemd-run --user --scope` otherwise): memory of every kind (its processes, shared memory, memfd, its in-memory
folders), processes, and one core's CPU share. Elsewhere they are per-process resource limits (an address space, a
data segment, processes), and the grader says so loudly.

When bubblewrap is missing or does not work here, `Sandbox.find()` says so and the grader grades anyway with
the limits alone, warning loudly in its output and in the gradebook.
"""

import importlib.util
import os
import platform
import shutil
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

WORK = "/home/learner"  # the working folder inside the sandbox
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf")
PATH = "/usr/local/bin:/usr/bin:/bin"
ADDRESS_SPACE_MB = 4096  # above --memory, per process, where only an address-space limit exists: torch maps ~3 GB
_uids = iter(range(1_000_000))
_uid_lock = threading.Lock()


@dataclass
class Limits:
    memory_mb: int = 2048  # all of a submission's memory (cgroups); without them, each process's data segment
    processes: int = 256  # processes and threads
    file_mb: int = 64  # the largest file it may write (a memfd too)
    cpu_s: int = 600  # CPU seconds in all
    disk_mb: int = 256  # its working folder and /tmp (in memory)
    cores: float = 1.0  # its CPU share, in cores (cgroups only)
    files: int = 512  # open files per process

    def prlimit(self, address_space: bool) -> list[str]:
        """Per-process limits (prlimit's options), set on bubblewrap and inherited by everything inside."""
        args = [
            f"--data={self.memory_mb * 2**20}",
            f"--fsize={self.file_mb * 2**20}",
            f"--cpu={self.cpu_s}",
            f"--nofile={self.files}",
            "--core=0",
        ]
        if address_space:  # no cgroup: the address space bounds what one process maps (shared memory included)
            args.append(f"--as={(self.memory_mb + ADDRESS_SPACE_MB) * 2**20}")
        return args


# ---------------------------------------------------------------------------------------------------------------
# Limits for the submission as a whole: cgroups


def _own_cgroups() -> dict:
    """{controller or "": this process's cgroup path} from /proc/self/cgroup ("" is cgroup v2's)."""
    out = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def _write(path: Path, value) -> None:
    path.write_text(f"{value}\n")


@dataclass
class Controls:
    """How the submission's limits are enforced as a whole: "cgroup2", "cgroup1", "systemd", or "none" (reason)."""

    kind: str
    reason: str = ""
    base: dict = field(default_factory=dict)  # controller -> the folder new cgroups go in (cgroup1/cgroup2)
    systemd_run: str = ""
    user: bool = True  # systemd: the user's own manager (`systemd-run --user`); as root, the system's

    @classmethod
    def find(cls) -> "Controls":
        mine, root = _own_cgroups(), Path("/sys/fs/cgroup")
        reasons = []
        if "" in mine and (root / "cgroup.controllers").exists():  # the unified hierarchy mounted at its place
            base = root / mine[""].lstrip("/")
            try:
                have = (base / "cgroup.controllers").read_text().split()
                if not {"memory", "pids", "cpu"} <= set(have):
                    raise OSError(f"controllers {' '.join(have) or 'none'} only")
                wanted = " ".join(f"+{c}" for c in ("memory", "pids", "cpu"))
                _write(base / "cgroup.subtree_control", wanted)
                probe = cls("cgroup2", base={"": base})
                probe.create(Limits()).remove()
                return probe
            except OSError as e:
                reasons.append(f"cgroup v2 at {base} cannot be used ({e.strerror or e})")
        if all(c in mine and (root / c).is_dir() for c in ("memory", "pids", "cpu")):
            base = {c: root / c / mine[c].lstrip("/") for c in ("memory", "pids", "cpu")}
            try:
                probe = cls("cgroup1", base=base)
                probe.create(Limits()).remove()
                return probe
            except OSError as e:
                reasons.append(f"cgroup v1 cannot be used ({e.strerror or e})")
        # cgroup v2 lets no cgroup that holds processes (the grader's own) enable controllers for its children:
        # where the grader cannot, systemd makes a scope with them, as root (the system's manager) or as a user
        systemd_run, user = shutil.which("systemd-run"), os.geteuid() != 0
        if systemd_run:
            probe = cls("systemd", systemd_run=systemd_run, user=user)
            try:
                done = subprocess.run(
                    [*probe.create(Limits()).prefix, "/bin/true"], capture_output=True, timeout=30, env=os.environ
                )
                if done.returncode == 0:
                    return probe
                reasons.append(f"{probe.command} fails ({done.stderr.decode(errors='replace')[:120]})")
            except (OSError, subprocess.SubprocessError) as e:
                reasons.append(f"{probe.command} fails ({e})")
        reasons = reasons or ["no cgroup v1 or v2 hierarchy this user may write, and no systemd-run"]
        return cls("none", "; ".join(reasons))

    @property
    def enforced(self) -> bool:
        return self.kind != "none"

    @property
    def command(self) -> str:
        return "systemd-run --user --scope" if self.user else "systemd-run --scope"

    def create(self, limits: Limits) -> "Group":
        """A new group with `limits`; its `prefix` starts a command inside it."""
        name = f"nanonas-{os.getpid()}-{time.monotonic_ns()}-{next(_uids)}"
        if self.kind == "systemd":
            quota = f"{round(limits.cores * 100)}%"
            prefix = [self.systemd_run, *(["--user"] if self.user else []), "--scope", "--quiet", "--collect"]
            prefix.append(f"--unit={name}")
            for setting in (
                f"MemoryMax={limits.memory_mb}M",
                "MemorySwapMax=0",
                f"TasksMax={limits.processes}",
                f"CPUQuota={quota}",
            ):
                prefix += ["-p", setting]
            return Group([], [*prefix, "--", "/usr/bin/env", "-i", f"PATH={PATH}"])
        if self.kind == "none":
            return Group([], [])
        folders = []
        try:
            if self.kind == "cgroup2":
                folder = self.base[""] / name
                folder.mkdir()
                folders.append(folder)
                _write(folder / "memory.max", limits.memory_mb * 2**20)
                if (folder / "memory.swap.max").exists():
                    _write(folder / "memory.swap.max", 0)
                _write(folder / "pids.max", limits.processes)
                _write(folder / "cpu.max", f"{round(limits.cores * 100_000)} 100000")
            else:
                for base in self.base.values():
                    folder = base / name
                    folder.mkdir()
                    folders.append(folder)
                memory, pids, cpu = folders
                _write(memory / "memory.limit_in_bytes", limits.memory_mb * 2**20)
                if (memory / "memory.memsw.limit_in_bytes").exists():  # no swap either
                    _write(memory / "memory.memsw.limit_in_bytes", limits.memory_mb * 2**20)
                _write(pids / "pids.max", limits.processes)
                _write(cpu / "cpu.cfs_period_us", 100_000)
                _write(cpu / "cpu.cfs_quota_us", round(limits.cores * 100_000))
        except OSError:
            Group(folders, []).remove()
            raise
        # a shell joins the groups, then becomes the command: nothing runs outside them
        script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; unset PWD OLDPWD; exec "$@"'
        procs = [str(f / "cgroup.procs") for f in folders]
        return Group(folders, ["/bin/sh", "-c", script, "sh", *procs, "--"])


@dataclass
class Group:
    folders: list
    prefix: list

    def remove(self) -> None:
        """Kill whatever is left in the group, and remove it."""
        for _ in range(100):
            left = False
            for folder in self.folders:
                if not folder.exists():
                    continue
                try:
                    for pid in (folder / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), 9)
                        except OSError:
                            pass
                    folder.rmdir()
                except OSError:
                    left = True
            if not left:
                return
            time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------------------
# The seccomp filter: classic BPF, written here (no library needed)

# system calls a submission never needs, refused with EPERM: namespaces and mounts, io_uring, bpf, perf, keyrings,
# tracing other processes, kernel modules, kexec, swap, reboot, chroot, open-by-handle, userfaultfd
DENIED = (
    "unshare setns mount umount2 pivot_root chroot mount_setattr open_tree move_mount fsopen fsconfig fsmount fspick "
    "io_uring_setup io_uring_enter io_uring_register bpf perf_event_open userfaultfd keyctl add_key request_key "
    "ptrace process_vm_readv process_vm_writev pidfd_getfd kexec_load kexec_file_load init_module finit_module "
    "delete_module swapon swapoff reboot acct quotactl syslog open_by_handle_at name_to_handle_at personality"
).split()
SYSCALLS = {  # the numbers of each architecture's table (arch/x86/entry/syscalls, include/uapi/asm-generic)
    "x86_64": dict(
        zip(
            DENIED + ["clone", "clone3"],
            [272, 308, 165, 166, 155, 161, 442, 428, 429, 430, 431, 432, 433, 425, 426, 427, 321, 298, 323, 250, 248]
            + [249, 101, 310, 311, 438, 246, 320, 175, 313, 176, 167, 168, 169, 163, 179, 103, 304, 303, 135, 56, 435],
        )
    ),
    "aarch64": dict(
        zip(
            DENIED + ["clone", "clone3"],
            [97, 268, 40, 39, 41, 51, 442, 428, 429, 430, 431, 432, 433, 425, 426, 427, 280, 241, 282, 219, 217, 218]
            + [117, 270, 271, 438, 104, 294, 105, 273, 106, 224, 225, 142, 89, 60, 116, 265, 264, 92, 220, 435],
        )
    ),
}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
NAMESPACES = 0x7E020080  # clone's CLONE_NEW* flags: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
ALLOW, ERRNO, KILL = 0x7FFF0000, 0x00050000, 0x80000000
EPERM, ENOSYS = 1, 38


def seccomp_filter(machine: str | None = None) -> bytes | None:
    """The filter as bubblewrap's `--seccomp FD` reads it (struct sock_filter[]), or None for an unknown machine.

    Another architecture's system calls (32-bit ones on x86-64) kill the process; a refused call fails with EPERM;
    clone3 answers ENOSYS, so that the C library falls back to clone, whose namespace flags are refused."""
    machine = machine or platform.machine()
    if machine not in SYSCALLS:
        return None
    numbers = SYSCALLS[machine]
    ld = lambda offset: (0x20, 0, 0, offset)  # BPF_LD | BPF_W | BPF_ABS: seccomp_data.nr at 0, arch at 4, args at 16
    program = [ld(4), (0x15, 1, 0, AUDIT_ARCH[machine]), (0x06, 0, 0, KILL), ld(0)]
    jumps = []  # (instruction index, where its true branch goes)
    if machine == "x86_64":
        jumps.append((len(program), "kill"))
        program.append((0x35, 0, 0, 0x40000000))  # BPF_JGE: the x32 ABI
    for name in DENIED:
        jumps.append((len(program), "eperm"))
        program.append((0x15, 0, 0, numbers[name]))  # BPF_JEQ
    jumps.append((len(program), "enosys"))
    program.append((0x15, 0, 0, numbers["clone3"]))
    program.append((0x15, 0, 2, numbers["clone"]))  # not clone: allow
    program.append(ld(16))  # clone's flags (the low 32 bits of its first argument)
    jumps.append((len(program), "eperm"))
    program.append((0x45, 0, 0, NAMESPACES))  # BPF_JSET
    ends = {"allow": len(program), "eperm": len(program) + 1, "enosys": len(program) + 2, "kill": len(program) + 3}
    program += [(0x06, 0, 0, ALLOW), (0x06, 0, 0, ERRNO | EPERM), (0x06, 0, 0, ERRNO | ENOSYS), (0x06, 0, 0, KILL)]
    for index, target in jumps:
        code, _, jf, k = program[index]
        program[index] = (code, ends[target] - index - 1, jf, k)
    return b"".join(struct.pack("<HBBI" if sys.byteorder == "little" else ">HBBI", *op) for op in program)


# ---------------------------------------------------------------------------------------------------------------
# The sandbox


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
        "PATH": PATH,
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
    controls: Controls = None  # how the limits hold for the submission as a whole

    def __post_init__(self):
        self.limits = self.limits or Limits()
        self.controls = self.controls or Controls.find()

    @classmethod
    def find(cls, limits: Limits | None = None, controls: Controls | None = None) -> "Sandbox":
        """bubblewrap when it is installed and works here; otherwise none, with the reason."""
        limits, controls = limits or Limits(), controls or Controls.find()
        if not shutil.which("bwrap"):
            return cls("none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap", limits, controls)
        if not shutil.which("prlimit"):
            return cls("none", "prlimit (util-linux) is not installed", limits, controls)
        sandbox = cls("bubblewrap", "", limits, controls)
        try:
            group, launch = sandbox.launch(["/bin/true"])
            with launch:
                done = subprocess.run(launch.argv, pass_fds=launch.fds, capture_output=True, timeout=30, env=launch.env)
            group.remove()
        except (OSError, subprocess.SubprocessError) as e:
            return cls("none", f"bubblewrap does not start here ({e})", limits, controls)
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip()[:200]
            return cls("none", f"bubblewrap does not work here ({error or done.returncode})", limits, controls)
        return sandbox

    @property
    def isolated(self) -> bool:
        return self.kind == "bubblewrap"

    @property
    def notices(self) -> list[str]:
        """What does not hold here, in words (empty when everything does)."""
        out = []
        if not self.isolated:
            out.append(REDUCED.format(reason=self.reason))
        if not self.controls.enforced:
            out.append(
                LIMITS_REDUCED.format(reason=self.controls.reason, extra=self.limits.memory_mb + ADDRESS_SPACE_MB)
            )
        return out

    def launch(self, inner: list[str], notebook_fd: int | None = None, hidden=()):
        """(the cgroup to remove afterwards, a Launch: argv, env, fds to pass) running `inner` in the sandbox.

        `hidden`: folders the sandbox would see (inside the packages) that it sees empty instead, such as the data
        a check grades on (`Question.hidden`)."""
        group = self.controls.create(self.limits)
        try:
            return group, self._launch(group, inner, notebook_fd, hidden)
        except BaseException:
            group.remove()
            raise

    def _launch(self, group, inner, notebook_fd, hidden=()):
        root = os.geteuid() == 0
        tool = shutil.which("prlimit")  # always there with a sandbox (find() requires it); without one, maybe not
        prlimit = [tool, *self.limits.prlimit(not self.controls.enforced), "--"] if tool else []
        nproc = [tool, f"--nproc={self.limits.processes}", "--"] if tool else []
        env = {"PATH": PATH, "LANG": "C.UTF-8"}  # bubblewrap (PID 1 inside) sees no more of the grader's
        if not self.isolated:
            env = {**os.environ, "OMP_NUM_THREADS": "1", "NANONAS_GRADING": "1"}
            return Launch([*group.prefix, *prlimit, *(nproc if not root else []), *inner], env, [], [])
        args = ["--die-with-parent", "--new-session", "--clearenv"]
        if root:  # no user namespace: the sandbox switches to a user of its own, so that process limits apply
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        else:  # a user namespace of its own, in which it may not create another one
            args += ["--unshare-all", "--unshare-user", "--disable-userns"]
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
        for path in sorted({str(Path(h).resolve()) for h in hidden}):
            if Path(path).is_dir():  # an empty read-only folder in its place (in memory, 4 kB at most)
                args += ["--perms", "0555", "--size", "4096", "--tmpfs", path, "--remount-ro", path]
            elif Path(path).exists():  # a file: empty
                args += ["--ro-bind", "/dev/null", path]
        args += ["--perms", "0777", "--size", size, "--tmpfs", WORK]
        fds, close = [], []
        if notebook_fd is not None:
            args += ["--perms", "0644", "--file", str(notebook_fd), f"{WORK}/submission.ipynb"]
            fds.append(notebook_fd)
        args += ["--chdir", WORK]
        program = seccomp_filter()
        if program is not None:
            seccomp = os.memfd_create("seccomp")
            os.write(seccomp, program)
            os.lseek(seccomp, 0, os.SEEK_SET)
            args += ["--seccomp", str(seccomp)]
            fds.append(seccomp)
            close.append(seccomp)
        command = ["--"]
        if root:
            with _uid_lock:
                uid = 200_000 + (os.getpid() * 64 + next(_uids)) % 1_000_000
            command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            command += ["--inh-caps=-all", "--bounding-set=-all", "--"]
        # processes are counted per user inside (set after the user namespace exists, so it counts only the
        # sandbox's own processes, not the teacher's)
        command += nproc
        reader, writer = os.pipe()  # the options (with every path) travel through a pipe, not the command line
        os.write(writer, b"".join(a.encode() + b"\0" for a in args))
        os.close(writer)
        close.append(reader)
        argv = [*group.prefix, *prlimit, shutil.which("bwrap") or "bwrap", "--args", str(reader), *command, *inner]
        return Launch(argv, env, [reader, *fds], close)


@dataclass
class Launch:
    """What starts a sandboxed command: its argv, environment, the descriptors it inherits (closed on exit)."""

    argv: list
    env: dict
    fds: list
    close: list

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for fd in self.close:
            try:
                os.close(fd)
            except OSError:
                pass


REDUCED = (
    "WARNING: isolation reduced: {reason}. Submissions ran without a sandbox, with resource limits only: a "
    "hostile one could read or change files the grader can. Checks and points still ran in the grader."
)
LIMITS_REDUCED = (
    "WARNING: limits reduced: {reason}. Memory and processes were limited per process only (an address space of "
    "{extra} MB and a data segment each; processes by count): a hostile submission could hold more memory through "
    "several processes, and nothing limited its CPU share beside the others."
)
