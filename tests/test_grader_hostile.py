"""The grader against the attacks of issue 24, class by class, several variants each (tests/test_grader_redteam.py
holds issue 12's): what a submission sends cannot crash, hang or slow the grader (1); limits hold for the submission
as a whole (2); checks the sandbox cannot feed (3); hostile paths and names (4); one line for many warnings (5).

Most run in this process against the grader's own functions, or run a few lines of Python in the sandbox
(`Sandbox.launch`), which takes a fraction of a second; the few that need the runner share one sandboxed process.
`test_everything_holds_as_an_ordinary_user` runs this whole module again under an unprivileged uid when the suite
runs as root (6): the sandbox is then built on a user namespace, and the limits on rlimits unless a cgroup is
delegated, which the tests below read from `Sandbox.notices` and `Controls` and check accordingly.
"""

import csv
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from course import grading, lesson01, lesson03, lesson04, lesson08b, lesson08c, remote
from course.question import CORRECT, INCORRECT, Call, LocalAnswer, Question, Wrong, expect
from course.sandbox import DENIED, PATH, SYSCALLS, Controls, Limits, Sandbox, seccomp_filter
from nanonas import bench, cli

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = Sandbox.find(Limits(memory_mb=300, processes=64, disk_mb=128))
GRADING = Sandbox(SANDBOX.kind, SANDBOX.reason, Limits(), SANDBOX.controls)  # grading's limits: torch needs 300+ MB
needs_sandbox = pytest.mark.skipif(not SANDBOX.isolated, reason=f"no sandbox here: {SANDBOX.reason}")
ROOT_USER = os.geteuid() == 0


