"""NAS-Bench-201 in the library: the encodings on all 15,625 cells, the download over real HTTP, the pickle reader,
the published optima, and every table-driven search on the table. The tables are not shipped: the tests that read
them use ../shared/nb201 and skip, with one reason, where it is absent."""

import csv
import functools
import hashlib
import http.server
import math
import pickle
import re
import shutil
import threading
from pathlib import Path

import pytest

import nanonas
from nanonas import nb201
from nanonas.bench import NanoBench
from nanonas.cells import EDGES, is_live
from nanonas.core import OPERATIONS
from nanonas.registry import STRATEGIES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "nb201"
ABSENT = "../shared/nb201 is absent: NAS-Bench-201's tables are not shipped (docs/nb201.md says how to get them)"


@pytest.fixture(scope="module")
def shared():
    """The shared copy of the tables; without it, every test that reads them skips (one reason, one line in -rs)."""
    if not SHARED.is_dir():
        pytest.skip(ABSENT)
    return SHARED


needs_tables = pytest.mark.usefixtures("shared")


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    """The compiled tables go to a temporary cache, never the user's; $NANONAS_NB201 is not read from outside."""
    monkeypatch.setattr(nb201, "CACHE", tmp_path_factory.getbasetemp() / "nb201_cache")
    monkeypatch.delenv(nb201.ENV, raising=False)


@pytest.fixture(scope="module")
def table(shared, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nb201, "CACHE", tmp_path_factory.getbasetemp() / "nb201_cache")
        return NanoBench.load("nb201", path=SHARED)


def rows(name: str) -> list[dict]:
    with open(SHARED / name, newline="") as f:
        return list(csv.DictReader(f))


