"""The `nanonas` command line: search, build or verify NanoBench, and grade or generate exercises."""

import argparse
import re
import sys
from pathlib import Path

COMMON_HELP = {  # the options every strategy takes (nanonas.run.COMMON), as flags
    "dataset": (str, "{datasets}"),
    "device": (str, "cpu or cuda (default: automatic)"),
    "evaluator": (str, "train (real training, the default) or bench (NanoBench lookups)"),
    "train_size": (int, "keep this many training images, a stratified sample (default: all)"),
    "train_epochs": (int, "training epochs of each evaluation"),
    "channels": (int, "channels of every layer"),
    "positions": (int, "positions in the chain"),
    "space": (str, "chain (the default: ops in a row) or cell (a 4-node graph: an op on each of its 6 edges)"),
    "workers": (int, "real training: evaluations side by side, one process each (default: one per core)"),
    "executor": (str, "where the workers run: {executors}"),
    "address": (str, "with --executor ray: auto or ray://host:10001 joins a cluster (default: a local Ray)"),
}


def strategy_flags() -> dict:
    """{option: (type, help)} for every option of every registered strategy, read from their signatures."""
    from .registry import STRATEGIES

    flags = {}
    for s in STRATEGIES.values():
        for name, default in s.options.items():
            if default is None or callable(default) or isinstance(default, bool):
                continue  # hooks are for Python callers
            kind = str if isinstance(default, tuple) else type(default)
            show = lambda v: (" ".join(map(str, v)) or "none") if isinstance(v, tuple) else v
            takers = [f"{t.name} (default {show(t.options[name])})" for t in STRATEGIES.values() if name in t.options]
            flags.setdefault(name, (kind, ", ".join(takers), isinstance(default, tuple)))
    return flags


BUILD_OPTIONS = [  # `nanonas bench build`: the space, the data and the recipe (defaults: nano_nas's own)
    ("--dataset", str, "{datasets}"),
    ("--space", str, "chain (default: ops in a row) or cell (a 4-node graph: 15,625 cells; train a --sample)"),
    ("--ops", str, "op names from OPERATIONS (default: all of them); ops written in Python: use nanonas.bench.build"),
    ("--positions", int, "positions in the chain (default 4)"),
    ("--seeds", int, "training seeds of every architecture (default: 0 1 2)"),
    ("--epochs", int, "training epochs of each run (default: nano_nas's)"),
    ("--channels", int, "channels of every layer (default: nano_nas's)"),
    ("--lr", float, "learning rate (default: nano_nas's)"),
    ("--batch-size", int, "batch size (default: nano_nas's)"),
    ("--costs-from", str, "copy costs from this table (same networks) instead of measuring them"),
    ("--executor", str, "where the workers run: {executors}"),
    ("--address", str, "with --executor ray: auto or ray://host:10001 joins a cluster (default: a local Ray)"),
]


def _registries() -> dict:
    """The lists the help text names, read from where they are defined (data.DATASETS, parallel.EXECUTORS)."""
    from .data import DATASETS
    from .parallel import EXECUTORS

    datasets = "; ".join(f"{name}: {source.about}" for name, source in DATASETS.items())
    return {
        "datasets": f"the data to search on, one of {datasets}",
        "executors": "; ".join(f"{n}: {about}" for n, about in EXECUTORS.items()),
    }


def _ending(*suffixes, refuse=False):
    """An argparse type: a path that ends in one of `suffixes` (with refuse: in none), so that a notebook a shell
    expanded from *.ipynb is never taken for the page, the roster or the feedback folder (and overwritten)."""

    def check(text: str) -> str:
        if text.lower().endswith(suffixes) == refuse:
            said = f"a notebook ({' '.join(suffixes)})" if refuse else f"a {' or '.join(suffixes)} file"
            raise argparse.ArgumentTypeError(f"{'cannot be' if refuse else 'takes'} {said}, not {text!r}")
        return text

    return check


def teacher_flags(parser, page: bool = True) -> None:
    """The teacher's files (course/report.py): the item analysis page, feedback files, a Canvas roster."""
    html = _ending(".html", ".htm")
    if page:
        parser.add_argument("--report", nargs="?", const=True, type=html, metavar="PAGE.html", help="write the page")
    else:
        parser.add_argument("--out", type=html, metavar="PAGE.html", help="the page (default: next to the gradebook)")
    feedback = _ending(".ipynb", refuse=True)
    parser.add_argument("--feedback", type=feedback, metavar="DIR", help="write one feedback file per student")
    roster = _ending(".csv")
    parser.add_argument("--roster", type=roster, metavar="CANVAS.csv", help="a Canvas gradebook export: its IDs")
    parser.add_argument("--nbgrader", metavar="DB_URL", help="write the points into nbgrader's gradebook too")


