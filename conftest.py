"""Check the numbers a notebook's text states in the kernel nbval just ran it in, instead of running it again; and
give nbval the stored outputs of cells marked `# NBVAL_CHECK_OUTPUT` (tests/expected_outputs.py) to compare with.

`make test` runs every lesson and project under nbval, one kernel per notebook. For a notebook in notebooks/ whose
markdown marks claims (`59%<!-- claim: 100 * n_dead / len(records) -->`, see tests/test_claims.py), one more test
item, "claims", follows its last cell: it evaluates each claim's expression in that same kernel and fails, naming the
sentence, when a number written in the text is not the number the cells computed, or when a live claim's relation
(`<!-- live-claim: expr -->`) is not True. One run of each notebook does both.

With NANONAS_CLAIMS_LOG set to a file, the item also appends one JSON line per notebook there: every claim's value and
the repr of each expression NANONAS_CLAIMS_WATCH ({notebook: [expr]}, JSON) names, for benchmarks/portable_claims.py.
"""

import json
import os
from pathlib import Path

import nbformat
import pytest


class Claims(pytest.Item):
    """The marked claims of one notebook, checked after nbval ran all its cells (same kernel, same names)."""

    def __init__(self, *, marked, live, watch, **kwargs):
        super().__init__(**kwargs)
        self.marked = marked  # [(number as written, expression, sentence)]
        self.live = live  # [(relation, sentence)]
        self.watch = watch  # expressions whose repr goes to NANONAS_CLAIMS_LOG

    def runtest(self):
        from tests.test_claims import false_live_claims, rule_violations, wrong_claims

        broken = rule_violations(Path(self.path))
        assert not broken, f"{self.parent.name}: a marker breaks the rules of tests/test_claims.py:\n" + "\n".join(
            broken
        )
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            raise AssertionError(f"{self.parent.name}: the kernel died before its claims could be checked")
        numbers, relations = [e for _, e, _ in self.marked], [e for e, _ in self.live]
        code = (  # eval sees the lesson's names; a relation must come back True or False, not a number
            f"__import__('json').dumps([[float(eval(_e)) for _e in {numbers!r}], "
            f"[(lambda _v: bool(_v) if type(_v).__name__ in ('bool', 'bool_') else repr(_v))(eval(_e)) "
            f"for _e in {relations!r}]])"
        )
        expressions = {"claims": code, **{f"watch{i}": e for i, e in enumerate(self.watch)}}
        msg_id = kernel.kc.execute("", silent=True, store_history=False, user_expressions=expressions)
        while True:
            reply = kernel.get_message(stream="shell", timeout=120)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        results = reply["content"]["user_expressions"]
        result = results["claims"]
        if result["status"] != "ok":
            failure = f"{result['ename']}: {result['evalue']}"
            raise AssertionError(f"{self.parent.name}: a claim's expression failed: {failure}")
        values, truths = json.loads(eval(result["data"]["text/plain"]))  # the repr of the JSON string
        if os.environ.get("NANONAS_CLAIMS_LOG"):
            watched = {
                e: r["data"]["text/plain"] if r["status"] == "ok" else f"{r['ename']}: {r['evalue']}"
                for e, r in ((e, results[f"watch{i}"]) for i, e in enumerate(self.watch))
            }
            line = {
                "notebook": self.parent.name,
                "claims": dict(zip(numbers, values)),
                "live": dict(zip(relations, truths)),
            }
            with open(os.environ["NANONAS_CLAIMS_LOG"], "a") as log:
                log.write(json.dumps({**line, "watch": watched}) + "\n")
        wrong = wrong_claims(self.marked, values) + false_live_claims(self.live, truths)
        assert not wrong, f"{self.parent.name}: the text says something its own cells contradict:\n" + "\n".join(wrong)

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::claims"


class Absent(pytest.Item):
    """A notebook that reads data the repository does not ship, where that data is absent: one skip, with why."""

    def __init__(self, *, folder, **kwargs):
        super().__init__(**kwargs)
        self.folder = folder

    def runtest(self):
        pytest.skip(f"{self.folder} is absent: its tables are not shipped (docs/nb201.md says how to get them)")

    def reportinfo(self):
        return self.path, 0, f"{self.parent.name}::absent"


NEEDS_DATA = {"09_nas_bench_201.ipynb": Path(__file__).resolve().parents[1] / "shared" / "nb201"}  # public, not ours


