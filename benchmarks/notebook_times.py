"""How long each lesson takes to run top to bottom (the course promises at most 90 s on 2 cores).

python benchmarks/notebook_times.py                 # every notebook in notebooks/
python benchmarks/notebook_times.py notebooks/03_evolution.ipynb
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def main():
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print("| notebook | seconds |\n|---|---|")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        where = {"metadata": {"path": str(path.parent)}}
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources=where)
        client.execute()
        print(f"| {path.name} | {time.perf_counter() - start:.1f} |", flush=True)


if __name__ == "__main__":
    main()
