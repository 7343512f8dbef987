"""How well a latency lookup table predicts measured latency, over all 625 architectures, per device profile.

For each profile (nanonas.hardware: phone-like = 1 thread, batch 1; server-like = every core, batch 256; cuda when
there is a GPU), this script
1. builds the lookup table alone, as a learner would (`build_table`, timed: the issue asks for <= 60 s);
2. times the table's parts and the 625 whole networks in the same shuffled rounds (`table_and_networks`), so the
   load of the moment hits both alike, and scores the table's prediction (stem + ops + head) against the measured
   latency: Spearman's rho and the mean absolute percentage error (MAPE);
3. scores the baselines the same way: MACs and parameters (rho as they are; MAPE after the least-squares line
   through the measured latencies, which has seen the answers), the standalone table of step 1, and NanoBench's
   own latency column for the profile's batch (measured when the table was built, one thread);
4. runs the search under a latency budget (the fastest BUDGET_SHARE of live architectures, by prediction) on the
   digits NanoBench's accuracy, and re-measures the winners on every profile.
A control profile, server-like-1-thread (batch 256 on one thread), separates the batch's effect from the threads'
(and, on a busy machine, stays measurable when a profile on every core is not).

nice -n 10 .venv/bin/python benchmarks/hardware.py     # hardware.{json,md}: 44 min on the busy 2-core machine
nice -n 10 .venv/bin/python benchmarks/hardware.py --fused --profiles phone-like   # hardware.fused.{json,md}
    the table (parts timed as written) against the networks as written and with BatchNorm folded into the convs
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from nanonas import hardware
from nanonas.bench import NanoBench
from nanonas.core import OPERATIONS, build_model

RESULTS = Path(__file__).resolve().parent / "results"
BUDGET_SHARE = 0.25  # the budget admits the fastest quarter of live architectures on that device (by prediction)
EXTRA = {  # not a device, a control: server-like's batch on one thread separates the batch's effect from the threads'
    "server-like-1-thread": hardware.Profile("server-like-1-thread", batch=256, threads=1, about="batch 256, 1 core")
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=[*hardware.profiles(), *EXTRA])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="measure only the first N architectures (a trial)")
    parser.add_argument("--fused", action="store_true", help="instead: the table vs networks as written and fused")
    parser.add_argument("--out", type=Path, default=None, help="default: results/hardware.json (.fused.json)")
    args = parser.parse_args()
    args.out = args.out or RESULTS / ("hardware.fused.json" if args.fused else "hardware.json")
    records = list(NanoBench.load("digits"))[: args.limit]
    if args.fused:
        return fusion(args, records)
    dnas = [r["dna"] for r in records]
    out = {"meta": {"command": "nice -n 10 .venv/bin/python benchmarks/hardware.py", "architectures": len(dnas)}}
    out["meta"] |= {"rounds": args.rounds, "repeats": args.repeats, "budget_share": BUDGET_SHARE, "profiles": {}}
    tables = {}
    for name in args.profiles:
        profile, load = EXTRA.get(name, name), os.getloadavg()[0]
        alone = hardware.build_table(profile)
        start = time.perf_counter()
        table, measured = hardware.table_and_networks(dnas, profile, rounds=args.rounds, repeats=args.repeats)
        seconds = time.perf_counter() - start
        tables[name] = table
        batch = hardware.get_profile(profile).batch
        column = {1: "latency_b1_ms", 256: "latency_b256_ms"}.get(batch)
        predictors = {
            "lookup table (same rounds)": [table.predict(d) for d in dnas],
            "lookup table (built alone)": [alone.predict(d) for d in dnas],
            "MACs (line fitted to measured)": hardware.calibrated([r["macs"] for r in records], measured),
            "params (line fitted to measured)": hardware.calibrated([r["params"] for r in records], measured),
        }
        if column:
            predictors[f"NanoBench {column} (1 thread, build time)"] = [r[column] for r in records]
        figures = {k: hardware.prediction_error(v, measured) for k, v in predictors.items()}
        budget = hardware.latency_budget(table, records, BUDGET_SHARE)
        best = hardware.best_under(table, records, budget)
        out["meta"]["profiles"][name] = {
            "table": table.as_dict(),
            "table_alone": alone.as_dict(),
            "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "seconds_networks": round(seconds, 1),
            "figures": figures,
            "budget_ms": budget,
            "best_under_budget": {"dna": best["dna"], "val_accuracy": best["val_accuracy"]},
        }
        out.setdefault("rows", [{"dna": d, "macs": r["macs"], "params": r["params"]} for d, r in zip(dnas, records)])
        for row, m, p in zip(out["rows"], measured, predictors["lookup table (same rounds)"]):
            row[f"{name}_measured_ms"], row[f"{name}_predicted_ms"] = m, p
        print(
            f"{name}: table alone {alone.meta['seconds']} s ({alone.meta['rounds']} rounds); networks {seconds:.0f} s"
        )
        for k, v in figures.items():
            print(f"  {k:45s} rho {v['spearman']:.3f}  MAPE {v['mape']:.1f}%")
        print(f"  best under {budget:.3f} ms: {best['dna']} ({best['val_accuracy']:.4f})")
        save(out, args.out)  # after each profile: a long run that stops keeps what it measured
    winners = {n: p["best_under_budget"]["dna"] for n, p in out["meta"]["profiles"].items()}
    for name in args.profiles:  # does each winner really fit each device's budget? measured, not predicted
        ms = hardware.measure_networks(list(winners.values()), EXTRA.get(name, name), rounds=15, repeats=3)
        out["meta"]["profiles"][name]["winners_measured_ms"] = dict(zip(winners, ms))
    print(save(out, args.out))


def fusion(args, records) -> None:
    """The table (parts timed as written) against the networks as written and with BatchNorm folded into the
    convolutions (`hardware.fuse_conv_bn`, what inference runtimes do), all three timed in the same rounds."""
    dnas, out = [r["dna"] for r in records], {}
    for name in args.profiles:
        profile, load = EXTRA.get(name, name), os.getloadavg()[0]
        todo = hardware.parts()
        for i, dna in enumerate(dnas):
            model = build_model(dna)
            todo[("written", i)], todo[("fused", i)] = (model, (1, 8, 8)), (hardware.fuse_conv_bn(model), (1, 8, 8))
        start = time.perf_counter()
        ms, _ = hardware.measure(todo, profile, args.rounds, args.repeats)
        table = hardware.LatencyTable(name, ms["stem"], {op: ms[f"op:{op}"] for op in OPERATIONS}, ms["head"])
        predicted = [table.predict(d) for d in dnas]
        written, fused = ([ms[kind, i] for i in range(len(dnas))] for kind in ("written", "fused"))
        out[name] = {
            "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "seconds": round(time.perf_counter() - start, 1),
            "table": table.as_dict(),
            "as written": hardware.prediction_error(predicted, written),
            "fused": hardware.prediction_error(predicted, fused),
            "median predicted / measured, as written": float(np.median(np.divide(predicted, written))),
            "median predicted / measured, fused": float(np.median(np.divide(predicted, fused))),
            "median fused / as written": float(np.median(np.divide(fused, written))),
        }
        print(name, json.dumps({k: v for k, v in out[name].items() if k != "table"}, indent=1))
    meta = {"command": "nice -n 10 .venv/bin/python benchmarks/hardware.py --fused", "architectures": len(dnas)}
    meta |= {"rounds": args.rounds, "repeats": args.repeats, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.out.write_text(json.dumps({"meta": meta, "profiles": out}, indent=1))
    lines = [
        "# The lookup table against a runtime that fuses (benchmarks/hardware.py --fused)",
        "",
        f"`{meta['command']}`, {meta['date']}: the table's parts (timed as written) and {len(dnas)} networks, as",
        "written and with each BatchNorm folded into its convolution, all timed in the same shuffled rounds",
        f"({args.rounds} rounds x {args.repeats} calls, median, wall clock).",
        "",
        "| profile | load | rho, as written | MAPE, as written | rho, fused | MAPE, fused | predicted/measured, as "
        "written | predicted/measured, fused | fused/as written |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p in out.items():
        lines.append(
            f"| {name} | {p['load_before']} | {p['as written']['spearman']:.3f} | {p['as written']['mape']:.1f} | "
            f"{p['fused']['spearman']:.3f} | {p['fused']['mape']:.1f} | "
            f"{p['median predicted / measured, as written']:.2f} | {p['median predicted / measured, fused']:.2f} | "
            f"{p['median fused / as written']:.2f} |"
        )
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")


def save(out: dict, path: Path) -> str:
    out["meta"]["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    path.with_suffix(".md").write_text(text := report(out))
    return text


def report(out: dict) -> str:
    meta = out["meta"]
    lines = [
        "# Latency lookup table vs measured latency (benchmarks/hardware.py)",
        "",
        f"`{meta['command']}`, {meta['date']}: {meta['architectures']} architectures of the digits space, each timed",
        f"as a whole network and predicted as stem + ops + head; {meta['rounds']} shuffled rounds x {meta['repeats']}",
        "calls, median (wall clock). The table and the networks are timed in the same rounds (a shared machine: the",
        "load at the time is given; ratios within one run are what to read). MACs and params: Spearman as they are,",
        "MAPE after the least-squares line through the measured latencies (it has seen the answers).",
        "",
    ]
    for name, p in meta["profiles"].items():
        t = p["table"]
        lines += [
            f"## {name}: batch {t['meta']['batch']}, {t['meta']['threads']} thread(s), {t['meta']['device']}",
            "",
            f"Load average (1 min) {p['load_before']} before, {p['load_after']} after; table built alone in "
            f"{p['table_alone']['meta']['seconds']} s; the 625 networks and the parts in {p['seconds_networks']} s.",
            "",
            "| predictor | Spearman rho | MAPE (%) |",
            "|---|---|---|",
        ]
        lines += [f"| {k} | {v['spearman']:.3f} | {v['mape']:.1f} |" for k, v in p["figures"].items()]
        parts = {"stem": t["stem"], **t["ops"], "head": t["head"]}
        lines += ["", "Table (ms): " + ", ".join(f"{k} {v:.4g}" for k, v in parts.items()), ""]
        best = p["best_under_budget"]
        lines += [
            f"Best under the budget ({100 * meta['budget_share']:.0f}% of live architectures fit: "
            f"{p['budget_ms']:.4g} ms predicted): {best['dna']}, val accuracy {best['val_accuracy']:.4f}.",
            "Winners of every profile, measured here: "
            + ", ".join(f"{k}'s {v:.4g} ms" for k, v in p.get("winners_measured_ms", {}).items()),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