def pytest_collection_modifyitems(session, config, items):
    """Put a Claims item right after the last cell of each notebook in notebooks/ that marks claims, and give each
    cell marked `# NBVAL_CHECK_OUTPUT` its stored output (tests/expected_outputs.py) for nbval to compare with."""
    from tests import expected_outputs
    from tests.test_claims import claims, live_claims

    watching = json.loads(os.environ.get("NANONAS_CLAIMS_WATCH") or "{}")  # only benchmarks/portable_claims.py
    last, expected = {}, None  # notebook file collector -> index of its last cell item
    for i, item in enumerate(items):
        parent = item.parent
        if type(parent).__name__ == "IPyNbFile" and Path(parent.path).parent.name == "notebooks":
            last[parent] = i
            if item.options.get("check") and item.cell.source.lstrip().startswith(expected_outputs.MARK):
                expected = expected_outputs.load() if expected is None else expected
                stored = expected.get(Path(parent.path).name, {}).get(item.cell.get("id"))
                item.cell.outputs = [nbformat.from_dict(o) for o in stored or []]
                item.cell.execution_count = (
                    1  # nbval compares only cells that look run; none stored: it must print nothing
                )
    for parent, i in sorted(last.items(), key=lambda kv: -kv[1]):  # from the end, so indices stay valid
        path = Path(parent.path)
        marked, live, watch = claims(path), live_claims(path), watching.get(path.name, [])
        if marked or live or watch:
            items.insert(i + 1, Claims.from_parent(parent, name="claims", marked=marked, live=live, watch=watch))
    for name, folder in NEEDS_DATA.items():  # a notebook whose data is absent: its items become one skip, saying why
        mine = [i for i, item in enumerate(items) if Path(item.path).name == name]
        if mine and not folder.is_dir():
            absent = Absent.from_parent(items[mine[0]].parent, name="absent", folder=folder)
            items[mine[0] : mine[-1] + 1] = [absent]


# -- Executed copies for the website (issue 27) ------------------------------------------------------------------------
# Each lesson and project nbval runs is written, with the outputs its cells produced in this run, to
# artifacts/executed/notebooks/NAME.ipynb (or NANONAS_EXECUTED_DIR/notebooks/): `make site` publishes those copies
# instead of running every notebook a second time (course/site.py). The copy records the SHA-256 of the source it ran
# and whether every code cell ran without an error; the site takes only a complete copy of the current source. A run
# that is not complete (a cell failed or was deselected, the file changed meanwhile) writes nothing: it never replaces
# a good copy.

_EXECUTED_OUTPUTS = {}  # notebook collector -> {id(cell): outputs nbval collected}


@pytest.hookimpl(tryfirst=True)  # before pytest tears the notebook down and nbval stops its kernel
def pytest_runtest_teardown(item, nextitem):
    parent = item.parent
    if type(item).__name__ != "IPyNbCell" or Path(parent.path).parent.name != "notebooks":
        return
    if item.test_outputs is not None:
        _EXECUTED_OUTPUTS.setdefault(parent, {})[id(item.cell)] = item.test_outputs
    if nextitem is not None and nextitem.parent is parent and type(nextitem).__name__ == "IPyNbCell":
        return  # not the notebook's last cell yet
    import hashlib
    import warnings

    from course import site

    ran = _EXECUTED_OUTPUTS.pop(parent, {})
    source = Path(parent.path)
    nb = nbformat.read(source, as_version=4)  # the file as committed, not nbval's copy (its outputs may be stand-ins)
    code = [(mine, theirs) for mine, theirs in zip(nb.cells, parent.nb.cells) if mine.cell_type == "code"]
    complete = [c.source for c in nb.cells] == [c.source for c in parent.nb.cells]  # not edited while it ran
    for mine, theirs in code:
        outputs = ran.get(id(theirs))
        complete = complete and outputs is not None and not any(o.output_type == "error" for o in outputs)
        mine.outputs = [nbformat.from_dict(dict(o)) for o in outputs or []]
    if not complete:
        return
    if any(site.WIDGET_MIME in o.get("data", {}) for mine, _ in code for o in mine.outputs):
        try:  # the kernel is still up (nbval stops it after this hook): ask it for its widgets' final state
            nb.metadata[site.SNAPSHOTS] = site.displayed_only(nb, site.kernel_snapshots(parent.kernel.kc))
        except Exception as e:  # the page then shows a line where each widget was; the outputs are kept all the same
            warnings.warn(f"{source.name}: no snapshot of its widgets for the website: {e}", stacklevel=1)
    nb.metadata["nanonas_executed"] = {
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "complete": complete,
        "by": "nbval",
    }
    folder = Path(os.environ.get("NANONAS_EXECUTED_DIR") or Path(__file__).parent / "artifacts" / "executed")
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "notebooks" / source.name)
