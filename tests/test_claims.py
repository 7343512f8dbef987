"""Every number a lesson states in its text is checked against the value the lesson computes.

A lesson marks a numeric claim in markdown with an invisible HTML comment right after the number, holding the Python
expression (in the lesson's namespace) that computes it:

    So 59%<!-- claim: 100 * n_dead / len(records) --> of this space is dead.

The nbval run (`make test`) checks them in the kernel it ran the notebook in (see conftest.py): it evaluates every
expression there, and checks that the number written agrees with the computed one at the precision it is written
("59%" means 58.5 to 59.5; "0.28" means 0.275 to 0.285). A change of data or code that makes a sentence false fails
here, naming the sentence. No extra run of the notebook.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb"))  # lessons and projects
NO_MEASURED_NUMBER = {"00_welcome.ipynb"}  # its text counts the space (625) but reports no measurement
UNIT = r"(?:\s?(?:%|×|ms|s|pp|percentage points|points))?"  # what may stand between a number and its marker
CLAIM = re.compile(r"([-−]?\d[\d,]*(?:\.\d+)?)" + UNIT + r"<!--\s*claim:\s*(.+?)\s*-->", re.S)


def claims(path: Path) -> list[tuple[str, str, str]]:
    """(number as written, expression, the sentence around it) for every marked claim of a notebook."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for m in CLAIM.finditer(cell.source):
                sentence = cell.source[max(0, m.start() - 80) : m.start() + len(m.group(1))].replace("\n", " ")
                found.append((m.group(1), m.group(2), "…" + sentence))
    return found


def agrees(written: str, value: float) -> bool:
    """True when `value`, rounded to the precision of `written`, is the number written."""
    decimals = len(written.split(".")[1]) if "." in written else 0
    return abs(float(written.replace(",", "").replace("−", "-")) - value) <= 0.5 * 10**-decimals + 1e-9


def test_claim_syntax_reads_numbers_as_written():
    text = "So 59%<!-- claim: a --> dead; 0.28 pp<!-- claim: b -->, 1,296<!-- claim: c -->, 3.7×<!-- claim: d -->"
    found = [(w, e) for w, e, _ in claims_of(text)]
    assert found == [("59", "a"), ("0.28", "b"), ("1,296", "c"), ("3.7", "d")]
    assert agrees("59", 58.7) and not agrees("59", 58.4) and agrees("0.28", 0.2849) and not agrees("0.28", 0.29)
    assert agrees("1,296", 1296) and not agrees("1,296", 1297) and agrees("−0.2", -0.17) and not agrees("−0.2", 0.2)


def claims_of(text: str):
    return [(m.group(1), m.group(2), "") for m in CLAIM.finditer(text)]


def wrong_claims(marked, values) -> list[str]:
    """One line per claim whose written number disagrees with its computed value."""
    return [
        f"{sentence!r}: written {written}, computed {value:.6g} ({expr})"
        for (written, expr, sentence), value in zip(marked, values)
        if not agrees(written, value)
    ]


def test_the_nbval_run_checks_every_notebook_with_claims():
    """conftest.py adds a `claims` item after the last cell of each notebook in notebooks/ that marks claims; every
    lesson and project must mark some (a notebook without any would silently lose the guard)."""
    missing = [p.name for p in NOTEBOOKS if not claims(p) and p.name not in NO_MEASURED_NUMBER]
    assert not missing, f"these notebooks state no checked number: {missing}"


def _notebook(path: Path, number: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("n = 3"),
        nbformat.v4.new_markdown_cell(f"So n is {number}<!-- claim: n -->."),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.parametrize("number, passes", [("3", True), ("4", False)])
def test_the_nbval_run_fails_a_notebook_whose_text_disagrees_with_its_cells(pytester, monkeypatch, number, passes):
    """The oracle: a two-cell notebook in a notebooks/ folder, run under nbval with this repo's conftest.py."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    (pytester.path / "notebooks").mkdir()
    _notebook(pytester.path / "notebooks" / "99_probe.ipynb", number)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # conftest.py imports tests.test_claims
    result = pytester.runpytest_subprocess("--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "notebooks")
    if passes:
        result.assert_outcomes(passed=2)  # the cell, then its claims
    else:
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(["*written 4, computed 3 (n)*"])


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
