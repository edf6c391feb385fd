"""Peak memory of ``xner align`` (eflomal) as the corpus grows: xner's own process, apart from eflomal's C sampler.

Data: the Europarl bitexts in ../shared/data/parallel_europarl (en-de, en-es, en-it: 111,558 real pairs), repeated
as often as a size needs (300k pairs: the text 2.7 times; alignment memory depends on the number of pairs and the
vocabulary, not on the text being new). Each size is imported with ``xner import parallel --pretokenized`` into a
fresh SQLite database, then ``xner align`` runs in a child process that reports, when it ends:

* ``xner_peak_rss_mib``: the peak RSS of xner's own process (``getrusage(RUSAGE_SELF)``): the figure that has to
  stay flat (issue 19: <= 1.5 GiB at 1M pairs);
* ``eflomal_peak_rss_mib``: the peak RSS of its children (``RUSAGE_CHILDREN``: eflomal's C sampler, which holds
  the corpus by design; Linux carries the parent's RSS at fork into it, so it is never below xner's own);
* wall seconds, and the run's pairs and links.

Memory does not depend on eflomal's sampling schedule, so the default is a short one (``-o n_samplers=1
-o rel_iterations=0.1``); give other options with ``-o``.

Usage::

    .venv/bin/python benchmarks/align_memory.py                    # 100k and 300k pairs (about 10 min on 2 cores)
    .venv/bin/python benchmarks/align_memory.py --sizes 1m         # 1M pairs

Writes benchmarks/results/align_memory.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, REPO, RESULTS, command_line, machine, write_results

BITEXTS = ("en-de", "en-es", "en-it")
QUICK = ["-o", "n_samplers=1", "-o", "rel_iterations=0.1"]

# Runs ``xner`` in this process, then prints its own and its children's peak RSS as the last line of stderr.
_MEASURED = """
import json, resource, sys
from xner.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"xner_peak_rss_mib": round(own, 1), "eflomal_peak_rss_mib": round(children, 1)}),
          file=sys.stderr)
"""


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def bitext(data: Path, size: int, folder: Path) -> tuple[Path, Path]:
    """The first ``size`` pairs of the Europarl bitexts, repeated as needed, as two tokenised text files."""
    pairs: list[tuple[str, str]] = []
    for name in BITEXTS:
        language = name.split("-")[1]
        source = data / "parallel_europarl" / name
        with open(source / "train.en", encoding="utf-8") as src, open(source / f"train.{language}") as tgt:
            pairs += [(s, t) for s, t in zip(src, tgt, strict=True) if s.strip() and t.strip()]
    paths = folder / f"europarl-{size}.en", folder / f"europarl-{size}.xx"
    with open(paths[0], "w", encoding="utf-8") as src_out, open(paths[1], "w", encoding="utf-8") as tgt_out:
        for src, tgt in islice(cycle(pairs), size):
            src_out.write(src)
            tgt_out.write(tgt)
    return paths


def measure(size: int, data: Path, work: Path, options: list[str]) -> dict:
    src, tgt = bitext(data, size, work)
    db = f"sqlite:///{work / f'align-{size}.db'}"
    files = [str(src), str(tgt), "--corpus", "bench", "--tgt-lang", "xx", "--pretokenized", "--db", db]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's xner, whatever the environment installed
    subprocess.run(
        [sys.executable, "-m", "xner", "import", "parallel", *files], check=True, capture_output=True, env=env
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "align", "--corpus", "bench", *options, "--db", db, "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"xner align failed at {size} pairs:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    memory = json.loads(done.stderr.strip().splitlines()[-1])
    return {"pairs": size, "links": report["links"], "wall_seconds": round(wall, 1), **memory}


def markdown(results: list[dict]) -> str:
    lines = ["| pairs | xner's own peak RSS MiB | eflomal's peak RSS MiB | wall s |", "|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['pairs']:,} | {r['xner_peak_rss_mib']} | {r['eflomal_peak_rss_mib']} | {r['wall_seconds']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100k,300k", help="comma-separated pair counts (100k, 1m)")
    parser.add_argument("-o", "--option", action="append", default=[], help="eflomal option NAME=VALUE")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "align_memory.json")
    args = parser.parse_args(argv)
    options = [item for option in args.option for item in ("-o", option)] or QUICK
    results = []
    with tempfile.TemporaryDirectory(prefix="xner-align-memory-") as work:
        for size in map(parse_size, args.sizes.split(",")):
            results.append(measure(size, args.data, Path(work), options))
            print(json.dumps(results[-1]), file=sys.stderr)
    payload = {
        "benchmark": "align_memory",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "options": options,
        "results": results,
    }
    write_results(args.out, payload)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