def _parser() -> argparse.ArgumentParser:
    from .registry import STRATEGIES

    names = _registries()

    parser = argparse.ArgumentParser(prog="nanonas", description="Neural architecture search you can read.")
    sub = parser.add_subparsers(dest="command", required=True)

    strategies = "\n".join(f"  {name:22s} {s.summary}" for name, s in STRATEGIES.items())
    search = sub.add_parser(
        "search",
        help="run a search and print the architecture it found",
        description=f"Run a search and print the architecture it found. Strategies:\n{strategies}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.search_parser = search  # its usage line is the one to show for a bad search option
    search.add_argument("strategy", choices=list(STRATEGIES))
    search.add_argument("--seed", type=int, default=0)
    for name, (kind, text, many) in strategy_flags().items():
        search.add_argument(
            "--" + name.replace("_", "-"), type=kind, default=None, help=text, nargs="+" if many else None
        )
    for name, (kind, text) in COMMON_HELP.items():
        search.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help=text.format(**names))
    search.add_argument("--download", action="store_true", help="allow downloading a torchvision dataset")
    search.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    search.add_argument("--save", metavar="PATH", help="save the search result as JSON")

    bench = sub.add_parser("bench", help="build or verify NanoBench, the exhaustively trained table")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    build = bench_sub.add_parser("build", help="train every architecture (resumable: re-run to continue)")
    build.add_argument("--workers", type=int, default=1, help="worker processes (one core each)")
    build.add_argument(
        "--out", metavar="DIR", help="where to write the table (default: the package's own for the dataset)"
    )
    build.add_argument("--limit", type=int, help="stop after this many training runs")
    build.add_argument(
        "--sample", type=int, metavar="N", help="train a stratified sample: N live cells per number of conv edges"
    )
    for flag, kind, text in BUILD_OPTIONS:
        build.add_argument(
            flag,
            type=kind,
            default=None,
            nargs="+" if flag in ("--ops", "--seeds") else None,
            help=text.format(**names),
        )
    verify = bench_sub.add_parser("verify", help="retrain sampled architectures and compare with the table")
    verify.add_argument("--samples", type=int, default=5)
    verify.add_argument("--seed", type=int, default=0)
    verify.add_argument("--table", metavar="NAME|DIR", help="a shipped table's name or a folder (default: digits)")
    verify.add_argument("--tolerance", type=float, default=0.01, help="largest allowed |fresh - table| accuracy")

    nb201 = sub.add_parser("nb201", help="NAS-Bench-201's tables: download them (docs/nb201.md)")
    nb201.add_argument("action", choices=["download"], help="download: fetch, check (SHA-256) and convert them")
    nb201.add_argument("--dir", metavar="DIR", help="where to put them (default: ~/.cache/nanonas/nb201)")
    nb201.add_argument("--mirror", metavar="URL", help="a base address holding the same files (default: their sources)")

    grade = sub.add_parser("grade", help="grade exercise notebooks: a gradebook as CSV and JSON (docs/exercises.md)")
    grade.add_argument("assignment", help="the lesson, e.g. 03_evolution (or a unique start of it: 03)")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb")
    grade.add_argument(
        "--out", default="grades.csv", type=_csv_file, help="the CSV gradebook; the JSON one goes next to it"
    )
    grade.add_argument("--timeout", type=float, default=30, help="seconds each cell may run (default 30)")
    grade.add_argument("--budget", type=float, default=300, help="seconds in all for one submission (default 300)")
    grade.add_argument("--memory", type=int, default=2048, help="MB of memory each submission may use (default 2048)")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded side by side (one core each)")
    grade.add_argument("--master", metavar="PATH", help="the released notebook (default: exercises/ASSIGNMENT.ipynb)")
    teacher_flags(grade)

    report = sub.add_parser("report", help="a teacher's item analysis, platform CSVs and feedback from gradebooks")
    report.add_argument("gradebooks", nargs="+", metavar="GRADES.json", help="gradebooks written by nanonas grade")
    teacher_flags(report, page=False)

    exercises = sub.add_parser("exercises", help="generate exercises/ from solutions/, or check they match")
    exercises.add_argument("action", choices=["sync", "check"], help="sync: write exercises/; check: fail if stale")
    exercises.add_argument("--root", help="the folder holding solutions/ and exercises/ (default: found from here)")
    return parser


