"""Every number a lesson states in its text is checked against the value the lesson computes.

A lesson marks a numeric claim in markdown with an invisible HTML comment right after the number, holding the Python
expression (in the lesson's namespace) that computes it:

    So 59%<!-- claim: 100 * n_dead / len(records) --> of this space is dead.

This test runs each lesson that has claims top to bottom in a fresh kernel (the same way nbval does), evaluates every
expression there, and checks that the number written agrees with the computed one at the precision it is written
("59%" means 58.5 to 59.5; "0.28" means 0.275 to 0.285). A change of data or code that makes a sentence false fails
here, naming the sentence. Cost: one more run of each lesson (about 2 minutes for all six on 2 quiet cores).
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("0[0-9]_*.ipynb"))
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


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in LESSONS if claims(p)], ids=lambda p: p.name)
def test_every_marked_claim_matches_what_the_lesson_computes(path):
    marked = claims(path)
    nb = nbformat.read(path, as_version=4)
    exprs = [e for _, e, _ in marked]
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json as _json\n"
            f"print(_json.dumps([float(eval(_e)) for _e in {exprs!r}]))"  # evaluated where the lesson's names live
        )
    )
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    values = json.loads(nb.cells[-1].outputs[0]["text"].strip().splitlines()[-1])
    wrong = [
        f"{sentence!r}: written {written}, computed {value:.6g} ({expr})"
        for (written, expr, sentence), value in zip(marked, values)
        if not agrees(written, value)
    ]
    assert not wrong, f"{path.name}: the text says something its own cells contradict:\n" + "\n".join(wrong)
