"""The lessons and projects as files: committed without outputs, and built the way COURSE.md says."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb"))
LESSONS = sorted((ROOT / "notebooks").glob("0[0-5]_*.ipynb"))
PROJECTS = sorted((ROOT / "notebooks").glob("0[6-9]*_*.ipynb"))  # every project (06a to 08c) and the capstone (09)


def test_the_six_lessons_exist():
    names = [p.stem for p in LESSONS]
    assert names == [
        "00_welcome",
        "01_search_space",
        "02_architecture_dna",
        "03_evolution",
        "04_darts",
        "05_pareto_tradeoffs",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", LESSONS + PROJECTS, ids=lambda p: p.name)
def test_the_course_shape(path):
    """COURSE.md's shape, for every lesson and project: a setup cell with its run time, the outcomes, what was learned
    and the matching exercise; a project also has a rubric, and its bigger run one switch away, off."""
    cells = json.loads(path.read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    assert cells[1]["cell_type"] == "code" and "Setup" in text[1] and "on a 2-core" in text[1]
    assert any("You will be able to" in t for t in text), "a lesson states its outcomes"
    assert "What you learned" in text[-1], "a lesson ends with what was learned"
    if not path.name.startswith("00"):
        assert f"exercises/{path.name}" in text[-1], "a lesson links to its exercise notebook"
    if path in PROJECTS:
        assert "FULL_RUN" not in text[1] or "FULL_RUN = False" in text[1], "the bigger run is one switch away, off"
        assert any("Rubric" in t for t in text), "a project's open part has a rubric"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_take_their_colours_from_the_palette(path):
    """One look across the course: an op, a strategy, a highlight has the same colour in every figure."""
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    stray = re.findall(r"px\.colors\.qualitative\.\w+|[\"']#[0-9A-Fa-f]{6}[\"']|rgba?\(", code)
    assert not stray, f"{path.name} picks its own colours ({', '.join(stray)}); use nanonas.palette"
