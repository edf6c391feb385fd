"""Speed and memory of the align and project steps on real parallel text (10k and 100k pairs by default).

Data: the Europarl bitexts in ../shared/data/parallel_europarl (en-de, then en-es, then en-it: 111,558 real pairs
in all; the first N are taken, so 100k pairs mix three target languages, which changes nothing for speed). The
English side gets its entities from a CRF trained on ../shared/data/conll2003_en/train.txt (trained once and cached
with the tagged text in ``--cache``), and the pairs are imported with ``xner import parallel``.

For each size, each step runs as its own child process (wall and CPU seconds, peak RSS of that child alone):

* **bare eflomal**: eflomal's Python API on the same tokenised lines, writing its forward and reverse links: the
  floor for any eflomal-based align step;
* **xner align** (eflomal, grow-diag-final-and): reads the pairs from SQLite, aligns, symmetrises, stores the run;
  the figure to compare is its wall time over bare eflomal's;
* **xner project** ``heuristic`` / ``ngram``, ``--workers 1`` and ``--workers 2``: reads pairs, entities and links
  from SQLite in shards, projects (in a pool of worker processes with 2), stores the run (pairs/s from the command's
  own timing; peak RSS summed over the process tree; memory must stay flat from 10k to 100k pairs);
* **engine only**: the same projection with the pairs already in memory (no database), one process: the figure
  to compare with the reference heuristic in plain Python (about 100k pairs/s on this machine).

Usage::

    .venv/bin/python benchmarks/pipeline_speed.py                  # 10k and 100k pairs (about 20 min on 2 cores)
    .venv/bin/python benchmarks/pipeline_speed.py --sizes 10k      # a few minutes
    .venv/bin/python benchmarks/pipeline_speed.py --sizes 100k --project-only bench.db   # projection steps only

Writes benchmarks/results/pipeline_speed.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's xner, whatever the venv installed
from common import (
    DEFAULT_DATA,
    REPO,
    RESULTS,
    Child,
    command_line,
    machine,
    run_child,
    write_results,
    xner_command,
)

BITEXTS = ("en-de", "en-es", "en-it")
METHODS = ("heuristic", "ngram")
WORKERS = (1, 2)  # xner project --workers


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def source_tagger(data: Path, cache: Path) -> Path:
    """A CRF trained on the English CoNLL-2003 train set (PER/ORG/LOC), saved once in the cache."""
    folder = cache / "crf-conll2003-en"
    if (folder / "xner-tagger.json").exists():
        return folder
    from xner.formats.conll import read_conll
    from xner.learning import TAGGERS

    started = time.perf_counter()
    tagger = TAGGERS.create("crf")
    tagger.fit(list(read_conll(data / "conll2003_en" / "train.txt")))
    tagger.save(folder)
    print(f"trained the English CRF in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return folder


def tagged_bitext(data: Path, cache: Path, size: int) -> tuple[Path, Path]:
    """The first ``size`` Europarl pairs: English as CoNLL with predicted entities, the target as plain text."""
    src_path, tgt_path = cache / f"europarl-{size}.en.conll", cache / f"europarl-{size}.tgt.txt"
    if src_path.exists() and tgt_path.exists():
        return src_path, tgt_path
    from xner.formats.parallel import iter_bitext
    from xner.learning import load_tagger
    from xner.schemes import spans_to_tags

    pairs = []
    for bitext in BITEXTS:
        language = bitext.split("-")[1]
        folder = data / "parallel_europarl" / bitext
        pairs += list(iter_bitext(folder / "train.en", folder / f"train.{language}", pretokenized=True))
    if len(pairs) < size:
        raise SystemExit(f"only {len(pairs)} Europarl pairs available, {size} asked")
    pairs = pairs[:size]
    tagger = load_tagger(source_tagger(data, cache))
    started = time.perf_counter()
    spans = tagger.predict([src for src, _ in pairs])
    print(f"tagged {size} English sentences in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with src_path.with_suffix(".tmp").open("w", encoding="utf-8") as src_out, tgt_path.open("w") as tgt_out:
        for (src, tgt), sentence_spans in zip(pairs, spans, strict=True):
            tags = spans_to_tags(sentence_spans, len(src))
            src_out.write("".join(f"{token}\t{tag}\n" for token, tag in zip(src, tags, strict=True)) + "\n")
            tgt_out.write(" ".join(tgt) + "\n")
    src_path.with_suffix(".tmp").replace(src_path)
    return src_path, tgt_path


BARE_EFLOMAL = """
import sys, eflomal
src, tgt, fwd, rev = sys.argv[1:5]
with open(src, encoding="utf-8") as s, open(tgt, encoding="utf-8") as t:
    src_lines, tgt_lines = s.readlines(), t.readlines()