def test_the_string_is_a_dna_written_out_edge_by_edge():
    """NB201's string lists node 1's input, node 2's, node 3's: the order of cells.EDGES; ops in NB201's order."""
    dna = [0, 1, 2, 3, 4, 3]
    assert nb201.to_string(dna) == (
        "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    )
    assert EDGES == [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    assert nb201.to_net(dna) == (1, 0, 2, 3, 4, 2)  # NASLib: edges 1-0 2-0 3-0 2-1 3-1 3-2; skip 0, none 1
    with pytest.raises(ValueError, match="not an NB201 cell string"):
        nb201.from_string("|nor_conv_3x3~0|+|conv~0|none~1|")


@needs_tables
def test_the_encodings_agree_on_every_cell():
    """All 15,625 cells: the index's string, HW-NAS-Bench's NASLib tuple (row by row) and Suite-Zero's pairs."""
    acc, hw = rows("arch_score_acc.csv"), rows("hw_cifar10.csv")
    assert len(acc) == len(hw) == 5 ** len(EDGES)
    seen = set()
    for i, (a, h) in enumerate(zip(acc, hw)):
        dna = nb201.from_string(a["cellstr"])
        assert int(a["arch"]) == i and nb201.to_string(dna) == a["cellstr"]
        net = tuple(int(v) for v in h["net"].strip("()").split(","))
        assert nb201.to_net(dna) == net and nb201.from_net(net) == dna
        seen.add(tuple(dna))
    assert len(seen) == 5 ** len(EDGES)  # every DNA once: the index is a bijection
    for r in rows("nb201_valid_nets.csv"):
        net = tuple(int(v) for v in r["net"].strip("()").split(","))
        assert nb201.to_string(nb201.from_net(net)) == r["net_str"]


@needs_tables
def test_dead_cells_are_the_ones_nb201_scores_at_chance(table):
    """cells.is_live with NB201's ops: dead exactly where NASWOT has no score, and every dead cell is at 10%."""
    from nanonas.bench import using_ops

    with using_ops(nb201.OPS):
        dead = [r for r in rows("arch_score_acc.csv") if not is_live(nb201.from_string(r["cellstr"]))]
    assert len(dead) == 341 == sum(not r["live"] for r in table)
    assert all(r["score"] == "" and float(r["test_top1"]) == 10.0 for r in dead)
    assert sum(r["score"] == "" for r in rows("arch_score_acc.csv")) == 341


@needs_tables
def test_the_published_optima(table):
    """NAS-Bench-201's optima (the shared README's checks), and the 12-epoch maxima of the mini-bench."""
    best = table.best()
    assert best["index"] == 6111 and table.rank(best["dna"]) == 1
    assert best["test_accuracy"] == pytest.approx(0.943733, abs=1e-6)
    assert best["val_accuracy"] == pytest.approx(0.916067, abs=1e-6)
    assert (
        best["arch"]
        == "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    )
    assert table.best("valid_test_accuracy")["index"] == 1459
    assert table.best("valid_test_accuracy")["valid_test_accuracy"] == pytest.approx(0.915233, abs=1e-6)
    maxima = {"cifar10_test_12": 0.8916, "cifar100_test_12": 0.6118, "imagenet16_test_12": 0.382667}
    for column, value in maxima.items():
        assert max(table.array(column)) == pytest.approx(value, abs=1e-6)
    assert best["params"] == 1_073_466 and best["zc_params"] == pytest.approx(1.073466)
    assert sum(r["edgetpu_latency"] is None for r in table) == 4699  # HW-NAS-Bench's -1: not measured
    assert sum(r["zc_synflow"] is not None for r in table) == 9445
    assert table.at(6111) == table.query(best["dna"])
    with pytest.raises(ValueError, match="an NB201 index is an integer from 0 to 15624"):
        table.at(15625)


def test_docs_name_every_field_of_a_record_once(table):
    """docs/nb201.md's record table: each key a record holds, named once (`zc_<name>` and `…` rows spelled out)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "nb201.md").read_text()
    rows = doc.split("## A record")[1].split("\n\n")[1].splitlines()[2:]  # the table's rows, past its header
    named = []
    for row in rows:
        key, what = row.split(" | ")[:2]
        for name in re.findall(r"`([^`]+)`", key):
            if name == "zc_<name>":
                named += ["zc_" + p for p in re.search(r"`([a-z0-9_]+(?: [a-z0-9_]+)+)`", what).group(1).split()]
            elif "…" in name:
                named += [name.replace("…", part) for part in ("val", "test")]
            else:
                named.append(name)
    assert sorted(named) == sorted(table.at(6111))


@needs_tables
def test_the_pareto_front_is_the_brute_force_one(table):
    """(validation accuracy, Jetson TX2 latency): no cell dominates a cell of the front, and some cell of the front
    dominates every other cell (pareto.dominates, ties and all): the definition, checked against all 15,625."""
    import numpy as np

    from nanonas.pareto import TIE

    points = np.stack([table.columns["val_accuracy"], -table.columns["edgegpu_latency"]], axis=1)
    dominated_by = lambda q, p: np.all(q >= p - TIE, axis=-1) & np.any(q > p + TIE, axis=-1)  # (q dominates p)
    front = [r["index"] for r in table.pareto_front(minimize=("edgegpu_latency",))]
    assert front == sorted(front) and 3 < len(front) < 100
    assert not any(dominated_by(points, points[i]).any() for i in front)
    others = np.setdiff1d(np.arange(len(points)), front)
    assert dominated_by(points[front][None, :, :], points[others][:, None, :]).any(axis=1).all()


TINY = {  # a table-driven search at a small budget; a strategy not listed runs at its defaults
    "random": {"evaluations": 30},
    "evolution": {"population_size": 8, "generations": 3},
    "regularized_evolution": {"population_size": 8, "sample_size": 3, "evaluations": 30},
    "bananas": {"evaluations": 20, "initial": 10, "candidates": 20, "predictor": "ridge"},
    "proxy_evolution": {"evaluations": 30, "population_size": 8, "screen": 40},
    "progressive": {"evaluations": 30, "beam": 3},
    "nsga2": {"population_size": 8, "generations": 2, "objectives": ("val_accuracy", "edgetpu_latency")},
}


@needs_tables
@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if STRATEGIES[s].unit == "eval"])
def test_every_table_driven_search_runs_on_it(table, strategy):
    before = dict(OPERATIONS)
    run = lambda seed: nanonas.nano_nas(strategy, evaluator=table, seed=seed, progress=False, **TINY.get(strategy, {}))
    result = run(3).search
    assert OPERATIONS == before  # the search ran with NB201's ops, and gave OPERATIONS back
    record = table.query(result.dna)
    assert result.ops == record["ops"] and result.options["positions"] == len(EDGES)
    assert result.val_accuracy == record["val_accuracy"] and result.test_accuracy == record["test_accuracy"]
    assert all(h["fitness"] == table.query(h["dna"])["val_accuracy"] for h in result.history)
    assert math.isnan(result.search_cost)  # the tables carry no training times: unknown, not zero
    assert run(3).search.history == result.history  # the same seed, the same search


@needs_tables
def test_a_search_on_another_dataset_of_the_table(table):
    """evaluator(metric=...) searches on a 12-epoch column: every fitness is that column's value."""
    lookup = table.evaluator(metric="cifar100_val_12")
    result = nanonas.nano_nas("regularized_evolution", evaluator=lookup, evaluations=30, progress=False).search
    assert all(h["fitness"] == table.query(h["dna"])["cifar100_val_12"] for h in result.history)
    assert result.ops == table.query(result.dna)["ops"]
    with pytest.raises(
        ValueError, match="unknown fitness 'test_accuracy'; choose one of: val_accuracy, cifar10_val_12"
    ):
        table.evaluator(metric="test_accuracy")


@needs_tables
def test_nsga2_minimises_a_device_latency(table):
    """The final front is non-dominated on (accuracy, Edge TPU latency); an unmeasured latency counts as infinite."""
    objectives = ("val_accuracy", "edgetpu_latency")
    result = nanonas.nano_nas("nsga2", evaluator=table, objectives=objectives, progress=False).search
    points = [(table.query(d)["val_accuracy"], table.costs(d)["edgetpu_latency"]) for d in result.extra["front"]]
    assert all(not (a >= c and b <= d and (a, b) != (c, d)) for a, b in points for c, d in points)
    assert all(math.isfinite(latency) for _, latency in points)
    with pytest.raises(ValueError, match="objectives must be two or more of: val_accuracy, params, edgegpu_latency"):
        nanonas.nano_nas("nsga2", evaluator=table, objectives=("val_accuracy", "latency_b1_ms"), progress=False)


@needs_tables
def test_searches_that_do_not_fit_the_table_are_refused(table):
    with pytest.raises(ValueError, match="cells have 6 edges: search with positions=6"):
        nanonas.nano_nas("random", evaluator=table, positions=4, progress=False)
    with pytest.raises(ValueError, match="darts trains on the data"):
        nanonas.nano_nas("darts", evaluator=table, progress=False)


@needs_tables
def test_a_proxy_comes_from_the_table(table):
    """Suite-Zero's value where it gives one, last place (-inf) where it gives none; NASWOT from its own column."""
    synflow, naswot = table.proxy("synflow"), table.proxy("naswot")
    assert synflow([3, 3, 3, 1, 3, 2]) == table.at(6111)["zc_synflow"]
    assert naswot([3, 3, 3, 1, 3, 2]) == table.at(6111)["naswot"]
    no_value = next(r for r in table if r["zc_synflow"] is None)
    assert synflow(no_value["dna"]) == -math.inf
    with pytest.raises(ValueError, match="unknown proxy 'zen'"):
        table.proxy("zen")


def test_a_missing_table_says_how_to_get_it(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="nanonas nb201 download"):
        NanoBench.load("nb201", path=tmp_path)
    monkeypatch.setenv(nb201.ENV, str(tmp_path))
    with pytest.raises(ValueError, match=f"not in {tmp_path}"):
        NanoBench.load("nb201")
    with pytest.raises(ValueError, match="options of NanoBench.load"):
        NanoBench.load("digits", path=tmp_path)


def test_project_09_without_the_tables_shows_one_message_not_a_traceback(tmp_path, monkeypatch):
    """Notebook 09's setup cell, run by a kernel where no tables are (no ../../shared/nb201 beside it, $NANONAS_NB201
    an empty folder): the learner reads one line that says what to do, not a traceback through the library."""
    import nbformat
    from nbclient import NotebookClient

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "09_nas_bench_201.ipynb"
    setup = next(c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    assert 'NanoBench.load("nb201"' in setup.source
    empty = tmp_path / "no_tables"
    empty.mkdir()
    monkeypatch.setenv(nb201.ENV, str(empty))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup.source)])
    NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "TablesError" and error.traceback == [f"TablesError: {error.evalue}"]
    assert f"not in {empty}" in error.evalue and "`nanonas nb201 download`" in error.evalue


@needs_tables
def test_a_damaged_table_is_one_clear_error(tmp_path):
    for name in nb201.FILES:
        shutil.copy(SHARED / name, tmp_path / name)
    (tmp_path / nb201.FILES[0]).write_text("arch,cellstr\n0,|nor_conv_3x3~0|\n")
    with pytest.raises(ValueError, match="tables in .* are damaged .*nanonas nb201 download"):
        NanoBench.load("nb201", path=tmp_path)


def test_the_reader_refuses_any_other_global(tmp_path):
    """A pickle that names os.system is refused before anything runs: one clear error, no side effect."""
    import os

    witness = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    (tmp_path / "evil.pd").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match=r"asks for posix\.system; only these are allowed: pandas\.core\.frame"):
        nb201.read_frame(tmp_path / "evil.pd")
    assert not witness.exists()
    (tmp_path / "list.pd").write_bytes(pickle.dumps([1, 2]))  # allowed pieces, but not a DataFrame
    with pytest.raises(ValueError, match="not a DataFrame as NB201's tables pickle it"):
        nb201.read_frame(tmp_path / "list.pd")