def in_sandbox(code: str, sandbox: Sandbox = SANDBOX, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Python `code` in the sandbox (no runner: a bare interpreter) and return what it printed."""
    group, launch = sandbox.launch([sys.executable, "-c", code])
    try:
        with launch:
            return subprocess.run(
                launch.argv,
                pass_fds=launch.fds,
                env=launch.env,
                cwd="/",
                capture_output=True,
                text=True,
                timeout=timeout,
            )
    finally:
        group.remove()


# ---------------------------------------------------------------------------------------------------------------
# 1. Nothing a submission sends crashes, hangs or slows the grader


HOSTILE_NAMES = [
    "\ud800.ipynb",  # a lone surrogate, as an exception's message can hold
    os.fsdecode(b"caf\xe9.ipynb"),  # a file name that is not UTF-8
    "\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07.ipynb",  # terminal title, clipboard (OSC 52)
    "a\nme.ipynb,10,10,10,10,40,8\nb.ipynb",  # a fake gradebook row
    '=HYPERLINK("http://x","y").ipynb',
    "+1.ipynb",
    "@SUM(A1).ipynb",
    "\tx.ipynb",
    "\u202eknbypi.exe",  # right-to-left override
]


def _book(names, feedback="fine"):
    tasks = [{"task": "q1", "name": "f", "title": "t", "max_points": 1}]
    submissions = [
        {
            "submission": n,  # as a book from elsewhere might hold it: the writer escapes
            "points": 0,
            "max_points": 1,
            "tasks": [grading._verdict(_question(None), "incorrect", feedback)],
            "notes": [feedback],
        }
        for n in names
    ]
    return {"assignment": "x", "tasks": tasks, "max_points": 1, "submissions": submissions}


def test_the_gradebook_is_written_whatever_the_strings(tmp_path):
    feedback = "raised ValueError: \ud800 \x1b[31mred\x1b[0m <script>alert(1)</script>"
    csv_path, json_path = grading.write_gradebook(_book(HOSTILE_NAMES, grading._short(feedback)), tmp_path / "g.csv")
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert len(rows) == len(HOSTILE_NAMES) + 1, "one row per submission: no name adds a row"
    for row in rows[1:]:
        assert not row[0].startswith(grading.FORMULA), row[0]
        assert not grading.UNSAFE.search(row[0]), row[0]
    book = json.loads(json_path.read_text(encoding="ascii"))
    assert len(book["submissions"]) == len(HOSTILE_NAMES)
    stored = book["submissions"][0]["tasks"][0]["feedback"]
    assert "\\ud800" in stored and "\\x1b[31m" in stored and "\x1b" not in stored


@pytest.mark.parametrize(
    "text, shown",
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("a\nb\r", "a\\nb\\r"),
        ("\ud800", "\\ud800"),
        (os.fsdecode(b"\xff"), "\\xff"),
        ("\u202e", "\\u202e"),
        ("\x9b31m", "\\x9b31m"),
        ("plain é ü 名", "plain é ü 名"),
    ],
)
def test_unsafe_characters_are_escaped(text, shown):
    assert grading.clean(text) == shown
    grading.clean(text).encode("utf-8")  # always encodable


@pytest.mark.parametrize("cell_text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_spreadsheet_formulas_are_neutralised(cell_text):
    shown = grading.cell(cell_text)
    assert shown.startswith(("'", "\\")) and "\t" not in shown and "\r" not in shown, shown


def _silent_kernel(command: list[str]) -> grading.Kernel:
    """A Kernel object around a process that never reads its input (as a stopped or hostile runner)."""
    kernel = grading.Kernel.__new__(grading.Kernel)
    kernel.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    kernel.group, kernel.lookups, kernel.buffer, kernel.ids = None, [], b"", 0
    kernel.stdin, kernel.stdout = kernel.process.stdin.fileno(), kernel.process.stdout.fileno()
    os.set_blocking(kernel.stdin, False)
    import selectors

    kernel.reading, kernel.writing = selectors.DefaultSelector(), selectors.DefaultSelector()
    kernel.reading.register(kernel.stdout, selectors.EVENT_READ)
    kernel.writing.register(kernel.stdin, selectors.EVENT_WRITE)
    return kernel


@pytest.mark.parametrize(
    "command, size",
    [
        (["sleep", "60"], 200_000),  # never reads: the 200 kB cell of the issue
        (["sleep", "60"], 5_000_000),
        (["sh", "-c", "head -c 1000 >/dev/null; sleep 60"], 1_000_000),  # reads a little, then stops
    ],
)
def test_a_write_the_sandbox_does_not_read_ends_at_its_deadline(command, size):
    kernel = _silent_kernel(command)
    started = time.monotonic()
    try:
        with pytest.raises(grading.Stopped, match="stopped reading"):
            kernel.request({"op": "run", "source": "#" * size}, time.monotonic() + 1)
    finally:
        kernel.close()
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    "data",
    [
        b"{" + b",".join(b'"k%d": 1' % i for i in range(100_000)) + b"}",  # an object of many keys
        b"[1, 2]",  # not an object
        b"[" * 100_000 + b"]" * 100_000,  # nested past the parser's depth
        b"\xff\xfe not json",
        b'{"id": 1, "n": ' + b"9" * 5000 + b"}",  # an integer too long to convert
    ],
)
def test_a_message_no_runner_sends_stops_the_process(data):
    with pytest.raises(grading.Stopped, match="not one it reads"):
        grading.parse(data)


def _colliding(n):
    """A reply's dict of `n` int keys that all hash alike (hash(k * (2**61 - 1)) == 0)."""
    return {remote.TAG: "dict", "v": [[k * (2**61 - 1), 0] for k in range(n)]}


@pytest.mark.parametrize(
    "data",
    [
        _colliding(remote.DICT_ITEMS + 1),  # more entries than a dict may have
        _colliding(90_000),  # fewer, but slow: the deadline stops it
        {remote.TAG: "tuple", "v": [list(range(1000))] * 3000},  # 3 million values
        {remote.TAG: "dict", "v": [[{remote.TAG: "tuple", "v": [k * (2**61 - 1)]}, 0] for k in range(90_000)]},
    ],
)
def test_decoding_a_reply_has_caps_and_a_deadline(data):
    started = time.monotonic()
    with pytest.raises(remote.BadData):  # (the data is plain JSON already: as the grader's parser returns it)
        remote.decode(data, allowance=remote.Allowance(deadline=time.monotonic() + 0.5))
    assert time.monotonic() - started < 5


def test_a_reply_is_read_whole_after_the_checks_first_deadline():
    """A check whose deadline moved (each counted evaluation extends it) still reads its final reply."""

    class Late(Call):
        name, deadline = "f", time.monotonic() - 60  # the first deadline, long past

        def send(self, request, lookups=None):
            return {"value": {remote.TAG: "tuple", "v": [1, 2]}, "after": []}

    assert Late()(1) == (1, 2)


def test_any_failure_is_that_submissions_zero_and_every_submission_is_graded(tmp_path, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    names = [f"s{i}.ipynb" for i in range(6)]
    for name in names:
        (folder / name).write_text("{}")
    failures = {
        "s1.ipynb": UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        "s2.ipynb": RuntimeError("boom"),
        "s3.ipynb": grading.Stopped("gone", alive=False),  # not an Exception: still this submission's
        "s4.ipynb": RecursionError(),
    }

    def fake(assignment, path, *args, **kwargs):
        if Path(path).name in failures:
            raise failures[Path(path).name]
        return {"submission": str(path), "points": 1, "max_points": 8, "tasks": [], "notes": [], "seconds": 0}

    monkeypatch.setattr(grading, "grade_submission", fake)
    book = grading.grade("05", [folder / n for n in names], jobs=2, out=tmp_path / "g.csv")
    by_name = {Path(s["submission"]).name: s for s in book["submissions"]}
    assert set(by_name) == set(names)
    for name in failures:
        assert by_name[name]["points"] == 0 and "grading this submission failed" in by_name[name]["notes"][0]
    assert by_name["s0.ipynb"]["points"] == by_name["s5.ipynb"]["points"] == 1
    assert len((tmp_path / "g.csv").read_text().splitlines()) == len(names) + 1


# ---------------------------------------------------------------------------------------------------------------
# 2. Real limits, bubblewrap's environment, the seccomp filter


def _run_filter(program: bytes, nr: int, arch: int, arg0: int = 0) -> int:
    """What the classic BPF `program` returns for a system call (a tiny interpreter: the test's own oracle)."""
    ops = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    data = struct.pack("<iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    pc, a = 0, 0
    while True:
        code, jt, jf, k = ops[pc]
        if code == 0x20:
            a = struct.unpack_from("<I", data, k)[0]
        elif code == 0x06:
            return k
        elif code in (0x15, 0x35, 0x45):
            hit = {0x15: a == k, 0x35: a >= k, 0x45: bool(a & k)}[code]
            pc += jt if hit else jf
        else:
            raise AssertionError(f"unknown instruction {code:#x}")
        pc += 1


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_seccomp_filter_refuses_exactly_what_it_lists(machine):
    program, numbers = seccomp_filter(machine), SYSCALLS[machine]
    arch = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}[machine]
    assert len(numbers) == len(DENIED) + 2, "one number per name"
    for name in DENIED:
        assert _run_filter(program, numbers[name], arch) == 0x00050001, name  # EPERM
    assert _run_filter(program, numbers["clone3"], arch) == 0x00050026  # ENOSYS: the C library falls back to clone
    assert _run_filter(program, numbers["clone"], arch, 0x10000000) == 0x00050001  # CLONE_NEWUSER
    assert _run_filter(program, numbers["clone"], arch, 0x40000000) == 0x00050001  # CLONE_NEWNET
    assert _run_filter(program, numbers["clone"], arch, 0x01200011) == 0x7FFF0000  # fork()'s flags
    refused = set(numbers.values())
    for nr in range(0, 460):
        if nr not in refused:
            assert _run_filter(program, nr, arch) == 0x7FFF0000, nr
    assert _run_filter(program, 0, 0x40000003) == 0x80000000  # another architecture (i386): killed
    if machine == "x86_64":
        assert _run_filter(program, 0x40000000 + 1, arch) == 0x80000000  # x32


SYSCALL_PROBE = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def call(*args):
    r = libc.syscall(*args)
    return 'ok' if r >= 0 else errno.errorcode.get(ctypes.get_errno(), '?')
n = {numbers}
print(call(n['unshare'], 0x10000000), call(n['unshare'], 0x20000), call(n['mount'], b'none', b'/tmp', b'tmpfs', 0, 0),
      call(n['io_uring_setup'], 4, ctypes.create_string_buffer(120)), call(n['bpf'], 0, 0, 0),
      call(n['perf_event_open'], 0, 0, -1, -1, 0), call(n['keyctl'], 0, 0), call(n['ptrace'], 0, 0, 0, 0),
      call(n['setns'], 0, 0), call(n['clone3'], 0, 0), call(n['clone'], 0x10000000 | 17, 0, 0, 0, 0),
      call(n['pivot_root'], b'/', b'/'), call(n['process_vm_readv'], 1, 0, 0, 0, 0, 0))
"""


@needs_sandbox
def test_the_sandbox_refuses_namespaces_mounts_io_uring_and_tracing():
    import platform

    numbers = SYSCALLS.get(platform.machine())
    if numbers is None:
        pytest.skip(f"no seccomp table for {platform.machine()}")
    done = in_sandbox(SYSCALL_PROBE.format(numbers=numbers))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EPERM"] * 9 + ["ENOSYS"] + ["EPERM"] * 3, done.stdout
    userns = in_sandbox("import subprocess; print(subprocess.run(['unshare', '-U', 'true']).returncode)")
    assert userns.stdout.strip() not in ("", "0"), userns


@needs_sandbox
def test_nothing_of_the_graders_environment_reaches_the_sandbox(monkeypatch):
    monkeypatch.setenv("NANONAS_TEACHER_SECRET", "hunter2")
    code = (
        "import glob\n"
        "seen = b''\n"
        "for path in glob.glob('/proc/*/environ'):\n"
        "    try:\n"
        "        seen += open(path, 'rb').read()\n"
        "    except OSError:\n"
        "        pass\n"
        "print(b'hunter2' in seen, sorted(set(v.split(b'=')[0].decode() for v in seen.split(b'\\0') if v)))\n"
    )
    done = in_sandbox(code)
    found, names = done.stdout.split(" ", 1)
    assert found == "False", done
    own = "PATH HOME TMPDIR IPYTHONDIR MPLCONFIGDIR MPLBACKEND OMP_NUM_THREADS MKL_NUM_THREADS LANG NANONAS_GRADING"
    assert set(json.loads(names.replace("'", '"'))) <= {
        *own.split(),
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PWD",
    }


MEMORY_HOGS = {  # each holds about 600 MB in a way a per-process data limit does not see, under a 300 MB limit
    "children": (
        "import os, time\n"
        "for _ in range(4):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(b'x') * (150 * 2**20); time.sleep(3); os._exit(0)\n"
        "assert all(os.wait()[1] == 0 for _ in range(4))\n"
    ),
    "memfd": (
        "import os\n"
        "fds = [os.memfd_create('m') for _ in range(12)]\n"
        "for fd in fds:\n"
        "    for _ in range(50):\n"
        "        os.write(fd, b'x' * 2**20)\n"
    ),
    "shared mapping": (
        "import mmap\nm = mmap.mmap(-1, 600 * 2**20)\nfor i in range(0, 600 * 2**20, 4096):\n    m[i] = 1\n"
    ),
    "tmpfs": (
        "import os\n"
        "for folder in ('/tmp', '/dev/shm', '/home/learner'):\n"
        "    with open(folder + '/fill', 'wb') as f:\n"
        "        for _ in range(120):\n"
        "            f.write(b'x' * 2**20)\n"
    ),
}


@needs_sandbox
@pytest.mark.parametrize("hog", MEMORY_HOGS)
def test_memory_is_limited_as_a_whole(hog):
    code = MEMORY_HOGS[hog] + "\nprint('held it all')"
    done = in_sandbox(code)
    if SANDBOX.controls.enforced:
        assert "held it all" not in done.stdout, (hog, done)
    else:  # per-process limits only: said loudly
        assert any("limits reduced" in n for n in SANDBOX.notices)
        if hog == "tmpfs":
            assert "held it all" not in done.stdout  # the in-memory folders have a size either way


@needs_sandbox
@pytest.mark.parametrize("how", ["fork", "threads"])
def test_processes_are_limited_as_a_whole(how):
    start = {
        "fork": "pid = os.fork()\n        if pid == 0:\n            time.sleep(5); os._exit(0)",
        "threads": "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()",
    }[how]
    code = (
        "import os, threading, time\n"
        "n = 0\n"
        "for _ in range(400):\n"
        "    try:\n"
        f"        {start}\n"
        "        n += 1\n"
        "    except (OSError, RuntimeError):\n"
        "        break\n"
        "print(n)\n"
        "os._exit(0)\n"
    )
    done = in_sandbox(code)
    assert done.stdout.strip() and int(done.stdout) < SANDBOX.limits.processes, done


@needs_sandbox
def test_cpu_share_is_one_core_where_cgroups_hold():
    if not SANDBOX.controls.enforced:
        assert any("nothing limited its CPU share" in n for n in SANDBOX.notices)
        return
    group = SANDBOX.controls.create(SANDBOX.limits)
    try:
        if SANDBOX.controls.kind == "cgroup1":
            assert (group.folders[2] / "cpu.cfs_quota_us").read_text().strip() == "100000"
            assert (group.folders[1] / "pids.max").read_text().strip() == str(SANDBOX.limits.processes)
            assert int((group.folders[0] / "memory.limit_in_bytes").read_text()) == 300 * 2**20
        elif SANDBOX.controls.kind == "cgroup2":
            assert (group.folders[0] / "cpu.max").read_text().split() == ["100000", "100000"]
    finally:
        group.remove()
    code = (
        "import os, time, resource\n"
        "end = time.monotonic() + 2\n"
        "for _ in range(4):\n"
        "    if os.fork() == 0:\n"
        "        while time.monotonic() < end: pass\n"
        "        os._exit(0)\n"
        "for _ in range(4): os.wait()\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime)\n"
    )
    done = in_sandbox(code)
    assert float(done.stdout) < 2 * 1.3, "4 busy processes got at most one core in all"


def test_where_no_cgroup_can_be_used_the_grader_says_so():
    none = Controls("none", "no cgroup here")
    sandbox = Sandbox("none", "no bwrap", Limits(), none)
    assert any("limits reduced: no cgroup here" in n for n in sandbox.notices)
    assert "--as=" in " ".join(Limits().prlimit(address_space=True))


# The cgroup v2 and `systemd-run --user --scope` paths are what most teachers' machines take; the test machine has
# cgroup v1 and runs as root, so these check how each path builds its limits and its command, without one.


def test_a_cgroup_v2_group_gets_every_limit_and_nothing_runs_outside_it(tmp_path):
    limits = Limits(memory_mb=300, processes=64, cores=0.5)
    group = Controls("cgroup2", base={"": tmp_path}).create(limits)  # a plain folder stands for the hierarchy
    (folder,) = group.folders
    assert folder.parent == tmp_path and folder.name.startswith("nanonas-")
    written = {f.name: f.read_text().strip() for f in folder.iterdir()}
    assert written == {"memory.max": str(300 * 2**20), "pids.max": "64", "cpu.max": "50000 100000"}
    assert group.prefix[:2] == ["/bin/sh", "-c"] and group.prefix[3:] == ["sh", str(folder / "cgroup.procs"), "--"]
    # the shell joins the group, then becomes the command: the command's own PID is the one written
    done = subprocess.run([*group.prefix, "/bin/sh", "-c", "echo $$"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == (folder / "cgroup.procs").read_text().strip()
    # a group it cannot join: the command does not run (exit 97), rather than run without limits
    (folder / "cgroup.procs").unlink()
    (folder / "cgroup.procs").mkdir()
    done = subprocess.run([*group.prefix, "/bin/echo", "ran"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 97 and "ran" not in done.stdout


def _fake_systemd_run(folder: Path, status: int = 0) -> Path:
    """A `systemd-run` that records its arguments, then runs the command after `--` (or fails with `status`)."""
    fake = folder / "systemd-run"
    record = folder / "argv"
    fake.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > {record}\n"
        + (f"echo 'Failed to connect to bus' >&2\nexit {status}\n" if status else "")
        + 'while [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n'
    )
    fake.chmod(0o755)
    return fake


def test_a_systemd_scope_gets_every_limit_and_a_clear_environment(tmp_path):
    fake = _fake_systemd_run(tmp_path)
    group = Controls("systemd", systemd_run=str(fake)).create(Limits(memory_mb=300, processes=64, cores=1.0))
    done = subprocess.run(
        [*group.prefix, "/usr/bin/env"], capture_output=True, text=True, timeout=30, env={**os.environ, "SECRET": "x"}
    )
    assert done.returncode == 0 and done.stdout.split() == [f"PATH={PATH}"], "nothing of the grader's environment"
    argv = (tmp_path / "argv").read_text().splitlines()
    options, command = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    assert options[:4] == ["--user", "--scope", "--quiet", "--collect"] and options[4].startswith("--unit=nanonas-")
    settings = dict(p.split("=", 1) for flag, p in zip(options[5::2], options[6::2]) if flag == "-p")
    assert len(options) == 5 + 2 * len(settings)
    assert settings == {"MemoryMax": "300M", "MemorySwapMax": "0", "TasksMax": "64", "CPUQuota": "100%"}
    assert command == ["/usr/bin/env", "-i", f"PATH={PATH}", "/usr/bin/env"]
    assert group.folders == [], "systemd removes the scope itself (--collect)"


@pytest.mark.parametrize("uid", [54_321, 0])
@pytest.mark.parametrize("works", [True, False])
def test_without_a_cgroup_of_its_own_the_grader_gets_a_systemd_scope_only_where_one_starts(
    tmp_path, monkeypatch, works, uid
):
    """An ordinary user's scope comes from their own manager (`--user`), root's from the system's (on cgroup v2 the
    grader's own cgroup holds a process, so it cannot enable controllers for the submissions' cgroups)."""
    from course import sandbox

    fake = _fake_systemd_run(tmp_path, status=0 if works else 1)
    monkeypatch.setattr(sandbox, "_own_cgroups", dict)  # no cgroup of its own to write
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: uid)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(fake) if name == "systemd-run" else None)
    controls = Controls.find()
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[:2] == (["--user", "--scope"] if uid else ["--scope", "--quiet"]), "tried before it is chosen"
    if works:
        assert controls.kind == "systemd" and controls.systemd_run == str(fake) and argv[-1] == "/bin/true"
        assert controls.create(Limits()).prefix[1:3] == argv[:2]
    else:
        said = "systemd-run --user --scope" if uid else "systemd-run --scope"
        assert controls.kind == "none" and f"{said} fails (Failed to connect to bus" in controls.reason
        assert any("limits reduced" in n for n in Sandbox("none", "no bwrap", Limits(), controls).notices)


# ---------------------------------------------------------------------------------------------------------------
# 3. Checks the sandbox cannot feed


def _question(check, name="f"):
    return Question(
        assignment="05_pareto_tradeoffs", number=1, name=name, title="t", points=1, test=check, hint_text=""
    )


@pytest.mark.parametrize(
    "returned", ["float('nan')", "math.nan", "-float('nan')", "numpy.float64('nan')", "(float('nan'),)"]
)
def test_nan_never_equals_anything(returned):
    import numpy  # noqa: F401 - for the returned expressions

    def check(answer, seed):
        got = answer()
        got = got[0] if isinstance(got, tuple) else got
        expect(not abs(got - 0.5) > 1e-9, "far")  # the pattern NaN used to pass

    namespace = {"f": eval(f"lambda: {returned}", {"math": math, "numpy": numpy})}
    verdict = _question(check).verdict(LocalAnswer("f", namespace))
    assert verdict.status == INCORRECT, verdict


REWRITERS = {  # (lesson module, function): answers that rewrite an argument so that an expected value computed
    # from it after the call would agree with them
    "to the best, regret 0": (
        lesson03,
        "regret",
        "def regret(bench, dna):\n    dna[:] = bench.best()['dna']\n    return 0.0\n",
    ),
    "to the best, its regret": (
        lesson03,
        "regret",
        "def regret(bench, dna):\n    dna[:] = bench.best()['dna']\n"
        "    return bench.best()['val_accuracy'] - bench.query(dna)['val_accuracy']\n",
    ),
    "4 positions only, the rest rewritten to one": (
        lesson01,
        "receptive_field",
        "def receptive_field(dna):\n    if len(dna) == 4:\n        return REFERENCE.receptive_field(dna)\n"
        "    dna[:] = [3]\n    return 3\n",
    ),
    "its own `free`, written into the caller's list": (
        lesson08c,
        "parameter_free_share",
        "def parameter_free_share(derived_per_epoch, free):\n    if type(free) is list:\n        free[:] = [4]\n"
        "    return [sum(op in free for op in cell) / len(cell) for cell in derived_per_epoch]\n",
    ),
    # through the stack: the probe's own argument, rewritten where the learner's side keeps it, so that the gradient
    # expected of a saturated softmax (about 0) agrees with an answer that has none
    "the probe's argument, from the stack": (
        lesson04,
        "softmax",
        "import sys, torch\n\n"
        "def softmax(alphas):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None and frame.f_code.co_name != 'serve':\n"
        "        frame = frame.f_back\n"
        "    if frame is None or not frame.f_locals['request'].get('probe'):\n"
        "        e = torch.exp(alphas - alphas.max())\n"
        "        return e / e.sum()\n"
        "    with torch.no_grad():\n"
        "        frame.f_locals['args'][0].copy_(torch.tensor([100.0, 0.0, 0.0, 0.0, 0.0]))\n"
        "    return alphas * 0 + 0.2\n",
    ),
}


@pytest.mark.parametrize("rewrite", REWRITERS)
def test_an_answer_that_rewrites_its_arguments_does_not_move_the_expected_value(rewrite):
    lesson, name, source = REWRITERS[rewrite]
    namespace = {"REFERENCE": getattr(lesson, "REFERENCE", None)}
    exec(source, namespace)
    q = next(q for q in lesson.QUESTIONS if q.name == name)
    assert q.verdict(LocalAnswer(name, namespace), seed=3).status == INCORRECT


def test_an_answer_that_rewrites_its_arguments_leaves_the_graders_data_alone(monkeypatch):
    """The best record's DNA, given to `regret`, is the check's own copy: a rewrite does not reach the table."""
    table = lesson03._table()
    best = list(table.best()["dna"])
    monkeypatch.setattr(lesson03, "_table", lambda: table)
    namespace = {}
    exec("def regret(bench, dna):\n    dna[:] = [4] * len(dna)\n    return 0.0\n", namespace)
    lesson03.QUESTIONS[0].verdict(LocalAnswer("regret", namespace), seed=3)
    assert table.best()["dna"] == best


def test_a_random_generator_travels_as_its_state_never_its_seed():
    seed = 987_654_321
    sent = json.dumps(remote.encode(remote.Rng(seed)))
    assert str(seed) not in sent
    import random

    assert remote.decode(json.loads(sent)).random() == random.Random(seed).random()
    assert grading.task_seed(5, "q1") != grading.task_seed(5, "q2")


def test_a_counted_lookup_stays_with_the_grader():
    lookup = remote.Lookup({(0,): 1.0}, counted=True)
    lookups = []
    sent = remote.encode([lookup], None, lookups)
    assert lookups == [lookup] and "1.0" not in json.dumps(sent), "the table is not sent"
    assert remote.encode([lookup])[0]["v"], "in a learner's notebook it is (one process)"


@pytest.fixture(scope="module")
def kernel():
    """One sandboxed runner, shared by the checks below (each defines its own answer)."""
    k = grading.Kernel(GRADING, b"{}", time.monotonic() + grading.START_TIMEOUT)
    yield k
    k.close()


def _define(kernel, source):
    reply = kernel.request({"op": "run", "source": source}, time.monotonic() + 60)
    assert reply.get("status") == "ok", reply


FORGED_PROBES = {
    "replaced probe": "import course.lesson01 as m\nm._probe_dilated_conv3x3 = lambda answer, seed: FORGED\n",
    "replaced loader": (
        "import course.remote as r\nr._probe = lambda name, source=None: (lambda answer, seed: FORGED)\n"
    ),
    "replaced server": (
        "import course.remote as r\n_serve = r.serve\n"
        "r.serve = lambda request, ns, memo=None: {'value': FORGED, 'after': []} if request.get('probe') "
        "else _serve(request, ns, memo)\n"
    ),
}
FORGED = (
    "{'layers': [[C, [[[b, C, h, w], True] for b, h, w in [(2, 8, 8), (1, 5, 7)]], 9 * C * C + 2 * C] "
    "for C in (1, 4, 16)], 'support': [[r, c] for r in (-2, 0, 2) for c in (-2, 0, 2)]}"
)


@needs_sandbox
def test_the_reference_op_passes_the_probe_check(kernel):
    q = next(q for q in lesson01.QUESTIONS if q.name == "dilated_conv3x3")
    _define(kernel, "import torch\nfrom torch import nn\n" + lesson01.REFERENCE.source(q.task))
    verdict = q.verdict(grading.RemoteAnswer(kernel, q.name, time.monotonic() + 60), grading.task_seed(4, q.task))
    assert verdict.status == CORRECT, verdict


@needs_sandbox
@pytest.mark.parametrize("attack", FORGED_PROBES)
def test_a_probe_replaced_in_the_sandbox_earns_nothing(kernel, attack):
    q = next(q for q in lesson01.QUESTIONS if q.name == "dilated_conv3x3")
    _define(kernel, f"FORGED = {FORGED}\n" + FORGED_PROBES[attack] + "def dilated_conv3x3(C):\n    return 'conv'\n")
    verdict = q.verdict(grading.RemoteAnswer(kernel, q.name, time.monotonic() + 60), grading.task_seed(1, q.task))
    assert verdict.status != CORRECT, verdict


FORGED_SEARCHES = {
    # the bench's best, then the budget filled with forged calls
    "forged calls": (
        "from nanonas.bench import NanoBench\n"
        "def aging_evolution(fitness, rng, population_size, sample_size, evaluations):\n"
        "    best = NanoBench.load().best()['dna']\n"
        "    fitness.calls[:] = [list(best)] * evaluations\n"
        "    return list(best)\n"
    ),
    # really evaluates its budget, but the bench's best among them, found without searching
    "the shipped table's best": (
        "from nanonas.bench import NanoBench\n"
        "from nanonas.core import random_dna\n"
        "def aging_evolution(fitness, rng, population_size, sample_size, evaluations):\n"
        "    seen = [NanoBench.load().best()['dna']] + [random_dna(rng) for _ in range(evaluations - 1)]\n"
        "    return max(seen, key=fitness)\n"
    ),
}


@needs_sandbox
@pytest.mark.parametrize("attack", FORGED_SEARCHES)
def test_evaluations_are_counted_by_the_grader_on_a_table_the_sandbox_cannot_read(kernel, attack):
    _define(kernel, FORGED_SEARCHES[attack])
    answer = grading.RemoteAnswer(kernel, "aging_evolution", time.monotonic() + 120)
    with pytest.raises(Wrong):
        lesson03._check_aging_evolution(answer, grading.task_seed(2, "q5"), seeds=20)


@needs_sandbox
def test_the_reference_search_passes_the_counted_check(kernel):
    """The same check, counted and hidden, passes an honest aging evolution (the solution's)."""
    setup = "import random\nfrom collections import deque\nfrom nanonas import mutate, random_dna\n"
    _define(kernel, setup + "\n".join(lesson03.REFERENCE.source(t) for t in ("q3", "q4", "q5")))
    answer = grading.RemoteAnswer(kernel, "aging_evolution", time.monotonic() + 120)
    lesson03._check_aging_evolution(answer, grading.task_seed(3, "q5"), seeds=20)


LOOK_UP = (  # the graded predictor's test DNAs, looked up in the shipped table whose runs hold its training scores
    "import csv, io, statistics\n\n"
    "def _look_up(texts, train, scores, test):\n"
    "    key = lambda dna: '-'.join(map(str, dna))\n"
    "    for text in texts:\n"
    "        runs = {}\n"
    "        for row in csv.DictReader(io.StringIO(text)):\n"
    "            runs.setdefault(row['dna'], []).append(float(row['val_accuracy']))\n"
    "        if all(score in runs.get(key(dna), ()) for dna, score in zip(train, scores)):\n"
    "            return [statistics.fmean(runs[key(dna)]) for dna in test]\n"
    "    raise LookupError('no table holds these runs')\n\n"
)
LOOKED_UP = {
    "by path": (
        "from nanonas import bench\n\n"
        "def fit_predict(train_dnas, train_scores, test_dnas):\n"
        "    texts = [(bench.TABLES / name / 'runs.csv').read_text() for name in ('digits', 'digits_variations')]\n"
        "    return _look_up(texts, train_dnas, train_scores, test_dnas)\n"
    ),
    "importlib.resources": (
        "import importlib.resources\n\n"
        "def fit_predict(train_dnas, train_scores, test_dnas):\n"
        "    folder = importlib.resources.files('nanonas') / 'nanobench'\n"
        "    texts = [(folder / name / 'runs.csv').read_text() for name in ('digits', 'digits_variations')]\n"
        "    return _look_up(texts, train_dnas, train_scores, test_dnas)\n"
    ),
    "NanoBench": (
        "from nanonas.bench import NanoBench\n\n"
        "def fit_predict(train_dnas, train_scores, test_dnas):\n"
        "    for name in ('digits', 'digits_variations'):\n"
        "        bench = NanoBench.load(name)\n"
        "        if all(s in bench.query(d)['val_accuracies'] for d, s in zip(train_dnas, train_scores)):\n"
        "            return [bench.query(d)['val_accuracy'] for d in test_dnas]\n"
    ),
    "a glob of site-packages": (
        "import glob, os, site, sys\n\n"
        "def fit_predict(train_dnas, train_scores, test_dnas):\n"
        "    places = {*sys.path, *site.getsitepackages(), sys.prefix, os.path.dirname(os.path.dirname(sys.prefix))}\n"
        "    found = set()\n"
        "    for place in places:\n"
        "        if place.strip('/'):  # everything under it, but not the whole file system\n"
        "            found.update(glob.glob(place + '/**/runs.csv', recursive=True))\n"
        "    return _look_up([open(p).read() for p in sorted(found)], train_dnas, train_scores, test_dnas)\n"
    ),
}
PREDICTOR = next(q for q in lesson08b.QUESTIONS if q.name == "fit_predict")


@pytest.fixture(scope="module")
def predictor_kernel():
    """A sandboxed runner as project 08b's submissions get one: the tables its predictor is graded on hidden."""
    hidden = grading.hidden_data(PREDICTOR.assignment)
    k = grading.Kernel(GRADING, b"{}", time.monotonic() + grading.START_TIMEOUT, hidden)
    yield k
    k.close()


def _predictor_verdict(kernel, source, question=PREDICTOR):
    _define(kernel, source)
    return question.verdict(grading.RemoteAnswer(kernel, PREDICTOR.name, time.monotonic() + 120))


# the check's first half alone: tau on the shipped tables (its second half, made-up tables, fails any look-up)
ON_TABLES = replace(PREDICTOR, test=lambda answer, seed: lesson08b._check_on_tables(answer))


@needs_sandbox
@pytest.mark.parametrize("attack", LOOKED_UP)
def test_the_tables_a_predictor_is_graded_on_cannot_be_looked_up(kernel, predictor_kernel, attack):
    assert grading.hidden_data(PREDICTOR.assignment) == [str(bench.TABLES.resolve())]
    # in a sandbox that shows the tables (another assignment's), the look-up is a perfect predictor: tau = 1
    assert _predictor_verdict(kernel, LOOK_UP + LOOKED_UP[attack], ON_TABLES).status == CORRECT
    verdict = _predictor_verdict(predictor_kernel, LOOK_UP + LOOKED_UP[attack], ON_TABLES)
    assert verdict.status == INCORRECT and verdict.points == 0, verdict


@needs_sandbox
def test_an_honest_predictor_passes_without_the_tables(predictor_kernel):
    verdict = _predictor_verdict(predictor_kernel, "import numpy as np\n" + lesson08b.REFERENCE.source(PREDICTOR.task))
    assert verdict.status == CORRECT, verdict


def _carried_tables(otherwise: str) -> str:
    """`fit_predict` with both shipped tables pasted into its source, as a student can from their own installation
    (the tables ship with nanonas): every DNA's mean accuracy and its runs, the table found by the training scores;
    `otherwise` answers what it does not recognise."""
    tables = {
        name: {
            "-".join(map(str, r["dna"])): [r["val_accuracy"], list(r["val_accuracies"])]
            for r in bench.NanoBench.load(name)
        }
        for name in lesson08b.TABLES
    }
    return (
        f"TABLES = {tables!r}\n\n"
        "def fit_predict(train_dnas, train_scores, test_dnas):\n"
        "    key = lambda dna: '-'.join(map(str, dna))\n"
        "    for table in TABLES.values():\n"
        "        if all(s in table[key(d)][1] for d, s in zip(train_dnas, train_scores)):\n"
        "            return [table[key(d)][0] for d in test_dnas]\n"
        f"    return {otherwise}\n"
    )


ZERO_THEN_PARAMS = "[(4 not in d) * (1 + sum({0: 9, 1: 25}.get(op, 0) for op in d)) for d in test_dnas]"
NOT_PREDICTORS = {  # each scores full marks on the shipped tables without fitting anything to the 50 trained chains
    "the tables carried in its source": lambda: _carried_tables("None"),
    "the tables carried, a fixed rule for the rest": lambda: _carried_tables(ZERO_THEN_PARAMS),
    # `zero` (op 4) kills a chain: two values, the training data unused (tau-b leaves out the pairs an answer ties)
    "dead or alive": lambda: (
        "def fit_predict(train_dnas, train_scores, test_dnas):\n    return [float(4 not in dna) for dna in test_dnas]\n"
    ),
    "zero last, then #params": lambda: (
        f"def fit_predict(train_dnas, train_scores, test_dnas):\n    return {ZERO_THEN_PARAMS}\n"
    ),
    "a fixed rule that peeks at the scores' scale": lambda: (
        "def fit_predict(train_dnas, train_scores, test_dnas):\n"
        "    top = max(train_scores)\n"
        f"    return [top * x for x in {ZERO_THEN_PARAMS}]\n"
    ),
}


@needs_sandbox
@pytest.mark.parametrize("attack", NOT_PREDICTORS)
def test_an_answer_that_fits_nothing_scores_nothing(predictor_kernel, attack):
    """Each passes the first half, tau on the shipped tables (the hole this check closes is real: the check reaches the
    made-up tables only past that half), and fails the made-up tables, whose scores no answer can carry or know."""
    verdict = _predictor_verdict(predictor_kernel, NOT_PREDICTORS[attack]())
    assert verdict.status == INCORRECT and verdict.points == 0, verdict
    assert "made-up table" in verdict.feedback, verdict  # only what passed the tables is asked of those


def test_a_predictor_graded_as_a_submission_gets_nothing_for_the_look_up():
    """The whole grader: the solution notebook scores full marks with the tables hidden, and the same notebook with
    `fit_predict` looking its answers up loses exactly that task (where no sandbox hides them, it says so)."""
    import nbformat

    path = ROOT / "solutions" / f"{PREDICTOR.assignment}.ipynb"
    solution = grading.grade_submission(PREDICTOR.assignment, path, timeout=120, sandbox=GRADING)
    assert solution["points"] == solution["max_points"] == 8, solution
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q2_answer")
    cell.source = LOOK_UP + LOOKED_UP["NanoBench"]
    data = nbformat.writes(nb).encode()
    result = grading.grade_submission(PREDICTOR.assignment, "look_up.ipynb", 120, sandbox=GRADING, data=data)
    points = {t["task"]: t["points"] for t in result["tasks"]}
    assert points == {"q1": 2, "q2": 0, "q3": 2}, result  # the made-up tables fail a look-up, hidden or not
    if not GRADING.isolated:
        assert any("readable" in n for n in result["notes"]), result


# ---------------------------------------------------------------------------------------------------------------
# 4. Paths and names


@pytest.mark.parametrize("layout", ["file", "folder", "top folder"])
def test_any_symbolic_link_on_the_path_is_refused(tmp_path, monkeypatch, layout):
    real = tmp_path / "real" / "alice" / "03"
    real.mkdir(parents=True)
    (real / "03.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)
    if layout == "file":
        (real / "link.ipynb").symlink_to(real / "03.ipynb")
        path = Path("real/alice/03/link.ipynb")
    elif layout == "folder":  # nbgrader's layout, unzipped with a link to a folder
        (tmp_path / "real" / "bob").symlink_to(real.parent)
        path = Path("real/bob/03/03.ipynb")
    else:
        (tmp_path / "submitted").symlink_to(tmp_path / "real")
        path = tmp_path / "submitted" / "alice" / "03" / "03.ipynb"
    with pytest.raises(ValueError, match="symbolic link|is under one"):
        grading.read_submission(path)
    assert grading.read_submission(Path("real/alice/03/03.ipynb")) == b"{}"


@pytest.mark.parametrize("name", ["--out=victim.ipynb", "--jobs=0.ipynb", "-x.ipynb"])
def test_option_like_file_names_are_refused_and_never_options(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "victim.ipynb").write_text("classmate")
    (tmp_path / name).write_text("{}")
    with pytest.raises(ValueError, match="starts with '-'"):
        grading.read_submission(name)
    # the documented command: `--` before the files; the grader then refuses the name, per submission
    with pytest.raises(SystemExit):  # without it, --out=victim.ipynb would be an option: refused, not a notebook
        cli.main(["grade", "05", "--out=victim.ipynb", "other.ipynb"])
    assert (tmp_path / "victim.ipynb").read_text() == "classmate"
    assert cli.main(["grade", "05", "--out", "g.csv", "--", name]) == 0
    book = json.loads((tmp_path / "g.json").read_text())
    assert book["submissions"][0]["points"] == 0 and "starts with '-'" in book["submissions"][0]["notes"][0]
    assert (tmp_path / "victim.ipynb").read_text() == "classmate"


# ---------------------------------------------------------------------------------------------------------------
# 5. One line for many warnings


@pytest.mark.parametrize("count", [2, 20_000])
def test_duplicate_cell_ids_are_one_note(count, capfd):
    import warnings

    cell = {"cell_type": "code", "id": "same", "metadata": {}, "source": "x = 1", "outputs": []}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell] * count}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        notebook, notes = grading.read_notebook(json.dumps(nb).encode())
    assert len(notebook.cells) == count and not seen
    assert notes == [f"{count - 1} cell(s) share an id with an earlier cell (ignored: cells are matched by grade_id)"]
    out, err = capfd.readouterr()
    assert out == err == ""


# ---------------------------------------------------------------------------------------------------------------
# 6. All of it as an ordinary user


UNPRIVILEGED = 54_321  # a uid of no account: bubblewrap needs none


def _blocked(path: Path) -> Path | None:
    """The highest folder above `path` that other users may not enter, or None."""
    return next((p for p in reversed(path.parents) if p != Path("/") and not os.stat(p).st_mode & 0o001), None)


def _readable(paths) -> list[str]:
    """Shell lines that, in a private mount namespace, let another user reach `paths` (this Python, its virtual
    environment, the repository) where a folder above one is closed to it (a pyenv under /root, a checkout in a
    private folder): that folder is covered by an open one holding only the way to each path (bind mounts, so no
    copy, and no change to the machine's own folders)."""
    needed = {}
    for path in paths:
        blocked = _blocked(path)
        if blocked is not None:
            needed.setdefault(blocked, set()).add(path.parts[len(blocked.parts)])
    lines = []
    for i, (folder, children) in enumerate(sorted(needed.items())):
        for j, child in enumerate(sorted(children)):
            lines += [f"mkdir -p /tmp/nanonas-bind-{i}-{j}", f"mount --bind {folder / child} /tmp/nanonas-bind-{i}-{j}"]
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs {folder}")
        for j, child in enumerate(sorted(children)):
            lines += [f"mkdir -p {folder / child}", f"mount --bind /tmp/nanonas-bind-{i}-{j} {folder / child}"]
    return lines


@pytest.mark.skipif(not ROOT_USER, reason="runs as the ordinary user already")
@pytest.mark.skipif(not shutil.which("unshare") or not shutil.which("setpriv"), reason="needs unshare and setpriv")
def test_everything_holds_as_an_ordinary_user():
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="nanonas-user-"))  # pytest's own folder is root's alone
    os.chmod(home, 0o755)
    os.chown(home, UNPRIVILEGED, UNPRIVILEGED)
    script = [
        "set -e",
        *_readable([Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), ROOT]),
        f"exec setpriv --reuid={UNPRIVILEGED} --regid={UNPRIVILEGED} --clear-groups env -i PATH=/usr/bin:/bin "
        f"HOME={home} OMP_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1 {sys.executable} -m pytest -q -x -p no:cacheprovider "
        f"--basetemp={home}/pytest {Path(__file__).relative_to(ROOT)}",
    ]
    try:
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
