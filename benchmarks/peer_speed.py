"""xner against the peer (Easy-Label-Projection) on identical inputs: the engine in memory, and end to end.

Inputs: the first N Europarl pairs of ../shared/data/parallel_europarl (English entities from a CRF trained on
CoNLL-2003, as in ``pipeline_speed.py``), imported into a SQLite database and aligned once with eflomal
(grow-diag-final-and); the aligned database is cached in ``--cache`` (or given with ``--db``). From it the same
pairs are exported to the files the peer reads: the English tokens with IOB2 tags (``word tag`` per line), the
target tokens (one sentence per line) and the eflomal links (Pharaoh ``i-j``, one line per pair). Pairs the peer
cannot read back identically (an empty side, or a token that its whitespace split would cut) are left out of both.

The peer is extracted from its git snapshot (``--peer-repo``, a bare clone) with ``git archive`` into a temporary
folder outside this repository and runs there, in its own child processes; none of its code enters this repository.
Each figure is the best of ``--repeats`` runs, the tools alternating so that a busy machine weighs on both alike:

* **peer, in memory**: its ``sentences_projection`` over all pairs already loaded by its own data loader, one
  process (the projection step, tags and output lines written);
* **xner engine, in memory**: ``heuristic`` (the peer's algorithm and defaults) ``project_batch`` over the same
  pairs already read from the database, one process (spans with confidence, source entity and evidence links);
* **peer, files → files**: its ``dataset_projection`` (multiprocessing pool over every CPU, batches of 10,000 as its
  command line does), from the three files to its output file, interpreter start included;
* **xner project**, ``--workers 1`` and ``--workers 2``: database → database, the command's own figures.

Peak RSS is sampled over the whole process tree (a pool's workers included, summed). The outputs are compared span
by span (start, end, label) so the speeds compare like with like.

Usage::

    .venv/bin/python benchmarks/peer_speed.py                    # 100k pairs (aligning them takes minutes, once)
    .venv/bin/python benchmarks/peer_speed.py --pairs 10k --repeats 1

Writes benchmarks/results/peer_speed.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's xner, whatever the venv installed
from common import DEFAULT_DATA, REPO, RESULTS, command_line, machine, write_results, xner_command
from pipeline_speed import checkout_path, parse_size, run_sampled, tagged_bitext

PEER_REPO = Path(os.environ.get("XNER_PEER_REPO", "/work/.mirror/ikergarcia1996+Easy-Label-Projection/repo"))
PEER_BATCH = 10_000  # the batch size of the peer's own command line

# Run by the peer's interpreter inside the extracted snapshot (cwd): "memory" or "files", then the three input files.
PEER_DRIVER = """
import json, sys, time
from projection.annotation_proyection import dataset_projection, sentences_projection
from projection.dataset import ProjectionDataloader

mode, src, tgt, talp, out = sys.argv[1:6]
if mode == "files":
    started = time.perf_counter()
    dataset_projection(src, tgt, talp, batch_size=int(sys.argv[6]), output_path=out)
    print(json.dumps({"seconds": time.perf_counter() - started}))
else:
    loader = ProjectionDataloader(source_tsv=src, target_txt=tgt, alignments_talp=talp, batch_size=10**9)
    words, types, ids, targets, links = next(iter(loader))
    started, cpu = time.perf_counter(), time.process_time()
    text = sentences_projection(words, types, ids, targets, links)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with open(out, "w", encoding="utf8") as output:
        output.write(text + "\\n")
    print(json.dumps({"pairs": len(words), "seconds": seconds, "cpu_seconds": cpu}))