def _search(args, parser) -> int:
    from .run import nano_nas

    names = [*strategy_flags(), *COMMON_HELP]
    options = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    try:
        progress = not args.no_progress
        model = nano_nas(args.strategy, seed=args.seed, download=args.download, progress=progress, **options)
    except ValueError as e:
        message = str(e)  # speak in flags: population_size -> --population-size
        flags = {name: "--" + name.replace("_", "-") for name in [*names, "seed", "download"]}
        for name, flag in {**flags, "progress": "--no-progress"}.items():
            message = re.sub(rf"(?<![\w-]){name}\b", flag, message)
        parser.search_parser.error(message)
    result = model.search
    test = "n/a" if result.test_accuracy is None else f"{result.test_accuracy:.2%}"
    print(f"found: {result.dna}  {' -> '.join(result.ops)}")
    print(f"validation accuracy {result.val_accuracy:.2%}, test accuracy {test}")
    stopped = " (interrupted)" if result.interrupted else ""
    print(f"{result.evaluations} evaluations in {result.wall_time:.1f} s{stopped}")
    if "front" in result.extra:  # a multi-objective search: its final Pareto front
        print(f"final front ({', '.join(result.extra['objectives'])}):", *result.extra["front"])
    if args.save:
        print(f"saved to {result.save(args.save)}")
    return 0


def _bench(args, parser) -> int:
    from . import bench

    if args.bench_command == "build":
        if args.workers < 1:
            parser.error("--workers must be a positive integer")
        space = {flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_")) for flag, _, _ in BUILD_OPTIONS}
        try:
            if args.sample is not None:
                from .cells import stratified_sample

                if args.sample < 1 or space["space"] != "cell":
                    raise ValueError("--sample takes a positive number of cells per stratum, with --space cell")
                space["architectures"] = stratified_sample(args.sample)
            out = bench.build(
                args.out, workers=args.workers, limit=args.limit, **{k: v for k, v in space.items() if v is not None}
            )
        except ValueError as e:
            parser.error(str(e))
        print(f"NanoBench written to {out}")
        return 0
    if args.samples < 1:
        parser.error("--samples must be a positive integer")
    try:
        table = bench.NanoBench.load(args.table)
    except ValueError as e:
        parser.error(str(e))
    report = bench.verify(args.samples, args.seed, table)
    worst = max(abs(r["difference"]) for r in report)
    for r in report:
        line = f"{'-'.join(r['ops']):40s} seed {r['seed']}: table {r['table']:.4f}  fresh {r['fresh']:.4f}  "
        print(line + f"difference {r['difference']:+.4f}")
    print(f"largest difference {worst:.4f} (tolerance {args.tolerance})")
    return 0 if worst <= args.tolerance else 1


def _csv_file(text: str) -> str:
    """--out: a .csv file, never a notebook (a file named `--out=x.ipynb`, expanded from *.ipynb, would name one)."""
    if not text.lower().endswith(".csv"):
        raise argparse.ArgumentTypeError(f"takes a .csv file (the JSON gradebook goes next to it), not {text!r}")
    return text


def _nb201(args, parser) -> int:
    from . import nb201

    try:
        folder = nb201.download(args.dir, args.mirror)
        table = nb201.load(folder)
    except ValueError as e:
        parser.error(str(e))
    best = table.best()
    call = "NanoBench.load('nb201')" if folder == nb201.CACHE else f"NanoBench.load('nb201', path={str(folder)!r})"
    print(f"NAS-Bench-201's tables are in {folder}: {len(table):,} cells; load them with {call}")
    print(f"best by CIFAR-10 validation: index {best['index']} {best['arch']}, test {best['test_accuracy']:.2%}")
    return 0


def _exercises(args, parser) -> int:
    from course import generate, grading  # the course package, loaded only for these commands

    if args.command == "exercises":
        return generate.run(args)
    if args.timeout <= 0 or args.budget <= 0 or args.jobs < 1 or args.memory < 256:
        parser.error("--timeout and --budget must be positive, --jobs at least 1 and --memory at least 256 (MB)")
    try:
        return grading.main(args) or _teacher(args, [Path(args.out).with_suffix(".json")], args.report)
    except ValueError as e:
        parser.error(str(e))


def _teacher(args, gradebooks, report) -> int:
    """`nanonas report`, and `nanonas grade`'s last step: the CSVs for a platform, the page, the feedback files."""
    from course.report import run

    for path in run(gradebooks, report, args.feedback, args.roster, args.nbgrader):
        print(f"written: {path}")
    return 0


def _report(args, parser) -> int:
    try:
        return _teacher(args, args.gradebooks, args.out or True)
    except ValueError as e:
        parser.error(str(e))


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {
        "search": _search,
        "bench": _bench,
        "nb201": _nb201,
        "grade": _exercises,
        "exercises": _exercises,
        "report": _report,
    }
    try:
        return commands[args.command](args, parser)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
