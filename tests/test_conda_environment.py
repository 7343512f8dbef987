"""The README's two ways to set up the course install the same thing: `make lab`'s virtual environment and conda's
`environment.yml` (tests/browser/test_make_lab.py runs `make lab` itself)."""

import re
from importlib.metadata import metadata
from pathlib import Path

import yaml  # PyYAML comes with JupyterLab (jupyter_server -> jupyter_events)
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def makefile_extras() -> set[str]:
    """The extras the Makefile installs into its virtual environment: `pip install ... -e '.[test,ray]'`."""
    installs = re.findall(r"pip install .*-e '\.\[([\w,]*)\]'", (ROOT / "Makefile").read_text())
    assert len(installs) == 1, f"expected the Makefile to install the project once, found {installs}"
    return set(installs[0].split(","))


def conda_environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_conda_installs_what_the_makefile_installs():
    env = conda_environment()
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    conda = [d for d in env["dependencies"] if not isinstance(d, dict)]
    assert [list(p) for p in pip] == [["pip"]], "one pip section"
    [requirement] = pip[0]["pip"]  # the project itself and nothing else, as `make` installs it
    found = re.fullmatch(r"-e \.\[([\w,]*)\]", requirement)
    assert found, f"environment.yml should install the project with pip as `-e .[extras]`, not {requirement!r}"
    assert set(found.group(1).split(",")) == makefile_extras()
    project = metadata("nanonas")  # pyproject.toml as installed (tomllib is Python 3.11+; the project supports 3.10)
    assert makefile_extras() <= set(project.get_all("Provides-Extra")), "pip ignores an extra that does not exist"
    # from conda, only what `make` takes from the machine: Python (the version the project supports) and pip
    names = {re.split(r"[=<>! ]", d)[0] for d in conda}
    assert names == {"python", "pip"}, f"conda installs more than Python and pip: {conda}"
    [python] = [d for d in conda if d.startswith("python")]
    supported = SpecifierSet(project["Requires-Python"])
    assert Version(python.removeprefix("python=")) in supported, f"{python}, but the project supports {supported}"


def test_the_readme_conda_line_names_this_environment():
    readme = (ROOT / "README.md").read_text()
    line = re.search(r"`(conda env create[^`]*)`", readme)
    assert line, "the README says how to set up the course with conda"
    steps = [s.strip() for s in line.group(1).split("&&")]
    assert steps == [
        "conda env create -f environment.yml",
        f"conda activate {conda_environment()['name']}",
        'make lab VENV="$CONDA_PREFIX"',  # the same lab as `make lab` (root or not), in conda's environment
    ]