"""


def aligned_database(size: int, data: Path, cache: Path) -> Path:
    """The cached database with corpus ``bench``: ``size`` Europarl pairs, imported and aligned (eflomal)."""
    path = cache / f"peer-{size}.db"
    if path.exists():
        return path
    src_conll, tgt_text = tagged_bitext(data, cache, size)
    partial = path.with_suffix(".partial.db")
    partial.unlink(missing_ok=True)
    db = ["--db", f"sqlite:///{partial}"]
    files = [str(src_conll), str(tgt_text), "--src-format", "conll", "--tgt-format", "text", "--pretokenized"]
    for command in (
        ["import", "parallel", *files, "--tgt-lang", "xx", "--corpus", "bench"],
        ["align", "--corpus", "bench"],
    ):
        env = {**os.environ, "PYTHONPATH": checkout_path()}
        subprocess.run([*xner_command(), *command, *db], check=True, stdout=subprocess.DEVNULL, env=env)
    partial.replace(path)
    return path


def read_inputs(db: Path) -> list[tuple[int, object, tuple[str, ...], frozenset]]:
    """Every pair of corpus ``bench`` as the projection reads it (pair id, source sentence, target, links)."""
    from xner.services.corpora import get_corpus
    from xner.services.pairs import get_alignment_run, pair_ranges, read_pair_range
    from xner.store.db import open_store

    store = open_store(f"sqlite:///{db}", upgrade=False)
    with store.session() as session:
        corpus = get_corpus(session, "bench")
        run = get_alignment_run(session, corpus, None).id
        ranges = pair_ranges(session, corpus, size=10**9)
        first, last = ranges[0] if ranges else (0, -1)
        return read_pair_range(session, corpus.id, first, last, alignment_run=run)


def is_readable_by_peer(src: tuple[str, ...], tgt: tuple[str, ...]) -> bool:
    """Whether the peer reads the pair back as these tokens (its readers split lines on whitespace)."""
    return bool(src and tgt) and all(len(token.split()) == 1 for token in (*src, *tgt))


def export(db: Path, folder: Path) -> dict:
    """The peer's three input files and the pair ids they hold (``pairs.json``); returns counts."""
    from xner.schemes import spans_to_tags

    pairs = read_inputs(db)
    kept = [p for p in pairs if is_readable_by_peer(p[1].tokens, p[2])]
    with (
        (folder / "src.tsv").open("w", encoding="utf-8") as src_out,
        (folder / "tgt.txt").open("w", encoding="utf-8") as tgt_out,
        (folder / "links.talp").open("w", encoding="utf-8") as links_out,
    ):
        for _, source, target, links in kept:
            tags = spans_to_tags(source.spans, len(source.tokens))
            src_out.write("".join(f"{w} {t}\n" for w, t in zip(source.tokens, tags, strict=True)) + "\n")
            tgt_out.write(" ".join(target) + "\n")
            links_out.write(" ".join(f"{i}-{j}" for i, j in sorted(links)) + "\n")
    (folder / "pairs.json").write_text(json.dumps([p[0] for p in kept]))
    return {"pairs": len(pairs), "exported": len(kept), "left_out": len(pairs) - len(kept)}