eflomal.Aligner().align(src_lines, tgt_lines, links_filename_fwd=fwd, links_filename_rev=rev)
"""


def engine_only(db: str, method: str) -> None:
    """(Child process) project every pair of corpus ``bench`` already in memory; print pairs/s as JSON."""
    from xner.engine.project import PROJECTORS
    from xner.services.corpora import get_corpus
    from xner.services.pairs import get_alignment_run, iter_pairs
    from xner.store.db import open_store
    from xner.types import Sentence

    store = open_store(db)
    with store.session() as session:
        corpus = get_corpus(session, "bench")
        run = get_alignment_run(session, corpus, None).id
        pairs = [
            (Sentence(p.src_tokens, p.src_spans), p.tgt_tokens, p.alignment.links)
            for p in iter_pairs(session, corpus, alignment_run=run)
        ]
    projector = PROJECTORS.create(method)
    started = time.perf_counter()
    spans = sum(len(projector.project(src, tgt, links)) for src, tgt, links in pairs)
    seconds = time.perf_counter() - started
    print(json.dumps({"pairs": len(pairs), "spans": spans, "seconds": round(seconds, 3)}))


def checkout_path() -> str:
    """``PYTHONPATH`` for a child: this checkout first (the virtualenv may be shared with another checkout, whose
    editable install would otherwise win)."""
    import os

    return os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])


def run_sampled(command: list[str], workdir: Path, *, interval_s: float = 0.1) -> Child:
    """Run ``command`` like :func:`common.run_child`, with its peak memory sampled over the whole process tree every
    ``interval_s``: the sum of the PSS of the process and its workers (the RSS with the pages that forked processes
    share divided among them, so that none is counted twice). CPU seconds include the reaped workers."""
    import contextlib
    import os
    import subprocess
    import threading

    import psutil

    stdout_path, stderr_path = workdir / "child.out", workdir / "child.err"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": checkout_path()}
    env.pop("XNER_DB", None)
    peak = [0]
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        running = threading.Event()
        running.set()

        def sample() -> None:
            root = psutil.Process(process.pid)
            while running.is_set():
                total = 0
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    return
                for member in tree:
                    with contextlib.suppress(psutil.Error):
                        total += member.memory_full_info().pss  # shared (forked) pages counted once
                peak[0] = max(peak[0], total)
                time.sleep(interval_s)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        running.clear()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    text = stdout_path.read_text(encoding="utf-8", errors="replace")
    report: dict = {}
    if process.returncode == 0:
        try:
            report = json.loads(text)
        except ValueError:  # a program that prints before its JSON: its last line
            try:
                report = json.loads(text.strip().splitlines()[-1])
            except (ValueError, IndexError):
                report = {"stdout": text[-2000:]}
    return Child(
        command=command,
        returncode=process.returncode,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=peak[0] / 2**20,
        report=report,
        stderr_tail=stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:],
    )


def child_figures(child: Child, pairs: int, seconds: float | None = None) -> dict:
    if child.returncode != 0:
        raise SystemExit(f"failed ({shlex.join(child.command)}):\n{child.stderr_tail}")
    own = seconds if seconds is not None else child.wall_seconds
    return {
        "wall_seconds": round(child.wall_seconds, 2),
        "cpu_seconds": round(child.cpu_seconds, 2),
        "seconds": round(own, 3),
        "pairs_per_second": round(pairs / own) if own else None,
        "peak_rss_mib": round(child.peak_rss_mib, 1),
    }


def measure(size: int, data: Path, cache: Path, workdir: Path) -> dict:
    src_conll, tgt_text = tagged_bitext(data, cache, size)
    db = f"sqlite:///{workdir / f'bench-{size}.db'}"
    db_json = ["--db", db, "--json"]
    xner = xner_command()
    files = [str(src_conll), str(tgt_text), "--src-format", "conll", "--tgt-format", "text", "--pretokenized"]
    files += ["--tgt-lang", "xx"]
    imported = run_sampled([*xner, "import", "parallel", *files, "--corpus", "bench", *db_json], workdir)
    result = {"pairs": size, "import": child_figures(imported, size, imported.report.get("seconds"))}
    # bare eflomal reads the same tokens, one sentence per line
    src_lines = workdir / "src.txt"
    with src_conll.open(encoding="utf-8") as conll, src_lines.open("w", encoding="utf-8") as out:
        tokens: list[str] = []
        for line in conll:
            if line.strip():
                tokens.append(line.split("\t")[0])
            else:
                out.write(" ".join(tokens) + "\n")
                tokens = []
    bare = run_child(
        [sys.executable, "-c", BARE_EFLOMAL, str(src_lines), str(tgt_text), str(workdir / "f"), str(workdir / "r")],
        workdir,
    )
    result["bare_eflomal"] = child_figures(bare, size)
    aligned = run_sampled([*xner, "align", "--corpus", "bench", *db_json], workdir)
    result["xner_align"] = child_figures(aligned, size)
    result["align_over_bare"] = round(aligned.wall_seconds / bare.wall_seconds, 3)
    result.update(measure_projection(size, db, workdir))
    print(f"{size} pairs done", file=sys.stderr)
    return result


def measure_projection(size: int, db: str, workdir: Path) -> dict:
    """``xner project`` with 1 and 2 workers and the engine alone, for each method, on the aligned corpus ``bench``
    of database ``db`` (peak RSS summed over the process tree: a pool's workers count)."""
    result: dict = {}
    xner = xner_command()
    for method in METHODS:
        for workers in WORKERS:
            command = [*xner, "project", "--corpus", "bench", "--method", method, "--workers", str(workers)]
            projected = run_sampled([*command, "--db", db, "--json"], workdir)
            key = f"project_{method}_w{workers}"
            result[key] = child_figures(projected, size, projected.report.get("seconds"))
            result[key]["entities"] = projected.report.get("entities")
        engine = run_sampled([sys.executable, __file__, "--engine-only", db, method], workdir)
        result[f"engine_{method}"] = child_figures(engine, size, engine.report.get("seconds"))
    return result


def markdown(results: list[dict]) -> str:
    lines = [
        "| pairs | step | pairs/s | wall s | peak RSS MiB |",
        "|---:|---|---:|---:|---:|",
    ]
    steps = [("bare_eflomal", "bare eflomal"), ("xner_align", "xner align (eflomal, gdfa)")]
    for method in METHODS:
        steps += [(f"project_{method}_w{w}", f"xner project {method} --workers {w}") for w in WORKERS]
        steps += [(f"engine_{method}", f"{method}, engine only")]
    for result in results:
        for key, name in steps:
            if key not in result:
                continue
            figures = result[key]
            lines.append(
                f"| {result['pairs']:,} | {name} | {figures['pairs_per_second']:,} | {figures['wall_seconds']} "
                f"| {figures['peak_rss_mib']} |"
            )
        if "align_over_bare" in result:
            lines.append(
                f"| {result['pairs']:,} | xner align / bare eflomal (wall) | {result['align_over_bare']}× | | |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--engine-only"]:
        engine_only(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated pair counts (k/M suffixes)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache")
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: a temp folder, removed)")
    parser.add_argument("--out", type=Path, default=RESULTS / "pipeline_speed.json")
    parser.add_argument(
        "--project-only",
        type=Path,
        metavar="DB",
        help="only the projection steps, on this SQLite file holding the aligned corpus 'bench' (its size: --sizes)",
    )
    args = parser.parse_args(argv)
    if not (args.data / "parallel_europarl").is_dir():
        print(f"skipped: {args.data / 'parallel_europarl'} is missing (the shared data sits beside the checkout)")
        return 0
    args.cache.mkdir(parents=True, exist_ok=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xner-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.project_only:
            size = parse_size(args.sizes.split(",")[0])
            db = f"sqlite:///{args.project_only.resolve()}"
            results = [{"pairs": size, **measure_projection(size, db, workdir)}]
        else:
            results = [measure(parse_size(size), args.data, args.cache, workdir) for size in args.sizes.split(",")]
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    payload = {
        "benchmark": "pipeline_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "results": results,
    }
    if len(results) > 1:
        payload["projection_memory_ratio"] = {
            f"{method}_w{w}": round(
                results[-1][f"project_{method}_w{w}"]["peak_rss_mib"]
                / results[0][f"project_{method}_w{w}"]["peak_rss_mib"],
                3,
            )
            for method in METHODS
            for w in WORKERS
        }
    write_results(args.out, payload)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
