"""Every number a lesson states in its text is checked against the value the lesson computes, and every sentence
about a live run holds on any machine.

Two markers, both invisible HTML comments in a notebook's markdown, holding a Python expression evaluated in the
lesson's namespace:

    So 59%<!-- claim: 100 * n_dead / len(records) --> of this space is dead.
    Both searches keep a convolution<!-- live-claim: all({0, 1} & set(s.dna) for s in (slow, search)) -->.

`claim:` follows a number and checks it at the precision it is written ("59%" means 58.5 to 59.5; "0.28" means
0.275 to 0.285). Its number must be the same on every machine: it comes from a shipped table, a recorded benchmark,
a count, or a seeded lookup.

`live-claim:` marks a sentence about a result **trained in the kernel** (a live run). Such a result moves with the
learner's CPU: other vector kernels (`ATEN_CPU_CAPABILITY=avx2` or `default`) or another torch thread count sum
floating-point numbers in another order, and a training amplifies that into another architecture (lesson 04, the
README's "Which numbers may differ on your machine"). So a live claim states only what holds on any machine: its
expression is a relation that must evaluate to True, and it may not follow a number; the number itself is left to
the cell's printed output ("printed above").

The rule is enforced by `rule_violations`, with no kernel: a notebook's live runs are the names in `LIVE_RUNS`, and
every name a top-level statement computes from a live name is live too (cell by cell, in order; rebinding a name
from non-live values makes it clean again). A `claim:` whose expression reads a live name fails, as does a
`live-claim:` after a number, a `claim:` after no number (it would be checked against nothing), a cell marked
`# NBVAL_CHECK_OUTPUT` (tests/expected_outputs.py) that prints a live name, and a root in `LIVE_RUNS` that its notebook
no longer binds. Whether the list is complete is measured, not assumed:
`benchmarks/portable_claims.py` runs the live notebooks under other kernels and thread counts and lists every
claim and checked output that moves.

The nbval run (`make test`) checks both kinds in the kernel it ran the notebook in (see conftest.py): no extra run of
the notebook. A change of data or code that makes a sentence false fails there, naming the sentence.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from tests.expected_outputs import MARK

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb"))  # lessons and projects
NO_MEASURED_NUMBER = {"00_welcome.ipynb"}  # its text counts the space (625) but reports no measurement
UNIT = r"(?:\s?(?:%|×|ms|s|pp|percentage points|points))?"  # what may stand between a number and its marker
NUMBER = r"([-−]?\d[\d,]*(?:\.\d+)?)"
CLAIM = re.compile(NUMBER + UNIT + r"<!--\s*claim:\s*(.+?)\s*-->", re.S)
ANY_CLAIM = re.compile(r"<!--\s*claim:", re.S)
LIVE_CLAIM = re.compile(r"<!--\s*live-claim:\s*(.+?)\s*-->", re.S)
AFTER_NUMBER = re.compile(r"\d" + UNIT + r"\s*$")

# The notebooks that train (or time) in the kernel, and the names their cells bind to what that returns (the roots of
# the live names; see the module's docstring). benchmarks/portable_claims.py runs the ones that train.
LIVE_RUNS = {
    "00_welcome.ipynb": {"model"},  # nano_nas's real-training quick start (evolution, then DARTS)
    "03_evolution.ipynb": {"darts", "real"},  # three short DARTS runs; one evolution with real training
    "04_darts.ipynb": {"slow", "model", "darts_dashboard"},  # the two DARTS searches; the dashboard's run
    "07b_transfer.ipynb": {"again"},  # one network trained on mnist_5k in the kernel
    "07c_hardware_aware.ipynb": {"measured", "ms"},  # latency measured on this machine (timed, not trained)
    "08c_cell_supernet.ipynb": {"history", "net"},  # a short DARTS on the cell; a short one-shot supernet
}


def _sentence(source: str, start: int, end: int) -> str:
    return "…" + source[max(0, start - 80) : end].replace("\n", " ")


def _markdown(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def claims(path: Path) -> list[tuple[str, str, str]]:
    """(number as written, expression, the sentence around it) for every `claim:` of a notebook."""
    return [
        (m.group(1), m.group(2), _sentence(source, m.start(), m.start() + len(m.group(1))))
        for source in _markdown(path)
        for m in CLAIM.finditer(source)
    ]


def live_claims(path: Path) -> list[tuple[str, str]]:
    """(expression, the sentence before it) for every `live-claim:` of a notebook."""
    return [
        (m.group(1), _sentence(source, m.start(), m.start()))
        for source in _markdown(path)
        for m in LIVE_CLAIM.finditer(source)
    ]


def agrees(written: str, value: float) -> bool:
    """True when `value`, rounded to the precision of `written`, is the number written."""
    decimals = len(written.split(".")[1]) if "." in written else 0
    return abs(float(written.replace(",", "").replace("−", "-")) - value) <= 0.5 * 10**-decimals + 1e-9


def wrong_claims(marked, values) -> list[str]:
    """One line per claim whose written number disagrees with its computed value."""
    return [
        f"{sentence!r}: written {written}, computed {value:.6g} ({expr})"
        for (written, expr, sentence), value in zip(marked, values)
        if not agrees(written, value)
    ]


def false_live_claims(marked, values) -> list[str]:
    """One line per live claim whose relation is not True (False, or a value that is no relation at all)."""
    return [
        f"{sentence!r}: {expr} is {value}"
        if isinstance(value, bool)
        else f"{sentence!r}: {expr} gives {value}, not a relation (True/False)"
        for (expr, sentence), value in zip(marked, values)
        if value is not True
    ]


# -- which names hold live results: a name computed by a statement that reads a live name is live


def _reads(tree) -> set[str]:
    """The outer names a statement or expression reads: not a comprehension's or a function's own variables, nor
    (in a loop, `with`, `if` or `def`) a name the statement binds before use, like a loop's target."""
    nodes = list(ast.walk(tree))
    local = {a.arg for a in nodes if isinstance(a, ast.arg)}
    for n in nodes:
        if isinstance(n, ast.comprehension):
            local |= {t.id for t in ast.walk(n.target) if isinstance(t, ast.Name)}
    if isinstance(tree, ast.stmt) and not isinstance(tree, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
        local |= {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - local


def _binds(stmt) -> set[str]:
    """The names a top-level statement binds in the notebook's namespace (not those local to a function or a
    comprehension); `x[k] = ...` and `x.a = ...` bind (change) x."""
    bound, todo = set(), [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue  # its body runs later, in its own scope
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                bound.add(base.id)
        todo.extend(ast.iter_child_nodes(node))
    return bound


def _code(source: str) -> ast.Module:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]  # IPython magics
    return ast.parse("\n".join(lines))


def _taint(path: Path) -> tuple[list, set[str]]:
    """Follow the live runs through the notebook's code, statement by statement: ([(code cell, the live names it reads
    or binds)], the live names after the last cell)."""
    roots, live, cells = LIVE_RUNS.get(path.name, set()), set(), []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        touched = set()
        for stmt in _code(cell.source).body:
            bound, read = _binds(stmt), _reads(stmt) & live
            if bound & roots or read:
                live |= bound
                touched |= read | bound
            else:
                live -= bound  # rebound from values that are not live: clean again
        cells.append((cell, touched))
    return cells, live


def live_names(path: Path) -> set[str]:
    """The names that hold a live run's results (or values computed from them) after the notebook's last cell."""
    return _taint(path)[1]


def rule_violations(path: Path) -> list[str]:
    """What breaks the markers' rules in a notebook (see the module's docstring), one line each."""
    wrong = []
    for source in _markdown(path):
        unchecked = len(ANY_CLAIM.findall(source)) - len(CLAIM.findall(source))
        if unchecked:
            wrong.append(f"{unchecked} `claim:` marker(s) follow no number, so nothing is checked: {source[:80]!r}…")
        for m in LIVE_CLAIM.finditer(source):
            if AFTER_NUMBER.search(source[: m.start()]):
                wrong.append(
                    f"{_sentence(source, m.start(), m.start())!r}: a live claim marks a relation, not a number that "
                    "moves with the machine; leave the number to the printed output and state what holds anywhere"
                )
    live = live_names(path)
    for _, expr, sentence in claims(path):
        if reads := _reads(ast.parse(expr, mode="eval")) & live:
            wrong.append(
                f"{sentence!r}: `claim: {expr}` reads a live run ({', '.join(sorted(reads))}); "
                "mark it `live-claim:` with a relation"
            )
    for cell, touched in _taint(path)[0]:
        if cell.source.lstrip().startswith(MARK) and touched:
            wrong.append(
                f"cell {cell.id} is marked # NBVAL_CHECK_OUTPUT but prints a live run ({', '.join(sorted(touched))}), "
                "whose output moves with the machine: drop the mark, or print only what holds anywhere"
            )
    bound = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            bound |= set().union(*(_binds(s) for s in _code(cell.source).body))
    missing = LIVE_RUNS.get(path.name, set()) - bound
    if missing:
        wrong.append(f"LIVE_RUNS names {sorted(missing)}, which {path.name} no longer binds: update LIVE_RUNS")
    return wrong


# -- the rules, against small cases with a known answer


def test_claim_syntax_reads_numbers_as_written():
    text = "So 59%<!-- claim: a --> dead; 0.28 pp<!-- claim: b -->, 1,296<!-- claim: c -->, 3.7×<!-- claim: d -->"
    found = [(m.group(1), m.group(2)) for m in CLAIM.finditer(text)]
    assert found == [("59", "a"), ("0.28", "b"), ("1,296", "c"), ("3.7", "d")]
    assert agrees("59", 58.7) and not agrees("59", 58.4) and agrees("0.28", 0.2849) and not agrees("0.28", 0.29)
    assert agrees("1,296", 1296) and not agrees("1,296", 1297) and agrees("−0.2", -0.17) and not agrees("−0.2", 0.2)
    assert not CLAIM.search("both agree<!-- live-claim: a == b -->")  # a live claim is no number's claim


def test_a_live_claim_must_be_a_true_relation():
    marked = [("a == b", "s1"), ("a", "s2"), ("a < b", "s3")]
    wrong = false_live_claims(marked, [True, 3.0, False])
    assert len(wrong) == 2 and "not a relation" in wrong[0] and "a < b is False" in wrong[1]


def _probe(tmp_path: Path, cells: list[str], markdown: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells] + [nbformat.v4.new_markdown_cell(markdown)]
    nbformat.write(nb, tmp_path / "99_probe.ipynb")
    return tmp_path / "99_probe.ipynb"


def test_live_names_are_the_roots_and_what_is_computed_from_them(tmp_path, monkeypatch):
    monkeypatch.setitem(LIVE_RUNS, "99_probe.ipynb", {"real"})
    cells = [
        "import numpy as np\nbench = {}\nreal = train()\nr = real.search\ntruth = bench[r.dna]\nfew = [1, 2]",
        "scores = {}\nfor k in few:\n    scores[k] = np.mean([x for x in truth])\ncount = len(few)",
        "r = 3  # rebound from nothing live: clean again\ndef f():\n    return truth",
    ]
    path = _probe(tmp_path, cells, "")
    # the loop's statement reads truth: all it binds is live (k too); f returns truth: calling it gives a live value
    assert live_names(path) == {"real", "truth", "scores", "k", "f"}  # not few, count, np, nor r (rebound)


@pytest.mark.parametrize(
    "markdown, broken",
    [
        ("It has 2<!-- claim: len(few) --> cells and keeps a conv<!-- live-claim: 0 in truth -->.", None),
        ("Its score is 99.1%<!-- claim: 100 * truth -->.", "reads a live run (truth)"),
        ("Its score is 99.1%<!-- live-claim: truth > 0.9 -->.", "not a number that moves"),
        ("Its score is high<!-- claim: truth > 0.9 -->.", "follow no number"),
    ],
)
def test_the_rules_catch_a_live_number_stated_as_fact(tmp_path, monkeypatch, markdown, broken):
    monkeypatch.setitem(LIVE_RUNS, "99_probe.ipynb", {"real"})
    path = _probe(tmp_path, ["real = train()\ntruth = real.score\nfew = [1, 2]"], markdown)
    wrong = rule_violations(path)
    assert (wrong == []) if broken is None else (len(wrong) == 1 and broken in wrong[0])


def test_a_checked_output_may_not_print_a_live_run(tmp_path, monkeypatch):
    monkeypatch.setitem(LIVE_RUNS, "99_probe.ipynb", {"real"})
    cells = ["real = train()\nfew = [1]", "# NBVAL_CHECK_OUTPUT\nprint(few)", "# NBVAL_CHECK_OUTPUT\nprint(real.dna)"]
    wrong = rule_violations(_probe(tmp_path, cells, ""))
    assert len(wrong) == 1 and "prints a live run (real)" in wrong[0]


def test_a_renamed_live_run_is_noticed(tmp_path, monkeypatch):
    monkeypatch.setitem(LIVE_RUNS, "99_probe.ipynb", {"real"})
    wrong = rule_violations(_probe(tmp_path, ["trained = train()"], ""))
    assert len(wrong) == 1 and "no longer binds" in wrong[0]


# -- the course's notebooks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_keeps_the_rules(path):
    wrong = rule_violations(path)
    assert not wrong, f"{path.name}:\n" + "\n".join(wrong)


def test_the_nbval_run_checks_every_notebook_with_claims():
    """conftest.py adds a `claims` item after the last cell of each notebook in notebooks/ that marks claims; every
    lesson and project must mark some (a notebook without any would silently lose the guard)."""
    missing = [p.name for p in NOTEBOOKS if not claims(p) and p.name not in NO_MEASURED_NUMBER]
    assert not missing, f"these notebooks state no checked number: {missing}"
    assert set(LIVE_RUNS) <= {p.name for p in NOTEBOOKS}


def _notebook(path: Path, markdown: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("n = 3"), nbformat.v4.new_markdown_cell(markdown)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.parametrize(
    "markdown, failure",
    [
        ("So n is 3<!-- claim: n --> and odd<!-- live-claim: n % 2 == 1 -->.", None),
        ("So n is 4<!-- claim: n -->.", "*written 4, computed 3 (n)*"),
        ("So n is odd<!-- live-claim: n + 0 -->.", "*n + 0 gives 3, not a relation*"),
    ],
)
def test_the_nbval_run_fails_a_notebook_whose_text_disagrees_with_its_cells(pytester, monkeypatch, markdown, failure):
    """The oracle: a two-cell notebook in a notebooks/ folder, run under nbval with this repo's conftest.py."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    (pytester.path / "notebooks").mkdir()
    _notebook(pytester.path / "notebooks" / "99_probe.ipynb", markdown)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # conftest.py imports tests.test_claims
    result = pytester.runpytest_subprocess("--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "notebooks")
    if failure is None:
        result.assert_outcomes(passed=2)  # the cell, then its claims
    else:
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines([failure])


def test_every_cell_marked_check_output_has_its_stored_output():
    from tests.expected_outputs import load, marked

    stored = load()
    for path in NOTEBOOKS:
        ids = {c.id for c in marked(path)}
        assert set(stored.get(path.name, {})) == ids, f"{path.name}: run `python -m tests.expected_outputs`"


def test_a_marked_cell_that_prints_something_else_fails(pytester, monkeypatch):
    """The oracle for NBVAL_CHECK_OUTPUT: a probe notebook whose marked cell has no stored output (so it must print
    nothing) prints a line; nbval, given the stored outputs by conftest.py, fails that cell."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    (pytester.path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint('something else')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, pytester.path / "notebooks" / "99_probe.ipynb")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess("--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "notebooks")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Cell outputs differ*"])
