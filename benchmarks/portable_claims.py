"""Do the live-training notebooks say only what holds on any machine? Run them as learners on other CPUs would.

Each notebook that trains in the kernel (WATCH below: tests/test_claims.py's LIVE_RUNS but those in TIMES_ONLY) runs
under nbval and the claim guard, with `make test`'s pytest options, once per configuration:

- "default": this machine as it is (its best vector kernels, torch's default thread count: a learner's JupyterLab);
- "avx2": `ATEN_CPU_CAPABILITY=avx2`, the kernels most laptops and desktops have;
- "portable": `ATEN_CPU_CAPABILITY=default`, PyTorch's portable kernels (no vector extensions);
- "1 thread" and "4 threads": `OMP_NUM_THREADS`, which sets torch's thread count ("1 thread" is how `make test`
  runs every notebook: one thread per pytest worker).

For each it records what passed and failed (cells, NBVAL_CHECK_OUTPUT cells, claims), every claim's value, and the
live values named in WATCH (the derived architectures and ranks the lessons' sentences are about), then lists every
value that moves between configurations. Slow (a few minutes per configuration on 2 cores): run one configuration
at a time; each run merges into the results file.

    python benchmarks/portable_claims.py                       # every configuration
    python benchmarks/portable_claims.py --configs avx2 portable
    python benchmarks/portable_claims.py --report              # rewrite the .md from the .json, running nothing

Writes benchmarks/results/portable_claims.json and .md.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.test_claims import LIVE_RUNS  # noqa: E402  (the notebooks whose cells hold live runs)

RESULTS = ROOT / "benchmarks" / "results" / "portable_claims.json"
CONFIGS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "portable": {"ATEN_CPU_CAPABILITY": "default"},
    "1 thread": {"OMP_NUM_THREADS": "1"},
    "4 threads": {"OMP_NUM_THREADS": "4"},
}
WATCH = {  # what each live run returned: the values its sentences are about, printed by its cells
    "00_welcome.ipynb": ["model.dna", "round(100 * model.search.test_accuracy, 2)"],
    "03_evolution.ipynb": [
        "r.dna",
        "bench.rank(r.dna)",
        "round(100 * r.val_accuracy, 2)",
        "round(100 * r.test_accuracy, 2)",
        "[d.dna for d in darts]",
        "round(darts_regret, 2)",
        "budget",
    ],
    "04_darts.ipynb": [
        "slow.dna",
        "bench.rank(slow.dna)",
        "search.dna",
        "bench.rank(search.dna)",
        "{k: round(float(v), 3) for k, v in moved.items()}",
    ],
    "07b_transfer.ipynb": ["check['dna']", "round(100 * again, 2)"],
    "08c_cell_supernet.ipynb": ["history['derived'][-1]", "float(gap)", "round(float(live_tau[False]), 3)"],
}
TIMES_ONLY = {"07c_hardware_aware.ipynb"}  # live runs that time this machine and train nothing
assert set(WATCH) == set(LIVE_RUNS) - TIMES_ONLY, "every notebook that trains in the kernel is watched"


def probe(env: dict) -> dict:
    """The kernels and thread count torch picks under `env`."""
    code = "import torch; print(torch.backends.cpu.get_cpu_capability(), torch.get_num_threads(), torch.__version__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    capability, threads, version = out.stdout.split()
    return {"capability": capability, "threads": int(threads), "torch": version}


def run(name: str, notebook: str) -> dict:
    """One notebook in one configuration, under nbval and the claim guard: what failed, what each claim computed."""
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS")}
    env.update(CONFIGS[name])
    with tempfile.TemporaryDirectory() as tmp:
        log, junit = Path(tmp) / "claims.jsonl", Path(tmp) / "junit.xml"
        env.update(NANONAS_CLAIMS_LOG=str(log), NANONAS_CLAIMS_WATCH=json.dumps(WATCH), PYTHONPATH=str(ROOT))
        start = time.perf_counter()
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env"]
        command += ["--nbval-cell-timeout=14400", f"--junitxml={junit}", f"notebooks/{notebook}"]  # values, not speed
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        failed, passed = [], 0
        for case in ET.parse(junit).iter("testcase"):
            problem = case.find("failure") if case.find("failure") is not None else case.find("error")
            if problem is None:
                passed += case.find("skipped") is None
            else:
                message = (problem.get("message") or problem.text or "").strip()
                failed.append({"test": case.get("name"), "message": message[:2000]})
        values = json.loads(log.read_text()) if log.exists() else {}  # one line: this notebook's
        values.pop("notebook", None)
    return {"wall_s": round(wall, 1), "passed": passed, "failed": failed, "values": values}


def moved(configs: dict) -> list[dict]:
    """Every claim, live relation and watched value that is not the same in every configuration that computed it."""
    found = []
    for notebook in sorted({n for c in configs.values() for n in c["notebooks"]}):
        ran = {name: c["notebooks"][notebook]["values"] for name, c in configs.items() if notebook in c["notebooks"]}
        for kind in ("claims", "live", "watch"):
            for expr in sorted({e for v in ran.values() for e in v.get(kind, {})}):
                seen = {name: v[kind][expr] for name, v in ran.items() if v.get(kind, {}).get(expr) is not None}
                if len({json.dumps(v) for v in seen.values()}) > 1:
                    found.append({"notebook": notebook, "kind": kind, "expression": expr, "values": seen})
    return found


def report(results: dict) -> str:
    """The results as markdown: each configuration's outcome, the failures, and every value that moved."""
    configs = results["configs"]
    lines = [
        "# Live-training notebooks on other CPUs (`python benchmarks/portable_claims.py`)",
        "",
        f"Machine: {results['meta']['machine']}; torch {results['meta']['torch']}. Each notebook ran under nbval and",
        "the claim guard with `make test`'s options (`make test` itself runs every notebook on 1 thread); times are on",
        "a machine shared with other jobs.",
        "",
        "| configuration | environment | kernels | torch threads | notebook | passed | failed | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in configs.items():
        env = " ".join(f"{k}={v}" for k, v in c["env"].items()) or "(as is)"
        for notebook, r in c["notebooks"].items():
            lines.append(
                f"| {name} | `{env}` | {c['capability']} | {c['threads']} | {notebook} | {r['passed']} | "
                f"{len(r['failed'])} | {r['wall_s']:.0f} |"
            )
    missing = [f"{c} × {n}" for c in CONFIGS for n in WATCH if n not in configs.get(c, {}).get("notebooks", {})]
    lines += ["", "Not run yet: " + ", ".join(missing) + "." if missing else "Every configuration ran every notebook."]
    failures = [(name, n, f) for name, c in configs.items() for n, r in c["notebooks"].items() for f in r["failed"]]
    lines += ["", "## Failures", ""]
    for name, n, f in failures:
        message = " ".join(re.sub(r"(#x1B|\x1b)\[[0-9;]*m", "", f["message"]).split())  # no terminal colours
        timed_out = any("Timeout" in g["message"] for g in configs[name]["notebooks"][n]["failed"])
        why = " (a cell ran past nbval's time limit on the shared machine: no verdict)" if timed_out else ""
        lines.append(f"- {name}, {n} `{f['test']}`{why}: {message[:300]}")
    lines += [] if failures else ["None."]
    lines += ["", "## Values that move between configurations", ""]
    for m in results["moved"]:
        seen = "; ".join(f"{name}: {v}" for name, v in m["values"].items())
        lines.append(f"- {m['notebook']} ({m['kind']}) `{m['expression']}`: {seen}")
    lines += [] if results["moved"] else ["None."]
    lines += ["", "## What each live run returned (WATCH), in every configuration that ran it", ""]
    for notebook, exprs in WATCH.items():
        ran = {name: c["notebooks"][notebook]["values"] for name, c in configs.items() if notebook in c["notebooks"]}
        for expr in exprs:
            seen = "; ".join(f"{name}: {v.get('watch', {}).get(expr)}" for name, v in ran.items())
            lines.append(f"- {notebook} `{expr}`: {seen or 'not run'}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--notebooks", nargs="+", choices=list(WATCH), default=list(WATCH))
    parser.add_argument("--report", action="store_true", help="run nothing: list what moved in the recorded runs again")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"configs": {}}
    for name in [] if args.report else args.configs:
        env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS")}
        config = results["configs"].setdefault(name, {"notebooks": {}})
        config.update(env=CONFIGS[name], **probe({**env, **CONFIGS[name]}))
        for notebook in args.notebooks:
            print(f"{name}: {notebook} ...", end=" ", flush=True)
            r = config["notebooks"][notebook] = run(name, notebook)
            print(f"{r['passed']} passed, {len(r['failed'])} failed in {r['wall_s']:.0f} s", flush=True)
            for f in r["failed"]:
                print(f"  FAILED {f['test']}: {' '.join(f['message'].split())[:300]}", flush=True)
            results["meta"] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "torch": config["torch"]}
            results["moved"] = moved(results["configs"])
            RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if results["configs"]:
        results["moved"] = moved(results["configs"])
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    RESULTS.with_suffix(".md").write_text(report(results))
    print(report(results))


if __name__ == "__main__":
    main()