def extract_peer(repo: Path, folder: Path) -> str:
    """The peer's projection code (git archive of its snapshot) unpacked in ``folder``; returns its commit."""
    commit = subprocess.run(
        ["git", "--git-dir", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "--git-dir", str(repo), "archive", "HEAD", "projection", "tokenization"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    (folder / "xner_peer_driver.py").write_text(PEER_DRIVER)
    return commit


def engine_child(db: str, ids_path: str, out_path: str) -> None:
    """(Child process) xner's heuristic over the exported pairs in memory; prints pairs/s as JSON and writes the
    spans (pair id → [[start, end, label], ...]) for the agreement check."""
    from xner.engine.project import PROJECTORS

    wanted = set(json.loads(Path(ids_path).read_text()))
    pairs = [p for p in read_inputs(Path(db)) if p[0] in wanted]
    projector = PROJECTORS.create("heuristic")
    sources, targets, links = [p[1] for p in pairs], [p[2] for p in pairs], [p[3] for p in pairs]
    started, cpu = time.perf_counter(), time.process_time()
    projected = projector.project_batch(sources, targets, links)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    spans = {
        p[0]: [[s.span.start, s.span.end, s.span.label] for s in found]
        for p, found in zip(pairs, projected, strict=True)
    }
    Path(out_path).write_text(json.dumps(spans))
    found = sum(len(v) for v in spans.values())
    print(json.dumps({"pairs": len(pairs), "seconds": seconds, "cpu_seconds": cpu, "spans": found}))


def read_peer_output(path: Path) -> list[list[tuple[int, int, str]]]:
    """The spans of each sentence of the peer's output (``word tag`` lines, blank-line separated), decoded as
    seqeval reads IOB2 (an I- that does not continue its label starts a span)."""
    sentences: list[list[tuple[int, int, str]]] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            tags.append(line.rsplit(" ", 1)[1])
            continue
        if tags:
            sentences.append(decode(tags))
            tags = []
    return sentences


def decode(tags: list[str]) -> list[tuple[int, int, str]]:
    spans, start, label = [], -1, ""
    for k, tag in enumerate([*tags, "O"]):
        continues = tag.startswith("I-") and start >= 0 and tag[2:] == label
        if start >= 0 and not continues:
            spans.append((start, k, label))
            start = -1
        if tag != "O" and not continues:
            start, label = k, tag[2:]
    return spans


def agreement(ids: list[int], xner_spans: dict, peer: list[list[tuple[int, int, str]]]) -> dict:
    """Span-level agreement between xner's and the peer's projections of the same pairs."""
    if len(peer) != len(ids):
        return {"error": f"the peer wrote {len(peer)} sentences for {len(ids)} pairs"}
    ours = [{tuple(s) for s in xner_spans[str(pair_id)]} for pair_id in ids]
    theirs = [set(spans) for spans in peer]
    both = sum(len(a & b) for a, b in zip(ours, theirs, strict=True))
    n_ours, n_theirs = sum(map(len, ours)), sum(map(len, theirs))
    return {
        "xner_spans": n_ours,
        "peer_spans": n_theirs,
        "same_spans": both,
        "span_agreement": round(2 * both / (n_ours + n_theirs), 5) if n_ours + n_theirs else 1.0,
        "pairs_identical": round(sum(a == b for a, b in zip(ours, theirs, strict=True)) / len(ids), 5),
    }


def measure(size: int, args: argparse.Namespace, folder: Path) -> dict:
    db = args.db or aligned_database(size, args.data, args.cache)
    counts = export(db, folder)
    peer_dir = folder / "peer"
    peer_dir.mkdir()
    commit = extract_peer(args.peer_repo, peer_dir)
    inputs = [str(folder / name) for name in ("src.tsv", "tgt.txt", "links.talp")]
    n = counts["exported"]
    runs: dict[str, list[dict]] = {}

    def record(name: str, child, pairs: int, own_seconds: float | None) -> None:
        if child.returncode != 0:
            raise SystemExit(f"{name} failed:\n{child.stderr_tail}")
        seconds = own_seconds if own_seconds is not None else child.wall_seconds
        runs.setdefault(name, []).append(
            {
                "seconds": round(seconds, 3),
                "wall_seconds": round(child.wall_seconds, 2),
                "cpu_seconds": round(child.cpu_seconds, 2),
                "pairs_per_second": round(pairs / seconds) if seconds else None,
                "peak_rss_mib": round(child.peak_rss_mib, 1),
            }
        )
        step_cpu = child.report.get("cpu_seconds")  # the in-memory steps time their own CPU too
        if step_cpu:
            runs[name][-1].update(step_cpu_seconds=round(step_cpu, 3), pairs_per_cpu_second=round(pairs / step_cpu))

    python = sys.executable
    driver = str(peer_dir / "xner_peer_driver.py")
    ids_path, spans_path = str(folder / "pairs.json"), str(folder / "xner-spans.json")
    url = f"sqlite:///{db}"
    for _ in range(args.repeats):
        peer = run_sampled([python, driver, "memory", *inputs, str(folder / "peer-memory.txt")], peer_dir)
        record("peer_memory", peer, n, peer.report.get("seconds"))
        engine = run_sampled([python, __file__, "--engine", str(db), ids_path, spans_path], folder)
        record("xner_engine", engine, n, engine.report.get("seconds"))
        peer = run_sampled(
            [python, driver, "files", *inputs, str(folder / "peer-files.txt"), str(PEER_BATCH)], peer_dir
        )
        record("peer_files", peer, n, None)  # files → files: the whole child, interpreter start included
        for workers in (1, 2):
            command = [*xner_command(), "project", "--corpus", "bench", "--workers", str(workers), "--db", url]
            project = run_sampled([*command, "--json"], folder)
            record(f"xner_project_w{workers}", project, counts["pairs"], project.report.get("seconds"))
            record(f"xner_project_w{workers}_wall", project, counts["pairs"], None)
    best = {name: min(items, key=lambda item: item["seconds"]) for name, items in runs.items()}
    xner_spans = json.loads(Path(spans_path).read_text())
    ids = json.loads(Path(ids_path).read_text())
    result = {
        "pairs": counts,
        "peer_commit": commit,
        "best": best,
        "runs": runs,
        "ratios": {
            "engine_over_peer_memory": round(
                best["xner_engine"]["pairs_per_second"] / best["peer_memory"]["pairs_per_second"], 3
            ),
            "engine_over_peer_memory_cpu": round(
                max(r["pairs_per_cpu_second"] for r in runs["xner_engine"])
                / max(r["pairs_per_cpu_second"] for r in runs["peer_memory"]),
                3,
            ),
            "project_w1_cpu_over_peer_files_cpu": round(
                min(r["cpu_seconds"] for r in runs["peer_files"])
                / min(r["cpu_seconds"] for r in runs["xner_project_w1"]),
                3,
            ),
            **{
                f"project_w{w}_over_peer_files": round(
                    best[f"xner_project_w{w}"]["pairs_per_second"] / best["peer_files"]["pairs_per_second"], 3
                )
                for w in (1, 2)
            },
        },
        "agreement_memory": agreement(ids, xner_spans, read_peer_output(folder / "peer-memory.txt")),
        "agreement_files": agreement(ids, xner_spans, read_peer_output(folder / "peer-files.txt")),
    }
    return result


def markdown(result: dict) -> str:
    names = [
        ("peer_memory", "peer, in memory (1 process)"),
        ("xner_engine", "xner heuristic engine, in memory (1 process)"),
        ("peer_files", "peer, files → files (pool, every CPU)"),
        ("xner_project_w1", "xner project --workers 1 (db → db)"),
        ("xner_project_w2", "xner project --workers 2 (db → db)"),
    ]
    lines = ["| step | pairs/s | seconds | peak RSS MiB (tree) |", "|---|---:|---:|---:|"]
    for key, name in names:
        figures = result["best"][key]
        lines.append(f"| {name} | {figures['pairs_per_second']:,} | {figures['seconds']} | {figures['peak_rss_mib']} |")
    lines.append(f"\nratios: {json.dumps(result['ratios'])}")
    lines.append(f"agreement (files): {json.dumps(result['agreement_files'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--engine"]:
        engine_child(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default="100k", help="Europarl pairs (k/M suffixes)")
    parser.add_argument("--db", type=Path, help="an aligned database with corpus 'bench' (default: built and cached)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache")
    parser.add_argument("--peer-repo", type=Path, default=PEER_REPO, help="the peer's git snapshot (bare)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "peer_speed.json")
    args = parser.parse_args(argv)
    if args.db is None and not (args.data / "parallel_europarl").is_dir():
        print(f"skipped: {args.data / 'parallel_europarl'} is missing (the shared data sits beside the checkout)")
        return 0
    if not args.peer_repo.exists():
        print(f"skipped: no snapshot of the peer at {args.peer_repo} (set XNER_PEER_REPO)")
        return 0
    args.cache.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="xner-peer-"))
    try:
        result = measure(parse_size(args.pairs), args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    payload = {
        "benchmark": "peer_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        **result,
    }
    write_results(args.out, payload)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
