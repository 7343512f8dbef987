"""One registry: a strategy defined in this file becomes known to nano_nas, the command line and the dashboard."""

import random

import pytest

import nanonas
from nanonas import OPERATIONS, STRATEGIES, cli, random_dna, strategy
from nanonas.palette import op_colors


@pytest.fixture
def hill_climber():
    """A toy strategy, registered by its decorator alone, and removed again after the test."""

    @strategy("hill_climber", budget=lambda o: o["steps"])
    def hill_climber(fitness, task, steps=12, restarts=2):
        """Hill climbing: change one position at a time, keep the change when it helps."""
        rng = random.Random(task.seed)
        best = fitness.explore(lambda: random_dna(rng, task.positions))
        while len(fitness) < steps:
            child = fitness.explore(lambda p: nanonas.mutate(p, rng), best)
            best = max(best, child, key=fitness)
        return {"restarts_used": restarts}

    yield hill_climber
    del STRATEGIES["hill_climber"]


def test_a_registered_strategy_runs_through_nano_nas(hill_climber):
    model = nanonas.nano_nas("hill_climber", steps=15, evaluator="bench", seed=2, progress=False)
    result = model.search
    assert result.strategy == "hill_climber" and result.evaluations == 15
    assert result.options["steps"] == 15 and result.options["restarts"] == 2  # defaults filled in from the signature
    assert result.extra["restarts_used"] == 2  # what the strategy returns lands in the result
    assert STRATEGIES["hill_climber"].options == {"steps": 12, "restarts": 2}
    with pytest.raises(ValueError, match="hill_climber does not take generations; it takes: steps, restarts"):
        nanonas.nano_nas("hill_climber", generations=3)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        nanonas.nano_nas("hill_climber", steps=0)


def test_a_registered_strategy_runs_from_the_command_line(hill_climber, capsys):
    assert cli.main(["search", "hill_climber", "--steps", "9", "--evaluator", "bench", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "9 evaluations" in out and "found: [" in out
    with pytest.raises(SystemExit):
        cli.main(["search", "--help"])
    assert "hill_climber" in capsys.readouterr().out  # listed with its docstring's first line


def test_a_registered_strategy_appears_in_the_dashboard(hill_climber):
    from nanonas.widgets import SearchDashboard

    dash = SearchDashboard(strategy="hill_climber")
    assert "hill_climber" in [value for _, value in dash.controls["strategy"].options]
    assert dash.controls["steps"].layout.display is None  # its own option has a control, shown
    assert dash.controls["generations"].layout.display == "none"  # another strategy's is hidden
    result = dash.run(steps=10)
    assert result.strategy == "hill_climber" and result.evaluations == 10


def test_every_strategy_has_a_docstring_and_known_option_kinds():
    for s in STRATEGIES.values():
        assert s.summary != s.name, f"{s.name} needs a docstring: its first line is its help text"
        for name, default in s.options.items():
            assert default is None or isinstance(default, (int, float, str, tuple)), f"{s.name}.{name}"


def test_unknown_strategy_lists_the_registered_ones():
    with pytest.raises(ValueError, match="unknown strategy 'evolve'; choose one of: random, evolution, darts"):
        nanonas.nano_nas("evolve")


def test_an_added_op_gets_a_colour_in_every_figure():
    import torch.nn as nn

    from nanonas.widgets import DartsDashboard, SearchDashboard
    from nas_insights import ArchitectureDNA

    OPERATIONS["avgpool"] = lambda C: nn.AvgPool2d(3, stride=1, padding=1)
    try:
        colours = op_colors()
        assert len(set(colours.values())) == len(OPERATIONS) == 6
        assert [bar.name for bar in SearchDashboard().gene_pool.data][-1] == "avgpool"
        assert [bar.marker.color for bar in DartsDashboard().alphas.data][-1] == colours["avgpool"]
        result = nanonas.nano_nas(
            "evolution",
            population_size=6,
            generations=2,
            evaluator=lambda dna: sum(dna) / 30,
            progress=False,
            train_epochs=1,
        )
        assert 5 in {op for h in result.search.history for op in h["dna"]}  # the search used the new op
        figure = ArchitectureDNA(result).visualize_dna_evolution()  # drew with KeyError: 'avgpool' before
        assert any(getattr(t, "name", None) == "avgpool" for t in figure.data)
    finally:
        del OPERATIONS["avgpool"]


def test_a_space_of_one_op_is_refused_before_any_search():
    from nanonas import nano_nas
    from nanonas.bench import using_ops

    with using_ops({"skip": OPERATIONS["skip"]}), pytest.raises(ValueError, match="at least 2 ops in OPERATIONS"):
        nano_nas("evolution", evaluator=lambda dna: 0.5, population_size=4, generations=1)
