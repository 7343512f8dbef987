"""Check the numbers a notebook's text states in the kernel nbval just ran it in, instead of running it again; and
give nbval the stored outputs of cells marked `# NBVAL_CHECK_OUTPUT` (tests/expected_outputs.py) to compare with.

`make test` runs every lesson and project under nbval, one kernel per notebook. For a notebook in notebooks/ whose
markdown marks claims (`59%<!-- claim: 100 * n_dead / len(records) -->`, see tests/test_claims.py), one more test
item, "claims", follows its last cell: it evaluates each claim's expression in that same kernel and fails, naming the
sentence, when a number written in the text is not the number the cells computed. One run of each notebook does both.
"""

import json
from pathlib import Path

import nbformat
import pytest


class Claims(pytest.Item):
    """The marked claims of one notebook, checked after nbval ran all its cells (same kernel, same names)."""

    def __init__(self, *, marked, **kwargs):
        super().__init__(**kwargs)
        self.marked = marked  # [(number as written, expression, sentence)]

    def runtest(self):
        from tests.test_claims import wrong_claims

        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            raise AssertionError(f"{self.parent.name}: the kernel died before its claims could be checked")
        exprs = [expr for _, expr, _ in self.marked]
        code = f"__import__('json').dumps([float(eval(_e)) for _e in {exprs!r}])"  # eval sees the lesson's names
        msg_id = kernel.kc.execute("", silent=True, store_history=False, user_expressions={"claims": code})
        while True:
            reply = kernel.get_message(stream="shell", timeout=120)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        result = reply["content"]["user_expressions"]["claims"]
        if result["status"] != "ok":
            failure = f"{result['ename']}: {result['evalue']}"
            raise AssertionError(f"{self.parent.name}: a claim's expression failed: {failure}")
        values = json.loads(eval(result["data"]["text/plain"]))  # the repr of the JSON string
        wrong = wrong_claims(self.marked, values)
        assert not wrong, f"{self.parent.name}: the text says something its own cells contradict:\n" + "\n".join(wrong)

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::claims"


def pytest_collection_modifyitems(session, config, items):
    """Put a Claims item right after the last cell of each notebook in notebooks/ that marks claims, and give each
    cell marked `# NBVAL_CHECK_OUTPUT` its stored output (tests/expected_outputs.py) for nbval to compare with."""
    from tests import expected_outputs
    from tests.test_claims import claims

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
        marked = claims(Path(parent.path))
        if marked:
            items.insert(i + 1, Claims.from_parent(parent, name="claims", marked=marked))