@pytest.fixture(scope="module")
def served(shared, tmp_path_factory):
    """A copy of ../shared/nb201 (one file of it corrupted in a second folder), served over HTTP on 127.0.0.1."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(SHARED, root / "good")
    shutil.copytree(SHARED, root / "bad")
    bad = root / "bad" / "hw_cifar10.csv"
    bad.chmod(0o644)
    bad.write_bytes(bad.read_bytes().replace(b"5.807418537139893", b"5.807418537139894", 1))
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_checks_converts_and_loads(served, tmp_path, capsys):
    """`nanonas nb201 download` over HTTP: every file's SHA-256 is checked, and the pickles written as CSV equal
    the shared CSVs byte for byte; the folder then loads with the published optimum."""
    from nanonas.cli import main

    assert main(["nb201", "download", "--dir", str(tmp_path), "--mirror", served + "/good"]) == 0
    out = capsys.readouterr().out
    assert "index 6111" in out and f"NanoBench.load('nb201', path={str(tmp_path)!r})" in out  # not the default folder
    for name, (_, digest) in nb201.SOURCES.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    for name in nb201.CONVERTED.values():
        assert (tmp_path / name).read_bytes() == (SHARED / name).read_bytes()
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    nb201.download(tmp_path, mirror=served + "/nowhere", progress=False)  # intact files are not fetched again
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_download_refuses_a_corrupted_file(served, tmp_path):
    with pytest.raises(ValueError, match="its SHA-256 differs"):
        nb201.download(tmp_path, mirror=served + "/bad", progress=False)
    assert not (tmp_path / "hw_cifar10.csv").exists() and not list(tmp_path.rglob("*.part"))
    with pytest.raises(ValueError, match="failed .*404"):
        nb201.download(tmp_path / "x", mirror=served + "/nowhere", progress=False)
