"""The outputs that cells marked `# NBVAL_CHECK_OUTPUT` must keep printing, stored beside the lessons.

Lessons are committed without outputs, and nbval compares a cell's output only with an output stored in the
notebook: so a marked cell would be checked against nothing. The expected outputs live in
`notebooks/expected_outputs.json` instead ({notebook: {cell id: [outputs]}}); the root conftest.py hands them to
nbval as the cells' stored outputs, so `make test` compares every marked cell with its copy. After changing what such
a cell prints on purpose, store the new outputs and commit the file:

    .venv/bin/python -m tests.expected_outputs          # runs the lessons with marked cells, rewrites the file

A marked cell must print the same on every machine, so it may not print what a live run trained in the kernel
returned (its digits move with the CPU): tests/test_claims.py's rules refuse that.
"""

import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "notebooks" / "expected_outputs.json"
MARK = "# NBVAL_CHECK_OUTPUT"


def marked(path: Path) -> list:
    """The code cells of a notebook whose output must not change."""
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(MARK)]


def load() -> dict:
    return json.loads(FILE.read_text()) if FILE.exists() else {}


def update() -> dict:
    from nbclient import NotebookClient

    stored = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb")):
        if not marked(path):
            continue
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        stored[path.name] = {
            c.id: [_plain(o) for o in c.outputs]
            for c in nb.cells
            if c.cell_type == "code" and c.source.lstrip().startswith(MARK)
        }
        print(path.name, len(stored[path.name]), "cells")
    FILE.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    return stored


def _plain(output) -> dict:
    out = {k: v for k, v in output.items() if k not in ("execution_count", "metadata")}
    return json.loads(json.dumps(out))


if __name__ == "__main__":
    update()
